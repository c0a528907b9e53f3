# cython: language_level=3
"""Native liability sum trees: split, place, salt and hash a whole tree in one call.

The public, documented API is ledgercore.liabilities, which derives the keys and checks the
policy (parts, padding); this module checks every argument's type, shape and range again,
raising before anything is made, then releases the GIL once for the whole batch.
"""

from libc.stdint cimport uint8_t, uint32_t, uint64_t

import os

import numpy

from ledgercore.errors import LedgerValueError

LEAF_COUNT_MAX = LC_SUMTREE_LEAF_COUNT_MAX
PARTS_MAX = LC_SUMTREE_PARTS_MAX
HASH_SIZE = LC_SUMTREE_HASH_SIZE
NODE_SIZE = LC_SUMTREE_NODE_SIZE
LEAF_KEY = bytes((<const char *>lc_sumtree_leaf_key)[:32])
NODE_KEY = bytes((<const char *>lc_sumtree_node_key)[:32])


THREAD_COUNT_MAX = LC_THREAD_COUNT_MAX


cdef unsigned check_threads(object threads) except 0:
    """A thread count argument: None for the CPUs this process may run on, else
    1..THREAD_COUNT_MAX."""
    if threads is None:
        try:
            count = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            count = os.cpu_count() or 1
        return max(1, min(count, LC_THREAD_COUNT_MAX))
    if isinstance(threads, bool) or not isinstance(threads, int):
        raise TypeError(f"threads: expected an int or None, got {type(threads).__name__}")
    if threads < 1 or threads > LC_THREAD_COUNT_MAX:
        raise LedgerValueError(f"threads: expected 1..{LC_THREAD_COUNT_MAX}, got {threads}")
    return threads


cdef object lanes(object values, str argument):
    if not isinstance(values, numpy.ndarray):
        raise TypeError(f"{argument}: expected an (n, 2) uint64 array, got {type(values).__name__}")
    if values.ndim != 2 or values.shape[1] != 2 or values.dtype != numpy.uint64:
        raise TypeError(f"{argument}: expected an (n, 2) uint64 array, got shape "
                        f"{values.shape} {values.dtype}")
    return numpy.ascontiguousarray(values)


cdef bytes key_bytes(object key, str argument):
    if not isinstance(key, bytes):
        raise TypeError(f"{argument}: expected {LC_SUMTREE_KEY_SIZE} bytes, got "
                        f"{type(key).__name__}")
    if len(key) != LC_SUMTREE_KEY_SIZE:
        raise LedgerValueError(f"{argument}: expected {LC_SUMTREE_KEY_SIZE} bytes, got {len(key)}")
    return key


cdef unsigned part_bound(object value, str argument) except 0:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{argument}: expected an int, got {type(value).__name__}")
    if not 1 <= value <= LC_SUMTREE_PARTS_MAX:
        raise LedgerValueError(f"{argument}: expected 1..{LC_SUMTREE_PARTS_MAX}, got {value}")
    return value


def check_balances(object balances):
    """The total of (n, 2) u64 balance lanes as an int; LedgerValueError naming the row at which
    the running total passes 2^128 - 1."""
    cdef const uint64_t[:, ::1] view = lanes(balances, "balances")
    cdef size_t count = view.shape[0]
    cdef uint64_t total[2]
    cdef size_t overflow_row = 0
    cdef int status
    cdef const uint64_t *pointer = &view[0, 0] if count > 0 else NULL
    with nogil:
        status = lc_sumtree_check_balances(pointer, count, total, &overflow_row)
    if status == LC_SUMTREE_ERROR_OVERFLOW:
        raise LedgerValueError(
            f"balances: their total passes 2^128 - 1 at row {overflow_row}; a proof of "
            "liabilities needs a total that fits a u128"
        )
    if status != LC_OK:
        raise LedgerValueError(f"balances: rejected by the native code (status {status})")
    return int(total[0]) | (int(total[1]) << 64)


def part_counts(object ids, object split_key, object parts_min, object parts_max):
    """How many parts each account's balance is split into, as a uint8 array."""
    cdef const uint64_t[:, ::1] view = lanes(ids, "ids")
    cdef bytes key = key_bytes(split_key, "split_key")
    cdef unsigned low = part_bound(parts_min, "parts_min")
    cdef unsigned high = part_bound(parts_max, "parts_max")
    if low > high:
        raise LedgerValueError(f"parts_min, parts_max: {low} > {high}")
    cdef size_t count = view.shape[0]
    counts = numpy.zeros(count, dtype=numpy.uint8)
    if count == 0:
        return counts
    cdef uint8_t[::1] out = counts
    cdef const uint8_t *key_pointer = key
    cdef int status
    with nogil:
        status = lc_sumtree_part_counts(&view[0, 0], count, key_pointer, low, high, &out[0])
    if status != LC_OK:
        raise LedgerValueError(f"part_counts: rejected by the native code (status {status})")
    return counts


