"""Baselines that every report can put beside iHOMER.

- :class:`MajorityLabelset` predicts the labelset seen most often so far.
- :class:`BinaryRelevance` trains one copy of any river binary classifier per label.
- :class:`ClassifierChain` chains copies of a river classifier, each one seeing the previous
  labels' predicted probabilities as extra features (river's composition, with new labels
  appended to the end of the chain).

All follow the learner contract of :mod:`stream_xml.base` (river's ``MultiLabelClassifier`` API
plus ``learn_labelset`` and ``predict_with_scores``).

>>> from river import datasets, tree
>>> from stream_xml.baselines import BinaryRelevance
>>> model = BinaryRelevance(tree.HoeffdingTreeClassifier())
>>> for x, y in datasets.Yeast().take(300):
...     model.learn_one(x, y)
>>> pred = model.predict_one(x)
>>> sorted(k for k, v in pred.items() if v)
['Class12', 'Class13', 'Class4']

"""

from __future__ import annotations

import collections
import copy

from river import base, multioutput

from stream_xml.base import MultiLabelLearner, positive_of, refuse_undigestible

__all__ = ["MajorityLabelset", "BinaryRelevance", "ClassifierChain"]


class _LabelsetLearner(MultiLabelLearner):
    """Shared plumbing: the known labels in order of first sight."""

    def __init__(self):
        self._labels: dict = {}

    @property
    def labels(self) -> list:
        return list(self._labels)

    def add_labels(self, names) -> None:
        for name in names:
            self._labels.setdefault(name, None)

    def predict_with_scores(self, x) -> tuple[frozenset, dict]:
        scores = self.predict_scores(x)
        return frozenset(k for k, p in scores.items() if p > 0.5), scores


class _RiverComposition(_LabelsetLearner, base.Wrapper):
    """A composition of copies of one river classifier, decided river's way (arg-max per label).

    stream-xml records are sparse (an absent feature is 0) while river's models read an absent
    key as *missing*; with ``fill_zeros`` (the default) every feature seen so far that a record
    leaves out is passed to the river models as 0, as the published benchmarks' loaders do.
    Integer feature names (XMC files, JSON lists) reach river as their decimal strings: river's
    forests sort the names, which fails on a stream that mixes integers and strings.
    """

    def __init__(self, classifier: base.Classifier | None = None, fill_zeros: bool = True):
        super().__init__()
        if classifier is None:
            from river.linear_model import LogisticRegression

            classifier = LogisticRegression()
        self.classifier = classifier
        self.fill_zeros = fill_zeros
        self._features: dict = {}  # every feature seen, in order of first sight

    def _dense(self, x: dict) -> dict:
        refuse_undigestible(x)  # river's models overflow on huge values
        try:
            "".join(x)  # one C-level pass: every name a string
        except TypeError:
            x = {str(k) if type(k) is int else k: v for k, v in x.items()}
        if not self.fill_zeros:
            return x
        known = self._features
        if len(x) == len(known) and all(k in known for k in x):
            return x
        for k in x:
            known.setdefault(k, None)
        return {k: x.get(k, 0.0) for k in known}

    @property
    def _wrapped_model(self):
        return self.classifier

    @classmethod
    def _unit_test_params(cls):
        from river.linear_model import LogisticRegression

        yield {"classifier": LogisticRegression()}

    def predict_with_scores(self, x) -> tuple[frozenset, dict]:
        proba = self.predict_proba_one(x)
        predicted = frozenset(name for name, p in proba.items() if positive_of(p))
        return predicted, {name: p.get(True, 0.0) for name, p in proba.items()}

    def predict_scores(self, x) -> dict:
        return self.predict_with_scores(x)[1]


