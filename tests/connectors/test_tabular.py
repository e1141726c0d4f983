"""CsvSource, JsonlSource and the JSON record decoder, good and broken input."""

import gzip
import os
import pickle

import pytest
from damage import refusal

from connectors.base import RecordError, Source
from connectors.jsonrecord import decode_bytes, decode_record, decode_text
from connectors.tabular import CsvSource, JsonlSource

DATA = os.path.join(os.path.dirname(__file__), "..", "data")
CSV = os.path.join(DATA, "tiny.csv")
JSONL = os.path.join(DATA, "tiny.jsonl")


def write(tmp_path, text, name):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# --------------------------------------------------------------------------- CSV


def test_csv_with_01_and_true_false_label_columns():
    src = CsvSource(CSV, ["sports", "news"])
    assert isinstance(src, Source)
    assert src.labels == ["sports", "news"] and src.features == ["age", "income"]
    assert [(r.x, set(r.y), r.meta["line"]) for r in src] == [
        ({"age": 31.0, "income": 2.5}, {"sports"}, 2),
        ({"age": 45.0}, {"sports", "news"}, 3),  # empty income cell: missing
        ({"age": 27.0, "income": 1.0}, set(), 4),
    ]


def test_csv_single_label_column_with_separator(tmp_path):
    path = write(tmp_path, "x1;x2;tags\n1;2;a| b\n3;4;\n5;6;c\n", "t.csv")
    src = CsvSource(path, "tags", delimiter=";", label_separator="|")
    assert src.labels == [] and src.features == ["x1", "x2"]
    assert [set(r.y) for r in src] == [{"a", "b"}, set(), {"c"}]


def test_csv_gzip_reiteration_and_pickle(tmp_path):
    gz = tmp_path / "t.csv.gz"
    with open(CSV, "rb") as f:
        gz.write_bytes(gzip.compress(f.read()))
    src = CsvSource(str(gz), ["sports", "news"])
    expected = [(r.x, r.y) for r in CsvSource(CSV, ["sports", "news"])]
    assert [(r.x, r.y) for r in src] == expected
    assert [(r.x, r.y) for r in src] == expected
    assert [(r.x, r.y) for r in pickle.loads(pickle.dumps(src))] == expected


def test_csv_row_with_every_label_cell_empty_is_unlabelled(tmp_path):
    path = write(tmp_path, "a,l1,l2\n1,,\n2,1,0\n", "t.csv")
    assert [r.y for r in CsvSource(path, ["l1", "l2"])] == [None, frozenset({"l1"})]


CSV_BAD_ROWS = [
    ("1,2,0", "expected 4 fields, got 3"),
    ("1,2,0,1,9", "expected 4 fields, got 5"),
    ("1,abc,0,1", "column 'income' has value 'abc', expected a finite number"),
    ("1,inf,0,1", "column 'income' has value 'inf'"),
    ("1,2,yes,1", "label column 'sports' has value 'yes'"),
    ("1,2,,1", "some label cells are empty"),
]


@pytest.mark.parametrize("row, problem", CSV_BAD_ROWS)
def test_csv_bad_row_raises_naming_file_and_line(tmp_path, row, problem):
    path = write(tmp_path, "age,income,sports,news\n1,2,0,1\n\n" + row + "\n1,2,0,1\n", "t.csv")
    assert problem in refusal(lambda: list(CsvSource(path, ["sports", "news"])), path, 4)


def test_csv_skip_mode_counts_bad_rows(tmp_path):
    rows = ["1,2,0,1"] + [row for row, _ in CSV_BAD_ROWS] + ["3,4,1,1"]
    path = write(tmp_path, "age,income,sports,news\n" + "\n".join(rows) + "\n", "t.csv")
    src = CsvSource(path, ["sports", "news"], on_error="skip")
    assert [r.meta["line"] for r in src] == [2, 3 + len(CSV_BAD_ROWS)]
    assert src.errors.count == len(CSV_BAD_ROWS)


