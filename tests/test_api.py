"""Issue 21, items 3 and 9: the Python API as a river user meets it. The estimators import from
the top of the package, learn from a set or a list of relevant labels as from river's dict, and a
result shows itself in a notebook."""

import itertools

import pytest
from river import datasets, evaluate, linear_model, metrics

import stream_xml
import stream_xml.models


def test_the_estimators_import_from_the_top():
    from stream_xml import IHOMER, MLHAT, MLHT, BinaryRelevance, ClassifierChain, MajorityLabelset
    from stream_xml.baselines import BinaryRelevance as BR
    from stream_xml.ihomer import IHOMER as Ihomer
    from stream_xml.tree import MLHAT as Mlhat, MLHT as Mlht

    assert (IHOMER, MLHAT, MLHT, BinaryRelevance) == (Ihomer, Mlhat, Mlht, BR)
    assert {"IHOMER", "MLHAT", "MLHT", "MajorityLabelset", "BinaryRelevance", "ClassifierChain"} <= set(stream_xml.__all__)
    assert ClassifierChain.__name__ == "ClassifierChain" and MajorityLabelset.__name__ == "MajorityLabelset"
    with pytest.raises(ImportError):
        from stream_xml import NoSuchModel  # noqa: F401


def _estimators():
    from stream_xml import IHOMER, MLHAT, MLHT, BinaryRelevance, MajorityLabelset

    return [MLHAT(grace_period=50), MLHT(grace_period=50), IHOMER(seed=1), MajorityLabelset(),
            BinaryRelevance(linear_model.LogisticRegression())]


@pytest.mark.parametrize("model", _estimators(), ids=lambda m: type(m).__name__)
def test_labels_as_a_set_or_a_list_learn_what_the_dict_learns(model):
    as_dict, as_set, as_list = model.clone(), model.clone(), model.clone()
    for x, y in itertools.islice(datasets.Yeast(), 150):
        as_dict.learn_one(x, y)
        relevant = {name for name, on in y.items() if on}
        as_set.add_labels(list(y))  # the dict names every label; a set only the relevant ones
        as_list.add_labels(list(y))
        as_set.learn_one(x, relevant)
        as_list.learn_one(x, sorted(relevant))
    for x, _ in itertools.islice(datasets.Yeast(), 150, 170):
        assert as_set.predict_one(x) == as_dict.predict_one(x) == as_list.predict_one(x)


def test_labels_of_another_kind_say_what_to_pass():
    from stream_xml import MLHAT

    with pytest.raises(TypeError, match="a dict label -> bool or a collection of the relevant labels"):
        MLHAT().learn_one({"a": 1.0}, "sports")


def test_an_estimator_works_inside_river_and_the_result_shows_itself():
    from connectors.bundled import YeastSource
    from stream_xml import MLHT
    from stream_xml.evaluation import evaluate as prequential

    score = evaluate.progressive_val_score(datasets.Yeast().take(300), MLHT(), metrics.multioutput.MicroAverage(metrics.F1()))
    assert 0.3 < score.get() < 1.0
    result = prequential(YeastSource(), {"mlht": MLHT()}, limit=300, window=100, every=20)
    page = result._repr_html_()
    assert "mlht" in page and f"{result['models']['mlht']['metrics']['micro_f1']:,.4f}" in page
    fig = result.plot()
    assert [ax.get_title(loc="left") for ax in fig.axes if ax.get_visible()][:2] == ["subset accuracy", "micro-F1"]
    assert result.plot("speed").axes[0].get_yscale() == "log"


@pytest.mark.parametrize("name", sorted(stream_xml.models.model_names()))
def test_parameters_read_once_per_class_are_the_ones_river_reads(name):
    """CachedParams keeps each class's __init__ parameter names; what it returns (and so what
    clone() builds) must be what river's own reading of the signature gives, nested estimators
    included, for every model the command line names, and after a parameter is changed."""
    from river import base

    from stream_xml.base import CachedParams

    model = stream_xml.models.make_model(name, seed=3)
    models = [model, model.clone()] + [v for v in vars(model).values() if isinstance(v, CachedParams)]
    for m in models:
        assert m._get_params() == base.Base._get_params(m)
    if isinstance(model, CachedParams):
        first = next(iter(model._get_params()), None)
        value = getattr(model, first) if first is not None else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            changed = model.clone({first: value + 1})
            assert changed._get_params()[first] == value + 1
            assert changed._get_params() == base.Base._get_params(changed)
