"""Ed25519 signature verification (RFC 8032), one at a time or in batches, natively.

Signing and keys are in `ledgercore.keys` (PyNaCl holds the secrets); this module only checks
public data. `verify` and `verify_batch` apply one rule set, below, on every input, so a batch
and a loop of single calls always give the same answers. This docstring is where the rules are
written; the C code (`_native/ed25519_verify.c`) points here.

The rule set
------------
A signature is 64 bytes, ``R || S``; a public key is 32 bytes, ``A``; the message is any bytes.
The signature is valid if and only if all of these hold:

1. ``S``, read as a little-endian integer, is below the group order
   ``L = 2**252 + 27742317777372353535851937790883648493`` (RFC 8032, 5.1.7). ``S + L`` is
   rejected, so no signature has a second, malleated form.
2. ``A`` is a canonical encoding of a curve point (RFC 8032, 5.1.3): its y coordinate is below
   ``p = 2**255 - 19``, ``x**2 = (y**2 - 1) / (d y**2 + 1)`` has a root, and the sign bit is not
   set when that root is 0.
3. ``R`` is a canonical encoding of a curve point, by the same rule.
4. With ``k = SHA-512(R || A || message) mod L`` (the encodings as given), the cofactored
   equation holds: ``[8][S]B == [8]R + [8][k]A``.

Small-order and mixed-order points are legal as ``A`` and ``R`` here: the equation decides.
Refusing small-order public keys is a registration rule, applied by
`ledgercore.keys.check_public_key`.

Why these rules: canonical encodings and ``S < L`` make every valid signature the only encoding
of itself; the cofactored equation (rather than ``[S]B == R + [k]A``) is the one a batch can
check exactly, since a random linear combination of cofactored equations holds whenever each
one does. Without the factor 8, a signature whose ``R`` or ``A`` carries a small-order component
could pass alone and fail in a batch, or the reverse. These rules agree with PyNaCl (libsodium)
on every honestly made signature; they differ only on crafted ones with small-order components,
which libsodium refuses and these rules accept when the cofactored equation holds.

Batches
-------
`verify_batch` checks one random linear combination of the signatures' equations with one
multi-scalar multiplication (Straus for a few points, Pippenger's buckets for many), with 128-bit
coefficients drawn in C from the operating system's CSPRNG (getrandom(2) on Linux,
arc4random_buf(3) on macOS and the BSDs). Each distinct public key is decoded once, and the terms
of signatures by the same key are merged. Keys may come raw, decoded in this process
(`decode_public_keys`), or hinted (`hint_public_keys`: each key with its point's x-coordinate,
which a ledger stores per account): a hint is checked against the curve equation and the key's sign
and y, a few multiplications instead of the square root of decoding, and a wrong hint is decoded as
a raw key would be, so the verdicts never depend on it. A batch of 256 to 16,384 signatures given
two or more threads is one combination that all the threads compute together (each takes pieces:
keys, signatures, Pippenger's windows), so a thread slowed by other work delays it little. Larger
batches, or a combination that fails, are split into chunks (one or two per thread, at most 16,384
each); a chunk that fails is bisected until the bad signatures are named, and each is confirmed by
the single-signature check. A bad signature survives a batch only with probability about 2**-128.

Example:
    >>> from ledgercore.ed25519 import verify
    >>> from ledgercore.keys import SigningKey
    >>> payer = SigningKey.from_seed(bytes(32))
    >>> transfer = b"debit 1 credit 2 amount 100"
    >>> verify(payer.public_key, transfer, payer.sign(transfer))
    True
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy

from ledgercore._native import ed25519 as _native
from ledgercore.errors import LedgerValueError

__all__ = [
    "DECODED_KEY_DTYPE",
    "HINTED_KEY_DTYPE",
    "PUBLIC_KEY_SIZE",
    "SIGNATURE_SIZE",
    "VerificationQueue",
    "decode_public_keys",
    "hint_public_keys",
    "verify",
    "verify_batch",
]

PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64

#: The dtype of the opaque records `decode_public_keys` returns: a key's encoding and its decoded
#: point in native byte order. Valid only in the process that made them; not a storage format.
DECODED_KEY_DTYPE = numpy.dtype(
    [("ledgercore_ed25519_decoded_key", f"V{_native.DECODED_KEY_SIZE}")]
)

#: The dtype of a hinted key (`hint_public_keys`): a key's encoding, then its point's
#: x-coordinate, 32 bytes each, little-endian. Portable and safe to store: the hint spares
#: `verify_batch` a square root per distinct key, and is checked, so a wrong one changes no
#: verdict (it costs the usual decoding).
HINTED_KEY_DTYPE = numpy.dtype([("key", "V32"), ("x", "V32")])

_BYTES_LIKE = (bytes, bytearray, memoryview)


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Verify one Ed25519 signature under the rule set of this module.

    Args:
        public_key: 32 bytes (any bytes-like object).
        message: the signed bytes, of any length (any bytes-like object).
        signature: 64 bytes, ``R || S``.

    Returns:
        True if the signature is valid, False otherwise: a wrong signature is an answer, never an
        exception.

    Raises:
        TypeError: an argument is not a bytes-like object.
        ValueError: public_key is not 32 bytes or signature is not 64 bytes.

    Example:
        >>> from ledgercore.keys import SigningKey
        >>> key = SigningKey.from_seed(bytes(range(32)))
        >>> signature = key.sign(b"pay 100 from 1 to 2")
        >>> verify(key.public_key, b"pay 100 from 1 to 2", signature)
        True
        >>> verify(key.public_key, b"pay 900 from 1 to 2", signature)
        False
    """
    try:
        return _native.verify(public_key, message, signature)
    except ValueError as error:
        raise LedgerValueError(str(error)) from None


