"""Every native entry point refuses a wrong argument (dtype, shape, length, contiguity) with an
exception, before it releases the GIL and before anything changes; none trusts its caller."""

from __future__ import annotations

import sys

import numpy
import pytest

from ledgercore import records
from ledgercore._native import apply, ed25519, merkle
from ledgercore._native import blake3 as native_blake3
from ledgercore.keys import SigningKey


def test_blake3_rows_must_be_c_contiguous_uint8() -> None:
    rows = numpy.zeros((4, 64), dtype=numpy.uint8)
    with pytest.raises(ValueError):
        native_blake3.hash_rows(rows[:, ::2])
    with pytest.raises(ValueError):
        native_blake3.hash_rows(rows.view(numpy.uint32))
    with pytest.raises(ValueError, match="key"):
        native_blake3.hash_rows(rows, key=bytes(31))


def test_ed25519_batch_shapes_and_lengths_are_checked() -> None:
    keys = numpy.zeros((2, 32), dtype=numpy.uint8)
    signatures = numpy.zeros((2, 64), dtype=numpy.uint8)
    with pytest.raises(ValueError, match="public_keys"):
        ed25519.verify_batch(numpy.zeros((2, 31), dtype=numpy.uint8), [b"", b""], signatures, 1)
    with pytest.raises(ValueError, match="signatures"):
        ed25519.verify_batch(keys, [b"", b""], signatures[:1], 1)
    with pytest.raises(ValueError, match="messages"):
        ed25519.verify_batch(keys, [b""], signatures, 1)
    with pytest.raises(ValueError, match="messages"):
        ed25519.verify_batch(keys, numpy.zeros((2, 8), dtype=numpy.uint8)[:, ::2], signatures, 1)
    with pytest.raises(ValueError, match="threads"):
        ed25519.verify_batch(keys, [b"", b""], signatures, 0)
    with pytest.raises(TypeError):
        ed25519.verify_batch(keys, [b"", "text"], signatures, 1)
    with pytest.raises(ValueError, match="public_key"):
        ed25519.verify(bytes(31), b"", bytes(64))


def test_ed25519_queue_and_team_check_arguments_as_verify_batch() -> None:
    keys = numpy.zeros((2, 32), dtype=numpy.uint8)
    signatures = numpy.zeros((2, 64), dtype=numpy.uint8)
    queue = ed25519.VerifyQueue()
    for lanes in (0, ed25519.VERIFY_QUEUE_LANES_MAX + 1):
        with pytest.raises(ValueError, match="lanes"):
            ed25519.VerifyQueue(lanes)
    for call in (queue.submit, ed25519.team_check):
        with pytest.raises(ValueError, match="public_keys"):
            call(numpy.zeros((2, 31), dtype=numpy.uint8), [b"", b""], signatures, 1)
        with pytest.raises(ValueError, match="signatures"):
            call(keys, [b"", b""], signatures[:1], 1)
        with pytest.raises(ValueError, match="messages"):
            call(keys, [b""], signatures, 1)
        with pytest.raises(ValueError, match="messages"):
            call(keys, numpy.zeros((2, 8), dtype=numpy.uint8)[:, ::2], signatures, 1)
        with pytest.raises(ValueError, match="threads"):
            call(keys, [b"", b""], signatures, 0)
        with pytest.raises(TypeError):
            call(keys, [b"", "text"], signatures, 1)
        with pytest.raises(ValueError):
            call(keys[:, ::2], [b"", b""], signatures, 1)
    with pytest.raises(ValueError, match="public_keys"):
        ed25519.team_check(keys[:0], [], signatures[:0], 2)


def test_engine_accounts_at_checks_rows() -> None:
    engine = apply.NativeEngine(1, 2)
    with pytest.raises(ValueError):
        engine.accounts_at(numpy.zeros(2, dtype=numpy.uint64))
    with pytest.raises(ValueError):
        engine.accounts_at(numpy.zeros(4, dtype=numpy.uint32)[::2])
    with pytest.raises(ValueError, match="rows"):
        engine.accounts_at(numpy.zeros(1, dtype=numpy.uint32))
    assert len(engine.accounts_at(numpy.zeros(0, dtype=numpy.uint32))) == 0
    rows, found = engine.changed_accounts()
    assert len(rows) == len(found) == 0


@pytest.mark.skipif(sys.version_info < (3, 12), reason="__buffer__ in Python needs 3.12")
def test_ed25519_batch_survives_a_list_emptied_while_it_is_read() -> None:
    signer = SigningKey.from_seed(bytes(32))
    message = b"transfer 1" * 3

    class Emptying:
        """A bytes-like whose export empties the list that holds it."""

        def __init__(self, owner: list) -> None:
            self.owner = owner

        def __buffer__(self, flags: int) -> memoryview:
            self.owner.clear()
            return memoryview(message)

    messages: list = [bytes(message)]
    messages.append(Emptying(messages))
    keys = numpy.frombuffer(signer.public_key * 2, dtype=numpy.uint8).reshape(2, 32)
    signature = signer.sign(message)
    signatures = numpy.frombuffer(signature * 2, dtype=numpy.uint8).reshape(2, 64)
    assert ed25519.verify_batch(keys, messages, signatures, 1).tolist() == [True, True]


def test_engine_submit_checks_records_and_signature_marks() -> None:
    engine = apply.NativeEngine(1, 2)
    batch = records.transfers(
        [dict(id=1, debit_account_id=1, credit_account_id=2, amount=1, ledger=1, code=1)] * 2
    )
    with pytest.raises(TypeError):
        engine.submit(batch.tobytes(), None, 1)
    with pytest.raises(ValueError, match="dtype"):
        engine.submit(
            records.accounts([dict(id=1, ledger=1, code=1, owner_key=bytes(32))]), None, 1
        )
    with pytest.raises(ValueError, match="1-D"):
        engine.submit(batch.reshape(1, 2), None, 1)
    with pytest.raises(ValueError, match="contiguous"):
        engine.submit(numpy.concatenate([batch, batch])[::2], None, 1)
    with pytest.raises(ValueError, match="signatures"):
        engine.submit(batch, numpy.ones(3, dtype=numpy.uint8), 1)
    with pytest.raises(ValueError, match="signatures"):
        engine.submit(batch, numpy.full(2, 7, dtype=numpy.uint8), 1)
    with pytest.raises(ValueError, match="ids"):
        engine.lookup_accounts(numpy.zeros((2, 3), dtype=numpy.uint64))
    assert engine.transfer_count == 0


def test_merkle_tree_checks_hash_shapes_and_indices() -> None:
    tree = merkle.Tree(threads=1)
    tree.append([b"a", b"b", b"c"])
    with pytest.raises(ValueError):
        tree.append_hashes(numpy.zeros((2, 31), dtype=numpy.uint8))
    with pytest.raises(ValueError, match="indices"):
        tree.update_hashes([3], numpy.zeros((1, 32), dtype=numpy.uint8))
    with pytest.raises(ValueError, match="indices"):
        tree.update_hashes([-1], numpy.zeros((1, 32), dtype=numpy.uint8))
    with pytest.raises(TypeError):
        tree.append("abc")
    with pytest.raises(ValueError, match="size"):
        tree.inclusion_proof(0, 4)
    assert tree.size == 3
