# The C API of the validate/apply engine (apply.h, which includes records.h), declared once.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t


cdef extern from "ed25519.h" nogil:
    size_t LC_ED25519_HINTED_KEY_SIZE


cdef extern from "apply.h" nogil:
    ctypedef struct lc_u128:
        pass
    ctypedef struct lc_account:
        pass
    ctypedef struct lc_transfer:
        pass

    int LC_FORMAT_VERSION
    int LC_ACCOUNT_SIZE
    int LC_TRANSFER_SIZE
    int LC_TRANSFER_SIGNED_SIZE
    int LC_TRANSFER_SIGNING_SIZE
    int LC_TRANSFER_SIGNING_SIZE_V1
    int LC_TRANSFER_SIGNING_PREFIX_SIZE
    int LC_LEDGER_ID_SIZE
    const char *LC_TRANSFER_SIGNING_PREFIX
    const char *LC_TRANSFER_SIGNING_PREFIX_V1
    int LC_ACCOUNT_RESULT_COUNT
    int LC_RESULT_COUNT
    int LC_SIGNATURE_BAD
    int LC_SIGNATURE_GOOD
    int LC_SIGNATURE_UNCHECKED
    unsigned int LC_BATCH_SIZE_MAX
    size_t LC_ENGINE_ACCOUNT_COUNT_MAX
    size_t LC_ENGINE_TRANSFER_COUNT_MAX

    int LC_OK
    int LC_ERROR_ARGUMENT
    int LC_ERROR_MEMORY
    int LC_ERROR_INVARIANT
    int LC_ERROR_CAPACITY

    ctypedef struct lc_engine:
        pass

    ctypedef struct lc_invariant_report:
        lc_u128 account_id
        uint32_t ledger
        const char *rule

    ctypedef struct lc_ledger_totals:
        uint32_t ledger
        lc_u128 debits_pending
        lc_u128 debits_posted
        lc_u128 credits_pending
        lc_u128 credits_posted
        uint64_t debits_pending_carries
        uint64_t debits_posted_carries
        uint64_t credits_pending_carries
        uint64_t credits_posted_carries

    lc_engine *lc_engine_new(uint64_t seed0, uint64_t seed1)
    void lc_engine_free(lc_engine *engine)
    int lc_engine_create_accounts(lc_engine *engine, const lc_account *accounts, size_t count,
                                  const uint8_t *key_ok, const uint8_t *owner_x,
                                  uint64_t timestamp_ns, uint8_t *results)
    int lc_engine_submit(lc_engine *engine, const lc_transfer *transfers, size_t count,
                         const uint8_t *signatures, uint64_t timestamp_ns, uint8_t *results,
                         lc_invariant_report *report)
    int lc_engine_expire(lc_engine *engine, uint64_t now_ns, size_t *expired)
    int lc_engine_rewind_clock(lc_engine *engine, uint64_t last_ns)
    void lc_engine_gather_owner_keys(const lc_engine *engine, const lc_transfer *transfers,
                                     size_t count, uint8_t *keys_out, uint8_t *found)
    size_t lc_engine_lookup_accounts(const lc_engine *engine, const lc_u128 *ids, size_t count,
                                     lc_account *out, uint8_t *found)
    size_t lc_engine_changed_accounts(const lc_engine *engine, const uint32_t **rows)
    int lc_engine_accounts_at(const lc_engine *engine, const uint32_t *rows, size_t count,
                              lc_account *out)
    size_t lc_engine_image_size(const lc_engine *engine)
    int lc_engine_image_write(const lc_engine *engine, uint8_t *out, size_t size)
    int lc_engine_image_load(lc_engine *engine, const uint8_t *image, size_t size)
    size_t lc_engine_lookup_transfers(const lc_engine *engine, const lc_u128 *ids, size_t count,
                                      lc_transfer *out, uint8_t *found)
    int lc_engine_check_invariants(const lc_engine *engine, lc_ledger_totals *totals,
                                   size_t totals_max, size_t *ledger_count,
                                   lc_invariant_report *report)
    int lc_engine_break_account_for_test(lc_engine *engine, lc_u128 id, lc_u128 amount)
    size_t lc_engine_account_count(const lc_engine *engine)
    size_t lc_engine_transfer_count(const lc_engine *engine)
    size_t lc_engine_pending_count(const lc_engine *engine)
    uint64_t lc_engine_last_timestamp(const lc_engine *engine)
    int lc_engine_set_rules(lc_engine *engine, uint32_t rules)
    uint32_t lc_engine_rules(const lc_engine *engine)
    size_t lc_engine_memory_size(const lc_engine *engine)
    void lc_transfer_signing_bytes(const lc_transfer *transfers, size_t count,
                                   const uint8_t *ledger_id, uint8_t *out)
