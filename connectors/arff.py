"""Multi-label ARFF files (MULAN and MEKA) replayed as a stream of records.

An ARFF file holds features and labels together as attributes. Which attributes are labels
comes from a MULAN XML file (``<label name="..."/>`` elements) or, without one, from the
MEKA option ``-C n`` in the ``@relation`` name (``n > 0``: the first ``n`` attributes,
``n < 0``: the last ``|n|``). Rows are dense (``v1,v2,...``) or sparse (``{i v, j w}``,
0-based attribute indices, omitted attributes take their zero / first declared value).

Features are encoded as floats: numeric as written, a nominal ``{0,1}`` by value, a yes/no
nominal (``{YES,NO}``, ``{true,false}``, ``{t,f}``, ``{y,n}``, any case and order) as 1.0 for
yes and 0.0 for no, any other two-valued nominal as 0.0 / 1.0 for its first / second declared
value, and a nominal with three or more values one-hot as ``"attr=value" -> 1.0``. A ``?``
leaves the feature out. (Yes as 1.0 whatever the declared order: under sparse semantics a 0 is
an absent feature, and a motif present must not be the absent one; Genbase declares
``{YES, NO}``.)

>>> import os, tempfile
>>> from connectors.arff import ArffSource
>>> path = os.path.join(tempfile.mkdtemp(), "toy.arff")
>>> with open(path, "w") as f:
...     _ = f.write('''@relation 'toy: -C -2'
... @attribute colour {red, green, blue}
... @attribute size numeric
... @attribute big {0,1}
... @attribute round {0,1}
... @data
... green, 3.5, 1, 0
... {1 0.5, 3 1}
... ''')
>>> src = ArffSource(path)
>>> src.labels, src.features
(['big', 'round'], ['colour', 'size'])
>>> for record in src:
...     print(record.x, sorted(record.y), record.meta["line"])
{'size': 3.5, 'colour=green': 1.0} ['big'] 7
{'size': 0.5, 'colour=red': 1.0} ['round'] 8

"""

from __future__ import annotations

import os
import re
import typing
import xml.etree.ElementTree as ET

from connectors.base import ErrorLog, Record, RecordError, TextLines, check_values, finite_float, nominal_encoding

__all__ = ["ArffSource", "ArffHeader", "Attribute", "read_header", "read_label_names", "meka_label_count"]

MULAN_NAMESPACE = "http://mulan.sourceforge.net/labels"

_NUMERIC_TYPES = ("numeric", "real", "integer")
_UNSUPPORTED_TYPES = ("string", "date", "relational")
_QUOTES = "'\""
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}
_MEKA_OPTION = re.compile(r"(?:^|[\s:'\"])-C\s+(-?\d+)")

# How each attribute's value turns into x / y (see _RowDecoder).
_NUM, _MAP, _ONEHOT, _LABEL_NOMINAL, _LABEL_NUMERIC = range(5)
_IS_LABEL = (False, False, False, True, True)
_NUMERIC_FLAGS = {0.0: False, 1.0: True}


class Attribute(typing.NamedTuple):
    """One ``@attribute`` line: ``values`` is None for numeric attributes."""

    name: str
    values: tuple | None
    line: int
    written: str  # the name as written, without the quotes (escapes not decoded)


class ArffHeader(typing.NamedTuple):
    relation: str
    attributes: list
    data_line: int  # 1-based line number of the @data line


# --------------------------------------------------------------------------- tokenizing


def _read_quoted(text: str, start: int, where: str, line: int) -> tuple[str, int, str]:
    """Decode the quoted string opening at ``text[start]``: (value, index after it, raw inside)."""
    quote = text[start]
    out = []
    i, n = start + 1, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            nxt = text[i + 1]
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
        elif c == quote:
            return "".join(out), i + 1, text[start + 1 : i]
        else:
            out.append(c)
            i += 1
    raise RecordError(where, line, f"unterminated quote in {text[start:start + 40]!r}")


def _quoted_groups(text: str, where: str, line: int) -> list[list]:
    """Split ``text`` at commas outside quotes; each group is its whitespace-separated tokens.

    Quoted tokens are decoded; an unquoted ``?`` becomes None (a missing value).

    >>> _quoted_groups("1, 'a b', ?", "f", 1)
    [['1'], ['a b'], [None]]
    >>> _quoted_groups("0 'x,y',2 ?", "f", 1)
    [['0', 'x,y'], ['2', None]]

    """
    groups: list[list] = []
    tokens: list = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == ",":
            groups.append(tokens)
            tokens = []
            i += 1
        elif c in " \t":
            i += 1
        elif c in _QUOTES:
            value, i, _ = _read_quoted(text, i, where, line)
            tokens.append(value)
        else:
            j = i
            while j < n and text[j] not in ", \t'\"":
                j += 1
            token = text[i:j]
            tokens.append(None if token == "?" else token)
            i = j
    groups.append(tokens)
    return groups


