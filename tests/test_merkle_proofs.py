"""Proofs as bytes and as JSON: they round-trip exactly, and anything else is refused."""

from __future__ import annotations

import json
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgercore.errors import LedgerValueError
from ledgercore.merkle import MerkleLog, StateTree
from ledgercore.proofs import (
    MAGIC,
    PROOF_HASHES_MAX,
    ConsistencyProof,
    InclusionProof,
    StateProof,
    proof_from_bytes,
    proof_from_dict,
)

LEAVES = [b"contribution %d" % i for i in range(50)]
LOG = MerkleLog()
LOG.append_many(LEAVES)

hash_values = st.binary(min_size=32, max_size=32)
numbers = st.integers(min_value=0, max_value=2**64 - 1)
proofs = st.builds(
    lambda kind, first, second, hashes: kind(first, second, tuple(hashes)),
    st.sampled_from([InclusionProof, ConsistencyProof, StateProof]),
    numbers,
    numbers,
    st.lists(hash_values, max_size=PROOF_HASHES_MAX),
)


@settings(max_examples=200, deadline=None)
@given(proof=proofs)
def test_bytes_and_dict_round_trip(proof):
    data = proof.to_bytes()
    assert len(data) == 23 + 32 * len(proof.hashes)
    assert proof_from_bytes(data) == proof
    assert type(proof).from_bytes(data) == proof
    as_json = json.dumps(proof.to_dict())
    assert proof_from_dict(json.loads(as_json)) == proof
    assert type(proof).from_dict(json.loads(as_json)) == proof


def test_layout_is_the_documented_one():
    proof = InclusionProof(5, 9, (b"\x01" * 32, b"\x02" * 32))
    data = proof.to_bytes()
    assert data[:4] == MAGIC
    assert data[4:6] == bytes([1, 1])
    assert struct.unpack_from("<QQB", data, 6) == (5, 9, 2)
    assert data[23:] == b"\x01" * 32 + b"\x02" * 32
    assert proof.to_dict() == {
        "type": "inclusion",
        "version": 1,
        "leaf_index": 5,
        "tree_size": 9,
        "hashes": ["01" * 32, "02" * 32],
    }
    assert ConsistencyProof(1, 2, ()).to_dict()["type"] == "consistency"
    assert StateProof(0, 1, ()).to_bytes()[5] == 3


def test_proofs_survive_the_trip_and_still_verify():
    inclusion = LOG.inclusion_proof(17, 40)
    received = proof_from_dict(json.loads(json.dumps(inclusion.to_dict())))
    assert received.verify(LEAVES[17], LOG.root(40))
    consistency = proof_from_bytes(LOG.consistency_proof(13, 50).to_bytes())
    assert consistency.verify(LOG.root(13), LOG.root(50))
    state = StateTree()
    state.extend(LEAVES)
    assert StateProof.from_bytes(state.proof(7).to_bytes()).verify(LEAVES[7], state.root())


def test_bad_bytes_are_refused():
    good = LOG.inclusion_proof(3, 50).to_bytes()
    cases = {
        "at least 23": good[:10],
        "need": good[:-1],
        "need ": good + b"\0",
        "starts with": b"XCMP" + good[4:],
        "format version 2": good[:4] + b"\x02" + good[5:],
        "proof kind 9": good[:5] + b"\x09" + good[6:],
        "65 hashes, at most 64": good[:22] + bytes([65]) + good[23:],
    }
    for message, data in cases.items():
        with pytest.raises(LedgerValueError, match=message):
            proof_from_bytes(data)
    with pytest.raises(LedgerValueError, match="a inclusion proof, expected a consistency"):
        ConsistencyProof.from_bytes(good)
    with pytest.raises(TypeError):
        proof_from_bytes("not bytes")


def test_bad_dicts_are_refused():
    good = LOG.consistency_proof(3, 50).to_dict()
    cases = [
        ({**good, "type": "other"}, "type 'other'"),
        ({**good, "version": 2}, "version 2"),
        ({key: value for key, value in good.items() if key != "old_size"}, "keys"),
        ({**good, "extra": 1}, "keys"),
        ({**good, "hashes": ["00" * 31]}, r"hashes\[0\]: expected 64 lowercase hex digits"),
        ({**good, "hashes": ["AB" * 32]}, r"hashes\[0\]: expected 64 lowercase hex digits"),
        ({**good, "version": True}, "version True"),
        ({**good, "hashes": ["zz" * 32]}, r"hashes\[0\]"),
        ({**good, "hashes": [" 0" * 32]}, r"hashes\[0\]"),
        ({**good, "old_size": -1}, r"old_size: expected 0\.\."),
        ({**good, "new_size": 2**64}, "new_size"),
    ]
    for data, message in cases:
        with pytest.raises(LedgerValueError, match=message):
            proof_from_dict(data)
    with pytest.raises(TypeError, match="old_size"):
        proof_from_dict({**good, "old_size": "3"})
    with pytest.raises(LedgerValueError, match="a consistency proof, expected a state"):
        StateProof.from_dict(good)


def test_constructor_checks_hashes():
    with pytest.raises(LedgerValueError, match=r"hashes\[1\]: expected 32 bytes, got 3"):
        InclusionProof(0, 1, (bytes(32), b"abc"))
    with pytest.raises(LedgerValueError, match="65 hashes, at most 64"):
        InclusionProof(0, 1, (bytes(32),) * 65)
    with pytest.raises(TypeError, match="leaf_index"):
        InclusionProof(True, 1, ())
    assert InclusionProof(0, 1, [bytearray(32)]).hashes == (bytes(32),)
