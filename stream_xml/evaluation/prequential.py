"""The prequential (test-then-train) loop shared by file replay and service mode.

Every labelled record is first predicted by every model, the prediction is scored, then every
model learns from the record. A record whose labels are not known yet (``y is None``) is only
predicted. Metrics are kept over the whole stream, over a rolling window and (optionally) with a
fading factor, and sampled every ``every`` records into a time series for the report.

>>> from connectors.bundled import YeastSource
>>> from stream_xml.baselines import MajorityLabelset
>>> from stream_xml.evaluation.prequential import PrequentialEvaluator
>>> ev = PrequentialEvaluator({"majority": MajorityLabelset()}, labels=YeastSource().labels)
>>> for record in YeastSource():
...     _ = ev.process(record)
>>> result = ev.result()
>>> result["stream"]["records"], result["stream"]["labels"]
(2417, 14)
>>> round(result["models"]["majority"]["metrics"]["hamming_loss"], 4)
0.2719

"""

from __future__ import annotations

import collections
import math
import signal
import sys
import threading
import time

from stream_xml.base import MultiLabelLearner, as_learner, feature_kinds
from stream_xml.evaluation.compilation import COMPILE_CLOCK
from stream_xml.evaluation.latency import LatencyHistogram
from stream_xml.evaluation.metrics import MultiLabelMetrics
from stream_xml.evaluation.result import EvaluationResult
from stream_xml.labels import LabelSpace

__all__ = ["PrequentialEvaluator", "ModelTrack", "StopOnInterrupt", "evaluate"]

EVENTS_KEPT = 5000


def _describe(model) -> str:
    """repr of a model for the report; a model whose repr fails still gets its report."""
    try:
        return repr(model)
    except Exception:
        return type(model).__name__


def _cluster_tree(model) -> dict | None:
    """The label clusters of a model that clusters its labels, at the end of the stream (its
    ``cluster_tree_named``: leaves with up to a few of their label names); None for the others."""
    tree = getattr(model, "cluster_tree_named", None)
    return (tree() or None) if callable(tree) else None


def _answer_shares(model) -> dict | None:
    """Who in the model answered the labels, for models that say (iHOMER's partition engine:
    its blocks, its root learner, fallbacks during trials); None for the others."""
    shares = getattr(model, "answer_shares", None)
    return shares() if callable(shares) else None


class ModelTrack:
    """Everything the loop keeps about one model (a :class:`~stream_xml.base.MultiLabelLearner`):
    metrics, timings, memory, events.

    ``seconds`` is the time spent inside the model's calls less numba's compilation (and cache
    loading) during them, which ``compile_seconds`` keeps apart (:mod:`~stream_xml.evaluation.compilation`).
    """

    # class defaults: a track restored from an older checkpoint lacks these attributes
    compile_seconds = 0.0
    sampled_learned = 0  # learned and seconds when the series was last sampled
    sampled_seconds = 0.0

    def __init__(self, name: str, model: MultiLabelLearner, metrics: MultiLabelMetrics):
        self.name = name
        self.model = model
        self.metrics = metrics
        self.predict_latency = LatencyHistogram()
        self.learn_latency = LatencyHistogram()
        self.seconds = 0.0
        self.memory_bytes: int | None = None
        self.memory_peak: int | None = None
        self.event_counts: collections.Counter = collections.Counter()
        self.events: list = []
        self.learned = 0

    def note_events(self, t: int) -> None:
        for event in self.model.drain_events():
            self.event_counts[event.get("kind", "event")] += 1
            if len(self.events) < EVENTS_KEPT:
                # the stream position wins; a model's own clock (e.g. records one tree has
                # learned) is kept as model_t
                stamped = {**event, "t": t}
                if "t" in event:
                    stamped["model_t"] = event["t"]
                self.events.append(stamped)

    def sample_memory(self) -> None:
        try:
            self.memory_bytes = int(self.model.memory_bytes())
        except Exception:  # a model whose size cannot be measured is reported without it
            self.memory_bytes = None
            return
        self.memory_peak = max(self.memory_peak or 0, self.memory_bytes)

    def call(self, method, *args):
        """``method(*args)`` and the seconds it took, numba's compilation during it excluded."""
        compiled = COMPILE_CLOCK.seconds
        t0 = time.perf_counter()
        out = method(*args)
        dt = time.perf_counter() - t0
        compiling = COMPILE_CLOCK.seconds - compiled
        if compiling:
            self.compile_seconds += compiling
            dt = max(0.0, dt - compiling)
        self.seconds += dt
        return out, dt

    @property
    def records_per_second(self) -> float:
        return self.learned / self.seconds if self.seconds > 0 else float("nan")

    def segment_records_per_second(self) -> float:
        """Records/s since the last call (the series' sampling period), and start a new segment."""
        learned, seconds = self.learned - self.sampled_learned, self.seconds - self.sampled_seconds
        self.sampled_learned, self.sampled_seconds = self.learned, self.seconds
        return learned / seconds if seconds > 0 else float("nan")