def _rows(value: Any, width: int, name: str) -> numpy.ndarray:
    """value as a C-contiguous (n, width) uint8 array, from an array or a sequence of bytes."""
    if isinstance(value, numpy.ndarray):
        if value.dtype != numpy.uint8:
            raise TypeError(f"{name}: expected a uint8 array, got {value.dtype}")
        if value.ndim != 2 or value.shape[1] != width:
            raise LedgerValueError(f"{name}: expected shape (n, {width}), got {value.shape}")
        return numpy.ascontiguousarray(value)
    if isinstance(value, (*_BYTES_LIKE, str)) or not isinstance(value, Sequence):
        raise TypeError(
            f"{name}: expected an (n, {width}) uint8 array or a sequence of {width}-byte values, "
            f"got {type(value).__name__}"
        )
    for index, item in enumerate(value):
        if not isinstance(item, _BYTES_LIKE):
            raise TypeError(f"{name}[{index}]: expected {width} bytes, got {type(item).__name__}")
        size = memoryview(item).nbytes
        if size != width:
            raise LedgerValueError(f"{name}[{index}]: expected {width} bytes, got {size}")
    joined = b"".join(value)
    return numpy.frombuffer(joined, dtype=numpy.uint8).reshape(len(value), width)


def _thread_count(threads: int | None) -> int:
    if threads is None:
        try:
            available = len(os.sched_getaffinity(0))
        except AttributeError:  # macOS has no affinity masks
            available = os.cpu_count() or 1
        return max(1, min(available, _native.THREAD_COUNT_MAX))
    if isinstance(threads, bool) or not isinstance(threads, int):
        raise TypeError(f"threads: expected an int or None, got {type(threads).__name__}")
    if not 1 <= threads <= _native.THREAD_COUNT_MAX:
        raise LedgerValueError(f"threads: expected 1..{_native.THREAD_COUNT_MAX}, got {threads}")
    return threads


def _messages(messages: Any, count: int) -> Any:
    if isinstance(messages, numpy.ndarray):
        if messages.dtype != numpy.uint8:
            raise TypeError(f"messages: expected a uint8 array, got {messages.dtype}")
        if messages.ndim != 2:
            raise LedgerValueError(f"messages: expected a 2-D array, got {messages.ndim}-D")
        messages = numpy.ascontiguousarray(messages)
    elif isinstance(messages, (*_BYTES_LIKE, str)) or not isinstance(messages, Sequence):
        raise TypeError(
            "messages: expected a sequence of bytes-like objects or a 2-D uint8 array, "
            f"got {type(messages).__name__}"
        )
    if len(messages) != count:
        raise LedgerValueError(f"messages: {len(messages)} messages for {count} public keys")
    return messages


