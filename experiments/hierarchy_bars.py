"""iHOMER against its own node learner, MLHAT, on every real stream at hand (issue 23's bars).

One prequential run per stream, in file order, with both models side by side in the same run
(so their records/s are measured under the same load), default parameters, seed 0. The
streams are every dataset found in the data folders given (by default ``$STREAM_XML_DATA`` and
the ``xmc-datasets`` folder beside it: 21 + 5 streams). Each stream's run is saved as JSON
under ``--out`` and reused on the next invocation (``--fresh`` reruns).

The table gives, per stream, subset accuracy, micro-F1, macro-F1 and P@1 of both models, iHOMER's
micro-F1 minus MLHAT's and iHOMER's records/s over MLHAT's; then the means over all streams
and over each half of the streams split by name (the first half and the second), the guard
against defaults that fit a few streams.

    python experiments/hierarchy_bars.py
    python experiments/hierarchy_bars.py --streams yeast,flags --variant ihomer:root_choice=block

``--variant NAME:model:k=v,k=v`` replaces the challenger (default ``ihomer`` with its defaults)
by another model or parameter set, cached under its own name; ``--anchor`` (same form) the
model it is measured against (default ``mlhat``), for instance a leaf model against another:

    python experiments/hierarchy_bars.py --variant ps:mlht:leaf_model=ps --anchor mlht
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

METRICS = ("subset_accuracy", "micro_f1", "macro_f1")
KEPT = METRICS + ("precision@1",)  # saved per run; P@1 is the ranking bar (VW)
DEFAULT_ANCHOR = "mlhat:mlhat:"


def default_folders() -> list[str]:
    """``$STREAM_XML_DATA`` (or ../shared/datasets) and the xmc-datasets folder beside it."""
    first = os.environ.get("STREAM_XML_DATA") or str(ROOT.parent / "shared" / "datasets")
    second = os.path.join(os.path.dirname(os.path.abspath(first)), "xmc-datasets")
    return [f for f in (first, second) if os.path.isdir(f)]


def streams(folders: list[str]) -> list:
    """Every dataset in ``folders``, sorted by name."""
    from connectors.catalog import discover

    found = {info.name: info for folder in folders for info in discover(folder)}
    return [found[name] for name in sorted(found)]


def parse_variant(text: str) -> tuple[str, str, dict]:
    """``"name:model:k=v,k=v"`` -> (name, model, params); values are read as numbers when they are."""
    from stream_xml.models import parse_params

    name, _, rest = text.partition(":")
    model, _, pairs = rest.partition(":")
    return name, model or name, parse_params(filter(None, pairs.split(",")))


def run_stream(info, challenger: tuple[str, str, dict], anchor: tuple[str, str, dict]) -> dict:
    """One prequential run of the challenger and the anchor side by side over ``info``'s stream."""
    from connectors.catalog import open_dataset
    from stream_xml.evaluation.prequential import evaluate
    from stream_xml.models import make_model

    models = {name: make_model(model, params, seed=0) for name, model, params in (challenger, anchor)}
    started = time.perf_counter()
    result = evaluate(open_dataset(info), models, every=10**9, memory_every=10**9)
    row = {"stream": info.name, "records": result["stream"]["records"], "challenger": list(challenger), "anchor": list(anchor),
           "wall_seconds": time.perf_counter() - started}
    for key, m in result["models"].items():
        row[key] = {**{k: m["metrics"][k] for k in KEPT}, "records_per_s": m["records_per_s"],
                    "events": m.get("event_counts", {}), "answer_shares": m.get("answer_shares")}
    return row


def summary(rows: list[dict], name: str, anchor: str) -> dict:
    """Means of both models, the worst micro-F1 gap and the slowest speed ratio over ``rows``."""
    out = {"n": len(rows)}
    for who in (name, anchor):
        out[who] = {k: statistics.mean(r[who][k] for r in rows) for k in METRICS}
    gaps = [(r[name]["micro_f1"] - r[anchor]["micro_f1"], r["stream"]) for r in rows]
    speeds = [(r[name]["records_per_s"] / r[anchor]["records_per_s"], r["stream"]) for r in rows]
    out["worst_micro_f1_gap"] = min(gaps)
    out["slowest_speed_ratio"] = min(speeds)
    return out


