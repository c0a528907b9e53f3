/* Open-addressing hash tables from a u128 id to a row index, for apply_engine.c (internal header),
 * and the memory helpers the engine's growing arrays and these tables share.
 *
 * The ids live in the rows themselves (an account or transfer array, id at offset 0), so a slot
 * holds only the row index and the high 32 bits of the id's hash (its tag): 8 bytes. An id's home
 * slot is the top log2(capacity) bits of its tag, so moving or deleting an entry never reads its
 * row, and doubling the table sends home h to 2h or 2h + 1: migration writes almost in order. The
 * remaining 32 - log2(capacity) bits of the tag filter out nearly every other id of the same home,
 * so a lookup that misses (the common case for a new transfer id) never touches a row.
 *
 * Growth is incremental: when an insertion would pass 70% of the capacity, a table twice as
 * large is allocated (lc_memory_resize: a large one is a fresh mapping, zero as the kernel hands
 * it out) and every later insertion moves LC_IDMAP_MIGRATE_SLOTS slots of the old table across,
 * so no single call rehashes everything. Lookups probe the new table, then the old one.
 * lc_idmap_reserve is called before a batch, so insertions inside a batch never allocate and
 * never fail.
 *
 * Removal exists only to undo an insertion of the same batch: backward-shift deletion in the
 * current table, a tombstone in the old one (nothing is ever inserted there again).
 */
#ifndef LC_IDMAP_H
#define LC_IDMAP_H

#include "records.h"

#define LC_IDMAP_NONE UINT32_MAX
/* The largest row index: index_plus_one keeps 0 for empty and UINT32_MAX - 1 for a tombstone. */
#define LC_IDMAP_INDEX_MAX (UINT32_MAX - 3)
#define LC_IDMAP_MIGRATE_SLOTS 32
#define LC_IDMAP_CAPACITY_MIN 1024
/* Homes come from the 32-bit tag, so a table has at most 2^32 slots. */
#define LC_IDMAP_CAPACITY_MAX ((size_t)1 << 32)

typedef struct lc_idmap_slot {
    uint32_t index_plus_one; /* 0: empty; LC_IDMAP_TOMBSTONE: removed (old table only) */
    uint32_t tag;            /* the high 32 bits of the hash */
} lc_idmap_slot;

typedef struct lc_idmap {
    lc_idmap_slot *slots;     /* current table */
    size_t mask;              /* capacity - 1; capacity is a power of two */
    unsigned shift;           /* 32 - log2(capacity): home = tag >> shift */
    size_t slot_count;        /* occupied slots in the current table */
    lc_idmap_slot *old_slots; /* non-NULL while migrating */
    size_t old_mask;
    unsigned old_shift;
    size_t old_cursor;        /* old slots below this have moved (or are ignored) */
    size_t count;             /* ids in the map, both tables together */
    size_t count_max;         /* ids the current table takes before it must double */
    const void *const *rows;  /* where the owner keeps its row array (it may move) */
    size_t row_size;          /* bytes per row; the id is at offset 0 */
    uint64_t seed0, seed1;
} lc_idmap;

/* Arrays of at least this many bytes are anonymous mappings of whole huge pages (see
 * lc_memory_resize); smaller ones come from malloc. */
#define LC_MEMORY_MAP_SIZE_MIN ((size_t)1 << 20)

/* Grow a zeroed array from old_size to new_size bytes (memory NULL and old_size 0: a new one);
 * the new bytes are zero. Large arrays are mappings aligned to huge pages that grow by moving
 * their pages rather than copying them, and never come from malloc: glibc serves blocks below
 * its adaptive mmap threshold (up to 32 MiB, raised by every large block freed) from the heap,
 * where growing one copies it. NULL when out of memory, the array then unchanged. */
void *lc_memory_resize(void *memory, size_t old_size, size_t new_size);
/* Free an array of lc_memory_resize, given its size. */
void lc_memory_free(void *memory, size_t size);

/* Fault in [memory, memory + size) now, in one call, where the kernel can (Linux 5.14's
 * MADV_POPULATE_WRITE): growing arrays and tables are then written without a page fault per
 * 4 KiB, which costs more than the rest of a transfer's work. A hint; errors are ignored. */
void lc_populate(void *memory, size_t size);

int lc_idmap_init(lc_idmap *map, const void *const *rows, size_t row_size, uint64_t seed0,
                  uint64_t seed1);
void lc_idmap_free(lc_idmap *map);

/* Make sure `more` further insertions need no allocation. LC_OK or LC_ERROR_MEMORY (the map is
 * unchanged as a mapping either way). */
int lc_idmap_reserve(lc_idmap *map, size_t more);

/* Insert an id known to be absent, after lc_idmap_reserve. */
void lc_idmap_insert(lc_idmap *map, uint64_t hash, uint32_t index);
/* The same, when lc_idmap_find_or_free has just missed this id and said where its probe of the
 * current table ended (`free_slot`). No removal may come between the two; insertions may (those
 * of migration do): they fill slots but never empty one, so every slot the probe passed is still
 * taken and the first free slot of the id's probe sequence is still at or after `free_slot`. The
 * probe is then not walked twice, which is half the cost of inserting a new transfer id. */
