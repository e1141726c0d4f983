"""Kafka connectors: a consumer-group source, a prediction sink, a dead-letter sink, a replayer.

Built on kafka-python (the ``kafka`` extra). Messages are JSON by default, in the format of
:mod:`connectors.jsonrecord`::

    {"id": ..., "x": {name: value} or [values], "y": [labels] or null}

plus one form that only Kafka needs, the *label message* ``{"id": ..., "y": [labels]}`` (no
``x``): the labels of a record sent earlier with ``y: null`` (delayed labels). A decoder is any
callable ``decoder(value: bytes, where: str, offset: int) -> (id, x, y)`` raising
:class:`~connectors.base.RecordError`; ``x`` is None for a label message. Name one on the
command line as ``module:function`` (see :func:`load_decoder`).

>>> from connectors.kafka import decode_json, encode_record
>>> decode_json(b'{"id": "g7", "x": {"a": 1}, "y": null}', "genes/0", 41)
('g7', {'a': 1.0}, None)
>>> decode_json(b'{"id": "g7", "y": ["stress"]}', "genes/0", 95)
('g7', None, frozenset({'stress'}))
>>> decode_json(b'{"y": ["stress"]}', "genes/0", 96)
Traceback (most recent call last):
...
connectors.base.RecordError: genes/0:96: a label message (no 'x') needs an 'id'
>>> encode_record(3, {"a": 1.0}, frozenset({"b", "a"}))
b'{"id":3,"x":{"a":1.0},"y":["a","b"]}'

Nothing here imports kafka-python until a client is created, so the codecs work without it.
"""

from __future__ import annotations

import collections
import dataclasses
import importlib
import json
import logging
import time
import typing

from connectors.base import Record, RecordError, check_record
from connectors.jsonrecord import decode_record, parse_json, prediction_fields, sorted_labels, utf8_text

__all__ = [
    "Message",
    "KafkaSource",
    "RebalanceHandler",
    "PredictionSink",
    "DeadLetterSink",
    "DeliveryError",
    "decode_json",
    "decode_message",
    "load_decoder",
    "encode_record",
    "encode_labels",
    "encode_prediction",
    "replay",
    "ensure_topics",
    "make_producer",
    "client_options",
    "SECURITY_OPTIONS",
]

log = logging.getLogger(__name__)

# kafka-python settings that the command line passes through to every client
SECURITY_OPTIONS = (
    "security_protocol",
    "sasl_mechanism",
    "sasl_plain_username",
    "sasl_plain_password",
    "sasl_kerberos_service_name",
    "sasl_kerberos_domain_name",
    "ssl_cafile",
    "ssl_certfile",
    "ssl_keyfile",
    "ssl_password",
    "ssl_crlfile",
    "ssl_ciphers",
    "ssl_check_hostname",
    "client_id",
)

# headers of a dead-lettered message, beside its original key, value and headers
DLQ_ERROR = "stream-xml.error"
DLQ_TOPIC = "stream-xml.topic"
DLQ_PARTITION = "stream-xml.partition"
DLQ_OFFSET = "stream-xml.offset"
DLQ_TIMESTAMP = "stream-xml.timestamp"
# ... and when the message was too large to forward whole (see DeadLetterSink)
DLQ_ORIGINAL_SIZE = "stream-xml.original-size"
DLQ_TRUNCATED = "stream-xml.truncated"

# kafka-python's default max_request_size: a producer refuses any record batch larger than it
DEFAULT_MAX_REQUEST_SIZE = 1048576


# --------------------------------------------------------------------------- codecs


MAX_ID_CHARS = 1024  # an id is echoed in every prediction: keep it a handle, not a payload


def _check_id(record_id, where: str, offset) -> None:
    if record_id is not None and (isinstance(record_id, bool) or not isinstance(record_id, (str, int))):
        raise RecordError(where, offset, f"'id' must be a string or an integer, got {record_id!r}")
    if isinstance(record_id, str) and len(record_id) > MAX_ID_CHARS:
        raise RecordError(where, offset, f"'id' has {len(record_id)} characters, more than {MAX_ID_CHARS}")
    if isinstance(record_id, int) and record_id.bit_length() > 64:
        raise RecordError(where, offset, "'id' is an integer of more than 64 bits")


