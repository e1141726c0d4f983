"""The two ways iHOMER uses its partition of the labels (its ``mode``), as strategies with one
interface: ``install`` a new partition, ``place`` new labels, ``learn`` a record, give the
``scores`` of a record, and report the node learners' events and memory.

- :class:`PartitionEnsemble` (``mode="partition"``): one learner per block, every record to
  every block; optionally a root learner over all labels that an arbiter sets against the
  blocks, and that answers for a new block's labels while the block's learner is on trial.
- :class:`HomerRouting` (``mode="routing"``): HOMER's routing over the cluster tree
  (:mod:`stream_xml.ihomer.routing`); a record reaches only the blocks of its labels.

A mode gets what it works with when it is made: the label space, the feature index's names
(for warm starts), the recent records, the factory of node learners and the templates to clone.
"""

from __future__ import annotations

from stream_xml.ihomer.arbiter import RootArbiter
from stream_xml.ihomer.partition import Block, Partition
from stream_xml.ihomer.routing import Router
from stream_xml.tree.mlhat import REPORTED_TREE_EVENTS

__all__ = ["PartitionEnsemble", "HomerRouting", "RecordAtHand", "MODES", "ANSWER_KINDS"]

#: Who answers a block's labels in the partition mode (:meth:`PartitionEnsemble.answer_shares`):
#: the block's own learner, the root learner (as the arbiter chose, or as the learner of a
#: single block spanning every label), or a fallback while the block's learner is on trial.
ANSWER_KINDS = ("blocks", "root", "on trial")


class RecordAtHand:
    """The record being predicted, then learned: its encoding and what the node learners said
    of it (their scores by learner, the arbiter's levels, the predicted labelset), so that the
    learning of the record reuses its prediction's work."""

    __slots__ = ("x_id", "encoded", "tree_scores", "fallback_scores", "levels", "sources", "answered", "predicted",
                 "scores", "answer")  # fmt: skip

    def __init__(self, x_id: int, encoded: tuple):
        self.x_id = x_id
        self.encoded = encoded
        self.tree_scores: dict = {}  # id(learner) -> its answers by name
        self.fallback_scores: dict = {}  # id(block) -> its fallbacks' scores
        self.levels = None  # [(block, own positives, root positives)] of the arbiter
        self.sources = None  # [(names, the learner whose answer they got, None if merged)]
        self.answered = None  # how many labels each kind of learner answered (ANSWER_KINDS)
        self.predicted = None  # the labelset predicted, once predicted
        self.scores = None  # every label's score by name, once predicted by name
        self.answer = None  # (label space, scores) of a sole learner, once predicted by arrays

    def scores_of(self, learner, x) -> dict:
        """``learner.answer_scores`` of the record, asked once (the caller must not change it)."""
        scores = self.tree_scores.get(id(learner))
        if scores is None:
            scores = self.tree_scores[id(learner)] = learner.answer_scores(x, self.encoded)
        return scores


class _Mode:
    """What both modes share: the partition, and the way a new block's learner is made."""

    root = None  # the root learner over all labels, if the mode has one
    arbiter = None  # who answers, the root learner or the blocks, if the mode has a root learner
    router = None  # the routing tree, if the mode routes

    def __init__(self, space, feature_names: list, recent, new_learner, tree, events: list):
        self.space = space
        self.events = events  # the owner's, which the mode appends its own events to
        self.feature_names = feature_names
        self.recent = recent
        self.new_learner = new_learner
        self.tree = tree
        self.partition = Partition()

    def _names_of(self, ids) -> frozenset:
        names = self.space.names
        return frozenset(names[i] for i in ids)

    def _new_block(self, labels: frozenset) -> Block:
        """A block with a new learner that has replayed the recent records."""
        names = self._names_of(labels)
        block = Block(labels, names, self.new_learner(self.tree))
        block.learner.add_labels(sorted(names, key=str))
        self.recent.replay(block.learner, names, self.space.names, self.feature_names)
        return block

    def place(self, new_ids, positives, cluster_tree) -> None:
        names = self.space.names
        for i in new_ids:
            self.partition.place(i, names[i], positives)

    def learners(self) -> list:
        """Every node learner the mode holds, once each."""
        return self.partition.learners()

    def memory_bytes(self) -> int:
        return sum(learner.memory_bytes() for learner in self.learners())

    def sole_learner(self):
        """The learner that answers every label alone, if there is one (partition mode only)."""
        return None

    def note_answers(self, at) -> None:
        """Count who answered a prediction (partition mode only)."""

    def answer_shares(self) -> dict | None:
        """Who answered the labels (:meth:`PartitionEnsemble.answer_shares`); None: not kept."""
        return None

    def _tree_events(self, owners) -> list:
        events = []
        for learner, size in owners:
            for e in learner.drain_events():
                if e.get("kind") in REPORTED_TREE_EVENTS:
                    events.append({**e, "block_size": size})
        return events


