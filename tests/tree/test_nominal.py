"""Nominal attributes (issue 22): what sources declare, what learners take, how the trees count
the splits of nominal indicators, naive Bayes over them, and the typed ARFF that MOA reads."""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import random

import numpy as np
import pytest

from connectors.arff import ArffSource
from connectors.arff_writer import write_arff
from connectors.base import Record, feature_kinds
from stream_xml.base import MultiLabelLearner
from stream_xml.evaluation.prequential import PrequentialEvaluator, evaluate
from stream_xml.ihomer import IHOMER
from stream_xml.labeltree import LabelTreeClassifier
from stream_xml.clustering import ODACJ
from stream_xml.tree import MLHAT, MLHT
from stream_xml.tree.entropy import ml_entropy, split_merit
from stream_xml.tree.features import FeatureIndex
from stream_xml.tree.observers import GaussianObservers

DATA = os.environ.get("STREAM_XML_DATA") or os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "datasets")
needs_data = pytest.mark.skipif(not os.path.isdir(DATA), reason="the shared datasets are not available")


def binary_records(n: int, n_features: int, n_labels: int, seed: int):
    """Records of sparse 0/1 features (absent = 0) whose labels depend on a few of them."""
    rng = random.Random(seed)
    for _ in range(n):
        on = [f for f in range(n_features) if rng.random() < 0.15 + 0.05 * (f % 3)]
        labels = set()
        if 0 in on or rng.random() < 0.1:
            labels.add(0)
        if (1 in on) != (2 in on) and rng.random() < 0.9:
            labels.add(1)
        if rng.random() < 0.2:
            labels.add(2 % n_labels)
        yield on, sorted(labels)


def observed(records, n_features: int):
    """GaussianObservers over ``records`` ((ones, labels) pairs), and their label distribution."""
    obs, stats = GaussianObservers(), np.zeros(2)
    for on, labels in records:
        idx = np.array(on, dtype=np.int64)
        stats = obs.update(stats, idx, np.ones(len(on)), np.array(labels, dtype=np.int64), 1.0)
    return obs, stats


def exact_split(records, f: int, n_keys: int):
    """The label distributions ``[total, ∅, labels...]`` of the records without and with feature f."""
    sides = np.zeros((2, n_keys))
    for on, labels in records:
        side = sides[int(f in on)]
        side[0] += 1
        if not labels:
            side[1] += 1
        for label in labels:
            side[2 + label] += 1
    return sides


# -- counted splits ---------------------------------------------------------------------------------


def test_a_declared_indicator_is_split_by_exact_counts():
    records = list(binary_records(400, 6, 3, seed=1))
    obs, stats = observed(records, 6)
    nominal = np.ones(6, dtype=np.uint8)
    merit, threshold = obs.best_splits(ml_entropy(stats), 10, 0.01, nominal)
    gaussian_merit, _ = obs.best_splits(ml_entropy(stats), 10, 0.01)
    for f in range(6):
        left, right = exact_split(records, f, stats.shape[0])
        n_left, n_right = (int(np.count_nonzero(side[1:])) for side in (left, right))
        expected = split_merit(ml_entropy(stats), left, right, n_left, n_right, 0.01)
        assert merit[f] == pytest.approx(expected, rel=1e-12)
        assert threshold[f] == 0.5
        got_left, got_right = obs.post_split(f, 0.5, nominal)
        np.testing.assert_allclose(got_left, left, rtol=1e-12)
        np.testing.assert_allclose(got_right, right, rtol=1e-12)
    # the Gaussians misjudge a 0/1 feature: their merits are not the partition's
    assert np.max(np.abs(gaussian_merit - merit)) > 0.05


def test_binary_mode_counts_the_features_seen_as_0_or_1_only():
    rng = random.Random(4)
    records = []
    obs, stats = GaussianObservers(), np.zeros(2)
    for _ in range(300):
        labels = [0] if rng.random() < 0.4 else []
        ones = rng.random() < (0.7 if labels else 0.2)
        level = rng.choice([1.0, 2.0, 3.0]) if rng.random() < 0.5 else 0.0
        idx = [f for f, v in ((0, float(ones)), (1, level)) if v]
        val = [v for v in (float(ones), level) if v]
        stats = obs.update(stats, np.array(idx, dtype=np.int64), np.array(val), np.array(labels, dtype=np.int64), 1.0)
        records.append(([0] if ones else [], labels))
    pre = ml_entropy(stats)
    binary, _ = obs.best_splits(pre, 10, 0.01, binary=True)
    off, _ = obs.best_splits(pre, 10, 0.01)
    left, right = exact_split(records, 0, stats.shape[0])
    assert binary[0] == pytest.approx(split_merit(pre, left, right, 2, 2, 0.01), rel=1e-12)
    assert binary[0] != pytest.approx(off[0], rel=1e-3)
    assert binary[1] == off[1]  # values 1, 2 and 3: Gaussian either way


