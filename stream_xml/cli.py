"""The ``stream-xml`` command line.

``stream-xml evaluate``  prequential evaluation of one or more models on one stream, with a report
``stream-xml datasets``  the datasets found in the data directory, with their shapes
``stream-xml models``    the models known by name
``stream-xml generate``  write a synthetic drifting stream to an ARFF file
``stream-xml serve``     the prequential loop as a Kafka service (checkpointed, restartable)
``stream-xml produce``   replay a source into a Kafka topic

Run ``stream-xml COMMAND --help`` for the options of each.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

__all__ = ["main", "build_parser"]


def _add_source_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", required=True,
                   help="'yeast' (river's bundled copy), a file (.arff[.gz], .csv, .jsonl, XMC .txt/.svm), "
                        "or the name of a dataset in the data directory")
    p.add_argument("--data-dir", default=None, help="datasets folder (default: $STREAM_XML_DATA)")
    p.add_argument("--labels-xml", default=None, help="MULAN label file for an ARFF source")
    p.add_argument("--label-count", type=int, default=None, help="MEKA: labels are the first n (n<0: last |n|) attributes")
    p.add_argument("--label-columns", default=None, help="CSV: comma-separated 0/1 label columns")
    p.add_argument("--label-column", default=None, help="CSV: one column listing the relevant labels")
    p.add_argument("--label-separator", default=None, help="CSV: separator inside --label-column (e.g. '|')")
    p.add_argument("--on-error", choices=("raise", "skip"), default="raise",
                   help="bad records: stop with an error naming file and line (raise) or skip and count them")


def _source_options(args) -> dict:
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stream-xml", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    ev = sub.add_parser("evaluate", help="prequential (test-then-train) evaluation with a report")
    _add_source_options(ev)
    ev.add_argument("--model", action="append", required=True,
                    help="model name (repeat to compare models on the same stream); see `stream-xml models`")
    ev.add_argument("--param", action="append", default=[],
                    help="model parameter key=value; 'MODEL:key=value' targets one model, plain "
                         "key=value every model given")
    ev.add_argument("--seed", type=int, default=0, help="seed for every model that takes one")
    ev.add_argument("--out", required=True, help="report folder (report.json, series.csv, report.html)")
    ev.add_argument("--window", type=int, default=1000, help="rolling window of the windowed metrics")
    ev.add_argument("--fading", type=float, default=None, help="fading factor for faded metrics (e.g. 0.999)")
    ev.add_argument("--every", type=int, default=None, help="sample the series every N records (default: adaptive)")
    ev.add_argument("--limit", type=int, default=None, help="stop after N records")
    ev.add_argument("--zero-division", type=float, default=0.0, choices=(0.0, 1.0),
                    help="value of an F1/precision/recall whose denominator is 0")
    ev.add_argument("--no-progress", action="store_true", help="no progress bar")

    ds = sub.add_parser("datasets", help="list the datasets in the data directory with their shapes")
    ds.add_argument("--data-dir", default=None, help="datasets folder (default: $STREAM_XML_DATA)")
    ds.add_argument("--json", action="store_true", help="print JSON instead of a table")

    sub.add_parser("models", help="list the models known by name")
    for module in _command_modules():
        module.add_commands(sub)
    return parser


def _command_modules():
    """Subcommands that live in their own modules (each has add_commands(sub) and run(args))."""
    from stream_xml import bench, generate_cli, service_cli

    return [generate_cli, service_cli, bench]


def _split_params(items, model_names) -> dict:
    """Route ``--param`` values: 'model:key=value' to one model, 'key=value' to all."""
    from stream_xml.models import parse_params

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


def _estimate_every(source) -> int:
    n = getattr(source, "n_records", None)
    if n:
        return max(10, n // 300)
    return 100


def cmd_evaluate(args) -> int:
    from connectors.catalog import open_source
    from stream_xml.evaluation.prequential import evaluate
    from stream_xml.evaluation.report import write_report
    from stream_xml.models import make_model

    names = list(dict.fromkeys(args.model))
    params = _split_params(args.param, names)
    models = {name: make_model(name, params[name], seed=args.seed) for name in names}
    source = open_source(args.source, data_dir=args.data_dir, on_error=args.on_error, **_source_options(args))
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
    _print_summary(result)
    print("report: " + ", ".join(paths), file=sys.stderr)
    errors = (result.get("source") or {}).get("errors") or {}
    if errors.get("skipped"):
        print(f"skipped {errors['skipped']} bad records; first: {errors['samples'][:3]}", file=sys.stderr)
    return 130 if result.get("interrupted") else 0


def _print_summary(result: dict) -> None:
    cols = ("subset_accuracy", "hamming_loss", "example_f1", "micro_f1", "macro_f1")
    s = result["stream"]
    print(f"{s['records']} records, {s['labels']} labels, cardinality {s['cardinality']:.3f}")
    print(f"{'model':<12}" + "".join(f"{c:>16}" for c in cols) + f"{'records/s':>12}")
    for name, m in result["models"].items():
        vals = "".join(f"{m['metrics'].get(c, float('nan')):>16.4f}" for c in cols)
        print(f"{name:<12}{vals}{m['records_per_s']:>12.1f}")


def cmd_datasets(args) -> int:
    from connectors.catalog import default_data_dir, describe, discover, open_dataset

    data_dir = args.data_dir or default_data_dir()
    if not data_dir:
        print("no data directory: pass --data-dir or set STREAM_XML_DATA", file=sys.stderr)
        return 2
    rows = []
    for info in discover(data_dir):
        stats = describe(open_dataset(info, data_dir=data_dir))
        rows.append({"name": info.name, **stats})
    if args.json:
        print(json.dumps(rows, indent=1, default=str))
        return 0
    print(f"{'dataset':<20}{'instances':>10}{'features':>10}{'labels':>8}{'cardinality':>13}{'density':>9}")
    for r in rows:
        print(f"{r['name']:<20}{r['instances']:>10}{r['features']:>10}{r['labels']:>8}"
              f"{r['cardinality']:>13.3f}{r['density']:>9.3f}")
    return 0


def cmd_models(args) -> int:
    from stream_xml.models import MODELS

    for name, (_, _, summary) in MODELS.items():
        print(f"{name:<10} {summary}")
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"evaluate": cmd_evaluate, "datasets": cmd_datasets, "models": cmd_models}
    try:
        for module in _command_modules():
            code = module.run(args)
            if code is not None:
                return code
        return handlers[args.command](args)
    except (ValueError, FileNotFoundError) as e:
        print(f"stream-xml {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
