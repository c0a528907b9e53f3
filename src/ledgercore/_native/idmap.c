/* Open-addressing hash tables keyed by u128 ids, growing incrementally, and the memory of the
 * engine's large arrays. See idmap.h. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* mremap */
#endif
#include "idmap.h"

#include <string.h>
#include <sys/mman.h>

LC_STATIC_ASSERT(sizeof(lc_idmap_slot) == 8);
LC_STATIC_ASSERT(LC_IDMAP_INDEX_MAX + 1 < LC_IDMAP_TOMBSTONE);
LC_STATIC_ASSERT((LC_IDMAP_CAPACITY_MIN & (LC_IDMAP_CAPACITY_MIN - 1)) == 0);

static inline uint32_t slot_tag(uint64_t hash) { return (uint32_t)(hash >> 32); }

static unsigned shift_for(size_t capacity) {
    unsigned bits = 0;
    while (((size_t)1 << bits) < capacity) bits++;
    LC_ASSERT(bits >= 1 && bits <= 32);
    return 32 - bits;
}

static inline unsigned __int128 row_id(const lc_idmap *map, uint32_t index) {
    return lc_idmap_row_id(map, index);
}

/* Ids a table of `capacity` slots takes before it doubles: 70%. Linear probing then averages
 * about 6 slots for a miss, 48 bytes, one or two cache lines; a fuller table's misses grow
 * quickly longer, an emptier one costs memory and cache for nothing. */
static size_t load_max(size_t capacity) { return capacity / 10 * 7; }

/* ---------------------------------------------------------------- memory */

#define HUGE_PAGE_SIZE ((size_t)2 << 20)

LC_STATIC_ASSERT((LC_MEMORY_MAP_SIZE_MIN & (LC_MEMORY_MAP_SIZE_MIN - 1)) == 0);

static int is_mapped(size_t size) { return size >= LC_MEMORY_MAP_SIZE_MIN; }

/* A mapped array's mapping: whole huge pages, so that every byte of it can be in one. */
static size_t mapping_size(size_t size) {
    return (size + HUGE_PAGE_SIZE - 1) & ~(HUGE_PAGE_SIZE - 1);
}

/* Where transparent huge pages are left to madvise (the usual default), ask for them. A random
 * probe of a 16 MiB table or a 10 MiB account array then finds its translation in the TLB, and
 * faulting in a transfer store costs one fault per 2 MiB instead of one per 4 KiB. A hint;
 * refused, it changes nothing. Where the kernel compacts memory to find a huge page, a fault
 * may wait for that: once per 2 MiB, in lc_populate before a batch. */
static void advise_huge(void *memory, size_t size) {
#if defined(MADV_HUGEPAGE)
    (void)madvise(memory, size, MADV_HUGEPAGE);
#else
    (void)memory;
    (void)size;
#endif
}

/* A zeroed anonymous mapping of `size` bytes (a multiple of HUGE_PAGE_SIZE) that starts on a
 * huge-page boundary, or NULL. */
