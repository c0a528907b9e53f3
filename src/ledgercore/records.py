"""Records: the account and transfer layouts, their flags, result codes and u128 helpers.

Each record is a fixed-size, little-endian numpy structured dtype that is also the storage and
wire format (`FORMAT_VERSION` names the layout). A u128 (ids, amounts, balances) is two u64 lanes,
low lane first; `u128` reads them back as a Python int and `lanes` builds them, so a caller builds
whole arrays with `accounts([...])` and `transfers([...])` and never handles lanes by hand.

ACCOUNT_DTYPE, 160 bytes:

    offset  field             type      meaning
    0       id                u128      chosen by the client; not 0, not 2^128 - 1
    16      debits_pending    u128      reserved by pending transfers debiting this account
    32      debits_posted     u128
    48      credits_pending   u128      reserved by pending transfers crediting this account
    64      credits_posted    u128
    80      user_data_128     u128      opaque to the ledger
    96      owner_key         32 bytes  Ed25519 public key; it signs this account's debits
    128     user_data_64      u64
    136     user_data_32      u32
    140     reserved          u32       must be zero
    144     ledger            u32       the asset or currency; not 0
    148     code              u16       the account's type, chosen by the application; not 0
    150     flags             u16       AccountFlags
    152     timestamp         u64       ns, assigned by the engine; must be 0 when sent

TRANSFER_DTYPE, 192 bytes:

    offset  field              type      meaning
    0       id                 u128      chosen by the client, unique forever
    16      debit_account_id   u128      its owner signs the transfer
    32      credit_account_id  u128
    48      amount             u128      minor units
    64      pending_id         u128      post and void only: the pending transfer they resolve
    80      user_data_128      u128
    96      timeout_s          u32       pending only: seconds until the reservation lapses
    100     ledger             u32
    104     code               u16       not 0
    106     flags              u16       TransferFlags
    108     user_data_32       u32
    112     user_data_64       u64
    120     timestamp          u64       ns, assigned by the engine; must be 0 when sent
    128     signature          64 bytes  Ed25519 over signing_bytes(transfer)

The signed bytes of a transfer are `SIGNING_PREFIX` followed by bytes [0, 120) of its record:
every field the client sets, in the record's own order, and neither the timestamp (the engine's)
nor the signature itself.

Example:
    >>> from ledgercore import records
    >>> batch = records.transfers([dict(id=1, debit_account_id=10, credit_account_id=20,
    ...                                 amount=2**100, ledger=1, code=1)])
    >>> records.u128(batch["amount"][0]) == 2**100
    True
    >>> records.signing_bytes(batch).shape
    (1, 143)
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any

import numpy
import numpy.typing

from ledgercore.errors import LedgerValueError

FORMAT_VERSION = 1

U128_MAX = 2**128 - 1
AMOUNT_MAX = U128_MAX
"""A post with this amount posts the whole pending amount (a void says "whole" with 0 instead:
AMOUNT_MAX in a void is refused unless it is the pending amount itself)."""

SIGNING_PREFIX = b"ledgercore/transfer/v1\0"
SIGNED_SIZE = 120
SIGNING_SIZE = len(SIGNING_PREFIX) + SIGNED_SIZE

_U128 = ("<u8", (2,))


def _dtype(fields: list[tuple[str, Any, int]], itemsize: int) -> numpy.dtype:
    return numpy.dtype(
        {
            "names": [name for name, _, _ in fields],
            "formats": [fmt for _, fmt, _ in fields],
            "offsets": [offset for _, _, offset in fields],
            "itemsize": itemsize,
        },
        align=True,
    )


ACCOUNT_DTYPE = _dtype(
    [
        ("id", _U128, 0),
        ("debits_pending", _U128, 16),
        ("debits_posted", _U128, 32),
        ("credits_pending", _U128, 48),
        ("credits_posted", _U128, 64),
        ("user_data_128", _U128, 80),
        ("owner_key", ("u1", (32,)), 96),
        ("user_data_64", "<u8", 128),
        ("user_data_32", "<u4", 136),
        ("reserved", "<u4", 140),
        ("ledger", "<u4", 144),
        ("code", "<u2", 148),
        ("flags", "<u2", 150),
        ("timestamp", "<u8", 152),
    ],
    160,
)

TRANSFER_DTYPE = _dtype(
    [
        ("id", _U128, 0),
        ("debit_account_id", _U128, 16),
        ("credit_account_id", _U128, 32),
        ("amount", _U128, 48),
        ("pending_id", _U128, 64),
        ("user_data_128", _U128, 80),
        ("timeout_s", "<u4", 96),
        ("ledger", "<u4", 100),
        ("code", "<u2", 104),
        ("flags", "<u2", 106),
        ("user_data_32", "<u4", 108),
        ("user_data_64", "<u8", 112),
        ("timestamp", "<u8", 120),
        ("signature", ("u1", (64,)), 128),
    ],
    192,
)

BALANCE_DTYPE = numpy.dtype(
    [
        ("id", _U128),
        ("debits_pending", _U128),
        ("debits_posted", _U128),
        ("credits_pending", _U128),
        ("credits_posted", _U128),
    ]
)
"""What `Engine.balances` returns: an account's id and its four balances."""

