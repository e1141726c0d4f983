"""Bagged logistic binary relevance, the other learned leaf model of MLHAT.

>>> import numpy as np
>>> from stream_xml.tree.bagging import BaggedLogisticBR
>>> br = BaggedLogisticBR(seed=1)
>>> br.learn(np.array([4, 90]), np.array([1.0, 2.0]), np.array([0, 2]), 3)
>>> [round(float(p), 3) for p in br.predict_proba(np.array([4, 90]), np.array([1.0, 2.0]), 3)]
[0.715, 0.0, 0.681]

References
----------
Oza, N. C. and Russell, S. (2001). Online bagging and boosting. Proc. AISTATS 2001, 105-112.
"""

from __future__ import annotations

import numpy as np

from stream_xml.tree.bagging_kernels import (
    BAD_POSITIVES,
    ENSEMBLES,
    br_learn,
    br_predict,
    br_score_and_learn,
    new_rng_state,
)
from stream_xml.tree.common_kernels import EMPTY, new_key_table, rehash_keys
from stream_xml.tree.leaf_arrays import NO_PROBA, ScoredLeafModel, grown, resized, sum_nbytes

__all__ = ["BaggedLogisticBR"]

_NO_LOGITS = np.zeros(0)


class BaggedLogisticBR(ScoredLeafModel):
    """Binary relevance of online-bagged logistic regressions (Oza bagging, SGD on log loss).

    A label gets its ensemble of ``n_models`` logistic regressions the first time it is positive;
    from then on every record trains it (positive or negative). Until then the label predicts
    P(1) = 0. Each member learns a record ``k ~ Poisson(1)`` times (``k = 1`` for every member
    when ``bootstrap`` is False); one learning step is plain SGD on the log loss from zero weights,
    ``w -= lr * (p - y) * x`` on the record's non-zero features and
    ``b -= intercept_lr * (p - y)``, with no regularisation and no scaling. P(1) of a label with
    an ensemble is the mean of its members' sigmoids, as river's ``BaggingClassifier`` averages;
    a member that has not learned anything yet contributes 0.5.

    Weights are a ``(columns, ensembles, n_models)`` float64 array whose columns are the distinct
    features seen, in order of first sight (a hash table maps feature ids to columns), so memory
    grows with the features actually seen, not with the largest feature id; a record's non-zero
    features each read one contiguous block of all members' weights. Poisson draws come
    from one SplitMix64 generator seeded by ``seed``, in a fixed order (labels ascending, then
    members), so the model is deterministic given the seed and the stream.

    Parameters
    ----------
    n_models
        Ensemble members per label.
    lr
        SGD learning rate of the weights.
    intercept_lr
        Constant learning rate of the intercepts.
    seed
        Seed of the Poisson draws.
    bootstrap
        Draw each member's repeat count from Poisson(1); if False every member learns each record
        once (then all members are identical).

    Examples
    --------
    >>> import numpy as np
    >>> from stream_xml.tree.bagging import BaggedLogisticBR
    >>> model = BaggedLogisticBR(n_models=3, seed=1)
    >>> x_idx, x_val = np.array([2, 7]), np.array([1.0, -0.5])
    >>> model.predict_proba(x_idx, x_val, 3)
    array([0., 0., 0.])
    >>> for _ in range(20):
    ...     model.learn(x_idx, x_val, np.array([1]), n_labels=3)

    Labels 0 and 2 were never positive, so they have no ensemble:

    >>> p = model.predict_proba(x_idx, x_val, 3)
    >>> float(p[0]), bool(p[1] > 0.8), float(p[2])
    (0.0, True, 0.0)
    >>> model.labels_with_ensemble().tolist()
    [1]

    """

    def __init__(
        self,
        n_models: int = 10,
        lr: float = 0.3,
        intercept_lr: float = 0.01,
        seed: int = 0,
        bootstrap: bool = True,
    ):
        if n_models < 1:
            raise ValueError("n_models must be at least 1")
        self.n_models = n_models
        self.lr = float(lr)
        self.intercept_lr = float(intercept_lr)
        self.seed = seed
        self.bootstrap = bool(bootstrap)
        self._weights = np.zeros((16, 2, n_models))
        self._intercepts = np.zeros((2, n_models))
        self._slot_of_label = np.full(8, EMPTY, dtype=np.int64)
        self._feature_keys, self._feature_cols = new_key_table(32)
        self._counts = np.zeros(2, dtype=np.int64)  # ensembles, columns
        self._max_n_labels = 0  # labels ever in the label space: a bound on the ensembles
        self._rng_state = new_rng_state(seed)
        self._logits_of = None  # (idx, val, logits) of the last record predicted
        self._logits = np.empty(0)

    def learn(self, idx: np.ndarray, val: np.ndarray, positives: np.ndarray, n_labels: int) -> None:
        """One bagging step; ``positives`` are the relevant labels among ``0..n_labels-1``."""
        self._note_labels(n_labels)
        known, self._logits_of = self._logits_of, None
        logits = known[2] if known is not None and known[0] is idx and known[1] is val else _NO_LOGITS
        while True:
            status = br_learn(
                self._weights, self._intercepts, self._slot_of_label,
                self._feature_keys, self._feature_cols, self._counts, self._rng_state,
                idx, val, positives, n_labels, self.lr, self.intercept_lr, self.bootstrap, logits,
                self._max_n_labels,
            )  # fmt: skip
            if status == 0:
                return
            self._make_room(status, positives, idx, n_labels)

    def score_and_learn(self, idx: np.ndarray, val: np.ndarray, positives: np.ndarray, n_labels: int,
                        also: np.ndarray | None = None) -> tuple[int, int | None]:  # fmt: skip
        """``label_errors(idx, val, n_labels, positives)``, then ``learn(idx, val, positives,
        n_labels)``, in one kernel call; returns the label errors, and those of ``also`` (another
        P(1) array for this record) if given, else None."""
        self._note_labels(n_labels)  # labels without an ensemble score 0 either way
        wrong, also_wrong, status = br_score_and_learn(
            positives, *self._predict_args(idx, val, n_labels),
            self._rng_state, self.lr, self.intercept_lr, self.bootstrap, self._max_n_labels,
            NO_PROBA if also is None else also,
        )  # fmt: skip
        if status:
            self._make_room(status, positives, idx, n_labels)
            self.learn(idx, val, positives, n_labels)  # from the logits the scoring left
        else:
            self._logits_of = None
        return wrong, None if also is None else also_wrong

    def _note_labels(self, n_labels: int) -> None:
        """``n_labels`` labels may have an ensemble: room for them in the label slots."""
        if n_labels > self._max_n_labels:
            self._max_n_labels = n_labels
            if n_labels > self._slot_of_label.shape[0]:
                size = grown(self._slot_of_label.shape[0], n_labels)
                self._slot_of_label = resized(self._slot_of_label, (size,), EMPTY)

    def _make_room(self, status: int, positives: np.ndarray, idx: np.ndarray, n_labels: int) -> None:
        """Act on :func:`br_learn`'s return value ``status`` (not 0): raise, or grow the arrays."""
        if status == BAD_POSITIVES:
            raise ValueError(f"positives must be sorted local ids in [0, {n_labels})")
        self._reserve(positives.shape[0], idx.shape[0])

    def _reserve(self, new_ensembles: int, new_columns: int) -> None:
        """Make room for that many more ensembles (at most one per label) and columns."""
        n_ensembles, n_columns = self._counts.tolist()
        columns, slots, _ = self._weights.shape
        needed_slots = min(n_ensembles + new_ensembles, self._max_n_labels)
        needed_columns = n_columns + new_columns
        if needed_slots > slots or needed_columns > columns:
            if needed_slots > slots:
                slots = min(grown(slots, needed_slots), self._max_n_labels)
            if needed_columns > columns:
                columns = grown(columns, needed_columns)
            self._weights = resized(self._weights, (columns, slots, self.n_models), 0.0)
            self._intercepts = resized(self._intercepts, (slots, self.n_models), 0.0)
        if 2 * needed_columns > self._feature_keys.shape[0]:
            size = self._feature_keys.shape[0]
            while 2 * needed_columns > size:
                size *= 2
            keys, cols = new_key_table(size)
            rehash_keys(self._feature_keys, self._feature_cols, keys, cols)
            self._feature_keys, self._feature_cols = keys, cols

    def predict_proba(self, idx: np.ndarray, val: np.ndarray, n_labels: int) -> np.ndarray:
        """P(label = 1) for local labels ``0..n_labels-1``."""
        return br_predict(*self._predict_args(idx, val, n_labels))

    def _predict_args(self, idx, val, n_labels) -> tuple:
        # the record's logits, which learning it next would compute again (its arrays are kept
        # alive with them, so their identity names this record); one buffer serves every record,
        # as only the last record predicted keeps its logits
        logits = self._logits
        if logits.shape[0] != self._counts[ENSEMBLES] * self.n_models:
            logits = self._logits = np.empty(int(self._counts[ENSEMBLES]) * self.n_models)
        self._logits_of = (idx, val, logits)
        return (
            self._weights, self._intercepts, self._slot_of_label,
            self._feature_keys, self._feature_cols, self._counts, idx, val, n_labels, logits,
        )  # fmt: skip

    def labels_with_ensemble(self) -> np.ndarray:
        """Local label ids that have an ensemble (were positive at least once), ascending."""
        return np.flatnonzero(self._slot_of_label != EMPTY)

    def coefficients(self, label: int, n_features: int) -> tuple[np.ndarray, np.ndarray] | None:
        """``(intercepts, weights)`` of the label's members, shapes ``(n_models,)`` and
        ``(n_models, n_features)`` (features ``>= n_features`` left out); None without ensemble."""
        if label >= self._slot_of_label.shape[0] or self._slot_of_label[label] == EMPTY:
            return None
        s = self._slot_of_label[label]
        dense = np.zeros((self.n_models, n_features))
        used = (self._feature_keys != EMPTY) & (self._feature_keys < n_features)
        dense[:, self._feature_keys[used]] = self._weights[self._feature_cols[used], s, :].T
        return self._intercepts[s].copy(), dense

    def memory_bytes(self) -> int:
        """Bytes held by the model's arrays (not the buffer of the last record's logits)."""
        return sum_nbytes(self) - self._logits.nbytes

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_logits_of"] = None  # a cache of the record at hand
        state["_logits"] = np.empty(0)
        return state
