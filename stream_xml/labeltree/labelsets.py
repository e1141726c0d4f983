"""The stream's frequent labelsets, and an answer made of the likeliest of them.

A label tree scores labels one by one; thresholding those scores gives a labelset tuned to
micro-F1, which is rarely exactly right when labels depend on one another. Labelsets repeat in
most multi-label streams (pruned sets: Read, Pfahringer and Holmes, ICDM 2008), so a second
answer is the kept labelset ``S`` that maximises

    log count(S) + sum over l in S of logit(p_l),

the labels' scores ``p_l`` taken as independent marginals (a label the search did not return
scores ``floor``: it was below the search's reach) and the labelset's frequency as its prior.
Both answers are scored on every record with a relevant label before it is learned (test, then
train) by their faded Jaccard losses, as iHOMER's arbiter scores the blocks against the root
learner, and the one with the smaller loss answers the next record. Records without a relevant
label are not scored: on them the empty answer alone has no loss, so where they are common the
kept empty labelset would win the choice and answer nothing on every record (on a synthetic
stream with 29 % of them, micro-F1 0.424 without kept labelsets, 0.288 with them when those
records were scored, 0.422 now; experiments/RESULTS.md, issue 23's fifth round).

The kept labelsets are at most ``capacity`` rows of at most ``width`` label ids (longer
labelsets are not kept); a new labelset takes the row of the least frequent one when the table
is full (space-saving: Metwally, Agrawal and El Abbadi, ICDT 2005); every count fades by
``fading`` per record. Memory is ``capacity x width`` ids plus one float per label.

>>> import numpy as np
>>> from stream_xml.labeltree.labelsets import KeptLabelsets
>>> kept = KeptLabelsets(capacity=4, width=3)
>>> for labelset in ([0, 1], [0, 1], [2], [0, 1, 2]):
...     kept.learn(np.array(labelset), None)
>>> # label 0 scores high, 1 middling, 2 low: {0, 1} is likelier than {0, 1, 2} or {2}
>>> row = kept.decode(np.array([0, 1, 2]), np.array([0.9, 0.4, 0.1]), 3, floor=0.02)
>>> kept.labelset(row)
[0, 1]

References
----------
Read, J., Pfahringer, B., Holmes, G. (2008). Multi-label classification using ensembles of
pruned sets. ICDM 2008.

Metwally, A., Agrawal, D., El Abbadi, A. (2005). Efficient computation of frequent and top-k
elements in data streams. ICDT 2005.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from stream_xml.labels import jaccard_loss

__all__ = ["KeptLabelsets", "best_labelset"]

#: fading of the two answers' Jaccard losses (iHOMER's arbiter fades alike)
LOSS_FADING = 0.995


@numba.njit(cache=True)
def best_labelset(ids, sizes, counts, n_rows, logit, default, cand, cand_scores):
    """The row of the kept labelset with the largest ``log count + sum of its labels' logits``
    (-1 if none is kept): the candidates ``cand`` have the logits of ``cand_scores``, every
    other label ``default``. ``logit`` (one slot per label, all ``default``) is left as found."""
    for i in range(cand.shape[0]):
        p = min(max(cand_scores[i], 1e-6), 1.0 - 1e-6)
        logit[cand[i]] = math.log(p) - math.log(1.0 - p)
    best = -np.inf
    best_row = -1
    for r in range(n_rows):
        if counts[r] <= 0.0:
            continue
        s = math.log(counts[r])
        for j in range(sizes[r]):
            s += logit[ids[r, j]]
        if s > best:
            best = s
            best_row = r
    for i in range(cand.shape[0]):
        logit[cand[i]] = default
    return best_row


class KeptLabelsets:
    """The frequent labelsets of a stream (label ids), the likeliest of them under a record's
    label scores, and which answer, thresholded labels or likeliest labelset, has done better.

    Parameters
    ----------
    capacity
        Most labelsets kept.
    width
        Most labels of a kept labelset.
    fading
        Factor applied to every count per record learned.

    """

    def __init__(self, capacity: int = 256, width: int = 32, fading: float = 0.999):
        self.capacity = capacity
        self.width = width
        self.fading = fading
        self.ids = np.full((capacity, width), -1, dtype=np.int64)
        self.sizes = np.zeros(capacity, dtype=np.int64)
        self.counts = np.zeros(capacity)
        self.n_rows = 0
        self.losses = [0.0, 0.0]  # faded Jaccard losses: thresholded labels, likeliest labelset
        self._row_of: dict = {}  # tuple of ids -> row
        self._key_of: list = [None] * capacity
        self._logit = np.zeros(0)
        self._default = 0.0
        self._pending: tuple | None = None  # (record, thresholded ids, likeliest labelset's ids)

    def answer(self, record, cand: np.ndarray, cand_scores: np.ndarray, thresholded: np.ndarray, n_labels: int,
               floor: float):
        """The label ids to answer with instead of the ids ``thresholded``, or None to keep those;
        both answers are kept to be scored when ``record`` is learned."""
        self._pending = None
        row = self.decode(cand, cand_scores, n_labels, floor)
        if row < 0:
            return None
        likeliest = self.labelset(row)
        self._pending = (record, set(thresholded.tolist()), set(likeliest))
        return likeliest if self.decodes() else None

    def learn_record(self, record, truth: np.ndarray) -> None:
        """:meth:`learn` the labelset ``truth`` of ``record``, scoring first the answers given
        for it (if the last answer was for this record)."""
        pending, self._pending = self._pending, None
        self.learn(truth, pending[1:] if pending is not None and pending[0] is record else None)

    def __getstate__(self):
        return {**self.__dict__, "_pending": None}

    def decodes(self) -> bool:
        """The likeliest labelset answers the next record (it has the smaller loss)."""
        return self.losses[1] < self.losses[0]

    def decode(self, cand: np.ndarray, cand_scores: np.ndarray, n_labels: int, floor: float) -> int:
        """The row of the likeliest kept labelset given the candidates' scores (-1: none kept);
        labels that are not candidates score ``floor``."""
        if self.n_rows == 0:
            return -1
        default = math.log(floor) - math.log(1.0 - floor)
        if self._logit.shape[0] < n_labels or default != self._default:
            self._logit = np.full(max(n_labels, 2 * self._logit.shape[0]), default)
            self._default = default
        return int(best_labelset(self.ids, self.sizes, self.counts, self.n_rows, self._logit, default,
                                 cand, cand_scores))

    def labelset(self, row: int) -> list:
        """The label ids of ``row``."""
        return self.ids[row, : self.sizes[row]].tolist()

    def learn(self, truth: np.ndarray, answers) -> None:
        """Count the labelset ``truth`` (sorted distinct ids); ``answers`` (or None) are the two
        answers given for this record, as sets of ids, to score first, unless ``truth`` is empty:
        a record without a relevant label shows neither answer knowing labels, and scoring it
        would reward the answer that says nothing (issue 23's first failure mode)."""
        if answers is not None and truth.shape[0]:
            relevant = set(truth.tolist())
            for i, answer in enumerate(answers):
                self.losses[i] = self.losses[i] * LOSS_FADING + jaccard_loss(answer, relevant)
        self.counts *= self.fading
        if truth.shape[0] > self.width:
            return
        key = tuple(truth.tolist())
        row = self._row_of.get(key)
        if row is None:
            if self.n_rows < self.capacity:
                row = self.n_rows
                self.n_rows += 1
                count = 0.0
            else:  # space-saving: the least frequent row, its count inherited
                row = int(np.argmin(self.counts))
                count = float(self.counts[row])
                del self._row_of[self._key_of[row]]
            self._row_of[key] = row
            self._key_of[row] = key
            self.ids[row, : truth.shape[0]] = truth
            self.ids[row, truth.shape[0]:] = -1
            self.sizes[row] = truth.shape[0]
            self.counts[row] = count
        self.counts[row] += 1.0

    def memory_bytes(self) -> int:
        return self.ids.nbytes + self.sizes.nbytes + self.counts.nbytes + self._logit.nbytes + 64 * len(self._row_of)
