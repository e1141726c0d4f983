"""XmcSource: the extreme classification repository's text format, good and broken."""

import gzip
import os
import pickle
import shutil

import pytest
from damage import refusal

from connectors.base import RecordError, Source
from connectors.xmc import XmcSource

TINY = os.path.join(os.path.dirname(__file__), "..", "data", "tiny-xmc.txt")


def write(tmp_path, text, name="t.txt"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_tiny_file_gives_integer_features_and_labels():
    src = XmcSource(TINY)
    assert isinstance(src, Source)
    assert (src.n_instances, src.n_features, src.n_labels) == (4, 6, 3)
    assert src.labels == [0, 1, 2] and list(src.features) == list(range(6))
    records = list(src)
    assert [(r.x, set(r.y), r.meta["line"]) for r in records] == [
        ({0: 0.5, 5: 1.0}, {0, 2}, 2),
        ({1: 2.5, 3: -1.0}, set(), 3),  # the line starts with a space: no labels
        ({4: 0.001}, {2}, 4),
        ({0: 1.0}, set(), 5),  # the line starts directly with f:v
    ]
    assert records[0].meta == {"source": "tiny-xmc", "file": TINY, "line": 2}


def test_gzip_and_reiteration_and_pickle(tmp_path):
    gz = tmp_path / "tiny.txt.gz"
    with open(TINY, "rb") as f, gzip.open(gz, "wb") as g:
        shutil.copyfileobj(f, g)
    src = XmcSource(str(gz))
    first = [(r.x, r.y) for r in src]
    assert first == [(r.x, r.y) for r in XmcSource(TINY)]
    assert [(r.x, r.y) for r in src] == first
    assert [(r.x, r.y) for r in pickle.loads(pickle.dumps(src))] == first


def test_labels_without_features(tmp_path):
    path = write(tmp_path, "2 3 4\n1,3\n\n")
    assert [(r.x, set(r.y)) for r in XmcSource(path)] == [({}, {1, 3}), ({}, set())]


BAD_LINES = [
    ("0,7 1:1", "label id 7 out of range 0..2"),
    ("0,,1 1:1", "label id '' is not an integer"),
    ("a 1:1", "label id 'a' is not an integer"),
    ("0 9:1", "feature id 9 out of range 0..5"),
    ("0 -1:1", "feature id -1 out of range"),
    ("0 1:abc", "feature entry '1:abc' is not 'id:value'"),
    ("0 1:nan", "feature 1 is not finite"),
    ("0 1:-2e300", "feature 1 has value -2e+300, beyond ±1e+100"),
    ("0 1:1 4", "feature entry '4' is not 'id:value'"),
    ("0 1:1 1:2", "a feature id is repeated"),
]


@pytest.mark.parametrize("row, problem", BAD_LINES)
def test_bad_line_raises_naming_file_and_line(tmp_path, row, problem):
    path = write(tmp_path, "3 6 3\n0 1:1\n" + row + "\n1 2:1\n")
    assert problem in refusal(lambda: list(XmcSource(path)), path, 3)


def test_skip_mode_counts_bad_lines_and_keeps_the_good_ones(tmp_path):
    rows = ["0 1:1"] + [row for row, _ in BAD_LINES] + ["1 2:1"]
    path = write(tmp_path, f"{len(rows)} 6 3\n" + "\n".join(rows) + "\n")
    src = XmcSource(path, on_error="skip")
    assert [(r.x, set(r.y)) for r in src] == [({1: 1.0}, {0}), ({2: 1.0}, {1})]
    assert src.errors.count == len(BAD_LINES)
    assert src.errors.samples[0].startswith(f"{path}:3: ")


def test_instance_count_differing_from_the_header(tmp_path):
    path = write(tmp_path, "3 6 3\n0 1:1\n1 2:1\n")
    with pytest.raises(RecordError, match=r"t.txt: header declares 3 instances, file has 2"):
        list(XmcSource(path))
    src = XmcSource(path, on_error="skip")
    assert len(list(src)) == 2
    assert src.errors.count == 1 and "declares 3 instances" in src.errors.samples[0]


@pytest.mark.parametrize("header", ["", "3 6\n", "3 6 x\n", "3 6 3 1\n", "3 -6 3\n"])
def test_bad_header_always_raises(tmp_path, header):
    path = write(tmp_path, header + "0 1:1\n")
    with pytest.raises(RecordError, match=r"t.txt:1: header must be 'N D L'"):
        XmcSource(path, on_error="skip")


def test_invalid_utf8_names_the_file_and_line_and_skip_mode_skips_that_line_only(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(b"3 6 3\n0 1:1\n0 1:\xff\n1 2:1\n")
    with pytest.raises(RecordError, match=r"t.txt:3: not valid UTF-8 \(byte 5 of the line\)"):
        list(XmcSource(str(path)))
    src = XmcSource(str(path), on_error="skip")
    assert [r.meta["line"] for r in src] == [2, 4] and src.errors.count == 1
