"""Bounded property-based fuzzing (hypothesis) of every file reader and of the Kafka decoder.

The property (issue 18): whatever the input, a reader or the decoder ends normally or raises the
project's own located :class:`~connectors.base.RecordError`; and every record it does hand out is
one a model can digest (:func:`~connectors.base.check_record`: finite values within ±1e100, names
that are valid text). The example counts keep the whole module to seconds; the examples are drawn
the same way at every run (``derandomize``) so that ``make test`` is repeatable.
``experiments/robustness.py`` runs the same properties for longer, with fresh seeds.
"""

from __future__ import annotations

import gzip
import json
import tempfile

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is not installed (pip install -e '.[dev]')")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from connectors.base import Record, RecordError, check_record  # noqa: E402
from connectors.kafka import Message, decode_message  # noqa: E402
from damage import READERS, read_all, write  # noqa: E402

FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# fragments that make readers take their rarer paths
TOKENS = [b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\\ud800", b"1e400", b"-1e308", b"1e101", b"nan", b"inf", b"9" * 400,
          b"[" * 3000, b"{", b"}", b"'", b'"', b"?", b",", b":", b"\n", b"\r", b"\r\n", b"%", b"\x00", b"@data",
          b"@attribute z numeric", b"@attribute w {a,b}", b"<label name='q'/>", b"&#xD800;", b"<!--", b"-1", b"1 2 3"]


@st.composite
def damaged(draw, reader):
    """A good file of the reader's format with up to six edits, optionally gzipped and then cut or
    flipped."""
    data = bytearray(reader.good(draw(st.integers(1, 25))))
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(data)))
        chunk = draw(st.one_of(st.binary(max_size=6), st.sampled_from(TOKENS)))
        edit = draw(st.sampled_from(("insert", "replace", "delete")))
        if edit == "insert":
            data[at:at] = chunk
        elif edit == "replace":
            data[at:at + len(chunk)] = chunk
        else:
            del data[at:at + draw(st.integers(1, 40))]
    data = bytes(data)
    if draw(st.booleans()):
        data = gzip.compress(data)
        damage = draw(st.sampled_from(("none", "cut", "flip")))
        if damage == "cut":
            data = data[: draw(st.integers(0, len(data)))]
        elif damage == "flip" and len(data) > 2:
            at = draw(st.integers(2, len(data) - 1))
            data = data[:at] + bytes([data[at] ^ (1 << draw(st.integers(0, 7)))]) + data[at + 1:]
    return data


@pytest.mark.parametrize("name", sorted(READERS))
def test_a_reader_raises_only_its_located_error_and_yields_only_digestible_records(name):
    reader = READERS[name]
    folder = tempfile.mkdtemp(prefix=f"fuzz-{name}-")

    @FUZZ
    @given(damaged(reader), st.booleans())
    def check(data, gzipped_name):
        path = write(folder, f"input{reader.suffix}" + (".gz" if gzipped_name else ""), data)
        for on_error in ("raise", "skip"):
            assert read_all(reader, path, on_error) in ("ok", "RecordError")

    check()


# --------------------------------------------------------------------------- the Kafka decoder

NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-10**400, max_value=10**400),
                    st.sampled_from([1e100, -1e100, 1.0000001e100, 5e-324, 1e308]))
NAMES = st.one_of(st.text(max_size=8), st.sampled_from(["\ud800", "a\udfff", "ok"]), st.integers(-5, 5))
JSON = st.recursive(st.none() | st.booleans() | NUMBERS | st.text(max_size=6),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
                    max_leaves=12)


@st.composite
def record_documents(draw):
    """A JSON record more or less as the format wants it, any part of which may be wrong."""
    doc = {}
    if draw(st.booleans()):
        doc["id"] = draw(st.one_of(NAMES, JSON, st.text(min_size=1000, max_size=1100)))
    if draw(st.integers(0, 4)):
        doc["x"] = draw(st.one_of(st.dictionaries(st.text(max_size=6), st.one_of(NUMBERS, st.none(), JSON), max_size=5),
                                  st.lists(st.one_of(NUMBERS, st.none()), max_size=5), JSON))
    if draw(st.integers(0, 4)):
        doc["y"] = draw(st.one_of(st.none(), st.lists(NAMES, max_size=4), JSON))
    return doc


def _message_bytes(doc, ensure_ascii: bool) -> bytes:
    text = json.dumps(doc, ensure_ascii=ensure_ascii, allow_nan=True, default=str)
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate goes out as invalid UTF-8


def _decodes_cleanly(value, decoder=None) -> None:
    message = Message("topic", 3, 41, b"key", value)
    try:
        record = decode_message(message, decoder)
    except RecordError as err:
        assert str(err).startswith("topic/3:41: "), err
        return
    assert isinstance(record, Record)
    if record.x is not None:
        check_record(record.x, record.y, "topic/3", 41)
    elif record.y is not None:
        check_record({}, record.y, "topic/3", 41)


@settings(FUZZ, max_examples=300)
@given(st.one_of(st.binary(max_size=300), st.none()))
def test_the_kafka_decoder_on_arbitrary_bytes(value):
    _decodes_cleanly(value)


@settings(FUZZ, max_examples=400)
@given(record_documents(), st.booleans())
def test_the_kafka_decoder_on_malformed_records(doc, ensure_ascii):
    _decodes_cleanly(_message_bytes(doc, ensure_ascii))


@settings(FUZZ, max_examples=200)
@given(st.tuples(st.one_of(NAMES, JSON), st.one_of(st.none(), st.dictionaries(NAMES, NUMBERS, max_size=4), JSON),
                 st.one_of(st.none(), st.frozensets(NAMES, max_size=3), JSON)))
def test_a_plug_in_decoder_output_is_held_to_the_same_rules(output):
    _decodes_cleanly(b"anything", decoder=lambda value, where, offset: output)


_EVALUATOR = []


def _every_model():
    """One evaluator over every model, shared by the examples: the models see the whole fuzzed stream."""
    if not _EVALUATOR:
        from stream_xml.evaluation.prequential import PrequentialEvaluator
        from stream_xml.models import MODELS, make_model

        _EVALUATOR.append(PrequentialEvaluator({name: make_model(name, seed=0) for name in MODELS}))
    return _EVALUATOR[0]


@settings(FUZZ, max_examples=150)
@given(record_documents(), st.booleans())
def test_what_the_decoder_accepts_every_model_digests(doc, ensure_ascii):
    import math

    try:
        record = decode_message(Message("topic", 0, 1, None, _message_bytes(doc, ensure_ascii)))
    except RecordError:
        return
    if record.x is None:
        return
    for name, (_, scores) in _every_model().process(record).items():
        assert all(math.isfinite(p) for p in scores.values()), (name, record)
