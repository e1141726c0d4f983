"""The extreme engine (stream_xml.labeltree): kernels against plain references, the tree's
invariants, the river contract, pickling, bad values, and a stream whose labels co-occur."""

import itertools
import math
import pickle
import random

import numpy as np
import pytest

from stream_xml.labeltree import LabelTreeClassifier
from stream_xml.labeltree.arena import bucket, collision_rate
from stream_xml.labeltree.cooccurrence import CoOccurrence
from stream_xml.labeltree.layout import BIAS, GROUP, LABEL, LANE, N_CHILDREN, PARENT
from stream_xml.labeltree.threshold import BINS, F1Threshold, observe_record
from stream_xml.labeltree.tree import bipartition
from tests.river_checks import check_estimator_offline

MASK = (1 << 64) - 1


def reference_bucket(group: int, feature: int, salt: int, shift: int) -> int:
    """The hash of arena.bucket in plain Python integers modulo 2**64."""
    h = (group * 0x9E3779B97F4A7C15 + (feature ^ salt) * 0xC2B2AE3D27D4EB4F) & MASK
    h ^= h >> 32
    h = (h * 0xD6E8FEB86659FD93) & MASK
    h ^= h >> 29
    return h >> shift


def topic_stream(n, n_topics=6, per_topic=4, words=8, seed=0, noise=0.0):
    """Records of one topic each: its words (plus a few shared ones) and 1-3 of its labels."""
    rng = random.Random(seed)
    for _ in range(n):
        t = rng.randrange(n_topics)
        x = {f"w{t}_{j}": 1.0 for j in rng.sample(range(words), 5)}
        x[f"common{rng.randrange(3)}"] = 0.5
        labels = {f"t{t}_l{j}" for j in rng.sample(range(per_topic), rng.randint(1, 3))}
        if noise and rng.random() < noise:
            labels.add(f"t{rng.randrange(n_topics)}_l{rng.randrange(per_topic)}")
        yield x, labels


def trained(n=600, **params):
    model = LabelTreeClassifier(**{"bits": 16, "arity": 4, **params})
    for x, y in topic_stream(n):
        model.predict_with_scores(x)
        model.learn_labelset(x, y)
    return model


# -- hashing -------------------------------------------------------------------------------------

def test_bucket_is_the_reference_mix_and_does_not_depend_on_the_process():
    rng = random.Random(3)
    for _ in range(200):
        g, f, salt = rng.randrange(1 << 40), rng.randrange(1 << 40), rng.randrange(1 << 32)
        shift = rng.randrange(30, 60)
        assert int(bucket(g, f, salt, shift)) == reference_bucket(g, f, salt, shift)
    # a fixed value, so that a change of the mix (which would void every checkpoint) is noticed
    assert int(bucket(12345, 678, 0, 44)) == reference_bucket(12345, 678, 0, 44) == 819020


def test_collision_rate_counts_pairs_sharing_a_bucket():
    pairs = [(g, f) for g in range(4) for f in range(50)]
    exact = collision_rate(pairs, bits=30, lanes=16)
    assert exact == 0.0
    buckets = {}
    shift = 64 - (12 - 4)
    for g, f in pairs:
        buckets.setdefault(reference_bucket(g, f, 0, shift), []).append((g, f))
    shared = sum(len(v) for v in buckets.values() if len(v) > 1) / len(pairs)
    assert collision_rate(pairs, bits=12, lanes=16) == pytest.approx(shared)


# -- co-occurrence -------------------------------------------------------------------------------

