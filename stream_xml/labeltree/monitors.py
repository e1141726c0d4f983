"""Drift detectors for the tree's internal nodes: one ADWIN per node, all in stacked arrays.

Every internal node's classifier ("is any label below me relevant?") reports its absolute error
``|y - p|`` (in [0, 1]) on every record it learns to an ADWIN detector (Bifet & Gavaldà, SDM
2007; the kernels of :mod:`stream_xml.drift.adwin_kernels`, called from inside the learning
kernel on one row of the stacked arrays). When the detector cuts its window and the error of the
recent part is higher than the window's before the cut, the node's loss rose: the learning
kernel resets the node's weights (a fresh place in the arena) and reports a ``node_drift``
event. A detector whose window fills its rows starts afresh.

Detectors are given to internal nodes as they first learn, up to the capacity the estimator
reserves (one per internal node, about ``L / (arity / 2)``); leaves (single labels) are not
watched: their number is the number of labels.

>>> import numpy as np
>>> from stream_xml.labeltree.monitors import NodeMonitors, observe
>>> mon = NodeMonitors(delta=0.002)
>>> mon.reserve(1)
>>> rng = np.random.default_rng(1)
>>> flags = [observe(mon.buckets, mon.levels, mon.window, mon.counters, 0, float(x), mon.params)
...          for x in np.r_[rng.random(2000) < 0.1, rng.random(2000) < 0.6]]
>>> first = flags.index(True)
>>> 2000 < first < 2300
True

"""

from __future__ import annotations

import numba
import numpy as np

from stream_xml.drift.adwin_kernels import DRIFT, FULL, N_COUNTERS, N_LEVELS, SUM, WIDTH, reset, update_one

__all__ = ["NodeMonitors", "observe"]

ROWS = 16
MAX_BUCKETS = 5
# params slots
DELTA = 0
CLOCK = 1
MIN_LENGTH = 2
GRACE = 3


@numba.njit(cache=True)
def observe(buckets, levels, window, counters, m, x, params):
    """Feed ``x`` to detector ``m``; True if its window was cut with the recent mean higher."""
    width = counters[m, WIDTH]
    before = window[m, SUM] / width if width > 0 else 0.0
    status = update_one(
        buckets[m], levels[m], window[m], counters[m], x, params[DELTA], int(params[CLOCK]),
        int(params[MIN_LENGTH]), int(params[GRACE]),
    )
    rose = False
    if status & DRIFT:
        after = window[m, SUM] / counters[m, WIDTH]
        rose = after > before
    if status & FULL:
        reset(levels[m], window[m], counters[m])
    return rose


class NodeMonitors:
    """Stacked ADWIN states (``ROWS`` bucket rows each: windows up to ~5 * 2**16 values).

    Parameters
    ----------
    delta
        ADWIN's confidence.
    clock, min_window_length, grace_period
        As in :class:`stream_xml.drift.ADWIN`.

    """

    def __init__(self, delta: float = 0.002, clock: int = 32, min_window_length: int = 5, grace_period: int = 30):
        if not 0.0 < delta < 1.0:
            raise ValueError(f"delta must be in (0, 1), got {delta!r}")
        self.params = np.array([delta, clock, min_window_length, grace_period], dtype=np.float64)
        self.buckets = np.zeros((0, 2, ROWS, MAX_BUCKETS + 1))
        self.levels = np.zeros((0, ROWS), dtype=np.int64)
        self.window = np.zeros((0, 2))
        self.counters = np.zeros((0, N_COUNTERS), dtype=np.int64)

    @property
    def capacity(self) -> int:
        return self.levels.shape[0]

    def reserve(self, n: int) -> None:
        have = self.capacity
        if n <= have:
            return
        size = max(n, 2 * have, 8)
        buckets = np.zeros((size,) + self.buckets.shape[1:])
        buckets[:have] = self.buckets
        levels = np.zeros((size, ROWS), dtype=np.int64)
        levels[:have] = self.levels
        window = np.zeros((size, 2))
        window[:have] = self.window
        counters = np.zeros((size, N_COUNTERS), dtype=np.int64)
        counters[:have] = self.counters
        counters[have:, N_LEVELS] = 1  # an empty detector (adwin_kernels.reset)
        self.buckets, self.levels, self.window, self.counters = buckets, levels, window, counters

    def arrays(self) -> tuple:
        return (self.buckets, self.levels, self.window, self.counters, self.params)

    def memory_bytes(self) -> int:
        return self.buckets.nbytes + self.levels.nbytes + self.window.nbytes + self.counters.nbytes
