/* The validate/apply engine. See apply.h for the contract and records.py for the rules in prose.
 *
 * One pass over a batch, in arrival order. For each record a check function returns the first
 * failing result in the order of the result table, reading state only; then an apply function
 * makes the change and logs how to undo it. A linked chain undoes its log entries back to its
 * first record when one of its records fails; a broken invariant undoes the whole batch. So a
 * failed chain leaves no trace and a failed batch leaves none either.
 */
#include "apply.h"

#include <stdlib.h>
#include <string.h>

#include "idmap.h"
#include "lc_limits.h"

LC_STATIC_ASSERT(LC_ENGINE_ACCOUNT_COUNT_MAX <= LC_IDMAP_INDEX_MAX);
LC_STATIC_ASSERT(LC_ENGINE_TRANSFER_COUNT_MAX <= LC_IDMAP_INDEX_MAX);

/* The life of a pending transfer; other transfers stay TRANSFER_STATUS_NONE. */
enum {
    TRANSFER_STATUS_NONE = 0,
    TRANSFER_STATUS_PENDING = 1,
    TRANSFER_STATUS_POSTED = 2,
    TRANSFER_STATUS_VOIDED = 3,
    TRANSFER_STATUS_EXPIRED = 4,
};

enum {
    UNDO_ACCOUNT_CREATED = 1,
    UNDO_TRANSFER_CREATED = 2, /* single, pending, post or void: its flags say which */
    UNDO_PENDING_EXPIRED = 3,
    UNDO_FAILED_ID_RECORDED = 4,
};

typedef struct undo_entry {
    uint32_t kind;
    uint32_t index;         /* account, transfer or failed-id row */
    uint32_t pending_index; /* for a post or void: the pending transfer it resolved */
} undo_entry;

/* What the engine keeps of a transfer: the record up to its signature, field for field. The
 * signature was checked before validation and belongs with the signed bytes in the store (the
 * next stage); validation never reads it, and leaving it out saves a third of the memory per
 * transfer. lookup_transfers hands records back with a zero signature. */
typedef struct stored_transfer {
    lc_u128 id;
    lc_u128 debit_account_id;
    lc_u128 credit_account_id;
    lc_u128 amount;
    lc_u128 pending_id;
    lc_u128 user_data_128;
    uint32_t timeout_s;
    uint32_t ledger;
    uint16_t code;
    uint16_t flags;
    uint32_t user_data_32;
    uint64_t user_data_64;
    uint64_t timestamp;
} stored_transfer;

LC_STATIC_ASSERT(sizeof(stored_transfer) == offsetof(lc_transfer, signature));
LC_STATIC_ASSERT(offsetof(stored_transfer, timeout_s) == offsetof(lc_transfer, timeout_s));
LC_STATIC_ASSERT(offsetof(stored_transfer, user_data_64) == offsetof(lc_transfer, user_data_64));
LC_STATIC_ASSERT(offsetof(stored_transfer, timestamp) == offsetof(lc_transfer, timestamp));

/* An account is kept in two rows. The hot row holds what validation reads and writes: 96 bytes,
 * so it never spans more than two cache lines (a full record, 160 bytes, spans three) and
 * 100,000 accounts' working set is 9.6 MB instead of 16; the account table's rows are these (the
 * id is at offset 0). The cold row holds the rest of the record; lookups put the two together. */
typedef struct hot_account {
    lc_u128 id;
    lc_u128 debits_pending;
    lc_u128 debits_posted;
    lc_u128 credits_pending;
    lc_u128 credits_posted;
    uint32_t ledger;
    uint16_t code;
    uint16_t flags;
    uint8_t unused[8];
} hot_account;

LC_STATIC_ASSERT(sizeof(hot_account) == 96);
LC_STATIC_ASSERT(offsetof(hot_account, id) == 0);

typedef struct cold_account {
    lc_u128 user_data_128;
    uint8_t owner_key[32];
    uint64_t user_data_64;
    uint32_t user_data_32;
    uint32_t reserved;
    uint64_t timestamp;
} cold_account;

LC_STATIC_ASSERT(sizeof(cold_account) == 72);

typedef struct expiry {
    uint64_t expires_at_ns;
    uint32_t index;
} expiry;

struct lc_engine {
    cold_account *cold;
    hot_account *hot;
    size_t account_count;
    /* Rows allocated of each array: they grow together, but one may have grown when the
     * other failed to, and freeing or growing a large array needs its true size. */
    size_t cold_capacity;
    size_t hot_capacity;
    /* Each owner key's point's x-coordinate (32 bytes, zero for none), handed to the verifier
     * with the key so that it checks the point rather than decoding it (ed25519.h). */
    uint8_t (*owner_x)[32];
    size_t owner_x_capacity;
    stored_transfer *transfers;
    uint8_t *transfer_status; /* TRANSFER_STATUS_* per transfer */
    size_t transfer_count;
    size_t transfer_capacity;
    size_t status_capacity; /* of transfer_status, as cold_capacity */
    lc_u128 *failed_ids; /* ids of transfers that failed on the ledger's state */
    size_t failed_count;
    size_t failed_capacity;
    lc_idmap account_map;
    lc_idmap transfer_map;
    lc_idmap failed_map;
    expiry *expiries; /* a binary min-heap of pending transfers with a timeout */
    size_t expiry_count;
    size_t expiry_capacity;
    undo_entry *undo; /* the current batch's changes, oldest first */
    size_t undo_count;
    size_t undo_capacity;
    size_t pending_count;
    uint64_t last_timestamp_ns;
    /* LC_RULES_*: the rules of the blocks being applied (see lc_engine_set_rules). */
    uint32_t rules;
    /* The accounts the last transfer batch changed, for the caller's state tree: each applied
     * transfer's debit and credit rows (kept per transfer, since a failing linked chain undoes
     * its earlier transfers), then the rows of expired pending transfers. */
    uint32_t *batch_rows;     /* 2 per transfer of the current batch */
    size_t batch_rows_capacity;
    uint32_t *changed;        /* rows, ascending and distinct, once the batch is done */
    size_t changed_count;
    size_t changed_capacity;
    uint64_t *changed_bits;   /* a bit per account row; all clear between batches */
    size_t changed_bits_capacity; /* in words */
};

/* What a passing check found, so that apply need not look it up again. */
typedef struct resolved {
    uint32_t debit_index;
    uint32_t credit_index;
    uint32_t pending_index; /* post or void only */
    unsigned __int128 amount; /* the amount that moves: a post's may differ from its field */
    uint64_t hash;            /* of the transfer id */
    size_t free_slot;         /* where the transfer id's probe ended: see lc_idmap_insert_at */
} resolved;

#define NS_PER_S 1000000000ull

/* ---------------------------------------------------------------- memory */

static int grow(void **array, size_t *capacity, size_t need, size_t item_size) {
    if (need <= *capacity) return LC_OK;
    size_t new_capacity = *capacity < 1024 ? 1024 : *capacity;
    while (new_capacity < need) new_capacity *= 2;
    void *grown = lc_memory_resize(*array, *capacity * item_size, new_capacity * item_size);
    if (grown == NULL) return LC_ERROR_MEMORY;
    *array = grown;
    *capacity = new_capacity;
    return LC_OK;
}

lc_engine *lc_engine_new(uint64_t seed0, uint64_t seed1) {
    lc_engine *e = calloc(1, sizeof(lc_engine));
    if (e == NULL) return NULL;
    e->rules = LC_RULES_CURRENT;
    /* Account ids get their own seeds; the two tables of transfer ids share theirs, so that one
     * hash of a transfer id serves both. */
    int status = lc_idmap_init(&e->account_map, (const void *const *)&e->hot,
                               sizeof(hot_account), seed0, seed1);
    if (status == LC_OK) {
        status = lc_idmap_init(&e->transfer_map, (const void *const *)&e->transfers,
                               sizeof(stored_transfer), seed0 ^ 0x5bd1e995u, ~seed1);
    }
    if (status == LC_OK) {
        status = lc_idmap_init(&e->failed_map, (const void *const *)&e->failed_ids,
                               sizeof(lc_u128), seed0 ^ 0x5bd1e995u, ~seed1);
    }
    if (status != LC_OK) {
        lc_engine_free(e);
        return NULL;
    }
    return e;
}

void lc_engine_free(lc_engine *e) {
    if (e == NULL) return;
    lc_idmap_free(&e->account_map);
    lc_idmap_free(&e->transfer_map);
    lc_idmap_free(&e->failed_map);
    lc_memory_free(e->cold, e->cold_capacity * sizeof(cold_account));
    lc_memory_free(e->hot, e->hot_capacity * sizeof(hot_account));
    lc_memory_free(e->owner_x, e->owner_x_capacity * 32);
    lc_memory_free(e->transfers, e->transfer_capacity * sizeof(stored_transfer));
    lc_memory_free(e->transfer_status, e->status_capacity);
    lc_memory_free(e->failed_ids, e->failed_capacity * sizeof(lc_u128));
    lc_memory_free(e->expiries, e->expiry_capacity * sizeof(expiry));
    lc_memory_free(e->undo, e->undo_capacity * sizeof(undo_entry));
    lc_memory_free(e->batch_rows, e->batch_rows_capacity * sizeof(uint32_t));
    lc_memory_free(e->changed, e->changed_capacity * sizeof(uint32_t));
    lc_memory_free(e->changed_bits, e->changed_bits_capacity * sizeof(uint64_t));
    free(e);
}

