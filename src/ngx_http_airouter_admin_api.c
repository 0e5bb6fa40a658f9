/*
 * Admin endpoints of the `airouter_admin` location (the admin token is
 * checked by its handler before these run):
 *
 *   GET  /v1/admin/routing/strategy      the strategy every worker uses
 *   POST /v1/admin/routing/strategy      {"strategy": "name"} switches it
 *                                        for every worker at once; "" or
 *                                        null goes back to the config's
 *   GET  /v1/admin/channels              every channel: configuration,
 *                                        discovery state, models per key
 *   GET  /v1/admin/cost/optimize         spend that a free or cheaper
 *                                        variant of the same model (same
 *                                        core name; else a free model with
 *                                        all of its tags) would have saved
 *   POST /v1/admin/channels/{id}/reset   blacklist and cooldowns cleared
 *   POST /v1/admin/channels/{id}/disable off for every worker, until
 *   POST /v1/admin/channels/{id}/enable  enabled again (kept in the stats
 *                                        file across restarts)
 *
 * Called by ngx_http_airouter_admin.c; state is in the shared zone
 * (ngx_http_airouter_stats.c, ngx_http_airouter_live.c,
 * ngx_http_airouter_discovery.c).
 */

#include "ngx_http_airouter_admin_api.h"
#include "ngx_http_airouter_balance.h"
#include "ngx_http_airouter_stats.h"
#include "ngx_http_airouter_switch.h"
#include "ngx_http_airouter_live.h"
#include "ngx_http_airouter_redis.h"
#include "ngx_http_airouter_catalog.h"
#include "ngx_http_airouter_discovery.h"
#include "ngx_http_airouter_response.h"
#include "ngx_http_airouter_audit.h"
#include "airouter_tags.h"

#include <math.h>


#define NGX_HTTP_AIROUTER_ADMIN_BODY_MAX  65536


static void ngx_http_airouter_admin_api_strategy_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_airouter_admin_api_switch(ngx_http_request_t *r,
    json_t *body);
static json_t *ngx_http_airouter_admin_api_strategies(
    airouter_config_t *acf);
static double ngx_http_airouter_admin_api_price(
    const airouter_catalog_model_t *m);
static const airouter_catalog_model_t *ngx_http_airouter_admin_api_twin(
    const airouter_catalog_t *cat, airouter_config_t *acf,
    const airouter_catalog_model_t *m0);
static json_t *ngx_http_airouter_admin_api_quota(
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t channel);
static json_t *ngx_http_airouter_admin_api_balance(
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t channel);
static json_t *ngx_http_airouter_admin_api_key_models(
    const airouter_catalog_t *cat, ngx_uint_t channel, size_t nkeys);


