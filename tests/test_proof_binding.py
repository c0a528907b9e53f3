"""Every header a proof carries is bound to the trusted head: no proof moves to another block,
height, clock or root, and a malformed proof is answered False, never an exception."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from ledger_traffic import Traffic, open_ledger

import ledgercore
from ledgercore import proofcheck, records
from ledgercore.blocks import BlockHeader
from ledgercore.errors import LedgerValueError, StoreCorruptedError
from ledgercore.ledger import Ledger
from ledgercore.ledger_proofs import (
    AccountProof,
    ChainConsistencyProof,
    ledger_proof_from_json,
)
from ledgercore.proofs import InclusionProof

T0 = 1_700_000_000 * 10**9
SECOND = 10**9


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    traffic = Traffic(8)
    with open_ledger(tmp_path_factory.mktemp("binding") / "ledger") as opened:
        opened.create_accounts(traffic.accounts(), timestamp_ns=T0)
        for n in range(1, 8):
            opened.submit(traffic.batch(30, refused=False, pending=False),
                          timestamp_ns=T0 + n * 10 * SECOND)  # fmt: skip
        opened.traffic = traffic
        yield opened


def first_transfer_of(ledger: Ledger, height: int) -> int:
    header = ledger.block(height)
    record = ledger._log_records([header.log_size - header.transfer_count])
    return records.u128(record["id"])[0]


def rehashed(header: BlockHeader, **changes) -> BlockHeader:
    """The header with some fields changed; its hash is the new fields' hash, as a forger's."""
    return dataclasses.replace(header, **changes)


def test_every_header_commits_to_the_hashes_of_all_earlier_blocks(ledger):
    headers = ledger.blocks()
    for height, header in enumerate(headers):
        leaves = [proofcheck.leaf_hash(earlier.hash) for earlier in headers[:height]]
        expected = proofcheck.EMPTY_ROOT
        if leaves:
            from ledgercore.merkle import merkle_root

            expected = merkle_root([earlier.hash for earlier in headers[:height]])
        assert header.history_root == expected


@pytest.mark.parametrize(
    "change",
    [
        dict(height=5),
        dict(timestamp_ns=T0 + 99 * SECOND),
        dict(state_root=bytes(32)),
        dict(prev_hash=bytes(32)),
        dict(body_hash=bytes(32)),
    ],
    ids=["height", "clock", "state_root", "prev_hash", "body_hash"],
)
def test_a_transfer_proof_whose_block_header_was_changed_does_not_verify(ledger, change):
    head = ledger.head()
    proof = ledger.prove_transfer(first_transfer_of(ledger, 3))
    assert proof.verify(head.hash)
    forged = dataclasses.replace(proof, block=rehashed(proof.block, **change))
    assert not forged.verify(head.hash)
    assert not forged.verify()
    assert not proofcheck.check_transfer_proof(forged.to_json(), head.hash.hex())


def test_a_transfer_proof_cannot_use_the_heads_log_as_its_block(ledger):
    head = ledger.head()
    proof = ledger.prove_transfer(first_transfer_of(ledger, 3))
    # The head's own header and its path, as if the transfer had been appended in the head block.
    moved = dataclasses.replace(proof, block=head, in_block=proof.in_head, in_history=None)
    assert not moved.verify(head.hash)
    # Or another block's header, with that block's genuine history path.
    other = ledger.block(5)
    path = ledger._history.inclusion_proof(5, head.height)
    assert not dataclasses.replace(proof, block=other, in_history=path).verify(head.hash)


def test_a_proof_checks_against_the_published_head_hash_only(ledger):
    head = ledger.head()
    proof = ledger.prove_transfer(first_transfer_of(ledger, 2))
    assert proof.verify(head.hash)
    assert not proof.verify(ledger.block(head.height - 1).hash)
    # A whole forged head (another log root, its hash recomputed) fails the published hash.
    forged_head = rehashed(head, log_root=bytes(32))
    assert not dataclasses.replace(proof, head=forged_head).verify(head.hash)


def test_a_transfer_proof_checks_the_index_range_and_clock_of_its_block(ledger):
    head = ledger.head()
    proof = ledger.prove_transfer(first_transfer_of(ledger, 4))
    block = proof.block
    # The block's clock one ahead: the record's timestamp now precedes its block.
    later = rehashed(block, timestamp_ns=block.timestamp_ns + 1)
    path = ledger._history.inclusion_proof(block.height, head.height)
    assert not dataclasses.replace(proof, block=later, in_history=path).verify()
    # A record whose timestamp lies past the block's records.
    record = bytearray(proof.record)
    record[120:128] = (block.timestamp_ns + block.record_count).to_bytes(8, "little")
    assert not dataclasses.replace(proof, record=bytes(record)).verify(head.hash)
    before = ledger.prove_transfer(first_transfer_of(ledger, 3))
    assert not dataclasses.replace(
        proof, leaf_index=before.leaf_index, in_block=before.in_block, in_head=before.in_head
    ).verify(head.hash)


def test_the_old_header_of_a_consistency_proof_is_bound_to_the_new_one(ledger):
    head = ledger.head()
    proof = ledger.prove_consistency(3)
    assert proof.verify(head.hash)
    for change in (dict(height=2), dict(timestamp_ns=1), dict(state_root=bytes(32))):
        assert not dataclasses.replace(proof, old=rehashed(proof.old, **change)).verify()


def test_an_account_proof_at_a_past_height_is_bound_to_the_head(ledger):
    head = ledger.head()
    proof = ledger.prove_account(2, height=3)
    assert proof.verify(head.hash)
    assert proof.in_history.leaf_index == 3 and proof.in_history.tree_size == head.height
    assert not dataclasses.replace(proof, block=rehashed(proof.block, height=4)).verify()
    assert not proof.verify(bytes(32))
    data = json.loads(proof.to_json())
    assert proofcheck.check_account_proof(data, head.hash)


def test_malformed_proofs_answer_false_instead_of_raising(ledger):
    head = ledger.head()
    proof = ledger.prove_transfer(first_transfer_of(ledger, 2))
    short = InclusionProof(proof.leaf_index, proof.in_head.tree_size, proof.in_head.hashes[:-1])
    far = InclusionProof(10**6, proof.in_head.tree_size, proof.in_head.hashes)
    for broken in (
        dataclasses.replace(proof, in_head=short),
        dataclasses.replace(proof, in_block=far),
        dataclasses.replace(proof, leaf_index=2**64 - 1),
        dataclasses.replace(proof, in_history=InclusionProof(2, 1, ())),
        dataclasses.replace(proof, block=BlockHeader.genesis(), in_history=None),
    ):
        assert broken.verify(head.hash) is False
    account = ledger.prove_account(1, height=2)
    assert dataclasses.replace(account, slot=10**9).verify() is False
    consistency = ledger.prove_consistency(2)
    assert dataclasses.replace(consistency, in_history=short).verify() is False


@pytest.mark.parametrize(
    "path, value, message",
    [
        (("leaf_index",), 0.0, "leaf_index: expected an int, got float"),
        (("leaf_index",), False, "leaf_index: expected an int, got bool"),
        (("block", "height"), 2.0, "height: expected an integer, got float"),
        (("head", "log_size"), True, "log_size: expected an integer, got bool"),
        (("in_head", "tree_size"), "9", "tree_size"),
        (("block", "log_root"), "AB" * 32, "log_root: expected lowercase hex"),
        (("record",), 5, "record: expected a hex string, got int"),
        (("in_history",), [], "in_history"),
    ],
)
def test_json_fields_of_the_wrong_type_are_refused_naming_the_field(ledger, path, value, message):
    data = json.loads(ledger.prove_transfer(first_transfer_of(ledger, 2)).to_json())
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(LedgerValueError, match=message):
        ledger_proof_from_json(json.dumps(data))
    with pytest.raises(proofcheck.ProofError):
        proofcheck.check_transfer_proof(data, None)


def test_a_version_1_proof_is_refused_saying_why(ledger):
    data = json.loads(ledger.prove_transfer(first_transfer_of(ledger, 2)).to_json())
    data["version"] = 1
    with pytest.raises(LedgerValueError, match="does not bind its block header"):
        ledger_proof_from_json(json.dumps(data))


def test_proofs_survive_bytes_and_json(ledger):
    for proof in (
        ledger.prove_transfer(first_transfer_of(ledger, 3)),
        ledger.prove_account(4, height=2),
        ledger.prove_account(4),
        ledger.prove_consistency(2),
        ledger.prove_consistency(0, 3),
    ):
        kind = type(proof)
        assert kind.from_bytes(proof.to_bytes()) == proof
        assert ledger_proof_from_json(proof.to_json()) == proof
        assert proofcheck.check_proof(proof.to_json(), None)
    assert isinstance(ledger.prove_account(4), AccountProof)
    assert isinstance(ledger.prove_consistency(2), ChainConsistencyProof)


def test_a_stored_header_with_a_wrong_history_root_is_refused_at_open(tmp_path):
    from rocksdict import Options, Rdict

    from ledgercore.snapshot import SNAPSHOT_FILE
    from ledgercore.store import COLUMN_FAMILIES, height_key
    from ledgercore.verify import verify_store

    path = tmp_path / "ledger"
    traffic = Traffic(4)
    with open_ledger(path) as opened:
        opened.create_accounts(traffic.accounts(), timestamp_ns=T0)
        opened.submit(traffic.batch(10, refused=False), timestamp_ns=T0 + SECOND)
        opened.submit(traffic.batch(10, refused=False), timestamp_ns=T0 + 2 * SECOND)
    families = {name: Options(raw_mode=True) for name in COLUMN_FAMILIES}
    db = Rdict(str(path), Options(raw_mode=True), column_families=families)
    try:
        blocks = db.get_column_family("blocks")
        header = BlockHeader.from_bytes(blocks[height_key(2)])
        blocks[height_key(2)] = rehashed(header, history_root=bytes(32)).to_bytes()
    finally:
        db.close()
    (path / SNAPSHOT_FILE).unlink()
    with pytest.raises(StoreCorruptedError, match="history_root"):
        open_ledger(path, read_only=True)
    report = verify_store(str(path), progress=False)
    assert not report.ok and report.mismatch.height == 2


# ---------------------------------------------------------------------------- the outsider's file

_BLOCKED_RUNNER = textwrap.dedent(
    """
    import sys

    class Refuse:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {"ledgercore", "numpy", "rocksdict", "nacl", "tqdm"}:
                raise ImportError("the standalone verifier imported " + name)
            return None

    if "--allow-nacl" in sys.argv:
        sys.argv.remove("--allow-nacl")
    else:
        sys.meta_path.insert(0, Refuse())
    import proofcheck
    sys.exit(proofcheck.main(sys.argv[1:]))
    """
)


def run_alone(directory: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-E", "-s", "run.py", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_verifier_file_alone_checks_proofs_in_an_empty_directory(ledger, tmp_path):
    alone = tmp_path / "outsider"
    alone.mkdir()
    shutil.copy(Path(ledgercore.__file__).parent / "proofcheck.py", alone / "proofcheck.py")
    (alone / "run.py").write_text(_BLOCKED_RUNNER)
    head = ledger.head().hash.hex()
    transfer_id = first_transfer_of(ledger, 2)
    proof = ledger.prove_transfer(transfer_id)
    (alone / "transfer.json").write_text(proof.to_json())
    (alone / "account.json").write_text(ledger.prove_account(3, height=2).to_json())
    (alone / "consistency.json").write_text(ledger.prove_consistency(1).to_json())

    done = run_alone(alone, "transfer.json", "--head", head)
    assert done.returncode == 0, done.stderr
    amount = records.u128(ledger.lookup_transfers([transfer_id])["amount"])[0]
    assert f"transfer {transfer_id} of {amount}" in done.stdout
    for name in ("account.json", "consistency.json"):
        done = run_alone(alone, name, "--head", head)
        assert done.returncode == 0 and done.stdout.startswith("ok:"), done.stderr

    # Another head, a moved header, and input that is not a proof.
    assert run_alone(alone, "transfer.json", "--head", "00" * 32).returncode == 1
    moved = dataclasses.replace(proof, block=rehashed(proof.block, timestamp_ns=1))
    (alone / "moved.json").write_text(moved.to_json())
    assert run_alone(alone, "moved.json", "--head", head).returncode == 1
    (alone / "junk.json").write_text('{"type": "transfer", "version": 2, "leaf_index": 0.0}')
    junk = run_alone(alone, "junk.json", "--head", head)
    assert junk.returncode == 2 and "proof" in junk.stderr

    # The signature, with PyNaCl, against the debit account's owner key.
    debit = records.u128(ledger.lookup_transfers([transfer_id])["debit_account_id"])
    owner = bytes(ledger.lookup_accounts(debit)["owner_key"][0]).hex()
    signed = run_alone(alone, "transfer.json", "--head", head, "--owner-key", owner, "--allow-nacl")
    assert signed.returncode == 0, signed.stdout + signed.stderr
    stranger = run_alone(alone, "transfer.json", "--head", head, "--owner-key", "11" * 32,
                         "--allow-nacl")  # fmt: skip
    assert stranger.returncode == 1 and "signature" in stranger.stdout


def test_the_verifier_decodes_the_records_it_proves(ledger):
    transfer_id = first_transfer_of(ledger, 3)
    proof = ledger.prove_transfer(transfer_id)
    row = records.to_dicts(ledger.lookup_transfers([transfer_id]))[0]
    decoded = proofcheck.decode_transfer(proof.record)
    for name in ("id", "debit_account_id", "credit_account_id", "amount", "ledger", "code",
                 "timestamp", "user_data_64"):  # fmt: skip
        assert decoded[name] == row[name], name
    account = ledger.prove_account(5)
    fields = proofcheck.decode_account(account.record)
    balance = records.to_dicts(ledger.balances([5]))[0]
    assert fields["credits_posted"] == balance["credits_posted"]
    assert fields["owner_key"] == bytes(ledger.lookup_accounts([5])["owner_key"][0]).hex()
