/*
 * A bump allocator for pure-C data that is built once and freed at once:
 * the loaded configuration, the catalogue built aside before publication.
 * Memory comes from malloc'd blocks; nothing is freed one by one,
 * airouter_arena_destroy() releases every block.  Not thread-safe: one
 * arena belongs to one builder.
 */

#ifndef AIROUTER_ARENA_H
#define AIROUTER_ARENA_H

#include <stddef.h>


/* guarded: airouter_arena.h and airouter_config.h both declare it */
#ifndef AIROUTER_ARENA_T_DECLARED
#define AIROUTER_ARENA_T_DECLARED
typedef struct airouter_arena_s  airouter_arena_t;
#endif


/*
 * block is the usual block size; 0 picks a default.  Returns NULL when
 * malloc fails.
 */
airouter_arena_t *airouter_arena_create(size_t block);

/* n bytes, 8-byte aligned and zeroed; NULL when malloc fails. */
void *airouter_arena_alloc(airouter_arena_t *a, size_t n);

/* Copies at most n bytes of s, stopping at a NUL, and terminates. */
char *airouter_arena_strndup(airouter_arena_t *a, const char *s, size_t n);
char *airouter_arena_strdup(airouter_arena_t *a, const char *s);

/* Bytes handed out so far, for reports and tests. */
size_t airouter_arena_used(const airouter_arena_t *a);

void airouter_arena_destroy(airouter_arena_t *a);

#endif /* AIROUTER_ARENA_H */
