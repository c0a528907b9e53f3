"""The liabilities stage of `ledgercore bench`: building a proof-of-liabilities sum tree.

LiabilityTree.build splits, places, salts and hashes the whole tree natively in one call. Its
baseline is the plain-Python build of the same construction (`ledgercore.liabilities_reference`,
the `blake3` package and Python ints) on a subset of the same members, in the same run; both
rates are members per second, so the ratio is per member whatever the two sizes.

Sizes: 1,000,000 members natively beside 5,000 in Python; `--full` 10,000,000 beside 20,000;
`--quick` 20,000 beside 500 (about a second in all). Each build is timed once after a warm-up
(the native build of 10,000,000 members allocates about 3.5 GiB, so it is not repeated more).

Example:
    >>> ids, balances = members(3)
    >>> len(ids), len(balances)
    (3, 3)
"""

from __future__ import annotations

from typing import Any

import numpy

from ledgercore import records
from ledgercore.liabilities import LiabilityTree
from ledgercore.liabilities_reference import reference_tree

GROUP = "liabilities"
SECRET = bytes(range(32))
BASELINE = "plain-Python build (blake3 package), a subset of the same members"


def members(count: int, *, seed: int = 0) -> tuple[numpy.ndarray, list[int]]:
    """count distinct random member ids (as lanes) and balances below 10^12 minor units."""
    rng = numpy.random.default_rng(seed)
    ids = rng.integers(1, 2**63, size=(count, 2), dtype=numpy.uint64)
    ids[:, 0] = numpy.arange(1, count + 1, dtype=numpy.uint64)  # distinct, whatever the draw
    balances = rng.integers(0, 10**12, size=count, dtype=numpy.uint64).tolist()
    return ids, balances


def run(ctx: Any) -> list:
    """Time the native build beside the plain-Python one; returns ctx.result records."""
    count = ctx.sized(quick=20_000, default=1_000_000, full=10_000_000)
    subset = ctx.sized(quick=500, default=5_000, full=20_000)
    ids, balances = members(count)
    lanes = numpy.zeros((count, 2), dtype=numpy.uint64)
    lanes[:, 0] = balances
    subset_ids = records.u128(ids[:subset])
    subset_balances = balances[:subset]
    native_subset = LiabilityTree.build(ids[:subset], subset_balances, SECRET).root
    python_subset = reference_tree(subset_ids, subset_balances, SECRET)
    assert native_subset.hash == python_subset.root_hash
    seconds = ctx.measure(lambda: LiabilityTree.build(ids, lanes, SECRET), items=count, repeat=1)
    baseline_seconds = ctx.measure(
        lambda: reference_tree(subset_ids, subset_balances, SECRET), items=subset, repeat=1
    )
    tree = LiabilityTree.build(ids[:1], balances[:1], SECRET)
    return [
        ctx.result(
            group=GROUP,
            operation=f"LiabilityTree.build, {count:,} members, 2-4 parts each",
            items=count,
            seconds=seconds,
            baseline=BASELINE,
            baseline_seconds=baseline_seconds,
            baseline_items=subset,
            baseline_subset=subset,
            single_member_leaf_count=tree.leaf_count,
        )
    ]
