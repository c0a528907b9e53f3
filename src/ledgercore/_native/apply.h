/* The validate/apply engine: accounts and transfers in memory, whole batches per call.
 *
 * Every entry point takes pointers and a count and returns LC_OK or an LC_ERROR_* status; the
 * Cython layer has checked types, shapes and lengths before the GIL is released. A batch either
 * applies (each record gets its LC_RESULT_*) or, when a status other than LC_OK comes back, leaves
 * the engine exactly as it was: memory is reserved before the first record is touched, and every
 * change is logged so that a broken invariant undoes the whole batch.
 *
 * Result codes are stored values: the enums only grow. Their numbers are also the precedence of the
 * checks (apply_engine.c returns the first failing one in this order; a test reads the order from the
 * source), and records.py repeats each with a one-line docstring (a test compares them).
 */
#ifndef LC_APPLY_H
#define LC_APPLY_H

#include "ed25519.h"
#include "lc_limits.h"
#include "records.h"

/* Results of create_accounts, in order of precedence. */
#define LC_ACCOUNT_RESULT_OK 0
#define LC_ACCOUNT_RESULT_LINKED_EVENT_FAILED 1
#define LC_ACCOUNT_RESULT_LINKED_EVENT_CHAIN_OPEN 2
#define LC_ACCOUNT_RESULT_TIMESTAMP_MUST_BE_ZERO 3
#define LC_ACCOUNT_RESULT_RESERVED_FIELD 4
#define LC_ACCOUNT_RESULT_RESERVED_FLAG 5
#define LC_ACCOUNT_RESULT_ID_MUST_NOT_BE_ZERO 6
#define LC_ACCOUNT_RESULT_ID_MUST_NOT_BE_INT_MAX 7
#define LC_ACCOUNT_RESULT_EXISTS_WITH_DIFFERENT_FIELDS 8
#define LC_ACCOUNT_RESULT_EXISTS 9
#define LC_ACCOUNT_RESULT_FLAGS_ARE_MUTUALLY_EXCLUSIVE 10
#define LC_ACCOUNT_RESULT_BALANCES_MUST_BE_ZERO 11
#define LC_ACCOUNT_RESULT_LEDGER_MUST_NOT_BE_ZERO 12
#define LC_ACCOUNT_RESULT_CODE_MUST_NOT_BE_ZERO 13
#define LC_ACCOUNT_RESULT_BAD_PUBLIC_KEY 14
#define LC_ACCOUNT_RESULT_COUNT 15

/* Results of submit, in order of precedence. */
#define LC_RESULT_OK 0
#define LC_RESULT_LINKED_EVENT_FAILED 1
#define LC_RESULT_LINKED_EVENT_CHAIN_OPEN 2
#define LC_RESULT_BAD_SIGNATURE 3
#define LC_RESULT_TIMESTAMP_MUST_BE_ZERO 4
#define LC_RESULT_RESERVED_FLAG 5
#define LC_RESULT_ID_MUST_NOT_BE_ZERO 6
#define LC_RESULT_ID_MUST_NOT_BE_INT_MAX 7
#define LC_RESULT_EXISTS_WITH_DIFFERENT_FIELDS 8
#define LC_RESULT_EXISTS 9
#define LC_RESULT_ID_ALREADY_FAILED 10
#define LC_RESULT_FLAGS_ARE_MUTUALLY_EXCLUSIVE 11
#define LC_RESULT_ACCOUNT_ID_MUST_NOT_BE_ZERO 12
#define LC_RESULT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX 13
#define LC_RESULT_ACCOUNTS_MUST_BE_DIFFERENT 14
#define LC_RESULT_PENDING_ID_MUST_BE_ZERO 15
#define LC_RESULT_PENDING_ID_MUST_NOT_BE_ZERO 16
#define LC_RESULT_PENDING_ID_MUST_NOT_BE_INT_MAX 17
#define LC_RESULT_PENDING_ID_MUST_BE_DIFFERENT 18
#define LC_RESULT_TIMEOUT_RESERVED_FOR_PENDING_TRANSFER 19
#define LC_RESULT_LEDGER_MUST_NOT_BE_ZERO 20
#define LC_RESULT_CODE_MUST_NOT_BE_ZERO 21
#define LC_RESULT_ACCOUNT_NOT_FOUND 22
#define LC_RESULT_LEDGER_MISMATCH 23
#define LC_RESULT_PENDING_TRANSFER_NOT_FOUND 24
#define LC_RESULT_PENDING_TRANSFER_NOT_PENDING 25
#define LC_RESULT_PENDING_TRANSFER_HAS_DIFFERENT_FIELDS 26
#define LC_RESULT_AMOUNT_EXCEEDS_PENDING 27
#define LC_RESULT_PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT 28
#define LC_RESULT_PENDING_TRANSFER_ALREADY_POSTED 29
#define LC_RESULT_PENDING_TRANSFER_ALREADY_VOIDED 30
#define LC_RESULT_PENDING_TRANSFER_EXPIRED 31
#define LC_RESULT_ACCOUNT_FROZEN 32
#define LC_RESULT_ACCOUNT_CLOSED 33
#define LC_RESULT_OVERFLOW 34
#define LC_RESULT_EXCEEDS_CREDITS 35
#define LC_RESULT_EXCEEDS_DEBITS 36
#define LC_RESULT_COUNT 37

