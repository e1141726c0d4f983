"""Checkpoints: a model and the positions of its sources, saved together and atomically.

A checkpoint is one file holding a pickled state (whatever the caller saves: in service mode the
evaluator with its models, the consumed offsets, the delayed-label buffer and the counts). It is
written to a temporary file in the checkpoint folder, flushed and fsynced, renamed over its final
name, and the folder is fsynced, so a crash at any moment leaves either the previous checkpoint or
the new one on disk, never a torn file. Files are numbered; :meth:`CheckpointStore.latest` restores
the newest and the store keeps the last ``keep`` files (older ones are deleted after each save).

Each file starts with a header line naming the checkpoint format and the stream-xml version that
wrote it, then the SHA-256 of the payload, so a damaged file is reported as such instead of
unpickled into garbage, and a checkpoint of another format (whose pickled classes this version
may not restore faithfully) is refused with a message saying so, never half-restored.
``CHECKPOINT_FORMAT`` goes up whenever a class a checkpoint pickles changes its state
incompatibly. Checkpoints are pickles: only restore checkpoints you wrote yourself.

When every checkpoint of a folder is damaged, :meth:`CheckpointStore.latest` refuses at every
call (the damaged files are kept aside as ``*.damaged``), until a person decides: restore a file
of their choice, or start afresh (``stream-xml serve --restore FILE`` / ``--fresh-start``).

>>> import tempfile
>>> from stream_xml.persistence import CheckpointStore
>>> store = CheckpointStore(tempfile.mkdtemp(), keep=2)
>>> store.latest() is None
True
>>> for step in range(3):
...     _ = store.save({"offsets": {("topic", 0): step * 10}})
>>> path, state = store.latest()
>>> state["offsets"][("topic", 0)], [seq for seq, _ in store.checkpoints()]
(20, [2, 3])

"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re

from stream_xml import __version__
from stream_xml.files import remove_temporaries, write_atomic

__all__ = [
    "CheckpointStore",
    "CheckpointError",
    "CheckpointFormatError",
    "CheckpointLocked",
    "CHECKPOINT_FORMAT",
    "list_checkpoints",
    "read_checkpoint",
    "write_atomic",
    "remove_temporaries",
    "encode_state",
    "decode_state",
]

log = logging.getLogger(__name__)

# 1: stream-xml 0.1.0 before issue 19's refactor (no format in the header; its classes kept
#    __setstate__ shims for older pickles, which the refactor removed); 2: after it, with the
#    format and the writer in the header; 3: the trees' feature indexes hold the features declared
#    nominal, and iHOMER keeps the declared kinds for the engines it makes (issue 22; iHOMER as a
#    facade over its engines, merged from main at format 2, pickles differently too); 4: kNN
#    leaves keep their float32 rows over absolute feature ids (the frame), not from each row's
#    first id; 5: the leaf policies keep the weight from which they rank by bagging, and iHOMER's
#    partition engine whether it hands out ranked scores; 6: a loss switch's leaves keep naive
#    Bayes' and the labels' priors' errors per label (stream_xml.tree.label_fallback); 7: the leaf
#    policies keep how they rank (``rank_by``, one of three) instead of whether by bagging; 8: a
#    leaf's observers are laid out ``(features, 5, keys)``, each statistic's keys side by side; 9:
#    ODAC-J keeps the instances learnt since its last check apart, adding them to its counts at once
CHECKPOINT_FORMAT = 9
MAGIC = b"STREAM-XML-CHECKPOINT "
_NAME = re.compile(r"^checkpoint-(\d{12})\.ckpt$")
_DAMAGED = re.compile(r"^checkpoint-(\d{12})\.ckpt\.damaged$")


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be read back (names the file and what is wrong)."""


class CheckpointFormatError(CheckpointError):
    """A checkpoint written in another format than this stream-xml reads: not damage, so it is
    neither renamed nor skipped for an older one."""


class CheckpointLocked(RuntimeError):
    """Another process holds the checkpoint folder."""


