"""river's estimator checks, run offline.

``river.checks.check_estimator`` feeds multi-label classifiers river's ``Music`` dataset, which
river downloads on first use; the test machines have no network. This runs the very same checks
with river's bundled Yeast stream (also multi-label, numeric features, boolean labels) in its
place, at the same sizes river uses.
"""

import itertools
from unittest import mock

from river import base, checks, datasets


def _offline_datasets(original):
    def yield_datasets(model, scale=1):
        if isinstance(model, base.MultiLabelClassifier):
            yield itertools.islice(datasets.Yeast(), 50 * scale)
            return
        yield from original(model, scale)

    return yield_datasets


def check_estimator_offline(model) -> None:
    with mock.patch.object(checks, "_yield_datasets", _offline_datasets(checks._yield_datasets)):
        checks.check_estimator(model)
