"""Plots of the drift study (:mod:`drift`): one PNG per stream and seed with the rolling micro-F1
of every variant and the stream's true change points (dashed at the start, shaded while a
gradual or incremental change is under way)."""

from __future__ import annotations

import pathlib

# iHOMER variants solid, the other models dashed, so the ablations read as one family
STYLES = {
    "ihomer": ("tab:blue", "-"), "ihomer-b": ("tab:cyan", "-"), "ihomer-frozen": ("tab:purple", "-"),
    "ihomer-no-global": ("tab:orange", "-"), "ihomer-no-local": ("tab:green", "-"),
    "ihomer-frozen-no-local": ("tab:olive", "-"), "ihomer-no-drift": ("tab:red", "-"),
    "mlhat": ("black", "--"), "mlht": ("tab:gray", "--"), "br-ht": ("tab:brown", "--"),
}


def plot_stream(title: str, runs: dict, changes: list, path: pathlib.Path, metric: str = "micro_f1") -> pathlib.Path:
    """Rolling ``metric`` of ``runs`` (variant -> run record) with ``changes`` marked, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 4.2))
    for variant, run in runs.items():
        color, style = STYLES.get(variant, (None, ":"))
        main = variant == "ihomer"  # drawn thicker and on top: several ablations coincide with it for a while
        ax.plot(run["series"]["t"], run["series"][metric], label=variant, color=color, linestyle=style,
                linewidth=2.0 if main else 1.1, zorder=3 if main else 2)
    for change in changes:
        ax.axvline(change["t"], color="k", linestyle=":", linewidth=1)
        if change["width"]:
            ax.axvspan(change["t"], change["t"] + change["width"], color="k", alpha=0.08)
        ax.annotate(change["kind"], (change["t"], 1.0), xycoords=("data", "axes fraction"), fontsize=8,
                    ha="left", va="top", rotation=90)
    ax.set_xlabel("record")
    ax.set_ylabel(f"rolling {metric} (window 500)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2, loc="lower left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_grid(runs: dict, streams, variants, seeds, out: pathlib.Path, group_changes) -> list[pathlib.Path]:
    """One plot per stream and seed of ``runs`` ((stream, variant, seed) -> run record)."""
    paths = []
    for seed in seeds:
        for stream in streams:
            chosen = {v: runs[stream, v, seed] for v in variants if (stream, v, seed) in runs}
            if not chosen:
                continue
            any_run = next(iter(chosen.values()))
            spec = any_run["config"]["stream_params"]
            title = f"{stream} ({any_run['config']['preset']}, n={spec['n']}, labels={spec['labels']}, seed {seed})"
            changes = group_changes(any_run["change_points"])
            paths.append(plot_stream(title, chosen, changes, out / f"{stream}_s{seed}.png"))
    return paths
