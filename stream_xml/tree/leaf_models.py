"""The two learned leaf models of MLHAT (spec §6.7): kNN label combination and bagged logistic BR.

Both take a record as sparse arrays ``idx`` (int64 feature ids, no duplicates, any non-negative
value: the feature space may grow) and ``val`` (float64 values); absent features are 0. Labels are
the leaf's *local* ids ``0..n_labels-1``. Every array lives on the object (so both pickle) and
grows on demand before a kernel of :mod:`stream_xml.tree.leaf_kernels` runs: one kernel call per
``learn`` and per ``predict_proba``.

>>> import numpy as np
>>> from stream_xml.tree.leaf_models import BaggedLogisticBR, KnnLabelCombination
>>> x_idx, x_val, relevant = np.array([4, 90]), np.array([1.0, 2.0]), np.array([0, 2])
>>> knn = KnnLabelCombination(k=3)
>>> knn.learn(x_idx, x_val, relevant)
>>> knn.predict_proba(x_idx, x_val, 3)
array([1., 0., 1.])
>>> br = BaggedLogisticBR(seed=1)
>>> br.learn(x_idx, x_val, relevant, 3)
>>> [round(float(p), 3) for p in br.predict_proba(x_idx, x_val, 3)]
[0.715, 0.0, 0.681]

"""

from __future__ import annotations

import numpy as np

from stream_xml.tree.leaf_kernels import (
    BAD_POSITIVES,
    EMPTY,
    NEEDS_CLASS_ROOM,
    NEEDS_F32_ROWS,
    SHARED_HEAD,
    br_learn,
    br_predict,
    br_score_and_learn,
    f32_stride,
    knn_learn,
    knn_predict,
    knn_repack,
    knn_score_and_learn,
    label_errors,
    new_key_table,
    new_rng_state,
    rehash_keys,
    rehash_labelsets,
)

__all__ = ["DistanceMemo", "KnnLabelCombination", "BaggedLogisticBR"]


def _resized(a: np.ndarray, shape: tuple, fill) -> np.ndarray:
    """A copy of ``a`` enlarged to ``shape`` (no axis shrinks), new cells set to ``fill``."""
    out = np.full(shape, fill, dtype=a.dtype)
    out[tuple(slice(0, n) for n in a.shape)] = a
    return out


def _grown(current: int, needed: int) -> int:
    """Capacity after growth: at least double, at least ``needed``."""
    return max(needed, 2 * current)


def _sum_nbytes(obj) -> int:
    return sum(v.nbytes for v in vars(obj).values() if isinstance(v, np.ndarray))


_NO_MEMO = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0), -1, np.zeros(0, dtype=np.int64),
            np.zeros(0))
#: The per-row arrays of a kNN ring, in the order of its ``rows`` array (``leaf_kernels._ring_rows``).
_RING_ROW_NAMES = ("_row_start", "_row_nnz", "_row_class", "_row_seq", "_row_run_first")
#: Largest ``k`` whose neighbours kNN models share through a memo.
SHARED_K = 16
_NO_LOGITS = np.zeros(0)
_NO_PROBA = np.zeros(0)  # no other prediction to score along


class DistanceMemo:
    """Squared distances from the record at hand to stored records, shared by kNN models.

    Each record a kNN model stores gets a number: the number of its encoded arrays here. Models
    that share a memo (the leaves of every tree of an iHOMER) look a stored record's distance to
    the query up before computing it, so a record held by many leaves, as recent records are in
    every block's tree, costs one distance per query instead of one per leaf. Records are told
    apart by the identity of their ``(idx, val)`` arrays, which the trees share and never change;
    the memo keeps the last pair alive so that identity cannot be reused. Slots are
    ``number % size``; a slot holding another record or query is recomputed and overwritten.
    The memo also holds the neighbours of the last query ranked by a model whose rows are
    records numbered one after the other, for another model holding the same records (and
    asked for the same ``k``, at most :data:`SHARED_K`) to take.

    >>> import numpy as np
    >>> memo = DistanceMemo(size=8)
    >>> a = (np.array([0]), np.array([1.0]))
    >>> memo.number(*a), memo.number(*a), memo.number(np.array([0]), np.array([1.0]))
    (1, 1, 2)

    """

    def __init__(self, size: int = 1 << 13):
        self.seq = np.full(size, -1, dtype=np.int64)    # record number whose distance is held
        self.query = np.full(size, -1, dtype=np.int64)  # query it was measured from
        self.d2 = np.zeros(size)  # float64 squared distance
        # query, newest record, records, k, neighbours, their record numbers; their distances
        self.shared = np.full(SHARED_HEAD + SHARED_K, -1, dtype=np.int64)
        self.shared_d2 = np.zeros(SHARED_K)
        self._last = None
        self._n = 0

    def number(self, idx: np.ndarray, val: np.ndarray) -> int:
        """The number of the record encoded as ``(idx, val)`` (a new one for new arrays)."""
        last = self._last
        if last is None or last[0] is not idx or last[1] is not val:
            self._n += 1
            self._last = (idx, val)
        return self._n

    def __getstate__(self):
        # a cache: pickles carry an empty memo (and the models their rows without numbers)
        return {"size": self.seq.shape[0]}

    def __setstate__(self, state):
        self.__init__(state["size"])

    def memory_bytes(self) -> int:
        return self.seq.nbytes + self.query.nbytes + self.d2.nbytes + self.shared.nbytes + self.shared_d2.nbytes


