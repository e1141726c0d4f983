"""Label names on the outside, dense integer ids on the inside.

The label space of a stream may grow: a label never seen before gets the next id. Ids are
never reused or reordered, so arrays indexed by label id only ever grow at the end.

>>> from stream_xml.labels import LabelSpace
>>> space = LabelSpace(["sports", "politics"])
>>> space.ids({"politics"})
[1]
>>> space.add_all({"science", "sports"})
[2]
>>> len(space), space.names[2]
(3, 'science')
>>> sorted(space.names_of([0, 2]))
['science', 'sports']

"""

from __future__ import annotations

import typing

import numpy as np

__all__ = ["LabelSpace", "jaccard_loss", "MAX_KEPT_LABELSETS"]

#: How many labelsets a cache of their label ids holds before it starts over
#: (:meth:`LabelSpace.known_ids`, the trees' own).
MAX_KEPT_LABELSETS = 4096


def jaccard_loss(predicted: typing.AbstractSet, truth: typing.AbstractSet) -> float:
    """1 - |P ∩ Y| / |P ∪ Y| between two labelsets (names or ids), 0 when both are empty: between
    exact match and F1, it credits a labelset that is nearly right without rewarding an empty
    answer to a sparse one.

    >>> jaccard_loss({"a"}, {"a", "b"}), jaccard_loss(set(), set())
    (0.5, 0.0)
    """
    union = len(predicted | truth)
    return 1.0 - len(predicted & truth) / union if union else 0.0


class LabelSpace:
    """A growing bijection between label names and ids ``0..L-1`` (order of first sight)."""

    def __init__(self, names: typing.Iterable = ()):
        self.names: list = []
        self._ids: dict = {}
        self._known: dict = {}  # labelset -> known_ids(labelset), until a label is added
        for name in names:
            self.add(name)

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, name) -> bool:
        return name in self._ids

    def __iter__(self):
        return iter(self.names)

    def add(self, name) -> int:
        """Id of ``name``, registering it if it is new."""
        i = self._ids.get(name)
        if i is None:
            i = len(self.names)
            self._ids[name] = i
            self.names.append(name)
            self._known.clear()
        return i

    def add_all(self, names: typing.Iterable) -> list[int]:
        """Register every new name in ``names``; return the ids that were new (sorted)."""
        known = self._ids
        if known.keys() >= names if isinstance(names, (set, frozenset)) else all(n in known for n in names):
            return []  # the usual case: nothing new, nothing to sort
        new = []
        for name in sorted(names, key=str):
            if name not in self._ids:
                new.append(self.add(name))
        return new

    def id(self, name) -> int:
        return self._ids[name]

    def ids(self, names: typing.Iterable) -> list[int]:
        """Sorted ids of known names (unknown names raise KeyError)."""
        ids = self._ids
        out = [ids[n] for n in names]
        out.sort()
        return out

    def known_ids(self, names: typing.Iterable) -> np.ndarray:
        """Ids of the names in ``names`` that are known (a read-only int64 array, in the order of
        ``frozenset(names)``; the others are left out). Labelsets repeat, so the arrays are kept
        until a label is added."""
        names = names if isinstance(names, frozenset) else frozenset(names)
        out = self._known.get(names)
        if out is None:
            if len(self._known) >= MAX_KEPT_LABELSETS:
                self._known.clear()
            ids = self._ids
            out = self._known[names] = np.array([i for i in map(ids.get, names) if i is not None], dtype=np.int64)
            out.flags.writeable = False
        return out

    def names_of(self, ids: typing.Iterable[int]) -> frozenset:
        return frozenset(self.names[i] for i in ids)

    def __getstate__(self):
        return {"names": list(self.names)}

    def __setstate__(self, state):
        self.names = []
        self._ids = {}
        self._known = {}
        for name in state["names"]:
            self.add(name)
