"""The online label tree: node arrays, insertion of new labels, and restructuring from co-occurrence.

The tree is grown from the label stream (iHOMER's idea: labels that occur together sit
together) as a B-tree of labels: every leaf is one label, every leaf sits at the same depth
(``height``), and no node has more than ``arity`` children, so the depth is at most
``log_{arity/2}(L) + 1``.

* **A new label** joins the leaf-parent ("cluster") holding the most of the record's known labels
  (ties: the cluster of the rarest such label, the most specific one). A record whose labels are
  all new sends them down the tree along the children its features score highest, as OPLT's
  top-down policy does (Jasinska-Kobus et al., AISTATS 2021).
* **A node over the arity splits** in two by size-bounded 2-means over the co-occurrence affinity of
  its children (Jaccard between labels; between subtrees, the Jaccard of their pooled
  co-occurrence counts from the sparse rows: O(labels below x m), not O(labels^2)). The half
  with the larger history keeps the node's weights; the other half gets a new node warm-started
  with the node's bias. A root that splits gets a new root above it.
* **A label moves** to the cluster holding the largest share of its co-occurrences when that
  share beats its own cluster's by more than the Hoeffding bound
  ``sqrt(ln(1/delta) / (2 n))`` over its ``n`` co-occurrences. A cluster left with fewer than
  ``arity / 4`` labels merges into the sibling it shares most co-occurrences with, if the
  union fits.

Nodes keep their identity in the weight arena (``GROUP``, ``LANE``) through every move and split,
so restructuring keeps the weights of every node that stays.

>>> import numpy as np
>>> from stream_xml.labeltree.tree import LabelTree
>>> tree = LabelTree(arity=4)
>>> tree.height, tree.n_leaves
(1, 0)

The estimator grows the tree; :mod:`stream_xml.labeltree.estimator` has the examples.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from stream_xml.labeltree.arena import dot_members
from stream_xml.labeltree.layout import (
    BIAS,
    BIAS_G2,
    EV_DEPTH,
    EV_KIND,
    EV_NODE,
    EV_SIZE,
    EVENT_MERGE,
    EVENT_MOVE,
    EVENT_NEW_ROOT,
    EVENT_SPLIT,
    GROUP,
    HEIGHT,
    HOME,
    LABEL,
    LANE,
    LOGIT,
    MONITOR,
    MOVED,
    DIRTY,
    N_CHILDREN,
    N_DIRTY,
    N_EVENTS,
    N_FLOAT,
    N_GROUPS,
    N_INT,
    N_MERGES,
    N_MOVES,
    N_NODES,
    N_POS,
    N_SPLITS,
    N_STATE,
    OP_STAMP,
    PARENT,
    POS_STAMP,
    ROOT,
    STAMP,
    Z_STAMP,
)

__all__ = ["LabelTree"]

DEAD = -2  # PARENT of a node removed from the tree

# where new labels go (``placement``)
BY_COOCCURRENCE = 0  # beside the record's known labels, else down the record's best path
BY_FEATURES = 1  # down the record's best path
BY_ORDER = 2  # into the last cluster, and nodes split by position (no statistics: VW's tree)
PLACEMENTS = {"cooccurrence": BY_COOCCURRENCE, "features": BY_FEATURES, "order": BY_ORDER}


# -- small structural operations -------------------------------------------------------------------

@numba.njit(cache=True)
def emit(events, state, kind, node, depth, size):
    """Record an event; past the buffer's end it is only counted (``state[N_EVENTS]``)."""
    e = state[N_EVENTS]
    if e < events.shape[0]:
        events[e, EV_KIND] = kind
        events[e, EV_NODE] = node
        events[e, EV_DEPTH] = depth
        events[e, EV_SIZE] = size
    state[N_EVENTS] = e + 1


@numba.njit(cache=True)
def node_depth(nodes, v):
    d = 0
    while nodes[v, PARENT] >= 0:
        v = nodes[v, PARENT]
        d += 1
    return d


@numba.njit(cache=True)
def new_group(state, lane_used):
    g = state[N_GROUPS]
    state[N_GROUPS] = g + 1
    lane_used[g] = 0
    return g


