"""Naive Bayes adaptive per label (stream_xml.tree.label_fallback): the rules (fallback to the
prior, additions to the whole-labelset answer) against direct computations, the restriction to
answers that say "relevant", and their wiring into a loss switch's leaves (test, then train)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from stream_xml.tree import MLHAT
from stream_xml.tree.label_fallback import LabelAdditions, LabelFallback


class DirectFallback:
    """The rule written out label by label over dicts: errors of naive Bayes and of the prior."""

    def __init__(self, fading):
        self.fading = fading
        self.nb_errors: dict[int, float] = {}
        self.prior_errors: dict[int, float] = {}

    @staticmethod
    def prior(stats, j):
        return stats[2 + j] / stats[0] if 2 + j < len(stats) and stats[0] > 0 else 0.0

    def answer(self, nb, stats):
        out = []
        for j, p in enumerate(nb):
            prior = self.prior(stats, j)
            better = self.prior_errors.get(j, 0.0) < self.nb_errors.get(j, 0.0)
            out.append(prior if prior > 0.5 and better else p)
        return out

    def learn(self, nb, stats, positives):
        for j, p in enumerate(nb):
            relevant = j in set(positives)
            self.nb_errors[j] = self.nb_errors.get(j, 0.0) * self.fading + ((p > 0.5) != relevant)
            prior_wrong = (self.prior(stats, j) > 0.5) != relevant
            self.prior_errors[j] = self.prior_errors.get(j, 0.0) * self.fading + prior_wrong


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fallback_answers_as_the_rule_written_out(seed):
    rng = np.random.default_rng(seed)
    fallback, direct = LabelFallback(0.9), DirectFallback(0.9)
    stats = np.zeros(2)
    replaced = 0
    for t in range(400):
        n_labels = min(2 + t // 50, 9)  # labels appear mid-stream
        if stats.shape[0] < n_labels + 2:
            stats = np.concatenate([stats, np.zeros(n_labels + 2 - stats.shape[0])])
        share = np.linspace(0.9, 0.05, n_labels)  # common labels first, rare ones after
        positives = np.flatnonzero(rng.random(n_labels) < share)
        nb = rng.random(n_labels)
        got = fallback.answer(nb, stats)
        np.testing.assert_allclose(got, direct.answer(nb, stats), rtol=0, atol=0)
        replaced += int((got != nb).sum())
        fallback.learn(nb, stats, positives)
        direct.learn(nb, stats, positives)
        stats[0] += 1.0
        stats[1] += positives.shape[0] == 0
        stats[2 + positives] += 1.0
    assert replaced > 100  # the rule was exercised, not only its default
    assert np.isfinite(fallback.errors).all()


def test_a_prior_saying_irrelevant_never_answers_however_right():
    fallback = LabelFallback()
    stats = np.array([100.0, 95.0, 5.0])  # one label on 5 % of the records
    wrong = np.array([0.9])  # naive Bayes always says relevant, always wrong
    for _ in range(200):
        fallback.learn(wrong, stats, np.array([], dtype=np.int64))
    assert fallback.errors[1, 0] < fallback.errors[0, 0]
    np.testing.assert_array_equal(fallback.answer(wrong, stats), wrong)
    # the same errors for a label most records carry: the prior answers
    common = np.array([100.0, 5.0, 95.0])
    np.testing.assert_array_equal(fallback.answer(np.array([0.1]), common), [0.95])


def test_labels_beyond_the_counted_ones_keep_naive_bayes_answer():
    fallback = LabelFallback()
    fallback.learn(np.array([0.1]), np.array([1.0, 0.0, 1.0]), np.array([0]))
    nb = np.array([0.1, 0.2, 0.3])  # labels 1 and 2: no errors, no statistics yet
    np.testing.assert_array_equal(fallback.answer(nb, np.array([2.0, 0.0, 2.0])), [1.0, 0.2, 0.3])
    fallback.learn(nb, np.array([2.0, 0.0, 2.0]), np.array([0, 2]))  # grows to three labels
    assert fallback.errors.shape[1] >= 3 and fallback.errors[0, 2] == 1.0 and fallback.errors[1, 2] == 1.0


def _copies_stream(n: int, seed: int, copies: int = 12):
    """Label ``common`` on 70 % of the records below x = 0 and 90 % above, label ``side`` on x > 0;
    x comes in ``copies`` noisy copies, whose evidence naive Bayes counts as independent, so it
    says "not common" below 0 far more often than the label is absent."""
    rng = random.Random(seed)
    for _ in range(n):
        x0 = rng.gauss(0, 1)
        x = {f"c{j}": x0 + rng.gauss(0, 0.1) for j in range(copies)}
        common = rng.random() < (0.9 if x0 > 0 else 0.7)
        yield x, [name for name, on in (("common", common), ("side", x0 > 0)) if on]


def test_a_loss_switch_leaf_counts_naive_bayes_and_priors_before_it_learns():
    """The leaf's fallback errors are those of the raw naive-Bayes answer and of the priors the
    leaf had before each record (replayed here from the leaf's own observers and statistics);
    on a stream where naive Bayes over-counts copied evidence, the common label's prior wins."""
    model = MLHAT(grace_period=10**6, drift_detection=False, leaf_switch="loss_with_majority_and_nb", seed=1)
    model.add_labels(["common", "side"])
    direct = DirectFallback(0.995)
    for t, (x, labelset) in enumerate(_copies_stream(800, seed=5)):
        leaf = model.root
        if leaf is not None and leaf.majority.n_labelsets > 0 and leaf.observers is not None:
            idx, val = model._features.encode(x, learn=False)
            nb = leaf.observers.naive_bayes(idx, val, 2, *model._leaf_policy.counted())
            stats = leaf.stats.copy()
            positives = sorted(model.labels.index(name) for name in labelset)
            direct.learn(list(nb), list(stats), positives)
        model.learn_labelset(x, labelset)
    errors = model.root.nb_fallback.errors
    common = model.labels.index("common")
    np.testing.assert_allclose(errors[0, :2], [direct.nb_errors[j] for j in range(2)], rtol=1e-12)
    np.testing.assert_allclose(errors[1, :2], [direct.prior_errors[j] for j in range(2)], rtol=1e-12)
    assert errors[1, common] < 0.8 * errors[0, common]
    # below x = 0 naive Bayes says "not common"; the leaf's naive-Bayes answer is the prior
    leaf = model.root
    idx, val = model._features.encode({f"c{j}": -1.0 for j in range(12)}, learn=False)
    raw = leaf.observers.naive_bayes(idx, val, 2, *model._leaf_policy.counted())
    answer = leaf.policy._nb_proba(leaf, idx, val, 2)
    assert raw[common] < 0.5 < answer[common] == pytest.approx(leaf.stats[2 + common] / leaf.stats[0])


class DirectAdditions:
    """The additions rule written out label by label over dicts."""

    def __init__(self, fading):
        self.fading = fading
        self.carried: dict[int, float] = {}  # records where naive Bayes would add j, j relevant
        self.not_carried: dict[int, float] = {}

    def answer(self, base, nb):
        out = list(base)
        for j, (b, p) in enumerate(zip(base, nb)):
            yes, no = self.carried.get(j, 0.0), self.not_carried.get(j, 0.0)
            if p > 0.5 and b <= 0.5 and yes > no:
                out[j] = (yes + 1.0) / (yes + no + 2.0)
        return out

    def learn(self, base, nb, positives):
        for j, (b, p) in enumerate(zip(base, nb)):
            yes = self.carried.get(j, 0.0) * self.fading
            no = self.not_carried.get(j, 0.0) * self.fading
            if p > 0.5 and b <= 0.5:
                if j in set(positives):
                    yes += 1.0
                else:
                    no += 1.0
            self.carried[j], self.not_carried[j] = yes, no


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_additions_answer_as_the_rule_written_out(seed):
    rng = np.random.default_rng(seed)
    additions, direct = LabelAdditions(0.9), DirectAdditions(0.9)
    added = 0
    for t in range(400):
        n_labels = min(2 + t // 50, 9)  # labels appear mid-stream
        relevant_share = np.linspace(0.8, 0.1, n_labels)
        positives = np.flatnonzero(rng.random(n_labels) < relevant_share)
        base, nb = rng.random(n_labels), rng.random(n_labels)
        got = additions.answer(base, nb)
        expected = direct.answer(base, nb)
        if got is None:
            np.testing.assert_array_equal(base, expected)
        else:
            np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0)
            changed = got != base
            # only labels the answer left out and naive Bayes says relevant, and they become relevant
            assert changed.any() and (base[changed] <= 0.5).all() and (nb[changed] > 0.5).all()
            assert (got[changed] > 0.5).all() and (got[changed] < 1.0).all()
            added += int(changed.sum())
        additions.learn(base, nb, positives)
        direct.learn(base, nb, positives)
    assert added > 50  # the rule was exercised
    assert np.isfinite(additions.counts).all()


def test_additions_need_more_relevant_than_irrelevant_records():
    additions = LabelAdditions(fading=1.0)
    base, nb = np.array([0.0]), np.array([0.9])
    additions.learn(base, nb, np.array([0]))
    additions.learn(base, nb, np.array([], dtype=np.int64))
    assert additions.answer(base, nb) is None  # one each: a tie adds nothing
    additions.learn(base, nb, np.array([0]))
    np.testing.assert_allclose(additions.answer(base, nb), [3.0 / 5.0])
    # records on which naive Bayes would not add the label count nothing
    additions.learn(np.array([0.9]), nb, np.array([], dtype=np.int64))
    additions.learn(base, np.array([0.1]), np.array([], dtype=np.int64))
    np.testing.assert_array_equal(additions.counts[:, 0], [2.0, 1.0])
    assert additions.answer(base, np.array([0.4])) is None  # naive Bayes says irrelevant now


def test_a_loss_switch_leaf_counts_additions_from_the_answer_it_would_give():
    """The leaf's addition counts are those of the answer of the model in use and of naive Bayes'
    answer before each record (replayed here from the leaf's own models), fading only on the
    records a whole-labelset model answers; on Yeast they add labels to the leaf's answers."""
    from river import datasets

    model = MLHAT(grace_period=10**6, drift_detection=False, leaf_switch="loss_with_majority_and_nb", seed=1)
    direct = DirectAdditions(0.995)
    n_added = 0
    for x, y in datasets.Yeast().take(600):
        labelset = [name for name, on in y.items() if on]
        model.add_labels(sorted(y))
        leaf = model.root
        if leaf is not None and leaf.majority.n_labelsets > 0:
            idx, val = model._features.encode(x, learn=False)
            n = len(model.labels)
            in_use = leaf.policy.choice(leaf)
            if in_use is not leaf.observers:
                base = in_use.predict_proba(n) if in_use is leaf.majority else in_use.predict_proba(idx, val, n)
                raw = leaf.observers.naive_bayes(idx, val, n, *model._leaf_policy.counted())
                nb = raw if leaf.nb_fallback is None else leaf.nb_fallback.answer(raw, leaf.stats)
                answer = model.predict_scores_array(x)
                assert np.allclose(answer, direct.answer(list(base), list(nb)), rtol=1e-15, atol=0)
                n_added += int((answer > 0.5).sum() > (base > 0.5).sum())
                direct.learn(list(base), list(nb), sorted(model.labels.index(name) for name in labelset))
        model.learn_labelset(x, labelset)
    counts = model.root.nb_additions.counts
    n = len(model.labels)
    np.testing.assert_allclose(counts[0, :n], [direct.carried[j] for j in range(n)], rtol=1e-12)
    np.testing.assert_allclose(counts[1, :n], [direct.not_carried[j] for j in range(n)], rtol=1e-12)
    assert n_added > 20


def test_a_tree_that_never_predicts_learns_the_same_additions():
    """A record learned unpredicted is predicted by the learning call, so that naive Bayes'
    additions count the same answers: both trees end identical, additions made."""
    import pickle

    from river import datasets

    predicting, silent = (MLHAT(grace_period=150, leaf_switch="loss_with_majority_and_nb", seed=2) for _ in range(2))
    for x, y in datasets.Yeast().take(700):
        predicting.predict_one(x)
        predicting.learn_one(x, y)
        silent.learn_one(x, y)
    assert pickle.dumps(predicting) == pickle.dumps(silent)
    counts = [leaf.nb_additions.counts for leaf in _leaves(predicting._root) if leaf.nb_additions is not None]
    assert counts and any((c[0] > c[1]).any() for c in counts)


def _leaves(node):
    if node.is_leaf:
        return [node]
    return [leaf for child in node.children for leaf in _leaves(child)]


@pytest.mark.parametrize("seed", [0, 1])
def test_the_one_call_paths_give_what_the_three_calls_give(seed):
    """adaptive_naive_bayes and count_adaptive_naive_bayes (one kernel call each) against naive
    Bayes, the fallback and the additions called one after the other, to the bit: answers,
    additions, label errors and every count, with labels appearing mid-stream, before and after
    the fallback and the additions exist, with and without a whole-labelset answer to add to."""
    from stream_xml.tree.common_kernels import label_errors
    from stream_xml.tree.label_fallback import adaptive_naive_bayes, count_adaptive_naive_bayes
    from stream_xml.tree.observers import NO_NOMINAL, GaussianObservers

    rng = np.random.default_rng(seed)
    observers, stats = GaussianObservers(), np.zeros(2)
    fused = [None, None]  # fallback, additions of the one-call path
    apart = [None, None]
    n_added = 0
    for t in range(300):
        n_labels = min(2 + t // 40, 8)
        idx = np.sort(rng.choice(12, size=int(rng.integers(1, 6)), replace=False))
        val = rng.normal(size=idx.shape[0])
        positives = np.flatnonzero(rng.random(n_labels) < np.linspace(0.8, 0.1, n_labels))
        base = rng.random(n_labels) if t % 3 else None  # None: naive Bayes answers
        if stats[0] > 0:
            counted = (NO_NOMINAL, False)
            raw, nb, added = adaptive_naive_bayes(observers, *fused, stats, idx, val, n_labels, counted, base)
            raw_apart = observers.naive_bayes(idx, val, n_labels)
            nb_apart = raw_apart if apart[0] is None else apart[0].answer(raw_apart, stats)
            np.testing.assert_array_equal(raw, raw_apart)
            np.testing.assert_array_equal(nb, nb_apart)
            if base is None or apart[1] is None:
                assert added is None
            else:
                expected = apart[1].answer(base, nb_apart)
                assert (added is None) == (expected is None)
                if added is not None:
                    np.testing.assert_array_equal(added, expected)
                    n_added += 1
            for kept in (fused, apart):
                if kept[0] is None:
                    kept[0] = LabelFallback(0.99)
                if base is not None and kept[1] is None:
                    kept[1] = LabelAdditions(0.97)
            wrong = count_adaptive_naive_bayes(fused[0], fused[1] if base is not None else None, raw, nb, base, stats,
                                               positives)
            assert wrong == label_errors(nb_apart, positives)
            if base is not None:
                apart[1].learn(base, nb_apart, positives)
            apart[0].learn(raw_apart, stats, positives)
            np.testing.assert_array_equal(fused[0].errors, apart[0].errors)
            if apart[1] is not None:
                np.testing.assert_array_equal(fused[1].counts, apart[1].counts)
        stats = observers.update(stats, idx, val, positives, 1.0)
    assert n_added > 0  # the additions were exercised
