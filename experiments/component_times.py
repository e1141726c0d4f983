"""Where iHOMER's time goes on a stream, beside MLHAT's: the seconds spent in its root tree, its
block trees, the rest of its engine, and in the kNN leaves' calls, and how often each model
answers with no label at all (issue 23).

Every call of the parts is wrapped in a timer (a few microseconds each, so the figures are a
little above the bare calls'); the stream is run once untimed first, so that numba's kernels
are loaded. The models learn and predict as the prequential loop has them (predict, then
learn); no metric is computed.

    STREAM_XML_DATA=../shared/datasets python experiments/component_times.py --source yeast
    STREAM_XML_DATA=../shared/datasets python experiments/component_times.py --source llog --model ihomer:threshold=fixed

``--model NAME[:k=v,...]`` (repeatable) as ``stream-xml evaluate``'s ``--param``. Run it from
another checkout's folder with ``PYTHONPATH=.`` to time that checkout's code.
"""

from __future__ import annotations

import argparse
import collections
import time

from model_specs import add_source_and_models, models_of


def _wrap(cls, name: str, totals: dict, key) -> None:
    """Time every call of ``cls.name`` into ``totals[(key(self), name)]`` (calls, seconds)."""
    original = getattr(cls, name)

    def timed(self, *args, **kwargs):
        started = time.perf_counter()
        out = original(self, *args, **kwargs)
        entry = totals[(key(self), name)]
        entry[0] += 1
        entry[1] += time.perf_counter() - started
        return out

    setattr(cls, name, timed)


def _run(records: list, model) -> tuple[int, int]:
    """Predict then learn every record; returns the records and those answered with no label."""
    empty = 0
    for x, labels in records:
        predicted, _ = model.predict_with_scores(x)
        empty += not predicted
        model.learn_labelset(x, labels)
    return len(records), empty


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_source_and_models(parser)
    args = parser.parse_args()

    from connectors.catalog import open_source
    from stream_xml.ihomer.hierarchy import ClusterHierarchy
    from model_specs import model_from_spec
    from stream_xml.tree.knn import KnnLabelCombination
    from stream_xml.tree.mlhat import MLHAT

    records = [(r.x, frozenset(r.y)) for r in open_source(args.source)]
    names = models_of(args)

    for name in names:  # untimed: loads (or compiles) the kernels
        _run(records, model_from_spec(name))

    totals: dict = collections.defaultdict(lambda: [0, 0.0])
    # iHOMER's root tree is the one with the 1,000-record kNN memory (default_root_tree)
    _wrap(MLHAT, "learn_labelset", totals, lambda t: "root tree" if t.knn_window == 1000 else "other trees")
    # the engine asks trees for answer_scores (and ranking_scores), a tree alone for predict_scores
    for method in ("predict_scores", "answer_scores", "ranking_scores"):
        if hasattr(MLHAT, method):  # older checkouts have predict_scores only
            _wrap(MLHAT, method, totals, lambda t: "root tree" if t.knn_window == 1000 else "other trees")
    _wrap(ClusterHierarchy, "learn_labelset", totals, lambda _: "cluster engine")
    _wrap(ClusterHierarchy, "predict_with_scores", totals, lambda _: "cluster engine")
    for method in ("score_and_learn", "predict_proba"):
        _wrap(KnnLabelCombination, method, totals, lambda k: f"kNN window {k.window}")
    for name in names:
        totals.clear()
        started = time.perf_counter()
        n, empty = _run(records, model_from_spec(name))
        wall = time.perf_counter() - started
        print(f"{args.source} {name}: {wall:.3f} s for {n} records ({1e6 * wall / n:.0f} µs a record, "
              f"timers included); no label answered on {empty} ({empty / n:.1%})")
        for (part, method), (calls, seconds) in sorted(totals.items()):
            print(f"  {part:>16} {method:<20} {calls:>7} calls {seconds:8.3f} s {1e6 * seconds / calls:8.1f} µs a call")


if __name__ == "__main__":
    main()
