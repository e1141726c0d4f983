"""Feature names to dense ids, and a record to sorted (ids, values) arrays, for sparse records.

Ids are given in order of first sight while learning; the new names of one record are ordered by
``(str(name), type name)``, so ids never depend on the order of a record's keys, and a zero is
the same as an absent feature. The ids feed the weight table's hash (no Python ``hash()``, which
is salted per process), so a model gives the same weights in every process. Memory is one dict
entry per feature: O(features), never features x labels.

While predicting, unknown features get provisional ids past the known ones (the kernels skip
them, but they count in the record's norm); learning the same record right after its prediction
registers them under those ids and hands back the prediction's arrays (the learning kernel then
recognises the logits the search cached by the identity of the arrays).

>>> from stream_xml.labeltree.features import FeatureEncoder
>>> encoder = FeatureEncoder()
>>> encoder.encode({"b": 2.0, "a": 1.0, "z": 0.0}, learn=True)
(array([0, 1]), array([1., 2.]))
>>> x = {"c": 5.0, "b": 3.0}
>>> predicted = encoder.encode(x, learn=False)
>>> predicted, len(encoder)
((array([1, 2]), array([3., 5.])), 2)
>>> encoder.encode(x, learn=True) is predicted, encoder.names
(True, ['a', 'b', 'c'])

A record with a value no model digests is refused (the model boundary of
:func:`stream_xml.base.refuse_undigestible`):

>>> encoder.encode({"a": float("nan")}, learn=True)
Traceback (most recent call last):
...
ValueError: feature 'a' is not finite (nan)

This encoder is tuned for sparse records (it does in list comprehensions and numpy what
:class:`stream_xml.tree.features.FeatureIndex` does key by key, with that class's rules): the
label tree is meant for text-like streams of tens to hundreds of non-zeros among 10^4-10^5 words.
"""

from __future__ import annotations

import numba
import numpy as np

from stream_xml.base import refuse_undigestible

__all__ = ["FeatureEncoder"]


@numba.njit(cache=True)
def _sorted_nonzero(idx, values):
    """``idx`` and ``values`` without the zero values (whose ids may be -1), in increasing id
    order; the arrays themselves when they already are."""
    n = idx.shape[0]
    clean = True
    for t in range(n):
        if values[t] == 0.0 or (t > 0 and idx[t] <= idx[t - 1]):
            clean = False
            break
    if clean:
        return idx, values
    keep = values != 0.0
    idx = idx[keep]
    values = values[keep]
    order = np.argsort(idx, kind="mergesort")
    return idx[order], values[order]


def _order_key(name) -> tuple:
    return str(name), type(name).__name__


class FeatureEncoder:
    """Growing map from feature names to ids ``0..n-1``, and records to sparse arrays."""

    def __init__(self):
        self.names: list = []
        self._ids: dict = {}
        self._last: tuple | None = None  # (x, keys, values, known, encoding, new names) of a prediction

    def __len__(self) -> int:
        return len(self.names)

    def __getstate__(self):
        return {"names": list(self.names)}

    def __setstate__(self, state):
        self.names = list(state["names"])
        self._ids = {name: i for i, name in enumerate(self.names)}
        self._last = None

    def encode(self, x: dict, learn: bool) -> tuple[np.ndarray, np.ndarray]:
        """``x`` as increasing int64 ids and their non-zero float64 values; ``learn`` registers
        new features. A record with a value no model digests (not a number, NaN, infinite, beyond
        ``stream_xml.base.MAX_ABS_VALUE``) is refused with a ValueError naming the feature, before
        anything is registered."""
        if learn and self._last is not None:
            last, self._last = self._last, None
            if (last[0] is x and last[3] == len(self.names) and last[1] == tuple(x)
                    and last[2] == tuple(x.values())):
                for name in last[5]:
                    self._ids[name] = len(self.names)
                    self.names.append(name)
                return last[4]
        refuse_undigestible(x)
        keys = list(x)
        values = np.fromiter(x.values(), dtype=np.float64, count=len(keys))
        get = self._ids.get
        ids = [get(k, -1) for k in keys]
        new_names = ()
        if -1 in ids:
            new_names = sorted((k for k, i, v in zip(keys, ids, values.tolist()) if i < 0 and v != 0.0),
                               key=_order_key)
            start = len(self.names)
            rank = {name: start + r for r, name in enumerate(new_names)}
            ids = [rank.get(k, -1) if i < 0 else i for k, i in zip(keys, ids)]
            if learn:
                for name in new_names:
                    self._ids[name] = len(self.names)
                    self.names.append(name)
        idx, values = _sorted_nonzero(np.array(ids, dtype=np.int64), values)
        encoded = (idx, values)
        if not learn:
            self._last = (x, tuple(keys), tuple(x.values()), len(self.names), encoded, new_names)
        return encoded

    def memory_bytes(self) -> int:
        """An estimate: a dict entry and a list slot per name, plus a short name object."""
        return 120 * len(self.names)
