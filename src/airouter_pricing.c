/*
 * Price files (see airouter_pricing.h): parsed with jansson into one
 * sorted array of (key, rank, file order) so a lookup is a binary search.
 * Keys are lowercase; a name with a provider prefix is entered twice, as
 * is (rank 0) and without the prefix (rank 1), so the exact name wins.
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "airouter_pricing.h"


typedef struct {
    char                     *key;
    unsigned                  rank;
    size_t                    order;
    char                      currency[8];
    char                      provider[32]; /* "": every channel */
    airouter_price_t          price;
} airouter_pricing_entry_t;


struct airouter_pricing_s {
    airouter_pricing_entry_t *entries;
    size_t                    n;
    size_t                    cap;
    size_t                    models;       /* distinct names read */
};


/* What one file says of all its models. */
typedef struct {
    const char               *currency;
    const char               *provider;
} airouter_pricing_file_t;


static long airouter_pricing_litellm(airouter_pricing_t *p, json_t *root);
static long airouter_pricing_unified(airouter_pricing_t *p, json_t *root,
    char *err, size_t errlen);
static int airouter_pricing_add(airouter_pricing_t *p, const char *name,
    const airouter_price_t *price, const airouter_pricing_file_t *file);
static int airouter_pricing_push(airouter_pricing_t *p, const char *key,
    size_t len, unsigned rank, const airouter_price_t *price,
    const airouter_pricing_file_t *file);
static int airouter_pricing_cmp(const void *a, const void *b);
static const airouter_pricing_entry_t *airouter_pricing_lookup(
    const airouter_pricing_t *p, const char *key, size_t len,
    const char *provider, const char *channel);
static int airouter_pricing_applies(const airouter_pricing_entry_t *e,
    const char *provider, const char *channel);
static uint64_t airouter_pricing_tokens(json_t *v);
static double airouter_pricing_number(json_t *v, double scale);
static void airouter_pricing_litellm_units(json_t *v,
    airouter_unit_price_t *u);


airouter_pricing_t *
airouter_pricing_create(void)
{
    return calloc(1, sizeof(airouter_pricing_t));
}


void
airouter_pricing_free(airouter_pricing_t *p)
{
    size_t  i;

    if (p == NULL) {
        return;
    }

    for (i = 0; i < p->n; i++) {
        free(p->entries[i].key);
    }

    free(p->entries);
    free(p);
}


size_t
airouter_pricing_count(const airouter_pricing_t *p)
{
    return p->models;
}


long
airouter_pricing_add_file(airouter_pricing_t *p, const char *path, char *err,
    size_t errlen)
{
    long     n;
    char    *buf;
    long     size;
    FILE    *f;

    f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open %s", path);
        return -1;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        fclose(f);
        snprintf(err, errlen, "cannot read %s", path);
        return -1;
    }

    buf = malloc(size + 1);
    if (buf == NULL) {
        fclose(f);
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    if (fread(buf, 1, size, f) != (size_t) size) {
        free(buf);
        fclose(f);
        snprintf(err, errlen, "cannot read %s", path);
        return -1;
    }

    fclose(f);

    n = airouter_pricing_add_json(p, buf, size, err, errlen);
    free(buf);

    return n;
}


long
airouter_pricing_add_json(airouter_pricing_t *p, const char *json,
    size_t len, char *err, size_t errlen)
{
    long          n;
    size_t        i, before;
    json_t       *root;
    json_error_t  jerr;

    root = json_loadb(json, len, 0, &jerr);
    if (root == NULL) {
        snprintf(err, errlen, "line %d: %s", jerr.line, jerr.text);
        return -1;
    }

    if (!json_is_object(root)) {
        json_decref(root);
        snprintf(err, errlen, "not a JSON object");
        return -1;
    }

    before = p->n;

    if (json_is_object(json_object_get(root, "models"))) {
        n = airouter_pricing_unified(p, root, err, errlen);

    } else {
        n = airouter_pricing_litellm(p, root);
    }

    json_decref(root);

    if (n < 0) {
        for (i = before; i < p->n; i++) {
            free(p->entries[i].key);
        }

        p->n = before;
        return -1;
    }

    if (p->n > 0) {             /* entries is NULL until the first one */
        qsort(p->entries, p->n, sizeof(airouter_pricing_entry_t),
              airouter_pricing_cmp);
    }

    /* the currency strings live in the entries, which have moved */
    for (i = 0; i < p->n; i++) {
        p->entries[i].price.currency = p->entries[i].currency;
    }

    p->models += n;

    return n;
}


/*
 * {"model": {"input_cost_per_token": ..., "output_cost_per_token": ...}},
 * or a model priced per unit only ("whisper-1": input_cost_per_second).
 */