def build(object ids, object balances, object leaf_count, object parts_min, object parts_max,
          object split_key, object salt_key, object place_key, object threads=None):
    """The whole tree: (nodes, part_leaves, part_counts). nodes is a (2 * leaf_count - 1, 48)
    uint8 array, the leaves first, then each level up to the root; part_leaves[p] is the leaf of
    part p; part_counts[i] the parts of account i (their parts are numbered in row order).

    The C code's preconditions are all checked here first: the balances' total fits a u128,
    no id is 0, leaf_count is a power of two that holds every part."""
    cdef const uint64_t[:, ::1] id_view = lanes(ids, "ids")
    cdef const uint64_t[:, ::1] balance_view = lanes(balances, "balances")
    cdef Py_ssize_t account_count = id_view.shape[0]
    if account_count == 0:
        raise LedgerValueError("ids: no account; a tree needs at least one")
    if balance_view.shape[0] != account_count:
        raise LedgerValueError(
            f"ids, balances: {account_count} and {balance_view.shape[0]} rows; expected one "
            "balance per account"
        )
    check_balances(balances)
    cdef lc_sumtree_input spec
    spec.thread_count = check_threads(threads)
    counts = part_counts(ids, split_key, parts_min, parts_max)
    cdef const uint8_t[::1] count_view = counts
    spec.parts_min = parts_min
    spec.parts_max = parts_max
    part_count = int(counts.sum(dtype=numpy.uint64))
    if isinstance(leaf_count, bool) or not isinstance(leaf_count, int):
        raise TypeError(f"leaf_count: expected an int, got {type(leaf_count).__name__}")
    if (leaf_count < 2 or leaf_count > LC_SUMTREE_LEAF_COUNT_MAX
            or leaf_count & (leaf_count - 1) or leaf_count < part_count):
        raise LedgerValueError(
            f"leaf_count: expected a power of two in 2..{LC_SUMTREE_LEAF_COUNT_MAX} and at "
            f"least the {part_count} parts, got {leaf_count}"
        )
    id_array = numpy.asarray(id_view)
    zero = numpy.flatnonzero((id_array[:, 0] == 0) & (id_array[:, 1] == 0))
    if len(zero):
        raise LedgerValueError(
            f"ids: row {zero[0]} is 0, which is not an account id (it names the dummy leaves)"
        )
    cdef bytes split = key_bytes(split_key, "split_key")
    cdef bytes salt = key_bytes(salt_key, "salt_key")
    cdef bytes place = key_bytes(place_key, "place_key")
    spec.ids = &id_view[0, 0]
    spec.balances = &balance_view[0, 0]
    spec.part_counts = &count_view[0]
    spec.account_count = account_count
    spec.part_count = part_count
    spec.leaf_count = leaf_count
    spec.split_key = split
    spec.salt_key = salt
    spec.place_key = place
    nodes = numpy.empty((2 * leaf_count - 1, LC_SUMTREE_NODE_SIZE), dtype=numpy.uint8)
    cdef uint8_t[:, ::1] node_view = nodes
    cdef uint32_t[::1] leaf_view = numpy.empty(max(part_count, 1), dtype=numpy.uint32)
    cdef size_t duplicate_row = 0
    cdef int status
    with nogil:
        status = lc_sumtree_build(&spec, &node_view[0, 0], &leaf_view[0], &duplicate_row)
    if status == LC_SUMTREE_ERROR_DUPLICATE:
        row = int(duplicate_row)
        account = int(id_view[row, 0]) | (int(id_view[row, 1]) << 64)
        raise LedgerValueError(f"ids: account {account} is given twice (again at row {row})")
    if status == LC_ERROR_MEMORY:
        raise MemoryError(f"a liability tree of {leaf_count} leaves")
    if status != LC_OK:
        raise LedgerValueError(f"build: rejected by the native code (status {status})")
    return nodes, numpy.asarray(leaf_view)[:part_count], counts


def salts(object ids, object indices, object salt_key):
    """The 32-byte salts of leaves (ids[i], indices[i]), as an (n, 32) uint8 array."""
    cdef const uint64_t[:, ::1] id_view = lanes(ids, "ids")
    if (not isinstance(indices, numpy.ndarray) or indices.dtype != numpy.uint64
            or indices.ndim != 1):
        raise TypeError("indices: expected a 1-D uint64 array")
    cdef const uint64_t[::1] index_view = numpy.ascontiguousarray(indices)
    cdef Py_ssize_t count = id_view.shape[0]
    if index_view.shape[0] != count:
        raise LedgerValueError(f"ids, indices: {count} and {index_view.shape[0]} rows")
    cdef bytes key = key_bytes(salt_key, "salt_key")
    out = numpy.empty((count, LC_SUMTREE_HASH_SIZE), dtype=numpy.uint8)
    if count == 0:
        return out
    cdef uint8_t[:, ::1] out_view = out
    cdef const uint8_t *key_pointer = key
    cdef int status
    with nogil:
        status = lc_sumtree_salts(&id_view[0, 0], &index_view[0], count, key_pointer,
                                  &out_view[0, 0])
    if status != LC_OK:
        raise LedgerValueError(f"salts: rejected by the native code (status {status})")
    return out
