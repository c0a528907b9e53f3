"""The engine against the plain-Python model: same random operations, same answers, always.

Hypothesis drives both with account batches, transfer batches (single, pending, post, void,
linked chains, duplicates, limits, amounts near 2^128, timeouts) and jumps of the clock, and
compares every result code, every stored record and every balance after every step, checking the
ledger's invariants each time.
"""

from __future__ import annotations

import os

import hypothesis.strategies as st
import numpy
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from ledgercore import records
from ledgercore.bench.model import (
    BALANCES,
    SIGNATURE_BAD,
    SIGNATURE_GOOD,
    SIGNATURE_UNCHECKED,
    Model,
)
from ledgercore.engine import Engine
from ledgercore.keys import SigningKey
from ledgercore.records import AccountFlags as AF
from ledgercore.records import TransferFlags as TF

MAX = 2**128 - 1
S = 1_000_000_000
KEY = SigningKey.from_seed(b"m" * 32).public_key
SMALL_ORDER_KEY = bytes([1]) + bytes(31)
ACCOUNT_IDS = list(range(0, 9))
TRANSFER_IDS = list(range(0, 41))

u128_edge = st.sampled_from([0, 1, 2**64 - 1, 2**64, 2**127, MAX - 1, MAX])
# Mostly ids that can exist, so that transfers get past the first checks often enough to
# compare what they change, not only how they are refused.
account_id = st.sampled_from(ACCOUNT_IDS[1:] * 4 + [0, MAX])
amount = st.one_of(st.integers(0, 120), u128_edge)
rare = st.sampled_from([0] * 9 + [1])

account_row = st.fixed_dictionaries(
    {
        "id": st.one_of(st.sampled_from(ACCOUNT_IDS[1:]), st.sampled_from([0, MAX])),
        "ledger": st.sampled_from([1, 1, 1, 2, 0]),
        "code": st.sampled_from([1, 1, 1, 2, 0]),
        "flags": st.sampled_from(
            [
                0,
                0,
                0,
                AF.linked,
                AF.debits_must_not_exceed_credits,
                AF.credits_must_not_exceed_debits,
                AF.frozen,
                AF.closed,
                6,
                1 << 8,
            ]
        ),
        "owner_key": st.sampled_from([KEY, KEY, KEY, SMALL_ORDER_KEY]),
        "user_data_64": rare,
        "credits_posted": rare,
        "timestamp": rare,
        "reserved": rare,
    }
)

kinds = st.sampled_from(
    [
        0,
        0,
        0,
        TF.pending,
        TF.pending,
        TF.post_pending,
        TF.void_pending,
        TF.pending | TF.void_pending,
        1 << 6,
    ]
)


@st.composite
def transfer_row(draw):
    kind = draw(kinds)
    linked = draw(st.sampled_from([0, 0, 0, TF.linked]))
    resolves = kind in (TF.post_pending, TF.void_pending)
    return {
        "id": draw(st.sampled_from(TRANSFER_IDS[1:] * 3 + [0, MAX])),
        "debit_account_id": draw(account_id),
        "credit_account_id": draw(account_id),
        "amount": draw(
            st.one_of(amount, st.just(0))
            if kind != TF.void_pending
            # 0 and the pending amount void it; AMOUNT_MAX and any other amount are refused.
            else st.one_of(st.sampled_from([0, 0, MAX, 5]), amount)
        ),
        "pending_id": draw(st.sampled_from(TRANSFER_IDS) if resolves else rare),
        "flags": int(kind) | int(linked),
        "timeout_s": draw(st.sampled_from([0, 0, 1, 3, 2**32 - 1]) if kind == TF.pending else rare),
        "ledger": draw(st.sampled_from([1, 1, 1, 1, 2, 0])),
        "code": draw(st.sampled_from([1, 1, 1, 1, 2, 0])),
        "user_data_64": draw(rare),
        "timestamp": draw(st.sampled_from([0] * 19 + [1])),
    }


