"""The learner contract: what the evaluation loop, the service and the bench rely on.

Every stream-xml learner is a river ``MultiLabelClassifier`` (so river's pipelines, metrics and
``river.checks`` work with it) that also speaks in labelsets, the loop's native terms:

- ``learn_labelset(x, labelset)``: learn ``x`` whose relevant labels are exactly ``labelset``
  (names); every other known label is negative, unknown names become known;
- ``predict_with_scores(x) -> (labelset, scores)``: the predicted labelset and P(label) by name
  from one pass (``scores`` may leave out labels the model gives no chance, which then count as 0);
- ``add_labels(names)``: labels declared before they appear (a file header);
- ``declare_features(kinds)``: the kinds of features a source declares up front (name ->
  ``"nominal"`` for a 0/1 indicator of a nominal attribute, or ``"numeric"``;
  :func:`connectors.base.feature_kinds`), for learners whose statistics depend on it (a no-op
  by default: learning without declarations must work);
- ``drain_events()``: structural events since the last call (splits, drifts, restructures);
- ``memory_bytes()``: the memory the model holds.

:class:`MultiLabelLearner` is the abstract base that gives the river entry points
(``learn_one``, ``predict_one``, ``predict_proba_one``) in terms of the two labelset methods.
A river multi-label classifier that knows nothing of labelsets joins the loop through
:class:`RiverMultiLabel`, which :func:`as_learner` applies where needed.

>>> from river import datasets
>>> from stream_xml.base import MultiLabelLearner, as_learner
>>> class Echo(MultiLabelLearner):
...     '''Predicts the labelset it learned last.'''
...     def __init__(self):
...         self._last = frozenset()
...     def learn_labelset(self, x, labelset):
...         self._last = frozenset(labelset)
...     def predict_with_scores(self, x):
...         return self._last, {name: 1.0 for name in self._last}
>>> model = Echo()
>>> model.learn_one({"f": 1.0}, {"a": True, "b": False})
>>> model.predict_one({"f": 1.0})
{'a': True}
>>> model.learn_one({"f": 1.0}, {"a", "c"})  # a set (or list) of relevant labels also works
>>> sorted(model.predict_with_scores({})[0])
['a', 'c']
>>> as_learner(model) is model
True

"""

from __future__ import annotations

import abc
import collections.abc
import inspect

from river import base

from connectors.base import FEATURE_KINDS, MAX_ABS_VALUE, NOMINAL, NUMERIC, feature_kinds, value_problem
from stream_xml.memory import deep_size

__all__ = ["CachedParams", "MultiLabelLearner", "RiverMultiLabel", "as_learner", "positive_of", "relevant_labels",
           "refuse_undigestible", "MAX_ABS_VALUE", "FEATURE_KINDS", "NOMINAL", "NUMERIC", "feature_kinds"]


def refuse_undigestible(x: dict) -> None:
    """The model boundary: raise ValueError when a value of ``x`` is one no learner digests (not a
    number, NaN, ±inf, beyond ``±MAX_ABS_VALUE``, the bound every reader holds records to), before
    any statistic sees it, so no learner's state or score ever holds NaN or infinity.

    >>> refuse_undigestible({"a": 1.0, "b": -1e100})
    >>> refuse_undigestible({"a": 1e308})
    Traceback (most recent call last):
    ...
    ValueError: feature 'a' has value 1e+308, beyond ±1e+100 (the largest magnitude the models digest)

    """
    problem = value_problem(x)
    if problem is not None:
        raise ValueError(problem)


def relevant_labels(y) -> tuple[list, list]:
    """``(names to make known, relevant names)`` of a river target: a dict name -> bool, or a
    collection of the relevant names.

    >>> relevant_labels({"a": True, "b": False})
    (['a', 'b'], ['a'])
    >>> relevant_labels({"b", "a"})
    (['a', 'b'], ['a', 'b'])

    """
    if isinstance(y, collections.abc.Mapping):
        return list(y), [name for name, value in y.items() if value]
    if isinstance(y, (str, bytes)) or not isinstance(y, collections.abc.Iterable):
        raise TypeError(
            f"labels must be a dict label -> bool or a collection of the relevant labels, got {type(y).__name__}"
        )
    names = sorted(y, key=str) if isinstance(y, (set, frozenset)) else list(y)
    return names, names


def positive_of(proba: dict) -> bool:
    """river's decision for one binary output: the class with the largest probability.

    Mirrors ``Classifier.predict_one`` (first key wins ties, an empty distribution is no
    prediction), so that predictions derived from ``predict_proba_one`` equal river's own.

    >>> positive_of({False: 0.4, True: 0.6}), positive_of({True: 0.5, False: 0.5}), positive_of({})
    (True, True, False)

    """
    if not proba:
        return False
    return max(proba, key=proba.get) is True


