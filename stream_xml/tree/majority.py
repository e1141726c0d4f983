"""The majority-labelset leaf model of MLHAT.

It also counts the distinct labelsets a leaf has seen, which sets the range of the Hoeffding
bound (:mod:`stream_xml.tree.entropy`) and tells a pure leaf (at most one labelset) from a mixed one.

>>> import numpy as np
>>> from stream_xml.tree.majority import MajorityLabelset
>>> model = MajorityLabelset()
>>> model.predict_proba(3)
array([0., 0., 0.])
>>> model.learn(np.array([0, 2]), 2.0)
>>> model.learn(np.array([1]))
>>> model.predict_proba(3), model.n_labelsets
(array([1., 0., 1.]), 2)

Weights decide, and the first labelset to reach the top keeps it on a tie:

>>> model.learn(np.array([1]))
>>> model.predict_proba(3)
array([1., 0., 1.])
>>> model.learn(np.array([1]))
>>> model.predict_proba(4)
array([0., 1., 0., 0.])

References
----------
Esteban, A., Cano, A., Zafra, A. and Ventura, S. (2024). Hoeffding adaptive trees for
multi-label classification on data streams. Knowledge-Based Systems 304, 112561.

"""

from __future__ import annotations

import numpy as np

__all__ = ["MajorityLabelset"]


class MajorityLabelset:
    """Weight of every distinct labelset seen; predicts the heaviest one.

    Labelsets are sorted int64 arrays of label ids (empty = no positive label). The prediction
    is probability 1 for every label of the majority labelset and 0 for the others; before any
    record it is all zeros.
    """

    def __init__(self):
        self._index: dict[bytes, int] = {}
        self.labelsets: list[np.ndarray] = []
        self.weights: list[float] = []
        self._best = -1
        self._proba = None  # (majority labelset id, its prediction), for the leaves asked every record
        #: Number of distinct labelsets seen (an attribute, not a property: the trees read it
        #: several times a record).
        self.n_labelsets = 0

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_proba"] = None
        return state

    def learn(self, labelset: np.ndarray, weight: float = 1.0) -> None:
        """Count one record whose positive labels are ``labelset`` (sorted ids)."""
        key = labelset.tobytes()
        i = self._index.get(key)
        if i is None:
            i = len(self.labelsets)
            self._index[key] = i
            self.labelsets.append(np.array(labelset, dtype=np.int64))
            self.weights.append(0.0)
            self.n_labelsets = i + 1
        self.weights[i] += weight
        if self._best < 0 or self.weights[i] > self.weights[self._best]:
            self._best = i

    @property
    def majority_weight(self) -> float:
        """Weight of the heaviest labelset (0 before any record)."""
        return self.weights[self._best] if self._best >= 0 else 0.0

    def majority(self) -> np.ndarray | None:
        """The heaviest labelset, or None before any record."""
        return self.labelsets[self._best] if self._best >= 0 else None

    def predict_proba(self, n_labels: int) -> np.ndarray:
        """P(label = 1) for labels ``0..n_labels-1``. The array is kept and handed out again
        while the answer stays the same: callers must not change it."""
        cached = self._proba
        if cached is not None and cached[0] == self._best and cached[1].shape[0] == n_labels:
            return cached[1]
        out = np.zeros(n_labels)
        if self._best >= 0:
            labelset = self.labelsets[self._best]
            out[labelset[labelset < n_labels]] = 1.0
        self._proba = (self._best, out)
        return out

    def memory_bytes(self) -> int:
        return sum(ls.nbytes for ls in self.labelsets) + 8 * len(self.weights)
