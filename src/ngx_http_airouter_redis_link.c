/*
 * A Redis link: hiredis' event hooks on an nginx connection, and the
 * connection's life (connect, AUTH/SELECT, PING watchdog, backoff); see
 * ngx_http_airouter_redis_link.h.  Used by ngx_http_airouter_redis.c
 * (which owns the links) and ngx_http_airouter_redis_counters.c (which
 * sends on the command link).
 */

#include "ngx_http_airouter_redis_link.h"


#define NGX_HTTP_AIROUTER_REDIS_PING         1000   /* ms */
#define NGX_HTTP_AIROUTER_REDIS_SILENT       3000   /* ms without a PONG */
#define NGX_HTTP_AIROUTER_REDIS_BACKOFF      200    /* ms, doubled ... */
#define NGX_HTTP_AIROUTER_REDIS_BACKOFF_MAX  5000   /* ... up to this */
#define NGX_HTTP_AIROUTER_REDIS_ERROR        128


static void ngx_http_airouter_redis_link_down(
    ngx_http_airouter_redis_link_t *link, ngx_uint_t free,
    const char *reason);
static void ngx_http_airouter_redis_link_up(
    ngx_http_airouter_redis_link_t *link);
static void ngx_http_airouter_redis_retry_handler(ngx_event_t *ev);
static void ngx_http_airouter_redis_timer_handler(ngx_event_t *ev);
static void ngx_http_airouter_redis_read_handler(ngx_event_t *ev);
static void ngx_http_airouter_redis_write_handler(ngx_event_t *ev);
static void ngx_http_airouter_redis_event(ngx_event_t *ev, ngx_int_t event,
    ngx_uint_t on);
static void ngx_http_airouter_redis_add_read(void *data);
static void ngx_http_airouter_redis_del_read(void *data);
static void ngx_http_airouter_redis_add_write(void *data);
static void ngx_http_airouter_redis_del_write(void *data);
static void ngx_http_airouter_redis_cleanup(void *data);
static void ngx_http_airouter_redis_connected(const redisAsyncContext *ac,
    int status);
static void ngx_http_airouter_redis_disconnected(const redisAsyncContext *ac,
    int status);
static void ngx_http_airouter_redis_setup_reply(redisAsyncContext *ac,
    void *reply, void *data);
static void ngx_http_airouter_redis_hello_reply(redisAsyncContext *ac,
    void *reply, void *data);
static void ngx_http_airouter_redis_pong(redisAsyncContext *ac, void *reply,
    void *data);


void
ngx_http_airouter_redis_link_init(ngx_http_airouter_redis_link_t *link,
    ngx_http_airouter_redis_server_t *server, const char *name,
    ngx_uint_t watchdog, ngx_log_t *log, ngx_http_airouter_redis_up_pt up,
    ngx_http_airouter_redis_down_pt down, void *data)
{
    link->server = server;
    link->name = name;
    link->watchdog = watchdog;
    link->log = log;
    link->up = up;
    link->down = down;
    link->data = data;

    link->retry.handler = ngx_http_airouter_redis_retry_handler;
    link->retry.data = link;
    link->retry.log = log;
    link->retry.cancelable = 1;

    link->timer.handler = ngx_http_airouter_redis_timer_handler;
    link->timer.data = link;
    link->timer.log = log;
    link->timer.cancelable = 1;
}


