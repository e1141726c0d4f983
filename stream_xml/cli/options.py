"""Options several commands share: where records come from, and how ``--param`` reaches models.

>>> split_params(["grace_period=50", "ihomer:mode=routing"], ["ihomer", "mlhat"])
{'ihomer': {'grace_period': 50, 'mode': 'routing'}, 'mlhat': {'grace_period': 50}}

"""

from __future__ import annotations

import argparse

from stream_xml.models import parse_params

__all__ = ["add_source_options", "source_options", "split_params"]


def add_source_options(p: argparse.ArgumentParser) -> None:
    """``--source`` and the options that say how to read it."""
    p.add_argument("--source", required=True,
                   help="'yeast' (river's bundled copy), a file (.arff[.gz], .csv, .jsonl, XMC .txt/.svm), "
                        "'synth:PRESET?k=v&...', or the name of a dataset in the data directory")
    p.add_argument("--data-dir", default=None, help="datasets folder (default: $STREAM_XML_DATA)")
    p.add_argument("--labels-xml", default=None, help="MULAN label file for an ARFF source")
    p.add_argument("--label-count", type=int, default=None, help="MEKA: labels are the first n (n<0: last |n|) attributes")
    p.add_argument("--label-columns", default=None, help="CSV: comma-separated 0/1 label columns")
    p.add_argument("--label-column", default=None, help="CSV: one column listing the relevant labels")
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
        options["label_columns"] = [args.label_column]
    if args.label_separator:
        options["label_separator"] = args.label_separator
    return options


def split_params(items, model_names) -> dict:
    """Route ``--param`` values: ``MODEL:key=value`` to one model, ``key=value`` to all."""
    routed = {m: [] for m in model_names}
    for item in items:
        head, sep, rest = item.partition(":")
        if sep and "=" not in head:
            if head not in routed:
                raise ValueError(f"--param {item!r} names model {head!r}, which is not among --model {model_names}")
            routed[head].append(rest)
        else:
            for m in routed:
                routed[m].append(item)
    return {m: parse_params(v) for m, v in routed.items()}
