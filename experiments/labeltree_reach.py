"""How far below the labelset threshold the extreme engine's search should reach.

The search returns every label scoring at least ``explore = ratio * tau`` (``tau`` the adaptive
threshold, see stream_xml/labeltree/threshold.py): the lower the reach, the more nodes it
expands, and the faster ``tau`` may fall. Runs ``LabelTreeClassifier`` prequentially over a whole
stream in-process for each ratio (best records/s of ``--reps`` runs; predict and learn timed)
and prints the metrics.

::

    python experiments/labeltree_reach.py delicious
    python experiments/labeltree_reach.py /work/shared/xmc-datasets/stackex_cooking.xmc.gz --ratios 0.5 0.75
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from connectors.catalog import open_source  # noqa: E402
from stream_xml.evaluation.metrics import MultiLabelMetrics  # noqa: E402
from stream_xml.labels import LabelSpace  # noqa: E402
from stream_xml.labeltree import LabelTreeClassifier  # noqa: E402
from stream_xml.labeltree.threshold import RATIO  # noqa: E402


def run(records, declared, ratio: float) -> tuple[float, dict, float]:
    model = LabelTreeClassifier()
    model._threshold.state[RATIO] = ratio  # the reach is not a parameter of the estimator
    space = LabelSpace(declared)
    metrics = MultiLabelMetrics(window=None)
    seconds = 0.0
    for record in records:
        started = time.perf_counter()
        predicted, scores = model.predict_with_scores(record.x)
        model.learn_labelset(record.x, record.y)
        seconds += time.perf_counter() - started
        metrics.update(space.ids(record.y), [space.add(n) for n in predicted],
                       {space.add(n): p for n, p in scores.items()}, n_labels=len(space))
    return len(records) / seconds, metrics.get(), model.tau


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source")
    parser.add_argument("--data-dir", default=os.environ.get("STREAM_XML_DATA"))
    parser.add_argument("--ratios", type=float, nargs="+", default=[0.5, 0.75, 0.9])
    parser.add_argument("--reps", type=int, default=2)
    args = parser.parse_args(argv)
    source = open_source(args.source, data_dir=args.data_dir)
    records = list(source)
    for ratio in args.ratios:
        speed, metrics, tau = 0.0, None, None
        for _ in range(args.reps):
            s, metrics, tau = run(records, source.labels, ratio)
            speed = max(speed, s)
        print(f"reach {ratio:.2f} tau: {speed:,.0f} records/s  P@1 {metrics['precision@1']:.3f}  P@5 "
              f"{metrics['precision@5']:.3f}  micro-F1 {metrics['micro_f1']:.3f}  macro-F1 {metrics['macro_f1']:.3f}"
              f"  (tau {tau:.3f})", flush=True)


if __name__ == "__main__":
    main()
