"""``stream-xml evaluate``: prequential evaluation of one or more models on one stream, with a report."""

from __future__ import annotations

import argparse
import sys
import time

from stream_xml.cli.options import add_source_options, source_options, split_params

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> None:
    ev = subparsers.add_parser("evaluate", help="prequential (test-then-train) evaluation with a report")
    add_source_options(ev)
    ev.add_argument("--model", action="append", required=True,
                    help="model name (repeat to compare models on the same stream); see `stream-xml models`")
    ev.add_argument("--param", action="append", default=[],
                    help="model parameter key=value; 'MODEL:key=value' targets one model, plain "
                         "key=value every model given; 'tree__key=value' a sub-learner's")
    ev.add_argument("--seed", type=int, default=0, help="seed for every model that takes one")
    ev.add_argument("--out", required=True, help="report folder (report.json, series.csv, report.html)")
    ev.add_argument("--window", type=int, default=1000, help="rolling window of the windowed metrics")
    ev.add_argument("--fading", type=float, default=None, help="fading factor for faded metrics (e.g. 0.999)")
    ev.add_argument("--every", type=int, default=None, help="sample the series every N records (default: adaptive)")
    ev.add_argument("--limit", type=int, default=None, help="stop after N records")
    ev.add_argument("--zero-division", type=float, default=0.0, choices=(0.0, 1.0),
                    help="value of an F1/precision/recall whose denominator is 0")
    ev.add_argument("--no-progress", action="store_true", help="no progress bar")
    ev.set_defaults(func=run)


def _estimate_every(source) -> int:
    n = getattr(source, "n_records", None)
    if n:
        return max(10, n // 300)
    return 100


def run(args: argparse.Namespace) -> int:
    from connectors.catalog import open_source
    from stream_xml.evaluation.prequential import evaluate
    from stream_xml.evaluation.report import write_report
    from stream_xml.models import make_model

    names = list(dict.fromkeys(args.model))
    params = split_params(args.param, names)
    models = {name: make_model(name, params[name], seed=args.seed) for name in names}
    source = open_source(args.source, data_dir=args.data_dir, on_error=args.on_error, **source_options(args))
    every = args.every or _estimate_every(source)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    result = evaluate(
        source, models, limit=args.limit, progress=not args.no_progress,
        window=args.window, fading=args.fading, every=every, zero_division=args.zero_division,
    )
    config = {
        "command": "evaluate",
        "started": started,
        "source": args.source,
        "models": {name: {"name": name, "params": params[name], "repr": repr(models[name])} for name in names},
        "seed": args.seed,
        "window": args.window,
        "fading": args.fading,
        "every": every,
        "limit": args.limit,
        "on_error": args.on_error,
        "zero_division": args.zero_division,
    }
    paths = write_report(result, args.out, config=config)
    print_summary(result)
    print("report: " + ", ".join(paths), file=sys.stderr)
    errors = (result.get("source") or {}).get("errors") or {}
    if errors.get("skipped"):
        print(f"skipped {errors['skipped']} bad records; first: {errors['samples'][:3]}", file=sys.stderr)
    return 130 if result.get("interrupted") else 0


def print_summary(result: dict) -> None:
    """The stream's shape and every model's main metrics and speed, as a table on stdout."""
    cols = ("subset_accuracy", "hamming_loss", "example_f1", "micro_f1", "macro_f1")
    s = result["stream"]
    print(f"{s['records']} records, {s['labels']} labels, cardinality {s['cardinality']:.3f}")
    print(f"{'model':<12}" + "".join(f"{c:>16}" for c in cols) + f"{'records/s':>12}")
    for name, m in result["models"].items():
        vals = "".join(f"{m['metrics'].get(c, float('nan')):>16.4f}" for c in cols)
        print(f"{name:<12}{vals}{m['records_per_s']:>12.1f}")
