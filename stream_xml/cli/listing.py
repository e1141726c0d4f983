"""``stream-xml datasets`` (what a data folder holds, with shapes) and ``stream-xml models``."""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["add_parser"]


def add_parser(subparsers) -> None:
    ds = subparsers.add_parser("datasets", help="list the datasets in the data directory with their shapes")
    ds.add_argument("--data-dir", default=None, help="datasets folder (default: $STREAM_XML_DATA)")
    ds.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ds.set_defaults(func=run_datasets)
    models = subparsers.add_parser("models", help="list the models known by name")
    models.set_defaults(func=run_models)


def run_datasets(args: argparse.Namespace) -> int:
    from connectors.catalog import default_data_dir, describe, discover, open_dataset

    data_dir = args.data_dir or default_data_dir()
    if not data_dir:
        print("no data directory: pass --data-dir or set STREAM_XML_DATA", file=sys.stderr)
        return 2
    rows = []
    for info in discover(data_dir):
        stats = describe(open_dataset(info, data_dir=data_dir))
        rows.append({"name": info.name, **stats})
    if args.json:
        print(json.dumps(rows, indent=1, default=str))
        return 0
    print(f"{'dataset':<20}{'instances':>10}{'features':>10}{'labels':>8}{'cardinality':>13}{'density':>9}")
    for r in rows:
        print(f"{r['name']:<20}{r['instances']:>10}{r['features']:>10}{r['labels']:>8}"
              f"{r['cardinality']:>13.3f}{r['density']:>9.3f}")
    return 0


def run_models(args: argparse.Namespace) -> int:
    from stream_xml.models import MODELS

    for name, (_, _, summary) in MODELS.items():
        print(f"{name:<10} {summary}")
    return 0
