"""``stream-xml bench``: rows agree with ``evaluate``, caps are reported, MOA joins the table."""

from __future__ import annotations

import json

import pytest

from stream_xml import bench
from stream_xml.cli import main


def _bench(tmp_path, *argv) -> dict:
    out = tmp_path / "bench"
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
        assert row["metrics"] == {k: expected[k] for k in bench.MAIN_METRICS}
        assert row["records_per_s"] > 0 and row["peak_rss_mb"] > 10 and row["warmup_s"] >= 0
        assert "vs_moa-mlht" not in row and "vs_br-ht" not in row  # no base in this run


def test_river_models_stop_at_their_time_cap(tmp_path):
    rows = _bench(tmp_path, "--model", "br-ht", "--model", "majority", "--moa", "none", "--river-max-seconds", "0.2")
    capped, majority = rows
    assert capped["capped"] and 16 <= capped["records"] < 2417
    assert not majority["capped"] and majority["records"] == 2417
    assert capped["vs_br-ht"] == 1.0
    assert majority["vs_br-ht"] == pytest.approx(majority["records_per_s"] / capped["records_per_s"])


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

    root = pathlib.Path(__file__).resolve().parents[1]
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
    runs = [compare_checkouts.run_once(str(root), compare_checkouts.argparse.Namespace(
        source="yeast", data_dir=None, limit=60, model=m, params="{}", warmup=10)) for m in ("mlht", "majority")]
    assert runs[0]["records"] == runs[1]["records"] == 60 and runs[0]["digest"] != runs[1]["digest"]
