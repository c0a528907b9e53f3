"""Every ledger has its own id, bound into every signature: nothing signed for one ledger
applies on another."""

from __future__ import annotations

import shutil

import pytest
from ledger_traffic import Traffic

from ledgercore import proofcheck, records
from ledgercore.errors import LedgerValueError
from ledgercore.ledger import Ledger
from ledgercore.records import TransferResult as TR

T0 = 1_700_000_000 * 10**9
SECOND = 10**9


def twin_ledgers(tmp_path) -> tuple[Ledger, Ledger, Traffic]:
    """Two new ledgers with the same accounts and keys, as a test ledger and a live one."""
    traffic = Traffic(4)
    ledgers = []
    for name in ("a", "b"):
        ledger = Ledger.open(tmp_path / name)
        ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
        ledgers.append(ledger)
    return ledgers[0], ledgers[1], traffic


def test_a_batch_signed_for_one_ledger_is_a_bad_signature_on_another(tmp_path):
    a, b, traffic = twin_ledgers(tmp_path)
    try:
        assert a.ledger_id != b.ledger_id and len(a.ledger_id) == 16
        traffic.ledger_id = a.ledger_id
        batch = traffic.batch(20, refused=False, pending=False)
        on_b, header = b.submit(batch.copy(), timestamp_ns=T0 + SECOND)
        assert on_b.tolist() == [TR.bad_signature] * 20 and header is None
        on_a, _ = a.submit(batch.copy(), timestamp_ns=T0 + SECOND)
        assert on_a.tolist() == [TR.ok] * 20
        # Signed for b, the same transfers are b's.
        traffic.sign(batch)
        assert (b.submit(batch, timestamp_ns=T0 + SECOND)[0] == TR.bad_signature).all()
        batch["signature"] = 0
        traffic.ledger_id = b.ledger_id
        traffic.sign(batch)
        assert (b.submit(batch, timestamp_ns=T0 + 2 * SECOND)[0] == TR.ok).all()
    finally:
        a.close()
        b.close()


def test_submit_many_checks_against_the_ledgers_id_too(tmp_path):
    a, b, traffic = twin_ledgers(tmp_path)
    try:
        traffic.ledger_id = a.ledger_id
        batches = [traffic.batch(10, refused=False, pending=False) for _ in range(3)]
        clocks = [T0 + (n + 1) * SECOND for n in range(3)]
        for results, _ in b.submit_many([x.copy() for x in batches], timestamps_ns=clocks):
            assert (results == TR.bad_signature).all()
        for results, _ in a.submit_many(batches, timestamps_ns=clocks):
            assert (results == TR.ok).all()
    finally:
        a.close()
        b.close()


def test_the_id_is_the_stores_own_and_survives_copies_and_reopening(tmp_path):
    with Ledger.open(tmp_path / "fund") as ledger:
        ledger_id = ledger.ledger_id
        genesis = ledger.block(0)
    assert genesis.ledger_id == ledger_id
    shutil.copytree(tmp_path / "fund", tmp_path / "backup")
    for path in ("fund", "backup"):
        with Ledger.open(tmp_path / path, read_only=True) as copy:
            assert copy.ledger_id == ledger_id
    with pytest.raises(LedgerValueError, match="is ledger"):
        Ledger.open(tmp_path / "fund", ledger_id=b"another ledger!!")
    with Ledger.open(tmp_path / "fixed", ledger_id=b"a reproducible l") as fixed:
        assert fixed.ledger_id == b"a reproducible l"
    with pytest.raises(LedgerValueError, match="ledger_id: expected 16 bytes"):
        Ledger.open(tmp_path / "short", ledger_id=b"short")


def test_every_block_names_the_id_and_a_proof_checks_the_signature_with_it(tmp_path):
    traffic = Traffic(4)
    with Ledger.open(tmp_path / "ledger") as ledger:
        traffic.ledger_id = ledger.ledger_id
        ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
        batch = traffic.batch(5, refused=False, pending=False)
        ledger.submit(batch, timestamp_ns=T0 + SECOND)
        assert {header.ledger_id for header in ledger.blocks()} == {ledger.ledger_id}
        transfer_id = records.u128(batch["id"][2])
        proof = ledger.prove_transfer(transfer_id)
        owner = bytes(ledger.lookup_accounts(batch["debit_account_id"][2:3])["owner_key"][0])
        assert proof.block.ledger_id == ledger.ledger_id
    assert proofcheck.check_transfer_signature(proof.record, owner, proof.block.ledger_id)
    assert not proofcheck.check_transfer_signature(proof.record, owner, bytes(16))
    assert not proofcheck.check_transfer_signature(proof.record, owner, None)
