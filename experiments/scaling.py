"""Scaling study: records/s and memory against labels, features and stream length.

Three sweeps over generated ``synth:stationary`` streams, every record given to the models
prequentially (predict, then learn), the same way ``stream-xml evaluate`` does it (the
evaluator's ``predict_with_scores`` and ``learn_labelset``; every label of the source is
declared up front with ``add_labels``, as the evaluator does):

- labels: 10, 100, 1,000, 10,000 labels at 100 sparse features with about 30 non-zeros
  per record (``density=nnz/features``), ``--n`` records per point;
- features: 100, 1,000, 10,000, 100,000 sparse features at the same number of non-zeros per
  record (``--nnz``, default 30: ``density=nnz/features``) and 20 labels, ``--n`` records per point;
- length: one long stream (``--length``, default 1,000,000 records; 20 labels, 100 sparse
  features, 30 non-zeros), one model at a time, sampled every ``--every`` records.

Each (model, point) runs in a child process of its own, one at a time, so that a crash
stays in its run and the peak RSS belongs to that run. In the labels and features sweeps the
records of a point are generated once (in a child of their own: at 100,000 features the
generator's calibration needs about 11 GB) and handed to the model runs through a pickle;
a run times the model calls only. In the length sweep the child streams the
records from the generator and times the model calls only (generation is left out).

Reported per run:

- records/s: records / seconds spent in ``predict`` + ``learn`` (nothing else is timed);
- model memory: the figure the prequential evaluator reports (the
  model's ``memory_bytes()``, the numpy arrays it holds), measured at the end of a run, or
  at every sample of the length run (the walk is not timed);
- peak RSS: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` of the child at the end of the
  run; it includes the interpreter, numpy, numba and the pre-generated records, so the RSS
  after the warm-up and loading (``rss_before``) is kept beside it. A child's ``ru_maxrss``
  starts from its parent's RSS at fork (Linux keeps it across exec), so the parent stays
  small: it generates nothing itself and imports matplotlib only at the end;
- micro-F1 over the run (or the segment), only as a sanity check that the model learns.

Numba compiles or loads its cache on the first record of the first model in a process:
every child first warms its model type up on 300 throwaway records of a small stream
(20 labels, 100 sparse features) before anything is timed. A run stops when its loop has
taken ``--max-seconds`` of CPU time (``--length-max-seconds`` for the length run; CPU time, so
that a run stopped or starved by other jobs is not cut short); the table then says "capped at
N records". Records/s is also given per CPU second of the model calls: on a shared machine the
wall-clock figure depends on the other jobs, the CPU figure much less.

Outputs under ``--out`` (default ``experiments/out/scaling``): ``labels.csv``,
``features.csv``, ``length.csv`` and a ``.png`` of each (records/s and memory), and a
markdown table on stdout for ``experiments/RESULTS.md``. The machine may be shared: run it
niced and never twice at once.

    nice -n 10 python experiments/scaling.py --quick            # about a minute
    nice -n 10 python experiments/scaling.py                    # the full study, about 40 minutes
    nice -n 10 python experiments/scaling.py --length-max-seconds 3600   # lets ihomer reach 1M records
    python experiments/scaling.py --replot                      # plots and tables again from the CSVs
    nice -n 10 python experiments/scaling.py --only length --length 200000 --length-model mlhat
    python experiments/scaling.py --only labels --labels-values 10000 --model ihomer:mode=routing --n 2000
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import pathlib
import pickle
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_MODELS = ["ihomer", "ihomer:mode=routing", "mlhat", "mlht"]
WARMUP_SPEC = "synth:stationary?n=300&labels=20&features=100&sparse=true&density=0.3&seed=12345"
FULL = {
    "labels_values": [10, 100, 1000, 10000],
    "features_values": [100, 1000, 10000, 100000],
    "n": 5000,
    "length": 1_000_000,
    "every": 50_000,
    "max_seconds": 150.0,
    "length_max_seconds": 1200.0,
}
QUICK = {
    "labels_values": [10, 1000],
    "features_values": [100, 10000],
    "n": 300,
    "length": 20_000,
    "every": 5_000,
    "max_seconds": 20.0,
    "length_max_seconds": 30.0,
}
SWEEP_AXIS = {"labels": "labels", "features": "features (sparse)"}


# -- streams ----------------------------------------------------------------------------------


def stream_spec(n: int, labels: int, features: int, nnz: float, seed: int) -> str:
    """A stationary sparse stream with about ``nnz`` non-zero features per record."""
    density = min(1.0, nnz / features)
    return (f"synth:stationary?n={n}&labels={labels}&features={features}&sparse=true"
            f"&density={density:.6g}&seed={seed}")


def open_stream(spec: str):
    from connectors.catalog import open_source

    return open_source(spec)


# -- models -----------------------------------------------------------------------------------


def parse_model(text: str) -> tuple[str, dict]:
    """``name`` or ``name:key=value,key=value`` -> (name, params)."""
    from stream_xml.models import parse_params

    name, _, rest = text.partition(":")
    return name, parse_params([p for p in rest.split(",") if p])


def build_model(text: str, labels=()):
    from stream_xml.base import as_learner
    from stream_xml.models import make_model

    name, params = parse_model(text)
    model = as_learner(make_model(name, params))
    if labels:
        model.add_labels(list(labels))
    return model


# -- one run, in a child process ------------------------------------------------------------------


def rss_bytes() -> int | None:
    """Current resident set size (Linux /proc), or None."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def peak_rss_bytes() -> int:
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


