"""Honest inputs: records are never guessed, numpy integers are ints, and errors name the field.

A value the caller did not give must not be filled in as zero and then spend a transfer id for
good; an int is an int whether Python or numpy made it; and a wrong argument is refused before
anything changes, with an error that names the argument or field, the row, and the way out.
"""

from __future__ import annotations

import nacl.signing
import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgercore import records
from ledgercore.engine import DEFAULT_LEDGER_ID, Engine
from ledgercore.errors import LedgerValueError
from ledgercore.keys import SigningKey
from ledgercore.ledger import Ledger
from ledgercore.records import TransferFlags as TF
from ledgercore.records import TransferResult as TR

PAYER = SigningKey.from_seed(b"p" * 32)
PAYEE = SigningKey.from_seed(b"q" * 32)
T0 = 1_700_000_000 * 10**9

NUMPY_INTEGERS = [
    numpy.int8,
    numpy.int16,
    numpy.int32,
    numpy.int64,
    numpy.uint8,
    numpy.uint16,
    numpy.uint32,
    numpy.uint64,
]


def account(**fields) -> dict:
    return dict(id=1, ledger=1, code=1, owner_key=PAYER.public_key) | fields


def transfer(**fields) -> dict:
    row = dict(id=10, debit_account_id=1, credit_account_id=2, amount=5, ledger=1, code=1)
    return row | fields


def without(row: dict, name: str) -> dict:
    return {key: value for key, value in row.items() if key != name}


def two_accounts(engine: Engine) -> None:
    results = engine.create_accounts(
        records.accounts(
            [account(id=1), account(id=2, owner_key=PAYEE.public_key)],
        )
    )
    assert results.tolist() == [0, 0]


@pytest.fixture
def ledger(tmp_path):
    with Ledger.open(tmp_path / "ledger", ledger_id=DEFAULT_LEDGER_ID) as opened:
        results, _ = opened.create_accounts(
            records.accounts([account(id=1), account(id=2, owner_key=PAYEE.public_key)]),
            timestamp_ns=T0,
        )
        assert results.tolist() == [0, 0]
        yield opened


def signed(rows: list[dict]) -> numpy.ndarray:
    batch = records.transfers(rows)
    # For the ledger fixture and the engines alike, which both check against DEFAULT_LEDGER_ID.
    batch["signature"] = PAYER.sign_many(records.signing_bytes(batch, DEFAULT_LEDGER_ID))
    return batch


# ---------------------------------------------------------------------------- required fields


@pytest.mark.parametrize(
    "name", ["id", "debit_account_id", "credit_account_id", "amount", "ledger", "code"]
)
def test_a_transfer_left_without_a_required_field_is_refused_naming_it_and_its_row(name):
    rows = [transfer(id=10), without(transfer(id=11), name)]
    with pytest.raises(LedgerValueError, match=rf"^transfers\[1\]: no {name} given; a transfer"):
        records.transfers(rows)


@pytest.mark.parametrize("name", ["id", "ledger", "code", "owner_key"])
def test_an_account_left_without_a_required_field_is_refused_naming_it_and_its_row(name):
    with pytest.raises(LedgerValueError, match=rf"^accounts\[0\]: no {name} given; an account"):
        records.accounts([without(account(), name)])


def test_a_transfer_without_an_amount_never_reaches_the_engine_so_its_id_stays_free():
    engine = Engine()
    two_accounts(engine)
    with pytest.raises(LedgerValueError, match="amount"):
        records.transfers([without(transfer(id=10), "amount")])
    assert engine.transfer_count == 0
    # The id was not spent: the transfer as meant is applied under it.
    batch = records.transfers([transfer(id=10, amount=7)])
    assert engine.submit(batch, verify_signatures=False).tolist() == [TR.ok]
    assert records.u128(engine.balances([2])["credits_posted"]) == [7]


def test_every_missing_field_is_named_at_once():
    with pytest.raises(LedgerValueError, match=r"no amount, ledger and code given"):
        records.transfers([dict(id=1, debit_account_id=1, credit_account_id=2)])


def test_an_explicit_zero_is_a_value_and_left_to_the_rules():
    engine = Engine()
    two_accounts(engine)
    batch = records.transfers([transfer(id=10, amount=0), transfer(id=11, code=0)])
    results = engine.submit(batch, verify_signatures=False)
    assert results.tolist() == [TR.ok, TR.code_must_not_be_zero]


def test_a_post_or_void_needs_its_pending_id_and_repeats_the_pending_fields():
    post = transfer(id=11, flags=TF.post_pending, pending_id=10)
    void = transfer(id=11, flags=TF.void_pending, pending_id=10)
    for row, kind in ((post, "a post"), (void, "a void")):
        with pytest.raises(LedgerValueError, match=rf"no pending_id given; {kind} needs"):
            records.transfers([without(row, "pending_id")])
        # The engine compares these with the pending transfer's: zero would never match.
        for name in ("debit_account_id", "credit_account_id", "ledger", "code"):
            with pytest.raises(LedgerValueError, match=rf"no {name} given; {kind} needs"):
                records.transfers([without(row, name)])
    with pytest.raises(LedgerValueError, match="no amount given; a post needs"):
        records.transfers([without(post, "amount")])


def test_a_void_may_leave_out_its_amount_and_voids_the_whole_pending_amount():
    engine = Engine()
    two_accounts(engine)
    pending = records.transfers([transfer(id=10, amount=40, flags=TF.pending)])
    assert engine.submit(pending, verify_signatures=False).tolist() == [TR.ok]
    void = records.transfers(
        [without(transfer(id=11, flags=TF.void_pending, pending_id=10), "amount")]
    )
    assert engine.submit(void, verify_signatures=False).tolist() == [TR.ok]
    balances = records.to_dicts(engine.balances([1]))[0]
    assert (balances["debits_pending"], balances["debits_posted"]) == (0, 0)


def test_rows_read_back_with_to_dicts_build_the_same_records():
    batch = records.transfers([transfer(id=n, user_data_64=n) for n in (1, 2)])
    assert records.transfers(records.to_dicts(batch)).tobytes() == batch.tobytes()
    accounts = records.accounts([account(id=n, flags=records.AccountFlags.frozen) for n in (1, 2)])
    assert records.accounts(records.to_dicts(accounts)).tobytes() == accounts.tobytes()


# ---------------------------------------------------------------------------- numpy integers


def _field_values(dtype: numpy.dtype):
    """(field, numpy integer type, value) with value in both the type's and the field's range."""
    numeric = [
        name
        for name in dtype.names
        if dtype.fields[name][0].shape == (2,) or dtype.fields[name][0].kind == "u"
    ]

    @st.composite
    def draw(draw_from):
        name = draw_from(st.sampled_from(numeric))
        kind = draw_from(st.sampled_from(NUMPY_INTEGERS))
        field = dtype.fields[name][0]
        high = int(numpy.iinfo(kind).max)
        if field.shape != (2,):
            high = min(high, int(numpy.iinfo(field.base).max))
        value = draw_from(st.integers(0, high))
        return name, kind, value

    return draw()


@settings(max_examples=300, deadline=None)
@given(_field_values(records.TRANSFER_DTYPE))
def test_any_numpy_integer_gives_the_same_transfer_as_the_python_int(case):
    name, kind, value = case
    # A pending_id is given so that any flags, post and void included, make a whole row.
    as_python = records.transfers([transfer(**({"pending_id": 3} | {name: value}))])
    as_numpy = records.transfers([transfer(**({"pending_id": 3} | {name: kind(value)}))])
    assert as_numpy.tobytes() == as_python.tobytes()


@settings(max_examples=200, deadline=None)
@given(_field_values(records.ACCOUNT_DTYPE))
def test_any_numpy_integer_gives_the_same_account_as_the_python_int(case):
    name, kind, value = case
    as_python = records.accounts([account(**{name: value})])
    as_numpy = records.accounts([account(**{name: kind(value)})])
    assert as_numpy.tobytes() == as_python.tobytes()


@pytest.mark.parametrize("value", [True, numpy.True_, 1.0, numpy.float64(1), "1", None])
def test_a_value_that_is_no_int_is_refused_naming_row_and_field(value):
    with pytest.raises(TypeError, match=r"^transfers\[0\]\.amount: expected an int, got "):
        records.transfers([transfer(amount=value)])
    with pytest.raises(TypeError, match=r"^accounts\[0\]\.code: expected an int, got "):
        records.accounts([account(code=value)])


def test_a_negative_numpy_integer_is_refused_naming_the_field():
    with pytest.raises(LedgerValueError, match=r"transfers\[0\]\.amount: -1 is outside"):
        records.transfers([transfer(amount=numpy.int64(-1))])
    with pytest.raises(LedgerValueError, match=r"transfers\[0\]\.ledger: -3 is outside"):
        records.transfers([transfer(ledger=numpy.int8(-3))])