def test_cooccurrence_counts_equal_a_brute_force_count_when_rows_are_wide_enough():
    rng = random.Random(1)
    n_labels = 12
    co = CoOccurrence(m=n_labels)
    co.reserve(n_labels)
    truth = np.zeros((n_labels, n_labels))
    seen = np.zeros(n_labels)
    for _ in range(400):
        labels = sorted(rng.sample(range(n_labels), rng.randint(1, 4)))
        co.update(np.array(labels))
        seen[labels] += 1
        for a, b in itertools.permutations(labels, 2):
            truth[a, b] += 1
    for a in range(n_labels):
        for b in range(n_labels):
            if a != b:
                assert co.count(a, b) == truth[a, b]
    np.testing.assert_array_equal(co.occurrences[:n_labels], seen)
    assert co.jaccard(0, 1) == pytest.approx(truth[0, 1] / (seen[0] + seen[1] - truth[0, 1]))


def test_bounded_rows_keep_the_space_saving_guarantees():
    """Stored count >= true count >= count - error, error <= N_a / m (N_a: the row's increments),
    and every partner more frequent than N_a / m is in the row (Metwally et al. 2005)."""
    rng = random.Random(2)
    n_labels, m = 40, 6
    co = CoOccurrence(m=m)
    co.reserve(n_labels)
    truth = np.zeros((n_labels, n_labels))
    for _ in range(3000):
        # label 0 co-occurs with 1 or 2 every time, and with a random other label
        labels = {0, rng.choice([1, 2]), rng.randrange(3, n_labels)}
        co.update(np.array(sorted(labels)))
        for a, b in itertools.permutations(labels, 2):
            truth[a, b] += 1
    for a in range(n_labels):
        bound = truth[a].sum() / m
        stored = {int(p): (c, e) for p, c, e in zip(co.partners[a], co.counts[a], co.errors[a]) if p >= 0}
        for b, (c, e) in stored.items():
            assert c >= truth[a, b] >= c - e and e <= bound
        assert {b for b in range(n_labels) if truth[a, b] > bound} <= set(stored)
        for b in range(n_labels):
            if a != b:
                assert co.count(a, b) <= truth[a, b]
    assert {p for p, _ in co.partners_of(0)} >= {1, 2}


# -- the search and the learning rule ------------------------------------------------------------

def marginals_by_brute_force(model, x):
    """Every placed label's path product, computed in plain Python from the arrays."""
    tree, arena = model._tree, model._arena
    idx, val = model._features.encode(x, learn=False)
    known = len(model._features)
    val = np.where(np.isfinite(val), val, 0.0)
    norm = math.sqrt(float(np.sum(val * val)))
    xv = val / norm if norm > 0 else val

    def logit(v):
        g, lane = int(tree.nodes[v, GROUP]), int(tree.nodes[v, LANE])
        z = float(tree.values[v, BIAS])
        for f, value in zip(idx.tolist(), xv.tolist()):
            if f < known:
                slot = (reference_bucket(g, f, arena.salt, arena.shift) << arena.lane_bits) + lane
                z += float(arena.weights[slot]) * value
        return z

    out = {}
    for label in np.flatnonzero(tree.label_leaf >= 0).tolist():
        p = 1.0
        for v in tree.path(label):
            p *= 1.0 / (1.0 + math.exp(-logit(v)))
        out[model._labels.names[label]] = p
    return out


def test_search_returns_the_exact_top_k_of_the_path_products():
    model = trained(n=500, top_k=5)
    rng = random.Random(9)
    for x, _ in itertools.islice(topic_stream(30, seed=5), 30):
        if rng.random() < 0.3:
            x = dict(x, unseen_word=2.0)
        _, scores = model.predict_with_scores(x)
        truth = marginals_by_brute_force(model, x)
        best = sorted(truth.items(), key=lambda kv: -kv[1])
        returned = sorted(scores.items(), key=lambda kv: -kv[1])
        assert [n for n, _ in returned[:5]] == [n for n, _ in best[:5]]
        for name, p in scores.items():
            assert p == pytest.approx(truth[name], rel=1e-4, abs=1e-6)
        # every label at or above the search's reach is returned
        reach = model._threshold.explore
        assert {n for n, p in truth.items() if p >= reach + 1e-6} <= set(scores)


