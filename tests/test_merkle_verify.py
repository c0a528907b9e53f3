"""The pure-Python verifiers: every honest proof passes, every tampered one fails.

"Fails" means False for a proof that is well formed but wrong (a flipped bit, another leaf, another
tree, another root) and LedgerValueError for arguments that cannot describe a proof (an index past
the size, a proof of the wrong length for its sizes, a hash that is not 32 bytes). A tampered
proof must never pass; the tests accept either way of failing only where both are right (a wrong
size or index may change the expected proof length).
"""

from __future__ import annotations

import ast
import inspect

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgercore import merkle_verify, proofcheck
from ledgercore.errors import LedgerValueError
from ledgercore.merkle import MerkleLog, StateTree
from ledgercore.merkle_verify import (
    EMPTY_ROOT,
    verify_consistency,
    verify_inclusion,
    verify_state_proof,
)
from ledgercore.proofs import ConsistencyProof, InclusionProof, StateProof

LEAVES = [b"transfer %d" % i for i in range(80)]
OTHER_LEAVES = [b"other %d" % i for i in range(80)]


def make_log(leaves: list[bytes]) -> MerkleLog:
    log = MerkleLog()
    log.append_many(leaves)
    return log


LOG = make_log(LEAVES)
OTHER_LOG = make_log(OTHER_LEAVES)
INCLUSION_CASES = [
    (0, 1),
    (0, 2),
    (1, 2),
    (2, 3),
    (4, 7),
    (6, 7),
    (5, 8),
    (0, 13),
    (12, 13),
    (31, 32),
    (32, 33),
    (17, 70),
    (69, 70),
]
CONSISTENCY_CASES = [
    (1, 2),
    (1, 3),
    (2, 3),
    (3, 7),
    (4, 7),
    (6, 8),
    (7, 8),
    (1, 70),
    (32, 70),
    (33, 70),
    (63, 64),
    (64, 70),
    (69, 70),
]


def rejected(check, *args) -> bool:
    """True when a verifier refuses: it returns False or raises LedgerValueError."""
    try:
        return check(*args) is False
    except LedgerValueError:
        return True


