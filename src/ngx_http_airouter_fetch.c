/*
 * The callback-driven HTTP(S) client described in
 * ngx_http_airouter_fetch.h.  Its shape follows njs's ngx_js_http.c: a
 * peer connection driven by its own read and write handlers, a response
 * parser fed by whatever recv() returned, and one timer for the deadline
 * that doubles as the posted event delivering the result, so the caller's
 * handler always runs from the event loop.  With error_log at debug each
 * fetch tells its story: the path (never the query, which may hold a
 * key) and host, the resolved address, the connect, TLS, the request
 * sent, the answer's status and framing, and how it ended.
 */

#include "ngx_http_airouter_fetch.h"
#include "ngx_http_airouter_ssl.h"
#include "airouter_config.h"


#define NGX_HTTP_AIROUTER_FETCH_HEADER_MAX  16384
/* bytes read per read event, the rest in the next turn of the event loop */
#define NGX_HTTP_AIROUTER_FETCH_SLICE       16384

/* chunk_state */
#define NGX_HTTP_AIROUTER_CHUNK_SIZE        0
#define NGX_HTTP_AIROUTER_CHUNK_DATA        1
#define NGX_HTTP_AIROUTER_CHUNK_DATA_END    2
#define NGX_HTTP_AIROUTER_CHUNK_DONE        3


static void ngx_http_airouter_fetch_resolve(ngx_http_airouter_fetch_t *f);
static void ngx_http_airouter_fetch_resolved(ngx_resolver_ctx_t *ctx);
static void ngx_http_airouter_fetch_connect(ngx_http_airouter_fetch_t *f);
static void ngx_http_airouter_fetch_write_handler(ngx_event_t *wev);
static void ngx_http_airouter_fetch_read_handler(ngx_event_t *rev);
static ngx_int_t ngx_http_airouter_fetch_test_connect(ngx_connection_t *c);
#if (NGX_SSL)
static void ngx_http_airouter_fetch_ssl_init(ngx_http_airouter_fetch_t *f);
static void ngx_http_airouter_fetch_ssl_handshake(ngx_connection_t *c);
#endif
static void ngx_http_airouter_fetch_send(ngx_http_airouter_fetch_t *f);
static ngx_int_t ngx_http_airouter_fetch_grow(ngx_http_airouter_fetch_t *f);
static ngx_int_t ngx_http_airouter_fetch_process(
    ngx_http_airouter_fetch_t *f);
static ngx_int_t ngx_http_airouter_fetch_parse_header(
    ngx_http_airouter_fetch_t *f, u_char *end);
static ngx_int_t ngx_http_airouter_fetch_dechunk(
    ngx_http_airouter_fetch_t *f);
static void ngx_http_airouter_fetch_timeout(ngx_event_t *ev);
static void ngx_http_airouter_fetch_finish(ngx_http_airouter_fetch_t *f,
    const char *error);
static void ngx_http_airouter_fetch_done(ngx_event_t *ev);
#if (NGX_DEBUG)
static size_t ngx_http_airouter_fetch_path_len(ngx_str_t *uri);
#endif