class MajorityLabelset(_LabelsetLearner):
    """Predicts the most frequent labelset seen so far (ties: the one that reached the count first).

    Scores are the fraction of instances in which each label was relevant, so ranking metrics rank
    labels by frequency.

    >>> from stream_xml.baselines import MajorityLabelset
    >>> m = MajorityLabelset()
    >>> for ys in [{"a"}, {"a", "b"}, {"a", "b"}, set()]:
    ...     m.learn_labelset({}, ys)
    >>> sorted(k for k, v in m.predict_one({}).items() if v)
    ['a', 'b']
    >>> m.predict_scores({})["a"]
    0.75

    """

    def __init__(self):
        super().__init__()
        self._labelset_counts: collections.Counter = collections.Counter()
        self._label_counts: collections.Counter = collections.Counter()
        self._best: frozenset = frozenset()
        self._best_count = 0
        self._n = 0

    def learn_labelset(self, x, labelset) -> None:
        labelset = frozenset(labelset)
        self.add_labels(sorted(labelset, key=str))
        self._n += 1
        self._label_counts.update(labelset)
        c = self._labelset_counts[labelset] + 1
        self._labelset_counts[labelset] = c
        if c > self._best_count:
            self._best, self._best_count = labelset, c

    def predict_scores(self, x) -> dict:
        n = self._n or 1
        return {k: self._label_counts[k] / n for k in self._labels}

    def predict_with_scores(self, x) -> tuple[frozenset, dict]:
        # Only the labels seen relevant: the others score 0, which the metrics read from their
        # absence, so a record costs O(labels seen) and not O(labels declared) (10^5 in XMC).
        n = self._n or 1
        return self._best, {k: c / n for k, c in self._label_counts.items()}

    def predict_one(self, x, **kwargs):
        return {k: k in self._best for k in self._labels}


class BinaryRelevance(_RiverComposition):
    """One independent copy of a river binary classifier per label.

    A label's classifier is created the first time the label is known (declared by the source or
    seen in a labelset) and from then on learns every instance. Predictions equal those of
    ``river.multioutput.PerOutputClassifier`` on the same stream.

    Parameters
    ----------
    classifier
        The river binary classifier to copy for each label.

    """

    def __init__(self, classifier: base.Classifier | None = None, fill_zeros: bool = True):
        super().__init__(classifier, fill_zeros)
        self._models: dict = {}

    def add_labels(self, names) -> None:
        for name in names:
            if name not in self._models:
                self._labels[name] = None
                self._models[name] = copy.deepcopy(self.classifier)

    def learn_labelset(self, x, labelset) -> None:
        labelset = labelset if isinstance(labelset, (set, frozenset)) else set(labelset)
        self.add_labels(sorted(labelset.difference(self._models), key=str))
        x = self._dense(x)
        for name, model in self._models.items():
            model.learn_one(x, name in labelset)

    def predict_proba_one(self, x, **kwargs):
        x = self._dense(x)
        return {name: model.predict_proba_one(x) for name, model in self._models.items()}


class ClassifierChain(_RiverComposition):
    """A chain of river classifiers over the labels, in order of first sight.

    Each link sees the features plus the predicted probabilities of the links before it. This is
    river's ``multioutput.ClassifierChain`` behind the labelset API: labels that appear mid-stream
    are appended to the end of the chain, and labels the chain knows but an instance leaves out are
    taken as negative (river would skip them).

    Parameters
    ----------
    classifier
        The river binary classifier to copy for each link.

    """

    def __init__(self, classifier: base.Classifier | None = None, fill_zeros: bool = True):
        super().__init__(classifier, fill_zeros)
        self._chain = multioutput.ClassifierChain(self.classifier, order=[])

    def add_labels(self, names) -> None:
        for name in names:
            if name not in self._labels:
                self._labels[name] = None
                self._chain.order.append(name)

    def learn_labelset(self, x, labelset) -> None:
        labelset = labelset if isinstance(labelset, (set, frozenset)) else set(labelset)
        self.add_labels(sorted(labelset.difference(self._labels), key=str))
        self._chain.learn_one(self._dense(x), {name: name in labelset for name in self._labels})

    def predict_proba_one(self, x, **kwargs):
        return self._chain.predict_proba_one(self._dense(x))
