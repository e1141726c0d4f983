"""What an MLHAT answers for a record: the leaves it reaches (alternates' included) vote, each
with its answer (:meth:`~stream_xml.tree.leaf_policies.LeafPolicy.proba`) or its ranking
(:meth:`~stream_xml.tree.leaf_policies.LeafPolicy.ranking`), weighted as
:class:`~stream_xml.tree.adaptation.AdaptiveBranches` says; the leaves' predictions for a record are
cached (:class:`LeafPredictions`), so that its prequential ``predict`` then ``learn`` make them once.

:class:`LeafVotes` is mixed into :class:`~stream_xml.tree.MLHAT`, whose attributes it reads.

>>> from river import datasets
>>> from stream_xml.tree import MLHAT
>>> # one leaf answering with kNN throughout (no split; entropy_th above any entropy)
>>> tree = MLHAT(leaf_ranking="bagging", leaf_switch="cardinality", cardinality_th=50, entropy_th=100.0,
...              grace_period=10**6, seed=1)
>>> for x, y in datasets.Yeast().take(300):
...     tree.learn_labelset(x, {k for k, v in y.items() if v})
>>> answers, ranks, scores = tree.answer_scores(x), tree.ranking_scores(x), tree.predict_scores(x)
>>> {k for k, p in answers.items() if p > 0.5} == {k for k, p in scores.items() if p > 0.5}
True
>>> ranks != answers  # past cardinality_th the leaf ranks by its bagged regressions
True
"""

from __future__ import annotations

import numpy as np

from stream_xml.tree.common_kernels import label_errors
from stream_xml.tree.leaf_policies import ranked
from stream_xml.tree.nodes import Leaf, reached_leaves

__all__ = ["LeafPredictions", "LeafVotes"]


class LeafPredictions:
    """Leaf-model predictions made for one encoded record over ``n_labels`` labels, valid while
    the model is unchanged (``stamp``: the records it had learned; None while the record is
    learned): the prequential ``predict`` then ``learn`` of a record need the same leaf
    predictions."""

    __slots__ = ("stamp", "n_labels", "idx", "val", "probas", "ranks", "memo")

    def __init__(self, stamp, n_labels, idx, val):
        self.stamp = stamp
        self.n_labels = n_labels
        self.idx = idx
        self.val = val
        self.probas: dict[int, tuple] = {}  # id(leaf) -> (leaf, P(1) or None)
        self.ranks: dict[int, np.ndarray] = {}  # id(leaf) -> its ranking (LeafPolicy.ranking)
        self.memo: dict = {}  # id(leaf) -> what its policy kept for learning (LeafPolicy.proba)

    def matches(self, stamp, n_labels, idx, val) -> bool:
        if stamp != self.stamp or n_labels != self.n_labels:
            return False
        if idx is self.idx and val is self.val:
            return True
        return np.array_equal(idx, self.idx) and np.array_equal(val, self.val)