ngx_http_airouter_fetch_t *
ngx_http_airouter_fetch_start(ngx_http_airouter_fetch_req_t *req,
    ngx_http_airouter_fetch_handler_pt handler, void *data, ngx_log_t *log)
{
    size_t                      len;
    ngx_pool_t                 *pool;
    ngx_buf_t                  *b;
    ngx_http_airouter_fetch_t  *f;

    pool = ngx_create_pool(4096, log);
    if (pool == NULL) {
        return NULL;
    }

    f = ngx_pcalloc(pool, sizeof(ngx_http_airouter_fetch_t));
    if (f == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    f->pool = pool;
    f->log = log;
    f->req = *req;
    f->handler = handler;
    f->data = data;
    f->content_length = -1;

    len = sizeof("GET  HTTP/1.1" CRLF) - 1 + req->uri.len
          + sizeof("Host: " CRLF) - 1 + req->host.len
          + sizeof("User-Agent: airouter/" AIROUTER_VERSION CRLF) - 1
          + sizeof("Accept: application/json" CRLF) - 1
          + sizeof("Connection: close" CRLF) - 1
          + req->headers.len + sizeof(CRLF) - 1;

    b = ngx_create_temp_buf(pool, len);
    if (b == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    b->last = ngx_sprintf(b->last, "GET %V HTTP/1.1" CRLF "Host: %V" CRLF
                          "User-Agent: airouter/" AIROUTER_VERSION CRLF
                          "Accept: application/json" CRLF
                          "Connection: close" CRLF "%V" CRLF,
                          &req->uri, &req->host, &req->headers);
    f->out = b;

    f->timer.handler = ngx_http_airouter_fetch_timeout;
    f->timer.data = f;
    f->timer.log = log;
    f->timer.cancelable = 1;

    ngx_add_timer(&f->timer, req->timeout);

    /* the path only: a query may carry a key (Gemini's key=) */
    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, log, 0,
                   "airouter: fetch GET %*s from \"%V\"%s, %M ms",
                   ngx_http_airouter_fetch_path_len(&req->uri), req->uri.data,
                   &req->host, req->addr ? "" : " (resolving)", req->timeout);

    if (req->addr == NULL) {
        ngx_http_airouter_fetch_resolve(f);
        return f;
    }

    f->peer.sockaddr = req->addr->sockaddr;
    f->peer.socklen = req->addr->socklen;
    f->peer.name = &req->addr->name;

    ngx_http_airouter_fetch_connect(f);

    return f;
}


static void
ngx_http_airouter_fetch_resolve(ngx_http_airouter_fetch_t *f)
{
    ngx_resolver_ctx_t  *ctx;

    ctx = ngx_resolve_start(f->req.resolver, NULL);

    if (ctx == NULL) {
        ngx_http_airouter_fetch_finish(f, "out of memory");
        return;
    }

    if (ctx == NGX_NO_RESOLVER) {
        ngx_http_airouter_fetch_finish(f, "no resolver defined");
        return;
    }

    ctx->name = f->req.resolve_name;
    ctx->handler = ngx_http_airouter_fetch_resolved;
    ctx->data = f;
    ctx->timeout = f->req.resolver_timeout;

    f->resolving = ctx;

    if (ngx_resolve_name(ctx) != NGX_OK) {
        /* the resolver released ctx */
        f->resolving = NULL;
        ngx_http_airouter_fetch_finish(f, "cannot resolve the host");
    }
}


static void
ngx_http_airouter_fetch_resolved(ngx_resolver_ctx_t *ctx)
{
    size_t                      len;
    u_char                     *text;
    ngx_uint_t                  i;
    struct sockaddr            *sa;
    ngx_resolver_addr_t        *ra;
    ngx_http_airouter_fetch_t  *f;

    f = ctx->data;
    f->resolving = NULL;

    if (ctx->state || ctx->naddrs == 0) {
        ngx_log_error(NGX_LOG_WARN, f->log, 0,
                      "airouter: \"%V\" could not be resolved (%i: %s)",
                      &ctx->name, ctx->state,
                      ngx_resolver_strerror(ctx->state));
        ngx_resolve_name_done(ctx);
        ngx_http_airouter_fetch_finish(f, "the host did not resolve");
        return;
    }

    ra = &ctx->addrs[0];

    for (i = 0; i < ctx->naddrs; i++) {
        if (ctx->addrs[i].sockaddr->sa_family == AF_INET) {
            ra = &ctx->addrs[i];
            break;
        }
    }

    sa = ngx_palloc(f->pool, ra->socklen);
    text = ngx_pnalloc(f->pool, NGX_SOCKADDR_STRLEN);
    f->peer.name = ngx_palloc(f->pool, sizeof(ngx_str_t));

    if (sa == NULL || text == NULL || f->peer.name == NULL) {
        ngx_resolve_name_done(ctx);
        ngx_http_airouter_fetch_finish(f, "out of memory");
        return;
    }

    ngx_memcpy(sa, ra->sockaddr, ra->socklen);
    ngx_inet_set_port(sa, f->req.port);

    len = ngx_sock_ntop(sa, ra->socklen, text, NGX_SOCKADDR_STRLEN, 1);

    f->peer.sockaddr = sa;
    f->peer.socklen = ra->socklen;
    f->peer.name->data = text;
    f->peer.name->len = len;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, f->log, 0,
                   "airouter: fetch: \"%V\" resolved to %V",
                   &ctx->name, f->peer.name);

    ngx_resolve_name_done(ctx);

    ngx_http_airouter_fetch_connect(f);
}