class PrequentialEvaluator:
    """Test-then-train over a stream of records for one or several models side by side.

    Parameters
    ----------
    models
        Name -> model: stream-xml learners (:class:`~stream_xml.base.MultiLabelLearner`), or any
        river multi-label classifier, which the loop wraps (:func:`~stream_xml.base.as_learner`).
    labels
        Label names declared up front by the source (more may appear while streaming).
    window
        Size of the rolling window of the windowed metrics and of the series.
    fading
        Fading factor of the faded metrics (None: off).
    every
        Sample the series every this many labelled records.
    memory_every
        Measure model memory every this many labelled records (memory walks can be slow).
    ks
        The k of precision@k, nDCG@k and psp@k.
    feature_kinds
        The kinds of the features the source declares (name -> "nominal" or "numeric",
        :func:`connectors.base.feature_kinds`), given to every model's ``declare_features``.

    """

    def __init__(
        self,
        models: dict,
        labels=(),
        window: int = 1000,
        fading: float | None = None,
        every: int = 100,
        memory_every: int | None = None,
        ks=(1, 3, 5),
        zero_division: float = 0.0,
        feature_kinds=None,
    ):
        # numba's own set-up, before any model is timed (stream_xml.evaluation.compilation)
        self.numba_start_seconds = COMPILE_CLOCK.start_numba()
        self.label_space = LabelSpace(labels)
        self.window = window
        self.every = max(1, int(every))
        self.memory_every = max(self.every, int(memory_every or self.every * 10))
        self.tracks = [
            ModelTrack(name, as_learner(model),
                       MultiLabelMetrics(window=window, fading=fading, ks=ks, zero_division=zero_division))
            for name, model in models.items()
        ]
        if len(self.label_space):
            for track in self.tracks:
                track.model.add_labels(list(self.label_space.names))
        if feature_kinds:
            for track in self.tracks:
                track.model.declare_features(dict(feature_kinds))
        self.t = 0  # labelled records seen
        self.unlabelled = 0
        self.label_total = 0
        self.features: set = set()
        self.series: list[dict] = []
        self.started = time.perf_counter()

    # -- one record ---------------------------------------------------------------------------
    def predict(self, x) -> dict:
        """Predictions of every model for ``x``: name -> (labelset, scores)."""
        out = {}
        for track in self.tracks:
            out[track.name], dt = track.call(track.model.predict_with_scores, x)
            track.predict_latency.add(dt)
        return out

    def score(self, y: frozenset, predictions: dict) -> None:
        space = self.label_space
        new = space.add_all(y)
        if new:
            for track in self.tracks:
                track.model.add_labels([space.names[i] for i in new])
        true_ids = space.ids(y)
        # a model may name a label the stream has not shown yet; it joins the label space
        as_ids = [
            ([space.add(name) for name in predicted], {space.add(name): p for name, p in scores.items()})
            for predicted, scores in (predictions[track.name] for track in self.tracks)
        ]
        n_labels = len(space)
        for track, (pred_ids, score_ids) in zip(self.tracks, as_ids):
            track.metrics.update(true_ids, pred_ids, score_ids, n_labels=n_labels)

    def learn(self, x, y: frozenset) -> None:
        for track in self.tracks:
            _, dt = track.call(track.model.learn_labelset, x, y)
            track.learn_latency.add(dt)
            track.learned += 1
            track.note_events(self.t)

    def process(self, record) -> dict:
        """Predict, and if the record is labelled, score then learn. Returns the predictions."""
        x, y = record.x, record.y
        self.features.update(x)
        predictions = self.predict(x)
        if y is None:
            self.unlabelled += 1
            return predictions
        self.score_and_learn(x, y, predictions)
        return predictions

    def score_and_learn(self, x, y: frozenset, predictions: dict) -> None:
        """The labelled half of :meth:`process`: score ``predictions`` (made for ``x``, now or
        when it arrived without labels) against ``y``, learn ``(x, y)``, sample the series."""
        self.t += 1
        self.label_total += len(y)
        self.score(y, predictions)
        self.learn(x, y)
        if self.t % self.memory_every == 0 or self.t == 1:
            for track in self.tracks:
                track.sample_memory()
        if self.t % self.every == 0:
            self._sample()

    # -- reporting ----------------------------------------------------------------------------
    def _sample(self) -> None:
        for track in self.tracks:
            row = {
                "t": self.t,
                "model": track.name,
                "records_per_s": track.segment_records_per_second(),
                "cumulative_records_per_s": track.records_per_second,
                "model_seconds": track.seconds,
                "memory_bytes": track.memory_bytes,
            }
            for key, value in track.metrics.get_window().items():
                row[f"window.{key}"] = value
            for key, value in track.metrics.get().items():
                row[f"cumulative.{key}"] = value
            self.series.append(row)

    def result(self, interrupted: bool = False) -> EvaluationResult:
        """The report's content: stream statistics and, per model, metrics, timings and events."""
        if self.t and (not self.series or self.series[-1]["t"] != self.t):
            self._sample()
        for track in self.tracks:
            track.sample_memory()
        n_labels = len(self.label_space)
        cardinality = self.label_total / self.t if self.t else float("nan")
        models = {}
        for track in self.tracks:
            models[track.name] = {
                "model": _describe(track.model),
                "metrics": track.metrics.get(),
                "window_metrics": track.metrics.get_window(),
                "fading_metrics": track.metrics.get_fading(),
                "records_per_s": track.records_per_second,
                "seconds": track.seconds,
                "compile_seconds": track.compile_seconds,
                "latency_us": {
                    "predict": track.predict_latency.summary_us(),
                    "learn": track.learn_latency.summary_us(),
                },
                "memory_bytes": track.memory_bytes,
                "memory_peak_bytes": track.memory_peak,
                "event_counts": dict(track.event_counts),
                "events": list(track.events),
                "answer_shares": _answer_shares(track.model),
                "cluster_tree": _cluster_tree(track.model),
            }
        return EvaluationResult({
            "interrupted": interrupted,
            "wall_seconds": time.perf_counter() - self.started,
            # numba's compilation and cache loading, kept out of the models' seconds
            "compile_seconds": sum(track.compile_seconds for track in self.tracks),
            # numba's set-up in this process, made before the first record (0 if done before)
            "numba_start_seconds": getattr(self, "numba_start_seconds", 0.0),
            "stream": {
                "records": self.t,
                "unlabelled_records": self.unlabelled,
                "labels": n_labels,
                "label_names": list(self.label_space.names),
                "features_seen": len(self.features),
                "cardinality": cardinality,
                "density": cardinality / n_labels if n_labels and not math.isnan(cardinality) else float("nan"),
            },
            "window": self.window,
            "models": models,
            "series": self.series,
        })


