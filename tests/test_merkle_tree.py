"""The native Merkle builder against a small recursive reference written from RFC 9162.

The reference below follows RFC 9162 section 2.1 word for word (MTH, PATH, PROOF/SUBPROOF), with
the hashes of DESIGN.md computed by the `blake3` package; it memoises subtree roots so that every
size and every index stays cheap. Roots, inclusion and consistency proofs of MerkleLog and
StateTree must equal it exactly, and the pure-Python verifiers must accept what it produces.
"""

from __future__ import annotations

import functools
import random

import numpy
import pytest
from blake3 import blake3
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgercore import merkle_verify
from ledgercore._native import merkle as native
from ledgercore.errors import LedgerValueError
from ledgercore.merkle import (
    EMPTY_ROOT,
    MerkleLog,
    StateTree,
    merkle_root,
    verify_consistency,
    verify_inclusion,
    verify_state_proof,
)
from ledgercore.proofs import PROOF_HASHES_MAX

REF_LEAF_KEY = blake3(b"", derive_key_context="ledgercore 2026-11 merkle leaf v1").digest()
REF_NODE_KEY = blake3(b"", derive_key_context="ledgercore 2026-11 merkle node v1").digest()
REF_EMPTY_ROOT = blake3(b"").digest()


def ref_leaf_hash(data: bytes) -> bytes:
    return blake3(data, key=REF_LEAF_KEY).digest()


def ref_node_hash(left: bytes, right: bytes) -> bytes:
    return blake3(left + right, key=REF_NODE_KEY).digest()


