"""The cost of one naive-Bayes answer at iHOMER's root, the call a loss switch with naive Bayes
makes at every leaf reached for every record (issue 23's sixth round).

Trains the default iHOMER on the whole stream, takes the first leaf of its root tree, and times
that leaf's naive Bayes over the first ``--records`` records (best of ``--reps`` passes, after one
untimed pass that loads the kernel). ``--save FILE`` keeps the answers (``.npy``) and
``--against FILE`` prints the largest difference from answers saved by another checkout's run,
so an optimisation of the kernel can show what it changed:

    STREAM_XML_DATA=../shared/datasets python experiments/naive_bayes_cost.py --source yeast --save /tmp/new.npy
    cd /tmp/base && PYTHONPATH=. STREAM_XML_DATA=... \
        python /path/to/this/experiments/naive_bayes_cost.py --source yeast --save /tmp/old.npy
    ... --against /tmp/old.npy

Run from another checkout's folder with ``PYTHONPATH=.`` to time that checkout's kernel.

``--adaptive`` also times the leaf's whole naive-Bayes answer (naive Bayes, its per-label
fallback, its additions to the majority labelset's answer) made by three kernel calls, as
before issue 23's twelfth round, against the one call of
:func:`~stream_xml.tree.label_fallback.adaptive_naive_bayes`, in passes that alternate, and
checks that both give the same arrays.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default="yeast")
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--save", help="write the answers to this .npy file")
    parser.add_argument("--against", help="compare the answers with this .npy file")
    parser.add_argument("--adaptive", action="store_true", help="three calls against one (see above)")
    args = parser.parse_args()

    from connectors.catalog import open_source
    from stream_xml.models import make_model
    from stream_xml.tree.observer_kernels import COUNT

    records = [(r.x, frozenset(r.y)) for r in open_source(args.source)]
    model = make_model("ihomer", {}, seed=0)
    for x, labels in records:
        model.predict_with_scores(x)
        model.learn_labelset(x, labels)
    tree = model.root
    if tree is None:
        raise SystemExit(f"{args.source}: iHOMER chose an engine without a root tree ({model.engine})")
    leaf = tree._root
    while not leaf.is_leaf:
        leaf = leaf.children[0]
    if leaf.observers is None:
        raise SystemExit(f"{args.source}: the root tree's first leaf has stopped growing (no observers)")
    counted = leaf.policy.counted()
    n_labels = len(tree.labels)
    encoded = [tree._features.encode(x, learn=False) for x, _ in records[: args.records]]
    answers = np.array([leaf.observers.naive_bayes(idx, val, n_labels, *counted) for idx, val in encoded])
    best = float("inf")
    for _ in range(args.reps):
        started = time.perf_counter()
        for idx, val in encoded:
            leaf.observers.naive_bayes(idx, val, n_labels, *counted)
        best = min(best, (time.perf_counter() - started) / len(encoded))
    seen = int((leaf.observers.moments[:, COUNT, 0] > 0).sum())
    print(f"{args.source}: {1e6 * best:.1f} µs a call (best of {args.reps} passes over {len(encoded)} records; "
          f"{seen} features seen x {n_labels} labels)")
    if args.adaptive:
        adaptive_paths(leaf, encoded, n_labels, counted, args.reps)
    if args.save:
        np.save(args.save, answers)
    if args.against:
        other = np.load(args.against)
        print(f"largest difference from {args.against}: {np.abs(answers - other).max():.3g}")


def adaptive_paths(leaf, encoded, n_labels: int, counted: tuple, reps: int) -> None:
    """Print the medians of ``reps`` alternating passes of the three-call and one-call paths."""
    from stream_xml.tree.label_fallback import adaptive_naive_bayes

    base = leaf.majority.predict_proba(n_labels)
    fallback, additions = leaf.nb_fallback, leaf.nb_additions

    def three_calls(idx, val):
        raw = leaf.observers.naive_bayes(idx, val, n_labels, *counted)
        nb = raw if fallback is None else fallback.answer(raw, leaf.stats)
        return raw, nb, None if additions is None else additions.answer(base, nb)

    def one_call(idx, val):
        return adaptive_naive_bayes(leaf.observers, fallback, additions, leaf.stats, idx, val, n_labels, counted, base)

    for idx, val in encoded:
        for a, b in zip(three_calls(idx, val), one_call(idx, val)):
            assert (a is None and b is None) or np.array_equal(a, b), "the two paths differ"
    passes = {three_calls: [], one_call: []}
    for rep in range(reps):
        for path in (three_calls, one_call) if rep % 2 else (one_call, three_calls):
            started = time.perf_counter()
            for idx, val in encoded:
                path(idx, val)
            passes[path].append((time.perf_counter() - started) / len(encoded))
    print(f"naive Bayes' whole answer (fallback {fallback is not None}, additions {additions is not None}), "
          f"medians of {reps} alternating passes: three calls {1e6 * np.median(passes[three_calls]):.2f} µs, "
          f"one call {1e6 * np.median(passes[one_call]):.2f} µs; the same arrays")


if __name__ == "__main__":
    main()
