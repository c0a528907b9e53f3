"""The Ed25519 stage of `ledgercore bench`: single and batch verification against PyNaCl.

Every figure is timed beside its baseline in the same run (style guide, section 13). The baseline
is PyNaCl's `VerifyKey.verify` called in a Python loop on one thread (libsodium underneath), on
the same signatures. Figures:

- `verify`, one signature at a time, in a Python loop;
- `verify_batch` of n = 64, 256, 1,024, 4,096 and 16,384 signatures, on one thread and on every
  core, with raw public keys and with keys decoded beforehand by `decode_public_keys`.

Signatures are over 128-byte messages (about a transfer record) by 1,024 distinct keys, as a
ledger sees many signatures from the same accounts. Quick mode (`ctx.quick`) measures n = 64,
1,024 and 4,096 only, best of two calls, on fewer baseline signatures, and takes a second or two.

Example:
    >>> import nacl.signing
    >>> public_keys, messages, signatures = signed_batch(3, key_count=2, seed=1)
    >>> verify_keys = [nacl.signing.VerifyKey(key.tobytes()) for key in public_keys]
    >>> pynacl_loop(verify_keys, messages, [row.tobytes() for row in signatures])
    3
"""

from __future__ import annotations

import functools
import os
from typing import Any

import nacl.exceptions
import nacl.signing
import numpy

from ledgercore.ed25519 import decode_public_keys, verify, verify_batch

GROUP = "ed25519"
MESSAGE_SIZE_BYTES = 128
KEY_COUNT = 1_024
FULL_BATCH_SIZES = (64, 256, 1_024, 4_096, 16_384)
QUICK_BATCH_SIZES = (64, 1_024, 4_096)
FULL_LOOP_COUNT = 2_000
QUICK_LOOP_COUNT = 200
BASELINE = "PyNaCl VerifyKey.verify in a Python loop, one thread"


def signed_batch(count: int, *, key_count: int = KEY_COUNT, seed: int = 0):
    """count signatures of random 128-byte messages by key_count keys, as (keys, messages,
    signatures): an (n, 32) uint8 array, a list of bytes, an (n, 64) uint8 array."""
    rng = numpy.random.default_rng(seed)
    keys = [nacl.signing.SigningKey(rng.bytes(32)) for _ in range(min(count, key_count))]
    public_keys = numpy.empty((count, 32), dtype=numpy.uint8)
    signatures = numpy.empty((count, 64), dtype=numpy.uint8)
    messages = []
    for i in range(count):
        key = keys[i % len(keys)]
        message = rng.bytes(MESSAGE_SIZE_BYTES)
        messages.append(message)
        public_keys[i] = numpy.frombuffer(bytes(key.verify_key), dtype=numpy.uint8)
        signatures[i] = numpy.frombuffer(key.sign(message).signature, dtype=numpy.uint8)
    return public_keys, messages, signatures


def pynacl_loop(public_keys, messages, signatures) -> int:
    """The baseline: PyNaCl verifies each signature; returns how many were valid."""
    valid = 0
    for key, message, signature in zip(public_keys, messages, signatures, strict=True):
        try:
            key.verify(message, signature)
        except nacl.exceptions.BadSignatureError:
            continue
        valid += 1
    return valid


def _thread_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def run(ctx: Any) -> list:
    """Time every Ed25519 figure beside the PyNaCl baseline; returns ctx.result(...) records."""
    sizes = QUICK_BATCH_SIZES if ctx.quick else FULL_BATCH_SIZES
    repeat = 2 if ctx.quick else 5
    loop_count = QUICK_LOOP_COUNT if ctx.quick else FULL_LOOP_COUNT
    public_keys, messages, signatures = signed_batch(max(max(sizes), loop_count))
    # The baseline and the single verifier, on the same first loop_count signatures.
    verify_keys = [nacl.signing.VerifyKey(row.tobytes()) for row in public_keys[:loop_count]]
    key_bytes = [row.tobytes() for row in public_keys[:loop_count]]
    signature_bytes = [row.tobytes() for row in signatures[:loop_count]]
    loop_messages = messages[:loop_count]
    assert pynacl_loop(verify_keys, loop_messages, signature_bytes) == loop_count
    baseline = ctx.measure(
        lambda: pynacl_loop(verify_keys, loop_messages, signature_bytes),
        items=loop_count,
        repeat=3,
    )

    def single_loop() -> int:
        return sum(map(verify, key_bytes, loop_messages, signature_bytes))

    assert single_loop() == loop_count
    common = {"group": GROUP, "baseline": BASELINE, "baseline_seconds": baseline}
    results = [
        ctx.result(
            operation="verify, one at a time in a Python loop",
            items=loop_count,
            seconds=ctx.measure(single_loop, items=loop_count, repeat=3),
            baseline_items=loop_count,
            threads=1,
            **common,
        )
    ]
    all_threads = _thread_count()
    for n in sizes:
        keys, batch_messages, batch_signatures = public_keys[:n], messages[:n], signatures[:n]
        decoded = decode_public_keys(keys)
        for threads in sorted({1, all_threads}):
            for label, key_argument in (("raw keys", keys), ("decoded keys", decoded)):
                assert verify_batch(key_argument, batch_messages, batch_signatures).all()
                batch = functools.partial(
                    verify_batch, key_argument, batch_messages, batch_signatures, threads=threads
                )

                results.append(
                    ctx.result(
                        operation=f"verify_batch, n = {n}, {threads} thread{'s' * (threads > 1)}, "
                        f"{label}",
                        items=n,
                        seconds=ctx.measure(batch, items=n, repeat=repeat),
                        baseline_items=loop_count,
                        threads=threads,
                        **common,
                    )
                )
    return results
