"""Options several commands share: where records come from, which models run under which labels,
and how ``--param`` reaches them.

``--model`` takes a model name, or ``LABEL=NAME`` to run a variant under a label of its own;
``--param LABEL:key=value`` then reaches that one model, plain ``key=value`` every model:

>>> labels = model_labels(["ihomer", "routed=ihomer", "mlhat"])
>>> labels
{'ihomer': 'ihomer', 'routed': 'ihomer', 'mlhat': 'mlhat'}
>>> split_params(["grace_period=50", "routed:mode=routing"], labels)
{'ihomer': {'grace_period': 50}, 'routed': {'grace_period': 50, 'mode': 'routing'}, 'mlhat': {'grace_period': 50}}

"""

from __future__ import annotations

import argparse
import difflib
import os
import tempfile

from stream_xml.models import parse_params

__all__ = ["add_source_options", "source_options", "open_cli_source", "model_labels", "split_params",
           "check_out_dir", "HelpFormatter", "SOURCE_FLAGS"]

# reader option (as connectors.catalog names it) -> the flag that sets it
SOURCE_FLAGS = {
    "labels_xml": "--labels-xml",
    "label_count": "--label-count",
    "label_columns": "--label-columns",
    "label_column": "--label-column",
    "label_separator": "--label-separator",
}


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help with every option's default shown (unless it is None, off or empty, or
    the help text already says it)."""

    def _get_help_string(self, action) -> str:
        text = action.help or ""
        default = action.default
        if (default is None or default is False or default == [] or default == argparse.SUPPRESS or "default" in text
                or action.option_strings == [] or action.nargs == 0):
            return text
        return f"{text} (default: %(default)s)"


def add_source_options(p: argparse.ArgumentParser) -> None:
    """``--source`` and the options that say how to read it."""
    p.add_argument("--source", required=True,
                   help="'yeast' (river's bundled copy), a file (.arff[.gz], .csv, .jsonl, XMC .txt/.svm), "
                        "'synth:PRESET?k=v&...', or the name of a dataset in the data directory")
    p.add_argument("--data-dir", default=None, help="datasets folder (default: $STREAM_XML_DATA)")
    p.add_argument("--labels-xml", default=None, help="MULAN label file for an ARFF source")
    p.add_argument("--label-count", type=int, default=None, help="MEKA: labels are the first n (n<0: last |n|) attributes")
    p.add_argument("--label-columns", default=None, help="CSV: comma-separated 0/1 label columns")
    p.add_argument("--label-column", default=None,
                   help="CSV: one column listing the relevant labels (with --label-separator)")
    p.add_argument("--label-separator", default=None, help="CSV: separator inside --label-column (e.g. '|')")
    p.add_argument("--on-error", choices=("raise", "skip"), default="raise",
                   help="bad records: stop with an error naming file and line (raise) or skip and count them")


def source_options(args: argparse.Namespace) -> dict:
    """The reader options of :func:`add_source_options`, as ``open_source`` takes them."""
    options = {}
    if args.labels_xml:
        options["labels_xml"] = args.labels_xml
    if args.label_count is not None:
        options["label_count"] = args.label_count
    if args.label_columns:
        options["label_columns"] = [c.strip() for c in args.label_columns.split(",") if c.strip()]
    if args.label_column:
        options["label_column"] = args.label_column
    if args.label_separator:
        options["label_separator"] = args.label_separator
    return options


def open_cli_source(args: argparse.Namespace):
    """``open_source`` of the command's ``--source`` and reader options; its errors name the flags
    the user typed (``--labels-xml``, not ``labels_xml``) and a missing file as such."""
    from connectors.catalog import SourceOptionError, open_source

    try:
        return open_source(args.source, data_dir=args.data_dir, on_error=args.on_error, **source_options(args))
    except SourceOptionError as err:
        raise ValueError(err.render(SOURCE_FLAGS)) from None
    except FileNotFoundError as err:
        raise FileNotFoundError(f"--source: {err}") from None


def model_labels(items) -> dict:
    """``--model`` values -> {label: model name}: ``NAME`` runs under its own name, ``LABEL=NAME``
    under ``LABEL`` (several variants of one model side by side). A name given twice runs once; a
    label given to two models is an error, as is an unknown model name (with the closest names)."""
    from stream_xml.models import MODELS, unknown_model_message

    labels: dict = {}
    for item in items:
        label, sep, name = item.partition("=")
        label, name = (label.strip(), name.strip()) if sep else (item.strip(), item.strip())
        if not label or not name or any(c in label for c in ":=,") or label != label.strip():
            raise ValueError(f"--model {item!r}: expected NAME or LABEL=NAME (a label holds no ':', '=' or ',')")
        if name not in MODELS:
            raise ValueError(f"--model {item!r}: {unknown_model_message(name)}")
        if labels.get(label, name) != name:
            raise ValueError(f"--model {item!r}: the label {label!r} is already given to {labels[label]!r}")
        labels[label] = name
    return labels


def split_params(items, models) -> dict:
    """Route ``--param`` values: ``LABEL:key=value`` to one model, ``key=value`` to all
    (``models``: the model labels)."""
    routed = {m: [] for m in models}
    for item in items:
        head, sep, rest = item.partition(":")
        if sep and "=" not in head:
            if head not in routed:
                close = difflib.get_close_matches(head, list(routed), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError(f"--param {item!r} names model {head!r}{hint}, which is not among --model "
                                 f"{', '.join(routed)}")
            routed[head].append(rest)
        else:
            for m in routed:
                routed[m].append(item)
    return {m: parse_params(v) for m, v in routed.items()}


def check_out_dir(path: str, flag: str = "--out") -> str:
    """Make the report folder ``path`` now and check that files can be written in it, so that a
    bad ``--out`` fails before the first record rather than after the whole stream."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"{flag} {path}: exists and is not a folder")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:
        raise ValueError(f"{flag} {path}: cannot make the folder ({err.strerror or err})") from None
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as err:
        raise ValueError(f"{flag} {path}: cannot write there ({err.strerror or err})") from None
    return path
