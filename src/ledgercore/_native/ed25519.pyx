# cython: language_level=3
"""Native Ed25519 verification: one signature, a batch on many threads, decoded keys.

The public, documented API (and the rule set) is ledgercore.ed25519; this module checks every
argument, then releases the GIL once for the whole call.
"""

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_GET_SIZE
from libc.stdint cimport uint8_t, uint32_t
from libc.stdlib cimport free, malloc
from libc.string cimport memset

cimport cython

import numpy

cdef extern from "common.h" nogil:
    int LC_OK
    int LC_ERROR_UNSUPPORTED
    int LC_ERROR_MEMORY

cdef extern from "lc_limits.h" nogil:
    unsigned int LC_BATCH_SIZE_MAX
    unsigned int LC_THREAD_COUNT_MAX
    unsigned int LC_ED25519_CHUNK_SIZE_MAX
    unsigned int LC_ED25519_TEAM_SIGNATURES_MIN

BATCH_SIZE_MAX = LC_BATCH_SIZE_MAX
THREAD_COUNT_MAX = LC_THREAD_COUNT_MAX
CHUNK_SIZE_MAX = LC_ED25519_CHUNK_SIZE_MAX
TEAM_SIGNATURES_MIN = LC_ED25519_TEAM_SIGNATURES_MIN
PUBLIC_KEY_SIZE = LC_ED25519_PUBLIC_KEY_SIZE
SIGNATURE_SIZE = LC_ED25519_SIGNATURE_SIZE
DECODED_KEY_SIZE = LC_ED25519_DECODED_KEY_SIZE
HINTED_KEY_SIZE = LC_ED25519_HINTED_KEY_SIZE
GROUP_ORDER = 2**252 + 27742317777372353535851937790883648493
KEY_OK = LC_ED25519_KEY_OK
KEY_NOT_CANONICAL = LC_ED25519_KEY_NOT_CANONICAL
KEY_NOT_ON_CURVE = LC_ED25519_KEY_NOT_ON_CURVE
KEY_SMALL_ORDER = LC_ED25519_KEY_SMALL_ORDER


cdef int check_status(int status, str what) except -1:
    if status == LC_OK:
        return 0
    if status == LC_ERROR_MEMORY:
        raise MemoryError(what)
    if status == LC_ERROR_UNSUPPORTED:
        raise OSError(f"{what}: the operating system gave no random bytes")
    raise ValueError(f"{what}: rejected by the native code (status {status})")


cdef int acquire(object value, Py_buffer *view, str name) except -1:
    """Reads a bytes-like object through the buffer protocol (C-contiguous only)."""
    if isinstance(value, str):
        raise TypeError(f"{name}: expected a bytes-like object, got str (encode it first)")
    try:
        PyObject_GetBuffer(value, view, PyBUF_SIMPLE)
    except (TypeError, BufferError):
        raise TypeError(f"{name}: expected a contiguous bytes-like object, "
                        f"got {type(value).__name__}") from None
    return 0


