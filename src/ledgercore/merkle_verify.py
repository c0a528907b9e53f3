"""Merkle proof verifiers in plain Python, short enough to audit.

The algorithms live in ledgercore.proofcheck, one self-contained file over the `blake3` package
that a third party copies to check ledgercore's proofs; this module gives them the argument
forms and errors of the rest of ledgercore (proof objects, TypeError and LedgerValueError).
The algorithms are those of RFC 9162 (Certificate Transparency 2.0), sections 2.1.3.2 and
2.1.4.2; the hash is BLAKE3-256 with domain separation by key instead of by prefix byte:

- leaf hash  = BLAKE3-keyed(LEAF_KEY, leaf data)
- node hash  = BLAKE3-keyed(NODE_KEY, left || right)
- empty root = BLAKE3(b"")

where LEAF_KEY and NODE_KEY come from BLAKE3's derive-key mode with empty key material and the
contexts below. A proof is a sequence of 32-byte hashes, leaf side first (or a proof object of
ledgercore.proofs, which carries its own index and sizes).

Three kinds of answer: True (the proof holds), False (it does not: a wrong hash, index, size or
root), and LedgerValueError for arguments that cannot describe a proof at all (a negative index, an
index past the size, a proof of the wrong length for its sizes, a hash that is not 32 bytes).

Example:
    >>> from ledgercore.merkle import MerkleLog
    >>> log = MerkleLog()
    >>> log.append_many([b"alice pays bob 5", b"bob pays carol 2", b"carol pays alice 1"])
    3
    >>> verify_inclusion(b"carol pays alice 1", 2, 3, log.inclusion_proof(2), log.root())
    True
    >>> verify_inclusion(b"bob pays carol 2", 2, 3, log.inclusion_proof(2), log.root())
    False
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ledgercore import proofcheck
from ledgercore.errors import LedgerValueError
from ledgercore.proofcheck import (
    EMPTY_ROOT,
    HASH_SIZE,
    LEAF_CONTEXT,
    LEAF_KEY,
    NODE_CONTEXT,
    NODE_KEY,
    TREE_SIZE_MAX,
    leaf_hash,
    node_hash,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "LEAF_CONTEXT",
    "LEAF_KEY",
    "NODE_CONTEXT",
    "NODE_KEY",
    "TREE_SIZE_MAX",
    "consistency_proof_size",
    "inclusion_proof_size",
    "leaf_hash",
    "node_hash",
    "verify_consistency",
    "verify_inclusion",
    "verify_state_proof",
]

T = TypeVar("T")


def _as_ledger_error(check: Callable[..., T], *args: Any) -> T:
    """proofcheck's answer, with its ProofError (the standalone file's ValueError) raised as the
    LedgerValueError or TypeError the rest of ledgercore raises."""
    try:
        return check(*args)
    except proofcheck.ProofError as error:
        if isinstance(error, TypeError):
            raise TypeError(str(error)) from None
        raise LedgerValueError(str(error)) from None


def inclusion_proof_size(index: int, size: int) -> int:
    """Hashes in the RFC 9162 inclusion proof of leaf `index` in a tree of `size` leaves.

    This follows PATH(m, D[n]) of RFC 9162 section 2.1.3.1 on sizes alone: each split of a
    subtree into its left part (the largest power of two below its size) and its right part adds
    one hash.

    Args:
        index: the leaf's index, 0 <= index < size.
        size: the tree's leaf count.

    Returns:
        The number of hashes.

    Raises:
        LedgerValueError: index or size out of range.

    Example:
        >>> inclusion_proof_size(2, 3), inclusion_proof_size(0, 8)
        (1, 3)
    """
    return _as_ledger_error(proofcheck.inclusion_proof_size, index, size)


def consistency_proof_size(old_size: int, new_size: int) -> int:
    """Hashes in the RFC 9162 consistency proof between trees of old_size and new_size leaves.

    This follows SUBPROOF(m, D[n], b) of RFC 9162 section 2.1.4.1 on sizes alone. The proof is
    empty when old_size is 0 or equal to new_size.

    Args:
        old_size: the older tree's leaf count, 0 <= old_size <= new_size.
        new_size: the newer tree's leaf count.

    Returns:
        The number of hashes.

    Raises:
        LedgerValueError: a size out of range.

    Example:
        >>> consistency_proof_size(3, 7), consistency_proof_size(4, 7)
        (4, 1)
    """
    return _as_ledger_error(proofcheck.consistency_proof_size, old_size, new_size)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Any, root: bytes) -> bool:
    """Check an RFC 9162 inclusion proof: leaf `index` of the tree of `size` leaves is `leaf`.

    Args:
        leaf: the leaf's data (not its hash).
        index: the leaf's index, 0 <= index < size.
        size: the tree's leaf count.
        proof: the proof's hashes, leaf side first (a sequence of 32-byte values), or an
            InclusionProof, whose own leaf_index and tree_size must then be index and size.
        root: the tree's 32-byte root.

    Returns:
        True when the proof holds, False otherwise.

    Raises:
        LedgerValueError: index or size out of range, a hash not 32 bytes, or a proof whose
            length is not the one RFC 9162 gives for index and size.

    Example:
        >>> a, b = leaf_hash(b"a"), leaf_hash(b"b")
        >>> verify_inclusion(b"a", 0, 2, [b], node_hash(a, b))
        True
    """
    hashes = _proof_hashes(proof, "proof")
    if not _same_numbers(proof, ("leaf_index", index), ("tree_size", size)):
        return False
    return _as_ledger_error(proofcheck.verify_inclusion, leaf, index, size, hashes, root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Any
) -> bool:
    """Check an RFC 9162 consistency proof: the tree of old_size leaves with root old_root is a
    prefix of the tree of new_size leaves with root new_root.

    Equal sizes need an empty proof and equal roots; the empty tree (old_size 0, whose root is
    EMPTY_ROOT) is a prefix of every tree, with an empty proof.

    Args:
        old_size: the older tree's leaf count, 0 <= old_size <= new_size.
        new_size: the newer tree's leaf count.
        old_root: the older tree's 32-byte root.
        new_root: the newer tree's 32-byte root.
        proof: the proof's hashes (a sequence of 32-byte values), or a ConsistencyProof, whose
            own old_size and new_size must then be the ones given.

    Returns:
        True when the proof holds, False otherwise.

    Raises:
        LedgerValueError: sizes out of range, a hash not 32 bytes, or a proof whose length is
            not the one RFC 9162 gives for the two sizes.

    Example:
        >>> a, b, c = (leaf_hash(leaf) for leaf in (b"a", b"b", b"c"))
        >>> verify_consistency(2, 3, node_hash(a, b), node_hash(node_hash(a, b), c), [c])
        True
    """
    hashes = _proof_hashes(proof, "proof")
    if not _same_numbers(proof, ("old_size", old_size), ("new_size", new_size)):
        return False
    return _as_ledger_error(
        proofcheck.verify_consistency, old_size, new_size, old_root, new_root, hashes
    )


def verify_state_proof(leaf: bytes, index: int, size: int, proof: Any, root: bytes) -> bool:
    """Check a state-tree proof: slot `index` of a state tree of `size` slots holds `leaf`.

    The state tree has the same shape and hashes as the log, so this is the inclusion check of
    RFC 9162 against a state root: it proves that an account record (the leaf data) was the
    record of that slot when the block recorded that root.

    Args:
        leaf: the slot's data (the account record's bytes).
        index: the slot, 0 <= index < size.
        size: the number of slots in the tree.
        proof: the proof's hashes, leaf side first, or a StateProof, whose own leaf_index and
            tree_size must then be index and size.
        root: the state tree's 32-byte root.

    Returns:
        True when the proof holds, False otherwise.

    Raises:
        LedgerValueError: as verify_inclusion.

    Example:
        >>> a, b = leaf_hash(b"account 1"), leaf_hash(b"account 2")
        >>> verify_state_proof(b"account 2", 1, 2, [a], node_hash(a, b))
        True
    """
    return verify_inclusion(leaf, index, size, proof, root)


def _proof_hashes(proof: Any, name: str) -> list[bytes]:
    """The hashes of a proof given as a sequence or as a proof object."""
    hashes = getattr(proof, "hashes", proof)
    if isinstance(hashes, (bytes, bytearray, memoryview, str)) or not isinstance(
        hashes, (list, tuple, Sequence)
    ):
        raise TypeError(f"{name}: expected a sequence of 32-byte hashes or a proof object")
    for i, value in enumerate(hashes):
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"{name}[{i}]: expected 32 bytes, got {type(value).__name__}")
    return list(hashes)


def _same_numbers(proof: Any, *expected: tuple[str, int]) -> bool:
    """False when a proof object states an index or size other than the ones asked about."""
    return all(getattr(proof, name, value) == value for name, value in expected)
