"""Unique, time-ordered u128 ids for accounts and transfers, made by the client.

An id is 48 bits of milliseconds since the Unix epoch, then 80 bits that start random each
millisecond and count up within it:

    id = (time_ms << 80) | counter

so ids from one generator strictly increase, sort by creation time (which keeps the ledger's
id index appending rather than scattering), and two generators (two processes, two servers)
collide only if they draw the same 80 random bits in the same millisecond. The clock never
makes ids go back: if the wall clock steps back, ids continue from the last one given.

A transfer id is unique forever and doubles as its replay protection, so the random part comes
from the operating system's generator (`secrets`), not from a seeded one.

Example:
    >>> first, second = new_id(), new_id()
    >>> 0 < first < second < 2**128 - 1
    True
    >>> lanes = new_ids(3)
    >>> ids = records.u128(lanes)
    >>> lanes.shape, ids == sorted(set(ids)), ids[0] > second
    ((3, 2), True, True)
"""

from __future__ import annotations

import secrets
import threading
import time

import numpy

from ledgercore import records
from ledgercore.errors import LedgerValueError

__all__ = ["IdGenerator", "new_id", "new_ids"]

COUNTER_BITS = 80
_COUNTER_MAX = (1 << COUNTER_BITS) - 1
# The random start leaves this much room to count up within one millisecond.
_START_MAX = _COUNTER_MAX >> 1
_MASK64 = (1 << 64) - 1
BATCH_SIZE_MAX = 1 << 24
"""The most ids one new_ids call makes (far more than any batch the ledger takes)."""


class IdGenerator:
    """Makes strictly increasing, time-ordered u128 ids; safe to share between threads.

    Example:
        >>> generator = IdGenerator()
        >>> a, b = generator.new_id(), generator.new_id()
        >>> a < b and (b >> 80) - (a >> 80) <= 1
        True
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def _reserve(self, count: int) -> int:
        """The first of `count` fresh ids, all above every id given before."""
        now_ms = time.time_ns() // 1_000_000
        with self._lock:
            last_ms = self._last >> COUNTER_BITS
            if now_ms > last_ms:
                first = (now_ms << COUNTER_BITS) | secrets.randbelow(_START_MAX)
            else:
                first = self._last + 1
            # Counting past the 80 bits carries into the milliseconds: still increasing.
            self._last = first + count - 1
        assert self._last < records.U128_MAX
        return first

    def new_id(self) -> int:
        """One id, above every id this generator gave before.

        Example:
            >>> IdGenerator().new_id() > 0
            True
        """
        return self._reserve(1)

    def new_ids(self, count: int) -> numpy.ndarray:
        """`count` consecutive ids as an (count, 2) uint64 lane array, ready for a batch's
        `id` column.

        Raises:
            TypeError: count is not an int.
            LedgerValueError: count outside 0..BATCH_SIZE_MAX.

        Example:
            >>> batch = records.transfers([dict(id=1, debit_account_id=1, credit_account_id=2,
            ...                                 amount=5, ledger=1, code=1)] * 2)
            >>> batch["id"] = IdGenerator().new_ids(2)
            >>> records.u128(batch["id"][1]) - records.u128(batch["id"][0])
            1
        """
        if isinstance(count, bool) or not isinstance(count, (int, numpy.integer)):
            raise TypeError(f"count: expected an int, got {type(count).__name__}")
        count = int(count)
        if not 0 <= count <= BATCH_SIZE_MAX:
            raise LedgerValueError(f"count: expected 0..{BATCH_SIZE_MAX}, got {count}")
        out = numpy.empty((count, 2), dtype="<u8")
        if count == 0:
            return out
        first = self._reserve(count)
        low = numpy.uint64(first & _MASK64) + numpy.arange(count, dtype="<u8")
        # A low lane that wrapped past 2^64 carries one into the high lane.
        carried = low < numpy.uint64(first & _MASK64)
        out[:, 0] = low
        out[:, 1] = numpy.uint64(first >> 64) + carried.astype("<u8")
        return out


_DEFAULT = IdGenerator()


def new_id() -> int:
    """A unique, time-ordered u128 id from the process's shared generator.

    Example:
        >>> new_id() < new_id()
        True
    """
    return _DEFAULT.new_id()


def new_ids(count: int) -> numpy.ndarray:
    """`count` unique, time-ordered ids as a (count, 2) uint64 lane array.

    Example:
        >>> new_ids(2).dtype
        dtype('uint64')
    """
    return _DEFAULT.new_ids(count)
