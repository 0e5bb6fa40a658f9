/*
 * Peer selection and keepalive, the proxy's nginx peer callbacks (set by
 * ngx_http_airouter_proxy_peer_init, the upstream's peer.init):
 *
 *   peer.init    tries = candidates, capped by routing.max_retry_attempts
 *   peer.get     before every try: the next candidate live state lets
 *                through, and for a channel with several keys its next
 *                live key; address, TLS name, the try's request
 *                (ngx_http_airouter_proxy_build); an idle connection from
 *                the per-worker keepalive cache when one fits
 *   peer.free    reports the attempt to live state; keeps the connection;
 *                a fault that stayed with the key (live state says so)
 *                gives the same candidate one more try with another key
 *
 * Also the keepalive cache itself (get, save, close of idle connections),
 * the TLS session kept per channel, and what the attempts came to: to live
 * state (report) and to the request's context (publish: ctx->result, which
 * the stats and the $airouter_* variables read).  Called by nginx's
 * upstream code and by the proxy files above (report, publish, parse state
 * reset, use); calls live state and the request builder.
 */

#include "ngx_http_airouter_proxy_impl.h"


#define NGX_HTTP_AIROUTER_KEEPALIVE_IDLE  60000


static ngx_int_t ngx_http_airouter_proxy_peer_get(ngx_peer_connection_t *pc,
    void *data);
static void ngx_http_airouter_proxy_peer_free(ngx_peer_connection_t *pc,
    void *data, ngx_uint_t state);
static ngx_int_t ngx_http_airouter_keepalive_get(ngx_peer_connection_t *pc,
    ngx_http_airouter_proxy_ctx_t *p);
static void ngx_http_airouter_keepalive_save(ngx_peer_connection_t *pc,
    ngx_http_airouter_proxy_ctx_t *p, ngx_uint_t state);
static void ngx_http_airouter_keepalive_dummy_handler(ngx_event_t *ev);
static void ngx_http_airouter_keepalive_close_handler(ngx_event_t *ev);
static void ngx_http_airouter_keepalive_close(ngx_connection_t *c);

#if (NGX_HTTP_SSL)
static ngx_int_t ngx_http_airouter_proxy_set_session(
    ngx_peer_connection_t *pc, void *data);
static void ngx_http_airouter_proxy_save_session(ngx_peer_connection_t *pc,
    void *data);
#endif


/* The answer's parse state, before each try: peer.get and reinit. */
void
ngx_http_airouter_proxy_parse_reset(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p)
{
    r->state = 0;
    p->state = NGX_HTTP_AIROUTER_ST_STATUS;
    ngx_memzero(&p->status, sizeof(ngx_http_status_t));
    ngx_memzero(&p->chunked, sizeof(ngx_http_chunked_t));

    /* each candidate's answer says its own encoding */
    p->encoding = NGX_HTTP_AIROUTER_ENC_IDENTITY;
    p->zraw = 0;
    p->zreading = 0;
}


/*
 * p->try becomes the try nginx's upstream connects and sends: its request
 * and its channel's TLS name.  After peer.get built it, and when a hedge
 * puts a try back.
 */
void
ngx_http_airouter_proxy_use(ngx_http_airouter_proxy_ctx_t *p)
{
    ngx_http_upstream_t  *u;

    u = p->request->upstream;

    u->uri = p->try.uri;
    u->request_bufs = p->try.request;

#if (NGX_HTTP_SSL)
    u->ssl = p->try.channel->ep->https;
    u->ssl_name = p->try.channel->ep->name;
#endif
}


/*
 * The request's result (ctx->result) brought up to date with the attempts
 * so far.  Called wherever its readers may look next: at the start, when
 * the answer's head leaves (ngx_http_airouter_proxy_reply.c) and when the
 * upstream ends; the stats and the $airouter_* variables read the context
 * and never call the proxy.
 */