static void
ngx_http_airouter_fetch_connect(ngx_http_airouter_fetch_t *f)
{
    ngx_int_t          rc;
    ngx_connection_t  *c;

    f->peer.get = ngx_event_get_peer;
    f->peer.log = f->log;

    /* the caller reports failures once, in its own words */
    f->peer.log_error = NGX_ERROR_INFO;

    rc = ngx_event_connect_peer(&f->peer);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, f->log, 0,
                   "airouter: fetch: connect to %V: %i", f->peer.name, rc);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        ngx_http_airouter_fetch_finish(f, "cannot connect");
        return;
    }

    c = f->peer.connection;
    c->data = f;
    c->pool = f->pool;
    c->log = f->log;
    c->read->log = f->log;
    c->write->log = f->log;
    c->read->handler = ngx_http_airouter_fetch_read_handler;
    c->write->handler = ngx_http_airouter_fetch_write_handler;

    /*
     * The timer is cancelable (a reload does not wait for a fetch), so a
     * worker that starts exiting must close the connection itself, or it
     * exits with the socket open ("open socket left" alert): nginx calls
     * the read handler of each idle connection then, with c->close set.
     */
    c->idle = 1;

    if (rc == NGX_OK) {
        /* connected at once (loopback): go on from the event loop */
        ngx_post_event(c->write, &ngx_posted_events);
    }
}


static void
ngx_http_airouter_fetch_write_handler(ngx_event_t *wev)
{
    ngx_connection_t           *c;
    ngx_http_airouter_fetch_t  *f;

    c = wev->data;
    f = c->data;

    if (f->out == NULL) {
        return;                         /* sent: wait for the answer */
    }

    if (f->out->pos == f->out->start
#if (NGX_SSL)
        && c->ssl == NULL
#endif
        && ngx_http_airouter_fetch_test_connect(c) != NGX_OK)
    {
        ngx_http_airouter_fetch_finish(f, "connect failed");
        return;
    }

#if (NGX_SSL)
    if (f->req.ssl && c->ssl == NULL) {
        ngx_http_airouter_fetch_ssl_init(f);
        return;
    }
#endif

    ngx_http_airouter_fetch_send(f);
}


static ngx_int_t
ngx_http_airouter_fetch_test_connect(ngx_connection_t *c)
{
    int        err;
    socklen_t  len;

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err) {
        (void) ngx_connection_error(c, err, "connect() failed");
        return NGX_ERROR;
    }

    return NGX_OK;
}


#if (NGX_SSL)

static void
ngx_http_airouter_fetch_ssl_init(ngx_http_airouter_fetch_t *f)
{
    const char  *why;

    /* server_name is NUL-terminated by the caller */
    why = ngx_http_airouter_ssl_start(f->peer.connection, f->req.ssl,
                                      &f->req.server_name,
                                      ngx_http_airouter_fetch_ssl_handshake);
    if (why) {
        ngx_http_airouter_fetch_finish(f, why);
    }
}


