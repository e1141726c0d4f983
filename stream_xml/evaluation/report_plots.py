"""The report's plots (matplotlib), drawn from an evaluation result.

- :func:`metrics_figure`: a grid of panels, one a metric, every model's rolling-window value
  (solid) and running total (dashed) over the stream; the stretch where the window is not yet
  full is shaded, the source's true change points are dashed black lines (shaded while a
  gradual change is under way), and the model's global events (restructures, global drifts)
  dotted lines in its colour;
- :func:`events_figure`: every event a model reported, one row per model and kind, a marker
  shape per kind, on the same stream axis;
- :func:`speed_figure`: records/s over the last window of records (solid, log scale) and as a
  running total (dashed), and model memory.

Every figure is as wide as the page (:data:`WIDTH` inches at :data:`DPI`) with the same margins,
so stacked figures share their x positions. :func:`figure_png` turns one into a data URI.

>>> from connectors.bundled import YeastSource
>>> from stream_xml.baselines import MajorityLabelset
>>> from stream_xml.evaluation.prequential import evaluate
>>> result = evaluate(YeastSource(), {"majority": MajorityLabelset()}, limit=300, every=50, window=100)
>>> fig = metrics_figure(result, ("subset_accuracy", "micro_f1"))
>>> [ax.get_title(loc="left") for ax in fig.axes]
['subset accuracy', 'micro-F1']
>>> figure_png(fig).startswith("data:image/png;base64,")
True

"""

from __future__ import annotations

import base64
import io
import math

from stream_xml.evaluation.report_hierarchy import printable

__all__ = ["metrics_figure", "events_figure", "speed_figure", "figure_png", "model_colors", "PLOTTED_METRICS",
           "EVENT_MARKERS", "METRIC_TITLES"]

WIDTH = 14.0
DPI = 100
MARGINS = {"left": 0.055, "right": 0.975}
PLOTTED_METRICS = ("subset_accuracy", "micro_f1", "macro_f1", "example_f1", "hamming_loss", "precision@1")
METRIC_TITLES = {
    "subset_accuracy": "subset accuracy", "micro_f1": "micro-F1", "macro_f1": "macro-F1",
    "example_f1": "example-based F1", "hamming_loss": "Hamming loss (lower is better)",
    "precision@1": "precision@1", "example_jaccard": "example-based Jaccard",
}
# event kind -> (marker, what it is); kinds not listed are drawn as circles
EVENT_MARKERS = {
    "restructure": ("s", "restructure (new blocks)"),
    "handover": (">", "hand-over (new block answers)"),
    "cluster_split": ("^", "cluster split"),
    "cluster_merge": ("v", "cluster merge"),
    "global_drift": ("X", "global drift (clustering restarts)"),
    "drift": ("d", "drift in a tree branch"),
    "alternate_start": ("o", "alternate subtree started"),
    "alternate_promoted": ("P", "alternate subtree promoted"),
    "alternate_discarded": ("x", "alternate subtree discarded"),
    "split": ("|", "tree split"),
    "memory_limit": ("*", "memory limit: leaves deactivated"),
}
# events drawn as lines across the metric panels: the ones that change a whole model
GLOBAL_EVENTS = ("restructure", "global_drift")
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    return plt


