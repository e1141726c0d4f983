"""MLHAT leaf models against plain re-implementations: a dense brute-force kNN label combination,
a dense per-label logistic-regression SGD (with its own SplitMix64 Poisson draws) and river."""

import math
import pickle

import numpy as np
import pytest
from river import linear_model, optim

from stream_xml.tree.bagging import BaggedLogisticBR
from stream_xml.tree.bagging_kernels import _poisson_of_uniform, new_rng_state, poisson_draws
from stream_xml.tree.knn import DistanceMemo, KnnLabelCombination
from stream_xml.tree.knn_kernels import GAPPED, SHARED_HEAD, UNFRAMED
from stream_xml.tree.majority import MajorityLabelset

# ------------------------------------------------------------------------------------------------
# Streams


def sparse_stream(seed, n, repeat_rate=0.0, grow_features=True):
    """Records (idx, val, labelset) with feature ids and labels that keep growing.

    Some records have no non-zero at all, a few have many (to force storage growth), idx is
    not always sorted, and with ``repeat_rate`` a record repeats one of the last few records.
    """
    rng = np.random.default_rng(seed)
    records = []
    pool = [np.array([], dtype=np.int64), np.array([0], dtype=np.int64)]
    for t in range(n):
        if records and rng.random() < repeat_rate:
            records.append(records[-1 - rng.integers(min(len(records), 5))])
            continue
        n_features = 10 + (4 * t if grow_features else 60)
        nnz = 40 if rng.random() < 0.05 else int(rng.integers(0, 8))
        nnz = min(nnz, n_features)
        idx = rng.choice(n_features, size=nnz, replace=False).astype(np.int64)
        if rng.random() < 0.5:
            idx.sort()
        val = rng.normal(size=nnz)
        if rng.random() < 0.1:  # a new labelset, sometimes with a never-seen label
            n_labels_so_far = 1 + t // 10
            size = int(rng.integers(1, 4))
            pool.append(np.unique(rng.integers(0, n_labels_so_far + 1, size=size)).astype(np.int64))
        labelset = pool[int(rng.integers(len(pool)))]
        records.append((idx, val, labelset))
    return records


def n_features_of(records):
    return 1 + max((int(idx.max()) for idx, _, _ in records if idx.shape[0]), default=0)


def n_labels_of(records):
    return 1 + max((int(ls.max()) for _, _, ls in records if ls.shape[0]), default=0)


def dense(idx, val, n_features):
    x = np.zeros(n_features)
    x[idx] = val
    return x


# ------------------------------------------------------------------------------------------------
# kNN label combination


def brute_force_knn(history, x, k, window, n_labels):
    """P(label = 1) the plainest way, from the dense records ``history`` (oldest first)."""
    out = np.zeros(n_labels)
    recent = history[-window:][::-1]  # newest first
    if not recent:
        return out
    distances = [np.sqrt(((stored - x) ** 2).sum()) for stored, _ in recent]
    for i, d in enumerate(distances):
        if d == 0.0:
            out[recent[i][1]] = 1.0
            return out
    nearest = sorted(range(len(recent)), key=lambda i: distances[i])[:k]  # stable: newer first
    votes = {i: 1.0 / distances[i] for i in nearest}
    total = sum(votes.values())
    for i, vote in votes.items():
        out[recent[i][1]] += vote / total
    return out


@pytest.mark.parametrize("k, window", [(4, 170), (3, 7), (1, 1)])
def test_knn_matches_brute_force(k, window):
    records = sparse_stream(seed=k + window, n=220, repeat_rate=0.2)
    n_features, n_labels = n_features_of(records), n_labels_of(records) + 2
    model = KnnLabelCombination(k=k, window=window)
    history = []
    n_exact = 0
    for idx, val, labelset in records:
        x = dense(idx, val, n_features)
        expected = brute_force_knn(history, x, k, window, n_labels)
        got = model.predict_proba(idx, val, n_labels)
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
        n_exact += any((x == h).all() for h, _ in history[-window:])
        model.learn(idx, val, labelset)
        history.append((x, labelset))
    assert n_exact > 10  # the stream did exercise exact matches
    assert model.n_stored == min(window, len(records))


def test_knn_classes_are_labelsets_in_order_of_first_appearance():
    records = sparse_stream(seed=3, n=150)
    model = KnnLabelCombination()
    first_seen = []
    for idx, val, labelset in records:
        model.learn(idx, val, labelset)
        if not any(np.array_equal(labelset, seen) for seen in first_seen):
            first_seen.append(labelset)
    assert model.n_classes == len(first_seen) > 10  # enough to regrow the class table
    for cls, labelset in enumerate(first_seen):
        np.testing.assert_array_equal(model.labelset(cls), labelset)


def test_knn_exact_match_ties_go_to_the_newest_record():
    model = KnnLabelCombination(k=4)
    x_idx, x_val = np.array([3, 8]), np.array([1.0, 2.0])
    model.learn(x_idx, x_val, np.array([0]))
    model.learn(np.array([3]), np.array([1.0]), np.array([2]))
    model.learn(x_idx, x_val, np.array([1]))
    np.testing.assert_array_equal(model.predict_proba(x_idx, x_val, 3), [0.0, 1.0, 0.0])
    model.learn(x_idx, x_val, np.array([], dtype=np.int64))  # the empty labelset is a class too
    np.testing.assert_array_equal(model.predict_proba(x_idx, x_val, 3), [0.0, 0.0, 0.0])


def test_knn_ignores_labels_beyond_n_labels_and_predicts_zeros_when_empty():
    model = KnnLabelCombination()
    np.testing.assert_array_equal(model.predict_proba(np.array([1]), np.array([1.0]), 2), [0, 0])
    model.learn(np.array([1]), np.array([1.0]), np.array([0, 5]))
    np.testing.assert_array_equal(model.predict_proba(np.array([1]), np.array([1.0]), 2), [1, 0])


