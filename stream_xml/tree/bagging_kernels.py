"""Numba kernels of :class:`~stream_xml.tree.bagging.BaggedLogisticBR`, which owns their arrays.

Label ``l`` owns ensemble row ``slot_of_label[l]`` (EMPTY if none); ``weights[c, s, m]`` is member
``m`` of ensemble ``s``'s weight of dense column ``c``, whose feature id is the key of the feature
table entry with value ``c`` (:mod:`stream_xml.tree.common_kernels`); ``counts[ENSEMBLES]`` and
``counts[COLUMNS]`` count them. Column-major, so a record's few non-zero features each read one
contiguous block of every member's weights. Online bagging draws a Poisson(1) weight per member
and record, from a SplitMix64 generator whose whole state is one ``uint64`` in a 1-element array,
by CDF inversion. The kernels never grow an array: the owner makes room first.

>>> import numpy as np
>>> from stream_xml.tree.bagging_kernels import new_rng_state, poisson_draws
>>> draws = poisson_draws(new_rng_state(7), 100_000)
>>> [round(float(s), 1) for s in (draws.mean(), draws.var(), (draws == 0).mean())]
[1.0, 1.0, 0.4]
>>> bool((poisson_draws(new_rng_state(7), 50) == draws[:50]).all())
True

References
----------
Oza, N. C. and Russell, S. (2001). Online bagging and boosting. Proc. AISTATS 2001, 105-112.

Steele, G. L., Lea, D. and Flood, C. H. (2014). Fast splittable pseudorandom number generators.
Proc. OOPSLA 2014, 453-472 (SplitMix64).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from stream_xml.tree.common_kernels import EMPTY, GOLDEN, also_errors, key_position, label_errors, sigmoid

__all__ = ["ENSEMBLES", "COLUMNS", "BAD_POSITIVES", "NEEDS_ROOM", "new_rng_state", "poisson_draws",
           "br_learn", "br_predict", "br_score_and_learn"]

#: Slots of ``counts``: ensembles made, weight columns used.
ENSEMBLES, COLUMNS = 0, 1

_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_INV_2_53 = 1.0 / 9007199254740992.0
_EXP_MINUS_1 = math.exp(-1.0)


def new_rng_state(seed: int) -> np.ndarray:
    """Generator state for ``seed``: a 1-element ``uint64`` array (pickles with its owner)."""
    return np.array([seed % (1 << 64)], dtype=np.uint64)


@numba.njit(cache=True)
def _next_uniform(state):
    """Advance the SplitMix64 state in place; return a float in [0, 1) with 53 random bits."""
    s = state[0] + GOLDEN
    state[0] = s
    z = (s ^ (s >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z = z ^ (z >> np.uint64(31))
    return np.float64(z >> np.uint64(11)) * _INV_2_53


def _poisson_cdf() -> np.ndarray:
    """Poisson(1)'s CDF at 0, 1, 2, ... as the recurrence ``p /= k; cdf += p`` sums it, up to
    the last term before ``p`` underflows (where the inversion stops in any case)."""
    cdf, k, p = [], 0, _EXP_MINUS_1
    total = p
    while p > 0.0:
        cdf.append(total)
        k += 1
        p /= k
        total += p
    return np.array(cdf)


_POISSON_CDF = _poisson_cdf()


@numba.njit(cache=True)
def _poisson_of_uniform(u):
    """The Poisson(1) draw that the uniform ``u`` in [0, 1) inverts to: the first ``k`` whose CDF
    exceeds ``u``, or the table's end if the rounded CDF never does. The table spares the
    divisions of summing the CDF draw by draw; its values are that sum's, so are the draws."""
    # the first eight comparisons without branches: the draw is random, a branch on it mispredicts
    k = 0
    for j in range(8):
        k += u >= _POISSON_CDF[j]
    if k < 8:
        return k
    n = _POISSON_CDF.shape[0]
    while k < n and u >= _POISSON_CDF[k]:
        k += 1
    return k


@numba.njit(cache=True)
def _poisson_one(state):
    """One Poisson(1) draw by inverting the CDF with a single uniform."""
    return _poisson_of_uniform(_next_uniform(state))


