"""Naive Bayes adaptive per label: a leaf's naive-Bayes answer for a label gives way to the label's
prior where the prior has been right more often, and naive Bayes adds labels to the answer of
the leaf's whole-labelset model where its additions have been right more often than not.

MOA's naive-Bayes-adaptive leaves (Gama et al., 2003) keep, for a binary leaf, the faded errors
of naive Bayes and of the leaf's majority class and answer with the one that erred less. A loss
switch ``with_nb`` (:class:`~stream_xml.tree.leaf_policies.LossSwitch`) makes that choice between
naive Bayes and the leaf's whole-labelset models; :class:`LabelFallback` makes it again inside
naive Bayes, label by label, each label being the binary problem MOA's rule was made for. On small
dense streams naive Bayes' independent Gaussians are often confidently wrong on a label that most
of the leaf's records carry (Flags: micro-F1 0.628 without, 0.693 with; experiments/RESULTS.md,
issue 23's fifth round).

One restriction: the prior replaces naive Bayes only where it says *relevant* (P(1) above 0.5).
A rare label's majority class "irrelevant" makes fewer errors than any guess at it, and taking it
would teach the root of a hierarchy to answer nothing on streams where the empty labelset is
common; an F1-optimal threshold is at most 0.5 (Lipton et al., 2014), so for F1 the majority
"irrelevant" is not the better answer that Hamming errors say it is.

The prior is the leaf's share of records carrying the label (its statistics, ``stats[2 + j] /
stats[0]``); it replaces naive Bayes' probability as it is, so a label taken from the prior ranks
by how common it is.

While a whole-labelset model (kNN, bagging, the majority labelset) answers, :class:`LabelAdditions`
carries the same rule to the labels that model leaves out: on the records where naive Bayes says
*relevant* to a label the answer leaves out, it counts (faded) how often the label was relevant
and how often not, and once it was relevant more often, naive Bayes' "relevant" is added, scored
by the Laplace-smoothed share of those records that carried the label. Only those records are
counted, because only on them would the addition change the answer; and only additions, for the
reason above (issue 23's ninth round: Flags micro-F1 0.693 → 0.711).

>>> import numpy as np
>>> from stream_xml.tree.label_fallback import LabelFallback
>>> fallback = LabelFallback()
>>> stats = np.array([4.0, 0.0, 3.0, 1.0])  # 4 records: label 0 on 3, label 1 on 1
>>> nb = np.array([0.1, 0.2])  # naive Bayes misses label 0
>>> fallback.answer(nb, stats)  # no errors counted yet: naive Bayes answers
array([0.1, 0.2])
>>> fallback.learn(nb, stats, np.array([0]))  # label 0 was relevant: naive Bayes erred, the prior not
>>> fallback.answer(nb, stats)
array([0.75, 0.2 ])

Label 1's prior (0.25) says "irrelevant", so it never replaces naive Bayes there, however right:

>>> fallback.learn(np.array([0.1, 0.9]), stats, np.array([0]))
>>> fallback.answer(np.array([0.1, 0.9]), stats)
array([0.75, 0.9 ])

Additions to a kNN answer that leaves label 1 out, where naive Bayes says it is relevant:

>>> from stream_xml.tree.label_fallback import LabelAdditions
>>> additions = LabelAdditions(fading=1.0)
>>> knn, nb = np.array([0.8, 0.2]), np.array([0.9, 0.7])
>>> additions.answer(knn, nb) is None  # nothing counted yet: no addition
True
>>> additions.learn(knn, nb, np.array([0, 1]))  # label 1 was relevant
>>> additions.learn(knn, nb, np.array([0, 1]))
>>> additions.learn(knn, nb, np.array([0]))  # not this time
>>> additions.answer(knn, nb)  # relevant 2 times of 3: added, scored (2 + 1) / (3 + 2)
array([0.8, 0.6])

References
----------
Gama, J., Rocha, R. and Medas, P. (2003). Accurate decision trees for mining high-speed data
streams. Proc. KDD 2003, 523-528.

Lipton, Z. C., Elkan, C. and Narayanaswamy, B. (2014). Optimal thresholding of classifiers to
maximize F1 measure. Proc. ECML PKDD 2014, 225-239.
"""

from __future__ import annotations

import numba
import numpy as np

from stream_xml.tree.common_kernels import label_errors
from stream_xml.tree.leaf_arrays import grown, resized
from stream_xml.tree.observer_kernels import label_share, naive_bayes

