"""The engine stage of `ledgercore bench`: validate+apply throughput against the Python model.

Every figure is timed beside its baseline in the same run (style guide, section 13):

- validate+apply, signatures already checked: 1,000,000 transfers in batches of 8,190 over
  100,000 accounts, with a realistic mix (80% single transfers, 10% pending then posted or
  voided, 10% in linked chains of three, 1% failing), one core; the baseline is the plain-Python
  reference model of the same rules (ledgercore.bench.model, the one the tests trust) on the
  first batches of the same workload, as a per-transfer rate;
- memory per account and per transfer, from the engine's own accounting after that run;
- submit with signature verification on every core, the share of each stage (gathering owner
  keys, verifying, validate+apply); the baseline is PyNaCl verifying each signature in a Python
  loop, then the model applying the batch.

Quick mode (`ctx.quick`) runs 81,900 transfers (10 batches) over 100,000 accounts, best of two,
and one signed batch, in a second or two; the default and `--full` the 1,000,000.

Example:
    >>> from ledgercore.bench.engine import realistic_workload
    >>> workload = realistic_workload(transfer_count=16_380, account_count=1_000, seed=1)
    >>> len(workload.batches), len(workload.batches[0])
    (2, 8190)
    >>> from ledgercore.engine import DEFAULT_LEDGER_ID, Engine
    >>> engine = workload.engine()
    >>> results = [engine.submit(b, verify_signatures=False, timestamp_ns=t)
    ...            for b, t in zip(workload.batches, workload.timestamps)]
    >>> sum(int((r != 0).sum()) for r in results) == workload.failing_count
    True
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy

from ledgercore import records
from ledgercore.bench import model as reference_model
from ledgercore.engine import DEFAULT_LEDGER_ID, Engine
from ledgercore.records import AccountFlags, TransferFlags

GROUP = "engine"
BATCH_SIZE = 8_190
FULL_TRANSFER_COUNT = 1_000_000
QUICK_TRANSFER_COUNT = 81_900
ACCOUNT_COUNT = 100_000
CHAIN_LENGTH = 3
OWNER_KEY_COUNT = 256
S = 1_000_000_000
START_NS = 1_700_000_000 * S
BATCH_INTERVAL_NS = 1_000_000

# Accounts [1, EMPTY_ACCOUNTS] may not overdraw and are never funded: debits from them fail.
EMPTY_ACCOUNTS = 1_000
UNKNOWN_ACCOUNT = 2**100


@dataclass
class Workload:
    """Accounts, transfer batches and each batch's clock, with the number of failing transfers."""

    accounts: numpy.ndarray
    batches: list[numpy.ndarray]
    timestamps: list[int]
    failing_count: int
    owner_seeds: list[bytes] = field(default_factory=list)

    @property
    def transfer_count(self) -> int:
        return sum(len(batch) for batch in self.batches)

    def engine(self) -> Engine:
        """A fresh engine holding the workload's accounts."""
        engine = Engine()
        for start in range(0, len(self.accounts), 65_536):
            chunk = self.accounts[start : start + 65_536]
            results = engine.create_accounts(chunk, timestamp_ns=START_NS - S)
            assert not results.any()
        return engine


