"""Fuzz target: loading an engine image (the engine's part of a ledger snapshot file).

The input edits a valid image (from a small engine with accounts, pending transfers with
timeouts, posts and refusals): byte flips at chosen offsets, a truncation. Then loading either
refuses with LedgerValueError or gives an engine whose own image is the input, byte for byte,
whose invariants hold, and which still accepts a transfer batch.
"""

from __future__ import annotations

import functools

import numpy

from ledgercore import records
from ledgercore.engine import Engine
from ledgercore.errors import InvariantError, LedgerValueError
from ledgercore.keys import SigningKey
from ledgercore.records import TransferFlags as TF

T0 = 1_700_000_000 * 10**9


@functools.lru_cache(maxsize=1)
def valid_image() -> bytes:
    key = SigningKey.from_seed(b"f" * 32).public_key
    engine = Engine()
    engine.create_accounts(
        records.accounts([dict(id=n, ledger=1, code=1, owner_key=key) for n in range(1, 5)]),
        timestamp_ns=T0,
    )
    rows = []
    for n in range(1, 13):
        row = dict(
            id=n,
            debit_account_id=n % 4 + 1,
            credit_account_id=(n + 1) % 4 + 1,
            amount=n,
            ledger=1,
            code=1,
        )
        if n % 3 == 0:
            row.update(flags=TF.pending, timeout_s=n)
        rows.append(row)
    rows.append(
        dict(
            id=20,
            pending_id=3,
            flags=TF.post_pending,
            debit_account_id=4,
            credit_account_id=1,
            amount=3,
            ledger=1,
            code=1,
        )
    )
    rows.append(dict(id=21, debit_account_id=9, credit_account_id=1, amount=1, ledger=1, code=1))
    engine.submit(records.transfers(rows), verify_signatures=False, timestamp_ns=T0 + 10**9)
    return engine.image().tobytes()


def check(data: bytes) -> None:
    image = bytearray(valid_image())
    for i in range(0, len(data) - 2, 3):
        offset = int.from_bytes(data[i : i + 2], "little") % len(image)
        image[offset] ^= data[i + 2] or 1
    if len(data) % 7 == 1:
        del image[len(image) - 1 - data[0] % 64 :]
    try:
        engine = Engine.load_image(numpy.frombuffer(bytes(image), dtype=numpy.uint8))
    except LedgerValueError:
        return
    assert engine.image().tobytes() == bytes(image)
    try:
        engine.check_invariants()
    except InvariantError:
        return  # balances edited out of agreement: refused as the engine's own check says
    batch = records.transfers(
        [dict(id=99, debit_account_id=1, credit_account_id=2, amount=1, ledger=1, code=1)]
    )
    try:
        engine.submit(batch, verify_signatures=False, timestamp_ns=T0 + 10**12)
    except InvariantError:
        return


def main() -> None:
    import harness

    harness.run(check)


if __name__ == "__main__":
    main()
