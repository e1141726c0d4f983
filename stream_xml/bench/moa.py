"""Run MOA's multi-label learners in a subprocess and score their predictions with our metrics.

MOA (Java) is the reference for stream multi-label learning, so the benchmarks run it beside
our own models on the same ARFF files. MOA's jar ships inside the ``capymoa`` wheel; we never
install capymoa (it pulls heavy dependencies), we only pip-download the wheel and extract the
jar (``python -m stream_xml.bench.moa fetch``, or ``make moa``).

A run is one ``moa.DoTask`` prequential evaluation (test on a record, then train on it) with
``-o``, which dumps MOA's prediction for every record. MOA's own measures have bugs, so we
ignore them: :func:`parse_predictions` reads the dump and :func:`score_moa` scores it with
:class:`stream_xml.evaluation.metrics.MultiLabelMetrics`. We keep MOA's timing (its
``evaluation time (cpu seconds)``: learning and prediction, without the JVM start) and the
subprocess's wall time and peak memory.

The dump has a line per record, ``<prediction>,<true value of the first label>``. The
prediction is ``null`` or empty before there is a model, else ``Out 0: v0 v1 Out 1: ...``
with, for each output, the votes for value 0 and value 1 of that label. MOA prints at most
two votes, rounded to 3 decimals: none (no vote), a single one (only value 0 seen so far:
the vote for 0) or both. A missing vote counts 0 and a label is predicted relevant iff its
vote for 1 beats its vote for 0 (MOA's own rule).

>>> lines = ["null,0.0", "Out 0: 0.2 0.8 Out 1: 1.0 Out 2: ,1.0", "Out 0: 0.6 0.4 Out 1: 0.0 2.0 Out 2: 1 1 ,0.0"]
>>> parse_predictions(lines, n_labels=3)
[(), (0,), (1,)]

"""

from __future__ import annotations

import dataclasses
import glob
import importlib.util
import itertools
import os
import re
import subprocess
import sys
import tempfile
import time
import typing
import zipfile

from stream_xml.bench.processes import peak_rss_bytes, wait_with_usage

__all__ = [
    "MoaUnavailable",
    "MoaError",
    "MoaLearner",
    "MoaRun",
    "MOA_LEARNERS",
    "find_moa_jar",
    "fetch_moa_jar",
    "write_moa_arff",
    "typing_of",
    "run_moa",
    "parse_predictions",
    "score_moa",
]

CAPYMOA_VERSION = "0.15.1"  # its wheel holds MOA 24.07
JAR_MEMBER = "capymoa/jar/moa.jar"
JAR_VARIABLE = "STREAM_XML_MOA_JAR"
HOW_TO_GET = "run `make moa` or `python -m stream_xml.bench.moa fetch`, or set $" + JAR_VARIABLE

_MULTI_TARGET = "EvaluatePrequentialMultiTarget"  # learners that are MultiTargetRegressors
_MULTI_LABEL = "EvaluatePrequentialMultiLabel"  # learners that are MultiLabelClassifiers
_CPU_COLUMN = "evaluation time (cpu seconds)"
_RECORDS_COLUMN = "learning evaluation instances"
#: With a time limit MOA reports its learning curve every this many records (it prints the last
#: row only at the end of the stream, which a stopped run never reaches).
CAPPED_REPORT_EVERY = 500


class MoaUnavailable(RuntimeError):
    """MOA's jar cannot be found (or fetched)."""


class MoaError(RuntimeError):
    """A MOA run failed, or its output cannot be read."""


class MoaLearner(typing.NamedTuple):
    """A MOA learner: its ``-l`` option, the ``DoTask`` task that accepts it, and what it is."""

    option: str
    task: str
    description: str


MOA_LEARNERS = {
    "moa-mlht": MoaLearner(
        "(multilabel.MultilabelHoeffdingTree -a multilabel.MajorityLabelset)", _MULTI_TARGET,
        "MOA's multi-label Hoeffding tree; in MOA 24.07 its leaves are MEKA's PSUpdateable (pruned"
        " sets over a WEKA Hoeffding tree) whatever -a says",
    ),
    "moa-cc": MoaLearner(
        "(multilabel.MEKAClassifier -l (meka.classifiers.multilabel.incremental.CCUpdateable"
        " -W weka.classifiers.trees.HoeffdingTree))", _MULTI_TARGET,
        "MEKA's updateable classifier chain of (WEKA) Hoeffding trees, run by MOA",
    ),
    "moa-br": MoaLearner(
        "(multitarget.BasicMultiLabelClassifier -l trees.HoeffdingTree)", _MULTI_LABEL,
        "binary relevance of MOA Hoeffding trees",
    ),
}


