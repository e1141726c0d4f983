"""Report writers: ``report.json``, ``series.csv`` and a standalone ``report.html``.

The HTML page embeds its plots as PNG data URIs, so the one file can be mailed or archived. Plots
show the rolling-window metrics of every model over the stream, with the events each model
reported (restructures, drifts, splits...) as markers and the source's true change points, when it
knows them, as dashed lines (shaded over the width of a gradual change).

>>> import tempfile, os, json
>>> from connectors.bundled import YeastSource
>>> from stream_xml.baselines import MajorityLabelset
>>> from stream_xml.evaluation.prequential import evaluate
>>> from stream_xml.evaluation.report import write_report
>>> result = evaluate(YeastSource(), {"majority": MajorityLabelset()}, limit=300)
>>> out = tempfile.mkdtemp()
>>> paths = write_report(result, out, config={"source": "yeast"})
>>> sorted(os.path.basename(p) for p in paths)
['report.html', 'report.json', 'series.csv']
>>> json.load(open(os.path.join(out, "report.json")))["stream"]["records"]
300

"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
import os

from stream_xml.files import write_atomic

__all__ = ["write_report", "write_json", "write_series_csv", "write_html", "PLOTTED_METRICS"]

PLOTTED_METRICS = ("subset_accuracy", "micro_f1", "macro_f1", "example_f1", "hamming_loss", "precision@1")
TABLE_METRICS = (
    "subset_accuracy", "hamming_loss", "example_f1", "micro_f1", "macro_f1",
    "example_jaccard", "precision@1", "ndcg@3", "psp@1", "psp@3", "psp@5", "label_coverage",
)
# temporaries of the report files while they are written (a writer killed mid-write leaves one)
TMP_PREFIX = ".report-tmp-"
# events worth a marker on the metric plots; the rest are counted in the table
MARKED_EVENTS = ("restructure", "cluster_merge", "global_drift", "alternate_promoted", "change_point")


def _clean(value):
    """JSON-safe: NaN and infinities become null."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return _clean(value.item())
    return value


def _atomic_write(path: str, text: str) -> None:
    # a name that is not valid text (an unpaired surrogate from an old checkpoint) is written
    # escaped rather than failing the whole report
    write_atomic(path, text.encode("utf-8", "backslashreplace"), prefix=TMP_PREFIX)


def write_json(result: dict, path: str, config: dict | None = None) -> str:
    doc = {k: v for k, v in result.items() if k != "series"}
    if config is not None:
        doc = {"config": config, **doc}
    _atomic_write(path, json.dumps(_clean(doc), indent=2, default=str) + "\n")
    return path


def write_series_csv(series: list[dict], path: str) -> str:
    columns: list[str] = []
    for row in series:
        for key in row:
            if key not in columns:
                columns.append(key)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in series:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    _atomic_write(path, buf.getvalue())
    return path


def _figure_png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _plots(result: dict) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    series = result.get("series", [])
    models = list(result.get("models", {}))
    change_points = result.get("source", {}).get("change_points") or []
    colors = {m: f"C{i % 10}" for i, m in enumerate(models)}
    plots = []
    available = {k.split(".", 1)[1] for row in series for k in row if k.startswith("window.")}
    for metric in PLOTTED_METRICS:
        if metric not in available:
            continue
        fig, ax = plt.subplots(figsize=(9, 3.2))
        for m in models:
            rows = [r for r in series if r["model"] == m and r.get(f"window.{metric}") is not None]
            ax.plot([r["t"] for r in rows], [r[f"window.{metric}"] for r in rows], color=colors[m], label=m, lw=1.3)
        for m in models:
            marked = [e["t"] for e in result["models"][m].get("events", []) if e.get("kind") in MARKED_EVENTS]
            for t in marked:
                ax.axvline(t, color=colors[m], alpha=0.6, lw=0.9, ls=":")
            if marked:
                # triangles along the top edge keep events visible where lines crowd
                ax.plot(marked, [1.0] * len(marked), "v", color=colors[m], ms=6, clip_on=False,
                        transform=ax.get_xaxis_transform(), label=f"{m} events")
        for cp in change_points:
            start = cp["t"] if isinstance(cp, dict) else cp
            width = cp.get("width", 0) if isinstance(cp, dict) else 0
            ax.axvline(start, color="black", lw=1.0, ls="--")
            if width:
                ax.axvspan(start, start + width, color="black", alpha=0.08)
        ax.set_xlabel("records")
        ax.set_ylabel(f"{metric} (window {result.get('window')})")
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8)
        plots.append((metric, _figure_png(fig)))
        plt.close(fig)
    # throughput and memory
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3))
    for m in models:
        rows = [r for r in series if r["model"] == m]
        a1.plot([r["t"] for r in rows], [r.get("records_per_s") for r in rows], color=colors[m], label=m)
        mem = [(r["t"], r.get("memory_bytes")) for r in rows if r.get("memory_bytes") is not None]
        if mem:
            a2.plot([t for t, _ in mem], [b / 2**20 for _, b in mem], color=colors[m], label=m)
    a1.set_title("records/s (cumulative)", fontsize=9)
    a2.set_title("model memory (MiB)", fontsize=9)
    for a in (a1, a2):
        a.set_xlabel("records")
        a.grid(alpha=0.3)
    a1.legend(fontsize=8)
    plots.append(("throughput and memory", _figure_png(fig)))
    plt.close(fig)
    return plots