def decode_json(value, where: str, offset) -> tuple:
    """Decode one JSON message into ``(id, x, y)``; ``x`` is None for a label message.

    >>> decode_json(b'[1, 2]', "t/0", 3)
    Traceback (most recent call last):
    ...
    connectors.base.RecordError: t/0:3: expected a JSON object, got list

    """
    if value is None:
        raise RecordError(where, offset, "no value (a null message)")
    obj = parse_json(utf8_text(value, where, offset), where, offset)
    if isinstance(obj, dict) and "x" not in obj and obj.get("y") is not None:
        if obj.get("id") is None:
            raise RecordError(where, offset, "a label message (no 'x') needs an 'id'")
        _check_id(obj["id"], where, offset)
        _, _, y = decode_record({"x": {}, "y": obj["y"]}, where, offset)
        return obj["id"], None, y
    record_id, x, y = decode_record(obj, where, offset)
    _check_id(record_id, where, offset)
    return record_id, x, y


def load_decoder(spec: str | None) -> typing.Callable:
    """The decoder named by ``spec``: None or ``"json"`` for :func:`decode_json`, else
    ``"package.module:function"``.

    >>> load_decoder("json") is decode_json, load_decoder("connectors.kafka:decode_json") is decode_json
    (True, True)
    >>> load_decoder("json.loads")
    Traceback (most recent call last):
    ...
    ValueError: --decoder expects 'json' or 'module:function', got 'json.loads'

    """
    if spec is None or spec == "json":
        return decode_json
    module, colon, attr = spec.partition(":")
    if not colon or not module or not attr:
        raise ValueError(f"--decoder expects 'json' or 'module:function', got {spec!r}")
    try:
        fn = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"cannot load decoder {spec!r}: {err}") from None
    if not callable(fn):
        raise ValueError(f"decoder {spec!r} is not callable")
    return fn


def _json_x(x: dict):
    """A list when the features are exactly 0..n-1 (keeps integer names), else an object."""
    if x and all(type(k) is int for k in x) and sorted(x) == list(range(len(x))):
        return [x[i] for i in range(len(x))]
    return {str(k): float(v) for k, v in x.items()}


def encode_record(record_id, x: dict, y) -> bytes:
    """The JSON message of one record (``y`` None: not labelled yet).

    >>> encode_record("a", {0: 1.0, 1: 0.5}, None)
    b'{"id":"a","x":[1.0,0.5],"y":null}'

    """
    doc = {"id": record_id, "x": _json_x(x), "y": None if y is None else sorted_labels(y)}
    return json.dumps(doc, separators=(",", ":"), allow_nan=False).encode("utf-8")


def encode_labels(record_id, y) -> bytes:
    """The label message that delivers the labels of record ``record_id`` later.

    >>> encode_labels(9, {"b"})
    b'{"id":9,"y":["b"]}'

    """
    return json.dumps({"id": record_id, "y": sorted_labels(y)}, separators=(",", ":")).encode("utf-8")


def encode_prediction(record: Record, predictions: dict, top_scores: int = 10) -> bytes:
    """The output message for ``record``: per model the predicted labels and the top scores.

    >>> r = Record({"a": 1.0}, None, {"id": 5, "topic": "in", "partition": 0, "offset": 12})
    >>> encode_prediction(r, {"m": (frozenset({"x"}), {"x": 0.9, "y": 0.2})}, top_scores=1)
    b'{"id":5,"topic":"in","partition":0,"offset":12,"predictions":{"m":{"labels":["x"],"scores":[["x",0.9]]}}}'

    """
    meta = record.meta
    models = prediction_fields(predictions, top_scores)
    doc = {
        "id": meta.get("id"),
        "topic": meta.get("topic"),
        "partition": meta.get("partition"),
        "offset": meta.get("offset"),
        "predictions": models,
    }
    return json.dumps(doc, separators=(",", ":"), default=str).encode("utf-8")


# --------------------------------------------------------------------------- clients


