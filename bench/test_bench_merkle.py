"""Merkle trees against pure-Python builds and pymerkle, timed in the same run (pytest-benchmark).

Run with `pytest bench/test_bench_merkle.py --benchmark-enable`; each group holds a baseline
beside our figure over the same leaves, and extra_info records items per call so items/s and
ratios follow. LEDGERCORE_BENCH_MERKLE_LEAVES changes the leaf count (1,000,000 by default).
Without --benchmark-enable each function runs once, as a test that the figures would be right.
"""

from __future__ import annotations

import os
import random

import pytest

from ledgercore.bench.merkle import (
    APPEND_BATCH_SIZE,
    FULL_LEAF_COUNT,
    FULL_UPDATE_COUNT,
    PROOF_COUNT,
    VERIFY_LEAF_COUNT,
    append_in_batches,
    leaf_rows,
    pymerkle_available,
    pymerkle_root,
    python_append_in_batches,
    python_inclusion_proof,
    python_levels,
    python_merkle_root,
    rebuild_state,
    update_workload,
)
from ledgercore.merkle import MerkleLog, merkle_root, verify_inclusion

LEAF_COUNT = int(os.environ.get("LEDGERCORE_BENCH_MERKLE_LEAVES", FULL_LEAF_COUNT))
UPDATE_COUNT = min(FULL_UPDATE_COUNT, LEAF_COUNT)
ROOT_GROUP = f"merkle_root, {LEAF_COUNT} leaves of 128 B"
APPEND_GROUP = f"MerkleLog.append_many, {LEAF_COUNT} leaves in batches of {APPEND_BATCH_SIZE}"
UPDATE_GROUP = f"StateTree.update, {UPDATE_COUNT} random slots of {LEAF_COUNT}"
PROOF_GROUP = f"inclusion proofs, {PROOF_COUNT} in a tree of {LEAF_COUNT}"
VERIFY_GROUP = f"inclusion verification, {PROOF_COUNT} proofs in a tree of {VERIFY_LEAF_COUNT}"

needs_pymerkle = pytest.mark.skipif(not pymerkle_available(), reason="pymerkle is not installed")


def once(benchmark, function, *args):
    """Slow baselines run one round: seconds per call, not a statistic."""
    return benchmark.pedantic(function, args=args, rounds=1, iterations=1)


@pytest.fixture(scope="module")
def rows():
    return leaf_rows(LEAF_COUNT)


@pytest.fixture(scope="module")
def leaves(rows):
    return [bytes(row) for row in rows]


@pytest.fixture(scope="module")
def log(rows):
    built = MerkleLog()
    built.append_many(rows)
    return built


@pytest.fixture(scope="module")
def proof_indices():
    picker = random.Random(3)
    return [picker.randrange(LEAF_COUNT) for _ in range(PROOF_COUNT)]


@pytest.mark.benchmark(group=ROOT_GROUP)
def test_merkle_root(benchmark, rows, leaves):
    benchmark.extra_info["items"] = LEAF_COUNT
    assert benchmark(merkle_root, rows) == merkle_root(leaves)


@pytest.mark.benchmark(group=ROOT_GROUP)
def test_baseline_python_levels(benchmark, rows, leaves):
    benchmark.extra_info["items"] = LEAF_COUNT
    assert once(benchmark, python_merkle_root, leaves) == merkle_root(rows)


@needs_pymerkle
@pytest.mark.benchmark(group=ROOT_GROUP)
def test_baseline_pymerkle(benchmark, leaves):
    benchmark.extra_info["items"] = LEAF_COUNT
    assert len(once(benchmark, pymerkle_root, leaves)) == 32


@pytest.mark.benchmark(group=APPEND_GROUP)
def test_append_many_in_batches(benchmark, rows):
    benchmark.extra_info["items"] = LEAF_COUNT
    assert benchmark(append_in_batches, rows).size == LEAF_COUNT


@pytest.mark.benchmark(group=APPEND_GROUP)
def test_baseline_python_log(benchmark, rows, leaves):
    benchmark.extra_info["items"] = LEAF_COUNT
    assert once(benchmark, python_append_in_batches, leaves) == merkle_root(rows)


@pytest.mark.benchmark(group=UPDATE_GROUP)
def test_state_update(benchmark, rows):
    state = rebuild_state(rows)
    indices, records = update_workload(LEAF_COUNT, UPDATE_COUNT)
    benchmark.extra_info["items"] = UPDATE_COUNT
    benchmark(state.update, indices, records)
    changed = rows.copy()
    changed[indices] = records
    assert state.root() == merkle_root(changed)


@pytest.mark.benchmark(group=UPDATE_GROUP)
def test_baseline_rebuild(benchmark, rows):
    benchmark.extra_info["items"] = UPDATE_COUNT
    assert benchmark(rebuild_state, rows).size == LEAF_COUNT


@pytest.mark.benchmark(group=PROOF_GROUP)
def test_inclusion_proofs_batched(benchmark, log, proof_indices):
    benchmark.extra_info["items"] = PROOF_COUNT
    assert len(benchmark(log.inclusion_proofs, proof_indices)) == PROOF_COUNT


@pytest.mark.benchmark(group=PROOF_GROUP)
def test_inclusion_proofs_one_by_one(benchmark, log, proof_indices):
    benchmark.extra_info["items"] = PROOF_COUNT

    def loop() -> int:
        return len([log.inclusion_proof(index) for index in proof_indices])

    assert benchmark(loop) == PROOF_COUNT


@pytest.mark.benchmark(group=PROOF_GROUP)
def test_baseline_python_proofs(benchmark, log, leaves, proof_indices):
    levels = python_levels(leaves)
    benchmark.extra_info["items"] = PROOF_COUNT

    def loop() -> list:
        return [python_inclusion_proof(levels, index) for index in proof_indices]

    proofs = benchmark(loop)
    assert proofs[0] == list(log.inclusion_proof(proof_indices[0]).hashes)


@pytest.mark.benchmark(group=VERIFY_GROUP)
def test_verify_inclusion(benchmark, leaves):
    subset = leaves[:VERIFY_LEAF_COUNT]
    log = MerkleLog()
    log.append_many(subset)
    root = log.root()
    picker = random.Random(4)
    indices = [picker.randrange(len(subset)) for _ in range(PROOF_COUNT)]
    proofs = log.inclusion_proofs(indices)
    benchmark.extra_info["items"] = PROOF_COUNT

    def loop() -> int:
        return sum(
            verify_inclusion(subset[index], index, len(subset), proof.hashes, root)
            for index, proof in zip(indices, proofs, strict=True)
        )

    assert benchmark(loop) == PROOF_COUNT


@needs_pymerkle
@pytest.mark.benchmark(group=VERIFY_GROUP)
def test_baseline_pymerkle_verify(benchmark, leaves):
    import pymerkle

    subset = leaves[:VERIFY_LEAF_COUNT]
    tree = pymerkle.InmemoryTree(algorithm="sha256")
    for leaf in subset:
        tree.append_entry(leaf)
    root = tree.get_root()
    picker = random.Random(4)
    # pymerkle counts leaves from 1.
    cases = []
    for _ in range(PROOF_COUNT):
        index = picker.randrange(len(subset)) + 1
        cases.append((tree.get_leaf(index), tree.prove_inclusion(index)))
    benchmark.extra_info["items"] = PROOF_COUNT

    def loop() -> int:
        for base, proof in cases:
            pymerkle.verify_inclusion(base, root, proof)
        return len(cases)

    assert benchmark(loop) == PROOF_COUNT
