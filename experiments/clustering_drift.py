"""How ODAC-J reacts when the label-correlation structure changes abruptly (spec §7.4).

Six labels form two groups; every group has a latent Bernoulli(0.3) trigger that each of its
labels copies with probability 0.9 (else flips). At ``--change-at`` the membership is redrawn
(a seeded permutation that mixes both old groups), the triggers stay the same. For every seed
and configuration the script reports:

- false alarms: structural changes after the first one and before the change point;
- delay: instances from the change point to the first structural change after it (left out
  when the first split itself came only after the change point);
- merges: aggregations after the change point (the drift signal proper);
- recovered: whether the final partition equals the new groups, and when it last changed.

Run from the repository root::

    python experiments/clustering_drift.py              # 10 seeds, change at 3000, 12000 instances
    python experiments/clustering_drift.py --seeds 3 --out experiments/out/clustering_drift.json

"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from stream_xml.clustering import ODACJ  # noqa: E402

OLD_GROUPS = ((0, 1, 2), (3, 4, 5))


def new_groups(seed: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """A seeded redraw of the two groups in which each new group mixes both old ones."""
    rng = np.random.default_rng(10_000 + seed)
    while True:
        perm = rng.permutation(6)
        groups = (tuple(sorted(perm[:3].tolist())), tuple(sorted(perm[3:].tolist())))
        if all(0 < len(set(g) & set(OLD_GROUPS[0])) < 3 for g in groups):
            return groups


def stream(seed: int, n: int, change_at: int, after: tuple):
    rng = np.random.default_rng(seed)
    for t in range(1, n + 1):
        groups = OLD_GROUPS if t <= change_at else after
        y = []
        for group in groups:
            trigger = rng.random() < 0.3
            y.extend(label for label in group if (rng.random() < 0.9) == trigger)
        yield y


def run(seed: int, n: int, change_at: int, **params) -> dict:
    after = new_groups(seed)
    model = ODACJ(**params)
    for y in stream(seed, n, change_at, after):
        model.learn_one(y)
    times = sorted({e["t"] for e in model.events})
    before = [t for t in times if t <= change_at]
    later = [t for t in times if t > change_at]
    target = sorted(sorted(g) for g in after)
    return {
        "seed": seed,
        "new_groups": [list(g) for g in after],
        "first_change": times[0] if times else None,
        "false_alarms": max(0, len(before) - 1),
        # Measured only when the clustering had its initial structure before the change.
        "delay": later[0] - change_at if later and before else None,
        "no_structure_before_change": not before,
        "merges_after": sum(e["kind"] == "merge" and e["t"] > change_at for e in model.events),
        "changes_after": len(later),
        "last_change": times[-1] if times else None,
        "final_partition": model.partition(),
        "recovered": sorted(model.partition()) == target,
        "events": [
            {k: e[k] for k in ("t", "kind", "labels") if k in e} | {"children": e.get("children")}
            for e in model.events
        ],
    }


def summarise(name: str, runs: list[dict]) -> str:
    measured = [r for r in runs if not r["no_structure_before_change"]]
    delays = [r["delay"] for r in measured if r["delay"] is not None]
    median = statistics.median(delays) if delays else None
    return (
        f"{name:<26} false alarms {sum(r['false_alarms'] for r in runs):>2}"
        f" | delay median {median!s:>6} range {min(delays, default=None)!s:>5}"
        f"-{max(delays, default=None)!s:<5} (never: {len(measured) - len(delays)},"
        f" late first split: {len(runs) - len(measured)})"
        f" | merges after {sum(r['merges_after'] for r in runs):>2}"
        f" | recovered {sum(r['recovered'] for r in runs)}/{len(runs)}"
    )


CONFIGS = {
    "default (delta=0.9)": {},
    "fading=0.999": {"fading": 0.999},
    "delta=0.1": {"delta": 0.1},
    "delta=0.1, fading=0.999": {"delta": 0.1, "fading": 0.999},
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--n", type=int, default=12_000)
    parser.add_argument("--change-at", type=int, default=3_000)
    parser.add_argument("--out", type=pathlib.Path, help="write every run as JSON here")
    parser.add_argument("--verbose", action="store_true", help="print each run's events")
    args = parser.parse_args(argv)

    results = {}
    for name, params in CONFIGS.items():
        runs = [run(seed, args.n, args.change_at, **params) for seed in range(args.seeds)]
        results[name] = runs
        print(summarise(name, runs))
        if args.verbose:
            for r in runs:
                print("   seed", r["seed"], "new", r["new_groups"], "final", r["final_partition"])
                for e in r["events"]:
                    print("     ", e)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        record = {"args": vars(args) | {"out": str(args.out)}, "runs": results}
        args.out.write_text(json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
