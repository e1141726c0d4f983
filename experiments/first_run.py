"""A newcomer's first run (issue 21): what ``stream-xml evaluate`` reports with an empty numba cache
and on the runs after, beside an anchor checkout (one without the compile-time split, e.g. main
before it), and what the split costs on a warm cache.

For each checkout (this one and ``--anchor``), ``evaluate --source yeast --model ...`` runs as a
user runs it (a subprocess, ``python -m stream_xml``), first with an empty numba cache of its own
(``NUMBA_CACHE_DIR``), then ``--reps`` times warm, the two checkouts alternating so that both see
the same load. Reported per run and model: records/s as report.json says, the compilation kept
apart (``compile_seconds``; absent in an anchor without the split) and the command's wall time;
then, per model, the median over the warm runs of this checkout's records/s over the anchor's of
the same round (the machine is shared: the ratio of runs side by side is steadier than either).

    git worktree add /tmp/anchor <anchor commit>     # or: git archive <commit> | tar -x -C /tmp/anchor
    python experiments/first_run.py --anchor /tmp/anchor --reps 5
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run(checkout: pathlib.Path, models: list, cache: str, out: str) -> dict:
    """One ``evaluate`` of ``checkout`` with numba's cache in ``cache``; report.json's figures."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": str(checkout)}
    command = [sys.executable, "-m", "stream_xml", "evaluate", "--source", "yeast", "--out", out, "--no-progress"]
    for m in models:
        command += ["--model", m]
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, cwd=checkout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    doc = json.loads(pathlib.Path(out, "report.json").read_text())
    return {"wall_s": wall, "models": {name: {"records_per_s": m["records_per_s"], "compile_s": m.get("compile_seconds")}
                                       for name, m in doc["models"].items()}}


def _line(label: str, r: dict) -> str:
    cells = "  ".join(f"{name} {m['records_per_s']:>8.1f} rec/s"
                      + (f" (compile {m['compile_s']:.1f} s)" if m["compile_s"] else "") for name, m in r["models"].items())
    return f"{label:<22} wall {r['wall_s']:>6.1f} s  {cells}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--anchor", required=True, help="a checkout to compare with (its root folder)")
    p.add_argument("--model", action="append", default=None, help="models (default: ihomer mlhat majority)")
    p.add_argument("--reps", type=int, default=3, help="warm runs of each checkout")
    args = p.parse_args(argv)
    models = args.model or ["ihomer", "mlhat", "majority"]
    checkouts = {"this": ROOT, "anchor": pathlib.Path(args.anchor).resolve()}
    with tempfile.TemporaryDirectory() as tmp:
        caches = {k: os.path.join(tmp, f"cache-{k}") for k in checkouts}
        for label, checkout in checkouts.items():
            print(_line(f"{label} cold", run(checkout, models, caches[label], os.path.join(tmp, "out"))), flush=True)
        ratios: dict = {m: [] for m in models}
        for rep in range(args.reps):
            order = list(checkouts) if rep % 2 == 0 else list(reversed(checkouts))
            rows = {label: run(checkouts[label], models, caches[label], os.path.join(tmp, "out")) for label in order}
            for label in order:
                print(_line(f"{label} warm {rep + 1}", rows[label]), flush=True)
            for m in models:
                ratios[m].append(rows["this"]["models"][m]["records_per_s"] / rows["anchor"]["models"][m]["records_per_s"])
    for m, values in ratios.items():
        print(f"{m}: this / anchor records/s, warm, median {statistics.median(values):.2f} "
              f"(min {min(values):.2f}, max {max(values):.2f}, {len(values)} rounds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
