"""Numba kernels of the attribute observers: Gaussian, and counted for nominal indicators.

A leaf's observers are one float64 array ``moments`` of shape ``(features, 5, keys)``: for every
feature column and key (``[total, ∅, label 0, ...]``, see :mod:`stream_xml.tree.entropy`) the
weighted count, mean, M2 (weighted Welford), min and max of the feature's **explicit** values in
the records of that key; ``moments[f, COUNT]`` is feature ``f``'s counts of every key side by
side, which is what naive Bayes reads of a counted feature for every label. ``key_weight[k]`` is
the weight of every record of key ``k`` the observers saw. A feature absent from a record means
0: instead of storing those zeros, the split search adds, for each key, the
``key_weight[k] - count`` implicit zeros as a point mass at 0 (exact merge of mean and M2; min
and max take in 0). An update thus costs O(nnz(x) · (positive labels + 1)).

A nominal indicator (a feature declared nominal: 0 or 1, its explicit values all 1) needs no
state of its own: its explicit count per key is the weight of that key's records holding a 1,
the rest of the key's weight holds a 0. Its split ``x <= 0.5`` is the same partition as a
binary nominal split, and the split search (:func:`best_splits`) counts its two branches' label
distributions exactly instead of estimating them with Gaussians, which give a 0/1 variable the
wrong mass on each side of every threshold and so the wrong merit (MOA's and river's nominal
observers count per value likewise). Naive Bayes (:func:`naive_bayes`) takes such a feature as a
Bernoulli variable.

Kernels never allocate capacity: :func:`observe` first checks that every feature and key of the
record fits and, if not, changes nothing and returns the sizes needed, so the caller grows the
arrays and calls again.

>>> import numpy as np
>>> from stream_xml.tree.observer_kernels import best_splits, new_moments, observe, post_split
>>> moments, key_weight, stats = new_moments(2, 4), np.zeros(4), np.zeros(4)
>>> for v, label in [(0.1, 0), (0.2, 0), (0.3, 0), (0.7, 1), (0.8, 1), (0.9, 1)]:
...     idx, val, positives = np.array([1]), np.array([v]), np.array([label])
...     _ = observe(stats, moments, key_weight, idx, val, positives, 1.0)
>>> stats.tolist()
[6.0, 0.0, 3.0, 3.0]
>>> no_nominal = np.zeros(0, dtype=np.uint8)  # no feature declared nominal
>>> merit, threshold = best_splits(moments, key_weight, 2.0, 10, 0.01, no_nominal, False)
>>> bool(merit[0] == -np.inf), round(float(threshold[1]), 4)
(True, 0.3182)
>>> left, right = post_split(moments, key_weight, 1, threshold[1], no_nominal, False)

Each key is estimated by its own Gaussian, the total too, so the estimated totals need not add
up the label counts:

>>> left.round(2).tolist(), right.round(2).tolist()
([1.78, 0.0, 3.0, 0.0], [4.22, 0.0, 0.0, 3.0])

References
----------
Welford, B. P. (1962). Note on a method for calculating corrected sums of squares and
products. Technometrics 4(3), 419-420.

Esteban, A., Cano, A., Zafra, A. and Ventura, S. (2024). Hoeffding adaptive trees for
multi-label classification on data streams. Knowledge-Based Systems 304, 112561.

"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from stream_xml.tree.entropy import split_merit
from stream_xml.tree.common_kernels import dense_record, sigmoid

__all__ = [
    "COUNT",
    "MEAN",
    "M2",
    "LOW",
    "HIGH",
    "new_moments",
    "count_labels",
    "label_share",
    "answer_with_shares",
    "observe",
    "key_gaussians",
    "best_splits",
    "post_split",
    "naive_bayes",
]

COUNT, MEAN, M2, LOW, HIGH = 0, 1, 2, 3, 4
_SQRT2 = math.sqrt(2.0)


def new_moments(n_features: int, n_keys: int) -> np.ndarray:
    """Empty observers, all zeros (a cell's min and max are set by its first value), so a
    large array costs no memory until its cells are touched."""
    return np.zeros((n_features, 5, n_keys))


@njit(cache=True)
def _keys_needed(positives):
    return 2 if positives.shape[0] == 0 else positives.max() + 3


@njit(cache=True)
def count_labels(stats, positives, w):
    """Add a record of weight ``w`` to a label distribution; return the key count needed if
    ``stats`` is too short (then nothing changes), else 0."""
    needed = _keys_needed(positives)
    if needed > stats.shape[0]:
        return needed
    stats[0] += w
    if positives.shape[0] == 0:
        stats[1] += w
    for p in positives:
        stats[2 + p] += w
    return 0


@njit(cache=True)
def label_share(stats, j):
    """The share of a label distribution's records that carry label ``j`` (0 for a label it has
    not counted)."""
    if 2 + j >= stats.shape[0] or stats[0] <= 0.0:
        return 0.0
    return stats[2 + j] / stats[0]


@njit(cache=True)
def answer_with_shares(answer, stats):
    """Per label, the mean of ``answer`` (P(1) per label) and the label's share of the records of
    ``stats`` (:func:`label_share`), as a new array."""
    out = np.empty(answer.shape[0])
    for j in range(answer.shape[0]):
        out[j] = 0.5 * answer[j] + 0.5 * label_share(stats, j)
    return out


@njit(cache=True)
def _welford(moments, f, k, x, w):
    """Add ``x`` with weight ``w`` to the cell of feature ``f`` and key ``k`` (indexed in place:
    a view of the cell per update costs twice the update)."""
    count = moments[f, COUNT, k]
    if count == 0.0:
        moments[f, LOW, k] = x
        moments[f, HIGH, k] = x
    elif x < moments[f, LOW, k]:
        moments[f, LOW, k] = x
    elif x > moments[f, HIGH, k]:
        moments[f, HIGH, k] = x
    n = count + w
    mean = moments[f, MEAN, k]
    d = x - mean
    mean += d * w / n
    moments[f, MEAN, k] = mean
    moments[f, M2, k] += w * d * (x - mean)
    moments[f, COUNT, k] = n


@njit(cache=True)
def observe(stats, moments, key_weight, idx, val, positives, w):
    """One record (sparse ``idx``/``val``, sorted label ids ``positives``, weight ``w``) into a
    leaf: its label distribution ``stats``, ``key_weight`` and the observers.

    Returns ``(0, 0)`` when done, else ``(features, keys)`` needed, having changed nothing.
    """
    n_features = 0
    for j in range(idx.shape[0]):
        if idx[j] + 1 > n_features:
            n_features = idx[j] + 1
    n_keys = _keys_needed(positives)
    if (
        n_features > moments.shape[0]
        or n_keys > moments.shape[2]
        or n_keys > stats.shape[0]
        or n_keys > key_weight.shape[0]
    ):
        return n_features, n_keys
    count_labels(stats, positives, w)
    count_labels(key_weight, positives, w)
    # feature by feature: a feature's cells of every key share its five rows of statistics
    empty = positives.shape[0] == 0
    for j in range(idx.shape[0]):
        f = idx[j]
        x = val[j]
        _welford(moments, f, 0, x, w)
        if empty:
            _welford(moments, f, 1, x, w)
        for p in positives:
            _welford(moments, f, 2 + p, x, w)
    return 0, 0


@njit(cache=True)
def _with_zeros(moments, f, k, total):
    """``(mean, M2, implicit zeros)`` of key ``k``'s values of feature ``f``, its ``total`` weight
    minus the explicit count being zeros (a remainder below 1e-9 of the total is rounding)."""
    zeros = total - moments[f, COUNT, k]
    if zeros <= 1e-9 * total:
        zeros = 0.0
    mean, m2 = _mean_m2_with_zeros(moments, f, k, total, 1.0 / total)
    return mean, m2, zeros


@njit(cache=True)
def _mean_m2_with_zeros(moments, f, k, total, inv_total):
    """``(mean, M2)`` of :func:`_with_zeros`, given ``1 / total`` too (inner loops compute it
    once for many cells)."""
    explicit = moments[f, COUNT, k]
    if explicit <= 0.0:
        return 0.0, 0.0
    zeros = total - explicit
    mean = moments[f, MEAN, k]
    if zeros <= 1e-9 * total:
        return mean * explicit * inv_total, moments[f, M2, k]
    return mean * explicit * inv_total, moments[f, M2, k] + mean * mean * explicit * zeros * inv_total


@njit(cache=True)
def _key_gaussians(moments, key_weight, f, weight, mean, sd, low, high):
    """Fill the per-key Gaussian of feature ``f`` with its implicit zeros merged in; return the
    feature's (min, max) over all keys. Keys never seen get weight 0."""
    v_min = np.inf
    v_max = -np.inf
    for k in range(key_weight.shape[0]):
        total = key_weight[k]
        weight[k] = total
        if total <= 0.0:
            continue
        mean[k], m2, zeros = _with_zeros(moments, f, k, total)
        if moments[f, COUNT, k] > 0.0:
            low[k] = moments[f, LOW, k]
            high[k] = moments[f, HIGH, k]
            if zeros > 0.0:
                low[k] = min(low[k], 0.0)
                high[k] = max(high[k], 0.0)
        else:
            low[k] = 0.0
            high[k] = 0.0
        var = m2 / (total - 1.0) if total > 1.0 else 0.0
        sd[k] = math.sqrt(var) if var > 0.0 else 0.0
        v_min = min(v_min, low[k])
        v_max = max(v_max, high[k])
    return v_min, v_max


