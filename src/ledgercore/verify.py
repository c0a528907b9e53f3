"""Verify a ledger's store from genesis: recompute every block and compare it with what is stored.

For each block in height order: the header parses, names the previous block's hash, and (from
header format 2 on) commits to the Merkle root of all earlier blocks' hashes; the body
is there and hashes to the header's body_hash; applying the body again (every signature verified)
gives the stored result codes; the log size and root, the state size and root and the transfer
count equal the header's; the log nodes and state changes the block completed equal the stored
ones, node by node and slot by slot. Then the store's head names the last block, no acknowledged
block is missing, and money is conserved on every ledger. The first mismatch is reported with its
height, what differs, and the expected and found values.

Example:
    >>> import tempfile
    >>> from ledgercore.store import Store
    >>> with tempfile.TemporaryDirectory() as directory:
    ...     Store.open(directory + "/ledger").close()
    ...     print(verify_store(directory + "/ledger", progress=False))
    ok: 1 blocks, 0 accounts, 0 transfers verified
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy

from ledgercore.blocks import BlockHeader, BlockKind
from ledgercore.errors import InvariantError, LedgerError, StoreCorruptedError
from ledgercore.hashing import blake3
from ledgercore.store import (
    HEAD_FILE,
    Store,
    height_key,
    log_key,
    read_head_file,
    stored_log_nodes,
)

__all__ = ["ChainMismatch", "ChainReport", "verify_store"]


@dataclass(frozen=True)
class ChainMismatch:
    """The first thing found wrong: at which block, what, what was expected and what found."""

    height: int | None
    what: str
    expected: str
    found: str

    def __str__(self) -> str:
        where = "the store" if self.height is None else f"block {self.height}"
        return f"{where}: {self.what}: expected {self.expected}, found {self.found}"


@dataclass
class ChainReport:
    """What verify_store found.

    Example:
        >>> ChainReport().ok
        True
    """

    blocks: int = 0
    accounts: int = 0
    transfers: int = 0
    seconds: float = 0.0
    mismatch: ChainMismatch | None = None
    totals: dict[int, tuple[int, int, int, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True if nothing was found wrong."""
        return self.mismatch is None

    def __str__(self) -> str:
        if self.mismatch is not None:
            return f"FAILED after {self.blocks} good blocks: {self.mismatch}"
        return (
            f"ok: {self.blocks} blocks, {self.accounts} accounts, {self.transfers} transfers "
            "verified"
        )


class _Found(Exception):
    def __init__(self, mismatch: ChainMismatch) -> None:
        super().__init__(str(mismatch))
        self.mismatch = mismatch


def _hex(value: bytes) -> str:
    return bytes(value).hex()


def _expect(height: int | None, what: str, expected: object, found: object) -> None:
    if expected != found:
        if isinstance(expected, bytes):
            expected, found = _hex(expected), _hex(found)  # type: ignore[arg-type]
        raise _Found(ChainMismatch(height, what, str(expected), str(found)))


def verify_store(store: Store | str | os.PathLike[str], *, progress: bool = True) -> ChainReport:
    """Recompute every block of a store from genesis and report the first mismatch.

    Args:
        store: an open Store, or the path of one (opened read-only, even if damaged).
        progress: show a progress bar on stderr.

    Returns:
        A ChainReport; `ok` is False when anything differs, naming the first difference.

    Raises:
        TypeError: store is neither a Store nor a path.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as directory:
        ...     verify_store(directory + "/missing", progress=False).mismatch.what
        'opening the store'
    """
    started = time.perf_counter()
    report = ChainReport()
    opened = None
    if not isinstance(store, Store):
        if not isinstance(store, (str, os.PathLike)):
            raise TypeError(f"store: expected a Store or a path, got {type(store).__name__}")
        try:
            opened = store = Store.open(store, read_only=True, check_head=False)
        except (LedgerError, OSError) as error:
            report.mismatch = ChainMismatch(None, "opening the store", "a readable store",
                                            str(error))  # fmt: skip
            return report
    try:
        _verify(store, report, progress)
    except _Found as found:
        report.mismatch = found.mismatch
    except StoreCorruptedError as error:
        report.mismatch = ChainMismatch(report.blocks, "reading the store", "readable", str(error))
    finally:
        if opened is not None:
            opened.close()
    report.seconds = time.perf_counter() - started
    return report