/* Everything a transfer batch of `count` may need, so that applying never allocates. */
static int reserve_for_transfers(lc_engine *e, size_t count) {
    size_t need = e->transfer_count + count;
    if (need > LC_ENGINE_TRANSFER_COUNT_MAX || e->failed_count + count > LC_ENGINE_TRANSFER_COUNT_MAX) {
        return LC_ERROR_CAPACITY;
    }
    int status = grow((void **)&e->transfers, &e->transfer_capacity, need,
                      sizeof(stored_transfer));
    if (status == LC_OK) status = grow((void **)&e->transfer_status, &e->status_capacity, need, 1);
    if (status == LC_OK) {
        status = grow((void **)&e->failed_ids, &e->failed_capacity, e->failed_count + count,
                      sizeof(lc_u128));
    }
    if (status == LC_OK) {
        status = grow((void **)&e->expiries, &e->expiry_capacity, e->expiry_count + count,
                      sizeof(expiry));
    }
    if (status == LC_OK) {
        status = grow((void **)&e->undo, &e->undo_capacity, e->undo_count + count,
                      sizeof(undo_entry));
    }
    if (status == LC_OK) {
        status = grow((void **)&e->batch_rows, &e->batch_rows_capacity, 2 * count,
                      sizeof(uint32_t));
    }
    if (status == LC_OK) {
        status = grow((void **)&e->changed, &e->changed_capacity, e->changed_count + 2 * count,
                      sizeof(uint32_t));
    }
    if (status == LC_OK) {
        status = grow((void **)&e->changed_bits, &e->changed_bits_capacity,
                      (e->account_count + 63) / 64, sizeof(uint64_t));
    }
    if (status == LC_OK) status = lc_idmap_reserve(&e->transfer_map, count);
    if (status == LC_OK) status = lc_idmap_reserve(&e->failed_map, count);
    if (status == LC_OK) {
        /* Fault in, in one call, the part of the store this batch may write: not the whole
         * doubled capacity, which could be twice what is ever used. */
        lc_populate(&e->transfers[e->transfer_count], count * sizeof(stored_transfer));
        lc_populate(&e->transfer_status[e->transfer_count], count);
    }
    return status;
}

static inline void undo_push(lc_engine *e, uint32_t kind, uint32_t index, uint32_t pending_index) {
    LC_ASSERT(e->undo_count < e->undo_capacity);
    undo_entry *entry = &e->undo[e->undo_count++];
    entry->kind = kind;
    entry->index = index;
    entry->pending_index = pending_index;
}

/* ---------------------------------------------------------------- the expiry heap */

static void expiry_push(lc_engine *e, uint64_t expires_at_ns, uint32_t index) {
    LC_ASSERT(e->expiry_count < e->expiry_capacity);
    size_t i = e->expiry_count++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (e->expiries[parent].expires_at_ns <= expires_at_ns) break;
        e->expiries[i] = e->expiries[parent];
        i = parent;
    }
    e->expiries[i].expires_at_ns = expires_at_ns;
    e->expiries[i].index = index;
}

static expiry expiry_pop(lc_engine *e) {
    LC_ASSERT(e->expiry_count > 0);
    expiry top = e->expiries[0];
    expiry last = e->expiries[--e->expiry_count];
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= e->expiry_count) break;
        if (child + 1 < e->expiry_count &&
            e->expiries[child + 1].expires_at_ns < e->expiries[child].expires_at_ns) {
            child += 1;
        }
        if (last.expires_at_ns <= e->expiries[child].expires_at_ns) break;
        e->expiries[i] = e->expiries[child];
        i = child;
    }
    if (e->expiry_count > 0) e->expiries[i] = last;
    return top;
}

static inline uint64_t expires_at_ns(const stored_transfer *pending) {
    LC_ASSERT(pending->timeout_s > 0);
    return pending->timestamp + (uint64_t)pending->timeout_s * NS_PER_S;
}

/* ---------------------------------------------------------------- invariants */

/* Balances an account must keep after any change: no sum of them wraps, and the limit its
 * flags set holds. False means our code is wrong; the batch is undone and reported. */
static int account_holds(const hot_account *a, lc_invariant_report *report) {
    const char *rule = NULL;
    if (a->debits_pending + a->debits_posted < a->debits_posted) {
        rule = "debits_pending + debits_posted fits in 128 bits";
    } else if (a->credits_pending + a->credits_posted < a->credits_posted) {
        rule = "credits_pending + credits_posted fits in 128 bits";
    } else if ((a->flags & LC_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) &&
               a->debits_pending + a->debits_posted > a->credits_posted) {
        rule = "debits_must_not_exceed_credits";
    } else if ((a->flags & LC_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS) &&
               a->credits_pending + a->credits_posted > a->debits_posted) {
        rule = "credits_must_not_exceed_debits";
    }
    if (rule == NULL) return 1;
    report->account_id = a->id;
    report->ledger = a->ledger;
    report->rule = rule;
    return 0;
}

/* ---------------------------------------------------------------- accounts */

static uint8_t check_account(const lc_engine *e, const lc_account *a, uint8_t key_ok,
                             uint64_t hash) {
    if (a->timestamp != 0) return LC_ACCOUNT_RESULT_TIMESTAMP_MUST_BE_ZERO;
    if (a->reserved != 0) return LC_ACCOUNT_RESULT_RESERVED_FIELD;
    if (a->flags & ~LC_ACCOUNT_FLAGS_KNOWN) return LC_ACCOUNT_RESULT_RESERVED_FLAG;
    if (a->id == 0) return LC_ACCOUNT_RESULT_ID_MUST_NOT_BE_ZERO;
    if (a->id == LC_U128_MAX) return LC_ACCOUNT_RESULT_ID_MUST_NOT_BE_INT_MAX;
    uint32_t existing = lc_idmap_find(&e->account_map, a->id, hash);
    if (existing != LC_IDMAP_NONE) {
        /* Every field the client sets apart from the balances, which must be zero anyway. */
        const cold_account *cold = &e->cold[existing];
        const hot_account *hot = &e->hot[existing];
        if (cold->user_data_128 != a->user_data_128 ||
            memcmp(cold->owner_key, a->owner_key, sizeof(a->owner_key)) != 0 ||
            cold->user_data_64 != a->user_data_64 || cold->user_data_32 != a->user_data_32 ||
            cold->reserved != a->reserved || hot->ledger != a->ledger || hot->code != a->code ||
            hot->flags != a->flags) {
            return LC_ACCOUNT_RESULT_EXISTS_WITH_DIFFERENT_FIELDS;
        }
        return LC_ACCOUNT_RESULT_EXISTS;
    }
    if ((a->flags & LC_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) &&
        (a->flags & LC_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS)) {
        return LC_ACCOUNT_RESULT_FLAGS_ARE_MUTUALLY_EXCLUSIVE;
    }
    if (a->debits_pending != 0 || a->debits_posted != 0 || a->credits_pending != 0 ||
        a->credits_posted != 0) {
        return LC_ACCOUNT_RESULT_BALANCES_MUST_BE_ZERO;
    }
    if (a->ledger == 0) return LC_ACCOUNT_RESULT_LEDGER_MUST_NOT_BE_ZERO;
    if (a->code == 0) return LC_ACCOUNT_RESULT_CODE_MUST_NOT_BE_ZERO;
    if (!key_ok) return LC_ACCOUNT_RESULT_BAD_PUBLIC_KEY;
    return LC_ACCOUNT_RESULT_OK;
}

static void apply_account(lc_engine *e, const lc_account *a, const uint8_t *owner_x,
                          uint64_t hash, uint64_t timestamp) {
    LC_ASSERT(e->account_count < e->cold_capacity);
    LC_ASSERT(e->account_count < e->hot_capacity);
    LC_ASSERT(e->account_count < e->owner_x_capacity);
    uint32_t index = (uint32_t)e->account_count;
    if (owner_x != NULL) {
        memcpy(e->owner_x[index], owner_x, 32);
    } else {
        memset(e->owner_x[index], 0, 32);
    }
    cold_account *cold = &e->cold[index];
    cold->user_data_128 = a->user_data_128;
    memcpy(cold->owner_key, a->owner_key, sizeof(cold->owner_key));
    cold->user_data_64 = a->user_data_64;
    cold->user_data_32 = a->user_data_32;
    cold->reserved = a->reserved;
    cold->timestamp = timestamp;
    hot_account *hot = &e->hot[index];
    memset(hot, 0, sizeof(*hot));
    hot->id = a->id;
    hot->ledger = a->ledger;
    hot->code = a->code;
    hot->flags = a->flags;
    e->account_count += 1;
    lc_idmap_insert(&e->account_map, hash, index);
    undo_push(e, UNDO_ACCOUNT_CREATED, index, 0);
    LC_ASSERT(a->debits_posted == 0 && a->credits_posted == 0);
}

/* ---------------------------------------------------------------- undo */

