"""The JSON record format shared by JSON-lines files and Kafka messages.

One record is a JSON object::

    {"id": <anything, optional>, "x": {"name": number, ...} or [number, ...], "y": [label, ...] or null}

A list ``x`` names its features ``0..n-1`` (ints). A ``null`` feature value is missing and
left out. ``y`` lists the relevant label names (str or int); ``null`` or no ``y`` at all
means the record is not labelled yet. Other keys are ignored. Every problem raises
:class:`~connectors.base.RecordError` naming ``where`` and ``position``; what a record may hold
(finite values within ``±1e100``, names that are valid text) is :func:`connectors.base.check_record`'s.

>>> from connectors.jsonrecord import decode_bytes
>>> decode_bytes(b'{"id": 7, "x": {"a": 1, "b": 0.5}, "y": ["sports"]}', "topic/0", 12)
(7, {'a': 1.0, 'b': 0.5}, frozenset({'sports'}))
>>> decode_bytes(b'{"x": [3, null, 4]}', "topic/0", 13)
(None, {0: 3.0, 2: 4.0}, None)
>>> decode_bytes(b'{"x": {"a": "high"}}', "topic/0", 14)
Traceback (most recent call last):
...
connectors.base.RecordError: topic/0:14: feature 'a' has value 'high', expected a number
>>> decode_bytes(b'{"x": [1e308, -1e308], "y": ["a"]}', "topic/0", 15)
Traceback (most recent call last):
...
connectors.base.RecordError: topic/0:15: feature 0 has value 1e+308, beyond ±1e+100 (the largest magnitude the models digest)

"""

from __future__ import annotations

import json

from connectors.base import MAX_ABS_VALUE, RecordError, check_record, name_problem

__all__ = ["decode_record", "decode_text", "decode_bytes", "sorted_labels", "prediction_fields"]


def _number(name, value, where: str, position) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RecordError(where, position, f"feature {name!r} has value {value!r}, expected a number")
    try:
        return float(value)
    except OverflowError:  # an integer of hundreds of digits
        raise RecordError(where, position, f"feature {name!r} has a value beyond ±{MAX_ABS_VALUE:g} "
                                           "(the largest magnitude the models digest)") from None


def decode_record(obj, where: str, position) -> tuple:
    """Check a decoded JSON value and return ``(id, x, y)``.

    >>> key, x, y = decode_record({"x": {"f": 2}, "y": [1, "b"]}, "f.jsonl", 3)
    >>> key, x, y == frozenset({1, "b"})
    (None, {'f': 2.0}, True)

    """
    if not isinstance(obj, dict):
        raise RecordError(where, position, f"expected a JSON object, got {type(obj).__name__}")
    if "x" not in obj:
        raise RecordError(where, position, "no 'x' in the record")
    raw_x = obj["x"]
    if isinstance(raw_x, dict):
        items = raw_x.items()
    elif isinstance(raw_x, list):
        items = enumerate(raw_x)
    else:
        raise RecordError(where, position, f"'x' must be an object or a list, got {type(raw_x).__name__}")
    x = {}
    for name, value in items:
        number = _number(name, value, where, position)
        if number is not None:
            x[name] = number
    raw_y = obj.get("y")
    if raw_y is None:
        y = None
    elif isinstance(raw_y, list):
        for label in raw_y:
            if isinstance(label, bool) or not isinstance(label, (str, int)):
                raise RecordError(where, position, f"label {label!r} is not a string or an integer")
        y = frozenset(raw_y)
    else:
        raise RecordError(where, position, f"'y' must be a list or null, got {type(raw_y).__name__}")
    check_record(x, y, where, position)
    record_id = obj.get("id")
    problem = name_problem((record_id,), "id") if isinstance(record_id, str) else None
    if problem is not None:
        raise RecordError(where, position, problem)
    return record_id, x, y


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a valid JSON number")


def parse_json(text: str, where: str, position):
    """Parse one JSON document (NaN and infinities rejected), errors naming where.

    >>> parse_json('{"x": [NaN]}', "f.jsonl", 2)
    Traceback (most recent call last):
    ...
    connectors.base.RecordError: f.jsonl:2: invalid JSON: NaN is not a valid JSON number

    """
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise RecordError(where, position, f"invalid JSON: {err.msg} (column {err.colno})") from None
    except ValueError as err:  # NaN, or an integer of more digits than Python converts
        raise RecordError(where, position, f"invalid JSON: {err}") from None
    except RecursionError:
        raise RecordError(where, position, "invalid JSON: nested too deeply") from None


def utf8_text(data: bytes, where: str, position) -> str:
    """``data`` decoded as UTF-8, errors naming where and the first bad byte."""
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError as err:
        raise RecordError(where, position, f"not valid UTF-8 (byte {err.start})") from None


def decode_text(text: str, where: str, position) -> tuple:
    """Parse one JSON document and decode it with :func:`decode_record`.

    >>> decode_text('{"x": [NaN]}', "f.jsonl", 2)
    Traceback (most recent call last):
    ...
    connectors.base.RecordError: f.jsonl:2: invalid JSON: NaN is not a valid JSON number

    """
    return decode_record(parse_json(text, where, position), where, position)


def decode_bytes(data: bytes, where: str, position) -> tuple:
    """Decode a UTF-8 encoded JSON record (e.g. a Kafka message value).

    >>> decode_bytes(b'{"x": {"caf\\xe9": 1}}', "t/0", 5)
    Traceback (most recent call last):
    ...
    connectors.base.RecordError: t/0:5: not valid UTF-8 (byte 11)

    """
    if data is None:
        raise RecordError(where, position, "no data (empty message)")
    return decode_text(utf8_text(data, where, position), where, position)


# -- predictions, as the service publishes them and `evaluate --predictions` writes them ----------


def _json_label(label):
    return label if isinstance(label, (str, int)) else str(label)


def _label_order(label) -> tuple:
    """A total order over JSON labels: integers first, then strings."""
    return isinstance(label, str), label


def sorted_labels(labels) -> list:
    """Label names as JSON holds them, integers first, then strings.

    >>> sorted_labels({"b", 3, "a"})
    [3, 'a', 'b']

    """
    return sorted((_json_label(label) for label in labels), key=_label_order)


def prediction_fields(predictions: dict, top_scores: int = 10) -> dict:
    """Per model (name -> (labels, scores)) the predicted labels and the ``top_scores`` highest
    scores, ties in label order (not the model's dict order, which a restored model may not share).

    >>> prediction_fields({"m": (frozenset({"x"}), {"y": 0.2, "x": 0.9, "z": 0.2})}, top_scores=2)
    {'m': {'labels': ['x'], 'scores': [['x', 0.9], ['y', 0.2]]}}

    """
    models = {}
    for name, (labels, scores) in predictions.items():
        ranked = sorted(((-float(p), _json_label(k)) for k, p in scores.items()), key=lambda t: (t[0], _label_order(t[1])))
        models[name] = {
            "labels": sorted_labels(labels),
            "scores": [[k, round(-p, 6)] for p, k in ranked[: max(0, top_scores)]],
        }
    return models
