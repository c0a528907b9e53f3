"""Clocks that cannot be bent, and expiry as a block of its own.

A clock the caller gives is taken as it is or refused: never moved past the head, never far
ahead of the wall clock unless the ledger was opened to import history. Pending transfers whose
timeout lapsed leave the balances when expire() makes a block of their expiry, and that block
replays the same way on reopening and in verify_chain.
"""

from __future__ import annotations

import os
import time

import numpy
import pytest
from ledger_traffic import Traffic, open_ledger

from ledgercore import records
from ledgercore.engine import Engine
from ledgercore.errors import LedgerValueError
from ledgercore.ledger import CLOCK_AHEAD_MAX_NS, Ledger
from ledgercore.records import TransferFlags as TF
from ledgercore.records import TransferResult as TR

SECOND = 10**9
T0 = 1_700_000_000 * SECOND
YEAR = 365 * 24 * 3600 * SECOND


def opened(tmp_path, **options) -> tuple[Ledger, Traffic]:
    """A ledger with four accounts created at T0 (timestamps T0 .. T0 + 3)."""
    traffic = Traffic(4, seed=3)
    ledger = open_ledger(tmp_path / "ledger", **options)
    results, _ = ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
    assert results.tolist() == [0] * 4
    return ledger, traffic


def state(ledger: Ledger, traffic: Traffic) -> tuple:
    return ledger.head(), ledger.clock_ns, ledger.balances(traffic.account_ids).tobytes()


def signed(traffic: Traffic, **row: int) -> numpy.ndarray:
    """One transfer from account 1 to account 2, signed by account 1's owner."""
    batch = records.transfers(
        [dict(debit_account_id=1, credit_account_id=2, amount=40, ledger=1, code=1, **row)]
    )
    traffic.sign(batch)
    return batch


def pending_hold(traffic: Traffic, transfer_id: int, timeout_s: int) -> numpy.ndarray:
    return signed(traffic, id=transfer_id, flags=TF.pending, timeout_s=timeout_s)


def post_of(traffic: Traffic, transfer_id: int, pending_id: int) -> numpy.ndarray:
    return signed(traffic, id=transfer_id, pending_id=pending_id, flags=TF.post_pending)


def newcomer() -> numpy.ndarray:
    """An account no other test creates (id 99)."""
    return records.accounts(
        [dict(id=99, ledger=1, code=1, owner_key=Traffic(1).keys[0].public_key)]
    )


def debits_pending(ledger: Ledger, account_id: int = 1) -> int:
    return records.to_dicts(ledger.balances([account_id]))[0]["debits_pending"]


# ---------------------------------------------------------------------------- clocks behind


def test_an_explicit_clock_behind_the_head_is_refused_and_changes_nothing(tmp_path):
    ledger, traffic = opened(tmp_path)
    with ledger:
        batch = traffic.batch(3, refused=False, pending=False)
        results, header = ledger.submit(batch, timestamp_ns=T0 + 10 * SECOND)
        assert results.tolist() == [0, 0, 0] and header.timestamp_ns == T0 + 10 * SECOND
        before = state(ledger, traffic)
        assert ledger.clock_ns == T0 + 10 * SECOND + 2
        later = traffic.batch(2, refused=False, pending=False)
        for clock in (1, T0, T0 + 10 * SECOND, T0 + 10 * SECOND + 2):
            with pytest.raises(LedgerValueError) as refused:
                ledger.submit(later, timestamp_ns=clock)
            message = str(refused.value)
            assert f"timestamp_ns: {clock} is not after the ledger's clock" in message
            assert f"clock_ns = {T0 + 10 * SECOND + 2}" in message
            assert state(ledger, traffic) == before
        with pytest.raises(LedgerValueError, match="not after the ledger's clock"):
            ledger.create_accounts(newcomer(), timestamp_ns=T0 + 1)
        assert state(ledger, traffic) == before
        # The refused batch was not spent: it applies as it is at a later clock.
        results, header = ledger.submit(later, timestamp_ns=T0 + 11 * SECOND)
        assert results.tolist() == [0, 0] and header.timestamp_ns == T0 + 11 * SECOND
        assert ledger.verify_chain(progress=False).ok