static void undo_transfer(lc_engine *e, const undo_entry *entry) {
    LC_ASSERT(entry->index + 1 == e->transfer_count); /* undone newest first */
    const stored_transfer *t = &e->transfers[entry->index];
    hot_account *dr = &e->hot[lc_idmap_find(&e->account_map, t->debit_account_id,
                                                lc_idmap_hash(&e->account_map,
                                                              t->debit_account_id))];
    hot_account *cr = &e->hot[lc_idmap_find(&e->account_map, t->credit_account_id,
                                                lc_idmap_hash(&e->account_map,
                                                              t->credit_account_id))];
    if (t->flags & (LC_TRANSFER_POST_PENDING | LC_TRANSFER_VOID_PENDING)) {
        const stored_transfer *p = &e->transfers[entry->pending_index];
        uint8_t *status = &e->transfer_status[entry->pending_index];
        if (*status == TRANSFER_STATUS_POSTED) {
            unsigned __int128 amount = t->amount == LC_U128_MAX ? p->amount : t->amount;
            dr->debits_posted -= amount;
            cr->credits_posted -= amount;
        } else {
            LC_ASSERT(*status == TRANSFER_STATUS_VOIDED);
        }
        dr->debits_pending += p->amount;
        cr->credits_pending += p->amount;
        *status = TRANSFER_STATUS_PENDING;
        e->pending_count += 1;
    } else if (t->flags & LC_TRANSFER_PENDING) {
        dr->debits_pending -= t->amount;
        cr->credits_pending -= t->amount;
        e->pending_count -= 1;
    } else {
        dr->debits_posted -= t->amount;
        cr->credits_posted -= t->amount;
    }
    lc_idmap_remove(&e->transfer_map, t->id, lc_idmap_hash(&e->transfer_map, t->id));
    e->transfer_count -= 1;
}

static void undo_expiry(lc_engine *e, const undo_entry *entry) {
    const stored_transfer *p = &e->transfers[entry->index];
    LC_ASSERT(e->transfer_status[entry->index] == TRANSFER_STATUS_EXPIRED);
    hot_account *dr = &e->hot[lc_idmap_find(&e->account_map, p->debit_account_id,
                                                lc_idmap_hash(&e->account_map,
                                                              p->debit_account_id))];
    hot_account *cr = &e->hot[lc_idmap_find(&e->account_map, p->credit_account_id,
                                                lc_idmap_hash(&e->account_map,
                                                              p->credit_account_id))];
    dr->debits_pending += p->amount;
    cr->credits_pending += p->amount;
    e->transfer_status[entry->index] = TRANSFER_STATUS_PENDING;
    e->pending_count += 1;
    /* Popping made room for it, so the heap cannot be full. */
    expiry_push(e, expires_at_ns(p), entry->index);
}

/* Undo the log back to `mark`, newest first. */
static void rollback(lc_engine *e, size_t mark) {
    LC_ASSERT(mark <= e->undo_count);
    while (e->undo_count > mark) {
        const undo_entry *entry = &e->undo[--e->undo_count];
        switch (entry->kind) {
        case UNDO_ACCOUNT_CREATED: {
            LC_ASSERT(entry->index + 1 == e->account_count);
            lc_u128 id = e->hot[entry->index].id;
            lc_idmap_remove(&e->account_map, id, lc_idmap_hash(&e->account_map, id));
            e->account_count -= 1;
            break;
        }
        case UNDO_TRANSFER_CREATED:
            undo_transfer(e, entry);
            break;
        case UNDO_PENDING_EXPIRED:
            undo_expiry(e, entry);
            break;
        case UNDO_FAILED_ID_RECORDED: {
            LC_ASSERT(entry->index + 1 == e->failed_count);
            lc_u128 id = e->failed_ids[entry->index];
            lc_idmap_remove(&e->failed_map, id, lc_idmap_hash(&e->failed_map, id));
            e->failed_count -= 1;
            break;
        }
        default:
            LC_ASSERT(0 && "unknown undo entry");
        }
    }
}

/* ---------------------------------------------------------------- linked chains */

/* The loop shared by accounts and transfers: TigerBeetle's rules for linked events. A record
 * with the linked flag continues its chain into the next record; the last record of a batch may
 * not be linked. When a record of a chain fails, the changes of the chain so far are undone,
 * its earlier records answer linked_event_failed, and so do its later ones, without being
 * checked. The results' order of precedence holds here too: a record of a chain that failed
 * already answers linked_event_failed (1) even when it is the batch's last and linked, which
 * linked_event_chain_open (2) would say of it otherwise. */
typedef struct chain {
    size_t start;      /* index of the chain's first record; SIZE_MAX when not in a chain */
    size_t undo_mark;  /* the undo log's length when the chain began */
    int broken;
} chain;

static inline int chain_enter(chain *c, lc_engine *e, size_t i, int linked) {
    if (linked && c->start == SIZE_MAX) {
        c->start = i;
        c->undo_mark = e->undo_count;
        c->broken = 0;
    }
    return c->start != SIZE_MAX;
}

static void chain_fail(chain *c, lc_engine *e, size_t i, uint8_t *results, uint8_t linked_failed) {
    if (c->start == SIZE_MAX || c->broken) return;
    c->broken = 1;
    rollback(e, c->undo_mark);
    for (size_t j = c->start; j < i; j++) results[j] = linked_failed;
}

static inline void chain_leave(chain *c, int linked, int chain_open) {
    if (c->start != SIZE_MAX && (!linked || chain_open)) c->start = SIZE_MAX;
}

/* ---------------------------------------------------------------- create_accounts */

/* The first timestamp of a batch of count records: the caller's clock, or one past the last
 * timestamp given, whichever is later, so that timestamps only ever increase. Zero when the
 * batch would not fit below 2^64. */
static uint64_t batch_timestamp(const lc_engine *e, uint64_t timestamp_ns, size_t count) {
    unsigned __int128 base = timestamp_ns;
    if (base <= e->last_timestamp_ns) base = (unsigned __int128)e->last_timestamp_ns + 1;
    if (base + count - 1 > UINT64_MAX) return 0;
    return (uint64_t)base;
}

int lc_engine_create_accounts(lc_engine *e, const lc_account *accounts, size_t count,
                              const uint8_t *key_ok, const uint8_t *owner_x,
                              uint64_t timestamp_ns, uint8_t *results) {
    LC_ASSERT(e != NULL);
    LC_ASSERT(count <= LC_BATCH_SIZE_MAX);
    LC_ASSERT(count == 0 || (accounts != NULL && key_ok != NULL && results != NULL));
    e->changed_count = 0;
    if (count == 0) return LC_OK;
    uint64_t base = batch_timestamp(e, timestamp_ns, count);
    if (base == 0) return LC_ERROR_ARGUMENT;
    if (e->account_count + count > LC_ENGINE_ACCOUNT_COUNT_MAX) return LC_ERROR_CAPACITY;
    size_t need = e->account_count + count;
    int status = grow((void **)&e->cold, &e->cold_capacity, need, sizeof(cold_account));
    if (status == LC_OK) {
        status = grow((void **)&e->hot, &e->hot_capacity, need, sizeof(hot_account));
    }
    if (status == LC_OK) status = grow((void **)&e->owner_x, &e->owner_x_capacity, need, 32);
    if (status == LC_OK) {
        status = grow((void **)&e->undo, &e->undo_capacity, count, sizeof(undo_entry));
    }
    if (status == LC_OK) status = lc_idmap_reserve(&e->account_map, count);
    if (status != LC_OK) return status;

    e->undo_count = 0;
    chain c = {SIZE_MAX, 0, 0};
    for (size_t i = 0; i < count; i++) {
        const lc_account *a = &accounts[i];
        int linked = (a->flags & LC_ACCOUNT_LINKED) != 0;
        int in_chain = chain_enter(&c, e, i, linked);
        int chain_open = linked && i == count - 1;
        uint8_t result;
        uint64_t hash = lc_idmap_hash(&e->account_map, a->id);
        if (chain_open && e->rules == LC_RULES_1) {
            result = LC_ACCOUNT_RESULT_LINKED_EVENT_CHAIN_OPEN;
        } else if (in_chain && c.broken) {
            result = LC_ACCOUNT_RESULT_LINKED_EVENT_FAILED;
        } else if (chain_open) {
            result = LC_ACCOUNT_RESULT_LINKED_EVENT_CHAIN_OPEN;
        } else {
            result = check_account(e, a, key_ok[i], hash);
        }
        if (result == LC_ACCOUNT_RESULT_OK) {
            apply_account(e, a, owner_x != NULL ? owner_x + 32 * i : NULL, hash, base + i);
        } else {
            chain_fail(&c, e, i, results, LC_ACCOUNT_RESULT_LINKED_EVENT_FAILED);
        }
        results[i] = result;
        chain_leave(&c, linked, chain_open);
    }
    e->undo_count = 0;
    e->last_timestamp_ns = base + count - 1;
    return LC_OK;
}

/* ---------------------------------------------------------------- transfers: checks */

static inline uint32_t find_account(const lc_engine *e, unsigned __int128 id) {
    return lc_idmap_find(&e->account_map, id, lc_idmap_hash(&e->account_map, id));
}

static inline int sum_overflows(unsigned __int128 a, unsigned __int128 b) { return a + b < a; }

