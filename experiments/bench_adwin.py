"""Time 1M updates of stream_xml's ADWIN (one by one, and ``update_many``) against river's.

Run from the repository root::

    python experiments/bench_adwin.py [--n 1000000] [--repeat 3]

The stream is a Bernoulli error stream whose rate moves from 0.2 to 0.4 halfway, so both
detectors shrink their windows at least once. Each timing is the best of ``--repeat`` runs on a
fresh detector; the script also checks that every implementation raised the same flags.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np
from river import drift as river_drift

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from stream_xml.drift import ADWIN  # noqa: E402


def one_by_one(detector, values):
    flags = np.zeros(len(values), dtype=bool)
    for i, x in enumerate(values):
        detector.update(x)
        flags[i] = detector.drift_detected
    return flags


def best_time(run, repeat):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    rng = np.random.default_rng(42)
    rate = np.where(np.arange(args.n) < args.n // 2, 0.2, 0.4)
    array = (rng.random(args.n) < rate).astype(np.float64)
    values = array.tolist()

    # Compile (or load from cache) before timing.
    ADWIN().update_many(array[:100])
    one_by_one(ADWIN(), values[:100])

    timings = {}
    timings["river update"], river_flags = best_time(
        lambda: one_by_one(river_drift.ADWIN(), values), args.repeat
    )
    timings["numba update"], update_flags = best_time(
        lambda: one_by_one(ADWIN(), values), args.repeat
    )
    timings["numba update_many"], many_flags = best_time(
        lambda: ADWIN().update_many(array), args.repeat
    )

    # The loop that records flags is part of every one-by-one timing; time it alone too.
    timings["loop only"], _ = best_time(lambda: one_by_one(_NoDetector(), values), args.repeat)

    same = np.array_equal(river_flags, update_flags) and np.array_equal(river_flags, many_flags)
    print(f"{args.n} updates, {int(river_flags.sum())} detections, same flags: {same}")
    for name, seconds in timings.items():
        print(f"  {name:<18} {seconds:8.3f} s  {seconds / args.n * 1e9:8.1f} ns/update")
    river = timings["river update"]
    print(f"speed ratio river / numba update:      {river / timings['numba update']:.2f}")
    print(f"speed ratio river / numba update_many: {river / timings['numba update_many']:.2f}")


class _NoDetector:
    drift_detected = False

    def update(self, x):
        pass


if __name__ == "__main__":
    main()