def tree_scores(model, stream, kinds=None) -> str:
    """Hash of every prequential score of ``model`` on ``stream`` ((x, labels) pairs)."""
    if kinds:
        model.declare_features(kinds)
    digest = hashlib.sha256()
    for x, labels in stream:
        digest.update(repr(sorted(model.predict_with_scores(x)[1].items())).encode())
        model.learn_labelset(x, labels)
    return digest.hexdigest()


def named(records):
    return [({f"w{f}": 1.0 for f in on}, [f"l{label}" for label in labels]) for on, labels in records]


def test_declarations_reach_the_split_search_and_nominal_off_ignores_them():
    stream = named(binary_records(3000, 8, 3, seed=2))
    kinds = {f"w{f}": "nominal" for f in range(8)}
    declared = tree_scores(MLHT(grace_period=50), stream, kinds)
    # every feature of this stream is 0/1: counting the binary ones is counting them all
    assert declared == tree_scores(MLHT(grace_period=50, nominal="binary"), stream)
    undeclared = tree_scores(MLHT(grace_period=50), stream)
    assert declared != undeclared
    assert undeclared == tree_scores(MLHT(grace_period=50, nominal="off"), stream, kinds)


def test_a_tree_declared_nominal_splits_where_the_counts_say():
    """The first split of a declared tree is on the feature of the best exact merit."""
    records = list(binary_records(3000, 8, 3, seed=2))
    model = MLHT(grace_period=50, bootstrap_sampling=False)
    model.add_labels(["l0", "l1", "l2"])  # label ids in the order exact_split counts them
    model.declare_features({f"w{f}": "nominal" for f in range(8)})
    for t, (x, labels) in enumerate(named(records), 1):
        model.learn_labelset(x, labels)
        split = [e for e in model.drain_events() if e["kind"] == "split"]
        if split:
            break
    assert split and split[0]["threshold"] == 0.5
    seen = records[:t]  # the split was decided on the records before it
    stats = exact_split(seen, -1, 5)[0]
    merits = []
    for f in range(8):
        left, right = exact_split(seen, f, 5)
        merits.append(split_merit(ml_entropy(stats), left, right, np.count_nonzero(left[1:]),
                                  np.count_nonzero(right[1:]), 0.01))
    assert split[0]["feature"] == f"w{int(np.argmax(merits))}"
    left, right = model.root.children
    np.testing.assert_allclose(left.stats, exact_split(seen, int(np.argmax(merits)), 5)[0])
    np.testing.assert_allclose(right.stats, exact_split(seen, int(np.argmax(merits)), 5)[1])


def test_a_bad_nominal_mode_is_refused():
    with pytest.raises(ValueError, match="nominal must be one of"):
        MLHAT(nominal="maybe")


# -- the feature index ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["new feature", "known, sparse", "known, repeated keys", "predicted"])
def test_a_value_other_than_0_or_1_of_a_nominal_feature_is_refused_before_any_change(path):
    index = FeatureIndex()
    index.declare({"a": "nominal", "b": "nominal", "c": "numeric"})
    x = {"a": 1.0, "c": 2.5}
    if path != "new feature":
        index.encode({"a": 1.0, "b": 1.0, "c": 0.5}, learn=True)
    if path == "known, repeated keys":  # the cached columns of a dense stream
        index.encode({"a": 0.0, "b": 1.0, "c": 0.5}, learn=True)
        x = {"a": 1.0, "b": 3.0, "c": 2.5}
    elif path != "new feature":
        x = {"b": -1.0}
    names = list(index.names)
    with pytest.raises(ValueError, match=r"feature '.' is declared nominal \(an indicator, 0 or 1\) but has value"):
        index.encode({**x, "a": 7.0} if path == "new feature" else x, learn=path != "predicted")
    assert index.names == names
    assert index.encode({"a": 0.0, "b": 1.0, "c": 9.0}, learn=True)[1].tolist() == [1.0, 9.0]


