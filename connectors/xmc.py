"""The extreme classification repository's text format, replayed as a stream of records.

The first line is ``N D L`` (instances, features, labels). Every other line is one instance:
a comma-separated list of 0-based label ids (empty when the instance has no label), then
sparse ``feature:value`` pairs, e.g. ``3,17 0:0.5 42:1``. Label and feature names are the
integer ids.

>>> import os, tempfile
>>> from connectors.xmc import XmcSource
>>> path = os.path.join(tempfile.mkdtemp(), "toy.txt")
>>> with open(path, "w") as f:
...     _ = f.write("2 5 3\\n0,2 1:0.5 4:2\\n 3:1\\n")
>>> src = XmcSource(path)
>>> src.labels
[0, 1, 2]
>>> for record in src:
...     print(record.x, sorted(record.y))
{1: 0.5, 4: 2.0} [0, 2]
{3: 1.0} []

"""

from __future__ import annotations

import os
import typing

from connectors.base import ErrorLog, Record, RecordError, TextLines, check_values

__all__ = ["XmcSource", "read_xmc_header", "MAX_XMC_LABELS"]

# The labels an XMC header may declare: above the largest public XMC label sets (Amazon-3M's
# 2.8 million) with room to spare; a header declaring more is damaged (a digit too many), and
# listing its labels would exhaust memory before the first record.
MAX_XMC_LABELS = 2**24


def read_xmc_header(text: str, where: str) -> tuple[int, int, int]:
    """Parse the ``N D L`` header line.

    >>> read_xmc_header("100 20 5\\n", "f.txt")
    (100, 20, 5)

    """
    parts = text.split()
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) != 3 or min(numbers) < 0:
        raise RecordError(where, 1, f"header must be 'N D L' (three counts), got {text.strip()[:60]!r}")
    n, d, l = numbers
    if l > MAX_XMC_LABELS:
        raise RecordError(where, 1, f"header declares {l} labels, more than the {MAX_XMC_LABELS} stream-xml holds")
    return n, d, l


def _decode_line(raw: str, n_features: int, n_labels: int, where: str, line: int):
    tokens = raw.split()
    labels: list = []
    if tokens and ":" not in tokens[0]:
        for piece in tokens[0].split(","):
            try:
                label = int(piece)
            except ValueError:
                raise RecordError(where, line, f"label id {piece!r} is not an integer") from None
            if not 0 <= label < n_labels:
                raise RecordError(where, line, f"label id {label} out of range 0..{n_labels - 1}")
            labels.append(label)
        tokens = tokens[1:]
    x: dict = {}
    for token in tokens:
        key, colon, value = token.partition(":")
        try:
            feature = int(key)
            number = float(value)
        except ValueError:
            raise RecordError(where, line, f"feature entry {token!r} is not 'id:value'") from None
        if not colon:
            raise RecordError(where, line, f"feature entry {token!r} is not 'id:value'")
        if not 0 <= feature < n_features:
            raise RecordError(where, line, f"feature id {feature} out of range 0..{n_features - 1}")
        x[feature] = number
    if len(x) != len(tokens):
        raise RecordError(where, line, "a feature id is repeated")
    check_values(x, where, line)
    return x, frozenset(labels)


class XmcSource:
    """Stream an XMC repository text file (``N D L`` header, then one instance per line).

    Parameters
    ----------
    path
        The file (gzip is read transparently).
    on_error
        ``"raise"`` stops at the first bad line; ``"skip"`` skips and counts it in ``errors``.
        A header that is not ``N D L`` always raises. When the number of instance lines
        differs from ``N``, strict mode raises at the end of the file and skip mode records
        it in ``errors``.
    name
        The source name written into each record's meta (default: the file's stem).

    """

    def __init__(self, path, on_error: str = "raise", name=None):
        self.path = os.fspath(path)
        self.errors = ErrorLog(on_error)
        self.name = name if name is not None else os.path.basename(self.path).split(".")[0]
        with TextLines(self.path) as lines:
            self.n_instances, self.n_features, self.n_labels = self._read_header(lines)
        self.labels = list(range(self.n_labels))
        self.features = range(self.n_features)  # feature ids need no list: D may be in the millions

    def _read_header(self, lines: TextLines) -> tuple[int, int, int]:
        return read_xmc_header(next(iter(lines), ""), self.path)

    def __iter__(self) -> typing.Iterator[Record]:
        errors = self.errors
        errors.count = 0
        errors.samples.clear()
        path, d, l = self.path, self.n_features, self.n_labels
        with TextLines(path) as lines:
            if self._read_header(lines) != (self.n_instances, d, l):
                raise RecordError(path, 1, "the header changed since the source was opened")
            lines.on_bad_line = errors.handle
            for raw in lines:
                line = lines.line
                try:
                    x, y = _decode_line(raw, d, l, path, line)
                except RecordError as err:
                    errors.handle(err)
                    continue
                yield Record(x, y, {"source": self.name, "file": path, "line": line})
            found = lines.line - 1
        if found != self.n_instances:
            errors.handle(RecordError(path, None, f"header declares {self.n_instances} instances, file has {found}"))

    def __repr__(self) -> str:
        return f"XmcSource({self.name!r}, {self.n_instances} x {self.n_features}, {self.n_labels} labels)"