def encode_state(state) -> bytes:
    """Header (format, writer), checksum and pickle of ``state``.

    >>> magic, number = encode_state({"a": 1}).split(b"\\n")[0].split()[:2]
    >>> magic, int(number) == CHECKPOINT_FORMAT
    (b'STREAM-XML-CHECKPOINT', True)
    >>> decode_state(encode_state({"a": 1}), "mem")
    {'a': 1}

    """
    payload = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    header = MAGIC + f"{CHECKPOINT_FORMAT} stream-xml={__version__}\n".encode("ascii")
    return header + hashlib.sha256(payload).hexdigest().encode("ascii") + b"\n" + payload


def _check_format(line: bytes, where: str) -> None:
    """Refuse a header line of another format than ``CHECKPOINT_FORMAT``."""
    fields = line[len(MAGIC):].decode("ascii", "replace").split()
    if not fields or not fields[0].isdigit():
        raise CheckpointError(f"{where}: not a stream-xml checkpoint (bad header)")
    found = int(fields[0])
    if found == CHECKPOINT_FORMAT:
        return
    writer = fields[1].replace("=", " ") if len(fields) > 1 else "an older stream-xml"
    age = "an older" if found < CHECKPOINT_FORMAT else "a newer"
    raise CheckpointFormatError(
        f"{where}: checkpoint format {found} (written by {writer}) is {age} format than this stream-xml "
        f"({__version__}) reads, {CHECKPOINT_FORMAT}; it is refused rather than half-restored. Go on with the "
        f"stream-xml that wrote it, or start a new model in another checkpoint folder")


def decode_state(data: bytes, where: str):
    """Check and unpickle what :func:`encode_state` wrote; ``where`` names the file in errors.

    >>> decode_state(b"not a checkpoint", "ckpt-7")
    Traceback (most recent call last):
    ...
    stream_xml.persistence.CheckpointError: ckpt-7: not a stream-xml checkpoint (bad header)
    >>> decode_state(b"STREAM-XML-CHECKPOINT 1\\n...", "ckpt-8")
    Traceback (most recent call last):
    ...
    stream_xml.persistence.CheckpointFormatError: ckpt-8: checkpoint format 1 (written by an older stream-xml) is an older format than this stream-xml (...) reads, ...; it is refused rather than half-restored. Go on with the stream-xml that wrote it, or start a new model in another checkpoint folder

    """
    if not data.startswith(MAGIC):
        raise CheckpointError(f"{where}: not a stream-xml checkpoint (bad header)")
    header_end = data.find(b"\n")
    if header_end < 0:
        raise CheckpointError(f"{where}: truncated checkpoint (no header line)")
    _check_format(data[:header_end], where)
    head = header_end + 1
    newline = data.find(b"\n", head)
    if newline < 0:
        raise CheckpointError(f"{where}: truncated checkpoint (no checksum line)")
    expected = data[head:newline].decode("ascii", "replace")
    payload = data[newline + 1:]
    actual = hashlib.sha256(payload).hexdigest()
    if actual != expected:
        raise CheckpointError(f"{where}: checksum mismatch ({len(payload)} payload bytes): the file is damaged")
    try:
        return pickle.loads(payload)
    except Exception as err:  # a class renamed or removed since the checkpoint was written
        raise CheckpointError(f"{where}: cannot unpickle the state: {type(err).__name__}: {err}") from err


def list_checkpoints(directory) -> list[tuple[int, str]]:
    """(sequence number, path) of every checkpoint in ``directory``, oldest first; reads only."""
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        return []
    found = []
    for name in os.listdir(directory):
        m = _NAME.match(name)
        if m:
            found.append((int(m.group(1)), os.path.join(directory, name)))
    return sorted(found)


def read_checkpoint(path):
    """The state saved in the checkpoint file ``path``; reads only (raises CheckpointError)."""
    with open(path, "rb") as f:
        return decode_state(f.read(), os.fspath(path))


