/*
 * The catalogue declared in airouter_catalog.h: the builder that gathers
 * entries from the configuration and from discovery, the layout of the
 * relocatable blob, and its validation.
 *
 * The builder keeps raw facts per (channel, id); everything derived (core
 * name, tags, free/local, capabilities, sizes, scores, indexes) is worked
 * out once in finish(), so the order in which sources were added does not
 * matter beyond "first statement of a field wins".
 */

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "airouter_arena.h"
#include "airouter_catalog.h"
#include "airouter_quality.h"


#define AIROUTER_CATALOG_ALIGN(n)   (((n) + 7) & ~(uint64_t) 7)
#define AIROUTER_CATALOG_CNY_USD    0.14   /* when cost_control says none */


/*
 * The records are a file format (the cache file) and a shared-memory
 * layout: a size change must come with AIROUTER_CATALOG_VERSION.
 */
typedef char airouter_catalog_check_header[
    sizeof(airouter_catalog_t) == 104 ? 1 : -1];
typedef char airouter_catalog_check_channel[
    sizeof(airouter_catalog_channel_t) == 32 ? 1 : -1];
typedef char airouter_catalog_check_model[
    sizeof(airouter_catalog_model_t) == 184 ? 1 : -1];
typedef char airouter_catalog_check_tag[
    sizeof(airouter_catalog_tag_t) == 16 ? 1 : -1];
typedef char airouter_catalog_check_slot[
    sizeof(airouter_catalog_slot_t) == 24 ? 1 : -1];


/* A string -> uint32 map with open addressing, for building only. */
typedef struct {
    uint32_t                  hash;
    uint32_t                  kind;
    const char               *key;
    uint32_t                  len;
    uint32_t                  value;
} airouter_catalog_mapent_t;


typedef struct {
    airouter_catalog_mapent_t *ent;
    size_t                    cap;          /* power of two, 0: none yet */
    size_t                    n;
    int                       icase;
} airouter_catalog_map_t;


/* A price that may be unknown (-1), counted as 0 then. */
#define AIROUTER_CATALOG_KNOWN(d)  ((d) > 0 ? (d) : 0)


/* What the builder knows about one (channel, id). */
typedef struct {
    char                     *id;
    size_t                    id_len;
    uint32_t                  channel;
    uint32_t                  flags;        /* CONFIGURED, DISCOVERED */
    int                       has_price;
    double                    price_prompt;
    double                    price_completion;
    double                    price_cache_read;     /* -1: unknown */
    double                    price_cache_write;
    airouter_unit_price_t     unit;                 /* each -1: unknown */
    char                     *currency;
    uint64_t                  context;
    uint64_t                  max_output;
    double                    params_total;
    double                    params_active;
    uint32_t                  caps;
    uint32_t                  caps_known;
    uint32_t                  caps_channel; /* the features known from the
                                               channel's capabilities list
                                               alone: a source's word on
                                               the model beats them */
    uint32_t                  params;
    int                       params_known;
    int                       free;
    char                    **extra;        /* extra tags */
    size_t                    nextra;
    uint32_t                  keys;         /* key bits, ORed */
    uint32_t                  index;        /* final index, in finish() */
} airouter_catalog_bmodel_t;


typedef struct {
    uint32_t                  model;        /* builder index */
    char                     *alias;
    size_t                    len;
} airouter_catalog_balias_t;


struct airouter_catalog_builder_s {
    const airouter_config_t  *cf;
    airouter_arena_t         *arena;
    uint64_t                  generation;

    airouter_catalog_bmodel_t *models;
    size_t                    nmodels;
    size_t                    models_cap;
    airouter_catalog_map_t    ids;          /* kind: channel */

    airouter_catalog_balias_t *aliases;
    size_t                    naliases;
    size_t                    aliases_cap;

    unsigned char            *channel_off;  /* [nchannels], may be NULL */

    /* a finish in steps (finish_start/_step/_end), NULL when none runs */
    struct airouter_catalog_fin_s  *fin;
    size_t                    fin_next;     /* next model to derive */

    char                      error[256];
};


/* A growable array of uint32 / uint64. */
typedef struct {
    uint32_t                 *a;
    size_t                    n;
    size_t                    cap;
} airouter_catalog_u32v_t;

typedef struct {
    uint64_t                 *a;
    size_t                    n;
    size_t                    cap;
} airouter_catalog_u64v_t;


/* The string table being built: bytes plus a dedup map. */
typedef struct {
    char                     *buf;
    size_t                    len;
    size_t                    cap;
    airouter_catalog_map_t    map;
} airouter_catalog_strtab_t;


/* Scratch state of one finish (in one call, or in steps). */
typedef struct airouter_catalog_fin_s {
    airouter_catalog_builder_t *b;
    airouter_catalog_bmodel_t **order;
    airouter_catalog_model_t   *models;
    airouter_catalog_strtab_t   st;

    airouter_catalog_map_t      tagmap;
    char                      **tag_name;
    uint32_t                   *tag_len;
    size_t                      ntags;
    size_t                      tags_cap;
    airouter_catalog_u32v_t     refs;       /* builder tag ids per model */

    airouter_catalog_map_t      keymap;
    uint32_t                   *key_kind;
    char                      **key_str;
    uint32_t                   *key_len;
    size_t                      nkeys;
    size_t                      keys_cap;
    airouter_catalog_u64v_t     pairs;      /* key << 32 | model */
} airouter_catalog_fin_t;


static uint64_t airouter_catalog_config_hash(const airouter_config_t *cf);
static int airouter_catalog_add(airouter_catalog_builder_t *b,
    uint32_t channel, const airouter_model_info_t *info, uint32_t flags);
static char *airouter_catalog_lower(airouter_arena_t *a, const char *s,
    size_t len);
static int airouter_catalog_lc(int c);
static int airouter_catalog_streq(const char *a, size_t alen, const char *b,
    size_t blen, int icase);
static int airouter_catalog_is(const char *s, const char *word);
static void airouter_catalog_unit_merge(airouter_unit_price_t *to,
    const airouter_unit_price_t *from);
static int airouter_catalog_same_currency(const char *a, const char *b);
static const char *airouter_catalog_currency_name(const char *c);

static int airouter_catalog_map_grow(airouter_catalog_map_t *m);
static airouter_catalog_mapent_t *airouter_catalog_map_find(
    airouter_catalog_map_t *m, uint32_t kind, const char *key, size_t len);
static int airouter_catalog_map_put(airouter_catalog_map_t *m, uint32_t kind,
    const char *key, size_t len, uint32_t value);

static int airouter_catalog_u32_push(airouter_catalog_u32v_t *v, uint32_t x);
static int airouter_catalog_u64_push(airouter_catalog_u64v_t *v, uint64_t x);
static long airouter_catalog_str_add(airouter_catalog_strtab_t *st,
    const char *s, size_t len);

static int airouter_catalog_channel_declares(const airouter_channel_t *ch,
    const char *what);
static int airouter_catalog_cmp_model(const void *a, const void *b);
static int airouter_catalog_cmp_u64(const void *a, const void *b);
static int airouter_catalog_derive(airouter_catalog_fin_t *f, uint32_t i);
static int airouter_catalog_tag_add(airouter_catalog_fin_t *f,
    uint32_t first, const char *s, size_t len);
static int airouter_catalog_key_add(airouter_catalog_fin_t *f, uint32_t kind,
    char *s, size_t len, uint32_t model);
static void *airouter_catalog_layout(airouter_catalog_fin_t *f, size_t *len);
static void airouter_catalog_fin_free(airouter_catalog_fin_t *f);
static void airouter_catalog_fin_release(airouter_catalog_builder_t *b);
static void airouter_catalog_sort_names(uint32_t *ids, size_t n,
    char **names);
static uint32_t airouter_catalog_hash(uint32_t kind, const char *key,
    size_t len);
static uint32_t airouter_catalog_hash_exact(uint32_t kind, const char *key,
    size_t len);

static int airouter_catalog_check_str(const airouter_catalog_t *cat,
    uint32_t off, uint32_t len);
static int airouter_catalog_check_list(const airouter_catalog_t *cat,
    uint32_t first, uint32_t count);


airouter_catalog_builder_t *
airouter_catalog_builder_create(const airouter_config_t *cf)
{
    airouter_catalog_builder_t  *b;

    b = calloc(1, sizeof(airouter_catalog_builder_t));
    if (b == NULL) {
        return NULL;
    }

    b->arena = airouter_arena_create(0);
    if (b->arena == NULL) {
        free(b);
        return NULL;
    }

    b->cf = cf;
    b->ids.icase = 1;

    return b;
}


void
airouter_catalog_builder_set_generation(airouter_catalog_builder_t *b,
    uint64_t generation)
{
    b->generation = generation;
}


