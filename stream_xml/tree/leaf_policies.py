"""How the leaves of a tree answer and learn: one policy per tree, chosen once from its
``leaf_model`` and ``leaf_switch`` (:func:`leaf_policy`) and given to every leaf it makes.

A policy says which learned models a new leaf carries (:attr:`LeafPolicy.uses_knn`,
:attr:`LeafPolicy.uses_bagging`), what a leaf answers (:meth:`LeafPolicy.proba`: P(1) per label,
None before the leaf has learned anything) and how it learns a record (:meth:`LeafPolicy.learn`).

- :class:`MajorityLeaves`: the leaf's most frequent labelset.
- :class:`NaiveBayesLeaves`: naive Bayes per label over the leaf's split observers (Gaussian;
  Bernoulli for the features the split search counts).
- :class:`PrunedSetsLeaves`: the leaf's frequent labelsets as the classes of naive Bayes
  (:mod:`stream_xml.tree.pruned_sets`), MOA's multi-label Hoeffding tree's leaves.
- :class:`KnnLeaves`, :class:`BaggingLeaves`: the kNN label combination, the bagged logistic
  regressions (:mod:`stream_xml.tree.knn`, :mod:`stream_xml.tree.bagging`).
- :class:`CardinalitySwitch`: MLHAT's rule (Esteban et al., 2024): kNN while the leaf is light or
  nearly pure, bagging after.
- :class:`LossSwitch`: the one of kNN and bagging (and, ``with_majority``, the majority labelset;
  ``with_nb``, naive Bayes) that has made fewer faded exact-match errors on the records reaching the leaf, each scored
  before it is learned (test, then train).

>>> from stream_xml.tree.leaf_policies import leaf_policy
>>> type(leaf_policy("switch", "loss_with_majority")).__name__, leaf_policy("switch", "loss").with_majority
('LossSwitch', False)
>>> leaf_policy("nb", "loss").uses_knn, leaf_policy("switch", "cardinality").uses_bagging
(False, True)

References
----------
Gama, J., Rocha, R. and Medas, P. (2003). Accurate decision trees for mining high-speed data
streams. Proc. KDD 2003, 523-528.

Esteban, A., Cano, A., Zafra, A. and Ventura, S. (2024). Hoeffding adaptive trees for
multi-label classification on data streams. Knowledge-Based Systems 304, 112561.
"""

from __future__ import annotations

import numba
import numpy as np

from stream_xml.tree.entropy import ml_entropy
from stream_xml.tree.common_kernels import label_errors
from stream_xml.tree.label_fallback import (
    LabelAdditions,
    LabelFallback,
    adaptive_naive_bayes,
    count_adaptive_naive_bayes,
)
from stream_xml.tree.observer_kernels import answer_with_shares

__all__ = [
    "LEAF_MODELS", "LEAF_SWITCHES", "LEAF_RANKINGS", "SWITCH_FADING", "leaf_policy", "ranked", "ranked_score",
    "ranked_into",
    "LeafPolicy", "MajorityLeaves", "NaiveBayesLeaves", "PrunedSetsLeaves", "KnnLeaves", "BaggingLeaves",
    "CardinalitySwitch", "LossSwitch",
]  # fmt: skip

LEAF_MODELS = ("switch", "majority", "knn", "bagging", "nb", "ps")
LEAF_SWITCHES = ("cardinality", "loss", "loss_with_majority", "loss_with_nb", "loss_with_majority_and_nb")
#: How a switching leaf ranks its labels: by its answer, (past a weight) by its bagged logistic
#: regressions, or by its answer and its label shares (:meth:`LeafPolicy.ranking`).
LEAF_RANKINGS = ("answer", "bagging", "prior")
#: Per-record fading of the leaf models' error counts under :class:`LossSwitch` (a memory of
#: about 200 records, so the choice follows drift).
SWITCH_FADING = 0.995


def ranked(decided, rank):
    """Scores that keep the decisions ``decided`` (bools) and rank by ``rank`` (P(1) per label):
    half for the decision plus half the rank, kept inside (0, 1), so that every decided label
    scores above 0.5 and every other below, each side ordered by ``rank`` (the score encoding of
    pruned sets, :mod:`stream_xml.tree.pruned_sets`)."""
    return 0.5 * decided + 0.5 * np.minimum(np.maximum(rank, _RANK_MARGIN), 1.0 - _RANK_MARGIN)