static long
airouter_pricing_litellm(airouter_pricing_t *p, json_t *root)
{
    long                     n;
    int                      tokens;
    json_t                  *v, *in, *out;
    const char              *name;
    airouter_price_t         price;
    airouter_pricing_file_t  file;

    n = 0;
    file.currency = "USD";
    file.provider = "";

    json_object_foreach(root, name, v) {
        if (!json_is_object(v)) {
            continue;
        }

        memset(&price, 0, sizeof(price));
        airouter_pricing_litellm_units(v, &price.unit);

        in = json_object_get(v, "input_cost_per_token");
        out = json_object_get(v, "output_cost_per_token");

        /* a negative price is no price */
        tokens = json_is_number(in) && json_is_number(out)
                 && json_number_value(in) >= 0
                 && json_number_value(out) >= 0;

        if (!tokens && !airouter_unit_price_known(&price.unit)) {
            continue;           /* "sample_spec", models priced otherwise */
        }

        price.prompt = tokens ? json_number_value(in) : -1;
        price.completion = tokens ? json_number_value(out) : -1;
        price.cache_read = airouter_pricing_number(json_object_get(v,
                                         "cache_read_input_token_cost"), 1);
        price.cache_write = airouter_pricing_number(json_object_get(v,
                                     "cache_creation_input_token_cost"), 1);
        price.context = airouter_pricing_tokens(json_object_get(v,
                                                   "max_input_tokens"));
        price.max_output = airouter_pricing_tokens(json_object_get(v,
                                                   "max_output_tokens"));

        if (airouter_pricing_add(p, name, &price, &file) != 0) {
            return -1;
        }

        n++;
    }

    return n;
}


/*
 * LiteLLM's prices per unit, for the units the router counts.  Two are
 * not read, because their unit cannot be counted honestly:
 * output_cost_per_second prices the seconds of audio a voice speaks, and
 * a speech answer is encoded audio (mp3 by default) whose length is known
 * only by decoding it: no usage field says it, and its bytes say nothing
 * exact.  input_cost_per_pixel is given under names that carry the
 * quality and size ("standard/1024-x-1024/dall-e-3"), which no served
 * model id is, and the price follows the size and quality a request asks
 * ("auto" included), which one price per image cannot hold.
 */
static void
airouter_pricing_litellm_units(json_t *v, airouter_unit_price_t *u)
{
    airouter_unit_price_init(u);

    u->request = airouter_pricing_number(json_object_get(v,
                                         "input_cost_per_request"), 1);
    u->image = airouter_pricing_number(json_object_get(v,
                                       "output_cost_per_image"), 1);
    u->second = airouter_pricing_number(json_object_get(v,
                                        "input_cost_per_second"), 1);
    u->character = airouter_pricing_number(json_object_get(v,
                                           "input_cost_per_character"), 1);
}


/* The seed's {"currency", "unit", "models": {id: {"pricing": {...}}}}. */
static long
airouter_pricing_unified(airouter_pricing_t *p, json_t *root, char *err,
    size_t errlen)
{
    long                     n;
    size_t                   len;
    double                   scale;
    json_t                  *models, *v, *pricing, *in, *out;
    const char              *name, *currency, *unit, *provider;
    airouter_price_t         price;
    airouter_pricing_file_t  file;

    currency = json_string_value(json_object_get(root, "currency"));
    unit = json_string_value(json_object_get(root, "unit"));
    provider = json_string_value(json_object_get(root, "provider"));

    if (currency == NULL) {
        currency = "USD";
    }

    len = strlen(currency);

    if (len == 0
        || len >= sizeof(((airouter_pricing_entry_t *) 0)->currency))
    {
        snprintf(err, errlen, "unknown currency \"%s\"", currency);
        return -1;
    }

    if (provider == NULL) {
        provider = "";
    }

    if (strlen(provider) >= sizeof(((airouter_pricing_entry_t *) 0)->provider))
    {
        snprintf(err, errlen, "provider name \"%s\" too long", provider);
        return -1;
    }

    file.currency = currency;
    file.provider = provider;

    if (unit == NULL || strcmp(unit, "per_million_tokens") == 0) {
        scale = 1e-6;

    } else if (strcmp(unit, "per_token") == 0) {
        scale = 1;

    } else {
        snprintf(err, errlen, "unknown unit \"%s\"", unit);
        return -1;
    }

    models = json_object_get(root, "models");
    n = 0;

    json_object_foreach(models, name, v) {
        pricing = json_object_get(v, "pricing");
        in = json_object_get(pricing, "prompt");
        out = json_object_get(pricing, "completion");

        if (!json_is_number(in) || !json_is_number(out)
            || json_number_value(in) < 0 || json_number_value(out) < 0)
        {
            continue;           /* a negative price is no price */
        }

        memset(&price, 0, sizeof(price));
        price.prompt = json_number_value(in) * scale;
        price.completion = json_number_value(out) * scale;
        price.cache_read = airouter_pricing_number(json_object_get(pricing,
                                             "input_cache_read"), scale);
        price.cache_write = airouter_pricing_number(json_object_get(pricing,
                                              "input_cache_write"), scale);
        price.context = airouter_pricing_tokens(json_object_get(v,
                                                    "context_length"));

        /* OpenRouter's price per request: per request whatever the unit */
        airouter_unit_price_init(&price.unit);
        price.unit.request = airouter_pricing_number(json_object_get(pricing,
                                                         "request"), 1);

        if (airouter_pricing_add(p, name, &price, &file) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }

        n++;
    }

    return n;
}


