"""Where records come from: file replays (ARFF, XMC, CSV, JSON lines), river's bundled data.

Every reader is a :class:`~connectors.base.Source`: it has a ``name``, the ``labels`` and
``features`` it declares up front, an ``errors`` log, and yields
:class:`~connectors.base.Record` objects each time it is iterated.

>>> import connectors
>>> src = connectors.open_source("yeast")
>>> src.name, len(src.labels)
('yeast', 14)

"""

from connectors.arff import ArffSource
from connectors.base import ErrorLog, Record, RecordError, Sink, Source, open_text
from connectors.bundled import YeastSource
from connectors.catalog import (
    DatasetInfo,
    default_data_dir,
    describe,
    discover,
    open_dataset,
    open_file,
    open_source,
    register_scheme,
    unregister_scheme,
)
from connectors.jsonrecord import decode_bytes, decode_record, decode_text
from connectors.tabular import CsvSource, JsonlSource
from connectors.xmc import XmcSource

__all__ = [
    "ArffSource",
    "CsvSource",
    "DatasetInfo",
    "ErrorLog",
    "JsonlSource",
    "Record",
    "RecordError",
    "Sink",
    "Source",
    "XmcSource",
    "YeastSource",
    "decode_bytes",
    "decode_record",
    "decode_text",
    "default_data_dir",
    "describe",
    "discover",
    "open_dataset",
    "open_file",
    "open_source",
    "open_text",
    "register_scheme",
    "unregister_scheme",
]
