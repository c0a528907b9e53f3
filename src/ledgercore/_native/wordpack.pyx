# cython: language_level=3
"""Native zero-word packing of record arrays (wordpack.h), as the store keeps bodies and state.

The public users are ledgercore.store's body and state encodings; this module checks every
argument, then releases the GIL once per call.
"""

from cpython.bytes cimport PyBytes_AS_STRING
from cpython.object cimport PyObject
from libc.stdint cimport uint8_t
from libc.string cimport memcpy

import numpy

from ledgercore.errors import LedgerValueError


cdef extern from "Python.h":
    # Declared over PyObject * so that Cython does not own the object while it is resized.
    PyObject *new_bytes "PyBytes_FromStringAndSize"(const char *data, Py_ssize_t size)
    char *bytes_buffer "PyBytes_AS_STRING"(PyObject *data)
    int _PyBytes_Resize(PyObject **data, Py_ssize_t size)
    void Py_DECREF(PyObject *o)


cdef extern from "wordpack.h" nogil:
    int LC_OK
    int LC_WORDPACK_TRUNCATED
    int LC_WORDPACK_BAD_MASK
    int LC_WORDPACK_NOT_CANONICAL
    size_t LC_WORDPACK_RECORD_SIZE_MAX
    size_t lc_wordpack_mask_size(size_t record_size)
    size_t lc_wordpack_bound(size_t count, size_t record_size)
    size_t lc_wordpack_encode(const uint8_t *records, size_t count, size_t record_size,
                              size_t stride, uint8_t *out)
    int lc_wordpack_decode(const uint8_t *data, size_t size, size_t count, size_t record_size,
                           uint8_t *out, size_t *consumed)


RECORD_SIZE_MAX = LC_WORDPACK_RECORD_SIZE_MAX


def mask_size(Py_ssize_t record_size):
    """The mask bytes of one packed record of record_size bytes: the least it can take."""
    if record_size <= 0 or record_size % 8 or record_size > LC_WORDPACK_RECORD_SIZE_MAX:
        raise LedgerValueError(f"record_size: {record_size} is not a multiple of 8 in "
                               f"[8, {LC_WORDPACK_RECORD_SIZE_MAX}]")
    return lc_wordpack_mask_size(record_size)

_DECODE_ERRORS = {
    LC_WORDPACK_TRUNCATED: "the bytes end inside a record",
    LC_WORDPACK_BAD_MASK: "a record's mask marks words past its end",
    LC_WORDPACK_NOT_CANONICAL: "a record's mask marks a zero word",
}


cdef size_t checked_record_size(Py_ssize_t size, str name) except 0:
    if size == 0 or size % 8 or size > LC_WORDPACK_RECORD_SIZE_MAX:
        raise LedgerValueError(
            f"{name}: records of {size} bytes; a multiple of 8 up to {LC_WORDPACK_RECORD_SIZE_MAX} "
            "is needed")
    return size


def pack(records not None, bytes prefix=b"", bytes suffix=b"", *, Py_ssize_t offset=0,
         object size=None):
    """prefix + the packed records + suffix, as one bytes object.

    records: a 1-D C-contiguous array. With offset and size, only bytes [offset, offset + size)
    of each record are packed, as if they had been copied out into records of `size` bytes;
    the packed record size (the whole record, or size) must be a multiple of 8 bytes.
    """
    if not isinstance(records, numpy.ndarray):
        raise TypeError(f"records: expected a numpy array, got {type(records).__name__}")
    if records.ndim != 1:
        raise LedgerValueError(f"records: expected a 1-D array, got shape {records.shape}")
    if not records.flags.c_contiguous:
        raise LedgerValueError("records: expected a C-contiguous array")
    cdef Py_ssize_t stride = records.dtype.itemsize
    cdef Py_ssize_t span = stride - offset if size is None else size
    if offset < 0 or span <= 0 or offset + span > stride:
        raise LedgerValueError(f"offset and size: bytes [{offset}, {offset + span}) are not "
                               f"inside records of {stride} bytes")
    cdef size_t record_size = checked_record_size(span, "records")
    cdef size_t count = records.shape[0]
    cdef const uint8_t[::1] raw = records.view(numpy.uint8) if count else None
    cdef Py_ssize_t head = len(prefix), tail = len(suffix)
    cdef size_t bound = lc_wordpack_bound(count, record_size)
    cdef PyObject *out = new_bytes(NULL, head + <Py_ssize_t>bound + tail)
    if out == NULL:
        raise MemoryError("pack")
    cdef uint8_t *buffer = <uint8_t *>bytes_buffer(out)
    cdef size_t written = 0
    if head:
        memcpy(buffer, PyBytes_AS_STRING(prefix), head)
    if count:
        with nogil:
            written = lc_wordpack_encode(&raw[offset], count, record_size, stride, buffer + head)
    if tail:
        memcpy(buffer + head + written, PyBytes_AS_STRING(suffix), tail)
    # Shrunk in place to what was written: the block's bytes are not copied again.
    if _PyBytes_Resize(&out, head + <Py_ssize_t>written + tail) != 0:
        raise MemoryError("pack")
    result = <object>out
    Py_DECREF(out)
    return result


def unpack(data not None, Py_ssize_t offset, Py_ssize_t count, dtype not None):
    """(count records of dtype unpacked from data at offset, the offset just past them).

    Raises LedgerValueError naming what is wrong with bytes that are not packed records.
    """
    cdef const uint8_t[::1] view = memoryview(data).cast("B")
    cdef size_t record_size = checked_record_size(numpy.dtype(dtype).itemsize, "dtype")
    if offset < 0 or offset > view.shape[0]:
        raise LedgerValueError(f"offset: {offset} is outside the {view.shape[0]} bytes")
    if count < 0:
        raise LedgerValueError(f"count: {count} is negative")
    out = numpy.empty(count, dtype=dtype)  # every word is written
    if count == 0:
        return out, offset
    cdef uint8_t[::1] out_view = out.view(numpy.uint8)
    cdef size_t consumed = 0
    cdef int status
    cdef const uint8_t *start = &view[0] + offset if view.shape[0] else NULL
    cdef size_t available = view.shape[0] - offset
    with nogil:
        status = lc_wordpack_decode(start, available, count, record_size, &out_view[0],
                                    &consumed)
    if status != LC_OK:
        raise LedgerValueError(f"packed records: {_DECODE_ERRORS.get(status, status)}")
    return out, offset + <Py_ssize_t>consumed