def verify_batch(
    public_keys: Any, messages: Any, signatures: Any, *, threads: int | None = None
) -> numpy.ndarray:
    """Verify many Ed25519 signatures at once, on all cores, under the rule set of this module.

    Args:
        public_keys: an (n, 32) uint8 array or a sequence of n 32-byte values, or the result of
            `decode_public_keys` (which saves decoding each key again).
        messages: a sequence of n bytes-like objects, or a 2-D uint8 array of n equal rows.
        signatures: an (n, 64) uint8 array or a sequence of n 64-byte values.
        threads: worker threads; None (the default) uses every core this process may run on.

    Returns:
        A bool array of shape (n,): True where the signature is valid. Exactly the answers
        `verify` gives one by one.

    Raises:
        TypeError: an argument (or an item of one) has the wrong type or dtype.
        ValueError: a wrong shape or length (naming the first bad row), or lengths disagree.
        OSError: the operating system gave no random bytes for the coefficients.

    Example:
        >>> from ledgercore.keys import SigningKey
        >>> payer, payee = SigningKey.from_seed(bytes(32)), SigningKey.from_seed(bytes([1]) * 32)
        >>> transfers = [b"1 -> 2: 100", b"2 -> 1: 40"]
        >>> keys = [payer.public_key, payee.public_key]
        >>> signatures = [payer.sign(transfers[0]), payee.sign(transfers[1])]
        >>> verify_batch(keys, transfers, signatures).tolist()
        [True, True]
        >>> verify_batch(keys, transfers[::-1], signatures).tolist()
        [False, False]
    """
    return _native.verify_batch(*_batch_arguments(public_keys, messages, signatures, threads))


class VerificationQueue:
    """Batches verified in the order submitted on native threads, while the caller does other
    work.

    `submit` takes `verify_batch`'s arguments and returns at once; the batch's
    `PendingVerification.result()` waits for it. Between batches the queue's threads need no
    Python lock, so batches submitted ahead keep every core verifying even while the submitting
    thread runs long calls that hold the GIL. With `lanes=2`, two batches are verified at once,
    each on all cores, so neither one's single-threaded stretches leave a core idle. The
    threads stop when the queue and every pending batch are gone.

    Example:
        >>> from ledgercore.keys import SigningKey
        >>> payer = SigningKey.from_seed(bytes(32))
        >>> queue = VerificationQueue()
        >>> first = queue.submit([payer.public_key], [b"a"], [payer.sign(b"a")])
        >>> second = queue.submit([payer.public_key], [b"b"], [payer.sign(b"a")])
        >>> first.result().tolist(), second.result().tolist()
        ([True], [False])
    """

    def __init__(self, *, lanes: int = 1) -> None:
        """lanes: batches verified at once, each on all cores (1 to 4)."""
        if isinstance(lanes, bool) or not isinstance(lanes, int):
            raise TypeError(f"lanes: expected an int, got {type(lanes).__name__}")
        if not 1 <= lanes <= _native.VERIFY_QUEUE_LANES_MAX:
            raise LedgerValueError(
                f"lanes: {lanes}, expected 1 to {_native.VERIFY_QUEUE_LANES_MAX}"
            )
        self._native = _native.VerifyQueue(lanes)

    def submit(
        self, public_keys: Any, messages: Any, signatures: Any, *, threads: int | None = None
    ) -> _native.PendingVerification:
        """Queue one batch (arguments and errors as for `verify_batch`); its `result()` is the
        array `verify_batch` would return, and its `seconds` how long the verification ran."""
        return self._native.submit(*_batch_arguments(public_keys, messages, signatures, threads))