@njit(cache=True)
def _split_at(v, weight, mean, sd, low, high, left, right):
    """Estimated distributions on each side of ``x <= v``; returns the number of non-total keys
    present on each side (a key is absent from a side its whole range misses)."""
    n_left = 0
    n_right = 0
    for k in range(weight.shape[0]):
        w = weight[k]
        if w <= 0.0:
            left[k] = 0.0
            right[k] = 0.0
            continue
        if v < low[k]:
            left[k] = 0.0
            right[k] = w
            n_right += 1
        elif v >= high[k]:
            left[k] = w
            right[k] = 0.0
            n_left += 1
        else:
            cdf = 0.0
            if sd[k] > 0.0:
                cdf = 0.5 * (1.0 + math.erf((v - mean[k]) / (sd[k] * _SQRT2)))
            left[k] = w * cdf
            right[k] = w - left[k]
            n_left += 1
            n_right += 1
    if weight[0] > 0.0:  # the total is a key of both sides, not a label key
        n_left -= 1
        n_right -= 1
    return n_left, n_right


@njit(cache=True)
def is_counted(moments, nominal, binary, f):
    """Whether the split of feature ``f`` is judged by counts (a ``{0,1}`` indicator) rather than
    Gaussians: ``nominal[f]`` (the feature is declared nominal) or, with ``binary``, every explicit
    value of it the leaf has seen is 1."""
    if f < nominal.shape[0] and nominal[f]:
        return True
    return binary and moments[f, LOW, 0] == 1.0 and moments[f, HIGH, 0] == 1.0


