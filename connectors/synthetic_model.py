"""The model behind the synthetic streams: features, a known concept, and its versions.

A *world* holds every version of the five components a drift can change, and draws records
from a :class:`State` (one version of each) or from a transition between two states:

- ``means``: the features' distribution. Feature ``j`` is ``N(means[j], 1)``, and with
  ``density < 1`` it is non-zero only with probability ``density`` (otherwise exactly 0).
- ``planes``: the concept. Label group ``k`` has a unit hyperplane over a few *relevant*
  features; its score on a record is ``s_k = planes[k] · x``. Sparse features imitate term
  weights: with ``density < 1`` the means start at 1 instead of 0 and the weights are
  non-negative, so a label is relevant only when some of its group's features are present
  (a score that is exactly 0, no feature present, could not be split by a threshold).
- ``groups``: the label correlations. Label ``l`` belongs to group ``groups[l]`` and is
  relevant when ``s_groups[l] > θ_l``: labels of a group threshold one score, so they
  co-occur (nested, the rarer inside the more frequent); labels of different groups follow
  different hyperplanes.
- ``rates``: the label imbalance. ``θ_l`` is the quantile of the group's score at which the
  label's relevance rate equals ``rates[l]`` *under the first feature distribution* (the
  reference); rates follow a power law (``skew``) summing to the target cardinality.
- ``active``: which labels exist; an inactive label is never relevant.

The concept is a function of ``x`` alone: thresholds are calibrated once, on the reference
feature distribution, so a change of ``means`` leaves ``p(y | x)`` exactly as it was (the
label rates then move with ``x``, as in any covariate shift). Noise: with probability
``noise`` a label's value is replaced by an independent draw at its rate, which keeps every
marginal and weakens the correlations.

>>> import numpy as np
>>> from connectors.synthetic_model import World, State
>>> world = World(n_labels=6, n_features=8, n_groups=2, cardinality=1.5, rng=np.random.default_rng(0))
>>> s0 = State(0, 0, 0, 0, 0)
>>> round(float(world.rates[0].sum()), 6)
1.5
>>> X = world.draw_features(np.random.default_rng(1), s0, s0, np.zeros(4000), False)
>>> Y = world.clean_labels(X, s0)
>>> round(float(Y.sum(axis=1).mean()), 1)
1.5
>>> s1 = State(0, 0, world.regroup(0, 1.0, np.random.default_rng(2)), 0, 0)
>>> bool((world.groups[s1.groups] != world.groups[0]).all())
True

"""

from __future__ import annotations

import math
import typing

import numpy as np

__all__ = ["World", "LabelVersions", "State", "power_rates", "CALIBRATION_SIZE", "GRID_STEPS"]

CALIBRATION_SIZE = 1 << 15  # draws from the reference distribution behind every threshold
GRID_STEPS = 16  # an incremental transition recalibrates its thresholds this many times
_GRID_SIZE = CALIBRATION_SIZE // 4  # fewer draws per step: a grid has many (group, group) pairs


class State(typing.NamedTuple):
    """One version index per component of a :class:`World`."""

    means: int
    planes: int
    groups: int
    rates: int
    active: int


def power_rates(order: np.ndarray, active: np.ndarray, total: float, skew: float, max_rate: float) -> np.ndarray:
    """Relevance rates ``∝ rank^-skew``, capped at ``max_rate``, the ``active`` ones summing to ``total``.

    ``order[l]`` is label ``l``'s rank (0 = most frequent). Inactive labels get the rate their
    rank calls for, on the same scale, so that they keep it when they appear.

    >>> import numpy as np
    >>> r = power_rates(np.arange(4), np.ones(4, bool), 1.0, 1.0, 0.9)
    >>> [round(float(v), 3) for v in r], round(float(r.sum()), 6)
    ([0.48, 0.24, 0.16, 0.12], 1.0)
    >>> r = power_rates(np.arange(4), np.ones(4, bool), 2.0, 2.0, 0.6)  # the cap spreads the rest
    >>> [round(float(v), 3) for v in r]
    [0.6, 0.6, 0.512, 0.288]

    """
    weights = (order + 1.0) ** -skew
    n_active = int(active.sum())
    if total < 0 or total > max_rate * n_active + 1e-12:
        raise ValueError(
            f"cardinality {total} cannot be met by {n_active} labels of rate at most max_rate={max_rate}"
        )
    if total == 0:
        return np.zeros_like(weights)
    lo, hi = 0.0, max_rate / weights[active].min()
    for _ in range(100):  # the capped sum is monotone in the scale: bisect it
        mid = (lo + hi) / 2
        if np.minimum(mid * weights[active], max_rate).sum() < total:
            lo = mid
        else:
            hi = mid
    return np.minimum(hi * weights, max_rate)


