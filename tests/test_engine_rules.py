"""The engine's rules, one table row or test per result code, named after the rule it checks."""

from __future__ import annotations

import numpy
import pytest

from ledgercore import records
from ledgercore.engine import Engine
from ledgercore.errors import InvariantError, LedgerValueError
from ledgercore.keys import SigningKey
from ledgercore.records import AccountFlags as AF
from ledgercore.records import CreateAccountResult as AR
from ledgercore.records import TransferFlags as TF
from ledgercore.records import TransferResult as TR

MAX = 2**128 - 1
S = 1_000_000_000
T0 = 1_000 * S
KEY = SigningKey.from_seed(b"k" * 32).public_key
SMALL_ORDER_KEY = bytes([1]) + bytes(31)

# Account ids of the standard engine: what each one is for.
PLAIN_A, PLAIN_B, NO_OVERDRAFT, CREDIT_LIMITED, OTHER_LEDGER, FROZEN, CLOSED = range(1, 8)


def account(id: int, **fields) -> dict:
    return dict(dict(id=id, ledger=1, code=10, owner_key=KEY), **fields)


def transfer(id: int, debit: int = PLAIN_A, credit: int = PLAIN_B, amount: int = 10, **fields):
    return dict(
        dict(
            id=id, debit_account_id=debit, credit_account_id=credit, amount=amount, ledger=1, code=1
        ),
        **fields,
    )


@pytest.fixture
def engine() -> Engine:
    engine = Engine()
    results = engine.create_accounts(
        records.accounts(
            [
                account(PLAIN_A),
                account(PLAIN_B),
                account(NO_OVERDRAFT, flags=AF.debits_must_not_exceed_credits),
                account(CREDIT_LIMITED, flags=AF.credits_must_not_exceed_debits),
                account(OTHER_LEDGER, ledger=2),
                account(FROZEN, flags=AF.frozen),
                account(CLOSED, flags=AF.closed),
            ]
        ),
        timestamp_ns=T0,
    )
    assert results.tolist() == [0] * 7
    return engine


def submit(engine: Engine, *rows: dict, timestamp_ns: int = T0 + S) -> list[str]:
    results = engine.submit(
        records.transfers(rows), verify_signatures=False, timestamp_ns=timestamp_ns
    )
    return [TR(r).name for r in results]


def create(engine: Engine, *rows: dict) -> list[str]:
    return [AR(r).name for r in engine.create_accounts(records.accounts(rows))]


def balances(engine: Engine, account_id: int) -> tuple[int, int, int, int]:
    row = records.to_dicts(engine.balances([account_id]))[0]
    return (
        row["debits_pending"],
        row["debits_posted"],
        row["credits_pending"],
        row["credits_posted"],
    )


# ---------------------------------------------------------------------------- accounts

ACCOUNT_TABLE = {
    "timestamp_must_be_zero": account(20, timestamp=1),
    "reserved_field": account(20, reserved=1),
    "reserved_flag": account(20, flags=1 << 9),
    "id_must_not_be_zero": account(0),
    "id_must_not_be_int_max": account(MAX),
    "exists_with_different_fields": account(PLAIN_A, code=11),
    "exists": account(PLAIN_A),
    "flags_are_mutually_exclusive": account(
        20, flags=AF.debits_must_not_exceed_credits | AF.credits_must_not_exceed_debits
    ),
    "balances_must_be_zero": account(20, credits_posted=1),
    "ledger_must_not_be_zero": account(20, ledger=0),
    "code_must_not_be_zero": account(20, code=0),
    "bad_public_key": account(20, owner_key=SMALL_ORDER_KEY),
    "ok": account(20),
}


def test_account_table_covers_every_result():
    assert set(ACCOUNT_TABLE) | {"linked_event_failed", "linked_event_chain_open"} == {
        member.name for member in AR
    }


@pytest.mark.parametrize("rule", list(ACCOUNT_TABLE))
def test_account_rule(engine, rule):
    assert create(engine, ACCOUNT_TABLE[rule]) == [rule]