class Counter:
    """Records, model seconds (wall and CPU) and micro-F1 counts of a run or a segment of it."""

    def __init__(self):
        self.records = 0
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.tp = self.fp = self.fn = 0

    def add(self, seconds: float, cpu_seconds: float, predicted: frozenset, truth: frozenset | None) -> None:
        self.records += 1
        self.seconds += seconds
        self.cpu_seconds += cpu_seconds
        if truth is None:
            return
        hits = len(predicted & truth)
        self.tp += hits
        self.fp += len(predicted) - hits
        self.fn += len(truth) - hits

    @property
    def rate(self) -> float | None:
        return self.records / self.seconds if self.seconds > 0 else None

    @property
    def cpu_rate(self) -> float | None:
        return self.records / self.cpu_seconds if self.cpu_seconds > 0 else None

    @property
    def micro_f1(self) -> float | None:
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else None


def prequential_step(model, space, record) -> tuple[float, float, frozenset]:
    """Predict then (if labelled) learn one record the evaluator's way: wall and CPU seconds
    spent, and the prediction."""
    t0, c0 = time.perf_counter(), time.process_time()
    predicted, _ = model.predict_with_scores(record.x)
    if record.y is not None:
        model.learn_labelset(record.x, record.y)
    return time.perf_counter() - t0, time.process_time() - c0, predicted


def warm_up(model_text: str) -> float:
    """Compile or load numba's cache for this model type on throwaway records; seconds taken."""
    from stream_xml.labels import LabelSpace

    source = open_stream(WARMUP_SPEC)
    model = build_model(model_text, source.labels)
    space = LabelSpace(source.labels)
    t0 = time.perf_counter()
    for record in source:
        prequential_step(model, space, record)
    return time.perf_counter() - t0


def run_records(job: dict, records, labels, emit) -> None:
    """Prequential run over ``records``; ``emit`` gets a sample every ``job['every']`` records
    (if set) and a final one. Stops once the run has taken ``job['max_seconds']`` of CPU time
    (not wall time: a process stopped or starved by other jobs on a shared machine is not cut short)."""
    from stream_xml.labels import LabelSpace

    model = build_model(job["model"], labels)
    space = LabelSpace(labels)
    every = job.get("every") or 0
    total, segment, previous = Counter(), Counter(), Counter()
    gc.collect()
    base = {"rss_before_bytes": rss_bytes(), "warmup_seconds": job["warmup_seconds"]}
    started, cpu_started = time.perf_counter(), time.process_time()
    capped = False

    def sample(final: bool) -> None:
        # a final sample right after a regular one repeats that one's segment
        seg = previous if final and segment.records == 0 else segment
        emit({**base, "final": final, "records": total.records, "model_seconds": total.seconds,
              "records_per_s": total.rate, "segment_records_per_s": seg.rate,
              "records_per_cpu_s": total.cpu_rate, "segment_records_per_cpu_s": seg.cpu_rate,
              "micro_f1": total.micro_f1, "segment_micro_f1": seg.micro_f1,
              "model_memory_bytes": model.memory_bytes(), "rss_bytes": rss_bytes(),
              "peak_rss_bytes": peak_rss_bytes(), "wall_seconds": time.perf_counter() - started,
              "cpu_seconds": time.process_time() - cpu_started,
              "capped": capped})

    for record in records:
        seconds, cpu_seconds, predicted = prequential_step(model, space, record)
        total.add(seconds, cpu_seconds, predicted, record.y)
        segment.add(seconds, cpu_seconds, predicted, record.y)
        if every and total.records % every == 0:
            sample(final=False)
            previous, segment = segment, Counter()
        if time.process_time() - cpu_started > job["max_seconds"]:
            capped = True
            break
    sample(final=True)