ngx_int_t
ngx_http_airouter_admin_api_strategy(ngx_http_request_t *r, ngx_str_t *path)
{
    ngx_int_t  rc;

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        return ngx_http_airouter_admin_api_switch(r, NULL);
    }

    if (!(r->method & (NGX_HTTP_POST|NGX_HTTP_PUT))) {
        return ngx_http_airouter_send_error(r, NGX_HTTP_NOT_ALLOWED,
                   "invalid_request_error", "method_not_allowed",
                   "Method %V is not allowed on %V", &r->method_name,
                   &r->uri);
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r,
                                  ngx_http_airouter_admin_api_strategy_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_airouter_admin_api_strategy_body(ngx_http_request_t *r)
{
    json_t     *body;
    ngx_buf_t  *b;
    ngx_int_t   rc;

    if (r->request_body == NULL || r->request_body->bufs == NULL
        || r->request_body->bufs->next != NULL
        || r->request_body->bufs->buf->in_file)
    {
        ngx_http_finalize_request(r, ngx_http_airouter_send_error(r,
                NGX_HTTP_BAD_REQUEST, "invalid_request_error",
                "invalid_json", "Send {\"strategy\": \"<name>\"} "
                "(at most %d bytes)", NGX_HTTP_AIROUTER_ADMIN_BODY_MAX));
        return;
    }

    b = r->request_body->bufs->buf;

    body = json_loadb((char *) b->pos, b->last - b->pos, 0, NULL);

    if (!json_is_object(body)) {
        json_decref(body);
        ngx_http_finalize_request(r, ngx_http_airouter_send_error(r,
                NGX_HTTP_BAD_REQUEST, "invalid_request_error",
                "invalid_json", "Send {\"strategy\": \"<name>\"}"));
        return;
    }

    rc = ngx_http_airouter_admin_api_switch(r, body);
    json_decref(body);

    ngx_http_finalize_request(r, rc);
}


/* body NULL: just say what is in force. */
static ngx_int_t
ngx_http_airouter_admin_api_switch(ngx_http_request_t *r, json_t *body)
{
    u_char                          buf[64], prev[64];
    json_t                         *field, *root;
    ngx_str_t                       name;
    const char                     *current, *source;
    airouter_config_t              *acf;
    ngx_http_airouter_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airouter_module);
    acf = amcf->config;

    if (ngx_http_airouter_switch_strategy(amcf, prev, sizeof(prev))
        != NGX_OK)
    {
        prev[0] = '\0';
    }

    if (body) {
        field = json_object_get(body, "strategy");

        if (!json_is_string(field) && !json_is_null(field)) {
            return ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                       "invalid_request_error", "invalid_strategy",
                       "Send {\"strategy\": \"<name>\"}");
        }

        name.data = (u_char *) (json_is_string(field)
                                ? json_string_value(field) : "");
        name.len = ngx_strlen(name.data);

        if (name.len
            && airouter_config_strategy(acf, (char *) name.data) == NULL)
        {
            root = ngx_http_airouter_error_json("invalid_request_error",
                       "invalid_strategy", "Unknown routing strategy \"%V\"",
                       &name);
            if (root) {
                json_object_set_new(json_object_get(root, "error"),
                                    "available",
                                    ngx_http_airouter_admin_api_strategies(
                                        acf));
            }

            return ngx_http_airouter_send_json(r, NGX_HTTP_BAD_REQUEST, root);
        }

        if (ngx_http_airouter_switch_set_strategy(amcf, &name) != NGX_OK) {
            return ngx_http_airouter_send_error(r,
                       NGX_HTTP_INTERNAL_SERVER_ERROR, "server_error",
                       "no_zone", "The strategy could not be stored");
        }

        ngx_http_airouter_redis_strategy(amcf, &name);

        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "airouter: routing strategy switched to \"%s\" by the "
                      "admin API", name.len ? (char *) name.data
                                   : acf->routing.default_strategy);

        ngx_http_airouter_audit(r, "strategy.switch", "routing",
                                prev[0] ? (char *) prev
                                        : acf->routing.default_strategy,
                                name.len ? (char *) name.data
                                         : acf->routing.default_strategy);
    }

    if (ngx_http_airouter_switch_strategy(amcf, buf, sizeof(buf)) == NGX_OK) {
        current = (char *) buf;
        source = "admin";

    } else {
        current = acf->routing.default_strategy;
        source = "config";
    }

    root = json_pack("{s:s, s:s, s:s, s:o}",
                     "strategy", current,
                     "source", source,
                     "default", acf->routing.default_strategy,
                     "available", ngx_http_airouter_admin_api_strategies(acf));

    if (root && body) {
        json_object_set_new(root, "previous",
                            json_string(prev[0] ? (char *) prev
                                        : acf->routing.default_strategy));
    }

    return ngx_http_airouter_send_json(r, NGX_HTTP_OK, root);
}


static json_t *
ngx_http_airouter_admin_api_strategies(airouter_config_t *acf)
{
    size_t   i;
    json_t  *arr;

    arr = json_array();

    for (i = 0; i < acf->routing.nstrategies; i++) {
        json_array_append_new(arr,
                              json_string(acf->routing.strategies[i].name));
    }

    return arr;
}