void
ngx_http_airouter_proxy_publish(ngx_http_airouter_proxy_ctx_t *p)
{
    const char                  *name;
    airouter_config_t           *acf;
    ngx_http_airouter_result_t  *res;

    res = &p->ctx->result;
    acf = p->ctx->amcf->config;

    ngx_memzero(res, sizeof(ngx_http_airouter_result_t));

    res->proxied = 1;
    res->key = -1;
    res->ttfb = (ngx_msec_t) -1;

    if (p->answered && p->try.cand) {
        res->channel.data = (u_char *) acf->channels[p->try.cand->channel].id;
        res->channel.len = ngx_strlen(res->channel.data);
        res->model = p->try.cand->model;
        res->ttfb = p->try.ttfb;

        if (p->try.channel->ep->nauth > 1) {
            res->key = p->try.key;
        }
    }

    if (p->aborted) {
        name = "client_closed";

    } else if (p->try.cand == NULL) {
        name = "no_candidate";

    } else {
        name = airouter_fault_name(p->try.fault);
    }

    res->status.data = (u_char *) name;
    res->status.len = ngx_strlen(name);
}


ngx_int_t
ngx_http_airouter_proxy_peer_init(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us)
{
    ngx_http_upstream_t            *u;
    ngx_http_airouter_ctx_t        *ctx;
    ngx_http_airouter_proxy_ctx_t  *p;

    ctx = ngx_http_get_module_ctx(r, ngx_http_airouter_module);
    p = ctx->proxy;
    u = r->upstream;

    u->peer.data = p;
    u->peer.get = ngx_http_airouter_proxy_peer_get;
    u->peer.free = ngx_http_airouter_proxy_peer_free;
    u->peer.tries = ngx_min(ctx->candidates.nelts, p->pm->max_tries);

#if (NGX_HTTP_SSL)
    u->peer.set_session = ngx_http_airouter_proxy_set_session;
    u->peer.save_session = ngx_http_airouter_proxy_save_session;
#endif

    return NGX_OK;
}


/*
 * Before every try: the next candidate that live state lets through.
 * Candidates it holds back are noted as skipped, not tried.
 */
static ngx_int_t
ngx_http_airouter_proxy_peer_get(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_airouter_proxy_ctx_t *p = data;

    ngx_int_t                        rc;
    ngx_str_t                        native;
    ngx_uint_t                       probe, key, i;
    airouter_dialect_e               up;
    ngx_http_request_t              *r;
    ngx_http_airouter_ctx_t         *ctx;
    ngx_http_airouter_channel_t     *ch;
    ngx_http_airouter_candidate_t   *c;
    ngx_http_airouter_live_block_t   block;

    r = p->request;
    ctx = p->ctx;
    pc->cached = 0;
    pc->connection = NULL;

    if (p->retry_same) {
        /* a stale idle connection failed: same candidate, new connection */
        p->retry_same = 0;
        c = p->try.cand;
        ch = p->try.channel;
        goto again;
    }

    if (p->retry_key) {
        /* the last try's key failed alone: the same candidate again */
        p->retry_key = 0;
        p->next--;
    }

    c = ctx->candidates.elts;

    for ( /* void */ ; p->next < ctx->candidates.nelts; p->next++) {

        ch = &p->pm->channels[c[p->next].channel];

        up = ngx_http_airouter_proxy_upstream(p, c[p->next].channel);

        if (up != AIROUTER_DIALECT_OPENAI
            && ngx_http_airouter_proxy_native(r, p, up, &native) != NGX_OK)
        {
            /* the request has no words in that channel's dialect */
            ngx_http_airouter_proxy_record(p, c[p->next].channel,
                                           &c[p->next].model,
                                           AIROUTER_FAULT_BAD_REQUEST, 0, 1);
            continue;
        }

        if (ch->ep->addr == NULL) {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "airouter: peer get: \"%s\" model \"%V\" "
                           "skipped: no address",
                           ctx->amcf->config->channels[c[p->next].channel].id,
                           &c[p->next].model);

            ngx_http_airouter_proxy_record(p, c[p->next].channel,
                                           &c[p->next].model,
                                           AIROUTER_FAULT_CONNECT, 0, 1);
            continue;
        }

        rc = ngx_http_airouter_live_pick_key(ctx->amcf, c[p->next].channel,
                                             ch->ep->nauth, c[p->next].keys,
                                             &key, &block);

        if (rc == NGX_DECLINED) {
            /* every key of the channel is cooling down or dead */
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "airouter: peer get: \"%s\" model \"%V\" "
                           "skipped: every key is cooling down",
                           ctx->amcf->config->channels[c[p->next].channel].id,
                           &c[p->next].model);

            ngx_http_airouter_proxy_record(p, c[p->next].channel,
                                           &c[p->next].model,
                                           block.fault ? block.fault
                                           : AIROUTER_FAULT_RATE_LIMIT, 0, 1);
            continue;
        }

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "airouter: key choice: \"%s\" key#%ui of %ui "
                       "(live state's turn)",
                       ctx->amcf->config->channels[c[p->next].channel].id,
                       key, ch->ep->nauth);

        if (rc == NGX_DONE) {
            /* no live state: this worker's own turn, among the keys
             * that list the model */
            key = ch->next_auth % ch->ep->nauth;

            for (i = 0; i < ch->ep->nauth; i++) {
                key = ch->next_auth++ % ch->ep->nauth;

                if (ngx_http_airouter_live_key_lists(c[p->next].keys, key)) {
                    break;
                }
            }

            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "airouter: key choice: no live state, key#%ui "
                           "by this worker's turn of %ui", key,
                           ch->ep->nauth);
        }

        if (ngx_http_airouter_live_acquire(ctx->amcf, c[p->next].channel,
                                  &c[p->next].model,
                                  ngx_http_airouter_proxy_scope(p,
                                                     c[p->next].channel),
                                  &probe, &block)
            != NGX_OK)
        {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "airouter: peer get: \"%s\" model \"%V\" "
                           "skipped: live state keeps it away",
                           ctx->amcf->config->channels[c[p->next].channel].id,
                           &c[p->next].model);

            ngx_http_airouter_proxy_record(p, c[p->next].channel,
                                           &c[p->next].model,
                                           block.fault ? block.fault
                                           : AIROUTER_FAULT_SERVER, 0, 1);
            continue;
        }

        c = &c[p->next++];
        p->try.probe = probe;
        p->try.key = key;
        p->try.acquired = 1;
        p->try.cand = c;
        p->try.channel = ch;

        goto found;
    }

    return NGX_BUSY;