def client_options(**options) -> dict:
    """The non-None client settings among ``options`` (security and the like).

    >>> client_options(security_protocol="SASL_SSL", sasl_mechanism=None)
    {'security_protocol': 'SASL_SSL'}

    """
    return {k: v for k, v in options.items() if v is not None}


def _servers(bootstrap_servers) -> list[str]:
    if isinstance(bootstrap_servers, str):
        bootstrap_servers = bootstrap_servers.split(",")
    servers = [s.strip() for s in bootstrap_servers if s.strip()]
    if not servers:
        raise ValueError("no bootstrap servers given")
    return servers


def _split_settings(settings: dict, kind: str) -> dict:
    """Keep the settings that kafka-python's ``kind`` client ("consumer", "producer", "admin") takes."""
    if kind == "consumer":
        from kafka import KafkaConsumer as client
    elif kind == "producer":
        from kafka import KafkaProducer as client
    else:
        from kafka import KafkaAdminClient as client
    return {k: v for k, v in settings.items() if k in client.DEFAULT_CONFIG}


def make_producer(bootstrap_servers, settings: dict | None = None):
    """A KafkaProducer that waits for all in-sync replicas (``acks="all"``)."""
    from kafka import KafkaProducer

    config = {"acks": "all", "linger_ms": 5, **_split_settings(settings or {}, "producer")}
    return KafkaProducer(bootstrap_servers=_servers(bootstrap_servers), **config)


def ensure_topics(bootstrap_servers, topics: dict, settings: dict | None = None) -> list[str]:
    """Create the topics of ``topics`` (name -> partitions) that do not exist; returns those created.

    A cluster that refuses (no permission, auto-creation only) is logged, not fatal: the
    producer then finds out whether the topic can be written.
    """
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic
    from kafka.errors import KafkaError

    if not topics:
        return []
    admin = KafkaAdminClient(bootstrap_servers=_servers(bootstrap_servers), **_split_settings(settings or {}, "admin"))
    try:
        existing = set(admin.list_topics())
        missing = [NewTopic(name, int(n), 1) for name, n in topics.items() if name not in existing]
        if missing:
            try:
                admin.create_topics(missing)
            except KafkaError as err:
                log.warning("could not create topics %s: %s", [t.name for t in missing], err)
                return []
        return [t.name for t in missing]
    finally:
        admin.close()


class DeliveryError(RuntimeError):
    """Messages the broker did not acknowledge (names the topic and the error)."""


def record_size(key: bytes | None, value: bytes | None, headers=()) -> int:
    """The most bytes one record takes in a batch: what a producer compares with its
    ``max_request_size`` before it refuses to send (kafka-python's own estimate)."""
    from kafka.record.default_records import DefaultRecordBatchBuilder

    return DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, list(headers))


class _Publisher:
    """A producer shared by sinks, with delivery failures collected rather than dropped.

    ``max_size`` is the producer's ``max_request_size``: a record larger than it is refused by
    ``send``, so each sink makes what it sends fit (a message too large to forward whole must not
    stop the service, nor stop it again at every restart).
    """

    def __init__(self, producer, topic: str):
        self.producer = producer
        self.topic = topic
        self.sent = 0
        self.truncated = 0
        config = getattr(producer, "config", None) or {}
        self.max_size = int(config.get("max_request_size", DEFAULT_MAX_REQUEST_SIZE))
        self._failures: list[str] = []

    def _fits(self, key, value, headers=()) -> bool:
        return record_size(key, value, headers) <= self.max_size

    def _send(self, key, value, headers=None) -> None:
        future = self.producer.send(self.topic, key=key, value=value, headers=headers)
        future.add_errback(lambda err: self._failures.append(f"{type(err).__name__}: {err}"))
        self.sent += 1

    def flush(self, timeout: float | None = 60.0) -> None:
        """Wait until every message sent so far is acknowledged; raise if any was not."""
        self.producer.flush(timeout=timeout)
        if self._failures:
            failures, self._failures = self._failures, []
            raise DeliveryError(f"{len(failures)} messages to topic {self.topic!r} were not delivered; first: {failures[0]}")


KEY_KEPT = 1024  # bytes of a key kept when the key alone is too large to send


