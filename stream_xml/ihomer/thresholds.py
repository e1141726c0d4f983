"""The decision threshold of iHOMER's cluster engines: a label is predicted when its score is at
least a threshold moved online, instead of above a fixed 0.5 (IHOMER's ``threshold``).

The block and root learners' scores are kNN votes, bagged logistic outputs, naive-Bayes
posteriors and majority labelsets: not calibrated alike, and on streams of rare labels (many
records with none, most labels in few records) none of them reaches 0.5 for most relevant
labels, so a fixed threshold answers with too few labels. :class:`OnlineThreshold` is the label
tree's threshold (:class:`~stream_xml.labeltree.threshold.F1Threshold`) fed with every label's
score: faded histograms (200 bins over [0, 1]) of the scores of the labels that turned out
relevant and of those that did not, and, per bin edge, of the records that edge would have
answered exactly (every relevant label at or above it, every other below); after every record
the threshold becomes the edge where

    F1(tau) + exact_weight * exact(tau) / records,
    F1(tau) = 2 TP(tau) / (TP(tau) + FP(tau) + P),

is highest (``TP``/``FP``: the relevant/irrelevant scores at or above ``tau``, ``P``: all relevant
ones; the highest such edge on a tie; no edge below 0.02). ``exact_weight = 0`` moves it towards
the best micro-F1 alone (for calibrated scores half the best F1: Lipton et al., 2014), which
trades whole labelsets for F1; with ``exact_weight = 1`` (``threshold="f1_exact"``) a lower
threshold must gain more micro-F1 than it loses in the share of records answered exactly.

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
Lipton, Z. C., Elkan, C. and Narayanaswamy, B. (2014). Optimal thresholding of classifiers to
maximize F1 measure. Proc. ECML PKDD 2014, 225-239.
"""

from __future__ import annotations

import numba
import numpy as np

from stream_xml.labeltree.threshold import F1Threshold, observe_record

__all__ = ["THRESHOLDS", "EXACT_WEIGHTS", "FLOOR", "OnlineThreshold"]

#: The values of IHOMER's ``threshold``: ``"fixed"`` (labels scored above 0.5), ``"f1"`` and
#: ``"f1_exact"`` (:class:`OnlineThreshold` with the weights :data:`EXACT_WEIGHTS` gives them).
THRESHOLDS = ("fixed", "f1", "f1_exact")
EXACT_WEIGHTS = {"f1": 0.0, "f1_exact": 1.0}
#: The lowest threshold.
FLOOR = 0.02


class OnlineThreshold:
    """A threshold over labels' scores, moved after every record to the bin edge of the highest
    micro-F1 plus ``exact_weight`` times the share of records answered exactly, over the records
    seen (faded by ``fading`` per record); it starts at 0.5."""

    def __init__(self, exact_weight: float = 1.0, fading: float = 0.9999):
        # every label's score is counted, so the choice may look down to the floor at once
        self._threshold = F1Threshold(initial=0.5, floor=FLOOR, ratio=FLOOR, fading=fading, exact_weight=exact_weight)

    @property
    def tau(self) -> float:
        return self._threshold.tau

    def predicted(self, scores: dict) -> frozenset:
        """The labels whose score is at least the threshold."""
        tau = self._threshold.tau
        return frozenset(name for name, p in scores.items() if p >= tau)

    def observe(self, scores: dict, truth: frozenset) -> None:
        """Count a record's ``scores`` (as predicted before it was learned) against its relevant
        labels ``truth``, then move the threshold."""
        relevant = np.array([scores.get(name, 0.0) for name in truth], dtype=np.float64)
        irrelevant = np.array([p for name, p in scores.items() if name not in truth], dtype=np.float64)
        observe_record(self._threshold.hist, self._threshold.state, relevant, relevant.shape[0], irrelevant,
                       irrelevant.shape[0])  # fmt: skip

    def observe_answer(self, answer: np.ndarray, positions: np.ndarray, n_relevant: int) -> None:
        """:meth:`observe` with the scores as an array, ``answer``, and the record's relevant
        labels as their ``positions`` in it, out of ``n_relevant``: the others, and positions
        past the answer's end (labels its learner met after answering), score 0."""
        observe_positions(self._threshold.hist, self._threshold.state, answer, positions, n_relevant)

    def memory_bytes(self) -> int:
        return self._threshold.memory_bytes()


@numba.njit(cache=True)
def observe_positions(hist, state, answer, positions, n_relevant):
    """:func:`~stream_xml.labeltree.threshold.observe_record` of the scores ``answer`` whose
    ``positions`` are relevant (those past its end, and ``n_relevant - len(positions)`` more
    relevant labels, scored 0)."""
    relevant = np.zeros(n_relevant)
    is_relevant = np.zeros(answer.shape[0], dtype=np.bool_)
    for i in range(positions.shape[0]):
        if positions[i] < answer.shape[0]:
            relevant[i] = answer[positions[i]]
            is_relevant[positions[i]] = True
    irrelevant = np.empty(answer.shape[0])
    n_irrelevant = 0
    for j in range(answer.shape[0]):
        if not is_relevant[j]:
            irrelevant[n_irrelevant] = answer[j]
            n_irrelevant += 1
    observe_record(hist, state, relevant, n_relevant, irrelevant, n_irrelevant)
