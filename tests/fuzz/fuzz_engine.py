"""Fuzz target: the engine's submit against the plain-Python model in ledgercore.bench.model.

Each input is a few batches. A batch starts from raw transfer records taken from the input, then
its ids, accounts, ledgers, codes and flags are folded into small ranges so that most transfers
meet an existing account and a rule other than "account not found"; amounts, timeouts and the
rest stay as the input gave them. Both sides see the same batches and clock; every result code
and balance must agree, and the engine's invariants must hold.
"""

from __future__ import annotations

import numpy

from ledgercore import records
from ledgercore.bench.model import BALANCES, Model
from ledgercore.engine import Engine
from ledgercore.keys import SigningKey
from ledgercore.records import AccountFlags as AF
from ledgercore.records import TransferFlags as TF

S = 1_000_000_000
KEY = SigningKey.from_seed(b"f" * 32).public_key
ACCOUNTS = [
    dict(id=1, ledger=1, code=1, owner_key=KEY),
    dict(id=2, ledger=1, code=1, owner_key=KEY, flags=AF.debits_must_not_exceed_credits),
    dict(id=3, ledger=1, code=1, owner_key=KEY, flags=AF.credits_must_not_exceed_debits),
    dict(id=4, ledger=2, code=1, owner_key=KEY),
    dict(id=5, ledger=1, code=2, owner_key=KEY, flags=AF.frozen),
]
SIZE = records.TRANSFER_DTYPE.itemsize
# Plain transfers most often, then each kind of flag, linked chains, and rarely a reserved bit.
FLAG_CHOICES = numpy.array(
    [
        0,
        0,
        0,
        0,
        0,
        TF.linked,
        TF.linked,
        TF.pending,
        TF.pending,
        TF.post_pending,
        TF.void_pending,
        TF.pending | TF.linked,
        TF.post_pending | TF.void_pending,
        1 << 5,
    ],
    dtype=numpy.uint16,
)
BATCH_SIZE_MAX = 8


def fold(batch: numpy.ndarray, knobs: bytes) -> None:
    """Bring a batch's identifying fields into small ranges, the knobs saying which."""
    count = len(batch)
    small = (
        numpy.frombuffer(
            (knobs * (count * 8 // max(len(knobs), 1) + 1))[: count * 8], dtype=numpy.uint8
        )
        .reshape(count, 8)
        .astype(numpy.uint64)
    )
    for column, (name, modulus) in enumerate(
        (("id", 24), ("debit_account_id", 6), ("credit_account_id", 6), ("pending_id", 24))
    ):
        batch[name][:, 0] = small[:, column] % modulus
        batch[name][:, 1] = 0
    batch["ledger"] = numpy.array([1, 1, 1, 1, 1, 2, 0], dtype=numpy.uint32)[small[:, 4] % 7]
    batch["code"] = numpy.array([1, 1, 1, 1, 1, 2, 0], dtype=numpy.uint16)[small[:, 5] % 7]
    batch["flags"] = FLAG_CHOICES[small[:, 6] % len(FLAG_CHOICES)]
    batch["timeout_s"] = numpy.where(batch["flags"] & TF.pending, small[:, 7] % 4, 0)
    batch["pending_id"][:, 0] *= (batch["flags"] & (TF.post_pending | TF.void_pending)) != 0
    # Amounts: the input's high lane only when a knob says so, to reach the overflow rules.
    batch["amount"][:, 1] = numpy.where(small[:, 7] >= 250, batch["amount"][:, 1], 0)
    batch["amount"][:, 0] = numpy.where(
        small[:, 7] >= 200, batch["amount"][:, 0], batch["amount"][:, 0] % 100
    )
    batch["timestamp"] = 0


def check(data: bytes) -> None:
    engine, model, now = Engine(), Model(), 1_000 * S
    accounts = records.accounts(ACCOUNTS)
    key_ok = [True] * len(ACCOUNTS)
    got = engine.create_accounts(accounts, timestamp_ns=now).tolist()
    assert got == model.create_accounts(records.to_dicts(accounts), key_ok, now)
    position = 0
    while position + 2 <= len(data):
        count = 1 + data[position] % BATCH_SIZE_MAX
        now += (data[position + 1] % 4) * S
        knobs = data[position + 2 : position + 2 + count * 8]
        raw = data[position + 2 + len(knobs) : position + 2 + len(knobs) + count * SIZE]
        position += 2 + len(knobs) + len(raw)
        raw = raw + bytes(count * SIZE - len(raw))
        batch = numpy.frombuffer(raw, dtype=records.TRANSFER_DTYPE).copy()
        fold(batch, knobs or b"\0")
        got = engine._native.submit(batch, None, now).tolist()
        want = model.submit(records.to_dicts(batch), None, now)
        assert got == want, (got, want)
    engine._native.check_invariants()
    stored, found = engine._native.lookup_accounts(records.ids(sorted(model.accounts)))
    assert found.all()
    for row in records.to_dicts(stored):
        assert tuple(row[name] for name in BALANCES) == model.balances(row["id"])


def main() -> None:
    import harness

    harness.run(check)


if __name__ == "__main__":
    main()
