/*
 * The hedge's connection (see ngx_http_airouter_hedge.h): connect, TLS,
 * write the request, then peek at the status line.  It never consumes an
 * answer byte: whoever takes the connection reads the answer from its
 * first byte, as if it had sent the request itself.
 *
 * Called by the proxy; calls ssl (the TLS start and its check) and nginx.
 */

#include "ngx_http_airouter_hedge.h"
#include "ngx_http_airouter_ssl.h"


/* "HTTP/1.1 200": enough to tell a 2xx */
#define NGX_HTTP_AIROUTER_HEDGE_PEEK  12


static void ngx_http_airouter_hedge_write_handler(ngx_event_t *wev);
static void ngx_http_airouter_hedge_read_handler(ngx_event_t *rev);
static ngx_int_t ngx_http_airouter_hedge_test_connect(ngx_connection_t *c);
static void ngx_http_airouter_hedge_send(ngx_http_airouter_hedge_t *h);
static void ngx_http_airouter_hedge_fail(ngx_http_airouter_hedge_t *h,
    const char *why);
static void ngx_http_airouter_hedge_fail_ours(ngx_http_airouter_hedge_t *h,
    const char *why);
static void ngx_http_airouter_hedge_dummy(ngx_event_t *ev);
#if (NGX_HTTP_SSL)
static void ngx_http_airouter_hedge_ssl_init(ngx_http_airouter_hedge_t *h);
static void ngx_http_airouter_hedge_ssl_handshake(ngx_connection_t *c);
#endif


ngx_int_t
ngx_http_airouter_hedge_start(ngx_http_airouter_hedge_t *h)
{
    ngx_int_t          rc;
    ngx_connection_t  *c;

    h->peer.sockaddr = h->sockaddr;
    h->peer.socklen = h->socklen;
    h->peer.name = h->name;
    h->peer.get = ngx_event_get_peer;
    h->peer.log = h->log;
    h->peer.log_error = NGX_ERROR_ERR;

    h->state = NGX_HTTP_AIROUTER_HEDGE_CONNECTING;

    rc = ngx_event_connect_peer(&h->peer);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        /* DECLINED: connect() itself failed (refused at once); the others
         * are ours (no socket, no connection slot) */
        h->peer.connection = NULL;
        h->state = NGX_HTTP_AIROUTER_HEDGE_FAILED;
        h->failure = "cannot connect";
        h->fault = (rc == NGX_DECLINED) ? AIROUTER_FAULT_CONNECT
                                        : AIROUTER_FAULT_NONE;
        return NGX_ERROR;
    }

    c = h->peer.connection;

    /* as nginx's upstream: a pool of the connection's own (TLS needs it) */
    c->pool = ngx_create_pool(128, h->log);
    if (c->pool == NULL) {
        ngx_http_airouter_hedge_close(h);
        h->state = NGX_HTTP_AIROUTER_HEDGE_FAILED;
        h->failure = "no memory";
        h->fault = AIROUTER_FAULT_NONE;
        return NGX_ERROR;
    }

    c->data = h;
    c->log = h->log;
    c->read->log = h->log;
    c->write->log = h->log;
    c->read->handler = ngx_http_airouter_hedge_read_handler;
    c->write->handler = ngx_http_airouter_hedge_write_handler;

    ngx_add_timer(c->write, h->connect_timeout);

    if (rc == NGX_OK) {
        /* connected at once (loopback): go on from the event loop, so the
         * caller hears of a failure through the handler only */
        ngx_post_event(c->write, &ngx_posted_events);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, h->log, 0,
                   "airouter: hedge: connecting to %V, fd %d", h->name,
                   c->fd);

    return NGX_OK;
}


void
ngx_http_airouter_hedge_close(ngx_http_airouter_hedge_t *h)
{
    ngx_connection_t  *c;

    c = h->peer.connection;

    if (c != NULL) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, h->log, 0,
                       "airouter: hedge: closing fd %d", c->fd);

#if (NGX_HTTP_SSL)
        if (c->ssl) {
            c->ssl->no_wait_shutdown = 1;
            c->ssl->no_send_shutdown = 1;
            (void) ngx_ssl_shutdown(c);
        }
#endif

        if (c->pool) {
            ngx_destroy_pool(c->pool);
            c->pool = NULL;
        }

        ngx_close_connection(c);
        h->peer.connection = NULL;
    }

    if (h->state != NGX_HTTP_AIROUTER_HEDGE_FAILED
        && h->state != NGX_HTTP_AIROUTER_HEDGE_TAKEN)
    {
        h->state = NGX_HTTP_AIROUTER_HEDGE_CLOSED;
    }
}


