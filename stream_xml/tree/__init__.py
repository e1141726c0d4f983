"""Multi-label Hoeffding (adaptive) trees: MLHAT, the node learner of iHOMER, and MLHT.

Modules: :mod:`~stream_xml.tree.mlhat` (the river-facing learners), :mod:`~stream_xml.tree.nodes`
(leaves and branches), :mod:`~stream_xml.tree.observers` and
:mod:`~stream_xml.tree.observer_kernels` (Gaussian attribute observers and split search),
:mod:`~stream_xml.tree.entropy` (multi-label entropy, merit, Hoeffding bound),
:mod:`~stream_xml.tree.majority`, :mod:`~stream_xml.tree.knn` and :mod:`~stream_xml.tree.bagging` (leaf models),
:mod:`~stream_xml.tree.leaf_policies` (how leaves choose among them), :mod:`~stream_xml.tree.growth` and
:mod:`~stream_xml.tree.adaptation` (splits, memory budget, alternate subtrees).

>>> from stream_xml.tree import MLHAT, MLHT
>>> MLHAT().leaf_model, MLHT().leaf_model
('switch', 'majority')

"""

from stream_xml.tree.mlhat import MLHAT, MLHT

__all__ = ["MLHAT", "MLHT"]