__all__ = ["LabelFallback", "LabelAdditions", "adaptive_naive_bayes", "count_adaptive_naive_bayes"]


class LabelFallback:
    """Faded errors, per label, of naive Bayes (P(1) > 0.5) and of the leaf's prior for the label
    (its share of the leaf's records > 0.5), and the answer they choose (module docstring).

    Parameters
    ----------
    fading
        Per-record fading of the error counts (0.995: a memory of about 200 records, as the loss
        switch's own counts).
    """

    def __init__(self, fading: float = 0.995):
        self.fading = fading
        #: row 0: naive Bayes' faded errors per label; row 1: the prior's
        self.errors = np.zeros((2, 0))

    def answer(self, nb: np.ndarray, stats: np.ndarray) -> np.ndarray:
        """Naive Bayes' P(1) per label ``nb``, each label's prior instead where it says relevant
        and has erred strictly less (a new array; ``nb`` is left as it is)."""
        return fallback_answer(nb, stats, self.errors)

    def learn(self, nb: np.ndarray, stats: np.ndarray, positives: np.ndarray) -> None:
        """Count one record's errors of naive Bayes' answer ``nb`` and of the priors from ``stats``
        (both before the leaf learns the record) against ``positives`` (sorted label ids)."""
        self.errors = _with_room(self.errors, nb.shape[0])
        count_fallback_errors(nb, stats, positives, self.errors, self.fading)

    @property
    def nbytes(self) -> int:
        return self.errors.nbytes


def _with_room(rows: np.ndarray, n_labels: int) -> np.ndarray:
    """``rows`` (two rows of per-label numbers), grown with zeros to hold ``n_labels`` labels if
    they are fewer."""
    if rows.shape[1] >= n_labels:
        return rows
    return resized(rows, (2, grown(rows.shape[1], n_labels)), 0.0)


@numba.njit(cache=True)
def fallback_answer(nb, stats, errors):
    """:meth:`LabelFallback.answer` over arrays: ``errors`` is ``(2, >= 0)``, row 0 naive Bayes'."""
    out = nb.copy()
    for j in range(min(nb.shape[0], errors.shape[1])):
        prior = label_share(stats, j)
        if prior > 0.5 and errors[1, j] < errors[0, j]:
            out[j] = prior
    return out


@numba.njit(cache=True)
def count_fallback_errors(nb, stats, positives, errors, fading):
    """Fade every label's two error counts and add this record's errors (``errors`` holds at
    least ``len(nb)`` labels)."""
    relevant = np.zeros(nb.shape[0], dtype=np.bool_)
    relevant[positives[positives < nb.shape[0]]] = True
    for j in range(nb.shape[0]):
        errors[0, j] = errors[0, j] * fading + ((nb[j] > 0.5) != relevant[j])
        errors[1, j] = errors[1, j] * fading + ((label_share(stats, j) > 0.5) != relevant[j])


class LabelAdditions:
    """Faded counts, per label, of the records on which naive Bayes said *relevant* to a label the
    leaf's whole-labelset answer left out, split by whether the label was relevant; the answer
    with the labels whose count of "relevant" is the larger added (module docstring).

    Parameters
    ----------
    fading
        Per-record fading of the counts (every record the leaf scores fades them, as the loss
        switch's own counts).
    """

    def __init__(self, fading: float = 0.995):
        self.fading = fading
        #: row 0: faded count of such records that carried the label; row 1: of those that did not
        self.counts = np.zeros((2, 0))

    def answer(self, base: np.ndarray, nb: np.ndarray):
        """``base`` (the whole-labelset model's P(1) per label) with naive Bayes' additions from
        ``nb`` (its P(1) per label) as a new array, or None if it adds no label."""
        return added_answer(base, nb, self.counts)

    def learn(self, base: np.ndarray, nb: np.ndarray, positives: np.ndarray) -> None:
        """Count one record (``base`` and ``nb`` as predicted before the leaf learns it) against
        its relevant labels ``positives`` (sorted ids)."""
        self.counts = _with_room(self.counts, base.shape[0])
        count_additions(base, nb, positives, self.counts, self.fading)

    @property
    def nbytes(self) -> int:
        return self.counts.nbytes


