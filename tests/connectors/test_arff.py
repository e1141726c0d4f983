"""ArffSource on handmade files: MULAN and MEKA labels, dense and sparse rows, broken input."""

import gzip
import os
import pickle
import shutil

import pytest
from damage import refusal

from connectors.arff import ArffSource
from connectors.base import RecordError, Source

DATA = os.path.join(os.path.dirname(__file__), "..", "data")
DENSE = os.path.join(DATA, "tiny-dense.arff")
SPARSE = os.path.join(DATA, "tiny-sparse.arff")
XML = os.path.join(DATA, "tiny.xml")
MEKA = os.path.join(DATA, "tiny-meka.arff")

MUSICA = "TAG_m\\'usica"  # written with a backslash in both the ARFF and the XML

# What tiny-dense.arff holds, written out by hand: (line, x, y).
TINY = [
    (16, {"height cm": 170.5, "it's": 1.0, "colour=green": 1.0, "smoker": 0.0, "weight": 60.0}, {"sport", MUSICA}),
    (19, {"height cm": 180.0, "it's": 0.0, "colour=red": 1.0, "smoker": 1.0}, {"news's"}),
    (20, {"it's": 1.0, "colour=blue": 1.0, "smoker": 0.0, "weight": 72.25}, set()),
    (21, {"height cm": 155.0, "it's": 0.0, "colour=red": 1.0, "smoker": 1.0, "weight": 50.0}, {"sport", "news's", MUSICA}),
]

HEADER = """@relation broken
@attribute f numeric
@attribute colour {red,green,blue}
@attribute l1 {0,1}
@attribute l2 {0,1}
@data
"""  # data starts on line 7; with label_count=-2 the last two attributes are labels


