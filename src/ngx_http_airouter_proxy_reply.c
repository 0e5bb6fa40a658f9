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
#include "ngx_http_airouter_header.h"


static ngx_int_t ngx_http_airouter_proxy_header_filter(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_airouter_proxy_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_airouter_proxy_router_headers(
    ngx_http_request_t *r, ngx_http_airouter_proxy_ctx_t *p);
static u_char *ngx_http_airouter_proxy_uint(u_char *buf, ngx_uint_t n);
static u_char *ngx_http_airouter_proxy_fixed(u_char *buf, double f,
    ngx_uint_t digits);
static ngx_int_t ngx_http_airouter_proxy_fallbacks(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_str_t *out);
static size_t ngx_http_airouter_proxy_ascii(u_char *dst, const u_char *src,
    size_t len);
static uint64_t ngx_http_airouter_proxy_ascii8(const u_char *p);


/* the longest number ngx_http_airouter_proxy_fixed/_uint write, with room
 * for "key#" */
#define NGX_HTTP_AIROUTER_HEADER_NUM  32


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
    ngx_int_t                       rc;
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
    rc = ngx_http_airouter_replace_body(r, ngx_http_next_body_filter,
                                        &p->error, p->error_sent);
    p->error_sent = 1;

    return rc;
}


/*
 * The values that are the channel's (its id, its provider) were made at
 * configuration time (ngx_http_airouter_proxy_header_value); the rest go
 * into one block of the request's pool, the numbers written without
 * ngx_sprintf.
 */