found:

    ctx->attempts++;

again:

    p->try.start = ngx_current_msec;
    p->try.ttfb = (ngx_msec_t) -1;
    ngx_http_airouter_proxy_parse_reset(r, p);
    p->try.fault = AIROUTER_FAULT_NONE;
    p->try.classified = 0;
    p->try.complete = 0;

    pc->sockaddr = ch->ep->addr->sockaddr;
    pc->socklen = ch->ep->addr->socklen;
    pc->name = &ch->ep->addr->name;

    ngx_log_debug6(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "airouter: peer get: attempt %ui \"%s\" model \"%V\" "
                   "key#%ui at %V%s", ctx->attempts,
                   ctx->amcf->config->channels[p->try.cand->channel].id,
                   &p->try.cand->model, p->try.key, pc->name,
                   p->try.probe ? " (probe)" : "");

    if (ngx_http_airouter_proxy_build(r, p) != NGX_OK) {
        /* our failure, not the channel's */
        ngx_http_airouter_proxy_report(p, 1);
        pc->sockaddr = NULL;
        return NGX_ERROR;
    }

    ngx_http_airouter_proxy_use(p);

    rc = ngx_http_airouter_keepalive_get(pc, p);

    return rc;
}


static void
ngx_http_airouter_proxy_peer_free(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state)
{
    ngx_http_airouter_proxy_ctx_t *p = data;

    u_char                    kbuf[NGX_INT_T_LEN + 8];
    ngx_str_t                 empty = ngx_null_string;
    ngx_str_t                 kname;
    ngx_uint_t                status;
    ngx_connection_t         *c;
    ngx_http_request_t       *r;
    ngx_http_upstream_t      *u;
    ngx_http_airouter_ctx_t  *ctx;

    r = p->request;
    u = r->upstream;
    ctx = p->ctx;
    c = pc->connection;

    if (pc->tries) {
        pc->tries--;
    }

    if (!p->try.acquired) {
        return;
    }

    if ((state & NGX_PEER_FAILED) && pc->cached && !p->try.classified
        && p->state == NGX_HTTP_AIROUTER_ST_STATUS
        && c && !c->read->timedout && !c->write->timedout)
    {
        /* nginx gives this try back (u->peer.tries++): so do we */
        p->retry_same = 1;
        return;
    }

    if (!p->try.classified) {
        if (c && (c->read->timedout || c->write->timedout)) {
            p->try.fault = AIROUTER_FAULT_TIMEOUT;

        } else if (p->state != NGX_HTTP_AIROUTER_ST_STATUS
                   || u->request_sent)
        {
            /* it took the request, then failed it: not the whole host */
            p->try.fault = AIROUTER_FAULT_SERVER;

        } else {
            p->try.fault = AIROUTER_FAULT_CONNECT;
        }

        p->verdict = airouter_outcome_verdict(&p->pm->outcomes,
                                              p->try.fault, -1);
        p->try.classified = 1;

    } else {
        p->verdict = airouter_outcome_verdict(&p->pm->outcomes, p->try.fault,
                                              p->retry_after);
    }

    ngx_log_debug6(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "airouter: peer free: \"%s\" state %ui: %s, retry %ui, "
                   "cooldown %l s%s",
                   ctx->amcf->config->channels[p->try.cand->channel].id, state,
                   airouter_fault_name(p->try.fault),
                   (ngx_uint_t) p->verdict.retry, p->verdict.cooldown,
                   p->aborted ? " (client gone: nothing learned)" : "");

    ngx_http_airouter_proxy_report(p, p->aborted);

    if (p->try.fault != AIROUTER_FAULT_NONE
        && p->try.fault != AIROUTER_FAULT_BAD_REQUEST && !p->aborted)
    {
        status = (p->state == NGX_HTTP_AIROUTER_ST_STATUS)
                 ? 0 : u->headers_in.status_n;

        /* a key is named by its index, never by its value */
        kname = empty;

        if (p->try.channel->ep->nauth > 1) {
            kname.data = kbuf;
            kname.len = ngx_sprintf(kbuf, " key#%ui", p->try.key) - kbuf;
        }

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "airouter: \"%s\" model \"%V\"%V: %s%s%V, "
                      "%s cooldown %l s",
                      ctx->amcf->config->channels[p->try.cand->channel].id,
                      &p->try.cand->model, &kname,
                      airouter_fault_name(p->try.fault),
                      status ? " " : "", status ? &u->headers_in.status_line
                                                : &empty,
                      p->keyed ? "key"
                      : p->scoped ? "endpoint (until discovery confirms)"
                      : airouter_scope_name(p->verdict.scope),
                      p->scoped ? (long) p->scoped : p->verdict.cooldown);

        if (!p->answered) {
            ngx_http_airouter_proxy_record(p, p->try.cand->channel,
                                           &p->try.cand->model, p->try.fault,
                                           status, 0);
        }

        /* another key of the same channel may serve it: one more try */
        if (p->keyed && !p->answered && p->verdict.retry
            && p->key_retries + 1 < p->try.channel->ep->nauth)
        {
            p->key_retries++;
            p->retry_key = 1;
            pc->tries++;
        }
    }

    ngx_http_airouter_keepalive_save(pc, p, state);
}