def write(tmp_path, text, name="t.arff"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def nonzero(x):
    return {k: v for k, v in x.items() if v != 0.0}


def test_mulan_dense_file_decodes_every_kind_of_attribute():
    src = ArffSource(DENSE, labels_xml=XML)
    assert isinstance(src, Source)
    assert src.labels == ["sport", "news's", MUSICA]  # attribute order, not XML order
    assert src.features == ["height cm", "it's", "colour", "smoker", "weight"]
    assert src.n_attributes == 8
    records = list(src)
    assert [(r.meta["line"], r.x, set(r.y)) for r in records] == TINY
    assert records[0].meta == {"source": "tiny-dense", "file": DENSE, "line": 16}


def test_sparse_rows_equal_dense_rows_up_to_explicit_zeros():
    dense = list(ArffSource(DENSE, labels_xml=XML))
    sparse = list(ArffSource(SPARSE, labels_xml=XML))
    assert len(dense) == len(sparse) == 4
    for d, s in zip(dense, sparse):
        assert s.y == d.y
        assert s.x == nonzero(d.x)
    # colour omitted from a sparse row takes its first declared value
    assert sparse[3].x["colour=red"] == 1.0


def test_stale_meka_option_is_ignored_when_the_xml_is_given():
    # -C 3 in the relation would make 'height cm' a label; the XML overrides it
    with pytest.raises(RecordError, match=r"tiny-dense.arff:16: label 'height cm' has value '170.5'"):
        list(ArffSource(DENSE))
    assert ArffSource(DENSE, labels_xml=XML).labels == ["sport", "news's", MUSICA]


def test_gzip_file_reads_like_the_plain_file(tmp_path):
    gz = tmp_path / "tiny.arff.gz"
    with open(DENSE, "rb") as f, gzip.open(gz, "wb") as g:
        shutil.copyfileobj(f, g)
    plain = [(r.x, r.y, r.meta["line"]) for r in ArffSource(DENSE, labels_xml=XML)]
    packed = [(r.x, r.y, r.meta["line"]) for r in ArffSource(str(gz), labels_xml=XML)]
    assert packed == plain


def test_meka_positive_option_takes_the_first_attributes():
    src = ArffSource(MEKA)
    assert src.labels == ["a", "b"] and src.features == ["f1", "f2"]
    assert [(r.x, set(r.y)) for r in src] == [
        ({"f1": 0.5, "f2": 1.0}, {"a"}),
        ({"f1": 1.5, "f2": 0.0}, set()),
        ({"f1": 0.0, "f2": -2.0}, {"a", "b"}),
    ]


def test_meka_negative_option_takes_the_last_attributes(tmp_path):
    path = write(tmp_path, "@relation 'm: -C -2'\n@attribute f1 numeric\n@attribute a {0,1}\n"
                           "@attribute b {0,1}\n@data\n0.5,0,1\n{0 2,1 1}\n")
    src = ArffSource(path)
    assert src.labels == ["a", "b"] and src.features == ["f1"]
    assert [(r.x, set(r.y)) for r in src] == [({"f1": 0.5}, {"b"}), ({"f1": 2.0}, {"a"})]


def test_label_count_overrides_the_header():
    src = ArffSource(MEKA, label_count=-1)
    assert src.labels == ["f2"] and src.features == ["a", "b", "f1"]
    with pytest.raises(RecordError, match=r"tiny-meka.arff:9: label 'f2' has value '-2'"):
        list(src)


def test_numeric_label_attributes_accept_0_and_1(tmp_path):
    path = write(tmp_path, "@relation 'r -C 1'\n@attribute l numeric\n@attribute f numeric\n@data\n1.0,3\n0,4\n")
    assert [set(r.y) for r in ArffSource(path)] == [{"l"}, set()]


def test_iterating_twice_gives_the_same_records_and_resets_the_error_log(tmp_path):
    path = write(tmp_path, HEADER + "1,red,0,1\nx,red,0,1\n2,blue,1,1\n")
    src = ArffSource(path, label_count=-2, on_error="skip")
    first = list(src)
    assert src.errors.count == 1
    second = list(src)
    assert first == second and len(first) == 2
    assert src.errors.count == 1


def test_source_pickles(tmp_path):
    src = ArffSource(SPARSE, labels_xml=XML, on_error="skip")
    clone = pickle.loads(pickle.dumps(src))
    assert list(clone) == list(src)


def test_several_files_stream_one_after_the_other(tmp_path):
    train = write(tmp_path, HEADER + "1,red,0,1\n", "a-train.arff")
    test = write(tmp_path, HEADER.replace("broken", "other") + "\n2,green,1,0\n3,blue,1,1\n", "a-test.arff")
    records = list(ArffSource([train, test], label_count=-2))
    assert [(r.meta["file"], r.meta["line"]) for r in records] == [(train, 7), (test, 8), (test, 9)]
    assert [r.x["f"] for r in records] == [1.0, 2.0, 3.0]


def test_files_with_different_attributes_are_refused(tmp_path):
    train = write(tmp_path, HEADER + "1,red,0,1\n", "a-train.arff")
    test = write(tmp_path, HEADER.replace("{red,green,blue}", "{red,green}") + "2,red,1,0\n", "a-test.arff")
    with pytest.raises(RecordError, match=r"a-test.arff:3: attribute 2 differs"):
        ArffSource([train, test], label_count=-2)


def test_compact_declarations_and_quoted_values_with_commas(tmp_path):
    path = write(tmp_path, "@relation 'r: -C -1'\n@attribute town{'New York','a,b',Paris}\n"
                           "@attribute 'l'{0,1}\n@data\n'a,b',1\n{0 'New York'}\n")
    src = ArffSource(path)
    assert [(r.x, set(r.y)) for r in src] == [({"town=a,b": 1.0}, {"l"}), ({"town=New York": 1.0}, set())]


def test_a_quoted_question_mark_is_a_value_not_a_missing_one(tmp_path):
    path = write(tmp_path, "@relation 'r: -C -1'\n@attribute q {'?',yes}\n@attribute l {0,1}\n@data\n'?',1\n?,1\n")
    assert [r.x for r in ArffSource(path)] == [{"q": 0.0}, {}]


def test_omitted_sparse_values_take_the_first_declared_value(tmp_path):
    path = write(tmp_path, "@relation 'r: -C -1'\n@attribute f {1,0}\n@attribute g {b,a}\n@attribute l {1,0}\n"
                           "@data\n{}\n1,b,1\n{0 0,1 a,2 0}\n0,a,0\n")
    records = [(r.x, set(r.y)) for r in ArffSource(path)]
    assert records[0] == ({"f": 1.0}, {"l"}) and records[1] == ({"f": 1.0, "g": 0.0}, {"l"})
    assert records[2] == records[3] == ({"f": 0.0, "g": 1.0}, set())


def test_yes_no_nominals_are_1_for_yes_whatever_the_declared_order(tmp_path):
    # Genbase declares its motif attributes {YES, NO}: read by declared order, every absent motif
    # was 1.0 and every present one 0.0, an absent feature to sparse learners (the label tree
    # learned nothing on Genbase: micro-F1 0.31 against 0.92 with yes as 1.0)
    path = write(tmp_path, "@relation 'r: -C -1'\n@attribute m {YES, NO}\n@attribute t {False,True}\n"
                           "@attribute s {F,M}\n@attribute l {0,1}\n@data\nYES,True,F,1\nNO,False,M,0\n{3 1}\n")
    records = [r.x for r in ArffSource(path)]
    assert records[0] == {"m": 1.0, "t": 1.0, "s": 0.0}
    assert records[1] == {"m": 0.0, "t": 0.0, "s": 1.0}
    assert records[2] == {"m": 1.0}  # omitted from a sparse row: the first declared value, YES


def test_rows_are_read_lazily(tmp_path):
    path = write(tmp_path, HEADER + "1,red,0,1\n2,red,0,1\nbad\n")
    rows = iter(ArffSource(path, label_count=-2))
    assert next(rows).x["f"] == 1.0 and next(rows).x["f"] == 2.0
    with pytest.raises(RecordError, match=":9: expected 4 values"):
        next(rows)


def test_all_labels_missing_means_not_labelled_yet(tmp_path):
    path = write(tmp_path, HEADER + "1,red,?,?\n1,red,?,1\n")
    src = ArffSource(path, label_count=-2, on_error="skip")
    records = list(src)
    assert len(records) == 1 and records[0].y is None
    assert src.errors.count == 1 and "missing" in src.errors.samples[0]


BAD_ROWS = [
    ("1,red,0", "expected 4 values, got 3"),
    ("1,red,0,1,1", "expected 4 values, got 5"),
    ("abc,red,0,1", "value 'abc' of attribute 'f' is not a finite number"),
    ("inf,red,0,1", "feature 'f' is not finite"),
    ("1e101,red,0,1", "feature 'f' has value 1e+101, beyond ±1e+100"),
    ("1,purple,0,1", "value 'purple' is not declared for attribute 'colour'"),
    ("1,red,2,1", "label 'l1' has value '2', expected 0 or 1"),
    ("1,'red,0,1", "unterminated quote"),
    ("{0 1,9 1}", "sparse index 9 out of range 0..3"),
    ("{2 1,0 1}", "sparse index 0 does not increase"),
    ("{0 1,0 2}", "sparse index 0 does not increase"),
    ("{0 1, 2 1", "unterminated brace"),
    ("{x 1}", "sparse index 'x' is not an integer"),
    ("{0 1, 2}", "is not 'index value'"),
    ("{0 zz}", "value 'zz' of attribute 'f' is not a finite number"),
    ("{0 -inf}", "feature 'f' is not finite"),
    ("{1 teal}", "value 'teal' is not declared"),
    ("{3 7}", "label 'l2' has value '7'"),
]


@pytest.mark.parametrize("row, problem", BAD_ROWS)
def test_bad_row_raises_naming_file_and_line(tmp_path, row, problem):
    path = write(tmp_path, HEADER + "1,red,0,1\n\n" + row + "\n2,red,0,1\n")
    assert problem in refusal(lambda: list(ArffSource(path, label_count=-2)), path, 9)


def test_skip_mode_counts_every_bad_row_and_keeps_the_good_ones(tmp_path):
    rows = ["1,red,0,1"] + [row for row, _ in BAD_ROWS] + ["{0 2,3 1}"]
    path = write(tmp_path, HEADER + "\n".join(rows) + "\n")
    src = ArffSource(path, label_count=-2, on_error="skip")
    records = list(src)
    assert [(r.x, set(r.y), r.meta["line"]) for r in records] == [
        ({"f": 1.0, "colour=red": 1.0}, {"l2"}, 7),
        ({"f": 2.0, "colour=red": 1.0}, {"l2"}, 8 + len(BAD_ROWS)),
    ]
    assert src.errors.count == len(BAD_ROWS)
    assert src.errors.samples[0].startswith(f"{path}:8: ")
    assert src.errors.samples[-1].startswith(f"{path}:{7 + len(BAD_ROWS)}: ")


@pytest.mark.parametrize("header, line, problem", [
    ("@relation r\n@attribute s string\n@data\n", 2, "unsupported type 'string'"),
    ("@relation r\n@attribute d date 'yyyy-MM-dd'\n@data\n", 2, "unsupported type 'date'"),
    ("@relation r\n@attribute d relational\n@data\n", 2, "unsupported type 'relational'"),
    ("@relation r\n@attribute d complex\n@data\n", 2, "unknown type"),
    ("@relation r\n@attribute 'open {0,1}\n@data\n", 2, "unterminated quote"),
    ("@relation r\n@attribute n {0,1\n@data\n", 2, "unterminated brace"),
    ("@relation r\n@attribute n {0,0}\n@data\n", 2, "declares a nominal value twice"),
    ("@relation r\n@attribute a numeric\n@attribute a numeric\n@data\n", 4, "declared twice"),
    ("@relation r\n@data\n", 2, "@data before any @attribute"),
    ("@relation r\n@attribute a numeric\n", 2, "no @data section"),
    ("@relation r\nhello\n@data\n", 2, "expected @relation, @attribute or @data"),
    ("@relation 'r: -C 1'\n@attribute l {a,b}\n@data\n", 2, "label attribute 'l' must be {0,1}"),
])
def test_header_errors_always_raise(tmp_path, header, line, problem):
    path = write(tmp_path, header)
    assert problem in refusal(lambda: ArffSource(path, on_error="skip"), path, line)


def test_missing_label_information_is_explained(tmp_path):
    path = write(tmp_path, "@relation plain\n@attribute a numeric\n@data\n1\n")
    with pytest.raises(RecordError, match="no labels: pass labels_xml"):
        ArffSource(path)
    with pytest.raises(RecordError, match="label count 2 does not fit 1 attributes"):
        ArffSource(path, label_count=2)


def test_xml_label_missing_from_the_arff_is_an_error(tmp_path):
    xml = write(tmp_path, '<labels xmlns="http://mulan.sourceforge.net/labels"><label name="sport"/>'
                          '<label name="ghost"/></labels>', "labels.xml")
    with pytest.raises(RecordError, match=r"labels.xml: label 'ghost' is not an attribute of .*tiny-dense.arff"):
        ArffSource(DENSE, labels_xml=xml)


@pytest.mark.parametrize("text, problem", [
    ("<labels><label name='a'>", "malformed label XML"),
    ("<labels><other name='a'/></labels>", "no <label> elements"),
    ("<labels><label/></labels>", "has no name attribute"),
    ("<labels><label name='sport'/><label name='sport'/></labels>", "listed twice"),
])
def test_broken_label_xml_is_an_error(tmp_path, text, problem):
    xml = write(tmp_path, text, "labels.xml")
    with pytest.raises(RecordError, match=problem):
        ArffSource(DENSE, labels_xml=xml)


def test_invalid_utf8_names_the_file_and_line_and_skip_mode_skips_that_row_only(tmp_path):
    path = tmp_path / "t.arff"
    path.write_bytes(HEADER.encode() + b"1,red,0,1\n1,r\xe9d,0,1\n2,red,1,0\n")
    bad_line = HEADER.count("\n") + 2
    with pytest.raises(RecordError, match=rf"t.arff:{bad_line}: not valid UTF-8 \(byte 4 of the line\)"):
        list(ArffSource(str(path), label_count=-2))
    src = ArffSource(str(path), label_count=-2, on_error="skip")
    assert [r.meta["line"] for r in src] == [bad_line - 1, bad_line + 1]
    assert src.errors.count == 1
