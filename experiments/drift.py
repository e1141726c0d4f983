"""Drift study: what each level of iHOMER's drift handling contributes, on a grid of drift kinds.

Every stream of the grid (:data:`STREAMS`: synthetic presets with sudden, gradual and
incremental concept, correlation, imbalance and feature drift, and recurring concepts) is run
prequentially once per variant (:data:`VARIANTS`) and seed. Around each true change point the
study measures, on the rolling (window 500, sampled every 100 records) subset accuracy and
micro-F1:

- the level just before the change (mean of the samples in the 500 records before it) and the
  minimum after it (up to the next change);
- recovery: records from the change's start until the rolling value is back to the pre-change
  level minus 0.01 and stays there for 3 samples, searched from the first sample whose window
  holds only records of the new concept (start + width + 499); 0 when the value never falls
  below that level before the next change; None ("not recovered") when it never comes back;
- the mean rolling micro-F1 over the 3000 records from the change's start (drop and recovery in
  one number);
- detection delay: records from the change's start to the model's first drift-type event within
  [start, start + width + 2000] (:data:`DETECTION_KINDS`; iHOMER's also split into its global
  and local level);
- false alarms: drift-type events outside every such window and after the first 2000 records
  (iHOMER builds its hierarchy there), per 100k of those change-free records.

Variants: ``ihomer`` (defaults, partition mode) and ``ihomer-b`` (routing mode); ``ihomer-frozen``: the
partition is frozen at the first change (restructures and the correlation detector switched off
from then on), which removes the global level's reaction to the drifts but keeps the hierarchy
learned before them; ``ihomer-no-global``: ``drift_signals=()`` and
``restructure_min_t=10**12``, so the partition never leaves its first state, one block of every
declared label (a single MLHAT with iHOMER's parameters); ``ihomer-no-local``: the trees'
drift detection off (``tree__drift_detection=False``); ``ihomer-frozen-no-local`` and
``ihomer-no-drift`` (one block, no local): both levels off; then ``mlhat``, ``mlht`` and river's
``br-ht``, which by default runs on :data:`RIVER_STREAMS` only (it costs as much as all the
iHOMER variants together).

Each run's compact JSON is cached under ``--out``: a rerun resumes, reusing the runs whose
configuration is unchanged. The script then writes ``changes.csv`` (one row per stream, variant,
seed and change), ``tables.md`` (the tables of ``experiments/RESULTS.md``) and one PNG per stream
and seed (rolling micro-F1 of every variant, change points marked).

    python experiments/drift.py                 # the full grid, seed 0
    python experiments/drift.py --seeds 2       # seeds 0 and 1
    python experiments/drift.py --quick         # a tiny grid, for smoke testing

Events are taken from the model itself, stamped with the stream's record index by
:class:`Tracked`: the trees inside iHOMER stamp theirs with their own record count, which is not
the stream's.
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import math
import os
import pathlib
import statistics
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
for _path in (str(ROOT), str(HERE)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from connectors.synthetic import make_stream  # noqa: E402
from stream_xml.evaluation.prequential import evaluate  # noqa: E402
from stream_xml.models import make_model  # noqa: E402

WINDOW = 500          # rolling window of the series
EVERY = 100           # series sampling period
PRE_SPAN = 500        # the pre-change level averages the samples this far before the change
TOLERANCE = 0.01      # recovered = back to pre-change level - TOLERANCE
HOLD = 3              # ... for this many consecutive samples
HORIZON = 2000        # a detection counts within start + width + HORIZON
BURN_IN = 2000        # events before this record are not counted as false alarms
POST_SPAN = 3000      # span of the post-change mean
METRICS = ("subset_accuracy", "micro_f1")
WHOLE_METRICS = ("subset_accuracy", "micro_f1", "hamming_loss", "example_f1", "macro_f1")

# name -> (registered model, parameters, extra: {"freeze": True} freezes the partition at the first change)
NO_GLOBAL = {"drift_signals": (), "restructure_min_t": 10**12}
# the hierarchy this study takes apart: blocks of ⌈√L⌉ labels (iHOMER's default keeps one block
# beside its root learner since issue 23's seventh round, as "ihomer-no-global" does)
BLOCKS = {"min_block": "sqrt"}
VARIANTS: dict[str, tuple[str, dict, dict]] = {
    "ihomer": ("ihomer", dict(BLOCKS), {}),
    "ihomer-b": ("ihomer", {"mode": "routing"}, {}),
    "ihomer-frozen": ("ihomer", dict(BLOCKS), {"freeze": True}),
    "ihomer-no-global": ("ihomer", dict(NO_GLOBAL), {}),
    "ihomer-no-local": ("ihomer", {**BLOCKS, "tree__drift_detection": False}, {}),
    "ihomer-frozen-no-local": ("ihomer", {**BLOCKS, "tree__drift_detection": False}, {"freeze": True}),
    "ihomer-no-drift": ("ihomer", {**NO_GLOBAL, "tree__drift_detection": False}, {}),
    "mlhat": ("mlhat", {}, {}),
    "mlht": ("mlht", {}, {}),
    "br-ht": ("br-ht", {}, {}),
}
GLOBAL_KINDS = ("global_drift", "restructure")
LOCAL_KINDS = ("alternate_promoted",)
# variant family -> event kinds that count as the model reacting to a drift
DETECTION_KINDS = {
    "ihomer": GLOBAL_KINDS + LOCAL_KINDS,
    "mlhat": ("alternate_promoted", "drift"),
}
# events kept (with their record index) for the study; every kind is counted
KEPT_KINDS = ("global_drift", "restructure", "alternate_promoted", "drift", "cluster_split", "cluster_merge",
              "handover")

# name -> (preset, parameters); widths below 1 are fractions of n
STREAMS: dict[str, tuple[str, dict]] = {
    "concept-sudden": ("concept-shift", {}),
    "concept-gradual": ("gradual-concept", {}),
    "concept-incremental": ("incremental-concept", {}),
    "correlation-sudden": ("correlation-shift", {}),
    "correlation-gradual": ("correlation-shift", {"width": 0.1, "mode": "gradual"}),
    "imbalance-sudden": ("imbalance-shift", {}),
    "imbalance-gradual": ("imbalance-shift", {"width": 0.1, "mode": "gradual"}),
    "feature-sudden": ("feature-shift", {}),
    "feature-incremental": ("feature-shift", {"width": 0.1, "mode": "incremental"}),
    "recurring-concept": ("recurring", {"kind": "concept"}),
    "recurring-correlation": ("recurring", {"kind": "correlation"}),
}
QUICK_STREAMS = ("concept-sudden", "correlation-gradual")
# river's BR-HT costs as much as all the iHOMER variants together: by default it runs (whole
# streams) on the sudden and recurring ones only
RIVER_VARIANTS = ("br-ht",)
RIVER_STREAMS = ("concept-sudden", "correlation-sudden", "imbalance-sudden", "feature-sudden", "recurring-concept")


# ------------------------------------------------------------------------------ running


def family(variant: str) -> str:
    """``ihomer`` for every iHOMER variant, else the variant's registered model."""
    return VARIANTS[variant][0]


