"""The durable store of a ledger: RocksDB (rocksdict) column families, one synced batch per block.

Column families, keys and values (integers little-endian unless said; heights and log indices
in keys are big-endian so that keys sort in order):

    meta      b"format"         b"ledgercore store" + u32 FORMAT_VERSION
              b"head"           u64 height + the head block's 32-byte hash
              b"snapshot"       the snapshot file's height, head hash, BLAKE3 and size
                                (ledgercore.snapshot)
    blocks    u64 height        the block header's bytes (ledgercore.blocks)
    bodies    u64 height        the block body: the batch as submitted and its result codes
    log       u8 level, u64 i   the transaction log's complete-subtree hashes (level, i), ...
                                that the block completed on that level, concatenated; levels
                                4, 8, 12, ... only (LOG_LEVEL_STRIDE): any other node is the
                                root of at most 16 stored ones, and the levels between
                                were a sixth of a block's bytes. The leaf hashes (level 0)
                                are not stored: they are a hash of each accepted transfer in
                                the bodies, were a sixth of a block's bytes too, and reopening
                                takes them from the snapshot or hashes the bodies it applies
    state     u64 height        the state tree slots the block changed and their new records
    accounts  16-byte id        u32 state slot + u64 height of the block that created it

Body bytes (empty for the genesis block; a header's body_hash is BLAKE3 of them): b"LCBB", u8
version, u8 kind, u16 zero, u32 record_count, u32 record_size, the records as submitted
(timestamps zero) packed, then one result byte per record. State bytes: u32 count, u32 record
size, count u32 slots, then count packed records: whole accounts (ACCOUNT_DTYPE, as the engine
holds them) in a block that created them, only their four balances (BALANCES_DTYPE, 64 bytes) in
any other block.

Packed records drop their zero 64-bit words: each record is a mask, one bit per word, followed
by its nonzero words (ledgercore._native.wordpack). Ids, amounts and balances rarely need their
high lanes: a body of signed transfers shrinks by about 40% and a state entry by about 70%, and
a block's bytes are what each synced write costs.
Every record has exactly one packed form, so a body's hash commits to its records.

Every block is one WriteBatch, written with sync, and the head moves in that same batch: a
process killed mid-write leaves RocksDB's log with a torn last batch, which recovery drops, so
the store opens at its last complete block. After the synced write, the head is also written
(without sync) to the plain file `ledgercore.head`; a store whose blocks end before that file's
height lost blocks that were acknowledged (a truncated log file, say) and is refused; so is a
store without that file (read_head_file), which could not tell such a loss from none.

Format 5 writes block headers of format 2, which commit to the hashes of all earlier blocks
(ledgercore.blocks). Format 4 stores hold format 1 headers; format 3 also stored the log's leaf
hashes and is otherwise format 4. Both open, and their first writer marks them format 5: the
blocks it appends have format 2 headers, whose history covers the old blocks too, while the old
headers stay as they were (an earlier ledgercore, which cannot read the new headers, then
refuses the store instead of failing on them).

One writer per store holds `ledgercore.lock` (an flock, with the holder's process id inside);
read-only openers take no lock.

Example:
    >>> import tempfile
    >>> from ledgercore.store import Store
    >>> with tempfile.TemporaryDirectory() as directory:
    ...     with Store.open(directory + "/ledger", create=True) as store:
    ...         store.head_height()
    0
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy

from ledgercore import records
from ledgercore._native import wordpack
from ledgercore.blocks import BlockHeader, BlockKind
from ledgercore.errors import LedgerError, LedgerValueError, StoreCorruptedError, StoreLockedError
from ledgercore.hashing import blake3
from ledgercore.snapshot import SNAPSHOT_FILE

__all__ = ["FORMAT_VERSION", "Body", "Store", "read_head_file", "survey"]

FORMAT_VERSION = 5
# Versions this one opens: format 4 differs by its format 1 block headers, format 3 also by the
# leaf hashes it kept in the log family.
FORMAT_VERSIONS_READ = (3, 4, 5)
FORMAT_MAGIC = b"ledgercore store"
COLUMN_FAMILIES = ("meta", "blocks", "bodies", "log", "state", "accounts")
LOCK_FILE = "ledgercore.lock"
HEAD_FILE = "ledgercore.head"
CHECK_HINT = "check it with `ledgercore verify {path}`"
LOG_LEVEL_STRIDE = 4
# Write-ahead log files kept for reuse once their blocks are in tables (see _options).
WAL_FILES_RECYCLED = 2
WRITE_BUFFER_BYTES_DEFAULT = 64 << 20
WRITE_BUFFER_BYTES_MIN = 64 << 10
# Log bytes kept, in write buffers: past it, RocksDB flushes the families that hold the oldest log.
WAL_WRITE_BUFFERS_MAX = 4

_BODY = struct.Struct("<4sBBHII")
_BODY_MAGIC = b"LCBB"
_BODY_VERSION = 2
_HEAD = struct.Struct(">Q32s")
_ACCOUNT_ENTRY = struct.Struct("<IQ")
_RECORD_DTYPES = {
    BlockKind.genesis: records.TRANSFER_DTYPE,
    BlockKind.accounts: records.ACCOUNT_DTYPE,
    BlockKind.transfers: records.TRANSFER_DTYPE,
}


def height_key(height: int) -> bytes:
    """The key of a block's entries: its height as 8 big-endian bytes."""
    return height.to_bytes(8, "big")


