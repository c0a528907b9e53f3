"""Submit with signature verification: the debit account's owner signs the canonical bytes."""

from __future__ import annotations

import numpy
import pytest

from ledgercore import records
from ledgercore.engine import DEFAULT_LEDGER_ID, Engine
from ledgercore.errors import LedgerValueError
from ledgercore.keys import SigningKey
from ledgercore.records import TransferFlags as TF
from ledgercore.records import TransferResult as TR

pytest.importorskip("ledgercore.ed25519")

S = 1_000_000_000
ALICE = SigningKey.from_seed(b"a" * 32)
BOB = SigningKey.from_seed(b"b" * 32)


@pytest.fixture
def engine() -> Engine:
    engine = Engine()
    batch = records.accounts(
        [
            dict(id=1, ledger=1, code=1, owner_key=ALICE.public_key),
            dict(id=2, ledger=1, code=1, owner_key=BOB.public_key),
        ]
    )
    assert engine.create_accounts(batch, timestamp_ns=S).tolist() == [0, 0]
    return engine


def signed(rows: list[dict], key: SigningKey = ALICE):
    batch = records.transfers(rows)
    batch["signature"] = key.sign_many(records.signing_bytes(batch, DEFAULT_LEDGER_ID))
    return batch


def names(results) -> list[str]:
    return [TR(r).name for r in results]


def pay(id: int, amount: int = 10, **fields) -> dict:
    return dict(
        dict(id=id, debit_account_id=1, credit_account_id=2, amount=amount, ledger=1, code=1),
        **fields,
    )


def test_transfer_signed_by_the_debit_owner_is_applied(engine):
    timings: dict[str, float] = {}
    assert names(engine.submit(signed([pay(1), pay(2)]), timings=timings)) == ["ok", "ok"]
    assert set(timings) == {"gather", "verify", "apply"}
    assert records.u128(engine.balances([1])["debits_posted"][0]) == 20


def test_transfer_signed_by_another_key_is_refused(engine):
    assert names(engine.submit(signed([pay(1)], key=BOB))) == ["bad_signature"]
    assert engine.transfer_count == 0


def test_transfer_changed_after_signing_is_refused(engine):
    batch = signed([pay(1, amount=10), pay(2)])
    batch["amount"][0] = (1_000, 0)
    assert names(engine.submit(batch)) == ["bad_signature", "ok"]
    assert records.u128(engine.balances([2])["credits_posted"][0]) == 10


def test_timestamp_and_signature_are_outside_the_signed_bytes(engine):
    batch = signed([pay(1)])
    assert names(engine.submit(batch)) == ["ok"]
    stored = engine.lookup_transfers([1])
    assert stored["timestamp"][0] > 0
    # The engine keeps no signatures (the store does): what it holds signs the same bytes.
    assert not stored["signature"].any()
    ledger_id = DEFAULT_LEDGER_ID
    assert (
        records.signing_bytes(stored, ledger_id) == records.signing_bytes(batch, ledger_id)
    ).all()
    # Replaying the signed transfer answers exists and moves nothing.
    assert names(engine.submit(batch)) == ["exists"]
    assert records.u128(engine.balances([1])["debits_posted"][0]) == 10


def test_unknown_debit_account_is_not_found_rather_than_badly_signed(engine):
    batch = signed([pay(1, debit_account_id=9), pay(2)])
    assert names(engine.submit(batch)) == ["account_not_found", "ok"]


def test_bad_signature_in_a_chain_fails_the_chain(engine):
    good = signed([pay(1, flags=TF.linked)])
    bad = signed([pay(2)], key=BOB)
    batch = records.as_records(good.tobytes() + bad.tobytes(), records.TRANSFER_DTYPE, "t")
    assert names(engine.submit(batch)) == ["linked_event_failed", "bad_signature"]
    assert engine.transfer_count == 0


def test_two_phase_transfer_is_signed_by_the_debit_owner_at_each_step(engine):
    assert names(engine.submit(signed([pay(1, amount=50, flags=TF.pending)]))) == ["ok"]
    post = [pay(2, amount=records.AMOUNT_MAX, flags=TF.post_pending, pending_id=1)]
    assert names(engine.submit(signed(post, key=BOB))) == ["bad_signature"]
    assert names(engine.submit(signed(post))) == ["ok"]
    assert records.u128(engine.balances([2])["credits_posted"][0]) == 50


def test_signed_and_unsigned_paths_give_the_same_results(engine):
    other = Engine()
    other.create_accounts(
        records.accounts(
            [
                dict(id=1, ledger=1, code=1, owner_key=ALICE.public_key),
                dict(id=2, ledger=1, code=1, owner_key=BOB.public_key),
            ]
        ),
        timestamp_ns=S,
    )
    rows = [pay(n, amount=n) for n in range(1, 30)] + [pay(5), pay(0), pay(31, code=0)]
    batch = signed(rows)
    assert (
        engine.submit(batch, timestamp_ns=2 * S).tolist()
        == other.submit(batch, verify_signatures=False, timestamp_ns=2 * S).tolist()
    )


def test_stored_verdicts_replace_verification(engine):
    batch = signed([pay(1, flags=TF.linked), pay(2), pay(3)])
    batch["signature"][2] = 0  # would fail verification: the verdicts decide instead
    verdicts = numpy.array([True, False, True])
    assert names(engine.submit(batch, signature_verdicts=verdicts)) == [
        "linked_event_failed",
        "bad_signature",
        "ok",
    ]
    with pytest.raises(LedgerValueError, match="signature_verdicts"):
        engine.submit(batch, signature_verdicts=numpy.array([1, 0, 1]))
