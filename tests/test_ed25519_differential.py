"""Our verifiers against PyNaCl (libsodium) on random keys, messages and one-bit corruptions.

On honestly made signatures and their one-bit corruptions the rule set of ledgercore.ed25519 and
libsodium must agree: they part only on crafted small-order components (test_ed25519_torsion).
"""

from __future__ import annotations

import functools
import os

import nacl.exceptions
import nacl.signing
import numpy
import pytest

from ledgercore.ed25519 import decode_public_keys, verify, verify_batch

KEY_COUNT = 64


def pynacl_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except nacl.exceptions.BadSignatureError:
        return False
    return True


@functools.lru_cache(maxsize=4)
def signed_cases(count: int, seed: int, max_length: int = 1024):
    """count (key, message, signature) triples, valid, over KEY_COUNT random keys."""
    rng = numpy.random.default_rng(seed)
    keys = [nacl.signing.SigningKey(rng.bytes(32)) for _ in range(KEY_COUNT)]
    cases = []
    for _ in range(count):
        key = keys[int(rng.integers(KEY_COUNT))]
        message = rng.bytes(int(rng.integers(0, max_length + 1)))
        cases.append((bytes(key.verify_key), message, key.sign(message).signature))
    return tuple(cases)


def flip_one_bit(rng, public_key: bytes, message: bytes, signature: bytes):
    """The triple with one random bit flipped in the signature, the key or the message."""
    where = int(rng.integers(3)) if message else int(rng.integers(2))
    target = bytearray((signature, public_key, message)[where])
    bit = int(rng.integers(8 * len(target)))
    target[bit // 8] ^= 1 << (bit % 8)
    parts = [signature, public_key, message]
    parts[where] = bytes(target)
    return parts[1], parts[2], parts[0]


def run_differential(count: int, seed: int) -> None:
    rng = numpy.random.default_rng(seed + 1)
    cases = signed_cases(count, seed)
    corrupted = [flip_one_bit(rng, *case) for case in cases]
    for case in cases:
        assert verify(*case), case
    expected = []
    for case in corrupted:
        ours = verify(*case)
        assert ours == pynacl_verify(*case), case
        expected.append(ours)
    assert not any(expected), "a one-bit corruption verified"
    # The same cases in batches, valid and corrupted interleaved.
    mixed = [row for pair in zip(cases, corrupted, strict=True) for row in pair]
    keys, messages, signatures = (list(column) for column in zip(*mixed, strict=True))
    result = verify_batch(keys, messages, signatures)
    assert result.tolist() == [True, False] * count


def test_differential_against_pynacl_small():
    run_differential(600, seed=1)


@pytest.mark.slow
def test_differential_against_pynacl_full():
    """100,000 signatures and 100,000 corruptions (10,000 of each when CI=true)."""
    count = 10_000 if os.environ.get("CI") == "true" else 100_000
    for start in range(0, count, 10_000):
        run_differential(min(10_000, count - start), seed=1000 + start)


def batch_with_bad_positions(cases, bad_positions):
    keys = [c[0] for c in cases]
    messages = [c[1] for c in cases]
    signatures = [bytearray(c[2]) for c in cases]
    for position in bad_positions:
        signatures[position][int(position % 64)] ^= 0x10
    return keys, messages, [bytes(s) for s in signatures]


def test_every_batch_size_up_to_70_names_exactly_the_bad_signatures():
    rng = numpy.random.default_rng(70)
    pool = signed_cases(70, seed=70, max_length=100)
    for size in range(71):
        cases = pool[:size]
        bad = sorted(set(rng.integers(0, max(size, 1), size=int(rng.integers(0, 4)))))
        bad = [b for b in bad if b < size]
        keys, messages, signatures = batch_with_bad_positions(cases, bad)
        expected = [i not in bad for i in range(size)]
        for threads in (1, 2):
            result = verify_batch(keys, messages, signatures, threads=threads)
            assert result.dtype == numpy.bool_
            assert result.shape == (size,)
            assert result.tolist() == expected, (size, bad)
        assert [verify(*row) for row in zip(keys, messages, signatures, strict=True)] == expected


@pytest.mark.parametrize("bad_count", [0, 1, 7, 300])
def test_batches_of_ten_thousand_name_exactly_the_bad_signatures(bad_count: int):
    rng = numpy.random.default_rng(bad_count)
    cases = signed_cases(10_000, seed=10_000, max_length=64)
    bad = set(rng.choice(10_000, size=bad_count, replace=False).tolist())
    keys, messages, signatures = batch_with_bad_positions(cases, bad)
    expected = numpy.array([i not in bad for i in range(10_000)])
    for threads in (1, 2):
        assert (verify_batch(keys, messages, signatures, threads=threads) == expected).all()
    decoded = decode_public_keys(keys)
    assert (verify_batch(decoded, messages, signatures) == expected).all()
    for i in sorted(bad)[:20]:
        assert not verify(keys[i], messages[i], signatures[i])


def test_all_bad_batch_is_all_false():
    cases = signed_cases(300, seed=3, max_length=16)
    keys, messages, signatures = batch_with_bad_positions(cases, range(300))
    assert not verify_batch(keys, messages, signatures).any()


def test_batch_larger_than_one_chunk_splits_and_agrees():
    from ledgercore._native import ed25519 as native

    count = native.CHUNK_SIZE_MAX + 5
    cases = signed_cases(count, seed=5, max_length=8)
    bad = {0, native.CHUNK_SIZE_MAX - 1, native.CHUNK_SIZE_MAX, count - 1}
    keys, messages, signatures = batch_with_bad_positions(cases, bad)
    result = verify_batch(keys, messages, signatures, threads=1)
    assert set(numpy.flatnonzero(~result).tolist()) == bad