@numba.njit(cache=True)
def poisson_draws(state, n):
    """``n`` successive Poisson(1) draws from ``state`` (advanced in place), as int64."""
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = _poisson_one(state)
    return out


@numba.njit(cache=True)
def _add_logits(z, flat_weights, cols, val):
    """``z[q] += sum_j flat_weights[cols[j], q] * val[j]`` for the members ``q < len(z)``, feature
    by feature in record order (members are independent sums, so the inner loop vectorises)."""
    n = z.shape[0]
    for j in range(cols.shape[0]):
        c = cols[j]
        if c == EMPTY:
            continue
        v = val[j]
        row = flat_weights[c]
        for q in range(n):
            z[q] += row[q] * v


@numba.njit(cache=True)
def _record_columns(feature_keys, feature_cols, counts, idx, val, add):
    """The weight column of each of the record's features (EMPTY for zeros, and for unseen
    features unless ``add``, which gives them new columns)."""
    cols = np.empty(idx.shape[0], dtype=np.int64)
    for j in range(idx.shape[0]):
        if val[j] == 0.0:
            cols[j] = EMPTY
            continue
        h = key_position(feature_keys, idx[j])
        if feature_keys[h] == EMPTY and add:
            feature_keys[h] = idx[j]
            feature_cols[h] = counts[COLUMNS]
            counts[COLUMNS] += 1
        cols[j] = feature_cols[h]
    return cols


#: What :func:`br_learn` returns when its positives are not sorted ids below ``n_labels``.
BAD_POSITIVES = -1
#: What :func:`br_learn` returns when the weights or the feature table must grow first.
NEEDS_ROOM = 1


@numba.njit(cache=True)
def br_learn(
    weights, intercepts, slot_of_label, feature_keys, feature_cols, counts, rng_state,
    idx, val, positives, n_labels, lr, intercept_lr, bootstrap, known_logits, max_ensembles,
):  # fmt: skip
    """One online-bagging step of every ensemble of labels ``0..n_labels-1``; returns 0.

    Labels of ``positives`` without an ensemble get one first (in increasing label order). Then
    every member takes ``k`` plain SGD steps on the log loss, ``k ~ Poisson(1)`` drawn label by
    label, member by member (``k = 1`` without ``bootstrap``). Only the columns of the record's
    non-zero features are touched, once: a step of slope ``g`` moves the member's logit of this
    record by ``-g (intercept_lr + lr |x|²)``, so the ``k`` slopes follow from the logit alone
    and the weights take their sum in one pass (the same steps as ``k`` passes, up to
    rounding). ``known_logits``, if it has one entry per member (flat, ensemble-major), holds
    every member's logit of this record before this step, as :func:`br_predict` left them, and
    spares computing them (else pass an empty array). The caller guarantees
    ``slot_of_label.shape[0] >= n_labels``.

    Nothing changes, and the return value says why, when ``positives`` are not sorted ids below
    ``n_labels`` (:data:`BAD_POSITIVES`), or when the arrays lack room for ``len(positives)``
    new ensembles (at most ``max_ensembles`` in all) and ``len(idx)`` new columns
    (:data:`NEEDS_ROOM`: the caller enlarges them and calls again).
    """
    n_pos = positives.shape[0]
    if n_pos and (positives[0] < 0 or positives[n_pos - 1] >= n_labels):
        return BAD_POSITIVES
    needed_columns = counts[COLUMNS] + idx.shape[0]
    if (min(counts[ENSEMBLES] + n_pos, max_ensembles) > weights.shape[1] or needed_columns > weights.shape[0]
            or 2 * needed_columns > feature_keys.shape[0]):
        return NEEDS_ROOM
    is_positive = np.zeros(n_labels, dtype=np.bool_)
    for label in positives:
        if 0 <= label < n_labels:  # the caller validates; this only keeps writes in bounds
            is_positive[label] = True
    for label in range(n_labels):
        if is_positive[label] and slot_of_label[label] == EMPTY:
            slot_of_label[label] = counts[ENSEMBLES]
            counts[ENSEMBLES] += 1
    cols = _record_columns(feature_keys, feature_cols, counts, idx, val, True)

    n_slots = counts[ENSEMBLES]
    n_models = weights.shape[2]
    n_members = n_slots * n_models
    flat_weights = weights.reshape((weights.shape[0], weights.shape[1] * n_models))
    flat_intercepts = intercepts.reshape(intercepts.shape[0] * n_models)
    if known_logits.shape[0] == n_members:
        z = known_logits
    else:
        z = flat_intercepts[:n_members].copy()
        _add_logits(z, flat_weights, cols, val)
    sq = 0.0
    for j in range(cols.shape[0]):
        if cols[j] != EMPTY:
            sq += val[j] * val[j]
    shift = intercept_lr + lr * sq
    step = np.zeros(n_members)  # lr times the member's summed slopes
    for label in range(n_labels):
        s = slot_of_label[label]
        if s == EMPTY:
            continue
        y = 1.0 if is_positive[label] else 0.0
        for m in range(n_models):
            k = _poisson_one(rng_state) if bootstrap else 1
            q = s * n_models + m
            zq = z[q]
            # the first step without a branch on k (a random draw, so a branch mispredicts)
            g = _log_loss_slope(zq, y)
            on = 1.0 if k > 0 else 0.0
            flat_intercepts[q] -= intercept_lr * (g * on)
            slopes = 0.0 + g * on
            zq -= g * shift
            for _ in range(1, k):
                g = _log_loss_slope(zq, y)
                flat_intercepts[q] -= intercept_lr * g
                slopes += g
                zq -= g * shift
            step[q] = lr * slopes
    for j in range(cols.shape[0]):
        c = cols[j]
        if c == EMPTY:
            continue
        v = val[j]
        row = flat_weights[c]
        for q in range(n_members):
            row[q] -= step[q] * v
    return 0