static void
ngx_http_airouter_fetch_ssl_handshake(ngx_connection_t *c)
{
    const char                 *why;
    ngx_http_airouter_fetch_t  *f;

    f = c->data;

    why = ngx_http_airouter_ssl_verified(c, f->req.verify,
                                         &f->req.server_name, NGX_LOG_WARN);
    if (why) {
        ngx_http_airouter_fetch_finish(f, why);
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, f->log, 0,
                   "airouter: fetch: TLS with \"%V\" established%s",
                   &f->req.server_name,
                   f->req.verify ? ", certificate verified" : "");

    c->read->handler = ngx_http_airouter_fetch_read_handler;
    c->write->handler = ngx_http_airouter_fetch_write_handler;

    ngx_http_airouter_fetch_send(f);
}

#endif


static void
ngx_http_airouter_fetch_send(ngx_http_airouter_fetch_t *f)
{
    ssize_t            n;
    ngx_buf_t         *b;
    ngx_connection_t  *c;

    c = f->peer.connection;
    b = f->out;

    while (b->pos < b->last) {
        n = c->send(c, b->pos, b->last - b->pos);

        if (n == NGX_AGAIN) {
            if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
                ngx_http_airouter_fetch_finish(f, "write failed");
            }

            return;
        }

        if (n == NGX_ERROR || n == 0) {
            ngx_http_airouter_fetch_finish(f, "write failed");
            return;
        }

        b->pos += n;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, f->log, 0,
                   "airouter: fetch: request sent (%uz bytes)",
                   (size_t) (b->last - b->start));

    f->out = NULL;

    f->in = ngx_create_temp_buf(f->pool, 16384);
    if (f->in == NULL) {
        ngx_http_airouter_fetch_finish(f, "out of memory");
        return;
    }

    ngx_http_airouter_fetch_read_handler(c->read);
}


static void
ngx_http_airouter_fetch_read_handler(ngx_event_t *rev)
{
    size_t                      slice;
    ssize_t                     n;
    ngx_int_t                   rc;
    ngx_buf_t                  *b;
    ngx_connection_t           *c;
    ngx_http_airouter_fetch_t  *f;

    c = rev->data;
    f = c->data;

    if (c->close) {
        ngx_http_airouter_fetch_finish(f, "the worker is exiting");
        return;
    }

    if (f->in == NULL) {
        /* readable before the request went out: a refused connect shows
         * here first; the write handler reports it */
        return;
    }

    slice = NGX_HTTP_AIROUTER_FETCH_SLICE;

    for ( ;; ) {
        b = f->in;

        if (b->last == b->end && ngx_http_airouter_fetch_grow(f) != NGX_OK) {
            ngx_http_airouter_fetch_finish(f, "answer too large");
            return;
        }

        b = f->in;

        if (slice == 0) {
            /* the event stays ready: requests go first, then the rest */
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, f->log, 0,
                           "airouter: fetch: a slice read, the rest in the "
                           "next turn");
            ngx_post_event(rev, &ngx_posted_next_events);
            return;
        }

        n = c->recv(c, b->last, ngx_min((size_t) (b->end - b->last), slice));

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
                ngx_http_airouter_fetch_finish(f, "read failed");
            }

            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_airouter_fetch_finish(f, "read failed");
            return;
        }

        if (n == 0) {
            break;
        }

        b->last += n;
        slice -= n;

        rc = ngx_http_airouter_fetch_process(f);

        if (rc == NGX_OK) {
            ngx_http_airouter_fetch_finish(f, NULL);
            return;
        }

        if (rc != NGX_AGAIN) {
            return;                     /* finished with the error */
        }
    }

    /* the peer closed */

    if (f->body_start == NULL) {
        ngx_http_airouter_fetch_finish(f, "connection closed before an "
                                          "answer");
        return;
    }

    if (f->chunked || f->content_length >= 0) {
        ngx_http_airouter_fetch_finish(f, "answer truncated");
        return;
    }

    f->body_last = f->in->last;
    ngx_http_airouter_fetch_finish(f, NULL);
}


