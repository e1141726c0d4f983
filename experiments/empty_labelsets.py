"""Real streams made to hold many empty labelsets: issue 23's first failure mode, measured.

None of the 26 streams at hand has many records without a relevant label (Langlog 14 %, the
others under 1 %), but streams of events often do (a sound stream the issue tried: 45 %). This
script makes such streams from real ones: it drops the ``--drop`` most frequent labels of a
stream (counted over the whole file first), so that every record that carried only those is
left with none, and runs iHOMER and MLHAT side by side on what remains, whole stream, file
order, seed 0.

    STREAM_XML_DATA=../shared/datasets python experiments/empty_labelsets.py --source yeast --drop 2
    STREAM_XML_DATA=../shared/datasets python experiments/empty_labelsets.py --source imdb --drop 3

Run it from another checkout's folder with ``PYTHONPATH=.`` to measure that checkout's code.
"""

from __future__ import annotations

import argparse
import collections
import sys


class WithoutLabels:
    """The records of ``source`` without the labels ``dropped`` (a source again: it declares the
    remaining labels and the source's feature kinds)."""

    def __init__(self, source, dropped: set, name: str):
        self.source = source
        self.dropped = dropped
        self.name = name
        self.labels = [label for label in getattr(source, "labels", ()) if label not in dropped]

    def __getattr__(self, attr):  # feature kinds and the like come from the source
        return getattr(self.source, attr)

    def __iter__(self):
        for record in self.source:
            yield record if record.y is None else record._replace(y=record.y - self.dropped)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", required=True)
    parser.add_argument("--drop", type=int, default=2, help="how many of the most frequent labels to drop")
    parser.add_argument("--model", action="append", help="NAME[:k=v,...] (default: ihomer and mlhat)")
    args = parser.parse_args(argv)

    from connectors.catalog import open_source
    from stream_xml.evaluation.prequential import evaluate
    from model_specs import model_from_spec

    counts = collections.Counter(label for record in open_source(args.source) for label in (record.y or ()))
    dropped = {label for label, _ in counts.most_common(args.drop)}
    stream = WithoutLabels(open_source(args.source), dropped, f"{args.source} without {args.drop}")
    n = empty = 0
    for record in stream:
        n += 1
        empty += record.y is not None and not record.y
    print(f"{args.source}: dropped {sorted(dropped)}; {empty / n:.1%} of {n} records left without a label")

    models = {}
    for spec in args.model or ["ihomer", "mlhat"]:
        models[spec] = model_from_spec(spec)
    silent = collections.Counter()

    def count_empty_answers(record, predictions):
        for spec, (labelset, _) in predictions.items():
            silent[spec] += not labelset

    result = evaluate(stream, models, every=10**9, memory_every=10**9, on_record=count_empty_answers)
    print("| model | subset accuracy | micro-F1 | macro-F1 | P@1 | answered nothing |")
    print("|---|---:|---:|---:|---:|---:|")
    for spec, m in result["models"].items():
        metrics = m["metrics"]
        print(f"| {spec} | {metrics['subset_accuracy']:.3f} | {metrics['micro_f1']:.3f} | {metrics['macro_f1']:.3f} "
              f"| {metrics['precision@1']:.3f} | {silent[spec] / n:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