def test_knn_storage_does_not_depend_on_feature_id_magnitude():
    records = sparse_stream(seed=5, n=120, repeat_rate=0.1)
    small, huge = KnnLabelCombination(k=3, window=30), KnnLabelCombination(k=3, window=30)
    offset = 10**12
    for idx, val, labelset in records:
        np.testing.assert_allclose(
            huge.predict_proba(idx + offset, val, 8), small.predict_proba(idx, val, 8), rtol=1e-12
        )
        small.learn(idx, val, labelset)
        huge.learn(idx + offset, val, labelset)
    # the sparse rows take the same room; only small ids (below 512) may also get a float32 frame
    assert huge._col_f32.size == 0
    assert huge.memory_bytes() == small.memory_bytes() - small._col_f32.nbytes < 50_000


@pytest.mark.parametrize("memo_size", [3, 1 << 13])
def test_knn_sharing_a_distance_memo_predicts_exactly_as_without(memo_size):
    """Models that share a memo (some records in several of them, some not, repeated arrays,
    slots that collide, a pickle round trip midway) give the very predictions of lone models."""
    rng = np.random.default_rng(11)
    records = sparse_stream(seed=9, n=400, repeat_rate=0.2, grow_features=False)
    shapes = [(3, 25), (4, 60), (1, 7)]
    memo = DistanceMemo(size=memo_size)
    shared = [KnnLabelCombination(k=k, window=w, memo=memo) for k, w in shapes]
    lone = [KnnLabelCombination(k=k, window=w) for k, w in shapes]
    for t, (idx, val, labelset) in enumerate(records):
        if t == 200:
            shared = pickle.loads(pickle.dumps(shared))
        for a, b in zip(shared, lone):
            np.testing.assert_array_equal(a.predict_proba(idx, val, 8), b.predict_proba(idx, val, 8))
        for a, b in zip(shared, lone):
            if rng.random() < 0.7:
                a.learn(idx, val, labelset)
                b.learn(idx, val, labelset)
    assert shared[0].memo is shared[1].memo is shared[2].memo


def test_knn_models_holding_the_same_records_share_their_neighbours_exactly():
    """Models asked for the same k over a memo share the neighbours of a query when they hold
    the same records (numbered one after the other); each votes with its own labelsets. Models
    whose rows differ (a record skipped, one learned twice in a row, rows from before a pickle)
    must not take them: every prediction equals a lone model's."""
    rng = np.random.default_rng(5)
    records = []
    for idx, val, labelset in sparse_stream(seed=6, n=260, grow_features=False):
        if rng.random() < 0.7:  # mostly dense rows, which are screened
            idx, val = np.arange(10), rng.normal(size=10)
        records.append((idx, val, labelset))
    memo = DistanceMemo()
    shared = [KnnLabelCombination(k=3, window=30, memo=memo) for _ in range(4)]
    lone = [KnnLabelCombination(k=3, window=30) for _ in range(4)]

    def labels_for(i, labelset):  # each model its own labels, so the shared rows vote differently
        return np.unique((labelset + i) % 9).astype(np.int64)

    for t, (idx, val, labelset) in enumerate(records):
        if t == 160:  # unpickled, two models with other rows have no record numbers
            shared[2:] = pickle.loads(pickle.dumps(shared[2:]))
            shared[2].memo = shared[3].memo = memo
        for a, b in zip(shared, lone):
            np.testing.assert_array_equal(a.predict_proba(idx, val, 9), b.predict_proba(idx, val, 9))
        for i, (a, b) in enumerate(zip(shared, lone)):
            times = 0 if (i == 2 and t % 53 == 5) else 2 if (i == 3 and t % 59 == 7) else 1
            for _ in range(times):
                a.learn(idx, val, labels_for(i, labelset))
                b.learn(idx, val, labels_for(i, labelset))
    # the first two hold the same records: the second takes the first's neighbours, as spoiling
    # them shows (made to say the newest row is an exact match)
    idx, val = np.arange(10), rng.normal(size=10)
    shared[0].predict_proba(idx, val, 9)
    assert memo.shared[0] == memo.number(idx, val) and memo.shared[2] == 30
    np.testing.assert_array_equal(shared[1].predict_proba(idx, val, 9), lone[1].predict_proba(idx, val, 9))
    memo.shared[4], memo.shared[SHARED_HEAD], memo.shared_d2[0] = 1, memo.shared[1], -1.0
    newest = np.zeros(9)
    newest[labels_for(1, records[-1][2])] = 1.0
    np.testing.assert_array_equal(shared[1].predict_proba(idx, val, 9), newest)


def test_knn_dense_rows_with_a_shared_memo_match_brute_force():
    """Dense records (one run of ids, dotted as they are scanned and put in the memo) mixed with
    records whose run is broken by a zero or that are sparse (computed in a second pass)."""
    rng = np.random.default_rng(21)
    sparse = sparse_stream(seed=4, n=300, repeat_rate=0.1, grow_features=False)
    records = []
    for idx, val, labelset in sparse:
        if rng.random() < 0.6:
            idx, val = np.arange(12), rng.normal(size=12)
            if rng.random() < 0.1:
                val[rng.integers(12)] = 0.0
        records.append((idx, val, labelset))
    n_features, n_labels = max(12, n_features_of(records)), n_labels_of(records) + 1
    memo = DistanceMemo(size=64)
    models = [KnnLabelCombination(k=k, window=w, memo=memo) for k, w in [(3, 40), (5, 90)]]
    history = []
    for idx, val, labelset in records:
        x = dense(idx, val, n_features)
        for model in models:
            expected = brute_force_knn(history, x, model.k, model.window, n_labels)
            np.testing.assert_allclose(model.predict_proba(idx, val, n_labels), expected, rtol=1e-9, atol=1e-12)
        for model in models:
            model.learn(idx, val, labelset)
        history.append((x, labelset))


class _MeasuredKnn(KnnLabelCombination):
    """A kNN that never screens: every distance is measured in float64."""

    def learn(self, idx, val, labelset):
        super().learn(idx, val, labelset)
        self._row_run_first[:] = -1


