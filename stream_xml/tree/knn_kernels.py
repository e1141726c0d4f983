"""Numba kernels of :class:`~stream_xml.tree.knn.KnnLabelCombination`, which owns their arrays.

The window is a ring of ``window`` rows. Row ``r`` holds ``row_nnz[r]`` non-zeros in
``pool_idx[s:s + nnz]`` and ``pool_val[s:s + nnz]`` with ``s = row_start[r]``, its squared norm and
its class; the per-row int64 arrays are the rows of one array ``rows`` (:data:`ROW_START` ...
:data:`ROW_RUN_FIRST`), and ``counts`` holds the ring's numbers (:data:`NEXT_ROW` ...
:data:`RUN`). Classes are labelsets (:func:`stream_xml.tree.common_kernels.class_of`). The kernels
never grow an array: the owner makes room first, when a kernel says what it lacks.
"""

from __future__ import annotations

import collections
import math

import numba
import numpy as np

from stream_xml.tree.common_kernels import also_errors, class_of, label_errors

__all__ = ["NEXT_ROW", "STORED", "CLASSES", "POOL_USED", "RUN", "ROW_START", "ROW_NNZ", "ROW_CLASS", "ROW_SEQ",
           "ROW_RUN_FIRST", "UNFRAMED", "GAPPED", "SHARED_HEAD", "NEEDS_CLASS_ROOM", "NEEDS_F32_ROWS", "f32_stride",
           "knn_learn", "knn_repack", "knn_predict", "knn_score_and_learn"]

#: Slots of ``counts``: the next row to write, the rows stored, the classes, the pool entries used,
#: and how many of the newest rows hold records numbered one after the other in the memo.
NEXT_ROW, STORED, CLASSES, POOL_USED, RUN = range(5)
#: Rows of ``rows``: per ring row its start in the pool, its non-zeros, its class, its record
#: number in the memo and whether it is screened: its first feature id if its ids are one run,
#: :data:`GAPPED` if not, :data:`UNFRAMED` when it is not screened.
ROW_START, ROW_NNZ, ROW_CLASS, ROW_SEQ, ROW_RUN_FIRST = range(5)
#: ``row_run_first`` of a row that is not screened (not in the float32 frame) ...
UNFRAMED = -1
#: ... and of a screened row whose ids are not one run (a dense row with zeros).
GAPPED = -2


#: What :func:`knn_learn` returns when the class arrays must grow first.
NEEDS_CLASS_ROOM = -1
#: What :func:`knn_learn` returns when a dense row lies beyond the float32 frame (the caller
#: widens the frame to :func:`f32_stride` of the row's largest id + 1, and calls again).
NEEDS_F32_ROWS = -2

# Screening of dense rows in float32 (see knn_predict). A float64 value v with
# 1e-15 <= |v| <= 1e15 rounds to a normal float32 within a factor 1 ± 2^-24, and the product of
# two such values neither overflows nor underflows float32. So the float32 dot product of two
# rows of n such values, summed in any order (additions of exact zeros, as from padding, are
# exact), is within (n + 3)(1 + 1 %) 2^-24 Σ|a_i b_i| of the exact one (the textbook bound γ_n,
# plus the rounding of the inputs), and so of the float64 one (whose own error is 2^29 times
# smaller). With Σ|a_i b_i| <= (|a|² + |b|²) / 2, a squared distance computed from the float32
# dot is within :func:`_screen_margin` of the one computed from the float64 dot, the rounding of
# the last float64 additions included.
_F32_SAFE_MIN = 1e-15
_F32_SAFE_MAX = 1e15
_F32_MAX_STRIDE = 512  # rows with larger ids are not screened (the frame costs stride x window x 4 bytes)
_F32_EPS = 2.0**-24