def detection_kinds(variant: str) -> tuple:
    """Event kinds that count as ``variant`` reacting to a drift (empty: it has no drift handling)."""
    if variant == "mlht":
        return ()
    return DETECTION_KINDS.get(family(variant), ())


def freeze_partition(model) -> None:
    """Stop an iHOMER from ever changing its partition again (global drift handling off: neither
    a restructure nor a restart of the clustering happens before ``restructure_min_t``)."""
    model.restructure_min_t = 10**12


class Tracked:
    """A model as the prequential loop sees it, recording the model's events itself.

    Every event the model reports after learning record ``t`` (1-based, the loop's index) is
    counted by kind, and those of :data:`KEPT_KINDS` are kept as ``{"t", "kind"}`` (plus the
    ``signal`` of a global drift). The loop sees no events, so its cap on kept events does not
    apply. ``freeze_at``: the record from which the partition is frozen (iHOMER only).
    """

    def __init__(self, model, freeze_at: int | None = None):
        self.model = model
        self.freeze_at = freeze_at
        self.t = 0
        self.counts: collections.Counter = collections.Counter()
        self.events: list[dict] = []

    def __getattr__(self, name):
        if name == "model":  # not set yet (copy, unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.model, name)

    def learn_labelset(self, x, labelset) -> None:
        self.t += 1
        if self.freeze_at is not None and self.t == self.freeze_at:
            freeze_partition(self.model)
        self.model.learn_labelset(x, labelset)
        drain = getattr(self.model, "drain_events", None)
        for event in drain() if drain is not None else ():
            self.note(event)

    def note(self, event: dict) -> None:
        kind = event.get("kind", "event")
        self.counts[kind] += 1
        if kind in KEPT_KINDS:
            kept = {"t": self.t, "kind": kind}
            if "signal" in event:
                kept["signal"] = event["signal"]
            self.events.append(kept)

    def drain_events(self) -> list:
        return []


