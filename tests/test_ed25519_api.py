"""The calling conventions of ledgercore.ed25519: accepted forms, and bad calls named clearly."""

from __future__ import annotations

import hashlib

import numpy
import pytest

from ledgercore import ed25519
from ledgercore._native import ed25519 as native
from ledgercore.errors import LedgerValueError
from ledgercore.keys import SigningKey

L = native.GROUP_ORDER


@pytest.fixture(scope="module")
def signed():
    keys = [SigningKey.from_seed(bytes([i]) * 32) for i in range(5)]
    messages = [bytes([i]) * 24 for i in range(5)]
    signatures = [key.sign(m) for key, m in zip(keys, messages, strict=True)]
    return [key.public_key for key in keys], messages, signatures


def test_verify_accepts_any_bytes_like(signed):
    keys, messages, signatures = signed
    assert ed25519.verify(bytearray(keys[0]), memoryview(messages[0]), bytearray(signatures[0]))
    array_message = numpy.frombuffer(messages[0], dtype=numpy.uint8)
    assert ed25519.verify(keys[0], array_message, signatures[0])


@pytest.mark.parametrize(
    ("public_key", "signature", "error", "match"),
    [
        (bytes(31), bytes(64), ValueError, "public_key: expected 32 bytes, got 31"),
        (bytes(32), bytes(65), ValueError, "signature: expected 64 bytes, got 65"),
        ("x" * 32, bytes(64), TypeError, "public_key"),
        (bytes(32), 12, TypeError, "signature"),
    ],
)
def test_verify_refuses_bad_calls_naming_the_argument(public_key, signature, error, match):
    with pytest.raises(error, match=match):
        ed25519.verify(public_key, b"m", signature)


def test_verify_refuses_a_str_message():
    with pytest.raises(TypeError, match="message"):
        ed25519.verify(bytes(32), "text", bytes(64))


def test_bad_length_is_a_ledger_value_error():
    with pytest.raises(LedgerValueError):
        ed25519.verify(bytes(33), b"", bytes(64))


def test_verify_batch_accepts_arrays_and_sequences(signed):
    keys, messages, signatures = signed
    key_rows = numpy.frombuffer(b"".join(keys), dtype=numpy.uint8).reshape(5, 32)
    signature_rows = numpy.frombuffer(b"".join(signatures), dtype=numpy.uint8).reshape(5, 64)
    message_rows = numpy.frombuffer(b"".join(messages), dtype=numpy.uint8).reshape(5, 24)
    for k in (keys, key_rows, tuple(bytearray(x) for x in keys)):
        for m in (messages, message_rows, [memoryview(x) for x in messages]):
            for s in (signatures, signature_rows):
                assert ed25519.verify_batch(k, m, s).tolist() == [True] * 5


def test_verify_batch_takes_non_contiguous_arrays(signed):
    keys, messages, signatures = signed
    padded = b"".join(key + bytes(32) for key in keys)
    key_rows = numpy.frombuffer(padded, dtype=numpy.uint8).reshape(10, 32)[::2]
    assert ed25519.verify_batch(key_rows, messages, signatures).all()


def test_verify_batch_of_nothing_is_empty():
    result = ed25519.verify_batch([], [], [])
    assert result.shape == (0,)
    assert result.dtype == numpy.bool_


def test_messages_as_an_empty_row_array(signed):
    key = SigningKey.from_seed(bytes(32))
    messages = numpy.zeros((3, 0), dtype=numpy.uint8)
    signature = key.sign(b"")
    result = ed25519.verify_batch([key.public_key] * 3, messages, [signature] * 3)
    assert result.tolist() == [True] * 3


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda k, m, s: ([*k[:4], bytes(31)], m, s), ValueError, r"public_keys\[4\]: expected 32"),
        (lambda k, m, s: (k, m, [*s[:2], bytes(63), *s[3:]]), ValueError, r"signatures\[2\]"),
        (lambda k, m, s: (k, m[:4], s), ValueError, "messages: 4 messages for 5"),
        (lambda k, m, s: (k, m, s[:4]), ValueError, "signatures: 4 signatures for 5"),
        (lambda k, m, s: (k, b"".join(m), s), TypeError, "messages"),
        (lambda k, m, s: (b"".join(k), m, s), TypeError, "public_keys"),
        (lambda k, m, s: (k, [*m[:3], "text", m[4]], s), TypeError, r"messages\[3\]"),
        (lambda k, m, s: (k, [*m[:3], 7, m[4]], s), TypeError, r"messages\[3\]"),
        (lambda k, m, s: ([*k[:1], 5, *k[2:]], m, s), TypeError, r"public_keys\[1\]"),
        (
            lambda k, m, s: (numpy.zeros((5, 32), dtype=numpy.int32), m, s),
            TypeError,
            "public_keys: expected a uint8 array",
        ),
        (
            lambda k, m, s: (numpy.zeros((5, 33), dtype=numpy.uint8), m, s),
            ValueError,
            r"public_keys: expected shape \(n, 32\)",
        ),
        (
            lambda k, m, s: (k, numpy.zeros((5, 2, 2), dtype=numpy.uint8), s),
            ValueError,
            "messages: expected a 2-D array",
        ),
        (
            lambda k, m, s: (k, numpy.zeros((5, 8), dtype=numpy.float32), s),
            TypeError,
            "messages: expected a uint8 array",
        ),
    ],
)
def test_verify_batch_refuses_bad_calls_naming_the_argument(signed, change, error, match):
    with pytest.raises(error, match=match):
        ed25519.verify_batch(*change(*signed))


