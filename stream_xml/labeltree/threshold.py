"""A labelset threshold adapted online towards the best micro-F1 of the stream so far (plus, if
asked, a weighted share of the records answered exactly).

The predicted labelset is every label whose marginal (the product of node probabilities on its
path) is at least ``tau``. A fixed ``tau = 0.5`` is a poor choice for rare labels; for
calibrated marginals the micro-F1-optimal threshold is half the optimal F1 (Lipton, Elkan,
Narayanaswamy, ECML PKDD 2014), well below 0.5 in extreme label spaces. Rather than trust the
calibration, this keeps two faded histograms of prequential scores (200 bins over [0, 1]): the
scores the search returned for labels that turned out relevant, and for labels that did not.
A relevant label the search did not return counts in bin 0 (it was below the search's reach).
After every record, ``tau`` becomes the bin edge that maximises

    F1(tau) = 2 TP(tau) / (TP(tau) + FP(tau) + P),

``TP``/``FP`` the relevant/irrelevant counts at or above ``tau`` and ``P`` all relevant labels.
The search returns every label down to ``explore = max(floor, ratio * tau)``, so the counts are
complete above ``explore``, and ``tau`` is only chosen there: it can fall by the factor
``ratio`` per record at most.

With ``exact_weight`` w > 0 a third faded histogram counts, per bin edge, the records that edge
would have answered exactly (every relevant label at or above it, every returned irrelevant
one below; a relevant label the search did not return makes a record inexact everywhere it
looks), and ``tau`` maximises ``F1(tau) + w * exact(tau) / records`` instead: a lower threshold
that adds labels must gain more micro-F1 than it loses in exactly answered records (iHOMER's
cluster engines use it, :mod:`stream_xml.ihomer.thresholds`).

>>> import numpy as np
>>> from stream_xml.labeltree.threshold import F1Threshold, observe_record
>>> thr = F1Threshold(initial=0.5, floor=0.02, ratio=0.5, fading=1.0)
>>> # relevant labels score 0.3-0.4, irrelevant ones 0.1-0.2: the threshold goes between
>>> for _ in range(50):
...     observe_record(thr.hist, thr.state, np.array([0.35, 0.3]), 2, np.array([0.15, 0.2]), 2)
>>> 0.2 < thr.tau <= 0.3
True

"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["F1Threshold", "observe_record", "BINS"]

BINS = 200
# rows of the histograms: relevant scores, irrelevant scores, records answered exactly per edge
POSITIVE = 0
NEGATIVE = 1
EXACT = 2
# state slots
TAU = 0
EXPLORE = 1
FLOOR = 2
RATIO = 3
FADING = 4
FIXED = 5  # 1.0: tau never moves
RECORDS = 6  # faded records counted
EXACT_WEIGHT = 7
N_SLOTS = 8


@numba.njit(cache=True)
def _bin(p):
    b = int(p * BINS)
    if b < 0:
        return 0
    return BINS - 1 if b >= BINS else b


@numba.njit(cache=True)
def observe_record(hist, state, relevant, n_relevant, irrelevant, n_irrelevant):
    """Count one record: the scores of its relevant labels (0 for those the search did not
    return) and of the returned labels that were irrelevant; then choose ``tau``."""
    fading = state[FADING]
    if fading < 1.0:
        for r in range(3):
            for b in range(BINS):
                hist[r, b] *= fading
    state[RECORDS] = state[RECORDS] * fading + 1.0
    lowest_relevant = 2.0
    highest_irrelevant = -1.0
    for i in range(n_relevant):
        hist[POSITIVE, _bin(relevant[i])] += 1.0
        lowest_relevant = min(lowest_relevant, relevant[i])
    for i in range(n_irrelevant):
        hist[NEGATIVE, _bin(irrelevant[i])] += 1.0
        highest_irrelevant = max(highest_irrelevant, irrelevant[i])
    weight = state[EXACT_WEIGHT]
    if weight > 0.0:
        for b in range(BINS):
            if highest_irrelevant < b / BINS <= lowest_relevant:
                hist[EXACT, b] += 1.0
    if state[FIXED] != 0.0:
        return
    total = 0.0
    for b in range(BINS):
        total += hist[POSITIVE, b]
    if total <= 0.0:
        return
    lowest = _bin(state[EXPLORE])
    if lowest * 1.0 / BINS < state[EXPLORE]:
        lowest += 1  # the first bin wholly above the search's reach
    tp = 0.0
    fp = 0.0
    best = -1.0
    best_f1 = 0.0
    best_bin = BINS - 1
    for b in range(BINS - 1, lowest - 1, -1):
        tp += hist[POSITIVE, b]
        fp += hist[NEGATIVE, b]
        f1 = 2.0 * tp / (tp + fp + total)
        best_f1 = max(best_f1, f1)
        objective = f1 + weight * hist[EXACT, b] / state[RECORDS]
        if objective > best:
            best = objective
            best_bin = b
    if best_f1 <= 0.0:
        # no relevant label has scored within the search's reach: every threshold there has F1 0,
        # so go down to the reach, and the next search reaches lower (a threshold left at the top
        # would keep the search above every relevant label for good)
        best_bin = lowest
    tau = best_bin * 1.0 / BINS
    if tau < state[FLOOR]:
        tau = state[FLOOR]
    state[TAU] = tau
    explore = tau * state[RATIO]
    state[EXPLORE] = explore if explore > state[FLOOR] else state[FLOOR]


class F1Threshold:
    """The threshold's histograms and state.

    Parameters
    ----------
    initial
        Starting threshold (and the threshold forever if ``adaptive`` is False).
    floor
        Lowest threshold, and lowest score the search reaches.
    ratio
        The search reaches ``ratio * tau`` (the room ``tau`` has to fall per record).
    fading
        Factor applied to the histograms per record (1.0: the whole stream counts).
    adaptive
        Move ``tau`` towards the best micro-F1.
    exact_weight
        Weight of the share of records answered exactly beside micro-F1 (0: micro-F1 alone).

    """

    def __init__(self, initial: float = 0.5, floor: float = 0.02, ratio: float = 0.75, fading: float = 0.9999,
                 adaptive: bool = True, exact_weight: float = 0.0):
        if not 0.0 < floor <= initial <= 1.0:
            raise ValueError(f"need 0 < floor <= initial threshold <= 1, got floor={floor!r}, initial={initial!r}")
        if not 0.0 < ratio <= 1.0:
            raise ValueError(f"ratio must be in (0, 1], got {ratio!r}")
        if not 0.0 < fading <= 1.0:
            raise ValueError(f"fading must be in (0, 1], got {fading!r}")
        if exact_weight < 0.0:
            raise ValueError(f"exact_weight must be >= 0, got {exact_weight!r}")
        self.hist = np.zeros((3, BINS))
        self.state = np.zeros(N_SLOTS)
        self.state[TAU] = initial
        self.state[FLOOR] = floor
        self.state[RATIO] = ratio if adaptive else 1.0
        self.state[EXPLORE] = max(floor, initial * self.state[RATIO])
        self.state[FADING] = fading
        self.state[FIXED] = 0.0 if adaptive else 1.0
        self.state[EXACT_WEIGHT] = exact_weight

    @property
    def tau(self) -> float:
        return float(self.state[TAU])

    @property
    def explore(self) -> float:
        return float(self.state[EXPLORE])

    def memory_bytes(self) -> int:
        return self.hist.nbytes + self.state.nbytes
