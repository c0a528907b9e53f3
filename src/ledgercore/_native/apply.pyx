# cython: language_level=3
"""Native validate/apply engine over whole batches of records.

The public, documented API is ledgercore.engine and ledgercore.records; this module checks every
argument (dtype, shape, contiguity, length, value ranges), then releases the GIL once per call.
"""

from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

import numpy

from ledgercore.errors import InvariantError, LedgerValueError
from ledgercore.records import ACCOUNT_DTYPE, TRANSFER_DTYPE

FORMAT_VERSION = LC_FORMAT_VERSION
ACCOUNT_SIZE = LC_ACCOUNT_SIZE
TRANSFER_SIZE = LC_TRANSFER_SIZE
TRANSFER_SIGNED_SIZE = LC_TRANSFER_SIGNED_SIZE
TRANSFER_SIGNING_SIZE = LC_TRANSFER_SIGNING_SIZE
TRANSFER_SIGNING_PREFIX = LC_TRANSFER_SIGNING_PREFIX[:LC_TRANSFER_SIGNING_PREFIX_SIZE]
TRANSFER_SIGNING_PREFIX_V1 = LC_TRANSFER_SIGNING_PREFIX_V1[:LC_TRANSFER_SIGNING_PREFIX_SIZE]
TRANSFER_SIGNING_SIZE_V1 = LC_TRANSFER_SIGNING_SIZE_V1
LEDGER_ID_SIZE = LC_LEDGER_ID_SIZE
ACCOUNT_RESULT_COUNT = LC_ACCOUNT_RESULT_COUNT
TRANSFER_RESULT_COUNT = LC_RESULT_COUNT
SIGNATURE_BAD = LC_SIGNATURE_BAD
SIGNATURE_GOOD = LC_SIGNATURE_GOOD
SIGNATURE_UNCHECKED = LC_SIGNATURE_UNCHECKED
BATCH_SIZE_MAX = LC_BATCH_SIZE_MAX
ENGINE_ACCOUNT_COUNT_MAX = LC_ENGINE_ACCOUNT_COUNT_MAX
ENGINE_TRANSFER_COUNT_MAX = LC_ENGINE_TRANSFER_COUNT_MAX


cdef object record_bytes(object array, object dtype, str dtype_name, str name):
    """A 1-D uint8 view of a record array, after checking everything about it."""
    if not isinstance(array, numpy.ndarray):
        raise TypeError(f"{name}: expected a numpy array of {dtype_name}, got {type(array).__name__}")
    if array.dtype != dtype:
        raise LedgerValueError(f"{name}: expected dtype {dtype_name}, got {array.dtype}")
    if array.ndim != 1:
        raise LedgerValueError(f"{name}: expected a 1-D array, got shape {array.shape}")
    if not array.flags.c_contiguous:
        raise LedgerValueError(f"{name}: expected a C-contiguous array")
    if array.shape[0] > LC_BATCH_SIZE_MAX:
        raise LedgerValueError(f"{name}: {array.shape[0]} records, at most {LC_BATCH_SIZE_MAX}")
    return array.view(numpy.uint8)


cdef object u128_int(const lc_u128 *value):
    cdef const uint64_t *lanes = <const uint64_t *>value
    return int(lanes[0]) | (int(lanes[1]) << 64)


cdef str describe_report(const lc_invariant_report *report):
    rule = report.rule.decode() if report.rule != NULL else "unknown"
    return f"{rule} (ledger {report.ledger}, account {u128_int(&report.account_id)})"


cdef int check_status(int status, str what) except -1:
    if status == LC_OK:
        return 0
    if status == LC_ERROR_MEMORY:
        raise MemoryError(what)
    if status == LC_ERROR_CAPACITY:
        raise LedgerValueError(f"{what}: the engine's capacity would be exceeded "
                               f"(at most {LC_ENGINE_ACCOUNT_COUNT_MAX} accounts and "
                               f"{LC_ENGINE_TRANSFER_COUNT_MAX} transfers)")
    if status == LC_ERROR_ARGUMENT:
        raise LedgerValueError(f"{what}: timestamps would pass 2^64 ns")
    raise AssertionError(f"{what}: unexpected native status {status}")