def test_learning_trains_exactly_the_positive_and_negative_nodes_of_the_plt_rule():
    model = trained(n=400)
    tree = model._tree
    x, y = next(topic_stream(1, seed=11))
    for name in list(y):
        assert model._labels.names.index(name) >= 0
    ids = [model._labels.names.index(name) for name in y]
    positive = set()
    for label in ids:
        positive.update(tree.path(label))
    expected = {tree.root}
    for v in positive:
        if tree.nodes[v, LABEL] < 0:
            expected.update(tree.children_of(v))
    biases = tree.values[:, BIAS].copy()
    weights = model._arena.weights.copy()
    model.predict_with_scores(x)
    model.learn_labelset(x, y)
    changed = set(np.flatnonzero(tree.values[: biases.shape[0], BIAS] != biases).tolist())
    assert changed == expected
    # the weights that moved are those of trained nodes at the record's features
    idx, _ = model._features.encode(x, learn=False)
    arena = model._arena
    allowed = {
        (reference_bucket(int(tree.nodes[v, GROUP]), f, arena.salt, arena.shift) << arena.lane_bits)
        + int(tree.nodes[v, LANE])
        for v in expected for f in idx.tolist()
    }
    moved = set(np.flatnonzero(model._arena.weights != weights).tolist())
    assert moved and moved <= allowed


def test_a_record_without_labels_trains_the_root_alone():
    model = trained(n=200)
    tree = model._tree
    biases = tree.values[:, BIAS].copy()
    model.learn_labelset({"w0_1": 1.0}, [])
    changed = set(np.flatnonzero(tree.values[: biases.shape[0], BIAS] != biases).tolist())
    assert changed == {tree.root}


def test_logits_cached_by_the_prediction_equal_fresh_ones():
    """Learning right after predicting reuses the search's logits; the result must be the one
    of learning without the cache (in a table large enough for no two nodes to share a slot:
    a collision would let one node's update reach another's fresh logit)."""
    a, b = trained(n=300, bits=24), trained(n=300, bits=24)
    for x, y in topic_stream(200, seed=4):
        a.predict_with_scores(x)
        a.learn_labelset(x, y)
        b.predict_with_scores(x)
        b._last = None  # forget the prediction: learn computes every logit afresh
        b.learn_labelset(x, y)
    np.testing.assert_allclose(a._arena.weights, b._arena.weights, rtol=1e-6, atol=1e-7)
    n = a.n_nodes
    np.testing.assert_allclose(a._tree.values[:n, BIAS], b._tree.values[:n, BIAS], rtol=1e-9)


# -- the tree ------------------------------------------------------------------------------------