def _upper_quantiles(sorted_scores: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Thresholds above which a share ``rates`` of ``sorted_scores`` lies (+inf for rate 0)."""
    m = len(sorted_scores)
    pos = np.clip(1.0 - rates, 0.0, 1.0) * (m - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, m - 1)
    theta = sorted_scores[lo] + (pos - lo) * (sorted_scores[hi] - sorted_scores[lo])
    theta[rates <= 0] = np.inf
    theta[rates >= 1] = -np.inf
    return theta


class LabelVersions:
    """The two drifts every world makes the same way: labels change group, labels appear or vanish.

    A world holds ``n_labels``, ``n_groups`` and the lists of versions ``groups`` (label -> group)
    and ``active`` (label -> exists).
    """

    n_labels: int
    n_groups: int
    groups: list
    active: list

    def regroup(self, version: int, fraction: float, rng) -> int:
        """New correlations: ``fraction`` of the labels each move to another group (nothing else changes)."""
        if self.n_groups < 2:
            raise ValueError("a correlation drift needs at least 2 label groups")
        groups = self.groups[version].copy()
        moved = rng.choice(self.n_labels, max(1, round(fraction * self.n_labels)), replace=False)
        groups[moved] = (groups[moved] + rng.integers(1, self.n_groups, len(moved))) % self.n_groups
        self.groups.append(groups)
        return len(self.groups) - 1

    def set_active(self, version: int, labels, on: bool) -> int:
        """New label space: ``labels`` switched on (they appear) or off (they vanish)."""
        active = self.active[version].copy()
        active[list(labels)] = on
        self.active.append(active)
        return len(self.active) - 1


class World(LabelVersions):
    """Every version of the features' distribution and of the concept, and the draws from them.

    Parameters
    ----------
    n_labels, n_features
        Sizes of the label and feature spaces (labels that appear later included).
    n_groups
        Groups of correlated labels.
    cardinality
        Expected number of relevant labels per record among the labels active at the start,
        under the reference feature distribution.
    rng
        A numpy Generator; every random choice of the structure comes from it.
    relevant
        Features per hyperplane (None: 3 with dense features, enough for a sparse record to
        touch a hyperplane with probability 0.8 otherwise).
    skew, max_rate
        Power-law exponent of the label rates and the largest rate.
    density
        Probability that a feature is non-zero.
    noise
        Probability that a label value is replaced by an independent draw at its rate.
    decimals
        Features are rounded to this many decimals (None: full precision), before labelling.
    inactive
        Indices of the labels that are not active at the start.
    calibration_rng
        Generator of the reference draws behind the thresholds (default: spawned from ``rng``).

    """

    def __init__(
        self, n_labels: int, n_features: int, n_groups: int, cardinality: float, rng: np.random.Generator,
        relevant: int | None = None, skew: float = 1.0, max_rate: float = 0.5, density: float = 1.0,
        noise: float = 0.05, decimals: int | None = 4, inactive=(), calibration_rng: np.random.Generator | None = None,
    ):
        if n_labels < 1 or n_features < 1:
            raise ValueError("a world needs at least one label and one feature")
        if not 1 <= n_groups <= n_labels:
            raise ValueError(f"groups must lie in 1..labels ({n_labels}), got {n_groups}")
        if not 0.0 < density <= 1.0:
            raise ValueError(f"density must lie in (0, 1], got {density}")
        if not 0.0 <= noise <= 1.0:
            raise ValueError(f"noise must lie in [0, 1], got {noise}")
        if not 0.0 < max_rate <= 1.0 or skew < 0:
            raise ValueError("max_rate must lie in (0, 1] and skew be >= 0")
        if relevant is None:
            relevant = 3 if density >= 1.0 else math.ceil(math.log(0.2) / math.log1p(-density))
        self.n_labels, self.n_features, self.n_groups = n_labels, n_features, n_groups
        self.relevant = max(1, min(relevant, n_features))
        self.skew, self.max_rate, self.density, self.noise = skew, max_rate, density, noise
        self.decimals = decimals
        self._calibration_rng = calibration_rng or np.random.default_rng(rng.integers(2**63))
        active = np.ones(n_labels, bool)
        active[list(inactive)] = False
        self.means: list[np.ndarray] = [np.full(n_features, 0.0 if density >= 1.0 else 1.0)]
        self.planes: list[np.ndarray] = [self._new_planes(rng, None, range(n_groups))]
        self.groups: list[np.ndarray] = [rng.permutation(np.arange(n_labels) % n_groups)]
        self.active: list[np.ndarray] = [active]
        self.rates: list[np.ndarray] = [power_rates(rng.permutation(n_labels), active, cardinality, skew, max_rate)]
        self._calibration: dict[int, np.ndarray] = {}
        self._reference = np.empty((CALIBRATION_SIZE, 0))
        self._reference_columns = np.empty(0, np.int64)
        self._thresholds: dict = {}
        self._grids: dict = {}

    # -- new versions ----------------------------------------------------------------------

    def _new_planes(self, rng, planes: np.ndarray | None, redraw) -> np.ndarray:
        """Copy of ``planes`` with the rows in ``redraw`` drawn afresh over unused features if possible."""
        d, k = self.n_features, self.relevant
        out = np.zeros((self.n_groups, d)) if planes is None else planes.copy()
        for g in redraw:
            busy = out.any(axis=0)  # features of every current hyperplane, this one's included
            free = np.flatnonzero(~busy)
            if len(free) >= k:
                chosen = rng.choice(free, k, replace=False)
            else:
                chosen = np.concatenate([free, rng.choice(np.flatnonzero(busy), k - len(free), replace=False)])
            out[g] = 0.0
            w = rng.standard_normal(k)
            if self.density < 1.0:
                w = np.abs(w)
            out[g, chosen] = w / np.linalg.norm(w)
        return out

    def shift_means(self, version: int, shift: float, fraction: float, rng) -> int:
        """New feature distribution: ``fraction`` of the features move by ``±shift`` standard deviations."""
        means = self.means[version].copy()
        moved = rng.choice(self.n_features, max(1, round(fraction * self.n_features)), replace=False)
        means[moved] += shift * rng.choice((-1.0, 1.0), len(moved))
        self.means.append(means)
        return len(self.means) - 1

    def redraw_planes(self, version: int, fraction: float, rng) -> int:
        """New concept: the hyperplanes of ``fraction`` of the groups drawn again, over other features."""
        redraw = rng.choice(self.n_groups, max(1, round(fraction * self.n_groups)), replace=False)
        self.planes.append(self._new_planes(rng, self.planes[version], sorted(redraw)))
        return len(self.planes) - 1

    def reweigh(self, rates_version: int, active_version: int, skew: float | None, rng) -> int:
        """New imbalance: the power-law ranks dealt again (``skew`` or the world's), cardinality kept."""
        active = self.active[active_version]
        total = float(self.rates[rates_version][active].sum())
        skew = self.skew if skew is None else skew
        self.rates.append(power_rates(rng.permutation(self.n_labels), active, total, skew, self.max_rate))
        return len(self.rates) - 1

    # -- thresholds ------------------------------------------------------------------------

    def _scores(self, planes_version: int) -> np.ndarray:
        """Group scores of the reference draws under one concept (``CALIBRATION_SIZE × groups``)."""
        if planes_version not in self._calibration:
            planes = self.planes[planes_version]
            needed = np.setdiff1d(np.flatnonzero(planes.any(axis=0)), self._reference_columns)
            if len(needed):
                # Features are independent, so only the columns some hyperplane reads are drawn,
                # and a column needed later is simply appended.
                more = self._draw(self._calibration_rng, CALIBRATION_SIZE, self.means[0][needed])
                self._reference = np.hstack([self._reference, more])
                self._reference_columns = np.concatenate([self._reference_columns, needed])
            self._calibration[planes_version] = self._reference @ planes[:, self._reference_columns].T
        return self._calibration[planes_version]

    def effective_rates(self, state: State) -> np.ndarray:
        """The reference relevance rate of every label in ``state`` (0 for inactive labels)."""
        return self.rates[state.rates] * self.active[state.active]

    def thresholds(self, state: State) -> np.ndarray:
        """``θ_l`` of every label: the score above which it is relevant in ``state``."""
        key = state[1:]
        if key in self._thresholds:
            return self._thresholds[key]
        scores = self._scores(state.planes)
        groups, rates = self.groups[state.groups], self.effective_rates(state)
        theta = np.empty(self.n_labels)
        for g in np.unique(groups):
            mine = groups == g
            theta[mine] = _upper_quantiles(np.sort(scores[:, g]), rates[mine])
        self._thresholds[key] = theta
        return theta

    def threshold_grid(self, src: State, dst: State) -> np.ndarray:
        """Thresholds at ``GRID_STEPS + 1`` points of an interpolation from ``src`` to ``dst``."""
        key = (src[1:], dst[1:])
        if key in self._grids:
            return self._grids[key]
        a, b = self._scores(src.planes)[:_GRID_SIZE], self._scores(dst.planes)[:_GRID_SIZE]
        ga, gb = self.groups[src.groups], self.groups[dst.groups]
        ra, rb = self.effective_rates(src), self.effective_rates(dst)
        grid = np.empty((GRID_STEPS + 1, self.n_labels))
        pairs = ga * self.n_groups + gb
        for i, alpha in enumerate(np.linspace(0.0, 1.0, GRID_STEPS + 1)):
            rates = (1 - alpha) * ra + alpha * rb
            for pair in np.unique(pairs):
                mine = pairs == pair
                mixed = (1 - alpha) * a[:, pair // self.n_groups] + alpha * b[:, pair % self.n_groups]
                grid[i, mine] = _upper_quantiles(np.sort(mixed), rates[mine])
        self._grids[key] = grid
        return grid

    # -- draws -----------------------------------------------------------------------------

    def _draw(self, rng, m: int, means: np.ndarray) -> np.ndarray:
        """``m`` rows with these column means (broadcast), zeros at the density, rounded."""
        X = means + rng.standard_normal((m, np.shape(means)[-1]))
        if self.density < 1.0:
            X = np.where(rng.random(X.shape) < self.density, X, 0.0)
        if self.decimals is not None:
            X = np.round(X, self.decimals)
        return X + 0.0  # no -0.0: a zero prints and compares as 0

    def draw_features(self, rng, src: State, dst: State, beta: np.ndarray, incremental: bool) -> np.ndarray:
        """Feature rows for records whose weight on ``dst`` is ``beta`` (0/1 or, incremental, in [0, 1])."""
        a, b = self.means[src.means], self.means[dst.means]
        if src.means == dst.means:
            means = a
        elif incremental:
            means = a + beta[:, None] * (b - a)
        else:
            means = np.where(beta[:, None] > 0, b, a)
        return self._draw(rng, len(beta), means)

    def clean_labels(self, X: np.ndarray, state: State) -> np.ndarray:
        """Noise-free relevance (``records × labels`` booleans) of ``X`` under ``state``."""
        scores = X @ self.planes[state.planes].T
        return scores[:, self.groups[state.groups]] > self.thresholds(state)

    def draw_labels(self, rng, X, src: State, dst: State, beta: np.ndarray, incremental: bool) -> np.ndarray:
        """Noisy relevance of ``X`` for records whose weight on ``dst`` is ``beta``."""
        if src[1:] == dst[1:]:  # only the features change, if anything
            Y = self.clean_labels(X, src)
            rates = np.broadcast_to(self.effective_rates(src), Y.shape)
        elif not incremental:
            new = beta[:, None] > 0
            Y = np.where(new, self.clean_labels(X, dst), self.clean_labels(X, src))
            rates = np.where(new, self.effective_rates(dst), self.effective_rates(src))
        else:
            a = (X @ self.planes[src.planes].T)[:, self.groups[src.groups]]
            b = (X @ self.planes[dst.planes].T)[:, self.groups[dst.groups]]
            step = np.rint(beta * GRID_STEPS).astype(np.int64)
            Y = a + beta[:, None] * (b - a) > self.threshold_grid(src, dst)[step]
            ra, rb = self.effective_rates(src), self.effective_rates(dst)
            rates = ra + beta[:, None] * (rb - ra)
        if self.noise > 0:
            cells = rng.random(Y.shape) < self.noise
            Y[cells] = rng.random(int(cells.sum())) < rates[cells]
        return Y
