"""BLAKE3 hashing: one input in any mode, or many inputs at once in SIMD lanes.

ledgercore implements BLAKE3 natively (portable C, plus SSE4.1, AVX2 and AVX-512 kernels on x86-64
chosen at run time from the CPU's features, and a NEON kernel on ARM64, where NEON is always
present).
`blake3` hashes one input of any size in the three modes of the specification, with extended
output; `blake3_many` hashes many independent inputs, several per SIMD instruction, which is what
a ledger needs for transfer records and Merkle nodes.

The environment variable ``LEDGERCORE_SIMD=portable|sse41|avx2|avx512|neon`` pins a kernel when
ledgercore is imported; a kernel this CPU or build cannot run is refused with `UnsupportedError`.
The pin covers the Merkle trees' hashing as well.

Example:
    >>> from ledgercore import blake3, blake3_many
    >>> blake3(b"abc").hex()[:16]
    '6437b3ac38465133'
    >>> blake3_many([b"abc", b""]).shape
    (2, 32)
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy
import numpy.typing

from ledgercore._native import blake3 as _native
from ledgercore._native import merkle as _native_merkle
from ledgercore.errors import LedgerValueError, UnsupportedError

BytesLike = bytes | bytearray | memoryview

KEY_SIZE = 32
DIGEST_SIZE = 32
KERNEL_NAMES: tuple[str, ...] = _native.KERNEL_NAMES

# Every extension that hashes links its own copy of the BLAKE3 code, each with its own kernel
# choice (extensions load with RTLD_LOCAL), so a pin must reach each copy.
_KERNEL_COPIES = (_native, _native_merkle)


def _contiguous_bytes(data: object, name: str) -> BytesLike:
    """`data` as a C-contiguous byte buffer, copying only when it is not one already."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        raise TypeError(f"{name}: expected a bytes-like object, got str (encode it first)")
    try:
        view = memoryview(data)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"{name}: expected a bytes-like object, got {type(data).__name__}"
        ) from None
    if not view.c_contiguous:
        return view.tobytes()
    return view.cast("B") if view.format != "B" or view.ndim != 1 else view


def _key(key: object) -> BytesLike | None:
    if key is None:
        return None
    key_bytes = _contiguous_bytes(key, "key")
    if len(key_bytes) != KEY_SIZE:
        raise LedgerValueError(f"key: expected {KEY_SIZE} bytes, got {len(key_bytes)}")
    return key_bytes


def blake3(
    data: BytesLike,
    *,
    key: BytesLike | None = None,
    derive_key_context: str | bytes | None = None,
    length: int = DIGEST_SIZE,
) -> bytes:
    """BLAKE3 of one input of any size.

    Args:
        data: the input (any bytes-like object); in key derivation mode, the key material.
        key: 32 bytes for the keyed-hash mode.
        derive_key_context: the context string for the key-derivation mode (str is UTF-8).
        length: output size in bytes; more than 32 is BLAKE3's extended output.

    Returns:
        `length` bytes of output.

    Raises:
        TypeError: `data` or `key` is not bytes-like, or the context is not str or bytes.
        ValueError: the key is not 32 bytes, both `key` and a context are given, or `length` is
            negative or above the output limit.

    Example:
        >>> blake3(b"abc", length=8).hex()
        '6437b3ac38465133'
        >>> len(blake3(b"abc", key=bytes(32)))
        32
        >>> blake3(b"material", derive_key_context="app 2026 v1") == blake3(b"material")
        False
    """
    data_bytes = _contiguous_bytes(data, "data")
    key_bytes = _key(key)
    if not isinstance(length, int) or isinstance(length, bool):
        raise TypeError(f"length: expected an int, got {type(length).__name__}")
    if length < 0 or length > _native.BLAKE3_OUTPUT_SIZE_MAX:
        raise LedgerValueError(
            f"length: expected 0..{_native.BLAKE3_OUTPUT_SIZE_MAX} bytes, got {length}"
        )
    context: bytes | None = None
    if derive_key_context is not None:
        if key is not None:
            raise LedgerValueError("key and derive_key_context cannot be used together")
        if isinstance(derive_key_context, str):
            context = derive_key_context.encode("utf-8")
        elif isinstance(derive_key_context, bytes):
            context = derive_key_context
        else:
            raise TypeError(
                "derive_key_context: expected str or bytes, "
                f"got {type(derive_key_context).__name__}"
            )
    return _native.hash_one(data_bytes, key=key_bytes, context=context, length=length)


