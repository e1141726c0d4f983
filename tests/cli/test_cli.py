"""The CLI end to end on river's bundled Yeast: report files present and well formed."""

import csv
import json
import re

import pytest

from stream_xml.cli import main


@pytest.fixture(scope="module")
def yeast_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    code = main(["evaluate", "--source", "yeast", "--model", "majority", "--model", "br-nb",
                 "--out", str(out), "--no-progress", "--every", "200", "--window", "300"])
    assert code == 0
    return out


def test_report_json_has_config_stream_and_models(yeast_report):
    doc = json.loads((yeast_report / "report.json").read_text())
    assert doc["config"]["source"] == "yeast"
    assert doc["stream"]["records"] == 2417 and doc["stream"]["labels"] == 14
    assert doc["stream"]["cardinality"] == pytest.approx(4.237, abs=1e-3)
    assert set(doc["models"]) == {"majority", "br-nb"}
    for m in doc["models"].values():
        assert 0.0 <= m["metrics"]["subset_accuracy"] <= 1.0
        assert m["records_per_s"] > 0
        assert m["latency_us"]["predict"]["count"] == 2417
        assert m["latency_us"]["learn"]["p99"] >= m["latency_us"]["learn"]["p50"] > 0
    # the majority labelset never predicts better than naive Bayes on Yeast's micro-F1
    assert doc["models"]["br-nb"]["metrics"]["micro_f1"] > doc["models"]["majority"]["metrics"]["micro_f1"]


def test_series_csv_has_one_row_per_sample_and_model(yeast_report):
    rows = list(csv.DictReader(open(yeast_report / "series.csv")))
    ts = [int(r["t"]) for r in rows if r["model"] == "majority"]
    assert ts == list(range(200, 2417, 200)) + [2417]
    assert {"window.micro_f1", "cumulative.hamming_loss", "records_per_s"} <= set(rows[0])
    for r in rows:
        assert 0.0 <= float(r["window.subset_accuracy"]) <= 1.0


def test_html_is_standalone_with_plots(yeast_report):
    page = (yeast_report / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 2  # metrics over the stream, speed and memory (no events, no hierarchy)
    assert "br-nb" in page and "majority" in page
    assert "http://" not in page and "https://" not in page  # nothing fetched from elsewhere


def test_param_routing_and_errors(tmp_path, capsys):
    assert main(["evaluate", "--source", "yeast", "--model", "br-ht", "--param", "br-ht:grace_period=50",
                 "--limit", "100", "--out", str(tmp_path / "a"), "--no-progress"]) == 0
    doc = json.loads((tmp_path / "a" / "report.json").read_text())
    assert doc["config"]["models"]["br-ht"]["params"] == {"grace_period": 50}
    assert doc["stream"]["records"] == 100
    assert main(["evaluate", "--source", "yeast", "--model", "nope", "--out", str(tmp_path / "b")]) == 2
    assert "unknown model 'nope'" in capsys.readouterr().err
    assert main(["evaluate", "--source", "yeast", "--model", "br-ht", "--param", "bogus=1",
                 "--out", str(tmp_path / "c")]) == 2
    assert "has no parameter bogus" in capsys.readouterr().err


def test_bad_file_names_file_and_line_and_skip_mode_counts(tmp_path, capsys):
    bad = tmp_path / "bad.arff"
    bad.write_text("@relation 'r: -C 1'\n@attribute y {0,1}\n@attribute f numeric\n@data\n"
                   "1,0.5\n0,abc\n1,0.7\n")
    assert main(["evaluate", "--source", str(bad), "--model", "majority", "--out", str(tmp_path / "o"),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "bad.arff:6" in err
    assert main(["evaluate", "--source", str(bad), "--model", "majority", "--out", str(tmp_path / "o"),
                 "--no-progress", "--on-error", "skip"]) == 0
    doc = json.loads((tmp_path / "o" / "report.json").read_text())
    assert doc["source"]["errors"]["skipped"] == 1
    assert doc["stream"]["records"] == 2


def test_models_command_lists_baselines(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ("majority", "br-ht", "br-arf", "br-knn", "br-nb", "br-lr", "cc-lr"):
        assert name in out


def test_datasets_command_lists_the_shared_datasets(data_dir, capsys):
    assert main(["datasets", "--data-dir", str(data_dir), "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["yeast"]["instances"] == 2417 and rows["yeast"]["labels"] == 14
    assert rows["scene"]["instances"] == 2407
    assert rows["enron"]["features"] == 1001 and rows["enron"]["labels"] == 53
    assert len(rows) == 21


def test_ihomer_run_says_who_answered_its_labels(tmp_path, capsys):
    code = main(["evaluate", "--source", "yeast", "--model", "blocks=ihomer", "--param", "blocks:min_block=sqrt",
                 "--model", "one=ihomer", "--model", "majority", "--out", str(tmp_path), "--no-progress", "--limit", "700"])
    assert code == 0
    shares = json.loads((tmp_path / "report.json").read_text())["models"]["blocks"]["answer_shares"]
    err = capsys.readouterr().err
    line = next(l for l in err.splitlines() if l.startswith("blocks answered its labels with its blocks'"))
    assert re.findall(r" (\d+\.\d)%", line) == [f"{100 * v:.1f}" for v in shares.values()]
    # the default's one block, the root learner alone, and a model without a hierarchy say nothing
    assert not any(l.startswith(("majority answered", "one answered")) for l in err.splitlines())