def _batch_arguments(
    public_keys: Any, messages: Any, signatures: Any, threads: int | None
) -> tuple[numpy.ndarray, Any, numpy.ndarray, int]:
    """verify_batch's arguments, checked and in the forms the native code takes."""
    if isinstance(public_keys, numpy.ndarray) and public_keys.dtype in (
        DECODED_KEY_DTYPE,
        HINTED_KEY_DTYPE,
    ):
        if public_keys.ndim != 1:
            raise LedgerValueError(f"public_keys: expected shape (n,), got {public_keys.shape}")
        keys = numpy.ascontiguousarray(public_keys).view(numpy.uint8)
        keys = keys.reshape(len(public_keys), public_keys.dtype.itemsize)
    else:
        keys = _rows(public_keys, PUBLIC_KEY_SIZE, "public_keys")
    count = len(keys)
    rows = _rows(signatures, SIGNATURE_SIZE, "signatures")
    if len(rows) != count:
        raise LedgerValueError(f"signatures: {len(rows)} signatures for {count} public keys")
    if count > _native.BATCH_SIZE_MAX:
        raise LedgerValueError(f"public_keys: {count} keys, at most {_native.BATCH_SIZE_MAX}")
    return keys, _messages(messages, count), rows, _thread_count(threads)


def decode_public_keys(public_keys: Any) -> numpy.ndarray:
    """Decode public keys once, for many later `verify_batch` calls.

    A ledger verifies many signatures from the same accounts; passing decoded keys saves one
    point decompression per distinct key and call (about a quarter of the work of a signature
    whose key appears once). An undecodable key is kept; every signature under it is False.

    Args:
        public_keys: an (n, 32) uint8 array or a sequence of n 32-byte values.

    Returns:
        An opaque array of shape (n,) and dtype `DECODED_KEY_DTYPE`, valid in this process only.

    Raises:
        TypeError: public_keys (or an item) has the wrong type or dtype.
        ValueError: a key is not 32 bytes (naming the first bad row).

    Example:
        >>> from ledgercore.keys import SigningKey
        >>> payer = SigningKey.from_seed(bytes(32))
        >>> decoded = decode_public_keys([payer.public_key])
        >>> verify_batch(decoded, [b"1 -> 2: 100"], [payer.sign(b"1 -> 2: 100")]).tolist()
        [True]
    """
    keys = _rows(public_keys, PUBLIC_KEY_SIZE, "public_keys")
    if len(keys) > _native.BATCH_SIZE_MAX:
        raise LedgerValueError(f"public_keys: {len(keys)} keys, at most {_native.BATCH_SIZE_MAX}")
    records = _native.decode_public_keys(keys)
    return records.view(DECODED_KEY_DTYPE).reshape(len(keys))


def hint_public_keys(public_keys: Any) -> numpy.ndarray:
    """Each key with its point's x-coordinate, for `verify_batch` to skip decoding it.

    Unlike `decode_public_keys`, the result is portable bytes that may be stored (a ledger keeps
    one per account) and needs no trust: `verify_batch` checks each hint with a few
    multiplications and decodes the key when the hint is wrong. A key that does not decode gets
    a zero x (a hint no key passes).

    Args:
        public_keys: an (n, 32) uint8 array or a sequence of n 32-byte values.

    Returns:
        An array of shape (n,) and dtype `HINTED_KEY_DTYPE`.

    Raises:
        TypeError: public_keys (or an item) has the wrong type or dtype.
        ValueError: a key is not 32 bytes (naming the first bad row).

    Example:
        >>> from ledgercore.keys import SigningKey
        >>> payer = SigningKey.from_seed(bytes(32))
        >>> hinted = hint_public_keys([payer.public_key])
        >>> hinted["key"][0].tobytes() == payer.public_key
        True
        >>> verify_batch(hinted, [b"1 -> 2: 100"], [payer.sign(b"1 -> 2: 100")]).tolist()
        [True]
    """
    keys = _rows(public_keys, PUBLIC_KEY_SIZE, "public_keys")
    _, hinted = _native.check_public_keys(keys)
    return hinted.view(HINTED_KEY_DTYPE).reshape(len(keys))