class PredictionSink(_Publisher):
    """Publishes every prediction to ``topic``, keyed like the input message.

    The value is :func:`encode_prediction`'s JSON: the input's id, topic, partition, offset and,
    per model, the predicted labels and the ``top_scores`` highest label scores. A prediction too
    large for the producer (huge label names, a huge key) goes without its scores, or as a bare
    ``{"id", "topic", "partition", "offset", "predictions": {}, "truncated": true}`` under the
    key's first bytes; ``truncated`` counts them.
    """

    def __init__(self, producer, topic: str, top_scores: int = 10):
        super().__init__(producer, topic)
        self.top_scores = top_scores

    def publish(self, record: Record, predictions: dict) -> None:
        """Send the predictions of every model (name -> (labels, scores)) for ``record``."""
        key = record.meta.get("key")
        value = encode_prediction(record, predictions, self.top_scores)
        if not self._fits(key, value):
            self.truncated += 1
            value = encode_prediction(record, predictions, 0)
            if not self._fits(key, value):
                meta = record.meta
                key = None if key is None else key[:KEY_KEPT]
                value = json.dumps({"id": meta.get("id"), "topic": meta.get("topic"), "partition": meta.get("partition"),
                                    "offset": meta.get("offset"), "predictions": {}, "truncated": True},
                                   separators=(",", ":"), default=str).encode("utf-8")
            log.warning("the prediction for %s/%s:%s exceeds %d bytes: published without its scores%s",
                        record.meta.get("topic"), record.meta.get("partition"), record.meta.get("offset"),
                        self.max_size, "" if b'"labels"' in value else " or labels")
        self._send(key, value)

    def send(self, record: Record, predicted: frozenset, scores: dict) -> None:
        """The :class:`~connectors.base.Sink` form: one model's prediction."""
        self.publish(record, {"model": (predicted, scores)})


class DeadLetterSink(_Publisher):
    """Forwards messages that failed to parse or validate to ``topic``.

    The dead letter keeps the original key, value (bytes as consumed) and headers, and adds
    the headers ``stream-xml.error`` (the error: ``topic/partition:offset: problem``),
    ``stream-xml.topic``, ``stream-xml.partition``, ``stream-xml.offset`` and
    ``stream-xml.timestamp``. A message too large for the producer (larger than its
    ``max_request_size``) is forwarded cut to fit: the value's first bytes (without the original
    headers, and with the key's first bytes only, if those alone are too large), with the
    headers ``stream-xml.truncated: true`` and ``stream-xml.original-size`` (``key=K value=V
    headers=H``: the original key and value bytes and header count); ``truncated`` counts them.

    """

    def send(self, message: "Message", error: Exception) -> None:
        ours = [
            (DLQ_ERROR, str(error).encode("utf-8", "backslashreplace")),
            (DLQ_TOPIC, message.topic.encode("utf-8")),
            (DLQ_PARTITION, str(message.partition).encode("ascii")),
            (DLQ_OFFSET, str(message.offset).encode("ascii")),
            (DLQ_TIMESTAMP, str(message.timestamp).encode("ascii")),
        ]
        key, value, theirs = message.key, message.value, list(message.headers or ())
        if self._fits(key, value, ours + theirs):
            self._send(key, value, ours + theirs)
            return
        self.truncated += 1
        size = f"key={len(key or b'')} value={len(value or b'')} headers={len(theirs)}"
        ours += [(DLQ_TRUNCATED, b"true"), (DLQ_ORIGINAL_SIZE, size.encode("ascii"))]
        short_key = None if key is None else key[:KEY_KEPT]
        for k, headers in ((key, ours + theirs), (key, ours), (short_key, ours)):
            room = self.max_size - record_size(k, b"", headers)
            if room >= 0:
                break
        cut = None if value is None else value[:max(0, room)]
        while cut and not self._fits(k, cut, headers):  # length varints grow with the value: trim the rest
            cut = cut[: len(cut) - (record_size(k, cut, headers) - self.max_size)]
        log.warning("dead letter for %s/%d:%d is %s bytes: forwarded cut to fit %d bytes", message.topic,
                    message.partition, message.offset, size, self.max_size)
        self._send(k, cut, headers)


