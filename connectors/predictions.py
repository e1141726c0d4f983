"""Every record's predictions written to a JSON-lines file, one line a record, as the service
publishes them to its output topic (:func:`connectors.jsonrecord.prediction_fields`).

A line holds the record's place in the stream (``record``, 1-based), its ``id`` and ``line``
when its source gives them, its true labels (``y``, null when not known yet) and per model the
predicted ``labels`` and the ``top_scores`` highest ``scores``. A name ending in ``.gz`` is gzipped.

>>> import json, os, tempfile
>>> from connectors.base import Record
>>> path = os.path.join(tempfile.mkdtemp(), "p.jsonl")
>>> with PredictionFile(path, top_scores=1) as out:
...     out.write(Record({"f": 1.0}, frozenset({"a"}), {"line": 7}), {"m": (frozenset({"a"}), {"a": 0.8, "b": 0.1})})
>>> json.loads(open(path).read())
{'record': 1, 'line': 7, 'y': ['a'], 'predictions': {'m': {'labels': ['a'], 'scores': [['a', 0.8]]}}}

"""

from __future__ import annotations

import gzip
import json

from connectors.base import Record
from connectors.jsonrecord import prediction_fields, sorted_labels

__all__ = ["PredictionFile"]


class PredictionFile:
    """A JSONL file of predictions, opened (created or emptied) at once so that a path that cannot
    be written fails before the stream starts."""

    def __init__(self, path: str, top_scores: int = 10):
        self.path = path
        self.top_scores = top_scores
        self.written = 0
        if path.endswith(".gz"):
            self._file = gzip.open(path, "wt", encoding="utf-8")
        else:
            self._file = open(path, "w", encoding="utf-8")

    def write(self, record: Record, predictions: dict) -> None:
        """One line: where ``record`` is and what every model (name -> (labels, scores)) predicted."""
        self.written += 1
        doc = {"record": self.written}
        for key in ("id", "line"):
            if record.meta.get(key) is not None:
                doc[key] = record.meta[key]
        doc["y"] = None if record.y is None else sorted_labels(record.y)
        doc["predictions"] = prediction_fields(predictions, self.top_scores)
        self._file.write(json.dumps(doc, separators=(",", ":"), default=str) + "\n")

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "PredictionFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
