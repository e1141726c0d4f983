"""Multi-label Hoeffding (adaptive) trees: MLHAT, the node learner of iHOMER, MLHT and MLHTPS.

Modules: :mod:`~stream_xml.tree.mlhat` (the river-facing learners), :mod:`~stream_xml.tree.nodes`
(leaves and branches), :mod:`~stream_xml.tree.observers` and
:mod:`~stream_xml.tree.observer_kernels` (Gaussian attribute observers and split search),
:mod:`~stream_xml.tree.entropy` (multi-label entropy, merit, Hoeffding bound),
:mod:`~stream_xml.tree.majority`, :mod:`~stream_xml.tree.knn`, :mod:`~stream_xml.tree.bagging` and
:mod:`~stream_xml.tree.pruned_sets` (leaf models),
:mod:`~stream_xml.tree.leaf_policies` (how leaves choose among them), :mod:`~stream_xml.tree.growth` and
:mod:`~stream_xml.tree.adaptation` (splits, memory budget, alternate subtrees).

>>> from stream_xml.tree import MLHAT, MLHT, MLHTPS
>>> MLHAT().leaf_model, MLHT().leaf_model, MLHTPS().leaf_model
('switch', 'majority', 'ps')

"""

from stream_xml.tree.mlhat import MLHAT, MLHT, MLHTPS

__all__ = ["MLHAT", "MLHT", "MLHTPS"]