# --------------------------------------------------------------------------- the jar


def _cache_path() -> str:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(root, "stream-xml", f"moa-{CAPYMOA_VERSION}.jar")


def find_moa_jar(explicit=None) -> str:
    """The path of MOA's jar.

    Looked for in order: ``explicit``; ``$STREAM_XML_MOA_JAR``; the jar of an installed
    ``capymoa`` package (found without importing it); the cache file
    ``$XDG_CACHE_HOME/stream-xml/moa-<capymoa version>.jar`` (``~/.cache`` by default) that
    :func:`fetch_moa_jar` writes. A path given explicitly or by the variable must exist.
    Raises :class:`MoaUnavailable` when there is no jar.
    """
    for given, what in ((explicit, "the jar given"), (os.environ.get(JAR_VARIABLE), f"${JAR_VARIABLE}")):
        if given:
            if not os.path.isfile(given):
                raise MoaUnavailable(f"{what}, {os.fspath(given)!r}, is not a file; {HOW_TO_GET}")
            return os.fspath(given)
    spec = importlib.util.find_spec("capymoa")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        jar = os.path.join(folder, "jar", "moa.jar")
        if os.path.isfile(jar):
            return jar
    if os.path.isfile(_cache_path()):
        return _cache_path()
    raise MoaUnavailable(f"MOA's jar is not available; {HOW_TO_GET}")


def fetch_moa_jar(dest=None) -> str:
    """Download the capymoa wheel with pip, extract ``moa.jar`` to ``dest``; return ``dest``.

    ``dest`` defaults to the cache file :func:`find_moa_jar` looks for. Nothing happens when
    it exists already. The jar is written under a temporary name, then renamed.
    """
    dest = os.fspath(dest) if dest is not None else _cache_path()
    if os.path.isfile(dest):
        return dest
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "pip", "download", f"capymoa=={CAPYMOA_VERSION}",
                   "--no-deps", "--quiet", "-d", tmp]
        done = subprocess.run(command, capture_output=True, text=True)
        wheels = glob.glob(os.path.join(tmp, "*.whl"))
        if done.returncode != 0 or not wheels:
            raise MoaUnavailable(f"{' '.join(command)} failed (exit {done.returncode}): "
                                 f"{(done.stderr or done.stdout).strip()[-2000:]}")
        part = tempfile.NamedTemporaryFile(dir=os.path.dirname(os.path.abspath(dest)), prefix=".moa-",
                                           suffix=".part", delete=False)
        try:
            with part, zipfile.ZipFile(wheels[0]) as wheel, wheel.open(JAR_MEMBER) as jar:
                while chunk := jar.read(1 << 20):
                    part.write(chunk)
            os.chmod(part.name, 0o644)  # a temporary file is private
            os.replace(part.name, dest)
        except BaseException:
            os.unlink(part.name)
            raise
    return dest


# --------------------------------------------------------------------------- input


class RecordsOf:
    """``source``'s name, labels and features (and their declared types, ``nominal``, if it has
    them) with other records: ``records``, e.g. a list of its first ones (read as often as the
    list allows) or its records with a head already read.

    >>> from connectors.catalog import open_source
    >>> import itertools
    >>> yeast = open_source("yeast")
    >>> head = RecordsOf(yeast, list(itertools.islice(yeast, 3)))
    >>> head.name, len(head.labels), sum(1 for _ in head), sum(1 for _ in head)
    ('yeast', 14, 3, 3)

    """

    def __init__(self, source, records: typing.Iterable):
        self.name = getattr(source, "name", "stream")
        self.labels, self.features = source.labels, source.features
        if getattr(source, "nominal", None) is not None:
            self.nominal = source.nominal
        self.change_points = getattr(source, "change_points", None)
        if getattr(source, "sparse", None) is not None:
            self.sparse = source.sparse
        self._records = records

    def __iter__(self):
        return iter(self._records)


