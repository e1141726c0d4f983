"""stream-xml: online multi-label classification on data streams.

The learners follow river's ``MultiLabelClassifier`` API; the evaluation loop, metrics and report
writers live in :mod:`stream_xml.evaluation`; sources and sinks in the sibling package ``connectors``.
"""

__version__ = "0.1.0"
