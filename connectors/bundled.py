"""Datasets that ship with river, as sources (no download, no data folder needed).

>>> from connectors.bundled import YeastSource
>>> src = YeastSource()
>>> len(src.features), src.labels[:3]
(103, ['Class1', 'Class2', 'Class3'])
>>> record = next(iter(src))
>>> sorted(record.y, key=lambda c: int(c[5:])), record.meta
(['Class7', 'Class8', 'Class12', 'Class13'], {'source': 'yeast', 'line': 1})

"""

from __future__ import annotations

import typing

from connectors.base import ErrorLog, Record

__all__ = ["YeastSource"]


class YeastSource:
    """river's ``datasets.Yeast`` (2417 genes, 103 features, 14 labels) as a source.

    ``labels`` and ``features`` follow river's order; ``y`` holds the labels river marks
    True; ``meta["line"]`` is the 1-based record number; ``n_records`` the stream's length.

    """

    def __init__(self):
        from river.datasets import Yeast  # river is slow to import; only pay when used

        dataset = Yeast()
        x, y = next(iter(dataset))  # river declares the names only through its records
        self.n_records = dataset.n_samples
        self.name = "yeast"
        self.labels = list(y)
        self.features = list(x)
        self.errors = ErrorLog("raise")

    def __iter__(self) -> typing.Iterator[Record]:
        from river.datasets import Yeast

        self.errors.count = 0
        self.errors.samples.clear()
        for i, (x, y) in enumerate(Yeast(), 1):
            yield Record(x, frozenset(label for label, on in y.items() if on), {"source": "yeast", "line": i})

    def __repr__(self) -> str:
        return "YeastSource()"