class CheckpointStore:
    """Numbered, atomically written checkpoint files in one folder.

    Parameters
    ----------
    directory
        The folder (created if needed).
    keep
        How many of the newest checkpoints to keep (at least 1).
    lock
        Hold an exclusive lock on the folder while the store is open, so two services cannot
        write the same checkpoints (POSIX only; the lock dies with the process, even on kill -9),
        and sweep the temporaries a crash left behind. Without it, the store never deletes a
        temporary (another process may be writing it); use :func:`list_checkpoints` and
        :func:`read_checkpoint` to look at a folder a service is using.

    """

    def __init__(self, directory, keep: int = 3, lock: bool = False):
        if keep < 1:
            raise ValueError(f"keep must be at least 1, got {keep}")
        self.directory = os.fspath(directory)
        self.keep = int(keep)
        os.makedirs(self.directory, exist_ok=True)
        self._lock_file = None
        if lock:
            self._acquire_lock()
            # only the lock holder may sweep: without the lock, a temporary may be another
            # process's checkpoint being written right now
            self._remove_stale_temporaries()

    # -- locking ----------------------------------------------------------------------------------
    def _acquire_lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # no POSIX locks on this platform: run unlocked
            return
        path = os.path.join(self.directory, "lock")
        f = open(path, "a+")
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            f.close()
            raise CheckpointLocked(f"checkpoint folder {self.directory} is in use by {holder}") from None
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()}\n")
        f.flush()
        self._lock_file = f

    def close(self) -> None:
        """Release the folder lock (if held)."""
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def _remove_stale_temporaries(self) -> None:
        # a crash between mkstemp and rename leaves a temporary: never a checkpoint, safe to drop
        remove_temporaries(self.directory)

    # -- files ------------------------------------------------------------------------------------
    def checkpoints(self) -> list[tuple[int, str]]:
        """(sequence number, path) of every checkpoint in the folder, oldest first."""
        return list_checkpoints(self.directory)

    def save(self, state) -> str:
        """Write ``state`` as the next checkpoint, durably; returns its path."""
        existing = self.checkpoints()
        seq = existing[-1][0] + 1 if existing else 1
        path = os.path.join(self.directory, f"checkpoint-{seq:012d}.ckpt")
        write_atomic(path, encode_state(state))
        for _, old in existing[: max(0, len(existing) + 1 - self.keep)]:
            try:
                os.unlink(old)
            except FileNotFoundError:
                pass
        return path

    def load(self, path: str):
        """The state saved in ``path`` (raises :class:`CheckpointError` if it is damaged)."""
        return read_checkpoint(path)

    def damaged(self) -> list[str]:
        """Paths of the checkpoints found damaged and set aside (``*.damaged``), oldest first."""
        found = [(int(m.group(1)), name) for name in os.listdir(self.directory) if (m := _DAMAGED.match(name))]
        return [os.path.join(self.directory, name) for _, name in sorted(found)]

    def latest(self) -> tuple[str, object] | None:
        """(path, state) of the newest readable checkpoint, or None if the folder has none.

        A damaged file (bad header, checksum mismatch, unpicklable) is renamed to
        ``<name>.damaged``, logged, and the next older checkpoint is used: an older checkpoint
        still holds a model and the positions it was trained up to, so restoring it replays the
        records after it and learns none twice. If no checkpoint is readable and any was damaged
        (now, or set aside at an earlier call), this raises :class:`CheckpointError`, at every
        call, rather than let the caller start over silently; a checkpoint of another format
        raises :class:`CheckpointFormatError` at once.
        """
        existing = self.checkpoints()
        problems = []
        for _, path in reversed(existing):
            try:
                return path, self.load(path)
            except CheckpointFormatError:
                raise
            except CheckpointError as err:
                problems.append(str(err))
                log.warning("skipping damaged checkpoint: %s", err)
                os.replace(path, path + ".damaged")
        damaged = self.damaged()
        if damaged:
            found = "; ".join(problems) if problems else "damaged checkpoints were set aside at an earlier start"
            raise CheckpointError(
                f"no readable checkpoint in {self.directory} ({found}): the damaged ones are kept as "
                f"{', '.join(os.path.basename(p) for p in damaged)}. Nothing is restored and nothing starts afresh "
                f"by itself: restore a checkpoint of your choice, or start a new model knowingly")
        return None
