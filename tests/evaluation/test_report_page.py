"""Issue 21, item 7: the HTML report. What the page and its figures hold, checked without a browser
(the screenshots of the README's development section are looked at by a person)."""

import itertools
import re

import pytest
from river import datasets

from connectors.base import Record
from stream_xml.baselines import MajorityLabelset
from stream_xml.evaluation import report_plots
from stream_xml.evaluation.prequential import evaluate
from stream_xml.evaluation.report_page import render_page

LABELS = [f"l{i}" for i in range(6)]


class Restructuring(MajorityLabelset):
    """The majority labelset that reports the events a clustering model would: cluster splits,
    two restructures (the second regroups the labels), a hand-over and a global drift."""

    def __init__(self):
        super().__init__()
        self.n = 0

    def learn_labelset(self, x, labelset):
        super().learn_labelset(x, labelset)
        self.n += 1

    def drain_events(self):
        n = self.n
        if n in (50, 70):
            return [{"kind": "cluster_split", "labels": 3}]
        if n == 100:
            return [_restructure([LABELS[:3], LABELS[3:]])]
        if n == 130:
            return [{"kind": "handover", "block_size": 3}]
        if n == 200:
            return [{"kind": "global_drift", "signal": "correlation"},
                    _restructure([["l0", "l1", "l2", "l5"], ["l3"], ["l4"]])]
        return []


def _restructure(partition):
    leaves = [{"n_labels": len(b), "labels": b} for b in partition]
    return {"kind": "restructure", "blocks": len(partition), "kept": 0, "rebuilt": len(partition),
            "partition": partition, "tree": {"n_labels": 6, "children": leaves}}


class Stream:
    name, labels = "toy", LABELS
    change_points = [{"t": 150, "width": 40, "kind": "concept"}]

    def __iter__(self):
        for i, (x, y) in enumerate(itertools.islice(datasets.Yeast(), 260)):
            relevant = frozenset(LABELS[j] for j, v in enumerate(list(y.values())[:6]) if v)
            yield Record(x, relevant, {"line": i + 1})


@pytest.fixture(scope="module")
def result():
    return evaluate(Stream(), {"clusters": Restructuring(), "majority": MajorityLabelset()}, every=10, window=50)


@pytest.fixture(scope="module")
def page(result):
    config = {"source": "toy", "models": {"clusters": {"name": "clusters", "params": {"k": 1},
                                                       "repr": "Restructuring (\n  k=1\n)"}}}
    return render_page(result, config)


def test_sections_in_reading_order(page):
    order = ["Whole-stream metrics", "Last window", "Costs", "Events", "Metrics over the stream",
             "Speed and memory", "Label hierarchy", "Configuration"]
    positions = [page.index(f">{title}") for title in order]
    assert positions == sorted(positions)


def test_every_plot_has_its_title_and_note_above_it_and_nothing_below(page):
    images = [m.start() for m in re.finditer("<img ", page)]
    assert len(images) == 4  # events, metrics, speed and memory, blocks over time
    for start in images:
        before = page[:start]
        heading = max(before.rfind("<h2>"), before.rfind("<h3>"))
        assert heading > max(before.rfind("<img "), 0) and '<p class="how">' in before[heading:]
        after = page[start:]
        nxt = min(i for i in (after.find("<h2>"), after.find("<h3>"), after.find("<details"), len(after)) if i >= 0)
        assert "<p" not in after[:nxt] and "figcaption" not in after[:nxt]


def test_the_best_value_of_each_column_is_marked(page, result):
    table = page[page.index(">Whole-stream metrics"):page.index(">Last window")]
    clusters, majority = (result["models"][m]["metrics"]["hamming_loss"] for m in ("clusters", "majority"))
    assert clusters == majority  # the same predictions: a tie, both marked
    rows = re.findall(r'<tr><th><span class="swatch".*?</tr>', table)
    assert len(rows) == 2 and all('class="best">' + f"{clusters:,.4f}" in r for r in rows)


def test_events_table_counts_every_kind(page):
    events = page[page.index(">Events"):page.index(">Metrics over the stream")]
    counts = {kind: [int(v) for v in re.findall(r"<td>(\d+)</td>", cells)]
              for kind, cells in re.findall(r"<tr><th>([^<]+)</th>(.*?)</tr>", events) if kind != "event"}
    assert counts == {"restructure (new blocks)": [2, 0], "hand-over (new block answers)": [1, 0],
                      "cluster split": [2, 0], "global drift (clustering restarts)": [1, 0]}