HIERARCHY_SHOWN = 12  # restructures drawn per model


def _tree_svg(tree: dict) -> str:
    """A small dendrogram of a label-cluster tree: leaves left to right, root on top."""
    leaves: list = []

    def layout(node, depth):
        children = node.get("children")
        if not children:
            leaves.append(node)
            node["_x"], node["_y"] = len(leaves) - 1, depth
            return
        for c in children:
            layout(c, depth + 1)
        node["_x"] = sum(c["_x"] for c in children) / len(children)
        node["_y"] = depth

    layout(tree, 0)
    depth = max(n["_y"] for n in leaves) if leaves else 0
    dx, dy, top = 90, 34, 14
    width, height = max(1, len(leaves)) * dx, top + depth * dy + 70
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-size="10" font-family="sans-serif">']

    def pos(n):
        return n["_x"] * dx + dx / 2, top + n["_y"] * dy

    def draw(node):
        x, y = pos(node)
        for c in node.get("children", ()):
            cx, cy = pos(c)
            parts.append(f'<path d="M{x:.0f},{y:.0f} V{cy - dy / 2:.0f} H{cx:.0f} V{cy:.0f}" '
                         'fill="none" stroke="#888"/>')
            draw(c)
        parts.append(f'<circle cx="{x:.0f}" cy="{y:.0f}" r="3.5" fill="#3a6ea5"/>')
        if "children" not in node:
            names = node.get("labels", [])
            more = node.get("n_labels", len(names)) - len(names)
            lines = [html.escape(str(n))[:14] for n in names[:4]] + ([f"+{more + len(names) - 4} more"]
                                                                      if len(names) > 4 or more > 0 else [])
            for i, text in enumerate(lines):
                parts.append(f'<text x="{x:.0f}" y="{y + 14 + 11 * i:.0f}" text-anchor="middle">{text}</text>')

    draw(tree)
    parts.append("</svg>")
    return "".join(parts)


def _hierarchy_html(result: dict) -> str:
    """For each model that restructured: the cluster tree and blocks at each restructure."""
    sections = []
    for name, m in result.get("models", {}).items():
        restructures = [e for e in m.get("events", []) if e.get("kind") == "restructure" and e.get("tree")]
        if not restructures:
            continue
        shown = restructures[:HIERARCHY_SHOWN]
        items = []
        for e in shown:
            blocks = "; ".join("{" + ", ".join(html.escape(str(x)) for x in b) + "}" for b in e.get("partition", []))
            items.append(
                f'<div class="restructure"><h4>record {e["t"]}: {e.get("blocks")} blocks '
                f'({e.get("kept", 0)} kept, {e.get("rebuilt", 0)} rebuilt)</h4>'
                f'<div class="tree">{_tree_svg(json.loads(json.dumps(e["tree"])))}</div>'
                f'<p class="note">blocks: {blocks}</p></div>'
            )
        more = len(restructures) - len(shown)
        tail = f'<p class="note">{more} later restructures are in report.json.</p>' if more > 0 else ""
        sections.append(f"<h3>{html.escape(name)}</h3>{''.join(items)}{tail}")
    if not sections:
        return ""
    return ("<h2>Label hierarchy</h2><p class=\"note\">The clustering tree over the labels and the blocks "
            "that get learners, at each restructure (the tree is drawn to depth 12; leaves list their "
            "first labels).</p>" + "".join(sections))


def _fmt(v, digits=4) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return html.escape(str(v))


