"""The kNN label combination of MLHAT's leaves, and the distance memo its models share.

>>> import numpy as np
>>> from stream_xml.tree.knn import KnnLabelCombination
>>> knn = KnnLabelCombination(k=3)
>>> knn.learn(np.array([4, 90]), np.array([1.0, 2.0]), np.array([0, 2]))
>>> knn.predict_proba(np.array([4, 90]), np.array([1.0, 2.0]), 3)
array([1., 0., 1.])

References
----------
Esteban, A., Cano, A., Zafra, A. and Ventura, S. (2024). Hoeffding adaptive trees for
multi-label classification on data streams. Knowledge-Based Systems 304, 112561.
"""

from __future__ import annotations

import numpy as np

from stream_xml.tree.common_kernels import EMPTY, rehash_labelsets
from stream_xml.tree.knn_kernels import (
    CLASSES,
    NEEDS_CLASS_ROOM,
    NEEDS_F32_ROWS,
    RUN,
    SHARED_HEAD,
    STORED,
    UNFRAMED,
    f32_stride,
    knn_learn,
    knn_predict,
    knn_repack,
    knn_score_and_learn,
)
from stream_xml.tree.leaf_arrays import NO_PROBA, ScoredLeafModel, grown, resized, sum_nbytes

__all__ = ["DistanceMemo", "KnnLabelCombination", "SHARED_K"]

_NO_MEMO = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0), -1, np.zeros(0, dtype=np.int64),
            np.zeros(0))
#: The per-row arrays of a kNN ring, in the order of its ``rows`` array (``ROW_START`` ... in
#: :mod:`stream_xml.tree.knn_kernels`).
_RING_ROW_NAMES = ("_row_start", "_row_nnz", "_row_class", "_row_seq", "_row_run_first")
#: Largest ``k`` whose neighbours kNN models share through a memo.
SHARED_K = 16


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


class KnnLabelCombination(ScoredLeafModel):
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
    feature ids get. Dense data (records with non-zeros on at least half of the feature ids up
    to their largest, below 512) is also kept in float32, each row a column of one array over
    the feature ids (the frame, widened as such records show larger ids; zeros included), so
    that the dot products of a query with every row vectorise: a query within the frame first
    estimates its distances to the rows in it from float32 dot products, and measures in
    float64 only the rows that could be among the ``k`` nearest given the estimates' error
    bound, so predictions are exactly those of measuring every row.

    Parameters
    ----------
    k
        Number of neighbours.
    window
        Number of most recent records kept.

    Examples
    --------
    >>> import numpy as np
    >>> from stream_xml.tree.knn import KnnLabelCombination
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
        self._col_f32 = np.zeros((0, window), dtype=np.float32)  # the frame: rows for screening, one a column
        self._row_run_first = np.full(window, UNFRAMED, dtype=np.int64)  # first id of screened runs, or GAPPED
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
        return int(self._counts[STORED])

    @property
    def n_classes(self) -> int:
        """Distinct labelsets seen so far."""
        return int(self._counts[CLASSES])

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
            self._make_room(needed, idx, val, labelset)

    def score_and_learn(self, idx: np.ndarray, val: np.ndarray, labelset: np.ndarray, n_labels: int,
                        also: np.ndarray | None = None) -> tuple[int, int | None]:  # fmt: skip
        """``label_errors(idx, val, n_labels, labelset)``, then ``learn(idx, val, labelset)``, in
        one kernel call; returns the label errors, and those of ``also`` (another P(1) array for
        this record) if given, else None."""
        wrong, also_wrong, needed = knn_score_and_learn(
            labelset, *self._predict_args(idx, val, n_labels), self._class_table, NO_PROBA if also is None else also
        )  # fmt: skip
        if needed:
            self._make_room(needed, idx, val, labelset)
            self.learn(idx, val, labelset)
        return wrong, None if also is None else also_wrong

    def _make_room(self, needed: int, idx: np.ndarray, val: np.ndarray, labelset: np.ndarray) -> None:
        """Grow what :func:`knn_learn`'s return value ``needed`` says lacks room."""
        if needed == NEEDS_F32_ROWS:
            # widen the frame to the record's ids; the rows already in it keep their columns
            frame = np.zeros((f32_stride(int(idx[val != 0.0].max()) + 1), self.window), dtype=np.float32)
            frame[: self._col_f32.shape[0]] = self._col_f32
            self._col_f32 = frame
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
        n_classes = int(self._counts[CLASSES])
        if n_classes + 2 > self._class_ptr.shape[0]:
            size = grown(self._class_ptr.shape[0], n_classes + 2)
            self._class_ptr = resized(self._class_ptr, (size,), 0)
        used = int(self._class_ptr[n_classes])
        if used + n_labels_in_set > self._class_labels.shape[0]:
            size = grown(self._class_labels.shape[0], used + n_labels_in_set)
            self._class_labels = resized(self._class_labels, (size,), 0)
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
        state["_counts"][RUN] = 0
        del state["_rows"]  # pickled as the five arrays it holds
        return state

    def __setstate__(self, state):
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
        return sum_nbytes(self) - self._rows.nbytes