def test_account_rules_apply_in_order_of_precedence(engine):
    """Break every rule at once, then mend them one by one in the table's order."""
    broken = account(
        0,
        timestamp=1,
        reserved=1,
        flags=(1 << 9) | 6,
        credits_posted=1,
        ledger=0,
        code=0,
        owner_key=SMALL_ORDER_KEY,
    )
    mends = [
        ("timestamp_must_be_zero", dict(timestamp=0)),
        ("reserved_field", dict(reserved=0)),
        ("reserved_flag", dict(flags=6)),
        ("id_must_not_be_zero", dict(id=MAX)),
        ("id_must_not_be_int_max", dict(id=20)),
        ("flags_are_mutually_exclusive", dict(flags=2)),
        ("balances_must_be_zero", dict(credits_posted=0)),
        ("ledger_must_not_be_zero", dict(ledger=1)),
        ("code_must_not_be_zero", dict(code=1)),
        ("bad_public_key", dict(owner_key=KEY)),
    ]
    for rule, mend in mends:
        assert create(engine, broken) == [rule]
        broken.update(mend)
    assert create(engine, broken) == ["ok"]


def test_account_timestamps_strictly_increase(engine):
    assert create(engine, account(20), account(21)) == ["ok", "ok"]
    stamps = engine.lookup_accounts([PLAIN_A, 20, 21])["timestamp"].tolist()
    assert stamps[0] < stamps[1] < stamps[2]


def test_failed_linked_accounts_leave_no_trace(engine):
    rows = [account(20, flags=AF.linked), account(21, flags=AF.linked), account(22, ledger=0)]
    assert create(engine, *rows) == [
        "linked_event_failed",
        "linked_event_failed",
        "ledger_must_not_be_zero",
    ]
    assert len(engine.lookup_accounts([20, 21, 22])) == 0
    assert engine.account_count == 7


def test_open_account_chain_is_refused(engine):
    assert create(engine, account(20), account(21, flags=AF.linked)) == [
        "ok",
        "linked_event_chain_open",
    ]


def test_last_linked_account_of_a_failed_chain_answers_linked_event_failed(engine):
    """linked_event_failed precedes linked_event_chain_open in the result table."""
    rows = [account(20, flags=AF.linked), account(21, ledger=0, flags=AF.linked)]
    assert create(engine, *rows, account(22, flags=AF.linked)) == [
        "linked_event_failed",
        "ledger_must_not_be_zero",
        "linked_event_failed",
    ]
    assert len(engine.lookup_accounts([20, 21, 22])) == 0
    assert engine.account_count == 7


# ---------------------------------------------------------------------------- transfers

