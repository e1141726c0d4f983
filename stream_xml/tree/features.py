"""The tree's own feature index: feature names <-> dense column ids, and records as sparse arrays.

A feature gets a column the first time it arrives with a non-zero value while learning (a zero
is the same as an absent feature); new features of one record get ids in the order of their
names, so ids never depend on dict order.

>>> from stream_xml.tree.features import FeatureIndex
>>> index = FeatureIndex()
>>> index.encode({"b": 2.0, "a": 1.0, "z": 0.0}, learn=True)
(array([0, 1]), array([1., 2.]))
>>> index.names, len(index)
(['a', 'b'], 2)

When not learning, unknown features get provisional ids past the known ones and are not kept:

>>> index.encode({"c": 5.0, "b": 3.0}, learn=False)
(array([1, 2]), array([3., 5.]))
>>> len(index)
2

Values a tree cannot digest (NaN, infinities, magnitudes beyond ``stream_xml.base.MAX_ABS_VALUE``,
whose squares overflow the trees' statistics) are refused before any state changes:

>>> index.encode({"a": 1e308}, learn=True)
Traceback (most recent call last):
...
ValueError: feature 'a' has value 1e+308, beyond ±1e+100 (the largest magnitude the models digest)

"""

from __future__ import annotations

import struct
import typing

import numpy as np
from numba import njit

from stream_xml.base import MAX_ABS_VALUE, refuse_undigestible

__all__ = ["FeatureIndex"]


@njit(cache=True)
def _within(values: np.ndarray, limit: float) -> bool:
    """True when every value is within ``±limit`` (False for NaN and infinities)."""
    for v in values:
        if not abs(v) <= limit:
            return False
    return True


def _refuse(x: dict) -> typing.NoReturn:
    """The model boundary: refuse a record whose values would put NaN or overflow into a tree
    (called when :func:`_within` says no, or a value does not convert)."""
    refuse_undigestible(x)  # says which feature
    raise ValueError("a feature value is not a finite number")

_PACKERS: dict = {}  # number of values -> struct.Struct packing that many doubles


def _as_float64(raw: tuple) -> np.ndarray:
    """``np.array(raw, dtype=np.float64)``, twice as fast for the floats and ints of a dense
    record (packed as C doubles, then viewed); other values take numpy's own conversion.

    >>> _as_float64((1, 2.5, True)), _as_float64(("1.5", 2))
    (array([1. , 2.5, 1. ]), array([1.5, 2. ]))

    """
    packer = _PACKERS.get(len(raw))
    if packer is None:
        packer = _PACKERS[len(raw)] = struct.Struct(f"{len(raw)}d")
    try:
        return np.frombuffer(bytearray(packer.pack(*raw)), dtype=np.float64)
    except (struct.error, TypeError):  # e.g. numeric strings, which numpy parses
        return np.array(raw, dtype=np.float64)


class FeatureIndex:
    """Growing map from feature names to column ids ``0..n-1``.

    Dense streams repeat the same keys: once two learned records in a row have the same key
    sequence, its columns are kept, so such records skip the per-key lookups (sparse streams,
    whose keys change from record to record, do not pay for building that cache). A record
    learned right after it was predicted (same keys, same values, no feature registered in
    between) gets the arrays of its prediction back, its new features registered under the ids
    the prediction gave them.
    """

    def __init__(self):
        self.names: list = []
        self._ids: dict = {}
        self._last_keys: tuple | None = None  # (keys, their columns sorted, sort order or None)
        self._learned_keys: tuple | None = None  # key sequence of the last learned record
        # (keys, values, features known, encoding, new names) of the last record encoded unlearned
        self._last_query: tuple | None = None

    def __len__(self) -> int:
        return len(self.names)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_last_query"] = None  # a cache of the record at hand: predicting changes no state
        return state

    def encode(self, x: dict, learn: bool) -> tuple[np.ndarray, np.ndarray]:
        """``x`` as increasing int64 column ids and their non-zero float64 values; ``learn``
        registers new features."""
        keys = tuple(x)
        if learn:
            query, self._last_query = self._last_query, None
            if query is not None and query[0] == keys and query[2] == len(self.names) and query[1] == tuple(x.values()):
                for name in query[4]:  # the ids the prediction gave them
                    self._ids[name] = len(self.names)
                    self.names.append(name)
                self._note_learned_keys(keys)
                return query[3]
        cached = self._last_keys
        raw = None
        if cached is not None and keys == cached[0]:
            raw = tuple(x.values())
            try:
                values = _as_float64(raw)
            except OverflowError:  # an integer too large for a float
                _refuse(x)
            columns, order = cached[1], cached[2]
            if order is not None:
                values = values[order]
            if not _within(values, MAX_ABS_VALUE):
                _refuse(x)
            if np.count_nonzero(values) == values.shape[0]:  # dense: no zero to drop
                encoded, new = (columns, values), ()
            else:
                keep = values != 0.0
                encoded, new = (columns[keep], values[keep]), ()
        else:
            try:
                *encoded, new = self._encode_keys(x, learn)
            except OverflowError:
                _refuse(x)
            encoded = tuple(encoded)
        if learn:
            self._note_learned_keys(keys)
        else:
            self._last_query = (keys, raw if raw is not None else tuple(x.values()), len(self.names), encoded, new)
        return encoded

    def _note_learned_keys(self, keys: tuple) -> None:
        """Cache the columns of ``keys`` when a second learned record in a row has them."""
        repeated, self._learned_keys = keys == self._learned_keys, keys
        if self._last_keys is not None and self._last_keys[0] == keys:
            return
        ids = self._ids
        # Only keys that all have a column can be cached (a zero does not register a feature).
        if repeated and all(k in ids for k in keys):
            columns = np.array([ids[k] for k in keys], dtype=np.int64)
            order = np.argsort(columns, kind="stable")
            if np.all(order == np.arange(len(keys))):
                order = None
            else:
                columns = columns[order]
            self._last_keys = (keys, columns, order)

    def _encode_keys(self, x: dict, learn: bool) -> tuple[np.ndarray, np.ndarray, list]:
        """Ids and values as :meth:`encode` gives them, and the names of the features that got new
        ids (registered if ``learn``), in id order."""
        ids = self._ids
        idx, val, new = [], [], None
        last, ordered = -1, True
        for name, raw in x.items():
            v = float(raw)
            if v != 0.0:
                j = ids.get(name)
                if j is None:
                    if new is None:
                        new = []
                    new.append((str(name), name, v))
                    continue
                ordered = ordered and j > last
                last = j
                idx.append(j)
                val.append(v)
        names = ()
        if new is not None:
            new.sort(key=lambda item: item[0])
            names = [name for _, name, _ in new]
            j = len(self.names)
            for _, name, v in new:
                idx.append(j)
                val.append(v)
                ordered = ordered and j > last
                last = j
                j += 1
        idx_arr = np.array(idx, dtype=np.int64)
        val_arr = np.array(val, dtype=np.float64)
        if not _within(val_arr, MAX_ABS_VALUE):  # before the new features are registered
            _refuse(x)
        if learn:
            for name in names:
                ids[name] = len(self.names)
                self.names.append(name)
        if not ordered:
            order = np.argsort(idx_arr)
            idx_arr, val_arr = idx_arr[order], val_arr[order]
        return idx_arr, val_arr, names