def stream_params(stream: str, n: int, labels: int, seed: int) -> tuple[str, dict]:
    """Preset and parameters of a grid stream."""
    preset, params = STREAMS[stream]
    return preset, {**params, "n": n, "labels": labels, "seed": seed}


def run_config(stream: str, variant: str, seed: int, n: int, labels: int, limit: int | None) -> dict:
    """Everything that determines a run (the cache key)."""
    preset, params = stream_params(stream, n, labels, seed)
    model, model_params, extra = VARIANTS[variant]
    return {
        "stream": stream, "preset": preset, "stream_params": params, "variant": variant, "model": model,
        "model_params": {k: v for k, v in model_params.items()}, "extra": extra, "seed": seed,
        "window": WINDOW, "every": EVERY, "limit": limit,
    }


def execute(config: dict) -> dict:
    """Run one configuration; the compact record the study keeps."""
    source = make_stream(config["preset"], **config["stream_params"])
    changes = source.change_points
    freeze_at = changes[0]["t"] if config["extra"].get("freeze") and changes else None
    model = make_model(config["model"], dict(config["model_params"]), seed=config["seed"])
    tracked = Tracked(model, freeze_at=freeze_at)
    started = time.process_time()
    result = evaluate(source, {config["variant"]: tracked}, limit=config["limit"], every=EVERY, window=WINDOW)
    cpu = time.process_time() - started
    track = result["models"][config["variant"]]
    series = [row for row in result["series"] if row["model"] == config["variant"]]
    return {
        "config": config,
        "records": result["stream"]["records"],
        "change_points": changes,
        "metrics": {k: track["metrics"][k] for k in WHOLE_METRICS},
        "cpu_seconds": cpu,
        "records_per_s": track["records_per_s"],
        "series": {"t": [row["t"] for row in series],
                   **{m: [row[f"window.{m}"] for row in series] for m in METRICS}},
        "event_counts": dict(tracked.counts),
        "events": tracked.events,
        "partition_blocks": len(getattr(model, "partition", []) or []),
    }


def cached_run(config: dict, out: pathlib.Path) -> dict:
    """The run of ``config``, from its JSON under ``out`` when the configuration matches."""
    path = out / "runs" / f"{config['stream']}__{config['variant']}__s{config['seed']}.json"
    if path.exists():
        record = json.loads(path.read_text())
        if record.get("config") == json.loads(json.dumps(config)):
            return record
    record = execute(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record))
    os.replace(tmp, path)
    return record


# ------------------------------------------------------------------------------ measures


def group_changes(change_points: list) -> list[dict]:
    """One change per start record (a drift changing several kinds is one change), in order:
    ``{"t", "width", "kind"}`` with the kinds joined by ``+`` and ``recurring`` marked by ``(r)``."""
    by_t: dict[int, dict] = {}
    for c in change_points:
        entry = by_t.setdefault(c["t"], {"t": c["t"], "width": c["width"], "kinds": []})
        entry["width"] = max(entry["width"], c["width"])
        entry["kinds"].append(c["kind"] + ("(r)" if c.get("recurring") else ""))
    ordered = sorted(by_t.values(), key=lambda e: e["t"])
    return [{"t": e["t"], "width": e["width"], "kind": "+".join(e["kinds"])} for e in ordered]


