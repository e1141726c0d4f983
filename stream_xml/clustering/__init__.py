"""Online clustering of labels: ODAC-J and the refinement of its leaves into learner blocks.

>>> from stream_xml.clustering import ODACJ
>>> model = ODACJ()
>>> model.learn_one({0, 1})
False
>>> model.partition()
[[0, 1]]

"""

from .odac import ODACJ, ClusterCounts, Coefficients, NodeView, cluster_coefficients
from .refine import Block, LabelsetSizeHistogram, refine, refine_nodes

__all__ = [
    "ODACJ",
    "Block",
    "ClusterCounts",
    "Coefficients",
    "LabelsetSizeHistogram",
    "NodeView",
    "cluster_coefficients",
    "refine",
    "refine_nodes",
]
