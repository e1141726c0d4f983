"""One arena for the label and pair counts of every active cluster.

Each active cluster owns a *slot*: a block of ``c1`` (one count per label) and a block of
``c11`` (one count per pair, packed as described in :mod:`.odac_kernels`) inside two flat
float64 arrays shared by all clusters, so that one kernel call can update every cluster an
instance touches. Blocks have a capacity in labels; a cluster that outgrows it moves to a block
twice as large at the end of the arena. Freed and outgrown blocks leave holes that are squeezed
out when the arena has to grow or when they outweigh the live blocks, so memory stays
``O(sum_C m_C^2)``.

>>> from stream_xml.clustering.pair_counts import PairCounts
>>> arena = PairCounts()
>>> s = arena.allocate(2)
>>> arena.c1_of(s)[:] = [4.0, 5.0]
>>> arena.c11_of(s)[:] = [3.0]
>>> arena.append_label(s)  # local index of the new label
2
>>> arena.c1_of(s).tolist(), arena.c11_of(s).tolist()  # pairs (0,1), (0,2), (1,2)
([4.0, 5.0, 0.0], [3.0, 0.0, 0.0])
>>> arena.release(s)
>>> arena.live_pairs()
0

"""

from __future__ import annotations

import numpy as np

__all__ = ["PairCounts"]


def _n_pairs(m: int) -> int:
    return m * (m - 1) // 2


class PairCounts:
    """Label and pair counts of many clusters in two flat arrays, addressed by slot."""

    def __init__(self):
        self.c1 = np.zeros(8)
        self.c11 = np.zeros(16)
        # Per slot: offsets of its blocks, capacity (labels) and current size (labels).
        self.off1 = np.zeros(4, dtype=np.int64)
        self.off11 = np.zeros(4, dtype=np.int64)
        self.capacity = np.zeros(4, dtype=np.int64)
        self.size = np.zeros(4, dtype=np.int64)
        self._in_use = np.zeros(4, dtype=bool)
        self._free: list[int] = list(range(3, -1, -1))
        self._end1 = 0
        self._end11 = 0
        self._live1 = 0
        self._live11 = 0

    # -- slots -----------------------------------------------------------------------------

    def allocate(self, size: int) -> int:
        """A new slot for a cluster of ``size`` labels, all counts zero."""
        if not self._free:
            self._add_slots()
        slot = self._free.pop()
        self._in_use[slot] = True
        self._place(slot, size, size)
        return slot

    def release(self, slot: int) -> None:
        """Give the slot back; its counts are dropped."""
        self._live1 -= int(self.capacity[slot])
        self._live11 -= _n_pairs(int(self.capacity[slot]))
        self._in_use[slot] = False
        self.capacity[slot] = self.size[slot] = 0
        self._free.append(slot)
        holes1 = self._end1 - self._live1
        holes11 = self._end11 - self._live11
        if holes1 > 2 * self._live1 + 64 or holes11 > 2 * self._live11 + 64:
            self._repack(0, 0)

    def append_label(self, slot: int) -> int:
        """Grow the cluster of ``slot`` by one label with zero counts; return its local index."""
        m = int(self.size[slot])
        cap = int(self.capacity[slot])
        if m == cap:
            old1 = self.c1_of(slot).copy()
            old11 = self.c11_of(slot).copy()
            self._live1 -= cap
            self._live11 -= _n_pairs(cap)
            self._place(slot, m, max(4, 2 * cap))
            self.c1_of(slot)[:] = old1
            self.c11_of(slot)[:] = old11
        self.size[slot] = m + 1
        o1 = int(self.off1[slot])
        o11 = int(self.off11[slot])
        self.c1[o1 + m] = 0.0
        self.c11[o11 + _n_pairs(m) : o11 + _n_pairs(m + 1)] = 0.0
        return m

    # -- views -----------------------------------------------------------------------------

    def c1_of(self, slot: int) -> np.ndarray:
        o = int(self.off1[slot])
        return self.c1[o : o + int(self.size[slot])]

    def c11_of(self, slot: int) -> np.ndarray:
        o = int(self.off11[slot])
        return self.c11[o : o + _n_pairs(int(self.size[slot]))]

    def scale(self, factor: float) -> None:
        """Multiply every count by ``factor`` (used to materialise lazy fading)."""
        self.c1[: self._end1] *= factor
        self.c11[: self._end11] *= factor

    def live_pairs(self) -> int:
        """Number of pair counters reserved by the slots in use."""
        return self._live11

    def memory_bytes(self) -> int:
        """Bytes of the arena's arrays (holes and spare capacity included)."""
        return sum(v.nbytes for v in vars(self).values() if isinstance(v, np.ndarray))

    # -- layout ----------------------------------------------------------------------------

    def _add_slots(self) -> None:
        n = self.off1.shape[0]
        for name in ("off1", "off11", "capacity", "size", "_in_use"):
            old = getattr(self, name)
            new = np.zeros(2 * n, dtype=old.dtype)
            new[:n] = old
            setattr(self, name, new)
        self._free.extend(range(2 * n - 1, n - 1, -1))

    def _place(self, slot: int, size: int, capacity: int) -> None:
        """Give ``slot`` a zeroed block of ``capacity`` labels at the end of the arena."""
        need1, need11 = capacity, _n_pairs(capacity)
        if self._end1 + need1 > self.c1.shape[0] or self._end11 + need11 > self.c11.shape[0]:
            # The slot's current block (if any) is about to be abandoned: do not copy it.
            self.capacity[slot] = self.size[slot] = 0
            self._repack(need1, need11)
        self.off1[slot] = self._end1
        self.off11[slot] = self._end11
        self.capacity[slot] = capacity
        self.size[slot] = size
        self.c1[self._end1 : self._end1 + need1] = 0.0
        self.c11[self._end11 : self._end11 + need11] = 0.0
        self._end1 += need1
        self._end11 += need11
        self._live1 += need1
        self._live11 += need11

    def _repack(self, extra1: int, extra11: int) -> None:
        """Copy the live blocks to fresh arrays with room for ``extra`` more counters."""
        c1 = np.zeros(max(8, 2 * (self._live1 + extra1)))
        c11 = np.zeros(max(16, 2 * (self._live11 + extra11)))
        end1 = end11 = 0
        for slot in np.flatnonzero(self._in_use):
            cap = int(self.capacity[slot])
            m = int(self.size[slot])
            c1[end1 : end1 + m] = self.c1_of(slot)
            c11[end11 : end11 + _n_pairs(m)] = self.c11_of(slot)
            self.off1[slot] = end1
            self.off11[slot] = end11
            end1 += cap
            end11 += _n_pairs(cap)
        self.c1, self.c11 = c1, c11
        self._end1, self._end11 = end1, end11
        self._live1, self._live11 = end1, end11
