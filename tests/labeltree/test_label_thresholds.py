"""The labels' own thresholds (stream_xml.labeltree.label_thresholds): OFO's rule against a
direct rewriting of it, and the option in the label tree: it only adds labels to the shared
threshold's answer, lifts macro-F1 on a stream of frequent and rare labels, and survives
pickling."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from river import datasets

from stream_xml.labeltree import LabelTreeClassifier
from stream_xml.labeltree.label_thresholds import LabelThresholds


class DirectOFO:
    """Online F-measure optimisation per label over dicts: a / b, starting at 1 / 2."""

    def __init__(self):
        self.a, self.b = {}, {}

    def tau(self, label):
        return (self.a.get(label, 0.0) + 1.0) / (self.b.get(label, 0.0) + 2.0)

    def predicted(self, labels, scores, shared):
        return [label for label, s in zip(labels, scores) if s >= min(self.tau(label), shared)]

    def learn(self, truth, predicted):
        for label in set(truth) | set(predicted):
            hit = label in truth and label in predicted
            self.a[label] = self.a.get(label, 0.0) + hit
            self.b[label] = self.b.get(label, 0.0) + (label in truth) + (label in predicted)


@pytest.mark.parametrize("seed", [0, 1])
def test_thresholds_follow_ofo_written_out(seed):
    rng = np.random.default_rng(seed)
    fast, direct = LabelThresholds(), DirectOFO()
    added = 0
    for _ in range(500):
        labels = rng.choice(40, size=rng.integers(0, 8), replace=False)
        scores = np.sort(rng.random(labels.shape[0]))[::-1]
        shared = rng.uniform(0.2, 0.8)
        got = fast.predicted(labels, scores, shared)
        assert got.tolist() == direct.predicted(labels.tolist(), scores.tolist(), shared)
        added += got.shape[0] - int((scores >= shared).sum())
        truth = np.sort(rng.choice(40, size=rng.integers(0, 4), replace=False))
        fast.learn(truth, got)
        direct.learn(truth.tolist(), got.tolist())
    assert added > 50  # the labels' own thresholds did answer
    for label in range(40):
        assert fast.tau_of(label) == pytest.approx(direct.tau(label))


def yeast():
    return [(x, frozenset(k for k, on in y.items() if on)) for x, y in datasets.Yeast()]


def macro_f1(counts: dict) -> float:
    return float(np.mean([2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0 for tp, fp, fn in counts.values()]))


def test_own_thresholds_add_labels_to_the_shared_answer_and_raise_macro_f1():
    """On Yeast (14 labels, from 1 % to 75 % of the records) the shared threshold sits where the
    frequent labels put it; the rarer labels' own thresholds lower their bar."""
    shared, own = LabelTreeClassifier(bits=16), LabelTreeClassifier(bits=16, label_thresholds=True)
    counts = {"shared": {}, "own": {}}
    added = 0
    records = yeast()
    for t, (x, labels) in enumerate(records[:2000]):
        answers = {}
        for name, model in (("shared", shared), ("own", own)):
            predicted, _ = model.predict_with_scores(x)
            answers[name] = predicted
            if t >= 500:
                for label in predicted | labels:
                    tp, fp, fn = counts[name].get(label, (0, 0, 0))
                    counts[name][label] = (tp + (label in predicted and label in labels),
                                           fp + (label in predicted and label not in labels),
                                           fn + (label in labels and label not in predicted))
            model.learn_labelset(x, labels)
        # without kept labelsets both learn alike: the own thresholds only add labels
        assert answers["shared"] <= answers["own"]
        added += len(answers["own"] - answers["shared"])
    assert added > 500
    assert macro_f1(counts["own"]) > macro_f1(counts["shared"]) + 0.01
    copy = pickle.loads(pickle.dumps(own))
    for x, labels in records[2000:2200]:
        assert copy.predict_with_scores(x) == own.predict_with_scores(x)
        copy.learn_labelset(x, labels)
        own.learn_labelset(x, labels)
    np.testing.assert_array_equal(copy._own_thresholds.total, own._own_thresholds.total)
