"""The hashing stage of `ledgercore bench`: native BLAKE3 against the `blake3` package.

The baseline is what a Python user has today: the `blake3` package (Rust, SIMD) called from a
Python loop, one input per call, over the same inputs, prepared before timing. Figures:

- `blake3_many` over many inputs of 64 and 128 bytes (a Merkle node, a transfer record) and of
  65 and 200 bytes (a partial last block), given as a 2-D array and as a list of bytes;
- one 64 MiB input on one thread, against the package on one thread;
- the same with the portable kernel, pinned for the measurement.

Sizes: 400,000 inputs of each kind (100,000 with the portable kernel); `--full` 1,000,000 of
each; `--quick` 30,000 (10,000), best of two calls instead of three, and a 16 MiB input, best of
three instead of seven. The baseline's Python loop hashes every input once per call, so the
count sets the stage's time; at 400,000 inputs a rate is still over 25 MB or more of input, past
the caches, as at 1,000,000.

Example:
    >>> rows = input_rows(4, 64)
    >>> rows.shape
    (4, 64)
"""

from __future__ import annotations

from typing import Any

import numpy

from ledgercore.hashing import blake3, blake3_many, set_simd_kernel, simd_kernel

GROUP = "hashing"
MANY_SIZES_BYTES = (64, 128, 65, 200)
LIST_SIZES_BYTES = (64, 128)
FULL_INPUT_COUNT = 1_000_000
DEFAULT_INPUT_COUNT = 400_000
QUICK_INPUT_COUNT = 30_000
FULL_PORTABLE_INPUT_COUNT = 1_000_000
DEFAULT_PORTABLE_INPUT_COUNT = 100_000
QUICK_PORTABLE_INPUT_COUNT = 10_000
FULL_LARGE_SIZE_BYTES = 64 << 20
QUICK_LARGE_SIZE_BYTES = 16 << 20
BASELINE_LOOP = "blake3 package, one call per input in a Python loop"
BASELINE_LARGE = "blake3 package, one thread"


def input_rows(count: int, size_bytes: int, *, seed: int = 0) -> numpy.ndarray:
    """count random inputs of size_bytes each, as the rows of a uint8 array."""
    rng = numpy.random.default_rng(seed)
    return rng.integers(0, 256, size=(count, size_bytes), dtype=numpy.uint8)


def _many_figures(ctx: Any, count: int, kernel: str) -> list:
    import blake3 as reference

    results = []
    for size in MANY_SIZES_BYTES:
        rows = input_rows(count, size, seed=size)
        items = [row.tobytes() for row in rows]
        reference_hash = reference.blake3
        assert bytes(blake3_many(rows)[-1]) == reference_hash(items[-1]).digest()

        def baseline(items=items, h=reference_hash) -> list:
            return [h(item).digest() for item in items]

        inputs = [("2-D array", rows)]
        if size in LIST_SIZES_BYTES:
            inputs.append(("list of bytes", items))
        for label, argument in inputs:
            seconds, baseline_seconds = ctx.measure_pair(
                lambda a=argument: blake3_many(a), baseline, repeat=2 if ctx.quick else 3
            )
            results.append(
                ctx.result(
                    group=GROUP,
                    operation=f"blake3_many, {count:,} x {size} B, {label}, {kernel}",
                    items=count,
                    seconds=seconds,
                    baseline=BASELINE_LOOP,
                    baseline_seconds=baseline_seconds,
                    baseline_items=count,
                    kernel=kernel,
                    input_size_bytes=size,
                )
            )
    return results


def _large_figure(ctx: Any, size_bytes: int, kernel: str) -> Any:
    import blake3 as reference

    data = input_rows(1, size_bytes, seed=1).tobytes()
    assert blake3(data) == reference.blake3(data).digest()
    seconds, baseline_seconds = ctx.measure_pair(
        lambda: blake3(data),
        lambda: reference.blake3(data, max_threads=1).digest(),
        repeat=3 if ctx.quick else 7,
    )
    return ctx.result(
        group=GROUP,
        operation=f"blake3, one {size_bytes >> 20} MiB input, one thread, {kernel}",
        items=1,
        seconds=seconds,
        baseline=BASELINE_LARGE,
        baseline_seconds=baseline_seconds,
        baseline_items=1,
        kernel=kernel,
        bytes_per_item=size_bytes,
    )


def run(ctx: Any) -> list:
    """Time every hashing figure beside the `blake3` package; returns ctx.result records."""
    count = ctx.sized(quick=QUICK_INPUT_COUNT, default=DEFAULT_INPUT_COUNT, full=FULL_INPUT_COUNT)
    portable_count = ctx.sized(
        quick=QUICK_PORTABLE_INPUT_COUNT,
        default=DEFAULT_PORTABLE_INPUT_COUNT,
        full=FULL_PORTABLE_INPUT_COUNT,
    )
    large_size = ctx.sized(
        quick=QUICK_LARGE_SIZE_BYTES, default=FULL_LARGE_SIZE_BYTES, full=FULL_LARGE_SIZE_BYTES
    )
    best_kernel = simd_kernel()
    results = _many_figures(ctx, count, best_kernel)
    results.append(_large_figure(ctx, large_size, best_kernel))
    if best_kernel != "portable":
        set_simd_kernel("portable")
        try:
            results.extend(_many_figures(ctx, portable_count, "portable"))
            results.append(_large_figure(ctx, large_size, "portable"))
        finally:
            set_simd_kernel(best_kernel)
    return results
