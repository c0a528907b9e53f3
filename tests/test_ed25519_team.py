"""Batches checked by several threads together, as one combined equation.

From TEAM_SIGNATURES_MIN signatures up to one chunk, `verify_batch` with two or more threads
splits the work of one equation (keys, signatures, recoding, Pippenger's windows) among them;
these tests hold it to the answers of the single verifier and of one thread, on batches that
pass whole, batches where a rule (not the equation) refuses some signatures, and batches where
the equation fails and the chunks must name the bad ones.
"""

from __future__ import annotations

import numpy
import pytest
from test_ed25519_torsion import SMALL_ORDER, sign_with

from ledgercore._native import ed25519 as native
from ledgercore.ed25519 import decode_public_keys, verify, verify_batch
from ledgercore.keys import SigningKey

TEAM_MIN = native.TEAM_SIGNATURES_MIN


def signed_batch(count: int, key_count: int, seed: int):
    """count valid (keys, messages, signatures) rows under key_count keys, as lists."""
    rng = numpy.random.default_rng(seed)
    signers = [SigningKey.from_seed(rng.bytes(32)) for _ in range(key_count)]
    keys, messages, signatures = [], [], []
    for _ in range(count):
        signer = signers[int(rng.integers(key_count))]
        message = rng.bytes(int(rng.integers(0, 200)))
        keys.append(signer.public_key)
        messages.append(message)
        signatures.append(signer.sign(message))
    return keys, messages, signatures


def single(keys, messages, signatures) -> list[bool]:
    return [verify(*row) for row in zip(keys, messages, signatures, strict=True)]


def rows(values: list[bytes], width: int) -> numpy.ndarray:
    return numpy.frombuffer(b"".join(values), dtype=numpy.uint8).reshape(-1, width)


def team_verdict(keys, messages, signatures, threads: int) -> tuple[bool, list[bool]]:
    """The combined equation's own verdict, before any fallback could hide it."""
    if isinstance(keys, numpy.ndarray):  # decoded records
        key_rows = keys.view(numpy.uint8).reshape(len(keys), native.DECODED_KEY_SIZE)
    else:
        key_rows = rows(keys, 32)
    holds, passed = native.team_check(key_rows, messages, rows(signatures, 64), threads)
    return holds, passed.tolist()


@pytest.mark.parametrize("threads", [2, 3, 4, 7])
@pytest.mark.parametrize("count", [TEAM_MIN, TEAM_MIN + 1, 1000, native.CHUNK_SIZE_MAX // 4])
def test_a_valid_batch_passes_whatever_the_team_size(count: int, threads: int):
    keys, messages, signatures = signed_batch(count, key_count=max(2, count // 3), seed=count)
    assert verify_batch(keys, messages, signatures, threads=threads).all()
    assert team_verdict(keys, messages, signatures, threads) == (True, [True] * count)
    decoded = decode_public_keys(keys)
    assert verify_batch(decoded, messages, signatures, threads=threads).all()
    assert team_verdict(decoded, messages, signatures, threads) == (True, [True] * count)


@pytest.mark.parametrize("key_count", [1, 5, 2000])
def test_repeated_and_distinct_keys_give_the_same_answers(key_count: int):
    keys, messages, signatures = signed_batch(2000, key_count=key_count, seed=key_count)
    signatures[1999] = (
        signatures[1999][:40] + bytes([signatures[1999][40] ^ 1]) + signatures[1999][41:]
    )
    expected = [True] * 1999 + [False]
    for threads in (1, 2, 5):
        assert verify_batch(keys, messages, signatures, threads=threads).tolist() == expected
        assert team_verdict(keys, messages, signatures, threads)[0] is False
        assert team_verdict(keys[:1999], messages[:1999], signatures[:1999], threads)[0]


def test_signatures_a_rule_refuses_leave_the_rest_of_the_team_batch_valid():
    """Non-canonical S, an undecodable key and an undecodable R fail before the equation; the
    combined equation of the others holds, so their answers come from it alone."""
    keys, messages, signatures = signed_batch(600, key_count=50, seed=11)
    order = (2**252 + 27742317777372353535851937790883648493).to_bytes(32, "little")
    signatures[3] = signatures[3][:32] + order  # S = L: rule 1
    keys[100] = b"\xff" * 32  # y >= p: rule 2
    keys[101] = keys[100]  # the same bad key again, through the key cache
    signatures[599] = b"\xff" * 32 + signatures[599][32:]  # R not canonical: rule 3
    expected = single(keys, messages, signatures)
    assert expected.count(False) == 4
    for threads in (2, 3):
        assert verify_batch(keys, messages, signatures, threads=threads).tolist() == expected
        assert team_verdict(keys, messages, signatures, threads) == (True, expected)
        decoded = decode_public_keys(keys)
        assert verify_batch(decoded, messages, signatures, threads=threads).tolist() == expected


@pytest.mark.parametrize("bad_count", [1, 2, 40])
def test_a_failing_team_batch_names_exactly_the_bad_signatures(bad_count: int):
    rng = numpy.random.default_rng(bad_count + 100)
    keys, messages, signatures = signed_batch(3000, key_count=300, seed=bad_count)
    bad = set(rng.choice(3000, size=bad_count, replace=False).tolist())
    for position in bad:
        message = bytearray(messages[position] or b"\x00")
        message[0] ^= 0x40
        messages[position] = bytes(message)
    expected = [i not in bad for i in range(3000)]
    for threads in (2, 4):
        assert verify_batch(keys, messages, signatures, threads=threads).tolist() == expected
        assert team_verdict(keys, messages, signatures, threads)[0] is False


def test_small_order_components_pass_in_a_team_batch():
    """The cofactored equation holds with small-order parts in R and A, in a combined equation
    of hundreds as alone."""
    keys, messages, signatures = signed_batch(TEAM_MIN + 40, key_count=20, seed=8)
    for index in range(16):
        message = bytes([index]) * (index + 1)
        public_key, signature = sign_with(
            bytes([index + 60]) * 32,
            message,
            r_shift=SMALL_ORDER[index % 8],
            a_shift=SMALL_ORDER[(5 * index) % 8],
        )
        keys[index * 7] = public_key
        messages[index * 7] = message
        signatures[index * 7] = signature
    assert all(single(keys, messages, signatures))
    assert verify_batch(keys, messages, signatures, threads=2).all()
    assert team_verdict(keys, messages, signatures, 2)[0]


def test_forged_decoded_records_are_refused_in_a_team_batch():
    keys, messages, signatures = signed_batch(500, key_count=40, seed=21)
    decoded = decode_public_keys(keys)
    forged = decoded.copy()
    forged[[7, 8, 300]] = numpy.zeros(1, dtype=decoded.dtype)
    result = verify_batch(forged, messages, signatures, threads=2)
    assert numpy.flatnonzero(~result).tolist() == [7, 8, 300]
    holds, passed = team_verdict(forged, messages, signatures, 2)
    assert holds and passed == result.tolist()


def test_the_team_check_refuses_batches_it_does_not_take():
    keys, _, signatures = signed_batch(2, key_count=1, seed=1)
    with pytest.raises(ValueError, match="public_keys"):
        native.team_check(rows(keys, 32)[:0], [], rows(signatures, 64)[:0], 2)
