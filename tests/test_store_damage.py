"""A damaged store is refused on opening or reported precisely by verify, never silently used."""

from __future__ import annotations

import os
import pathlib
import struct
import subprocess
import sys

import pytest
from ledger_traffic import Traffic, open_ledger
from rocksdict import Options, Rdict

import ledgercore
from ledgercore import records
from ledgercore.cli import main
from ledgercore.errors import StoreCorruptedError
from ledgercore.snapshot import SNAPSHOT_FILE
from ledgercore.store import (
    COLUMN_FAMILIES,
    FORMAT_MAGIC,
    FORMAT_VERSION,
    LOG_LEVEL_STRIDE,
    Body,
    Store,
    height_key,
    log_key,
)
from ledgercore.verify import verify_store

T0 = 1_700_000_000 * 10**9


@pytest.fixture
def store_path(tmp_path):
    path = str(tmp_path / "ledger")
    traffic = Traffic(6)
    with open_ledger(path) as ledger:
        ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
        for n in range(5):
            ledger.submit(traffic.batch(40, refused=False), timestamp_ns=T0 + (n + 1) * 10**9)
        assert ledger.head().height == 6
    return path


def edit(path: str, family: str, key: bytes, change) -> None:
    """Rewrite one stored value with change(value) (None deletes it)."""
    options = Options(raw_mode=True)
    families = {name: Options(raw_mode=True) for name in COLUMN_FAMILIES}
    db = Rdict(path, options, column_families=families)
    try:
        column = db.get_column_family(family)
        value = column.get(key)
        assert value is not None, f"nothing stored at {family}/{key.hex()}"
        new = change(value)
        if new is None:
            del column[key]
        else:
            column[key] = new
    finally:
        db.close()


def stored(path: str, family: str, key: bytes) -> bytes | None:
    options = Options(raw_mode=True)
    families = {name: Options(raw_mode=True) for name in COLUMN_FAMILIES}
    db = Rdict(path, options, column_families=families)
    try:
        return db.get_column_family(family).get(key)
    finally:
        db.close()


def flip(offset: int):
    def change(value: bytes) -> bytes:
        data = bytearray(value)
        data[offset] ^= 0x01
        return bytes(data)

    return change


def refused_and_reported(path: str, height: int | None, what: str) -> None:
    with pytest.raises(StoreCorruptedError, match="ledgercore verify"):
        open_ledger(path)
    report = verify_store(path, progress=False)
    assert not report.ok
    assert report.mismatch.height == height
    assert what in report.mismatch.what


def test_a_sound_store_verifies_and_the_command_says_so(store_path, capsys):
    assert verify_store(store_path, progress=False).ok
    assert main(["verify", store_path, "--no-progress"]) == 0
    assert "ok: 7 blocks" in capsys.readouterr().out


def test_a_flipped_byte_in_a_transfer_is_refused_and_located(store_path, capsys):
    """Without a snapshot, opening applies every body again and so refuses a damaged one."""
    os.remove(os.path.join(store_path, SNAPSHOT_FILE))
    body_header = 16
    edit(store_path, "bodies", height_key(3), flip(body_header + 192 * 5 + 50))
    refused_and_reported(store_path, 3, "body_hash")
    assert main(["verify", store_path, "--no-progress"]) == 1
    assert "block 3: body_hash" in capsys.readouterr().out


def test_a_flipped_byte_in_a_transfer_under_a_snapshot_is_located_by_verify(store_path):
    """Opening from a snapshot reads no body; verify_chain reads them all and finds it."""
    body_header = 16
    stored = []
    edit(store_path, "bodies", height_key(3), lambda value: stored.append(value) or value)
    damaged_id = records.u128(Body.from_bytes(stored[0]).records["id"][5:6])[0]
    edit(store_path, "bodies", height_key(3), flip(body_header + 192 * 5 + 50))
    with open_ledger(store_path) as ledger:
        assert ledger.opened_from == "snapshot"
        with pytest.raises(StoreCorruptedError, match="body of block 3"):
            ledger.lookup_transfers([damaged_id])
        report = ledger.verify_chain(progress=False)
    assert report.mismatch.height == 3
    assert "body_hash" in report.mismatch.what


