"""How an MLHAT grows and what it is made of: split attempts, new leaves and branches, the memory
budget, the events it reports, and the walks that count its nodes.

:class:`Growth` is mixed into :class:`~stream_xml.tree.MLHAT`, whose attributes it reads (the
split parameters, ``_root``, ``_labels``, ``_features``, ``_leaf_policy``, ``_rng``, ...).

References
----------
Domingos, P. and Hulten, G. (2000). Mining high-speed data streams. Proc. KDD 2000, 71-80.

Esteban, A., Cano, A., Zafra, A. and Ventura, S. (2024). Hoeffding adaptive trees for
multi-label classification on data streams. Knowledge-Based Systems 304, 112561.

"""

from __future__ import annotations

import numpy as np

from stream_xml.tree.adaptation import ALTERNATE
from stream_xml.tree.bagging import BaggedLogisticBR
from stream_xml.tree.knn import DistanceMemo, KnnLabelCombination
from stream_xml.tree.pruned_sets import PrunedSets
from stream_xml.tree.nodes import DEACTIVATE, Branch, Leaf, iter_nodes
from stream_xml.tree.observers import NO_NOMINAL

__all__ = ["Growth", "REPORTED_TREE_EVENTS"]

#: Tree events an ensemble of trees passes on to its own report (the others are too many).
REPORTED_TREE_EVENTS = ("alternate_promoted", "drift", "memory_limit")
_MB = 1024.0 * 1024.0


class Growth:
    """Splits, new nodes, the memory budget and the measures of an MLHAT's structure."""

    def _attempt_split(self, leaf: Leaf, owner, slot) -> None:
        decision = leaf.split_decision(
            self.max_share_to_split,
            self.n_split_points,
            self.min_branch_fraction,
            self.delta,
            self.tau,
            *self._nominal_flags(),
        )
        if decision is None:
            return
        if decision is DEACTIVATE:
            leaf.deactivate()
            return
        feature, threshold = decision
        left, right = leaf.observers.post_split(feature, threshold, *self._nominal_flags())
        depth, background = leaf.depth, leaf.background
        branch = Branch(
            feature,
            self._features.names[feature],
            threshold,
            depth,
            [
                self._new_leaf(depth + 1, left, background),
                self._new_leaf(depth + 1, right, background),
            ],
            total=leaf.total_weight,
            background=background,
            detector=self._new_detector() if self.drift_detection else None,
        )
        self._replace(owner, slot, branch)
        self.n_splits += 1
        self._event("split", branch, feature=branch.name, threshold=threshold)

    def _nominal_flags(self) -> tuple:
        """``(nominal, binary)`` of the split search: the features declared nominal (unless
        ``nominal="off"``) and whether binary features are counted too (``nominal="binary"``)."""
        if self.nominal == "off":
            return NO_NOMINAL, False
        return self._features.nominal, self.nominal == "binary"

    def _replace(self, owner, slot, node) -> None:
        if owner is None:
            self._root = node
        elif slot == ALTERNATE:
            owner.alternate = node
        else:
            owner.children[slot] = node

    def _new_leaf(self, depth: int, stats, background: bool) -> Leaf:
        if stats is None:
            stats = np.zeros(len(self._labels) + 2)
        policy = self._leaf_policy
        knn = bagging = None
        if policy.uses_knn:
            if self._memo is None:
                self._memo = DistanceMemo()
            knn = KnnLabelCombination(k=self.knn_k, window=self.knn_window, memo=self._memo)
        if policy.uses_bagging:
            bagging = BaggedLogisticBR(
                n_models=self.bagging_size, lr=self.bagging_lr, seed=self._rng.getrandbits(31)
            )
        pruned_sets = PrunedSets(self.ps_sets, self.ps_buffer) if policy.uses_pruned_sets else None
        return Leaf(depth, stats, background, knn, bagging, n_features=len(self._features), policy=policy,
                    pruned_sets=pruned_sets)  # fmt: skip

    def _event(self, kind: str, node, **details) -> None:
        event = {"kind": kind, "depth": node.depth, "t": self._n_learned}
        event.update(details)
        if kind == "split":
            event["background"] = node.background
        self._events.append(event)

    def _enforce_size_limit(self) -> None:
        """Deactivate the least promising active leaves until the tree's arrays fit ``max_size``
        (as far as releasing split statistics can make them fit)."""
        excess = self.memory_bytes() - self.max_size * _MB
        if excess <= 0:
            return
        active = [n for n in iter_nodes(self._root, alternates=True) if n.is_leaf and n.active]
        active.sort(key=lambda leaf: leaf.total_weight - leaf.majority.majority_weight)
        deactivated = 0
        for leaf in active:
            if excess <= 0:
                break
            excess -= leaf.observers.nbytes
            leaf.deactivate()
            deactivated += 1
        self.n_memory_deactivations += deactivated
        self._events.append({"kind": "memory_limit", "t": self._n_learned, "deactivated": deactivated})

    def drain_events(self) -> list[dict]:
        """Structural events since the last call: splits, alternates started, promoted and
        discarded, and drifts flagged at foreground branches, each with ``kind``, ``depth`` (of
        the node concerned) and ``t`` (records learned so far); and ``memory_limit`` (with
        ``t`` and the leaves ``deactivated``) when the tree went over ``max_size``."""
        events, self._events = self._events, []
        return events

    def _foreground(self):
        return iter_nodes(self._root) if self._root is not None else iter(())

    @property
    def root(self):
        """The root node (a :class:`~stream_xml.tree.nodes.Leaf` or
        :class:`~stream_xml.tree.nodes.Branch`; None before the first record): read it, do not
        change it."""
        return self._root

    @property
    def n_learned(self) -> int:
        """Records learned so far (those with a Poisson weight of 0 included)."""
        return self._n_learned

    @property
    def n_nodes(self) -> int:
        """Nodes of the tree in use (alternate subtrees not counted)."""
        return sum(1 for _ in self._foreground())

    @property
    def n_leaves(self) -> int:
        return sum(1 for n in self._foreground() if n.is_leaf)

    @property
    def n_active_leaves(self) -> int:
        return sum(1 for n in self._foreground() if n.is_leaf and n.active)

    @property
    def depth(self) -> int:
        """Depth of the deepest leaf in use (0 for a lone root)."""
        return max((n.depth for n in self._foreground() if n.is_leaf), default=0)

    @property
    def n_alternates(self) -> int:
        """Alternate subtrees currently growing."""
        return sum(1 for n in self._foreground() if not n.is_leaf and n.alternate is not None)

    def memory_bytes(self) -> int:
        """Bytes of the numpy arrays held by every node, alternates included (roughly), and of
        the kNN distance memo unless another owner shares it."""
        if self._root is None:
            return 0
        nodes = sum(n.memory_bytes() for n in iter_nodes(self._root, alternates=True))
        own_memo = self._memo.memory_bytes() if self._memo_owned and self._memo is not None else 0
        return nodes + own_memo