class PartitionEnsemble(_Mode):
    """One learner per block, every record to every block, and (``root_tree`` given) a root
    learner over all labels beside them (see :class:`~stream_xml.ihomer.IHOMER`)."""

    name = "partition"
    answered = None  # the counts of answer_shares (class default for older pickles)

    def __init__(self, space, feature_names, recent, new_learner, tree, events, root_tree=None,
                 root_choice: str = "record", fallback: str = "root", warmup: int = 500,
                 warmup_limit: int = 2000):  # fmt: skip
        super().__init__(space, feature_names, recent, new_learner, tree, events)
        self.root_tree = root_tree  # the template, None without a root learner
        # while the partition is one block, its learner is the root learner, unless the root
        # learner is another kind of tree
        self._root_is_block = root_tree is not None and root_tree.leaf_model == tree.leaf_model
        self.arbiter = RootArbiter(root_choice) if root_tree is not None else None
        self.fallback = fallback
        self.warmup = warmup
        self.warmup_limit = warmup_limit
        self.root = None  # the root learner, made with the first labels
        self.answered = [0, 0, 0]  # label answers handed out, by ANSWER_KINDS

    # -- the partition --------------------------------------------------------------------------
    def install(self, partition: list, cluster_tree) -> tuple[int, int]:
        return self.partition.install(partition, self._make_block)

    def _make_block(self, labels: frozenset, block_of_before: dict) -> Block:
        if self._root_is_block and len(labels) == len(self.space):
            # the whole label space: the root learner, which has learned every record
            return Block(labels, self._names_of(labels), self._whole_space_learner())
        block = self._new_block(labels)
        if self.warmup > 0:
            block.fallback = self._fallback_of(labels, block.names, block_of_before)
        return block

    def _fallback_of(self, labels: frozenset, names: frozenset, block_of_before: dict) -> list:
        """``(learner, names it serves)`` pairs that answer for a new block until hand-over."""
        if self.fallback == "root" and self.root is not None:
            return [(self.root, names)]
        donors = {}
        for i in labels:
            prev = block_of_before.get(i)
            if prev is not None:
                for learner, served in [(prev.learner, prev.names)] + prev.fallback:
                    donors[id(learner)] = (learner, served)
        return list(donors.values())

    def _whole_space_learner(self):
        if self.root is None:
            self.root = self.new_learner(self.root_tree)
        self.root.add_labels(sorted(self.space.names, key=str))
        return self.root

    def _separate_root(self):
        """The root learner when it answers beside the blocks: always if it is another kind of
        tree than theirs, else only while there are several blocks (a single block's learner is
        then the root learner itself)."""
        if self.root_tree is None or not self.partition.blocks:
            return None
        if self._root_is_block:
            return self.root if len(self.partition.blocks) > 1 else None
        return self.root or self._whole_space_learner()

    def place(self, new_ids, positives, cluster_tree) -> None:
        super().place(new_ids, positives, cluster_tree)
        if self.root is not None:
            self.root.add_labels([self.space.names[i] for i in new_ids])

    # -- prediction -----------------------------------------------------------------------------
    def scores(self, x, at: RecordAtHand) -> dict:
        """P(label) by name, block by block: each block's own answer (its fallback's during a
        trial) or the root learner's, as the arbiter says; ``at.sources`` says whose."""
        scores = {}
        sources = at.sources = []
        answered = at.answered = [0, 0, 0]  # label answers by ANSWER_KINDS
        root = self._separate_root()
        arbiter = self.arbiter
        root_scores = None
        if root is not None:
            root_scores = at.scores_of(root, x)
            root_positives = frozenset(n for n, p in root_scores.items() if p > 0.5)
            levels = []
            root_answers = arbiter.root_answers_records()
        for block in self.partition.blocks:
            own = at.scores_of(block.learner, x)
            source = block.learner
            if block.fallback:
                fallback = self._fallback_scores(block, x, at)
                # fallbacks that answer for every label of the block (as the root learner does)
                # need no merge with the new learner's answer
                own = fallback if fallback.keys() >= block.names else {**own, **fallback}
                # a single learner's answer if the fallback's scores are that learner's own
                source = block.fallback[0][0] if own is at.tree_scores.get(id(block.fallback[0][0])) else None
            if root_scores is not None:
                root_in_block = root_positives & block.names
                if own is root_scores:  # the root learner answers as the block's fallback
                    own_in_block = root_in_block
                else:
                    own_in_block = frozenset(n for n in block.names if own.get(n, 0.0) > 0.5)
                levels.append((block, own_in_block, root_in_block))
                if root_answers or arbiter.root_answers_block(block):
                    own = root_scores
                    source = root
            sources.append((block.names, source))
            kind = 2 if block.fallback else 1 if source is not None and source is self.root else 0
            answered[kind] += len(block.names)
            for name in block.names:
                scores[name] = own.get(name, 0.0)
        if root_scores is not None:
            at.levels = levels
        if len(scores) < len(self.space):  # labels in no block yet
            for name in self.space.names:
                scores.setdefault(name, 0.0)
        return scores

    def sole_learner(self):
        """The learner of the one block when it answers every label alone (no fallback, no root
        learner beside it: the default's one block), else None."""
        blocks = self.partition.blocks
        if len(blocks) != 1 or blocks[0].fallback or len(blocks[0].names) < len(self.space.names):
            return None
        # (:meth:`_separate_root` of one block, inlined: this runs for every record)
        return blocks[0].learner if self.root_tree is None or self._root_is_block else None

    def note_sole_answer(self, learner) -> None:
        """What :meth:`note_answers` counts of a record that :meth:`sole_learner` answered alone
        (the record needs no :attr:`RecordAtHand.sources`: it is ranked and learned by arrays)."""
        if self.answered is None:  # a model pickled before the counts were kept
            self.answered = [0, 0, 0]
        self.answered[1 if learner is self.root else 0] += len(self.partition.blocks[0].names)

    def note_answers(self, at: RecordAtHand) -> None:
        """Count who answered the record just predicted (``at``) into :meth:`answer_shares`."""
        if self.answered is None:  # a model pickled before the counts were kept
            self.answered = [0, 0, 0]
        for kind, n in enumerate(at.answered):
            self.answered[kind] += n

    def answer_shares(self) -> dict | None:
        """The share of the label answers handed out so far (every label of every prediction)
        that came from the blocks' own learners, from the root learner, and from the learners
        answering for blocks whose learner was on trial; None before the first prediction."""
        total = sum(self.answered or ())
        if not total:
            return None
        return {kind: n / total for kind, n in zip(ANSWER_KINDS, self.answered)}

    def ranking(self, x, at: RecordAtHand) -> dict:
        """The ranking scores (:meth:`~stream_xml.tree.MLHAT.ranking_scores`) of the labels
        :meth:`scores` answered, each from the learner whose answer it got; labels whose answer
        merged several learners', or came from a learner that ranks by its answers, are left out
        (their answers rank them)."""
        rank, asked = {}, {}
        for names, source in at.sources:
            if source is not None and source.leaf_ranking != "answer":
                scores = asked.get(id(source))
                if scores is None:
                    scores = asked[id(source)] = source.ranking_scores(x, at.encoded)
                for name in names:
                    rank[name] = scores.get(name, 0.0)
        return rank

    def _fallback_scores(self, block: Block, x, at: RecordAtHand) -> dict:
        """Scores of the block's labels from its fallback learners; a single fallback that serves
        every label of the block (the root learner) gives its own scores, which may hold other
        labels too. The caller must not change the dict."""
        fallback = block.fallback
        if len(fallback) == 1 and block.names <= fallback[0][1]:
            return at.scores_of(fallback[0][0], x)
        out = at.fallback_scores.get(id(block))
        if out is None:
            out = at.fallback_scores[id(block)] = {}
            for old, old_names in fallback:
                scores = at.scores_of(old, x)
                for name in block.names & old_names:
                    out[name] = scores.get(name, 0.0)
        return out

    # -- learning -------------------------------------------------------------------------------
    def learn(self, x, truth: frozenset, ids: frozenset, at: RecordAtHand) -> None:
        """Every learner learns the record whose relevant labels are ``truth`` (names): each
        block's, the fallbacks still answering for a block, and the root learner."""
        root = self._separate_root()
        encoded = at.encoded
        if root is not None:
            if at.levels is None:
                self.scores(x, at)
            self.arbiter.score(at.levels, truth)
        retiring = {}
        for block in self.partition.blocks:
            fallback = block.fallback
            if fallback:
                block.score_trial(at.scores_of(block.learner, x), self._fallback_scores(block, x, at), truth)
                for old, old_names in fallback:
                    retiring[id(old)] = (old, old_names)
            block.learner.learn_labelset(x, block.names & truth, encoded)
            block.seen += 1
            if fallback and block.handover_due(self.warmup, self.warmup_limit):
                block.fallback = []
                self.events.append({"kind": "handover", "block_size": len(block.labels), "after": block.seen})
        retiring.pop(id(root), None)  # the root learns below
        if retiring:
            learned = {id(block.learner) for block in self.partition.blocks}
            for key, (old, old_names) in retiring.items():
                if key not in learned:
                    old.learn_labelset(x, old_names & truth, encoded)
        if root is not None:
            root.learn_labelset(x, truth, encoded)

    # -- reporting ------------------------------------------------------------------------------
    def learners(self) -> list:
        learners = super().learners()
        if self.root is not None and all(learner is not self.root for learner in learners):
            learners.append(self.root)
        return learners

    def drain_events(self) -> list:
        owners = [(block.learner, len(block.labels)) for block in self.partition.blocks]
        if self.root is not None and not any(b.learner is self.root for b in self.partition.blocks):
            owners.append((self.root, len(self.space)))
        return self._tree_events(owners)


