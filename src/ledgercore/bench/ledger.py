"""The ledger stage of `ledgercore bench`: signed transfers through `Ledger.submit`, end to end.

A ledger is created in a temporary directory (printed on stderr), accounts are registered, and
client-signed transfers are submitted in batches of 8,190 through `Ledger.submit_many`, which
checks the next batch's signatures while the current block is made and synced; each block is
acknowledged only once synced. Figures, each beside its baseline measured in the same run
(style guide, section 13):

- transfers/s end to end with every signature verified, with the share of each stage (decode,
  verify, apply, hash, Merkle, persist; "verify" is the wait for signatures the overlap did not
  hide), p50 and p99 latency of a batch (from reading it to its acknowledgement), and the ratio
  to the signature-verification ceiling (`verify_batch` alone on all cores over the same
  batches, timed right before each of five signed runs, each side by the CPU time it had: its
  wall time less the share a busy host took (steal, `ledgercore.bench.steal`); the median of
  the five pairs, the throughput of the best run; the JSON adds each pair, the ratio by wall
  time alone, and the ratio to verification alone as submit_many runs it, two batches at a
  time); the same with
  one `submit` call per batch, nothing overlapped; the baseline is a naive
  pipeline doing the same work in plain Python on a subset: PyNaCl verifying each signature,
  a dict-of-balances model, the `blake3` package for each leaf and the log's nodes, and rocksdict
  with one put per record and one synced WriteBatch per batch;
- the same with `verify_signatures=False`, beside the naive pipeline without PyNaCl;
- reopening the store (the restart cost: from the snapshot its close left, and again without
  it, applying every block), beside recomputing it from genesis (`verify_chain`);
  the JSON adds bytes on disk per transfer (the store, and the snapshot beside it) and proof
  generation and verification rates.

Signed traffic is cached under LEDGERCORE_BENCH_DIR (default: <tmp>/ledgercore-bench), so reruns
skip signing. Sizes: 163,800 transfers (20 batches) over 10,000 accounts owned by 256 keys;
`--full` 327,600 transfers (40 batches); `--quick` 16,380 transfers over 1,000 accounts, three
pairs instead of five, a naive baseline over 1,000 of them and 100 proofs, a few seconds
(`ledgercore bench --transfers N --accounts N --owner-keys N` to change). Twenty batches keep
each run long enough for a median of whole-run rates, and a first run signs every transfer once
(PyNaCl: a few seconds at the default size).

Example:
    >>> workload = signed_workload(transfer_count=100, account_count=10, cache=False)
    >>> len(workload.transfers), len(workload.accounts)
    (100, 10)
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import numpy

from ledgercore import records
from ledgercore.bench.steal import Span, Stopwatch
from ledgercore.snapshot import SNAPSHOT_FILE

GROUP = "ledger"
BATCH_SIZE = 8_190
QUICK_TRANSFER_COUNT = 2 * BATCH_SIZE
DEFAULT_TRANSFER_COUNT = 20 * BATCH_SIZE
FULL_TRANSFER_COUNT = 40 * BATCH_SIZE
QUICK_ACCOUNT_COUNT = 1_000
FULL_ACCOUNT_COUNT = 10_000
KEY_COUNT_MAX = 256
START_NS = 1_700_000_000 * 10**9
SEED = 2026
STAGES = ("decode", "verify", "apply", "hash", "merkle", "persist")
SIGNED_RUN_COUNT = 5
QUICK_SIGNED_RUN_COUNT = 3


@dataclass
class Workload:
    """Accounts (their owner keys as seeds) and signed transfers, ready to submit."""

    accounts: numpy.ndarray
    transfers: numpy.ndarray
    key_seeds: list[bytes]

    def batches(self, count: int | None = None) -> list[numpy.ndarray]:
        rows = self.transfers if count is None else self.transfers[:count]
        return [rows[start : start + BATCH_SIZE] for start in range(0, len(rows), BATCH_SIZE)]


BENCH_LEDGER_ID = b"ledgercore bench"
"""The bench's ledgers' id: fixed, so that the cached signed traffic stays valid across runs."""


def _cache_dir() -> str:
    return os.environ.get("LEDGERCORE_BENCH_DIR") or os.path.join(
        tempfile.gettempdir(), "ledgercore-bench"
    )


def signed_workload(
    *,
    transfer_count: int,
    account_count: int,
    key_count: int | None = None,
    cache: bool = True,
    progress: bool = False,
) -> Workload:
    """Accounts and signed single transfers between random pairs of them (seeded), cached.

    Args:
        transfer_count: transfers to make.
        account_count: accounts (at least 2).
        key_count: distinct owner keys, account n owned by key n mod key_count (default: as
            many as accounts, at most KEY_COUNT_MAX).
        cache: read and write the signed transfers under the bench directory.
        progress: show a progress bar while signing.

    Returns:
        A Workload.
    """
    from ledgercore.keys import SigningKey

    assert account_count >= 2
    if key_count is None:
        key_count = min(account_count, KEY_COUNT_MAX)
    assert 1 <= key_count <= account_count
    seeds = [
        SEED.to_bytes(4, "little") + index.to_bytes(28, "little") for index in range(key_count)
    ]
    keys = [SigningKey.from_seed(seed) for seed in seeds]
    owners = numpy.arange(account_count) % key_count
    accounts = numpy.zeros(account_count, records.ACCOUNT_DTYPE)
    accounts["id"][:, 0] = numpy.arange(1, account_count + 1)
    accounts["ledger"] = 1
    accounts["code"] = 1
    public = numpy.frombuffer(b"".join(key.public_key for key in keys), numpy.uint8)
    accounts["owner_key"] = public.reshape(key_count, 32)[owners]
    path = os.path.join(
        _cache_dir(),
        f"transfers-v{records.FORMAT_VERSION}-{records.SIGNING_PREFIX[-3:-1].decode()}-"
        f"{transfer_count}-{account_count}-{key_count}.npy",
    )
    if cache and os.path.exists(path):
        transfers = numpy.load(path, allow_pickle=False)
        if transfers.dtype == records.TRANSFER_DTYPE and len(transfers) == transfer_count:
            return Workload(accounts, transfers, seeds)
    rng = numpy.random.default_rng(SEED)
    transfers = numpy.zeros(transfer_count, records.TRANSFER_DTYPE)
    debit = rng.integers(0, account_count, transfer_count)
    credit = (debit + rng.integers(1, account_count, transfer_count)) % account_count
    transfers["id"][:, 0] = numpy.arange(1, transfer_count + 1)
    transfers["debit_account_id"][:, 0] = debit + 1
    transfers["credit_account_id"][:, 0] = credit + 1
    transfers["amount"][:, 0] = rng.integers(1, 1_000, transfer_count)
    transfers["ledger"] = 1
    transfers["code"] = 1
    _sign(transfers, keys, owners[debit], progress)
    if cache:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        numpy.save(path + ".tmp.npy", transfers, allow_pickle=False)
        os.replace(path + ".tmp.npy", path)
    return Workload(accounts, transfers, seeds)


def _sign(transfers: numpy.ndarray, keys: list[Any], signer: numpy.ndarray, progress: bool) -> None:
    from tqdm import tqdm

    messages = records.signing_bytes(transfers, BENCH_LEDGER_ID)
    with tqdm(total=len(transfers), unit="signature", disable=not progress, leave=False,
              desc="signing transfers", file=sys.stderr) as bar:  # fmt: skip
        for index, key in enumerate(keys):
            rows = numpy.flatnonzero(signer == index)
            if len(rows):
                transfers["signature"][rows] = key.sign_many(messages[rows])
                bar.update(len(rows))


# ---------------------------------------------------------------------------- ours


@dataclass
class LedgerRun:
    span: Span
    stage_seconds: dict[str, float]
    latencies: list[float]
    accepted: int
    ledger_path: str

    @property
    def seconds(self) -> float:
        """The run's wall time."""
        return self.span.wall_seconds


