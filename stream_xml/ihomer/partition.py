"""iHOMER's partition of the labels into blocks, each with the learner that owns its labels.

When the partition changes, a block whose label set is unchanged keeps its learner; a new
block gets a new learner, which first replays the most recent records (:class:`RecentRecords`)
and may serve a trial (:class:`Block`) during which a fallback that already knows its labels
answers for them.

>>> from stream_xml.ihomer.partition import Partition
>>> partition = Partition()
>>> partition.install([frozenset({0, 1}), frozenset({2})], lambda labels, before: Block(labels, labels, None))
(0, 2)
>>> partition.install([frozenset({0, 1}), frozenset({2, 3})], lambda labels, before: Block(labels, labels, None))
(1, 1)
>>> sorted(sorted(b.labels) for b in partition.blocks)
[[0, 1], [2, 3]]
>>> partition.straddling_share(frozenset({0, 1, 2}))  # pairs 0-2 and 1-2 straddle, 0-1 does not
0.6666666666666666

"""

from __future__ import annotations

import collections

__all__ = ["Block", "Partition", "RecentRecords", "ReplayedRecord"]


class Block:
    """A block of the partition and the learner that owns its labels.

    While a new learner is on trial, ``fallback`` lists ``(learner, names it serves)`` pairs that
    answer for the block's labels; both sides' label errors on the records since the block was
    built decide the hand-over (:meth:`handover_due`).
    """

    __slots__ = ("labels", "names", "learner", "seen", "fallback", "new_errors", "old_errors", "level_errors")

    def __init__(self, labels: frozenset, names: frozenset, learner):
        self.labels = labels          # label ids
        self.names = names            # label names (what the learner is taught)
        self.learner = learner
        self.seen = 0                 # records learned since the block was (re)built
        self.fallback: list = []      # (learner, names it serves) still answering for these labels
        self.new_errors = 0           # label errors of the new learner while it is on trial
        self.old_errors = 0           # label errors of the fallback over the same records
        self.level_errors = [0.0, 0.0]  # faded exact-match errors on these labels: own, root learner

    def score_trial(self, own: dict, old: dict, truth: frozenset) -> None:
        """Count the label errors of the new learner's scores ``own`` and the fallback's ``old``
        against the relevant names ``truth``."""
        new_errors = old_errors = 0
        for name in self.names:
            relevant = name in truth
            new_errors += (own.get(name, 0.0) > 0.5) != relevant
            old_errors += (old.get(name, 0.0) > 0.5) != relevant
        self.new_errors += new_errors
        self.old_errors += old_errors

    def handover_due(self, warmup: int, warmup_limit: int) -> bool:
        """The new learner takes over once it has learned ``warmup`` records and made fewer
        errors than its fallback since it was created, or after ``warmup_limit`` records."""
        if self.seen >= warmup_limit:
            return True
        return self.seen >= warmup and self.new_errors < self.old_errors


class Partition:
    """The blocks (disjoint label-id sets covering the known labels) and which block holds a label."""

    def __init__(self):
        self.blocks: list[Block] = []
        self.block_of: dict[int, Block] = {}

    def install(self, partition: list, make_block) -> tuple[int, int]:
        """Make ``partition`` (label-id sets) current, keeping the blocks already there;
        ``make_block(labels, block_of_before)`` builds every other block. Returns how many
        blocks were kept and how many built."""
        old = {b.labels: b for b in self.blocks}
        block_of_before = dict(self.block_of)
        blocks, kept = [], 0
        for labels in partition:
            if labels in old:
                blocks.append(old[labels])
                kept += 1
            else:
                blocks.append(make_block(labels, block_of_before))
        self.blocks = blocks
        self.block_of = {i: b for b in blocks for i in b.labels}
        return kept, len(blocks) - kept

    def place(self, label: int, name, positives) -> Block:
        """Add a new label to the block holding most of the record's other labels ``positives``
        (else to the largest block; the larger block on a tie); returns that block."""
        votes = collections.Counter(self.block_of[i] for i in positives if i in self.block_of)
        if votes:
            target = max(votes, key=lambda b: (votes[b], len(b.labels)))
        else:
            target = max(self.blocks, key=lambda b: len(b.labels))
        target.labels = target.labels | {label}
        target.names = target.names | {name}
        target.learner.add_labels([name])
        self.block_of[label] = target
        return target

    def straddling_share(self, ids: frozenset) -> float:
        """The share of the label pairs of ``ids`` (two labels at least) whose labels sit in
        different blocks."""
        per_block: dict = {}
        block_of = self.block_of
        for i in ids:
            block = block_of.get(i)
            if block is not None:
                per_block[block] = per_block.get(block, 0) + 1
        c = len(ids)
        pairs = c * (c - 1) / 2
        within = sum(k * (k - 1) for k in per_block.values()) / 2
        return (pairs - within) / pairs

    def learners(self) -> list:
        """Every learner the blocks hold, their fallbacks' included, once each."""
        learners = {id(b.learner): b.learner for b in self.blocks}
        for block in self.blocks:
            learners.update((id(old), old) for old, _ in block.fallback)
        return list(learners.values())


class ReplayedRecord:
    """A record replayed from its encoding ``(idx, val)`` over the feature ``names``, as the trees
    read it: by name, with ``get`` (absent = 0, as a zero the encoding dropped). The name -> value
    dict is built on the first look, which a tree that is still a single leaf never takes.

    >>> import numpy as np
    >>> x = ReplayedRecord(["a", "b", "c"], (np.array([0, 2]), np.array([1.5, -2.0])))
    >>> x.get("c", 0.0), x.get("b", 0.0)
    (-2.0, 0.0)

    """

    __slots__ = ("_names", "_record", "_x")

    def __init__(self, names: list, record: tuple):
        self._names = names
        self._record = record
        self._x = None

    def get(self, name, default=None):
        if self._x is None:
            idx, val = self._record
            self._x = dict(zip([self._names[i] for i in idx.tolist()], val.tolist()))
        return self._x.get(name, default)


class RecentRecords:
    """The last ``size`` records learned, as encoded arrays with their label ids, which a new
    learner replays before it starts (a warm start).

    The encodings are kept, not the records: callers may reuse their dicts, and a copy costs
    more than the arrays, which nothing changes in place.
    """

    def __init__(self, size: int):
        self._records: collections.deque = collections.deque(maxlen=max(size, 0))

    def append(self, encoded: tuple, ids: frozenset) -> None:
        if self._records.maxlen:
            self._records.append((encoded, ids))

    def records(self, feature_names: list, label_names: list):
        """The kept records, oldest first, as ``(x, relevant label names)`` with ``x`` a dict."""
        for (idx, val), ids in self._records:
            yield dict(zip([feature_names[i] for i in idx.tolist()], val.tolist())), frozenset(label_names[i] for i in ids)

    def replay(self, learner, names: frozenset, label_names: list, feature_names: list) -> None:
        """Teach ``learner`` the kept records, each with its labels among ``names``
        (``label_names`` maps label ids to names, ``feature_names`` feature ids to names)."""
        for encoded, ids in self._records:
            relevant = names & frozenset(label_names[i] for i in ids)
            learner.learn_labelset(ReplayedRecord(feature_names, encoded), relevant, encoded)
