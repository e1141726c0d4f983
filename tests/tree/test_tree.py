"""MLHAT / MLHT: entropy and bounds, Gaussian observers under sparse semantics, split decisions,
prediction, drift adaptation, determinism, pickling and river's estimator checks."""

from __future__ import annotations

import copy
import math
import pickle
import random

import numpy as np
import pytest
from river import checks, datasets
from river import drift as river_drift

from stream_xml.tree import MLHAT, MLHT
from stream_xml.tree.features import FeatureIndex
from stream_xml.tree.entropy import hoeffding_bound, hoeffding_range, ml_entropy, split_merit
from stream_xml.tree.mlhat import poisson_one
from stream_xml.tree.nodes import Branch, Leaf, iter_nodes
from stream_xml.tree.observers import GaussianObservers


def h(p: float) -> float:
    return -p * math.log2(p) - (1 - p) * math.log2(1 - p)


def threshold_stream(n: int, seed: int, n_noise: int = 5):
    """Labels set by thresholds on x3 among uniform noise features: c below 0.3, a above,
    b above 0.6 as well."""
    rng = random.Random(seed)
    for _ in range(n):
        x = {f"x{j}": rng.random() for j in range(n_noise + 1)}
        v = x["x3"]
        yield x, {"a": v > 0.3, "b": v > 0.6, "c": v <= 0.3}


def flip_stream(n_before: int, n_after: int, seed: int):
    """Two labels decided by x0 > 0.5; after ``n_before`` records they swap (abrupt drift)."""
    rng = random.Random(seed)
    for t in range(n_before + n_after):
        x = {f"x{j}": rng.random() for j in range(4)}
        high = (x["x0"] > 0.5) != (t >= n_before)
        yield x, {"a": high, "b": not high}


def prequential_hits(model, stream) -> list[bool]:
    hits = []
    for x, y in stream:
        hits.append(model.predict_one(x) == y)
        model.learn_one(x, y)
    return hits


# -- entropy, merit, bounds ---------------------------------------------------------------------


def test_entropy_of_appendix_example():
    stats = np.array([100.0, 25.0, 50.0, 25.0])  # total, ∅, a, b
    assert ml_entropy(stats) == pytest.approx(h(0.5) + 2 * h(0.25))
    assert round(ml_entropy(stats), 4) == 2.6226
    # a single key besides the total has no entropy; proportions use the largest entry
    assert ml_entropy(np.array([10.0, 0.0, 4.0, 0.0])) == 0.0
    assert ml_entropy(np.array([10.0, 0.0, 12.0, 6.0])) == pytest.approx(h(0.5))


def test_hoeffding_range_and_bound():
    assert hoeffding_range(6) == pytest.approx(math.log2(6)) == pytest.approx(2.585, abs=1e-3)
    assert hoeffding_range(2) == 1.0 == hoeffding_range(1)
    bound = hoeffding_bound(math.log2(6), 1e-7, 400)
    assert bound == pytest.approx(math.sqrt(math.log2(6) ** 2 * math.log(1e7) / 800))


def test_information_gain_of_a_hand_computed_split():
    # 8 records: two each of ∅, {a}, {b}, {a, b}; the split puts ∅ and {a} left
    pre = np.array([8.0, 2.0, 4.0, 4.0])
    left = np.array([4.0, 2.0, 2.0, 0.0])
    right = np.array([4.0, 0.0, 2.0, 4.0])
    pre_h = h(0.25) + 1.0 + 1.0
    assert ml_entropy(pre) == pytest.approx(pre_h)
    expected = pre_h - (4 * 2.0 + 4 * 1.0) / 8  # left: h(.5) twice; right: h(.5), b pure
    assert split_merit(pre_h, left, right, 2, 2, 0.01) == pytest.approx(expected)
    # a branch carrying no more than 1% of the mass (labels + ∅) makes the merit -inf
    tiny = np.array([0.5, 0.0, 0.05, 0.0])
    rest = np.array([7.5, 2.0, 4.0, 4.0])
    assert split_merit(pre_h, tiny, rest, 1, 3, 0.01) == -np.inf  # 0.05 / 10.05 < 1%
    assert split_merit(pre_h, tiny, rest, 1, 3, 0.001) > -np.inf


# -- observers ------------------------------------------------------------------------------------


def direct_gaussian(values_weights):
    """Weighted count, mean, sample s.d., min, max from (value, integer weight) pairs."""
    values = [v for v, w in values_weights for _ in range(int(w))]
    n = len(values)
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    return n, mean, math.sqrt(var), min(values), max(values)


def test_gaussian_post_split_matches_a_direct_computation():
    rng = random.Random(3)
    obs, stats = GaussianObservers(), np.zeros(2)
    per_key = {k: [] for k in range(5)}  # values of feature 0 per key, absent features as 0
    for _ in range(300):
        positives = sorted(rng.sample(range(3), rng.randint(0, 2)))
        w = float(rng.randint(1, 3))
        present = rng.random() < 0.7
        v = rng.gauss(2.0 + positives[0] if positives else -1.0, 1.0)
        idx = np.array([0] if present else [], dtype=np.int64)
        val = np.array([v] if present else [])
        stats = obs.update(stats, idx, val, np.array(positives, dtype=np.int64), w)
        value = v if present else 0.0
        per_key[0].append((value, w))
        for key in [2 + p for p in positives] or [1]:
            per_key[key].append((value, w))
    for key, pairs in per_key.items():
        expected = direct_gaussian(pairs)
        assert obs.gaussian(0, key) == pytest.approx(expected, rel=1e-9, abs=1e-9)
    for threshold in [-0.5, 0.0, 1.3, 2.7]:
        left, right = obs.post_split(0, threshold)
        for key, pairs in per_key.items():
            n, mean, sd, low, high = direct_gaussian(pairs)
            if threshold < low:
                exp_left = 0.0
            elif threshold >= high:
                exp_left = n
            else:
                exp_left = n * 0.5 * (1 + math.erf((threshold - mean) / (sd * math.sqrt(2))))
            assert left[key] == pytest.approx(exp_left, rel=1e-9)
            assert right[key] == pytest.approx(n - exp_left, rel=1e-9, abs=1e-9)


