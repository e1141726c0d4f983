"""iHOMER's global drift watchers: signals that the label clustering no longer fits the stream,
on which the clustering restarts from fresh statistics (the learners stay until the new
clustering proposes another partition).

- ``"correlation"``: the share of a record's co-occurring label pairs that straddle two blocks.
  When it rises, the blocks no longer group the labels that occur together (ODAC's merge test
  alone can only undo its own splits and rarely fires on cumulative counts).
- ``"loss"``: the stream's own Hamming loss.

Each watches its figure with ADWIN and fires when ADWIN flags a change to a *higher* mean.

>>> from stream_xml.ihomer.watchers import RisingChange
>>> watcher = RisingChange()
>>> fired = [t for t, v in enumerate([0.1] * 300 + [0.9] * 100) if watcher.update(v)]
>>> 300 < fired[0] < 400
True

References
----------
Bifet, A. and Gavaldà, R. (2007). Learning from time-changing data with adaptive windowing.
Proc. SIAM International Conference on Data Mining (SDM), 443-448.
"""

from __future__ import annotations

from stream_xml.drift import ADWIN

__all__ = ["RisingChange", "SIGNALS"]

#: The global drift signals iHOMER can watch.
SIGNALS = ("correlation", "loss")


class RisingChange:
    """ADWIN over a per-record figure, reporting the changes that raise its mean. The detector is
    made on the first update (and again after :meth:`reset`)."""

    def __init__(self):
        self._detector = None

    def update(self, value: float) -> bool:
        """Add ``value``; True if ADWIN flags a change and its estimate has risen."""
        detector = self._detector
        if detector is None:
            detector = self._detector = ADWIN()
        before = detector.estimation
        detector.update(value)
        return detector.drift_detected and detector.estimation > before

    def reset(self) -> None:
        """Forget the figures seen (they mean something new from now on)."""
        self._detector = None
