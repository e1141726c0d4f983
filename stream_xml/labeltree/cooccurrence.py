"""Sparse label co-occurrence: for every label, its ``m`` most frequent partners and their counts.

A dense label x label count matrix does not fit extreme label spaces (10^5 labels: 40 GB of
int32). Here each label keeps a fixed row of ``m`` slots, maintained with the Space-Saving
algorithm (Metwally, Agrawal, El Abbadi, ICDT 2005): a partner already in the row has its count
incremented; a new partner takes an empty slot, or else replaces the partner with the smallest
count, inheriting that count as its possible overestimate (``error``). ``count - error`` is a
lower bound of the true co-occurrence count, and every partner whose true count exceeds
``n_a / m`` (``n_a`` the label's own count) is guaranteed to be in the row. Memory is
O(L x m), the update of a record with ``c`` labels O(c^2 m).

Counts can fade (multiplied by ``fading`` every ``fade_every`` records) so that the statistics
follow a drifting stream.

>>> import numpy as np
>>> from stream_xml.labeltree.cooccurrence import CoOccurrence
>>> co = CoOccurrence(m=2)
>>> co.reserve(4)
>>> for labels in ([0, 1], [0, 1], [0, 2], [0, 3]):
...     co.update(np.array(labels))
>>> co.count(0, 1), co.count(1, 0), co.count(0, 2)
(2.0, 2.0, 0.0)
>>> co.partners_of(0)  # 3 took the slot of 2 and inherited its count of 1 as its error
[(1, 2.0), (3, 1.0)]
>>> round(co.jaccard(0, 1), 3)  # 2 / (4 + 2 - 2)
0.5

"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["CoOccurrence", "pair_count", "jaccard", "update_pairs", "fade"]


@numba.njit(cache=True)
def _bump(partners, counts, errors, a, b):
    """Count one co-occurrence of ``b`` in the row of ``a`` (Space-Saving)."""
    m = partners.shape[1]
    empty = -1
    smallest = 0
    for j in range(m):
        p = partners[a, j]
        if p == b:
            counts[a, j] += 1.0
            return
        if p < 0:
            if empty < 0:
                empty = j
        elif counts[a, j] < counts[a, smallest] or partners[a, smallest] < 0:
            smallest = j
    if empty >= 0:
        partners[a, empty] = b
        counts[a, empty] = 1.0
        errors[a, empty] = 0.0
        return
    inherited = counts[a, smallest]
    partners[a, smallest] = b
    counts[a, smallest] = inherited + 1.0
    errors[a, smallest] = inherited


@numba.njit(cache=True)
def update_pairs(partners, counts, errors, occurrences, labels):
    """Count one record whose relevant labels are the distinct ids ``labels``."""
    n = labels.shape[0]
    for i in range(n):
        a = labels[i]
        occurrences[a] += 1.0
        for j in range(n):
            if i != j:
                _bump(partners, counts, errors, a, labels[j])


@numba.njit(cache=True)
def pair_count(partners, counts, errors, a, b):
    """Lower bound of the co-occurrences of ``a`` and ``b`` (0 when ``b`` is not a partner
    of ``a``); the smaller of the two rows' bounds."""
    best = -1.0
    for j in range(partners.shape[1]):
        if partners[a, j] == b:
            best = counts[a, j] - errors[a, j]
            break
    if best < 0.0:
        return 0.0
    for j in range(partners.shape[1]):
        if partners[b, j] == a:
            other = counts[b, j] - errors[b, j]
            return other if other < best else best
    return 0.0


@numba.njit(cache=True)
def jaccard(partners, counts, errors, occurrences, a, b):
    """Jaccard similarity n_ab / (n_a + n_b - n_ab) from the bounded rows; 0 without evidence."""
    n_ab = pair_count(partners, counts, errors, a, b)
    union = occurrences[a] + occurrences[b] - n_ab
    if n_ab <= 0.0 or union <= 0.0:
        return 0.0
    return n_ab / union


@numba.njit(cache=True)
def fade(counts, errors, occurrences, n_labels, factor):
    for a in range(n_labels):
        occurrences[a] *= factor
        for j in range(counts.shape[1]):
            counts[a, j] *= factor
            errors[a, j] *= factor


class CoOccurrence:
    """Bounded rows of co-occurrence counts, one per label id.

    Parameters
    ----------
    m
        Partners kept per label.
    fading
        Factor applied to every count every ``fade_every`` records (1.0: no fading).
    fade_every
        Records between two fadings.

    """

    def __init__(self, m: int = 32, fading: float = 1.0, fade_every: int = 1000):
        if m < 1:
            raise ValueError(f"m must be at least 1, got {m!r}")
        if not 0.0 < fading <= 1.0:
            raise ValueError(f"fading must be in (0, 1], got {fading!r}")
        self.m = int(m)
        self.fading = float(fading)
        self.fade_every = int(fade_every)
        self.partners = np.full((0, self.m), -1, dtype=np.int64)
        self.counts = np.zeros((0, self.m))
        self.errors = np.zeros((0, self.m))
        self.occurrences = np.zeros(0)
        self.n_records = 0

    def reserve(self, n_labels: int) -> None:
        """Make room for label ids ``0..n_labels-1`` (capacity doubles)."""
        have = self.partners.shape[0]
        if n_labels <= have:
            return
        size = max(n_labels, 2 * have, 16)
        partners = np.full((size, self.m), -1, dtype=np.int64)
        partners[:have] = self.partners
        counts = np.zeros((size, self.m))
        counts[:have] = self.counts
        errors = np.zeros((size, self.m))
        errors[:have] = self.errors
        occurrences = np.zeros(size)
        occurrences[:have] = self.occurrences
        self.partners, self.counts, self.errors, self.occurrences = partners, counts, errors, occurrences

    def update(self, labels: np.ndarray) -> None:
        """Count one record (the estimator does this inside its learning kernel)."""
        update_pairs(self.partners, self.counts, self.errors, self.occurrences, np.asarray(labels, dtype=np.int64))
        self.n_records += 1
        if self.fading < 1.0 and self.n_records % self.fade_every == 0:
            fade(self.counts, self.errors, self.occurrences, self.partners.shape[0], self.fading)

    def count(self, a: int, b: int) -> float:
        return float(pair_count(self.partners, self.counts, self.errors, a, b))

    def jaccard(self, a: int, b: int) -> float:
        return float(jaccard(self.partners, self.counts, self.errors, self.occurrences, a, b))

    def partners_of(self, a: int) -> list[tuple[int, float]]:
        """(partner, lower-bound count) of ``a``, largest first."""
        row = [
            (int(p), float(c - e))
            for p, c, e in zip(self.partners[a], self.counts[a], self.errors[a])
            if p >= 0
        ]
        return sorted(row, key=lambda item: (-item[1], item[0]))

    def memory_bytes(self) -> int:
        return self.partners.nbytes + self.counts.nbytes + self.errors.nbytes + self.occurrences.nbytes
