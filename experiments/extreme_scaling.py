"""Scaling study of the extreme engine: records/s, P@1, P@5 and peak RSS against the number of labels
and of features on synth:extreme streams, stream-xml's engines beside Vowpal Wabbit's PLT.

::

    python experiments/extreme_scaling.py --out out/scaling            # runs the grid, then plots
    python experiments/extreme_scaling.py --out out/scaling --plot-only

The grid: labels 10^2, 10^3, 10^4, 10^5 at 50,000 features, and features 10^3, 10^4, 10^5 at
10,000 labels, ``--records`` records each (20,000 by default; the same stream for every model of
a point). Every model of a point runs in a child process of its own, one at a time, through
:mod:`experiments.extreme_runs` (so the figures are those of that driver: prequential, whole
stream, records/s over the model's own seconds, peak RSS of the child), ``--reps`` rounds. iHOMER
(mode A) runs only where it can (``--ihomer-labels``, 10^2 and 10^3 by default) and stops after
``--ihomer-seconds`` of model time. Rows go to ``OUT/scaling.jsonl``; plots to ``OUT/*.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import extreme_runs  # noqa: E402

LABELS = (100, 1000, 10_000, 100_000)
FEATURES = (1000, 10_000, 100_000)
FIXED_FEATURES = 50_000
FIXED_LABELS = 10_000


def points(records: int) -> list[tuple[str, int, int]]:
    grid = [("labels", n_labels, FIXED_FEATURES) for n_labels in LABELS]
    grid += [("features", FIXED_LABELS, n_features) for n_features in FEATURES]
    return grid


def spec(n_labels: int, n_features: int, records: int) -> str:
    return f"synth:extreme?labels={n_labels}&features={n_features}&n={records}"


def run_grid(args) -> None:
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "scaling.jsonl")
    for axis, n_labels, n_features in points(args.records):
        runs = ["labeltree", "vw:k16"]
        if n_labels in args.ihomer_labels:
            runs.append("ihomer")
        source = spec(n_labels, n_features, args.records)
        for round_ in range(args.reps):
            for run in runs[round_ % len(runs):] + runs[: round_ % len(runs)]:
                limit_args = argparse.Namespace(data_dir=None, limit=None,
                                                max_seconds=args.ihomer_seconds if run == "ihomer" else None)
                row = dict(extreme_runs.one_run(source, run, limit_args), axis=axis, n_labels=n_labels,
                           n_features=n_features, round=round_)
                print(f"{axis:<8} L={n_labels:<6} D={n_features:<6} {extreme_runs.format_row(row)}", flush=True)
                with open(path, "a") as f:
                    f.write(json.dumps(row) + "\n")


def load(path: str) -> list[dict]:
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def plot(args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in load(os.path.join(args.out, "scaling.jsonl")) if "error" not in r]
    panels = [("records_per_s", "records/s"), ("precision@1", "P@1"), ("precision@5", "P@5"),
              ("peak_rss_mb", "peak RSS (MB)")]
    for axis, key in (("labels", "n_labels"), ("features", "n_features")):
        fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
        for ax, (metric, title) in zip(axes, panels):
            for run in sorted({r["run"] for r in rows}):
                xs, ys = [], []
                for x in sorted({r[key] for r in rows if r["axis"] == axis}):
                    vals = [r["metrics"][metric] if metric.startswith("precision") else r[metric]
                            for r in rows if r["axis"] == axis and r["run"] == run and r[key] == x]
                    if vals:
                        xs.append(x)
                        ys.append(statistics.median(vals))
                if xs:
                    ax.plot(xs, ys, marker="o", label=run)
            ax.set_xscale("log")
            if metric in ("records_per_s", "peak_rss_mb"):
                ax.set_yscale("log")
            ax.set_xlabel(axis)
            ax.set_title(title)
            ax.grid(True, alpha=0.3)
        axes[0].legend()
        fixed = f"{FIXED_FEATURES} features" if axis == "labels" else f"{FIXED_LABELS} labels"
        fig.suptitle(f"synth:extreme, {args.records} records, {fixed}")
        fig.tight_layout()
        fig.savefig(os.path.join(args.out, f"scaling_{axis}.png"), dpi=110)
        plt.close(fig)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="out/scaling")
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--ihomer-labels", type=int, nargs="*", default=[100, 1000])
    parser.add_argument("--ihomer-seconds", type=float, default=600.0)
    parser.add_argument("--plot-only", action="store_true")
    args = parser.parse_args(argv)
    if not args.plot_only:
        run_grid(args)
    plot(args)


if __name__ == "__main__":
    main()
