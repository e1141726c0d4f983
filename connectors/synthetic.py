"""Named synthetic streams, and the ``synth:NAME?key=value&...`` source spec.

``connectors.catalog.open_source("synth:correlation-shift?n=200000&labels=50")`` (and
``stream-xml evaluate --source synth:...``) opens a :class:`SyntheticStream` through
:func:`open_synthetic`, the ``synth`` scheme's factory. Every preset
takes the common parameters (:data:`COMMON`); those with drifts also take ``at`` (where each
change starts: record numbers, or fractions of ``n`` when below 1, comma-separated),
``width`` (records, or a fraction of ``n``) and ``mode``, and the amounts of their kind of
drift (:data:`AMOUNTS`). ``custom`` takes a list of drifts:
``drifts=KIND[+KIND]@AT[:WIDTH[:MODE]],...`` with kinds among
``feature, concept, correlation, imbalance, appear, vanish, recur``. ``extreme`` is another
model (:mod:`connectors.synthetic_extreme`, a topic model over a label taxonomy for 10^4-10^5
labels) with parameters of its own (:data:`EXTREME`) and the same optional ``drifts``.

>>> from connectors.catalog import open_source
>>> stream = open_source("synth:correlation-shift?n=2000&labels=10")
>>> stream.name, len(stream.labels), stream.n_records
('synth:correlation-shift', 10, 2000)
>>> stream.change_points
[{'t': 1001, 'width': 0, 'kind': 'correlation', 'recurring': False}]
>>> parse_spec("recurring?kind=imbalance&at=0.2,0.4,0.6&seed=3")
('recurring', {'kind': 'imbalance', 'at': [0.2, 0.4, 0.6], 'seed': 3})
>>> [c["kind"] for c in make_stream("custom", n=900, drifts="feature+concept@300:100:incremental,recur@600").change_points]
['feature', 'concept', 'feature', 'concept']
>>> extreme = open_source("synth:extreme?labels=1000&features=5000&n=300&drifts=imbalance@0.5")
>>> type(extreme).__name__, len(extreme.labels), len(extreme.features), extreme.change_points[0]["kind"]
('ExtremeStream', 1000, 5000, 'imbalance')

"""

from __future__ import annotations

import math
import typing
import urllib.parse

from connectors.synthetic_extreme import ExtremeStream
from connectors.synthetic_model import World
from connectors.synthetic_stream import CHANGE_KINDS, DRIFT_KINDS, MODES, Drift, SyntheticStream

__all__ = [
    "SyntheticStream", "ExtremeStream", "Drift", "World", "PRESETS", "COMMON", "EXTREME", "AMOUNTS", "DRIFT_KINDS",
    "CHANGE_KINDS", "MODES", "parse_spec", "make_stream", "open_synthetic", "preset_help",
]


# ------------------------------------------------------------------------------ values


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true/false (or 1/0)")


def _int(text: str) -> int:
    value = float(text)
    if value != int(value):
        raise ValueError("expected a whole number")
    return int(value)


def _optional(convert):
    def parse(text: str):
        return None if text.strip().lower() in ("", "none", "auto") else convert(text)

    return parse


def _position(text: str) -> float:
    value = float(text)
    if value < 0 or (value >= 1 and value != int(value)):
        raise ValueError("expected a record number, or a fraction of n below 1")
    return value


def _positions(text: str) -> list:
    return [_position(part) for part in text.split(",") if part.strip()]


def _choice(*allowed):
    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}")
        return text

    return parse