def f32_stride(ids: int) -> int:
    """Values of each float32 column for a frame of feature ids ``0..ids-1``: rounded up to a
    multiple of 16, so that it widens seldom."""
    return -(-ids // 16) * 16


@numba.njit(cache=True)
def _f32_safe(v):
    """Whether ``v`` can take part in a float32 screening dot product (see above)."""
    a = abs(v)
    return a >= _F32_SAFE_MIN and a <= _F32_SAFE_MAX


@numba.njit(cache=True)
def _screen_margin(n, q_sq, r_sq):
    """Bound on |d2 from the float32 dot - d2 from the float64 dot| for ``n`` products of safe
    values (see above)."""
    return (n + 4) * 1.1 * _F32_EPS * (q_sq + r_sq)


# the rows are the columns of ``col_f32``: the products of one feature with every row's value are
# independent sums, which LLVM vectorises across rows (no reassociation, no horizontal sums). The
# frame does not fit the first-level cache, so the loop waits on loads and stores of ``dots``:
# four features a pass read and write it a quarter as often (the dot products an eighth to a
# quarter faster on Scene, Human and Plant: experiments/RESULTS.md, issue 23's eleventh round).
@numba.njit(cache=True, fastmath={"contract"})
def _f32_dots(col_f32, q_idx, q_f32, n):
    """The float32 dot products of the query (non-zeros ``q_f32`` at feature ids ``q_idx``) with
    the first ``n`` rows of ``col_f32`` (one column per ring row, feature ``i``'s values in its
    row ``i``; screening only, see above). A product with a row's absent feature is an exact
    zero, so the sums have ``len(q_idx)`` terms that matter, as the error bound counts (which
    holds for any order of the additions, so four features are summed before they join)."""
    dots = np.zeros(n, dtype=np.float32)
    m = q_f32.shape[0]
    j = 0
    while j + 4 <= m:
        v0, v1, v2, v3 = q_f32[j], q_f32[j + 1], q_f32[j + 2], q_f32[j + 3]
        c0, c1 = col_f32[q_idx[j]], col_f32[q_idx[j + 1]]
        c2, c3 = col_f32[q_idx[j + 2]], col_f32[q_idx[j + 3]]
        for r in range(n):
            dots[r] += (c0[r] * v0 + c1[r] * v1) + (c2[r] * v2 + c3[r] * v3)
        j += 4
    for rest in range(j, m):
        v = q_f32[rest]
        col = col_f32[q_idx[rest]]
        for r in range(n):
            dots[r] += col[r] * v
    return dots


@numba.njit(cache=True)
def _ring_rows(rows):
    """``(row_start, row_nnz, row_class, row_seq, row_run_first)``, views of the rows of a kNN
    ring's ``rows`` array: per ring row its start in the pool, its non-zeros, its class, its
    record number in the memo and its first feature id if screened (else -1). One array passes
    them to a kernel as one argument instead of five."""
    return rows[ROW_START], rows[ROW_NNZ], rows[ROW_CLASS], rows[ROW_SEQ], rows[ROW_RUN_FIRST]


@numba.njit(cache=True)
def knn_learn(
    pool_idx, pool_val, rows, row_sqnorm, col_f32,
    class_ptr, class_labels, class_table, counts,
    idx, val, labelset, seq,
):  # fmt: skip
    """Store one record in the ring (evicting the oldest when full) under its labelset's class,
    numbered ``seq`` in the distance memo (-1: none). ``rows`` holds the ring's per-row int64
    arrays (:func:`_ring_rows`).

    A row is its non-zeros in increasing feature id order, packed in the pool arrays from
    ``row_start[r]``; rows are appended at ``counts[POOL_USED]``, or written over the entries of the
    row they evict when it has as many (see the code for when). A row of values fit for screening
    whose ids lie in the float32 frame (ids ``0..len(col_f32)-1``) also goes, rounded to float32,
    to column ``r`` of ``col_f32`` (feature ``i`` in its row ``i``, the others zero), and
    ``row_run_first[r]`` holds its first feature id if its ids are one run, else
    :data:`GAPPED` (:data:`UNFRAMED` for rows outside the frame). A dense row (non-zeros on at
    least half of the ids up to its largest) that lies beyond the frame asks for a wider one
    first, up to ids below 512: so dense data is screened whether or not it has zeros.
    ``counts[RUN]`` counts the newest rows whose numbers follow each other (each ``seq`` one
    more than the row's before): when it reaches the rows stored ``n``, they are exactly the
    records numbered ``newest - n + 1 .. newest``.
    Returns 0 when stored; else, having changed
    nothing, :data:`NEEDS_CLASS_ROOM` when the class arrays lack room for one more class of
    ``len(labelset)`` labels (the caller enlarges them and calls again), :data:`NEEDS_F32_ROWS`
    (see there), or the pool entries the stored rows and this record take together (the caller
    repacks the rows into a larger pool, :func:`knn_repack`, and calls again).
    """
    row_start, row_nnz, row_class, row_seq, row_run_first = _ring_rows(rows)
    n_classes = counts[CLASSES]
    if (n_classes + 2 > class_ptr.shape[0] or 2 * (n_classes + 1) > class_table.shape[0]
            or class_ptr[n_classes] + labelset.shape[0] > class_labels.shape[0]):
        return NEEDS_CLASS_ROOM
    nnz = 0
    safe = True
    first = last = -1
    for j in range(val.shape[0]):
        if val[j] != 0.0:
            nnz += 1
            safe = safe and _f32_safe(val[j])
            if first < 0 or idx[j] < first:
                first = idx[j]
            if idx[j] > last:
                last = idx[j]
    framable = safe and nnz > 0 and last < _F32_MAX_STRIDE
    if framable and last >= col_f32.shape[0] and 2 * nnz >= last + 1:
        return NEEDS_F32_ROWS
    window = row_start.shape[0]
    r = counts[NEXT_ROW]
    # a full ring evicts row r: a record of as many non-zeros takes its entries (dense data then
    # never repacks) unless the pool is over twice what a ring of such rows takes (rows evicted
    # before then left gaps: appending lets a repack drop them), else it is appended
    reuse = counts[STORED] == window and nnz == row_nnz[r] and counts[POOL_USED] <= 2 * window * nnz
    used = row_start[r] if reuse else counts[POOL_USED]
    if not reuse and used + nnz > pool_idx.shape[0]:
        needed = nnz
        for _ in range(counts[STORED]):
            r = r - 1 if r > 0 else window - 1
            needed += row_nnz[r]
        return needed
    if counts[STORED] == window and row_run_first[r] != UNFRAMED:
        # the evicted row's floats leave its column (before its pool entries may be written over)
        for j in range(row_start[r], row_start[r] + row_nnz[r]):
            col_f32[pool_idx[j], r] = 0.0
    cls = class_of(class_table, class_ptr, class_labels, n_classes, labelset)
    if cls == n_classes:
        counts[CLASSES] = n_classes + 1
    sq = 0.0
    at = used
    for j in _increasing_order(idx):
        v = val[j]
        if v != 0.0:
            pool_idx[at] = idx[j]
            pool_val[at] = v
            sq += v * v
            at += 1
    newest = r - 1 if r > 0 else window - 1
    if seq >= 0 and counts[STORED] > 0 and row_seq[newest] == seq - 1:
        counts[RUN] += 1
    else:
        counts[RUN] = 1 if seq >= 0 else 0
    row_start[r] = used
    row_nnz[r] = nnz
    row_sqnorm[r] = sq
    row_class[r] = cls
    row_seq[r] = seq
    framed = framable and last < col_f32.shape[0]
    row_run_first[r] = UNFRAMED if not framed else first if last - first == nnz - 1 else GAPPED
    if framed:
        for j in range(used, used + nnz):
            col_f32[pool_idx[j], r] = pool_val[j]
    if not reuse:
        counts[POOL_USED] = at
    counts[NEXT_ROW] = (r + 1) % window
    if counts[STORED] < window:
        counts[STORED] += 1
    return 0


@numba.njit(cache=True)
def knn_repack(pool_idx, pool_val, row_start, row_nnz, counts, new_idx, new_val, in_place):
    """Copy the stored rows, oldest first, to the start of the new pool arrays (whose entries
    then follow the ring order again, the evicted rows' entries left behind); returns True.

    ``in_place``: the new arrays are the pool's own, which is safe when the rows lie oldest first
    (as appending and repacking leave them): each row then moves towards the start, never onto a
    row still to move. Rows in another order (a pool packed from an old pickle) are left as they
    are and False returned."""
    window = row_start.shape[0]
    n = counts[STORED]
    first = counts[NEXT_ROW] - n if counts[NEXT_ROW] >= n else counts[NEXT_ROW] - n + window
    if in_place:
        r = first
        end = 0
        for _ in range(n):
            if row_start[r] < end:
                return False
            end = row_start[r] + row_nnz[r]
            r = r + 1 if r + 1 < window else 0
    r = first
    at = 0
    for _ in range(n):
        start = row_start[r]
        for j in range(row_nnz[r]):
            new_idx[at + j] = pool_idx[start + j]
            new_val[at + j] = pool_val[start + j]
        row_start[r] = at
        at += row_nnz[r]
        r = r + 1 if r + 1 < window else 0
    counts[POOL_USED] = at
    return True


@numba.njit(cache=True)
def _increasing_order(idx):
    """Positions of ``idx`` in increasing id order (no copy made when already increasing)."""
    for j in range(1, idx.shape[0]):
        if idx[j] < idx[j - 1]:
            return np.argsort(idx, kind="mergesort")
    return np.arange(idx.shape[0])


@numba.njit(cache=True)
def _sorted_query(idx, val):
    """The query's non-zeros in increasing id order: ``(ids, values, |x|²)``."""
    order = _increasing_order(idx)
    q_idx = np.empty(idx.shape[0], dtype=np.int64)
    q_val = np.empty(idx.shape[0])
    n = 0
    sq = 0.0
    for j in order:
        if val[j] != 0.0:
            q_idx[n] = idx[j]
            q_val[n] = val[j]
            sq += val[j] * val[j]
            n += 1
    return q_idx[:n], q_val[:n], sq


@numba.njit(cache=True)
def _scattered_query(pool_idx, row_start, row_nnz, counts, window, n, q_idx, q_val):
    """The sparse query as a dense array over ids ``0..max id`` of the query and the ``n`` stored
    rows, when filling it costs less than merging id lists would (a few stored non-zeros per
    id); else an empty array. Dense queries (one run of ids) are left to :func:`_row_dot`."""
    q_n = q_idx.shape[0]
    if q_n == 0 or q_idx[q_n - 1] - q_idx[0] == q_n - 1:
        return np.empty(0)
    top = q_idx[q_n - 1]
    stored = 0
    r = counts[NEXT_ROW]
    for _ in range(n):
        r = r - 1 if r > 0 else window - 1
        nnz = row_nnz[r]
        stored += nnz
        if nnz > 0 and pool_idx[row_start[r] + nnz - 1] > top:
            top = pool_idx[row_start[r] + nnz - 1]
    if top + 1 > 4 * stored:
        return np.empty(0)
    dense_q = np.zeros(top + 1)
    for j in range(q_n):
        dense_q[q_idx[j]] = q_val[j]
    return dense_q


@numba.njit(cache=True)
def _gathered_dot(a_idx, a_val, a_n, dense_b):
    """Dot product of a sparse row with increasing ids and a dense vector. The products with the
    row's ids the other vector lacks are exact zeros, so the sum equals the merged one's."""
    dot = 0.0
    for i in range(a_n):
        dot += a_val[i] * dense_b[a_idx[i]]
    return dot


# reassociation lets LLVM vectorise the sum (about 3x on dense rows); no NaN/inf assumptions
@numba.njit(cache=True, fastmath={"reassoc", "contract"})
def _row_dot(pool_val, start, b, n):
    """``pool_val[start:start + n] · b[:n]``: a stored dense row against a query with the same
    run of ids, position by position, without making a view of the row."""
    row = pool_val[start : start + n]  # a view indexed from 0, which the loop vectorises
    s = 0.0
    for i in range(n):
        s += row[i] * b[i]
    return s


@numba.njit(cache=True)
def _sorted_dot(a_idx, a_val, a_n, b_idx, b_val):
    """Dot product of two sparse vectors with increasing ids (a merge of the two id lists)."""
    b_n = b_idx.shape[0]
    i = 0
    j = 0
    dot = 0.0
    while i < a_n and j < b_n:
        ai = a_idx[i]
        bj = b_idx[j]
        if ai == bj:
            dot += a_val[i] * b_val[j]
            i += 1
            j += 1
        elif ai < bj:
            i += 1
        else:
            j += 1
    return dot


@numba.njit(cache=True)
def _add_class_mass(out, class_ptr, class_labels, cls, mass):
    n_labels = out.shape[0]
    for j in range(class_ptr[cls], class_ptr[cls + 1]):
        label = class_labels[j]
        if 0 <= label < n_labels:
            out[label] += mass


@numba.njit(cache=True)
def _gathered_dots(pool_idx, pool_val, row_start, row_nnz, rows, dense_q, dots):
    """``dots[i]`` = stored row ``rows[i]`` · the dense query, four rows at a time: each row's sum
    runs in its own order (the same sums as :func:`_gathered_dot`), but four independent chains
    of additions keep the processor busy where one would wait on each addition."""
    n = rows.shape[0]
    i = 0
    while i + 4 <= n:
        ra, rb, rc, rd = rows[i], rows[i + 1], rows[i + 2], rows[i + 3]
        na, nb, nc, nd = row_nnz[ra], row_nnz[rb], row_nnz[rc], row_nnz[rd]
        ia, va = pool_idx[row_start[ra] : row_start[ra] + na], pool_val[row_start[ra] : row_start[ra] + na]
        ib, vb = pool_idx[row_start[rb] : row_start[rb] + nb], pool_val[row_start[rb] : row_start[rb] + nb]
        ic, vc = pool_idx[row_start[rc] : row_start[rc] + nc], pool_val[row_start[rc] : row_start[rc] + nc]
        id_, vd = pool_idx[row_start[rd] : row_start[rd] + nd], pool_val[row_start[rd] : row_start[rd] + nd]
        common = min(min(na, nb), min(nc, nd))
        sa = sb = sc = sd = 0.0
        for j in range(common):
            sa += va[j] * dense_q[ia[j]]
            sb += vb[j] * dense_q[ib[j]]
            sc += vc[j] * dense_q[ic[j]]
            sd += vd[j] * dense_q[id_[j]]
        for j in range(common, na):
            sa += va[j] * dense_q[ia[j]]
        for j in range(common, nb):
            sb += vb[j] * dense_q[ib[j]]
        for j in range(common, nc):
            sc += vc[j] * dense_q[ic[j]]
        for j in range(common, nd):
            sd += vd[j] * dense_q[id_[j]]
        dots[i], dots[i + 1], dots[i + 2], dots[i + 3] = sa, sb, sc, sd
        i += 4
    for i in range(i, n):
        start = row_start[rows[i]]
        end = start + row_nnz[rows[i]]
        dots[i] = _gathered_dot(pool_idx[start:end], pool_val[start:end], end - start, dense_q)


@numba.njit(cache=True)
def _memo_slot(seq, memo_size, memo_mask):
    """Slot ``seq % memo_size`` (a mask when the size is a power of two: a division per row costs)."""
    return seq & memo_mask if memo_mask >= 0 else seq % memo_size


@numba.njit(cache=True)
def _memo_write(memo_seq, memo_query, memo_d2, slot, seq, query, d2):
    memo_seq[slot] = seq
    memo_query[slot] = query
    memo_d2[slot] = d2


@numba.njit(cache=True)
def _is_screened(row_run_first, r):
    """Whether row ``r`` is screened against a query that can be (both lie in the float32
    frame)."""
    return row_run_first[r] != UNFRAMED


@numba.njit(cache=True)
def _screen_bounds(dots_f32, row_sqnorm, q_sq, q_n, lo, hi):
    """``lo[r] <= d2 <= hi[r]`` for every row ``r < len(lo)`` screened with float32 dot
    ``dots_f32[r]`` (one pass over the rows, which vectorises; rows not screened get meaningless
    values)."""
    for r in range(lo.shape[0]):
        d2 = max(q_sq + row_sqnorm[r] - 2.0 * np.float64(dots_f32[r]), 0.0)
        margin = _screen_margin(q_n, q_sq, row_sqnorm[r])
        lo[r] = d2 - margin
        hi[r] = d2 + margin


@numba.njit(cache=True)
def _kth_bound(hi, k):
    """A value at least the ``k``-th smallest of ``hi`` (which has at least ``k`` values), with
    ``k`` values of ``hi`` at most it: the ``k``-th smallest of the minima of eight-value groups
    (and of the values after the last group), the minima taken in one pass across all groups
    (which vectorises; the values of every group are apart by the number of groups). It is the
    ``k``-th smallest itself unless two of the ``k`` smallest share a group."""
    n_groups = hi.shape[0] // 8
    bound = np.full(k, np.inf)
    if n_groups < k:
        for r in range(hi.shape[0]):
            _insert_bound(bound, hi[r])
        return bound[k - 1]
    minima = hi[:n_groups].copy()
    for g in range(1, 8):
        part = hi[g * n_groups : (g + 1) * n_groups]
        for j in range(n_groups):
            minima[j] = min(minima[j], part[j])
    for j in range(n_groups):
        _insert_bound(bound, minima[j])
    for r in range(8 * n_groups, hi.shape[0]):
        _insert_bound(bound, hi[r])
    return bound[k - 1]


# eight rows' skip flags, all set (a uint64: numba compares a uint64 with an int64 as float64s)
_ALL_SKIPPED = np.uint64(0x0101010101010101)


@numba.njit(cache=True)
def _skip_flags(lo, row_sqnorm, q_sq, kth, n_words):
    """Per row ``r < len(lo)``, whether its lower bound ``lo[r]`` shows it farther than the
    ``kth`` bound and than the exact-match tolerance (one pass, which vectorises), as bytes read
    eight at a time as the ``n_words`` words returned (the padding rows set)."""
    skip = np.ones(8 * n_words, dtype=np.uint8)
    for r in range(lo.shape[0]):
        skip[r] = (lo[r] > kth) & (lo[r] > 1e-12 * (q_sq + row_sqnorm[r] + 1.0))
    return skip, skip.view(np.uint64)


@numba.njit(cache=True)
def _insert_bound(bound, d2):
    """Keep in ``bound`` (ascending) the smallest values seen."""
    k = bound.shape[0]
    if d2 < bound[k - 1]:
        pos = k - 1
        while pos > 0 and d2 < bound[pos - 1]:
            bound[pos] = bound[pos - 1]
            pos -= 1
        bound[pos] = d2


#: Slots of ``shared`` (what one model's query leaves for another model holding the same records):
#: the query, the newest row's record number, the rows stored, the ``k`` asked for and the
#: neighbours found; their record numbers follow from :data:`SHARED_HEAD` on.
SHARED_QUERY, SHARED_NEWEST, SHARED_STORED, SHARED_K, SHARED_FOUND, SHARED_HEAD = range(6)

# A query as the stages of knn_predict read it: its non-zeros in increasing id order, squared
# norm and count, whether its ids are one run (first and last), and, when it is screened, its
# values in float32.
_Query = collections.namedtuple("_Query", "idx val sq n run first last f32 screen")
# The distance memo: record numbers and queries of its slots, the distances, its size and the
# mask that takes a number to its slot (-1: modulo), and whether this query uses it.
_Memo = collections.namedtuple("_Memo", "seq query d2 size mask use")


@numba.njit(cache=True)
def knn_predict(
    pool_idx, pool_val, rows, row_sqnorm, col_f32,
    class_ptr, class_labels, counts,
    k, idx, val, n_labels,
    memo_seq, memo_query, memo_d2, query, shared, shared_d2,
):  # fmt: skip
    """Per-label P(1) from the ``k`` nearest stored rows (see ``KnnLabelCombination``; ``rows``
    as :func:`_ring_rows` reads them).

    Rows are ranked newest first; on equal distances the newer row wins, and among several exact
    matches the newest one decides. A row with the query's own run of ids (dense data) is dotted
    position by position; otherwise the query is scattered into a dense array when the stored
    non-zeros pay for it, else the row's and the query's increasing ids are merged (all three
    give the same sums).

    Dense rows with float32 copies are screened: their distances are first estimated from
    float32 dot products (of every row at once, by columns: :func:`_f32_dots`), and only the
    rows whose estimate, less its error bound (:func:`_screen_margin`), could still place them
    among the ``k`` nearest or make them an exact match are measured in float64. Every other
    row is farther than ``k`` rows whatever the rounding, so the answer is, bit for bit, the one
    measuring every row gives. The rows are told apart by passes over all of them that
    vectorise: each row's bounds, a value with ``k`` upper bounds at most it
    (:func:`_kth_bound`; any such value gives the same answer, only more or fewer rows to
    rank), and the flags of the rows whose lower bound exceeds it (:func:`_skip_flags`); the
    ranking then visits the other rows only, newest first.

    With ``query >= 0`` the float64 squared distance of the query to the record numbered
    ``row_seq[r]`` is looked up in the memo slot ``row_seq[r] % len(memo_seq)`` first, and written
    there when computed. Float32 estimates are not kept there: computing a screened row's again
    from the dot products of every row costs less than a look-up.

    Models that hold the same records share their neighbours too (``shared``, ``shared_d2``:
    :func:`_shared_neighbours`), so the leaves of an iHOMER's block trees that have all learned
    the same recent records rank them once per query.
    """
    row_start, row_nnz, row_class, row_seq, row_run_first = _ring_rows(rows)
    out = np.zeros(n_labels)
    n = counts[STORED]
    if n == 0:
        return out
    memo_size = memo_seq.shape[0]
    memo = _Memo(memo_seq, memo_query, memo_d2, memo_size,
                 memo_size - 1 if memo_size > 0 and memo_size & (memo_size - 1) == 0 else -1,
                 query >= 0 and memo_size > 0)  # fmt: skip
    window = row_start.shape[0]
    newest = counts[NEXT_ROW] - 1 if counts[NEXT_ROW] > 0 else window - 1
    # the rows are the records numbered row_seq[newest] - n + 1 .. row_seq[newest]
    sharing = memo.use and counts[RUN] >= n and k <= shared_d2.shape[0]
    if sharing and _shared_neighbours(shared, shared_d2, query, row_seq[newest], n, k, out, class_ptr,
                                      class_labels, row_class, newest, window):
        return out
    q = _query_of(idx, val, col_f32.shape[0])
    lo, hi, missing = _known_bounds(pool_idx, pool_val, rows, row_sqnorm, col_f32, n, q, memo, query)
    if missing.shape[0] > 0:
        _measure_missing(pool_idx, pool_val, rows, row_sqnorm, counts, window, n, q, memo, query, missing, lo, hi)
    best_d2, best_row, n_best = _rank(pool_idx, pool_val, rows, row_sqnorm, n, newest, min(k, n), q, memo, query,
                                      lo, hi)
    if sharing:
        shared[SHARED_QUERY], shared[SHARED_NEWEST], shared[SHARED_STORED] = query, row_seq[newest], n
        shared[SHARED_K], shared[SHARED_FOUND] = k, n_best
        for i in range(n_best):
            shared[SHARED_HEAD + i] = row_seq[best_row[i]]
            shared_d2[i] = best_d2[i]
    _vote(out, best_d2[:n_best], best_row, class_ptr, class_labels, row_class)
    return out


@numba.njit(cache=True)
def _query_of(idx, val, stride):
    """The query (:data:`_Query`) of a record; it is screened when its ids lie in the float32
    frame of ``stride`` ids and its values are safe for float32."""
    q_idx, q_val, q_sq = _sorted_query(idx, val)
    q_n = q_idx.shape[0]
    q_run = q_n > 0 and q_idx[q_n - 1] - q_idx[0] == q_n - 1
    q_first = q_idx[0] if q_n > 0 else -1
    q_last = q_idx[q_n - 1] if q_n > 0 else -1
    screen = q_n > 0 and q_last < stride
    q_f32 = np.zeros(q_n if screen else 0, dtype=np.float32)
    if screen:
        for j in range(q_n):
            screen = screen and _f32_safe(q_val[j])
            q_f32[j] = q_val[j]
    return _Query(q_idx, q_val, q_sq, q_n, q_run, q_first, q_last, q_f32, screen)


@numba.njit(cache=True)
def _remembered(memo, seq, query):
    """The memo slot of record ``seq`` for this query (-1 without the memo), and whether it holds
    the distance already."""
    slot = _memo_slot(seq, memo.size, memo.mask) if memo.use and seq >= 0 else -1
    return slot, slot >= 0 and memo.seq[slot] == seq and memo.query[slot] == query


@numba.njit(cache=True)
def _known_bounds(pool_idx, pool_val, rows, row_sqnorm, col_f32, n, q, memo, query):
    """Bounds ``lo[r] <= d2 <= hi[r]`` of the distance of each stored row (the distance itself
    in both for a row measured in float64), and the rows still to measure: the float32
    estimates of every row when screening, then, for the stored rows that are not screened,
    the distance from the memo; else, for a row with the query's own run of ids, measured;
    else left for the sparse pass. The stored rows are rows ``0..n-1`` (the ring fills from
    row 0, then stays full), so passes over them vectorise."""
    row_start, row_nnz, _, row_seq, row_run_first = _ring_rows(rows)
    lo = np.empty(n)
    hi = np.empty(n)
    n_screened = 0
    if q.screen:
        _screen_bounds(_f32_dots(col_f32, q.idx, q.f32, n), row_sqnorm, q.sq, q.n, lo, hi)
        for r in range(n):
            n_screened += _is_screened(row_run_first, r)
    missing = np.empty(n - n_screened, dtype=np.int64)  # rows whose distance is still to come
    n_missing = 0
    for r in range(n if n_screened < n else 0):
        if q.screen and _is_screened(row_run_first, r):
            continue
        seq = row_seq[r]
        slot, known = _remembered(memo, seq, query)
        if known:
            lo[r] = hi[r] = memo.d2[slot]
            continue
        start = row_start[r]
        # a row in the frame says whether it is a run of ids and its first id, so its first id
        # and length place it without a look into the pool (a cache miss per row)
        run_first = row_run_first[r]
        if q.run and row_nnz[r] == q.n and (
                run_first == q.first if run_first >= 0
                else pool_idx[start] == q.first and pool_idx[start + q.n - 1] == q.last):
            d2 = max(q.sq + row_sqnorm[r] - 2.0 * _row_dot(pool_val, start, q.val, q.n), 0.0)
            lo[r] = hi[r] = d2
            if slot >= 0:
                _memo_write(memo.seq, memo.query, memo.d2, slot, seq, query, d2)
        else:
            missing[n_missing] = r
            n_missing += 1
    return lo, hi, missing[:n_missing]


@numba.njit(cache=True)
def _measure_missing(pool_idx, pool_val, rows, row_sqnorm, counts, window, n, q, memo, query, missing, lo, hi):
    """The sparse pass: the float64 distances of the ``missing`` rows, into ``lo`` and ``hi`` (and
    the memo). The query is scattered into a dense array when the stored non-zeros pay for it,
    else the row's and the query's increasing ids are merged (both give the same sums); a run
    of ids is never scattered."""
    row_start, row_nnz, _, row_seq, _ = _ring_rows(rows)
    n_missing = missing.shape[0]
    dots = np.empty(n_missing)
    dense_q = np.empty(0)
    if not q.run:
        dense_q = _scattered_query(pool_idx, row_start, row_nnz, counts, window, n, q.idx, q.val)
    if dense_q.shape[0] > 0:
        _gathered_dots(pool_idx, pool_val, row_start, row_nnz, missing, dense_q, dots)
    else:
        for m in range(n_missing):
            r = missing[m]
            start = row_start[r]
            end = start + row_nnz[r]
            dots[m] = _sorted_dot(pool_idx[start:end], pool_val[start:end], end - start, q.idx, q.val)
    for m in range(n_missing):
        r = missing[m]
        d2 = max(q.sq + row_sqnorm[r] - 2.0 * dots[m], 0.0)
        lo[r] = hi[r] = d2
        seq = row_seq[r]
        if memo.use and seq >= 0:
            slot = _memo_slot(seq, memo.size, memo.mask)
            _memo_write(memo.seq, memo.query, memo.d2, slot, seq, query, d2)


@numba.njit(cache=True)
def _rank(pool_idx, pool_val, rows, row_sqnorm, n, newest, k, q, memo, query, lo, hi):
    """The ``k`` nearest rows newest first, their squared distances ascending (strict ``<``
    keeps the newer row on ties), or the newest exact match alone (its distance marked -1);
    returns ``(best_d2, best_row, found)``.

    A row whose lower bound exceeds a value at least the k-th smallest upper bound has k rows
    nearer, and one whose lower bound exceeds the exact-match tolerance is no exact match: such
    rows are skipped, whole words of eight flags at once (only a query in the float32 frame has
    screened rows: the others measure every row and skip none). A screened row still ranked is
    measured in float64 here."""
    _, _, _, row_seq, row_run_first = _ring_rows(rows)
    n_words = (n + 7) // 8
    kth = _kth_bound(hi, k) if q.screen else np.inf
    skip, skip_words = _skip_flags(lo, row_sqnorm, q.sq, kth, n_words)
    best_d2 = np.empty(k)
    best_row = np.empty(k, dtype=np.int64)
    n_best = 0
    for top, bottom in ((newest, 0), (n - 1, newest + 1)):  # newest first: newest..0, n-1..newest+1
        r = top
        while r >= bottom:
            if skip[r]:
                # a whole word skipped, even where it reaches below ``bottom`` (no row lost there)
                if r & 7 == 7 and skip_words[r >> 3] == _ALL_SKIPPED:
                    r -= 8
                else:
                    r -= 1
                continue
            d2 = lo[r]
            if q.screen and _is_screened(row_run_first, r):
                seq = row_seq[r]
                slot, known = _remembered(memo, seq, query)
                if known:
                    d2 = memo.d2[slot]
                else:
                    d2 = max(q.sq + row_sqnorm[r] - 2.0 * _screened_dot(pool_idx, pool_val, rows, r, q), 0.0)
                    if slot >= 0:
                        _memo_write(memo.seq, memo.query, memo.d2, slot, seq, query, d2)
            if d2 <= 1e-12 * (q.sq + row_sqnorm[r] + 1.0):
                best_d2[0] = -1.0  # the mark of an exact match
                best_row[0] = r
                return best_d2, best_row, 1
            if n_best < k or d2 < best_d2[n_best - 1]:
                pos = n_best if n_best < k else k - 1
                while pos > 0 and d2 < best_d2[pos - 1]:
                    best_d2[pos] = best_d2[pos - 1]
                    best_row[pos] = best_row[pos - 1]
                    pos -= 1
                best_d2[pos] = d2
                best_row[pos] = r
                if n_best < k:
                    n_best += 1
            r -= 1
    return best_d2, best_row, n_best


@numba.njit(cache=True)
def _screened_dot(pool_idx, pool_val, rows, r, q):
    """The float64 dot product of screened row ``r`` with the query by the sums the rows that are
    not screened get (:func:`_known_bounds`, :func:`_measure_missing`): position by position
    when both are the same run of ids, else over the row's and the query's merged ids."""
    row_start, row_nnz, _, _, row_run_first = _ring_rows(rows)
    start = row_start[r]
    if q.run and row_run_first[r] == q.first and row_nnz[r] == q.n:
        return _row_dot(pool_val, start, q.val, q.n)
    end = start + row_nnz[r]
    return _sorted_dot(pool_idx[start:end], pool_val[start:end], end - start, q.idx, q.val)


@numba.njit(cache=True)
def _vote(out, best_d2, best_row, class_ptr, class_labels, row_class):
    """Add to ``out`` the class mass of the neighbours ``best_row`` at squared distances
    ``best_d2`` (ascending; a single negative one marks an exact match, which decides alone):
    votes ``1/distance``, normalised. ``best_d2`` is overwritten."""
    if best_d2.shape[0] == 1 and best_d2[0] < 0.0:
        _add_class_mass(out, class_ptr, class_labels, row_class[best_row[0]], 1.0)
        return
    total = 0.0
    for i in range(best_d2.shape[0]):
        best_d2[i] = 1.0 / math.sqrt(best_d2[i])  # the vote, in place
        total += best_d2[i]
    for i in range(best_d2.shape[0]):
        _add_class_mass(out, class_ptr, class_labels, row_class[best_row[i]], best_d2[i] / total)


@numba.njit(cache=True)
def _shared_neighbours(shared, shared_d2, query, newest_seq, n, k, out, class_ptr, class_labels, row_class,
                       newest, window):  # fmt: skip
    """Vote into ``out`` with the neighbours another model found for ``query`` among the same
    records: the ``n`` records numbered up to ``newest_seq``, which this model holds too, in the
    same order (rows newest first), so the same ``k`` nearest or the same exact match. Returns
    False, having done nothing, when ``shared`` holds another query's or other records'."""
    if not (shared[SHARED_QUERY] == query and shared[SHARED_NEWEST] == newest_seq and shared[SHARED_STORED] == n
            and shared[SHARED_K] == k):
        return False
    n_best = shared[SHARED_FOUND]
    best_row = np.empty(n_best, dtype=np.int64)
    best_d2 = shared_d2[:n_best].copy()
    for i in range(n_best):
        r = newest - (newest_seq - shared[SHARED_HEAD + i])  # the row numbered so, counting back
        best_row[i] = r if r >= 0 else r + window
    _vote(out, best_d2, best_row, class_ptr, class_labels, row_class)
    return True



# A leaf scores the model it does not answer with on the record (test), then that model learns the
# record (train): one kernel call for both spares a dispatch and the Python around it. The same
# call also scores the prediction of the model in use (``also``), which the leaf cached.
@numba.njit(cache=True)
def knn_score_and_learn(
    positives,
    pool_idx, pool_val, rows, row_sqnorm, col_f32,
    class_ptr, class_labels, counts,
    k, idx, val, n_labels,
    memo_seq, memo_query, memo_d2, query, shared, shared_d2,
    class_table, also,
):  # fmt: skip
    """``(errors, also_errors, status)``: the :func:`label_errors` against ``positives`` of
    :func:`knn_predict` (the parameters from ``pool_idx`` to ``shared_d2`` are its) and of
    ``also`` (another prediction for the record; -1 if empty), then :func:`knn_learn` of the
    record with labelset ``positives``, numbered ``query``, whose return value ``status`` is (when
    not 0 the record is not stored: the caller makes room and stores it)."""
    proba = knn_predict(
        pool_idx, pool_val, rows, row_sqnorm, col_f32, class_ptr, class_labels, counts,
        k, idx, val, n_labels, memo_seq, memo_query, memo_d2, query, shared, shared_d2,
    )  # fmt: skip
    wrong = label_errors(proba, positives)
    status = knn_learn(
        pool_idx, pool_val, rows, row_sqnorm, col_f32, class_ptr, class_labels, class_table, counts,
        idx, val, positives, query,
    )  # fmt: skip
    return wrong, also_errors(also, positives), status