@njit(cache=True)
def _counted_split(moments, key_weight, f, left, right):
    """Exact distributions on each side of ``x_f <= 0.5`` for a ``{0,1}`` feature: a key's records
    with a 1 (its explicit count) go right, the rest (its implicit zeros) left. Returns the
    number of non-total keys present on each side, as :func:`_split_at`."""
    n_left = 0
    n_right = 0
    for k in range(key_weight.shape[0]):
        total = max(key_weight[k], 0.0)
        ones = moments[f, COUNT, k] if total > 0.0 else 0.0
        zeros = total - ones
        if zeros <= 1e-9 * total:  # rounding of the weights' sums, not records with a 0
            zeros = 0.0
        left[k] = zeros
        right[k] = ones
        if k > 0:  # the total is a key of both sides, not a label key
            n_left += 1 if zeros > 0.0 else 0
            n_right += 1 if ones > 0.0 else 0
    return n_left, n_right


#: The threshold of a counted split: ``x <= 0.5`` sends the zeros left and the ones right.
COUNTED_THRESHOLD = 0.5


@njit(cache=True)
def best_splits(moments, key_weight, pre_entropy, n_split_points, min_branch_fraction, nominal, binary):
    """Best binary split of every feature: ``(merit, threshold)`` arrays over the feature rows.

    A counted feature (:func:`is_counted`) has one candidate, ``x <= 0.5``, whose distributions
    are counted exactly. For the others, candidates are ``n_split_points`` evenly spaced values
    strictly inside the feature's range, the distributions estimated by per-key Gaussians;
    features without a candidate (never seen, or constant) get merit -inf and threshold NaN.
    """
    n_features = moments.shape[0]
    n_keys = key_weight.shape[0]
    merit = np.full(n_features, -np.inf)
    threshold = np.full(n_features, np.nan)
    weight = np.zeros(n_keys)
    mean = np.zeros(n_keys)
    sd = np.zeros(n_keys)
    low = np.zeros(n_keys)
    high = np.zeros(n_keys)
    left = np.zeros(n_keys)
    right = np.zeros(n_keys)
    for f in range(n_features):
        if moments[f, COUNT, 0] <= 0.0:
            continue
        if is_counted(moments, nominal, binary, f):
            n_left, n_right = _counted_split(moments, key_weight, f, left, right)
            m = split_merit(pre_entropy, left, right, n_left, n_right, min_branch_fraction)
            if m > merit[f]:
                merit[f] = m
                threshold[f] = COUNTED_THRESHOLD
            continue
        v_min, v_max = _key_gaussians(moments, key_weight, f, weight, mean, sd, low, high)
        step = (v_max - v_min) / (n_split_points + 1.0)
        for i in range(1, n_split_points + 1):
            v = v_min + step * i
            if not (v_min < v < v_max):
                continue
            n_left, n_right = _split_at(v, weight, mean, sd, low, high, left, right)
            m = split_merit(pre_entropy, left, right, n_left, n_right, min_branch_fraction)
            if m > merit[f]:
                merit[f] = m
                threshold[f] = v
    return merit, threshold


