"""Per-label true positives, false positives and false negatives of models over a whole stream,
test then train, beside each label's count of relevant records (issue 23: which labels a change
of the answers adds, and how often it is right).

Labels are numbered, and the feature kinds declared, as ``experiments/top_label.py`` does; the
tallies are of the predicted labelsets, so micro-F1 is 2·TP / (2·TP + FP + FN) of the sums.

    STREAM_XML_DATA=../shared/datasets python experiments/label_tallies.py --source foodtruck --model ihomer --model br-ht

``--model NAME[:k=v,...]`` (repeatable) as ``stream-xml evaluate``'s ``--param``; ``--source``
repeatable too.
"""

from __future__ import annotations

import argparse
import collections


def tallies(records: list, model, space) -> dict:
    """label -> [TP, FP, FN] of ``model`` over ``records`` ((x, relevant labels)), and the exact
    matches; each record's new labels are added to ``space`` (a LabelSpace) and handed to the
    model before it is learned, as the evaluator does."""
    out = collections.defaultdict(lambda: [0, 0, 0])
    exact = 0
    for x, truth in records:
        predicted, _ = model.predict_with_scores(x)
        new = space.add_all(truth)
        if new:
            model.add_labels([space.names[i] for i in new])
        model.learn_labelset(x, truth)
        for label in predicted & truth:
            out[label][0] += 1
        for label in predicted - truth:
            out[label][1] += 1
        for label in truth - predicted:
            out[label][2] += 1
        exact += predicted == truth
    return {"labels": dict(out), "exact": exact}


def report(source_name: str, specs: list) -> None:
    """Print the models' tallies over one stream, label by label, the most common label first."""
    from connectors.catalog import open_source
    from model_specs import handed_over, model_from_spec

    source = open_source(source_name)
    records = [(r.x, frozenset(r.y)) for r in source]
    counts = collections.Counter(label for _, truth in records for label in truth)
    results = {}
    for spec in specs:
        model = model_from_spec(spec)
        results[spec] = tallies(records, model, handed_over(model, source))
        tp, fp, fn = (sum(v[i] for v in results[spec]["labels"].values()) for i in range(3))
        print(f"{source_name} {spec}: micro-F1 {2 * tp / max(2 * tp + fp + fn, 1):.3f}, exact matches "
              f"{results[spec]['exact']} of {len(records)}, labels predicted {tp + fp}, relevant {tp + fn}")
    print(f"{'label':<24} {'relevant':>8} " + " ".join(f"{spec[:20]:>20}" for spec in specs) + "   (TP / FP / FN)")
    for label, n in counts.most_common():
        cells = " ".join(f"{'%d / %d / %d' % tuple(results[m]['labels'].get(label, (0, 0, n))):>20}" for m in specs)
        print(f"{str(label)[:24]:<24} {n:>8} {cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", action="append",
                        help="a source, as for stream-xml evaluate (repeatable; default yeast)")
    parser.add_argument("--model", action="append", help="NAME[:k=v,...] (repeatable; default: ihomer and mlhat)")
    args = parser.parse_args()
    for name in args.source or ["yeast"]:
        report(name, args.model or ["ihomer", "mlhat"])


if __name__ == "__main__":
    main()
