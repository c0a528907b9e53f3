"""Packed records (ledgercore._native.wordpack): exact round trips, one packed form per record,
and a clear refusal of bytes that are not packed records."""

from __future__ import annotations

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgercore import records
from ledgercore._native import wordpack
from ledgercore.blocks import BlockKind
from ledgercore.errors import LedgerValueError
from ledgercore.store import BALANCES_DTYPE, Body, decode_state, encode_state


def reference_pack(rows: numpy.ndarray) -> bytes:
    out = bytearray()
    words = rows.view("<u8").reshape(len(rows), rows.dtype.itemsize // 8)
    for record in words.tolist():
        bits = sum(1 << index for index, word in enumerate(record) if word)
        out += bits.to_bytes((len(record) + 7) // 8, "little")
        out += b"".join(word.to_bytes(8, "little") for word in record if word)
    return bytes(out)


@st.composite
def record_arrays(draw) -> numpy.ndarray:
    words = draw(st.integers(1, 40))
    count = draw(st.integers(0, 12))
    # Mostly zero words, as ledger records are; some words with a single nonzero byte.
    word = st.one_of(
        st.just(0), st.integers(1, 2**64 - 1), st.sampled_from([1, 2**56, 2**63, 2**64 - 1])
    )
    values = draw(st.lists(word, min_size=words * count, max_size=words * count))
    array = numpy.array(values, dtype="<u8").view(numpy.dtype((numpy.void, 8 * words)))
    return array


@settings(max_examples=150, deadline=None)
@given(record_arrays())
def test_packing_round_trips_and_matches_the_reference(rows):
    packed = wordpack.pack(rows)
    assert packed == reference_pack(rows)
    back, end = wordpack.unpack(packed, 0, len(rows), rows.dtype)
    assert end == len(packed)
    assert back.tobytes() == rows.tobytes()


@settings(max_examples=80, deadline=None)
@given(record_arrays(), st.binary(max_size=40), st.binary(max_size=40))
def test_prefix_and_suffix_frame_the_packed_records(rows, prefix, suffix):
    packed = wordpack.pack(rows, prefix, suffix)
    assert packed == prefix + reference_pack(rows) + suffix
    back, end = wordpack.unpack(packed, len(prefix), len(rows), rows.dtype)
    assert packed[end:] == suffix
    assert back.tobytes() == rows.tobytes()


def test_a_record_is_its_mask_then_its_nonzero_words():
    rows = numpy.array([0, 5, 0], dtype="<u8").view(numpy.dtype((numpy.void, 24)))
    assert wordpack.pack(rows) == bytes([0b010]) + (5).to_bytes(8, "little")
    zero = numpy.zeros(2, dtype=numpy.dtype((numpy.void, 72)))  # nine words: two mask bytes
    assert wordpack.pack(zero) == bytes(4)


@pytest.mark.parametrize(
    ("data", "count", "message"),
    [
        (bytes([0b1]), 1, "end inside a record"),  # a word promised, none there
        (bytes([0b1]) + bytes(7), 1, "end inside a record"),
        (b"", 1, "end inside a record"),
        (bytes([0b1000]), 1, "past its end"),  # three words, bit 3 set
        (bytes([0b1]) + bytes(8), 1, "a zero word"),  # a zero word marked present
    ],
)
def test_bytes_that_are_not_packed_records_are_refused(data, count, message):
    with pytest.raises(LedgerValueError, match=message):
        wordpack.unpack(data, 0, count, numpy.dtype((numpy.void, 24)))


@settings(max_examples=100, deadline=None)
@given(record_arrays(), st.data())
def test_a_span_of_each_record_packs_as_the_span_copied_out(rows, data):
    words = rows.dtype.itemsize // 8
    first = data.draw(st.integers(min_value=0, max_value=words - 1))
    count = data.draw(st.integers(min_value=1, max_value=words - first))
    raw = rows.view(numpy.uint8).reshape(len(rows), rows.dtype.itemsize)
    copied = numpy.ascontiguousarray(raw[:, 8 * first : 8 * (first + count)])
    copied = copied.reshape(-1).view(numpy.dtype((numpy.void, 8 * count)))
    packed = wordpack.pack(rows, b"head", offset=8 * first, size=8 * count)
    assert packed == b"head" + reference_pack(copied)


def test_spans_outside_a_record_or_not_of_whole_words_are_refused():
    rows = numpy.zeros(3, numpy.dtype((numpy.void, 32)))
    for offset, size in ((0, 40), (8, 32), (-8, 8), (32, 8), (0, 0)):
        with pytest.raises(LedgerValueError, match="not inside records of 32 bytes"):
            wordpack.pack(rows, offset=offset, size=size)
    with pytest.raises(LedgerValueError, match="multiple of 8"):
        wordpack.pack(rows, offset=4, size=12)
    assert wordpack.pack(rows, offset=4, size=8) == wordpack.pack(numpy.zeros(3, "<u8"))


def test_bad_record_sizes_and_offsets_are_refused():
    with pytest.raises(LedgerValueError, match="multiple of 8"):
        wordpack.pack(numpy.zeros(3, "u1"))
    with pytest.raises(LedgerValueError, match="multiple of 8"):
        wordpack.unpack(b"", 0, 0, numpy.dtype((numpy.void, 12)))
    with pytest.raises(LedgerValueError, match="offset"):
        wordpack.unpack(b"ab", 3, 0, numpy.dtype("<u8"))
    with pytest.raises(LedgerValueError, match="negative"):
        wordpack.unpack(b"", 0, -1, numpy.dtype("<u8"))
    with pytest.raises(LedgerValueError, match="1-D"):
        wordpack.pack(numpy.zeros((2, 2), "<u8"))
    with pytest.raises(LedgerValueError, match="C-contiguous"):
        wordpack.pack(numpy.zeros(4, "<u8")[::2])
    with pytest.raises(TypeError):
        wordpack.pack(b"12345678")


def test_a_body_keeps_its_records_and_results_exactly():
    transfers = records.transfers(
        [dict(id=n, debit_account_id=1, credit_account_id=2, amount=n * 7, ledger=1, code=1)
         for n in range(1, 40)]
    )  # fmt: skip
    transfers["signature"][::3] = 0xAB
    results = numpy.arange(len(transfers), dtype=numpy.uint8) % 5
    body = Body(BlockKind.transfers, transfers, results)
    data = body.to_bytes()
    assert len(data) < 16 + transfers.nbytes  # zero words are not stored
    parsed = Body.from_bytes(data)
    assert parsed.records.tobytes() == transfers.tobytes()
    assert parsed.results.tolist() == results.tolist()


def test_a_damaged_body_is_refused_with_what_is_wrong():
    transfers = records.transfers(
        [dict(id=1, debit_account_id=1, credit_account_id=2, amount=5, ledger=1, code=1)]
    )
    data = Body(BlockKind.transfers, transfers, numpy.zeros(1, numpy.uint8)).to_bytes()
    with pytest.raises(LedgerValueError, match="result bytes"):
        Body.from_bytes(data + b"\0")
    with pytest.raises(LedgerValueError, match="body: "):
        Body.from_bytes(data[:-2])
    huge = bytearray(data)
    huge[8:12] = (2**31).to_bytes(4, "little")  # a record count the bytes cannot hold
    with pytest.raises(LedgerValueError, match="cannot hold"):
        Body.from_bytes(bytes(huge))


def test_state_entries_keep_whole_accounts_or_only_balances():
    accounts = records.accounts(
        [dict(id=n, ledger=1, code=1, owner_key=bytes(32)) for n in range(1, 6)]
    )
    accounts["credits_posted"][:, 0] = [0, 3, 0, 2**64 - 1, 9]
    slots = numpy.array([4, 0, 7, 2, 9], dtype="<u4")
    for full in (True, False):
        decoded_slots, changed = decode_state(encode_state(slots, accounts, full=full))
        assert decoded_slots.tolist() == slots.tolist()
        if full:
            assert changed.tobytes() == accounts.tobytes()
        else:
            assert changed.dtype == BALANCES_DTYPE
            assert changed["credits_posted"].tolist() == accounts["credits_posted"].tolist()
    data = encode_state(slots, accounts, full=False)
    with pytest.raises(LedgerValueError, match="after its 5 records"):
        decode_state(data + bytes(8))
