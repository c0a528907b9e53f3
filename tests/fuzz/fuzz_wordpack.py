"""Fuzz target: unpacking stored record bytes (block bodies, state entries) against a reference.

Any byte string either unpacks into records that pack back to exactly the bytes read, or is
refused with a LedgerValueError; the packer agrees with a plain-Python packer on the input read as
records; a body or state entry made of the input parses or is refused, never anything else.
"""

from __future__ import annotations

import contextlib

import numpy

from ledgercore._native import wordpack
from ledgercore.errors import LedgerValueError
from ledgercore.store import Body, decode_state


def reference_pack(rows: numpy.ndarray) -> bytes:
    """Each record's mask (a bit per nonzero 8-byte word) and then its nonzero words."""
    out = bytearray()
    words = rows.view("<u8").reshape(len(rows), rows.dtype.itemsize // 8)
    for record in words:
        bits = sum(1 << index for index, word in enumerate(record.tolist()) if word)
        out += bits.to_bytes((len(record) + 7) // 8, "little")
        out += b"".join(int(word).to_bytes(8, "little") for word in record.tolist() if word)
    return bytes(out)


def check(data: bytes) -> None:
    for record_size in (8, 16, 64, 72, 192):
        dtype = numpy.dtype((numpy.void, record_size))
        for count in (0, 1, 3):
            try:
                rows, end = wordpack.unpack(data, 0, count, dtype)
            except LedgerValueError:
                continue
            assert end <= len(data)
            assert wordpack.pack(rows) == data[:end]
            assert reference_pack(rows) == data[:end]
        whole = len(data) // record_size * record_size
        rows = numpy.frombuffer(data[:whole], dtype=dtype)
        packed = wordpack.pack(rows, b"<", b">")
        assert packed == b"<" + reference_pack(rows) + b">"
        assert wordpack.unpack(packed, 1, len(rows), dtype)[0].tobytes() == data[:whole]
    for parse in (Body.from_bytes, decode_state):
        with contextlib.suppress(LedgerValueError):
            parse(data)


def main() -> None:
    import harness

    harness.run(check)


if __name__ == "__main__":
    main()
