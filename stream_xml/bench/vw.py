"""Vowpal Wabbit's online probabilistic label trees (PLT) as an anchor of the benchmarks.

VW (``pip install vowpalwabbit``, the ``bench`` extra) is the reference online learner for
extreme label spaces: ``--plt L`` keeps a tree of binary logistic classifiers over the labels in
one hashed weight table (Jasinska et al., ICML 2016; Jasinska-Kobus et al., AISTATS 2021). The
bench runs it beside stream-xml's models as it runs MOA: in a child process
(``python -m stream_xml.bench.vw --child SPEC``), on the same records, prequentially (for every record
in stream order: predict, then learn), the predictions scored by
:class:`stream_xml.evaluation.metrics.MultiLabelMetrics`.

``vw-plt`` runs ``--plt L --loss_function logistic -b 24`` (``-b 26`` past 20,000 labels) in two
configurations, ``k2`` (``--kary_tree 2 -l 0.5``, VW's defaults) and ``k16``
(``--kary_tree 16 -l 4.0``), and each of them in two passes that learn the same way: one with
``--threshold 0.5`` (a labelset: the set metrics come from it) and one with ``--top_k 5`` (a
ranking: precision@k, nDCG@k and psp@k come from it), because ``--probabilities`` with ``--plt``
crashes VW's Python binding. The row reports, per metric, the better of the two configurations.

Label ids are positions: the source's declared labels first, then labels first seen in the
stream, in order of first sight. Features are numbered by first sight and written as
``id:value``. Quirks handled here: a k-ary tree's leaves may carry ids ``>= L``, which VW then
predicts; they are dropped from the labelset, and kept in the ranking as a label that is never
relevant (a miss). VW cannot learn a record without labels: such a record is predicted and
scored, not learned. Records with unknown labels (``y is None``) are predicted only.

Only VW's ``predict`` and ``learn`` calls are timed (parsing the example text is not), and the
row's records/s is that of the two top-k passes together.

>>> from connectors.base import Record
>>> records = [Record({"a": 1.0}, frozenset({"x"}), {}), Record({"b": 0.5, "a": 0.0}, frozenset(), {}),
...            Record({"c": 2.0}, frozenset({"late", "x"}), {})]
>>> stream = VwStream(records, declared=["x", "y"])
>>> stream.labels, stream.examples[0], stream.examples[1], stream.examples[2]
(['x', 'y', 'late'], (' | 0:1.0', '0 | 0:1.0'), (' | 1:0.5', None), (' | 2:2.0', '0,2 | 2:2.0'))
>>> plt_options(3, "--kary_tree 2 -l 0.5", "--top_k 5")
'--plt 3 --loss_function logistic -b 24 --kary_tree 2 -l 0.5 --top_k 5 --quiet'

"""

from __future__ import annotations

import dataclasses
import itertools
import json
import sys
import time
import typing

from stream_xml.evaluation.metrics import MultiLabelMetrics, bigger_is_better

__all__ = [
    "VW_LEARNERS", "VwUnavailable", "VwStream", "VwPass", "plt_options", "run_pass", "score_passes", "run_vw",
    "bench_vw", "require_vw",
]

TOP_K = 5
THRESHOLD = 0.5
WIDE = 20000  # past this many labels, 26 bits of weights instead of 24
PASSES = {"threshold": f"--threshold {THRESHOLD}", "top_k": f"--top_k {TOP_K}"}
VW_LEARNERS = {
    "vw-plt": {"k2": "--kary_tree 2 -l 0.5", "k16": "--kary_tree 16 -l 4.0"},
}
VW_CONFIGS = {name: options for configs in VW_LEARNERS.values() for name, options in configs.items()}
HOW_TO_GET = "pip install vowpalwabbit (stream-xml's bench or dev extra), or leave VW out with --vw none"


class VwUnavailable(ValueError):
    """The vowpalwabbit package is not installed (a ValueError: the command line reports it plainly)."""


