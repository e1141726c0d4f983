"""Baselines give exactly river's predictions, learn new labels, and pass river's checks."""

import itertools

import pytest
from river import datasets, linear_model, multioutput, naive_bayes, tree
from river_checks import check_estimator_offline
from sklearn.metrics import f1_score

from stream_xml.baselines import BinaryRelevance, ClassifierChain, MajorityLabelset


def _yeast(n=None):
    data = datasets.Yeast()
    return list(itertools.islice(data, n)) if n else list(data)


@pytest.mark.parametrize(
    "make_clf",
    [tree.HoeffdingTreeClassifier, naive_bayes.GaussianNB, linear_model.LogisticRegression],
    ids=["ht", "nb", "lr"],
)
def test_binary_relevance_predicts_like_river_per_output(make_clf):
    ours, theirs = BinaryRelevance(make_clf()), multioutput.PerOutputClassifier(make_clf())
    for x, y in _yeast(600):
        predicted, scores = ours.predict_with_scores(x)
        expected = theirs.predict_one(x)
        assert predicted == frozenset(k for k, v in expected.items() if v)
        assert ours.predict_one(x) == {k: bool(v) for k, v in expected.items()}
        ours.learn_one(x, y)
        theirs.learn_one(x, y)


def test_br_ht_reaches_rivers_micro_f1_on_yeast():
    """The issue's anchor: PerOutputClassifier(HoeffdingTreeClassifier()) reaches micro-F1 0.6063 on Yeast."""
    model = BinaryRelevance(tree.HoeffdingTreeClassifier())
    rows = _yeast()
    names = list(rows[0][1])
    truth, pred = [], []
    for x, y in rows:
        predicted, _ = model.predict_with_scores(x)
        truth.append([int(y[k]) for k in names])
        pred.append([int(k in predicted) for k in names])
        model.learn_one(x, y)
    assert round(f1_score(truth, pred, average="micro"), 4) == 0.6063


def test_classifier_chain_predicts_like_river_chain():
    rows = _yeast(400)
    order = list(rows[0][1])
    ours = ClassifierChain(linear_model.LogisticRegression())
    ours.add_labels(order)
    theirs = multioutput.ClassifierChain(linear_model.LogisticRegression(), order=list(order))
    for x, y in rows:
        expected = theirs.predict_proba_one(x)
        got = ours.predict_proba_one(x)
        assert got.keys() == expected.keys()
        for k in expected:
            assert got[k] == pytest.approx(expected[k])
        ours.learn_labelset(x, {k for k, v in y.items() if v})
        theirs.learn_one(x, y)


def test_new_label_mid_stream_gets_its_own_model_and_chain_link():
    for model in (BinaryRelevance(linear_model.LogisticRegression()),
                  ClassifierChain(linear_model.LogisticRegression())):
        for i in range(200):
            model.learn_labelset({"a": float(i % 2)}, {"x"} if i % 2 else set())
        assert model.labels == ["x"]
        for i in range(400):
            model.learn_labelset({"a": float(i % 2)}, {"x", "late"} if i % 2 else set())
        assert model.labels == ["x", "late"]
        predicted, scores = model.predict_with_scores({"a": 1.0})
        assert predicted == {"x", "late"}
        assert set(scores) == {"x", "late"}
        assert model.predict_with_scores({"a": 0.0})[0] == frozenset()


def test_majority_labelset_follows_the_most_frequent_labelset():
    m = MajorityLabelset()
    assert m.predict_with_scores({})[0] == frozenset()
    for ys in [{"a"}, {"b"}, {"b"}, {"a", "c"}, {"a", "c"}, {"a", "c"}]:
        m.learn_labelset({}, ys)
    predicted, scores = m.predict_with_scores({})
    assert predicted == {"a", "c"}
    assert scores == {"a": pytest.approx(4 / 6), "b": pytest.approx(2 / 6), "c": pytest.approx(3 / 6)}
    # a tie keeps the labelset that reached the count first
    m2 = MajorityLabelset()
    for ys in [{"a"}, {"b"}, {"b"}, {"a"}]:
        m2.learn_labelset({}, ys)
    assert m2.predict_with_scores({})[0] == {"b"}


@pytest.mark.parametrize("model", [MajorityLabelset(), BinaryRelevance(), ClassifierChain()],
                         ids=["majority", "br", "cc"])
def test_river_estimator_checks(model):
    check_estimator_offline(model)


def test_absent_features_reach_river_models_as_zeros():
    """A sparse record means 0 for what it leaves out; river would read a missing key instead."""
    dense_rows, sparse_rows = [], []
    for i in range(300):
        a, b = float(i % 3 == 0), float(i % 5 == 0)
        dense_rows.append(({"a": a, "b": b}, {"x"} if a else set()))
        sparse_rows.append(({k: v for k, v in (("a", a), ("b", b)) if v}, {"x"} if a else set()))
    for make in (BinaryRelevance, ClassifierChain):
        dense, sparse, raw = make(tree.HoeffdingTreeClassifier()), make(tree.HoeffdingTreeClassifier()), \
            make(tree.HoeffdingTreeClassifier(), fill_zeros=False)
        for (xd, yd), (xs, ys) in zip(dense_rows, sparse_rows):
            assert sparse.predict_with_scores(xs) == dense.predict_with_scores(xd)
            dense.learn_labelset(xd, yd)
            sparse.learn_labelset(xs, ys)
            raw.learn_labelset(xs, ys)
        assert sparse.predict_with_scores({"b": 1.0})[0] == frozenset()
        assert sparse.predict_with_scores({"a": 1.0})[0] == {"x"}


def test_majority_scores_only_the_labels_it_has_seen_and_scores_the_same():
    """With 10^5 declared labels a record must not cost O(labels declared): the fast path leaves the
    never-relevant labels out (they score 0 either way) and the metrics do not change."""
    from connectors.synthetic import make_stream
    from stream_xml.evaluation import evaluate

    class FullScores(MajorityLabelset):  # the river entry point: a score for every known label
        def predict_with_scores(self, x):
            return self._best, self.predict_scores(x)

    m = MajorityLabelset()
    m.add_labels([f"l{i}" for i in range(1000)])
    m.learn_labelset({}, {"l3", "l7"})
    assert m.predict_with_scores({})[1] == {"l3": 1.0, "l7": 1.0}
    assert len(m.predict_scores({})) == len(m.predict_one({})) == 1000
    stream = list(itertools.islice(make_stream("extreme", labels=2000, features=3000, n=400), 400))

    class Replay:
        labels = [f"l{i:04d}" for i in range(2000)]

        def __iter__(self):
            return iter(stream)

    sparse, full = (evaluate(Replay(), {"m": model})["models"]["m"]["metrics"] for model in (m.clone(), FullScores()))
    assert sparse == full and sparse["precision@5"] > 0
