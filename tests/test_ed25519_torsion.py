"""Crafted signatures that separate verifiers: small-order components, S + L, non-canonical y.

The cases are generated here with a slow, obvious edwards25519 written from RFC 8032 (integers,
extended coordinates), which also states the rule set once more as `reference_verify` so that
random crafted inputs can be compared with the native verifiers.
"""

from __future__ import annotations

import hashlib

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgercore.ed25519 import verify, verify_batch

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def point_add(p, q):
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = 2 * D * t1 * t2 % P
    d = 2 * z1 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def scalar_mult(n, p):
    result = (0, 1, 1, 0)
    while n > 0:
        if n & 1:
            result = point_add(result, p)
        p = point_add(p, p)
        n >>= 1
    return result


def point_equal(p, q):
    return (p[0] * q[2] - q[0] * p[2]) % P == 0 and (p[1] * q[2] - q[1] * p[2]) % P == 0


def recover_x(y, sign):
    """RFC 8032 5.1.3 step 2-4 for a reduced y; None when there is no x."""
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    if (v * x * x - u) % P != 0:
        if (v * x * x + u) % P != 0:
            return None
        x = x * SQRT_M1 % P
    if x == 0 and sign:
        return None
    return P - x if x & 1 != sign else x


def decode(encoding: bytes, *, strict: bool = True):
    """A point, or None. strict=False reads y modulo p, as lenient verifiers do."""
    y = int.from_bytes(encoding, "little") & (2**255 - 1)
    sign = encoding[31] >> 7
    if y >= P:
        if strict:
            return None
        y -= P
    x = recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


def encode(p) -> bytes:
    zinv = pow(p[2], P - 2, P)
    x, y = p[0] * zinv % P, p[1] * zinv % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


BASE = decode((4 * pow(5, P - 2, P) % P).to_bytes(32, "little"))
IDENTITY = (0, 1, 1, 0)


def times8_is_identity(p) -> bool:
    return point_equal(scalar_mult(8, p), IDENTITY)


def challenge(r_encoding: bytes, a_encoding: bytes, message: bytes) -> int:
    digest = hashlib.sha512(r_encoding + a_encoding + message).digest()
    return int.from_bytes(digest, "little") % L


def reference_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """The rule set of ledgercore.ed25519, line by line."""
    s = int.from_bytes(signature[32:], "little")
    if s >= L:
        return False
    a, r = decode(public_key), decode(signature[:32])
    if a is None or r is None:
        return False
    k = challenge(signature[:32], public_key, message)
    left = scalar_mult(s, BASE)
    right = point_add(r, scalar_mult(k, a))
    difference = point_add(left, (P - right[0], right[1], right[2], P - right[3]))
    return times8_is_identity(difference)


def find_order_8_point():
    """A generator of the 8-torsion: [L]Q for a point Q whose [L]Q has order exactly 8."""
    for y in range(2, 200):
        q = decode(y.to_bytes(32, "little"))
        if q is None:
            continue
        t = scalar_mult(L, q)
        if not point_equal(scalar_mult(4, t), IDENTITY):
            return t
    raise AssertionError("no point of order 8 found")


TORSION8 = find_order_8_point()
SMALL_ORDER = [scalar_mult(i, TORSION8) for i in range(8)]


def secret(seed: bytes):
    """RFC 8032 5.1.5: the clamped scalar and the nonce prefix of a seed."""
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def sign_with(seed: bytes, message: bytes, *, r_shift=IDENTITY, a_shift=IDENTITY):
    """(public key, signature), with R and A each shifted by a small-order point. The scalar S is
    the honest one, so the cofactored equation holds and the cofactorless one does not."""
    a, prefix = secret(seed)
    public = point_add(scalar_mult(a, BASE), a_shift)
    public_encoding = encode(public)
    r = int.from_bytes(hashlib.sha512(prefix + message).digest(), "little") % L
    big_r = point_add(scalar_mult(r, BASE), r_shift)
    r_encoding = encode(big_r)
    k = challenge(r_encoding, public_encoding, message)
    s = (r + k * a) % L
    return public_encoding, r_encoding + s.to_bytes(32, "little")


def assert_both_paths(public_key: bytes, message: bytes, signature: bytes, expected: bool):
    assert reference_verify(public_key, message, signature) is expected
    assert verify(public_key, message, signature) is expected
    assert verify_batch([public_key], [message], [signature]).tolist() == [expected]


def test_reference_signatures_match_the_rfc_signer():
    from ledgercore.keys import SigningKey

    seed = bytes(range(32))
    public_key, signature = sign_with(seed, b"transfer")
    key = SigningKey.from_seed(seed)
    assert public_key == key.public_key
    assert signature == key.sign(b"transfer")


@pytest.mark.parametrize("index", range(1, 8))
def test_r_shifted_by_a_small_order_point_is_accepted(index: int):
    public_key, signature = sign_with(b"\x01" * 32, b"r shift", r_shift=SMALL_ORDER[index])
    assert_both_paths(public_key, b"r shift", signature, True)


@pytest.mark.parametrize("index", range(1, 8))
def test_a_shifted_by_a_small_order_point_is_accepted(index: int):
    public_key, signature = sign_with(b"\x02" * 32, b"a shift", a_shift=SMALL_ORDER[index])
    assert_both_paths(public_key, b"a shift", signature, True)


