/*
 * The catalogue as clients list it: GET /v1/models (OpenAI's list format,
 * one object per routable (channel, model) pair, with airouter's own facts
 * under "airouter"), GET /v1/models/{id} and GET /v1/tags; Gemini's
 * models.list and models.get (GET /v1beta/models[/{model}]) in Google's
 * shape; Anthropic's (GET /v1/models[/{id}] with anthropic-version, as
 * its SDK sends) in Anthropic's.
 */

#include "ngx_http_airouter_api.h"
#include "ngx_http_airouter_catalog.h"
#include "ngx_http_airouter_header.h"
#include "ngx_http_airouter_response.h"
#include "airouter_dialect.h"


/* Anthropic's models.list: 20 a page unless limit says, at most 1000 */
#define NGX_HTTP_AIROUTER_ANTHROPIC_PAGE      20
#define NGX_HTTP_AIROUTER_ANTHROPIC_PAGE_MAX  1000


static ngx_int_t ngx_http_airouter_models_list(ngx_http_request_t *r,
    const airouter_catalog_t *cat, airouter_config_t *acf,
    const airouter_apikey_t *key);
static ngx_int_t ngx_http_airouter_models_one(ngx_http_request_t *r,
    const airouter_catalog_t *cat, airouter_config_t *acf, ngx_str_t *id,
    const airouter_apikey_t *key);
static ngx_int_t ngx_http_airouter_models_visible(
    const airouter_catalog_t *cat, const airouter_config_t *acf,
    const airouter_apikey_t *key, uint32_t i);
static ngx_int_t ngx_http_airouter_models_tags(ngx_http_request_t *r,
    const airouter_catalog_t *cat, const airouter_apikey_t *key);
static void ngx_http_airouter_models_unit(json_t *pricing, const char *name,
    double price);
static uint32_t *ngx_http_airouter_models_tag_counts(ngx_http_request_t *r,
    const airouter_catalog_t *cat, const airouter_apikey_t *key);
static ngx_int_t ngx_http_airouter_models_gemini_list(ngx_http_request_t *r,
    const airouter_catalog_t *cat, airouter_config_t *acf,
    const airouter_apikey_t *key);
static ngx_int_t ngx_http_airouter_models_gemini_first(
    const airouter_catalog_t *cat, const airouter_config_t *acf,
    const airouter_apikey_t *key, const char *name, size_t len);
static json_t *ngx_http_airouter_models_gemini_entry(
    const airouter_catalog_t *cat, uint32_t i);
static ngx_int_t ngx_http_airouter_models_first(const airouter_catalog_t *cat,
    const airouter_config_t *acf, const airouter_apikey_t *key,
    const char *name, size_t len, uint32_t kinds);
static ngx_int_t ngx_http_airouter_models_anthropic(ngx_http_request_t *r,
    const airouter_catalog_t *cat, airouter_config_t *acf, ngx_str_t *id,
    const airouter_apikey_t *key);
static json_t *ngx_http_airouter_models_anthropic_entry(
    const airouter_catalog_t *cat, uint32_t i);


/* the capabilities /v1/models lists: the kinds, then the features */
#define NGX_HTTP_AIROUTER_MODELS_CAP(bit, name)  { bit, name },

static const struct {
    uint32_t     bit;
    const char  *name;
} ngx_http_airouter_caps[] = {
    AIROUTER_KINDS(NGX_HTTP_AIROUTER_MODELS_CAP)
    { AIROUTER_CAP_VISION, "vision" },
    { AIROUTER_CAP_TOOLS, "tools" },
    { AIROUTER_CAP_REASONING, "reasoning" },
    { AIROUTER_CAP_CODE, "code" },
    { AIROUTER_CAP_VISION_ONLY, "vision_only" }
};


