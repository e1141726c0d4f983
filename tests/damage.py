"""Damaged input for the robustness tests and ``experiments/robustness.py``: a good file for each
of the six file readers, the ways a file gets damaged, and one call that reads a file the way a
user's run would and says how it ended.

The contract under test (issue 18): whatever the bytes, a reader ends normally or raises
:class:`~connectors.base.RecordError`, whose message names the file (and line, where there is
one); no other exception escapes, in ``on_error="raise"`` and ``"skip"`` alike.

    >>> import random
    >>> reader = READERS["jsonl"]
    >>> kinds = [kind for kind, _ in damaged_copies(reader.good(30), random.Random(0))]
    >>> "gzip magic only" in kinds and "invalid UTF-8 in a line" in kinds
    True
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import random
import typing

from connectors.arff import ArffSource, read_label_names
from connectors.arff_writer import read_change_points
from connectors.base import Record, RecordError, check_record
from connectors.tabular import CsvSource, JsonlSource
from connectors.xmc import XmcSource

__all__ = ["Reader", "READERS", "damaged_copies", "read_all", "refusal", "EXTREME_VALUES"]

# values a record may hold at the edges: the bound, subnormals, counts as large integers
EXTREME_VALUES = (1e100, -1e100, 5e-324, -5e-324, 2.2250738585072014e-308, 1e18, float(2**63), 0.0, 1e-300)


def _arff(n: int) -> bytes:
    head = ("% change_point {\"t\": 3, \"width\": 0, \"kind\": \"concept\"}\n"
            "@relation 'damaged: -C 2'\n@attribute l1 {0,1}\n@attribute l2 {0,1}\n"
            "@attribute a numeric\n@attribute b numeric\n@attribute 'c d' {x,y,z}\n@data\n")
    rows = "".join(f"{i % 2},{(i // 2) % 2},{i * 0.5},{-i},{'xyz'[i % 3]}\n" if i % 4 else
                   f"{{0 1, 2 {i}.25, 4 z}}\n" for i in range(n))
    return (head + rows).encode()


def _xmc(n: int) -> bytes:
    return (f"{n} 5 4\n" + "".join(f"{i % 4},{(i + 1) % 4} {i % 5}:{i}.5 {(i + 2) % 5}:1\n" for i in range(n))).encode()


def _csv(n: int) -> bytes:
    return ("a,b,\"note, quoted\",l1,l2\n" + "".join(f"{i},{i * 0.25},{i % 3},{i % 2},true\n" for i in range(n))).encode()


def _jsonl(n: int) -> bytes:
    return "".join(f'{{"id": {i}, "x": {{"a": {i}, "b": {i * 0.5}}}, "y": ["p", {i % 3}]}}\n' if i % 3 else
                   f'{{"id": "r{i}", "x": [{i}, null, 2.5], "y": null}}\n' for i in range(n)).encode()


def _labels_xml(n: int) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?>\n<labels xmlns="http://mulan.sourceforge.net/labels">\n'
            + "".join(f'  <label name="l{i}"/>\n' for i in range(n)) + "</labels>\n").encode()


@dataclasses.dataclass(frozen=True)
class Reader:
    """One file reader: a good file of ``n`` records, and what a user's run reads from a file:
    its records (for the label XML: its label names; for change points: the points)."""

    name: str
    suffix: str
    good: typing.Callable[[int], bytes]
    read: typing.Callable[[str, str], list]  # (path, on_error) -> what was read


def _records(open_source):
    return lambda path, on_error: list(open_source(path, on_error))


READERS = {
    "arff": Reader("arff", ".arff", _arff, _records(lambda p, e: ArffSource(p, on_error=e))),
    "xmc": Reader("xmc", ".txt", _xmc, _records(lambda p, e: XmcSource(p, on_error=e))),
    "csv": Reader("csv", ".csv", _csv, _records(lambda p, e: CsvSource(p, ["l1", "l2"], on_error=e))),
    "jsonl": Reader("jsonl", ".jsonl", _jsonl, _records(lambda p, e: JsonlSource(p, on_error=e))),
    "labels-xml": Reader("labels-xml", ".xml", _labels_xml, lambda p, e: read_label_names(p)),
    "change-points": Reader("change-points", ".arff", _arff, lambda p, e: read_change_points(p)),
}


def read_all(reader: Reader, path: str, on_error: str) -> str:
    """Read ``path`` as a run would: ``"ok"`` (after checking that every record read is one a
    model can digest), or ``"RecordError"`` (after checking that the error names the file). Any
    other exception propagates: the caller counts it as a crash."""
    try:
        read = reader.read(path, on_error)
    except RecordError as err:
        assert err.where == path and str(err).startswith(path), f"the error does not name the file: {err}"
        return "RecordError"
    for item in read:
        if isinstance(item, Record):
            try:
                check_record(item.x, item.y, path, item.meta.get("line"))
            except RecordError as err:
                raise AssertionError(f"the reader let through a record no model can digest: {err}") from None
    return "ok"


def refusal(read: typing.Callable, where: str, line: int) -> str:
    """The message of the :class:`~connectors.base.RecordError` that ``read()`` raises, once it
    is checked to name the file ``where`` and the ``line`` (and to start with ``where:line:``)."""
    try:
        read()
    except RecordError as e:
        assert (e.where, e.position) == (where, line), f"refused at {e.where}:{e.position}, expected {where}:{line}"
        message = str(e)
        assert message.startswith(f"{where}:{line}: "), message
        return message
    raise AssertionError(f"no RecordError from {where}")


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def damaged_copies(data: bytes, rng: random.Random) -> typing.Iterator[tuple[str, bytes]]:
    """Damaged versions of the good file ``data``: (kind of damage, bytes). Every kind once,
    positions drawn from ``rng``."""
    gz = gzip.compress(data)
    yield "gzip magic only", b"\x1f\x8b"
    yield "gzip cut short", gz[: rng.randrange(2, len(gz))]
    flipped = bytearray(gz)
    flipped[rng.randrange(10, len(gz) - 8)] ^= 1 << rng.randrange(8)
    yield "gzip with a flipped bit", bytes(flipped)
    yield "gzip with a wrong checksum", gz[:-8] + bytes(4) + gz[-4:]
    yield "gzip with trailing garbage", gz + b"\x00junk"
    yield "gzip of a cut file", gzip.compress(data[: rng.randrange(len(data))])
    lines = _lines(data)
    k = rng.randrange(len(lines))
    yield "invalid UTF-8 in a line", b"\n".join(lines[:k] + [lines[k] + b"\xff\xfe"] + lines[k + 1:])
    yield "gzip of invalid UTF-8 in a line", gzip.compress(b"\n".join(lines[:k] + [b"\xc3(" + lines[k]] + lines[k + 1:]))
    yield "cut short", data[: rng.randrange(len(data))]
    yield "empty", b""
    yield "NUL bytes", data[: len(data) // 2] + b"\x00" * 5 + data[len(data) // 2:]
    yield "binary garbage", bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
    mutated = bytearray(data)
    for _ in range(rng.randrange(1, 8)):
        mutated[rng.randrange(len(mutated))] = rng.choice(b"{}[],:'\"?%@\n\r 0123456789.eE+-xyz\\")
    yield "bytes overwritten", bytes(mutated)
    yield "a line doubled", b"\n".join(lines[:k] + [lines[k] + lines[k]] + lines[k:])
    yield "lone CR line ends", data.replace(b"\n", b"\r")
    yield "CRLF line ends", data.replace(b"\n", b"\r\n")
    for token in (b"1e400", b"-1e308", b"nan", b"inf", b"9" * 400, b"1e101"):
        number = rng.choice([b"0", b"1", b"2", b"3", b"5", b"0.5"])
        yield f"number {token[:12].decode()}", data.replace(number, token, rng.randrange(1, 4))
    yield "deep nesting", data.replace(b"[", b"[" * 100000 + b"[", 1) if b"[" in data else data + b"[" * 100000
    yield "a huge line", data + b"1," * 500000 + b"\n"


def write(folder: str, name: str, data: bytes) -> str:
    path = os.path.join(folder, name)
    with open(path, "wb") as f:
        f.write(data)
    return path
