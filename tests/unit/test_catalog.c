/*
 * The catalogue (airouter_catalog.c, airouter_models_json.c): building
 * from a hand-made configuration and from the /models fixtures, the free
 * and local rules, field precedence, the blob's relocation, and open()
 * refusing every kind of corruption.
 *
 * Fixtures are read from $AIROUTER_FIXTURES (default tests/fixtures, with
 * the repository root as the working directory).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "airouter_catalog.h"
#include "airouter_controls.h"
#include "airouter_models_json.h"
#include "airouter_query.h"
#include "unit.h"


typedef struct {
    const char               *id;
    const char               *models;       /* comma-separated */
    int                       local;
    int                       free;
    double                    in;           /* < 0: no cost_per_token */
    double                    out;
    const char               *currency;
    const char               *tags;
    const char               *caps;
    const char               *aliases;      /* "alias=target,..." */
} chan_spec_t;


static void
split(const char *s, airouter_strlist_t *l)
{
    char        *copy, *p, *q;
    size_t       n;

    l->items = NULL;
    l->n = 0;

    if (s == NULL || *s == '\0') {
        return;
    }

    copy = unit_alloc(strlen(s) + 1);
    strcpy(copy, s);
    n = 1;
    for (p = copy; *p; p++) {
        n += (*p == ',');
    }

    l->items = unit_alloc(n * sizeof(char *));

    for (p = copy; p != NULL; p = q) {
        q = strchr(p, ',');
        if (q != NULL) {
            *q++ = '\0';
        }
        l->items[l->n++] = p;
    }
}


static airouter_config_t *
make_config(const chan_spec_t *spec, size_t n)
{
    size_t               i, j;
    char                *eq;
    airouter_strlist_t   al;
    airouter_channel_t  *ch;
    airouter_config_t   *cf;

    cf = unit_alloc(sizeof(airouter_config_t));
    cf->channels = unit_alloc((n + 1) * sizeof(airouter_channel_t));
    cf->nchannels = n;
    cf->nenabled = n;
    cf->cost.cny_to_usd = 0.14;

    for (i = 0; i < n; i++) {
        ch = &cf->channels[i];
        ch->id = (char *) spec[i].id;
        ch->name = (char *) spec[i].id;
        ch->enabled = 1;
        ch->priority = 1;
        ch->weight = 100;
        ch->cost_cache_read = -1;
        ch->cost_cache_write = -1;
        ch->local = spec[i].local;
        ch->free = spec[i].free;
        split(spec[i].models, &ch->configured_models);
        split(spec[i].tags, &ch->tags);
        split(spec[i].caps, &ch->capabilities);

        if (spec[i].in >= 0) {
            ch->has_cost = 1;
            ch->cost_input = spec[i].in;
            ch->cost_output = spec[i].out;
        }

        ch->currency = (char *) (spec[i].currency ? spec[i].currency : "USD");

        split(spec[i].aliases, &al);
        ch->aliases = unit_alloc((al.n + 1) * sizeof(airouter_alias_t));
        ch->naliases = al.n;

        for (j = 0; j < al.n; j++) {
            eq = strchr(al.items[j], '=');
            *eq = '\0';
            ch->aliases[j].alias = al.items[j];
            ch->aliases[j].target = eq + 1;
        }
    }

    return cf;
}


static int
has_tag(const airouter_catalog_t *cat, const airouter_catalog_model_t *m,
    const char *tag)
{
    long  t;

    t = airouter_catalog_find_tag(cat, tag, strlen(tag));

    return t >= 0 && airouter_catalog_model_has_tag(cat, m, (uint32_t) t);
}


static const char *
tags_joined(const airouter_catalog_t *cat, const airouter_catalog_model_t *m)
{
    static char      buf[1024];
    size_t           i, n;
    const uint32_t  *t;

    n = 0;
    buf[0] = '\0';
    t = airouter_catalog_model_tags(cat, m);

    for (i = 0; i < m->ntags; i++) {
        n += snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? "," : "",
                      airouter_catalog_tag_name(cat, t[i]));
    }

    return buf;
}