def flip(value: bytes, bit: int) -> bytes:
    data = bytearray(value)
    data[bit // 8] ^= 1 << (bit % 8)
    return bytes(data)


@pytest.mark.parametrize(("index", "size"), INCLUSION_CASES)
def test_honest_inclusion_proof_passes(index, size):
    proof = LOG.inclusion_proof(index, size)
    assert verify_inclusion(LEAVES[index], index, size, proof.hashes, LOG.root(size))
    assert verify_inclusion(LEAVES[index], index, size, proof, LOG.root(size))
    assert proof.verify(LEAVES[index], LOG.root(size))


@pytest.mark.parametrize(("index", "size"), INCLUSION_CASES)
def test_tampered_inclusion_proofs_fail(index, size):
    leaf, root = LEAVES[index], LOG.root(size)
    hashes = list(LOG.inclusion_proof(index, size).hashes)
    for position in range(len(hashes)):
        for bit in (0, 7, 100, 255):
            bad = [*hashes]
            bad[position] = flip(bad[position], bit)
            assert verify_inclusion(leaf, index, size, bad, root) is False
    for bit in (0, 128, 255):
        assert verify_inclusion(leaf, index, size, hashes, flip(root, bit)) is False
    assert verify_inclusion(leaf + b"!", index, size, hashes, root) is False
    for other_index in {index - 1, index + 1} & set(range(size)):
        assert rejected(verify_inclusion, leaf, other_index, size, hashes, root)
    # A wrong size is checked against that size's own root, as a signed tree head binds the two:
    # hashes are opaque, so a path can also fold to `root` under another size's shape.
    for other_size in {size - 1, size + 1} - {index, 0}:
        other_root = LOG.root(other_size)
        assert rejected(verify_inclusion, leaf, index, other_size, hashes, other_root)
    other = OTHER_LOG.inclusion_proof(index, size).hashes
    if size > 1:  # a one-leaf tree's proof is empty, whatever the tree
        assert rejected(verify_inclusion, leaf, index, size, other, root)
    assert verify_inclusion(OTHER_LEAVES[index], index, size, other, root) is False
    with pytest.raises(LedgerValueError, match="hashes, but leaf"):
        verify_inclusion(leaf, index, size, [*hashes, hashes[0] if hashes else root], root)
    if hashes:
        with pytest.raises(LedgerValueError, match="hashes, but leaf"):
            verify_inclusion(leaf, index, size, hashes[:-1], root)
        swapped = hashes[::-1]
        if swapped != hashes:
            assert verify_inclusion(leaf, index, size, swapped, root) is False


def test_a_proof_object_for_another_leaf_or_tree_fails():
    proof = LOG.inclusion_proof(3, 10)
    root = LOG.root(10)
    assert verify_inclusion(LEAVES[3], 4, 10, proof, root) is False
    assert verify_inclusion(LEAVES[3], 3, 11, proof, root) is False
    consistency = LOG.consistency_proof(3, 10)
    assert verify_consistency(3, 11, LOG.root(3), root, consistency) is False
    assert verify_consistency(4, 10, LOG.root(3), root, consistency) is False


@pytest.mark.parametrize(("old_size", "new_size"), CONSISTENCY_CASES)
def test_honest_consistency_proof_passes(old_size, new_size):
    proof = LOG.consistency_proof(old_size, new_size)
    old_root, new_root = LOG.root(old_size), LOG.root(new_size)
    assert verify_consistency(old_size, new_size, old_root, new_root, proof.hashes)
    assert proof.verify(old_root, new_root)


@pytest.mark.parametrize(("old_size", "new_size"), CONSISTENCY_CASES)
def test_tampered_consistency_proofs_fail(old_size, new_size):
    old_root, new_root = LOG.root(old_size), LOG.root(new_size)
    hashes = list(LOG.consistency_proof(old_size, new_size).hashes)
    for position in range(len(hashes)):
        for bit in (0, 9, 200, 255):
            bad = [*hashes]
            bad[position] = flip(bad[position], bit)
            assert verify_consistency(old_size, new_size, old_root, new_root, bad) is False
    for bit in (0, 255):
        assert (
            verify_consistency(old_size, new_size, flip(old_root, bit), new_root, hashes) is False
        )
        assert (
            verify_consistency(old_size, new_size, old_root, flip(new_root, bit), hashes) is False
        )
    assert verify_consistency(old_size, new_size, new_root, old_root, hashes) is False
    other_old, other_new = OTHER_LOG.root(old_size), OTHER_LOG.root(new_size)
    assert verify_consistency(old_size, new_size, other_old, new_root, hashes) is False
    assert verify_consistency(old_size, new_size, old_root, other_new, hashes) is False
    other = OTHER_LOG.consistency_proof(old_size, new_size).hashes
    assert verify_consistency(old_size, new_size, old_root, new_root, other) is False
    for other_old_size in {old_size - 1, old_size + 1} - {0, new_size}:
        other_root = LOG.root(other_old_size)
        assert rejected(verify_consistency, other_old_size, new_size, other_root, new_root, hashes)
    for other_new_size in {new_size - 1, new_size + 1} - {old_size}:
        other_root = LOG.root(other_new_size)
        assert rejected(verify_consistency, old_size, other_new_size, old_root, other_root, hashes)
    with pytest.raises(LedgerValueError, match="hashes, but sizes"):
        verify_consistency(old_size, new_size, old_root, new_root, [*hashes, hashes[0]])
    with pytest.raises(LedgerValueError, match="hashes, but sizes"):
        verify_consistency(old_size, new_size, old_root, new_root, hashes[:-1])


def test_consistency_edge_cases():
    root = LOG.root(5)
    assert verify_consistency(5, 5, root, root, [])
    assert verify_consistency(5, 5, root, LOG.root(6), []) is False
    assert verify_consistency(0, 5, EMPTY_ROOT, root, [])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 5, root, root, []) is False
    with pytest.raises(LedgerValueError, match="hashes, but sizes 5 and 5 need 0"):
        verify_consistency(5, 5, root, root, [root])
    with pytest.raises(LedgerValueError, match="hashes, but sizes 0 and 5 need 0"):
        verify_consistency(0, 5, EMPTY_ROOT, root, [root])