def segment_ends(changes: list[dict], n: int) -> list[int]:
    """Last record each change's effects are measured on: the record before the next change, or n."""
    return [nxt["t"] - 1 for nxt in changes[1:]] + [n] if changes else []


def pre_level(ts: list, values: list, start: int, span: int = PRE_SPAN) -> float | None:
    """Mean rolling value over the samples in [start - span, start - 1] (None: no sample there)."""
    chosen = [v for t, v in zip(ts, values) if start - span <= t < start]
    return statistics.fmean(chosen) if chosen else None


def post_minimum(ts: list, values: list, start: int, end: int) -> float | None:
    """Lowest rolling value over the samples in [start, end]."""
    chosen = [v for t, v in zip(ts, values) if start <= t <= end]
    return min(chosen) if chosen else None


def post_mean(ts: list, values: list, start: int, end: int, span: int = POST_SPAN) -> float | None:
    """Mean rolling value over the samples in [start, min(start + span, end)]."""
    chosen = [v for t, v in zip(ts, values) if start <= t <= min(start + span, end)]
    return statistics.fmean(chosen) if chosen else None


def recovery_time(ts: list, values: list, start: int, width: int, end: int, level: float,
                  tolerance: float = TOLERANCE, window: int = WINDOW, hold: int = HOLD) -> int | None:
    """Records of the new concept (from ``start``) until the rolling value is back to
    ``level - tolerance``.

    ``ts``/``values``: the rolling series, a sample at t covering records up to t. 0 when no
    sample in [start, end] falls below that threshold. Otherwise the answer is the first sample
    t, no earlier than ``start + width + window - 1`` (its window then holds only records of the
    new concept) nor than the first sample below the threshold, from which ``hold`` consecutive
    samples (all within ``end``) are at or above it: ``t - start + 1``, the records from
    ``start`` to t. None when there is no such sample (not recovered before ``end``).
    """
    threshold = level - tolerance
    after = [(t, v) for t, v in zip(ts, values) if start <= t <= end]
    below = [t for t, v in after if v < threshold]
    if not below:
        return 0
    earliest = max(start + width + window - 1, below[0])
    for i, (t, _) in enumerate(after):
        if t < earliest:
            continue
        run = after[i : i + hold]
        if len(run) == hold and all(v >= threshold for _, v in run):
            return t - start + 1
    return None


def detection_delay(event_times: list, start: int, width: int, horizon: int = HORIZON) -> int | None:
    """Records from ``start`` up to the first event in [start, start + width + horizon]: an event
    stamped t (after learning record t) is ``t - start + 1`` records late. None: no event there."""
    hits = [t for t in event_times if start <= t <= start + width + horizon]
    return min(hits) - start + 1 if hits else None


def false_alarms(event_times: list, changes: list[dict], n: int, horizon: int = HORIZON,
                 burn_in: int = BURN_IN) -> tuple[int, int]:
    """Events after ``burn_in`` and outside every [t, t + width + horizon] of ``changes``, and
    the number of such change-free records in (burn_in, n]: (alarms, records)."""
    def excused(t):
        return t <= burn_in or any(c["t"] <= t <= c["t"] + c["width"] + horizon for c in changes)

    alarms = sum(1 for t in event_times if t <= n and not excused(t))
    records = sum(1 for t in range(1, n + 1) if not excused(t))
    return alarms, records


def per_100k(count: int, records: int) -> float | None:
    """``count`` per 100,000 records (None when there are no records)."""
    return 100_000 * count / records if records else None


def event_times(run: dict, kinds) -> list[int]:
    """Record indices of the run's events of these kinds, sorted."""
    return sorted(e["t"] for e in run["events"] if e["kind"] in kinds)


