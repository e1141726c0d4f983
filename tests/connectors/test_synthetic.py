"""Synthetic streams: stated properties (cardinality, change points, what each drift changes and
what it leaves alone, recurrence, label birth and death, seeds), the synth: spec, the ARFF
writer's round trip, `stream-xml generate`, and that a real learner beats the majority labelset."""

import argparse
import gzip
import tracemalloc

import numpy as np
import pytest

import connectors.synthetic as synthetic
from connectors.arff import ArffSource
from connectors.arff_writer import read_change_points, write_arff
from connectors.base import Source
from connectors.catalog import open_source
from connectors.synthetic import Drift, SyntheticStream, make_stream, parse_spec
from stream_xml.cli import generate


# ---------------------------------------------------------------------------- statistics


def label_matrix(records, labels):
    return np.array([[name in r.y for name in labels] for r in records], float)


def feature_matrix(records, features):
    return np.array([[r.x.get(f, 0.0) for f in features] for r in records])


def cooccurrence(Y):
    """Pairwise phi correlations of the labels (0 where a label is constant)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num(np.corrcoef(Y.T))


def oracle_f1(stream, records, concept):
    """Micro-F1 of ``concept``'s noise-free labels against the records' labels."""
    tp = fp = fn = 0
    for r in records:
        predicted = stream.concept_labels(r.x, concept)
        tp += len(predicted & r.y)
        fp += len(predicted - r.y)
        fn += len(r.y - predicted)
    return 2 * tp / (2 * tp + fp + fn)


def split_at(records, t):
    return [r for r in records if r.meta["line"] < t], [r for r in records if r.meta["line"] >= t]


def segment_stats(stream, records):
    Y = label_matrix(records, stream.labels)
    return {
        "marginals": Y.mean(axis=0),
        "cooccurrence": cooccurrence(Y),
        "cardinality": Y.sum(axis=1).mean(),
        "means": feature_matrix(records, stream.features).mean(axis=0),
    }


# Two halves of one concept (5000 records each) differ by about 0.015 in their largest marginal and
# 0.02 in their mean co-occurrence; a drift that changes a statistic changes it by 0.15 or more.
SAME_MARGINALS, SAME_COOC, SAME_MEANS, SAME_CARD = 0.04, 0.035, 0.1, 0.12


def max_diff(a, b):
    return float(np.abs(a - b).max())


def mean_diff(a, b):
    return float(np.abs(a - b).mean())


# ---------------------------------------------------------------------------- the source


def test_a_stream_is_a_declared_reiterable_source():
    stream = make_stream("emerging-labels", n=600, labels=10, features=7, seed=2)
    assert isinstance(stream, Source)
    assert stream.labels == [f"l{i}" for i in range(10)] and stream.features == [f"f{j}" for j in range(7)]
    assert stream.n_records == len(stream) == 600
    records = list(stream)
    assert [r.meta["line"] for r in records] == list(range(1, 601))
    assert all(r.meta["source"] == "synth:emerging-labels" and set(r.meta) == {"source", "line", "concept"}
               for r in records)
    assert set().union(*(r.y for r in records)) <= set(stream.labels)
    assert all(set(r.x) == set(stream.features) for r in records)  # dense: every feature, zeros too
    assert stream.errors.count == 0 and stream.errors.samples == []
    assert list(stream) == records


@pytest.mark.parametrize("labels, cardinality, options", [
    (20, 2.0, {}),
    (50, 5.0, {"skew": 0.5, "groups": 7}),
    (8, 0.6, {"noise": 0.0}),
    (20, 1.5, {"density": 0.1, "features": 200, "sparse": True}),
])
def test_cardinality_density_and_marginals_meet_their_targets(labels, cardinality, options):
    stream = make_stream("stationary", n=8000, labels=labels, cardinality=cardinality, seed=11, **options)
    Y = label_matrix(stream, stream.labels)
    assert Y.sum(axis=1).mean() == pytest.approx(cardinality, rel=0.05)
    assert Y.mean() == pytest.approx(cardinality / labels, rel=0.05)  # label density
    rates = np.array(list(stream.label_rates(0).values()))
    assert rates.sum() == pytest.approx(cardinality) and rates.max() <= 0.5 + 1e-12
    assert max_diff(Y.mean(axis=0), rates) < 0.03


def test_labels_are_imbalanced_and_correlated_in_groups():
    stream = make_stream("stationary", n=6000, labels=20, seed=4)
    Y = label_matrix(stream, stream.labels)
    marginals = np.sort(Y.mean(axis=0))
    assert marginals[-1] > 8 * marginals[0]  # power-law rates
    groups = stream.world.groups[0]
    phi = cooccurrence(Y)
    same = groups[:, None] == groups[None, :]
    off_diagonal = ~np.eye(len(groups), dtype=bool)
    assert phi[same & off_diagonal].mean() > 0.3 > 0.05 > abs(phi[~same].mean())


def test_sparse_features_are_sparse_and_equal_the_dense_stream_up_to_zeros():
    common = dict(n=500, labels=10, features=60, density=0.2, seed=9)
    sparse = list(make_stream("concept-shift", sparse=True, **common))
    dense = list(make_stream("concept-shift", sparse=False, **common))
    assert all(0.0 not in r.x.values() for r in sparse)
    assert np.mean([len(r.x) for r in sparse]) == pytest.approx(0.2 * 60, rel=0.1)
    for s, d in zip(sparse, dense, strict=True):
        assert s.x == {k: v for k, v in d.x.items() if v != 0.0}
        assert (s.y, s.meta) == (d.y, d.meta)


def test_same_seed_same_stream_other_seed_other_stream():
    first = list(make_stream("mixed", n=700, labels=12, seed=5))
    assert first == list(make_stream("mixed", n=700, labels=12, seed=5))
    other = list(make_stream("mixed", n=700, labels=12, seed=6))
    assert sum(a.x == b.x for a, b in zip(first, other)) == 0
    assert sum(a.y == b.y for a, b in zip(first, other)) < 600


@pytest.mark.parametrize("preset, sizes, params", [
    ("gradual-concept", (3000, 30000), {"labels": 10}),
    ("extreme", (2000, 8000), {"labels": 500, "features": 5000, "drifts": "correlation@0.5"}),
])
def test_streaming_memory_does_not_grow_with_n(preset, sizes, params):
    def peak(n):
        stream = make_stream(preset, n=n, seed=1, **params)
        tracemalloc.start()
        for _ in stream:
            pass
        top = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return top

    small, large = map(peak, sizes)
    assert large < 1.5 * small + 100_000


# ---------------------------------------------------------------------------- change points


def test_change_points_are_where_stated():
    stream = make_stream("concept-shift", n=1000, at="0.3,700", labels=10)
    assert stream.change_points == [
        {"t": 301, "width": 0, "kind": "concept", "recurring": False},
        {"t": 700, "width": 0, "kind": "concept", "recurring": False},
    ]
    ids = [r.meta["concept"] for r in stream]
    assert ids == [0] * 300 + [1] * 399 + [2] * 301
    gradual = make_stream("imbalance-shift", n=2000, at=0.5, width=0.1, labels=10)
    assert gradual.change_points == [{"t": 1001, "width": 200, "kind": "imbalance", "recurring": False}]


def test_gradual_drift_mixes_the_two_concepts_with_a_rising_share():
    stream = make_stream("gradual-concept", n=4000, labels=10, seed=3)  # from 2001 over 400 records
    assert stream.change_points == [{"t": 2001, "width": 400, "kind": "concept", "recurring": False}]
    ids = {r.meta["line"]: r.meta["concept"] for r in stream}
    assert all(ids[t] == 0 for t in range(1, 2001)) and all(ids[t] == 1 for t in range(2401, 4001))
    window = [ids[t] for t in range(2001, 2401)]
    assert 0.1 < np.mean(window[:200]) < 0.4 < 0.6 < np.mean(window[200:]) < 0.9


def test_incremental_drift_moves_the_concept_step_by_step():
    stream = make_stream("incremental-concept", n=6000, labels=10, width=0.5, at=0.25, seed=2)
    records = list(stream)  # the concept rotates over records 1501..4500
    quarters = [records[1500 + 750 * q: 2250 + 750 * q] for q in range(4)]
    old = [oracle_f1(stream, part, 0) for part in quarters]
    new = [oracle_f1(stream, part, 1) for part in quarters]
    assert old == sorted(old, reverse=True) and new == sorted(new)
    assert old[0] > 0.75 > 0.5 > old[-1] and new[-1] > 0.75 > 0.5 > new[0]
    # rates are kept all along the way
    rates = np.array(list(stream.label_rates(0).values()))
    for part in quarters:
        assert max_diff(label_matrix(part, stream.labels).mean(axis=0), rates) < 0.06


# ---------------------------------------------------------------------------- each kind of drift


def drifted(preset, **params):
    stream = make_stream(preset, n=10000, labels=20, seed=5, **params)
    before, after = split_at(list(stream), stream.change_points[0]["t"])
    return stream, before, after, segment_stats(stream, before), segment_stats(stream, after)


def test_feature_drift_moves_the_features_and_keeps_p_y_given_x():
    stream, before, after, a, b = drifted("feature-shift", shift=1.5, fraction=0.4)
    moved = np.abs(b["means"] - a["means"]) > 0.5
    assert moved.sum() == 12 and np.abs(b["means"] - a["means"])[moved] == pytest.approx(1.5, abs=0.1)
    assert max_diff(a["means"][~moved], b["means"][~moved]) < SAME_MEANS
    fit_before = oracle_f1(stream, before, 0)
    assert fit_before > 0.9 and oracle_f1(stream, after, 0) == pytest.approx(fit_before, abs=0.03)


def test_concept_drift_changes_p_y_given_x_and_keeps_p_x_and_p_y():
    stream, before, after, a, b = drifted("concept-shift")
    assert oracle_f1(stream, before, 0) > 0.9 and oracle_f1(stream, after, 0) < 0.4
    assert oracle_f1(stream, after, 1) > 0.9
    assert max_diff(a["marginals"], b["marginals"]) < SAME_MARGINALS
    assert mean_diff(a["cooccurrence"], b["cooccurrence"]) < SAME_COOC
    assert max_diff(a["means"], b["means"]) < SAME_MEANS


def test_correlation_drift_reforms_the_groups_and_keeps_the_marginals():
    stream, before, after, a, b = drifted("correlation-shift")
    assert mean_diff(a["cooccurrence"], b["cooccurrence"]) > 4 * SAME_COOC
    old, new = stream.world.groups[0], stream.world.groups[1]
    assert (old != new).all()
    assert max_diff(a["marginals"], b["marginals"]) < SAME_MARGINALS
    assert max_diff(a["means"], b["means"]) < SAME_MEANS


def test_imbalance_drift_changes_the_marginals_and_keeps_cardinality_and_features():
    stream, before, after, a, b = drifted("imbalance-shift")
    assert max_diff(a["marginals"], b["marginals"]) > 0.2
    assert np.corrcoef(a["marginals"], b["marginals"])[0, 1] < 0.6
    assert b["cardinality"] == pytest.approx(a["cardinality"], abs=SAME_CARD)
    assert max_diff(a["means"], b["means"]) < SAME_MEANS
    assert list(stream.label_rates(1).values()) != list(stream.label_rates(0).values())


@pytest.mark.parametrize("kind", ["concept", "correlation", "imbalance", "feature"])
def test_recurring_drift_returns_to_the_first_state(kind):
    stream = make_stream("recurring", kind=kind, n=12000, labels=20, seed=8)
    assert [(c["t"], c["recurring"]) for c in stream.change_points] == [(3001, False), (6001, True), (9001, True)]
    assert {c["kind"] for c in stream.change_points} == {kind}
    records = list(stream)
    segments = [records[i * 3000:(i + 1) * 3000] for i in range(4)]
    assert [{r.meta["concept"] for r in s} for s in segments] == [{0}, {1}, {0}, {1}]
    stats = [segment_stats(stream, s) for s in segments]
    statistic, distance, same = {
        "concept": (None, None, None),
        "correlation": ("cooccurrence", mean_diff, SAME_COOC),
        "imbalance": ("marginals", max_diff, SAME_MARGINALS),
        "feature": ("means", max_diff, SAME_MEANS),
    }[kind]
    if statistic is None:
        f1 = [oracle_f1(stream, s, 0) for s in segments]
        assert f1[0] > 0.9 and f1[2] > 0.9 and f1[1] < 0.4 and f1[3] < 0.4
    else:
        assert distance(stats[0][statistic], stats[2][statistic]) < same * 1.2
        assert distance(stats[1][statistic], stats[3][statistic]) < same * 1.2
        assert distance(stats[0][statistic], stats[1][statistic]) > 3 * same


@pytest.mark.parametrize("width", [0, 300])
def test_labels_appear_and_vanish_at_their_change_points(width):
    stream = make_stream("emerging-labels", n=3000, labels=20, appear=5, vanish=3, width=width, seed=6)
    appear, vanish = stream.change_points
    assert (appear["kind"], appear["t"], vanish["kind"], vanish["t"]) == ("labels-appear", 1001, "labels-vanish", 2001)
    assert appear["width"] == vanish["width"] == width
    born = set(stream.active_labels(1)) - set(stream.active_labels(0))
    dead = set(stream.active_labels(1)) - set(stream.active_labels(2))
    assert len(born) == 5 and len(dead) == 3 and set(stream.labels) == set(stream.active_labels(1))
    positives = {}
    for r in stream:
        for label in r.y:
            positives.setdefault(label, []).append(r.meta["line"])
    assert all(min(positives[label]) >= 1001 for label in born)
    assert all(max(positives[label]) < 2001 + width for label in dead)
    assert all(label in positives for label in born | dead)


def test_drifts_combine():
    stream = make_stream("mixed", n=6000, labels=20, seed=1)
    kinds = [(c["t"], c["kind"], c["recurring"]) for c in stream.change_points]
    assert kinds == [
        (901, "labels-appear", False), (1801, "feature", False), (2701, "correlation", False),
        (3601, "concept", False), (3601, "imbalance", False), (4501, "concept", True), (4501, "imbalance", True),
        (5401, "labels-vanish", False),
    ]
    assert {c["width"] for c in stream.change_points if c["kind"] in ("feature", "concept")} == {300, 0}
    ids = {r.meta["line"]: r.meta["concept"] for r in stream}
    assert ids[4500] != ids[4501] == ids[3600]  # back to the state before the combined change


# ---------------------------------------------------------------------------- specs and errors


def test_synth_specs_open_through_the_catalog():
    stream = open_source("synth:correlation-shift?n=2000&labels=50&cardinality=4", seed=3, on_error="skip")
    assert isinstance(stream, SyntheticStream) and stream.errors.on_error == "skip"
    assert (stream.n_records, len(stream.labels), stream.name) == (2000, 50, "synth:correlation-shift")
    assert list(stream)[:5] == list(make_stream("correlation-shift", n=2000, labels=50, cardinality=4, seed=3))[:5]
    custom = open_source("synth:custom?n=1000&drifts=feature@200:100:incremental,correlation%2Bimbalance@0.5,recur@800")
    assert [(c["t"], c["width"], c["kind"]) for c in custom.change_points] == [
        (200, 100, "feature"), (501, 0, "correlation"), (501, 0, "imbalance"), (800, 0, "correlation"),
        (800, 0, "imbalance"),
    ]


@pytest.mark.parametrize("spec, message", [
    ("nosuch", "presets: stationary, feature-shift"),
    ("stationary?shift=1", "its parameters: n, labels"),
    ("concept-shift?n=ten", "n='ten'"),
    ("concept-shift?mode=sideways", "expected one of sudden, gradual, incremental"),
    ("concept-shift?mode=gradual", "needs a width >= 1"),
    ("concept-shift?at=0.5,0.55&width=0.1", "must start after the previous change ends"),
    ("correlation-shift?labels=3&groups=1&cardinality=1", "needs at least 2 label groups"),
    ("stationary?labels=4&cardinality=3", "cannot be met"),
    ("custom?drifts=recur@0.5", "no earlier state"),
    ("custom?drifts=melt@0.5", "unknown kind 'melt'"),
    ("custom", "needs drifts="),
    ("emerging-labels?at=0.5", "two positions"),
])
def test_bad_specs_say_what_is_wrong(spec, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        open_source("synth:" + spec)


def test_parse_spec_converts_every_kind_of_value():
    assert parse_spec("Mixed?at=0.1,0.2,0.3,0.4,0.5,5000&width=200&sparse=no&groups=auto&new_skew=2") == (
        "mixed", {"at": [0.1, 0.2, 0.3, 0.4, 0.5, 5000.0], "width": 200.0, "sparse": False, "groups": None,
                  "new_skew": 2.0})


# ---------------------------------------------------------------------------- ARFF and the CLI


@pytest.mark.parametrize("sparse, suffix", [(False, ".arff"), (True, ".arff.gz")])
def test_arff_writer_round_trips_through_arff_source(tmp_path, sparse, suffix):
    stream = make_stream("emerging-labels", n=400, labels=9, features=15, density=0.3, sparse=sparse, seed=4)
    path = tmp_path / ("s" + suffix)
    assert write_arff(stream, path) == 400
    back = ArffSource(str(path))
    assert (back.labels, back.features) == (stream.labels, stream.features)
    assert [(r.x, r.y) for r in back] == [(r.x, r.y) for r in stream]
    assert read_change_points(path) == stream.change_points
    text = (gzip.open(path, "rt") if sparse else open(path)).read()
    assert ("{" in text.split("@data")[1]) == sparse


def test_generate_command_writes_the_stream(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="stream-xml")
    generate.add_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "r.arff"
    args = parser.parse_args(["generate", "--preset", "recurring", "--param", "n=900", "--param", "labels=8",
                              "--seed", "3", "--sparse", "--out", str(out)])
    assert generate.run(args) == 0
    expected = make_stream("recurring", n=900, labels=8, seed=3, sparse=True)
    assert [(r.x, r.y) for r in ArffSource(str(out))] == [(r.x, r.y) for r in expected]
    assert read_change_points(out) == expected.change_points
    spec = parser.parse_args(["generate", "--source", "synth:recurring?n=900&labels=8&sparse=1&seed=3",
                              "--out", str(tmp_path / "s.arff")])
    assert generate.run(spec) == 0
    assert (tmp_path / "s.arff").read_text().split("@relation")[1] == out.read_text().split("@relation")[1]
    assert generate.run(parser.parse_args(["generate", "--list"])) == 0
    assert "correlation-shift" in capsys.readouterr().out
    bad = parser.parse_args(["generate", "--preset", "stationary", "--param", "nope=1", "--out", str(out)])
    assert generate.run(bad) == 2 and "unknown parameter 'nope'" in capsys.readouterr().err


# ---------------------------------------------------------------------------- learnability


def test_learners_beat_the_majority_labelset_by_a_wide_margin():
    from river import linear_model

    from stream_xml.baselines import BinaryRelevance, MajorityLabelset
    from stream_xml.evaluation.prequential import evaluate
    from stream_xml.tree import MLHAT

    stream = make_stream("stationary", n=3000, labels=10, cardinality=2.0, seed=1)
    models = {
        "majority": MajorityLabelset(),
        "mlhat": MLHAT(seed=1),
        "br-lr": BinaryRelevance(linear_model.LogisticRegression()),
    }
    metrics = {name: m["metrics"] for name, m in evaluate(stream, models)["models"].items()}
    assert metrics["mlhat"]["micro_f1"] > metrics["majority"]["micro_f1"] + 0.4
    assert metrics["mlhat"]["example_f1"] > metrics["majority"]["example_f1"] + 0.3
    assert metrics["br-lr"]["subset_accuracy"] > metrics["majority"]["subset_accuracy"] + 0.15
    assert metrics["br-lr"]["micro_f1"] > metrics["majority"]["micro_f1"] + 0.5
