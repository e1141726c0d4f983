"""Test-suite set-up: the repository root on sys.path, and the shared data directory.

The data directory is $STREAM_XML_DATA, else ../shared/datasets beside the repository (where this
project keeps its benchmark copies); tests that need it skip when it is absent.
"""

import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def shared_data_dir() -> pathlib.Path | None:
    env = os.environ.get("STREAM_XML_DATA")
    candidates = [pathlib.Path(env)] if env else []
    candidates.append(ROOT.parent / "shared" / "datasets")
    for c in candidates:
        if c.is_dir():
            return c
    return None


@pytest.fixture
def data_dir():
    d = shared_data_dir()
    if d is None:
        pytest.skip("no shared datasets folder (set STREAM_XML_DATA)")
    return d