# --------------------------------------------------------------------------- header


def _take_name(rest: str, where: str, line: int) -> tuple[str, str, str]:
    """Split an attribute declaration into (name, name as written, the rest)."""
    if rest[0] in _QUOTES:
        name, end, written = _read_quoted(rest, 0, where, line)
        return name, written, rest[end:]
    end = 0
    while end < len(rest) and not rest[end].isspace() and rest[end] != "{":
        end += 1
    return rest[:end], rest[:end], rest[end:]


def _parse_attribute(rest: str, where: str, line: int) -> Attribute:
    rest = rest.strip()
    if not rest:
        raise RecordError(where, line, "@attribute without a name")
    name, written, type_text = _take_name(rest, where, line)
    type_text = type_text.strip()
    if type_text.startswith("{"):
        if not type_text.endswith("}"):
            raise RecordError(where, line, f"unterminated brace in the values of attribute {name!r}")
        values = []
        for group in _quoted_groups(type_text[1:-1], where, line):
            if len(group) != 1 or group[0] is None:
                raise RecordError(where, line, f"bad nominal value list for attribute {name!r}: {type_text}")
            values.append(group[0])
        if len(set(values)) != len(values):
            raise RecordError(where, line, f"attribute {name!r} declares a nominal value twice")
        return Attribute(name, tuple(values), line, written)
    kind = type_text.split(None, 1)[0].lower() if type_text else ""
    if kind in _NUMERIC_TYPES:
        return Attribute(name, None, line, written)
    if kind in _UNSUPPORTED_TYPES:
        raise RecordError(where, line, f"attribute {name!r} has unsupported type {kind!r}")
    raise RecordError(where, line, f"attribute {name!r} has unknown type {type_text!r}")


def read_header(lines: typing.Iterable[str], where: str) -> ArffHeader:
    """Read an ARFF header up to and including its ``@data`` line.

    ``lines`` is consumed only that far, so a file object can go on to the data rows.

    >>> h = read_header(["% demo", "@RELATION 'r: -C 1'", "@attribute 'a b' {0,1}",
    ...                  "@attribute c REAL", "@data"], "demo.arff")
    >>> h.relation, [(a.name, a.values) for a in h.attributes], h.data_line
    ('r: -C 1', [('a b', ('0', '1')), ('c', None)], 5)

    """
    relation = ""
    attributes: list[Attribute] = []
    line = 0
    for line, raw in enumerate(lines, 1):
        text = raw.strip()
        if not text or text[0] == "%":
            continue
        keyword, _, rest = text.replace("\t", " ", 1).partition(" ")
        keyword = keyword.lower()
        if keyword == "@relation":
            rest = rest.strip()
            relation = _read_quoted(rest, 0, where, line)[0] if rest.startswith(tuple(_QUOTES)) else rest
        elif keyword == "@attribute":
            attributes.append(_parse_attribute(rest, where, line))
        elif keyword == "@data":
            if not attributes:
                raise RecordError(where, line, "@data before any @attribute")
            names = [a.name for a in attributes]
            if len(set(names)) != len(names):
                twice = sorted({n for n in names if names.count(n) > 1})
                raise RecordError(where, line, f"attribute names declared twice: {twice[:5]}")
            return ArffHeader(relation, attributes, line)
        else:
            raise RecordError(where, line, f"expected @relation, @attribute or @data, got {text[:40]!r}")
    raise RecordError(where, line or None, "no @data section")


# --------------------------------------------------------------------------- labels


