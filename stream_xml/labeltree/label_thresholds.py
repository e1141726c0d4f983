"""A threshold per label, each moved online towards that label's best F1 (the label tree's
``label_thresholds`` option).

One threshold for all labels, tuned to micro-F1 (:mod:`stream_xml.labeltree.threshold`), is
set by the frequent labels; a rare label's scores seldom reach it, so its F1 (and macro-F1) stays
low. Online F-measure optimisation (OFO; Busa-Fekete et al., 2015) keeps, per label, ``a``, the
records where the label was predicted and relevant, and ``b``, the records where it was
predicted plus those where it was relevant, and thresholds the label at ``a / b``: the F1 of its
answers so far, halved. For calibrated scores the F1-optimal threshold is half the best F1
reachable (Lipton et al., 2014), and OFO's threshold converges to it. A label is predicted when
its score reaches its own threshold or the shared one, whichever is lower, so the option only
adds labels to the shared threshold's answer: those whose own F1 says a lower bar pays.

Each threshold starts at ``a / b = 1 / 2``; memory is two floats per label.

>>> import numpy as np
>>> from stream_xml.labeltree.label_thresholds import LabelThresholds
>>> thresholds = LabelThresholds()
>>> labels, scores = np.array([3, 1]), np.array([0.6, 0.3])  # the search's labels, best first
>>> thresholds.predicted(labels, scores, tau=0.5).tolist()
[3]
>>> answers = []
>>> for _ in range(6):  # label 1 is relevant on every record, label 3 on none
...     answer = thresholds.predicted(labels, scores, tau=0.5)
...     answers.append(answer.tolist())
...     thresholds.learn(np.array([1]), answer)
>>> answers  # label 1's own threshold falls to its score, then hovers about it
[[3], [3], [3, 1], [3], [3, 1], [3]]
>>> round(thresholds.tau_of(1), 3), round(thresholds.tau_of(3), 3)
(0.3, 0.125)

References
----------
Busa-Fekete, R., Szörényi, B., Dembczyński, K. and Hüllermeier, E. (2015). Online F-measure
optimization. Advances in Neural Information Processing Systems 28 (NIPS 2015).

Lipton, Z. C., Elkan, C. and Narayanaswamy, B. (2014). Optimal thresholding of classifiers to
maximize F1 measure. Proc. ECML PKDD 2014, 225-239.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["LabelThresholds", "thresholded_ids"]


class LabelThresholds:
    """Per label, OFO's counts ``a`` (predicted and relevant) and ``b`` (predicted, plus
    relevant), and the labels they predict (module docstring)."""

    def __init__(self):
        self.hits = np.zeros(0)  # a
        self.total = np.zeros(0)  # b

    def tau_of(self, label: int) -> float:
        """The label's own threshold ``a / b`` (1/2 before it was predicted or relevant)."""
        return float(own_tau(self.hits, self.total, label))

    def predicted(self, labels: np.ndarray, scores: np.ndarray, tau: float) -> np.ndarray:
        """The ids among ``labels`` whose ``scores`` reach their own threshold or ``tau``, in the
        order given."""
        return predicted_labels(labels, scores, tau, self.hits, self.total)

    def learn(self, truth: np.ndarray, predicted: np.ndarray) -> None:
        """Count a record's relevant ids ``truth`` against the ids ``predicted`` for it."""
        top = max(truth.max(initial=-1), predicted.max(initial=-1)) + 1
        if top > self.hits.shape[0]:
            size = max(top, 2 * self.hits.shape[0])
            self.hits = np.concatenate([self.hits, np.zeros(size - self.hits.shape[0])])
            self.total = np.concatenate([self.total, np.zeros(size - self.total.shape[0])])
        count_answers(truth, predicted, self.hits, self.total)

    def memory_bytes(self) -> int:
        return self.hits.nbytes + self.total.nbytes


def thresholded_ids(labels: np.ndarray, scores: np.ndarray, tau: float, own: LabelThresholds | None) -> np.ndarray:
    """The ids among the search's ``labels`` (best first) predicted at the shared threshold
    ``tau``, and at the labels' ``own`` thresholds if given."""
    if own is not None:
        return own.predicted(labels, scores, tau)
    return labels[: int(np.searchsorted(-scores, -tau, side="right"))]


@numba.njit(cache=True)
def own_tau(hits, total, label):
    """OFO's threshold of ``label``, its counts starting at a = 1, b = 2 (1/2 for a label not
    counted yet)."""
    if label >= hits.shape[0]:
        return 0.5
    return (hits[label] + 1.0) / (total[label] + 2.0)


@numba.njit(cache=True)
def predicted_labels(labels, scores, tau, hits, total):
    """:meth:`LabelThresholds.predicted` over arrays."""
    out = np.empty(labels.shape[0], dtype=np.int64)
    n = 0
    for i in range(labels.shape[0]):
        label = labels[i]
        if scores[i] >= min(own_tau(hits, total, label), tau):
            out[n] = label
            n += 1
    return out[:n]


@numba.njit(cache=True)
def count_answers(truth, predicted, hits, total):
    """Add one record to every label's counts: ``b`` +1 for each relevant and each predicted id,
    ``a`` +1 for each id both relevant and predicted."""
    for i in range(truth.shape[0]):
        total[truth[i]] += 1.0
    for i in range(predicted.shape[0]):
        label = predicted[i]
        total[label] += 1.0
        for j in range(truth.shape[0]):
            if truth[j] == label:
                hits[label] += 1.0
                break