/*
 * The attempt's outcome to live state; an attempt that taught nothing (the
 * client left, a stale idle connection) only gives back what it held.
 */
void
ngx_http_airouter_proxy_report(ngx_http_airouter_proxy_ctx_t *p,
    ngx_uint_t nothing_learned)
{
    airouter_fault_e                  fault;
    ngx_http_airouter_live_report_t   report;

    fault = nothing_learned ? AIROUTER_FAULT_BAD_REQUEST : p->try.fault;

    ngx_memzero(&report, sizeof(ngx_http_airouter_live_report_t));
    report.fault = fault;
    report.verdict = nothing_learned
                     ? airouter_outcome_verdict(&p->pm->outcomes, fault, -1)
                     : p->verdict;

    /* a channel with balance checks keeps its free models when spent */
    airouter_outcome_channel(&report.verdict, fault,
                             &p->ctx->amcf->config
                                  ->channels[p->try.cand->channel]);
    if (!nothing_learned) {
        p->verdict = report.verdict;
    }
    report.ttfb = p->try.ttfb;
    report.total = ngx_current_msec - p->try.start;
    /* the answer's usage, read by then: live state's writing speed */
    report.tokens = p->ctx->completion_tokens;
    report.probe = p->try.probe;
    report.key = p->try.key;
    report.nkeys = p->try.channel->ep->nauth;
    report.scope = ngx_http_airouter_proxy_scope(p, p->try.cand->channel);

    ngx_http_airouter_live_release(p->ctx->amcf, p->try.cand->channel,
                                   &p->try.cand->model, &report);
    p->try.acquired = 0;
    p->keyed = report.keyed;
    p->scoped = report.scoped;
}