def _drift_items(text: str) -> list:
    """``KIND[+KIND]@AT[:WIDTH[:MODE]]`` items, comma-separated, as (kinds, at, width, mode).

    A missing width or mode is None (the preset's ``width`` and ``mode`` then apply).
    """
    items = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        kinds, sep, where = item.partition("@")
        fields = where.split(":")
        if not sep or not 1 <= len(fields) <= 3:
            raise ValueError(f"drift {item!r} is not KIND[+KIND]@AT[:WIDTH[:MODE]]")
        bad = [k for k in kinds.split("+") if k not in DRIFT_KINDS]
        if bad:
            raise ValueError(f"drift {item!r}: unknown kind {bad[0]!r}; kinds: {', '.join(DRIFT_KINDS)}")
        width = _position(fields[1]) if len(fields) > 1 else None
        mode = _choice(*MODES)(fields[2]) if len(fields) > 2 else None
        items.append((kinds, _position(fields[0]), width, mode))
    if not items:
        raise ValueError("expected at least one drift")
    return items


class Param(typing.NamedTuple):
    parse: typing.Callable
    default: typing.Any
    help: str


COMMON = {
    "n": Param(_int, 10000, "records"),
    "labels": Param(_int, 20, "labels, those that appear mid-stream included"),
    "features": Param(_int, 30, "features"),
    "cardinality": Param(float, 2.0, "expected relevant labels per record (labels active at the start)"),
    "groups": Param(_optional(_int), None, "groups of correlated labels (default: labels/5, at least 2)"),
    "relevant": Param(_optional(_int), None, "features per group hyperplane (default 3; more when density < 1)"),
    "noise": Param(float, 0.05, "probability that a label value is redrawn at random at its rate"),
    "density": Param(float, 1.0, "probability that a feature is non-zero"),
    "sparse": Param(_bool, False, "records list only their non-zero features"),
    "skew": Param(float, 1.0, "power-law exponent of the label rates"),
    "max_rate": Param(float, 0.5, "largest label rate"),
    "decimals": Param(_optional(_int), 4, "decimals the features are rounded to"),
    "seed": Param(_int, 0, "seed: same seed, same stream"),
}
TIMING = {
    "at": Param(_positions, None, "where changes start: record numbers, or fractions of n (< 1), comma-separated"),
    "width": Param(_position, 0, "records over which a change completes (or a fraction of n); 0 = sudden"),
    "mode": Param(_optional(_choice(*MODES)), None, "sudden | gradual | incremental (default by width)"),
}
AMOUNTS = {
    "shift": Param(float, 1.0, "feature drift: standard deviations the moved features' means move"),
    "fraction": Param(float, 0.5, "feature drift: share of the features that move"),
    "change": Param(float, 1.0, "concept drift: share of the groups whose hyperplane is redrawn"),
    "move": Param(float, 1.0, "correlation drift: share of the labels that move to another group"),
    "new_skew": Param(_optional(float), None, "imbalance drift: power-law exponent of the new rates"),
    "appear": Param(_optional(_int), None, "labels that appear (default labels/5)"),
    "vanish": Param(_optional(_int), None, "labels that vanish (default labels/10)"),
}
_KIND_AMOUNTS = {
    "feature": ("shift", "fraction"), "concept": ("change",), "correlation": ("move",),
    "imbalance": ("new_skew",), "appear": ("appear",), "vanish": ("vanish",),
}


# ------------------------------------------------------------------------------ presets


class Preset(typing.NamedTuple):
    summary: str
    params: dict  # parameters beyond the common ones: name -> Param (defaults of the preset)
    drifts: typing.Callable  # (params with every value resolved, n) -> list of Drift
    common: dict | None = None  # the parameters of its kind of stream (None: COMMON)
    stream: typing.Callable | None = None  # (params, drifts, name, on_error) -> stream (None: SyntheticStream)


def _records(value: float, n: int) -> int:
    """A position or width: a fraction of ``n`` below 1, a record count otherwise."""
    return math.floor(value * n) if 0 < value < 1 else int(value)


def _drift(p: dict, n: int, kinds: str, at: float, width=None, mode=None) -> Drift:
    width = p["width"] if width is None else width
    amounts = {name: p[name] for kind in kinds.split("+") for name in _KIND_AMOUNTS.get(kind, ()) if name in p}
    renamed = {"new_skew": "skew"}
    return Drift(
        at=_records(at, n) + (1 if 0 < at < 1 else 0), kinds=kinds, width=_records(width, n),
        mode=mode or p.get("mode"), **{renamed.get(k, k): v for k, v in amounts.items()},
    )