def write_html(result: dict, path: str, config: dict | None = None) -> str:
    models = result.get("models", {})
    stream = result.get("stream", {})
    rows = []
    for name, m in models.items():
        metrics = m.get("metrics", {})
        cells = "".join(f"<td>{_fmt(metrics.get(k))}</td>" for k in TABLE_METRICS)
        lat = m.get("latency_us", {})
        mem = m.get("memory_peak_bytes")
        rows.append(
            f"<tr><th>{html.escape(name)}</th>{cells}<td>{_fmt(m.get('records_per_s'), 1)}</td>"
            f"<td>{_fmt(lat.get('predict', {}).get('p50'), 1)} / {_fmt(lat.get('predict', {}).get('p99'), 1)}</td>"
            f"<td>{_fmt(lat.get('learn', {}).get('p50'), 1)} / {_fmt(lat.get('learn', {}).get('p99'), 1)}</td>"
            f"<td>{_fmt(mem / 2**20 if mem else None, 2)}</td></tr>"
        )
    header = "".join(f"<th>{html.escape(k)}</th>" for k in TABLE_METRICS)
    event_rows = []
    for name, m in models.items():
        counts = m.get("event_counts", {})
        if counts:
            listed = ", ".join(f"{html.escape(str(k))}: {v}" for k, v in sorted(counts.items()))
            event_rows.append(f"<tr><th>{html.escape(name)}</th><td>{listed}</td></tr>")
    plots = "".join(
        f'<figure><img alt="{html.escape(title)}" src="{src}"><figcaption>{html.escape(title)}</figcaption></figure>'
        for title, src in _plots(result)
    )
    errors = (result.get("source") or {}).get("errors") or {}
    cfg = html.escape(json.dumps(_clean(config or {}), indent=1, default=str))
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>stream-xml report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }}
th, td {{ border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }}
th:first-child {{ text-align: left; }}
figure {{ margin: 1em 0; }} img {{ max-width: 100%; }}
.note {{ color: #666; font-size: 0.85em; }}
.tree {{ overflow-x: auto; border-left: 3px solid #dde; padding-left: 0.5em; }}
</style></head><body>
<h1>Prequential evaluation</h1>
<p>Source <b>{html.escape(str((result.get('source') or {}).get('name')))}</b>:
{stream.get('records')} labelled records ({stream.get('unlabelled_records', 0)} unlabelled),
{stream.get('labels')} labels, cardinality {_fmt(stream.get('cardinality'), 3)},
{stream.get('features_seen')} features seen; {_fmt(result.get('wall_seconds'), 1)} s wall time.
{'<b>Interrupted: partial report.</b>' if result.get('interrupted') else ''}
Records skipped as bad input: {errors.get('skipped', 0)}.</p>
<h2>Whole-stream metrics</h2>
<table><tr><th>model</th>{header}<th>records/s</th><th>predict µs p50 / p99</th>
<th>learn µs p50 / p99</th><th>peak MiB</th></tr>{''.join(rows)}</table>
<p class="note">Test-then-train on every labelled record. Hamming loss: lower is better. Macro averages
run over every label known so far; 0/0 counts as {_fmt((config or {}).get('zero_division', 0.0), 1)}.
precision@k and nDCG@k count only records with at least one relevant label. psp@k: propensity-scored
precision@k (propensities from the label counts so far, A = 0.55, B = 1.5), summed over the records and
divided by the sum of its best values on the same records (1 is best). label_coverage: the share of the
labels relevant at least once that were predicted correctly at least once.</p>
<h2>Events</h2>
<table>{''.join(event_rows) or '<tr><td>no events reported</td></tr>'}</table>
<h2>Rolling metrics (window {result.get('window')})</h2>
<p class="note">Dotted lines and triangles: events reported by the model (same colour): restructures,
cluster merges, global drifts, promoted alternate trees. Dashed black lines: the source's true change
points (shaded while a gradual change is under way).</p>
{plots}
{_hierarchy_html(result)}
<h2>Configuration</h2><pre>{cfg}</pre>
</body></html>
"""
    _atomic_write(path, page)
    return path


def write_report(result: dict, out_dir: str, config: dict | None = None, formats=("json", "csv", "html")) -> list[str]:
    """Write the report files into ``out_dir`` (created if needed); returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    if "json" in formats:
        paths.append(write_json(result, os.path.join(out_dir, "report.json"), config))
    if "csv" in formats:
        paths.append(write_series_csv(result.get("series", []), os.path.join(out_dir, "series.csv")))
    if "html" in formats:
        paths.append(write_html(result, os.path.join(out_dir, "report.html"), config))
    return paths
