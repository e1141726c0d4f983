"""The incremental metrics against batch computations.

Set metrics are checked against scikit-learn on label indicator matrices; the ranking metrics
against a plain loop written below (sort every row with the tie-break spelled out) and, on
rows without ties, against scikit-learn's ``ndcg_score``; propensity-scored precision and label
coverage against whole-matrix numpy computations written below. The rolling window is checked against
the batch value on the last ``window`` rows, the faded tally against scikit-learn with sample
weights ``fading ** age``.
"""

import doctest
import math
import pickle

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    hamming_loss,
    jaccard_score,
    ndcg_score,
    precision_score,
    recall_score,
)

from stream_xml.evaluation import metric_kernels, metrics
from stream_xml.evaluation.metrics import (
    SET_METRICS,
    MultiLabelMetrics,
    bigger_is_better,
    metric_names,
    top_k,
)

TOL = dict(rel=1e-12, abs=1e-12)


# ---------------------------------------------------------------- batch references


def sklearn_set_metrics(T, P, zero_division, weights=None):
    """The twelve set metrics of two boolean (n, L) matrices, by scikit-learn."""
    kw = dict(sample_weight=weights)
    out = {
        "subset_accuracy": accuracy_score(T, P, **kw),
        "hamming_loss": hamming_loss(T, P, **kw),
    }
    for average, prefix in (("samples", "example"), ("micro", "micro"), ("macro", "macro")):
        kw_avg = dict(kw, average=average, zero_division=zero_division)
        out[f"{prefix}_precision"] = precision_score(T, P, **kw_avg)
        out[f"{prefix}_recall"] = recall_score(T, P, **kw_avg)
        out[f"{prefix}_f1"] = f1_score(T, P, **kw_avg)
        if prefix == "example":
            out["example_jaccard"] = jaccard_score(T, P, **kw_avg)
    return {name: float(out[name]) for name in SET_METRICS}


def plain_ranking(T, S, ks, weights=None):
    """precision@k and ndcg@k averaged over the rows with a relevant label, by plain loops."""
    weights = np.ones(len(T)) if weights is None else weights
    totals = {name: 0.0 for k in ks for name in (f"precision@{k}", f"ndcg@{k}")}
    weight_sum = 0.0
    for i in range(len(T)):
        relevant = {j for j in range(T.shape[1]) if T[i, j]}
        if not relevant:
            continue
        order = sorted(range(S.shape[1]), key=lambda j: (-S[i, j], j))
        weight_sum += weights[i]
        for k in ks:
            top = order[:k]
            hits = sum(1 for j in top if j in relevant)
            dcg = sum(1 / math.log2(rank + 2) for rank, j in enumerate(top) if j in relevant)
            idcg = sum(1 / math.log2(rank + 2) for rank in range(min(k, len(relevant))))
            totals[f"precision@{k}"] += weights[i] * hits / k
            totals[f"ndcg@{k}"] += weights[i] * dcg / idcg
    return {name: (total / weight_sum if weight_sum else 0.0) for name, total in totals.items()}


def numpy_psp(T, S, ks, weights=None, a=0.55, b=1.5):
    """psp@k from whole matrices: label counts by cumulative sums down the rows (row i included),
    Jain et al.'s propensities per row, a stable sort of every row, weighted sums of PSP@k over
    weighted sums of its best value (the relevant labels sorted by inverse propensity)."""
    n = len(T)
    weights = np.ones(n) if weights is None else weights
    counts = np.cumsum(T, axis=0)
    c = np.maximum(np.log(np.arange(1, n + 1)) - 1.0, 0.0) * (b + 1.0) ** a
    gain = T * (1.0 + c[:, None] * (counts + b) ** -a)
    ranked = np.take_along_axis(gain, np.argsort(-S, axis=1, kind="stable"), axis=1)
    best = -np.sort(-gain, axis=1)
    out = {}
    for k in ks:
        scored, ideal = weights @ ranked[:, :k].sum(axis=1), weights @ best[:, :k].sum(axis=1)
        out[f"psp@{k}"] = float(scored / ideal) if ideal else 0.0
    return out


def numpy_coverage(T, P):
    """Labels with a true positive among those relevant at least once."""
    relevant = T.any(axis=0)
    return {"label_coverage": float((T & P).any(axis=0).sum() / relevant.sum()) if relevant.any() else 0.0}


# ---------------------------------------------------------------- helpers


