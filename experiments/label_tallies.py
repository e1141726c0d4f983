"""Per-label true positives, false positives and false negatives of models over a whole stream,
test then train, beside each label's count of relevant records (issue 23: which labels a change
of the answers adds, and how often it is right).

Labels are numbered, and the feature kinds declared, as ``experiments/top_label.py`` does; the
tallies are of the predicted labelsets, so micro-F1 is 2·TP / (2·TP + FP + FN) of the sums.

    STREAM_XML_DATA=../shared/datasets python experiments/label_tallies.py --source foodtruck --model ihomer --model br-ht

``--model NAME[:k=v,...]`` (repeatable) as ``stream-xml evaluate``'s ``--param``.
"""

from __future__ import annotations

import argparse
import collections

from stream_xml.labels import LabelSpace


def tallies(records: list, model, declared_labels: tuple = ()) -> dict:
    """label -> [TP, FP, FN] of ``model`` over ``records`` ((x, relevant labels)), and the exact
    matches; labels reach the model as the evaluator hands them over (``declared_labels`` first,
    then each record's new ones before it is learned)."""
    out = collections.defaultdict(lambda: [0, 0, 0])
    exact = 0
    space = LabelSpace(declared_labels)
    if len(space):
        model.add_labels(list(space.names))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default="yeast")
    parser.add_argument("--model", action="append", help="NAME[:k=v,...] (default: ihomer and mlhat)")
    args = parser.parse_args()

    from connectors.base import feature_kinds
    from connectors.catalog import open_source
    from model_specs import model_from_spec

    source = open_source(args.source)
    records = [(r.x, frozenset(r.y)) for r in source]
    counts = collections.Counter(label for _, truth in records for label in truth)
    names = args.model or ["ihomer", "mlhat"]
    results = {}
    for name in names:
        model = model_from_spec(name)
        if hasattr(model, "declare_features"):
            model.declare_features(feature_kinds(source))
        results[name] = tallies(records, model, tuple(getattr(source, "labels", ()) or ()))
        tp, fp, fn = (sum(v[i] for v in results[name]["labels"].values()) for i in range(3))
        print(f"{name}: micro-F1 {2 * tp / max(2 * tp + fp + fn, 1):.3f}, exact matches {results[name]['exact']} "
              f"of {len(records)}, labels predicted {tp + fp}, relevant {tp + fn}")
    print(f"{'label':<24} {'relevant':>8} " + " ".join(f"{n[:20]:>20}" for n in names) + "   (TP / FP / FN)")
    for label, n in counts.most_common():
        cells = " ".join(f"{'%d / %d / %d' % tuple(results[m]['labels'].get(label, (0, 0, n))):>20}" for m in names)
        print(f"{str(label)[:24]:<24} {n:>8} {cells}")


if __name__ == "__main__":
    main()