def signing_bytes(transfers not None, ledger_id=None):
    """The signed bytes of each transfer on the ledger `ledger_id` (16 bytes):
    (n, TRANSFER_SIGNING_SIZE) uint8; with ledger_id None, the unbound messages of format 1
    blocks, (n, TRANSFER_SIGNING_SIZE_V1)."""
    cdef const uint8_t[::1] raw = record_bytes(transfers, TRANSFER_DTYPE, "TRANSFER_DTYPE",
                                               "transfers")
    cdef const uint8_t *id_pointer = NULL
    cdef const uint8_t[::1] id_view
    if ledger_id is not None:
        if not isinstance(ledger_id, bytes):
            raise TypeError(f"ledger_id: expected 16 bytes or None, got {type(ledger_id).__name__}")
        if len(ledger_id) != LC_LEDGER_ID_SIZE:
            raise LedgerValueError(f"ledger_id: expected 16 bytes, got {len(ledger_id)}")
        id_view = ledger_id
        id_pointer = &id_view[0]
    cdef size_t count = transfers.shape[0]
    width = LC_TRANSFER_SIGNING_SIZE if ledger_id is not None else LC_TRANSFER_SIGNING_SIZE_V1
    out = numpy.empty((count, width), dtype=numpy.uint8)
    if count == 0:
        return out
    cdef uint8_t[:, ::1] out_view = out  # OUT
    with nogil:
        lc_transfer_signing_bytes(<const lc_transfer *>&raw[0], count, id_pointer,
                                  &out_view[0, 0])
    return out


cdef object wide_int(const lc_u128 *low, uint64_t carries):
    """carries * 2^128 + low, as a Python int."""
    return u128_int(low) + (int(carries) << 128)