def verify(public_key, message, signature):
    """Whether signature is a valid Ed25519 signature of message under public_key."""
    cdef Py_buffer key_view, message_view, signature_view
    cdef const uint8_t *key_ptr
    cdef const uint8_t *message_ptr
    cdef const uint8_t *signature_ptr
    cdef size_t message_size
    cdef int held = 0  # bit 0: key view, bit 1: message view, bit 2: signature view
    cdef int result
    try:
        if PyBytes_CheckExact(public_key):
            key_ptr = <const uint8_t *>PyBytes_AS_STRING(public_key)
            key_size = PyBytes_GET_SIZE(public_key)
        else:
            acquire(public_key, &key_view, "public_key")
            held |= 1
            key_ptr = <const uint8_t *>key_view.buf
            key_size = key_view.len
        if key_size != 32:
            raise ValueError(f"public_key: expected 32 bytes, got {key_size}")
        if PyBytes_CheckExact(signature):
            signature_ptr = <const uint8_t *>PyBytes_AS_STRING(signature)
            signature_size = PyBytes_GET_SIZE(signature)
        else:
            acquire(signature, &signature_view, "signature")
            held |= 4
            signature_ptr = <const uint8_t *>signature_view.buf
            signature_size = signature_view.len
        if signature_size != 64:
            raise ValueError(f"signature: expected 64 bytes, got {signature_size}")
        if PyBytes_CheckExact(message):
            message_ptr = <const uint8_t *>PyBytes_AS_STRING(message)
            message_size = <size_t>PyBytes_GET_SIZE(message)
        else:
            acquire(message, &message_view, "message")
            held |= 2
            message_ptr = <const uint8_t *>message_view.buf
            message_size = <size_t>message_view.len
        with nogil:
            result = lc_ed25519_verify(key_ptr, message_ptr, message_size, signature_ptr)
        return result == 1
    finally:
        if held & 1:
            PyBuffer_Release(&key_view)
        if held & 2:
            PyBuffer_Release(&message_view)
        if held & 4:
            PyBuffer_Release(&signature_view)


def decode_public_keys(const uint8_t[:, ::1] public_keys not None):
    """Decoded records, (n, DECODED_KEY_SIZE) uint8, of an (n, 32) uint8 array of keys."""
    cdef Py_ssize_t count = public_keys.shape[0]
    if public_keys.shape[1] != 32:
        raise ValueError(f"public_keys: expected shape (n, 32), got (n, {public_keys.shape[1]})")
    if count > LC_BATCH_SIZE_MAX:
        raise ValueError(f"public_keys: {count} keys, at most {LC_BATCH_SIZE_MAX}")
    decoded = numpy.zeros((count, LC_ED25519_DECODED_KEY_SIZE), dtype=numpy.uint8)
    if count == 0:
        return decoded
    cdef uint8_t[:, ::1] out = decoded
    cdef int status
    with nogil:
        status = lc_ed25519_decode_public_keys(&public_keys[0, 0], count, &out[0, 0])
    check_status(status, "decode_public_keys")
    return decoded


cdef int fill_sequence(tuple messages, Py_ssize_t count, const uint8_t **pointers,
                       size_t *sizes, Py_buffer *views, char *has_view) except -1:
    cdef Py_ssize_t i
    cdef object item
    for i in range(count):
        item = messages[i]  # the tuple holds it; a bytes object's pointer stays valid
        if PyBytes_CheckExact(item):
            pointers[i] = <const uint8_t *>PyBytes_AS_STRING(item)
            sizes[i] = <size_t>PyBytes_GET_SIZE(item)
            continue
        acquire(item, &views[i], f"messages[{i}]")
        has_view[i] = 1
        pointers[i] = <const uint8_t *>views[i].buf
        sizes[i] = <size_t>views[i].len
    return 0


cdef int fill_rows(const uint8_t[:, ::1] rows, const uint8_t **pointers, size_t *sizes) except -1:
    cdef Py_ssize_t i
    cdef Py_ssize_t width = rows.shape[1]
    cdef const uint8_t *base = &rows[0, 0] if width > 0 else NULL
    for i in range(rows.shape[0]):
        pointers[i] = base + i * width if width > 0 else NULL
        sizes[i] = <size_t>width
    return 0


def verify_batch(const uint8_t[:, ::1] public_keys not None, messages,
                 const uint8_t[:, ::1] signatures not None, unsigned int threads):
    """A (n,) bool array: whether each signature is valid.

    public_keys: (n, 32) raw keys, (n, HINTED_KEY_SIZE) keys with their x-coordinates or
    (n, DECODED_KEY_SIZE) decoded records; messages: a 2-D
    C-contiguous uint8 array of n rows or a sequence of n bytes-likes; signatures: (n, 64).
    """
    return batch_call(public_keys, messages, signatures, threads, False)[1]


