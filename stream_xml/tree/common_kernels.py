"""Kernels the leaf models share: open-addressing hash tables, the label errors of a prediction, and a
sigmoid that does not overflow.

- Non-negative int64 keys (feature ids) to int64 values (linear probing, sizes a power of two):
  the bagging maps feature ids to dense weight columns with it, so weights take memory in the
  number of distinct features seen, not in the largest feature id.
- Labelsets to class ids, for the kNN's label combination: the labelsets themselves are stored
  CSR-like, class ``c`` having the labels ``class_labels[class_ptr[c]:class_ptr[c + 1]]``.

>>> import numpy as np
>>> from stream_xml.tree.common_kernels import label_errors
>>> label_errors(np.array([0.9, 0.2, 0.7]), np.array([0, 1]))  # label 1 missed, label 2 extra
2

"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["EMPTY", "GOLDEN", "new_key_table", "key_position", "rehash_keys", "class_of", "rehash_labelsets",
           "label_errors", "also_errors", "sigmoid", "dense_record"]

#: Marker of an unused slot in every table (feature ids and class ids are >= 0).
EMPTY = -1

#: 2^64 / golden ratio: Fibonacci hashing of keys (and SplitMix64's increment).
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_TABLE_SHIFT = np.uint64(33)  # keep the high bits of a multiplicative hash (tables < 2**31)


# ------------------------------------------------------------------------------------------------
# Hash table: non-negative int64 key -> int64 value (linear probing, size a power of two)


def new_key_table(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Empty ``(keys, values)`` arrays of ``size`` slots (a power of two)."""
    return np.full(size, EMPTY, dtype=np.int64), np.full(size, EMPTY, dtype=np.int64)


@numba.njit(cache=True)
def key_position(keys, key):
    """Slot holding ``key``, or the empty slot where it would go."""
    mask = keys.shape[0] - 1
    h = np.int64((np.uint64(key) * GOLDEN) >> _TABLE_SHIFT) & mask
    while keys[h] != EMPTY and keys[h] != key:
        h = (h + 1) & mask
    return h


@numba.njit(cache=True)
def rehash_keys(old_keys, old_values, keys, values):
    """Insert every entry of the old table into the (larger, empty) new one."""
    for i in range(old_keys.shape[0]):
        if old_keys[i] != EMPTY:
            h = key_position(keys, old_keys[i])
            keys[h] = old_keys[i]
            values[h] = old_values[i]


# ------------------------------------------------------------------------------------------------
# Hash table: labelset -> class id. The labelsets themselves are stored CSR-like: class c has the
# labels class_labels[class_ptr[c]:class_ptr[c + 1]].


@numba.njit(cache=True)
def _labelset_hash(labels, start, stop):
    h = _FNV_OFFSET
    for j in range(start, stop):
        h = (h ^ np.uint64(labels[j])) * _FNV_PRIME
    return h


@numba.njit(cache=True)
def _table_start(h, mask):
    return np.int64(h >> _TABLE_SHIFT) & mask


@numba.njit(cache=True)
def _same_labelset(class_labels, start, stop, labelset):
    if stop - start != labelset.shape[0]:
        return False
    for j in range(labelset.shape[0]):
        if class_labels[start + j] != labelset[j]:
            return False
    return True


@numba.njit(cache=True)
def class_of(class_table, class_ptr, class_labels, n_classes, labelset):
    """Class id of ``labelset``, registering it as class ``n_classes`` (the next one) if it is new
    (the caller then counts one more class). The caller guarantees room for one more class in
    ``class_ptr``, ``class_labels`` and ``class_table``.
    """
    mask = class_table.shape[0] - 1
    h = _table_start(_labelset_hash(labelset, 0, labelset.shape[0]), mask)
    while class_table[h] != EMPTY:
        c = class_table[h]
        if _same_labelset(class_labels, class_ptr[c], class_ptr[c + 1], labelset):
            return c
        h = (h + 1) & mask
    c = n_classes
    start = class_ptr[c]
    for j in range(labelset.shape[0]):
        class_labels[start + j] = labelset[j]
    class_ptr[c + 1] = start + labelset.shape[0]
    class_table[h] = c
    return c


@numba.njit(cache=True)
def rehash_labelsets(class_ptr, class_labels, n_classes, class_table):
    """Fill an empty ``class_table`` with classes ``0..n_classes-1``."""
    mask = class_table.shape[0] - 1
    for c in range(n_classes):
        h = _table_start(_labelset_hash(class_labels, class_ptr[c], class_ptr[c + 1]), mask)
        while class_table[h] != EMPTY:
            h = (h + 1) & mask
        class_table[h] = c


@numba.njit(cache=True)
def label_errors(proba, positives):
    """Labels that ``proba > 0.5`` gets wrong against ``positives`` (sorted ids below
    ``len(proba)``): false positives plus false negatives. 0 is an exact match."""
    wrong = 0
    p = 0
    n_pos = positives.shape[0]
    for j in range(proba.shape[0]):
        relevant = p < n_pos and positives[p] == j
        if relevant:
            p += 1
        if (proba[j] > 0.5) != relevant:
            wrong += 1
    return wrong



@numba.njit(cache=True)
def also_errors(also, positives):
    """:func:`label_errors` of the prediction ``also``, -1 if it is empty."""
    return label_errors(also, positives) if also.shape[0] else -1


@numba.njit(cache=True)
def sigmoid(z):
    """1 / (1 + e^-z), written so that neither branch overflows."""
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@numba.njit(cache=True)
def dense_record(idx, val, width):
    """A sparse record as a dense array of ``width`` values (absent features 0; ids at or beyond
    ``width`` dropped)."""
    x = np.zeros(width)
    for j in range(idx.shape[0]):
        if idx[j] < width:
            x[idx[j]] = val[j]
    return x
