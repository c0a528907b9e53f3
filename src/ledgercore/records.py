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
    128     signature          64 bytes  Ed25519 over signing_bytes(transfer, ledger_id)

The signed bytes of a transfer are `SIGNING_PREFIX` followed by bytes [0, 120) of its record:
every field the client sets, in the record's own order, and neither the timestamp (the engine's)
nor the signature itself.

Example:
    >>> from ledgercore import records
    >>> batch = records.transfers([dict(id=1, debit_account_id=10, credit_account_id=20,
    ...                                 amount=2**100, ledger=1, code=1)])
    >>> records.u128(batch["amount"][0]) == 2**100
    True
    >>> records.signing_bytes(batch, ledger_id=bytes(16)).shape
    (1, 159)
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import numpy
import numpy.typing

from ledgercore.errors import LedgerValueError

FORMAT_VERSION = 1

U128_MAX = 2**128 - 1
AMOUNT_MAX = U128_MAX
"""A post with this amount posts the whole pending amount (a void says "whole" with 0 instead:
AMOUNT_MAX in a void is refused unless it is the pending amount itself)."""

SIGNING_PREFIX = b"ledgercore/transfer/v2\0"
SIGNING_PREFIX_V1 = b"ledgercore/transfer/v1\0"
"""The prefix of the messages of blocks with format 1 headers, which named no ledger."""
LEDGER_ID_SIZE = 16
SIGNED_SIZE = 120
SIGNING_SIZE = len(SIGNING_PREFIX) + LEDGER_ID_SIZE + SIGNED_SIZE
SIGNING_SIZE_V1 = len(SIGNING_PREFIX_V1) + SIGNED_SIZE

_U128 = ("<u8", (2,))
_LANE_DTYPE = numpy.dtype("<u8")


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
_SMALL = frozenset(
    name
    for dtype in (ACCOUNT_DTYPE, TRANSFER_DTYPE)
    for name in dtype.names or ()
    if name not in _U128_FIELDS and name not in _BYTES_FIELDS
)


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


ResultType = TypeVar("ResultType", TransferResult, CreateAccountResult)


def failures(
    results: numpy.ndarray,
    result_type: type[ResultType] = TransferResult,  # type: ignore[assignment]
) -> list[tuple[int, ResultType]]:
    """The refused records of a batch: (index, result) for each result that is not ok.

    Most batches are mostly accepted, so this is the short list a caller logs or returns to
    its client (as TigerBeetle's clients do), each code as its named enum member.

    Args:
        results: the result array `submit` or `create_accounts` returned.
        result_type: TransferResult (the default) or CreateAccountResult.

    Returns:
        A list of (index in the batch, result member), in batch order.

    Raises:
        TypeError: results is not a 1-D integer array, or result_type is not a result enum.
        LedgerValueError: a code that result_type does not define.

    Example:
        >>> failures(numpy.array([0, 35, 0], dtype=numpy.uint8))
        [(1, <TransferResult.exceeds_credits: 35>)]
    """
    if result_type not in (TransferResult, CreateAccountResult):
        raise TypeError("result_type: expected TransferResult or CreateAccountResult")
    if (
        not isinstance(results, numpy.ndarray)
        or results.ndim != 1
        or results.dtype.kind not in "ui"
    ):
        raise TypeError(
            "results: expected the 1-D integer array submit or create_accounts returned"
        )
    rows = numpy.flatnonzero(results != 0)
    codes = results[rows].tolist()
    try:
        return [
            (int(row), result_type(code)) for row, code in zip(rows.tolist(), codes, strict=True)
        ]
    except ValueError:
        unknown = next(code for code in codes if code not in result_type._value2member_map_)
        raise LedgerValueError(f"results: {unknown} is not a {result_type.__name__}") from None


def as_int(value: object, name: str) -> int:
    """value as a Python int, if it is an int or a numpy integer (numpy.uint64, numpy.int32, ...).

    Bools are refused: True where a number was meant is a mistake, not the number 1. So are
    floats, whose large values are already rounded (2.0**64 + 1 is 2.0**64).

    Args:
        value: the value given.
        name: the argument or field it was given as, for the error.

    Returns:
        The value as an int.

    Raises:
        TypeError: value is not an int nor a numpy integer, naming `name` and its type.

    Example:
        >>> import numpy
        >>> as_int(numpy.uint64(2**64 - 1), "amount") == 2**64 - 1
        True
        >>> as_int(1.0, "amount")
        Traceback (most recent call last):
        TypeError: amount: expected an int, got float
    """
    if isinstance(value, bool) or not isinstance(value, (int, numpy.integer)):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__}")
    return int(value)