@njit(cache=True)
def key_gaussians(moments, key_weight, f):
    """Per-key ``(weight, mean, sd, min, max)`` arrays of feature ``f``, implicit zeros merged."""
    n_keys = key_weight.shape[0]
    weight = np.zeros(n_keys)
    mean = np.zeros(n_keys)
    sd = np.zeros(n_keys)
    low = np.zeros(n_keys)
    high = np.zeros(n_keys)
    _key_gaussians(moments, key_weight, f, weight, mean, sd, low, high)
    return weight, mean, sd, low, high


@njit(cache=True)
def post_split(moments, key_weight, f, v, nominal, binary):
    """``(left, right)`` label distributions of the split ``x_f <= v``: counted exactly for a
    counted feature (:func:`is_counted`, split at 0.5), else estimated by the per-key Gaussians."""
    n_keys = key_weight.shape[0]
    left = np.zeros(n_keys)
    right = np.zeros(n_keys)
    if is_counted(moments, nominal, binary, f):
        _counted_split(moments, key_weight, f, left, right)
        return left, right
    weight, mean, sd, low, high = key_gaussians(moments, key_weight, f)
    _split_at(v, weight, mean, sd, low, high, left, right)
    return left, right


@njit(cache=True, error_model="numpy")  # no zero-division checks: they keep loops from vectorizing
def naive_bayes(moments, key_weight, idx, val, n_labels, nominal, binary):
    """Per-label P(1) of naive Bayes over the observers: for every label, its records against
    the others, each feature a Gaussian in each (implicit zeros included), or, for a counted
    feature (:func:`is_counted`), a Bernoulli variable; every feature the leaf has seen counted
    (an absent one as 0).

    A label's Gaussian is its key's; the others' is the total's minus it (exact subtraction of
    weight, mean and M2). Variances have ddof 1 and, as scikit-learn's ``var_smoothing``, 1e-9 of
    the largest Gaussian feature variance added (1e-9 if all are 0). A label never seen predicts
    0, one in every record 1. Features the leaf never saw non-zero are skipped (a Gaussian one
    has the same Gaussian on both sides). The cost is O(features seen × labels).
    """
    out = np.zeros(n_labels)
    rows = moments.shape[0]
    w_t = key_weight[0]
    if w_t <= 0.0:
        return out
    x = dense_record(idx, val, rows)
    # only the features the leaf has seen non-zero count (the others add exactly 0 to a logit)
    seen = np.empty(rows, dtype=np.int64)
    counted = np.zeros(rows, dtype=np.bool_)
    n_seen = 0
    total_mean = np.empty(rows)
    total_m2 = np.empty(rows)
    largest = 0.0
    for f in range(rows):
        if moments[f, COUNT, 0] <= 0.0:
            continue
        seen[n_seen] = f
        n_seen += 1
        if is_counted(moments, nominal, binary, f):
            counted[f] = True
            continue
        total_mean[f], total_m2[f], _ = _with_zeros(moments, f, 0, w_t)
        if w_t > 1.0:
            largest = max(largest, total_m2[f] / (w_t - 1.0))
    smoothing = 1e-9 * largest if largest > 0.0 else 1e-9
    # Bernoulli likelihoods (numerator, denominator) and Gaussian variance ratios are multiplied
    # up and their logs taken once per label (a log per feature was most of the cost); a product
    # that leaves [1e-100, 1e100] goes into the logit at once, so none overflows. Features are
    # the outer loop, labels the inner, which reads each statistic of a feature for every key in
    # one contiguous run (a label's statistics of every feature lie a feature's width apart: the
    # label-outer order missed the cache on wide streams). Each label takes its features in the
    # order it always did, so its sums are the same to the bit. The loops stay in this function:
    # a call per feature cost a fifth more on a dozen labels.
    active, state = _nb_labels(key_weight, w_t, n_labels, out)
    n_lanes = active.shape[0]
    logit, odds_num, odds_den, ratio = state[_LOGIT], state[_NUM], state[_DEN], state[_RATIO]
    w_ls, inv_l, inv_c, inv_l2 = state[_W], state[_INV_L], state[_INV_C], state[_INV_L2]
    inv_c2, spread, inv_dof_l, inv_dof_c = state[_INV_C2], state[_SPREAD], state[_INV_DOF_L], state[_INV_DOF_C]
    for i in range(n_seen):
        f = seen[i]
        x_f = x[f]
        if counted[f]:
            # P(x_f = 1) the Laplace-smoothed share of records holding it ((count + 1) /
            # (weight + 2), as MOA's and WEKA's nominal estimators), the label's and the others'
            total_ones = moments[f, COUNT, 0]
            counts = moments[f, COUNT]
            # two loops without branches on the labels (the compiler vectorizes them), then one
            # that moves a product leaving [1e-100, 1] into the logit
            if x_f != 0.0:
                for label in range(n_lanes):
                    ones_l = counts[label + 2] if active[label] else 0.0
                    odds_num[label] *= (ones_l + 1.0) * inv_l2[label]
                    odds_den[label] *= (max(total_ones - ones_l, 0.0) + 1.0) * inv_c2[label]
            else:
                for label in range(n_lanes):
                    ones_l = counts[label + 2] if active[label] else 0.0
                    odds_num[label] *= 1.0 - (ones_l + 1.0) * inv_l2[label]
                    odds_den[label] *= 1.0 - (max(total_ones - ones_l, 0.0) + 1.0) * inv_c2[label]
            for label in range(n_labels):
                if active[label] and (odds_num[label] < 1e-100 or odds_den[label] < 1e-100):
                    logit[label] += math.log(odds_num[label] / odds_den[label])
                    odds_num[label] = odds_den[label] = 1.0
            continue
        counts, means, m2s = moments[f, COUNT], moments[f, MEAN], moments[f, M2]
        mean_t, m2_t = total_mean[f], total_m2[f]
        for label in range(n_lanes):
            # :func:`_mean_m2_with_zeros` with selects for its branches, so that the compiler
            # vectorizes the loop; an inactive label reads an empty cell (finite results, unused)
            w_l = w_ls[label]
            explicit = counts[label + 2] if active[label] else 0.0
            mean_x = means[label + 2] if explicit > 0.0 else 0.0
            m2_x = m2s[label + 2] if explicit > 0.0 else 0.0
            zeros = w_l - explicit
            mean_l = mean_x * explicit * inv_l[label]
            m2_l = m2_x if zeros <= 1e-9 * w_l else m2_x + mean_x * mean_x * explicit * zeros * inv_l[label]
            mean_c = (w_t * mean_t - w_l * mean_l) * inv_c[label]
            d = mean_l - mean_c
            m2_c = max(m2_t - m2_l - d * d * spread[label], 0.0)
            precision_l = 1.0 / (m2_l * inv_dof_l[label] + smoothing)
            var_c = m2_c * inv_dof_c[label] + smoothing
            a = x_f - mean_l
            b = x_f - mean_c
            logit[label] += 0.5 * (b * b / var_c - a * a * precision_l)
            ratio[label] *= var_c * precision_l
        for label in range(n_labels):
            if active[label] and not 1e-100 <= ratio[label] <= 1e100:
                logit[label] += 0.5 * math.log(ratio[label])
                ratio[label] = 1.0
    for label in range(n_labels):
        if active[label]:
            odds = math.log(odds_num[label] / odds_den[label])
            out[label] = sigmoid(logit[label] + odds + 0.5 * math.log(ratio[label]))
    return out


