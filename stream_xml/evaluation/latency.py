"""Bounded-memory latency summaries: a log-scale histogram of durations.

A long-running service cannot keep every per-record duration, so durations are counted in
logarithmic bins (``per_decade`` bins per factor of ten, from 10 ns to 1000 s); quantiles are
read off the histogram with a relative error of at most one bin width (about 6 % at 40 bins per
decade).

>>> from stream_xml.evaluation.latency import LatencyHistogram
>>> h = LatencyHistogram()
>>> for us in range(1, 101):
...     h.add(us * 1e-6)
>>> abs(h.quantile(0.5) * 1e6 - 50) < 3, abs(h.quantile(0.99) * 1e6 - 99) < 6
(True, True)
>>> h.count
100

"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["LatencyHistogram"]


class LatencyHistogram:
    def __init__(self, per_decade: int = 40, low: float = 1e-8, high: float = 1e3):
        self.per_decade = per_decade
        self.low = low
        self._log_low = math.log10(low)
        self.n_bins = int(round((math.log10(high) - self._log_low) * per_decade)) + 1
        self.counts = np.zeros(self.n_bins, dtype=np.int64)
        self.count = 0
        self.total = 0.0
        self.max = 0.0

    def add(self, seconds: float) -> None:
        if seconds <= self.low:
            b = 0
        else:
            b = min(self.n_bins - 1, int((math.log10(seconds) - self._log_low) * self.per_decade))
        self.counts[b] += 1
        self.count += 1
        self.total += seconds
        if seconds > self.max:
            self.max = seconds

    def quantile(self, q: float) -> float:
        """The upper edge of the bin holding the q-quantile (capped by the largest value seen)."""
        if self.count == 0:
            return float("nan")
        rank = max(1, math.ceil(q * self.count))
        b = int(np.searchsorted(np.cumsum(self.counts), rank))
        upper = 10 ** (self._log_low + (b + 1) / self.per_decade)
        lower = 10 ** (self._log_low + b / self.per_decade)
        # the geometric middle of the bin halves the worst-case relative error
        return min(math.sqrt(lower * upper), self.max)

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else float("nan")

    def summary_us(self) -> dict:
        """p50, p99, mean and max in microseconds, for reports."""
        if not self.count:
            return {"count": 0}
        return {
            "count": self.count,
            "p50": self.quantile(0.5) * 1e6,
            "p99": self.quantile(0.99) * 1e6,
            "mean": self.mean * 1e6,
            "max": self.max * 1e6,
        }
