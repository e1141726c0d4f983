"""Numba kernels behind :class:`stream_xml.drift.ADWIN`.

The window is an exponential histogram (ADWIN2, Bifet & Gavaldà 2007). Row ``level`` holds the
buckets that summarise ``2**level`` items each, oldest first, and the state of one detector is
four arrays:

* ``buckets``, float64 of shape ``(2, rows, max_buckets + 1)``: ``buckets[SUM, level, k]`` is the
  sum of the items of bucket ``k`` of that row and ``buckets[M2, level, k]`` the sum of their
  squared deviations from their mean;
* ``level_sizes``, int64 of shape ``(rows,)``: how many buckets each row holds;
* ``window``, float64 of shape ``(2,)``: ``[SUM]`` and ``[M2]`` of the whole window;
* ``counters``, int64 of shape ``(N_COUNTERS,)``: the scalars indexed by ``TICK`` (updates since
  the detector was last emptied), ``N_DETECTIONS``, ``N_LEVELS`` (rows in use, at least 1),
  ``WIDTH`` (items in the window) and ``LAST_DRIFTED`` (the previous update cut the window).

Every step follows the arithmetic of river's ``ADWIN`` operation by operation, so that both
produce the same floats. As in river, the update that follows a detection starts from an empty
detector. ``update_one`` and ``update_batch`` never write past the last row: they report
``FULL`` once the last row is in use, and the caller must add rows before the next update.

>>> import numpy as np
>>> from stream_xml.drift import adwin_kernels as k
>>> buckets = np.zeros((2, 4, 6)); level_sizes = np.zeros(4, dtype=np.int64)
>>> window = np.zeros(2); counters = np.zeros(k.N_COUNTERS, dtype=np.int64)
>>> k.reset(level_sizes, window, counters)
>>> for x in [0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0]:
...     status = k.update_one(buckets, level_sizes, window, counters, x, 0.002, 32, 5, 10)
>>> status, int(counters[k.WIDTH]), float(window[k.SUM])
(0, 7, 4.0)
>>> level_sizes.tolist()  # the sixth value made the two oldest merge into a bucket of 2
[5, 1, 0, 0]

"""

from __future__ import annotations

import math

import numba

__all__ = [
    "SUM",
    "M2",
    "TICK",
    "N_DETECTIONS",
    "N_LEVELS",
    "WIDTH",
    "LAST_DRIFTED",
    "N_COUNTERS",
    "DRIFT",
    "FULL",
    "reset",
    "update_one",
    "update_batch",
]

# Index of the sum and of the sum of squared deviations, in ``buckets`` (axis 0) and ``window``.
SUM = 0
M2 = 1

# Indices into ``counters``.
TICK = 0
N_DETECTIONS = 1
N_LEVELS = 2
WIDTH = 3
LAST_DRIFTED = 4
N_COUNTERS = 5

# Bits of the status returned by ``update_one``.
DRIFT = 1
FULL = 2


@numba.njit(cache=True)
def reset(level_sizes, window, counters):
    """Empty the detector in place (bucket contents past ``level_sizes`` are never read)."""
    level_sizes[:] = 0
    window[:] = 0.0
    counters[:] = 0
    counters[N_LEVELS] = 1


@numba.njit(cache=True)
def _drop_oldest(buckets, level_sizes, level, n):
    """Remove the ``n`` oldest buckets of row ``level`` by shifting the rest to the front."""
    size = level_sizes[level] - n
    for k in range(size):
        buckets[SUM, level, k] = buckets[SUM, level, k + n]
        buckets[M2, level, k] = buckets[M2, level, k + n]
    level_sizes[level] = size


@numba.njit(cache=True)
def _merge_full_rows(buckets, level_sizes, counters):
    """Merge the two oldest buckets of each row that holds ``max_buckets + 1``, bottom up."""
    capacity = buckets.shape[2]
    level = 0
    while level_sizes[level] == capacity:
        n = float(1 << level)
        sum0 = buckets[SUM, level, 0]
        sum1 = buckets[SUM, level, 1]
        gap = sum0 / n - sum1 / n
        up = level + 1
        k = level_sizes[up]
        buckets[SUM, up, k] = sum0 + sum1
        buckets[M2, up, k] = buckets[M2, level, 0] + buckets[M2, level, 1] + n * 0.5 * gap * gap
        level_sizes[up] = k + 1
        if up == counters[N_LEVELS]:
            counters[N_LEVELS] = up + 1
        _drop_oldest(buckets, level_sizes, level, 2)
        level = up