RESULT_DTYPE = numpy.dtype(numpy.uint8)
"""The integer type of result arrays: one CreateAccountResult or TransferResult per record."""

_U128_FIELDS = frozenset(
    name
    for dtype in (ACCOUNT_DTYPE, TRANSFER_DTYPE)
    for name in dtype.names or ()
    if dtype.fields is not None and dtype.fields[name][0].shape == (2,)
)
_BYTES_FIELDS = {"owner_key": 32, "signature": 64}


class AccountFlags(enum.IntFlag):
    """Flags of an account (the `flags` field of ACCOUNT_DTYPE)."""

    none = 0
    linked = 1 << 0
    """This account's creation succeeds or fails with the next one's (a linked chain)."""
    debits_must_not_exceed_credits = 1 << 1
    """Debits, pending and posted, may never exceed posted credits (an asset the holder owns)."""
    credits_must_not_exceed_debits = 1 << 2
    """Credits, pending and posted, may never exceed posted debits (a liability's limit)."""
    frozen = 1 << 3
    """No new transfer or post may touch the account; voids still release its reservations."""
    closed = 1 << 4
    """As frozen, for good: the account takes no further transfers or posts."""


class TransferFlags(enum.IntFlag):
    """Flags of a transfer (the `flags` field of TRANSFER_DTYPE)."""

    none = 0
    linked = 1 << 0
    """This transfer succeeds or fails with the next one (a linked chain)."""
    pending = 1 << 1
    """Reserve the amount (pending balances) until a post, a void or the timeout."""
    post_pending = 1 << 2
    """Post the pending transfer `pending_id`: all of it (AMOUNT_MAX) or a smaller amount."""
    void_pending = 1 << 3
    """Void the pending transfer `pending_id`: its whole reservation is released, nothing moves.

    The void's amount is 0 (meaning the whole pending amount) or exactly the pending amount; any
    other is refused, AMOUNT_MAX included: above the pending amount `amount_exceeds_pending`,
    below it `pending_transfer_has_different_amount`.
    """


class _DocumentedEnum(enum.IntEnum):
    """An IntEnum whose members carry a one-line docstring: `name = value, "doc"`."""

    def __new__(cls, value: int, doc: str) -> _DocumentedEnum:
        member = int.__new__(cls, value)
        member._value_ = value
        member.__doc__ = doc
        return member


