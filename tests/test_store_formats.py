"""Stores of earlier formats open, verify and prove; their first writer carries them forward.

Format 4 stores (and format 3, which also kept the log's leaf hashes) hold format 1 block
headers, which commit to no earlier block but the previous one. `as_format` turns a store made
now into such a store, header by header, as the earlier ledgercore wrote it.
"""

from __future__ import annotations

import os
import struct

import pytest
from ledger_traffic import TEST_LEDGER_ID, Traffic, open_ledger
from rocksdict import Options, Rdict
from test_store_damage import stored

from ledgercore import proofcheck, records
from ledgercore.blocks import BlockHeader
from ledgercore.errors import LedgerValueError
from ledgercore.ledger import Ledger
from ledgercore.snapshot import SNAPSHOT_FILE
from ledgercore.store import COLUMN_FAMILIES, FORMAT_MAGIC, FORMAT_VERSION, HEAD_FILE, height_key
from ledgercore.verify import verify_store

T0 = 1_700_000_000 * 10**9
SECOND = 10**9


def as_an_older_writer(ledger: Ledger) -> None:
    """Make a ledger apply and check what it writes as the ledgercore of format 1 headers did:
    by rules 1, over signed messages that name no ledger."""
    ledger._machine.engine.rules = 1
    ledger._machine.engine.ledger_id = None


def open_older(path: str, **options) -> Ledger:
    """A store of format 1 headers only has no ledger id yet: a reader asks for none."""
    return Ledger.open(path, **options)


@pytest.fixture
def store_path(tmp_path):
    path = str(tmp_path / "ledger")
    traffic = Traffic(6, ledger_id=None)
    with open_ledger(path) as ledger:
        as_an_older_writer(ledger)
        ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
        for n in range(5):
            ledger.submit(traffic.batch(40, refused=False), timestamp_ns=T0 + (n + 1) * SECOND)
        assert ledger.head().height == 6
    return path


def as_format(path: str, store_format: int) -> None:
    """Rewrite a store's headers in header format 1, relinked, and mark it store_format."""
    options = Options(raw_mode=True)
    families = {name: Options(raw_mode=True) for name in COLUMN_FAMILIES}
    db = Rdict(path, options, column_families=families)
    try:
        blocks = db.get_column_family("blocks")
        previous = None
        height = 0
        while (value := blocks.get(height_key(height))) is not None:
            fields = vars(BlockHeader.from_bytes(value)) | {
                "version": 1,
                "history_root": None,
                "ledger_id": None,
            }
            if previous is not None:
                fields["prev_hash"] = previous.hash
            previous = BlockHeader(**fields)
            blocks[height_key(height)] = previous.to_bytes()
            height += 1
        meta = db.get_column_family("meta")
        meta[b"head"] = struct.pack(">Q", previous.height) + previous.hash
        meta[b"format"] = FORMAT_MAGIC + struct.pack("<I", store_format)
    finally:
        db.close()
    with open(os.path.join(path, HEAD_FILE), "w") as file:
        file.write(f"{previous.height} {previous.hash.hex()}\n")
    os.remove(os.path.join(path, SNAPSHOT_FILE))


def a_transfer_id(ledger: Ledger, height: int) -> int:
    """The id of the first transfer block `height` appended."""
    header = ledger.block(height)
    return records.u128(ledger._log_records([header.log_size - header.transfer_count])["id"])[0]


@pytest.mark.parametrize("store_format", [3, 4])
def test_a_store_of_format_1_headers_opens_verifies_and_proves_at_its_head(
    store_path, store_format
):
    as_format(store_path, store_format)
    with open_older(store_path, read_only=True) as auditor:
        assert auditor.head().version == 1 and auditor.ledger_id is None
        assert auditor.verify_chain(progress=False).ok
        head = auditor.head()
        assert auditor.prove_account(3).verify(head.hash)
        last = a_transfer_id(auditor, head.height)
        assert auditor.prove_transfer(last).verify(head.hash)
        with pytest.raises(LedgerValueError, match="format 1 header, which commits to no"):
            auditor.prove_transfer(a_transfer_id(auditor, 2))
    older = FORMAT_MAGIC + struct.pack("<I", store_format)
    assert stored(store_path, "meta", b"format") == older


