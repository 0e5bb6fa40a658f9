/*
 * The `airouter` location: the OpenAI-compatible API.  Admission (the
 * key's token, budgets, rate) runs in nginx's access phase, before the
 * body is read, and leaves the request's context.  GET requests (model
 * listings) are answered at once; POST requests have their body read with
 * nginx's request-body API and checked, then either explained (/v1/route)
 * or routed and handed to the proxy.  A plain OpenAI request's body is read
 * by one validating scan (airouter_jscan.c), without a tree; a client
 * dialect, explain and the routing controls ("models", "provider") read it
 * as a jansson tree.
 *
 * Called by the module's access handler and dispatcher; calls auth, the
 * stats' admission and holds, the brain (airouter_route), the routing
 * helpers (ngx_http_airouter_route.c), ngx_http_airouter_models.c,
 * ngx_http_airouter_explain.c and ngx_http_airouter_proxy.c.
 */

#include "ngx_http_airouter_handlers.h"
#include "ngx_http_airouter_api.h"
#include "ngx_http_airouter_route.h"
#include "ngx_http_airouter_catalog.h"
#include "ngx_http_airouter_proxy.h"
#include "ngx_http_airouter_response.h"
#include "ngx_http_airouter_live.h"
#include "ngx_http_airouter_auth.h"
#include "ngx_http_airouter_stats.h"
#include "ngx_http_airouter_balance.h"
#include "ngx_http_airouter_dialect.h"
#include "ngx_http_airouter_header.h"
#include "airouter_tokenizer.h"
#include "airouter_params_json.h"
#include "airouter_jscan.h"
#include "airouter_json_scan.h"


#define NGX_HTTP_AIROUTER_BODY_MAX        (64 * 1024 * 1024)
#define NGX_HTTP_AIROUTER_CANDIDATES      16
#define NGX_HTTP_AIROUTER_MSG_OVERHEAD    4
/* an answer's length when neither the request nor the model bounds it */
#define NGX_HTTP_AIROUTER_RESERVE_OUTPUT  4096


static ngx_int_t ngx_http_airouter_api_admit(ngx_http_request_t *r,
    ngx_uint_t need_key, ngx_http_airouter_ctx_t **ctxp, ngx_int_t *code);
static ngx_uint_t ngx_http_airouter_api_stats(ngx_str_t *path);
static ngx_int_t ngx_http_airouter_api_post_find(ngx_str_t *path);
static ngx_uint_t ngx_http_airouter_api_methods(ngx_http_airouter_ctx_t *ctx,
    ngx_str_t *path);
static ngx_int_t ngx_http_airouter_api_refuse(ngx_http_request_t *r,
    ngx_uint_t methods);
static ngx_uint_t ngx_http_airouter_api_gemini_models(ngx_http_request_t *r);
static ngx_int_t ngx_http_airouter_api_endpoint(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, ngx_str_t *path);
static void ngx_http_airouter_api_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_airouter_api_post(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx);
static ngx_int_t ngx_http_airouter_api_form(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx);
static ngx_int_t ngx_http_airouter_api_read_body(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx);
static ngx_int_t ngx_http_airouter_api_scan(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx);
static ngx_int_t ngx_http_airouter_api_scan_hedge(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, const airouter_jscan_member_t *m);
static size_t ngx_http_airouter_api_count_text(const void *data,
    const char *s, size_t len);
static unsigned ngx_http_airouter_api_params_endpoint(
    ngx_http_airouter_ctx_t *ctx);
static void ngx_http_airouter_api_member(ngx_http_airouter_ctx_t *ctx,
    const char *name, airouter_json_value_t *v, int64_t *integer);
static ngx_int_t ngx_http_airouter_api_check_params(
    ngx_http_airouter_ctx_t *ctx, json_t *body, airouter_params_error_t *err);
static ngx_int_t ngx_http_airouter_api_check_needs(
    ngx_http_airouter_ctx_t *ctx, airouter_params_error_t *err);
static ngx_int_t ngx_http_airouter_api_check_lacks(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx);
static void ngx_http_airouter_api_cleanup(void *data);
static ngx_int_t ngx_http_airouter_api_controls(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, json_t *body, ngx_int_t *rc);
static ngx_int_t ngx_http_airouter_api_denied(ngx_http_request_t *r,
    const char *param);
static ngx_int_t ngx_http_airouter_api_route(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx);
static void ngx_http_airouter_api_needs(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, airouter_route_req_t *req);
static void ngx_http_airouter_api_estimates(ngx_http_airouter_ctx_t *ctx,
    airouter_route_req_t *req);
static ngx_int_t ngx_http_airouter_api_count(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx);
static uint64_t ngx_http_airouter_api_estimate(
    const airouter_tokenizer_t *tk, json_t *content);
static ngx_int_t ngx_http_airouter_api_has_image(json_t *content);
static double ngx_http_airouter_api_worst_cost(ngx_http_airouter_ctx_t *ctx,
    airouter_route_req_t *req, const airouter_catalog_model_t *m,
    ngx_http_airouter_candidate_t *c);
static double ngx_http_airouter_api_worst_tokens(
    ngx_http_airouter_ctx_t *ctx, airouter_route_req_t *req,
    const airouter_catalog_model_t *m, ngx_http_airouter_candidate_t *c);
static void ngx_http_airouter_api_unit_prices(
    const airouter_catalog_model_t *m, double rate,
    ngx_http_airouter_candidate_t *c);
static void ngx_http_airouter_api_units(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx);
static ngx_uint_t ngx_http_airouter_api_characters(json_t *v);


/*
 * The POST paths routed to an upstream (after "/v1/"), the endpoint each
 * one is, and the member its body must have beside "model"; none for a
 * multipart/form-data body (ngx_http_airouter_form.c), where "model" is a
 * form field.  The upstream gets the same path.
 */
static const struct {
    ngx_str_t                     path;
    ngx_http_airouter_endpoint_e  endpoint;
    const char                   *needs;
    airouter_json_kind_e          kind;        /* 0: any */
    ngx_uint_t                    scope;       /* of live blocks; 0: the
                                                  endpoint's */
} ngx_http_airouter_api_posts[] = {
    { ngx_string("chat/completions"), NGX_HTTP_AIROUTER_EP_CHAT,
      "messages", AIROUTER_JSON_ARRAY, 0 },
    { ngx_string("completions"), NGX_HTTP_AIROUTER_EP_COMPLETIONS,
      "prompt", 0, 0 },
    { ngx_string("embeddings"), NGX_HTTP_AIROUTER_EP_EMBEDDINGS,
      "input", 0, 0 },
    { ngx_string("rerank"), NGX_HTTP_AIROUTER_EP_RERANK,
      "query", AIROUTER_JSON_STRING, 0 },
    { ngx_string("images/generations"), NGX_HTTP_AIROUTER_EP_IMAGES,
      "prompt", AIROUTER_JSON_STRING, 0 },
    { ngx_string("audio/speech"), NGX_HTTP_AIROUTER_EP_SPEECH,
      "input", AIROUTER_JSON_STRING, 0 },
    { ngx_string("moderations"), NGX_HTTP_AIROUTER_EP_MODERATIONS,
      "input", 0, 0 },
    { ngx_string("audio/transcriptions"),
      NGX_HTTP_AIROUTER_EP_TRANSCRIPTIONS, NULL, 0, 0 },
    { ngx_string("audio/translations"),
      NGX_HTTP_AIROUTER_EP_TRANSCRIPTIONS, NULL, 0,
      NGX_HTTP_AIROUTER_LIVE_SCOPE_TRANSLATIONS },
    { ngx_string("images/edits"), NGX_HTTP_AIROUTER_EP_IMAGES,
      NULL, 0, NGX_HTTP_AIROUTER_LIVE_SCOPE_IMAGE_EDITS },
    { ngx_string("images/variations"), NGX_HTTP_AIROUTER_EP_IMAGES,
      NULL, 0, NGX_HTTP_AIROUTER_LIVE_SCOPE_IMAGE_VARIATIONS }
};