int
airouter_catalog_builder_add_config(airouter_catalog_builder_t *b)
{
    size_t                      c, i;
    uint32_t                    caps, known;
    airouter_model_info_t       info;
    const airouter_channel_t   *ch;

    if (b->cf == NULL) {
        snprintf(b->error, sizeof(b->error), "no configuration");
        return -1;
    }

    for (c = 0; c < b->cf->nchannels; c++) {
        ch = &b->cf->channels[c];
        caps = airouter_catalog_caps_from_list(&ch->capabilities, &known);

        for (i = 0; i < ch->configured_models.n; i++) {
            memset(&info, 0, sizeof(info));
            info.id = ch->configured_models.items[i];
            info.caps = caps;
            info.caps_known = known;
            info.caps_channel = 1;

            airouter_catalog_channel_price(ch, &info);

            if (airouter_catalog_add(b, (uint32_t) c, &info,
                                     AIROUTER_MODEL_CONFIGURED)
                != 0)
            {
                return -1;
            }
        }

        for (i = 0; i < ch->naliases; i++) {
            if (airouter_catalog_builder_add_alias(b, (uint32_t) c,
                                                   ch->aliases[i].alias,
                                                   ch->aliases[i].target)
                != 0)
            {
                return -1;
            }
        }
    }

    return 0;
}


int
airouter_catalog_builder_add_model(airouter_catalog_builder_t *b,
    uint32_t channel, const airouter_model_info_t *info)
{
    return airouter_catalog_add(b, channel, info, AIROUTER_MODEL_DISCOVERED);
}


int
airouter_catalog_builder_add_configured(airouter_catalog_builder_t *b,
    uint32_t channel, const airouter_model_info_t *info)
{
    return airouter_catalog_add(b, channel, info, AIROUTER_MODEL_CONFIGURED);
}


int
airouter_catalog_builder_disable_channel(airouter_catalog_builder_t *b,
    uint32_t channel)
{
    if (b->cf == NULL || channel >= b->cf->nchannels) {
        snprintf(b->error, sizeof(b->error), "no channel %u", channel);
        return -1;
    }

    if (b->channel_off == NULL) {
        b->channel_off = calloc(b->cf->nchannels, 1);
        if (b->channel_off == NULL) {
            snprintf(b->error, sizeof(b->error), "out of memory");
            return -1;
        }
    }

    b->channel_off[channel] = 1;

    return 0;
}


int
airouter_catalog_builder_add_alias(airouter_catalog_builder_t *b,
    uint32_t channel, const char *alias, const char *target)
{
    size_t                       n;
    airouter_model_info_t        info;
    airouter_catalog_balias_t   *a;
    airouter_catalog_mapent_t   *e;
    const airouter_channel_t    *ch;

    if (alias == NULL || alias[0] == '\0' || target == NULL
        || target[0] == '\0')
    {
        snprintf(b->error, sizeof(b->error), "empty model alias");
        return -1;
    }

    e = airouter_catalog_map_find(&b->ids, channel, target, strlen(target));

    if (e == NULL) {
        /* an alias to a model the channel does not list: it serves it */
        memset(&info, 0, sizeof(info));
        info.id = target;

        if (b->cf != NULL && channel < b->cf->nchannels) {
            ch = &b->cf->channels[channel];
            info.caps = airouter_catalog_caps_from_list(&ch->capabilities,
                                                        &info.caps_known);
            info.caps_channel = 1;
            airouter_catalog_channel_price(ch, &info);
        }

        if (airouter_catalog_add(b, channel, &info, AIROUTER_MODEL_CONFIGURED)
            != 0)
        {
            return -1;
        }

        e = airouter_catalog_map_find(&b->ids, channel, target,
                                      strlen(target));
        if (e == NULL) {
            return -1;
        }
    }

    if (b->naliases == b->aliases_cap) {
        n = b->aliases_cap ? b->aliases_cap * 2 : 16;
        a = realloc(b->aliases, n * sizeof(airouter_catalog_balias_t));
        if (a == NULL) {
            snprintf(b->error, sizeof(b->error), "out of memory");
            return -1;
        }

        b->aliases = a;
        b->aliases_cap = n;
    }

    a = &b->aliases[b->naliases];
    a->len = strlen(alias);
    a->alias = airouter_catalog_lower(b->arena, alias, a->len);
    a->model = e->value;

    if (a->alias == NULL) {
        snprintf(b->error, sizeof(b->error), "out of memory");
        return -1;
    }

    b->naliases++;

    return 0;
}


void *
airouter_catalog_builder_finish(airouter_catalog_builder_t *b, size_t *len)
{
    if (airouter_catalog_builder_finish_start(b) != 0
        || airouter_catalog_builder_finish_step(b, (size_t) -1) < 0)
    {
        return NULL;
    }

    return airouter_catalog_builder_finish_end(b, len);
}


int
airouter_catalog_builder_finish_start(airouter_catalog_builder_t *b)
{
    size_t                   i;
    airouter_catalog_fin_t  *f;

    if (b->fin != NULL) {
        snprintf(b->error, sizeof(b->error), "a finish is running");
        return -1;
    }

    f = calloc(1, sizeof(airouter_catalog_fin_t));
    if (f == NULL) {
        goto nomem;
    }

    b->fin = f;
    b->fin_next = 0;

    f->b = b;
    f->st.map.icase = 0;
    f->tagmap.icase = 1;
    f->keymap.icase = 1;

    f->order = malloc((b->nmodels + 1) * sizeof(airouter_catalog_bmodel_t *));
    f->models = calloc(b->nmodels + 1, sizeof(airouter_catalog_model_t));

    if (f->order == NULL || f->models == NULL) {
        goto nomem;
    }

    for (i = 0; i < b->nmodels; i++) {
        f->order[i] = &b->models[i];
    }

    /* entry order = channel position, then id: the final tie-break */
    if (b->nmodels > 1) {
        qsort(f->order, b->nmodels, sizeof(airouter_catalog_bmodel_t *),
              airouter_catalog_cmp_model);
    }

    for (i = 0; i < b->nmodels; i++) {
        f->order[i]->index = (uint32_t) i;
    }

    /* the empty string at offset 0 */
    if (airouter_catalog_str_add(&f->st, "", 0) < 0) {
        goto nomem;
    }

    return 0;

nomem:

    snprintf(b->error, sizeof(b->error), "out of memory");
    airouter_catalog_fin_release(b);

    return -1;
}


int
airouter_catalog_builder_finish_step(airouter_catalog_builder_t *b,
    size_t budget)
{
    size_t  i, n;

    if (b->fin == NULL) {
        snprintf(b->error, sizeof(b->error), "no finish is running");
        return -1;
    }

    n = b->nmodels - b->fin_next;

    if (budget < n) {
        n = budget;
    }

    for (i = b->fin_next; i < b->fin_next + n; i++) {
        if (airouter_catalog_derive(b->fin, (uint32_t) i) != 0) {
            snprintf(b->error, sizeof(b->error), "out of memory");
            airouter_catalog_fin_release(b);
            return -1;
        }
    }

    b->fin_next += n;

    return b->fin_next < b->nmodels ? 1 : 0;
}


void *
airouter_catalog_builder_finish_end(airouter_catalog_builder_t *b,
    size_t *len)
{
    void                    *blob;
    size_t                   i;
    airouter_catalog_fin_t  *f;

    f = b->fin;

    if (f == NULL || b->fin_next < b->nmodels) {
        snprintf(b->error, sizeof(b->error), "the finish has steps left");
        return NULL;
    }

    for (i = 0; i < b->naliases; i++) {
        if (airouter_catalog_key_add(f, AIROUTER_KEY_ALIAS,
                                     b->aliases[i].alias, b->aliases[i].len,
                                     b->models[b->aliases[i].model].index)
            != 0)
        {
            goto nomem;
        }
    }

    blob = airouter_catalog_layout(f, len);
    if (blob == NULL) {
        goto nomem;
    }

    airouter_catalog_fin_release(b);

    return blob;

nomem:

    snprintf(b->error, sizeof(b->error), "out of memory");
    airouter_catalog_fin_release(b);

    return NULL;
}


const char *
airouter_catalog_builder_error(airouter_catalog_builder_t *b)
{
    return b->error;
}


void
airouter_catalog_blob_free(void *blob)
{
    free(blob);
}


void
airouter_catalog_builder_destroy(airouter_catalog_builder_t *b)
{
    size_t  i;

    if (b == NULL) {
        return;
    }

    airouter_catalog_fin_release(b);

    for (i = 0; i < b->nmodels; i++) {
        free(b->models[i].extra);
    }

    free(b->models);
    free(b->aliases);
    free(b->channel_off);
    free(b->ids.ent);
    airouter_arena_destroy(b->arena);
    free(b);
}


