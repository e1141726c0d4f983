"""The decision threshold of iHOMER's cluster engines (``threshold="f1"``): a label is predicted
when its score is at least a threshold moved online towards the best micro-F1 of the stream so
far, instead of above a fixed 0.5.

The block and root learners' scores are kNN votes, bagged logistic outputs, naive-Bayes
posteriors and majority labelsets: not calibrated alike, and on streams of rare labels (many
records with none, most labels in few records) none of them reaches 0.5 for most relevant
labels, so a fixed threshold answers with too few labels. The threshold here is the label
tree's (:class:`~stream_xml.labeltree.threshold.F1Threshold`: faded histograms of the scores of
relevant and irrelevant labels, the bin edge of the best F1 chosen after every record), fed with
every label's score, so it may settle anywhere above its floor.

>>> from stream_xml.ihomer.thresholds import OnlineF1Threshold
>>> threshold = OnlineF1Threshold()
>>> for _ in range(200):  # the relevant label scores 0.3, the irrelevant ones 0.1
...     predicted = threshold.predicted({"a": 0.3, "b": 0.1, "c": 0.1})
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

import numpy as np

from stream_xml.labeltree.threshold import F1Threshold, observe_record

__all__ = ["THRESHOLDS", "OnlineF1Threshold"]

#: The values of IHOMER's ``threshold``: ``"fixed"`` (labels scored above 0.5) or ``"f1"``.
THRESHOLDS = ("fixed", "f1")
#: The lowest threshold (and, as every score is counted, the lowest bin the choice looks at).
FLOOR = 0.02


class OnlineF1Threshold:
    """A threshold over labels' scores towards the best micro-F1 of the records seen (faded by
    ``fading`` per record); it starts at 0.5."""

    def __init__(self, fading: float = 0.9999):
        # every label's score is counted, so the choice may look down to the floor at once
        self._threshold = F1Threshold(initial=0.5, floor=FLOOR, ratio=FLOOR, fading=fading)

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

    def memory_bytes(self) -> int:
        return self._threshold.memory_bytes()