/* The rest of the checks of a post or void, after the fields common to every transfer. */
static uint8_t check_post_or_void(const lc_engine *e, const lc_transfer *t, uint64_t timestamp,
                                  resolved *r) {
    uint32_t pending_index = lc_idmap_find(&e->transfer_map, t->pending_id,
                                           lc_idmap_hash(&e->transfer_map, t->pending_id));
    if (pending_index == LC_IDMAP_NONE) return LC_RESULT_PENDING_TRANSFER_NOT_FOUND;
    const stored_transfer *p = &e->transfers[pending_index];
    if (!(p->flags & LC_TRANSFER_PENDING)) return LC_RESULT_PENDING_TRANSFER_NOT_PENDING;
    if (p->debit_account_id != t->debit_account_id || p->credit_account_id != t->credit_account_id ||
        p->ledger != t->ledger || p->code != t->code) {
        return LC_RESULT_PENDING_TRANSFER_HAS_DIFFERENT_FIELDS;
    }
    /* A post moves its amount (all of the pending amount for AMOUNT_MAX, 2^128 - 1) and
     * releases the rest. A void moves nothing and names the whole reservation, as 0 or as the
     * pending amount itself: AMOUNT_MAX means "all" for a post only, so a void naming it is
     * refused like any amount above the pending one, and cannot pass for a void of another. */
    unsigned __int128 amount = t->amount;
    if (e->rules == LC_RULES_1 && amount == LC_U128_MAX) amount = p->amount;
    if (t->flags & LC_TRANSFER_POST_PENDING) {
        if (amount == LC_U128_MAX) amount = p->amount;
        if (amount > p->amount) return LC_RESULT_AMOUNT_EXCEEDS_PENDING;
    } else {
        if (amount > p->amount) return LC_RESULT_AMOUNT_EXCEEDS_PENDING;
        if (amount != 0 && amount != p->amount) {
            return LC_RESULT_PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT;
        }
        amount = 0;
    }
    uint8_t status = e->transfer_status[pending_index];
    if (status == TRANSFER_STATUS_POSTED) return LC_RESULT_PENDING_TRANSFER_ALREADY_POSTED;
    if (status == TRANSFER_STATUS_VOIDED) return LC_RESULT_PENDING_TRANSFER_ALREADY_VOIDED;
    if (status == TRANSFER_STATUS_EXPIRED) return LC_RESULT_PENDING_TRANSFER_EXPIRED;
    LC_ASSERT(status == TRANSFER_STATUS_PENDING);
    if (p->timeout_s > 0 && timestamp >= expires_at_ns(p)) {
        return LC_RESULT_PENDING_TRANSFER_EXPIRED;
    }
    if (t->flags & LC_TRANSFER_POST_PENDING) {
        /* A void only gives back what was reserved, so it is let through. */
        const hot_account *dr = &e->hot[r->debit_index];
        const hot_account *cr = &e->hot[r->credit_index];
        if ((dr->flags | cr->flags) & LC_ACCOUNT_FROZEN) return LC_RESULT_ACCOUNT_FROZEN;
        if ((dr->flags | cr->flags) & LC_ACCOUNT_CLOSED) return LC_RESULT_ACCOUNT_CLOSED;
    }
    r->pending_index = pending_index;
    r->amount = amount;
    return LC_RESULT_OK;
}

/* Balances, limits and overflow of a single-phase or pending transfer. */
static uint8_t check_balances(const lc_engine *e, const lc_transfer *t, uint64_t timestamp,
                              resolved *r) {
    const hot_account *dr = &e->hot[r->debit_index];
    const hot_account *cr = &e->hot[r->credit_index];
    if ((dr->flags | cr->flags) & LC_ACCOUNT_FROZEN) return LC_RESULT_ACCOUNT_FROZEN;
    if ((dr->flags | cr->flags) & LC_ACCOUNT_CLOSED) return LC_RESULT_ACCOUNT_CLOSED;
    unsigned __int128 amount = t->amount;
    /* A pending amount is checked against the posted balances too, so its post cannot wrap. */
    if ((t->flags & LC_TRANSFER_PENDING) && (sum_overflows(dr->debits_pending, amount) ||
                                             sum_overflows(cr->credits_pending, amount))) {
        return LC_RESULT_OVERFLOW;
    }
    if (sum_overflows(dr->debits_posted, amount) || sum_overflows(cr->credits_posted, amount)) {
        return LC_RESULT_OVERFLOW;
    }
    /* Invariant: pending + posted never wraps, so these sums are exact. */
    unsigned __int128 dr_debits = dr->debits_pending + dr->debits_posted;
    unsigned __int128 cr_credits = cr->credits_pending + cr->credits_posted;
    if (sum_overflows(dr_debits, amount) || sum_overflows(cr_credits, amount)) {
        return LC_RESULT_OVERFLOW;
    }
    if ((t->flags & LC_TRANSFER_PENDING) && t->timeout_s > 0 &&
        timestamp > UINT64_MAX - (uint64_t)t->timeout_s * NS_PER_S) {
        return LC_RESULT_OVERFLOW;
    }
    if ((dr->flags & LC_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) &&
        dr_debits + amount > dr->credits_posted) {
        return LC_RESULT_EXCEEDS_CREDITS;
    }
    if ((cr->flags & LC_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS) &&
        cr_credits + amount > cr->debits_posted) {
        return LC_RESULT_EXCEEDS_DEBITS;
    }
    r->amount = amount;
    return LC_RESULT_OK;
}

/* The first failing rule of the result table for one transfer, or LC_RESULT_OK. Reads only.
 * On entry r holds the transfer id's hash and the rows of its two accounts (or LC_IDMAP_NONE). */
static uint8_t check_transfer(const lc_engine *e, const lc_transfer *t, uint8_t signature,
                              uint64_t timestamp, resolved *r) {
    /* Unchecked is only true of a transfer whose debit account is unknown (validation refuses
     * it below); said of any other, it is no signature at all. */
    if (signature == LC_SIGNATURE_BAD ||
        (signature == LC_SIGNATURE_UNCHECKED && r->debit_index != LC_IDMAP_NONE)) {
        return LC_RESULT_BAD_SIGNATURE;
    }
    if (t->timestamp != 0) return LC_RESULT_TIMESTAMP_MUST_BE_ZERO;
    if (t->flags & ~LC_TRANSFER_FLAGS_KNOWN) return LC_RESULT_RESERVED_FLAG;
    if (t->id == 0) return LC_RESULT_ID_MUST_NOT_BE_ZERO;
    if (t->id == LC_U128_MAX) return LC_RESULT_ID_MUST_NOT_BE_INT_MAX;
    uint32_t existing = lc_idmap_find_or_free(&e->transfer_map, t->id, r->hash, &r->free_slot);
    if (existing != LC_IDMAP_NONE) {
        if (memcmp(&e->transfers[existing], t, LC_TRANSFER_SIGNED_SIZE) != 0) {
            return LC_RESULT_EXISTS_WITH_DIFFERENT_FIELDS;
        }
        return LC_RESULT_EXISTS;
    }
    if (e->failed_count > 0 && lc_idmap_find(&e->failed_map, t->id, r->hash) != LC_IDMAP_NONE) {
        return LC_RESULT_ID_ALREADY_FAILED;
    }
    uint16_t kind = t->flags & (LC_TRANSFER_PENDING | LC_TRANSFER_POST_PENDING |
                                LC_TRANSFER_VOID_PENDING);
    if (kind & (kind - 1)) return LC_RESULT_FLAGS_ARE_MUTUALLY_EXCLUSIVE;
    if (t->debit_account_id == 0 || t->credit_account_id == 0) {
        return LC_RESULT_ACCOUNT_ID_MUST_NOT_BE_ZERO;
    }
    if (t->debit_account_id == LC_U128_MAX || t->credit_account_id == LC_U128_MAX) {
        return LC_RESULT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX;
    }
    if (t->debit_account_id == t->credit_account_id) return LC_RESULT_ACCOUNTS_MUST_BE_DIFFERENT;
    int resolves = (kind & (LC_TRANSFER_POST_PENDING | LC_TRANSFER_VOID_PENDING)) != 0;
    if (!resolves && t->pending_id != 0) return LC_RESULT_PENDING_ID_MUST_BE_ZERO;
    if (resolves && t->pending_id == 0) return LC_RESULT_PENDING_ID_MUST_NOT_BE_ZERO;
    if (resolves && t->pending_id == LC_U128_MAX) return LC_RESULT_PENDING_ID_MUST_NOT_BE_INT_MAX;
    if (resolves && t->pending_id == t->id) return LC_RESULT_PENDING_ID_MUST_BE_DIFFERENT;
    if (kind != LC_TRANSFER_PENDING && t->timeout_s != 0) {
        return LC_RESULT_TIMEOUT_RESERVED_FOR_PENDING_TRANSFER;
    }
    if (t->ledger == 0) return LC_RESULT_LEDGER_MUST_NOT_BE_ZERO;
    if (t->code == 0) return LC_RESULT_CODE_MUST_NOT_BE_ZERO;
    /* r->debit_index and r->credit_index were looked up ahead (accounts never change during a
     * transfer batch): see lc_engine_submit. */
    if (r->debit_index == LC_IDMAP_NONE || r->credit_index == LC_IDMAP_NONE) {
        return LC_RESULT_ACCOUNT_NOT_FOUND;
    }
    uint32_t debit_ledger = e->hot[r->debit_index].ledger;
    if (debit_ledger != e->hot[r->credit_index].ledger || t->ledger != debit_ledger) {
        return LC_RESULT_LEDGER_MISMATCH;
    }
    if (resolves) return check_post_or_void(e, t, timestamp, r);
    return check_balances(e, t, timestamp, r);
}

