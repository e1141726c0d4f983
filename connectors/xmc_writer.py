"""Write a stream in the extreme classification repository's text format (read by :mod:`connectors.xmc`).

The header is ``N D L``; each record is a line ``l1,l2,... f:v f:v ...`` with 0-based label and
feature ids: a label's id is its position in ``source.labels``, a feature's its position in
``source.features``. Values are written with ``repr``, so :class:`connectors.xmc.XmcSource`
reads back the same values (under the ids, not the names). Zero values are left out. The
format has no place for unknown labels (``y is None``) or change points: a record without
labels is an error, and change points are not kept. A path ending in ``.gz`` is gzipped.

>>> import os, tempfile
>>> from connectors.base import Record
>>> from connectors.xmc import XmcSource
>>> class Tiny:
...     name, labels, features = "tiny", ["sport", "news", "art"], ["w0", "w1"]
...     def __iter__(self):
...         yield Record({"w1": 0.5}, frozenset({"news", "sport"}), {})
...         yield Record({"w0": 1.0, "w1": 0.0}, frozenset(), {})
>>> path = os.path.join(tempfile.mkdtemp(), "tiny.txt")
>>> write_xmc(Tiny(), path)
2
>>> print(open(path).read(), end="")
2 2 3
0,1 1:0.5
 0:1.0
>>> [(r.x, sorted(r.y)) for r in XmcSource(path)]
[({1: 0.5}, [0, 1]), ({0: 1.0}, [])]

"""

from __future__ import annotations

import gzip
import math
import os

__all__ = ["write_xmc"]


def _count(source, limit: int | None) -> int:
    try:
        n = len(source)
    except TypeError:  # no length: count a first pass (sources are re-iterable)
        n = sum(1 for _ in source)
    return n if limit is None else min(n, limit)


def write_xmc(source, path, limit: int | None = None) -> int:
    """Write ``source`` (with ``labels`` and ``features`` declared) to ``path``; return the records written."""
    labels, features = list(source.labels), list(source.features)
    if not labels or not features:
        raise ValueError("write_xmc needs a source that declares its labels and its features up front")
    label_index = {name: i for i, name in enumerate(labels)}
    feature_index = {name: j for j, name in enumerate(features)}
    n = _count(source, limit)
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    written = 0
    with opener(path, "wt", encoding="utf-8", newline="\n") as out:
        out.write(f"{n} {len(features)} {len(labels)}\n")
        for record in source:
            if written >= n:
                break
            where = f"record {written + 1}"
            if record.y is None:
                raise ValueError(f"{where}: the XMC format cannot hold a record without labels (y is None)")
            try:
                ids = sorted(label_index[label] for label in record.y)
                items = sorted((feature_index[k], float(v)) for k, v in record.x.items() if v != 0)
            except KeyError as err:
                raise ValueError(f"{where}: {err.args[0]!r} is not declared by the source") from None
            bad = [v for _, v in items if not math.isfinite(v)]
            if bad:
                raise ValueError(f"{where}: {bad[0]} cannot be written (not a finite number)")
            out.write(",".join(map(str, ids)) + " " + " ".join(f"{j}:{v!r}" for j, v in items) + "\n")
            written += 1
    if written != n:
        raise ValueError(f"{path}: the source gave {written} records, its length said {n}")
    return written
