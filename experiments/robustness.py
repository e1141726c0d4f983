"""Robustness campaign (issue 18): damaged files, malformed Kafka messages, fuzzed records, kills.

Four parts, each counting what it tried and sorting every outcome into "handled" (the run ended
normally, or with the project's located ``RecordError``) or a *crash class* (any other exception,
keyed by reader or stage, kind of input and exception type). The target is 0 crash classes.

1. **Damaged files.** For each of the six file readers (ARFF, XMC, CSV, JSONL, the MULAN label
   XML, ARFF change points) and each seed: a good file of a drawn size, every kind of damage of
   ``tests/damage.py`` (gzip cut, corrupt, bad checksum, invalid UTF-8, huge numbers, deep
   nesting, garbage...) at drawn positions, under a plain and a ``.gz`` name, read in ``raise``
   and ``skip`` modes. Records a reader hands out must pass ``check_record`` (digestible by every
   model).
2. **Malformed Kafka messages.** A fixed list of hand-made bad messages (the issue's own among
   them) plus random mutations of good messages, through ``decode_message``; the decoded ones must
   pass ``check_record``. With ``--broker``, the fixed list also goes end to end: interleaved with
   good records into a topic served by ``stream-xml serve`` with a dead-letter topic, which must
   exit 0 having learned every good record and dead-lettered every bad one.
3. **Fuzzed records.** Random JSON records with extreme and broken values and names (NaN, ±inf,
   ±1e308, 400-digit integers, subnormals, unpaired surrogates...) through the decoder; those it
   accepts are learned and predicted by every model, whose scores and state must stay finite.
4. **Kills** (``--kill-rounds R``, needs the broker): R runs of the crash-consistency test
   (``tests/connectors/test_kafka_service.py::test_kills_at_random_points...``), 7 ``kill -9`` each, with
   seeds 18, 19, ...

    python experiments/robustness.py                       # parts 1-3, a few minutes
    python experiments/robustness.py --seeds 20 --records 100000 --broker --kill-rounds 4
    python experiments/robustness.py --overhead            # what the checks cost per Yeast record
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import pathlib
import random
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from connectors.base import Record, RecordError, check_record  # noqa: E402
from connectors.kafka import Message, decode_message, encode_record  # noqa: E402
from damage import READERS, damaged_copies, read_all, write  # noqa: E402

MODELS = ("ihomer", "mlhat", "mlht", "majority", "br-ht", "br-nb", "br-lr", "br-knn", "br-arf", "cc-lr", "cc-ht")


class Tally:
    """Outcomes of one part: counts by outcome, and crash classes with one example each."""

    def __init__(self, name: str):
        self.name = name
        self.outcomes: collections.Counter = collections.Counter()
        self.crashes: dict = {}
        self.notes: dict = {}

    def ok(self, outcome: str) -> None:
        self.outcomes[outcome] += 1

    def crash(self, where: str, kind: str, err: BaseException, example=None) -> None:
        key = (where, kind, type(err).__name__)
        self.outcomes["crash"] += 1
        if key not in self.crashes:
            self.crashes[key] = f"{type(err).__name__}: {str(err)[:160]} {'' if example is None else repr(example)[:160]}"

    @property
    def tried(self) -> int:
        return sum(self.outcomes.values())

    def summary(self) -> dict:
        return {"tried": self.tried, "outcomes": dict(self.outcomes), **self.notes, "crash_classes": len(self.crashes),
                "crashes": {" / ".join(k): v for k, v in self.crashes.items()}}


# --------------------------------------------------------------------------- 1. damaged files


def damaged_files(seeds: int) -> Tally:
    tally = Tally("damaged files")
    folder = tempfile.mkdtemp(prefix="robustness-files-")
    for seed in range(seeds):
        rng = random.Random(seed)
        for name, reader in READERS.items():
            good = reader.good(rng.choice([3, 40, 2500]))
            for kind, data in damaged_copies(good, rng):
                for suffix in (reader.suffix, reader.suffix + ".gz"):
                    path = write(folder, "input" + suffix, data)
                    for on_error in ("raise", "skip"):
                        try:
                            tally.ok(read_all(reader, path, on_error))
                        except Exception as err:  # noqa: BLE001  (the point: any other exception is a crash)
                            tally.crash(name, kind, err)
    return tally


# --------------------------------------------------------------------------- 2. malformed messages

HAND_MADE = [
    (b"{not json", "invalid JSON"),
    (b'{"x": {"caf\xe9": 1}}', "invalid UTF-8"),
    (b'{"id": "v", "x": {"a": "high"}, "y": []}', "a string value"),
    (b'{"id": "w", "x": [1, 2], "y": "a"}', "y not a list"),
    (None, "a tombstone"),
    (b'{"id": "ghost", "y": ["a"]}', "labels for nobody"),
    (b'{"x": [1e308, -1e308], "y": ["a"]}', "1e308 (issue 18.1)"),
    (b'{"x": [1e400], "y": ["a"]}', "JSON overflow to inf"),
    (b'{"x": [' + b"9" * 400 + b'], "y": ["a"]}', "a 400-digit integer"),
    (b'{"x": [' + b"9" * 5000 + b'], "y": ["a"]}', "a 5000-digit integer"),
    (b'{"x": ' + b"[" * 50000 + b"]" * 50000 + b', "y": []}', "deep nesting"),
    (b'{"x": [NaN], "y": []}', "NaN"),
    (b'{"x": [Infinity], "y": []}', "Infinity"),
    (b'{"x": [1], "y": ["\\ud800"]}', "unpaired surrogate label (18.4)"),
    (b'{"x": {"\\udfff": 1}, "y": []}', "unpaired surrogate feature"),
    (b'{"id": "\\ud800", "x": [1], "y": []}', "unpaired surrogate id"),
    (b'{"id": "' + b"i" * 5000 + b'", "x": [1], "y": []}', "a 5000-character id"),
    (b'{"id": ' + b"7" * 30 + b', "x": [1], "y": []}', "a 30-digit integer id"),
    (b'{"id": [1], "x": [1]}', "a list id"),
    (b'{"x": [true, false], "y": []}', "booleans as values"),
    (b'{"x": [1], "y": [true]}', "a boolean label"),
    (b'{"x": [1], "y": [[1]]}', "a list label"),
    (b'{"x": [1], "y": [1.5]}', "a float label"),
    (b"[1, 2]", "not an object"),
    (b'"x"', "a bare string"),
    (b"", "empty"),
    (b"\x00\x01\x02", "binary"),
    (b"\xef\xbb\xbf{\"x\": [1]}", "a UTF-8 BOM"),
    (b'{"x": {"a": 1, "a": 2}, "y": []}', "a feature named twice (valid: the last wins)"),
    (b'{"x": [1], "y": []}' * 2, "two documents"),
    (b'{"x": {"a": ' + b"1" * 1_500_000 + b"}}", "1.5 MB, over the producer limit (18.2)"),
    (b'{"x": [1e-400], "y": []}', "underflow to 0 (valid)"),
    (b'{"x": [5e-324, -5e-324], "y": ["s"]}', "subnormals (valid)"),
    (b'{"x": [1e100, -1e100], "y": ["s"]}', "the bound (valid)"),
    (b'{"x": [1.0000001e100], "y": ["s"]}', "just past the bound"),
]


def _mutate(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randrange(1, 6)):
        at = rng.randrange(len(data) + 1)
        chunk = rng.choice([b"\xff", b"\\ud800", b"1e400", b"9" * 40, b"[", b"{", b'"', b",", b"null", b"-", b"e",
                            bytes([rng.randrange(256)])])
        if rng.random() < 0.5:
            data[at:at] = chunk
        else:
            del data[at:at + rng.randrange(1, 5)]
    return bytes(data)


def _decode(value: bytes | None, tally: Tally, kind: str) -> Record | None:
    try:
        record = decode_message(Message("fuzz", 0, 7, b"k", value))
    except RecordError as err:
        if not str(err).startswith("fuzz/0:7: "):
            tally.crash("decoder", kind, AssertionError(f"unlocated: {err}"))
            return None
        tally.ok("RecordError")
        return None
    except Exception as err:  # noqa: BLE001
        tally.crash("decoder", kind, err, value[:80] if value else value)
        return None
    try:
        check_record(record.x or {}, record.y, "fuzz/0", 7)
    except RecordError as err:
        tally.crash("decoder", kind, AssertionError(f"let through: {err}"), value[:80])
        return None
    tally.ok("decoded")
    return record


def malformed_messages(mutations: int, seed: int) -> Tally:
    tally = Tally("malformed messages")
    for value, kind in HAND_MADE:
        _decode(value, tally, kind)
    rng = random.Random(seed)
    goods = [encode_record(i, {"a": float(i), "b": 0.5}, frozenset({"p", i % 3})) for i in range(50)]
    for i in range(mutations):
        _decode(_mutate(rng.choice(goods), rng), tally, "mutated good message")
    return tally


def malformed_end_to_end(bootstrap: str | None) -> dict:
    """The hand-made messages between good ones, served; returns the serve run's counts."""
    from kafka_broker import TEST_GROUP_ARGS, TansuBroker

    from connectors.kafka import ensure_topics, make_producer

    broker = None if bootstrap else TansuBroker().start()
    bootstrap = bootstrap or broker.bootstrap
    try:
        stamp = f"{os.getpid()}-{int(time.time())}"
        topic, dlq = f"robust-{stamp}", f"robust-dlq-{stamp}"
        messages, n_good = [], 0
        for i, (value, _) in enumerate(HAND_MADE):
            for j in range(3):
                messages.append((b"g", encode_record(f"g{i}-{j}", {"a": float(j), "b": float(i)}, frozenset({f"l{j}"}))))
                n_good += 1
            messages.append((b"b%d" % i, value))
        valid = sum("(valid" in kind for _, kind in HAND_MADE)
        ensure_topics(bootstrap, {topic: 1})
        producer = make_producer(bootstrap, {"max_request_size": 4_000_000})
        for key, value in messages:
            producer.send(topic, key=key, value=value)
        producer.flush(timeout=60)
        producer.close(timeout=10)
        work = tempfile.mkdtemp(prefix="robustness-serve-")
        argv = [sys.executable, "-m", "stream_xml.cli", "serve", "--bootstrap-servers", bootstrap, "--topic",
                topic, "--group", f"g-{stamp}", "--model", "ihomer", "--model", "br-ht", "--dead-letter-topic", dlq,
                "--checkpoint-dir", os.path.join(work, "ck"), "--out", os.path.join(work, "out"),
                "--stop-when-idle", "2", *TEST_GROUP_ARGS]
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, timeout=300,
                              env=dict(os.environ, PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore"))
        with open(os.path.join(work, "out", "report.json")) as f:
            service = json.load(f)["service"]
        return {"exit_code": done.returncode, "messages": len(messages), "good": n_good + valid,
                "bad": len(HAND_MADE) - valid, "records_learned": service["records_learned"],
                "records_dead_lettered": service["records_dead_lettered"]}
    finally:
        if broker is not None:
            broker.stop()


# --------------------------------------------------------------------------- 3. fuzzed records

EDGE_NUMBERS = [0, 1, -1, 0.5, 1e100, -1e100, 1.0000001e100, 1e308, -1e308, 5e-324, -5e-324, 2.2e-308, 1e18, 2**63,
                10**400, float("nan"), float("inf"), -float("inf"), True, None, "7", [1], {"a": 1}]
EDGE_NAMES = ["a", "b", "c", "\ud800", "x\udfff", "é", "\U0001f600", "", " ", 0, 1, 7, "p" * 3000]


def _fuzz_document(rng: random.Random) -> bytes:
    pick = rng.random
    x: object
    if pick() < 0.5:
        x = {str(rng.choice(EDGE_NAMES)): (rng.gauss(0, 1) if pick() < 0.6 else rng.choice(EDGE_NUMBERS))
             for _ in range(rng.randrange(0, 5))}
    else:
        x = [rng.gauss(0, 1) if pick() < 0.6 else rng.choice(EDGE_NUMBERS) for _ in range(rng.randrange(0, 5))]
    doc = {"x": x} if pick() < 0.95 else {}
    if pick() < 0.9:
        doc["y"] = [rng.choice(EDGE_NAMES) if pick() < 0.3 else rng.choice("pqr") for _ in range(rng.randrange(0, 3))]
    if pick() < 0.3:
        doc["id"] = rng.choice(EDGE_NAMES + EDGE_NUMBERS)
    text = json.dumps(doc, ensure_ascii=pick() < 0.5, allow_nan=True, default=str)
    return text.encode("utf-8", "surrogatepass")


def _finite(scores: dict) -> bool:
    return all(isinstance(p, float) and math.isfinite(p) or isinstance(p, (int,)) for p in scores.values())


def fuzzed_records(n: int, learned: int, seed: int) -> Tally:
    """``n`` fuzzed records through the decoder; the first ``learned`` it accepts also through every model."""
    from test_robustness import _non_finite

    from stream_xml.evaluation.prequential import PrequentialEvaluator
    from stream_xml.models import make_model

    tally = Tally("fuzzed records")
    rng = random.Random(seed)
    models = {name: make_model(name, seed=0) for name in MODELS}
    evaluator = PrequentialEvaluator(models)
    fed = 0
    for i in range(n):
        record = _decode(_fuzz_document(rng), tally, "fuzzed record")
        if record is None or record.x is None or fed >= learned:
            continue
        fed += 1
        try:
            predictions = evaluator.process(record)
        except Exception as err:  # noqa: BLE001
            tally.crash("models", "a decoded record", err, record)
            continue
        for name, (_, scores) in predictions.items():
            if not _finite(scores):
                tally.crash(name, "scores", ValueError("a non-finite score"), record)
    for name, model in models.items():
        if _non_finite(model):
            tally.crash(name, "state", ValueError(f"non-finite state at {_non_finite(model)[:3]}"))
    tally.notes["learned and predicted by every model"] = fed
    return tally


# --------------------------------------------------------------------------- 4. kills


def kill_rounds(rounds: int) -> dict:
    passed = 0
    for r in range(rounds):
        env = dict(os.environ, STREAM_XML_KILL_SEED=str(18 + r))
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               "tests/connectors/test_kafka_service.py::"
                               "test_kills_at_random_points_leave_the_same_model_counts_and_metrics_as_an_uninterrupted_run"],
                              cwd=ROOT, env=env, capture_output=True, timeout=1800)
        passed += done.returncode == 0
        print(f"  kill round {r + 1}/{rounds} (seed {18 + r}): {'passed' if done.returncode == 0 else 'FAILED'}",
              file=sys.stderr)
    return {"rounds": rounds, "kills": 7 * rounds, "rounds_passed": passed}


