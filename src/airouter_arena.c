/*
 * The bump allocator declared in airouter_arena.h.  Blocks form a list;
 * allocations are carved from the head block.  A request larger than a
 * quarter of the block size gets a block of its own, linked behind the
 * head, so the free tail of the head block is not thrown away.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "airouter_arena.h"


#define AIROUTER_ARENA_ALIGN    8
#define AIROUTER_ARENA_DEFAULT  16384


typedef struct airouter_arena_block_s  airouter_arena_block_t;

struct airouter_arena_block_s {
    airouter_arena_block_t   *next;
    size_t                    size;     /* usable bytes after the header */
    size_t                    used;
};

/* The header is padded so that block data starts 8-byte aligned. */
#define AIROUTER_ARENA_HDR                                                    \
    ((sizeof(airouter_arena_block_t) + AIROUTER_ARENA_ALIGN - 1)              \
     & ~(size_t) (AIROUTER_ARENA_ALIGN - 1))

struct airouter_arena_s {
    airouter_arena_block_t   *head;
    size_t                    block;
    size_t                    total;
};


static airouter_arena_block_t *airouter_arena_block_new(size_t size);


airouter_arena_t *
airouter_arena_create(size_t block)
{
    airouter_arena_t  *a;

    a = calloc(1, sizeof(airouter_arena_t));
    if (a == NULL) {
        return NULL;
    }

    a->block = block ? block : AIROUTER_ARENA_DEFAULT;

    return a;
}


void *
airouter_arena_alloc(airouter_arena_t *a, size_t n)
{
    void                    *p;
    airouter_arena_block_t  *b;

    if (n == 0) {
        n = 1;
    }

    if (n > SIZE_MAX - AIROUTER_ARENA_HDR - AIROUTER_ARENA_ALIGN) {
        return NULL;
    }

    n = (n + AIROUTER_ARENA_ALIGN - 1) & ~(size_t) (AIROUTER_ARENA_ALIGN - 1);

    b = a->head;

    if (b != NULL && b->size - b->used >= n) {
        p = (char *) b + AIROUTER_ARENA_HDR + b->used;
        b->used += n;
        a->total += n;
        return p;
    }

    if (n > a->block / 4) {
        b = airouter_arena_block_new(n);
        if (b == NULL) {
            return NULL;
        }

        if (a->head == NULL) {
            a->head = b;

        } else {
            b->next = a->head->next;
            a->head->next = b;
        }

    } else {
        b = airouter_arena_block_new(a->block);
        if (b == NULL) {
            return NULL;
        }

        b->next = a->head;
        a->head = b;
    }

    b->used = n;
    a->total += n;

    return (char *) b + AIROUTER_ARENA_HDR;
}


char *
airouter_arena_strndup(airouter_arena_t *a, const char *s, size_t n)
{
    char    *p;
    size_t   len;

    /* a loop, not memchr: s may be shorter than n and end in a NUL */
    for (len = 0; len < n && s[len] != '\0'; len++) {
        /* void */
    }

    n = len;

    p = airouter_arena_alloc(a, n + 1);
    if (p == NULL) {
        return NULL;
    }

    memcpy(p, s, n);
    p[n] = '\0';

    return p;
}


char *
airouter_arena_strdup(airouter_arena_t *a, const char *s)
{
    return airouter_arena_strndup(a, s, strlen(s));
}


size_t
airouter_arena_used(const airouter_arena_t *a)
{
    return a->total;
}


void
airouter_arena_destroy(airouter_arena_t *a)
{
    airouter_arena_block_t  *b, *next;

    if (a == NULL) {
        return;
    }

    for (b = a->head; b != NULL; b = next) {
        next = b->next;
        free(b);
    }

    free(a);
}


static airouter_arena_block_t *
airouter_arena_block_new(size_t size)
{
    airouter_arena_block_t  *b;

    /* zeroed once here, so every allocation is zeroed */
    b = calloc(1, AIROUTER_ARENA_HDR + size);
    if (b == NULL) {
        return NULL;
    }

    b->size = size;

    return b;
}
