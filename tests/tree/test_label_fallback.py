"""Naive Bayes adaptive per label (stream_xml.tree.label_fallback): the rule against a direct
computation, the restriction to priors that say "relevant", and its wiring into a loss switch's
leaves (test, then train)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from stream_xml.tree import MLHAT
from stream_xml.tree.label_fallback import LabelFallback


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