/* Doubles the raw buffer, up to the header allowance plus the body cap. */
static ngx_int_t
ngx_http_airouter_fetch_grow(ngx_http_airouter_fetch_t *f)
{
    size_t      size, limit;
    ngx_buf_t  *b, *nb;

    b = f->in;
    size = b->end - b->start;
    limit = f->req.max_size + NGX_HTTP_AIROUTER_FETCH_HEADER_MAX + 4096;

    if (size >= limit) {
        return NGX_ERROR;
    }

    /* a known length: the whole answer at once, not a copy per doubling */
    if (f->body_start && !f->chunked && f->content_length >= 0
        && (size_t) (f->body_start - b->start) + f->content_length > size
        && (size_t) (f->body_start - b->start) + f->content_length <= limit)
    {
        size = (f->body_start - b->start) + f->content_length;

    } else {
        size = ngx_min(size * 2, limit);
    }

    nb = ngx_create_temp_buf(f->pool, size);
    if (nb == NULL) {
        return NGX_ERROR;
    }

    nb->last = ngx_cpymem(nb->start, b->start, b->last - b->start);

    if (f->body_start) {
        f->body_start = nb->start + (f->body_start - b->start);
        f->body_last = nb->start + (f->body_last - b->start);
        f->chunk_pos = nb->start + (f->chunk_pos - b->start);
    }

    ngx_pfree(f->pool, b->start);
    f->in = nb;

    return NGX_OK;
}


/*
 * NGX_OK: the whole answer is in; NGX_AGAIN: read on; NGX_ERROR: finished
 * with an error already.
 */
static ngx_int_t
ngx_http_airouter_fetch_process(ngx_http_airouter_fetch_t *f)
{
    u_char      *p;
    ngx_buf_t   *b;
    ngx_int_t    rc;

    b = f->in;

    if (f->body_start == NULL) {
        p = ngx_strlcasestrn(b->start, b->last, (u_char *) CRLF CRLF, 4 - 1);

        if (p == NULL) {
            if (b->last - b->start > NGX_HTTP_AIROUTER_FETCH_HEADER_MAX) {
                ngx_http_airouter_fetch_finish(f, "header too large");
                return NGX_ERROR;
            }

            return NGX_AGAIN;
        }

        if (ngx_http_airouter_fetch_parse_header(f, p) != NGX_OK) {
            ngx_http_airouter_fetch_finish(f, "invalid answer header");
            return NGX_ERROR;
        }

        f->body_start = p + 4;
        f->body_last = f->body_start;
        f->chunk_pos = f->body_start;

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, f->log, 0,
                       "airouter: fetch: answer %ui, content length %O%s",
                       f->status, f->content_length,
                       f->chunked ? ", chunked" : "");
    }

    if (f->chunked) {
        rc = ngx_http_airouter_fetch_dechunk(f);

        if (rc == NGX_ERROR) {
            ngx_http_airouter_fetch_finish(f, "invalid chunked body");
            return NGX_ERROR;
        }

        if ((size_t) (f->body_last - f->body_start) > f->req.max_size) {
            ngx_http_airouter_fetch_finish(f, "answer too large");
            return NGX_ERROR;
        }

        return rc;
    }

    if (f->content_length >= 0) {
        if (f->content_length > (off_t) f->req.max_size) {
            ngx_http_airouter_fetch_finish(f, "answer too large");
            return NGX_ERROR;
        }

        if (b->last - f->body_start >= f->content_length) {
            f->body_last = f->body_start + f->content_length;
            return NGX_OK;
        }

        return NGX_AGAIN;
    }

    if ((size_t) (b->last - f->body_start) > f->req.max_size) {
        ngx_http_airouter_fetch_finish(f, "answer too large");
        return NGX_ERROR;
    }

    return NGX_AGAIN;
}


