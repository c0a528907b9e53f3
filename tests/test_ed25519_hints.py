"""Hinted keys: each public key with its point's x-coordinate, checked and never trusted.

`hint_public_keys` must give the x-coordinate of RFC 8032's decoding (here the pure-Python one
of test_ed25519_torsion), and `verify_batch` over hinted keys must give exactly the verdicts of
raw keys whatever the hint: right, wrong, stale, non-canonical, or for a key that does not
decode at all, on the chunked path and on the team path.
"""

from __future__ import annotations

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_ed25519_torsion import SMALL_ORDER, P, decode, encode, sign_with

from ledgercore._native import ed25519 as native
from ledgercore.ed25519 import HINTED_KEY_DTYPE, hint_public_keys, verify, verify_batch
from ledgercore.engine import Engine
from ledgercore.keys import SigningKey

TEAM_MIN = native.TEAM_SIGNATURES_MIN


def hinted(keys: list[bytes], xs: list[bytes]) -> numpy.ndarray:
    """Hinted key records made by hand, hint and all."""
    rows = numpy.zeros(len(keys), HINTED_KEY_DTYPE)
    raw = rows.view(numpy.uint8).reshape(len(keys), 64)
    for row, (key, x) in enumerate(zip(keys, xs, strict=True)):
        raw[row, :32] = numpy.frombuffer(key, numpy.uint8)
        raw[row, 32:] = numpy.frombuffer(x, numpy.uint8)
    return rows


def x_bytes(x: int) -> bytes:
    return (x % 2**256).to_bytes(32, "little")


def reference_x(key: bytes) -> bytes:
    point = decode(key)
    return bytes(32) if point is None else x_bytes(point[0])


def signed(count: int, seed: int, key_count: int = 5):
    rng = numpy.random.default_rng(seed)
    signers = [SigningKey.from_seed(rng.bytes(32)) for _ in range(key_count)]
    keys, messages, signatures = [], [], []
    for n in range(count):
        signer = signers[n % key_count]
        message = rng.bytes(int(rng.integers(0, 100)))
        keys.append(signer.public_key)
        messages.append(message)
        signatures.append(signer.sign(message))
    return keys, messages, signatures


def test_the_hint_is_the_x_of_rfc_8032_decoding():
    keys = [SigningKey.from_seed(bytes([n]) * 32).public_key for n in range(12)]
    keys += [encode(point) for point in SMALL_ORDER]
    keys += [b"\xff" * 31 + b"\x7f", bytes([2]) + bytes(31), bytes(31) + b"\x80"]
    rows = hint_public_keys(keys)
    assert rows.dtype == HINTED_KEY_DTYPE
    for row, key in zip(rows, keys, strict=True):
        assert row["key"].tobytes() == key
        assert row["x"].tobytes() == reference_x(key)


def test_right_hints_verify_as_raw_keys_do_on_both_paths():
    for count in (3, TEAM_MIN + 5):
        keys, messages, signatures = signed(count, seed=count)
        signatures[1] = signatures[1][:40] + bytes([signatures[1][40] ^ 1]) + signatures[1][41:]
        expected = [verify(*row) for row in zip(keys, messages, signatures, strict=True)]
        assert expected.count(False) == 1
        for threads in (1, 2):
            got = verify_batch(hint_public_keys(keys), messages, signatures, threads=threads)
            assert got.tolist() == expected


def wrong_hints(key: bytes) -> list[bytes]:
    """Hints that are not the key's x: its negation, its non-canonical spellings, the sign bit
    set, zero, another key's x, and junk."""
    right = int.from_bytes(reference_x(key), "little")
    other = reference_x(SigningKey.from_seed(b"o" * 32).public_key)
    hints = [x_bytes(P - right), x_bytes(right + P), x_bytes(right | 1 << 255), bytes(32)]
    return [*hints, other, b"\xff" * 32, bytes(range(32))]


@pytest.mark.parametrize("count", [4, TEAM_MIN + 3])
def test_a_wrong_hint_changes_no_verdict(count):
    keys, messages, signatures = signed(count, seed=7, key_count=count)
    expected = verify_batch(keys, messages, signatures, threads=2).tolist()
    assert all(expected)
    for variant in range(len(wrong_hints(keys[0]))):
        xs = [wrong_hints(key)[variant] for key in keys]
        got = verify_batch(hinted(keys, xs), messages, signatures, threads=2)
        assert got.tolist() == expected, variant


def test_keys_that_do_not_decode_stay_refused_whatever_the_hint():
    good_key, signature = sign_with(b"s" * 32, b"m")
    # y >= p, an x = 0 point spelled with the sign bit, and a y with no x on the curve.
    bad_keys = [b"\xee" + b"\xff" * 30 + b"\x7f", bytes([1]) + bytes(30) + b"\x80"]
    off_curve = (bytes([n]) + bytes(31) for n in range(2, 50))
    bad_keys.append(next(key for key in off_curve if decode(key) is None))
    for key in bad_keys:
        for x in [bytes(32), reference_x(good_key), x_bytes(1), x_bytes(P - 1)]:
            keys = [key, good_key]
            got = verify_batch(
                hinted(keys, [x, reference_x(good_key)]), [b"m", b"m"], [signature, signature]
            )
            assert got.tolist() == [False, True]


def test_small_order_keys_verify_with_hints_as_without():
    messages = [b"small %d" % n for n in range(len(SMALL_ORDER))]
    rows = [
        sign_with(b"t" * 32, message, a_shift=point)
        for message, point in zip(messages, SMALL_ORDER, strict=True)
    ]
    keys = [key for key, _ in rows]
    signatures = [signature for _, signature in rows]
    expected = verify_batch(keys, messages, signatures).tolist()
    assert verify_batch(hint_public_keys(keys), messages, signatures).tolist() == expected


@settings(max_examples=40, deadline=None)
@given(key=st.binary(min_size=32, max_size=32), x=st.binary(min_size=32, max_size=32))
def test_any_key_with_any_hint_gets_the_raw_verdict(key, x):
    good_key, signature = sign_with(b"h" * 32, b"payload")
    keys = [key, good_key, key]
    hints = [x, x, reference_x(key)]
    messages = [b"payload"] * 3
    expected = verify_batch(keys, messages, [signature] * 3).tolist()
    assert verify_batch(hinted(keys, hints), messages, [signature] * 3).tolist() == expected


def test_the_engine_gathers_each_owner_key_with_its_x_and_keeps_them_in_its_image():
    from ledgercore import records

    owners = [SigningKey.from_seed(bytes([n]) * 32) for n in range(1, 4)]
    engine = Engine()
    engine.create_accounts(
        records.accounts(
            [dict(id=n + 1, ledger=1, code=1, owner_key=owners[n % 3].public_key) for n in range(7)]
        )
    )
    batch = records.transfers(
        [
            dict(
                id=n + 1,
                debit_account_id=n % 8 + 1,
                credit_account_id=1,
                amount=1,
                ledger=1,
                code=1,
            )
            for n in range(8)
        ]
    )
    reloaded = Engine.load_image(engine.image())
    for source in (engine, reloaded):
        check = source.gather_signatures(batch)
        assert check.keys.dtype == HINTED_KEY_DTYPE
        assert check.found.tolist() == [True] * 7 + [False]
        for n in range(7):
            key = owners[n % 3].public_key
            assert check.keys[n]["key"].tobytes() == key
            assert check.keys[n]["x"].tobytes() == reference_x(key)
        assert check.keys[7].tobytes() == bytes(64)
