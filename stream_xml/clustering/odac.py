"""ODAC-J: online divisive-agglomerative clustering of labels with the Jaccard dissimilarity.

Every label is a 0/1 time series; ODAC-J keeps a binary tree of label clusters whose active
leaves partition the labels into groups that tend to be positive together. Only the active
leaves hold statistics: per label the number of instances in which it was positive, per pair
the number in which both were, and the number of instances seen since the leaf was created.
Every ``n_min`` instances each leaf is tested, with a Hoeffding bound, for undoing its parent's
split (aggregation, the global drift signal) and for splitting around its two most dissimilar
labels.

The dissimilarity of labels ``a`` and ``b`` is ``D = 1 - n_ab / (n_a + n_b - n_ab)`` over the
leaf's lifetime (1 while neither was seen); a leaf's mean dissimilarity is taken over its pairs
(``reference_mean="observations"`` divides by the number of instances instead, as river's ODAC
does, for comparison only).

>>> from stream_xml.clustering import ODACJ
>>> model = ODACJ(n_min=60)
>>> changed = []
>>> for t in range(1, 121):
...     y = {0, 1, 2} if t % 3 == 0 else {3, 4} if t % 3 == 1 else {0, 1, 2, 3, 4}
...     if model.learn_one(y):
...         changed.append(t)
>>> changed
[60]
>>> model.partition()
[[0, 1, 2], [3, 4]]
>>> e = model.events[0]
>>> e["kind"], e["labels"], e["children"], round(e["d1"], 3)
('split', [0, 1, 2, 3, 4], [[0, 1, 2], [3, 4]], 0.667)

Labels are dense integer ids. The root starts empty; a label never seen before joins the active
leaf holding most of the labels it appears with (ties: the leaf with more instances, then the
leftmost; labels new in the same instance are placed one by one in id order and count for the
next ones), or the largest active leaf if it came alone:

>>> model.learn_one({3, 7})
False
>>> model.partition(), model.n_labels
([[0, 1, 2], [3, 4, 7]], 6)

References
----------
Rodrigues, P. P., Gama, J. and Pedroso, J. P. (2008). Hierarchical clustering of time-series
data streams. IEEE Transactions on Knowledge and Data Engineering 20(5), 615-627.

Hoeffding, W. (1963). Probability inequalities for sums of bounded random variables. Journal of
the American Statistical Association 58(301), 13-30.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import typing

import numpy as np
from stream_xml.base import CachedParams

from .odac_kernels import closer_to_first, leaf_coefficients, update_batch, update_counts
from .pair_counts import PairCounts

__all__ = ["ODACJ", "Coefficients", "NodeView", "ClusterCounts", "cluster_coefficients"]

REFERENCE_MEANS = ("pairs", "observations")


@dataclasses.dataclass(frozen=True)
class Coefficients:
    """What a check measures on a cluster.

    ``d1`` is the diameter (0 for fewer than two labels), ``d2`` the second largest and ``d0``
    the smallest pairwise dissimilarity, ``dbar`` their mean, ``eps`` the Hoeffding bound for
    ``n`` instances and ``pivots`` the pair attaining ``d1`` (smaller id first). ``d2`` is None
    with fewer than three labels, ``d0``, ``dbar`` and ``pivots`` with fewer than two.
    """

    n: float
    d1: float
    d2: float | None
    d0: float | None
    dbar: float | None
    eps: float
    pivots: tuple[int, int] | None

    @property
    def split_value(self) -> float | None:
        """``(d1 - d0) * |d1 + d0 - 2 dbar|``, the left side of the split test's second clause."""
        if self.d0 is None:
            return None
        return (self.d1 - self.d0) * abs(self.d1 + self.d0 - 2.0 * self.dbar)


@dataclasses.dataclass(frozen=True)
class NodeView:
    """A read-only snapshot of one cluster-tree node.

    ``labels`` are all labels below the node (sorted), ``born`` the instance index after which
    its statistics started (for an active leaf).
    """

    id: int
    parent: int | None
    children: tuple[int, ...]
    labels: tuple[int, ...]
    active: bool
    depth: int
    born: int


class ClusterCounts(typing.NamedTuple):
    """An active leaf's statistics in sorted label order: ``c11`` is a symmetric matrix."""

    labels: tuple[int, ...]
    c1: np.ndarray
    c11: np.ndarray
    n: float


