"""What MOA's ``moa-mlht`` anchor is, and what the features' typing changes in it (issue 22).

For every stream, the records are written as MOA's labels-first ARFF file twice if the source
types its features: typed as it declares them (an ARFF file's nominal attributes nominal), and
all numeric. On each file
MOA runs its MultilabelHoeffdingTree (the bench's ``moa-mlht``) and MEKA's PSUpdateable alone
(``MEKAClassifier -l meka.classifiers.multilabel.incremental.PSUpdateable``: pruned sets over
a WEKA Hoeffding tree, the leaf learner MOA 24.07's MultilabelHoeffdingTree builds whatever its
``-a`` option asks). The table gives each run's subset accuracy and micro-F1 (scored by
stream-xml's metrics from MOA's prediction dumps), MOA's CPU seconds, the size of the
MultilabelHoeffdingTree at the end of the stream (MOA's own measurement) and whether its
predictions are those of PSUpdateable record for record.

    python experiments/moa_anchor.py --source tmc2007-500 --source enron --data-dir ../shared/datasets

Needs Java and MOA's jar (``make moa``).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile

PS_UPDATEABLE = "(multilabel.MEKAClassifier -l meka.classifiers.multilabel.incremental.PSUpdateable)"


def anchor_rows(source_spec: str, data_dir=None, limit=None, jar=None, max_heap: str = "4g") -> list[dict]:
    """One row per typing of ``source_spec``: MOA's MLHT and PSUpdateable side by side."""
    from connectors.catalog import open_source
    from stream_xml.bench import moa

    source = open_source(source_spec, data_dir=data_dir)
    records = moa.RecordsOf(source, list(itertools.islice(source, limit)))
    labels = list(source.labels)
    rows = []
    with tempfile.TemporaryDirectory(prefix="moa-anchor-") as tmp:
        for typed in (True, False) if getattr(source, "nominal", None) else (False,):
            path = os.path.join(tmp, f"stream-{typed}.arff")
            moa.write_moa_arff(records, path, typed=typed)
            try:
                runs = {name: moa.run_moa(learner, path, len(labels), jar=jar, max_heap=max_heap)
                        for name, learner in (("mlht", "moa-mlht"), ("ps", PS_UPDATEABLE))}
            except moa.MoaError as err:
                rows.append({"source": source_spec, "typing": moa.typing_of(source, typed),
                             "failed": str(err).splitlines()[-1][:200]})
                print(f"  {source_spec}: MOA failed: {rows[-1]['failed']}", file=sys.stderr, flush=True)
                continue
            scores = {name: moa.score_moa(run, records, labels) for name, run in runs.items()}
            nodes = runs["mlht"].curve.get("tree size (nodes)")
            rows.append({
                "source": source_spec, "typing": moa.typing_of(source, typed),
                **{f"{name}_{m}": scores[name][m] for name in runs for m in ("subset_accuracy", "micro_f1")},
                **{f"{name}_cpu_s": runs[name].cpu_seconds for name in runs},
                "tree_nodes": None if nodes is None else int(float(nodes)),
                "identical": runs["mlht"].predictions == runs["ps"].predictions,
            })
            print(f"  {source_spec}, {rows[-1]['typing']}: done", file=sys.stderr, flush=True)
    return rows


def format_rows(rows: list[dict]) -> str:
    head = ("| stream | MOA's features | MLHT subset acc. / micro-F1 | PSUpdateable subset acc. / micro-F1 "
            "| MLHT tree nodes | same predictions | CPU s (MLHT / PS) |")
    lines = [head, "|---|---|---|---|---:|---|---|"]
    for r in rows:
        if r.get("failed"):
            lines.append(f"| {r['source']} | {r['typing']} | MOA failed: {r['failed']} | | | | |")
            continue
        lines.append(
            f"| {r['source']} | {r['typing']} | {r['mlht_subset_accuracy']:.4f} / {r['mlht_micro_f1']:.4f} "
            f"| {r['ps_subset_accuracy']:.4f} / {r['ps_micro_f1']:.4f} | {r['tree_nodes']} "
            f"| {'yes' if r['identical'] else 'NO'} | {r['mlht_cpu_s']:.1f} / {r['ps_cpu_s']:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--source", action="append", required=True, help="a stream (repeatable)")
    p.add_argument("--data-dir", default=os.environ.get("STREAM_XML_DATA"), help="folder of the datasets")
    p.add_argument("--limit", type=int, default=None, help="the first N records of each stream")
    p.add_argument("--moa-jar", default=None)
    p.add_argument("--moa-heap", default="4g", help="the JVM's maximum heap (java -Xmx)")
    args = p.parse_args(argv)
    rows = [row for spec in args.source for row in anchor_rows(spec, args.data_dir, args.limit, args.moa_jar, args.moa_heap)]
    print(format_rows(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