def _near_tie_stream(seed, n):
    """Dense records (runs of ids of two lengths and starts) that nearly repeat each other, with
    exact repeats, values outside the float32-safe range, and sparse records between."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(6, 20))
    records = []
    for t in range(n):
        kind = rng.random()
        if kind < 0.1:
            idx = np.sort(rng.choice(40, size=4, replace=False))
            val = rng.normal(size=4)
        else:
            val = base[rng.integers(6)] * (1.0 + 1e-7 * rng.normal(size=20))  # below float32's grain
            if kind < 0.2:
                val = base[0].copy()  # an exact repeat
            if rng.random() < 0.05:
                val[rng.integers(20)] = 1e-20 if rng.random() < 0.5 else 1e20
            idx = np.arange(20)
            if rng.random() < 0.2:
                # other runs: one length, two starts
                idx, val = idx[2:17] + (3 if rng.random() < 0.5 else -2), val[2:17]
        records.append((idx, val, np.array([int(rng.integers(5))])))
    return records


def test_knn_float32_screening_answers_bit_for_bit_as_measuring_every_row():
    """Screened rows (float32 estimates) give the very predictions of models that measure every
    distance in float64 (the memo shared by the former holds only float64 distances), near ties
    below float32's resolution, exact repeats and rows that cannot be screened included."""
    records = _near_tie_stream(seed=31, n=400)
    memo = DistanceMemo(size=256)
    shapes = [(5, 200), (3, 50), (1, 9)]
    screened = [KnnLabelCombination(k=k, window=w, memo=memo) for k, w in shapes]
    measured = [_MeasuredKnn(k=k, window=w) for k, w in shapes]
    n_measured = n_stored = 0
    for idx, val, labelset in records:
        for a, b in zip(screened, measured):
            np.testing.assert_array_equal(a.predict_proba(idx, val, 5), b.predict_proba(idx, val, 5))
        n_measured += int((memo.query == memo.query.max()).sum())
        n_stored += screened[0].n_stored
        for model in screened + measured:
            model.learn(idx, val, labelset)
    flags = screened[0]._row_run_first >= 0
    assert flags.sum() > 100 and not flags.all()
    assert n_stored - n_measured > 10_000  # the largest model's distances that stayed estimates


@pytest.mark.parametrize("n_query", [1, 3, 4, 5, 8, 11, 103])
def test_knn_screening_dot_products_stay_within_their_error_bound(n_query):
    """The float32 dot products that screen rows (four features a pass, then the rest one by one)
    are within the bound the screening assumes of the exact products of the float32 inputs, for
    queries of every remainder modulo four, ids in any order and absent features (zeros)."""
    from stream_xml.tree.knn_kernels import _F32_EPS, _f32_dots

    rng = np.random.default_rng(n_query)
    n_ids, n_rows = 128, 37
    col = rng.normal(size=(n_ids, n_rows)).astype(np.float32)
    col[rng.random(col.shape) < 0.2] = 0.0
    q_idx = rng.choice(n_ids, size=n_query, replace=False).astype(np.int64)
    q_f32 = (rng.normal(size=n_query) * 10.0 ** rng.integers(-3, 4, size=n_query)).astype(np.float32)
    got = _f32_dots(col, q_idx, q_f32, n_rows - 2).astype(np.float64)
    products = col[q_idx, : n_rows - 2].astype(np.float64) * q_f32.astype(np.float64)[:, None]
    exact = products.sum(axis=0)
    bound = (n_query + 3) * _F32_EPS * np.abs(products).sum(axis=0)
    assert np.all(np.abs(got - exact) <= bound)
    assert got.shape == (n_rows - 2,) and np.any(got != 0.0)


def _float64_knn(history, idx, val, k, window, n_labels):
    """P(label = 1) from ``history`` (records oldest first) with every distance measured in
    float64 by the very sums the kNN makes (its dot product kernels, its squared norms added in
    increasing id order), then ranked as its docstring says: bit for bit its answer."""
    from stream_xml.tree.knn_kernels import _row_dot, _sorted_dot

    def packed(idx, val):
        order = np.argsort(idx, kind="mergesort")
        keep = val[order] != 0.0
        i, v = idx[order][keep].astype(np.int64), val[order][keep].astype(np.float64)
        sq = 0.0
        for x in v:
            sq += x * x
        return i, v, sq

    out = np.zeros(n_labels)
    q_idx, q_val, q_sq = packed(idx, val)
    q_run = q_idx.shape[0] > 0 and q_idx[-1] - q_idx[0] == q_idx.shape[0] - 1
    recent = history[-window:][::-1]  # newest first
    d2s = []
    for r_idx, r_val, labelset in recent:
        r_idx, r_val, r_sq = packed(r_idx, r_val)
        if q_run and np.array_equal(r_idx, q_idx):
            dot = _row_dot(r_val, 0, q_val, q_idx.shape[0])
        else:
            dot = _sorted_dot(r_idx, r_val, r_idx.shape[0], q_idx, q_val)
        d2 = max(q_sq + r_sq - 2.0 * dot, 0.0)
        if d2 <= 1e-12 * (q_sq + r_sq + 1.0):
            out[labelset[labelset < n_labels]] += 1.0
            return out, True
        d2s.append(d2)
    nearest = sorted(range(len(recent)), key=lambda i: d2s[i])[:k]  # stable: newer first on ties
    votes = [1.0 / math.sqrt(d2s[i]) for i in nearest]
    total = 0.0
    for vote in votes:
        total += vote
    for i, vote in zip(nearest, votes):
        for label in recent[i][2]:
            if label < n_labels:
                out[label] += vote / total
    return out, False


@pytest.mark.parametrize("memo_size", [0, 64, 1 << 13])
def test_knn_answers_bit_for_bit_as_float64_everywhere(memo_size):
    """Screened dense rows (skipped by their bounds, eight at a time or alone), rows measured
    in float64, the memo's distances shared by models that hold some records each, and rings of
    every length that wrap around (windows below and above eight groups of k rows) give the
    answer of measuring every row in float64, bit for bit: near ties, exact repeats and rows at
    equal distances included."""
    records = _near_tie_stream(seed=35, n=500)
    rng = np.random.default_rng(36)
    for t in range(40, len(records), 25):
        # rows at equal distances (integers: every sum exact), more of them than k, before the
        # record at their centre
        centre = rng.integers(1, 4, size=20).astype(np.float64)
        for j in range(6):
            records[t - 6 + j] = (np.arange(20), centre + 4.0 * (np.arange(20) == j), np.array([j % 5]))
        records[t] = (np.arange(20), centre, np.array([0]))
    for t in range(80, len(records), 50):
        # copies of a row that cannot be screened (a value out of float32's range), older than a
        # row within the exact-match tolerance but not at distance 0, which decides
        val = rng.normal(size=20)
        val[3] = 1e-20
        near = val.copy()
        near[0] += 3e-7
        labels = [np.array([0]), np.array([1]), np.array([2])]
        records[t - 6 : t] = [(np.arange(20), val, labels[0])] * 5 + [(np.arange(20), near, labels[1])]
        records[t] = (np.arange(20), val, labels[2])
    memo = DistanceMemo(size=memo_size) if memo_size else None
    shapes = [(1, 9), (3, 16), (4, 37), (5, 200), (8, 67)]
    models = [KnnLabelCombination(k=k, window=w, memo=memo) for k, w in shapes]
    histories = [[] for _ in shapes]
    n_exact = 0
    for idx, val, labelset in records:
        for model, history in zip(models, histories):
            expected, exact = _float64_knn(history, idx, val, model.k, model.window, 5)
            np.testing.assert_array_equal(model.predict_proba(idx, val, 5), expected)
            n_exact += exact
        for model, history in zip(models, histories):
            if rng.random() < 0.8:
                model.learn(idx, val, labelset)
                history.append((idx, val, labelset))
    assert (models[3]._row_run_first >= 0).sum() > 100
    assert n_exact > 100