def _verify(store: Store, report: ChainReport, progress: bool) -> None:
    from tqdm import tqdm

    from ledgercore.machine import Machine
    from ledgercore.merkle import MerkleLog

    machine = Machine(verify_signatures=True)
    history = MerkleLog(threads=1)
    ledger_id: bytes | None = None
    head_value = store._cf["meta"].get(b"head")
    total = int.from_bytes(head_value[:8], "big") + 1 if head_value else None
    previous: BlockHeader | None = None
    with tqdm(total=total, unit="block", disable=not progress, leave=False) as bar:
        for key, value in store.iter_column("blocks"):
            height = int.from_bytes(key, "big")
            _expect(height, "block height", 0 if previous is None else previous.height + 1, height)
            header = _check_block(store, machine, height, value, previous)
            if header.history_root is not None:
                _expect(height, "history_root (blocks 0..height-1)", history.root(),
                        header.history_root)  # fmt: skip
            if header.ledger_id is not None:
                ledger_id = ledger_id or header.ledger_id
                _expect(height, "ledger_id (the same in every block)", ledger_id,
                        header.ledger_id)  # fmt: skip
            history.append(header.hash)
            report.blocks += 1
            report.transfers += header.transfer_count
            report.accounts = header.state_size
            previous = header
            bar.update(1)
    if previous is None:
        raise _Found(ChainMismatch(0, "genesis block", "present", "missing"))
    _check_head(store, previous)
    try:
        report.totals = machine.engine.check_invariants()
    except InvariantError as error:
        raise _Found(ChainMismatch(previous.height, "money conserved", "yes", str(error))) from None


def _check_block(
    store: Store, machine: object, height: int, value: bytes, previous: BlockHeader | None
) -> BlockHeader:
    from ledgercore.machine import Machine
    from ledgercore.store import Body

    assert isinstance(machine, Machine)
    try:
        header = BlockHeader.from_bytes(value)
    except LedgerError as error:
        raise _Found(ChainMismatch(height, "header bytes", "a valid header", str(error))) from None
    _expect(height, "header height", height, header.height)
    if previous is None:
        ledger_id = header.ledger_id or bytes(16)
        _expect(height, "genesis header", BlockHeader.genesis(header.version, ledger_id), header)
    else:
        _expect(height, "prev_hash", previous.hash, header.prev_hash)
        if header.version < previous.version:
            what = "header format (never older than the last)"
            expected = f"{previous.version} or later"
            raise _Found(ChainMismatch(height, what, expected, str(header.version)))
    raw = store.raw_body(height)
    if raw is None:
        raise _Found(ChainMismatch(height, "body", "present", "missing"))
    _expect(height, "body_hash", header.body_hash, blake3(raw))
    try:
        body = Body.from_bytes(raw)
    except LedgerError as error:
        raise _Found(ChainMismatch(height, "body bytes", "a valid body", str(error))) from None
    _expect(height, "body kind", header.kind.name, body.kind.name)
    _expect(height, "record_count", header.record_count, len(body.records))
    if previous is None:
        return header
    _expect(height, "timestamp_ns", machine.clock(header.timestamp_ns), header.timestamp_ns)
    machine.engine.rules = header.rules
    # Each block's signatures are over its own ledger id; a format 1 block's named none.
    machine.engine.ledger_id = header.ledger_id
    try:
        if body.kind == BlockKind.accounts:
            step = machine.accounts(body.records, header.timestamp_ns)
        else:
            step = machine.transfers(body.records, header.timestamp_ns)
    except InvariantError as error:
        raise _Found(ChainMismatch(height, "applying the body", "no error", str(error))) from None
    if not numpy.array_equal(step.results, body.results):
        row = int(numpy.flatnonzero(step.results != body.results)[0])
        _expect(height, f"result of record {row}", int(step.results[row]), int(body.results[row]))
    _expect(height, "block changes the ledger", True, step.changed)
    _expect(height, "transfer_count", step.transfer_count, header.transfer_count)
    _expect(height, "log_size", machine.log.size, header.log_size)
    _expect(height, "log_root", machine.log.root(), header.log_root)
    _expect(height, "state_size", machine.state.size, header.state_size)
    _expect(height, "state_root", machine.state.root(), header.state_root)
    _check_log_nodes(store, height, step.log_nodes)
    _check_state(store, height, step)
    return header


