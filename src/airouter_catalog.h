/*
 * The catalogue: every (channel, model) pair the router can send to, with
 * what ranking needs to know about it, and the indexes queries use.
 *
 * One builder serves both sources: airouter_catalog_builder_add_config()
 * adds the configured models of every channel, discovery adds what a
 * provider's /models said with airouter_catalog_builder_add_model().
 * airouter_catalog_builder_finish() lays everything out as ONE contiguous
 * blob in which every reference is an offset from the blob's start, so the
 * blob can be memcpy'd into a shared zone mapped at any address, or written
 * to and read back from a cache file.  airouter_catalog_open() checks a
 * blob (checksum, then every offset and index against the bounds) and
 * returns it as the read view: the view IS the blob, nothing is allocated.
 *
 * Called by the nginx side (config time, discovery), by airouter_query.c
 * and airouter_rank.c (per request), and by the /v1/models handlers
 * through the accessors at the end.
 *
 * Blob layout (all offsets in bytes from the blob's start, every section
 * 8-byte aligned; the blob must be 8-byte aligned in memory):
 *
 *   airouter_catalog_t           header
 *   airouter_catalog_channel_t   [nchannels]  by config position
 *   airouter_catalog_model_t     [nmodels]    by channel, then id
 *   airouter_catalog_tag_t       [ntags]      sorted by name
 *   uint32_t                     [ntagrefs]   each model's tag indexes,
 *                                             ascending
 *   uint32_t                     [npostings]  model indexes, ascending
 *                                             within each list: tag
 *                                             postings and key lists
 *   airouter_catalog_slot_t      [nslots]     open-addressing hash table
 *                                             (linear probing, power of
 *                                             two, at most half full)
 *   char                         [strings_len] NUL-terminated strings
 *
 * Free and local, strictly: an entry is free when its known price is zero
 * (prompt and completion, and no unit price of its kind above zero), its
 * id has the ":free" variant, the source
 * says so, or its channel is declared free (channel or provider "free",
 * or a channel tag "free").  It is local when its channel is declared
 * local (channel or provider "local", or a channel tag "local").  The tags
 * "free" and "local" are set by these rules only: a "free" or "local"
 * token in a name or a channel's tags is not a tag by itself.
 *
 * Field precedence when one (channel, id) is added twice: the first
 * source to state a field wins, so calling add_config first makes the
 * user's configuration authoritative over discovery.  One exception: the
 * features (tools, vision...) of a channel's capabilities list are a
 * default for all its models, which a source stating them for one model
 * beats (caps_channel).
 */

#ifndef AIROUTER_CATALOG_H
#define AIROUTER_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "airouter_config.h"
#include "airouter_pricing.h"
#include "airouter_tags.h"


#define AIROUTER_CATALOG_MAGIC     0x43524941u     /* "AIRC" little-endian */
#define AIROUTER_CATALOG_VERSION   6u     /* 3: kinds speech, transcription,
                                             moderation; 4: params;
                                             5: unit prices; 6: features
                                             and unit prices by kind */


/* airouter_catalog_model_t.flags */
#define AIROUTER_MODEL_FREE        0x0001
#define AIROUTER_MODEL_LOCAL       0x0002
#define AIROUTER_MODEL_PRICED      0x0004  /* price_* are known */
#define AIROUTER_MODEL_CONFIGURED  0x0008  /* from configured_models */
#define AIROUTER_MODEL_DISCOVERED  0x0010  /* from add_model by discovery */
#define AIROUTER_MODEL_UNIT_PRICED 0x0020  /* a price_unit is known */

/* airouter_catalog_channel_t.flags */
#define AIROUTER_CHANNEL_ENABLED   0x0001
#define AIROUTER_CHANNEL_LOCAL     0x0002
#define AIROUTER_CHANNEL_FREE      0x0004

/* airouter_catalog_slot_t.kind: what a hash key names */
#define AIROUTER_KEY_EMPTY         0
#define AIROUTER_KEY_PHYSICAL      1       /* an id as a channel names it */
#define AIROUTER_KEY_CORE          2       /* a core name */
#define AIROUTER_KEY_ALIAS         3       /* a channel's model_aliases */
#define AIROUTER_KEY_TAG           4       /* value: a tag index */


