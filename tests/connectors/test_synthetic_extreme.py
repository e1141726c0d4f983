"""The extreme synthetic preset (synth:extreme): shapes, Zipf popularity, cardinality, topical groups,
seeds, drifts, bounded memory at 10^5 labels and words, and the ARFF / XMC writers (memory that
does not grow with n is checked with the other presets in test_synthetic.py)."""

import argparse
import itertools
import math
import tracemalloc

import numpy as np
import pytest

from connectors.arff import ArffSource
from connectors.base import Source
from connectors.catalog import open_source
from connectors.synthetic import ExtremeStream, make_stream
from connectors.xmc import XmcSource
from connectors.xmc_writer import write_xmc
from stream_xml.cli import generate


def extreme(**params):
    return make_stream("extreme", **{"n": 4000, "labels": 1000, "features": 5000, "seed": 1, **params})


def label_counts(stream, records):
    index = {name: i for i, name in enumerate(stream.labels)}
    counts = np.zeros(len(stream.labels))
    for r in records:
        for label in r.y:
            counts[index[label]] += 1
    return counts


def same_group_share(stream, records, concept):
    """Share of a record's label pairs that lie in one group of ``concept``'s taxonomy."""
    groups = stream.label_groups(concept)
    pairs = [groups[a] == groups[b] for r in records for a, b in itertools.combinations(sorted(r.y), 2)]
    return float(np.mean(pairs))


def prototype_share(stream, records, concept):
    """Mean share of a record's words that belong to its labels' prototypes in ``concept``."""
    words = stream.world.prototype_words(stream._state(concept).planes)
    label_index = {name: i for i, name in enumerate(stream.labels)}
    feature_index = {name: j for j, name in enumerate(stream.features)}
    shares = []
    for r in records:
        own = set(words[[label_index[label] for label in r.y]].ravel().tolist())
        shares.append(np.mean([feature_index[f] in own for f in r.x]))
    return float(np.mean(shares))


def split_at(records, t):
    return [r for r in records if r.meta["line"] < t], [r for r in records if r.meta["line"] >= t]


# ---------------------------------------------------------------------------- shapes


def test_records_are_sparse_normalised_term_frequencies_with_at_least_one_label():
    stream = extreme(n=800)
    assert isinstance(stream, ExtremeStream) and isinstance(stream, Source) and stream.sparse
    assert (len(stream.labels), len(stream.features), len(stream)) == (1000, 5000, 800)
    assert stream.labels[:2] == ["l000", "l001"] and stream.features[-1] == "f4999"
    records = list(stream)
    assert [r.meta["line"] for r in records] == list(range(1, 801))
    assert all(r.meta == {"source": "synth:extreme", "line": r.meta["line"], "concept": 0} for r in records)
    features, labels = set(stream.features), set(stream.labels)
    for r in records:
        assert r.y and r.y <= labels and set(r.x) <= features
        values = np.array(list(r.x.values()))
        assert (values > 0).all() and math.isclose(float(values @ values), 1.0, abs_tol=1e-3)
    sizes = [len(r.x) for r in records]
    assert 50 < np.mean(sizes) < 100 and max(sizes) < 200  # about 100 tokens, a few repeated


def test_the_defaults_are_the_published_kind_of_stream():
    stream = make_stream("extreme", n=10)
    world = stream.world
    assert (len(stream), len(stream.labels), len(stream.features)) == (10, 10000, 50000)
    assert world.n_groups == 500 and np.bincount(world.groups[0]).tolist() == [20] * 500
    words = world.prototype_words(0)
    assert words.shape == (10000, 30) and all(len(set(row)) == 30 for row in words[:200].tolist())


@pytest.mark.parametrize("cardinality", [2.0, 2.7, 5.0])
def test_cardinality_meets_its_target_and_no_record_is_unlabelled(cardinality):
    sizes = np.array([len(r.y) for r in extreme(cardinality=cardinality)])
    assert sizes.mean() == pytest.approx(cardinality, rel=0.04)
    assert sizes.min() == 1 and (sizes == 1).mean() == pytest.approx(math.exp(1 - cardinality), abs=0.03)


@pytest.mark.parametrize("skew, low, high", [(0.5, 0.35, 0.5), (1.0, 0.7, 0.9), (1.5, 1.05, 1.3)])
def test_label_frequencies_follow_a_zipf_law(skew, low, high):
    stream = extreme(n=20000, labels=2000, skew=skew)
    counts = label_counts(stream, stream)
    top = np.sort(counts)[::-1][:200]
    log_rank, log_count = np.log(np.arange(1, 201)), np.log(top)
    slope, intercept = np.polyfit(log_rank, log_count, 1)
    residual = log_count - (slope * log_rank + intercept)
    assert 1 - residual.var() / log_count.var() > 0.98  # a straight line in log-log
    assert low < -slope < high  # the first label's exponent is `skew`; mates flatten the head a little
    # the popular labels are those the model made popular
    rates = stream.label_rates(0)
    assert abs(sum(rates.values()) - 1) < 1e-9
    popular = sorted(rates, key=rates.get, reverse=True)[:20]
    frequent = {stream.labels[i] for i in np.argsort(-counts)[:40]}
    assert len(set(popular) & frequent) >= 18


