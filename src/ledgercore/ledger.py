"""The Ledger: a durable, hash-chained, provable double-entry ledger on one RocksDB store.

`Ledger.submit` runs the six steps of a batch in order: decode (records.as_records), verify and
validate + apply (Engine.submit: batch Ed25519 verification, then the rules in one native pass),
hash (the accepted transfers' leaf hashes, many at once), commit (log append, state-tree update,
block header) and persist (one synced WriteBatch). It returns only once the block is on disk.

Blocks: every call that changes the ledger's state makes one block. A batch that changes
nothing makes no block and returns None for its header: an empty batch, or one whose every
transfer was refused by a rule about the record alone (a bad signature, a zero id, `exists`).
A transfer refused on the ledger's state (`exceeds_credits`, `account_not_found`, ...) keeps its
id forever (`id_already_failed`), which is a change of state, so such a batch does make a block,
with transfer_count 0; so does a batch at whose clock pending transfers expire.

Reopening replays no signature: the engine is loaded from the snapshot a clean close left (the
log rebuilt from the leaf hashes in it), or else the stored bodies are applied again by the
native engine (signatures marked as stored, each accepted transfer hashed into the log); the
state tree is rebuilt from the engine's accounts, and the results and both roots are compared
with the store's. `verify_chain` recomputes everything from genesis, signatures included.

Clocks: every block has a clock (ns since the epoch), the first timestamp it gives; a batch of n
records takes that clock and the n - 1 nanoseconds after it, so timestamps strictly increase and
`clock_ns` is the last one the head block gave (a batch that makes no block gives its timestamps
back). By default (timestamp_ns=None) a block's clock is the wall clock; if the wall clock has
stepped back behind clock_ns (a correction of a few milliseconds, say), blocks take clock_ns + 1
instead, running slightly ahead of the wall clock until it catches up, and nothing is refused. A
clock the caller gives is never moved: one at or before clock_ns is refused, and so is one more
than `CLOCK_AHEAD_MAX_NS` (a minute) ahead of the wall clock, since every later block and every
pending timeout would follow it; either error says which numbers disagree and changes nothing. To
import history with its own timestamps, give them in increasing order: past clocks pass as they
are, and `Ledger.open(..., clock_ahead_max_ns=None)` lifts the bound for clocks ahead of this
machine's (a simulation run ahead of time, say). Reopening and verify_chain apply each block at its
header's clock, as it was given.

Expiry: a pending transfer with a timeout expires at its timestamp plus timeout_s seconds; its
reservation is released by the first block whose clock has reached that: a transfers batch
(before its first transfer) or `expire()`, which makes a block of expiries alone (a transfers
block with no records). Until then reads still count it as pending (a post or void of it is
refused as expired all the same).

Example:
    >>> import tempfile
    >>> from ledgercore import records
    >>> from ledgercore.keys import SigningKey
    >>> from ledgercore.ledger import Ledger
    >>> alice, bob = SigningKey.from_seed(b"a" * 32), SigningKey.from_seed(b"b" * 32)
    >>> with tempfile.TemporaryDirectory() as directory:
    ...     with Ledger.open(directory + "/ledger") as ledger:
    ...         results, header = ledger.create_accounts(records.accounts([
    ...             dict(id=1, ledger=1, code=1, owner_key=alice.public_key),
    ...             dict(id=2, ledger=1, code=1, owner_key=bob.public_key)]))
    ...         batch = records.transfers([dict(id=100, debit_account_id=1,
    ...                                         credit_account_id=2, amount=250, ledger=1,
    ...                                         code=1)])
    ...         batch["signature"] = alice.sign_many(ledger.signing_bytes(batch))
    ...         results, header = ledger.submit(batch)
    ...     with Ledger.open(directory + "/ledger", read_only=True) as auditor:
    ...         balances = records.to_dicts(auditor.balances([2]))
    ...         report = auditor.verify_chain(progress=False)
    >>> results.tolist(), header.height, balances[0]["credits_posted"], report.ok
    ([0], 2, 250, True)
"""

from __future__ import annotations

import collections
import itertools
import os
import secrets
import time
import warnings
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy

from ledgercore import records
from ledgercore.blocks import BlockHeader, BlockKind
from ledgercore.ed25519 import VerificationQueue
from ledgercore.engine import SignatureCheck
from ledgercore.errors import LedgerError, LedgerValueError, StoreCorruptedError
from ledgercore.hashing import blake3
from ledgercore.ledger_proofs import AccountProof, ChainConsistencyProof, TransferProof
from ledgercore.machine import Machine, Step
from ledgercore.merkle import MerkleLog, StateTree
from ledgercore.proofs import InclusionProof
from ledgercore.snapshot import Snapshot, read_snapshot, write_snapshot
from ledgercore.store import CHECK_HINT, Body, Store, apply_state
from ledgercore.verify import ChainReport, verify_store

__all__ = ["Ledger"]

_U128_IDS = Iterable[int] | numpy.ndarray

_LEDGER_ID_KEY = b"ledger_id"
"""Meta key of the id a store of format 1 headers was given by its first writer of format 5."""

VERIFY_AHEAD_BATCHES = 2
"""Batches submit_many reads and queues for verification beyond the one it is applying."""
VERIFY_LANES = 2
"""Batches submit_many verifies at once, each with every core."""
CLOCK_AHEAD_MAX_NS = 60 * 1_000_000_000
"""How far ahead of this machine's wall clock a caller's clock may be, in ns, by default.

A block's clock becomes the clock of every later one that is not later still, and pending
timeouts run by it, so a clock far ahead would cut every pending transfer short. A minute
covers clocks that NTP keeps in step and the time a batch waits in a queue.
"""


