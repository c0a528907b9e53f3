# cython: language_level=3
"""Native Merkle trees: leaf hashes, roots, and the complete-subtree store behind MerkleLog and
StateTree.

The public, documented API is ledgercore.merkle. This module checks every argument, raising
before anything changes, then releases the GIL once for the batch (appends, updates, roots over
many leaves); proofs and roots of a stored tree are a few dozen hashes and keep the GIL.
"""

cimport cython
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport (
    PyBytes_AS_STRING,
    PyBytes_CheckExact,
    PyBytes_FromStringAndSize,
    PyBytes_GET_SIZE,
)
from cpython.tuple cimport PyTuple_GET_ITEM
from libc.stdint cimport uint8_t, uint64_t
from libc.stdlib cimport calloc, free

from ledgercore._native.blake3 cimport lc_blake3_kernel_name, lc_blake3_set_kernel

import os

import numpy

from ledgercore.errors import LedgerValueError

LEAF_COUNT_MAX = LC_MERKLE_LEAF_COUNT_MAX
LEVEL_COUNT_MAX = LC_MERKLE_LEVEL_COUNT_MAX
PROOF_HASHES_MAX = LC_MERKLE_PROOF_HASHES_MAX
HASH_SIZE = LC_MERKLE_HASH_SIZE
THREAD_COUNT_MAX = LC_THREAD_COUNT_MAX
LEAF_KEY = bytes((<const char *>lc_merkle_leaf_key)[:32])
NODE_KEY = bytes((<const char *>lc_merkle_node_key)[:32])
EMPTY_ROOT = bytes((<const char *>lc_merkle_empty_root)[:32])


cdef int check_status(int status, str what) except -1:
    if status == LC_OK:
        return 0
    if status == LC_ERROR_MEMORY:
        raise MemoryError(what)
    raise LedgerValueError(f"{what}: rejected by the native code (status {status})")


def kernel_name():
    """The BLAKE3 kernel this module's own copy of the hashing code uses."""
    return lc_blake3_kernel_name().decode()


def set_kernel(str name not None):
    """Pin the named BLAKE3 kernel in this module's copy; False when this CPU cannot run it."""
    cdef int status = lc_blake3_set_kernel(name.encode())
    if status == LC_ERROR_ARGUMENT:
        raise ValueError(f"unknown BLAKE3 kernel {name!r}")
    return status == LC_OK


