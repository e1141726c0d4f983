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

What a record may hold is checked in one place, :func:`check_record`: feature values are finite
numbers within ``±MAX_ABS_VALUE`` (larger ones overflow the models' sums of squares), label and
feature names are valid text. Every reader and the Kafka decoder call it, so a record a model
cannot digest is bad input, located like any other. Files are read by :class:`TextLines`, which
decodes each line on its own: a bad byte is reported on its own line, and a damaged gzip stream
becomes a :class:`RecordError` too.

"""

from __future__ import annotations

import gzip
import io
import math
import numbers
import os
import re
import typing
import zlib

__all__ = [
    "Record",
    "RecordError",
    "ErrorLog",
    "Source",
    "Sink",
    "TextLines",
    "open_text",
    "finite_float",
    "value_problem",
    "name_problem",
    "check_values",
    "check_record",
    "MAX_ABS_VALUE",
    "ON_ERROR_MODES",
    "NOMINAL",
    "NUMERIC",
    "FEATURE_KINDS",
    "nominal_encoding",
    "two_valued",
    "feature_kinds",
]

ON_ERROR_MODES = ("raise", "skip")

# The largest feature magnitude a record may hold. The models keep sums of squares of values over
# many records (variances, split statistics, kNN distances); values up to 1e100 keep those finite
# for more than 10^100 records, while values near 1e150 already overflow them (experiments/RESULTS.md,
# "Robustness"). No real stream comes near it: it rejects only values a model cannot digest.
MAX_ABS_VALUE = 1e100


class Record(typing.NamedTuple):
    """One stream element: features, relevant labels (or None) and provenance."""

    x: dict
    y: frozenset | None
    meta: dict


class RecordError(ValueError):
    """A record that cannot be read, with where it is and what is wrong.

    ``where`` is a file name or ``topic/partition``; ``position`` a line number or offset. A
    problem quoting a huge value is cut to ``MAX_PROBLEM_CHARS`` characters (it travels in logs,
    reports, checkpoints and dead-letter headers).
    """

    MAX_PROBLEM_CHARS = 1000

    def __init__(self, where: str, position: int | None, problem: str):
        if len(problem) > self.MAX_PROBLEM_CHARS:
            problem = problem[: self.MAX_PROBLEM_CHARS - 1] + "…"
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
    the source's :class:`ErrorLog`. A source whose header types its features may also have
    ``nominal``: the nominal feature attributes with their declared values (see
    :func:`feature_kinds`).
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


def _open_binary(path: str):
    """``path`` opened for reading bytes, through gzip when it starts with gzip's magic bytes."""
    with open(path, "rb") as probe:
        magic = probe.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def open_text(path: str | os.PathLike) -> io.TextIOBase:
    """Open a text file as one stream, decompressing gzip transparently (by magic bytes).

    For small files read whole (a label list); readers of records use :class:`TextLines`,
    whose errors name the line.

    >>> import tempfile, gzip, os
    >>> d = tempfile.mkdtemp()
    >>> p = os.path.join(d, "a.txt.gz")
    >>> with gzip.open(p, "wt") as f:
    ...     _ = f.write("hello\\n")
    >>> with open_text(p) as f:
    ...     f.read()
    'hello\\n'

    """
    return io.TextIOWrapper(_open_binary(os.fspath(path)), encoding="utf-8", errors="strict", newline="")


_LONE_CR = re.compile(r"(?<=\r)(?!\n)")  # the place after a \r that ends a line on its own
# what a damaged gzip stream raises while it is read: truncated (EOFError), corrupt deflate data
# (zlib.error), a bad header, checksum or length (gzip.BadGzipFile, an OSError)
_READ_ERRORS = (EOFError, zlib.error, OSError)


class TextLines:
    """The lines of a text file, each decoded as UTF-8 on its own; gzip is looked through.

    Iterating yields every line with its line end (``\\n``, ``\\r\\n`` or a lone ``\\r``, as
    ``open(path, newline="")`` splits them). ``line`` is the number of the last line yielded or
    rejected, so a reader names the exact line of a record (a text layer that decodes ahead in
    blocks cannot). A line that is not valid UTF-8 raises a :class:`RecordError` naming it, or,
    when ``on_bad_line`` is given (a reader's ``ErrorLog.handle``), goes to that callback and
    reading goes on with the next line. Damaged gzip data (cut short, corrupt, a bad checksum)
    raises a RecordError naming the line where reading stopped, in every mode: nothing after it
    can be read.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> with open(p, "wb") as f:
    ...     _ = f.write(b"one\\ncaf\\xe9\\r\\nthree")
    >>> log = ErrorLog("skip")
    >>> with TextLines(p, on_bad_line=log.handle) as lines:
    ...     [(lines.line, text) for text in lines]
    [(1, 'one\\n'), (3, 'three')]
    >>> log.samples
    ['...a.txt:2: not valid UTF-8 (byte 4 of the line)']

    """

    def __init__(self, path, on_bad_line: typing.Callable[[RecordError], None] | None = None):
        self.path = os.fspath(path)
        self.on_bad_line = on_bad_line
        self.line = 0
        self._file = _open_binary(self.path)

    def __iter__(self) -> typing.Iterator[str]:
        path = self.path
        try:
            for raw in self._file:
                self.line += 1
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as err:
                    error = RecordError(path, self.line, f"not valid UTF-8 (byte {err.start + 1} of the line)")
                    if self.on_bad_line is None:
                        raise error from None
                    self.on_bad_line(error)
                    continue
                if "\r" in text and _LONE_CR.search(text, 0, len(text) - 1) is not None:
                    pieces = [piece for piece in _LONE_CR.split(text) if piece]
                    self.line += len(pieces) - 1
                    first = self.line - len(pieces) + 1
                    for k, piece in enumerate(pieces):
                        self.line = first + k
                        yield piece
                    continue
                yield text
        except _READ_ERRORS as err:
            what = "damaged gzip data" if isinstance(self._file, gzip.GzipFile) else "read error"
            raise RecordError(path, self.line + 1, f"{what} ({type(err).__name__}: {err}): the file cannot be "
                                                   "read from this line on") from None

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "TextLines":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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


def value_problem(x: dict) -> str | None:
    """What makes a value of ``x`` unfit for a model, or None when every value is a finite number
    within ``±MAX_ABS_VALUE``.

    One C-level pass checks the whole record: its Euclidean norm (``math.hypot``, which neither
    overflows nor lets NaN through) bounds every value; only a record that fails it is walked
    value by value, to say which feature is wrong (or that the norm alone was large).

    >>> value_problem({"a": 1.5, 3: -2e99}) is None
    True
    >>> value_problem({"a": 1.5, "b": 1e308})
    "feature 'b' has value 1e+308, beyond ±1e+100 (the largest magnitude the models digest)"
    >>> value_problem({"a": float("nan")}), value_problem({"c": "7"})
    ("feature 'a' is not finite (nan)", "feature 'c' has value '7', expected a number")

    """
    try:
        if math.hypot(*x.values()) <= MAX_ABS_VALUE:
            return None
    except (TypeError, OverflowError):
        pass  # not all numbers, or an integer too large for a float: found below
    for name, value in x.items():
        if not isinstance(value, numbers.Real):
            return f"feature {name!r} has value {value!r}, expected a number"
        try:
            number = float(value)
        except OverflowError:  # an integer too large for a float
            return f"feature {name!r} has a value beyond ±{MAX_ABS_VALUE:g} (the largest magnitude the models digest)"
        if not math.isfinite(number):
            return f"feature {name!r} is not finite ({value!r})"
        if abs(number) > MAX_ABS_VALUE:
            return f"feature {name!r} has value {value!r}, beyond ±{MAX_ABS_VALUE:g} (the largest magnitude the models digest)"
    return None


def _valid_text(names) -> bool:
    """True when every str among ``names`` encodes as UTF-8 (no unpaired surrogate)."""
    try:
        joined = "".join(names)
    except TypeError:  # integer names among them
        joined = "".join(map(str, names))
    try:
        joined.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def name_problem(names, what: str) -> str | None:
    """What makes one of ``names`` (labels or features: str or int) unfit, or None.

    A name must be valid text: an unpaired surrogate (JSON's ``"\\ud800"``) cannot be written to
    a report, a topic or a file.

    >>> name_problem(["sports", 3], "label") is None
    True
    >>> print(name_problem(["ok", "\\ud800x"], "label"))
    label '\\ud800x' is not valid text (an unpaired surrogate)

    """
    if _valid_text(names):
        return None
    for name in names:
        if isinstance(name, str) and not _valid_text((name,)):
            return f"{what} {name!r} is not valid text (an unpaired surrogate)"
    return None


def check_values(x: dict, where: str, position) -> None:
    """Raise :class:`RecordError` at ``where:position`` when :func:`value_problem` finds one."""
    problem = value_problem(x)
    if problem is not None:
        raise RecordError(where, position, problem)


def check_record(x: dict, y, where: str, position) -> None:
    """The one check of what a record holds: its values (:func:`check_values`) and the text of
    its feature and label names. Readers whose names come from strictly decoded text (ARFF, CSV,
    XMC) need only the values.

    >>> check_record({"f": 1.0}, frozenset({"a", "\\udc80"}), "t/0", 9)
    Traceback (most recent call last):
    ...
    connectors.base.RecordError: t/0:9: label '\\udc80' is not valid text (an unpaired surrogate)

    """
    check_values(x, where, position)
    problem = name_problem(x, "feature")
    if problem is None and y:
        problem = name_problem(y, "label")
    if problem is not None:
        raise RecordError(where, position, problem)


# --------------------------------------------------------------------------- feature kinds

#: The kinds of feature a source may declare: a nominal feature's record entries are indicators
#: (0 or 1), a numeric one's any number.
NOMINAL, NUMERIC = "nominal", "numeric"
FEATURE_KINDS = (NOMINAL, NUMERIC)


def nominal_encoding(name: str, values: typing.Sequence[str]) -> dict:
    """How the values of a nominal attribute become a record's entries: value -> (key, number).

    A ``{0,1}`` attribute keeps its name and its value as a number; any other attribute of one or
    two values is a number as :func:`two_valued` says (1.0 for the yes of a yes/no pair, else
    0.0 / 1.0 for its first / second declared value); one of three or more values becomes an
    indicator per value, ``"name=value" -> 1.0`` (one-hot). Either way every entry is 0 or 1, and
    a zero is the same as an absent entry.

    >>> nominal_encoding("big", ("1", "0"))
    {'1': ('big', 1.0), '0': ('big', 0.0)}
    >>> nominal_encoding("sex", ("F", "M"))
    {'F': ('sex', 0.0), 'M': ('sex', 1.0)}
    >>> nominal_encoding("motif", ("YES", "NO"))
    {'YES': ('motif', 1.0), 'NO': ('motif', 0.0)}
    >>> nominal_encoding("colour", ("red", "green", "blue"))["green"]
    ('colour=green', 1.0)

    """
    if set(values) == {"0", "1"}:
        return {v: (name, float(v)) for v in values}
    if len(values) <= 2:
        return {v: (name, number) for v, number in two_valued(values).items()}
    return {v: (f"{name}={v}", 1.0) for v in values}


_YES_NO = ({"no", "yes"}, {"false", "true"}, {"f", "t"}, {"n", "y"})
_YES = {"yes", "true", "t", "y"}


def two_valued(values: typing.Sequence[str]) -> dict:
    """The numbers of a two-valued nominal's values: 1.0 for the yes of a yes/no pair
    (``{YES,NO}``, ``{true,false}``, ``{t,f}``, ``{y,n}``, any case and order), else 0.0 / 1.0 in
    declared order. Yes is 1.0 whatever the declared order: under sparse semantics a 0 is an
    absent feature, and a motif present must not be the absent one (Genbase declares
    ``{YES, NO}``).

    >>> two_valued(["YES", "NO"]), two_valued(["F", "M"])
    ({'YES': 1.0, 'NO': 0.0}, {'F': 0.0, 'M': 1.0})
    """
    lowered = [v.lower() for v in values]
    if set(lowered) in _YES_NO:
        return {v: 1.0 if low in _YES else 0.0 for v, low in zip(values, lowered)}
    return {v: float(k) for k, v in enumerate(values)}


def feature_kinds(source) -> dict:
    """The kind (:data:`NOMINAL` or :data:`NUMERIC`) of every record key ``source`` declares: the
    keys of its ``nominal`` attributes (:func:`nominal_encoding`) are nominal, its other
    ``features`` numeric. Empty for a source that declares no types (no ``nominal`` attribute):
    its features are whatever the learners make of them.

    >>> class Typed:
    ...     features = ["colour", "size"]
    ...     nominal = {"colour": ("red", "green", "blue")}
    >>> feature_kinds(Typed())
    {'colour=red': 'nominal', 'colour=green': 'nominal', 'colour=blue': 'nominal', 'size': 'numeric'}

    """
    nominal = getattr(source, "nominal", None)
    if nominal is None:
        return {}
    kinds = {}
    for name in getattr(source, "features", ()):
        if name in nominal:
            for key, _ in nominal_encoding(name, nominal[name]).values():
                kinds[key] = NOMINAL
        else:
            kinds[name] = NUMERIC
    return kinds