static ngx_int_t
ngx_http_airouter_proxy_router_headers(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p)
{
    u_char                       *buf, *v;
    size_t                        slen, mlen;
    ngx_str_t                     fallbacks;
    const char                   *strategy;
    airouter_config_t            *acf;
    ngx_http_airouter_ctx_t      *ctx;
    ngx_http_airouter_channel_t  *pc;

    static ngx_str_t  channel_name = ngx_string("X-Router-Channel");
    static ngx_str_t  provider_name = ngx_string("X-Router-Provider");
    static ngx_str_t  model_name = ngx_string("X-Router-Model");
    static ngx_str_t  score_name = ngx_string("X-Router-Score");
    static ngx_str_t  key_name = ngx_string("X-Router-Key");
    static ngx_str_t  strategy_name = ngx_string("X-Router-Strategy");
    static ngx_str_t  attempts_name = ngx_string("X-Router-Attempts");
    static ngx_str_t  hedge_name = ngx_string("X-Router-Hedge");
    static ngx_str_t  fallbacks_name = ngx_string("X-Router-Fallbacks");
    static ngx_str_t  cost_name = ngx_string("X-Router-Cost");

    ctx = p->ctx;
    acf = ctx->amcf->config;

    pc = (p->answered && p->try.cand)
         ? &p->pm->channels[p->try.cand->channel] : NULL;

    strategy = ctx->strategy.len ? (char *) ctx->strategy.data
                                 : acf->routing.default_strategy;

    slen = strategy ? ngx_strlen(strategy) : 0;
    mlen = pc ? p->try.cand->model.len : 0;

    /* escaped text takes 3 bytes a byte at most; each number fits in 32
     * (ngx_http_airouter_proxy_fixed's limit) */
    buf = ngx_pnalloc(r->pool, (slen + mlen) * 3
                               + 4 * NGX_HTTP_AIROUTER_HEADER_NUM);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    if (pc) {
        if (ngx_http_airouter_header_add(r, &channel_name,
                                         pc->header_id.data,
                                         pc->header_id.len)
            != NGX_OK
            || (pc->header_provider.data
                && ngx_http_airouter_header_add(r, &provider_name,
                       pc->header_provider.data, pc->header_provider.len)
                   != NGX_OK))
        {
            return NGX_ERROR;
        }

        v = buf;
        buf += ngx_http_airouter_proxy_ascii(buf, p->try.cand->model.data,
                                             mlen);

        if (ngx_http_airouter_header_add(r, &model_name, v, buf - v)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        v = buf;
        buf = ngx_http_airouter_proxy_fixed(buf, p->try.cand->score, 4);

        if (ngx_http_airouter_header_add(r, &score_name, v, buf - v)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        /* which of the channel's keys: its index, never its value */
        if (p->try.channel->ep->nauth > 1) {
            v = buf;
            buf = ngx_cpymem(buf, "key#", 4);
            buf = ngx_http_airouter_proxy_uint(buf, p->try.key);

            if (ngx_http_airouter_header_add(r, &key_name, v, buf - v)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    if (strategy) {
        v = buf;
        buf += ngx_http_airouter_proxy_ascii(buf, (u_char *) strategy, slen);

        if (ngx_http_airouter_header_add(r, &strategy_name, v, buf - v)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    v = buf;
    buf = ngx_http_airouter_proxy_uint(buf, ctx->attempts);

    if (ngx_http_airouter_header_add(r, &attempts_name, v, buf - v)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* a hedged request: the channel whose answer this is */
    if (ctx->hedges && pc) {
        v = ngx_pnalloc(r->pool, sizeof("won-by=") - 1 + pc->header_id.len);
        if (v == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(v, "won-by=", sizeof("won-by=") - 1);
        ngx_memcpy(v + sizeof("won-by=") - 1, pc->header_id.data,
                   pc->header_id.len);

        if (ngx_http_airouter_header_add(r, &hedge_name, v,
                sizeof("won-by=") - 1 + pc->header_id.len)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (ngx_http_airouter_proxy_fallbacks(r, p, &fallbacks) != NGX_OK) {
        return NGX_ERROR;
    }

    if (fallbacks.len) {
        /* channel ids and fault names: escaped as any value */
        v = ngx_pnalloc(r->pool, fallbacks.len * 3);
        if (v == NULL) {
            return NGX_ERROR;
        }

        if (ngx_http_airouter_header_add(r, &fallbacks_name, v,
                ngx_http_airouter_proxy_ascii(v, fallbacks.data,
                                              fallbacks.len))
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (p->answered && ctx->cost >= 0) {
        v = buf;
        buf = ngx_http_airouter_proxy_fixed(buf, ctx->cost, 8);

        if (ngx_http_airouter_header_add(r, &cost_name, v, buf - v)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * A configuration string as a header value, kept to printable ASCII (the
 * rest is %XX), in the configuration's pool: made once per channel.
 */
ngx_int_t
ngx_http_airouter_proxy_header_value(ngx_pool_t *pool, const char *s,
    ngx_str_t *out)
{
    size_t  len;

    len = ngx_strlen(s);

    out->data = ngx_pnalloc(pool, len * 3 + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = ngx_http_airouter_proxy_ascii(out->data, (u_char *) s, len);

    return NGX_OK;
}


/* n in decimal, as ngx_sprintf's "%ui" writes it. */
static u_char *
ngx_http_airouter_proxy_uint(u_char *buf, ngx_uint_t n)
{
    u_char   tmp[NGX_INT64_LEN], *t;
    size_t   len;

    t = tmp + NGX_INT64_LEN;

    do {
        *--t = (u_char) ('0' + n % 10);
        n /= 10;
    } while (n);

    len = tmp + NGX_INT64_LEN - t;

    return ngx_cpymem(buf, t, len);
}


/*
 * f with "digits" (4 or 8) decimals, the very text ngx_sprintf's "%.4f"
 * and "%.8f" write (the same rounding: the scaled fraction plus 0.5,
 * truncated), without its format parsing.  What it would not follow (a
 * magnitude from 1e15, NaN) is left to ngx_sprintf.  At most 32 bytes
 * (NGX_HTTP_AIROUTER_HEADER_NUM).
 */
static u_char *
ngx_http_airouter_proxy_fixed(u_char *buf, double f, ngx_uint_t digits)
{
    u_char    *d;
    uint64_t   whole, frac, scale;
    ngx_uint_t i;

    if (!(f > -1e15 && f < 1e15)) {
        return digits == 4 ? ngx_snprintf(buf, 32, "%.4f", f)
                           : ngx_snprintf(buf, 32, "%.8f", f);
    }

    if (f < 0) {
        *buf++ = '-';
        f = -f;
    }

    scale = (digits == 4) ? 10000 : 100000000;

    whole = (uint64_t) (int64_t) f;
    frac = (uint64_t) ((f - (double) whole) * scale + 0.5);

    if (frac == scale) {
        whole++;
        frac = 0;
    }

    buf = ngx_http_airouter_proxy_uint(buf, (ngx_uint_t) whole);
    *buf++ = '.';

    d = buf + digits;

    for (i = 0; i < digits; i++) {
        *--d = (u_char) ('0' + frac % 10);
        frac /= 10;
    }

    return buf + digits;
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
    i = 0;

    /* a model id or a strategy name is mostly plain: whole words */
    while (len - i >= 8 && ngx_http_airouter_proxy_ascii8(src + i) == 0) {
        d = ngx_cpymem(d, src + i, 8);
        i += 8;
    }

    for ( /* void */ ; i < len; i++) {
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


/*
 * The bytes of the 8 at p that ngx_http_airouter_proxy_ascii() escapes
 * (below 0x20, from 0x7f, '%'), each flagged by the high bit of its byte;
 * 0: none.  With the high bits cleared first, no sum carries into the
 * next byte, so every flag is exact.
 */
static uint64_t
ngx_http_airouter_proxy_ascii8(const u_char *p)
{
    uint64_t  w, t, x;

#define NGX_HTTP_AIROUTER_ONES  0x0101010101010101ULL
#define NGX_HTTP_AIROUTER_LOWS  0x7f7f7f7f7f7f7f7fULL
#define NGX_HTTP_AIROUTER_HIGHS 0x8080808080808080ULL

    ngx_memcpy(&w, p, 8);

    t = w & NGX_HTTP_AIROUTER_LOWS;
    x = (w ^ (NGX_HTTP_AIROUTER_ONES * '%')) & NGX_HTTP_AIROUTER_LOWS;

    return (w                                          /* from 0x80 */
            | (t + NGX_HTTP_AIROUTER_ONES)             /* 0x7f */
            | ~(t + NGX_HTTP_AIROUTER_ONES * 0x60)     /* below 0x20 */
            | ~((x + NGX_HTTP_AIROUTER_LOWS)           /* '%' */
                | (w ^ (NGX_HTTP_AIROUTER_ONES * '%'))))
           & NGX_HTTP_AIROUTER_HIGHS;

#undef NGX_HTTP_AIROUTER_ONES
#undef NGX_HTTP_AIROUTER_LOWS
#undef NGX_HTTP_AIROUTER_HIGHS
}