def ranked_score(decided: bool, rank: float) -> float:
    """:func:`ranked` of one label (for scores kept by name, where arrays would cost more)."""
    return 0.5 * decided + 0.5 * min(max(rank, _RANK_MARGIN), 1.0 - _RANK_MARGIN)


_RANK_MARGIN = 1e-9


@numba.njit(cache=True)
def ranked_into(answer, rank, tau, encode, out):
    """Write to ``out`` (``(2, len(answer))``) 1.0 in row 0 for the labels whose ``answer`` (P(1)
    per label) is at least ``tau`` (else 0.0), and in row 1 the scores that hand them out: with
    ``encode``, :func:`ranked` of those decisions and ``rank``, else ``answer``. One call for
    what a label space's worth of :func:`ranked_score` calls does; it writes into its caller's
    array because a kernel's returned array costs its caller more than the work on a dozen
    labels (numba boxes it and unpickles ``ndarray``'s class for it, each call)."""
    for j in range(answer.shape[0]):
        decided = answer[j] >= tau
        out[0, j] = 1.0 if decided else 0.0
        if encode:
            out[1, j] = 0.5 * decided + 0.5 * min(max(rank[j], _RANK_MARGIN), 1.0 - _RANK_MARGIN)
        else:
            out[1, j] = answer[j]


class LeafPolicy:
    """What every policy does unless it says otherwise: learn with the leaf's own ``learn``."""

    uses_knn = False
    uses_bagging = False
    uses_pruned_sets = False
    rank_by = "answer"  # switching policies: one of LEAF_RANKINGS (see ranking)
    rank_after = 0.0  # the leaf weight from which they rank by bagging

    def choice(self, leaf):
        """The model the leaf answers with (switching policies)."""
        return None

    def proba(self, leaf, idx, val, n_labels: int, memo=None):
        """P(1) per label from the leaf, None if the leaf has learned nothing. ``memo`` (a dict
        kept with the record's leaf predictions, or None) is where a policy may leave, under
        ``id(leaf)``, what its :meth:`learn` on the same record can reuse."""
        if leaf.majority.n_labelsets == 0:
            return None
        return self._proba(leaf, idx, val, n_labels, memo)

    def _proba(self, leaf, idx, val, n_labels: int, memo=None):
        return leaf.majority.predict_proba(n_labels)

    def ranking(self, leaf, idx, val, n_labels: int, answer):
        """P(1) per label by which the leaf ranks its labels (``answer``, its :meth:`proba`, unless
        said otherwise). Votes and labelsets give many labels the same score, which ranks them by
        label order, so a leaf that answers with kNN votes or its majority labelset may rank
        otherwise (bagging's and naive Bayes' own probabilities rank as they are):

        - ``rank_by == "bagging"``: once it has seen ``rank_after`` weight, by its bagged logistic
          regressions' probabilities, which need a few hundred records before they rank better
          (on Flags' 194 records they rank worse: experiments/RESULTS.md, issue 23);
        - ``rank_by == "prior"``: by the mean of its answer and its share of records carrying
          the label (:func:`~stream_xml.tree.observer_kernels.answer_with_shares`): among the
          labels answered, the commoner first, the neighbours' votes still counting (Yeast P@1
          0.704 -> 0.738 as iHOMER's root, where the most frequent label alone scores 0.750;
          issue 23's sixth round)."""
        if self.rank_by == "answer" or leaf.majority.n_labelsets <= 1:
            return answer
        if self.choice(leaf) not in (leaf.knn, leaf.majority):
            return answer
        if self.rank_by == "prior":
            return answer_with_shares(answer, leaf.stats)
        if leaf.current_weight < self.rank_after:
            return answer
        return leaf.bagging.predict_proba(idx, val, n_labels)

    def learn(self, leaf, idx, val, positives, w: float, predictions, wrong) -> None:
        """The leaf learns the record; ``predictions`` holds the tree's leaf predictions for it
        (``probas``: id(leaf) -> (leaf, P(1))), ``wrong`` the label errors of the leaf's own
        prediction if the caller counted them."""
        leaf.learn(idx, val, positives, w, predictions.n_labels)


class MajorityLeaves(LeafPolicy):
    """The most frequent labelset of the leaf."""


def _none_counted() -> tuple:
    return np.zeros(0, dtype=np.uint8), False


