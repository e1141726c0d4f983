"""The models the CLI knows by name, and how ``--param key=value`` reaches them.

>>> from stream_xml.models import make_model, model_names
>>> "br-ht" in model_names()
True
>>> make_model("br-ht", params={"grace_period": 50}).classifier.grace_period
50

Parameters of ``br-*`` and ``cc-*`` models go to the river classifier that is copied per label
(except ``fill_zeros``, which belongs to the composition: pass absent features to river as 0);
parameters of the other models go to the model itself. ``seed`` is passed to whatever accepts one.
A parameter of a sub-learner a model clones is reached with ``__``, as in river and scikit-learn:

>>> model = make_model("ihomer", params={"tree__grace_period": 50, "clustering__n_min": 80})
>>> model.tree.grace_period, model.tree.leaf_switch, model.clustering.n_min, model.clustering.delta
(50, 'loss', 80, 0.9)
"""

from __future__ import annotations

import ast
import importlib
import inspect

from stream_xml.base import MultiLabelLearner

__all__ = ["MODELS", "make_model", "model_names", "parse_params", "describe_model"]

# name -> (factory "module:attribute", river classifier "module:attribute" or None, summary)
MODELS: dict[str, tuple[str, str | None, str]] = {
    "ihomer": ("stream_xml.ihomer:IHOMER", None, "iHOMER: label clusters (ODAC-J) with MLHAT learners"),
    "mlhat": ("stream_xml.tree:MLHAT", None, "multi-label Hoeffding adaptive tree"),
    "labeltree": ("stream_xml.labeltree:LabelTreeClassifier", None, "online probabilistic label tree for extreme label spaces"),
    "mlht": ("stream_xml.tree:MLHT", None, "multi-label Hoeffding tree, majority-labelset leaves"),
    "majority": ("stream_xml.baselines:MajorityLabelset", None, "most frequent labelset so far"),
    "br-ht": ("stream_xml.baselines:BinaryRelevance", "river.tree:HoeffdingTreeClassifier",
              "binary relevance, river Hoeffding trees"),
    "br-arf": ("stream_xml.baselines:BinaryRelevance", "river.forest:ARFClassifier",
               "binary relevance, river adaptive random forests"),
    "br-knn": ("stream_xml.baselines:BinaryRelevance", "river.neighbors:KNNClassifier",
               "binary relevance, river kNN"),
    "br-nb": ("stream_xml.baselines:BinaryRelevance", "river.naive_bayes:GaussianNB",
              "binary relevance, river Gaussian naive Bayes"),
    "br-lr": ("stream_xml.baselines:BinaryRelevance", "river.linear_model:LogisticRegression",
              "binary relevance, river logistic regression"),
    "cc-lr": ("stream_xml.baselines:ClassifierChain", "river.linear_model:LogisticRegression",
              "classifier chain, river logistic regression"),
    "cc-ht": ("stream_xml.baselines:ClassifierChain", "river.tree:HoeffdingTreeClassifier",
              "classifier chain, river Hoeffding trees"),
}


def _load(path: str):
    module, attr = path.split(":")
    return getattr(importlib.import_module(module), attr)


def model_names() -> list[str]:
    return list(MODELS)


def describe_model(name: str) -> str:
    return MODELS[name][2]


def parse_params(items) -> dict:
    """Parse ``key=value`` strings; values are Python literals when they parse as one.

    >>> parse_params(["grace_period=50", "mode=B", "delta=1e-5", "fading=None"])
    {'grace_period': 50, 'mode': 'B', 'delta': 1e-05, 'fading': None}

    """
    params = {}
    for item in items or ():
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--param expects key=value, got {item!r}")
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = raw
        params[key.strip()] = value
    return params


def _accepted(cls) -> set:
    return set(inspect.signature(cls).parameters)


def make_model(name: str, params: dict | None = None, seed: int | None = None):
    """Build the model registered as ``name`` with ``params``; unknown parameters are an error."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(MODELS)}")
    factory_path, inner_path, _ = MODELS[name]
    params, nested = _split_nested(params or {})
    factory = _load(factory_path)
    target = _load(inner_path) if inner_path else factory
    accepted = _accepted(target) | ({"fill_zeros"} if inner_path else set())
    unknown = sorted((set(params) | set(nested)) - accepted)
    if unknown:
        raise ValueError(
            f"model {name!r} has no parameter {', '.join(unknown)}; it accepts: {', '.join(sorted(accepted))}"
        )
    if seed is not None and "seed" in accepted and "seed" not in params:
        params["seed"] = seed
    if nested:
        built = target(**params)
        templates = built.templates() if isinstance(built, MultiLabelLearner) else {}
        for head, sub in nested.items():
            template = templates.get(head, getattr(built, head))
            if template is None:
                raise ValueError(f"model {name!r}: {head} is not set, so {head}__... has nothing to change")
            params[head] = _cloned(template, sub, f"{name}: {head}")
    if inner_path:
        fill_zeros = params.pop("fill_zeros", True)
        return factory(target(**params), fill_zeros=fill_zeros)
    return factory(**params)


def _split_nested(params: dict) -> tuple[dict, dict]:
    """``{"a": 1, "b__c": 2}`` -> ``({"a": 1}, {"b": {"c": 2}})``."""
    flat, nested = {}, {}
    for key, value in params.items():
        head, sep, rest = key.partition("__")
        if sep and head and rest:
            nested.setdefault(head, {})[rest] = value
        else:
            flat[key] = value
    return flat, nested


def _cloned(template, params: dict, where: str):
    """A clone of ``template`` with ``params`` (nested ones with ``__`` too)."""
    flat, nested = _split_nested(params)
    accepted = _accepted(type(template))
    unknown = sorted((set(flat) | set(nested)) - accepted)
    if unknown:
        raise ValueError(f"{where} ({type(template).__name__}) has no parameter {', '.join(unknown)}; "
                         f"it accepts: {', '.join(sorted(accepted))}")
    for head, sub in nested.items():
        inner = getattr(template, head)
        if inner is None:
            raise ValueError(f"{where}: {head} is not set, so {head}__... has nothing to change")
        flat[head] = _cloned(inner, sub, f"{where}__{head}")
    return template.clone(flat)