void
airouter_unit_price_init(airouter_unit_price_t *u)
{
    u->request = -1;
    u->image = -1;
    u->second = -1;
    u->character = -1;
}


int
airouter_unit_price_known(const airouter_unit_price_t *u)
{
    return u->request >= 0 || u->image >= 0 || u->second >= 0
           || u->character >= 0;
}


int
airouter_unit_price_positive(const airouter_unit_price_t *u)
{
    return u->request > 0 || u->image > 0 || u->second > 0
           || u->character > 0;
}


/* A price, scaled to per token; -1 when absent or negative. */
static double
airouter_pricing_number(json_t *v, double scale)
{
    double  d;

    if (!json_is_number(v)) {
        return -1;
    }

    d = json_number_value(v);

    return d >= 0 ? d * scale : -1;
}


static uint64_t
airouter_pricing_tokens(json_t *v)
{
    double  d;

    if (!json_is_number(v)) {
        return 0;
    }

    d = json_number_value(v);

    return d > 0 && d < 1e12 ? (uint64_t) d : 0;
}


static int
airouter_pricing_add(airouter_pricing_t *p, const char *name,
    const airouter_price_t *price, const airouter_pricing_file_t *file)
{
    const char  *slash;

    if (airouter_pricing_push(p, name, strlen(name), 0, price, file) != 0) {
        return -1;
    }

    slash = strrchr(name, '/');

    if (slash && slash[1] != '\0') {
        return airouter_pricing_push(p, slash + 1, strlen(slash + 1), 1,
                                     price, file);
    }

    return 0;
}


static int
airouter_pricing_push(airouter_pricing_t *p, const char *key, size_t len,
    unsigned rank, const airouter_price_t *price,
    const airouter_pricing_file_t *file)
{
    size_t                     i, cap;
    airouter_pricing_entry_t  *e;

    if (p->n == p->cap) {
        cap = p->cap ? p->cap * 2 : 256;

        e = realloc(p->entries, cap * sizeof(airouter_pricing_entry_t));
        if (e == NULL) {
            return -1;
        }

        p->entries = e;
        p->cap = cap;
    }

    e = &p->entries[p->n];

    e->key = malloc(len + 1);
    if (e->key == NULL) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        e->key[i] = (char) tolower((unsigned char) key[i]);
    }

    e->key[len] = '\0';
    e->rank = rank;
    e->order = p->n;
    e->price = *price;
    snprintf(e->currency, sizeof(e->currency), "%s", file->currency);
    snprintf(e->provider, sizeof(e->provider), "%s", file->provider);

    p->n++;

    return 0;
}


/* by key, then exact names before stripped ones, then first file first */
static int
airouter_pricing_cmp(const void *a, const void *b)
{
    int                              c;
    const airouter_pricing_entry_t  *x = a, *y = b;

    c = strcmp(x->key, y->key);
    if (c != 0) {
        return c;
    }

    if (x->rank != y->rank) {
        return x->rank < y->rank ? -1 : 1;
    }

    return x->order < y->order ? -1 : (x->order > y->order);
}


const airouter_price_t *
airouter_pricing_find(const airouter_pricing_t *p, const char *id,
    const char *provider, const char *channel)
{
    const char                      *slash;
    const airouter_pricing_entry_t  *e;

    if (p == NULL || id == NULL || p->n == 0) {
        return NULL;
    }

    e = airouter_pricing_lookup(p, id, strlen(id), provider, channel);

    if (e == NULL) {
        slash = strrchr(id, '/');

        if (slash && slash[1] != '\0') {
            e = airouter_pricing_lookup(p, slash + 1, strlen(slash + 1),
                                        provider, channel);
        }
    }

    return e ? &e->price : NULL;
}


/* The first entry of key (any case) that applies to the channel. */
static const airouter_pricing_entry_t *
airouter_pricing_lookup(const airouter_pricing_t *p, const char *key,
    size_t len, const char *provider, const char *channel)
{
    int     c;
    char    buf[256];
    size_t  i, lo, hi, mid;

    if (len >= sizeof(buf)) {
        return NULL;
    }

    for (i = 0; i < len; i++) {
        buf[i] = (char) tolower((unsigned char) key[i]);
    }

    buf[len] = '\0';

    lo = 0;
    hi = p->n;

    /* lower bound: the first entry whose key is not below buf */
    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = strcmp(p->entries[mid].key, buf);

        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }

    for ( /* void */ ; lo < p->n && strcmp(p->entries[lo].key, buf) == 0;
         lo++)
    {
        if (airouter_pricing_applies(&p->entries[lo], provider, channel)) {
            return &p->entries[lo];
        }
    }

    return NULL;
}


static int
airouter_pricing_applies(const airouter_pricing_entry_t *e,
    const char *provider, const char *channel)
{
    if (e->provider[0] == '\0') {
        return 1;
    }

    if (provider) {
        return strcasecmp(e->provider, provider) == 0;
    }

    return channel != NULL && strcasecmp(e->provider, channel) == 0;
}