/* ---------------------------------------------------------------- transfers: apply */

static int apply_transfer(lc_engine *e, const lc_transfer *t, const resolved *r,
                          uint64_t timestamp, lc_invariant_report *report) {
    LC_ASSERT(e->transfer_count < e->transfer_capacity);
    LC_ASSERT(e->transfer_count < e->status_capacity);
    uint32_t index = (uint32_t)e->transfer_count;
    stored_transfer *kept = &e->transfers[index];
    memcpy(kept, t, sizeof(stored_transfer));
    kept->timestamp = timestamp;
    e->transfer_count += 1;
    /* Nothing was removed from the map since check_transfer missed this id. */
    lc_idmap_insert_at(&e->transfer_map, r->hash, index, r->free_slot);
    hot_account *dr = &e->hot[r->debit_index];
    hot_account *cr = &e->hot[r->credit_index];
    uint8_t status = TRANSFER_STATUS_NONE;
    uint32_t pending_index = 0;
    if (t->flags & (LC_TRANSFER_POST_PENDING | LC_TRANSFER_VOID_PENDING)) {
        pending_index = r->pending_index;
        const stored_transfer *p = &e->transfers[pending_index];
        LC_ASSERT(e->transfer_status[pending_index] == TRANSFER_STATUS_PENDING);
        LC_ASSERT(r->amount <= p->amount);
        LC_ASSERT(dr->debits_pending >= p->amount && cr->credits_pending >= p->amount);
        dr->debits_pending -= p->amount;
        cr->credits_pending -= p->amount;
        dr->debits_posted += r->amount;
        cr->credits_posted += r->amount;
        int post = (t->flags & LC_TRANSFER_POST_PENDING) != 0;
        e->transfer_status[pending_index] = post ? TRANSFER_STATUS_POSTED : TRANSFER_STATUS_VOIDED;
        e->pending_count -= 1;
    } else if (t->flags & LC_TRANSFER_PENDING) {
        dr->debits_pending += r->amount;
        cr->credits_pending += r->amount;
        status = TRANSFER_STATUS_PENDING;
        e->pending_count += 1;
    } else {
        dr->debits_posted += r->amount;
        cr->credits_posted += r->amount;
    }
    e->transfer_status[index] = status;
    undo_push(e, UNDO_TRANSFER_CREATED, index, pending_index);
    return account_holds(dr, report) && account_holds(cr, report);
}

static void record_failed_id(lc_engine *e, unsigned __int128 id) {
    LC_ASSERT(e->failed_count < e->failed_capacity);
    uint32_t index = (uint32_t)e->failed_count;
    e->failed_ids[index] = id;
    e->failed_count += 1;
    lc_idmap_insert(&e->failed_map, lc_idmap_hash(&e->failed_map, id), index);
    undo_push(e, UNDO_FAILED_ID_RECORDED, index, 0);
}

/* Expire every pending transfer whose timeout lapsed by `now`: its reservation is released. */
static int expire_pending(lc_engine *e, uint64_t now) {
    while (e->expiry_count > 0 && e->expiries[0].expires_at_ns <= now) {
        if (grow((void **)&e->undo, &e->undo_capacity, e->undo_count + 1, sizeof(undo_entry)) !=
            LC_OK) {
            return LC_ERROR_MEMORY;
        }
        expiry top = expiry_pop(e);
        /* Posted or voided since: nothing to release (entries are never removed early). */
        if (e->transfer_status[top.index] != TRANSFER_STATUS_PENDING) continue;
        const stored_transfer *p = &e->transfers[top.index];
        LC_ASSERT(expires_at_ns(p) == top.expires_at_ns);
        const uint32_t debit_row = find_account(e, p->debit_account_id);
        const uint32_t credit_row = find_account(e, p->credit_account_id);
        LC_ASSERT(debit_row != LC_IDMAP_NONE && credit_row != LC_IDMAP_NONE);
        if (grow((void **)&e->changed, &e->changed_capacity, e->changed_count + 2,
                 sizeof(uint32_t)) != LC_OK) {
            return LC_ERROR_MEMORY;
        }
        e->changed[e->changed_count++] = debit_row;
        e->changed[e->changed_count++] = credit_row;
        hot_account *dr = &e->hot[debit_row];
        hot_account *cr = &e->hot[credit_row];
        LC_ASSERT(dr->debits_pending >= p->amount && cr->credits_pending >= p->amount);
        dr->debits_pending -= p->amount;
        cr->credits_pending -= p->amount;
        e->transfer_status[top.index] = TRANSFER_STATUS_EXPIRED;
        e->pending_count -= 1;
        undo_push(e, UNDO_PENDING_EXPIRED, top.index, 0);
    }
    return LC_OK;
}

/* ---------------------------------------------------------------- submit */

/* A batch is a stream of cache misses: hash-table slots, then the account rows they point to.
 * Transfer i + LOOKAHEAD has its ids hashed and their slots prefetched; transfer
 * i + LOOKAHEAD / 2 has the rows its account slots point to prefetched (by tag, reading no row);
 * so transfer i finds everything in cache when it looks its ids up for real, in turn. */
#define LOOKAHEAD 16

typedef struct ahead {
    uint64_t id_hash;
    uint64_t debit_hash;
    uint64_t credit_hash;
    uint32_t debit_candidate; /* lc_idmap_candidate of the account ids */
    uint32_t credit_candidate;
} ahead;

static inline void prefetch_row(const void *row, size_t size) {
    const char *start = (const char *)row;
    for (size_t offset = 0; offset < size; offset += 64) __builtin_prefetch(start + offset);
    __builtin_prefetch(start + size - 1);
}

static inline void look_ahead_hash(const lc_engine *e, const lc_transfer *t, ahead *a) {
    a->id_hash = lc_idmap_hash(&e->transfer_map, t->id);
    a->debit_hash = lc_idmap_hash(&e->account_map, t->debit_account_id);
    a->credit_hash = lc_idmap_hash(&e->account_map, t->credit_account_id);
    lc_idmap_prefetch(&e->transfer_map, a->id_hash);
    lc_idmap_prefetch(&e->account_map, a->debit_hash);
    lc_idmap_prefetch(&e->account_map, a->credit_hash);
    if (e->failed_count > 0) lc_idmap_prefetch(&e->failed_map, a->id_hash);
}

static inline void look_ahead_accounts(const lc_engine *e, const lc_transfer *t, ahead *a) {
    uint32_t debit = lc_idmap_candidate(&e->account_map, a->debit_hash);
    uint32_t credit = lc_idmap_candidate(&e->account_map, a->credit_hash);
    if (debit != LC_IDMAP_NONE) prefetch_row(&e->hot[debit], sizeof(hot_account));
    if (credit != LC_IDMAP_NONE) prefetch_row(&e->hot[credit], sizeof(hot_account));
    a->debit_candidate = debit;
    a->credit_candidate = credit;
    if (t->flags & (LC_TRANSFER_POST_PENDING | LC_TRANSFER_VOID_PENDING)) {
        lc_idmap_prefetch(&e->transfer_map, lc_idmap_hash(&e->transfer_map, t->pending_id));
    }
}

/* The batch stands: schedule the expiry of its pending transfers that have a timeout. */
/* e->changed becomes the distinct rows, ascending, of the accounts the batch changed: those it
 * holds already (expiries) and both accounts of every applied transfer. A bitmap over the rows
 * sorts them in one pass over the words the batch touched. */
static void collect_changed(lc_engine *e, const uint8_t *results, size_t count) {
    LC_ASSERT(e->changed_bits_capacity * 64 >= e->account_count);
    uint64_t *bits = e->changed_bits;
    size_t low = SIZE_MAX, high = 0;
#define MARK_ROW(row)                                   \
    do {                                                \
        const size_t word_ = (size_t)(row) >> 6;        \
        LC_ASSERT((size_t)(row) < e->account_count);    \
        bits[word_] |= (uint64_t)1 << ((row) & 63);     \
        if (word_ < low) low = word_;                   \
        if (word_ > high) high = word_;                 \
    } while (0)
    for (size_t i = 0; i < e->changed_count; i++) MARK_ROW(e->changed[i]);
    for (size_t i = 0; i < count; i++) {
        if (results[i] != LC_RESULT_OK) continue;
        MARK_ROW(e->batch_rows[2 * i]);
        MARK_ROW(e->batch_rows[2 * i + 1]);
    }
#undef MARK_ROW
    size_t written = 0;
    for (size_t word = low; word <= high && low != SIZE_MAX; word++) {
        uint64_t w = bits[word];
        bits[word] = 0;
        while (w != 0) {
            LC_ASSERT(written < e->changed_capacity);
            e->changed[written++] = (uint32_t)(word * 64 + (size_t)__builtin_ctzll(w));
            w &= w - 1;
        }
    }
    e->changed_count = written;
}