void
ngx_http_airouter_redis_link_connect(ngx_http_airouter_redis_link_t *link)
{
    u_char                             err[NGX_HTTP_AIROUTER_REDIS_ERROR];
    ngx_connection_t                  *c;
    redisAsyncContext                 *ac;
    ngx_http_airouter_redis_server_t  *srv;

    srv = link->server;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, link->log, 0,
                   "airouter redis %s link: connecting to \"%V\", "
                   "timeout %M ms", link->name, &srv->addr,
                   srv->connect_timeout);

    ac = srv->port ? redisAsyncConnect((char *) srv->host, srv->port)
                   : redisAsyncConnectUnix((char *) srv->host);

    if (ac == NULL) {
        ngx_http_airouter_redis_link_down(link, 0, "out of memory");
        return;
    }

    if (ac->err) {
        ngx_cpystrn(err, (u_char *) ac->errstr, sizeof(err));
        redisAsyncFree(ac);
        ngx_http_airouter_redis_link_down(link, 0, (char *) err);
        return;
    }

    c = ngx_get_connection(ac->c.fd, link->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        ngx_http_airouter_redis_link_down(link, 0, "no free connection");
        return;
    }

    c->data = link;
    c->read->handler = ngx_http_airouter_redis_read_handler;
    c->write->handler = ngx_http_airouter_redis_write_handler;
    c->read->log = link->log;
    c->write->log = link->log;

    link->ac = ac;
    link->conn = c;
    link->ready = 0;

    ac->data = link;
    ac->ev.data = c;
    ac->ev.addRead = ngx_http_airouter_redis_add_read;
    ac->ev.delRead = ngx_http_airouter_redis_del_read;
    ac->ev.addWrite = ngx_http_airouter_redis_add_write;
    ac->ev.delWrite = ngx_http_airouter_redis_del_write;
    ac->ev.cleanup = ngx_http_airouter_redis_cleanup;

    /* the hooks must be in place: this one waits for a write event */
    redisAsyncSetConnectCallback(ac, ngx_http_airouter_redis_connected);
    redisAsyncSetDisconnectCallback(ac, ngx_http_airouter_redis_disconnected);

    /* queued now, written once connected */
    if (srv->password.len) {
        (void) redisAsyncCommand(ac, ngx_http_airouter_redis_setup_reply,
                                 "AUTH", "AUTH %b", srv->password.data,
                                 srv->password.len);
    }

    if (srv->db) {
        (void) redisAsyncCommand(ac, ngx_http_airouter_redis_setup_reply,
                                 "SELECT", "SELECT %d", (int) srv->db);
    }

    (void) redisAsyncCommand(ac, ngx_http_airouter_redis_hello_reply, NULL,
                             "PING");

    ngx_add_timer(&link->timer, srv->connect_timeout);
}


void
ngx_http_airouter_redis_link_fail(ngx_http_airouter_redis_link_t *link,
    const char *reason)
{
    if (link->ac) {
        ngx_http_airouter_redis_link_down(link, 1, reason);
    }
}


void
ngx_http_airouter_redis_link_close(ngx_http_airouter_redis_link_t *link)
{
    redisAsyncContext  *ac;

    if (link->server == NULL) {
        return;                         /* never initialised */
    }

    if (link->retry.timer_set) {
        ngx_del_timer(&link->retry);
    }

    if (link->timer.timer_set) {
        ngx_del_timer(&link->timer);
    }

    ac = link->ac;
    link->ac = NULL;
    link->ready = 0;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, link->log, 0,
                   "airouter redis %s link: closed", link->name);

    if (ac) {
        redisAsyncFree(ac);
    }
}


/*
 * The link is down: free is set when hiredis is not already freeing the
 * context (a timeout, an error reply).  Pending callbacks then run with a
 * NULL reply.  A reconnection is scheduled with a backoff.
 */
static void
ngx_http_airouter_redis_link_down(ngx_http_airouter_redis_link_t *link,
    ngx_uint_t free, const char *reason)
{
    ngx_uint_t          was_ready;
    redisAsyncContext  *ac;

    ac = link->ac;
    was_ready = link->ready;

    link->ac = NULL;
    link->ready = 0;

    if (link->timer.timer_set) {
        ngx_del_timer(&link->timer);
    }

    if (ac && free) {
        redisAsyncFree(ac);
    }

    link->down(link, was_ready, free, reason);

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, link->log, 0,
                       "airouter redis %s link: down (%s), exiting",
                       link->name, reason);
        return;
    }

    link->backoff = link->backoff
                    ? ngx_min(link->backoff * 2,
                              NGX_HTTP_AIROUTER_REDIS_BACKOFF_MAX)
                    : NGX_HTTP_AIROUTER_REDIS_BACKOFF;

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, link->log, 0,
                   "airouter redis %s link: down (%s)%s, reconnecting in "
                   "%M ms", link->name, reason,
                   free ? ", given up" : "", link->backoff);

    if (!link->retry.timer_set) {
        ngx_add_timer(&link->retry, link->backoff);
    }
}