@numba.njit(cache=True)
def added_answer(base, nb, counts):
    """:meth:`LabelAdditions.answer` over arrays: ``counts`` is ``(2, >= 0)``."""
    out = None  # copied at the first addition: most calls add nothing
    for j in range(min(base.shape[0], counts.shape[1])):
        if nb[j] > 0.5 and base[j] <= 0.5 and counts[0, j] > counts[1, j]:
            if out is None:
                out = base.copy()
            out[j] = (counts[0, j] + 1.0) / (counts[0, j] + counts[1, j] + 2.0)
    return out


@numba.njit(cache=True)
def count_additions(base, nb, positives, counts, fading):
    """Fade every label's counts and count the labels naive Bayes would have added to ``base``
    (``counts`` holds at least ``len(base)`` labels)."""
    relevant = np.zeros(base.shape[0], dtype=np.bool_)
    relevant[positives[positives < base.shape[0]]] = True
    for j in range(base.shape[0]):
        counts[0, j] *= fading
        counts[1, j] *= fading
        if nb[j] > 0.5 and base[j] <= 0.5:
            counts[0 if relevant[j] else 1, j] += 1.0


# ------------------------------------------------------------------------------------------------
# Naive Bayes, its fallback and its additions in one kernel call each way: a leaf of a loss switch
# ``with_nb`` needs all three on every record, and on a dozen labels entering a kernel costs about
# what the kernel's work does.

#: The per-label rows of a leaf that has no fallback or no additions yet (nothing counted).
NONE_COUNTED = np.zeros((2, 0))
_NO_BASE = np.zeros(0)


def adaptive_naive_bayes(observers, fallback, additions, stats, idx, val, n_labels: int, counted: tuple,
                         base=None) -> tuple:  # fmt: skip
    """``(raw, nb, added)``: naive Bayes' P(1) per label over the leaf's ``observers``
    (``counted``: the tree's ``(nominal, binary)``), its answer after the leaf's ``fallback``
    (:meth:`LabelFallback.answer`) and ``base`` with the leaf's ``additions``
    (:meth:`LabelAdditions.answer`: None if they add nothing, always without ``base``).
    ``fallback`` and ``additions`` may be None (nothing counted yet)."""
    rows, added = _adaptive(observers.moments, observers.key_weight, idx, val, n_labels, counted[0], counted[1],
                            stats, NONE_COUNTED if fallback is None else fallback.errors,
                            _NO_BASE if base is None else base,
                            NONE_COUNTED if additions is None else additions.counts)  # fmt: skip
    return rows[0], rows[1], rows[2] if added else None


@numba.njit(cache=True)
def _adaptive(moments, key_weight, idx, val, n_labels, nominal, binary, stats, errors, base, counts):
    # the three answers as rows of one array: each array a kernel returns costs its caller about
    # what the kernel's work on a dozen labels does (numba boxes it, unpickling ndarray's class)
    raw = naive_bayes(moments, key_weight, idx, val, n_labels, nominal, binary)
    rows = np.empty((3, raw.shape[0]))
    rows[0] = raw
    rows[1] = fallback_answer(raw, stats, errors)
    added = added_answer(base, rows[1], counts)
    if added is not None:
        rows[2] = added
    return rows, added is not None


def count_adaptive_naive_bayes(fallback: LabelFallback, additions, raw, nb, base, stats, positives) -> int:
    """Count one record into the leaf's ``fallback`` (:meth:`LabelFallback.learn` of ``raw``) and,
    unless None, its ``additions`` (:meth:`LabelAdditions.learn` of ``base`` and ``nb``); return
    the label errors of ``nb`` (:func:`~stream_xml.tree.common_kernels.label_errors`)."""
    if fallback.errors.shape[1] < raw.shape[0]:
        fallback.errors = _with_room(fallback.errors, raw.shape[0])
    if additions is None:
        return _count_adaptive(raw, nb, _NO_BASE, stats, positives, fallback.errors, fallback.fading, NONE_COUNTED, 1.0)
    if additions.counts.shape[1] < base.shape[0]:
        additions.counts = _with_room(additions.counts, base.shape[0])
    return _count_adaptive(raw, nb, base, stats, positives, fallback.errors, fallback.fading, additions.counts,
                           additions.fading)  # fmt: skip


@numba.njit(cache=True)
def _count_adaptive(raw, nb, base, stats, positives, errors, fading, counts, additions_fading):
    count_fallback_errors(raw, stats, positives, errors, fading)
    if base.shape[0] > 0:
        count_additions(base, nb, positives, counts, additions_fading)
    return label_errors(nb, positives)