def lanes(value: int) -> numpy.ndarray:
    """The two u64 lanes (low first) of one u128.

    Args:
        value: an int (or numpy integer) in [0, 2^128).

    Returns:
        A (2,) uint64 array.

    Raises:
        TypeError: value is not an int.
        LedgerValueError: value is negative or 2^128 or more.

    Example:
        >>> lanes(2**64 + 5).tolist()
        [5, 1]
    """
    value = _check_u128(value, "value")
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
        >>> batch = records.transfers([dict(id=7, debit_account_id=1, credit_account_id=2,
        ...                                 amount=2**64, ledger=1, code=1)])
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


def ids(values: Iterable[int] | numpy.ndarray, name: str = "ids") -> numpy.ndarray:
    """An (n, 2) uint64 lane array of u128 ids, as lookups take them.

    Args:
        values: a sequence of ints (or numpy integers) in [0, 2^128); or a 1-D integer array,
            one id per element (ids below 2^64); or an (n, 2) integer array of lanes, low lane
            first (returned C-contiguous). A record field's (2,) lanes are one id, not two:
            read it with `u128`.
        name: the argument's name, for errors.

    Returns:
        A C-contiguous (n, 2) uint64 array.

    Raises:
        TypeError: values is not a sequence (one bare id, say), an item is not an int, or an
            array is not of integers.
        LedgerValueError: an id out of range, or an array of the wrong shape.

    Example:
        >>> import numpy
        >>> ids([1, 2**64]).tolist()
        [[1, 0], [0, 1]]
        >>> ids(numpy.array([7, 8], dtype=numpy.uint64)).tolist()
        [[7, 0], [8, 0]]
    """
    if isinstance(values, numpy.ndarray) and values.dtype != numpy.object_:
        return _id_array(values, name)
    if isinstance(values, (int, numpy.integer, str, bytes, bytearray, memoryview)) or not (
        isinstance(values, Iterable)
    ):
        raise TypeError(
            f"{name}: expected a sequence of ids (ints, or a uint64 array), got "
            f"{type(values).__name__}; for one id, give a list of one: [id]"
        )
    items = list(values)
    out = numpy.empty((len(items), 2), dtype="<u8")
    for row, value in enumerate(items):
        value = _check_u128(value, f"{name}[{row}]")
        out[row, 0] = value & 0xFFFF_FFFF_FFFF_FFFF
        out[row, 1] = value >> 64
    return out


def _id_array(values: numpy.ndarray, name: str) -> numpy.ndarray:
    """ids() of an array, without a Python step per id."""
    if values.ndim == 2 and values.shape[1] == 2 and values.dtype == _LANE_DTYPE:
        return numpy.ascontiguousarray(values)
    if values.dtype.kind not in "ui":
        raise TypeError(f"{name}: expected an array of integers, got dtype {values.dtype}")
    if values.ndim not in (1, 2) or (values.ndim == 2 and values.shape[1] != 2):
        raise LedgerValueError(
            f"{name}: expected a 1-D array of ids or an (n, 2) array of u64 lanes, "
            f"got shape {values.shape}"
        )
    if values.ndim == 1 and _is_one_field(values):
        raise LedgerValueError(
            f"{name}: got the two lanes of one record's u128 field, which are one id, not two; "
            "give [records.u128(lanes)], or the whole (n, 2) column"
        )
    if values.dtype.kind == "i" and values.size and values.min() < 0:
        row = int(numpy.flatnonzero((values < 0).reshape(len(values), -1).any(axis=1))[0])
        raise LedgerValueError(f"{name}[{row}]: negative, and an id is in [0, 2^128)")
    if values.ndim == 2:
        return numpy.ascontiguousarray(values, dtype="<u8")
    out = numpy.zeros((len(values), 2), dtype="<u8")
    out[:, 0] = values
    return out


def _is_one_field(values: numpy.ndarray) -> bool:
    """True of `batch["id"][0]`: two adjacent u64s inside a structured array's row, which a
    1-D array of ids would otherwise read as the ids low and high."""
    base = values.base
    return (
        values.shape == (2,)
        and values.strides == (8,)
        and isinstance(base, numpy.ndarray)
        and base.dtype.names is not None
    )


def _check_u128(value: object, name: str) -> int:
    if isinstance(value, numpy.ndarray) and value.shape == (2,):
        raise TypeError(
            f"{name}: expected an int, got the two lanes of a u128; give records.u128(lanes)"
        )
    number = as_int(value, name)
    if number < 0 or number > U128_MAX:
        raise LedgerValueError(f"{name}: {number} is outside [0, 2^128)")
    return number