/* USD per token (prompt + completion) of an entry; < 0: unknown. */
static double
ngx_http_airouter_admin_api_price(const airouter_catalog_model_t *m)
{
    if (m->flags & AIROUTER_MODEL_FREE) {
        return 0;
    }

    return m->price_usd;
}


/*
 * For each model that cost money over the period: the cheapest entry
 * with the same core name (a free variant, another provider) on an
 * enabled channel, else a free entry carrying every tag of it, and what
 * the spend would have been there at the same token mix (estimated from
 * the summed prices).
 */
ngx_int_t
ngx_http_airouter_admin_api_optimize(ngx_http_request_t *r, ngx_str_t *path)
{
    json_t                          *root, *list, *o;
    double                           cur, price, best_price, spend, save;
    double                           total, savings;
    uint32_t                         k, idx;
    ngx_str_t                        days_arg;
    ngx_int_t                        days;
    ngx_uint_t                       i;
    ngx_array_t                      sums;
    const char                      *core, *reason;
    airouter_config_t               *acf;
    const airouter_catalog_t        *cat;
    const airouter_catalog_slot_t   *slot, *cslot;
    const airouter_catalog_model_t  *m, *m0, *best;
    ngx_http_airouter_stats_sum_t   *s;
    ngx_http_airouter_main_conf_t   *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airouter_module);
    acf = amcf->config;
    cat = ngx_http_airouter_catalog_current(amcf);

    days = 30;

    if (ngx_http_arg(r, (u_char *) "days", 4, &days_arg) == NGX_OK) {
        days = ngx_atoi(days_arg.data, days_arg.len);
        if (days <= 0 || days > NGX_HTTP_AIROUTER_STATS_DAYS) {
            days = 30;
        }
    }

    /* the days summed per model */
    if (ngx_http_airouter_stats_sum(amcf, r->pool, days,
                                    NGX_HTTP_AIROUTER_STATS_MODEL, &sums)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    list = json_array();
    total = 0;
    savings = 0;
    s = sums.elts;

    for (i = 0; i < sums.nelts; i++) {
        spend = s[i].c.cost;
        total += spend;

        if (spend <= 0 || cat == NULL) {
            continue;
        }

        slot = airouter_catalog_lookup(cat, AIROUTER_KEY_PHYSICAL,
                                       (char *) s[i].name.data,
                                       s[i].name.len);
        if (slot == NULL || slot->count == 0) {
            continue;
        }

        /* the dearest known price among the entries of that id */
        m0 = NULL;
        cur = -1;

        for (k = 0; k < slot->count; k++) {
            idx = airouter_catalog_postings(cat, slot->value)[k];
            m = airouter_catalog_model(cat, idx);
            price = ngx_http_airouter_admin_api_price(m);

            if (price > cur) {
                cur = price;
                m0 = m;
            }
        }

        if (m0 == NULL || cur <= 0) {
            continue;
        }

        core = airouter_catalog_model_core(cat, m0);
        cslot = airouter_catalog_lookup(cat, AIROUTER_KEY_CORE, core,
                                        ngx_strlen(core));

        best = NULL;
        best_price = cur;
        reason = NULL;

        for (k = 0; cslot && k < cslot->count; k++) {
            idx = airouter_catalog_postings(cat, cslot->value)[k];
            m = airouter_catalog_model(cat, idx);
            price = ngx_http_airouter_admin_api_price(m);

            if (price < 0 || price >= best_price
                || m->channel >= acf->nchannels
                || !acf->channels[m->channel].enabled)
            {
                continue;
            }

            best = m;
            best_price = price;
            reason = price == 0 ? "a free variant of the same model"
                                : "the same model for less elsewhere";
        }

        if (best == NULL) {
            best = ngx_http_airouter_admin_api_twin(cat, acf, m0);
            best_price = 0;
            reason = "a free model with the same tags";
        }

        if (best == NULL) {
            continue;
        }

        save = spend * (1 - best_price / cur);
        savings += save;

        o = json_pack("{s:s, s:s, s:I, s:o, s:{s:s, s:s, s:b, s:o}, s:o,"
                      " s:s}",
                      "model", (char *) s[i].name.data,
                      "core", core,
                      "requests", (json_int_t) s[i].c.requests,
                      "spend", json_real(floor(spend * 1e10 + 0.5) / 1e10),
                      "alternative",
                      "model", airouter_catalog_model_id(cat, best),
                      "channel", acf->channels[best->channel].id,
                      "free", best_price == 0 ? 1 : 0,
                      "price_per_1m_tokens",
                      json_real(floor(best_price * 1e6 * 1e6 + 0.5) / 1e6),
                      "estimated_savings",
                      json_real(floor(save * 1e10 + 0.5) / 1e10),
                      "reason", reason);
        if (o) {
            json_array_append_new(list, o);
        }
    }

    root = json_pack("{s:I, s:s, s:o, s:o, s:o}",
                     "days", (json_int_t) days,
                     "currency", "USD",
                     "total_spend", json_real(floor(total * 1e10 + 0.5)
                                              / 1e10),
                     "estimated_savings", json_real(floor(savings * 1e10
                                                          + 0.5) / 1e10),
                     "suggestions", list);

    return ngx_http_airouter_send_json(r, NGX_HTTP_OK, root);
}