def require_vw() -> None:
    """Raise :class:`VwUnavailable` unless ``vowpalwabbit`` can be imported."""
    import importlib.util

    if importlib.util.find_spec("vowpalwabbit") is None:
        raise VwUnavailable(f"Vowpal Wabbit is not installed: {HOW_TO_GET}")


def plt_options(n_labels: int, config: str, mode: str) -> str:
    """VW's command line for a PLT over ``n_labels`` labels in one configuration and pass."""
    bits = 26 if n_labels > WIDE else 24
    return f"--plt {n_labels} --loss_function logistic -b {bits} {config} {mode} --quiet"


class VwStream:
    """Records as VW examples: label ids, and per record the example text to predict and to learn.

    ``examples[i]`` is ``(features only, labels and features)``; the second is None for a record
    VW does not learn (no label, or labels unknown). ``truth[i]`` holds the relevant label ids
    (None when unknown).
    """

    def __init__(self, records: typing.Iterable, declared: typing.Iterable = ()):
        self.labels: list = []
        label_ids: dict = {}
        for name in declared:
            label_ids.setdefault(name, len(label_ids))
        feature_ids: dict = {}
        self.examples: list[tuple[str, str | None]] = []
        self.truth: list[tuple | None] = []
        for record in records:
            items = []
            for name, value in record.x.items():
                if value:
                    items.append(f"{feature_ids.setdefault(name, len(feature_ids))}:{float(value)!r}")
            features = " | " + " ".join(items)
            if record.y is None:
                self.truth.append(None)
                self.examples.append((features, None))
                continue
            for name in sorted(record.y - label_ids.keys(), key=str):
                label_ids[name] = len(label_ids)
            ids = tuple(sorted(label_ids[name] for name in record.y))
            self.truth.append(ids)
            self.examples.append((features, ",".join(map(str, ids)) + features if ids else None))
        self.labels = list(label_ids)

    def __len__(self) -> int:
        return len(self.examples)


@dataclasses.dataclass
class VwPass:
    """One prequential pass: VW's raw predictions (label ids, best first for top-k) per record."""

    config: str
    mode: str
    predictions: list
    seconds: float
    learned: int

    @property
    def records(self) -> int:
        return len(self.predictions)

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else float("nan")


def run_pass(stream: VwStream, config: str, mode: str, max_seconds: float | None = None) -> VwPass:
    """Predict then learn every record of ``stream`` with a fresh PLT; time only VW's two calls."""
    from vowpalwabbit import Workspace

    vw = Workspace(plt_options(len(stream.labels), VW_CONFIGS[config], PASSES[mode]))
    predictions, seconds, learned = [], 0.0, 0
    clock = time.perf_counter
    try:
        for n, (features, labelled) in enumerate(stream.examples, 1):
            example = vw.parse(features)
            started = clock()
            predicted = vw.predict(example)
            seconds += clock() - started
            vw.finish_example(example)
            predictions.append(list(predicted))
            if labelled is not None:
                example = vw.parse(labelled)
                started = clock()
                vw.learn(example)
                seconds += clock() - started
                vw.finish_example(example)
                learned += 1
            if max_seconds is not None and n % 16 == 0 and seconds > max_seconds:
                break
    finally:
        vw.finish()
    return VwPass(config, mode, predictions, seconds, learned)


def score_passes(threshold: VwPass, top_k: VwPass, truth: list, n_labels: int, records: int | None = None) -> dict:
    """Metrics of one configuration: the labelsets of ``threshold``, the rankings of ``top_k``.

    Ids ``>= n_labels`` leave the labelset and stay in the ranking as misses. Returns
    ``{"metrics": ..., "dropped": predicted ids >= n_labels in both passes}``.

    >>> t = VwPass("k2", "threshold", [[0], [1, 7]], 1.0, 2)
    >>> k = VwPass("k2", "top_k", [[7, 0, 1], [1, 0]], 1.0, 2)
    >>> out = score_passes(t, k, [(0,), (1,)], n_labels=3)
    >>> out["metrics"]["subset_accuracy"], out["metrics"]["precision@1"], out["dropped"]
    (1.0, 0.5, 2)

    """
    metrics = MultiLabelMetrics(window=None, ks=(1, 3, TOP_K))
    dropped = 0
    records = min(threshold.records, top_k.records) if records is None else records
    for labels, ranked, y in zip(threshold.predictions[:records], top_k.predictions[:records], truth[:records]):
        kept = [i for i in labels if 0 <= i < n_labels]
        dropped += len(labels) - len(kept) + sum(1 for i in ranked if i >= n_labels)
        if y is None:
            continue
        scores = {i: float(len(ranked) - rank) for rank, i in enumerate(ranked)}  # best first
        metrics.update(y, kept, scores=scores, n_labels=n_labels)
    return {"metrics": metrics.get(), "dropped": dropped}