@pytest.mark.parametrize("arity", [3, 4, 16])
def test_tree_invariants_hold_on_a_long_stream_with_many_new_labels(arity):
    rng = random.Random(arity)
    model = LabelTreeClassifier(arity=arity, bits=16, restructure_every=50, min_count=2, cooccurrence_fading=0.9)
    for i in range(1500):
        labels = {f"l{rng.randrange(min(20 + i // 3, 400))}" for _ in range(rng.randint(0, 4))}
        x = {f"f{rng.randrange(300)}": rng.random() for _ in range(rng.randint(1, 10))}
        model.predict_with_scores(x)
        model.learn_labelset(x, labels)
    model._tree.check()
    n_placed = model._tree.n_leaves
    assert n_placed == len({name for name in model.labels})  # every label seen has a leaf
    # a split leaves both halves with at least (arity + 1) // 2 >= 2 children: logarithmic depth
    assert model.height <= 1 + math.ceil(math.log(n_placed) / math.log((arity + 1) // 2))


def test_bipartition_separates_two_blocks_of_affinity():
    n = 9
    affinity = np.full((n, n), 0.05)
    first = [0, 3, 4, 7]
    for i in range(n):
        for k in range(n):
            if (i in first) == (k in first):
                affinity[i, k] = 0.8
    side = np.zeros(n, dtype=np.int64)
    bipartition(affinity, n, side)
    groups = {tuple(sorted(np.flatnonzero(side == s).tolist())) for s in (0, 1)}
    assert tuple(first) in groups
    assert sorted(len(g) for g in groups) == [4, 5]


def mixed_clusters(model):
    return [c for c in model.clusters() if len({name.split("_")[0] for name in c}) > 1]


def test_the_tree_groups_labels_that_occur_together():
    """Six topics of four labels, arity 4: the first label of a topic arrives with no known
    partner and goes where the record's features lead, so a split may have to pair it with a
    label of another topic (both halves hold two labels at least); moving labels to the
    cluster they co-occur with undoes that."""
    model = trained(n=800)
    assert len(mixed_clusters(model)) <= 1
    x = {"w2_0": 1.0, "w2_3": 1.0, "w2_5": 1.0}
    predicted, scores = model.predict_with_scores(x)
    assert predicted and all(name.startswith("t2_") for name in predicted)
    assert max(scores, key=scores.get).startswith("t2_")
    moving = trained(n=800, restructure_every=50, min_count=5)
    assert mixed_clusters(moving) == [] and moving.counters["moves"] >= 1
    moving._tree.check()


def test_placement_by_order_ignores_the_statistics():
    model = trained(n=800, placement="order")
    model._tree.check()
    assert len(mixed_clusters(model)) >= 3  # arrival order mixes topics


def move_stream(n_late):
    """Labels a0..a2 co-occur, b0..b2 co-occur; x first arrives alone (placed by its features,
    beside the a labels it shares words with), then only ever occurs with the b labels."""
    yield from ((({"wa": 1.0}, {"a0", "a1", "a2"}), ({"wb": 1.0}, {"b0", "b1", "b2"})) * 30)
    yield {"wa": 1.0}, {"x"}
    yield from ((({"wa": 1.0}, {"x", "b0", "b1"}),) * n_late)


@pytest.mark.parametrize("n_late, moves", [(1, 0), (2, 1), (60, 1)])
def test_a_label_moves_to_the_cluster_it_co_occurs_with_only_past_the_hoeffding_bound(n_late, moves):
    """x's share of co-occurrences is 0 in its cluster and 1 in the b cluster: it moves once
    sqrt(ln(1/0.01) / (2 n)) < 1, i.e. from n = 3 records carrying x on, and only once."""
    model = LabelTreeClassifier(arity=4, bits=16, restructure_every=1, min_count=0, move_delta=0.01)
    for item in move_stream(n_late):
        for x, y in (item if isinstance(item[0], tuple) else (item,)):
            model.predict_with_scores(x)
            model.learn_labelset(x, y)
    assert model.counters["moves"] == moves
    cluster_of_x = next(c for c in model.clusters() if "x" in c)
    assert ("b0" in cluster_of_x) == bool(moves)
    model._tree.check()
    kinds = [e["kind"] for e in model.drain_events()]
    assert kinds.count("label_moved") == moves


# -- threshold -----------------------------------------------------------------------------------

def test_threshold_is_the_best_micro_f1_cut_of_its_histograms():
    rng = np.random.default_rng(4)
    thr = F1Threshold(initial=0.5, floor=0.01, ratio=0.02, fading=1.0)  # reach everything
    rel_all, irr_all = [], []
    for _ in range(300):
        rel = rng.beta(4, 2, size=rng.integers(1, 4))
        irr = rng.beta(1, 6, size=rng.integers(0, 6))
        rel_all += rel.tolist()
        irr_all += irr.tolist()
        observe_record(thr.hist, thr.state, rel, rel.shape[0], irr, irr.shape[0])
    rel_all, irr_all = np.array(rel_all), np.array(irr_all)
    best, best_tau = -1.0, None
    for b in range(BINS - 1, 0, -1):
        tau = b / BINS
        tp = np.sum(np.floor(rel_all * BINS) >= b)
        fp = np.sum(np.floor(irr_all * BINS) >= b)
        f1 = 2 * tp / (tp + fp + rel_all.shape[0])
        if f1 > best:
            best, best_tau = f1, tau
    assert thr.tau == pytest.approx(max(best_tau, 0.01))


def test_threshold_falls_to_the_reach_while_no_relevant_label_scores_within_it():
    # relevant labels the search never returned count in bin 0, below the reach: every threshold
    # the choice may take has F1 0. The threshold must go down (it went to the top bin and stayed
    # there, so the search never again reached a relevant label: micro-F1 0 on Emotions).
    thr = F1Threshold(initial=0.5, floor=0.02, ratio=0.75, fading=1.0)
    taus = []
    for _ in range(12):
        observe_record(thr.hist, thr.state, np.array([0.0]), 1, np.array([0.6]), 1)
        taus.append(thr.tau)
    assert taus[0] <= 0.5 * 0.75 + 1.0 / BINS
    assert all(b < a for a, b in zip(taus, taus[1:]) if a > 0.02 * 1.5)
    assert taus[-1] < 0.05
    # once relevant labels score within reach, the best cut is chosen again
    for _ in range(200):
        observe_record(thr.hist, thr.state, np.array([0.4]), 1, np.array([0.1]), 1)
    assert 0.1 < thr.tau <= 0.4


def test_a_fixed_threshold_never_moves():
    model = trained(n=300, threshold=0.4)
    assert model.tau == 0.4
    x, _ = next(topic_stream(1, seed=3))
    predicted, scores = model.predict_with_scores(x)
    assert predicted == {n for n, p in scores.items() if p >= 0.4}


# -- drift -----------------------------------------------------------------------------------------

def test_a_node_whose_loss_rises_is_reset_and_reported():
    model = LabelTreeClassifier(arity=3, bits=16, drift_delta=0.002)
    rng = random.Random(0)
    for i in range(6000):
        topic = rng.randrange(4)
        words = topic if i < 3000 else (topic + 1) % 4  # the words of every topic change
        x = {f"w{words}_{j}": 1.0 for j in range(3)}
        y = {f"t{topic}_l{j}" for j in range(2)}
        model.predict_with_scores(x)
        model.learn_labelset(x, y)
    events = model.drain_events()
    drifts = [e for e in events if e["kind"] == "node_drift"]
    assert drifts and all(e["t"] > 3000 for e in drifts)
    assert model.counters["drift_resets"] == len(drifts)
    quiet = LabelTreeClassifier(arity=3, bits=16, drift_detection=False)
    for x, y in topic_stream(300):
        quiet.learn_labelset(x, y)
    assert quiet.counters["drift_resets"] == 0 and quiet._monitors.capacity == 0


# -- the river contract, persistence, determinism, bad values ------------------------------------

@pytest.mark.parametrize("params", list(LabelTreeClassifier._unit_test_params()), ids=str)
def test_river_estimator_checks(params):
    check_estimator_offline(LabelTreeClassifier(**params))


def test_pickled_model_predicts_and_continues_identically():
    model = trained(n=300)
    copy = pickle.loads(pickle.dumps(model))
    for x, y in topic_stream(200, seed=8):
        assert model.predict_with_scores(x) == copy.predict_with_scores(x)
        model.learn_labelset(x, y)
        copy.learn_labelset(x, y)
    np.testing.assert_array_equal(model._arena.weights, copy._arena.weights)
    assert model.tau == copy.tau and model.clusters() == copy.clusters()


def test_same_seed_same_model_other_seed_other_hash():
    a, b, c = trained(n=300, seed=1), trained(n=300, seed=1), trained(n=300, seed=2)
    np.testing.assert_array_equal(a._arena.weights, b._arena.weights)
    assert not np.array_equal(a._arena.weights, c._arena.weights)
    x, _ = next(topic_stream(1, seed=7))
    assert a.predict_with_scores(x) == b.predict_with_scores(x)


def test_key_order_and_explicit_zeros_do_not_matter():
    a, b = LabelTreeClassifier(bits=16, arity=4), LabelTreeClassifier(bits=16, arity=4)
    rng = random.Random(5)
    for x, y in topic_stream(300, seed=2):
        keys = list(x)
        rng.shuffle(keys)
        shuffled = {k: x[k] for k in keys}
        shuffled["never_nonzero"] = 0.0
        assert a.predict_with_scores(x) == b.predict_with_scores(shuffled)
        a.learn_labelset(x, y)
        b.learn_labelset(shuffled, y)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 1e308, "7"])