/* Failures from here to the end of the table depend on the ledger's state, not on the record
 * alone: retrying them could succeed later, so a transfer failing so (outside a linked chain)
 * keeps its id, and the same id answers LC_RESULT_ID_ALREADY_FAILED from then on. */
#define LC_RESULT_FIRST_STATEFUL LC_RESULT_ACCOUNT_NOT_FOUND

/* A transfer's signature, as the caller checked it before submit. */
#define LC_SIGNATURE_BAD 0
#define LC_SIGNATURE_GOOD 1
#define LC_SIGNATURE_UNCHECKED 2 /* its debit account is unknown (else taken as bad) */

/* Further statuses of this module. */
#define LC_ERROR_INVARIANT (-4)
#define LC_ERROR_CAPACITY (-5)

/* The rules blocks are applied by. A store's blocks with format 1 headers were accepted by
 * rules 1, which differ in two answers: a void naming AMOUNT_MAX voided the whole pending
 * amount, and a batch's last record, linked, answered linked_event_chain_open even in a chain
 * that had failed already. Rules 2 (blocks with format 2 headers, and every new block) refuse
 * the first and answer linked_event_failed to the second. Replaying an old block by its own
 * rules gives the results it stored. */
#define LC_RULES_1 1u
#define LC_RULES_2 2u
#define LC_RULES_CURRENT LC_RULES_2

typedef struct lc_engine lc_engine;

/* A failed invariant: which account, and a short name of the rule. */
typedef struct lc_invariant_report {
    lc_u128 account_id;
    uint32_t ledger;
    const char *rule;
} lc_invariant_report;

/* The per-ledger sums that check_invariants compares. */
typedef struct lc_ledger_totals {
    uint32_t ledger;
    lc_u128 debits_pending;
    lc_u128 debits_posted;
    lc_u128 credits_pending;
    lc_u128 credits_posted;
    /* How many times each sum above passed 2^128: a ledger's total may, though no account's
     * balance can (each sum is carries * 2^128 + the field). */
    uint64_t debits_pending_carries;
    uint64_t debits_posted_carries;
    uint64_t credits_pending_carries;
    uint64_t credits_posted_carries;
} lc_ledger_totals;

/* A new, empty engine; the seeds key its hash tables (pass random ones). NULL if out of memory. */
lc_engine *lc_engine_new(uint64_t seed0, uint64_t seed1);
void lc_engine_free(lc_engine *engine);

/* Create count accounts in order. key_ok[i] says whether accounts[i].owner_key passed the key
 * check (done by the caller); owner_x, NULL or count rows of 32 bytes, the x-coordinate of each
 * key's point as that check found it (kept to hint the verifier; a wrong one costs time, never
 * a verdict). Timestamps are max(timestamp_ns, last + 1) + i. Writes one LC_ACCOUNT_RESULT_*
 * per account. */
int lc_engine_create_accounts(lc_engine *engine, const lc_account *accounts, size_t count,
                              const uint8_t *key_ok, const uint8_t *owner_x,
                              uint64_t timestamp_ns, uint8_t *results);

/* Validate and apply count transfers in arrival order. signatures[i] is an LC_SIGNATURE_* value,
 * or signatures is NULL when the caller did not verify. Pending transfers whose timeout has
 * lapsed by the batch's first timestamp are expired first. Writes one LC_RESULT_* per transfer.
 * On LC_ERROR_INVARIANT, *report says what was found and nothing changed. */
int lc_engine_submit(lc_engine *engine, const lc_transfer *transfers, size_t count,
                     const uint8_t *signatures, uint64_t timestamp_ns, uint8_t *results,
                     lc_invariant_report *report);

