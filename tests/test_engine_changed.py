"""Engine.changed_accounts: the accounts a submit changed, which the state tree rehashes.

Every account whose record a submit changes must be named (else the state root would miss it),
and only accounts an applied transfer or a pending transfer's expiry touched may be named.
"""

from __future__ import annotations

import hypothesis.strategies as st
import numpy
import pytest
from hypothesis import given, settings

from ledgercore import records
from ledgercore.engine import Engine
from ledgercore.errors import LedgerValueError
from ledgercore.keys import SigningKey
from ledgercore.records import TransferFlags as TF

KEY = SigningKey.from_seed(b"c" * 32).public_key
S = 1_000_000_000
ACCOUNTS = 6


def engine_with_accounts() -> Engine:
    engine = Engine()
    rows = [dict(id=n, ledger=1, code=1, owner_key=KEY) for n in range(1, ACCOUNTS + 1)]
    assert not engine.create_accounts(records.accounts(rows), timestamp_ns=S).any()
    assert len(engine.changed_accounts()[0]) == 0
    return engine


@st.composite
def transfer(draw, next_id: int):
    kind = draw(st.sampled_from(["plain", "plain", "pending", "post", "void"]))
    row = dict(
        id=next_id,
        debit_account_id=draw(st.integers(1, ACCOUNTS)),
        credit_account_id=draw(st.integers(1, ACCOUNTS)),
        amount=draw(st.integers(0, 40)),
        ledger=1,
        code=1,
        flags=int(draw(st.sampled_from([0, 0, 0, TF.linked]))),
    )
    if kind == "pending":
        row["flags"] |= TF.pending
        row["timeout_s"] = draw(st.sampled_from([0, 1, 2]))
    elif kind in ("post", "void"):
        row["flags"] |= TF.post_pending if kind == "post" else TF.void_pending
        row["pending_id"] = draw(st.integers(1, max(1, next_id - 1)))
        row["amount"] = draw(st.sampled_from([0, row["amount"]]))
    return row


@st.composite
def batches(draw):
    steps, next_id = [], 1
    for _ in range(draw(st.integers(1, 8))):
        rows = []
        for _ in range(draw(st.integers(1, 10))):
            rows.append(draw(transfer(next_id)))
            next_id += 1
        rows[-1]["flags"] &= ~int(TF.linked)
        steps.append((rows, draw(st.sampled_from([1, S, 2 * S, 3 * S]))))
    return steps


@settings(max_examples=150, deadline=None)
@given(steps=batches())
def test_every_changed_account_is_named_and_only_touched_ones_are(steps):
    engine = engine_with_accounts()
    every_row = numpy.arange(ACCOUNTS, dtype="<u4")
    ids = [int(i) for i in records.u128(engine.accounts_at(every_row)["id"])]
    pending_accounts: set[int] = set()
    now = 2 * S
    for rows, step in steps:
        now += step
        before = engine.accounts_at(every_row)
        results = engine.submit(records.transfers(rows), verify_signatures=False, timestamp_ns=now)
        after = engine.accounts_at(every_row)
        reported, found = engine.changed_accounts()
        assert reported.dtype == numpy.uint32
        assert reported.tolist() == sorted(set(reported.tolist()))
        assert (found == after[reported]).all()
        changed = set(numpy.flatnonzero(before != after).tolist())
        assert changed <= set(reported.tolist())
        applied = [row for row, result in zip(rows, results, strict=True) if result == 0]
        touched = {
            row[side] for row in applied for side in ("debit_account_id", "credit_account_id")
        }
        assert {ids[row] for row in reported.tolist()} <= touched | pending_accounts
        pending_accounts |= {
            row[side]
            for row in applied
            if row["flags"] & TF.pending
            for side in ("debit_account_id", "credit_account_id")
        }


def test_a_failed_linked_chain_names_none_of_its_accounts():
    engine = engine_with_accounts()
    chain = records.transfers(
        [
            dict(
                id=1,
                debit_account_id=1,
                credit_account_id=2,
                amount=5,
                ledger=1,
                code=1,
                flags=TF.linked,
            ),
            dict(id=2, debit_account_id=3, credit_account_id=3, amount=5, ledger=1, code=1),
        ]
    )
    results = engine.submit(chain, verify_signatures=False, timestamp_ns=2 * S)
    assert results.tolist() == [
        int(records.TransferResult.linked_event_failed),
        int(records.TransferResult.accounts_must_be_different),
    ]
    assert engine.changed_accounts()[0].tolist() == []


def test_an_expired_pending_transfer_names_its_accounts():
    engine = engine_with_accounts()
    pending = records.transfers(
        [
            dict(
                id=1,
                debit_account_id=4,
                credit_account_id=6,
                amount=7,
                ledger=1,
                code=1,
                flags=TF.pending,
                timeout_s=1,
            )
        ]
    )
    engine.submit(pending, verify_signatures=False, timestamp_ns=2 * S)
    assert engine.changed_accounts()[0].tolist() == [3, 5]
    unrelated = records.transfers(
        [dict(id=2, debit_account_id=1, credit_account_id=2, amount=1, ledger=1, code=1)]
    )
    engine.submit(unrelated, verify_signatures=False, timestamp_ns=5 * S)
    rows, found = engine.changed_accounts()
    assert rows.tolist() == [0, 1, 3, 5]
    assert not found["debits_pending"][2].any()


def test_accounts_at_refuses_a_row_past_the_last_account():
    engine = engine_with_accounts()
    with pytest.raises(LedgerValueError, match="rows"):
        engine.accounts_at(numpy.array([ACCOUNTS], dtype="<u4"))
