"""The Ledger's public behaviour: durable blocks, reads, refusals, reopening and proofs."""

from __future__ import annotations

import numpy
import pytest
from ledger_traffic import Traffic, open_ledger

from ledgercore import records
from ledgercore.blocks import BlockHeader, BlockKind
from ledgercore.errors import LedgerValueError, StoreLockedError
from ledgercore.ledger import Ledger
from ledgercore.ledger_proofs import (
    AccountProof,
    ChainConsistencyProof,
    TransferProof,
    ledger_proof_from_bytes,
    ledger_proof_from_json,
)
from ledgercore.records import TransferResult as TR

T0 = 1_700_000_000 * 10**9
SECOND = 10**9


def fill(ledger: Ledger, traffic: Traffic, batches: int, size: int = 60, start: int = 1) -> None:
    for n in range(batches):
        ledger.submit(traffic.batch(size), timestamp_ns=T0 + (start + n) * 10 * SECOND)


@pytest.fixture
def ledger(tmp_path):
    with open_ledger(tmp_path / "ledger") as opened:
        yield opened


@pytest.fixture
def traffic(ledger):
    traffic = Traffic(8)
    results, _ = ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
    assert results.tolist() == [0] * 8
    return traffic


def test_each_changing_batch_is_the_next_block_chained_to_the_last(ledger, traffic):
    before = ledger.head()
    results, header = ledger.submit(traffic.batch(50), timestamp_ns=T0 + SECOND)
    assert header == ledger.head() == ledger.block(before.height + 1)
    assert header.prev_hash == before.hash
    assert header.kind == BlockKind.transfers
    assert header.transfer_count == int((results == 0).sum())
    assert header.log_size == before.log_size + header.transfer_count
    assert BlockHeader.from_bytes(header.to_bytes()) == header
    assert [block.height for block in ledger.blocks()] == list(range(header.height + 1))


def test_a_batch_refused_on_the_record_alone_makes_no_block(ledger, traffic):
    batch = traffic.batch(3, refused=False, pending=False)
    batch["signature"][:, 0] ^= 1
    head = ledger.head()
    results, header = ledger.submit(batch)
    assert results.tolist() == [TR.bad_signature] * 3
    assert header is None
    assert ledger.head() == head
    empty, none = ledger.submit(records.transfers([]))
    assert len(empty) == 0 and none is None


def test_a_transfer_refused_on_the_state_stays_refused_after_reopening(tmp_path):
    traffic = Traffic(4)
    with open_ledger(tmp_path / "l") as ledger:
        ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
        batch = traffic.batch(1, refused=False, pending=False)
        batch["credit_account_id"][0] = records.lanes(999)
        traffic.sign(batch)
        results, header = ledger.submit(batch, timestamp_ns=T0 + SECOND)
        assert results.tolist() == [TR.account_not_found]
        assert header is not None and header.transfer_count == 0
    with open_ledger(tmp_path / "l") as ledger:
        results, _ = ledger.submit(batch, timestamp_ns=T0 + 2 * SECOND)
        assert results.tolist() == [TR.id_already_failed]


def test_reopening_gives_the_same_head_balances_and_transfers(tmp_path):
    traffic = Traffic(8)
    with open_ledger(tmp_path / "l") as ledger:
        ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
        fill(ledger, traffic, 6)
        head = ledger.head()
        balances = ledger.balances(traffic.account_ids)
        transfers = ledger.lookup_transfers(range(2, 300))
    with open_ledger(tmp_path / "l") as ledger:
        assert ledger.head() == head
        assert ledger.balances(traffic.account_ids).tobytes() == balances.tobytes()
        assert ledger.lookup_transfers(range(2, 300)).tobytes() == transfers.tobytes()
        assert ledger.verify_chain(progress=False).ok


def test_lookup_transfers_gives_the_signed_log_record(ledger, traffic):
    batch = traffic.batch(20, refused=False, pending=False)
    ledger.submit(batch, timestamp_ns=T0 + SECOND)
    found = ledger.lookup_transfers(records.u128(batch["id"]))
    assert found["signature"].tobytes() == batch["signature"].tobytes()
    assert (found["timestamp"] == T0 + SECOND + numpy.arange(20)).all()


def test_a_second_writer_is_refused_and_readers_are_not(tmp_path, ledger, traffic):
    with pytest.raises(StoreLockedError, match="process"):
        open_ledger(ledger.path)
    with open_ledger(ledger.path, read_only=True) as reader:
        assert reader.head() == ledger.head()
        with pytest.raises(LedgerValueError, match="read-only"):
            reader.submit(traffic.batch(1))