uint32_t
airouter_catalog_caps_from_list(const airouter_strlist_t *list,
    uint32_t *known)
{
    size_t       i;
    uint32_t     caps, kind;
    int          generic;
    const char  *s;

    caps = 0;
    kind = 0;
    generic = 0;
    *known = 0;

    if (list == NULL || list->n == 0) {
        return 0;
    }

    for (i = 0; i < list->n; i++) {
        s = list->items[i];

        if (s == NULL) {
            continue;
        }

        if (airouter_catalog_is(s, "function_calling")
            || airouter_catalog_is(s, "function-calling")
            || airouter_catalog_is(s, "tools")
            || airouter_catalog_is(s, "tool_calls"))
        {
            caps |= AIROUTER_CAP_TOOLS;

        } else if (airouter_catalog_is(s, "vision")
                   || airouter_catalog_is(s, "image_input")
                   || airouter_catalog_is(s, "multimodal"))
        {
            caps |= AIROUTER_CAP_VISION;

        } else if (airouter_catalog_is(s, "code_generation")
                   || airouter_catalog_is(s, "code"))
        {
            caps |= AIROUTER_CAP_CODE;

        } else if (airouter_catalog_is(s, "reasoning")
                   || airouter_catalog_is(s, "thinking"))
        {
            caps |= AIROUTER_CAP_REASONING;

        } else if (airouter_catalog_is(s, "text")
                   || airouter_catalog_is(s, "chat"))
        {
            generic = 1;

        } else {
            kind |= airouter_tags_kind(s, strlen(s));
        }
    }

    *known = AIROUTER_CAP_TOOLS | AIROUTER_CAP_VISION;

    /* a kind settles the kind only when it is the list's only kind */
    if (!generic && kind != 0 && (kind & (kind - 1)) == 0) {
        caps |= kind;
        *known |= AIROUTER_CAP_KIND;
    }

    return caps;
}


/* A hash of the channel ids in order: a catalogue fits a config when
 * they agree (see airouter_catalog_fits). */
static uint64_t
airouter_catalog_config_hash(const airouter_config_t *cf)
{
    size_t       i;
    uint64_t     h;
    const char  *p;

    h = 14695981039346656037ULL;

    if (cf == NULL) {
        return h;
    }

    for (i = 0; i < cf->nchannels; i++) {
        for (p = cf->channels[i].id; p != NULL && *p; p++) {
            h = (h ^ (unsigned char) *p) * 1099511628211ULL;
        }

        h = (h ^ 0xff) * 1099511628211ULL;
    }

    return h ^ cf->nchannels;
}


int
airouter_catalog_fits(const airouter_catalog_t *cat,
    const airouter_config_t *cf)
{
    return cat != NULL && cf != NULL && cat->nchannels == cf->nchannels
           && cat->config_hash == airouter_catalog_config_hash(cf);
}


uint64_t
airouter_catalog_checksum(const void *blob, size_t len)
{
    size_t          i, words;
    uint64_t        h, w;
    const uint8_t  *p;

    /* word-wise multiply-xor: a few GB/s, enough to vouch for a file */

    p = blob;
    h = 0x9e3779b97f4a7c15ULL ^ len;
    words = len / 8;

    for (i = 0; i < words; i++) {
        if (i * 8 == offsetof(airouter_catalog_t, checksum)) {
            w = 0;

        } else {
            memcpy(&w, p + i * 8, 8);
        }

        h ^= w;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 29;
    }

    for (i = words * 8; i < len; i++) {
        h ^= p[i];
        h *= 0xc4ceb9fe1a85ec53ULL;
    }

    h ^= h >> 33;

    return h;
}


/* The O(1) part of airouter_catalog_open()'s checks (airouter_catalog.h). */
const airouter_catalog_t *
airouter_catalog_view(const void *blob, size_t len)
{
    const airouter_catalog_t  *cat;

    if (blob == NULL || ((uintptr_t) blob & 7) != 0
        || len < sizeof(airouter_catalog_t))
    {
        return NULL;
    }

    cat = blob;

    if (cat->magic != AIROUTER_CATALOG_MAGIC
        || cat->version != AIROUTER_CATALOG_VERSION
        || cat->size != len)
    {
        return NULL;
    }

#define AIROUTER_CATALOG_SECTION(off, n, size)                                \
    ((off) % 8 != 0 || (off) < sizeof(airouter_catalog_t)                     \
     || (uint64_t) (off) + (uint64_t) (n) * (size) > len)

    if (AIROUTER_CATALOG_SECTION(cat->channels, cat->nchannels,
                                 sizeof(airouter_catalog_channel_t))
        || AIROUTER_CATALOG_SECTION(cat->models, cat->nmodels,
                                    sizeof(airouter_catalog_model_t))
        || AIROUTER_CATALOG_SECTION(cat->tags, cat->ntags,
                                    sizeof(airouter_catalog_tag_t))
        || AIROUTER_CATALOG_SECTION(cat->tagrefs, cat->ntagrefs,
                                    sizeof(uint32_t))
        || AIROUTER_CATALOG_SECTION(cat->postings, cat->npostings,
                                    sizeof(uint32_t))
        || AIROUTER_CATALOG_SECTION(cat->slots, cat->nslots,
                                    sizeof(airouter_catalog_slot_t))
        || AIROUTER_CATALOG_SECTION(cat->strings, cat->strings_len, 1))
    {
        return NULL;
    }

#undef AIROUTER_CATALOG_SECTION

    if (cat->strings_len == 0
        || airouter_catalog_str(cat, cat->strings)[cat->strings_len - 1]
           != '\0')
    {
        return NULL;
    }

    /* a power of two with at least one empty slot: probes terminate */
    if (cat->nslots == 0 || (cat->nslots & (cat->nslots - 1)) != 0
        || cat->nkeys >= cat->nslots)
    {
        return NULL;
    }

    return cat;
}


const airouter_catalog_t *
airouter_catalog_open(const void *blob, size_t len)
{
    uint32_t                          i, j, used;
    const uint32_t                   *refs;
    const airouter_catalog_t         *cat;
    const airouter_catalog_tag_t     *t;
    const airouter_catalog_slot_t    *sl;
    const airouter_catalog_model_t   *m;
    const airouter_catalog_channel_t *ch;

    cat = airouter_catalog_view(blob, len);

    if (cat == NULL || cat->checksum != airouter_catalog_checksum(blob, len)) {
        return NULL;
    }

    for (i = 0; i < cat->nchannels; i++) {
        ch = airouter_catalog_channel(cat, i);

        if (ch->index != i
            || (uint64_t) ch->first_model + ch->nmodels > cat->nmodels)
        {
            return NULL;
        }
    }

    refs = (const uint32_t *) (airouter_catalog_base(cat) + cat->tagrefs);

    for (i = 0; i < cat->nmodels; i++) {
        m = airouter_catalog_model(cat, i);

        if (m->channel >= cat->nchannels
            || !airouter_catalog_check_str(cat, m->id, m->id_len)
            || !airouter_catalog_check_str(cat, m->core, m->core_len)
            || m->currency < cat->strings
            || m->currency >= cat->strings + cat->strings_len
            || (uint64_t) m->tagrefs + m->ntags > cat->ntagrefs)
        {
            return NULL;
        }

        for (j = 0; j < m->ntags; j++) {
            if (refs[m->tagrefs + j] >= cat->ntags
                || (j > 0 && refs[m->tagrefs + j] <= refs[m->tagrefs + j - 1]))
            {
                return NULL;
            }
        }
    }

    for (i = 0; i < cat->ntags; i++) {
        t = airouter_catalog_tag(cat, i);

        if (!airouter_catalog_check_str(cat, t->name, t->name_len)
            || !airouter_catalog_check_list(cat, t->postings, t->count))
        {
            return NULL;
        }
    }

    sl = (const airouter_catalog_slot_t *)
         (airouter_catalog_base(cat) + cat->slots);
    used = 0;

    for (i = 0; i < cat->nslots; i++, sl++) {
        if (sl->kind == AIROUTER_KEY_EMPTY) {
            if (sl->hash != 0) {
                return NULL;
            }
            continue;
        }

        used++;

        if (sl->kind > AIROUTER_KEY_TAG
            || !airouter_catalog_check_str(cat, sl->key, sl->key_len)
            || sl->hash != airouter_catalog_hash(sl->kind,
                                                 airouter_catalog_str(cat,
                                                                      sl->key),
                                                 sl->key_len))
        {
            return NULL;
        }

        if (sl->kind == AIROUTER_KEY_TAG) {
            if (sl->value >= cat->ntags) {
                return NULL;
            }

        } else if (!airouter_catalog_check_list(cat, sl->value, sl->count)) {
            return NULL;
        }
    }

    if (used != cat->nkeys) {
        return NULL;
    }

    return cat;
}


