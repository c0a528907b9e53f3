# cython: language_level=3
"""Native BLAKE3: one input in any mode, many inputs in SIMD lanes, and the kernel choice.

The public, documented API is ledgercore.hashing; this module checks every argument, then releases
the GIL once for the whole call.
"""

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_GET_SIZE
from cpython.object cimport PyObject
from cpython.sequence cimport (
    PySequence_Fast,
    PySequence_Fast_GET_ITEM,
    PySequence_Fast_GET_SIZE,
    PySequence_Fast_ITEMS,
)
from libc.stdint cimport int64_t, uint8_t, uint64_t
from libc.stdlib cimport free, malloc

import numpy

cdef extern from "common.h" nogil:
    int LC_OK
    int LC_ERROR_ARGUMENT
    int LC_ERROR_UNSUPPORTED
    int LC_ERROR_MEMORY

cdef extern from "lc_limits.h" nogil:
    unsigned int LC_BATCH_SIZE_MAX
    unsigned long long LC_BLAKE3_INPUT_SIZE_MAX
    unsigned int LC_BLAKE3_OUTPUT_SIZE_MAX

BATCH_SIZE_MAX = LC_BATCH_SIZE_MAX
BLAKE3_INPUT_SIZE_MAX = LC_BLAKE3_INPUT_SIZE_MAX
BLAKE3_OUTPUT_SIZE_MAX = LC_BLAKE3_OUTPUT_SIZE_MAX
KERNEL_NAMES = ("portable", "sse41", "avx2", "avx512", "neon")


cdef int check_status(int status, str what) except -1:
    if status == LC_OK:
        return 0
    if status == LC_ERROR_MEMORY:
        raise MemoryError(what)
    raise ValueError(f"{what}: rejected by the native code (status {status})")


cdef const uint8_t *key_pointer(const uint8_t[::1] key) except? NULL:
    if key is None:
        return NULL
    if key.shape[0] != 32:
        raise ValueError(f"key: expected 32 bytes, got {key.shape[0]}")
    return &key[0]


def hash_one(const uint8_t[::1] data not None, *, const uint8_t[::1] key=None,
             const uint8_t[::1] context=None, Py_ssize_t length=32):
    """BLAKE3 of one input: hash, keyed hash (key), or key derivation (context)."""
    if length < 0 or length > LC_BLAKE3_OUTPUT_SIZE_MAX:
        raise ValueError(f"length: expected 0..{LC_BLAKE3_OUTPUT_SIZE_MAX} bytes, got {length}")
    if <unsigned long long>data.shape[0] > LC_BLAKE3_INPUT_SIZE_MAX:
        raise ValueError(f"data: {data.shape[0]} bytes, at most {LC_BLAKE3_INPUT_SIZE_MAX}")
    if key is not None and context is not None:
        raise ValueError("key and derive_key_context cannot be used together")
    cdef const uint8_t *key_ptr = key_pointer(key)
    cdef const uint8_t *context_ptr = NULL
    cdef size_t context_size = 0
    cdef int mode = LC_BLAKE3_MODE_HASH
    if key is not None:
        mode = LC_BLAKE3_MODE_KEYED
    elif context is not None:
        mode = LC_BLAKE3_MODE_DERIVE_KEY
        context_size = context.shape[0]
        if context_size > 0:
            context_ptr = &context[0]
    cdef const uint8_t *input_ptr = &data[0] if data.shape[0] > 0 else NULL
    cdef size_t input_size = data.shape[0]
    out = bytearray(length)
    cdef uint8_t[::1] out_view = out
    cdef uint8_t dummy = 0
    cdef uint8_t *out_ptr = &out_view[0] if length > 0 else &dummy
    cdef int status
    # Small inputs are quicker than the cost of releasing the GIL.
    if input_size > 4096:
        with nogil:
            status = lc_blake3(input_ptr, input_size, mode, key_ptr, context_ptr, context_size,
                               out_ptr, length)
    else:
        status = lc_blake3(input_ptr, input_size, mode, key_ptr, context_ptr, context_size,
                           out_ptr, length)
    check_status(status, "blake3")
    return bytes(out)