class HomerRouting(_Mode):
    """HOMER's routing over the cluster tree: meta-label learners at the internal nodes, a
    record learned and predicted only down the branches of its labels (new blocks warm-start by
    replaying the recent records only)."""

    name = "routing"

    def __init__(self, space, feature_names, recent, new_learner, tree, events, threshold: float = 0.5):
        super().__init__(space, feature_names, recent, new_learner, tree, events)
        self.threshold = threshold

    def install(self, partition: list, cluster_tree) -> tuple[int, int]:
        counts = self.partition.install(partition, lambda labels, before: self._new_block(labels))
        self._route(cluster_tree)
        return counts

    def place(self, new_ids, positives, cluster_tree) -> None:
        super().place(new_ids, positives, cluster_tree)
        self._route(cluster_tree)

    def _route(self, cluster_tree) -> None:
        self.router = Router.build(
            self.partition.blocks, cluster_tree(), lambda: self.new_learner(self.tree), self.space.names,
            self.threshold, previous=self.router,
        )  # fmt: skip

    def learn(self, x, truth: frozenset, ids: frozenset, at: RecordAtHand) -> None:
        if self.router is None:
            self.router = Router(None, self.space.names, self.threshold)
        self.router.learn(x, ids, at.encoded)

    def scores(self, x, at: RecordAtHand) -> dict:
        scores = dict.fromkeys(self.space.names, 0.0)
        if self.router is not None:
            scores.update(self.router.scores(x, at.encoded))
        return scores

    def learners(self) -> list:
        learners = super().learners()
        if self.router is not None:
            learners.extend(node.learner for node in self.router.internal_nodes())
        return learners

    def drain_events(self) -> list:
        events = self._tree_events((block.learner, len(block.labels)) for block in self.partition.blocks)
        if self.router is not None:
            events.extend(self.router.drain_events())
        return events


MODES = {mode.name: mode for mode in (PartitionEnsemble, HomerRouting)}
