"""Decimal amounts and the integer minor units a ledger keeps, converted exactly.

A ledger stores every amount as an integer of minor units (fen, cents); people read and type
decimal amounts ("1234.56" yuan). `Scales` says how many decimal places each ledger's unit has
(CNY and USD 2, JPY 0) and converts both ways without ever going through a float: a str, Decimal
or int goes in, an int comes out; an amount with more decimal places than its scale is refused,
never rounded, because a rounding here would move money nobody asked to move.

Example:
    >>> scales = Scales({156: 2, 392: 0})
    >>> scales.to_units(156, "1234.56"), scales.to_units(392, 1500)
    (123456, 1500)
    >>> str(scales.to_decimal(156, 123456))
    '1234.56'
    >>> scales.to_units(156, "0.001")
    Traceback (most recent call last):
    ...
    ledgercore.errors.LedgerValueError: amount: 0.001 has 3 decimal places, ledger 156 has 2
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Mapping
from decimal import Decimal

from ledgercore.errors import LedgerValueError

__all__ = ["SCALE_MAX", "Scales", "to_decimal", "to_units"]

SCALE_MAX = 30
"""The most decimal places a unit may have: 10^30 minor units still leave 2^128 room for
roughly 340 million whole units."""
_AMOUNT_MAX = 2**128 - 1
# Enough digits for any u128 at any scale, so no conversion rounds silently.
_CONTEXT = decimal.Context(prec=80, traps=[decimal.Inexact, decimal.InvalidOperation])
# A u128 has 39 digits and a scale at most SCALE_MAX places: more significant digits than their
# sum cannot be an amount (and would not fit _CONTEXT).
_DIGITS_MAX = 39 + SCALE_MAX


def _check_scale(scale: object, name: str = "scale") -> int:
    if isinstance(scale, bool) or not isinstance(scale, int):
        raise TypeError(f"{name}: expected an int, got {type(scale).__name__}")
    if not 0 <= scale <= SCALE_MAX:
        raise LedgerValueError(f"{name}: expected 0..{SCALE_MAX} decimal places, got {scale}")
    return scale


def to_units(amount: str | Decimal | int, scale: int, *, where: str = "") -> int:
    """An amount's exact integer of minor units at `scale` decimal places.

    Args:
        amount: a decimal string ("1234.56", "1_000", "1e3"), a Decimal or an int; never a
            float, whose binary value is not the decimal amount that was meant.
        scale: the unit's decimal places (2 for yuan in fen).
        where: how the message names the scale's owner ("ledger 156"), for errors.

    Returns:
        The amount in minor units, 0 <= result <= 2^128 - 1.

    Raises:
        TypeError: a float, bool or other type.
        LedgerValueError: not a number, negative, more decimal places than the scale, or more
            than a u128 holds.

    Example:
        >>> to_units("12.3", 2), to_units(Decimal("0.07"), 2), to_units(5, 0)
        (1230, 7, 5)
    """
    _check_scale(scale)
    if isinstance(amount, bool) or not isinstance(amount, (str, Decimal, int)):
        hint = " (give a str such as '12.30' or a Decimal)" if isinstance(amount, float) else ""
        raise TypeError(
            f"amount: expected a str, Decimal or int, got {type(amount).__name__}{hint}"
        )
    try:
        value = Decimal(amount.strip()) if isinstance(amount, str) else Decimal(amount)
    except decimal.InvalidOperation:
        raise LedgerValueError(f"amount: {amount!r} is not a decimal number") from None
    if not value.is_finite():
        raise LedgerValueError(f"amount: {amount!r} is not a finite number")
    if value.is_signed() and value != 0:
        raise LedgerValueError(f"amount: {amount} is negative; amounts are never negative")
    if len(value.as_tuple().digits) > _DIGITS_MAX:
        raise LedgerValueError(f"amount: {amount} has more digits than any amount a u128 holds")
    # "12.30" is 12.3: trailing zeros are no decimal places of their own.
    exponent = value.normalize(_CONTEXT).as_tuple().exponent if value else 0
    assert isinstance(exponent, int)
    places = max(0, -exponent)
    if places > scale:
        owner = f"{where} has" if where else "the scale is"
        raise LedgerValueError(f"amount: {amount} has {places} decimal places, {owner} {scale}")
    units = int(value.scaleb(scale, _CONTEXT))
    if units > _AMOUNT_MAX:
        raise LedgerValueError(f"amount: {amount} is {units} minor units, more than 2^128 - 1")
    return units


def to_decimal(units: int, scale: int) -> Decimal:
    """Minor units as the exact decimal amount, with exactly `scale` decimal places.

    Raises:
        TypeError: units is not an int.
        LedgerValueError: units outside 0..2^128 - 1.

    Example:
        >>> str(to_decimal(1230, 2)), str(to_decimal(5, 0))
        ('12.30', '5')
    """
    _check_scale(scale)
    if isinstance(units, bool) or not isinstance(units, int):
        raise TypeError(f"units: expected an int, got {type(units).__name__}")
    if not 0 <= units <= _AMOUNT_MAX:
        raise LedgerValueError(f"units: expected 0..2^128 - 1, got {units}")
    return Decimal(units).scaleb(-scale, _CONTEXT)


class Scales:
    """Each ledger's decimal places, and exact conversions of its amounts.

    Example:
        >>> fund = Scales({156: 2})
        >>> fund.to_units(156, "4234"), fund.format(156, 423400)
        (423400, '4234.00')
    """

    def __init__(self, scales: Mapping[int, int] | Iterable[tuple[int, int]]) -> None:
        """Args: scales: ledger -> decimal places, e.g. {156: 2, 392: 0}."""
        pairs = scales.items() if isinstance(scales, Mapping) else scales
        self._scales: dict[int, int] = {}
        for ledger, scale in pairs:
            if isinstance(ledger, bool) or not isinstance(ledger, int):
                raise TypeError(f"ledger: expected an int, got {type(ledger).__name__}")
            if not 0 < ledger < 2**32:
                raise LedgerValueError(f"ledger: expected 1..2^32 - 1, got {ledger}")
            self._scales[ledger] = _check_scale(scale, f"scale of ledger {ledger}")

    def scale(self, ledger: int) -> int:
        """The decimal places of `ledger`'s unit; LedgerValueError if none was given."""
        try:
            return self._scales[ledger]
        except (KeyError, TypeError):
            known = ", ".join(str(key) for key in sorted(self._scales)) or "none"
            raise LedgerValueError(
                f"ledger: no scale for ledger {ledger!r} (scales are given for {known})"
            ) from None

    def to_units(self, ledger: int, amount: str | Decimal | int) -> int:
        """`amount` of `ledger`'s unit in minor units, exactly (see to_units)."""
        return to_units(amount, self.scale(ledger), where=f"ledger {ledger}")

    def to_decimal(self, ledger: int, units: int) -> Decimal:
        """Minor units of `ledger` as the exact decimal amount (see to_decimal)."""
        return to_decimal(units, self.scale(ledger))

    def format(self, ledger: int, units: int) -> str:
        """Minor units of `ledger` as a plain decimal string, with every decimal place."""
        return format(self.to_decimal(ledger, units), "f")

    def __repr__(self) -> str:
        return f"Scales({self._scales!r})"
