"""The factory of an iHOMER's node learners.

>>> from stream_xml.ihomer.learners import LearnerFactory
>>> from stream_xml.tree import MLHAT
>>> from stream_xml.tree.features import FeatureIndex
>>> from stream_xml.tree.knn import DistanceMemo
>>> make = LearnerFactory(seed=2, features=FeatureIndex(), memo=DistanceMemo())
>>> [tree.seed for tree in (make(MLHAT()), make(MLHAT()))]
[200007, 200008]

"""

from __future__ import annotations

from stream_xml.tree import MLHAT
from stream_xml.tree.features import FeatureIndex
from stream_xml.tree.knn import DistanceMemo

__all__ = ["LearnerFactory"]


class LearnerFactory:
    """Makes node learners: clones of a template, seeded one after the other from ``seed``,
    sharing ``features`` (a record is encoded once for all) and ``memo`` (a kNN distance is
    computed once for all)."""

    def __init__(self, seed: int, features: FeatureIndex, memo: DistanceMemo):
        self.seed = seed
        self.features = features
        self.memo = memo
        self.n_made = 0

    def __call__(self, template: MLHAT) -> MLHAT:
        self.n_made += 1
        learner = template.clone({"seed": self.seed * 100003 + self.n_made})
        learner.share_features(self.features, self.memo)
        return learner