def test_u128_helpers_take_numpy_integers():
    assert records.lanes(numpy.uint64(2**64 - 1)).tolist() == [2**64 - 1, 0]
    assert records.ids([numpy.uint64(5), numpy.int32(6), 2**64]).tolist() == [
        [5, 0],
        [6, 0],
        [0, 1],
    ]
    with pytest.raises(TypeError, match=r"ids\[0\]: expected an int, got bool"):
        records.ids([True])


def test_engine_and_ledger_take_numpy_clocks_heights_limits_and_ids(ledger):
    engine = Engine()
    results = engine.create_accounts(
        records.accounts([account(id=1), account(id=2)]), timestamp_ns=numpy.uint64(T0)
    )
    assert results.tolist() == [0, 0]
    assert engine.last_timestamp_ns == T0 + 1
    results, header = ledger.submit(
        signed([transfer(id=10), transfer(id=11)]), timestamp_ns=numpy.int64(T0 + 10**9)
    )
    assert results.tolist() == [TR.ok, TR.ok]
    assert header.timestamp_ns == T0 + 10**9
    assert ledger.block(numpy.int64(2)) == header
    assert [block.height for block in ledger.blocks(numpy.uint8(1), numpy.uint64(3))] == [1, 2]
    first = ledger.account_history(numpy.uint64(1), limit=numpy.int32(1))
    assert records.u128(first["id"]) == [10]
    rest = ledger.account_history(1, limit=numpy.int64(5), after=first["timestamp"][0])
    assert records.u128(rest["id"]) == [11]
    assert ledger.prove_account(numpy.uint64(2), height=numpy.int16(1)).verify()


# ---------------------------------------------------------------------------- arrays of ids


def test_a_one_dimensional_array_of_ids_is_taken_wherever_lanes_are(ledger):
    for ids in (
        numpy.array([2, 1], dtype=numpy.uint64),
        numpy.array([2, 1], dtype=numpy.int64),
        numpy.array([2, 1], dtype=numpy.uint32),
    ):
        assert records.u128(ledger.lookup_accounts(ids)["id"]) == [2, 1]
        assert records.u128(ledger.balances(ids)["id"]) == [2, 1]
    ledger.submit(signed([transfer(id=10)]), timestamp_ns=T0 + 10**9)
    assert len(ledger.lookup_transfers(numpy.array([10, 11], dtype=numpy.uint64))) == 1
    engine = Engine()
    two_accounts(engine)
    assert records.u128(engine.lookup_accounts(numpy.arange(1, 4))["id"]) == [1, 2]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(NUMPY_INTEGERS).flatmap(
        lambda kind: st.tuples(
            st.just(kind),
            st.lists(st.integers(0, int(numpy.iinfo(kind).max)), max_size=20),
        )
    )
)
def test_any_one_dimensional_integer_array_gives_the_ids_its_ints_give(case):
    kind, values = case
    as_array = records.ids(numpy.array(values, dtype=kind))
    assert as_array.dtype == numpy.dtype("<u8") and as_array.flags.c_contiguous
    assert as_array.tolist() == records.ids(values).tolist()


def test_arrays_of_ids_that_are_not_u128s_are_refused():
    with pytest.raises(TypeError, match="ids: expected an array of integers, got dtype float64"):
        records.ids(numpy.array([[1.5, 0.0]]))
    with pytest.raises(TypeError, match="ids: expected an array of integers, got dtype bool"):
        records.ids(numpy.array([True]))
    with pytest.raises(LedgerValueError, match=r"ids\[1\]: negative"):
        records.ids(numpy.array([3, -1]))
    with pytest.raises(LedgerValueError, match=r"ids\[0\]: negative"):
        records.ids(numpy.array([[0, -1]]))
    with pytest.raises(LedgerValueError, match=r"got shape \(2, 3\)"):
        records.ids(numpy.zeros((2, 3), dtype=numpy.uint64))


def test_the_lanes_of_one_record_field_are_not_read_as_two_ids():
    batch = records.transfers([transfer(debit_account_id=2**64 + 7)])
    with pytest.raises(LedgerValueError, match="one id, not two"):
        records.ids(batch["debit_account_id"][0])
    with pytest.raises(TypeError, match=r"ids\[0\]: .* lanes of a u128; give records\.u128"):
        records.ids([batch["debit_account_id"][0]])
    with pytest.raises(TypeError, match=r"transfers\[0\]\.pending_id: .* records\.u128"):
        records.transfers([transfer(pending_id=batch["id"][0])])
    assert records.ids(batch["debit_account_id"]).tolist() == [[7, 1]]
    assert records.ids(numpy.array([7, 1], dtype=numpy.uint64)).tolist() == [[7, 0], [1, 0]]


