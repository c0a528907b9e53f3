"""A batch with many debit accounts is signed in one call, each row by its own owner's key."""

from __future__ import annotations

import numpy
import pytest

from ledgercore import records
from ledgercore.errors import LedgerValueError
from ledgercore.keys import SigningKey, sign_transfers
from ledgercore.ledger import Ledger

LEDGER_ID = b"the payroll book"
KEYS = {account_id: SigningKey.from_seed(bytes([account_id]) * 32) for account_id in range(1, 6)}


def batch_of(pairs: list[tuple[int, int]]) -> numpy.ndarray:
    return records.transfers(
        [
            dict(id=100 + n, debit_account_id=debit, credit_account_id=credit, amount=n + 1,
                 ledger=1, code=1)
            for n, (debit, credit) in enumerate(pairs)
        ]
    )  # fmt: skip


def test_each_row_is_signed_by_its_debit_accounts_key_and_the_ledger_accepts_them(tmp_path):
    pairs = [(1, 2), (3, 1), (1, 5), (4, 2), (5, 3), (2, 4), (1, 3)]
    batch = batch_of(pairs)
    sign_transfers(batch, KEYS, LEDGER_ID)
    messages = records.signing_bytes(batch, LEDGER_ID)
    for row, (debit, _) in enumerate(pairs):
        assert batch["signature"][row].tobytes() == KEYS[debit].sign(messages[row].tobytes())
    with Ledger.open(tmp_path / "ledger", ledger_id=LEDGER_ID) as ledger:
        ledger.create_accounts(
            records.accounts(
                [dict(id=n, ledger=1, code=1, owner_key=key.public_key) for n, key in KEYS.items()]
            )
        )
        results, _ = ledger.submit(batch)
    assert results.tolist() == [0] * len(pairs)


def test_a_missing_key_names_the_account_and_signs_nothing():
    batch = batch_of([(1, 2), (9, 1)])
    with pytest.raises(LedgerValueError, match=r"no key for debit account 9 \(row 1\)"):
        sign_transfers(batch, KEYS, LEDGER_ID)
    assert not batch["signature"].any()


def test_wrong_arguments_are_refused():
    with pytest.raises(TypeError, match="TRANSFER_DTYPE"):
        sign_transfers(numpy.zeros(1, records.ACCOUNT_DTYPE), KEYS, LEDGER_ID)
    with pytest.raises(TypeError, match="SigningKey"):
        sign_transfers(batch_of([(1, 2)]), {1: KEYS[1].public_key}, LEDGER_ID)
    assert sign_transfers(batch_of([]), KEYS, LEDGER_ID).shape == (0, 64)