def hash_rows(const uint8_t[:, ::1] items not None, *, const uint8_t[::1] key=None):
    """BLAKE3 of every row of a C-contiguous 2-D uint8 array; returns an (n, 32) uint8 array."""
    cdef Py_ssize_t count = items.shape[0]
    cdef Py_ssize_t item_size = items.shape[1]
    if count > LC_BATCH_SIZE_MAX:
        raise ValueError(f"items: {count} rows, at most {LC_BATCH_SIZE_MAX}")
    cdef const uint8_t *key_ptr = key_pointer(key)
    digests = numpy.empty((count, 32), dtype=numpy.uint8)
    if count == 0:
        return digests
    cdef uint8_t[:, ::1] out = digests
    cdef uint8_t empty_row = 0
    # A (n, 0) array has no element to point at; its rows are all empty.
    cdef const uint8_t *items_ptr = &items[0, 0] if item_size > 0 else &empty_row
    cdef int status
    with nogil:
        status = lc_blake3_many(items_ptr, count, item_size, key_ptr, &out[0, 0])
    check_status(status, "blake3_many")
    return digests


def hash_rows_stamped(const uint8_t[:, ::1] rows not None, const int64_t[::1] picked not None,
                      Py_ssize_t stamp_offset, uint64_t stamp_base, *,
                      const uint8_t[::1] key=None):
    """BLAKE3 of rows[picked[i]] with its 8 bytes at stamp_offset replaced by the little-endian
    stamp_base + picked[i]; returns a (len(picked), 32) uint8 array. The rows are not copied."""
    cdef Py_ssize_t count = picked.shape[0]
    cdef Py_ssize_t row_count = rows.shape[0], row_size = rows.shape[1]
    if count > LC_BATCH_SIZE_MAX:
        raise ValueError(f"picked: {count} rows, at most {LC_BATCH_SIZE_MAX}")
    if row_size < 8 or row_size > 1024 or stamp_offset < 0 or stamp_offset > row_size - 8:
        raise ValueError(f"rows: {row_size}-byte rows cannot take a stamp at {stamp_offset}")
    cdef const uint8_t *key_ptr = key_pointer(key)
    digests = numpy.empty((count, 32), dtype=numpy.uint8)
    if count == 0:
        return digests
    if row_count == 0:
        raise ValueError("picked: rows to pick from, and there are none")
    cdef uint8_t[:, ::1] out = digests
    cdef int status
    with nogil:
        status = lc_blake3_many_stamped(&rows[0, 0], row_count, row_size, &picked[0], count,
                                        stamp_offset, stamp_base, key_ptr, &out[0, 0])
    if status == LC_ERROR_ARGUMENT:
        raise ValueError("picked: a row past the end, or a stamp past 2^64 - 1")
    check_status(status, "hash_rows_stamped")
    return digests


cdef extern from *:
    """
    #include <string.h>
    #define lc_prefetch(p) __builtin_prefetch((const void *)(p))

    /* Copies n bytes with fixed-width moves that may overlap each other, never reading or
     * writing outside [src, src + n) and [dst, dst + n). For the small inputs of a batch this
     * is several times quicker than the string instruction a variable-size memcpy becomes. */
    static inline void lc_copy_small(unsigned char *dst, const unsigned char *src, size_t n) {
        if (n >= 32) {
            size_t i = 0;
            for (; i + 32 < n; i += 32) memcpy(dst + i, src + i, 32);
            memcpy(dst + n - 32, src + n - 32, 32);
        } else if (n >= 16) {
            memcpy(dst, src, 16);
            memcpy(dst + n - 16, src + n - 16, 16);
        } else if (n >= 8) {
            memcpy(dst, src, 8);
            memcpy(dst + n - 8, src + n - 8, 8);
        } else if (n >= 4) {
            memcpy(dst, src, 4);
            memcpy(dst + n - 4, src + n - 4, 4);
        } else {
            for (size_t i = 0; i < n; i++) dst[i] = src[i];
        }
    }
    """
    void lc_prefetch(const void *p) nogil
    void lc_copy_small(uint8_t *dst, const uint8_t *src, size_t n) nogil

# Objects are read this many items ahead of use, so their cache misses overlap.
cdef Py_ssize_t PREFETCH_ITEMS = 16