def figure_png(fig) -> str:
    """The figure as a PNG data URI (closed afterwards)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    _pyplot().close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def model_colors(result: dict) -> dict:
    return {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(result.get("models", {}))}


def _rows(result: dict, model: str, key: str) -> tuple[list, list]:
    """(t, value) of one series column for one model, None values left out."""
    ts, vs = [], []
    for row in result.get("series", []):
        value = row.get(key)
        if row.get("model") == model and value is not None and not (isinstance(value, float) and math.isnan(value)):
            ts.append(row["t"])
            vs.append(value)
    return ts, vs


def _change_points(result: dict) -> list[tuple[int, int]]:
    out = []
    for cp in (result.get("source") or {}).get("change_points") or []:
        out.append((cp["t"], cp.get("width", 0)) if isinstance(cp, dict) else (cp, 0))
    return out


def _mark_stream(ax, result: dict, colors: dict, window_shade: bool) -> None:
    """What every panel over the stream shows besides its curves."""
    window = result.get("window")
    if window_shade and window:
        ax.axvspan(0, min(window, result.get("stream", {}).get("records") or window), color="#000", alpha=0.06, lw=0)
    for start, width in _change_points(result):
        ax.axvline(start, color="black", lw=1.1, ls="--")
        if width:
            ax.axvspan(start, start + width, color="black", alpha=0.10, lw=0)
    for name, m in result.get("models", {}).items():
        for e in m.get("events", []):
            if e.get("kind") in GLOBAL_EVENTS:
                ax.axvline(e["t"], color=colors[name], lw=0.9, ls=":", alpha=0.8)


def _change_handles(result: dict) -> list:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    cps = _change_points(result)
    handles = [Line2D([], [], color="black", lw=1.1, ls="--", label="true change point")] if cps else []
    if any(width for _, width in cps):
        handles.append(Patch(color="black", alpha=0.10, label="gradual change under way"))
    return handles


def _legend_handles(result: dict, colors: dict, extra: bool = True) -> list:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Line2D([], [], color=colors[m], lw=2.2, label=printable(m)) for m in colors]
    if not extra:
        return handles
    handles.append(Line2D([], [], color="#444", lw=1.6, label=f"window of {result.get('window') or 0:,} records"))
    handles.append(Line2D([], [], color="#444", lw=1.1, ls="--", label="whole stream so far"))
    handles.append(Patch(color="#000", alpha=0.06, label="window not yet full"))
    if any(e.get("kind") in GLOBAL_EVENTS for m in result.get("models", {}).values() for e in m.get("events", [])):
        handles.append(Line2D([], [], color="#444", lw=0.9, ls=":", label="restructure / global drift (model's colour)"))
    return handles + _change_handles(result)


def _top_legend(fig, handles: list, height: float, per_row: int = 6) -> float:
    """The legend centred above the panels, ``per_row`` entries a row; the inches it takes."""
    fig.legend(handles=handles, loc="upper center", ncol=min(len(handles), per_row), fontsize=9.5, frameon=False)
    return 0.2 + 0.27 * math.ceil(len(handles) / per_row)


def metrics_figure(result: dict, metrics=PLOTTED_METRICS, columns: int = 2):
    """The metric panels (see the module docstring); metrics absent from the series are skipped."""
    plt = _pyplot()
    available = {k.split(".", 1)[1] for row in result.get("series", []) for k in row if k.startswith("window.")}
    metrics = [m for m in metrics if m in available]
    rows = max(1, math.ceil(len(metrics) / columns))
    height = 1.2 + 2.6 * rows
    fig, axes = plt.subplots(rows, columns, figsize=(WIDTH, height), sharex=True, squeeze=False)
    colors = model_colors(result)
    for ax, metric in zip(axes.flat, metrics):
        _mark_stream(ax, result, colors, window_shade=True)
        for name in colors:
            ax.plot(*_rows(result, name, f"window.{metric}"), color=colors[name], lw=1.6)
            ax.plot(*_rows(result, name, f"cumulative.{metric}"), color=colors[name], lw=1.1, ls="--", alpha=0.9)
        ax.set_title(METRIC_TITLES.get(metric, metric), loc="left", fontsize=11, fontweight="bold")
        ax.grid(alpha=0.3)
        ax.margins(x=0)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("records")
    top = _top_legend(fig, _legend_handles(result, colors), height)
    fig.subplots_adjust(top=1 - (top + 0.3) / height, bottom=0.45 / height, hspace=0.35, wspace=0.12, **MARGINS)
    return fig


def _event_rows(result: dict) -> list[tuple[str, str, list]]:
    """(model, kind, record indices) for every kind of event a model reported."""
    rows = []
    for name, m in result.get("models", {}).items():
        by_kind: dict = {}
        for e in m.get("events", []):
            by_kind.setdefault(e.get("kind", "event"), []).append(e["t"])
        order = [k for k in EVENT_MARKERS if k in by_kind] + sorted(k for k in by_kind if k not in EVENT_MARKERS)
        rows.extend((name, kind, by_kind[kind]) for kind in order)
    return rows


def events_figure(result: dict):
    """Every event over the stream, one row per model and kind; None when there is nothing to draw."""
    rows = _event_rows(result)
    if not rows and not _change_points(result):
        return None
    plt = _pyplot()
    height = 1.2 + 0.32 * max(1, len(rows))
    fig, ax = plt.subplots(figsize=(WIDTH, height))
    colors = model_colors(result)
    for i, (name, kind, ts) in enumerate(rows):
        marker = EVENT_MARKERS.get(kind, ("o", kind))[0]
        ax.plot(ts, [i] * len(ts), ls="none", marker=marker, ms=7, color=colors[name], alpha=0.85,
                markeredgewidth=1.4 if marker in ("|", "x") else 0.5)
    for start, width in _change_points(result):
        ax.axvline(start, color="black", lw=1.1, ls="--")
        if width:
            ax.axvspan(start, start + width, color="black", alpha=0.10, lw=0)
    ax.set_yticks(range(len(rows)), [printable(f"{name} · {EVENT_MARKERS.get(kind, (None, kind))[1]}") for name, kind, _ in rows],
                  fontsize=9)
    ax.set_xlim(0, max(1, result.get("stream", {}).get("records") or 1))
    ax.set_xlabel("records")
    ax.grid(axis="x", alpha=0.3)
    top = _top_legend(fig, _change_handles(result), height) + 0.05 if _change_handles(result) else 0.2
    fig.subplots_adjust(top=1 - top / height, bottom=0.55 / height, left=0.2, right=MARGINS["right"])
    ax.set_ylim(max(len(rows), 1) - 0.5, -0.5)
    return fig


def windowed_speed(result: dict, model: str) -> tuple[list, list]:
    """(t, records/s over the last ``window`` records) from the series' model seconds (the
    sampling period's own records/s where an older series lacks them)."""
    ts, seconds = _rows(result, model, "model_seconds")
    if not ts:
        return _rows(result, model, "records_per_s")
    window = result.get("window") or 1
    out_t, out_v, j = [], [], -1  # j: the last sample at least a window before sample i
    for i, t in enumerate(ts):
        while j + 1 < i and ts[j + 1] <= t - window:
            j += 1
        t0, s0 = (ts[j], seconds[j]) if j >= 0 else (0, 0.0)
        if t > t0 and seconds[i] > s0:
            out_t.append(t)
            out_v.append((t - t0) / (seconds[i] - s0))
    return out_t, out_v