def _timing(at, width=0, mode=None) -> dict:
    return {
        "at": TIMING["at"]._replace(default=at), "width": TIMING["width"]._replace(default=width),
        "mode": TIMING["mode"]._replace(default=mode),
    }


def _single(kind: str, width=0, mode=None, with_mode=True) -> Preset:
    params = {**_timing([0.5], width, mode), **{a: AMOUNTS[a] for a in _KIND_AMOUNTS[kind]}}
    if not with_mode:
        del params["mode"]
    return Preset("", params, lambda p, n: [_drift(p, n, kind, at, mode=mode) for at in p["at"]])


def _recurring(p: dict, n: int) -> list:
    first, *later = p["at"]
    return [_drift(p, n, p["kind"], first)] + [_drift(p, n, "recur", at) for at in later]


def _emerging(p: dict, n: int) -> list:
    if len(p["at"]) != 2:
        raise ValueError("emerging-labels takes two positions: at=APPEAR,VANISH")
    return [_drift(p, n, "appear", p["at"][0]), _drift(p, n, "vanish", p["at"][1])]


_MIXED = (  # kinds, width factor (x width), mode
    ("appear", 0, None), ("feature", 1, "gradual"), ("correlation", 0, None),
    ("concept+imbalance", 1, "incremental"), ("recur", 0, None), ("vanish", 0, None),
)


def _mixed(p: dict, n: int) -> list:
    if len(p["at"]) != len(_MIXED):
        raise ValueError(f"mixed takes {len(_MIXED)} positions, one per drift: {', '.join(k for k, _, _ in _MIXED)}")
    return [_drift(p, n, kinds, at, p["width"] * factor, mode) for (kinds, factor, mode), at in zip(_MIXED, p["at"])]


def _custom(p: dict, n: int) -> list:
    return [_drift(p, n, kinds, at, width, mode) for kinds, at, width, mode in p["drifts"]]


# The extreme topic-model stream takes parameters of its own: defaults are the streams Vowpal
# Wabbit's PLT was measured on (/work/shared/published-results.md) at 10^4 labels.
EXTREME = {
    "n": Param(_int, 50000, "records"),
    "labels": Param(_int, 10000, "labels, those that appear mid-stream included"),
    "features": Param(_int, 50000, "features (the vocabulary)"),
    "cardinality": Param(float, 2.7, "expected labels per record, >= 1 (1 + Poisson(cardinality - 1))"),
    "group_size": Param(_int, 20, "labels per topical group"),
    "prototype": Param(_int, 30, "words in a label's prototype (and in a group's vocabulary)"),
    "shared": Param(float, 0.5, "share of a prototype's words from its group's vocabulary"),
    "cohesion": Param(float, 0.8, "probability that a further label of a record comes from its first label's group"),
    "skew": Param(float, 1.0, "Zipf exponent of the label popularity"),
    "word_skew": Param(float, 1.0, "Zipf exponent of the background words"),
    "words": Param(float, 100.0, "expected tokens per record"),
    "background": Param(float, 0.5, "share of a record's tokens drawn from the background words"),
    "decimals": COMMON["decimals"],
    "sparse": Param(_bool, True, "records list only their non-zero features (always, for this stream)"),
    "seed": COMMON["seed"],
}
_EXTREME_AMOUNTS = {
    "fraction": AMOUNTS["fraction"]._replace(help="feature drift: share of the words dealt new background ranks"),
    "change": AMOUNTS["change"]._replace(help="concept drift: share of the groups given new words and prototypes"),
    "move": AMOUNTS["move"]._replace(help="correlation drift: share of the labels that move to another group"),
    "new_skew": AMOUNTS["new_skew"]._replace(help="imbalance drift: Zipf exponent of the new popularity"),
    "appear": AMOUNTS["appear"], "vanish": AMOUNTS["vanish"],
}


