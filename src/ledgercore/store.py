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
height lost blocks that were acknowledged (a truncated log file, say) and is refused.

Format 3 stored the log's leaf hashes too and is otherwise format 4: it opens, and its first
writer marks it format 4 (an earlier ledgercore, which would look for leaf hashes of the new
blocks, then refuses it instead of failing on them).

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
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy

from ledgercore import records
from ledgercore._native import wordpack
from ledgercore.blocks import BlockHeader, BlockKind
from ledgercore.errors import LedgerValueError, StoreCorruptedError, StoreLockedError

__all__ = ["FORMAT_VERSION", "Body", "Store"]

FORMAT_VERSION = 4
# Versions this one opens: format 3 differs only by the leaf hashes it kept in the log family.
FORMAT_VERSIONS_READ = (3, 4)
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
        >>> body = Body(BlockKind.accounts, records.accounts([dict(id=1)]), numpy.zeros(1, "u1"))
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
        if not read_only:
            self._head_fd = os.open(os.path.join(path, HEAD_FILE), os.O_RDWR | os.O_CREAT, 0o644)

    # ------------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        create: bool = True,
        read_only: bool = False,
        check_head: bool = True,
    ) -> Store:
        """Open (or create) a store, check its format version and its head.

        Args:
            path: the store's directory.
            create: make a new store (with its genesis block) when none is there.
            read_only: open without a lock and without writing; any number may do so.
            check_head: refuse a store whose head does not match its blocks (False only to
                examine a damaged store, as `ledgercore verify` does).

        Returns:
            The open Store.

        Raises:
            TypeError: path is not a path.
            LedgerValueError: no store at path and create is False (or read_only).
            StoreLockedError: another writer holds the store, naming its process.
            StoreCorruptedError: another format version, a damaged store, or a head that does
                not match the blocks; the message says what and how to check it.

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
        from rocksdict import AccessType, Rdict

        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path: expected a path, got {type(path).__name__}")
        path = os.fspath(path)
        exists = os.path.exists(os.path.join(path, "CURRENT"))
        if not exists and (read_only or not create):
            raise LedgerValueError(f"path: no ledger store at {path}")
        lock_fd = None
        if not read_only:
            os.makedirs(path, exist_ok=True)
            lock_fd = _take_lock(path)
        try:
            options = _options(create=not exists)
            families = {name: _options(create=not exists) for name in COLUMN_FAMILIES}
            access = AccessType.read_only() if read_only else AccessType.read_write()
            try:
                db = Rdict(path, options, column_families=families, access_type=access)
            except Exception as error:
                raise StoreCorruptedError(
                    f"{path}: RocksDB refused to open the store ({error}); "
                    + CHECK_HINT.format(path=path)
                ) from None
            store = cls(path, db, read_only, lock_fd)
        except BaseException:
            if lock_fd is not None:
                os.close(lock_fd)
            raise
        try:
            if not exists:
                store._initialise()
            version = store._check_format()
            if version != FORMAT_VERSION and not read_only:
                store._write_meta_format()
            if check_head:
                store._check_head()
            else:
                store._head = BlockHeader.genesis()
        except BaseException:
            store.close()
            raise
        return store

    def _initialise(self) -> None:
        genesis = BlockHeader.genesis()
        self._write_meta_format()
        self.write_block(
            genesis,
            Body(
                BlockKind.genesis,
                numpy.zeros(0, records.TRANSFER_DTYPE),
                numpy.zeros(0, numpy.uint8),
            ),
        )

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
        acknowledged = self._acknowledged_height()
        if acknowledged is not None and acknowledged > height:
            raise StoreCorruptedError(
                f"{self.path}: the store ends at block {height} but block {acknowledged} was "
                f"acknowledged (a log or table file is truncated or missing); {hint}"
            )
        self._head = header

    def _acknowledged_height(self) -> int | None:
        try:
            with open(os.path.join(self.path, HEAD_FILE), "rb") as file:
                text = file.read()
        except FileNotFoundError:
            return None
        with contextlib.suppress(ValueError):
            return int(text.split()[0])
        return None

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
            raise unreadable(self._path, _described(self._name, key), error) from error

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
            raise unreadable(self._path, where, error) from error


def _described(family: str, key: bytes) -> str:
    """What a key of a family holds, in words: "the body of block 3", "account 7's entry"."""
    if family in ("blocks", "bodies", "state") and len(key) == 8:
        what = {"blocks": "the header", "bodies": "the body", "state": "the state changes"}
        return f"{what[family]} of block {int.from_bytes(key, 'big')}"
    if family == "log" and len(key) == 9:
        return f"the log nodes at level {key[0]} from index {int.from_bytes(key[1:], 'big')}"
    if family == "accounts" and len(key) == 16:
        return f"the entry of account {int.from_bytes(key, 'little')}"
    return f"the {family} record {key!r}"


def unreadable(path: str, what: str, error: BaseException) -> StoreCorruptedError:
    """The error for a read RocksDB refused: the store, what was read and what to do."""
    return StoreCorruptedError(
        f"{path}: the store is damaged: RocksDB could not read {what} ({error}); "
        + CHECK_HINT.format(path=path)
        + ", and restore the store from a sound copy"
    )


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