cdef class NativeEngine:
    """Accounts and transfers in native memory; see ledgercore.engine.Engine."""

    cdef lc_engine *engine
    cdef bint busy

    def __cinit__(self, uint64_t seed0, uint64_t seed1):
        self.engine = lc_engine_new(seed0, seed1)
        if self.engine == NULL:
            raise MemoryError("engine")
        self.busy = False

    def __dealloc__(self):
        lc_engine_free(self.engine)

    cdef int enter(self) except -1:
        # The GIL is released inside calls: a second thread must not enter meanwhile.
        if self.busy:
            raise RuntimeError("the engine is in use by another thread")
        self.busy = True
        return 0

    def create_accounts(self, accounts not None, const uint8_t[::1] key_ok not None,
                        const uint8_t[:, ::1] owner_x not None, uint64_t timestamp_ns):
        """Create accounts in order; key_ok[i] says whether accounts[i]'s key passed, owner_x[i]
        (32 bytes) is its point's x-coordinate."""
        cdef const uint8_t[::1] raw = record_bytes(accounts, ACCOUNT_DTYPE, "ACCOUNT_DTYPE",
                                                   "accounts")  # IN
        cdef size_t count = accounts.shape[0]
        if <size_t>key_ok.shape[0] != count:
            raise LedgerValueError(f"key_ok: expected {count} entries, got {key_ok.shape[0]}")
        if <size_t>owner_x.shape[0] != count or owner_x.shape[1] != 32:
            raise LedgerValueError(
                f"owner_x: expected shape ({count}, 32), got ({owner_x.shape[0]}, "
                f"{owner_x.shape[1]})")
        results = numpy.zeros(count, dtype=numpy.uint8)
        if count == 0:
            return results
        cdef uint8_t[::1] out = results  # OUT
        cdef int status
        self.enter()
        try:
            with nogil:
                status = lc_engine_create_accounts(self.engine, <const lc_account *>&raw[0],
                                                   count, &key_ok[0], &owner_x[0, 0],
                                                   timestamp_ns, &out[0])
        finally:
            self.busy = False
        check_status(status, "create_accounts")
        return results

    def submit(self, transfers not None, signatures, uint64_t timestamp_ns):
        """Validate and apply transfers in order; signatures is None or SIGNATURE_* per row."""
        cdef const uint8_t[::1] raw = record_bytes(transfers, TRANSFER_DTYPE, "TRANSFER_DTYPE",
                                                   "transfers")  # IN
        cdef size_t count = transfers.shape[0]
        cdef const uint8_t[::1] marks  # IN
        cdef const uint8_t *marks_ptr = NULL
        cdef size_t i
        if signatures is not None:
            marks = signatures
            if <size_t>marks.shape[0] != count:
                raise LedgerValueError(
                    f"signatures: expected {count} entries, got {marks.shape[0]}")
            for i in range(count):
                if marks[i] > LC_SIGNATURE_UNCHECKED:
                    raise LedgerValueError(f"signatures[{i}]: {marks[i]} is no SIGNATURE_* value")
            if count > 0:
                marks_ptr = &marks[0]
        results = numpy.zeros(count, dtype=numpy.uint8)
        if count == 0:
            return results
        cdef uint8_t[::1] out = results  # OUT
        cdef lc_invariant_report report
        cdef int status
        self.enter()
        try:
            with nogil:
                status = lc_engine_submit(self.engine, <const lc_transfer *>&raw[0], count,
                                          marks_ptr, timestamp_ns, &out[0], &report)
        finally:
            self.busy = False
        if status == LC_ERROR_INVARIANT:
            raise InvariantError(f"submit: {describe_report(&report)}; the batch was undone")
        check_status(status, "submit")
        return results

    def expire(self, uint64_t timestamp_ns):
        """Expire the pending transfers due by timestamp_ns (past the last timestamp); how many."""
        cdef size_t expired = 0
        cdef int status
        if timestamp_ns <= lc_engine_last_timestamp(self.engine):
            raise LedgerValueError(
                f"timestamp_ns: {timestamp_ns} is not past the last timestamp given, "
                f"{lc_engine_last_timestamp(self.engine)}")
        self.enter()
        try:
            with nogil:
                status = lc_engine_expire(self.engine, timestamp_ns, &expired)
        finally:
            self.busy = False
        check_status(status, "expire")
        return expired

    def rewind_clock(self, uint64_t last_timestamp_ns):
        """Make last_timestamp_ns the last timestamp given again (after a batch that changed
        nothing)."""
        cdef int status
        self.enter()
        try:
            status = lc_engine_rewind_clock(self.engine, last_timestamp_ns)
        finally:
            self.busy = False
        if status != LC_OK:
            raise LedgerValueError(
                f"last_timestamp_ns: {last_timestamp_ns} is ahead of the last timestamp given, "
                f"{lc_engine_last_timestamp(self.engine)}, or behind a stored record's")

    def gather_owner_keys(self, transfers not None):
        """(keys (n, 64) uint8, found (n,) bool): each transfer's debit account owner key,
        followed by its point's x-coordinate (a hinted key for the verifier)."""
        cdef const uint8_t[::1] raw = record_bytes(transfers, TRANSFER_DTYPE, "TRANSFER_DTYPE",
                                                   "transfers")
        cdef size_t count = transfers.shape[0]
        # Not zeroed first: the gathering writes every row, a found key or zeros.
        keys = numpy.empty((count, LC_ED25519_HINTED_KEY_SIZE), dtype=numpy.uint8)
        found = numpy.zeros(count, dtype=numpy.bool_)
        if count == 0:
            return keys, found
        cdef uint8_t[:, ::1] keys_view = keys  # OUT
        cdef uint8_t[::1] found_view = found.view(numpy.uint8)  # OUT
        self.enter()
        try:
            with nogil:
                lc_engine_gather_owner_keys(self.engine, <const lc_transfer *>&raw[0], count,
                                            &keys_view[0, 0], &found_view[0])
        finally:
            self.busy = False
        return keys, found

    def lookup_accounts(self, const uint64_t[:, ::1] ids not None):
        """(ACCOUNT_DTYPE array of the ids found, in order; found (n,) bool)."""
        if ids.shape[1] != 2:
            raise LedgerValueError(f"ids: expected shape (n, 2), got ({ids.shape[0]}, {ids.shape[1]})")
        if <size_t>ids.shape[0] > LC_BATCH_SIZE_MAX:
            raise LedgerValueError(f"ids: {ids.shape[0]} ids, at most {LC_BATCH_SIZE_MAX}")
        cdef size_t count = ids.shape[0]
        out = numpy.zeros(count, dtype=ACCOUNT_DTYPE)
        found = numpy.zeros(count, dtype=numpy.bool_)
        if count == 0:
            return out, found
        cdef uint8_t[::1] out_view = out.view(numpy.uint8)
        cdef uint8_t[::1] found_view = found.view(numpy.uint8)
        cdef size_t copied
        self.enter()
        try:
            with nogil:
                copied = lc_engine_lookup_accounts(self.engine, <const lc_u128 *>&ids[0, 0], count,
                                                   <lc_account *>&out_view[0], &found_view[0])
        finally:
            self.busy = False
        return out[:copied].copy(), found

    def changed_accounts(self):
        """(rows, records): the rows (uint32, creation order from 0, ascending) of the accounts
        the last submit changed, and their ACCOUNT_DTYPE records as they are now."""
        cdef const uint32_t *rows_ptr = NULL
        cdef size_t count
        cdef int status
        cdef uint32_t[::1] rows_view
        cdef uint8_t[::1] out_view
        self.enter()
        try:
            count = lc_engine_changed_accounts(self.engine, &rows_ptr)
            rows = numpy.empty(count, dtype="<u4")
            # Not zeroed first: lc_engine_accounts_at writes every byte of every record.
            out = numpy.empty(count, dtype=ACCOUNT_DTYPE)
            if count:
                rows_view = rows
                out_view = out.view(numpy.uint8)
                memcpy(&rows_view[0], rows_ptr, count * sizeof(uint32_t))
                status = lc_engine_accounts_at(self.engine, rows_ptr, count,
                                               <lc_account *>&out_view[0])
                check_status(status, "changed_accounts")
        finally:
            self.busy = False
        return rows, out

    def accounts_at(self, const uint32_t[::1] rows not None):
        """ACCOUNT_DTYPE records of the accounts at these rows (creation order, from 0)."""
        if <size_t>rows.shape[0] > LC_BATCH_SIZE_MAX:
            raise LedgerValueError(f"rows: {rows.shape[0]} rows, at most {LC_BATCH_SIZE_MAX}")
        cdef size_t count = rows.shape[0]
        out = numpy.empty(count, dtype=ACCOUNT_DTYPE)
        if count == 0:
            return out
        cdef uint8_t[::1] out_view = out.view(numpy.uint8)
        cdef int status
        self.enter()
        try:
            with nogil:
                status = lc_engine_accounts_at(self.engine, &rows[0], count,
                                               <lc_account *>&out_view[0])
        finally:
            self.busy = False
        if status != LC_OK:
            raise LedgerValueError(f"rows: a row past the {lc_engine_account_count(self.engine)} accounts")
        return out

    def image(self):
        """The engine's tables as one uint8 array (see lc_engine_image_write)."""
        cdef size_t size
        cdef int status
        cdef uint8_t[::1] out_view
        self.enter()
        try:
            size = lc_engine_image_size(self.engine)
            out = numpy.empty(size, dtype=numpy.uint8)
            out_view = out
            with nogil:
                status = lc_engine_image_write(self.engine, &out_view[0], size)
            check_status(status, "image")
        finally:
            self.busy = False
        return out

    def load_image(self, const uint8_t[::1] image not None):
        """Load an image made by image() into this new, empty engine. LedgerValueError if the
        image is malformed; the engine must then be dropped."""
        cdef int status
        cdef size_t size = image.shape[0]
        if size == 0:
            raise LedgerValueError("image: empty")
        self.enter()
        try:
            with nogil:
                status = lc_engine_image_load(self.engine, &image[0], size)
        finally:
            self.busy = False
        if status == LC_ERROR_ARGUMENT:
            raise LedgerValueError("image: malformed (wrong format, sizes or contents)")
        check_status(status, "load_image")

    def lookup_transfers(self, const uint64_t[:, ::1] ids not None):
        """(TRANSFER_DTYPE array of the ids found, in order; found (n,) bool)."""
        if ids.shape[1] != 2:
            raise LedgerValueError(f"ids: expected shape (n, 2), got ({ids.shape[0]}, {ids.shape[1]})")
        if <size_t>ids.shape[0] > LC_BATCH_SIZE_MAX:
            raise LedgerValueError(f"ids: {ids.shape[0]} ids, at most {LC_BATCH_SIZE_MAX}")
        cdef size_t count = ids.shape[0]
        out = numpy.zeros(count, dtype=TRANSFER_DTYPE)
        found = numpy.zeros(count, dtype=numpy.bool_)
        if count == 0:
            return out, found
        cdef uint8_t[::1] out_view = out.view(numpy.uint8)
        cdef uint8_t[::1] found_view = found.view(numpy.uint8)
        cdef size_t copied
        self.enter()
        try:
            with nogil:
                copied = lc_engine_lookup_transfers(self.engine, <const lc_u128 *>&ids[0, 0],
                                                    count, <lc_transfer *>&out_view[0],
                                                    &found_view[0])
        finally:
            self.busy = False
        return out[:copied].copy(), found

    def check_invariants(self):
        """Per-ledger totals {ledger: (debits_pending, debits_posted, credits_pending,
        credits_posted)} after checking every account; InvariantError when one is broken."""
        cdef size_t capacity = lc_engine_account_count(self.engine) + 1
        cdef lc_ledger_totals *totals = <lc_ledger_totals *>malloc(
            capacity * sizeof(lc_ledger_totals))
        if totals == NULL:
            raise MemoryError("check_invariants")
        cdef size_t ledger_count = 0
        cdef lc_invariant_report report
        cdef int status
        self.enter()
        try:
            with nogil:
                status = lc_engine_check_invariants(self.engine, totals, capacity, &ledger_count,
                                                    &report)
            if status == LC_ERROR_INVARIANT:
                raise InvariantError(f"check_invariants: {describe_report(&report)}")
            check_status(status, "check_invariants")
            return {
                totals[i].ledger: (
                    wide_int(&totals[i].debits_pending, totals[i].debits_pending_carries),
                    wide_int(&totals[i].debits_posted, totals[i].debits_posted_carries),
                    wide_int(&totals[i].credits_pending, totals[i].credits_pending_carries),
                    wide_int(&totals[i].credits_posted, totals[i].credits_posted_carries),
                )
                for i in range(ledger_count)
            }
        finally:
            self.busy = False
            free(totals)

    def break_account_for_test(self, const uint64_t[::1] id_lanes not None,
                               const uint64_t[::1] amount_lanes not None):
        """Tests only: add amount to an account's posted debits alone, breaking double entry."""
        if id_lanes.shape[0] != 2 or amount_lanes.shape[0] != 2:
            raise LedgerValueError("id_lanes, amount_lanes: expected two u64 lanes each")
        self.enter()
        try:
            status = lc_engine_break_account_for_test(
                self.engine, (<const lc_u128 *>&id_lanes[0])[0],
                (<const lc_u128 *>&amount_lanes[0])[0])
        finally:
            self.busy = False
        if status != LC_OK:
            raise LedgerValueError("id_lanes: no such account")

    @property
    def account_count(self):
        return lc_engine_account_count(self.engine)

    @property
    def transfer_count(self):
        return lc_engine_transfer_count(self.engine)

    @property
    def pending_count(self):
        return lc_engine_pending_count(self.engine)

    @property
    def last_timestamp_ns(self):
        return lc_engine_last_timestamp(self.engine)

    @property
    def rules(self):
        return lc_engine_rules(self.engine)

    @rules.setter
    def rules(self, value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"rules: expected an int, got {type(value).__name__}")
        if not 0 <= value < 2**32 or lc_engine_set_rules(self.engine, value) != LC_OK:
            raise LedgerValueError(f"rules: expected 1 or 2, got {value}")

    @property
    def memory_size(self):
        return lc_engine_memory_size(self.engine)
