"""The cost of one kNN answer at iHOMER's root (window 1000, k 5), and of its float32 screening,
the dot products of the query with every stored row (issue 23).

Streams the first ``--learn`` records (fewer on a short stream: all but ``--records``) into a root-sized kNN model, then times, over the next
``--records`` records (best of ``--reps`` passes, after one untimed pass that loads the kernels),
the model's ``predict_proba`` and the screening's dot products alone. The answers are hashed, so
two checkouts' runs show whether an optimisation changed any. Run from another checkout's folder
with ``PYTHONPATH=.`` to time that checkout's kernels, alternating the two:

    STREAM_XML_DATA=../shared/datasets python experiments/knn_cost.py --source scene
    cd /tmp/base && PYTHONPATH=. STREAM_XML_DATA=... python /path/to/this/experiments/knn_cost.py --source scene
"""

from __future__ import annotations

import argparse
import hashlib
import time

import numpy as np


def _encoded(records: list) -> tuple[list, int]:
    """``(idx, val, labelset ids)`` of each record, features and labels numbered as first met, and
    the number of labels."""
    features, labels, out = {}, {}, []
    for x, y in records:
        idx = np.array([features.setdefault(k, len(features)) for k in x], dtype=np.int64)
        val = np.array([float(v) for v in x.values()])
        ids = sorted(labels.setdefault(name, len(labels)) for name in sorted(y))  # not set order: hash-seeded
        out.append((idx, val, np.array(ids, dtype=np.int64)))
    return out, len(labels)


def _best(calls, reps: int) -> float:
    """µs a call of the fastest of ``reps`` passes over ``calls`` (zero-argument functions)."""
    best = float("inf")
    for _ in range(reps):
        started = time.perf_counter()
        for call in calls:
            call()
        best = min(best, (time.perf_counter() - started) / len(calls))
    return 1e6 * best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default="yeast")
    parser.add_argument("--learn", type=int, default=1200)
    parser.add_argument("--records", type=int, default=400)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()

    from connectors.catalog import open_source
    from stream_xml.tree import knn_kernels
    from stream_xml.tree.knn import KnnLabelCombination

    encoded, n_labels = _encoded([(r.x, r.y) for r in open_source(args.source)])
    model = KnnLabelCombination(k=5, window=1000)
    learn = min(args.learn, len(encoded) - args.records)  # short streams learn less
    if learn < 1:
        raise SystemExit(f"{args.source} has {len(encoded)} records: fewer than --records + 1")
    for idx, val, labelset in encoded[:learn]:
        model.learn(idx, val, labelset)
    queries = encoded[learn : learn + args.records]
    answers = [model.predict_proba(idx, val, n_labels) for idx, val, _ in queries]
    digest = hashlib.sha256(np.concatenate(answers).tobytes()).hexdigest()[:16]
    stored = int(model._counts[knn_kernels.STORED])
    stride = model._col_f32.shape[0]
    screened = [knn_kernels._query_of(idx, val, stride) for idx, val, _ in queries]
    screened = [q for q in screened if q.screen]
    predict = _best([lambda i=idx, v=val: model.predict_proba(i, v, n_labels) for idx, val, _ in queries], args.reps)
    line = (f"{args.source}: {stored} rows stored, {stride} float32 ids a row; "
            f"predict_proba {predict:.1f} µs a record")
    if screened:
        dots = _best([lambda q=q: knn_kernels._f32_dots(model._col_f32, q.idx, q.f32, stored) for q in screened],
                     args.reps)
        line += f", screening dot products {dots:.1f} µs ({len(screened)} of {len(queries)} queries screened)"
    print(line)
    print(f"  answers' digest {digest}")


if __name__ == "__main__":
    main()