TRANSFER_TABLE = {
    "timestamp_must_be_zero": [transfer(100, timestamp=1)],
    "reserved_flag": [transfer(100, flags=1 << 7)],
    "id_must_not_be_zero": [transfer(0)],
    "id_must_not_be_int_max": [transfer(MAX)],
    "flags_are_mutually_exclusive": [
        transfer(100, flags=TF.pending | TF.post_pending, pending_id=0)
    ],
    "account_id_must_not_be_zero": [transfer(100, debit=0)],
    "account_id_must_not_be_int_max": [transfer(100, credit=MAX)],
    "accounts_must_be_different": [transfer(100, credit=PLAIN_A)],
    "pending_id_must_be_zero": [transfer(100, pending_id=5)],
    "pending_id_must_not_be_zero": [transfer(100, flags=TF.post_pending, pending_id=0)],
    "pending_id_must_not_be_int_max": [transfer(100, flags=TF.void_pending, pending_id=MAX)],
    "pending_id_must_be_different": [transfer(100, flags=TF.post_pending, pending_id=100)],
    "timeout_reserved_for_pending_transfer": [transfer(100, timeout_s=5)],
    "ledger_must_not_be_zero": [transfer(100, ledger=0)],
    "code_must_not_be_zero": [transfer(100, code=0)],
    "account_not_found": [transfer(100, credit=99)],
    "ledger_mismatch": [transfer(100, credit=OTHER_LEDGER)],
    "pending_transfer_not_found": [transfer(100, flags=TF.post_pending, pending_id=5)],
    "pending_transfer_not_pending": [
        transfer(5),
        transfer(100, flags=TF.post_pending, pending_id=5),
    ],
    "pending_transfer_has_different_fields": [
        transfer(5, flags=TF.pending),
        transfer(100, flags=TF.post_pending, pending_id=5, code=2),
    ],
    "amount_exceeds_pending": [
        transfer(5, flags=TF.pending),
        transfer(100, flags=TF.post_pending, pending_id=5, amount=11),
    ],
    "pending_transfer_has_different_amount": [
        transfer(5, flags=TF.pending),
        transfer(100, flags=TF.void_pending, pending_id=5, amount=3),
    ],
    "pending_transfer_already_posted": [
        transfer(5, flags=TF.pending),
        transfer(6, flags=TF.post_pending, pending_id=5),
        transfer(100, flags=TF.void_pending, pending_id=5),
    ],
    "pending_transfer_already_voided": [
        transfer(5, flags=TF.pending),
        transfer(6, flags=TF.void_pending, pending_id=5, amount=0),
        transfer(100, flags=TF.post_pending, pending_id=5),
    ],
    "account_frozen": [transfer(100, credit=FROZEN)],
    "account_closed": [transfer(100, debit=CLOSED)],
    "overflow": [transfer(5, amount=MAX), transfer(100, amount=1)],
    "exceeds_credits": [transfer(100, debit=NO_OVERDRAFT)],
    "exceeds_debits": [transfer(100, credit=CREDIT_LIMITED)],
    "ok": [transfer(100)],
}


def test_transfer_table_covers_every_result():
    special = {
        "linked_event_failed",
        "linked_event_chain_open",
        "bad_signature",
        "exists",
        "exists_with_different_fields",
        "id_already_failed",
        "pending_transfer_expired",
    }
    assert set(TRANSFER_TABLE) | special == {member.name for member in TR}


@pytest.mark.parametrize("rule", list(TRANSFER_TABLE))
def test_transfer_rule(engine, rule):
    *setup, last = TRANSFER_TABLE[rule]
    assert submit(engine, *setup) == ["ok"] * len(setup)
    assert submit(engine, last, timestamp_ns=T0 + 2 * S) == [rule]


def test_transfer_rules_apply_in_order_of_precedence(engine):
    """Break many rules at once, then mend them one by one in the table's order."""
    broken = transfer(
        0,
        debit=0,
        credit=0,
        amount=MAX,
        timestamp=1,
        flags=(1 << 7) | 6,
        pending_id=7,
        timeout_s=1,
        ledger=0,
        code=0,
    )
    mends = [
        ("timestamp_must_be_zero", dict(timestamp=0)),
        ("reserved_flag", dict(flags=6)),
        ("id_must_not_be_zero", dict(id=MAX)),
        ("id_must_not_be_int_max", dict(id=100)),
        ("flags_are_mutually_exclusive", dict(flags=0)),
        ("account_id_must_not_be_zero", dict(debit_account_id=MAX, credit_account_id=MAX)),
        (
            "account_id_must_not_be_int_max",
            dict(debit_account_id=NO_OVERDRAFT, credit_account_id=NO_OVERDRAFT),
        ),
        ("accounts_must_be_different", dict(credit_account_id=99)),
        ("pending_id_must_be_zero", dict(pending_id=0)),
        ("timeout_reserved_for_pending_transfer", dict(timeout_s=0)),
        ("ledger_must_not_be_zero", dict(ledger=0 + 2)),
        ("code_must_not_be_zero", dict(code=1)),
        ("account_not_found", dict(credit_account_id=OTHER_LEDGER)),
        ("ledger_mismatch", dict(ledger=1, credit_account_id=FROZEN)),
        ("account_frozen", dict(credit_account_id=CLOSED)),
        ("account_closed", dict(credit_account_id=PLAIN_B)),
        ("exceeds_credits", dict(amount=0)),
    ]
    for number, (rule, mend) in enumerate(mends):
        broken["id"] = broken["id"] if broken["id"] in (0, MAX) else 100 + number
        assert submit(engine, broken) == [rule], rule
        broken.update(mend)
    broken["id"] = 200
    assert submit(engine, broken) == ["ok"]