static void schedule_expiries(lc_engine *e, size_t first_new) {
    for (size_t index = first_new; index < e->transfer_count; index++) {
        const stored_transfer *t = &e->transfers[index];
        if (e->transfer_status[index] == TRANSFER_STATUS_PENDING && t->timeout_s > 0) {
            expiry_push(e, expires_at_ns(t), (uint32_t)index);
        }
    }
}

int lc_engine_submit(lc_engine *e, const lc_transfer *transfers, size_t count,
                     const uint8_t *signatures, uint64_t timestamp_ns, uint8_t *results,
                     lc_invariant_report *report) {
    LC_ASSERT(e != NULL);
    LC_ASSERT(count <= LC_BATCH_SIZE_MAX);
    LC_ASSERT(count == 0 || (transfers != NULL && results != NULL && report != NULL));
    if (count == 0) return LC_OK;
    uint64_t base = batch_timestamp(e, timestamp_ns, count);
    if (base == 0) return LC_ERROR_ARGUMENT;
    e->undo_count = 0;
    e->changed_count = 0;
    int status = expire_pending(e, base);
    if (status == LC_OK) status = reserve_for_transfers(e, count);
    if (status != LC_OK) {
        rollback(e, 0);
        e->changed_count = 0;
        return status;
    }
    size_t first_new = e->transfer_count;
    chain c = {SIZE_MAX, 0, 0};
    ahead ring[LOOKAHEAD];
    for (size_t j = 0; j < LOOKAHEAD && j < count; j++) {
        look_ahead_hash(e, &transfers[j], &ring[j]);
        if (j < LOOKAHEAD / 2) look_ahead_accounts(e, &transfers[j], &ring[j]);
    }
    for (size_t i = 0; i < count; i++) {
        const ahead a = ring[i % LOOKAHEAD];
        if (i + LOOKAHEAD < count) {
            look_ahead_hash(e, &transfers[i + LOOKAHEAD], &ring[i % LOOKAHEAD]);
        }
        if (i + LOOKAHEAD / 2 < count) {
            size_t k = i + LOOKAHEAD / 2;
            look_ahead_accounts(e, &transfers[k], &ring[k % LOOKAHEAD]);
        }
        const lc_transfer *t = &transfers[i];
        uint64_t timestamp = base + i;
        int linked = (t->flags & LC_TRANSFER_LINKED) != 0;
        int in_chain = chain_enter(&c, e, i, linked);
        int chain_open = linked && i == count - 1;
        uint8_t signature = signatures != NULL ? signatures[i] : LC_SIGNATURE_GOOD;
        /* Accounts never change during a transfer batch, so the candidates stand. */
        resolved r = {lc_idmap_confirm(&e->account_map, t->debit_account_id, a.debit_hash,
                                       a.debit_candidate),
                      lc_idmap_confirm(&e->account_map, t->credit_account_id, a.credit_hash,
                                       a.credit_candidate),
                      LC_IDMAP_NONE, 0, a.id_hash, 0};
        uint8_t result;
        if (chain_open && e->rules == LC_RULES_1) {
            result = LC_RESULT_LINKED_EVENT_CHAIN_OPEN;
        } else if (in_chain && c.broken) {
            result = LC_RESULT_LINKED_EVENT_FAILED;
        } else if (chain_open) {
            result = LC_RESULT_LINKED_EVENT_CHAIN_OPEN;
        } else {
            result = check_transfer(e, t, signature, timestamp, &r);
        }
        if (result == LC_RESULT_OK) {
            LC_ASSERT(signature == LC_SIGNATURE_GOOD);
            e->batch_rows[2 * i] = r.debit_index;
            e->batch_rows[2 * i + 1] = r.credit_index;
            if (!apply_transfer(e, t, &r, timestamp, report)) {
                rollback(e, 0);
                e->changed_count = 0;
                return LC_ERROR_INVARIANT;
            }
        } else if (in_chain) {
            chain_fail(&c, e, i, results, LC_RESULT_LINKED_EVENT_FAILED);
        } else if (result >= LC_RESULT_FIRST_STATEFUL) {
            record_failed_id(e, t->id);
        }
        results[i] = result;
        chain_leave(&c, linked, chain_open);
    }
    schedule_expiries(e, first_new);
    collect_changed(e, results, count);
    e->undo_count = 0;
    e->last_timestamp_ns = base + count - 1;
    return LC_OK;
}

int lc_engine_expire(lc_engine *e, uint64_t now_ns, size_t *expired) {
    LC_ASSERT(e != NULL && expired != NULL);
    *expired = 0;
    if (now_ns <= e->last_timestamp_ns) return LC_ERROR_ARGUMENT;
    int status = grow((void **)&e->changed_bits, &e->changed_bits_capacity,
                      (e->account_count + 63) / 64, sizeof(uint64_t));
    if (status != LC_OK) return status;
    e->undo_count = 0;
    e->changed_count = 0;
    const size_t pending_before = e->pending_count;
    status = expire_pending(e, now_ns);
    if (status != LC_OK) {
        rollback(e, 0);
        e->changed_count = 0;
        return status;
    }
    collect_changed(e, NULL, 0);
    e->undo_count = 0;
    *expired = pending_before - e->pending_count;
    /* An expiry that released nothing makes no block, so it must not move the clock either:
     * a ledger reopened from its blocks would not see that timestamp taken. */
    if (*expired > 0) e->last_timestamp_ns = now_ns;
    return LC_OK;
}

size_t lc_engine_changed_accounts(const lc_engine *e, const uint32_t **rows) {
    LC_ASSERT(e != NULL && rows != NULL);
    *rows = e->changed;
    return e->changed_count;
}

/* ---------------------------------------------------------------- lookups */

void lc_engine_gather_owner_keys(const lc_engine *e, const lc_transfer *transfers, size_t count,
                                 uint8_t *keys_out, uint8_t *found) {
    LC_ASSERT(count == 0 || (transfers != NULL && keys_out != NULL && found != NULL));
    /* The id-map probes of a batch miss the cache in a large ledger: each transfer's is
     * started GATHER_AHEAD transfers early, and its account's rows half as early. */
    enum { GATHER_AHEAD = 8 };
    uint64_t hashes[GATHER_AHEAD];
    uint32_t rows[GATHER_AHEAD];
    for (size_t j = 0; j < count + GATHER_AHEAD; j++) {
        if (j < count) {
            const unsigned __int128 id = transfers[j].debit_account_id;
            hashes[j % GATHER_AHEAD] = lc_idmap_hash(&e->account_map, id);
            lc_idmap_prefetch(&e->account_map, hashes[j % GATHER_AHEAD]);
        }
        if (j >= GATHER_AHEAD / 2 && j - GATHER_AHEAD / 2 < count) {
            const size_t k = j - GATHER_AHEAD / 2;
            const uint32_t row = lc_idmap_find(&e->account_map, transfers[k].debit_account_id,
                                               hashes[k % GATHER_AHEAD]);
            rows[k % GATHER_AHEAD] = row;
            if (row != LC_IDMAP_NONE) {
                __builtin_prefetch(e->cold[row].owner_key);
                __builtin_prefetch(e->owner_x[row]);
            }
        }
        if (j >= GATHER_AHEAD && j - GATHER_AHEAD < count) {
            const size_t i = j - GATHER_AHEAD;
            const uint32_t row = rows[i % GATHER_AHEAD];
            uint8_t *out = keys_out + LC_ED25519_HINTED_KEY_SIZE * i;
            found[i] = row != LC_IDMAP_NONE;
            if (row == LC_IDMAP_NONE) {
                memset(out, 0, LC_ED25519_HINTED_KEY_SIZE);
            } else {
                memcpy(out, e->cold[row].owner_key, 32);
                memcpy(out + 32, e->owner_x[row], 32);
            }
        }
    }
}

static void compose_account(const lc_engine *e, uint32_t index, lc_account *account) {
    const hot_account *hot = &e->hot[index];
    const cold_account *cold = &e->cold[index];
    account->id = hot->id;
    account->debits_pending = hot->debits_pending;
    account->debits_posted = hot->debits_posted;
    account->credits_pending = hot->credits_pending;
    account->credits_posted = hot->credits_posted;
    account->user_data_128 = cold->user_data_128;
    memcpy(account->owner_key, cold->owner_key, sizeof(account->owner_key));
    account->user_data_64 = cold->user_data_64;
    account->user_data_32 = cold->user_data_32;
    account->reserved = cold->reserved;
    account->ledger = hot->ledger;
    account->code = hot->code;
    account->flags = hot->flags;
    account->timestamp = cold->timestamp;
}

int lc_engine_accounts_at(const lc_engine *e, const uint32_t *rows, size_t count,
                          lc_account *out) {
    LC_ASSERT(e != NULL && (count == 0 || (rows != NULL && out != NULL)));
    for (size_t i = 0; i < count; i++) {
        if (rows[i] >= e->account_count) return LC_ERROR_ARGUMENT;
    }
    /* The rows of a large ledger's changed accounts are far apart: each is fetched
     * ACCOUNTS_AHEAD rows early, hot and cold part. */
    enum { ACCOUNTS_AHEAD = 8 };
    for (size_t i = 0; i < count; i++) {
        if (i + ACCOUNTS_AHEAD < count) {
            const uint32_t ahead = rows[i + ACCOUNTS_AHEAD];
            __builtin_prefetch(&e->hot[ahead]);
            __builtin_prefetch((const uint8_t *)&e->hot[ahead] + 64);
            __builtin_prefetch(&e->cold[ahead]);
            __builtin_prefetch((const uint8_t *)&e->cold[ahead] + 64);
        }
        compose_account(e, rows[i], &out[i]);
    }
    return LC_OK;
}