def overhead(reps: int = 7) -> dict:
    """What the checks cost on Yeast: the record check per record (what every reader now calls),
    and the model-boundary guard per call and calls per record of MLHAT and iHOMER."""
    import statistics
    import timeit

    import numpy as np

    from connectors.base import check_values
    from connectors.bundled import YeastSource
    from stream_xml.evaluation.prequential import PrequentialEvaluator
    from stream_xml.models import make_model
    from stream_xml.tree import features

    records = [r.x for r in YeastSource()]

    def check_all():
        for x in records:
            check_values(x, "yeast", 1)

    check_us = statistics.median(timeit.timeit(check_all, number=3) / 3 / len(records) * 1e6 for _ in range(reps))
    guard, calls = features._within, [0]
    values = np.asarray(list(records[0].values()), dtype=np.float64)
    limit = features.MAX_ABS_VALUE
    guard_ns = statistics.median(timeit.timeit(lambda: guard(values, limit), number=100_000) / 100_000 * 1e9
                                 for _ in range(reps))

    def counted(values, limit):
        calls[0] += 1
        return guard(values, limit)

    per_record = {}
    features._within = counted
    try:
        for name in ("mlhat", "ihomer"):
            calls[0] = 0
            evaluator = PrequentialEvaluator({name: make_model(name, seed=0)})
            for record in YeastSource():
                evaluator.process(record)
            per_record[name] = calls[0] / len(records)
    finally:
        features._within = guard
    return {"record check, us per Yeast record (103 values)": round(check_us, 2),
            "model guard, ns per call": round(guard_ns), "model guard calls per record": per_record}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5, help="rounds of damaged files (every reader, every damage)")
    p.add_argument("--mutations", type=int, default=20000, help="random mutations of good Kafka messages")
    p.add_argument("--records", type=int, default=30000, help="fuzzed records through the decoder")
    p.add_argument("--learned", type=int, default=3000, help="... of which this many through every model")
    p.add_argument("--broker", action="store_true", help="also serve the hand-made messages on a Tansu broker")
    p.add_argument("--bootstrap-servers", default=None, help="a running broker instead of a fresh Tansu")
    p.add_argument("--kill-rounds", type=int, default=0, help="runs of the crash-consistency test (7 kills each)")
    p.add_argument("--json", default=None, help="also write the summary here")
    p.add_argument("--overhead", action="store_true", help="only measure what the checks cost on Yeast")
    args = p.parse_args(argv)
    if args.overhead:
        print(json.dumps(overhead(), indent=1))
        return 0

    started = time.time()
    parts = [damaged_files(args.seeds), malformed_messages(args.mutations, seed=1),
             fuzzed_records(args.records, args.learned, seed=2)]
    summary = {t.name: t.summary() for t in parts}
    if args.broker or args.bootstrap_servers:
        summary["malformed messages, served"] = malformed_end_to_end(args.bootstrap_servers)
    if args.kill_rounds:
        summary["kills"] = kill_rounds(args.kill_rounds)
    summary["seconds"] = round(time.time() - started, 1)
    print(json.dumps(summary, indent=1, ensure_ascii=False))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)
    crashes = sum(t.summary()["crash_classes"] for t in parts)
    served = summary.get("malformed messages, served")
    served_ok = served is None or (served["exit_code"] == 0 and served["records_dead_lettered"] == served["bad"]
                                   and served["records_learned"] == served["good"])
    kills_ok = "kills" not in summary or summary["kills"]["rounds_passed"] == summary["kills"]["rounds"]
    print(f"crash classes: {crashes}", file=sys.stderr)
    return 0 if crashes == 0 and served_ok and kills_ok else 1


if __name__ == "__main__":
    sys.exit(main())
