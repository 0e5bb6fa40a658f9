/*
 * nginx's own error pages in the router's locations.  A refusal nginx
 * makes itself in an `airouter`, `airouter_admin`, `airouter_health` or
 * `airouter_metrics` location -- 403 from deny, 503 or 429 from limit_req
 * and limit_conn, 413 over client_max_body_size, 401 from auth_basic, a
 * `return 502` -- goes through ngx_http_special_response_handler(), which
 * sends an HTML page.  An SDK, a health checker, a scraper or the
 * dashboard's fetch() cannot read that.  The `airouter_dashboard`
 * location keeps nginx's page: a person's browser asked for a page there.
 * This header filter puts an error in the request's dialect in its place
 * (OpenAI's, Anthropic's on the Messages paths, Google's on the Gemini
 * paths: ngx_http_airouter_json_text() of response.c), with the same
 * status; the body filter drops the page and sends it.
 *
 * What counts as nginx's page: the special response handler set
 * r->err_status (4xx, 5xx) and a text/html type, or no type for a status
 * without a page, in a router location.  A user's error_page for the
 * status wins: nginx follows it before any page is made, into another
 * location (whose page is not ours to touch) or as a redirect (a 3xx).
 * The proxy's own error (no candidate left) is put in place by its filters
 * (proxy_reply.c), which run before these and clear r->err_status.
 *
 * A module of its own (in the same .so) only for its per-request context.
 * Its filters are installed by ngx_http_airouter_error_page_init(), called
 * by the main module's postconfiguration.
 */

#include "ngx_http_airouter_error_page.h"
#include "ngx_http_airouter_response.h"


typedef struct {
    ngx_str_t                        body;
    unsigned                         sent:1;
} ngx_http_airouter_error_page_ctx_t;


static ngx_int_t ngx_http_airouter_error_page_header_filter(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_airouter_error_page_body_filter(
    ngx_http_request_t *r, ngx_chain_t *in);
static ngx_uint_t ngx_http_airouter_error_page_ours(ngx_http_request_t *r);
static json_t *ngx_http_airouter_error_page_json(ngx_http_request_t *r,
    ngx_uint_t status);


/*
 * What each status nginx makes means to an API client: OpenAI's type and
 * a code, and a message that names no configuration detail (413 says the
 * size limit: ngx_http_airouter_error_page_json).  Another 4xx or 5xx
 * gets the generic line of its class.
 */
static const struct {
    ngx_uint_t                       status;
    const char                      *type;
    const char                      *code;
    const char                      *message;
} ngx_http_airouter_error_pages[] = {
    { NGX_HTTP_BAD_REQUEST, "invalid_request_error", "bad_request",
      "The server could not read the request" },
    { NGX_HTTP_UNAUTHORIZED, "invalid_request_error", "unauthorized",
      "The server requires authorization for this URL" },
    { NGX_HTTP_FORBIDDEN, "invalid_request_error", "forbidden",
      "Access to this URL is denied by the server's configuration" },
    { NGX_HTTP_NOT_FOUND, "invalid_request_error", "unknown_url",
      "Nothing is served at this URL" },
    { NGX_HTTP_NOT_ALLOWED, "invalid_request_error", "method_not_allowed",
      "The method is not allowed on this URL" },
    { NGX_HTTP_REQUEST_TIME_OUT, "invalid_request_error", "request_timeout",
      "The request did not arrive in time" },
    { NGX_HTTP_REQUEST_URI_TOO_LARGE, "invalid_request_error",
      "uri_too_long", "The request URL is too long" },
    { NGX_HTTP_TOO_MANY_REQUESTS, "requests", "rate_limit_exceeded",
      "Too many requests: the server limits the request rate, retry later" },
    { NGX_HTTP_INTERNAL_SERVER_ERROR, "server_error", "internal_error",
      "The server failed to handle the request" },
    { NGX_HTTP_NOT_IMPLEMENTED, "invalid_request_error", "not_implemented",
      "The server does not implement this request" },
    { NGX_HTTP_BAD_GATEWAY, "server_error", "bad_gateway",
      "The server got no valid answer from the service behind it" },
    { NGX_HTTP_SERVICE_UNAVAILABLE, "server_error", "service_unavailable",
      "The server is overloaded or limits requests, retry later" },
    { NGX_HTTP_GATEWAY_TIME_OUT, "server_error", "gateway_timeout",
      "The service behind the server did not answer in time" }
};


static ngx_http_module_t  ngx_http_airouter_error_page_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_airouter_error_page_module = {
    NGX_MODULE_V1,
    &ngx_http_airouter_error_page_module_ctx, /* module context */
    NULL,                                  /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


ngx_int_t
ngx_http_airouter_error_page_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_airouter_error_page_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_airouter_error_page_body_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_airouter_error_page_header_filter(ngx_http_request_t *r)
{
    json_t                              *err;
    ngx_uint_t                           status;
    ngx_http_airouter_error_page_ctx_t  *ctx;

    if (!ngx_http_airouter_error_page_ours(r)) {
        return ngx_http_next_header_filter(r);
    }

    status = r->headers_out.status;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_airouter_error_page_ctx_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    err = ngx_http_airouter_error_page_json(r, status);

    if (ngx_http_airouter_json_text(r, status, err, &ctx->body) != NGX_OK) {
        /* nginx's page is still an answer */
        return ngx_http_next_header_filter(r);
    }

    ngx_http_set_ctx(r, ctx, ngx_http_airouter_error_page_module);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "airouter: nginx's %ui page answered as JSON", status);

    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.charset.len = 0;

    r->headers_out.content_length_n = ctx->body.len;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    return ngx_http_next_header_filter(r);
}


/* nginx's page (one chain, or none) is dropped; ours goes once, whole */
static ngx_int_t
ngx_http_airouter_error_page_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in)
{
    ngx_int_t                            rc;
    ngx_http_airouter_error_page_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_airouter_error_page_module);
    if (ctx == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    rc = ngx_http_airouter_replace_body(r, ngx_http_next_body_filter,
                                        &ctx->body, ctx->sent);
    ctx->sent = 1;

    return rc;
}


