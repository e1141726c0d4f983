"""The prequential loop: test-then-train order, unlabelled records, events, series, interruption."""

import copy
import itertools

import pytest
from river import datasets, linear_model, naive_bayes

from connectors.base import Record
from stream_xml.baselines import BinaryRelevance, MajorityLabelset
from stream_xml.evaluation.metrics import MultiLabelMetrics
from stream_xml.evaluation.prequential import PrequentialEvaluator, evaluate


def _records(n):
    for i, (x, y) in enumerate(itertools.islice(datasets.Yeast(), n)):
        yield Record(x, frozenset(k for k, v in y.items() if v), {"line": i + 1})


class Spy(BinaryRelevance):
    """Records the order of calls so the test can check predict-before-learn."""

    def __init__(self, classifier=None):
        super().__init__(classifier or naive_bayes.GaussianNB())
        self.calls = []

    def predict_with_scores(self, x):
        self.calls.append("predict")
        return super().predict_with_scores(x)

    def learn_labelset(self, x, labelset):
        self.calls.append("learn")
        super().learn_labelset(x, labelset)


def test_each_record_is_predicted_before_it_is_learned():
    spy = Spy()
    ev = PrequentialEvaluator({"spy": spy})
    for r in _records(20):
        ev.process(r)
    assert spy.calls == ["predict", "learn"] * 20


def test_prediction_does_not_depend_on_the_records_own_label():
    """Appendix A.9: the prediction for x_t equals that of a copy taken before y_t is revealed."""
    model = BinaryRelevance(linear_model.LogisticRegression())
    ev = PrequentialEvaluator({"m": model})
    for r in _records(150):
        frozen = copy.deepcopy(model)
        predictions = ev.process(r)
        assert predictions["m"][0] == frozen.predict_with_scores(r.x)[0]


def test_metrics_equal_an_independent_replay():
    """The loop's metrics equal feeding a twin model's predictions to a fresh metrics object by hand."""
    ev = PrequentialEvaluator({"m": BinaryRelevance(naive_bayes.GaussianNB())}, window=50)
    twin = BinaryRelevance(naive_bayes.GaussianNB())
    reference = MultiLabelMetrics(window=50)
    for r in _records(300):
        predicted, scores = twin.predict_with_scores(r.x)
        ev.process(r)
        ids = ev.label_space.id  # same label ids as the loop, so ranking ties break alike
        reference.update([ids(k) for k in r.y], [ids(k) for k in predicted],
                         {ids(k): p for k, p in scores.items()}, n_labels=len(ev.label_space))
        twin.learn_labelset(r.x, r.y)
    got = ev.result()["models"]["m"]
    assert got["metrics"] == pytest.approx(reference.get())
    assert got["window_metrics"] == pytest.approx(reference.get_window())
    assert got["metrics"]["subset_accuracy"] > 0.0


def test_unlabelled_records_are_predicted_not_learned():
    model = MajorityLabelset()
    ev = PrequentialEvaluator({"m": model})
    ev.process(Record({"a": 1.0}, frozenset({"x"}), {}))
    ev.process(Record({"a": 1.0}, None, {}))
    ev.process(Record({"a": 1.0}, None, {}))
    result = ev.result()
    assert result["stream"]["records"] == 1
    assert result["stream"]["unlabelled_records"] == 2
    assert ev.tracks[0].learned == 1


def test_series_is_sampled_every_n_records_for_every_model():
    ev = PrequentialEvaluator({"a": MajorityLabelset(), "b": MajorityLabelset()}, every=25, window=40)
    for r in _records(110):
        ev.process(r)
    series = ev.result()["series"]
    assert [row["t"] for row in series if row["model"] == "a"] == [25, 50, 75, 100, 110]
    assert {row["model"] for row in series} == {"a", "b"}
    assert "window.subset_accuracy" in series[0] and "cumulative.micro_f1" in series[0]


def test_events_reported_by_a_model_are_stamped_with_the_record_index():
    class Eventful(MajorityLabelset):
        def __init__(self):
            super().__init__()
            self._pending = []

        def learn_labelset(self, x, labelset):
            super().learn_labelset(x, labelset)
            if self._n % 40 == 0:
                # a model's own clock must not replace the stream position
                self._pending.append({"kind": "restructure", "blocks": 2, "t": self._n // 2})

        def drain_events(self):
            out, self._pending = self._pending, []
            return out

    ev = PrequentialEvaluator({"e": Eventful()})
    for r in _records(100):
        ev.process(r)
    model = ev.result()["models"]["e"]
    assert model["event_counts"] == {"restructure": 2}
    assert [e["t"] for e in model["events"]] == [40, 80]
    assert [e["model_t"] for e in model["events"]] == [20, 40]


def test_interrupt_gives_a_partial_result(capsys):
    def stream():
        yield from _records(30)
        raise KeyboardInterrupt

    class Src:
        name, labels = "interrupted", []

        def __iter__(self):
            return stream()

    result = evaluate(Src(), {"m": MajorityLabelset()})
    assert result["interrupted"] is True
    assert result["stream"]["records"] == 30
    assert "interrupted after 30 records" in capsys.readouterr().err


def test_labels_new_to_the_stream_grow_the_label_space():
    ev = PrequentialEvaluator({"m": MajorityLabelset()}, labels=["a"])
    ev.process(Record({}, frozenset({"a"}), {}))
    ev.process(Record({}, frozenset({"b", "c"}), {}))
    assert ev.result()["stream"]["labels"] == 3


def test_true_change_points_of_a_source_reach_the_report(tmp_path):
    from stream_xml.evaluation.report import write_report

    class Drifting:
        name, labels = "drifting", ["a"]
        change_points = [{"t": 40, "width": 0, "kind": "concept"}, {"t": 70, "width": 20, "kind": "feature"}]

        def __iter__(self):
            for i in range(100):
                yield Record({"f": float(i % 2)}, frozenset({"a"}) if (i % 2) == (i < 40) else frozenset(), {})

    result = evaluate(Drifting(), {"m": MajorityLabelset()}, every=10)
    assert [cp["t"] for cp in result["source"]["change_points"]] == [40, 70]
    write_report(result, str(tmp_path))
    assert (tmp_path / "report.html").read_text().count("data:image/png") >= 2


def test_psp_and_label_coverage_reach_json_csv_and_html(tmp_path):
    import csv
    import json

    from connectors.synthetic import make_stream
    from stream_xml.evaluation.report import write_report

    stream = make_stream("extreme", n=300, labels=300, features=2000, seed=2)
    result = evaluate(stream, {"majority": MajorityLabelset()}, every=50)
    write_report(result, str(tmp_path))
    metrics = json.loads((tmp_path / "report.json").read_text())["models"]["majority"]["metrics"]
    assert 0 < metrics["psp@5"] < 1 and 0 < metrics["label_coverage"] < 0.1  # a few head labels, the rest never
    with open(tmp_path / "series.csv") as f:
        rows = list(csv.DictReader(f))
    assert float(rows[-1]["cumulative.psp@5"]) == pytest.approx(metrics["psp@5"])
    assert {"window.psp@1", "window.psp@3", "window.label_coverage"} <= set(rows[0])
    page = (tmp_path / "report.html").read_text()
    assert all(f"<th>{name}</th>" in page for name in ("PSP@1", "PSP@3", "PSP@5", "label coverage"))