/*
 * A free entry on an enabled channel that carries every tag of m0 but
 * "free" and "local" (m0 having at least one): the same model under
 * another name.
 */
static const airouter_catalog_model_t *
ngx_http_airouter_admin_api_twin(const airouter_catalog_t *cat,
    airouter_config_t *acf, const airouter_catalog_model_t *m0)
{
    uint32_t                         i, t, n;
    const char                      *name;
    const uint32_t                  *tags;
    const airouter_catalog_model_t  *m;

    tags = airouter_catalog_model_tags(cat, m0);
    n = 0;

    for (t = 0; t < m0->ntags; t++) {
        name = airouter_catalog_tag_name(cat, tags[t]);

        if (ngx_strcmp(name, "free") != 0 && ngx_strcmp(name, "local") != 0) {
            n++;
        }
    }

    if (n == 0) {
        return NULL;
    }

    for (i = 0; i < airouter_catalog_nmodels(cat); i++) {
        m = airouter_catalog_model(cat, i);

        if (m == m0 || !(m->flags & AIROUTER_MODEL_FREE)
            || (m->caps & AIROUTER_CAP_KIND)
               != (m0->caps & AIROUTER_CAP_KIND)
            || m->channel >= acf->nchannels
            || !acf->channels[m->channel].enabled)
        {
            continue;
        }

        for (t = 0; t < m0->ntags; t++) {
            name = airouter_catalog_tag_name(cat, tags[t]);

            if (ngx_strcmp(name, "free") != 0
                && ngx_strcmp(name, "local") != 0
                && !airouter_catalog_model_has_tag(cat, m, tags[t]))
            {
                break;
            }
        }

        if (t == m0->ntags) {
            return m;
        }
    }

    return NULL;
}


/* POST /v1/admin/channels/{id}/reset|disable|enable */
ngx_int_t
ngx_http_airouter_admin_api_channels(ngx_http_request_t *r, ngx_str_t *path)
{
    json_t                         *data, *one, *state;
    ngx_uint_t                      i;
    airouter_config_t              *acf;
    airouter_channel_t             *ch;
    const airouter_catalog_t       *cat;
    ngx_http_airouter_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airouter_module);
    acf = amcf->config;
    cat = ngx_http_airouter_catalog_current(amcf);
    data = json_array();

    for (i = 0; i < acf->nchannels; i++) {
        ch = &acf->channels[i];
        state = ngx_http_airouter_discovery_channel_json(amcf, i);

        /* keys are counted, never shown */
        one = json_pack("{s:s,s:s?,s:s?,s:s?,s:b,s:b,s:s?,s:i,s:I,s:I,s:o*}",
                        "id", ch->id,
                        "name", ch->name,
                        "provider", ch->provider_name,
                        "base_url", ch->base_url,
                        "enabled", ch->enabled,
                        "reachable",
                            (int) ngx_http_airouter_live_reachable(amcf, i),
                        "disabled_reason", ch->disabled_reason,
                        "priority", ch->priority,
                        "keys", (json_int_t) ch->api_keys.n,
                        "configured_models",
                            (json_int_t) ch->configured_models.n,
                        "discovery", state);

        if (one) {
            json_object_set_new(one, "balance",
                                ngx_http_airouter_admin_api_balance(amcf, i));
            json_object_set_new(one, "quota",
                                ngx_http_airouter_admin_api_quota(amcf, i));
        }

        if (one && ch->api_keys.n > 1 && cat->nchannels == acf->nchannels) {
            json_object_set_new(one, "key_models",
                ngx_http_airouter_admin_api_key_models(cat, i,
                                                       ch->api_keys.n));
        }

        json_array_append_new(data, one);
    }

    return ngx_http_airouter_send_json(r, NGX_HTTP_OK,
               json_pack("{s:s,s:o}", "object", "list", "data", data));
}