clock_steps = st.sampled_from([0, 1, S // 2, S, 2 * S, 4 * S])
marks = st.sampled_from([SIGNATURE_GOOD] * 6 + [SIGNATURE_BAD, SIGNATURE_UNCHECKED])


class EngineMatchesModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.engine = Engine()
        self.model = Model()
        self.now = 1_000 * S

    @initialize(
        count=st.integers(0, 6),
        flags=st.lists(st.sampled_from([0, 0, 2, 4]), min_size=6, max_size=6),
    )
    def open_some_accounts(self, count, flags):
        """Valid accounts at the start, so that transfers are accepted often enough for their
        effects to be compared, not only their refusals."""
        rows = [
            dict(id=n + 1, ledger=1, code=1, owner_key=KEY, flags=flags[n]) for n in range(count)
        ]
        if rows:
            self.create_accounts_rows(rows, 0)

    @rule(rows=st.lists(account_row, min_size=1, max_size=6), step=clock_steps)
    def create_accounts(self, rows, step):
        self.create_accounts_rows(rows, step)

    def create_accounts_rows(self, rows, step):
        self.now += step
        batch = records.accounts(rows)
        got = self.engine.create_accounts(batch, timestamp_ns=self.now).tolist()
        assert len(self.engine.changed_accounts()[0]) == 0
        key_ok = [row["owner_key"] == KEY for row in rows]
        want = self.model.create_accounts(records.to_dicts(batch), key_ok, self.now)
        assert got == want

    @rule(
        rows=st.lists(transfer_row(), min_size=1, max_size=12),
        step=clock_steps,
        signed=st.booleans(),
        data=st.data(),
    )
    def submit(self, rows, step, signed, data):
        self.now += step
        batch = records.transfers(rows)
        signatures = None
        if signed:
            signatures = data.draw(st.lists(marks, min_size=len(rows), max_size=len(rows)))
        mask = None if signatures is None else numpy.array(signatures, dtype=numpy.uint8)
        every_row = numpy.arange(self.engine.account_count, dtype="<u4")
        before = self.engine.accounts_at(every_row)
        got = self.engine._native.submit(batch, mask, self.now).tolist()
        want = self.model.submit(records.to_dicts(batch), signatures, self.now)
        assert [records.TransferResult(r).name for r in got] == [
            records.TransferResult(r).name for r in want
        ]
        self.check_changed_accounts(batch, got, before)

    def check_changed_accounts(self, batch, results, before):
        """changed_accounts names every account the submit changed, and no account that no
        applied transfer and no pending transfer touches."""
        rows, found = self.engine.changed_accounts()
        after = self.engine.accounts_at(numpy.arange(len(before), dtype="<u4"))
        changed = set(numpy.flatnonzero(before != after).tolist())
        reported = rows.tolist()
        assert reported == sorted(set(reported))
        assert changed <= set(reported)
        assert (found == after[rows]).all()
        ids = records.u128(after["id"])
        applied = [
            row for row, result in zip(records.to_dicts(batch), results, strict=True) if result == 0
        ]
        may_change = {
            row[side] for row in applied for side in ("debit_account_id", "credit_account_id")
        }
        may_change |= {
            transfer[side]
            for transfer in self.model.transfers.values()
            if transfer["flags"] & TF.pending
            for side in ("debit_account_id", "credit_account_id")
        }
        assert {ids[row] for row in reported} <= may_change

    @rule(step=st.sampled_from([S, 3 * S, 10 * S]))
    def let_time_pass(self, step):
        self.now += step

    @invariant()
    def every_balance_agrees(self):
        ids = sorted(self.model.accounts)
        engine_rows = records.to_dicts(self.engine.lookup_accounts(ids))
        assert [row["id"] for row in engine_rows] == ids
        for row in engine_rows:
            expected = self.model.accounts[row["id"]]
            assert row == expected

    @invariant()
    def every_transfer_agrees(self):
        stored = records.to_dicts(self.engine.lookup_transfers([*TRANSFER_IDS, MAX]))
        assert {row["id"]: row for row in stored} == self.model.transfers
        pending = sum(1 for status in self.model.status.values() if status == "pending")
        assert self.engine.pending_count == pending
        assert self.engine.transfer_count == len(self.model.transfers)

    @invariant()
    def debits_equal_credits_on_every_ledger(self):
        totals = self.engine.check_invariants()
        assert totals == self.model.ledger_totals()
        for debits_pending, debits_posted, credits_pending, credits_posted in totals.values():
            assert debits_posted == credits_posted
            assert debits_pending == credits_pending

    @invariant()
    def no_balance_breaks_its_limit(self):
        for account in self.model.accounts.values():
            debits_pending, debits_posted, credits_pending, credits_posted = (
                account[name] for name in BALANCES
            )
            if account["flags"] & AF.debits_must_not_exceed_credits:
                assert debits_pending + debits_posted <= credits_posted
            if account["flags"] & AF.credits_must_not_exceed_debits:
                assert credits_pending + credits_posted <= debits_posted
            assert max(debits_pending + debits_posted, credits_pending + credits_posted) <= MAX


CI = os.environ.get("CI") == "true"

TestEngineMatchesModel = EngineMatchesModel.TestCase
TestEngineMatchesModel.settings = settings(
    max_examples=80 if CI else 200,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.mark.slow
class TestEngineMatchesModelLong(EngineMatchesModel.TestCase):
    # CI runs a bounded share of the stress run; LEDGERCORE_SLOW=1 runs all of it.
    settings = settings(
        max_examples=300 if CI else 3000,
        stateful_step_count=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


# ---------------------------------------------------------------------------- documented cases

# Where the engine once disagreed with the documentation, engine and model must both say what
# records.py says: (pending amount or None, the batch after it, the documented results).
PENDING_ID = 40
DOCUMENTED_TRANSFERS = {
    "void of AMOUNT_MAX is refused": (
        100,
        [dict(id=1, flags=TF.void_pending, pending_id=PENDING_ID, amount=MAX)],
        ["amount_exceeds_pending"],
    ),
    "void of AMOUNT_MAX is the pending amount": (
        MAX,
        [dict(id=1, flags=TF.void_pending, pending_id=PENDING_ID, amount=MAX)],
        ["ok"],
    ),
    "void of 0 voids the whole amount": (
        100,
        [dict(id=1, flags=TF.void_pending, pending_id=PENDING_ID, amount=0)],
        ["ok"],
    ),
    "void of the pending amount": (
        100,
        [dict(id=1, flags=TF.void_pending, pending_id=PENDING_ID, amount=100)],
        ["ok"],
    ),
    "void of a smaller amount is refused": (
        100,
        [dict(id=1, flags=TF.void_pending, pending_id=PENDING_ID, amount=99)],
        ["pending_transfer_has_different_amount"],
    ),
    "post of AMOUNT_MAX posts the whole amount": (
        100,
        [dict(id=1, flags=TF.post_pending, pending_id=PENDING_ID, amount=MAX)],
        ["ok"],
    ),
    "last linked transfer of a failed chain": (
        None,
        [
            dict(id=1, flags=TF.linked, amount=1),
            dict(id=2, flags=TF.linked, amount=1, code=0),
            dict(id=3, flags=TF.linked, amount=1),
        ],
        ["linked_event_failed", "code_must_not_be_zero", "linked_event_failed"],
    ),
    "last linked transfer of a standing chain": (
        None,
        [dict(id=1, flags=TF.linked, amount=1), dict(id=2, flags=TF.linked, amount=1)],
        ["linked_event_failed", "linked_event_chain_open"],
    ),
}


def _transfer(row: dict) -> dict:
    base = dict(debit_account_id=1, credit_account_id=2, ledger=1, code=1)
    return dict(base, **row)


@pytest.mark.parametrize("case", list(DOCUMENTED_TRANSFERS))
def test_engine_and_model_give_the_documented_transfer_result(case):
    pending_amount, rows, documented = DOCUMENTED_TRANSFERS[case]
    engine, model, now = Engine(), Model(), 1_000 * S
    accounts = records.accounts([dict(id=n, ledger=1, code=1, owner_key=KEY) for n in (1, 2)])
    assert engine.create_accounts(accounts, timestamp_ns=now).tolist() == [0, 0]
    assert model.create_accounts(records.to_dicts(accounts), [True, True], now) == [0, 0]
    if pending_amount is not None:
        pending = records.transfers(
            [_transfer(dict(id=PENDING_ID, flags=TF.pending, amount=pending_amount))]
        )
        assert engine.submit(pending, verify_signatures=False, timestamp_ns=now).tolist() == [0]
        assert model.submit(records.to_dicts(pending), None, now) == [0]
    batch = records.transfers([_transfer(row) for row in rows])
    got = engine.submit(batch, verify_signatures=False, timestamp_ns=now + S).tolist()
    want = model.submit(records.to_dicts(batch), None, now + S)
    assert [records.TransferResult(r).name for r in got] == documented
    assert [records.TransferResult(r).name for r in want] == documented
    for account_id in (1, 2):
        assert model.balances(account_id) == tuple(
            records.to_dicts(engine.balances([account_id]))[0][name] for name in BALANCES
        )


def test_engine_and_model_answer_linked_event_failed_for_the_last_account_of_a_failed_chain():
    rows = [
        dict(id=1, ledger=1, code=1, owner_key=KEY, flags=AF.linked),
        dict(id=2, ledger=0, code=1, owner_key=KEY, flags=AF.linked),
        dict(id=3, ledger=1, code=1, owner_key=KEY, flags=AF.linked),
    ]
    documented = ["linked_event_failed", "ledger_must_not_be_zero", "linked_event_failed"]
    batch = records.accounts(rows)
    got = Engine().create_accounts(batch, timestamp_ns=S).tolist()
    want = Model().create_accounts(records.to_dicts(batch), [True] * 3, S)
    assert [records.CreateAccountResult(r).name for r in got] == documented
    assert [records.CreateAccountResult(r).name for r in want] == documented