def test_declarations_flag_columns_registered_before_and_after():
    index = FeatureIndex()
    index.encode({"x": 1.0, "y": 2.0}, learn=True)
    index.declare({"x": "nominal", "z": "nominal"})
    index.encode({"z": 1.0, "w": 4.0}, learn=True)
    flags = dict(zip(index.names, index.nominal[: len(index)].tolist()))
    assert flags == {"x": 1, "y": 0, "w": 0, "z": 1}
    index.declare({"x": "numeric", "z": "numeric"})
    assert index.nominal.shape[0] == 0  # nothing nominal left: the trees see no flag at all
    with pytest.raises(ValueError, match="kind 'ordinal' is not one of"):
        index.declare({"x": "ordinal"})


# -- naive Bayes over counts -----------------------------------------------------------------------


def bernoulli_by_hand(X, Y, x):
    """P(label = 1 | x): per label a Bernoulli naive Bayes, P(feature = 1) smoothed as
    (count + 1) / (records + 2), prior from the label's share; every column counts."""
    out = []
    for label in range(Y.shape[1]):
        logit = math.log(Y[:, label].sum() / (~Y[:, label]).sum())
        for side, sign in ((X[Y[:, label]], 1.0), (X[~Y[:, label]], -1.0)):
            p = (side.sum(axis=0) + 1.0) / (side.shape[0] + 2.0)
            logit += sign * np.where(x != 0, np.log(p), np.log(1.0 - p)).sum()
        out.append(1.0 / (1.0 + math.exp(-logit)))
    return np.array(out)


@pytest.mark.parametrize("n_features, n_labels", [(7, 3), (2000, 3), (7, 11)])
def test_naive_bayes_over_counted_features_is_bernoulli_naive_bayes(n_features, n_labels):
    """Against a dense, log-by-log computation; with 2,000 features the likelihoods' products
    (which the kernel forms, taking their logs now and then) fall far below the floats' range;
    11 labels take more than one of the kernel's blocks of 8 lanes."""
    rng = np.random.default_rng(9)
    n = 300
    Y = rng.random(size=(n, n_labels)) < np.linspace(0.2, 0.7, n_labels)
    X = (rng.random(size=(n, n_features)) < 0.3).astype(float)
    X[Y[:, 0], 2] = (rng.random(Y[:, 0].sum()) < 0.9)  # label 0 makes feature 2 likely
    obs, stats = GaussianObservers(), np.zeros(2)
    for row, labels in zip(X, Y):
        idx = np.flatnonzero(row)
        stats = obs.update(stats, idx, row[idx], np.flatnonzero(labels), 1.0)
    nominal = np.ones(n_features, dtype=np.uint8)
    for row in (rng.random(size=(5, n_features)) < 0.4).astype(float):
        idx = np.flatnonzero(row)
        got = obs.naive_bayes(idx, row[idx], n_labels, nominal)
        np.testing.assert_allclose(got, bernoulli_by_hand(X, Y, row), rtol=1e-9)
        assert not np.allclose(got, obs.naive_bayes(idx, row[idx], n_labels))  # the Gaussian answer


# -- iHOMER -----------------------------------------------------------------------------------------


def test_ihomer_gives_its_declarations_to_every_tree_present_and_future():
    stream = named(binary_records(1500, 8, 3, seed=5))
    stream = [(x, labels + (["l3", "l4"] if t % 7 == 0 else [])) for t, (x, labels) in enumerate(stream)]

    def ihomer(tree):
        return IHOMER(tree=tree, clustering=ODACJ(n_min=50, delta=0.9, tau=0.1), restructure_min_t=50, warmup=100)

    kinds = {f"w{f}": "nominal" for f in range(8)}
    declared = tree_scores(ihomer(MLHAT(grace_period=50, leaf_switch="loss")), stream, kinds)
    assert declared == tree_scores(ihomer(MLHAT(grace_period=50, leaf_switch="loss", nominal="binary")), stream)
    assert declared != tree_scores(ihomer(MLHAT(grace_period=50, leaf_switch="loss")), stream)


def test_ihomer_keeps_its_declarations_across_engines(monkeypatch):
    """Declared before any engine exists, the kinds reach the cluster hierarchy's shared index
    when it is made, and the label tree that takes over at 128 labels (or runs alone in mode
    'tree') is given them too."""
    given = []
    monkeypatch.setattr(LabelTreeClassifier, "declare_features", lambda self, kinds: given.append(dict(kinds)))
    kinds = {"w0": "nominal", "w1": "numeric"}
    model = IHOMER()  # mode "auto"
    model.declare_features(kinds)
    model.add_labels(["l0", "l1"])
    model.learn_labelset({"w0": 1.0, "w1": 1.0, "w2": 1.0}, ["l0"])
    assert model.engine == "partition"
    index = model._engine._features
    columns = [index.names.index(name) for name in ("w0", "w1", "w2")]
    assert [int(j < len(index.nominal) and index.nominal[j]) for j in columns] == [1, 0, 0]
    assert given == []
    model.add_labels([f"l{i}" for i in range(2, 130)])
    assert model.engine == "tree" and given == [kinds]
    alone = IHOMER(mode="tree")
    alone.declare_features(kinds)
    assert given == [kinds, kinds]