def test_opening_nothing_without_create_is_refused(tmp_path):
    with pytest.raises(LedgerValueError, match="no ledger store"):
        open_ledger(tmp_path / "none", create=False)


def test_bad_arguments_name_the_argument(ledger, traffic):
    with pytest.raises(LedgerValueError, match="transfers"):
        ledger.submit(numpy.zeros(2, records.ACCOUNT_DTYPE))
    with pytest.raises(TypeError, match="timestamp_ns"):
        ledger.submit(traffic.batch(1), timestamp_ns=1.5)
    with pytest.raises(LedgerValueError, match="height"):
        ledger.block(99)
    with pytest.raises(LedgerValueError, match="transfer_id"):
        ledger.prove_transfer(10**20)


def test_a_closed_ledger_refuses_calls_and_closes_twice(ledger):
    ledger.close()
    ledger.close()
    with pytest.raises(LedgerValueError, match="closed"):
        ledger.head()


def test_transfer_proof_checks_at_its_block_and_head_and_survives_json_and_bytes(ledger, traffic):
    batch = traffic.batch(30, refused=False, pending=False)
    ledger.submit(batch, timestamp_ns=T0 + SECOND)
    fill(ledger, traffic, 3, start=2)
    transfer_id = records.u128(batch["id"][7])
    proof = ledger.prove_transfer(transfer_id)
    assert proof.verify()
    assert proof.block.height == 2 and proof.head == ledger.head()
    assert TransferProof.from_bytes(proof.to_bytes()) == proof
    assert ledger_proof_from_json(proof.to_json()) == proof
    forged = bytearray(proof.record)
    forged[48] ^= 1
    assert not TransferProof(bytes(forged), *list(vars(proof).values())[1:]).verify()


def test_account_proof_at_the_head_and_at_a_past_height(ledger, traffic):
    fill(ledger, traffic, 3)
    for height in (1, 2, ledger.head().height):
        proof = ledger.prove_account(3, height=height)
        assert proof.verify() and proof.block.height == height
        assert ledger_proof_from_bytes(proof.to_bytes()) == proof
    now = ledger.prove_account(3)
    assert now.record == ledger.lookup_accounts([3]).tobytes()
    then = ledger.prove_account(3, height=1)
    assert records.u128(then.account["debits_posted"]) == 0
    lie = AccountProof(now.record, now.slot, then.block, now.proof, then.head, then.in_history)
    assert not lie.verify()


def test_consistency_proofs_link_every_earlier_block_to_the_head(ledger, traffic):
    fill(ledger, traffic, 4)
    for old in range(ledger.head().height + 1):
        proof = ledger.prove_consistency(old)
        assert proof.verify()
        assert ChainConsistencyProof.from_bytes(proof.to_bytes()) == proof
    with pytest.raises(LedgerValueError):
        ledger.prove_consistency(3, 2)


def test_account_history_pages_through_an_accounts_transfers(ledger, traffic):
    fill(ledger, traffic, 4)
    everything = ledger.account_history(2, limit=10_000)
    assert len(everything) > 10
    touches = [2 in (d, c) for d, c in zip(records.u128(everything["debit_account_id"]),
                                           records.u128(everything["credit_account_id"]),
                                           strict=True)]  # fmt: skip
    assert all(touches)
    pages, after = [], None
    while True:
        page = ledger.account_history(2, limit=7, after=after)
        if len(page) == 0:
            break
        pages.append(page)
        after = int(page["timestamp"][-1])
    assert numpy.concatenate(pages).tobytes() == everything.tobytes()


def test_pending_transfers_that_expire_change_the_state_root_in_a_block(ledger, traffic):
    batch = records.transfers([dict(id=500, debit_account_id=1, credit_account_id=2, amount=5,
                                    ledger=1, code=1, flags=records.TransferFlags.pending,
                                    timeout_s=1)])  # fmt: skip
    traffic.sign(batch)
    ledger.submit(batch, timestamp_ns=T0 + SECOND)
    assert records.to_dicts(ledger.balances([1]))[0]["debits_pending"] == 5
    refused = traffic.batch(1, refused=False, pending=False)
    refused["signature"][0, 0] ^= 1
    _, header = ledger.submit(refused, timestamp_ns=T0 + 5 * SECOND)
    assert header is not None and header.transfer_count == 0
    assert records.to_dicts(ledger.balances([1]))[0]["debits_pending"] == 0
    assert ledger.prove_account(1).verify()
    assert ledger.verify_chain(progress=False).ok
