/* Threads (lanes) that verify signature batches in the order they were queued (verify_queue.c).
 *
 * Batches are queued by a caller that may hold a lock of its own (Python's GIL) and collected
 * later; a lane goes from one batch to the next without needing that lock, so a caller busy
 * elsewhere never leaves the cores idle between batches. With two lanes, two batches are
 * verified at once, each on all cores: the stretches where one batch's verification runs on
 * fewer threads than there are cores (its setup, its last units of work) are filled by the
 * other's. */
#ifndef LC_VERIFY_QUEUE_H
#define LC_VERIFY_QUEUE_H

#include <stddef.h>
#include <stdint.h>

/* One batch: the arguments of lc_ed25519_verify_batch, and what it gave. The caller owns the
 * job and every buffer it points at until lc_verify_queue_wait has returned for it. */
typedef struct lc_verify_job {
    const uint8_t *public_keys;
    size_t key_size;
    const uint8_t *const *messages;
    const size_t *message_sizes;
    const uint8_t *signatures;
    size_t count;
    uint32_t thread_count;
    uint8_t *valid;
    /* set by the queue */
    int status;     /* lc_ed25519_verify_batch's status */
    int done;
    double seconds; /* from the start of the verification to its end */
    struct lc_verify_job *next;
} lc_verify_job;

typedef struct lc_verify_queue lc_verify_queue;

#define LC_VERIFY_QUEUE_LANES_MAX 4

/* A new queue with lane_count threads (1 .. LC_VERIFY_QUEUE_LANES_MAX), each verifying the next
 * queued batch, or NULL (no memory, or no thread could start; fewer lanes than asked run when
 * only some threads could start). */
lc_verify_queue *lc_verify_queue_new(uint32_t lane_count);
/* Queues job behind the others (it must not be queued already). */
void lc_verify_queue_push(lc_verify_queue *queue, lc_verify_job *job);
/* Blocks until job is done; it may have been pushed to this queue only. */
void lc_verify_queue_wait(lc_verify_queue *queue, lc_verify_job *job);
/* Verifies what is queued, stops the thread and frees the queue. */
void lc_verify_queue_free(lc_verify_queue *queue);

#endif
