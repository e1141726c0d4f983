"""Report writers: ``report.json``, ``series.csv`` and a standalone ``report.html``.

The HTML page (:mod:`~stream_xml.evaluation.report_page`, plots in
:mod:`~stream_xml.evaluation.report_plots` and :mod:`~stream_xml.evaluation.report_hierarchy`)
embeds its plots as PNG data URIs, so the one file can be mailed or archived. The files are
written whole and atomically, readable by others as the umask allows (like any file a command
writes), so a report can be served or shared as it is.

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

import csv
import io
import json
import math
import os

from stream_xml.evaluation.report_page import render_page
from stream_xml.evaluation.report_plots import PLOTTED_METRICS
from stream_xml.files import write_atomic

__all__ = ["write_report", "write_json", "write_series_csv", "write_html", "PLOTTED_METRICS", "REPORT_MODE"]

# temporaries of the report files while they are written (a writer killed mid-write leaves one)
TMP_PREFIX = ".report-tmp-"
# reports are for reading: rw-rw-rw- less the umask, as open() would make them
REPORT_MODE = 0o666


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
    write_atomic(path, text.encode("utf-8", "backslashreplace"), prefix=TMP_PREFIX, mode=REPORT_MODE)


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


def write_html(result: dict, path: str, config: dict | None = None) -> str:
    _atomic_write(path, render_page(result, config))
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