def _run_ledger(
    path: str, workload: Workload, *, verify_signatures: bool, pipelined: bool = True
) -> LedgerRun:
    """Submit the workload's batches, through submit_many (pipelined) or one submit each."""
    from ledgercore.ledger import Ledger

    stages = dict.fromkeys(STAGES, 0.0)
    latencies = []
    accepted = 0
    batches = workload.batches()
    clocks = [START_NS + (number + 1) * 10**9 for number in range(len(batches))]
    with Ledger.open(
        path, verify_signatures=verify_signatures, ledger_id=BENCH_LEDGER_ID
    ) as ledger:
        ledger.create_accounts(workload.accounts, timestamp_ns=START_NS)
        timings: list[dict[str, float]] = []
        watch = Stopwatch()
        if pipelined:
            for results, _ in ledger.submit_many(batches, timestamps_ns=clocks, timings=timings):
                accepted += int((results == 0).sum())
            latencies = [timing["latency"] for timing in timings]
        else:
            for batch, clock in zip(batches, clocks, strict=True):
                timing: dict[str, float] = {}
                submitted = time.perf_counter()
                results, _ = ledger.submit(batch, timestamp_ns=clock, timings=timing)
                latencies.append(time.perf_counter() - submitted)
                accepted += int((results == 0).sum())
                timings.append(timing)
        span = watch.stop()
    for timing in timings:
        for name in STAGES:
            stages[name] += timing.get(name, 0.0)
    return LedgerRun(span, stages, latencies, accepted, path)