@numba.njit(cache=True)
def _log_loss_slope(z, y):
    """d(log loss)/dz = sigmoid(z) - y, written so that neither branch cancels."""
    return -sigmoid(-z) if y == 1.0 else sigmoid(z)


@numba.njit(cache=True)
def br_predict(weights, intercepts, slot_of_label, feature_keys, feature_cols, counts, idx, val, n_labels,
               logits):  # fmt: skip
    """Per-label P(1): the mean of the members' sigmoids, 0 for labels without an ensemble. The
    members' logits are also written to ``logits`` if it has one entry per member."""
    out = np.zeros(n_labels)
    cols = _record_columns(feature_keys, feature_cols, counts, idx, val, False)
    n_models = weights.shape[2]
    z = intercepts[: counts[ENSEMBLES]].copy().reshape(counts[ENSEMBLES] * n_models)
    _add_logits(z, weights.reshape((weights.shape[0], weights.shape[1] * n_models)), cols, val)
    if logits.shape[0] == z.shape[0]:
        logits[:] = z
    for label in range(min(n_labels, slot_of_label.shape[0])):
        s = slot_of_label[label]
        if s == EMPTY:
            continue
        p = 0.0
        for m in range(n_models):
            p += sigmoid(z[s * n_models + m])
        out[label] = p / n_models
    return out



@numba.njit(cache=True)
def br_score_and_learn(
    positives, weights, intercepts, slot_of_label, feature_keys, feature_cols, counts, idx, val,
    n_labels, logits, rng_state, lr, intercept_lr, bootstrap, max_ensembles, also,
):  # fmt: skip
    """``(errors, also_errors, status)``: the :func:`label_errors` against ``positives`` of
    :func:`br_predict` (the parameters from ``weights`` to ``logits`` are its) and of ``also``
    (another prediction for the record; -1 if empty), then :func:`br_learn` of the record from
    the logits it left, whose return value ``status`` is (when not 0 nothing was learned)."""
    proba = br_predict(weights, intercepts, slot_of_label, feature_keys, feature_cols, counts, idx, val, n_labels, logits)
    wrong = label_errors(proba, positives)
    status = br_learn(
        weights, intercepts, slot_of_label, feature_keys, feature_cols, counts, rng_state,
        idx, val, positives, n_labels, lr, intercept_lr, bootstrap, logits, max_ensembles,
    )  # fmt: skip
    return wrong, also_errors(also, positives), status
