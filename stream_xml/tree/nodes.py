"""Nodes of the multi-label Hoeffding (adaptive) tree: leaves, numeric binary branches, and the
walks over them.

Routing follows the sparse convention: a record goes left iff ``x[feature] <= threshold``, an
absent feature counting as 0.

>>> import numpy as np
>>> from stream_xml.tree.nodes import Branch, Leaf, leaf_of
>>> left, right = Leaf(1, np.zeros(2)), Leaf(1, np.zeros(2))
>>> root = Branch(0, "size", 2.5, 0, [left, right], total=0.0)
>>> leaf_of(root, {"size": 3.0}) is right, leaf_of(root, {}) is left
(True, True)
>>> leaf = Leaf(0, np.zeros(2))
>>> for v, label in [(1.0, 0), (2.0, 0), (8.0, 1), (9.0, 1)] * 50:
...     _ = leaf.learn(np.array([0]), np.array([v]), np.array([label]), 1.0, 2)
>>> leaf.current_weight, leaf.stats.tolist()
(200.0, [200.0, 0.0, 100.0, 100.0])
>>> feature, threshold = leaf.split_decision(0.99, 10, 0.01, 1e-7, 0.05)
>>> feature, round(threshold, 2)
(0, 2.45)

References
----------
Domingos, P. and Hulten, G. (2000). Mining high-speed data streams. Proc. KDD 2000, 71-80.

Esteban, A., Cano, A., Zafra, A. and Ventura, S. (2024). Hoeffding adaptive trees for
multi-label classification on data streams. Knowledge-Based Systems 304, 112561.

"""

from __future__ import annotations

import numpy as np

from stream_xml.tree.entropy import hoeffding_bound, hoeffding_range, ml_entropy
from stream_xml.tree.common_kernels import label_errors
from stream_xml.tree.leaf_policies import LeafPolicy, MajorityLeaves
from stream_xml.tree.majority import MajorityLabelset
from stream_xml.tree.observer_kernels import count_labels
from stream_xml.tree.observers import NO_NOMINAL, GaussianObservers, grown_vector

__all__ = [
    "RunningMean",
    "Leaf",
    "Branch",
    "DEACTIVATE",
    "leaf_of",
    "reached_leaves",
    "iter_nodes",
    "set_background",
]

#: What :meth:`Leaf.split_decision` returns when the null split wins on the share rule.
DEACTIVATE = "deactivate"


class RunningMean:
    """Weighted running mean, the running Hamming loss of a node (:mod:`stream_xml.tree.adaptation`)."""

    __slots__ = ("mean", "weight")

    def __init__(self):
        self.mean = 0.0
        self.weight = 0.0

    def update(self, x: float, w: float = 1.0) -> None:
        self.weight += w
        self.mean += (x - self.mean) * w / self.weight

    def reset(self) -> None:
        self.mean = 0.0
        self.weight = 0.0


