"""Whole-stream prequential table over every dataset in the data directory.

For each dataset and model, one prequential run in file order with default parameters; river
models stop after ``--cap-seconds`` of wall time (the table then says how far they got). Each run
is saved as JSON under ``--out`` and reused on the next invocation, so the study can be resumed
or extended; ``--fresh`` reruns everything. The table prints the five main metrics and records/s
beside the published whole-stream figures read from ``published-results.md``.

    python experiments/paper_table.py --data-dir ../shared/datasets
    python experiments/paper_table.py --datasets yeast,emotions --models ihomer,mlhat

"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connectors.catalog import discover, open_dataset  # noqa: E402
from stream_xml.evaluation.prequential import evaluate  # noqa: E402
from stream_xml.models import make_model  # noqa: E402

# column name -> (registered model, parameters)
MODELS = {
    "ihomer": ("ihomer", {}),
    "ihomer-b": ("ihomer", {"mode": "routing"}),
    "mlhat": ("mlhat", {}),
    # ablation: MLHAT with iHOMER's leaf-model switch, to separate the switch from the hierarchy
    "mlhat-loss": ("mlhat", {"leaf_switch": "loss"}),
    # option: blocks or a root learner with the majority-labelset candidate, chosen per record
    "ihomer-record": ("ihomer", {"root_learner": True, "root_choice": "record",
                                 "root_tree__leaf_switch": "loss_with_majority"}),
    # its ablation: MLHAT alone with the root learner's leaf switch
    "mlhat-lwm": ("mlhat", {"leaf_switch": "loss_with_majority"}),
    # option: blocks of at least sqrt(#labels) labels
    "ihomer-sqrt": ("ihomer", {"min_block": "sqrt"}),
    "ihomer-b-sqrt": ("ihomer", {"mode": "routing", "min_block": "sqrt"}),
    "ihomer-record-sqrt": ("ihomer", {"min_block": "sqrt", "root_learner": True, "root_choice": "record",
                                      "root_tree__leaf_switch": "loss_with_majority"}),
    # option: a root learner beside the blocks, chosen block by block
    "ihomer-root": ("ihomer", {"min_block": "sqrt", "root_learner": True}),
    # the root learner answers for new blocks on trial, replaced learners go at once (the default
    # since it measured the same as the replaced learners answering, which the ablation keeps)
    "ihomer-rootfb": ("ihomer", {"fallback": "root"}),
    "ihomer-replaced": ("ihomer", {"fallback": "replaced"}),
    # option: alternate subtrees start on ADWIN drift instead of on any rise of a branch's loss
    "ihomer-lean": ("ihomer", {"fallback": "root", "tree__alternate_strategy": "drift"}),
    "mlht": ("mlht", {}),
    "br-ht": ("br-ht", {}),
    "cc-ht": ("cc-ht", {}),
}
RIVER_MODELS = {"br-ht", "cc-ht"}
# columns run only when --models names them (the root learner is slow on large label spaces)
OPTIONAL_MODELS = {"ihomer-record", "mlhat-lwm", "ihomer-sqrt", "ihomer-b-sqrt", "ihomer-root", "ihomer-record-sqrt",
                   "ihomer-rootfb", "ihomer-replaced", "ihomer-lean"}
METRICS = ("subset_accuracy", "hamming_loss", "example_f1", "micro_f1", "macro_f1")
SHORT = {"subset_accuracy": "SA", "hamming_loss": "HL", "example_f1": "exF1", "micro_f1": "miF1",
         "macro_f1": "maF1"}
# our dataset names -> names in published-results.md
PUBLISHED_NAMES = {
    "flags": "Flags", "emotions": "Emotions", "yeast": "Yeast", "scene": "Scene", "plant978": "Plant",
    "human3106": "Human", "medical": "Medical", "enron": "Enron", "llog": "Langlog",
    "stackex-chess": "Stackex", "tmc2007-500": "Tmc", "20ng-f": "D20ng", "corel5k-sparse": "Corel5k",
    "bibtex": "Bibtex", "imdb": "Imdb",
}
PUBLISHED_METRICS = {"subset_acc": "subset_accuracy", "hamming": "hamming_loss", "example_f1": "example_f1",
                     "micro_f1": "micro_f1", "macro_f1": "macro_f1"}


def read_published(path: pathlib.Path) -> dict:
    """{published dataset name: {metric: {column: value}}} from the markdown table."""
    table: dict = {}
    if not path.exists():
        return table
    header = None
    for line in path.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4:
            continue
        if cells[0] == "dataset":
            header = cells
            continue
        if header is None or set(cells[0]) <= {"-", ":"}:
            continue
        metric = PUBLISHED_METRICS.get(cells[1])
        if metric is None:
            continue
        for col, raw in zip(header[2:], cells[2:]):
            m = re.match(r"^([0-9.]+)", raw)
            if m:
                table.setdefault(cells[0], {}).setdefault(metric, {})[col] = float(m.group(1))
    return table


_CELLS: dict = {}


def cells(info, data_dir: str) -> float:
    """records x labels of a dataset (streamed once, cached)."""
    if info.name not in _CELLS:
        from connectors.catalog import describe

        stats = describe(open_dataset(info, data_dir=data_dir))
        _CELLS[info.name] = stats["instances"] * stats["labels"]
    return _CELLS[info.name]


def run_one(info, data_dir: str, column: str, cap: float | None) -> dict:
    name, params = MODELS[column]
    model = make_model(name, params, seed=0)
    source = open_dataset(info, data_dir=data_dir)
    started = time.perf_counter()
    result = evaluate(source, {column: model}, max_seconds=cap if column in RIVER_MODELS else None,
                      every=10**9, memory_every=10**9)
    m = result["models"][column]
    return {
        "dataset": info.name, "model": column, "params": params,
        "records": result["stream"]["records"], "stopped_early": result["stopped_early"],
        "metrics": m["metrics"], "records_per_s": m["records_per_s"],
        "wall_seconds": time.perf_counter() - started, "event_counts": m["event_counts"],
        "memory_peak_bytes": m["memory_peak_bytes"],
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=os.environ.get("STREAM_XML_DATA") or str(ROOT.parent / "shared" / "datasets"))
    p.add_argument("--datasets", default=None, help="comma-separated names (default: all)")
    p.add_argument("--models", default=",".join(c for c in MODELS if c not in OPTIONAL_MODELS),
                   help=f"comma-separated columns (all: {','.join(MODELS)})")
    p.add_argument("--cap-seconds", type=float, default=600.0, help="wall-time cap of river models")
    p.add_argument("--river-max-cells", type=float, default=4e5,
                   help="skip river models where records x labels exceeds this (they cannot finish "
                        "within the cap: river BR-HT manages about 3,000 label-updates/s on Yeast)")
    p.add_argument("--out", default=str(ROOT / "experiments" / "out" / "paper"))
    p.add_argument("--fresh", action="store_true", help="rerun runs already saved")
    p.add_argument("--table", default=None, help="write the markdown table here too")
    args = p.parse_args(argv)

    infos = discover(args.data_dir)
    if args.datasets:
        wanted = [d.strip().lower() for d in args.datasets.split(",")]
        infos = [i for i in infos if i.name in wanted]
    columns = [c.strip() for c in args.models.split(",") if c.strip()]
    os.makedirs(args.out, exist_ok=True)
    runs: dict = {}
    for info in sorted(infos, key=lambda i: os.path.getsize(i.paths[0])):
        for column in columns:
            path = os.path.join(args.out, f"{info.name}__{column}.json")
            if column in RIVER_MODELS and cells(info, args.data_dir) > args.river_max_cells:
                continue
            if os.path.exists(path) and not args.fresh:
                runs[(info.name, column)] = json.load(open(path))
                continue
            print(f"[{time.strftime('%H:%M:%S')}] {info.name} / {column} ...", file=sys.stderr, flush=True)
            run = run_one(info, args.data_dir, column, args.cap_seconds)
            with open(path, "w") as f:
                json.dump(run, f, indent=1, default=str)
            runs[(info.name, column)] = run
            print(f"    {run['records']} records, miF1 {run['metrics']['micro_f1']:.4f}, "
                  f"{run['records_per_s']:.0f} rec/s", file=sys.stderr, flush=True)
    published = read_published(ROOT.parent / "shared" / "published-results.md")
    table = render(runs, [i.name for i in infos], columns, published)
    print(table)
    if args.table:
        pathlib.Path(args.table).write_text(table)
    return 0


def render(runs: dict, datasets: list, columns: list, published: dict) -> str:
    lines = []
    for metric in METRICS:
        pub_cols = ["MLHAT", "MLHT", "BR-HT"]
        lines.append(f"\n#### {metric}\n")
        lines.append("| dataset | " + " | ".join(columns) + " | " + " | ".join(f"pub. {c}" for c in pub_cols) + " |")
        lines.append("|---|" + "---:|" * (len(columns) + len(pub_cols)))
        sums = {c: [] for c in columns}
        for d in datasets:
            cells = []
            for c in columns:
                run = runs.get((d, c))
                if run is None:
                    cells.append("")
                    continue
                v = run["metrics"][metric]
                sums[c].append(v)
                mark = f" (stopped at {run['records']})" if run.get("stopped_early") else ""
                cells.append(f"{v:.3f}{mark}")
            pub = published.get(PUBLISHED_NAMES.get(d, ""), {}).get(metric, {})
            cells += [f"{pub[c]:.3f}" if c in pub else "" for c in pub_cols]
            lines.append(f"| {d} | " + " | ".join(cells) + " |")
        means = [f"**{sum(v) / len(v):.3f}** ({len(v)})" if v else "" for v in (sums[c] for c in columns)]
        lines.append("| mean (n) | " + " | ".join(means) + " |" + " |" * len(pub_cols))
    lines.append("\n#### records/s\n")
    lines.append("| dataset | " + " | ".join(columns) + " |")
    lines.append("|---|" + "---:|" * len(columns))
    for d in datasets:
        cells = []
        for c in columns:
            run = runs.get((d, c))
            cells.append(f"{run['records_per_s']:.0f}" if run else "")
        lines.append(f"| {d} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