class Ledger:
    """A ledger on disk: accounts, signed transfers, hash-chained blocks and their proofs.

    One writer per store (a second gets StoreLockedError naming the holder); any number of
    read-only openers, each seeing the store as it was when opened. Not thread-safe.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as directory:
        ...     with Ledger.open(directory + "/ledger") as ledger:
        ...         ledger.head().height
        0
    """

    _clock_ahead_max_ns: int | None = CLOCK_AHEAD_MAX_NS

    def __init__(self, store: Store, machine: Machine) -> None:
        """Use Ledger.open."""
        self._store = store
        self._machine = machine
        self._log_sizes: list[int] = []
        self._broken: BaseException | None = None
        self._opened_from = "blocks"
        self._snapshot_status = "no snapshot"
        self._snapshot_height: int | None = None  # the head the store's snapshot is of
        self._checked_heights: set[int] = set()  # blocks whose body this ledger has hashed
        # Leaf i is the hash of block i: a header's history_root is this tree's root at its
        # height, and a proof binds an earlier header to the head by a path in it.
        self._history = MerkleLog(threads=1)
        self._ledger_id: bytes | None = None  # of the format 2 headers, or assigned (meta)

    # ------------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        create: bool = True,
        read_only: bool = False,
        verify_signatures: bool = True,
        clock_ahead_max_ns: int | None = CLOCK_AHEAD_MAX_NS,
        ledger_id: bytes | None = None,
    ) -> Ledger:
        """Open a ledger's store (creating it if asked) and load it.

        Args:
            path: the store's directory.
            create: make a new store when none is there (ignored when read_only).
            read_only: no lock, no writes; submit and create_accounts are refused.
            verify_signatures: verify every transfer's signature in submit; False only when the
                caller verified them already.
            clock_ahead_max_ns: how far ahead of the wall clock, in ns, a clock given to submit,
                submit_many, create_accounts or expire may be. None lifts the bound, for
                importing history that carries its own timestamps, or a simulation run ahead
                of time; clocks must still increase (see the module docstring).
            ledger_id: for a new store, the 16 bytes of its ledger id (default: random, which
                is what a ledger of its own wants; a fixed one makes a reproducible ledger);
                for an existing store, the id it must have, or None; a writer gives it to a
                store whose blocks all predate ledger ids and which has none yet.

        Returns:
            The open Ledger (a context manager; close() is idempotent).

        Raises:
            TypeError: path is not a path, or clock_ahead_max_ns is not an int or None.
            LedgerValueError: no store at path and create is False (or read_only); path is a
                file, or a directory of other files (a store is created only where nothing is);
                or clock_ahead_max_ns is negative.
            StoreLockedError: another writer holds the store.
            StoreCorruptedError: another format version, or a damaged store (a partial copy, a
                missing head file, a table RocksDB cannot read, ...), saying what was found and
                how to check it (`ledgercore verify PATH`); nothing was written.

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as directory:
            ...     ledger = Ledger.open(directory + "/ledger")
            ...     ledger.close(); ledger.close()
            ...     ledger.closed
            True
        """
        ahead_max_ns = _check_ahead_max(clock_ahead_max_ns)
        store = Store.open(path, create=create, read_only=read_only, ledger_id=ledger_id)
        try:
            ledger = cls(store, Machine(verify_signatures=verify_signatures))
            ledger._clock_ahead_max_ns = ahead_max_ns
            ledger._load(ledger_id)
            if ledger_id is not None and ledger._ledger_id != ledger_id:
                found = "none" if ledger._ledger_id is None else ledger._ledger_id.hex()
                raise LedgerValueError(
                    f"ledger_id: the store at {store.path} is ledger {found}, not {ledger_id.hex()}"
                )
        except BaseException:
            store.close()
            raise
        return ledger

    def _load(self, wanted_ledger_id: bytes | None = None) -> None:
        """Load the engine from the store's snapshot when it was made at this head, else apply
        every stored block again (no signature); then check both roots.

        With a snapshot, two threads work beside the engine: one checks the file's hash, one
        rebuilds the log from its leaf hashes (both release the GIL while hashing); no body is
        read, but the headers' hash chain is still followed. Without, one thread reads the
        next bodies and checks their hashes while the engine applies them.
        """
        store = self._store
        head = store.head()
        hint = CHECK_HINT.format(path=store.path)
        snapshot = None
        if head.height > 0:
            snapshot, self._snapshot_status = read_snapshot(store, head.height, head.hash)
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="ledgercore-load") as pool:
            if snapshot is not None:
                snapshot = self._restore(pool, snapshot)
            if snapshot is not None:
                self._opened_from = "snapshot"
                self._snapshot_height = head.height
                self._follow_headers(head, hint)
            else:
                self._machine = Machine(verify_signatures=self._machine.verify_signatures)
                self._replay_all(pool, head, hint)
        root = self._machine.log.root()
        if root != head.log_root:
            source = "the snapshot's leaf hashes give" if snapshot else "the stored bodies give"
            raise StoreCorruptedError(
                f"{store.path}: {source} log root {root.hex()}, the head's log_root is "
                f"{head.log_root.hex()}; {hint}"
            )
        machine = self._machine
        machine.engine.rules = BlockHeader.genesis().rules  # new blocks: the current rules
        self._settle_ledger_id(wanted_ledger_id)
        machine.engine.ledger_id = self._ledger_id
        machine.build_state()
        if machine.state.root() != head.state_root or machine.state.size != head.state_size:
            raise StoreCorruptedError(
                f"{store.path}: the accounts rebuilt from the blocks give state root "
                f"{machine.state.root().hex()}, the head says {head.state_root.hex()}; {hint}"
            )

    def _settle_ledger_id(self, wanted_ledger_id: bytes | None) -> None:
        """The ledger's id: its format 2 headers'; for a store whose blocks are all of format 1,
        the one its first writer gave it (wanted_ledger_id, else random; kept in meta until a
        block names it)."""
        store = self._store
        assigned = store.meta(_LEDGER_ID_KEY)
        if self._ledger_id is not None:
            if assigned is not None and assigned != self._ledger_id:
                raise StoreCorruptedError(
                    f"{store.path}: the blocks name ledger {self._ledger_id.hex()}, the store's "
                    f"meta {assigned.hex()}; " + CHECK_HINT.format(path=store.path)
                )
            return
        if assigned is None and not store.read_only:
            assigned = wanted_ledger_id or secrets.token_bytes(records.LEDGER_ID_SIZE)
            store.put_meta(_LEDGER_ID_KEY, assigned)
        self._ledger_id = assigned

    def _restore(self, pool: ThreadPoolExecutor, snapshot: Snapshot) -> Snapshot | None:
        """Load the engine and the log from the snapshot, checking the file's hash and
        rebuilding the log on the pool meanwhile; None (and the status says why) if the
        snapshot was refused, with the machine left for the caller to replace."""
        log = self._machine.log
        leaves = snapshot.sections.get("log_leaves")
        rebuilt = pool.submit(log.append_leaf_hashes, leaves) if leaves is not None else None
        # A mismatch of the file's hash discards what was loaded.
        intact = pool.submit(snapshot.intact)
        refused = None
        try:
            self._machine.restore(snapshot.sections)
        except (KeyError, ValueError) as error:  # LedgerValueError among them
            refused = f"the snapshot was refused ({error})"
        try:
            if rebuilt is not None:
                rebuilt.result()
        except (TypeError, ValueError) as error:
            refused = refused or f"the snapshot was refused (log_leaves: {error})"
        if not intact.result():
            refused = "the snapshot file does not match its record"
        if refused is None:
            return snapshot
        self._snapshot_status = refused
        return None

    def _follow_headers(self, head: BlockHeader, hint: str) -> None:
        """Check that every stored header names its predecessor's hash, up to the head."""
        store = self._store
        previous: BlockHeader | None = None
        for height in range(head.height + 1):
            previous = self._linked(height, store.block(height), previous, hint)
            self._log_sizes.append(previous.log_size)

    def _replay_all(self, pool: ThreadPoolExecutor, head: BlockHeader, hint: str) -> None:
        """Apply every stored block again, in order, reading bodies ahead on the pool."""
        store = self._store
        previous = None
        for height, header, raw in _read_ahead(pool, store, head.height + 1, window=6):
            previous = self._linked(height, header, previous, hint)
            if raw is None:
                raise _body_refused(store, height)
            self._replay(height, previous, raw, hint)
            self._log_sizes.append(previous.log_size)

    def _linked(
        self, height: int, header: BlockHeader | None, previous: BlockHeader | None, hint: str
    ) -> BlockHeader:
        """The header of block `height`, refused if it is missing or does not name its
        predecessor's hash."""
        path = self._store.path
        if header is None:
            raise StoreCorruptedError(f"{path}: block {height} is missing; {hint}")
        if previous is not None and header.prev_hash != previous.hash:
            raise StoreCorruptedError(
                f"{path}: block {height} does not name block {height - 1}'s hash "
                f"as its previous; {hint}"
            )
        if previous is not None and header.version < previous.version:
            raise StoreCorruptedError(
                f"{path}: block {height} is a format {header.version} header after a format "
                f"{previous.version} one; {hint}"
            )
        if header.ledger_id is not None:
            if self._ledger_id is None:
                self._ledger_id = header.ledger_id
            elif header.ledger_id != self._ledger_id:
                raise StoreCorruptedError(
                    f"{path}: block {height} names ledger {header.ledger_id.hex()}, earlier "
                    f"blocks ledger {self._ledger_id.hex()}; {hint}"
                )
        assert self._history.size == height
        if header.history_root is not None and header.history_root != self._history.root():
            raise StoreCorruptedError(
                f"{path}: block {height}'s history_root does not match the hashes of blocks "
                f"0..{height - 1}; {hint}"
            )
        self._history.append(header.hash)
        return header

    def _parse_body(self, height: int, raw: bytes) -> Body:
        """A checked body's bytes, parsed; StoreCorruptedError if they are malformed."""
        try:
            return Body.from_bytes(raw)
        except LedgerValueError as error:
            raise StoreCorruptedError(
                f"{self._store.path}: block {height}: {error}; "
                + CHECK_HINT.format(path=self._store.path)
            ) from None

    def _replay(self, height: int, header: BlockHeader, raw: bytes, hint: str) -> None:
        """Apply one stored block again and compare its results with the stored ones."""
        body = self._parse_body(height, raw)
        self._machine.engine.rules = header.rules
        if body.kind == BlockKind.accounts:
            step = self._machine.accounts(body.records, header.timestamp_ns, commit=False)
        elif body.kind == BlockKind.transfers:
            step = self._machine.transfers(
                body.records, header.timestamp_ns, stored_results=body.results, commit=False
            )
        else:
            return
        if not numpy.array_equal(step.results, body.results):
            row = int(numpy.flatnonzero(step.results != body.results)[0])
            raise StoreCorruptedError(
                f"{self._store.path}: block {height}, record {row}: stored result "
                f"{int(body.results[row])}, applying it again gives {int(step.results[row])}; "
                f"{hint}"
            )

    # ------------------------------------------------------------------------ writing

    def create_accounts(
        self, accounts: Any, *, timestamp_ns: int | None = None
    ) -> tuple[numpy.ndarray, BlockHeader | None]:
        """Create accounts in one block, durable before this returns.

        Args:
            accounts: a 1-D ACCOUNT_DTYPE array or its bytes (see Engine.create_accounts).
            timestamp_ns: the block's clock in ns (default: the wall clock); it must be past
                clock_ns and not too far ahead of the wall clock (see the module docstring).
                The i-th account gets the timestamp timestamp_ns + i.

        Returns:
            (results, header): a CreateAccountResult per account, and the new block's header,
            or None when no account was created (no block is made then).

        Raises:
            TypeError, LedgerValueError: a bad argument (a clock behind clock_ns or too far
                ahead included), or a read-only ledger; nothing changed.
            LedgerError: an earlier write failed; reopen the ledger.

        Example:
            >>> import tempfile
            >>> from ledgercore import records
            >>> from ledgercore.keys import SigningKey
            >>> key = SigningKey.from_seed(b"k" * 32).public_key
            >>> with tempfile.TemporaryDirectory() as directory:
            ...     with Ledger.open(directory + "/ledger") as ledger:
            ...         results, header = ledger.create_accounts(records.accounts(
            ...             [dict(id=1, ledger=1, code=1, owner_key=key)]))
            >>> results.tolist(), header.kind.name, header.state_size
            ([0], 'accounts', 1)
        """
        self._check_writable()
        array = records.as_records(accounts, records.ACCOUNT_DTYPE, "accounts")
        base = self._next_clock(_check_clock(timestamp_ns), "timestamp_ns")
        if len(array) == 0:
            return numpy.zeros(0, records.RESULT_DTYPE), None
        step = self._machine.accounts(array, base)
        if not step.changed:
            return step.results, None
        return step.results, self._commit(BlockKind.accounts, array, step, {})

    def submit(
        self,
        transfers: Any,
        *,
        timestamp_ns: int | None = None,
        timings: dict[str, float] | None = None,
    ) -> tuple[numpy.ndarray, BlockHeader | None]:
        """Verify, validate, apply, hash, commit and persist a batch of transfers as one block.

        Args:
            transfers: a 1-D TRANSFER_DTYPE array or its bytes, each signed over
                records.signing_bytes by its debit account's owner.
            timestamp_ns: the block's clock in ns (default: the wall clock); it must be past
                clock_ns and not too far ahead of the wall clock (see the module docstring).
                The i-th transfer gets the timestamp timestamp_ns + i.
            timings: if given, filled with the seconds of each stage: "decode", "verify",
                "apply", "hash", "merkle", "persist".

        Returns:
            (results, header): a TransferResult per transfer, and the new block's header, or
            None when the batch changed nothing (see the module docstring).

        Raises:
            TypeError, LedgerValueError: a bad argument (a clock behind clock_ns or too far
                ahead included), or a read-only ledger; nothing changed.
            InvariantError: the engine found an invariant broken; the batch was undone.
            LedgerError: an earlier write failed; reopen the ledger.

        Example:
            >>> import tempfile
            >>> from ledgercore import records
            >>> with tempfile.TemporaryDirectory() as directory:
            ...     with Ledger.open(directory + "/ledger") as ledger:
            ...         results, header = ledger.submit(records.transfers([]))
            >>> results.tolist(), header
            ([], None)
        """
        self._check_writable()
        started = time.perf_counter()
        array = records.as_records(transfers, records.TRANSFER_DTYPE, "transfers")
        clock = _check_clock(timestamp_ns)
        stages: dict[str, float] = {"decode": time.perf_counter() - started}
        results, header = self._submit_array(array, clock, None, stages)
        if timings is not None:
            timings.update(stages)
        return results, header

    def expire(self, now_ns: int | None = None) -> tuple[int, BlockHeader | None]:
        """Expire the pending transfers whose timeout has lapsed, in a block of expiries.

        A transfers batch expires what is due at its clock before its first transfer; this
        does it without one, so that `balances` stop counting reservations that have lapsed.
        The block is a transfers block with no records (record_count and transfer_count 0) at
        clock now_ns; replaying it (reopening, verify_chain) expires the same transfers.

        Args:
            now_ns: the clock in ns (default: the wall clock); the same rules as submit's
                timestamp_ns: past clock_ns, and not too far ahead of the wall clock.

        Returns:
            (expired, header): how many pending transfers expired, and the new block's
            header, or (0, None) when none was due (no block is made, nothing changes).

        Raises:
            TypeError, LedgerValueError: a bad clock, or a read-only ledger; nothing changed.
            LedgerError: an earlier write failed; reopen the ledger.

        Example:
            >>> import tempfile
            >>> from ledgercore import records
            >>> from ledgercore.keys import SigningKey
            >>> payer = SigningKey.from_seed(b"p" * 32)
            >>> second = 1_000_000_000
            >>> with tempfile.TemporaryDirectory() as directory:
            ...     with Ledger.open(directory + "/ledger") as ledger:
            ...         _ = ledger.create_accounts(records.accounts([
            ...             dict(id=n, ledger=1, code=1, owner_key=payer.public_key)
            ...             for n in (1, 2)]), timestamp_ns=1_700_000_000 * second)
            ...         hold = records.transfers([dict(id=5, debit_account_id=1,
            ...             credit_account_id=2, amount=40, ledger=1, code=1,
            ...             flags=records.TransferFlags.pending, timeout_s=60)])
            ...         hold["signature"] = payer.sign_many(ledger.signing_bytes(hold))
            ...         _ = ledger.submit(hold, timestamp_ns=1_700_000_010 * second)
            ...         early = ledger.expire(1_700_000_020 * second)
            ...         expired, header = ledger.expire(1_700_000_070 * second)
            ...         pending = records.to_dicts(ledger.balances([1]))[0]["debits_pending"]
            >>> early, expired, header.record_count, pending
            ((0, None), 1, 0, 0)
        """
        self._check_writable()
        base = self._next_clock(_check_clock(now_ns, "now_ns"), "now_ns")
        try:
            step = self._machine.expire(base)
        except LedgerError:
            raise
        except BaseException as error:
            self._broken = error
            raise
        if not step.changed:
            return 0, None
        empty = numpy.zeros(0, records.TRANSFER_DTYPE)
        return step.expired_count, self._commit(BlockKind.transfers, empty, step, {})

    def _next_clock(self, timestamp_ns: int | None, name: str) -> int:
        """The clock of the next block: the wall clock, or one past clock_ns while the wall
        clock is behind it; or the caller's clock, refused unless it is past clock_ns and at
        most clock_ahead_max_ns ahead of the wall clock."""
        last = self._machine.engine.last_timestamp_ns
        now = time.time_ns()
        if timestamp_ns is None:
            return max(now, last + 1)
        if timestamp_ns <= last:
            raise LedgerValueError(
                f"{name}: {timestamp_ns} is not after the ledger's clock, clock_ns = {last} (the "
                "last timestamp it gave: a batch of n records takes its clock and the n - 1 "
                "nanoseconds after it); give a later clock, or None for the wall clock; nothing "
                "was changed"
            )
        bound = self._clock_ahead_max_ns
        if bound is not None and timestamp_ns - now > bound:
            raise LedgerValueError(
                f"{name}: {timestamp_ns} is {timestamp_ns - now} ns (about "
                f"{(timestamp_ns - now) // 1_000_000_000} s) ahead of the wall clock {now}, "
                f"more than clock_ahead_max_ns = {bound}; check the caller's clock, or open the "
                "ledger with clock_ahead_max_ns=None to import history with its own timestamps; "
                "nothing was changed"
            )
        return timestamp_ns

    def submit_many(
        self,
        batches: Iterable[Any],
        *,
        timestamps_ns: Iterable[int | None] | None = None,
        timings: list[dict[str, float]] | None = None,
    ) -> Iterator[tuple[numpy.ndarray, BlockHeader | None]]:
        """Submit a stream of batches, one block each, checking the signatures of the next batch
        while this one is applied, hashed and stored.

        Each batch is handled exactly as `submit` would (same rules, results and blocks); what
        changes is the overlap: signature verification, which needs only the accounts' owner
        keys, runs on other threads while the previous block is being made and synced, so the
        cores keep verifying while the disk syncs. A batch is applied only when the iteration
        reaches it, and its (results, header) is yielded once its block is durable: stopping
        the iteration early leaves the batches after the last one yielded unapplied.

        Args:
            batches: an iterable of TRANSFER_DTYPE arrays (or their bytes), read up to
                VERIFY_AHEAD_BATCHES ahead of the one being applied.
            timestamps_ns: each batch's clock in ns (None entries, or None for all: the wall
                clock), checked as submit checks it when the batch is applied: past clock_ns
                as the batches before it left it, and not too far ahead of the wall clock.
            timings: if given, a dict per batch is appended, with the seconds of "decode",
                "verify" (the wait for its signatures, on the critical path), "apply", "hash",
                "merkle", "persist", and "verify_overlapped" (the whole verification, mostly
                hidden behind the previous block) and "latency" (from reading the batch to
                yielding it).

        Returns:
            An iterator of (results, header) as `submit` returns them, in batch order.

        Raises:
            TypeError, LedgerValueError: a bad batch (raised when the iteration reaches it,
                after the batches before it were yielded), or a read-only ledger.
            InvariantError, LedgerError: as for `submit`.

        Example:
            >>> import tempfile
            >>> from ledgercore import records
            >>> from ledgercore.keys import SigningKey
            >>> payer = SigningKey.from_seed(b"p" * 32)
            >>> with tempfile.TemporaryDirectory() as directory:
            ...     with Ledger.open(directory + "/ledger") as ledger:
            ...         _ = ledger.create_accounts(records.accounts([
            ...             dict(id=n, ledger=1, code=1, owner_key=payer.public_key)
            ...             for n in (1, 2)]))
            ...         batches = [records.transfers([dict(id=10 + n, debit_account_id=1,
            ...                                             credit_account_id=2, amount=5,
            ...                                             ledger=1, code=1)])
            ...                    for n in range(3)]
            ...         for batch in batches:
            ...             batch["signature"] = payer.sign_many(ledger.signing_bytes(batch))
            ...         blocks = [header.height for _, header in ledger.submit_many(batches)]
            >>> blocks
            [2, 3, 4]
        """
        self._check_writable()
        clocks: Iterator[int | None] = (
            itertools.repeat(None) if timestamps_ns is None else iter(timestamps_ns)
        )
        return self._pipeline(iter(batches), clocks, timings)

    def _pipeline(
        self,
        batches: Iterator[Any],
        clocks: Iterator[int | None],
        timings: list[dict[str, float]] | None,
    ) -> Iterator[tuple[numpy.ndarray, BlockHeader | None]]:
        engine = self._machine.engine
        verify = self._machine.verify_signatures
        # Native threads verify the queued batches back to back: they need no GIL between them,
        # so the synced writes and engine calls of this thread never leave them idle. Two
        # batches wait in the queue, and two are verified at once (each on all cores), so the
        # stretches of one batch that run on a single thread, and a sync that stalls for longer
        # than one verification, still find the cores busy.
        queue = VerificationQueue(lanes=VERIFY_LANES) if verify else None
        waiting: collections.deque[_Queued] = collections.deque()
        for number, batch in enumerate(batches):
            started = time.perf_counter()
            try:
                array = records.as_records(batch, records.TRANSFER_DTYPE, "transfers")
                try:
                    clock = _check_clock(next(clocks), f"timestamps_ns[{number}]")
                except StopIteration:
                    raise LedgerValueError(
                        f"timestamps_ns: ran out at batch {number}; give one per batch"
                    ) from None
                # Gathering reads the engine's accounts, so it stays on this thread.
                decoded = time.perf_counter()
                check = engine.gather_signatures(array) if verify and len(array) else None
            except BaseException:
                while waiting:
                    yield self._finish_queued(waiting.popleft(), timings)
                raise
            queued = _Queued(array, clock, None, started, decoded - started)
            queued.gather = time.perf_counter() - decoded
            queued.account_count = engine.account_count
            queued.number = number
            if check is not None:
                assert queue is not None
                check.start(queue)
                queued.check = check
            waiting.append(queued)
            if len(waiting) > VERIFY_AHEAD_BATCHES:
                yield self._finish_queued(waiting.popleft(), timings)
        while waiting:
            yield self._finish_queued(waiting.popleft(), timings)

    def _finish_queued(
        self, queued: _Queued, timings: list[dict[str, float]] | None
    ) -> tuple[numpy.ndarray, BlockHeader | None]:
        self._check_writable()
        stages = {"decode": queued.decode}
        check = None
        if queued.check is not None:
            waited = time.perf_counter()
            check = queued.check.finish()
            if self._machine.engine.account_count != queued.account_count:
                # Accounts were created between gathering and now (the caller did so between
                # two yields): a transfer from one of them found no owner key then.
                check = self._regathered(queued.array, check)
            stages["verify"] = queued.gather + time.perf_counter() - waited
            stages["verify_overlapped"] = queued.gather + check.seconds
        results, header = self._submit_array(
            queued.array, queued.clock, check, stages, f"timestamps_ns[{queued.number}]"
        )
        if timings is not None:
            stages["latency"] = time.perf_counter() - queued.started
            timings.append(stages)
        return results, header

    def _regathered(self, array: numpy.ndarray, check: SignatureCheck) -> SignatureCheck:
        """check as it is, unless accounts created since it was gathered own some of its
        transfers' debit accounts: then a check of the whole batch, gathered and run now."""
        if check.found.all():
            return check
        fresh = self._machine.engine.gather_signatures(array)
        if numpy.array_equal(fresh.found, check.found):
            return check
        return fresh.run()

    def _submit_array(
        self,
        array: numpy.ndarray,
        clock: int | None,
        check: SignatureCheck | None,
        stages: dict[str, float],
        clock_name: str = "timestamp_ns",
    ) -> tuple[numpy.ndarray, BlockHeader | None]:
        """Apply one decoded batch (with its signatures checked already, if check is given),
        then commit its block; stages gains the seconds of each step."""
        base = self._next_clock(clock, clock_name)
        if len(array) == 0:
            return numpy.zeros(0, records.RESULT_DTYPE), None
        steps: dict[str, float] = {}
        try:
            step = self._machine.transfers(array, base, timings=steps, signature_check=check)
        except LedgerError:
            raise
        except BaseException as error:
            self._broken = error
            raise
        if check is None:
            stages["verify"] = steps.get("gather", 0.0) + steps.get("verify", 0.0)
        stages["apply"] = steps.get("apply", 0.0)
        stages["hash"] = steps.get("hash", 0.0)
        stages["merkle"] = steps.get("merkle", 0.0)
        if not step.changed:
            return step.results, None
        header = self._commit(BlockKind.transfers, array, step, stages)
        return step.results, header

    def _commit(
        self, kind: BlockKind, array: numpy.ndarray, step: Step, stages: dict[str, float]
    ) -> BlockHeader:
        """Make the block's header and write it; a failure here leaves the ledger unusable
        (the engine has moved on) until it is reopened from the store."""
        try:
            started = time.perf_counter()
            machine = self._machine
            body = Body(kind, array, step.results)
            raw = body.to_bytes()
            head = self._store.head()
            header = BlockHeader(
                height=head.height + 1,
                prev_hash=head.hash,
                log_size=machine.log.size,
                log_root=machine.log.root(),
                state_root=machine.state.root(),
                timestamp_ns=step.base_ns,
                transfer_count=step.transfer_count,
                kind=kind,
                state_size=machine.state.size,
                record_count=len(array),
                body_hash=blake3(raw),
                history_root=self._history.root(),
                ledger_id=self._ledger_id,
            )
            stages["merkle"] = stages.get("merkle", 0.0) + time.perf_counter() - started
            started = time.perf_counter()
            new_accounts = None
            if kind == BlockKind.accounts:
                new_accounts = (step.new_account_ids, step.state_slots)
            self._store.write_block(
                header,
                body,
                log_nodes=step.log_nodes,
                state=(step.state_slots, step.state_records),
                new_accounts=new_accounts,
                raw_body=raw,
            )
            self._log_sizes.append(header.log_size)
            self._history.append(header.hash)
            stages["persist"] = time.perf_counter() - started
            return header
        except BaseException as error:
            self._broken = error
            raise

    def _check_writable(self) -> None:
        self._check_open()
        if self._store.read_only:
            raise LedgerValueError(f"{self._store.path}: the ledger is open read-only")

    def _check_open(self) -> None:
        if self._store.closed:
            raise LedgerValueError("the ledger is closed")
        if self._broken is not None:
            raise LedgerError(
                f"{self._store.path}: a write failed ({self._broken!r}); nothing after the last "
                "acknowledged block was kept; close and reopen the ledger"
            )

    # ------------------------------------------------------------------------ blocks

    def head(self) -> BlockHeader:
        """The header of the last block (the genesis block of a new ledger).

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as directory:
            ...     with Ledger.open(directory + "/ledger") as ledger:
            ...         ledger.head().kind.name
            'genesis'
        """
        self._check_open()
        return self._store.head()

    @property
    def clock_ns(self) -> int:
        """The ledger's clock in ns: the last timestamp its head block gave (a record's, or a
        block of expiries' clock); 0 for a new ledger. A clock given to submit, create_accounts
        or expire must be past it. Reads (balances, lookup_accounts) show the ledger as of this
        clock, with one lag: a pending transfer whose timeout lapsed after the last transfers
        block or block of expiries began still counts as pending until expire() (or the next
        batch) makes a block of its expiry.

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as directory:
            ...     with Ledger.open(directory + "/ledger") as ledger:
            ...         ledger.clock_ns
            0
        """
        self._check_open()
        return self._machine.engine.last_timestamp_ns

    @property
    def ledger_id(self) -> bytes | None:
        """This ledger's 16-byte id, bound into every signature it checks (see signing_bytes):
        fixed by its genesis block, public, and the same on every copy of the store. None only
        for a store whose blocks all predate ledger ids, opened read-only.

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as directory:
            ...     path = directory + "/ledger"
            ...     with Ledger.open(path, ledger_id=b"fund of the city") as ledger:
            ...         ledger.ledger_id
            b'fund of the city'
        """
        self._check_open()
        return self._ledger_id

    def signing_bytes(self, transfers: Any) -> numpy.ndarray:
        """What each transfer's debit owner signs for this ledger: records.signing_bytes of the
        batch with this ledger's id. A client that signs elsewhere needs only the id.

        Example:
            >>> import tempfile
            >>> from ledgercore import records
            >>> batch = records.transfers([dict(id=1, debit_account_id=1, credit_account_id=2,
            ...                                 amount=5, ledger=1, code=1)])
            >>> with tempfile.TemporaryDirectory() as directory:
            ...     with Ledger.open(directory + "/ledger") as ledger:
            ...         ledger.signing_bytes(batch).shape
            (1, 159)
        """
        self._check_open()
        if self._ledger_id is None:
            raise LedgerValueError(
                f"{self._store.path}: this store's blocks predate ledger ids and it is open "
                "read-only; its first writer gives it one"
            )
        return records.signing_bytes(transfers, self._ledger_id)

    @property
    def account_count(self) -> int:
        """Accounts created so far (the head's state_size).

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as directory:
            ...     with Ledger.open(directory + "/ledger") as ledger:
            ...         ledger.account_count, ledger.transfer_count
            (0, 0)
        """
        self._check_open()
        return self._store.head().state_size

    @property
    def transfer_count(self) -> int:
        """Transfers accepted so far (the head's log_size; refused ones are not counted)."""
        self._check_open()
        return self._store.head().log_size

    def block(self, height: int) -> BlockHeader:
        """The header of the block at `height`.

        Args:
            height: 0..head().height.

        Returns:
            Its BlockHeader.

        Raises:
            TypeError: height is not an int.
            LedgerValueError: no block at that height.

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as directory:
            ...     with Ledger.open(directory + "/ledger") as ledger:
            ...         ledger.block(0) == ledger.head()
            True
        """
        self._check_open()
        height = self._check_height(height, "height")
        header = self._store.block(height)
        assert header is not None
        return header

    def blocks(self, start: int = 0, stop: int | None = None) -> list[BlockHeader]:
        """The headers of blocks start .. stop - 1.

        Args:
            start: the first height.
            stop: one past the last height; None for head().height + 1.

        Returns:
            A list of BlockHeader, in height order.

        Raises:
            TypeError, LedgerValueError: start or stop out of range.

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as directory:
            ...     with Ledger.open(directory + "/ledger") as ledger:
            ...         [header.height for header in ledger.blocks()]
            [0]
        """
        self._check_open()
        end = self._store.head_height() + 1 if stop is None else stop
        start = self._check_height(start, "start")
        end = records.as_int(end, "stop")
        if not start <= end <= self._store.head_height() + 1:
            raise LedgerValueError(f"stop: expected {start}..{self._store.head_height() + 1}")
        return [self.block(height) for height in range(start, end)]

    def _check_height(self, height: int, name: str) -> int:
        height = records.as_int(height, name)
        head = self._store.head_height()
        if not 0 <= height <= head:
            raise LedgerValueError(f"{name}: no block {height} (heights 0..{head})")
        return height

    # ------------------------------------------------------------------------ reads

    def lookup_accounts(self, ids: _U128_IDS) -> numpy.ndarray:
        """The accounts with these ids as of the head, in the order asked; unknown ids left out.

        Their pending balances are as of clock_ns: see there for lapsed pending transfers.

        Args:
            ids: a sequence of ints, a 1-D uint64 array of ids, or an (n, 2) uint64 lane array;
                one id is a list of one ([id]).

        Returns:
            A 1-D ACCOUNT_DTYPE array.

        Raises:
            TypeError, LedgerValueError: ids is not a sequence, or an id is not a u128.

        Example:
            >>> import tempfile
            >>> from ledgercore import records
            >>> from ledgercore.keys import SigningKey
            >>> key = SigningKey.from_seed(b"k" * 32).public_key
            >>> with tempfile.TemporaryDirectory() as directory:
            ...     with Ledger.open(directory + "/ledger") as ledger:
            ...         _ = ledger.create_accounts(records.accounts(
            ...             [dict(id=7, ledger=1, code=1, owner_key=key)]))
            ...         records.u128(ledger.lookup_accounts([7, 8])["id"])
            [7]
        """
        self._check_open()
        return self._machine.engine.lookup_accounts(ids)

    def balances(self, ids: _U128_IDS) -> numpy.ndarray:
        """The four balances of each account as of the head, aligned with `ids`.

        The pending ones are as of clock_ns: a pending transfer whose timeout has lapsed since
        still counts until `expire()` (or the next batch) makes a block of its expiry.

        Args:
            ids: a sequence of ints, a 1-D uint64 array of ids, or an (n, 2) uint64 lane array;
                one id is a list of one ([id]).

        Returns:
            A 1-D records.BALANCE_DTYPE array.

        Raises:
            TypeError, LedgerValueError: ids is not a sequence, or an id is not a u128.
            LedgerValueError: an id is not an account, naming the first such id.

        Example:
            >>> import tempfile
            >>> from ledgercore import records
            >>> from ledgercore.keys import SigningKey
            >>> key = SigningKey.from_seed(b"k" * 32).public_key
            >>> with tempfile.TemporaryDirectory() as directory:
            ...     with Ledger.open(directory + "/ledger") as ledger:
            ...         _ = ledger.create_accounts(records.accounts(
            ...             [dict(id=7, ledger=1, code=1, owner_key=key)]))
            ...         records.to_dicts(ledger.balances([7]))[0]["debits_posted"]
            0
        """
        self._check_open()
        return self._machine.engine.balances(ids)

    def lookup_transfers(self, ids: _U128_IDS) -> numpy.ndarray:
        """The accepted transfers with these ids, in the order asked; unknown ids left out.

        Each record is as the log holds it: with the timestamp the ledger assigned and the
        signature it was submitted with (read from its block).

        Args:
            ids: a sequence of ints, a 1-D uint64 array of ids, or an (n, 2) uint64 lane array;
                one id is a list of one ([id]).

        Returns:
            A 1-D TRANSFER_DTYPE array.

        Raises:
            TypeError, LedgerValueError: ids is not a sequence, or an id is not a u128.

        Example:
            >>> import tempfile
            >>> from ledgercore import records
            >>> with tempfile.TemporaryDirectory() as directory:
            ...     with Ledger.open(directory + "/ledger") as ledger:
            ...         len(ledger.lookup_transfers([1]))
            0
        """
        self._check_open()
        found = self._machine.engine.lookup_transfers(ids)
        if len(found) == 0:
            return found
        indices = self._machine.log_index_of(found["timestamp"])
        return self._log_records(indices)

    def _checked_body(self, height: int) -> Body:
        """A block's body, refused unless it hashes to its header's body_hash the first time
        this ledger reads it (a ledger opened from a snapshot has read no body before)."""
        store = self._store
        if height in self._checked_heights:
            return store.body(height)
        _, raw = _read_checked(store, height)
        if raw is None:
            raise _body_refused(store, height)
        body = self._parse_body(height, raw)
        self._checked_heights.add(height)
        return body

    def _log_records(self, indices: numpy.ndarray) -> numpy.ndarray:
        """The log's leaf records at these indices, read from their blocks' bodies."""
        out = numpy.zeros(len(indices), records.TRANSFER_DTYPE)
        sizes = numpy.asarray(self._log_sizes, dtype=numpy.int64)
        heights = numpy.searchsorted(sizes, numpy.asarray(indices, numpy.int64), side="right")
        for height in numpy.unique(heights).tolist():
            rows = numpy.flatnonzero(heights == height)
            body = self._checked_body(height)
            header = self._store.block(height)
            assert header is not None
            accepted = numpy.flatnonzero(body.results == 0)
            first = header.log_size - header.transfer_count
            picked = accepted[numpy.asarray(indices)[rows] - first]
            out[rows] = body.records[picked]
            out["timestamp"][rows] = numpy.uint64(header.timestamp_ns) + picked.astype("<u8")
        return out

    def backup(self, destination: str | os.PathLike[str]) -> BlockHeader:
        """Copy this ledger's store, as it is at the head, to a new directory.

        The copy is a store of its own, with the same ledger id, that opens (applying its
        blocks: no snapshot is copied) and verifies; the writer carries on after it. Copies are
        made by the writer, between blocks, so each ends at a block.

        Args:
            destination: a path where nothing is yet (its parent must exist).

        Returns:
            The header of the head block the copy holds.

        Raises:
            LedgerValueError: the ledger is read-only, or something is at destination.

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as directory:
            ...     with Ledger.open(directory + "/ledger") as ledger:
            ...         copied = ledger.backup(directory + "/copy")
            ...     with Ledger.open(directory + "/copy", read_only=True) as copy:
            ...         copy.head() == copied, copy.verify_chain(progress=False).ok
            (True, True)
        """
        self._check_writable()
        return self._store.checkpoint(destination)

    def block_records(self, height: int) -> tuple[numpy.ndarray, numpy.ndarray]:
        """The records a block holds, with the timestamp each was given, and their results.

        Every record of the batch is there, refused ones included (result not 0); record i of
        the block took the timestamp header.timestamp_ns + i. The genesis block and blocks of
        expiries hold none.

        Args:
            height: 0..head().height.

        Returns:
            (records, results): an ACCOUNT_DTYPE or TRANSFER_DTYPE array (TRANSFER_DTYPE when
            empty) and a uint8 array of its result codes.

        Raises:
            TypeError, LedgerValueError: no block at that height.
            StoreCorruptedError: the body is missing or does not match its header.

        Example:
            >>> import tempfile
            >>> from ledgercore import records
            >>> from ledgercore.keys import SigningKey
            >>> key = SigningKey.from_seed(b"k" * 32).public_key
            >>> with tempfile.TemporaryDirectory() as directory:
            ...     with Ledger.open(directory + "/ledger") as ledger:
            ...         _ = ledger.create_accounts(records.accounts(
            ...             [dict(id=n, ledger=1, code=1, owner_key=key) for n in (1, 1)]),
            ...             timestamp_ns=5_000)
            ...         rows, results = ledger.block_records(1)
            >>> rows["timestamp"].tolist(), results.tolist()
            ([5000, 5001], [0, 9])
        """
        header = self.block(height)
        if header.kind == BlockKind.genesis or header.record_count == 0:
            return numpy.zeros(0, records.TRANSFER_DTYPE), numpy.zeros(0, records.RESULT_DTYPE)
        body = self._checked_body(height)
        rows = body.records.copy()
        rows["timestamp"] = numpy.uint64(header.timestamp_ns) + numpy.arange(len(rows), dtype="<u8")
        return rows, body.results.copy()

    def account_history(
        self, account_id: int, *, limit: int = 100, after: int | None = None
    ) -> numpy.ndarray:
        """The accepted transfers debiting or crediting an account, oldest first.

        Reads the blocks in order from the one holding `after` (there is no index per account
        yet: the cost grows with the blocks read).

        Args:
            account_id: the account's id.
            limit: at most this many transfers (1..8190 per call is sensible).
            after: a transfer timestamp (ns) to continue after, as returned in the last row of
                the previous page; None to start from the beginning.

        Returns:
            A 1-D TRANSFER_DTYPE array, as lookup_transfers gives them.

        Raises:
            TypeError, LedgerValueError: a bad id, limit or cursor.
            LedgerValueError: no account has this id, naming it (as `balances` does).

        Example:
            >>> import tempfile
            >>> from ledgercore import records
            >>> from ledgercore.keys import SigningKey
            >>> key = SigningKey.from_seed(b"k" * 32).public_key
            >>> with tempfile.TemporaryDirectory() as directory:
            ...     with Ledger.open(directory + "/ledger") as ledger:
            ...         _ = ledger.create_accounts(records.accounts(
            ...             [dict(id=1, ledger=1, code=1, owner_key=key)]))
            ...         len(ledger.account_history(1))
            0
        """
        self._check_open()
        target = records.lanes(account_id)
        limit = records.as_int(limit, "limit")
        if limit < 1:
            raise LedgerValueError(f"limit: expected at least 1, got {limit}")
        if after is not None:
            after = records.as_int(after, "after")
            if not 0 <= after < 2**64:
                raise LedgerValueError(f"after: {after} is outside [0, 2^64)")
        if len(self._machine.engine.lookup_accounts(target.reshape(1, 2))) == 0:
            raise LedgerValueError(f"account_id: no account {records.u128(target)}")
        start_index = 0
        if after is not None:
            stamps = self._machine.log_timestamps.array()
            start_index = int(numpy.searchsorted(stamps, numpy.uint64(after), side="right"))
        sizes = numpy.asarray(self._log_sizes, dtype=numpy.int64)
        height = int(numpy.searchsorted(sizes, start_index, side="right"))
        found: list[numpy.ndarray] = []
        count = 0
        while height < len(sizes) and count < limit:
            header = self._store.block(height)
            assert header is not None
            if header.kind == BlockKind.transfers and header.transfer_count:
                body = self._checked_body(height)
                accepted = numpy.flatnonzero(body.results == 0)
                rows = body.records[accepted].copy()
                rows["timestamp"] = numpy.uint64(header.timestamp_ns) + accepted.astype("<u8")
                touches = (rows["debit_account_id"] == target).all(axis=1) | (
                    rows["credit_account_id"] == target
                ).all(axis=1)
                if after is not None:
                    touches &= rows["timestamp"] > numpy.uint64(after)
                picked = rows[touches][: limit - count]
                found.append(picked)
                count += len(picked)
            height += 1
        if not found:
            return numpy.zeros(0, records.TRANSFER_DTYPE)
        return numpy.concatenate(found)

    def check_invariants(self) -> dict[int, tuple[int, int, int, int]]:
        """Check that money is conserved on every ledger (see Engine.check_invariants).

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as directory:
            ...     with Ledger.open(directory + "/ledger") as ledger:
            ...         ledger.check_invariants()
            {}
        """
        self._check_open()
        return self._machine.engine.check_invariants()

    # ------------------------------------------------------------------------ proofs

    def prove_transfer(self, transfer_id: int) -> TransferProof:
        """Proof that an accepted transfer is in the log, at its block and at the head.

        Args:
            transfer_id: the transfer's id.

        Returns:
            A TransferProof: its record, its block's header and the head's, its inclusion
            paths in both logs, and the path that binds its block's header to the head.

        Raises:
            TypeError, LedgerValueError: a bad id, or no accepted transfer with it.

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as directory:
            ...     with Ledger.open(directory + "/ledger") as ledger:
            ...         try:
            ...             ledger.prove_transfer(5)
            ...         except ValueError as error:
            ...             print(error)
            transfer_id: no accepted transfer 5
        """
        self._check_open()
        found = self._machine.engine.lookup_transfers([transfer_id])
        if len(found) == 0:
            raise LedgerValueError(f"transfer_id: no accepted transfer {transfer_id}")
        index = int(self._machine.log_index_of(found["timestamp"])[0])
        record = self._log_records(numpy.array([index]))
        height = int(numpy.searchsorted(numpy.asarray(self._log_sizes), index, side="right"))
        block = self.block(height)
        head = self._store.head()
        log = self._machine.log
        return TransferProof(
            record=record.tobytes(),
            leaf_index=index,
            block=block,
            head=head,
            in_block=log.inclusion_proof(index, block.log_size),
            in_head=log.inclusion_proof(index, head.log_size),
            in_history=self._history_path(block, head),
        )

    def prove_account(self, account_id: int, height: int | None = None) -> AccountProof:
        """Proof of an account's record (its balances) under a block's state root.

        At the head it is read from memory; at a past height the state tree of that height is
        rebuilt from the stored state changes (the cost grows with the history).

        Args:
            account_id: the account's id.
            height: a block height; None for the head.

        Returns:
            An AccountProof.

        Raises:
            TypeError, LedgerValueError: a bad id or height, or no such account at that height.

        Example:
            >>> import tempfile
            >>> from ledgercore import records
            >>> from ledgercore.keys import SigningKey
            >>> key = SigningKey.from_seed(b"k" * 32).public_key
            >>> with tempfile.TemporaryDirectory() as directory:
            ...     with Ledger.open(directory + "/ledger") as ledger:
            ...         _ = ledger.create_accounts(records.accounts(
            ...             [dict(id=n, ledger=1, code=1, owner_key=key) for n in (1, 2, 3)]))
            ...         ledger.prove_account(3, height=1).verify()
            True
        """
        self._check_open()
        found = self._machine.engine.lookup_accounts([account_id])
        if len(found) == 0:
            raise LedgerValueError(f"account_id: no account {account_id}")
        slot = self._machine.slot_of(int(found["timestamp"][0]))
        if height is None or height == self._store.head_height():
            head = self._store.head()
            state = self._machine.state.proof(slot)
            return AccountProof(found.tobytes(), slot, head, state, head, None)
        block = self.block(height)
        if slot >= block.state_size:
            raise LedgerValueError(f"account_id: account {account_id} did not exist at {height}")
        accounts = numpy.zeros(block.state_size, records.ACCOUNT_DTYPE)
        for change in range(1, height + 1):
            entry = self._store.state_entry(change)
            if entry is not None:
                apply_state(accounts, *entry)
        tree = StateTree()
        tree.extend(accounts)
        if tree.root() != block.state_root:
            raise StoreCorruptedError(
                f"{self._store.path}: the stored state changes up to block {height} give state "
                f"root {tree.root().hex()}, its header says {block.state_root.hex()}; "
                + CHECK_HINT.format(path=self._store.path)
            )
        head = self._store.head()
        record = accounts[slot : slot + 1].tobytes()
        return AccountProof(
            record, slot, block, tree.proof(slot), head, self._history_path(block, head)
        )

    def prove_consistency(
        self, old_height: int, new_height: int | None = None
    ) -> ChainConsistencyProof:
        """Proof that the log at block old_height is a prefix of the log at new_height.

        Args:
            old_height: the earlier block.
            new_height: the later block; None for the head.

        Returns:
            A ChainConsistencyProof.

        Raises:
            TypeError, LedgerValueError: a height out of range or old_height > new_height.

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as directory:
            ...     with Ledger.open(directory + "/ledger") as ledger:
            ...         ledger.prove_consistency(0).verify()
            True
        """
        self._check_open()
        new = self.head() if new_height is None else self.block(new_height)
        old = self.block(old_height)
        if old.height > new.height:
            raise LedgerValueError(f"old_height: {old.height} is past new_height {new.height}")
        proof = self._machine.log.consistency_proof(old.log_size, new.log_size)
        return ChainConsistencyProof(old, new, proof, self._history_path(old, new))

    def _history_path(self, block: BlockHeader, head: BlockHeader) -> InclusionProof | None:
        """The inclusion of block's hash in head's history tree; None when block is head."""
        if block.height == head.height:
            return None
        if head.history_root is None:
            raise LedgerValueError(
                f"block {head.height} is a format 1 header, which commits to no earlier block, "
                f"so no proof can bind block {block.height} to it; a writer's next block (any "
                "batch) is written in format 2, and proofs to it bind every earlier block"
            )
        return self._history.inclusion_proof(block.height, head.height)

    # ------------------------------------------------------------------------ verification

    def verify_chain(self, *, progress: bool = True) -> ChainReport:
        """Recompute every block from the stored batches, signatures included, and compare.

        Args:
            progress: show a progress bar on stderr.

        Returns:
            A ChainReport: ok, the blocks and transfers checked, and the first mismatch
            (height, what differs, expected and found) if any.

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as directory:
            ...     with Ledger.open(directory + "/ledger") as ledger:
            ...         ledger.verify_chain(progress=False).ok
            True
        """
        self._check_open()
        return verify_store(self._store, progress=progress)

    # ------------------------------------------------------------------------ closing

    @property
    def path(self) -> str:
        """The store's directory."""
        return self._store.path

    @property
    def read_only(self) -> bool:
        """True if opened read-only."""
        return self._store.read_only

    @property
    def closed(self) -> bool:
        """True once close() has run."""
        return self._store.closed

    def disk_size(self) -> int:
        """Bytes of the store's files on disk."""
        return self._store.disk_size()

    @property
    def opened_from(self) -> str:
        """How this ledger was loaded: "snapshot" (the engine's tables saved when the store was
        last closed at this head) or "blocks" (every block applied again)."""
        return self._opened_from

    @property
    def snapshot_status(self) -> str:
        """Why a snapshot was or was not loaded at open ("loaded", "no snapshot", ...)."""
        return self._snapshot_status

    def close(self, *, snapshot: bool = True) -> None:
        """Close the store and release the writer's lock; calling it again does nothing.

        A writer that is not broken first saves a snapshot (ledgercore.snapshot) so that the
        next open at this head loads the engine in bulk instead of applying every block again
        (unless the store's snapshot is of this head already); snapshot=False skips it. Saving
        writes the engine's tables, about 130 bytes per transfer. A snapshot that cannot be
        written (a full disk, say) is skipped with a warning: the store itself is complete
        either way.
        """
        store = self._store
        if store.closed:
            return
        try:
            head = store.head()
            if (
                snapshot
                and not store.read_only
                and self._broken is None
                and head.height != self._snapshot_height
            ):
                try:
                    write_snapshot(store, head.height, head.hash, self._machine.sections())
                    self._snapshot_height = head.height
                except OSError as error:
                    warnings.warn(
                        f"{store.path}: no snapshot written ({error}); the next open applies "
                        "the blocks again",
                        RuntimeWarning,
                        stacklevel=2,
                    )
        finally:
            store.close()

    def __enter__(self) -> Ledger:
        if self.closed:
            raise LedgerValueError(
                f"{self._store.path}: the ledger is closed; open it again with Ledger.open"
            )
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"height {self._store.head_height()}"
        return f"Ledger({self._store.path!r}, {state})"