class Leaf:
    """A leaf: its label distribution, observers, labelset counts and leaf models.

    Parameters
    ----------
    depth
        Depth in the tree (an alternate leaf takes the depth of the branch it may replace).
    stats
        Initial label distribution ``[total, ∅, labels...]`` (the parent's estimate after a split).
    background
        True inside an alternate subtree.
    knn, bagging, pruned_sets
        The learned leaf models, or None when the leaf's policy does not use them.
    n_features
        Initial number of observer rows.
    policy
        How the leaf answers and learns (:mod:`stream_xml.tree.leaf_policies`; the tree's, shared
        by all its leaves), by default its majority labelset.

    """

    is_leaf = True
    pruned_sets = None  # leaves pickled before pruned sets existed have none
    #: faded label errors of knn, bagging, majority, naive Bayes (a loss switch ``with_nb``)
    label_error_counts = None
    #: naive Bayes adaptive per label (a loss switch ``with_nb``; :mod:`stream_xml.tree.label_fallback`)
    nb_fallback = None
    #: naive Bayes' additions to the answer of kNN, bagging or the majority labelset (idem)
    nb_additions = None

    def __init__(self, depth, stats, background=False, knn=None, bagging=None, n_features=0,
                 policy: LeafPolicy | None = None, pruned_sets=None):  # fmt: skip
        self.depth = depth
        self.stats = stats
        self.background = background
        self.current_weight = 0.0
        self.last_split_attempt_at = 0.0
        self.observers: GaussianObservers | None = GaussianObservers(n_features, stats.shape[0])
        self.majority = MajorityLabelset()
        self.knn = knn
        self.bagging = bagging
        self.pruned_sets = pruned_sets
        self.loss = RunningMean()
        # faded exact-match errors of knn, bagging, majority (loss switch)
        self.model_errors = [0.0, 0.0, 0.0]
        self.policy = policy if policy is not None else MajorityLeaves()

    @property
    def active(self) -> bool:
        """False once the leaf stopped growing; its observers are then released."""
        return self.observers is not None

    @property
    def total_weight(self) -> float:
        return float(self.stats[0])

    def deactivate(self) -> None:
        self.observers = None
        self.nb_fallback = self.nb_additions = None  # naive Bayes needs the observers

    def learn(self, idx, val, positives, w, n_labels, score_knn=False, score_bagging=False, also=None) -> tuple:
        """Statistics, observers (if active) and leaf models; the learned models get weight 1.

        Returns the label errors on this record, before learning it, of the kNN model if
        ``score_knn`` and of the bagging if ``score_bagging`` (else None): each model is scored
        and learns in one call. The third value is the label errors of ``also``, another
        prediction for this record (None if not given), counted by one of those calls.
        """
        self.current_weight += w
        if self.observers is not None:
            self.stats = self.observers.update(self.stats, idx, val, positives, w)
        else:
            needed = count_labels(self.stats, positives, w)
            if needed:
                self.stats = grown_vector(self.stats, needed)
                count_labels(self.stats, positives, w)
        self.majority.learn(positives, w)
        knn_wrong = bagging_wrong = also_wrong = None
        if self.knn is not None:
            if score_knn:
                knn_wrong, also_wrong = self.knn.score_and_learn(idx, val, positives, n_labels, also)
                also = None  # counted
            else:
                self.knn.learn(idx, val, positives)
        if self.bagging is not None:
            if score_bagging:
                bagging_wrong, counted = self.bagging.score_and_learn(idx, val, positives, n_labels, also)
                if also is not None:
                    also_wrong, also = counted, None
            else:
                self.bagging.learn(idx, val, positives, n_labels)
        if also is not None:  # no model was scored to count it along
            also_wrong = label_errors(also, positives)
        return knn_wrong, bagging_wrong, also_wrong

    def split_decision(self, max_share_to_split, n_split_points, min_branch_fraction, delta, tau,
                       nominal=NO_NOMINAL, binary=False):  # fmt: skip
        """A split attempt: ``(feature, threshold)``, :data:`DEACTIVATE` or None. ``nominal`` and
        ``binary`` say which features are judged by counts (:meth:`GaussianObservers.best_splits`).

        None when the leaf has seen at most one labelset, when no feature has a finite merit
        (neither split nor deactivate), or when the Hoeffding test is not passed.
        """
        if self.majority.n_labelsets <= 1:
            return None
        total = self.stats[0]
        if total > 0.0 and self.stats[1:].max() / total > max_share_to_split:
            return DEACTIVATE
        merit, threshold = self.observers.best_splits(
            ml_entropy(self.stats), n_split_points, min_branch_fraction, nominal, binary
        )
        if merit.shape[0] == 0:
            return None
        best = int(np.argmax(merit))  # lowest column on ties
        best_merit = merit[best]
        if best_merit == -np.inf:
            return None
        merit[best] = -np.inf
        second_merit = merit.max()  # -inf (the null split) when no other feature competes
        bound = hoeffding_bound(
            hoeffding_range(self.majority.n_labelsets), delta, self.current_weight
        )
        if best_merit - second_merit > bound or bound < tau:
            return best, float(threshold[best])
        return None

    def memory_bytes(self) -> int:
        n = self.stats.nbytes + self.majority.memory_bytes()
        if self.observers is not None:
            n += self.observers.nbytes
        for per_label in (self.nb_fallback, self.nb_additions):
            if per_label is not None:
                n += per_label.nbytes
        for model in (self.knn, self.bagging, self.pruned_sets):
            if model is not None:
                n += model.memory_bytes()
        return n


class Branch:
    """A numeric binary branch ``x[name] <= threshold`` with its drift-monitoring state.

    ``feature`` is the tree's column id of ``name``; ``total`` the weight seen (the splitting
    leaf's total, then every record routed through). ``loss``, ``post_drift_weight`` and
    ``detector`` serve the drift adaptation (:mod:`stream_xml.tree.adaptation`); ``alternate`` holds the subtree grown in the background.
    """

    is_leaf = False

    def __init__(self, feature, name, threshold, depth, children, total, background=False,
                 detector=None):  # fmt: skip
        self.feature = feature
        self.name = name
        self.threshold = threshold
        self.depth = depth
        self.children = children
        self.total = total
        self.background = background
        self.detector = detector
        self.loss = RunningMean()
        self.post_drift_weight = 0.0
        self.alternate: Leaf | Branch | None = None

    @property
    def total_weight(self) -> float:
        return self.total

    def route(self, x: dict) -> int:
        """0 (left) iff ``x[name] <= threshold``, absent = 0; else 1."""
        return 0 if float(x.get(self.name, 0.0)) <= self.threshold else 1

    def memory_bytes(self) -> int:
        detector = self.detector
        if detector is None or not hasattr(detector, "__dict__"):
            return 0
        return sum(v.nbytes for v in vars(detector).values() if isinstance(v, np.ndarray))


def leaf_of(node, x: dict):
    """The leaf ``x`` reaches from ``node`` along the main (non-alternate) children."""
    while not node.is_leaf:
        node = node.children[node.route(x)]
    return node


def reached_leaves(node, x: dict, out: list) -> list:
    """Append to ``out`` the leaves ``x`` reaches in alternate subtrees met on its path from
    ``node`` (recursively), then the leaf of the path itself; return ``out``."""
    while not node.is_leaf:
        if node.alternate is not None:
            reached_leaves(node.alternate, x, out)
        node = node.children[node.route(x)]
    out.append(node)
    return out


def iter_nodes(node, alternates: bool = False):
    """Every node of the subtree under ``node``, alternate subtrees included if asked."""
    stack = [node]
    while stack:
        node = stack.pop()
        yield node
        if not node.is_leaf:
            stack.extend(node.children)
            if alternates and node.alternate is not None:
                stack.append(node.alternate)


def set_background(node, background: bool) -> None:
    """Mark a whole subtree as background (alternate) or foreground."""
    for n in iter_nodes(node, alternates=True):
        n.background = background
