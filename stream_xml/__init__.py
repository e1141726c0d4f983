"""stream-xml: online multi-label classification on data streams.

The estimators follow river's ``MultiLabelClassifier`` API (and the learner contract of
:mod:`stream_xml.base`) and are importable from the top:

>>> from stream_xml import IHOMER, MLHAT, MLHT, MajorityLabelset, BinaryRelevance, ClassifierChain
>>> IHOMER().mode
'auto'

The evaluation loop, metrics and report writers live in :mod:`stream_xml.evaluation`; sources
and sinks in the sibling package ``connectors``. The estimators are loaded on first use, so
``import stream_xml`` alone stays quick (numba is imported with them).
"""

import importlib

__version__ = "0.1.0"

# estimator -> module that defines it
_ESTIMATORS = {
    "IHOMER": "stream_xml.ihomer",
    "MLHAT": "stream_xml.tree",
    "MLHT": "stream_xml.tree",
    "MajorityLabelset": "stream_xml.baselines",
    "BinaryRelevance": "stream_xml.baselines",
    "ClassifierChain": "stream_xml.baselines",
}

__all__ = ["__version__", *_ESTIMATORS]


def __getattr__(name: str):
    module = _ESTIMATORS.get(name)
    if module is None:
        raise AttributeError(f"module 'stream_xml' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__():
    return sorted(set(globals()) | set(_ESTIMATORS))
