"""Node-level drift detection of the extreme engine under a drift of label meanings.

Half-way through a real stream every label name is replaced by another (a fixed random
permutation of the stream's labels): records keep their features, but the labels they carry now
mean what other labels meant. Old node weights are then wrong, not merely out of date, which is
the case ADWIN's resets of internal nodes are for. Prints, for ``LabelTreeClassifier`` with and
without ``drift_detection``, P@1 and micro-F1 over the whole stream and over the half after the
swap (prequential, file order).

::

    python experiments/labeltree_swap_drift.py /work/shared/xmc-datasets/stackex_cooking.xmc.gz
    python experiments/labeltree_swap_drift.py delicious --seed 1
"""

from __future__ import annotations

import argparse
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from connectors.catalog import open_source  # noqa: E402
from stream_xml.evaluation.metrics import MultiLabelMetrics  # noqa: E402
from stream_xml.labels import LabelSpace  # noqa: E402
from stream_xml.labeltree import LabelTreeClassifier  # noqa: E402


def run(records, swap: dict, params: dict) -> dict:
    model = LabelTreeClassifier(**params)
    space = LabelSpace()
    whole, after = MultiLabelMetrics(window=None), MultiLabelMetrics(window=None)
    half = len(records) // 2
    for i, record in enumerate(records):
        y = record.y if i < half else frozenset(swap[name] for name in record.y)
        predicted, scores = model.predict_with_scores(record.x)
        truth = [space.add(name) for name in y]
        pred = [space.add(name) for name in predicted]
        scored = {space.add(name): p for name, p in scores.items()}
        for metrics in (whole, after) if i >= half else (whole,):
            metrics.update(truth, pred, scored, n_labels=len(space))
        model.learn_labelset(record.x, y)
    w, a = whole.get(), after.get()
    return {"params": params, "p@1": w["precision@1"], "micro_f1": w["micro_f1"], "p@1 after": a["precision@1"],
            "micro_f1 after": a["micro_f1"], "drift_resets": model.counters["drift_resets"]}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source")
    parser.add_argument("--data-dir", default=os.environ.get("STREAM_XML_DATA"))
    parser.add_argument("--seed", type=int, default=0, help="seed of the permutation")
    args = parser.parse_args(argv)
    records = list(open_source(args.source, data_dir=args.data_dir))
    names = sorted({name for r in records for name in r.y}, key=str)
    shuffled = names[:]
    random.Random(args.seed).shuffle(shuffled)
    swap = dict(zip(names, shuffled))
    for params in ({}, {"drift_detection": False}):
        row = run(records, swap, params)
        print(f"{str(row['params']):<28} whole: P@1 {row['p@1']:.3f} micro-F1 {row['micro_f1']:.3f}"
              f" | after the swap: P@1 {row['p@1 after']:.3f} micro-F1 {row['micro_f1 after']:.3f}"
              f" | resets {row['drift_resets']}", flush=True)


if __name__ == "__main__":
    main()
