"""iHOMER: the hierarchy of multi-label learners over online label clusters.

Modules: :mod:`~stream_xml.ihomer.model` (the estimator, which runs one of two engines),
:mod:`~stream_xml.ihomer.hierarchy` (the engine over label clusters), :mod:`~stream_xml.ihomer.partition`
(blocks, their learners, warm starts and hand-overs), :mod:`~stream_xml.ihomer.modes` (partition
ensemble and HOMER routing), :mod:`~stream_xml.ihomer.arbiter` (root learner against blocks),
:mod:`~stream_xml.ihomer.routing` (HOMER's routing tree), :mod:`~stream_xml.ihomer.watchers`
(global drift signals).

>>> from stream_xml.ihomer import IHOMER
>>> IHOMER().mode
'auto'

"""

from stream_xml.ihomer.model import IHOMER

__all__ = ["IHOMER"]
