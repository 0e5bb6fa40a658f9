/*
 * A small callback-driven HTTP(S) client on nginx's event loop, for the
 * requests airouter makes without a client request behind them: discovery's
 * GET /models now, balance queries and health probes later.
 *
 * One fetch is one connection: ngx_event_connect_peer() to an address
 * resolved at configuration time or now with nginx's resolver, TLS when
 * asked (SNI, certificate and
 * host name verification), "GET" with the caller's header lines and
 * "Connection: close", then the status line, headers and body (chunked,
 * Content-Length or until close), capped at max_size.  One timer bounds
 * the whole exchange.  Nothing blocks.
 *
 * The handler runs exactly once, from the event loop (never from
 * ngx_http_airouter_fetch_start()), with f->status and f->body set on an
 * answer, or f->error on a failure.  Everything the fetch owns, body
 * included, is released when the handler returns, unless the handler
 * takes it with ngx_http_airouter_fetch_keep(): copy what you keep, or
 * keep it all.
 *
 * A large answer is read a slice per turn of the event loop
 * (NGX_HTTP_AIROUTER_FETCH_SLICE bytes at most per read event), so
 * several arriving at once never hold the worker for all of their bytes
 * at once.
 */

#ifndef NGX_HTTP_AIROUTER_FETCH_H
#define NGX_HTTP_AIROUTER_FETCH_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>


typedef struct ngx_http_airouter_fetch_s  ngx_http_airouter_fetch_t;

typedef void (*ngx_http_airouter_fetch_handler_pt)(
    ngx_http_airouter_fetch_t *f);


/*
 * What to fetch.  Every pointer must outlive the fetch.  The peer is addr,
 * or, when addr is NULL, the first address resolver gives for
 * resolve_name (IPv4 preferred), at port.
 */
typedef struct {
    ngx_addr_t                  *addr;
    ngx_resolver_t              *resolver;
    ngx_msec_t                   resolver_timeout;
    ngx_str_t                    resolve_name;
    in_port_t                    port;
    ngx_str_t                    host;         /* Host header: authority */
    ngx_str_t                    uri;          /* path and query */
    ngx_str_t                    headers;      /* "Name: value\r\n" lines */
#if (NGX_SSL)
    ngx_ssl_t                   *ssl;          /* NULL: plain HTTP */
    ngx_str_t                    server_name;  /* SNI and verification */
    ngx_flag_t                   verify;
#endif
    size_t                       max_size;     /* body cap */
    ngx_msec_t                   timeout;      /* the whole exchange */
} ngx_http_airouter_fetch_req_t;


struct ngx_http_airouter_fetch_s {
    ngx_uint_t                   status;       /* 0: no answer */
    ngx_str_t                    body;
    const char                  *error;        /* NULL on an answer */

    ngx_http_airouter_fetch_handler_pt  handler;
    void                        *data;

    /* private */
    ngx_pool_t                  *pool;
    ngx_log_t                   *log;
    ngx_http_airouter_fetch_req_t  req;
    ngx_resolver_ctx_t          *resolving;
    ngx_peer_connection_t        peer;
    ngx_event_t                  timer;        /* deadline, then "done" */
    ngx_buf_t                   *out;          /* the request */
    ngx_buf_t                   *in;           /* raw answer */
    u_char                      *body_start;   /* in "in", once parsed */
    off_t                        content_length;  /* -1: none */
    ngx_uint_t                   chunked;
    ngx_uint_t                   chunk_state;
    off_t                        chunk_left;
    u_char                      *chunk_pos;    /* next raw byte to decode */
    u_char                      *body_last;    /* decoded body end */
    ngx_uint_t                   finished;
    ngx_uint_t                  *kept;         /* while the handler runs */
};


/*
 * Starts a fetch; the handler is called later with data in f->data.
 * Returns NULL only when it cannot even start (no memory): then the
 * handler is never called.
 */
ngx_http_airouter_fetch_t *ngx_http_airouter_fetch_start(
    ngx_http_airouter_fetch_req_t *req,
    ngx_http_airouter_fetch_handler_pt handler, void *data, ngx_log_t *log);

/*
 * In the handler: the pool that holds f and f->body becomes the caller's,
 * to destroy when done with the body (in another thread too, even before
 * the handler returns: the fetch does not read f after it).  The
 * connection is closed already; nothing else of the fetch runs after it.
 */
ngx_pool_t *ngx_http_airouter_fetch_keep(ngx_http_airouter_fetch_t *f);

#endif /* NGX_HTTP_AIROUTER_FETCH_H */
