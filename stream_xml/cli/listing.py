"""``stream-xml datasets`` (what a data folder holds, with shapes) and ``stream-xml models``.

A dataset's shape (records, cardinality, ...) takes a pass over its records; ``datasets`` keeps
the shapes it measured in a cache file (``$XDG_CACHE_HOME/stream-xml/datasets.json``, by
default under ``~/.cache``), each under its files' paths, sizes and modification times, so a
file that changes is read again and the others are not (``--refresh`` reads them all).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

__all__ = ["add_parser", "cache_path", "run_datasets", "run_models"]

CACHE_VERSION = 1


def add_parser(subparsers) -> None:
    ds = subparsers.add_parser("datasets", help="list the datasets in the data directory with their shapes")
    ds.add_argument("--data-dir", default=None, help="datasets folder (default: $STREAM_XML_DATA)")
    ds.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ds.add_argument("--refresh", action="store_true", help="read every dataset again instead of the cached shapes")
    ds.set_defaults(func=run_datasets)
    models = subparsers.add_parser(
        "models", help="list the models known by name",
        description="The models known by name; with --params (or names given) their parameters and defaults, "
                    "sub-learners' parameters as template__key (set any with --param key=value).")
    models.add_argument("names", nargs="*", metavar="NAME", help="only these models, with their parameters")
    models.add_argument("--params", action="store_true", help="also list every model's parameters and defaults")
    models.set_defaults(func=run_models)


def cache_path() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "stream-xml", "datasets.json")


def _key(info) -> str:
    """The dataset's files as they are now: a cached shape is good while this stays the same."""
    files = [*info.paths, *([info.labels_xml] if info.labels_xml else [])]
    return json.dumps([[os.path.abspath(p), os.stat(p).st_size, os.stat(p).st_mtime_ns] for p in files])


def _load_cache() -> dict:
    try:
        with open(cache_path(), encoding="utf-8") as f:
            doc = json.load(f)
        return doc["shapes"] if doc.get("version") == CACHE_VERSION else {}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _save_cache(shapes: dict) -> None:
    from stream_xml.files import write_atomic

    try:
        os.makedirs(os.path.dirname(cache_path()), exist_ok=True)
        write_atomic(cache_path(), json.dumps({"version": CACHE_VERSION, "shapes": shapes}).encode(), mode=0o666)
    except OSError as err:  # a cache that cannot be written costs time, not correctness
        print(f"(shapes not cached: {err})", file=sys.stderr)


def run_datasets(args: argparse.Namespace) -> int:
    from connectors.catalog import default_data_dir, describe, discover, open_dataset

    data_dir = args.data_dir or default_data_dir()
    if not data_dir:
        print("no data directory: pass --data-dir or set STREAM_XML_DATA", file=sys.stderr)
        return 2
    cache = {} if args.refresh else _load_cache()
    rows, read = [], 0
    for info in discover(data_dir):
        key = _key(info)
        if key not in cache:
            if not read:
                print("reading datasets to measure their shapes (cached for next time)...", file=sys.stderr)
            read += 1
            cache[key] = describe(open_dataset(info, data_dir=data_dir))
        rows.append({**cache[key], "name": info.name})
    if read:
        _save_cache(cache)
    print(f"({read} read now, {len(rows) - read} from {cache_path()}; --refresh reads all)", file=sys.stderr)
    if args.json:
        print(json.dumps(rows, indent=1, default=str))
        return 0
    print(f"{'dataset':<20}{'instances':>10}{'features':>10}{'labels':>8}{'cardinality':>13}{'density':>9}")
    for r in rows:
        print(f"{r['name']:<20}{r['instances']:>10}{r['features']:>10}{r['labels']:>8}"
              f"{r['cardinality']:>13.3f}{r['density']:>9.3f}")
    return 0


def _shown(value, expanded: bool) -> str:
    """A default on one line; a sub-learner whose parameters follow as rows, by its class."""
    if expanded:
        return f"{type(value).__name__}(...)"
    return " ".join(repr(value).split())


def run_models(args: argparse.Namespace) -> int:
    from stream_xml.models import MODELS, model_parameters, unknown_model_message

    for name in args.names:
        if name not in MODELS:
            raise ValueError(unknown_model_message(name))
    names = args.names or list(MODELS)
    detailed = args.params or bool(args.names)
    for name in names:
        print(f"{name:<10} {MODELS[name][2]}")
        if not detailed:
            continue
        rows = model_parameters(name)
        if not rows:
            print("  (no parameters)")
        width = max((len(key) for key, _ in rows), default=0)
        for key, value in rows:
            expanded = any(k.startswith(key + "__") for k, _ in rows)
            indent = "    " if "__" in key else "  "
            note = f"   sub-learner: --param {key}__KEY=VALUE sets the parameters below" if expanded else ""
            print(f"{indent}{key:<{width + 4 - len(indent)}}{_shown(value, expanded)}{note}")
        print()
    if not detailed:
        print("\n`stream-xml models NAME` (or --params) lists the parameters and their defaults.")
    return 0
