/* The records of ledgercore as C structs, mirroring ACCOUNT_DTYPE and TRANSFER_DTYPE in
 * ledgercore/records.py byte for byte. Every field is little-endian and fixed-size; u128 values
 * are `unsigned __int128` here and two u64 lanes (low lane first) in numpy. numpy only promises
 * 8-byte alignment for structured rows, so lc_u128 is declared with 8-byte alignment: the compiler
 * then never emits an aligned 16-byte access on a row that is not 16-byte aligned.
 *
 * Sizes and offsets are asserted below; a test reads the same numbers from the native module and
 * compares them with the numpy dtypes, so the two descriptions cannot drift.
 */
#ifndef LC_RECORDS_H
#define LC_RECORDS_H

#include "common.h"

LC_STATIC_ASSERT(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__);

/* Bump when a record's layout or the signed bytes change; stored records carry it implicitly. */
#define LC_FORMAT_VERSION 1

typedef unsigned __int128 lc_u128 __attribute__((aligned(8)));

#define LC_U128_MAX (~(unsigned __int128)0)

/* An account: who owns it, which asset it holds, and its four balances. 160 bytes. */
typedef struct lc_account {
    lc_u128 id;              /* client-chosen, nonzero, not 2^128 - 1 */
    lc_u128 debits_pending;  /* reserved by pending transfers that debit this account */
    lc_u128 debits_posted;
    lc_u128 credits_pending; /* reserved by pending transfers that credit this account */
    lc_u128 credits_posted;
    lc_u128 user_data_128;   /* opaque to the ledger */
    uint8_t owner_key[32];   /* Ed25519 public key that signs this account's debits */
    uint64_t user_data_64;
    uint32_t user_data_32;
    uint32_t reserved;       /* must be zero */
    uint32_t ledger;         /* the asset or currency; transfers never cross ledgers */
    uint16_t code;           /* the account's type, chosen by the application */
    uint16_t flags;          /* LC_ACCOUNT_* */
    uint64_t timestamp;      /* nanoseconds, assigned by the engine, unique and increasing */
} lc_account;

/* A transfer: one amount from a debit account to a credit account on one ledger. 192 bytes.
 * Bytes [0, LC_TRANSFER_SIGNED_SIZE) are every field the client sets; the timestamp (assigned
 * by the engine) and the signature follow them, so the signed bytes are one contiguous run. */
typedef struct lc_transfer {
    lc_u128 id;                /* client-chosen, unique forever */
    lc_u128 debit_account_id;  /* its owner signs the transfer */
    lc_u128 credit_account_id;
    lc_u128 amount;            /* minor units */
    lc_u128 pending_id;        /* the pending transfer a post or void resolves */
    lc_u128 user_data_128;
    uint32_t timeout_s;        /* pending transfers only: seconds until the reservation lapses */
    uint32_t ledger;
    uint16_t code;
    uint16_t flags;            /* LC_TRANSFER_* */
    uint32_t user_data_32;
    uint64_t user_data_64;
    uint64_t timestamp;        /* nanoseconds, assigned by the engine; must be zero when sent */
    uint8_t signature[64];     /* Ed25519 over lc_transfer_signing_bytes */
} lc_transfer;

#define LC_ACCOUNT_SIZE 160
#define LC_TRANSFER_SIZE 192
#define LC_TRANSFER_SIGNED_SIZE 120

/* The signed bytes of a transfer: this prefix, the ledger's 16-byte id, then bytes
 * [0, LC_TRANSFER_SIGNED_SIZE) of the record, so that a signature holds on one ledger only. The
 * prefix ends with a NUL so that no other message of ours can share it. Blocks of a store's
 * format 1 headers were signed without a ledger id, after the _V1 prefix. */
#define LC_TRANSFER_SIGNING_PREFIX "ledgercore/transfer/v2"
#define LC_TRANSFER_SIGNING_PREFIX_V1 "ledgercore/transfer/v1"
#define LC_TRANSFER_SIGNING_PREFIX_SIZE 23
#define LC_LEDGER_ID_SIZE 16
#define LC_TRANSFER_SIGNING_SIZE \
    (LC_TRANSFER_SIGNING_PREFIX_SIZE + LC_LEDGER_ID_SIZE + LC_TRANSFER_SIGNED_SIZE)
#define LC_TRANSFER_SIGNING_SIZE_V1 (LC_TRANSFER_SIGNING_PREFIX_SIZE + LC_TRANSFER_SIGNED_SIZE)