@pytest.mark.parametrize("text, problem", [
    ("", "no header row"),
    ("age,income\n1,2\n", r"label columns \['sports'\] are not in the header"),
    ("age,age,sports\n1,2,0\n", "distinct, non-empty name"),
])
def test_csv_header_errors_always_raise(tmp_path, text, problem):
    path = write(tmp_path, text, "t.csv")
    with pytest.raises(RecordError, match=problem):
        CsvSource(path, ["sports"], on_error="skip")


def test_csv_label_arguments_are_checked():
    with pytest.raises(ValueError, match="exactly one label column"):
        CsvSource(CSV, ["sports", "news"], label_separator="|")


# --------------------------------------------------------------------------- JSON lines


def test_jsonl_records_with_ids_dict_and_list_features():
    src = JsonlSource(JSONL)
    assert isinstance(src, Source) and src.labels == [] and src.features == []
    records = list(src)
    assert [(r.x, r.y, r.meta["id"], r.meta["line"]) for r in records] == [
        ({"age": 31.0, "income": 2.5}, frozenset({"sports"}), "r1", 1),
        ({0: 1.0, 2: 3.5}, frozenset(), 2, 3),
        ({"age": 27.0}, None, None, 4),
        ({"age": 40.0}, frozenset({"news", 7}), None, 5),
    ]
    assert records[0].meta == {"source": "tiny", "file": JSONL, "line": 1, "id": "r1"}
    assert [r.x for r in src] == [r.x for r in records]


JSON_BAD_LINES = [
    ('{"x": {"a": 1}', "invalid JSON"),
    ("[1, 2]", "expected a JSON object, got list"),
    ('{"y": ["a"]}', "no 'x' in the record"),
    ('{"x": 3}', "'x' must be an object or a list, got int"),
    ('{"x": {"a": "1"}}', "feature 'a' has value '1', expected a number"),
    ('{"x": [true]}', "feature 0 has value True, expected a number"),
    ('{"x": {"a": NaN}}', "NaN is not a valid JSON number"),
    ('{"x": {"a": 1e999}}', "feature 'a' is not finite"),
    ('{"x": {}, "y": "a"}', "'y' must be a list or null, got str"),
    ('{"x": {}, "y": [1.5]}', "label 1.5 is not a string or an integer"),
    ('{"x": {}, "y": [false]}', "label False is not a string or an integer"),
]


@pytest.mark.parametrize("line, problem", JSON_BAD_LINES)
def test_jsonl_bad_line_raises_naming_file_and_line(tmp_path, line, problem):
    path = write(tmp_path, '{"x": {}}\n' + line + '\n{"x": {}}\n', "t.jsonl")
    assert problem in refusal(lambda: list(JsonlSource(path)), path, 2)


def test_jsonl_skip_mode_counts_bad_lines(tmp_path):
    lines = ['{"x": {"a": 1}}'] + [line for line, _ in JSON_BAD_LINES] + ['{"x": {"a": 2}}']
    path = write(tmp_path, "\n".join(lines) + "\n", "t.jsonl")
    src = JsonlSource(path, on_error="skip")
    assert [r.x for r in src] == [{"a": 1.0}, {"a": 2.0}]
    assert src.errors.count == len(JSON_BAD_LINES)
    assert src.errors.samples[0].startswith(f"{path}:2: ")


def test_decoder_works_on_raw_bytes_and_python_objects():
    assert decode_bytes(b'{"id": [1], "x": {"a": 2}, "y": ["b"]}', "t/0", 5) == ([1], {"a": 2.0}, frozenset({"b"}))
    assert decode_bytes(bytearray(b'{"x": []}'), "t/0", 6) == (None, {}, None)
    assert decode_text('{"x": [0, 1]}', "t/0", 7) == (None, {0: 0.0, 1: 1.0}, None)
    assert decode_record({"x": {"a": 1}, "y": []}, "mem", 0) == (None, {"a": 1.0}, frozenset())
    with pytest.raises(RecordError, match=r"^t/0:8: not valid UTF-8 \(byte 8\)$"):
        decode_bytes(b'{"x": {"\xc3(": 1}}', "t/0", 8)
    with pytest.raises(RecordError, match=r"^t/0:9: no data"):
        decode_bytes(None, "t/0", 9)