/*
 * What a source knows about one model.  Zero-initialised means "nothing
 * known": every unknown field is filled from the name, the channel and the
 * configuration by the builder.  Strings are copied.
 */
typedef struct {
    const char               *id;           /* required, as the channel
                                               names it */
    int                       has_price;
    double                    price_prompt;     /* per token */
    double                    price_completion; /* per token */
    int                       has_cache_read;   /* price_cache_read set */
    double                    price_cache_read; /* a prompt token read
                                                   from the provider's
                                                   cache, per token */
    int                       has_cache_write;
    double                    price_cache_write; /* one written to it */
    int                       has_units;    /* units is filled */
    airouter_unit_price_t     units;        /* per request, image, second,
                                               character; -1: unknown */
    const char               *currency;     /* NULL: "USD"; of all the
                                               prices above */
    uint64_t                  context;      /* tokens, 0: unknown */
    uint64_t                  max_output;   /* tokens, 0: unknown */
    double                    params_total; /* millions, 0: unknown */
    double                    params_active;
    uint32_t                  caps;         /* AIROUTER_CAP_* */
    uint32_t                  caps_known;   /* the bits of caps stated */
    int                       caps_channel; /* caps are a channel's
                                               capabilities list: a
                                               default that a source
                                               stating a feature of this
                                               model beats */
    uint32_t                  params;       /* AIROUTER_PARAM_* bits */
    int                       params_known; /* the source lists the
                                               parameters it takes */
    int                       free;         /* the source says: no cost */
    const char *const        *tags;         /* extra tags, may be NULL */
    size_t                    ntags;
    uint32_t                  keys;         /* bit k: the channel's key k
                                               lists it (keys 0-31); 0:
                                               not said, every key */
} airouter_model_info_t;


typedef struct {
    uint32_t                  magic;
    uint32_t                  version;
    uint64_t                  size;         /* the whole blob */
    uint64_t                  checksum;     /* of the blob, this field 0 */
    uint64_t                  generation;
    uint64_t                  config_hash;  /* airouter_catalog_config_hash */

    uint32_t                  nchannels;
    uint32_t                  nmodels;
    uint32_t                  ntags;
    uint32_t                  ntagrefs;
    uint32_t                  npostings;
    uint32_t                  nslots;
    uint32_t                  nkeys;        /* used slots */
    uint32_t                  strings_len;

    uint32_t                  channels;     /* section offsets */
    uint32_t                  models;
    uint32_t                  tags;
    uint32_t                  tagrefs;
    uint32_t                  postings;
    uint32_t                  slots;
    uint32_t                  strings;
    uint32_t                  reserved;
} airouter_catalog_t;


typedef struct {
    uint32_t                  index;        /* position in cf->channels */
    int32_t                   priority;     /* lower is preferred */
    double                    weight;       /* higher is preferred */
    uint32_t                  flags;        /* AIROUTER_CHANNEL_* */
    uint32_t                  first_model;  /* its entries are contiguous */
    uint32_t                  nmodels;
    uint32_t                  reserved;
} airouter_catalog_channel_t;


typedef struct {
    uint32_t                  id;           /* string offset */
    uint32_t                  id_len;
    uint32_t                  core;         /* lowercased core name */
    uint32_t                  core_len;
    uint32_t                  currency;     /* string offset */
    uint32_t                  channel;      /* position in cf->channels */
    uint32_t                  tagrefs;      /* index into the tagrefs */
    uint32_t                  ntags;
    uint32_t                  flags;        /* AIROUTER_MODEL_* */
    uint32_t                  caps;         /* AIROUTER_CAP_* */
    uint32_t                  caps_known;   /* always includes the kind */
    uint32_t                  keys;         /* as airouter_model_info_t's:
                                               the union of every source */
    uint32_t                  params;       /* AIROUTER_PARAM_* bits the
                                               model takes */
    uint32_t                  params_known; /* 1: params is stated (the
                                               channel's configuration,
                                               else the first source that
                                               lists them), 0: unknown */
    double                    price_prompt;     /* per token, currency */
    double                    price_completion;
    double                    price_usd;    /* prompt + completion in USD,
                                               for a model priced per unit
                                               alone its unit prices'
                                               sum; -1: unknown */
    double                    price_cache_read;  /* per token, currency,
                                                    -1: unknown */
    double                    price_cache_write;
    airouter_unit_price_t     price_unit;   /* per unit, currency, each
                                               -1: unknown; only those of
                                               the entry's kind (and per
                                               request) */
    uint64_t                  context;      /* tokens, 0: unknown */
    uint64_t                  max_output;   /* tokens, 0: unknown */
    double                    params_total; /* millions, 0: unknown */
    double                    params_active;
    double                    param_score;  /* airouter_quality_* */
    double                    context_score;
    double                    quality;
} airouter_catalog_model_t;