/*
 * How many of the channel's models each of its keys lists (by the
 * catalogue's key bits; a model no key was named for counts for all).
 */
static json_t *
ngx_http_airouter_admin_api_key_models(const airouter_catalog_t *cat,
    ngx_uint_t channel, size_t nkeys)
{
    json_t                            *counts;
    uint32_t                           i;
    ngx_uint_t                         k, n;
    const airouter_catalog_model_t    *m;
    const airouter_catalog_channel_t  *ch;

    ch = airouter_catalog_channel(cat, channel);
    counts = json_array();

    for (k = 0; k < nkeys; k++) {
        n = 0;

        for (i = ch->first_model; i < ch->first_model + ch->nmodels; i++) {
            m = airouter_catalog_model(cat, i);

            if (m->keys == 0 || (k < 32 && (m->keys & ((uint32_t) 1 << k)))) {
                n++;
            }
        }

        json_array_append_new(counts, json_integer(n));
    }

    return counts;
}


ngx_int_t
ngx_http_airouter_admin_api_channel(ngx_http_request_t *r, ngx_str_t *path)
{
    u_char                         *p, *dst, *src, *id;
    size_t                          len;
    ngx_str_t                       rest, action;
    ngx_uint_t                      index, cleared, was_off;
    airouter_config_t              *acf;
    const airouter_channel_t       *ch;
    ngx_http_airouter_main_conf_t  *amcf;

    /* path is "admin/channels/{id}/{action}" */
    rest.data = path->data + sizeof("admin/channels/") - 1;
    rest.len = path->len - (sizeof("admin/channels/") - 1);

    p = ngx_strlchr(rest.data, rest.data + rest.len, '/');

    if (p == NULL) {
        return NGX_DECLINED;
    }

    action.data = p + 1;
    action.len = rest.data + rest.len - action.data;
    len = p - rest.data;

    if (!(action.len == 5 && ngx_strncmp(action.data, "reset", 5) == 0)
        && !(action.len == 7 && ngx_strncmp(action.data, "disable", 7) == 0)
        && !(action.len == 6 && ngx_strncmp(action.data, "enable", 6) == 0))
    {
        return NGX_DECLINED;
    }


    id = ngx_pnalloc(r->pool, len + 1);
    if (id == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    dst = id;
    src = rest.data;
    ngx_unescape_uri(&dst, &src, len, 0);
    *dst = '\0';

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airouter_module);
    acf = amcf->config;

    ch = airouter_config_channel(acf, (char *) id);
    if (ch == NULL) {
        return ngx_http_airouter_send_error(r, NGX_HTTP_NOT_FOUND,
                   "invalid_request_error", "channel_not_found",
                   "No channel \"%s\"", id);
    }

    index = ch - acf->channels;

    if (action.data[0] == 'r') {
        cleared = (ngx_http_airouter_live_reset(amcf, index) == NGX_OK);

        ngx_http_airouter_audit(r, "channel.reset", ch->id,
                                cleared ? "blocked" : "clear", "clear");

        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "airouter: channel \"%s\" reset by the admin API",
                      ch->id);

        return ngx_http_airouter_send_json(r, NGX_HTTP_OK,
                   json_pack("{s:s, s:s, s:b}", "channel", ch->id,
                             "action", "reset", "had_state", (int) cleared));
    }

    was_off = ngx_http_airouter_switch_channel_off(amcf, ch->id);

    if (ngx_http_airouter_switch_channel(amcf, ch->id,
                                               action.data[0] == 'e')
        != NGX_OK)
    {
        return ngx_http_airouter_send_error(r,
                   NGX_HTTP_INTERNAL_SERVER_ERROR, "server_error", "no_zone",
                   "The channel's state could not be stored");
    }

    ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                  "airouter: channel \"%s\" %sd by the admin API", ch->id,
                  action.data[0] == 'e' ? "enable" : "disable");

    ngx_http_airouter_audit(r, action.data[0] == 'e' ? "channel.enable"
                                                     : "channel.disable",
                            ch->id, was_off ? "disabled" : "enabled",
                            action.data[0] == 'e' ? "enabled" : "disabled");

    return ngx_http_airouter_send_json(r, NGX_HTTP_OK,
               json_pack("{s:s, s:s, s:b, s:b}", "channel", ch->id,
                         "action", action.data[0] == 'e' ? "enable"
                                                         : "disable",
                         "enabled", (int) (action.data[0] == 'e'
                                           && ch->enabled),
                         "config_enabled", ch->enabled ? 1 : 0));
}


