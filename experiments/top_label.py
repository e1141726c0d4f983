"""How far a model's top-ranked label is from the most frequent label so far, the ranking every
P@1 must beat (issue 23: Vowpal Wabbit's P@1 on Yeast, 0.750, is that label's).

Runs the model test-then-train over the stream and, on the records with at least one relevant
label (those P@1 counts), compares its top label with the most frequent label of the records
before. Labels are numbered, and given to the model, as the prequential evaluator does (the
source's declared labels first, then each record's new labels, then labels the model names; the
source's feature kinds declared too), and
the top label is the evaluator's (:func:`~stream_xml.evaluation.metrics.top_k`: ties to the
smaller id), so the top labels' hits are the run's P@1. The records are split by whether
the model's predicted labelset holds that label: a ranking that keeps the labelset above every
other label (iHOMER's scores) can only reorder the labels inside it, so the split says how much
of the gap a better ranking could close.

    STREAM_XML_DATA=../shared/datasets python experiments/top_label.py --source yeast
    STREAM_XML_DATA=../shared/datasets python experiments/top_label.py --source flags \
        --model ihomer:root_tree__leaf_ranking=answer

``--model NAME[:k=v,...]`` as in ``experiments/component_times.py`` (default ``ihomer``).
"""

from __future__ import annotations

import argparse
import collections


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default="yeast")
    parser.add_argument("--model", default="ihomer", help="NAME[:k=v,...]")
    args = parser.parse_args()

    from connectors.catalog import open_source
    from stream_xml.evaluation.metrics import top_k
    from model_specs import handed_over, model_from_spec

    model = model_from_spec(args.model)
    counts: collections.Counter = collections.Counter()
    # per group: records, hits of the model's top label, hits of the most frequent label so far
    tally = {group: [0, 0, 0] for group in ("holds it", "lacks it", "empty answer")}
    source = open_source(args.source)
    space = handed_over(model, source)
    for record in source:
        x, truth = record.x, frozenset(record.y)
        predicted, scores = model.predict_with_scores(x)
        new = space.add_all(truth)
        if new:
            model.add_labels([space.names[i] for i in new])
        scored = {space.add(name): p for name, p in scores.items()}
        if truth and counts:
            frequent = max(counts, key=counts.__getitem__)
            top_ids = top_k(scored, 1, len(space))
            top = space.names[top_ids[0]] if top_ids else None
            group = "empty answer" if not predicted else "holds it" if frequent in predicted else "lacks it"
            entry = tally[group]
            entry[0] += 1
            entry[1] += top in truth
            entry[2] += frequent in truth
        counts.update(truth)
        model.learn_labelset(x, truth)
    n = sum(entry[0] for entry in tally.values())
    print(f"{args.source} {args.model}: {n} records with a relevant label (after the first)")
    print(f"  {'answer':<14} {'records':>8} {'top label':>10} {'most frequent':>14}")
    overall = [sum(entry[i] for entry in tally.values()) for i in range(3)]
    for group, (records, top_hits, frequent_hits) in (*tally.items(), ("all", overall)):
        if records:
            print(f"  {group:<14} {records:>8} {top_hits / records:>10.3f} {frequent_hits / records:>14.3f}")


if __name__ == "__main__":
    main()
