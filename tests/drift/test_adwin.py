"""stream_xml.drift.ADWIN against river.drift.ADWIN: same flags, widths and floats after every
update, on stationary, abruptly and gradually drifting streams."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from river import base as river_base
from river import drift as river_drift

from stream_xml.drift import ADWIN, adwin_kernels

PARAMS = {
    "defaults": {},
    "delta0.1-clock1": {"delta": 0.1, "clock": 1},
    "delta0.01-clock8": {"delta": 0.01, "clock": 8},
    "delta1e-5-clock16": {"delta": 1e-5, "clock": 16, "min_window_length": 10, "grace_period": 50},
    "two-buckets": {"delta": 0.05, "clock": 3, "max_buckets": 2, "min_window_length": 1,
                    "grace_period": 0},
    # A check on every update and short splits: on short-segments, whether the first check
    # comes at grace_period or one value later decides some cuts.
    "eager": {"delta": 0.3, "clock": 1, "min_window_length": 2, "grace_period": 12},
}

N = 8000


def _abrupt(rng):
    means = np.repeat([0.0, 1.0, 0.3], [N // 2, N // 4, N - N // 2 - N // 4])
    return rng.normal(means, 1.0)


def _gradual(rng):
    means = np.clip((np.arange(N) - N / 4) / (N / 2), 0.0, 1.0) * 1.5
    return rng.normal(means, 0.5)


def _bernoulli(rng):
    rate = np.repeat([0.2, 0.5, 0.3], [N // 2, N // 4, N - N // 2 - N // 4])
    return (rng.random(N) < rate).astype(np.float64)


def _running_hamming_loss(rng):
    """Cumulative mean of per-instance Hamming losses over 7 labels whose error rate jumps."""
    rate = np.where(np.arange(N) < N // 3, 0.1, 0.35)
    losses = rng.binomial(7, rate) / 7
    return np.cumsum(losses) / np.arange(1, N + 1)


def _many_shifts(rng):
    """A new mean every 250 values: dozens of cuts, many of them deleting large buckets."""
    means = np.repeat(rng.uniform(-3.0, 3.0, N // 250), 250)
    return rng.normal(means, 1.0)


def _short_segments(rng):
    """A new mean every 8 to 60 values: cuts in short windows, where the tested splits are
    close to min_window_length."""
    lengths = rng.integers(8, 61, N // 8)
    means = np.repeat(rng.uniform(-5.0, 5.0, len(lengths)), lengths)[:N]
    return rng.normal(means, 0.2)


def _constant(rng):
    return np.full(N, 0.7)


STREAMS = {
    "abrupt": _abrupt,
    "gradual": _gradual,
    "bernoulli": _bernoulli,
    "running-hamming-loss": _running_hamming_loss,
    "many-shifts": _many_shifts,
    "short-segments": _short_segments,
    "constant": _constant,
}


def _stream(name):
    return STREAMS[name](np.random.default_rng(sorted(STREAMS).index(name)))


def _state(detector):
    return (
        detector.drift_detected,
        detector.width,
        detector.estimation,
        detector.variance,
        detector.total,
        detector.n_detections,
    )


def _trace(detector, values):
    trace = []
    for x in values:
        detector.update(x)
        trace.append(_state(detector))
    return trace


def _first_difference(ours, theirs):
    return next(
        ((i, a, b) for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b), None
    )


@pytest.fixture(scope="module")
def river_traces():
    """river's state after every update, per (stream, parameters): computed once, reused."""
    return {
        (stream, params): _trace(river_drift.ADWIN(**PARAMS[params]), _stream(stream).tolist())
        for stream in STREAMS
        for params in PARAMS
    }


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("stream", STREAMS)
def test_update_matches_river_exactly(stream, params, river_traces):
    values = _stream(stream).tolist()
    if stream == "bernoulli":
        values = [int(x) for x in values]  # ints go through float() like river's f64 conversion
    theirs = river_traces[stream, params]
    ours = _trace(ADWIN(**PARAMS[params]), values)
    assert _first_difference(ours, theirs) is None
    n_detections = sum(state[0] for state in theirs)
    # Every drifting stream must exercise the cut; the constant one must not.
    assert (n_detections == 0) == (stream == "constant")


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("stream", STREAMS)
def test_update_many_matches_river_exactly(stream, params, river_traces):
    theirs = river_traces[stream, params]
    detector = ADWIN(**PARAMS[params])
    flags = detector.update_many(_stream(stream))
    assert flags.dtype == np.bool_
    assert flags.tolist() == [state[0] for state in theirs]
    assert _state(detector) == theirs[-1]


def test_update_many_in_chunks_mixed_with_update_matches_river(river_traces):
    values = _stream("abrupt")
    theirs = river_traces["abrupt", "delta0.1-clock1"]
    detector = ADWIN(**PARAMS["delta0.1-clock1"])
    rng = np.random.default_rng(5)
    ours, start = [], 0
    while start < len(values):
        stop = min(len(values), start + int(rng.integers(0, 300)))
        if rng.random() < 0.5:
            for x in values[start:stop]:
                detector.update(x)
                ours.append(detector.drift_detected)
        else:
            ours.extend(detector.update_many(values[start:stop]).tolist())
        if stop > 0:
            assert _state(detector) == theirs[stop - 1]
        start = stop
    assert ours == [state[0] for state in theirs]