def test_explicit_zeros_equal_absent_features_in_the_observers():
    rng = np.random.default_rng(5)
    dense, sparse = GaussianObservers(), GaussianObservers()
    s_dense, s_sparse = np.zeros(2), np.zeros(2)
    for _ in range(400):
        x = np.where(rng.random(6) < 0.5, 0.0, rng.normal(size=6))
        positives = np.flatnonzero(rng.random(3) < 0.4).astype(np.int64)
        nz = np.flatnonzero(x).astype(np.int64)
        s_dense = dense.update(s_dense, np.arange(6, dtype=np.int64), x, positives, 1.0)
        s_sparse = sparse.update(s_sparse, nz, x[nz], positives, 1.0)
    np.testing.assert_allclose(s_dense, s_sparse)
    for f in range(6):
        for key in range(5):
            assert sparse.gaussian(f, key) == pytest.approx(dense.gaussian(f, key), rel=1e-9)
    m_dense, t_dense = dense.best_splits(ml_entropy(s_dense), 10, 0.01)
    m_sparse, t_sparse = sparse.best_splits(ml_entropy(s_sparse), 10, 0.01)
    np.testing.assert_allclose(m_sparse, m_dense, rtol=1e-9)
    np.testing.assert_allclose(t_sparse, t_dense, rtol=1e-12)


# -- the tree -------------------------------------------------------------------------------------


def naive_bayes_by_hand(X, Y, x):
    """P(label = 1 | x) from dense records ``X`` (zeros included) and boolean labels ``Y``:
    per label, a Gaussian (ddof 1) per feature on each side, variances smoothed by 1e-9 of the
    largest feature variance, scipy's log densities."""
    from scipy.stats import norm

    smoothing = 1e-9 * X.var(axis=0, ddof=1).max()
    out = []
    for label in range(Y.shape[1]):
        on, off = X[Y[:, label]], X[~Y[:, label]]
        logit = math.log(len(on) / len(off))
        for side, sign in ((on, 1.0), (off, -1.0)):
            sd = np.sqrt(side.var(axis=0, ddof=1) + smoothing)
            logit += sign * norm.logpdf(x, loc=side.mean(axis=0), scale=sd).sum()
        out.append(1.0 / (1.0 + math.exp(-logit)))
    return np.array(out)


@pytest.mark.parametrize("n_labels", [3, 11])  # the kernel's label loops run 8 lanes at a time
def test_naive_bayes_over_the_observers_matches_a_dense_computation(n_labels):
    rng = np.random.default_rng(5)
    n, n_features = 300, 6
    X = rng.normal(size=(n, n_features)) + np.arange(n_features)
    X[rng.random(size=X.shape) < 0.3] = 0.0  # absent features: implicit zeros for the observers
    Y = rng.random(size=(n, n_labels)) < np.linspace(0.2, 0.7, n_labels)
    X[Y[:, 0], 2] += 3.0  # label 0 shifts feature 2
    obs, stats = GaussianObservers(), np.zeros(2)
    for row, labels in zip(X, Y):
        idx = np.flatnonzero(row)
        stats = obs.update(stats, idx, row[idx], np.flatnonzero(labels), 1.0)
    for row in rng.normal(size=(5, n_features)) + np.arange(n_features):
        row[1] = 0.0
        idx = np.flatnonzero(row)
        got = obs.naive_bayes(idx, row[idx], n_labels + 1)
        np.testing.assert_allclose(got[:n_labels], naive_bayes_by_hand(X, Y, row), rtol=1e-7, atol=1e-12)
        assert got[n_labels] == 0.0  # a label never seen


def test_naive_bayes_over_many_features_matches_a_dense_computation():
    """600 features whose variances differ by 10^4 between a label's records and the others',
    the first half one way and the second the other: the variance ratios' product runs far past
    the floats' range and back (the kernel multiplies them up and takes their logs now and then),
    while the logit stays moderate; the answer is still the dense, log-by-log computation's."""
    rng = np.random.default_rng(8)
    n, half = 400, 300
    Y = (rng.random(size=(n, 1)) < 0.5)
    on = Y[:, 0]
    scale = np.where(on[:, None], np.r_[np.full(half, 10.0), np.full(half, 0.1)],
                     np.r_[np.full(half, 0.1), np.full(half, 10.0)])  # fmt: skip
    X = rng.normal(size=(n, 2 * half)) * scale + 50.0  # no zeros: every feature is dense
    obs, stats = GaussianObservers(), np.zeros(2)
    for row, labels in zip(X, Y):
        stats = obs.update(stats, np.arange(2 * half), row, np.flatnonzero(labels), 1.0)
    ratios = X[on].var(axis=0, ddof=1) / X[~on].var(axis=0, ddof=1)
    with np.errstate(over="ignore"):
        assert np.prod(ratios[:half]) == np.inf  # the product the kernel must not form in one piece
    flows = 0
    for row in rng.normal(size=(20, 2 * half)) * 0.05 + 50.0:
        got = obs.naive_bayes(np.arange(2 * half), row, 1)
        want = naive_bayes_by_hand(X, Y, row)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)
        flows += 1e-6 < want[0] < 1 - 1e-6
    assert flows >= 5, flows  # answers that are not saturated, so the comparison says something


def test_naive_bayes_leaves_answer_by_the_features_before_any_split():
    """One leaf (no split within the stream): the majority labelset answers the same for
    everyone, naive Bayes by the record; a leaf whose observers are gone falls back to the
    majority."""
    rng = random.Random(8)
    stream = []
    for _ in range(600):
        v = rng.gauss(0.0, 1.0)
        stream.append(({"x0": v + (2.0 if v > 0 else -2.0), "x1": rng.random()}, {"a": v > 0, "b": rng.random() < 0.3}))
    hits = {}
    for leaf_model in ("majority", "nb"):
        model = MLHT(leaf_model=leaf_model, grace_period=10_000)
        hits[leaf_model] = sum(model.predict_one(x)["a"] == y["a"] for x, y in prequential_warm(model, stream))
        assert model.n_leaves == 1
    assert hits["nb"] > 0.95 * 500 and hits["majority"] < 0.6 * 500
    model.root.deactivate()
    assert model.predict_scores({"x0": 3.0, "x1": 0.5}) == {"a": 0.0, "b": 0.0}


def prequential_warm(model, stream, warm=100):
    """Learn the first ``warm`` records, then yield the others, each learned after the caller
    has predicted it."""
    for x, y in stream[:warm]:
        model.learn_one(x, y)
    for x, y in stream[warm:]:
        yield x, y
        model.learn_one(x, y)


def test_naive_bayes_of_a_label_in_every_record_or_none():
    obs, stats = GaussianObservers(), np.zeros(2)
    for v in (1.0, 2.0, 4.0):
        stats = obs.update(stats, np.array([0]), np.array([v]), np.array([0]), 1.0)
    np.testing.assert_array_equal(obs.naive_bayes(np.array([0]), np.array([2.0]), 2), [1.0, 0.0])
    assert GaussianObservers().naive_bayes(np.array([0]), np.array([1.0]), 2).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("make", [lambda: MLHAT(leaf_model="majority"), MLHT],
                         ids=["mlhat", "mlht"])  # fmt: skip
