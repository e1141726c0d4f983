"""Old code against new code, side by side: records/s of one model on one stream from two checkouts.

Each checkout runs in child processes of its own (``--reps`` each, alternating, so a machine
that speeds up or slows down during the comparison weighs on both alike); a child reads the
stream into memory, warms the model up on throwaway records, then times the model's predict and
learn calls over the stream (test, then train, on every record); a checkout whose models take
the feature kinds the source declares (``declare_features``) is given them, as the evaluation
loop gives them. It also hashes every
prediction, so the report says whether the two checkouts predicted the same. Models that learn
labelsets (``learn_labelset``: stream-xml's own) are the ones it takes.

    git worktree add /tmp/base <old commit>
    python experiments/compare_checkouts.py /tmp/base . --source yeast --reps 5
    python experiments/compare_checkouts.py /tmp/base . --source imdb --limit 20000 --data-dir ../shared/datasets

On a busy machine single passes over a small stream swing by a third; ``--passes N`` times N
passes over the stream in each run (a fresh model each) and keeps the fastest:

    python experiments/compare_checkouts.py /tmp/base . --source flags --reps 2 --passes 5

Prints, per checkout, every run's records/s and their median, the ratio of the medians (second
over first), and whether the predictions were identical: the scores and the predicted labelsets
each (a change of the ranking keeps the labelsets and changes the scores; a change of how
labels are decided, the other way round). Before 423fe4c only the scores were compared.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]

# Run inside the child with the checkout first on sys.path: that checkout's stream_xml is timed.
CHILD = r"""
import hashlib, itertools, json, sys, time
spec = json.loads(sys.argv[1])
sys.path.insert(0, spec["checkout"])
import connectors.synthetic  # checkouts from before the built-in synth: scheme registered it on import
from connectors.catalog import open_source
from stream_xml.models import make_model


def predict_with_scores(model, x):
    # checkouts from before the learner contract (stream_xml/base.py): trees had predict_scores only
    fast = getattr(model, "predict_with_scores", None)
    if fast is not None:
        return fast(x)
    scores = model.predict_scores(x)
    return frozenset(k for k, p in scores.items() if p > 0.5), scores


def declared(model):
    # the feature kinds the source declares, as the evaluation loop gives them (issue 22 on)
    try:
        from connectors.base import feature_kinds
    except ImportError:
        return model
    if hasattr(model, "declare_features"):
        model.declare_features(feature_kinds(source))
    return model


source = open_source(spec["source"], data_dir=spec["data_dir"])
records = [(r.x, r.y) for r in itertools.islice(source, spec["limit"])]
warm = declared(make_model(spec["model"], spec["params"], seed=0))
for x, y in records[: spec["warmup"]]:
    predict_with_scores(warm, x)
    warm.learn_labelset(x, y)
passes = []
for _ in range(spec["passes"]):
    model = declared(make_model(spec["model"], spec["params"], seed=0))
    digest, labelsets = hashlib.sha256(), hashlib.sha256()
    seconds = 0.0
    for x, y in records:
        started = time.perf_counter()
        predicted, scores = predict_with_scores(model, x)
        model.learn_labelset(x, y)
        seconds += time.perf_counter() - started
        digest.update(repr(sorted((str(k), v) for k, v in scores.items())).encode())
        labelsets.update(repr(sorted(map(str, predicted))).encode())
    passes.append((seconds, digest.hexdigest(), labelsets.hexdigest()))
# the fastest pass is the one least disturbed by the rest of the machine; every pass's digests
# are compared (a model that predicts otherwise on a second pass is not deterministic)
print(json.dumps({"records": len(records), "seconds": min(p[0] for p in passes),
                  "digest": passes[0][1], "labelsets": passes[0][2],
                  "digests": [p[1] for p in passes], "labelsets_all": [p[2] for p in passes]}))
"""


def run_once(checkout: str, params: str, args) -> dict:
    spec = {
        "checkout": str(pathlib.Path(checkout).resolve()), "source": args.source, "data_dir": args.data_dir,
        "limit": args.limit, "model": args.model, "params": json.loads(params), "warmup": args.warmup,
        "passes": args.passes,
    }
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{checkout}: the child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("first", help="checkout of the baseline (a git worktree of the old commit)")
    p.add_argument("second", help="checkout of the code compared with it")
    p.add_argument("--source", default="yeast", help="a source, as for stream-xml evaluate (default yeast)")
    p.add_argument("--data-dir", default=os.environ.get("STREAM_XML_DATA"), help="folder of the datasets")
    p.add_argument("--model", default="ihomer")
    p.add_argument("--params", default="{}", help="model parameters as a JSON object")
    p.add_argument("--first-params", default=None,
                   help="the first checkout's parameters, where they are spelled differently (default: --params)")
    p.add_argument("--limit", type=int, default=None, help="the first N records of the stream")
    p.add_argument("--reps", type=int, default=3, help="runs of each checkout (default 3)")
    p.add_argument("--warmup", type=int, default=300, help="throwaway records before timing (numba)")
    p.add_argument("--passes", type=int, default=1,
                   help="passes over the stream in each run, a fresh model each; a run counts its fastest (default 1)")
    args = p.parse_args(argv)

    checkouts = [args.first, args.second]
    params = {args.first: args.first_params or args.params, args.second: args.params}
    runs = {c: [] for c in checkouts}
    for _ in range(args.reps):
        for checkout in checkouts:
            runs[checkout].append(run_once(checkout, params[checkout], args))
    medians = []
    for checkout in checkouts:
        rates = [r["records"] / r["seconds"] for r in runs[checkout]]
        medians.append(statistics.median(rates))
        print(f"{checkout}: median {medians[-1]:,.0f} records/s  (runs: {', '.join(f'{v:,.0f}' for v in rates)})")
    digests = {d for c in checkouts for r in runs[c] for d in r["digests"]}
    labelsets = {d for c in checkouts for r in runs[c] for d in r["labelsets_all"]}
    print(f"second / first: {medians[1] / medians[0]:.3f}")
    print("predictions: " + ("identical" if len(digests) == 1 and len(labelsets) == 1 else "DIFFERENT"))
    # a change of the ranking alone keeps every labelset and changes the scores; a change of the
    # decisions alone (kept labelsets, thresholds) the other way round
    print("  scores: " + ("identical" if len(digests) == 1 else "DIFFERENT"))
    print("  predicted labelsets: " + ("identical" if len(labelsets) == 1 else "DIFFERENT"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
