"""Vowpal Wabbit's PLT as a bench anchor: label ids, dropped ids, which pass gives which metrics,
the best of two configurations, real VW runs on small streams, and the bench's --vw option."""

from __future__ import annotations

import itertools
import json

import pytest

from connectors.base import Record
from connectors.catalog import open_source
from stream_xml.bench import runs as bench
from stream_xml.bench import vw
from stream_xml.cli import main
from stream_xml.evaluation.metrics import MultiLabelMetrics

pytest.importorskip("vowpalwabbit")


def test_label_ids_are_the_declared_labels_then_those_first_seen():
    records = [
        Record({"f": 1.0, "g": 0.0}, frozenset({"b", "new2", "new1"}), {}),
        Record({"g": 2.5}, None, {}),
        Record({"h": -1.0}, frozenset({"new3", "a"}), {}),
        Record({}, frozenset(), {}),
    ]
    stream = vw.VwStream(records, declared=["a", "b"])
    assert stream.labels == ["a", "b", "new1", "new2", "new3"]
    assert stream.truth == [(1, 2, 3), None, (0, 4), ()]
    assert stream.examples == [
        (" | 0:1.0", "1,2,3 | 0:1.0"),  # zeros left out; features numbered by first sight
        (" | 1:2.5", None),  # labels unknown: predicted only
        (" | 2:-1.0", "0,4 | 2:-1.0"),
        (" | ", None),  # no label: VW cannot learn it
    ]


def _pass(mode, predictions, config="k2"):
    return vw.VwPass(config, mode, predictions, seconds=1.0, learned=len(predictions))


def test_ids_beyond_the_label_space_leave_the_labelset_and_are_misses_in_the_ranking():
    truth = [(0, 2), (1,), None]
    threshold = _pass("threshold", [[0, 2, 5], [1, 4], [3]])
    top_k = _pass("top_k", [[5, 0, 2], [4, 3, 1], [0]])
    out = vw.score_passes(threshold, top_k, truth, n_labels=4)
    assert out["dropped"] == 4  # 5 and 4 in each pass
    expected = MultiLabelMetrics(window=None, ks=(1, 3, 5))
    # the ranking keeps 5 and 4 as labels that are never relevant: misses at rank 1
    expected.update([0, 2], [0, 2], scores={5: 3.0, 0: 2.0, 2: 1.0}, n_labels=4)
    expected.update([1], [1], scores={4: 3.0, 3: 2.0, 1: 1.0}, n_labels=4)
    assert out["metrics"] == expected.get()
    assert out["metrics"]["subset_accuracy"] == 1.0 and out["metrics"]["precision@1"] == 0.0
    assert out["metrics"]["precision@3"] == pytest.approx((2 / 3 + 1 / 3) / 2)


def test_set_metrics_come_from_the_threshold_pass_and_ranking_metrics_from_the_top_k_pass():
    truth = [(0,), (1,), (0, 1)]
    right = [[0], [1], [0, 1]]
    wrong = [[2], [2], [2]]
    good_sets = vw.score_passes(_pass("threshold", right), _pass("top_k", wrong), truth, n_labels=3)["metrics"]
    good_ranks = vw.score_passes(_pass("threshold", wrong), _pass("top_k", right), truth, n_labels=3)["metrics"]
    assert good_sets["subset_accuracy"] == good_sets["micro_f1"] == 1.0 and good_sets["precision@1"] == 0.0
    assert good_ranks["subset_accuracy"] == good_ranks["micro_f1"] == 0.0 and good_ranks["precision@1"] == 1.0


def test_each_metric_takes_the_better_configuration():
    best, which = vw._best({
        "k2": {"micro_f1": 0.5, "hamming_loss": 0.1, "precision@1": 0.9},
        "k16": {"micro_f1": 0.6, "hamming_loss": 0.2, "precision@1": 0.8},
    })
    assert best == {"micro_f1": 0.6, "hamming_loss": 0.1, "precision@1": 0.9}
    assert which == {"micro_f1": "k16", "hamming_loss": "k2", "precision@1": "k2"}


