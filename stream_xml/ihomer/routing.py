"""HOMER-style routing over iHOMER's label-cluster tree (iHOMER's mode B).

The routing tree mirrors the clustering tree down to the blocks of the refined partition. Each
internal node has a learner over *meta-labels*, one per child: a child's meta-label is relevant
when any label below that child is. A record is learned by a node only if it carries one of the
node's labels (the root learns every record), and predicted only down the children whose
meta-label fires (P > 0.5); labels of blocks that are not reached are predicted absent with
score 0.

Where a merged block straddles two clustering subtrees, the node above them cannot be split
along the clustering tree; it then routes directly to each block below it (a node with more than
two children), which is still HOMER's scheme.

Learners are reused across rebuilds: a node whose children carry the same label sets as before
keeps its learner; a block keeps its learner in any case (the partition owns the blocks). A
router knows only what it is given: the blocks, the clustering's tree, a factory of node
learners and the label names.

References
----------
Tsoumakas, G., Katakis, I. and Vlahavas, I. (2008). Effective and efficient multilabel
classification in domains with large number of labels. Proc. ECML/PKDD 2008 Workshop on Mining
Multidimensional Data (MMD'08).
"""

from __future__ import annotations

from stream_xml.tree.mlhat import REPORTED_TREE_EVENTS

__all__ = ["Router", "RouteNode"]


class RouteNode:
    """An internal routing node: its children (RouteNode or block) and their label-id sets."""

    __slots__ = ("children", "child_labels", "labels", "learner", "meta_names")

    def __init__(self, children: list, child_labels: list, learner):
        self.children = children
        self.child_labels = child_labels
        self.labels = frozenset().union(*child_labels)
        self.learner = learner
        self.meta_names = [f"child{j}" for j in range(len(children))]
        learner.add_labels(self.meta_names)

    @property
    def signature(self) -> tuple:
        return tuple(sorted(tuple(sorted(c)) for c in self.child_labels))


def _labels_of(child) -> frozenset:
    return child.labels


class Router:
    """The routing tree over a partition's blocks (see the module docstring).

    Parameters
    ----------
    root
        A :class:`RouteNode`, a single block when the partition has one block, or None.
    label_names
        Label names by id (the owner's, growing as labels appear).
    threshold
        A record goes down to a child whose meta-label has more than this probability.

    """

    def __init__(self, root, label_names: list, threshold: float):
        self.root = root
        self.label_names = label_names
        self.threshold = threshold

    # -- building -----------------------------------------------------------------------------
    @classmethod
    def build(cls, blocks: list, cluster_tree: dict, new_learner, label_names: list, threshold: float,
              previous: "Router | None" = None) -> "Router":
        """The router over ``blocks`` along the clustering's ``cluster_tree`` (its ``tree()``
        description); ``new_learner()`` makes a node learner; nodes of ``previous`` whose children
        carry the same labels keep their learners."""
        reusable = {}
        if previous is not None:
            for node in previous.internal_nodes():
                reusable[node.signature] = node.learner
        if not blocks:
            return cls(None, label_names, threshold)
        if len(blocks) == 1:
            return cls(blocks[0], label_names, threshold)
        # the root routes over every block, also one holding a label the clustering has not
        # registered yet (new labels join a block before the clustering sees them)
        root = cls._build_node(cluster_tree, list(blocks), new_learner, reusable)
        return cls(root, label_names, threshold)

    @classmethod
    def _build_node(cls, node: dict, inside: list, new_learner, reusable: dict):
        """Routing node for clustering node ``node`` over the blocks ``inside`` it."""
        if len(inside) == 1:
            return inside[0]
        children_desc = node.get("children") or []
        child_sets = [frozenset(_labels_under(c)) for c in children_desc]
        follows_tree = len(child_sets) == 2 and all(any(b.labels <= s for s in child_sets) for b in inside)
        if follows_tree:
            children = []
            for desc, labels in zip(children_desc, child_sets):
                sub = [b for b in inside if b.labels <= labels]
                if sub:
                    children.append(cls._build_node(desc, sub, new_learner, reusable))
        else:
            children = list(inside)
        if len(children) == 1:
            return children[0]
        child_labels = [_labels_of(c) for c in children]
        signature = tuple(sorted(tuple(sorted(c)) for c in child_labels))
        learner = reusable.pop(signature, None) or new_learner()
        return RouteNode(children, child_labels, learner)

    def internal_nodes(self):
        stack = [self.root] if isinstance(self.root, RouteNode) else []
        while stack:
            node = stack.pop()
            yield node
            stack.extend(c for c in node.children if isinstance(c, RouteNode))

    # -- learning and prediction -------------------------------------------------------------------
    def learn(self, x, ids: frozenset, encoded=None) -> None:
        root = self.root
        if root is None:
            return
        if not isinstance(root, RouteNode):
            self._learn_block(root, x, ids, encoded)
            return
        stack = [root]
        while stack:
            node = stack.pop()
            meta = [name for name, labels in zip(node.meta_names, node.child_labels) if labels & ids]
            node.learner.learn_labelset(x, meta, encoded)
            for child, labels in zip(node.children, node.child_labels):
                if labels & ids:
                    if isinstance(child, RouteNode):
                        stack.append(child)
                    else:
                        self._learn_block(child, x, ids, encoded)

    def _learn_block(self, block, x, ids: frozenset, encoded) -> None:
        names = self.label_names
        block.learner.learn_labelset(x, frozenset(names[i] for i in block.labels & ids), encoded)
        block.seen += 1

    def scores(self, x, encoded=None) -> dict:
        """Scores of the labels of the blocks reached by ``x`` (unreached labels are absent);
        ``encoded`` is ``x`` as the owner's shared feature index encodes it."""
        out = {}
        root = self.root
        if root is None:
            return out
        stack = [root]
        while stack:
            node = stack.pop()
            if not isinstance(node, RouteNode):
                own = node.learner.answer_scores(x, encoded)
                for name in node.names:
                    out[name] = own.get(name, 0.0)
                continue
            meta = node.learner.answer_scores(x, encoded)
            threshold = self.threshold
            for name, child in zip(node.meta_names, node.children):
                if meta.get(name, 0.0) > threshold:
                    stack.append(child)
        return out

    # -- reporting ---------------------------------------------------------------------------------
    def drain_events(self) -> list:
        events = []
        for node in self.internal_nodes():
            for e in node.learner.drain_events():
                if e.get("kind") in REPORTED_TREE_EVENTS:
                    events.append({**e, "router_node_labels": len(node.labels)})
        return events

    def memory_bytes(self) -> int:
        return sum(node.learner.memory_bytes() for node in self.internal_nodes())

    def describe(self) -> dict:
        """The routing tree with label names, for reports."""
        names = self.label_names

        def walk(node):
            if isinstance(node, RouteNode):
                return {"labels": len(node.labels), "children": [walk(c) for c in node.children]}
            return {"block": sorted((names[i] for i in node.labels), key=str)}

        return walk(self.root) if self.root is not None else {}


def _labels_under(desc: dict) -> list:
    """All label ids under a node of the clustering's tree description."""
    if not desc.get("children"):
        return list(desc.get("labels", ()))
    out = []
    for c in desc["children"]:
        out.extend(_labels_under(c))
    return out