/*
 * Chat, completions and embeddings: the member each cannot do without
 * (chat's messages: a non-empty array) and OpenAI's own words when it is
 * missing, older than the path table's missing_required_parameter.
 * Checked after the parameter table, on the tree and on the scan alike.
 */
static const struct {
    ngx_http_airouter_endpoint_e  endpoint;
    const char                   *member;
    airouter_json_kind_e          kind;        /* 0: present is enough */
    const char                   *code;
    const char                   *message;
} ngx_http_airouter_api_lacks[] = {
    { NGX_HTTP_AIROUTER_EP_CHAT, "messages", AIROUTER_JSON_ARRAY,
      "missing_messages", "You must provide a non-empty messages array" },
    { NGX_HTTP_AIROUTER_EP_COMPLETIONS, "prompt", 0,
      "missing_prompt", "You must provide a prompt parameter" },
    { NGX_HTTP_AIROUTER_EP_EMBEDDINGS, "input", 0,
      "missing_input", "You must provide an input parameter" }
};


/*
 * The part of the URI after "/v1/", so the API can sit under any prefix
 * ("location /openai/v1/ { airouter; }").
 */
ngx_int_t
ngx_http_airouter_api_path(ngx_http_request_t *r, ngx_str_t *path)
{
    u_char  *p;

    p = ngx_strlcasestrn(r->uri.data, r->uri.data + r->uri.len,
                         (u_char *) "/v1/", 4 - 1);
    if (p == NULL) {
        return NGX_DECLINED;
    }

    path->data = p + 4;
    path->len = r->uri.data + r->uri.len - path->data;

    return NGX_OK;
}


/*
 * The access phase of an API location (the module's access handler):
 * the key's token, then, for a request that will be routed, its budgets
 * and rate; for /v1/stats/... the admin token.  A refusal is answered
 * here, before the body is read; an admitted request leaves its context
 * for the content handler.  NGX_OK (a right token) is a yes under
 * "satisfy any"; with auth off it has no say (NGX_DECLINED), so it never
 * lets in what allow/deny or auth_request refused.
 */
ngx_int_t
ngx_http_airouter_api_access(ngx_http_request_t *r)
{
    ngx_int_t                 rc, code;
    ngx_str_t                 path;
    ngx_http_airouter_ctx_t  *ctx;

    rc = ngx_http_airouter_api_admit(r, 1, &ctx, &code);

    if (rc == NGX_OK) {
        /* auth off: no key to check, no say under "satisfy any" */
        return ctx->key ? NGX_OK : NGX_DECLINED;
    }

    if (rc == NGX_DECLINED) {
        /* the stats API: the admin token, not a key */
        if (ngx_http_airouter_api_path(r, &path) == NGX_OK
            && ngx_http_airouter_api_stats(&path))
        {
            return ngx_http_airouter_auth_admin_phase(r);
        }

        return NGX_DECLINED;
    }

    /* answered: finalized as the content phase would */
    ngx_http_finalize_request(r, code);

    return NGX_DONE;
}


/*
 * Admission: the request's context, its key and, when it will be routed
 * (every endpoint of the path table, a dialect's request; not /v1/route nor
 * count_tokens), budgets and rate.  With need_key a missing or wrong
 * token is a 401; without (another access module let the request in
 * under "satisfy any"), a right token still names the key, whose limits
 * apply, and no token is an anonymous request.
 *
 * NGX_OK with *ctxp; NGX_DECLINED when the URL is not one a key opens
 * (outside /v1/, the stats API): the content handler answers it; NGX_DONE
 * when an answer was sent, *code being what to finalize with.
 */
static ngx_int_t
ngx_http_airouter_api_admit(ngx_http_request_t *r, ngx_uint_t need_key,
    ngx_http_airouter_ctx_t **ctxp, ngx_int_t *code)
{
    ngx_int_t                       rc;
    ngx_str_t                       path;
    ngx_http_airouter_ctx_t        *ctx;
    const airouter_apikey_t        *key;
    ngx_http_airouter_dialect_t    *d;
    ngx_http_airouter_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_airouter_module);
    if (ctx) {
        *ctxp = ctx;
        return NGX_OK;
    }

    /* Messages, Responses, Gemini: translated to chat (Gemini's
     * embeddings to /v1/embeddings) once read */
    d = NULL;

    if (ngx_http_airouter_dialect_route(r, &d) == NGX_ERROR) {
        *code = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_DONE;
    }

    if (d && d->route.embed) {
        /* Gemini's embedContent / batchEmbedContents */
        ngx_str_set(&path, "embeddings");

    } else if (d) {
        ngx_str_set(&path, "chat/completions");

    } else if (ngx_http_airouter_api_gemini_models(r)) {
        /* Gemini's models.list and models.get: a key's listing */
        ngx_str_set(&path, "models");

    } else if (ngx_http_airouter_api_path(r, &path) != NGX_OK
               || ngx_http_airouter_api_stats(&path))
    {
        return NGX_DECLINED;
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airouter_module);

    if (need_key) {
        if (ngx_http_airouter_auth_api(r, &key, code) != NGX_OK) {
            return NGX_DONE;
        }

    } else {
        key = amcf->config->auth.enabled
              ? ngx_http_airouter_auth_find(r, amcf->config) : NULL;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_airouter_ctx_t));
    if (ctx == NULL) {
        *code = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_DONE;
    }

    ctx->amcf = amcf;
    ctx->key = key;
    ctx->prompt_tokens = -1;
    ctx->cached_tokens = -1;
    ctx->completion_tokens = -1;
    ctx->cost = -1;
    ctx->units_seconds = -1;
    ctx->dialect = d;

    ngx_http_set_ctx(r, ctx, ngx_http_airouter_module);
    *ctxp = ctx;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "airouter: admission of \"%V\", key \"%s\"%s", &path,
                   key ? key->name : "-", need_key ? "" : " (satisfy any)");

    if (!(r->method & NGX_HTTP_POST)) {
        /* a listing, or a method the content handler refuses */
        return NGX_OK;
    }

    rc = ngx_http_airouter_api_endpoint(r, ctx, &path);

    if (rc == NGX_ERROR) {
        *code = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_DONE;
    }

    /* an unknown URL is the content handler's 404; nothing to spend */
    if (rc == NGX_DECLINED || ctx->explain || ctx->count) {
        return NGX_OK;
    }

    /* budgets and the key's rate: refused before the body is read */
    if (ngx_http_airouter_stats_admit(r, ctx, code) != NGX_OK) {
        return NGX_DONE;
    }

    return NGX_OK;
}


/* Gemini's models.list or models.get path (.../v1beta/models[/{m}]). */
static ngx_uint_t
ngx_http_airouter_api_gemini_models(ngx_http_request_t *r)
{
    size_t  model, len;

    return airouter_dialect_gemini_models((char *) r->uri.data, r->uri.len,
                                          &model, &len) != 0;
}


/* "stats/...": the stats API, behind the admin token, not an API key. */
static ngx_uint_t
ngx_http_airouter_api_stats(ngx_str_t *path)
{
    return path->len >= sizeof("stats/") - 1
           && ngx_strncmp(path->data, "stats/", sizeof("stats/") - 1) == 0;
}


/*
 * A POST's endpoint from its path, into ctx (endpoint, explain, count and
 * the API path the upstream gets).  NGX_DECLINED: no such endpoint.
 */
