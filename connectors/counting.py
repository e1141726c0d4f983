"""How many records a source will yield, when that is cheap to know: to size the evaluation's
rolling window and series, and to give its progress bar an end.

A source may declare its length (``n_records``: the synthetic streams, the bundled Yeast) or its
header does (the XMC format's ``N``); otherwise the data lines of its files are counted without
parsing them: ARFF lines after ``@data`` that are neither blank nor comments, CSV lines after the
header, JSONL lines that are not blank. A count of lines is exact for well-formed files and an
upper bound otherwise (a bad record later skipped, a CSV field quoted over several lines). Files
larger than ``max_bytes`` (on disk) are not counted (None).

>>> import os, tempfile
>>> from connectors.arff import ArffSource
>>> p = os.path.join(tempfile.mkdtemp(), "t.arff")
>>> with open(p, "w") as f:
...     _ = f.write("@relation 'r: -C 1'\\n@attribute y {0,1}\\n@attribute a numeric\\n@data\\n"
...                 "1,0.5\\n% a comment\\n\\n0,0.25\\n")
>>> record_count(ArffSource(p)), sum(1 for _ in ArffSource(p))
(2, 2)

"""

from __future__ import annotations

import os

from connectors.arff import ArffSource
from connectors.base import _open_binary
from connectors.tabular import CsvSource, JsonlSource
from connectors.xmc import XmcSource

__all__ = ["record_count"]

MAX_BYTES = 256 * 2**20


def _lines(path: str):
    with _open_binary(path) as f:
        yield from f


def _arff_rows(path: str) -> int:
    rows, in_data = 0, False
    for line in _lines(path):
        line = line.strip()
        if not in_data:
            in_data = line[:5].lower() == b"@data"
        elif line and not line.startswith(b"%"):
            rows += 1
    return rows


def _nonblank(path: str) -> int:
    return sum(1 for line in _lines(path) if line.strip())


def record_count(source, max_bytes: int = MAX_BYTES) -> int | None:
    """The number of records ``source`` yields, or None when it cannot be known cheaply."""
    declared = getattr(source, "n_records", None)
    if declared is not None:
        return int(declared)
    if isinstance(source, XmcSource):
        return source.n_instances
    if isinstance(source, ArffSource):
        paths, count = source.paths, _arff_rows
    elif isinstance(source, CsvSource):
        paths, count = [source.path], lambda path: max(0, _nonblank(path) - 1)
    elif isinstance(source, JsonlSource):
        paths, count = [source.path], _nonblank
    else:
        return None
    if sum(os.path.getsize(p) for p in paths) > max_bytes:
        return None
    return sum(count(p) for p in paths)
