"""Numba kernels behind :mod:`stream_xml.evaluation.metrics`.

The per-label counts of a tally live in one array ``counts`` of shape ``(3, capacity)``: row 0
holds true positives, row 1 false positives, row 2 false negatives. One instance touches only
the labels in ``Y ∪ Z``; it is described by ``ids``, the concatenation of its tp, fp and fn label
ids, with ``n_tp`` and ``n_fp`` marking where each part ends.

>>> import numpy as np
>>> from stream_xml.evaluation.metric_kernels import add_contribution, macro_means
>>> sums, counts = np.zeros(2), np.zeros((3, 4), dtype=np.int64)
>>> # Y = {0, 2}, Z = {0, 3}: tp {0}, fp {3}, fn {2}
>>> add_contribution(sums, counts, np.array([1.0, 0.5]), np.array([0, 3, 2]), 1, 1, 1)
>>> counts.tolist()
[[1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]
>>> macro_means(counts, 4, 0.0)  # only label 0 scores (1.0 everywhere)
(0.25, 0.25, 0.25)
>>> macro_means(counts, 4, 1.0)  # 0/0 now counts 1.0: label 1 everywhere, 2's p, 3's r
(0.75, 0.75, 0.5)

"""

from __future__ import annotations

import numba

__all__ = ["add_contribution", "macro_means"]


@numba.njit(cache=True)
def add_contribution(sums, counts, row, ids, n_tp, n_fp, weight):
    """Add ``weight`` times one instance's contribution to a tally, in place.

    ``sums += weight * row``; ``counts[part, id] += weight`` for every id of ``ids``, where the
    part is tp, fp or fn according to the position of the id (see the module docstring). A
    negative weight removes an instance (the rolling window does that).
    """
    for j in range(row.shape[0]):
        sums[j] += weight * row[j]
    n_tp_fp = n_tp + n_fp
    for j in range(ids.shape[0]):
        if j < n_tp:
            part = 0
        elif j < n_tp_fp:
            part = 1
        else:
            part = 2
        counts[part, ids[j]] += weight


@numba.njit(cache=True)
def macro_means(counts, n_labels, zero_division):
    """Macro precision, recall and F1 over labels ``0..n_labels-1``, from per-label counts.

    Labels past the capacity of ``counts`` were never touched: their tp, fp and fn are 0, so
    every one of their scores is ``zero_division``. Returns zeros when ``n_labels`` is 0.
    """
    if n_labels == 0:
        return 0.0, 0.0, 0.0
    stored = min(n_labels, counts.shape[1])
    p_sum = r_sum = f_sum = 0.0
    for label in range(stored):
        tp = counts[0, label]
        fp = counts[1, label]
        fn = counts[2, label]
        p_sum += tp / (tp + fp) if tp + fp > 0 else zero_division
        r_sum += tp / (tp + fn) if tp + fn > 0 else zero_division
        f_sum += 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn > 0 else zero_division
    untouched = (n_labels - stored) * zero_division
    return (p_sum + untouched) / n_labels, (r_sum + untouched) / n_labels, (f_sum + untouched) / n_labels