@dataclass
class _Queued:
    """A batch read by submit_many, its signatures queued for verification."""

    array: numpy.ndarray
    clock: int | None
    check: SignatureCheck | None
    started: float
    decode: float
    gather: float = 0.0
    account_count: int = 0
    number: int = 0


def _read_ahead(
    pool: ThreadPoolExecutor, store: Store, count: int, *, window: int
) -> Iterator[tuple[int, BlockHeader | None, bytes | None]]:
    """(height, header, raw body) of blocks 0 .. count - 1, read `window` blocks ahead on the
    pool; the body is None when it is missing or does not hash to the header's body_hash."""

    def fetch(height: int) -> tuple[int, BlockHeader | None, bytes | None]:
        return (height, *_read_checked(store, height))

    pending: list[Future[tuple[int, BlockHeader | None, bytes | None]]] = []
    for height in range(count):
        pending.append(pool.submit(fetch, height))
        if len(pending) > window:
            yield pending.pop(0).result()
    for future in pending:
        yield future.result()


def _read_checked(store: Store, height: int) -> tuple[BlockHeader | None, bytes | None]:
    """A block's header and raw body; the body is None when it is missing or does not hash to
    the header's body_hash."""
    header = store.block(height)
    raw = store.raw_body(height)
    if header is None or raw is None or blake3(raw) != header.body_hash:
        raw = None
    return header, raw