def _best(per_config: dict) -> tuple[dict, dict]:
    """Per metric, the better value over the configurations, and which configuration gave it."""
    names = next(iter(per_config.values())).keys()
    best, which = {}, {}
    for name in names:
        pick = max if bigger_is_better[name] else min
        config = pick(per_config, key=lambda c: per_config[c][name])
        best[name], which[name] = per_config[config][name], config
    return best, which


def run_vw(stream: VwStream, learner: str = "vw-plt", max_seconds: float | None = None) -> dict:
    """Every pass of ``learner`` over ``stream``, scored; the bench row (without process figures)."""
    if learner not in VW_LEARNERS:
        raise ValueError(f"unknown VW learner {learner!r}; known: {', '.join(VW_LEARNERS)}")
    passes = {(config, mode): run_pass(stream, config, mode, max_seconds)
              for config in VW_LEARNERS[learner] for mode in PASSES}
    records = min(p.records for p in passes.values())
    n_labels = len(stream.labels)
    scored = {config: score_passes(passes[config, "threshold"], passes[config, "top_k"], stream.truth, n_labels,
                                   records) for config in VW_LEARNERS[learner]}
    metrics, best_of = _best({config: s["metrics"] for config, s in scored.items()})
    ranking = [p for (_, mode), p in passes.items() if mode == "top_k"]
    seconds = sum(p.seconds * records / p.records for p in ranking)  # a capped pass: its share of the time
    return {
        "model": learner,
        "records": sum(1 for y in stream.truth[:records] if y is not None),
        "records_per_s": len(ranking) * records / seconds if seconds > 0 else float("nan"),
        "model_seconds": sum(p.seconds for p in passes.values()),
        "warmup_s": None,
        "model_mb": None,
        "capped": records < len(stream),
        "metrics": metrics,
        "best_of": best_of,
        "configs": {config: {"metrics": s["metrics"], "dropped_ids": s["dropped"]} for config, s in scored.items()},
        "passes": [{"config": c, "mode": m, "records": p.records, "learned": p.learned, "seconds": p.seconds,
                    "records_per_s": p.records_per_s} for (c, m), p in passes.items()],
        "labels": n_labels,
    }


def bench_vw(source_spec: str, learner: str = "vw-plt", data_dir=None, limit: int | None = None,
             max_seconds: float | None = None) -> dict:
    """Read the source (its first ``limit`` records), run ``learner`` on it: the bench row.

    >>> row = bench_vw("yeast", limit=200)
    >>> row["records"], row["labels"], sorted(row["configs"]), len(row["passes"])
    (200, 14, ['k16', 'k2'], 4)

    """
    from connectors.catalog import open_source

    require_vw()
    started = time.perf_counter()
    source = open_source(source_spec, data_dir=data_dir)
    stream = VwStream(itertools.islice(source, limit), declared=source.labels)
    read_s = time.perf_counter() - started
    return {**run_vw(stream, learner, max_seconds), "read_s": read_s}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "--child":
        print(json.dumps(bench_vw(**json.loads(argv[1]))))
        return 0
    sys.exit("usage: python -m stream_xml.bench.vw --child SPEC (the bench's child processes; see stream-xml bench --vw)")


if __name__ == "__main__":
    sys.exit(main())