def test_knn_screens_dense_rows_with_zeros_bit_for_bit_as_float64_everywhere():
    """Dense records whose zeros break their runs of ids (as sparse ARFF files give), over a
    feature range that widens as the stream goes on, are screened in the float32 frame and
    still answer as measuring every row in float64 does, bit for bit."""
    rng = np.random.default_rng(41)
    base = rng.normal(size=(5, 60))
    memo = DistanceMemo(size=128)
    models = [KnnLabelCombination(k=k, window=w, memo=memo) for k, w in [(3, 30), (5, 120)]]
    histories = [[] for _ in models]
    n_measured = n_stored = 0
    for t in range(400):
        width = 20 if t < 150 else 60  # new features from record 150 on: the frame widens
        val = base[rng.integers(5), :width] * (1.0 + 1e-7 * rng.normal(size=width))
        val[rng.random(width) < 0.2] = 0.0  # zeros, which a sparse encoding leaves out
        if t % 37 == 0 and histories[1]:
            val = np.zeros(width)
            h_idx, h_val, _ = histories[1][-3]
            val[h_idx] = h_val  # an exact repeat
        keep = val != 0.0
        idx, val, labelset = np.arange(width)[keep], val[keep], np.array([int(rng.integers(4))])
        for model, history in zip(models, histories):
            expected, _ = _float64_knn(history, idx, val, model.k, model.window, 4)
            np.testing.assert_array_equal(model.predict_proba(idx, val, 4), expected)
        n_measured += int((memo.query == memo.query.max()).sum())
        n_stored += models[1].n_stored
        for model, history in zip(models, histories):
            model.learn(idx, val, labelset)
            history.append((idx, val, labelset))
    assert models[1]._col_f32.shape[0] == 64
    assert (models[1]._row_run_first == GAPPED).sum() > 100  # rows with zeros were screened
    assert n_stored - n_measured > 10_000  # distances that stayed float32 estimates


def test_knn_rows_outside_the_float32_safe_range_are_not_screened():
    model = KnnLabelCombination(k=1, window=4)
    for v in (1.0, 1e-20, 1e20, 0.5):
        model.learn(np.arange(3), np.array([2.0, v, 1.0]), np.array([0]))
    assert model._row_run_first.tolist() == [0, -1, -1, 0]
    assert model._col_f32.shape == (16, 4)  # a column per row, room for runs up to 16 ids
    model.learn(np.array([0, 2]), np.array([1.0, 1.0]), np.array([1]))  # in the frame, not a run of ids
    assert model._row_run_first[0] == GAPPED
    model.learn(np.array([0, 30]), np.array([1.0, 1.0]), np.array([1]))  # sparse, beyond the frame
    assert model._row_run_first[1] == UNFRAMED and model._col_f32.shape == (16, 4)
    model.learn(np.arange(20) + 2, np.ones(20), np.array([1]))  # dense beyond the frame: it widens
    assert model._row_run_first[2] == 2 and model._col_f32.shape == (32, 4)
    np.testing.assert_array_equal(model._col_f32[:, 0], [1, 0, 1] + [0] * 29)  # kept, zeros included
    np.testing.assert_array_equal(model._col_f32[:, 2], [0, 0] + [1] * 20 + [0] * 10)
    model.learn(np.array([5]), np.array([4.0]), np.array([1]))  # evicts row 3, which leaves its column
    np.testing.assert_array_equal(model._col_f32[:, 3], [0] * 5 + [4] + [0] * 26)
    assert model._row_run_first[3] == 5
    model.learn(np.array([7]), np.array([2.0]), np.array([1]))  # evicts row 0, which leaves its column
    np.testing.assert_array_equal(model._col_f32[:, 0], [0] * 7 + [2] + [0] * 24)