/* The status line and the two headers that frame the body. */
static ngx_int_t
ngx_http_airouter_fetch_parse_header(ngx_http_airouter_fetch_t *f,
    u_char *end)
{
    u_char     *p, *line, *eol, *colon, *v;
    ngx_int_t   n;

    p = f->in->start;

    if (end - p < 12 || ngx_strncmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ') {
        return NGX_ERROR;
    }

    n = ngx_atoi(p + 9, 3);
    if (n < 100 || n > 599) {
        return NGX_ERROR;
    }

    f->status = n;

    line = ngx_strlchr(p, end, LF);
    line = line ? line + 1 : end;

    while (line < end) {
        eol = ngx_strlchr(line, end + 2, LF);
        if (eol == NULL) {
            break;
        }

        colon = ngx_strlchr(line, eol, ':');

        if (colon) {
            v = colon + 1;
            while (v < eol && (*v == ' ' || *v == '\t')) {
                v++;
            }

            if (colon - line == sizeof("Content-Length") - 1
                && ngx_strncasecmp(line, (u_char *) "Content-Length",
                                   colon - line) == 0)
            {
                n = 0;
                while (v < eol && *v >= '0' && *v <= '9') {
                    n = n * 10 + (*v++ - '0');
                    if (n > NGX_MAX_OFF_T_VALUE / 10) {
                        return NGX_ERROR;
                    }
                }

                f->content_length = n;

            } else if (colon - line == sizeof("Transfer-Encoding") - 1
                       && ngx_strncasecmp(line,
                                          (u_char *) "Transfer-Encoding",
                                          colon - line) == 0
                       && ngx_strlcasestrn(v, eol, (u_char *) "chunked",
                                           7 - 1)
                          != NULL)
            {
                f->chunked = 1;
            }
        }

        line = eol + 1;
    }

    if (f->chunked) {
        f->content_length = -1;
    }

    if (f->status == 204 || f->status == 304) {
        f->content_length = 0;
        f->chunked = 0;
    }

    return NGX_OK;
}


/*
 * Decodes chunks in place: data moves down to body_last, and the raw
 * bytes not decoded yet move down after it, so the buffer never holds
 * more than the header, the body and one partial chunk line.
 */
static ngx_int_t
ngx_http_airouter_fetch_dechunk(ngx_http_airouter_fetch_t *f)
{
    u_char     *p, *last, *eol;
    size_t      n;
    ngx_int_t   digit, rc;

    p = f->chunk_pos;
    last = f->in->last;
    rc = NGX_AGAIN;

    while (p < last && rc == NGX_AGAIN) {

        switch (f->chunk_state) {

        case NGX_HTTP_AIROUTER_CHUNK_SIZE:
            eol = ngx_strlchr(p, last, LF);

            if (eol == NULL) {
                if (last - p > 256) {
                    return NGX_ERROR;
                }

                goto done;
            }

            f->chunk_left = 0;
            digit = 0;

            for ( /* void */ ; p < eol; p++) {
                if (*p >= '0' && *p <= '9') {
                    n = *p - '0';
                } else if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f') {
                    n = (*p | 0x20) - 'a' + 10;
                } else {
                    break;
                }

                if (f->chunk_left > NGX_MAX_OFF_T_VALUE / 16) {
                    return NGX_ERROR;
                }

                f->chunk_left = f->chunk_left * 16 + n;
                digit = 1;
            }

            if (!digit) {
                return NGX_ERROR;
            }

            p = eol + 1;
            f->chunk_state = f->chunk_left ? NGX_HTTP_AIROUTER_CHUNK_DATA
                                           : NGX_HTTP_AIROUTER_CHUNK_DONE;
            break;

        case NGX_HTTP_AIROUTER_CHUNK_DATA:
            n = ngx_min((off_t) (last - p), f->chunk_left);

            f->body_last = ngx_movemem(f->body_last, p, n);
            p += n;
            f->chunk_left -= n;

            if (f->chunk_left == 0) {
                f->chunk_state = NGX_HTTP_AIROUTER_CHUNK_DATA_END;
            }

            break;

        case NGX_HTTP_AIROUTER_CHUNK_DATA_END:
            eol = ngx_strlchr(p, last, LF);

            if (eol == NULL) {
                goto done;
            }

            p = eol + 1;
            f->chunk_state = NGX_HTTP_AIROUTER_CHUNK_SIZE;
            break;

        default:    /* NGX_HTTP_AIROUTER_CHUNK_DONE: trailers are ignored */
            p = last;
            rc = NGX_OK;
            break;
        }
    }

    if (f->chunk_state == NGX_HTTP_AIROUTER_CHUNK_DONE) {
        rc = NGX_OK;
    }