def team_check(const uint8_t[:, ::1] public_keys not None, messages,
               const uint8_t[:, ::1] signatures not None, unsigned int threads):
    """(holds, passed) for 1..CHUNK_SIZE_MAX signatures checked as one combined equation by a
    team of threads (a test hook): holds is whether the equation held, and when it did, passed
    says which signatures passed the rules before it. The arguments are verify_batch's."""
    if public_keys.shape[0] < 1 or public_keys.shape[0] > LC_ED25519_CHUNK_SIZE_MAX:
        raise ValueError(f"public_keys: expected 1..{LC_ED25519_CHUNK_SIZE_MAX} keys, "
                         f"got {public_keys.shape[0]}")
    return batch_call(public_keys, messages, signatures, threads, True)


cdef object checked_messages(const uint8_t[:, ::1] public_keys, messages,
                             const uint8_t[:, ::1] signatures, unsigned int threads):
    """The arguments of a batch, checked: the messages back as a C-contiguous 2-D uint8 array
    or as a tuple (which keeps every message alive while the GIL is released, even if another
    thread, or a buffer export run later, changes the caller's list meanwhile)."""
    cdef Py_ssize_t count = public_keys.shape[0]
    cdef size_t key_size = public_keys.shape[1]
    if (key_size != 32 and key_size != LC_ED25519_HINTED_KEY_SIZE
            and key_size != LC_ED25519_DECODED_KEY_SIZE):
        raise ValueError(f"public_keys: expected shape (n, 32), got (n, {key_size})")
    if count > LC_BATCH_SIZE_MAX:
        raise ValueError(f"public_keys: {count} keys, at most {LC_BATCH_SIZE_MAX}")
    if signatures.shape[1] != 64:
        raise ValueError(f"signatures: expected shape (n, 64), got (n, {signatures.shape[1]})")
    if signatures.shape[0] != count:
        raise ValueError(f"signatures: {signatures.shape[0]} rows for {count} public keys")
    if threads < 1 or threads > LC_THREAD_COUNT_MAX:
        raise ValueError(f"threads: expected 1..{LC_THREAD_COUNT_MAX}, got {threads}")
    if isinstance(messages, numpy.ndarray):
        if messages.ndim != 2 or messages.dtype != numpy.uint8:
            raise ValueError(f"messages: expected a 2-D uint8 array, got {messages.ndim}-D "
                             f"{messages.dtype}")
        if not messages.flags.c_contiguous:
            raise ValueError("messages: expected a C-contiguous array")
    else:
        messages = messages if type(messages) is tuple else tuple(messages)
    if len(messages) != count:
        raise ValueError(f"messages: {len(messages)} messages for {count} public keys")
    return messages


@cython.no_gc_clear
cdef class MessageTable:
    """A batch's messages as the native code reads them: a pointer and a size per message,
    with the buffers of a sequence's items held until release() (or the table's end)."""

    cdef object messages  # the rows array or the tuple: it keeps every item alive
    cdef const uint8_t **pointers
    cdef size_t *sizes
    cdef Py_buffer *views
    cdef char *has_view
    cdef Py_ssize_t count

    cdef int fill(self, messages, Py_ssize_t count, str what) except -1:
        """messages as checked_messages gives them, for count > 0."""
        self.messages = messages
        self.count = count
        rows = isinstance(messages, numpy.ndarray)
        self.pointers = <const uint8_t **>malloc(count * sizeof(uint8_t *))
        self.sizes = <size_t *>malloc(count * sizeof(size_t))
        if not rows:
            self.views = <Py_buffer *>malloc(count * sizeof(Py_buffer))
            self.has_view = <char *>malloc(count)
            if self.has_view != NULL:
                memset(self.has_view, 0, count)
        if self.pointers == NULL or self.sizes == NULL or (not rows and (self.views == NULL or
                                                                         self.has_view == NULL)):
            self.release()
            raise MemoryError(what)
        try:
            if rows:
                fill_rows(messages, self.pointers, self.sizes)
            else:
                fill_sequence(messages, count, self.pointers, self.sizes, self.views,
                              self.has_view)
        except BaseException:
            self.release()
            raise
        return 0

    cdef void release(self):
        cdef Py_ssize_t i
        if self.has_view != NULL:
            for i in range(self.count):
                if self.has_view[i]:
                    PyBuffer_Release(&self.views[i])
        free(self.pointers)
        free(self.sizes)
        free(self.views)
        free(self.has_view)
        self.pointers = NULL
        self.sizes = NULL
        self.views = NULL
        self.has_view = NULL

    def __dealloc__(self):
        self.release()