def write_moa_arff(source, path, sparse: bool | None = None, peek: int = 1000, typed: bool = True) -> int:
    """Write ``source`` as an ARFF file that MOA reads (labels first); return the record count.

    With ``typed`` (the default) the features keep the types the source declares: its nominal
    attributes (an ARFF file's ``{0,1}`` and other nominal ones) are written nominal, so MOA
    gives them its nominal observers, as it would reading the file itself; without, or for a
    source that declares no types, every feature is numeric (see :func:`typing_of`).

    Rows are sparse when ``sparse`` says so, else when the source's own ``sparse`` attribute
    does (if it has one), else when one of its first ``peek`` records lists fewer features
    than the source declares (sparse readers give only the non-zero ones); dense otherwise.
    The source is read once. Give MOA ``n_labels = len(source.labels)``.
    """
    from connectors.arff_writer import write_arff

    if os.fspath(path).endswith(".gz"):
        raise ValueError(f"{os.fspath(path)}: MOA reads no record from a gzipped ARFF")
    if sparse is None and getattr(source, "sparse", None) is not None:
        sparse = bool(source.sparse)
    if sparse is None:
        records = iter(source)
        head = list(itertools.islice(records, peek))
        n_features = len(source.features)
        sparse = any(len(record.x) < n_features for record in head)
        source = RecordsOf(source, itertools.chain(head, records))
    return write_arff(source, path, sparse=sparse, typed=typed)


def typing_of(source, typed: bool = True) -> str:
    """What :func:`write_moa_arff` tells MOA of the features' types, for a bench table.

    >>> class Arff:
    ...     features, nominal = ["a", "b", "c"], {"a": ("0", "1"), "b": ("x", "y", "z")}
    >>> typing_of(Arff()), typing_of(Arff(), typed=False)
    ('as declared: 2 nominal, 1 numeric', 'all numeric (declared: 2 nominal, 1 numeric)')
    >>> typing_of(RecordsOf.__new__(RecordsOf))
    'all numeric (the source declares no types)'

    """
    nominal = getattr(source, "nominal", None)
    if nominal is None:
        return "all numeric (the source declares no types)"
    features = getattr(source, "features", ())
    n_nominal = sum(1 for name in features if name in nominal)
    declared = f"{n_nominal} nominal, {len(features) - n_nominal} numeric"
    return f"as declared: {declared}" if typed else f"all numeric (declared: {declared})"


# --------------------------------------------------------------------------- output


def parse_predictions(lines: typing.Iterable[str], n_labels: int, where: str = "predictions") -> list[tuple]:
    """The predicted label ids (a sorted tuple per line) of a MOA prediction dump.

    Each line must be ``null``, empty or exactly ``n_labels`` outputs ``Out i:`` (in order,
    ``i`` from 0) with at most two numeric votes each, then ``,<number>``. Anything else
    raises :class:`MoaError` ``"<where>:<line>: <problem>"``.

    >>> parse_predictions(["Out 0: 1.0 0.0 Out 1: 0.0 1.0 ,0.0"], n_labels=2)
    [(1,)]
    >>> parse_predictions(["Out 0: 1.0 0.0 ,0.0"], n_labels=2, where="dump.txt")
    Traceback (most recent call last):
    ...
    stream_xml.bench.moa.MoaError: dump.txt:1: 1 outputs, expected 2

    """
    predictions = []
    for number, line in enumerate(lines, 1):
        prediction, comma, truth = line.rstrip("\r\n").rpartition(",")
        try:
            if not comma:
                raise ValueError("no ',<value>' at the end")
            float(truth)
        except ValueError:
            raise MoaError(f"{where}:{number}: not a MOA prediction line: {line.strip()[:80]!r}") from None
        prediction = prediction.strip()
        if prediction in ("", "null"):
            predictions.append(())
            continue
        parts = prediction.split("Out ")
        if parts[0].strip():
            raise MoaError(f"{where}:{number}: {parts[0].strip()[:40]!r} before the first 'Out'")
        relevant = []
        for i, part in enumerate(parts[1:]):
            index, colon, votes = part.partition(":")
            if not colon or index.strip() != str(i):
                problem = f"output {index.strip()[:20]!r}" if colon else f"no ':' after 'Out {part[:20]}'"
                raise MoaError(f"{where}:{number}: {problem}, expected output {i}")
            if i >= n_labels:
                raise MoaError(f"{where}:{number}: output {i} out of range 0..{n_labels - 1}")
            try:
                votes = [float(v) for v in votes.split()]
            except ValueError:
                raise MoaError(f"{where}:{number}: output {i}: votes {votes.strip()[:40]!r} are not numbers") from None
            if len(votes) > 2:
                raise MoaError(f"{where}:{number}: output {i}: {len(votes)} votes, expected at most 2")
            vote0, vote1 = (votes + [0.0, 0.0])[:2]  # a missing vote counts 0
            if vote1 > vote0:
                relevant.append(i)
        if len(parts) - 1 != n_labels:
            raise MoaError(f"{where}:{number}: {len(parts) - 1} outputs, expected {n_labels}")
        predictions.append(tuple(relevant))
    return predictions