def _shares(run: LedgerRun) -> dict[str, float]:
    total = sum(run.stage_seconds.values()) or 1.0
    return {name: run.stage_seconds[name] / total for name in STAGES}


def _share_text(run: LedgerRun) -> str:
    shares = _shares(run)
    return ", ".join(f"{name} {shares[name]:.0%}" for name in STAGES if shares[name] >= 0.005)


# ---------------------------------------------------------------------------- the baseline


def _naive_pipeline(path: str, workload: Workload, count: int, *, verify: bool) -> float:
    """Seconds for the naive pipeline over the first `count` transfers (see the module doc)."""
    import nacl.signing
    from blake3 import blake3
    from rocksdict import Options, Rdict, WriteBatch, WriteOptions

    from ledgercore.merkle_verify import LEAF_KEY, NODE_KEY

    options = Options(raw_mode=True)
    options.create_if_missing(True)
    db = Rdict(path, options)
    sync = WriteOptions()
    sync.sync = True
    verifiers = {}
    balances: dict[int, list[int]] = {}
    owners: dict[int, bytes] = {}
    for row in records.to_dicts(workload.accounts):
        balances[row["id"]] = [0, 0]
        owners[row["id"]] = row["owner_key"]
    subtrees: list[tuple[int, bytes]] = []
    prefix = records.SIGNING_PREFIX + BENCH_LEDGER_ID
    started = time.perf_counter()
    try:
        for batch in workload.batches(count):
            write = WriteBatch(raw_mode=True)
            touched = set()
            for raw, row in zip(
                (bytes(record) for record in batch.view(numpy.void)),
                records.to_dicts(batch),
                strict=True,
            ):
                if verify:
                    key = owners[row["debit_account_id"]]
                    verifier = verifiers.get(key) or verifiers.setdefault(
                        key, nacl.signing.VerifyKey(key)
                    )
                    verifier.verify(prefix + raw[: records.SIGNED_SIZE], row["signature"])
                debit, credit = row["debit_account_id"], row["credit_account_id"]
                if debit not in balances or credit not in balances or debit == credit:
                    continue
                balances[debit][0] += row["amount"]
                balances[credit][1] += row["amount"]
                touched.update((debit, credit))
                node = blake3(raw, key=LEAF_KEY).digest()
                level = 0
                while subtrees and subtrees[-1][0] == level:
                    node = blake3(subtrees.pop()[1] + node, key=NODE_KEY).digest()
                    level += 1
                subtrees.append((level, node))
                write.put(raw[:16], raw)
            for account_id in touched:
                debits, credits = balances[account_id]
                value = debits.to_bytes(16, "little") + credits.to_bytes(16, "little")
                write.put(account_id.to_bytes(16, "little"), value)
            db.write(write, sync)
        return time.perf_counter() - started
    finally:
        db.close()


def _ceiling(workload: Workload, *, lanes: int = 0) -> Span:
    """The span of `verify_batch` alone on all cores over every batch of the workload in turn
    (the signatures the ledger verifies, under keys decoded beforehand), timed over as long a
    stretch as the ledger's run. With lanes, the batches go through a VerificationQueue of that
    many lanes instead (as submit_many does)."""
    from ledgercore.ed25519 import VerificationQueue, decode_public_keys, verify_batch

    decoded = decode_public_keys(numpy.ascontiguousarray(workload.accounts["owner_key"]))
    prepared = []
    for batch in workload.batches():
        owners = batch["debit_account_id"][:, 0].astype(numpy.int64) - 1
        prepared.append(
            (
                decoded[owners],
                records.signing_bytes(batch, BENCH_LEDGER_ID),
                numpy.ascontiguousarray(batch["signature"]),
            )
        )
    count = 0
    watch = Stopwatch()
    if lanes:
        queue = VerificationQueue(lanes=lanes)
        pending = [queue.submit(*arguments) for arguments in prepared]
        count = sum(len(waiting.result()) for waiting in pending)
    else:
        for keys, messages, signatures in prepared:
            ok = verify_batch(keys, messages, signatures)
            count += len(ok)
    span = watch.stop()
    assert count == len(workload.transfers)
    return span


