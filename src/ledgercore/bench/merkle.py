"""The Merkle stage of `ledgercore bench`: roots, log appends, state updates and proofs.

Every figure is timed beside its baseline in the same run (style guide, section 13):

- merkle_root over the leaves (128 bytes each), against a pure-Python level-by-level build of the
  same tree with the `blake3` package and against pymerkle building a tree of the same leaves with
  its own hashing (when pymerkle is installed);
- MerkleLog.append_many of the same leaves in batches of 8,192, against a pure-Python append-only
  log (a stack of complete-subtree roots) fed the same batches;
- StateTree.update of random slots of a tree of one slot per leaf, against rebuilding the tree;
- inclusion proof generation against the pure-Python tree's proofs, and verification by the
  pure-Python verifier against pymerkle's.

Sizes: 262,144 leaves (2^18, 32 MiB of leaves: past the caches) and 16,384 updated slots;
`--full` 1,000,000 leaves; `--quick` 8,192 leaves and 1,024 slots, a few seconds. The pure-Python
and pymerkle trees over every leaf set the stage's time.

Example:
    >>> leaves = [b"a", b"b", b"c"]
    >>> levels = python_levels(leaves)
    >>> from ledgercore.merkle import merkle_root
    >>> levels[-1][0] == merkle_root(leaves)
    True
    >>> python_inclusion_proof(levels, 2) == list(MerkleLogProofs(leaves).proof(2))
    True
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import numpy
from blake3 import blake3

from ledgercore.merkle import MerkleLog, StateTree, merkle_root, verify_inclusion
from ledgercore.merkle_verify import EMPTY_ROOT, LEAF_KEY, NODE_KEY

GROUP = "merkle"
LEAF_SIZE_BYTES = 128
FULL_LEAF_COUNT = 1_000_000
DEFAULT_LEAF_COUNT = 262_144
QUICK_LEAF_COUNT = 8_192
APPEND_BATCH_SIZE = 8_192
FULL_UPDATE_COUNT = 16_384
QUICK_UPDATE_COUNT = 1_024
PROOF_COUNT = 2_000
VERIFY_LEAF_COUNT = 65_536
PYMERKLE_MISSING = "pymerkle is not installed; `pip install 'ledgercore[bench]'` installs it"


# ---- the pure-Python baselines ------------------------------------------------------------------


def python_levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """Every level of the RFC 9162 tree, built level by level with the blake3 package: adjacent
    pairs hashed, an odd last node carried up unchanged."""
    level = [blake3(leaf, key=LEAF_KEY).digest() for leaf in leaves]
    levels = [level]
    while len(level) > 1:
        parents = [
            blake3(level[i] + level[i + 1], key=NODE_KEY).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            parents.append(level[-1])
        level = parents
        levels.append(level)
    return levels


def python_merkle_root(leaves: Sequence[bytes]) -> bytes:
    """The root of python_levels, or the empty root."""
    return python_levels(leaves)[-1][0] if leaves else EMPTY_ROOT


def python_inclusion_proof(levels: list[list[bytes]], index: int) -> list[bytes]:
    """The RFC 9162 path from python_levels: each level's sibling, none where a node was carried."""
    proof = []
    for level in levels[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            proof.append(level[sibling])
        index >>= 1
    return proof


class PythonLog:
    """An append-only log in pure Python: the roots of its complete subtrees, largest first."""

    def __init__(self) -> None:
        self.peaks: list[tuple[int, bytes]] = []  # (leaf count, root)

    def append_many(self, leaves: Sequence[bytes]) -> None:
        peaks = self.peaks
        for leaf in leaves:
            size, value = 1, blake3(leaf, key=LEAF_KEY).digest()
            while peaks and peaks[-1][0] == size:
                left_size, left = peaks.pop()
                size, value = size + left_size, blake3(left + value, key=NODE_KEY).digest()
            peaks.append((size, value))

    def root(self) -> bytes:
        if not self.peaks:
            return EMPTY_ROOT
        value = self.peaks[-1][1]
        for _, left in reversed(self.peaks[:-1]):
            value = blake3(left + value, key=NODE_KEY).digest()
        return value


class MerkleLogProofs:
    """A MerkleLog over some leaves, for proofs (used by the example above)."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.log = MerkleLog()
        self.log.append_many(leaves)

    def proof(self, index: int) -> tuple[bytes, ...]:
        return self.log.inclusion_proof(index).hashes


def pymerkle_root(leaves: Sequence[bytes]) -> bytes:
    """pymerkle building a tree of the leaves with its own hashing (SHA-256), then its root."""
    import pymerkle

    tree = pymerkle.InmemoryTree(algorithm="sha256")
    for leaf in leaves:
        tree.append_entry(leaf)
    return tree.get_root()


def pymerkle_available() -> bool:
    try:
        import pymerkle  # noqa: F401
    except ImportError:
        return False
    return True


# ---- the workloads ------------------------------------------------------------------------------


def leaf_rows(count: int, seed: int = 1) -> numpy.ndarray:
    """count random leaves of LEAF_SIZE_BYTES, as a 2-D uint8 array."""
    rng = numpy.random.default_rng(seed)
    return rng.integers(0, 256, size=(count, LEAF_SIZE_BYTES), dtype=numpy.uint8)


def append_in_batches(rows: numpy.ndarray, batch_size: int = APPEND_BATCH_SIZE) -> MerkleLog:
    log = MerkleLog()
    for start in range(0, len(rows), batch_size):
        log.append_many(rows[start : start + batch_size])
    return log


def python_append_in_batches(leaves: list[bytes], batch_size: int = APPEND_BATCH_SIZE) -> bytes:
    log = PythonLog()
    for start in range(0, len(leaves), batch_size):
        log.append_many(leaves[start : start + batch_size])
    return log.root()


def rebuild_state(rows: numpy.ndarray) -> StateTree:
    state = StateTree()
    state.extend(rows)
    return state


def update_workload(leaf_count: int, update_count: int, seed: int = 2):
    """Random distinct slots and their new 128-byte records."""
    rng = numpy.random.default_rng(seed)
    indices = rng.choice(leaf_count, size=update_count, replace=False)
    records = rng.integers(0, 256, size=(update_count, LEAF_SIZE_BYTES), dtype=numpy.uint8)
    return indices, records


# ---- the stage ----------------------------------------------------------------------------------


def run(ctx: Any) -> list:
    """Time every Merkle figure beside its baseline; returns ctx.result(...) records."""
    leaf_count = ctx.sized(quick=QUICK_LEAF_COUNT, default=DEFAULT_LEAF_COUNT, full=FULL_LEAF_COUNT)
    update_count = ctx.sized(
        quick=QUICK_UPDATE_COUNT, default=FULL_UPDATE_COUNT, full=FULL_UPDATE_COUNT
    )
    rows = leaf_rows(leaf_count)
    leaves = [bytes(row) for row in rows]
    results = _roots(ctx, rows, leaves)
    results.append(_append(ctx, rows, leaves))
    results.append(_update(ctx, rows, update_count))
    results += _proofs(ctx, rows, leaves)
    return results


def _roots(ctx: Any, rows: numpy.ndarray, leaves: list[bytes]) -> list:
    count = len(rows)
    operation = f"merkle_root, {count} leaves of {LEAF_SIZE_BYTES} B"
    assert merkle_root(rows) == python_merkle_root(leaves)
    seconds = ctx.measure(lambda: merkle_root(rows), items=count, repeat=5)
    baseline = ctx.measure(lambda: python_merkle_root(leaves), items=count, repeat=1)
    results = [
        ctx.result(
            group=GROUP,
            operation=operation,
            items=count,
            seconds=seconds,
            baseline="pure Python, level by level, blake3 package",
            baseline_seconds=baseline,
            baseline_items=count,
        )
    ]
    if not pymerkle_available():
        ctx.skip(group=GROUP, what=f"{operation}, against pymerkle", reason=PYMERKLE_MISSING)
    else:
        baseline = ctx.measure(lambda: pymerkle_root(leaves), items=count, repeat=1)
        results.append(
            ctx.result(
                group=GROUP,
                operation=operation,
                items=count,
                seconds=seconds,
                baseline="pymerkle InmemoryTree (SHA-256): append_entry each leaf, get_root",
                baseline_seconds=baseline,
                baseline_items=count,
            )
        )
    return results


def _append(ctx: Any, rows: numpy.ndarray, leaves: list[bytes]) -> Any:
    count = len(rows)
    assert append_in_batches(rows).root() == python_append_in_batches(leaves)
    seconds = ctx.measure(lambda: append_in_batches(rows), items=count, repeat=3)
    baseline = ctx.measure(lambda: python_append_in_batches(leaves), items=count, repeat=1)
    return ctx.result(
        group=GROUP,
        operation=f"MerkleLog.append_many, {count} leaves in batches of {APPEND_BATCH_SIZE}",
        items=count,
        seconds=seconds,
        baseline="pure Python append-only log (complete-subtree stack), blake3 package",
        baseline_seconds=baseline,
        baseline_items=count,
        batch_size=APPEND_BATCH_SIZE,
    )


def _update(ctx: Any, rows: numpy.ndarray, update_count: int) -> Any:
    count = len(rows)
    state = rebuild_state(rows)
    indices, records = update_workload(count, update_count)
    # Updating the same slots to the same records again does the same work every round.
    seconds = ctx.measure(lambda: state.update(indices, records), items=update_count, repeat=7)
    changed = rows.copy()
    changed[indices] = records
    assert state.root() == merkle_root(changed)
    baseline = ctx.measure(lambda: rebuild_state(changed), items=count, repeat=3)
    return ctx.result(
        group=GROUP,
        operation=f"StateTree.update, {update_count} random slots of {count}",
        items=update_count,
        seconds=seconds,
        baseline=f"rebuilding the {count}-slot state tree",
        baseline_seconds=baseline,
        baseline_items=update_count,
        rebuild_ratio=baseline / seconds,
    )


def _proofs(ctx: Any, rows: numpy.ndarray, leaves: list[bytes]) -> list:
    count = len(rows)
    log = MerkleLog()
    log.append_many(rows)
    levels = python_levels(leaves)
    root = log.root()
    picker = random.Random(3)
    indices = [picker.randrange(count) for _ in range(PROOF_COUNT)]
    proofs = [log.inclusion_proof(index) for index in indices]
    assert all(
        list(proof.hashes) == python_inclusion_proof(levels, index)
        for proof, index in zip(proofs, indices, strict=True)
    )

    def generate() -> None:
        log.inclusion_proofs(indices)

    def generate_one_by_one() -> None:
        for index in indices:
            log.inclusion_proof(index)

    def generate_python() -> None:
        for index in indices:
            python_inclusion_proof(levels, index)

    def verify() -> None:
        for index, proof in zip(indices, proofs, strict=True):
            verify_inclusion(leaves[index], index, count, proof.hashes, root)

    results = [
        ctx.result(
            group=GROUP,
            operation=f"MerkleLog.inclusion_proofs, {PROOF_COUNT} per call, tree of {count}",
            items=PROOF_COUNT,
            seconds=ctx.measure(generate, items=PROOF_COUNT, repeat=5),
            baseline="pure Python path from the tree's levels, all held in lists",
            baseline_seconds=ctx.measure(generate_python, items=PROOF_COUNT, repeat=5),
            baseline_items=PROOF_COUNT,
            one_by_one_per_second=PROOF_COUNT
            / ctx.measure(generate_one_by_one, items=PROOF_COUNT, repeat=5),
        )
    ]
    full_tree_seconds = ctx.measure(verify, items=PROOF_COUNT, repeat=3)
    if pymerkle_available():  # the verifier's only baseline
        results.append(_verification(ctx, leaves[:VERIFY_LEAF_COUNT], full_tree_seconds, count))
    else:
        ctx.skip(group=GROUP, what="verify_inclusion, against pymerkle", reason=PYMERKLE_MISSING)
    return results


def _verification(ctx: Any, leaves: list[bytes], full_tree_seconds: float, full_count: int) -> Any:
    """The pure-Python verifier and pymerkle's, each over proofs in its own tree of the same
    leaves (pymerkle's build is slow, hence at most VERIFY_LEAF_COUNT leaves)."""
    count = len(leaves)
    log = MerkleLog()
    log.append_many(leaves)
    root = log.root()
    picker = random.Random(4)
    indices = [picker.randrange(count) for _ in range(PROOF_COUNT)]
    proofs = log.inclusion_proofs(indices)

    def verify() -> None:
        for index, proof in zip(indices, proofs, strict=True):
            verify_inclusion(leaves[index], index, count, proof.hashes, root)

    seconds = ctx.measure(verify, items=PROOF_COUNT, repeat=3)
    import pymerkle

    tree = pymerkle.InmemoryTree(algorithm="sha256")
    for leaf in leaves:
        tree.append_entry(leaf)
    pymerkle_root = tree.get_root()
    # pymerkle counts leaves from 1.
    cases = [(tree.get_leaf(i + 1), tree.prove_inclusion(i + 1)) for i in indices]

    def verify_pymerkle() -> None:
        for base, proof in cases:
            pymerkle.verify_inclusion(base, pymerkle_root, proof)

    return ctx.result(
        group=GROUP,
        operation=f"verify_inclusion (pure Python), tree of {count}",
        items=PROOF_COUNT,
        seconds=seconds,
        baseline="pymerkle.verify_inclusion (SHA-256), same tree",
        baseline_seconds=ctx.measure(verify_pymerkle, items=PROOF_COUNT, repeat=3),
        baseline_items=PROOF_COUNT,
        full_tree_leaf_count=full_count,
        full_tree_per_second=PROOF_COUNT / full_tree_seconds,
    )
