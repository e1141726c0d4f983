"""The ``stream-xml`` command line.

``stream-xml evaluate``  prequential evaluation of one or more models on one stream, with a report
``stream-xml datasets``  the datasets found in the data directory, with their shapes
``stream-xml models``    the models known by name
``stream-xml generate``  write a synthetic drifting stream to an ARFF file
``stream-xml serve``     the prequential loop as a Kafka service (checkpointed, restartable)
``stream-xml produce``   replay a source into a Kafka topic
``stream-xml bench``     records/s, memory and accuracy side by side with river, MOA and Vowpal Wabbit

Run ``stream-xml COMMAND --help`` for the options of each. Each command lives in a module of
this package that adds its parser (``add_parser``) with the function that runs it
(``set_defaults(func=...)``).

>>> build_parser().parse_args(["models"]).func.__name__
'run_models'

"""

from __future__ import annotations

import argparse
import sys

from stream_xml import __version__
from stream_xml.cli import bench, evaluate, generate, listing, serve

__all__ = ["main", "build_parser"]

COMMANDS = (evaluate, listing, generate, serve, bench)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stream-xml", description="Online multi-label classification on data streams: evaluate, serve, bench."
    )
    parser.add_argument("--version", action="version", version=f"stream-xml {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as e:
        print(f"stream-xml {args.command}: error: {e}", file=sys.stderr)
        return 2