/* An attempt that failed (or a candidate skipped), for X-Router-Fallbacks. */
void
ngx_http_airouter_proxy_record(ngx_http_airouter_proxy_ctx_t *p,
    ngx_uint_t channel, ngx_str_t *model, airouter_fault_e fault,
    ngx_uint_t status, ngx_uint_t skipped)
{
    ngx_http_airouter_attempt_t  *a;

    a = ngx_array_push(&p->attempts);
    if (a == NULL) {
        return;
    }

    a->channel = channel;
    a->model = *model;
    a->fault = fault;
    a->status = status;
    a->skipped = skipped;
    a->key = (!skipped && p->try.cand && p->try.cand->channel == channel
              && p->try.channel->ep->nauth > 1) ? (ngx_int_t) p->try.key : -1;
}


/*
 * The keepalive cache: idle connections per worker, as
 * ngx_http_upstream_keepalive_module keeps them, keyed by address and TLS
 * name (one host serves several channels; a TLS connection is bound to
 * the name it was opened for).
 */
static ngx_int_t
ngx_http_airouter_keepalive_get(ngx_peer_connection_t *pc,
    ngx_http_airouter_proxy_ctx_t *p)
{
    ngx_uint_t                       i;
    ngx_queue_t                     *q;
    ngx_connection_t                *c;
    ngx_http_airouter_keepalive_t   *item;
    ngx_http_airouter_proxy_conf_t  *pcf;

    pcf = p->pcf;

    if (pcf->max_cached == 0) {
        return NGX_OK;
    }

    if (!pcf->cache_ready) {
        /* first use in this worker */
        item = ngx_pcalloc(ngx_cycle->pool, pcf->max_cached
                                    * sizeof(ngx_http_airouter_keepalive_t));
        if (item == NULL) {
            return NGX_OK;
        }

        ngx_queue_init(&pcf->cache);
        ngx_queue_init(&pcf->free);

        for (i = 0; i < pcf->max_cached; i++) {
            item[i].conf = pcf;
            ngx_queue_insert_head(&pcf->free, &item[i].queue);
        }

        pcf->cache_ready = 1;
    }

    for (q = ngx_queue_head(&pcf->cache);
         q != ngx_queue_sentinel(&pcf->cache);
         q = ngx_queue_next(q))
    {
        item = ngx_queue_data(q, ngx_http_airouter_keepalive_t, queue);

        if (item->channel->ep->https != p->try.channel->ep->https
            || item->channel->ep->name.len != p->try.channel->ep->name.len
            || ngx_strncmp(item->channel->ep->name.data,
                           p->try.channel->ep->name.data,
                           p->try.channel->ep->name.len) != 0
            || ngx_memn2cmp((u_char *) &item->sockaddr,
                            (u_char *) pc->sockaddr,
                            item->socklen, pc->socklen) != 0)
        {
            continue;
        }

        ngx_queue_remove(q);
        ngx_queue_insert_head(&pcf->free, q);

        c = item->connection;

        c->idle = 0;
        c->sent = 0;
        c->data = NULL;
        c->log = pc->log;
        c->read->log = pc->log;
        c->write->log = pc->log;
        c->pool->log = pc->log;

        if (c->read->timer_set) {
            ngx_del_timer(c->read);
        }

        pc->connection = c;
        pc->cached = 1;

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                       "airouter: keepalive get: idle connection %p "
                       "to %V", c, pc->name);

        return NGX_DONE;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                   "airouter: keepalive get: no idle connection to %V, "
                   "a new one", pc->name);

    return NGX_OK;
}