def test_post_or_void_rules_apply_in_order_of_precedence(engine):
    assert submit(engine, transfer(5, flags=TF.pending, timeout_s=1)) == ["ok"]
    post = transfer(100, flags=TF.void_pending, pending_id=5, code=2, amount=11)
    late = T0 + 10 * S
    assert submit(engine, post, timestamp_ns=T0 + S + 1) == [
        "pending_transfer_has_different_fields"
    ]
    post.update(id=101, code=1)
    assert submit(engine, post, timestamp_ns=T0 + S + 2) == ["amount_exceeds_pending"]
    post.update(id=102, amount=3)
    assert submit(engine, post, timestamp_ns=T0 + S + 3) == [
        "pending_transfer_has_different_amount"
    ]
    post.update(id=103, amount=10)
    assert submit(engine, post, timestamp_ns=late) == ["pending_transfer_expired"]


# ---------------------------------------------------------------------------- behaviours


def test_transfer_exceeding_credits_is_rejected(engine):
    assert submit(engine, transfer(1, debit=PLAIN_A, credit=NO_OVERDRAFT, amount=50)) == ["ok"]
    assert submit(engine, transfer(2, debit=NO_OVERDRAFT, amount=51)) == ["exceeds_credits"]
    assert submit(engine, transfer(3, debit=NO_OVERDRAFT, amount=50)) == ["ok"]
    assert balances(engine, NO_OVERDRAFT) == (0, 50, 0, 50)


def test_pending_debits_count_against_the_limit(engine):
    assert submit(engine, transfer(1, credit=NO_OVERDRAFT, amount=50)) == ["ok"]
    assert submit(engine, transfer(2, debit=NO_OVERDRAFT, amount=30, flags=TF.pending)) == ["ok"]
    assert submit(engine, transfer(3, debit=NO_OVERDRAFT, amount=21)) == ["exceeds_credits"]
    assert submit(engine, transfer(4, debit=NO_OVERDRAFT, amount=20)) == ["ok"]


def test_rejected_transfer_changes_no_balance(engine):
    before = [balances(engine, n) for n in range(1, 8)]
    assert submit(engine, transfer(1, debit=NO_OVERDRAFT, amount=1)) == ["exceeds_credits"]
    assert [balances(engine, n) for n in range(1, 8)] == before
    assert engine.transfer_count == 0


def test_same_transfer_twice_moves_money_once(engine):
    assert submit(engine, transfer(1, amount=7), transfer(1, amount=7)) == ["ok", "exists"]
    assert submit(engine, transfer(1, amount=7)) == ["exists"]
    assert submit(engine, transfer(1, amount=8)) == ["exists_with_different_fields"]
    assert balances(engine, PLAIN_A) == (0, 7, 0, 0)


def test_exists_ignores_the_signature_but_not_user_data(engine):
    assert submit(engine, transfer(1)) == ["ok"]
    assert submit(engine, transfer(1, signature=bytes([9]) * 64)) == ["exists"]
    assert submit(engine, transfer(1, user_data_64=1)) == ["exists_with_different_fields"]


def test_transfer_failed_on_state_keeps_its_id(engine):
    assert submit(engine, transfer(1, debit=NO_OVERDRAFT)) == ["exceeds_credits"]
    assert submit(engine, transfer(2, credit=NO_OVERDRAFT, amount=100)) == ["ok"]
    assert submit(engine, transfer(1, debit=NO_OVERDRAFT)) == ["id_already_failed"]
    assert submit(engine, transfer(1, debit=PLAIN_A, credit=PLAIN_B)) == ["id_already_failed"]


def test_transfer_failed_on_its_own_fields_may_be_retried(engine):
    assert submit(engine, transfer(1, code=0)) == ["code_must_not_be_zero"]
    assert submit(engine, transfer(1)) == ["ok"]