def ref_split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Reference:
    """RFC 9162 section 2.1 over a fixed list of leaves; D[start:end] is a range of it."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves

    @functools.cache  # noqa: B019 (one Reference per test)
    def mth(self, start: int, end: int) -> bytes:
        n = end - start
        if n == 0:
            return REF_EMPTY_ROOT
        if n == 1:
            return ref_leaf_hash(self.leaves[start])
        k = ref_split(n)
        return ref_node_hash(self.mth(start, start + k), self.mth(start + k, end))

    def path(self, m: int, start: int, end: int) -> list[bytes]:
        """PATH(m, D[start:end]): m is the index inside the range."""
        n = end - start
        if n == 1:
            return []
        k = ref_split(n)
        if m < k:
            return [*self.path(m, start, start + k), self.mth(start + k, end)]
        return [*self.path(m - k, start + k, end), self.mth(start, start + k)]

    def subproof(self, m: int, start: int, end: int, b: bool) -> list[bytes]:
        """SUBPROOF(m, D[start:end], b)."""
        n = end - start
        if m == n:
            return [] if b else [self.mth(start, end)]
        k = ref_split(n)
        if m <= k:
            return [*self.subproof(m, start, start + k, b), self.mth(start + k, end)]
        return [*self.subproof(m - k, start + k, end, False), self.mth(start, start + k)]

    def consistency(self, m: int, n: int) -> list[bytes]:
        if m in (0, n):
            return []
        return self.subproof(m, 0, n, True)


def make_leaves(count: int, seed: int = 0) -> list[bytes]:
    """Leaves of mixed lengths (0 to 300 bytes), some of them equal, deterministic per seed."""
    rng = random.Random(seed)
    return [rng.randbytes(rng.choice((0, 1, 31, 64, 65, 128, 300))) for _ in range(count)]


SMALL = 300
SMALL_LEAVES = make_leaves(SMALL, seed=1)


@pytest.fixture(scope="module")
def small_log() -> MerkleLog:
    log = MerkleLog()
    log.append_many(SMALL_LEAVES[:7])
    log.append_many(SMALL_LEAVES[7:100])
    for leaf in SMALL_LEAVES[100:103]:
        log.append(leaf)
    log.append_many(SMALL_LEAVES[103:])
    return log


@pytest.fixture(scope="module")
def small_reference() -> Reference:
    return Reference(SMALL_LEAVES)


def test_keys_and_empty_root_are_the_derived_ones():
    assert native.LEAF_KEY == REF_LEAF_KEY == merkle_verify.LEAF_KEY
    assert native.NODE_KEY == REF_NODE_KEY == merkle_verify.NODE_KEY
    assert native.EMPTY_ROOT == REF_EMPTY_ROOT == EMPTY_ROOT
    assert native.PROOF_HASHES_MAX == PROOF_HASHES_MAX


def test_merkle_root_equals_reference_for_every_size_up_to_300(small_reference):
    for size in range(SMALL + 1):
        assert merkle_root(SMALL_LEAVES[:size]) == small_reference.mth(0, size), size


def test_log_root_at_every_past_size_equals_fresh_root(small_log, small_reference):
    assert small_log.size == SMALL
    for size in range(SMALL + 1):
        assert small_log.root(size) == small_reference.mth(0, size), size


def test_inclusion_proofs_for_every_index_of_every_size_up_to_300(small_log, small_reference):
    for size in range(1, SMALL + 1):
        root = small_reference.mth(0, size)
        for index in range(size):
            proof = small_log.inclusion_proof(index, size)
            expected = small_reference.path(index, 0, size)
            assert list(proof.hashes) == expected, (index, size)
            assert len(expected) == merkle_verify.inclusion_proof_size(index, size)
            assert verify_inclusion(SMALL_LEAVES[index], index, size, expected, root)


def test_consistency_proofs_for_every_pair_up_to_100(small_log, small_reference):
    for new_size in range(101):
        new_root = small_reference.mth(0, new_size)
        for old_size in range(new_size + 1):
            proof = small_log.consistency_proof(old_size, new_size)
            expected = small_reference.consistency(old_size, new_size)
            assert list(proof.hashes) == expected, (old_size, new_size)
            assert len(expected) == merkle_verify.consistency_proof_size(old_size, new_size)
            old_root = small_reference.mth(0, old_size)
            assert verify_consistency(old_size, new_size, old_root, new_root, expected)


def test_consistency_proofs_to_the_full_300(small_log, small_reference):
    new_root = small_reference.mth(0, SMALL)
    for old_size in range(SMALL + 1):
        proof = small_log.consistency_proof(old_size)
        assert list(proof.hashes) == small_reference.consistency(old_size, SMALL)
        assert proof.verify(small_reference.mth(0, old_size), new_root)


@settings(max_examples=12, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=100_000),
    batch=st.integers(min_value=1, max_value=20_000),
    data=st.data(),
)
def test_large_random_logs_match_the_reference(size, batch, data):
    leaves = [i.to_bytes(8, "little") * 3 for i in range(size)]
    log = MerkleLog()
    for start in range(0, size, batch):
        log.append_many(leaves[start : start + batch])
    reference = Reference(leaves)
    assert log.root() == reference.mth(0, size)
    for _ in range(5):
        old_size = data.draw(st.integers(min_value=0, max_value=size), label="old_size")
        new_size = data.draw(st.integers(min_value=old_size, max_value=size), label="new_size")
        assert log.root(old_size) == reference.mth(0, old_size)
        proof = log.consistency_proof(old_size, new_size)
        assert list(proof.hashes) == reference.consistency(old_size, new_size)
        assert proof.verify(reference.mth(0, old_size), reference.mth(0, new_size))
        if new_size > 0:
            index = data.draw(st.integers(min_value=0, max_value=new_size - 1), label="index")
            inclusion = log.inclusion_proof(index, new_size)
            assert list(inclusion.hashes) == reference.path(index, 0, new_size)
            assert inclusion.verify(leaves[index], reference.mth(0, new_size))


def test_append_forms_agree():
    leaves = [i.to_bytes(2, "little") * 64 for i in range(1000)]
    rows = numpy.frombuffer(b"".join(leaves), dtype=numpy.uint8).reshape(1000, 128)
    expected = Reference(leaves).mth(0, 1000)
    assert merkle_root(leaves) == expected
    assert merkle_root(rows) == expected
    assert merkle_root([bytearray(leaf) for leaf in leaves]) == expected
    assert merkle_root([memoryview(leaf) for leaf in leaves]) == expected
    assert merkle_root(leaf for leaf in leaves) == expected
    records = rows.view(numpy.dtype([("a", "<u8"), ("rest", "V120")])).reshape(1000)
    assert merkle_root(records) == expected
    strided = numpy.zeros((1000, 256), dtype=numpy.uint8)
    strided[:, ::2] = rows
    assert merkle_root(strided[:, ::2]) == expected
    log = MerkleLog()
    log.append_many(rows[:10])
    log.append_many(leaves[10:500])
    log.append_leaf_hashes(native.hash_leaves(rows[500:]))
    assert log.root() == expected


def test_leaves_longer_than_a_chunk_and_empty_leaves():
    leaves = [b"", b"x" * 1024, b"y" * 1025, b"z" * 5000, b""]
    assert merkle_root(leaves) == Reference(leaves).mth(0, len(leaves))
    empty_rows = numpy.zeros((5, 0), dtype=numpy.uint8)
    assert merkle_root(empty_rows) == Reference([b""] * 5).mth(0, 5)


def test_wrong_leaf_types_raise_type_error():
    with pytest.raises(TypeError, match="leaves"):
        merkle_root(b"one bytes object")
    with pytest.raises(TypeError, match=r"leaves\[1\]"):
        merkle_root([b"a", "text"])
    with pytest.raises(TypeError, match=r"leaves\[0\]"):
        merkle_root([3])
    with pytest.raises(TypeError, match="float64"):
        merkle_root(numpy.zeros((2, 2)))
    with pytest.raises(TypeError, match="1-D"):
        merkle_root(numpy.zeros(4, dtype=numpy.uint8))


def test_past_sizes_out_of_range_raise_value_errors():
    log = MerkleLog()
    log.append_many(SMALL_LEAVES[:10])
    with pytest.raises(LedgerValueError, match=r"size: expected 0\.\.10, got 11"):
        log.root(11)
    with pytest.raises(LedgerValueError, match=r"index: expected 0\.\.4, got 5"):
        log.inclusion_proof(5, 5)
    with pytest.raises(LedgerValueError, match="index"):
        log.inclusion_proof(-1)
    with pytest.raises(LedgerValueError, match=r"size: expected 1\.\.10, got 0"):
        log.inclusion_proof(0, 0)
    with pytest.raises(LedgerValueError, match=r"old_size: expected 0\.\.5, got 6"):
        log.consistency_proof(6, 5)
    with pytest.raises(LedgerValueError, match="new_size"):
        log.consistency_proof(1, 11)
    with pytest.raises(LedgerValueError, match="empty"):
        MerkleLog().inclusion_proof(0)
    with pytest.raises(TypeError):
        log.root(1.5)


def test_stored_nodes_are_complete_subtree_roots(small_log, small_reference):
    for level in range(10):
        count = small_log.level_count(level)
        assert count == SMALL >> level
        nodes = small_log.nodes(level)
        for index in range(count):
            start = index << level
            assert bytes(nodes[index]) == small_reference.mth(start, start + (1 << level))


def test_new_nodes_are_what_a_block_adds():
    log = MerkleLog()
    log.append_many(SMALL_LEAVES[:37])
    before = {level: log.level_count(level) for level in range(log.size.bit_length())}
    log.append_many(SMALL_LEAVES[37:200])
    for level, first, hashes in log.new_nodes(37):
        assert first == before.get(level, 0)
        assert len(hashes) == log.level_count(level) - first
        assert (hashes == log.nodes(level, first)).all()
    assert [level for level, _, _ in log.new_nodes(200)] == []


def test_state_tree_updates_equal_a_rebuild():
    rng = random.Random(7)
    for size in (1, 2, 3, 5, 64, 100, 1000, 4097):
        leaves = make_leaves(size, seed=size)
        state = StateTree()
        state.extend(leaves[: size // 2])
        state.extend(leaves[size // 2 :])
        for _ in range(6):
            count = rng.randint(1, 3 * size)
            indices = [rng.randrange(size) for _ in range(count)]
            new = [rng.randbytes(rng.choice((0, 40, 128))) for _ in indices]
            state.update(numpy.array(indices), new)
            for index, leaf in zip(indices, new, strict=True):
                leaves[index] = leaf  # in order: a repeated index keeps its last leaf
            assert state.root() == merkle_root(leaves), size
            for index in rng.sample(range(size), min(size, 5)):
                assert verify_state_proof(
                    leaves[index], index, size, state.proof(index), state.root()
                )


@settings(max_examples=25, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=3000),
    batches=st.lists(st.lists(st.integers(min_value=0), min_size=1, max_size=400), max_size=4),
)
def test_state_tree_random_batches_equal_a_rebuild(size, batches):
    leaves = [b"slot %d" % i for i in range(size)]
    state = StateTree()
    state.extend(leaves)
    for round_number, batch in enumerate(batches):
        indices = [value % size for value in batch]
        new = [b"slot %d round %d" % (index, round_number) for index in indices]
        state.update(indices, new)
        for index, leaf in zip(indices, new, strict=True):
            leaves[index] = leaf
        assert state.root() == merkle_root(leaves)
    assert (state.leaf_hashes() == native.hash_leaves(leaves)).all()


@settings(max_examples=25, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=3000),
    batch=st.lists(st.integers(min_value=0), min_size=1, max_size=400),
)
def test_state_tree_ascending_updates_with_repeats_equal_a_rebuild(size, batch):
    # Ascending indices (a ledger's changed slots) skip the sort; a repeat keeps its last leaf.
    leaves = [b"slot %d" % i for i in range(size)]
    state = StateTree()
    state.extend(leaves)
    indices = sorted(value % size for value in batch)
    new = [b"slot %d, update %d" % (index, order) for order, index in enumerate(indices)]
    state.update(numpy.array(indices, dtype=numpy.uint32), new)
    for index, leaf in zip(indices, new, strict=True):
        leaves[index] = leaf
    assert state.root() == merkle_root(leaves)


def test_state_tree_bad_update_changes_nothing():
    state = StateTree()
    state.extend([b"a", b"b", b"c"])
    root = state.root()
    with pytest.raises(LedgerValueError, match=r"indices\[1\]: expected 0\.\.2 .* got 3"):
        state.update([0, 3], [b"x", b"y"])
    with pytest.raises(LedgerValueError, match=r"indices\[0\]"):
        state.update([-1], [b"x"])
    with pytest.raises(LedgerValueError, match="2 indices for 1 leaves"):
        state.update([0, 1], [b"x"])
    with pytest.raises(TypeError, match="indices"):
        state.update([0.5], [b"x"])
    assert state.root() == root
    state.update([], [])
    assert state.root() == root


def test_roots_do_not_depend_on_the_thread_count():
    rows = numpy.random.default_rng(5).integers(0, 256, size=(70_001, 100), dtype=numpy.uint8)
    expected = merkle_root(rows, threads=1)
    assert native.root_of_hashes(native.hash_leaves(rows, "rows", 2), 2) == expected
    assert merkle_root(list(map(bytes, rows[:1000]))) == merkle_root(rows[:1000], threads=1)
    for threads in (2, 3, 7):
        assert merkle_root(rows, threads=threads) == expected
        log = MerkleLog(threads=threads)
        log.append_many(rows[:33_333])
        log.append_many(rows[33_333:])
        assert log.root() == expected
        state = StateTree(threads=threads)
        state.extend(rows)
        indices = numpy.arange(0, 70_001, 2)
        state.update(indices, rows[indices][:, ::-1].copy())
        single = StateTree(threads=1)
        single.extend(rows)
        single.update(indices, rows[indices][:, ::-1].copy())
        assert state.root() == single.root()
    with pytest.raises(LedgerValueError, match="threads"):
        merkle_root(rows, threads=0)
    with pytest.raises(TypeError, match="threads"):
        MerkleLog(threads=1.0)


def test_batched_proofs_equal_single_proofs(small_log, small_reference):
    for size in (1, 2, 5, 64, 100, 255, 300):
        indices = list(range(size))
        batch = small_log.inclusion_proofs(indices, size)
        for index, proof in zip(indices, batch, strict=True):
            assert proof == small_log.inclusion_proof(index, size)
            assert list(proof.hashes) == small_reference.path(index, 0, size)
    assert small_log.inclusion_proofs([], 5) == []
    with pytest.raises(LedgerValueError, match=r"indices\[1\]: expected 0\.\.4 \(size 5\), got 5"):
        small_log.inclusion_proofs([0, 5], 5)
    state = StateTree()
    state.extend(SMALL_LEAVES[:77])
    assert state.proofs([3, 76]) == [state.proof(3), state.proof(76)]
