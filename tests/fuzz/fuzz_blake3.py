"""Fuzz target: native BLAKE3 (one input, keyed, derive-key, many inputs) against the `blake3`
package, on a kernel the input picks.

Run: python tests/fuzz/fuzz_blake3.py [libFuzzer flags]; see scripts/fuzz.
"""

from __future__ import annotations

import blake3 as reference
import numpy

from ledgercore.hashing import (
    available_simd_kernels,
    blake3,
    blake3_many,
    set_simd_kernel,
    simd_kernel,
)

KERNELS = available_simd_kernels()


def check(data: bytes) -> None:
    if not data:
        assert blake3(b"") == reference.blake3(b"").digest()
        return
    before = simd_kernel()
    set_simd_kernel(KERNELS[data[0] % len(KERNELS)])
    try:
        check_on_kernel(data[1:])
    finally:
        set_simd_kernel(before)


def check_on_kernel(body: bytes) -> None:
    assert blake3(body) == reference.blake3(body).digest()
    if len(body) >= 32:
        key, message = body[:32], body[32:]
        assert blake3(message, key=key) == reference.blake3(message, key=key).digest()
        length = 1 + key[0] * 3
        assert blake3(message, length=length) == reference.blake3(message).digest(length)
    context = body[:40].decode("latin-1")
    derived = blake3(body, derive_key_context=context)
    assert derived == reference.blake3(body, derive_key_context=context).digest()
    # Many inputs: cut the body at the positions its own bytes give, so lengths vary.
    items, start = [], 0
    for cut in body[:24]:
        items.append(body[start : start + cut * 9])
        start += cut % 17
    want = [reference.blake3(item).digest() for item in items]
    assert [bytes(row) for row in blake3_many(items)] == want
    if items and all(len(item) == len(items[0]) for item in items):
        rows = numpy.frombuffer(b"".join(items), dtype=numpy.uint8).reshape(len(items), -1)
        assert [bytes(row) for row in blake3_many(rows)] == want


def main() -> None:
    import harness

    harness.run(check)


if __name__ == "__main__":
    main()
