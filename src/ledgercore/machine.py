"""The deterministic core shared by a live ledger, its reopening and `verify_chain`.

A `Machine` holds the engine, the transaction log, the state tree and the few arrays that map
timestamps to positions; `accounts` and `transfers` apply one block's batch at the block's clock
and return what the block changed. The same calls with the same inputs give the same results,
roots and changes, which is what lets a store be reopened (results compared with the stored
ones) and re-verified from genesis (everything compared).

Positions come from timestamps: the engine gives every record a strictly increasing timestamp,
so an account's state-tree slot and a transfer's log index are found by binary search in the
timestamps of the accounts (transfers) in creation (log) order.

Example:
    >>> from ledgercore import records
    >>> from ledgercore.keys import SigningKey
    >>> key = SigningKey.from_seed(b"m" * 32).public_key
    >>> machine = Machine()
    >>> step = machine.accounts(records.accounts(
    ...     [dict(id=n, ledger=1, code=1, owner_key=key) for n in (1, 2)]), 1_000)
    >>> step.results.tolist(), machine.state.size
    ([0, 0], 2)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy

from ledgercore import records
from ledgercore.engine import Engine, SignatureCheck
from ledgercore.errors import LedgerValueError
from ledgercore.hashing import blake3_stamped_rows
from ledgercore.merkle import LEAF_KEY, MerkleLog, StateTree

_TIMESTAMP_OFFSET = records.TRANSFER_DTYPE.fields["timestamp"][1]

__all__ = ["Machine", "Step"]

NS_PER_S = 1_000_000_000
_OK = int(records.TransferResult.ok)
_BAD_SIGNATURE = int(records.TransferResult.bad_signature)
_FIRST_STATEFUL = int(records.TransferResult.account_not_found)
_EMPTY_IDS = numpy.zeros((0, 2), dtype="<u8")


@dataclass
class Step:
    """What one block's batch did: its results and every change a block records."""

    results: numpy.ndarray
    base_ns: int
    transfer_count: int = 0
    leaf_hashes: numpy.ndarray | None = None
    log_nodes: list[tuple[int, int, numpy.ndarray]] = field(default_factory=list)
    state_slots: numpy.ndarray = field(default_factory=lambda: numpy.zeros(0, "<u4"))
    state_records: numpy.ndarray = field(
        default_factory=lambda: numpy.zeros(0, records.ACCOUNT_DTYPE)
    )
    new_account_ids: numpy.ndarray = field(default_factory=lambda: _EMPTY_IDS)
    changed: bool = False
    """True if the batch changed the ledger's state, so that it must become a block."""
    expired_count: int = 0
    """Pending transfers that expired in a block of expiries (see `Machine.expire`)."""


