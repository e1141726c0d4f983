"""Issue 21: the command line as a newcomer meets it. --version and --help, errors before any
work and naming the flag typed, model labels, per-record predictions, report files others can
read, the models' parameters, and `datasets` answering from its cache."""

import json
import os
import stat

import pytest

from stream_xml.cli import main


def _evaluate(tmp_path, *extra, out="out"):
    return main(["evaluate", "--source", "yeast", "--no-progress", "--out", str(tmp_path / out), *extra])


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    from stream_xml import __version__

    assert capsys.readouterr().out.strip() == f"stream-xml {__version__}"


def test_help_shows_defaults_and_plain_text(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    text = capsys.readouterr().out
    assert "--seed SEED" in text and "(default: 0)" in text and "(default: 10)" in text  # --seed, --top-scores
    assert "``" not in text and "Every record is predicted" in text
    with pytest.raises(SystemExit):
        main(["models", "--help"])
    assert "``" not in capsys.readouterr().out


# -- errors before work ------------------------------------------------------------------------


@pytest.fixture
def no_stream(monkeypatch):
    """Fails the test if the evaluation loop starts."""
    from stream_xml.evaluation import prequential

    def refuse(*args, **kwargs):
        raise AssertionError("the stream was started")

    monkeypatch.setattr(prequential, "evaluate", refuse)


def test_a_bad_out_fails_before_the_first_record(tmp_path, capsys, no_stream):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert _evaluate(tmp_path, "--model", "majority", out="a-file") == 2
    assert "--out" in capsys.readouterr().err
    assert _evaluate(tmp_path, "--model", "majority", out="a-file/below") == 2
    assert "--out" in capsys.readouterr().err and blocker.read_text() == "x"


def test_a_bad_predictions_path_fails_before_the_first_record(tmp_path, capsys, no_stream):
    assert _evaluate(tmp_path, "--model", "majority", "--predictions", str(tmp_path / "none" / "p.jsonl")) == 2
    assert "--predictions" in capsys.readouterr().err


@pytest.mark.parametrize("args, named", [
    (["--source", "nofile.arff"], "file not found: 'nofile.arff'"),
    (["--source", "yeast", "--labels-xml", "x.xml"], "--labels-xml"),
    (["--source", "yeast", "--model", "ihomr"], "did you mean 'ihomer'"),
    (["--source", "yeast", "--param", "grace_period=abc"], "grace_period"),
    (["--source", "yeast", "--model", "ihomer", "--param", "clustering__n_min=abc"], "clustering__n_min"),
    (["--source", "yeast", "--model", "ihomer", "--param", "tree__grace_perod=5"], "did you mean grace_period"),
    (["--source", "yeast", "--param", "mlhta:grace_period=5"], "did you mean 'mlhat'"),
    (["--source", "yeast", "--model", "a=mlht", "--model", "a=mlhat"], "'a' is already given"),
])
def test_errors_name_what_the_user_typed(tmp_path, capsys, no_stream, args, named):
    command = ["evaluate", *args, "--out", str(tmp_path / "o"), "--no-progress"]
    if "--model" not in args:
        command += ["--model", "mlhat"]
    assert main(command) == 2
    err = capsys.readouterr().err
    assert named in err and "Traceback" not in err


def test_csv_errors_name_the_csv_flags(tmp_path, capsys, no_stream):
    data = tmp_path / "d.csv"
    data.write_text("f,a,b\n1,0,1\n")
    assert main(["evaluate", "--source", str(data), "--model", "majority", "--out", str(tmp_path / "o")]) == 2
    assert "a CSV source needs --label-columns, or --label-column with --label-separator" in capsys.readouterr().err
    assert main(["evaluate", "--source", str(data), "--label-column", "a", "--model", "majority",
                 "--out", str(tmp_path / "o")]) == 2
    assert "--label-column needs --label-separator" in capsys.readouterr().err


# -- labels, predictions, files ----------------------------------------------------------------


def test_model_labels_run_variants_side_by_side(tmp_path):
    assert _evaluate(tmp_path, "--model", "mlhat", "--model", "nb=mlhat", "--param", "nb:leaf_model=nb",
                     "--param", "knn_k=3", "--limit", "300") == 0
    doc = json.loads((tmp_path / "out" / "report.json").read_text())
    assert list(doc["models"]) == ["mlhat", "nb"]
    config = doc["config"]["models"]
    assert config["nb"]["name"] == "mlhat" and config["nb"]["params"] == {"knn_k": 3, "leaf_model": "nb"}
    assert config["mlhat"]["params"] == {"knn_k": 3}
    assert 'leaf_model="nb"' in doc["models"]["nb"]["model"]
    assert 'leaf_model="switch"' in doc["models"]["mlhat"]["model"]
    # naive-Bayes leaves answer otherwise than kNN / logistic ones from the first records on
    assert doc["models"]["nb"]["metrics"] != doc["models"]["mlhat"]["metrics"]


def test_predictions_file_holds_every_record_as_the_models_predicted_it(tmp_path):
    from connectors.bundled import YeastSource
    from stream_xml.models import make_model

    path = tmp_path / "p.jsonl"
    assert _evaluate(tmp_path, "--model", "mlht", "--model", "m=majority", "--limit", "60",
                     "--predictions", str(path), "--top-scores", "3") == 0
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [d["record"] for d in lines] == list(range(1, 61)) and [d["line"] for d in lines] == list(range(1, 61))
    # the same model run by hand over the same records predicts the same labels
    model = make_model("mlht", seed=0)
    model.add_labels(YeastSource().labels)
    for d, record in zip(lines, YeastSource()):
        predicted, scores = model.predict_with_scores(record.x)
        assert d["predictions"]["mlht"]["labels"] == sorted(predicted)
        assert d["y"] == sorted(record.y)
        best = sorted(scores.values(), reverse=True)[:3]
        assert [p for _, p in d["predictions"]["mlht"]["scores"]] == pytest.approx(best, abs=1e-6)
        assert set(d["predictions"]) == {"mlht", "m"}
        model.learn_labelset(record.x, record.y)


def test_report_files_are_readable_by_others(tmp_path):
    previous = os.umask(0o022)
    try:
        assert _evaluate(tmp_path, "--model", "majority", "--limit", "50") == 0
    finally:
        os.umask(previous)
    for name in ("report.json", "series.csv", "report.html"):
        assert stat.S_IMODE(os.stat(tmp_path / "out" / name).st_mode) == 0o644


def test_the_summary_is_printed_before_the_report_files_are_written(tmp_path, monkeypatch, capsys):
    from stream_xml.evaluation import report

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(report, "write_report", fail)
    with pytest.raises(OSError):
        _evaluate(tmp_path, "--model", "majority", "--limit", "50")
    assert "50 records, 14 labels" in capsys.readouterr().out


# -- listings ----------------------------------------------------------------------------------


def test_models_params_shows_defaults_and_the_sub_learners(capsys):
    assert main(["models", "--params"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines() if line.startswith("  ") and line.split()[1:]}
    assert rows["mode"] == "'auto'" and rows["tree__grace_period"] == "200"
    assert rows["root_tree__knn_window"] == "1000" and rows["clustering__n_min"] == "100"
    assert rows["fill_zeros"] == "True"  # br-*/cc-*
    assert "--param tree__KEY=VALUE" in out
    assert main(["models", "ihomr"]) == 2
    assert "did you mean 'ihomer'" in capsys.readouterr().err


def test_datasets_answers_from_its_cache_until_a_file_changes(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "data"
    folder.mkdir()
    arff = folder / "toy.arff"
    arff.write_text("@relation 'toy: -C 1'\n@attribute y {0,1}\n@attribute a numeric\n@data\n1,0.5\n0,0.1\n")

    def listed():
        assert main(["datasets", "--data-dir", str(folder), "--json"]) == 0
        captured = capsys.readouterr()
        return json.loads(captured.out), captured.err

    first, err = listed()
    assert first[0]["instances"] == 2 and "1 read now" in err
    again, err = listed()
    assert again == first and "0 read now" in err
    arff.write_text(arff.read_text() + "1,0.9\n")
    changed, err = listed()
    assert changed[0]["instances"] == 3 and "1 read now" in err


def test_serve_takes_model_labels_as_evaluate_does():
    import argparse

    from stream_xml.cli import serve

    args = argparse.Namespace(model=["ihomer", "routed=ihomer"], param=["routed:mode=routing"], seed=3)
    assert serve._model_specs(args) == {
        "ihomer": {"model": "ihomer", "params": {}, "seed": 3},
        "routed": {"model": "ihomer", "params": {"mode": "routing"}, "seed": 3},
    }


def test_a_reader_that_closes_the_pipe_gets_no_traceback():
    """`stream-xml models ihomer | head -1` when head has gone before the listing is written:
    the command stops without a traceback, with the shell's status for SIGPIPE."""
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the command writes anything
    try:
        proc = subprocess.run([sys.executable, "-m", "stream_xml", "models", "ihomer"], stdout=write_end,
                              stderr=subprocess.PIPE, timeout=120)
    finally:
        os.close(write_end)
    assert b"Traceback" not in proc.stderr and b"BrokenPipe" not in proc.stderr, proc.stderr.decode()
    assert proc.returncode == 141
