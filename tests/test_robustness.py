"""Regression tests of issue 18: no input, size or damaged state may poison, crash or silently reset
a run. One test (or group) per item of the issue; the broker-side ones (a message over the
producer's limit, kills at random points) are in test_kafka_service.py and test_crash_consistency.py.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import pickle
import random
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from connectors.base import MAX_ABS_VALUE, Record, RecordError
from connectors.jsonrecord import decode_bytes
from connectors.kafka import Message, decode_json, decode_message
from connectors.tabular import JsonlSource
from damage import EXTREME_VALUES, READERS, damaged_copies, read_all, write
from stream_xml.base import MultiLabelLearner

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --------------------------------------------------------------------------- 1. huge finite values


def _non_finite(obj, seen=None, depth=0) -> list[str]:
    """Paths to the NaN and infinite floats held anywhere in ``obj``'s object graph."""
    seen = set() if seen is None else seen
    if id(obj) in seen or depth > 80:
        return []
    seen.add(id(obj))
    if isinstance(obj, (float, np.floating)):
        return [] if math.isfinite(obj) else ["."]
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "fc":
            return [] if np.isfinite(obj).all() else ["[]"]
        return [p for v in obj.ravel() for p in _non_finite(v, seen, depth + 1)] if obj.dtype == object else []
    if isinstance(obj, dict):
        return [f"[{k!r}]{p}" for k, v in list(obj.items()) for p in _non_finite(k, seen, depth + 1) + _non_finite(v, seen, depth + 1)]
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [f"[{i}]{p}" for i, v in enumerate(obj) for p in _non_finite(v, seen, depth + 1)]
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        return [f".{k}{p}" for k, v in vars(obj).items() for p in _non_finite(v, seen, depth + 1)]
    slots = getattr(type(obj), "__slots__", ())
    return [f".{s}{p}" for s in slots if isinstance(s, str) and hasattr(obj, s) for p in _non_finite(getattr(obj, s), seen, depth + 1)]


