/*
 * What the client sees of a proxied answer's head: every answer gets the
 * X-Router-* headers (channel, provider, model, score, key, attempts,
 * hedge, fallbacks); when no candidate was left, the OpenAI-style error naming
 * every attempt (ngx_http_airouter_proxy_fail) replaces nginx's error
 * page.  nginx's header and body filter chains, installed by
 * ngx_http_airouter_proxy_init() at postconfiguration (called by the
 * module).
 */

#include "ngx_http_airouter_proxy_impl.h"


static ngx_int_t ngx_http_airouter_proxy_header_filter(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_airouter_proxy_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_airouter_proxy_router_headers(
    ngx_http_request_t *r, ngx_http_airouter_proxy_ctx_t *p);
static ngx_int_t ngx_http_airouter_proxy_add_header(ngx_http_request_t *r,
    const char *name, u_char *value, size_t len);
static ngx_int_t ngx_http_airouter_proxy_fallbacks(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_str_t *out);
static size_t ngx_http_airouter_proxy_ascii(u_char *dst, const u_char *src,
    size_t len);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


ngx_int_t
ngx_http_airouter_proxy_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_airouter_proxy_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_airouter_proxy_body_filter;

    return NGX_OK;
}


/*
 * Every proxied answer gets the X-Router-* headers; a failed one gets the
 * error from ngx_http_airouter_proxy_fail() instead of nginx's page.
 */
