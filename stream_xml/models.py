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
import difflib
import importlib
import inspect
import numbers


__all__ = ["MODELS", "make_model", "model_names", "parse_params", "describe_model", "unknown_model_message",
           "model_parameters"]

# name -> (factory "module:attribute", river classifier "module:attribute" or None, summary)
MODELS: dict[str, tuple[str, str | None, str]] = {
    "ihomer": ("stream_xml.ihomer:IHOMER", None, "iHOMER: label clusters (ODAC-J) with MLHAT learners"),
    "mlhat": ("stream_xml.tree:MLHAT", None, "multi-label Hoeffding adaptive tree"),
    "labeltree": ("stream_xml.labeltree:LabelTreeClassifier", None, "online probabilistic label tree for extreme label spaces"),
    "mlht": ("stream_xml.tree:MLHT", None, "multi-label Hoeffding tree, majority-labelset leaves"),
    "mlhtps": ("stream_xml.tree:MLHTPS", None, "multi-label Hoeffding tree, pruned-set leaves (MOA's MLHT)"),
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


def unknown_model_message(name: str) -> str:
    """What to say of a model name that is not registered: the closest names, then all.

    >>> unknown_model_message("ihomr")
    "unknown model 'ihomr' (did you mean 'ihomer'?); known models: ihomer, mlhat, labeltree, mlht, mlhtps, majority, br-ht, br-arf, br-knn, br-nb, br-lr, cc-lr, cc-ht"

    """
    close = difflib.get_close_matches(name, list(MODELS), n=2)
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    return f"unknown model {name!r}{hint}; known models: {', '.join(MODELS)}"


def _accepted(cls) -> set:
    return set(inspect.signature(cls).parameters)


def _check_params(cls, params: dict, accepted: set, where: str, prefix: str = "") -> None:
    """Unknown parameters (with the closest names), and text given to a parameter whose default
    is a number or a truth value, are errors naming the ``--param`` as typed (``prefix`` + key)."""
    unknown = sorted(set(params) - accepted)
    if unknown:
        close = {c for u in unknown for c in difflib.get_close_matches(u, sorted(accepted), n=1)}
        hint = f" (did you mean {', '.join(sorted(close))}?)" if close else ""
        raise ValueError(f"{where} has no parameter {', '.join(prefix + u for u in unknown)}{hint}; "
                         f"it accepts: {', '.join(sorted(accepted))}")
    signature = inspect.signature(cls).parameters
    for key, value in params.items():
        default = signature[key].default if key in signature else None
        if value is None or default is None or default is inspect.Parameter.empty:
            continue
        if isinstance(default, bool) and not isinstance(value, bool):
            wanted = "True or False"
        elif isinstance(default, numbers.Real) and not isinstance(default, bool) and (
                isinstance(value, bool) or not isinstance(value, numbers.Real)):
            wanted = "a number"
        else:
            continue
        raise ValueError(f"--param {prefix}{key}={value!r}: {prefix}{key} takes {wanted} "
                         f"(default {default!r}) in {where}")


def make_model(name: str, params: dict | None = None, seed: int | None = None):
    """Build the model registered as ``name`` with ``params``; unknown parameters, and text where
    a number belongs, are errors that name the parameter.

    >>> make_model("mlhat", {"grace_period": "abc"})
    Traceback (most recent call last):
    ...
    ValueError: --param grace_period='abc': grace_period takes a number (default 200) in model 'mlhat'

    """
    if name not in MODELS:
        raise ValueError(unknown_model_message(name))
    factory_path, inner_path, _ = MODELS[name]
    params, nested = _split_nested(params or {})
    factory = _load(factory_path)
    target = _load(inner_path) if inner_path else factory
    accepted = _accepted(target) | ({"fill_zeros"} if inner_path else set())
    _check_params(target, {**params, **dict.fromkeys(nested)}, accepted, f"model {name!r}")
    if seed is not None and "seed" in accepted and "seed" not in params:
        params["seed"] = seed
    try:
        if nested:
            built = target(**params)
            templates = built.templates() if hasattr(built, "templates") else {}
            for head, sub in nested.items():
                template = templates.get(head, getattr(built, head))
                if template is None:
                    raise ValueError(f"model {name!r}: {head} is not set, so {head}__... has nothing to change")
                params[head] = _cloned(template, sub, f"{name}: {head}", f"{head}__")
        if inner_path:
            fill_zeros = params.pop("fill_zeros", True)
            return factory(target(**params), fill_zeros=fill_zeros)
        return factory(**params)
    except TypeError as err:  # a value of the wrong kind that the checks above let through
        raise ValueError(f"model {name!r}: {err}") from err


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


def _cloned(template, params: dict, where: str, prefix: str):
    """A clone of ``template`` with ``params`` (nested ones with ``__`` too); ``prefix`` is how
    the command line reaches it (``tree__``)."""
    flat, nested = _split_nested(params)
    _check_params(type(template), {**flat, **dict.fromkeys(nested)}, _accepted(type(template)),
                  f"{where} ({type(template).__name__})", prefix)
    for head, sub in nested.items():
        inner = getattr(template, head)
        if inner is None:
            raise ValueError(f"{where}: {head} is not set, so {prefix}{head}__... has nothing to change")
        flat[head] = _cloned(inner, sub, f"{where}__{head}", f"{prefix}{head}__")
    return template.clone(flat)


def _values(obj) -> dict:
    """The constructor parameters of ``obj`` with the values it holds."""
    return {key: getattr(obj, key, p.default) for key, p in inspect.signature(type(obj)).parameters.items()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def model_parameters(name: str) -> list[tuple[str, object]]:
    """The ``--param`` keys of model ``name`` with their defaults, as ``(key, value)`` rows; a
    sub-learner the model clones (a template: iHOMER's ``tree``, ``clustering``, ``root_tree``) is
    followed by its own parameters as ``template__key`` rows, with the values the model uses.

    >>> rows = dict(model_parameters("ihomer"))
    >>> rows["mode"], rows["tree__grace_period"], rows["root_tree__knn_window"], rows["clustering__n_min"]
    ('auto', 200, 1000, 100)
    >>> dict(model_parameters("br-ht"))["grace_period"], dict(model_parameters("br-ht"))["fill_zeros"]
    (200, True)

    """
    model = make_model(name)
    if MODELS[name][1]:  # a river classifier copied per label, and the composition's own switch
        return [*_values(model.classifier).items(), ("fill_zeros", model.fill_zeros)]
    templates = model.templates() if hasattr(model, "templates") else {}
    rows = []
    for key, value in _values(model).items():
        template = templates.get(key)
        if template is None:
            rows.append((key, value))
            continue
        rows.append((key, template))
        rows.extend((f"{key}__{k}", v) for k, v in _values(template).items())
    return rows
