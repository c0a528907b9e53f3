"""Decimal amounts convert to minor units exactly, both ways, or are refused; never rounded."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledgercore.amounts import SCALE_MAX, Scales, to_decimal, to_units
from ledgercore.errors import LedgerValueError

AMOUNT_MAX = 2**128 - 1


@given(units=st.integers(0, AMOUNT_MAX), scale=st.integers(0, SCALE_MAX))
def test_units_survive_a_round_trip_through_their_decimal_text(units, scale):
    text = format(to_decimal(units, scale), "f")
    assert to_units(text, scale) == units
    assert to_units(Decimal(text), scale) == units
    if scale:
        assert len(text.split(".")[1]) == scale


@given(whole=st.integers(0, 10**12), cents=st.integers(0, 99))
def test_a_yuan_amount_is_its_fen(whole, cents):
    assert to_units(f"{whole}.{cents:02d}", 2) == whole * 100 + cents
    assert to_units(f"{whole}.{cents:02d}0000", 2) == whole * 100 + cents


@pytest.mark.parametrize(
    "amount, scale, message",
    [
        ("0.001", 2, "3 decimal places, the scale is 2"),
        ("12.5", 0, "1 decimal places"),
        ("-1", 2, "negative"),
        ("1e-9", 8, "9 decimal places"),
        ("twelve", 2, "not a decimal number"),
        ("NaN", 2, "not a finite number"),
        ("Infinity", 2, "not a finite number"),
        (str(2**128), 0, "more than 2"),
        ("3.5e38", 2, "more than 2"),
        ("9" * 200, 0, "more digits"),
    ],
)
def test_amounts_that_are_no_exact_minor_units_are_refused_saying_why(amount, scale, message):
    with pytest.raises(LedgerValueError, match=message):
        to_units(amount, scale)


def test_a_float_is_refused_with_the_way_to_give_the_amount():
    with pytest.raises(TypeError, match=r"float.*give a str"):
        to_units(0.1, 2)
    with pytest.raises(TypeError, match="bool"):
        to_units(True, 2)


def test_scales_name_the_ledger_whose_scale_an_amount_breaks():
    scales = Scales({156: 2, 392: 0})
    assert scales.to_units(392, "1500") == 1500
    assert scales.format(156, 5) == "0.05"
    with pytest.raises(LedgerValueError, match="ledger 392 has 0"):
        scales.to_units(392, "15.5")
    with pytest.raises(LedgerValueError, match=r"no scale for ledger 840.*156, 392"):
        scales.to_units(840, "1")
    with pytest.raises(LedgerValueError, match="scale of ledger 1"):
        Scales({1: 31})
    with pytest.raises(LedgerValueError, match="ledger"):
        Scales({0: 2})
