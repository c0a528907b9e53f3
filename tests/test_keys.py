"""ledgercore.keys: signing through PyNaCl, and the registration rule for public keys."""

from __future__ import annotations

import nacl.signing
import numpy
import pytest

from ledgercore.ed25519 import verify, verify_batch
from ledgercore.errors import LedgerValueError
from ledgercore.keys import SigningKey, check_public_key

P = 2**255 - 19


def test_from_seed_matches_pynacl():
    seed = bytes(range(32))
    key = SigningKey.from_seed(seed)
    reference = nacl.signing.SigningKey(seed)
    assert key.public_key == bytes(reference.verify_key)
    assert key.seed == seed
    assert key.sign(b"m") == reference.sign(b"m").signature


def test_generated_keys_differ_and_sign_verifiably():
    first, second = SigningKey.generate(), SigningKey.generate()
    assert first.public_key != second.public_key
    assert verify(first.public_key, b"m", first.sign(b"m"))
    assert not verify(second.public_key, b"m", first.sign(b"m"))


def test_sign_many_matches_sign():
    key = SigningKey.from_seed(bytes(32))
    messages = [b"", b"a", bytes(1000), bytearray(b"x" * 5)]
    signatures = key.sign_many(messages)
    assert signatures.shape == (4, 64)
    assert signatures.dtype == numpy.uint8
    for message, row in zip(messages, signatures, strict=True):
        assert row.tobytes() == key.sign(message)
    rows = numpy.arange(24, dtype=numpy.uint8).reshape(3, 8)
    assert key.sign_many(rows)[1].tobytes() == key.sign(rows[1].tobytes())
    assert verify_batch([key.public_key] * 4, messages, signatures).all()
    assert key.sign_many([]).shape == (0, 64)


@pytest.mark.parametrize("seed", [bytes(31), bytes(33)])
def test_from_seed_refuses_a_wrong_length(seed):
    with pytest.raises(LedgerValueError, match="seed: expected 32 bytes"):
        SigningKey.from_seed(seed)


def test_bad_types_are_type_errors():
    with pytest.raises(TypeError, match="seed"):
        SigningKey.from_seed("0" * 32)
    key = SigningKey.from_seed(bytes(32))
    with pytest.raises(TypeError, match="message"):
        key.sign("text")
    with pytest.raises(TypeError, match="messages"):
        key.sign_many(b"not a sequence of messages")
    with pytest.raises(TypeError, match=r"messages\[1\]"):
        key.sign_many([b"a", 3])
    with pytest.raises(TypeError, match="public_key"):
        check_public_key("a" * 32)


def test_repr_shows_only_the_public_key():
    key = SigningKey.from_seed(bytes(range(32)))
    assert key.public_key.hex() in repr(key)
    assert bytes(range(32)).hex() not in repr(key)


def test_check_public_key_accepts_real_keys():
    for i in range(20):
        key = SigningKey.from_seed(bytes([i]) * 32)
        assert check_public_key(bytearray(key.public_key)) == key.public_key


def small_order_encodings():
    """The eight points of order dividing 8, from the torsion test's reference arithmetic."""
    from test_ed25519_torsion import SMALL_ORDER, encode

    return [encode(point) for point in SMALL_ORDER]


def test_check_public_key_refuses_small_order_points_that_verify_accepts():
    for encoding in small_order_encodings():
        with pytest.raises(ValueError, match="small order"):
            check_public_key(encoding)
        # Legal for verify: [8]0B = [8]R + [8]kA holds with R of small order and S = 0.
        assert verify(encoding, b"any", encoding + bytes(32))


def test_check_public_key_says_why_a_key_is_refused():
    with pytest.raises(ValueError, match="canonical"):
        check_public_key((P + 1).to_bytes(32, "little"))  # y >= p
    with pytest.raises(ValueError, match="canonical"):
        check_public_key((1 | 1 << 255).to_bytes(32, "little"))  # x = 0 with the sign bit
    not_on_curve = next(
        y.to_bytes(32, "little")
        for y in range(2, 100)
        if not verify_batch([y.to_bytes(32, "little")], [b""], [bytes(64)]).any() and _off_curve(y)
    )
    with pytest.raises(ValueError, match="not the encoding of a point on the curve"):
        check_public_key(not_on_curve)
    with pytest.raises(ValueError, match="expected 32 bytes"):
        check_public_key(bytes(31))


def _off_curve(y: int) -> bool:
    from test_ed25519_torsion import recover_x

    return recover_x(y, 0) is None