# --------------------------------------------------------------------------- source


@dataclasses.dataclass(frozen=True)
class Message:
    """One consumed message, undecoded."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: int | None = None
    headers: tuple = ()

    @property
    def where(self) -> str:
        return f"{self.topic}/{self.partition}"


def _checked_output(record_id, x, y, where: str, offset) -> tuple:
    """A plug-in decoder's ``(x, y)`` held to what :func:`decode_json` guarantees."""
    _check_id(record_id, where, offset)
    if x is not None and not isinstance(x, dict):
        raise RecordError(where, offset, f"the decoder returned x of type {type(x).__name__}, expected a dict or None")
    if y is not None:
        if not isinstance(y, (set, frozenset, list, tuple)):
            raise RecordError(where, offset, f"the decoder returned y of type {type(y).__name__}, expected a set or None")
        for label in y:
            if isinstance(label, bool) or not isinstance(label, (str, int)):
                raise RecordError(where, offset, f"label {label!r} is not a string or an integer")
        y = frozenset(y)
    check_record(x or {}, y, where, offset)
    return x, y


def decode_message(message: Message, decoder=None, source_name: str = "kafka") -> Record:
    """The record in ``message`` (``x`` None for a label message), its place in ``meta``.

    Any failure of the decoder becomes a :class:`~connectors.base.RecordError` naming
    ``topic/partition:offset``.

    >>> m = Message("genes", 2, 17, b"g1", b'{"id": "g1", "x": [0.5], "y": ["a"]}')
    >>> r = decode_message(m)
    >>> r.x, r.y, r.meta["offset"], r.meta["key"]
    ({0: 0.5}, frozenset({'a'}), 17, b'g1')
    >>> decode_message(m, decoder=lambda value, where, offset: 1 / 0)
    Traceback (most recent call last):
    ...
    connectors.base.RecordError: genes/2:17: decoder failed: ZeroDivisionError: division by zero

    """
    where = message.where
    decoder = decoder or decode_json
    try:
        record_id, x, y = decoder(message.value, where, message.offset)
    except RecordError:
        raise
    except Exception as err:  # a plug-in decoder's own failure is still a bad record
        raise RecordError(where, message.offset, f"decoder failed: {type(err).__name__}: {err}") from err
    if decoder is not decode_json:  # decode_json checked all this already
        x, y = _checked_output(record_id, x, y, where, message.offset)
    meta = {
        "source": source_name,
        "topic": message.topic,
        "partition": message.partition,
        "offset": message.offset,
        "key": message.key,
        "timestamp": message.timestamp,
        "id": record_id,
    }
    return Record(x, y, meta)


class RebalanceHandler(typing.Protocol):
    """What a :class:`KafkaSource` tells its owner when the group rebalances.

    kafka-python calls these from inside :meth:`KafkaSource.poll` (never while the owner is
    processing a message), with sets of ``(topic, partition)``.
    """

    def partitions_assigned(self, partitions: set) -> None:
        """Newly assigned partitions: seek them to where the owner's state says."""

    def partitions_revoked(self, partitions: set) -> dict | None:
        """Partitions about to move: checkpoint, and return ``(topic, partition) -> next offset``
        to commit for them (None: commit nothing)."""

    def partitions_released(self, partitions: set) -> None:
        """The offsets returned by :meth:`partitions_revoked` are committed: the group's
        committed offset is now the authority for these partitions."""

    def partitions_lost(self, partitions: set) -> None:
        """Partitions taken away without a chance to commit (the member was evicted)."""


def _pairs(partitions) -> set:
    return {(tp.topic, tp.partition) for tp in partitions}


