/*
 * An answer compressed despite "Accept-Encoding: identity": it goes to
 * the client as it came, and an inflated copy (zlib, in the request's
 * pool) is what the proxy reads: whole for the judge, piece by piece as a
 * stream or the tail of a big answer passes.
 *
 * Called by the upstream callbacks and the answer filter; hands what it
 * inflated to the usage reader.
 */

#include "ngx_http_airouter_proxy_impl.h"


/* a compressed answer is inflated (to read it) up to this much whole */
#define NGX_HTTP_AIROUTER_INFLATE_MAX     (1024 * 1024)
#define NGX_HTTP_AIROUTER_INFLATE_STEP    (8 * 1024)


static void *ngx_http_airouter_proxy_zalloc(void *opaque, u_int items,
    u_int size);
static void ngx_http_airouter_proxy_zfree(void *opaque, void *address);


/* How the answer is encoded, as far as reading it goes. */
ngx_http_airouter_encoding_e
ngx_http_airouter_proxy_encoding(ngx_http_request_t *r)
{
    ngx_str_t        *v;
    ngx_table_elt_t  *h;

    h = r->upstream->headers_in.content_encoding;

    if (h == NULL) {
        return NGX_HTTP_AIROUTER_ENC_IDENTITY;
    }

    v = &h->value;

    if ((v->len == 4 && ngx_strncasecmp(v->data, (u_char *) "gzip", 4) == 0)
        || (v->len == 6
            && ngx_strncasecmp(v->data, (u_char *) "x-gzip", 6) == 0)
        || (v->len == 7
            && ngx_strncasecmp(v->data, (u_char *) "deflate", 7) == 0))
    {
        return NGX_HTTP_AIROUTER_ENC_INFLATE;
    }

    if (v->len == 8
        && ngx_strncasecmp(v->data, (u_char *) "identity", 8) == 0)
    {
        return NGX_HTTP_AIROUTER_ENC_IDENTITY;
    }

    return NGX_HTTP_AIROUTER_ENC_UNKNOWN;
}


/*
 * The request's one inflater, (re)started: gzip or zlib's format (told
 * apart by their headers), or raw deflate once zlib's was refused.  Its
 * memory is the request pool's.
 */
ngx_int_t
ngx_http_airouter_proxy_zstart(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p)
{
    int        bits, rc;
    z_stream  *z;

    bits = p->zraw ? -MAX_WBITS : MAX_WBITS + 32;

    if (p->zstream) {
        return inflateReset2(p->zstream, bits) == Z_OK ? NGX_OK : NGX_ERROR;
    }

    z = ngx_pcalloc(r->pool, sizeof(z_stream));
    p->zout = ngx_pnalloc(r->pool, NGX_HTTP_AIROUTER_INFLATE_STEP);
    if (z == NULL || p->zout == NULL) {
        return NGX_ERROR;
    }

    z->zalloc = ngx_http_airouter_proxy_zalloc;
    z->zfree = ngx_http_airouter_proxy_zfree;
    z->opaque = r->pool;

    rc = inflateInit2(z, bits);

    if (rc != Z_OK) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "airouter: inflateInit2() failed: %d", rc);
        return NGX_ERROR;
    }

    p->zstream = z;

    return NGX_OK;
}


/*
 * The body read so far (preread's rc and body), inflated into a copy:
 * NGX_OK when it is all there and inflates whole within
 * NGX_HTTP_AIROUTER_INFLATE_MAX, else NGX_DECLINED with what it gave (or
 * rc's NGX_AGAIN).  Data that does not inflate gives an empty body: no
 * answer at all.
 */
ngx_int_t
ngx_http_airouter_proxy_inflate(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_str_t *body, ngx_int_t rc)
{
    int        zrc;
    size_t     size, len;
    u_char    *out, *more;
    z_stream  *z;

    if (rc == NGX_AGAIN && body->len == 0) {
        ngx_str_null(body);
        return NGX_AGAIN;
    }

again:

    if (ngx_http_airouter_proxy_zstart(r, p) != NGX_OK) {
        return NGX_ERROR;
    }

    z = p->zstream;
    size = ngx_max(4 * body->len, NGX_HTTP_AIROUTER_INFLATE_STEP);
    size = ngx_min(size, NGX_HTTP_AIROUTER_INFLATE_MAX);

    out = ngx_pnalloc(r->pool, size);
    if (out == NULL) {
        return NGX_ERROR;
    }

    z->next_in = body->data;
    z->avail_in = body->len;
    len = 0;

    for ( ;; ) {
        z->next_out = out + len;
        z->avail_out = size - len;

        zrc = inflate(z, Z_NO_FLUSH);
        len = size - z->avail_out;

        if (zrc == Z_STREAM_END) {
            break;
        }

        if (zrc == Z_DATA_ERROR && !p->zraw && len == 0
            && r->upstream->headers_in.content_encoding->value.len == 7)
        {
            /* "deflate" as some servers send it: without zlib's header */
            p->zraw = 1;
            goto again;
        }

        if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "airouter: upstream's answer does not inflate "
                          "(%d: %s)", zrc, z->msg ? z->msg : "-");
            body->data = out;
            body->len = 0;
            return NGX_OK;
        }

        if (z->avail_out != 0) {
            /* all of what came is inflated; the rest is still coming */
            body->data = out;
            body->len = len;
            return rc == NGX_AGAIN ? NGX_AGAIN : NGX_DECLINED;
        }

        if (size == NGX_HTTP_AIROUTER_INFLATE_MAX) {
            body->data = out;
            body->len = len;
            return NGX_DECLINED;
        }

        size = ngx_min(2 * size, NGX_HTTP_AIROUTER_INFLATE_MAX);

        more = ngx_pnalloc(r->pool, size);
        if (more == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(more, out, len);
        (void) ngx_pfree(r->pool, out);
        out = more;
    }

    body->data = out;
    body->len = len;

    /* inflated whole: whole when the compressed body was */
    return rc;
}


/* What passes, inflated piece by piece for the stream's or tail's reader. */
void
ngx_http_airouter_proxy_inflate_read(ngx_http_airouter_proxy_ctx_t *p,
    u_char *pos, u_char *last)
{
    int        zrc;
    z_stream  *z;

    z = p->zstream;
    z->next_in = pos;
    z->avail_in = last - pos;

    do {
        z->next_out = p->zout;
        z->avail_out = NGX_HTTP_AIROUTER_INFLATE_STEP;

        zrc = inflate(z, Z_NO_FLUSH);

        ngx_http_airouter_proxy_read(p, p->zout,
                               p->zout + NGX_HTTP_AIROUTER_INFLATE_STEP
                               - z->avail_out);

        if (zrc != Z_OK) {
            /* its end, or data that does not inflate: read no further */
            if (zrc != Z_STREAM_END && zrc != Z_BUF_ERROR) {
                p->zreading = 0;
                p->tail = NULL;
            }

            return;
        }

    } while (z->avail_out == 0 || z->avail_in != 0);
}


static void *
ngx_http_airouter_proxy_zalloc(void *opaque, u_int items, u_int size)
{
    ngx_pool_t *pool = opaque;

    return ngx_palloc(pool, items * size);
}


static void
ngx_http_airouter_proxy_zfree(void *opaque, void *address)
{
    return;
}