def test_failed_linked_chain_leaves_no_trace(engine):
    rows = [
        transfer(1, amount=5, flags=TF.linked),
        transfer(2, flags=TF.pending | TF.linked),
        transfer(3, debit=NO_OVERDRAFT),
        transfer(4),
    ]
    assert submit(engine, *rows) == [
        "linked_event_failed",
        "linked_event_failed",
        "exceeds_credits",
        "ok",
    ]
    assert balances(engine, PLAIN_A) == (0, 10, 0, 0)
    assert len(engine.lookup_transfers([1, 2, 3])) == 0
    assert engine.pending_count == 0
    # Ids of a failed chain are not kept: the chain may be sent again.
    rows[2] = transfer(3, debit=PLAIN_B, credit=NO_OVERDRAFT)
    assert submit(engine, *rows[:3]) == ["ok", "ok", "ok"]


def test_linked_chain_sees_its_own_earlier_transfers(engine):
    rows = [
        transfer(1, credit=NO_OVERDRAFT, amount=20, flags=TF.linked),
        transfer(2, debit=NO_OVERDRAFT, amount=20, flags=TF.pending | TF.linked),
        transfer(3, debit=NO_OVERDRAFT, amount=AMOUNT_ALL, flags=TF.post_pending, pending_id=2),
    ]
    assert submit(engine, *rows) == ["ok", "ok", "ok"]
    assert balances(engine, NO_OVERDRAFT) == (0, 20, 0, 20)


AMOUNT_ALL = records.AMOUNT_MAX


def test_transfers_after_a_broken_link_fail_without_being_checked(engine):
    rows = [
        transfer(1, code=0, flags=TF.linked),
        transfer(0, flags=TF.linked),  # would be id_must_not_be_zero
        transfer(3),
    ]
    assert submit(engine, *rows) == [
        "code_must_not_be_zero",
        "linked_event_failed",
        "linked_event_failed",
    ]


def test_open_transfer_chain_is_refused(engine):
    rows = [transfer(1), transfer(2, flags=TF.linked), transfer(3, flags=TF.linked)]
    assert submit(engine, *rows) == ["ok", "linked_event_failed", "linked_event_chain_open"]
    assert engine.transfer_count == 1


def test_last_linked_transfer_of_a_failed_chain_answers_linked_event_failed(engine):
    """linked_event_failed precedes linked_event_chain_open in the result table."""
    rows = [
        transfer(1, flags=TF.linked),
        transfer(2, code=0, flags=TF.linked),
        transfer(3, flags=TF.linked),
    ]
    assert submit(engine, *rows) == [
        "linked_event_failed",
        "code_must_not_be_zero",
        "linked_event_failed",
    ]
    assert engine.transfer_count == 0
    assert balances(engine, PLAIN_A) == (0, 0, 0, 0)


def test_last_linked_transfer_of_a_chain_failed_on_state_keeps_no_id(engine):
    rows = [transfer(1, debit=NO_OVERDRAFT, flags=TF.linked), transfer(2, flags=TF.linked)]
    assert submit(engine, *rows) == ["exceeds_credits", "linked_event_failed"]
    # Neither id was spent: a chain's failures leave no trace.
    assert submit(engine, transfer(1), transfer(2)) == ["ok", "ok"]


def test_duplicate_inside_a_failed_chain_is_undone(engine):
    rows = [transfer(1, flags=TF.linked), transfer(1, flags=TF.linked), transfer(2)]
    assert submit(engine, *rows) == ["linked_event_failed", "exists", "linked_event_failed"]
    assert engine.transfer_count == 0


def test_pending_transfer_reserves_then_posts_in_part(engine):
    assert submit(engine, transfer(1, amount=100, flags=TF.pending)) == ["ok"]
    assert balances(engine, PLAIN_A) == (100, 0, 0, 0)
    assert balances(engine, PLAIN_B) == (0, 0, 100, 0)
    assert submit(engine, transfer(2, amount=60, flags=TF.post_pending, pending_id=1)) == ["ok"]
    assert balances(engine, PLAIN_A) == (0, 60, 0, 0)
    assert balances(engine, PLAIN_B) == (0, 0, 0, 60)
    assert engine.pending_count == 0