@pytest.mark.parametrize(
    ("threads", "error"),
    [(0, ValueError), (10_000, ValueError), (1.5, TypeError), (True, TypeError)],
)
def test_verify_batch_refuses_bad_thread_counts(signed, threads, error):
    with pytest.raises(error, match="threads"):
        ed25519.verify_batch(*signed, threads=threads)


def test_value_errors_are_ledger_errors(signed):
    keys, messages, signatures = signed
    with pytest.raises(LedgerValueError):
        ed25519.verify_batch(keys, messages[:1], signatures)


def test_decoded_keys_give_the_same_answers(signed):
    keys, messages, signatures = signed
    bad_keys = [*keys[:4], b"\xff" * 32]  # the last is not canonical: every signature False
    decoded = ed25519.decode_public_keys(bad_keys)
    assert decoded.dtype == ed25519.DECODED_KEY_DTYPE
    assert decoded.shape == (5,)
    expected = ed25519.verify_batch(bad_keys, messages, signatures)
    assert expected.tolist() == [True] * 4 + [False]
    assert ed25519.verify_batch(decoded, messages, signatures).tolist() == expected.tolist()


def test_decoded_keys_are_checked_for_their_tag(signed):
    _, messages, signatures = signed
    forged = numpy.zeros(5, dtype=ed25519.DECODED_KEY_DTYPE)
    assert not ed25519.verify_batch(forged, messages, signatures).any()


def test_decoded_keys_must_be_one_dimensional(signed):
    keys, messages, signatures = signed
    decoded = ed25519.decode_public_keys(keys).reshape(5, 1)
    with pytest.raises(ValueError, match="public_keys"):
        ed25519.verify_batch(decoded, messages, signatures)


@pytest.mark.parametrize("size", [0, 1, 111, 112, 127, 128, 129, 239, 240, 1000])
def test_sha512_matches_hashlib(size):
    data = bytes(range(256)) * 4
    assert native.sha512(data[:size]) == hashlib.sha512(data[:size]).digest()


def test_split_scalar_gives_short_multiples():
    rng = numpy.random.default_rng(9)
    for k in [
        0,
        1,
        2,
        L - 1,
        2**126,
        2**126 - 1,
        *(int(rng.integers(0, 2**62)) ** 4 % L for _ in range(200)),
    ]:
        c0, c1, steps = native.split_scalar(k.to_bytes(32, "little"))
        assert (c0 - c1 * k) % L == 0
        assert 0 <= c0 < 2**126
        assert 0 < abs(c1) < 2**127
        assert steps >= 1
    with pytest.raises(ValueError, match="k"):
        native.split_scalar(L.to_bytes(32, "little"))


def test_repeated_keys_merge_without_changing_answers():
    """Keys repeated in a batch are decoded once and their terms merged in the first check; bad
    keys (undecodable, repeated) and bad signatures under good repeated keys stay False."""
    keys = [SigningKey.from_seed(bytes([i + 40]) * 32) for i in range(3)]
    rows, expected = [], []
    for i in range(60):
        key = keys[i % 3]
        message = i.to_bytes(2, "little")
        signature = bytearray(key.sign(message))
        good = i % 7 != 3
        if not good:
            signature[2] ^= 1
        rows.append((key.public_key, message, bytes(signature)))
        expected.append(good)
        if i % 10 == 0:
            rows.append((b"\xff" * 32, message, bytes(signature)))  # y >= p: never valid
            expected.append(False)
    public_keys, messages, signatures = (list(column) for column in zip(*rows, strict=True))
    for threads in (1, 2):
        result = ed25519.verify_batch(public_keys, messages, signatures, threads=threads)
        assert result.tolist() == expected
    decoded = ed25519.decode_public_keys(public_keys)
    assert ed25519.verify_batch(decoded, messages, signatures).tolist() == expected
    assert [ed25519.verify(*row) for row in rows] == expected