def _extreme_stream(n: int, seed: int = 0) -> list[Record]:
    """Ordinary records with, every few records, one at the edges a record may hold: ±1e100,
    subnormals, counts as large integers."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        x = {"a": rng.gauss(0, 1), "b": rng.gauss(0, 1), "c": rng.random()}
        if i % 5 == 2:
            x = {"a": rng.choice(EXTREME_VALUES), "b": rng.choice(EXTREME_VALUES), "c": float(10**rng.randrange(1, 19))}
        y = frozenset(label for label in ("p", "q", "r") if rng.random() < (0.7 if x["a"] > 0 else 0.3))
        out.append(Record(x, y, {"line": i + 1}))
    return out


UNDIGESTIBLE = [{"a": 1e308, "b": -1e308, "c": 1.0}, {"a": float("nan"), "b": 0.0, "c": 1.0},
                {"a": float("inf"), "b": 1.0, "c": 1.0}, {"a": 1.0000001e100, "b": 1.0, "c": 1.0},
                {"a": 10**400, "b": 1.0, "c": 1.0}]


@pytest.mark.parametrize("name", ["ihomer", "mlhat", "mlht", "mlhtps", "majority", "br-ht", "br-nb", "br-lr", "br-knn",
                                  "br-arf", "cc-lr", "cc-ht"])
def test_no_model_holds_nan_or_inf_whatever_it_is_fed(name):
    """Item 1: values at the edges stay digestible; values past them are refused at the model
    boundary before any statistic sees them, so neither state nor scores ever hold NaN or inf."""
    from stream_xml.evaluation.prequential import PrequentialEvaluator
    from stream_xml.models import make_model

    model = make_model(name, {"ps_buffer": 20} if name == "mlhtps" else {}, seed=1)  # pruned sets built early
    predict_with_scores = type(model).predict_with_scores
    ev = PrequentialEvaluator({name: model})
    for record in _extreme_stream(120):
        _, scores = ev.process(record)[name]
        assert all(math.isfinite(p) for p in scores.values()), (record, scores)
    assert _non_finite(model) == []
    probe = [r.x for r in _extreme_stream(15, seed=5)]
    before = [predict_with_scores(model, x) for x in probe]
    for x in UNDIGESTIBLE if name != "majority" else ():  # the majority labelset never looks at x
        with pytest.raises(ValueError, match="feature 'a'"):
            predict_with_scores(model, x)
        with pytest.raises(ValueError, match="feature 'a'"):
            model.learn_labelset(x, {"p"})
    assert [predict_with_scores(model, x) for x in probe] == before
    assert _non_finite(model) == []


def test_every_model_takes_a_stream_that_mixes_integer_and_string_names():
    """Found by experiments/robustness.py: river's forests sort feature names, and a JSON stream
    may mix list records (integer names) with object records (string names)."""
    from stream_xml.evaluation.prequential import PrequentialEvaluator
    from stream_xml.models import MODELS, make_model

    records = [Record({0: 1.0, 1: 2.0}, frozenset({"p", 1}), {}), Record({"a": 1.0, "0": 3.0}, frozenset({"q", 7}), {}),
               Record({}, frozenset({"r"}), {}), Record({0: 0.5, "b": 1.0}, frozenset({0, "p"}), {})] * 5
    ev = PrequentialEvaluator({name: make_model(name, seed=0) for name in MODELS})
    for record in records:
        ev.process(record)
    assert ev.t == 20


def test_huge_values_are_located_bad_input_in_the_json_format(tmp_path):
    """Item 1: ``{"x": [1e308, -1e308]}`` passed validation and poisoned the model."""
    with pytest.raises(RecordError, match=r"^genes/2:17: feature 0 has value 1e\+308, beyond ±1e\+100"):
        decode_json(b'{"x": [1e308, -1e308], "y": ["a"]}', "genes/2", 17)
    with pytest.raises(RecordError, match=r"^t/0:5: feature 'a' is not finite \(inf\)"):
        decode_bytes(b'{"x": {"a": 1e999}}', "t/0", 5)  # JSON's overflow to infinity
    assert decode_bytes(b'{"x": [1e100, -5e-324]}', "t/0", 6) == (None, {0: MAX_ABS_VALUE, 1: -5e-324}, None)
    path = write(str(tmp_path), "poison.jsonl", b'{"x": [1, 2], "y": ["a"]}\n{"x": [1e308, -1e308], "y": ["a"]}\n'
                                                 b'{"x": [3, 4], "y": ["b"]}\n')
    with pytest.raises(RecordError, match=r"poison.jsonl:2: feature 0 has value 1e\+308"):
        list(JsonlSource(path))
    skipping = JsonlSource(path, on_error="skip")
    assert [r.meta["line"] for r in skipping] == [1, 3] and skipping.errors.count == 1


@pytest.mark.parametrize("name, text, line", [
    ("arff", "@relation 'r: -C 1'\n@attribute l {0,1}\n@attribute a numeric\n@data\n1,2\n0,1e300\n1,3\n", 6),
    ("arff", "@relation 'r: -C 1'\n@attribute l {0,1}\n@attribute a numeric\n@data\n{0 1, 1 -1e300}\n", 5),
    ("xmc", "2 3 2\n0 1:2\n1 2:1e300\n", 3),
    ("csv", "a,l1,l2\n2,1,0\n3,0,1\n-1e300,1,1\n", 4),
])
def test_huge_values_are_located_bad_input_in_every_text_format(tmp_path, name, text, line):
    reader = READERS[name]
    path = write(str(tmp_path), "f" + reader.suffix, text.encode())
    with pytest.raises(RecordError, match=rf"f{reader.suffix}:{line}: feature .* beyond ±1e\+100"):
        reader.read(path, "raise")
    assert line not in [r.meta["line"] for r in reader.read(path, "skip")]


# --------------------------------------------------------------------------- 2. messages over the limit


class _LimitedProducer:
    """Refuses a record over ``max_request_size`` at send() as kafka-python does (same size estimate)."""

    def __init__(self, limit: int):
        self.config = {"max_request_size": limit}
        self.sent = []

    def send(self, topic, key=None, value=None, headers=None):
        from kafka.errors import MessageSizeTooLargeError

        from connectors.kafka import record_size

        if record_size(key, value, headers or []) > self.config["max_request_size"]:
            raise MessageSizeTooLargeError("The message is too large")
        self.sent.append((topic, key, value, list(headers or [])))

        class Future:
            def add_errback(self, fn):
                return self

        return Future()


def test_a_dead_letter_never_exceeds_the_producers_limit():
    """Item 2: a message larger than the producer's limit could not be dead-lettered."""
    pytest.importorskip("kafka")
    from connectors.kafka import DeadLetterSink, PredictionSink, record_size

    limit = 100_000
    producer = _LimitedProducer(limit)
    dead = DeadLetterSink(producer, "dlq")
    value = b'{"x": {"' + b"a" * 250_000 + b'": 1}, "y": "no"}'
    message = Message("in", 1, 77, b"k" * 10, value, 123, (("origin", b"h" * 50),))
    dead.send(message, RecordError("in/1", 77, "'y' must be a list or null, got str"))
    huge_key = Message("in", 1, 78, b"K" * 300_000, b"{", 124)
    dead.send(huge_key, RecordError("in/1", 78, "invalid JSON"))
    small = Message("in", 1, 79, b"s", b"{", 125)
    dead.send(small, RecordError("in/1", 79, "invalid JSON"))
    (_, k1, v1, h1), (_, k2, v2, h2), (_, k3, v3, h3) = producer.sent
    for key, val, headers in ((k1, v1, h1), (k2, v2, h2)):
        headers = dict(headers)
        assert record_size(key, val, list(headers.items())) <= limit
        assert headers["stream-xml.truncated"] == b"true"
        assert headers["stream-xml.error"].startswith(b"in/1:")
    assert dict(h1)["stream-xml.original-size"] == f"key=10 value={len(value)} headers=1".encode()
    assert k1 == message.key and value.startswith(v1) and len(v1) > limit - 1000 and dict(h1)["origin"] == b"h" * 50
    assert k2 == b"K" * 1024 and v2 == b"{"
    assert (k3, v3) == (b"s", b"{") and "stream-xml.truncated" not in dict(h3) and dead.truncated == 2
    # a prediction too large to publish (a huge key) goes out cut too, rather than stop the service
    sink = PredictionSink(producer, "out")
    record = Record({"a": 1.0}, None, {"id": 1, "topic": "in", "partition": 1, "offset": 80, "key": b"K" * 300_000})
    sink.publish(record, {"m": (frozenset({"p"}), {"p": 0.9, "q": 0.1})})
    _, key, val, _ = producer.sent[-1]
    assert len(key) == 1024 and json.loads(val)["truncated"] is True and sink.truncated == 1