/* Hashing of keys, ASCII case-insensitive, never 0. */
static uint32_t
airouter_catalog_hash(uint32_t kind, const char *key, size_t len)
{
    size_t    i;
    uint32_t  h;

    h = 2166136261u ^ (kind * 0x9e3779b9u);

    for (i = 0; i < len; i++) {
        h ^= (uint32_t) airouter_catalog_lc(key[i]);
        h *= 16777619u;
    }

    h ^= h >> 15;

    return h ? h : 1;
}


const airouter_catalog_slot_t *
airouter_catalog_lookup(const airouter_catalog_t *cat, uint32_t kind,
    const char *key, size_t len)
{
    uint32_t                        h, i, mask;
    const airouter_catalog_slot_t  *slots, *sl;

    if (cat == NULL || len == 0 || len > UINT32_MAX) {
        return NULL;
    }

    slots = (const airouter_catalog_slot_t *)
            (airouter_catalog_base(cat) + cat->slots);
    mask = cat->nslots - 1;
    h = airouter_catalog_hash(kind, key, len);

    for (i = h & mask; /* void */; i = (i + 1) & mask) {
        sl = &slots[i];

        if (sl->kind == AIROUTER_KEY_EMPTY) {
            return NULL;
        }

        if (sl->hash == h && sl->kind == kind && sl->key_len == len
            && airouter_catalog_streq(airouter_catalog_str(cat, sl->key),
                                      len, key, len, 1))
        {
            return sl;
        }
    }
}


long
airouter_catalog_find_tag(const airouter_catalog_t *cat, const char *name,
    size_t len)
{
    const airouter_catalog_slot_t  *sl;

    sl = airouter_catalog_lookup(cat, AIROUTER_KEY_TAG, name, len);

    return sl ? (long) sl->value : -1;
}


int
airouter_catalog_model_has_tag(const airouter_catalog_t *cat,
    const airouter_catalog_model_t *m, uint32_t t)
{
    uint32_t         lo, hi, mid;
    const uint32_t  *tags;

    tags = airouter_catalog_model_tags(cat, m);
    lo = 0;
    hi = m->ntags;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (tags[mid] == t) {
            return 1;
        }

        if (tags[mid] < t) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    return 0;
}


static int
airouter_catalog_add(airouter_catalog_builder_t *b, uint32_t channel,
    const airouter_model_info_t *info, uint32_t flags)
{
    int                          unit_known;
    size_t                       i, n, len;
    char                       **extra;
    uint32_t                     over, soft;
    airouter_catalog_bmodel_t   *m;
    airouter_catalog_mapent_t   *e;

    if (info == NULL || info->id == NULL || info->id[0] == '\0') {
        snprintf(b->error, sizeof(b->error), "model without an id");
        return -1;
    }

    if (b->cf == NULL || channel >= b->cf->nchannels) {
        snprintf(b->error, sizeof(b->error), "channel %u out of range",
                 (unsigned) channel);
        return -1;
    }

    len = strlen(info->id);

    if (len >= UINT32_MAX / 2) {
        snprintf(b->error, sizeof(b->error), "model id too long");
        return -1;
    }

    e = airouter_catalog_map_find(&b->ids, channel, info->id, len);

    if (e != NULL) {
        m = &b->models[e->value];

    } else {
        if (b->nmodels == b->models_cap) {
            n = b->models_cap ? b->models_cap * 2 : 64;
            m = realloc(b->models, n * sizeof(airouter_catalog_bmodel_t));
            if (m == NULL) {
                goto nomem;
            }

            b->models = m;
            b->models_cap = n;
        }

        m = &b->models[b->nmodels];
        memset(m, 0, sizeof(airouter_catalog_bmodel_t));
        m->price_cache_read = -1;
        m->price_cache_write = -1;
        airouter_unit_price_init(&m->unit);

        m->id = airouter_arena_strndup(b->arena, info->id, len);
        if (m->id == NULL) {
            goto nomem;
        }

        m->id_len = len;
        m->channel = channel;

        if (airouter_catalog_map_put(&b->ids, channel, m->id, len,
                                     (uint32_t) b->nmodels)
            != 0)
        {
            goto nomem;
        }

        b->nmodels++;
    }

    /* the first source to state a field wins; key lists add up */

    m->flags |= flags;
    m->keys |= info->keys;

    /* every price of an entry is in one currency: the first stated */
    unit_known = airouter_unit_price_known(&m->unit);

    if (!m->has_price && info->has_price && info->price_prompt >= 0
        && info->price_completion >= 0
        && (!unit_known
            || airouter_catalog_same_currency(m->currency, info->currency)))
    {
        m->has_price = 1;
        m->price_prompt = info->price_prompt;
        m->price_completion = info->price_completion;

        if (info->currency != NULL && info->currency[0] != '\0') {
            m->currency = airouter_arena_strdup(b->arena, info->currency);
            if (m->currency == NULL) {
                goto nomem;
            }
        }
    }

    /*
     * Cache prices may come from a later source than the base prices (a
     * price file knows them, the /models answer did not), but only in
     * the currency the base prices are in.
     */
    if (m->has_price
        && airouter_catalog_same_currency(m->currency, info->currency))
    {
        if (m->price_cache_read < 0 && info->has_cache_read
            && info->price_cache_read >= 0)
        {
            m->price_cache_read = info->price_cache_read;
        }

        if (m->price_cache_write < 0 && info->has_cache_write
            && info->price_cache_write >= 0)
        {
            m->price_cache_write = info->price_cache_write;
        }
    }

    if (info->has_units && airouter_unit_price_known(&info->units)
        && ((!m->has_price && !unit_known)
            || airouter_catalog_same_currency(m->currency, info->currency)))
    {
        if (!m->has_price && !unit_known
            && info->currency != NULL && info->currency[0] != '\0')
        {
            m->currency = airouter_arena_strdup(b->arena, info->currency);
            if (m->currency == NULL) {
                goto nomem;
            }
        }

        airouter_catalog_unit_merge(&m->unit, &info->units);
    }

    if (m->context == 0) {
        m->context = info->context;
    }

    if (m->max_output == 0) {
        m->max_output = info->max_output;
    }

    if (!(m->params_total > 0) && info->params_total > 0) {
        m->params_total = info->params_total;
        m->params_active = info->params_active > 0 ? info->params_active
                                                   : info->params_total;
    }

    /*
     * A channel's capabilities list is a default for all its models: what
     * a source says of one model (OpenRouter's supported_parameters
     * without "tools", input_modalities without "image") beats it.  A
     * kind the list states stays: the operator's word on the channel.
     */
    if (info->caps_channel) {
        over = 0;
        soft = info->caps_known & AIROUTER_CAP_FEATURES & ~m->caps_known;

    } else {
        over = info->caps_known & m->caps_channel;
        soft = 0;
        m->caps = (m->caps & ~over) | (info->caps & over);
        m->caps_channel &= ~over;
    }

    m->caps |= info->caps & info->caps_known & ~m->caps_known;
    m->caps_known |= info->caps_known;
    m->caps_channel |= soft;

    if (!m->params_known && info->params_known) {
        m->params = info->params;
        m->params_known = 1;
    }

    if (info->free) {
        m->free = 1;
    }

    if (info->ntags > 0 && info->tags != NULL) {
        extra = realloc(m->extra, (m->nextra + info->ntags) * sizeof(char *));
        if (extra == NULL) {
            goto nomem;
        }

        m->extra = extra;

        for (i = 0; i < info->ntags; i++) {
            if (info->tags[i] == NULL || info->tags[i][0] == '\0') {
                continue;
            }

            m->extra[m->nextra] = airouter_arena_strdup(b->arena,
                                                        info->tags[i]);
            if (m->extra[m->nextra] == NULL) {
                goto nomem;
            }

            m->nextra++;
        }
    }

    return 0;

nomem:

    snprintf(b->error, sizeof(b->error), "out of memory");

    return -1;
}


/*
 * Works out entry i (in final order): its record, tags and keys.  String
 * offsets in the record are relative to the string table until layout.
 */
