/*
 * The query language of the "model" field, resolved against a catalogue.
 * Stages, first match wins (a stage matches when it finds any entry, even
 * if filters later remove all of them):
 *
 *   physical   the id as a channel names it, case-insensitive
 *   core       the core name of the query (see airouter_tags_core):
 *              "claude-3-haiku" finds "anthropic/claude-3-haiku-20240307"
 *   alias      a channel's model_aliases entry
 *   tag        "tag:a,b,!c" or "tags:...": every positive tag and no
 *              negative one (case-insensitive, items trimmed).  Only
 *              negatives ("tag:!free") means every entry without them.
 *   implicit   nothing above matched and the query is not a "tag:" query:
 *              its tokens (split as names are) are read as positive tags,
 *              "kimi-free" == "tag:kimi,free".
 *
 * Errors: an empty query, "tag:" with no tag, or more than
 * AIROUTER_QUERY_MAX_TAGS tags is AIROUTER_QUERY_BAD; a positive tag no
 * entry carries, or nothing matching, is AIROUTER_QUERY_NO_MATCH (404
 * model_not_found; airouter_query_similar() suggests names).  A negative
 * tag no entry carries excludes nothing.
 *
 * Resolution touches only the hash table and the posting lists it names;
 * the iterator intersects tag lists starting from the shortest, skipping
 * ahead by galloping search.  Nothing is allocated.
 *
 * Called by airouter_rank.c (airouter_route) and the explain handler.
 */

#ifndef AIROUTER_QUERY_H
#define AIROUTER_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "airouter_catalog.h"


#define AIROUTER_QUERY_MAX_TAGS    16


typedef enum {
    AIROUTER_STAGE_NONE = 0,
    AIROUTER_STAGE_PHYSICAL,
    AIROUTER_STAGE_CORE,
    AIROUTER_STAGE_ALIAS,
    AIROUTER_STAGE_TAG,
    AIROUTER_STAGE_IMPLICIT_TAG
} airouter_stage_e;


typedef enum {
    AIROUTER_QUERY_OK = 0,
    AIROUTER_QUERY_NO_MATCH,
    AIROUTER_QUERY_BAD
} airouter_query_status_e;


typedef struct {
    const uint32_t           *list;         /* model indexes, ascending */
    uint32_t                  n;
} airouter_query_list_t;


/*
 * A query item that names no tag and is a fragment names do not give as
 * one ("3.1", "v2", "1": airouter_tags_meaningful): the entries whose
 * name has it as a token (neg: has not), as when it was a tag.
 */
typedef struct {
    const char               *data;
    uint32_t                  len;
    uint32_t                  neg;
} airouter_query_frag_t;


typedef struct {
    airouter_query_status_e   status;
    airouter_stage_e          stage;

    /* physical, core, alias: the key's list is pos[0], npos == 1 */
    airouter_query_list_t     pos[AIROUTER_QUERY_MAX_TAGS];
    size_t                    npos;
    airouter_query_list_t     neg[AIROUTER_QUERY_MAX_TAGS];
    size_t                    nneg;
    uint32_t                  nmodels;      /* the universe for npos 0 */
    airouter_query_frag_t     frags[AIROUTER_QUERY_MAX_TAGS];
    size_t                    nfrags;
    const airouter_catalog_t *cat;          /* the names, for frags */

    /* the first positive tag that is not in the catalogue, if any */
    const char               *unknown;
    size_t                    unknown_len;
    const char               *why;          /* for AIROUTER_QUERY_BAD */
} airouter_query_t;


typedef struct {
    const airouter_query_t   *q;
    uint32_t                  next;         /* position in the driver */
    uint32_t                  cur[2 * AIROUTER_QUERY_MAX_TAGS];
} airouter_query_iter_t;


/* A suggestion for a 404: a core name or a tag, inside the blob. */
typedef struct {
    const char               *name;
    int                       tag;          /* a tag, not a model name */
} airouter_similar_t;


airouter_query_status_e airouter_query_resolve(const airouter_catalog_t *cat,
    const char *model, size_t len, airouter_query_t *q);

/* Walks the entries a resolved query matches, ascending. */
void airouter_query_iter_init(airouter_query_iter_t *it,
    const airouter_query_t *q);
int airouter_query_next(airouter_query_iter_t *it, uint32_t *model);

/* Upper bound of the matches (the driving list's length). */
uint32_t airouter_query_estimate(const airouter_query_t *q);

/*
 * Up to max close matches for a query that matched nothing: core names
 * by edit distance and shared prefix, or for tag queries the tags close
 * to an unknown tag, else the core names of entries sharing the most
 * positive tags.  Returns how many were written.  Not for the hot path:
 * it may scan every key.
 */
size_t airouter_query_similar(const airouter_catalog_t *cat,
    const char *model, size_t len, airouter_similar_t *out, size_t max);

const char *airouter_query_stage_name(airouter_stage_e stage);

#endif /* AIROUTER_QUERY_H */