def test_separable_stream_splits_on_the_informative_feature(make):
    model = make()
    hits = prequential_hits(model, threshold_stream(3000, seed=1))
    splits = [e for e in model.drain_events() if e["kind"] == "split"]
    root = splits[0]
    assert root["depth"] == 0 and root["feature"] == "x3"
    assert min(abs(root["threshold"] - 0.3), abs(root["threshold"] - 0.6)) < 0.1
    assert all(e["feature"] == "x3" for e in splits if not e["background"])
    assert sum(hits[-1000:]) / 1000 > 0.9
    assert model.n_nodes == 2 * model.n_leaves - 1 and model.depth >= 2


def test_sparse_and_dense_records_grow_the_same_tree():
    rng = random.Random(2)
    dense_model, sparse_model = MLHAT(grace_period=100), MLHAT(grace_period=100)
    for _ in range(1500):
        x = {f"f{j}": (rng.random() if rng.random() < 0.4 else 0.0) for j in range(8)}
        y = {"a": x["f1"] > 0.3, "b": x["f2"] > 0.5 or x["f1"] > 0.8}
        sparse_x = {k: v for k, v in x.items() if v != 0.0}
        assert dense_model.predict_scores(x) == sparse_model.predict_scores(sparse_x)
        dense_model.learn_one(x, y)
        sparse_model.learn_one(sparse_x, y)
    dense_events = dense_model.drain_events()
    assert any(e["kind"] == "split" for e in dense_events)
    assert dense_events == sparse_model.drain_events()
    assert dense_model.n_nodes == sparse_model.n_nodes


def test_labels_appearing_mid_stream():
    # kNN leaves: with majority leaves a label nested in a pure leaf's region could not be
    # learned, since the leaf's old labels keep a share of 1 and the share rule stops it
    model = MLHAT(leaf_model="knn", grace_period=100)
    stream = list(threshold_stream(2000, seed=4))
    for t, (x, y) in enumerate(stream):
        if t < 500:
            y = {"a": y["a"], "b": y["b"]}
        else:
            y = {"a": y["a"], "b": y["b"], "d": x["x3"] > 0.8}  # ("c" is left out)
        model.learn_one(x, y)
        if t == 499:
            assert model.labels == ["a", "b"]
            assert set(model.predict_one(x)) == {"a", "b"}
    assert model.labels == ["a", "b", "d"]
    assert model.predict_one({"x3": 0.95}) == {"a": True, "b": True, "d": True}
    assert model.predict_one({"x3": 0.7}) == {"a": True, "b": True, "d": False}
    # a label only ever named through learn_labelset is added, the others stay negative
    model.learn_labelset({"x3": 0.1}, ["e"])
    assert model.labels[-1] == "e" and model.predict_scores({"x3": 0.1})["a"] == 0.0


def test_labelsets_as_frozensets_learn_as_lists_do(monkeypatch):
    """A tree keeps the id arrays of labelsets given as frozensets; with a label appearing
    mid-stream and the cache starting over, it learns what the same labelsets given as lists
    teach it."""
    monkeypatch.setattr("stream_xml.tree.mlhat.MAX_KEPT_LABELSETS", 5)
    stream = list(threshold_stream(1500, seed=6))
    kept, listed = MLHAT(grace_period=100, seed=1), MLHAT(grace_period=100, seed=1)
    for t, (x, y) in enumerate(stream):
        names = [n for n, on in (("d", x["x3"] > 0.8 and t > 700), ("b", x["x1"] > 0.5), ("a", y["a"])) if on]
        kept.learn_labelset(x, frozenset(names))
        listed.learn_labelset(x, names)
        if t % 50 == 0:
            assert kept.predict_scores(x) == listed.predict_scores(x)
    assert kept.labels == listed.labels == ["b", "a", "d"]  # ids out of name order
    assert 0 < len(kept._positives_of) <= 5 and not listed._positives_of


def test_majority_share_above_the_limit_deactivates_the_leaf():
    rng = random.Random(0)
    # "a" is always relevant: its share of the leaf's weight is 1 > 0.99
    stream = [({"f": rng.random()}, {"a": True, "b": i % 50 == 0}) for i in range(450)]
    model = MLHAT(leaf_model="majority", grace_period=100, drift_detection=False)
    for x, y in stream:
        model.learn_one(x, y)
    leaf = model.root
    assert leaf.is_leaf and not leaf.active and leaf.observers is None
    assert model.n_active_leaves == 0 and model.n_leaves == 1
    # the leaf models keep learning: "b" never wins, and the labelsets are still counted
    assert model.predict_one({"f": 0.5}) == {"a": True, "b": False}
    assert leaf.majority.n_labelsets == 2
    # without the share rule the same leaf stays active
    open_model = MLHAT(leaf_model="majority", grace_period=100, max_share_to_split=1.0)
    for x, y in stream:
        open_model.learn_one(x, y)
    assert open_model.n_active_leaves >= 1


def test_no_candidate_split_neither_splits_nor_deactivates():
    model = MLHAT(leaf_model="majority", grace_period=50, tau=1.0)  # bound < tau at once
    for i in range(400):
        model.learn_one({"constant": 1.0}, {"a": i % 2 == 0, "b": i % 3 == 0})
    assert model.n_leaves == 1 and model.n_active_leaves == 1
    assert model.drain_events() == []


def test_abrupt_drift_is_recovered_by_an_alternate_subtree():
    n_before, n_after = 2000, 2000
    adaptive = MLHAT(leaf_model="majority", seed=0)
    static = MLHAT(leaf_model="majority", seed=0, drift_detection=False)
    hits_adaptive = prequential_hits(adaptive, flip_stream(n_before, n_after, seed=0))
    hits_static = prequential_hits(static, flip_stream(n_before, n_after, seed=0))
    events = adaptive.drain_events()
    kinds = {e["kind"] for e in events}
    assert {"alternate_start", "alternate_promoted", "split"} <= kinds
    assert any(e["kind"] == "alternate_promoted" and e["t"] > n_before for e in events)
    assert not any(e["kind"].startswith("alternate") for e in static.drain_events())
    assert sum(hits_adaptive[n_before - 500 : n_before]) / 500 > 0.95  # both learned concept 1
    assert sum(hits_static[n_before - 500 : n_before]) / 500 > 0.95
    post = slice(n_before, n_before + 1500)
    acc_adaptive = sum(hits_adaptive[post]) / 1500
    acc_static = sum(hits_static[post]) / 1500
    assert acc_adaptive > acc_static + 0.3
    assert sum(hits_adaptive[-500:]) / 500 > 0.95