cdef int hash_large_item(object item, Py_ssize_t i, const uint8_t *key_ptr,
                         uint8_t *out) except -1:
    """One input longer than a chunk, hashed with the GIL released while its buffer is held."""
    cdef Py_buffer view
    PyObject_GetBuffer(item, &view, PyBUF_SIMPLE)
    cdef int mode = LC_BLAKE3_MODE_KEYED if key_ptr != NULL else LC_BLAKE3_MODE_HASH
    cdef int status
    try:
        with nogil:
            status = lc_blake3(<const uint8_t *>view.buf, view.len, mode, key_ptr, NULL, 0,
                               out, 32)
    finally:
        PyBuffer_Release(&view)
    return check_status(status, f"blake3_many: items[{i}]")


# Small inputs are copied into a buffer of this size and hashed from there, a piece at a time;
# a piece also ends after this many inputs (empty inputs take no bytes).
cdef size_t PIECE_SIZE_BYTES = 4 << 20
cdef Py_ssize_t PIECE_COUNT_MAX = 1 << 16


cdef class _Piece:
    """Inputs copied back to back (with the GIL held, so the native call that follows reads no
    Python object another thread could change or free), with their sizes."""
    cdef uint8_t *data
    cdef size_t size
    cdef size_t capacity
    cdef size_t *offsets
    cdef size_t *sizes
    cdef const uint8_t **pointers
    cdef Py_ssize_t count

    def __cinit__(self, size_t capacity, Py_ssize_t count_max):
        self.capacity = capacity
        self.data = <uint8_t *>malloc(capacity)
        self.offsets = <size_t *>malloc(count_max * sizeof(size_t))
        self.sizes = <size_t *>malloc(count_max * sizeof(size_t))
        self.pointers = <const uint8_t **>malloc(count_max * sizeof(uint8_t *))
        if (self.data == NULL or self.offsets == NULL or self.sizes == NULL or
                self.pointers == NULL):
            raise MemoryError("blake3_many")

    def __dealloc__(self):
        free(self.data)
        free(self.offsets)
        free(self.sizes)
        free(self.pointers)

    cdef inline bint fits(self, size_t item_size) noexcept:
        return self.size + item_size <= self.capacity

    cdef inline void append(self, const uint8_t *item, size_t item_size) noexcept:
        lc_copy_small(self.data + self.size, item, item_size)
        self.offsets[self.count] = self.size
        self.sizes[self.count] = item_size
        self.size += item_size
        self.count += 1

    cdef int hash_into(self, const uint8_t *key_ptr, uint8_t *out) except -1:
        """Hash the piece's inputs, GIL released, into count consecutive digests; empty it."""
        cdef Py_ssize_t i
        cdef int status = LC_OK
        cdef bint equal_sizes = True
        for i in range(1, self.count):
            if self.sizes[i] != self.sizes[0]:
                equal_sizes = False
                break
        if self.count > 0:
            if equal_sizes:
                with nogil:
                    status = lc_blake3_many(self.data, self.count, self.sizes[0], key_ptr, out)
            else:
                for i in range(self.count):
                    self.pointers[i] = self.data + self.offsets[i]
                with nogil:
                    status = lc_blake3_many_ptrs(self.pointers, self.sizes, self.count, key_ptr,
                                                 out)
        self.size = 0
        self.count = 0
        return check_status(status, "blake3_many")


# One piece is kept between calls: mapping and unmapping 4 MiB cost a quarter of a 100,000-input
# call in page faults. Taking and returning it happen with the GIL held, so two threads never
# share a piece; a second concurrent caller makes its own.
cdef _Piece spare_piece = None


cdef _Piece take_piece():
    global spare_piece
    cdef _Piece piece = spare_piece
    spare_piece = None
    if piece is None:
        piece = _Piece(PIECE_SIZE_BYTES, PIECE_COUNT_MAX)
    return piece


cdef void return_piece(_Piece piece) noexcept:
    global spare_piece
    piece.size = 0
    piece.count = 0
    spare_piece = piece