def _check_log_nodes(
    store: Store, height: int, nodes: list[tuple[int, int, numpy.ndarray]]
) -> None:
    for level, first, hashes in stored_log_nodes(nodes):
        stored = store._cf["log"].get(log_key(level, first))
        expected = hashes.tobytes()
        if stored == expected:
            continue
        if stored is None or len(stored) != len(expected):
            found = "missing" if stored is None else f"{len(stored) // 32} hashes"
            raise _Found(
                ChainMismatch(height, f"log nodes at level {level} from {first}",
                              f"{len(hashes)} hashes", found)
            )  # fmt: skip
        row = next(i for i in range(len(hashes)) if stored[32 * i : 32 * i + 32] != expected[
            32 * i : 32 * i + 32])  # fmt: skip
        _expect(height, f"log node (level {level}, index {first + row})",
                expected[32 * row : 32 * row + 32], stored[32 * row : 32 * row + 32])  # fmt: skip


def _check_state(store: Store, height: int, step: object) -> None:
    from ledgercore.machine import Step

    assert isinstance(step, Step)
    entry = store.state_entry(height)
    slots, accounts = entry if entry is not None else (numpy.zeros(0, "<u4"), None)
    _expect(height, "changed state slots", step.state_slots.tolist(), slots.tolist())
    if accounts is None:
        return
    mine = step.state_records
    if accounts.dtype != mine.dtype:
        # A block that created no account keeps only the balances it changed.
        mine = numpy.zeros(len(mine), accounts.dtype)
        for name in accounts.dtype.names:
            mine[name] = step.state_records[name]
    if not numpy.array_equal(accounts.view(numpy.uint8), mine.view(numpy.uint8)):
        differs = accounts.tobytes() != mine.tobytes()
        row = next(i for i in range(len(accounts)) if accounts[i].tobytes() != mine[i].tobytes())
        assert differs
        _expect(height, f"account record in state slot {int(slots[row])}",
                mine[row].tobytes(), accounts[row].tobytes())  # fmt: skip
    if len(step.new_account_ids):
        for row, slot in enumerate(step.state_slots.tolist()):
            raw_id = step.new_account_ids[row].tobytes()
            account_id = int.from_bytes(raw_id, "little")
            _expect(height, f"index entry of account {account_id}", (slot, height),
                    store.account_entry(account_id))  # fmt: skip


def _check_head(store: Store, last: BlockHeader) -> None:
    value = store._cf["meta"].get(b"head")
    if value is None:
        raise _Found(ChainMismatch(None, "head", f"block {last.height}", "missing"))
    head_height = int.from_bytes(value[:8], "big")
    _expect(None, "head height (the last stored block)", last.height, head_height)
    _expect(None, "head hash", last.hash, value[8:40])
    try:
        acknowledged, acknowledged_hash = read_head_file(store.path)
    except StoreCorruptedError as error:
        raise _Found(
            ChainMismatch(None, "head file", f"{HEAD_FILE} naming a block", str(error))
        ) from None
    if acknowledged == last.height:
        _expect(None, f"hash of the block {HEAD_FILE} names", last.hash, acknowledged_hash)
    if acknowledged > last.height:
        raise _Found(
            ChainMismatch(None, "acknowledged blocks", f"up to {acknowledged}",
                          f"up to {last.height} (a log or table file lost blocks)")
        )  # fmt: skip
    assert store._cf["blocks"].get(height_key(last.height)) is not None
