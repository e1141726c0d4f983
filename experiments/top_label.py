"""How far a model's top-ranked label is from the most frequent label so far, the ranking every
P@1 must beat (issue 23: Vowpal Wabbit's P@1 on Yeast, 0.750, is that label's).

Runs the model test-then-train over the stream and, on the records with at least one relevant
label (those P@1 counts), compares its top label (highest score, ties to the label first in the
scores) with the most frequent label of the records before. The records are split by whether
the model's predicted labelset holds that label: a ranking that keeps the labelset above every
other label (iHOMER's scores) can only reorder the labels inside it, so the split says how much
of the gap a better ranking could close.

    STREAM_XML_DATA=../shared/datasets python experiments/top_label.py --source yeast
    STREAM_XML_DATA=../shared/datasets python experiments/top_label.py --source flags --model ihomer:root_tree__leaf_ranking=answer

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
    from stream_xml.models import make_model, parse_params

    name, _, pairs = args.model.partition(":")
    model = make_model(name, parse_params(filter(None, pairs.split(","))), seed=0)
    counts: collections.Counter = collections.Counter()
    # per group: records, hits of the model's top label, hits of the most frequent label so far
    tally = {group: [0, 0, 0] for group in ("holds it", "lacks it", "empty answer")}
    for record in open_source(args.source):
        x, truth = record.x, frozenset(record.y)
        predicted, scores = model.predict_with_scores(x)
        if truth and counts:
            frequent = max(counts, key=counts.__getitem__)
            top = max(scores, key=scores.__getitem__) if scores else None
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
    for group, (records, top_hits, frequent_hits) in (*tally.items(), ("all", [sum(e[i] for e in tally.values()) for i in range(3)])):
        if records:
            print(f"  {group:<14} {records:>8} {top_hits / records:>10.3f} {frequent_hits / records:>14.3f}")


if __name__ == "__main__":
    main()