class CreateAccountResult(_DocumentedEnum):
    """The result of creating one account, in order of precedence (the first failing rule wins).

    So every account of a linked chain that failed answers `linked_event_failed`, the batch's last
    one included even when it has the linked flag (that is `linked_event_chain_open` only while
    the chain stands).
    """

    ok = 0, "The account was created."
    linked_event_failed = 1, "Another account of its linked chain failed, so none was created."
    linked_event_chain_open = (
        2,
        "The last account of the batch has the linked flag, and its chain had not failed.",
    )
    timestamp_must_be_zero = 3, "The timestamp is set; the engine assigns it."
    reserved_field = 4, "The reserved field is not zero."
    reserved_flag = 5, "A flag this version does not define is set."
    id_must_not_be_zero = 6, "The id is zero."
    id_must_not_be_int_max = 7, "The id is 2^128 - 1, which is reserved."
    exists_with_different_fields = 8, "An account with this id exists with other fields."
    exists = 9, "This account exists already, with the same fields; nothing changed."
    flags_are_mutually_exclusive = 10, "Both balance-limit flags are set."
    balances_must_be_zero = 11, "A balance is set; accounts start at zero."
    ledger_must_not_be_zero = 12, "The ledger is zero."
    code_must_not_be_zero = 13, "The code is zero."
    bad_public_key = 14, "The owner key is not a valid, canonical Ed25519 key of large order."


class TransferResult(_DocumentedEnum):
    """The result of submitting one transfer, in order of precedence (the first failing rule wins).

    So every transfer of a linked chain that failed answers `linked_event_failed`, the batch's
    last one included even when it has the linked flag (that is `linked_event_chain_open` only
    while the chain stands).

    Failures from `account_not_found` on depend on the ledger's state: a transfer failing so
    outside a linked chain keeps its id, which then answers `id_already_failed`, so that a signed
    transfer refused once can never be replayed into success later.
    """

    ok = 0, "The transfer was applied."
    linked_event_failed = 1, "Another transfer of its linked chain failed, so none was applied."
    linked_event_chain_open = (
        2,
        "The last transfer of the batch has the linked flag, and its chain had not failed.",
    )
    bad_signature = 3, "The signature does not verify under the debit account's owner key."
    timestamp_must_be_zero = 4, "The timestamp is set; the engine assigns it."
    reserved_flag = 5, "A flag this version does not define is set."
    id_must_not_be_zero = 6, "The id is zero."
    id_must_not_be_int_max = 7, "The id is 2^128 - 1, which is reserved."
    exists_with_different_fields = 8, "A transfer with this id exists with other fields."
    exists = 9, "This transfer exists already, with the same fields; nothing moved again."
    id_already_failed = 10, "A transfer with this id failed before on the ledger's state."
    flags_are_mutually_exclusive = 11, "More than one of pending, post_pending, void_pending."
    account_id_must_not_be_zero = 12, "The debit or credit account id is zero."
    account_id_must_not_be_int_max = 13, "The debit or credit account id is 2^128 - 1."
    accounts_must_be_different = 14, "The debit and credit accounts are the same."
    pending_id_must_be_zero = 15, "A pending_id is set on a transfer that is no post or void."
    pending_id_must_not_be_zero = 16, "A post or void has no pending_id."
    pending_id_must_not_be_int_max = 17, "The pending_id is 2^128 - 1."
    pending_id_must_be_different = 18, "A post or void names itself as the pending transfer."
    timeout_reserved_for_pending_transfer = 19, "A timeout is set on a transfer not pending."
    ledger_must_not_be_zero = 20, "The ledger is zero."
    code_must_not_be_zero = 21, "The code is zero."
    account_not_found = 22, "The debit or credit account does not exist."
    ledger_mismatch = 23, "The accounts' ledgers differ from each other or from the transfer's."
    pending_transfer_not_found = 24, "No transfer has the pending_id."
    pending_transfer_not_pending = 25, "The transfer named by pending_id is not pending."
    pending_transfer_has_different_fields = 26, "Accounts, ledger or code differ from the pending."
    amount_exceeds_pending = (
        27,
        "The amount exceeds the pending one's (AMOUNT_MAX means all of it in a post, not a void).",
    )
    pending_transfer_has_different_amount = 28, "A void's amount is neither 0 nor the pending's."
    pending_transfer_already_posted = 29, "The pending transfer was posted already."
    pending_transfer_already_voided = 30, "The pending transfer was voided already."
    pending_transfer_expired = 31, "The pending transfer's timeout has lapsed."
    account_frozen = 32, "The debit or credit account is frozen."
    account_closed = 33, "The debit or credit account is closed."
    overflow = 34, "A balance (or the expiry time) would exceed its 128-bit (64-bit) range."
    exceeds_credits = 35, "The debit account's debits would exceed its posted credits."
    exceeds_debits = 36, "The credit account's credits would exceed its posted debits."


