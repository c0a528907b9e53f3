"""Records: layouts agree with the C structs, result tables with apply.h, helpers round-trip."""

from __future__ import annotations

import re
from pathlib import Path

import numpy
import pytest

from ledgercore import records
from ledgercore._native import apply as native
from ledgercore.errors import LedgerValueError

NATIVE = Path(__file__).resolve().parents[1] / "src" / "ledgercore" / "_native"


def account(**fields) -> dict:
    """An account row with every required field, overridden by `fields`."""
    return dict(id=1, ledger=1, code=1, owner_key=bytes(range(32))) | fields


def transfer(**fields) -> dict:
    """A transfer row with every required field, overridden by `fields`."""
    row = dict(id=1, debit_account_id=1, credit_account_id=2, amount=5, ledger=1, code=1)
    return row | fields


def header_results(prefix: str) -> list[tuple[str, int]]:
    text = (NATIVE / "apply.h").read_text()
    pattern = rf"^#define {prefix}([A-Z0-9_]+) (\d+)$"
    return [
        (name.lower(), int(value))
        for name, value in re.findall(pattern, text, flags=re.M)
        if name != "COUNT"
    ]


def test_dtypes_match_the_native_structs():
    assert records.ACCOUNT_DTYPE.itemsize == native.ACCOUNT_SIZE == 160
    assert records.TRANSFER_DTYPE.itemsize == native.TRANSFER_SIZE == 192
    assert records.TRANSFER_DTYPE.fields["timestamp"][1] == native.TRANSFER_SIGNED_SIZE
    assert records.SIGNED_SIZE == native.TRANSFER_SIGNED_SIZE
    assert records.SIGNING_PREFIX == native.TRANSFER_SIGNING_PREFIX
    assert records.SIGNING_SIZE == native.TRANSFER_SIGNING_SIZE
    assert records.FORMAT_VERSION == native.FORMAT_VERSION


def test_dtype_offsets_match_records_h():
    text = (NATIVE / "records.h").read_text()
    asserted = re.findall(r"offsetof\(lc_(account|transfer), (\w+)\) == (\w+)\)", text)
    assert len(asserted) == 28
    for kind, field, offset in asserted:
        dtype = records.ACCOUNT_DTYPE if kind == "account" else records.TRANSFER_DTYPE
        expected = native.TRANSFER_SIGNED_SIZE if not offset.isdigit() else int(offset)
        assert dtype.fields[field][1] == expected, (kind, field)


def test_dtypes_are_little_endian_and_aligned():
    for dtype in (records.ACCOUNT_DTYPE, records.TRANSFER_DTYPE):
        assert dtype.isalignedstruct
        for name in dtype.names:
            base = dtype.fields[name][0].base
            assert base.byteorder in ("<", "|", "="), name
            assert dtype.fields[name][1] % base.alignment == 0, name


@pytest.mark.parametrize(
    ("enum", "prefix", "count"),
    [
        (records.TransferResult, "LC_RESULT_", native.TRANSFER_RESULT_COUNT),
        (records.CreateAccountResult, "LC_ACCOUNT_RESULT_", native.ACCOUNT_RESULT_COUNT),
    ],
)
def test_every_native_result_has_its_value_and_docstring(enum, prefix, count):
    declared = header_results(prefix)
    if prefix == "LC_RESULT_":
        declared = [(name, value) for name, value in declared if name != "first_stateful"]
    assert len(declared) == count == len(enum)
    for name, value in declared:
        member = enum[name]
        assert member.value == value
        assert member.__doc__ and "\n" not in member.__doc__.strip()
        assert member.__doc__ != enum.__doc__


def test_result_values_are_the_order_of_precedence():
    """Each check function returns its results in increasing value: the table's order."""
    source = (NATIVE / "apply_engine.c").read_text()
    functions = re.findall(r"^static uint8_t (check_\w+)\(.*?^}", source, flags=re.M | re.S)
    assert set(functions) == {
        "check_account",
        "check_post_or_void",
        "check_balances",
        "check_transfer",
    }
    for name in functions:
        body = re.search(rf"^static uint8_t {name}\(.*?^}}", source, flags=re.M | re.S).group(0)
        prefix = "LC_ACCOUNT_RESULT_" if name == "check_account" else "LC_RESULT_"
        returned = re.findall(rf"return ({prefix}\w+);", body)
        enum = records.CreateAccountResult if name == "check_account" else records.TransferResult
        values = [enum[code.removeprefix(prefix).lower()] for code in returned]
        if values[-1] == 0:  # the final "all rules pass"; check_transfer delegates instead
            values = values[:-1]
        assert values == sorted(values), name