def read_label_names(path: str | os.PathLike) -> list[str]:
    """Names of every MULAN ``<label name="..."/>`` element in an XML file, in document order.

    Nesting (label hierarchies) is flattened; elements may be in the MULAN namespace or in
    none.

    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "l.xml")
    >>> with open(p, "w") as f:
    ...     _ = f.write('<labels xmlns="http://mulan.sourceforge.net/labels">'
    ...                 '<label name="a"><label name="b"/></label><label name="c"/></labels>')
    >>> read_label_names(p)
    ['a', 'b', 'c']

    """
    where = os.fspath(path)
    tags = ("label", f"{{{MULAN_NAMESPACE}}}label")
    with TextLines(where) as lines:
        text = "".join(lines)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as err:
        raise RecordError(where, err.position[0], f"malformed label XML: {err}") from None
    names = []
    for element in root.iter():
        if element.tag in tags:
            name = element.get("name")
            if name is None:
                raise RecordError(where, None, "a <label> element has no name attribute")
            names.append(name)
    if not names:
        raise RecordError(where, None, "no <label> elements")
    if len(set(names)) != len(names):
        raise RecordError(where, None, "a label is listed twice")
    return names


def meka_label_count(relation: str) -> int | None:
    """The ``n`` of a MEKA ``-C n`` option in a relation name, or None.

    >>> meka_label_count("Reuters: -C 103 -split-number 3000"), meka_label_count("yeast")
    (103, None)
    >>> meka_label_count("LangLog: -C -75-weka.filters")
    -75

    """
    found = _MEKA_OPTION.search(relation)
    return int(found.group(1)) if found else None


def _label_indices(header: ArffHeader, where: str, labels_xml, label_count) -> list[int]:
    attrs = header.attributes
    if labels_xml is not None:
        by_name = {a.name: i for i, a in enumerate(attrs)}
        by_written = {a.written: i for i, a in enumerate(attrs)}
        indices = []
        for name in read_label_names(labels_xml):
            i = by_name.get(name, by_written.get(name))
            if i is None:
                raise RecordError(os.fspath(labels_xml), None, f"label {name!r} is not an attribute of {where}")
            indices.append(i)
        return sorted(indices)
    n = label_count if label_count is not None else meka_label_count(header.relation)
    if n is None:
        raise RecordError(
            where, None, "no labels: pass labels_xml (MULAN) or label_count, or put '-C n' in @relation (MEKA)"
        )
    if n == 0 or abs(n) > len(attrs):
        raise RecordError(where, None, f"label count {n} does not fit {len(attrs)} attributes")
    return list(range(n)) if n > 0 else list(range(len(attrs) + n, len(attrs)))


# --------------------------------------------------------------------------- rows