/*
 * A channel's day against its daily_limit / daily_token_limit: null when
 * it has neither; "exhausted" when one is used up (it is out of routing
 * until the UTC day ends).
 */
static json_t *
ngx_http_airouter_admin_api_quota(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel)
{
    json_t                           *o;
    airouter_channel_t               *ch;
    ngx_http_airouter_stats_quota_t   q;

    ch = &amcf->config->channels[channel];

    if (ch->daily_limit <= 0 && ch->daily_token_limit <= 0) {
        return json_null();
    }

    ngx_http_airouter_stats_quota(amcf, channel, &q);

    o = json_pack("{s:I, s:I, s:b}",
                  "requests_today", (json_int_t) q.requests,
                  "tokens_today", (json_int_t) q.tokens,
                  "exhausted", q.spent ? 1 : 0);
    if (o == NULL) {
        return json_null();
    }

    if (ch->daily_limit > 0) {
        json_object_set_new(o, "daily_limit",
                            json_integer(ch->daily_limit));
        json_object_set_new(o, "requests_left",
                            json_integer(q.requests_left));
    }

    if (ch->daily_token_limit > 0) {
        json_object_set_new(o, "daily_token_limit",
                            json_integer(ch->daily_token_limit));
        json_object_set_new(o, "tokens_left", json_integer(q.tokens_left));
    }

    return o;
}


/* a channel's balance: null without balance:, never its key */
static json_t *
ngx_http_airouter_admin_api_balance(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel)
{
    json_t                            *o;
    ngx_http_airouter_balance_info_t   info;

    if (ngx_http_airouter_balance_info(amcf, channel, &info) != NGX_OK) {
        return json_null();
    }

    o = json_pack("{s:s,s:b,s:b,s:b,s:b}",
                  "kind", info.kind,
                  "known", (int) info.known,
                  "ok", (int) info.ok,
                  "low", (int) info.low,
                  "held", (int) info.held);
    if (o == NULL) {
        return json_null();
    }

    if (info.known) {
        json_object_set_new(o, "amount", json_real(info.amount));
        json_object_set_new(o, "currency",
                            json_string((char *) info.currency));
    }

    if (info.checked) {
        json_object_set_new(o, "checked", json_integer(info.checked));
    }

    if (info.marked) {
        json_object_set_new(o, "marked_by", json_string(info.mark_fault));
        json_object_set_new(o, "marked_at", json_integer(info.marked));
    }

    if (info.error[0] != '\0') {
        json_object_set_new(o, "error", json_string((char *) info.error));
    }

    return o;
}
