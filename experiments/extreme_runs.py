"""Side-by-side prequential runs for extreme label spaces: stream-xml models and Vowpal Wabbit's
probabilistic label trees on the same records, each in a child process of its own, one at a time.

::

    python experiments/extreme_runs.py --source delicious --run labeltree --run vw:k16 --run vw:k2
    python experiments/extreme_runs.py --source stackex_cooking --run "labeltree:arity=8,bits=20" --limit 5000

A run is ``MODEL[:key=value,...]`` for a stream-xml model (parameters as ``--param`` takes them), or
``vw:k2`` / ``vw:k16`` for VW 9 from PyPI (``--plt L --loss_function logistic``, ``-b 24``, or 26
past 20,000 labels; k2 = ``--kary_tree 2 -l 0.5``, VW's defaults; k16 = ``--kary_tree 16 -l 4.0``,
the best of the sweep in /work/shared/published-results.md). VW runs twice per configuration, with
``--top_k 5`` (ranking metrics, and the records/s reported) and with ``--threshold 0.5`` (set
metrics), since its Python binding cannot return probabilities with ``--plt``; as there, VW never
learns from a record without labels, and predicted ids outside the label space are dropped.

Every figure is prequential over the whole stream (or ``--limit`` records) in file order, scored by
:class:`stream_xml.evaluation.metrics.MultiLabelMetrics`; ``records/s`` is records over the seconds
spent in the model's predict and learn calls (VW: parsing its text lines is outside the clock, which
flatters VW); ``peak RSS`` is the child's ``ru_maxrss`` (interpreter included). Each run prints one
JSON line; ``--jsonl`` appends them to a file.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from stream_xml.bench.runs import run_child  # noqa: E402

METRICS = ("precision@1", "precision@3", "precision@5", "micro_f1", "macro_f1", "example_f1", "hamming_loss",
           "subset_accuracy")
WARMUP_RECORDS = 200
VW_CONFIGS = {"k2": "--kary_tree 2 -l 0.5", "k16": "--kary_tree 16 -l 4.0"}
_MB = 1024.0 * 1024.0


def _records(source_spec: str, data_dir, limit):
    """The source and an iterator over its first ``limit`` records, read as they are used (the
    records are not held in memory, so the peak RSS is the model's and the interpreter's)."""
    from connectors.catalog import open_source

    source = open_source(source_spec, data_dir=data_dir)
    return source, itertools.islice(source, limit)


def run_ours(source_spec: str, model: str, params: dict, data_dir, limit, max_seconds=None) -> dict:
    from stream_xml.evaluation.prequential import PrequentialEvaluator
    from stream_xml.models import make_model

    source, records = _records(source_spec, data_dir, WARMUP_RECORDS)
    started = time.perf_counter()
    scratch = PrequentialEvaluator({model: make_model(model, params)}, labels=source.labels)
    for record in records:
        scratch.process(record)
    warmup = time.perf_counter() - started
    del scratch
    source, records = _records(source_spec, data_dir, limit)
    evaluator = PrequentialEvaluator({model: make_model(model, params)}, labels=source.labels,
                                     every=1000, window=None)
    track = evaluator.tracks[0]
    capped = False
    for record in records:
        evaluator.process(record)
        if max_seconds is not None and track.seconds > max_seconds:
            capped = True
            break
    result = evaluator.result()
    row = result["models"][model]
    out = {
        "records": result["stream"]["records"],
        "labels": result["stream"]["labels"],
        "records_per_s": row["records_per_s"],
        "warmup_s": warmup,
        "capped": capped,
        "model_mb": None if row["memory_peak_bytes"] is None else row["memory_peak_bytes"] / _MB,
        "metrics": {k: row["metrics"].get(k) for k in METRICS},
        "events": row["event_counts"],
    }
    fitted = evaluator.tracks[0].model
    for attr in ("tau", "height", "counters", "n_nodes"):
        if hasattr(fitted, attr):
            out[attr] = getattr(fitted, attr)
    if hasattr(fitted, "table_load"):
        out["table_load"] = fitted.table_load()
    return out


def _vw_line(names: list, x: dict) -> str:
    table = str.maketrans({" ": "_", ":": "_", "|": "_"})
    return " ".join(f"{str(k).translate(table)}:{float(v):.9g}" for k, v in x.items() if v)


def run_vw(source_spec: str, config: str, mode: str, data_dir, limit) -> dict:
    from vowpalwabbit import pyvw

    from stream_xml.evaluation.metrics import MultiLabelMetrics
    from stream_xml.labels import LabelSpace

    source, records = _records(source_spec, data_dir, limit)
    space = LabelSpace(source.labels)  # every source here declares its labels up front
    n_labels = len(space)
    bits = 26 if n_labels > 20_000 else 24
    flags = f"--plt {n_labels} --loss_function logistic -b {bits} {VW_CONFIGS[config]} --quiet"
    flags += " --top_k 5" if mode == "top5" else " --threshold 0.5"
    vw = pyvw.Workspace(flags)
    metrics = MultiLabelMetrics(window=None, ks=(1, 3, 5))
    seconds = 0.0
    for record in records:
        feats = _vw_line(space.names, record.x)
        query = vw.parse(f"| {feats}")
        t0 = time.perf_counter()
        predicted = vw.predict(query)
        seconds += time.perf_counter() - t0
        vw.finish_example(query)
        predicted = [i for i in predicted if 0 <= i < n_labels]
        truth = space.ids(record.y)
        if mode == "top5":
            metrics.update(truth, [], {i: 5.0 - r for r, i in enumerate(predicted)}, n_labels=n_labels)
        else:
            metrics.update(truth, predicted, None, n_labels=n_labels)
        if truth:
            example = vw.parse(f"{','.join(map(str, truth))} | {feats}")
            t0 = time.perf_counter()
            vw.learn(example)
            seconds += time.perf_counter() - t0
            vw.finish_example(example)
    vw.finish()
    values = metrics.get()
    return {
        "records": metrics.n,
        "labels": n_labels,
        "records_per_s": metrics.n / seconds if seconds else float("nan"),
        "flags": flags,
        "metrics": {k: values.get(k) for k in METRICS},
    }


def parse_run(text: str) -> tuple[str, dict]:
    from stream_xml.models import parse_params

    name, _, rest = text.partition(":")
    if name == "vw":
        return name, {"config": rest or "k16"}
    return name, parse_params([p for p in rest.split(",") if p]) if rest else {}


def child_row(source, run: str, args, mode: str | None = None) -> dict:
    payload = {"source": source, "run": run, "data_dir": args.data_dir, "limit": args.limit, "mode": mode,
               "max_seconds": getattr(args, "max_seconds", None)}
    code, out, err, wall, rss = run_child([sys.executable, __file__, "--child", json.dumps(payload)])
    if code != 0:
        return {"run": run, "error": err.strip()[-1500:]}
    row = json.loads(out.strip().splitlines()[-1])
    row.update(run=run, source=source, wall_s=wall, peak_rss_mb=rss / _MB)
    return row


def one_run(source, run: str, args) -> dict:
    name, params = parse_run(run)
    if name != "vw":
        return child_row(source, run, args)
    ranked = child_row(source, run, args, mode="top5")
    labelled = child_row(source, run, args, mode="threshold")
    if "error" in ranked or "error" in labelled:
        return {"run": run, "source": source, "error": ranked.get("error") or labelled.get("error")}
    metrics = {k: ranked["metrics"][k] for k in METRICS if k.startswith("precision")}
    metrics.update({k: labelled["metrics"][k] for k in METRICS if not k.startswith("precision")})
    return {
        **ranked, "metrics": metrics, "threshold_records_per_s": labelled["records_per_s"],
        "peak_rss_mb": max(ranked["peak_rss_mb"], labelled["peak_rss_mb"]),
    }


def format_row(row: dict) -> str:
    if "error" in row:
        return f"{row['run']:<40} ERROR {row['error'][-300:]}"
    m = row["metrics"]
    cells = [f"{m.get(k):.3f}" if isinstance(m.get(k), float) else "-" for k in METRICS[:5]]
    capped = "*" if row.get("capped") else " "
    return (f"{row['run']:<40} {row['records']:>7}{capped}{row['labels']:>6}  P@1/3/5 {cells[0]} {cells[1]} {cells[2]}"
            f"  miF1 {cells[3]}  maF1 {cells[4]}  {row['records_per_s']:>8.0f} rec/s  {row['peak_rss_mb']:>6.0f} MB")


def summarise(rows: list, anchor: str | None) -> list[str]:
    """One line per run: its metrics, the median of its records/s over the rounds and, with an
    anchor, the median (lowest, highest) of its records/s over the anchor's in the same round."""
    by_run: dict = {}
    for r in rows:
        by_run.setdefault(r["run"], []).append(r)
    lines = []
    for run, reps in by_run.items():
        ok = [r for r in reps if "error" not in r]
        if not ok:
            lines.append(format_row(reps[0]))
            continue
        speeds = sorted(r["records_per_s"] for r in ok)
        row = dict(ok[0], records_per_s=statistics.median(speeds),
                   peak_rss_mb=max(r["peak_rss_mb"] for r in ok))
        line = format_row(row) + f"  [{speeds[0]:.0f}-{speeds[-1]:.0f}, {len(ok)} runs]"
        if anchor and anchor in by_run and run != anchor:
            ratios = sorted(
                r["records_per_s"] / a["records_per_s"]
                for r in ok for a in by_run[anchor] if "error" not in a and a["round"] == r["round"]
            )
            if ratios:
                line += f"  x{statistics.median(ratios):.2f} of {anchor} ({ratios[0]:.2f}-{ratios[-1]:.2f})"
        lines.append(line)
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", action="append", default=[])
    parser.add_argument("--run", action="append", default=[])
    parser.add_argument("--data-dir", default=os.environ.get("STREAM_XML_DATA"))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--max-seconds", type=float, default=None, help="stop a stream-xml model after this "
                        "much model time (its row then says capped and covers the records reached)")
    parser.add_argument("--reps", type=int, default=1, help="rounds; each round runs every run once, "
                        "starting one further along the list")
    parser.add_argument("--anchor", default=None, help="run whose records/s the others are divided by, "
                        "round by round (default: the first vw run)")
    parser.add_argument("--jsonl", default=None, help="append every row as JSON to this file")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        p = json.loads(args.child)
        name, params = parse_run(p["run"])
        if name == "vw":
            row = run_vw(p["source"], params["config"], p["mode"], p["data_dir"], p["limit"])
        else:
            row = run_ours(p["source"], name, params, p["data_dir"], p["limit"], p.get("max_seconds"))
        print(json.dumps(row))
        return
    anchor = args.anchor or next((r for r in args.run if r.startswith("vw")), None)
    for source in args.source:
        rows = []
        for round_ in range(args.reps):
            shift = round_ % len(args.run)
            for run in args.run[shift:] + args.run[:shift]:
                row = dict(one_run(source, run, args), round=round_)
                rows.append(row)
                print(f"{source:<18} {format_row(row)}", flush=True)
                if args.jsonl:
                    with open(args.jsonl, "a") as f:
                        f.write(json.dumps(row) + "\n")
        if args.reps > 1 or anchor:
            print(f"-- {source}: medians over {args.reps} round(s)")
            for line in summarise(rows, anchor):
                print(f"{source:<18} {line}", flush=True)


if __name__ == "__main__":
    main()
