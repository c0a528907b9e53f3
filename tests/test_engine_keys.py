"""Owner keys at account creation: checked once per distinct key, with the verdict and the
point's x-coordinate of each row."""

from __future__ import annotations

import numpy
from hypothesis import given, settings
from hypothesis import strategies as st
from test_ed25519_torsion import decode

from ledgercore.engine import _owner_keys_checked
from ledgercore.keys import SigningKey, check_public_key

GOOD = [SigningKey.from_seed(bytes([n]) * 32).public_key for n in range(1, 6)]
SMALL_ORDER = bytes(32)  # y = 0 is a point of order 4
NOT_CANONICAL = b"\xff" * 31 + b"\x7f"
NEAR_TWINS = [GOOD[0][:8] + bytes(24), GOOD[0][:8] + b"\x01" + bytes(23)]
POOL = [*GOOD, SMALL_ORDER, NOT_CANONICAL, *NEAR_TWINS]


def one_by_one(key: bytes) -> int:
    try:
        check_public_key(key)
    except ValueError:
        return 0
    return 1


@settings(max_examples=60)
@given(st.lists(st.sampled_from(POOL), max_size=40))
def test_each_row_gets_the_verdict_of_check_public_key(keys):
    rows = numpy.frombuffer(b"".join(keys), numpy.uint8).reshape(len(keys), 32)
    got, xs = _owner_keys_checked(rows)
    assert got.dtype == numpy.uint8
    assert got.tolist() == [one_by_one(key) for key in keys]
    assert xs.shape == (len(keys), 32)
    for key, x in zip(keys, xs, strict=True):
        point = decode(key)
        assert x.tobytes() == (bytes(32) if point is None else point[0].to_bytes(32, "little"))