def test_undigestible_values_are_refused_before_they_reach_the_state(bad):
    model = trained(n=100)
    weights, n_features = model._arena.weights.copy(), len(model._features)
    x = {"w0_1": 1.0, "poison": bad}
    for call in (lambda: model.predict_with_scores(x), lambda: model.learn_labelset(x, {"t0_l0"})):
        with pytest.raises(ValueError, match="poison"):
            call()
    np.testing.assert_array_equal(model._arena.weights, weights)
    assert len(model._features) == n_features and model.counters["learned"] == 100


@pytest.mark.parametrize("extreme", [1e99, -1e99, 1e-320])
def test_extreme_but_finite_values_never_make_nan(extreme):
    for normalize in (True, False):
        model = LabelTreeClassifier(bits=16, arity=4, normalize=normalize)
        for i, (x, y) in enumerate(topic_stream(300, seed=6)):
            if i % 3 == 0:
                x = dict(x, big=extreme)
            _, scores = model.predict_with_scores(x)
            assert all(math.isfinite(p) and 0.0 <= p <= 1.0 for p in scores.values())
            model.learn_labelset(x, y)
        n = model.n_nodes
        for array in (model._arena.weights, model._arena.sums, model._tree.values[:n], model._threshold.hist,
                      model._co.counts, model._monitors.window):
            assert np.all(np.isfinite(array))


