"""What a model costs before it has learned anything: a fresh model's first record, in which
iHOMER builds its engine (the label-tree or partition engine, chosen from what the first records
hold, so in the loop's timed calls), against MLHAT's, which is built before the loop (issue 23's
twelfth round: on Flags' 194 records the set-up was about 2 % of iHOMER's time).

Times ``model = make(); model.predict_with_scores(x); model.learn_labelset(x, labels)`` over the
stream's first record, ``--calls`` times a pass, best of ``--reps`` passes, after one untimed
call that loads the kernels. Run from another checkout's folder with ``PYTHONPATH=.`` to time
that checkout:

    STREAM_XML_DATA=../shared/datasets python experiments/setup_cost.py --source flags
    cd /tmp/base && PYTHONPATH=. STREAM_XML_DATA=... python /path/to/experiments/setup_cost.py --source flags
"""

from __future__ import annotations

import argparse
import time

from model_specs import add_source_and_models, models_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_source_and_models(parser)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()

    from connectors.catalog import open_source
    from model_specs import model_from_spec

    record = next(iter(open_source(args.source)))
    x, labels = record.x, frozenset(record.y)

    def first_record(spec: str) -> None:
        model = model_from_spec(spec)
        model.predict_with_scores(x)
        model.learn_labelset(x, labels)

    for spec in models_of(args):
        first_record(spec)
        passes = []
        for _ in range(args.reps):
            started = time.perf_counter()
            for _ in range(args.calls):
                first_record(spec)
            passes.append((time.perf_counter() - started) / args.calls)
        passes.sort()
        print(f"{args.source} {spec}: a new model and its first record {passes[0] * 1e3:.3f} ms "
              f"(best of {args.reps} passes; median {passes[len(passes) // 2] * 1e3:.3f} ms)")


if __name__ == "__main__":
    main()