def _listener(source: "KafkaSource"):
    """A rebalance listener forwarding to ``source.handler``, committing what it returns.

    kafka-python 3 runs listeners on its IO thread, where blocking consumer calls fail, so
    there the listener is a coroutine that awaits an asynchronous commit; kafka-python 2 runs
    them in the polling thread, where a synchronous commit is right.
    """
    import kafka

    async_base = getattr(kafka, "AsyncConsumerRebalanceListener", None)
    if async_base is not None:

        class AsyncListener(async_base):
            async def on_partitions_revoked(self, revoked):
                offsets = source._revoking(_pairs(revoked))
                if offsets is None:
                    return
                if offsets:
                    try:
                        await source.consumer.commit_async(source._to_kafka(offsets))
                    except Exception as err:
                        source._commit_failed(err, offsets)
                        return
                source._released(_pairs(revoked))

            async def on_partitions_lost(self, lost):
                source._lost(_pairs(lost))

            async def on_partitions_assigned(self, assigned):
                source._assigning(_pairs(assigned))

        return AsyncListener()

    class SyncListener(kafka.ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            offsets = source._revoking(_pairs(revoked))
            if offsets is not None and source.commit(offsets):
                source._released(_pairs(revoked))

        def on_partitions_assigned(self, assigned):
            source._assigning(_pairs(assigned))

    return SyncListener()


class KafkaSource:
    """Consumes ``topics`` in consumer group ``group``, without auto-commit.

    The owner owns the positions: it processes :meth:`poll`'s messages, tracks the next offset
    of every partition, and :meth:`commit`\\ s them after its checkpoint. Rebalances are reported
    to ``handler`` (a :class:`RebalanceHandler`, set by the owner); the offsets it returns on
    revocation are committed before the partitions move.

    Parameters
    ----------
    topics, bootstrap_servers, group
        What to consume, from where, in which consumer group.
    decoder
        ``decoder(value, where, offset) -> (id, x, y)`` (default :func:`decode_json`).
    start
        Where a partition without a committed offset starts: ``"earliest"`` or ``"latest"``.
    settings
        Further kafka-python settings (security, timeouts); those a consumer does not take are
        ignored, so one dict can serve consumer, producer and admin client.

    """

    def __init__(self, topics, bootstrap_servers, group: str, decoder=None, start: str = "earliest",
                 settings: dict | None = None):
        from kafka import KafkaConsumer

        self.topics = [topics] if isinstance(topics, str) else list(topics)
        if not self.topics:
            raise ValueError("KafkaSource needs at least one topic")
        if start not in ("earliest", "latest"):
            raise ValueError(f"start must be 'earliest' or 'latest', got {start!r}")
        self.group = group
        self.decoder = decoder or decode_json
        self.name = "kafka:" + ",".join(self.topics)
        self.handler: RebalanceHandler | None = None
        self.commit_failures = 0
        config = {"max_poll_records": 500, **_split_settings(settings or {}, "consumer")}
        config.update(group_id=group, enable_auto_commit=False, auto_offset_reset=start)
        self.consumer = KafkaConsumer(bootstrap_servers=_servers(bootstrap_servers), **config)
        self.consumer.subscribe(self.topics, listener=_listener(self))

    # -- rebalance plumbing (called by the listener) ------------------------------------------------
    def _assigning(self, partitions: set) -> None:
        if partitions and self.handler is not None:
            self.handler.partitions_assigned(partitions)

    def _revoking(self, partitions: set) -> dict | None:
        if not partitions or self.handler is None:
            return None
        return self.handler.partitions_revoked(partitions)

    def _released(self, partitions: set) -> None:
        if self.handler is not None:
            self.handler.partitions_released(partitions)

    def _lost(self, partitions: set) -> None:
        if partitions and self.handler is not None:
            self.handler.partitions_lost(partitions)

    def _commit_failed(self, err: Exception, offsets: dict) -> None:
        self.commit_failures += 1
        where = ", ".join(f"{t}/{p}:{o}" for (t, p), o in sorted(offsets.items()))
        log.warning("committing offsets %s to group %s failed: %s: %s", where, self.group, type(err).__name__, err)

    @staticmethod
    def _to_kafka(offsets: dict) -> dict:
        from kafka import TopicPartition
        from kafka.structs import OffsetAndMetadata

        return {TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in offsets.items()}

    def poll(self, timeout: float) -> list[Message]:
        """The messages fetched within ``timeout`` seconds, in offset order per partition."""
        batches = self.consumer.poll(timeout_ms=int(timeout * 1000))
        out = []
        for tp, records in batches.items():
            for r in records:
                out.append(Message(tp.topic, tp.partition, r.offset, r.key, r.value, r.timestamp,
                                   tuple(r.headers or ())))
        return out

    def decode(self, message: Message) -> Record:
        """The record in ``message``; ``x`` is None for a label message. Raises RecordError."""
        return decode_message(message, self.decoder, self.name)

    def assignment(self) -> set:
        return {(tp.topic, tp.partition) for tp in self.consumer.assignment()}

    def seek(self, partition: tuple, offset: int) -> None:
        from kafka import TopicPartition

        self.consumer.seek(TopicPartition(*partition), offset)

    def committed(self, partition: tuple) -> int | None:
        from kafka import TopicPartition

        return self.consumer.committed(TopicPartition(*partition))

    def commit(self, positions: dict) -> bool:
        """Commit ``(topic, partition) -> next offset`` to the group; False (logged, counted) on failure.

        Call it from the polling thread, not from a rebalance handler.
        """
        if not positions:
            return True
        try:
            self.consumer.commit(self._to_kafka(positions))
            return True
        except Exception as err:  # the owner's checkpoint is what restarts from: a failed commit only lags
            self._commit_failed(err, positions)
            return False

    def close(self) -> None:
        self.consumer.close(autocommit=False)


# --------------------------------------------------------------------------- replay


def replay(source, publish: typing.Callable, rate: float | None = None, limit: int | None = None,
           loop: bool = False, label_delay: int = 0, clock=time.monotonic, sleep=time.sleep) -> dict:
    """Turn the records of a file source into messages and hand them to ``publish(key, value)``.

    Each record becomes one message keyed by its id (the source's ``meta["id"]``, else its
    position in the replay). With ``label_delay`` d > 0 a labelled record is sent with
    ``y: null`` and its labels follow as a label message d records later (the tail's labels at
    the end), so the service sees delayed labels. ``rate`` caps messages per second; ``limit``
    the number of records; ``loop`` replays the source again at its end (ids then get a
    ``#pass`` suffix so they stay unique). Returns counts.

    >>> from connectors.base import Record
    >>> sent = []
    >>> records = [Record({"a": float(i)}, frozenset({"p"}), {}) for i in range(3)]
    >>> replay(records, lambda k, v: sent.append((k, v)), label_delay=1)
    {'records': 3, 'label_messages': 3, 'messages': 6, 'passes': 1}
    >>> [v.decode() for _, v in sent[:3]]
    ['{"id":0,"x":{"a":0.0},"y":null}', '{"id":1,"x":{"a":1.0},"y":null}', '{"id":0,"y":["p"]}']

    """
    if label_delay < 0:
        raise ValueError(f"label_delay must be >= 0, got {label_delay}")
    counts = {"records": 0, "label_messages": 0, "messages": 0, "passes": 0}
    pending: collections.deque = collections.deque()  # (id, labels) whose label message is due later
    started = clock()

    def emit(key: bytes, value: bytes) -> None:
        if rate:
            wait = started + counts["messages"] / rate - clock()
            if wait > 0:
                sleep(wait)
        publish(key, value)
        counts["messages"] += 1

    def key_of(record_id) -> bytes:
        return str(record_id).encode("utf-8")

    done = False
    while not done:
        counts["passes"] += 1
        n_before = counts["records"]
        for record in source:
            if limit is not None and counts["records"] >= limit:
                done = True
                break
            own_id = record.meta.get("id") if isinstance(record.meta, dict) else None
            record_id = counts["records"] if own_id is None else own_id
            if own_id is not None and counts["passes"] > 1:
                record_id = f"{own_id}#{counts['passes']}"
            delayed = label_delay > 0 and record.y is not None
            emit(key_of(record_id), encode_record(record_id, record.x, None if delayed else record.y))
            counts["records"] += 1
            if delayed:
                pending.append((record_id, record.y))
            if len(pending) > label_delay:
                due_id, due_y = pending.popleft()
                emit(key_of(due_id), encode_labels(due_id, due_y))
                counts["label_messages"] += 1
        if not loop or counts["records"] == n_before:
            done = True
    for due_id, due_y in pending:
        emit(key_of(due_id), encode_labels(due_id, due_y))
        counts["label_messages"] += 1
    return counts