# ---------------------------------------------------------------------------- building records

_REQUIRED_ACCOUNT = ("id", "ledger", "code", "owner_key")
_REQUIRED_TRANSFER = ("id", "debit_account_id", "credit_account_id", "amount", "ledger", "code")
_RESOLVES = TransferFlags.post_pending | TransferFlags.void_pending


def _missing(item: Mapping[str, Any], flags: int, dtype: numpy.dtype) -> list[str]:
    """The fields a row cannot do without that it leaves out.

    A zero filled in for them would pass for a value: a transfer without an amount would move
    nothing and spend its id for good. A post or void repeats its pending transfer's accounts,
    ledger and code (the engine compares them) and names it in pending_id; a void alone may
    leave out its amount, as 0 (no amount) voids the whole pending amount.
    """
    if dtype == ACCOUNT_DTYPE:
        return [name for name in _REQUIRED_ACCOUNT if name not in item]
    required = list(_REQUIRED_TRANSFER)
    if flags & _RESOLVES:
        required.append("pending_id")
    if flags & _RESOLVES == TransferFlags.void_pending:
        required.remove("amount")
    return [name for name in required if name not in item]


def _key_bytes(value: object, size: int, where: str) -> numpy.ndarray:
    """A bytes field's value as `size` uint8s; only bytes-likes and uint8 arrays are taken,
    since bytes() of anything else guesses (bytes(32) is 32 zeros, bytes of a PyNaCl signing
    key is its secret seed)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = numpy.frombuffer(bytes(value), dtype=numpy.uint8)
    elif isinstance(value, numpy.ndarray) and value.dtype == numpy.uint8 and value.ndim == 1:
        data = value
    else:
        hint = ""
        if size == 32 and hasattr(value, "public_key"):
            hint = "; give its .public_key (a signing key's secret never goes into a record)"
        elif size == 32 and hasattr(value, "verify_key"):
            hint = "; give bytes(key.verify_key) (a signing key's secret never goes in a record)"
        elif isinstance(value, str):
            hint = "; for a hex string give bytes.fromhex(text)"
        raise TypeError(f"{where}: expected {size} bytes, got {type(value).__name__}{hint}")
    if len(data) != size:
        raise LedgerValueError(f"{where}: expected {size} bytes, got {len(data)}")
    return data


def _build(rows: Iterable[Mapping[str, Any]], dtype: numpy.dtype, what: str) -> numpy.ndarray:
    items = list(rows)
    out = numpy.zeros(len(items), dtype=dtype)
    names = dtype.names or ()
    fields = dtype.fields or {}
    columns = {name: out[name] for name in names}
    limits = {name: int(numpy.iinfo(fields[name][0]).max) for name in names if name in _SMALL}
    required = set(_REQUIRED_ACCOUNT if dtype == ACCOUNT_DTYPE else _REQUIRED_TRANSFER)
    for row, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise TypeError(f"{what}[{row}]: expected a mapping, got {type(item).__name__}")
        flags = 0
        for name, value in item.items():
            where = f"{what}[{row}].{name}"
            if name not in columns:
                raise LedgerValueError(f"{where}: no such field (fields: {', '.join(names)})")
            if name in _U128_FIELDS:
                number = _check_u128(value, where)
                columns[name][row] = (number & 0xFFFF_FFFF_FFFF_FFFF, number >> 64)
            elif name in _BYTES_FIELDS:
                columns[name][row] = _key_bytes(value, _BYTES_FIELDS[name], where)
            else:
                number = as_int(value, where)
                if not 0 <= number <= limits[name]:
                    raise LedgerValueError(f"{where}: {number} is outside [0, {limits[name]}]")
                columns[name][row] = number
                if name == "flags":
                    flags = number
        if not required <= item.keys() or flags & _RESOLVES:
            _check_complete(item, flags, dtype, f"{what}[{row}]")
    return out


def _check_complete(item: Mapping[str, Any], flags: int, dtype: numpy.dtype, where: str) -> None:
    missing = _missing(item, flags, dtype)
    if not missing:
        return
    kind = "an account" if dtype == ACCOUNT_DTYPE else _transfer_kind(flags)
    needed = _missing({}, flags, dtype)
    hint = "" if set(missing) <= _BYTES_FIELDS.keys() else " (give 0 where zero is meant)"
    raise LedgerValueError(
        f"{where}: no {_listed(missing)} given; {kind} needs {_listed(needed)}{hint}"
    )


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _transfer_kind(flags: int) -> str:
    if flags & _RESOLVES == TransferFlags.post_pending:
        return "a post"
    if flags & _RESOLVES == TransferFlags.void_pending:
        return "a void"
    return "a transfer"


def accounts(rows: Iterable[Mapping[str, Any]]) -> numpy.ndarray:
    """An ACCOUNT_DTYPE array from mappings of field name to value.

    Every account must give id, ledger, code and owner_key; the other fields are zero when left
    out (balances and timestamp must be, as the engine sets them).

    Args:
        rows: e.g. `[dict(id=1, ledger=1, code=1, owner_key=key.public_key)]`; numeric fields
            take ints or numpy integers, `owner_key` takes 32 bytes (bytes-like or a uint8
            array), flags take AccountFlags or ints.

    Returns:
        A 1-D ACCOUNT_DTYPE array, one row per mapping.

    Raises:
        TypeError: a row is not a mapping, or a value of the wrong type, naming row and field.
        LedgerValueError: an unknown field, a required field left out, or a value out of its
            field's range, naming the row and the field.

    Example:
        >>> from ledgercore import records
        >>> from ledgercore.keys import SigningKey
        >>> key = SigningKey.from_seed(b"k" * 32).public_key
        >>> batch = records.accounts([dict(id=1, ledger=1, code=1, owner_key=key),
        ...                           dict(id=2, ledger=1, code=1, owner_key=key)])
        >>> batch.dtype == records.ACCOUNT_DTYPE, records.u128(batch["id"])
        (True, [1, 2])
        >>> try:
        ...     records.accounts([dict(id=3, ledger=1, owner_key=key)])
        ... except ValueError as error:
        ...     print(error)  # doctest: +ELLIPSIS
        accounts[0]: no code given; an account needs id, ledger, code and owner_key ...
    """
    return _build(rows, ACCOUNT_DTYPE, "accounts")


def transfers(rows: Iterable[Mapping[str, Any]]) -> numpy.ndarray:
    """A TRANSFER_DTYPE array from mappings of field name to value.

    Every transfer must give id, debit_account_id, credit_account_id, amount, ledger and code.
    A post or void (`post_pending` or `void_pending` in flags) gives them too, as the pending
    transfer has them, and its pending_id; a void may leave out its amount (0: the whole
    pending amount). The other fields are zero when left out.

    Args:
        rows: e.g. `[dict(id=1, debit_account_id=1, credit_account_id=2, amount=100, ledger=1,
            code=1)]`; amounts are minor units (ints or numpy integers below 2^128),
            `signature` takes 64 bytes.

    Returns:
        A 1-D TRANSFER_DTYPE array, one row per mapping.

    Raises:
        TypeError: a row is not a mapping, or a value of the wrong type, naming row and field.
        LedgerValueError: an unknown field, a required field left out, or a value out of its
            field's range, naming the row and the field.

    Example:
        >>> from ledgercore import records
        >>> batch = records.transfers([dict(id=1, debit_account_id=1, credit_account_id=2,
        ...                                 amount=100, ledger=1, code=1)])
        >>> records.u128(batch["amount"][0])
        100
        >>> try:
        ...     records.transfers([dict(id=2, debit_account_id=1, credit_account_id=2, ledger=1,
        ...                             code=1)])
        ... except ValueError as error:
        ...     print(error)  # doctest: +ELLIPSIS
        transfers[0]: no amount given; a transfer needs id, debit_account_id, ...
    """
    return _build(rows, TRANSFER_DTYPE, "transfers")


def to_dicts(array: numpy.ndarray) -> list[dict[str, Any]]:
    """Rows of an ACCOUNT_DTYPE, TRANSFER_DTYPE or BALANCE_DTYPE array as dicts of Python values.

    Args:
        array: a 1-D array of one of those dtypes.

    Returns:
        One dict per row: u128 fields as ints, key and signature fields as bytes.

    Raises:
        TypeError: array is not a numpy array.
        LedgerValueError: the array is not 1-D or has another dtype.

    Example:
        >>> from ledgercore import records
        >>> batch = records.transfers([dict(id=3, debit_account_id=1, credit_account_id=2,
        ...                                 amount=5, ledger=1, code=1)])
        >>> records.to_dicts(batch)[0]["id"]
        3
    """
    if not isinstance(array, numpy.ndarray):
        raise TypeError(f"array: expected a numpy record array, got {type(array).__name__}")
    if array.dtype not in (ACCOUNT_DTYPE, TRANSFER_DTYPE, BALANCE_DTYPE) or array.ndim != 1:
        raise LedgerValueError(
            "array: expected a 1-D ACCOUNT_DTYPE, TRANSFER_DTYPE or BALANCE_DTYPE array, got "
            f"{_dtype_name(array.dtype)} of shape {array.shape}"
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
        LedgerValueError: another dtype (named: "got ACCOUNT_DTYPE"), not 1-D, or a byte count
            that is no whole record count.

    Example:
        >>> from ledgercore import records
        >>> batch = records.transfers([dict(id=1, debit_account_id=1, credit_account_id=2,
        ...                                 amount=5, ledger=1, code=1)])
        >>> len(records.as_records(batch.tobytes(), records.TRANSFER_DTYPE, "transfers"))
        1
        >>> try:
        ...     records.as_records(batch, records.ACCOUNT_DTYPE, "accounts")
        ... except ValueError as error:
        ...     print(error)
        accounts: expected dtype ACCOUNT_DTYPE, got TRANSFER_DTYPE
    """
    if isinstance(data, numpy.ndarray):
        if data.dtype != dtype:
            raise LedgerValueError(
                f"{name}: expected dtype {_dtype_name(dtype)}, got {_dtype_name(data.dtype)}"
            )
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
    builder = "accounts" if dtype == ACCOUNT_DTYPE else "transfers"
    hint = f" (records.{builder} builds one from dicts)" if isinstance(data, (list, tuple)) else ""
    raise TypeError(
        f"{name}: expected {_a(dtype)} array or its bytes, got {type(data).__name__}{hint}"
    )