ngx_connection_t *
ngx_http_airouter_hedge_take(ngx_http_airouter_hedge_t *h)
{
    ngx_connection_t  *c;

    if (h->state != NGX_HTTP_AIROUTER_HEDGE_WAITING
        && h->state != NGX_HTTP_AIROUTER_HEDGE_ANSWERED
        && h->state != NGX_HTTP_AIROUTER_HEDGE_REFUSED)
    {
        return NULL;
    }

    c = h->peer.connection;

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    c->data = NULL;
    c->read->handler = ngx_http_airouter_hedge_dummy;
    c->write->handler = ngx_http_airouter_hedge_dummy;

    h->peer.connection = NULL;
    h->state = NGX_HTTP_AIROUTER_HEDGE_TAKEN;

    return c;
}


static void
ngx_http_airouter_hedge_write_handler(ngx_event_t *wev)
{
    ngx_connection_t           *c;
    ngx_http_airouter_hedge_t  *h;

    c = wev->data;
    h = c->data;

    if (h->state != NGX_HTTP_AIROUTER_HEDGE_CONNECTING) {
        return;
    }

    if (wev->timedout) {
        ngx_http_airouter_hedge_fail(h, "timed out connecting or sending");
        return;
    }

    if (h->out != NULL && h->out->buf->pos == h->out->buf->start
#if (NGX_HTTP_SSL)
        && c->ssl == NULL
#endif
        && ngx_http_airouter_hedge_test_connect(c) != NGX_OK)
    {
        ngx_http_airouter_hedge_fail(h, "connect failed");
        return;
    }

#if (NGX_HTTP_SSL)
    if (h->ssl && c->ssl == NULL) {
        ngx_http_airouter_hedge_ssl_init(h);
        return;
    }
#endif

    ngx_http_airouter_hedge_send(h);
}


static ngx_int_t
ngx_http_airouter_hedge_test_connect(ngx_connection_t *c)
{
    int        err;
    socklen_t  len;

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err) {
        (void) ngx_connection_error(c, err, "airouter: hedge: connect() "
                                    "failed");
        return NGX_ERROR;
    }

    return NGX_OK;
}


#if (NGX_HTTP_SSL)

static void
ngx_http_airouter_hedge_ssl_init(ngx_http_airouter_hedge_t *h)
{
    const char  *why;

    /* ssl_name is NUL-terminated (copied so by the proxy) */
    why = ngx_http_airouter_ssl_start(h->peer.connection, h->ssl,
                                      &h->ssl_name,
                                      ngx_http_airouter_hedge_ssl_handshake);
    if (why) {
        ngx_http_airouter_hedge_fail(h, why);
    }
}


static void
ngx_http_airouter_hedge_ssl_handshake(ngx_connection_t *c)
{
    const char                 *why;
    ngx_http_airouter_hedge_t  *h;

    h = c->data;

    why = ngx_http_airouter_ssl_verified(c, h->verify, &h->ssl_name,
                                         NGX_LOG_ERR);
    if (why) {
        ngx_http_airouter_hedge_fail(h, why);
        return;
    }

    c->read->handler = ngx_http_airouter_hedge_read_handler;
    c->write->handler = ngx_http_airouter_hedge_write_handler;

    ngx_http_airouter_hedge_send(h);
}

#endif


static void
ngx_http_airouter_hedge_send(ngx_http_airouter_hedge_t *h)
{
    ssize_t            n;
    ngx_buf_t         *b;
    ngx_connection_t  *c;

    c = h->peer.connection;

    while (h->out) {
        b = h->out->buf;

        if (!ngx_buf_in_memory(b)) {
            /* the proxy builds its requests in memory */
            ngx_http_airouter_hedge_fail_ours(h, "request not in memory");
            return;
        }

        while (b->pos < b->last) {
            n = c->send(c, b->pos, b->last - b->pos);

            if (n == NGX_AGAIN) {
                ngx_add_timer(c->write, h->send_timeout);

                if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
                    ngx_http_airouter_hedge_fail(h, "write failed");
                }

                return;
            }

            if (n == NGX_ERROR || n == 0) {
                ngx_http_airouter_hedge_fail(h, "write failed");
                return;
            }

            b->pos += n;
        }

        h->out = h->out->next;
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    h->state = NGX_HTTP_AIROUTER_HEDGE_WAITING;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, h->log, 0,
                   "airouter: hedge: request sent to %V, waiting", h->name);

    if (c->read->ready) {
        ngx_http_airouter_hedge_read_handler(c->read);
    }
}


