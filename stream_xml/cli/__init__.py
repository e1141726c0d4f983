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
import os
import sys

from stream_xml import __version__
from stream_xml.cli import bench, evaluate, generate, listing, serve
from stream_xml.cli.options import HelpFormatter

__all__ = ["main", "build_parser"]

COMMANDS = (evaluate, listing, generate, serve, bench)


class _Parser(argparse.ArgumentParser):
    """Every command's parser shows its options' defaults and, unless it has a description of
    its own, its one-line help as the description."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stream-xml", description="Online multi-label classification on data streams: evaluate models on "
                                       "files and synthetic streams, serve them on Kafka, bench them against others.",
        epilog="Run 'stream-xml COMMAND --help' for the options of each command.",
    )
    parser.add_argument("--version", action="version", version=f"stream-xml {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for module in COMMANDS:
        module.add_parser(sub)
    for action in sub._choices_actions:  # the help line of each command, as argparse keeps it
        command = sub.choices[action.dest]
        command.description = command.description or action.help[:1].upper() + action.help[1:] + "."
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status = args.func(args)
        sys.stdout.flush()  # inside the try: a closed pipe would otherwise raise at exit
        return status
    except (ValueError, FileNotFoundError) as e:
        print(f"stream-xml {args.command}: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader closed the pipe (`stream-xml models | head`): stop quietly as Unix tools do;
        # stdout goes to /dev/null so that the interpreter's final flush cannot raise again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + 13  # killed by SIGPIPE, by the shell's convention