def speed_figure(result: dict):
    """records/s (over the last window and running total, log scale) and model memory."""
    plt = _pyplot()
    fig, (speed, memory) = plt.subplots(1, 2, figsize=(WIDTH, 3.6))
    colors = model_colors(result)
    sizes = []
    for name, color in colors.items():
        speed.plot(*windowed_speed(result, name), color=color, lw=1.4)
        speed.plot(*_rows(result, name, "cumulative_records_per_s"), color=color, lw=1.1, ls="--")
        ts, mem = _rows(result, name, "memory_bytes")
        memory.plot(ts, [b / 2**20 for b in mem], color=color, lw=1.6)
        sizes.extend(b / 2**20 for b in mem if b > 0)
    speed.set_yscale("log")
    speed.set_title("records/s (log scale; numba's compilation excluded)", loc="left", fontsize=11, fontweight="bold")
    if sizes and max(sizes) / max(min(sizes), 1e-9) > 30:
        memory.set_yscale("log")
    memory.set_title("model memory (MiB)", loc="left", fontsize=11, fontweight="bold")
    for ax in (speed, memory):
        ax.set_xlabel("records")
        ax.grid(alpha=0.3, which="both")
        ax.margins(x=0)
    from matplotlib.lines import Line2D

    handles = _legend_handles(result, colors, extra=False) + [
        Line2D([], [], color="#444", lw=1.4, label=f"over the last {result.get('window') or 0:,} records"),
        Line2D([], [], color="#444", lw=1.1, ls="--", label="whole stream so far")]
    top = _top_legend(fig, handles, 3.6)
    fig.subplots_adjust(top=1 - (top + 0.3) / 3.6, bottom=0.15, wspace=0.12, **MARGINS)
    return fig
