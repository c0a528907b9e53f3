"""Snapshots: a ledger closed cleanly reopens from its engine's saved tables, and any snapshot
that does not fit the store's head exactly is ignored in favour of applying the blocks."""

from __future__ import annotations

import os
import shutil
import warnings

import numpy
import pytest
from ledger_traffic import Traffic, open_ledger

from ledgercore import records
from ledgercore import snapshot as snapshot_module
from ledgercore.engine import Engine
from ledgercore.errors import LedgerValueError, StoreCorruptedError
from ledgercore.ledger import Ledger
from ledgercore.snapshot import SNAPSHOT_FILE, read_snapshot, write_snapshot
from ledgercore.store import Store

T0 = 1_700_000_000 * 10**9


@pytest.fixture
def closed_store(tmp_path):
    """A store of 12 blocks of mixed traffic (pending with timeouts, posts, voids, refusals),
    closed cleanly, and the traffic that made it."""
    path = str(tmp_path / "ledger")
    traffic = Traffic(7, seed=5)
    with open_ledger(path) as ledger:
        ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
        for n in range(11):
            ledger.submit(traffic.batch(30), timestamp_ns=T0 + (n + 1) * 2 * 10**9)
    return path, traffic


def everything(ledger: Ledger, traffic: Traffic) -> tuple:
    ids = list(range(1, traffic.next_id + 1))
    return (
        ledger.head(),
        ledger.balances(traffic.account_ids).tobytes(),
        ledger.lookup_transfers(ids).tobytes(),
        ledger.check_invariants(),
        ledger.prove_transfer(ids[-1]).to_json() if len(ledger.lookup_transfers(ids[-1:])) else "",
    )


def test_a_cleanly_closed_ledger_reopens_from_its_snapshot_as_from_its_blocks(closed_store):
    path, traffic = closed_store
    copy = path + "-blocks"
    shutil.copytree(path, copy)
    os.remove(os.path.join(copy, SNAPSHOT_FILE))
    later = Traffic(7, seed=5)
    later.next_id, later.pending = traffic.next_id, list(traffic.pending)
    batch = later.batch(40)
    with open_ledger(path) as snapped, open_ledger(copy) as replayed:
        assert (snapped.opened_from, snapped.snapshot_status) == ("snapshot", "loaded")
        assert replayed.opened_from == "blocks"
        assert everything(snapped, traffic) == everything(replayed, traffic)
        clock = T0 + 60 * 10**9  # past some pending timeouts
        first = snapped.submit(batch, timestamp_ns=clock)
        second = replayed.submit(batch, timestamp_ns=clock)
        assert first[0].tolist() == second[0].tolist()
        assert first[1] == second[1]
        assert snapped.verify_chain(progress=False).ok


def test_a_snapshot_of_an_older_head_is_ignored(closed_store):
    path, traffic = closed_store
    ledger = open_ledger(path)
    ledger.submit(traffic.batch(10, refused=False), timestamp_ns=T0 + 100 * 10**9)
    ledger.close(snapshot=False)
    with open_ledger(path) as reopened:
        assert reopened.opened_from == "blocks"
        assert "the snapshot is of block 12, the head is block 13" in reopened.snapshot_status