@numba.njit(cache=True)
def take_lane(nodes, state, lane_used, home_of, lanes):
    """A fresh (group, lane) for a new child of ``home_of``: the next free lane of its home
    group, or lane 0 of a new home group. A lane is never given twice, so a new node never
    inherits another node's weights."""
    g = nodes[home_of, HOME]
    full = (1 << lanes) - 1
    if g < 0 or lane_used[g] == full:
        g = new_group(state, lane_used)
        nodes[home_of, HOME] = g
    used = lane_used[g]
    lane = 0
    while (used >> lane) & 1:
        lane += 1
    lane_used[g] = used | (1 << lane)
    return g, lane


@numba.njit(cache=True)
def new_node(nodes, values, state, label, group, lane, bias):
    v = state[N_NODES]
    state[N_NODES] = v + 1
    nodes[v, PARENT] = -1
    nodes[v, N_CHILDREN] = 0
    nodes[v, LABEL] = label
    nodes[v, GROUP] = group
    nodes[v, LANE] = lane
    nodes[v, HOME] = -1
    nodes[v, Z_STAMP] = -1
    nodes[v, POS_STAMP] = -1
    nodes[v, MONITOR] = -1
    nodes[v, N_POS] = 0
    values[v, BIAS] = bias
    values[v, BIAS_G2] = 0.0
    values[v, LOGIT] = 0.0
    return v


@numba.njit(cache=True)
def attach(nodes, children, v, c):
    n = nodes[v, N_CHILDREN]
    children[v, n] = c
    nodes[v, N_CHILDREN] = n + 1
    nodes[c, PARENT] = v


@numba.njit(cache=True)
def detach(nodes, children, c):
    v = nodes[c, PARENT]
    n = nodes[v, N_CHILDREN]
    i = 0
    while children[v, i] != c:
        i += 1
    for j in range(i, n - 1):
        children[v, j] = children[v, j + 1]
    nodes[v, N_CHILDREN] = n - 1
    nodes[c, PARENT] = -1


# -- co-occurrence between the children of a node --------------------------------------------------

@numba.njit(cache=True)
def child_affinity(tree, co, scratch, v):
    """Jaccard affinity between the subtrees of ``v``'s children from the sparse co-occurrence
    rows of the labels below them (``affinity[i, k]``), and each child's label mass (the sum of
    its labels' counts); O(labels below v x m)."""
    nodes, values, children, label_leaf, lane_used, state, events = tree
    partners, counts, errors, occurrences = co
    label_tag, label_mark, stack, lab_buf, lab_kid, affinity, mass = scratch
    n = nodes[v, N_CHILDREN]
    op = state[OP_STAMP] + 1
    state[OP_STAMP] = op
    total = 0
    for i in range(n):
        mass[i] = 0.0
        stack[0] = children[v, i]
        top = 1
        while top > 0:
            top -= 1
            u = stack[top]
            lab = nodes[u, LABEL]
            if lab >= 0:
                label_tag[lab] = i
                label_mark[lab] = op
                lab_buf[total] = lab
                lab_kid[total] = i
                total += 1
                mass[i] += occurrences[lab]
            else:
                for j in range(nodes[u, N_CHILDREN]):
                    stack[top] = children[u, j]
                    top += 1
    for i in range(n):
        for k in range(n):
            affinity[i, k] = 0.0
    for t in range(total):
        a = lab_buf[t]
        i = lab_kid[t]
        for s in range(partners.shape[1]):
            b = partners[a, s]
            if b < 0 or label_mark[b] != op:
                continue
            k = label_tag[b]
            if k != i:
                affinity[i, k] += counts[a, s] - errors[a, s]
    for i in range(n):
        affinity[i, i] = 1.0
        for k in range(i + 1, n):
            c = 0.5 * (affinity[i, k] + affinity[k, i])
            union = mass[i] + mass[k] - c
            j = c / union if c > 0.0 and union > 0.0 else 0.0
            affinity[i, k] = j
            affinity[k, i] = j