class _ScoredLeafModel:
    """What the leaf models share: the label errors of their own prediction."""

    def label_errors(self, idx: np.ndarray, val: np.ndarray, n_labels: int, positives: np.ndarray) -> int:
        """Labels that ``predict_proba(...) > 0.5`` gets wrong against ``positives`` (sorted local
        ids); 0 is an exact match."""
        return label_errors(self.predict_proba(idx, val, n_labels), positives)


class KnnLabelCombination(_ScoredLeafModel):
    """Label combination over a sliding-window kNN with inverse-distance votes.

    Each distinct labelset is one class (ids in order of first appearance, never dropped). The
    window keeps the last ``window`` records. Prediction looks at the ``k`` stored records
    nearest in Euclidean distance (all of them if fewer are stored): a record at distance 0
    (squared distance at most ``1e-12 * (|a|² + |b|² + 1)``, which absorbs rounding) gives its
    class probability 1 — the newest such record if there are several; otherwise each neighbour
    votes ``1/distance`` for its class and the votes are normalised. On equal distances the newer
    record is the nearer. P(label = 1) is the total probability of the classes whose labelset
    contains the label; an empty window predicts zeros.

    Storage is sparse: a ring of ``window`` rows, each its (feature id, value) pairs in increasing
    id order, packed one after the other in a pool of entries (rows are appended; when the pool
    is full the stored rows are repacked into a new pool twice their size), plus each row's squared
    norm. So memory follows the non-zeros actually stored, not the longest record, and a scan
    of the window reads contiguous memory. Distances are ``|a|² + |b|² - 2 a·b``; a dot product
    merges the row's and the query's sorted ids, so neither memory nor time depends on how large
    feature ids get. Dense rows (one run of ids) are also kept in float32, each a column of one
    array, so that the dot products of a query with every row vectorise: a query first
    estimates its distances to them from float32 dot products, and measures in float64 only
    the rows that could be among the ``k`` nearest given the estimates' error bound, so
    predictions are exactly those of measuring every row.

    Parameters
    ----------
    k
        Number of neighbours.
    window
        Number of most recent records kept.

    Examples
    --------
    >>> import numpy as np
    >>> from stream_xml.tree.leaf_models import KnnLabelCombination
    >>> model = KnnLabelCombination(k=2, window=3)
    >>> model.predict_proba(np.array([0]), np.array([1.0]), 3)
    array([0., 0., 0.])
    >>> model.learn(np.array([0, 5]), np.array([1.0, 1.0]), np.array([0]))
    >>> model.learn(np.array([5]), np.array([3.0]), np.array([1, 2]))

    An exact match decides alone:

    >>> model.predict_proba(np.array([0, 5]), np.array([1.0, 1.0]), 3)
    array([1., 0., 0.])

    Otherwise the neighbours at distances √2 and 1 share the votes 1/√2 : 1:

    >>> model.predict_proba(np.array([5]), np.array([2.0]), 3).round(4)
    array([0.4142, 0.5858, 0.5858])

    """

    def __init__(self, k: int = 4, window: int = 170, memo: DistanceMemo | None = None):
        if k < 1 or window < 1:
            raise ValueError("k and window must be at least 1")
        self.k = k
        self.window = window
        self.memo = memo
        self._pool_idx = np.zeros(64, dtype=np.int64)
        self._pool_val = np.zeros(64)
        self._row_start = np.zeros(window, dtype=np.int64)
        self._row_nnz = np.zeros(window, dtype=np.int64)
        self._row_sqnorm = np.zeros(window)
        self._row_class = np.zeros(window, dtype=np.int64)
        self._row_seq = np.full(window, -1, dtype=np.int64)  # record numbers in ``memo``
        self._col_f32 = np.zeros((0, window), dtype=np.float32)  # dense rows for screening, one a column
        self._row_run_first = np.full(window, -1, dtype=np.int64)  # first id of screened rows
        self._class_ptr = np.zeros(9, dtype=np.int64)
        self._class_labels = np.zeros(16, dtype=np.int64)
        self._class_table = np.full(16, EMPTY, dtype=np.int64)
        # next row, rows stored, classes, pool used, newest rows numbered one after the other
        self._counts = np.zeros(5, dtype=np.int64)
        self._pack_rows()

    def _pack_rows(self) -> None:
        """Put the five per-row int64 arrays in the rows of one array (a kernel takes it as one
        argument), each attribute becoming a view of its row."""
        self._rows = np.stack([getattr(self, name) for name in _RING_ROW_NAMES]).astype(np.int64, copy=False)
        for i, name in enumerate(_RING_ROW_NAMES):
            setattr(self, name, self._rows[i])

    @property
    def n_stored(self) -> int:
        """Records currently in the window."""
        return int(self._counts[1])

    @property
    def n_classes(self) -> int:
        """Distinct labelsets seen so far."""
        return int(self._counts[2])

    def labelset(self, cls: int) -> np.ndarray:
        """The labelset of class ``cls``."""
        return self._class_labels[self._class_ptr[cls] : self._class_ptr[cls + 1]].copy()

    def learn(self, idx: np.ndarray, val: np.ndarray, labelset: np.ndarray) -> None:
        """Store a record with its labelset (sorted int64 local label ids, possibly empty)."""
        seq = -1 if self.memo is None else self.memo.number(idx, val)
        while True:
            needed = knn_learn(self._pool_idx, self._pool_val, self._rows, self._row_sqnorm, self._col_f32,
                               self._class_ptr, self._class_labels, self._class_table, self._counts,
                               idx, val, labelset, seq)  # fmt: skip
            if not needed:
                return
            self._make_room(needed, val, labelset)

    def score_and_learn(self, idx: np.ndarray, val: np.ndarray, labelset: np.ndarray, n_labels: int,
                        also: np.ndarray | None = None) -> tuple[int, int | None]:  # fmt: skip
        """``label_errors(idx, val, n_labels, labelset)``, then ``learn(idx, val, labelset)``, in
        one kernel call; returns the label errors, and those of ``also`` (another P(1) array for
        this record) if given, else None."""
        wrong, also_wrong, needed = knn_score_and_learn(
            labelset, *self._predict_args(idx, val, n_labels), self._class_table, _NO_PROBA if also is None else also
        )  # fmt: skip
        if needed:
            self._make_room(needed, val, labelset)
            self.learn(idx, val, labelset)
        return wrong, None if also is None else also_wrong

    def _make_room(self, needed: int, val: np.ndarray, labelset: np.ndarray) -> None:
        """Grow what :func:`knn_learn`'s return value ``needed`` says lacks room."""
        if needed == NEEDS_F32_ROWS:
            self._col_f32 = np.zeros((f32_stride(int(np.count_nonzero(val))), self.window), dtype=np.float32)
        elif needed == NEEDS_CLASS_ROOM:
            self._reserve_class(labelset.shape[0])
        else:
            self._repack(max(64, 2 * needed))  # half free: the next repack is ``needed`` entries away

    def _repack(self, size: int) -> None:
        """Move the stored rows, oldest first, to the start of a pool of ``size`` entries: the
        pool itself when it has about that size (no new pages to fault in), else a new one."""
        args = (self._pool_idx, self._pool_val, self._row_start, self._row_nnz, self._counts)
        if size <= self._pool_idx.shape[0] <= 2 * size and knn_repack(*args, self._pool_idx, self._pool_val, True):
            return
        pool_idx, pool_val = np.zeros(size, dtype=np.int64), np.zeros(size)
        knn_repack(*args, pool_idx, pool_val, False)
        self._pool_idx, self._pool_val = pool_idx, pool_val

    def _reserve_class(self, n_labels_in_set: int) -> None:
        """Make room for one more class of ``n_labels_in_set`` labels."""
        n_classes = int(self._counts[2])
        if n_classes + 2 > self._class_ptr.shape[0]:
            size = _grown(self._class_ptr.shape[0], n_classes + 2)
            self._class_ptr = _resized(self._class_ptr, (size,), 0)
        used = int(self._class_ptr[n_classes])
        if used + n_labels_in_set > self._class_labels.shape[0]:
            size = _grown(self._class_labels.shape[0], used + n_labels_in_set)
            self._class_labels = _resized(self._class_labels, (size,), 0)
        if 2 * (n_classes + 1) > self._class_table.shape[0]:
            self._class_table = np.full(2 * self._class_table.shape[0], EMPTY, dtype=np.int64)
            rehash_labelsets(self._class_ptr, self._class_labels, n_classes, self._class_table)

    def predict_proba(self, idx: np.ndarray, val: np.ndarray, n_labels: int) -> np.ndarray:
        """P(label = 1) for local labels ``0..n_labels-1``."""
        return knn_predict(*self._predict_args(idx, val, n_labels))

    def _predict_args(self, idx, val, n_labels) -> tuple:
        return (
            self._pool_idx, self._pool_val, self._rows, self._row_sqnorm, self._col_f32,
            self._class_ptr, self._class_labels, self._counts, self.k, idx, val, n_labels,
            *self._memo_args(idx, val),
        )  # fmt: skip

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_row_seq"] = np.full(self.window, -1, dtype=np.int64)  # numbers of a memo not pickled
        state["_counts"] = self._counts.copy()
        state["_counts"][4] = 0
        del state["_rows"]  # pickled as the five arrays it holds
        return state

    def __setstate__(self, state):
        state.setdefault("memo", None)  # models pickled before the memo existed
        state.setdefault("_row_seq", np.full(state["window"], -1, dtype=np.int64))
        # pickled before float32 screening: no float32 rows, every row measured in float64
        if "_row_f32" in state:  # float32 rows one a row, before they were columns
            state["_col_f32"] = np.ascontiguousarray(state.pop("_row_f32").T)
        state.setdefault("_col_f32", np.zeros((0, state["window"]), dtype=np.float32))
        if "_row_f32ok" in state:  # a flag per row, before the rows' first ids were kept
            ok = state.pop("_row_f32ok")
            state["_row_run_first"] = np.where(ok, state["_pool_idx"][state["_row_start"]], -1)
        state.setdefault("_row_run_first", np.full(state["window"], -1, dtype=np.int64))
        if "_row_idx" in state:  # rows of a fixed stride, before the pool: pack them
            row_idx, row_val, nnz = state.pop("_row_idx"), state.pop("_row_val"), state["_row_nnz"]
            stored = [r for r in range(row_idx.shape[0]) if nnz[r] > 0]
            state["_row_start"] = np.zeros(row_idx.shape[0], dtype=np.int64)
            state["_row_start"][stored] = np.cumsum(nnz[stored]) - nnz[stored]
            state["_pool_idx"] = np.concatenate([np.zeros(0, dtype=np.int64)] + [row_idx[r, : nnz[r]] for r in stored])
            state["_pool_val"] = np.concatenate([np.zeros(0)] + [row_val[r, : nnz[r]] for r in stored])
            state["_counts"] = np.append(state["_counts"], int(nnz.sum()))
        if state["_counts"].shape[0] == 4:  # before runs of numbered rows were counted
            state["_counts"] = np.append(state["_counts"], 0)
        self.__dict__.update(state)
        self._pack_rows()

    def _memo_args(self, idx, val) -> tuple:
        memo = self.memo
        if memo is None:
            return _NO_MEMO
        return memo.seq, memo.query, memo.d2, memo.number(idx, val), memo.shared, memo.shared_d2

    def memory_bytes(self) -> int:
        """Bytes held by the model's arrays (a shared memo is counted by its owner; the per-row
        arrays once, not again as views)."""
        return _sum_nbytes(self) - self._rows.nbytes