/* Expire the pending transfers whose timeout lapsed by now_ns, as a submit at now_ns does
 * before its first transfer, without a batch: their reservations are released and their
 * accounts become the changed ones (lc_engine_changed_accounts). *expired is how many. When any
 * did, now_ns becomes the last timestamp given; when none did, nothing visible changed.
 * LC_ERROR_ARGUMENT (nothing changed) unless now_ns is past the last timestamp given. */
int lc_engine_expire(lc_engine *engine, uint64_t now_ns, size_t *expired);

/* Give back the timestamps of a batch that changed nothing (its caller makes no block of it,
 * so a replay of the blocks never takes them): the last timestamp given becomes last_ns again.
 * LC_ERROR_ARGUMENT (nothing changed) if last_ns is ahead of the last timestamp given or behind
 * a stored record's. */
int lc_engine_rewind_clock(lc_engine *engine, uint64_t last_ns);

/* For each transfer, copy its debit account's owner key and x-coordinate, a hinted key
 * (ed25519.h), to keys_out[LC_ED25519_HINTED_KEY_SIZE * i] and set found[i] (0 when the debit
 * account does not exist; the row is then zero). */
void lc_engine_gather_owner_keys(const lc_engine *engine, const lc_transfer *transfers,
                                 size_t count, uint8_t *keys_out, uint8_t *found);

/* The rows (creation order, from 0) of the accounts whose record the last successful submit
 * changed, ascending and distinct: both accounts of each applied transfer and of each pending
 * transfer that expired. *rows stays valid until the engine's next call that changes it.
 * Returns how many. */
size_t lc_engine_changed_accounts(const lc_engine *engine, const uint32_t **rows);
/* Copy the accounts at these rows to out. LC_ERROR_ARGUMENT (nothing copied) if a row does not
 * exist. */
int lc_engine_accounts_at(const lc_engine *engine, const uint32_t *rows, size_t count,
                          lc_account *out);
/* The engine's tables as one image (see apply_engine.c), for a snapshot: its size in bytes, and
 * the image written to out (size bytes). LC_ERROR_ARGUMENT if size is not the image's size. */
size_t lc_engine_image_size(const lc_engine *engine);
int lc_engine_image_write(const lc_engine *engine, uint8_t *out, size_t size);
/* Load an image into a new, empty engine. LC_ERROR_ARGUMENT for a malformed image (wrong magic,
 * version or size, counts past the limits, a status or expiry that does not fit the transfers, a
 * repeated id), LC_ERROR_MEMORY: the engine is then unusable and must be freed. */
int lc_engine_image_load(lc_engine *engine, const uint8_t *image, size_t size);
/* Copy the accounts (transfers) with the given ids to out, in the order asked, skipping ids
 * that do not exist; found[i] says whether ids[i] was. Returns how many were copied. */
size_t lc_engine_lookup_accounts(const lc_engine *engine, const lc_u128 *ids, size_t count,
                                 lc_account *out, uint8_t *found);
size_t lc_engine_lookup_transfers(const lc_engine *engine, const lc_u128 *ids, size_t count,
                                  lc_transfer *out, uint8_t *found);

/* Sum every account's balances per ledger (O(accounts)) and check that debits equal credits,
 * posted and pending, and that every balance respects its account's flags. Writes up to
 * totals_max ledgers to totals and their number to *ledger_count. LC_OK or LC_ERROR_INVARIANT. */
int lc_engine_check_invariants(const lc_engine *engine, lc_ledger_totals *totals,
                               size_t totals_max, size_t *ledger_count,
                               lc_invariant_report *report);

/* Tests only: add `amount` to an account's posted debits and nothing else, breaking double entry
 * (and perhaps its limit) on purpose, so that tests can see the invariant checks refuse a batch
 * and undo it. LC_OK, or LC_ERROR_ARGUMENT when there is no such account. */
int lc_engine_break_account_for_test(lc_engine *engine, lc_u128 id, lc_u128 amount);

size_t lc_engine_account_count(const lc_engine *engine);
size_t lc_engine_transfer_count(const lc_engine *engine);
size_t lc_engine_pending_count(const lc_engine *engine);
uint64_t lc_engine_last_timestamp(const lc_engine *engine);
/* Apply the next batches by these LC_RULES_*: LC_OK, or LC_ERROR_ARGUMENT for unknown rules. */
int lc_engine_set_rules(lc_engine *engine, uint32_t rules);
uint32_t lc_engine_rules(const lc_engine *engine);
/* Bytes the engine holds in records, hash tables and logs (allocated capacity). */
size_t lc_engine_memory_size(const lc_engine *engine);

#endif