def hash_sequence(items, *, const uint8_t[::1] key=None):
    """BLAKE3 of every bytes-like object in a sequence; returns an (n, 32) uint8 array.

    A million separate bytes objects lie scattered over the heap. Inputs of up to one chunk are
    read in order, fetched ahead of use, and copied back to back into a piece of a few MiB,
    which is then hashed with the GIL released: equal sizes by the row kernel, mixed sizes in
    lanes grouped by block count. Longer inputs are hashed one by one afterwards.
    """
    cdef object sequence = PySequence_Fast(items, "items: expected a sequence")
    cdef Py_ssize_t count = PySequence_Fast_GET_SIZE(sequence)
    if count > LC_BATCH_SIZE_MAX:
        raise ValueError(f"items: {count} inputs, at most {LC_BATCH_SIZE_MAX}")
    cdef const uint8_t *key_ptr = key_pointer(key)
    digests = numpy.empty((count, 32), dtype=numpy.uint8)
    if count == 0:
        return digests
    cdef uint8_t[:, ::1] out = digests
    cdef _Piece piece = take_piece()
    cdef PyObject **objects = PySequence_Fast_ITEMS(sequence)
    cdef list large = []
    cdef Py_ssize_t i
    cdef Py_ssize_t piece_start = 0
    cdef PyObject *obj
    cdef object view
    cdef object item
    cdef const uint8_t *pointer
    cdef size_t size
    for i in range(count):
        if i + PREFETCH_ITEMS < count:
            # A bytes object of up to 160 bytes spans at most three cache lines.
            lc_prefetch(objects[i + PREFETCH_ITEMS])
            lc_prefetch(<char *>objects[i + PREFETCH_ITEMS] + 64)
            lc_prefetch(<char *>objects[i + PREFETCH_ITEMS] + 128)
        obj = objects[i]
        if PyBytes_CheckExact(<object>obj):
            pointer = <const uint8_t *>PyBytes_AS_STRING(<object>obj)
            size = PyBytes_GET_SIZE(<object>obj)
            view = None
        else:
            # A strong reference first: taking a buffer runs Python code (a class's __buffer__)
            # that may drop the sequence's own reference to this very item.
            item = <object>obj
            view = contiguous_view(item, i)
            pointer = view_pointer(view)
            size = len(view)
            # Taking a buffer may have run Python code that changed the sequence.
            if PySequence_Fast_GET_SIZE(sequence) != count:
                raise RuntimeError("items: the sequence changed size during blake3_many")
            objects = PySequence_Fast_ITEMS(sequence)
        if size > 1024:
            large.append(i)
            size = 0  # hashed afterwards; an empty stand-in keeps the piece's rows in order
        if not piece.fits(size) or piece.count == PIECE_COUNT_MAX:
            piece.hash_into(key_ptr, &out[piece_start, 0])
            piece_start = i
        piece.append(pointer, size)
        view = None
        item = None
    piece.hash_into(key_ptr, &out[piece_start, 0])
    return_piece(piece)
    for i in large:
        hash_large_item(<object>PySequence_Fast_GET_ITEM(sequence, i), i, key_ptr, &out[i, 0])
    return digests


cdef object contiguous_view(object item, Py_ssize_t i):
    """A C-contiguous byte view of one item, or a TypeError naming it."""
    if isinstance(item, str):
        raise TypeError(f"items[{i}]: expected a bytes-like object, got str (encode it first)")
    try:
        view = memoryview(item)
    except TypeError:
        raise TypeError(f"items[{i}]: expected a bytes-like object, "
                        f"got {type(item).__name__}") from None
    if not view.c_contiguous:
        return memoryview(view.tobytes())
    return view.cast("B") if view.ndim != 1 or view.format != "B" else view


cdef const uint8_t *view_pointer(object view) except? NULL:
    """The address of a contiguous memoryview's bytes; the view keeps them alive."""
    cdef const uint8_t[::1] data = view
    if data.shape[0] == 0:
        return <const uint8_t *>""
    return &data[0]


def kernel_name():
    """The name of the BLAKE3 kernel in use."""
    return lc_blake3_kernel_name().decode()


def kernel_available(str name not None):
    """Whether this build and this CPU can run the named kernel."""
    return bool(lc_blake3_kernel_available(name.encode()))


def set_kernel(str name not None):
    """Pin the named kernel for every later call in this process."""
    cdef int status = lc_blake3_set_kernel(name.encode())
    if status == LC_ERROR_ARGUMENT:
        raise ValueError(f"unknown BLAKE3 kernel {name!r}; expected one of {KERNEL_NAMES}")
    if status == LC_ERROR_UNSUPPORTED:
        return False
    check_status(status, "set_kernel")
    return True