ngx_int_t
ngx_http_airouter_models_handler(ngx_http_request_t *r, ngx_str_t *path,
    const airouter_apikey_t *key)
{
    ngx_str_t                       id;
    const airouter_catalog_t       *cat;
    ngx_http_airouter_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airouter_module);
    cat = ngx_http_airouter_catalog_current(amcf);

    /* Anthropic's SDK: its shape, its kind of model (chat) */
    if (path->len >= sizeof("models") - 1
        && ngx_strncmp(path->data, "models", sizeof("models") - 1) == 0
        && ngx_http_airouter_header_find(&r->headers_in.headers,
                                         (u_char *) "anthropic-version",
                                         sizeof("anthropic-version") - 1))
    {
        id.data = path->data + sizeof("models") - 1;
        id.len = path->len - (sizeof("models") - 1);

        if (id.len == 0 || id.data[0] == '/') {
            id.data += id.len ? 1 : 0;
            id.len -= id.len ? 1 : 0;

            return ngx_http_airouter_models_anthropic(r, cat, amcf->config,
                                                      &id, key);
        }
    }

    if (path->len == sizeof("models") - 1
        && ngx_strncmp(path->data, "models", path->len) == 0)
    {
        return ngx_http_airouter_models_list(r, cat, amcf->config, key);
    }

    if (path->len > sizeof("models/") - 1
        && ngx_strncmp(path->data, "models/", sizeof("models/") - 1) == 0)
    {
        id.data = path->data + sizeof("models/") - 1;
        id.len = path->len - (sizeof("models/") - 1);

        return ngx_http_airouter_models_one(r, cat, amcf->config, &id, key);
    }

    if (path->len == sizeof("tags") - 1
        && ngx_strncmp(path->data, "tags", path->len) == 0)
    {
        return ngx_http_airouter_models_tags(r, cat, key);
    }

    return ngx_http_airouter_send_error(r, NGX_HTTP_NOT_FOUND,
               "invalid_request_error", "unknown_url",
               "Unknown request URL: GET %V", &r->uri);
}


/* One catalogue entry in OpenAI's model object, with our facts added. */
json_t *
ngx_http_airouter_models_entry(const airouter_catalog_t *cat,
    const airouter_config_t *acf, uint32_t i)
{
    size_t                           k;
    json_t                          *tags, *caps, *ours, *pricing;
    const uint32_t                  *t;
    const airouter_channel_t        *ch;
    const airouter_catalog_model_t  *m;

    m = airouter_catalog_model(cat, i);
    ch = &acf->channels[m->channel];

    tags = json_array();
    t = airouter_catalog_model_tags(cat, m);

    for (k = 0; k < m->ntags; k++) {
        json_array_append_new(tags,
                              json_string(airouter_catalog_tag_name(cat,
                                                                    t[k])));
    }

    caps = json_array();

    for (k = 0; k < sizeof(ngx_http_airouter_caps)
                    / sizeof(ngx_http_airouter_caps[0]); k++)
    {
        if (m->caps & ngx_http_airouter_caps[k].bit) {
            json_array_append_new(caps,
                json_string(ngx_http_airouter_caps[k].name));
        }
    }

    if (m->flags & AIROUTER_MODEL_PRICED) {
        pricing = json_pack("{s:f,s:f,s:s}",
                            "prompt", m->price_prompt,
                            "completion", m->price_completion,
                            "currency", airouter_catalog_model_currency(cat,
                                                                        m));

        /* named as OpenRouter names them; absent when unknown */
        if (pricing != NULL && m->price_cache_read >= 0) {
            json_object_set_new(pricing, "input_cache_read",
                                json_real(m->price_cache_read));
        }

        if (pricing != NULL && m->price_cache_write >= 0) {
            json_object_set_new(pricing, "input_cache_write",
                                json_real(m->price_cache_write));
        }

    } else if (m->flags & AIROUTER_MODEL_UNIT_PRICED) {
        pricing = json_pack("{s:s}", "currency",
                            airouter_catalog_model_currency(cat, m));

    } else {
        pricing = json_null();
    }

    /* prices per unit, each absent when unknown */
    if (json_is_object(pricing)) {
        ngx_http_airouter_models_unit(pricing, "per_request",
                                      m->price_unit.request);
        ngx_http_airouter_models_unit(pricing, "per_image",
                                      m->price_unit.image);
        ngx_http_airouter_models_unit(pricing, "per_second",
                                      m->price_unit.second);
        ngx_http_airouter_models_unit(pricing, "per_character",
                                      m->price_unit.character);
    }

    ours = json_pack("{s:s,s:s?,s:s,s:s?,s:o,s:o,s:o,s:b,s:b,s:b}",
                     "channel", ch->id,
                     "provider", ch->provider_name,
                     "core", airouter_catalog_model_core(cat, m),
                     "kind", airouter_tags_kind_name(m->caps),
                     "tags", tags,
                     "capabilities", caps,
                     "pricing", pricing,
                     "free", (m->flags & AIROUTER_MODEL_FREE) != 0,
                     "local", (m->flags & AIROUTER_MODEL_LOCAL) != 0,
                     "enabled", ch->enabled);
    if (ours == NULL) {
        return NULL;
    }

    if (m->context) {
        json_object_set_new(ours, "context_length",
                            json_integer((json_int_t) m->context));
    }

    if (m->params_total > 0) {
        json_object_set_new(ours, "parameters_millions",
                            json_real(m->params_total));
    }

    if (m->params_active > 0) {
        json_object_set_new(ours, "active_parameters_millions",
                            json_real(m->params_active));
    }

    json_object_set_new(ours, "quality", json_real(m->quality));

    return json_pack("{s:s,s:s,s:i,s:s,s:o}",
                     "id", airouter_catalog_model_id(cat, m),
                     "object", "model",
                     "created", 0,
                     "owned_by", ch->id,
                     "airouter", ours);
}