def log_key(level: int, index: int) -> bytes:
    """The key of the log nodes starting at (level, index)."""
    return bytes([level]) + index.to_bytes(8, "big")


def stored_log_nodes(
    nodes: Iterable[tuple[int, int, numpy.ndarray]],
) -> list[tuple[int, int, numpy.ndarray]]:
    """The log nodes of a block that the store keeps: levels 4, 8, 12, ..."""
    return [node for node in nodes if node[0] > 0 and node[0] % LOG_LEVEL_STRIDE == 0]


@dataclass(frozen=True)
class Body:
    """A block's body: the batch as submitted and one result code per record.

    Example:
        >>> accounts = records.accounts([dict(id=1, ledger=1, code=1, owner_key=bytes(32))])
        >>> body = Body(BlockKind.accounts, accounts, numpy.zeros(1, "u1"))
        >>> Body.from_bytes(body.to_bytes()).records["id"].tolist()
        [[1, 0]]
    """

    kind: BlockKind
    records: numpy.ndarray
    results: numpy.ndarray

    def to_bytes(self) -> bytes:
        """The body's bytes (see the module docstring); the genesis body is empty."""
        if self.kind == BlockKind.genesis:
            assert len(self.records) == 0
            return b""
        assert len(self.records) == len(self.results)
        head = _BODY.pack(
            _BODY_MAGIC, _BODY_VERSION, int(self.kind), 0, len(self.records),
            self.records.dtype.itemsize,
        )  # fmt: skip
        rows = numpy.ascontiguousarray(self.records)
        return wordpack.pack(rows, head, numpy.ascontiguousarray(self.results).tobytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> Body:
        """Parse a body's bytes strictly; raises LedgerValueError naming what is wrong."""
        if len(data) == 0:
            empty = numpy.zeros(0, records.TRANSFER_DTYPE)
            return cls(BlockKind.genesis, empty, numpy.zeros(0, numpy.uint8))
        if len(data) < _BODY.size:
            raise LedgerValueError(f"body: {len(data)} bytes, at least {_BODY.size} expected")
        magic, version, kind, reserved, count, size = _BODY.unpack_from(data)
        if magic != _BODY_MAGIC or version != _BODY_VERSION or reserved != 0:
            raise LedgerValueError(f"body: bad magic or version ({magic!r}, {version})")
        if kind not in BlockKind._value2member_map_:
            raise LedgerValueError(f"body: kind {kind}, expected 0, 1 or 2")
        dtype = _RECORD_DTYPES[BlockKind(kind)]
        if size != dtype.itemsize:
            raise LedgerValueError(f"body: record size {size}, expected {dtype.itemsize}")
        if count > (len(data) - _BODY.size) // (1 + wordpack.mask_size(size)):
            raise LedgerValueError(f"body: {len(data)} bytes cannot hold {count} records")
        try:
            array, end = wordpack.unpack(data, _BODY.size, count, dtype)
        except LedgerValueError as error:
            raise LedgerValueError(f"body: {error}") from None
        if len(data) != end + count:
            raise LedgerValueError(
                f"body: {len(data)} bytes, {count} records end at {end} and need {count} "
                "result bytes after them"
            )
        results = numpy.frombuffer(data, dtype=numpy.uint8, count=count, offset=end)
        return cls(BlockKind(kind), array, results)


BALANCE_FIELDS = ("debits_pending", "debits_posted", "credits_pending", "credits_posted")
BALANCES_DTYPE = numpy.dtype(
    {
        "names": list(BALANCE_FIELDS),
        "formats": [records.ACCOUNT_DTYPE.fields[name][0] for name in BALANCE_FIELDS],
        "offsets": [0, 16, 32, 48],
        "itemsize": 64,
    }
)
"""The part of an account a transfer can change: its four balances, as in ACCOUNT_DTYPE."""

_BALANCES_OFFSET = records.ACCOUNT_DTYPE.fields["debits_pending"][1]
_STATE_HEAD = struct.Struct("<II")


def encode_state(slots: numpy.ndarray, accounts: numpy.ndarray, *, full: bool) -> bytes:
    """The state entry of a block: the slots it changed and their records (full, for a block
    that created them) or only their balances (every other block: nothing else of an account
    changes after its creation, and a block's bytes are what a sync costs), packed."""
    assert len(slots) == len(accounts)
    assert accounts.dtype == records.ACCOUNT_DTYPE
    rows = numpy.ascontiguousarray(accounts)
    # A block that created accounts keeps them whole, any other only their balances: packed
    # straight out of the rows, not copied out first.
    offset, size = (0, rows.dtype.itemsize) if full else (_BALANCES_OFFSET, BALANCES_DTYPE.itemsize)
    head = _STATE_HEAD.pack(len(slots), size) + slots.astype("<u4").tobytes()
    return wordpack.pack(rows, head, offset=offset, size=size)


def decode_state(data: bytes) -> tuple[numpy.ndarray, numpy.ndarray]:
    """(slots, records) of a state entry, the records of ACCOUNT_DTYPE or BALANCES_DTYPE;
    raises LedgerValueError if its length, record size or packing is wrong."""
    if len(data) < _STATE_HEAD.size:
        raise LedgerValueError(f"state entry: {len(data)} bytes, at least 8 expected")
    count, size = _STATE_HEAD.unpack_from(data)
    dtypes = {dtype.itemsize: dtype for dtype in (records.ACCOUNT_DTYPE, BALANCES_DTYPE)}
    if size not in dtypes:
        raise LedgerValueError(f"state entry: record size {size}, expected 160 or 64")
    if count > (len(data) - _STATE_HEAD.size) // (4 + wordpack.mask_size(size)):
        raise LedgerValueError(f"state entry: {len(data)} bytes cannot hold {count} slots")
    slots = numpy.frombuffer(data, dtype="<u4", count=count, offset=_STATE_HEAD.size)
    try:
        changed, end = wordpack.unpack(data, _STATE_HEAD.size + 4 * count, count, dtypes[size])
    except LedgerValueError as error:
        raise LedgerValueError(f"state entry: {error}") from None
    if end != len(data):
        raise LedgerValueError(f"state entry: {len(data) - end} bytes after its {count} records")
    return slots, changed


def apply_state(accounts: numpy.ndarray, slots: numpy.ndarray, changed: numpy.ndarray) -> None:
    """Write a state entry's records (whole, or balances only) into accounts[slots]."""
    if changed.dtype == records.ACCOUNT_DTYPE:
        accounts[slots] = changed
        return
    for name in BALANCE_FIELDS:
        accounts[name][slots] = changed[name]


class Store:
    """One ledger's RocksDB store: headers, bodies, log nodes, state changes and the head.

    Use `Store.open`; the Ledger is its only writer. Not thread-safe.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as directory:
        ...     with Store.open(directory + "/s", create=True) as store:
        ...         store.block(0).kind.name
        'genesis'
    """

    def __init__(self, path: str, db: Any, read_only: bool, lock_fd: int | None) -> None:
        self.path = path
        self.read_only = read_only
        self._db = db
        self._lock_fd = lock_fd
        self._cf = {
            name: _Family(path, name, db.get_column_family(name)) for name in COLUMN_FAMILIES
        }
        self._handles = {name: db.get_column_family_handle(name) for name in COLUMN_FAMILIES}
        self._head_fd: int | None = None

    # ------------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        create: bool = True,
        read_only: bool = False,
        check_head: bool = True,
        ledger_id: bytes | None = None,
    ) -> Store:
        """Open (or create) a store, check its format version and its head.

        A store is created only where nothing is: a new path, or an empty directory. A writer
        opens an existing store read-only first and checks that it holds what its head says
        (see _probe) before RocksDB may write, repair or delete anything in it; every refusal
        below happens with nothing written.

        Args:
            path: the store's directory.
            create: make a new store (with its genesis block) when none is there.
            read_only: open without a lock and without writing; any number may do so.
            check_head: for read_only only: refuse a store whose head does not match its blocks
                or its head file (False only to examine a damaged store, as `ledgercore verify`
                does); a writer always checks.
            ledger_id: the 16-byte id a new store's genesis block gives its ledger (default:
                16 random bytes); ignored when the store exists.

        Returns:
            The open Store.

        Raises:
            TypeError: path is not a path.
            LedgerValueError: no store at path and create is False (or read_only); path is a
                file; path is a directory of other files.
            StoreLockedError: another writer holds the store, naming its process.
            StoreCorruptedError: another format version, a damaged store (files of a store but
                no CURRENT file, a head file missing or not this store's, a table RocksDB
                cannot read, a head block whose entries are missing), or a head that does not
                match the blocks; the message says what and how to check it.

        Example:
            >>> import tempfile
            >>> from ledgercore.errors import LedgerValueError
            >>> with tempfile.TemporaryDirectory() as directory:
            ...     try:
            ...         Store.open(directory + "/none", create=False)
            ...     except LedgerValueError as error:
            ...         print("refused:", str(error).split(" at ")[0])
            refused: path: no ledger store
        """
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path: expected a path, got {type(path).__name__}")
        if ledger_id is not None and (not isinstance(ledger_id, bytes) or len(ledger_id) != 16):
            raise LedgerValueError("ledger_id: expected 16 bytes or None (random)")
        path = os.fspath(path)
        writer = not read_only
        _refuse_unless_usable(path, *survey(path), create=create and writer)
        lock_fd = None
        if writer:
            os.makedirs(path, exist_ok=True)
            lock_fd = _take_lock(path)
        try:
            # Surveyed again under the lock: another writer may have created the store meanwhile.
            kind, names = survey(path) if writer else ("store", [])
            _refuse_unless_usable(path, kind, names, create=create and writer)
            exists = kind == "store"
            head = cls._probe(path) if exists and writer else None
            store = cls(path, _open_rocksdb(path, read_only=read_only, create=not exists),
                        read_only, lock_fd)  # fmt: skip
        except BaseException:
            if lock_fd is not None:
                os.close(lock_fd)
            raise
        try:
            if not exists:
                store._initialise(secrets.token_bytes(16) if ledger_id is None else ledger_id)
            version = store._check_format()
            if check_head or writer:
                store._check_head()
            else:
                store._head = BlockHeader.genesis()
            if head is not None and store._head != head:
                raise StoreCorruptedError(
                    f"{path}: opened for writing at block {store._head.height}, but read at "
                    f"block {head.height} just before; " + CHECK_HINT.format(path=path)
                )
            if version != FORMAT_VERSION and writer:
                store._write_meta_format()
            if writer:
                store._head_fd = os.open(os.path.join(path, HEAD_FILE), os.O_RDWR)
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def _probe(cls, path: str) -> BlockHeader:
        """Check, read-only, that a store holds what its head says before a writer opens it.

        RocksDB's writer repairs on opening what it takes for leftovers: it deletes every table
        file its MANIFEST does not name, which, for a MANIFEST that lost its last records, is
        the only copy of blocks its head still names. So a writer opens the store read-only
        first, checks the format, the head (and the head file), everything the head's block
        wrote, and, when a table file is not named by the MANIFEST, every block's entries:
        such a file is a flush or compaction cut short only if nothing is missing without it.
        Returns the head it found.
        """
        probe = cls(path, _open_rocksdb(path, read_only=True, create=False), True, None)
        try:
            probe._check_format()
            probe._check_head()
            head = probe.head()
            missing = probe._missing_from_block(head)
            unnamed = probe._unnamed_tables()
            if missing is None and unnamed:
                missing = probe._missing_from_any_block()
            if missing is not None:
                refused = f"{path}: {missing}; the store was not opened for writing"
                if unnamed:
                    refused += (
                        f" (table files {', '.join(unnamed)} are not named by its MANIFEST, "
                        "which lost records: a writer's opening would delete them)"
                    )
                raise StoreCorruptedError(
                    f"{refused}; " + CHECK_HINT.format(path=path) + ", and restore the store "
                    "from a sound copy"
                )
            return head
        finally:
            probe.close()

    def _initialise(self, ledger_id: bytes) -> None:
        genesis = BlockHeader.genesis(ledger_id=ledger_id)
        self._write_meta_format()
        head_path = os.path.join(self.path, HEAD_FILE)
        self._head_fd = os.open(head_path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        self.write_block(
            genesis,
            Body(
                BlockKind.genesis,
                numpy.zeros(0, records.TRANSFER_DTYPE),
                numpy.zeros(0, numpy.uint8),
            ),
        )
        # The head file is part of the store from its first block on (a store without one is
        # refused), so it and its name are made durable once, here.
        os.fsync(self._head_fd)
        directory = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        os.close(self._head_fd)
        self._head_fd = None

    def _write_meta_format(self) -> None:
        from rocksdict import WriteBatch

        batch = WriteBatch(raw_mode=True)
        value = FORMAT_MAGIC + struct.pack("<I", FORMAT_VERSION)
        batch.put(b"format", value, self._handles["meta"])
        self._db.write(batch, _sync_options())

    def _check_format(self) -> int:
        """The store's format version, refused unless this ledgercore reads it."""
        value = self._cf["meta"].get(b"format")
        hint = CHECK_HINT.format(path=self.path)
        if value is None:
            raise StoreCorruptedError(f"{self.path}: no format version in meta; {hint}")
        if len(value) != len(FORMAT_MAGIC) + 4 or not value.startswith(FORMAT_MAGIC):
            raise StoreCorruptedError(f"{self.path}: not a ledgercore store format; {hint}")
        (version,) = struct.unpack_from("<I", value, len(FORMAT_MAGIC))
        if version not in FORMAT_VERSIONS_READ:
            raise StoreCorruptedError(
                f"{self.path}: store format version {version}, this ledgercore reads version "
                f"{FORMAT_VERSION}; open it with the ledgercore that wrote it, or {hint}"
            )
        return version

    def _check_head(self) -> None:
        hint = CHECK_HINT.format(path=self.path)
        value = self._cf["meta"].get(b"head")
        if value is None or len(value) != _HEAD.size:
            raise StoreCorruptedError(f"{self.path}: the head is missing or malformed; {hint}")
        height, head_hash = _HEAD.unpack(value)
        header = self.block(height)
        if header is None:
            raise StoreCorruptedError(
                f"{self.path}: the head names block {height}, which is missing; {hint}"
            )
        if header.hash != head_hash:
            raise StoreCorruptedError(
                f"{self.path}: block {height} has hash {header.hash.hex()}, the head says "
                f"{head_hash.hex()}; {hint}"
            )
        if self._cf["blocks"].get(height_key(height + 1)) is not None:
            raise StoreCorruptedError(
                f"{self.path}: block {height + 1} is stored past the head {height}; {hint}"
            )
        try:
            acknowledged, acknowledged_hash = read_head_file(self.path)
        except StoreCorruptedError as error:
            if height > 0:
                raise
            # The head file is written just after the genesis block, so a creation cut short
            # between the two leaves this; nothing was ever acknowledged in such a store.
            raise StoreCorruptedError(
                f"{error}; the store holds only its genesis block: if creating it was cut "
                "short, remove the directory and create the store again"
            ) from None
        if acknowledged > height:
            raise StoreCorruptedError(
                f"{self.path}: the store ends at block {height} but block {acknowledged} was "
                f"acknowledged (a log or table file is truncated or missing); {hint}"
            )
        if acknowledged == height and acknowledged_hash != head_hash:
            raise StoreCorruptedError(
                f"{self.path}: the head file {HEAD_FILE} names block {height} with hash "
                f"{acknowledged_hash.hex()}, the store's block {height} has hash "
                f"{head_hash.hex()} (the file is another store's); {hint}"
            )
        self._head = header

    def _missing_from_block(
        self, header: BlockHeader, previous: BlockHeader | None = None
    ) -> str | None:
        """What the store lacks of what block `header` wrote (its body, state changes, new
        accounts' entries, log nodes), in words; None if it lacks nothing."""
        height = header.height
        raw = self.raw_body(height)
        if raw is None or blake3(raw) != header.body_hash:
            return f"the body of block {height} is missing or does not match its header"
        if height == 0:
            return None
        previous = previous or self.block(height - 1)
        if previous is None or header.prev_hash != previous.hash:
            return f"block {height - 1} is missing or is not the one block {height} names"
        changed = (header.state_root, header.state_size) != (
            previous.state_root,
            previous.state_size,
        )
        if changed and self.state_entry(height) is None:
            return f"the state changes of block {height} are missing"
        if header.kind == BlockKind.accounts:
            body = Body.from_bytes(raw)
            for account_id in records.u128(body.records["id"][body.results == 0]):
                if self.account_entry(account_id) is None:
                    return f"the entry of account {account_id}, created at {height}, is missing"
        for level in range(LOG_LEVEL_STRIDE, 64, LOG_LEVEL_STRIDE):
            first, stop = previous.log_size >> level, header.log_size >> level
            if first == stop:
                break
            value = self._cf["log"].get(log_key(level, first))
            if value is None or len(value) != 32 * (stop - first):
                return f"the log nodes block {height} completed at level {level} are missing"
        return None

    def _missing_from_any_block(self) -> str | None:
        """What the store lacks of what its blocks wrote, the first block first; None if
        nothing. Reads every block."""
        previous = None
        for height in range(self._head.height + 1):
            header = self.block(height)
            if header is None:
                return f"block {height} is missing"
            missing = self._missing_from_block(header, previous)
            if missing is not None:
                return missing
            previous = header
        return None

    def _unnamed_tables(self) -> list[str]:
        """The table files in the store's directory that its MANIFEST does not name."""
        try:
            named = {os.path.basename(table["name"]) for table in self._db.live_files()}
        except Exception as error:  # rocksdict raises RocksDB's status as a bare Exception
            raise _unreadable(self.path, "the list of its table files", error) from error
        return sorted(
            name for name in os.listdir(self.path) if name.endswith(".sst") and name not in named
        )

    # ------------------------------------------------------------------------ writing

    def write_block(
        self,
        header: BlockHeader,
        body: Body,
        log_nodes: list[tuple[int, int, numpy.ndarray]] | None = None,
        state: tuple[numpy.ndarray, numpy.ndarray] | None = None,
        new_accounts: tuple[numpy.ndarray, numpy.ndarray] | None = None,
        raw_body: bytes | None = None,
    ) -> None:
        """Write one block in one synced WriteBatch, the head with it; returns once durable.

        Args:
            header: the block's header; its height must follow the head's.
            body: its body (header.body_hash must be BLAKE3 of body.to_bytes()).
            log_nodes: MerkleLog.new_nodes of the block.
            state: (slots, account records) the block changed.
            new_accounts: (ids as (n, 2) lanes, slots) of the accounts the block created.
            raw_body: body.to_bytes(), when the caller has it already.

        Raises:
            LedgerValueError: the store is read-only, or the height does not follow the head.
        """
        from rocksdict import WriteBatch

        if self.read_only:
            raise LedgerValueError(f"{self.path}: the store is open read-only")
        expected = 0 if header.height == 0 else self._head.height + 1
        if header.height != expected:
            raise LedgerValueError(f"header: height {header.height}, expected {expected}")
        handles = self._handles
        key = height_key(header.height)
        batch = WriteBatch(raw_mode=True)
        batch.put(key, header.to_bytes(), handles["blocks"])
        batch.put(key, body.to_bytes() if raw_body is None else raw_body, handles["bodies"])
        for level, first, hashes in stored_log_nodes(log_nodes or ()):
            batch.put(log_key(level, first), hashes.tobytes(), handles["log"])
        if state is not None and len(state[0]):
            full = header.kind == BlockKind.accounts
            batch.put(key, encode_state(*state, full=full), handles["state"])
        if new_accounts is not None:
            ids, slots = new_accounts
            raw_ids = numpy.ascontiguousarray(ids, dtype="<u8")
            for row in range(len(slots)):
                entry = _ACCOUNT_ENTRY.pack(int(slots[row]), header.height)
                batch.put(raw_ids[row].tobytes(), entry, handles["accounts"])
        batch.put(b"head", _HEAD.pack(header.height, header.hash), handles["meta"])
        self._db.write(batch, _sync_options())
        self._head = header
        assert self._head_fd is not None
        text = f"{header.height} {header.hash.hex()}\n".encode()
        os.pwrite(self._head_fd, text.ljust(96), 0)

    def put_meta(self, key: bytes, value: bytes) -> None:
        """Write one value of the meta family (not b"format" or b"head"), synced."""
        from rocksdict import WriteBatch

        if self.read_only:
            raise LedgerValueError(f"{self.path}: the store is open read-only")
        assert key not in (b"format", b"head")
        batch = WriteBatch(raw_mode=True)
        batch.put(key, value, self._handles["meta"])
        self._db.write(batch, _sync_options())

    # ------------------------------------------------------------------------ reading

    def meta(self, key: bytes) -> bytes | None:
        """One value of the meta family, None if there is none."""
        return self._cf["meta"].get(key)

    def head(self) -> BlockHeader:
        """The last complete block's header."""
        return self._head

    def head_height(self) -> int:
        """The last complete block's height."""
        return self._head.height

    def block(self, height: int) -> BlockHeader | None:
        """The header at `height`, None if there is none; StoreCorruptedError if unreadable."""
        value = self._cf["blocks"].get(height_key(height))
        if value is None:
            return None
        try:
            header = BlockHeader.from_bytes(value)
        except LedgerValueError as error:
            raise StoreCorruptedError(
                f"{self.path}: block {height}: {error}; " + CHECK_HINT.format(path=self.path)
            ) from None
        if header.height != height:
            raise StoreCorruptedError(
                f"{self.path}: block {height} says it is at height {header.height}; "
                + CHECK_HINT.format(path=self.path)
            )
        return header

    def raw_body(self, height: int) -> bytes | None:
        """A block body's stored bytes, None if there are none."""
        return self._cf["bodies"].get(height_key(height))

    def body(self, height: int) -> Body:
        """A block's body, parsed; StoreCorruptedError if it is missing or malformed."""
        value = self.raw_body(height)
        if value is None:
            raise StoreCorruptedError(
                f"{self.path}: the body of block {height} is missing; "
                + CHECK_HINT.format(path=self.path)
            )
        try:
            return Body.from_bytes(value)
        except LedgerValueError as error:
            raise StoreCorruptedError(
                f"{self.path}: block {height}: {error}; " + CHECK_HINT.format(path=self.path)
            ) from None

    def iter_column(self, name: str, start: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
        """(key, value) of a column family in key order, from `start`; StoreCorruptedError if
        a table cannot be read (RocksDB ends the iteration there and says why only when asked)."""
        return self._cf[name].iter_from(start)

    def state_entry(self, height: int) -> tuple[numpy.ndarray, numpy.ndarray] | None:
        """(slots, accounts) a block changed, None if it changed none."""
        value = self._cf["state"].get(height_key(height))
        if value is None:
            return None
        try:
            return decode_state(value)
        except LedgerValueError as error:
            raise StoreCorruptedError(
                f"{self.path}: block {height}: {error}; " + CHECK_HINT.format(path=self.path)
            ) from None

    def account_entry(self, account_id: int) -> tuple[int, int] | None:
        """(state slot, creating height) of an account, None if there is no such account."""
        value = self._cf["accounts"].get(records.lanes(account_id).tobytes())
        if value is None:
            return None
        if len(value) != _ACCOUNT_ENTRY.size:
            raise StoreCorruptedError(
                f"{self.path}: the entry of account {account_id} is malformed; "
                + CHECK_HINT.format(path=self.path)
            )
        slot, height = _ACCOUNT_ENTRY.unpack(value)
        return slot, height

    def disk_size(self) -> int:
        """Bytes of the store's files on disk (the ledger's snapshot, if any, among them)."""
        total = 0
        for name in os.listdir(self.path):
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(self.path, name))
        return total

    # ------------------------------------------------------------------------ copies

    def checkpoint(self, destination: str | os.PathLike[str]) -> BlockHeader:
        """Copy the store as it is at its head into a new directory, as a store of its own.

        RocksDB's checkpoint flushes what is still in the write-ahead log and links (or copies)
        the table files; blocks are written one synced batch at a time by this writer, so the
        copy ends at a block. The copy gets its own head file and no snapshot: its first open
        applies its blocks.

        Args:
            destination: a path where nothing is yet (its parent must exist).

        Returns:
            The header of the head block the copy holds.

        Raises:
            LedgerValueError: the store is read-only (a read-only opener cannot flush the log,
                so its copy would lack the newest blocks), or something is at destination.
        """
        from rocksdict import Checkpoint

        if self.read_only:
            raise LedgerValueError(
                f"{self.path}: a copy is made by the store's writer; a read-only opener cannot "
                "flush the write-ahead log, and its copy would lack the newest blocks"
            )
        target = os.fspath(destination)
        if os.path.lexists(target):
            raise LedgerValueError(f"destination: {target} exists; give a path where nothing is")
        head = self.head()
        try:
            Checkpoint(self._db).create_checkpoint(target)
        except Exception as error:  # rocksdict raises bare Exceptions for RocksDB's errors
            if isinstance(error, OSError):
                raise
            raise LedgerError(f"{self.path}: the copy to {target} failed: {error}") from None
        fd = os.open(os.path.join(target, HEAD_FILE), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, f"{head.height} {head.hash.hex()}\n".encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        directory = os.open(target, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return head

    # ------------------------------------------------------------------------ closing

    def close(self) -> None:
        """Close the store and release its lock; calling it again does nothing."""
        if self._db is None:
            return
        db, self._db = self._db, None
        self._cf = {}
        self._handles = {}
        try:
            db.close()
        finally:
            if self._head_fd is not None:
                os.close(self._head_fd)
                self._head_fd = None
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    @property
    def closed(self) -> bool:
        """True once close() has run."""
        return self._db is None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Family:
    """A column family whose every read turns RocksDB's errors (a table's block checksum
    mismatch, a table file missing or cut short) into StoreCorruptedError naming the store, what
    was being read and what to do: rocksdict raises them as bare Exceptions, which a caller
    could neither tell from a bug nor act on."""

    def __init__(self, path: str, name: str, family: Any) -> None:
        self._path = path
        self._name = name
        self._family = family

    def get(self, key: bytes) -> bytes | None:
        """The value at key, None if there is none."""
        try:
            return self._family.get(key)
        except Exception as error:  # rocksdict raises every RocksDB status as a bare Exception
            raise _unreadable(self._path, _described(self._name, key), error) from error

    def iter_from(self, start: bytes) -> Iterator[tuple[bytes, bytes]]:
        """(key, value) in key order from `start`."""
        last = None
        try:
            iterator = self._family.iter()
            iterator.seek(start)
            while iterator.valid():
                last = iterator.key()
                yield last, iterator.value()
                iterator.next()
            iterator.status()
        except Exception as error:
            where = f"the {self._name} family"
            if last is not None:
                where += f" after {_described(self._name, last)}"
            raise _unreadable(self._path, where, error) from error


def _described(family: str, key: bytes) -> str:
    """What a key of a family holds, in words: "the body of block 3", "the entry of account 7"."""
    if family in ("blocks", "bodies", "state") and len(key) == 8:
        what = {"blocks": "the header", "bodies": "the body", "state": "the state changes"}
        return f"{what[family]} of block {int.from_bytes(key, 'big')}"
    if family == "log" and len(key) == 9:
        return f"the log nodes at level {key[0]} from index {int.from_bytes(key[1:], 'big')}"
    if family == "accounts" and len(key) == 16:
        return f"the entry of account {int.from_bytes(key, 'little')}"
    return f"the {family} record {key!r}"


def _unreadable(path: str, what: str, error: BaseException) -> StoreCorruptedError:
    """The error for a read RocksDB refused: the store, what was read and what to do."""
    return StoreCorruptedError(
        f"{path}: the store is damaged: RocksDB could not read {what} ({error}); "
        + CHECK_HINT.format(path=path)
        + ", and restore the store from a sound copy"
    )


def survey(path: str | os.PathLike[str]) -> tuple[str, list[str]]:
    """What is at a store's path, before anything is opened or written there.

    Returns:
        (kind, names): kind is "missing" (nothing at path), "file" (not a directory), "empty"
        (a directory holding nothing, or only a writer's lock file), "store" (RocksDB's
        CURRENT file is there), "partial" (files of a store, but no CURRENT: a partial copy,
        or a store that lost it) or "other" (files, none of them a store's); names are the
        files that decided it ("partial": the store's files found, "other": the files found).

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as directory:
        ...     before = survey(directory + "/ledger")
        ...     Store.open(directory + "/ledger").close()
        ...     os.remove(directory + "/ledger/CURRENT")
        ...     after = survey(directory + "/ledger")
        >>> before, after[0], HEAD_FILE in after[1]
        (('missing', []), 'partial', True)
    """
    path = os.fspath(path)
    if not os.path.lexists(path):
        return "missing", []
    if not os.path.isdir(path):
        return "file", []
    names = sorted(name for name in os.listdir(path) if name != LOCK_FILE)
    if not names:
        return "empty", []
    if "CURRENT" in names:
        return "store", ["CURRENT"]
    # ledgercore's own files first: they say most plainly whose files these are.
    traces = sorted(
        (name for name in names if _is_store_file(name)),
        key=lambda name: (not name.startswith("ledgercore."), name),
    )
    if traces:
        return "partial", traces
    return "other", names


def _is_store_file(name: str) -> bool:
    """Whether a file of this name is one a store holds (RocksDB's or ledgercore's own)."""
    return (
        name in _STORE_FILES
        or name.startswith(_STORE_FILE_PREFIXES)
        or name.endswith(_STORE_FILE_SUFFIXES)
    )


_STORE_FILES = frozenset(
    {"CURRENT", "IDENTITY", "LOCK", "LOG", HEAD_FILE, SNAPSHOT_FILE, "rocksdict-config.json"}
)
_STORE_FILE_PREFIXES = ("MANIFEST-", "OPTIONS-", "LOG.old.", SNAPSHOT_FILE)
_STORE_FILE_SUFFIXES = (".sst", ".log", ".blob")
_NAMES_SHOWN = 6


def _shown(names: list[str]) -> str:
    more = len(names) - _NAMES_SHOWN
    return ", ".join(names[:_NAMES_SHOWN]) + (f" and {more} more" if more > 0 else "")


def _refuse_unless_usable(path: str, kind: str, names: list[str], *, create: bool) -> None:
    """Refuse, before anything is written, a path that is not a store and may not become one:
    a store is made only where nothing is, and one that lost files is never made anew."""
    if kind == "store" or (create and kind in ("missing", "empty")):
        return
    if kind == "file":
        raise LedgerValueError(
            f"path: {path} is a file, not a store's directory; give the directory of a store, "
            "or a new or empty one to create a store in"
        )
    if kind == "partial":
        raise StoreCorruptedError(
            f"{path}: holds files of a ledgercore store ({_shown(names)}) but not RocksDB's "
            "CURRENT file: a partial copy or a damaged store, so it was neither opened nor made "
            "anew, and nothing was written. Copy the whole store directory (CURRENT, MANIFEST-*, "
            "*.log, *.sst and ledgercore.*) or restore it from a sound copy; "
            + CHECK_HINT.format(path=path)
        )
    if kind == "other" and create:
        raise LedgerValueError(
            f"path: {path} holds other files ({_shown(names)}) and no ledgercore store; give "
            "a new or empty directory to create a store in, and nothing was written"
        )
    found = f" (it holds other files: {_shown(names)})" if kind == "other" else ""
    raise LedgerValueError(f"path: no ledger store at {path}{found}")


def read_head_file(path: str) -> tuple[int, bytes]:
    """(height, hash) of the last block acknowledged to a writer, from a store's head file.

    Every writer rewrites the file after each synced block, and the store's own head must
    reach that block: the file is what tells a store that lost acknowledged blocks (a log
    file cut short, a partial copy) from one that never had them, so a store without it is
    refused rather than trusted.

    Raises:
        StoreCorruptedError: the file is missing, empty or malformed.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as directory:
        ...     Store.open(directory + "/ledger", ledger_id=b"L" * 16).close()
        ...     height, block_hash = read_head_file(directory + "/ledger")
        >>> height, block_hash == BlockHeader.genesis(ledger_id=b"L" * 16).hash
        (0, True)
    """
    head_path = os.path.join(path, HEAD_FILE)
    hint = CHECK_HINT.format(path=path)
    why = (
        "it names the last block acknowledged to a writer, without which blocks the store "
        "lost cannot be told from blocks it never had; copy it back from where the store "
        f"came from, or restore the whole store from a sound copy; {hint}"
    )
    try:
        with open(head_path, "rb") as file:
            text = file.read(4096)
    except FileNotFoundError:
        raise StoreCorruptedError(f"{path}: the head file {HEAD_FILE} is missing: {why}") from None
    except OSError as error:
        raise StoreCorruptedError(
            f"{path}: the head file cannot be read ({error}); {hint}"
        ) from None
    words = text.split()
    if not words:
        raise StoreCorruptedError(f"{path}: the head file {HEAD_FILE} is empty: {why}")
    try:
        height, block_hash = int(words[0]), bytes.fromhex(words[1].decode())
        if len(words) != 2 or height < 0 or len(block_hash) != 32:
            raise ValueError("expected a height and a 32-byte hash")
    except (ValueError, IndexError, UnicodeDecodeError):
        raise StoreCorruptedError(
            f"{path}: the head file {HEAD_FILE} is malformed ({text[:100]!r}): {why}"
        ) from None
    return height, block_hash


def _open_rocksdb(path: str, *, read_only: bool, create: bool) -> Any:
    """The store's RocksDB, its errors raised as StoreCorruptedError."""
    from rocksdict import AccessType, Rdict

    options = _options(create=create)
    families = {name: _options(create=create) for name in COLUMN_FAMILIES}
    access = AccessType.read_only() if read_only else AccessType.read_write()
    try:
        return Rdict(path, options, column_families=families, access_type=access)
    except Exception as error:  # rocksdict raises RocksDB's status as a bare Exception
        raise StoreCorruptedError(
            f"{path}: RocksDB refused to open the store ({error}); " + CHECK_HINT.format(path=path)
        ) from None


def _options(*, create: bool) -> Any:
    """RocksDB options of the database and of each of its column families."""
    from rocksdict import DBCompressionType, Options

    options = Options(raw_mode=True)
    options.create_if_missing(create)
    options.create_missing_column_families(create)
    options.set_paranoid_checks(True)
    write_buffer_bytes = _write_buffer_bytes()
    options.set_write_buffer_size(write_buffer_bytes)
    # Every block is a synced write to the write-ahead log. A recycled log file is overwritten
    # in place: its pages are in memory and on disk already, so a sync writes data and no file
    # size, and no fresh page is zeroed for each megabyte logged. Its records carry their log's
    # number, so what an earlier use left past the end is never read as new (RocksDB recovers
    # to the last whole batch in this point-in-time mode, recycled or not).
    options.set_recycle_log_file_num(WAL_FILES_RECYCLED)
    # The meta family takes the head at every block, so every log file holds some of it and
    # none is released until meta is flushed too: without a bound, logs would pile up to
    # gigabytes (RocksDB's default bound is four times every family's write buffers) before
    # meta was flushed, and a reopening after a crash would read them all again.
    options.set_max_total_wal_size(WAL_WRITE_BUFFERS_MAX * write_buffer_bytes)
    # No family is compressed. Log nodes are hashes, which do not compress. Bodies and state
    # entries are packed already (wordpack); LZ4 takes a fifth to a third more off them, but
    # it runs over every table RocksDB writes, in the background, on the cores that verify
    # the next batches' signatures: about 0.7 ms of CPU per block of 8,190 transfers, to keep
    # the store a tenth to a sixth smaller. Tables an earlier version wrote with LZ4 still read
    # back (each block of a table names its compression).
    options.set_compression_type(DBCompressionType.none())
    return options


def _write_buffer_bytes() -> int:
    """Bytes a column family collects in memory before RocksDB writes them to a table file:
    LEDGERCORE_WRITE_BUFFER_BYTES, default WRITE_BUFFER_BYTES_DEFAULT. Smaller saves memory and
    flushes (and recycles its log files) more often; the crash tests use that."""
    text = os.environ.get("LEDGERCORE_WRITE_BUFFER_BYTES")
    if not text:
        return WRITE_BUFFER_BYTES_DEFAULT
    try:
        size = int(text)
    except ValueError:
        size = 0
    if size < WRITE_BUFFER_BYTES_MIN:
        raise LedgerValueError(
            f"LEDGERCORE_WRITE_BUFFER_BYTES: {text!r}, expected a whole number of bytes, at "
            f"least {WRITE_BUFFER_BYTES_MIN}"
        )
    return size


def _sync_options() -> Any:
    from rocksdict import WriteOptions

    options = WriteOptions()
    options.sync = True
    return options


def _take_lock(path: str) -> int:
    """The writer's lock: an flock on LOCK_FILE holding our process id."""
    lock_path = os.path.join(path, LOCK_FILE)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise StoreLockedError(
            f"{path}: another writer holds the store (process {holder}, lock {lock_path}); "
            "open it read_only=True to read it meanwhile"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd
