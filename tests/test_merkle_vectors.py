"""Our Merkle vectors (tests/vectors/merkle_proofs.json): current, and every verdict as stated.

The vectors come from tests/vectors/generate.py, which computes RFC 9162 roots and proofs by the
RFC's recursive definitions with the blake3 package alone; each good proof has mutated siblings
whose verdict the generator states. The verifiers must give each verdict, and the native builder
must produce each good proof bit for bit.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from ledgercore.errors import LedgerValueError
from ledgercore.merkle import EMPTY_ROOT, LEAF_KEY, NODE_KEY, MerkleLog, merkle_root
from ledgercore.merkle_verify import verify_consistency, verify_inclusion

VECTORS = Path(__file__).resolve().parent / "vectors"
DOCUMENT = json.loads((VECTORS / "merkle_proofs.json").read_text())
LEAVES = [b"leaf %d" % i for i in range(max(case["size"] for case in DOCUMENT["roots"]) + 1)]


def load_generator():
    spec = importlib.util.spec_from_file_location("vector_generator", VECTORS / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def verdict(check, *args) -> str:
    try:
        return "valid" if check(*args) else "invalid"
    except LedgerValueError:
        return "malformed"


def test_the_vector_file_is_current():
    generator = load_generator()
    assert (
        generator.render(generator.merkle_proofs()) == (VECTORS / "merkle_proofs.json").read_text()
    )


def test_keys_and_empty_root():
    assert DOCUMENT["leaf_key"] == LEAF_KEY.hex()
    assert DOCUMENT["node_key"] == NODE_KEY.hex()
    assert DOCUMENT["empty_root"] == EMPTY_ROOT.hex()


def test_roots():
    log = MerkleLog()
    log.append_many(LEAVES)
    for case in DOCUMENT["roots"]:
        assert merkle_root(LEAVES[: case["size"]]).hex() == case["root"], case["desc"]
        assert log.root(case["size"]).hex() == case["root"], case["desc"]


@pytest.mark.parametrize("case", DOCUMENT["inclusion"], ids=lambda case: case["desc"])
def test_inclusion_vector(case):
    proof = [bytes.fromhex(value) for value in case["proof"]]
    leaf, root = bytes.fromhex(case["leaf"]), bytes.fromhex(case["root"])
    found = verdict(verify_inclusion, leaf, case["index"], case["size"], proof, root)
    assert found == case["expect"]
    if case["expect"] == "valid":
        log = MerkleLog()
        log.append_many(LEAVES[: case["size"]])
        assert log.inclusion_proof(case["index"]).hashes == tuple(proof)


@pytest.mark.parametrize("case", DOCUMENT["consistency"], ids=lambda case: case["desc"])
def test_consistency_vector(case):
    proof = [bytes.fromhex(value) for value in case["proof"]]
    old_root, new_root = bytes.fromhex(case["old_root"]), bytes.fromhex(case["new_root"])
    old_size, new_size = case["old_size"], case["new_size"]
    found = verdict(verify_consistency, old_size, new_size, old_root, new_root, proof)
    assert found == case["expect"]
    if case["expect"] == "valid":
        log = MerkleLog()
        log.append_many(LEAVES[:new_size])
        assert log.consistency_proof(old_size).hashes == tuple(proof)