def generate(job: dict) -> dict:
    """Generate a stream into a pickle for the runs of one point; some facts about it."""
    t0 = time.perf_counter()
    source = open_stream(job["spec"])
    records = list(source)
    seconds = time.perf_counter() - t0
    with open(job["records_file"], "wb") as f:
        pickle.dump((list(source.labels), records), f, protocol=pickle.HIGHEST_PROTOCOL)
    return {"final": True, "generate_seconds": seconds, "generate_peak_rss_bytes": peak_rss_bytes(),
            "nnz_mean": sum(len(r.x) for r in records) / max(1, len(records)),
            "cardinality": sum(len(r.y or ()) for r in records) / max(1, len(records))}


def worker(job: dict) -> None:
    """Child process: generate a stream, or warm up and run a model; JSON lines on stdout."""
    def emit(row: dict) -> None:
        print(json.dumps(row), flush=True)

    if job.get("generate"):
        emit(generate(job))
        return
    job["warmup_seconds"] = warm_up(job["model"])
    if "records_file" in job:
        with open(job["records_file"], "rb") as f:
            labels, records = pickle.load(f)
        run_records(job, records, labels, emit)
    else:
        source = open_stream(job["spec"])
        run_records(job, source, source.labels, emit)


# -- the parent: runs, sweeps -------------------------------------------------------------------