def _hoeffding_bound(n: float, delta: float) -> float:
    if n <= 0:
        return math.inf
    return math.sqrt(math.log(1.0 / delta) / (2.0 * n))


def _coefficients(c1, c11, gids, n, delta, mean_over_observations) -> Coefficients:
    """Coefficients from a cluster's counts (``c11`` packed, ``gids`` in the same local order)."""
    eps = _hoeffding_bound(n, delta)
    m = c1.shape[0]
    if m < 2:
        return Coefficients(n, 0.0, None, None, None, eps, None)
    d1, d2, d0, total, a, b = leaf_coefficients(c1, c11, gids)
    if mean_over_observations:
        dbar = total / n if n > 0 else math.nan
    else:
        dbar = total / (m * (m - 1) // 2)
    return Coefficients(
        n,
        float(d1),
        None if d2 == -math.inf else float(d2),
        float(d0),
        float(dbar),
        eps,
        (int(gids[a]), int(gids[b])),
    )


def cluster_coefficients(
    c1, c11, n, labels=None, delta=0.9, reference_mean="pairs"
) -> Coefficients:
    """Coefficients of a cluster given its counts directly.

    ``c1[i]`` counts label ``labels[i]`` (default ``i``), the upper triangle of the square
    ``c11`` the pairs, ``n`` the instances.

    >>> import numpy as np
    >>> from stream_xml.clustering.odac import cluster_coefficients
    >>> c11 = np.array([[0, 2, 1], [2, 0, 0], [1, 0, 0]])
    >>> co = cluster_coefficients(np.array([3, 2, 2]), c11, n=4, labels=[10, 20, 30])
    >>> co.pivots, round(co.d1, 3), round(co.d2, 3), round(co.d0, 3), round(co.dbar, 3)
    ((20, 30), 1.0, 0.75, 0.333, 0.694)

    """
    if reference_mean not in REFERENCE_MEANS:
        raise ValueError(f"reference_mean must be one of {REFERENCE_MEANS}")
    c1 = np.asarray(c1, dtype=np.float64)
    m = c1.shape[0]
    gids = np.arange(m, dtype=np.int64) if labels is None else np.asarray(labels, dtype=np.int64)
    # Packed order is (i, j), i < j, by j then i: the row-major lower triangle of c11.T.
    packed = np.asarray(c11, dtype=np.float64).T[np.tril_indices(m, -1)]
    return _coefficients(c1, packed, gids, n, delta, reference_mean == "observations")


class ClusterNode:
    """A node of the cluster tree; ``labels`` is in the leaf's local order while it is active."""

    __slots__ = ("id", "parent", "children", "labels", "active", "depth", "born", "slot", "stats")

    def __init__(self, node_id: int, parent: int | None, labels: list[int], depth: int, born: int):
        self.id = node_id
        self.parent = parent
        self.children: tuple[int, ...] = ()
        self.labels = labels
        self.active = True
        self.depth = depth
        self.born = born
        self.slot = -1
        self.stats: Coefficients | None = None


def _id_array(labels) -> np.ndarray:
    if isinstance(labels, np.ndarray):
        return labels.astype(np.int64, copy=False).reshape(-1)
    return np.fromiter(labels, dtype=np.int64)  # (which rejects nested lists)


class _WaitingInstances:
    """Instances :meth:`ODACJ.learn_one` has taken but not yet added to the counts, and the
    labels registered (``known``), against which it tests an instance's labels."""

    __slots__ = ("ids", "ends", "weights", "known")

    def __init__(self):
        self.ids: list = []  # their labels, one instance after the other
        self.ends: list = []  # where each instance's labels end in ``ids``
        self.weights: list = []  # their stored weights (ODACJ._weight)
        self.known: set = set()

    def add(self, ids: list, w: float) -> None:
        self.ids.extend(ids)
        self.ends.append(len(self.ids))
        self.weights.append(w)

    def flush(self, slot_of, local_of, counts: PairCounts) -> None:
        """Add the waiting instances to ``counts`` in learning order, in one kernel call."""
        if not self.ends:
            return
        added = update_batch(np.array(self.ids, dtype=np.int64), np.array(self.ends, dtype=np.int64),
                             np.array(self.weights), slot_of, local_of, counts.off1, counts.off11, counts.c1,
                             counts.c11)  # fmt: skip
        if added != len(self.ends):  # learn_one registers every label first
            raise RuntimeError("an instance waiting for the counts holds a label that is not registered")
        self.ids.clear()
        self.ends.clear()
        self.weights.clear()


def _checked_parameters(n_min, delta, tau, reference_mean, fading) -> None:
    if int(n_min) != n_min or n_min < 1:
        raise ValueError("n_min must be a positive integer")
    if not 0.0 < delta < 1.0:
        raise ValueError("delta must be in (0, 1)")
    if not tau >= 0.0:
        raise ValueError("tau must be >= 0")
    if reference_mean not in REFERENCE_MEANS:
        raise ValueError(f"reference_mean must be one of {REFERENCE_MEANS}")
    if fading is not None and not 0.0 < fading < 1.0:
        raise ValueError("fading must be None or in (0, 1)")


def _description(node: ClusterNode, n: float, children: list) -> dict:
    """A node of :meth:`ODACJ.tree`."""
    s = node.stats
    return {
        "id": node.id,
        "labels": sorted(node.labels),
        "active": node.active,
        "n": n,
        "d1": None if s is None else s.d1,
        "eps": None if s is None or math.isinf(s.eps) else s.eps,
        "children": children,
    }


def split_fires(s: Coefficients, tau: float) -> bool:
    """Split a leaf whose two largest dissimilarities are told apart by the Hoeffding bound
    (or tied once the bound is below ``tau``) and whose split value exceeds the bound."""
    if s.d2 is None:
        return False
    confident_or_tied = s.d1 - s.d2 > s.eps or tau > s.eps
    return confident_or_tied and s.split_value > s.eps


def merge_fires(leaf: Coefficients, parent: Coefficients) -> bool:
    """Undo the parent's split when the leaf's diameter has grown past the parent's frozen
    diameter by more than either bound."""
    return leaf.d1 - parent.d1 > max(parent.eps, leaf.eps)


class ODACJ(CachedParams):
    """Online divisive-agglomerative clustering of labels with the Jaccard dissimilarity.

    Parameters
    ----------
    n_min
        Instances between two checks (all active leaves are checked at the same instance).
    delta
        The ``delta`` of the Hoeffding bound ``sqrt(ln(1/delta) / (2 n))``. The default 0.9 is
        what the reference code and river do (they pass a confidence level of 0.9 as delta);
        0.1 is the textbook reading of 90 % confidence and makes changes need more evidence.
    tau
        Tie threshold: a leaf may split on tied diameters once the bound is below ``tau``.
    single_change
        False: river's semantics, every leaf of a snapshot is tested in tree order and may
        change. True: the original ODAC, at most one change per check (split tests by
        decreasing diameter, then aggregation tests by increasing diameter).
    reference_mean
        ``"pairs"`` (mean dissimilarity over the leaf's pairs) or ``"observations"`` (the
        river/reference mean, divided by the number of instances; for comparison only).
    fading
        None, or a factor in (0, 1) by which all counts are multiplied at every instance.

    Attributes
    ----------
    t
        Instances learnt so far.
    events
        Structural changes in order, as dicts with ``t``, ``kind`` (``"split"`` or
        ``"merge"``), ``node`` (the split node, or the parent made a leaf again) and
        ``labels`` (its labels). Splits add ``children`` (the two label lists, pivot ``a``'s
        side first), ``child_nodes``, ``pivots``, ``d1`` and ``eps`` of the split check.
        Merges add ``trigger`` (the child whose diameter grew), its ``d1``, the frozen
        ``parent_d1`` and ``eps`` = the larger of the two bounds.
    """

    def __init__(
        self,
        n_min: int = 100,
        delta: float = 0.9,
        tau: float = 0.1,
        single_change: bool = False,
        reference_mean: str = "pairs",
        fading: float | None = None,
    ):
        _checked_parameters(n_min, delta, tau, reference_mean, fading)
        self.n_min = int(n_min)
        self.delta = delta
        self.tau = tau
        self.single_change = single_change
        self.reference_mean = reference_mean
        self.fading = fading

        self.t = 0
        self.events: list[dict] = []
        self._counts = PairCounts()
        self._slot_of = np.full(16, -1, dtype=np.int64)
        self._local_of = np.zeros(16, dtype=np.int64)
        self._leaf_at_slot: dict[int, int] = {}
        self._nodes: dict[int, ClusterNode] = {}
        self._next_id = 0
        self._n_labels = 0
        # Lazy fading: stored counts are true counts divided by fading ** _age.
        self._age = 0
        self._max_age = 0 if fading is None else max(1, int(150.0 / -math.log10(fading)))
        self._waiting = _WaitingInstances()
        self._root = self._new_node(None, [], 0).id
        self._leaves = [self._root]

    # -- public API -------------------------------------------------------------------------

    @property
    def n_labels(self) -> int:
        return self._n_labels

    @property
    def root(self) -> int:
        return self._root

    def memory_bytes(self) -> int:
        """Bytes of the count arrays (label and pair counts of every active cluster)."""
        return self._counts.memory_bytes() + self._slot_of.nbytes + self._local_of.nbytes

    def learn_one(self, labels) -> bool:
        """Update with the positive labels of one instance; True if the tree changed.

        A new label is placed at once; the counts take the instance when they are next read (at
        the next check, at the latest), with those learnt before it, in one kernel call: the
        same counts, at a fraction of the cost of a call per instance.
        """
        ids = labels if type(labels) is list else _id_array(labels).tolist()
        if not self._waiting.known.issuperset(ids):
            self._register(np.asarray(ids, dtype=np.int64))  # raises on a bad id before anything changed
        self._waiting.add(ids, 1.0 if self.fading is None else self._weight())
        self.t += 1
        if self.fading is not None:
            self._age += 1
        if self.t % self.n_min:
            return False
        return self._check()

    def add_label(self, label: int) -> bool:
        """Register a label before it appears; it joins the largest active leaf.

        Returns False if the label was already known.
        """
        label = int(label)
        if label < 0:
            raise ValueError(f"label ids must be >= 0, got {label}")
        if self._known(label):
            return False
        self._attach(label, self._nodes[self._largest_leaf()])
        return True

    def partition(self) -> list[list[int]]:
        """The active leaves' labels (sorted) in tree order; an empty root is left out."""
        return [sorted(self._nodes[i].labels) for i in self._leaves if self._nodes[i].labels]

    def active_leaves(self) -> list[int]:
        """Ids of the active leaves in tree order."""
        return list(self._leaves)

    def leaf_of(self, label: int) -> int:
        """Id of the active leaf holding ``label``."""
        if not self._known(label):
            raise KeyError(label)
        return self._leaf_at_slot[int(self._slot_of[label])]

    def nodes(self) -> list[NodeView]:
        """Every node of the tree, depth first, left before right."""
        return [self._view(self._nodes[i]) for i in self._preorder()]

    def node(self, node_id: int) -> NodeView:
        return self._view(self._nodes[node_id])

    def path(self, node_id: int) -> list[int]:
        """Ids from the root down to ``node_id`` (both included)."""
        out = [node_id]
        parent = self._nodes[node_id].parent
        while parent is not None:
            out.append(parent)
            parent = self._nodes[parent].parent
        return out[::-1]

    def coefficients(self, node_id: int) -> Coefficients | None:
        """Current coefficients of an active leaf, or those frozen when an internal node split."""
        self._flush()
        node = self._nodes[node_id]
        return self._measure(node) if node.active else node.stats

    def counts(self, node_id: int) -> ClusterCounts:
        """The statistics of an active leaf (faded, if fading is on), in sorted label order."""
        self._flush()
        node = self._nodes[node_id]
        if not node.active:
            raise ValueError(f"node {node_id} is not an active leaf")
        m = len(node.labels)
        scale = 1.0 if self.fading is None else self.fading**self._age
        order = np.argsort(node.labels)
        c11 = np.zeros((m, m))
        c11[np.tril_indices(m, -1)] = self._counts.c11_of(node.slot)
        c11 = (c11 + c11.T) * scale
        c1 = self._counts.c1_of(node.slot) * scale
        labels = tuple(sorted(node.labels))
        return ClusterCounts(labels, c1[order], c11[np.ix_(order, order)], self._n(node))

    def tree(self) -> dict:
        """The tree as nested JSON-serialisable dicts: id, labels, active, n, d1, eps, children."""
        return self._describe(self._nodes[self._root])

    # -- per instance -----------------------------------------------------------------------

    def _flush(self) -> None:
        """The waiting instances into the counts: before every read of the counts and every change
        of their scale or of their labels' places (checks, rescaling; a new label only adds places)."""
        self._waiting.flush(self._slot_of, self._local_of, self._counts)

    def _weight(self) -> float:
        """Stored weight of the next instance (its true weight is 1 when it arrives)."""
        if self.fading is None:
            return 1.0
        if self._age >= self._max_age:
            self._materialise()
        return self.fading ** (-(self._age + 1))

    def _materialise(self) -> None:
        self._flush()
        if self._age:
            self._counts.scale(self.fading**self._age)
            self._age = 0

    def _n(self, node: ClusterNode) -> float:
        """Instances in the leaf's lifetime (their faded weight, if fading is on)."""
        k = self.t - node.born
        if self.fading is None:
            return k
        return (1.0 - self.fading**k) / (1.0 - self.fading)

    # -- labels ---------------------------------------------------------------------------

    def _known(self, label: int) -> bool:
        return 0 <= label < self._slot_of.shape[0] and self._slot_of[label] >= 0

    def _register(self, ids: np.ndarray) -> None:
        if ids.size and ids.min() < 0:
            raise ValueError(f"label ids must be >= 0, got {int(ids.min())}")
        present = sorted(set(ids.tolist()))
        for label in present:
            if not self._known(label):
                self._attach(label, self._nodes[self._leaf_for_new(present)])

    def _leaf_for_new(self, present: list[int]) -> int:
        """The leaf holding most known labels of the instance (then larger n, then leftmost)."""
        votes: dict[int, int] = {}
        for label in present:
            if self._known(label):
                leaf = self._leaf_at_slot[int(self._slot_of[label])]
                votes[leaf] = votes.get(leaf, 0) + 1
        if not votes:
            return self._largest_leaf()
        position = {leaf: k for k, leaf in enumerate(self._leaves)}
        return max(votes, key=lambda i: (votes[i], self._n(self._nodes[i]), -position[i]))

    def _largest_leaf(self) -> int:
        """The leaf with most labels (then larger n, then leftmost)."""
        position = {leaf: k for k, leaf in enumerate(self._leaves)}
        return max(
            self._leaves,
            key=lambda i: (len(self._nodes[i].labels), self._n(self._nodes[i]), -position[i]),
        )

    def _attach(self, label: int, leaf: ClusterNode) -> None:
        if label >= self._slot_of.shape[0]:
            width = max(label + 1, 2 * self._slot_of.shape[0])
            extra = width - self._slot_of.shape[0]
            self._slot_of = np.concatenate([self._slot_of, np.full(extra, -1, dtype=np.int64)])
            self._local_of = np.concatenate([self._local_of, np.zeros(extra, dtype=np.int64)])
        self._slot_of[label] = leaf.slot
        self._local_of[label] = self._counts.append_label(leaf.slot)
        leaf.labels.append(label)
        parent = leaf.parent
        while parent is not None:
            bisect.insort(self._nodes[parent].labels, label)
            parent = self._nodes[parent].parent
        self._n_labels += 1
        self._waiting.known.add(label)

    # -- tree bookkeeping -------------------------------------------------------------------

    def _new_node(self, parent: int | None, labels: list[int], depth: int) -> ClusterNode:
        node = ClusterNode(self._next_id, parent, labels, depth, self.t)
        self._next_id += 1
        self._nodes[node.id] = node
        self._bind(node)
        return node

    def _bind(self, node: ClusterNode) -> None:
        """Give an active node zeroed statistics and point its labels at them."""
        node.slot = self._counts.allocate(len(node.labels))
        self._leaf_at_slot[node.slot] = node.id
        if node.labels:
            ids = np.asarray(node.labels, dtype=np.int64)
            self._slot_of[ids] = node.slot
            self._local_of[ids] = np.arange(ids.shape[0])

    def _unbind(self, node: ClusterNode) -> None:
        self._counts.release(node.slot)
        del self._leaf_at_slot[node.slot]
        node.slot = -1

    def _preorder(self) -> list[int]:
        out, stack = [], [self._root]
        while stack:
            i = stack.pop()
            out.append(i)
            stack.extend(reversed(self._nodes[i].children))
        return out

    def _view(self, node: ClusterNode) -> NodeView:
        return NodeView(node.id, node.parent, node.children, tuple(sorted(node.labels)), node.active, node.depth,
                        node.born)  # fmt: skip

    def _describe(self, node: ClusterNode) -> dict:
        return _description(node, self._n(node) if node.active else node.stats.n,
                            [self._describe(self._nodes[c]) for c in node.children])  # fmt: skip

    # -- checks -----------------------------------------------------------------------------

    def _measure(self, node: ClusterNode) -> Coefficients:
        # Jaccard is scale free, so lazily faded counts need no rescaling here.
        return _coefficients(
            self._counts.c1_of(node.slot),
            self._counts.c11_of(node.slot),
            np.asarray(node.labels, dtype=np.int64),
            self._n(node),
            self.delta,
            self.reference_mean == "observations",
        )

    def _check(self) -> bool:
        self._flush()
        if self.fading is not None:
            self._materialise()
        snapshot = list(self._leaves)
        if self.single_change:
            changed = self._check_single(snapshot)
        else:
            changed = self._check_each(snapshot)
        if changed:
            self._leaves = [i for i in self._preorder() if self._nodes[i].active]
        return changed

    def _check_each(self, snapshot: list[int]) -> bool:
        changed = False
        for i in snapshot:
            node = self._nodes.get(i)
            if node is None:  # discarded by an aggregation earlier in this check
                continue
            node.stats = self._measure(node)
            if self._merge_fires(node):
                self._aggregate(self._nodes[node.parent], node)
                changed = True
            elif self._split_fires(node.stats):
                self._split(node)
                changed = True
        return changed

    def _check_single(self, snapshot: list[int]) -> bool:
        leaves = [self._nodes[i] for i in snapshot]
        for node in leaves:
            node.stats = self._measure(node)
        by_diameter = sorted(range(len(leaves)), key=lambda k: (-leaves[k].stats.d1, k))
        for k in by_diameter:
            if self._split_fires(leaves[k].stats):
                self._split(leaves[k])
                return True
        for k in sorted(range(len(leaves)), key=lambda k: (leaves[k].stats.d1, k)):
            if self._merge_fires(leaves[k]):
                self._aggregate(self._nodes[leaves[k].parent], leaves[k])
                return True
        return False

    def _split_fires(self, s: Coefficients) -> bool:
        return split_fires(s, self.tau)

    def _merge_fires(self, node: ClusterNode) -> bool:
        return node.parent is not None and merge_fires(node.stats, self._nodes[node.parent].stats)

    def _split(self, node: ClusterNode) -> None:
        s = node.stats
        c1 = self._counts.c1_of(node.slot)
        c11 = self._counts.c11_of(node.slot)
        a, b = (int(self._local_of[p]) for p in s.pivots)
        side = closer_to_first(c1, c11, a, b)
        labels = np.asarray(node.labels, dtype=np.int64)
        groups = (sorted(labels[side].tolist()), sorted(labels[~side].tolist()))
        children = tuple(self._new_node(node.id, g, node.depth + 1) for g in groups)
        self._unbind(node)
        node.active = False
        node.children = tuple(c.id for c in children)
        node.labels = sorted(node.labels)
        self.events.append(
            {
                "t": self.t,
                "kind": "split",
                "node": node.id,
                "labels": list(node.labels),
                "children": [list(g) for g in groups],
                "child_nodes": list(node.children),
                "pivots": list(s.pivots),
                "d1": s.d1,
                "eps": s.eps,
            }
        )

    def _aggregate(self, parent: ClusterNode, trigger: ClusterNode) -> None:
        """Undo ``parent``'s split: it becomes an active leaf over all labels now below it."""
        stack = list(parent.children)
        while stack:
            below = self._nodes.pop(stack.pop())
            if below.active:
                self._unbind(below)
            stack.extend(below.children)
        self.events.append(
            {
                "t": self.t,
                "kind": "merge",
                "node": parent.id,
                "labels": list(parent.labels),
                "trigger": trigger.id,
                "d1": trigger.stats.d1,
                "parent_d1": parent.stats.d1,
                "eps": max(parent.stats.eps, trigger.stats.eps),
            }
        )
        parent.children = ()
        parent.active = True
        parent.born = self.t
        parent.stats = None
        self._bind(parent)