typedef struct {
    uint32_t                  name;         /* string offset, lowercase */
    uint32_t                  name_len;
    uint32_t                  postings;     /* index into the postings */
    uint32_t                  count;
} airouter_catalog_tag_t;


typedef struct {
    uint32_t                  hash;         /* airouter_catalog_hash */
    uint32_t                  kind;         /* AIROUTER_KEY_* */
    uint32_t                  key;          /* string offset, lowercase */
    uint32_t                  key_len;
    uint32_t                  value;        /* postings index, tag index */
    uint32_t                  count;        /* models in the list */
} airouter_catalog_slot_t;


typedef struct airouter_catalog_builder_s  airouter_catalog_builder_t;


/* Builder.  All functions returning int return 0, or -1 (out of memory,
 * bad argument: see airouter_catalog_builder_error()). */

airouter_catalog_builder_t *airouter_catalog_builder_create(
    const airouter_config_t *cf);
void airouter_catalog_builder_set_generation(airouter_catalog_builder_t *b,
    uint64_t generation);

/* Every channel's configured_models and model_aliases. */
int airouter_catalog_builder_add_config(airouter_catalog_builder_t *b);

/* One model served by cf->channels[channel]. */
int airouter_catalog_builder_add_model(airouter_catalog_builder_t *b,
    uint32_t channel, const airouter_model_info_t *info);

/* What another source (a price file) knows of a configured model: fills
 * the fields the configuration left unknown, keeps the entry configured. */
int airouter_catalog_builder_add_configured(airouter_catalog_builder_t *b,
    uint32_t channel, const airouter_model_info_t *info);

/*
 * Adds what one price source states (per token, negative: not stated) to
 * info: everything when info has no price yet, else only the cache prices
 * info lacks, and only when the currencies agree (NULL is USD).
 */
void airouter_catalog_info_price(airouter_model_info_t *info, double prompt,
    double completion, double cache_read, double cache_write,
    const char *currency);

/*
 * Adds the unit prices one source states (-1: not stated) to info: each
 * one info lacks, when info has no price yet or the currencies agree.
 */
void airouter_catalog_info_units(airouter_model_info_t *info,
    const airouter_unit_price_t *units, const char *currency);

/* The same with the channel's cost_per_token and cost_per_unit. */
void airouter_catalog_channel_price(const airouter_channel_t *ch,
    airouter_model_info_t *info);

/* Marks cf->channels[channel] as not routable in this catalogue (its
 * key was refused), whatever the configuration says. */
int airouter_catalog_builder_disable_channel(airouter_catalog_builder_t *b,
    uint32_t channel);

/* A name clients may use for target on that channel (target is added
 * when the channel does not list it yet). */
int airouter_catalog_builder_add_alias(airouter_catalog_builder_t *b,
    uint32_t channel, const char *alias, const char *target);

/*
 * Lays out the blob: malloc'd, released with airouter_catalog_blob_free()
 * (which is free()).  Returns NULL on failure.  The builder is left as it
 * was; destroy it after.
 */
void *airouter_catalog_builder_finish(airouter_catalog_builder_t *b,
    size_t *len);

/*
 * The same finish in steps, for a caller that must not hold its thread
 * for the whole of it (discovery in a worker serving requests): start
 * (sorts the entries), then step until it returns 0 (each call derives at
 * most budget entries: names, tags, keys; 1: more left, -1: failed), then
 * end (the aliases and the layout: the blob, or NULL).  No other builder
 * call may come between start and end.
 */
int airouter_catalog_builder_finish_start(airouter_catalog_builder_t *b);
int airouter_catalog_builder_finish_step(airouter_catalog_builder_t *b,
    size_t budget);
void *airouter_catalog_builder_finish_end(airouter_catalog_builder_t *b,
    size_t *len);

const char *airouter_catalog_builder_error(airouter_catalog_builder_t *b);

