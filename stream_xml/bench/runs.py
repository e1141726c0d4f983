"""``stream-xml bench``: records/s, peak memory and accuracy of stream-xml, river, MOA and VW side by side.

::

    stream-xml bench --source yeast
    stream-xml bench --source tmc2007-500 --source Imdb --data-dir ../shared/datasets --out out/bench
    stream-xml bench --source yeast --model ihomer --model mlht --moa moa-mlht --limit 1000
    stream-xml bench --source yeast --moa none --reps 5

For every source, each stream-xml or river model runs prequentially (test, then train, on every
record) in a child process of its own, and each MOA learner runs in a ``java`` child process on
the same records written to a labels-first ARFF file (its features typed as the source declares
them: an ARFF file's nominal attributes stay nominal, so MOA uses its nominal observers; with
``--moa-typing numeric`` every feature is numeric, as benches before issue 22 ran it; the table
says which), and each Vowpal Wabbit learner in a child
of its own (:mod:`stream_xml.bench.vw`). Children run one at a time, so they do not share the CPU. For each one the bench reports:

- ``records/s``: records over the seconds spent inside the model's predict and learn calls
  (reading and parsing the stream are outside the clock, as is numba's compilation, which a
  throwaway model pays on the first records and which is reported apart as ``warm-up s``). For
  MOA, records over MOA's own CPU time of its evaluation loop (which includes reading its ARFF
  file, so MOA's figure is, if anything, flattered less than ours);
- ``peak RSS``: the child process's peak resident memory (``ru_maxrss``), interpreter or JVM
  included, and, for stream-xml models, the model's own arrays (``model MB``);
- subset accuracy, Hamming loss, example-F1, micro-F1 and macro-F1 over the whole stream, all
  computed by :mod:`stream_xml.evaluation.metrics` (MOA's prediction dump is scored the same way);
- the ratios of each model's records/s to MOA's ``moa-mlht`` and to river's ``br-ht``.

River's models (``br-*``, ``cc-*``) stop after ``--river-max-seconds`` of model time, and MOA's
after ``--moa-max-seconds`` of its own CPU time; they then report the records they reached, and
their metrics cover those records. Every model stops after ``--max-seconds`` if one is given.

A short run's speed moves with whatever else the machine is doing. ``--reps N`` runs every
model and learner N times, in rounds (one run of each per round, each round starting one
further along the list): a row then gives the median run, and its ratios are the medians of
the ratios between runs of the same round, with their lowest and highest values.

>>> row = {"model": "mlht", "records": 10, "records_per_s": 500.0, "warmup_s": 0.1,
...        "peak_rss_mb": 80.0, "model_mb": 0.1, "capped": False,
...        "metrics": dict.fromkeys(MAIN_METRICS, 0.5)}
>>> moa = dict(row, model="moa-mlht", records_per_s=250.0, warmup_s=None, model_mb=None)
>>> add_ratios([row, moa])
>>> row["vs_moa-mlht"], moa["vs_moa-mlht"]
(2.0, 1.0)

"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from stream_xml.bench.processes import peak_rss_bytes, wait_with_usage

__all__ = ["bench_source", "bench_model", "add_ratios", "format_table", "MAIN_METRICS", "RANKING_METRICS"]

DEFAULT_MODELS = ("ihomer", "mlhat", "mlht", "mlhtps", "br-ht")
DEFAULT_MOA = ("moa-mlht", "moa-cc")
DEFAULT_VW = ("vw-plt",)
MAIN_METRICS = ("subset_accuracy", "hamming_loss", "example_f1", "micro_f1", "macro_f1")
RANKING_METRICS = ("precision@1", "precision@5", "psp@5")  # in the table when a row has them
RATIO_BASES = ("moa-mlht", "br-ht")
WARMUP_RECORDS = 200
_MB = 1024.0 * 1024.0


def _is_river(model: str) -> bool:
    return model.startswith(("br-", "cc-"))


# -- one stream-xml or river model, inside the child process -------------------------------------

def bench_model(
    source_spec: str, model_name: str, params: dict | None = None, data_dir=None,
    limit: int | None = None, max_seconds: float | None = None, seed: int | None = None,
) -> dict:
    """Run ``model_name`` prequentially over the source and return its bench row.

    The records are read into memory first (``read_s``), a throwaway copy of the model learns the
    first records so that numba's compilation or cache loading is paid outside the clock
    (``warmup_s``), then a fresh model runs over the whole stream.

    >>> row = bench_model("yeast", "majority", limit=300)
    >>> row["records"], row["capped"], 0.0 <= row["metrics"]["subset_accuracy"] <= 1.0
    (300, False, True)

    """
    from connectors.base import feature_kinds
    from connectors.catalog import open_source
    from stream_xml.evaluation.prequential import PrequentialEvaluator
    from stream_xml.models import make_model

    started = time.perf_counter()
    source = open_source(source_spec, data_dir=data_dir)
    records = list(itertools.islice(source, limit))
    kinds = feature_kinds(source)
    read_s = time.perf_counter() - started

    started = time.perf_counter()
    scratch = PrequentialEvaluator({model_name: make_model(model_name, params, seed=seed)}, labels=source.labels,
                                   feature_kinds=kinds)
    for record in records[:WARMUP_RECORDS]:
        scratch.process(record)
    warmup_s = time.perf_counter() - started

    evaluator = PrequentialEvaluator(
        {model_name: make_model(model_name, params, seed=seed)}, labels=source.labels, every=max(1, len(records)),
        feature_kinds=kinds,
    )
    track = evaluator.tracks[0]
    capped = False
    for n, record in enumerate(records, 1):
        evaluator.process(record)
        if max_seconds is not None and n % 16 == 0 and track.seconds > max_seconds:
            capped = n < len(records)
            break
    result = evaluator.result()["models"][model_name]
    peak = result["memory_peak_bytes"]
    return {
        "model": model_name,
        "records": evaluator.t,
        "records_per_s": result["records_per_s"],
        "model_seconds": result["seconds"],
        "read_s": read_s,
        "warmup_s": warmup_s,
        "model_mb": None if peak is None else peak / _MB,
        "capped": capped,
        "metrics": {k: result["metrics"][k] for k in MAIN_METRICS + RANKING_METRICS if k in result["metrics"]},
    }


def run_child(command: list, timeout: float | None = None) -> tuple[int, str, str, float, int]:
    """Run ``command``; return (exit code, stdout, stderr, wall seconds, peak RSS bytes) of that
    one child."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        code, usage, _ = wait_with_usage(proc, timeout)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return code, out.read().decode(errors="replace"), err.read().decode(errors="replace"), wall, peak_rss_bytes(usage)


