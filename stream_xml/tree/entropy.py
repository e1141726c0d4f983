"""MLHAT's multi-label entropy, split merit and Hoeffding bound.

A label distribution is a float64 vector laid out as ``[total, ∅, label 0, label 1, ...]``:
the total weight, the weight of records with no positive label, and the weight of records
positive for each label. Its entropy is the sum of the Bernoulli entropies of every label
indicator and of the ∅ indicator (Clare & King's multi-label entropy, extended with ∅), with
proportions taken against the largest entry (the total, unless Gaussian estimates pushed a label
count above it).

>>> import numpy as np
>>> from stream_xml.tree.entropy import hoeffding_bound, hoeffding_range, ml_entropy, split_merit
>>> stats = np.array([100.0, 25.0, 50.0, 25.0])  # total, ∅, a, b
>>> round(ml_entropy(stats), 4)
2.6226

Splitting ``a`` off leaves a pure left branch and a right one of half ∅, half ``b`` (2 bits),
so the gain is 2.6226 - (50 · 0 + 50 · 2) / 100:

>>> left, right = np.array([50.0, 0.0, 50.0, 0.0]), np.array([50.0, 25.0, 0.0, 25.0])
>>> round(split_merit(ml_entropy(stats), left, right, 1, 2, 0.01), 4)
1.6226
>>> hoeffding_range(6), hoeffding_range(2)
(2.584962500721156, 1.0)
>>> round(hoeffding_bound(1.0, 1e-7, 200), 4)
0.2007

References
----------
Clare, A. and King, R. D. (2001). Knowledge discovery in multi-label phenotype data. Proc.
PKDD 2001, LNCS 2168, 42-53.

Hoeffding, W. (1963). Probability inequalities for sums of bounded random variables. Journal of
the American Statistical Association 58(301), 13-30.

Domingos, P. and Hulten, G. (2000). Mining high-speed data streams. Proc. KDD 2000, 71-80.

Esteban, A., Cano, A., Zafra, A. and Ventura, S. (2024). Hoeffding adaptive trees for
multi-label classification on data streams. Knowledge-Based Systems 304, 112561.

"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = [
    "TOTAL",
    "EMPTY_SET",
    "FIRST_LABEL",
    "ml_entropy",
    "entropy_of_keys",
    "split_merit",
    "hoeffding_range",
    "hoeffding_bound",
]

#: Position of the total weight in a distribution vector.
TOTAL = 0
#: Position of the weight of records with no positive label.
EMPTY_SET = 1
#: Position of label 0; label ``i`` sits at ``FIRST_LABEL + i``.
FIRST_LABEL = 2


@njit(cache=True)
def entropy_of_keys(dist, n_keys):
    """Entropy of ``dist`` given the number of non-total keys the distribution holds.

    ``n_keys`` matters only when it is 1: a distribution with a single key besides the total
    has entropy 0 whatever its values (the reference's rule). Keys with weight 0 add nothing and
    proportions equal to 1 are skipped.
    """
    if n_keys <= 1:
        return 0.0
    top = dist.max()
    if top <= 0.0:
        return 0.0
    h = 0.0
    for k in range(1, dist.shape[0]):
        n = dist[k]
        if n > 0.0:
            p = n / top
            if p < 1.0:
                q = 1.0 - p
                h -= p * math.log2(p) + q * math.log2(q)
    return h


@njit(cache=True)
def ml_entropy(dist):
    """Multi-label entropy (bits) of a distribution whose keys are its non-zero entries."""
    n_keys = 0
    for k in range(1, dist.shape[0]):
        if dist[k] > 0.0:
            n_keys += 1
    return entropy_of_keys(dist, n_keys)


@njit(cache=True)
def split_merit(pre_entropy, left, right, n_keys_left, n_keys_right, min_branch_fraction):
    """Information gain of a binary split, or -inf when it fails the min-branch-fraction rule.

    A branch counts when its mass (labels + ∅, the total left out) exceeds
    ``min_branch_fraction`` of both branches' mass; fewer than two counting branches give -inf.
    The post-split entropy weighs each branch's entropy by its total.
    """
    mass_left = left[1:].sum()
    mass_right = right[1:].sum()
    mass = mass_left + mass_right
    n_big = 0
    if mass > 0.0:
        if mass_left / mass > min_branch_fraction:
            n_big += 1
        if mass_right / mass > min_branch_fraction:
            n_big += 1
    if n_big < 2:
        return -np.inf
    w_left = left[0]
    w_right = right[0]
    post = (
        w_left * entropy_of_keys(left, n_keys_left) + w_right * entropy_of_keys(right, n_keys_right)
    ) / (w_left + w_right)
    return pre_entropy - post


def hoeffding_range(n_labelsets: int) -> float:
    """Range R of the merit: log2 of the number of distinct labelsets seen, at least 1."""
    return math.log2(n_labelsets) if n_labelsets > 2 else 1.0


def hoeffding_bound(value_range: float, delta: float, n: float) -> float:
    """Hoeffding bound sqrt(R² ln(1/δ) / 2n)."""
    return math.sqrt(value_range * value_range * math.log(1.0 / delta) / (2.0 * n))
