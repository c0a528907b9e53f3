"""Fuzz target: decoding raw record bytes, and the native signed bytes against their definition.

Any byte string either decodes into whole records or is refused with a LedgerError; decoded
records survive a round trip through dicts; the native `signing_bytes` equals SIGNING_PREFIX,
the ledger id, then bytes [0, SIGNED_SIZE) of each record (SIGNING_PREFIX_V1 and the bytes
without an id), computed here in Python.
"""

from __future__ import annotations

import numpy

from ledgercore import records
from ledgercore.errors import LedgerError


def check(data: bytes) -> None:
    for dtype, build in (
        (records.ACCOUNT_DTYPE, records.accounts),
        (records.TRANSFER_DTYPE, records.transfers),
    ):
        try:
            array = records.as_records(data, dtype, "data")
        except LedgerError:
            assert len(data) % dtype.itemsize != 0
            continue
        assert len(array) == len(data) // dtype.itemsize
        rows = records.to_dicts(array)
        assert records.to_dicts(build(rows)) == rows
    # Signed bytes of the input as transfers, padded to whole records.
    size = records.TRANSFER_DTYPE.itemsize
    padded = data + bytes(-len(data) % size)
    ledger_id = (data + bytes(records.LEDGER_ID_SIZE))[: records.LEDGER_ID_SIZE]
    signed = records.signing_bytes(padded, ledger_id)
    unbound = records.signing_bytes(padded, None)
    raw = numpy.frombuffer(padded, dtype=numpy.uint8).reshape(-1, size)
    for row, old, record in zip(signed, unbound, raw, strict=True):
        client_set = record[: records.SIGNED_SIZE].tobytes()
        assert row.tobytes() == records.SIGNING_PREFIX + ledger_id + client_set
        assert old.tobytes() == records.SIGNING_PREFIX_V1 + client_set


def main() -> None:
    import harness

    harness.run(check)


if __name__ == "__main__":
    main()
