"""The ``serve`` loop: prequential learning on a Kafka topic as a long-lived service.

Each consumed message is decoded and run through the same :class:`PrequentialEvaluator` as
``stream-xml evaluate``: a labelled record is predicted, scored, learned from; a record with
``y: null`` is predicted only and, if it has an id, waits in a bounded buffer
(:class:`AwaitingLabels`) for its labels. A later message with the same id and labels (a full
record, or a label message without ``x``) resolves it: the prediction made when the record
arrived is scored against the labels and the model learns the labelled record. Overflow of the
buffer evicts the oldest waiting record and is counted. Predictions go to the output topic;
messages that fail to decode, and labels whose record is not waiting, go to the dead-letter topic.

Delivery guarantees. The model, the metrics, the buffer, the counts and the next offset of every
partition are one :class:`ServiceState`, checkpointed together (atomically, see
:mod:`stream_xml.persistence`) every N records / T seconds, before partitions are revoked in a
rebalance, and at shutdown. Before a checkpoint, the producer is flushed (every prediction and
dead letter it covers is acknowledged); after it, the offsets it covers are committed to the
group. On start, the newest checkpoint is restored and every assigned partition it knows is
sought to its checkpointed offset. A crash at any point therefore replays exactly the records
after the last checkpoint into the model that has not learned them: none is lost, none learned
twice. Outputs are at least once: replayed records are published again (with the same
prediction, since the restored model is the one that made it).

>>> from connectors.base import Record
>>> from stream_xml.baselines import MajorityLabelset
>>> from stream_xml.evaluation.prequential import PrequentialEvaluator
>>> from stream_xml.service import AwaitingLabels, score_and_learn
>>> ev = PrequentialEvaluator({"majority": MajorityLabelset()})
>>> waiting = AwaitingLabels(capacity=2)
>>> predictions = ev.process(Record({"a": 1.0}, None, {}))   # labels unknown: predict only
>>> waiting.add("r1", {"a": 1.0}, predictions)
0
>>> x, earlier = waiting.pop("r1")                            # its labels arrive later
>>> score_and_learn(ev, x, frozenset({"p"}), earlier)
>>> ev.t, ev.tracks[0].learned, len(waiting)
(1, 1, 0)

"""

from __future__ import annotations

import collections
import dataclasses
import logging
import signal
import threading
import time
import typing

from connectors.base import ErrorLog, RecordError

__all__ = ["AwaitingLabels", "Counts", "ServiceState", "ServiceOptions", "Service", "score_and_learn", "thin_series"]

log = logging.getLogger(__name__)

COUNT_KEYS = ("records_seen", "records_learned", "records_evaluated", "records_dead_lettered", "records_awaiting_labels")


def score_and_learn(evaluator, x: dict, y: frozenset, predictions: dict) -> None:
    """Score predictions made earlier for ``x`` against its labels ``y``, then learn ``(x, y)``.

    This is the labelled half of :meth:`PrequentialEvaluator.process` (same counters, memory
    samples and series rows) for a prediction made when the record arrived without labels.
    """
    evaluator.features.update(x)
    evaluator.score_and_learn(x, y, predictions)


def thin_series(series: list, max_rows: int) -> list:
    """Halve the time resolution of ``series`` (every other ``t``) until it has at most ``max_rows``.

    >>> rows = [{"t": t, "model": m} for t in range(1, 9) for m in ("a", "b")]
    >>> [(r["t"], r["model"]) for r in thin_series(rows, 8)]
    [(2, 'a'), (2, 'b'), (4, 'a'), (4, 'b'), (6, 'a'), (6, 'b'), (8, 'a'), (8, 'b')]

    """
    while len(series) > max_rows:
        ts = list(dict.fromkeys(row["t"] for row in series))
        # keep the newest sample: it is the one the report's last point shows
        keep = set(ts[len(ts) - 1::-2])
        series = [row for row in series if row["t"] in keep]
    return series


