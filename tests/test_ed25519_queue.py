"""VerificationQueue: batches verified in order on native threads, with verify_batch's answers."""

from __future__ import annotations

import gc

import numpy
import pytest

from ledgercore.ed25519 import VerificationQueue, decode_public_keys, verify_batch
from ledgercore.errors import LedgerValueError
from ledgercore.keys import SigningKey


def signed(count: int, seed: int):
    rng = numpy.random.default_rng(seed)
    signers = [SigningKey.from_seed(rng.bytes(32)) for _ in range(7)]
    keys, messages, signatures = [], [], []
    for n in range(count):
        signer = signers[n % 7]
        message = rng.bytes(int(rng.integers(0, 90)))
        keys.append(signer.public_key)
        messages.append(message)
        signatures.append(signer.sign(message))
    return keys, messages, signatures


@pytest.mark.parametrize("lanes", [1, 2, 4])
def test_queued_batches_give_verify_batch_answers_in_any_collection_order(lanes):
    queue = VerificationQueue(lanes=lanes)
    batches, pending = [], []
    for number in range(6):
        keys, messages, signatures = signed(50 + 100 * number, seed=number)
        signatures[number] = signatures[number][::-1]  # one bad signature per batch
        batches.append((keys, messages, signatures))
        pending.append(queue.submit(keys, messages, signatures, threads=2))
    for number in (5, 0, 3, 1, 4, 2):
        expected = verify_batch(*batches[number])
        assert pending[number].result().tolist() == expected.tolist()
        assert pending[number].seconds > 0
        assert expected.sum() == len(expected) - 1


def test_lanes_verify_batches_at_once_and_each_gets_its_own_answer():
    # Large batches (the team path) and a small one, with bad signatures in some of them.
    queue = VerificationQueue(lanes=3)
    batches = [signed(size, seed=20 + size) for size in (700, 40, 1300, 700, 513)]
    for number, (_, _, signatures) in enumerate(batches):
        if number % 2 == 0:
            signatures[-number - 1] = bytes(64)
    pending = [queue.submit(*batch, threads=2) for batch in batches]
    for batch, waiting in zip(reversed(batches), reversed(pending), strict=True):
        assert waiting.result().tolist() == verify_batch(*batch).tolist()


@pytest.mark.parametrize("lanes", [0, 5, True, 1.5])
def test_a_lane_count_out_of_range_is_refused(lanes):
    with pytest.raises((LedgerValueError, TypeError), match="lanes"):
        VerificationQueue(lanes=lanes)


def test_messages_as_rows_and_decoded_keys_are_taken():
    keys, messages, signatures = signed(300, seed=9)
    rows = numpy.frombuffer(b"".join(m.ljust(90, b"\0") for m in messages), numpy.uint8)
    rows = rows.reshape(300, 90)
    queue = VerificationQueue()
    pending = queue.submit(decode_public_keys(keys), rows, signatures)
    assert pending.result().tolist() == verify_batch(keys, rows, signatures).tolist()


def test_an_empty_batch_is_done_at_once():
    pending = VerificationQueue().submit([], [], [])
    assert pending.result().tolist() == []
    assert pending.seconds == 0.0


def test_bad_arguments_are_refused_at_submit():
    keys, messages, signatures = signed(3, seed=1)
    queue = VerificationQueue()
    with pytest.raises(LedgerValueError, match="signatures"):
        queue.submit(keys, messages, signatures[:2])
    with pytest.raises(TypeError, match="messages"):
        queue.submit(keys, ["a", "b", "c"], signatures)
    assert queue.submit(keys, messages, signatures).result().all()


def test_dropping_the_queue_and_its_batches_unfinished_loses_nothing_and_crashes_nothing():
    """A pending batch holds its queue and buffers; dropping them waits for the native thread."""
    keys, messages, signatures = signed(2000, seed=4)
    for lanes in (1, 2, 3):
        queue = VerificationQueue(lanes=lanes)
        pending = [queue.submit(keys, list(messages), signatures) for _ in range(3)]
        del queue
        del pending
        gc.collect()
    queue = VerificationQueue()
    last = queue.submit(keys, messages, signatures)
    assert last.result().all()