def test_labels_co_occur_within_their_topical_groups_and_siblings_share_words():
    stream = extreme(n=3000)
    records = list(stream)
    chance = 20 / 1000
    share = same_group_share(stream, records, 0)
    assert share > 0.6 > 20 * chance
    loose = extreme(n=3000, cohesion=0.0)
    assert same_group_share(loose, list(loose), 0) < 3 * chance
    words, groups = stream.world.prototype_words(0), stream.world.groups[0]
    members = [np.flatnonzero(groups == g) for g in range(5)]
    siblings = [len(set(words[a]) & set(words[b])) for m in members for a, b in itertools.combinations(m, 2)]
    strangers = [len(set(words[a]) & set(words[b])) for a, b in zip(members[0], members[1])]
    assert np.mean(siblings) > 5 > 1 > np.mean(strangers)  # 15 of 30 words from the group's vocabulary


def test_the_words_carry_the_labels():
    stream = extreme(n=500)
    assert prototype_share(stream, stream, 0) > 0.4  # half the tokens come from the prototypes
    shuffled = [r._replace(y=s.y) for r, s in zip(stream, list(stream)[1:])]
    assert prototype_share(stream, shuffled, 0) < 0.15


def test_same_seed_same_stream_other_seed_other_stream():
    first = list(extreme(n=300, drifts="concept@150:50:incremental"))
    assert first == list(extreme(n=300, drifts="concept@150:50:incremental"))
    other = list(extreme(n=300, seed=2, drifts="concept@150:50:incremental"))
    assert sum(a.x == b.x for a, b in zip(first, other)) == 0
    assert sum(a.y == b.y for a, b in zip(first, other)) < 30


def test_memory_is_bounded_at_a_hundred_thousand_labels_and_words():
    tracemalloc.start()
    stream = make_stream("extreme", n=2000, labels=100000, features=100000)
    records = sum(1 for _ in stream)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert records == 2000
    assert peak < 100 * 2**20  # a labels x features array of bools alone would be 10^10 bytes


# ---------------------------------------------------------------------------- drifts


def test_correlation_drift_moves_the_co_occurrences_to_the_new_groups():
    stream = extreme(drifts="correlation@0.5")
    assert stream.change_points == [{"t": 2001, "width": 0, "kind": "correlation", "recurring": False}]
    before, after = split_at(list(stream), 2001)
    assert same_group_share(stream, before, 0) > 0.6 > 0.1 > same_group_share(stream, before, 1)
    assert same_group_share(stream, after, 1) > 0.6 > 0.1 > same_group_share(stream, after, 0)
    # the words of each label and its popularity stay (its frequency moves a little: how often a label
    # comes as a mate depends on its group; halves of one concept correlate 0.97)
    a, b = label_counts(stream, before), label_counts(stream, after)
    assert np.corrcoef(a, b)[0, 1] > 0.8
    assert prototype_share(stream, after, 0) == pytest.approx(prototype_share(stream, before, 0), abs=0.03)


def test_imbalance_drift_deals_the_popularity_again():
    stream = extreme(drifts="imbalance@0.5")
    before, after = split_at(list(stream), 2001)
    a, b = label_counts(stream, before), label_counts(stream, after)
    half = label_counts(stream, before[:1000]), label_counts(stream, before[1000:])
    assert np.corrcoef(*half)[0, 1] > 0.8 > 0.2 > np.corrcoef(a, b)[0, 1]
    sizes = [len(r.y) for r in after]
    assert np.mean(sizes) == pytest.approx(2.7, rel=0.05)


def test_concept_drift_gives_the_labels_new_words():
    stream = extreme(drifts="concept@0.5", change=1.0)
    before, after = split_at(list(stream), 2001)
    assert prototype_share(stream, before, 0) > 0.4 > 0.1 > prototype_share(stream, after, 0)
    assert prototype_share(stream, after, 1) > 0.4
    assert same_group_share(stream, after, 0) > 0.6  # the taxonomy stays


def test_feature_drift_changes_the_background_words():
    def word_frequencies(records):
        counts = {}
        for r in records:
            for f in r.x:
                counts[f] = counts.get(f, 0) + 1
        return np.array([counts.get(f, 0) for f in stream.features], float)

    stream = extreme(drifts="feature@0.5", fraction=0.5)
    before, after = split_at(list(stream), 2001)
    half = word_frequencies(before[:1000]), word_frequencies(before[1000:])
    changed = word_frequencies(before[1000:]), word_frequencies(after[:1000])
    assert np.corrcoef(*half)[0, 1] > 0.95 > 0.7 > np.corrcoef(*changed)[0, 1]
    assert prototype_share(stream, after, 0) > 0.4 and same_group_share(stream, after, 0) > 0.6


