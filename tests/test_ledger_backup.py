"""A writer's backup is a store of its own at a block: it opens, verifies and proves."""

from __future__ import annotations

import os

import pytest
from ledger_traffic import Traffic, open_ledger

from ledgercore import proofcheck, records
from ledgercore.errors import LedgerValueError
from ledgercore.verify import verify_store

T0 = 1_700_000_000 * 10**9
SECOND = 10**9


def test_a_backup_taken_between_blocks_holds_every_block_up_to_its_head(tmp_path):
    traffic = Traffic(6)
    copy = str(tmp_path / "copy")
    with open_ledger(tmp_path / "ledger") as ledger:
        ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
        for n in range(1, 4):
            ledger.submit(traffic.batch(30), timestamp_ns=T0 + n * SECOND)
        copied = ledger.backup(copy)
        balances = ledger.balances(traffic.account_ids)
        # The writer carries on; the copy stays at its block.
        ledger.submit(traffic.batch(30, refused=False), timestamp_ns=T0 + 9 * SECOND)
        assert ledger.head().height == copied.height + 1
    assert copied.height == 4
    assert verify_store(copy, progress=False).ok
    with open_ledger(copy, read_only=True) as restored:
        assert restored.opened_from == "blocks"
        assert restored.head() == copied
        assert restored.ledger_id == copied.ledger_id
        assert (restored.balances(traffic.account_ids) == balances).all()
        transfer_id = records.u128(restored.block_records(2)[0]["id"][0])
        proof = restored.prove_transfer(transfer_id).to_json()
    assert proofcheck.check_transfer_proof(proof, copied.hash)
    # A writer of the copy carries on from its head.
    with open_ledger(copy) as writer:
        results, header = writer.submit(traffic.batch(5, refused=False),
                                        timestamp_ns=T0 + 20 * SECOND)  # fmt: skip
        assert header.height == copied.height + 1 and (results == 0).all()


def test_a_backup_is_refused_over_an_existing_path_and_from_a_reader(tmp_path):
    with open_ledger(tmp_path / "ledger") as ledger:
        os.mkdir(tmp_path / "taken")
        with pytest.raises(LedgerValueError, match="exists"):
            ledger.backup(tmp_path / "taken")
        assert os.listdir(tmp_path / "taken") == []
    with (
        open_ledger(tmp_path / "ledger", read_only=True) as reader,
        pytest.raises(LedgerValueError, match="read-only"),
    ):
        reader.backup(tmp_path / "copy")
    assert not os.path.exists(tmp_path / "copy")
