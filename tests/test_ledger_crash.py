"""Crash safety: a writer killed with SIGKILL at random moments never loses an acknowledged block.

A child process streams signed batches into one store and prints each block it was given back
(height and hash) only after `submit` returned (or `submit_many` yielded it), that is after the
block was synced. The parent
kills it at a random moment, reopens the store and checks: every block the child reported is
there with the same hash, the whole chain verifies from genesis, and money is conserved. The
next child continues the same store, so recovery is exercised on a growing ledger.

Kills: LEDGERCORE_CRASH_KILLS if set, else 50 in CI (CI=true), else 5.
"""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time

import ledgercore
from ledgercore.ledger import Ledger

CHILD = """
import sys
sys.path[:0] = sys.argv[3:]
from ledger_traffic import Traffic
from ledgercore.ledger import Ledger
seed = int(sys.argv[2])
traffic = Traffic(12, seed=seed, first_id=seed * 10**9)
ledger = Ledger.open(sys.argv[1])
if ledger.head().height == 0:
    ledger.create_accounts(traffic.accounts())
print("READY", flush=True)
def endless():
    while True:
        yield traffic.batch(64)
# Odd seeds stream through submit_many, whose verification runs ahead of the block being synced.
blocks = ledger.submit_many(endless()) if seed % 2 else (ledger.submit(b) for b in endless())
for results, header in blocks:
    if header is not None:
        print("ACK", header.height, header.hash.hex(), flush=True)
"""


def kill_count() -> int:
    if "LEDGERCORE_CRASH_KILLS" in os.environ:
        return int(os.environ["LEDGERCORE_CRASH_KILLS"])
    return 50 if os.environ.get("CI") == "true" else 5


def run_and_kill(path: str, seed: int, rng: random.Random) -> dict[int, str]:
    """Start a writer, let it acknowledge a few blocks, SIGKILL it; return what it acknowledged."""
    here = os.path.dirname(os.path.abspath(__file__))
    # The child imports the very ledgercore this process runs: an installed wheel, or src/.
    source = os.path.dirname(os.path.dirname(os.path.abspath(ledgercore.__file__)))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, path, str(seed), here, source],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None
    output = b""
    try:
        # Wait until it is writing, then a random moment more (mostly mid-batch or mid-sync).
        while b"READY" not in output:
            ready, _, _ = select.select([child.stdout], [], [], 60)
            chunk = os.read(child.stdout.fileno(), 65536) if ready else b""
            if not chunk:
                raise AssertionError(f"the writer ended early: {child.stderr.read().decode()}")
            output += chunk
        time.sleep(rng.uniform(0.0, 0.25))
    finally:
        child.send_signal(signal.SIGKILL)
        rest, errors = child.communicate()
    output += rest
    assert child.returncode == -signal.SIGKILL, errors.decode()
    acknowledged = {}
    for line in output.decode().splitlines():
        if line.startswith("ACK "):
            _, height, block_hash = line.split()
            acknowledged[int(height)] = block_hash
    return acknowledged


def test_sigkill_at_random_moments_loses_no_acknowledged_block(tmp_path):
    path = str(tmp_path / "ledger")
    rng = random.Random(7)
    everything: dict[int, str] = {}
    blocks_seen = 0
    for kill in range(kill_count()):
        acknowledged = run_and_kill(path, seed=kill + 1, rng=rng)
        for height, block_hash in acknowledged.items():
            assert everything.setdefault(height, block_hash) == block_hash
        with Ledger.open(path) as ledger:
            head = ledger.head()
            assert head.height >= max(everything, default=0), f"kill {kill}: blocks lost"
            for height, block_hash in everything.items():
                assert ledger.block(height).hash.hex() == block_hash, f"kill {kill}: {height}"
            report = ledger.verify_chain(progress=False)
            assert report.ok, f"kill {kill}: {report}"
            ledger.check_invariants()
            # Blocks past the last acknowledged one were synced but not yet reported: keep them
            # as the truth from now on, as a client that retried would see them.
            for height in range(1, head.height + 1):
                everything.setdefault(height, ledger.block(height).hash.hex())
            blocks_seen = head.height
    assert blocks_seen > 0