class _RowDecoder:
    """Turns data rows into (x, y), following a plan built once from the header."""

    def __init__(self, attributes: list[Attribute], label_indices: list[int], where: str):
        is_label = set(label_indices)
        self.n = len(attributes)
        self.n_labels = len(label_indices)
        self.names = [a.name for a in attributes]
        self.kinds, self.keys, self.tables = [], [], []
        self.sparse_defaults = []  # (index, key, value) of features whose omitted value is not 0
        self.label_defaults = []  # labels relevant when omitted from a sparse row
        for i, a in enumerate(attributes):
            kind, key, table = self._plan(a, i in is_label, where)
            self.kinds.append(kind)
            self.keys.append(key)
            self.tables.append(table)
            first = None if a.values is None else table[a.values[0]]
            if kind == _ONEHOT:
                self.sparse_defaults.append((i, first, 1.0))
            elif kind == _MAP and first != 0.0:
                self.sparse_defaults.append((i, key, first))
            elif kind == _LABEL_NOMINAL and first:
                self.label_defaults.append(key)
        self.num_idx = [i for i, k in enumerate(self.kinds) if k == _NUM]
        self.num_keys = [self.keys[i] for i in self.num_idx]
        self.other_idx = [i for i, k in enumerate(self.kinds) if k != _NUM]

    @staticmethod
    def _plan(a: Attribute, is_label: bool, where: str):
        if is_label:
            if a.values is None:
                return _LABEL_NUMERIC, a.name, None
            if set(a.values) != {"0", "1"}:
                raise RecordError(where, a.line, f"label attribute {a.name!r} must be {{0,1}}, is {set(a.values)}")
            return _LABEL_NOMINAL, a.name, {"0": False, "1": True}
        if a.values is None:
            return _NUM, a.name, None
        encoding = nominal_encoding(a.name, a.values)
        if len(a.values) <= 2:
            return _MAP, a.name, {v: number for v, (_, number) in encoding.items()}
        return _ONEHOT, None, {v: key for v, (key, _) in encoding.items()}

    def _put(self, i: int, v, x: dict, relevant: set, unknown: list, where: str, line: int) -> None:
        """Decode value ``v`` (str, or None if missing) of attribute ``i`` into x / relevant."""
        kind = self.kinds[i]
        if v is None:
            if _IS_LABEL[kind]:
                unknown.append(i)
            return
        if kind == _NUM:
            f = finite_float(v)
            if f is None:
                raise RecordError(where, line, f"value {v!r} of attribute {self.names[i]!r} is not a finite number")
            x[self.keys[i]] = f
            return
        if kind == _LABEL_NUMERIC:
            try:
                flag = _NUMERIC_FLAGS.get(float(v))
            except ValueError:
                flag = None
        else:
            flag = self.tables[i].get(v)
        if flag is None:
            if _IS_LABEL[kind]:
                raise RecordError(where, line, f"label {self.names[i]!r} has value {v!r}, expected 0 or 1")
            declared = ",".join(self.tables[i])
            raise RecordError(where, line, f"value {v!r} is not declared for attribute {self.names[i]!r} {{{declared}}}")
        if kind == _MAP:
            x[self.keys[i]] = flag
        elif kind == _ONEHOT:
            x[flag] = 1.0
        elif flag:
            relevant.add(self.keys[i])
        else:
            relevant.discard(self.keys[i])

    def _finish(self, x: dict, relevant: set, unknown: list, where: str, line: int):
        check_values(x, where, line)
        if unknown:
            if len(unknown) == self.n_labels:
                return x, None  # every label is '?': an unlabelled record
            missing = [self.names[i] for i in unknown]
            raise RecordError(where, line, f"labels {missing[:5]} are missing ('?') while others are given")
        return x, frozenset(relevant)

    def _exact(self, values: list, where: str, line: int):
        if len(values) != self.n:
            raise RecordError(where, line, f"expected {self.n} values, got {len(values)}")
        x: dict = {}
        relevant: set = set()
        unknown: list = []
        for i, v in enumerate(values):
            self._put(i, v, x, relevant, unknown, where, line)
        return self._finish(x, relevant, unknown, where, line)

    def dense(self, text: str, where: str, line: int):
        """Decode a dense row (``text`` stripped, not blank)."""
        if "'" in text or '"' in text:
            values = []
            for k, group in enumerate(_quoted_groups(text, where, line)):
                if len(group) > 1:
                    raise RecordError(where, line, f"value {k + 1} holds several tokens: {group[:3]}")
                values.append(group[0] if group else "")
            return self._exact(values, where, line)
        values = text.split(",")
        if " " in text or "\t" in text:
            values = [v.strip() for v in values]
        if len(values) != self.n:
            raise RecordError(where, line, f"expected {self.n} values, got {len(values)}")
        # Fast path: all numeric features in one C-level pass; anything odd ('?', a bad
        # number) falls through to the value-by-value path, which says what is wrong.
        try:
            numbers = list(map(float, [values[i] for i in self.num_idx]))
        except ValueError:
            return self._exact([None if v == "?" else v for v in values], where, line)
        x = dict(zip(self.num_keys, numbers))
        relevant: set = set()
        unknown: list = []
        for i in self.other_idx:
            v = values[i]
            self._put(i, None if v == "?" else v, x, relevant, unknown, where, line)
        return self._finish(x, relevant, unknown, where, line)

    def sparse(self, text: str, where: str, line: int):
        """Decode a sparse row ``{i v, j w, ...}`` (``text`` stripped, starts with ``{``)."""
        if not text.endswith("}"):
            raise RecordError(where, line, "unterminated brace in sparse row")
        body = text[1:-1]
        quoted = "'" in body or '"' in body
        if quoted:
            items = _quoted_groups(body, where, line)  # '?' already None, a quoted '?' is a value
        else:
            items = [item.split() for item in body.split(",")]
        if items == [[]]:
            items = []
        x: dict = {}
        relevant = set(self.label_defaults)
        unknown: list = []
        listed = [] if self.sparse_defaults else None
        kinds, keys, n = self.kinds, self.keys, self.n
        prev = -1
        for item in items:
            if len(item) != 2 or item[0] is None:
                raise RecordError(where, line, f"sparse entry {' '.join(map(str, item))!r} is not 'index value'")
            k, v = item
            try:
                i = int(k)
            except ValueError:
                raise RecordError(where, line, f"sparse index {k!r} is not an integer") from None
            if not 0 <= i < n:
                raise RecordError(where, line, f"sparse index {i} out of range 0..{n - 1}")
            if i <= prev:
                raise RecordError(where, line, f"sparse index {i} does not increase (after {prev})")
            prev = i
            if listed is not None:
                listed.append(i)
            if v == "?" and not quoted:
                v = None
            elif kinds[i] == _NUM and v is not None:
                try:
                    x[keys[i]] = float(v)
                    continue
                except ValueError:
                    pass  # _put says what is wrong
            self._put(i, v, x, relevant, unknown, where, line)
        if listed is not None:
            seen = set(listed)
            for i, key, value in self.sparse_defaults:
                if i not in seen:
                    x[key] = value
        return self._finish(x, relevant, unknown, where, line)