cdef tuple batch_call(const uint8_t[:, ::1] public_keys, messages,
                      const uint8_t[:, ::1] signatures, unsigned int threads, bint team_only):
    cdef Py_ssize_t count = public_keys.shape[0]
    cdef size_t key_size = public_keys.shape[1]
    messages = checked_messages(public_keys, messages, signatures, threads)
    valid = numpy.zeros(count, dtype=numpy.bool_)
    if count == 0:
        return True, valid
    cdef uint8_t[::1] out = valid.view(numpy.uint8)
    cdef MessageTable table = MessageTable()
    table.fill(messages, count, "verify_batch")
    cdef int status
    try:
        with nogil:
            if team_only:
                status = lc_ed25519_team_check(&public_keys[0, 0], key_size, table.pointers,
                                               table.sizes, &signatures[0, 0], count, threads,
                                               &out[0])
            else:
                status = lc_ed25519_verify_batch(&public_keys[0, 0], key_size, table.pointers,
                                                 table.sizes, &signatures[0, 0], count, threads,
                                                 &out[0])
        check_status(status if status < 0 else LC_OK, "verify_batch")
    finally:
        table.release()
    return status == 1 or not team_only, valid


def check_public_key(const uint8_t[::1] public_key not None):
    """KEY_OK, or the KEY_* code saying why a 32-byte public key is refused at registration."""
    if public_key.shape[0] != 32:
        raise ValueError(f"public_key: expected 32 bytes, got {public_key.shape[0]}")
    return lc_ed25519_check_public_key(&public_key[0])


def check_public_keys(const uint8_t[:, ::1] public_keys not None):
    """(statuses, hinted) of an (n, 32) uint8 array of keys: each key's check_public_key code
    (uint8) and its hinted record, (n, HINTED_KEY_SIZE) uint8 (x zero for a key that does not
    decode)."""
    cdef Py_ssize_t count = public_keys.shape[0]
    if public_keys.shape[1] != 32:
        raise ValueError(f"public_keys: expected shape (n, 32), got (n, {public_keys.shape[1]})")
    statuses = numpy.zeros(count, dtype=numpy.uint8)
    hinted = numpy.zeros((count, LC_ED25519_HINTED_KEY_SIZE), dtype=numpy.uint8)
    if count == 0:
        return statuses, hinted
    cdef uint8_t[::1] status_out = statuses
    cdef uint8_t[:, ::1] hinted_out = hinted
    with nogil:
        lc_ed25519_check_public_keys(&public_keys[0, 0], count, &status_out[0],
                                     &hinted_out[0, 0])
    return statuses, hinted


def sha512(const uint8_t[::1] data not None):
    """SHA-512 of data (a test hook for the hash inside Ed25519)."""
    digest = bytearray(64)
    cdef uint8_t[::1] out = digest
    lc_ed25519_sha512(&out[0], &data[0] if data.shape[0] > 0 else NULL, data.shape[0])
    return bytes(digest)