def test_drift_monitoring_works_with_river_adwin_injected():
    model = MLHAT(leaf_model="majority", drift_detector=river_drift.ADWIN(), seed=0)
    hits = prequential_hits(model, flip_stream(2000, 2000, seed=0))
    assert isinstance(model.root.detector, river_drift.ADWIN)
    assert model.n_promotions >= 1 and sum(hits[-500:]) / 500 > 0.95


def test_leaf_votes_are_weighted_by_their_errors():
    for weighting, main_error, expected_a in [
        ("clipped", 0.1, (1 / 0.01) / (1 / 0.01 + 1 / 0.09)),
        ("clipped", 0.0, (1 / 1e-6) / (1 / 1e-6 + 1 / 0.09)),
        ("reference", 0.0, 1 / (1 + 1 / 0.09)),  # e = 0 leaves the vote unscaled
    ]:
        model = MLHAT(leaf_model="majority", error_weighting=weighting)
        model.add_labels(["a", "b"])
        main, other = Leaf(1, np.zeros(4)), Leaf(1, np.zeros(4))
        main.learn(np.zeros(0, dtype=np.int64), np.zeros(0), np.array([0]), 1.0, 2)
        alternate = Leaf(0, np.array([250.0, 0.0, 0.0, 250.0]), background=True)
        alternate.majority.learn(np.array([1]), 250.0)
        main.loss.mean, alternate.loss.mean = main_error, 0.3
        root = Branch(0, "f", 0.5, 0, [main, other], total=300.0)
        root.alternate = alternate
        model._root = root
        scores = model.predict_scores({"f": 0.2})
        assert scores["a"] == pytest.approx(expected_a)
        assert scores["b"] == pytest.approx(1 - expected_a)
        # an alternate with too little weight does not vote
        alternate.stats[0] = 150.0
        assert model.predict_scores({"f": 0.2}) == {"a": 1.0, "b": 0.0}


def test_leaf_model_switch():
    model = MLHAT(cardinality_th=100, entropy_th=0.3)
    model.add_labels(["a", "b", "c"])
    leaf = model._new_leaf(0, None, background=False)
    idx, val = np.array([0, 1]), np.array([0.3, 0.7])
    leaf.learn(idx, val, np.array([0]), 1.0, 3)
    # a single labelset: majority labelset
    np.testing.assert_array_equal(leaf.policy.proba(leaf, idx, val, 3), [1.0, 0.0, 0.0])
    rng = np.random.default_rng(0)
    for i in range(150):
        x_val = rng.random(2)
        leaf.learn(idx, x_val, np.array([i % 3]), 1.0, 3)
        if i == 50:  # light leaf: kNN
            np.testing.assert_array_equal(
                leaf.policy.proba(leaf, idx, val, 3), leaf.knn.predict_proba(idx, val, 3)
            )
    # heavy, mixed leaf (entropy well above 0.3): bagged logistic regressions
    assert ml_entropy(leaf.stats) > 0.3
    np.testing.assert_array_equal(
        leaf.policy.proba(leaf, idx, val, 3), leaf.bagging.predict_proba(idx, val, 3)
    )


def _switch_stream(kind: str, n: int, seed: int):
    """``xor``: the label is the XOR of two features' signs (no linear model separates it, kNN
    does); ``noisy``: the label is one feature's sign among 30 wide noise features (kNN's
    distances are swamped by the noise, a linear model ignores it)."""
    rng = random.Random(seed)
    for _ in range(n):
        if kind == "xor":
            a, b = rng.uniform(-1, 1), rng.uniform(-1, 1)
            yield {"a": a, "b": b}, ["x"] if (a > 0) != (b > 0) else ["y"]
        else:
            x = {f"n{j}": rng.uniform(-5, 5) for j in range(30)}
            x["s"] = rng.uniform(-1, 1)
            yield x, ["x"] if x["s"] > 0 else ["y"]


def _late_hits(model, kind: str) -> int:
    """Exact matches over records 1000-1499 of a prequential run of ``model``."""
    hits = 0
    for t, (x, labelset) in enumerate(_switch_stream(kind, 1500, seed=4)):
        if t >= 1000:
            hits += {k for k, v in model.predict_one(x).items() if v} == set(labelset)
        model.learn_labelset(x, labelset)
    return hits


@pytest.mark.parametrize("kind, chosen", [("xor", "knn"), ("noisy", "bagging")])
def test_loss_switch_answers_with_the_model_that_errs_less(kind, chosen):
    def tree(**params):
        return MLHAT(grace_period=10**6, drift_detection=False, seed=2, **params)

    model = tree(leaf_switch="loss")
    hits = _late_hits(model, kind)
    leaf = model.root
    knn_errors, bagging_errors, _ = leaf.model_errors
    assert (knn_errors < bagging_errors) == (chosen == "knn")
    x = {"a": 0.5, "b": -0.5, "s": 0.5}
    idx, val = model._features.encode(x, learn=False)
    answer = leaf.policy.proba(leaf, idx, val, 2)
    np.testing.assert_array_equal(answer, getattr(leaf, chosen).predict_proba(idx, val, 2))
    other = "bagging" if chosen == "knn" else "knn"
    assert hits > _late_hits(tree(leaf_model=other), kind) + 50
    # the cardinality rule (spec §6.7) is on bagging once the leaf is heavy and mixed
    assert hits >= _late_hits(tree(leaf_switch="cardinality"), kind) + (50 if kind == "xor" else 0)


def test_trees_sharing_a_feature_index_predict_as_if_alone():
    """Trees handed records encoded by one shared index learn and predict like trees that
    encode for themselves, though the shared index numbers features the others never see."""
    rng = random.Random(5)
    shared = FeatureIndex()
    pairs = [(MLHAT(grace_period=50, seed=s), MLHAT(grace_period=50, seed=s)) for s in (1, 2)]
    for together, _ in pairs:
        together.share_features(shared)
    for t in range(1500):
        x = {f"w{rng.randrange(40)}": rng.random() for _ in range(5)}
        labels = ["even"] if sum(int(k[1:]) for k in x) % 2 == 0 else ["odd"]
        query = shared.encode(x, learn=False)
        for j, (together, alone) in enumerate(pairs):
            # feature ids differ, so sums may run in another order: equal up to rounding
            assert together.predict_scores(x, query) == pytest.approx(alone.predict_scores(x), rel=1e-12)
            # each tree of a pair sees only its half of the features
            half = {k: v for k, v in x.items() if int(k[1:]) % 2 == j}
            together.learn_labelset(half, labels, shared.encode(half, learn=True))
            alone.learn_labelset(half, labels)
    assert len(shared) == 40 and len(pairs[0][1]._features) == 20
    with pytest.raises(RuntimeError):
        pairs[0][1].share_features(shared)


