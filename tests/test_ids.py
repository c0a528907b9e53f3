"""Generated ids are unique, strictly increasing, time-ordered and valid transfer ids."""

from __future__ import annotations

import threading
import time

import numpy
import pytest

from ledgercore import records
from ledgercore.errors import LedgerValueError
from ledgercore.ids import COUNTER_BITS, IdGenerator, new_id, new_ids


def test_ids_strictly_increase_across_single_and_batch_calls():
    generator = IdGenerator()
    seen = []
    for size in (1, 5, 0, 1000, 1):
        if size == 1:
            seen.append(generator.new_id())
        else:
            seen.extend(records.u128(generator.new_ids(size)))
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert all(0 < value < 2**128 - 1 for value in seen)


def test_ids_carry_the_milliseconds_they_were_made_in():
    before = time.time_ns() // 1_000_000
    value = new_id()
    after = time.time_ns() // 1_000_000
    assert before <= value >> COUNTER_BITS <= after + 1


def test_a_batch_whose_low_lane_wraps_carries_into_the_high_lane():
    generator = IdGenerator()
    # A last id two below a multiple of 2^64, in a millisecond the clock has not reached yet,
    # so the generator counts on from it.
    ahead_ms = time.time_ns() // 1_000_000 + 3_600_000
    generator._last = (ahead_ms << COUNTER_BITS) | ((1 << 64) - 3)
    lanes = generator.new_ids(6)
    ids = records.u128(lanes)
    assert ids == list(range(generator._last - 5, generator._last + 1))
    assert lanes[2, 0] == 0 and lanes[2, 1] == lanes[1, 1] + 1


def test_threads_sharing_a_generator_never_get_the_same_id():
    generator = IdGenerator()
    found: list[list[int]] = [[] for _ in range(4)]

    def work(out: list[int]) -> None:
        for _ in range(200):
            out.extend(records.u128(generator.new_ids(7)))

    threads = [threading.Thread(target=work, args=(out,)) for out in found]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [value for out in found for value in out]
    assert len(set(everything)) == len(everything) == 4 * 200 * 7
    assert all(out == sorted(out) for out in found)


def test_a_batch_of_new_ids_fills_a_transfer_batch_that_the_ledger_takes(tmp_path):
    from ledgercore.keys import SigningKey
    from ledgercore.ledger import Ledger

    key = SigningKey.from_seed(b"i" * 32)
    with Ledger.open(tmp_path / "ledger") as ledger:
        accounts = records.accounts(
            [dict(id=n, ledger=1, code=1, owner_key=key.public_key) for n in (1, 2)]
        )
        accounts["id"] = new_ids(2)
        ledger.create_accounts(accounts)
        debit, credit = records.u128(accounts["id"])
        rows = [dict(id=1, debit_account_id=debit, credit_account_id=credit, amount=3, ledger=1,
                     code=1)] * 50  # fmt: skip
        batch = records.transfers(rows)
        batch["id"] = new_ids(50)
        batch["signature"] = key.sign_many(ledger.signing_bytes(batch))
        results, _ = ledger.submit(batch)
        assert numpy.all(results == 0)


@pytest.mark.parametrize("count, error", [(-1, LedgerValueError), (2**30, LedgerValueError),
                                          (1.0, TypeError), (True, TypeError)])  # fmt: skip
def test_a_bad_count_is_refused(count, error):
    with pytest.raises(error, match="count"):
        new_ids(count)
