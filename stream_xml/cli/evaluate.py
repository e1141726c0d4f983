"""``stream-xml evaluate``: prequential evaluation of one or more models on one stream, with a report.

Everything that can be checked is checked before the first record: the models and their
parameters, the source, the report folder (``--out``) and the predictions file. The summary is
printed before the report files are written, and numba's compilation (a first run on a fresh
checkout) is reported on a line of its own, never inside the records/s.

>>> auto_window(2417), auto_window(50_000), auto_window(None), auto_window(300)
(200, 1000, 1000, 100)

"""

from __future__ import annotations

import argparse
import sys
import time

from stream_xml.cli.options import add_source_options, check_out_dir, model_labels, open_cli_source, split_params

__all__ = ["add_parser", "run", "auto_window", "print_summary"]

DEFAULT_WINDOW = 1000
WINDOW_SIZES = (100, 200, 250, 500, 1000)


def add_parser(subparsers) -> None:
    ev = subparsers.add_parser(
        "evaluate", help="prequential (test-then-train) evaluation with a report",
        description="Every record is predicted by every model, scored, then learned from. Writes report.json, "
                    "series.csv and report.html into --out, and prints a summary.",
    )
    add_source_options(ev)
    ev.add_argument("--model", action="append", required=True, metavar="[LABEL=]NAME",
                    help="model name, or LABEL=NAME to run a variant under a label of its own (repeat to compare "
                         "models on the same stream); see `stream-xml models`")
    ev.add_argument("--param", action="append", default=[], metavar="[LABEL:]KEY=VALUE",
                    help="model parameter: 'LABEL:key=value' for one model, plain key=value for every model "
                         "given, 'tree__key=value' for a sub-learner's; see `stream-xml models NAME`")
    ev.add_argument("--seed", type=int, default=0, help="seed for every model that takes one")
    ev.add_argument("--out", required=True, help="report folder (report.json, series.csv, report.html)")
    ev.add_argument("--predictions", default=None, metavar="FILE.jsonl",
                    help="write every record's predictions (labels and top scores of each model) to this file")
    ev.add_argument("--top-scores", type=int, default=10, help="label scores per model and record in --predictions")
    ev.add_argument("--window", type=int, default=None,
                    help="rolling window of the windowed metrics (default: a tenth of the stream, between "
                         f"{WINDOW_SIZES[0]} and {DEFAULT_WINDOW} records; {DEFAULT_WINDOW} when the length is unknown)")
    ev.add_argument("--fading", type=float, default=None, help="fading factor for faded metrics (e.g. 0.999)")
    ev.add_argument("--every", type=int, default=None,
                    help="sample the series every N records (default: about 300 samples over the stream)")
    ev.add_argument("--limit", type=int, default=None, help="stop after N records")
    ev.add_argument("--zero-division", type=float, default=0.0, choices=(0.0, 1.0),
                    help="value of an F1/precision/recall whose denominator is 0")
    ev.add_argument("--no-progress", action="store_true", help="no progress bar")
    ev.set_defaults(func=run)


def auto_window(n: int | None) -> int:
    """The default window: the largest of ``WINDOW_SIZES`` within a tenth of the stream."""
    if not n:
        return DEFAULT_WINDOW
    return max([w for w in WINDOW_SIZES if w <= n / 10] or [WINDOW_SIZES[0]])


def _stream_length(source, limit: int | None) -> int | None:
    from connectors.counting import record_count

    n = record_count(source)
    return min(n, limit) if n is not None and limit is not None else (n if n is not None else limit)


def run(args: argparse.Namespace) -> int:
    from stream_xml.evaluation.prequential import evaluate
    from stream_xml.models import make_model

    labels = model_labels(args.model)
    params = split_params(args.param, labels)
    models = {label: make_model(name, params[label], seed=args.seed) for label, name in labels.items()}
    source = open_cli_source(args)
    check_out_dir(args.out)
    predictions = _open_predictions(args)
    n = _stream_length(source, args.limit)
    window = args.window or auto_window(n)
    every = args.every or (max(10, n // 300) if n else 100)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    try:
        result = evaluate(
            source, models, limit=args.limit, progress=not args.no_progress, expected=n,
            window=window, fading=args.fading, every=every, zero_division=args.zero_division,
            on_record=predictions.write if predictions else None,
        )
    finally:
        if predictions:
            predictions.close()
    config = {
        "command": "evaluate",
        "started": started,
        "source": args.source,
        "models": {label: {"name": labels[label], "params": params[label], "repr": repr(models[label])}
                   for label in labels},
        "seed": args.seed,
        "window": window,
        "fading": args.fading,
        "every": every,
        "limit": args.limit,
        "on_error": args.on_error,
        "zero_division": args.zero_division,
        "predictions": args.predictions,
    }
    print_summary(result)
    _report_on_stderr(result, args)
    from stream_xml.evaluation.report import write_report

    paths = write_report(result, args.out, config=config)
    print("report: " + ", ".join(paths), file=sys.stderr)
    return 130 if result.get("interrupted") else 0


def _open_predictions(args):
    if not args.predictions:
        return None
    from connectors.predictions import PredictionFile

    try:
        return PredictionFile(args.predictions, top_scores=args.top_scores)
    except OSError as err:
        raise ValueError(f"--predictions {args.predictions}: cannot write it ({err.strerror or err})") from None


# the kinds of IHOMER.answer_shares, as the run's closing lines name them
_ANSWERERS = {"blocks": "its blocks' own learners", "root": "its root learner",
              "on trial": "fallbacks while a block's learner was on trial"}


def _report_on_stderr(result: dict, args) -> None:
    """numba's compilation, who answered a hierarchy's labels, skipped records and the predictions
    file: what the table leaves out."""
    spent = {name: m.get("compile_seconds") or 0.0 for name, m in result["models"].items()}
    if sum(spent.values()) >= 0.05:
        each = ", ".join(f"{name} {s:.1f} s" for name, s in spent.items() if s >= 0.05)
        print(f"numba compilation and cache loading: {sum(spent.values()):.1f} s ({each}); "
              "not counted in records/s (a first run compiles, later runs load the cache)", file=sys.stderr)
    for name, m in result["models"].items():
        shares = m.get("answer_shares")
        if shares and shares.get("root", 0.0) < 1.0:  # a root learner alone says nothing new
            parts = ", ".join(f"{_ANSWERERS.get(kind, kind)} {share:.1%}" for kind, share in shares.items())
            print(f"{name} answered its labels with {parts} (report.html: Label hierarchy)", file=sys.stderr)
    errors = (result.get("source") or {}).get("errors") or {}
    if errors.get("skipped"):
        print(f"skipped {errors['skipped']} bad records; first: {errors['samples'][:3]}", file=sys.stderr)
    if args.predictions:
        print(f"predictions: {args.predictions}", file=sys.stderr)


def print_summary(result: dict) -> None:
    """The stream's shape and every model's main metrics and speed, as a table on stdout."""
    cols = ("subset_accuracy", "hamming_loss", "example_f1", "micro_f1", "macro_f1")
    s = result["stream"]
    print(f"{s['records']} records, {s['labels']} labels, cardinality {s['cardinality']:.3f}")
    width = max(12, *(len(name) + 2 for name in result["models"]))
    print(f"{'model':<{width}}" + "".join(f"{c:>16}" for c in cols) + f"{'records/s':>12}")
    for name, m in result["models"].items():
        vals = "".join(f"{m['metrics'].get(c, float('nan')):>16.4f}" for c in cols)
        print(f"{name:<{width}}{vals}{m['records_per_s']:>12.1f}")