class StopOnInterrupt:
    """While active (a ``with`` block in the main thread), Ctrl-C (SIGINT) sets ``requested``
    instead of raising KeyboardInterrupt, so the loop stops between two records.

    A KeyboardInterrupt raised inside a numba kernel surfaces as ``SystemError: CPUDispatcher(...)
    returned a result with an exception set`` and may leave a model half-updated; a flag checked
    between records cannot. A second Ctrl-C goes to the previous handler (by default: raise
    KeyboardInterrupt at once). The previous handler is restored on exit.

    >>> import os, signal
    >>> with StopOnInterrupt() as stop:
    ...     os.kill(os.getpid(), signal.SIGINT)
    ...     stop.requested
    True

    """

    def __init__(self):
        self.requested = False
        self._previous = None

    def _handle(self, signum, frame) -> None:
        if not self.requested:
            self.requested = True
            return
        if callable(self._previous):
            self._previous(signum, frame)
        else:
            raise KeyboardInterrupt

    def __enter__(self) -> "StopOnInterrupt":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


def _interrupted_in_compiled_code(err: SystemError) -> bool:
    """A SystemError that a KeyboardInterrupt raised inside a numba kernel turned into."""
    return isinstance(err.__cause__ or err.__context__, KeyboardInterrupt)


def _notice(bar, message: str) -> None:
    """A line on stderr that does not break the progress bar."""
    if bar is not None:
        bar.write(message, file=sys.stderr)
    else:
        print(message, file=sys.stderr, flush=True)