size_t lc_engine_lookup_accounts(const lc_engine *e, const lc_u128 *ids, size_t count,
                                 lc_account *out, uint8_t *found) {
    size_t copied = 0;
    for (size_t i = 0; i < count; i++) {
        uint32_t index = find_account(e, ids[i]);
        found[i] = index != LC_IDMAP_NONE;
        if (index == LC_IDMAP_NONE) continue;
        compose_account(e, index, &out[copied++]);
    }
    return copied;
}

size_t lc_engine_lookup_transfers(const lc_engine *e, const lc_u128 *ids, size_t count,
                                  lc_transfer *out, uint8_t *found) {
    size_t copied = 0;
    for (size_t i = 0; i < count; i++) {
        uint32_t index = lc_idmap_find(&e->transfer_map, ids[i],
                                       lc_idmap_hash(&e->transfer_map, ids[i]));
        found[i] = index != LC_IDMAP_NONE;
        if (index == LC_IDMAP_NONE) continue;
        memcpy(&out[copied], &e->transfers[index], sizeof(stored_transfer));
        memset(out[copied].signature, 0, sizeof(out[copied].signature));
        copied++;
    }
    return copied;
}

/* ---------------------------------------------------------------- invariants, sizes */

static lc_ledger_totals *totals_for(lc_ledger_totals *totals, size_t *ledger_count,
                                    size_t totals_max, uint32_t ledger) {
    for (size_t i = 0; i < *ledger_count; i++) {
        if (totals[i].ledger == ledger) return &totals[i];
    }
    if (*ledger_count == totals_max) return NULL;
    lc_ledger_totals *fresh = &totals[(*ledger_count)++];
    memset(fresh, 0, sizeof(*fresh));
    fresh->ledger = ledger;
    return fresh;
}

int lc_engine_check_invariants(const lc_engine *e, lc_ledger_totals *totals, size_t totals_max,
                               size_t *ledger_count, lc_invariant_report *report) {
    *ledger_count = 0;
    for (size_t i = 0; i < e->account_count; i++) {
        const hot_account *a = &e->hot[i];
        if (!account_holds(a, report)) return LC_ERROR_INVARIANT;
        lc_ledger_totals *sums = totals_for(totals, ledger_count, totals_max, a->ledger);
        if (sums == NULL) return LC_ERROR_ARGUMENT;
        /* A ledger's total is bounded only by the sum of its transfers' amounts, which may pass
         * 2^128 while every account's balance fits: the sums count their carries. */
        sums->debits_pending_carries += sum_overflows(sums->debits_pending, a->debits_pending);
        sums->debits_posted_carries += sum_overflows(sums->debits_posted, a->debits_posted);
        sums->credits_pending_carries +=
            sum_overflows(sums->credits_pending, a->credits_pending);
        sums->credits_posted_carries += sum_overflows(sums->credits_posted, a->credits_posted);
        sums->debits_pending += a->debits_pending;
        sums->debits_posted += a->debits_posted;
        sums->credits_pending += a->credits_pending;
        sums->credits_posted += a->credits_posted;
    }
    for (size_t i = 0; i < *ledger_count; i++) {
        const char *rule = NULL;
        const lc_ledger_totals *t = &totals[i];
        if (t->debits_posted != t->credits_posted ||
            t->debits_posted_carries != t->credits_posted_carries) {
            rule = "posted debits equal posted credits on every ledger";
        } else if (t->debits_pending != t->credits_pending ||
                   t->debits_pending_carries != t->credits_pending_carries) {
            rule = "pending debits equal pending credits on every ledger";
        }
        if (rule != NULL) {
            report->account_id = 0;
            report->ledger = totals[i].ledger;
            report->rule = rule;
            return LC_ERROR_INVARIANT;
        }
    }
    return LC_OK;
}

int lc_engine_break_account_for_test(lc_engine *e, lc_u128 id, lc_u128 amount) {
    uint32_t index = find_account(e, id);
    if (index == LC_IDMAP_NONE) return LC_ERROR_ARGUMENT;
    e->hot[index].debits_posted += amount;
    return LC_OK;
}

int lc_engine_rewind_clock(lc_engine *e, uint64_t last_ns) {
    LC_ASSERT(e != NULL);
    if (last_ns > e->last_timestamp_ns) return LC_ERROR_ARGUMENT;
    /* Records are stored in the order they were given their timestamps: the newest of each
     * kind holds the highest. */
    if (e->account_count > 0 && e->cold[e->account_count - 1].timestamp > last_ns) {
        return LC_ERROR_ARGUMENT;
    }
    if (e->transfer_count > 0 && e->transfers[e->transfer_count - 1].timestamp > last_ns) {
        return LC_ERROR_ARGUMENT;
    }
    e->last_timestamp_ns = last_ns;
    return LC_OK;
}

size_t lc_engine_account_count(const lc_engine *e) { return e->account_count; }
size_t lc_engine_transfer_count(const lc_engine *e) { return e->transfer_count; }
size_t lc_engine_pending_count(const lc_engine *e) { return e->pending_count; }
int lc_engine_set_rules(lc_engine *e, uint32_t rules) {
    LC_ASSERT(e != NULL);
    if (rules != LC_RULES_1 && rules != LC_RULES_2) return LC_ERROR_ARGUMENT;
    e->rules = rules;
    return LC_OK;
}

uint32_t lc_engine_rules(const lc_engine *e) {
    LC_ASSERT(e != NULL);
    return e->rules;
}

uint64_t lc_engine_last_timestamp(const lc_engine *e) { return e->last_timestamp_ns; }

size_t lc_engine_memory_size(const lc_engine *e) {
    return sizeof(*e) + e->cold_capacity * sizeof(cold_account) +
           e->hot_capacity * sizeof(hot_account) + e->owner_x_capacity * 32 +
           e->transfer_capacity * sizeof(stored_transfer) + e->status_capacity +
           e->failed_capacity * sizeof(lc_u128) + e->expiry_capacity * sizeof(expiry) +
           e->undo_capacity * sizeof(undo_entry) + lc_idmap_memory_size(&e->account_map) +
           lc_idmap_memory_size(&e->transfer_map) + lc_idmap_memory_size(&e->failed_map);
}

/* ---------------------------------------------------------------- signed bytes */

void lc_transfer_signing_bytes(const lc_transfer *transfers, size_t count,
                               const uint8_t *ledger_id, uint8_t *out) {
    LC_ASSERT(count == 0 || (transfers != NULL && out != NULL));
    if (ledger_id == NULL) {
        for (size_t i = 0; i < count; i++) {
            uint8_t *row = out + i * LC_TRANSFER_SIGNING_SIZE_V1;
            memcpy(row, LC_TRANSFER_SIGNING_PREFIX_V1, LC_TRANSFER_SIGNING_PREFIX_SIZE);
            memcpy(row + LC_TRANSFER_SIGNING_PREFIX_SIZE, &transfers[i], LC_TRANSFER_SIGNED_SIZE);
        }
        return;
    }
    for (size_t i = 0; i < count; i++) {
        uint8_t *row = out + i * LC_TRANSFER_SIGNING_SIZE;
        memcpy(row, LC_TRANSFER_SIGNING_PREFIX, LC_TRANSFER_SIGNING_PREFIX_SIZE);
        memcpy(row + LC_TRANSFER_SIGNING_PREFIX_SIZE, ledger_id, LC_LEDGER_ID_SIZE);
        memcpy(row + LC_TRANSFER_SIGNING_PREFIX_SIZE + LC_LEDGER_ID_SIZE, &transfers[i],
               LC_TRANSFER_SIGNED_SIZE);
    }
}

/* ---------------------------------------------------------------- images */

/* An image is the engine's tables in one buffer, little-endian as in memory: a header of eight
 * u64 (magic, version, then the counts and the clock), the hot and cold account rows, the
 * owner keys' x-coordinates (32 bytes per account), the stored transfers, the failed ids, the expiry heap as (u64 expires_at_ns, u32 index) pairs in
 * heap order, and a status byte per transfer. The id maps are not in it: loading rebuilds them,
 * which also proves every id distinct. */
#define IMAGE_MAGIC 0x4547414d49434c31ull /* "1LCIMAGE" read as little-endian bytes */
/* The image holds state, not rules: a pending transfer voided under earlier rules stays voided
 * in it, whatever the rules say of that void today. So only a change of layout bumps this. */
#define IMAGE_VERSION 2u
#define IMAGE_HEADER_WORDS 8u
#define IMAGE_EXPIRY_SIZE 12u

typedef struct image_counts {
    uint64_t accounts, transfers, failed, expiries, pending, last_timestamp_ns;
} image_counts;

static size_t image_size_of(const image_counts *n) {
    return IMAGE_HEADER_WORDS * 8u +
           (size_t)n->accounts * (sizeof(hot_account) + sizeof(cold_account) + 32u) +
           (size_t)n->transfers * (sizeof(stored_transfer) + 1u) +
           (size_t)n->failed * sizeof(lc_u128) + (size_t)n->expiries * IMAGE_EXPIRY_SIZE;
}