def blake3_stamped_rows(
    rows: numpy.typing.NDArray[numpy.uint8],
    picked: numpy.typing.NDArray[numpy.int64],
    *,
    stamp_offset: int,
    stamp_base: int,
    key: BytesLike | None = None,
) -> numpy.typing.NDArray[numpy.uint8]:
    """BLAKE3 of the rows picked, each as if its 8 bytes at stamp_offset held the little-endian
    integer stamp_base + its row number; the rows themselves are neither copied nor changed.

    This is how a block's leaves are hashed: a transfer's leaf is its record with the timestamp
    the block assigned (the block's clock plus the transfer's position in the batch).

    Args:
        rows: a C-contiguous 2-D uint8 array, rows of at most 1024 bytes.
        picked: the row numbers to hash (int64), in the order of the digests.
        stamp_offset: where the 8-byte stamp sits in a row.
        stamp_base: the stamp of row 0.
        key: 32 bytes to keyed-hash every input with, or None for the plain hash.

    Returns:
        A (len(picked), 32) uint8 array.

    Raises:
        ValueError: a row past the end, a stamp past 2^64 - 1, a stamp outside the row, or a
            key that is not 32 bytes.

    Example:
        >>> import numpy
        >>> rows = numpy.zeros((3, 16), dtype=numpy.uint8)
        >>> digest = blake3_stamped_rows(rows, numpy.array([2]), stamp_offset=8, stamp_base=5)
        >>> bytes(digest[0]) == blake3(bytes(8) + (7).to_bytes(8, "little"))
        True
    """
    if not 0 <= stamp_base < 2**64:
        raise LedgerValueError(f"stamp_base: {stamp_base} is outside [0, 2^64)")
    return _native.hash_rows_stamped(
        numpy.ascontiguousarray(rows, dtype=numpy.uint8),
        numpy.ascontiguousarray(picked, dtype=numpy.int64),
        stamp_offset,
        stamp_base,
        key=_key(key),
    )


def blake3_many(
    items: Sequence[BytesLike] | numpy.typing.NDArray[numpy.uint8],
    *,
    key: BytesLike | None = None,
) -> numpy.typing.NDArray[numpy.uint8]:
    """BLAKE3 of many independent inputs, hashed several at a time in SIMD lanes.

    Inputs of up to 1024 bytes share the lanes of one kernel call (a partial last block
    included); longer inputs are hashed one by one with the tree of `blake3`. The GIL is
    released for the whole batch.

    Args:
        items: a sequence of bytes-like objects of any sizes, or a 2-D uint8 array whose rows
            are the inputs (a non-contiguous array is copied first).
        key: 32 bytes to keyed-hash every input with, or None for the plain hash.

    Returns:
        An (n, 32) uint8 array: row i is the digest of input i.

    Raises:
        TypeError: an item is not bytes-like, or the array's dtype is not uint8.
        ValueError: the array is not 2-D, the key is not 32 bytes, or there are more inputs
            than `ledgercore.limits.BATCH_SIZE_MAX`.

    Example:
        >>> import numpy
        >>> rows = numpy.zeros((3, 64), dtype=numpy.uint8)
        >>> digests = blake3_many(rows)
        >>> bytes(digests[0]) == blake3(bytes(64))
        True
        >>> bytes(blake3_many([b"abc"], key=bytes(32))[0]) == blake3(b"abc", key=bytes(32))
        True
    """
    key_bytes = _key(key)
    if isinstance(items, numpy.ndarray):
        if items.dtype != numpy.uint8:
            raise TypeError(f"items: expected a uint8 array, got dtype {items.dtype}")
        if items.ndim != 2:
            raise LedgerValueError(
                f"items: expected a 2-D array (one input per row), got {items.ndim}-D"
            )
        return _native.hash_rows(numpy.ascontiguousarray(items), key=key_bytes)
    if isinstance(items, (bytes, bytearray, memoryview, str)):
        raise TypeError(
            "items: expected a sequence of bytes-like objects or a 2-D uint8 array, "
            f"got one {type(items).__name__}"
        )
    if not isinstance(items, Sequence):
        items = list(items)
    return _native.hash_sequence(items, key=key_bytes)


def simd_kernel() -> str:
    """The name of the BLAKE3 kernel in use: "avx512", "avx2", "sse41", "neon" or "portable".

    Example:
        >>> simd_kernel() in ("portable", "sse41", "avx2", "avx512", "neon")
        True
    """
    name = _native.kernel_name()
    assert _native_merkle.kernel_name() == name, "the Merkle hashing runs another kernel"
    return name


def available_simd_kernels() -> list[str]:
    """The kernels this build and this CPU can run, widest first.

    Example:
        >>> "portable" in available_simd_kernels()
        True
    """
    return [name for name in reversed(KERNEL_NAMES) if _native.kernel_available(name)]


def set_simd_kernel(name: str) -> None:
    """Pin one kernel for the rest of the process (the tests use it to cover every kernel).

    Args:
        name: "portable", "sse41", "avx2", "avx512" or "neon".

    Raises:
        ValueError: the name is not a kernel's name.
        UnsupportedError: this CPU or this build cannot run that kernel.

    Example:
        >>> before = simd_kernel()
        >>> set_simd_kernel("portable"); simd_kernel()
        'portable'
        >>> set_simd_kernel(before)
    """
    if name not in KERNEL_NAMES:
        raise LedgerValueError(f"unknown SIMD kernel {name!r}; expected one of {KERNEL_NAMES}")
    if not _native.kernel_available(name):
        raise UnsupportedError(
            f"SIMD kernel {name!r} is not available on this machine; "
            f"available: {', '.join(available_simd_kernels())}"
        )
    for copy in _KERNEL_COPIES:
        pinned = copy.set_kernel(name)
        assert pinned, f"{copy.__name__} cannot run {name!r}, which {_native.__name__} can"


def _apply_environment() -> None:
    name = os.environ.get("LEDGERCORE_SIMD", "").strip()
    if not name:
        return
    try:
        set_simd_kernel(name)
    except (LedgerValueError, UnsupportedError) as error:
        raise UnsupportedError(f"LEDGERCORE_SIMD={name}: {error}") from None


_apply_environment()
