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

Features declared nominal (:meth:`FeatureIndex.declare`: a source's ``{0,1}`` attributes and the
indicators of its other nominal ones) are flagged in ``nominal`` by column, which the trees'
split search reads; such a feature may only hold 0 or 1:

>>> index.declare({"a": "nominal", "c": "nominal"})
>>> index.nominal[:len(index)].tolist()
[1, 0]
>>> index.encode({"c": 2.0}, learn=True)
Traceback (most recent call last):
...
ValueError: feature 'c' is declared nominal (an indicator, 0 or 1) but has value 2.0

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

from stream_xml.base import FEATURE_KINDS, MAX_ABS_VALUE, NOMINAL, refuse_undigestible

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



@njit(cache=True)
def _first_bad_indicator(idx: np.ndarray, val: np.ndarray, flags: np.ndarray) -> int:
    """Position of the first value that is not 1 at a column flagged nominal (the encoding holds
    no zeros), or -1."""
    for j in range(idx.shape[0]):
        f = idx[j]
        if f < flags.shape[0] and flags[f] and val[j] != 1.0:
            return j
    return -1


def _refuse_indicator(name, value) -> typing.NoReturn:
    raise ValueError(f"feature {name!r} is declared nominal (an indicator, 0 or 1) but has value {value!r}")


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

    ``nominal`` flags the columns of the features declared nominal (1) by :meth:`declare`; it may
    be longer than the columns (the rest 0) and is empty while nothing is declared nominal.
    """

    def __init__(self):
        self.names: list = []
        self._ids: dict = {}
        self.nominal = np.zeros(0, dtype=np.uint8)
        self._nominal_names: set = set()
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

    def declare(self, kinds: typing.Mapping) -> None:
        """Take feature kinds declared up front: name -> ``"nominal"`` (an indicator, 0 or 1,
        whose splits are judged by counts) or ``"numeric"``. A feature declared twice takes its
        last kind; features never declared are numeric."""
        for name, kind in kinds.items():
            if kind not in FEATURE_KINDS:
                raise ValueError(f"feature {name!r}: kind {kind!r} is not one of {FEATURE_KINDS}")
            if kind == NOMINAL:
                self._nominal_names.add(name)
            else:
                self._nominal_names.discard(name)
        flags = np.zeros(len(self.names) if self._nominal_names else 0, dtype=np.uint8)
        for name in self._nominal_names:
            j = self._ids.get(name)
            if j is not None:
                flags[j] = 1
        self.nominal = flags

    def _register(self, name) -> None:
        """Give ``name`` the next column (flagged if declared nominal)."""
        j = len(self.names)
        self._ids[name] = j
        self.names.append(name)
        if name in self._nominal_names:
            if j >= self.nominal.shape[0]:
                flags = np.zeros(max(j + 1, 2 * self.nominal.shape[0]), dtype=np.uint8)
                flags[: self.nominal.shape[0]] = self.nominal
                self.nominal = flags
            self.nominal[j] = 1

    def _check_indicators(self, encoded: tuple) -> None:
        """Refuse a value other than 0 or 1 of a feature declared nominal (known columns)."""
        j = _first_bad_indicator(encoded[0], encoded[1], self.nominal)
        if j >= 0:
            _refuse_indicator(self.names[encoded[0][j]], float(encoded[1][j]))

    def encode(self, x: dict, learn: bool) -> tuple[np.ndarray, np.ndarray]:
        """``x`` as increasing int64 column ids and their non-zero float64 values; ``learn``
        registers new features."""
        keys = tuple(x)
        if learn:
            query, self._last_query = self._last_query, None
            if query is not None and query[0] == keys and query[2] == len(self.names) and query[1] == tuple(x.values()):
                for name in query[4]:  # the ids the prediction gave them
                    self._register(name)
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
            if self._nominal_names:
                self._check_indicators(encoded)
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
        if self._nominal_names:
            self._check_indicators((idx_arr, val_arr))
            for _, name, v in new or ():
                if name in self._nominal_names and v != 1.0:
                    _refuse_indicator(name, v)
        if learn:
            for name in names:
                self._register(name)
        if not ordered:
            order = np.argsort(idx_arr)
            idx_arr, val_arr = idx_arr[order], val_arr[order]
        return idx_arr, val_arr, names