def change_rows(run: dict) -> list[dict]:
    """One row per change of the run: levels, minimum, recovery, post mean and detection."""
    n, ts, series = run["records"], run["series"]["t"], run["series"]
    changes = group_changes(run["change_points"])
    kinds = detection_kinds(run["config"]["variant"])
    rows = []
    for change, end in zip(changes, segment_ends(changes, n)):
        if change["t"] > n:
            continue  # a capped run stopped before this change
        row = {"stream": run["config"]["stream"], "variant": run["config"]["variant"], "seed": run["config"]["seed"],
               "t": change["t"], "width": change["width"], "kind": change["kind"]}
        for m in METRICS:
            level = pre_level(ts, series[m], change["t"])
            row[f"{m}.pre"] = level
            row[f"{m}.min"] = post_minimum(ts, series[m], change["t"], end)
            row[f"{m}.recovery"] = (None if level is None else
                                    recovery_time(ts, series[m], change["t"], change["width"], end, level))
        row["micro_f1.post_mean"] = post_mean(ts, series["micro_f1"], change["t"], end)
        row["segment_records"] = end - change["t"] + 1  # records up to the next change (or the end)
        for label, chosen in (("any", kinds), ("global", GLOBAL_KINDS), ("local", LOCAL_KINDS)):
            if label != "any" and family(run["config"]["variant"]) != "ihomer":
                continue
            times = event_times(run, chosen)
            row[f"delay.{label}"] = detection_delay(times, change["t"], change["width"]) if kinds else None
        rows.append(row)
    return rows


def alarm_summary(run: dict) -> dict:
    """False alarms of the run per level: {"any"|"global"|"local": (alarms, records, per 100k)}."""
    changes = group_changes(run["change_points"])
    kinds = detection_kinds(run["config"]["variant"])
    levels = {"any": kinds}
    if family(run["config"]["variant"]) == "ihomer":
        levels.update({"global": GLOBAL_KINDS, "local": LOCAL_KINDS})
    out = {}
    for label, chosen in levels.items():
        alarms, records = false_alarms(event_times(run, chosen), changes, run["records"])
        out[label] = (alarms, records, per_100k(alarms, records)) if chosen else None
    return out


# ------------------------------------------------------------------------------ tables