def random_matrices(seed, n, L, density):
    rng = np.random.default_rng(seed)
    T = rng.random((n, L)) < density
    # Predictions close to the truth, so that every count (tp, fp, fn, exact matches) occurs.
    flip = rng.random((n, L)) < 0.2
    P = np.where(flip, ~T, T)
    exact = rng.random(n) < 0.25
    P[exact] = T[exact]
    return T, P


def ids_in(row, form):
    """The ids of a boolean row, as a set, a list or an int array."""
    ids = np.flatnonzero(row)
    if form == 0:
        return set(ids.tolist())
    if form == 1:
        return ids.tolist()
    return ids


def stream(m, T, P, S=None, n_labels=None, score_form="dense", start=0, stop=None):
    stop = len(T) if stop is None else stop
    for i in range(start, stop):
        scores = None
        if S is not None:
            row = S[i]
            scores = {j: float(v) for j, v in enumerate(row) if v != 0} if score_form == "dict" else row
        m.update(ids_in(T[i], i % 3), ids_in(P[i], (i + 1) % 3), scores=scores, n_labels=n_labels)


def assert_close(got, expected):
    assert set(expected) <= set(got)
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, **TOL), name


# ---------------------------------------------------------------- cumulative set metrics


@pytest.mark.parametrize("zero_division", [0.0, 1.0])
@pytest.mark.parametrize(
    "seed, n, L, density",
    [(0, 200, 6, 0.3), (1, 150, 20, 0.08), (2, 120, 3, 0.6), (3, 80, 40, 0.02)],
)
def test_cumulative_matches_sklearn(seed, n, L, density, zero_division):
    T, P = random_matrices(seed, n, L, density)
    m = MultiLabelMetrics(window=None, ks=(), zero_division=zero_division)
    for stop in (n // 3, n):
        stream(m, T, P, n_labels=L, start=m.n, stop=stop)
        got = m.get()
        assert list(got) == metric_names((), ranking=False)
        assert_close(got, sklearn_set_metrics(T[:stop], P[:stop], zero_division) | numpy_coverage(T[:stop], P[:stop]))
    assert m.n == n


def edge_cases():
    rng = np.random.default_rng(7)
    L = 5
    T, P = random_matrices(11, 30, L, 0.3)
    zeros = np.zeros((30, L), dtype=bool)
    never_positive = T.copy()
    never_positive[:, 1] = False  # label 1 is predicted sometimes, never relevant
    never_positive[:, 4] = False
    P_never = P.copy()
    P_never[:, 4] = False  # label 4 is neither relevant nor predicted
    perfect = T.copy()
    perfect[:, 3:] = False
    return {
        "empty true sets": (zeros, P),
        "empty predictions": (T, zeros),
        "all empty": (zeros, zeros),
        "labels never positive": (never_positive, P_never),
        "perfect with unused labels": (perfect, perfect.copy()),
        "single instance": (T[:1], P[:1]),
        "single empty instance": (zeros[:1], zeros[:1]),
        "some empty rows": (np.where(rng.random((30, 1)) < 0.4, False, T), P),
    }


@pytest.mark.parametrize("zero_division", [0.0, 1.0])
@pytest.mark.parametrize("case", list(edge_cases()))
def test_edge_cases_match_sklearn(case, zero_division):
    T, P = edge_cases()[case]
    m = MultiLabelMetrics(window=None, ks=(), zero_division=zero_division)
    stream(m, T, P, n_labels=T.shape[1])
    assert_close(m.get(), sklearn_set_metrics(T, P, zero_division))


def test_perfect_predictions_macro_counts_unused_labels():
    # The Hypercube situation of the spec: every prediction right, 1 label of 10 ever used.
    m = MultiLabelMetrics(window=None, ks=())
    for _ in range(5):
        m.update({0}, {0}, n_labels=10)
    got = m.get()
    assert got["subset_accuracy"] == 1.0 and got["micro_f1"] == 1.0 and got["hamming_loss"] == 0.0
    assert got["macro_f1"] == pytest.approx(0.1)
    assert MultiLabelMetrics(window=None, ks=(), zero_division=1.0).get()["micro_f1"] == 1.0


def test_empty_stream_reports_zero_means():
    got = MultiLabelMetrics(fading=0.9).get()
    assert got["subset_accuracy"] == 0.0 and got["macro_f1"] == 0.0 and got["example_f1"] == 0.0
    assert "precision@1" not in got


# ---------------------------------------------------------------- growing label space


@pytest.mark.parametrize("zero_division", [0.0, 1.0])
def test_growing_label_space(zero_division):
    """Labels 6..11 appear only after row 60, and n_labels is left to its default.

    Padding the early rows with zeros for the later labels changes no label set, so subset
    accuracy, the example-based, micro and macro metrics equal scikit-learn's on the padded
    matrix (macro averages over every label known, 12 at the end). Hamming loss divides each
    row by the size of the label space at that moment, so it is larger than scikit-learn's on
    the padded matrix (which divides by 12 throughout) and equals it when n_labels=12 is passed.
    """
    T, P = random_matrices(5, 150, 12, 0.25)
    T[:60, 6:] = False
    P[:60, 6:] = False
    T[59, 5] = T[-1, 11] = True  # the space is 6 wide after row 60 and 12 at the end

    size_now = np.maximum.accumulate([1 + max(np.flatnonzero(T[i] | P[i]), default=-1) for i in range(150)])
    errors = (T != P).sum(axis=1)

    m = MultiLabelMetrics(window=40, ks=(), zero_division=zero_division)
    stream(m, T, P, stop=60)
    assert m.n_labels == 6
    early = sklearn_set_metrics(T[:60, :6], P[:60, :6], zero_division)
    early["hamming_loss"] = np.mean(errors[:60] / size_now[:60])
    assert_close(m.get(), early)

    stream(m, T, P, start=60)
    assert m.n_labels == 12
    padded = sklearn_set_metrics(T, P, zero_division)
    got = m.get()
    assert_close(
        {k: v for k, v in got.items() if k != "hamming_loss"},
        {k: v for k, v in padded.items() if k != "hamming_loss"},
    )
    assert got["hamming_loss"] == pytest.approx(np.mean(errors / size_now), **TOL)
    assert got["hamming_loss"] > padded["hamming_loss"]

    # The window reports on the last 40 rows, its macro averages over all 12 labels known.
    recent = sklearn_set_metrics(T[-40:], P[-40:], zero_division)
    recent["hamming_loss"] = np.mean(errors[-40:] / size_now[-40:])
    assert_close(m.get_window(), recent)

    fixed = MultiLabelMetrics(window=None, ks=(), zero_division=zero_division)
    stream(fixed, T, P, n_labels=12)
    assert fixed.get()["hamming_loss"] == pytest.approx(padded["hamming_loss"], **TOL)


def test_label_ids_beyond_known_space_grow_the_arrays():
    m = MultiLabelMetrics(window=2, fading=0.5, ks=())
    m.update({0}, {0})
    m.update({5000}, {5000, 3})  # far beyond the current capacity
    assert m.n_labels == 5001
    for report in (m.get(), m.get_window(), m.get_fading()):
        # labels 0 and 5000 score 1, label 3 (a false positive) and the untouched ones 0
        assert report["macro_precision"] == report["macro_recall"] == pytest.approx(2 / 5001)
    m.update({1}, {1})
    m.update({2}, {2})  # the window now holds the last two instances only
    assert m.get_window()["macro_f1"] == pytest.approx(2 / 5001)
    assert m.get()["macro_f1"] == pytest.approx(4 / 5001)


# ---------------------------------------------------------------- rolling window


@pytest.mark.parametrize("zero_division", [0.0, 1.0])
@pytest.mark.parametrize("seed, L, density", [(21, 7, 0.3), (22, 15, 0.1)])
def test_window_matches_batch_on_last_rows(seed, L, density, zero_division):
    n, width, ks = 230, 50, (1, 3)
    T, P = random_matrices(seed, n, L, density)
    S = np.random.default_rng(seed).integers(-1, 4, size=(n, L)).astype(float)
    m = MultiLabelMetrics(window=width, ks=ks, zero_division=zero_division)
    for t in (1, 2, 49, 50, 51, 99, 100, 101, 173, 230):
        stream(m, T, P, S, n_labels=L, start=m.n, stop=t)
        lo = max(0, t - width)
        expected = sklearn_set_metrics(T[lo:t], P[lo:t], zero_division)
        expected.update(plain_ranking(T[lo:t], S[lo:t], ks))
        expected.update(numpy_coverage(T[lo:t], P[lo:t]))
        # the window sums the last rows' PSP@k, with the propensities of the whole stream so far
        expected.update(numpy_psp(T[:t], S[:t], ks, weights=(np.arange(t) >= lo).astype(float)))
        assert list(m.get_window()) == metric_names(ks)
        assert_close(m.get_window(), expected)
        cumulative = sklearn_set_metrics(T[:t], P[:t], zero_division)
        cumulative.update(plain_ranking(T[:t], S[:t], ks))
        cumulative.update(numpy_psp(T[:t], S[:t], ks) | numpy_coverage(T[:t], P[:t]))
        assert_close(m.get(), cumulative)


def test_long_window_stream_stays_exact():
    # Many additions and removals of fractional contributions: the window must not drift.
    n, width, L = 2000, 7, 5
    T, P = random_matrices(31, n, L, 0.35)
    m = MultiLabelMetrics(window=width, ks=())
    stream(m, T, P, n_labels=L, stop=n - 3)
    stream(m, T, P, n_labels=L, start=n - 3)
    assert_close(m.get_window(), sklearn_set_metrics(T[-width:], P[-width:], 0.0))


# ---------------------------------------------------------------- fading


def age_weights(t, fading):
    return fading ** np.arange(t - 1, -1, -1, dtype=float)


@pytest.mark.parametrize("zero_division", [0.0, 1.0])
def test_fading_matches_weighted_batch(zero_division):
    n, L, fading, ks = 160, 9, 0.95, (2, 5)
    T, P = random_matrices(41, n, L, 0.2)
    S = np.random.default_rng(41).random((n, L)).round(1)
    m = MultiLabelMetrics(window=None, fading=fading, ks=ks, zero_division=zero_division)
    for t in (1, 17, 90, 160):
        stream(m, T, P, S, n_labels=L, score_form="dict", start=m.n, stop=t)
        weights = age_weights(t, fading)
        expected = sklearn_set_metrics(T[:t], P[:t], zero_division, weights)
        expected.update(plain_ranking(T[:t], S[:t], ks, weights))
        expected.update(numpy_psp(T[:t], S[:t], ks, weights) | numpy_coverage(T[:t], P[:t]))
        assert_close(m.get_fading(), expected)


def test_fading_survives_rescaling():
    # 0.3 ** -t passes the rescaling threshold (1e100) at t = 192: the tally is brought back
    # to scale twice in this stream, and the values must not notice.
    n, L, fading = 400, 6, 0.3
    T, P = random_matrices(43, n, L, 0.3)
    m = MultiLabelMetrics(window=None, fading=fading, ks=())
    stream(m, T, P, n_labels=L)
    assert m._faded.steps < n - 191
    assert_close(m.get_fading(), sklearn_set_metrics(T, P, 0.0, age_weights(n, fading)))


def test_fading_one_is_cumulative():
    T, P = random_matrices(44, 60, 5, 0.3)
    m = MultiLabelMetrics(window=None, fading=1.0, ks=())
    stream(m, T, P, n_labels=5)
    assert_close(m.get_fading(), m.get())


# ---------------------------------------------------------------- ranking


@pytest.mark.parametrize("score_form", ["dense", "dict"])
@pytest.mark.parametrize("seed, L, ks", [(51, 8, (1, 3, 5)), (52, 4, (1, 2, 7)), (53, 30, (1, 10))])
def test_ranking_matches_plain_loop(seed, L, ks, score_form):
    n = 120
    T, P = random_matrices(seed, n, L, 0.2)
    # Small integer scores: many ties, zeros and negative scores, which rank below unscored labels.
    S = np.random.default_rng(seed).integers(-2, 3, size=(n, L)).astype(float)
    m = MultiLabelMetrics(window=None, ks=ks)
    stream(m, T, P, S, n_labels=L, score_form=score_form)
    got = m.get()
    assert list(got) == metric_names(ks)
    assert_close(got, plain_ranking(T, S, ks) | numpy_psp(T, S, ks))


def test_ndcg_matches_sklearn_without_ties():
    n, L, ks = 150, 12, (1, 3, 5)
    T, _ = random_matrices(61, n, L, 0.2)
    S = np.random.default_rng(61).random((n, L))
    m = MultiLabelMetrics(window=None, ks=ks)
    for i in range(n):
        m.update(np.flatnonzero(T[i]), [], scores=S[i], n_labels=L)
    counted = T.any(axis=1)  # sklearn scores rows without a relevant label 0; they are left out here
    for k in ks:
        assert m.get()[f"ndcg@{k}"] == pytest.approx(ndcg_score(T[counted], S[counted], k=k), **TOL)


def test_short_score_array_pads_with_zeros():
    T, _ = random_matrices(62, 60, 10, 0.3)
    S = np.random.default_rng(62).random((60, 10)).round(1)
    S[:, 6:] = 0.0
    full, short = MultiLabelMetrics(ks=(3, 8)), MultiLabelMetrics(ks=(3, 8))
    for i in range(60):
        full.update(np.flatnonzero(T[i]), [], scores=S[i], n_labels=10)
        short.update(np.flatnonzero(T[i]), [], scores=S[i, :6], n_labels=10)
    assert short.get() == full.get()
    assert_close(full.get(), plain_ranking(T, S, (3, 8)))


def test_instances_without_relevant_labels_do_not_count_for_ranking():
    m = MultiLabelMetrics(ks=(1, 2))
    m.update({2}, {2}, scores={2: 1.0, 0: 0.5}, n_labels=3)
    before = {k: v for k, v in m.get().items() if "@" in k}
    m.update(set(), {1}, scores={1: 1.0}, n_labels=3)
    m.update({0}, {0}, n_labels=3)  # no scores: not ranked either
    after = {k: v for k, v in m.get().items() if "@" in k}
    assert before == after == {"precision@1": 1.0, "ndcg@1": 1.0, "psp@1": 1.0, "precision@2": 0.5, "ndcg@2": 1.0,
                               "psp@2": 1.0}
    assert m.n == 3


def test_ranking_keys_appear_once_scores_are_given():
    m = MultiLabelMetrics(window=5, fading=0.9, ks=(1, 3))
    m.update({0}, {0})
    assert list(m.get()) == list(m.get_window()) == list(m.get_fading()) == [*SET_METRICS, "label_coverage"]
    m.update({1}, {0}, scores={1: 0.2})
    assert list(m.get()) == list(m.get_window()) == list(m.get_fading()) == metric_names((1, 3))
    assert m.get()["precision@1"] == 1.0


def test_top_k_dict_and_array_agree():
    rng = np.random.default_rng(71)
    for _ in range(50):
        L = int(rng.integers(1, 12))
        row = rng.integers(-2, 3, size=L).astype(float)
        k = int(rng.integers(1, 14))
        expected = sorted(range(L), key=lambda j: (-row[j], j))[:k]
        assert top_k(row, k) == expected
        # A dict may leave zero scores out or state them: the ranking is the same.
        stated = rng.random(L) < 0.5
        assert top_k({j: v for j, v in enumerate(row) if v != 0 or stated[j]}, k, n_labels=L) == expected


# ---------------------------------------------------------------- single metrics, names, pickling


SINGLE = {
    "subset_accuracy": metrics.SubsetAccuracy,
    "hamming_loss": metrics.HammingLoss,
    "example_precision": metrics.ExamplePrecision,
    "example_recall": metrics.ExampleRecall,
    "example_f1": metrics.ExampleF1,
    "example_jaccard": metrics.ExampleJaccard,
    "micro_precision": metrics.MicroPrecision,
    "micro_recall": metrics.MicroRecall,
    "micro_f1": metrics.MicroF1,
    "macro_precision": metrics.MacroPrecision,
    "macro_recall": metrics.MacroRecall,
    "macro_f1": metrics.MacroF1,
}


@pytest.mark.parametrize("zero_division", [0.0, 1.0])
def test_single_metrics_agree_with_sklearn(zero_division):
    T, P = random_matrices(81, 90, 7, 0.25)
    T[:5] = False
    expected = sklearn_set_metrics(T, P, zero_division)
    for name, cls in SINGLE.items():
        metric = cls(zero_division=zero_division)
        stream(metric, T, P, n_labels=7)
        assert metric.get() == pytest.approx(expected[name], **TOL), name
        assert metric.bigger_is_better == (name != "hamming_loss")
        assert metric.n == 90


def test_ranking_single_metrics_agree_with_plain_loop():
    T, P = random_matrices(82, 90, 9, 0.25)
    S = np.random.default_rng(82).integers(0, 4, size=(90, 9)).astype(float)
    expected = plain_ranking(T, S, (4,)) | numpy_psp(T, S, (4,))
    for cls, name in ((metrics.PrecisionAtK, "precision@4"), (metrics.NDCGAtK, "ndcg@4"),
                      (metrics.PSPrecisionAtK, "psp@4")):
        metric = cls(4)
        stream(metric, T, P, S, n_labels=9, score_form="dict")
        assert metric.get() == pytest.approx(expected[name], **TOL)
        assert metric.bigger_is_better


def test_names_and_directions():
    assert metric_names((1, 10)) == [*SET_METRICS, "label_coverage", "precision@1", "ndcg@1", "psp@1", "precision@10",
                                     "ndcg@10", "psp@10"]
    assert list(MultiLabelMetrics().get()) == metric_names(ranking=False) == [*SET_METRICS, "label_coverage"]
    assert [name for name in metric_names() if not bigger_is_better[name]] == ["hamming_loss"]
    assert bigger_is_better["precision@100"] and bigger_is_better["ndcg@k"] and bigger_is_better["psp@7"]
    with pytest.raises(KeyError):
        bigger_is_better["accuracy"]
    assert len(bigger_is_better) == len(list(bigger_is_better)) == 16


def test_pickle_round_trip_keeps_state():
    n, L = 120, 8
    T, P = random_matrices(91, n, L, 0.3)
    S = np.random.default_rng(91).random((n, L))
    m = MultiLabelMetrics(window=25, fading=0.9, ks=(1, 3), zero_division=1.0)
    stream(m, T, P, S, stop=70)
    copy = pickle.loads(pickle.dumps(m))
    assert copy.n == 70
    assert (copy.get(), copy.get_window(), copy.get_fading()) == (m.get(), m.get_window(), m.get_fading())
    for each in (m, copy):
        stream(each, T, P, S, start=70)
    assert (copy.get(), copy.get_window(), copy.get_fading()) == (m.get(), m.get_window(), m.get_fading())
    expected = sklearn_set_metrics(T[-25:], P[-25:], 1.0)
    expected.update(plain_ranking(T[-25:], S[-25:], (1, 3)))
    assert_close(copy.get_window(), expected)

    single = metrics.MacroF1()
    stream(single, T, P, stop=30)
    assert pickle.loads(pickle.dumps(single)).get() == single.get()


# ---------------------------------------------------------------- bad input


def test_bad_input_is_refused():
    m = MultiLabelMetrics()
    m.update({3}, {1}, n_labels=6)
    with pytest.raises(ValueError, match="smaller than the label space"):
        m.update({0}, {0}, n_labels=5)
    with pytest.raises(ValueError, match="largest id"):
        MultiLabelMetrics().update({7}, {0}, n_labels=7)
    with pytest.raises(ValueError, match="non-negative"):
        m.update({-1}, {0})
    with pytest.raises(ValueError, match="NaN"):
        m.update({0}, {0}, scores={0: float("nan")}, n_labels=9)
    with pytest.raises(ValueError, match="NaN"):
        m.update({0}, {0}, scores=np.array([0.1, np.nan]))
    # Refused instances leave no trace.
    assert (m.n, m.n_labels, list(m.get())) == (1, 6, metric_names(ranking=False))
    refused = [{"window": 0}, {"window": 2.5}, {"fading": 0.0}, {"fading": 1.5}, {"ks": (0,)}, {"ks": (3, 3)}]
    for kwargs in refused:
        with pytest.raises(ValueError):
            MultiLabelMetrics(**kwargs)


def test_docstring_examples_run():
    for module in (metrics, metric_kernels):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_psp_rewards_the_rare_labels_and_follows_the_propensity_model():
    # The relevant labels ranked first, frequent ones first or rare ones first: the same precision,
    # a psp of 1 (the best order) for the rare-first ranking and less for the other.
    n, L = 400, 6
    rng = np.random.default_rng(5)
    T = rng.random((n, L)) < np.array([0.6, 0.3, 0.1, 0.05, 0.02, 0.01])
    T[:, 0] |= T.sum(axis=1) == 0
    common, rare = T * np.arange(L, 0, -1.0), T * np.arange(1.0, L + 1)
    got = {}
    for name, S in (("common", common), ("rare", rare)):
        m = MultiLabelMetrics(window=None, ks=(1, 3))
        stream(m, T, T, S, n_labels=L)
        got[name] = m.get()
        assert_close(got[name], numpy_psp(T, S, (1, 3)))
    assert got["rare"]["precision@1"] == got["common"]["precision@1"] == 1.0
    assert got["rare"]["psp@1"] == pytest.approx(1.0) and got["rare"]["psp@3"] == pytest.approx(1.0)
    assert got["common"]["psp@1"] < 0.9 < got["common"]["psp@3"] < 1.0  # most records have at most 3 labels
    # other A and B: the propensities follow them
    m = MultiLabelMetrics(window=None, ks=(1,), propensity=(0.5, 0.4))
    stream(m, T, T, common, n_labels=L)
    assert m.get()["psp@1"] == pytest.approx(numpy_psp(T, common, (1,), a=0.5, b=0.4)["psp@1"], **TOL)
    assert m.get()["psp@1"] != pytest.approx(got["common"]["psp@1"])
    assert m.get()["label_coverage"] == 1.0