def format_table(rows: list[dict], name: str, anchor: str = "mlhat") -> str:
    lines = [f"| stream | records | subset acc. {name} / {anchor} | micro-F1 {name} / {anchor} | "
             f"macro-F1 {name} / {anchor} | P@1 {name} / {anchor} | Δ micro-F1 | records/s ratio |",
             "|---|---:|---|---|---|---|---:|---:|"]
    for r in rows:
        a, b = r[name], r[anchor]
        gap = a["micro_f1"] - b["micro_f1"]
        flag = " ✗" if gap < -0.02 else ""
        lines.append(
            f"| {r['stream']} | {r['records']} | {a['subset_accuracy']:.3f} / {b['subset_accuracy']:.3f} "
            f"| {a['micro_f1']:.3f} / {b['micro_f1']:.3f} | {a['macro_f1']:.3f} / {b['macro_f1']:.3f} "
            f"| {a.get('precision@1', float('nan')):.3f} / {b.get('precision@1', float('nan')):.3f} | {gap:+.3f}{flag} | {a['records_per_s'] / b['records_per_s']:.2f} |")
    half = (len(rows) + 1) // 2
    groups = [("all", rows), (f"first {half} by name", rows[:half]), (f"last {len(rows) - half}", rows[half:])]
    lines += ["", f"| means | n | subset acc. {name} / {anchor} | micro-F1 {name} / {anchor} | "
              f"macro-F1 {name} / {anchor} | worst Δ micro-F1 | slowest records/s ratio |",
              "|---|---:|---|---|---|---|---|"]
    for label, group in groups:
        if not group:
            continue
        s = summary(group, name, anchor)
        cells = " | ".join(f"{s[name][k]:.4f} / {s[anchor][k]:.4f}" for k in METRICS)
        gap, where = s["worst_micro_f1_gap"]
        ratio, slow = s["slowest_speed_ratio"]
        lines.append(f"| {label} | {s['n']} | {cells} | {gap:+.3f} ({where}) | {ratio:.2f} ({slow}) |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", action="append", default=None,
                   help="a folder of datasets (repeatable; default: $STREAM_XML_DATA and xmc-datasets beside it)")
    p.add_argument("--streams", default=None, help="comma-separated names (default: all)")
    p.add_argument("--variant", default="ihomer:ihomer:", help="NAME:model:k=v,... (default: ihomer's defaults)")
    p.add_argument("--anchor", default=DEFAULT_ANCHOR, help="NAME:model:k=v,... (default: mlhat's defaults)")
    p.add_argument("--out", default=str(ROOT / "experiments" / "out" / "hierarchy"))
    p.add_argument("--fresh", action="store_true", help="rerun streams already saved")
    args = p.parse_args(argv)

    challenger = parse_variant(args.variant)
    anchor = parse_variant(args.anchor)
    infos = streams(args.data_dir or default_folders())
    if args.streams:
        wanted = {s.strip().lower() for s in args.streams.split(",")}
        infos = [i for i in infos if i.name.lower() in wanted]
    folder = challenger[0] if anchor[0] == "mlhat" else f"{challenger[0]}-vs-{anchor[0]}"
    out = pathlib.Path(args.out) / folder
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for info in infos:
        path = out / f"{info.name}.json"
        if path.exists() and not args.fresh:
            row = json.loads(path.read_text())
        else:
            print(f"  {info.name} ...", file=sys.stderr, flush=True)
            row = run_stream(info, challenger, anchor)
            path.write_text(json.dumps(row, indent=1))
        rows.append(row)
    print(format_table(rows, challenger[0], anchor[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
