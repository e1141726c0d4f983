"""The seams between sources, the evaluation loop and sinks.

A *source* is an iterable of :class:`Record`. A record carries the features ``x`` (feature
name -> float; absent features are zero, so sparse rows stay sparse), the relevant labels
``y`` (a frozenset of label names, or ``None`` when the labels are not known yet) and ``meta``
(where the record came from: file and line, or Kafka topic/partition/offset).

Readers stream: they never load a whole file. Bad input raises :class:`RecordError`, which
names the place and the problem; with ``on_error="skip"`` a reader skips the record instead,
counts it in its :class:`ErrorLog` and keeps the first few messages for the report.

>>> from connectors.base import Record, ErrorLog, RecordError
>>> r = Record({"f0": 1.5}, frozenset({"sports"}), {"source": "mem", "line": 3})
>>> r.y
frozenset({'sports'})
>>> log = ErrorLog(on_error="skip")
>>> log.handle(RecordError("data.csv", 7, "expected 5 fields, got 4"))
>>> log.count, log.samples[0]
(1, 'data.csv:7: expected 5 fields, got 4')

"""

from __future__ import annotations

import gzip
import io
import math
import os
import typing

__all__ = ["Record", "RecordError", "ErrorLog", "Source", "Sink", "open_text", "finite_float", "ON_ERROR_MODES"]

ON_ERROR_MODES = ("raise", "skip")


class Record(typing.NamedTuple):
    """One stream element: features, relevant labels (or None) and provenance."""

    x: dict
    y: frozenset | None
    meta: dict


class RecordError(ValueError):
    """A record that cannot be read, with where it is and what is wrong.

    ``where`` is a file name or ``topic/partition``; ``position`` a line number or offset.
    """

    def __init__(self, where: str, position: int | None, problem: str):
        self.where = where
        self.position = position
        self.problem = problem
        loc = where if position is None else f"{where}:{position}"
        super().__init__(f"{loc}: {problem}")


class ErrorLog:
    """Counts and samples bad records; raises them in strict mode.

    Parameters
    ----------
    on_error
        ``"raise"`` (strict: the first bad record stops the run with its error) or
        ``"skip"`` (lenient: skip it, count it, keep the first ``keep`` messages).
    keep
        How many messages to keep for the report.
    """

    def __init__(self, on_error: str = "raise", keep: int = 20):
        if on_error not in ON_ERROR_MODES:
            raise ValueError(f"on_error must be one of {ON_ERROR_MODES}, got {on_error!r}")
        self.on_error = on_error
        self.keep = keep
        self.count = 0
        self.samples: list[str] = []

    def handle(self, error: RecordError) -> None:
        if self.on_error == "raise":
            raise error
        self.count += 1
        if len(self.samples) < self.keep:
            self.samples.append(str(error))

    def to_dict(self) -> dict:
        return {"on_error": self.on_error, "skipped": self.count, "samples": list(self.samples)}


@typing.runtime_checkable
class Source(typing.Protocol):
    """What the evaluation loop needs from a source.

    ``labels`` lists the label names the source declares up front (an ARFF header, an XMC
    header); it may be empty when labels are only discovered while streaming. ``errors`` is
    the source's :class:`ErrorLog`.
    """

    name: str
    labels: list
    errors: ErrorLog

    def __iter__(self) -> typing.Iterator[Record]: ...


@typing.runtime_checkable
class Sink(typing.Protocol):
    """Where predictions go (service mode)."""

    def send(self, record: Record, predicted: frozenset, scores: dict) -> None: ...

    def flush(self) -> None: ...


def open_text(path: str | os.PathLike) -> io.TextIOBase:
    """Open a text file for streaming, decompressing gzip transparently (by magic bytes).

    >>> import tempfile, gzip, os
    >>> d = tempfile.mkdtemp()
    >>> p = os.path.join(d, "a.txt.gz")
    >>> with gzip.open(p, "wt") as f:
    ...     _ = f.write("hello\\n")
    >>> with open_text(p) as f:
    ...     f.read()
    'hello\\n'

    """
    path = os.fspath(path)
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="strict", newline="")
    return open(path, encoding="utf-8", errors="strict", newline="")


def finite_float(text: str) -> float | None:
    """``text`` as a finite float, or None when it is not a number or not finite.

    >>> finite_float("2.5"), finite_float("abc"), finite_float("nan"), finite_float("inf")
    (2.5, None, None, None)

    """
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
