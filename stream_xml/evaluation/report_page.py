"""The report's HTML page: one standalone file, plots embedded as PNG data URIs.

Top to bottom: what was run on what (the stream's shape, wall time, numba's compilation kept
apart), the whole-stream metrics and the costs of every model (the best value of each column in
bold), the events the models reported, the metrics over the stream, speed and memory, the label
hierarchy of models that cluster their labels (who answered, the blocks at each restructure), and
the configuration. Every plot has its title and how
to read it above it.

>>> from connectors.bundled import YeastSource
>>> from stream_xml.baselines import MajorityLabelset
>>> from stream_xml.evaluation.prequential import evaluate
>>> result = evaluate(YeastSource(), {"majority": MajorityLabelset()}, limit=200, every=50, window=100)
>>> page = render_page(result, {"source": "yeast", "window": 100})
>>> page.startswith("<!DOCTYPE html>"), "Whole-stream metrics" in page, page.count("<img")
(True, True, 2)

"""

from __future__ import annotations

import html
import json
import math

from stream_xml.evaluation import report_hierarchy, report_plots

__all__ = ["render_page", "metrics_table", "cost_table", "TABLE_METRICS", "STYLE"]

TABLE_METRICS = (
    "subset_accuracy", "hamming_loss", "example_f1", "micro_f1", "macro_f1",
    "example_jaccard", "precision@1", "ndcg@3", "psp@1", "psp@3", "psp@5", "label_coverage",
)
LOWER_IS_BETTER = {"hamming_loss"}
HEADINGS = {
    "subset_accuracy": "subset acc.", "hamming_loss": "Hamming loss", "example_f1": "example F1",
    "micro_f1": "micro F1", "macro_f1": "macro F1", "example_jaccard": "Jaccard", "precision@1": "P@1",
    "ndcg@3": "nDCG@3", "psp@1": "PSP@1", "psp@3": "PSP@3", "psp@5": "PSP@5", "label_coverage": "label coverage",
}

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d1d1f; background: #f3f3f5; }
main { max-width: 1400px; margin: 0 auto; padding: 1.6rem 2.2rem 3rem; background: #fff; }
h1 { font-size: 1.7rem; margin: 0 0 .5rem; } h1 small { color: #666; font-weight: 400; font-size: 1rem; }
h2 { font-size: 1.3rem; margin: 2.4rem 0 .6rem; padding-bottom: .25rem; border-bottom: 2px solid #e4e4e8; }
h3 { font-size: 1.05rem; margin: 1.6rem 0 .2rem; }
p.how { color: #555; font-size: .92rem; margin: .1rem 0 .6rem; max-width: 110ch; }
.facts { display: flex; flex-wrap: wrap; gap: .35rem 2rem; margin: .4rem 0 0; padding: 0; list-style: none; color: #444; }
.facts b { color: #111; font-variant-numeric: tabular-nums; }
.banner { background: #fff3cd; border: 1px solid #e0c36a; padding: .5rem .8rem; border-radius: 4px; margin: .8rem 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: .93rem; margin: .3rem 0 .4rem; }
th, td { padding: .38rem .7rem; border-bottom: 1px solid #e6e6ea; text-align: right; white-space: nowrap; }
thead th { border-bottom: 2px solid #c9c9d0; font-weight: 600; vertical-align: bottom; }
tbody th { text-align: left; font-weight: 600; }
td.best { font-weight: 700; background: #e8f4ea; }
td.none { color: #aaa; }
.swatch { display: inline-block; width: .8em; height: .8em; border-radius: 2px; margin-right: .45em; vertical-align: -.05em; }
figure { margin: .2rem 0 1.2rem; } figure img { width: 100%; height: auto; display: block; }
details { margin: .4rem 0; } summary { cursor: pointer; color: #333; }
.tree { display: inline-block; max-width: 100%; box-sizing: border-box; overflow-x: auto; border: 1px solid #eee; border-radius: 4px; padding: .4rem; background: #fcfcfd; }
.blocks { display: flex; flex-wrap: wrap; gap: .3rem .9rem; font-size: .88rem; margin: .4rem 0; }
table.config td { text-align: left; white-space: normal; } table.config th { text-align: left; vertical-align: top; }
pre { white-space: pre-wrap; word-break: break-word; background: #f6f6f8; padding: .6rem .8rem; border-radius: 4px;
      font-size: .85rem; margin: .3rem 0; max-height: 28rem; overflow-y: auto; }
code { background: #f1f1f4; padding: 0 .25em; border-radius: 3px; font-size: .9em; }
"""


def _fmt(v, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return html.escape(str(v))


def _swatch(colour: str) -> str:
    return f'<span class="swatch" style="background:{colour}"></span>'


def _best(values: list, lower: bool) -> set:
    """Indices of the best values (all ties), when there is more than one to compare."""
    present = [(v, i) for i, v in enumerate(values) if isinstance(v, (int, float)) and not math.isnan(v)]
    if len(present) < 2:
        return set()
    target = min(present)[0] if lower else max(present)[0]
    return {i for v, i in present if v == target}


def _table(header: list[str], names: list[str], columns: list[tuple[list, bool | None, int]], colours: dict) -> str:
    """A table with a row per model: ``columns`` are (values, lower-is-better or None, digits)."""
    best = [_best(values, lower) if lower is not None else set() for values, lower, _ in columns]
    head = "".join(f"<th>{h}</th>" for h in header)
    rows = []
    for i, name in enumerate(names):
        cells = []
        for (values, _, digits), winners in zip(columns, best):
            value = values[i]
            css = "best" if i in winners else ("none" if value is None else "")
            cells.append(f'<td class="{css}">{value if isinstance(value, str) else _fmt(value, digits)}</td>')
        rows.append(f"<tr><th>{_swatch(colours[name])}{html.escape(name)}</th>{''.join(cells)}</tr>")
    return f'<div class="scroll"><table><thead><tr><th>model</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def metrics_table(result: dict, key: str = "metrics") -> str:
    """The metrics of every model (``key``: ``metrics`` for the whole stream, ``window_metrics``
    for the last window), the best of each column in bold."""
    models = result.get("models", {})
    names = list(models)
    shown = [k for k in TABLE_METRICS if any(k in (m.get(key) or {}) for m in models.values())]
    columns = [([(models[n].get(key) or {}).get(k) for n in names], k in LOWER_IS_BETTER, 4) for k in shown]
    return _table([HEADINGS.get(k, k) for k in shown], names, columns, report_plots.model_colors(result))


def cost_table(result: dict) -> str:
    """records/s, numba's compilation, latencies and memory of every model."""
    models = result.get("models", {})
    names = list(models)

    def latency(name, which, q):
        return ((models[name].get("latency_us") or {}).get(which) or {}).get(q)

    def mib(name, key):
        b = models[name].get(key)
        return None if b is None else b / 2**20

    columns = [
        ([models[n].get("records_per_s") for n in names], False, 1),
        ([models[n].get("seconds") for n in names], True, 2),
        ([models[n].get("compile_seconds") for n in names], None, 2),
        ([latency(n, "predict", "p50") for n in names], True, 1),
        ([latency(n, "predict", "p99") for n in names], True, 1),
        ([latency(n, "learn", "p50") for n in names], True, 1),
        ([latency(n, "learn", "p99") for n in names], True, 1),
        ([mib(n, "memory_peak_bytes") for n in names], True, 2),
    ]
    header = ["records/s", "model seconds", "numba compile s", "predict µs p50", "predict µs p99", "learn µs p50",
              "learn µs p99", "peak MiB"]
    return _table(header, names, columns, report_plots.model_colors(result))


def _facts(result: dict, config: dict) -> str:
    stream = result.get("stream", {})
    source = result.get("source") or {}
    errors = source.get("errors") or {}
    facts = [
        ("source", html.escape(str(config.get("source") or source.get("name")))),
        ("records", f"{_fmt(stream.get('records'))}" + (f" (+{_fmt(stream['unlabelled_records'])} unlabelled)"
                                                        if stream.get("unlabelled_records") else "")),
        ("labels", _fmt(stream.get("labels"))),
        ("cardinality", _fmt(stream.get("cardinality"), 3)),
        ("features seen", _fmt(stream.get("features_seen"))),
        ("window", f"{_fmt(result.get('window'))} records"),
        ("wall time", f"{_fmt(result.get('wall_seconds'), 1)} s"),
    ]
    if result.get("compile_seconds"):
        facts.append(("numba compilation", f"{_fmt(result['compile_seconds'], 1)} s, apart from the speeds"))
    if errors.get("skipped"):
        facts.append(("bad records skipped", _fmt(errors["skipped"])))
    items = "".join(f"<li>{k} <b>{v}</b></li>" for k, v in facts)
    banners = []
    if result.get("interrupted"):
        banners.append("Interrupted: this report covers the records processed until then.")
    if result.get("stopped_early"):
        banners.append("Stopped early (time limit): this report covers the records processed until then.")
    if errors.get("samples"):
        banners.append("Skipped bad records, the first: " + "; ".join(html.escape(s) for s in errors["samples"][:3]))
    return f'<ul class="facts">{items}</ul>' + "".join(f'<p class="banner">{b}</p>' for b in banners)


def _events_section(result: dict) -> str:
    models = result.get("models", {})
    kinds = sorted({k for m in models.values() for k in (m.get("event_counts") or {})},
                   key=lambda k: (list(report_plots.EVENT_MARKERS).index(k) if k in report_plots.EVENT_MARKERS else 99, k))
    figure = report_plots.events_figure(result)
    if not kinds and figure is None:
        return "<h2>Events</h2><p class=\"how\">No model reported an event, and the source knows no change point.</p>"
    colours = report_plots.model_colors(result)
    head = "".join(f"<th>{_swatch(colours[n])}{html.escape(n)}</th>" for n in models)
    rows = "".join(
        f"<tr><th>{html.escape(report_plots.EVENT_MARKERS.get(k, (None, k))[1])}</th>"
        + "".join(f"<td>{_fmt((m.get('event_counts') or {}).get(k, 0))}</td>" for m in models.values()) + "</tr>"
        for k in kinds)
    table = f'<div class="scroll"><table><thead><tr><th>event</th>{head}</tr></thead><tbody>{rows}</tbody></table></div>' \
        if kinds else ""
    img = (f'<figure><img alt="events over the stream" src="{report_plots.figure_png(figure)}"></figure>'
           if figure is not None else "")
    return ("<h2>Events</h2>"
            '<p class="how">How often each model reported each kind of event about itself; below, each event at '
            "the record where it happened, a row per model and kind (report.json lists every event, up to 5,000 a "
            "model), with the source's true change points.</p>" + table + img)


def _hierarchy_section(result: dict) -> str:
    parts, clusters = [], []
    for name, m in result.get("models", {}).items():
        events = report_hierarchy.restructures(m)
        if not events:
            clusters.append(_final_clusters(name, m.get("cluster_tree")))
            continue
        colours = report_hierarchy.block_colours(events)
        fig = report_hierarchy.timeline_figure(m, result.get("stream", {}).get("records") or 0, report_plots.WIDTH,
                                               report_plots.MARGINS, (result.get("source") or {}).get("change_points"))
        parts.append(f"<h3>{html.escape(name)}: blocks over the stream</h3>"
                     '<p class="how">A row per label, its colour the block (the learner) it belonged to from each '
                     "restructure to the next; a block keeps its colour while most of its labels stay together.</p>"
                     f'<figure><img alt="{html.escape(name)} blocks over the stream" '
                     f'src="{report_plots.figure_png(fig)}"></figure>')
        for i, (e, colour) in enumerate(zip(events, colours)):
            chips = "".join(f"<span>{_swatch(colour.get(block[0], '#555'))}{html.escape(', '.join(map(str, block)))}</span>"
                            for block in sorted(e["partition"], key=len, reverse=True) if block)
            tree = f'<div class="tree">{report_hierarchy.tree_svg(e["tree"], colour)}</div>' if e.get("tree") else ""
            open_ = " open" if i == len(events) - 1 else ""
            parts.append(f"<details{open_}><summary>record {_fmt(e['t'])}: {e.get('blocks', len(e['partition']))} "
                         f"blocks ({e.get('kept', 0)} kept, {e.get('rebuilt', 0)} rebuilt)</summary>"
                         f'<div class="blocks">{chips}</div>{tree}</details>')
    shares = _answer_shares_table(result)
    clusters = "".join(clusters)
    if not parts and not shares and not clusters:
        return ""
    return ("<h2>Label hierarchy</h2>" + shares
            + ("<p class=\"how\">Models that cluster their labels restructure their hierarchy when the clusters "
               "change. Under each restructure: its blocks and the clustering's tree, every label in its block's "
               "colour (the last restructure is open).</p>" + "".join(parts) if parts else "") + clusters)


def _final_clusters(name: str, tree: dict | None) -> str:
    """The label clusters of a model whose clustering never made blocks (no restructure), each
    leaf cluster in a colour of its own; empty if the model has none or a single cluster."""
    if not tree or not tree.get("children"):
        return ""
    svg = report_hierarchy.tree_svg(tree, report_hierarchy.leaf_colours(tree))
    return (f"<h3>{html.escape(name)}: label clusters at the end of the stream</h3>"
            '<p class="how">The clustering\'s tree when the stream ended, every leaf cluster in a colour of its own. '
            "No restructure made them blocks (one block of every label, the partition engine's default), so they "
            "grouped the labels without deciding who answers.</p>"
            f'<div class="tree">{svg}</div>')


def _answer_shares_table(result: dict) -> str:
    """Who answered the labels, for models that say (``answer_shares`` in report.json)."""
    models = {n: m["answer_shares"] for n, m in result.get("models", {}).items() if m.get("answer_shares")}
    if not models:
        return ""
    kinds = list(dict.fromkeys(k for shares in models.values() for k in shares))
    columns = [([models[n].get(k) for n in models], None, 3) for k in kinds]
    return ('<p class="how">Who answered the labels, as a share of every label answer handed out over the stream: '
            "the blocks' own learners, the root learner over all labels (the only learner of a partition of one "
            "block, else where the arbiter found it better), or a fallback while a new block's learner was on "
            "trial. A hierarchy whose blocks answer little costs without deciding much.</p>"
            + _table(kinds, list(models), columns, report_plots.model_colors(result)))


def _config_section(config: dict) -> str:
    if not config:
        return ""
    rows = []
    for key, value in config.items():
        if key == "models" and isinstance(value, dict):
            continue
        shown = "–" if value is None else html.escape(json.dumps(value, default=str) if not isinstance(value, str) else value)
        rows.append(f"<tr><th>{html.escape(str(key))}</th><td>{shown}</td></tr>")
    models = []
    for label, spec in (config.get("models") or {}).items():
        params = " ".join(f"<code>{html.escape(f'{k}={v!r}')}</code>" for k, v in (spec.get("params") or {}).items())
        models.append(f"<tr><th>{html.escape(label)}</th><td>{html.escape(str(spec.get('name', label)))} "
                      f"{params or '(defaults)'}<details><summary>full configuration</summary>"
                      f"<pre>{html.escape(str(spec.get('repr', '')))}</pre></details></td></tr>")
    return (f'<h2>Configuration</h2><table class="config"><tbody>{"".join(models)}{"".join(rows)}</tbody></table>')


NOTES = """<details><summary>How the metrics are computed</summary><p class="how">Test-then-train: every labelled
record is predicted first, scored, then learned from. Hamming loss: lower is better; every other metric: higher is
better. Macro averages run over every label known so far; 0/0 counts as {zero}. precision@k and nDCG@k count only
records with at least one relevant label. PSP@k: propensity-scored precision@k (propensities from the label counts so
far, A = 0.55, B = 1.5), divided by its best value on the same records (1 is best). Label coverage: the share of the
labels relevant at least once that were predicted correctly at least once. records/s: records over the seconds spent
in the model's predict and learn calls, numba's compilation (and loading of compiled kernels) excluded and shown
apart.</p></details>"""


def render_page(result: dict, config: dict | None = None) -> str:
    """The whole page as text."""
    config = config or {}
    source = html.escape(str(config.get("source") or (result.get("source") or {}).get("name") or "stream"))
    metrics_png = report_plots.figure_png(report_plots.metrics_figure(result))
    speed_png = report_plots.figure_png(report_plots.speed_figure(result))
    window = _fmt(result.get("window"))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>stream-xml: {source}</title><style>{STYLE}</style></head><body><main>
<h1>Prequential evaluation <small>stream-xml · {source}</small></h1>
{_facts(result, config)}
<h2>Whole-stream metrics</h2>
<p class="how">Every model over every labelled record; the best value of each column in bold.</p>
{metrics_table(result)}
<h3>Last window ({window} records)</h3>
{metrics_table(result, "window_metrics")}
<h3>Costs</h3>
<p class="how">records/s and latencies leave out numba's compilation (a first run on a fresh checkout compiles the
kernels; later runs load them from numba's cache), which is counted apart.</p>
{cost_table(result)}
{NOTES.format(zero=_fmt(config.get("zero_division", 0.0), 1))}
{_events_section(result)}
<h2>Metrics over the stream</h2>
<p class="how">Solid: the metric over the last {window} records; dashed: over the whole stream so far. Shaded on the
left: the records before the window first fills (there it covers fewer records and is noisier).</p>
<figure><img alt="metrics over the stream" src="{metrics_png}"></figure>
<h2>Speed and memory</h2>
<p class="how">records/s over the last {window} records (solid, log scale) and over the whole stream so far (dashed),
numba's compilation excluded; the model's memory as it reports it.</p>
<figure><img alt="speed and memory" src="{speed_png}"></figure>
{_hierarchy_section(result)}
{_config_section(config)}
</main></body></html>
"""
