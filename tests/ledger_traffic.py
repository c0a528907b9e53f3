"""Signed traffic for the ledger tests: accounts with keys, and batches of random transfers.

A `Traffic` owns the signing keys of its accounts and makes reproducible batches (seeded):
mostly plain transfers, some pending with a timeout, posts and voids of earlier pending ones,
and a few refused ones (a bad signature, an unknown account, a linked chain that fails).
"""

from __future__ import annotations

import random
from typing import Any

import numpy

from ledgercore import records
from ledgercore.keys import SigningKey
from ledgercore.ledger import Ledger
from ledgercore.records import TransferFlags as TF

TEST_LEDGER_ID = b"ledgercore tests"
"""The id of the tests' ledgers: Traffic signs its batches for it."""


def open_ledger(path: Any, **options: Any) -> Ledger:
    """Ledger.open with the tests' ledger id (unless the call gives one)."""
    options.setdefault("ledger_id", TEST_LEDGER_ID)
    return Ledger.open(path, **options)


class Traffic:
    def __init__(
        self,
        account_count: int = 8,
        seed: int = 1,
        first_id: int = 1,
        ledger_id: bytes = TEST_LEDGER_ID,
    ) -> None:
        self.ledger_id = ledger_id
        self.random = random.Random(seed)
        self.keys = [SigningKey.from_seed(bytes([n % 251 + 1]) * 32) for n in range(account_count)]
        self.account_ids = list(range(1, account_count + 1))
        self.next_id = first_id
        self.pending: list[dict[str, int]] = []

    def accounts(self) -> numpy.ndarray:
        return records.accounts(
            [
                dict(id=account_id, ledger=1, code=1, owner_key=key.public_key)
                for account_id, key in zip(self.account_ids, self.keys, strict=True)
            ]
        )

    def _new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def batch(self, size: int, *, refused: bool = True, pending: bool = True) -> numpy.ndarray:
        rng = self.random
        rows = []
        for _ in range(size):
            debit, credit = rng.sample(range(len(self.account_ids)), 2)
            row = dict(
                id=self._new_id(),
                debit_account_id=self.account_ids[debit],
                credit_account_id=self.account_ids[credit],
                amount=rng.randrange(1, 1000),
                ledger=1,
                code=1,
            )
            roll = rng.random()
            if pending and roll < 0.1:
                row["flags"] = TF.pending
                row["timeout_s"] = rng.choice([0, 1, 3600])
                self.pending.append(row)
            elif pending and roll < 0.15 and self.pending:
                earlier = self.pending.pop(rng.randrange(len(self.pending)))
                row.update(
                    debit_account_id=earlier["debit_account_id"],
                    credit_account_id=earlier["credit_account_id"],
                    pending_id=earlier["id"],
                    amount=earlier["amount"] if roll < 0.13 else records.AMOUNT_MAX,
                    flags=TF.void_pending if roll < 0.13 else TF.post_pending,
                )
            elif refused and roll < 0.17:
                row["credit_account_id"] = 10**9 + rng.randrange(100)
            rows.append(row)
        batch = records.transfers(rows)
        self.sign(batch)
        if refused and size > 2 and rng.random() < 0.5:
            batch["signature"][rng.randrange(size)][0] ^= 1
        return batch

    def sign(self, batch: numpy.ndarray) -> None:
        messages = records.signing_bytes(batch, self.ledger_id)
        debit = records.u128(batch["debit_account_id"])
        by_key: dict[int, list[int]] = {}
        for row, account_id in enumerate(debit):
            by_key.setdefault(account_id, []).append(row)
        for account_id, rows in by_key.items():
            key = self.keys[(account_id - 1) % len(self.keys)]
            batch["signature"][rows] = key.sign_many(messages[rows])
