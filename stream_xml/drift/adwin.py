"""ADWIN drift detector whose window lives in numpy arrays updated by numba kernels."""

from __future__ import annotations

import numpy as np
from river import base

from stream_xml.drift import adwin_kernels as kernels
from stream_xml.drift.adwin_kernels import DRIFT, FULL, update_batch, update_one

__all__ = ["ADWIN"]

# Rows of buckets allocated up front; each row doubles the reachable window length, and
# ``_add_rows`` doubles the row count whenever the last row comes into use.
_INITIAL_ROWS = 8


class ADWIN(base.DriftDetector):
    r"""ADaptive WINdowing drift detector (ADWIN2, Bifet & Gavaldà 2007), numba port.

    The detector keeps a window of recent values compressed in an exponential histogram: at most
    ``max_buckets`` buckets summarise ``2**i`` values each, for every ``i``. Every ``clock``
    updates, once the window holds more than ``grace_period`` values, it looks at each split of
    the window at a bucket boundary into an older part $W_0$ ($n_0$ values, mean $\mu_0$) and a
    newer part $W_1$ ($n_1$, $\mu_1$), both at least ``min_window_length`` long. With $n$ the
    window length, $\sigma^2$ its variance, $\delta' = \ln(2 \ln n / \delta)$ and
    $m^{-1} = 1 / (n_0 - l + 1) + 1 / (n_1 - l + 1)$ ($l$ = ``min_window_length``), a split
    whose means differ by more than $\sqrt{2 m^{-1} \sigma^2 \delta'} + \frac{2}{3} \delta' m^{-1}$
    drops the oldest bucket, and the check starts again on the shorter window. If anything was
    dropped, ``drift_detected`` is true until the next update.

    The behaviour is that of ``river.drift.ADWIN``, down to the floats: same flags, ``width``,
    ``total``, ``variance`` and ``estimation`` after every update. In particular, as in river,
    the update that follows a detection first empties the detector (so ``width`` restarts from 1
    and ``n_detections`` from 0), and ``variance`` is the sum of squared deviations from the
    mean of the window, not its average.

    The state is held in four numpy arrays (see :mod:`stream_xml.drift.adwin_kernels`), and each
    update is one call to a compiled kernel; ``update_many`` runs a whole array through a single
    call.

    Parameters
    ----------
    delta
        Significance value of the test.
    clock
        Check for a change every ``clock`` updates.
    max_buckets
        Most buckets kept per bucket size before the two oldest are merged.
    min_window_length
        Smallest length of each part of a split that is tested.
    grace_period
        No check happens while the window holds this many values or fewer.

    Examples
    --------
    >>> import random
    >>> from stream_xml.drift import ADWIN

    >>> rng = random.Random(7)
    >>> adwin = ADWIN()
    >>> stream = [rng.gauss(0.0, 1.0) for _ in range(1500)]
    >>> stream += [rng.gauss(3.0, 1.0) for _ in range(500)]
    >>> for i, x in enumerate(stream):
    ...     adwin.update(x)
    ...     if adwin.drift_detected:
    ...         print(f"drift at {i}: {adwin.width} values left, mean {adwin.estimation:.2f}")
    drift at 1535: 56 values left, mean 1.60

    ``update_many`` gives the flag of every update of an array in one call:

    >>> flags = ADWIN().update_many(stream)
    >>> flags.nonzero()[0].tolist()
    [1535]

    """

    def __init__(
        self,
        delta: float = 0.002,
        clock: int = 32,
        max_buckets: int = 5,
        min_window_length: int = 5,
        grace_period: int = 10,
    ):
        super().__init__()
        if not 0.0 < delta < 1.0:
            raise ValueError(f"delta must be in (0, 1), got {delta}")
        if clock < 1:
            raise ValueError(f"clock must be at least 1, got {clock}")
        if max_buckets < 1:
            raise ValueError(f"max_buckets must be at least 1, got {max_buckets}")
        self.delta = delta
        self.clock = clock
        self.max_buckets = max_buckets
        self.min_window_length = min_window_length
        self.grace_period = grace_period
        self._reset()

    def _reset(self):
        super()._reset()
        self._buckets = np.zeros((2, _INITIAL_ROWS, self.max_buckets + 1))
        self._level_sizes = np.zeros(_INITIAL_ROWS, dtype=np.int64)
        self._window = np.zeros(2)
        self._counters = np.zeros(kernels.N_COUNTERS, dtype=np.int64)
        kernels.reset(self._level_sizes, self._window, self._counters)

    def _add_rows(self):
        rows = self._level_sizes.shape[0]
        buckets = np.zeros((2, 2 * rows, self.max_buckets + 1))
        buckets[:, :rows] = self._buckets
        self._buckets = buckets
        self._level_sizes = np.concatenate([self._level_sizes, np.zeros(rows, dtype=np.int64)])

    @property
    def width(self) -> int:
        """Number of values in the window."""
        return int(self._counters[kernels.WIDTH])

    @property
    def total(self) -> float:
        """Sum of the values in the window."""
        return float(self._window[kernels.SUM])

    @property
    def variance(self) -> float:
        """Sum of squared deviations of the window's values from their mean (river's
        ``variance``; divide by ``width`` for the variance)."""
        return float(self._window[kernels.M2])

    @property
    def estimation(self) -> float:
        """Mean of the window (0 when it is empty)."""
        width = self._counters.item(kernels.WIDTH)  # Python numbers: numpy scalars cost more
        if width == 0:
            return 0.0
        return self._window.item(kernels.SUM) / width

    @property
    def n_detections(self) -> int:
        """Number of updates that cut the window since the detector was last emptied."""
        return int(self._counters[kernels.N_DETECTIONS])

    def update(self, x: int | float) -> None:
        """Add one value to the window, then check for a change if the clock says so.

        Parameters
        ----------
        x
            Input value.

        """
        status = update_one(
            self._buckets,
            self._level_sizes,
            self._window,
            self._counters,
            float(x),
            self.delta,
            self.clock,
            self.min_window_length,
            self.grace_period,
        )
        self._drift_detected = (status & DRIFT) != 0
        if status & FULL:
            self._add_rows()

    def update_many(self, values) -> np.ndarray:
        """Run ``update`` on every value in order; return the ``drift_detected`` flag after each.

        Parameters
        ----------
        values
            One-dimensional array-like of numbers.

        """
        values = np.ascontiguousarray(values, dtype=np.float64)
        if values.ndim != 1:
            raise ValueError(f"values must be one-dimensional, got shape {values.shape}")
        flags = np.zeros(values.shape[0], dtype=np.bool_)
        start = 0
        while start < values.shape[0]:
            start = update_batch(
                self._buckets,
                self._level_sizes,
                self._window,
                self._counters,
                values,
                flags,
                start,
                self.delta,
                self.clock,
                self.min_window_length,
                self.grace_period,
            )
            if self._counters[kernels.N_LEVELS] == self._level_sizes.shape[0]:
                self._add_rows()
        self._drift_detected = bool(self._counters[kernels.LAST_DRIFTED])
        return flags
