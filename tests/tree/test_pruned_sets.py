"""Pruned-set leaves (issue 22): the classes they keep, naive Bayes over them against a direct
computation from the records, the naive-Bayes-adaptive choice, and MLHT with them."""

from __future__ import annotations

import math
import pickle
import random

import numpy as np
import pytest
from river import datasets

from stream_xml.tree import MLHAT, MLHT
from stream_xml.tree.pruned_sets import PrunedSets


def mixed_records(n: int, seed: int):
    """Records with 0/1 features 0-3 and numeric features 4-6, sparse (absent = 0), whose
    labelset depends on them; labelsets as sorted id arrays."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        x = {}
        for f in range(4):
            if rng.random() < 0.3 + 0.1 * f:
                x[f] = 1.0
        for f in range(4, 7):
            if rng.random() < 0.7:
                x[f] = round(rng.gauss(f - 4 + 2 * (0 in x), 1.0), 3)
        if 0 in x and 1 in x:
            labels = [0, 2]
        elif 0 in x:
            labels = [0]
        elif x.get(4, 0.0) > 1.0:
            labels = [1]
        elif rng.random() < 0.5:
            labels = []
        else:
            labels = [rng.randrange(5)]
        idx = np.array(sorted(x), dtype=np.int64)
        out.append((idx, np.array([x[f] for f in idx], dtype=float), np.array(labels, dtype=np.int64)))
    return out


def direct_log_posterior(records, classes, x, nominal, binary):
    """Naive Bayes written out from the learned records themselves (dense matrices, numpy's
    variance), the reference for PrunedSets' sums."""
    n_cols = max(len(nominal), 1 + max(int(i.max()) for i, _, _ in records if len(i)))
    dense = np.zeros((len(records), n_cols))
    for r, (idx, val, _) in enumerate(records):
        dense[r, idx] = val
    cls = np.array([next((c for c, s in enumerate(classes) if np.array_equal(s, y)), -1) for _, _, y in records])
    keep = cls >= 0
    dense, cls = dense[keep], cls[keep]
    seen = (dense != 0).any(axis=0)
    only_ones = ((dense == 0) | (dense == 1)).all(axis=0)
    counted = np.array([(f < len(nominal) and nominal[f] != 0) or (binary and seen[f] and only_ones[f])
                        for f in range(n_cols)])
    gaussian = seen & ~counted
    pooled = [dense[:, f].var(ddof=1) for f in range(n_cols) if gaussian[f]] if len(dense) > 1 else []
    smoothing = 1e-9 * max(pooled) if pooled and max(pooled) > 0 else 1e-9
    out = []
    for c in range(len(classes)):
        rows = dense[cls == c]
        if len(rows) == 0:
            out.append(-math.inf)
            continue
        lp = math.log(len(rows) / len(dense))
        for f in range(n_cols):
            if counted[f]:
                p = ((rows[:, f] != 0).sum() + 1) / (len(rows) + 2)
                lp += math.log(p if x[f] != 0 else 1 - p)
            elif gaussian[f]:
                var = (rows[:, f].var(ddof=1) if len(rows) > 1 else 0.0) + smoothing
                lp += -0.5 * math.log(2 * math.pi * var) - (x[f] - rows[:, f].mean()) ** 2 / (2 * var)
        out.append(lp)
    return np.array(out)


@pytest.mark.parametrize("binary", [False, True])
def test_naive_bayes_matches_a_direct_computation(binary):
    records = mixed_records(400, seed=3)
    nominal = np.array([1, 1, 0, 0], dtype=np.uint8)  # features 2, 3 are 0/1 but not declared
    ps = PrunedSets(n_sets=4, buffer=50)
    for idx, val, y in records:
        ps.learn(idx, val, y, 1.0, nominal, binary)
    assert 2 <= len(ps.classes) <= 4
    for idx, val, _ in mixed_records(20, seed=4):
        x = np.zeros(16)
        x[idx] = val
        got = ps._log_posterior(idx, val, nominal, binary)
        want = direct_log_posterior(records, ps.classes, x, nominal, binary)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-7)


def test_classes_are_the_heaviest_labelsets_of_the_buffer_and_others_are_not_learned():
    ps = PrunedSets(n_sets=2, buffer=6)
    nominal = np.zeros(0, dtype=np.uint8)
    one = (np.array([0]), np.array([1.0]))
    ys = [[], [3], [1, 2], [3], [1, 2], [5]]  # [3] and [1, 2] twice, in first-seen order
    for y in ys:
        assert ps.predict_proba(*one, 6, nominal, False) is None  # still buffering
        ps.learn(*one, np.array(y, dtype=np.int64), 1.0, nominal, False)
    assert [c.tolist() for c in ps.classes] == [[3], [1, 2]]
    assert ps._weight.tolist() == [2.0, 2.0]  # the buffered records of the kept classes
    ps.learn(*one, np.array([5]), 1.0, nominal, False)  # pruned: not a class
    ps.learn(*one, np.array([3]), 2.0, nominal, False)
    assert ps._weight.tolist() == [4.0, 2.0]
    assert ps.predict_proba(*one, 6, nominal, False).shape == (6,)