def test_a_batch_takes_its_clock_and_the_nanoseconds_after_it(tmp_path):
    ledger, traffic = opened(tmp_path)
    with ledger:
        base = T0 + 5 * SECOND
        ledger.submit(traffic.batch(4, refused=False, pending=False), timestamp_ns=base)
        following = traffic.batch(1, refused=False, pending=False)
        with pytest.raises(LedgerValueError, match=f"{base + 3} is not after"):
            ledger.submit(following, timestamp_ns=base + 3)
        results, header = ledger.submit(following, timestamp_ns=base + 4)
        assert results.tolist() == [0] and header.timestamp_ns == base + 4
        stamps = ledger.lookup_transfers(records.u128(following["id"]))["timestamp"]
        assert stamps.tolist() == [base + 4]


def test_submit_many_refuses_a_clock_behind_the_batch_before_it(tmp_path):
    ledger, traffic = opened(tmp_path)
    with ledger:
        batches = [traffic.batch(5, refused=False, pending=False) for _ in range(3)]
        clocks = [T0 + SECOND, T0 + SECOND + 4, T0 + 2 * SECOND]
        heights = []
        with pytest.raises(LedgerValueError) as refused:
            for _, header in ledger.submit_many(batches, timestamps_ns=clocks):
                heights.append(header.height)
        assert str(refused.value).startswith(f"timestamps_ns[1]: {T0 + SECOND + 4} is not after")
        assert heights == [2] and ledger.head().height == 2
        assert ledger.clock_ns == T0 + SECOND + 4
        # Neither the refused batch nor the one behind it was applied.
        assert len(ledger.lookup_transfers(records.u128(batches[2]["id"]))) == 0


def test_a_batch_that_makes_no_block_gives_its_timestamps_back(tmp_path):
    ledger, traffic = opened(tmp_path)
    with ledger:
        refused = traffic.batch(3, refused=False, pending=False)
        refused["signature"][:, 0] ^= 1
        results, header = ledger.submit(refused, timestamp_ns=T0 + SECOND)
        assert set(results.tolist()) == {TR.bad_signature} and header is None
        assert ledger.clock_ns == T0 + 3
        results, header = ledger.create_accounts(traffic.accounts(), timestamp_ns=T0 + SECOND)
        assert set(results.tolist()) == {records.CreateAccountResult.exists} and header is None
        assert ledger.clock_ns == T0 + 3
        good = traffic.batch(2, refused=False, pending=False)
        _, header = ledger.submit(good, timestamp_ns=T0 + SECOND)
        assert header.timestamp_ns == T0 + SECOND
    with open_ledger(tmp_path / "ledger") as reopened:
        assert reopened.clock_ns == T0 + SECOND + 1


# ---------------------------------------------------------------------------- clocks ahead


def test_a_clock_far_ahead_of_the_wall_clock_is_refused(tmp_path):
    ledger, traffic = opened(tmp_path)
    with ledger:
        before = state(ledger, traffic)
        ahead = time.time_ns() + 10 * YEAR
        with pytest.raises(LedgerValueError) as refused:
            ledger.submit(traffic.batch(2, refused=False), timestamp_ns=ahead)
        message = str(refused.value)
        assert f"timestamp_ns: {ahead} is " in message and "ahead of the wall clock" in message
        assert f"clock_ahead_max_ns = {CLOCK_AHEAD_MAX_NS}" in message
        assert "clock_ahead_max_ns=None" in message  # how to import history
        with pytest.raises(LedgerValueError, match="ahead of the wall clock"):
            ledger.create_accounts(newcomer(), timestamp_ns=ahead)
        with pytest.raises(
            LedgerValueError, match=r"now_ns: \d+ is \d+ ns .* ahead of the wall clock"
        ):
            ledger.expire(ahead)
        assert state(ledger, traffic) == before
        # Within the bound, a clock ahead of the wall clock is taken as it is.
        near = time.time_ns() + CLOCK_AHEAD_MAX_NS // 2
        _, header = ledger.submit(traffic.batch(2, refused=False), timestamp_ns=near)
        assert header.timestamp_ns == near


def test_clock_ahead_max_ns_sets_the_bound(tmp_path):
    hour = 3600 * SECOND
    ledger, traffic = opened(tmp_path, clock_ahead_max_ns=2 * hour)
    with ledger:
        clock = time.time_ns() + hour
        _, header = ledger.submit(traffic.batch(2, refused=False), timestamp_ns=clock)
        assert header.timestamp_ns == clock
        with pytest.raises(LedgerValueError, match=f"clock_ahead_max_ns = {2 * hour}"):
            ledger.submit(traffic.batch(2), timestamp_ns=time.time_ns() + 3 * hour)