def child_cpu_seconds(pid: int) -> float | None:
    """CPU seconds used so far by process ``pid`` (Linux /proc), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    except (OSError, ValueError, IndexError):
        return None


def watch(proc, limit: float, killed: threading.Event, done: threading.Event) -> None:
    """Kill ``proc`` once it has used ``limit`` CPU seconds (wall seconds where /proc is missing)."""
    started = time.monotonic()
    while not done.wait(5.0):
        used = child_cpu_seconds(proc.pid)
        if (used if used is not None else time.monotonic() - started) > limit:
            killed.set()
            proc.kill()
            return


def run_child(job: dict, hard_timeout: float, on_sample=None) -> list[dict]:
    """Run ``job`` in a fresh interpreter; its samples, the last one carrying ``error`` if the
    child failed (exit code, last lines of stderr) or was killed after ``hard_timeout`` CPU
    seconds (a record that never ends: the run's own cap is checked between records)."""
    proc = subprocess.Popen([sys.executable, str(pathlib.Path(__file__).resolve()), "--worker"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=str(ROOT), env=dict(os.environ, PYTHONPATH=str(ROOT)))
    killed, done = threading.Event(), threading.Event()
    watchdog = threading.Thread(target=watch, args=(proc, hard_timeout, killed, done), daemon=True)
    watchdog.start()
    stderr_lines: list[str] = []
    drain = threading.Thread(target=lambda: stderr_lines.extend(proc.stderr), daemon=True)
    drain.start()
    samples = []
    try:
        proc.stdin.write(json.dumps(job))
        proc.stdin.close()
        for line in proc.stdout:
            samples.append(json.loads(line))
            if on_sample:
                on_sample(samples[-1])
        code = proc.wait()
    finally:
        done.set()
    drain.join(timeout=5)
    if code != 0 or not samples or not samples[-1].get("final"):
        reason = f"killed after {hard_timeout:.0f} CPU s" if killed.is_set() else f"exit code {code}"
        tail = " | ".join(s.strip() for s in stderr_lines[-3:])
        last = dict(samples[-1]) if samples else {}
        last.update(final=True, error=f"{reason}: {tail}"[:500])
        samples.append(last)
    return samples


def pregenerate(spec: str, directory: pathlib.Path) -> tuple[pathlib.Path, dict]:
    """Generate the stream once, in a child (the generator's calibration arrays are large, and
    a child's ``ru_maxrss`` starts from its parent's RSS at fork), into a pickle for the runs."""
    path = directory / "records.pkl"
    facts = run_child({"generate": True, "spec": spec, "records_file": str(path)}, hard_timeout=3600)[-1]
    if facts.get("error"):
        raise RuntimeError(f"generating {spec} failed: {facts['error']}")
    return path, facts


def reproduce_command(sweep: str, value: int, model: str, args) -> str:
    option = {"labels": "--labels-values", "features": "--features-values"}[sweep]
    return (f"python experiments/scaling.py --only {sweep} {option} {value} --model {model} --n {args.n} "
            f"--nnz {args.nnz:g} --max-seconds {args.max_seconds:g}")


def sweep_points(sweep: str, args) -> list[tuple[int, str]]:
    """(value, stream spec) of every point of the labels or features sweep."""
    if sweep == "labels":
        return [(v, stream_spec(args.n, v, args.fixed_features, args.nnz, args.seed)) for v in args.labels_values]
    return [(v, stream_spec(args.n, args.fixed_labels, v, args.nnz, args.seed)) for v in args.features_values]


def run_sweep(sweep: str, args) -> list[dict]:
    """Every model at every point of a labels or features sweep; one row per (point, model)."""
    rows = []
    for value, spec in sweep_points(sweep, args):
        with tempfile.TemporaryDirectory(prefix="scaling-") as tmp:
            path, facts = pregenerate(spec, pathlib.Path(tmp))
            log(f"[{sweep}={value}] {spec}: generated in {facts['generate_seconds']:.1f} s, generator peak "
                f"RSS {fmt_mb(facts['generate_peak_rss_bytes'])} MB ({facts['nnz_mean']:.1f} non-zeros, "
                f"{facts['cardinality']:.2f} labels per record)")
            for model in args.models:
                job = {"model": model, "records_file": str(path), "max_seconds": args.max_seconds}
                last = run_child(job, hard_timeout=2 * args.max_seconds + 600)[-1]
                row = {"sweep": sweep, "value": value, "model": model, "target_records": args.n, "spec": spec,
                       **{k: v for k, v in facts.items() if k != "final"}, **last}
                if row.get("error"):
                    row["reproduce"] = reproduce_command(sweep, value, model, args)
                rows.append(row)
                log(f"  {model:16s} {describe(row)}")
    return rows


def run_length(args) -> list[dict]:
    """Each length model over one long stream, a row every ``--every`` records; ``length.csv``
    is rewritten at every sample, so that a run stopped early keeps what it measured."""
    spec = stream_spec(args.length, args.fixed_labels, args.fixed_features, args.nnz, args.seed)
    rows = []
    for model in args.length_models:
        log(f"[length] {model} on {spec}")
        base = {"sweep": "length", "model": model, "target_records": args.length, "spec": spec}
        done = len(rows)

        def progress(s: dict, model=model, base=base) -> None:
            rows.append({**base, **s})
            write_length(rows, args)
            if not s.get("final"):  # the final one is described below
                log(f"  {model:16s} {s['records']:>9,} records  segment {fmt_rate(s['segment_records_per_s'])} "
                    f"rec/s ({fmt_rate(s.get('segment_records_per_cpu_s'))}/CPU-s)  "
                    f"model memory {fmt_mb(s['model_memory_bytes'])} MB  RSS {fmt_mb(s['rss_bytes'])} MB")

        job = {"model": model, "spec": spec, "every": args.every, "max_seconds": args.length_max_seconds}
        samples = run_child(job, hard_timeout=2 * args.length_max_seconds + 600, on_sample=progress)
        rows[done:] = [{**base, **s} for s in samples]  # run_child may have added a failure
        if len(rows) - done > 1 and rows[-2]["records"] == rows[-1].get("records"):
            del rows[-2]  # the final sample repeats the last regular one, with the run's flags
        if rows[-1].get("error"):
            rows[-1]["reproduce"] = (f"python experiments/scaling.py --only length --length {args.length} "
                                     f"--length-model {model} --length-max-seconds {args.length_max_seconds:g}")
        write_length(rows, args)
        log(f"  {model:16s} {describe(rows[-1])}")
    return rows


# -- outputs ------------------------------------------------------------------------------------


CSV_COLUMNS = {
    "sweep": ["sweep", "value", "model", "target_records", "records", "capped", "model_seconds", "records_per_s",
              "records_per_cpu_s", "model_memory_bytes", "rss_before_bytes", "peak_rss_bytes", "micro_f1",
              "warmup_seconds", "generate_seconds", "generate_peak_rss_bytes", "nnz_mean", "cardinality", "spec",
              "error", "reproduce"],
    "length": ["model", "records", "final", "capped", "wall_seconds", "cpu_seconds", "model_seconds",
               "segment_records_per_s", "segment_records_per_cpu_s", "records_per_s", "records_per_cpu_s",
               "model_memory_bytes", "rss_bytes", "peak_rss_bytes", "segment_micro_f1", "micro_f1", "warmup_seconds",
               "spec", "error", "reproduce"],
}


def read_csv(path: pathlib.Path) -> list[dict]:
    """Rows written by :func:`write_csv`, with numbers, booleans and empty cells (None) back."""
    def value(text: str):
        if text in ("", "True", "False"):
            return None if text == "" else text == "True"
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
        return text

    with open(path, newline="") as f:
        return [{k: value(v) for k, v in row.items()} for row in csv.DictReader(f)]


def write_csv(path: pathlib.Path, rows: list[dict], columns: list[str]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def fmt_rate(v) -> str:
    if v is None:
        return "–"
    return f"{v:,.0f}" if v >= 10 else f"{v:.1f}"


def fmt_mb(v) -> str:
    return "–" if v is None else f"{v / 2**20:,.1f}"


def fmt_f1(v) -> str:
    return "–" if v is None else f"{v:.3f}"


def note(row: dict) -> str:
    if row.get("error"):
        return f"**failed** after {row.get('records', 0):,} records: {row['error']}"
    if row.get("capped"):
        return f"capped at {row['records']:,} records"
    return ""


def describe(row: dict) -> str:
    return (f"{row.get('records', 0):>9,} records  {fmt_rate(row.get('records_per_s'))} rec/s "
            f"({fmt_rate(row.get('records_per_cpu_s'))}/CPU-s)  "
            f"model memory {fmt_mb(row.get('model_memory_bytes'))} MB  peak RSS {fmt_mb(row.get('peak_rss_bytes'))} MB"
            f"  micro-F1 {fmt_f1(row.get('micro_f1'))}  {note(row)}")


def markdown_sweep(sweep: str, rows: list[dict]) -> str:
    lines = [f"| {SWEEP_AXIS[sweep]} | model | records | records/s | records/CPU-s | model memory (MB) "
             f"| peak RSS (MB) | RSS before (MB) | micro-F1 | note |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['value']:,} | {r['model']} | {r.get('records', 0):,} | {fmt_rate(r.get('records_per_s'))} "
                     f"| {fmt_rate(r.get('records_per_cpu_s'))} "
                     f"| {fmt_mb(r.get('model_memory_bytes'))} | {fmt_mb(r.get('peak_rss_bytes'))} "
                     f"| {fmt_mb(r.get('rss_before_bytes'))} | {fmt_f1(r.get('micro_f1'))} | {note(r)} |")
    return "\n".join(lines)


def markdown_length(rows: list[dict]) -> str:
    lines = ["| model | records | records/s (segment) | records/CPU-s (segment) | model memory (MB) | RSS (MB) "
             "| peak RSS (MB) | micro-F1 (segment) | note |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r.get('records', 0):,} | {fmt_rate(r.get('segment_records_per_s'))} "
                     f"| {fmt_rate(r.get('segment_records_per_cpu_s'))} "
                     f"| {fmt_mb(r.get('model_memory_bytes'))} | {fmt_mb(r.get('rss_bytes'))} "
                     f"| {fmt_mb(r.get('peak_rss_bytes'))} | {fmt_f1(r.get('segment_micro_f1'))} "
                     f"| {note(r) if r.get('final') else ''} |")
    return "\n".join(lines)


def plot(path: pathlib.Path, rows: list[dict], x_key: str, x_label: str, title: str, series: list[tuple],
         log_x: bool) -> None:
    """One panel per (y key, y label, log y); one line per model; hollow markers where capped or failed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(series), figsize=(5.2 * len(series), 4.2))
    models = list(dict.fromkeys(r["model"] for r in rows))
    for ax, (y_key, y_label, scale, log_y) in zip(axes, series):
        for i, model in enumerate(models):
            mine = [r for r in rows if r["model"] == model and r.get(y_key) is not None]
            if not mine:
                continue
            xs, ys = [r[x_key] for r in mine], [r[y_key] / scale for r in mine]
            line, = ax.plot(xs, ys, marker="o", markersize=4, label=model)
            short = [(x, y) for r, x, y in zip(mine, xs, ys) if r.get("capped") or r.get("error")]
            if short:
                ax.plot(*zip(*short), linestyle="none", marker="o", markersize=9, markerfacecolor="none",
                        color=line.get_color())
        ax.set_xscale("log" if log_x else "linear")
        if log_y:
            ax.set_yscale("log")
        else:
            ax.set_ylim(bottom=0)  # levels and trends read against zero
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title + "  (hollow ring: capped or failed)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


SWEEP_SERIES = [("records_per_s", "records/s (predict + learn)", 1, True),
                ("model_memory_bytes", "model memory (MB)", 2**20, True),
                ("peak_rss_bytes", "peak RSS of the run (MB)", 2**20, False)]
LENGTH_SERIES = [("segment_records_per_s", "records/s over the last segment", 1, False),
                 ("model_memory_bytes", "model memory (MB)", 2**20, False),
                 ("rss_bytes", "RSS of the process (MB)", 2**20, False)]


def write_sweep(sweep: str, rows: list[dict], args) -> None:
    write_csv(args.out / f"{sweep}.csv", rows, CSV_COLUMNS["sweep"])


def plot_sweep(sweep: str, rows: list[dict], args) -> None:
    fixed = (f"{args.fixed_features} sparse features" if sweep == "labels" else f"{args.fixed_labels} labels")
    plot(args.out / f"{sweep}.png", rows, "value", SWEEP_AXIS[sweep],
         f"{sweep} sweep: {fixed}, ~{args.nnz:g} non-zeros/record, {args.n:,} records per point", SWEEP_SERIES,
         log_x=True)


def write_length(rows: list[dict], args) -> None:
    write_csv(args.out / "length.csv", rows, CSV_COLUMNS["length"])


def plot_length(rows: list[dict], args) -> None:
    plot(args.out / "length.png", rows, "records", "records seen",
         f"length: {args.fixed_labels} labels, {args.fixed_features} sparse features, "
         f"~{args.nnz:g} non-zeros/record", LENGTH_SERIES, log_x=args.length_log_x)


# -- command line -------------------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def int_list(text: str) -> list[int]:
    return [int(float(v)) for v in text.split(",") if v]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="tiny versions of the three sweeps (about a minute)")
    p.add_argument("--only", action="append", choices=["labels", "features", "length"],
                   help="run only this sweep (repeatable); default all three")
    p.add_argument("--model", dest="models", action="append",
                   help=f"model of the labels and features sweeps, name[:key=value,...] (repeatable; "
                        f"default {' '.join(DEFAULT_MODELS)})")
    p.add_argument("--length-model", dest="length_models", action="append",
                   help="model of the length sweep (repeatable; default ihomer then mlhat)")
    p.add_argument("--labels-values", type=int_list, help="labels of the labels sweep (default 10,100,1000,10000)")
    p.add_argument("--features-values", type=int_list,
                   help="features of the features sweep (default 100,1000,10000,100000)")
    p.add_argument("--n", type=int, help="records per point of the labels and features sweeps (default 5000)")
    p.add_argument("--length", type=int, help="records of the length sweep (default 1,000,000)")
    p.add_argument("--every", type=int, help="records between samples of the length sweep (default 50,000)")
    p.add_argument("--max-seconds", type=float, help="cap of one model at one point, CPU seconds (default 150)")
    p.add_argument("--length-max-seconds", type=float, help="cap of one model's length run, CPU seconds (default 1200)")
    p.add_argument("--nnz", type=float, default=30, help="non-zero features per record (default 30)")
    p.add_argument("--fixed-features", type=int, default=100, help="features of the labels and length sweeps")
    p.add_argument("--fixed-labels", type=int, default=20, help="labels of the features and length sweeps")
    p.add_argument("--length-log-x", action="store_true", help="log-scaled x on the length plot (default linear)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=pathlib.Path, default=ROOT / "experiments" / "out" / "scaling")
    p.add_argument("--replot", action="store_true",
                   help="only redraw the plots and print the tables from the CSVs already in --out")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.models = args.models or DEFAULT_MODELS
    args.length_models = args.length_models or (["ihomer"] if args.quick else ["ihomer", "mlhat"])
    args.only = args.only or ["labels", "features", "length"]
    return args


def code_version() -> str:
    """The commit the models come from, and whether their files differ from it."""
    def git(*argv) -> str:
        try:
            return subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    head = git("rev-parse", "--short", "HEAD") or "unknown commit"
    dirty = git("status", "--porcelain", "--", "stream_xml", "connectors")
    return head + (" with uncommitted changes in stream_xml/ or connectors/" if dirty else "")


def titles(args) -> dict:
    return {"labels": f"Labels ({args.fixed_features} sparse features, ~{args.nnz:g} non-zeros, "
                      f"{args.n:,} records per point, cap {args.max_seconds:g} CPU s)",
            "features": f"Features ({args.fixed_labels} labels, ~{args.nnz:g} non-zeros, "
                        f"{args.n:,} records per point, cap {args.max_seconds:g} CPU s)",
            "length": f"Stream length ({args.fixed_labels} labels, {args.fixed_features} sparse features, "
                      f"~{args.nnz:g} non-zeros, sample every {args.every:,} records, "
                      f"cap {args.length_max_seconds:g} CPU s)"}


def replot(args) -> int:
    """Plots and tables again from the CSVs of an earlier run (the titles use today's options)."""
    for sweep in ("labels", "features", "length"):
        path = args.out / f"{sweep}.csv"
        if sweep not in args.only or not path.exists():
            continue
        rows = read_csv(path)
        if sweep == "length":
            plot_length(rows, args)
            table = markdown_length(rows)
        else:
            plot_sweep(sweep, rows, args)
            table = markdown_sweep(sweep, rows)
        print(f"### {titles(args)[sweep]}\n\n{table}\n")
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker(json.load(sys.stdin))
        return 0
    if args.replot:
        return replot(args)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    log(f"scaling study ({'quick' if args.quick else 'full'}); every run warms its model type up on 300 "
        f"throwaway records first (numba compile / cache load), untimed")
    print(f"<!-- experiments/scaling.py {' '.join(sys.argv[1:] if argv is None else argv)}; "
          f"{platform.node()}, {os.cpu_count()} cores; code {code_version()} -->")
    print("Records/s count only the model's predict + learn calls (records/CPU-s: per CPU second of those "
          "calls, steadier on a shared machine; the caps count CPU seconds); model memory is the evaluator's "
          "figure (numpy arrays the model holds); peak RSS is the child process's high-water mark (interpreter, "
          "libraries and the pre-generated records included; RSS before = after warm-up and loading). "
          "Each model type was warmed up on 300 throwaway records before timing.\n", flush=True)
    results = {}  # sweep -> rows; each CSV and table is written as soon as its sweep ends
    for sweep in ("labels", "features", "length"):
        if sweep not in args.only:
            continue
        if sweep == "length":
            results[sweep] = run_length(args)  # writes length.csv as it goes
            table = markdown_length(results[sweep])
        else:
            results[sweep] = run_sweep(sweep, args)
            write_sweep(sweep, results[sweep], args)
            table = markdown_sweep(sweep, results[sweep])
        print(f"### {titles(args)[sweep]}\n\n{table}\n", flush=True)
    # plots last: matplotlib would make this parent larger, and a child's ru_maxrss starts from
    # its parent's RSS at fork
    for sweep, rows in results.items():
        if sweep == "length":
            plot_length(rows, args)
        else:
            plot_sweep(sweep, rows, args)
    minutes = (time.perf_counter() - started) / 60
    print(f"Plots and CSVs: {args.out}; {minutes:.1f} min in all")
    failed = [r for rows in results.values() for r in rows if r.get("error")]
    for r in failed:
        print(f"\nFAILED: {r['model']} ({r.get('spec')}): {r['error']}\n  reproduce: {r.get('reproduce')}")
    log(f"done in {minutes:.1f} min")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
