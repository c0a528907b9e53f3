"""The in-memory validate/apply engine: accounts, transfers and their double-entry rules.

`Engine.submit` takes a whole batch of transfers and, in one call: looks up each transfer's debit
account and gathers its owner key; verifies every signature in one batch (ledgercore.ed25519, all
cores); then validates and applies the batch in arrival order in one native pass with the GIL
released. The rules follow TigerBeetle's accounts and transfers (see `records.TransferResult` for
the list, in order of precedence):

- balances: a transfer adds its amount to the debit account's debits and the credit account's
  credits, posted at once or pending (reserved) until posted, voided or expired;
  `debits_must_not_exceed_credits` and `credits_must_not_exceed_debits` bound them;
- two-phase transfers: a pending transfer (optional timeout in seconds) is later posted, in full
  (amount 2^128 - 1) or in part (the rest is released), or voided, in full only (amount 0 or the
  pending amount; any other, 2^128 - 1 included, is refused); a post or void names the same
  accounts, ledger and code as the pending transfer, and is signed by the debit account's owner;
- linked chains: transfers with the `linked` flag succeed or fail with the next one, as a unit;
  a failed chain leaves no trace; a batch may not end on a linked transfer
  (`linked_event_chain_open`, or `linked_event_failed` when its chain failed already);
- idempotency: a transfer id is unique forever; the same transfer again answers `exists`, another
  with the same id `exists_with_different_fields`, and money never moves twice; a transfer that
  failed on the ledger's state keeps its id (`id_already_failed`), so that no signed transfer
  refused once can be replayed into success later;
- frozen and closed accounts take no new transfers or posts (voids still release reservations);
  every u128 overflow is the result `overflow`, never a wrap.

Pending transfers whose timeout has lapsed are expired at the start of the next submit, or by
`expire` (their reservations released); a post or void after the timeout answers
`pending_transfer_expired`.

Timestamps (ns) are assigned by the engine, strictly increasing across accounts and transfers:
a batch starts at the caller's clock (`timestamp_ns`, default the wall clock) or one past the last
timestamp given, whichever is later, and its i-th record gets that plus i.

Example:
    >>> from ledgercore import records
    >>> from ledgercore.engine import Engine
    >>> from ledgercore.keys import SigningKey
    >>> alice, bob = SigningKey.from_seed(b"a" * 32), SigningKey.from_seed(b"b" * 32)
    >>> engine = Engine()
    >>> engine.create_accounts(records.accounts([
    ...     dict(id=1, ledger=1, code=1, owner_key=alice.public_key),
    ...     dict(id=2, ledger=1, code=1, owner_key=bob.public_key),
    ... ])).tolist()
    [0, 0]
    >>> batch = records.transfers([dict(id=100, debit_account_id=1, credit_account_id=2,
    ...                                 amount=250, ledger=1, code=1)])
    >>> batch["signature"] = alice.sign_many(records.signing_bytes(batch, engine.ledger_id))
    >>> engine.submit(batch).tolist()
    [0]
    >>> records.u128(engine.balances([1, 2])["debits_posted"])
    [250, 0]
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy

from ledgercore import records
from ledgercore._native import apply as _native
from ledgercore._native import ed25519 as native_ed25519
from ledgercore.ed25519 import HINTED_KEY_DTYPE
from ledgercore.errors import LedgerValueError

if TYPE_CHECKING:
    from ledgercore.ed25519 import VerificationQueue

__all__ = ["DEFAULT_LEDGER_ID", "Engine", "SignatureCheck"]

DEFAULT_LEDGER_ID = bytes(16)
"""The ledger id an engine of its own checks signatures against (a Ledger gives its own)."""


def _now_ns() -> int:
    return time.time_ns()


def _timestamp(timestamp_ns: int | None) -> int:
    if timestamp_ns is None:
        return _now_ns()
    timestamp = records.as_int(timestamp_ns, "timestamp_ns")
    if timestamp < 0 or timestamp >= 2**64:
        raise LedgerValueError(f"timestamp_ns: {timestamp} is outside [0, 2^64)")
    return timestamp


def _owner_keys_checked(owner_keys: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]:
    """(ok, x) for (n, 32) owner keys: ok[i] is 1 if key i passes
    `ledgercore.keys.check_public_key`, x[i] (32 bytes) its point's x-coordinate, which the
    engine keeps to spare the verifier decoding the key again for every batch."""
    if len(owner_keys) == 0:
        return numpy.zeros(0, dtype=numpy.uint8), numpy.zeros((0, 32), dtype=numpy.uint8)
    # Many accounts share an owner: check each distinct key once, in one native call.
    keys = numpy.ascontiguousarray(owner_keys, dtype=numpy.uint8)
    words = keys.view("<u8").reshape(-1, 4)
    order = numpy.lexsort((words[:, 3], words[:, 2], words[:, 1], words[:, 0]))
    ordered = words[order]
    starts = numpy.concatenate(([True], (ordered[1:] != ordered[:-1]).any(axis=1)))
    group = numpy.empty(len(words), dtype=numpy.intp)
    group[order] = numpy.cumsum(starts) - 1
    distinct = numpy.ascontiguousarray(keys[order[starts]])
    statuses, hinted = native_ed25519.check_public_keys(distinct)
    ok = (statuses == native_ed25519.KEY_OK).astype(numpy.uint8)[group]
    return ok, numpy.ascontiguousarray(hinted[group, 32:])


@dataclass
class SignatureCheck:
    """One batch's signatures with their owner keys, checked by `run` on any thread.

    Made by `Engine.gather_signatures`; `marks()` gives, per transfer, whether its signature
    held, failed, or was not checked (no such debit account: the rules answer that).
    """

    keys: numpy.ndarray
    found: numpy.ndarray
    messages: numpy.ndarray
    signatures: numpy.ndarray
    seconds: float = 0.0
    """How long `run` took."""
    _marks: numpy.ndarray | None = None
    _pending: tuple[Any, Any] | None = None

    @property
    def count(self) -> int:
        """The number of transfers in the batch."""
        return len(self.found)

    def run(self, threads: int | None = None) -> SignatureCheck:
        """Verify every signature whose owner key was found, in one batch (GIL released).

        Args:
            threads: threads for verification (default: all cores).

        Returns:
            self, checked.
        """
        from ledgercore.ed25519 import verify_batch

        started = time.perf_counter()
        rows = self._rows()
        ok = None
        if rows is not None:
            ok = verify_batch(
                self.keys[rows], self.messages[rows], self.signatures[rows], threads=threads
            )
        self._mark(rows, ok)
        self.seconds = time.perf_counter() - started
        return self

    def start(self, queue: VerificationQueue, threads: int | None = None) -> None:
        """Queue the verification on queue's native thread and return at once; `finish` waits
        for it. Checks queued ahead keep the cores busy while this thread holds the GIL."""
        rows = self._rows()
        pending = None
        if rows is not None:
            pending = queue.submit(
                self.keys[rows], self.messages[rows], self.signatures[rows], threads=threads
            )
        self._pending = (rows, pending)

    def finish(self) -> SignatureCheck:
        """Wait for the verification `start` queued (GIL released) and keep its verdicts."""
        if self._pending is None:
            raise LedgerValueError("signature_check: start() it before finish()")
        rows, pending = self._pending
        self._pending = None
        self._mark(rows, None if pending is None else pending.result())
        self.seconds = 0.0 if pending is None else pending.seconds
        return self

    def _rows(self) -> slice | numpy.ndarray | None:
        """The transfers whose signatures are checked: all (a slice, no copy), some, or none."""
        if self.found.all():
            return slice(None)
        if self.found.any():
            return numpy.flatnonzero(self.found)
        return None

    def _mark(self, rows: slice | numpy.ndarray | None, ok: numpy.ndarray | None) -> None:
        marks = numpy.full(self.count, _native.SIGNATURE_UNCHECKED, dtype=numpy.uint8)
        if rows is not None and ok is not None:
            marks[rows] = numpy.asarray(ok, dtype=numpy.uint8)
        self._marks = marks

    def marks(self) -> numpy.ndarray:
        """SIGNATURE_* per transfer, as the native engine takes them."""
        if self._marks is None:
            raise LedgerValueError("signature_check: run() it before submitting the batch")
        return self._marks


class Engine:
    """Accounts and transfers in native memory, validated and applied a whole batch at a time.

    Not thread-safe for concurrent calls on one engine (a second thread entering while a call
    runs gets RuntimeError); separate engines are independent.

    Example:
        >>> from ledgercore import records
        >>> from ledgercore.engine import Engine
        >>> engine = Engine()
        >>> engine.account_count, engine.transfer_count
        (0, 0)
    """

    def __init__(self, *, ledger_id: bytes | None = DEFAULT_LEDGER_ID) -> None:
        """An empty engine. Its hash tables are keyed with fresh random seeds.

        Args:
            ledger_id: the id of the ledger whose transfers it checks: every signature is over
                records.signing_bytes(transfers, ledger_id). A Ledger gives its own; an engine
                on its own uses 16 zero bytes unless told otherwise.
        """
        seed0, seed1 = (secrets.randbits(64) for _ in range(2))
        self._native = _native.NativeEngine(seed0, seed1)
        self.ledger_id = ledger_id

    @property
    def ledger_id(self) -> bytes | None:
        """The ledger id the signatures are checked against (None: the unbound messages of
        blocks with format 1 headers, set while such blocks are applied again)."""
        return self._ledger_id

    @ledger_id.setter
    def ledger_id(self, value: bytes | None) -> None:
        if value is not None:
            if not isinstance(value, bytes):
                raise TypeError(f"ledger_id: expected 16 bytes or None, got {type(value).__name__}")
            if len(value) != records.LEDGER_ID_SIZE:
                raise LedgerValueError(f"ledger_id: expected 16 bytes, got {len(value)}")
        self._ledger_id = value

    # ------------------------------------------------------------------------ accounts

    def create_accounts(self, accounts: Any, *, timestamp_ns: int | None = None) -> numpy.ndarray:
        """Create accounts in order, each with a result code.

        The owner key of each account must pass `ledgercore.keys.check_public_key` (canonical,
        decodable, not of small order); linked accounts are created together or not at all.

        Args:
            accounts: a 1-D ACCOUNT_DTYPE array (or its raw bytes), at most BATCH_SIZE_MAX rows;
                balances and timestamp must be zero.
            timestamp_ns: the batch's clock in ns since the epoch (default: the wall clock).

        Returns:
            A uint8 array of `records.CreateAccountResult` values, one per account.

        Raises:
            TypeError, LedgerValueError: a bad argument; nothing was created.

        Example:
            >>> from ledgercore import records
            >>> from ledgercore.engine import Engine
            >>> from ledgercore.keys import SigningKey
            >>> key = SigningKey.from_seed(b"k" * 32).public_key
            >>> engine = Engine()
            >>> results = engine.create_accounts(records.accounts([
            ...     dict(id=1, ledger=1, code=1, owner_key=key),
            ...     dict(id=1, ledger=2, code=1, owner_key=key),
            ... ]))
            >>> [records.CreateAccountResult(r).name for r in results]
            ['ok', 'exists_with_different_fields']
        """
        array = records.as_records(accounts, records.ACCOUNT_DTYPE, "accounts")
        timestamp = _timestamp(timestamp_ns)
        key_ok, owner_x = _owner_keys_checked(array["owner_key"])
        return self._native.create_accounts(array, key_ok, owner_x, timestamp)

    # ------------------------------------------------------------------------ transfers

    def submit(
        self,
        transfers: Any,
        *,
        verify_signatures: bool = True,
        timestamp_ns: int | None = None,
        threads: int | None = None,
        timings: dict[str, float] | None = None,
        signature_verdicts: Any = None,
        signature_check: SignatureCheck | None = None,
    ) -> numpy.ndarray:
        """Verify, validate and apply a batch of transfers in arrival order.

        Args:
            transfers: a 1-D TRANSFER_DTYPE array (or its raw bytes), at most BATCH_SIZE_MAX
                rows, each signed over `records.signing_bytes` by its debit account's owner.
            verify_signatures: False only when the caller has verified them already.
            timestamp_ns: the batch's clock in ns since the epoch (default: the wall clock);
                it also decides which pending transfers have expired.
            threads: threads for signature verification (default: all cores).
            timings: if given, filled with the seconds spent in each stage
                ("gather", "verify", "apply").
            signature_verdicts: instead of verifying, one bool per transfer from an earlier
                verification of the same bytes (a replica replaying stored batches): False
                answers bad_signature. verify_signatures is then ignored.
            signature_check: instead of verifying, a finished `gather_signatures(transfers)`
                check of this same batch, made before any account was created since (the
                ledger verifies the next batch while it stores this one).

        Returns:
            A uint8 array of `records.TransferResult` values, one per transfer.

        Raises:
            TypeError, LedgerValueError: a bad argument; nothing changed.
            InvariantError: an engine invariant was found broken; the batch was undone.

        Example:
            >>> from ledgercore import records
            >>> from ledgercore.engine import Engine
            >>> from ledgercore.keys import SigningKey
            >>> keys = [SigningKey.from_seed(bytes([n]) * 32).public_key for n in (1, 2)]
            >>> engine = Engine()
            >>> engine.create_accounts(records.accounts([
            ...     dict(id=n + 1, ledger=1, code=1, owner_key=key,
            ...          flags=records.AccountFlags.debits_must_not_exceed_credits)
            ...     for n, key in enumerate(keys)
            ... ])).tolist()
            [0, 0]
            >>> batch = records.transfers([dict(id=7, debit_account_id=1, credit_account_id=2,
            ...                                 amount=10, ledger=1, code=1)])
            >>> records.TransferResult(engine.submit(batch, verify_signatures=False)[0]).name
            'exceeds_credits'
        """
        array = records.as_records(transfers, records.TRANSFER_DTYPE, "transfers")
        timestamp = _timestamp(timestamp_ns)
        marks = None
        started = time.perf_counter()
        gathered = verified = started
        if signature_verdicts is not None:
            verdicts = numpy.asarray(signature_verdicts)
            if verdicts.dtype != numpy.bool_ or verdicts.shape != (len(array),):
                raise LedgerValueError(
                    f"signature_verdicts: expected {len(array)} bools, got {verdicts.dtype} "
                    f"of shape {verdicts.shape}"
                )
            marks = numpy.where(verdicts, _native.SIGNATURE_GOOD, _native.SIGNATURE_BAD).astype(
                numpy.uint8
            )
        elif signature_check is not None:
            if signature_check.count != len(array):
                raise LedgerValueError(
                    f"signature_check: made for {signature_check.count} transfers, the batch has "
                    f"{len(array)}"
                )
            marks = signature_check.marks()
        elif verify_signatures:
            check = self.gather_signatures(array)
            gathered = time.perf_counter()
            check.run(threads)
            verified = time.perf_counter()
            marks = check.marks()
        results = self._native.submit(array, marks, timestamp)
        if timings is not None:
            timings["gather"] = gathered - started
            timings["verify"] = verified - gathered
            timings["apply"] = time.perf_counter() - verified
        return results

    def expire(self, timestamp_ns: int) -> int:
        """Expire the pending transfers whose timeout has lapsed by timestamp_ns, without a batch.

        It does what a submit at that clock does before its first transfer: each due pending
        transfer's reservation is released, and `changed_accounts` then names their accounts.
        When any expired, timestamp_ns becomes the last timestamp given; when none did, nothing
        that can be read changes.

        Args:
            timestamp_ns: the clock in ns since the epoch; it must be past last_timestamp_ns.

        Returns:
            How many pending transfers expired.

        Raises:
            TypeError: timestamp_ns is not an int.
            LedgerValueError: timestamp_ns is outside [0, 2^64) or not past last_timestamp_ns;
                nothing changed.

        Example:
            >>> from ledgercore import records
            >>> from ledgercore.engine import Engine
            >>> from ledgercore.keys import SigningKey
            >>> key = SigningKey.from_seed(b"k" * 32).public_key
            >>> engine = Engine()
            >>> _ = engine.create_accounts(records.accounts(
            ...     [dict(id=n, ledger=1, code=1, owner_key=key) for n in (1, 2)]), timestamp_ns=1)
            >>> hold = records.transfers([dict(id=9, debit_account_id=1, credit_account_id=2,
            ...     amount=5, ledger=1, code=1, flags=records.TransferFlags.pending, timeout_s=1)])
            >>> engine.submit(hold, verify_signatures=False, timestamp_ns=10).tolist()
            [0]
            >>> engine.expire(11), engine.expire(10 + 1_000_000_000)
            (0, 1)
            >>> records.u128(engine.balances([1])["debits_pending"]), engine.pending_count
            ([0], 0)
        """
        return int(self._native.expire(_timestamp(timestamp_ns)))

    def rewind_clock(self, last_timestamp_ns: int) -> None:
        """Give back the timestamps of the last batch, which changed nothing.

        A batch takes its timestamps even when every record in it is refused; a ledger makes no
        block of such a batch, so a replay of its blocks never takes them, and a ledger that
        gives them back keeps the clock its blocks say.

        Args:
            last_timestamp_ns: last_timestamp_ns as it was before that batch.

        Raises:
            TypeError: not an int.
            LedgerValueError: it is ahead of last_timestamp_ns, or behind the timestamp of a
                stored account or transfer; nothing changed.

        Example:
            >>> from ledgercore import records
            >>> from ledgercore.engine import Engine
            >>> engine = Engine()
            >>> refused = records.transfers([dict(id=0, debit_account_id=1, credit_account_id=2,
            ...                                   amount=1, ledger=1, code=1)])
            >>> engine.submit(refused, verify_signatures=False, timestamp_ns=50).tolist()
            [6]
            >>> engine.last_timestamp_ns, engine.rewind_clock(0), engine.last_timestamp_ns
            (50, None, 0)
        """
        self._native.rewind_clock(_timestamp(last_timestamp_ns))

    def gather_signatures(self, transfers: Any) -> SignatureCheck:
        """Gather what checking a batch's signatures needs: each debit account's owner key, the
        signed bytes and the signatures. `SignatureCheck.run` may then go on any thread, while
        this engine does other work, since it touches nothing of the engine.

        Args:
            transfers: a 1-D TRANSFER_DTYPE array (or its raw bytes).

        Returns:
            A SignatureCheck, to run and then hand to `submit(signature_check=...)`.

        Example:
            >>> from ledgercore import records
            >>> check = Engine().gather_signatures(records.transfers([dict(
            ...     id=1, debit_account_id=1, credit_account_id=2, amount=5, ledger=1, code=1)]))
            >>> check.run().marks().tolist()  # no such account: left to the rules
            [2]
        """
        array = records.as_records(transfers, records.TRANSFER_DTYPE, "transfers")
        keys, found = self._native.gather_owner_keys(array)
        return SignatureCheck(
            keys=keys.view(HINTED_KEY_DTYPE).reshape(len(array)),
            found=found,
            messages=records.signing_bytes(array, self._ledger_id),
            signatures=numpy.ascontiguousarray(array["signature"]),
        )

    # ------------------------------------------------------------------------ lookups

    def lookup_accounts(self, ids: Iterable[int] | numpy.ndarray) -> numpy.ndarray:
        """The accounts with these ids, in the order asked; ids not found are left out.

        Args:
            ids: a sequence of ints, a 1-D uint64 array of ids, or an (n, 2) uint64 lane array
                (`records.ids`).

        Returns:
            A 1-D ACCOUNT_DTYPE array.

        Raises:
            TypeError, LedgerValueError: ids is not a sequence, or an id is not a u128.

        Example:
            >>> from ledgercore import records
            >>> from ledgercore.engine import Engine
            >>> from ledgercore.keys import SigningKey
            >>> key = SigningKey.from_seed(b"k" * 32).public_key
            >>> engine = Engine()
            >>> _ = engine.create_accounts(records.accounts(
            ...     [dict(id=n, ledger=1, code=1, owner_key=key) for n in (1, 2)]))
            >>> records.u128(engine.lookup_accounts([2, 3, 1])["id"])
            [2, 1]
        """
        return self._native.lookup_accounts(records.ids(ids))[0]

    def changed_accounts(self) -> tuple[numpy.ndarray, numpy.ndarray]:
        """The accounts the last `submit` changed: (rows, records).

        rows are the accounts' positions in creation order (uint32, from 0, ascending and
        distinct): both accounts of every transfer it applied and of every pending transfer
        that expired in it. records are their ACCOUNT_DTYPE records as they are now. Empty after
        `create_accounts`.

        Example:
            >>> from ledgercore import records
            >>> from ledgercore.engine import Engine
            >>> from ledgercore.keys import SigningKey
            >>> key = SigningKey.from_seed(b"k" * 32).public_key
            >>> engine = Engine()
            >>> _ = engine.create_accounts(records.accounts(
            ...     [dict(id=n, ledger=1, code=1, owner_key=key) for n in (1, 2, 3)]))
            >>> _ = engine.submit(records.transfers([dict(id=9, debit_account_id=3,
            ...     credit_account_id=1, amount=5, ledger=1, code=1)]), verify_signatures=False)
            >>> rows, found = engine.changed_accounts()
            >>> rows.tolist(), records.u128(found["id"])
            ([0, 2], [1, 3])
        """
        return self._native.changed_accounts()

    def accounts_at(self, rows: numpy.ndarray) -> numpy.ndarray:
        """The ACCOUNT_DTYPE records of the accounts at these rows (positions in creation order).

        Raises:
            LedgerValueError: a row past the last account.

        Example:
            >>> from ledgercore import records
            >>> from ledgercore.engine import Engine
            >>> from ledgercore.keys import SigningKey
            >>> key = SigningKey.from_seed(b"k" * 32).public_key
            >>> engine = Engine()
            >>> _ = engine.create_accounts(records.accounts(
            ...     [dict(id=n, ledger=1, code=1, owner_key=key) for n in (5, 6)]))
            >>> records.u128(engine.accounts_at(numpy.array([1, 0], "<u4"))["id"])
            [6, 5]
        """
        return self._native.accounts_at(numpy.ascontiguousarray(rows, dtype="<u4"))

    def image(self) -> numpy.ndarray:
        """The engine's tables (accounts, transfers, failed ids, pending expiries) as one uint8
        array, which `load_image` turns back into an engine in the same state.

        Example:
            >>> from ledgercore import records
            >>> from ledgercore.keys import SigningKey
            >>> key = SigningKey.from_seed(b"k" * 32).public_key
            >>> engine = Engine()
            >>> _ = engine.create_accounts(records.accounts(
            ...     [dict(id=n, ledger=1, code=1, owner_key=key) for n in (1, 2)]))
            >>> copy = Engine.load_image(engine.image())
            >>> copy.account_count, records.u128(copy.lookup_accounts([2])["id"])
            (2, [2])
        """
        return self._native.image()

    @classmethod
    def load_image(cls, image: numpy.ndarray) -> Engine:
        """A new engine holding what `image()` saved.

        Raises:
            LedgerValueError: the image is malformed (another format, sizes that do not add
                up, a status, expiry or repeated id that cannot come from an engine).
        """
        engine = cls()
        engine._native.load_image(numpy.ascontiguousarray(image, dtype=numpy.uint8))
        return engine

    def lookup_transfers(self, ids: Iterable[int] | numpy.ndarray) -> numpy.ndarray:
        """The transfers with these ids, in the order asked; ids not found are left out.

        Args:
            ids: a sequence of ints, a 1-D uint64 array of ids, or an (n, 2) uint64 lane array
                (`records.ids`).

        Returns:
            A 1-D TRANSFER_DTYPE array, with the timestamps the engine assigned and a zero
            signature: the engine keeps what validation reads, and the signed records belong to
            the store (signing_bytes of a row are still the bytes that were signed).

        Raises:
            TypeError, LedgerValueError: ids is not a sequence, or an id is not a u128.

        Example:
            >>> from ledgercore import records
            >>> from ledgercore.engine import Engine
            >>> from ledgercore.keys import SigningKey
            >>> key = SigningKey.from_seed(b"k" * 32).public_key
            >>> engine = Engine()
            >>> _ = engine.create_accounts(records.accounts(
            ...     [dict(id=n, ledger=1, code=1, owner_key=key) for n in (1, 2)]),
            ...     timestamp_ns=1_000)
            >>> _ = engine.submit(records.transfers([dict(id=9, debit_account_id=1,
            ...     credit_account_id=2, amount=3, ledger=1, code=1)]), verify_signatures=False)
            >>> found = engine.lookup_transfers([9])
            >>> records.u128(found["amount"][0]), bool(found["timestamp"][0] > 1_000)
            (3, True)
        """
        return self._native.lookup_transfers(records.ids(ids))[0]

    def balances(self, ids: Iterable[int] | numpy.ndarray) -> numpy.ndarray:
        """The four balances of each account, aligned with `ids`.

        Args:
            ids: a sequence of ints, a 1-D uint64 array of ids, or an (n, 2) uint64 lane array
                (`records.ids`).

        Returns:
            A 1-D records.BALANCE_DTYPE array (id and the four balances as u128 lanes).

        Raises:
            TypeError, LedgerValueError: ids is not a sequence, or an id is not a u128.
            LedgerValueError: an id is not an account, naming the first such id.

        Example:
            >>> from ledgercore import records
            >>> from ledgercore.engine import Engine
            >>> from ledgercore.keys import SigningKey
            >>> key = SigningKey.from_seed(b"k" * 32).public_key
            >>> engine = Engine()
            >>> _ = engine.create_accounts(records.accounts(
            ...     [dict(id=n, ledger=1, code=1, owner_key=key) for n in (1, 2)]))
            >>> _ = engine.submit(records.transfers([dict(id=9, debit_account_id=1,
            ...     credit_account_id=2, amount=3, ledger=1, code=1, flags=2)]),
            ...     verify_signatures=False)
            >>> records.to_dicts(engine.balances([2]))[0]["credits_pending"]
            3
        """
        lanes = records.ids(ids)
        found_accounts, found = self._native.lookup_accounts(lanes)
        if not found.all():
            row = int(numpy.flatnonzero(~found)[0])
            raise LedgerValueError(f"ids[{row}]: no account {records.u128(lanes[row])}")
        out = numpy.empty(len(found_accounts), dtype=records.BALANCE_DTYPE)
        for name in records.BALANCE_DTYPE.names or ():
            out[name] = found_accounts[name]
        return out

    def check_invariants(self) -> dict[int, tuple[int, int, int, int]]:
        """Check every account (O(accounts)): debits equal credits on each ledger, posted and
        pending, and no balance breaks its account's flags.

        Returns:
            {ledger: (debits_pending, debits_posted, credits_pending, credits_posted)}: sums
            over the ledger's accounts, which may pass 2^128 though no balance can.

        Raises:
            InvariantError: an invariant is broken, naming it.

        Example:
            >>> from ledgercore.engine import Engine
            >>> Engine().check_invariants()
            {}
        """
        return self._native.check_invariants()

    @property
    def account_count(self) -> int:
        """Accounts created."""
        return int(self._native.account_count)

    @property
    def transfer_count(self) -> int:
        """Transfers applied (single, pending, post and void)."""
        return int(self._native.transfer_count)

    @property
    def pending_count(self) -> int:
        """Pending transfers neither posted, voided nor expired."""
        return int(self._native.pending_count)

    @property
    def last_timestamp_ns(self) -> int:
        """The last timestamp the engine assigned (0 before the first record)."""
        return int(self._native.last_timestamp_ns)

    @property
    def rules(self) -> int:
        """The rules the next batches are applied by: 2 (the current ones), or 1 to apply again
        the blocks of a store whose headers are of format 1, which were accepted by them.

        Rules 1 differ in two answers: a void naming AMOUNT_MAX voided the whole pending
        amount (rules 2 refuse it unless that is the pending amount), and a batch's last record,
        linked, in a chain that had failed already answered linked_event_chain_open (rules 2:
        linked_event_failed). The ledger sets them per block when it replays or verifies one.

        Example:
            >>> engine = Engine()
            >>> engine.rules
            2
            >>> engine.rules = 1
            >>> engine.rules
            1
        """
        return int(self._native.rules)

    @rules.setter
    def rules(self, value: int) -> None:
        self._native.rules = value

    @property
    def memory_size(self) -> int:
        """Bytes of native memory the engine holds (records, hash tables, logs)."""
        return int(self._native.memory_size)