def test_strict_bootstrap_skips_records_drawn_zero_times():
    stream = [({"f": i / 300}, {"a": i % 2 == 0}) for i in range(300)]
    rng = random.Random(7)
    draws = [poisson_one(rng) for _ in stream]
    for strict, expected in [(False, sum(max(k, 1) for k in draws)), (True, sum(draws))]:
        model = MLHAT(leaf_model="majority", strict_bootstrap=strict, seed=7, grace_period=1000)
        for x, y in stream:
            model.learn_one(x, y)
        assert model.root.total_weight == expected
    unweighted = MLHAT(leaf_model="majority", bootstrap_sampling=False, grace_period=1000)
    for x, y in stream:
        unweighted.learn_one(x, y)
    assert unweighted.root.total_weight == len(stream)


def test_same_seed_same_run_other_seed_other_weights():
    def run(seed):
        model = MLHAT(grace_period=100, seed=seed)
        scores = []
        for x, y in threshold_stream(1200, seed=9):
            model.learn_one(x, y)
            scores.append(model.predict_scores_array(x))
        return model, np.array(scores)

    (a, scores_a), (b, scores_b), (c, _) = run(3), run(3), run(4)
    np.testing.assert_array_equal(scores_a, scores_b)
    assert a.drain_events() == b.drain_events()
    assert pickle.dumps(a) == pickle.dumps(b)
    assert a.root.total_weight != c.root.total_weight


def test_pickled_model_continues_identically():
    model = MLHAT(grace_period=100, seed=1)
    stream = list(threshold_stream(1600, seed=11))
    for x, y in stream[:800]:
        model.learn_one(x, y)
    restored = pickle.loads(pickle.dumps(model))
    assert restored.drain_events() == model.drain_events()
    for x, y in stream[800:]:
        expected = model.predict_scores_array(x)
        np.testing.assert_array_equal(restored.predict_scores_array(x), expected)
        model.learn_one(x, y)
        restored.learn_one(x, y)
    assert restored.drain_events() == model.drain_events()
    assert restored.n_nodes == model.n_nodes and restored.memory_bytes() == model.memory_bytes()


def test_river_api_agrees_with_the_labelset_api():
    river_side, fast_side = MLHAT(grace_period=80), MLHAT(grace_period=80)
    for x, y in datasets.Yeast().take(400):
        predicted = river_side.predict_one(x)
        scores = fast_side.predict_scores(x)
        assert predicted == {name: p > 0.5 for name, p in scores.items()}
        proba = river_side.predict_proba_one(x)
        assert {name: d[True] for name, d in proba.items()} == scores
        assert all(d[False] == 1.0 - d[True] for d in proba.values())
        river_side.learn_one(x, y)
        fast_side.add_labels(y)
        fast_side.learn_labelset(x, [name for name, relevant in y.items() if relevant])
    assert river_side.labels == fast_side.labels and len(river_side.labels) == 14


@pytest.mark.parametrize("leaf_switch", ["cardinality", "loss", "loss_with_majority_and_nb"])
def test_reusing_predict_time_leaf_predictions_is_exact(leaf_switch):
    """``learn`` reuses the leaf predictions ``predict`` made for the same record; a model that
    never predicts, and a record mutated in place in between, must give the same model."""
    stream = list(flip_stream(1200, 800, seed=3))
    predicting = MLHAT(grace_period=100, leaf_switch=leaf_switch)
    silent = MLHAT(grace_period=100, leaf_switch=leaf_switch)
    for t, (x, y) in enumerate(stream):
        x = dict(x)
        predicting.predict_one(x)
        if t % 3 == 0:
            x["x0"] = 1.0 - x["x0"]  # mutated after the prediction: nothing may be reused
        predicting.learn_one(x, y)
        silent.learn_one(x, y)
    events = predicting.drain_events()
    assert {"split", "alternate_start"} <= {e["kind"] for e in events}
    assert events == silent.drain_events()
    assert pickle.dumps(predicting) == pickle.dumps(silent)


def test_feature_ids_do_not_depend_on_key_order_or_zeros():
    a, b = FeatureIndex(), FeatureIndex()
    idx_a, val_a = a.encode({"q": 1.0, "p": 2.0, "r": 0.0}, learn=True)
    idx_b, val_b = b.encode({"r": 0.0, "p": 2.0, "q": 1.0}, learn=True)
    assert a.names == b.names == ["p", "q"]
    np.testing.assert_array_equal(idx_a, idx_b)
    np.testing.assert_array_equal(val_a, val_b)
    # the repeated-keys fast path agrees with the general path
    for x in [{"q": 3.0, "p": 0.0}, {"q": 0.0, "p": 5.0}, {"q": 1.0, "p": 2.0}]:
        fast = a.encode(x, learn=True)
        slow = FeatureIndex()
        slow.encode({"p": 1.0, "q": 1.0}, learn=True)
        expected = slow.encode(x, learn=False)
        np.testing.assert_array_equal(fast[0], expected[0])
        np.testing.assert_array_equal(fast[1], expected[1])
    assert a._last_keys[0] == ("q", "p")  # the last record took the fast path
    # keys that change from record to record (sparse data) never build the cache
    sparse = FeatureIndex()
    for j in range(5):
        sparse.encode({f"w{j}": 1.0, f"w{j + 1}": 2.0}, learn=True)
    assert sparse._last_keys is None


def test_before_learning_and_unknown_features():
    model = MLHAT()
    assert model.predict_one({"x": 1.0}) == {} and model.predict_proba_one({}) == {}
    model.add_labels(["a"])
    assert model.predict_one({"x": 1.0}) == {"a": False}
    model.learn_one({"x": 1.0}, {"a": True})
    # a feature the tree never saw does not break prediction nor register itself
    x = {"x": 1.0, "never_seen": 3.0}
    before = copy.deepcopy(model)
    assert model.predict_one(x) == {"a": True}
    assert pickle.dumps(before) == pickle.dumps(model)


def test_counters_events_and_memory():
    model = MLHAT(leaf_model="majority", grace_period=100)
    assert (model.n_nodes, model.n_leaves, model.depth, model.memory_bytes()) == (0, 0, 0, 0)
    for x, y in threshold_stream(1500, seed=6):
        model.learn_one(x, y)
    events = model.drain_events()
    assert model.drain_events() == []
    assert all({"kind", "depth", "t"} <= set(e) for e in events)
    assert sum(e["kind"] == "split" for e in events) == model.n_splits
    assert model.n_leaves == model.n_nodes - (model.n_nodes - 1) // 2
    assert 0 <= model.n_active_leaves <= model.n_leaves
    leaves = [n for n in iter_nodes(model.root) if n.is_leaf]
    observers = sum(leaf.observers.nbytes for leaf in leaves if leaf.active)
    assert model.memory_bytes() >= observers + sum(leaf.stats.nbytes for leaf in leaves) > 0


