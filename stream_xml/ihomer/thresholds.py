"""The decision threshold of iHOMER's cluster engines: a label is predicted when its score is at
least a threshold moved online, instead of above a fixed 0.5 (IHOMER's ``threshold``).

The block and root learners' scores are kNN votes, bagged logistic outputs, naive-Bayes
posteriors and majority labelsets: not calibrated alike, and on streams of rare labels (many
records with none, most labels in few records) none of them reaches 0.5 for most relevant
labels, so a fixed threshold answers with too few labels. :class:`OnlineThreshold` keeps faded
histograms (200 bins over [0, 1]) of the scores of the labels that turned out relevant and of
those that did not, and, per bin edge, of the records that edge would have answered exactly
(every relevant label at or above it, every other below); after every record the threshold
becomes the edge where

    F1(tau) + exact_weight * exact(tau) / records,
    F1(tau) = 2 TP(tau) / (TP(tau) + FP(tau) + P),

is highest (``TP``/``FP``: the relevant/irrelevant scores at or above ``tau``, ``P``: all relevant
ones; the highest such edge on a tie). ``exact_weight = 0`` moves it towards the best micro-F1
alone (for calibrated scores half the best F1: Lipton et al., 2014), which trades whole
labelsets for F1; with ``exact_weight = 1`` (``threshold="f1_exact"``) a lower threshold must gain
more micro-F1 than it loses in the share of records answered exactly.

>>> from stream_xml.ihomer.thresholds import OnlineThreshold
>>> threshold = OnlineThreshold(exact_weight=0.0)
>>> for _ in range(200):  # the relevant label scores 0.3, the irrelevant ones 0.1
...     threshold.observe({"a": 0.3, "b": 0.1, "c": 0.1}, frozenset({"a"}))
>>> sorted(threshold.predicted({"a": 0.3, "b": 0.1, "c": 0.1}))
['a']
>>> 0.1 < threshold.tau <= 0.3
True

References
----------
Lipton, Z. C., Elkan, C. and Naryanaswamy, B. (2014). Optimal thresholding of classifiers to
maximize F1 measure. Proc. ECML PKDD 2014, 225-239.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["THRESHOLDS", "EXACT_WEIGHTS", "OnlineThreshold", "observe_scores"]

#: The values of IHOMER's ``threshold``: ``"fixed"`` (labels scored above 0.5), ``"f1"`` and
#: ``"f1_exact"`` (:class:`OnlineThreshold` with the weights :data:`EXACT_WEIGHTS` gives them).
THRESHOLDS = ("fixed", "f1", "f1_exact")
EXACT_WEIGHTS = {"f1": 0.0, "f1_exact": 1.0}
BINS = 200
#: The lowest threshold (and the lowest bin edge the choice looks at).
FLOOR = 0.02
# slots of ``state``
TAU, FADING, RECORDS, EXACT_WEIGHT = range(4)


@numba.njit(cache=True)
def _bin(p):
    b = int(p * BINS)
    return 0 if b < 0 else BINS - 1 if b >= BINS else b


@numba.njit(cache=True)
def observe_scores(hist, exact, state, relevant, irrelevant):
    """Count one record, the scores of its relevant labels and of the others, into the faded
    histograms ``hist`` (row 0 relevant, row 1 irrelevant) and ``exact`` (per bin edge ``b /
    BINS``, the records it answers exactly); then choose ``state[TAU]`` (see the module)."""
    fading = state[FADING]
    for b in range(BINS):
        hist[0, b] *= fading
        hist[1, b] *= fading
        exact[b] *= fading
    state[RECORDS] = state[RECORDS] * fading + 1.0
    lowest_relevant = 2.0
    highest_irrelevant = -1.0
    for p in relevant:
        hist[0, _bin(p)] += 1.0
        lowest_relevant = min(lowest_relevant, p)
    for p in irrelevant:
        hist[1, _bin(p)] += 1.0
        highest_irrelevant = max(highest_irrelevant, p)
    for b in range(BINS):
        edge = b / BINS
        if highest_irrelevant < edge <= lowest_relevant:
            exact[b] += 1.0
    total = 0.0
    for b in range(BINS):
        total += hist[0, b]
    weight = state[EXACT_WEIGHT]
    if total <= 0.0 and weight == 0.0:
        return  # no relevant label yet: every threshold has F1 0
    tp = fp = 0.0
    best = -1.0
    best_bin = BINS - 1
    for b in range(BINS - 1, _bin(FLOOR) - 1, -1):
        tp += hist[0, b]
        fp += hist[1, b]
        objective = (2.0 * tp / (tp + fp + total) if total > 0.0 else 0.0) + weight * exact[b] / state[RECORDS]
        if objective > best:
            best = objective
            best_bin = b
    state[TAU] = best_bin / BINS


class OnlineThreshold:
    """A threshold over labels' scores, moved after every record to the bin edge of the highest
    micro-F1 plus ``exact_weight`` times the share of records answered exactly, over the records
    seen (faded by ``fading`` per record); it starts at 0.5."""

    def __init__(self, exact_weight: float = 1.0, fading: float = 0.9999):
        self.hist = np.zeros((2, BINS))
        self.exact = np.zeros(BINS)
        self.state = np.zeros(4)
        self.state[TAU] = 0.5
        self.state[FADING] = fading
        self.state[EXACT_WEIGHT] = exact_weight

    @property
    def tau(self) -> float:
        return float(self.state[TAU])

    def predicted(self, scores: dict) -> frozenset:
        """The labels whose score is at least the threshold."""
        tau = self.state[TAU]
        return frozenset(name for name, p in scores.items() if p >= tau)

    def observe(self, scores: dict, truth: frozenset) -> None:
        """Count a record's ``scores`` (as predicted before it was learned) against its relevant
        labels ``truth``, then move the threshold."""
        relevant = np.array([scores.get(name, 0.0) for name in truth], dtype=np.float64)
        irrelevant = np.array([p for name, p in scores.items() if name not in truth], dtype=np.float64)
        observe_scores(self.hist, self.exact, self.state, relevant, irrelevant)

    def memory_bytes(self) -> int:
        return self.hist.nbytes + self.exact.nbytes + self.state.nbytes