class CachedParams(base.Base):
    """river's ``_get_params`` (what ``clone`` and the printed form read) with the names of each
    class's ``__init__`` parameters read once per class: river reads the signature on every call,
    and building an iHOMER engine, whose learners are clones of templates, spent half its time
    there. A class whose ``__init__`` takes ``*args`` or ``**kwargs`` is left to river.

    >>> from stream_xml.tree.mlhat import MLHAT
    >>> model = MLHAT(grace_period=50)
    >>> model._get_params() == base.Base._get_params(model)
    True
    >>> model.clone().grace_period
    50
    """

    def _get_params(self) -> dict:
        names = _PARAMETERS.get(type(self))
        if names is None:
            names = _PARAMETERS[type(self)] = _plain_parameters(self)
        if names is _NO_PLAIN:
            return super()._get_params()
        params = {}
        for name in names:
            value = getattr(self, name)
            params[name] = (value.__class__, value._get_params()) if isinstance(value, base.Base) else value
        return params


#: type -> names of its ``__init__`` parameters (:class:`CachedParams`)
_PARAMETERS: dict = {}
_NO_PLAIN = ("*",)  # the marker of an ``__init__`` with ``*args`` or ``**kwargs``


def _plain_parameters(estimator) -> tuple:
    parameters = inspect.signature(estimator.__init__).parameters.values()
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters):
        return _NO_PLAIN
    return tuple(p.name for p in parameters)


class MultiLabelLearner(CachedParams, base.MultiLabelClassifier, abc.ABC):
    """A multi-label learner of stream-xml (see the module docstring for the contract).

    Subclasses implement :meth:`learn_labelset` and :meth:`predict_with_scores`; they override
    :meth:`add_labels`, :meth:`declare_features`, :meth:`drain_events` and :meth:`memory_bytes`
    when they have labels to declare, use feature kinds, have events to report or a cheaper
    measure of their memory.
    """

    @abc.abstractmethod
    def learn_labelset(self, x: dict, labelset) -> None:
        """Learn ``x`` whose relevant labels are exactly ``labelset`` (an iterable of names)."""

    @abc.abstractmethod
    def predict_with_scores(self, x: dict) -> tuple[frozenset, dict]:
        """The predicted labelset of ``x`` and P(label = 1) by name (absent labels score 0)."""

    def add_labels(self, names) -> None:
        """Make labels known before they appear (a source's header declares them)."""

    def declare_features(self, kinds) -> None:
        """Take the kinds of features a source declares up front: a mapping name ->
        :data:`NOMINAL` or :data:`NUMERIC` (see :func:`connectors.base.feature_kinds`). Learners
        that treat every feature alike ignore it."""

    def drain_events(self) -> list[dict]:
        """Structural events since the last call, each a dict with at least ``kind``."""
        return []

    def memory_bytes(self) -> int:
        """Bytes the model holds (by default measured by walking its objects)."""
        return deep_size(self)

    def learn_one(self, x: dict, y, **kwargs) -> None:
        """river's entry point: ``y`` is a dict label -> bool (every key becomes known) or a
        collection of the relevant labels."""
        known, relevant = relevant_labels(y)
        self.add_labels(known)
        self.learn_labelset(x, relevant)

    def predict_scores(self, x: dict) -> dict:
        """P(label = 1) by name."""
        return self.predict_with_scores(x)[1]

    def predict_proba_one(self, x: dict, **kwargs) -> dict:
        return {name: {False: 1.0 - p, True: p} for name, p in self.predict_scores(x).items()}

    def predict_one(self, x: dict, **kwargs) -> dict:
        """Every label the scores name, True for those in the predicted labelset."""
        predicted, scores = self.predict_with_scores(x)
        return {name: name in predicted for name in scores}


class RiverMultiLabel(MultiLabelLearner, base.Wrapper):
    """Any river multi-label classifier behind the learner contract.

    It learns with the model's own ``learn_one`` (every known label given, the irrelevant ones
    False) and predicts from its ``predict_proba_one``, decided river's way (:func:`positive_of`).

    >>> from river import datasets, multioutput, linear_model
    >>> model = RiverMultiLabel(multioutput.ClassifierChain(linear_model.LogisticRegression(), order=list(range(14))))
    >>> for x, y in datasets.Yeast().take(50):
    ...     model.learn_labelset(x, [i for i, v in enumerate(y.values()) if v])
    >>> predicted, scores = model.predict_with_scores(x)
    >>> len(scores), model.memory_bytes() > 0
    (14, True)

    """

    def __init__(self, model: base.MultiLabelClassifier):
        self.model = model
        self._labels: dict = {}  # every label made known, in order of first sight

    @property
    def _wrapped_model(self):
        return self.model

    def add_labels(self, names) -> None:
        for name in names:
            self._labels.setdefault(name, None)

    def learn_labelset(self, x: dict, labelset) -> None:
        relevant = labelset if isinstance(labelset, (set, frozenset)) else set(labelset)
        self.add_labels(sorted(relevant.difference(self._labels), key=str))
        self.model.learn_one(x, {name: name in relevant for name in self._labels})

    def predict_with_scores(self, x: dict) -> tuple[frozenset, dict]:
        proba = self.model.predict_proba_one(x)
        predicted = frozenset(name for name, p in proba.items() if positive_of(p))
        return predicted, {name: p.get(True, 0.0) for name, p in proba.items()}


def as_learner(model) -> MultiLabelLearner:
    """``model`` itself if it follows the contract, else wrapped in :class:`RiverMultiLabel`."""
    if isinstance(model, MultiLabelLearner):
        return model
    if not isinstance(model, base.MultiLabelClassifier):
        raise TypeError(f"a multi-label classifier is needed, got {type(model).__name__}")
    return RiverMultiLabel(model)