# --------------------------------------------------------------------------- 3. damaged checkpoints


def _serve_args(tmp_path, *extra):
    from stream_xml.cli import build_parser

    parser = build_parser()
    return parser.parse_args(["serve", "--bootstrap-servers", "127.0.0.1:1", "--topic", "t", "--group", "g",
                              "--checkpoint-dir", str(tmp_path / "ck"), "--out", str(tmp_path / "out"), *extra])


def test_a_folder_of_damaged_checkpoints_is_refused_at_every_start_until_someone_decides(tmp_path, capsys):
    """Item 3: the second start silently began an empty model from the group's committed offset."""
    pytest.importorskip("kafka")
    from stream_xml.persistence import CheckpointStore, list_checkpoints
    from stream_xml.cli import main
    from stream_xml.cli.serve import _restore_or_create
    from stream_xml.service import AwaitingLabels, ServiceState

    from stream_xml.evaluation.prequential import PrequentialEvaluator
    from stream_xml.models import make_model

    folder = tmp_path / "ck"
    store = CheckpointStore(folder)
    learned = PrequentialEvaluator({"majority": make_model("majority")})
    learned.t = 5000
    good = ServiceState(evaluator=learned, models={"majority": {"model": "majority", "params": {}, "seed": 0}},
                        awaiting=AwaitingLabels(3))
    backup = str(tmp_path / "backup.ckpt")
    paths = [store.save(good), store.save(good)]
    with open(paths[0], "rb") as f, open(backup, "wb") as g:
        g.write(f.read())
    for path in paths:
        with open(path, "r+b") as f:
            f.truncate(100)
    argv = ["serve", "--bootstrap-servers", "127.0.0.1:1", "--topic", "t", "--group", "g", "--model", "majority",
            "--checkpoint-dir", str(folder), "--out", str(tmp_path / "out")]
    for _ in range(3):  # what a supervisor does
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "no readable checkpoint" in err and "--restore FILE" in err and "--fresh-start" in err
    assert list_checkpoints(folder) == [] and len(CheckpointStore(folder).damaged()) == 2
    # a person decides: restore a file of their choice ...
    state, path = _restore_or_create(_serve_args(tmp_path, "--restore", backup), CheckpointStore(folder))
    assert path == backup and state.evaluator.t == 5000
    # ... or start afresh, knowingly; refused while a readable checkpoint exists
    state, path = _restore_or_create(_serve_args(tmp_path, "--fresh-start", "--model", "majority"), CheckpointStore(folder))
    assert path is None and state.evaluator.t == 0
    CheckpointStore(folder).save(good)
    with pytest.raises(ValueError, match="--fresh-start: .* is readable"):
        _restore_or_create(_serve_args(tmp_path, "--fresh-start", "--model", "majority"), CheckpointStore(folder))