static const chan_spec_t  spec[] = {
    { "openrouter", "qwen/qwen3-30b-a3b:free,openai/gpt-4o-mini,"
      "google/gemma-3-12b,some-free-model,x-local-model",
      0, 0, -1, 0, NULL, "cloud", NULL, NULL },
    { "doubao", "ep-20250613210739-qjxdl", 0, 0, 0.0000008, 0.000002, "CNY",
      NULL, "text,function_calling",
      "doubao-1.5-pro-256k=ep-20250613210739-qjxdl,"
      "doubao-lite=ep-20250101000000-lite" },
    { "lmstudio", "google/gemma-3-12b,qwen3-0.6b", 1, 0, -1, 0, NULL,
      NULL, NULL, NULL },
    { "ollama", "qwen3:8b,llava:7b,nomic-embed-text:latest", 1, 1, -1, 0,
      NULL, NULL, NULL, NULL },
    { "burn", "gpt-4o-mini", 0, 0, 0.00000015, 0.0000006, NULL,
      "Free,cost-effective,Local", "text,function_calling", NULL },
    { "paid", "zero-model", 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

#define NSPEC  (sizeof(spec) / sizeof(spec[0]))


static void *
build(airouter_config_t *cf, size_t *len)
{
    void                        *blob;
    airouter_model_info_t        info;
    airouter_catalog_builder_t  *b;

    b = airouter_catalog_builder_create(cf);
    UNIT_CHECK(b != NULL, "builder");
    airouter_catalog_builder_set_generation(b, 7);
    UNIT_CHECK(airouter_catalog_builder_add_config(b) == 0, "add_config");

    /* discovery after configuration: fills what config did not say */
    memset(&info, 0, sizeof(info));
    info.id = "OpenAI/GPT-4o-mini";
    info.has_price = 1;
    info.price_prompt = 0.00000015;
    info.price_completion = 0.0000006;
    info.context = 128000;
    info.caps = AIROUTER_CAP_TOOLS | AIROUTER_CAP_VISION | AIROUTER_CAP_CHAT;
    info.caps_known = AIROUTER_CAP_TOOLS | AIROUTER_CAP_VISION
                      | AIROUTER_CAP_KIND;
    UNIT_CHECK(airouter_catalog_builder_add_model(b, 0, &info) == 0, "add");

    /* a second statement of the price does not override the first */
    info.price_prompt = 1;
    info.price_completion = 1;
    info.context = 5;
    UNIT_CHECK(airouter_catalog_builder_add_model(b, 0, &info) == 0, "add");

    /* nor does discovery override the configured price */
    memset(&info, 0, sizeof(info));
    info.id = "ep-20250613210739-qjxdl";
    info.has_price = 1;
    info.price_prompt = 9;
    info.price_completion = 9;
    info.context = 262144;
    UNIT_CHECK(airouter_catalog_builder_add_model(b, 1, &info) == 0, "add");

    /* bad input is refused, the builder stays usable */
    info.id = NULL;
    UNIT_CHECK(airouter_catalog_builder_add_model(b, 0, &info) != 0, "no id");
    info.id = "x";
    UNIT_CHECK(airouter_catalog_builder_add_model(b, 99, &info) != 0,
               "channel out of range");
    UNIT_CHECK(strlen(airouter_catalog_builder_error(b)) > 0, "error set");

    blob = airouter_catalog_builder_finish(b, len);
    airouter_catalog_builder_destroy(b);

    return blob;
}


static void
test_config_build(void)
{
    void                            *blob, *copy;
    size_t                           len, i, total;
    uint32_t                         known, caps;
    airouter_strlist_t               l;
    airouter_config_t               *cf;
    const airouter_catalog_t        *cat, *cat2;
    const airouter_catalog_model_t  *m;
    const airouter_catalog_slot_t   *sl;
    const airouter_catalog_channel_t *ch;

    cf = make_config(spec, NSPEC);
    blob = build(cf, &len);
    UNIT_CHECK(blob != NULL, "finish");

    cat = airouter_catalog_open(blob, len);
    UNIT_CHECK(cat != NULL, "open");
    if (cat == NULL) {
        return;
    }

    UNIT_CHECK(cat->generation == 7, "generation");
    UNIT_CHECK(cat->nchannels == NSPEC, "channels");
    UNIT_CHECK(cat->nmodels == 14, "models %u", cat->nmodels);
    UNIT_CHECK(airouter_catalog_fits(cat, cf), "fits");

    /* name tags + channel tags; free by the :free variant */
    m = unit_find_model(cat, 0, "qwen/qwen3-30b-a3b:free");
    UNIT_CHECK(m != NULL, "qwen3-30b");
    UNIT_STREQ(tags_joined(cat, m), "30b,a3b,cloud,free,qwen,qwen3");
    UNIT_CHECK(m->flags & AIROUTER_MODEL_FREE, "free variant");
    UNIT_CHECK(m->params_total == 30000 && m->params_active == 3000,
               "params");
    UNIT_STREQ(airouter_catalog_model_core(cat, m), "qwen3-30b-a3b");

    /* merged: the id's first spelling stays; discovery filled the rest */
    m = unit_find_model(cat, 0, "openai/gpt-4o-mini");
    UNIT_CHECK(m != NULL, "gpt-4o-mini");
    UNIT_STREQ(tags_joined(cat, m), "4o,cloud,gpt,mini,openai");
    UNIT_CHECK(!(m->flags & AIROUTER_MODEL_FREE), "priced, not free");
    UNIT_CHECK(m->flags & AIROUTER_MODEL_PRICED, "priced");
    UNIT_CHECK(m->price_prompt == 0.00000015, "first price wins");
    UNIT_CHECK(m->context == 128000, "first context wins");
    UNIT_CHECK((m->flags & AIROUTER_MODEL_CONFIGURED)
               && (m->flags & AIROUTER_MODEL_DISCOVERED), "both sources");
    UNIT_CHECK(m->caps & AIROUTER_CAP_TOOLS, "tools from discovery");

    /* a "free" / "local" name token is not the tag */
    m = unit_find_model(cat, 0, "some-free-model");
    UNIT_CHECK(m != NULL && !has_tag(cat, m, "free")
               && !(m->flags & AIROUTER_MODEL_FREE), "free token");
    m = unit_find_model(cat, 0, "x-local-model");
    UNIT_CHECK(m != NULL && !has_tag(cat, m, "local")
               && !(m->flags & AIROUTER_MODEL_LOCAL), "local token");

    /* configured CNY price converted; tools from channel capabilities */
    m = unit_find_model(cat, 1, "ep-20250613210739-qjxdl");
    UNIT_CHECK(m != NULL, "doubao ep");
    UNIT_CHECK(m->price_prompt == 0.0000008, "config price wins");
    UNIT_STREQ(airouter_catalog_model_currency(cat, m), "CNY");
    UNIT_CHECK(m->price_usd > 0.00000039 && m->price_usd < 0.00000040,
               "usd %g", m->price_usd);
    UNIT_CHECK(m->context == 262144, "context from discovery");
    UNIT_CHECK((m->caps & AIROUTER_CAP_TOOLS)
               && (m->caps_known & AIROUTER_CAP_TOOLS), "tools declared");
    UNIT_CHECK(!(m->caps & AIROUTER_CAP_VISION)
               && (m->caps_known & AIROUTER_CAP_VISION), "no vision");
    /* a digit run (the endpoint's date stamp) is no tag */
    UNIT_STREQ(tags_joined(cat, m), "ep,qjxdl");

    /* aliases, including one whose target was not configured */
    sl = airouter_catalog_lookup(cat, AIROUTER_KEY_ALIAS,
                                 "Doubao-1.5-Pro-256K", 19);
    UNIT_CHECK(sl != NULL && sl->count == 1
               && airouter_catalog_model(cat,
                      *airouter_catalog_postings(cat, sl->value)) == m,
               "alias");
    UNIT_CHECK(unit_find_model(cat, 1, "ep-20250101000000-lite") != NULL,
               "alias target added");

    /* local channel: local, not free */
    m = unit_find_model(cat, 2, "google/gemma-3-12b");
    UNIT_CHECK(m != NULL && (m->flags & AIROUTER_MODEL_LOCAL)
               && !(m->flags & AIROUTER_MODEL_FREE), "lmstudio gemma");
    UNIT_STREQ(tags_joined(cat, m), "12b,gemma,google,local");

    /* local and free channel */
    m = unit_find_model(cat, 3, "qwen3:8b");
    UNIT_CHECK(m != NULL && (m->flags & AIROUTER_MODEL_LOCAL)
               && (m->flags & AIROUTER_MODEL_FREE), "ollama qwen3");
    UNIT_CHECK(m->params_total == 8000, "8b");
    UNIT_STREQ(tags_joined(cat, m), "8b,free,local,qwen3");
    sl = airouter_catalog_lookup(cat, AIROUTER_KEY_CORE, "qwen3-8b", 8);
    UNIT_CHECK(sl != NULL && sl->count == 1, "qwen3:8b as qwen3-8b");

    m = unit_find_model(cat, 3, "nomic-embed-text:latest");
    UNIT_CHECK(m != NULL && (m->caps & AIROUTER_CAP_KIND)
               == AIROUTER_CAP_EMBEDDING, "embedding kind");
    m = unit_find_model(cat, 3, "llava:7b");
    UNIT_CHECK(m != NULL && (m->caps & AIROUTER_CAP_VISION_ONLY), "llava");

    /* channel tags "free"/"local" declare the channel so */
    m = unit_find_model(cat, 4, "gpt-4o-mini");
    UNIT_CHECK(m != NULL && (m->flags & AIROUTER_MODEL_FREE)
               && (m->flags & AIROUTER_MODEL_LOCAL), "declared by tags");
    UNIT_STREQ(tags_joined(cat, m), "4o,cost-effective,free,gpt,local,mini");
    ch = airouter_catalog_channel(cat, 4);
    UNIT_CHECK((ch->flags & AIROUTER_CHANNEL_FREE)
               && (ch->flags & AIROUTER_CHANNEL_LOCAL)
               && (ch->flags & AIROUTER_CHANNEL_ENABLED), "channel flags");

    /* a known zero price is free */
    m = unit_find_model(cat, 5, "zero-model");
    UNIT_CHECK(m != NULL && (m->flags & AIROUTER_MODEL_FREE), "zero price");

    /* channels' entries are contiguous, in id order */
    for (i = 0, total = 0; i < cat->nchannels; i++) {
        ch = airouter_catalog_channel(cat, i);
        total += ch->nmodels;
        UNIT_CHECK(ch->nmodels == 0
                   || airouter_catalog_model(cat, ch->first_model)->channel
                      == i, "first_model");
    }
    UNIT_CHECK(total == cat->nmodels, "every entry in a channel");

    for (i = 1; i < cat->nmodels; i++) {
        const airouter_catalog_model_t  *a, *b;

        a = airouter_catalog_model(cat, i - 1);
        b = airouter_catalog_model(cat, i);
        UNIT_CHECK(a->channel < b->channel
                   || (a->channel == b->channel
                       && strcmp(airouter_catalog_model_id(cat, a),
                                 airouter_catalog_model_id(cat, b)) < 0),
                   "order at %zu", i);
    }

    /* tag table: sorted, counts add up to the tag references */
    for (i = 0, total = 0; i < cat->ntags; i++) {
        total += airouter_catalog_tag(cat, i)->count;
        if (i > 0) {
            UNIT_CHECK(strcmp(airouter_catalog_tag_name(cat, i - 1),
                              airouter_catalog_tag_name(cat, i)) < 0,
                       "tag order");
        }
    }
    UNIT_CHECK(total == cat->ntagrefs, "postings == refs");

    /* relocatable: a copy elsewhere reads the same */
    copy = malloc(len);
    memcpy(copy, blob, len);
    free(blob);
    cat2 = airouter_catalog_open(copy, len);
    UNIT_CHECK(cat2 != NULL, "open copy");
    sl = airouter_catalog_lookup(cat2, AIROUTER_KEY_PHYSICAL,
                                 "QWEN/qwen3-30b-a3b:FREE", 23);
    UNIT_CHECK(sl != NULL && sl->count == 1, "physical lookup, any case");

    /* capability lists */
    split("text,function_calling,code_generation", &l);
    caps = airouter_catalog_caps_from_list(&l, &known);
    UNIT_CHECK(caps == (AIROUTER_CAP_TOOLS | AIROUTER_CAP_CODE)
               && known == (AIROUTER_CAP_TOOLS | AIROUTER_CAP_VISION),
               "caps %x known %x", caps, known);
    split("embedding", &l);
    caps = airouter_catalog_caps_from_list(&l, &known);
    UNIT_CHECK(caps == AIROUTER_CAP_EMBEDDING && (known & AIROUTER_CAP_KIND),
               "embedding channel");
    split("rerank", &l);
    caps = airouter_catalog_caps_from_list(&l, &known);
    UNIT_CHECK(caps == AIROUTER_CAP_RERANK && (known & AIROUTER_CAP_KIND),
               "rerank channel");
    split("speech-to-text,function_calling", &l);
    caps = airouter_catalog_caps_from_list(&l, &known);
    UNIT_CHECK(caps == (AIROUTER_CAP_TRANSCRIPTION | AIROUTER_CAP_TOOLS)
               && (known & AIROUTER_CAP_KIND), "transcription channel");
    split("moderation,text", &l);
    caps = airouter_catalog_caps_from_list(&l, &known);
    UNIT_CHECK(caps == 0 && !(known & AIROUTER_CAP_KIND),
               "a kind beside text settles nothing");
    split("audio_speech,image", &l);
    caps = airouter_catalog_caps_from_list(&l, &known);
    UNIT_CHECK(caps == 0 && !(known & AIROUTER_CAP_KIND),
               "two kinds settle nothing");
    l.n = 0;
    caps = airouter_catalog_caps_from_list(&l, &known);
    UNIT_CHECK(caps == 0 && known == 0, "empty list states nothing");

    /* another config does not fit */
    cf->channels[0].id = "renamed";
    UNIT_CHECK(cat2 != NULL && !airouter_catalog_fits(cat2, cf), "fits");
    free(copy);
}


static void
test_empty(void)
{
    void                        *blob;
    size_t                       len;
    airouter_config_t           *cf;
    airouter_query_t             q;
    airouter_catalog_builder_t  *b;
    const airouter_catalog_t    *cat;

    cf = make_config(NULL, 0);
    b = airouter_catalog_builder_create(cf);
    UNIT_CHECK(airouter_catalog_builder_add_config(b) == 0, "add_config");
    blob = airouter_catalog_builder_finish(b, &len);
    airouter_catalog_builder_destroy(b);

    cat = airouter_catalog_open(blob, len);
    UNIT_CHECK(cat != NULL && cat->nmodels == 0, "empty catalogue");
    UNIT_CHECK(airouter_catalog_lookup(cat, AIROUTER_KEY_TAG, "free", 4)
               == NULL, "no tags");
    UNIT_CHECK(airouter_query_resolve(cat, "tag:!free", 9, &q)
               == AIROUTER_QUERY_NO_MATCH, "nothing to match");
    free(blob);
}


/* Re-signs a modified blob so that open() must find the fault itself. */
static int
opens_after(void *blob, size_t len)
{
    airouter_catalog_t  *h;

    h = blob;
    h->checksum = airouter_catalog_checksum(blob, len);

    return airouter_catalog_open(blob, len) != NULL;
}


static void
test_corruption(void)
{
    char                      *blob, *work;
    size_t                     len, i, opened;
    unsigned                   seed;
    airouter_config_t         *cf;
    airouter_catalog_t        *h;
    airouter_catalog_model_t  *m;
    airouter_catalog_slot_t   *sl;
    uint32_t                  *u;

    cf = make_config(spec, NSPEC);
    blob = build(cf, &len);
    work = malloc(len + 16);

#define RESET()  memcpy(work, blob, len); h = (airouter_catalog_t *) work

    RESET();
    UNIT_CHECK(airouter_catalog_open(work, len) != NULL, "intact");
    UNIT_CHECK(airouter_catalog_open(NULL, len) == NULL, "NULL");
    UNIT_CHECK(airouter_catalog_open(work, 10) == NULL, "short");
    UNIT_CHECK(airouter_catalog_open(work, len - 8) == NULL, "truncated");
    UNIT_CHECK(airouter_catalog_open(work + 4, len - 4) == NULL,
               "misaligned");

    /* the header-only view: O(1) faults refused, the body trusted */
    UNIT_CHECK(airouter_catalog_view(work, len) == (void *) work,
               "view intact");
    UNIT_CHECK(airouter_catalog_view(NULL, len) == NULL, "view NULL");
    UNIT_CHECK(airouter_catalog_view(work, 10) == NULL, "view short");
    UNIT_CHECK(airouter_catalog_view(work, len - 8) == NULL,
               "view truncated");
    UNIT_CHECK(airouter_catalog_view(work + 4, len - 4) == NULL,
               "view misaligned");
    RESET(); h->magic ^= 1;
    UNIT_CHECK(airouter_catalog_view(work, len) == NULL, "view magic");
    RESET(); h->version = 99;
    UNIT_CHECK(airouter_catalog_view(work, len) == NULL, "view version");
    RESET(); h->models = (uint32_t) len;
    UNIT_CHECK(airouter_catalog_view(work, len) == NULL, "view section");
    RESET(); h->nslots = 3;
    UNIT_CHECK(airouter_catalog_view(work, len) == NULL, "view nslots");
    RESET(); h->nkeys = h->nslots;
    UNIT_CHECK(airouter_catalog_view(work, len) == NULL, "view full table");
    RESET(); work[h->strings + h->strings_len - 1] = 'x';
    UNIT_CHECK(airouter_catalog_view(work, len) == NULL,
               "view unterminated strings");
    /* neither checksum nor entries: what open() alone vouches for */
    RESET(); work[h->models + 1] ^= 0x20;
    UNIT_CHECK(airouter_catalog_view(work, len) == (void *) work
               && airouter_catalog_open(work, len) == NULL,
               "view skips the checksum, open does not");
    RESET();
    m = (airouter_catalog_model_t *) (work + h->models);
    m[1].channel = h->nchannels;
    h->checksum = airouter_catalog_checksum(work, len);
    UNIT_CHECK(airouter_catalog_view(work, len) == (void *) work
               && airouter_catalog_open(work, len) == NULL,
               "view skips the entries, open does not");

    /* any flipped byte: the checksum */
    for (i = 0; i < len; i += 7) {
        RESET();
        work[i] ^= 0x20;
        UNIT_CHECK(airouter_catalog_open(work, len) == NULL,
                   "flip at %zu", i);
    }

    /* faults the checksum vouches for: bounds and indexes */
    RESET(); h->magic ^= 1;
    UNIT_CHECK(!opens_after(work, len), "magic");
    RESET(); h->version = 99;
    UNIT_CHECK(!opens_after(work, len), "version");
    RESET(); h->size = len + 8;
    UNIT_CHECK(!opens_after(work, len), "size");
    RESET(); h->models = (uint32_t) len;
    UNIT_CHECK(!opens_after(work, len), "models section");
    RESET(); h->nmodels = 0x40000000;
    UNIT_CHECK(!opens_after(work, len), "nmodels");
    RESET(); h->strings += 4;
    UNIT_CHECK(!opens_after(work, len), "strings section");
    RESET(); h->nslots = 3;
    UNIT_CHECK(!opens_after(work, len), "nslots");
    RESET(); h->nkeys = h->nslots;
    UNIT_CHECK(!opens_after(work, len), "full table");
    RESET(); h->tags += 1;
    UNIT_CHECK(!opens_after(work, len), "unaligned section");

    RESET();
    m = (airouter_catalog_model_t *) (work + h->models);
    m[2].id = (uint32_t) len - 1;
    UNIT_CHECK(!opens_after(work, len), "id offset");
    RESET();
    m = (airouter_catalog_model_t *) (work + h->models);
    m[2].id_len += 1;
    UNIT_CHECK(!opens_after(work, len), "id length");
    RESET();
    m = (airouter_catalog_model_t *) (work + h->models);
    m[1].channel = h->nchannels;
    UNIT_CHECK(!opens_after(work, len), "channel index");
    RESET();
    m = (airouter_catalog_model_t *) (work + h->models);
    m[1].ntags = h->ntagrefs;
    UNIT_CHECK(!opens_after(work, len), "tag refs");

    RESET();
    u = (uint32_t *) (work + h->tagrefs);
    u[0] = h->ntags;
    UNIT_CHECK(!opens_after(work, len), "tag ref index");
    RESET();
    u = (uint32_t *) (work + h->postings);
    u[0] = h->nmodels;
    UNIT_CHECK(!opens_after(work, len), "posting index");

    RESET();
    sl = (airouter_catalog_slot_t *) (work + h->slots);
    for (i = 0; i < h->nslots && sl[i].kind == AIROUTER_KEY_EMPTY; i++) {
        /* void */
    }
    sl[i].hash ^= 1;
    UNIT_CHECK(!opens_after(work, len), "slot hash");
    RESET();
    sl = (airouter_catalog_slot_t *) (work + h->slots);
    sl[i].count = h->npostings + 1;
    UNIT_CHECK(!opens_after(work, len), "slot list");
    RESET();
    sl = (airouter_catalog_slot_t *) (work + h->slots);
    sl[i].kind = 9;
    UNIT_CHECK(!opens_after(work, len), "slot kind");

    /* random re-signed damage: open() decides, and never crashes */
    seed = 12345;
    opened = 0;
    for (i = 0; i < 3000; i++) {
        size_t  k, pos;

        RESET();
        for (k = 0; k < 1 + i % 4; k++) {
            seed = seed * 1103515245 + 12345;
            pos = (seed >> 8) % len;
            seed = seed * 1103515245 + 12345;
            work[pos] = (char) (seed >> 16);
        }

        if (opens_after(work, len)) {
            airouter_query_t  q;

            opened++;
            airouter_query_resolve((airouter_catalog_t *) work, "tag:free",
                                   8, &q);
            airouter_query_resolve((airouter_catalog_t *) work, "qwen3:8b",
                                   8, &q);
        }
    }
    UNIT_CHECK(opened < 3000, "random damage mostly refused (%zu opened)",
               opened);

#undef RESET

    free(work);
    free(blob);
}


static const chan_spec_t  fixture_spec[] = {
    { "openrouter", "", 0, 0, -1, 0, NULL, NULL, NULL, NULL },
    { "deepseek", "", 0, 0, -1, 0, NULL, NULL, NULL, NULL },
    { "groq", "", 0, 0, -1, 0, NULL, NULL, NULL, NULL },
    { "lmstudio", "", 1, 0, -1, 0, NULL, NULL, NULL, NULL },
    { "ollama", "", 1, 1, -1, 0, NULL, NULL, NULL, NULL },
    { "openai", "", 0, 0, -1, 0, NULL, NULL, NULL, NULL },
    { "siliconflow", "", 0, 0, -1, 0, NULL, NULL, NULL, NULL },
    { "zhipu", "", 0, 0, -1, 0, NULL, NULL, NULL, NULL }
};

static const char  *fixture_file[] = {
    "openrouter-models.json",
    "providers/deepseek-models.json",
    "providers/groq-openai-v1-models.json",
    "providers/lmstudio-v1-models.json",
    "providers/ollama-v1-models.json",
    "providers/openai-v1-models.json",
    "providers/siliconflow-v1-models.json",
    "providers/zhipu-v4-models.json"
};


/* The ids a query matches, as "channel:id" lines, and checks on each. */
static size_t
matches(const airouter_catalog_t *cat, const char *query, char *out,
    size_t size, airouter_stage_e *stage)
{
    size_t                           n, used;
    uint32_t                         x;
    airouter_query_t                 q;
    airouter_query_iter_t            it;
    const airouter_catalog_model_t  *m;

    n = 0;
    used = 0;
    out[0] = '\0';

    if (airouter_query_resolve(cat, query, strlen(query), &q)
        != AIROUTER_QUERY_OK)
    {
        *stage = AIROUTER_STAGE_NONE;
        return 0;
    }

    *stage = q.stage;
    airouter_query_iter_init(&it, &q);

    while (airouter_query_next(&it, &x)) {
        m = airouter_catalog_model(cat, x);
        used += snprintf(out + used, used < size ? size - used : 0,
                         "%s:%s\n", fixture_spec[m->channel].id,
                         airouter_catalog_model_id(cat, m));
        n++;
    }

    return n;
}


static void
test_fixtures(void)
{
    char                            *json, *out, err[256], path[1024];
    void                            *blob;
    size_t                           i, j, len, n, nfree, nall;
    uint32_t                         x;
    airouter_stage_e                 stage;
    airouter_config_t               *cf;
    airouter_query_t                 q;
    airouter_query_iter_t            it;
    airouter_model_info_t           *info;
    airouter_catalog_builder_t      *b;
    const airouter_catalog_t        *cat;
    const airouter_catalog_model_t  *m;

    cf = make_config(fixture_spec, 8);
    b = airouter_catalog_builder_create(cf);
    nall = 0;

    for (i = 0; i < 8; i++) {
        json = unit_read_file(unit_fixture(path, sizeof(path),
                                           fixture_file[i]), &len);
        UNIT_CHECK(json != NULL, "read %s", path);
        if (json == NULL) {
            return;
        }

        UNIT_CHECK(airouter_models_json_parse(json, len, &info, &n, err,
                                              sizeof(err)) == 0,
                   "parse %s: %s", fixture_file[i], err);

        if (i == 0) {
            UNIT_CHECK(n == 554, "openrouter has 554 models, got %zu", n);
        }

        for (j = 0; j < n; j++) {
            UNIT_CHECK(airouter_catalog_builder_add_model(b, (uint32_t) i,
                                                          &info[j]) == 0,
                       "add %s", info[j].id);
        }

        nall += n;
        airouter_models_json_free(info);
        free(json);
    }

    UNIT_CHECK(airouter_models_json_parse("{", 1, &info, &n, err,
                                          sizeof(err)) != 0, "bad json");
    UNIT_CHECK(airouter_models_json_parse("{\"x\":1}", 7, &info, &n, err,
                                          sizeof(err)) != 0, "no list");

    /* an id with a control character never reaches a header: skipped */
    {
        static const char  ctl[] =
            "{\"data\":[{\"id\":\"evil\\r\\nX-Injected: 1\"},"
            "{\"id\":\"tab\\there\"},{\"id\":\"del\\u007f\"},"
            "{\"id\":\"fine-model\"}]}";

        UNIT_CHECK(airouter_models_json_parse(ctl, sizeof(ctl) - 1, &info,
                                              &n, err, sizeof(err)) == 0
                   && n == 1 && strcmp(info[0].id, "fine-model") == 0,
                   "control characters: %zu left", n);
        airouter_models_json_free(info);
    }

    /* OpenRouter's supported_parameters: the table's bits (names it
     * does not know left out); no list: unknown */
    {
        static const char  sp[] =
            "{\"data\":[{\"id\":\"a/x\",\"supported_parameters\":"
            "[\"tools\",\"seed\",\"frobnicate\",7]},{\"id\":\"a/y\"},"
            "{\"id\":\"a/z\",\"supported_parameters\":[]}]}";

        UNIT_CHECK(airouter_models_json_parse(sp, sizeof(sp) - 1, &info,
                                              &n, err, sizeof(err)) == 0
                   && n == 3, "supported_parameters: %zu", n);
        if (n == 3) {
            UNIT_CHECK(info[0].params_known
                       && info[0].params == (AIROUTER_PARAM_BIT(TOOLS)
                                             | AIROUTER_PARAM_BIT(SEED))
                       && (info[0].caps & AIROUTER_CAP_TOOLS),
                       "a/x params %x", info[0].params);
            UNIT_CHECK(!info[1].params_known && info[1].params == 0,
                       "a/y unknown");
            UNIT_CHECK(info[2].params_known && info[2].params == 0,
                       "a/z takes none of them");
        }
        airouter_models_json_free(info);
    }

    /* kinds the sources state: SiliconFlow sub_type, Together type,
     * Ollama's bert family, OpenRouter's output modalities */
    {
        static const char  kinds[] =
            "{\"data\":["
            "{\"id\":\"BAAI/bge-m3\",\"type\":\"text\","
            "\"sub_type\":\"reranker\"},"
            "{\"id\":\"a/model-1\",\"type\":\"image\","
            "\"sub_type\":\"text-to-image\"},"
            "{\"id\":\"a/model-2\",\"type\":\"audio\","
            "\"sub_type\":\"speech-to-text\"},"
            "{\"id\":\"a/model-3\",\"type\":\"transcribe\"},"
            "{\"id\":\"a/model-4\",\"type\":\"moderation\"},"
            "{\"id\":\"all-minilm\",\"details\":{\"family\":"
            "\"bert\"}},"
            "{\"id\":\"o/voice\",\"architecture\":{"
            "\"output_modalities\":[\"audio\"]}},"
            "{\"id\":\"a/model-5\",\"type\":\"text\"}"
            "]}";
        static const uint32_t  want[] = {
            AIROUTER_CAP_RERANK, AIROUTER_CAP_IMAGE_GEN,
            AIROUTER_CAP_TRANSCRIPTION, AIROUTER_CAP_TRANSCRIPTION,
            AIROUTER_CAP_MODERATION, AIROUTER_CAP_EMBEDDING,
            AIROUTER_CAP_SPEECH, 0
        };
        size_t             k;

        UNIT_CHECK(airouter_models_json_parse(kinds, sizeof(kinds) - 1,
                                              &info, &n, err, sizeof(err))
                   == 0 && n == 8, "kinds parse: %s", err);
        for (k = 0; k < n && k < 8; k++) {
            UNIT_CHECK((info[k].caps & AIROUTER_CAP_KIND) == want[k]
                       && ((info[k].caps_known & AIROUTER_CAP_KIND) != 0)
                          == (want[k] != 0),
                       "kind of %s: %x known %x", info[k].id,
                       info[k].caps, info[k].caps_known);
        }

        airouter_models_json_free(info);
    }

    /* OpenRouter's prompt-cache prices, strings per token like the rest */
    {
        static const char  cached[] =
            "{\"data\":[{\"id\":\"anthropic/claude-3-haiku\","
            "\"pricing\":{\"prompt\":\"0.00000025\","
            "\"completion\":\"0.00000125\","
            "\"input_cache_read\":\"0.00000003\","
            "\"input_cache_write\":\"0.0000003\"}},"
            "{\"id\":\"x/plain\",\"pricing\":{\"prompt\":\"0.000001\","
            "\"completion\":\"0.000002\"}}]}";

        UNIT_CHECK(airouter_models_json_parse(cached, sizeof(cached) - 1,
                                              &info, &n, err, sizeof(err))
                   == 0 && n == 2, "cache prices parse: %s", err);
        if (n == 2) {
            UNIT_CHECK(info[0].has_cache_read && info[0].has_cache_write
                       && info[0].price_cache_read > 2.9e-8
                       && info[0].price_cache_read < 3.1e-8
                       && info[0].price_cache_write > 2.9e-7
                       && info[0].price_cache_write < 3.1e-7,
                       "cache prices %g %g", info[0].price_cache_read,
                       info[0].price_cache_write);
            UNIT_CHECK(!info[1].has_cache_read && !info[1].has_cache_write,
                       "no cache prices");
        }

        airouter_models_json_free(info);
    }

    /* OpenRouter's price per request (alone too); its "image" (an image
     * in the prompt) is not a price per generated image */
    {
        static const char  req[] =
            "{\"data\":[{\"id\":\"perplexity/sonar\","
            "\"pricing\":{\"prompt\":\"0.000001\","
            "\"completion\":\"0.000001\",\"request\":\"0.005\","
            "\"image\":\"0.0048\"}},"
            "{\"id\":\"x/req-only\",\"pricing\":{\"request\":0.02}},"
            "{\"id\":\"x/neg\",\"pricing\":{\"prompt\":\"0\","
            "\"completion\":\"0\",\"request\":\"-1\"}}]}";

        UNIT_CHECK(airouter_models_json_parse(req, sizeof(req) - 1,
                                              &info, &n, err, sizeof(err))
                   == 0 && n == 3, "request prices parse: %s", err);
        if (n == 3) {
            UNIT_CHECK(info[0].has_price && info[0].has_units
                       && info[0].units.request > 0.0049
                       && info[0].units.request < 0.0051
                       && info[0].units.image == -1, "sonar per request");
            UNIT_CHECK(!info[1].has_price && info[1].has_units
                       && info[1].units.request > 0.019, "request alone");
            UNIT_CHECK(info[2].has_price && !info[2].has_units,
                       "a negative request price is none");
        }

        airouter_models_json_free(info);
    }

    blob = airouter_catalog_builder_finish(b, &len);
    airouter_catalog_builder_destroy(b);
    cat = airouter_catalog_open(blob, len);
    UNIT_CHECK(cat != NULL, "open");
    if (cat == NULL) {
        return;
    }

    UNIT_CHECK(cat->nmodels == nall, "models %u of %zu", cat->nmodels, nall);

    out = malloc(65536);

    /* OpenRouter's facts came through */
    m = unit_find_model(cat, 0, "openai/gpt-4o");
    UNIT_CHECK(m != NULL && (m->caps & AIROUTER_CAP_VISION)
               && (m->caps & AIROUTER_CAP_TOOLS) && m->context == 128000
               && (m->flags & AIROUTER_MODEL_PRICED), "gpt-4o facts");
    m = unit_find_model(cat, 0, "qwen/qwen3-30b-a3b:free");
    UNIT_CHECK(m != NULL && (m->flags & AIROUTER_MODEL_FREE)
               && m->context > 0, "qwen3-30b free");
    m = unit_find_model(cat, 2, "llama-3.1-8b-instant");
    UNIT_CHECK(m != NULL && m->context == 131072, "groq context_window");
    m = unit_find_model(cat, 2, "whisper-large-v3");
    UNIT_CHECK(m != NULL && (m->caps & AIROUTER_CAP_KIND)
               == AIROUTER_CAP_TRANSCRIPTION, "whisper");
    m = unit_find_model(cat, 6, "BAAI/bge-reranker-v2-m3");
    UNIT_CHECK(m != NULL && (m->caps & AIROUTER_CAP_KIND)
               == AIROUTER_CAP_RERANK, "reranker");
    m = unit_find_model(cat, 0, "openrouter/andromeda-alpha");
    UNIT_CHECK(m != NULL && (m->flags & AIROUTER_MODEL_FREE),
               "zero price without :free is free");
    m = unit_find_model(cat, 0, "allenai/llama-3.1-tulu-3-405b");
    UNIT_CHECK(m != NULL && !(m->flags & AIROUTER_MODEL_PRICED)
               && !(m->flags & AIROUTER_MODEL_FREE), "no pricing: unknown");

    /* tag:free: exactly the entries the free rule admits */
    n = matches(cat, "tag:free", out, 65536, &stage);
    nfree = 0;
    for (x = 0; x < cat->nmodels; x++) {
        m = airouter_catalog_model(cat, x);
        if ((m->flags & AIROUTER_MODEL_PRICED) && m->price_prompt == 0
            && m->price_completion == 0)
        {
            nfree++;
        } else if (strstr(airouter_catalog_model_id(cat, m), ":free")) {
            nfree++;
        } else if (m->channel == 4) {
            nfree++;
        }
    }
    UNIT_CHECK(stage == AIROUTER_STAGE_TAG, "tag stage");
    UNIT_CHECK(n == nfree && n == 53 + 5, "tag:free %zu, rule %zu", n, nfree);
    UNIT_CHECK(strstr(out, "openrouter:qwen/qwen3-coder:free\n") != NULL,
               "coder free");
    UNIT_CHECK(strstr(out, "ollama:qwen3:8b\n") != NULL, "ollama free");
    UNIT_CHECK(strstr(out, "gemma-3-12b\n") == NULL, "no gemma-3-12b");
    UNIT_CHECK(strstr(out, "openrouter:openai/gpt-4o\n") == NULL, "no gpt");

    /* tag:qwen3,free: both, strictly */
    n = matches(cat, "tag:qwen3,free", out, 65536, &stage);
    UNIT_CHECK(n == 9, "tag:qwen3,free -> %zu\n%s", n, out);
    UNIT_CHECK(strstr(out, "openrouter:qwen/qwen3-235b-a22b:free\n")
               && strstr(out, "openrouter:qwen/qwen3-coder:free\n")
               && strstr(out, "openrouter:qwen/qwen3-4b:free\n")
               && strstr(out, "openrouter:deepseek/deepseek-r1-0528-qwen3-8b:"
                          "free\n")
               && strstr(out, "ollama:qwen3:0.6b\n")
               && strstr(out, "ollama:qwen3:8b\n"), "tag:qwen3,free\n%s",
               out);
    UNIT_CHECK(strstr(out, "gemma") == NULL
               && strstr(out, "lmstudio:") == NULL
               && strstr(out, "openrouter:qwen/qwen3-8b\n") == NULL,
               "never gemma, never paid qwen3");

    /* tag:gpt,!free */
    n = matches(cat, "tag:gpt,!free", out, 65536, &stage);
    UNIT_CHECK(n > 40, "tag:gpt,!free -> %zu", n);
    UNIT_CHECK(strstr(out, "openai:gpt-4o\n")
               && strstr(out, "openrouter:openai/gpt-4o-mini\n")
               && strstr(out, "openrouter:openai/gpt-oss-20b\n"),
               "gpts\n%s", out);
    UNIT_CHECK(strstr(out, ":free\n") == NULL, "no free gpt");

    /* core names */
    n = matches(cat, "qwen3-235b-a22b", out, 65536, &stage);
    UNIT_CHECK(stage == AIROUTER_STAGE_CORE && n == 3, "core %zu", n);
    UNIT_STREQ(out, "openrouter:qwen/qwen3-235b-a22b\n"
                    "openrouter:qwen/qwen3-235b-a22b:free\n"
                    "siliconflow:Qwen/Qwen3-235B-A22B\n");

    n = matches(cat, "claude-3-haiku", out, 65536, &stage);
    UNIT_CHECK(stage == AIROUTER_STAGE_CORE && n == 1, "claude %zu", n);
    UNIT_STREQ(out, "openrouter:anthropic/claude-3-haiku\n");

    n = matches(cat, "claude-3-haiku-20240307", out, 65536, &stage);
    UNIT_CHECK(stage == AIROUTER_STAGE_CORE, "dated query");
    UNIT_STREQ(out, "openrouter:anthropic/claude-3-haiku\n");

    /* physical first: gpt-4o is an id at OpenAI */
    n = matches(cat, "gpt-4o", out, 65536, &stage);
    UNIT_CHECK(stage == AIROUTER_STAGE_PHYSICAL, "physical");
    UNIT_STREQ(out, "openai:gpt-4o\n");

    n = matches(cat, "qwen3:8b", out, 65536, &stage);
    UNIT_STREQ(out, "ollama:qwen3:8b\n");

    n = matches(cat, "kimi-free", out, 65536, &stage);
    UNIT_CHECK(stage == AIROUTER_STAGE_IMPLICIT_TAG && n == 2,
               "kimi-free %zu", n);
    UNIT_STREQ(out, "openrouter:moonshotai/kimi-dev-72b:free\n"
                    "openrouter:moonshotai/kimi-k2:free\n");

    /* every match of every single tag really carries it */
    for (i = 0; i < cat->ntags; i++) {
        snprintf(err, sizeof(err), "tag:%s",
                 airouter_catalog_tag_name(cat, i));
        airouter_query_resolve(cat, err, strlen(err), &q);
        airouter_query_iter_init(&it, &q);
        n = 0;
        while (airouter_query_next(&it, &x)) {
            n++;
            if (!airouter_catalog_model_has_tag(cat,
                                                airouter_catalog_model(cat, x),
                                                (uint32_t) i))
            {
                break;
            }
        }
        if (n != airouter_catalog_tag(cat, i)->count) {
            UNIT_CHECK(0, "tag %s", err);
        }
    }

    free(out);
    free(blob);
}


/*
 * A finish in steps (discovery's slices) lays out the very blob one
 * finish() call does, whatever the budget; a step out of turn is refused.
 */
static void
test_finish_steps(void)
{
    int                          rc;
    char                        *json, err[256], path[1024];
    void                        *one, *sliced;
    size_t                       i, j, len, len1, n, steps, budget;
    airouter_config_t           *cf;
    airouter_model_info_t       *info;
    airouter_catalog_builder_t  *b, *b1;

    static const size_t  budgets[] = { 1, 7, 256, 100000 };

    for (j = 0; j < sizeof(budgets) / sizeof(budgets[0]); j++) {
        budget = budgets[j];
        cf = make_config(fixture_spec, 8);
        b1 = airouter_catalog_builder_create(cf);
        b = airouter_catalog_builder_create(cf);

        for (i = 0; i < 8; i++) {
            json = unit_read_file(unit_fixture(path, sizeof(path),
                                               fixture_file[i]), &len);
            if (json == NULL
                || airouter_models_json_parse(json, len, &info, &n, err,
                                              sizeof(err)) != 0)
            {
                UNIT_CHECK(0, "fixture %s", fixture_file[i]);
                free(json);
                return;
            }

            while (n > 0) {
                (void) airouter_catalog_builder_add_model(b1, (uint32_t) i,
                                                          &info[n - 1]);
                (void) airouter_catalog_builder_add_model(b, (uint32_t) i,
                                                          &info[n - 1]);
                n--;
            }

            airouter_models_json_free(info);
            free(json);
        }

        UNIT_CHECK(airouter_catalog_builder_finish_step(b, 1) == -1,
                   "a step before start is refused");
        UNIT_CHECK(airouter_catalog_builder_finish_end(b, &len) == NULL,
                   "an end before start is refused");

        one = airouter_catalog_builder_finish(b1, &len1);

        UNIT_CHECK(airouter_catalog_builder_finish_start(b) == 0, "start");
        UNIT_CHECK(airouter_catalog_builder_finish_start(b) == -1,
                   "one finish at a time");
        UNIT_CHECK(airouter_catalog_builder_finish_end(b, &len) == NULL,
                   "an end with steps left is refused, the finish goes on");

        steps = 0;

        do {
            rc = airouter_catalog_builder_finish_step(b, budget);
            steps++;
        } while (rc == 1);

        UNIT_CHECK(rc == 0, "steps of %zu: %s", budget,
                   airouter_catalog_builder_error(b));
        UNIT_CHECK(budget != 256 || steps >= 2, "%zu steps of 256", steps);

        sliced = airouter_catalog_builder_finish_end(b, &len);

        UNIT_CHECK(one != NULL && sliced != NULL && len == len1
                   && memcmp(one, sliced, len) == 0,
                   "steps of %zu give the same blob (%zu, %zu bytes)",
                   budget, len, len1);

        airouter_catalog_blob_free(one);
        airouter_catalog_blob_free(sliced);
        airouter_catalog_builder_destroy(b1);
        airouter_catalog_builder_destroy(b);
    }

    /* a builder destroyed in the middle of a finish releases it */
    b = airouter_catalog_builder_create(make_config(fixture_spec, 8));
    UNIT_CHECK(airouter_catalog_builder_add_config(b) == 0
               && airouter_catalog_builder_finish_start(b) == 0,
               "start on the configuration");
    airouter_catalog_builder_destroy(b);
}


/*
 * Discovery adds the channels it takes from the current catalogue first
 * (on the event loop) and the fresh /models answers after them (in a
 * thread): the blob must not depend on the order channels are added in.
 * Entries merge per (channel, id), so only a channel's own order counts;
 * the configuration goes first in both builds, as in discovery.
 */
static void
test_channel_order(void)
{
    char                        *json[8], err[256], path[1024];
    void                        *fwd, *rev;
    size_t                       i, k, len[8], n[8], lf, lr;
    airouter_config_t           *cf;
    airouter_model_info_t       *info[8];
    airouter_catalog_builder_t  *bf, *br;

    cf = make_config(fixture_spec, 8);
    bf = airouter_catalog_builder_create(cf);
    br = airouter_catalog_builder_create(cf);

    UNIT_CHECK(airouter_catalog_builder_add_config(bf) == 0
               && airouter_catalog_builder_add_config(br) == 0, "config");

    for (i = 0; i < 8; i++) {
        json[i] = unit_read_file(unit_fixture(path, sizeof(path),
                                              fixture_file[i]), &len[i]);
        if (json[i] == NULL
            || airouter_models_json_parse(json[i], len[i], &info[i], &n[i],
                                          err, sizeof(err)) != 0)
        {
            UNIT_CHECK(0, "fixture %s", fixture_file[i]);
            return;
        }
    }

    /* channels 0..7 in turn; then 7..0, each channel's models in order */
    for (i = 0; i < 8; i++) {
        for (k = 0; k < n[i]; k++) {
            (void) airouter_catalog_builder_add_model(bf, (uint32_t) i,
                                                      &info[i][k]);
        }
    }

    for (i = 8; i-- > 0; ) {
        for (k = 0; k < n[i]; k++) {
            (void) airouter_catalog_builder_add_model(br, (uint32_t) i,
                                                      &info[i][k]);
        }
    }

    fwd = airouter_catalog_builder_finish(bf, &lf);
    rev = airouter_catalog_builder_finish(br, &lr);

    UNIT_CHECK(fwd != NULL && rev != NULL && lf == lr
               && memcmp(fwd, rev, lf) == 0,
               "channel order: the same blob (%zu, %zu bytes)", lf, lr);
    k = fwd ? airouter_catalog_nmodels(airouter_catalog_open(fwd, lf)) : 0;
    UNIT_CHECK(k > 600, "the blob holds the fixtures: %zu models", k);

    for (i = 0; i < 8; i++) {
        airouter_models_json_free(info[i]);
        free(json[i]);
    }

    airouter_catalog_blob_free(fwd);
    airouter_catalog_blob_free(rev);
    airouter_catalog_builder_destroy(bf);
    airouter_catalog_builder_destroy(br);
}


/*
 * A channel's capabilities list is a default for its configured models:
 * what an OpenRouter-shape answer states of one model beats it
 * (supported_parameters without "tools", input_modalities without
 * "image"); a feature the answer does not state keeps the channel's.
 */
static void
test_channel_caps_default(void)
{
    void                            *blob;
    char                             err[256];
    size_t                           i, n, len;
    uint32_t                         x;
    const char                      *id;
    airouter_config_t               *cf;
    airouter_model_info_t           *info;
    airouter_catalog_builder_t      *b;
    const airouter_catalog_t        *cat;
    const airouter_catalog_model_t  *m;

    static const chan_spec_t  spec[] = {
        { "or", "a/notools,a/tools,a/silent", 0, 0, -1, 0, NULL, NULL,
          "text,function_calling,vision", NULL }
    };
    static const char  answer[] =
        "{\"data\":["
        "{\"id\":\"a/notools\",\"supported_parameters\":[\"temperature\"],"
        "\"architecture\":{\"input_modalities\":[\"text\"],"
        "\"output_modalities\":[\"text\"]}},"
        "{\"id\":\"a/tools\",\"supported_parameters\":[\"tools\"]},"
        "{\"id\":\"a/silent\"}]}";

    cf = make_config(spec, 1);
    b = airouter_catalog_builder_create(cf);

    UNIT_CHECK(airouter_catalog_builder_add_config(b) == 0
               && airouter_models_json_parse(answer, sizeof(answer) - 1,
                                             &info, &n, err, sizeof(err))
                  == 0 && n == 3, "config and answer");

    for (i = 0; i < n; i++) {
        airouter_catalog_builder_add_model(b, 0, &info[i]);
    }

    airouter_models_json_free(info);

    blob = airouter_catalog_builder_finish(b, &len);
    cat = blob ? airouter_catalog_open(blob, len) : NULL;
    UNIT_CHECK(cat != NULL && airouter_catalog_nmodels(cat) == 3,
               "catalogue");

    for (x = 0; cat && x < airouter_catalog_nmodels(cat); x++) {
        m = airouter_catalog_model(cat, x);
        id = airouter_catalog_model_id(cat, m);

        if (strcmp(id, "a/notools") == 0) {
            UNIT_CHECK(!(m->caps & (AIROUTER_CAP_TOOLS | AIROUTER_CAP_VISION))
                       && (m->caps_known & AIROUTER_CAP_TOOLS)
                       && (m->caps_known & AIROUTER_CAP_VISION),
                       "the answer beats the channel: %s %x %x", id,
                       m->caps, m->caps_known);

        } else {
            UNIT_CHECK((m->caps & AIROUTER_CAP_TOOLS)
                       && (m->caps & AIROUTER_CAP_VISION),
                       "the channel's where the answer says nothing: "
                       "%s %x", id, m->caps);
        }
    }

    airouter_catalog_blob_free(blob);
    airouter_catalog_builder_destroy(b);
}


int
main(void)
{
    test_config_build();
    test_empty();
    test_corruption();
    test_fixtures();
    test_finish_steps();
    test_channel_order();
    test_channel_caps_default();
    unit_free_all();

    UNIT_DONE("test_catalog");
}
