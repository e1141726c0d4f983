"""The measures of the drift study (experiments/drift.py) on series and events whose answers are
worked out by hand: recovery time, detection delay, false alarms, and the event stamping."""

import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _load_study():
    spec = importlib.util.spec_from_file_location("drift_study", ROOT / "experiments" / "drift.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


drift = _load_study()

TS = list(range(100, 6001, 100))  # samples every 100 records, as the study takes them


def series(level_at):
    """Rolling values at TS from a function of the sample's record index."""
    return [level_at(t) for t in TS]


# -- recovery ---------------------------------------------------------------------------------------


def test_recovery_counts_records_from_the_change_to_the_first_sample_back_at_the_level():
    # 0.8 until the change at 1001 shows, 0.5 from sample 1100 to 1800, 0.8 again from 1900
    values = series(lambda t: 0.5 if 1100 <= t <= 1800 else 0.8)
    assert drift.pre_level(TS, values, 1001) == pytest.approx(0.8)
    assert drift.post_minimum(TS, values, 1001, 6000) == 0.5
    # records 1001..1900 = 900 records of the new concept
    assert drift.recovery_time(TS, values, 1001, 0, 6000, level=0.8) == 900


def test_recovery_is_zero_without_a_dip_and_none_without_a_return():
    flat = series(lambda t: 0.8)
    assert drift.recovery_time(TS, flat, 1001, 0, 6000, level=0.8) == 0
    # a dip of less than the tolerance is no dip
    shallow = series(lambda t: 0.795 if t > 1000 else 0.8)
    assert drift.recovery_time(TS, shallow, 1001, 0, 6000, level=0.8) == 0
    never = series(lambda t: 0.6 if t > 1000 else 0.8)
    assert drift.recovery_time(TS, never, 1001, 0, 6000, level=0.8) is None


def test_recovery_needs_hold_consecutive_samples_back_at_the_level():
    # one sample back at 1600 (noise), then down again; back for good from 2500
    values = series(lambda t: 0.8 if t <= 1000 or t == 1600 or t >= 2500 else 0.5)
    assert drift.recovery_time(TS, values, 1001, 0, 6000, level=0.8) == 1500
    assert drift.recovery_time(TS, values, 1001, 0, 6000, level=0.8, hold=1) == 600


def test_recovery_waits_for_a_window_of_new_records_only():
    # the rolling value dips at 1100 and looks recovered at 1200, before the window (500)
    # holds only new records: the first acceptable sample is 1001 + 500 - 1 = 1500, the
    # 500th record of the new concept
    values = series(lambda t: 0.5 if t == 1100 else 0.8)
    assert drift.recovery_time(TS, values, 1001, 0, 6000, level=0.8) == 500
    # a gradual change of width 1000 pushes that to sample 1001 + 1000 + 499 = 2500
    assert drift.recovery_time(TS, values, 1001, 1000, 6000, level=0.8) == 1500


def test_recovery_after_the_segment_end_does_not_count():
    values = series(lambda t: 0.5 if 1100 <= t <= 3000 else 0.8)
    assert drift.recovery_time(TS, values, 1001, 0, 6000, level=0.8) == 2100
    assert drift.recovery_time(TS, values, 1001, 0, 3000, level=0.8) is None
    # the hold must also fit before the end: back at 3100, but only 2 samples up to 3200
    assert drift.recovery_time(TS, values, 1001, 0, 3200, level=0.8) is None


def test_post_mean_covers_the_span_after_the_change_within_the_segment():
    values = series(lambda t: 1.0 if t < 2000 else 0.0)
    # samples 1100..4000 (30): 1100..1900 are 1.0 (9 samples)
    assert drift.post_mean(TS, values, 1001, 6000, span=3000) == pytest.approx(9 / 30)
    assert drift.post_mean(TS, values, 1001, 1500, span=3000) == pytest.approx(1.0)


# -- detection and false alarms -------------------------------------------------------------------


def test_detection_delay_is_the_first_event_within_the_horizon():
    assert drift.detection_delay([500, 1200, 1300], 1001, 0, horizon=2000) == 200
    assert drift.detection_delay([500, 999], 1001, 0, horizon=2000) is None
    # the horizon is start + width + horizon, inclusive
    assert drift.detection_delay([3001], 1001, 0, horizon=2000) == 2001
    assert drift.detection_delay([3002], 1001, 0, horizon=2000) is None
    assert drift.detection_delay([3500], 1001, 1000, horizon=2000) == 2500
    # an event on the change's first record is one record late
    assert drift.detection_delay([1001], 1001, 0) == 1


def test_false_alarms_leave_out_the_burn_in_and_the_windows_after_changes():
    changes = [{"t": 5001, "width": 0, "kind": "concept"}]
    events = [100, 2000, 2500, 5001, 6000, 7001, 7002, 9999]
    alarms, records = drift.false_alarms(events, changes, n=10000, horizon=2000, burn_in=2000)
    assert alarms == 3  # 2500, 7002, 9999
    assert records == 10000 - 2000 - 2001  # records 2001..5000 and 7002..10000
    assert drift.per_100k(alarms, records) == pytest.approx(3 * 100000 / 5999)


def test_false_alarm_windows_stretch_over_a_gradual_change():
    changes = [{"t": 3001, "width": 1000, "kind": "concept"}, {"t": 8001, "width": 0, "kind": "concept"}]
    events = [5500, 6001, 6002, 10001, 10002]
    alarms, records = drift.false_alarms(events, changes, n=12000, horizon=2000, burn_in=2000)
    assert alarms == 2  # 6002 and 10002
    assert records == 12000 - 2000 - 3001 - 2001
    assert drift.per_100k(0, 0) is None


def test_changes_of_several_kinds_at_one_record_are_one_change():
    points = [
        {"t": 501, "width": 0, "kind": "concept", "recurring": False},
        {"t": 501, "width": 0, "kind": "imbalance", "recurring": False},
        {"t": 900, "width": 50, "kind": "concept", "recurring": True},
    ]
    changes = drift.group_changes(points)
    assert changes == [{"t": 501, "width": 0, "kind": "concept+imbalance"},
                       {"t": 900, "width": 50, "kind": "concept(r)"}]
    assert drift.segment_ends(changes, 2000) == [899, 2000]


# -- the run record -----------------------------------------------------------------------------------


class _Emitter:
    """A model that reports one event per record, stamped with its own (wrong) record count."""

    def __init__(self):
        self.restructure_min_t = 100
        self.pending = []

    def learn_labelset(self, x, labelset):
        self.pending.append({"kind": "restructure" if x["i"] % 2 else "split", "t": 10_000 + x["i"]})

    def predict_with_scores(self, x):
        return frozenset(), {}

    def drain_events(self):
        events, self.pending = self.pending, []
        return events


def test_tracked_stamps_events_with_the_stream_index_and_freezes_on_time():
    tracked = drift.Tracked(_Emitter(), freeze_at=3)
    assert tracked.predict_with_scores({}) == (frozenset(), {})  # delegated to the model
    for i in range(1, 5):
        tracked.learn_labelset({"i": i}, [])
        assert (tracked.model.restructure_min_t < 10**12) == (i < 3)
    assert tracked.events == [{"t": 1, "kind": "restructure"}, {"t": 3, "kind": "restructure"}]
    assert dict(tracked.counts) == {"restructure": 2, "split": 2}
    assert tracked.model.restructure_min_t >= 10**12
    assert tracked.drain_events() == []


def test_change_rows_of_a_constructed_run():
    values = series(lambda t: 0.5 if 1100 <= t <= 1800 else 0.8)
    run = {
        "config": {"stream": "s", "variant": "ihomer", "seed": 0},
        "records": 6000,
        "change_points": [{"t": 1001, "width": 0, "kind": "concept", "recurring": False}],
        "series": {"t": TS, "micro_f1": values, "subset_accuracy": [v / 2 for v in values]},
        "events": [{"t": 300, "kind": "restructure"}, {"t": 1250, "kind": "alternate_promoted"},
                   {"t": 1400, "kind": "global_drift"}, {"t": 4500, "kind": "restructure"}],
    }
    (row,) = drift.change_rows(run)
    assert row["micro_f1.recovery"] == 900
    assert row["subset_accuracy.pre"] == pytest.approx(0.4)
    assert row["subset_accuracy.recovery"] == 900
    assert (row["delay.any"], row["delay.global"], row["delay.local"]) == (250, 400, 250)
    # after record 2000 and outside [1001, 3001]: the restructure at 4500, over 2999 records
    assert drift.alarm_summary(run)["global"] == (1, 2999, pytest.approx(100000 / 2999))
    assert drift.alarm_summary(run)["local"][0] == 0
    mlht = {**run, "config": {**run["config"], "variant": "mlht"}}
    (row,) = drift.change_rows(mlht)
    assert row["delay.any"] is None and "delay.global" not in row