def test_post_with_amount_max_posts_the_whole_pending_amount(engine):
    assert submit(engine, transfer(1, amount=100, flags=TF.pending)) == ["ok"]
    post = transfer(2, amount=AMOUNT_ALL, flags=TF.post_pending, pending_id=1)
    assert submit(engine, post) == ["ok"]
    assert balances(engine, PLAIN_A) == (0, 100, 0, 0)
    # The record keeps the amount as signed.
    assert records.u128(engine.lookup_transfers([2])["amount"][0]) == AMOUNT_ALL


def test_void_of_amount_max_is_refused_and_leaves_the_reservation(engine):
    """AMOUNT_MAX means "the whole pending amount" for a post only; a void says it with 0."""
    assert submit(engine, transfer(1, amount=100, flags=TF.pending)) == ["ok"]
    void = transfer(2, amount=AMOUNT_ALL, flags=TF.void_pending, pending_id=1)
    assert submit(engine, void) == ["amount_exceeds_pending"]
    assert balances(engine, PLAIN_A) == (100, 0, 0, 0)
    assert balances(engine, PLAIN_B) == (0, 0, 100, 0)
    assert engine.pending_count == 1
    assert len(engine.lookup_transfers([2])) == 0
    # The reservation is still there to be posted.
    assert submit(engine, transfer(3, amount=AMOUNT_ALL, flags=TF.post_pending, pending_id=1)) == [
        "ok"
    ]
    assert balances(engine, PLAIN_A) == (0, 100, 0, 0)


def test_void_of_amount_max_is_accepted_when_that_is_the_pending_amount(engine):
    assert submit(engine, transfer(1, amount=AMOUNT_ALL, flags=TF.pending)) == ["ok"]
    void = transfer(2, amount=AMOUNT_ALL, flags=TF.void_pending, pending_id=1)
    assert submit(engine, void) == ["ok"]
    assert balances(engine, PLAIN_A) == (0, 0, 0, 0)
    assert engine.pending_count == 0


@pytest.mark.parametrize("amount", [0, 100])
def test_void_of_zero_or_of_the_pending_amount_voids_the_whole_reservation(engine, amount):
    assert submit(engine, transfer(1, amount=100, flags=TF.pending)) == ["ok"]
    assert submit(engine, transfer(2, amount=amount, flags=TF.void_pending, pending_id=1)) == ["ok"]
    assert balances(engine, PLAIN_A) == (0, 0, 0, 0)
    assert balances(engine, PLAIN_B) == (0, 0, 0, 0)
    assert engine.pending_count == 0


@pytest.mark.parametrize(
    ("amount", "rule"),
    [
        (1, "pending_transfer_has_different_amount"),
        (99, "pending_transfer_has_different_amount"),
        (101, "amount_exceeds_pending"),
        (AMOUNT_ALL - 1, "amount_exceeds_pending"),
        (AMOUNT_ALL, "amount_exceeds_pending"),
    ],
)
def test_void_of_another_amount_is_refused(engine, amount, rule):
    assert submit(engine, transfer(1, amount=100, flags=TF.pending)) == ["ok"]
    assert submit(engine, transfer(2, amount=amount, flags=TF.void_pending, pending_id=1)) == [rule]
    assert balances(engine, PLAIN_A) == (100, 0, 0, 0)
    assert engine.pending_count == 1


def test_void_releases_the_reservation(engine):
    assert submit(engine, transfer(1, amount=100, flags=TF.pending)) == ["ok"]
    assert submit(engine, transfer(2, amount=0, flags=TF.void_pending, pending_id=1)) == ["ok"]
    assert balances(engine, PLAIN_A) == (0, 0, 0, 0)
    assert submit(engine, transfer(3, flags=TF.post_pending, pending_id=1)) == [
        "pending_transfer_already_voided"
    ]