def test_update_many_of_nothing_changes_nothing():
    detector = ADWIN(clock=1)
    detector.update_many(np.r_[np.zeros(200), np.ones(50)])
    before = _state(detector)
    assert detector.update_many([]).shape == (0,)
    assert _state(detector) == before


def test_update_many_rejects_two_dimensional_input():
    with pytest.raises(ValueError, match="one-dimensional"):
        ADWIN().update_many(np.zeros((3, 2)))


@pytest.mark.parametrize("when", ["mid-window", "right-after-detection"])
def test_pickling_mid_stream_continues_identically(when):
    values = _stream("abrupt")
    flags = ADWIN(delta=0.1, clock=4).update_many(values)
    assert flags.any()
    split = int(np.flatnonzero(flags)[0]) + 1 if when == "right-after-detection" else N // 3

    original = ADWIN(delta=0.1, clock=4)
    original.update_many(values[:split])
    restored = pickle.loads(pickle.dumps(original))
    assert _state(restored) == _state(original)
    # Right after a detection, the restored detector must still empty itself on its next update.
    assert restored.drift_detected == (when == "right-after-detection")
    rest = values[split:].tolist()
    assert _trace(restored, rest) == _trace(original, rest)


@pytest.mark.parametrize(
    "params, expect_alarms",
    [({}, False), ({"delta": 0.5, "clock": 1}, True)],
    ids=["defaults", "delta0.5-clock1"],
)
def test_false_alarms_on_stationary_bernoulli_equal_rivers(params, expect_alarms):
    values = (np.random.default_rng(11).random(100_000) < 0.2).astype(np.float64)
    theirs = river_drift.ADWIN(**params)
    river_flags = []
    for x in values.tolist():
        theirs.update(x)
        river_flags.append(theirs.drift_detected)
    ours = ADWIN(**params).update_many(values)
    assert int(ours.sum()) == sum(river_flags)
    assert ours.tolist() == river_flags
    assert (sum(river_flags) > 0) == expect_alarms


def _histogram_is_consistent(detector):
    """Rows hold 0 to max_buckets buckets, the rows in use end with a non-empty one and leave
    the last row free, and the buckets add up to the window."""
    sizes = detector._level_sizes
    rows_in_use = int(np.flatnonzero(sizes).max()) + 1 if sizes.any() else 1
    width = sum(int(size) << level for level, size in enumerate(sizes))
    total = sum(detector._buckets[0, level, :size].sum() for level, size in enumerate(sizes))
    return (
        bool((sizes >= 0).all() and (sizes <= detector.max_buckets).all())
        and rows_in_use == detector._counters[adwin_kernels.N_LEVELS] < len(sizes)
        and width == detector.width
        and np.isclose(total, detector.total)
    )


def test_rows_grow_with_the_window():
    detector = ADWIN(clock=1000)
    rows = len(detector._level_sizes)
    for n in [1, 100, 5000, 60_000]:
        detector.update_many(np.random.default_rng(n).random(n))
        assert _histogram_is_consistent(detector)
    assert detector.width == 65_101
    assert len(detector._level_sizes) > rows


def test_single_bucket_rows_match_river_while_it_runs_and_stay_consistent():
    """With max_buckets=1, rows below the top one can be empty; river 0.26.1 panics when a cut
    empties the top row and the next row down is empty too. Up to then both agree, and ours
    keeps a valid histogram throughout."""
    # With this seed, river panics at the cut that follows the shift.
    values = np.random.default_rng(6).normal(np.repeat([0.0, 0.5], [5000, 2000]), 1.0).tolist()
    ours, theirs = ADWIN(max_buckets=1, clock=4), river_drift.ADWIN(max_buckets=1, clock=4)
    compared = 0
    for x in values:
        ours.update(x)
        assert _histogram_is_consistent(ours)
        if theirs is None:
            continue
        try:
            theirs.update(x)
        except BaseException as error:
            if type(error).__name__ != "PanicException":
                raise
            theirs = None
            continue
        assert _state(ours) == _state(theirs)
        compared += 1
    assert compared > 5000


def test_empty_detector():
    detector = ADWIN()
    assert _state(detector) == (False, 0, 0.0, 0.0, 0.0, 0)


def test_is_a_river_drift_detector_and_clones_fresh():
    detector = ADWIN(delta=0.01, clock=8)
    detector.update_many(np.arange(100.0))
    clone = detector.clone()
    assert isinstance(clone, river_base.DriftDetector)
    assert (clone.delta, clone.clock) == (0.01, 8)
    assert clone.width == 0


@pytest.mark.parametrize(
    "params", [{"delta": 0.0}, {"delta": 1.0}, {"clock": 0}, {"max_buckets": 0}]
)
def test_rejects_invalid_parameters(params):
    with pytest.raises(ValueError):
        ADWIN(**params)
