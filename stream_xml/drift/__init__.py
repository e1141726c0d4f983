"""Concept drift detectors.

>>> from stream_xml.drift import ADWIN
>>> adwin = ADWIN(clock=1)
>>> for x in [0.0] * 100 + [1.0] * 20:
...     adwin.update(x)
>>> adwin.width < 120
True

"""

from __future__ import annotations

from stream_xml.drift.adwin import ADWIN

__all__ = ["ADWIN"]