/*
 * The answer about to go is nginx's own error page in a router location
 * that answers programs (all but the dashboard's page):
 * the special response handler's status and type (text/html, or none for
 * a status without a page) in the main request.
 */
static ngx_uint_t
ngx_http_airouter_error_page_ours(ngx_http_request_t *r)
{
    ngx_str_t                     *type;
    ngx_http_airouter_loc_conf_t  *alcf;

    if (r != r->main || r->err_status < NGX_HTTP_BAD_REQUEST
        || r->headers_out.status != r->err_status)
    {
        return 0;
    }

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_airouter_module);

    if (alcf == NULL
        || alcf->role == NGX_HTTP_AIROUTER_ROLE_NONE
        || alcf->role == NGX_HTTP_AIROUTER_ROLE_DASHBOARD)
    {
        return 0;
    }

    type = &r->headers_out.content_type;

    return type->len == 0
           || (type->len == sizeof("text/html") - 1
               && ngx_strncmp(type->data, "text/html", type->len) == 0);
}


static json_t *
ngx_http_airouter_error_page_json(ngx_http_request_t *r, ngx_uint_t status)
{
    ngx_uint_t                 i;
    ngx_http_core_loc_conf_t  *clcf;

    for (i = 0; i < sizeof(ngx_http_airouter_error_pages)
                    / sizeof(ngx_http_airouter_error_pages[0]); i++)
    {
        if (ngx_http_airouter_error_pages[i].status == status) {
            break;
        }
    }

    if (status == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
        clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

        return ngx_http_airouter_error_json("invalid_request_error",
                   "request_too_large",
                   "The request body is larger than the server accepts "
                   "(%O bytes at most)", clcf->client_max_body_size);
    }

    if (i < sizeof(ngx_http_airouter_error_pages)
            / sizeof(ngx_http_airouter_error_pages[0]))
    {
        return ngx_http_airouter_error_json(
                   ngx_http_airouter_error_pages[i].type,
                   ngx_http_airouter_error_pages[i].code, "%s (HTTP %ui)",
                   ngx_http_airouter_error_pages[i].message, status);
    }

    if (status < NGX_HTTP_INTERNAL_SERVER_ERROR) {
        return ngx_http_airouter_error_json("invalid_request_error",
                   "http_error", "The server refused the request (HTTP %ui)",
                   status);
    }

    return ngx_http_airouter_error_json("server_error", "http_error",
               "The server failed to handle the request (HTTP %ui)", status);
}
