"""The extreme engine (stream_xml.labeltree): kernels against plain references, the tree's
invariants, the river contract, pickling, bad values, and a stream whose labels co-occur."""

import pickle

import numpy as np
import pytest
from river import checks

from stream_xml.labeltree import LabelTreeClassifier
from tests.river_checks import check_estimator_offline


@pytest.mark.parametrize("params", list(LabelTreeClassifier._unit_test_params()), ids=str)
def test_river_estimator_checks(params):
    check_estimator_offline(LabelTreeClassifier(**params))