def _owner_keys(count: int) -> tuple[list[bytes], numpy.ndarray]:
    from ledgercore.keys import SigningKey

    seeds = [bytes([n % 256, n // 256]) * 16 for n in range(count)]
    keys = numpy.array(
        [numpy.frombuffer(SigningKey.from_seed(seed).public_key, numpy.uint8) for seed in seeds]
    )
    return seeds, keys


def _accounts(account_count: int, owner_keys: numpy.ndarray) -> numpy.ndarray:
    accounts = numpy.zeros(account_count, dtype=records.ACCOUNT_DTYPE)
    accounts["id"][:, 0] = numpy.arange(1, account_count + 1)
    accounts["ledger"] = 1
    accounts["code"] = 1
    accounts["owner_key"] = owner_keys[numpy.arange(account_count) % len(owner_keys)]
    empty = min(EMPTY_ACCOUNTS, account_count // 10)
    accounts["flags"][:empty] = AccountFlags.debits_must_not_exceed_credits
    return accounts


def _batch_kinds(rng: numpy.random.Generator, size: int, first: bool) -> numpy.ndarray:
    """Per row: 0 single, 1 pending, 2 post or void, 3 chain member, 4 failing."""
    chained = int(size * 0.10) // CHAIN_LENGTH
    pending = int(size * 0.05)
    resolving = 0 if first else pending
    failing = int(size * 0.01)
    single = size - chained * CHAIN_LENGTH - pending - resolving - failing
    units = numpy.array(
        [0] * single + [1] * pending + [2] * resolving + [4] * failing + [3] * chained
    )
    rng.shuffle(units)
    # A chain unit stands for CHAIN_LENGTH consecutive rows.
    return numpy.repeat(units, numpy.where(units == 3, CHAIN_LENGTH, 1))


def realistic_workload(
    *,
    transfer_count: int = FULL_TRANSFER_COUNT,
    account_count: int = ACCOUNT_COUNT,
    batch_size: int = BATCH_SIZE,
    seed: int = 0,
) -> Workload:
    """The realistic mix, batch by batch; the pending transfers of a batch are resolved in the next.

    Args:
        transfer_count: total transfers; the last batch holds what is left over.
        account_count: accounts (ids 1..account_count); the first tenth (at most 1,000) may not
            overdraw and are never funded.
        batch_size: transfers per batch.
        seed: for the random choices.

    Returns:
        A Workload; `failing_count` transfers fail (exceeds_credits, account_not_found).

    Example:
        >>> w = realistic_workload(transfer_count=8_190, account_count=100)
        >>> w.transfer_count, len(w.accounts)
        (8190, 100)
    """
    sizes = [batch_size] * (transfer_count // batch_size)
    if transfer_count % batch_size:
        sizes.append(transfer_count % batch_size)
    rng = numpy.random.default_rng(seed)
    seeds, owner_keys = _owner_keys(min(OWNER_KEY_COUNT, account_count))
    accounts = _accounts(account_count, owner_keys)
    empty = min(EMPTY_ACCOUNTS, account_count // 10)
    batches, timestamps = [], []
    failing_count = 0
    next_id = 1
    previous_pending = numpy.zeros(0, dtype=records.TRANSFER_DTYPE)
    for number, size in enumerate(sizes):
        kinds = _batch_kinds(rng, size, first=number == 0)
        batch = numpy.zeros(size, dtype=records.TRANSFER_DTYPE)
        batch["id"][:, 0] = numpy.arange(next_id, next_id + size)
        next_id += size
        debit = rng.integers(empty + 1, account_count + 1, size)
        credit = (
            (debit - empty + rng.integers(0, account_count - empty - 1, size))
            % (account_count - empty)
            + empty
            + 1
        )
        credit = numpy.where(
            credit == debit, (credit - empty) % (account_count - empty) + empty + 1, credit
        )
        batch["debit_account_id"][:, 0] = debit
        batch["credit_account_id"][:, 0] = credit
        batch["amount"][:, 0] = rng.integers(1, 10_000, size)
        batch["ledger"] = 1
        batch["code"] = 1
        pending_rows = numpy.flatnonzero(kinds == 1)
        batch["flags"][pending_rows] = TransferFlags.pending
        batch["timeout_s"][pending_rows[::2]] = 3_600
        # Chains: every member but the last of each run of CHAIN_LENGTH is linked.
        chain_rows = numpy.flatnonzero(kinds == 3)
        linked = chain_rows.reshape(-1, CHAIN_LENGTH)[:, :-1].ravel()
        batch["flags"][linked] = TransferFlags.linked
        # Resolutions name the previous batch's pending transfers, with the same accounts.
        resolve_rows = numpy.flatnonzero(kinds == 2)
        resolved = previous_pending[: len(resolve_rows)]
        for name in ("debit_account_id", "credit_account_id", "ledger", "code"):
            batch[name][resolve_rows] = resolved[name]
        batch["pending_id"][resolve_rows] = resolved["id"]
        post = rng.random(len(resolve_rows)) < 0.8
        batch["flags"][resolve_rows] = numpy.where(
            post, TransferFlags.post_pending, TransferFlags.void_pending
        )
        amounts = batch["amount"][resolve_rows]
        amounts[:, 0] = numpy.where(post, resolved["amount"][:, 0] // 2, 0)
        amounts[::3] = numpy.where(post[::3, None], numpy.uint64(2**64 - 1), amounts[::3])
        batch["amount"][resolve_rows] = amounts
        # Failing: half overdraw an empty account, half credit an unknown one.
        failing_rows = numpy.flatnonzero(kinds == 4)
        batch["debit_account_id"][failing_rows[::2], 0] = rng.integers(
            1, empty + 1, len(failing_rows[::2])
        )
        batch["credit_account_id"][failing_rows[1::2]] = records.lanes(UNKNOWN_ACCOUNT)
        failing_count += len(failing_rows)
        previous_pending = batch[pending_rows]
        batches.append(batch)
        timestamps.append(START_NS + number * BATCH_INTERVAL_NS)
    # A full post is AMOUNT_MAX; rows [::3] set the low lane only, so finish the high lane.
    for batch in batches:
        full = (batch["amount"][:, 0] == 2**64 - 1) & (
            (batch["flags"] & TransferFlags.post_pending) != 0
        )
        batch["amount"][full, 1] = 2**64 - 1
    return Workload(accounts, batches, timestamps, failing_count, seeds)


def sign_workload(
    workload: Workload, batch_count: int, first: int = 0, row_count: int | None = None
) -> list[numpy.ndarray]:
    """Copies of batch_count batches from `first` on (of each, its first row_count rows when
    given), each transfer signed by its debit owner."""
    from ledgercore.keys import SigningKey

    keys = [SigningKey.from_seed(seed) for seed in workload.owner_seeds]
    signed = []
    for batch in workload.batches[first : first + batch_count]:
        batch = batch[:row_count].copy()
        messages = records.signing_bytes(batch, DEFAULT_LEDGER_ID)
        debit = batch["debit_account_id"][:, 0].astype(numpy.int64)
        owner = numpy.where(debit <= len(workload.accounts), (debit - 1) % len(keys), -1)
        for index, key in enumerate(keys):
            rows = numpy.flatnonzero(owner == index)
            if len(rows):
                batch["signature"][rows] = key.sign_many(messages[rows])
        signed.append(batch)
    return signed


def apply_all(engine: Engine, workload: Workload) -> int:
    """Submit every batch (signatures already checked); returns how many transfers failed."""
    failed = 0
    for batch, timestamp in zip(workload.batches, workload.timestamps, strict=True):
        failed += int(
            numpy.count_nonzero(
                engine.submit(batch, verify_signatures=False, timestamp_ns=timestamp)
            )
        )
    return failed


def _model_with_accounts(workload: Workload, batch_count: int) -> reference_model.Model:
    """The model holding the accounts that the first batch_count batches name: the only ones
    its rules will read, so its answers are the engine's. Turning all 100,000 accounts into
    dicts took a third of a quick run's engine stage and changed no figure (the model's
    lookups are dict lookups, as fast in a dict of 16,000 as in one of 100,000)."""
    named = numpy.concatenate(
        [
            batch[side]
            for batch in workload.batches[:batch_count]
            for side in ("debit_account_id", "credit_account_id")
        ]
    )
    # Account ids are 1..count, in the row order of workload.accounts; others name no account.
    low = named[:, 0]
    exists = (named[:, 1] == 0) & (low >= 1) & (low <= len(workload.accounts))
    rows = numpy.unique(low[exists]).astype(numpy.int64) - 1
    account_rows = records.to_dicts(workload.accounts[rows])
    model = reference_model.Model()
    model.create_accounts(account_rows, [True] * len(account_rows), START_NS - S)
    return model


def _model_rate(model: reference_model.Model, workload: Workload, batch_count: int) -> tuple:
    """Wall-clock seconds, thread CPU seconds and transfers for the model on the first
    batch_count batches."""
    items = 0
    started, started_cpu = time.perf_counter(), time.thread_time()
    for batch, timestamp in zip(workload.batches[:batch_count], workload.timestamps, strict=False):
        reference_model.submit_array(model, batch, None, timestamp)
        items += len(batch)
    return time.perf_counter() - started, time.thread_time() - started_cpu, items


def _best_apply(workload: Workload, repeat: int) -> tuple[float, float, Engine]:
    """Best wall-clock and thread CPU seconds of validate+apply, each from a fresh engine."""
    best, best_cpu, engine = float("inf"), float("inf"), None
    for _ in range(repeat):
        engine = workload.engine()
        started, started_cpu = time.perf_counter(), time.thread_time()
        failed = apply_all(engine, workload)
        best_cpu = min(best_cpu, time.thread_time() - started_cpu)
        best = min(best, time.perf_counter() - started)
        assert failed == workload.failing_count, (failed, workload.failing_count)
    assert engine is not None
    return best, best_cpu, engine


def run(ctx: Any) -> list:
    """Time the engine figures beside the model baseline; returns ctx.result(...) records."""
    transfer_count = QUICK_TRANSFER_COUNT if ctx.quick else FULL_TRANSFER_COUNT
    workload = realistic_workload(transfer_count=transfer_count)
    results = []
    model_batches = 1 if ctx.quick else 3
    # The signed baseline goes on with the batch after the model's.
    model = _model_with_accounts(workload, model_batches + 1)
    model_seconds, model_cpu_seconds, model_items = _model_rate(model, workload, model_batches)
    empty = Engine()
    empty_size = empty.memory_size
    accounts_engine = workload.engine()
    account_bytes = (accounts_engine.memory_size - empty_size) / len(workload.accounts)
    seconds, cpu_seconds, engine = _best_apply(workload, 2 if ctx.quick else 3)
    transfer_bytes = (engine.memory_size - accounts_engine.memory_size) / engine.transfer_count
    common = {
        "group": GROUP,
        "baseline": "the plain-Python model of the same rules (bench.model), on a subset",
        "baseline_seconds": model_seconds,
        "baseline_items": model_items,
    }
    results.append(
        ctx.result(
            operation=(
                f"validate+apply, {len(workload.batches)} batches of {BATCH_SIZE} over "
                f"{len(workload.accounts)} accounts, realistic mix, one core"
            ),
            items=workload.transfer_count,
            seconds=seconds,
            threads=1,
            # On a shared machine wall-clock time counts other jobs too; the thread's CPU time
            # (the native pass runs on the calling thread) does not.
            cpu_seconds=cpu_seconds,
            items_per_cpu_second=round(workload.transfer_count / cpu_seconds),
            baseline_cpu_seconds=model_cpu_seconds,
            ratio_cpu=round(
                (workload.transfer_count / cpu_seconds) / (model_items / model_cpu_seconds), 1
            ),
            memory_per_account_bytes=round(account_bytes, 1),
            memory_per_transfer_bytes=round(transfer_bytes, 1),
            **common,
        )
    )
    results.extend(_signed_results(ctx, workload, model, model_batches))
    return results


def _signed_results(
    ctx: Any, workload: Workload, model: reference_model.Model, model_batches: int
) -> list:
    """submit with verification on every core, stage shares, against PyNaCl + the model.

    The baseline goes on where `model` stopped: the next batch, signed, its first 2,000 rows."""
    import nacl.exceptions
    import nacl.signing

    batch_count = 1 if ctx.quick else 8
    signed = sign_workload(workload, batch_count)
    items = sum(len(batch) for batch in signed)
    best, stages = float("inf"), {}
    for _ in range(1 if ctx.quick else 2):
        engine = workload.engine()
        totals = {"gather": 0.0, "verify": 0.0, "apply": 0.0}
        started = time.perf_counter()
        for batch, timestamp in zip(signed, workload.timestamps, strict=False):
            timings: dict[str, float] = {}
            results = engine.submit(batch, timestamp_ns=timestamp, timings=timings)
            # Signed for the engine's ledger: a bad signature here would time the refusals.
            assert not (results == records.TransferResult.bad_signature).any()
            for name in totals:
                totals[name] += timings[name]
        elapsed = time.perf_counter() - started
        if elapsed < best:
            best, stages = elapsed, totals
    # Baseline: PyNaCl checks each signature in a Python loop, then the model applies the batch.
    subset = sign_workload(workload, 1, first=model_batches, row_count=2_000)[0]
    # Account n is owned by key (n - 1) mod the key count: the first rows hold every key.
    verify_keys = {
        key.tobytes(): nacl.signing.VerifyKey(key.tobytes())
        for key in workload.accounts["owner_key"][: len(workload.owner_seeds)]
    }
    debits = subset["debit_account_id"]
    exists = (debits[:, 1] == 0) & (debits[:, 0] >= 1) & (debits[:, 0] <= len(workload.accounts))
    known = numpy.unique(debits[exists, 0]).astype(numpy.int64)
    owner_of = {
        int(account_id): workload.accounts["owner_key"][account_id - 1].tobytes()
        for account_id in known
    }
    messages = records.signing_bytes(subset, DEFAULT_LEDGER_ID)
    started = time.perf_counter()
    marks = []
    for row, message in zip(subset, messages, strict=True):
        owner = owner_of.get(records.u128(row["debit_account_id"]))
        if owner is None:
            marks.append(reference_model.SIGNATURE_UNCHECKED)
            continue
        try:
            verify_keys[owner].verify(message.tobytes(), row["signature"].tobytes())
            marks.append(reference_model.SIGNATURE_GOOD)
        except nacl.exceptions.BadSignatureError:
            marks.append(reference_model.SIGNATURE_BAD)
    reference_model.submit_array(model, subset, marks, workload.timestamps[model_batches])
    baseline_seconds = time.perf_counter() - started
    total = sum(stages.values()) or 1.0
    return [
        ctx.result(
            group=GROUP,
            operation=(
                f"submit with signature verification, {batch_count} "
                f"batch{'es' * (batch_count > 1)} of {BATCH_SIZE}"
            ),
            items=items,
            seconds=best,
            baseline="PyNaCl verify in a Python loop, then the Python model",
            baseline_seconds=baseline_seconds,
            baseline_items=len(subset),
            threads=_thread_count(),
            share_gather=round(stages["gather"] / total, 3),
            share_verify=round(stages["verify"] / total, 3),
            share_apply=round(stages["apply"] / total, 3),
        )
    ]


def _thread_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