# --------------------------------------------------------------------------- source


def _first_difference(a: list[Attribute], b: list[Attribute]) -> int | None:
    """Index of the first attribute that differs between two headers, or None."""
    for i, (p, q) in enumerate(zip(a, b)):
        if p.name != q.name or p.values != q.values:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


class ArffSource:
    """Stream the rows of one or more ARFF files (read one after the other) as records.

    Parameters
    ----------
    paths
        A path or a list of paths (e.g. a train file then its test file). Every file must
        declare the same attributes. Gzip files are read transparently.
    labels_xml
        A MULAN label XML file. When given it decides the labels, whatever ``-C`` says.
    label_count
        MEKA ``-C n`` given by hand (overrides the header's; ignored if ``labels_xml``).
    on_error
        ``"raise"`` stops at the first bad row; ``"skip"`` skips and counts it in ``errors``.
        Header errors always raise.
    name
        The source name written into each record's meta (default: the first file's stem).

    Labels are listed in attribute order; ``features`` lists the feature attributes (before
    one-hot encoding), ``nominal`` maps the nominal ones to their declared values (what
    :func:`connectors.base.feature_kinds` makes the learners' declarations of) and
    ``n_attributes`` counts all attributes, labels included.

    """

    def __init__(self, paths, labels_xml=None, label_count: int | None = None, on_error: str = "raise", name=None):
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        self.paths = [os.fspath(p) for p in paths]
        if not self.paths:
            raise ValueError("ArffSource needs at least one path")
        self.labels_xml = None if labels_xml is None else os.fspath(labels_xml)
        self.label_count = label_count
        self.errors = ErrorLog(on_error)
        self.name = name if name is not None else _stem(self.paths[0])
        with TextLines(self.paths[0]) as lines:
            first = read_header(lines, self.paths[0])
        label_indices = _label_indices(first, self.paths[0], self.labels_xml, label_count)
        self._attributes = first.attributes
        self._decoder = _RowDecoder(first.attributes, label_indices, self.paths[0])
        for path in self.paths[1:]:
            with TextLines(path) as lines:
                self._checked_header(path, lines)  # fail now, not halfway through the stream
        self.relation = first.relation
        self.n_attributes = len(first.attributes)
        is_label = set(label_indices)
        self.labels = [a.name for i, a in enumerate(first.attributes) if i in is_label]
        self.features = [a.name for i, a in enumerate(first.attributes) if i not in is_label]
        self.nominal = {a.name: a.values for i, a in enumerate(first.attributes)
                        if i not in is_label and a.values is not None}

    def _checked_header(self, path: str, f) -> ArffHeader:
        """Read a header and check it declares the attributes of the first file."""
        header = read_header(f, path)
        i = _first_difference(self._attributes, header.attributes)
        if i is not None:
            line = header.attributes[i].line if i < len(header.attributes) else header.data_line
            raise RecordError(path, line, f"attribute {i + 1} differs from the one declared in {self.paths[0]}")
        return header

    def __iter__(self) -> typing.Iterator[Record]:
        errors = self.errors
        errors.count = 0
        errors.samples.clear()
        decoder = self._decoder
        for path in self.paths:
            with TextLines(path) as lines:
                self._checked_header(path, lines)
                lines.on_bad_line = errors.handle  # a bad byte in the header always raises; in a row, skips
                for raw in lines:
                    line = lines.line
                    text = raw.strip()
                    if not text or text[0] == "%":
                        continue
                    try:
                        if text[0] == "{":
                            x, y = decoder.sparse(text, path, line)
                        else:
                            x, y = decoder.dense(text, path, line)
                    except RecordError as err:
                        errors.handle(err)
                        continue
                    yield Record(x, y, {"source": self.name, "file": path, "line": line})

    def __repr__(self) -> str:
        return f"ArffSource({self.name!r}, {len(self.features)} features, {len(self.labels)} labels)"


def _stem(path: str) -> str:
    base = os.path.basename(path)
    for suffix in (".gz", ".arff"):
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)]
    return base