# -- the loop passes what the source declares --------------------------------------------------------


class Spy(MultiLabelLearner):
    def __init__(self):
        self.kinds = []

    def declare_features(self, kinds):
        self.kinds.append(dict(kinds))

    def learn_labelset(self, x, labelset):
        pass

    def predict_with_scores(self, x):
        return frozenset(), {}


def typed_arff(tmp_path):
    path = tmp_path / "typed.arff"
    path.write_text("@relation 'typed: -C 1'\n@attribute a {0,1}\n@attribute colour {red,green,blue}\n"
                    "@attribute big {no,yes}\n@attribute size numeric\n@data\n1,green,yes,2.5\n0,red,no,0\n")
    return path


def test_the_loop_declares_the_sources_feature_kinds(tmp_path):
    source = ArffSource(typed_arff(tmp_path))
    assert source.nominal == {"colour": ("red", "green", "blue"), "big": ("no", "yes")}
    expected = {"colour=red": "nominal", "colour=green": "nominal", "colour=blue": "nominal", "big": "nominal",
                "size": "numeric"}
    assert feature_kinds(source) == expected
    spy = Spy()
    evaluate(source, {"spy": spy})
    assert spy.kinds == [expected]
    quiet = Spy()
    PrequentialEvaluator({"spy": quiet})
    assert quiet.kinds == []  # a source without types declares nothing


# -- typed ARFF, for MOA and stream-xml generate -----------------------------------------------------


@needs_data
@pytest.mark.parametrize("name, sparse", [("genbase", False), ("flags", False), ("enron", True), ("genbase", True)])
def test_a_typed_arff_reads_back_as_the_source(tmp_path, name, sparse):
    from connectors.catalog import open_source

    source = open_source(name, data_dir=DATA)
    path = tmp_path / "back.arff"
    n = write_arff(source, path, sparse=sparse, typed=True)
    back = ArffSource(path)
    assert back.nominal == source.nominal and back.features == source.features and back.labels == source.labels
    def nonzero(x):  # sparse rows leave zeros out, as sparse readers do; a nominal value that
        # reads 0 but is not the first declared one (Genbase's NO of {YES, NO}) stays written
        return {k: v for k, v in x.items() if v} if sparse else x

    pairs = itertools.zip_longest(source, back)
    assert all(nonzero(a.x) == nonzero(b.x) and a.y == b.y for a, b in pairs)
    assert n == sum(1 for _ in back)


@pytest.mark.parametrize("x, problem", [
    ({"big": 2.0}, "feature 'big' of nominal attribute 'big' has value 2.0, which stands for none"),
    ({"colour=red": 1.0, "colour=blue": 1.0}, "nominal attribute 'colour' has two values"),
    ({"colour=pink": 1.0}, "feature 'colour=pink' is not declared by the source"),
])
def test_the_typed_writer_refuses_what_its_types_cannot_hold(tmp_path, x, problem):
    class Bad:
        name, labels, features = "bad", ["a"], ["colour", "big"]
        nominal = {"colour": ("red", "green", "blue"), "big": ("no", "yes")}

        def __iter__(self):
            yield Record(x, frozenset(), {})

    with pytest.raises(ValueError, match=problem):
        write_arff(Bad(), tmp_path / "bad.arff", typed=True)


def test_the_bench_gives_moa_the_declared_types(tmp_path):
    """Before issue 22 the bench wrote every feature numeric for MOA."""
    import argparse

    from stream_xml.bench.runs import _MoaStream

    args = argparse.Namespace(data_dir=None, limit=None, moa_typing="declared")
    with _MoaStream(str(typed_arff(tmp_path)), args) as stream:
        header = open(stream.path).read().split("@data")[0]
        assert stream.typing == "as declared: 2 nominal, 1 numeric"
    assert "@attribute colour {red,green,blue}" in header and "@attribute big {no,yes}" in header
    assert "@attribute size numeric" in header
    args.moa_typing = "numeric"
    with _MoaStream(str(typed_arff(tmp_path)), args) as stream:
        header = open(stream.path).read().split("@data")[0]
        assert stream.typing == "all numeric (declared: 2 nominal, 1 numeric)"
    assert "{" not in header.split("@attribute a {0,1}")[1]