def test_malformed_arguments_raise_value_errors_naming_the_numbers():
    proof = LOG.inclusion_proof(2, 5).hashes
    root = LOG.root(5)
    with pytest.raises(LedgerValueError, match=r"index: expected 0\.\.4 \(size 5\), got -1"):
        verify_inclusion(LEAVES[2], -1, 5, proof, root)
    with pytest.raises(LedgerValueError, match=r"index: expected 0\.\.4 \(size 5\), got 5"):
        verify_inclusion(LEAVES[2], 5, 5, proof, root)
    with pytest.raises(LedgerValueError, match="size: expected 1"):
        verify_inclusion(LEAVES[2], 0, 0, [], EMPTY_ROOT)
    with pytest.raises(LedgerValueError, match=r"proof\[1\]: expected 32 bytes, got 31"):
        verify_inclusion(LEAVES[2], 2, 5, [proof[0], proof[1][:31], proof[2]], root)
    with pytest.raises(LedgerValueError, match="root: expected 32 bytes, got 33"):
        verify_inclusion(LEAVES[2], 2, 5, proof, root + b"\0")
    with pytest.raises(
        LedgerValueError, match="proof: 2 hashes, but leaf 2 of a tree of 5 needs 3"
    ):
        verify_inclusion(LEAVES[2], 2, 5, proof[:2], root)
    with pytest.raises(LedgerValueError, match=r"old_size: expected 0\.\.3 \(new_size\), got 4"):
        verify_consistency(4, 3, root, root, [])
    with pytest.raises(LedgerValueError, match="new_size"):
        verify_consistency(0, -1, root, root, [])
    with pytest.raises(LedgerValueError, match="old_root: expected 32 bytes"):
        verify_consistency(1, 2, b"", root, [root])
    with pytest.raises(TypeError, match="index"):
        verify_inclusion(LEAVES[2], 2.0, 5, proof, root)
    with pytest.raises(TypeError, match="proof"):
        verify_inclusion(LEAVES[2], 2, 5, b"".join(proof), root)


def test_state_proofs_check_records_against_the_state_root():
    state = StateTree()
    state.extend(LEAVES[:20])
    state.update([3, 19], [b"new 3", b"new 19"])
    root = state.root()
    proof = state.proof(3)
    assert isinstance(proof, StateProof)
    assert verify_state_proof(b"new 3", 3, 20, proof, root)
    assert verify_state_proof(LEAVES[3], 3, 20, proof, root) is False
    assert rejected(verify_state_proof, b"new 3", 4, 20, proof.hashes, root)
    assert verify_state_proof(b"new 19", 19, 20, state.proof(19).hashes, root)


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=2**40),
    data=st.data(),
)
def test_proof_sizes_follow_the_bit_decomposition(size, data):
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    old_size = data.draw(st.integers(min_value=0, max_value=size))
    # Independent formulas: levels where index and size - 1 differ, plus the ones of the right
    # border; for consistency, the same for the old tree's last leaf without its shared levels.
    inner = (index ^ (size - 1)).bit_length()
    assert merkle_verify.inclusion_proof_size(index, size) == inner + bin(index >> inner).count("1")
    if 0 < old_size < size:
        last = old_size - 1
        inner = (last ^ (size - 1)).bit_length()
        border = bin(last >> inner).count("1")
        shift = (old_size & -old_size).bit_length() - 1
        whole = 0 if old_size == 1 << shift else 1
        assert (
            merkle_verify.consistency_proof_size(old_size, size) == inner - shift + border + whole
        )


def _imports(module) -> set[str]:
    imported = set()
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    return imported


def test_verifier_module_imports_nothing_native():
    allowed = {"__future__", "collections.abc", "typing", "ledgercore", "ledgercore.errors"}
    assert _imports(merkle_verify) <= allowed | {"ledgercore.proofcheck"}
    standard = {"__future__", "argparse", "collections.abc", "json", "struct", "sys", "typing"}
    assert _imports(proofcheck) <= standard | {"blake3", "nacl.exceptions", "nacl.signing"}


def test_proof_objects_carry_their_numbers():
    proof = LOG.inclusion_proof(2, 9)
    assert isinstance(proof, InclusionProof)
    assert (proof.leaf_index, proof.tree_size) == (2, 9)
    consistency = LOG.consistency_proof(4, 9)
    assert isinstance(consistency, ConsistencyProof)
    assert (consistency.old_size, consistency.new_size) == (4, 9)