class AwaitingLabels:
    """Records predicted without labels, by id, oldest first, at most ``capacity`` of them.

    >>> w = AwaitingLabels(capacity=2)
    >>> [w.add(i, {}, {}) for i in ("a", "b", "c")], list(w.ids()), w.evicted
    ([0, 0, 1], ['b', 'c'], 1)
    >>> w.pop("a") is None, w.pop("b") is not None
    (True, True)

    """

    def __init__(self, capacity: int):
        if capacity < 0:
            raise ValueError(f"capacity must be >= 0, got {capacity}")
        self.capacity = int(capacity)
        self._items: collections.OrderedDict = collections.OrderedDict()
        self.evicted = 0
        self.replaced = 0

    def add(self, record_id, x: dict, predictions: dict) -> int:
        """Keep the record until its labels come; returns how many older records were evicted."""
        if record_id in self._items:
            # the same id again before its labels: the newer record (and prediction) wins
            del self._items[record_id]
            self.replaced += 1
        self._items[record_id] = (x, predictions)
        return self._shrink()

    def _shrink(self) -> int:
        evicted = 0
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)
            evicted += 1
        self.evicted += evicted
        return evicted

    def resize(self, capacity: int) -> int:
        """Change the capacity; returns how many records a smaller capacity evicted."""
        self.capacity = int(capacity)
        return self._shrink()

    def pop(self, record_id):
        """(x, predictions) of the waiting record ``record_id``, removed; None if not waiting."""
        return self._items.pop(record_id, None)

    def ids(self):
        return self._items.keys()

    def __contains__(self, record_id) -> bool:
        return record_id in self._items

    def __len__(self) -> int:
        return len(self._items)


@dataclasses.dataclass
class Counts:
    """What the service has done, cumulative across restarts (part of the checkpoint)."""

    records_seen: int = 0  # messages consumed, good or bad
    records_learned: int = 0
    records_evaluated: int = 0  # labelled records whose prediction was scored
    records_dead_lettered: int = 0  # forwarded to the dead-letter topic (or skipped without one)
    records_unlabelled: int = 0  # arrived with y null: predicted only on arrival
    labels_delayed: int = 0  # label deliveries matched to a waiting record
    predictions_published: int = 0


@dataclasses.dataclass
class ServiceState:
    """Everything a checkpoint holds: restore it and the service goes on where it was."""

    evaluator: typing.Any
    models: dict  # name -> {"model": registered name, "params": {...}, "seed": int}
    awaiting: AwaitingLabels
    positions: dict = dataclasses.field(default_factory=dict)  # (topic, partition) -> next offset
    counts: Counts = dataclasses.field(default_factory=Counts)
    errors: ErrorLog = dataclasses.field(default_factory=lambda: ErrorLog("skip"))
    checkpoints: int = 0
    starts: int = 0
    saved_at: float | None = None


