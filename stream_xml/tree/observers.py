"""Per-leaf attribute observers of MLHAT under sparse semantics: Gaussian per feature and key,
whose explicit counts also give a 0/1 feature's exact split (the features declared nominal,
see :mod:`stream_xml.tree.observer_kernels`).

The arrays grow on demand (features by half again, keys as needed); the work is done by the
kernels of :mod:`stream_xml.tree.observer_kernels`, one call per record, one per split search
and one per naive-Bayes prediction.

>>> import numpy as np
>>> from stream_xml.tree.observers import GaussianObservers
>>> obs, stats = GaussianObservers(), np.zeros(2)
>>> for v, positives in [(1.0, [0]), (2.0, [0]), (8.0, [1]), (9.0, [1])]:
...     stats = obs.update(stats, np.array([3]), np.array([v]), np.array(positives), 1.0)
>>> stats.tolist()
[4.0, 0.0, 2.0, 2.0]
>>> merit, threshold = obs.best_splits(2.0, 10, 0.01)
>>> int(np.argmax(merit)), float(merit.max()), round(float(threshold[3]), 2)
(3, 2.0, 2.45)

A record that lacks feature 3 counts as a 0 for it:

>>> stats = obs.update(stats, np.array([], dtype=np.int64), np.array([]), np.array([0]), 1.0)
>>> obs.gaussian(3, 2)  # weight, mean, sd, min, max of label 0
(3.0, 1.0, 1.0, 0.0, 2.0)

References
----------
Welford, B. P. (1962). Note on a method for calculating corrected sums of squares and
products. Technometrics 4(3), 419-420.

Esteban, A., Cano, A., Zafra, A. and Ventura, S. (2024). Hoeffding adaptive trees for
multi-label classification on data streams. Knowledge-Based Systems 304, 112561.

"""

from __future__ import annotations

import numpy as np

from stream_xml.tree.observer_kernels import (
    best_splits,
    key_gaussians,
    naive_bayes,
    new_moments,
    observe,
    post_split,
)

__all__ = ["GaussianObservers", "NO_NOMINAL"]

#: The nominal flags of a tree that knows of no nominal feature.
NO_NOMINAL = np.zeros(0, dtype=np.uint8)


def grown_vector(a: np.ndarray, size: int) -> np.ndarray:
    """``a`` padded with zeros to ``size`` entries (returned as is when long enough)."""
    if a.shape[0] >= size:
        return a
    out = np.zeros(size)
    out[: a.shape[0]] = a
    return out


class GaussianObservers:
    """Weighted Gaussian estimators per (feature column, key) of one leaf; their counts of
    explicit values are the counts of a 0/1 feature's ones.

    Keys are ``[total, ∅, label 0, ...]``. Only explicit (non-zero) values are stored; the
    implicit zeros of each key are merged in when splits are evaluated.

    Parameters
    ----------
    n_features
        Initial number of feature rows.
    n_keys
        Initial number of keys (labels + 2).

    """

    def __init__(self, n_features: int = 0, n_keys: int = 2):
        self.moments = new_moments(n_features, n_keys)
        self.key_weight = np.zeros(n_keys)

    def update(self, stats, idx, val, positives, w) -> np.ndarray:
        """Observe one record and add it to the leaf distribution ``stats``.

        Returns ``stats``, enlarged if the record brought new labels.
        """
        n_features, n_keys = observe(stats, self.moments, self.key_weight, idx, val, positives, w)
        if n_keys:
            stats = grown_vector(stats, n_keys)
            self._grow(n_features, n_keys)
            observe(stats, self.moments, self.key_weight, idx, val, positives, w)
        return stats

    def _grow(self, n_features: int, n_keys: int) -> None:
        rows, _, keys = self.moments.shape
        if n_features <= rows and n_keys <= keys:
            return
        if n_features > rows:
            rows = max(n_features, rows + rows // 2)
        keys = max(keys, n_keys)
        moments = new_moments(rows, keys)
        moments[: self.moments.shape[0], :, : self.moments.shape[2]] = self.moments
        self.moments = moments
        self.key_weight = grown_vector(self.key_weight, keys)

    def best_splits(self, pre_entropy: float, n_split_points: int, min_branch_fraction: float,
                    nominal: np.ndarray = NO_NOMINAL, binary: bool = False):  # fmt: skip
        """``(merit, threshold)`` of the best split of every feature row (-inf / NaN if none);
        features flagged in ``nominal`` (and, with ``binary``, those whose values the leaf has seen
        are all 0 or 1) are split at 0.5 and judged by counts
        (:func:`~stream_xml.tree.observer_kernels.best_splits`)."""
        return best_splits(
            self.moments, self.key_weight, pre_entropy, n_split_points, min_branch_fraction, nominal, binary
        )

    def naive_bayes(self, idx, val, n_labels: int, nominal: np.ndarray = NO_NOMINAL, binary: bool = False) -> np.ndarray:
        """P(label = 1) for labels ``0..n_labels-1`` by naive Bayes over the observed features:
        Gaussian, Bernoulli for the counted ones (``nominal``, ``binary`` as in :meth:`best_splits`;
        :func:`~stream_xml.tree.observer_kernels.naive_bayes`)."""
        return naive_bayes(self.moments, self.key_weight, idx, val, n_labels, nominal, binary)

    def post_split(self, feature: int, threshold: float, nominal: np.ndarray = NO_NOMINAL, binary: bool = False):
        """``(left, right)`` label distributions of ``x[feature] <= threshold``: counted for a
        feature :meth:`best_splits` counts, else estimated."""
        return post_split(self.moments, self.key_weight, feature, threshold, nominal, binary)

    def gaussian(self, feature: int, key: int) -> tuple[float, float, float, float, float]:
        """Weight, mean, standard deviation (ddof 1), min and max of one key's values of
        ``feature``, implicit zeros included."""
        rows, _, keys = self.moments.shape
        if key >= keys or self.key_weight[key] <= 0.0:
            return 0.0, 0.0, 0.0, 0.0, 0.0
        if feature >= rows:
            return float(self.key_weight[key]), 0.0, 0.0, 0.0, 0.0
        return tuple(float(a[key]) for a in key_gaussians(self.moments, self.key_weight, feature))

    @property
    def nbytes(self) -> int:
        return self.moments.nbytes + self.key_weight.nbytes
