"""An online probabilistic label tree for extreme multi-label streams (iHOMER's extreme engine).

Modules, each holding one kind of state and the numba kernels over it:

- :mod:`~stream_xml.labeltree.layout`: column and slot indices of the tree's arrays;
- :mod:`~stream_xml.labeltree.cooccurrence`: sparse label co-occurrence (bounded rows);
- :mod:`~stream_xml.labeltree.tree`: the label tree (insertion, splits, moves, merges);
- :mod:`~stream_xml.labeltree.arena`: the hashed weight table of all node learners;
- :mod:`~stream_xml.labeltree.plt`: the per-record kernels (search, PLT learning rule);
- :mod:`~stream_xml.labeltree.threshold`: the labelset threshold adapted towards micro-F1;
- :mod:`~stream_xml.labeltree.monitors`: ADWIN drift detectors of internal nodes;
- :mod:`~stream_xml.labeltree.estimator`: :class:`LabelTreeClassifier`, the river estimator.

docs/extreme.md gives the design and its measurements.
"""

from stream_xml.labeltree.estimator import LabelTreeClassifier

__all__ = ["LabelTreeClassifier"]
