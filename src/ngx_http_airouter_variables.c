/*
 * The $airouter_* variables: what routing and the proxy decided for the
 * request, read from the request's module context.  Empty ("-" in logs)
 * when the request was not routed or the value is unknown.
 *
 *   $airouter_channel            id of the channel that answered
 *   $airouter_model              the model id sent to it
 *   $airouter_attempts           upstream attempts made
 *   $airouter_prompt_tokens      usage from the answer
 *   $airouter_completion_tokens
 *   $airouter_cached_tokens      prompt tokens the provider read from its
 *                                cache, when the answer says
 *   $airouter_cost               USD, when the prices are known
 *   $airouter_usage_source       "upstream" (the answer's usage) or
 *                                "counted" (the answer had none)
 *   $airouter_channel_key        "key#N": which of the channel's api_keys
 *   $airouter_status             "ok", or the fault of the last attempt
 *                                ("rate_limit_exceeded", "no_candidate", ...)
 *   $airouter_ttfb               ms from the answering try's start to the
 *                                first byte of its answer
 *   $airouter_hedged             a hedged request: "hedge" when the answer
 *                                came from the hedge, "primary" when the
 *                                try it was started beside won, "none"
 *                                when no try answered
 *   $airouter_units              what a price per unit counts: "images:N",
 *                                "characters:N", "seconds:S" (3 decimals),
 *                                "seconds:unknown" (the answer said none)
 */

#include "ngx_http_airouter_variables.h"
#include "ngx_http_airouter_request.h"


typedef enum {
    NGX_HTTP_AIROUTER_VAR_CHANNEL = 0,
    NGX_HTTP_AIROUTER_VAR_MODEL,
    NGX_HTTP_AIROUTER_VAR_ATTEMPTS,
    NGX_HTTP_AIROUTER_VAR_PROMPT,
    NGX_HTTP_AIROUTER_VAR_COMPLETION,
    NGX_HTTP_AIROUTER_VAR_CACHED,
    NGX_HTTP_AIROUTER_VAR_COST,
    NGX_HTTP_AIROUTER_VAR_STATUS,
    NGX_HTTP_AIROUTER_VAR_USAGE_SOURCE,
    NGX_HTTP_AIROUTER_VAR_KEY,
    NGX_HTTP_AIROUTER_VAR_TTFB,
    NGX_HTTP_AIROUTER_VAR_HEDGED,
    NGX_HTTP_AIROUTER_VAR_UNITS
} ngx_http_airouter_var_e;


static ngx_int_t ngx_http_airouter_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_airouter_variable_set(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, u_char *data, size_t len);


