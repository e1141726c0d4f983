"""The arbiter of iHOMER's partition mode: the root learner (a tree over all labels) against the
blocks' learners, judged on the records as they are learned (test, then train).

With ``choice="record"`` a record is answered wholly by the assembled blocks or wholly by the
root learner, whichever has the smaller faded Jaccard loss on whole labelsets; with
``choice="block"`` each block answers with its own learner or the root learner, whichever has
made fewer faded exact-match errors on the block's labels. Both sides are scored on every
record either way, except that a record without a relevant label leaves the Jaccard losses as
they are (on it only an empty answer has no loss: counting it hands the stream to whichever side
says nothing where such records are common, issue 23); ties go to the blocks.

>>> from stream_xml.ihomer.arbiter import RootArbiter, jaccard_loss
>>> arbiter = RootArbiter("record")
>>> jaccard_loss(frozenset({"a"}), frozenset({"a", "b"}))
0.5
>>> class Block:
...     names, level_errors = frozenset({"a", "b"}), [0.0, 0.0]
>>> block = Block()
>>> arbiter.score([(block, frozenset(), frozenset({"a", "b"}))], frozenset({"a", "b"}))
>>> arbiter.root_answers_records(), block.level_errors
(True, [1.0, 0.0])
>>> arbiter.score([(block, frozenset(), frozenset({"a"}))], frozenset())  # nothing relevant
>>> arbiter.record_losses, block.level_errors
([1.0, 0.0], [0.995, 1.0])

"""

from __future__ import annotations

from stream_xml.labels import jaccard_loss

__all__ = ["RootArbiter", "jaccard_loss", "LEVEL_FADING", "CHOICES"]

#: Fading of the error counts and losses that choose between the blocks and the root learner.
LEVEL_FADING = 0.995
CHOICES = ("record", "block")




class RootArbiter:
    """Chooses, record by record or block by block, between the blocks and the root learner.

    The per-block errors live on the blocks (``block.level_errors``: own, root), so that a block
    kept across a restructure keeps its record.
    """

    def __init__(self, choice: str = "record"):
        if choice not in CHOICES:
            raise ValueError(f"root_choice must be one of {CHOICES}, got {choice!r}")
        self.choice = choice
        self.record_losses = [0.0, 0.0]  # faded Jaccard losses of the blocks, the root learner

    def root_answers_records(self) -> bool:
        """Under ``"record"``: the root learner answers the next record."""
        return self.choice == "record" and self.record_losses[1] < self.record_losses[0]

    def root_answers_block(self, block) -> bool:
        """Under ``"block"``: the root learner answers for ``block``'s labels."""
        return self.choice == "block" and block.level_errors[1] < block.level_errors[0]

    def score(self, levels: list, truth: frozenset) -> None:
        """Score the record whose relevant labels are ``truth``: ``levels`` holds, per block, the
        block's own predicted labels and the root learner's, on the block's labels."""
        own_all, root_all = set(), set()
        for block, own, root in levels:
            relevant = block.names & truth
            errors = block.level_errors
            errors[0] = errors[0] * LEVEL_FADING + (own != relevant)
            errors[1] = errors[1] * LEVEL_FADING + (root != relevant)
            own_all |= own
            root_all |= root
        if not truth:
            return  # no relevant label: it would reward whichever side says nothing (labeltree.labelsets)
        losses = self.record_losses
        losses[0] = losses[0] * LEVEL_FADING + jaccard_loss(own_all, truth)
        losses[1] = losses[1] * LEVEL_FADING + jaccard_loss(root_all, truth)