def _synthetic_stream(p: dict, drifts: list, name: str, on_error: str) -> SyntheticStream:
    return SyntheticStream(
        n=p["n"], n_labels=p["labels"], n_features=p["features"], cardinality=p["cardinality"],
        groups=p["groups"], relevant=p["relevant"], noise=p["noise"], density=p["density"], sparse=p["sparse"],
        skew=p["skew"], max_rate=p["max_rate"], decimals=p["decimals"], drifts=drifts, seed=p["seed"],
        name=name, on_error=on_error,
    )


def _extreme_stream(p: dict, drifts: list, name: str, on_error: str) -> ExtremeStream:
    return ExtremeStream(
        n=p["n"], n_labels=p["labels"], n_features=p["features"], cardinality=p["cardinality"],
        group_size=p["group_size"], prototype=p["prototype"], shared=p["shared"], cohesion=p["cohesion"],
        skew=p["skew"], word_skew=p["word_skew"], words=p["words"], background=p["background"],
        decimals=p["decimals"], drifts=drifts, seed=p["seed"], name=name, on_error=on_error, sparse=p["sparse"],
    )


PRESETS: dict[str, Preset] = {
    "stationary": Preset("no drift", {}, lambda p, n: []),
    "feature-shift": _single("feature")._replace(
        summary="feature means move at n/2; p(y|x) unchanged (labels' rates follow x)"),
    "concept-shift": _single("concept")._replace(
        summary="new group hyperplanes at n/2; p(x), label rates and groups unchanged"),
    "correlation-shift": _single("correlation")._replace(
        summary="labels move to other groups at n/2; p(x) and label rates unchanged"),
    "imbalance-shift": _single("imbalance")._replace(
        summary="label rates dealt again at n/2; p(x), groups and cardinality unchanged"),
    "gradual-concept": _single("concept", 0.1, "gradual", with_mode=False)._replace(
        summary="concept-shift, gradual over n/10 records from n/2"),
    "incremental-concept": _single("concept", 0.2, "incremental", with_mode=False)._replace(
        summary="concept-shift, hyperplanes rotating over n/5 records from n/2"),
    "recurring": Preset(
        "a drift of `kind` at the first position, back and forth at the next ones (A B A B ...)",
        {"kind": Param(_choice("feature", "concept", "correlation", "imbalance"), "concept", "what recurs"),
         **_timing([0.25, 0.5, 0.75]), **{name: AMOUNTS[name] for names in _KIND_AMOUNTS.values() for name in names
                                          if name not in ("appear", "vanish")}},
        _recurring,
    ),
    "emerging-labels": Preset(
        "labels appear at n/3, others vanish at 2n/3",
        {**_timing([1 / 3, 2 / 3]), "appear": AMOUNTS["appear"], "vanish": AMOUNTS["vanish"]},
        _emerging,
    ),
    "mixed": Preset(
        "labels appear; features drift (gradual); correlations shift; concept and imbalance together"
        " (incremental); back to before that; labels vanish",
        {"at": TIMING["at"]._replace(default=[0.15, 0.3, 0.45, 0.6, 0.75, 0.9]),
         "width": TIMING["width"]._replace(default=0.05, help="width of the gradual and incremental changes"),
         **AMOUNTS},
        _mixed,
    ),
    "custom": Preset(
        "any drifts: drifts=KIND[+KIND]@AT[:WIDTH[:MODE]],...",
        {"drifts": Param(_drift_items, None, "KIND[+KIND]@AT[:WIDTH[:MODE]], comma-separated; kinds: "
                         + ", ".join(DRIFT_KINDS)), "width": TIMING["width"], "mode": TIMING["mode"], **AMOUNTS},
        _custom,
    ),
    "extreme": Preset(
        "extreme label space: a topic model over a label taxonomy (Zipf label popularity, topical groups,"
        " word prototypes, sparse L2-normalised term frequencies); optional drifts as in custom",
        {"drifts": Param(_optional(_drift_items), None, "none, or KIND[+KIND]@AT[:WIDTH[:MODE]], comma-separated;"
                         " kinds: " + ", ".join(DRIFT_KINDS)),
         "width": TIMING["width"], "mode": TIMING["mode"], **_EXTREME_AMOUNTS},
        lambda p, n: _custom(p, n) if p["drifts"] else [],
        common=EXTREME, stream=_extreme_stream,
    ),
}