size_t lc_engine_image_size(const lc_engine *e) {
    LC_ASSERT(e != NULL);
    const image_counts n = {e->account_count, e->transfer_count, e->failed_count, e->expiry_count,
                            e->pending_count, e->last_timestamp_ns};
    return image_size_of(&n);
}

static uint8_t *put_bytes(uint8_t *out, const void *data, size_t size) {
    if (size > 0) memcpy(out, data, size);
    return out + size;
}

int lc_engine_image_write(const lc_engine *e, uint8_t *out, size_t size) {
    LC_ASSERT(e != NULL && out != NULL);
    if (size != lc_engine_image_size(e)) return LC_ERROR_ARGUMENT;
    const uint64_t header[IMAGE_HEADER_WORDS] = {
        IMAGE_MAGIC,      IMAGE_VERSION,   e->account_count, e->transfer_count,
        e->failed_count,  e->expiry_count, e->pending_count, e->last_timestamp_ns};
    uint8_t *at = put_bytes(out, header, sizeof header);
    at = put_bytes(at, e->hot, e->account_count * sizeof(hot_account));
    at = put_bytes(at, e->cold, e->account_count * sizeof(cold_account));
    at = put_bytes(at, e->owner_x, e->account_count * 32);
    at = put_bytes(at, e->transfers, e->transfer_count * sizeof(stored_transfer));
    at = put_bytes(at, e->failed_ids, e->failed_count * sizeof(lc_u128));
    for (size_t i = 0; i < e->expiry_count; i++) {
        at = put_bytes(at, &e->expiries[i].expires_at_ns, 8);
        at = put_bytes(at, &e->expiries[i].index, 4);
    }
    at = put_bytes(at, e->transfer_status, e->transfer_count);
    LC_ASSERT((size_t)(at - out) == size);
    return LC_OK;
}

/* Inserts rows 0..count-1 of a map's table; LC_ERROR_ARGUMENT if two rows share an id. */
static int rebuild_map(lc_idmap *map, size_t count) {
    int status = lc_idmap_reserve(map, count);
    if (status != LC_OK) return status;
    for (size_t i = 0; i < count; i++) {
        const unsigned __int128 id = lc_idmap_row_id(map, (uint32_t)i);
        const uint64_t hash = lc_idmap_hash(map, id);
        size_t free_slot;
        if (lc_idmap_find_or_free(map, id, hash, &free_slot) != LC_IDMAP_NONE) {
            return LC_ERROR_ARGUMENT;
        }
        lc_idmap_insert_at(map, hash, (uint32_t)i, free_slot);
    }
    return LC_OK;
}

/* Each account's pending balances are the sums of the amounts of the pending transfers on
 * either side of it, whose accounts exist: expiring, posting and voiding assert as much, so an
 * image that says otherwise is refused here rather than stopping the engine later. */
static int check_pending_balances(const lc_engine *e) {
    lc_u128 *sums = calloc(2 * (e->account_count ? e->account_count : 1), sizeof *sums);
    if (sums == NULL) return LC_ERROR_MEMORY;
    int status = LC_OK;
    for (size_t i = 0; i < e->transfer_count && status == LC_OK; i++) {
        if (e->transfer_status[i] != TRANSFER_STATUS_PENDING) continue;
        const stored_transfer *t = &e->transfers[i];
        const uint32_t debit = find_account(e, t->debit_account_id);
        const uint32_t credit = find_account(e, t->credit_account_id);
        if (debit == LC_IDMAP_NONE || credit == LC_IDMAP_NONE || debit == credit ||
            sum_overflows(sums[2 * debit], t->amount) ||
            sum_overflows(sums[2 * credit + 1], t->amount)) {
            status = LC_ERROR_ARGUMENT;
            break;
        }
        sums[2 * debit] += t->amount;
        sums[2 * credit + 1] += t->amount;
    }
    for (size_t a = 0; a < e->account_count && status == LC_OK; a++) {
        const hot_account *account = &e->hot[a];
        if (sums[2 * a] != account->debits_pending ||
            sums[2 * a + 1] != account->credits_pending) {
            status = LC_ERROR_ARGUMENT;
        }
    }
    free(sums);
    return status;
}

int lc_engine_image_load(lc_engine *e, const uint8_t *image, size_t size) {
    LC_ASSERT(e != NULL && (image != NULL || size == 0));
    if (e->account_count != 0 || e->transfer_count != 0 || e->failed_count != 0) {
        return LC_ERROR_ARGUMENT; /* only into a new engine */
    }
    uint64_t header[IMAGE_HEADER_WORDS];
    if (size < sizeof header) return LC_ERROR_ARGUMENT;
    memcpy(header, image, sizeof header);
    const image_counts n = {header[2], header[3], header[4], header[5], header[6], header[7]};
    if (header[0] != IMAGE_MAGIC || header[1] != IMAGE_VERSION) return LC_ERROR_ARGUMENT;
    if (n.accounts > LC_ENGINE_ACCOUNT_COUNT_MAX || n.transfers > LC_ENGINE_TRANSFER_COUNT_MAX ||
        n.failed > LC_ENGINE_TRANSFER_COUNT_MAX || n.expiries > n.transfers ||
        n.pending > n.transfers || size != image_size_of(&n)) {
        return LC_ERROR_ARGUMENT;
    }
    int status = grow((void **)&e->cold, &e->cold_capacity, n.accounts, sizeof(cold_account));
    if (status == LC_OK) {
        status = grow((void **)&e->hot, &e->hot_capacity, n.accounts, sizeof(hot_account));
    }
    if (status == LC_OK) status = grow((void **)&e->owner_x, &e->owner_x_capacity, n.accounts, 32);
    if (status == LC_OK) {
        status = grow((void **)&e->transfers, &e->transfer_capacity, n.transfers,
                      sizeof(stored_transfer));
    }
    if (status == LC_OK) {
        status = grow((void **)&e->transfer_status, &e->status_capacity, n.transfers, 1);
    }
    if (status == LC_OK) {
        status = grow((void **)&e->failed_ids, &e->failed_capacity, n.failed, sizeof(lc_u128));
    }
    if (status == LC_OK) {
        status = grow((void **)&e->expiries, &e->expiry_capacity, n.expiries, sizeof(expiry));
    }
    if (status != LC_OK) return status;
    const uint8_t *at = image + sizeof header;
    /* A table of no rows was never allocated: memcpy must not see its NULL, even for 0 bytes. */
    if (n.accounts > 0) {
        memcpy(e->hot, at, n.accounts * sizeof(hot_account));
        memcpy(e->cold, at + n.accounts * sizeof(hot_account), n.accounts * sizeof(cold_account));
        memcpy(e->owner_x, at + n.accounts * (sizeof(hot_account) + sizeof(cold_account)),
               n.accounts * 32);
    }
    at += n.accounts * (sizeof(hot_account) + sizeof(cold_account) + 32);
    if (n.transfers > 0) memcpy(e->transfers, at, n.transfers * sizeof(stored_transfer));
    at += n.transfers * sizeof(stored_transfer);
    if (n.failed > 0) memcpy(e->failed_ids, at, n.failed * sizeof(lc_u128));
    at += n.failed * sizeof(lc_u128);
    for (size_t i = 0; i < n.expiries; i++) {
        memcpy(&e->expiries[i].expires_at_ns, at, 8);
        memcpy(&e->expiries[i].index, at + 8, 4);
        at += IMAGE_EXPIRY_SIZE;
    }
    if (n.transfers > 0) memcpy(e->transfer_status, at, n.transfers);
    at += n.transfers;
    LC_ASSERT((size_t)(at - image) == size);
    /* What the engine's own asserts rely on, checked here rather than trusted. */
    size_t pending = 0;
    for (size_t i = 0; i < n.transfers; i++) {
        if (e->transfer_status[i] > TRANSFER_STATUS_EXPIRED) return LC_ERROR_ARGUMENT;
        pending += e->transfer_status[i] == TRANSFER_STATUS_PENDING;
    }
    if (pending != n.pending) return LC_ERROR_ARGUMENT;
    for (size_t i = 0; i < n.expiries; i++) {
        const expiry *x = &e->expiries[i];
        if (x->index >= n.transfers) return LC_ERROR_ARGUMENT;
        const stored_transfer *t = &e->transfers[x->index];
        if (t->timeout_s == 0 || expires_at_ns(t) != x->expires_at_ns) return LC_ERROR_ARGUMENT;
        if (i > 0 && e->expiries[(i - 1) / 2].expires_at_ns > x->expires_at_ns) {
            return LC_ERROR_ARGUMENT; /* not a heap */
        }
    }
    e->account_count = n.accounts;
    e->transfer_count = n.transfers;
    e->failed_count = n.failed;
    e->expiry_count = n.expiries;
    e->pending_count = n.pending;
    e->last_timestamp_ns = n.last_timestamp_ns;
    status = rebuild_map(&e->account_map, n.accounts);
    if (status == LC_OK) status = rebuild_map(&e->transfer_map, n.transfers);
    if (status == LC_OK) status = rebuild_map(&e->failed_map, n.failed);
    if (status == LC_OK) status = check_pending_balances(e);
    return status;
}