def fmt(value, digits: int = 3) -> str:
    """A number for a table: ``—`` for None, fixed decimals for floats."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return f"{value:,}"


def markdown(header: list, rows: list) -> str:
    """A markdown table, first column left-aligned, the others right-aligned."""
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def mean_or_none(values) -> float | None:
    """Mean of the values that are not None (None when there are none)."""
    kept = [v for v in values if v is not None]
    return statistics.fmean(kept) if kept else None


def whole_stream_table(runs: dict, streams, variants, seeds, metric: str) -> str:
    """Whole-stream ``metric`` per stream (rows) and variant (columns), one value per seed
    (``s0 / s1 / ...``); then the mean over every stream (— for a variant missing some) and over
    the streams every variant ran on."""
    def mean_over(chosen, v):
        cells = []
        for k in seeds:
            values = [runs[s, v, k]["metrics"][metric] for s in chosen if (s, v, k) in runs]
            cells.append(fmt(mean_or_none(values)) if len(values) == len(chosen) else "—")
        return " / ".join(cells)

    rows = [[s] + [mean_over([s], v) for v in variants] for s in streams]
    rows.append(["**mean**"] + [mean_over(streams, v) for v in variants])
    common = [s for s in streams if all((s, v, k) in runs for v in variants for k in seeds)]
    if 0 < len(common) < len(streams):
        label = f"**mean, the {len(common)} streams of every variant**"
        rows.append([label] + [mean_over(common, v) for v in variants])
    return markdown(["stream"] + list(variants), rows)


def recovery_cell(row: dict, metric: str) -> str:
    """``pre→min, recovery`` of one change (``nr``: not recovered before the next change/the end)."""
    if row[f"{metric}.pre"] is None:
        return "—"
    rec = row[f"{metric}.recovery"]
    return f"{row[f'{metric}.pre']:.2f}→{row[f'{metric}.min']:.2f}, {'nr' if rec is None else rec}"


def change_label(row: dict) -> str:
    """``stream @t kind`` of a change row."""
    return f"{row['stream']} @{row['t']} {row['kind']}"


def per_change_table(rows: list, variants, seed: int, cell) -> str:
    """One line per change of ``seed`` (streams in grid order), one column per variant."""
    index = {(r["stream"], r["t"], r["variant"]): r for r in rows if r["seed"] == seed}
    changes = list(dict.fromkeys((r["stream"], r["t"]) for r in rows if r["seed"] == seed))
    out = []
    for stream, t in changes:
        first = next(r for (s, tt, _), r in index.items() if s == stream and tt == t)
        out.append([change_label(first)] + [cell(index[stream, t, v]) if (stream, t, v) in index else "—"
                                            for v in variants])
    return markdown(["change"] + list(variants), out)


def delay_cell(row: dict) -> str:
    """Detection delay: ``any`` for non-iHOMER models, ``global / local`` for iHOMER (— : none)."""
    if "delay.global" in row:
        return f"{fmt(row['delay.global'])} / {fmt(row['delay.local'])}"
    return fmt(row.get("delay.any"))


def alarms_table(runs: dict, streams, variants, seeds) -> str:
    """False alarms per 100k change-free records per stream and variant (iHOMER: global / local)."""
    def cell(s, v):
        summaries = [alarm_summary(runs[s, v, k]) for k in seeds if (s, v, k) in runs]
        if not summaries or summaries[0]["any"] is None:
            return "—"
        if "global" in summaries[0]:
            return " / ".join(fmt(mean_or_none(x[level][2] for x in summaries), 0) for level in ("global", "local"))
        return fmt(mean_or_none(x["any"][2] for x in summaries), 0)

    rows = [[s] + [cell(s, v) for v in variants] for s in streams]
    return markdown(["stream"] + list(variants), rows)


def event_count_table(runs: dict, variants, kinds) -> str:
    """Events of each kind per variant, summed over every stream and seed, and per 100k records."""
    rows = []
    for v in variants:
        chosen = [r for (_, vv, _), r in runs.items() if vv == v]
        records = sum(r["records"] for r in chosen)
        totals = collections.Counter()
        for r in chosen:
            totals.update(r["event_counts"])
        signals = collections.Counter(e.get("signal") for r in chosen for e in r["events"]
                                      if e["kind"] == "global_drift")
        cells = [f"{totals[k]:,} ({per_100k(totals[k], records):.0f})" for k in kinds]
        cells.append(", ".join(f"{s}: {c}" for s, c in sorted(signals.items())) or "—")
        rows.append([v, f"{records:,}"] + cells)
    return markdown(["variant", "records"] + [f"{k} (/100k)" for k in kinds] + ["global_drift signal"], rows)


def contribution_table(runs: dict, rows: list, pairs, streams, seeds) -> str:
    """What switching a level off costs: per (with, without) pair, mean over streams of the
    difference in whole-stream micro-F1 and subset accuracy, and over changes of the post-change
    mean micro-F1 difference; with how many streams/changes the level helped (> +0.005) or hurt
    (< -0.005)."""
    index = {(r["stream"], r["seed"], r["t"], r["variant"]): r for r in rows}
    out = []
    for label, with_, without in pairs:
        whole = {m: [runs[s, with_, k]["metrics"][m] - runs[s, without, k]["metrics"][m]
                     for s in streams for k in seeds if (s, with_, k) in runs and (s, without, k) in runs]
                 for m in ("micro_f1", "subset_accuracy")}
        post = [index[s, k, t, with_]["micro_f1.post_mean"] - index[s, k, t, without]["micro_f1.post_mean"]
                for (s, k, t, v) in index if v == with_ and k in seeds and s in streams and (s, k, t, without) in index
                and index[s, k, t, with_]["micro_f1.post_mean"] is not None]
        out.append([label, f"{with_} − {without}", signed(mean_or_none(whole["micro_f1"])), tally(whole["micro_f1"]),
                    signed(mean_or_none(whole["subset_accuracy"])), tally(whole["subset_accuracy"]),
                    signed(mean_or_none(post)), tally(post)])
    return markdown(["level", "difference", "Δ micro-F1", "helped/hurt (streams)", "Δ subset acc.",
                     "helped/hurt (streams)", "Δ post-change micro-F1", "helped/hurt (changes)"], out)


def signed(value) -> str:
    """A difference with its sign (— for None)."""
    return "—" if value is None else f"{value:+.3f}"


def tally(diffs: list, margin: float = 0.005) -> str:
    """``helped/hurt of total``: differences above ``margin`` / below ``-margin``."""
    return f"{sum(d > margin for d in diffs)}/{sum(d < -margin for d in diffs)} of {len(diffs)}"


CONTRIBUTIONS = (
    ("local (trees' ADWIN + alternates)", "ihomer", "ihomer-no-local"),
    ("local, partition frozen", "ihomer-frozen", "ihomer-frozen-no-local"),
    ("global (restructure + correlation ADWIN) after the first change", "ihomer", "ihomer-frozen"),
    ("global, local off", "ihomer-no-local", "ihomer-frozen-no-local"),
    ("static partition, no drift handling (vs one block)", "ihomer-frozen-no-local", "ihomer-no-drift"),
    ("hierarchy + global (vs one block)", "ihomer", "ihomer-no-global"),
    ("everything (vs one block, no local)", "ihomer", "ihomer-no-drift"),
    ("iHOMER vs MLHAT", "ihomer", "mlhat"),
)


def write_tables(runs: dict, rows: list, streams, variants, seeds, out: pathlib.Path, command: str) -> str:
    """All the tables as one markdown text (also written to ``out/tables.md``)."""
    ihomer_like = [v for v in variants if detection_kinds(v)]
    pairs = [p for p in CONTRIBUTIONS if p[1] in variants and p[2] in variants]
    parts = [
        f"```sh\n{command}\n```",
        f"Whole-stream micro-F1 (seed {' / '.join(map(str, seeds))}):\n\n"
        + whole_stream_table(runs, streams, variants, seeds, "micro_f1"),
        f"Whole-stream subset accuracy (seed {' / '.join(map(str, seeds))}):\n\n"
        + whole_stream_table(runs, streams, variants, seeds, "subset_accuracy"),
    ]
    for chosen in ([seeds] if len(seeds) == 1 else [seeds] + [[k] for k in seeds]):
        names = ", ".join(map(str, chosen))
        which = f"seed {names}" if len(chosen) == 1 else f"seeds {names} pooled"
        parts.append(f"What each level contributes ({which}; mean difference, and in how many streams or changes"
                     " the first variant was ahead by more than 0.005 / behind by more than 0.005):\n\n"
                     + contribution_table(runs, rows, pairs, streams, chosen))
    for k in seeds:
        parts += [
            f"Rolling micro-F1 around each change, seed {k}: pre-change level → minimum after, recovery in records"
            " (nr: not recovered before the next change or the end):\n\n"
            + per_change_table(rows, variants, k, lambda r: recovery_cell(r, "micro_f1")),
            f"Rolling subset accuracy around each change, seed {k}:\n\n"
            + per_change_table(rows, variants, k, lambda r: recovery_cell(r, "subset_accuracy")),
            f"Mean rolling micro-F1 over the {POST_SPAN} records from each change, seed {k}:\n\n"
            + per_change_table(rows, variants, k, lambda r: fmt(r["micro_f1.post_mean"])),
            f"Detection delay in records, seed {k} (iHOMER: global / local level; —: no event within"
            f" width + {HORIZON}):\n\n" + per_change_table(rows, ihomer_like, k, delay_cell),
        ]
    parts += [
        f"False alarms per 100k change-free records, mean over the seeds (after record {BURN_IN}, outside"
        f" [t, t + width + {HORIZON}];"
        " iHOMER: global / local):\n\n" + alarms_table(runs, streams, ihomer_like, seeds),
        "Events over the whole grid (count, per 100k records):\n\n"
        + event_count_table(runs, variants, ("restructure", "cluster_split", "cluster_merge", "global_drift",
                                             "handover", "alternate_promoted", "drift")),
        "CPU seconds per run (mean over streams and seeds):\n\n" + cpu_table(runs, variants),
    ]
    text = "\n\n".join(parts) + "\n"
    (out / "tables.md").write_text(text)
    return text


def cpu_table(runs: dict, variants) -> str:
    """Mean CPU seconds and records/s of each variant."""
    rows = []
    for v in variants:
        chosen = [r for (_, vv, _), r in runs.items() if vv == v]
        rows.append([v, fmt(mean_or_none(r["cpu_seconds"] for r in chosen), 1),
                     fmt(mean_or_none(r["records_per_s"] for r in chosen), 0),
                     fmt(mean_or_none(r["records"] for r in chosen), 0)])
    return markdown(["variant", "CPU s", "records/s", "records"], rows)


def write_csv(rows: list, path: pathlib.Path) -> None:
    """The per-change rows as CSV (empty cells for None)."""
    fields = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in rows)


# ------------------------------------------------------------------------------ command line


def wanted(stream: str, variant: str, all_river: bool) -> bool:
    """Whether the grid runs ``variant`` on ``stream`` (river models: see :data:`RIVER_STREAMS`)."""
    return variant not in RIVER_VARIANTS or all_river or stream in RIVER_STREAMS


def grid(args) -> tuple[list, list, list, int, int, dict]:
    """Streams, variants, seeds, n, labels and per-variant record caps of the invocation."""
    seeds = list(range(args.seeds))
    if args.quick:
        return list(QUICK_STREAMS), list(VARIANTS), seeds, 3000, 10, {"br-ht": 2000}
    streams = args.streams.split(",") if args.streams else list(STREAMS)
    variants = args.variants.split(",") if args.variants else list(VARIANTS)
    unknown = [s for s in streams if s not in STREAMS] + [v for v in variants if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown stream or variant: {', '.join(unknown)}")
    caps = {"br-ht": args.br_ht_limit} if args.br_ht_limit else {}
    return streams, variants, seeds, args.n, args.labels, caps


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny grid (2 streams, n=3000, 10 labels) for smoke testing")
    p.add_argument("--out", type=pathlib.Path, default=HERE / "out" / "drift")
    p.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1 (stream and models)")
    p.add_argument("--n", type=int, default=20000, help="records per stream")
    p.add_argument("--labels", type=int, default=20)
    p.add_argument("--streams", help="comma-separated subset of the grid's streams")
    p.add_argument("--variants", help="comma-separated subset of the variants")
    p.add_argument("--br-ht-limit", type=int, default=None, help="stop br-ht after this many records")
    p.add_argument("--river-everywhere", action="store_true",
                   help="run br-ht on every stream (default: " + ", ".join(RIVER_STREAMS) + ")")
    p.add_argument("--no-plots", action="store_true")
    args = p.parse_args(argv)
    streams, variants, seeds, n, labels, caps = grid(args)
    out = args.out / "quick" if args.quick else args.out
    out.mkdir(parents=True, exist_ok=True)
    runs = {}
    for seed in seeds:
        for s in streams:
            for v in variants:
                if not (args.quick or wanted(s, v, args.river_everywhere)):
                    continue
                config = run_config(s, v, seed, n, labels, caps.get(v))
                started = time.perf_counter()
                runs[s, v, seed] = cached_run(config, out)
                r = runs[s, v, seed]
                print(f"{s:<22} {v:<23} seed {seed}  miF1 {r['metrics']['micro_f1']:.3f}"
                      f"  SA {r['metrics']['subset_accuracy']:.3f}  cpu {r['cpu_seconds']:.1f}s"
                      f"  ({time.perf_counter() - started:.1f}s now)", flush=True)
    rows = [row for run in runs.values() for row in change_rows(run)]
    write_csv(rows, out / "changes.csv")
    command = "python experiments/drift.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(write_tables(runs, rows, streams, variants, seeds, out, command.strip()))
    if not args.no_plots:
        from drift_plots import plot_grid

        for path in plot_grid(runs, streams, variants, seeds, out, group_changes):
            print("wrote", path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
