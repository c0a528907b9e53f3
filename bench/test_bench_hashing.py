"""pytest-benchmark groups for hashing: native BLAKE3 beside the `blake3` package.

Run with `pytest bench/ --benchmark-enable`; each group holds our figure and its baseline, so
pytest-benchmark's table shows their ratio.
"""

from __future__ import annotations

import blake3 as reference
import pytest

from ledgercore.bench.hashing import input_rows
from ledgercore.hashing import blake3, blake3_many

COUNT = 100_000


@pytest.fixture(scope="module", params=[64, 128, 65, 200])
def rows(request: pytest.FixtureRequest):
    return input_rows(COUNT, request.param, seed=request.param)


def test_blake3_many_rows(benchmark, rows) -> None:
    benchmark.group = f"blake3_many {COUNT} x {rows.shape[1]} B"
    digests = benchmark(blake3_many, rows)
    assert digests.shape == (COUNT, 32)


def test_blake3_many_list(benchmark, rows) -> None:
    benchmark.group = f"blake3_many {COUNT} x {rows.shape[1]} B"
    items = [row.tobytes() for row in rows]
    digests = benchmark(blake3_many, items)
    assert bytes(digests[0]) == reference.blake3(items[0]).digest()


def test_baseline_package_loop(benchmark, rows) -> None:
    benchmark.group = f"blake3_many {COUNT} x {rows.shape[1]} B"
    items = [row.tobytes() for row in rows]
    hash_one = reference.blake3
    digests = benchmark(lambda: [hash_one(item).digest() for item in items])
    assert len(digests) == COUNT


@pytest.fixture(scope="module")
def large_input() -> bytes:
    return input_rows(1, 64 << 20, seed=1).tobytes()


def test_blake3_large_input(benchmark, large_input: bytes) -> None:
    benchmark.group = "blake3 one 64 MiB input, one thread"
    assert benchmark(blake3, large_input) == reference.blake3(large_input).digest()


def test_baseline_package_large_input(benchmark, large_input: bytes) -> None:
    benchmark.group = "blake3 one 64 MiB input, one thread"
    benchmark(lambda: reference.blake3(large_input, max_threads=1).digest())