@numba.njit(cache=True)
def _delete_oldest_bucket(buckets, level_sizes, window, counters):
    """Shrink the window by its oldest bucket (the first one of the top row)."""
    top = counters[N_LEVELS] - 1
    n_int = 1 << top
    n = float(n_int)
    bucket_sum = buckets[SUM, top, 0]
    bucket_mean = bucket_sum / n
    counters[WIDTH] -= n_int
    width = float(counters[WIDTH])
    window[SUM] -= bucket_sum
    gap = bucket_mean - window[SUM] / width
    window[M2] -= buckets[M2, top, 0] + n * width * gap * gap / (n + width)
    _drop_oldest(buckets, level_sizes, top, 1)
    # Only the top row can empty here when max_buckets >= 2; with max_buckets == 1 the rows below
    # may be empty too, and the oldest bucket is then further down.
    while counters[N_LEVELS] > 1 and level_sizes[counters[N_LEVELS] - 1] == 0:
        counters[N_LEVELS] -= 1


@numba.njit(cache=True)
def _cut_oldest_if_split_differs(buckets, level_sizes, window, counters, delta, min_length):
    """Scan the splits of the window from the oldest bucket boundary to the newest; at the first
    one whose halves have significantly different means, drop the oldest bucket and return True."""
    width = float(counters[WIDTH])
    delta_prime = math.log(2.0 * math.log(width) / delta)
    variance = window[M2] / width
    n0 = 0.0
    n1 = width
    sum0 = 0.0
    sum1 = window[SUM]
    for level in range(counters[N_LEVELS] - 1, -1, -1):
        n = float(1 << level)
        size = level_sizes[level]
        for k in range(size):
            n0 += n
            n1 -= n
            bucket_sum = buckets[SUM, level, k]
            sum0 += bucket_sum
            sum1 -= bucket_sum
            if n1 == 0.0:
                return False  # every split has been tested
            if n0 < min_length or n1 < min_length:
                continue
            m_recip = 1.0 / (n0 - min_length + 1.0) + 1.0 / (n1 - min_length + 1.0)
            epsilon = (
                math.sqrt(2.0 * m_recip * variance * delta_prime)
                + 2.0 / 3.0 * delta_prime * m_recip
            )
            if abs(sum0 / n0 - sum1 / n1) > epsilon:
                _delete_oldest_bucket(buckets, level_sizes, window, counters)
                return True
    return False


@numba.njit(cache=True)
def update_batch(
    buckets, level_sizes, window, counters, values, flags, start, delta, clock, min_length,
    grace_period,
):
    """Update the detector with ``values[start:]`` in order, writing each drift flag to
    ``flags[i]`` (``flags`` may be None).

    Stops early after an update that puts the last row of ``buckets`` in use; returns the index of
    the first value not processed (``len(values)`` when all were). ``values`` is a 1-D array, or
    a tuple (``update_one`` passes a 1-tuple).
    """
    # The whole update is written out in this loop, not called per value: a call that passes the
    # four arrays costs more than the work of a typical update.
    capacity = buckets.shape[2]
    rows = level_sizes.shape[0]
    for i in range(start, len(values)):
        x = values[i]
        if counters[LAST_DRIFTED] != 0:
            reset(level_sizes, window, counters)

        # Append x as a bucket of one value, and fold it into the window's sum and M2.
        k = level_sizes[0]
        buckets[SUM, 0, k] = x
        buckets[M2, 0, k] = 0.0
        level_sizes[0] = k + 1
        counters[WIDTH] += 1
        width = float(counters[WIDTH])
        increment = 0.0
        if width > 1.0:
            deviation = x - window[SUM] / (width - 1.0)
            increment = (width - 1.0) * deviation * deviation / width
        window[M2] += increment
        window[SUM] += x
        if k + 1 == capacity:
            _merge_full_rows(buckets, level_sizes, counters)

        counters[TICK] += 1
        drifted = False
        if counters[TICK] % clock == 0 and width > grace_period:
            while _cut_oldest_if_split_differs(
                buckets, level_sizes, window, counters, delta, min_length
            ):
                drifted = True
        if drifted:
            counters[N_DETECTIONS] += 1
        counters[LAST_DRIFTED] = drifted
        if flags is not None:
            flags[i] = drifted
        if counters[N_LEVELS] == rows:
            return i + 1
    return len(values)


@numba.njit(cache=True)
def update_one(buckets, level_sizes, window, counters, x, delta, clock, min_length, grace_period):
    """Update the detector with ``x``; return ``DRIFT`` if the window was cut, plus ``FULL`` if
    the last row of ``buckets`` is now in use."""
    update_batch(
        buckets, level_sizes, window, counters, (x,), None, 0, delta, clock, min_length,
        grace_period,
    )
    status = DRIFT if counters[LAST_DRIFTED] != 0 else 0
    if counters[N_LEVELS] == level_sizes.shape[0]:
        status |= FULL
    return status
