"""CSV and JSON-lines files replayed as a stream of records.

A CSV file has a header row. Its labels are either several 0/1 (or true/false) columns, or
one column listing the relevant label names joined by a separator; every other column is a
numeric feature (an empty cell is a missing value, left out of ``x``).

>>> import os, tempfile
>>> from connectors.tabular import CsvSource, JsonlSource
>>> d = tempfile.mkdtemp()
>>> path = os.path.join(d, "toy.csv")
>>> with open(path, "w") as f:
...     _ = f.write("age,height,tags\\n31,1.8,a|c\\n40,,\\n")
>>> for record in CsvSource(path, "tags", label_separator="|"):
...     print(record.x, sorted(record.y), record.meta["line"])
{'age': 31.0, 'height': 1.8} ['a', 'c'] 2
{'age': 40.0} [] 3

A JSON-lines file holds one record per line in the format of :mod:`connectors.jsonrecord`:

>>> path = os.path.join(d, "toy.jsonl")
>>> with open(path, "w") as f:
...     _ = f.write('{"id": "a1", "x": {"age": 31}, "y": ["a"]}\\n{"x": [1, 2], "y": null}\\n')
>>> for record in JsonlSource(path):
...     print(record.x, record.y, record.meta["id"])
{'age': 31.0} frozenset({'a'}) a1
{0: 1.0, 1: 2.0} None None

"""

from __future__ import annotations

import csv
import os
import typing

from connectors.base import ErrorLog, Record, RecordError, TextLines, check_values, finite_float
from connectors.jsonrecord import decode_text

__all__ = ["CsvSource", "JsonlSource"]

_FLAGS = {"1": True, "0": False, "true": True, "false": False}


def _stem(path: str) -> str:
    return os.path.basename(path).split(".")[0]


class CsvSource:
    """Stream a CSV file with a header row.

    Parameters
    ----------
    path
        The file (gzip is read transparently).
    label_columns
        Names of the 0/1 (or true/false) label columns, or, with ``label_separator``, the
        one column whose cell lists the relevant labels (an empty cell: no label).
    delimiter
        The field delimiter.
    label_separator
        Separator of the label names in the single label column.
    on_error
        ``"raise"`` stops at the first bad row; ``"skip"`` skips and counts it in ``errors``.
        Header errors (no header, a label column missing, a column named twice) always raise.
    name
        The source name written into each record's meta (default: the file's stem).

    When every label cell of a row is empty, the row is not labelled yet (``y`` is None).

    """

    def __init__(self, path, label_columns, delimiter: str = ",", label_separator: str | None = None,
                 on_error: str = "raise", name=None):
        self.path = os.fspath(path)
        label_columns = [label_columns] if isinstance(label_columns, str) else list(label_columns)
        if not label_columns:
            raise ValueError("CsvSource needs at least one label column")
        if label_separator is not None and len(label_columns) != 1:
            raise ValueError("label_separator needs exactly one label column")
        self.delimiter = delimiter
        self.label_separator = label_separator
        self.label_columns = label_columns
        self.errors = ErrorLog(on_error)
        self.name = name if name is not None else _stem(self.path)
        with TextLines(self.path) as lines:
            self.columns = self._read_header(csv.reader(lines, delimiter=delimiter, strict=True))
        missing = [c for c in label_columns if c not in self.columns]
        if missing:
            raise RecordError(self.path, 1, f"label columns {missing} are not in the header {self.columns[:10]}")
        self._label_pos = [self.columns.index(c) for c in label_columns]
        self._features = [(i, c) for i, c in enumerate(self.columns) if c not in label_columns]
        self.features = [c for _, c in self._features]
        self.labels = [] if label_separator is not None else list(label_columns)

    def _read_header(self, reader) -> list[str]:
        try:
            header = next(reader, None)
        except csv.Error as err:
            raise RecordError(self.path, 1, f"bad header row: {err}") from None
        if not header:
            raise RecordError(self.path, 1, "no header row")
        columns = [c.strip() for c in header]
        if len(set(columns)) != len(columns) or "" in columns:
            raise RecordError(self.path, 1, "every column needs a distinct, non-empty name")
        return columns

    def _decode(self, row: list[str], line: int):
        where = self.path
        if len(row) != len(self.columns):
            raise RecordError(where, line, f"expected {len(self.columns)} fields, got {len(row)}")
        x = {}
        for i, column in self._features:
            cell = row[i]
            if not cell or cell.isspace():
                continue
            value = finite_float(cell)
            if value is None:
                raise RecordError(where, line, f"column {column!r} has value {cell!r}, expected a finite number")
            x[column] = value
        check_values(x, where, line)
        if self.label_separator is not None:
            cell = row[self._label_pos[0]]
            return x, frozenset(n.strip() for n in cell.split(self.label_separator) if n.strip())
        relevant = []
        unknown = 0
        for i, column in zip(self._label_pos, self.label_columns):
            cell = row[i].strip()
            if not cell:
                unknown += 1
                continue
            flag = _FLAGS.get(cell.lower())
            if flag is None:
                raise RecordError(where, line, f"label column {column!r} has value {cell!r}, expected 0/1 or true/false")
            if flag:
                relevant.append(column)
        if unknown == len(self.label_columns):
            return x, None
        if unknown:
            raise RecordError(where, line, "some label cells are empty while others are given")
        return x, frozenset(relevant)

    def __iter__(self) -> typing.Iterator[Record]:
        errors = self.errors
        errors.count = 0
        errors.samples.clear()
        with TextLines(self.path) as lines:
            reader = csv.reader(lines, delimiter=self.delimiter, strict=True)
            if self._read_header(reader) != self.columns:
                raise RecordError(self.path, 1, "the header row changed since the source was opened")
            lines.on_bad_line = errors.handle
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as err:
                    errors.handle(RecordError(self.path, lines.line, f"bad CSV quoting: {err}"))
                    continue
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # a blank line
                try:
                    x, y = self._decode(row, lines.line)
                except RecordError as err:
                    errors.handle(err)
                    continue
                yield Record(x, y, {"source": self.name, "file": self.path, "line": lines.line})

    def __repr__(self) -> str:
        return f"CsvSource({self.name!r}, {len(self.features)} features)"


class JsonlSource:
    """Stream a JSON-lines file: one record object per line (see :mod:`connectors.jsonrecord`).

    Blank lines are skipped. Labels and features are not declared up front (both lists are
    empty); ``meta`` carries the record's ``id`` (None when it has none).

    """

    def __init__(self, path, on_error: str = "raise", name=None):
        self.path = os.fspath(path)
        self.errors = ErrorLog(on_error)
        self.name = name if name is not None else _stem(self.path)
        self.labels: list = []
        self.features: list = []
        TextLines(self.path).close()  # fail now if the file cannot be opened

    def __iter__(self) -> typing.Iterator[Record]:
        errors = self.errors
        errors.count = 0
        errors.samples.clear()
        with TextLines(self.path, on_bad_line=errors.handle) as lines:
            for raw in lines:
                if not raw.strip():
                    continue
                line = lines.line
                try:
                    record_id, x, y = decode_text(raw, self.path, line)
                except RecordError as err:
                    errors.handle(err)
                    continue
                yield Record(x, y, {"source": self.name, "file": self.path, "line": line, "id": record_id})

    def __repr__(self) -> str:
        return f"JsonlSource({self.name!r})"