class NaiveBayesLeaves(LeafPolicy):
    """Naive Bayes per label over the leaf's split observers (no model of its own to learn):
    Gaussian, Bernoulli for the features the tree's split search counts (``counted()`` gives its
    ``(nominal, binary)``); a deactivated leaf, whose observers are gone, and a leaf of one
    labelset answer with the majority labelset."""

    def __init__(self, counted=_none_counted):
        self.counted = counted

    def _proba(self, leaf, idx, val, n_labels: int, memo=None):
        if leaf.majority.n_labelsets > 1 and leaf.observers is not None:
            return leaf.observers.naive_bayes(idx, val, n_labels, *self.counted())
        return leaf.majority.predict_proba(n_labels)


class PrunedSetsLeaves(LeafPolicy):
    """The leaf's pruned sets (:class:`~stream_xml.tree.pruned_sets.PrunedSets`; Bernoulli for
    the features ``counted()`` says the split search counts), its majority labelset until they
    have chosen their classes."""

    uses_pruned_sets = True

    def __init__(self, counted=_none_counted):
        self.counted = counted

    def _proba(self, leaf, idx, val, n_labels: int, memo=None):
        proba = leaf.pruned_sets.predict_proba(idx, val, n_labels, *self.counted())
        return leaf.majority.predict_proba(n_labels) if proba is None else proba

    def learn(self, leaf, idx, val, positives, w: float, predictions, wrong) -> None:
        leaf.learn(idx, val, positives, w, predictions.n_labels)
        leaf.pruned_sets.learn(idx, val, positives, w, *self.counted())


class KnnLeaves(LeafPolicy):
    """The kNN label combination, always."""

    uses_knn = True

    def _proba(self, leaf, idx, val, n_labels: int, memo=None):
        return leaf.knn.predict_proba(idx, val, n_labels)


class BaggingLeaves(LeafPolicy):
    """The bagged logistic regressions, always."""

    uses_bagging = True

    def _proba(self, leaf, idx, val, n_labels: int, memo=None):
        return leaf.bagging.predict_proba(idx, val, n_labels)


class CardinalitySwitch(LeafPolicy):
    """The majority labelset while the leaf has seen one labelset; then kNN while the leaf has
    seen less weight than ``cardinality_th`` or its multi-label entropy is below ``entropy_th``,
    bagging after."""

    uses_knn = uses_bagging = True

    def __init__(self, cardinality_th: float = 750, entropy_th: float = 0.3):
        self.cardinality_th = cardinality_th
        self.entropy_th = entropy_th

    def choice(self, leaf):
        if leaf.majority.n_labelsets <= 1:
            return leaf.majority
        light = leaf.current_weight < self.cardinality_th
        return leaf.knn if light or ml_entropy(leaf.stats) < self.entropy_th else leaf.bagging

    def _proba(self, leaf, idx, val, n_labels: int, memo=None):
        model = self.choice(leaf)
        if model is leaf.majority:
            return model.predict_proba(n_labels)
        return model.predict_proba(idx, val, n_labels)