def evaluate(
    source, models: dict, limit: int | None = None, progress: bool = False,
    max_seconds: float | None = None, on_record=None, expected: int | None = None, **options,
) -> EvaluationResult:
    """Run the prequential loop over ``source`` (a Source of records) and return the result: an
    :class:`~stream_xml.evaluation.result.EvaluationResult`, a dict that shows itself in Jupyter
    and has a ``plot()``.

    The models are told the kinds of features the source declares (an ARFF file's nominal
    attributes; :func:`stream_xml.base.feature_kinds`) unless ``feature_kinds`` says otherwise.
    ``limit`` caps the number of records; ``max_seconds`` the wall time (the result then says
    ``stopped_early``). ``expected`` (the stream's length, when known) gives the progress bar its
    end. ``on_record(record, predictions)`` is called after every record with what
    each model predicted for it (name -> (labelset, scores)). Ctrl-C (SIGINT, see
    :class:`StopOnInterrupt`) stops the loop after the record in hand and prints "interrupted
    after N records"; the result then covers the records processed so far and says
    ``interrupted: True`` (so does a KeyboardInterrupt raised otherwise). When numba has kernels
    to compile (a first run), a notice says so; the time goes to each model's
    ``compile_seconds``, not into its speed.
    """
    options.setdefault("feature_kinds", feature_kinds(source))
    evaluator = PrequentialEvaluator(models, labels=getattr(source, "labels", ()), **options)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=expected or limit, unit="rec", desc=getattr(source, "name", "stream"), disable=None, mininterval=0.5)
    COMPILE_CLOCK.on_compile = lambda: _notice(
        bar, "compiling numba kernels (first run only: the time is reported apart, not counted in records/s)")
    try:
        n, interrupted, stopped_early = _loop(evaluator, iter(source), limit, max_seconds, on_record, bar)
    finally:
        COMPILE_CLOCK.on_compile = None
        if bar is not None:
            bar.close()
    if interrupted:
        _notice(None, f"interrupted after {n} records")
    result = evaluator.result(interrupted=interrupted)
    result["stopped_early"] = stopped_early
    errors = getattr(source, "errors", None)
    result["source"] = {
        "name": getattr(source, "name", None),
        "errors": errors.to_dict() if errors is not None else None,
        # true change points, when the source knows them (synthetic streams)
        "change_points": list(getattr(source, "change_points", None) or []),
    }
    return result


def _loop(evaluator, records, limit, max_seconds, on_record, bar) -> tuple[int, bool, bool]:
    """Feed ``records`` to ``evaluator``; returns (records processed, interrupted, stopped early)."""
    interrupted = stopped_early = False
    deadline = time.perf_counter() + max_seconds if max_seconds else None
    n = 0
    try:
        with StopOnInterrupt() as stop:
            for record in records:
                predictions = evaluator.process(record)
                n += 1
                if on_record is not None:
                    on_record(record, predictions)
                if bar is not None:
                    bar.update(1)
                if stop.requested:
                    interrupted = True
                    break
                if limit is not None and n >= limit:
                    break
                if deadline is not None and n % 16 == 0 and time.perf_counter() > deadline:
                    stopped_early = True
                    break
            interrupted = interrupted or stop.requested  # e.g. Ctrl-C while the source was read
    except KeyboardInterrupt:
        interrupted = True
    except SystemError as err:
        if not _interrupted_in_compiled_code(err):
            raise
        interrupted = True
    return n, interrupted, stopped_early
