"""From ODAC-J's active leaves to the label blocks that get learners.

A leaf with fewer labels than ``min_size`` (the most frequent labelset size) is merged with its
nearest relative in the cluster tree: among the blocks whose union with it stays within
``max_size`` labels, those sharing the deepest lowest common ancestor with it, and of these the
smallest (then the leftmost). Small blocks are handled deepest first, then left to right. The
result never loses a label and depends on nothing but the tree.

>>> from stream_xml.clustering import ODACJ, refine, LabelsetSizeHistogram
>>> model = ODACJ(n_min=60)
>>> sizes = LabelsetSizeHistogram()
>>> for t in range(1, 61):
...     y = [{0, 1, 2}, {0, 1, 2}, {3, 4}, {0, 1, 2, 3, 4}][t % 4]
...     sizes.update(len(y))
...     _ = model.learn_one(y)
>>> model.partition(), sizes.mode(), sizes.min_size()
([[0, 1, 2], [3, 4]], 3, 3)
>>> blocks = refine(model, min_size=sizes.min_size())
>>> [(b.labels, b.leaves) for b in blocks]
[((0, 1, 2, 3, 4), (1, 2))]
>>> [b.labels for b in refine(model, min_size=3, max_size=4)]  # no room: {3, 4} stays alone
[(0, 1, 2), (3, 4)]

References
----------
Tsoumakas, G., Katakis, I. and Vlahavas, I. (2008). Effective and efficient multilabel
classification in domains with large number of labels. Proc. ECML/PKDD 2008 Workshop on Mining
Multidimensional Data (MMD'08).

"""

from __future__ import annotations

import dataclasses
import typing

__all__ = ["Block", "refine", "refine_nodes", "LabelsetSizeHistogram"]


@dataclasses.dataclass(frozen=True)
class Block:
    """A learner's target: sorted label ids and the ids of the ODAC-J leaves it covers."""

    labels: tuple[int, ...]
    leaves: tuple[int, ...]


@dataclasses.dataclass
class _Draft:
    labels: set
    leaves: list  # (tree-order rank, leaf id), sorted
    anchor: tuple  # path from the root to the lowest common ancestor of the leaves
    position: int  # tree-order rank of the first leaf

    @property
    def depth(self) -> int:
        return len(self.anchor) - 1


def _common_prefix(p: tuple, q: tuple) -> tuple:
    k = 0
    while k < len(p) and k < len(q) and p[k] == q[k]:
        k += 1
    return p[:k]


def refine(odac, min_size: int, max_size: int | None = None) -> list[Block]:
    """Blocks of the active leaves of ``odac`` (an :class:`~stream_xml.clustering.ODACJ`)."""
    return refine_nodes(odac.nodes(), min_size, max_size)


def refine_nodes(nodes: typing.Iterable, min_size: int, max_size: int | None = None) -> list[Block]:
    """Blocks from tree nodes given in tree order (anything shaped like :class:`.odac.NodeView`).

    Empty leaves are left out. Blocks come out in tree order of their first leaf.
    """
    nodes = list(nodes)
    parent = {v.id: v.parent for v in nodes}

    def path(i) -> tuple:
        out = [i]
        while parent[out[-1]] is not None:
            out.append(parent[out[-1]])
        return tuple(reversed(out))

    blocks = [
        _Draft(set(v.labels), [(k, v.id)], path(v.id), k)
        for k, v in enumerate(v for v in nodes if v.active and v.labels)
    ]
    accepted: list[_Draft] = []  # small blocks for which nothing fits
    while True:
        small = [
            b for b in blocks if len(b.labels) < min_size and not any(b is a for a in accepted)
        ]
        if not small:
            break
        s = min(small, key=lambda b: (-b.depth, b.position))
        fitting = [
            b
            for b in blocks
            if b is not s and (max_size is None or len(b.labels) + len(s.labels) <= max_size)
        ]
        if not fitting:
            accepted.append(s)
            continue
        lca_depth = {id(b): len(_common_prefix(s.anchor, b.anchor)) for b in fitting}
        deepest = max(lca_depth.values())
        target = min(
            (b for b in fitting if lca_depth[id(b)] == deepest),
            key=lambda b: (len(b.labels), b.position),
        )
        merged = _Draft(
            s.labels | target.labels,
            sorted(s.leaves + target.leaves),
            _common_prefix(s.anchor, target.anchor),
            min(s.position, target.position),
        )
        blocks = [b for b in blocks if b is not s and b is not target] + [merged]
        blocks.sort(key=lambda b: b.position)
    return [Block(tuple(sorted(b.labels)), tuple(i for _, i in b.leaves)) for b in blocks]


class LabelsetSizeHistogram:
    """How often each labelset size ``|Y|`` (0 included) was seen.

    >>> from stream_xml.clustering import LabelsetSizeHistogram
    >>> h = LabelsetSizeHistogram()
    >>> for size in [0, 2, 2, 1, 1, 0]:
    ...     h.update(size)
    >>> h.counts, h.mode(), h.min_size()
    ([2, 2, 2], 0, 1)

    """

    def __init__(self):
        self.counts: list[int] = []

    @property
    def n(self) -> int:
        return sum(self.counts)

    def update(self, size: int) -> None:
        if size < 0:
            raise ValueError("a labelset size cannot be negative")
        if size >= len(self.counts):
            self.counts.extend([0] * (size + 1 - len(self.counts)))
        self.counts[size] += 1

    def mode(self) -> int:
        """The most frequent size (the smaller on ties); 0 before any update."""
        if not self.counts:
            return 0
        return self.counts.index(max(self.counts))

    def min_size(self) -> int:
        """The minimum block size for refinement: ``max(1, mode)``."""
        return max(1, self.mode())