class LossSwitch(LeafPolicy):
    """The model with the fewest faded exact-match errors on the leaf's records (kNN on a tie;
    the majority labelset, a candidate ``with_majority``, only if strictly fewer), its majority
    labelset while the leaf has seen one labelset at most.

    ``with_nb`` adds naive Bayes over the leaf's observers (no learning of its own; while the
    leaf is active): it answers instead of that model while it has made fewer faded *label*
    errors than it, MOA's naive-Bayes-adaptive rule (Gama et al., 2003), which counts a binary
    leaf's errors, carried to the labels. Label errors rather than exact matches, because naive
    Bayes' labels are independent guesses that rarely make the whole labelset: by exact matches
    it would almost never answer, even where it knows most labels best. Naive Bayes is itself
    adaptive per label: where a label's prior says "relevant" and has erred less than naive Bayes
    on it, the prior answers for that label (:mod:`stream_xml.tree.label_fallback`). While another
    model answers, naive Bayes adds to its answer the labels it says are relevant where, on the
    records it said so and that model did not, they were relevant more often than not
    (:class:`~stream_xml.tree.label_fallback.LabelAdditions`). It costs one naive-Bayes prediction
    per record at each leaf reached; a record learned unpredicted is predicted by its learning
    call, so that what is counted does not depend on whether the caller asked first."""

    uses_knn = uses_bagging = True

    def __init__(self, with_majority: bool = False, with_nb: bool = False, counted=_none_counted):
        self.with_majority = with_majority
        self.with_nb = with_nb
        self.counted = counted

    def choice(self, leaf):
        """The model the leaf answers with (``leaf.observers`` standing for naive Bayes)."""
        if leaf.majority.n_labelsets <= 1:
            return leaf.majority
        # the model chosen by exact-match errors, and its slot (0 kNN, 1 bagging, 2 majority)
        knn_errors, bagging_errors, majority_errors = leaf.model_errors
        if self.with_majority and majority_errors < min(knn_errors, bagging_errors):
            model, slot = leaf.majority, 2
        else:
            model, slot = (leaf.knn, 0) if knn_errors <= bagging_errors else (leaf.bagging, 1)
        label_errors_ = leaf.label_error_counts
        if self.with_nb and leaf.observers is not None and label_errors_ is not None \
                and label_errors_[3] < label_errors_[slot]:  # fmt: skip
            return leaf.observers
        return model

    def _nb_proba(self, leaf, idx, val, n_labels: int, memo=None):
        """Naive Bayes' answer: its P(1) per label, adaptive per label (each label's prior instead
        where the leaf's :class:`~stream_xml.tree.label_fallback.LabelFallback` says so); its own
        P(1) and its answer, which the learning call counts, go to ``memo``."""
        raw, answer, _ = self._adaptive(leaf, idx, val, n_labels)
        if memo is not None:
            memo[id(leaf)] = (raw, answer, None)
        return answer

    def _adaptive(self, leaf, idx, val, n_labels: int, base=None) -> tuple:
        """Naive Bayes' P(1), its answer and ``base`` with its additions (None: none added), from
        one kernel call (:func:`~stream_xml.tree.label_fallback.adaptive_naive_bayes`)."""
        return adaptive_naive_bayes(leaf.observers, leaf.nb_fallback, leaf.nb_additions, leaf.stats, idx, val,
                                    n_labels, self.counted(), base)  # fmt: skip

    def _proba(self, leaf, idx, val, n_labels: int, memo=None):
        model = self.choice(leaf)
        if model is leaf.observers:
            return self._nb_proba(leaf, idx, val, n_labels, memo)
        if model is leaf.majority:
            answer = model.predict_proba(n_labels)
        else:
            answer = model.predict_proba(idx, val, n_labels)
        if leaf.nb_additions is None or leaf.observers is None:
            return answer
        # naive Bayes' additions (stream_xml.tree.label_fallback.LabelAdditions)
        raw, nb, added = self._adaptive(leaf, idx, val, n_labels, answer)
        if memo is not None:
            memo[id(leaf)] = (raw, nb, None if added is None else answer)
        return answer if added is None else added

    def _slot(self, leaf, model) -> int:
        """The slot of the model in use whose errors are counted: 0 kNN, 1 bagging, 2 the majority
        labelset (only if it is scored, ``with_majority`` or ``with_nb``), 3 naive Bayes; -1 none."""
        if model is leaf.knn:
            return 0
        if model is leaf.bagging:
            return 1
        if model is leaf.majority:
            return 2 if self.with_majority or self.with_nb else -1
        return 3

    def _count(self, leaf, wrongs: list) -> None:
        """Fade in one record's wrong labels ``wrongs[slot]`` of the model in each slot (3: naive
        Bayes; None: not scored)."""
        errors = leaf.model_errors
        counts = leaf.label_error_counts if self.with_nb else None
        for slot, wrong in enumerate(wrongs):
            if wrong is None:
                continue
            if slot < 3:
                errors[slot] = errors[slot] * SWITCH_FADING + (wrong > 0)
            if counts is not None:
                counts[slot] = counts[slot] * SWITCH_FADING + wrong

    def learn(self, leaf, idx, val, positives, w: float, predictions, wrong) -> None:
        """The leaf learns the record after a test-then-train score of its kNN and bagging (and,
        ``with_majority`` or ``with_nb``, its majority labelset; ``with_nb``, naive Bayes) on it.
        The model in use is scored from its cached prediction (whose label errors are ``wrong``
        if the caller counted them); a model without one is scored by the call in which it
        learns."""
        majority = leaf.majority
        n_labels = predictions.n_labels
        if majority.n_labelsets == 0:
            leaf.learn(idx, val, positives, w, n_labels)
            return
        if self.with_nb and leaf.label_error_counts is None:
            leaf.label_error_counts = [0.0, 0.0, 0.0, 0.0]  # kNN, bagging, majority, naive Bayes
        in_use = self.choice(leaf)
        cached = predictions.probas.get(id(leaf))  # the prediction of the model in use
        if cached is None and self.with_nb and leaf.observers is not None:
            # naive Bayes' additions count the answer of the model in use: a record learned
            # unpredicted is predicted here, as the prequential predict would have done
            cached = predictions.probas[id(leaf)] = (leaf, self.proba(leaf, idx, val, n_labels, predictions.memo))
        # naive Bayes' P(1), its answer and the answer before its additions (None: none made)
        kept = predictions.memo.get(id(leaf))
        if kept is not None and kept[2] is not None:  # the model in use is scored without them
            cached, wrong = (leaf, kept[2]), None
        # the model scored from the cached prediction (-1: none)
        slot = self._slot(leaf, in_use) if cached is not None else -1
        also = None  # that prediction, when the call that trains another model is to score it
        wrongs = [None, None, None, None]  # the record's wrong labels by slot, counted at the end
        if slot >= 0:
            if wrong is None:
                also = cached[1]
            else:
                wrongs[slot] = wrong
        if (self.with_majority or self.with_nb) and slot != 2:
            wrongs[2] = label_errors(majority.predict_proba(n_labels), positives)
        if self.with_nb and leaf.observers is not None:
            # made by the prediction, else made now
            raw, nb = (kept[0], kept[1]) if kept is not None else self._adaptive(leaf, idx, val, n_labels)[:2]
            if leaf.nb_fallback is None:
                leaf.nb_fallback = LabelFallback(SWITCH_FADING)
            if slot == 3:  # naive Bayes answered (counted above): no additions to count
                count_adaptive_naive_bayes(leaf.nb_fallback, None, raw, nb, None, leaf.stats, positives)
            else:
                if leaf.nb_additions is None:
                    leaf.nb_additions = LabelAdditions(SWITCH_FADING)
                wrongs[3] = count_adaptive_naive_bayes(
                    leaf.nb_fallback, leaf.nb_additions, raw, nb, cached[1], leaf.stats, positives)
        knn_wrong, bagging_wrong, also_wrong = leaf.learn(idx, val, positives, w, n_labels, slot != 0, slot != 1, also)
        if knn_wrong is not None:
            wrongs[0] = knn_wrong
        if bagging_wrong is not None:
            wrongs[1] = bagging_wrong
        if also_wrong is not None:
            wrongs[slot] = also_wrong
        self._count(leaf, wrongs)