static void
ngx_http_airouter_keepalive_save(ngx_peer_connection_t *pc,
    ngx_http_airouter_proxy_ctx_t *p, ngx_uint_t state)
{
    ngx_queue_t                     *q;
    ngx_connection_t                *c;
    ngx_http_upstream_t             *u;
    ngx_http_airouter_keepalive_t   *item;
    ngx_http_airouter_proxy_conf_t  *pcf;

    pcf = p->pcf;
    u = p->request->upstream;
    c = pc->connection;

    if (!pcf->cache_ready
        || (state & NGX_PEER_FAILED)
        || c == NULL
        || c->read->eof
        || c->read->error
        || c->read->timedout
        || c->write->error
        || c->write->timedout
        || !u->keepalive
        || !u->request_body_sent
        || ngx_terminate
        || ngx_exiting
        || ngx_handle_read_event(c->read, 0) != NGX_OK)
    {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                       "airouter: keepalive save: connection %p not kept "
                       "(state %ui)", c, state);
        return;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                   "airouter: keepalive save: connection %p to %V kept%s",
                   c, pc->name, ngx_queue_empty(&pcf->free)
                                ? ", the oldest closed" : "");

    if (ngx_queue_empty(&pcf->free)) {
        q = ngx_queue_last(&pcf->cache);
        ngx_queue_remove(q);

        item = ngx_queue_data(q, ngx_http_airouter_keepalive_t, queue);
        ngx_http_airouter_keepalive_close(item->connection);

    } else {
        q = ngx_queue_head(&pcf->free);
        ngx_queue_remove(q);

        item = ngx_queue_data(q, ngx_http_airouter_keepalive_t, queue);
    }

    ngx_queue_insert_head(&pcf->cache, q);

    item->connection = c;
    item->channel = p->try.channel;
    item->socklen = pc->socklen;
    ngx_memcpy(&item->sockaddr, pc->sockaddr, pc->socklen);

    pc->connection = NULL;

    c->read->delayed = 0;
    ngx_add_timer(c->read, NGX_HTTP_AIROUTER_KEEPALIVE_IDLE);

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    c->write->handler = ngx_http_airouter_keepalive_dummy_handler;
    c->read->handler = ngx_http_airouter_keepalive_close_handler;

    c->data = item;
    c->idle = 1;
    c->log = ngx_cycle->log;
    c->read->log = ngx_cycle->log;
    c->write->log = ngx_cycle->log;
    c->pool->log = ngx_cycle->log;

    if (c->read->ready) {
        ngx_http_airouter_keepalive_close_handler(c->read);
    }
}


static void
ngx_http_airouter_keepalive_dummy_handler(ngx_event_t *ev)
{
    return;
}


/* An idle connection that becomes readable is closing (or misbehaving). */
static void
ngx_http_airouter_keepalive_close_handler(ngx_event_t *ev)
{
    int                              n;
    char                             buf[1];
    ngx_connection_t                *c;
    ngx_http_airouter_keepalive_t   *item;

    c = ev->data;

    if (c->close || c->read->timedout) {
        goto close;
    }

    n = recv(c->fd, buf, 1, MSG_PEEK);

    if (n == -1 && ngx_socket_errno == NGX_EAGAIN) {
        ev->ready = 0;

        if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
            goto close;
        }

        return;
    }

close:

    item = c->data;

    ngx_http_airouter_keepalive_close(c);

    ngx_queue_remove(&item->queue);
    ngx_queue_insert_head(&item->conf->free, &item->queue);
}


static void
ngx_http_airouter_keepalive_close(ngx_connection_t *c)
{
#if (NGX_HTTP_SSL)

    if (c->ssl) {
        c->ssl->no_wait_shutdown = 1;
        c->ssl->no_send_shutdown = 1;

        if (ngx_ssl_shutdown(c) == NGX_AGAIN) {
            c->ssl->handler = ngx_http_airouter_keepalive_close;
            return;
        }
    }

#endif

    ngx_destroy_pool(c->pool);
    ngx_close_connection(c);
}


#if (NGX_HTTP_SSL)

/* One TLS session per channel and worker, resumed by the next handshake. */
static ngx_int_t
ngx_http_airouter_proxy_set_session(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_airouter_proxy_ctx_t *p = data;

    if (p->try.channel == NULL || p->try.channel->session == NULL) {
        return NGX_OK;
    }

    return ngx_ssl_set_session(pc->connection, p->try.channel->session);
}


static void
ngx_http_airouter_proxy_save_session(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_airouter_proxy_ctx_t *p = data;

    ngx_ssl_session_t  *session;

    if (p->try.channel == NULL) {
        return;
    }

    session = ngx_ssl_get_session(pc->connection);
    if (session == NULL) {
        return;
    }

    if (p->try.channel->session) {
        ngx_ssl_free_session(p->try.channel->session);
    }

    p->try.channel->session = session;
}

#endif
