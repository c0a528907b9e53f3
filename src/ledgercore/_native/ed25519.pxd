from libc.stdint cimport uint8_t, uint32_t


cdef extern from "ed25519.h" nogil:
    int LC_ED25519_PUBLIC_KEY_SIZE
    int LC_ED25519_SIGNATURE_SIZE
    int LC_ED25519_DECODED_KEY_SIZE
    int LC_ED25519_HINTED_KEY_SIZE
    int LC_ED25519_KEY_OK
    int LC_ED25519_KEY_NOT_CANONICAL
    int LC_ED25519_KEY_NOT_ON_CURVE
    int LC_ED25519_KEY_SMALL_ORDER
    int lc_ed25519_verify(const uint8_t *public_key, const uint8_t *message, size_t message_size,
                          const uint8_t *signature)
    int lc_ed25519_decode_public_keys(const uint8_t *public_keys, size_t count, uint8_t *decoded)
    int lc_ed25519_verify_batch(const uint8_t *public_keys, size_t key_size,
                                const uint8_t *const *messages, const size_t *message_sizes,
                                const uint8_t *signatures, size_t count, uint32_t thread_count,
                                uint8_t *valid)
    int lc_ed25519_team_check(const uint8_t *public_keys, size_t key_size,
                              const uint8_t *const *messages, const size_t *message_sizes,
                              const uint8_t *signatures, size_t count, uint32_t thread_count,
                              uint8_t *valid)
    int lc_ed25519_check_public_key(const uint8_t *public_key)
    int lc_ed25519_check_public_keys(const uint8_t *public_keys, size_t count, uint8_t *statuses,
                                     uint8_t *hinted)
    void lc_ed25519_sha512(uint8_t *digest, const uint8_t *data, size_t size)
    int lc_ed25519_split_scalar(const uint8_t *k, uint8_t *c0, uint8_t *c1, int *c1_negative)


cdef extern from "verify_queue.h" nogil:
    ctypedef struct lc_verify_job:
        const uint8_t *public_keys
        size_t key_size
        const uint8_t *const *messages
        const size_t *message_sizes
        const uint8_t *signatures
        size_t count
        uint32_t thread_count
        uint8_t *valid
        int status
        int done
        double seconds
    ctypedef struct lc_verify_queue:
        pass
    lc_verify_queue *lc_verify_queue_new(uint32_t lane_count)
    unsigned int LC_VERIFY_QUEUE_LANES_MAX
    void lc_verify_queue_push(lc_verify_queue *queue, lc_verify_job *job)
    void lc_verify_queue_wait(lc_verify_queue *queue, lc_verify_job *job)
    void lc_verify_queue_free(lc_verify_queue *queue)