/* Listed: its channel is on and the client's key may reach it. */
static void
ngx_http_airouter_models_unit(json_t *pricing, const char *name, double price)
{
    if (price >= 0) {
        json_object_set_new(pricing, name, json_real(price));
    }
}


static ngx_int_t
ngx_http_airouter_models_visible(const airouter_catalog_t *cat,
    const airouter_config_t *acf, const airouter_apikey_t *key, uint32_t i)
{
    if (!acf->channels[airouter_catalog_model(cat, i)->channel].enabled) {
        return 0;
    }

    return key == NULL
           || airouter_route_key_allows(cat, &key->allowed_tags,
                                        &key->allowed_models, i);
}


static ngx_int_t
ngx_http_airouter_models_list(ngx_http_request_t *r,
    const airouter_catalog_t *cat, airouter_config_t *acf,
    const airouter_apikey_t *key)
{
    uint32_t   i;
    json_t    *data, *entry;

    data = json_array();
    if (data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < airouter_catalog_nmodels(cat); i++) {
        if (!ngx_http_airouter_models_visible(cat, acf, key, i)) {
            continue;
        }

        entry = ngx_http_airouter_models_entry(cat, acf, i);
        if (entry == NULL || json_array_append_new(data, entry) != 0) {
            json_decref(data);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_airouter_send_json(r, NGX_HTTP_OK,
               json_pack("{s:s,s:o}", "object", "list", "data", data));
}


/*
 * /v1/models/{id}: the id as a channel names it (any case); every channel
 * serving it is listed under "channels".
 */
static ngx_int_t
ngx_http_airouter_models_one(ngx_http_request_t *r,
    const airouter_catalog_t *cat, airouter_config_t *acf, ngx_str_t *id,
    const airouter_apikey_t *key)
{
    u_char                         *src, *dst;
    uint32_t                        k, idx;
    json_t                         *first, *channels;
    ngx_str_t                       decoded;
    const uint32_t                 *list;
    const airouter_catalog_slot_t  *slot;

    /* ids such as "qwen/qwen3-8b:free" may arrive percent-encoded */
    decoded.data = ngx_pnalloc(r->pool, id->len);
    if (decoded.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    src = id->data;
    dst = decoded.data;
    ngx_unescape_uri(&dst, &src, id->len, 0);
    decoded.len = dst - decoded.data;

    slot = airouter_catalog_lookup(cat, AIROUTER_KEY_PHYSICAL,
                                   (const char *) decoded.data, decoded.len);
    first = NULL;
    channels = json_array();

    if (slot) {
        list = airouter_catalog_postings(cat, slot->value);

        for (k = 0; k < slot->count; k++) {
            idx = list[k];

            if (!ngx_http_airouter_models_visible(cat, acf, key, idx)) {
                continue;
            }

            if (first == NULL) {
                first = ngx_http_airouter_models_entry(cat, acf, idx);
            }

            json_array_append_new(channels, json_string(
                acf->channels[airouter_catalog_model(cat, idx)->channel].id));
        }
    }

    if (first == NULL) {
        json_decref(channels);
        return ngx_http_airouter_send_error(r, NGX_HTTP_NOT_FOUND,
                   "invalid_request_error", "model_not_found",
                   "The model \"%V\" does not exist on any channel",
                   &decoded);
    }

    json_object_set_new(json_object_get(first, "airouter"), "channels",
                        channels);

    return ngx_http_airouter_send_json(r, NGX_HTTP_OK, first);
}


/*
 * /v1/tags: each tag and how many catalogue models carry it.  A key with
 * allowed_tags or allowed_models sees only the models it may reach, so
 * tags it cannot reach at all are left out.
 */
static ngx_int_t
ngx_http_airouter_models_tags(ngx_http_request_t *r,
    const airouter_catalog_t *cat, const airouter_apikey_t *key)
{
    uint32_t   t, n, *counts;
    json_t    *data;

    counts = NULL;

    if (key != NULL
        && (key->allowed_tags.n > 0 || key->allowed_models.n > 0)
        && airouter_catalog_ntags(cat) > 0)
    {
        counts = ngx_http_airouter_models_tag_counts(r, cat, key);
        if (counts == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    data = json_array();
    if (data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (t = 0; t < airouter_catalog_ntags(cat); t++) {
        if (counts == NULL) {
            n = airouter_catalog_tag(cat, t)->count;

        } else if (counts[t] > 0) {
            n = counts[t];

        } else {
            continue;
        }

        json_array_append_new(data, json_pack("{s:s,s:I}",
            "tag", airouter_catalog_tag_name(cat, t),
            "models", (json_int_t) n));
    }

    return ngx_http_airouter_send_json(r, NGX_HTTP_OK,
               json_pack("{s:s,s:o}", "object", "list", "data", data));
}


/*
 * Per tag index, the models key's ACL lets it reach: counted as the
 * catalogue's own tag counts are (disabled channels included), so a key
 * whose ACL covers everything sees the unrestricted answer.
 */
static uint32_t *
ngx_http_airouter_models_tag_counts(ngx_http_request_t *r,
    const airouter_catalog_t *cat, const airouter_apikey_t *key)
{
    uint32_t                         i, k, *counts;
    const uint32_t                  *t;
    const airouter_catalog_model_t  *m;

    counts = ngx_pcalloc(r->pool,
                         airouter_catalog_ntags(cat) * sizeof(uint32_t));
    if (counts == NULL) {
        return NULL;
    }

    for (i = 0; i < airouter_catalog_nmodels(cat); i++) {
        if (!airouter_route_key_allows(cat, &key->allowed_tags,
                                       &key->allowed_models, i))
        {
            continue;
        }

        m = airouter_catalog_model(cat, i);
        t = airouter_catalog_model_tags(cat, m);

        for (k = 0; k < m->ntags; k++) {
            counts[t[k]]++;
        }
    }

    return counts;
}


/* Gemini's pages: Google's default size and its largest */
#define NGX_HTTP_AIROUTER_GEMINI_PAGE      50
#define NGX_HTTP_AIROUTER_GEMINI_PAGE_MAX  1000


ngx_int_t
ngx_http_airouter_models_gemini(ngx_http_request_t *r,
    const airouter_apikey_t *key)
{
    size_t                          at, len;
    ngx_int_t                       i;
    const airouter_catalog_t       *cat;
    ngx_http_airouter_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airouter_module);
    cat = ngx_http_airouter_catalog_current(amcf);

    if (airouter_dialect_gemini_models((char *) r->uri.data, r->uri.len,
                                       &at, &len)
        == 1)
    {
        return ngx_http_airouter_models_gemini_list(r, cat, amcf->config,
                                                    key);
    }

    /* models.get: the name as the list gives it, "models/" and all */
    i = ngx_http_airouter_models_gemini_first(cat, amcf->config, key,
                                              (char *) r->uri.data + at, len);
    if (i < 0) {
        return ngx_http_airouter_send_error(r, NGX_HTTP_NOT_FOUND,
                   "invalid_request_error", "model_not_found",
                   "The model \"%*s\" does not exist on any channel",
                   len, r->uri.data + at);
    }

    return ngx_http_airouter_send_json(r, NGX_HTTP_OK,
               ngx_http_airouter_models_gemini_entry(cat, (uint32_t) i));
}


/*
 * One page: the chat and embedding models the key may reach, each name
 * once (its first visible entry), from the catalogue index pageToken says
 * (the index past the previous page's last entry, as nextPageToken gave
 * it).
 */
static ngx_int_t
ngx_http_airouter_models_gemini_list(ngx_http_request_t *r,
    const airouter_catalog_t *cat, airouter_config_t *acf,
    const airouter_apikey_t *key)
{
    u_char                          *p;
    uint32_t                         i, n;
    ngx_int_t                        size, from;
    ngx_str_t                        arg;
    json_t                          *models, *out, *entry;
    const airouter_catalog_model_t  *m;
    u_char                           token[NGX_INT32_LEN];

    size = NGX_HTTP_AIROUTER_GEMINI_PAGE;
    from = 0;

    if (ngx_http_arg(r, (u_char *) "pageSize", 8, &arg) == NGX_OK
        && arg.len)
    {
        size = ngx_atoi(arg.data, arg.len);

        if (size == NGX_ERROR) {
            return ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                       "invalid_request_error", "invalid_page_size",
                       "pageSize must be a non-negative integer");
        }

        /* as Google: 0 is the default, more than the most is the most */
        if (size == 0) {
            size = NGX_HTTP_AIROUTER_GEMINI_PAGE;

        } else if (size > NGX_HTTP_AIROUTER_GEMINI_PAGE_MAX) {
            size = NGX_HTTP_AIROUTER_GEMINI_PAGE_MAX;
        }
    }

    n = airouter_catalog_nmodels(cat);

    if (ngx_http_arg(r, (u_char *) "pageToken", 9, &arg) == NGX_OK
        && arg.len)
    {
        from = ngx_atoi(arg.data, arg.len);

        if (from == NGX_ERROR || (uint32_t) from > n) {
            return ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                       "invalid_request_error", "invalid_page_token",
                       "pageToken is not one this server gave");
        }
    }

    models = json_array();
    out = json_object();

    if (models == NULL || out == NULL
        || json_object_set_new(out, "models", models) != 0)
    {
        json_decref(out);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = (uint32_t) from; i < n; i++) {
        m = airouter_catalog_model(cat, i);

        if (ngx_http_airouter_models_gemini_first(cat, acf, key,
                airouter_catalog_model_id(cat, m), m->id_len)
            != (ngx_int_t) i)
        {
            continue;
        }

        if (json_array_size(models) == (size_t) size) {
            /* one more is there: the next page starts with it */
            p = ngx_sprintf(token, "%uD", i);

            json_object_set_new(out, "nextPageToken",
                                json_stringn((char *) token, p - token));
            break;
        }

        entry = ngx_http_airouter_models_gemini_entry(cat, i);
        if (entry == NULL || json_array_append_new(models, entry) != 0) {
            json_decref(out);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_airouter_send_json(r, NGX_HTTP_OK, out);
}


/*
 * The first catalogue entry called name (any case) that is a chat or an
 * embedding model (generateContent, embedContent: what Google's list
 * holds) the key may reach on an enabled channel, or -1: the one a
 * Gemini name stands for.
 */
static ngx_int_t
ngx_http_airouter_models_gemini_first(const airouter_catalog_t *cat,
    const airouter_config_t *acf, const airouter_apikey_t *key,
    const char *name, size_t len)
{
    return ngx_http_airouter_models_first(cat, acf, key, name, len,
                                          AIROUTER_CAP_CHAT
                                          | AIROUTER_CAP_EMBEDDING);
}


/*
 * The first catalogue entry called name (any case) of one of the kinds
 * the key may reach on an enabled channel, or -1: the entry a dialect's
 * listing shows for that name.
 */
static ngx_int_t
ngx_http_airouter_models_first(const airouter_catalog_t *cat,
    const airouter_config_t *acf, const airouter_apikey_t *key,
    const char *name, size_t len, uint32_t kinds)
{
    uint32_t                        k, idx;
    const uint32_t                 *list;
    const airouter_catalog_slot_t  *slot;

    slot = airouter_catalog_lookup(cat, AIROUTER_KEY_PHYSICAL, name, len);
    if (slot == NULL) {
        return -1;
    }

    list = airouter_catalog_postings(cat, slot->value);

    for (k = 0; k < slot->count; k++) {
        idx = list[k];

        if ((airouter_catalog_model(cat, idx)->caps & kinds)
            && ngx_http_airouter_models_visible(cat, acf, key, idx))
        {
            return idx;
        }
    }

    return -1;
}


/*
 * Anthropic's models.list and models.retrieve: the chat models the key may
 * reach, each id once, {"data":[{"type":"model","id","display_name",
 * "created_at"}],"has_more","first_id","last_id"}, paged by limit and
 * after_id or before_id (ids of the list); an id of no such model is 404.
 */
static ngx_int_t
ngx_http_airouter_models_anthropic(ngx_http_request_t *r,
    const airouter_catalog_t *cat, airouter_config_t *acf, ngx_str_t *id,
    const airouter_apikey_t *key)
{
    u_char                          *src, *dst;
    ngx_int_t                        i, limit, from, to, at, n;
    ngx_str_t                        arg, after, before, *mark;
    uint32_t                        *ids, k, total;
    json_t                          *data, *out, *entry;
    const airouter_catalog_model_t  *m;

    if (id->len) {
        i = ngx_http_airouter_models_first(cat, acf, key, (char *) id->data,
                                           id->len, AIROUTER_CAP_CHAT);
        if (i < 0) {
            return ngx_http_airouter_send_error(r, NGX_HTTP_NOT_FOUND,
                       "not_found_error", "model_not_found",
                       "The model \"%V\" does not exist on any channel", id);
        }

        return ngx_http_airouter_send_json(r, NGX_HTTP_OK,
                   ngx_http_airouter_models_anthropic_entry(cat,
                                                            (uint32_t) i));
    }

    limit = NGX_HTTP_AIROUTER_ANTHROPIC_PAGE;

    if (ngx_http_arg(r, (u_char *) "limit", 5, &arg) == NGX_OK && arg.len) {
        limit = ngx_atoi(arg.data, arg.len);

        if (limit < 1 || limit > NGX_HTTP_AIROUTER_ANTHROPIC_PAGE_MAX) {
            return ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                       "invalid_request_error", "invalid_value",
                       "limit must be an integer from 1 to %d",
                       NGX_HTTP_AIROUTER_ANTHROPIC_PAGE_MAX);
        }
    }

    ngx_str_null(&after);
    ngx_str_null(&before);
    (void) ngx_http_arg(r, (u_char *) "after_id", 8, &after);
    (void) ngx_http_arg(r, (u_char *) "before_id", 9, &before);

    /* the id the page starts after or ends before, "%2F" decoded */
    mark = after.len ? &after : &before;

    if (mark->len) {
        src = mark->data;
        dst = ngx_pnalloc(r->pool, mark->len);
        if (dst == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        mark->data = dst;
        ngx_unescape_uri(&dst, &src, mark->len, 0);
        mark->len = dst - mark->data;
    }

    /* the list: the first visible chat entry of each id, in order */
    total = airouter_catalog_nmodels(cat);

    ids = ngx_palloc(r->pool, (total + 1) * sizeof(uint32_t));
    if (ids == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 0;
    from = 0;
    at = -1;

    for (k = 0; k < total; k++) {
        m = airouter_catalog_model(cat, k);

        if (ngx_http_airouter_models_first(cat, acf, key,
                airouter_catalog_model_id(cat, m), m->id_len,
                AIROUTER_CAP_CHAT)
            != (ngx_int_t) k)
        {
            continue;
        }

        if (mark->len && at < 0 && m->id_len == mark->len
            && ngx_strncmp(airouter_catalog_model_id(cat, m), mark->data,
                           mark->len) == 0)
        {
            at = n;
        }

        ids[n++] = k;
    }

    if (mark->len && at < 0) {
        return ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_request_error", "invalid_value",
                   "%s is not the id of a model this list holds",
                   after.len ? "after_id" : "before_id");
    }

    if (after.len) {
        from = at + 1;
        to = ngx_min(n, from + limit);

    } else if (before.len) {
        to = at;
        from = ngx_max(0, to - limit);

    } else {
        to = ngx_min(n, limit);
    }

    data = json_array();
    out = json_object();

    if (data == NULL || out == NULL
        || json_object_set_new(out, "data", data) != 0)
    {
        json_decref(data);
        json_decref(out);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = from; i < to; i++) {
        entry = ngx_http_airouter_models_anthropic_entry(cat, ids[i]);
        if (entry == NULL || json_array_append_new(data, entry) != 0) {
            json_decref(out);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    json_object_set_new(out, "has_more",
                        json_boolean(before.len ? from > 0 : to < n));
    json_object_set_new(out, "first_id", from < to
        ? json_string(airouter_catalog_model_id(cat,
                          airouter_catalog_model(cat, ids[from])))
        : json_null());
    json_object_set_new(out, "last_id", from < to
        ? json_string(airouter_catalog_model_id(cat,
                          airouter_catalog_model(cat, ids[to - 1])))
        : json_null());

    return ngx_http_airouter_send_json(r, NGX_HTTP_OK, out);
}


/* Anthropic's model object; no release date is known: the epoch */
static json_t *
ngx_http_airouter_models_anthropic_entry(const airouter_catalog_t *cat,
    uint32_t i)
{
    const char  *id;

    id = airouter_catalog_model_id(cat, airouter_catalog_model(cat, i));

    return json_pack("{s:s,s:s,s:s,s:s}", "type", "model", "id", id,
                     "display_name", id,
                     "created_at", "1970-01-01T00:00:00Z");
}


/*
 * Google's Model: "models/" and the id (the name generateContent or
 * embedContent takes), the limits when known, the methods the router
 * serves for it: an embedding model's is embedContent, as Google lists
 * its own (batchEmbedContents goes with it).
 */
static json_t *
ngx_http_airouter_models_gemini_entry(const airouter_catalog_t *cat,
    uint32_t i)
{
    json_t                          *entry;
    const char                      *id;
    const airouter_catalog_model_t  *m;

    m = airouter_catalog_model(cat, i);
    id = airouter_catalog_model_id(cat, m);

    if (m->caps & AIROUTER_CAP_EMBEDDING) {
        entry = json_pack("{s:s+,s:s,s:s,s:[s]}",
                          "name", "models/", id,
                          "baseModelId", id,
                          "displayName", id,
                          "supportedGenerationMethods", "embedContent");

    } else {
        entry = json_pack("{s:s+,s:s,s:s,s:[sss]}",
                          "name", "models/", id,
                          "baseModelId", id,
                          "displayName", id,
                          "supportedGenerationMethods", "generateContent",
                          "streamGenerateContent", "countTokens");
    }

    if (entry == NULL) {
        return NULL;
    }

    if (m->context) {
        json_object_set_new(entry, "inputTokenLimit",
                            json_integer((json_int_t) m->context));
    }

    if (m->max_output) {
        json_object_set_new(entry, "outputTokenLimit",
                            json_integer((json_int_t) m->max_output));
    }

    return entry;
}
