"""The online threshold of iHOMER's cluster engines against a direct computation."""

import numpy as np
import pytest

from stream_xml.ihomer.thresholds import FLOOR, OnlineThreshold
from stream_xml.labeltree.threshold import BINS


def _direct_tau(records, exact_weight, fading, before):
    """The bin edge of the best F1 + weight x exact share over ``records`` (oldest first, each
    ``(scores, truth)``), every record weighed ``fading`` to its age, counted label by label;
    ``before`` while no label has been relevant, the floor while every edge has F1 0."""
    best, best_tau, best_f1 = -1.0, None, 0.0
    n = len(records)
    weights = [fading ** (n - 1 - i) for i in range(n)]
    positives = sum(w * len(truth) for w, (_, truth) in zip(weights, records))
    if positives == 0:
        return before
    for b in range(BINS - 1, int(FLOOR * BINS) - 1, -1):
        tau = b / BINS
        tp = fp = exact = 0.0
        for w, (scores, truth) in zip(weights, records):
            # a score counts in its bin: at or above the edge of that bin
            predicted = {name for name, p in scores.items() if min(int(p * BINS), BINS - 1) >= b}
            tp += w * len(predicted & truth)
            fp += w * len(predicted - truth)
            exact += w * (predicted == truth)
        f1 = 2 * tp / (tp + fp + positives)
        best_f1 = max(best_f1, f1)
        objective = f1 + exact_weight * exact / sum(weights)
        if objective > best + 1e-9:
            best, best_tau = objective, tau
    return best_tau if best_f1 > 0 else FLOOR


@pytest.mark.parametrize("exact_weight", [0.0, 1.0])
def test_threshold_is_the_best_edge_of_a_direct_computation(exact_weight):
    rng = np.random.default_rng(3)
    threshold = OnlineThreshold(exact_weight=exact_weight, fading=0.99)
    records = []
    for t in range(120):
        truth = frozenset(f"l{j}" for j in range(5) if rng.random() < 0.3)
        # relevant labels score higher on average; scores on bin edges (which a threshold there
        # takes in) and between them, from a coarse grid so that ties between edges occur
        scores = {f"l{j}": (int(rng.uniform(0.2, 0.9) * 20) * 10 + 5 * int(rng.integers(2))) / BINS if f"l{j}" in truth
                  else (int(rng.uniform(0.0, 0.6) * 20) * 10 + 5 * int(rng.integers(2))) / BINS for j in range(5)}
        before = threshold.tau
        threshold.observe(scores, truth)
        records.append((scores, truth))
        assert threshold.tau == pytest.approx(_direct_tau(records, exact_weight, 0.99, before)), t


def test_exact_matches_hold_the_threshold_where_lowering_it_breaks_more_labelsets_than_it_mends():
    """Records whose labelsets score 0.9 beside a 0.35 label relevant in 47 % of them: taking it
    in raises micro-F1 (0.903 against 0.895: its precision is above half the F1) but makes 53 %
    of the records inexact instead of 47 %, so the exact-match share keeps it out."""
    f1_only, with_exact = OnlineThreshold(exact_weight=0.0), OnlineThreshold(exact_weight=1.0)
    scores = {"a": 0.9, "b": 0.9, "c": 0.35, "d": 0.05}
    for t in range(2000):
        truth = frozenset({"a", "b"} | ({"c"} if t % 100 < 47 else set()))
        for threshold in (f1_only, with_exact):
            threshold.observe(scores, truth)
    assert f1_only.predicted(scores) == {"a", "b", "c"}
    assert with_exact.predicted(scores) == {"a", "b"}


def test_exact_weight_is_checked():
    from stream_xml.labeltree.threshold import F1Threshold

    with pytest.raises(ValueError, match="exact_weight"):
        F1Threshold(exact_weight=-1.0)