LC_STATIC_ASSERT(sizeof(LC_TRANSFER_SIGNING_PREFIX) == LC_TRANSFER_SIGNING_PREFIX_SIZE);
LC_STATIC_ASSERT(sizeof(LC_TRANSFER_SIGNING_PREFIX_V1) == LC_TRANSFER_SIGNING_PREFIX_SIZE);

LC_STATIC_ASSERT(sizeof(lc_account) == LC_ACCOUNT_SIZE);
LC_STATIC_ASSERT(offsetof(lc_account, id) == 0);
LC_STATIC_ASSERT(offsetof(lc_account, debits_pending) == 16);
LC_STATIC_ASSERT(offsetof(lc_account, debits_posted) == 32);
LC_STATIC_ASSERT(offsetof(lc_account, credits_pending) == 48);
LC_STATIC_ASSERT(offsetof(lc_account, credits_posted) == 64);
LC_STATIC_ASSERT(offsetof(lc_account, user_data_128) == 80);
LC_STATIC_ASSERT(offsetof(lc_account, owner_key) == 96);
LC_STATIC_ASSERT(offsetof(lc_account, user_data_64) == 128);
LC_STATIC_ASSERT(offsetof(lc_account, user_data_32) == 136);
LC_STATIC_ASSERT(offsetof(lc_account, reserved) == 140);
LC_STATIC_ASSERT(offsetof(lc_account, ledger) == 144);
LC_STATIC_ASSERT(offsetof(lc_account, code) == 148);
LC_STATIC_ASSERT(offsetof(lc_account, flags) == 150);
LC_STATIC_ASSERT(offsetof(lc_account, timestamp) == 152);

LC_STATIC_ASSERT(sizeof(lc_transfer) == LC_TRANSFER_SIZE);
LC_STATIC_ASSERT(offsetof(lc_transfer, id) == 0);
LC_STATIC_ASSERT(offsetof(lc_transfer, debit_account_id) == 16);
LC_STATIC_ASSERT(offsetof(lc_transfer, credit_account_id) == 32);
LC_STATIC_ASSERT(offsetof(lc_transfer, amount) == 48);
LC_STATIC_ASSERT(offsetof(lc_transfer, pending_id) == 64);
LC_STATIC_ASSERT(offsetof(lc_transfer, user_data_128) == 80);
LC_STATIC_ASSERT(offsetof(lc_transfer, timeout_s) == 96);
LC_STATIC_ASSERT(offsetof(lc_transfer, ledger) == 100);
LC_STATIC_ASSERT(offsetof(lc_transfer, code) == 104);
LC_STATIC_ASSERT(offsetof(lc_transfer, flags) == 106);
LC_STATIC_ASSERT(offsetof(lc_transfer, user_data_32) == 108);
LC_STATIC_ASSERT(offsetof(lc_transfer, user_data_64) == 112);
LC_STATIC_ASSERT(offsetof(lc_transfer, timestamp) == LC_TRANSFER_SIGNED_SIZE);
LC_STATIC_ASSERT(offsetof(lc_transfer, signature) == 128);

/* Account flags. */
#define LC_ACCOUNT_LINKED (1u << 0)
#define LC_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS (1u << 1)
#define LC_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS (1u << 2)
#define LC_ACCOUNT_FROZEN (1u << 3)
#define LC_ACCOUNT_CLOSED (1u << 4)
#define LC_ACCOUNT_FLAGS_KNOWN ((1u << 5) - 1)

/* Transfer flags. */
#define LC_TRANSFER_LINKED (1u << 0)
#define LC_TRANSFER_PENDING (1u << 1)
#define LC_TRANSFER_POST_PENDING (1u << 2)
#define LC_TRANSFER_VOID_PENDING (1u << 3)
#define LC_TRANSFER_FLAGS_KNOWN ((1u << 4) - 1)

/* Writes count rows to out: row i is the prefix, ledger_id's 16 bytes, then the client-set
 * bytes of transfers[i] (LC_TRANSFER_SIGNING_SIZE a row); with ledger_id NULL, the _V1 prefix
 * and the client-set bytes (LC_TRANSFER_SIGNING_SIZE_V1 a row). */
void lc_transfer_signing_bytes(const lc_transfer *transfers, size_t count,
                               const uint8_t *ledger_id, uint8_t *out);

#endif
