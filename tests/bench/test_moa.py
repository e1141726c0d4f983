"""stream_xml.bench.moa: finding MOA's jar, reading its prediction dumps, running it end to end.

The end-to-end tests (marked slow) need Java and MOA's jar: they skip without them, except
under CI (``$CI`` set), where they fail.
"""

import itertools
import os
import types
import zipfile

import pytest

from connectors.base import Record
from connectors.catalog import open_source
from stream_xml.bench import moa
from stream_xml.bench.moa import MoaError, MoaRun, MoaUnavailable, parse_predictions

# Real lines of MOA dumps (shortened to 3 outputs), one learner each.
MLHT = [  # MultilabelHoeffdingTree: null before a model, then two 0/1 votes per output
    "null,0.0",
    "Out 0: 1.0 0.0 Out 1: 0.0 1.0 Out 2: 0.0 1.0 ,1.0",
]
MEKA = [  # MEKAClassifier (CC, BR): an empty first prediction, then probabilities
    ",0.0",
    "Out 0: 0.999 0.0 Out 1: 0.572 0.428 Out 2: 0.03 0.969 ,1.0",
]
BASIC = [  # BasicMultiLabelClassifier, AMRules: a single vote (for 0) when only 0 was seen
    "Out 0: 0.0 Out 1: 0.0 0.0 Out 2: 0.0 ,0.0",
    "Out 0: 0.0 0.999 Out 1: 0.001 0.998 Out 2: 0.999 0.0 ,1.0",
]
OZABAG = [  # OzaBagML: outputs without votes, and MOA's clipped huge votes
    "Out 0: Out 1: Out 2: ,0.0",
    "Out 0: 2147483.647 2147483.647 Out 1: Out 2: -1.0 ,1.0",
]
ISOUP = ["Out 0: 0.0 0.426 Out 1: 0.0 0.0 Out 2: 0.0 0.005 ,1.0"]  # ISOUPTree (a regressor)


@pytest.mark.parametrize("lines, expected", [
    (MLHT, [(), (1, 2)]),
    (MEKA, [(), (2,)]),
    (BASIC, [(), (0, 1)]),
    (OZABAG, [(), (2,)]),
    (ISOUP, [(0, 2)]),
])
def test_parse_predictions_formats(lines, expected):
    assert parse_predictions(lines, n_labels=3) == expected


def test_parse_predictions_reads_a_file(tmp_path):
    path = tmp_path / "dump.txt"
    path.write_text("\n".join(MLHT + BASIC) + "\n")
    with open(path) as f:
        assert parse_predictions(f, 3, where=str(path)) == [(), (1, 2), (), (0, 1)]


@pytest.mark.parametrize("line, problem", [
    ("Out 0: 1.0 0.0 Out 1: 1.0 0.0 ,0.0", "2 outputs, expected 3"),
    ("Out 0: 1 0 Out 1: 1 0 Out 2: 1 0 Out 3: 1 0 ,0.0", "output 3 out of range 0..2"),
    ("Out 0: 1 0 Out 2: 1 0 Out 1: 1 0 ,0.0", "output '2', expected output 1"),
    ("Out 0: 1 0 Out 1: 1 x Out 2: 1 0 ,0.0", "output 1: votes '1 x' are not numbers"),
    ("Out 0: 1 0 Out 1: 0.2 0.3 0.5 Out 2: 1 0 ,0.0", "output 1: 3 votes, expected at most 2"),
    ("Out 0: 1 0 Out 1 1 0 Out 2: 1 0 ,0.0", "no ':' after 'Out 1 1 0 '"),
    ("Prediction Out 0: 1 0 Out 1: 1 0 Out 2: 1 0 ,0.0", "'Prediction' before the first 'Out'"),
    ("Out 0: 1 0 Out 1: 1 0 Out 2: 1 0", "not a MOA prediction line"),
    ("Out 0: 1 0 Out 1: 1 0 Out 2: 1 0 ,yes", "not a MOA prediction line"),
    ("", "not a MOA prediction line"),
    ("garbage", "not a MOA prediction line"),
])
def test_parse_predictions_errors_name_file_and_line(line, problem):
    with pytest.raises(MoaError) as err:
        parse_predictions(["null,0.0", line], n_labels=3, where="preds.txt")
    assert str(err.value).startswith(f"preds.txt:2: {problem}")


# --------------------------------------------------------------------------- the jar


