"""records.failures lists exactly the refused records of a batch, each with its named result."""

from __future__ import annotations

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledgercore import records
from ledgercore.errors import LedgerValueError
from ledgercore.keys import SigningKey
from ledgercore.ledger import Ledger
from ledgercore.records import CreateAccountResult, TransferResult

CODES = [member.value for member in TransferResult]


@given(st.lists(st.sampled_from(CODES), max_size=50))
def test_failures_are_the_rows_that_are_not_ok_in_order(codes):
    results = numpy.array(codes, dtype=records.RESULT_DTYPE)
    listed = records.failures(results)
    assert [row for row, _ in listed] == [row for row, code in enumerate(codes) if code != 0]
    assert all(result is TransferResult(codes[row]) for row, result in listed)


def test_a_ledgers_refusals_come_back_named(tmp_path):
    key = SigningKey.from_seed(b"f" * 32)
    with Ledger.open(tmp_path / "ledger") as ledger:
        results, _ = ledger.create_accounts(records.accounts([
            dict(id=1, ledger=1, code=1, owner_key=key.public_key),
            dict(id=1, ledger=1, code=2, owner_key=key.public_key),
        ]))  # fmt: skip
        assert records.failures(results, CreateAccountResult) == [
            (1, CreateAccountResult.exists_with_different_fields)
        ]
        batch = records.transfers([
            dict(id=10, debit_account_id=1, credit_account_id=2, amount=5, ledger=1, code=1),
            dict(id=11, debit_account_id=1, credit_account_id=1, amount=5, ledger=1, code=1),
        ])  # fmt: skip
        batch["signature"] = key.sign_many(ledger.signing_bytes(batch))
        results, _ = ledger.submit(batch)
    named = records.failures(results)
    assert [row for row, _ in named] == [0, 1]
    assert named[0][1] == TransferResult.account_not_found
    assert named[1][1] == TransferResult.accounts_must_be_different
    assert named[0][1].__doc__


def test_arrays_and_codes_that_are_not_results_are_refused():
    with pytest.raises(TypeError, match="results"):
        records.failures([0, 1])
    with pytest.raises(TypeError, match="result_type"):
        records.failures(numpy.zeros(1, numpy.uint8), int)
    with pytest.raises(LedgerValueError, match="255 is not a TransferResult"):
        records.failures(numpy.array([255], numpy.uint8))