def _last_csv_row(stdout: str) -> dict:
    """MOA's learning curve (a CSV on stdout): its header's names -> the last row's values."""
    header, row = None, None
    for line in stdout.splitlines():
        cells = line.split(",")
        if _CPU_COLUMN in cells:
            header, row = cells, None
        elif header and len(cells) == len(header):
            row = cells
    if row is None:
        return {}
    return dict(zip(header, row))


# --------------------------------------------------------------------------- running


@dataclasses.dataclass
class MoaRun:
    """What one MOA run gave.

    ``predictions`` holds the sorted predicted label ids of every record, in stream order
    (the first record's, before any model, is empty); ``cpu_seconds`` is MOA's own
    ``evaluation time (cpu seconds)`` (learning and prediction, without the JVM start);
    ``wall_seconds`` and ``peak_rss_bytes`` are the whole subprocess's. ``timed_records`` is how
    many records ``cpu_seconds`` covers: all of them, except after MOA's own time limit stopped
    the run, when MOA's last timing is that of its last report (every
    :data:`CAPPED_REPORT_EVERY` records), or, if it stopped before its first report, the CPU
    time of MOA's closing "Task completed" line over the records it predicted. ``curve`` is the
    last row of MOA's learning curve, its column names to the values as written (MOA's model
    measurements among them, e.g. ``"tree size (nodes)"``; empty if there was none).
    """

    predictions: list
    cpu_seconds: float
    wall_seconds: float
    peak_rss_bytes: int
    n_records: int
    command: list
    timed_records: int = 0
    curve: dict = dataclasses.field(default_factory=dict)

    @property
    def records_per_second(self) -> float:
        return self.timed_records / self.cpu_seconds if self.cpu_seconds > 0 else float("nan")


def _tail(path: str, chars: int = 2000) -> str:
    with open(path, errors="replace") as f:
        text = f.read()
    lines = [line.rsplit("\r", 1)[-1] for line in text.split("\n")]  # the last redraw of a progress bar
    return "\n".join(line for line in lines if line.strip())[-chars:]


def _plain_path(path) -> str:
    path = os.path.abspath(os.fspath(path))
    if any(c.isspace() or c in "()\"'" for c in path):
        raise ValueError(f"{path}: MOA's option parser cannot take a path with spaces, quotes or parentheses")
    return path