@pytest.fixture
def no_jar(monkeypatch, tmp_path):
    """No variable, no capymoa, an empty cache."""
    monkeypatch.delenv(moa.JAR_VARIABLE, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(moa.importlib.util, "find_spec", lambda name: None)
    return tmp_path


def test_find_moa_jar_order(no_jar, monkeypatch):
    with pytest.raises(MoaUnavailable, match="python -m stream_xml.bench.moa fetch"):
        moa.find_moa_jar()
    cached = no_jar / "cache" / "stream-xml" / f"moa-{moa.CAPYMOA_VERSION}.jar"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"jar")
    assert moa.find_moa_jar() == str(cached)
    package = no_jar / "site" / "capymoa"
    (package / "jar").mkdir(parents=True)
    (package / "jar" / "moa.jar").write_bytes(b"jar")
    spec = types.SimpleNamespace(submodule_search_locations=[str(package)])
    monkeypatch.setattr(moa.importlib.util, "find_spec", lambda name: spec if name == "capymoa" else None)
    assert moa.find_moa_jar() == str(package / "jar" / "moa.jar")
    monkeypatch.setenv(moa.JAR_VARIABLE, str(cached))
    assert moa.find_moa_jar() == str(cached)
    assert moa.find_moa_jar(package / "jar" / "moa.jar") == str(package / "jar" / "moa.jar")


def test_find_moa_jar_refuses_a_missing_given_path(no_jar, monkeypatch):
    with pytest.raises(MoaUnavailable, match="nowhere.jar"):
        moa.find_moa_jar(no_jar / "nowhere.jar")
    monkeypatch.setenv(moa.JAR_VARIABLE, str(no_jar / "absent.jar"))
    with pytest.raises(MoaUnavailable, match=r"\$STREAM_XML_MOA_JAR.*absent.jar"):
        moa.find_moa_jar()


def test_fetch_moa_jar_extracts_the_jar_from_the_wheel(no_jar, monkeypatch):
    calls = []

    def fake_pip(command, **kwargs):  # what `pip download -d DIR` leaves: the wheel in DIR
        calls.append(command)
        wheel = os.path.join(command[command.index("-d") + 1], f"capymoa-{moa.CAPYMOA_VERSION}-py3-none-any.whl")
        with zipfile.ZipFile(wheel, "w") as z:
            z.writestr("capymoa/__init__.py", "")
            z.writestr(moa.JAR_MEMBER, b"the jar")
        return types.SimpleNamespace(returncode=0, stdout="", stderr="")

    monkeypatch.setattr(moa.subprocess, "run", fake_pip)
    path = moa.fetch_moa_jar()
    assert path == moa.find_moa_jar() and open(path, "rb").read() == b"the jar"
    assert calls[0][1:5] == ["-m", "pip", "download", f"capymoa=={moa.CAPYMOA_VERSION}"]
    assert moa.fetch_moa_jar() == path and len(calls) == 1  # already there: nothing to do
    assert os.listdir(os.path.dirname(path)) == [os.path.basename(path)]  # no temporary left


def test_fetch_moa_jar_reports_pip_failure(no_jar, monkeypatch):
    failed = types.SimpleNamespace(returncode=1, stdout="", stderr="ERROR: No matching distribution")
    monkeypatch.setattr(moa.subprocess, "run", lambda command, **kwargs: failed)
    with pytest.raises(MoaUnavailable, match="No matching distribution"):
        moa.fetch_moa_jar()


# --------------------------------------------------------------------------- input and scoring


class Once:
    """A source that can be read only once (like a live stream)."""

    name, labels, features = "once", ["p", "q"], ["a", "b", "c"]

    def __init__(self, records):
        self.records = records

    def __iter__(self):
        records, self.records = self.records, None
        assert records is not None, "read twice"
        return iter(records)


def test_write_moa_arff_dense_or_sparse(tmp_path):
    dense = [Record({"a": 1.0, "b": 0.0, "c": 2.0}, frozenset({"q"}), {})] * 3
    assert moa.write_moa_arff(Once(dense), tmp_path / "dense.arff") == 3
    rows = (tmp_path / "dense.arff").read_text().split("@data\n")[1].splitlines()
    assert rows == ["0,1,1.0,0.0,2.0"] * 3
    sparse = [Record({"a": 1.0}, frozenset({"p"}), {}), Record({"c": 2.0}, frozenset(), {})]
    assert moa.write_moa_arff(Once(sparse), tmp_path / "sparse.arff") == 2
    rows = (tmp_path / "sparse.arff").read_text().split("@data\n")[1].splitlines()
    assert rows == ["{0 1,2 1.0}", "{4 2.0}"]
    assert "@relation 'once: -C 2'" in (tmp_path / "sparse.arff").read_text()
    with pytest.raises(ValueError, match="gzipped"):
        moa.write_moa_arff(Once(dense), tmp_path / "dense.arff.gz")


