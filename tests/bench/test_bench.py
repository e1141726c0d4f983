"""``stream-xml bench``: rows agree with ``evaluate``, caps are reported, MOA joins the table."""

from __future__ import annotations

import json

import pytest

from stream_xml.bench import runs as bench
from stream_xml.cli import main


def _bench(tmp_path, *argv) -> dict:
    out = tmp_path / "bench"
    argv = argv if "--vw" in argv else (*argv, "--vw", "none")  # Vowpal Wabbit's own tests are in test_vw.py
    assert main(["bench", "--source", "yeast", "--out", str(out), *argv]) == 0
    assert (out / "bench.md").read_text().startswith("**yeast**")
    return json.loads((out / "bench.json").read_text())["sources"]["yeast"]


def test_rows_match_an_evaluate_run_of_the_same_models(tmp_path):
    rows = _bench(tmp_path, "--limit", "300", "--model", "majority", "--model", "mlht", "--moa", "none")
    assert [r["model"] for r in rows] == ["majority", "mlht"]
    assert main(["evaluate", "--source", "yeast", "--limit", "300", "--model", "majority", "--model", "mlht",
                 "--no-progress", "--out", str(tmp_path / "eval")]) == 0
    report = json.loads((tmp_path / "eval" / "report.json").read_text())
    for row in rows:
        assert row["records"] == 300 and not row["capped"]
        expected = report["models"][row["model"]]["metrics"]
        assert row["metrics"] == {k: expected[k] for k in bench.MAIN_METRICS + bench.RANKING_METRICS}
        assert row["records_per_s"] > 0 and row["peak_rss_mb"] > 10 and row["warmup_s"] >= 0
        assert "vs_moa-mlht" not in row and "vs_br-ht" not in row  # no base in this run


def test_labelled_variants_run_side_by_side_with_their_own_parameters(tmp_path):
    rows = _bench(tmp_path, "--limit", "300", "--model", "mlht", "--model", "nb=mlht", "--param", "nb:leaf_model=nb",
                  "--moa", "none")
    assert [r["model"] for r in rows] == ["mlht", "nb"]
    assert main(["evaluate", "--source", "yeast", "--limit", "300", "--model", "nb=mlht", "--param",
                 "nb:leaf_model=nb", "--no-progress", "--out", str(tmp_path / "eval")]) == 0
    expected = json.loads((tmp_path / "eval" / "report.json").read_text())["models"]["nb"]["metrics"]
    assert rows[1]["metrics"] == {k: expected[k] for k in bench.MAIN_METRICS + bench.RANKING_METRICS}
    assert rows[0]["metrics"] != rows[1]["metrics"]


def test_a_parameter_for_an_unknown_label_is_an_error(capsys):
    assert main(["bench", "--source", "yeast", "--model", "a=mlht", "--param", "b:leaf_model=nb", "--moa", "none"]) == 2
    assert "'b'" in capsys.readouterr().err


def test_river_models_stop_at_their_time_cap(tmp_path):
    rows = _bench(tmp_path, "--model", "br-ht", "--model", "majority", "--moa", "none", "--river-max-seconds", "0.2")
    capped, majority = rows
    assert capped["capped"] and 16 <= capped["records"] < 2417
    assert not majority["capped"] and majority["records"] == 2417
    assert capped["vs_br-ht"] == 1.0
    assert majority["vs_br-ht"] == pytest.approx(majority["records_per_s"] / capped["records_per_s"])


def test_rounds_alternate_and_ratios_pair_runs_of_the_same_round(tmp_path, capsys):
    rows = _bench(tmp_path, "--limit", "150", "--model", "br-ht", "--model", "majority", "--moa", "none", "--reps", "3")
    base, majority = rows
    order = [line.split(": ")[1].split(" (")[0] for line in capsys.readouterr().err.splitlines() if "(round" in line]
    assert order == ["br-ht", "majority", "majority", "br-ht", "br-ht", "majority"]
    for row in rows:
        assert len(row["runs_per_s"]) == 3 and not row["metrics_differ"]
        assert row["records_per_s"] == sorted(row["runs_per_s"])[1]
    ratios = sorted(a / b for a, b in zip(majority["runs_per_s"], base["runs_per_s"]))
    assert majority["vs_br-ht"] == pytest.approx(ratios[1])
    assert majority["vs_br-ht_range"] == pytest.approx([ratios[0], ratios[2]])
    assert base["vs_br-ht"] == 1.0 and base["vs_br-ht_range"] == [1.0, 1.0]
    table = (tmp_path / "bench" / "bench.md").read_text()
    assert "Median of 3 rounds" in table and f"{majority['vs_br-ht']:.2f} [{ratios[0]:.2f}–{ratios[2]:.2f}]" in table


def test_ratios_of_rounds_are_paired_not_ratios_of_medians():
    # round 2 ran on a slow machine for both: pairing sees a steady 10x, medians would say 6x
    fast = {"model": "ihomer", "runs_per_s": [1000.0, 300.0, 1000.0], "records_per_s": 1000.0}
    base = {"model": "br-ht", "runs_per_s": [100.0, 30.0, 500.0], "records_per_s": 100.0}
    bench.add_ratios([fast, base])
    assert fast["vs_br-ht"] == pytest.approx(10.0)
    assert fast["vs_br-ht_range"] == pytest.approx([2.0, 10.0])