@pytest.mark.parametrize(
    "value, error, message",
    [
        (-1, LedgerValueError, "clock_ahead_max_ns: -1 is negative"),
        (1.5, TypeError, "clock_ahead_max_ns: expected an int .ns. or None, got float"),
        (True, TypeError, "got bool"),
    ],
)
def test_a_bad_clock_ahead_max_ns_is_refused_before_the_store_is_touched(
    tmp_path, value, error, message
):
    with pytest.raises(error, match=message):
        open_ledger(tmp_path / "ledger", clock_ahead_max_ns=value)
    assert not os.path.exists(tmp_path / "ledger")


def test_a_wall_clock_behind_the_head_continues_one_past_it(tmp_path):
    """The wall clock falls behind the head when it steps back, or as here when a block was
    given a clock ahead of it: wall-clock blocks then take clock_ns + 1, and nothing fails."""
    ledger, traffic = opened(tmp_path, clock_ahead_max_ns=None)
    with ledger:
        ahead = time.time_ns() + YEAR
        ledger.submit(traffic.batch(3, refused=False, pending=False), timestamp_ns=ahead)
        _, header = ledger.submit(traffic.batch(2, refused=False, pending=False))
        assert header.timestamp_ns == ahead + 3
        assert ledger.clock_ns == ahead + 4
        assert ledger.expire() == (0, None)


# ---------------------------------------------------------------------------- importing history


def test_history_is_imported_with_its_own_timestamps(tmp_path):
    past = 978_307_200 * SECOND  # 2001-01-01
    traffic = Traffic(4, seed=3)
    future = time.time_ns() + 10 * YEAR
    with open_ledger(tmp_path / "ledger", clock_ahead_max_ns=None) as ledger:
        _, header = ledger.create_accounts(traffic.accounts(), timestamp_ns=past)
        assert header.timestamp_ns == past
        batch = traffic.batch(3, refused=False, pending=False)
        _, header = ledger.submit(batch, timestamp_ns=past + YEAR)
        stamps = ledger.lookup_transfers(records.u128(batch["id"]))["timestamp"].tolist()
        assert stamps == [past + YEAR, past + YEAR + 1, past + YEAR + 2]
        # Without the bound, a clock ahead of the wall clock is taken too...
        _, header = ledger.submit(traffic.batch(2, refused=False), timestamp_ns=future)
        assert header.timestamp_ns == future
        # ...and clocks must still increase.
        with pytest.raises(LedgerValueError, match="not after the ledger's clock"):
            ledger.submit(traffic.batch(2, refused=False), timestamp_ns=future)
        assert ledger.verify_chain(progress=False).ok
    # Reopened with the default bound, the store keeps its clock: wall-clock blocks follow it.
    with open_ledger(tmp_path / "ledger") as reopened:
        assert reopened.clock_ns == future + 1
        _, header = reopened.submit(traffic.batch(2, refused=False, pending=False))
        assert header.timestamp_ns == future + 2


def test_past_clocks_need_no_lifted_bound(tmp_path):
    ledger, traffic = opened(tmp_path)  # T0 lies in 2023
    with ledger:
        _, header = ledger.submit(traffic.batch(2, refused=False), timestamp_ns=T0 + YEAR)
        assert header.timestamp_ns == T0 + YEAR


# ---------------------------------------------------------------------------- expiry


def test_expire_makes_lapsed_pending_transfers_leave_balances(tmp_path):
    ledger, traffic = opened(tmp_path)
    with ledger:
        hold = pending_hold(traffic, 50, timeout_s=5)
        results, _ = ledger.submit(hold, timestamp_ns=T0 + SECOND)
        assert results.tolist() == [0]
        assert debits_pending(ledger) == 40
        # Lapsed at T0 + 6 s, but no block has reached that clock: still counted.
        expired, header = ledger.expire(T0 + 7 * SECOND)
        assert expired == 1
        assert header.kind.name == "transfers" and header.timestamp_ns == T0 + 7 * SECOND
        assert (header.record_count, header.transfer_count) == (0, 0)
        assert header.height == ledger.head().height == 3
        assert debits_pending(ledger) == 0
        assert records.to_dicts(ledger.balances([2]))[0]["credits_pending"] == 0
        assert ledger.clock_ns == T0 + 7 * SECOND
        results, _ = ledger.submit(post_of(traffic, 51, 50), timestamp_ns=T0 + 8 * SECOND)
        assert results.tolist() == [TR.pending_transfer_expired]
        assert ledger.check_invariants()[1] == (0, 0, 0, 0)
        assert ledger.verify_chain(progress=False).ok


