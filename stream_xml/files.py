"""Files written whole and atomically: reports and checkpoints alike.

:func:`write_atomic` writes to a temporary in the same folder, flushes and fsyncs it, renames it
over the target and fsyncs the folder, so a reader (or a restart after a crash at any moment)
sees the old file or the new one, never a mix; a failure removes the temporary. A process killed
in the middle leaves its temporary behind: :func:`remove_temporaries` sweeps them, for a folder
whose owner holds a lock (no one else can be writing there).
"""

from __future__ import annotations

import os
import secrets

__all__ = ["write_atomic", "remove_temporaries"]

_TMP_PREFIX = ".checkpoint-tmp-"


def _fsync_dir(folder: str) -> None:
    """Make a rename inside ``folder`` durable (no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows: directories cannot be opened for fsync
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _create(folder: str, prefix: str, mode: int) -> tuple[int, str]:
    """A new file of a random name in ``folder``, opened for writing with ``mode`` (less the umask)."""
    while True:
        tmp = os.path.join(folder, prefix + secrets.token_hex(6))
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode), tmp
        except FileExistsError:
            continue


def write_atomic(path: str, data: bytes, prefix: str = _TMP_PREFIX, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a mix.

    The data goes to a temporary file (named ``prefix...``) in the same folder, flushed and
    fsynced, then renamed over ``path``; any failure removes the temporary. Checkpoints and
    reports are both written this way. The file gets ``mode`` less the process's umask:
    owner-only by default (checkpoints hold the models), ``0o666`` for a file meant to be read
    by others as well (reports), as ``open()`` would make it.

    >>> import os, stat, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "f.bin")
    >>> write_atomic(p, b"one"); write_atomic(p, b"two")
    >>> open(p, "rb").read(), oct(stat.S_IMODE(os.stat(p).st_mode))
    (b'two', '0o600')

    """
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = _create(folder, prefix, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)


def remove_temporaries(folder: str, prefix: str = _TMP_PREFIX) -> int:
    """Delete the temporaries :func:`write_atomic` left in ``folder`` when its process was killed
    mid-write; returns how many. Only for a folder no other process writes (its owner holds a lock).
    """
    removed = 0
    if not os.path.isdir(folder):
        return 0
    for name in os.listdir(folder):
        if name.startswith(prefix):
            try:
                os.unlink(os.path.join(folder, name))
                removed += 1
            except OSError:
                pass
    return removed