static ngx_int_t
ngx_http_airouter_api_endpoint(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, ngx_str_t *path)
{
    ngx_int_t                     i;
    ngx_http_airouter_dialect_t  *d;

    d = ctx->dialect;

    if (d) {
        ctx->endpoint = d->route.embed ? NGX_HTTP_AIROUTER_EP_EMBEDDINGS
                                       : NGX_HTTP_AIROUTER_EP_CHAT;
        ctx->count = d->route.count;

    } else if (path->len == sizeof("route") - 1
               && ngx_strncmp(path->data, "route", path->len) == 0)
    {
        ctx->endpoint = NGX_HTTP_AIROUTER_EP_CHAT;
        ctx->explain = 1;

    } else {
        i = ngx_http_airouter_api_post_find(path);

        if (i == NGX_ERROR) {
            return NGX_DECLINED;
        }

        ctx->endpoint = ngx_http_airouter_api_posts[i].endpoint;
        ctx->form = (ngx_http_airouter_api_posts[i].needs == NULL);
        ctx->scope = ngx_http_airouter_api_posts[i].scope;
    }

    /* the API path the upstream gets, whatever prefix the client used */
    ctx->api_path.len = sizeof("/v1/") - 1 + path->len;
    ctx->api_path.data = ngx_pnalloc(r->pool, ctx->api_path.len);
    if (ctx->api_path.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(ctx->api_path.data, "/v1/", 4), path->data,
               path->len);

    return NGX_OK;
}


/* The index of a POST endpoint's path in the table, or NGX_ERROR. */
static ngx_int_t
ngx_http_airouter_api_post_find(ngx_str_t *path)
{
    ngx_uint_t  i;

    for (i = 0; i < sizeof(ngx_http_airouter_api_posts)
                    / sizeof(ngx_http_airouter_api_posts[0]); i++)
    {
        if (path->len == ngx_http_airouter_api_posts[i].path.len
            && ngx_strncmp(path->data, ngx_http_airouter_api_posts[i].path.data,
                           path->len) == 0)
        {
            return i;
        }
    }

    return NGX_ERROR;
}


/*
 * The methods the API answers on a path after "/v1/", 0 for a path it
 * does not know: the listings (models, models/{id}, tags) take GET and
 * HEAD; /v1/route, every endpoint of the table and a client dialect's
 * route take POST.
 */
static ngx_uint_t
ngx_http_airouter_api_methods(ngx_http_airouter_ctx_t *ctx, ngx_str_t *path)
{
    if (ctx->dialect
        || (path->len == sizeof("route") - 1
            && ngx_strncmp(path->data, "route", path->len) == 0)
        || ngx_http_airouter_api_post_find(path) != NGX_ERROR)
    {
        return NGX_HTTP_POST;
    }

    if ((path->len == sizeof("models") - 1
         && ngx_strncmp(path->data, "models", path->len) == 0)
        || (path->len > sizeof("models/") - 1
            && ngx_strncmp(path->data, "models/", sizeof("models/") - 1) == 0)
        || (path->len == sizeof("tags") - 1
            && ngx_strncmp(path->data, "tags", path->len) == 0))
    {
        return NGX_HTTP_GET|NGX_HTTP_HEAD;
    }

    return 0;
}


/*
 * OpenAI's answers for a URL it does not serve (404) or a method its path
 * does not take (405, with Allow), each naming the method and the URL.
 */