# ---------------------------------------------------------------------------- u128 helpers


def lanes(value: int) -> numpy.ndarray:
    """The two u64 lanes (low first) of one u128.

    Args:
        value: an int in [0, 2^128).

    Returns:
        A (2,) uint64 array.

    Raises:
        TypeError: value is not an int.
        LedgerValueError: value is negative or 2^128 or more.

    Example:
        >>> lanes(2**64 + 5).tolist()
        [5, 1]
    """
    _check_u128(value, "value")
    return numpy.array([value & 0xFFFF_FFFF_FFFF_FFFF, value >> 64], dtype="<u8")


def u128(pair: numpy.typing.ArrayLike) -> Any:
    """The Python int(s) held in u128 lanes: a (2,) pair gives an int, an (n, 2) array a list.

    Args:
        pair: lanes as stored in a record field, e.g. `batch["amount"][0]` or `batch["amount"]`.

    Returns:
        An int for one pair, a list of ints for many.

    Raises:
        LedgerValueError: the last axis is not of length 2.

    Example:
        >>> from ledgercore import records
        >>> batch = records.transfers([dict(id=7, amount=2**64)])
        >>> records.u128(batch["amount"][0]), records.u128(batch["id"])
        (18446744073709551616, [7])
    """
    array = numpy.asarray(pair, dtype="<u8")
    if array.ndim == 0 or array.shape[-1] != 2:
        raise LedgerValueError(f"pair: expected lanes of shape (..., 2), got {array.shape}")
    if array.ndim == 1:
        return int(array[0]) | (int(array[1]) << 64)
    flat = array.reshape(-1, 2).tolist()
    return [low | (high << 64) for low, high in flat]


def ids(values: Iterable[int] | numpy.ndarray) -> numpy.ndarray:
    """An (n, 2) uint64 lane array of u128 ids, as lookups take them.

    Args:
        values: ints in [0, 2^128), or an (n, 2) uint64 array (returned C-contiguous).

    Returns:
        A C-contiguous (n, 2) uint64 array.

    Raises:
        TypeError: an item is not an int.
        LedgerValueError: an id out of range, or an array of the wrong shape.

    Example:
        >>> ids([1, 2**64]).tolist()
        [[1, 0], [0, 1]]
    """
    if isinstance(values, numpy.ndarray):
        if values.ndim != 2 or values.shape[1] != 2:
            raise LedgerValueError(f"ids: expected shape (n, 2), got {values.shape}")
        return numpy.ascontiguousarray(values, dtype="<u8")
    items = list(values)
    out = numpy.empty((len(items), 2), dtype="<u8")
    for row, value in enumerate(items):
        _check_u128(value, f"ids[{row}]")
        out[row, 0] = value & 0xFFFF_FFFF_FFFF_FFFF
        out[row, 1] = value >> 64
    return out


def _check_u128(value: object, name: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__}")
    if value < 0 or value > U128_MAX:
        raise LedgerValueError(f"{name}: {value} is outside [0, 2^128)")


# ---------------------------------------------------------------------------- building records


