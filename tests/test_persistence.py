"""Checkpoints: atomic writes, restore of the newest, rotation, damage detection, the folder lock."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from stream_xml.persistence import (
    CheckpointError,
    CheckpointLocked,
    CheckpointStore,
    decode_state,
    encode_state,
    list_checkpoints,
    read_checkpoint,
    write_atomic,
)


def test_save_restore_newest_and_keep_the_last_few(tmp_path):
    store = CheckpointStore(tmp_path, keep=3)
    assert store.latest() is None
    paths = [store.save({"step": i, "offsets": {("t", 0): 10 * i}}) for i in range(5)]
    assert [seq for seq, _ in store.checkpoints()] == [3, 4, 5]
    assert not os.path.exists(paths[0]) and not os.path.exists(paths[1])
    path, state = store.latest()
    assert path == paths[-1] and state == {"step": 4, "offsets": {("t", 0): 40}}
    # a new store on the same folder goes on numbering after the newest
    again = CheckpointStore(tmp_path, keep=1)
    assert again.save({"step": 5}).endswith("checkpoint-000000000006.ckpt")
    assert [seq for seq, _ in again.checkpoints()] == [6]


def test_restores_what_a_learner_was(tmp_path):
    """A river-API model survives the round trip and predicts as before."""
    from connectors.bundled import YeastSource
    from stream_xml.evaluation.prequential import PrequentialEvaluator
    from stream_xml.models import make_model

    ev = PrequentialEvaluator({"m": make_model("mlhat", seed=1)})
    records = []
    for i, r in enumerate(YeastSource()):
        ev.process(r)
        records.append(r)
        if i == 149:
            break
    store = CheckpointStore(tmp_path)
    store.save({"evaluator": ev})
    _, state = store.latest()
    restored = state["evaluator"]
    assert restored.result()["models"]["m"]["metrics"] == ev.result()["models"]["m"]["metrics"]
    for r in records[:20]:
        assert restored.tracks[0].model.predict_with_scores(r.x) == ev.tracks[0].model.predict_with_scores(r.x)


def test_damage_is_detected_and_the_previous_checkpoint_used(tmp_path, caplog):
    store = CheckpointStore(tmp_path, keep=5)
    store.save({"step": 1})
    newest = store.save({"step": 2})
    with open(newest, "r+b") as f:  # flip one payload byte
        f.seek(-3, os.SEEK_END)
        byte = f.read(1)
        f.seek(-3, os.SEEK_END)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        read_checkpoint(newest)
    path, state = store.latest()
    assert state == {"step": 1} and "damaged" in caplog.text
    assert os.path.exists(newest + ".damaged") and not os.path.exists(newest)
    # the next save does not reuse the damaged number's slot for anything older
    assert store.save({"step": 3}).endswith("000000000002.ckpt")


def _header(data: bytes) -> bytes:
    return data[: data.index(b"\n") + 1]


def test_all_damaged_is_an_error_not_a_fresh_start(tmp_path):
    store = CheckpointStore(tmp_path)
    path = store.save({"step": 1})
    with open(path, "wb") as f:
        f.write(_header(encode_state({})))  # truncated right after the header
    with pytest.raises(CheckpointError, match="no readable checkpoint"):
        store.latest()


def test_all_damaged_is_refused_at_every_start_until_someone_decides(tmp_path):
    """Issue 18.3: the second start with the same folder must not start an empty model."""
    store = CheckpointStore(tmp_path, keep=3)
    paths = [store.save({"step": i}) for i in range(2)]
    for path in paths:
        with open(path, "r+b") as f:
            f.truncate(os.path.getsize(path) - 1)
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        store.latest()
    for _ in range(2):  # what a supervisor does: the same start again, and again
        with pytest.raises(CheckpointError, match=r"no readable checkpoint .*set aside at an earlier start.*"
                                                  r"checkpoint-000000000001.ckpt.damaged"):
            CheckpointStore(tmp_path, keep=3).latest()
    assert CheckpointStore(tmp_path).damaged() == [p + ".damaged" for p in paths]
    # a good checkpoint written after a person's decision (restore or fresh start) is used again
    decided = CheckpointStore(tmp_path, keep=3).save({"step": "fresh"})
    assert CheckpointStore(tmp_path).latest() == (decided, {"step": "fresh"})


def test_another_format_is_refused_with_a_clear_message_and_left_in_place(tmp_path):
    """Issue 19.6: the header carries the format; an older (or newer) one is refused, not set aside."""
    import hashlib

    from stream_xml.persistence import CHECKPOINT_FORMAT, CheckpointFormatError

    payload = pickle.dumps({"step": 1})
    old = tmp_path / "checkpoint-000000000001.ckpt"
    old.write_bytes(b"STREAM-XML-CHECKPOINT 1\n" + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)
    store = CheckpointStore(tmp_path)
    with pytest.raises(CheckpointFormatError, match=rf"checkpoint format 1 \(written by an older stream-xml\) is an "
                                                    rf"older format than this stream-xml \(.*\) reads, {CHECKPOINT_FORMAT}"):
        store.latest()
    assert old.exists() and store.damaged() == []
    newer = encode_state({"step": 2}).replace(b"CHECKPOINT %d " % CHECKPOINT_FORMAT, b"CHECKPOINT 99 ", 1)
    with pytest.raises(CheckpointFormatError, match="format 99 .* is a newer format"):
        decode_state(newer, "n")
    assert _header(encode_state({})).split()[1] == str(CHECKPOINT_FORMAT).encode()


def test_codec_rejects_foreign_and_unpicklable_files():
    import hashlib

    with pytest.raises(CheckpointError, match="bad header"):
        decode_state(pickle.dumps({"a": 1}), "plain.pkl")
    assert decode_state(encode_state({"a": 1}), "ok") == {"a": 1}
    junk = b"garbage that is not a pickle"
    forged = _header(encode_state({})) + hashlib.sha256(junk).hexdigest().encode() + b"\n" + junk
    with pytest.raises(CheckpointError, match="^forged: cannot unpickle"):
        decode_state(forged, "forged")


def test_write_atomic_leaves_no_temporary(tmp_path):
    target = tmp_path / "x.bin"
    write_atomic(str(target), b"a" * 1000)
    write_atomic(str(target), b"b")
    assert target.read_bytes() == b"b" and os.listdir(tmp_path) == ["x.bin"]


def test_the_lock_keeps_a_second_writer_out_and_dies_with_the_holder(tmp_path):
    first = CheckpointStore(tmp_path, lock=True)
    with pytest.raises(CheckpointLocked, match=f"pid {os.getpid()}"):
        CheckpointStore(tmp_path, lock=True)
    first.close()
    CheckpointStore(tmp_path, lock=True).close()
    # a holder killed with SIGKILL releases the lock
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(os.getcwd())!r})
        from stream_xml.persistence import CheckpointStore
        store = CheckpointStore({str(tmp_path)!r}, lock=True)
        print("locked", flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        assert holder.stdout.readline().strip() == b"locked"
        with pytest.raises(CheckpointLocked):
            CheckpointStore(tmp_path, lock=True)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    CheckpointStore(tmp_path, lock=True).close()


WRITER = """
import sys, os
sys.path.insert(0, {root!r})
from stream_xml.persistence import CheckpointStore
store = CheckpointStore({folder!r}, keep=2, lock=True)
payload = os.urandom(4_000_000)  # big enough that a kill often lands inside a write
step = 0
print("started", flush=True)
while True:
    step += 1
    store.save({{"step": step, "payload": payload}})
"""


def test_kill_9_during_saves_always_leaves_a_readable_checkpoint(tmp_path):
    """SIGKILL at arbitrary moments of a save loop: the newest file is complete, temporaries are swept."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    folder = str(tmp_path / "ck")
    for delay in (0.15, 0.32, 0.5):
        writer = subprocess.Popen([sys.executable, "-c", WRITER.format(root=root, folder=folder)],
                                  stdout=subprocess.PIPE)
        assert writer.stdout.readline().strip() == b"started"
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)
        found = list_checkpoints(folder)
        assert found, "no checkpoint was written before the kill"
        state = read_checkpoint(found[-1][1])  # never torn: the rename is the commit point
        assert len(state["payload"]) == 4_000_000
        store = CheckpointStore(folder, lock=True)  # the lock holder sweeps leftovers
        assert all(not name.startswith(".checkpoint-tmp-") for name in os.listdir(folder))
        assert store.latest()[1]["step"] == state["step"]
        store.close()