def test_incremental_drift_moves_the_words_step_by_step_and_recur_returns():
    stream = extreme(n=6000, drifts="concept@1001:3000:incremental,recur@5001")
    records = list(stream)
    quarters = [records[1000 + 750 * q: 1750 + 750 * q] for q in range(4)]
    new = [prototype_share(stream, part, 1) for part in quarters]
    old = [prototype_share(stream, part, 0) for part in quarters]
    assert new == sorted(new) and old == sorted(old, reverse=True) and new[-1] - new[0] > 0.2
    assert [c["recurring"] for c in stream.change_points] == [False, True]
    assert {r.meta["concept"] for r in records[5000:]} == {0}
    assert prototype_share(stream, records[5000:], 0) > 0.4


def test_gradual_drift_switches_records_with_a_rising_share():
    stream = extreme(drifts="imbalance@2001:1000:gradual")
    ids = [r.meta["concept"] for r in stream]
    window = ids[2000:3000]
    assert set(ids[:2000]) == {0} and set(ids[3000:]) == {1}
    assert 0.1 < np.mean(window[:500]) < 0.4 < 0.6 < np.mean(window[500:]) < 0.9


def test_labels_appear_and_vanish():
    stream = extreme(labels=300, drifts="appear@0.25,vanish@0.75", appear=40, vanish=30)
    born = set(stream.active_labels(1)) - set(stream.active_labels(0))
    dead = set(stream.active_labels(1)) - set(stream.active_labels(2))
    assert (len(born), len(dead)) == (40, 30)
    first_seen, last_seen = {}, {}
    for r in stream:
        for label in r.y:
            first_seen.setdefault(label, r.meta["line"])
            last_seen[label] = r.meta["line"]
    assert min(first_seen[label] for label in born if label in first_seen) >= 1001
    assert max(last_seen[label] for label in dead if label in last_seen) < 3001
    assert len(born & set(first_seen)) > 20


@pytest.mark.parametrize("spec, message", [
    ("extreme?noise=0.1", "unknown parameter 'noise' for synth:extreme"),
    ("extreme?cardinality=0.5", "cardinality must be >= 1"),
    ("extreme?labels=10&group_size=20", "group_size must lie in 1..labels"),
    ("extreme?features=20", "prototype must lie in 1..features"),
    ("extreme?sparse=false", "always sparse"),
    ("extreme?drifts=melt@0.5", "unknown kind 'melt'"),
    ("extreme?labels=20&group_size=20&drifts=correlation@0.5", "needs at least 2 label groups"),
])
def test_bad_specs_say_what_is_wrong(spec, message):
    with pytest.raises(ValueError, match=message):
        open_source("synth:" + spec + ("&" if "?" in spec else "?") + "n=100")


# ---------------------------------------------------------------------------- writers and the CLI


def test_generate_writes_sparse_arff_and_xmc_text_that_read_back(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="stream-xml")
    generate.add_parser(parser.add_subparsers(dest="command"))
    spec = "synth:extreme?n=300&labels=500&features=3000&seed=4&drifts=correlation@0.5"
    expected = list(open_source(spec))
    arff, xmc = tmp_path / "x.arff.gz", tmp_path / "x.txt"
    assert generate.run(parser.parse_args(["generate", "--source", spec, "--out", str(arff)])) == 0
    assert generate.run(parser.parse_args(["generate", "--source", spec, "--out", str(xmc)])) == 0
    assert "correlation" in capsys.readouterr().err
    assert [(r.x, r.y) for r in ArffSource(str(arff))] == [(r.x, r.y) for r in expected]
    back = XmcSource(str(xmc))
    assert (back.n_instances, back.n_features, back.n_labels) == (300, 3000, 500)
    stream = open_source(spec)
    assert [({stream.features[j]: v for j, v in r.x.items()}, {stream.labels[i] for i in r.y}) for r in back] == [
        (r.x, r.y) for r in expected]
    forced = tmp_path / "x.data"
    args = ["generate", "--source", spec, "--format", "xmc", "--limit", "50", "--out", str(forced)]
    assert generate.run(parser.parse_args(args)) == 0
    assert forced.read_text().splitlines()[0] == "50 3000 500" and len(forced.read_text().splitlines()) == 51


def test_xmc_writer_refuses_what_the_format_cannot_hold(tmp_path):
    from connectors.base import Record

    class Source:
        labels, features = ["a", "b"], ["f"]

        def __init__(self, records):
            self.records = records

        def __iter__(self):
            return iter(self.records)

    ok = Record({"f": 1.0}, frozenset({"a"}), {})
    cases = [
        ([ok, Record({"f": 1.0}, None, {})], "record 2: the XMC format cannot hold a record without labels"),
        ([Record({"g": 1.0}, frozenset(), {})], "record 1: 'g' is not declared"),
        ([Record({"f": 1.0}, frozenset({"c"}), {})], "record 1: 'c' is not declared"),
        ([Record({"f": float("nan")}, frozenset(), {})], "not a finite number"),
    ]
    for records, message in cases:
        with pytest.raises(ValueError, match=message):
            write_xmc(Source(records), tmp_path / "bad.txt")
    assert write_xmc(Source([ok, ok]), tmp_path / "good.txt") == 2  # no len(): counted first
