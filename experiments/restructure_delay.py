"""How fast iHOMER restructures after an abrupt change of label correlations, and how often it
restructures when nothing changed.

The stream is the one of ``clustering_drift.py``: six labels in two groups of co-occurring
labels, membership redrawn at ``--change-at`` so that each new group mixes both old ones. iHOMER
(mode A, default clustering parameters unless a configuration says otherwise) learns it; the
script reads its ``restructure`` events and reports, per configuration over the seeds:

- false alarms: restructures after the first one and before the change point;
- delay: records from the change point to the first restructure after it;
- whether the blocks at the end equal the new groups.

    python experiments/restructure_delay.py            # 10 seeds, change at 3000, 9000 records

"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from clustering_drift import new_groups, stream  # noqa: E402
from stream_xml.clustering import ODACJ  # noqa: E402
from stream_xml.ihomer import IHOMER  # noqa: E402
from stream_xml.tree import MLHAT  # noqa: E402

CONFIGS = {
    "default": {},
    "cluster_fading=0.999": {"clustering": ODACJ(n_min=100, delta=0.9, tau=0.1, fading=0.999)},
    "no correlation drift signal": {"drift_signals": ()},
}
# the learners do not influence when the clustering restructures (except through the loss
# signal); light ones keep the study fast. Blocks of ⌈√L⌉ labels: the default keeps one block
# beside the root learner (issue 23), which never restructures
LIGHT = {"tree": MLHAT(leaf_model="majority", drift_detection=False, leaf_switch="loss"), "replay": 0, "warmup": 0,
         "min_block": "sqrt"}


def run(seed: int, n: int, change_at: int, params: dict) -> dict:
    after = new_groups(seed)
    model = IHOMER(seed=seed, **{**LIGHT, **params})
    times = []
    for t, labels in enumerate(stream(seed, n, change_at, after), start=1):
        model.learn_labelset({"bias": 1.0}, {f"L{i}" for i in labels})
        times += [t for e in model.drain_events() if e["kind"] == "restructure"]
    before = [t for t in times if t <= change_at]
    later = [t for t in times if t > change_at]
    target = sorted(sorted(f"L{i}" for i in g) for g in after)
    return {
        "seed": seed,
        "restructures": times,
        "false_alarms": max(0, len(before) - 1),
        "delay": later[0] - change_at if later else None,
        "recovered": sorted(model.partition) == target,
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--n", type=int, default=9000)
    p.add_argument("--change-at", type=int, default=3000)
    args = p.parse_args(argv)
    for name, params in CONFIGS.items():
        runs = [run(s, args.n, args.change_at, params) for s in range(args.seeds)]
        delays = [r["delay"] for r in runs if r["delay"] is not None]
        print(
            f"{name:<22} false alarms {sum(r['false_alarms'] for r in runs):>2} over {args.seeds} runs"
            f" | delay median {statistics.median(delays) if delays else None}"
            f" range {min(delays, default=None)}-{max(delays, default=None)}"
            f" (no restructure after the change: {len(runs) - len(delays)})"
            f" | recovered the new groups {sum(r['recovered'] for r in runs)}/{len(runs)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