@numba.njit(cache=True)
def _cut(pref, order, n, low):
    """How many of the items ranked by ``order`` go to side 0: those preferring it, but at
    least ``low`` and at most ``n - low``."""
    cut = 0
    while cut < n and pref[order[cut]] > 0.0:
        cut += 1
    if cut < low:
        return low
    return n - low if cut > n - low else cut


@numba.njit(cache=True)
def bipartition(affinity, n, side):
    """2-means over an affinity matrix, with both sides at least ``max(2, (n + 1) // 3)``
    items: seeds are the least affine pair, then items are ranked by (mean affinity to side 0)
    - (mean affinity to side 1) and the cut goes where the preference changes sign (within the
    size limits), three rounds at most. Ties keep the index order: the result is deterministic."""
    best = np.inf
    pa, pb = 0, 1
    for i in range(n):
        for k in range(i + 1, n):
            if affinity[i, k] < best:
                best = affinity[i, k]
                pa, pb = i, k
    low = max(2, (n + 1) // 3)
    pref = np.empty(n)
    for i in range(n):
        pref[i] = affinity[i, pa] - affinity[i, pb]
    pref[pa] = np.inf
    pref[pb] = -np.inf
    order = np.argsort(-pref, kind="mergesort")
    cut = _cut(pref, order, n, low)
    for r in range(n):
        side[order[r]] = 0 if r < cut else 1
    for _ in range(3):
        for i in range(n):
            s0 = 0.0
            s1 = 0.0
            n0 = 0
            n1 = 0
            for k in range(n):
                if k == i:
                    continue
                if side[k] == 0:
                    s0 += affinity[i, k]
                    n0 += 1
                else:
                    s1 += affinity[i, k]
                    n1 += 1
            pref[i] = (s0 / n0 if n0 else 0.0) - (s1 / n1 if n1 else 0.0)
        order = np.argsort(-pref, kind="mergesort")
        cut = _cut(pref, order, n, low)
        changed = False
        for r in range(n):
            s = 0 if r < cut else 1
            if side[order[r]] != s:
                side[order[r]] = s
                changed = True
        if not changed:
            break


@numba.njit(cache=True)
def split_node(tree, co, scratch, v, lanes, placement):
    """Split ``v`` (over the arity) in two by :func:`bipartition` (by position under
    ``BY_ORDER``); returns its parent, which has one more child (a new root if ``v`` was the
    root)."""
    nodes, values, children, label_leaf, lane_used, state, events = tree
    affinity, mass = scratch[5], scratch[6]
    n = nodes[v, N_CHILDREN]
    child_affinity(tree, co, scratch, v)
    side = np.empty(n, dtype=np.int64)
    if placement == BY_ORDER:
        for i in range(n):
            side[i] = 0 if i < (n + 1) // 2 else 1
    else:
        bipartition(affinity, n, side)
    history = np.zeros(2)
    for i in range(n):
        history[side[i]] += nodes[children[v, i], N_POS] + mass[i]
    moving = 1 if history[0] >= history[1] or placement == BY_ORDER else 0  # the half with less history leaves v
    depth = node_depth(nodes, v)
    p = nodes[v, PARENT]
    if p < 0:
        g = new_group(state, lane_used)
        lane_used[g] = 1
        p = new_node(nodes, values, state, -1, g, 0, values[v, BIAS])
        nodes[p, N_POS] = nodes[v, N_POS]
        attach(nodes, children, p, v)
        state[ROOT] = p
        state[HEIGHT] += 1
        emit(events, state, EVENT_NEW_ROOT, p, 0, 2)
        depth += 1
    g, lane = take_lane(nodes, state, lane_used, p, lanes)
    v2 = new_node(nodes, values, state, -1, g, lane, values[v, BIAS])
    kept = 0
    for i in range(n):
        c = children[v, i]
        if side[i] == moving:
            attach(nodes, children, v2, c)
            nodes[v2, N_POS] += nodes[c, N_POS]
        else:
            children[v, kept] = c
            kept += 1
    nodes[v, N_CHILDREN] = kept
    nodes[v2, N_POS] = min(nodes[v2, N_POS], nodes[v, N_POS])
    attach(nodes, children, p, v2)
    state[N_SPLITS] += 1
    emit(events, state, EVENT_SPLIT, v, depth, n)
    return p


@numba.njit(cache=True)
def fix_overflow(tree, co, scratch, v, arity, lanes, placement):
    nodes = tree[0]
    while nodes[v, N_CHILDREN] > arity:
        v = split_node(tree, co, scratch, v, lanes, placement)


@numba.njit(cache=True)
def remove_if_empty(tree, v):
    """Remove ``v`` and its ancestors while they are empty; then, while the root has a single
    internal child, that child becomes the root (the tree is one level shallower)."""
    nodes, values, children, label_leaf, lane_used, state, events = tree
    while nodes[v, PARENT] >= 0 and nodes[v, N_CHILDREN] == 0 and nodes[v, LABEL] < 0:
        p = nodes[v, PARENT]
        detach(nodes, children, v)
        nodes[v, PARENT] = DEAD
        v = p
    root = state[ROOT]
    while nodes[root, N_CHILDREN] == 1 and nodes[children[root, 0], LABEL] < 0:
        child = children[root, 0]
        detach(nodes, children, child)
        nodes[root, PARENT] = DEAD
        nodes[root, N_CHILDREN] = 0
        root = child
        state[ROOT] = root
        state[HEIGHT] -= 1


# -- placing a new label ---------------------------------------------------------------------------

@numba.njit(cache=True)
def route_by_features(tree, arena, x, v, height):
    """The cluster (a node at depth ``height - 1``) reached from ``v`` by following, at every
    level, the child whose classifier scores the record highest (cached logits reused)."""
    nodes, values, children, label_leaf, lane_used, state, events = tree
    weights, sums, salt, shift, lane_bits, n_features, groups, lanes_of, out = arena
    idx, val = x
    stamp = state[STAMP]
    depth = node_depth(nodes, v)
    while depth < height - 1:
        n = nodes[v, N_CHILDREN]
        cached = True
        for j in range(n):
            c = children[v, j]
            groups[j] = nodes[c, GROUP]
            lanes_of[j] = nodes[c, LANE]
            if nodes[c, Z_STAMP] != stamp:
                cached = False
        if not cached:
            dot_members(groups, lanes_of, n, idx, val, n_features, weights, salt, shift, lane_bits, out)
        best = -np.inf
        chosen = children[v, 0]
        for j in range(n):
            c = children[v, j]
            z = values[c, LOGIT] if cached else out[j] + values[c, BIAS]
            if z > best:
                best = z
                chosen = c
        v = chosen
        depth += 1
    return v


@numba.njit(cache=True)
def cluster_for(tree, co, labels, new_label):
    """The cluster of the record's placed labels that holds most of them (ties: the one holding
    the rarest); -1 if none of ``labels`` other than ``new_label`` has a leaf yet."""
    nodes, values, children, label_leaf, lane_used, state, events = tree
    occurrences = co[3]
    best = -1
    best_count = 0
    best_rarity = np.inf
    for i in range(labels.shape[0]):
        a = labels[i]
        if a == new_label or label_leaf[a] < 0:
            continue
        c = nodes[label_leaf[a], PARENT]
        count = 0
        rarity = np.inf
        for k in range(labels.shape[0]):
            b = labels[k]
            if b != new_label and label_leaf[b] >= 0 and nodes[label_leaf[b], PARENT] == c:
                count += 1
                if occurrences[b] < rarity:
                    rarity = occurrences[b]
        if count > best_count or (count == best_count and rarity < best_rarity):
            best, best_count, best_rarity = c, count, rarity
    return best


@numba.njit(cache=True)
def insert_label(tree, co, scratch, arena, x, labels, label, arity, lanes, placement):
    """Give ``label`` a leaf: in the cluster of its co-occurring labels in this record, else
    in the cluster the record's features lead to (or as ``placement`` says); then split
    whatever overflows. Returns True if the label was placed beside co-occurring labels."""
    nodes, values, children, label_leaf, lane_used, state, events = tree
    beside = False
    if placement == BY_ORDER:
        cluster = state[ROOT]
        while nodes[cluster, N_CHILDREN] > 0 and nodes[children[cluster, 0], LABEL] < 0:
            cluster = children[cluster, nodes[cluster, N_CHILDREN] - 1]
    else:
        cluster = cluster_for(tree, co, labels, label) if placement == BY_COOCCURRENCE else -1
        beside = cluster >= 0
        if cluster < 0:
            cluster = route_by_features(tree, arena, x, state[ROOT], state[HEIGHT])
    g, lane = take_lane(nodes, state, lane_used, cluster, lanes)
    # a new label's prior inside its cluster: about one among the cluster's labels
    prior = 1.0 / (nodes[cluster, N_CHILDREN] + 2.0)
    leaf = new_node(nodes, values, state, label, g, lane, math.log(prior / (1.0 - prior)))
    attach(nodes, children, cluster, leaf)
    label_leaf[label] = leaf
    fix_overflow(tree, co, scratch, cluster, arity, lanes, placement)
    return beside


# -- restructuring from co-occurrence --------------------------------------------------------------

@numba.njit(cache=True)
def best_cluster(tree, co, a, clusters, shares):
    """(share of ``a``'s co-occurrences in its own cluster, best other cluster, its share, total
    co-occurrences of ``a`` with placed labels)."""
    nodes, values, children, label_leaf, lane_used, state, events = tree
    partners, counts, errors, occurrences = co
    own = nodes[label_leaf[a], PARENT]
    n = 0
    total = 0.0
    for s in range(partners.shape[1]):
        b = partners[a, s]
        if b < 0 or label_leaf[b] < 0:
            continue
        c = counts[a, s] - errors[a, s]
        if c <= 0.0:
            continue
        c = c / (occurrences[a] + occurrences[b] - c)  # Jaccard: popular partners weigh less
        cluster = nodes[label_leaf[b], PARENT]
        total += c
        k = 0
        while k < n and clusters[k] != cluster:
            k += 1
        if k == n:
            clusters[n] = cluster
            shares[n] = 0.0
            n += 1
        shares[k] += c
    own_share = 0.0
    best = -1
    best_share = 0.0
    for k in range(n):
        if clusters[k] == own:
            own_share = shares[k]
        elif shares[k] > best_share:
            best, best_share = clusters[k], shares[k]
    if total > 0.0:
        own_share /= total
        best_share /= total
    return own_share, best, best_share, total


@numba.njit(cache=True)
def merge_if_underfilled(tree, co, scratch, cluster, arity, min_fill):
    """Merge a cluster with fewer than ``min_fill`` labels into the sibling it shares the most
    co-occurrence with, if their union fits in the arity."""
    nodes, values, children, label_leaf, lane_used, state, events = tree
    n = nodes[cluster, N_CHILDREN]
    p = nodes[cluster, PARENT]
    if n == 0 or n >= min_fill or p < 0 or nodes[p, N_CHILDREN] < 2:
        return
    child_affinity(tree, co, scratch, p)
    affinity = scratch[5]
    i = 0
    while children[p, i] != cluster:
        i += 1
    best = -1
    best_aff = -1.0
    for k in range(nodes[p, N_CHILDREN]):
        s = children[p, k]
        if s == cluster or nodes[s, N_CHILDREN] + n > arity:
            continue
        if affinity[i, k] > best_aff:
            best, best_aff = s, affinity[i, k]
    if best < 0:
        return
    while nodes[cluster, N_CHILDREN] > 0:
        c = children[cluster, 0]
        detach(nodes, children, c)
        attach(nodes, children, best, c)
    state[N_MERGES] += 1
    emit(events, state, EVENT_MERGE, best, node_depth(nodes, best), nodes[best, N_CHILDREN])
    remove_if_empty(tree, cluster)


@numba.njit(cache=True)
def restructure(tree, co, scratch, dirty, label_flags, arity, lanes, min_count, delta, max_moves, placement):
    """One pass over the labels with new co-occurrences: move each to the cluster holding the
    largest share of its co-occurrences when the gain passes the Hoeffding bound; merge the
    clusters this leaves under-filled. Returns the number of moves."""
    nodes, values, children, label_leaf, lane_used, state, events = tree
    m = co[0].shape[1]
    clusters = np.empty(m, dtype=np.int64)
    shares = np.empty(m)
    log_term = math.log(1.0 / delta)
    moves = 0
    min_fill = max(2, arity // 4)
    for t in range(state[N_DIRTY]):
        a = dirty[t]
        label_flags[a, DIRTY] = 0
        if moves >= max_moves or label_leaf[a] < 0 or label_flags[a, MOVED] >= 1:
            continue
        own_share, target, share, total = best_cluster(tree, co, a, clusters, shares)
        n = co[3][a]  # records carrying a: the pairs of one record are not independent
        if target < 0 or n < min_count:
            continue
        if share - own_share <= math.sqrt(log_term / (2.0 * n)):
            continue
        leaf = label_leaf[a]
        old = nodes[leaf, PARENT]
        detach(nodes, children, leaf)
        attach(nodes, children, target, leaf)
        moves += 1
        label_flags[a, MOVED] += 1
        state[N_MOVES] += 1
        emit(events, state, EVENT_MOVE, leaf, state[HEIGHT], nodes[target, N_CHILDREN])
        if nodes[old, N_CHILDREN] == 0:
            remove_if_empty(tree, old)
        else:
            merge_if_underfilled(tree, co, scratch, old, arity, min_fill)
        fix_overflow(tree, co, scratch, target, arity, lanes, placement)
    state[N_DIRTY] = 0
    return moves


# -- the class that owns the arrays ----------------------------------------------------------------

class LabelTree:
    """The arrays of the label tree (see :mod:`stream_xml.labeltree.layout`), grown by doubling.

    Parameters
    ----------
    arity
        Most children of a node (3 to 32).

    """

    def __init__(self, arity: int = 16):
        if not 3 <= arity <= 32:
            raise ValueError(f"arity must be in [3, 32], got {arity!r}")
        self.arity = int(arity)
        self.lanes = 1 << (self.arity - 1).bit_length()
        self.nodes = np.zeros((0, N_INT), dtype=np.int64)
        self.values = np.zeros((0, N_FLOAT))
        self.children = np.zeros((0, self.arity + 1), dtype=np.int64)
        self.lane_used = np.zeros(0, dtype=np.int64)
        self.label_leaf = np.zeros(0, dtype=np.int64)
        self.state = np.zeros(N_STATE, dtype=np.int64)
        self.events = np.zeros((1024, 4), dtype=np.int64)
        # scratch of the structural kernels
        self.label_tag = np.zeros(0, dtype=np.int64)
        self.label_mark = np.zeros(0, dtype=np.int64)
        self.lab_buf = np.zeros(0, dtype=np.int64)
        self.lab_kid = np.zeros(0, dtype=np.int64)
        self.stack = np.zeros(0, dtype=np.int64)
        self.affinity = np.zeros((self.arity + 1, self.arity + 1))
        self.mass = np.zeros(self.arity + 1)
        self.reserve_nodes(16)
        root_group = new_group(self.state, self.lane_used)
        self.lane_used[root_group] = 1
        root = new_node(self.nodes, self.values, self.state, -1, root_group, 0, 0.0)
        self.state[ROOT] = root
        self.state[HEIGHT] = 1

    # -- capacity -------------------------------------------------------------------------------
    @staticmethod
    def _grown(array: np.ndarray, size: int, fill=0) -> np.ndarray:
        out = np.full((size,) + array.shape[1:], fill, dtype=array.dtype)
        out[: array.shape[0]] = array
        return out

    def reserve_nodes(self, n_more: int) -> None:
        """Room for ``n_more`` new nodes and as many new groups."""
        need = int(self.state[N_NODES]) + n_more
        if need > self.nodes.shape[0]:
            size = max(need, 2 * self.nodes.shape[0])
            self.nodes = self._grown(self.nodes, size)
            self.values = self._grown(self.values, size)
            self.children = self._grown(self.children, size)
            self.stack = np.zeros(size, dtype=np.int64)
        need_groups = int(self.state[N_GROUPS]) + n_more
        if need_groups > self.lane_used.shape[0]:
            self.lane_used = self._grown(self.lane_used, max(need_groups, 2 * self.lane_used.shape[0]))

    def reserve_labels(self, n_labels: int) -> None:
        have = self.label_leaf.shape[0]
        if n_labels <= have:
            return
        size = max(n_labels, 2 * have, 16)
        self.label_leaf = self._grown(self.label_leaf, size, fill=-1)
        self.label_tag = self._grown(self.label_tag, size)
        self.label_mark = self._grown(self.label_mark, size)
        self.lab_buf = np.zeros(size, dtype=np.int64)
        self.lab_kid = np.zeros(size, dtype=np.int64)

    # -- the bundles the kernels take ---------------------------------------------------------------
    def arrays(self) -> tuple:
        return (self.nodes, self.values, self.children, self.label_leaf, self.lane_used, self.state, self.events)

    def scratch(self) -> tuple:
        return (self.label_tag, self.label_mark, self.stack, self.lab_buf, self.lab_kid, self.affinity, self.mass)

    # -- introspection --------------------------------------------------------------------------
    @property
    def root(self) -> int:
        return int(self.state[ROOT])

    @property
    def height(self) -> int:
        return int(self.state[HEIGHT])

    @property
    def n_leaves(self) -> int:
        return int(np.count_nonzero(self.label_leaf >= 0))

    def children_of(self, v: int) -> list[int]:
        return self.children[v, : self.nodes[v, N_CHILDREN]].tolist()

    def labels_under(self, v: int) -> list[int]:
        """Label ids of the leaves below ``v``, left to right."""
        out, todo = [], [v]
        while todo:
            u = todo.pop()
            if self.nodes[u, LABEL] >= 0:
                out.append(int(self.nodes[u, LABEL]))
            else:
                todo.extend(reversed(self.children_of(u)))
        return out

    def path(self, label: int) -> list[int]:
        """Nodes from the root to ``label``'s leaf."""
        v = int(self.label_leaf[label])
        out = []
        while v >= 0:
            out.append(v)
            v = int(self.nodes[v, PARENT])
        return out[::-1]

    def clusters(self) -> list[list[int]]:
        """The label ids of every leaf-parent, left to right."""
        out, todo = [], [self.root]
        height = self.height
        depth_of = {self.root: 0}
        while todo:
            u = todo.pop(0)
            if depth_of[u] == height - 1:
                out.append([int(self.nodes[c, LABEL]) for c in self.children_of(u)])
                continue
            for c in self.children_of(u):
                depth_of[c] = depth_of[u] + 1
                todo.append(c)
        return out

    def check(self) -> None:
        """Raise AssertionError unless the structure is consistent: parent links, every leaf at
        depth ``height``, arity respected, label <-> leaf maps inverse of each other."""
        root, height = self.root, self.height
        assert self.nodes[root, PARENT] == -1
        seen_labels = set()
        todo = [(root, 0)]
        while todo:
            v, d = todo.pop()
            n = int(self.nodes[v, N_CHILDREN])
            assert n <= self.arity, f"node {v} has {n} children"
            label = int(self.nodes[v, LABEL])
            if label >= 0:
                assert d == height, f"leaf {v} at depth {d}, height {height}"
                assert self.label_leaf[label] == v
                seen_labels.add(label)
                continue
            assert v == root or n > 0, f"empty internal node {v}"
            assert d < height
            for c in self.children_of(v):
                assert self.nodes[c, PARENT] == v
                todo.append((c, d + 1))
        placed = {int(i) for i in np.flatnonzero(self.label_leaf >= 0)}
        assert placed == seen_labels, "label_leaf and the leaves disagree"

    def memory_bytes(self) -> int:
        arrays = (
            self.nodes, self.values, self.children, self.lane_used, self.label_leaf, self.state, self.events,
            self.label_tag, self.label_mark, self.lab_buf, self.lab_kid, self.stack, self.affinity, self.mass,
        )
        return sum(a.nbytes for a in arrays)