def test_majority_labelset_prediction_follows_the_majority():
    """The prediction is kept between records, and renewed when the majority or the label count
    changes."""
    model = MajorityLabelset()
    model.learn(np.array([0]), 2.0)
    first = model.predict_proba(3)
    assert model.predict_proba(3) is first  # unchanged answer, same array
    model.learn(np.array([1, 2]), 3.0)
    np.testing.assert_array_equal(model.predict_proba(3), [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(first, [1.0, 0.0, 0.0])  # the array handed out earlier is intact
    np.testing.assert_array_equal(model.predict_proba(2), [0.0, 1.0])
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(3), [0.0, 1.0, 1.0])


def test_distance_memo_numbers_arrays_by_identity():
    memo = DistanceMemo(size=16)
    idx, val = np.array([1, 2]), np.array([1.0, 2.0])
    first = memo.number(idx, val)
    assert memo.number(idx, val) == first
    assert memo.number(idx.copy(), val) == first + 1  # equal values, other arrays: a new record
    assert memo.number(idx, val) == first + 2


# ------------------------------------------------------------------------------------------------
# Bagged logistic binary relevance


class SplitMix64Poisson:
    """Poisson(1) draws from SplitMix64, written out in plain Python integers."""

    def __init__(self, seed):
        self.state = seed % 2**64

    def uniform(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) % 2**64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2**64
        z ^= z >> 31
        return (z >> 11) / 2**53

    def poisson(self):
        u, k, p = self.uniform(), 0, math.exp(-1)
        cdf = p
        while u >= cdf:
            k += 1
            p /= k
            cdf += p
        return k


class PlainBaggedLogisticBR:
    """Dense per-label bagged logistic regression with plain SGD, for comparison."""

    def __init__(self, n_features, n_models, seed=None, lr=0.3, intercept_lr=0.01):
        self.n_features, self.n_models = n_features, n_models
        self.lr, self.intercept_lr = lr, intercept_lr
        self.draws = SplitMix64Poisson(seed) if seed is not None else None
        self.w, self.b = {}, {}  # label -> (n_models, n_features), (n_models,)

    def learn(self, x, positives):
        for label in positives:
            if label not in self.w:
                self.w[label] = np.zeros((self.n_models, self.n_features))
                self.b[label] = np.zeros(self.n_models)
        for label in sorted(self.w):
            y = 1.0 if label in positives else 0.0
            for m in range(self.n_models):
                for _ in range(self.draws.poisson() if self.draws else 1):
                    p = 1.0 / (1.0 + math.exp(-(self.w[label][m] @ x + self.b[label][m])))
                    self.b[label][m] -= self.intercept_lr * (p - y)
                    self.w[label][m] -= self.lr * (p - y) * x

    def predict_proba(self, x, n_labels):
        out = np.zeros(n_labels)
        for label in self.w:
            z = self.w[label] @ x + self.b[label]
            out[label] = np.mean(1.0 / (1.0 + np.exp(-z)))
        return out


def br_stream(seed, n):
    """A sparse stream whose labels depend on the features (so the weights go somewhere)."""
    records = sparse_stream(seed, n)
    n_features = n_features_of(records)
    rng = np.random.default_rng(seed + 1)
    true_w = rng.normal(size=(6, n_features))
    out = []
    for idx, val, labelset in records:
        extra = np.flatnonzero(true_w[:, idx] @ val > 0.5) + 10  # labels 10..15
        out.append((idx, val, np.union1d(labelset, extra).astype(np.int64)))
    return out


@pytest.mark.parametrize("n_models, bootstrap", [(1, False), (3, True)])
def test_bagged_br_matches_plain_sgd(n_models, bootstrap):
    seed = 11
    records = br_stream(seed=4, n=200)
    n_features, n_labels = n_features_of(records), n_labels_of(records)
    model = BaggedLogisticBR(n_models=n_models, seed=seed, bootstrap=bootstrap)
    plain = PlainBaggedLogisticBR(n_features, n_models, seed=seed if bootstrap else None)
    for idx, val, positives in records:
        x = dense(idx, val, n_features)
        np.testing.assert_allclose(
            model.predict_proba(idx, val, n_labels), plain.predict_proba(x, n_labels),
            rtol=1e-9, atol=1e-12,
        )  # fmt: skip
        model.learn(idx, val, positives, n_labels)
        plain.learn(x, set(positives.tolist()))
    assert sorted(plain.w) == model.labels_with_ensemble().tolist()
    for label in plain.w:
        intercepts, weights = model.coefficients(label, n_features)
        np.testing.assert_allclose(intercepts, plain.b[label], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(weights, plain.w[label], rtol=1e-9, atol=1e-12)
    assert np.abs(weights).max() > 0.1


def test_bagged_br_with_one_member_matches_river_logistic_regression():
    """River's log-loss gradient swaps in approximations when |logit| > 18 (off by up to
    exp(-18) when the model is confidently wrong) and its sigmoid returns exactly 0 or 1 past
    |30|; this stream stays where both agree with the exact formulas used here to ~1e-15."""
    rng = np.random.default_rng(2)
    n_features, n_labels = 6, 4
    true_w = rng.normal(size=(n_labels, n_features))
    model = BaggedLogisticBR(n_models=1, bootstrap=False)
    per_label = {}
    for _ in range(300):
        x = rng.normal(size=n_features)
        x[rng.random(n_features) < 0.3] = 0.0
        positives = np.flatnonzero(true_w @ x + 0.3 * rng.normal(size=n_labels) > 0.8)
        x_dict = {f: float(v) for f, v in enumerate(x)}
        expected = np.zeros(n_labels)
        for label, lr in per_label.items():
            expected[label] = lr.predict_proba_one(x_dict)[True]
        got = model.predict_proba(np.arange(n_features), x, n_labels)
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)

        model.learn(np.arange(n_features), x, positives, n_labels)
        for label in positives:
            per_label.setdefault(
                label,
                linear_model.LogisticRegression(
                    optimizer=optim.SGD(0.3), intercept_lr=0.01, l2=0.0
                ),
            )
        for label, lr in per_label.items():
            lr.learn_one(x_dict, bool(label in positives))
    assert len(per_label) == n_labels
    for label, lr in per_label.items():
        intercepts, weights = model.coefficients(label, n_features)
        river_weights = [lr.weights.get(f, 0.0) for f in range(n_features)]
        np.testing.assert_allclose(weights[0], river_weights, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(intercepts[0], lr.intercept, rtol=1e-10, atol=1e-12)


def test_bagged_br_prediction_is_the_mean_of_member_sigmoids():
    records = br_stream(seed=6, n=80)
    n_features, n_labels = n_features_of(records), n_labels_of(records)
    model = BaggedLogisticBR(n_models=5, seed=3)
    for idx, val, positives in records:
        model.learn(idx, val, positives, n_labels)
    idx, val, _ = records[-1]
    x = dense(idx, val, n_features)
    got = model.predict_proba(idx, val, n_labels + 3)
    for label in range(n_labels + 3):
        coefficients = model.coefficients(label, n_features)
        if coefficients is None:
            assert got[label] == 0.0
            continue
        intercepts, weights = coefficients
        members = 1.0 / (1.0 + np.exp(-(weights @ x + intercepts)))
        assert np.ptp(members) > 0.0  # the bootstrap made the members differ
        assert got[label] == pytest.approx(members.mean(), rel=1e-12)


def run_br(records, n_labels, **params):
    model = BaggedLogisticBR(**params)
    out = []
    for idx, val, positives in records:
        out.append(model.predict_proba(idx, val, n_labels))
        model.learn(idx, val, positives, n_labels)
    return np.array(out)


def test_bagged_br_is_deterministic_given_the_seed():
    records = br_stream(seed=8, n=120)
    n_labels = n_labels_of(records)
    a = run_br(records, n_labels, n_models=4, seed=5)
    b = run_br(records, n_labels, n_models=4, seed=5)
    c = run_br(records, n_labels, n_models=4, seed=6)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3
    assert a.min() >= 0.0 and a.max() <= 1.0
    for label in range(n_labels):  # 0 until the label's first positive has been learned
        positive_at = [t for t, (_, _, positives) in enumerate(records) if label in positives]
        first = positive_at[0] if positive_at else len(records)
        assert (a[: first + 1, label] == 0.0).all() and (a[first + 1 :, label] > 0.0).all()


def test_bagged_br_rejects_positives_outside_the_label_space():
    model = BaggedLogisticBR()
    with pytest.raises(ValueError):
        model.learn(np.array([0]), np.array([1.0]), np.array([0, 3]), 3)


def test_bagged_br_keeps_ensembles_when_the_label_space_argument_shrinks():
    model = BaggedLogisticBR(n_models=2, seed=0)
    x_idx, x_val = np.array([1, 4]), np.array([1.0, 2.0])
    model.learn(x_idx, x_val, np.arange(5, 10), 10)
    before = model.predict_proba(x_idx, x_val, 10)
    model.learn(x_idx, x_val, np.arange(0, 5), 5)  # five more ensembles than labels in this call
    assert model.labels_with_ensemble().tolist() == list(range(10))
    after = model.predict_proba(x_idx, x_val, 10)
    np.testing.assert_array_equal(after[5:], before[5:])  # labels outside the call: untouched
    assert (before[:5] == 0.0).all() and (after[:5] >= 0.5).all()


def test_poisson_draws_follow_poisson_one():
    draws = poisson_draws(new_rng_state(123), 200_000)
    for k in range(5):
        assert (draws == k).mean() == pytest.approx(math.exp(-1) / math.factorial(k), abs=0.004)
    reference = SplitMix64Poisson(123)
    assert draws[:1000].tolist() == [reference.poisson() for _ in range(1000)]


def test_poisson_inversion_by_table_agrees_with_summing_the_cdf_at_every_boundary():
    def summed(u):  # the inversion as the draw would sum it, stopping where the term underflows
        k, p = 0, math.exp(-1)
        cdf = p
        while u >= cdf and p > 0.0:
            k += 1
            p /= k
            cdf += p
        return k

    cdf, k, p = [], 0, math.exp(-1)
    total = p
    while total < 1.0 and k < 30:
        cdf.append(total)
        k += 1
        p /= k
        total += p
    us = [0.0, 0.5, 1.0 - 2.0**-53]
    for c in cdf:
        us += [math.nextafter(c, 0.0), c, math.nextafter(c, 1.0)]
    got = [_poisson_of_uniform(u) for u in us]
    assert got == [summed(u) for u in us]
    assert got[:2] == [0, 1] and max(got) >= 15  # the table reaches far into the tail


# ------------------------------------------------------------------------------------------------
# Both models: sparse = dense with zeros, pickling mid-stream, memory


def learn_one(model, idx, val, labels, n_labels):
    if isinstance(model, KnnLabelCombination):
        model.learn(idx, val, labels)
    else:
        model.learn(idx, val, labels, n_labels)


MODELS = [
    pytest.param(lambda: KnnLabelCombination(k=3, window=25), id="knn"),
    pytest.param(lambda: BaggedLogisticBR(n_models=4, seed=2), id="bagged-br"),
]


@pytest.mark.parametrize("make", MODELS)
def test_sparse_input_equals_dense_input_with_explicit_zeros(make):
    records = br_stream(seed=9, n=100)
    n_features, n_labels = n_features_of(records), n_labels_of(records)
    sparse, dense_model = make(), make()
    all_ids = np.arange(n_features)
    for idx, val, labels in records:
        x = dense(idx, val, n_features)
        # equal up to the order of floating-point sums (sparse ids are not always sorted)
        np.testing.assert_allclose(
            sparse.predict_proba(idx, val, n_labels),
            dense_model.predict_proba(all_ids, x, n_labels),
            rtol=1e-12,
            atol=1e-15,
        )
        learn_one(sparse, idx, val, labels, n_labels)
        learn_one(dense_model, all_ids, x, labels, n_labels)


@pytest.mark.parametrize("make", MODELS)
def test_pickled_model_continues_identically(make):
    records = br_stream(seed=10, n=120)
    n_labels = n_labels_of(records)
    model = make()
    for idx, val, labels in records[:60]:
        learn_one(model, idx, val, labels, n_labels)
    copy = pickle.loads(pickle.dumps(model))
    assert copy.memory_bytes() == model.memory_bytes()
    for idx, val, labels in records[60:]:
        np.testing.assert_array_equal(
            copy.predict_proba(idx, val, n_labels), model.predict_proba(idx, val, n_labels)
        )
        learn_one(model, idx, val, labels, n_labels)
        learn_one(copy, idx, val, labels, n_labels)


@pytest.mark.parametrize("make", MODELS)
def test_label_errors_of_a_model_score_its_own_prediction_and_leave_it_learning_the_same(make):
    """``model.label_errors`` counts the errors of ``predict_proba`` inside one kernel call; a
    model scored that way (BR keeps the record's logits for learning it) must go on exactly as
    one whose prediction was scored in Python."""
    from stream_xml.tree.common_kernels import label_errors

    records = br_stream(seed=14, n=150)
    n_labels = n_labels_of(records)
    scored, predicted = make(), make()
    counts = []
    for idx, val, labels in records:
        expected = label_errors(predicted.predict_proba(idx, val, n_labels), labels)
        assert scored.label_errors(idx, val, n_labels, labels) == expected
        counts.append(expected)
        learn_one(scored, idx, val, labels, n_labels)
        learn_one(predicted, idx, val, labels, n_labels)
    assert len(set(counts)) > 2  # the records were scored with several error counts
    idx, val, _ = records[0]
    np.testing.assert_array_equal(scored.predict_proba(idx, val, n_labels), predicted.predict_proba(idx, val, n_labels))


def _assert_same_state(a, b):
    """Every attribute of two models equal (arrays element by element, memos by their arrays)."""
    state_a, state_b = vars(a), vars(b)
    assert state_a.keys() == state_b.keys()
    for name, value in state_a.items():
        other = state_b[name]
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(value, other, err_msg=name)
        elif isinstance(value, DistanceMemo):
            for part in ("seq", "query", "d2", "shared", "shared_d2"):
                np.testing.assert_array_equal(getattr(value, part), getattr(other, part), err_msg=part)
        elif name != "_logits_of":  # (arrays of the record at hand) checked through the logits
            assert value == other, name


def _dense_runs(records, every=3):
    """Every ``every``-th record as a run of consecutive feature ids (float32-screened rows)."""
    out = []
    for t, (idx, val, labels) in enumerate(records):
        if t % every == 0 and idx.shape[0]:
            idx = np.arange(5, 5 + idx.shape[0], dtype=np.int64)
        out.append((idx, val, labels))
    return out


@pytest.mark.parametrize(
    "make",
    MODELS
    + [
        pytest.param(lambda: KnnLabelCombination(k=3, window=25, memo=DistanceMemo()), id="knn-memo"),
        pytest.param(lambda: BaggedLogisticBR(n_models=3, seed=5, bootstrap=False), id="bagged-br-plain"),
    ],
)
def test_score_and_learn_is_label_errors_then_learn(make):
    """The fused call (scoring then learning in one kernel call) counts what ``label_errors``
    counts and leaves the model exactly as ``label_errors`` followed by ``learn`` do, through the
    calls that must first grow the arrays (new labels, labelsets, features, a fuller pool and
    the first float32-screened row); every other record it also scores another prediction."""
    from stream_xml.tree.common_kernels import label_errors

    records = _dense_runs(br_stream(seed=21, n=160))
    fused, apart = make(), make()
    rng = np.random.default_rng(22)
    seen_labels = 1
    counts = []
    for idx, val, labels in records:
        if labels.shape[0]:
            seen_labels = max(seen_labels, int(labels[-1]) + 1)  # the label space grows as in a tree
        also = rng.random(seen_labels) if len(counts) % 2 else None
        expected = apart.label_errors(idx, val, seen_labels, labels)
        learn_one(apart, idx, val, labels, seen_labels)
        also_expected = None if also is None else label_errors(also, labels)
        assert fused.score_and_learn(idx, val, labels, seen_labels, also) == (expected, also_expected)
        counts.append(expected)
        if len(counts) % 7 == 0:  # the same arrays learned again: nothing of the first call may linger
            learn_one(apart, idx, val, labels, seen_labels)
            learn_one(fused, idx, val, labels, seen_labels)
        _assert_same_state(fused, apart)
    assert len(set(counts)) > 2
    idx, val, _ = records[-1]
    np.testing.assert_array_equal(fused.predict_proba(idx, val, seen_labels), apart.predict_proba(idx, val, seen_labels))


def test_bagged_br_memory_follows_distinct_features_not_their_ids():
    records = br_stream(seed=12, n=100)
    n_labels = n_labels_of(records)
    offset = 10**12
    small, huge = BaggedLogisticBR(seed=1), BaggedLogisticBR(seed=1)
    for idx, val, labels in records:
        np.testing.assert_array_equal(
            huge.predict_proba(idx + offset, val, n_labels),
            small.predict_proba(idx, val, n_labels),
        )
        small.learn(idx, val, labels, n_labels)
        huge.learn(idx + offset, val, labels, n_labels)
    assert huge.memory_bytes() == small.memory_bytes()


def test_label_errors_counts_the_symmetric_difference_of_predicted_and_true_sets():
    from stream_xml.tree.common_kernels import label_errors

    rng = np.random.default_rng(4)
    for _ in range(300):
        n = int(rng.integers(0, 12))
        proba = rng.choice([0.0, 0.5, 0.51, 1.0], size=n)
        positives = np.flatnonzero(rng.random(n) < 0.4).astype(np.int64)
        predicted = {j for j in range(n) if proba[j] > 0.5}
        assert label_errors(proba, positives) == len(predicted ^ set(positives.tolist()))


def test_bagged_br_dense_records_learn_as_their_shuffled_copies():
    """Dense records (consecutive columns) take a contiguous path; the same records with their
    features listed in another order take the general one: the models must agree."""
    rng = np.random.default_rng(12)
    contiguous, shuffled = BaggedLogisticBR(seed=4), BaggedLogisticBR(seed=4)
    for _ in range(300):
        idx = np.arange(12, dtype=np.int64)
        val = rng.normal(size=12)
        positives = np.flatnonzero(rng.random(3) < 0.5 + 0.3 * np.tanh(val[:3])).astype(np.int64)
        order = rng.permutation(12)
        np.testing.assert_allclose(
            contiguous.predict_proba(idx, val, 3), shuffled.predict_proba(idx[order], val[order], 3),
            rtol=1e-9, atol=1e-12,
        )
        contiguous.learn(idx, val, positives, 3)
        shuffled.learn(idx[order], val[order], positives, 3)


def test_gathered_and_merged_sparse_dots_are_bit_identical():
    """The kNN scans stored rows against the query scattered into a dense array when that is
    cheaper; the sums must equal the merge of the two id lists exactly, so predictions do not
    depend on which path ran."""
    from stream_xml.tree.knn_kernels import _gathered_dot, _sorted_dot

    rng = np.random.default_rng(11)
    for _ in range(300):
        a_idx = np.sort(rng.choice(60, size=rng.integers(0, 20), replace=False))
        b_idx = np.sort(rng.choice(60, size=rng.integers(1, 20), replace=False))
        a_val, b_val = rng.normal(size=a_idx.size), rng.normal(size=b_idx.size)
        dense_b = np.zeros(60)
        dense_b[b_idx] = b_val
        merged = _sorted_dot(a_idx, a_val, a_idx.size, b_idx, b_val)
        assert _gathered_dot(a_idx, a_val, a_idx.size, dense_b) == merged


def test_rows_dotted_four_at_a_time_give_the_one_at_a_time_sums():
    from stream_xml.tree.knn_kernels import _gathered_dot, _gathered_dots

    rng = np.random.default_rng(12)
    window = 23
    row_nnz = rng.integers(0, 21, size=window)
    row_start = rng.permutation(np.cumsum(row_nnz) - row_nnz)  # rows anywhere in the pool
    pool_idx = np.zeros(row_nnz.sum(), dtype=np.int64)
    pool_val = np.zeros(row_nnz.sum())
    row_nnz = row_nnz[np.argsort(np.argsort(row_start))]  # each row fits before the next start
    row_start = np.sort(row_start)
    row_nnz = np.diff(np.append(row_start, pool_idx.size))
    for r in range(window):
        s, n = row_start[r], row_nnz[r]
        pool_idx[s : s + n] = np.sort(rng.choice(80, size=n, replace=False))
        pool_val[s : s + n] = rng.normal(size=n)
    dense_q = rng.normal(size=80) * (rng.random(80) < 0.5)
    for n in (0, 3, 4, 9, 23):  # whole groups of four and leftovers
        rows = rng.permutation(window)[:n]
        dots = np.empty(n)
        _gathered_dots(pool_idx, pool_val, row_start, row_nnz, rows, dense_q, dots)
        one_by_one = [
            _gathered_dot(pool_idx[row_start[r]:], pool_val[row_start[r]:], row_nnz[r], dense_q) for r in rows
        ]
        assert dots.tolist() == one_by_one


def test_knn_pool_repacks_and_keeps_memory_to_the_stored_non_zeros():
    model = KnnLabelCombination(k=2, window=10)
    rng = np.random.default_rng(14)
    long_row = np.arange(300)
    model.learn(long_row, np.ones(300), np.array([0]))  # one long record, then short ones
    for t in range(200):
        idx = np.sort(rng.choice(1000, size=5, replace=False))
        model.learn(idx, rng.normal(size=5), np.array([t % 3]))
    assert model._counts[3] <= model._pool_idx.size <= 2 * 10 * 5 + 64  # the long row left
    # the newest record is found exactly
    start = model._row_start[(model._counts[0] - 1) % 10]
    np.testing.assert_array_equal(model._pool_idx[start : start + 5], idx)
    np.testing.assert_array_equal(model.predict_proba(idx, model._pool_val[start : start + 5], 3), np.eye(3)[199 % 3])


def test_knn_dense_rows_take_the_place_of_the_rows_they_evict():
    """Once the ring is full, a record with as many non-zeros as the row it evicts is written
    over it: the pool stops growing and never repacks. Predictions stay those of the plainest
    kNN, also when rows of other sizes (appended) come in between."""
    window, n_features, n_labels = 8, 6, 3
    model = KnnLabelCombination(k=3, window=window)
    rng = np.random.default_rng(21)
    history = []

    def step(t, idx, val):
        x = dense(idx, val, 10)
        np.testing.assert_allclose(
            model.predict_proba(idx, val, n_labels), brute_force_knn(history, x, 3, window, n_labels), rtol=1e-9, atol=1e-12
        )
        labels = np.array([t % n_labels])
        model.learn(idx, val, labels)
        history.append((x, labels))

    for t in range(60):
        step(t, np.arange(n_features), rng.normal(size=n_features))
        if t == window - 1:
            pool, used = model._pool_idx, int(model._counts[3])
    assert model._pool_idx is pool and int(model._counts[3]) == used == window * n_features
    assert sorted(int(s) for s in model._row_start) == list(range(0, window * n_features, n_features))
    for t in range(60, 200):  # rows of 1 to 10 non-zeros: some take an evicted row's place, some not
        n = int(rng.integers(1, 11))
        step(t, np.sort(rng.choice(10, size=n, replace=False)), rng.normal(size=n))
    assert model._counts[3] <= model._pool_idx.size <= 2 * window * 10 + 64

def test_knn_pool_repacked_in_place_equals_a_copy_and_refuses_rows_out_of_age_order():
    from stream_xml.tree.knn_kernels import knn_repack

    model = KnnLabelCombination(k=2, window=6)
    rng = np.random.default_rng(16)
    for t in range(40):  # rows of 1 to 6 non-zeros; the ring wraps, evicted rows leave gaps
        n = int(rng.integers(1, 7))
        model.learn(np.sort(rng.choice(50, size=n, replace=False)), rng.normal(size=n), np.array([t % 2]))
    arrays = [model._pool_idx, model._pool_val, model._row_start, model._row_nnz, model._counts]
    copied = [a.copy() for a in arrays]
    fresh_idx, fresh_val = np.zeros_like(copied[0]), np.zeros_like(copied[1])
    assert knn_repack(*copied, fresh_idx, fresh_val, False)
    assert knn_repack(*arrays, model._pool_idx, model._pool_val, True)
    used = int(model._counts[3])
    assert used == copied[4][3] and used < copied[0].size
    np.testing.assert_array_equal(model._pool_idx[:used], fresh_idx[:used])
    np.testing.assert_array_equal(model._pool_val[:used], fresh_val[:used])
    np.testing.assert_array_equal(model._row_start, copied[2])
    # the two newest rows swapped in the pool: moving in place could overwrite one, so it refuses
    newest, previous = (int(model._counts[0]) - 1) % 6, (int(model._counts[0]) - 2) % 6
    model._row_start[newest], model._row_start[previous] = model._row_start[previous], model._row_start[newest]
    before = [a.copy() for a in arrays]
    assert not knn_repack(*arrays, model._pool_idx, model._pool_val, True)
    for a, b in zip(arrays, before):
        np.testing.assert_array_equal(a, b)


def test_bagging_learning_a_predicted_record_reuses_its_logits_and_learns_the_same():
    records = br_stream(seed=15, n=150)
    n_labels = n_labels_of(records)
    asked, silent = BaggedLogisticBR(seed=3), BaggedLogisticBR(seed=3)
    for t, (idx, val, labels) in enumerate(records):
        if t % 3:  # most records are predicted first, as prequential evaluation does
            asked.predict_proba(idx, val, n_labels)
        if t % 7 == 0:  # a prediction of another record in between is not reused
            asked.predict_proba(idx + 1, val, n_labels)
        learn_one(asked, idx, val, labels, n_labels)
        learn_one(silent, idx, val, labels, n_labels)
    assert np.array_equal(asked._weights, silent._weights)
    assert np.array_equal(asked._intercepts, silent._intercepts)
    assert pickle.dumps(asked) == pickle.dumps(silent)  # the logits are a cache, not state