def test_memory_holds_no_label_by_label_or_feature_by_label_structure():
    small = LabelTreeClassifier(bits=16, arity=8)
    rng = random.Random(0)
    sizes = []
    for n_labels in (500, 5000):
        model = LabelTreeClassifier(bits=16, arity=8)
        for i in range(3000):
            y = {f"l{rng.randrange(n_labels)}" for _ in range(3)}
            x = {f"f{rng.randrange(2000)}": 1.0 for _ in range(20)}
            model.learn_labelset(x, y)
        sizes.append(model.memory_bytes() - small.memory_bytes())
    # ten times the labels: well under ten times the growth (the weight table does not grow)
    assert sizes[1] < 10 * sizes[0]
    assert sizes[1] < 4_000 * 5000


def test_bad_parameters_are_refused():
    for params in ({"arity": 2}, {"arity": 64}, {"threshold": 0.0}, {"placement": "random"}, {"bits": 3},
                   {"top_k": 0}, {"cooccurrence_fading": 0.0}, {"learning_rate": -1.0}):
        with pytest.raises(ValueError):
            LabelTreeClassifier(**params)


def test_labels_declared_up_front_get_leaves_only_when_they_occur():
    model = LabelTreeClassifier(bits=16, arity=4)
    model.add_labels([f"l{i}" for i in range(1000)])
    assert model._tree.n_leaves == 0 and len(model.labels) == 1000
    model.learn_labelset({"a": 1.0}, {"l3", "l7"})
    assert model._tree.n_leaves == 2
    _, scores = model.predict_with_scores({"a": 1.0})
    assert set(scores) == {"l3", "l7"}


def test_a_first_record_with_many_labels_grows_the_tree_several_levels_at_once():
    model = LabelTreeClassifier(arity=3, bits=16)
    labels = {f"l{i}" for i in range(60)}
    model.predict_with_scores({"a": 1.0})
    model.learn_labelset({"a": 1.0}, labels)
    model._tree.check()
    assert model.height >= 4 and model._tree.n_leaves == 60
    _, scores = model.predict_with_scores({"a": 1.0})
    assert len(scores) >= 5