class LeafVotes:
    """The scores of an MLHAT's reached leaves: answers, rankings and the two together."""

    def _cached_leaf_proba(self, leaf: Leaf, predictions: LeafPredictions):
        entry = predictions.probas.get(id(leaf))
        if entry is None:
            entry = (leaf, leaf.policy.proba(leaf, predictions.idx, predictions.val, predictions.n_labels,
                                             predictions.memo))
            predictions.probas[id(leaf)] = entry  # the leaf is kept, so its id is not reused
        return entry[1]

    def _leaf_errors(self, leaf: Leaf, positives, predictions) -> int | None:
        """Label errors of the leaf's prediction against ``positives`` (None if it has none)."""
        proba = self._cached_leaf_proba(leaf, predictions)
        if proba is None:
            return None
        return label_errors(proba, positives)

    def predict_scores_array(self, x: dict, encoded=None) -> np.ndarray:
        """The leaves' answers, P(label = 1) for every known label in the order of :attr:`labels`
        (the leaves reached, alternates' included, vote); ``encoded`` as in :meth:`learn_labelset`."""
        scores, cached = self._scores(x, encoded)
        return scores.copy() if cached else scores  # a cached leaf prediction must not be handed out

    def _scores(self, x: dict, encoded, ranking: bool = False) -> tuple[np.ndarray, bool]:
        """The scores of :meth:`predict_scores_array` (``ranking``: the leaves' rankings, see
        :meth:`ranking_scores`), and whether the array is a leaf's cached vector (which the
        caller must neither change nor hand out)."""
        leaves, probas, predictions = self._voting_leaves(x, encoded)
        return self._vote(leaves, self._rankings(leaves, probas, predictions) if ranking else probas)

    def _voting_leaves(self, x: dict, encoded) -> tuple[list, list, LeafPredictions | None]:
        """The leaves that vote for the record (reached, alternates' included, and answering),
        their answers and the record's cached leaf predictions (None before the tree learns)."""
        n_labels = len(self._labels)
        if self._root is None or n_labels == 0:
            return [], [], None
        idx, val = encoded if encoded is not None else self._features.encode(x, learn=False)
        predictions = self._predictions
        if predictions is None or not predictions.matches(self._n_learned, n_labels, idx, val):
            predictions = self._predictions = LeafPredictions(self._n_learned, n_labels, idx, val)
        leaves, probas = [], []
        root = self._root
        for leaf in (root,) if root.is_leaf else reached_leaves(root, x, []):
            if leaf.background and leaf.total_weight <= self.drift_window_threshold:
                continue
            proba = self._cached_leaf_proba(leaf, predictions)
            if proba is not None:
                leaves.append(leaf)
                probas.append(proba)
        return leaves, probas, predictions

    def _vote(self, leaves: list, vectors: list) -> tuple[np.ndarray, bool]:
        """The leaves' ``vectors`` weighed by their votes, and whether it is a leaf's own."""
        if not vectors:
            return np.zeros(len(self._labels)), False
        if len(vectors) == 1:
            return vectors[0], True  # one vote: its weight does not matter
        weights = [self._vote_weight(leaf) for leaf in leaves]
        total = sum(weights)
        return sum(weight * vector for weight, vector in zip(weights, vectors)) / total, False

    def _rankings(self, leaves: list, probas: list, predictions: LeafPredictions) -> list:
        """The rankings of the voting ``leaves`` whose answers are ``probas``."""
        return [self._cached_leaf_ranking(leaf, predictions, p) for leaf, p in zip(leaves, probas)]

    def _cached_leaf_ranking(self, leaf: Leaf, predictions: LeafPredictions, proba: np.ndarray) -> np.ndarray:
        rank = predictions.ranks.get(id(leaf))
        if rank is None:
            rank = predictions.ranks[id(leaf)] = leaf.policy.ranking(
                leaf, predictions.idx, predictions.val, predictions.n_labels, proba)
        return rank

    def answer_arrays(self, x: dict, encoded=None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`answer_scores` and :meth:`ranking_scores` as arrays in the order of
        :attr:`labels`, for callers that work on arrays. Either may be a leaf's cached vector:
        the caller must not change them, and must copy what it keeps past the tree's next
        learning."""
        leaves, probas, predictions = self._voting_leaves(x, encoded)
        if len(leaves) == 1:  # one vote (_vote's weights do not matter): a call or three fewer a record
            answer = probas[0]
            if self.leaf_ranking == "answer":
                return answer, answer
            return answer, self._cached_leaf_ranking(leaves[0], predictions, answer)
        answer = self._vote(leaves, probas)[0]
        if self.leaf_ranking == "answer":
            return answer, answer
        return answer, self._vote(leaves, self._rankings(leaves, probas, predictions))[0]

    def answer_scores(self, x: dict, encoded=None) -> dict:
        """The leaves' answers, P(label = 1) by name: the labels above 0.5 are the prediction."""
        return dict(zip(self._labels.names, self._scores(x, encoded)[0].tolist()))

    def ranking_scores(self, x: dict, encoded=None) -> dict:
        """P(label = 1) by name by which the leaves rank the labels: their answers, or with
        ``leaf_ranking="bagging"`` their bagged logistic regressions' probabilities where a leaf
        ranks by them (:meth:`~stream_xml.tree.leaf_policies.LeafPolicy.ranking`)."""
        return dict(zip(self._labels.names, self._scores(x, encoded, ranking=True)[0].tolist()))

    def predict_scores(self, x: dict, encoded=None) -> dict:
        """P(label = 1) for every known label, by name: the answers, or with
        ``leaf_ranking="bagging"``, where a leaf ranks by bagging, the answers' decisions ranked
        by :meth:`ranking_scores` (:func:`~stream_xml.tree.leaf_policies.ranked`)."""
        answer = self._scores(x, encoded)[0]
        if self.leaf_ranking != "answer":
            rank = self._scores(x, encoded, ranking=True)[0]
            if rank is not answer and not np.array_equal(rank, answer):  # some leaf ranks otherwise
                answer = ranked(answer > 0.5, rank)
        return dict(zip(self._labels.names, answer.tolist()))

    def predict_with_scores(self, x: dict) -> tuple[frozenset, dict]:
        """The labels with P(1) > 0.5, and P(1) for every known label."""
        scores = self.predict_scores(x)
        return frozenset(name for name, p in scores.items() if p > 0.5), scores
