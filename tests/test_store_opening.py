"""Opening makes a store only where nothing is, and opens one only as exactly that store at its
recorded head: a directory of other files, a file, a partial copy of a store, a store without its
head file, and a store that lacks what its head says are refused, with nothing written."""

from __future__ import annotations

import hashlib
import os
import pathlib
import shutil
import struct

import pytest
from ledger_traffic import Traffic, open_ledger
from rocksdict import Options, Rdict

from ledgercore.cli import EXIT_DAMAGED, EXIT_NO_STORE, main
from ledgercore.errors import LedgerValueError, StoreCorruptedError
from ledgercore.store import COLUMN_FAMILIES, HEAD_FILE, LOCK_FILE, Store, height_key
from ledgercore.verify import verify_store

T0 = 1_700_000_000 * 10**9


def write_ledger(path: str, blocks: int, *, batch: int = 20) -> None:
    traffic = Traffic(6)
    with open_ledger(path) as ledger:
        ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
        for n in range(blocks):
            ledger.submit(traffic.batch(batch, refused=False), timestamp_ns=T0 + (n + 1) * 10**9)


@pytest.fixture
def store_path(tmp_path):
    path = str(tmp_path / "ledger")
    write_ledger(path, 5)
    return path


def contents(path: str) -> dict[str, str]:
    """Every file of a directory and a hash of its bytes; the writer's lock file, which only
    holds the process id of the last writer, left out."""
    return {
        name: hashlib.sha256(pathlib.Path(path, name).read_bytes()).hexdigest()
        for name in os.listdir(path)
        if name != LOCK_FILE
    }


def test_a_directory_of_other_files_is_refused_and_left_as_it_was(tmp_path):
    (tmp_path / "notes.txt").write_text("the user's own file")
    with pytest.raises(
        LedgerValueError, match=r"holds other files \(notes.txt\) and no ledgercore"
    ):
        open_ledger(tmp_path)
    with pytest.raises(LedgerValueError, match="no ledger store"):
        open_ledger(tmp_path, read_only=True)
    assert os.listdir(tmp_path) == ["notes.txt"]


@pytest.mark.parametrize("read_only", [False, True])
def test_a_regular_file_as_the_path_is_refused_as_not_a_directory(tmp_path, read_only):
    path = tmp_path / "ledger"
    path.write_text("not a store")
    with pytest.raises(LedgerValueError, match="is a file, not a store's directory"):
        open_ledger(path, read_only=read_only)
    assert path.read_text() == "not a store"


def test_an_empty_directory_becomes_a_store(tmp_path):
    with open_ledger(tmp_path) as ledger:
        assert ledger.head().height == 0
    assert os.path.exists(tmp_path / HEAD_FILE)


@pytest.mark.parametrize("left_out", [("CURRENT",), ("CURRENT", ".log")])
def test_a_store_copied_without_its_current_file_is_refused_not_adopted_as_new(
    tmp_path, left_out, capsys
):
    """A partial copy must never become a new, empty ledger over the old one's table files."""
    original = str(tmp_path / "ledger")
    write_ledger(original, 20)
    copy = str(tmp_path / "copy")
    shutil.copytree(
        original, copy, ignore=lambda _, names: [n for n in names if n.endswith(left_out)]
    )
    assert any(name.endswith(".sst") for name in os.listdir(copy))
    before = contents(copy)
    for read_only in (False, True):
        with pytest.raises(StoreCorruptedError, match="but not RocksDB's CURRENT file") as raised:
            open_ledger(copy, read_only=read_only)
        assert HEAD_FILE in str(raised.value)
    assert contents(copy) == before
    assert pathlib.Path(copy, HEAD_FILE).read_text().split()[0] == "21"
    assert main(["verify", copy, "--no-progress"]) == EXIT_DAMAGED
    assert "CURRENT" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "said"),
    [(None, "is missing"), (b"", "is empty"), (b" " * 96, "is empty"), (b"21 x\n", "is malformed")],
)
def test_a_store_without_a_readable_head_file_is_refused_by_every_open_and_by_verify(
    store_path, content, said, capsys
):
    head_path = os.path.join(store_path, HEAD_FILE)
    os.remove(head_path)
    if content is not None:
        with open(head_path, "wb") as file:
            file.write(content)
    before = contents(store_path)
    for read_only in (False, True):
        with pytest.raises(StoreCorruptedError, match=f"head file {HEAD_FILE} {said}"):
            open_ledger(store_path, read_only=read_only)
    # The writer's refusal left the head file as it was: no empty file in place of a missing one.
    assert contents(store_path) == before
    report = verify_store(store_path, progress=False)
    assert report.mismatch.what == "head file"
    assert main(["verify", store_path, "--no-progress"]) == EXIT_DAMAGED
    assert said in capsys.readouterr().out


def test_a_new_store_without_its_head_file_is_refused_saying_creating_it_may_have_been_cut(
    tmp_path,
):
    path = str(tmp_path / "ledger")
    open_ledger(path).close()
    os.remove(os.path.join(path, HEAD_FILE))
    with pytest.raises(StoreCorruptedError, match="if creating it was cut short, remove the"):
        open_ledger(path)


def test_a_head_file_of_another_store_at_the_same_height_is_refused(store_path, tmp_path):
    other = str(tmp_path / "other")
    traffic = Traffic(6, seed=2)
    with open_ledger(other) as ledger:
        ledger.create_accounts(traffic.accounts(), timestamp_ns=T0 + 1)
        for n in range(5):
            ledger.submit(traffic.batch(20, refused=False), timestamp_ns=T0 + (n + 1) * 10**9)
    shutil.copy(os.path.join(other, HEAD_FILE), os.path.join(store_path, HEAD_FILE))
    with pytest.raises(StoreCorruptedError, match="the file is another store's"):
        open_ledger(store_path)
    report = verify_store(store_path, progress=False)
    assert report.mismatch.what == f"hash of the block {HEAD_FILE} names"


