"""What :func:`~stream_xml.evaluation.prequential.evaluate` returns: a dict (``report.json``'s
content and the series) that shows itself in a notebook and draws its curves.

In Jupyter, a result as the last expression of a cell shows the stream's shape and the tables
of the HTML report (metrics of every model, the best in bold; costs); ``result.plot()`` draws
the metrics over the stream (``result.plot("speed")``, ``result.plot("events")`` the other
figures), ``result.write(folder)`` writes the report files.

>>> from connectors.bundled import YeastSource
>>> from stream_xml.baselines import MajorityLabelset
>>> from stream_xml.evaluation.prequential import evaluate
>>> result = evaluate(YeastSource(), {"majority": MajorityLabelset()}, limit=200, every=50, window=100)
>>> isinstance(result, dict), result["stream"]["records"]
(True, 200)
>>> "<table>" in result._repr_html_()
True
>>> [ax.get_title(loc="left") for ax in result.plot(["micro_f1"]).axes]
['micro-F1']

"""

from __future__ import annotations

import html

__all__ = ["EvaluationResult"]

_STYLE = ("<style>.stream-xml td.best{font-weight:700;background:#e8f4ea}.stream-xml td,.stream-xml th"
          "{text-align:right;padding:.25em .6em}.stream-xml tbody th{text-align:left}.stream-xml .swatch"
          "{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:.4em}</style>")


class EvaluationResult(dict):
    """The result of a prequential run: a plain dict with a notebook view (``_repr_html_``),
    :meth:`plot` and :meth:`write`."""

    def _repr_html_(self) -> str:
        from stream_xml.evaluation.report_page import cost_table, metrics_table

        s = self.get("stream", {})
        head = (f"<p><b>{html.escape(str((self.get('source') or {}).get('name') or 'stream'))}</b>: "
                f"{s.get('records', 0):,} records, {s.get('labels', 0):,} labels, window {self.get('window')}"
                f"{' (interrupted)' if self.get('interrupted') else ''}. "
                "<code>.plot()</code> draws the metrics over the stream.</p>")
        return f'<div class="stream-xml">{_STYLE}{head}{metrics_table(self)}{cost_table(self)}</div>'

    def plot(self, what="metrics"):
        """A matplotlib figure: ``"metrics"`` (or a list of metric names: those panels only),
        ``"events"`` or ``"speed"`` (records/s and memory)."""
        from stream_xml.evaluation import report_plots

        if what == "events":
            return report_plots.events_figure(self)
        if what == "speed":
            return report_plots.speed_figure(self)
        metrics = report_plots.PLOTTED_METRICS if what == "metrics" else [what] if isinstance(what, str) else what
        return report_plots.metrics_figure(self, metrics, columns=min(2, len(metrics)))

    def write(self, out_dir: str, config: dict | None = None) -> list[str]:
        """Write ``report.json``, ``series.csv`` and ``report.html`` into ``out_dir``."""
        from stream_xml.evaluation.report import write_report

        return write_report(self, out_dir, config=config)
