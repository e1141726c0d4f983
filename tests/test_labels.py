"""The label space: ids in order of first sight, and the ids of labelsets kept until a label is added."""

import pickle

import numpy as np
import pytest

from stream_xml import labels
from stream_xml.labels import LabelSpace


def test_known_ids_leave_unknown_names_out_and_follow_added_labels():
    space = LabelSpace(["a", "b", "c"])
    labelset = frozenset({"c", "z", "a"})
    first = space.known_ids(labelset)
    assert sorted(first.tolist()) == [0, 2] and first.dtype == np.int64
    assert space.known_ids(labelset) is first  # kept
    with pytest.raises(ValueError):
        first[0] = 5  # shared, so read-only
    space.add("z")
    assert sorted(space.known_ids(labelset).tolist()) == [0, 2, 3]  # the kept array was dropped
    assert space.known_ids(frozenset()).tolist() == []
    assert sorted(space.known_ids(["a", "q", "b"]).tolist()) == [0, 1]  # any iterable of names


def test_the_kept_ids_start_over_past_their_bound(monkeypatch):
    monkeypatch.setattr(labels, "MAX_KEPT_LABELSETS", 3)
    space = LabelSpace([f"l{j}" for j in range(10)])
    for j in range(10):
        assert space.known_ids(frozenset({f"l{j}"})).tolist() == [j]
        assert len(space._known) <= 3


def test_a_pickled_space_keeps_its_ids_and_not_its_cache():
    space = LabelSpace(["x", "y"])
    space.known_ids(frozenset({"y"}))
    copy = pickle.loads(pickle.dumps(space))
    assert copy.names == ["x", "y"] and copy._known == {}
    assert copy.known_ids(frozenset({"y", "x"})).tolist() == space.known_ids(frozenset({"x", "y"})).tolist()
