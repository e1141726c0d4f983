"""``stream-xml generate``: write a synthetic stream (or any declared source) to an ARFF or XMC file.

::

    stream-xml generate --source "synth:concept-shift?n=50000&labels=30" --out data/concept.arff
    stream-xml generate --preset recurring --param kind=correlation --param n=20000 --out r.arff.gz
    stream-xml generate --preset stationary --sparse --param density=0.05 --param features=500 --out s.arff
    stream-xml generate --source "synth:extreme?labels=100000&features=100000&n=100000" --out x.txt.gz
    stream-xml generate --source enron --keep-types --out enron-labels-first.arff   # $STREAM_XML_DATA
    stream-xml generate --list

The file is MEKA ARFF (labels first, ``-C n``), its features numeric, or, with
``--keep-types``, as the source declares them (an ARFF source's nominal attributes stay
nominal); its header comments give the spec and the true change points (``connectors.arff_writer.read_change_points`` reads them back). With
``--format xmc`` (the default for ``.txt`` and ``.xmc`` names) it is the extreme
classification repository's text format, label and feature ids by declaration order
(:mod:`connectors.xmc_writer`; change points are not kept).

>>> import argparse, os, tempfile
>>> from stream_xml.cli import generate
>>> parser = argparse.ArgumentParser(prog="stream-xml")
>>> generate.add_parser(parser.add_subparsers(dest="command"))
>>> out = os.path.join(tempfile.mkdtemp(), "s.arff")
>>> args = parser.parse_args(["generate", "--preset", "concept-shift", "--param", "n=300", "--out", out])
>>> args.func(args)
0
>>> from connectors.arff import ArffSource
>>> src = ArffSource(out)
>>> len(src.labels), sum(1 for _ in src)
(20, 300)

"""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_parser", "run", "open_generator"]


def add_parser(subparsers) -> None:
    """Add the ``generate`` subcommand to an argparse ``subparsers`` object."""
    p = subparsers.add_parser(
        "generate", help="write a synthetic stream to a MEKA ARFF (or XMC text) file",
        description="Write a synthetic stream (synth:PRESET?k=v&...) to a MEKA ARFF file (labels first, -C n)"
                    " or to the XMC repository's text format.",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument("--source", help="a source spec, e.g. 'synth:correlation-shift?n=200000&labels=50'")
    which.add_argument("--preset", help="a synthetic preset (see --list)")
    which.add_argument("--list", action="store_true", help="list the presets and their parameters, then exit")
    p.add_argument("--param", action="append", default=[], help="preset parameter key=value (repeatable)")
    p.add_argument("--out", help="the file to write (.arff, or .arff.gz to gzip it; .txt or .txt.gz: XMC text)")
    p.add_argument("--format", choices=("arff", "xmc"), default=None,
                   help="MEKA ARFF, or the XMC repository's text format (N D L header, ids); default by --out")
    p.add_argument("--sparse", action="store_true",
                   help="sparse rows ({index value, ...}); a synthetic stream is then generated sparse too")
    p.add_argument("--seed", type=int, default=None, help="seed of the synthetic stream (overrides the spec's)")
    p.add_argument("--limit", type=int, default=None, help="write at most this many records")
    p.add_argument("--keep-types", action="store_true",
                   help="ARFF: write the source's nominal attributes as it declares them (an ARFF file's), not numeric")
    p.set_defaults(func=run)


def open_generator(args: argparse.Namespace):
    """The source ``args`` describe (``--source`` or ``--preset`` with ``--param``, ``--seed``, ``--sparse``)."""
    import connectors.synthetic as synthetic
    from connectors.catalog import open_source

    overrides = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--param expects key=value, got {item!r}")
        overrides[key.strip()] = value.strip()
    if args.seed is not None:
        overrides["seed"] = args.seed
    if args.sparse:
        overrides["sparse"] = True
    if args.preset:
        return synthetic.make_stream(args.preset, **overrides)
    if args.source is None:
        raise ValueError("give --source synth:... or --preset NAME (or --list)")
    if not args.source.lower().startswith("synth:"):
        unused = sorted(set(overrides) - {"sparse"})
        if unused:
            raise ValueError(f"{unused} only apply to synthetic sources")
        return open_source(args.source)
    return open_source(args.source, **overrides)


def _format_of(path: str) -> str:
    """``xmc`` for a ``.txt``/``.xmc`` file (gzipped or not), ``arff`` otherwise."""
    stem = path[:-3] if path.endswith(".gz") else path
    return "xmc" if stem.endswith((".txt", ".xmc")) else "arff"


def run(args: argparse.Namespace) -> int:
    """``stream-xml generate``: write the stream, or list the presets."""
    from connectors.arff_writer import write_arff
    from connectors.synthetic import preset_help
    from connectors.xmc_writer import write_xmc

    if args.list:
        print(preset_help())
        return 0
    if not args.out:
        print("stream-xml generate: error: --out FILE.arff is required", file=sys.stderr)
        return 2
    try:
        source = open_generator(args)
        comments = [f"generated by stream-xml: {getattr(source, 'spec', None) or args.source}"]
        if (args.format or _format_of(args.out)) == "xmc":
            n = write_xmc(source, args.out, limit=args.limit)
        else:
            n = write_arff(source, args.out, sparse=True if args.sparse else None, limit=args.limit,
                           comments=comments, typed=args.keep_types)
    except (ValueError, TypeError, FileNotFoundError) as err:
        print(f"stream-xml generate: error: {err}", file=sys.stderr)
        return 2
    points = getattr(source, "change_points", None) or []
    print(f"{n} records, {len(source.labels)} labels, {len(source.features)} features -> {args.out}", file=sys.stderr)
    for point in points:
        print(f"  change at {point['t']} (width {point['width']}): {point['kind']}"
              + (" (recurring)" if point["recurring"] else ""), file=sys.stderr)
    return 0