def test_run_moa_checks_its_input_file_first(tmp_path):
    (tmp_path / "s.arff.gz").write_bytes(b"")
    with pytest.raises(ValueError, match="gzipped"):
        moa.run_moa("moa-mlht", tmp_path / "s.arff.gz", 2)
    with pytest.raises(FileNotFoundError):
        moa.run_moa("moa-mlht", tmp_path / "absent.arff", 2)
    with pytest.raises(ValueError, match="spaces"):
        moa.run_moa("moa-mlht", tmp_path / "a b.arff", 2)


def test_score_moa():
    run = MoaRun([(), (0,), (0, 1)], 1.0, 2.0, 3, 3, ["java"])
    truth = [Record({}, frozenset({"p"}), {}), frozenset({"p"}), {"q"}]
    scores = moa.score_moa(run, truth, ["p", "q"])
    assert scores["subset_accuracy"] == pytest.approx(1 / 3)
    assert scores["hamming_loss"] == pytest.approx(2 / 6)
    with pytest.raises(ValueError, match="2 true labelsets for the 3 records"):
        moa.score_moa(run, truth[:2], ["p", "q"])


# --------------------------------------------------------------------------- with Java


def head(source, n):
    """The first ``n`` records of ``source``, readable again and again."""
    return moa.RecordsOf(source, list(itertools.islice(source, n)))


def check_run(source, path, jar, learner="moa-mlht"):
    """Run ``learner`` on ``source`` written to ``path``; check the run and our scoring of it."""
    n = moa.write_moa_arff(source, path)
    run = moa.run_moa(learner, path, len(source.labels), jar=jar, max_heap="1g", timeout=240)
    assert run.n_records == n == len(run.predictions)
    assert run.predictions[0] == ()
    assert all(p == tuple(sorted(set(p))) and all(0 <= i < len(source.labels) for i in p)
               for p in run.predictions)
    assert run.cpu_seconds > 0 and run.wall_seconds > 0 and run.peak_rss_bytes > 0
    truth = [tuple(sorted(source.labels.index(label) for label in record.y)) for record in source]
    exact = sum(t == p for t, p in zip(truth, run.predictions))
    scores = moa.score_moa(run, source, source.labels)
    assert scores["subset_accuracy"] == pytest.approx(exact / n)
    return run


@pytest.mark.slow
def test_moa_mlht_on_yeast(moa_jar, tmp_path):
    source = head(open_source("yeast"), 300)
    check_run(source, tmp_path / "yeast.arff", moa_jar)
    assert not (tmp_path / "yeast.arff").read_text().split("@data\n")[1].startswith("{")


@pytest.mark.slow
def test_moa_chain_on_yeast(moa_jar, tmp_path):
    run = check_run(head(open_source("yeast"), 200), tmp_path / "yeast.arff", moa_jar, learner="moa-cc")
    assert "CCUpdateable" in run.command[-1]


@pytest.mark.slow
def test_moa_reads_sparse_arff(moa_jar, tmp_path, data_dir):
    source = head(open_source(str(data_dir / "medical.arff.gz")), 300)
    run = check_run(source, tmp_path / "medical.arff", moa_jar)
    assert (tmp_path / "medical.arff").read_text().split("@data\n")[1].startswith("{")
    assert any(run.predictions)  # it learns from the sparse rows' labels


@pytest.mark.slow
def test_moa_failures_are_reported(moa_jar, tmp_path):
    path = tmp_path / "yeast.arff"
    moa.write_moa_arff(head(open_source("yeast"), 50), path)
    with pytest.raises(MoaError, match="MOA printed no learning curve(.|\n)*MetaMainTask"):
        moa.run_moa("(multilabel.NoSuchLearner)", path, 14, jar=moa_jar, max_heap="1g")
    with pytest.raises(MoaError, match="did not finish in 0.01 s"):
        moa.run_moa("moa-mlht", path, 14, jar=moa_jar, max_heap="1g", timeout=0.01)
    with pytest.raises(MoaError, match="MOA exited with status 1"):
        moa.run_moa("moa-mlht", path, 14, jar=moa_jar, max_heap="no-such-size")


def test_a_run_stopped_before_its_first_report_counts_what_it_predicted(moa_jar, tmp_path, monkeypatch):
    """With no learning-curve row (the time limit came before the first report), the records
    are the predictions MOA dumped and the CPU time is its closing "Task completed" line."""
    yeast = open_source("yeast")
    records = list(yeast)
    path = tmp_path / "yeast5.arff"
    moa.write_moa_arff(moa.RecordsOf(yeast, records * 5), path)  # about 8 CPU s for the chain
    monkeypatch.setattr(moa, "CAPPED_REPORT_EVERY", 10**9)
    run = moa.run_moa("moa-cc", path, 14, jar=moa_jar, max_heap="1g", max_seconds=1)
    assert 0 < run.n_records < 5 * len(records)
    assert len(run.predictions) == run.n_records == run.timed_records
    assert 0.5 <= run.cpu_seconds <= 5