static int
airouter_catalog_derive(airouter_catalog_fin_t *f, uint32_t i)
{
    int                         free_, local;
    long                        off;
    char                       *core, *alt;
    size_t                      s, e, k, n;
    double                      total, active, rate;
    uint32_t                    kind, feat, inferred, first;
    airouter_tag_t              tags[AIROUTER_TAGS_MAX], variant;
    airouter_unit_price_t       unit;
    airouter_arena_t           *a;
    airouter_catalog_model_t   *r;
    airouter_catalog_bmodel_t  *m;
    const airouter_channel_t   *ch;
    const airouter_config_t    *cf;
    const airouter_model_conf_t  *mc;

    m = f->order[i];
    r = &f->models[i];
    a = f->b->arena;
    cf = f->b->cf;
    ch = &cf->channels[m->channel];

    r->channel = m->channel;

    off = airouter_catalog_str_add(&f->st, m->id, m->id_len);
    if (off < 0) {
        return -1;
    }

    r->id = (uint32_t) off;
    r->id_len = (uint32_t) m->id_len;

    airouter_tags_core(m->id, m->id_len, &s, &e);

    core = airouter_catalog_lower(a, m->id + s, e - s);
    if (core == NULL) {
        return -1;
    }

    off = airouter_catalog_str_add(&f->st, core, e - s);
    if (off < 0) {
        return -1;
    }

    r->core = (uint32_t) off;
    r->core_len = (uint32_t) (e - s);

    off = airouter_catalog_str_add(&f->st, m->currency ? m->currency : "USD",
                                   m->currency ? strlen(m->currency) : 3);
    if (off < 0) {
        return -1;
    }

    r->currency = (uint32_t) off;

    /* capabilities: what a source stated, the name for the rest */

    inferred = airouter_tags_caps(m->id, m->id_len);

    if ((m->caps_known & AIROUTER_CAP_KIND) && (m->caps & AIROUTER_CAP_KIND)) {
        kind = m->caps & AIROUTER_CAP_KIND;

    } else {
        kind = inferred & AIROUTER_CAP_KIND;
    }

    feat = ((m->caps & m->caps_known) | (inferred & ~m->caps_known))
           & ~AIROUTER_CAP_KIND;

    r->caps_known = m->caps_known | AIROUTER_CAP_KIND;

    /*
     * the features (tools, vision, reasoning, code) are a chat model's: a
     * channel's "function_calling" or a "4o" in "gpt-4o-mini-tts" says
     * nothing of an image or voice model, which is known to have none
     */
    if (kind != AIROUTER_CAP_CHAT) {
        feat = 0;
        r->caps_known |= AIROUTER_CAP_FEATURES;
    }

    r->caps = kind | feat;

    /*
     * a unit price belongs to the kind whose units it counts (the price
     * per request to every kind): a channel's cost_per_unit.image prices
     * its image models, not its chat ones
     */
    unit = m->unit;

    if (kind != AIROUTER_CAP_IMAGE_GEN) {
        unit.image = -1;
    }

    if (kind != AIROUTER_CAP_TRANSCRIPTION) {
        unit.second = -1;
    }

    if (kind != AIROUTER_CAP_SPEECH) {
        unit.character = -1;
    }

    /* free and local, strictly (see airouter_catalog.h) */

    variant = airouter_tags_variant(m->id, m->id_len);

    free_ = (m->has_price && m->price_prompt == 0
             && m->price_completion == 0
             && !airouter_unit_price_positive(&unit))
            || airouter_tags_eq(variant.data, variant.len, "free", 4)
            || m->free
            || airouter_catalog_channel_declares(ch, "free");

    local = airouter_catalog_channel_declares(ch, "local");

    r->flags = (m->flags & (AIROUTER_MODEL_CONFIGURED
                            | AIROUTER_MODEL_DISCOVERED))
               | (free_ ? AIROUTER_MODEL_FREE : 0)
               | (local ? AIROUTER_MODEL_LOCAL : 0)
               | (m->has_price ? AIROUTER_MODEL_PRICED : 0)
               | (airouter_unit_price_known(&unit)
                  ? AIROUTER_MODEL_UNIT_PRICED : 0);

    rate = 1.0;

    if (m->currency != NULL
        && (airouter_catalog_is(m->currency, "CNY")
            || airouter_catalog_is(m->currency, "RMB")))
    {
        rate = cf->cost.cny_to_usd > 0 ? cf->cost.cny_to_usd
                                       : AIROUTER_CATALOG_CNY_USD;
    }

    r->price_unit = unit;

    if (m->has_price) {
        r->price_prompt = m->price_prompt;
        r->price_completion = m->price_completion;
        r->price_usd = (m->price_prompt + m->price_completion) * rate;
        r->price_cache_read = m->price_cache_read;
        r->price_cache_write = m->price_cache_write;

    } else {
        r->price_prompt = -1;
        r->price_completion = -1;
        r->price_usd = free_ ? 0 : -1;
        r->price_cache_read = -1;
        r->price_cache_write = -1;

        /* a voice or an image model priced per unit: ranked by those,
         * which only models of its own kind compete with */
        if (!free_ && airouter_unit_price_known(&unit)) {
            r->price_usd = (AIROUTER_CATALOG_KNOWN(unit.request)
                            + AIROUTER_CATALOG_KNOWN(unit.image)
                            + AIROUTER_CATALOG_KNOWN(unit.second)
                            + AIROUTER_CATALOG_KNOWN(unit.character))
                           * rate;
        }
    }

    r->keys = m->keys;

    /*
     * parameters: the operator's word for the model, then for the
     * channel, beats a source's
     */
    mc = airouter_config_model_conf(ch, m->id, m->id_len);

    if (mc != NULL && mc->params_set) {
        r->params = mc->params;
        r->params_known = 1;

    } else if (ch->supported_parameters.n > 0) {
        r->params = ch->params;
        r->params_known = 1;

    } else if (m->params_known) {
        r->params = m->params;
        r->params_known = 1;
    }

    /* sizes: the source's, else the name's */

    total = m->params_total;
    active = m->params_active;

    if (!(total > 0) && !airouter_tags_params(m->id, m->id_len, &total,
                                              &active))
    {
        total = 0;
        active = 0;
    }

    r->params_total = total;
    r->params_active = active;
    r->context = m->context ? m->context
                            : airouter_tags_context(m->id, m->id_len);
    r->max_output = m->max_output;

    r->param_score = airouter_quality_param_score(total);
    r->context_score = airouter_quality_context_score(r->context);
    r->quality = airouter_quality_score(m->id, m->id_len, total, active);

    /* tags: name tokens, channel tags, extra tags, then the two rules */

    first = (uint32_t) f->refs.n;
    r->tagrefs = first;

    n = airouter_tags_extract(m->id, m->id_len, tags, AIROUTER_TAGS_MAX);

    for (k = 0; k < n; k++) {
        /* "e", "1", "20240307", "3.1": no tag (airouter_tags.h) */
        if (airouter_tags_meaningful(tags[k].data, tags[k].len)
            && airouter_catalog_tag_add(f, first, tags[k].data, tags[k].len)
               != 0)
        {
            return -1;
        }
    }

    for (k = 0; k < ch->tags.n; k++) {
        if (ch->tags.items[k] != NULL
            && airouter_catalog_tag_add(f, first, ch->tags.items[k],
                                        strlen(ch->tags.items[k]))
               != 0)
        {
            return -1;
        }
    }

    for (k = 0; k < m->nextra; k++) {
        if (airouter_catalog_tag_add(f, first, m->extra[k],
                                     strlen(m->extra[k]))
            != 0)
        {
            return -1;
        }
    }

    if ((free_ && airouter_catalog_tag_add(f, first, "\001free", 5) != 0)
        || (local && airouter_catalog_tag_add(f, first, "\001local", 6) != 0))
    {
        return -1;
    }

    r->ntags = (uint32_t) (f->refs.n - first);

    /* keys: physical id, core name, and "qwen3-8b" for "qwen3:8b" */

    if (airouter_catalog_key_add(f, AIROUTER_KEY_PHYSICAL,
                                 airouter_catalog_lower(a, m->id, m->id_len),
                                 m->id_len, i)
        != 0
        || airouter_catalog_key_add(f, AIROUTER_KEY_CORE, core, e - s, i) != 0)
    {
        return -1;
    }

    if (variant.len > 0
        && variant.data + variant.len == m->id + m->id_len
        && airouter_tags_params(variant.data, variant.len, &total, &active)
        && airouter_tags_extract(variant.data, variant.len, tags, 2) == 1)
    {
        n = (e - s) + 1 + variant.len;
        alt = airouter_arena_alloc(a, n + 1);
        if (alt == NULL) {
            return -1;
        }

        memcpy(alt, core, e - s);
        alt[e - s] = '-';

        for (k = 0; k < variant.len; k++) {
            alt[e - s + 1 + k] = (char) airouter_catalog_lc(variant.data[k]);
        }

        if (airouter_catalog_key_add(f, AIROUTER_KEY_CORE, alt, n, i) != 0) {
            return -1;
        }
    }

    return 0;
}


/*
 * Adds a tag to the entry whose tags start at refs[first].  "free" and
 * "local" from names and channel tags are dropped; the rules add them
 * with a leading \001 that marks them as earned.
 */