def _distinct_ids(ids: numpy.ndarray) -> numpy.ndarray:
    """The distinct rows of an (n, 2) uint64 lane array, sorted by (high, low) lane."""
    if len(ids) == 0:
        return ids
    if not ids[:, 1].any():
        # Ids below 2^64 (the usual case) sort as one integer, several times faster.
        low = numpy.sort(ids[:, 0])
        low = low[numpy.concatenate(([True], low[1:] != low[:-1]))]
        return numpy.ascontiguousarray(numpy.stack([low, numpy.zeros_like(low)], axis=1))
    order = numpy.lexsort((ids[:, 0], ids[:, 1]))
    ordered = ids[order]
    keep = numpy.ones(len(ordered), dtype=bool)
    keep[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    return numpy.ascontiguousarray(ordered[keep])


class _Growing:
    """A 1-D array appended to in chunks, concatenated when read."""

    def __init__(self, dtype: str | numpy.dtype) -> None:
        self._dtype = numpy.dtype(dtype)
        self._chunks: list[numpy.ndarray] = []
        self._whole = numpy.zeros((0,), self._dtype)

    def append(self, values: numpy.ndarray) -> None:
        if len(values):
            self._chunks.append(numpy.asarray(values, self._dtype))

    def array(self) -> numpy.ndarray:
        if self._chunks:
            self._whole = numpy.concatenate([self._whole, *self._chunks])
            self._chunks = []
        return self._whole


class Machine:
    """Engine, log, state tree and position maps, advanced one block at a time.

    Example:
        >>> Machine().log.size
        0
    """

    def __init__(self, *, verify_signatures: bool = True) -> None:
        self.engine = Engine()
        # One thread each: a block's hashing is a few milliseconds, which a helper thread
        # started per call costs more CPU than it saves, and while a ledger verifies the next
        # batches' signatures every core is taken already.
        self.log = MerkleLog(threads=1)
        self.state = StateTree(threads=1)
        self.verify_signatures = verify_signatures
        self.log_timestamps = _Growing("<u8")
        self.account_timestamps = _Growing("<u8")
        self.account_ids = _Growing("V16")
        self._expiry_ns = numpy.zeros(0, "<u8")
        self._expiry_ids = _EMPTY_IDS

    def clock(self, timestamp_ns: int | None) -> int:
        """The first timestamp the next batch gets: the caller's clock (default the wall clock)
        or one past the last timestamp given, whichever is later.

        This is the engine's rule, which a stored block's clock must already satisfy (verify
        checks that it gives the header's clock back); a live ledger refuses a caller's clock
        that would be moved (Ledger's clock rules) rather than move it.
        """
        now = time.time_ns() if timestamp_ns is None else timestamp_ns
        return max(now, self.engine.last_timestamp_ns + 1)

    # ------------------------------------------------------------------------ accounts

    def accounts(self, array: numpy.ndarray, base_ns: int, *, commit: bool = True) -> Step:
        """Create a batch of accounts at clock base_ns; with commit, extend the state tree."""
        last_ns = self.engine.last_timestamp_ns
        results = self.engine.create_accounts(array, timestamp_ns=base_ns)
        step = Step(results=results, base_ns=base_ns)
        accepted = numpy.flatnonzero(results == 0)
        if len(accepted) == 0:
            # No block: its timestamps are given back, as a replay of the blocks never takes
            # them, so that the clock (and the clocks it refuses) is the blocks' own.
            self.engine.rewind_clock(last_ns)
            return step
        ids = numpy.ascontiguousarray(array["id"][accepted])
        created = self.engine.lookup_accounts(ids)
        assert len(created) == len(ids)
        first_slot = len(self.account_timestamps.array())
        self.account_timestamps.append(created["timestamp"])
        self.account_ids.append(ids.view("V16").ravel())
        step.new_account_ids = ids
        step.state_slots = numpy.arange(first_slot, first_slot + len(ids), dtype="<u4")
        step.state_records = created
        step.changed = True
        if commit:
            self.state.extend(created)
        return step

    # ------------------------------------------------------------------------ transfers

    def transfers(
        self,
        array: numpy.ndarray,
        base_ns: int,
        *,
        stored_results: numpy.ndarray | None = None,
        commit: bool = True,
        timings: dict[str, float] | None = None,
        signature_check: SignatureCheck | None = None,
    ) -> Step:
        """Submit a batch of transfers at clock base_ns.

        With stored_results (reopening a store), signatures are not verified again: the
        store's verdicts (bad_signature or not) stand in for them. The leaves are hashed and
        appended to the log; with commit, the changed accounts are also rehashed in the state
        tree (without, it is built once at the end: `build_state`). A finished
        signature_check of this batch stands in for verifying its signatures here.

        An empty batch is a block of expiries: see `expire`.
        """
        if len(array) == 0:
            return self.expire(base_ns, commit=commit)
        last_ns = self.engine.last_timestamp_ns
        due = self._pop_due(base_ns)
        if stored_results is not None:
            results = self.engine.submit(
                array,
                signature_verdicts=stored_results != _BAD_SIGNATURE,
                timestamp_ns=base_ns,
            )
        else:
            results = self.engine.submit(
                array,
                verify_signatures=self.verify_signatures,
                timestamp_ns=base_ns,
                timings=timings,
                signature_check=signature_check,
            )
        step = Step(results=results, base_ns=base_ns)
        accepted = numpy.flatnonzero(results == _OK)
        step.transfer_count = len(accepted)
        step.changed = bool(len(accepted) or len(due) or (results >= _FIRST_STATEFUL).any())
        if not step.changed:
            # No block: its timestamps are given back (see accounts).
            self.engine.rewind_clock(last_ns)
            return step
        timestamps = numpy.uint64(base_ns) + accepted.astype("<u8")
        self.log_timestamps.append(timestamps)
        if commit:
            kept = array if len(accepted) == len(array) else array[accepted]
            self._schedule_expiries(kept, timestamps)
        elif array["timeout_s"].any():
            # Only pending transfers with a timeout matter here: copy just those rows.
            pending = accepted[array["timeout_s"][accepted] > 0]
            pending_stamps = numpy.uint64(base_ns) + pending.astype("<u8")
            self._schedule_expiries(array[pending], pending_stamps)
        started = time.perf_counter()
        # A leaf is the record with its timestamp: hashed from the batch as it is, each row
        # stamped on the way into the hash, so the batch's megabytes are not copied.
        contiguous = numpy.ascontiguousarray(array)
        rows = contiguous.view(numpy.uint8).reshape(len(array), records.TRANSFER_DTYPE.itemsize)
        step.leaf_hashes = blake3_stamped_rows(
            rows, accepted, stamp_offset=_TIMESTAMP_OFFSET, stamp_base=base_ns, key=LEAF_KEY
        )
        hashed = time.perf_counter()
        old_size = self.log.size
        self.log.append_leaf_hashes(step.leaf_hashes)
        if not commit:
            return step
        step.log_nodes = self.log.new_nodes(old_size)
        self._update_state(step, due)
        if timings is not None:
            timings["hash"] = hashed - started
            timings["merkle"] = time.perf_counter() - hashed
        return step

    def expire(self, base_ns: int, *, commit: bool = True) -> Step:
        """Expire the pending transfers due at clock base_ns, as a batch at that clock would
        before its first transfer, with no batch: a block of expiries, stored as a transfers
        block with no records, which is how a replay (a transfers body with no records) comes
        back here.

        The step changes the ledger only if some pending transfer expired; base_ns is then the
        engine's last timestamp. Otherwise nothing is changed, the schedule of expiries
        included, so that a ledger reopened from its blocks is this one.
        """
        step = Step(results=numpy.zeros(0, records.RESULT_DTYPE), base_ns=base_ns)
        step.expired_count = self.engine.expire(base_ns)
        if step.expired_count == 0:
            return step
        step.changed = True
        # The engine expired what was due; these are the same entries, dropped from the
        # schedule the next batch reads (posted or voided ones among them change nothing).
        self._pop_due(base_ns)
        if commit:
            slots, found = self.engine.changed_accounts()
            step.state_slots = slots
            step.state_records = found
            self.state.update(slots, found)
        return step

    def _update_state(self, step: Step, due: numpy.ndarray) -> None:
        """Rehash the state-tree slots of the accounts the batch changed, as the engine reports
        them, and of the accounts of pending transfers whose timeout fell due (ids, may repeat):
        one of those posted or voided before is unchanged, and rehashing it changes nothing."""
        slots, found = self.engine.changed_accounts()
        if len(due):
            ids = _distinct_ids(due)
            due_found = self.engine.lookup_accounts(ids)
            assert len(due_found) == len(ids)
            due_slots = numpy.searchsorted(self.account_timestamps.array(), due_found["timestamp"])
            merged = numpy.union1d(slots, due_slots).astype("<u4")
            if len(merged) != len(slots):
                slots, found = merged, self.engine.accounts_at(merged)
        if len(slots) == 0:
            return
        # The engine's rows are the accounts' creation order, which is the state tree's order.
        stamps = self.account_timestamps.array()
        assert int(slots[-1]) < len(stamps)
        assert (stamps[slots] == found["timestamp"]).all()
        assert (slots[1:] > slots[:-1]).all()
        step.state_slots = slots
        step.state_records = found
        self.state.update(slots, found)

    def _pop_due(self, base_ns: int) -> numpy.ndarray:
        """The accounts of pending transfers whose timeout lapses by base_ns (posted or voided
        ones included: rehashing an unchanged account changes nothing)."""
        if len(self._expiry_ns) == 0:
            return _EMPTY_IDS
        due = self._expiry_ns <= numpy.uint64(base_ns)
        if not due.any():
            return _EMPTY_IDS
        ids = self._expiry_ids.reshape(-1, 2, 2)[due].reshape(-1, 2)
        self._expiry_ns = self._expiry_ns[~due]
        self._expiry_ids = self._expiry_ids.reshape(-1, 2, 2)[~due].reshape(-1, 2)
        return ids

    def _schedule_expiries(self, kept: numpy.ndarray, timestamps: numpy.ndarray) -> None:
        pending = (kept["flags"] & records.TransferFlags.pending != 0) & (kept["timeout_s"] > 0)
        if not pending.any():
            return
        expires = timestamps[pending] + kept["timeout_s"][pending].astype("<u8") * numpy.uint64(
            NS_PER_S
        )
        pairs = numpy.stack(
            [kept["debit_account_id"][pending], kept["credit_account_id"][pending]], axis=1
        ).reshape(-1, 2)
        self._expiry_ns = numpy.concatenate([self._expiry_ns, expires])
        self._expiry_ids = numpy.concatenate([self._expiry_ids, pairs])

    # ------------------------------------------------------------------------ snapshots

    def sections(self) -> dict[str, numpy.ndarray]:
        """What a snapshot keeps of this machine: the log's leaf hashes, not its inner nodes
        (rebuilt from them), and no state tree (rebuilt from the accounts)."""
        return {
            "engine": self.engine.image(),
            "log_leaves": self.log.nodes(0),
            "log_timestamps": self.log_timestamps.array(),
            "account_timestamps": self.account_timestamps.array(),
            "account_ids": self.account_ids.array().view(numpy.uint8).reshape(-1, 16),
            "expiry_ns": self._expiry_ns,
            "expiry_ids": self._expiry_ids,
        }

    def restore(self, sections: dict[str, numpy.ndarray]) -> None:
        """Take the engine and positions of a snapshot (into a machine that applied nothing).

        Raises:
            LedgerValueError: the sections do not fit together; the machine is unchanged.
        """
        # The log is left alone: the caller rebuilds it from sections["log_leaves"], perhaps
        # at this very moment on another thread.
        assert self.engine.account_count == 0 and self.engine.transfer_count == 0
        engine = Engine.load_image(sections["engine"])
        # Copies: the sections may be views of a mapped file, which the next close replaces.
        log_timestamps = numpy.array(sections["log_timestamps"], "<u8")
        account_timestamps = numpy.array(sections["account_timestamps"], "<u8")
        account_ids = numpy.array(sections["account_ids"], numpy.uint8)
        expiry_ns = numpy.array(sections["expiry_ns"], "<u8")
        expiry_ids = numpy.array(sections["expiry_ids"], "<u8").reshape(-1, 2)
        if (
            len(log_timestamps) != engine.transfer_count
            or sections["log_leaves"].shape != (engine.transfer_count, 32)
            or len(account_timestamps) != engine.account_count
            or account_ids.shape != (engine.account_count, 16)
            or len(expiry_ids) != 2 * len(expiry_ns)
        ):
            raise LedgerValueError("snapshot: its sections disagree on the counts")
        self.engine = engine
        self.log_timestamps = _Growing("<u8")
        self.log_timestamps.append(log_timestamps)
        self.account_timestamps = _Growing("<u8")
        self.account_timestamps.append(account_timestamps)
        self.account_ids = _Growing("V16")
        self.account_ids.append(account_ids.view("V16").ravel())
        self._expiry_ns = expiry_ns
        self._expiry_ids = expiry_ids

    # ------------------------------------------------------------------------ positions

    def slot_of(self, account_timestamp: int) -> int:
        """The state-tree slot of the account created at this timestamp."""
        stamps = self.account_timestamps.array()
        slot = int(numpy.searchsorted(stamps, numpy.uint64(account_timestamp)))
        assert slot < len(stamps) and int(stamps[slot]) == account_timestamp
        return slot

    def log_index_of(self, transfer_timestamps: numpy.ndarray) -> numpy.ndarray:
        """The log index of each accepted transfer, by its timestamp."""
        stamps = self.log_timestamps.array()
        index = numpy.searchsorted(stamps, numpy.asarray(transfer_timestamps, "<u8"))
        assert (index < len(stamps)).all()
        assert (stamps[index] == transfer_timestamps).all()
        return index

    def build_state(self) -> None:
        """Fill the state tree from the engine's accounts in creation order (after reopening
        with commit=False)."""
        assert self.state.size == 0
        ids = self.account_ids.array()
        if len(ids) == 0:
            return
        found = self.engine.lookup_accounts(ids.view("<u8").reshape(-1, 2))
        assert len(found) == len(ids)
        self.state.extend(found)