def _ours_in_child(source_spec, model, params, args) -> dict:
    command = [sys.executable, "-m", "stream_xml.bench", "--child", json.dumps({
        "source_spec": source_spec, "model_name": model, "params": params, "data_dir": args.data_dir,
        "limit": args.limit, "seed": args.seed,
        "max_seconds": _cap(model, args),
    })]
    code, out, err, wall, rss = run_child(command)
    if code != 0:
        return _failed_row(model, RuntimeError(f"exit {code}: {err.strip()[-800:]}"))
    row = json.loads(out.strip().splitlines()[-1])
    row.update(wall_s=wall, peak_rss_mb=rss / _MB)
    return row


def _vw_in_child(source_spec, learner, args) -> dict:
    """Vowpal Wabbit's row (:mod:`stream_xml.bench.vw`), from a child process of its own."""
    spec = {"source_spec": source_spec, "learner": learner, "data_dir": args.data_dir, "limit": args.limit,
            "max_seconds": args.max_seconds}
    code, out, err, wall, rss = run_child([sys.executable, "-m", "stream_xml.bench.vw", "--child", json.dumps(spec)])
    if code != 0:
        return _failed_row(learner, RuntimeError(f"exit {code}: {err.strip()[-800:]}"))
    return {**json.loads(out.strip().splitlines()[-1]), "wall_s": wall, "peak_rss_mb": rss / _MB}


def _cap(model: str, args) -> float | None:
    caps = [c for c in (args.max_seconds, args.river_max_seconds if _is_river(model) else None) if c]
    return min(caps) if caps else None


# -- MOA ----------------------------------------------------------------------------------------------