static void *map_aligned(size_t size) {
    size_t padded = size + HUGE_PAGE_SIZE;
    uint8_t *raw = mmap(NULL, padded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    uint8_t *start = (uint8_t *)(((uintptr_t)raw + HUGE_PAGE_SIZE - 1) & ~(HUGE_PAGE_SIZE - 1));
    size_t head = (size_t)(start - raw);
    if (head > 0) munmap(raw, head);
    if (padded - head > size) munmap(start + size, padded - head - size);
    advise_huge(start, size);
    return start;
}

void *lc_memory_resize(void *memory, size_t old_size, size_t new_size) {
    LC_ASSERT(new_size >= old_size);
    LC_ASSERT(memory != NULL || old_size == 0);
    if (!is_mapped(new_size)) {
        uint8_t *grown = realloc(memory, new_size > 0 ? new_size : 1);
        if (grown == NULL) return NULL;
        memset(grown + old_size, 0, new_size - old_size);
        return grown;
    }
    if (!is_mapped(old_size)) {
        void *mapped = map_aligned(mapping_size(new_size));
        if (mapped == NULL) return NULL;
        if (old_size > 0) memcpy(mapped, memory, old_size);
        free(memory);
        return mapped;
    }
    size_t old_mapping = mapping_size(old_size);
    size_t new_mapping = mapping_size(new_size);
    if (new_mapping == old_mapping) return memory;
#if defined(__linux__)
    /* Grown where it is, or moved and grown in one call to a new aligned range: its pages are
     * moved, not copied, so an array of gigabytes doubles in microseconds, its huge pages stay
     * whole, and it stays one mapping. (Moved into the head of a larger mapping, it would be
     * two, which mremap cannot grow in place and older kernels cannot move at all.)
     * MREMAP_FIXED replaces the range map_aligned reserved; if the move fails, the kernel may
     * already have unmapped that range, so it is not unmapped again here, where another
     * thread's new mapping could now be. */
    if (mremap(memory, old_mapping, new_mapping, 0) != MAP_FAILED) {
        advise_huge(memory, new_mapping);
        return memory;
    }
    void *target = map_aligned(new_mapping);
    if (target == NULL) return NULL;
    void *moved = mremap(memory, old_mapping, new_mapping, MREMAP_MAYMOVE | MREMAP_FIXED, target);
    if (moved == MAP_FAILED) return NULL;
    LC_ASSERT(moved == target);
    return moved;
#else
    void *moved = map_aligned(new_mapping);
    if (moved == NULL) return NULL;
    memcpy(moved, memory, old_size);
    munmap(memory, old_mapping);
    return moved;
#endif
}

void lc_memory_free(void *memory, size_t size) {
    if (memory == NULL) return;
    if (is_mapped(size)) {
        munmap(memory, mapping_size(size));
    } else {
        free(memory);
    }
}

void lc_populate(void *memory, size_t size) {
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
    /* Whole pages covering the range: a page already faulted in is left as it is. */
    const uintptr_t page = 4096;
    uintptr_t start = (uintptr_t)memory & ~(page - 1);
    uintptr_t end = ((uintptr_t)memory + size + page - 1) & ~(page - 1);
    if (memory != NULL && end > start) (void)madvise((void *)start, end - start, MADV_POPULATE_WRITE);
#else
    (void)memory;
    (void)size;
#endif
}

int lc_idmap_init(lc_idmap *map, const void *const *rows, size_t row_size, uint64_t seed0,
                  uint64_t seed1) {
    LC_ASSERT(map != NULL);
    LC_ASSERT(rows != NULL);
    LC_ASSERT(row_size >= sizeof(lc_u128));
    memset(map, 0, sizeof(*map));
    map->slots = lc_memory_resize(NULL, 0, LC_IDMAP_CAPACITY_MIN * sizeof(lc_idmap_slot));
    if (map->slots == NULL) return LC_ERROR_MEMORY;
    map->mask = LC_IDMAP_CAPACITY_MIN - 1;
    map->shift = shift_for(LC_IDMAP_CAPACITY_MIN);
    map->count_max = load_max(LC_IDMAP_CAPACITY_MIN);
    map->rows = rows;
    map->row_size = row_size;
    map->seed0 = seed0;
    map->seed1 = seed1;
    return LC_OK;
}

void lc_idmap_free(lc_idmap *map) {
    lc_memory_free(map->slots, (map->mask + 1) * sizeof(lc_idmap_slot));
    if (map->old_slots != NULL) {
        lc_memory_free(map->old_slots, (map->old_mask + 1) * sizeof(lc_idmap_slot));
    }
    map->slots = NULL;
    map->old_slots = NULL;
}

#if defined(LC_DEBUG) && LC_DEBUG
static size_t first_free_from(const lc_idmap *map, size_t i) {
    while (map->slots[i].index_plus_one != 0) i = (i + 1) & map->mask;
    return i;
}

static size_t first_free(const lc_idmap *map, uint32_t tag) {
    return first_free_from(map, lc_idmap_home(tag, map->shift));
}
#endif

/* Put an entry into the current table at the first free slot of its probe sequence, from
 * `start`: its home, or a slot of that sequence that every earlier one is known to fill. */
static inline void place(lc_idmap *map, uint32_t tag, size_t start, uint32_t index_plus_one) {
    size_t i = start;
    LC_DEBUG_ASSERT(first_free(map, tag) == first_free_from(map, start));
    while (map->slots[i].index_plus_one != 0) i = (i + 1) & map->mask;
    map->slots[i].index_plus_one = index_plus_one;
    map->slots[i].tag = tag;
    map->slot_count += 1;
    LC_ASSERT(map->slot_count <= map->mask); /* never full: probing always ends */
}

/* Move up to `budget` old slots into the current table; free the old table when done. The
 * same placement as place(), with the table's fields in locals: a store through a slot pointer
 * could alias them, so the compiler would reload each on every slot. */
static void migrate(lc_idmap *map, size_t budget) {
    if (map->old_slots == NULL) return;
    const lc_idmap_slot *old_slots = map->old_slots;
    size_t old_capacity = map->old_mask + 1;
    size_t cursor = map->old_cursor;
    size_t end = old_capacity - cursor < budget ? old_capacity : cursor + budget;
    lc_idmap_slot *slots = map->slots;
    size_t mask = map->mask;
    unsigned shift = map->shift;
    size_t slot_count = map->slot_count;
    for (; cursor < end; cursor++) {
        lc_idmap_slot slot = old_slots[cursor];
        if (slot.index_plus_one == 0 || slot.index_plus_one == LC_IDMAP_TOMBSTONE) continue;
        LC_DEBUG_ASSERT(slot_tag(lc_idmap_hash(map, row_id(map, slot.index_plus_one - 1))) ==
                        slot.tag);
        size_t i = lc_idmap_home(slot.tag, shift);
        while (slots[i].index_plus_one != 0) i = (i + 1) & mask;
        slots[i] = slot;
        slot_count += 1;
        LC_ASSERT(slot_count <= mask); /* never full: probing always ends */
    }
    map->slot_count = slot_count;
    map->old_cursor = cursor;
    if (cursor == old_capacity) {
        lc_memory_free(map->old_slots, old_capacity * sizeof(lc_idmap_slot));
        map->old_slots = NULL;
        map->old_mask = 0;
        map->old_cursor = 0;
    }
}

int lc_idmap_reserve(lc_idmap *map, size_t more) {
    size_t need = map->count + more;
    size_t capacity = map->mask + 1;
    if (need <= load_max(capacity)) return LC_OK;
    /* A growth is due while the last one is still moving slots (only a batch far larger than
     * the table does that): finish it first, so that at most two tables exist. */
    migrate(map, SIZE_MAX);
    size_t new_capacity = capacity * 2;
    while (need > load_max(new_capacity)) new_capacity *= 2;
    if (new_capacity > LC_IDMAP_CAPACITY_MAX) return LC_ERROR_MEMORY;
    lc_idmap_slot *slots = lc_memory_resize(NULL, 0, new_capacity * sizeof(lc_idmap_slot));
    if (slots == NULL) return LC_ERROR_MEMORY;
    lc_populate(slots, new_capacity * sizeof(lc_idmap_slot));
    map->old_slots = map->slots;
    map->old_mask = map->mask;
    map->old_shift = map->shift;
    map->old_cursor = 0;
    map->slots = slots;
    map->mask = new_capacity - 1;
    map->shift = shift_for(new_capacity);
    map->count_max = load_max(new_capacity);
    map->slot_count = 0;
    /* Each insertion moves LC_IDMAP_MIGRATE_SLOTS old slots, so the old table (capacity/2 of
     * the new one) is gone after new_capacity/64 insertions, long before the next growth at
     * 70% of new_capacity; a growth reserved before that finishes the move above. Moving reads
     * the old table in order and writes the new one almost in order (homes double), so it
     * costs little next to one random probe. */
    return LC_OK;
}

void lc_idmap_insert(lc_idmap *map, uint64_t hash, uint32_t index) {
    LC_ASSERT(index <= LC_IDMAP_INDEX_MAX);
    LC_ASSERT(map->count < map->count_max);
    migrate(map, LC_IDMAP_MIGRATE_SLOTS);
    uint32_t tag = slot_tag(hash);
    place(map, tag, lc_idmap_home(tag, map->shift), index + 1);
    map->count += 1;
}

void lc_idmap_insert_at(lc_idmap *map, uint64_t hash, uint32_t index, size_t free_slot) {
    LC_ASSERT(index <= LC_IDMAP_INDEX_MAX);
    LC_ASSERT(map->count < map->count_max);
    LC_ASSERT(free_slot <= map->mask);
    uint32_t tag = slot_tag(hash);
    LC_DEBUG_ASSERT(lc_idmap_find(map, row_id(map, index), hash) == LC_IDMAP_NONE);
    migrate(map, LC_IDMAP_MIGRATE_SLOTS);
    place(map, tag, free_slot, index + 1);
    map->count += 1;
}

/* Backward-shift deletion: close the hole at `hole` by moving later entries of the same run
 * that may live there, so that no probe sequence is cut short. */
static void remove_current(lc_idmap *map, size_t hole) {
    size_t j = hole;
    for (;;) {
        j = (j + 1) & map->mask;
        lc_idmap_slot slot = map->slots[j];
        if (slot.index_plus_one == 0) break;
        size_t home = lc_idmap_home(slot.tag, map->shift);
        /* The entry at j may move to the hole unless its home lies cyclically in (hole, j]. */
        int stays = (hole <= j) ? (home > hole && home <= j) : (home > hole || home <= j);
        if (stays) continue;
        map->slots[hole] = slot;
        hole = j;
    }
    map->slots[hole].index_plus_one = 0;
    map->slots[hole].tag = 0;
    map->slot_count -= 1;
}

void lc_idmap_remove(lc_idmap *map, unsigned __int128 id, uint64_t hash) {
    uint32_t tag = slot_tag(hash);
    size_t i = lc_idmap_home(tag, map->shift);
    for (;;) {
        lc_idmap_slot slot = map->slots[i];
        if (slot.index_plus_one == 0) break;
        if (slot.tag == tag && row_id(map, slot.index_plus_one - 1) == id) {
            remove_current(map, i);
            map->count -= 1;
            return;
        }
        i = (i + 1) & map->mask;
    }
    LC_ASSERT(map->old_slots != NULL); /* the id is present: it must be in the old table */
    i = lc_idmap_home(tag, map->old_shift);
    for (;;) {
        lc_idmap_slot slot = map->old_slots[i];
        LC_ASSERT(slot.index_plus_one != 0);
        if (i >= map->old_cursor && slot.index_plus_one != LC_IDMAP_TOMBSTONE &&
            slot.tag == tag && row_id(map, slot.index_plus_one - 1) == id) {
            map->old_slots[i].index_plus_one = LC_IDMAP_TOMBSTONE;
            map->count -= 1;
            return;
        }
        i = (i + 1) & map->old_mask;
    }
}

size_t lc_idmap_memory_size(const lc_idmap *map) {
    size_t size = (map->mask + 1) * sizeof(lc_idmap_slot);
    if (map->old_slots != NULL) size += (map->old_mask + 1) * sizeof(lc_idmap_slot);
    return size;
}
