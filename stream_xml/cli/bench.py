"""``stream-xml bench``: the side-by-side runs of :mod:`stream_xml.bench` from the command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from stream_xml.bench.runs import DEFAULT_MOA, DEFAULT_MODELS, DEFAULT_VW, bench_source, format_table
from stream_xml.cli.options import model_labels, split_params

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> None:
    """Add the ``bench`` subcommand to an argparse ``subparsers`` object."""
    p = subparsers.add_parser(
        "bench", help="records/s, memory and accuracy side by side with river, MOA and Vowpal Wabbit",
        description="Prequential runs of stream-xml and river models and of MOA and Vowpal Wabbit learners on the same "
                    "streams, one child process each; prints records/s, peak memory, the main metrics "
                    "and the speed ratios.",
    )
    p.add_argument("--source", action="append", required=True, help="a source (repeatable): yeast, a path, a dataset name or scheme:...")
    p.add_argument("--data-dir", default=None, help="folder of the datasets (default: $STREAM_XML_DATA)")
    p.add_argument("--model", action="append", default=None, metavar="[LABEL=]NAME",
                   help=f"a stream-xml or river model, or LABEL=NAME for a variant under a label of its own "
                        f"(repeatable; default: {' '.join(DEFAULT_MODELS)}; 'none' for none)")
    p.add_argument("--param", action="append", default=[], metavar="[LABEL:]KEY=VALUE",
                   help="model parameter: 'LABEL:key=value' for one model, plain key=value for every model, as for evaluate")
    p.add_argument("--moa", action="append", default=None,
                   help=f"a MOA learner (repeatable; default: {' '.join(DEFAULT_MOA)}; 'none' for none)")
    p.add_argument("--vw", action="append", default=None,
                   help=f"a Vowpal Wabbit learner (repeatable; default: {' '.join(DEFAULT_VW)}; 'none' for none)")
    p.add_argument("--moa-typing", choices=("declared", "numeric"), default="declared",
                   help="the feature types MOA reads: as the source declares them (default; an ARFF file's nominal"
                        " attributes stay nominal) or all numeric")
    p.add_argument("--moa-heap", default="4g", help="the JVM's maximum heap for MOA (java -Xmx; default 4g)")
    p.add_argument("--moa-jar", default=None, help="path of MOA's moa.jar (default: see stream_xml.bench.moa.find_moa_jar)")
    p.add_argument("--limit", type=int, default=None, help="use the first N records of each stream")
    p.add_argument("--max-seconds", type=float, default=None, help="stop any model after this much model time")
    p.add_argument("--river-max-seconds", type=float, default=600.0, help="stop river models after this much model time")
    p.add_argument("--moa-max-seconds", type=float, default=600.0,
                   help="stop MOA learners after this much CPU time of their evaluation loop (MOA's -t)")
    p.add_argument("--seed", type=int, default=None, help="seed of the models")
    p.add_argument("--reps", type=int, default=1,
                   help="rounds of every model on each source; rows give the median run, ratios the median "
                        "of the ratios within a round and their range (default 1)")
    p.add_argument("--out", default=None, help="folder for bench.json and bench.md")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Bench every source; print each source's table as it is done (and write it under ``--out``)."""
    labels = {} if args.model == ["none"] else model_labels(args.model or DEFAULT_MODELS)
    models = list(labels)
    moa_learners = [] if args.moa == ["none"] else list(dict.fromkeys(args.moa or DEFAULT_MOA))
    params = split_params(args.param, models)
    if moa_learners:
        from stream_xml.bench import moa

        unknown = [m for m in moa_learners if m not in moa.MOA_LEARNERS]
        if unknown:
            raise ValueError(f"unknown MOA learner {', '.join(unknown)}; known: {', '.join(moa.MOA_LEARNERS)}")
        args.moa_jar = moa.find_moa_jar(args.moa_jar)
    vw_learners = [] if args.vw == ["none"] else list(dict.fromkeys(args.vw or DEFAULT_VW))
    if vw_learners:
        from stream_xml.bench import vw

        unknown = [m for m in vw_learners if m not in vw.VW_LEARNERS]
        if unknown:
            raise ValueError(f"unknown VW learner {', '.join(unknown)}; known: {', '.join(vw.VW_LEARNERS)}")
        vw.require_vw()
    if not models + moa_learners + vw_learners:
        raise ValueError("nothing to bench: every --model, --moa and --vw is none")
    report = {"command": " ".join(sys.argv), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "sources": {}}
    tables = []
    for spec in args.source:
        rows = bench_source(spec, models, moa_learners, params, args, vw_learners, model_names=labels)
        report["sources"][spec] = rows
        tables.append(format_table(spec, rows))
        print(tables[-1] + "\n", flush=True)
        if args.out:  # after every source, so a long bench keeps what it has measured
            os.makedirs(args.out, exist_ok=True)
            with open(os.path.join(args.out, "bench.json"), "w") as f:
                json.dump(report, f, indent=1)
            with open(os.path.join(args.out, "bench.md"), "w") as f:
                f.write("\n\n".join(tables) + "\n")
    if args.out:
        print(f"bench: {args.out}/bench.json, {args.out}/bench.md", file=sys.stderr)
    return 0
