"""Child processes measured on their own: exit code, peak memory, and a kill after a timeout.

``os.wait4`` reports the resource usage of the one child it reaps, so the peak resident memory
(``ru_maxrss``) of each benchmarked process is its own, not the largest of all children so far.

>>> import subprocess, sys
>>> proc = subprocess.Popen([sys.executable, "-c", "x = bytearray(50_000_000)"])
>>> code, usage, killed = wait_with_usage(proc, timeout=60)
>>> code, killed, peak_rss_bytes(usage) > 50_000_000
(0, False, True)

"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

__all__ = ["wait_with_usage", "peak_rss_bytes"]


def wait_with_usage(proc: subprocess.Popen, timeout: float | None):
    """Wait for ``proc`` with ``os.wait4``; kill it after ``timeout`` seconds (None: never).

    Returns (exit code, resource usage, whether it was killed for the timeout). An exception
    while waiting (e.g. KeyboardInterrupt) kills the child before it propagates.
    """
    lock, state = threading.Lock(), {"done": False, "killed": False}

    def kill():
        with lock:
            if not state["done"]:  # not reaped yet, so the pid is still this child's
                os.kill(proc.pid, signal.SIGKILL)
                state["killed"] = True

    timer = threading.Timer(timeout, kill) if timeout is not None else None
    if timer:
        timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:
        kill()
        os.wait4(proc.pid, 0)
        raise
    finally:
        with lock:
            state["done"] = True
        if timer:
            timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage, state["killed"]


def peak_rss_bytes(usage) -> int:
    """``ru_maxrss`` in bytes (Linux reports KiB, macOS bytes)."""
    return usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