class BaggedLogisticBR(_ScoredLeafModel):
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
    >>> from stream_xml.tree.leaf_models import BaggedLogisticBR
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
        self._layout = "columns-first"  # tells __setstate__ the weights need no transposing
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
            _NO_PROBA if also is None else also,
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
                size = _grown(self._slot_of_label.shape[0], n_labels)
                self._slot_of_label = _resized(self._slot_of_label, (size,), EMPTY)

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
                slots = min(_grown(slots, needed_slots), self._max_n_labels)
            if needed_columns > columns:
                columns = _grown(columns, needed_columns)
            self._weights = _resized(self._weights, (columns, slots, self.n_models), 0.0)
            self._intercepts = _resized(self._intercepts, (slots, self.n_models), 0.0)
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
        if logits.shape[0] != self._counts[0] * self.n_models:
            logits = self._logits = np.empty(int(self._counts[0]) * self.n_models)
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
        return _sum_nbytes(self) - self._logits.nbytes

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_logits_of"] = None  # a cache of the record at hand
        state["_logits"] = np.empty(0)
        return state

    def __setstate__(self, state):
        state.setdefault("_logits_of", None)
        state.setdefault("_logits", np.empty(0))
        if "_layout" not in state:  # pickled with (ensembles, n_models, columns) weights
            state["_weights"] = np.ascontiguousarray(state["_weights"].transpose(2, 0, 1))
        state["_layout"] = "columns-first"
        self.__dict__.update(state)
