"""iHOMER's array path (one learner answering every label, the default's one block) against its
by-name path: the same labelsets, scores and model state; and its two kernels against the
by-name forms they replace."""

import itertools
import pickle

import numpy as np
import pytest
from river import datasets

from stream_xml.clustering import ODACJ
from stream_xml.ihomer import IHOMER
from stream_xml.ihomer import hierarchy, modes
from stream_xml.ihomer.thresholds import OnlineThreshold
from stream_xml.tree import MLHAT
from stream_xml.tree.leaf_policies import ranked, ranked_into, ranked_score


def _yeast(n):
    return [(x, frozenset(k for k, v in y.items() if v)) for x, y in itertools.islice(datasets.Yeast(), n)]


def _run(model, records, by_name: bool, monkeypatch) -> tuple[list, int]:
    """Predict then learn every record; returns the predictions and how many took the array
    path (``by_name`` forces the by-name path)."""
    with monkeypatch.context() as patch:
        if by_name:
            patch.setattr(modes.PartitionEnsemble, "sole_learner", lambda self: None)
        taken = [0]
        by_arrays = hierarchy.ClusterHierarchy._predict_by_arrays

        def counted(self, *args):
            taken[0] += 1
            return by_arrays(self, *args)

        patch.setattr(hierarchy.ClusterHierarchy, "_predict_by_arrays", counted)
        out = []
        for x, labels in records:
            out.append(model.predict_with_scores(x))
            model.learn_labelset(x, labels)
    return out, taken[0]


@pytest.mark.parametrize("params", [
    {},  # the default: the root tree is the one block, ranking by label shares
    {"root_learner": False, "min_block": "all", "threshold": "f1"},  # a block tree ranking by its answers
])  # fmt: skip
def test_the_array_path_gives_the_by_name_path_s_labelsets_scores_and_state(params, monkeypatch):
    records = _yeast(700)
    by_name, taken = _run(IHOMER(seed=4, **params), records, True, monkeypatch)
    assert taken == 0
    model = IHOMER(seed=4, **params)
    by_arrays, taken = _run(model, records, False, monkeypatch)
    assert taken == len(records) - 1  # all but the first record, which no learner answers yet
    assert by_arrays == by_name  # labelsets and every label's score, to the bit
    reference = IHOMER(seed=4, **params)
    _run(reference, records, True, monkeypatch)
    assert pickle.dumps(model) == pickle.dumps(reference)  # the threshold's counts included


@pytest.mark.parametrize("params", [
    {"threshold": "fixed"},
    {"mode": "routing"},
    {"min_block": "sqrt", "clustering": ODACJ(n_min=50, delta=0.9, tau=0.1),
     "tree": MLHAT(grace_period=50, leaf_switch="loss")},
])  # fmt: skip
def test_without_a_sole_learner_and_an_online_threshold_predictions_go_by_name(params, monkeypatch):
    model = IHOMER(seed=1, **params)
    records = _yeast(500)
    _run(model, records[:400], False, monkeypatch)
    if params.get("min_block") == "sqrt":
        assert len(model.blocks) > 1
    _, taken = _run(model, records[400:], False, monkeypatch)
    assert taken == 0


def test_ranked_into_is_ranked_and_ranked_score_bit_for_bit():
    rng = np.random.default_rng(0)
    for n in (0, 1, 14, 75):
        answer = rng.random(n)
        rank = np.concatenate([rng.random(max(n - 3, 0)), [0.0, 1.0, 1e-12]])[:n]
        answer[: n // 4] = 0.25  # ties with tau
        out = np.full((2, n), np.nan)  # every cell must be written
        ranked_into(answer, rank, 0.25, True, out)
        decided, scores = out.tolist()
        assert decided == (answer >= 0.25).astype(float).tolist()
        assert scores == ranked(answer >= 0.25, rank).tolist()
        assert scores == [ranked_score(d == 1.0, float(r)) for d, r in zip(decided, rank)]
        out[:] = np.nan
        ranked_into(answer, rank, 0.25, False, out)
        assert out[0].tolist() == decided and out[1].tolist() == answer.tolist()


def test_the_threshold_counts_an_answer_array_as_it_counts_scores_by_name():
    rng = np.random.default_rng(5)
    names = [f"l{j}" for j in range(9)]
    by_name, by_array = OnlineThreshold(fading=0.99), OnlineThreshold(fading=0.99)
    for _ in range(300):
        # the labels the answer scores, those its learner met since, and labels still unknown
        answered = int(rng.integers(1, len(names) + 1))
        known = int(rng.integers(answered, len(names) + 1))
        answer = rng.random(answered) ** 3
        truth = frozenset(n for n in names if rng.random() < 0.3)
        by_name.observe(dict(zip(names[:answered], answer.tolist())), truth)
        positions = np.array([j for j, n in enumerate(names[:known]) if n in truth], dtype=np.int64)
        by_array.observe_answer(answer, positions, len(truth))
        assert by_array.tau == by_name.tau
    assert np.array_equal(by_array._threshold.hist, by_name._threshold.hist)
    assert np.array_equal(by_array._threshold.state, by_name._threshold.state)
