/* Threads that verify signature batches taken in the order they are queued (verify_queue.h). */
#include "verify_queue.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "common.h"
#include "ed25519.h"

struct lc_verify_queue {
    pthread_mutex_t lock;
    pthread_cond_t changed; /* a job was queued or finished, or the queue is stopping */
    lc_verify_job *head, *tail;
    int stopping;
    uint32_t lane_count;
    pthread_t lanes[LC_VERIFY_QUEUE_LANES_MAX];
};

static double monotonic_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

static void *queue_thread(void *arg) {
    lc_verify_queue *queue = arg;
    pthread_mutex_lock(&queue->lock);
    for (;;) {
        while (queue->head == NULL && !queue->stopping) {
            pthread_cond_wait(&queue->changed, &queue->lock);
        }
        lc_verify_job *job = queue->head;
        if (job == NULL) break; /* stopping, and nothing is left */
        queue->head = job->next;
        if (queue->head == NULL) queue->tail = NULL;
        pthread_mutex_unlock(&queue->lock);
        const double started = monotonic_seconds();
        const int status = lc_ed25519_verify_batch(job->public_keys, job->key_size, job->messages,
                                                   job->message_sizes, job->signatures, job->count,
                                                   job->thread_count, job->valid);
        const double seconds = monotonic_seconds() - started;
        pthread_mutex_lock(&queue->lock);
        job->status = status;
        job->seconds = seconds;
        job->done = 1;
        pthread_cond_broadcast(&queue->changed);
    }
    pthread_mutex_unlock(&queue->lock);
    return NULL;
}

lc_verify_queue *lc_verify_queue_new(uint32_t lane_count) {
    LC_ASSERT(lane_count >= 1 && lane_count <= LC_VERIFY_QUEUE_LANES_MAX);
    lc_verify_queue *queue = calloc(1, sizeof *queue);
    if (queue == NULL) return NULL;
    pthread_mutex_init(&queue->lock, NULL);
    pthread_cond_init(&queue->changed, NULL);
    for (uint32_t lane = 0; lane < lane_count; lane++) {
        if (pthread_create(&queue->lanes[lane], NULL, queue_thread, queue) != 0) break;
        queue->lane_count++;
    }
    if (queue->lane_count == 0) {
        pthread_cond_destroy(&queue->changed);
        pthread_mutex_destroy(&queue->lock);
        free(queue);
        return NULL;
    }
    return queue;
}

void lc_verify_queue_push(lc_verify_queue *queue, lc_verify_job *job) {
    LC_ASSERT(queue != NULL && job != NULL);
    LC_ASSERT(job->thread_count >= 1);
    job->done = 0;
    job->status = LC_OK;
    job->seconds = 0.0;
    job->next = NULL;
    pthread_mutex_lock(&queue->lock);
    LC_ASSERT(!queue->stopping);
    if (queue->tail == NULL) {
        queue->head = job;
    } else {
        queue->tail->next = job;
    }
    queue->tail = job;
    pthread_cond_broadcast(&queue->changed);
    pthread_mutex_unlock(&queue->lock);
}

void lc_verify_queue_wait(lc_verify_queue *queue, lc_verify_job *job) {
    LC_ASSERT(queue != NULL && job != NULL);
    pthread_mutex_lock(&queue->lock);
    while (!job->done) pthread_cond_wait(&queue->changed, &queue->lock);
    pthread_mutex_unlock(&queue->lock);
}

void lc_verify_queue_free(lc_verify_queue *queue) {
    if (queue == NULL) return;
    pthread_mutex_lock(&queue->lock);
    queue->stopping = 1;
    pthread_cond_broadcast(&queue->changed);
    pthread_mutex_unlock(&queue->lock);
    for (uint32_t lane = 0; lane < queue->lane_count; lane++) pthread_join(queue->lanes[lane], NULL);
    pthread_cond_destroy(&queue->changed);
    pthread_mutex_destroy(&queue->lock);
    free(queue);
}