def leaf_policy(leaf_model: str, leaf_switch: str, cardinality_th: float = 750,
                entropy_th: float = 0.3, counted=_none_counted, ranking: str = "answer") -> LeafPolicy:  # fmt: skip
    """The policy of a tree's ``leaf_model`` (and, for ``"switch"``, its ``leaf_switch`` and
    ``ranking``); ``counted`` gives the naive-Bayes leaves the tree's counted features,
    ``(nominal, binary)``."""
    if leaf_model not in LEAF_MODELS:
        raise ValueError(f"leaf_model must be one of {LEAF_MODELS}, got {leaf_model!r}")
    if leaf_switch not in LEAF_SWITCHES:
        raise ValueError(f"leaf_switch must be one of {LEAF_SWITCHES}, got {leaf_switch!r}")
    if ranking not in LEAF_RANKINGS:
        raise ValueError(f"leaf_ranking must be one of {LEAF_RANKINGS}, got {ranking!r}")
    if leaf_model == "switch":
        if leaf_switch == "cardinality":
            policy = CardinalitySwitch(cardinality_th, entropy_th)
        else:
            policy = LossSwitch(with_majority="majority" in leaf_switch, with_nb=leaf_switch.endswith("nb"),
                                counted=counted)
        policy.rank_by = ranking
        policy.rank_after = cardinality_th
        return policy
    if leaf_model == "nb":
        return NaiveBayesLeaves(counted)
    if leaf_model == "ps":
        return PrunedSetsLeaves(counted)
    return {"majority": MajorityLeaves, "knn": KnnLeaves, "bagging": BaggingLeaves}[leaf_model]()
