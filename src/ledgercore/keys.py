"""Ed25519 keys: signing through PyNaCl (libsodium holds the secrets), and the registration check.

ledgercore verifies signatures itself (`ledgercore.ed25519`), on public data only; everything that
touches a secret key is PyNaCl's. `check_public_key` is the rule an account's key must pass when
it is registered, beyond what `ledgercore.ed25519.verify` demands of any key.

Example:
    >>> from ledgercore.keys import SigningKey, check_public_key
    >>> payer = SigningKey.from_seed(bytes(32))
    >>> check_public_key(payer.public_key) == payer.public_key
    True
    >>> len(payer.sign(b"debit 1 credit 2 amount 100"))
    64
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import nacl.signing
import numpy

from ledgercore._native import ed25519 as _native
from ledgercore.errors import LedgerValueError

__all__ = ["SigningKey", "check_public_key", "sign_transfers"]

SEED_SIZE = 32

_REFUSALS = {
    _native.KEY_NOT_CANONICAL: "not the canonical encoding of its point (y >= p, or x = 0 with "
    "the sign bit set)",
    _native.KEY_NOT_ON_CURVE: "not the encoding of a point on the curve",
    _native.KEY_SMALL_ORDER: "a point of small order (a multiple of 8 of it is the identity), "
    "for which signatures prove nothing",
}


class SigningKey:
    """An Ed25519 signing key, held by PyNaCl.

    Example:
        >>> key = SigningKey.from_seed(bytes(32))
        >>> key.public_key.hex()[:16]
        '3b6a27bcceb6a42d'
    """

    __slots__ = ("_key",)

    def __init__(self, key: nacl.signing.SigningKey) -> None:
        if not isinstance(key, nacl.signing.SigningKey):
            raise TypeError(f"key: expected a nacl.signing.SigningKey, got {type(key).__name__}")
        self._key = key

    @classmethod
    def generate(cls) -> SigningKey:
        """Make a new key from the operating system's randomness.

        Returns:
            A new SigningKey.

        Example:
            >>> len(SigningKey.generate().public_key)
            32
        """
        return cls(nacl.signing.SigningKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKey:
        """Rebuild a key from its 32-byte seed (RFC 8032's private key).

        Args:
            seed: 32 bytes (any bytes-like object); keep it secret.

        Returns:
            The SigningKey of that seed.

        Raises:
            TypeError: seed is not bytes-like.
            ValueError: seed is not 32 bytes.

        Example:
            >>> seed = bytes(range(32))
            >>> SigningKey.from_seed(seed).public_key == SigningKey.from_seed(seed).public_key
            True
        """
        if isinstance(seed, str) or not isinstance(seed, (bytes, bytearray, memoryview)):
            raise TypeError(f"seed: expected 32 bytes, got {type(seed).__name__}")
        seed = bytes(seed)
        if len(seed) != SEED_SIZE:
            raise LedgerValueError(f"seed: expected {SEED_SIZE} bytes, got {len(seed)}")
        return cls(nacl.signing.SigningKey(seed))

    @property
    def public_key(self) -> bytes:
        """The 32-byte public key (A in RFC 8032)."""
        return bytes(self._key.verify_key)

    @property
    def seed(self) -> bytes:
        """The 32-byte seed this key is made from; whoever holds it can sign."""
        return bytes(self._key)

    def sign(self, message: bytes) -> bytes:
        """Sign one message.

        Args:
            message: the bytes to sign (any bytes-like object).

        Returns:
            The 64-byte signature ``R || S`` (without the message).

        Raises:
            TypeError: message is not bytes-like.

        Example:
            >>> from ledgercore.ed25519 import verify
            >>> key = SigningKey.from_seed(bytes(32))
            >>> verify(key.public_key, b"1 -> 2: 100", key.sign(b"1 -> 2: 100"))
            True
        """
        return self._key.sign(_message_bytes(message, "message")).signature

    def sign_many(self, messages: Any) -> numpy.ndarray:
        """Sign many messages with this key.

        Args:
            messages: a sequence of bytes-like objects, or a 2-D uint8 array (one message a row).

        Returns:
            An (n, 64) uint8 array, row i the signature of messages[i].

        Raises:
            TypeError: messages (or an item) is not bytes-like.

        Example:
            >>> from ledgercore.ed25519 import verify_batch
            >>> key = SigningKey.from_seed(bytes(32))
            >>> transfers = [b"1 -> 2: 100", b"1 -> 3: 5"]
            >>> signatures = key.sign_many(transfers)
            >>> signatures.shape
            (2, 64)
            >>> verify_batch([key.public_key] * 2, transfers, signatures).tolist()
            [True, True]
        """
        if isinstance(messages, numpy.ndarray):
            if messages.dtype != numpy.uint8 or messages.ndim != 2:
                raise TypeError(
                    f"messages: expected a 2-D uint8 array, got {messages.dtype} "
                    f"of {messages.ndim} dimensions"
                )
            items = [row.tobytes() for row in messages]
        elif isinstance(messages, (bytes, bytearray, memoryview, str)):
            raise TypeError(
                "messages: expected a sequence of bytes-like objects, got "
                f"{type(messages).__name__}"
            )
        else:
            items = [_message_bytes(m, f"messages[{i}]") for i, m in enumerate(messages)]
        out = numpy.empty((len(items), 64), dtype=numpy.uint8)
        sign = self._key.sign
        for i, message in enumerate(items):
            out[i] = numpy.frombuffer(sign(message).signature, dtype=numpy.uint8)
        return out

    def __repr__(self) -> str:
        return f"SigningKey(public_key={self.public_key.hex()})"


def _message_bytes(message: Any, name: str) -> bytes:
    if isinstance(message, bytes):
        return message
    if isinstance(message, str) or not isinstance(message, (bytearray, memoryview)):
        raise TypeError(f"{name}: expected a bytes-like object, got {type(message).__name__}")
    return bytes(message)


def check_public_key(public_key: bytes) -> bytes:
    """Check that a public key may be registered for an account.

    On top of what `ledgercore.ed25519.verify` accepts, this refuses points of small order: for
    such a key, anyone can make signatures that verify. Account registration calls this.

    Args:
        public_key: 32 bytes (any bytes-like object).

    Returns:
        The key, as bytes.

    Raises:
        TypeError: public_key is not bytes-like.
        ValueError: the key is not 32 bytes, not canonical, not on the curve, or of small order;
            the message says which.

    Example:
        >>> identity = bytes([1]) + bytes(31)  # y = 1: the neutral point, of order 1
        >>> try:
        ...     check_public_key(identity)
        ... except ValueError as error:
        ...     print(error)  # doctest: +ELLIPSIS
        public_key: refused: a point of small order ...
    """
    key = _message_bytes(public_key, "public_key")
    if len(key) != 32:
        raise LedgerValueError(f"public_key: expected 32 bytes, got {len(key)}")
    status = _native.check_public_key(key)
    if status != _native.KEY_OK:
        raise LedgerValueError(f"public_key: refused: {_REFUSALS[status]}")
    return key


def sign_transfers(
    transfers: numpy.ndarray, keys: Mapping[int, SigningKey], ledger_id: bytes
) -> numpy.ndarray:
    """Sign each transfer of a batch with its debit account's key, in place, for one ledger.

    For a batch whose rows have different debit accounts (a settlement run, a payroll): each
    row's signed bytes (records.signing_bytes with the ledger's id) are signed by keys[its
    debit account id], and the signatures are written to the batch's `signature` column.

    Args:
        transfers: a 1-D TRANSFER_DTYPE array; its `signature` column is overwritten.
        keys: debit account id -> that account's owner key. Only the ids the batch debits are
            looked up.
        ledger_id: the 16-byte id of the ledger the batch is for (Ledger.ledger_id).

    Returns:
        The batch's signature column, an (n, 64) uint8 array.

    Raises:
        TypeError: transfers is not a TRANSFER_DTYPE array, or a key is not a SigningKey.
        LedgerValueError: no key for a debit account (named, with its first row); no row is
            signed then.

    Example:
        >>> from ledgercore import records
        >>> alice, bob = SigningKey.from_seed(b"a" * 32), SigningKey.from_seed(b"b" * 32)
        >>> batch = records.transfers([
        ...     dict(id=1, debit_account_id=10, credit_account_id=20, amount=5, ledger=1, code=1),
        ...     dict(id=2, debit_account_id=20, credit_account_id=10, amount=2, ledger=1, code=1)])
        >>> fund = b"the fund ledger!"
        >>> _ = sign_transfers(batch, {10: alice, 20: bob}, fund)
        >>> from ledgercore.ed25519 import verify_batch
        >>> verify_batch([alice.public_key, bob.public_key], records.signing_bytes(batch, fund),
        ...              batch["signature"]).tolist()
        [True, True]
    """
    from ledgercore import records

    if not isinstance(transfers, numpy.ndarray) or transfers.dtype != records.TRANSFER_DTYPE:
        raise TypeError("transfers: expected a 1-D TRANSFER_DTYPE array (records.transfers)")
    if not isinstance(keys, Mapping):
        raise TypeError(f"keys: expected a mapping of account id to SigningKey, got "
                        f"{type(keys).__name__}")  # fmt: skip
    debits = records.u128(transfers["debit_account_id"]) if len(transfers) else []
    rows_by_account: dict[int, list[int]] = {}
    for row, account_id in enumerate(debits):
        rows_by_account.setdefault(account_id, []).append(row)
    for account_id, rows in rows_by_account.items():
        key = keys.get(account_id)
        if key is None:
            raise LedgerValueError(
                f"keys: no key for debit account {account_id} (row {rows[0]}); give its owner's "
                "SigningKey"
            )
        if not isinstance(key, SigningKey):
            raise TypeError(f"keys[{account_id}]: expected a SigningKey, got {type(key).__name__}")
    messages = records.signing_bytes(transfers, ledger_id)
    for account_id, rows in rows_by_account.items():
        picked = numpy.asarray(rows)
        transfers["signature"][picked] = keys[account_id].sign_many(messages[picked])
    return transfers["signature"]
