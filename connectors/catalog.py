"""Find datasets in a folder, open a source from a short spec, and describe a stream.

A data folder may hold, in any mix (each file optionally gzipped):

- MULAN datasets: ``X.arff`` with ``X.xml``; a split ``X-train.arff`` + ``X-test.arff`` with
  ``X.xml`` (one dataset ``x``, train streamed first); ``X.orig.arff`` with ``X.xml``. The XML
  is matched by case-insensitive stem, also with a ``-sparse`` suffix of the ARFF removed
  (``Corel5k-sparse.arff`` pairs with ``Corel5k.xml``);
- MEKA datasets: ``X.arff`` without an XML (labels from ``-C n`` in its header);
- XMC text files ``X.txt`` / ``X.svm`` / ``X.xmc`` whose first line is ``N D L``.

Dataset names are the stems, lowercased.

>>> import os, tempfile
>>> from connectors.catalog import discover, open_source, describe
>>> d = tempfile.mkdtemp()
>>> for part, rows in (("train", "1,0,1\\n"), ("test", "0,1,0\\n2,0,1\\n")):
...     with open(os.path.join(d, f"Toy-{part}.arff"), "w") as f:
...         _ = f.write("@relation t\\n@attribute a numeric\\n@attribute p {0,1}\\n"
...                     "@attribute q {0,1}\\n@data\\n" + rows)
>>> with open(os.path.join(d, "toy.xml"), "w") as f:
...     _ = f.write('<labels><label name="p"/><label name="q"/></labels>')
>>> [(i.name, i.format, len(i.paths)) for i in discover(d)]
[('toy', 'mulan', 2)]
>>> stats = describe(open_source("toy", data_dir=d))
>>> stats["instances"], stats["labels"], stats["cardinality"], stats["distinct_labelsets"]
(3, 2, 1.0, 2)

"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import os
import typing
import zlib

from connectors.arff import ArffSource
from connectors.base import RecordError, open_text
from connectors.bundled import YeastSource
from connectors.tabular import CsvSource, JsonlSource
from connectors.xmc import XmcSource, read_xmc_header

__all__ = [
    "DatasetInfo",
    "SourceOptionError",
    "default_data_dir",
    "discover",
    "open_dataset",
    "describe",
    "open_source",
    "open_file",
    "register_scheme",
    "unregister_scheme",
]

DATA_DIR_VARIABLE = "STREAM_XML_DATA"
_XMC_EXTENSIONS = (".txt", ".svm", ".xmc")
_BUNDLED = {"yeast": YeastSource}
# schemes that come with stream-xml: name -> "module:function", imported on first use
_BUILTIN_SCHEMES = {"synth": "connectors.synthetic:open_synthetic"}
_SCHEMES: dict[str, typing.Callable] = {}


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """A dataset found on disk: ``format`` is ``"mulan"``, ``"meka"`` or ``"xmc"``."""

    name: str
    paths: tuple
    labels_xml: str | None
    format: str


def default_data_dir() -> str | None:
    """The data folder named by ``$STREAM_XML_DATA``, or None."""
    return os.environ.get(DATA_DIR_VARIABLE) or None


# --------------------------------------------------------------------------- discovery


def _split_name(filename: str) -> tuple[str, str]:
    """(stem, extension) with ``.gz`` ignored: ``"a.b.ARFF.gz"`` -> ``("a.b", ".arff")``."""
    base = filename[:-3] if filename.lower().endswith(".gz") else filename
    stem, ext = os.path.splitext(base)
    return stem, ext.lower()


def _arff_role(stem: str) -> tuple[str, str]:
    """(dataset stem, role): role is ``"train"``, ``"test"``, ``"orig"`` or ``"full"``."""
    lower = stem.lower()
    for suffix, role in (("-train", "train"), ("-test", "test"), (".orig", "orig")):
        if lower.endswith(suffix) and len(stem) > len(suffix):
            return stem[: -len(suffix)], role
    return stem, "full"


def _xml_for(stem: str, xmls: dict) -> str | None:
    """The label XML for an ARFF dataset stem, from ``xmls`` (lowercased stem -> path)."""
    lower = stem.lower()
    if lower in xmls:
        return xmls[lower]
    if lower.endswith("-sparse"):
        return xmls.get(lower[: -len("-sparse")])
    return None


def _is_xmc(path: str) -> bool:
    try:
        with open_text(path) as f:
            read_xmc_header(f.readline(256), path)  # a header is short: don't read a huge line
        return True
    except (RecordError, UnicodeDecodeError, OSError, EOFError, zlib.error):  # not text, or damaged gzip
        return False


def _discover_folder(folder: str, filenames: list[str]) -> list[DatasetInfo]:
    xmls, arffs, found = {}, {}, []
    for filename in sorted(filenames):
        path = os.path.join(folder, filename)
        stem, ext = _split_name(filename)
        if ext == ".xml":
            xmls[stem.lower()] = path
        elif ext == ".arff":
            base, role = _arff_role(stem)
            arffs.setdefault(base.lower(), {})[role] = (stem, path)
        elif ext in _XMC_EXTENSIONS and _is_xmc(path):
            found.append(DatasetInfo(stem.lower(), (path,), None, "xmc"))
    for key, roles in arffs.items():
        groups = []  # (name, stems used to find the xml, paths)
        if "full" in roles:
            groups.append((key, roles["full"][0], (roles["full"][1],)))
        if "orig" in roles:
            groups.append((key if "full" not in roles else key + ".orig", key, (roles["orig"][1],)))
        if "train" in roles and "test" in roles:
            taken = "full" in roles or "orig" in roles
            groups.append((key + "-split" if taken else key, key, (roles["train"][1], roles["test"][1])))
        else:
            for role in ("train", "test"):
                if role in roles:
                    groups.append((roles[role][0].lower(), key, (roles[role][1],)))
        for name, stem, paths in groups:
            xml = _xml_for(stem, xmls) or _xml_for(key, xmls)
            found.append(DatasetInfo(name, paths, xml, "mulan" if xml else "meka"))
    return found


def discover(data_dir) -> list[DatasetInfo]:
    """Every dataset in ``data_dir`` and its subfolders, sorted by name.

    A name found twice (in different subfolders) is qualified by its subfolder.
    """
    data_dir = os.fspath(data_dir)
    if not os.path.isdir(data_dir):
        raise ValueError(f"data folder {data_dir!r} does not exist")
    by_name: dict[str, DatasetInfo] = {}
    for folder, dirs, filenames in os.walk(data_dir):
        dirs.sort()
        for info in _discover_folder(folder, filenames):
            if info.name in by_name:
                qualified = os.path.relpath(folder, data_dir).replace(os.sep, "/") + "/" + info.name
                info = dataclasses.replace(info, name=qualified)
            by_name[info.name] = info
    return sorted(by_name.values(), key=lambda i: i.name)


def _find(name: str, data_dir) -> DatasetInfo:
    data_dir = data_dir if data_dir is not None else default_data_dir()
    if data_dir is None:
        raise ValueError(f"no data folder to look for {name!r} in: pass data_dir or set ${DATA_DIR_VARIABLE}")
    infos = discover(data_dir)
    for info in infos:
        if info.name == name.lower():
            return info
    raise ValueError(f"no dataset {name!r} in {data_dir}; available: {', '.join(i.name for i in infos)}")


def open_dataset(info_or_name, data_dir=None, on_error: str = "raise"):
    """Open a dataset found by :func:`discover` (or given by name) as a source."""
    info = info_or_name if isinstance(info_or_name, DatasetInfo) else _find(info_or_name, data_dir)
    if info.format == "xmc":
        return XmcSource(info.paths[0], on_error=on_error, name=info.name)
    return ArffSource(list(info.paths), labels_xml=info.labels_xml, on_error=on_error, name=info.name)


# --------------------------------------------------------------------------- statistics


def describe(source) -> dict:
    """Stream ``source`` once and return its shape and label statistics.

    ``features`` and ``labels`` count what the source declares (ARFF attributes before
    one-hot encoding), or what the stream shows when it declares nothing. Cardinality,
    density and the label-set counts are over labelled records (``y`` not None).
    """
    instances = unlabelled = positives = empty = 0
    labelsets: set = set()
    seen_labels: set = set()
    seen_features: set = set()
    count_features = not source.features
    for record in source:
        instances += 1
        if count_features:
            seen_features.update(record.x)
        if record.y is None:
            unlabelled += 1
            continue
        positives += len(record.y)
        empty += not record.y
        labelsets.add(record.y)
        seen_labels.update(record.y)
    labelled = instances - unlabelled
    n_labels = len(source.labels) if source.labels else len(seen_labels)
    cardinality = positives / labelled if labelled else 0.0
    return {
        "name": source.name,
        "instances": instances,
        "features": len(seen_features) if count_features else len(source.features),
        "labels": n_labels,
        "cardinality": cardinality,
        "density": cardinality / n_labels if n_labels else 0.0,
        "empty_labelsets": empty,
        "distinct_labelsets": len(labelsets),
        "unlabelled": unlabelled,
        "skipped": source.errors.count,
    }


# --------------------------------------------------------------------------- specs


def register_scheme(scheme: str, factory: typing.Callable) -> None:
    """Make ``open_source("<scheme>:<rest>", ...)`` call ``factory(rest, on_error=..., **options)``.

    >>> from connectors.catalog import register_scheme, unregister_scheme, open_source
    >>> register_scheme("demo", lambda rest, on_error, **options: (rest, on_error, options))
    >>> open_source("demo:n=3", on_error="skip", seed=1)
    ('n=3', 'skip', {'seed': 1})
    >>> unregister_scheme("demo")

    """
    if not scheme.isidentifier():
        raise ValueError(f"scheme must be a plain word, got {scheme!r}")
    _SCHEMES[scheme.lower()] = factory


def _scheme(scheme: str) -> typing.Callable | None:
    """The factory of a registered or built-in scheme, None for another word."""
    factory = _SCHEMES.get(scheme)
    if factory is None and scheme in _BUILTIN_SCHEMES:
        module, name = _BUILTIN_SCHEMES[scheme].split(":")
        factory = getattr(importlib.import_module(module), name)
    return factory


def unregister_scheme(scheme: str) -> None:
    """Forget a scheme registered with :func:`register_scheme`."""
    _SCHEMES.pop(scheme.lower(), None)


class SourceOptionError(TypeError, ValueError):
    """Reader options that do not fit the source (a TypeError, as for a wrong keyword, and a
    ValueError, as for a wrong value). The message names the options as the API spells them;
    :meth:`render` spells them another way (a command line's flags).

    >>> err = SourceOptionError("{label_column} needs {label_separator}", "label_column", "label_separator")
    >>> str(err)
    'label_column needs label_separator'
    >>> err.render({"label_column": "--label-column", "label_separator": "--label-separator"})
    '--label-column needs --label-separator'

    """

    def __init__(self, template: str, *options: str, **fields):
        self.template, self.options, self.fields = template, options, fields
        super().__init__(self.render({}))

    def render(self, spelling: dict) -> str:
        """The message with each option spelled as ``spelling`` says (its own name otherwise)."""
        names = {o: spelling.get(o, o) for o in self.options}
        return self.template.format(**names, **self.fields)


def _no_options(options: dict, what: str) -> None:
    if options:
        names = sorted(options)
        raise SourceOptionError("options [" + ", ".join("'{%s}'" % n for n in names) + "] do not apply to {what}",
                                *names, what=what)


def open_file(path, on_error: str = "raise", **options):
    """Open a file with the reader its extension calls for (``.gz`` is looked through).

    ``.arff``: :class:`ArffSource`, with the label XML next to it found as :func:`discover`
    would (unless ``labels_xml`` or ``label_count`` is given); ``.csv``: :class:`CsvSource`
    (needs ``label_columns``, or ``label_column`` and ``label_separator``); ``.jsonl`` /
    ``.json``: :class:`JsonlSource`; ``.txt`` / ``.svm`` / ``.xmc``: :class:`XmcSource`.
    """
    path = os.fspath(path)
    stem, ext = _split_name(os.path.basename(path))
    if ext == ".arff":
        labels_xml = options.pop("labels_xml", None)
        label_count = options.pop("label_count", None)
        _no_options(options, "ARFF files")
        if labels_xml is None and label_count is None:
            folder = os.path.dirname(path) or "."
            xmls = {}
            for filename in os.listdir(folder):
                xml_stem, xml_ext = _split_name(filename)
                if xml_ext == ".xml":
                    xmls[xml_stem.lower()] = os.path.join(folder, filename)
            labels_xml = _xml_for(stem, xmls) or _xml_for(_arff_role(stem)[0], xmls)
        source = ArffSource(path, labels_xml=labels_xml, label_count=label_count, on_error=on_error)
        from connectors.arff_writer import read_change_points

        # a stream written by `stream-xml generate` keeps its true change points in the header
        source.change_points = read_change_points(path)
        return source
    if ext == ".csv":
        label_columns = options.pop("label_columns", None)
        label_column = options.pop("label_column", None)
        label_separator = options.pop("label_separator", None)
        delimiter = options.pop("delimiter", ",")
        _no_options(options, "CSV files")
        if (label_columns is None) == (label_column is None):
            raise SourceOptionError("a CSV source needs {label_columns}, or {label_column} with {label_separator}",
                                    "label_columns", "label_column", "label_separator")
        if label_column is not None and label_separator is None:
            raise SourceOptionError("{label_column} needs {label_separator} (or pass {label_columns})",
                                    "label_column", "label_separator", "label_columns")
        return CsvSource(path, label_columns if label_columns is not None else label_column, delimiter=delimiter,
                         label_separator=label_separator, on_error=on_error)
    if ext in (".jsonl", ".json"):
        _no_options(options, "JSON-lines files")
        return JsonlSource(path, on_error=on_error)
    if ext in _XMC_EXTENSIONS:
        _no_options(options, "XMC files")
        return XmcSource(path, on_error=on_error)
    raise ValueError(f"no reader for {path!r}: expected .arff, .csv, .jsonl/.json or .txt/.svm/.xmc (optionally .gz)")


def _looks_like_a_path(spec: str) -> bool:
    """A spec that names a file (a folder in it, or a reader's extension) rather than a dataset."""
    return os.sep in spec or "/" in spec or _split_name(spec)[1] in (".arff", ".csv", ".jsonl", ".json", *_XMC_EXTENSIONS)


def open_source(spec: str, data_dir=None, on_error: str = "raise", **options):
    """Open a source from a short spec.

    In order: ``"<scheme>:<rest>"`` for a registered scheme (see :func:`register_scheme`);
    a bundled dataset (``"yeast"``: river's copy, see :class:`YeastSource`); the path of an
    existing file (see :func:`open_file`); the name of a dataset found by :func:`discover` in
    ``data_dir`` (default ``$STREAM_XML_DATA``), case-insensitive. A spec that looks like a path
    (a folder separator or a reader's extension) and names no file raises FileNotFoundError.
    """
    scheme, colon, rest = spec.partition(":")
    factory = _scheme(scheme.lower()) if colon else None
    if factory is not None:
        return factory(rest, on_error=on_error, **options)
    if spec.lower() in _BUNDLED:
        _no_options(options, f"the bundled dataset {spec!r}")
        return _BUNDLED[spec.lower()]()
    if os.path.isfile(spec):
        return open_file(spec, on_error=on_error, **options)
    data_dir = data_dir if data_dir is not None else default_data_dir()
    names: list[str] = []
    if data_dir is not None and os.path.isdir(data_dir):
        for info in discover(data_dir):
            if info.name == spec.lower():
                _no_options(options, f"the dataset {info.name!r}")
                return open_dataset(info, on_error=on_error)
            names.append(info.name)
    if _looks_like_a_path(spec):
        raise FileNotFoundError(f"file not found: {spec!r}")
    folder = f"datasets in {data_dir}: {', '.join(names) or 'none'}" if data_dir else f"no data folder (${DATA_DIR_VARIABLE} unset)"
    close = difflib.get_close_matches(spec.lower(), [*_BUNDLED, *names], n=1)
    raise ValueError(
        f"unknown source {spec!r}{f' (did you mean {close[0]!r}?)' if close else ''}. Available: bundled {sorted(_BUNDLED)}; "
        f"schemes {sorted(s + ':' for s in {**_BUILTIN_SCHEMES, **_SCHEMES})};"
        f" {folder}; or the path of an .arff, .csv, .jsonl or .txt/.svm/.xmc file"
    )