static ngx_int_t
ngx_http_airouter_api_refuse(ngx_http_request_t *r, ngx_uint_t methods)
{
    ngx_str_t         *allowed;
    static ngx_str_t   allow = ngx_string("Allow");
    static ngx_str_t   post = ngx_string("POST");
    static ngx_str_t   get = ngx_string("GET, HEAD");

    if (methods == 0) {
        return ngx_http_airouter_send_error(r, NGX_HTTP_NOT_FOUND,
                   "invalid_request_error", "unknown_url",
                   "Unknown request URL: %V %V", &r->method_name, &r->uri);
    }

    allowed = (methods & NGX_HTTP_POST) ? &post : &get;

    if (ngx_http_airouter_header_add(r, &allow, allowed->data, allowed->len)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_airouter_send_error(r, NGX_HTTP_NOT_ALLOWED,
               "invalid_request_error", "method_not_allowed",
               "Method %V is not allowed on %V", &r->method_name, &r->uri);
}


ngx_int_t
ngx_http_airouter_api_handler(ngx_http_request_t *r)
{
    ngx_int_t                 rc, code;
    ngx_str_t                 path;
    ngx_uint_t                methods;
    ngx_http_airouter_ctx_t  *ctx;

    /*
     * Admitted in the access phase, unless nginx ran none (a subrequest:
     * the key is then required here) or another access module let the
     * request in under "satisfy any".
     */
    ctx = NULL;

    rc = ngx_http_airouter_api_admit(r, r != r->main, &ctx, &code);

    if (rc == NGX_DONE) {
        return code;
    }

    if (ctx && ctx->dialect) {
        ngx_str_set(&path, "chat/completions");

    } else if (ctx && ngx_http_airouter_api_gemini_models(r)) {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_http_airouter_api_refuse(r, NGX_HTTP_GET|NGX_HTTP_HEAD);
        }

        return ngx_http_airouter_models_gemini(r, ctx->key);

    } else if (ngx_http_airouter_api_path(r, &path) != NGX_OK) {
        return ngx_http_airouter_api_refuse(r, 0);
    }

    /* /v1/stats/...: behind the admin token, not an API key */
    if (ctx == NULL) {
        return ngx_http_airouter_stats_api_handler(r, &path);
    }

    /* one rule: an unknown path is a 404, a known one's other methods 405 */
    methods = ngx_http_airouter_api_methods(ctx, &path);

    if (!(r->method & methods)) {
        return ngx_http_airouter_api_refuse(r, methods);
    }

    if (methods & NGX_HTTP_GET) {
        return ngx_http_airouter_models_handler(r, &path, ctx->key);
    }

    rc = ngx_http_read_client_request_body(r,
                                         ngx_http_airouter_api_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_airouter_api_body_handler(ngx_http_request_t *r)
{
    ngx_http_airouter_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_airouter_module);

    ngx_http_finalize_request(r, ngx_http_airouter_api_post(r, ctx));
}


static ngx_int_t
ngx_http_airouter_api_post(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx)
{
    size_t                    len;
    json_t                   *body, *model, *field, *chat;
    ngx_int_t                 rc;
    ngx_str_t                 raw;
    airouter_derr_t           derr;
    ngx_pool_cleanup_t       *cln;
    airouter_params_error_t   err;

    if (r->connection->error) {
        return NGX_HTTP_CLIENT_CLOSED_REQUEST;
    }

    if (ctx->form) {
        return ngx_http_airouter_api_form(r, ctx);
    }

    if (ngx_http_airouter_api_read_body(r, ctx) != NGX_OK) {
        return ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_request_error", "invalid_json",
                   "The request body is not valid JSON");
    }

    /* a plain request: one scan, no tree (NGX_DECLINED: the tree's) */
    if (ctx->dialect == NULL && !ctx->explain) {
        rc = ngx_http_airouter_api_scan(r, ctx);
        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    body = json_loadb((char *) ctx->raw.data, ctx->raw.len, 0, NULL);
    if (body == NULL) {
        return ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_request_error", "invalid_json",
                   "The request body is not valid JSON");
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        json_decref(body);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_airouter_api_cleanup;
    cln->data = body;
    ctx->body = body;

    if (!json_is_object(body)) {
        return ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_request_error", "invalid_json",
                   "The request body must be a JSON object");
    }

    /* "models" and "provider" steer routing; no upstream sees them */
    if (ngx_http_airouter_api_controls(r, ctx, body, &rc) != NGX_OK) {
        return rc;
    }

    if (ctx->dialect) {
        /* from here on the request is chat, whatever the client spoke */
        rc = ngx_http_airouter_dialect_to_chat(r, ctx->dialect, body,
                                               &ctx->raw, &chat, &raw, &derr);
        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc == NGX_DECLINED) {
            return ngx_http_airouter_send_error(r, derr.status, derr.type,
                                                derr.code, "%s", derr.message);
        }

        ctx->body = body = chat;
        ctx->raw = raw;

        /* require_parameters reads the chat request it became */
        if (ctx->controls && ctx->controls->require_parameters) {
            ctx->controls->params_used = airouter_controls_params_used(body);
        }
    }

    model = json_object_get(body, "model");

    if ((model == NULL || json_is_null(model))
        && ctx->controls && ctx->controls->nmodels)
    {
        /* OpenRouter's shape: "models" alone, the first one leads */
        ctx->no_model = 1;
        ctx->requested.data = (u_char *) ctx->controls->models[0].s;
        ctx->requested.len = ctx->controls->models[0].len;

    } else if (model == NULL || json_is_null(model)) {
        return ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_request_error", "missing_model",
                   "You must provide a model parameter");

    } else if (!json_is_string(model) || json_string_length(model) == 0) {
        return ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_request_error", "invalid_model",
                   "The model parameter must be a non-empty string");

    } else {
        ctx->requested.data = (u_char *) json_string_value(model);
        ctx->requested.len = json_string_length(model);
    }

    /* a ":floor" / ":nitro" suffix is a routing control too */
    if (ctx->key && !ctx->key->allow_request_routing && !ctx->no_model
        && airouter_controls_suffix((const char *) ctx->requested.data,
                                    ctx->requested.len, &len)
           != AIROUTER_SORT_NONE)
    {
        return ngx_http_airouter_api_denied(r, "model");
    }

    if (ctx->explain) {
        /* explain takes any request shape; "endpoint" picks the kind */
        field = json_object_get(body, "endpoint");

        if (json_is_string(field)) {
            rc = ngx_http_airouter_endpoint_by_name(
                     (u_char *) json_string_value(field),
                     json_string_length(field));

            if (rc == NGX_ERROR) {
                return ngx_http_airouter_send_param_error(r, "endpoint",
                           "invalid_value",
                           "Unknown endpoint: \"%s\" (chat, completions, "
                           "embeddings, rerank, images, speech, "
                           "transcriptions, moderations)",
                           json_string_value(field));
            }

            ctx->endpoint = rc;
        }

        return ngx_http_airouter_api_route(r, ctx);
    }

    if (ctx->endpoint > NGX_HTTP_AIROUTER_EP_EMBEDDINGS) {
        /* the other endpoints: their one required member, then routed */
        if (ngx_http_airouter_api_check_needs(ctx, &err) != NGX_OK) {
            return ngx_http_airouter_send_param_error(r, err.param, err.code,
                                                      "%s", err.message);
        }

        return ngx_http_airouter_api_route(r, ctx);
    }

    if (ngx_http_airouter_api_check_params(ctx, body, &err) != NGX_OK) {
        return ngx_http_airouter_send_param_error(r, err.param, err.code,
                                                  "%s", err.message);
    }

    rc = ngx_http_airouter_api_check_lacks(r, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    ctx->stream = json_is_true(json_object_get(body, "stream")) ? 1 : 0;

    /* "hedge": the router's, never the upstream's (OpenAI refuses it) */
    ctx->hedge_asked = -1;
    field = json_object_get(body, "hedge");

    if (field != NULL && !json_is_null(field)) {
        if (!json_is_boolean(field)) {
            return ngx_http_airouter_send_param_error(r, "hedge",
                       "invalid_type", "hedge must be true or false");
        }

        ctx->hedge_asked = json_is_true(field) ? 1 : 0;
    }

    if (field != NULL) {
        json_object_del(body, "hedge");

        if (ngx_http_airouter_dialect_dump(r, body, &ctx->raw) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ctx->count) {
        return ngx_http_airouter_api_count(r, ctx);
    }

    return ngx_http_airouter_api_route(r, ctx);
}


/*
 * A multipart/form-data body: read by ngx_http_airouter_form.c (the model
 * field, "stream"), never parsed as JSON, then routed as any request.
 */
static ngx_int_t
ngx_http_airouter_api_form(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx)
{
    size_t     len;
    ngx_int_t  rc;

    if (ngx_http_airouter_form_read(r, ctx, &rc) != NGX_OK) {
        return rc;
    }

    /* a ":floor" / ":nitro" suffix is a routing control */
    if (ctx->key && !ctx->key->allow_request_routing
        && airouter_controls_suffix((const char *) ctx->requested.data,
                                    ctx->requested.len, &len)
           != AIROUTER_SORT_NONE)
    {
        return ngx_http_airouter_api_denied(r, "model");
    }

    return ngx_http_airouter_api_route(r, ctx);
}


/*
 * Every member of the body whose type (or range) OpenAI checks, checked
 * the same way (airouter_params.c), so a request OpenAI refuses is refused
 * here with OpenAI's 400 before any upstream sees it.  NGX_OK, or
 * NGX_DECLINED with err filled.
 */
static ngx_int_t
ngx_http_airouter_api_check_params(ngx_http_airouter_ctx_t *ctx,
    json_t *body, airouter_params_error_t *err)
{
    return airouter_params_json_body(
               ngx_http_airouter_api_params_endpoint(ctx), body, err)
           == 0 ? NGX_OK : NGX_DECLINED;
}


/* The parameter table's endpoint (AIROUTER_PARAMS_*) of a request. */
static unsigned
ngx_http_airouter_api_params_endpoint(ngx_http_airouter_ctx_t *ctx)
{
    switch (ctx->endpoint) {

    case NGX_HTTP_AIROUTER_EP_COMPLETIONS:
        return AIROUTER_PARAMS_COMPLETIONS;

    case NGX_HTTP_AIROUTER_EP_EMBEDDINGS:
        return AIROUTER_PARAMS_EMBEDDINGS;

    default:
        return AIROUTER_PARAMS_CHAT;
    }
}


/*
 * A top-level member of the body as the parameter table sees it (kind 0:
 * absent), and its value when it is an integer: from the scan, or from
 * the tree.
 */
static void
ngx_http_airouter_api_member(ngx_http_airouter_ctx_t *ctx, const char *name,
    airouter_json_value_t *v, int64_t *integer)
{
    json_t                         *j;
    const airouter_jscan_member_t  *m;

    *integer = 0;

    if (ctx->scan) {
        m = airouter_jscan_get(ctx->scan, name);

        if (m == NULL) {
            ngx_memzero(v, sizeof(airouter_json_value_t));
            return;
        }

        *v = m->value;
        *integer = m->integer;
        return;
    }

    j = json_object_get(ctx->body, name);
    airouter_params_json_value(j, v);

    if (json_is_integer(j)) {
        *integer = json_integer_value(j);
    }
}


/*
 * The member an endpoint's body must have beside "model" (the path table),
 * of the type it must be; rerank's "documents" too.  NGX_OK, or
 * NGX_DECLINED with err filled, as the parameter table would.
 */
static ngx_int_t
ngx_http_airouter_api_check_needs(ngx_http_airouter_ctx_t *ctx,
    airouter_params_error_t *err)
{
    int64_t                integer;
    ngx_uint_t             i;
    const char            *name;
    airouter_json_kind_e   kind;
    airouter_json_value_t  v;

    for (i = 0; i < sizeof(ngx_http_airouter_api_posts)
                    / sizeof(ngx_http_airouter_api_posts[0]); i++)
    {
        if (ngx_http_airouter_api_posts[i].endpoint != ctx->endpoint
            || ngx_http_airouter_api_posts[i].needs == NULL)
        {
            continue;
        }

        name = ngx_http_airouter_api_posts[i].needs;
        kind = ngx_http_airouter_api_posts[i].kind;
        ngx_http_airouter_api_member(ctx, name, &v, &integer);

        if (v.kind == 0 || v.kind == AIROUTER_JSON_NULL) {
            ngx_cpystrn((u_char *) err->param, (u_char *) name,
                        sizeof(err->param));
            err->code = "missing_required_parameter";
            ngx_snprintf((u_char *) err->message, sizeof(err->message) - 1,
                         "Missing required parameter: '%s'.%Z", name);
            return NGX_DECLINED;
        }

        if (kind != 0 && v.kind != kind) {
            ngx_cpystrn((u_char *) err->param, (u_char *) name,
                        sizeof(err->param));
            err->code = "invalid_type";
            ngx_snprintf((u_char *) err->message, sizeof(err->message) - 1,
                         "Invalid type for '%s': expected %s.%Z", name,
                         kind == AIROUTER_JSON_STRING ? "a string"
                                                      : "an array");
            return NGX_DECLINED;
        }

        break;
    }

    if (ctx->endpoint == NGX_HTTP_AIROUTER_EP_RERANK) {
        ngx_http_airouter_api_member(ctx, "documents", &v, &integer);

        if (v.kind != AIROUTER_JSON_ARRAY || v.length == 0) {
            ngx_cpystrn((u_char *) err->param, (u_char *) "documents",
                        sizeof(err->param));
            err->code = v.kind ? "invalid_type"
                               : "missing_required_parameter";
            ngx_snprintf((u_char *) err->message, sizeof(err->message) - 1,
                         "'documents' must be a non-empty array.%Z");
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/*
 * The member chat, completions or embeddings lacks (the table above):
 * its error sent, or NGX_DECLINED when nothing is missing.
 */
static ngx_int_t
ngx_http_airouter_api_check_lacks(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx)
{
    int64_t                integer;
    ngx_uint_t             i;
    airouter_json_value_t  v;

    for (i = 0; i < sizeof(ngx_http_airouter_api_lacks)
                    / sizeof(ngx_http_airouter_api_lacks[0]); i++)
    {
        if (ngx_http_airouter_api_lacks[i].endpoint != ctx->endpoint) {
            continue;
        }

        ngx_http_airouter_api_member(ctx,
                                     ngx_http_airouter_api_lacks[i].member,
                                     &v, &integer);

        if (v.kind == 0
            || (ngx_http_airouter_api_lacks[i].kind
                && (v.kind != ngx_http_airouter_api_lacks[i].kind
                    || v.length == 0)))
        {
            return ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                       "invalid_request_error",
                       ngx_http_airouter_api_lacks[i].code, "%s",
                       ngx_http_airouter_api_lacks[i].message);
        }
    }

    return NGX_DECLINED;
}


/*
 * POST .../messages/count_tokens, Gemini's :countTokens: the prompt as
 * routing sizes it (the
 * tokenizer, or the estimate), the tools' definitions included.  No
 * upstream is asked.
 */
static ngx_int_t
ngx_http_airouter_api_count(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx)
{
    json_t                *v;
    uint64_t               n;
    ngx_str_t              tools;
    airouter_route_req_t   req;

    ngx_http_airouter_api_needs(r, ctx, &req);

    n = req.prompt_tokens;

    v = json_object_get(ctx->body, "tools");
    if (json_array_size(v)) {
        if (ngx_http_airouter_dialect_dump(r, v, &tools) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        n += airouter_tokenizer_count(ctx->amcf->tokenizer,
                                      (const char *) tools.data, tools.len);
    }

    return ngx_http_airouter_send_json(r, NGX_HTTP_OK,
               ngx_http_airouter_dialect_count_json(ctx->dialect, n));
}


/*
 * Fills a routing request from the client's body: what the request needs
 * (images, tools, context room) decides which models may serve it.
 */
static void
ngx_http_airouter_api_needs(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, airouter_route_req_t *req)
{
    size_t                 i;
    int64_t                integer;
    airouter_json_value_t  v;

    ngx_memzero(req, sizeof(airouter_route_req_t));

    /* "models" alone: airouter_route_controls() walks them all */
    if (!ctx->no_model) {
        req->model = (const char *) ctx->requested.data;
        req->model_len = ctx->requested.len;
    }

    req->controls = ctx->controls;

    /* the key's ACL: what it may reach, whatever name the client uses */
    if (ctx->key) {
        req->allowed_tags = &ctx->key->allowed_tags;
        req->allowed_models = &ctx->key->allowed_models;
    }

    req->endpoint = ngx_http_airouter_endpoint_rank(ctx->endpoint);

    ngx_http_airouter_api_units(r, ctx);

    if (ctx->scan) {
        /* the scan counted the texts that size this endpoint's prompt */
        for (i = 0; i < ctx->scan->nmembers; i++) {
            req->prompt_tokens += ctx->scan->member[i].tokens;
        }

        req->prompt_tokens += ctx->scan->message_tokens
                              + NGX_HTTP_AIROUTER_MSG_OVERHEAD
                                * ctx->scan->nmessages;
        req->needs_vision = ctx->scan->vision;

    } else {
        ngx_http_airouter_api_estimates(ctx, req);
    }

    ngx_http_airouter_api_member(ctx, "tools", &v, &integer);
    if (v.kind == AIROUTER_JSON_ARRAY && v.length > 0) {
        req->needs_tools = 1;
    }

    ngx_http_airouter_api_member(ctx, "functions", &v, &integer);
    if (v.kind == AIROUTER_JSON_ARRAY && v.length > 0) {
        req->needs_tools = 1;
    }

    ngx_http_airouter_api_member(ctx, "max_completion_tokens", &v, &integer);
    if (v.kind != AIROUTER_JSON_INT) {
        ngx_http_airouter_api_member(ctx, "max_tokens", &v, &integer);
    }

    if (v.kind == AIROUTER_JSON_INT && integer > 0) {
        req->max_tokens = integer;
    }

    if (ctx->strategy.len) {
        req->strategy = (const char *) ctx->strategy.data;
    }

    /* the proxy's usage when the upstream reports none */
    ctx->prompt_counted = (ngx_uint_t) req->prompt_tokens;
}


/*
 * The units a price per unit counts, from the scan or the tree: the
 * images asked ("n", default 1), the characters (not bytes) of a speech
 * input.
 */
static void
ngx_http_airouter_api_units(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx)
{
    long                            len;
    u_char                         *p, *text;
    int64_t                         n;
    ngx_uint_t                      i, chars;
    airouter_json_value_t           v;
    const airouter_jscan_member_t  *m;

    if (ctx->endpoint == NGX_HTTP_AIROUTER_EP_IMAGES) {
        ngx_http_airouter_api_member(ctx, "n", &v, &n);
        ctx->units_images = (v.kind == AIROUTER_JSON_INT && n > 0
                             && n <= 1000000) ? (ngx_uint_t) n : 1;
        return;
    }

    if (ctx->endpoint != NGX_HTTP_AIROUTER_EP_SPEECH) {
        return;
    }

    if (ctx->scan == NULL) {
        ctx->units_characters = ngx_http_airouter_api_characters(
                                    json_object_get(ctx->body, "input"));
        return;
    }

    m = airouter_jscan_get(ctx->scan, "input");
    if (m == NULL || m->value.kind != AIROUTER_JSON_STRING) {
        return;
    }

    p = ctx->raw.data + m->start;
    len = (long) (m->end - m->start);

    if (m->escaped) {
        text = ngx_pnalloc(r->pool, len);
        if (text == NULL) {
            return;
        }

        len = airouter_json_unescape((char *) p, len, (char *) text);
        if (len < 0) {
            return;
        }

    } else {
        text = p + 1;           /* the quotes out */
        len -= 2;
    }

    chars = 0;

    for (i = 0; i < (ngx_uint_t) len; i++) {
        /* every byte but a continuation byte starts a character */
        chars += (text[i] & 0xc0) != 0x80;
    }

    ctx->units_characters = chars;
}


/* The prompt's size and its images, from the tree. */
static void
ngx_http_airouter_api_estimates(ngx_http_airouter_ctx_t *ctx,
    airouter_route_req_t *req)
{
    size_t                       i;
    json_t                      *body, *msgs, *msg, *v;
    const airouter_tokenizer_t  *tk;

    body = ctx->body;
    tk = ctx->amcf->tokenizer;

    switch (ctx->endpoint) {
    case NGX_HTTP_AIROUTER_EP_IMAGES:
    case NGX_HTTP_AIROUTER_EP_COMPLETIONS:
        req->prompt_tokens = ngx_http_airouter_api_estimate(tk,
                                 json_object_get(body, "prompt"));
        break;

    case NGX_HTTP_AIROUTER_EP_SPEECH:
    case NGX_HTTP_AIROUTER_EP_EMBEDDINGS:
    case NGX_HTTP_AIROUTER_EP_MODERATIONS:
        req->prompt_tokens = ngx_http_airouter_api_estimate(tk,
                                 json_object_get(body, "input"));
        break;

    case NGX_HTTP_AIROUTER_EP_RERANK:
        req->prompt_tokens = ngx_http_airouter_api_estimate(tk,
                                 json_object_get(body, "query"))
                             + ngx_http_airouter_api_estimate(tk,
                                 json_object_get(body, "documents"));
        break;

    case NGX_HTTP_AIROUTER_EP_TRANSCRIPTIONS:
        /* the audio is not counted: its price is per second, if any */
        break;

    default:
        msgs = json_object_get(body, "messages");

        json_array_foreach(msgs, i, msg) {
            v = json_object_get(msg, "content");
            req->prompt_tokens += NGX_HTTP_AIROUTER_MSG_OVERHEAD
                                  + ngx_http_airouter_api_estimate(tk, v);

            if (!req->needs_vision && ngx_http_airouter_api_has_image(v)) {
                req->needs_vision = 1;
            }
        }
    }
}


static ngx_int_t
ngx_http_airouter_api_route(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx)
{
    size_t                          i;
    double                          rate, worst, cost, prompt;
    const char                     *currency;
    ngx_int_t                       rc;
    airouter_config_t              *acf;
    airouter_route_req_t            req;
    airouter_candidate_t            cand[NGX_HTTP_AIROUTER_CANDIDATES];
    airouter_route_result_t         res;
    const airouter_catalog_t       *cat;
    ngx_http_airouter_candidate_t  *c;
    ngx_http_airouter_route_live_t  rl;
    const airouter_catalog_model_t *m;

    if (ngx_http_airouter_route_strategy(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_airouter_api_needs(r, ctx, &req);

    if (ctx->explain) {
        return ngx_http_airouter_explain(r, ctx, &req);
    }

    acf = ctx->amcf->config;

    if (ngx_http_airouter_route_live(r, ctx, &rl) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cat = rl.cat;

    /*
     * Only what the attempts need is ranked: max_retry_attempts, and two
     * more for candidates the proxy may skip without a try (every key
     * cooling down, no words in its dialect).  The process's memo keeps
     * the query's match set until the catalogue changes.
     */
    ngx_memzero(&res, sizeof(airouter_route_result_t));
    res.cand = cand;
    res.cand_max = ngx_min((ngx_uint_t) ngx_max(
                               acf->routing.max_retry_attempts, 1) + 2,
                           NGX_HTTP_AIROUTER_CANDIDATES);

    req.memo = ngx_http_airouter_catalog_memo(ctx->amcf);
    req.generation = ngx_http_airouter_catalog_generation(ctx->amcf);

    airouter_route_controls(cat, acf, &req, &rl.live, &res);

    if (res.status != AIROUTER_ROUTE_OK) {
        return ngx_http_airouter_route_error(r, ctx, &res);
    }

    if (ngx_array_init(&ctx->candidates, r->pool, res.ncand,
                       sizeof(ngx_http_airouter_candidate_t))
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    worst = 0;
    prompt = 0;

    for (i = 0; i < res.ncand; i++) {
        c = ngx_array_push(&ctx->candidates);
        if (c == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        m = airouter_catalog_model(cat, cand[i].model);

        c->channel = cand[i].channel;
        c->entry = cand[i].model;
        c->score = cand[i].score;
        c->model.len = ngx_strlen(cand[i].id);
        c->model.data = ngx_pnalloc(r->pool, c->model.len);
        if (c->model.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(c->model.data, cand[i].id, c->model.len);

        currency = airouter_catalog_model_currency(cat, m);
        rate = (ngx_strcasecmp((u_char *) currency, (u_char *) "CNY") == 0)
               ? acf->cost.cny_to_usd : 1.0;

        c->price_cache_read = -1;
        c->price_cache_write = -1;
        c->keys = m->keys;

        ngx_http_airouter_api_unit_prices(m, rate, c);

        if (m->flags & AIROUTER_MODEL_FREE) {
            c->price_prompt = 0;
            c->price_completion = 0;

        } else if (m->flags & AIROUTER_MODEL_PRICED) {
            c->price_prompt = m->price_prompt * rate;
            c->price_completion = m->price_completion * rate;

            if (m->price_cache_read >= 0) {
                c->price_cache_read = m->price_cache_read * rate;
            }

            if (m->price_cache_write >= 0) {
                c->price_cache_write = m->price_cache_write * rate;
            }

        } else {
            c->price_prompt = -1;
            c->price_completion = -1;
        }

        cost = ngx_http_airouter_api_worst_cost(ctx, &req, m, c);
        worst = ngx_max(worst, cost);
        prompt = ngx_max(prompt, c->price_prompt);
    }

    /*
     * Hedged: a second candidate may run beside the first.  Only where
     * paying twice stays within the budgets; the loser's prompt is held
     * on top of the worst case (the loser is closed at the winner's
     * first byte).
     */
    ctx->hedge = ctx->candidates.nelts > 1 && !ctx->form
                 && airouter_hedging_wanted(&acf->routing.hedging,
                                            ctx->key ? ctx->key->hedge : -1,
                                            (int) ctx->hedge_asked,
                                            ctx->stream, req.needs_tools);

    if (ctx->hedge && worst > 0
        && !ngx_http_airouter_stats_room(ctx, 2 * worst))
    {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "airouter: not hedged: paying twice %.8f USD would "
                       "reach a budget", worst);
        ctx->hedge = 0;
    }

    if (ctx->hedge && prompt > 0) {
        worst += prompt * (double) ctx->prompt_counted;
    }

    /* any candidate may end up answering: the dearest one is held */
    if (ngx_http_airouter_stats_reserve(r, ctx, worst, &rc) != NGX_OK) {
        return rc;
    }

    return ngx_http_airouter_proxy_start(r, ctx);
}


/*
 * The most a candidate can cost this request: the prompt as counted, and
 * the longest answer it may give (max_tokens, else the model's output
 * limit or what its context leaves, else a default), times "n".  An
 * unpriced model costs nothing here, as in the proxy's accounting.
 */
static double
ngx_http_airouter_api_worst_cost(ngx_http_airouter_ctx_t *ctx,
    airouter_route_req_t *req, const airouter_catalog_model_t *m,
    ngx_http_airouter_candidate_t *c)
{
    double     request, units;

    /*
     * Prices per unit: the request's own, and the endpoint's unit where
     * the request says how many (images asked, characters to speak)
     * instead of the token path.  A transcription's seconds are known
     * only from its answer: nothing is held for them.
     */
    request = c->price_unit.request > 0 ? c->price_unit.request : 0;
    units = -1;

    if (ctx->endpoint == NGX_HTTP_AIROUTER_EP_IMAGES
        && c->price_unit.image >= 0)
    {
        units = (double) ctx->units_images * c->price_unit.image;

    } else if (ctx->endpoint == NGX_HTTP_AIROUTER_EP_SPEECH
               && c->price_unit.character >= 0)
    {
        units = (double) ctx->units_characters * c->price_unit.character;

    } else if (ctx->endpoint == NGX_HTTP_AIROUTER_EP_TRANSCRIPTIONS
               && c->price_unit.second >= 0)
    {
        units = 0;
    }

    if (units >= 0) {
        return request + units;
    }

    if (c->price_prompt < 0 || c->price_completion < 0) {
        return request;
    }

    return request + ngx_http_airouter_api_worst_tokens(ctx, req, m, c);
}


/* The token path of the worst case. */
static double
ngx_http_airouter_api_worst_tokens(ngx_http_airouter_ctx_t *ctx,
    airouter_route_req_t *req, const airouter_catalog_model_t *m,
    ngx_http_airouter_candidate_t *c)
{
    double                 out, prompt;
    int64_t                n;
    airouter_json_value_t  v;

    prompt = (double) ctx->prompt_counted;

    if (ctx->endpoint == NGX_HTTP_AIROUTER_EP_EMBEDDINGS) {
        return prompt * c->price_prompt;
    }

    if (req->max_tokens > 0) {
        out = (double) req->max_tokens;

    } else if (m->max_output) {
        out = (double) m->max_output;

    } else if (m->context > ctx->prompt_counted) {
        out = (double) (m->context - ctx->prompt_counted);

    } else {
        out = NGX_HTTP_AIROUTER_RESERVE_OUTPUT;
    }

    ngx_http_airouter_api_member(ctx, "n", &v, &n);
    if (v.kind == AIROUTER_JSON_INT && n > 1) {
        out *= (double) n;
    }

    return prompt * c->price_prompt + out * c->price_completion;
}


/*
 * The candidate's prices per unit in USD (rate: its currency's), -1 where
 * unknown; a free model's are unknown: it costs nothing.
 */
static void
ngx_http_airouter_api_unit_prices(const airouter_catalog_model_t *m,
    double rate, ngx_http_airouter_candidate_t *c)
{
    const airouter_unit_price_t  *u;

    u = &m->price_unit;

    if ((m->flags & AIROUTER_MODEL_FREE)
        || !(m->flags & AIROUTER_MODEL_UNIT_PRICED))
    {
        airouter_unit_price_init(&c->price_unit);
        return;
    }

    c->price_unit.request = u->request >= 0 ? u->request * rate : -1;
    c->price_unit.image = u->image >= 0 ? u->image * rate : -1;
    c->price_unit.second = u->second >= 0 ? u->second * rate : -1;
    c->price_unit.character = u->character >= 0 ? u->character * rate : -1;
}


/* The characters of a string (UTF-8: jansson checked it), not its bytes. */
static ngx_uint_t
ngx_http_airouter_api_characters(json_t *v)
{
    size_t       i, len;
    ngx_uint_t   n;
    const char  *s;

    s = json_string_value(v);
    if (s == NULL) {
        return 0;
    }

    len = json_string_length(v);
    n = 0;

    for (i = 0; i < len; i++) {
        /* every byte but a continuation byte starts a character */
        n += ((u_char) s[i] & 0xc0) != 0x80;
    }

    return n;
}


/*
 * The request's routing controls (airouter_controls.h): validated (a 400
 * naming the parameter), refused to a key with allow_request_routing:
 * false (403), then taken out of the body, whose bytes are written again
 * without them, so that no upstream (OpenAI refuses unknown parameters)
 * and no dialect's native body sees them.  The values stay alive in a
 * holder freed with the request.  NGX_OK to go on, else NGX_DONE with
 * *rc the answer.
 */
static ngx_int_t
ngx_http_airouter_api_controls(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, json_t *body, ngx_int_t *rc)
{
    json_t                   *models, *provider, *holder;
    ngx_pool_cleanup_t       *cln;
    airouter_controls_t      *ctl;
    airouter_params_error_t   err;

    models = json_object_get(body, "models");
    provider = json_object_get(body, "provider");

    if (models == NULL && provider == NULL) {
        return NGX_OK;
    }

    *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

    ctl = ngx_palloc(r->pool, sizeof(airouter_controls_t));
    if (ctl == NULL) {
        return NGX_DONE;
    }

    ngx_memzero(&err, sizeof(airouter_params_error_t));

    if (airouter_controls_parse(body, ctl, &err) != 0) {
        *rc = ngx_http_airouter_send_param_error(r, err.param, err.code,
                                                 "%s", err.message);
        return NGX_DONE;
    }

    if (ctl->given && ctx->key && !ctx->key->allow_request_routing) {
        *rc = ngx_http_airouter_api_denied(r,
                  (ctl->given & AIROUTER_CONTROL_MODELS) ? "models"
                                                         : "provider");
        return NGX_DONE;
    }

    holder = json_object();
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (holder == NULL || cln == NULL) {
        json_decref(holder);
        return NGX_DONE;
    }

    cln->handler = ngx_http_airouter_api_cleanup;
    cln->data = holder;

    if ((models && json_object_set(holder, "models", models) != 0)
        || (provider && json_object_set(holder, "provider", provider) != 0))
    {
        return NGX_DONE;
    }

    json_object_del(body, "models");
    json_object_del(body, "provider");

    if (ngx_http_airouter_dialect_dump(r, body, &ctx->raw) != NGX_OK) {
        return NGX_DONE;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "airouter: routing controls: %uz models, provider %s, "
                   "sort %s", ctl->nmodels,
                   (ctl->given & AIROUTER_CONTROL_PROVIDER) ? "yes" : "no",
                   airouter_controls_sort_name(ctl->sort));

    ctx->controls = ctl;

    return NGX_OK;
}


/* 403: the key may not steer its routing; "param" names what it tried. */
static ngx_int_t
ngx_http_airouter_api_denied(ngx_http_request_t *r, const char *param)
{
    json_t  *err;

    err = ngx_http_airouter_error_json("permission_error",
              "request_routing_not_allowed",
              "This API key may not choose how its requests are routed "
              "(\"models\", \"provider\", \":floor\", \":nitro\")");
    if (err == NULL
        || json_object_set_new(json_object_get(err, "error"), "param",
                               json_string(param)) != 0)
    {
        json_decref(err);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_airouter_send_json(r, NGX_HTTP_FORBIDDEN, err);
}


/*
 * The whole body's bytes in ctx->raw: nginx may have kept it in several
 * buffers or in a temporary file.  NGX_DECLINED: no body, too long, or
 * unreadable.
 */
static ngx_int_t
ngx_http_airouter_api_read_body(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx)
{
    off_t         len;
    u_char       *data, *p;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_DECLINED;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        len += b->in_file ? b->file_last - b->file_pos : b->last - b->pos;
    }

    if (len == 0 || len > NGX_HTTP_AIROUTER_BODY_MAX) {
        return NGX_DECLINED;
    }

    ctx->raw.len = (size_t) len;

    /* the usual case, one buffer in memory: no copy */
    b = r->request_body->bufs->buf;

    if (r->request_body->bufs->next == NULL && !b->in_file) {
        ctx->raw.data = b->pos;
        return NGX_OK;
    }

    data = ngx_pnalloc(r->pool, len);
    if (data == NULL) {
        return NGX_DECLINED;
    }

    p = data;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                              b->file_pos);
            if (n != b->file_last - b->file_pos) {
                return NGX_DECLINED;
            }

            p += n;
            continue;
        }

        /* a chunked body ends in an empty buffer (pos NULL) */
        if (b->last != b->pos) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
        }
    }

    ctx->raw.data = data;

    return NGX_OK;
}


/*
 * A plain request (no dialect, not explain) read by one validating scan
 * instead of a tree: the same checks, in the same order, with the same
 * answers as the tree's path below it in ngx_http_airouter_api_post();
 * the prompt is counted during the scan.  NGX_DECLINED: the body is the
 * tree's (routing controls, a repeated or escaped key: airouter_jscan.h).
 */
static ngx_int_t
ngx_http_airouter_api_scan(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx)
{
    size_t                          len, i, base;
    u_char                         *copy;
    unsigned                        ep;
    ngx_int_t                       rc;
    const char                     *model;
    airouter_jscan_t               *s, scan;
    airouter_params_error_t         err;
    const airouter_jscan_member_t  *m;

    static const char *const  prompt[] = { "prompt", NULL };
    static const char *const  input[] = { "input", NULL };
    static const char *const  rerank[] = { "query", "documents", NULL };

    /* scanned here, kept below with only the members it found: room
     * for AIROUTER_JSCAN_MEMBERS of them would take most of a request
     * pool's first block */
    s = &scan;

    s->scratch = ngx_pnalloc(r->pool, ctx->raw.len + 1);
    if (s->scratch == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    s->count = ngx_http_airouter_api_count_text;
    s->count_data = ctx->amcf->tokenizer;
    s->counted = NULL;
    s->messages = 0;

    /* the texts ngx_http_airouter_api_estimates() would count */
    switch (ctx->endpoint) {
    case NGX_HTTP_AIROUTER_EP_COMPLETIONS:
    case NGX_HTTP_AIROUTER_EP_IMAGES:
        s->counted = prompt;
        break;

    case NGX_HTTP_AIROUTER_EP_EMBEDDINGS:
    case NGX_HTTP_AIROUTER_EP_SPEECH:
    case NGX_HTTP_AIROUTER_EP_MODERATIONS:
        s->counted = input;
        break;

    case NGX_HTTP_AIROUTER_EP_RERANK:
        s->counted = rerank;
        break;

    case NGX_HTTP_AIROUTER_EP_TRANSCRIPTIONS:
        break;

    default:
        s->messages = 1;
    }

    switch (airouter_jscan_body(s, (char *) ctx->raw.data, ctx->raw.len)) {

    case AIROUTER_JSCAN_INVALID:
        return ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_request_error", "invalid_json",
                   "The request body is not valid JSON");

    case AIROUTER_JSCAN_NOT_OBJECT:
        return ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_request_error", "invalid_json",
                   "The request body must be a JSON object");

    case AIROUTER_JSCAN_TREE:
        return NGX_DECLINED;

    default:
        break;
    }

    /* the routing controls are validated and taken out on the tree */
    if (airouter_jscan_get(s, "models") || airouter_jscan_get(s, "provider")) {
        return NGX_DECLINED;
    }

    s = ngx_palloc(r->pool, AIROUTER_JSCAN_SIZE(scan.nmembers));
    if (s == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(s, &scan, AIROUTER_JSCAN_SIZE(scan.nmembers));
    ctx->scan = s;

    m = airouter_jscan_get(s, "model");

    if (m == NULL || m->value.kind == AIROUTER_JSON_NULL) {
        return ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_request_error", "missing_model",
                   "You must provide a model parameter");
    }

    if (m->value.kind != AIROUTER_JSON_STRING || m->end - m->start == 2) {
        return ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_request_error", "invalid_model",
                   "The model parameter must be a non-empty string");
    }

    len = airouter_jscan_string(s, m, s->scratch, &model);

    if (m->escaped) {
        copy = ngx_pnalloc(r->pool, len);
        if (copy == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(copy, model, len);
        model = (const char *) copy;
    }

    ctx->requested.data = (u_char *) model;
    ctx->requested.len = len;

    /* a ":floor" / ":nitro" suffix is a routing control too */
    if (ctx->key && !ctx->key->allow_request_routing
        && airouter_controls_suffix(model, len, &base) != AIROUTER_SORT_NONE)
    {
        return ngx_http_airouter_api_denied(r, "model");
    }

    if (ctx->endpoint > NGX_HTTP_AIROUTER_EP_EMBEDDINGS) {
        if (ngx_http_airouter_api_check_needs(ctx, &err) != NGX_OK) {
            return ngx_http_airouter_send_param_error(r, err.param, err.code,
                                                      "%s", err.message);
        }

        return ngx_http_airouter_api_route(r, ctx);
    }

    /* every member in the body's order, then the messages */
    ep = ngx_http_airouter_api_params_endpoint(ctx);

    for (i = 0; i < s->nmembers; i++) {
        m = &s->member[i];

        if (airouter_params_check(ep, (char *) ctx->raw.data + m->key_start + 1,
                                  m->key_end - m->key_start - 2, &m->value,
                                  &err)
            != 0)
        {
            return ngx_http_airouter_send_param_error(r, err.param, err.code,
                                                      "%s", err.message);
        }
    }

    if (s->refused) {
        return ngx_http_airouter_send_param_error(r, s->err.param,
                                                  s->err.code, "%s",
                                                  s->err.message);
    }

    rc = ngx_http_airouter_api_check_lacks(r, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    m = airouter_jscan_get(s, "stream");
    ctx->stream = (m && m->value.kind == AIROUTER_JSON_BOOL
                   && ctx->raw.data[m->start] == 't');

    ctx->hedge_asked = -1;
    m = airouter_jscan_get(s, "hedge");
    rc = m ? ngx_http_airouter_api_scan_hedge(r, ctx, m) : NGX_OK;

    if (rc == NGX_DECLINED) {
        return ngx_http_airouter_send_param_error(r, "hedge",
                   "invalid_type", "hedge must be true or false");
    }

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_airouter_api_route(r, ctx);
}


/*
 * "hedge": the router's, never the upstream's (OpenAI refuses it): read,
 * then cut out of the bytes the upstream gets.  NGX_DECLINED: not a
 * boolean; NGX_ERROR: no memory.
 */
static ngx_int_t
ngx_http_airouter_api_scan_hedge(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, const airouter_jscan_member_t *m)
{
    size_t   from, to;
    u_char  *raw, *p;

    if (m->value.kind == AIROUTER_JSON_BOOL) {
        ctx->hedge_asked = (ctx->raw.data[m->start] == 't') ? 1 : 0;

    } else if (m->value.kind != AIROUTER_JSON_NULL) {
        return NGX_DECLINED;
    }

    airouter_jscan_cut(ctx->scan, m - ctx->scan->member, &from, &to);

    raw = ngx_pnalloc(r->pool, ctx->raw.len - (to - from));
    if (raw == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(raw, ctx->raw.data, from);
    ngx_memcpy(p, ctx->raw.data + to, ctx->raw.len - to);

    ctx->raw.data = raw;
    ctx->raw.len -= to - from;

    /* the scan keeps describing raw: the proxy splices the model by it */
    airouter_jscan_drop(ctx->scan, m - ctx->scan->member, (char *) raw,
                        ctx->raw.len);

    return NGX_OK;
}


/* The scan's counter: the tokenizer, or its estimate. */
static size_t
ngx_http_airouter_api_count_text(const void *data, const char *s, size_t len)
{
    return airouter_tokenizer_count(data, s, len);
}


static void
ngx_http_airouter_api_cleanup(void *data)
{
    json_decref(data);
}


/*
 * A prompt's size in tokens: exact with airouter_tokenizer, else the
 * byte-based estimate.
 */
static uint64_t
ngx_http_airouter_api_estimate(const airouter_tokenizer_t *tk,
    json_t *content)
{
    size_t     i;
    json_t    *part, *text;
    uint64_t   n;

    if (json_is_string(content)) {
        return airouter_tokenizer_count(tk, json_string_value(content),
                                        json_string_length(content));
    }

    n = 0;

    json_array_foreach(content, i, part) {
        if (json_is_string(part)) {
            n += airouter_tokenizer_count(tk, json_string_value(part),
                                          json_string_length(part));
            continue;
        }

        text = json_object_get(part, "text");
        if (json_is_string(text)) {
            n += airouter_tokenizer_count(tk, json_string_value(text),
                                          json_string_length(text));
        }
    }

    return n;
}


static ngx_int_t
ngx_http_airouter_api_has_image(json_t *content)
{
    size_t       i;
    json_t      *part;
    const char  *type;

    json_array_foreach(content, i, part) {
        type = json_string_value(json_object_get(part, "type"));

        if (type && (ngx_strcmp(type, "image_url") == 0
                     || ngx_strcmp(type, "input_image") == 0
                     || ngx_strcmp(type, "image") == 0))
        {
            return 1;
        }
    }

    return 0;
}