def _build(rows: Iterable[Mapping[str, Any]], dtype: numpy.dtype, what: str) -> numpy.ndarray:
    items = list(rows)
    out = numpy.zeros(len(items), dtype=dtype)
    names = dtype.names or ()
    for row, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise TypeError(f"{what}[{row}]: expected a mapping, got {type(item).__name__}")
        for name, value in item.items():
            where = f"{what}[{row}].{name}"
            if name not in names:
                raise LedgerValueError(f"{where}: no such field (fields: {', '.join(names)})")
            if name in _U128_FIELDS:
                _check_u128(value, where)
                out[name][row] = (value & 0xFFFF_FFFF_FFFF_FFFF, value >> 64)
            elif name in _BYTES_FIELDS:
                data = bytes(value)
                if len(data) != _BYTES_FIELDS[name]:
                    raise LedgerValueError(
                        f"{where}: expected {_BYTES_FIELDS[name]} bytes, got {len(data)}"
                    )
                out[name][row] = numpy.frombuffer(data, dtype=numpy.uint8)
            else:
                if not isinstance(value, int) or value < 0:
                    raise LedgerValueError(f"{where}: expected a non-negative int, got {value!r}")
                limit = numpy.iinfo(out.dtype.fields[name][0]).max
                if value > limit:
                    raise LedgerValueError(f"{where}: {value} exceeds {limit}")
                out[name][row] = value
    return out


def accounts(rows: Iterable[Mapping[str, Any]]) -> numpy.ndarray:
    """An ACCOUNT_DTYPE array from mappings of field name to value; missing fields are zero.

    Args:
        rows: e.g. `[dict(id=1, ledger=1, code=1, owner_key=key_bytes)]`; u128 fields take ints,
            `owner_key` takes 32 bytes, flags take AccountFlags or ints.

    Returns:
        A 1-D ACCOUNT_DTYPE array, one row per mapping.

    Raises:
        TypeError: a row is not a mapping, or a u128 value not an int.
        LedgerValueError: an unknown field, or a value out of its field's range, naming the row.

    Example:
        >>> from ledgercore import records
        >>> batch = records.accounts([dict(id=1, ledger=1, code=1), dict(id=2, ledger=1, code=1)])
        >>> batch.dtype == records.ACCOUNT_DTYPE, records.u128(batch["id"])
        (True, [1, 2])
    """
    return _build(rows, ACCOUNT_DTYPE, "accounts")


def transfers(rows: Iterable[Mapping[str, Any]]) -> numpy.ndarray:
    """A TRANSFER_DTYPE array from mappings of field name to value; missing fields are zero.

    Args:
        rows: e.g. `[dict(id=1, debit_account_id=1, credit_account_id=2, amount=100, ledger=1,
            code=1)]`; amounts are minor units (ints below 2^128), `signature` takes 64 bytes.

    Returns:
        A 1-D TRANSFER_DTYPE array, one row per mapping.

    Raises:
        TypeError: a row is not a mapping, or a u128 value not an int.
        LedgerValueError: an unknown field, or a value out of its field's range, naming the row.

    Example:
        >>> from ledgercore import records
        >>> batch = records.transfers([dict(id=1, debit_account_id=1, credit_account_id=2,
        ...                                 amount=100, ledger=1, code=1)])
        >>> records.u128(batch["amount"][0])
        100
    """
    return _build(rows, TRANSFER_DTYPE, "transfers")