def banded_stream(n: int, seed: int):
    """Label a is on for every other sixteenth of x0, b for x1 above 0.5: a tree keeps finding
    splits on x0 for a long time."""
    rng = random.Random(seed)
    for _ in range(n):
        x = {f"x{j}": rng.random() for j in range(4)}
        yield x, {"a": int(x["x0"] * 16) % 2 == 0, "b": x["x1"] > 0.5}


def test_memory_budget_stops_the_tree_growing():
    free = MLHT(grace_period=50, delta=0.01)
    capped = MLHT(grace_period=50, delta=0.01, max_size=0.008, memory_estimate_period=500)
    leaves_after_limit = None
    for t, (x, y) in enumerate(banded_stream(12_000, seed=2), 1):
        free.learn_one(x, y)
        capped.learn_one(x, y)
        if leaves_after_limit is None and capped.n_memory_deactivations:
            leaves_after_limit = capped.n_leaves
    assert leaves_after_limit is not None and leaves_after_limit < free.n_leaves
    # deactivated leaves neither split nor come back, so growth stops once the budget is spent
    assert capped.n_leaves < free.n_leaves
    assert capped.n_active_leaves < capped.n_leaves
    assert capped.memory_bytes() <= 0.008 * 2**20 < free.memory_bytes()  # measured right after a check
    events = [e for e in capped.drain_events() if e["kind"] == "memory_limit"]
    assert sum(e["deactivated"] for e in events) == capped.n_memory_deactivations
    assert all(e["t"] % 500 == 0 for e in events)


def test_memory_budget_deactivates_the_least_promising_leaves_first():
    model = MLHT(grace_period=50, delta=0.01)
    for x, y in banded_stream(4000, seed=3):
        model.learn_one(x, y)
    active = [n for n in iter_nodes(model.root) if n.is_leaf and n.active]
    assert len(active) >= 4
    promise = sorted((leaf.total_weight - leaf.majority.majority_weight, i) for i, leaf in enumerate(active))
    first, second = active[promise[0][1]], active[promise[1][1]]
    used = model.memory_bytes()
    # one byte over: the least promising leaf goes; then just over what that freed: the next one
    model.max_size = (used - 1) / 2**20
    model._enforce_size_limit()
    assert [leaf for leaf in active if not leaf.active] == [first]
    model.max_size = (model.memory_bytes() - 1) / 2**20
    model._enforce_size_limit()
    assert {id(leaf) for leaf in active if not leaf.active} == {id(first), id(second)}
    assert model.n_memory_deactivations == 2
    model.max_size = model.memory_bytes() / 2**20  # within budget: nothing more
    model._enforce_size_limit()
    assert model.n_memory_deactivations == 2


def test_a_budget_never_reached_changes_nothing():
    free = MLHAT(grace_period=100, seed=4)
    roomy = MLHAT(grace_period=100, seed=4, max_size=1000.0, memory_estimate_period=100)
    for x, y in banded_stream(2000, seed=4):
        assert roomy.predict_scores(x) == free.predict_scores(x)
        free.learn_one(x, y)
        roomy.learn_one(x, y)
    assert roomy.n_memory_deactivations == 0 and roomy.n_leaves == free.n_leaves > 1


@pytest.mark.parametrize("params", [{"max_size": 0}, {"max_size": -1.0}, {"memory_estimate_period": 0}])
def test_bad_memory_budget_is_refused(params):
    with pytest.raises(ValueError, match="max_size|memory_estimate_period"):
        MLHAT(**params)


@pytest.fixture
def local_check_datasets(monkeypatch):
    """river's multi-label check data (Music) is downloaded on demand; use the first records of
    river's bundled Yeast instead so the checks run offline."""

    def yield_datasets(model, scale=1):
        yield datasets.Yeast().take(50 * scale)

    monkeypatch.setattr(checks, "_yield_datasets", yield_datasets)


@pytest.mark.parametrize("model", [MLHAT(), MLHT(), MLHT(leaf_model="nb", grace_period=20),
                                   MLHT(leaf_model="ps", grace_period=20, ps_buffer=20),
                                   MLHAT(grace_period=20, leaf_switch="loss_with_majority", leaf_ranking="prior")],
                         ids=["mlhat", "mlht", "mlht-nb", "mlht-ps", "mlhat-prior"])
def test_river_estimator_checks(model, local_check_datasets):
    checks.check_estimator(model)


def test_mlht_is_mlhat_with_other_defaults():
    model = MLHT(seed=5)
    assert model.drift_detection is False and model.leaf_model == "majority" and model.seed == 5
    assert MLHT(drift_detection=True).drift_detection is True
    assert "leaf_model='majority'" in repr(model).replace('"', "'")
    with pytest.raises(TypeError):
        MLHT(no_such_parameter=1)
    with pytest.raises(ValueError):
        MLHAT(leaf_model="naive_bayes")


def test_loss_with_majority_answers_with_the_majority_labelset_when_it_errs_least():
    """Labels unrelated to the features: {a} on 45 % of records, {b} on 35 %, {c} on 20 %. No
    label's own probability passes 0.5, so bagging predicts the empty set, and kNN's neighbours
    rarely agree; the majority labelset {a} is right 45 % of the time."""
    rng = random.Random(8)
    stream = []
    for _ in range(1500):
        x = {f"n{j}": rng.uniform(-1, 1) for j in range(5)}
        u = rng.random()
        labels = ["a"] if u < 0.45 else ["b"] if u < 0.8 else ["c"]
        stream.append((x, labels))

    def late_hits(model):
        hits = 0
        for t, (x, labels) in enumerate(stream):
            if t >= 1000:
                hits += {k for k, v in model.predict_one(x).items() if v} == set(labels)
            model.add_labels(["a", "b", "c"])
            model.learn_labelset(x, labels)
        return hits

    def tree(switch):
        return MLHAT(grace_period=10**6, drift_detection=False, seed=3, leaf_switch=switch)

    with_majority = tree("loss_with_majority")
    hits = late_hits(with_majority)
    leaf = with_majority.root
    knn_errors, bagging_errors, majority_errors = leaf.model_errors
    assert majority_errors < min(knn_errors, bagging_errors)
    assert leaf.policy.choice(leaf) is leaf.majority
    encoded = with_majority._features.encode(stream[0][0], learn=False)
    np.testing.assert_array_equal(leaf.policy.proba(leaf, *encoded, 3), leaf.majority.predict_proba(3))
    without = tree("loss")
    assert late_hits(without) + 50 < hits
    assert without.root.policy.choice(without.root) is not without.root.majority