def _a(dtype: numpy.dtype) -> str:
    return f"an {_dtype_name(dtype)}" if dtype == ACCOUNT_DTYPE else f"a {_dtype_name(dtype)}"


def _dtype_name(dtype: numpy.dtype) -> str:
    """A dtype as errors name it: our records by their constant's name, a foreign structured
    dtype by its first fields (its repr lists every offset), others as numpy prints them."""
    for known, name in (
        (ACCOUNT_DTYPE, "ACCOUNT_DTYPE"),
        (TRANSFER_DTYPE, "TRANSFER_DTYPE"),
        (BALANCE_DTYPE, "BALANCE_DTYPE"),
    ):
        if dtype == known:
            return name
    if dtype.names:
        shown = ", ".join(dtype.names[:4]) + (", ..." if len(dtype.names) > 4 else "")
        return f"a structured dtype with fields ({shown})"
    return str(dtype)


def signing_bytes(transfers: numpy.ndarray, ledger_id: bytes | None) -> numpy.ndarray:
    """The canonical signed bytes of each transfer on one ledger, in one native call.

    Row i is SIGNING_PREFIX, the ledger's 16-byte id (`Ledger.ledger_id`), then bytes [0, 120)
    of transfers[i]: every field the client sets, excluding the engine's timestamp and the
    signature. The owner key of the debit account signs it; `SigningKey.sign_many` and
    `verify_batch` take the array as it is. Because the ledger's id is in every message, a
    batch signed for one ledger (a test ledger, another fund's) is refused on any other with
    `bad_signature`.

    Args:
        transfers: a 1-D TRANSFER_DTYPE array (or its raw bytes).
        ledger_id: the ledger's 16-byte id. None gives the messages of blocks with format 1
            headers (SIGNING_PREFIX_V1, then the bytes, no ledger id), which only a replay of
            such blocks checks: new transfers are always signed for a ledger.

    Returns:
        A (n, SIGNING_SIZE) uint8 array (SIGNING_SIZE is 159; 143 without a ledger id).

    Raises:
        TypeError, LedgerValueError: as for `as_records`, or a ledger_id that is not 16 bytes.

    Example:
        >>> from ledgercore import records
        >>> batch = records.transfers([dict(id=1, debit_account_id=1, credit_account_id=2,
        ...                                 amount=5, ledger=1, code=1)])
        >>> message = records.signing_bytes(batch, b"ledger 0123456789"[:16])
        >>> message[0, :23].tobytes(), message[0, 23:39].tobytes()
        (b'ledgercore/transfer/v2\\x00', b'ledger 012345678')
    """
    from ledgercore._native import apply

    array = as_records(transfers, TRANSFER_DTYPE, "transfers")
    if ledger_id is not None and not isinstance(ledger_id, bytes):
        if isinstance(ledger_id, (bytearray, memoryview)):
            ledger_id = bytes(ledger_id)
        else:
            raise TypeError(
                f"ledger_id: expected the ledger's 16 bytes (Ledger.ledger_id), got "
                f"{type(ledger_id).__name__}"
            )
    return apply.signing_bytes(array, ledger_id)
