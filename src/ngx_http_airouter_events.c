/*
 * The admin events stream (GET /v1/admin/events, text/event-stream).
 *
 * Each stream has a timer that fires once a second in the worker that
 * holds the connection.  It reads the zone (the admin switch, live state,
 * the history's seconds) and writes, into the one buffer the stream owns:
 *
 *   event: hello     at the start: the strategy and every channel's state
 *   event: strategy  {"strategy", "previous"} when it changed
 *   event: channel   {"channel", "enabled", "blocked", "reason", "until"}
 *                    when one of them changed
 *   event: tick      the counters of each second that had requests (none
 *                    for an idle second), with the newest request log and
 *                    audit ids (a page fetches what is new)
 *   : heartbeat      a comment after NGX_HTTP_AIROUTER_EVENTS_HEARTBEAT s
 *                    without any event, so that proxies and the reader
 *                    know the stream lives
 *
 * State is compared with what the stream last sent, so nothing is lost
 * while a slow reader holds the buffer (ticks are then skipped; a reader
 * stuck for NGX_HTTP_AIROUTER_EVENTS_STUCK seconds is dropped).
 *
 * Shutdown: the connection is marked idle, so a worker that exits (reload,
 * quit) closes it at once through nginx's idle-connection close, and the
 * timer is cancelable: neither keeps an old worker alive.  A client that
 * goes away is seen by nginx's test_reading; the pool cleanup deletes the
 * timer.  Each second costs a few zone reads under the mutex and no
 * allocation: the buffer and chain link are the stream's own.
 */

#include "ngx_http_airouter_events.h"
#include "ngx_http_airouter_switch.h"
#include "ngx_http_airouter_live.h"
#include "ngx_http_airouter_history.h"
#include "ngx_http_airouter_reqlog.h"
#include "ngx_http_airouter_audit.h"
#include "ngx_http_airouter_response.h"
#include "ngx_http_airouter_header.h"


#define NGX_HTTP_AIROUTER_EVENTS_HEARTBEAT  10     /* seconds */
#define NGX_HTTP_AIROUTER_EVENTS_STUCK      30     /* seconds */
#define NGX_HTTP_AIROUTER_EVENTS_CHANNEL    400    /* bytes, one event */


/* One channel as the stream last told it. */
typedef struct {
    unsigned                     enabled:1;
    unsigned                     blocked:1;
    airouter_fault_e             fault;
    time_t                       until;
} ngx_http_airouter_events_channel_t;


typedef struct {
    ngx_http_request_t          *request;
    ngx_event_t                  timer;
    ngx_buf_t                   *buf;
    ngx_chain_t                  out;
    ngx_http_airouter_events_channel_t  *channels;
    ngx_uint_t                   nchannels;
    u_char                       strategy[NGX_HTTP_AIROUTER_SWITCH_STRATEGY];
    time_t                       second;       /* the last one sent */
    time_t                       sent;         /* when anything was */
    time_t                       stuck;        /* buffer busy since, 0 */
} ngx_http_airouter_events_t;


static void ngx_http_airouter_events_tick(ngx_event_t *ev);
static ngx_int_t ngx_http_airouter_events_fill(
    ngx_http_airouter_events_t *es, ngx_uint_t hello);
static void ngx_http_airouter_events_state(
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t i,
    ngx_http_airouter_events_channel_t *c);
static u_char *ngx_http_airouter_events_channel(u_char *p, u_char *end,
    const char *id, ngx_http_airouter_events_channel_t *c);
static void ngx_http_airouter_events_current(
    ngx_http_airouter_main_conf_t *amcf, u_char *buf);
static u_char *ngx_http_airouter_events_str(u_char *p, u_char *end,
    const u_char *s);
static ngx_int_t ngx_http_airouter_events_send(
    ngx_http_airouter_events_t *es);
static void ngx_http_airouter_events_write(ngx_http_request_t *r);
static void ngx_http_airouter_events_cleanup(void *data);