def test_a_record_learned_right_after_its_prediction_reuses_its_encoding():
    index = FeatureIndex()
    index.encode({"a": 1.0, "b": 2.0}, learn=True)
    x = {"c": 3.0, "a": 4.0, "z": 0.0}
    predicted = index.encode(x, learn=False)
    assert index.names == ["a", "b"]  # "c" has a provisional id only
    learned = index.encode(x, learn=True)
    assert learned is predicted and index.names == ["a", "b", "c"]
    np.testing.assert_array_equal(learned[0], [0, 2])
    # a different record, or features registered in between, are encoded afresh
    y = {"d": 1.0}
    index.encode(y, learn=False)
    assert index.encode({"d": 2.0}, learn=True)[1].tolist() == [2.0]
    q = {"e": 1.0}
    stale = index.encode(q, learn=False)
    index.encode({"f": 1.0}, learn=True)  # takes the id "e" was given
    fresh = index.encode(q, learn=True)
    assert fresh is not stale and index.names[-2:] == ["f", "e"] and fresh[0].tolist() == [5]
    assert fresh[0].tolist() != stale[0].tolist()


def test_feature_index_encodes_repeated_key_sequences_as_a_fresh_index_would():
    """Records with the same keys (a dense stream) take the cached columns; a zero among them
    is still dropped, and keys in another order still come out in id order."""
    from stream_xml.tree.features import FeatureIndex

    rng = np.random.default_rng(5)
    index = FeatureIndex()
    keys = ["b", "a", "d", "c"]
    for t in range(1, 40):  # the first records, learned whole, register every key
        values = rng.normal(size=4)
        if t % 5 == 0:
            values[rng.integers(4)] = 0.0
        x = dict(zip(keys, values.tolist()))
        idx, val = index.encode(x, learn=t < 3 or t % 2 == 0)
        expected = sorted((index._ids[k], v) for k, v in x.items() if v != 0.0 and k in index._ids)
        assert idx.tolist() == [i for i, _ in expected] and val.tolist() == [v for _, v in expected]
    assert index.names == ["a", "b", "c", "d"]


def test_a_leaf_scores_another_prediction_along_with_its_models_or_alone():
    """``Leaf.learn(..., also=proba)`` counts proba's label errors in the call of the first model
    it scores, or by itself when it scores none; the models learn the same either way."""
    from stream_xml.tree.common_kernels import label_errors
    from stream_xml.tree.bagging import BaggedLogisticBR
    from stream_xml.tree.knn import KnnLabelCombination

    def leaf():
        return Leaf(0, np.zeros(4), knn=KnnLabelCombination(k=2, window=5), bagging=BaggedLogisticBR(seed=1))

    rng = np.random.default_rng(3)
    a, b = leaf(), leaf()
    for t in range(40):
        idx, val, labels = np.arange(3), rng.normal(size=3), np.array([t % 2])
        also = rng.random(2)
        expected = label_errors(also, labels)
        score_knn, score_bagging = t % 3 == 0, t % 3 == 1  # one model, the other, or none
        got = a.learn(idx, val, labels, 1.0, 2, score_knn, score_bagging, also)
        assert got[2] == expected
        assert (got[0] is None) != score_knn and (got[1] is None) != score_bagging
        b.learn(idx, val, labels, 1.0, 2)
    query = (np.arange(3), rng.normal(size=3), 2)
    np.testing.assert_array_equal(a.knn.predict_proba(*query), b.knn.predict_proba(*query))
    np.testing.assert_array_equal(a.bagging.predict_proba(*query), b.bagging.predict_proba(*query))


def _independent_labels_stream(n: int, seed: int):
    """Six labels, each switched on by its own feature's Gaussian shift and nothing else, among
    twenty noise features: naive Bayes' independence holds, so it knows every label, kNN's
    distances are mostly noise, and whole labelsets (2^6 of them) are rarely exactly right."""
    rng = random.Random(seed)
    stream = []
    for _ in range(n):
        labels = [f"l{j}" for j in range(6) if rng.random() < 0.4]
        x = {f"f{j}": rng.gauss(1.0 if f"l{j}" in labels else -1.0, 1.0) for j in range(6)}
        x.update({f"noise{j}": rng.gauss(0.0, 3.0) for j in range(20)})
        stream.append((x, labels))
    return stream


def _late_label_hits(model, stream, start: int) -> int:
    hits = 0
    for t, (x, labels) in enumerate(stream):
        if t >= start:
            predicted = {k for k, v in model.predict_one(x).items() if v}
            hits += sum((f"l{j}" in predicted) == (f"l{j}" in labels) for j in range(6))
        model.learn_labelset(x, labels)
    return hits


def test_loss_with_nb_answers_with_naive_bayes_where_it_gets_more_labels_right():
    stream = _independent_labels_stream(1500, seed=4)

    def tree(switch):
        return MLHAT(grace_period=10**6, drift_detection=False, seed=3, leaf_switch=switch)

    with_nb = tree("loss_with_nb")
    hits = _late_label_hits(with_nb, stream, 1000)
    leaf = with_nb.root
    knn_c, bagging_c, majority_c, nb_c = leaf.label_error_counts
    assert nb_c < min(knn_c, bagging_c)
    assert leaf.policy.choice(leaf) is leaf.observers
    encoded = with_nb._features.encode(stream[0][0], learn=False)
    np.testing.assert_array_equal(leaf.policy.proba(leaf, *encoded, 6),
                                  leaf.observers.naive_bayes(*encoded, 6, *with_nb._nominal_flags()))
    assert hits > _late_label_hits(tree("loss"), stream, 1000) + 50
    # kNN's and bagging's exact-match counts, which choose between them, are those of "loss"
    plain = tree("loss")
    _late_label_hits(plain, stream, 10**9)
    assert leaf.model_errors[:2] == pytest.approx(plain.root.model_errors[:2])


def test_loss_with_nb_keeps_the_other_models_where_naive_bayes_errs_more():
    """Labels by the XOR of two features' signs: no feature tells a label on its own."""
    rng = random.Random(6)
    stream = []
    for _ in range(1500):
        x = {"a": rng.uniform(-1, 1), "b": rng.uniform(-1, 1)}
        stream.append((x, [f"l{j}" for j in range(6) if ((x["a"] > 0) != (x["b"] > 0)) == (j % 2 == 0)]))
    model = MLHAT(grace_period=10**6, drift_detection=False, seed=3, leaf_switch="loss_with_majority_and_nb")
    _late_label_hits(model, stream, 10**9)
    leaf = model.root
    assert leaf.policy.choice(leaf) is not leaf.observers
    assert leaf.label_error_counts[3] > min(leaf.label_error_counts[:2])
    copy = pickle.loads(pickle.dumps(model))
    for x, _ in stream[:50]:
        assert copy.predict_scores(x) == model.predict_scores(x)