static int
airouter_catalog_tag_add(airouter_catalog_fin_t *f, uint32_t first,
    const char *s, size_t len)
{
    size_t                      k, n;
    char                       *name, **names;
    uint32_t                    id, *lens;
    airouter_catalog_mapent_t  *e;

    if (len > 0 && s[0] == '\001') {
        s++;
        len--;

    } else if (airouter_tags_eq(s, len, "free", 4)
               || airouter_tags_eq(s, len, "local", 5))
    {
        return 0;
    }

    if (len == 0 || len >= UINT32_MAX / 2) {
        return 0;
    }

    e = airouter_catalog_map_find(&f->tagmap, 0, s, len);

    if (e != NULL) {
        id = e->value;

    } else {
        if (f->ntags == f->tags_cap) {
            n = f->tags_cap ? f->tags_cap * 2 : 256;

            names = realloc(f->tag_name, n * sizeof(char *));
            if (names == NULL) {
                return -1;
            }
            f->tag_name = names;

            lens = realloc(f->tag_len, n * sizeof(uint32_t));
            if (lens == NULL) {
                return -1;
            }
            f->tag_len = lens;

            f->tags_cap = n;
        }

        name = airouter_catalog_lower(f->b->arena, s, len);
        if (name == NULL) {
            return -1;
        }

        id = (uint32_t) f->ntags;
        f->tag_name[id] = name;
        f->tag_len[id] = (uint32_t) len;
        f->ntags++;

        if (airouter_catalog_map_put(&f->tagmap, 0, name, len, id) != 0) {
            return -1;
        }
    }

    for (k = first; k < f->refs.n; k++) {
        if (f->refs.a[k] == id) {
            return 0;
        }
    }

    return airouter_catalog_u32_push(&f->refs, id);
}


static int
airouter_catalog_key_add(airouter_catalog_fin_t *f, uint32_t kind, char *s,
    size_t len, uint32_t model)
{
    size_t                      n;
    char                      **strs;
    uint32_t                    id, *kinds, *lens;
    airouter_catalog_mapent_t  *e;

    if (s == NULL) {
        return -1;
    }

    if (len == 0) {
        return 0;
    }

    e = airouter_catalog_map_find(&f->keymap, kind, s, len);

    if (e != NULL) {
        id = e->value;

    } else {
        if (f->nkeys == f->keys_cap) {
            n = f->keys_cap ? f->keys_cap * 2 : 256;

            kinds = realloc(f->key_kind, n * sizeof(uint32_t));
            if (kinds == NULL) {
                return -1;
            }
            f->key_kind = kinds;

            strs = realloc(f->key_str, n * sizeof(char *));
            if (strs == NULL) {
                return -1;
            }
            f->key_str = strs;

            lens = realloc(f->key_len, n * sizeof(uint32_t));
            if (lens == NULL) {
                return -1;
            }
            f->key_len = lens;

            f->keys_cap = n;
        }

        id = (uint32_t) f->nkeys;
        f->key_kind[id] = kind;
        f->key_str[id] = s;
        f->key_len[id] = (uint32_t) len;
        f->nkeys++;

        if (airouter_catalog_map_put(&f->keymap, kind, s, len, id) != 0) {
            return -1;
        }
    }

    return airouter_catalog_u64_push(&f->pairs, ((uint64_t) id << 32) | model);
}


static void *
airouter_catalog_layout(airouter_catalog_fin_t *f, size_t *lenp)
{
    char                        *blob;
    long                         off;
    size_t                       i, j, k, n, x;
    uint32_t                     h, mask, npost, nslots, tp;
    uint32_t                    *sorted, *rank, *count, *tagoff, *post;
    uint32_t                    *keyfirst, *keycount, *keyoff, *refs;
    uint64_t                     size, o_ch, o_mod, o_tag, o_ref, o_post;
    uint64_t                     o_slot, o_str;
    airouter_catalog_t          *hdr;
    airouter_catalog_tag_t      *t;
    airouter_catalog_slot_t     *slots, *sl;
    airouter_catalog_model_t    *m;
    airouter_catalog_channel_t  *ch;
    const airouter_config_t     *cf;
    const airouter_channel_t    *cch;

    cf = f->b->cf;
    n = f->b->nmodels;
    blob = NULL;

    sorted = malloc((f->ntags + 1) * sizeof(uint32_t));
    rank = malloc((f->ntags + 1) * sizeof(uint32_t));
    count = calloc(f->ntags + 1, sizeof(uint32_t));
    tagoff = malloc((f->ntags + 1) * sizeof(uint32_t));
    keyfirst = calloc(f->nkeys + 1, sizeof(uint32_t));
    keycount = calloc(f->nkeys + 1, sizeof(uint32_t));
    keyoff = malloc((f->nkeys + 1) * sizeof(uint32_t));

    if (sorted == NULL || rank == NULL || count == NULL || tagoff == NULL
        || keyfirst == NULL || keycount == NULL || keyoff == NULL)
    {
        goto done;
    }

    /* tags sorted by name: sorted[final] = builder id, rank the inverse */

    for (i = 0; i < f->ntags; i++) {
        sorted[i] = (uint32_t) i;
    }

    airouter_catalog_sort_names(sorted, f->ntags, f->tag_name);

    for (i = 0; i < f->ntags; i++) {
        rank[sorted[i]] = (uint32_t) i;
    }

    for (i = 0; i < f->refs.n; i++) {
        f->refs.a[i] = rank[f->refs.a[i]];
        count[f->refs.a[i]]++;
    }

    /* each entry's tag list ascending; lists are short */

    for (i = 0; i < n; i++) {
        refs = f->refs.a + f->models[i].tagrefs;

        for (k = 1; k < f->models[i].ntags; k++) {
            x = refs[k];

            for (j = k; j > 0 && refs[j - 1] > x; j--) {
                refs[j] = refs[j - 1];
            }

            refs[j] = (uint32_t) x;
        }
    }

    /* key lists: (key, model) pairs sorted, duplicates dropped */

    if (f->pairs.n > 1) {
        qsort(f->pairs.a, f->pairs.n, sizeof(uint64_t),
              airouter_catalog_cmp_u64);
    }

    for (i = 0, k = 0; i < f->pairs.n; i++) {
        if (k == 0 || f->pairs.a[k - 1] != f->pairs.a[i]) {
            f->pairs.a[k++] = f->pairs.a[i];
        }
    }

    f->pairs.n = k;

    /* postings: every tag's list, then every key's list */

    npost = 0;

    for (i = 0; i < f->ntags; i++) {
        npost += count[i];
    }

    for (i = 0; i < f->pairs.n; i++) {
        j = (size_t) (f->pairs.a[i] >> 32);

        if (keycount[j]++ == 0) {
            keyfirst[j] = npost + (uint32_t) i;
        }
    }

    npost += (uint32_t) f->pairs.n;

    for (i = 0; i < f->ntags; i++) {
        off = airouter_catalog_str_add(&f->st, f->tag_name[sorted[i]],
                                       f->tag_len[sorted[i]]);
        if (off < 0) {
            goto done;
        }

        tagoff[i] = (uint32_t) off;
    }

    for (i = 0; i < f->nkeys; i++) {
        off = airouter_catalog_str_add(&f->st, f->key_str[i], f->key_len[i]);
        if (off < 0) {
            goto done;
        }

        keyoff[i] = (uint32_t) off;
    }

    /* at most half full, so probes stay short and always end */

    nslots = 16;
    while ((uint64_t) nslots < 2 * ((uint64_t) f->nkeys + f->ntags) + 1) {
        nslots *= 2;
    }

    o_ch = AIROUTER_CATALOG_ALIGN(sizeof(airouter_catalog_t));
    o_mod = AIROUTER_CATALOG_ALIGN(o_ch + (uint64_t) cf->nchannels
                                   * sizeof(airouter_catalog_channel_t));
    o_tag = AIROUTER_CATALOG_ALIGN(o_mod + (uint64_t) n
                                   * sizeof(airouter_catalog_model_t));
    o_ref = AIROUTER_CATALOG_ALIGN(o_tag + (uint64_t) f->ntags
                                   * sizeof(airouter_catalog_tag_t));
    o_post = AIROUTER_CATALOG_ALIGN(o_ref + (uint64_t) f->refs.n
                                    * sizeof(uint32_t));
    o_slot = AIROUTER_CATALOG_ALIGN(o_post + (uint64_t) npost
                                    * sizeof(uint32_t));
    o_str = AIROUTER_CATALOG_ALIGN(o_slot + (uint64_t) nslots
                                   * sizeof(airouter_catalog_slot_t));
    size = AIROUTER_CATALOG_ALIGN(o_str + f->st.len);

    if (size > UINT32_MAX) {
        goto done;
    }

    blob = calloc(1, size);
    if (blob == NULL) {
        goto done;
    }

    hdr = (airouter_catalog_t *) blob;
    hdr->magic = AIROUTER_CATALOG_MAGIC;
    hdr->version = AIROUTER_CATALOG_VERSION;
    hdr->size = size;
    hdr->generation = f->b->generation;
    hdr->config_hash = airouter_catalog_config_hash(cf);
    hdr->nchannels = (uint32_t) cf->nchannels;
    hdr->nmodels = (uint32_t) n;
    hdr->ntags = (uint32_t) f->ntags;
    hdr->ntagrefs = (uint32_t) f->refs.n;
    hdr->npostings = npost;
    hdr->nslots = nslots;
    hdr->nkeys = (uint32_t) (f->nkeys + f->ntags);
    hdr->strings_len = (uint32_t) f->st.len;
    hdr->channels = (uint32_t) o_ch;
    hdr->models = (uint32_t) o_mod;
    hdr->tags = (uint32_t) o_tag;
    hdr->tagrefs = (uint32_t) o_ref;
    hdr->postings = (uint32_t) o_post;
    hdr->slots = (uint32_t) o_slot;
    hdr->strings = (uint32_t) o_str;

    memcpy(blob + o_str, f->st.buf, f->st.len);

    if (f->refs.n > 0) {
        memcpy(blob + o_ref, f->refs.a, f->refs.n * sizeof(uint32_t));
    }

    for (i = 0; i < cf->nchannels; i++) {
        ch = (airouter_catalog_channel_t *) (blob + o_ch) + i;
        cch = &cf->channels[i];

        ch->index = (uint32_t) i;
        ch->priority = cch->priority;
        ch->weight = cch->weight;
        ch->flags = (cch->enabled
                     && !(f->b->channel_off && f->b->channel_off[i])
                     ? AIROUTER_CHANNEL_ENABLED : 0)
                    | (airouter_catalog_channel_declares(cch, "local")
                       ? AIROUTER_CHANNEL_LOCAL : 0)
                    | (airouter_catalog_channel_declares(cch, "free")
                       ? AIROUTER_CHANNEL_FREE : 0);
    }

    /* models (string offsets made absolute) and tag postings */

    m = (airouter_catalog_model_t *) (blob + o_mod);
    t = (airouter_catalog_tag_t *) (blob + o_tag);
    post = (uint32_t *) (blob + o_post);

    tp = 0;
    for (i = 0; i < f->ntags; i++) {
        t[i].name = (uint32_t) o_str + tagoff[i];
        t[i].name_len = f->tag_len[sorted[i]];
        t[i].postings = tp;
        t[i].count = 0;
        tp += count[i];
    }

    for (i = 0; i < n; i++) {
        m[i] = f->models[i];
        m[i].id += (uint32_t) o_str;
        m[i].core += (uint32_t) o_str;
        m[i].currency += (uint32_t) o_str;

        ch = (airouter_catalog_channel_t *) (blob + o_ch) + m[i].channel;

        if (ch->nmodels++ == 0) {
            ch->first_model = (uint32_t) i;
        }

        refs = f->refs.a + m[i].tagrefs;

        for (k = 0; k < m[i].ntags; k++) {
            post[t[refs[k]].postings + t[refs[k]].count++] = (uint32_t) i;
        }
    }

    for (i = 0; i < f->pairs.n; i++) {
        post[tp + i] = (uint32_t) (f->pairs.a[i] & 0xffffffff);
    }

    /* the hash table: keys, then tags */

    slots = (airouter_catalog_slot_t *) (blob + o_slot);
    mask = nslots - 1;

    for (i = 0; i < f->nkeys + f->ntags; i++) {
        if (i < f->nkeys) {
            h = airouter_catalog_hash(f->key_kind[i], f->key_str[i],
                                      f->key_len[i]);
        } else {
            h = airouter_catalog_hash(AIROUTER_KEY_TAG,
                                      f->tag_name[sorted[i - f->nkeys]],
                                      f->tag_len[sorted[i - f->nkeys]]);
        }

        for (j = h & mask; slots[j].kind != AIROUTER_KEY_EMPTY;
             j = (j + 1) & mask)
        {
            /* void */
        }

        sl = &slots[j];
        sl->hash = h;

        if (i < f->nkeys) {
            sl->kind = f->key_kind[i];
            sl->key = (uint32_t) o_str + keyoff[i];
            sl->key_len = f->key_len[i];
            sl->value = keyfirst[i];
            sl->count = keycount[i];

        } else {
            k = i - f->nkeys;
            sl->kind = AIROUTER_KEY_TAG;
            sl->key = t[k].name;
            sl->key_len = t[k].name_len;
            sl->value = (uint32_t) k;
            sl->count = t[k].count;
        }
    }

    hdr->checksum = airouter_catalog_checksum(blob, size);
    *lenp = (size_t) size;

done:

    free(sorted);
    free(rank);
    free(count);
    free(tagoff);
    free(keyfirst);
    free(keycount);
    free(keyoff);

    return blob;
}