ngx_int_t
ngx_http_airouter_events_handler(ngx_http_request_t *r, ngx_str_t *path)
{
    size_t                          size;
    ngx_int_t                       rc;
    ngx_uint_t                      i;
    ngx_pool_cleanup_t             *cln;
    ngx_http_airouter_events_t     *es;
    ngx_http_airouter_main_conf_t  *amcf;
    static ngx_str_t                cache_control = ngx_string("Cache-Control");
    static ngx_str_t                accel_buffering =
                                        ngx_string("X-Accel-Buffering");

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airouter_module);

    es = ngx_pcalloc(r->pool, sizeof(ngx_http_airouter_events_t));
    if (es == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    es->request = r;
    es->nchannels = amcf->config->nchannels;
    es->channels = ngx_pcalloc(r->pool, es->nchannels
                               * sizeof(ngx_http_airouter_events_channel_t));

    /* the hello, or every channel changing at once, fits */
    size = 1024 + (es->nchannels + 1) * NGX_HTTP_AIROUTER_EVENTS_CHANNEL;
    es->buf = ngx_create_temp_buf(r->pool, size);

    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (es->channels == NULL || es->buf == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_airouter_events_cleanup;
    cln->data = es;

    es->timer.handler = ngx_http_airouter_events_tick;
    es->timer.data = es;
    es->timer.log = r->connection->log;
    es->timer.cancelable = 1;

    es->out.buf = es->buf;
    es->out.next = NULL;

    for (i = 0; i < es->nchannels; i++) {
        ngx_http_airouter_events_state(amcf, i, &es->channels[i]);
    }

    ngx_http_airouter_events_current(amcf, es->strategy);
    es->second = ngx_time() - 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = -1;
    ngx_str_set(&r->headers_out.content_type, "text/event-stream");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    /* not cached; a proxy in front must pass each event on at once */
    if (ngx_http_airouter_header_add(r, &cache_control,
                                     (u_char *) "no-cache",
                                     sizeof("no-cache") - 1)
           != NGX_OK
        || ngx_http_airouter_header_add(r, &accel_buffering,
                                        (u_char *) "no", sizeof("no") - 1)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    if (ngx_http_airouter_events_fill(es, 1) != NGX_OK
        || ngx_http_airouter_events_send(es) == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "airouter events: stream open");

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_airouter_events_write;

    /* closed at once when the worker exits: see the header comment */
    r->connection->idle = 1;

    ngx_add_timer(&es->timer, 1000);

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_airouter_events_tick(ngx_event_t *ev)
{
    ngx_int_t                    rc;
    ngx_http_request_t          *r;
    ngx_http_airouter_events_t  *es;

    es = ev->data;
    r = es->request;

    if (ngx_exiting || ngx_terminate) {
        /* the idle close should have come first; end the stream anyway */
        rc = ngx_http_send_special(r, NGX_HTTP_LAST);
        ngx_http_finalize_request(r, rc == NGX_ERROR ? NGX_ERROR : NGX_OK);
        return;
    }

    if (es->buf->pos < es->buf->last) {
        /* the reader has not taken the last events yet */
        if (es->stuck == 0) {
            es->stuck = ngx_time();

        } else if (ngx_time() - es->stuck >= NGX_HTTP_AIROUTER_EVENTS_STUCK) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "airouter events: the reader took nothing for "
                          "%d s, closing the stream",
                          NGX_HTTP_AIROUTER_EVENTS_STUCK);
            ngx_http_finalize_request(r, NGX_ERROR);
            return;
        }

        ngx_add_timer(&es->timer, 1000);
        return;
    }

    es->stuck = 0;

    if (ngx_http_airouter_events_fill(es, 0) != NGX_OK
        || ngx_http_airouter_events_send(es) == NGX_ERROR)
    {
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    ngx_add_timer(&es->timer, 1000);
}


/*
 * The events due now into the stream's empty buffer: the hello, or what
 * changed since the last events, the seconds not yet told, a heartbeat.
 */
static ngx_int_t
ngx_http_airouter_events_fill(ngx_http_airouter_events_t *es,
    ngx_uint_t hello)
{
    u_char                              *p, *end;
    u_char                               strategy[
                                           NGX_HTTP_AIROUTER_SWITCH_STRATEGY];
    time_t                               now, t;
    uint64_t                             requests, audit;
    ngx_uint_t                           i;
    airouter_config_t                   *acf;
    ngx_http_airouter_main_conf_t       *amcf;
    ngx_http_airouter_history_sums_t     s;
    ngx_http_airouter_events_channel_t   c;

    amcf = ngx_http_get_module_main_conf(es->request,
                                         ngx_http_airouter_module);
    acf = amcf->config;

    now = ngx_time();
    p = es->buf->start;
    end = es->buf->end;

    requests = ngx_http_airouter_reqlog_last(amcf);
    audit = ngx_http_airouter_audit_last(amcf);

    if (hello) {
        p = ngx_slprintf(p, end, "retry: 3000\n\nevent: hello\ndata: "
                         "{\"time\":%T,\"strategy\":", now);
        p = ngx_http_airouter_events_str(p, end, es->strategy);
        p = ngx_slprintf(p, end, ",\"last_request\":%uL,\"last_audit\":%uL,"
                         "\"channels\":[", requests, audit);

        for (i = 0; i < es->nchannels; i++) {
            if (i) {
                p = ngx_slprintf(p, end, ",");
            }

            p = ngx_http_airouter_events_channel(p, end,
                                                 acf->channels[i].id,
                                                 &es->channels[i]);
        }

        p = ngx_slprintf(p, end, "]}\n\n");

        goto done;
    }

    ngx_http_airouter_events_current(amcf, strategy);

    if (ngx_strcmp(strategy, es->strategy) != 0) {
        p = ngx_slprintf(p, end, "event: strategy\ndata: {\"strategy\":");
        p = ngx_http_airouter_events_str(p, end, strategy);
        p = ngx_slprintf(p, end, ",\"previous\":");
        p = ngx_http_airouter_events_str(p, end, es->strategy);
        p = ngx_slprintf(p, end, "}\n\n");

        ngx_memcpy(es->strategy, strategy, sizeof(strategy));
    }

    for (i = 0; i < es->nchannels; i++) {
        ngx_http_airouter_events_state(amcf, i, &c);

        if (c.enabled == es->channels[i].enabled
            && c.blocked == es->channels[i].blocked
            && (!c.blocked || (c.fault == es->channels[i].fault
                               && c.until == es->channels[i].until)))
        {
            continue;
        }

        es->channels[i] = c;

        p = ngx_slprintf(p, end, "event: channel\ndata: ");
        p = ngx_http_airouter_events_channel(p, end, acf->channels[i].id,
                                             &c);
        p = ngx_slprintf(p, end, "\n\n");
    }

    /* every whole second since the last told, as far as they are kept */
    for (t = ngx_max(es->second + 1, now - NGX_HTTP_AIROUTER_HISTORY_SECONDS
                                     + 1);
         t < now;
         t++)
    {
        es->second = t;

        if (ngx_http_airouter_history_second(amcf, t, &s) != NGX_OK
            || s.requests == 0)
        {
            continue;
        }

        p = ngx_slprintf(p, end, "event: tick\ndata: {\"time\":%T,"
                         "\"requests\":%uL,\"errors\":%uL,"
                         "\"prompt_tokens\":%uL,\"completion_tokens\":%uL,"
                         "\"cost\":%.8f,\"last_request\":%uL,"
                         "\"last_audit\":%uL}\n\n",
                         t, s.requests, s.errors, s.prompt_tokens,
                         s.completion_tokens, s.cost, requests, audit);
    }

    if (p == es->buf->start
        && now - es->sent >= NGX_HTTP_AIROUTER_EVENTS_HEARTBEAT)
    {
        p = ngx_slprintf(p, end, ": heartbeat %T\n\n", now);
    }

done:

    if (p == end) {
        ngx_log_error(NGX_LOG_ALERT, es->request->connection->log, 0,
                      "airouter events: the events do not fit in %uz bytes",
                      (size_t) (end - es->buf->start));
        return NGX_ERROR;
    }

    es->buf->pos = es->buf->start;
    es->buf->last = p;

    if (p > es->buf->start) {
        es->sent = now;
    }

    return NGX_OK;
}


static void
ngx_http_airouter_events_state(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t i, ngx_http_airouter_events_channel_t *c)
{
    airouter_channel_t             *ch;
    ngx_http_airouter_live_info_t   info;

    ngx_memzero(c, sizeof(ngx_http_airouter_events_channel_t));

    ch = &amcf->config->channels[i];

    c->enabled = ch->enabled
                 && !ngx_http_airouter_switch_channel_off(amcf, ch->id);

    if (ngx_http_airouter_live_info(amcf, i, NULL, &info) == NGX_OK
        && info.until > ngx_time())
    {
        c->blocked = 1;
        c->fault = info.fault;
        c->until = info.until;
    }
}


static u_char *
ngx_http_airouter_events_channel(u_char *p, u_char *end, const char *id,
    ngx_http_airouter_events_channel_t *c)
{
    const char  *reason;

    reason = c->blocked ? airouter_fault_name(c->fault) : NULL;

    p = ngx_slprintf(p, end, "{\"channel\":");
    p = ngx_http_airouter_events_str(p, end, (u_char *) id);
    p = ngx_slprintf(p, end, ",\"enabled\":%s,\"blocked\":%s,\"reason\":",
                     c->enabled ? "true" : "false",
                     c->blocked ? "true" : "false");

    if (reason) {
        p = ngx_http_airouter_events_str(p, end, (u_char *) reason);
        p = ngx_slprintf(p, end, ",\"until\":%T}", c->until);

    } else {
        p = ngx_slprintf(p, end, "null,\"until\":null}");
    }

    return p;
}


/* the strategy in force: the admin's, or the configuration's */
static void
ngx_http_airouter_events_current(ngx_http_airouter_main_conf_t *amcf,
    u_char *buf)
{
    const char  *dflt;

    if (ngx_http_airouter_switch_strategy(amcf, buf,
                                          NGX_HTTP_AIROUTER_SWITCH_STRATEGY)
        == NGX_OK)
    {
        return;
    }

    dflt = amcf->config->routing.default_strategy;
    ngx_http_airouter_history_copy(buf, NGX_HTTP_AIROUTER_SWITCH_STRATEGY,
                                   (u_char *) dflt,
                                   dflt ? ngx_strlen(dflt) : 0);
}


/* a JSON string: '"' and '\' escaped, other bytes below 0x20 as \u00XX */
static u_char *
ngx_http_airouter_events_str(u_char *p, u_char *end, const u_char *s)
{
    static const u_char  hex[] = "0123456789abcdef";

    if (p < end) {
        *p++ = '"';
    }

    for ( /* void */ ; *s && end - p > 6; s++) {
        if (*s == '"' || *s == '\\') {
            *p++ = '\\';
            *p++ = *s;

        } else if (*s < 0x20) {
            p = ngx_cpymem(p, "\\u00", 4);
            *p++ = hex[*s >> 4];
            *p++ = hex[*s & 0xf];

        } else {
            *p++ = *s;
        }
    }

    if (p < end) {
        *p++ = '"';
    }

    return p;
}


/* NGX_OK (sent or on its way), or NGX_ERROR: the stream is over */
static ngx_int_t
ngx_http_airouter_events_send(ngx_http_airouter_events_t *es)
{
    ngx_int_t  rc;

    if (es->buf->last == es->buf->pos) {
        return NGX_OK;
    }

    es->buf->flush = 1;
    es->out.next = NULL;

    rc = ngx_http_output_filter(es->request, &es->out);

    return rc == NGX_ERROR ? NGX_ERROR : NGX_OK;
}


static void
ngx_http_airouter_events_write(ngx_http_request_t *r)
{
    ngx_connection_t  *c;

    c = r->connection;

    if (c->write->timedout) {
        c->timedout = 1;
        ngx_http_finalize_request(r, NGX_HTTP_REQUEST_TIME_OUT);
        return;
    }

    if (ngx_http_output_filter(r, NULL) == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_ERROR);
    }
}


static void
ngx_http_airouter_events_cleanup(void *data)
{
    ngx_http_airouter_events_t *es = data;

    if (es->timer.timer_set) {
        ngx_del_timer(&es->timer);
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, es->timer.log, 0,
                   "airouter events: stream closed");
}
