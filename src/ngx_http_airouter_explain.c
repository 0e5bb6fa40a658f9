/*
 * Explain: how a request would be routed, without calling any upstream.
 * The ranked candidates with every score, and the entries the filters
 * removed with the reason.  Served as POST /v1/route (a chat-shaped body)
 * and GET /v1/admin/route?model=...
 */

#include "ngx_http_airouter_balance.h"
#include "ngx_http_airouter_api.h"
#include "ngx_http_airouter_route.h"
#include "ngx_http_airouter_catalog.h"
#include "ngx_http_airouter_live.h"
#include "ngx_http_airouter_stats.h"
#include "ngx_http_airouter_response.h"


#define NGX_HTTP_AIROUTER_EXPLAIN_CANDIDATES   50
#define NGX_HTTP_AIROUTER_EXPLAIN_REMOVED      200


static json_t *ngx_http_airouter_explain_candidate(
    const airouter_catalog_t *cat, const airouter_config_t *acf,
    const airouter_route_result_t *res, const airouter_candidate_t *c,
    size_t rank);
static json_t *ngx_http_airouter_explain_params(uint32_t params);
static json_t *ngx_http_airouter_explain_controls(
    ngx_http_airouter_ctx_t *ctx, const airouter_route_result_t *res);
static json_t *ngx_http_airouter_explain_names(const airouter_name_t *names,
    size_t n);
static json_t *ngx_http_airouter_explain_query(
    const airouter_route_result_t *res, uint32_t source);
static ngx_uint_t ngx_http_airouter_explain_kind(const airouter_catalog_t *cat,
    const u_char *model, size_t len);