def _share(run: LedgerRun, ceiling: Span, signature_count: int, *, wall: bool = False) -> float:
    """The ledger's rate over the ceiling's, each over the CPU time it had (or its wall time)."""
    if wall:
        return (run.accepted / run.span.wall_seconds) / (signature_count / ceiling.wall_seconds)
    rate = run.accepted / run.span.available_seconds
    return rate / (signature_count / ceiling.available_seconds)


# ---------------------------------------------------------------------------- the stage


def _proof_rates(ledger: Any, transfer_count: int, count: int) -> tuple[float, float]:
    from ledgercore.proofcheck import check_transfer_proof

    ids = numpy.linspace(1, transfer_count, count, dtype=numpy.int64).tolist()
    started = time.perf_counter()
    texts = [ledger.prove_transfer(transfer_id).to_json() for transfer_id in ids]
    made = time.perf_counter()
    # As an outsider checks them: the JSON, against the head's hash, with the standalone file.
    head_hash = ledger.head().hash
    assert all(check_transfer_proof(text, head_hash) for text in texts)
    checked = time.perf_counter()
    return count / (made - started), count / (checked - made)


def run(ctx: Any) -> list:
    """The ledger figures (see the module docstring)."""
    from ledgercore.ledger import VERIFY_LANES, Ledger

    transfer_count = getattr(ctx, "ledger_transfers", None) or ctx.sized(
        quick=QUICK_TRANSFER_COUNT, default=DEFAULT_TRANSFER_COUNT, full=FULL_TRANSFER_COUNT
    )
    account_count = getattr(ctx, "ledger_accounts", None) or (
        QUICK_ACCOUNT_COUNT if ctx.quick else FULL_ACCOUNT_COUNT
    )
    key_count = getattr(ctx, "ledger_owner_keys", None)
    workload = signed_workload(
        transfer_count=transfer_count,
        account_count=account_count,
        key_count=key_count,
        progress=True,
    )
    key_count = len(workload.key_seeds)
    subset = min(transfer_count, 1_000 if ctx.quick else BATCH_SIZE)
    with tempfile.TemporaryDirectory(prefix="ledgercore-bench-") as directory:
        print(f"ledger bench: stores in {directory}", file=sys.stderr)
        # A shared machine's speed drifts by a fifth over seconds, and a busy host takes CPU
        # time from it (steal), so the share of the ceiling is measured in pairs: each signed
        # run right after the ceiling, over the same batches, each side timed by the CPU time
        # it had (wall time less the stolen share), and the median pair reported. Other runs
        # go between the pairs.
        pairs: list[tuple[LedgerRun, Span, Span]] = []
        signed: LedgerRun | None = None
        run_count = QUICK_SIGNED_RUN_COUNT if ctx.quick else SIGNED_RUN_COUNT
        for number in range(run_count):
            ceiling = _ceiling(workload)
            ceiling_lanes = _ceiling(workload, lanes=VERIFY_LANES)
            run = _run_ledger(f"{directory}/signed-{number}", workload, verify_signatures=True)
            pairs.append((run, ceiling, ceiling_lanes))
            # Only the fastest run's store is reopened below: the others are removed at once,
            # so the runs after them do not write beside hundreds of megabytes of stale files.
            stale = run
            if signed is None or run.accepted / run.seconds > signed.accepted / signed.seconds:
                stale, signed = signed, run
            if stale is not None:
                shutil.rmtree(stale.ledger_path)
            if number == 0:
                one_by_one = _run_ledger(
                    directory + "/one-by-one", workload, verify_signatures=True, pipelined=False
                )
                unsigned = _run_ledger(directory + "/unsigned", workload, verify_signatures=False)
                naive = _naive_pipeline(directory + "/naive", workload, subset, verify=True)
                naive_unsigned = _naive_pipeline(
                    directory + "/naive-u", workload, subset, verify=False
                )
                for name in ("one-by-one", "unsigned", "naive", "naive-u"):
                    shutil.rmtree(os.path.join(directory, name))
        signed_count = len(workload.transfers)
        shares = sorted(_share(run, ceiling, signed_count) for run, ceiling, _ in pairs)
        shares_lanes = sorted(_share(run, lanes, signed_count) for run, _, lanes in pairs)
        shares_wall = sorted(
            _share(run, ceiling, signed_count, wall=True) for run, ceiling, _ in pairs
        )
        ceiling = statistics.median(span.available_seconds / signed_count for _, span, _ in pairs)
        ceiling_lanes = statistics.median(
            span.available_seconds / signed_count for _, _, span in pairs
        )
        stolen = statistics.median(
            span.stolen_share for pair in pairs for span in (pair[0].span, pair[1])
        )
        assert signed is not None
        started = time.perf_counter()
        with Ledger.open(signed.ledger_path, read_only=True) as ledger:
            reopen = time.perf_counter() - started
            assert ledger.opened_from == "snapshot", ledger.snapshot_status
            snapshot_size = os.path.getsize(os.path.join(signed.ledger_path, SNAPSHOT_FILE))
            disk = ledger.disk_size() - snapshot_size
            proofs_made, proofs_checked = _proof_rates(
                ledger, transfer_count, 100 if ctx.quick else 200
            )
            report = ledger.verify_chain(progress=False)
            assert report.ok, str(report)
        # The same store without its snapshot: every block applied again.
        os.remove(os.path.join(signed.ledger_path, SNAPSHOT_FILE))
        started = time.perf_counter()
        with Ledger.open(signed.ledger_path, read_only=True) as ledger:
            replay = time.perf_counter() - started
            assert ledger.opened_from == "blocks"
    latencies = numpy.array(signed.latencies) * 1e3
    common = dict(
        batch_size=BATCH_SIZE,
        account_count=account_count,
        owner_key_count=key_count,
        naive_subset=subset,
    )
    return [
        ctx.result(
            group=GROUP,
            operation=f"submit_many, signed, durable ({_share_text(signed)})",
            items=signed.accepted,
            seconds=signed.seconds,
            baseline="naive: PyNaCl loop, Python model, blake3 pkg, a put per record",
            baseline_seconds=naive,
            baseline_items=subset,
            stage_shares=_shares(signed),
            batch_latency_p50_ms=float(numpy.percentile(latencies, 50)),
            batch_latency_p99_ms=float(numpy.percentile(latencies, 99)),
            signature_ceiling_per_second=1 / ceiling,
            share_of_signature_ceiling=statistics.median(shares),
            share_of_signature_ceiling_pairs=shares,
            share_of_signature_ceiling_wall=statistics.median(shares_wall),
            share_of_signature_ceiling_wall_pairs=shares_wall,
            cpu_time_stolen_share=stolen,
            signature_ceiling_lanes_per_second=1 / ceiling_lanes,
            share_of_signature_ceiling_lanes=statistics.median(shares_lanes),
            share_of_signature_ceiling_lanes_pairs=shares_lanes,
            disk_bytes_per_transfer=disk / transfer_count,
            snapshot_bytes_per_transfer=snapshot_size / transfer_count,
            proofs_made_per_second=proofs_made,
            proofs_verified_per_second=proofs_checked,
            **common,
        ),
        ctx.result(
            group=GROUP,
            operation=f"submit, signed, one call per batch ({_share_text(one_by_one)})",
            items=one_by_one.accepted,
            seconds=one_by_one.seconds,
            baseline="naive: PyNaCl loop, Python model, blake3 pkg, a put per record",
            baseline_seconds=naive,
            baseline_items=subset,
            stage_shares=_shares(one_by_one),
            batch_latency_p50_ms=float(numpy.percentile(one_by_one.latencies, 50)) * 1e3,
            batch_latency_p99_ms=float(numpy.percentile(one_by_one.latencies, 99)) * 1e3,
            share_of_signature_ceiling=(
                one_by_one.accepted / one_by_one.span.available_seconds * ceiling
            ),
            **common,
        ),
        ctx.result(
            group=GROUP,
            operation=f"submit_many, verify_signatures=False, durable ({_share_text(unsigned)})",
            items=unsigned.accepted,
            seconds=unsigned.seconds,
            baseline="naive without PyNaCl: Python model, blake3 pkg, a put per record",
            baseline_seconds=naive_unsigned,
            baseline_items=subset,
            stage_shares=_shares(unsigned),
            batch_latency_p50_ms=float(numpy.percentile(numpy.array(unsigned.latencies), 50)) * 1e3,
            batch_latency_p99_ms=float(numpy.percentile(numpy.array(unsigned.latencies), 99)) * 1e3,
            **common,
        ),
        *(
            ctx.result(
                group=GROUP,
                operation=f"reopen a store of {transfer_count:,} transfers, {how}",
                items=transfer_count,
                seconds=seconds,
                baseline="verify_chain: recompute it from genesis, signatures included",
                baseline_seconds=report.seconds,
                baseline_items=transfer_count,
                **common,
            )
            for how, seconds in (("from its snapshot", reopen), ("applying its blocks", replay))
        ),
    ]