def test_a_tie_at_the_cut_drops_every_labelset_of_the_tie():
    nominal = np.zeros(0, dtype=np.uint8)
    one = (np.array([0]), np.array([1.0]))
    ps = PrunedSets(n_sets=2, buffer=7)
    for y in ([1], [1], [1], [2], [2], [3], [4]):  # [2] is kept; [3] and [4] tie below it
        ps.learn(*one, np.array(y), 1.0, nominal, False)
    assert [c.tolist() for c in ps.classes] == [[1], [2]]
    ps = PrunedSets(n_sets=2, buffer=6)
    for y in ([1], [1], [2], [2], [3], [3]):  # three tied: none is heavier than the third
        ps.learn(*one, np.array(y), 1.0, nominal, False)
    assert ps.classes == [] and ps.predict_proba(*one, 4, nominal, False) is None
    ps.learn(*one, np.array([1]), 1.0, nominal, False)  # nothing to learn, nothing breaks
    ps = PrunedSets(n_sets=2, buffer=5)
    for y in ([1], [1], [1], [2], [3]):  # [1] alone is heavier than the tie at the cut
        ps.learn(*one, np.array(y), 1.0, nominal, False)
    assert [c.tolist() for c in ps.classes] == [[1]]


def test_the_empty_labelset_is_a_class_like_any_other():
    ps = PrunedSets(n_sets=1, buffer=3)
    nominal = np.zeros(0, dtype=np.uint8)
    for y in ([], [], [2]):
        ps.learn(np.array([0]), np.array([1.0]), np.array(y, dtype=np.int64), 1.0, nominal, False)
    assert [c.tolist() for c in ps.classes] == [[]]
    assert (ps.predict_proba(np.array([0]), np.array([1.0]), 3, nominal, False) <= 0.5).all()


def test_naive_bayes_answers_only_while_it_beats_the_heaviest_class():
    nominal = np.ones(2, dtype=np.uint8)
    # labelset [0] always has feature 0, labelset [1] feature 1: naive Bayes is always right
    informative = PrunedSets(n_sets=2, buffer=10)
    rng = random.Random(1)
    for _ in range(300):
        y = 0 if rng.random() < 0.7 else 1
        informative.learn(np.array([y]), np.array([1.0]), np.array([y]), 1.0, nominal, False)
    assert informative.nb_correct > informative.mc_correct
    scores = informative.predict_proba(np.array([1]), np.array([1.0]), 2, nominal, False)
    assert (scores > 0.5).tolist() == [False, True]  # the minority class, from its feature
    # features independent of the labelset: the heaviest class does at least as well
    noise = PrunedSets(n_sets=2, buffer=10)
    for _ in range(300):
        y = 0 if rng.random() < 0.7 else 1
        f = rng.randrange(2)
        noise.learn(np.array([f]), np.array([1.0]), np.array([y]), 1.0, nominal, False)
    assert noise.mc_correct >= noise.nb_correct
    for f in range(2):
        scores = noise.predict_proba(np.array([f]), np.array([1.0]), 2, nominal, False)
        assert (scores > 0.5).tolist() == [True, False]


def test_scores_rank_by_posterior_and_mark_the_chosen_labelset():
    ps = PrunedSets(n_sets=3, buffer=30)
    nominal = np.ones(3, dtype=np.uint8)
    for i in range(300):
        y = [[0, 1], [1], [2]][i % 3]
        ps.learn(np.array([i % 3]), np.array([1.0]), np.array(y), 1.0, nominal, False)
    scores = ps.predict_proba(np.array([0]), np.array([1.0]), 4, nominal, False)
    lp = ps._log_posterior(np.array([0]), np.array([1.0]), nominal, False)
    post = np.exp(lp - lp.max())
    post /= post.sum()
    np.testing.assert_allclose(scores, [0.5 + 0.5 * post[0], 0.5 + 0.5 * (post[0] + post[1]), 0.5 * post[2], 0.0])


def test_mlht_with_pruned_sets_answers_with_its_majority_labelset_until_the_buffer_is_full():
    model = MLHT(leaf_model="ps", ps_buffer=40, grace_period=10**6, bootstrap_sampling=False)
    majority = MLHT(grace_period=10**6, bootstrap_sampling=False)
    changed = 0
    for i, (x, y) in enumerate(datasets.Yeast().take(400)):
        if i < 40:
            assert model.predict_one(x) == majority.predict_one(x)
        else:
            changed += model.predict_one(x) != majority.predict_one(x)
        model.learn_one(x, y)
        majority.learn_one(x, y)
    assert changed > 50
    leaf = model._root
    assert leaf.pruned_sets.built and 2 <= len(leaf.pruned_sets.classes) <= 10
    assert model.memory_bytes() > majority.memory_bytes()


def test_mlht_with_pruned_sets_survives_pickling_mid_stream():
    stream = list(datasets.Yeast().take(300))
    model = MLHAT(leaf_model="ps", ps_buffer=50, grace_period=50, seed=3)
    for x, y in stream[:150]:
        model.learn_one(x, y)
    copy = pickle.loads(pickle.dumps(model))
    for x, y in stream[150:]:
        assert model.predict_scores(x) == copy.predict_scores(x)
        model.learn_one(x, y)
        copy.learn_one(x, y)


def test_pruned_sets_parameters_are_checked():
    with pytest.raises(ValueError):
        MLHT(ps_sets=0)
    with pytest.raises(ValueError):
        MLHAT(ps_buffer=0)
    with pytest.raises(ValueError):
        PrunedSets(n_sets=0)
