"""What iHOMER's engine costs around its root tree: iHOMER, its root tree alone (the same
template iHOMER clones, given the same records) and MLHAT, test-then-train over the stream in
one process, passes alternating (each a fresh model), the median µs a record of each (issue 23:
with one block, the default on the dense streams, the root tree answers every label, and what
iHOMER adds is the engine's own work: encoding, the online threshold, the clustering, the
bookkeeping of who answered).

The root tree alone is made as iHOMER makes its first learner (the same template, seed and
distance memo: the same tree), predicts with ``answer_arrays`` (the answers and rankings
iHOMER's one-block path asks of it) and learns with ``learn_labelset``, encoding each record
itself as iHOMER does once for it. Run from another checkout's folder with ``PYTHONPATH=.`` to time that
checkout:

    STREAM_XML_DATA=../shared/datasets python experiments/engine_cost.py --source yeast --passes 7
"""

from __future__ import annotations

import argparse
import statistics
import time

KINDS = ("ihomer", "root tree", "mlhat")


def _new_model(kind: str, source):
    from model_specs import handed_over, model_from_spec
    from stream_xml.ihomer.learners import LearnerFactory
    from stream_xml.ihomer.model import default_root_tree, default_tree
    from stream_xml.tree.features import FeatureIndex
    from stream_xml.tree.knn import DistanceMemo

    if kind == "root tree":  # as iHOMER(seed=0) makes it (model_specs' seed)
        model = LearnerFactory(0, FeatureIndex(), DistanceMemo())(default_root_tree(default_tree()))
    else:
        model = model_from_spec(kind)
    handed_over(model, source)
    return model


def _pass(kind: str, source, records: list) -> float:
    """µs a record of one test-then-train pass of a fresh model (the source declares its labels)."""
    model = _new_model(kind, source)
    predict = model.answer_arrays if kind == "root tree" else model.predict_with_scores
    learn = model.learn_labelset
    started = time.perf_counter()
    for x, truth in records:
        predict(x)
        learn(x, truth)
    return (time.perf_counter() - started) / len(records) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default="yeast")
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()

    from connectors.catalog import open_source

    source = open_source(args.source)
    records = [(record.x, frozenset(record.y)) for record in source]
    if not getattr(source, "labels", None):
        raise SystemExit(f"{args.source}: the root tree alone needs a source that declares its labels")
    for kind in KINDS:  # numba loads the kernels
        _pass(kind, source, records)
    times: dict = {kind: [] for kind in KINDS}
    for _ in range(args.passes):
        for kind in KINDS:
            times[kind].append(_pass(kind, source, records))
    median = {kind: statistics.median(values) for kind, values in times.items()}
    for kind in KINDS:
        runs = " ".join(f"{v:.0f}" for v in times[kind])
        print(f"{args.source} {kind:9s} {median[kind]:7.1f} µs a record (median of {args.passes}: {runs})")
    print(f"{args.source} engine around the root tree: {median['ihomer'] - median['root tree']:.1f} µs a record; "
          f"records/s against MLHAT: ihomer {median['mlhat'] / median['ihomer']:.2f}, "
          f"root tree alone {median['mlhat'] / median['root tree']:.2f}")


if __name__ == "__main__":
    main()
