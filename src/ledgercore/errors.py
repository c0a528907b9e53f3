"""Every exception ledgercore raises, rooted in one base class.

Three kinds of "no" (see the style guide): a bad call raises before anything changes
(`TypeError`, or a `ValueError` that is also a `LedgerError`); an answer is data (result codes,
a False in a verification mask), never an exception; a broken invariant raises `InvariantError`
or `StoreCorruptedError` with nothing changed.

Example:
    >>> from ledgercore.errors import LedgerError, LedgerValueError
    >>> issubclass(LedgerValueError, ValueError) and issubclass(LedgerValueError, LedgerError)
    True
"""

from __future__ import annotations


class LedgerError(Exception):
    """The base class of every error ledgercore raises on purpose."""


class LedgerValueError(LedgerError, ValueError):
    """An argument had the right type but a wrong value, shape or length."""


class UnsupportedError(LedgerError, RuntimeError):
    """This machine or build lacks what was asked for (a SIMD kernel, say)."""


class InvariantError(LedgerError, RuntimeError):
    """An invariant of the ledger was found broken; nothing was changed."""


class StoreCorruptedError(LedgerError, RuntimeError):
    """The store on disk is damaged or inconsistent; it was not used."""


class StoreLockedError(LedgerError, RuntimeError):
    """Another writer holds the store."""