def test_expire_with_nothing_due_makes_no_block(tmp_path):
    ledger, traffic = opened(tmp_path)
    with ledger:
        assert ledger.expire() == (0, None)
        ledger.submit(pending_hold(traffic, 50, timeout_s=5), timestamp_ns=T0 + SECOND)
        posted = pending_hold(traffic, 60, timeout_s=5)
        ledger.submit(posted, timestamp_ns=T0 + 2 * SECOND)
        posting = ledger.submit(post_of(traffic, 61, 60), timestamp_ns=T0 + 3 * SECOND)
        assert posting[0].tolist() == [0]
        before = state(ledger, traffic)
        # Before the first timeout lapses (T0 + 6 s) nothing is due.
        assert ledger.expire(T0 + 6 * SECOND - 1) == (0, None)
        assert state(ledger, traffic) == before
        # The first lapses; the second was posted, and its lapsed timeout expires nothing.
        assert ledger.expire(T0 + 6 * SECOND)[0] == 1
        after = state(ledger, traffic)
        assert ledger.expire(T0 + 9 * SECOND) == (0, None)
        assert state(ledger, traffic) == after
        assert ledger.verify_chain(progress=False).ok


def test_expire_refuses_a_clock_behind_the_head(tmp_path):
    ledger, traffic = opened(tmp_path)
    with ledger:
        ledger.submit(pending_hold(traffic, 50, timeout_s=1), timestamp_ns=T0 + 9 * SECOND)
        before = state(ledger, traffic)
        with pytest.raises(LedgerValueError, match=f"now_ns: {T0 + 9 * SECOND} is not after"):
            ledger.expire(T0 + 9 * SECOND)
        with pytest.raises(TypeError, match="now_ns: expected an int, got float"):
            ledger.expire(1.0e18)
        assert state(ledger, traffic) == before


def test_the_engine_refuses_to_expire_at_a_clock_it_has_passed():
    traffic = Traffic(2)
    engine = Engine()
    engine.create_accounts(traffic.accounts(), timestamp_ns=T0)
    with pytest.raises(LedgerValueError, match=f"timestamp_ns: {T0 + 1} is not past the last"):
        engine.expire(T0 + 1)
    assert engine.last_timestamp_ns == T0 + 1
    with pytest.raises(LedgerValueError, match="is ahead of the last timestamp given"):
        engine.rewind_clock(T0 + 2)
    with pytest.raises(LedgerValueError, match="or behind a stored record's"):
        engine.rewind_clock(T0)
    assert engine.last_timestamp_ns == T0 + 1


def test_a_read_only_ledger_refuses_expire(tmp_path):
    ledger, _ = opened(tmp_path)
    ledger.close()
    reader = open_ledger(tmp_path / "ledger", read_only=True)
    with reader, pytest.raises(LedgerValueError, match="read-only"):
        reader.expire()


@pytest.mark.parametrize("reopen", ["snapshot", "blocks"])
def test_a_block_of_expiries_replays_on_reopening_and_in_verify_chain(tmp_path, reopen):
    """Two ledgers take the same calls; one is closed after a block of expiries and reopened
    (from its snapshot, or by applying its blocks again), and both go on alike."""
    ledgers, traffics = [], []
    for name in ("kept", "reopened"):
        ledger, traffic = opened(tmp_path / name)
        ledger.submit(traffic.batch(30), timestamp_ns=T0 + SECOND)
        ledger.submit(pending_hold(traffic, 10**6, timeout_s=5), timestamp_ns=T0 + 2 * SECOND)
        expired, header = ledger.expire(T0 + 60 * SECOND)
        assert expired >= 1 and header is not None
        ledgers.append(ledger)
        traffics.append(traffic)
    kept, closing = ledgers
    try:
        # Never closed before, it has no older snapshot to fall back on.
        closing.close(snapshot=reopen == "snapshot")
        reopened = open_ledger(tmp_path / "reopened" / "ledger")
        ledgers[1] = reopened
        assert reopened.opened_from == reopen
        assert state(reopened, traffics[1]) == state(kept, traffics[0])
        assert reopened.verify_chain(progress=False).ok
        answers = []
        for ledger, traffic in zip(ledgers, traffics, strict=True):
            results, header = ledger.submit(traffic.batch(20), timestamp_ns=T0 + 61 * SECOND)
            expiry = ledger.expire(T0 + 7200 * SECOND)
            answers.append((results.tolist(), header, expiry, state(ledger, traffic)))
        assert answers[0] == answers[1]
    finally:
        for ledger in ledgers:
            ledger.close()
