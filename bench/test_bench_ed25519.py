"""Ed25519 verification against PyNaCl, timed in the same run (pytest-benchmark).

Run with `pytest bench/test_bench_ed25519.py --benchmark-enable`; each group holds the PyNaCl
baseline (VerifyKey.verify in a Python loop, one thread) beside our figure, over the same
signatures, and extra_info records signatures per call so items/s and ratios follow. Without
--benchmark-enable each function runs once, as a test that the figures would be right.
"""

from __future__ import annotations

import os

import pytest

from ledgercore.bench.ed25519 import pynacl_loop, signed_batch
from ledgercore.ed25519 import decode_public_keys, hint_public_keys, verify, verify_batch

LOOP_COUNT = 1_000
BATCH_SIZES = (64, 256, 1_024, 4_096, 16_384)


@pytest.fixture(scope="module")
def signed():
    return signed_batch(max(*BATCH_SIZES, LOOP_COUNT))


@pytest.fixture(scope="module")
def loop_inputs(signed):
    import nacl.signing

    public_keys, messages, signatures = signed
    keys = [row.tobytes() for row in public_keys[:LOOP_COUNT]]
    return (
        [nacl.signing.VerifyKey(key) for key in keys],
        keys,
        messages[:LOOP_COUNT],
        [row.tobytes() for row in signatures[:LOOP_COUNT]],
    )


def all_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


@pytest.mark.benchmark(group="ed25519 verify, one at a time")
def test_baseline_pynacl_loop(benchmark, loop_inputs):
    verify_keys, _, messages, signatures = loop_inputs
    benchmark.extra_info["items"] = LOOP_COUNT
    assert benchmark(pynacl_loop, verify_keys, messages, signatures) == LOOP_COUNT


@pytest.mark.benchmark(group="ed25519 verify, one at a time")
def test_verify_loop(benchmark, loop_inputs):
    _, keys, messages, signatures = loop_inputs
    benchmark.extra_info["items"] = LOOP_COUNT

    def loop() -> int:
        return sum(map(verify, keys, messages, signatures))

    assert benchmark(loop) == LOOP_COUNT


@pytest.mark.parametrize("n", BATCH_SIZES)
@pytest.mark.parametrize("threads", sorted({1, all_threads()}))
@pytest.mark.parametrize("form", ["raw", "hinted", "decoded"], ids=lambda form: f"{form}_keys")
def test_verify_batch(benchmark, signed, loop_inputs, n, threads, form):
    public_keys, messages, signatures = signed
    keys = {
        "raw": lambda rows: rows,
        "hinted": hint_public_keys,
        "decoded": decode_public_keys,
    }[form](public_keys[:n])
    benchmark.group = f"ed25519 verify_batch n={n}"
    benchmark.extra_info.update(items=n, threads=threads, key_form=form)
    result = benchmark(verify_batch, keys, messages[:n], signatures[:n], threads=threads)
    assert result.all()


@pytest.mark.parametrize("n", BATCH_SIZES)
def test_baseline_pynacl_loop_per_batch(benchmark, signed, n):
    """The baseline in each batch group, on the same n signatures."""
    import nacl.signing

    public_keys, messages, signatures = signed
    verify_keys = [nacl.signing.VerifyKey(row.tobytes()) for row in public_keys[:n]]
    signature_bytes = [row.tobytes() for row in signatures[:n]]
    benchmark.group = f"ed25519 verify_batch n={n}"
    benchmark.extra_info["items"] = n
    assert benchmark(pynacl_loop, verify_keys, messages[:n], signature_bytes) == n
