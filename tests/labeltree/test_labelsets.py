"""The label tree's kept labelsets (stream_xml.labeltree.labelsets): the likeliest labelset
against a brute-force search, the space-saving table, the choice between the two answers, and
what it does to a stream whose labelsets repeat."""

import itertools
import math
import pickle

import numpy as np
import pytest
from river import datasets

from stream_xml.labeltree import LabelTreeClassifier
from stream_xml.labeltree.labelsets import KeptLabelsets


def brute_force_likeliest(table: dict, scores: dict, floor: float):
    """The labelset of ``table`` (labelset -> count) maximising the log-likelihood of the whole
    label vector under independent marginals (labels without a score get ``floor``), plus the
    log of its count."""
    labels = set(scores) | {label for labelset in table for label in labelset}
    best, best_set = -math.inf, None
    for labelset, count in table.items():
        ll = math.log(count)
        for label in labels:
            p = min(max(scores.get(label, floor), 1e-6), 1 - 1e-6)
            ll += math.log(p) if label in labelset else math.log(1 - p)
        if ll > best:
            best, best_set = ll, labelset
    return best_set


@pytest.mark.parametrize("seed", range(20))
def test_the_likeliest_labelset_is_the_brute_force_maximum(seed):
    rng = np.random.default_rng(seed)
    n_labels = 12
    kept = KeptLabelsets(capacity=512, width=6, fading=1.0)  # room for every labelset
    table = {}
    for _ in range(150):
        size = int(rng.integers(0, 5))
        truth = np.sort(rng.choice(n_labels, size=size, replace=False)).astype(np.int64)
        kept.learn(truth, None)
        table[tuple(truth.tolist())] = table.get(tuple(truth.tolist()), 0) + 1
    cand = rng.choice(n_labels, size=int(rng.integers(1, n_labels)), replace=False).astype(np.int64)
    cand_scores = rng.uniform(0.03, 0.97, size=cand.shape[0])
    row = kept.decode(cand, cand_scores, n_labels, floor=0.02)
    expected = brute_force_likeliest(table, dict(zip(cand.tolist(), cand_scores.tolist())), 0.02)
    assert tuple(kept.labelset(row)) == expected
    # the scratch array of logits is left as it was found
    assert np.all(kept._logit == kept._logit[0])


def test_a_full_table_gives_the_least_frequent_row_to_a_new_labelset_with_its_count():
    kept = KeptLabelsets(capacity=3, width=4, fading=1.0)
    for labelset, times in (([0], 5), ([1], 2), ([2, 3], 4)):
        for _ in range(times):
            kept.learn(np.array(labelset), None)
    kept.learn(np.array([4]), None)  # replaces [1] (count 2) and counts 2 + 1
    rows = {tuple(kept.labelset(r)): kept.counts[r] for r in range(kept.n_rows)}
    assert rows == {(0,): 5.0, (4,): 3.0, (2, 3): 4.0}
    kept.learn(np.array([0, 1, 2, 3, 4]), None)  # wider than the table: not kept
    assert {tuple(kept.labelset(r)) for r in range(kept.n_rows)} == {(0,), (4,), (2, 3)}


def test_counts_fade_so_a_labelset_of_the_past_gives_way():
    kept = KeptLabelsets(capacity=8, width=4, fading=0.99)
    for _ in range(300):
        kept.learn(np.array([0, 1]), None)
    for _ in range(400):
        kept.learn(np.array([2]), None)
    # equal scores for all three labels: the prior decides
    row = kept.decode(np.array([0, 1, 2]), np.array([0.5, 0.5, 0.5]), 3, floor=0.02)
    assert kept.labelset(row) == [2]


def test_the_answer_with_the_smaller_faded_jaccard_loss_is_chosen():
    kept = KeptLabelsets(capacity=4, width=4)
    assert not kept.decodes()  # ties go to the thresholded labels
    truth = np.array([1, 2])
    kept.learn(truth, ({1}, {1, 2}))
    assert kept.losses == [pytest.approx(0.5), 0.0] and kept.decodes()
    for _ in range(3):
        kept.learn(truth, ({1, 2}, {3}))
    assert not kept.decodes()


def test_a_record_without_a_relevant_label_scores_neither_answer():
    kept = KeptLabelsets(capacity=4, width=4)
    kept.learn(np.array([1]), ({1}, {2}))
    before = list(kept.losses)
    kept.learn(np.array([], dtype=np.int64), ({1}, set()))  # only the empty answer would be right
    assert kept.losses == before
    assert kept.counts[kept._row_of[()]] == 1.0  # the empty labelset is still counted


def test_streams_with_many_empty_labelsets_are_not_answered_with_nothing():
    """A synthetic sparse stream where 29 % of the records have no label: were those records
    scored, the kept empty labelset would win the choice by Jaccard loss and answer nothing on
    about a third of the records (micro-F1 0.442 -> 0.356; issue 23's first failure mode)."""
    from connectors.catalog import open_source

    records = [(r.x, r.y) for r in open_source(
        "synth:stationary?n=2000&labels=20&features=2000&sparse=true&density=0.015&seed=0")]
    assert sum(not y for _, y in records) > 0.25 * len(records)
    outcome = {}
    for labelsets in (0, 256):
        model = LabelTreeClassifier(labelsets=labelsets, seed=0)
        tp = fp = fn = silent = 0
        for x, y in records:
            predicted, _ = model.predict_with_scores(x)
            tp, fp, fn = tp + len(predicted & y), fp + len(predicted - y), fn + len(y - predicted)
            silent += not predicted
            model.learn_labelset(x, y)
        outcome[labelsets] = 2 * tp / (2 * tp + fp + fn), silent / len(records)
    assert outcome[256][1] < 0.05
    assert outcome[256][0] > outcome[0][0] - 0.01


def yeast(n):
    return list(itertools.islice(datasets.Yeast(), n))


def test_on_yeast_the_kept_labelsets_raise_subset_accuracy():
    # Yeast's labelsets repeat (198 distinct in 2,417 records); thresholded marginals rarely hit
    # a whole labelset, so exact matches must rise well above the thresholded labels' alone
    records = yeast(1500)
    exact = {}
    for labelsets in (0, 256):
        model = LabelTreeClassifier(labelsets=labelsets)
        hits = 0
        for x, y in records:
            truth = {label for label, on in y.items() if on}
            predicted, _ = model.predict_with_scores(x)
            hits += predicted == truth
            model.learn_labelset(x, truth)
        exact[labelsets] = hits / len(records)
    assert exact[256] > exact[0] + 0.03


def test_ranking_is_untouched_and_pickling_keeps_the_table():
    records = yeast(400)
    plain, kept = LabelTreeClassifier(), LabelTreeClassifier(labelsets=64)
    for x, y in records[:300]:
        truth = {label for label, on in y.items() if on}
        for model in (plain, kept):
            model.predict_with_scores(x)
            model.learn_labelset(x, truth)
    copy = pickle.loads(pickle.dumps(kept))
    for x, y in records[300:]:
        truth = {label for label, on in y.items() if on}
        a, b, c = plain.predict_with_scores(x), kept.predict_with_scores(x), copy.predict_with_scores(x)
        assert a[1] == b[1]  # the label scores do not depend on the labelset answer
        assert b == c
        for model in (plain, kept, copy):
            model.learn_labelset(x, truth)
    np.testing.assert_array_equal(kept._kept.counts, copy._kept.counts)


def test_negative_capacity_is_refused():
    with pytest.raises(ValueError, match="labelsets"):
        LabelTreeClassifier(labelsets=-1)