# Rows of naive Bayes' per-label state (:func:`_nb_labels`): the logit, the running products of
# the Bernoulli likelihoods (numerator, denominator) and of the Gaussian variance ratios, then
# constants: the label's weight and reciprocals (divisions were much of the cost).
_LOGIT, _NUM, _DEN, _RATIO, _W, _INV_L, _INV_C, _INV_L2, _INV_C2, _SPREAD, _INV_DOF_L, _INV_DOF_C = range(12)


@njit(cache=True, error_model="numpy")
def _nb_labels(key_weight, w_t, n_labels, out):
    """``(active, state)``: which labels naive Bayes scores and their state (rows as named
    above), over a multiple of 8 lanes, the lanes past the labels inactive: the compiler's vector
    loop then takes every label (a dozen labels otherwise went mostly to its scalar remainder,
    at twice the time). A label in every record gets ``out`` 1 and is not scored."""
    n_keys = key_weight.shape[0]
    n_lanes = (n_labels + 7) // 8 * 8
    active = np.zeros(n_lanes, dtype=np.bool_)
    state = np.zeros((12, n_lanes))  # one allocation: small label sets call this often
    state[_NUM] = state[_DEN] = state[_RATIO] = 1.0
    for label in range(n_labels):
        k = label + 2
        w_l = key_weight[k] if k < n_keys else 0.0
        w_c = w_t - w_l
        if w_l <= 0.0:
            continue
        if w_c <= 1e-9 * w_t:
            out[label] = 1.0
            continue
        active[label] = True
        state[_LOGIT, label] = math.log(w_l / w_c)
        state[_W, label] = w_l
        state[_INV_L, label], state[_INV_C, label] = 1.0 / w_l, 1.0 / w_c
        state[_INV_L2, label], state[_INV_C2, label] = 1.0 / (w_l + 2.0), 1.0 / (w_c + 2.0)
        state[_SPREAD, label] = w_l * w_c / w_t
        state[_INV_DOF_L, label] = 1.0 / (w_l - 1.0) if w_l > 1.0 else 0.0
        state[_INV_DOF_C, label] = 1.0 / (w_c - 1.0) if w_c > 1.0 else 0.0
    return active, state