def test_hierarchy_lists_every_label_in_its_blocks_colour(page):
    section = page[page.index(">Label hierarchy"):page.index(">Configuration")]
    assert section.count("<details") == 2 and section.count("<details open>") == 1
    last = section[section.index("<details open>"):]
    colours = dict(re.findall(r'fill="(#[0-9a-f]{6})" font-weight="600">(l\d)<', last)[i][::-1] for i in range(6))
    assert sorted(colours) == LABELS and "more" not in last
    assert colours["l0"] == colours["l1"] == colours["l2"] == colours["l5"]
    assert len({colours["l0"], colours["l3"], colours["l4"]}) == 3


def test_configuration_is_a_table_with_the_models_repr_as_text(page):
    config = page[page.index(">Configuration"):]
    assert "<pre>Restructuring (\n  k=1\n)</pre>" in config and "\\n" not in config
    assert "<code>k=1</code>" in config


def test_metric_panels_show_running_totals_change_points_and_the_filling_window(result):
    fig = report_plots.metrics_figure(result)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:2] == ["clusters", "majority"]
    for entry in ("window of 50 records", "whole stream so far", "window not yet full", "true change point",
                  "gradual change under way", "restructure / global drift (model's colour)"):
        assert entry in legend
    panel = fig.axes[0]
    assert len(panel.get_lines()) >= 4  # windowed and running-total curves of both models, and the marks
    report_plots.figure_png(fig)


def test_speed_is_drawn_on_a_log_scale_and_events_one_row_per_kind(result):
    speed = report_plots.speed_figure(result)
    assert speed.axes[0].get_yscale() == "log"
    report_plots.figure_png(speed)
    events = report_plots.events_figure(result)
    rows = [t.get_text() for t in events.axes[0].get_yticklabels()]
    assert rows == ["clusters · restructure (new blocks)", "clusters · hand-over (new block answers)",
                    "clusters · cluster split", "clusters · global drift (clustering restarts)"]
    report_plots.figure_png(events)


def test_windowed_speed_matches_the_records_and_seconds_between_samples():
    series = [{"model": "m", "t": t, "model_seconds": s} for t, s in ((10, 0.1), (20, 0.2), (30, 0.5), (40, 0.6))]
    t, speed = report_plots.windowed_speed({"series": series, "window": 20}, "m")
    assert t == [10, 20, 30, 40]
    assert speed == pytest.approx([10 / 0.1, 20 / 0.2, 20 / 0.4, 20 / 0.4])


class Clustering(MajorityLabelset):
    """The majority labelset with label clusters that never became blocks (no restructure)."""

    def cluster_tree_named(self):
        return {"n_labels": 6, "children": [{"n_labels": 4, "labels": ["l0", "l1", "l2", "l5"]},
                                            {"n_labels": 2, "children": [{"n_labels": 1, "labels": ["l3"]},
                                                                         {"n_labels": 1, "labels": ["l4"]}]}]}


def test_clusters_without_a_restructure_are_drawn_at_the_end_each_leaf_in_its_colour():
    result = evaluate(Stream(), {"clusters": Restructuring(), "plain": Clustering(), "majority": MajorityLabelset()},
                      every=10, window=50)
    assert result["models"]["plain"]["cluster_tree"]["n_labels"] == 6
    assert result["models"]["majority"]["cluster_tree"] is None
    page = render_page(result, {"source": "toy"})
    section = page[page.index(">Label hierarchy"):page.index(">Configuration")]
    # the restructuring model keeps its restructures; the other gets its final clusters, after them
    assert section.index(">clusters: blocks over the stream") < section.index(">plain: label clusters at the end")
    assert ">clusters: label clusters" not in section and ">majority: label clusters" not in section
    final = section[section.index(">plain: label clusters at the end"):]
    colours = dict(re.findall(r'fill="(#[0-9a-f]{6})" font-weight="600">(l\d)<', final)[i][::-1] for i in range(6))
    assert colours["l0"] == colours["l1"] == colours["l2"] == colours["l5"]
    assert len({colours["l0"], colours["l3"], colours["l4"]}) == 3