def run_moa(
    learner, arff_path, n_labels: int, jar=None, java: str = "java", max_heap: str = "4g",
    timeout: float | None = None, max_seconds: int | None = None,
) -> MoaRun:
    """Run a prequential MOA evaluation of ``learner`` on ``arff_path`` (labels first).

    Parameters
    ----------
    learner
        A name of :data:`MOA_LEARNERS`, a :class:`MoaLearner`, or a ``-l`` option string for
        ``EvaluatePrequentialMultiTarget`` such as ``"(multilabel.MultilabelHoeffdingTree)"``.
    arff_path
        An uncompressed ARFF file whose first ``n_labels`` attributes are the labels
        (:func:`write_moa_arff` writes one).
    n_labels
        The number of labels.
    jar
        MOA's jar (default: :func:`find_moa_jar`).
    java, max_heap
        The Java command and its maximum heap (``-Xmx``).
    timeout
        Seconds after which MOA is killed (None: no limit).
    max_seconds
        MOA's own limit (``-t``) on the CPU seconds of its evaluation loop: MOA then stops
        early and the run covers the records it reached (None: the whole stream).

    A non-zero exit, a timeout, a missing learning curve or a dump that has not a line per
    record raises :class:`MoaError`, with the end of MOA's stderr (MOA exits 0 on many
    errors, e.g. a learner that the task does not accept).
    """
    if isinstance(learner, str):
        learner = MOA_LEARNERS.get(learner) or MoaLearner(learner, _MULTI_TARGET, learner)
    arff_path = _plain_path(arff_path)
    if arff_path.endswith(".gz"):
        raise ValueError(f"{arff_path}: MOA reads no record from a gzipped ARFF (and says nothing)")
    if not os.path.isfile(arff_path):
        raise FileNotFoundError(arff_path)
    jar = find_moa_jar(jar)
    with tempfile.TemporaryDirectory(prefix="moa-") as tmp:
        dump = _plain_path(os.path.join(tmp, "predictions.txt"))
        task = (f"{learner.task} -l {learner.option}"
                f" -s (MultiTargetArffFileStream -f {arff_path} -c {int(n_labels)})"
                f" -e BasicMultiLabelPerformanceEvaluator -i -1 -o {dump}"
                + (f" -f {CAPPED_REPORT_EVERY} -t {max(1, int(max_seconds))}" if max_seconds is not None
                   else " -f 1000000000"))
        command = [java, f"-Xmx{max_heap}", "-cp", jar, "moa.DoTask", task]
        out_path, err_path = os.path.join(tmp, "stdout"), os.path.join(tmp, "stderr")
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            start = time.perf_counter()
            try:
                proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
            except FileNotFoundError:
                raise MoaUnavailable(f"{java!r} not found: MOA needs Java (17 or later)") from None
            status, usage, timed_out = wait_with_usage(proc, timeout)
            wall = time.perf_counter() - start

        def failure(problem: str) -> MoaError:
            return MoaError(f"{problem}: {' '.join(command)}\nMOA's stderr ends with:\n{_tail(err_path)}")

        if timed_out:
            raise failure(f"MOA did not finish in {timeout} s")
        if status != 0:
            raise failure(f"MOA exited with status {status}")
        with open(out_path, errors="replace") as f:
            row = _last_csv_row(f.read())
        try:
            cpu_seconds, n_records = float(row[_CPU_COLUMN]), int(float(row[_RECORDS_COLUMN]))
        except (KeyError, ValueError):
            # a run the time limit stopped before its first report still has MOA's closing line
            with open(err_path, errors="replace") as f:
                cpu_seconds, n_records = task_cpu_seconds(f.read()), None
            if max_seconds is None or cpu_seconds is None:
                raise failure("MOA printed no learning curve") from None
        if not os.path.isfile(dump):
            raise failure(f"MOA wrote no prediction file {dump}")
        with open(dump) as f:
            predictions = parse_predictions(f, n_labels, where=dump)
        if learner.task == _MULTI_LABEL:
            predictions.insert(0, ())  # this task trains on the first record without testing it
        if n_records is None:
            n_records = len(predictions)  # what it predicted is what it read
        timed_records = n_records
        if max_seconds is not None and len(predictions) >= n_records:
            n_records = len(predictions)  # stopped by the time limit after its last report
        if len(predictions) != n_records:
            raise failure(f"{dump} has predictions for {len(predictions)} records, MOA read {n_records}")
    return MoaRun(predictions, cpu_seconds, wall, peak_rss_bytes(usage), n_records, command, timed_records, row)


_TASK_CPU = re.compile(r"Task completed in ([0-9.]+)s \(CPU time\)")


def task_cpu_seconds(log: str) -> float | None:
    r"""The CPU seconds of MOA's closing "Task completed in 1.05s (CPU time)" line, if any.

    >>> task_cpu_seconds("[running] 13.87% Evaluating learner...\nTask completed in 1.05s (CPU time)\n")
    1.05
    >>> task_cpu_seconds("no such line") is None
    True
    """
    found = _TASK_CPU.findall(log)
    return float(found[-1]) if found else None


# --------------------------------------------------------------------------- scoring


def score_moa(run: MoaRun, truth: typing.Iterable, label_names: typing.Sequence[str]) -> dict:
    """Score ``run`` with :class:`~stream_xml.evaluation.metrics.MultiLabelMetrics`; return its ``get()``.

    ``truth`` gives, in stream order, the records (their ``y``) or the relevant label names
    of every record; ``label_names`` lists the labels in ARFF order (id = position).
    Unlabelled records (``y`` None) are not scored.
    """
    from stream_xml.evaluation.metrics import MultiLabelMetrics

    ids = {name: i for i, name in enumerate(label_names)}
    truth = list(truth)
    if len(truth) != len(run.predictions):
        raise ValueError(f"{len(truth)} true labelsets for the {len(run.predictions)} records MOA predicted")
    metrics = MultiLabelMetrics(window=None, ks=())
    for item, predicted in zip(truth, run.predictions):
        y = item.y if hasattr(item, "y") else item
        if y is not None:
            metrics.update([ids[name] for name in y], predicted, n_labels=len(ids))
    return metrics.get()


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m stream_xml.bench.moa", description="MOA's jar for the benchmarks")
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("fetch", help="download and cache MOA's jar (from the capymoa wheel), print its path")
    fetch.add_argument("--dest", help="where to write the jar (default: the cache)")
    args = parser.parse_args(argv)
    if args.command == "fetch":
        print(fetch_moa_jar(args.dest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