static ngx_http_variable_t  ngx_http_airouter_vars[] = {

    { ngx_string("airouter_channel"), NULL, ngx_http_airouter_variable,
      NGX_HTTP_AIROUTER_VAR_CHANNEL, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("airouter_model"), NULL, ngx_http_airouter_variable,
      NGX_HTTP_AIROUTER_VAR_MODEL, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("airouter_attempts"), NULL, ngx_http_airouter_variable,
      NGX_HTTP_AIROUTER_VAR_ATTEMPTS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("airouter_prompt_tokens"), NULL, ngx_http_airouter_variable,
      NGX_HTTP_AIROUTER_VAR_PROMPT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("airouter_completion_tokens"), NULL,
      ngx_http_airouter_variable, NGX_HTTP_AIROUTER_VAR_COMPLETION,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("airouter_cached_tokens"), NULL,
      ngx_http_airouter_variable, NGX_HTTP_AIROUTER_VAR_CACHED,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("airouter_cost"), NULL, ngx_http_airouter_variable,
      NGX_HTTP_AIROUTER_VAR_COST, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("airouter_status"), NULL, ngx_http_airouter_variable,
      NGX_HTTP_AIROUTER_VAR_STATUS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("airouter_usage_source"), NULL, ngx_http_airouter_variable,
      NGX_HTTP_AIROUTER_VAR_USAGE_SOURCE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("airouter_channel_key"), NULL, ngx_http_airouter_variable,
      NGX_HTTP_AIROUTER_VAR_KEY, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("airouter_ttfb"), NULL, ngx_http_airouter_variable,
      NGX_HTTP_AIROUTER_VAR_TTFB, NGX_HTTP_VAR_NOCACHEABLE, 0 },
    { ngx_string("airouter_hedged"), NULL, ngx_http_airouter_variable,
      NGX_HTTP_AIROUTER_VAR_HEDGED, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("airouter_units"), NULL, ngx_http_airouter_variable,
      NGX_HTTP_AIROUTER_VAR_UNITS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_airouter_variables_add(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_airouter_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_airouter_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                      *p;
    ngx_int_t                    n;
    ngx_http_airouter_ctx_t     *ctx;
    ngx_http_airouter_result_t  *res;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_airouter_module);

    if (ctx == NULL || !ctx->result.proxied) {
        v->not_found = 1;
        return NGX_OK;
    }

    res = &ctx->result;

    switch (data) {

    case NGX_HTTP_AIROUTER_VAR_CHANNEL:
        return ngx_http_airouter_variable_set(r, v, res->channel.data,
                                              res->channel.len);

    case NGX_HTTP_AIROUTER_VAR_MODEL:
        return ngx_http_airouter_variable_set(r, v, res->model.data,
                                              res->model.len);

    case NGX_HTTP_AIROUTER_VAR_STATUS:
        return ngx_http_airouter_variable_set(r, v, res->status.data,
                                              res->status.len);

    case NGX_HTTP_AIROUTER_VAR_COST:
        if (ctx->cost < 0) {
            v->not_found = 1;
            return NGX_OK;
        }

        p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 12);
        if (p == NULL) {
            return NGX_ERROR;
        }

        return ngx_http_airouter_variable_set(r, v, p,
                   ngx_sprintf(p, "%.8f", ctx->cost) - p);

    case NGX_HTTP_AIROUTER_VAR_UNITS:
        p = ngx_pnalloc(r->pool, sizeof("characters:") - 1 + NGX_INT64_LEN
                                 + 8);
        if (p == NULL) {
            return NGX_ERROR;
        }

        switch (ctx->endpoint) {
        case NGX_HTTP_AIROUTER_EP_IMAGES:
            return ngx_http_airouter_variable_set(r, v, p,
                       ngx_sprintf(p, "images:%ui", ctx->units_images) - p);

        case NGX_HTTP_AIROUTER_EP_SPEECH:
            return ngx_http_airouter_variable_set(r, v, p,
                       ngx_sprintf(p, "characters:%ui",
                                   ctx->units_characters) - p);

        case NGX_HTTP_AIROUTER_EP_TRANSCRIPTIONS:
            if (ctx->units_seconds < 0) {
                return ngx_http_airouter_variable_set(r, v,
                           (u_char *) "seconds:unknown",
                           sizeof("seconds:unknown") - 1);
            }

            return ngx_http_airouter_variable_set(r, v, p,
                       ngx_sprintf(p, "seconds:%.3f", ctx->units_seconds)
                       - p);

        default:
            v->not_found = 1;
            return NGX_OK;
        }

    case NGX_HTTP_AIROUTER_VAR_USAGE_SOURCE:
        if (ctx->prompt_tokens < 0) {
            v->not_found = 1;
            return NGX_OK;
        }

        return ctx->usage_counted
               ? ngx_http_airouter_variable_set(r, v, (u_char *) "counted",
                                                sizeof("counted") - 1)
               : ngx_http_airouter_variable_set(r, v, (u_char *) "upstream",
                                                sizeof("upstream") - 1);

    case NGX_HTTP_AIROUTER_VAR_KEY:
        if (res->key < 0) {
            v->not_found = 1;
            return NGX_OK;
        }

        p = ngx_pnalloc(r->pool, sizeof("key#") - 1 + NGX_INT_T_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        return ngx_http_airouter_variable_set(r, v, p,
                   ngx_sprintf(p, "key#%i", res->key) - p);

    case NGX_HTTP_AIROUTER_VAR_TTFB:
        if (res->ttfb == (ngx_msec_t) -1) {
            v->not_found = 1;
            return NGX_OK;
        }

        p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        return ngx_http_airouter_variable_set(r, v, p,
                   ngx_sprintf(p, "%M", res->ttfb) - p);

    case NGX_HTTP_AIROUTER_VAR_HEDGED:
        if (!ctx->hedges) {
            v->not_found = 1;
            return NGX_OK;
        }

        /* every try failed (or the client left first): nobody won */
        if (res->channel.len == 0) {
            return ngx_http_airouter_variable_set(r, v, (u_char *) "none",
                                                  sizeof("none") - 1);
        }

        return ctx->hedge_wins
               ? ngx_http_airouter_variable_set(r, v, (u_char *) "hedge",
                                                sizeof("hedge") - 1)
               : ngx_http_airouter_variable_set(r, v, (u_char *) "primary",
                                                sizeof("primary") - 1);

    default:
        break;
    }

    n = (data == NGX_HTTP_AIROUTER_VAR_ATTEMPTS) ? (ngx_int_t) ctx->attempts
        : (data == NGX_HTTP_AIROUTER_VAR_PROMPT) ? ctx->prompt_tokens
        : (data == NGX_HTTP_AIROUTER_VAR_CACHED) ? ctx->cached_tokens
        : ctx->completion_tokens;

    if (n < 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_airouter_variable_set(r, v, p, ngx_sprintf(p, "%i", n) - p);
}


static ngx_int_t
ngx_http_airouter_variable_set(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, u_char *data, size_t len)
{
    if (len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = data;
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}
