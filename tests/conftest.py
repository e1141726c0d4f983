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


@pytest.fixture(scope="session")
def moa_jar():
    """MOA's jar (``make moa`` fetches it) with Java on the PATH; skipped without them, except
    under CI (``$CI`` set), where the MOA tests must run."""
    import shutil

    from stream_xml.bench import moa

    try:
        jar = moa.find_moa_jar()
        if shutil.which("java") is None:
            raise moa.MoaUnavailable("no `java` on the PATH")
    except moa.MoaUnavailable as err:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the MOA tests: {err}")
        pytest.skip(str(err))
    return jar
