"""Fuzz target: Ed25519 verification, single and batch, against each other and libsodium.

The input picks a key seed and a message, the signature comes from PyNaCl (libsodium), and the
rest of the input flips bits of the key, the message or the signature. Then:
- `verify` and `verify_batch` (both key forms, one and several threads, and a batch large enough
  for a team of threads to share one combined equation) give the same answer, since they share
  one rule set;
- whatever libsodium accepts, we accept: its rules are cofactorless and stricter on encodings,
  ours are cofactored, which accepts a superset of canonical signatures;
- an unmodified signature always verifies.
"""

from __future__ import annotations

import nacl.exceptions
import nacl.signing
import numpy

from ledgercore._native import ed25519 as native
from ledgercore.ed25519 import decode_public_keys, verify, verify_batch
from ledgercore.errors import LedgerError


def libsodium_accepts(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError):
        return False
    return True


def check(data: bytes) -> None:
    if len(data) < 2:
        return
    seed = (data[:1] * 32)[:32]
    signing_key = nacl.signing.SigningKey(seed)
    public_key = bytes(signing_key.verify_key)
    message = data[2:][: data[1]]
    signature = signing_key.sign(message).signature
    flips = data[2 + len(message) :]
    if not flips:
        assert verify(public_key, message, signature)
    parts = [bytearray(public_key), bytearray(message), bytearray(signature)]
    for i in range(0, len(flips) - 1, 2):
        part = parts[flips[i] % 3]
        if part:
            part[(flips[i] >> 2) % len(part)] ^= flips[i + 1]
    public_key, message, signature = (bytes(part) for part in parts)
    single = verify(public_key, message, signature)
    if libsodium_accepts(public_key, message, signature):
        assert single
    keys = numpy.frombuffer(public_key * 3, dtype=numpy.uint8).reshape(3, 32)
    signatures = numpy.frombuffer(signature * 3, dtype=numpy.uint8).reshape(3, 64)
    for threads in (1, 2):
        batch = verify_batch(keys, [message] * 3, signatures, threads=threads)
        assert batch.tolist() == [single] * 3
    team = native.TEAM_SIGNATURES_MIN
    team_keys = numpy.frombuffer(public_key * team, dtype=numpy.uint8).reshape(team, 32)
    team_signatures = numpy.frombuffer(signature * team, dtype=numpy.uint8).reshape(team, 64)
    holds, passed = native.team_check(team_keys, [message] * team, team_signatures, 2)
    assert holds or not single
    if holds:
        assert passed.tolist() == [single] * team
    try:
        decoded = decode_public_keys(keys)
    except LedgerError:
        return  # a key that does not decode; the raw form above already said False
    assert verify_batch(decoded, [message] * 3, signatures, threads=1).tolist() == [single] * 3


def main() -> None:
    import harness

    harness.run(check)


if __name__ == "__main__":
    main()
