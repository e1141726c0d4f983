"""Issue 4's side-by-side throughput benchmark: the four streams in one ``stream-xml bench`` run.

iHOMER, MLHAT and MLHT (stream-xml), river's binary-relevance Hoeffding trees and MOA's
MultilabelHoeffdingTree and classifier chain run on the same records of Yeast, Tmc2007-500,
IMDB and Delicious, one child process per model, one model at a time. The tables (records/s,
warm-up apart, peak RSS, the five main metrics, ratios to MOA's MLHT and to river's BR-HT) go
to ``--out`` as bench.json and bench.md, written after every stream.

    python experiments/throughput.py --data-dir ../shared/datasets
    python experiments/throughput.py --river-max-seconds 120 --moa-max-seconds 300

Every option after the known ones is passed on to ``stream-xml bench`` (``--limit 500`` for a
quick look, ``--model`` to choose models, ``--reps 3`` for medians of rounds and paired ratios).
MOA's jar comes from ``make moa``.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stream_xml.cli import main as cli_main  # noqa: E402

STREAMS = ("yeast", "tmc2007-500", "Imdb", "delicious")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = os.environ.get("STREAM_XML_DATA") or str(ROOT.parent / "shared" / "datasets")
    p.add_argument("--data-dir", default=default_data)
    p.add_argument("--out", default=str(ROOT / "experiments" / "out" / "bench"))
    args, rest = p.parse_known_args(argv)
    sources = [a for s in STREAMS for a in ("--source", s)]
    return cli_main(["bench", *sources, "--data-dir", args.data_dir, "--out", args.out, *rest])


if __name__ == "__main__":
    sys.exit(main())