class _MoaStream:
    """The source's records written once as MOA's labels-first ARFF file, for every MOA run of a
    bench (the file is removed on leaving the ``with`` block)."""

    def __init__(self, source_spec: str, args):
        self.source_spec, self.args = source_spec, args

    def __enter__(self):
        from connectors.catalog import open_source
        from stream_xml.bench import moa

        source = open_source(self.source_spec, data_dir=self.args.data_dir)
        self.labels = list(source.labels)
        self._tmp = tempfile.TemporaryDirectory(prefix="stream-xml-bench-")
        self.path = os.path.join(self._tmp.name, "stream.arff")
        started = time.perf_counter()
        records = moa.RecordsOf(source, list(itertools.islice(source, self.args.limit)))
        typed = getattr(self.args, "moa_typing", "declared") == "declared"
        self.typing = moa.typing_of(source, typed)
        try:
            moa.write_moa_arff(records, self.path, typed=typed)
        except BaseException:
            self._tmp.cleanup()
            raise
        self.write_s = time.perf_counter() - started
        self.truth = [r.y for r in records]
        return self

    def __exit__(self, *exc):
        self._tmp.cleanup()

    def row(self, learner: str) -> dict:
        """One prequential run of a MOA learner over the file, scored with our metrics."""
        from stream_xml.bench import moa

        cap = self.args.max_seconds or self.args.moa_max_seconds
        try:
            run = moa.run_moa(learner, self.path, len(self.labels), jar=self.args.moa_jar, max_seconds=cap,
                              max_heap=getattr(self.args, "moa_heap", "4g"))
        except moa.MoaError as e:
            return _failed_row(learner, e)
        metrics = moa.score_moa(run, self.truth[:run.n_records], self.labels)
        return {
            "model": learner,
            "records": run.n_records,
            "records_per_s": run.records_per_second,
            "model_seconds": run.cpu_seconds,
            "read_s": self.write_s,
            "warmup_s": None,
            "wall_s": run.wall_seconds,
            "peak_rss_mb": run.peak_rss_bytes / _MB,
            "model_mb": None,
            "capped": run.n_records < len(self.truth),
            "metrics": {k: metrics[k] for k in MAIN_METRICS},
            "moa_typing": self.typing,
        }


# -- one source, and the table ------------------------------------------------------------------------

def bench_source(source_spec: str, models: list, moa_learners: list, params: dict, args,
                 vw_learners: list = (), model_names: dict | None = None) -> list[dict]:
    """Bench rows of every model, MOA learner and Vowpal Wabbit learner on one source.

    ``models`` are the labels of stream-xml and river models, ``model_names`` the model each label
    runs (a label missing from it is the model's own name), ``params`` their parameters by label.

    Children run one at a time, in ``args.reps`` rounds (default 1) of every model and learner;
    each round starts one further along the list, so no model is always timed first. With
    several rounds a row holds the median run (:func:`combine_runs`) and its ratios are the
    medians of the ratios within each round (:func:`add_ratios`).
    """
    reps = getattr(args, "reps", 1)
    if reps < 1:
        raise ValueError(f"--reps must be at least 1, got {reps}")
    names = models + moa_learners + list(vw_learners)
    runs = {name: [] for name in names}
    with _MoaStream(source_spec, args) if moa_learners else contextlib.nullcontext() as moa_stream:
        for rep in range(reps):
            shift = rep % len(names)
            for name in names[shift:] + names[:shift]:
                round_note = f" (round {rep + 1} of {reps})" if reps > 1 else ""
                print(f"  {source_spec}: {name}{round_note} ...", file=sys.stderr, flush=True)
                if name in moa_learners:
                    runs[name].append(moa_stream.row(name))
                elif name in vw_learners:
                    runs[name].append(_vw_in_child(source_spec, name, args))
                else:
                    model = (model_names or {}).get(name, name)
                    runs[name].append({**_ours_in_child(source_spec, model, params.get(name, {}), args), "model": name})
    rows = [combine_runs(runs[name]) for name in names]
    add_ratios(rows)
    return rows