def test_small_order_key_with_identity_r_and_zero_s_is_accepted():
    # [8]0B = [8]R + [8]kA holds for any message when R and A have small order: legal for verify,
    # refused by keys.check_public_key at registration.
    for a_point in SMALL_ORDER:
        for r_point in SMALL_ORDER[:3]:
            signature = encode(r_point) + bytes(32)
            assert_both_paths(encode(a_point), b"anything", signature, True)


def test_s_plus_l_is_rejected():
    public_key, signature = sign_with(b"\x03" * 32, b"malleate")
    assert_both_paths(public_key, b"malleate", signature, True)
    s = int.from_bytes(signature[32:], "little")
    for bigger in (s + L, s + 2 * L, s + 15 * L):
        if bigger < 2**256:
            forged = signature[:32] + bigger.to_bytes(32, "little")
            assert_both_paths(public_key, b"malleate", forged, False)


def non_canonical_encodings():
    """Every y >= p that reads as a point when reduced (y - p in 0..18), with both sign bits."""
    for small_y in range(19):
        for sign in (0, 1):
            encoding = ((small_y + P) | (sign << 255)).to_bytes(32, "little")
            if decode(encoding, strict=False) is not None:
                yield encoding


def test_non_canonical_r_is_rejected_even_when_the_lenient_equation_holds():
    seed = b"\x04" * 32
    a, _ = secret(seed)
    public_key = encode(scalar_mult(a, BASE))
    lenient_accepts = 0
    for r_encoding in non_canonical_encodings():
        # With S = k a, the equation holds for R read as y - p exactly when that point has small
        # order (y - p = 0 or 1): a verifier that reduces y would accept those.
        r_point = decode(r_encoding, strict=False)
        k = challenge(r_encoding, public_key, b"lenient")
        signature = r_encoding + (k * a % L).to_bytes(32, "little")
        lenient_accepts += times8_is_identity(r_point)
        assert_both_paths(public_key, b"lenient", signature, False)
    assert lenient_accepts >= 2


def test_non_canonical_a_is_rejected():
    for a_encoding in non_canonical_encodings():
        # A reads as a small-order point, so S = r with R = rB satisfies the lenient equation.
        r = 12345
        signature = encode(scalar_mult(r, BASE)) + r.to_bytes(32, "little")
        assert_both_paths(a_encoding, b"key", signature, False)


def test_negative_zero_x_is_rejected():
    # y = 1 and y = p - 1 have x = 0; their encodings with the sign bit set are a second spelling.
    for y in (1, P - 1):
        spelled = (y | (1 << 255)).to_bytes(32, "little")
        signature = encode(IDENTITY) + bytes(32)
        assert_both_paths(spelled, b"zero", signature, False)
        assert_both_paths(encode(IDENTITY), b"zero", spelled + bytes(32), False)


def test_crafted_cases_agree_across_a_mixed_batch():
    keys, messages, signatures, expected = [], [], [], []
    for index in range(8):
        message = bytes([index]) * index
        public_key, signature = sign_with(
            bytes([index + 10]) * 32,
            message,
            r_shift=SMALL_ORDER[index],
            a_shift=SMALL_ORDER[(3 * index) % 8],
        )
        keys.append(public_key)
        messages.append(message)
        signatures.append(signature)
        expected.append(True)
        bad = bytearray(signature)
        bad[40] ^= 4
        keys.append(public_key)
        messages.append(message)
        signatures.append(bytes(bad))
        expected.append(False)
    for r_encoding in list(non_canonical_encodings())[:6]:
        keys.append(keys[0])
        messages.append(b"")
        signatures.append(r_encoding + bytes(32))
        expected.append(False)
    for threads in (1, 2):
        assert verify_batch(keys, messages, signatures, threads=threads).tolist() == expected
    assert [verify(k, m, s) for k, m, s in zip(keys, messages, signatures, strict=True)] == expected


@settings(max_examples=60, deadline=None)
@given(
    a_index=st.integers(0, 7),
    r_index=st.integers(0, 7),
    s=st.integers(0, 2**256 - 1),
    message=st.binary(max_size=40),
)
def test_random_small_order_inputs_follow_the_reference(a_index, r_index, s, message):
    public_key = encode(SMALL_ORDER[a_index])
    signature = encode(SMALL_ORDER[r_index]) + s.to_bytes(32, "little")
    expected = reference_verify(public_key, message, signature)
    assert verify(public_key, message, signature) is expected
    assert verify_batch([public_key], [message], [signature]).tolist() == [expected]


@settings(max_examples=40, deadline=None)
@given(public_key=st.binary(min_size=32, max_size=32), r=st.binary(min_size=32, max_size=32))
def test_random_encodings_follow_the_reference(public_key, r):
    signature = r + (7).to_bytes(32, "little")
    expected = reference_verify(public_key, b"m", signature)
    assert verify(public_key, b"m", signature) is expected
    rows = numpy.frombuffer(public_key, dtype=numpy.uint8).reshape(1, 32)
    assert verify_batch(rows, [b"m"], [signature]).tolist() == [expected]