ngx_int_t
ngx_http_airouter_explain(ngx_http_request_t *r, ngx_http_airouter_ctx_t *ctx,
    airouter_route_req_t *req)
{
    size_t                    i, matched;
    json_t                   *body, *cands, *removed, *filtered, *entry;
    airouter_config_t        *acf;
    const char               *reason;
    airouter_route_result_t   res;
    const airouter_catalog_t *cat;
    ngx_http_airouter_route_live_t  rl;

    acf = ctx->amcf->config;

    /*
     * channels an admin switched off or whose daily limit is used up, and
     * a spent channel's paid models leave, as they do for a request
     */
    if (ngx_http_airouter_route_live(r, ctx, &rl) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cat = rl.cat;

    ngx_memzero(&res, sizeof(airouter_route_result_t));

    res.cand_max = NGX_HTTP_AIROUTER_EXPLAIN_CANDIDATES;
    res.cand = ngx_palloc(r->pool,
                          res.cand_max * sizeof(airouter_candidate_t));
    res.removed_max = NGX_HTTP_AIROUTER_EXPLAIN_REMOVED;
    res.removed = ngx_palloc(r->pool,
                             res.removed_max * sizeof(airouter_removed_t));

    if (res.cand == NULL || res.removed == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    req->explain = 1;

    airouter_route_controls(cat, acf, req, &rl.live, &res);

    /*
     * What the caller's key may not use does not exist for it (see
     * ngx_http_airouter_route_error): those entries are left out.
     */
    if ((res.status != AIROUTER_ROUTE_OK
         && res.status != AIROUTER_ROUTE_ALL_FILTERED)
        || res.nmatched == res.filtered[AIROUTER_FILTER_KEY])
    {
        return ngx_http_airouter_route_error(r, ctx, &res);
    }

    matched = res.nmatched - res.filtered[AIROUTER_FILTER_KEY];

    cands = json_array();
    removed = json_array();
    filtered = json_object();

    for (i = 0; i < res.ncand; i++) {
        json_array_append_new(cands,
            ngx_http_airouter_explain_candidate(cat, acf, &res,
                                                &res.cand[i], i + 1));
    }

    for (i = 0; i < res.nremoved; i++) {
        if (res.removed[i].reason == AIROUTER_FILTER_KEY) {
            continue;
        }

        reason = airouter_route_filter_name(res.removed[i].reason);

        /* "unavailable" says more when the balance is why */
        if (res.removed[i].reason == AIROUTER_FILTER_UNAVAILABLE
            && ngx_http_airouter_balance_held(ctx->amcf, cat,
                                              res.removed[i].channel,
                                              res.removed[i].model))
        {
            reason = "balance";
        }

        entry = json_pack("{s:s,s:s,s:s}",
            "channel", acf->channels[res.removed[i].channel].id,
            "model", airouter_catalog_model_id(cat,
                         airouter_catalog_model(cat, res.removed[i].model)),
            "reason", reason);

        /* require_parameters: what the model does not say it takes */
        if (entry && res.removed[i].reason == AIROUTER_FILTER_PARAMETERS) {
            json_object_set_new(entry, "missing",
                ngx_http_airouter_explain_params(
                    airouter_route_params_missing(req,
                        airouter_catalog_model(cat, res.removed[i].model))));
        }

        /* with "models", the entry it came from */
        if (entry && res.nentries > 1) {
            json_object_set_new(entry, "query",
                ngx_http_airouter_explain_query(&res, res.removed[i].source));
        }

        json_array_append_new(removed, entry);
    }

    for (i = 0; i < AIROUTER_FILTER_N; i++) {
        if (res.filtered[i] && i != AIROUTER_FILTER_KEY) {
            json_object_set_new(filtered, airouter_route_filter_name(i),
                                json_integer((json_int_t) res.filtered[i]));
        }
    }

    body = json_pack("{s:s%,s:s,s:s,s:s,s:I,s:I,s:o,s:o,s:o}",
                     "model", (char *) ctx->requested.data,
                     ctx->requested.len,
                     "status", airouter_route_status_name(res.status),
                     "stage", airouter_query_stage_name(res.stage),
                     "strategy", res.strategy ? res.strategy->name : "",
                     "matched", (json_int_t) matched,
                     "available", (json_int_t) res.navailable,
                     "candidates", cands,
                     "filtered", filtered,
                     "removed", removed);

    /* the endpoint whose kind was explained (GET may have inferred it) */
    if (body) {
        json_object_set_new(body, "endpoint",
            json_string(ngx_http_airouter_endpoint_name(ctx->endpoint)));
    }

    /* what the request's routing controls did, when it has any */
    if (body && (ctx->controls || res.nentries > 1
                 || (res.nentries == 1
                     && res.entries[0].sort != AIROUTER_SORT_NONE)))
    {
        json_object_set_new(body, "controls",
                            ngx_http_airouter_explain_controls(ctx, &res));
    }

    return ngx_http_airouter_send_json(r, NGX_HTTP_OK, body);
}


/*
 * {"models": [{query, sort, status, candidates}...], "provider": {...}}:
 * each model entry as routed (suffix taken off, its sort, how many
 * candidates it added), and the provider controls as understood.
 */
static json_t *
ngx_http_airouter_explain_controls(ngx_http_airouter_ctx_t *ctx,
    const airouter_route_result_t *res)
{
    size_t                      i;
    json_t                     *out, *models, *provider, *price;
    const airouter_controls_t  *ctl;

    out = json_object();
    models = json_array();

    for (i = 0; i < res->nentries; i++) {
        json_array_append_new(models, json_pack("{s:s%,s:s,s:s,s:I}",
            "query", res->entries[i].model, res->entries[i].model_len,
            "sort", airouter_controls_sort_name(res->entries[i].sort),
            "status", airouter_route_status_name(res->entries[i].status),
            "candidates", (json_int_t) res->entries[i].ncand));
    }

    json_object_set_new(out, "models", models);

    ctl = ctx->controls;

    if (ctl && (ctl->given & AIROUTER_CONTROL_PROVIDER)) {
        price = json_object();

        if (ctl->max_prompt >= 0) {
            json_object_set_new(price, "prompt",
                                json_real(ctl->max_prompt * 1e6));
        }

        if (ctl->max_completion >= 0) {
            json_object_set_new(price, "completion",
                                json_real(ctl->max_completion * 1e6));
        }

        provider = json_pack("{s:o,s:o,s:o,s:s,s:o,s:b,s:b}",
            "order", ngx_http_airouter_explain_names(ctl->order,
                                                     ctl->norder),
            "only", ngx_http_airouter_explain_names(ctl->only, ctl->nonly),
            "ignore", ngx_http_airouter_explain_names(ctl->ignore,
                                                      ctl->nignore),
            "sort", airouter_controls_sort_name(ctl->sort),
            "max_price", price,
            "allow_fallbacks", ctl->allow_fallbacks,
            "require_parameters", ctl->require_parameters);

        if (provider) {
            json_object_set_new(provider, "data_collection",
                json_string(ctl->deny_data_collection ? "deny" : "allow"));
        }

        if (provider && ctl->require_parameters) {
            json_object_set_new(provider, "parameters",
                ngx_http_airouter_explain_params(ctl->params_used));
        }

        json_object_set_new(out, "provider", provider);
    }

    return out;
}


/* The names of AIROUTER_PARAM_* bits, as a JSON array. */
static json_t *
ngx_http_airouter_explain_params(uint32_t params)
{
    json_t    *a;
    unsigned   i;

    a = json_array();

    for (i = 0; i < AIROUTER_PARAM_N; i++) {
        if (params & (1u << i)) {
            json_array_append_new(a,
                json_string(airouter_controls_param_name(i)));
        }
    }

    return a;
}


static json_t *
ngx_http_airouter_explain_names(const airouter_name_t *names, size_t n)
{
    size_t   i;
    json_t  *a;

    a = json_array();

    for (i = 0; i < n; i++) {
        json_array_append_new(a, json_stringn(names[i].s, names[i].len));
    }

    return a;
}


/* The model entry a candidate or removed entry came from. */
static json_t *
ngx_http_airouter_explain_query(const airouter_route_result_t *res,
    uint32_t source)
{
    if (source >= res->nentries) {
        return json_null();
    }

    return json_stringn(res->entries[source].model,
                        res->entries[source].model_len);
}


static json_t *
ngx_http_airouter_explain_candidate(const airouter_catalog_t *cat,
    const airouter_config_t *acf, const airouter_route_result_t *res,
    const airouter_candidate_t *c, size_t rank)
{
    int                        s;
    json_t                    *scores;
    const airouter_channel_t  *ch;

    ch = &acf->channels[c->channel];
    scores = json_object();

    for (s = 0; s < AIROUTER_SCORE_N; s++) {
        json_object_set_new(scores, airouter_score_name(s),
                            json_real(c->scores[s]));
    }

    return json_pack("{s:I,s:s,s:s?,s:s,s:o,s:f,s:i,s:f,s:f,s:f,s:o,s:o}",
                     "rank", (json_int_t) rank,
                     "channel", ch->id,
                     "provider", ch->provider_name,
                     "model", c->id,
                     "query", ngx_http_airouter_explain_query(res, c->source),
                     "score", c->score,
                     "priority", ch->priority,
                     "weight", ch->weight,
                     "ttfb_ms", c->ttfb,
                     "tokens_per_second", c->tps,
                     "scores", scores,
                     "entry", ngx_http_airouter_models_entry(cat, acf,
                                                             c->model));
}


/*
 * GET /v1/admin/route?model=...&strategy=...&endpoint=...: a name typed in
 * the dashboard has no endpoint; dall-e-3 is explained as an image request
 * (see ngx_http_airouter_explain_kind).
 */
ngx_int_t
ngx_http_airouter_explain_get(ngx_http_request_t *r)
{
    u_char                   *dst, *src, *p, names[256];
    ngx_int_t                 ep;
    ngx_str_t                 arg;
    ngx_uint_t                i;
    airouter_route_req_t      req;
    ngx_http_airouter_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_airouter_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->amcf = ngx_http_get_module_main_conf(r, ngx_http_airouter_module);

    if (ngx_http_arg(r, (u_char *) "model", 5, &arg) != NGX_OK
        || arg.len == 0)
    {
        return ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_request_error", "missing_model",
                   "Add ?model=... to the URL");
    }

    ctx->requested.data = ngx_pnalloc(r->pool, arg.len + 1);
    if (ctx->requested.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    dst = ctx->requested.data;
    src = arg.data;
    ngx_unescape_uri(&dst, &src, arg.len, NGX_UNESCAPE_URI);
    ctx->requested.len = dst - ctx->requested.data;
    *dst = '\0';

    /* without endpoint=, the one the name's models serve (dashboard) */
    ctx->endpoint = ngx_http_airouter_explain_kind(
                        ngx_http_airouter_catalog_current(ctx->amcf),
                        ctx->requested.data, ctx->requested.len);

    if (ngx_http_arg(r, (u_char *) "endpoint", 8, &arg) == NGX_OK) {
        ep = ngx_http_airouter_endpoint_by_name(arg.data, arg.len);

        if (ep == NGX_ERROR) {
            /*
             * As POST /v1/route's "endpoint": a typo must not explain
             * chat instead.  The URL's bytes are not quoted back (they
             * need not be UTF-8); the names come from the endpoint table.
             */
            p = names;

            for (i = 0; i < NGX_HTTP_AIROUTER_EP_N; i++) {
                p = ngx_snprintf(p, names + sizeof(names) - 1 - p, "%s%s",
                                 i ? ", " : "",
                                 ngx_http_airouter_endpoint_name(i));
            }

            *p = '\0';

            return ngx_http_airouter_send_param_error(r, "endpoint",
                       "invalid_value", "Unknown endpoint in the URL (%s)",
                       names);
        }

        ctx->endpoint = ep;
    }

    if (ngx_http_arg(r, (u_char *) "strategy", 8, &arg) == NGX_OK
        && arg.len)
    {
        ctx->strategy.data = ngx_pnalloc(r->pool, arg.len + 1);
        if (ctx->strategy.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->strategy.len = arg.len;
        ngx_cpystrn(ctx->strategy.data, arg.data, arg.len + 1);

    } else if (ngx_http_airouter_route_strategy(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->body = NULL;

    ngx_memzero(&req, sizeof(airouter_route_req_t));
    req.model = (const char *) ctx->requested.data;
    req.model_len = ctx->requested.len;
    req.endpoint = ngx_http_airouter_endpoint_rank(ctx->endpoint);

    if (ctx->strategy.len) {
        req.strategy = (const char *) ctx->strategy.data;
    }

    return ngx_http_airouter_explain(r, ctx, &req);
}


/*
 * The endpoint that serves every model a query matches, when they are all
 * of one kind (a physical or core name usually is: "dall-e-3" -> images,
 * "whisper-1" -> transcriptions); chat when they are of several kinds
 * (tag:free), match nothing, or the query does not resolve.  The first
 * endpoint of the kind in the endpoint table wins (chat over completions,
 * generations over edits).
 */
static ngx_uint_t
ngx_http_airouter_explain_kind(const airouter_catalog_t *cat,
    const u_char *model, size_t len)
{
    uint32_t                          x, kind, k;
    ngx_uint_t                        ep;
    airouter_query_t                  q;
    airouter_query_iter_t             it;

    if (cat == NULL
        || airouter_query_resolve(cat, (const char *) model, len, &q)
           != AIROUTER_QUERY_OK)
    {
        return NGX_HTTP_AIROUTER_EP_CHAT;
    }

    kind = 0;
    airouter_query_iter_init(&it, &q);

    while (airouter_query_next(&it, &x)) {
        k = airouter_catalog_model(cat, x)->caps & AIROUTER_CAP_KIND;

        if (kind != 0 && k != kind) {
            return NGX_HTTP_AIROUTER_EP_CHAT;
        }

        kind = k;
    }

    for (ep = 0; kind != 0 && ep < NGX_HTTP_AIROUTER_EP_N; ep++) {
        if (airouter_route_endpoint_kind(ngx_http_airouter_endpoint_rank(ep))
            == kind)
        {
            ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                           "airouter explain: \"%*s\" explained as %s",
                           len, model, ngx_http_airouter_endpoint_name(ep));
            return ep;
        }
    }

    return NGX_HTTP_AIROUTER_EP_CHAT;
}