def _body_refused(store: Store, height: int) -> StoreCorruptedError:
    return StoreCorruptedError(
        f"{store.path}: the body of block {height} is missing or does not match its header's "
        f"body_hash; " + CHECK_HINT.format(path=store.path)
    )


def _check_clock(timestamp_ns: int | None, name: str = "timestamp_ns") -> int | None:
    if timestamp_ns is None:
        return None
    timestamp_ns = records.as_int(timestamp_ns, name)
    if not 0 <= timestamp_ns < 2**64:
        raise LedgerValueError(f"{name}: {timestamp_ns} is outside [0, 2^64)")
    return timestamp_ns


def _check_ahead_max(clock_ahead_max_ns: int | None) -> int | None:
    if clock_ahead_max_ns is None:
        return None
    if isinstance(clock_ahead_max_ns, bool) or not isinstance(clock_ahead_max_ns, int):
        raise TypeError(
            f"clock_ahead_max_ns: expected an int (ns) or None, got "
            f"{type(clock_ahead_max_ns).__name__}"
        )
    if clock_ahead_max_ns < 0:
        raise LedgerValueError(
            f"clock_ahead_max_ns: {clock_ahead_max_ns} is negative; give the ns a clock may be "
            "ahead of the wall clock, or None for no bound"
        )
    return clock_ahead_max_ns
