"""Prequential evaluation: the loop, incremental metrics, latency summaries and report writers."""

from stream_xml.evaluation.metrics import MultiLabelMetrics
from stream_xml.evaluation.prequential import PrequentialEvaluator, evaluate
from stream_xml.evaluation.report import write_report

__all__ = ["MultiLabelMetrics", "PrequentialEvaluator", "evaluate", "write_report"]
