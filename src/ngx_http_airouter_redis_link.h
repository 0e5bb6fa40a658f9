/*
 * One connection to Redis on nginx's event loop (the "link"): a hiredis
 * async context whose socket is wrapped in an nginx connection
 * (ngx_get_connection), so that nginx's read and write events drive
 * redisAsyncHandleRead/Write.  On top of that: AUTH and SELECT when it
 * connects, a connect timeout, a PING watchdog, and reconnection after a
 * backoff (200 ms, doubled up to 5 s).
 *
 * The link knows nothing of what travels on it.  Its owner
 * (ngx_http_airouter_redis.c) hears of each change through the up and
 * down slots it gives ngx_http_airouter_redis_link_init(), and sends
 * commands with ngx_http_airouter_redis_link_send().  With "debug" in
 * error_log, every change of a link is traced.
 */

#ifndef NGX_HTTP_AIROUTER_REDIS_LINK_H
#define NGX_HTTP_AIROUTER_REDIS_LINK_H

#include "ngx_http_airouter_module.h"

#include <hiredis/hiredis.h>
#include <hiredis/async.h>


/* Where and how to connect: the airouter_redis directive's parameters. */
typedef struct {
    ngx_str_t                    addr;       /* as written, for log lines */
    u_char                      *host;       /* IP literal or socket path */
    int                          port;       /* 0: unix socket */
    ngx_str_t                    password;
    ngx_int_t                    db;
    ngx_msec_t                   connect_timeout;
} ngx_http_airouter_redis_server_t;


typedef struct ngx_http_airouter_redis_link_s  ngx_http_airouter_redis_link_t;

/* The link is ready: connected, AUTH and SELECT done. */
typedef void (*ngx_http_airouter_redis_up_pt)(
    ngx_http_airouter_redis_link_t *link);

/*
 * The link is down (a reconnection is scheduled unless nginx exits).
 * was_ready: it had been up; dropped: the link gave up on the server
 * (connect timeout, no PONG, an error reply, the owner's
 * ngx_http_airouter_redis_link_fail()) rather than the connection
 * closing under it.  Callbacks of commands still queued have run, with a
 * NULL reply.
 */
typedef void (*ngx_http_airouter_redis_down_pt)(
    ngx_http_airouter_redis_link_t *link, ngx_uint_t was_ready,
    ngx_uint_t dropped, const char *reason);


/*
 * ac is NULL while down; conn wraps ac's socket and is freed by hiredis'
 * cleanup hook, never closed by us (hiredis closes the socket).
 */
struct ngx_http_airouter_redis_link_s {
    redisAsyncContext           *ac;
    ngx_connection_t            *conn;
    ngx_event_t                  retry;      /* reconnect after backoff */
    ngx_event_t                  timer;      /* connect timeout, then PING */
    ngx_msec_t                   backoff;
    ngx_msec_t                   pong;       /* last answer to PING */
    ngx_uint_t                   ready;
    ngx_uint_t                   watchdog;   /* PING it once up (not a
                                                subscribed connection) */
    const char                  *name;
    ngx_http_airouter_redis_server_t  *server;
    ngx_log_t                   *log;

    ngx_http_airouter_redis_up_pt      up;
    ngx_http_airouter_redis_down_pt    down;
    void                        *data;       /* the owner's */
};


void ngx_http_airouter_redis_link_init(ngx_http_airouter_redis_link_t *link,
    ngx_http_airouter_redis_server_t *server, const char *name,
    ngx_uint_t watchdog, ngx_log_t *log, ngx_http_airouter_redis_up_pt up,
    ngx_http_airouter_redis_down_pt down, void *data);
void ngx_http_airouter_redis_link_connect(
    ngx_http_airouter_redis_link_t *link);

/* The owner gives up on a live link: down, then a reconnection. */
void ngx_http_airouter_redis_link_fail(ngx_http_airouter_redis_link_t *link,
    const char *reason);

/* The process exits: the link goes, with no reconnection. */
void ngx_http_airouter_redis_link_close(
    ngx_http_airouter_redis_link_t *link);

/*
 * Queues a command whose arguments are the ngx_str_t of args (binary
 * safe); fn(ac, reply, data) gets its reply, or NULL when the link goes
 * first.  NGX_ERROR: the link is not ready, nothing was queued.
 */
ngx_int_t ngx_http_airouter_redis_link_send(
    ngx_http_airouter_redis_link_t *link, redisCallbackFn *fn, void *data,
    ngx_array_t *args, ngx_pool_t *pool);

/* Appends one argument, formatted as ngx_sprintf() does, to args. */
ngx_int_t ngx_http_airouter_redis_arg(ngx_array_t *args, ngx_pool_t *pool,
    const char *fmt, ...);

#endif /* NGX_HTTP_AIROUTER_REDIS_LINK_H */
