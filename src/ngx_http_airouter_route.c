/*
 * Routing helpers that the API (ngx_http_airouter_api.c) and explain
 * (ngx_http_airouter_explain.c) share: the strategy a request routes by,
 * what it is ranked against (catalogue, live state, the stats' and
 * balances' filters), and the OpenAI-style answer when routing finds no
 * candidate.  Called by both; calls the admin switches (the strategy every
 * worker uses), the catalogue, live state, the stats' and balances' binds,
 * the header lookup and the response helper.
 */

#include "ngx_http_airouter_route.h"
#include "ngx_http_airouter_catalog.h"
#include "ngx_http_airouter_header.h"
#include "ngx_http_airouter_response.h"
#include "ngx_http_airouter_switch.h"


static ngx_uint_t ngx_http_airouter_route_key_limited(
    ngx_http_airouter_ctx_t *ctx);
static ngx_int_t ngx_http_airouter_route_not_found(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx);


/*
 * The strategy for this request: an X-Router-Strategy header if the client
 * sent one, else the current one (switched by the admin API for every
 * worker, or the routing default).
 */
ngx_int_t
ngx_http_airouter_route_strategy(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx)
{
    u_char            buf[64];
    ngx_table_elt_t  *h;

    h = ngx_http_airouter_header_find(&r->headers_in.headers,
                                      (u_char *) "X-Router-Strategy",
                                      sizeof("X-Router-Strategy") - 1);
    if (h != NULL) {
        ctx->strategy.data = ngx_pnalloc(r->pool, h->value.len + 1);
        if (ctx->strategy.data == NULL) {
            return NGX_ERROR;
        }

        ctx->strategy.len = h->value.len;
        ngx_cpystrn(ctx->strategy.data, h->value.data, h->value.len + 1);
        return NGX_OK;
    }

    ngx_str_null(&ctx->strategy);

    /* the strategy an admin switched every worker to, if any */
    if (ngx_http_airouter_switch_strategy(ctx->amcf, buf, sizeof(buf))
        == NGX_OK)
    {
        ctx->strategy.len = ngx_strlen(buf);
        ctx->strategy.data = ngx_pnalloc(r->pool, ctx->strategy.len + 1);
        if (ctx->strategy.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(ctx->strategy.data, buf, ctx->strategy.len + 1);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_airouter_route_live(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, ngx_http_airouter_route_live_t *rl)
{
    rl->cat = ngx_http_airouter_catalog_current(ctx->amcf);

    ngx_http_airouter_live_bind(ctx->amcf, rl->cat,
                                ngx_http_airouter_live_request_scope(ctx),
                                &rl->view, &rl->live);

    /* channels whose daily_limit is used up, or that an admin switched off */
    if (ngx_http_airouter_stats_bind(ctx->amcf, r->pool, &rl->live,
                                     &rl->filter)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the paid models of channels whose balance is spent */
    return ngx_http_airouter_balance_bind(ctx->amcf, r->pool, rl->cat,
                                          &rl->live, &rl->bfilter);
}


/*
 * The OpenAI-style answer for a request that no candidate can serve.
 *
 * A key limited by allowed_tags or allowed_models sees the catalogue as
 * /v1/models shows it to that key: models it may not use do not exist for
 * it.  So what the key filter removed is neither counted nor named, a
 * request whose every match the key may not use gets the "does not exist"
 * answer, and no close names are suggested to such a key (they could be
 * names it may not see).
 */
ngx_int_t
ngx_http_airouter_route_error(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, airouter_route_result_t *res)
{
    u_char      buf[512], *p, *last;
    size_t      i, matched, serving;
    ngx_uint_t  first, limited;

    limited = ngx_http_airouter_route_key_limited(ctx);

    switch (res->status) {

    case AIROUTER_ROUTE_NO_MATCH:
        p = buf;
        last = buf + sizeof(buf);

        for (i = 0; i < res->nsimilar && !limited; i++) {
            p = ngx_slprintf(p, last, "%s%s%s", i ? ", " : "",
                             res->similar[i].tag ? "tag:" : "",
                             res->similar[i].name);
        }

        if (p > buf) {
            return ngx_http_airouter_send_error(r, NGX_HTTP_NOT_FOUND,
                       "invalid_request_error", "model_not_found",
                       "The model \"%V\" does not exist on any channel. "
                       "Did you mean: %*s?", &ctx->requested,
                       (size_t) (p - buf), buf);
        }

        return ngx_http_airouter_route_not_found(r, ctx);

    case AIROUTER_ROUTE_ALL_FILTERED:
        matched = res->nmatched - res->filtered[AIROUTER_FILTER_KEY];

        if (matched == 0) {
            return ngx_http_airouter_route_not_found(r, ctx);
        }

        p = buf;
        last = buf + sizeof(buf);
        first = 1;

        for (i = 0; i < AIROUTER_FILTER_N; i++) {
            if (res->filtered[i] == 0 || i == AIROUTER_FILTER_KEY) {
                continue;
            }

            p = ngx_slprintf(p, last, "%s%uz %s", first ? "" : ", ",
                             res->filtered[i],
                             airouter_route_filter_name(i));
            first = 0;
        }

        /*
         * A channel off in the configuration does not serve the model:
         * when every channel that does has no address yet, or is cooling
         * down, the model exists and cannot be reached now (503, worth a
         * retry), however many disabled channels list it too.
         */
        serving = matched - res->filtered[AIROUTER_FILTER_DISABLED];

        if (serving > 0
            && res->filtered[AIROUTER_FILTER_UNRESOLVED] == serving)
        {
            return ngx_http_airouter_send_error(r,
                       NGX_HTTP_SERVICE_UNAVAILABLE, "server_error",
                       "no_channel_available",
                       "No channel serving \"%V\" can be reached: the "
                       "host name of its base_url has not resolved (%*s)",
                       &ctx->requested, (size_t) (p - buf), buf);
        }

        if (serving > 0
            && res->filtered[AIROUTER_FILTER_UNAVAILABLE]
               + res->filtered[AIROUTER_FILTER_UNRESOLVED] == serving)
        {
            return ngx_http_airouter_send_error(r,
                       NGX_HTTP_SERVICE_UNAVAILABLE, "server_error",
                       "no_channel_available",
                       "Every channel serving \"%V\" is cooling down, "
                       "blacklisted, switched off or over its daily limit "
                       "(%*s)", &ctx->requested,
                       (size_t) (p - buf), buf);
        }

        return ngx_http_airouter_send_error(r, NGX_HTTP_NOT_FOUND,
                   "invalid_request_error", "model_not_found",
                   "No model matching \"%V\" can serve this request: "
                   "%uz matched, removed by filters: %*s", &ctx->requested,
                   matched, (size_t) (p - buf), buf);

    case AIROUTER_ROUTE_BAD_QUERY:
        /* an entry of "models" (airouter_route_controls) */
        if (res->bad_entry < res->nentries
            && (res->bad_entry > 0 || ctx->no_model))
        {
            return ngx_http_airouter_send_param_error(r, "models",
                       "invalid_model", "Invalid model query \"%*s\": %s",
                       res->entries[res->bad_entry].model_len,
                       res->entries[res->bad_entry].model,
                       res->why ? res->why : "malformed");
        }

        return ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_request_error", "invalid_model",
                   "Invalid model query \"%V\": %s", &ctx->requested,
                   res->why ? res->why : "malformed");

    case AIROUTER_ROUTE_BAD_STRATEGY:
        return ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_request_error", "invalid_strategy",
                   "Unknown routing strategy \"%V\"", &ctx->strategy);

    default:
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "airouter: routing failed for \"%V\"",
                      &ctx->requested);
        return ngx_http_airouter_send_error(r,
                   NGX_HTTP_INTERNAL_SERVER_ERROR, "server_error",
                   "routing_error", "Routing failed");
    }
}


/*
 * The key has an ACL (allowed_tags or allowed_models): what it may not use
 * must look to it as if it did not exist (no key_not_allowed counts,
 * entries or close names).
 */
static ngx_uint_t
ngx_http_airouter_route_key_limited(ngx_http_airouter_ctx_t *ctx)
{
    return ctx->key != NULL
           && (ctx->key->allowed_tags.n || ctx->key->allowed_models.n);
}


/* As GET /v1/models/{id} answers for a model the key cannot see. */
static ngx_int_t
ngx_http_airouter_route_not_found(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx)
{
    return ngx_http_airouter_send_error(r, NGX_HTTP_NOT_FOUND,
               "invalid_request_error", "model_not_found",
               "The model \"%V\" does not exist on any channel",
               &ctx->requested);
}