def test_runs_that_score_differently_are_flagged():
    runs = [{"model": "m", "records": 3, "capped": False, "warmup_s": None, "peak_rss_mb": None, "model_mb": None,
             "records_per_s": v, "metrics": dict.fromkeys(bench.MAIN_METRICS, f)} for v, f in ((1.0, 0.5), (2.0, 0.5), (3.0, 0.6))]
    row = bench.combine_runs(runs)
    assert row["metrics_differ"] and row["records_per_s"] == 2.0 and row["metrics"]["micro_f1"] == 0.5
    assert "runs scored differently" in bench.format_table("s", [row])
    assert not bench.combine_runs(runs[:2])["metrics_differ"]
    failed = bench.combine_runs([runs[0], {**runs[1], "error": "exit 1"}])
    assert failed["error"] == "exit 1"


def test_reps_below_one_is_an_error(capsys):
    assert main(["bench", "--source", "yeast", "--model", "majority", "--moa", "none", "--reps", "0"]) == 2
    assert "--reps must be at least 1" in capsys.readouterr().err


def test_unknown_moa_learner_is_an_error(capsys):
    assert main(["bench", "--source", "yeast", "--moa", "moa-nope", "--model", "majority"]) == 2
    assert "moa-nope" in capsys.readouterr().err


@pytest.mark.slow
def test_moa_learners_run_on_the_same_records(tmp_path, moa_jar):
    rows = _bench(tmp_path, "--limit", "400", "--model", "mlht", "--moa", "moa-mlht")
    ours, theirs = rows
    assert theirs["model"] == "moa-mlht" and theirs["records"] == 400
    assert theirs["vs_moa-mlht"] == 1.0 and ours["vs_moa-mlht"] > 0
    assert theirs["peak_rss_mb"] > 10 and theirs["model_seconds"] > 0
    assert all(0.0 <= theirs["metrics"][k] <= 1.0 for k in bench.MAIN_METRICS)


@pytest.mark.slow
def test_moa_time_limit_gives_a_row_for_the_records_it_reached(tmp_path, moa_jar):
    (row,) = _bench(tmp_path, "--model", "majority", "--moa", "moa-cc", "--moa-max-seconds", "1")[1:]
    assert "error" not in row and 0 < row["records"] <= 2417
    assert row["capped"] == (row["records"] < 2417)
    assert row["records_per_s"] > 0
    assert all(0.0 <= row["metrics"][k] <= 1.0 for k in bench.MAIN_METRICS)


def test_compare_checkouts_times_two_checkouts_and_compares_their_predictions(capsys):
    import pathlib
    import sys

    root = pathlib.Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root / "experiments"))
    try:
        import compare_checkouts
    finally:
        sys.path.pop(0)
    args = [str(root), str(root), "--source", "yeast", "--model", "mlht", "--limit", "60", "--warmup", "10", "--reps", "1"]
    assert compare_checkouts.main(args) == 0
    out = capsys.readouterr().out
    assert out.count("median") == 2 and "second / first:" in out
    assert "predictions: identical" in out
    # the digests tell predictions apart
    runs = [compare_checkouts.run_once(str(root), "{}", compare_checkouts.argparse.Namespace(
        source="yeast", data_dir=None, limit=60, model=m, warmup=10, passes=1)) for m in ("mlht", "majority")]
    assert runs[0]["records"] == runs[1]["records"] == 60 and runs[0]["digest"] != runs[1]["digest"]
    # several passes a run: the fastest is kept, and passes that predict alike keep one digest
    assert compare_checkouts.main(args + ["--passes", "2"]) == 0
    assert "predictions: identical" in capsys.readouterr().out


def test_label_tallies_add_up_to_the_evaluators_micro_f1_and_exact_matches():
    """experiments/label_tallies.py counts what the prequential evaluator scores: its summed
    tallies give the evaluator's micro-F1 and subset accuracy for the same model and records."""
    import itertools
    import pathlib
    import sys

    from connectors.catalog import open_source
    from stream_xml.evaluation.prequential import evaluate
    from stream_xml.models import make_model

    root = pathlib.Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root / "experiments"))
    try:
        import label_tallies
        import model_specs
    finally:
        sys.path.pop(0)
    source = open_source("yeast")
    records = [(r.x, frozenset(r.y)) for r in itertools.islice(source, 300)]
    model = model_specs.model_from_spec("mlhat")
    out = label_tallies.tallies(records, model, model_specs.handed_over(model, source))
    tp, fp, fn = (sum(v[i] for v in out["labels"].values()) for i in range(3))
    metrics = evaluate(open_source("yeast"), {"m": make_model("mlhat", {}, seed=0)}, limit=300)["models"]["m"]["metrics"]
    assert 2 * tp / (2 * tp + fp + fn) == pytest.approx(metrics["micro_f1"], abs=1e-12)
    assert out["exact"] / 300 == pytest.approx(metrics["subset_accuracy"], abs=1e-12)
    assert 0 < out["exact"] < 300 and fp > 0 and fn > 0