done:

    /* keep the undecoded tail right after the decoded body */
    n = last - p;
    if (p != f->body_last) {
        ngx_memmove(f->body_last, p, n);
    }

    f->chunk_pos = f->body_last;
    f->in->last = f->body_last + n;

    return rc;
}


static void
ngx_http_airouter_fetch_timeout(ngx_event_t *ev)
{
    ngx_http_airouter_fetch_t *f = ev->data;

    ngx_http_airouter_fetch_finish(f, "timed out");
}


/*
 * Closes the connection now and delivers the result from a posted event,
 * so the handler never runs inside ngx_http_airouter_fetch_start().
 */
static void
ngx_http_airouter_fetch_finish(ngx_http_airouter_fetch_t *f,
    const char *error)
{
    ngx_connection_t  *c;

    if (f->finished) {
        return;
    }

    f->finished = 1;
    f->error = error;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, f->log, 0,
                   "airouter: fetch done: %s, status %ui, %uz body bytes",
                   error ? error : "answered", f->status,
                   error ? (size_t) 0
                         : (size_t) (f->body_last - f->body_start));

    if (error == NULL) {
        f->body.data = f->body_start;
        f->body.len = f->body_last - f->body_start;

    } else {
        f->body.len = 0;
    }

    if (f->timer.timer_set) {
        ngx_del_timer(&f->timer);
    }

    if (f->resolving) {
        ngx_resolve_name_done(f->resolving);
        f->resolving = NULL;
    }

    c = f->peer.connection;

    if (c) {
#if (NGX_SSL)
        if (c->ssl) {
            c->ssl->no_wait_shutdown = 1;
            c->ssl->no_send_shutdown = 1;
            (void) ngx_ssl_shutdown(c);
        }
#endif
        ngx_close_connection(c);
        f->peer.connection = NULL;
    }

    f->timer.handler = ngx_http_airouter_fetch_done;
    ngx_post_event(&f->timer, &ngx_posted_events);
}


static void
ngx_http_airouter_fetch_done(ngx_event_t *ev)
{
    ngx_http_airouter_fetch_t *f = ev->data;

    ngx_uint_t   kept;
    ngx_pool_t  *pool;

    /* f is not read after the handler: a kept pool may be gone already */
    pool = f->pool;
    kept = 0;
    f->kept = &kept;

    f->handler(f);

    if (!kept) {
        ngx_destroy_pool(pool);
    }
}


ngx_pool_t *
ngx_http_airouter_fetch_keep(ngx_http_airouter_fetch_t *f)
{
    *f->kept = 1;

    return f->pool;
}


#if (NGX_DEBUG)

/* The length of a request target's path, before its query. */
static size_t
ngx_http_airouter_fetch_path_len(ngx_str_t *uri)
{
    u_char  *q;

    q = ngx_strlchr(uri->data, uri->data + uri->len, '?');

    return q ? (size_t) (q - uri->data) : uri->len;
}

#endif
