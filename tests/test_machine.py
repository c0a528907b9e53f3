"""The ledger's deterministic core: helpers whose fast paths must agree with the plain ones."""

from __future__ import annotations

import numpy
from hypothesis import given
from hypothesis import strategies as st

from ledgercore.machine import _distinct_ids

lanes = st.integers(0, 2**64 - 1)
small = st.integers(0, 40)


@given(st.lists(st.tuples(small, st.one_of(st.just(0), small)), max_size=60))
def test_distinct_ids_are_the_sorted_set_with_or_without_high_lanes(pairs):
    ids = numpy.array(pairs, dtype="<u8").reshape(-1, 2)
    got = _distinct_ids(ids)
    expected = sorted(set(pairs), key=lambda pair: (pair[1], pair[0]))
    assert got.dtype == numpy.dtype("<u8") and got.flags.c_contiguous
    assert [tuple(row) for row in got.tolist()] == expected


@given(st.lists(st.tuples(lanes, lanes), min_size=1, max_size=30))
def test_distinct_ids_of_full_width_ids(pairs):
    ids = numpy.array(pairs, dtype="<u8")
    got = _distinct_ids(ids)
    expected = sorted(set(pairs), key=lambda pair: (pair[1], pair[0]))
    assert [tuple(row) for row in got.tolist()] == expected