/*
 * The first bytes of the answer, looked at and left in place.  A status
 * line cut short waits for more, unless the upstream closed after it.
 */
static void
ngx_http_airouter_hedge_read_handler(ngx_event_t *rev)
{
    u_char                      buf[NGX_HTTP_AIROUTER_HEDGE_PEEK];
    ssize_t                     n;
    ngx_err_t                   err;
    ngx_uint_t                  status, i;
    ngx_connection_t           *c;
    ngx_http_airouter_hedge_t  *h;

    c = rev->data;
    h = c->data;

    if (h->state != NGX_HTTP_AIROUTER_HEDGE_WAITING) {
        /* an early answer waits until the request is sent; a parked one
         * waits for whoever takes it */
        return;
    }

#if (NGX_HTTP_SSL)
    if (c->ssl) {
        int  sslerr;

        ERR_clear_error();

        n = SSL_peek(c->ssl->connection, buf, sizeof(buf));

        if (n <= 0) {
            sslerr = SSL_get_error(c->ssl->connection, n);

            if (sslerr == SSL_ERROR_WANT_READ) {
                return;
            }

            ngx_http_airouter_hedge_fail(h, "closed before answering");
            return;
        }

    } else
#endif
    {
        n = recv(c->fd, buf, sizeof(buf), MSG_PEEK);

        if (n == -1) {
            err = ngx_socket_errno;

            if (err == NGX_EAGAIN || err == NGX_EINTR) {
                return;
            }

            ngx_http_airouter_hedge_fail(h, "read failed");
            return;
        }

        if (n == 0) {
            ngx_http_airouter_hedge_fail(h, "closed before answering");
            return;
        }
    }

    if (n < NGX_HTTP_AIROUTER_HEDGE_PEEK) {
        if (!rev->pending_eof
            && ngx_strncmp(buf, "HTTP/1.", ngx_min((size_t) n, 7)) == 0)
        {
            return;                     /* more of the line to come */
        }

        status = 0;                     /* not HTTP: the judge will say */

    } else if (ngx_strncmp(buf, "HTTP/1.", 7) == 0 && buf[8] == ' ') {
        status = 0;

        for (i = 9; i < 12; i++) {
            if (buf[i] < '0' || buf[i] > '9') {
                status = 0;
                break;
            }

            status = status * 10 + (buf[i] - '0');
        }

    } else {
        status = 0;
    }

    h->status = status;
    h->state = (status >= 200 && status < 300)
               ? NGX_HTTP_AIROUTER_HEDGE_ANSWERED
               : NGX_HTTP_AIROUTER_HEDGE_REFUSED;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, h->log, 0,
                   "airouter: hedge: %V answered %ui", h->name, status);

    h->handler(h);
}


/*
 * The upstream's failure, named as the proxy's peer.free names a try's:
 * a timer that ran out is a timeout; a request written whole and no
 * answer, a server error; anything before that (connect, TLS, a write
 * refused), a connect error.
 */
static void
ngx_http_airouter_hedge_fail(ngx_http_airouter_hedge_t *h, const char *why)
{
    ngx_connection_t  *c;

    c = h->peer.connection;

    if (c && (c->read->timedout || c->write->timedout)) {
        h->fault = AIROUTER_FAULT_TIMEOUT;

    } else if (h->state == NGX_HTTP_AIROUTER_HEDGE_WAITING) {
        h->fault = AIROUTER_FAULT_SERVER;

    } else {
        h->fault = AIROUTER_FAULT_CONNECT;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, h->log, 0,
                   "airouter: hedge: %V failed: %s (fault %d)", h->name, why,
                   (int) h->fault);

    ngx_http_airouter_hedge_close(h);

    h->state = NGX_HTTP_AIROUTER_HEDGE_FAILED;
    h->failure = why;

    h->handler(h);
}


/* A failure of ours: the upstream did nothing wrong. */
static void
ngx_http_airouter_hedge_fail_ours(ngx_http_airouter_hedge_t *h,
    const char *why)
{
    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, h->log, 0,
                   "airouter: hedge: %V failed: %s (ours)", h->name, why);

    ngx_http_airouter_hedge_close(h);

    h->state = NGX_HTTP_AIROUTER_HEDGE_FAILED;
    h->failure = why;
    h->fault = AIROUTER_FAULT_NONE;

    h->handler(h);
}


static void
ngx_http_airouter_hedge_dummy(ngx_event_t *ev)
{
}
