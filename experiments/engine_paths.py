"""iHOMER's two prediction paths side by side in one process: by label name (every label's score
through dicts) and by arrays (one learner answering every label, the default's one block:
``ClusterHierarchy._predict_by_arrays``). Both must hand out the same labelsets and scores and
leave the same model; the script checks that on the whole stream, then times the two paths in
alternation (test-then-train, each pass a fresh model) and prints the fastest pass of each.

    STREAM_XML_DATA=../shared/datasets python experiments/engine_paths.py --source yeast --passes 5
    python experiments/engine_paths.py --model ihomer:threshold=f1

``--model NAME[:k=v,...]`` as in ``experiments/component_times.py`` (default ``ihomer``).
"""

from __future__ import annotations

import argparse
import pickle
import time


def _run(spec: str, source, records: list, by_name: bool, keep: bool) -> tuple[float, list, object]:
    """Seconds of one test-then-train pass, the predictions (if ``keep``) and the model."""
    from model_specs import handed_over, model_from_spec
    from stream_xml.ihomer import modes

    sole = modes.PartitionEnsemble.sole_learner
    if by_name:
        modes.PartitionEnsemble.sole_learner = lambda self: None
    try:
        model = model_from_spec(spec)
        handed_over(model, source)
        out = []
        started = time.perf_counter()
        for x, y in records:
            predicted = model.predict_with_scores(x)
            if keep:
                out.append(predicted)
            model.learn_labelset(x, y)
        return time.perf_counter() - started, out, model
    finally:
        modes.PartitionEnsemble.sole_learner = sole


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default="yeast")
    parser.add_argument("--model", default="ihomer")
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()

    from connectors.catalog import open_source

    source = open_source(args.source)
    records = [(r.x, r.y) for r in source]
    _, by_name, name_model = _run(args.model, source, records, True, True)
    _, by_arrays, array_model = _run(args.model, source, records, False, True)
    same = by_name == by_arrays and pickle.dumps(name_model) == pickle.dumps(array_model)
    print(f"{args.source}, {args.model}: {len(records)} records; labelsets, scores and final model "
          f"{'identical' if same else 'DIFFERENT'}")
    best = {True: float("inf"), False: float("inf")}
    for _ in range(args.passes):
        for path in (True, False):
            best[path] = min(best[path], _run(args.model, source, records, path, False)[0])
    n = len(records)
    print(f"  by name  {1e6 * best[True] / n:8.1f} µs a record (fastest of {args.passes} passes)")
    print(f"  by arrays {1e6 * best[False] / n:7.1f} µs a record; by name ÷ by arrays {best[True] / best[False]:.3f}")


if __name__ == "__main__":
    main()
