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

"""

from __future__ import annotations

import numpy as np

__all__ = ["FeatureIndex"]


class FeatureIndex:
    """Growing map from feature names to column ids ``0..n-1``.

    Dense streams repeat the same keys: once two learned records in a row have the same key
    sequence, its columns are kept, so such records skip the per-key lookups (sparse streams,
    whose keys change from record to record, do not pay for building that cache).
    """

    _learned_keys: tuple | None = None  # class default: indexes pickled before it existed

    def __init__(self):
        self.names: list = []
        self._ids: dict = {}
        self._last_keys: tuple | None = None  # (keys, their columns sorted, sort order or None)
        self._learned_keys: tuple | None = None  # key sequence of the last learned record

    def __len__(self) -> int:
        return len(self.names)

    def encode(self, x: dict, learn: bool) -> tuple[np.ndarray, np.ndarray]:
        """``x`` as increasing int64 column ids and their non-zero float64 values; ``learn``
        registers new features."""
        keys = tuple(x)
        cached = self._last_keys
        if cached is not None and keys == cached[0]:
            values = np.fromiter(x.values(), dtype=np.float64, count=len(keys))
            columns, order = cached[1], cached[2]
            if order is not None:
                values = values[order]
            keep = values != 0.0
            return columns[keep], values[keep]
        encoded = self._encode_keys(x, learn)
        if not learn:
            return encoded
        repeated, self._learned_keys = keys == self._learned_keys, keys
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
        return encoded

    def _encode_keys(self, x: dict, learn: bool) -> tuple[np.ndarray, np.ndarray]:
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
        if new is not None:
            new.sort(key=lambda item: item[0])
            j = len(self.names)
            for _, name, v in new:
                if learn:
                    ids[name] = j
                    self.names.append(name)
                idx.append(j)
                val.append(v)
                ordered = ordered and j > last
                last = j
                j += 1
        idx_arr = np.array(idx, dtype=np.int64)
        val_arr = np.array(val, dtype=np.float64)
        if not ordered:
            order = np.argsort(idx_arr)
            idx_arr, val_arr = idx_arr[order], val_arr[order]
        return idx_arr, val_arr