@dataclasses.dataclass
class ServiceOptions:
    """How often to checkpoint and report, when to stop, what to do with bad records."""

    checkpoint_every: int | None = 1000
    checkpoint_seconds: float | None = 60.0
    report_seconds: float | None = None
    stop_when_idle: float | None = None
    on_error: str = "skip"
    poll_seconds: float = 0.5
    status_seconds: float | None = 30.0
    series_rows: int = 20000

    def __post_init__(self):
        if self.on_error not in ("skip", "raise"):
            raise ValueError(f"on_error must be 'skip' or 'raise', got {self.on_error!r}")
        if self.checkpoint_every is not None and self.checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be >= 1, got {self.checkpoint_every}")
        for name in ("checkpoint_seconds", "report_seconds", "stop_when_idle"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be > 0, got {value}")


class Service:
    """Runs the serve loop over a :class:`~connectors.kafka.KafkaSource`.

    Parameters
    ----------
    source
        The consumer (its ``on_assign`` / ``on_revoke`` are taken over by the service).
    state
        A new :class:`ServiceState` or one restored from ``store``.
    store
        The :class:`~stream_xml.persistence.CheckpointStore`.
    out_dir
        Where reports go (the files ``evaluate`` writes); None: no reports.
    sink, dead_letters
        :class:`~connectors.kafka.PredictionSink` and :class:`~connectors.kafka.DeadLetterSink`,
        or None.
    config
        The run's configuration, written into the report.

    """

    def __init__(self, source, state: ServiceState, store, out_dir=None, sink=None, dead_letters=None,
                 options: ServiceOptions | None = None, config: dict | None = None):
        self.source = source
        self.state = state
        self.store = store
        self.out_dir = out_dir
        self.sink = sink
        self.dead_letters = dead_letters
        self.options = options or ServiceOptions()
        self.config = dict(config or {})
        source.handler = self
        self.last_checkpoint: str | None = None
        self._stop_reason: str | None = None
        self._report_requested = False
        self._listener_error: BaseException | None = None
        self._closing = False
        self._dirty = False
        self._since_checkpoint = 0
        now = time.monotonic()
        self._last_checkpoint_at = now
        self._last_report_at = now
        self._last_status_at = now
        self._assigned_at: float | None = None
        self._last_message_at: float | None = None
        self._first_batch_at: float | None = None
        self._handled = 0  # messages handled by this process

    # -- signals ----------------------------------------------------------------------------------
    def stop(self, reason: str = "stop requested") -> None:
        """Ask the loop to stop after the record in hand (safe from a signal handler)."""
        if self._stop_reason is None:
            self._stop_reason = reason

    def request_report(self) -> None:
        """Ask the loop to write the report at the next record boundary."""
        self._report_requested = True

    def _install_signals(self) -> dict:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous = {}

        def on_stop(signum, frame):
            self.stop(f"signal {signal.Signals(signum).name}")

        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, on_stop)
        if hasattr(signal, "SIGUSR1"):
            previous[signal.SIGUSR1] = signal.signal(signal.SIGUSR1, lambda signum, frame: self.request_report())
        return previous

    # -- rebalance (called by the source from inside poll) ---------------------------------------
    def partitions_assigned(self, partitions: set) -> None:
        try:
            for tp in sorted(partitions):
                if tp in self.state.positions:
                    self.source.seek(tp, self.state.positions[tp])
                    log.info("%s/%d assigned: resuming at checkpointed offset %d", tp[0], tp[1], self.state.positions[tp])
                else:
                    log.info("%s/%d assigned: not in the checkpoint, starting at the group's committed offset "
                             "(or --start)", tp[0], tp[1])
            self._assigned_at = time.monotonic()
        except BaseException as err:  # kafka-python logs and swallows listener errors: re-raise in the loop
            self._listener_error = err

    def partitions_revoked(self, partitions: set) -> dict | None:
        """Checkpoint before the partitions move; the source then commits what this returns."""
        if self._closing:
            return None  # shutdown has checkpointed and committed already
        try:
            if self._dirty:
                self.checkpoint("rebalance", commit=False)
            log.info("revoking %s", ", ".join(f"{t}/{p}" for t, p in sorted(partitions)))
            return {tp: self.state.positions[tp] for tp in partitions if tp in self.state.positions}
        except BaseException as err:
            self._listener_error = err
            return None

    def partitions_released(self, partitions: set) -> None:
        # committed: the group's offset now speaks for these partitions. Forgetting our own
        # position keeps a stale one from winning if they come back after another member moved on.
        for tp in partitions:
            self.state.positions.pop(tp, None)
        self._dirty = True

    def partitions_lost(self, partitions: set) -> None:
        """Evicted (no commit possible): keep positions, checkpoint what was learned."""
        if self._closing:
            return
        try:
            if self._dirty:
                self.checkpoint("partitions lost", commit=False)
            log.warning("lost %s (evicted from the group)", ", ".join(f"{t}/{p}" for t, p in sorted(partitions)))
        except BaseException as err:
            self._listener_error = err

    # -- one message ------------------------------------------------------------------------------
    def _reject(self, message, error: RecordError) -> None:
        """A message that cannot be learned from: dead-letter it (lenient) or stop (strict)."""
        if self.options.on_error == "raise":
            raise error
        self.state.errors.handle(error)
        self.state.counts.records_dead_lettered += 1
        if self.dead_letters is not None:
            self.dead_letters.send(message, error)
        else:
            log.warning("skipped (no dead-letter topic): %s", error)

    def handle(self, message) -> None:
        """Decode, predict, score, learn and publish one message; advance its partition's offset."""
        state, counts, ev = self.state, self.state.counts, self.state.evaluator
        tp = (message.topic, message.partition)
        try:
            record = self.source.decode(message)
        except RecordError as error:
            if self.options.on_error == "raise":
                raise
            counts.records_seen += 1
            self._reject(message, error)
            state.positions[tp] = message.offset + 1
            self._dirty = True
            return
        record_id = record.meta.get("id")
        waiting = state.awaiting.pop(record_id) if record.y is not None and record_id is not None else None
        if waiting is not None:
            x_then, predictions_then = waiting
            # a label message has no x: learn the record as it was predicted
            score_and_learn(ev, x_then if record.x is None else record.x, record.y, predictions_then)
            counts.labels_delayed += 1
            counts.records_evaluated += 1
            counts.records_learned += 1
        elif record.x is None:
            problem = (
                "the decoder returned neither features nor labels" if record.y is None else
                f"labels for id {record_id!r}, but no record with that id is awaiting labels (never seen, already "
                f"labelled, or evicted from the buffer of {state.awaiting.capacity})")
            self._reject(message, RecordError(message.where, message.offset, problem))
        else:
            predictions = ev.process(record)
            if record.y is None:
                counts.records_unlabelled += 1
                if record_id is not None:
                    evicted = state.awaiting.add(record_id, record.x, predictions)
                    if evicted:
                        log.warning("awaiting-labels buffer full (%d): evicted %d record(s), %d in all",
                                    state.awaiting.capacity, evicted, state.awaiting.evicted)
            else:
                counts.records_evaluated += 1
                counts.records_learned += 1
            if self.sink is not None:
                self.sink.publish(record, predictions)
                counts.predictions_published += 1
        counts.records_seen += 1
        state.positions[tp] = message.offset + 1
        self._dirty = True

    # -- checkpoints and reports ------------------------------------------------------------------
    def checkpoint(self, reason: str, commit: bool = True) -> str:
        """Flush outputs, save the state, then (``commit``) commit the offsets it covers."""
        for publisher in (self.sink, self.dead_letters):
            if publisher is not None:
                publisher.flush()
        ev = self.state.evaluator
        ev.series[:] = thin_series(ev.series, self.options.series_rows)
        self.state.checkpoints += 1
        self.state.saved_at = time.time()
        path = self.store.save(self.state)
        self.last_checkpoint = path
        self._dirty = False
        self._since_checkpoint = 0
        self._last_checkpoint_at = time.monotonic()
        if commit:
            owned = self.source.assignment()
            self.source.commit({tp: o for tp, o in self.state.positions.items() if tp in owned})
        log.debug("checkpoint (%s): %s", reason, path)
        return path

    def service_summary(self) -> dict:
        counts = dataclasses.asdict(self.state.counts)
        counts["records_awaiting_labels"] = len(self.state.awaiting)
        active = None
        if self._first_batch_at is not None and self._last_message_at is not None:
            active = self._last_message_at - self._first_batch_at
        return {
            **counts,
            "awaiting_labels_capacity": self.state.awaiting.capacity,
            "awaiting_labels_evicted": self.state.awaiting.evicted,
            "awaiting_labels_replaced": self.state.awaiting.replaced,
            "checkpoints": self.state.checkpoints,
            "starts": self.state.starts,
            "last_checkpoint": self.last_checkpoint,
            "commit_failures": getattr(self.source, "commit_failures", 0),
            "positions": {f"{t}/{p}": o for (t, p), o in sorted(self.state.positions.items())},
            "this_run": {
                "records": self._handled,
                "active_seconds": active,
                "records_per_s": self._handled / active if active else None,
            },
        }

    def result(self) -> dict:
        """The report's content: ``evaluate``'s result plus the service's counts."""
        result = self.state.evaluator.result(interrupted=False)
        result["source"] = {"name": self.source.name, "errors": self.state.errors.to_dict()}
        result["service"] = self.service_summary()
        result["stopped"] = self._stop_reason
        return result

    def write_report(self, reason: str, result: dict | None = None) -> list[str]:
        """Write ``report.json``, ``series.csv`` and ``report.html`` into ``out_dir``."""
        from stream_xml.evaluation.report import write_report

        self._last_report_at = time.monotonic()
        self._report_requested = False
        if self.out_dir is None:
            return []
        result = dict(self.result() if result is None else result, report_reason=reason)
        paths = write_report(result, self.out_dir, config=self.config)
        log.info("report (%s): %s", reason, ", ".join(paths))
        return paths

    def _status(self) -> None:
        c = self.state.counts
        log.info("seen %d, learned %d, dead-lettered %d, awaiting labels %d", c.records_seen, c.records_learned,
                 c.records_dead_lettered, len(self.state.awaiting))
        self._last_status_at = time.monotonic()

    # -- the loop ---------------------------------------------------------------------------------
    def _due(self, now: float) -> None:
        """Checkpoint and report when their cadence says so."""
        o = self.options
        if self._dirty and (
            (o.checkpoint_every is not None and self._since_checkpoint >= o.checkpoint_every)
            or (o.checkpoint_seconds is not None and now - self._last_checkpoint_at >= o.checkpoint_seconds)
        ):
            self.checkpoint("cadence")
        if self._report_requested or (o.report_seconds is not None and now - self._last_report_at >= o.report_seconds):
            try:
                self.write_report("requested" if self._report_requested else "interval")
            except Exception as err:  # a report is for people; a failed one must not stop learning
                log.error("could not write the report: %s: %s", type(err).__name__, err)
        if o.status_seconds is not None and now - self._last_status_at >= o.status_seconds:
            self._status()

    def _idle(self, now: float) -> bool:
        limit = self.options.stop_when_idle
        if limit is None or self._assigned_at is None:
            return False  # the idle clock starts when partitions are first assigned
        last = max(self._assigned_at, self._last_message_at or 0.0)
        return now - last >= limit

    def run(self, install_signals: bool = True) -> dict:
        """Serve until a signal, ``stop()`` or ``stop_when_idle``; returns the final result."""
        previous = self._install_signals() if install_signals else {}
        log.info("serving %s in group %s (%d records seen before this start)", self.source.name,
                 getattr(self.source, "group", None), self.state.counts.records_seen)
        try:
            while self._stop_reason is None:
                messages = self.source.poll(self.options.poll_seconds)
                if self._listener_error is not None:
                    raise self._listener_error
                if messages and self._first_batch_at is None:
                    self._first_batch_at = time.monotonic()
                for message in messages:
                    try:
                        self.handle(message)
                    except Exception as err:
                        if not isinstance(err, RecordError):  # a RecordError names its place already
                            log.error("%s:%d: %s: %s (nothing after the last checkpoint is kept; a restart "
                                      "replays from there)", message.where, message.offset, type(err).__name__, err)
                        raise
                    self._handled += 1
                    self._since_checkpoint += 1
                    self._last_message_at = time.monotonic()
                    if self._stop_reason is not None:
                        break  # finish the record in hand, leave the rest of the batch to the restart
                    self._due(self._last_message_at)
                now = time.monotonic()
                if self._stop_reason is None:
                    self._due(now)
                    if not messages and self._idle(now):
                        self.stop(f"idle for {self.options.stop_when_idle} s")
        except RecordError:
            # strict mode: the bad record was not touched, so the state is consistent: keep it
            self._shutdown(checkpoint=True, reason="bad record (on_error=raise)")
            raise
        except BaseException:
            # mid-record failure: the state may be half-updated, so no checkpoint; restart replays
            self._shutdown(checkpoint=False, reason="failed")
            raise
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return self._shutdown(checkpoint=True, reason=self._stop_reason)

    def _shutdown(self, checkpoint: bool, reason: str | None) -> dict | None:
        if self._closing:
            return None
        self._stop_reason = self._stop_reason or reason
        result = None
        try:
            if checkpoint and (self._dirty or self.last_checkpoint is None):
                self.checkpoint("shutdown")
            self._status()
            try:
                result = self.result()
                if self.out_dir is not None:
                    self.write_report("shutdown" if checkpoint else "failed", result)
            except Exception as err:  # never hide the error that stopped the loop behind this one
                log.error("could not write the final report: %s: %s", type(err).__name__, err)
        finally:
            self._closing = True
            self.source.close()
        log.info("stopped (%s)", self._stop_reason)
        return result
