"""Synthetic multi-label streams with a known concept and known change points.

:class:`SyntheticStream` draws records from a :class:`~connectors.synthetic_model.World`:
features from a (dense or sparse) Gaussian distribution, labels from groups of correlated
labels, each group thresholding its own hyperplane over a few features, at per-label rates
that meet a target cardinality (see :mod:`connectors.synthetic_model` for the model). A list
of :class:`Drift` changes it mid-stream:

========================  =======================================================  ===========
drift kind                what changes                                             what stays
========================  =======================================================  ===========
``feature``               feature means (``p(x)``)                                 ``p(y|x)``
``concept``               the groups' hyperplanes (``p(y|x)``)                     ``p(x)``, rates, groups
``correlation``           labels move to other groups (co-occurrences)             ``p(x)``, rates
``imbalance``             label rates (power-law ranks dealt again)                ``p(x)``, groups, cardinality
``appear`` / ``vanish``   labels start / stop being relevant                       the other labels
``recur``                 back to the state before the previous drift              -
========================  =======================================================  ===========

A drift is sudden (``width = 0``), gradual (over ``width`` records each record comes from
the new state with a probability rising linearly) or incremental (the parameters move
linearly over ``width`` records). Several kinds in one drift change together.

Every stream knows its ``change_points`` before it is iterated (one dict per kind changed:
``t`` the 1-based record where the change starts, ``width``, ``kind`` one of
``feature|concept|correlation|imbalance|labels-appear|labels-vanish``, ``recurring`` whether
the stream returns to a state it was in before), declares every label up front (including
those that appear later), and tags each record with ``meta["concept"]``: the id of the state
it was drawn from (ids are shared by recurring states; an incremental transition's records
count as the nearer end). The stream is re-iterable, identical for a seed, and memory does
not grow with ``n``.

:class:`DriftingStream`, its base, holds what does not depend on the model (the timeline of
states, change points, concept ids, chunked iteration); the extreme topic-model streams of
:mod:`connectors.synthetic_extreme` share it. Named presets over both, and the
``synth:NAME?key=value`` source spec, are in :mod:`connectors.synthetic`.

>>> from connectors.synthetic_stream import SyntheticStream, Drift
>>> stream = SyntheticStream(n=1000, n_labels=6, n_features=5, cardinality=1.5, seed=7,
...                          drifts=[Drift(at=501, kinds="concept")])
>>> stream.labels, stream.features
(['l0', 'l1', 'l2', 'l3', 'l4', 'l5'], ['f0', 'f1', 'f2', 'f3', 'f4'])
>>> stream.change_points
[{'t': 501, 'width': 0, 'kind': 'concept', 'recurring': False}]
>>> records = list(stream)
>>> len(records), records[0].meta, records[-1].meta["concept"]
(1000, {'source': 'synthetic', 'line': 1, 'concept': 0}, 1)
>>> records[0] == next(iter(stream))
True

"""

from __future__ import annotations

import dataclasses
import math
import typing

import numpy as np

from connectors.base import ErrorLog, Record
from connectors.synthetic_model import State, World

__all__ = ["SyntheticStream", "DriftingStream", "Drift", "DRIFT_KINDS", "CHANGE_KINDS", "MODES"]

DRIFT_KINDS = ("feature", "concept", "correlation", "imbalance", "appear", "vanish", "recur")
CHANGE_KINDS = ("feature", "concept", "correlation", "imbalance", "labels-appear", "labels-vanish")
MODES = ("sudden", "gradual", "incremental")