def delete_stored(path: str, family: str, key: bytes) -> None:
    options = Options(raw_mode=True)
    families = {name: Options(raw_mode=True) for name in COLUMN_FAMILIES}
    db = Rdict(path, options, column_families=families)
    try:
        column = db.get_column_family(family)
        assert column.get(key) is not None
        del column[key]
    finally:
        db.close()


@pytest.mark.parametrize(
    ("family", "said"),
    [("bodies", "the body of block 6 is missing"), ("state", "state changes of block 6")],
)
def test_a_store_lacking_what_its_head_block_wrote_is_refused_before_a_writer_writes(
    store_path, family, said
):
    """Opened from its snapshot, a store reads no body; its writer must still not adopt it."""
    delete_stored(store_path, family, height_key(6))
    before = contents(store_path)
    with pytest.raises(StoreCorruptedError, match=f"{said}.*not opened for writing"):
        open_ledger(store_path)
    assert contents(store_path) == before


def test_the_cli_tells_no_store_from_a_damaged_one_and_from_a_usage_error(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    (tmp_path / "empty").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    for name in ("missing", "file", "empty", "other"):
        assert main(["verify", str(tmp_path / name), "--no-progress"]) == EXIT_NO_STORE
        output = capsys.readouterr().out
        assert output.count("\n") == 1 and "no ledgercore store there" in output
    with pytest.raises(SystemExit) as usage:
        main(["verify"])
    assert usage.value.code not in (EXIT_NO_STORE, EXIT_DAMAGED, 0)


BLOCK_SIZE = 32768


def logical_record_offsets(path: str) -> list[int]:
    """Where each logical record of a RocksDB log-format file (a MANIFEST) starts: records are
    cut into 32 KiB blocks, each piece with a 7-byte header (checksum, length, type)."""
    data = pathlib.Path(path).read_bytes()
    starts, offset = [], 0
    while offset + 7 <= len(data):
        room = BLOCK_SIZE - offset % BLOCK_SIZE
        if room < 7:
            offset += room
            continue
        _, length, kind = struct.unpack_from("<IHB", data, offset)
        if kind == 0 and length == 0:
            offset += room
            continue
        if kind in (1, 2):  # a whole record, or the first piece of one
            starts.append(offset)
        offset += 7 + length
    return starts


def test_a_manifest_that_lost_records_is_refused_before_its_tables_are_deleted(tmp_path):
    """With its last records cut, a MANIFEST no longer names the newest table files, whose log
    files were released already: a writer's opening let RocksDB delete them, the only copy of
    blocks the head still names. Each clean close flushes every family to a table; with two
    closes there are two tables a family and no compaction, so cutting the second close's
    records loses its tables and nothing else."""
    original = str(tmp_path / "ledger")
    traffic = Traffic(6)
    for session in range(2):
        with open_ledger(original) as ledger:
            if session == 0:
                ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
            for n in range(5):
                clock = T0 + (10 * session + n + 1) * 10**9
                ledger.submit(traffic.batch(20, refused=False), timestamp_ns=clock)
    # After a clean close the log files hold nothing the tables lack (RocksDB keeps them to
    # reuse): without them, what the cut MANIFEST forgets is nowhere else, as after a backup
    # that left the logs out or once they are reused.
    for name in os.listdir(original):
        if name.endswith(".log"):
            os.remove(os.path.join(original, name))
    damaged = None
    for cut in range(1, 20):
        copy = str(tmp_path / f"cut{cut}")
        shutil.copytree(original, copy)
        (name,) = [name for name in os.listdir(copy) if name.startswith("MANIFEST-")]
        manifest = os.path.join(copy, name)
        os.truncate(manifest, logical_record_offsets(manifest)[-cut])
        with Store.open(copy, read_only=True, check_head=False) as store:
            unnamed = store._unnamed_tables()
        if unnamed and not verify_store(copy, progress=False).ok:
            damaged = copy
            break
        shutil.rmtree(copy)
    assert damaged is not None, "no cut of the MANIFEST lost a table: the test lost its point"
    before = contents(damaged)
    with pytest.raises(StoreCorruptedError, match="not named by its MANIFEST") as raised:
        open_ledger(damaged)
    assert all(name in str(raised.value) for name in unnamed)
    assert contents(damaged) == before


def test_an_unnamed_table_file_with_an_earlier_block_missing_stops_a_writer(store_path):
    """A table file the MANIFEST does not name is a flush cut short only if every block is whole
    without it; here block 3's body is gone, so it may be the only copy and is kept."""
    delete_stored(store_path, "bodies", height_key(3))
    tables = sorted(name for name in os.listdir(store_path) if name.endswith(".sst"))
    numbers = [int(name[:6]) for name in os.listdir(store_path) if name[:6].isdigit()]
    unnamed = f"{max(numbers) + 1:06d}.sst"
    shutil.copy(os.path.join(store_path, tables[0]), os.path.join(store_path, unnamed))
    before = contents(store_path)
    with pytest.raises(
        StoreCorruptedError, match=rf"body of block 3 is missing.*{unnamed} are not named"
    ):
        open_ledger(store_path)
    assert contents(store_path) == before
    with open_ledger(store_path, read_only=True) as auditor:
        assert auditor.head().height == 6  # reading it is still possible, from its snapshot