def _allowed(preset: str) -> dict:
    if preset not in PRESETS:
        raise ValueError(f"unknown synthetic preset {preset!r}; presets: {', '.join(PRESETS)}")
    return {**(PRESETS[preset].common or COMMON), **PRESETS[preset].params}


def _convert(preset: str, key: str, value):
    allowed = _allowed(preset)
    if key not in allowed:
        raise ValueError(
            f"unknown parameter {key!r} for synth:{preset}; its parameters: {', '.join(allowed)}"
        )
    if not isinstance(value, str):  # a Python value, as given or as parse_spec converted it
        return [value] if allowed[key].parse is _positions and not isinstance(value, list) else value
    try:
        return allowed[key].parse(urllib.parse.unquote(value))
    except ValueError as err:
        raise ValueError(f"synth:{preset}: {key}={value!r}: {err}") from None


def parse_spec(rest: str) -> tuple[str, dict]:
    """Split ``"NAME?k=v&k=v"`` into the preset name and its parameters, converted and checked.

    >>> parse_spec("stationary?n=5e3&sparse=true&density=0.1")
    ('stationary', {'n': 5000, 'sparse': True, 'density': 0.1})
    >>> parse_spec("stationary?shift=2")
    Traceback (most recent call last):
    ...
    ValueError: unknown parameter 'shift' for synth:stationary; its parameters: n, labels, features, cardinality, groups, relevant, noise, density, sparse, skew, max_rate, decimals, seed

    """
    name, _, query = rest.partition("?")
    name = name.strip().lower()
    _allowed(name)
    params = {}
    for item in filter(None, query.split("&")):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"synth:{name}: expected key=value, got {item!r}")
        params[key.strip()] = _convert(name, key.strip(), value.strip())
    return name, params


def make_stream(preset: str, on_error: str = "raise", **params) -> SyntheticStream | ExtremeStream:
    """The stream of a preset; ``params`` (values or their text) override the preset's defaults."""
    preset = preset.lower()
    given = {key: _convert(preset, key, value) for key, value in params.items()}
    p = {key: param.default for key, param in _allowed(preset).items()} | given
    if preset == "custom" and p["drifts"] is None:
        raise ValueError("synth:custom needs drifts=KIND[+KIND]@AT[:WIDTH[:MODE]],...")
    drifts = PRESETS[preset].drifts(p, p["n"])
    query = "&".join(f"{k}={v}" for k, v in given.items())
    stream = (PRESETS[preset].stream or _synthetic_stream)(p, drifts, f"synth:{preset}", on_error)
    stream.spec = f"synth:{preset}" + (f"?{query}" if query else "")
    return stream


def open_synthetic(rest: str, on_error: str = "raise", **options) -> SyntheticStream:
    """The ``synth`` scheme's factory: ``options`` override the spec's parameters."""
    preset, params = parse_spec(rest)
    return make_stream(preset, on_error=on_error, **{**params, **options})


def preset_help() -> str:
    """A text listing every preset with its parameters and defaults."""
    lines = ["common parameters:"]
    lines += [f"  {k}={_show(p.default)}  {p.help}" for k, p in COMMON.items()]
    for name, preset in PRESETS.items():
        lines.append(f"{name}: {preset.summary}")
        if preset.common is not None:
            lines.append("  (its own parameters, in place of the common ones)")
        params = {**(preset.common or {}), **preset.params}
        lines += [f"  {k}={_show(p.default)}  {p.help}" for k, p in params.items()]
    return "\n".join(lines)


def _show(value) -> str:
    if isinstance(value, list):
        return ",".join(f"{v:.4g}" for v in value)
    return "auto" if value is None else str(value)