@dataclasses.dataclass(frozen=True)
class Drift:
    """One change of a :class:`SyntheticStream`.

    Parameters
    ----------
    at
        1-based index of the first record that may come from the new state.
    kinds
        One of :data:`DRIFT_KINDS`, several joined with ``+`` (or a tuple) to change together.
        ``recur`` stands alone.
    width
        Records over which the change completes (0: sudden).
    mode
        ``sudden``, ``gradual`` or ``incremental``; default ``sudden`` when ``width`` is 0 and
        ``gradual`` otherwise.
    shift, fraction
        ``feature``: ``fraction`` of the features move by ``±shift`` standard deviations.
    change
        ``concept``: share of the groups whose hyperplane is drawn again.
    move
        ``correlation``: share of the labels that move to another group.
    skew
        ``imbalance``: power-law exponent of the new rates (None: the stream's).
    appear, vanish
        ``appear`` / ``vanish``: how many labels (None: a fifth / a tenth of the labels).

    >>> Drift(at=100, kinds="concept+imbalance", width=50)
    Drift(at=100, kinds=('concept', 'imbalance'), width=50, mode='gradual')

    """

    at: int
    kinds: tuple
    width: int = 0
    mode: str | None = None
    shift: float = dataclasses.field(default=1.0, repr=False)
    fraction: float = dataclasses.field(default=0.5, repr=False)
    change: float = dataclasses.field(default=1.0, repr=False)
    move: float = dataclasses.field(default=1.0, repr=False)
    skew: float | None = dataclasses.field(default=None, repr=False)
    appear: int | None = dataclasses.field(default=None, repr=False)
    vanish: int | None = dataclasses.field(default=None, repr=False)

    def __post_init__(self):
        kinds = tuple(self.kinds.split("+")) if isinstance(self.kinds, str) else tuple(self.kinds)
        unknown = [k for k in kinds if k not in DRIFT_KINDS]
        if not kinds or unknown or len(set(kinds)) != len(kinds):
            raise ValueError(f"drift kinds must be distinct names among {DRIFT_KINDS}, got {kinds}")
        if "recur" in kinds and len(kinds) > 1:
            raise ValueError("'recur' returns to an earlier state as a whole: it cannot be combined with other kinds")
        if self.width < 0:
            raise ValueError(f"drift width must be >= 0, got {self.width}")
        mode = self.mode or ("sudden" if self.width == 0 else "gradual")
        if mode not in MODES:
            raise ValueError(f"drift mode must be one of {MODES}, got {mode!r}")
        if (mode == "sudden") != (self.width == 0):
            raise ValueError(f"a {mode} drift needs {'width 0' if mode == 'sudden' else 'a width >= 1'}")
        for name in ("fraction", "change", "move"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(f"drift {name} must lie in (0, 1], got {getattr(self, name)}")
        object.__setattr__(self, "kinds", kinds)
        object.__setattr__(self, "mode", mode)


class _Phase(typing.NamedTuple):
    """Records ``start..end`` (1-based, inclusive): stable (``src == dst``) or a transition."""

    start: int
    end: int
    src: State
    dst: State
    mode: str
    width: int


def _changed_kinds(world: World, a: State, b: State) -> list[str]:
    kinds = [k for k, field in zip(CHANGE_KINDS, State._fields[:4]) if getattr(a, field) != getattr(b, field)]
    if a.active != b.active:
        before, after = world.active[a.active], world.active[b.active]
        kinds += ["labels-appear"] * bool((after & ~before).any()) + ["labels-vanish"] * bool((before & ~after).any())
    return kinds


class DriftingStream:
    """What every synthetic stream shares: names, a timeline of world states, change points, iteration.

    A subclass builds its world with :meth:`_build` and draws the records of a chunk in
    ``_records(rng, phase, ts)``. The world keeps versions of five components (``means``,
    ``planes``, ``groups``, ``rates``, ``active``: what a ``feature``, ``concept``,
    ``correlation``, ``imbalance`` and ``appear``/``vanish`` drift changes) and makes a new
    version with ``shift_means``, ``redraw_planes``, ``regroup``, ``reweigh`` and
    ``set_active`` (see :class:`~connectors.synthetic_model.World`); ``effective_rates(state)``
    gives each label's rate in a state.
    """

    def __init__(self, n: int, n_labels: int, n_features: int, drifts, seed: int, name: str, on_error: str,
                 sparse: bool):
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        self.n_records = n
        self.name = name
        self.spec = None  # the source spec, when opened from one
        self.sparse = bool(sparse)
        self.errors = ErrorLog(on_error)
        self.labels = [f"l{i:0{len(str(n_labels - 1))}d}" for i in range(n_labels)]
        self.features = [f"f{j:0{len(str(n_features - 1))}d}" for j in range(n_features)]
        self.drifts = list(drifts)
        self._check_positions()
        self._structure_seed, self._calibration_seed, self._records_seed = np.random.SeedSequence(seed).spawn(3)

    def _build(self, make_world: typing.Callable) -> None:
        """Draw the structure: the labels that appear later, ``make_world(rng, inactive)``, the timeline."""
        rng = np.random.default_rng(self._structure_seed)
        appearing = self._reserve_appearing(rng, len(self.labels))
        self.world = make_world(rng, [i for ids in appearing for i in ids])
        self._build_timeline(rng, appearing)

    # -- construction ----------------------------------------------------------------------

    def _check_positions(self) -> None:
        end = 1
        for d in self.drifts:
            if d.at < max(end, 2) or d.at + max(d.width, 1) - 1 > self.n_records:
                raise ValueError(
                    f"drift {d} must start after the previous change ends (record {end}) and end by record"
                    f" {self.n_records}"
                )
            end = d.at + d.width

    def _reserve_appearing(self, rng, n_labels: int) -> list[np.ndarray]:
        """The labels each ``appear`` drift brings, chosen now: they are inactive until then."""
        free = rng.permutation(n_labels)
        out, taken = [], 0
        for d in self.drifts:
            if "appear" in d.kinds:
                count = d.appear if d.appear is not None else max(1, n_labels // 5)
                if not 1 <= count <= n_labels - taken - 1:
                    raise ValueError(f"cannot make {count} of {n_labels} labels appear (at least one must exist first)")
                out.append(np.sort(free[taken : taken + count]))
                taken += count
        return out

    def _next_state(self, rng, state: State, drift: Drift, appearing: list) -> State:
        w = self.world
        means, planes, groups, rates, active = state
        if "vanish" in drift.kinds:
            alive = np.flatnonzero(w.active[active])
            count = drift.vanish if drift.vanish is not None else max(1, w.n_labels // 10)
            if not 1 <= count < len(alive):
                raise ValueError(f"cannot make {count} of the {len(alive)} active labels vanish at record {drift.at}")
            active = w.set_active(active, rng.choice(alive, count, replace=False), False)
        if "appear" in drift.kinds:
            active = w.set_active(active, appearing.pop(0), True)
        if "feature" in drift.kinds:
            means = w.shift_means(means, drift.shift, drift.fraction, rng)
        if "concept" in drift.kinds:
            planes = w.redraw_planes(planes, drift.change, rng)
        if "correlation" in drift.kinds:
            groups = w.regroup(groups, drift.move, rng)
        if "imbalance" in drift.kinds:
            rates = w.reweigh(rates, active, drift.skew, rng)
        return State(means, planes, groups, rates, active)

    def _build_timeline(self, rng, appearing: list) -> None:
        history = [State(0, 0, 0, 0, 0)]
        self.change_points: list[dict] = []
        self._phases: list[_Phase] = []
        start = 1
        for d in self.drifts:
            src = history[-1]
            if d.kinds == ("recur",):
                if len(history) < 2:
                    raise ValueError(f"'recur' at record {d.at} has no earlier state to return to")
                dst = history[-2]
            else:
                dst = self._next_state(rng, src, d, appearing)
            recurring = dst in history
            for kind in _changed_kinds(self.world, src, dst):
                self.change_points.append({"t": d.at, "width": d.width, "kind": kind, "recurring": recurring})
            self._phases.append(_Phase(start, d.at - 1, src, src, "stable", 0))
            if d.width:
                self._phases.append(_Phase(d.at, d.at + d.width - 1, src, dst, d.mode, d.width))
            start = d.at + d.width
            history.append(dst)
        self._phases.append(_Phase(start, self.n_records, history[-1], history[-1], "stable", 0))
        self._states = list(dict.fromkeys(history))  # concept id = index here
        self._ids = {s: i for i, s in enumerate(self._states)}

    # -- the concept, for inspection -------------------------------------------------------

    @property
    def n_concepts(self) -> int:
        """Distinct states the stream visits (concept ids are ``0..n_concepts-1``)."""
        return len(self._states)

    def _state(self, concept: int) -> State:
        if not 0 <= concept < len(self._states):
            raise ValueError(f"concept ids run 0..{len(self._states) - 1}, got {concept}")
        return self._states[concept]

    def label_rates(self, concept: int) -> dict:
        """Each label's relevance rate in ``concept``, under the first feature distribution."""
        return dict(zip(self.labels, self.world.effective_rates(self._state(concept)).tolist()))

    def active_labels(self, concept: int) -> list:
        """The labels that can be relevant in ``concept``."""
        active = self.world.active[self._state(concept).active]
        return [name for name, on in zip(self.labels, active) if on]

    # -- streaming -------------------------------------------------------------------------

    def __len__(self) -> int:
        return self.n_records

    def __iter__(self) -> typing.Iterator[Record]:
        rng = np.random.default_rng(self._records_seed)
        chunk = self._chunk_size()
        for phase in self._phases:
            for first in range(phase.start, phase.end + 1, chunk):
                yield from self._records(rng, phase, np.arange(first, min(first + chunk, phase.end + 1)))

    @staticmethod
    def _transition_weights(rng, phase: _Phase, ts: np.ndarray) -> np.ndarray:
        """Each record's weight on the phase's new state: 0 when stable, 0/1 (gradual) or in [0, 1]."""
        if phase.mode == "stable":
            return np.zeros(len(ts))
        alpha = (ts - phase.start + 1) / (phase.width + 1)
        return alpha if phase.mode == "incremental" else (rng.random(len(ts)) < alpha).astype(float)

    def _concept_ids(self, phase: _Phase, beta: np.ndarray) -> list:
        """The concept id of each record: the nearer end of its transition."""
        return np.where(beta >= 0.5, self._ids[phase.dst], self._ids[phase.src]).tolist()

    def __repr__(self) -> str:
        kinds = ", ".join(f"{c['kind']}@{c['t']}" for c in self.change_points) or "stationary"
        return (f"SyntheticStream({self.name!r}, {self.n_records} records, {len(self.features)} features, "
                f"{len(self.labels)} labels; {kinds})")


class SyntheticStream(DriftingStream):
    """A seeded multi-label stream from a known concept, with drifts at known records.

    Parameters
    ----------
    n
        Records in the stream.
    n_labels, n_features
        Label names ``l0..`` (all of them, those that appear mid-stream included) and feature
        names ``f0..`` (zero-padded to equal width).
    cardinality
        Expected relevant labels per record at the start (under the first feature
        distribution, counting the labels active at the start).
    groups
        Groups of correlated labels (default: a fifth of the labels, at least 2 when possible).
    relevant
        Features each group's hyperplane reads (default 3, more when ``density < 1``).
    noise
        Probability that a label's value is replaced by an independent draw at its rate.
    density
        Probability that a feature is non-zero (1: dense Gaussian features).
    sparse
        Records list only their non-zero features (otherwise every feature, zeros included).
    skew, max_rate
        Power-law exponent and cap of the label rates.
    decimals
        Features are rounded to this many decimals (None: not rounded).
    drifts
        :class:`Drift` objects in order; a drift starts no earlier than the previous one ends.
    seed
        Same seed, same stream; the structure, the calibration and the records draw from
        independent children of it.
    name
        Written into every record's ``meta["source"]``.
    on_error
        Accepted for the Source protocol; a synthetic stream has no bad records.

    Examples
    --------
    >>> from connectors.synthetic_stream import SyntheticStream, Drift
    >>> stream = SyntheticStream(n=3000, n_labels=10, n_features=12, cardinality=2.0, seed=1,
    ...                          drifts=[Drift(at=2001, kinds="vanish", vanish=3)])
    >>> stream.change_points
    [{'t': 2001, 'width': 0, 'kind': 'labels-vanish', 'recurring': False}]
    >>> gone = set(stream.labels) - set(stream.active_labels(1))
    >>> late = [r for r in stream if r.meta["line"] > 2000]
    >>> len(gone), any(r.y & gone for r in late)
    (3, False)
    >>> round(sum(stream.label_rates(0).values()), 3)
    2.0

    """

    def __init__(
        self, n: int, n_labels: int = 20, n_features: int = 30, cardinality: float = 2.0,
        groups: int | None = None, relevant: int | None = None, noise: float = 0.05, density: float = 1.0,
        sparse: bool = False, skew: float = 1.0, max_rate: float = 0.5, decimals: int | None = 4,
        drifts: typing.Sequence[Drift] = (), seed: int = 0, name: str = "synthetic", on_error: str = "raise",
    ):
        super().__init__(n, n_labels, n_features, drifts, seed, name, on_error, sparse)
        if groups is None:
            groups = max(min(2, n_labels), round(n_labels / 5))
        self._build(lambda rng, inactive: World(
            n_labels, n_features, groups, cardinality, rng, relevant=relevant, skew=skew, max_rate=max_rate,
            density=density, noise=noise, decimals=decimals, inactive=inactive,
            calibration_rng=np.random.default_rng(self._calibration_seed),
        ))

    # -- the concept, for inspection -------------------------------------------------------

    def concept_labels(self, x: dict, concept: int) -> frozenset:
        """The labels concept ``concept`` makes relevant for features ``x``, without noise."""
        row = np.array([[float(x.get(f, 0.0)) for f in self.features]])
        relevant = self.world.clean_labels(row, self._state(concept))[0]
        return frozenset(self.labels[i] for i in np.flatnonzero(relevant))

    # -- streaming -------------------------------------------------------------------------

    def _chunk_size(self) -> int:
        # a chunk holds dense records x labels and records x features arrays
        return max(16, min(1024, (1 << 18) // max(len(self.labels), len(self.features))))

    def _records(self, rng, phase: _Phase, ts: np.ndarray) -> typing.Iterator[Record]:
        src, dst = phase.src, phase.dst
        beta = self._transition_weights(rng, phase, ts)
        incremental = phase.mode == "incremental"
        X = self.world.draw_features(rng, src, dst, beta, incremental)
        Y = self.world.draw_labels(rng, X, src, dst, beta, incremental)
        concepts = self._concept_ids(phase, beta)
        rows, cols = np.nonzero(Y)
        relevant = np.split(cols, np.searchsorted(rows, np.arange(1, len(ts))))
        labels, features, name = self.labels, self.features, self.name
        for i, t in enumerate(ts.tolist()):
            values = X[i]
            if self.sparse:
                nz = np.flatnonzero(values)
                x = {features[j]: v for j, v in zip(nz.tolist(), values[nz].tolist())}
            else:
                x = dict(zip(features, values.tolist()))
            y = frozenset(labels[j] for j in relevant[i].tolist())
            yield Record(x, y, {"source": name, "line": t, "concept": concepts[i]})
