"""Merkle trees of the ledger: the root of many leaves, the transaction log and the state tree.

Both trees have the shape, proofs and verification of RFC 9162 (Certificate Transparency 2.0)
with BLAKE3-256 domain-separated by key (see ledgercore.merkle_verify, which holds the keys and the
pure-Python verifiers re-exported here). Hashing is native and batched: a level's new nodes are
one many-input call over adjacent pairs of hashes, with the GIL released.

Leaves are given as data, either a sequence of bytes-like objects (any lengths) or an array: a
C-contiguous 2-D uint8 array of equal-length rows, or a 1-D array of records (a structured dtype),
each record's bytes one leaf.

Example:
    >>> log = MerkleLog()
    >>> log.append_many([b"alice pays bob 5", b"bob pays carol 2", b"carol pays alice 1"])
    3
    >>> root = log.root()
    >>> root == merkle_root([b"alice pays bob 5", b"bob pays carol 2", b"carol pays alice 1"])
    True
    >>> verify_inclusion(b"bob pays carol 2", 1, 3, log.inclusion_proof(1), root)
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy

from ledgercore._native import merkle as _native
from ledgercore.errors import LedgerValueError
from ledgercore.merkle_verify import (
    EMPTY_ROOT,
    LEAF_KEY,
    NODE_KEY,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
    verify_state_proof,
)
from ledgercore.proofs import ConsistencyProof, InclusionProof, StateProof

__all__ = [
    "EMPTY_ROOT",
    "LEAF_KEY",
    "NODE_KEY",
    "MerkleLog",
    "StateTree",
    "leaf_hash",
    "merkle_root",
    "node_hash",
    "verify_consistency",
    "verify_inclusion",
    "verify_state_proof",
]

Leaves = Sequence[Any] | numpy.ndarray

LEAF_COUNT_MAX: int = _native.LEAF_COUNT_MAX
LEVEL_COUNT_MAX: int = _native.LEVEL_COUNT_MAX
THREAD_COUNT_MAX: int = _native.THREAD_COUNT_MAX


def merkle_root(leaves: Leaves, *, threads: int | None = None) -> bytes:
    """The RFC 9162 root over leaf data, hashed level by level in native batches.

    Args:
        leaves: a sequence of bytes-like leaves, a 2-D uint8 array of rows, or a 1-D array of
            records.
        threads: threads a large batch may be split over (1..THREAD_COUNT_MAX); None for the
            CPUs this process may use. The root does not depend on it.

    Returns:
        The 32-byte root; EMPTY_ROOT (BLAKE3 of nothing) for no leaves.

    Raises:
        TypeError: leaves of the wrong type (a single bytes object, str items, a float array).
        LedgerValueError: more than LEAF_COUNT_MAX leaves, or threads out of range.

    Example:
        >>> import numpy
        >>> rows = numpy.zeros((3, 128), dtype=numpy.uint8)
        >>> merkle_root(rows) == merkle_root([bytes(128)] * 3)
        True
        >>> merkle_root([]) == EMPTY_ROOT
        True
    """
    return _native.merkle_root(leaves, threads)


class MerkleLog:
    """The append-only transaction log: an RFC 9162 tree with roots and proofs at any past size.

    It keeps only complete-subtree hashes: node (level, index) is the root of leaves
    [index * 2**level, (index + 1) * 2**level), written once when its last leaf arrives and never
    changed, so a store can persist each under (level, index) (see new_nodes). Every node of the
    tree at any past size is one of them or is folded from at most 40 of them, so roots and proofs
    for past sizes read no leaf. Appending costs one node hash per leaf, amortised, and hashes each
    level's new nodes in one batch.

    Example:
        >>> log = MerkleLog()
        >>> log.append_many([b"t0", b"t1"])
        2
        >>> old_root = log.root()
        >>> log.append_many([b"t2", b"t3", b"t4"])
        5
        >>> log.root(2) == old_root
        True
        >>> log.consistency_proof(2).verify(old_root, log.root())
        True
    """

    def __init__(self, *, threads: int | None = None) -> None:
        """An empty tree; `threads` as for merkle_root."""
        self._tree = _native.Tree(threads)

    def __repr__(self) -> str:
        return f"MerkleLog(size={self.size})"

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return int(self._tree.size)

    def append_many(self, leaves: Leaves) -> int:
        """Append leaves (their data) at the end of the log, hashed natively in one batch.

        Args:
            leaves: a sequence of bytes-like leaves, a 2-D uint8 array of rows, or a 1-D array
                of records.

        Returns:
            The log's new size.

        Raises:
            TypeError: leaves of the wrong type.
            LedgerValueError: the log would pass LEAF_COUNT_MAX leaves.

        Example:
            >>> MerkleLog().append_many([b"a", b"bc", b""])
            3
        """
        self._tree.append(leaves)
        return self.size

    def append(self, leaf: bytes) -> int:
        """Append one leaf; append_many is the fast path.

        Args:
            leaf: the leaf's data.

        Returns:
            The new leaf's index.

        Example:
            >>> log = MerkleLog()
            >>> log.append(b"first"), log.append(b"second")
            (0, 1)
        """
        self._tree.append([leaf])
        return self.size - 1

    def append_leaf_hashes(self, hashes: numpy.ndarray) -> int:
        """Append leaves by their hashes (leaf_hash of each leaf's data), as when the hashing
        step of a batch already made them.

        Args:
            hashes: an (n, 32) uint8 array of leaf hashes.

        Returns:
            The log's new size.

        Raises:
            LedgerValueError: a shape other than (n, 32), or too many leaves.

        Example:
            >>> import numpy
            >>> log = MerkleLog()
            >>> log.append_leaf_hashes(numpy.frombuffer(leaf_hash(b"a"), numpy.uint8)[None])
            1
            >>> log.root() == merkle_root([b"a"])
            True
        """
        self._tree.append_hashes(hashes)
        return self.size

    def root(self, size: int | None = None) -> bytes:
        """The root of the log when it held `size` leaves (now, by default).

        Args:
            size: a past size, 0..self.size; None for the current size.

        Returns:
            The 32-byte root; EMPTY_ROOT for size 0.

        Raises:
            LedgerValueError: size out of range.

        Example:
            >>> log = MerkleLog()
            >>> log.root() == EMPTY_ROOT
            True
        """
        return self._tree.root(self.size if size is None else size)

    def inclusion_proof(self, index: int, size: int | None = None) -> InclusionProof:
        """The RFC 9162 inclusion proof of leaf `index` in the log of `size` leaves.

        Args:
            index: the leaf, 0 <= index < size.
            size: a past size, 1..self.size; None for the current size.

        Returns:
            An InclusionProof, checked by verify_inclusion or its verify method.

        Raises:
            LedgerValueError: index or size out of range.

        Example:
            >>> log = MerkleLog()
            >>> log.append_many([b"a", b"b", b"c"])
            3
            >>> log.inclusion_proof(0, 2).verify(b"a", log.root(2))
            True
        """
        tree_size = self.size if size is None else size
        hashes = self._tree.inclusion_proof(index, tree_size)
        return InclusionProof._from_builder(int(index), int(tree_size), tuple(hashes))

    def inclusion_proofs(
        self, indices: Sequence[int] | numpy.ndarray, size: int | None = None
    ) -> list[InclusionProof]:
        """Inclusion proofs of many leaves in the log of `size` leaves, made in one native call.

        Args:
            indices: the leaves, each 0 <= index < size.
            size: a past size, 1..self.size; None for the current size.

        Returns:
            One InclusionProof per index, in order.

        Raises:
            LedgerValueError: an index (the first is named) or the size out of range.

        Example:
            >>> log = MerkleLog()
            >>> log.append_many([b"a", b"b", b"c"])
            3
            >>> [len(proof.hashes) for proof in log.inclusion_proofs([0, 2])]
            [2, 1]
        """
        tree_size = int(self.size if size is None else size)
        paths = self._tree.inclusion_proofs(indices, tree_size)
        make = InclusionProof._from_builder
        return [
            make(int(index), tree_size, path) for index, path in zip(indices, paths, strict=True)
        ]

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """The RFC 9162 consistency proof from the log of old_size leaves to that of new_size.

        Args:
            old_size: 0 <= old_size <= new_size.
            new_size: a size up to self.size; None for the current size.

        Returns:
            A ConsistencyProof (empty when old_size is 0 or equal to new_size).

        Raises:
            LedgerValueError: a size out of range.

        Example:
            >>> log = MerkleLog()
            >>> log.append_many([b"a", b"b", b"c"])
            3
            >>> len(log.consistency_proof(2, 3).hashes)
            1
        """
        target = self.size if new_size is None else new_size
        hashes = self._tree.consistency_proof(old_size, target)
        return ConsistencyProof._from_builder(int(old_size), int(target), tuple(hashes))

    def level_count(self, level: int) -> int:
        """The number of complete-subtree hashes on a level: self.size >> level.

        Example:
            >>> log = MerkleLog()
            >>> log.append_many([b"a", b"b", b"c"])
            3
            >>> [log.level_count(k) for k in range(3)]
            [3, 1, 0]
        """
        return int(self._tree.level_count(level))

    def nodes(self, level: int, start: int = 0, stop: int | None = None) -> numpy.ndarray:
        """A copy of the complete-subtree hashes (level, start) .. (level, stop - 1).

        Args:
            level: 0 (leaf hashes) .. LEVEL_COUNT_MAX - 1.
            start: the first index.
            stop: one past the last index; None for level_count(level).

        Returns:
            An (n, 32) uint8 array.

        Raises:
            LedgerValueError: level, start or stop out of range.

        Example:
            >>> log = MerkleLog()
            >>> log.append_many([b"a", b"b"])
            2
            >>> bytes(log.nodes(1)[0]) == log.root()
            True
        """
        end = self.level_count(level) if stop is None else stop
        return self._tree.nodes(level, start, end)

    def new_nodes(self, old_size: int) -> list[tuple[int, int, numpy.ndarray]]:
        """The nodes completed since the log held old_size leaves, level by level: what a store
        writes when a block moves the log from old_size to self.size.

        Args:
            old_size: 0..self.size.

        Returns:
            (level, first_index, hashes) for every level that gained nodes; node
            (level, first_index + i) is hashes[i].

        Raises:
            LedgerValueError: old_size out of range.

        Example:
            >>> log = MerkleLog()
            >>> log.append_many([b"a", b"b", b"c"])
            3
            >>> [(level, first, len(hashes)) for level, first, hashes in log.new_nodes(1)]
            [(0, 1, 2), (1, 0, 1)]
        """
        size = self.size
        if isinstance(old_size, bool) or not isinstance(old_size, int):
            raise TypeError(f"old_size: expected an int, got {type(old_size).__name__}")
        if not 0 <= old_size <= size:
            raise LedgerValueError(f"old_size: expected 0..{size}, got {old_size}")
        result = []
        for level in range(LEVEL_COUNT_MAX):
            first, stop = old_size >> level, size >> level
            if first == stop:
                break
            result.append((level, first, self._tree.nodes(level, first, stop)))
        return result


class StateTree:
    """The state tree: one leaf per slot (accounts in creation order), changed in batches.

    Its shape and hashes are those of the log (RFC 9162 over the slots), so a state proof is an
    inclusion proof against the state root. Like the log it keeps complete-subtree hashes;
    `update` replaces slots' leaf hashes and then hashes every complete ancestor of a changed slot
    once, level by level, each level in one native batch.

    Example:
        >>> state = StateTree()
        >>> state.extend([b"account 1: 100", b"account 2: 0"])
        2
        >>> state.update([0, 1], [b"account 1: 95", b"account 2: 5"])
        >>> state.root() == merkle_root([b"account 1: 95", b"account 2: 5"])
        True
        >>> state.proof(1).verify(b"account 2: 5", state.root())
        True
    """

    def __init__(self, *, threads: int | None = None) -> None:
        """An empty tree; `threads` as for merkle_root."""
        self._tree = _native.Tree(threads)

    def __repr__(self) -> str:
        return f"StateTree(size={self.size})"

    @property
    def size(self) -> int:
        """The number of slots."""
        return int(self._tree.size)

    def extend(self, leaves: Leaves) -> int:
        """Add slots at the end (new accounts), with their leaf data.

        Args:
            leaves: a sequence of bytes-like leaves, a 2-D uint8 array of rows, or a 1-D array
                of records.

        Returns:
            The new number of slots.

        Raises:
            TypeError: leaves of the wrong type.
            LedgerValueError: the tree would pass LEAF_COUNT_MAX slots.

        Example:
            >>> StateTree().extend([b"a", b"b", b"c"])
            3
        """
        self._tree.append(leaves)
        return self.size

    def update(self, indices: Sequence[int] | numpy.ndarray, leaves: Leaves) -> None:
        """Replace the data of some slots, then rehash each shared ancestor once.

        Args:
            indices: the slots, each 0 <= index < size; a slot given twice takes its last leaf.
            leaves: their new data, one per index (any leaf form merkle_root takes).

        Raises:
            TypeError: indices or leaves of the wrong type.
            LedgerValueError: an index out of range (the first is named) or a count mismatch;
                nothing changes then.

        Example:
            >>> state = StateTree()
            >>> state.extend([b"a", b"b", b"c"])
            3
            >>> state.update([2], [b"c2"])
            >>> state.root() == merkle_root([b"a", b"b", b"c2"])
            True
        """
        hashes = _native.hash_leaves(leaves, "leaves", self._tree.threads)
        self._tree.update_hashes(indices, hashes)

    def root(self) -> bytes:
        """The current root; EMPTY_ROOT when there is no slot.

        Example:
            >>> StateTree().root() == EMPTY_ROOT
            True
        """
        return self._tree.root(self.size)

    def proof(self, index: int) -> StateProof:
        """The proof that slot `index` holds its current data, against root().

        Args:
            index: the slot, 0 <= index < size.

        Returns:
            A StateProof, checked by verify_state_proof or its verify method.

        Raises:
            LedgerValueError: index out of range.

        Example:
            >>> state = StateTree()
            >>> state.extend([b"a", b"b", b"c"])
            3
            >>> verify_state_proof(b"c", 2, 3, state.proof(2), state.root())
            True
        """
        size = self.size
        hashes = self._tree.inclusion_proof(index, size)
        return StateProof._from_builder(int(index), size, tuple(hashes))

    def proofs(self, indices: Sequence[int] | numpy.ndarray) -> list[StateProof]:
        """The proofs of many slots against root(), made in one native call.

        Args:
            indices: the slots, each 0 <= index < size.

        Returns:
            One StateProof per index, in order.

        Raises:
            LedgerValueError: an index out of range (the first is named).

        Example:
            >>> state = StateTree()
            >>> state.extend([b"a", b"b", b"c"])
            3
            >>> proofs = state.proofs([0, 2])
            >>> proofs[1].verify(b"c", state.root())
            True
        """
        size = self.size
        paths = self._tree.inclusion_proofs(indices, size)
        make = StateProof._from_builder
        return [make(int(index), size, path) for index, path in zip(indices, paths, strict=True)]

    def leaf_hashes(self, start: int = 0, stop: int | None = None) -> numpy.ndarray:
        """A copy of the slots' leaf hashes [start, stop), an (n, 32) uint8 array.

        Example:
            >>> state = StateTree()
            >>> state.extend([b"a"])
            1
            >>> bytes(state.leaf_hashes()[0]) == leaf_hash(b"a")
            True
        """
        return self._tree.nodes(0, start, self.size if stop is None else stop)