static void
ngx_http_airouter_redis_link_up(ngx_http_airouter_redis_link_t *link)
{
    link->ready = 1;
    link->backoff = 0;
    link->pong = ngx_current_msec;

    if (link->timer.timer_set) {
        ngx_del_timer(&link->timer);
    }

    if (link->watchdog) {
        ngx_add_timer(&link->timer, NGX_HTTP_AIROUTER_REDIS_PING);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, link->log, 0,
                   "airouter redis %s link: up, fd %d", link->name,
                   link->conn ? link->conn->fd : -1);

    link->up(link);
}


static void
ngx_http_airouter_redis_retry_handler(ngx_event_t *ev)
{
    ngx_http_airouter_redis_link_t  *link = ev->data;

    if (link->ac == NULL) {
        ngx_http_airouter_redis_link_connect(link);
    }
}


/* Before ready: the connect timeout.  After: PING, and the watchdog. */
static void
ngx_http_airouter_redis_timer_handler(ngx_event_t *ev)
{
    ngx_http_airouter_redis_link_t  *link = ev->data;

    if (link->ac == NULL) {
        return;
    }

    if (!link->ready) {
        ngx_http_airouter_redis_link_down(link, 1, "connect timed out");
        return;
    }

    if (ngx_current_msec - link->pong > NGX_HTTP_AIROUTER_REDIS_SILENT) {
        ngx_http_airouter_redis_link_down(link, 1, "no answer to PING");
        return;
    }

    if (redisAsyncCommand(link->ac, ngx_http_airouter_redis_pong, NULL,
                          "PING")
        != REDIS_OK)
    {
        ngx_http_airouter_redis_link_down(link, 1, "PING not sent");
        return;
    }

    if (!ngx_exiting && !ngx_terminate && !ngx_quit) {
        ngx_add_timer(&link->timer, NGX_HTTP_AIROUTER_REDIS_PING);
    }
}


/* The adapter: hiredis' event hooks on an nginx connection. */

static void
ngx_http_airouter_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t                *c = ev->data;
    ngx_http_airouter_redis_link_t  *link = c->data;

    if (link->conn == c && link->ac) {
        redisAsyncHandleRead(link->ac);
    }
}


static void
ngx_http_airouter_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t                *c = ev->data;
    ngx_http_airouter_redis_link_t  *link = c->data;

    if (link->conn == c && link->ac) {
        redisAsyncHandleWrite(link->ac);
    }
}


/*
 * Level-triggered: hiredis reads or writes once per call, so under
 * nginx's default edge-triggered epoll it would have to loop until EAGAIN,
 * which it cannot tell us.
 */
static void
ngx_http_airouter_redis_add_read(void *data)
{
    ngx_http_airouter_redis_event(((ngx_connection_t *) data)->read,
                                  NGX_READ_EVENT, 1);
}


static void
ngx_http_airouter_redis_del_read(void *data)
{
    ngx_http_airouter_redis_event(((ngx_connection_t *) data)->read,
                                  NGX_READ_EVENT, 0);
}


static void
ngx_http_airouter_redis_add_write(void *data)
{
    ngx_http_airouter_redis_event(((ngx_connection_t *) data)->write,
                                  NGX_WRITE_EVENT, 1);
}


static void
ngx_http_airouter_redis_del_write(void *data)
{
    ngx_http_airouter_redis_event(((ngx_connection_t *) data)->write,
                                  NGX_WRITE_EVENT, 0);
}


static void
ngx_http_airouter_redis_event(ngx_event_t *ev, ngx_int_t event, ngx_uint_t on)
{
    if (on && !ev->active) {
        (void) ngx_add_event(ev, event, NGX_LEVEL_EVENT);

    } else if (!on && ev->active) {
        (void) ngx_del_event(ev, event, NGX_LEVEL_EVENT);
    }
}


/* hiredis frees the context and then closes the socket itself. */
static void
ngx_http_airouter_redis_cleanup(void *data)
{
    ngx_connection_t                *c = data;
    ngx_http_airouter_redis_link_t  *link = c->data;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, link->log, 0,
                   "airouter redis %s link: fd %d released", link->name,
                   c->fd);

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    if (link->conn == c) {
        link->conn = NULL;
    }

    ngx_free_connection(c);

    /* events of this socket still in the epoll batch are stale now */
    c->fd = (ngx_socket_t) -1;
}