# --------------------------------------------------------------------------- 4. names that are not text


def test_an_unpaired_surrogate_is_bad_input_and_a_report_never_leaves_a_temporary(tmp_path):
    """Item 4: the label "\\ud800" was learned, and every later report failed, leaving a temporary."""
    from stream_xml.evaluation.report import write_report

    for value, problem in [(b'{"x": [1], "y": ["\\ud800"]}', "label '\\\\ud800' is not valid text"),
                           (b'{"x": {"\\udfff": 1}, "y": []}', "feature '\\\\udfff' is not valid text"),
                           (b'{"id": "a\\ud800", "x": [1], "y": []}', "id 'a\\\\ud800' is not valid text"),
                           (b'{"id": "r", "y": ["\\udc00"]}', "label '\\\\udc00' is not valid text")]:
        with pytest.raises(RecordError, match=r"^t/0:3: " + problem):
            decode_message(Message("t", 0, 3, None, value))
    assert decode_json(b'{"x": [1], "y": ["\\ud83d\\ude00"]}', "t/0", 4)[2] == frozenset({"\U0001f600"})  # a pair is text
    # a name already learned (an old checkpoint) still gets its report, escaped, and no temporary stays
    tree = {"children": [{"labels": ["\ud800", "b"], "n_labels": 2}, {"labels": ["c"], "n_labels": 1}]}
    event = {"kind": "restructure", "t": 1, "tree": tree, "blocks": 2, "partition": [["\ud800", "b"], ["c"]]}
    result = {"models": {"ihomer": {"metrics": {}, "events": [event]}},
              "stream": {"records": 1, "label_names": ["\ud800", "b", "c"]}, "series": [{"t": 1, "model": "ihomer"}]}
    out = tmp_path / "out"
    write_report(result, str(out), config={"labels": ["\ud800"]})
    assert sorted(os.listdir(out)) == ["report.html", "report.json", "series.csv"]
    assert "\\ud800, b</span>" in (out / "report.html").read_text(encoding="utf-8")


def test_a_failed_write_leaves_no_temporary(tmp_path, monkeypatch):
    from stream_xml import files
    from stream_xml.evaluation.report import write_report

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_report({"models": {}, "stream": {}, "series": []}, str(tmp_path))
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- 5, 6, 7. damaged files


@pytest.mark.parametrize("name", sorted(READERS))
@pytest.mark.parametrize("on_error", ["raise", "skip"])
def test_every_damage_of_every_file_is_a_located_error(tmp_path, name, on_error):
    """Item 5 (and 7: the MULAN label file): corrupt or cut gzip (even the two bytes \\x1f\\x8b),
    huge integers, deep nesting... raised zlib.error, EOFError, OverflowError, RecursionError."""
    reader = READERS[name]
    outcomes = {}
    for kind, data in damaged_copies(reader.good(40), random.Random(18)):
        for suffix in (reader.suffix, reader.suffix + ".gz"):
            path = write(str(tmp_path), "damaged" + suffix, data)
            outcomes[kind] = read_all(reader, path, on_error)  # anything but RecordError fails the test
    assert outcomes["gzip magic only"] == "RecordError"


@pytest.mark.parametrize("name", sorted(READERS))
def test_a_file_cut_at_any_byte_is_read_or_a_located_error(tmp_path, name):
    reader = READERS[name]
    good = reader.good(3)
    for cut in range(len(good)):
        path = write(str(tmp_path), "cut" + reader.suffix, good[:cut])
        for on_error in ("raise", "skip"):
            read_all(reader, path, on_error)