def test_pending_transfer_expires_after_its_timeout(engine):
    assert submit(
        engine, transfer(1, amount=40, flags=TF.pending, timeout_s=5), timestamp_ns=T0 + S
    ) == ["ok"]
    assert submit(engine, transfer(2), timestamp_ns=T0 + 3 * S) == ["ok"]
    assert balances(engine, PLAIN_A) == (40, 10, 0, 0)
    # The next batch at or after the deadline releases the reservation first.
    assert submit(engine, transfer(3), timestamp_ns=T0 + 6 * S) == ["ok"]
    assert balances(engine, PLAIN_A) == (0, 20, 0, 0)
    assert engine.pending_count == 0
    post = transfer(4, amount=40, flags=TF.post_pending, pending_id=1)
    assert submit(engine, post, timestamp_ns=T0 + 7 * S) == ["pending_transfer_expired"]


def test_post_at_the_deadline_within_a_batch_is_expired(engine):
    # The batch starts before the deadline (no sweep), but the post's own timestamp is past it.
    assert submit(engine, transfer(1, flags=TF.pending, timeout_s=1), timestamp_ns=T0) == ["ok"]
    stamp = int(engine.lookup_transfers([1])["timestamp"][0])
    rows = [transfer(100 + n) for n in range(3)]
    rows.append(transfer(2, flags=TF.post_pending, pending_id=1))
    results = submit(engine, *rows, timestamp_ns=stamp + S - 3)
    assert results == ["ok", "ok", "ok", "pending_transfer_expired"]


def test_timeout_past_the_clock_range_overflows(engine):
    rows = [transfer(1, flags=TF.pending, timeout_s=2**32 - 1)]
    assert submit(engine, *rows, timestamp_ns=2**64 - 2**40) == ["overflow"]


def test_balance_overflow_is_a_result_not_a_wrap(engine):
    assert submit(engine, transfer(1, amount=MAX - 1)) == ["ok"]
    assert submit(engine, transfer(2, amount=2)) == ["overflow"]
    assert submit(engine, transfer(3, amount=1, flags=TF.pending)) == ["ok"]
    # debits_pending + debits_posted would wrap.
    assert submit(engine, transfer(4, amount=1, flags=TF.pending)) == ["overflow"]
    assert balances(engine, PLAIN_A) == (1, MAX - 1, 0, 0)


def test_batch_timestamps_strictly_increase(engine):
    assert submit(engine, transfer(1), transfer(2), timestamp_ns=5) == ["ok", "ok"]
    stamps = engine.lookup_transfers([1, 2])["timestamp"].tolist()
    assert T0 < stamps[0] < stamps[1]
    assert engine.last_timestamp_ns == stamps[1]


def test_bad_signature_is_refused_before_anything_else(engine):
    batch = records.transfers([transfer(0), transfer(2)])
    results = engine._native.submit(batch, numpy.array([0, 0], numpy.uint8), T0 + S)
    assert [TR(r).name for r in results] == ["bad_signature", "bad_signature"]


# ---------------------------------------------------------------------------- bad calls


def test_wrong_dtype_is_refused_and_changes_nothing(engine):
    with pytest.raises(LedgerValueError, match="TRANSFER_DTYPE"):
        engine.submit(records.accounts([account(9)]), verify_signatures=False)
    with pytest.raises(LedgerValueError, match="1-D"):
        engine.submit(records.transfers([transfer(1)]).reshape(1, 1), verify_signatures=False)
    with pytest.raises(TypeError):
        engine.submit([transfer(1)], verify_signatures=False)
    with pytest.raises(LedgerValueError, match="timestamp_ns"):
        engine.submit(records.transfers([transfer(1)]), timestamp_ns=-1)
    assert engine.transfer_count == 0


def test_non_contiguous_records_are_copied_not_misread(engine):
    batch = records.transfers([transfer(1), transfer(99, code=0), transfer(2)])[::2]
    assert [TR(r).name for r in engine.submit(batch, verify_signatures=False)] == ["ok", "ok"]


