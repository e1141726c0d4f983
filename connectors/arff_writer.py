"""Write a stream as a MEKA ARFF file (labels first, ``-C n``) that reads back record for record.

Labels become ``{0,1}`` attributes ahead of the features; the relation is ``'NAME: -C n'``.
Features are numeric, or, with ``typed=True``, as the source declares them: its ``nominal``
attributes keep their declared values (an indicator ``attr=value`` of a one-hot attribute back
to the attribute's value, see :func:`connectors.base.nominal_encoding`). Rows are dense (every value) or sparse (``{index value, ...}``, zeros
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

A source with typed features (an ARFF file's) keeps its types with ``typed=True``:

>>> class Typed:
...     name, labels, features = "typed", ["a"], ["colour", "big", "size"]
...     nominal = {"colour": ("red", "green", "blue"), "big": ("0", "1")}
...     def __iter__(self):
...         yield Record({"colour=green": 1.0, "big": 1.0, "size": 2.5}, frozenset({"a"}), {})
...         yield Record({"colour=red": 1.0}, frozenset(), {})
>>> write_arff(Typed(), path, typed=True, sparse=True)
2
>>> print(open(path).read())  # doctest: +NORMALIZE_WHITESPACE
@relation 'typed: -C 1'
@attribute a {0,1}
@attribute colour {red,green,blue}
@attribute big {0,1}
@attribute size numeric
@data
{0 1,1 green,2 1,3 2.5}
{}
>>> [(sorted(r.x.items()), r.y) for r in ArffSource(path)]  # doctest: +NORMALIZE_WHITESPACE
[([('big', 1.0), ('colour=green', 1.0), ('size', 2.5)], frozenset({'a'})),
 ([('colour=red', 1.0)], frozenset())]

"""

from __future__ import annotations

import gzip
import json
import math
import os
import typing

from connectors.base import RecordError, TextLines, feature_kinds, nominal_encoding
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


class _Columns:
    """Where a record's features go in a row: the column, and the text, of each record key.

    Numeric features are written as numbers. A nominal attribute (``typed``) is written as its
    declared value: the one whose encoding (:func:`~connectors.base.nominal_encoding`) the record
    holds; a record holding none of a one-hot attribute's indicators has it missing (``?``).
    """

    def __init__(self, features: list, first: int, nominal: dict):
        self.numeric: dict = {}  # key -> column
        self.nominal: list = []  # (column, attribute, {key: {number: value text}}, text of a record without its keys)
        self.owner: dict = {}  # key of a nominal attribute -> its entry in self.nominal
        for j, name in enumerate(features):
            values = nominal.get(name)
            if values is None:
                self.numeric[name] = first + j
                continue
            keys: dict = {}
            for value, (key, number) in nominal_encoding(name, values).items():
                keys.setdefault(key, {})[number] = arff_name(value)
            one_hot = len(keys) > 1
            absent = "?" if one_hot else keys[name].get(0.0, "?")
            entry = (first + j, name, keys, absent)
            for key in keys:
                self.owner[key] = entry
            self.nominal.append(entry)
        self.first_value = {column: arff_name(nominal[name][0]) for column, name, _, _ in self.nominal}

    def check(self, x: dict, where: str) -> None:
        unknown = [k for k in x if k not in self.numeric and k not in self.owner]
        if unknown:
            raise ValueError(f"{where}: feature {unknown[0]!r} is not declared by the source")

    def values(self, x: dict, where: str) -> dict:
        """column -> text of every feature of ``x``, nominal ones all included."""
        out = {self.numeric[k]: _number(v, where) if v != 0 else "0.0" for k, v in x.items() if k in self.numeric}
        for column, name, keys, absent in self.nominal:
            text = None
            for key, by_number in keys.items():
                number = x.get(key)
                if number is None:
                    continue
                if number not in by_number:
                    raise ValueError(f"{where}: feature {key!r} of nominal attribute {name!r} has value "
                                     f"{number!r}, which stands for none of its declared values")
                if len(keys) > 1 and number == 0.0:
                    continue  # an indicator that is off
                if text is not None:
                    raise ValueError(f"{where}: nominal attribute {name!r} has two values ({text}, {by_number[number]})")
                text = by_number[number]
            out[column] = absent if text is None else text
        return out


def write_arff(
    source, path, sparse: bool | None = None, relation: str | None = None, limit: int | None = None,
    comments: typing.Iterable[str] = (), typed: bool = False,
) -> int:
    """Write ``source`` (with ``labels`` and ``features`` declared) to ``path``; return the records written.

    ``sparse`` picks sparse rows (default: the source's own ``sparse`` attribute, else dense);
    ``relation`` names the relation (default: the source's name); ``limit`` stops early;
    ``comments`` go into the header, as do the source's ``change_points`` if it has any;
    ``typed`` writes the source's ``nominal`` attributes (if it has any) with their declared
    values, every other feature numeric; without it every record key is a numeric feature (an
    indicator ``attr=value`` of a one-hot attribute too).
    """
    labels, features = list(source.labels), list(source.features)
    if not labels or not features:
        raise ValueError("write_arff needs a source that declares its labels and its features up front")
    sparse = bool(getattr(source, "sparse", False)) if sparse is None else sparse
    nominal = dict(getattr(source, "nominal", None) or {})
    if not typed:
        features = list(feature_kinds(source)) or features  # a nominal attribute's indicators, as numbers
        nominal = {}
    label_index = {name: i for i, name in enumerate(labels)}
    columns = _Columns(features, len(labels), nominal)
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
        for feature in features:
            values = nominal.get(feature)
            kind = "numeric" if values is None else "{" + ",".join(arff_name(v) for v in values) + "}"
            out.write(f"@attribute {arff_name(feature)} {kind}\n")
        out.write("@data\n")
        for record in source:
            if limit is not None and written >= limit:
                break
            where = f"record {written + 1}"
            columns.check(record.x, where)
            if record.y is not None and not record.y <= label_index.keys():
                raise ValueError(f"{where}: label {sorted(record.y - label_index.keys())[0]!r} is not declared")
            out.write(_sparse_row(record, label_index, columns, where) if sparse
                      else _dense_row(record, labels, len(features), columns, where))
            written += 1
    return written


def _label_texts(record, labels: list) -> list:
    y = record.y
    return ["?"] * len(labels) if y is None else ["1" if label in y else "0" for label in labels]


def _dense_row(record, labels: list, n_features: int, columns: _Columns, where: str) -> str:
    values = columns.values(record.x, where)
    first = len(labels)
    return ",".join(_label_texts(record, labels) + [values.get(first + j, "0.0") for j in range(n_features)]) + "\n"


def _sparse_row(record, label_index: dict, columns: _Columns, where: str) -> str:
    if record.y is None:
        items = [(i, "?") for i in label_index.values()]
    else:
        items = [(label_index[label], "1") for label in record.y]
    first_value = columns.first_value
    for column, text in columns.values(record.x, where).items():
        # a sparse row leaves out a number's zeros and a nominal attribute's first value
        if text != first_value.get(column, "0.0"):
            items.append((column, text))
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
