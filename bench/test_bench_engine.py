"""The validate/apply engine against the plain-Python model, timed in the same run.

Run with `pytest bench/test_bench_engine.py --benchmark-enable`. Group "engine validate+apply"
holds the model (ledgercore.bench.model) on the first batches of the realistic workload beside
the engine on all of it (1,000,000 transfers in batches of 8,190 over 100,000 accounts; 80%
single, 10% pending then posted or voided, 10% in linked chains, 1% failing); extra_info records
transfers per call, so transfers/s and the ratio follow. Group "engine submit, signed" times
submit with signature verification on every core. Each round starts from a fresh engine holding
the accounts (the setup, not timed). Without --benchmark-enable each function runs once, on a
small workload, as a test that the figures would be right.
"""

from __future__ import annotations

import pytest

from ledgercore import records
from ledgercore.bench import model as reference_model
from ledgercore.bench.engine import (
    FULL_TRANSFER_COUNT,
    START_NS,
    apply_all,
    realistic_workload,
    sign_workload,
)

MODEL_BATCHES = 2
SIGNED_BATCHES = 4


@pytest.fixture(scope="module")
def workload(request):
    enabled = not request.config.getoption("benchmark_disable", default=True)
    count = FULL_TRANSFER_COUNT if enabled else 4 * 8_190
    return realistic_workload(transfer_count=count)


@pytest.mark.benchmark(group="engine validate+apply")
def test_baseline_model(benchmark, workload):
    account_rows = records.to_dicts(workload.accounts)
    batches = workload.batches[:MODEL_BATCHES]
    benchmark.extra_info["items"] = sum(len(batch) for batch in batches)

    def setup():
        model = reference_model.Model()
        model.create_accounts(account_rows, [True] * len(account_rows), START_NS - 1)
        return (model,), {}

    def run(model):
        failed = 0
        for batch, timestamp in zip(batches, workload.timestamps, strict=False):
            results = reference_model.submit_array(model, batch, None, timestamp)
            failed += sum(1 for result in results if result)
        return failed

    benchmark.pedantic(run, setup=setup, rounds=1)


@pytest.mark.benchmark(group="engine validate+apply")
def test_engine_apply(benchmark, workload):
    benchmark.extra_info["items"] = workload.transfer_count

    def setup():
        return (workload.engine(), workload), {}

    failed = benchmark.pedantic(apply_all, setup=setup, rounds=3)
    assert failed == workload.failing_count


@pytest.mark.benchmark(group="engine submit, signed")
def test_engine_submit_signed(benchmark, workload):
    pytest.importorskip("ledgercore.ed25519")
    signed = sign_workload(workload, SIGNED_BATCHES)
    benchmark.extra_info["items"] = sum(len(batch) for batch in signed)

    def setup():
        return (workload.engine(),), {}

    def run(engine):
        failed = 0
        for batch, timestamp in zip(signed, workload.timestamps, strict=False):
            failed += int((engine.submit(batch, timestamp_ns=timestamp) != 0).sum())
        return failed

    expected = apply_all_batches(workload.engine(), signed, workload.timestamps)
    assert benchmark.pedantic(run, setup=setup, rounds=2) == expected


def apply_all_batches(engine, batches, timestamps) -> int:
    """Failures without verification: a signed run must fail exactly as many transfers."""
    failed = 0
    for batch, timestamp in zip(batches, timestamps, strict=False):
        failed += int(
            (engine.submit(batch, verify_signatures=False, timestamp_ns=timestamp) != 0).sum()
        )
    return failed