# ---------------------------------------------------------------------------- errors that name


@pytest.mark.parametrize("method", ["lookup_accounts", "balances", "lookup_transfers"])
def test_one_bare_id_is_refused_asking_for_a_sequence(ledger, method):
    for bare in (1, numpy.uint64(1), "1"):
        with pytest.raises(TypeError, match=r"ids: expected a sequence of ids .* \[id\]"):
            getattr(ledger, method)(bare)
    with pytest.raises(TypeError, match="ids: expected a sequence of ids"):
        getattr(Engine(), method)(1)


def test_account_history_of_an_unknown_account_is_refused_like_balances(ledger):
    with pytest.raises(LedgerValueError, match=r"ids\[0\]: no account 99"):
        ledger.balances([99])
    with pytest.raises(LedgerValueError, match=r"^account_id: no account 99$"):
        ledger.account_history(99)
    assert len(ledger.account_history(1)) == 0


def test_account_history_names_a_bad_limit_or_cursor(ledger):
    with pytest.raises(TypeError, match="limit: expected an int, got float"):
        ledger.account_history(1, limit=2.0)
    with pytest.raises(LedgerValueError, match="after: -1 is outside"):
        ledger.account_history(1, after=-1)


def test_with_on_a_closed_ledger_is_refused(tmp_path):
    opened = Ledger.open(tmp_path / "ledger")
    opened.close()
    with pytest.raises(LedgerValueError, match="the ledger is closed; open it again"), opened:
        pass
    assert opened.closed


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        (PAYER, r"got SigningKey; give its \.public_key"),
        (nacl.signing.SigningKey(b"s" * 32), r"got SigningKey; give bytes\(key\.verify_key\)"),
        (PAYER.public_key.hex(), r"got str; for a hex string give bytes\.fromhex"),
        (32, "got int$"),
        (list(PAYER.public_key), "got list$"),
    ],
)
def test_an_owner_key_of_the_wrong_kind_is_refused_naming_the_field(key, hint):
    with pytest.raises(TypeError, match=rf"^accounts\[0\]\.owner_key: expected 32 bytes, {hint}"):
        records.accounts([account(owner_key=key)])


def test_a_signing_keys_secret_seed_never_becomes_an_owner_key():
    # bytes() of a PyNaCl signing key is its seed: taking it would publish the secret.
    secret = nacl.signing.SigningKey(b"s" * 32)
    assert bytes(secret) == b"s" * 32
    with pytest.raises(TypeError, match="owner_key"):
        records.accounts([account(owner_key=secret)])


def test_an_owner_key_may_be_any_bytes_like_or_a_uint8_array():
    key = PAYER.public_key
    expected = records.accounts([account(owner_key=key)]).tobytes()
    for given_key in (bytearray(key), memoryview(key), numpy.frombuffer(key, numpy.uint8)):
        assert records.accounts([account(owner_key=given_key)]).tobytes() == expected


def test_records_of_the_other_kind_are_named_not_printed(ledger):
    accounts = records.accounts([account()])
    message = "transfers: expected dtype TRANSFER_DTYPE, got ACCOUNT_DTYPE"
    with pytest.raises(LedgerValueError) as refused:
        ledger.submit(accounts)
    assert str(refused.value) == message
    with pytest.raises(LedgerValueError) as refused:
        records.as_records(accounts, records.TRANSFER_DTYPE, "transfers")
    assert str(refused.value) == message
    with pytest.raises(LedgerValueError) as refused:
        ledger.create_accounts(records.transfers([transfer()]))
    assert str(refused.value) == "accounts: expected dtype ACCOUNT_DTYPE, got TRANSFER_DTYPE"
    with pytest.raises(LedgerValueError, match=r"got BALANCE_DTYPE$"):
        records.as_records(ledger.balances([1]), records.TRANSFER_DTYPE, "transfers")
    with pytest.raises(LedgerValueError, match=r"got int64$"):
        records.as_records(numpy.zeros(3, numpy.int64), records.TRANSFER_DTYPE, "transfers")


def test_a_list_of_dicts_where_an_array_is_wanted_points_to_the_builder(ledger):
    with pytest.raises(TypeError, match=r"got list \(records\.transfers builds one from dicts\)"):
        ledger.submit([transfer()])
    with pytest.raises(TypeError, match=r"got list \(records\.accounts builds one from dicts\)"):
        ledger.create_accounts([account()])
