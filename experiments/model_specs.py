"""Models named on an experiment's command line as ``NAME[:k=v,...]`` (the parameters as
``stream-xml evaluate``'s ``--param``), shared by the experiments that take ``--model``.

:func:`model_from_spec` uses only stream_xml's long-standing ``make_model`` and ``parse_params``,
so an experiment run against an older checkout (``PYTHONPATH=`` that checkout) still finds what it
needs; :func:`handed_over` needs the checkout's ``connectors.base.feature_kinds`` (issue 22 on).

>>> model_from_spec("mlhat:grace_period=100").grace_period
100
"""

from __future__ import annotations


def add_source_and_models(parser) -> None:
    """``--source`` (default yeast) and the repeatable ``--model NAME[:k=v,...]`` on an
    experiment's ``parser``; :func:`models_of` reads the models given."""
    parser.add_argument("--source", default="yeast")
    parser.add_argument("--model", action="append", help="NAME[:k=v,...] (repeatable; default: ihomer and mlhat)")


def models_of(args) -> list:
    """The ``--model`` specs of :func:`add_source_and_models`, iHOMER and MLHAT if none."""
    return args.model or ["ihomer", "mlhat"]


def model_from_spec(spec: str, seed: int = 0):
    """The model ``NAME[:k=v,...]`` with that seed."""
    from stream_xml.models import make_model, parse_params

    name, _, pairs = spec.partition(":")
    return make_model(name, parse_params(filter(None, pairs.split(","))), seed=seed)


def handed_over(model, source):
    """Give ``model`` what the evaluation loop gives it before the first record, the source's
    declared labels (in their order) and feature kinds, where the model takes them; returns the
    :class:`~stream_xml.labels.LabelSpace` that numbers the labels as the loop does (a record's
    new labels are added after it is predicted, before it is learned)."""
    from connectors.base import feature_kinds
    from stream_xml.labels import LabelSpace

    space = LabelSpace(getattr(source, "labels", ()) or ())
    if len(space) and hasattr(model, "add_labels"):
        model.add_labels(list(space.names))
    kinds = feature_kinds(source)
    if kinds and hasattr(model, "declare_features"):
        model.declare_features(dict(kinds))
    return space