def test_native_layer_refuses_bad_arguments(engine):
    native = engine._native
    one = records.accounts([account(9)])
    batch = records.transfers([transfer(1)])
    with pytest.raises(LedgerValueError, match="contiguous"):
        native.submit(records.transfers([transfer(1), transfer(2), transfer(3)])[::2], None, T0)
    with pytest.raises(LedgerValueError, match="signatures"):
        native.submit(batch, numpy.array([1, 1], numpy.uint8), T0)
    with pytest.raises(LedgerValueError, match="SIGNATURE"):
        native.submit(batch, numpy.array([7], numpy.uint8), T0)
    with pytest.raises(LedgerValueError, match="key_ok"):
        native.create_accounts(
            one, numpy.array([], numpy.uint8), numpy.zeros((1, 32), numpy.uint8), T0
        )
    with pytest.raises(LedgerValueError, match="owner_x"):
        native.create_accounts(
            one, numpy.ones(1, numpy.uint8), numpy.zeros((2, 32), numpy.uint8), T0
        )
    with pytest.raises(LedgerValueError, match="ids"):
        native.lookup_accounts(numpy.zeros((2, 3), numpy.uint64))
    assert engine.transfer_count == 0


def test_timestamps_past_2_to_the_64_are_refused(engine):
    rows = records.transfers([transfer(1), transfer(2)])
    with pytest.raises(LedgerValueError, match="2\\^64"):
        engine.submit(rows, verify_signatures=False, timestamp_ns=2**64 - 1)
    assert engine.transfer_count == 0


def test_balances_of_an_unknown_account_name_it(engine):
    with pytest.raises(LedgerValueError, match=r"ids\[1\]: no account 99"):
        engine.balances([1, 99])


def test_empty_batches_are_fine(engine):
    assert engine.submit(records.transfers([]), verify_signatures=False).tolist() == []
    assert engine.create_accounts(records.accounts([])).tolist() == []
    assert len(engine.lookup_transfers([])) == 0


# ---------------------------------------------------------------------------- broken invariants


def test_broken_invariant_undoes_the_whole_batch(engine):
    assert submit(engine, transfer(1, credit=NO_OVERDRAFT, amount=10)) == ["ok"]
    before = [balances(engine, n) for n in range(1, 8)]
    count = engine.transfer_count
    # Break the account on purpose: 100 posted debits that no credit balances.
    engine._native.break_account_for_test(records.lanes(NO_OVERDRAFT), records.lanes(100))
    with pytest.raises(InvariantError, match="debits_must_not_exceed_credits"):
        engine.check_invariants()
    rows = [
        transfer(2, amount=3),  # fine on its own
        transfer(3, debit=NO_OVERDRAFT, amount=1_000),  # fails on state: its id would be kept
        transfer(4, credit=NO_OVERDRAFT, amount=1),  # touches the broken account
    ]
    with pytest.raises(InvariantError, match="debits_must_not_exceed_credits"):
        submit(engine, *rows)
    # Nothing of the batch stayed: balances, transfers, kept ids.
    broken = list(before[NO_OVERDRAFT - 1])
    broken[1] += 100
    expected = list(before)
    expected[NO_OVERDRAFT - 1] = tuple(broken)
    assert [balances(engine, n) for n in range(1, 8)] == expected
    assert engine.transfer_count == count
    assert submit(engine, transfer(3, amount=1), transfer(2, amount=3)) == ["ok", "ok"]


def test_a_ledger_total_past_2_to_the_128_is_no_broken_invariant():
    """Each account's balances fit in 128 bits, but a ledger's sums over its accounts need not:
    two transfers of nearly 2^128 between different pairs are legitimate."""
    engine = Engine()
    engine.create_accounts(records.accounts([account(n) for n in (1, 2, 3, 4)]))
    big = records.AMOUNT_MAX - 1
    batch = records.transfers([transfer(1, 1, 2, big), transfer(2, 3, 4, big)])
    assert engine.submit(batch, verify_signatures=False).tolist() == [TR.ok, TR.ok]
    (debits_pending, debits_posted, credits_pending, credits_posted) = engine.check_invariants()[1]
    assert debits_posted == credits_posted == 2 * big
    assert debits_pending == credits_pending == 0
    engine._native.break_account_for_test(
        numpy.array([1, 0], dtype=numpy.uint64), numpy.array([1, 0], dtype=numpy.uint64)
    )
    with pytest.raises(InvariantError, match="posted debits equal posted credits"):
        engine.check_invariants()