def _yeast(n, empty_every=None):
    records = list(itertools.islice(open_source("yeast"), n))
    if empty_every:
        records = [r._replace(y=frozenset()) if i % empty_every == 0 else r for i, r in enumerate(records)]
    return records


def test_vw_runs_predict_then_learn_on_a_small_stream():
    records = _yeast(300, empty_every=10)
    stream = vw.VwStream(records, declared=open_source("yeast").labels)
    row = vw.run_vw(stream)
    assert (row["model"], row["records"], row["labels"], row["capped"]) == ("vw-plt", 300, 14, False)
    assert [(p["config"], p["mode"]) for p in row["passes"]] == [
        ("k2", "threshold"), ("k2", "top_k"), ("k16", "threshold"), ("k16", "top_k")]
    assert all(p["records"] == 300 and p["learned"] == 270 for p in row["passes"])  # the 30 empty ones: not learned
    assert row["configs"]["k16"]["dropped_ids"] > 0 == row["configs"]["k2"]["dropped_ids"]  # 16-ary leaves past 14
    for name, value in row["metrics"].items():
        config = row["best_of"][name]
        assert value == row["configs"][config]["metrics"][name]
        others = [c["metrics"][name] for c in row["configs"].values()]
        assert value == (min(others) if name == "hamming_loss" else max(others))
    assert 0.5 < row["metrics"]["precision@1"] <= 1 and 0 < row["metrics"]["psp@5"] <= 1
    assert row["records_per_s"] > 0 and row["model_seconds"] > 0
    again = vw.run_vw(vw.VwStream(records, declared=stream.labels))
    assert again["metrics"] == row["metrics"]  # VW is deterministic


def test_a_capped_pass_cuts_every_pass_at_the_same_record():
    stream = vw.VwStream(_yeast(400), declared=open_source("yeast").labels)
    row = vw.run_vw(stream, max_seconds=1e-9)
    assert row["capped"] and row["records"] == 16 and all(p["records"] == 16 for p in row["passes"])


def test_bench_puts_vw_beside_the_models(tmp_path, capsys):
    out = tmp_path / "bench"
    argv = ["bench", "--source", "yeast", "--limit", "200", "--model", "majority", "--moa", "none", "--vw", "vw-plt",
            "--out", str(out)]
    assert main(argv) == 0
    majority, plt = json.loads((out / "bench.json").read_text())["sources"]["yeast"]
    assert plt["model"] == "vw-plt" and plt["records"] == 200 and plt["peak_rss_mb"] > 10
    assert set(bench.RANKING_METRICS) <= set(plt["metrics"]) and set(bench.RANKING_METRICS) <= set(majority["metrics"])
    table = (out / "bench.md").read_text()
    assert "| vw-plt | 200 |" in table and "precision@1" in table and "psp@5" in table
    assert main(["bench", "--source", "yeast", "--model", "majority", "--vw", "vw-nope", "--moa", "none"]) == 2
    assert "unknown VW learner vw-nope" in capsys.readouterr().err
    alone = ["bench", "--source", "yeast", "--limit", "50", "--model", "none", "--moa", "none", "--out", str(out)]
    assert main(alone) == 0
    assert [r["model"] for r in json.loads((out / "bench.json").read_text())["sources"]["yeast"]] == ["vw-plt"]
    assert main([*alone[:-2], "--vw", "none"]) == 2 and "nothing to bench" in capsys.readouterr().err


def test_a_missing_vowpalwabbit_is_reported_plainly(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "vowpalwabbit" else real(name, *a))
    with pytest.raises(vw.VwUnavailable, match="pip install vowpalwabbit"):
        vw.require_vw()
    assert main(["bench", "--source", "yeast", "--model", "majority", "--moa", "none"]) == 2
    assert "--vw none" in capsys.readouterr().err