/* Releases a blob airouter_catalog_builder_finish() returned. */
void airouter_catalog_blob_free(void *blob);
void airouter_catalog_builder_destroy(airouter_catalog_builder_t *b);


/*
 * The AIROUTER_CAP_* bits a capability list states ("text",
 * "function_calling", "vision", "code_generation", "embedding", ...), and
 * in *known those it settles: TOOLS and VISION when the list is not empty.
 */
uint32_t airouter_catalog_caps_from_list(const airouter_strlist_t *list,
    uint32_t *known);

int airouter_catalog_fits(const airouter_catalog_t *cat,
    const airouter_config_t *cf);


/*
 * Validates blob (alignment, magic, version, size, checksum, then every
 * offset, length, index and list order) and returns the read view, or NULL
 * when anything is off.  O(size): call it once per blob, keep the pointer.
 */
const airouter_catalog_t *airouter_catalog_open(const void *blob,
    size_t len);

/*
 * The O(1) part of airouter_catalog_open(): alignment, magic, version,
 * size, every section inside the blob, the string area terminated, a probe
 * table that ends; no checksum, no walk over the entries.  Only for a blob
 * that airouter_catalog_open() accepted before it was copied where nothing
 * untrusted writes (the shared zone: every publisher verifies first), so
 * that each worker's first request after a publication reads the new
 * catalogue at once instead of verifying all of it again.
 */
const airouter_catalog_t *airouter_catalog_view(const void *blob,
    size_t len);

/* The checksum airouter_catalog_open() expects in the header. */
uint64_t airouter_catalog_checksum(const void *blob, size_t len);


/* The slot of a key, or NULL.  key in any case. */
const airouter_catalog_slot_t *airouter_catalog_lookup(
    const airouter_catalog_t *cat, uint32_t kind, const char *key,
    size_t len);


/* Read access, for ranking and the /v1/models and /v1/tags handlers.
 * Indexes must be in range (< nmodels, < ntags, < nchannels). */

#define airouter_catalog_base(cat)  ((const char *) (cat))

#define airouter_catalog_nmodels(cat)    ((cat)->nmodels)
#define airouter_catalog_ntags(cat)      ((cat)->ntags)
#define airouter_catalog_nchannels(cat)  ((cat)->nchannels)

#define airouter_catalog_model(cat, i)                                        \
    ((const airouter_catalog_model_t *)                                       \
     (airouter_catalog_base(cat) + (cat)->models) + (i))

#define airouter_catalog_channel(cat, c)                                      \
    ((const airouter_catalog_channel_t *)                                     \
     (airouter_catalog_base(cat) + (cat)->channels) + (c))

#define airouter_catalog_tag(cat, t)                                          \
    ((const airouter_catalog_tag_t *)                                         \
     (airouter_catalog_base(cat) + (cat)->tags) + (t))

#define airouter_catalog_str(cat, off)  (airouter_catalog_base(cat) + (off))

/* A model's id, core name, currency: NUL-terminated, inside the blob. */
#define airouter_catalog_model_id(cat, m)                                     \
    airouter_catalog_str(cat, (m)->id)
#define airouter_catalog_model_core(cat, m)                                   \
    airouter_catalog_str(cat, (m)->core)
#define airouter_catalog_model_currency(cat, m)                               \
    airouter_catalog_str(cat, (m)->currency)

/* A model's tag indexes (ascending), m->ntags of them. */
#define airouter_catalog_model_tags(cat, m)                                   \
    ((const uint32_t *) (airouter_catalog_base(cat) + (cat)->tagrefs)         \
     + (m)->tagrefs)

#define airouter_catalog_tag_name(cat, t)                                     \
    airouter_catalog_str(cat, airouter_catalog_tag(cat, t)->name)

/* The model indexes of a tag or key, ascending. */
#define airouter_catalog_postings(cat, i)                                     \
    ((const uint32_t *) (airouter_catalog_base(cat) + (cat)->postings) + (i))

/* Index of a tag by name (any case), or -1. */
long airouter_catalog_find_tag(const airouter_catalog_t *cat,
    const char *name, size_t len);

/* Does model i carry tag t?  Binary search in its tag list. */
int airouter_catalog_model_has_tag(const airouter_catalog_t *cat,
    const airouter_catalog_model_t *m, uint32_t t);

#endif /* AIROUTER_CATALOG_H */
