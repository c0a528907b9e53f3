"""Ledger.submit_many: the same blocks as one submit per batch, with verification overlapped."""

from __future__ import annotations

import numpy
import pytest
from ledger_traffic import Traffic, open_ledger

from ledgercore import records
from ledgercore.errors import LedgerValueError
from ledgercore.records import TransferResult as TR

T0 = 1_700_000_000 * 10**9
SECOND = 10**9


def traffic_batches(count: int, size: int, seed: int) -> tuple[Traffic, list[numpy.ndarray]]:
    traffic = Traffic(12, seed=seed)
    return traffic, [traffic.batch(size) for _ in range(count)]


def clocks(count: int) -> list[int]:
    return [T0 + (n + 1) * 7 * SECOND for n in range(count)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_submit_many_makes_the_blocks_one_submit_per_batch_makes(tmp_path, seed):
    traffic, batches = traffic_batches(6, 90, seed)
    # Signatures verified ahead must still be reported per transfer.
    unchanged = batches[1].copy()
    unchanged["signature"][:, 0] ^= 1
    batches.insert(2, unchanged)
    with open_ledger(tmp_path / "one") as one, open_ledger(tmp_path / "many") as many:
        for ledger in (one, many):
            ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
        expected = [
            one.submit(batch, timestamp_ns=clock)
            for batch, clock in zip(batches, clocks(len(batches)), strict=True)
        ]
        got = list(many.submit_many(batches, timestamps_ns=clocks(len(batches))))
        assert len(got) == len(expected)
        for (results, header), (want_results, want_header) in zip(got, expected, strict=True):
            assert results.tolist() == want_results.tolist()
            assert header == want_header
        assert TR.bad_signature in got[2][0].tolist()
        assert many.head() == one.head()
        assert many.verify_chain(progress=False).ok


def test_each_block_is_durable_when_it_is_yielded(tmp_path):
    traffic, batches = traffic_batches(4, 40, 5)
    path = tmp_path / "ledger"
    with open_ledger(path) as ledger:
        ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
        for number, (_, header) in enumerate(
            ledger.submit_many(batches, timestamps_ns=clocks(len(batches)))
        ):
            with open_ledger(path, read_only=True) as reader:
                assert reader.head() == header
                assert reader.head().height == number + 2


def test_stopping_early_leaves_the_later_batches_unapplied(tmp_path):
    traffic, batches = traffic_batches(5, 30, 7)
    with open_ledger(tmp_path / "ledger") as ledger:
        ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
        stream = ledger.submit_many(batches, timestamps_ns=clocks(len(batches)))
        _, first = next(stream)
        stream.close()
        assert ledger.head() == first
        later = records.u128(batches[1]["id"])
        assert len(ledger.lookup_transfers(later)) == 0
        # The ledger goes on as usual afterwards.
        _, header = ledger.submit(batches[1], timestamp_ns=clocks(5)[1])
        assert header is not None and header.height == first.height + 1


def test_accounts_created_between_yields_sign_the_batches_read_ahead(tmp_path):
    # Batches are read and their signatures queued ahead of the one applied: an account the
    # caller creates after a yield must still count as known for the batches already read.
    traffic = Traffic(6, seed=11)
    newcomers = Traffic(4, seed=12)
    newcomers.account_ids = [101, 102, 103, 104]
    later = [newcomers.batch(15, refused=False, pending=False) for _ in range(4)]
    batches = [traffic.batch(15, refused=False, pending=False), *later]
    for batch in later:
        batch["id"][:, 0] += 10_000
        newcomers.sign(batch)
    with open_ledger(tmp_path / "ledger") as ledger:
        ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
        stream = ledger.submit_many(batches, timestamps_ns=clocks(len(batches)))
        results, _ = next(stream)
        assert (results == TR.ok).all()
        accounts = newcomers.accounts()
        # Between the first batch's clock and the second's.
        ledger.create_accounts(accounts, timestamp_ns=clocks(1)[0] + SECOND)
        for results, header in stream:
            assert results.tolist() == [TR.ok] * 15
            assert header is not None
        assert ledger.verify_chain(progress=False).ok


def test_a_bad_batch_is_refused_after_the_batches_before_it_are_yielded(tmp_path):
    traffic, batches = traffic_batches(3, 20, 9)
    malformed = numpy.zeros(3, dtype=numpy.int64)
    with open_ledger(tmp_path / "ledger") as ledger:
        ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
        seen = []
        with pytest.raises(LedgerValueError, match="transfers: expected dtype"):
            for _, header in ledger.submit_many([batches[0], batches[1], malformed, batches[2]]):
                seen.append(header.height)
        assert seen == [2, 3]
        assert ledger.head().height == 3


def test_timestamps_must_cover_every_batch(tmp_path):
    traffic, batches = traffic_batches(3, 10, 11)
    with open_ledger(tmp_path / "ledger") as ledger:
        ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
        with pytest.raises(LedgerValueError, match="timestamps_ns: ran out at batch 2"):
            list(ledger.submit_many(batches, timestamps_ns=clocks(2)))
        assert ledger.head().height == 3


def test_a_read_only_ledger_refuses_submit_many_at_once(tmp_path):
    with open_ledger(tmp_path / "ledger"):
        pass
    with (
        open_ledger(tmp_path / "ledger", read_only=True) as reader,
        pytest.raises(LedgerValueError, match="read-only"),
    ):
        reader.submit_many([])


def test_timings_name_every_stage_and_the_hidden_verification(tmp_path):
    traffic, batches = traffic_batches(3, 50, 13)
    timings: list[dict[str, float]] = []
    with open_ledger(tmp_path / "ledger") as ledger:
        ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
        list(ledger.submit_many(batches, timestamps_ns=clocks(3), timings=timings))
    assert len(timings) == 3
    for timing in timings:
        assert set(timing) >= {"decode", "verify", "verify_overlapped", "apply", "hash",
                               "merkle", "persist", "latency"}  # fmt: skip
        assert all(seconds >= 0 for seconds in timing.values())


def test_without_signature_verification_submit_many_matches_submit(tmp_path):
    traffic, batches = traffic_batches(3, 40, 17)
    for batch in batches:
        batch["signature"] = 0
    with (
        open_ledger(tmp_path / "one", verify_signatures=False) as one,
        open_ledger(tmp_path / "many", verify_signatures=False) as many,
    ):
        for ledger in (one, many):
            ledger.create_accounts(traffic.accounts(), timestamp_ns=T0)
        for batch, clock in zip(batches, clocks(3), strict=True):
            one.submit(batch, timestamp_ns=clock)
        heights = [h.height for _, h in many.submit_many(batches, timestamps_ns=clocks(3))]
        assert heights == [2, 3, 4]
        assert many.head() == one.head()