def _side_by_side(plain, ranking_tree, n: int):
    """Two trees over Yeast's first ``n`` records, one ranking by its answers (``plain``), the
    other otherwise: per record, after checking that both answer alike and hand out the same
    labels above 0.5, yields ``(x, labels, answers, scores, answer array, score array)`` (arrays
    over ``ranking_tree``'s labels); both trees learn the record once the caller is done."""
    for x, y in datasets.Yeast().take(n):
        labels = {k for k, v in y.items() if v}
        a, b = plain.predict_scores(x), ranking_tree.predict_scores(x)
        assert ranking_tree.answer_scores(x) == a
        assert {k for k, p in a.items() if p > 0.5} == {k for k, p in b.items() if p > 0.5}
        names = ranking_tree.labels
        answer = np.array([a.get(name, 0.0) for name in names])
        yield x, labels, a, b, answer, np.array([b.get(name, 0.0) for name in names])
        plain.learn_labelset(x, labels)
        ranking_tree.learn_labelset(x, labels)


def _top_tied(scores: dict) -> bool:
    top = max(scores.values())
    return sum(p == top for p in scores.values()) > 1


@pytest.mark.parametrize("leaf_switch", ["cardinality", "loss_with_majority"])
def test_bagging_ranking_keeps_the_answers_and_ranks_labels_by_bagging(leaf_switch):
    """``leaf_ranking="bagging"``: the same tree and answers as ``"answer"``, record by record
    (single-leaf trees, so no vote mixes leaves); the scores are the answers until the leaf has
    seen ``cardinality_th`` weight, then half the decision plus half the leaf's bagging
    probability wherever kNN or the majority labelset answers; fewer ties at the top."""
    from stream_xml.tree.leaf_policies import ranked

    def tree(ranking):
        # entropy_th above any entropy: the cardinality switch answers with kNN throughout
        return MLHAT(grace_period=10**6, drift_detection=False, seed=5, leaf_switch=leaf_switch,
                     leaf_ranking=ranking, cardinality_th=300, entropy_th=100.0)  # fmt: skip

    ranked_tree = tree("bagging")
    ties = {"answer": 0, "bagging": 0}
    before = after = 0
    for x, _, a, b, answer, scored in _side_by_side(tree("answer"), ranked_tree, 900):
        leaf = ranked_tree.root
        if leaf is None or leaf.current_weight < 300 or leaf.majority.n_labelsets <= 1:
            np.testing.assert_array_equal(scored, answer)
            before += leaf is not None and leaf.majority.n_labelsets > 1
        elif leaf.policy.choice(leaf) in (leaf.knn, leaf.majority):
            encoded = ranked_tree._features.encode(x, learn=False)
            bagging = leaf.bagging.predict_proba(*encoded, len(answer))
            np.testing.assert_array_equal(scored, ranked(answer > 0.5, bagging))
            rank = ranked_tree.ranking_scores(x)
            np.testing.assert_array_equal([rank[name] for name in ranked_tree.labels], bagging)
            after += 1
            ties["answer"] += _top_tied(a)
            ties["bagging"] += _top_tied(b)
    assert before > 200 and after > 400, (before, after)
    assert ties["bagging"] < ties["answer"] / 10, ties


@pytest.mark.parametrize("leaf_switch", ["loss", "loss_with_majority_and_nb"])
def test_prior_ranking_keeps_the_answers_and_ranks_by_answer_and_label_share(leaf_switch):
    """``leaf_ranking="prior"``: the same tree and answers as ``"answer"``, record by record
    (single-leaf trees); wherever kNN or the majority labelset answers, each label scores half
    its decision plus half of (its answer + its share of the leaf's records) / 2, the share
    counted here from the labelsets learned so far; naive Bayes' and bagging's answers rank as
    they are."""
    from stream_xml.tree.leaf_policies import ranked

    def tree(ranking):
        # no bootstrap: every record weighs 1, so the shares are counts over records
        return MLHAT(grace_period=10**6, drift_detection=False, bootstrap_sampling=False, seed=5,
                     leaf_switch=leaf_switch, leaf_ranking=ranking)  # fmt: skip

    prior_tree = tree("prior")
    seen, counts = 0, {}
    by_prior = as_answered = 0
    ties = {"answer": 0, "prior": 0}
    for _, labels, a, b, answer, scored in _side_by_side(tree("answer"), prior_tree, 700):
        leaf = prior_tree.root
        if leaf is not None and leaf.majority.n_labelsets > 1:
            if leaf.policy.choice(leaf) in (leaf.knn, leaf.majority):
                shares = np.array([counts.get(name, 0) / seen for name in prior_tree.labels])
                np.testing.assert_allclose(scored, ranked(answer > 0.5, 0.5 * answer + 0.5 * shares), rtol=1e-12)
                by_prior += 1
                ties["answer"] += _top_tied(a)
                ties["prior"] += _top_tied(b)
            else:
                np.testing.assert_array_equal(scored, answer)
                as_answered += 1
        seen += 1
        for name in labels:
            counts[name] = counts.get(name, 0) + 1
    assert by_prior > 300, by_prior
    assert ties["prior"] < ties["answer"] / 5, ties
    if leaf_switch.endswith("nb"):
        assert as_answered > 0


def test_leaf_ranking_is_checked():
    with pytest.raises(ValueError, match="leaf_ranking"):
        MLHAT(leaf_ranking="votes")


@pytest.mark.parametrize("ranking", ["answer", "prior"])
def test_answer_arrays_are_the_answer_and_ranking_scores_with_one_voting_leaf_or_several(ranking):
    """``answer_arrays`` (the arrays iHOMER's one-block path asks for, with a shortcut for one
    voting leaf) against ``answer_scores`` and ``ranking_scores`` by name, to the bit, on
    records that one leaf answers and on records where alternates vote too."""
    tree = MLHAT(grace_period=30, delta=0.5, tau=0.5, drift_window_threshold=50, seed=3,
                 leaf_switch="loss_with_majority_and_nb", leaf_ranking=ranking)  # fmt: skip
    votes = {0: 0, 1: 0, 2: 0}  # records by voting leaves (2: two or more)
    for x, y in datasets.Yeast().take(1200):
        names = tree.labels
        if names:
            answer, rank = tree.answer_arrays(x)
            assert answer.tolist() == [tree.answer_scores(x)[n] for n in names]
            assert rank.tolist() == [tree.ranking_scores(x)[n] for n in names]
            votes[min(len(tree._voting_leaves(x, None)[0]), 2)] += 1
        tree.learn_labelset(x, {k for k, v in y.items() if v})
    assert votes[1] > 100 and votes[2] > 100, votes