static ngx_int_t
ngx_http_airouter_proxy_header_filter(ngx_http_request_t *r)
{
    ngx_http_airouter_ctx_t        *ctx;
    ngx_http_airouter_proxy_ctx_t  *p;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_airouter_module);
    if (ctx == NULL || ctx->proxy == NULL) {
        return ngx_http_next_header_filter(r);
    }

    p = ctx->proxy;

    /* add_header and the like read $airouter_* after this filter */
    ngx_http_airouter_proxy_publish(p);

    if (p->replace && !p->replaced) {
        p->replaced = 1;

        r->headers_out.status = p->error_status;
        r->headers_out.status_line.len = 0;
        r->err_status = 0;

        ngx_str_set(&r->headers_out.content_type, "application/json");
        r->headers_out.content_type_len = r->headers_out.content_type.len;
        r->headers_out.content_type_lowcase = NULL;
        r->headers_out.charset.len = 0;

        r->headers_out.content_length_n = p->error.len;

        if (r->headers_out.content_length) {
            r->headers_out.content_length->hash = 0;
            r->headers_out.content_length = NULL;
        }

        ngx_http_clear_accept_ranges(r);
        ngx_http_clear_last_modified(r);
        ngx_http_clear_etag(r);
    }

    if (p->translate && !p->replace) {
        /* written in the client's dialect: another length */
        r->headers_out.content_length_n = -1;

        if (r->headers_out.content_length) {
            r->headers_out.content_length->hash = 0;
            r->headers_out.content_length = NULL;
        }
    }

    if (ngx_http_airouter_proxy_router_headers(r, p) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_airouter_proxy_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_buf_t                      *b;
    ngx_chain_t                     out;
    ngx_http_airouter_ctx_t        *ctx;
    ngx_http_airouter_proxy_ctx_t  *p;

    if (r != r->main) {
        return ngx_http_next_body_filter(r, in);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_airouter_module);
    if (ctx == NULL || ctx->proxy == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    p = ctx->proxy;

    if (!p->replaced) {
        return ngx_http_next_body_filter(r, in);
    }

    /* nginx's error page is dropped; ours goes once, whole */
    if (p->error_sent || r->header_only) {
        return ngx_http_next_body_filter(r, NULL);
    }

    p->error_sent = 1;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = p->error.data;
    b->last = p->error.data + p->error.len;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_next_body_filter(r, &out);
}


static ngx_int_t
ngx_http_airouter_proxy_router_headers(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p)
{
    u_char                    buf[NGX_INT_T_LEN + 64], *won;
    size_t                    len;
    ngx_str_t                 fallbacks;
    const char               *strategy;
    airouter_config_t        *acf;
    ngx_http_airouter_ctx_t  *ctx;
    const airouter_channel_t *ch;

    ctx = p->ctx;
    acf = ctx->amcf->config;

    if (p->answered && p->try.cand) {
        ch = &acf->channels[p->try.cand->channel];

        if (ngx_http_airouter_proxy_add_header(r, "X-Router-Channel",
                (u_char *) ch->id, ngx_strlen(ch->id)) != NGX_OK
            || (ch->provider_name
                && ngx_http_airouter_proxy_add_header(r, "X-Router-Provider",
                       (u_char *) ch->provider_name,
                       ngx_strlen(ch->provider_name)) != NGX_OK)
            || ngx_http_airouter_proxy_add_header(r, "X-Router-Model",
                p->try.cand->model.data, p->try.cand->model.len) != NGX_OK)
        {
            return NGX_ERROR;
        }

        len = ngx_sprintf(buf, "%.4f", p->try.cand->score) - buf;

        if (ngx_http_airouter_proxy_add_header(r, "X-Router-Score", buf, len)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        /* which of the channel's keys: its index, never its value */
        if (p->try.channel->ep->nauth > 1) {
            len = ngx_sprintf(buf, "key#%ui", p->try.key) - buf;

            if (ngx_http_airouter_proxy_add_header(r, "X-Router-Key", buf,
                                                   len)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    strategy = ctx->strategy.len ? (char *) ctx->strategy.data
                                 : acf->routing.default_strategy;

    if (strategy
        && ngx_http_airouter_proxy_add_header(r, "X-Router-Strategy",
               (u_char *) strategy, ngx_strlen(strategy)) != NGX_OK)
    {
        return NGX_ERROR;
    }

    len = ngx_sprintf(buf, "%ui", ctx->attempts) - buf;

    if (ngx_http_airouter_proxy_add_header(r, "X-Router-Attempts", buf, len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* a hedged request: the channel whose answer this is */
    if (ctx->hedges && p->answered && p->try.cand) {
        ch = &acf->channels[p->try.cand->channel];
        len = sizeof("won-by=") - 1 + ngx_strlen(ch->id);

        won = ngx_pnalloc(r->pool, len);
        if (won == NULL) {
            return NGX_ERROR;
        }

        (void) ngx_sprintf(won, "won-by=%s", ch->id);

        if (ngx_http_airouter_proxy_add_header(r, "X-Router-Hedge", won, len)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (ngx_http_airouter_proxy_fallbacks(r, p, &fallbacks) != NGX_OK) {
        return NGX_ERROR;
    }

    if (fallbacks.len
        && ngx_http_airouter_proxy_add_header(r, "X-Router-Fallbacks",
                                              fallbacks.data, fallbacks.len)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (p->answered && ctx->cost >= 0) {
        len = ngx_sprintf(buf, "%.8f", ctx->cost) - buf;

        if (ngx_http_airouter_proxy_add_header(r, "X-Router-Cost", buf, len)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* Header values are kept to printable ASCII: the rest is %XX. */
static ngx_int_t
ngx_http_airouter_proxy_add_header(ngx_http_request_t *r, const char *name,
    u_char *value, size_t len)
{
    u_char           *v;
    ngx_table_elt_t  *h;

    v = ngx_pnalloc(r->pool, len * 3 + 1);
    if (v == NULL) {
        return NGX_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = v;
    h->value.len = ngx_http_airouter_proxy_ascii(v, value, len);
    h->lowcase_key = NULL;

    return NGX_OK;
}


/* "chan:fault status, ..." of the attempts that failed (not skipped). */
static ngx_int_t
ngx_http_airouter_proxy_fallbacks(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_str_t *out)
{
    u_char                       *d, *end;
    size_t                        len;
    ngx_uint_t                    i, n;
    airouter_config_t            *acf;
    ngx_http_airouter_attempt_t  *a;

    acf = p->ctx->amcf->config;
    a = p->attempts.elts;
    len = 0;

    for (i = 0; i < p->attempts.nelts; i++) {
        len += ngx_strlen(acf->channels[a[i].channel].id) + 64;
    }

    ngx_str_null(out);

    if (len == 0) {
        return NGX_OK;
    }

    out->data = ngx_pnalloc(r->pool, len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    d = out->data;
    end = d + len;
    n = 0;

    for (i = 0; i < p->attempts.nelts; i++) {
        if (a[i].skipped) {
            continue;
        }

        d = ngx_slprintf(d, end, "%s%s:%s", n++ ? ", " : "",
                         acf->channels[a[i].channel].id,
                         airouter_fault_name(a[i].fault));

        if (a[i].status) {
            d = ngx_slprintf(d, end, " %ui", a[i].status);
        }

        if (a[i].key >= 0) {
            d = ngx_slprintf(d, end, " (key#%i)", a[i].key);
        }
    }

    out->len = d - out->data;
    p->ctx->fallbacks = *out;

    return NGX_OK;
}


static size_t
ngx_http_airouter_proxy_ascii(u_char *dst, const u_char *src, size_t len)
{
    u_char       *d;
    size_t        i;
    static u_char hex[] = "0123456789ABCDEF";

    d = dst;

    for (i = 0; i < len; i++) {
        if (src[i] < 0x20 || src[i] >= 0x7f || src[i] == '%') {
            *d++ = '%';
            *d++ = hex[src[i] >> 4];
            *d++ = hex[src[i] & 0xf];

        } else {
            *d++ = src[i];
        }
    }

    return d - dst;
}