def test_a_file_cut_right_after_at_relation_is_a_located_error(tmp_path):
    """Found by experiments/robustness.py: ``"" in "'\""`` is true, so an empty relation name was read
    as a quoted one (IndexError)."""
    from connectors.arff import ArffSource

    path = write(str(tmp_path), "cut.arff", b"% a comment\n@relation")
    with pytest.raises(RecordError, match=r"cut.arff:2: no @data section"):
        ArffSource(path, label_count=1)


def test_the_damages_named_in_the_issue(tmp_path):
    reader = READERS["jsonl"]
    for data, problem in [(b"\x1f\x8b", r"damaged gzip data \(EOFError"),
                          (gzip.compress(reader.good(50))[:300], r"damaged gzip data \(EOFError"),
                          (b'{"x": [' + b"9" * 400 + b"]}\n", r"feature 0 has a value beyond ±1e\+100"),
                          (b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", "invalid JSON: nested too deeply")]:
        path = write(str(tmp_path), "d.jsonl", data)
        for on_error in ("raise", "skip"):
            try:
                list(JsonlSource(path, on_error=on_error))
            except RecordError as err:
                assert str(err).startswith(path + ":") and __import__("re").search(problem, str(err)), err
            else:
                assert on_error == "skip" and b"\x1f\x8b" not in data[:2]


@pytest.mark.parametrize("name", ["arff", "xmc", "csv", "jsonl"])
@pytest.mark.parametrize("n_records", [30, 3000])
def test_invalid_utf8_is_reported_on_its_line_and_skip_mode_skips_that_record_only(tmp_path, name, n_records):
    """Item 6: a bad byte on line 2008 was reported at 1882 (any file under 8 KB: line 1), and skip
    mode stopped there, never reading the valid records after it."""
    reader = READERS[name]
    lines = reader.good(n_records).split(b"\n")
    bad = len(lines) - 10  # 1-based line number; the file goes on for nine more lines
    lines[bad - 1] = lines[bad - 1][:3] + b"\xe9" + lines[bad - 1][3:]
    for suffix in (reader.suffix, reader.suffix + ".gz"):
        data = b"\n".join(lines)
        path = write(str(tmp_path), "u" + suffix, gzip.compress(data) if suffix.endswith(".gz") else data)
        with pytest.raises(RecordError, match=rf"u{suffix}:{bad}: not valid UTF-8 \(byte 4 of the line\)"):
            reader.read(path, "raise")
        records = reader.read(path, "skip")
        read_lines = [r.meta["line"] for r in records]
        assert bad not in read_lines and bad - 1 in read_lines and bad + 1 in read_lines
        assert len(records) == n_records - 1


def test_a_mulan_label_file_holding_garbage_is_named(tmp_path):
    """Item 7."""
    from connectors.arff import ArffSource, read_label_names

    arff = write(str(tmp_path), "d.arff", READERS["arff"].good(5))
    for garbage in (b"\x00\xff\xfe garbage \x80", b"\x1f\x8b\x08\x00junk", b"<labels><label name='a'>",
                    bytes(range(256)), b"", b"<?xml version='1.0'?><labels/>"):
        xml = write(str(tmp_path), "labels.xml", garbage)
        with pytest.raises(RecordError, match=r"^" + __import__("re").escape(xml)):
            read_label_names(xml)
        with pytest.raises(RecordError, match=r"^" + __import__("re").escape(xml)):
            ArffSource(arff, labels_xml=xml)


# --------------------------------------------------------------------------- 8. tied scores


def test_tied_scores_are_published_in_one_order():
    from connectors.kafka import encode_prediction

    record = Record({}, None, {"id": 1, "topic": "t", "partition": 0, "offset": 5})
    scores = {"b": 0.5, 3: 0.5, "a": 0.5, 1: 0.9, "c": 0.1}
    shuffled = dict(reversed(list(scores.items())))
    one = encode_prediction(record, {"m": (frozenset({1, "a"}), scores)}, top_scores=3)
    assert one == encode_prediction(record, {"m": (frozenset({"a", 1}), shuffled)}, top_scores=3)
    assert json.loads(one)["predictions"]["m"]["scores"] == [[1, 0.9], [3, 0.5], ["a", 0.5]]


RESTORE = textwrap.dedent("""
    import itertools, pickle, sys
    sys.path.insert(0, {root!r})
    from connectors.bundled import YeastSource
    from connectors.kafka import encode_prediction
    from stream_xml.evaluation.prequential import PrequentialEvaluator
    from stream_xml.models import make_model
    records = list(itertools.islice(iter(YeastSource()), 700))
    if sys.argv[1] == "learn":
        ev = PrequentialEvaluator({{"ihomer": make_model("ihomer", seed=0)}})
        for r in records[:500]:
            ev.process(r)
        with open(sys.argv[2], "wb") as f:
            pickle.dump(ev, f)
    with open(sys.argv[2], "rb") as f:
        ev = pickle.load(f)
    out = [encode_prediction(r, ev.predict(r.x), top_scores=14) for r in records[500:]]
    sys.stdout.write(repr(out))
""")


def test_a_restored_model_publishes_the_same_predictions_in_another_process(tmp_path):
    """Item 8: after a restart (another process, another string hash seed) iHOMER's tied scores came
    out in another order."""
    script = tmp_path / "restore.py"
    script.write_text(RESTORE.format(root=ROOT))
    state = str(tmp_path / "ev.pkl")
    runs = []
    for seed, step in (("1", "learn"), ("2", "load")):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONWARNINGS="ignore")
        done = subprocess.run([sys.executable, str(script), step, state], env=env, capture_output=True, timeout=300)
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        runs.append(done.stdout)
    assert runs[0] == runs[1]


# --------------------------------------------------------------------------- 9. Ctrl-C in a kernel


class InterruptedInAKernel(MultiLabelLearner):
    """A learner whose numba kernel gets SIGINT while it runs, at the ``at``-th record (as a
    Ctrl-C that lands inside MLHAT's split search does) and returns a tuple, whose boxing is
    where CPython notices the pending KeyboardInterrupt."""

    def __init__(self, at: int = 30):
        self.at = at
        self.n = 0
        self.labels: list = []

    def add_labels(self, names):
        self.labels += [n for n in names if n not in self.labels]

    def learn_labelset(self, x, labelset):
        self.n += 1
        _kernel(os.getpid() if self.n == self.at else 0, np.arange(3.0))

    def predict_with_scores(self, x):
        return frozenset(), {label: 0.5 for label in self.labels}


def _kill():
    import ctypes

    kill = ctypes.CDLL(None).kill
    kill.argtypes = [ctypes.c_int, ctypes.c_int]
    kill.restype = ctypes.c_int
    return kill


_KILL = _kill()


def _compile_kernel():
    from numba import njit

    kill = _KILL

    @njit
    def kernel(pid, values):
        if pid > 0:
            kill(pid, 2)  # SIGINT to this very process, from inside compiled code
        return np.argsort(values)[:2], (values[0], values[1])

    return kernel


_kernel = _compile_kernel()


def test_ctrl_c_inside_a_numba_kernel_still_gives_the_partial_result():
    """Item 9: SystemError: CPUDispatcher(...) returned a result with an exception set."""
    from connectors.bundled import YeastSource
    from stream_xml.evaluation.prequential import evaluate

    result = evaluate(YeastSource(), {"m": InterruptedInAKernel(at=30)})
    assert result["interrupted"] is True and result["stream"]["records"] == 30


def test_ctrl_c_inside_a_kernel_writes_the_partial_report_from_the_command_line(tmp_path, monkeypatch, capsys):
    import signal

    from stream_xml import cli, models

    monkeypatch.setitem(models.MODELS, "kernel-interrupted", ("test_robustness:InterruptedInAKernel", None, "test"))
    handler = signal.getsignal(signal.SIGINT)
    code = cli.main(["evaluate", "--source", "yeast", "--model", "kernel-interrupted", "--param", "at=50",
                     "--out", str(tmp_path), "--no-progress"])
    assert code == 130 and signal.getsignal(signal.SIGINT) is handler  # the previous handler is back
    assert "interrupted after 50 records" in capsys.readouterr().err
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["interrupted"] is True and report["stream"]["records"] == 50
