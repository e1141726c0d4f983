"""The node learners' weights: one hashed table for every node of the tree (feature hashing).

Every node is a sparse logistic regression. Its weight for feature ``f`` sits at slot
``bucket(group, f) * lanes + lane`` of one flat float32 table of ``2**bits`` slots, where
``(group, lane)`` is the node's identity in the arena and ``bucket`` a 64-bit integer mix of
``group``, ``f`` and a salt, reduced to ``2**bits / lanes`` buckets (Weinberger, Dasgupta,
Langford, Smola, Attenberg, ICML 2009, with a node id in the key as in Vowpal Wabbit). Siblings
are created in one group with consecutive lanes, and siblings are always scored and trained
together (the children of a node), so for each feature they read one cache line rather than one
per sibling. Memory is ``2**bits * 8`` bytes whatever the number of labels and features; two
(group, feature) pairs that fall in one bucket share their weights (a collision), which
:func:`collision_rate` measures.

Learning is AdaGrad per coordinate on the logistic loss (Duchi, Hazan, Singer, JMLR 2011):
``G += g^2; w -= lr * g / sqrt(G + eps)``, with ``eps`` damping the first steps.

>>> import numpy as np
>>> from stream_xml.labeltree.arena import WeightArena, dot_members, adagrad_members
>>> arena = WeightArena(bits=10, lanes=4, salt=0)
>>> groups, lanes = np.array([7, 7]), np.array([0, 1])
>>> idx, val = np.array([3, 5]), np.array([0.6, 0.8])
>>> z = np.zeros(2)
>>> for _ in range(20):
...     dot_members(groups, lanes, 2, idx, val, 10, arena.weights, arena.salt, arena.shift, arena.lane_bits, z)
...     grads = 1.0 / (1.0 + np.exp(-z)) - np.array([1.0, 0.0])  # member 0 positive, 1 negative
...     adagrad_members(groups, lanes, 2, grads, idx, val, 10, arena.weights, arena.sums,
...                     arena.salt, arena.shift, arena.lane_bits, 0.5, 1.0)
>>> bool(z[0] > 1.0 and z[1] < -1.0)
True

"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["WeightArena", "bucket", "dot_members", "adagrad_members", "collision_rate"]

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xC2B2AE3D27D4EB4F)
_M3 = np.uint64(0xD6E8FEB86659FD93)
_S32 = np.uint64(32)
_S29 = np.uint64(29)


@numba.njit(cache=True, inline="always")
def bucket(group, feature, salt, shift):
    """The bucket of (``group``, ``feature``): a 64-bit mix of both and ``salt`` (no Python
    ``hash``, so it is the same in every process), keeping its top ``64 - shift`` bits."""
    h = np.uint64(group) * _M1 + (np.uint64(feature) ^ np.uint64(salt)) * _M2
    h ^= h >> _S32
    h *= _M3
    h ^= h >> _S29
    return np.int64(h >> np.uint64(shift))


@numba.njit(cache=True, inline="always")
def _base(groups, j, f, last, base, salt, shift, lane_bits):
    """(first slot of member ``j``'s bucket for feature ``f``, its group), reusing ``base``
    when the member shares the previous member's group ``last``."""
    g = groups[j]
    if g == last:
        return base, last
    return bucket(g, f, salt, shift) << lane_bits, g


@numba.njit(cache=True)
def dot_members(groups, lanes, n, idx, val, n_features, weights, salt, shift, lane_bits, out):
    """``out[j] = w_j . x`` for the first ``n`` members (identities ``groups[j], lanes[j]``);
    ``idx`` is increasing, and features ``>= n_features`` (never learned) are skipped."""
    for j in range(n):
        out[j] = 0.0
    for t in range(idx.shape[0]):
        f = idx[t]
        if f >= n_features:
            break
        x = val[t]
        last = -1
        base = 0
        for j in range(n):
            base, last = _base(groups, j, f, last, base, salt, shift, lane_bits)
            out[j] += weights[base + lanes[j]] * x


@numba.njit(cache=True)
def adagrad_members(groups, lanes, n, grads, idx, val, n_features, weights, sums, salt, shift, lane_bits, lr, eps):
    """One AdaGrad step for each member ``j`` with loss gradient ``grads[j]`` w.r.t. its logit."""
    for t in range(idx.shape[0]):
        f = idx[t]
        if f >= n_features:
            break
        x = val[t]
        last = -1
        base = 0
        for j in range(n):
            gz = grads[j]
            if gz == 0.0:
                continue
            base, last = _base(groups, j, f, last, base, salt, shift, lane_bits)
            s = base + lanes[j]
            grad = gz * x
            acc = sums[s] + grad * grad
            sums[s] = acc
            weights[s] -= lr * grad / math.sqrt(acc + eps)


def collision_rate(pairs, bits: int, lanes: int, salt: int = 0) -> float:
    """Share of the distinct (group, feature) pairs in ``pairs`` whose bucket holds another pair
    of ``pairs`` too (every lane of a bucket collides together).

    >>> collision_rate([(0, f) for f in range(100)], bits=20, lanes=4)
    0.0
    >>> collision_rate([(0, f) for f in range(100)], bits=3, lanes=4)  # 100 pairs, 2 buckets
    1.0

    """
    shift = 64 - (bits - int(lanes).bit_length() + 1)
    seen: dict = {}
    distinct = set(pairs)
    for g, f in distinct:
        b = int(bucket(g, f, salt, shift))
        seen[b] = seen.get(b, 0) + 1
    if not distinct:
        return 0.0
    shared = sum(c for c in seen.values() if c > 1)
    return shared / len(distinct)


class WeightArena:
    """A float32 table of ``2**bits`` weights and one of their AdaGrad sums.

    Parameters
    ----------
    bits
        log2 of the number of slots (each slot is 8 bytes: weight and sum).
    lanes
        Slots per bucket (a power of two, at least the tree's arity).
    salt
        Mixed into every bucket (the estimator passes its seed).

    """

    def __init__(self, bits: int, lanes: int, salt: int = 0):
        lane_bits = int(lanes).bit_length() - 1
        if lanes < 1 or 1 << lane_bits != lanes:
            raise ValueError(f"lanes must be a power of two, got {lanes!r}")
        if not lane_bits < bits <= 34:
            raise ValueError(f"bits must be in ({lane_bits}, 34], got {bits!r}")
        self.bits = int(bits)
        self.lanes = int(lanes)
        self.lane_bits = lane_bits
        self.shift = 64 - (self.bits - lane_bits)
        self.salt = int(salt) & 0xFFFFFFFF
        self.weights = np.zeros(1 << self.bits, dtype=np.float32)
        self.sums = np.zeros(1 << self.bits, dtype=np.float32)

    def occupancy(self) -> float:
        """Share of the slots ever updated (a sum of squared gradients stays positive)."""
        return float(np.count_nonzero(self.sums)) / self.sums.shape[0]

    def bucket_load(self) -> float:
        """Share of the buckets holding any weight: about the chance that a new (group, feature)
        pair lands in a bucket in use, i.e. the collision rate of new pairs (O(2**bits))."""
        return float(np.count_nonzero(self.sums.reshape(-1, self.lanes).any(axis=1))) / (self.sums.shape[0] // self.lanes)

    def memory_bytes(self) -> int:
        return self.weights.nbytes + self.sums.nbytes