def default_thread_count():
    """The CPUs this process may run on, at most THREAD_COUNT_MAX."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 1
    return max(1, min(count, LC_THREAD_COUNT_MAX))


cdef unsigned check_threads(object threads) except 0:
    """A thread count argument: None for default_thread_count(), else 1..THREAD_COUNT_MAX."""
    if threads is None:
        return default_thread_count()
    if isinstance(threads, bool) or not isinstance(threads, int):
        raise TypeError(f"threads: expected an int or None, got {type(threads).__name__}")
    if threads < 1 or threads > LC_THREAD_COUNT_MAX:
        raise LedgerValueError(f"threads: expected 1..{LC_THREAD_COUNT_MAX}, got {threads}")
    return threads


cdef object as_rows(object leaves, str argument):
    """Leaves given as one array, as a C-contiguous (n, leaf_size) uint8 array; None for a
    sequence of bytes-like objects."""
    if isinstance(leaves, (bytes, bytearray, memoryview, str)):
        raise TypeError(f"{argument}: expected a sequence of leaves or a 2-D uint8 array, "
                        f"got one {type(leaves).__name__}")
    if not isinstance(leaves, numpy.ndarray):
        return None
    if leaves.ndim == 1 and leaves.dtype.kind == "V":
        # Records (a structured dtype): each record's bytes are one leaf.
        rows = numpy.ascontiguousarray(leaves)
        return rows.view(numpy.uint8).reshape(rows.shape[0], rows.dtype.itemsize)
    if leaves.ndim != 2 or leaves.dtype != numpy.uint8:
        raise TypeError(f"{argument}: expected a 2-D uint8 array or a 1-D array of records, "
                        f"got {leaves.ndim}-D {leaves.dtype}")
    return numpy.ascontiguousarray(leaves)


cdef class LeafPointers:
    """Pointers to and sizes of a sequence of bytes-like leaves, valid while this object lives.
    Objects that are not bytes are read through the buffer protocol; their views are held."""

    cdef const uint8_t **pointers
    cdef size_t *sizes
    cdef Py_buffer *views
    cdef char *has_view
    cdef Py_ssize_t count
    cdef object items

    def __cinit__(self, object items, str argument):
        # A tuple of the items keeps each one alive while the GIL is released, even if another
        # thread changes the caller's list meanwhile.
        items = items if type(items) is tuple else tuple(items)
        self.items = items
        self.count = len(items)
        cdef Py_ssize_t n = self.count if self.count > 0 else 1
        self.pointers = <const uint8_t **>calloc(n, sizeof(uint8_t *))
        self.sizes = <size_t *>calloc(n, sizeof(size_t))
        self.views = <Py_buffer *>calloc(n, sizeof(Py_buffer))
        self.has_view = <char *>calloc(n, 1)
        if (self.pointers == NULL or self.sizes == NULL or self.views == NULL
                or self.has_view == NULL):
            raise MemoryError(argument)
        cdef Py_ssize_t i
        cdef object item
        for i in range(self.count):
            item = <object>PyTuple_GET_ITEM(items, i)
            if PyBytes_CheckExact(item):
                self.pointers[i] = <const uint8_t *>PyBytes_AS_STRING(item)
                self.sizes[i] = PyBytes_GET_SIZE(item)
                continue
            if isinstance(item, str):
                raise TypeError(f"{argument}[{i}]: expected a bytes-like object, got str "
                                "(encode it first)")
            try:
                PyObject_GetBuffer(item, &self.views[i], PyBUF_SIMPLE)
            except (TypeError, BufferError):
                raise TypeError(f"{argument}[{i}]: expected a bytes-like object, "
                                f"got {type(item).__name__}") from None
            self.has_view[i] = 1
            self.pointers[i] = <const uint8_t *>self.views[i].buf
            self.sizes[i] = self.views[i].len

    def __dealloc__(self):
        cdef Py_ssize_t i
        if self.has_view != NULL and self.views != NULL:
            for i in range(self.count):
                if self.has_view[i]:
                    PyBuffer_Release(&self.views[i])
        free(self.pointers)
        free(self.sizes)
        free(self.views)
        free(self.has_view)


# Every index is in range(1, shape[0]), so no bounds or negative-index checks are needed.
@cython.boundscheck(False)
@cython.wraparound(False)
cdef bint is_ascending(const uint64_t[::1] values) noexcept:
    """Whether values never decrease (repeats allowed)."""
    cdef Py_ssize_t j
    with nogil:
        for j in range(1, values.shape[0]):
            if values[j] < values[j - 1]:
                return False
    return True


def hash_leaves(object leaves, str argument="leaves", object threads=None):
    """Leaf hashes of a sequence of bytes-like leaves or of the rows of an array; (n, 32) uint8."""
    cdef unsigned thread_count = check_threads(threads)
    rows = as_rows(leaves, argument)
    cdef LeafPointers pointers = None if rows is not None else LeafPointers(leaves, argument)
    cdef Py_ssize_t count = rows.shape[0] if rows is not None else pointers.count
    if <uint64_t>count > LC_MERKLE_LEAF_COUNT_MAX:
        raise LedgerValueError(f"{argument}: {count} leaves, at most {LC_MERKLE_LEAF_COUNT_MAX}")
    hashes = numpy.empty((count, 32), dtype=numpy.uint8)
    if count == 0:
        return hashes
    cdef uint8_t[:, ::1] out = hashes
    cdef const uint8_t[:, ::1] row_view
    cdef uint8_t empty_row = 0
    cdef const uint8_t *rows_ptr = &empty_row
    cdef size_t leaf_size
    cdef int status
    if rows is not None:
        row_view = rows
        leaf_size = row_view.shape[1]
        if leaf_size > 0:
            rows_ptr = &row_view[0, 0]
        with nogil:
            status = lc_merkle_hash_leaves(rows_ptr, count, leaf_size, &out[0, 0], thread_count)
    else:
        with nogil:
            status = lc_merkle_hash_leaves_ptrs(pointers.pointers, pointers.sizes, count,
                                                &out[0, 0])
    check_status(status, argument)
    return hashes


def root_of_hashes(object hashes, object threads=None):
    """The RFC 9162 root over leaf hashes, an (n, 32) uint8 array (copied, then reduced)."""
    cdef unsigned thread_count = check_threads(threads)
    cdef uint8_t[:, ::1] work = check_hashes(hashes, "hashes").copy()
    cdef size_t count = work.shape[0]
    cdef uint8_t out[32]
    cdef uint8_t *work_ptr = &work[0, 0] if count > 0 else NULL
    cdef int status
    with nogil:
        status = lc_merkle_root_of_hashes(work_ptr, count, out, thread_count)
    check_status(status, "hashes")
    return bytes((<const char *>out)[:32])


def merkle_root(object leaves, object threads=None):
    """The RFC 9162 root over leaf data; see ledgercore.merkle.merkle_root."""
    cdef unsigned thread_count = check_threads(threads)
    rows = as_rows(leaves, "leaves")
    cdef LeafPointers pointers = None if rows is not None else LeafPointers(leaves, "leaves")
    cdef Py_ssize_t count = rows.shape[0] if rows is not None else pointers.count
    if <uint64_t>count > LC_MERKLE_LEAF_COUNT_MAX:
        raise LedgerValueError(f"leaves: {count} leaves, at most {LC_MERKLE_LEAF_COUNT_MAX}")
    cdef const uint8_t[:, ::1] row_view
    cdef uint8_t empty_row = 0
    cdef const uint8_t *rows_ptr = &empty_row
    cdef size_t leaf_size
    cdef uint8_t out[32]
    cdef int status
    if rows is not None:
        row_view = rows
        leaf_size = row_view.shape[1]
        if leaf_size > 0 and count > 0:
            rows_ptr = &row_view[0, 0]
        with nogil:
            status = lc_merkle_root(rows_ptr, count, leaf_size, out, thread_count)
    else:
        with nogil:
            status = lc_merkle_root_ptrs(pointers.pointers, pointers.sizes, count, out,
                                         thread_count)
    check_status(status, "leaves")
    return bytes((<const char *>out)[:32])


cdef object check_hashes(object hashes, str argument):
    if not isinstance(hashes, numpy.ndarray):
        raise TypeError(f"{argument}: expected an (n, 32) uint8 array, got {type(hashes).__name__}")
    if hashes.dtype != numpy.uint8 or hashes.ndim != 2 or hashes.shape[1] != 32:
        raise LedgerValueError(f"{argument}: expected an (n, 32) uint8 array, "
                               f"got shape {hashes.shape} of {hashes.dtype}")
    return numpy.ascontiguousarray(hashes)


cdef uint64_t check_count(object value, str argument, object low, object high) except? 0:
    """An integer argument in low..high inclusive, as uint64."""
    if isinstance(value, bool) or not isinstance(value, (int, numpy.integer)):
        raise TypeError(f"{argument}: expected an int, got {type(value).__name__}")
    if value < low or value > high:
        raise LedgerValueError(f"{argument}: expected {low}..{high}, got {value}")
    return <uint64_t>int(value)


cdef object proof_list(const uint8_t *hashes, size_t count):
    return [PyBytes_FromStringAndSize(<const char *>hashes + 32 * i, 32) for i in range(count)]


cdef class Tree:
    """Complete-subtree hashes of an RFC 9162 tree: node (level, index) is the root of leaves
    [index * 2**level, (index + 1) * 2**level). Not for concurrent use while it changes."""

    cdef lc_merkle_tree *tree
    cdef bint busy
    cdef readonly unsigned threads

    def __cinit__(self, object threads=None):
        self.threads = check_threads(threads)
        self.tree = lc_merkle_tree_new(self.threads)
        if self.tree == NULL:
            raise MemoryError("Tree")

    def __dealloc__(self):
        lc_merkle_tree_free(self.tree)

    cdef int enter(self) except -1:
        if self.busy:
            raise RuntimeError("this Merkle tree is being changed by another thread")
        return 0

    @property
    def size(self):
        """Leaves in the tree."""
        return lc_merkle_tree_size(self.tree)

    cdef int check_room(self, Py_ssize_t count, str argument) except -1:
        cdef uint64_t size = lc_merkle_tree_size(self.tree)
        if <uint64_t>count > LC_MERKLE_LEAF_COUNT_MAX - size:
            raise LedgerValueError(f"{argument}: {count} more leaves on {size} would pass "
                                   f"{LC_MERKLE_LEAF_COUNT_MAX}")
        return 0

    def append(self, object leaves, str argument="leaves"):
        """Append leaf data: a sequence of bytes-like objects or the rows of an array."""
        self.enter()
        rows = as_rows(leaves, argument)
        cdef LeafPointers pointers = None if rows is not None else LeafPointers(leaves, argument)
        cdef Py_ssize_t count = rows.shape[0] if rows is not None else pointers.count
        self.check_room(count, argument)
        if count == 0:
            return
        cdef const uint8_t[:, ::1] row_view
        cdef uint8_t empty_row = 0
        cdef const uint8_t *rows_ptr = &empty_row
        cdef size_t leaf_size
        cdef int status
        self.busy = True
        try:
            if rows is not None:
                row_view = rows
                leaf_size = row_view.shape[1]
                if leaf_size > 0:
                    rows_ptr = &row_view[0, 0]
                with nogil:
                    status = lc_merkle_tree_append(self.tree, rows_ptr, count, leaf_size)
            else:
                with nogil:
                    status = lc_merkle_tree_append_ptrs(self.tree, pointers.pointers,
                                                        pointers.sizes, count)
        finally:
            self.busy = False
        check_status(status, argument)

    def append_hashes(self, object hashes):
        """Append leaf hashes made elsewhere, an (n, 32) uint8 array."""
        self.enter()
        cdef const uint8_t[:, ::1] view = check_hashes(hashes, "hashes")
        cdef Py_ssize_t count = view.shape[0]
        self.check_room(count, "hashes")
        if count == 0:
            return
        cdef int status
        self.busy = True
        try:
            with nogil:
                status = lc_merkle_tree_append_hashes(self.tree, &view[0, 0], count)
        finally:
            self.busy = False
        check_status(status, "hashes")

    def update_hashes(self, object indices, object hashes):
        """Set the leaf hashes at `indices` (the last of a repeated index wins) and hash every
        complete ancestor of a changed leaf again, once."""
        self.enter()
        cdef uint64_t size = lc_merkle_tree_size(self.tree)
        cdef const uint8_t[:, ::1] hash_view = check_hashes(hashes, "leaves")
        index_array = numpy.asarray(indices)
        if index_array.ndim != 1 or not (index_array.dtype.kind in "iu" or index_array.size == 0):
            raise TypeError(f"indices: expected a 1-D array of integers, "
                            f"got {index_array.ndim}-D {index_array.dtype}")
        cdef Py_ssize_t count = index_array.shape[0]
        if count != hash_view.shape[0]:
            raise LedgerValueError(f"indices and leaves: {count} indices for "
                                   f"{hash_view.shape[0]} leaves")
        if count == 0:
            return
        bad = numpy.flatnonzero((index_array < 0) | (index_array >= size))
        if bad.size > 0:
            first = int(bad[0])
            raise LedgerValueError(f"indices[{first}]: expected 0..{size - 1} (the tree has "
                                   f"{size} leaves), got {index_array[first]}")
        cdef const uint64_t[::1] index_view = numpy.ascontiguousarray(index_array,
                                                                        dtype=numpy.uint64)
        # A state tree's slots come in ascending order: numpy's sort would spend as long on
        # them as on shuffled ones (half a millisecond for 15,000), so it is skipped then.
        cdef const uint64_t[::1] sorted_view = index_view
        if not is_ascending(index_view):
            sorted_view = numpy.sort(index_view)
        cdef int status
        self.busy = True
        try:
            with nogil:
                status = lc_merkle_tree_update_hashes(self.tree, &index_view[0], &hash_view[0, 0],
                                                      &sorted_view[0], count)
        finally:
            self.busy = False
        check_status(status, "indices")

    def root(self, object size):
        """The root of the first `size` leaves."""
        self.enter()
        cdef uint64_t n = check_count(size, "size", 0, lc_merkle_tree_size(self.tree))
        cdef uint8_t out[32]
        check_status(lc_merkle_tree_root(self.tree, n, out), "size")
        return bytes((<const char *>out)[:32])

    def inclusion_proof(self, object index, object size):
        """RFC 9162 inclusion proof of leaf `index` in the tree of the first `size` leaves."""
        self.enter()
        cdef uint64_t tree_size = lc_merkle_tree_size(self.tree)
        if tree_size == 0:
            raise LedgerValueError("size: the tree is empty; no leaf has a proof")
        cdef uint64_t n = check_count(size, "size", 1, tree_size)
        cdef uint64_t i = check_count(index, "index", 0, n - 1)
        cdef uint8_t out[LC_MERKLE_PROOF_HASHES_MAX * 32]
        cdef size_t count = 0
        check_status(lc_merkle_tree_inclusion_proof(self.tree, i, n, out, &count), "index")
        return proof_list(out, count)

    def inclusion_proofs(self, object indices, object size):
        """Inclusion proofs of many leaves in the tree of the first `size` leaves, in one native
        call; a list with one tuple of 32-byte hashes per index."""
        self.enter()
        cdef uint64_t tree_size = lc_merkle_tree_size(self.tree)
        if tree_size == 0:
            raise LedgerValueError("size: the tree is empty; no leaf has a proof")
        cdef uint64_t n = check_count(size, "size", 1, tree_size)
        index_array = numpy.asarray(indices)
        if index_array.ndim != 1 or not (index_array.dtype.kind in "iu" or index_array.size == 0):
            raise TypeError(f"indices: expected a 1-D array of integers, "
                            f"got {index_array.ndim}-D {index_array.dtype}")
        bad = numpy.flatnonzero((index_array < 0) | (index_array >= n))
        if bad.size > 0:
            first = int(bad[0])
            raise LedgerValueError(f"indices[{first}]: expected 0..{n - 1} (size {n}), "
                                   f"got {index_array[first]}")
        cdef const uint64_t[::1] index_view = numpy.ascontiguousarray(index_array,
                                                                        dtype=numpy.uint64)
        cdef Py_ssize_t count = index_view.shape[0]
        if count == 0:
            return []
        cdef size_t depth = lc_merkle_proof_depth(n)
        hashes = numpy.empty((count, depth if depth > 0 else 1, 32), dtype=numpy.uint8)
        lengths = numpy.empty(count, dtype=numpy.uint8)
        cdef uint8_t[:, :, ::1] hash_view = hashes
        cdef uint8_t[::1] length_view = lengths
        check_status(lc_merkle_tree_inclusion_proofs(self.tree, &index_view[0], count, n,
                                                     &hash_view[0, 0, 0], &length_view[0]),
                     "indices")
        cdef const char *base = <const char *>&hash_view[0, 0, 0]
        cdef Py_ssize_t i, j
        cdef size_t stride = depth * 32
        result = []
        for i in range(count):
            result.append(tuple([
                PyBytes_FromStringAndSize(base + i * stride + 32 * j, 32)
                for j in range(length_view[i])
            ]))
        return result

    def consistency_proof(self, object old_size, object new_size):
        """RFC 9162 consistency proof from the first `old_size` to the first `new_size` leaves."""
        self.enter()
        cdef uint64_t new = check_count(new_size, "new_size", 0, lc_merkle_tree_size(self.tree))
        cdef uint64_t old = check_count(old_size, "old_size", 0, new)
        cdef uint8_t out[LC_MERKLE_PROOF_HASHES_MAX * 32]
        cdef size_t count = 0
        check_status(lc_merkle_tree_consistency_proof(self.tree, old, new, out, &count),
                     "old_size")
        return proof_list(out, count)

    def level_count(self, object level):
        """Complete-subtree hashes stored on one level (leaves >> level)."""
        cdef uint64_t k = check_count(level, "level", 0, LC_MERKLE_LEVEL_COUNT_MAX - 1)
        return lc_merkle_tree_level_count(self.tree, <unsigned>k)

    def nodes(self, object level, object start, object stop):
        """A copy of nodes [start, stop) of one level, an (n, 32) uint8 array."""
        self.enter()
        cdef uint64_t k = check_count(level, "level", 0, LC_MERKLE_LEVEL_COUNT_MAX - 1)
        cdef uint64_t count = lc_merkle_tree_level_count(self.tree, <unsigned>k)
        cdef uint64_t last = check_count(stop, "stop", 0, count)
        cdef uint64_t first = check_count(start, "start", 0, last)
        out = numpy.empty((last - first, 32), dtype=numpy.uint8)
        cdef uint8_t[:, ::1] out_view = out
        if last > first:
            check_status(lc_merkle_tree_nodes(self.tree, <unsigned>k, first, last,
                                              &out_view[0, 0]), "level")
        return out