def combine_runs(runs: list[dict]) -> dict:
    """One row from the runs of a model: the run of median records/s (the lower middle one of an
    even number), with every run's records/s in ``runs_per_s``. A seeded model's runs score the
    same; if they do not, ``metrics_differ`` says so (the row keeps the median run's metrics).

    >>> runs = [{"model": "m", "records_per_s": v, "metrics": {"micro_f1": 0.5}} for v in (300.0, 100.0, 200.0)]
    >>> row = combine_runs(runs)
    >>> row["records_per_s"], row["runs_per_s"], row["metrics_differ"]
    (200.0, [300.0, 100.0, 200.0], False)

    """
    if len(runs) == 1:
        return runs[0]
    failed = [r for r in runs if r.get("error")]
    if failed:
        return failed[0]
    middle = sorted(runs, key=lambda r: r["records_per_s"])[(len(runs) - 1) // 2]
    row = dict(middle)
    row["runs_per_s"] = [r["records_per_s"] for r in runs]
    row["metrics_differ"] = any(r["metrics"] != middle["metrics"] for r in runs)
    return row


def _failed_row(model: str, error: Exception) -> dict:
    """The row of a run that failed: the table says so and the other rows are kept."""
    print(f"  {model} failed: {error}", file=sys.stderr, flush=True)
    return {"model": model, "records": 0, "records_per_s": float("nan"), "model_seconds": None, "read_s": None,
            "warmup_s": None, "wall_s": None, "peak_rss_mb": None, "model_mb": None, "capped": False,
            "metrics": dict.fromkeys(MAIN_METRICS), "error": str(error)[:2000]}


def add_ratios(rows: list[dict]) -> None:
    """Set ``vs_<base>`` on every row: its records/s over the base row's (bases in :data:`RATIO_BASES`).

    Rows with ``runs_per_s`` (several rounds) get the median of the per-round ratios, each run
    against the base's run of the same round, and their range in ``vs_<base>_range``: the machine's
    speed drifts between rounds more than between two neighbouring runs.
    """
    ok = [r for r in rows if not r.get("error")]
    by_model = {r["model"]: r for r in ok}
    for base in RATIO_BASES:
        base_row = by_model.get(base)
        if not base_row or not base_row["records_per_s"]:
            continue
        for r in rows:
            if "runs_per_s" in r and "runs_per_s" in base_row:
                ratios = [a / b for a, b in zip(r["runs_per_s"], base_row["runs_per_s"])]
                r[f"vs_{base}"] = statistics.median(ratios)
                r[f"vs_{base}_range"] = [min(ratios), max(ratios)]
            else:
                r[f"vs_{base}"] = r["records_per_s"] / base_row["records_per_s"]


def format_table(source_spec: str, rows: list[dict]) -> str:
    """A markdown table of one source's rows."""
    ratios = [b for b in RATIO_BASES if any(f"vs_{b}" in r for r in rows)]
    ranked = [m for m in RANKING_METRICS if any(r["metrics"].get(m) is not None for r in rows)]
    head = ["model", "records", "records/s", *(f"÷ {b}" for b in ratios), "warm-up s", "peak RSS MB",
            "model MB", "subset acc.", "Hamming", "example-F1", "micro-F1", "macro-F1", *ranked]
    lines = [f"**{source_spec}**", ""]
    typings = sorted({r["moa_typing"] for r in rows if r.get("moa_typing")})
    if typings:
        lines += [f"MOA's features: {'; '.join(typings)}.", ""]
    rounds = max((len(r.get("runs_per_s", ())) for r in rows), default=0)
    if rounds:
        lines += [f"Median of {rounds} rounds; ratios: median of the ratios within a round [lowest–highest].", ""]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" + "---:|" * (len(head) - 1)]

    def num(v, fmt):
        return "" if v is None else format(v, fmt)

    def ratio(r, base):
        spread = r.get(f"vs_{base}_range")
        return num(r.get(f"vs_{base}"), ".2f") + (f" [{spread[0]:.2f}–{spread[1]:.2f}]" if spread else "")

    for r in rows:
        records = f"{r['records']:,}" + (" (capped)" if r["capped"] else "") + (" (failed)" if r.get("error") else "")
        if r.get("metrics_differ"):
            records += " (runs scored differently)"
        cells = [r["model"], records, num(r["records_per_s"], ",.0f"),
                 *(ratio(r, b) for b in ratios),
                 num(r["warmup_s"], ".2f"), num(r["peak_rss_mb"], ",.0f"), num(r["model_mb"], ",.1f"),
                 *(num(r["metrics"].get(m), ".4f") for m in MAIN_METRICS + tuple(ranked))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def child(spec_json: str) -> int:
    """The child process of one run: :func:`bench_model` of the JSON spec, its row on stdout."""
    row = bench_model(**json.loads(spec_json))
    print(json.dumps(row))
    return 0
