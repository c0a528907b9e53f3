"""The golden scenario: one ledger built from fixed keys, accounts and transfers, whose block
hashes, log roots and state roots are stored in golden_ledger.json and must come out the same on
every run and every architecture.

Every choice comes from one BLAKE3 output stream, so no random generator's version matters:
24 accounts on two ledgers (some with balance limits), then BLOCK_COUNT blocks of one to six
signed transfers each: plain ones, two-phase ones that are posted, voided or left to expire,
linked pairs, and transfers that break a rule (limits exceeded, unknown pending ids). The clock
advances one second a block.

Regenerate the data file (only on purpose, with the reason in the commit):
    PYTHONPATH=src python tests/golden/scenario.py --write
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import blake3 as reference
import numpy

from ledgercore import records
from ledgercore.keys import SigningKey
from ledgercore.ledger import Ledger
from ledgercore.records import AccountFlags as AF
from ledgercore.records import TransferFlags as TF

DATA = Path(__file__).resolve().parent / "golden_ledger.json"
BLOCK_COUNT = 2_000
CHECKPOINT_EVERY = 100
START_NS = 1_800_000_000 * 1_000_000_000
OWNERS = [SigningKey.from_seed((b"golden owner %02d" % i).ljust(32, b".")) for i in range(6)]
ACCOUNT_COUNT = 24


class Stream:
    """Unsigned integers read in order from BLAKE3's extended output of a fixed seed."""

    def __init__(self, seed: bytes) -> None:
        self.hasher = reference.blake3(seed)
        self.position = 0

    def below(self, bound: int) -> int:
        word = self.hasher.digest(length=4, seek=self.position)
        self.position += 4
        return int.from_bytes(word, "little") % bound


def account_rows() -> list[dict]:
    rows = []
    for account_id in range(1, ACCOUNT_COUNT + 1):
        ledger = 1 if account_id <= 16 else 2
        flags = 0
        if account_id in (5, 6, 7, 8, 20):
            flags = AF.debits_must_not_exceed_credits
        elif account_id in (9, 10):
            flags = AF.credits_must_not_exceed_debits
        rows.append(
            dict(
                id=account_id,
                ledger=ledger,
                code=10 + account_id % 3,
                flags=flags,
                owner_key=OWNERS[account_id % len(OWNERS)].public_key,
            )
        )
    return rows


def transfer_rows(stream: Stream, first_id: int, pending_ids: list[dict]) -> list[dict]:
    """One block's transfers; new reservations are appended to pending_ids."""
    rows: list[dict] = []
    count = 1 + stream.below(6)
    while len(rows) < count:
        ledger = 1 if stream.below(4) else 2
        low, high = (1, 16) if ledger == 1 else (17, 24)
        debit = low + stream.below(high - low + 1)
        credit = low + stream.below(high - low + 1)
        row = dict(
            id=first_id + len(rows),
            debit_account_id=debit,
            credit_account_id=credit,
            amount=1 + stream.below(5_000),
            ledger=ledger,
            code=1 + stream.below(3),
        )
        kind = stream.below(20)
        if kind < 3:  # two-phase: reserve now, with a timeout of 0 (none) to 40 s
            row.update(flags=TF.pending, timeout_s=stream.below(41))
            pending_ids.append(row)
        elif kind < 5 and pending_ids:  # post or void an earlier reservation, maybe a used one
            pending = pending_ids[stream.below(len(pending_ids))]
            flag = TF.post_pending if stream.below(3) else TF.void_pending
            row.update(flags=flag, pending_id=pending["id"], amount=0)
            if stream.below(8):  # mostly the reservation's own accounts; else a mismatch
                for name in ("debit_account_id", "credit_account_id", "ledger", "code"):
                    row[name] = pending[name]
        elif kind == 5:  # a transfer that names a reservation that never existed
            row.update(flags=TF.void_pending, pending_id=10**12 + row["id"], amount=0)
        elif kind < 8 and len(rows) + 1 < count:  # a linked pair: both apply or neither
            row.update(flags=TF.linked)
        rows.append(row)
    if rows[-1].get("flags") == TF.linked:
        rows[-1]["flags"] = 0  # a chain never stays open at the end of a batch
    return rows


LEDGER_ID = b"golden scenario!"
"""The scenario's ledger id, fixed (a ledger of its own draws a random one)."""


def signed(rows: list[dict]) -> numpy.ndarray:
    batch = records.transfers(rows)
    message = records.signing_bytes(batch, LEDGER_ID)
    owner_of = {row["id"]: OWNERS[row["id"] % len(OWNERS)] for row in account_rows()}
    for i, row in enumerate(rows):
        owner = owner_of[row["debit_account_id"]]
        batch["signature"][i] = numpy.frombuffer(owner.sign(message[i].tobytes()), numpy.uint8)
    return batch


def run(directory: str) -> dict:
    """Build the scenario's ledger in directory; its checkpoints and digests."""
    stream = Stream(b"ledgercore golden scenario v1")
    headers = []
    results_digest = reference.blake3()
    # The scenario's clock lies ahead of today's (its blocks must not depend on the day it runs).
    with Ledger.open(directory + "/golden", clock_ahead_max_ns=None, ledger_id=LEDGER_ID) as ledger:
        rows = account_rows()
        for first, part in ((0, rows[:12]), (12, rows[12:])):
            # Each account takes a timestamp: the second block's clock is one past the first's
            # last.
            results, header = ledger.create_accounts(
                records.accounts(part), timestamp_ns=START_NS + first
            )
            assert results.tolist() == [0] * len(part)
            headers.append(header)
        next_id, pending_ids = 1, []  # every reservation made so far, accepted or not
        for block in range(BLOCK_COUNT):
            rows = transfer_rows(stream, next_id, pending_ids)
            next_id += len(rows)
            results, header = ledger.submit(
                signed(rows), timestamp_ns=START_NS + (block + 1) * 1_000_000_000
            )
            results_digest.update(numpy.ascontiguousarray(results).tobytes())
            if header is not None:
                headers.append(header)
        totals = ledger.check_invariants()
        balances = ledger.balances(list(range(1, ACCOUNT_COUNT + 1)))
    return summarize(headers, results_digest.hexdigest(), totals, balances)


def summarize(headers: list, results_digest: str, totals: dict, balances) -> dict:
    chain = reference.blake3()
    checkpoints = []
    for header in headers:
        chain.update(header.hash + header.log_root + header.state_root)
        if header.height % CHECKPOINT_EVERY == 0 or header is headers[-1]:
            checkpoints.append(
                dict(
                    height=header.height,
                    block_hash=header.hash.hex(),
                    log_size=header.log_size,
                    log_root=header.log_root.hex(),
                    state_root=header.state_root.hex(),
                )
            )
    return dict(
        block_count=len(headers),
        checkpoints=checkpoints,
        every_block_digest=chain.hexdigest(),
        results_digest=results_digest,
        balances_digest=reference.blake3(numpy.ascontiguousarray(balances).tobytes()).hexdigest(),
        ledger_totals={str(key): [str(value) for value in row] for key, row in totals.items()},
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        summary = run(directory)
    text = json.dumps(summary, indent=1, sort_keys=True) + "\n"
    if "--write" in sys.argv[1:]:
        DATA.write_text(text)
        print(f"wrote {DATA}")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