void lc_idmap_insert_at(lc_idmap *map, uint64_t hash, uint32_t index, size_t free_slot);
/* Remove an id known to be present (undo of an insertion). */
void lc_idmap_remove(lc_idmap *map, unsigned __int128 id, uint64_t hash);
size_t lc_idmap_memory_size(const lc_idmap *map);


static inline uint64_t lc_idmap_fold(uint64_t a, uint64_t b) {
    unsigned __int128 product = (unsigned __int128)a * b;
    return (uint64_t)product ^ (uint64_t)(product >> 64);
}

/* Keyed by the per-engine seeds, so that ids chosen to collide in one process do not collide in
 * another. Two multiplications; the tag (and so the home slot) is the high 32 bits. */
static inline uint64_t lc_idmap_hash(const lc_idmap *map, unsigned __int128 id) {
    uint64_t h = lc_idmap_fold((uint64_t)id ^ map->seed0, 0x9E3779B97F4A7C15ull);
    h ^= (uint64_t)(id >> 64);
    return lc_idmap_fold(h ^ map->seed1, 0xD6E8FEB86659FD93ull);
}

static inline size_t lc_idmap_home(uint32_t tag, unsigned shift) { return (size_t)(tag >> shift); }

static inline void lc_idmap_prefetch(const lc_idmap *map, uint64_t hash) {
    uint32_t tag = (uint32_t)(hash >> 32);
    __builtin_prefetch(&map->slots[lc_idmap_home(tag, map->shift)]);
    /* While migrating, a miss in the current table goes on to the old one. */
    if (map->old_slots != NULL) __builtin_prefetch(&map->old_slots[lc_idmap_home(tag, map->old_shift)]);
}

/* The row holding an id of this map. */
static inline unsigned __int128 lc_idmap_row_id(const lc_idmap *map, uint32_t index) {
    const uint8_t *row = (const uint8_t *)*map->rows + (size_t)index * map->row_size;
    return *(const lc_u128 *)row;
}

#define LC_IDMAP_TOMBSTONE (UINT32_MAX - 1)

/* The row index of id, or LC_IDMAP_NONE; on a miss *free_slot says where the probe of the
 * current table ended: the empty slot where the id would be inserted now (see
 * lc_idmap_insert_at). */
static inline uint32_t lc_idmap_find_or_free(const lc_idmap *map, unsigned __int128 id,
                                             uint64_t hash, size_t *free_slot) {
    uint32_t tag = (uint32_t)(hash >> 32);
    size_t i = lc_idmap_home(tag, map->shift);
    for (;;) {
        lc_idmap_slot slot = map->slots[i];
        if (slot.index_plus_one == 0) break;
        if (slot.tag == tag && lc_idmap_row_id(map, slot.index_plus_one - 1) == id) {
            return slot.index_plus_one - 1;
        }
        i = (i + 1) & map->mask;
    }
    *free_slot = i;
    if (LC_LIKELY(map->old_slots == NULL)) return LC_IDMAP_NONE;
    i = lc_idmap_home(tag, map->old_shift);
    for (;;) {
        lc_idmap_slot slot = map->old_slots[i];
        if (slot.index_plus_one == 0) return LC_IDMAP_NONE;
        /* A slot below the cursor has moved to the current table, where it was not found: it
         * was removed there since, so this stale copy does not count. */
        if (i >= map->old_cursor && slot.index_plus_one != LC_IDMAP_TOMBSTONE &&
            slot.tag == tag && lc_idmap_row_id(map, slot.index_plus_one - 1) == id) {
            return slot.index_plus_one - 1;
        }
        i = (i + 1) & map->old_mask;
    }
}

/* The row index of id, or LC_IDMAP_NONE. Inline: it runs a few times per transfer. */
static inline uint32_t lc_idmap_find(const lc_idmap *map, unsigned __int128 id, uint64_t hash) {
    size_t unused;
    return lc_idmap_find_or_free(map, id, hash, &unused);
}

/* The row of the first slot whose tag matches, without reading any row (LC_IDMAP_NONE if none):
 * a guess to prefetch; lc_idmap_find confirms it later. Current table only. */
static inline uint32_t lc_idmap_candidate(const lc_idmap *map, uint64_t hash) {
    uint32_t tag = (uint32_t)(hash >> 32);
    size_t i = lc_idmap_home(tag, map->shift);
    for (;;) {
        lc_idmap_slot slot = map->slots[i];
        if (slot.index_plus_one == 0) return LC_IDMAP_NONE;
        if (slot.tag == tag) return slot.index_plus_one - 1;
        i = (i + 1) & map->mask;
    }
}

/* lc_idmap_find, given what lc_idmap_candidate said of the same id and hash while the map was
 * as it is now (no insertion or removal since): a confirmed candidate costs one comparison with
 * its row, which the caller has prefetched; no candidate means no such id unless an old table
 * is still being moved (candidates look at the current table only). */
static inline uint32_t lc_idmap_confirm(const lc_idmap *map, unsigned __int128 id, uint64_t hash,
                                        uint32_t candidate) {
    if (candidate != LC_IDMAP_NONE) {
        if (LC_LIKELY(lc_idmap_row_id(map, candidate) == id)) return candidate;
    } else if (LC_LIKELY(map->old_slots == NULL)) {
        return LC_IDMAP_NONE;
    }
    /* A tag shared with another id (about one in 2^(32 - log2(capacity)) lookups), or a
     * migration in progress: walk the probe. */
    return lc_idmap_find(map, id, hash);
}

#endif
