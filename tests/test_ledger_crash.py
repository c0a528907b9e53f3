"""Crash safety: a writer killed with SIGKILL at random moments never loses an acknowledged block.

A child process streams signed batches into one store and prints each block it was given back
(height and hash) only after `submit` returned (or `submit_many` yielded it), that is after the
block was synced. The parent
kills it at a random moment, reopens the store and checks: every block the child reported is
there with the same hash, the whole chain verifies from genesis, and money is conserved. The
next child continues the same store, so recovery is exercised on a growing ledger. Every
third child writes with a small write buffer, so RocksDB flushes tables and switches logs all
the time and the child's blocks go into recycled log files, over what their earlier use left.

Kills: LEDGERCORE_CRASH_KILLS if set, else 50 in CI (CI=true), else 5.
"""

from __future__ import annotations

import os
import pathlib
import random
import select
import signal
import subprocess
import sys
import time

from ledger_traffic import open_ledger

import ledgercore
from ledgercore.store import Store

CHILD = """
import sys
sys.path[:0] = sys.argv[3:]
from ledger_traffic import Traffic, open_ledger
from ledgercore.ledger import Ledger
seed = int(sys.argv[2])
traffic = Traffic(12, seed=seed, first_id=seed * 10**9)
ledger = open_ledger(sys.argv[1])
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


# A few blocks of 64 signed transfers fill it: a flush and a log switch every few blocks.
SMALL_WRITE_BUFFER_BYTES = 64 << 10


def kill_count() -> int:
    if "LEDGERCORE_CRASH_KILLS" in os.environ:
        return int(os.environ["LEDGERCORE_CRASH_KILLS"])
    return 50 if os.environ.get("CI") == "true" else 5


def run_and_kill(path: str, seed: int, rng: random.Random) -> dict[int, str]:
    """Start a writer, let it acknowledge a few blocks, SIGKILL it; return what it acknowledged."""
    here = os.path.dirname(os.path.abspath(__file__))
    # The child imports the very ledgercore this process runs: an installed wheel, or src/.
    source = os.path.dirname(os.path.dirname(os.path.abspath(ledgercore.__file__)))
    environment = dict(os.environ)
    if seed % 3 == 0:
        environment["LEDGERCORE_WRITE_BUFFER_BYTES"] = str(SMALL_WRITE_BUFFER_BYTES)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, path, str(seed), here, source],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
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
        with open_ledger(path) as ledger:
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


def test_blocks_written_into_recycled_log_files_survive_reopening(tmp_path, monkeypatch):
    """With a small write buffer the log files are switched and reused every few blocks; every
    block must still be there, in order, after each reopening."""
    monkeypatch.setenv("LEDGERCORE_WRITE_BUFFER_BYTES", str(SMALL_WRITE_BUFFER_BYTES))
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from ledger_traffic import Traffic, open_ledger

    path = str(tmp_path / "ledger")
    traffic = Traffic(12, seed=3, first_id=3 * 10**9)
    hashes = []
    for reopening in range(3):
        with open_ledger(path) as ledger:
            if reopening == 0:
                ledger.create_accounts(traffic.accounts())
                hashes.append(ledger.head().hash)
            assert ledger.head().hash == hashes[-1]
            for _ in range(40):
                ledger.submit(traffic.batch(64))
                hashes.append(ledger.head().hash)
            ledger.close(snapshot=reopening % 2 == 0)
    # RocksDB's own log of events says when it wrote into a log file it had used before.
    events = "".join(
        pathlib.Path(path, name).read_text(errors="replace")
        for name in os.listdir(path)
        if name.startswith("LOG")
    )
    assert "reusing log" in events, "no log file was recycled: the test lost its point"
    with open_ledger(path, read_only=True) as ledger:
        assert ledger.head().hash == hashes[-1]
        assert [header.hash for header in ledger.blocks(1)] == hashes
        assert ledger.verify_chain(progress=False).ok


def test_a_write_buffer_size_that_is_not_a_size_is_refused(tmp_path, monkeypatch):
    from ledgercore.errors import LedgerValueError

    for text in ("lots", "1024"):
        monkeypatch.setenv("LEDGERCORE_WRITE_BUFFER_BYTES", text)
        try:
            open_ledger(str(tmp_path / "ledger"))
        except LedgerValueError as error:
            assert "LEDGERCORE_WRITE_BUFFER_BYTES" in str(error)
            assert repr(text) in str(error)
        else:
            raise AssertionError(f"{text!r} was taken as a write buffer size")


def test_a_table_file_left_by_a_flush_cut_short_does_not_stop_a_writer(tmp_path):
    """A writer killed mid-flush leaves a table file its MANIFEST does not name, whose blocks are
    still in the write-ahead log. The next writer checks every block is whole without it, and
    opens; only a table whose blocks are missing elsewhere stops it (tests/test_store_opening)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from ledger_traffic import Traffic, open_ledger

    path = str(tmp_path / "ledger")
    traffic = Traffic(12, seed=5)
    with open_ledger(path) as ledger:
        ledger.create_accounts(traffic.accounts())
        for _ in range(5):
            ledger.submit(traffic.batch(64))
        head = ledger.head()
    tables = sorted(name for name in os.listdir(path) if name.endswith(".sst"))
    numbers = [int(name.split(".")[0]) for name in os.listdir(path) if name[:6].isdigit()]
    largest = pathlib.Path(path, max(tables, key=lambda n: os.path.getsize(os.path.join(path, n))))
    cut_short = pathlib.Path(path, f"{max(numbers) + 1:06d}.sst")
    cut_short.write_bytes(largest.read_bytes()[: largest.stat().st_size // 2])
    with Store.open(path, read_only=True) as store:
        assert store._unnamed_tables() == [cut_short.name]
    with open_ledger(path) as ledger:
        assert ledger.head() == head
        ledger.submit(traffic.batch(64))
        assert ledger.verify_chain(progress=False).ok