def to_dicts(array: numpy.ndarray) -> list[dict[str, Any]]:
    """Rows of an ACCOUNT_DTYPE, TRANSFER_DTYPE or BALANCE_DTYPE array as dicts of Python values.

    Args:
        array: a 1-D array of one of those dtypes.

    Returns:
        One dict per row: u128 fields as ints, key and signature fields as bytes.

    Raises:
        LedgerValueError: the array is not 1-D or has another dtype.

    Example:
        >>> from ledgercore import records
        >>> records.to_dicts(records.accounts([dict(id=3, ledger=1, code=1)]))[0]["id"]
        3
    """
    if array.dtype not in (ACCOUNT_DTYPE, TRANSFER_DTYPE, BALANCE_DTYPE) or array.ndim != 1:
        raise LedgerValueError(
            f"array: expected a 1-D record array, got {array.dtype} {array.shape}"
        )
    columns: dict[str, list[Any]] = {}
    for name in array.dtype.names or ():
        column = array[name]
        if name in _U128_FIELDS:
            columns[name] = u128(column) if len(array) else []
        elif name in _BYTES_FIELDS:
            columns[name] = [bytes(row) for row in column]
        else:
            columns[name] = column.tolist()
    return [{name: values[row] for name, values in columns.items()} for row in range(len(array))]


def as_records(data: Any, dtype: numpy.dtype, name: str) -> numpy.ndarray:
    """A 1-D, C-contiguous array of `dtype` from such an array or from its raw bytes.

    Args:
        data: a structured array of exactly `dtype`, or bytes-like of whole records.
        dtype: ACCOUNT_DTYPE or TRANSFER_DTYPE.
        name: the argument's name, for errors.

    Returns:
        The array itself when it already fits, else a view of the bytes (or a contiguous copy).

    Raises:
        TypeError: neither an array nor bytes-like.
        LedgerValueError: another dtype, not 1-D, or a byte count that is no whole record count.

    Example:
        >>> from ledgercore import records
        >>> raw = records.accounts([dict(id=1, ledger=1, code=1)]).tobytes()
        >>> len(records.as_records(raw, records.ACCOUNT_DTYPE, "accounts"))
        1
    """
    if isinstance(data, numpy.ndarray):
        if data.dtype != dtype:
            raise LedgerValueError(f"{name}: expected dtype {_dtype_name(dtype)}, got {data.dtype}")
        if data.ndim != 1:
            raise LedgerValueError(f"{name}: expected a 1-D array, got shape {data.shape}")
        return numpy.ascontiguousarray(data)
    if isinstance(data, (bytes, bytearray, memoryview)):
        size = memoryview(data).nbytes
        if size % dtype.itemsize != 0:
            raise LedgerValueError(
                f"{name}: {size} bytes is not a whole number of {dtype.itemsize}-byte records"
            )
        return numpy.frombuffer(data, dtype=dtype)
    raise TypeError(f"{name}: expected a numpy record array or bytes, got {type(data).__name__}")


def _dtype_name(dtype: numpy.dtype) -> str:
    return "ACCOUNT_DTYPE" if dtype == ACCOUNT_DTYPE else "TRANSFER_DTYPE"


def signing_bytes(transfers: numpy.ndarray) -> numpy.ndarray:
    """The canonical signed bytes of each transfer, in one native call.

    Row i is SIGNING_PREFIX followed by bytes [0, 120) of transfers[i]: every field the client
    sets, excluding the engine's timestamp and the signature. The owner key of the debit account
    signs it; `SigningKey.sign_many` and `verify_batch` take the array as it is.

    Args:
        transfers: a 1-D TRANSFER_DTYPE array (or its raw bytes).

    Returns:
        A (n, SIGNING_SIZE) uint8 array (SIGNING_SIZE is 143).

    Raises:
        TypeError, LedgerValueError: as for `as_records`.

    Example:
        >>> from ledgercore import records
        >>> batch = records.transfers([dict(id=1, debit_account_id=1, credit_account_id=2,
        ...                                 amount=5, ledger=1, code=1)])
        >>> records.signing_bytes(batch)[0, :23].tobytes()
        b'ledgercore/transfer/v1\\x00'
    """
    from ledgercore._native import apply

    return apply.signing_bytes(as_records(transfers, TRANSFER_DTYPE, "transfers"))
