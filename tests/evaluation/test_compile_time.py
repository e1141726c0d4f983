"""Issue 21, item 1: numba's compilation is measured apart and kept out of the models' speed, and
series.csv's records/s is per sampling period (the running total in its own column)."""

import csv
import itertools
import json
import time

import numpy as np
import pytest
from numba import njit
from river import datasets

from connectors.base import Record
from stream_xml.base import MultiLabelLearner
from stream_xml.evaluation.prequential import PrequentialEvaluator, evaluate


def _records(n):
    for i, (x, y) in enumerate(itertools.islice(datasets.Yeast(), n)):
        yield Record(x, frozenset(k for k, v in y.items() if v), {"line": i + 1})


class CompilesAt(MultiLabelLearner):
    """Calls a kernel of its own, compiled afresh (no cache), when it learns its ``at``-th record;
    otherwise it sleeps ``sleep`` seconds a call, so its true speed is known."""

    def __init__(self, at: int = 5, sleep: float = 0.0):
        self.at = at
        self.sleep = sleep
        self.n = 0

        @njit
        def kernel(v):  # a new function each time: numba compiles it on the first call
            return np.sum(v * v)

        self._kernel = kernel

    def learn_labelset(self, x, labelset):
        self.n += 1
        if self.n == self.at:
            self._kernel(np.arange(3.0))
        if self.sleep:
            time.sleep(self.sleep)

    def predict_with_scores(self, x):
        return frozenset(), {}


def test_compilation_during_a_call_is_kept_apart_from_the_model_time(capsys):
    src = list(_records(40))

    class Src:
        name, labels = "yeast-40", []

        def __iter__(self):
            return iter(src)

    result = evaluate(Src(), {"compiles": CompilesAt(at=5), "plain": CompilesAt(at=10**9)}, every=10)
    compiles, plain = result["models"]["compiles"], result["models"]["plain"]
    # compiling even a one-line kernel takes tens of milliseconds; the calls themselves microseconds
    assert compiles["compile_seconds"] > 0.01
    assert compiles["seconds"] < compiles["compile_seconds"] / 5
    assert compiles["latency_us"]["learn"]["max"] < compiles["compile_seconds"] * 1e6 / 5
    assert plain["compile_seconds"] == 0.0
    assert result["compile_seconds"] == pytest.approx(compiles["compile_seconds"])
    assert "compiling numba kernels (first run only" in capsys.readouterr().err


def test_a_warm_run_reports_no_compilation(capsys):
    model = CompilesAt(at=1)
    model.learn_labelset({}, ())  # compiled now, before the run
    ev = PrequentialEvaluator({"m": model})
    for r in _records(20):
        ev.process(r)
    assert ev.result()["models"]["m"]["compile_seconds"] == 0.0
    assert "compiling" not in capsys.readouterr().err


def test_series_speed_is_per_sampling_period_with_the_running_total_beside_it(tmp_path):
    from stream_xml.evaluation.report import write_report

    class SlowsDown(CompilesAt):
        def learn_labelset(self, x, labelset):
            self.n += 1
            time.sleep(0.004 if self.n > 30 else 0.0)

    ev = PrequentialEvaluator({"m": SlowsDown(at=0)}, every=10)
    for r in _records(60):
        ev.process(r)
    write_report(ev.result(), str(tmp_path), formats=("csv",))
    rows = list(csv.DictReader(open(tmp_path / "series.csv")))
    t = [int(r["t"]) for r in rows]
    seconds = [float(r["model_seconds"]) for r in rows]
    for i in range(1, len(rows)):  # per period: the records and model seconds between two samples
        assert float(rows[i]["records_per_s"]) == pytest.approx((t[i] - t[i - 1]) / (seconds[i] - seconds[i - 1]))
        assert float(rows[i]["cumulative_records_per_s"]) == pytest.approx(t[i] / seconds[i])
    # after the slow-down the period's speed shows it at once, the running total only in part
    last = rows[-1]
    assert float(last["records_per_s"]) < 300 < float(last["cumulative_records_per_s"])


def test_the_cli_reports_compilation_on_its_own_line_and_in_report_json(tmp_path, monkeypatch, capsys):
    from stream_xml import cli, models

    monkeypatch.setitem(models.MODELS, "compiles-at", ("test_compile_time:CompilesAt", None, "test"))
    assert cli.main(["evaluate", "--source", "yeast", "--model", "compiles-at", "--limit", "30",
                     "--out", str(tmp_path), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "numba compilation and cache loading:" in err and "not counted in records/s" in err
    doc = json.loads((tmp_path / "report.json").read_text())
    assert doc["compile_seconds"] > 0.01 and doc["models"]["compiles-at"]["compile_seconds"] > 0.01
    assert doc["models"]["compiles-at"]["seconds"] < doc["compile_seconds"]


_FRESH_PROCESS = """
import json, numpy as np
from stream_xml.base import MultiLabelLearner
from stream_xml.evaluation.prequential import PrequentialEvaluator
from stream_xml.tree.common_kernels import label_errors
from connectors.base import Record

class CallsAKernel(MultiLabelLearner):
    def learn_labelset(self, x, labelset):
        label_errors(np.zeros(3), np.zeros(1, dtype=np.int64))
    def predict_with_scores(self, x):
        return frozenset(), {}

first = PrequentialEvaluator({"m": CallsAKernel()})
first.process(Record({"f": 1.0}, frozenset({"a"}), {"line": 1}))
again = PrequentialEvaluator({"m": CallsAKernel()})
print(json.dumps([first.result()["numba_start_seconds"], first.result()["models"]["m"]["seconds"],
                  again.result()["numba_start_seconds"]]))
"""


def test_numbas_own_set_up_is_made_before_the_first_model_is_timed():
    """numba's first kernel call in a process sets numba up, partly outside its compiler lock, where
    the clock cannot see it; the loop makes that call itself before timing any model, so the model
    whose first record calls the first kernel is charged its record, not numba's set-up (a fresh
    process: the one running the tests has numba set up long ago)."""
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, "-c", _FRESH_PROCESS], cwd=root, capture_output=True, text=True,
                         timeout=300, env={**os.environ, "PYTHONPATH": root})
    assert out.returncode == 0, out.stderr
    start, model_seconds, again = json.loads(out.stdout.strip().splitlines()[-1])
    assert start > 0.05  # numba's set-up takes a large part of a second
    assert model_seconds < start / 10
    assert again == 0.0  # once per process