static void
airouter_catalog_fin_release(airouter_catalog_builder_t *b)
{
    if (b->fin != NULL) {
        airouter_catalog_fin_free(b->fin);
        free(b->fin);
        b->fin = NULL;
    }
}


static void
airouter_catalog_fin_free(airouter_catalog_fin_t *f)
{
    free(f->order);
    free(f->models);
    free(f->st.buf);
    free(f->st.map.ent);
    free(f->tagmap.ent);
    free(f->tag_name);
    free(f->tag_len);
    free(f->refs.a);
    free(f->keymap.ent);
    free(f->key_kind);
    free(f->key_str);
    free(f->key_len);
    free(f->pairs.a);
}


/* Sorts ids by the names they index: a merge sort, names may be many. */
static void
airouter_catalog_sort_names(uint32_t *ids, size_t n, char **names)
{
    size_t     width, i, l, r, le, re, k;
    uint32_t  *tmp, *src, *dst, *sw;

    if (n < 2) {
        return;
    }

    tmp = malloc(n * sizeof(uint32_t));

    if (tmp == NULL) {
        /* out of memory here only costs order: insertion sort instead */
        for (i = 1; i < n; i++) {
            uint32_t  x = ids[i];

            for (k = i; k > 0 && strcmp(names[ids[k - 1]], names[x]) > 0;
                 k--)
            {
                ids[k] = ids[k - 1];
            }

            ids[k] = x;
        }

        return;
    }

    src = ids;
    dst = tmp;

    for (width = 1; width < n; width *= 2) {
        for (i = 0; i < n; i += 2 * width) {
            l = i;
            le = i + width < n ? i + width : n;
            r = le;
            re = i + 2 * width < n ? i + 2 * width : n;
            k = i;

            while (l < le && r < re) {
                dst[k++] = strcmp(names[src[l]], names[src[r]]) <= 0
                           ? src[l++] : src[r++];
            }

            while (l < le) {
                dst[k++] = src[l++];
            }

            while (r < re) {
                dst[k++] = src[r++];
            }
        }

        sw = src;
        src = dst;
        dst = sw;
    }

    if (src != ids) {
        memcpy(ids, src, n * sizeof(uint32_t));
    }

    free(tmp);
}


static char *
airouter_catalog_lower(airouter_arena_t *a, const char *s, size_t len)
{
    char    *p;
    size_t   i;

    p = airouter_arena_alloc(a, len + 1);
    if (p == NULL) {
        return NULL;
    }

    for (i = 0; i < len; i++) {
        p[i] = (char) airouter_catalog_lc(s[i]);
    }

    p[len] = '\0';

    return p;
}


static int
airouter_catalog_lc(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : (c & 0xff);
}


static int
airouter_catalog_streq(const char *a, size_t alen, const char *b,
    size_t blen, int icase)
{
    if (alen != blen) {
        return 0;
    }

    if (!icase) {
        return memcmp(a, b, alen) == 0;
    }

    return airouter_tags_eq(a, alen, b, blen);
}


static int
airouter_catalog_is(const char *s, const char *word)
{
    return airouter_tags_eq(s, strlen(s), word, strlen(word));
}


static const char *
airouter_catalog_currency_name(const char *c)
{
    if (c == NULL || c[0] == '\0') {
        return "USD";
    }

    return airouter_catalog_is(c, "RMB") ? "CNY" : c;
}


static int
airouter_catalog_same_currency(const char *a, const char *b)
{
    return airouter_catalog_is(airouter_catalog_currency_name(a),
                               airouter_catalog_currency_name(b));
}


void
airouter_catalog_info_price(airouter_model_info_t *info, double prompt,
    double completion, double cache_read, double cache_write,
    const char *currency)
{
    if (!info->has_price) {
        if (prompt < 0 || completion < 0) {
            return;
        }

        /* unit prices came first: their currency is the entry's */
        if (info->has_units
            && !airouter_catalog_same_currency(info->currency, currency))
        {
            return;
        }

        info->has_price = 1;
        info->price_prompt = prompt;
        info->price_completion = completion;
        info->currency = currency;

    } else if (!airouter_catalog_same_currency(info->currency, currency)) {
        return;
    }

    if (!info->has_cache_read && cache_read >= 0) {
        info->has_cache_read = 1;
        info->price_cache_read = cache_read;
    }

    if (!info->has_cache_write && cache_write >= 0) {
        info->has_cache_write = 1;
        info->price_cache_write = cache_write;
    }
}