@pytest.mark.parametrize("store_format", [3, 4])
def test_the_first_writer_of_an_older_store_appends_format_2_headers_over_all_its_blocks(
    store_path, store_format
):
    as_format(store_path, store_format)
    with open_ledger(store_path) as ledger:
        old_heads = ledger.blocks()
        traffic = Traffic(6, first_id=1_000)
        ledger.submit(traffic.batch(10, refused=False), timestamp_ns=T0 + 100 * SECOND)
        head = ledger.head()
        assert head.version == 2
        old = a_transfer_id(ledger, 2)
        proof = ledger.prove_transfer(old)
        assert proof.block.version == 1 and proof.verify(head.hash)
        assert proofcheck.check_transfer_proof(proof.to_json(), head.hash.hex())
        assert ledger.prove_consistency(1).verify(head.hash)
        assert ledger.prove_account(3, height=4).verify(head.hash)
    assert [ledger_header.version for ledger_header in old_heads] == [1] * 7
    assert stored(store_path, "meta", b"format") == FORMAT_MAGIC + struct.pack("<I", FORMAT_VERSION)
    assert verify_store(store_path, progress=False).ok
    for snapshot in (True, False):
        if not snapshot:
            os.remove(os.path.join(store_path, SNAPSHOT_FILE))
        with open_ledger(store_path, read_only=True) as auditor:
            assert auditor.opened_from == ("snapshot" if snapshot else "blocks")
            assert auditor.prove_transfer(old).verify(auditor.head().hash)


def test_a_format_2_header_after_a_format_1_one_is_the_only_order_allowed(store_path):
    """A chain never goes back to format 1 once a format 2 header was written."""
    as_format(store_path, 4)
    traffic = Traffic(6, first_id=1_000)
    with open_ledger(store_path) as ledger:
        for n in (100, 101):
            ledger.submit(traffic.batch(5, refused=False), timestamp_ns=T0 + n * SECOND)
        head = ledger.head()
    downgraded = BlockHeader(
        **(vars(head) | {"version": 1, "history_root": None, "ledger_id": None})
    )
    options = Options(raw_mode=True)
    families = {name: Options(raw_mode=True) for name in COLUMN_FAMILIES}
    db = Rdict(store_path, options, column_families=families)
    try:
        db.get_column_family("blocks")[height_key(head.height)] = downgraded.to_bytes()
        db.get_column_family("meta")[b"head"] = struct.pack(">Q", head.height) + downgraded.hash
    finally:
        db.close()
    os.remove(os.path.join(store_path, SNAPSHOT_FILE))
    report = verify_store(store_path, progress=False)
    assert not report.ok and "header format" in report.mismatch.what


def test_blocks_of_format_1_replay_by_the_rules_that_accepted_them(tmp_path):
    """Rules 1 voided a pending transfer by a void naming AMOUNT_MAX and answered
    linked_event_chain_open to a failed chain's last, linked record; an older store holding
    such blocks still opens from its blocks and verifies."""
    from ledgercore.records import TransferFlags as TF
    from ledgercore.records import TransferResult as TR

    path = str(tmp_path / "ledger")
    traffic = Traffic(4)
    key = dict(zip(traffic.account_ids, traffic.keys, strict=True))

    def signed(rows, ledger_id=TEST_LEDGER_ID):
        batch = records.transfers(rows)
        if ledger_id is None:
            messages = records.signing_bytes(batch, None)
            batch["signature"] = traffic.keys[0].sign_many(messages)
        else:
            from ledgercore.keys import sign_transfers

            sign_transfers(batch, key, ledger_id)
        return batch

    plain = dict(debit_account_id=1, credit_account_id=2, ledger=1, code=1)
    with open_ledger(path) as ledger:
        as_an_older_writer(ledger)
        ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
        ledger.submit(signed([dict(plain, id=10, amount=500, flags=TF.pending)], None),
                      timestamp_ns=T0 + SECOND)  # fmt: skip
        void = dict(plain, id=11, amount=records.AMOUNT_MAX, pending_id=10, flags=TF.void_pending)
        failing_chain = [
            dict(plain, id=12, amount=5, flags=TF.linked),
            dict(plain, id=13, amount=5, credit_account_id=99, flags=TF.linked),
        ]
        results, _ = ledger.submit(
            signed([void, *failing_chain], None), timestamp_ns=T0 + 2 * SECOND
        )
        assert results.tolist() == [TR.ok, TR.linked_event_failed, TR.linked_event_chain_open]
    as_format(path, 4)
    with open_older(path, read_only=True) as auditor:
        assert auditor.opened_from == "blocks"
        assert auditor.verify_chain(progress=False).ok
        assert records.to_dicts(auditor.balances([1]))[0]["debits_pending"] == 0
    with open_ledger(path) as ledger:
        # New blocks follow the current rules.
        results, _ = ledger.submit(
            signed([dict(plain, id=20, amount=7, flags=TF.pending),
                    dict(plain, id=21, amount=records.AMOUNT_MAX, pending_id=20,
                         flags=TF.void_pending)]),
            timestamp_ns=T0 + 3 * SECOND,
        )  # fmt: skip
        assert results.tolist() == [TR.ok, TR.amount_exceeds_pending]
    os.remove(os.path.join(path, SNAPSHOT_FILE))
    assert verify_store(path, progress=False).ok
    with open_ledger(path, read_only=True) as auditor:
        assert auditor.opened_from == "blocks"
