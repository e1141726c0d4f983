"""How an MLHAT adapts to drift at its branches: every branch watches the
running Hamming loss of the leaves below it with a drift detector (ADWIN by default), grows an
alternate subtree in the background when its loss rises (``alternate_strategy="warning"``) or when
the detector flags a change (``"drift"``), and is replaced by the alternate once the alternate is
significantly better; several leaves that a record reaches (the alternates') vote with weights
that fall with their loss.

:class:`AdaptiveBranches` is mixed into :class:`~stream_xml.tree.MLHAT`, whose attributes it reads.

References
----------
Bifet, A. and Gavaldà, R. (2009). Adaptive learning from evolving data streams. Proc. IDA 2009,
LNCS 5772, 249-260 (Hoeffding adaptive trees).

Esteban, A., Cano, A., Zafra, A. and Ventura, S. (2024). Hoeffding adaptive trees for
multi-label classification on data streams. Knowledge-Based Systems 304, 112561.
"""

from __future__ import annotations

import math

from stream_xml.drift import ADWIN
from stream_xml.tree.nodes import Branch, Leaf, set_background

__all__ = ["AdaptiveBranches", "ALTERNATE", "ALTERNATE_STRATEGIES", "ERROR_WEIGHTINGS"]

ALTERNATE_STRATEGIES = ("warning", "drift")
ERROR_WEIGHTINGS = ("clipped", "reference")
# Where a node hangs: ``owner.children[slot]``, ``owner.alternate`` or (owner None) the root.
ALTERNATE = 2
# Smallest error used to weigh a leaf's vote in "clipped" mode (the reference divides by 0 there).
_MIN_ERROR = 1e-3


class AdaptiveBranches:
    """The branches' drift monitors, alternate subtrees and the leaves' vote weights."""

    def _monitor(self, branch: Branch, owner, slot, loss: float, w: float) -> bool:
        """The drift adaptation at one branch; True if its alternate replaced it."""
        e_old = branch.loss.mean
        branch.loss.update(loss, w)
        e_new = branch.loss.mean
        branch.detector.update(e_new)
        drift = branch.detector.drift_detected
        if drift and not branch.background:
            self._event("drift", branch)
        if branch.alternate is None and not branch.background:
            fire = e_new > e_old if self.alternate_strategy == "warning" else drift
            if fire:
                branch.alternate = self._new_leaf(branch.depth, None, background=True)
                self._event("alternate_start", branch)
        alternate = branch.alternate
        threshold = self.drift_window_threshold
        if alternate is None or alternate.total_weight <= threshold:
            return False
        # The alternate's error must rest on enough weight too: a branch the alternate grew
        # starts a fresh loss, which would otherwise win at once with e_alt = 0.
        if branch.post_drift_weight > threshold and alternate.loss.weight > threshold:
            n_inv = 1.0 / alternate.total_weight + 1.0 / branch.post_drift_weight
            bound = math.sqrt(
                2.0 * e_old * (1.0 - e_old) * math.log(2.0 / self.switch_significance) * n_inv
            )
            e_alt = alternate.loss.mean
            if e_old - e_alt > bound:
                set_background(alternate, False)
                self._replace(owner, slot, alternate)
                self.n_promotions += 1
                self._event("alternate_promoted", branch, error=e_old, alternate_error=e_alt)
                return True
            if e_alt - e_old > bound:
                branch.alternate = None
                self._event("alternate_discarded", branch, error=e_old, alternate_error=e_alt)
        if drift and e_new < e_old:
            branch.loss.reset()
            branch.post_drift_weight = 0.0
        return False

    def _new_detector(self):
        """A drift detector for a new branch: a clone of ``drift_detector``, or ADWIN."""
        if self.drift_detector is not None:
            return self.drift_detector.clone()
        return ADWIN()

    def _vote_weight(self, leaf: Leaf) -> float:
        e = leaf.loss.mean
        if self.error_weighting == "clipped":
            e = max(e, _MIN_ERROR)
        return 1.0 / (e * e) if e > 0.0 else 1.0