void
airouter_catalog_info_units(airouter_model_info_t *info,
    const airouter_unit_price_t *units, const char *currency)
{
    if (!airouter_unit_price_known(units)) {
        return;
    }

    if (!info->has_price && !info->has_units) {
        info->currency = currency;

    } else if (!airouter_catalog_same_currency(info->currency, currency)) {
        return;
    }

    if (!info->has_units) {
        info->has_units = 1;
        airouter_unit_price_init(&info->units);
    }

    airouter_catalog_unit_merge(&info->units, units);
}


/* Each unit price to lacks, from from. */
static void
airouter_catalog_unit_merge(airouter_unit_price_t *to,
    const airouter_unit_price_t *from)
{
    if (to->request < 0 && from->request >= 0) {
        to->request = from->request;
    }

    if (to->image < 0 && from->image >= 0) {
        to->image = from->image;
    }

    if (to->second < 0 && from->second >= 0) {
        to->second = from->second;
    }

    if (to->character < 0 && from->character >= 0) {
        to->character = from->character;
    }
}


void
airouter_catalog_channel_price(const airouter_channel_t *ch,
    airouter_model_info_t *info)
{
    if (ch->has_cost) {
        airouter_catalog_info_price(info, ch->cost_input, ch->cost_output,
                                    ch->cost_cache_read,
                                    ch->cost_cache_write, ch->currency);
    }

    if (ch->has_unit_cost) {
        airouter_catalog_info_units(info, &ch->cost_unit, ch->currency);
    }
}


static int
airouter_catalog_map_grow(airouter_catalog_map_t *m)
{
    size_t                      cap, i, j;
    airouter_catalog_mapent_t  *ent;

    cap = m->cap ? m->cap * 2 : 64;

    ent = calloc(cap, sizeof(airouter_catalog_mapent_t));
    if (ent == NULL) {
        return -1;
    }

    for (i = 0; i < m->cap; i++) {
        if (m->ent[i].key == NULL) {
            continue;
        }

        for (j = m->ent[i].hash & (cap - 1); ent[j].key != NULL;
             j = (j + 1) & (cap - 1))
        {
            /* void */
        }

        ent[j] = m->ent[i];
    }

    free(m->ent);
    m->ent = ent;
    m->cap = cap;

    return 0;
}


static airouter_catalog_mapent_t *
airouter_catalog_map_find(airouter_catalog_map_t *m, uint32_t kind,
    const char *key, size_t len)
{
    size_t                      i;
    uint32_t                    h;
    airouter_catalog_mapent_t  *e;

    if (m->cap == 0) {
        return NULL;
    }

    h = m->icase ? airouter_catalog_hash(kind, key, len)
                 : airouter_catalog_hash_exact(kind, key, len);

    for (i = h & (m->cap - 1); m->ent[i].key != NULL;
         i = (i + 1) & (m->cap - 1))
    {
        e = &m->ent[i];

        if (e->hash == h && e->kind == kind
            && airouter_catalog_streq(e->key, e->len, key, len, m->icase))
        {
            return e;
        }
    }

    return NULL;
}


/* key must stay valid as long as the map: it is not copied */
static int
airouter_catalog_map_put(airouter_catalog_map_t *m, uint32_t kind,
    const char *key, size_t len, uint32_t value)
{
    size_t                      i;
    uint32_t                    h;
    airouter_catalog_mapent_t  *e;

    if ((m->n + 1) * 2 > m->cap && airouter_catalog_map_grow(m) != 0) {
        return -1;
    }

    h = m->icase ? airouter_catalog_hash(kind, key, len)
                 : airouter_catalog_hash_exact(kind, key, len);

    for (i = h & (m->cap - 1); m->ent[i].key != NULL;
         i = (i + 1) & (m->cap - 1))
    {
        /* void */
    }

    e = &m->ent[i];
    e->hash = h;
    e->kind = kind;
    e->key = key;
    e->len = (uint32_t) len;
    e->value = value;
    m->n++;

    return 0;
}


static uint32_t
airouter_catalog_hash_exact(uint32_t kind, const char *key, size_t len)
{
    size_t    i;
    uint32_t  h;

    h = 2166136261u ^ (kind * 0x9e3779b9u);

    for (i = 0; i < len; i++) {
        h ^= (unsigned char) key[i];
        h *= 16777619u;
    }

    return h;
}


static int
airouter_catalog_u32_push(airouter_catalog_u32v_t *v, uint32_t x)
{
    size_t     cap;
    uint32_t  *a;

    if (v->n == v->cap) {
        cap = v->cap ? v->cap * 2 : 1024;
        a = realloc(v->a, cap * sizeof(uint32_t));
        if (a == NULL) {
            return -1;
        }

        v->a = a;
        v->cap = cap;
    }

    v->a[v->n++] = x;

    return 0;
}


static int
airouter_catalog_u64_push(airouter_catalog_u64v_t *v, uint64_t x)
{
    size_t     cap;
    uint64_t  *a;

    if (v->n == v->cap) {
        cap = v->cap ? v->cap * 2 : 1024;
        a = realloc(v->a, cap * sizeof(uint64_t));
        if (a == NULL) {
            return -1;
        }

        v->a = a;
        v->cap = cap;
    }

    v->a[v->n++] = x;

    return 0;
}


/*
 * Appends s (plus a NUL) unless the same bytes are there already; returns
 * the offset in the table or -1.  The map keys point into the caller's
 * stable copies (arena, builder), never into buf, which moves.
 */
static long
airouter_catalog_str_add(airouter_catalog_strtab_t *st, const char *s,
    size_t len)
{
    char                       *buf;
    size_t                      cap, off;
    airouter_catalog_mapent_t  *e;

    e = airouter_catalog_map_find(&st->map, 0, s, len);
    if (e != NULL) {
        return (long) e->value;
    }

    if (st->len + len + 1 > st->cap) {
        cap = st->cap ? st->cap : 4096;

        while (cap < st->len + len + 1) {
            cap *= 2;
        }

        buf = realloc(st->buf, cap);
        if (buf == NULL) {
            return -1;
        }

        st->buf = buf;
        st->cap = cap;
    }

    off = st->len;

    if (off + len + 1 > UINT32_MAX / 2) {
        return -1;
    }

    memcpy(st->buf + off, s, len);
    st->buf[off + len] = '\0';
    st->len += len + 1;

    if (airouter_catalog_map_put(&st->map, 0, s, len, (uint32_t) off) != 0) {
        return -1;
    }

    return (long) off;
}


/* A channel is free / local when it, its provider, or its tags say so. */
static int
airouter_catalog_channel_declares(const airouter_channel_t *ch,
    const char *what)
{
    size_t  i;
    int     local;

    local = (what[0] == 'l');

    if (local ? ch->local : ch->free) {
        return 1;
    }

    if (ch->provider != NULL && (local ? ch->provider->local
                                       : ch->provider->free))
    {
        return 1;
    }

    for (i = 0; i < ch->tags.n; i++) {
        if (ch->tags.items[i] != NULL
            && airouter_catalog_is(ch->tags.items[i], what))
        {
            return 1;
        }
    }

    return 0;
}


static int
airouter_catalog_cmp_model(const void *a, const void *b)
{
    const airouter_catalog_bmodel_t  *x, *y;

    x = *(airouter_catalog_bmodel_t *const *) a;
    y = *(airouter_catalog_bmodel_t *const *) b;

    if (x->channel != y->channel) {
        return x->channel < y->channel ? -1 : 1;
    }

    return strcmp(x->id, y->id);
}


static int
airouter_catalog_cmp_u64(const void *a, const void *b)
{
    uint64_t  x, y;

    x = *(const uint64_t *) a;
    y = *(const uint64_t *) b;

    return x < y ? -1 : (x > y);
}


/* off names a string of len bytes, NUL-terminated, inside the table */
static int
airouter_catalog_check_str(const airouter_catalog_t *cat, uint32_t off,
    uint32_t len)
{
    return off >= cat->strings
           && (uint64_t) off + len < (uint64_t) cat->strings
                                     + cat->strings_len
           && airouter_catalog_str(cat, off)[len] == '\0';
}


/* a postings list inside the table, of model indexes, ascending */
static int
airouter_catalog_check_list(const airouter_catalog_t *cat, uint32_t first,
    uint32_t count)
{
    uint32_t         i;
    const uint32_t  *p;

    if ((uint64_t) first + count > cat->npostings) {
        return 0;
    }

    p = airouter_catalog_postings(cat, first);

    for (i = 0; i < count; i++) {
        if (p[i] >= cat->nmodels || (i > 0 && p[i] <= p[i - 1])) {
            return 0;
        }
    }

    return 1;
}
