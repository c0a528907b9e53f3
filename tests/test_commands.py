"""The operator's commands read a store and check proofs, with documented exit statuses."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from ledger_traffic import Traffic, open_ledger

from ledgercore import proofcheck, records
from ledgercore.cli import main
from ledgercore.commands import (
    EXIT_DAMAGED,
    EXIT_FAILED,
    EXIT_NO_STORE,
    EXIT_NOT_FOUND,
    EXIT_OK,
)

T0 = 1_700_000_000 * 10**9
SECOND = 10**9


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("commands") / "ledger")
    traffic = Traffic(5)
    with open_ledger(path) as ledger:
        ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
        for n in range(1, 4):
            ledger.submit(traffic.batch(20, refused=False, pending=False),
                          timestamp_ns=T0 + n * SECOND)  # fmt: skip
        head = ledger.head()
        transfer = records.to_dicts(ledger.lookup_transfers([5]))[0]
        account = records.to_dicts(ledger.lookup_accounts([2]))[0]
    return path, head, transfer, account


def test_info_prints_the_head_and_counts_as_json(store, capsys):
    path, head, _, _ = store
    assert main(["info", path, "--json"]) == EXIT_OK
    info = json.loads(capsys.readouterr().out)
    assert info["height"] == head.height and info["head_hash"] == head.hash.hex()
    assert info["transfers"] == head.log_size and info["accounts"] == head.state_size
    assert info["disk_bytes"] > 0


def test_block_and_account_print_what_the_ledger_holds(store, capsys):
    path, head, _, account = store
    assert main(["block", path, str(head.height), "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out) == head.to_dict()
    assert main(["account", path, "2", "--json"]) == EXIT_OK
    shown = json.loads(capsys.readouterr().out)
    assert shown["credits_posted"] == account["credits_posted"]
    assert shown["owner_key"] == account["owner_key"].hex()
    assert main(["account", path, "2"]) == EXIT_OK
    assert f"credits_posted {account['credits_posted']}" in capsys.readouterr().out


def test_prove_then_verify_proof_against_the_published_head(store, tmp_path, capsys):
    path, head, transfer, _ = store
    out = str(tmp_path / "proof.json")
    assert main(["prove", path, "transfer", "5", "--out", out]) == EXIT_OK
    assert "verify-proof" in capsys.readouterr().out
    assert main(["verify-proof", out, "--head", head.hash.hex()]) == EXIT_OK
    assert f"transfer 5 of {transfer['amount']}" in capsys.readouterr().out
    assert main(["verify-proof", out, "--head", "ab" * 32]) == EXIT_FAILED
    capsys.readouterr()
    assert main(["prove", path, "account", "3", "--height", "2"]) == EXIT_OK
    text = capsys.readouterr().out
    assert proofcheck.check_account_proof(text, head.hash)


def test_missing_records_stores_and_proofs_have_their_own_statuses(store, tmp_path, capsys):
    path = store[0]
    assert main(["block", path, "99"]) == EXIT_NOT_FOUND
    assert main(["account", path, "404"]) == EXIT_NOT_FOUND
    assert main(["prove", path, "transfer", "10000"]) == EXIT_NOT_FOUND
    assert main(["info", str(tmp_path / "nothing")]) == EXIT_NO_STORE
    (tmp_path / "junk.json").write_text("[1, 2]")
    assert main(["verify-proof", str(tmp_path / "junk.json"), "--head", "00" * 32]) == (
        EXIT_NOT_FOUND
    )
    assert "no account 404" in capsys.readouterr().err


def test_a_damaged_store_is_reported_as_damaged(tmp_path, capsys):
    path = tmp_path / "ledger"
    open_ledger(path).close()
    (path / "ledgercore.head").unlink()
    assert main(["info", str(path)]) == EXIT_DAMAGED
    assert "damaged" in capsys.readouterr().err


def test_python_dash_m_ledgercore_is_the_command(store):
    path, head, _, _ = store
    done = subprocess.run([sys.executable, "-m", "ledgercore", "info", path],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0 and head.hash.hex() in done.stdout
    version = subprocess.run([sys.executable, "-m", "ledgercore", "--version"],
                             capture_output=True, text=True, check=False)  # fmt: skip
    assert version.stdout.startswith("ledgercore ")


def test_the_ledger_counts_its_accounts_and_accepted_transfers(store):
    path, head, _, _ = store
    with open_ledger(path, read_only=True) as ledger:
        assert ledger.account_count == head.state_size == 5
        assert ledger.transfer_count == head.log_size == 60


def test_history_pages_through_an_accounts_transfers(store, capsys):
    path = store[0]
    with open_ledger(path, read_only=True) as ledger:
        everything = records.to_dicts(ledger.account_history(2, limit=1000))
    assert main(["history", path, "2", "--limit", "4", "--json"]) == EXIT_OK
    first = json.loads(capsys.readouterr().out)
    assert [row["id"] for row in first["transfers"]] == [row["id"] for row in everything[:4]]
    after = str(first["next_after"])
    assert main(["history", path, "2", "--limit", "1000", "--after", after, "--json"]) == EXIT_OK
    rest = json.loads(capsys.readouterr().out)
    assert [row["id"] for row in rest["transfers"]] == [row["id"] for row in everything[4:]]
    assert rest["next_after"] is None
    assert main(["history", path, "404"]) == EXIT_NOT_FOUND


def test_export_writes_every_record_with_its_block_and_result(store, tmp_path, capsys):
    path, head, _, _ = store
    out = str(tmp_path / "transfers.jsonl")
    assert main(["export", path, "transfers", "--out", out]) == EXIT_OK
    with open(out, encoding="utf-8") as file:
        rows = [json.loads(line) for line in file]
    assert len(rows) == 60 and {row["result"] for row in rows} == {"ok"}
    with open_ledger(path, read_only=True) as ledger:
        stored = records.to_dicts(ledger.lookup_transfers([row["id"] for row in rows]))
    for row, record in zip(rows, stored, strict=True):
        assert row["amount"] == record["amount"] and row["timestamp"] == record["timestamp"]
        assert row["signature"] == record["signature"].hex()
    capsys.readouterr()
    assert main(["export", path, "accounts", "--format", "csv"]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("id,") and len(lines) == 1 + head.state_size
    assert main(["export", path, "blocks"]) == EXIT_OK
    blocks = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [block["hash"] for block in blocks][-1] == head.hash.hex()


def test_block_records_carry_their_timestamps_and_refusals(tmp_path):
    traffic = Traffic(4)
    with open_ledger(tmp_path / "ledger") as ledger:
        ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
        batch = traffic.batch(6, refused=False, pending=False)
        batch["credit_account_id"][1] = records.lanes(99)
        traffic.sign(batch)
        results, header = ledger.submit(batch, timestamp_ns=T0 + SECOND)
        rows, stored = ledger.block_records(header.height)
        assert stored.tolist() == results.tolist()
        assert rows["timestamp"].tolist() == [T0 + SECOND + n for n in range(6)]
        assert records.u128(rows["id"]) == records.u128(batch["id"])
        genesis_rows, genesis_results = ledger.block_records(0)
        assert len(genesis_rows) == len(genesis_results) == 0