def test_a_damaged_snapshot_file_is_ignored(closed_store):
    path, _ = closed_store
    snapshot = os.path.join(path, SNAPSHOT_FILE)
    with open(snapshot, "r+b") as file:
        file.seek(os.path.getsize(snapshot) // 2)
        byte = file.read(1)
        file.seek(-1, os.SEEK_CUR)
        file.write(bytes([byte[0] ^ 0x20]))
    with open_ledger(path) as ledger:
        assert ledger.opened_from == "blocks"
        assert ledger.snapshot_status == "the snapshot file does not match its record"


def rewrite_snapshot(path: str, change, written=write_snapshot) -> None:
    """Write the store's snapshot again, its sections passed through change(sections), and
    vouch for the new file as a clean close would."""
    with Store.open(path) as store:
        head = store.head()
        snapshot, status = read_snapshot(store, head.height, head.hash)
        assert status == "loaded"
        sections = {name: numpy.array(array) for name, array in snapshot.sections.items()}
        del snapshot
        written(store, head.height, head.hash, change(sections))


def test_a_snapshot_whose_leaf_hashes_miss_the_head_log_root_is_refused(closed_store):
    """An intact snapshot file that gives another log than the head's is not used."""
    path, _ = closed_store

    def flipped(sections):
        sections["log_leaves"][7, 3] ^= 0x01
        return sections

    rewrite_snapshot(path, flipped)
    with pytest.raises(StoreCorruptedError, match="the snapshot's leaf hashes give log root"):
        open_ledger(path, read_only=True)
    os.remove(os.path.join(path, SNAPSHOT_FILE))
    with open_ledger(path, read_only=True) as ledger:
        assert ledger.opened_from == "blocks"
        assert ledger.verify_chain(progress=False).ok


def test_a_snapshot_without_leaf_hashes_is_ignored(closed_store):
    path, traffic = closed_store
    with open_ledger(path, read_only=True) as ledger:
        expected = everything(ledger, traffic)

    def without_leaves(sections):
        del sections["log_leaves"]
        return sections

    rewrite_snapshot(path, without_leaves)
    with open_ledger(path, read_only=True) as ledger:
        assert ledger.opened_from == "blocks"
        assert "log_leaves" in ledger.snapshot_status
        assert everything(ledger, traffic) == expected


def test_a_snapshot_of_an_earlier_version_is_ignored(closed_store, monkeypatch):
    path, _ = closed_store

    def written_as_version_1(*arguments):
        with monkeypatch.context() as patch:
            patch.setattr(snapshot_module, "_VERSION", 1)
            write_snapshot(*arguments)

    rewrite_snapshot(path, lambda sections: sections, written_as_version_1)
    with open_ledger(path) as ledger:
        assert ledger.opened_from == "blocks"
        assert "the snapshot is of an earlier version (version 1" in ledger.snapshot_status
    with open_ledger(path, read_only=True) as ledger:
        assert ledger.opened_from == "snapshot"


def test_a_missing_or_truncated_snapshot_file_is_ignored(closed_store):
    path, _ = closed_store
    snapshot = os.path.join(path, SNAPSHOT_FILE)
    os.truncate(snapshot, os.path.getsize(snapshot) - 1)
    with open_ledger(path) as ledger:
        assert ledger.opened_from == "blocks"
    os.remove(snapshot)
    with open_ledger(path, read_only=True) as ledger:
        assert ledger.opened_from == "blocks"
        assert "cannot be read" in ledger.snapshot_status


def test_read_only_openers_use_the_snapshot_and_write_none(closed_store):
    path, _ = closed_store
    written = os.path.getmtime(os.path.join(path, SNAPSHOT_FILE))
    with open_ledger(path, read_only=True) as ledger:
        assert ledger.opened_from == "snapshot"
    assert os.path.getmtime(os.path.join(path, SNAPSHOT_FILE)) == written


def test_a_snapshot_that_cannot_be_written_warns_and_the_store_still_closes(closed_store):
    path, traffic = closed_store
    ledger = open_ledger(path)
    ledger.submit(traffic.batch(5, refused=False), timestamp_ns=T0 + 100 * 10**9)
    os.remove(os.path.join(path, SNAPSHOT_FILE))
    os.mkdir(os.path.join(path, SNAPSHOT_FILE))  # a directory where the file goes
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ledger.close()
    assert ledger.closed
    assert any("no snapshot written" in str(w.message) for w in caught)
    assert not os.path.exists(os.path.join(path, SNAPSHOT_FILE + ".partial"))
    os.rmdir(os.path.join(path, SNAPSHOT_FILE))
    with open_ledger(path) as reopened:
        assert reopened.opened_from == "blocks"


def engine_image() -> numpy.ndarray:
    traffic = Traffic(5, seed=9)
    engine = Engine(ledger_id=traffic.ledger_id)
    engine.create_accounts(traffic.accounts(), timestamp_ns=T0)
    for n in range(4):
        engine.submit(traffic.batch(25), timestamp_ns=T0 + n * 10**9)
    return engine.image()


def test_an_engine_image_loads_into_the_same_state():
    image = engine_image()
    copy = Engine.load_image(image)
    assert copy.image().tobytes() == image.tobytes()
    assert copy.pending_count > 0


@pytest.mark.parametrize(
    "word, value",
    [(0, 0), (1, 99), (2, 10**9), (3, 1), (6, 10**6)],
    ids=["magic", "version", "account count", "transfer count", "pending count"],
)
def test_a_malformed_engine_image_is_refused(word, value):
    image = engine_image().copy()
    header = image[:64].view("<u8")
    header[word] = value if word != 3 else header[word] + value
    with pytest.raises(LedgerValueError, match="image"):
        Engine.load_image(image)


def test_an_engine_image_with_a_repeated_transfer_id_or_bad_status_is_refused():
    image = engine_image()
    header = image[:64].view("<u8")
    accounts, transfers = int(header[2]), int(header[3])
    first = 64 + accounts * (96 + 72 + 32)  # hot, cold and owner x rows
    repeated = image.copy()
    repeated[first + 128 : first + 144] = repeated[first : first + 16]  # transfer 1 gets 0's id
    with pytest.raises(LedgerValueError, match="image"):
        Engine.load_image(repeated)
    bad_status = image.copy()
    bad_status[-transfers] = 9
    with pytest.raises(LedgerValueError, match="image"):
        Engine.load_image(bad_status)
    with pytest.raises(LedgerValueError, match="image"):
        Engine.load_image(image[:-1])
    assert records.TRANSFER_DTYPE.itemsize == 192  # the layout these offsets assume


def test_timeouts_that_fall_due_after_a_snapshot_make_the_same_block(closed_store):
    """A batch whose only effect is pending timeouts falling due makes a block; the snapshot
    must carry what the ledger tracks of those timeouts."""
    path, _ = closed_store
    copy = path + "-blocks"
    shutil.copytree(path, copy)
    os.remove(os.path.join(copy, SNAPSHOT_FILE))
    refused = records.transfers(
        [dict(id=0, debit_account_id=1, credit_account_id=2, amount=1, ledger=1, code=1)]
    )
    later = T0 + 7200 * 10**9
    with open_ledger(path) as snapped, open_ledger(copy) as replayed:
        assert snapped.opened_from == "snapshot"
        first = snapped.submit(refused, timestamp_ns=later)
        second = replayed.submit(refused, timestamp_ns=later)
    assert second[1] is not None, "the fixture has no pending transfer left to time out"
    assert first[1] == second[1]


def test_closing_at_the_head_of_the_loaded_snapshot_rewrites_nothing(closed_store):
    path, _ = closed_store
    snapshot = os.path.join(path, SNAPSHOT_FILE)
    before = os.stat(snapshot)
    with open_ledger(path) as ledger:
        assert ledger.opened_from == "snapshot"
    after = os.stat(snapshot)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
