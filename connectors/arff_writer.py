"""Write a stream as a MEKA ARFF file (labels first, ``-C n``) that reads back record for record.

Labels become ``{0,1}`` attributes ahead of the numeric features; the relation is
``'NAME: -C n'``. Rows are dense (every value) or sparse (``{index value, ...}``, zeros
left out). Numbers are written with ``repr``, so :class:`connectors.arff.ArffSource` reads
back exactly the same ``x`` and ``y``: all of a record's features with dense rows, only its
non-zero ones with sparse rows (a sparse stream therefore round-trips through sparse rows,
a dense one through dense rows). A record with ``y is None`` is written with every label
``?`` and read back unlabelled. Header comments may carry the stream's change points
(:func:`read_change_points` gets them back). A path ending in ``.gz`` is gzipped.

>>> import os, tempfile
>>> from connectors.arff import ArffSource
>>> from connectors.base import Record
>>> class Tiny:
...     name, labels, features = "tiny", ["sport", "news"], ["a b", "c"]
...     change_points = [{"t": 2, "width": 0, "kind": "concept", "recurring": False}]
...     def __iter__(self):
...         yield Record({"a b": 0.5, "c": 0.0}, frozenset({"news"}), {})
...         yield Record({"a b": -1e-05, "c": 2.0}, None, {})
>>> path = os.path.join(tempfile.mkdtemp(), "tiny.arff")
>>> write_arff(Tiny(), path)
2
>>> print(open(path).read())  # doctest: +NORMALIZE_WHITESPACE
% change_point {"t": 2, "width": 0, "kind": "concept", "recurring": false}
@relation 'tiny: -C 2'
@attribute sport {0,1}
@attribute news {0,1}
@attribute 'a b' numeric
@attribute c numeric
@data
0,1,0.5,0.0
?,?,-1e-05,2.0
>>> [(r.x, r.y) for r in ArffSource(path)]
[({'a b': 0.5, 'c': 0.0}, frozenset({'news'})), ({'a b': -1e-05, 'c': 2.0}, None)]
>>> read_change_points(path)
[{'t': 2, 'width': 0, 'kind': 'concept', 'recurring': False}]

"""

from __future__ import annotations

import gzip
import json
import math
import os
import typing

from connectors.base import RecordError, TextLines
from connectors.jsonrecord import parse_json

__all__ = ["write_arff", "arff_name", "read_change_points"]

_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.=")
_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_CHANGE_POINT = "% change_point "


def arff_name(name: str) -> str:
    """``name`` as an ARFF attribute or relation name: bare when plain, else single-quoted.

    >>> arff_name("f01"), arff_name("a b"), arff_name("it's")
    ('f01', "'a b'", "'it\\\\'s'")

    """
    if name and set(name) <= _PLAIN:
        return name
    return "'" + "".join(_ESCAPES.get(c, c) for c in name) + "'"


def _number(value, where: str) -> str:
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{where}: {value} cannot be written to ARFF (not a finite number)")
    return repr(value)


def write_arff(
    source, path, sparse: bool | None = None, relation: str | None = None, limit: int | None = None,
    comments: typing.Iterable[str] = (),
) -> int:
    """Write ``source`` (with ``labels`` and ``features`` declared) to ``path``; return the records written.

    ``sparse`` picks sparse rows (default: the source's own ``sparse`` attribute, else dense);
    ``relation`` names the relation (default: the source's name); ``limit`` stops early;
    ``comments`` go into the header, as do the source's ``change_points`` if it has any.
    """
    labels, features = list(source.labels), list(source.features)
    if not labels or not features:
        raise ValueError("write_arff needs a source that declares its labels and its features up front")
    sparse = bool(getattr(source, "sparse", False)) if sparse is None else sparse
    label_index = {name: i for i, name in enumerate(labels)}
    feature_index = {name: len(labels) + j for j, name in enumerate(features)}
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    written = 0
    with opener(path, "wt", encoding="utf-8", newline="\n") as out:
        for text in comments:
            for line in str(text).splitlines():
                out.write(f"% {line}\n")
        for point in getattr(source, "change_points", None) or ():
            out.write(_CHANGE_POINT + json.dumps(point) + "\n")
        name = relation if relation is not None else str(getattr(source, "name", "stream"))
        out.write(f"@relation {arff_name(f'{name}: -C {len(labels)}')}\n")
        out.writelines(f"@attribute {arff_name(label)} {{0,1}}\n" for label in labels)
        out.writelines(f"@attribute {arff_name(feature)} numeric\n" for feature in features)
        out.write("@data\n")
        for record in source:
            if limit is not None and written >= limit:
                break
            where = f"record {written + 1}"
            unknown = [k for k in record.x if k not in feature_index]
            if unknown:
                raise ValueError(f"{where}: feature {unknown[0]!r} is not declared by the source")
            if record.y is not None and not record.y <= label_index.keys():
                raise ValueError(f"{where}: label {sorted(record.y - label_index.keys())[0]!r} is not declared")
            out.write(_sparse_row(record, label_index, feature_index, where) if sparse
                      else _dense_row(record, labels, features, where))
            written += 1
    return written


def _dense_row(record, labels: list, features: list, where: str) -> str:
    y, x = record.y, record.x
    head = ["?"] * len(labels) if y is None else ["1" if label in y else "0" for label in labels]
    return ",".join(head + [_number(x.get(f, 0.0), where) for f in features]) + "\n"


def _sparse_row(record, label_index: dict, feature_index: dict, where: str) -> str:
    if record.y is None:
        items = [(i, "?") for i in label_index.values()]
    else:
        items = [(label_index[label], "1") for label in record.y]
    items += [(feature_index[k], _number(v, where)) for k, v in record.x.items() if v != 0]
    items.sort()
    return "{" + ",".join(f"{i} {v}" for i, v in items) + "}\n"


def _is_number(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def read_change_points(path) -> list[dict]:
    """The change points :func:`write_arff` put in an ARFF header (an empty list if none).

    A change-point comment that is not a JSON object with a finite ``t`` (and ``width``, if
    any) raises :class:`~connectors.base.RecordError` naming the line.
    """
    points = []
    where = os.fspath(path)
    with TextLines(where) as lines:
        for text in lines:
            if text.startswith(_CHANGE_POINT):
                point = parse_json(text[len(_CHANGE_POINT):], where, lines.line)
                if not (isinstance(point, dict) and _is_number(point.get("t"))
                        and _is_number(point.get("width", 0))):
                    raise RecordError(where, lines.line, "a change point must be a JSON object with a finite 't'")
                points.append(point)
            elif text.lstrip().lower().startswith("@data"):
                break
    return points
