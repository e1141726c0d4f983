"""Numba kernels behind :class:`stream_xml.clustering.odac.ODACJ`.

Counts live in the flat arrays of a :class:`~stream_xml.clustering.pair_counts.PairCounts`
arena. A cluster held in slot ``s`` with ``m`` labels owns ``c1[off1[s]:off1[s] + m]`` (how often
each label was positive) and ``c11[off11[s]:off11[s] + m * (m - 1) // 2]`` (how often each pair
was positive together), the pairs packed column by column: pair ``(i, j)`` with local indices
``i < j`` sits at ``j * (j - 1) // 2 + i``. Appending a label to a cluster therefore only appends
pairs at the end of its block.

The Jaccard dissimilarity of a pair is ``1 - n_ab / (n_a + n_b - n_ab)``, and 1 when neither
label has been seen (empty union).

>>> import numpy as np
>>> from stream_xml.clustering.odac_kernels import update_counts, leaf_coefficients
>>> slot_of, local_of = np.array([0, 0, 0]), np.array([0, 1, 2])  # labels 0..2 in slot 0
>>> off1, off11 = np.array([0]), np.array([0])
>>> c1, c11 = np.zeros(3), np.zeros(3)
>>> for y in ([0, 1], [0, 1], [0, 2], [2]):
...     assert update_counts(np.array(y), slot_of, local_of, off1, off11, c1, c11, 1.0)
>>> c1.tolist(), c11.tolist()  # pairs (0,1), (0,2), (1,2)
([3.0, 2.0, 2.0], [2.0, 1.0, 0.0])
>>> d1, d2, d0, total, a, b = leaf_coefficients(c1, c11, np.array([0, 1, 2]))
>>> round(d1, 3), round(d2, 3), round(d0, 3), (a, b)
(1.0, 0.75, 0.333, (1, 2))

"""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "pair_index",
    "jaccard_distance",
    "update_counts",
    "update_batch",
    "leaf_coefficients",
    "closer_to_first",
]


@numba.njit(cache=True)
def pair_index(i, j):
    """Position of the pair of local indices ``i != j`` in a packed pair-count block."""
    if i > j:
        i, j = j, i
    return j * (j - 1) // 2 + i


@numba.njit(cache=True)
def jaccard_distance(n_a, n_b, n_ab):
    """``1 - J`` from the two label counts and their joint count; 1 for an empty union."""
    union = n_a + n_b - n_ab
    if union <= 0.0:
        return 1.0
    return 1.0 - n_ab / union


@numba.njit(cache=True)
def update_counts(ids, slot_of, local_of, off1, off11, c1, c11, w):
    """Add one labelset with weight ``w`` to the counts of every cluster it touches.

    ``ids`` are the positive global label ids (any order; repeats count once); ``slot_of`` and
    ``local_of`` map a global id to its cluster slot and its index in that cluster. Only the
    pairs of labels that are positive together in the same cluster are touched, so the cost is
    ``O(c log c + sum_C |Y ∩ C|^2)`` for a labelset of size ``c``, whatever the number of labels.

    Returns False, without touching anything, if an id is negative or not registered.
    """
    n = ids.shape[0]
    width = slot_of.shape[0]
    keys = np.empty(n, np.int64)
    for k in range(n):
        g = ids[k]
        if g < 0 or g >= width or slot_of[g] < 0:
            return False
        keys[k] = slot_of[g] * width + g
    # Sorting by (slot, id) puts the labels of one cluster next to each other and repeats
    # side by side, so each run is one cluster's share of the labelset.
    keys.sort()
    start = 0
    while start < n:
        s = keys[start] // width
        stop = start + 1
        while stop < n and keys[stop] // width == s:
            stop += 1
        b1 = off1[s]
        b11 = off11[s]
        base = s * width
        previous = -1
        for k in range(start, stop):
            g = keys[k] - base
            if g == previous:
                continue
            previous = g
            lk = local_of[g]
            c1[b1 + lk] += w
            before = -1
            for q in range(start, k):
                h = keys[q] - base
                if h == before:
                    continue
                before = h
                c11[b11 + pair_index(local_of[h], lk)] += w
        start = stop
    return True


@numba.njit(cache=True)
def update_batch(ids, ends, weights, slot_of, local_of, off1, off11, c1, c11):
    """:func:`update_counts` of labelsets one after the other: labelset ``r`` is
    ``ids[ends[r - 1]:ends[r]]`` (from 0 for the first) with weight ``weights[r]``. Returns how
    many were added: all of them, unless one holds an id that is negative or not registered,
    which is left out with those after it."""
    start = 0
    for r in range(ends.shape[0]):
        if not update_counts(ids[start:ends[r]], slot_of, local_of, off1, off11, c1, c11, weights[r]):
            return r
        start = ends[r]
    return ends.shape[0]


@numba.njit(cache=True)
def leaf_coefficients(c1, c11, gids):
    """Dissimilarity summary of one cluster with ``m = c1.shape[0] >= 2`` labels.

    ``c11`` is the cluster's packed pair block and ``gids`` its labels' global ids (used for
    tie-breaks). Returns ``(d1, d2, d0, total, a, b)``: the largest, second largest (``-inf`` if
    there is a single pair) and smallest dissimilarity, the sum over all pairs, and the local
    indices of the pivot pair, ``gids[a] < gids[b]``. The pivot maximises the dissimilarity, then
    the union count ``n_a + n_b - n_ab``, then prefers the smaller global ids.
    """
    m = c1.shape[0]
    d1 = -np.inf
    d2 = -np.inf
    d0 = np.inf
    total = 0.0
    best_d = -np.inf
    best_union = -np.inf
    best_lo = -1
    best_hi = -1
    a = -1
    b = -1
    for j in range(1, m):
        base = j * (j - 1) // 2
        for i in range(j):
            n_ab = c11[base + i]
            union = c1[i] + c1[j] - n_ab
            d = jaccard_distance(c1[i], c1[j], n_ab)
            total += d
            if d < d0:
                d0 = d
            if d >= d1:
                d2 = d1
                d1 = d
            elif d > d2:
                d2 = d
            lo = gids[i]
            hi = gids[j]
            li = i
            lj = j
            if lo > hi:
                lo, hi = hi, lo
                li, lj = j, i
            better = d > best_d or (
                d == best_d
                and (
                    union > best_union
                    or (union == best_union and (lo < best_lo or (lo == best_lo and hi < best_hi)))
                )
            )
            if better:
                best_d = d
                best_union = union
                best_lo = lo
                best_hi = hi
                a = li
                b = lj
    return d1, d2, d0, total, a, b


@numba.njit(cache=True)
def closer_to_first(c1, c11, a, b):
    """Side of every label of a cluster at a split around the pivots ``a`` and ``b`` (local).

    ``out[j]`` is True when label ``j`` joins ``a``'s child: ``D(j, a) < D(j, b)``; equal
    distances send it to ``b``'s child.
    """
    m = c1.shape[0]
    out = np.zeros(m, np.bool_)
    for j in range(m):
        if j == a:
            out[j] = True
        elif j != b:
            d_a = jaccard_distance(c1[j], c1[a], c11[pair_index(j, a)])
            d_b = jaccard_distance(c1[j], c1[b], c11[pair_index(j, b)])
            out[j] = d_a < d_b
    return out