def test_u128_round_trips_through_lanes():
    for value in (0, 1, 2**64 - 1, 2**64, 2**127 + 3, 2**128 - 1):
        assert records.u128(records.lanes(value)) == value
    assert records.u128(records.ids([5, 2**100])) == [5, 2**100]


def test_u128_out_of_range_is_refused():
    with pytest.raises(LedgerValueError):
        records.lanes(2**128)
    with pytest.raises(LedgerValueError):
        records.lanes(-1)
    with pytest.raises(TypeError):
        records.ids([1.5])


def test_builders_fill_every_field_and_refuse_unknown_ones():
    batch = records.transfers(
        [
            dict(
                id=2**128 - 2,
                debit_account_id=3,
                credit_account_id=4,
                amount=2**127,
                pending_id=0,
                user_data_128=9,
                timeout_s=2**32 - 1,
                ledger=7,
                code=65535,
                flags=records.TransferFlags.pending | records.TransferFlags.linked,
                user_data_32=5,
                user_data_64=2**64 - 1,
                signature=bytes(range(64)),
            )
        ]
    )
    row = records.to_dicts(batch)[0]
    assert row["id"] == 2**128 - 2
    assert row["amount"] == 2**127
    assert row["flags"] == 3
    assert row["signature"] == bytes(range(64))
    assert row["timestamp"] == 0
    with pytest.raises(LedgerValueError, match=r"transfers\[0\]\.colour"):
        records.transfers([dict(colour=1)])
    with pytest.raises(LedgerValueError, match=r"accounts\[1\]\.code"):
        records.accounts([account(id=1), account(code=2**16)])
    with pytest.raises(LedgerValueError, match="owner_key"):
        records.accounts([dict(owner_key=b"short")])


def test_signing_bytes_are_the_prefix_and_the_client_fields():
    batch = records.transfers(
        [
            dict(id=n, debit_account_id=1, credit_account_id=2, amount=n, ledger=1, code=1)
            for n in range(1, 4)
        ]
    )
    batch["timestamp"] = 123
    batch["signature"] = 7
    ledger_id = b"ledger of a fund"
    signed = records.signing_bytes(batch, ledger_id)
    assert signed.shape == (3, 159)
    raw = batch.view(numpy.uint8).reshape(3, 192)
    for row in range(3):
        assert signed[row, :23].tobytes() == records.SIGNING_PREFIX
        assert signed[row, 23:39].tobytes() == ledger_id
        assert signed[row, 39:].tobytes() == raw[row, :120].tobytes()
    # The engine's timestamp and the signature are not signed.
    unsigned = batch.copy()
    unsigned["timestamp"] = 0
    unsigned["signature"] = 0
    assert numpy.array_equal(records.signing_bytes(unsigned, ledger_id), signed)
    # Blocks of format 1 headers were signed without a ledger id.
    old = records.signing_bytes(batch, None)
    assert old.shape == (3, 143) and old[0, :23].tobytes() == records.SIGNING_PREFIX_V1
    assert old[0, 23:].tobytes() == raw[0, :120].tobytes()


def test_signing_bytes_accept_raw_bytes_and_refuse_other_dtypes():
    batch = records.transfers([transfer()])
    ledger_id = bytes(range(16))
    assert numpy.array_equal(
        records.signing_bytes(batch.tobytes(), ledger_id), records.signing_bytes(batch, ledger_id)
    )
    assert records.signing_bytes(batch[:0], ledger_id).shape == (0, 159)
    with pytest.raises(LedgerValueError, match="TRANSFER_DTYPE"):
        records.signing_bytes(records.accounts([account()]), ledger_id)
    with pytest.raises(LedgerValueError, match="whole number"):
        records.signing_bytes(b"x" * 191, ledger_id)
    with pytest.raises(TypeError):
        records.signing_bytes([1, 2, 3], ledger_id)
    with pytest.raises(LedgerValueError, match="ledger_id: expected 16 bytes"):
        records.signing_bytes(batch, bytes(15))
    with pytest.raises(TypeError, match="ledger_id"):
        records.signing_bytes(batch, "ledger")
