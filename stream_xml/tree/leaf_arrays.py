"""What the leaf models share (:mod:`stream_xml.tree.knn`, :mod:`stream_xml.tree.bagging`): their
arrays grow by copying into larger ones, their memory is their arrays', and they count the
label errors of their own predictions.

Both take a record as sparse arrays ``idx`` (int64 feature ids, no duplicates, any non-negative
value: the feature space may grow) and ``val`` (float64 values); absent features are 0. Labels are
the leaf's *local* ids ``0..n_labels-1``. Every array lives on the object (so both pickle) and
grows on demand before a kernel runs: one kernel call per ``learn`` and per ``predict_proba``.

>>> import numpy as np
>>> resized(np.arange(3), (5,), -1)
array([ 0,  1,  2, -1, -1])
>>> grown(8, 9), grown(8, 20)
(16, 20)

"""

from __future__ import annotations

import numpy as np

from stream_xml.tree.common_kernels import label_errors

__all__ = ["resized", "grown", "sum_nbytes", "ScoredLeafModel", "NO_PROBA"]

NO_PROBA = np.zeros(0)  # no other prediction to score along


def resized(a: np.ndarray, shape: tuple, fill) -> np.ndarray:
    """A copy of ``a`` enlarged to ``shape`` (no axis shrinks), new cells set to ``fill``."""
    # zeros come from fresh pages untouched until used: half the time of filling a large array
    out = np.zeros(shape, dtype=a.dtype) if fill == 0 else np.full(shape, fill, dtype=a.dtype)
    out[tuple(slice(0, n) for n in a.shape)] = a
    return out


def grown(current: int, needed: int) -> int:
    """Capacity after growth: at least double, at least ``needed``."""
    return max(needed, 2 * current)


def sum_nbytes(obj) -> int:
    return sum(v.nbytes for v in vars(obj).values() if isinstance(v, np.ndarray))


class ScoredLeafModel:
    """What the leaf models share: the label errors of their own prediction."""

    def label_errors(self, idx: np.ndarray, val: np.ndarray, n_labels: int, positives: np.ndarray) -> int:
        """Labels that ``predict_proba(...) > 0.5`` gets wrong against ``positives`` (sorted local
        ids); 0 is an exact match."""
        return label_errors(self.predict_proba(idx, val, n_labels), positives)