def first_word_of_packed_record(value: bytes, index: int) -> int:
    """The offset of the first stored word of record `index` in a packed state entry."""
    count, size = struct.unpack_from("<II", value)
    offset = 8 + 4 * count
    mask_size = (size // 8 + 7) // 8
    for _ in range(index):
        present = sum(bin(byte).count("1") for byte in value[offset : offset + mask_size])
        offset += mask_size + 8 * present
    return offset + mask_size


def test_a_flipped_byte_in_an_account_record_is_reported(store_path):
    offsets = []
    edit(store_path, "state", height_key(4), lambda value: offsets.append(value) or value)
    edit(store_path, "state", height_key(4), flip(first_word_of_packed_record(offsets[0], 2)))
    report = verify_store(store_path, progress=False)
    assert report.mismatch.height == 4
    assert "account record in state slot" in report.mismatch.what


def test_a_flipped_byte_in_the_head_block_header_is_refused(store_path):
    edit(store_path, "blocks", height_key(6), flip(20))
    refused_and_reported(store_path, 6, "timestamp_ns")


def test_a_flipped_byte_in_an_inner_block_header_is_refused(store_path):
    edit(store_path, "blocks", height_key(2), flip(60))
    refused_and_reported(store_path, 2, "prev_hash")


def test_a_flipped_inner_log_node_is_reported(store_path):
    # Inner levels are stored every LOG_LEVEL_STRIDE levels: (4, 0) covers leaves 0 to 15.
    edit(store_path, "log", log_key(LOG_LEVEL_STRIDE, 0), flip(3))
    report = verify_store(store_path, progress=False)
    assert report.mismatch.height == 2
    assert f"log node (level {LOG_LEVEL_STRIDE}, index 0)" in report.mismatch.what


def test_the_log_keeps_every_fourth_inner_level_and_no_leaf_hashes(store_path):
    options = Options(raw_mode=True)
    families = {name: Options(raw_mode=True) for name in COLUMN_FAMILIES}
    db = Rdict(store_path, options, column_families=families)
    try:
        levels = {key[0] for key, _ in db.get_column_family("log").items()}
    finally:
        db.close()
    assert levels == {LOG_LEVEL_STRIDE}


def test_a_deleted_block_is_refused(store_path):
    edit(store_path, "blocks", height_key(3), lambda value: None)
    refused_and_reported(store_path, 4, "block height")


def test_a_deleted_head_block_is_refused(store_path):
    edit(store_path, "blocks", height_key(6), lambda value: None)
    with pytest.raises(StoreCorruptedError, match="block 6, which is missing"):
        open_ledger(store_path)


def test_a_store_of_a_newer_format_version_is_refused_naming_both(store_path):
    newer = FORMAT_VERSION + 1
    edit(store_path, "meta", b"format", lambda value: FORMAT_MAGIC + struct.pack("<I", newer))
    with pytest.raises(
        StoreCorruptedError, match=rf"format version {newer}.*version {FORMAT_VERSION}"
    ):
        open_ledger(store_path)
    report = verify_store(store_path, progress=False)
    assert f"format version {newer}" in report.mismatch.found


CHILD = """
import os, sys
sys.path[:0] = sys.argv[2:]
from ledger_traffic import Traffic, open_ledger
from ledgercore.ledger import Ledger
traffic = Traffic(6)
ledger = open_ledger(sys.argv[1])
ledger.create_accounts(traffic.accounts(), timestamp_ns=10**18)
for n in range(5):
    ledger.submit(traffic.batch(40, refused=False), timestamp_ns=10**18 + (n + 1) * 10**9)
os._exit(0)  # no close: the blocks are only in the write-ahead log, as after a crash
"""


def test_a_truncated_write_ahead_log_is_refused_as_lost_blocks(tmp_path):
    path = str(tmp_path / "ledger")
    here = os.path.dirname(__file__)
    source = os.path.dirname(os.path.dirname(os.path.abspath(ledgercore.__file__)))
    subprocess.run([sys.executable, "-c", CHILD, path, here, source], check=True)
    logs = [name for name in os.listdir(path) if name.endswith(".log")]
    largest = max(logs, key=lambda name: os.path.getsize(os.path.join(path, name)))
    full = os.path.getsize(os.path.join(path, largest))
    # Five blocks of 40 transfers, each at least its signature and its leaf hash.
    assert full > 40 * (64 + 32) * 5
    os.truncate(os.path.join(path, largest), full * 2 // 3)
    with pytest.raises(StoreCorruptedError, match="block 6 was acknowledged"):
        open_ledger(path)
    report = verify_store(path, progress=False)
    assert report.mismatch.what == "acknowledged blocks"


def test_a_truncated_table_file_is_refused(store_path):
    options = Options(raw_mode=True)
    families = {name: Options(raw_mode=True) for name in COLUMN_FAMILIES}
    db = Rdict(store_path, options, column_families=families)
    for name in COLUMN_FAMILIES:
        db.get_column_family(name).flush()
    db.close()
    tables = [name for name in os.listdir(store_path) if name.endswith(".sst")]
    largest = max(tables, key=lambda name: os.path.getsize(os.path.join(store_path, name)))
    full = os.path.getsize(os.path.join(store_path, largest))
    os.truncate(os.path.join(store_path, largest), full // 2)
    with pytest.raises(StoreCorruptedError):
        open_ledger(store_path)
    assert not verify_store(store_path, progress=False).ok


def table_holding(path: str, family: str, key: bytes) -> str:
    """The table file holding a stored value (tables are uncompressed: its bytes are there)."""
    with Store.open(path, read_only=True) as store:
        value = store._cf[family].get(key)
    assert value
    tables = [os.path.join(path, name) for name in os.listdir(path) if name.endswith(".sst")]
    (table,) = [name for name in tables if value in pathlib.Path(name).read_bytes()]
    return table


def flip_file_byte(path: str, offset: int) -> None:
    with open(path, "r+b") as file:
        file.seek(offset)
        byte = file.read(1)[0]
        file.seek(offset)
        file.write(bytes([byte ^ 0x01]))


@pytest.fixture
def damaged_bodies(store_path):
    """The store with a byte flipped in the first data block of its bodies table (blocks 0 to 2),
    and an accepted transfer of block 2."""
    with open_ledger(store_path, read_only=True) as ledger:
        transfer_id = records.u128(ledger.account_history(1, limit=1)["id"])[0]
        assert ledger.block(2).log_size > 0
    flip_file_byte(table_holding(store_path, "bodies", height_key(2)), 100)
    return store_path, transfer_id


UNREADABLE = (
    r"the store is damaged: RocksDB could not read the body of block \d.*Corruption.*"
    "ledgercore verify"
)


@pytest.mark.parametrize(
    "read",
    [
        pytest.param(lambda ledger, transfer_id: ledger.account_history(1), id="account_history"),
        pytest.param(lambda ledger, transfer_id: ledger.prove_transfer(transfer_id), id="prove"),
        pytest.param(
            lambda ledger, transfer_id: ledger.lookup_transfers([transfer_id]), id="lookup"
        ),
    ],
)
def test_a_flipped_byte_in_a_table_file_is_reported_as_corruption_by_every_read(
    damaged_bodies, read
):
    path, transfer_id = damaged_bodies
    with open_ledger(path, read_only=True) as ledger:
        assert ledger.opened_from == "snapshot"  # headers only: the bodies are read later
        with pytest.raises(StoreCorruptedError, match=UNREADABLE) as raised:
            read(ledger, transfer_id)
    assert path in str(raised.value)


def test_a_flipped_byte_in_a_table_file_is_a_failed_verification(damaged_bodies, capsys):
    path, _ = damaged_bodies
    with open_ledger(path, read_only=True) as ledger:
        report = ledger.verify_chain(progress=False)
    assert not report.ok
    assert report.mismatch.what == "reading the store"
    assert "could not read the body of block 0" in report.mismatch.found
    assert main(["verify", path, "--no-progress"]) == 1
    output = capsys.readouterr().out
    assert output.count("\n") == 1
    assert "FAILED" in output and "could not read the body of block 0" in output


def test_a_flipped_byte_in_a_table_file_refuses_reopening_without_a_snapshot(damaged_bodies):
    path, _ = damaged_bodies
    os.remove(os.path.join(path, SNAPSHOT_FILE))
    for read_only in (True, False):
        with pytest.raises(StoreCorruptedError, match=UNREADABLE):
            open_ledger(path, read_only=read_only)


def test_a_flipped_byte_in_the_header_table_refuses_reopening_from_a_snapshot(store_path):
    flip_file_byte(table_holding(store_path, "blocks", height_key(6)), 100)
    for read_only in (True, False):
        with pytest.raises(StoreCorruptedError, match=r"could not read the header of block \d"):
            open_ledger(store_path, read_only=read_only)
    report = verify_store(store_path, progress=False)
    assert "could not read the blocks family" in report.mismatch.found
