"""Merkle proof verifiers in plain Python, short enough to audit.

Nothing here uses ledgercore's native code: the only dependency is the `blake3` package, so a
third party can check a proof with this one file. The algorithms are those of RFC 9162
(Certificate Transparency 2.0), sections 2.1.3.2 and 2.1.4.2; the hash is BLAKE3-256 with domain
separation by key instead of by prefix byte:

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
    >>> leaves = [b"alice pays bob 5", b"bob pays carol 2", b"carol pays alice 1"]
    >>> a, b, c = (leaf_hash(leaf) for leaf in leaves)
    >>> root = node_hash(node_hash(a, b), c)
    >>> verify_inclusion(leaves[2], 2, 3, [node_hash(a, b)], root)
    True
    >>> verify_inclusion(leaves[1], 2, 3, [node_hash(a, b)], root)
    False
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from blake3 import blake3

from ledgercore.errors import LedgerValueError

LEAF_CONTEXT = "ledgercore 2026-11 merkle leaf v1"
NODE_CONTEXT = "ledgercore 2026-11 merkle node v1"
LEAF_KEY = blake3(b"", derive_key_context=LEAF_CONTEXT).digest()
NODE_KEY = blake3(b"", derive_key_context=NODE_CONTEXT).digest()
EMPTY_ROOT = blake3(b"").digest()
HASH_SIZE = 32

# The largest tree size a proof can describe: sizes and indices are unsigned 64-bit on the wire.
TREE_SIZE_MAX = 2**64 - 1


def leaf_hash(leaf: bytes) -> bytes:
    """The hash of one leaf's data: BLAKE3 keyed with LEAF_KEY.

    Args:
        leaf: the leaf's data (bytes-like).

    Returns:
        32 bytes.

    Example:
        >>> len(leaf_hash(b"transfer 1"))
        32
    """
    return blake3(leaf, key=LEAF_KEY).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an inner node: BLAKE3 keyed with NODE_KEY over the 64 bytes left || right.

    Args:
        left: the left child's 32-byte hash.
        right: the right child's 32-byte hash.

    Returns:
        32 bytes.

    Example:
        >>> node_hash(bytes(32), bytes(32)) != node_hash(bytes(32), b"\\x01" * 32)
        True
    """
    return blake3(bytes(left) + bytes(right), key=NODE_KEY).digest()


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
    _check_index(index, size)
    count = 0
    while size > 1:
        split = _split(size)
        if index < split:
            size = split
        else:
            index -= split
            size -= split
        count += 1
    return count


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
    _check_sizes(old_size, new_size)
    if old_size in (0, new_size):
        return 0
    count = 0
    on_left_edge = True  # the "b" of SUBPROOF: the old tree is still a whole node
    while old_size != new_size:
        split = _split(new_size)
        if old_size <= split:
            new_size = split
        else:
            old_size -= split
            new_size -= split
            on_left_edge = False
        count += 1
    return count if on_left_edge else count + 1


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
    expected = inclusion_proof_size(index, size)
    _check_hash(root, "root")
    if len(hashes) != expected:
        raise LedgerValueError(
            f"proof: {len(hashes)} hashes, but leaf {index} of a tree of {size} needs {expected}"
        )
    # RFC 9162 section 2.1.3.2. fn is the node's index on its level, sn the last index there.
    fn, sn = index, size - 1
    r = leaf_hash(leaf)
    for p in hashes:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while (fn & 1) == 0 and fn != 0:  # skip the levels where this node has no sibling
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == bytes(root)


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
    expected = consistency_proof_size(old_size, new_size)
    _check_hash(old_root, "old_root")
    _check_hash(new_root, "new_root")
    if len(hashes) != expected:
        raise LedgerValueError(
            f"proof: {len(hashes)} hashes, but sizes {old_size} and {new_size} need {expected}"
        )
    old_root, new_root = bytes(old_root), bytes(new_root)
    if old_size == new_size:
        return old_root == new_root
    if old_size == 0:
        return old_root == EMPTY_ROOT
    # RFC 9162 section 2.1.4.2: when the old tree is a whole subtree (a power of two), its root
    # is the proof's implicit first hash.
    if old_size & (old_size - 1) == 0:
        hashes = [old_root, *hashes]
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = hashes[0]
    for c in hashes[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while (fn & 1) == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


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


def _split(size: int) -> int:
    """The largest power of two below size (size >= 2): the leaves of the left subtree."""
    return 1 << ((size - 1).bit_length() - 1)


def _check_int(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__}")


def _check_index(index: int, size: int) -> None:
    _check_int(index, "index")
    _check_int(size, "size")
    if not 0 < size <= TREE_SIZE_MAX:
        raise LedgerValueError(f"size: expected 1..{TREE_SIZE_MAX}, got {size}")
    if not 0 <= index < size:
        raise LedgerValueError(f"index: expected 0..{size - 1} (size {size}), got {index}")


def _check_sizes(old_size: int, new_size: int) -> None:
    _check_int(old_size, "old_size")
    _check_int(new_size, "new_size")
    if not 0 <= new_size <= TREE_SIZE_MAX:
        raise LedgerValueError(f"new_size: expected 0..{TREE_SIZE_MAX}, got {new_size}")
    if not 0 <= old_size <= new_size:
        raise LedgerValueError(f"old_size: expected 0..{new_size} (new_size), got {old_size}")


def _check_hash(value: Any, name: str) -> None:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"{name}: expected 32 bytes, got {type(value).__name__}")
    if len(bytes(value)) != HASH_SIZE:
        raise LedgerValueError(f"{name}: expected {HASH_SIZE} bytes, got {len(bytes(value))}")


def _proof_hashes(proof: Any, name: str) -> list[bytes]:
    """The hashes of a proof given as a sequence or as a proof object, each checked."""
    hashes = getattr(proof, "hashes", proof)
    if isinstance(hashes, (bytes, bytearray, memoryview, str)) or not isinstance(
        hashes, (list, tuple, Sequence)
    ):
        raise TypeError(f"{name}: expected a sequence of 32-byte hashes or a proof object")
    result = []
    for value in hashes:
        if not isinstance(value, bytes) or len(value) != HASH_SIZE:
            _check_hash(value, f"{name}[{len(result)}]")  # raises unless 32 bytes after all
        result.append(bytes(value))
    return result


def _same_numbers(proof: Any, *expected: tuple[str, int]) -> bool:
    """False when a proof object states an index or size other than the ones asked about."""
    return all(getattr(proof, name, value) == value for name, value in expected)