def split_scalar(const uint8_t[::1] k not None):
    """(c0, c1, steps) with c0 = c1 k mod L, c1 signed (a test hook for the single verifier)."""
    if k.shape[0] != 32:
        raise ValueError(f"k: expected 32 bytes, got {k.shape[0]}")
    if int.from_bytes(bytes(k), "little") >= GROUP_ORDER:
        raise ValueError("k: expected a scalar below the group order L")
    cdef uint8_t c0[16]
    cdef uint8_t c1[16]
    cdef int negative = 0
    steps = lc_ed25519_split_scalar(&k[0], c0, c1, &negative)
    magnitude = int.from_bytes(c1[:16], "little")
    return int.from_bytes(c0[:16], "little"), -magnitude if negative else magnitude, steps


VERIFY_QUEUE_LANES_MAX = LC_VERIFY_QUEUE_LANES_MAX


cdef class VerifyQueue:
    """Native threads (lanes) that each verify the next submitted batch.

    They go from one batch to the next without the GIL, so batches queued ahead keep the cores
    busy while the submitting thread holds the GIL elsewhere. The arguments of submit are
    verify_batch's; it returns a PendingVerification.
    """

    cdef lc_verify_queue *queue

    def __cinit__(self, unsigned int lanes=1):
        if lanes < 1 or lanes > LC_VERIFY_QUEUE_LANES_MAX:
            raise ValueError(f"lanes: {lanes}, expected 1 to {LC_VERIFY_QUEUE_LANES_MAX}")
        self.queue = lc_verify_queue_new(lanes)
        if self.queue == NULL:
            raise MemoryError("VerifyQueue: could not start its threads")

    def submit(self, const uint8_t[:, ::1] public_keys not None, messages,
               const uint8_t[:, ::1] signatures not None, unsigned int threads):
        pending = PendingVerification()
        pending.start(self, public_keys, messages, signatures, threads)
        return pending

    def __dealloc__(self):
        # Every pending batch holds this queue, so none is left waiting on it here.
        if self.queue != NULL:
            with nogil:
                lc_verify_queue_free(self.queue)
            self.queue = NULL


@cython.no_gc_clear
cdef class PendingVerification:
    """One batch in a VerifyQueue: result() waits for it (GIL released)."""

    cdef lc_verify_job job
    cdef VerifyQueue owner
    cdef object keys_held, signatures_held, valid
    cdef MessageTable table
    cdef bint queued, finished

    cdef int start(self, VerifyQueue owner, const uint8_t[:, ::1] public_keys, messages,
                   const uint8_t[:, ::1] signatures, unsigned int threads) except -1:
        cdef Py_ssize_t count = public_keys.shape[0]
        cdef size_t key_size = public_keys.shape[1]
        messages = checked_messages(public_keys, messages, signatures, threads)
        self.owner = owner
        # Held until the batch is done: the queue's thread reads them without the GIL.
        self.keys_held = public_keys
        self.signatures_held = signatures
        self.valid = numpy.zeros(count, dtype=numpy.bool_)
        if count == 0:
            self.finished = True
            return 0
        self.table = MessageTable()
        self.table.fill(messages, count, "VerifyQueue.submit")
        cdef uint8_t[::1] out = self.valid.view(numpy.uint8)
        self.job.public_keys = &public_keys[0, 0]
        self.job.key_size = key_size
        self.job.messages = self.table.pointers
        self.job.message_sizes = self.table.sizes
        self.job.signatures = &signatures[0, 0]
        self.job.count = count
        self.job.thread_count = threads
        self.job.valid = &out[0]
        lc_verify_queue_push(owner.queue, &self.job)
        self.queued = True
        return 0

    cdef void wait(self):
        if self.finished:
            return
        if self.queued:
            with nogil:
                lc_verify_queue_wait(self.owner.queue, &self.job)
        self.finished = True
        if self.table is not None:
            self.table.release()

    def result(self):
        """A (n,) bool array: whether each signature is valid (waits for the batch)."""
        self.wait()
        if self.queued:
            check_status(self.job.status, "verify_batch")
        return self.valid

    @property
    def seconds(self):
        """How long the batch's verification ran (waits for it)."""
        self.wait()
        return self.job.seconds if self.queued else 0.0

    def __dealloc__(self):
        self.wait()