static void
ngx_http_airouter_redis_connected(const redisAsyncContext *ac, int status)
{
    ngx_http_airouter_redis_link_t  *link = ac->data;

    if (status == REDIS_OK || link == NULL || link->ac != ac) {
        return;
    }

    /* hiredis frees the context after this */
    ngx_http_airouter_redis_link_down(link, 0, ac->errstr ? ac->errstr
                                                          : "connect failed");
}


static void
ngx_http_airouter_redis_disconnected(const redisAsyncContext *ac, int status)
{
    ngx_http_airouter_redis_link_t  *link = ac->data;

    if (link == NULL || link->ac != ac) {
        return;
    }

    ngx_http_airouter_redis_link_down(link, 0,
                                      (status != REDIS_OK && ac->errstr)
                                      ? ac->errstr : "connection closed");
}


static void
ngx_http_airouter_redis_setup_reply(redisAsyncContext *ac, void *reply,
    void *data)
{
    redisReply                      *r = reply;
    ngx_http_airouter_redis_link_t  *link = ac->data;

    u_char  err[NGX_HTTP_AIROUTER_REDIS_ERROR];

    if (r == NULL || link == NULL || link->ac != ac
        || r->type != REDIS_REPLY_ERROR)
    {
        return;
    }

    ngx_snprintf(err, sizeof(err) - 1, "%s: %s%Z", (char *) data, r->str);
    err[sizeof(err) - 1] = '\0';

    ngx_http_airouter_redis_link_down(link, 1, (char *) err);
}


static void
ngx_http_airouter_redis_hello_reply(redisAsyncContext *ac, void *reply,
    void *data)
{
    redisReply                      *r = reply;
    ngx_http_airouter_redis_link_t  *link = ac->data;

    if (r == NULL || link == NULL || link->ac != ac) {
        return;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        /* AUTH's own reply has said why */
        ngx_http_airouter_redis_link_down(link, 1, r->str);
        return;
    }

    ngx_http_airouter_redis_link_up(link);
}


static void
ngx_http_airouter_redis_pong(redisAsyncContext *ac, void *reply, void *data)
{
    ngx_http_airouter_redis_link_t  *link = ac->data;

    if (reply && link && link->ac == ac) {
        link->pong = ngx_current_msec;
    }
}


ngx_int_t
ngx_http_airouter_redis_link_send(ngx_http_airouter_redis_link_t *link,
    redisCallbackFn *fn, void *data, ngx_array_t *args, ngx_pool_t *pool)
{
    int           rc;
    size_t       *lens;
    ngx_str_t    *a;
    ngx_uint_t    i;
    const char  **argv;

    if (link->ac == NULL || !link->ready) {
        return NGX_ERROR;
    }

    argv = ngx_palloc(pool, args->nelts * sizeof(char *));
    lens = ngx_palloc(pool, args->nelts * sizeof(size_t));
    if (argv == NULL || lens == NULL) {
        return NGX_ERROR;
    }

    a = args->elts;

    for (i = 0; i < args->nelts; i++) {
        argv[i] = (const char *) a[i].data;
        lens[i] = a[i].len;
    }

    rc = redisAsyncCommandArgv(link->ac, fn, data, (int) args->nelts,
                               argv, lens);

    return rc == REDIS_OK ? NGX_OK : NGX_ERROR;
}


ngx_int_t
ngx_http_airouter_redis_arg(ngx_array_t *args, ngx_pool_t *pool,
    const char *fmt, ...)
{
    u_char     buf[1024], *last;
    va_list    vl;
    ngx_str_t *a;

    va_start(vl, fmt);
    last = ngx_vslprintf(buf, buf + sizeof(buf), fmt, vl);
    va_end(vl);

    if (last == buf + sizeof(buf)) {
        return NGX_ERROR;
    }

    a = ngx_array_push(args);
    if (a == NULL) {
        return NGX_ERROR;
    }

    a->len = last - buf;
    a->data = ngx_pnalloc(pool, a->len + 1);
    if (a->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(a->data, buf, a->len);
    a->data[a->len] = '\0';

    return NGX_OK;
}
