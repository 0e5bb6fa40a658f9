/*
 * Hedged requests (routing.hedging): when the current try has sent no
 * byte `after` it started, the next candidate starts beside it on a
 * connection of its own (ngx_http_airouter_hedge.c); the first good
 * answer wins and the other connection is closed at once.
 *
 * nginx runs one upstream connection per request, so the hedge joins it
 * the way the keepalive module joins it: by wrapping the peer callbacks.
 * A request the API handler marked as hedgeable gets, at peer.init:
 *
 *   peer.get     the proxy's own (which picks, acquires and builds), and
 *                the hedge's timer armed for the try; once a hedge runs,
 *                the next try is the hedge: its connection is handed over
 *                with an empty request (the hedge sent it), so nginx reads
 *                its answer from the first byte and the proxy judges it
 *                like any try's
 *   peer.free    the proxy's own, except for a first try dropped because
 *                the hedge answered first: it gives back what it held and
 *                teaches live state nothing (it did not fail)
 *   process_header   the proxy's judge; a first try whose answer is
 *                passed on wins, and a hedge still running is closed
 *
 * The timer picks the hedge's candidate by calling the proxy's peer.get
 * on a scratch peer (so the hedge goes where the next try would), keeps
 * what it chose and puts the first try's state back.  A hedge whose
 * status line is a 2xx while the first try has sent nothing wins: the
 * first try's connection is made to fail once (its recv reports an
 * error), nginx's own next_upstream closes it and asks peer.get for the
 * next try, which is the hedge.  A hedge answering another status waits
 * unread: it is the next try only if the first one fails.  A hedge that
 * fails, or whose error answer came before the first try's passed-on
 * answer, is its channel's failed try (live state, X-Router-Fallbacks).
 *
 * The loser's prompt, when its request went out whole, is added to the
 * request's cost at the loser's prompt price (bill_loser: prompt).
 *
 * Called by nginx's upstream code (peer.init is set by
 * ngx_http_airouter_proxy.c); calls the proxy's peer code and builder, the
 * hedge's connection and live state.
 */

#include "ngx_http_airouter_proxy_impl.h"
#include "ngx_http_airouter_hedge.h"


/* `after: p95` with nothing measured yet */
#define NGX_HTTP_AIROUTER_HEDGE_DEFAULT_AFTER  1000


typedef struct {
    ngx_http_request_t              *request;
    ngx_http_airouter_proxy_ctx_t   *proxy;

    ngx_event_get_peer_pt            get;
    ngx_event_free_peer_pt           free;
    ngx_int_t                      (*process_header)(ngx_http_request_t *r);

    ngx_event_t                      timer;
    ngx_msec_t                       after;

    ngx_http_airouter_hedge_t        hedge;
    ngx_http_airouter_proxy_try_t    try;       /* the hedge's */
    struct sockaddr                 *sockaddr;
    socklen_t                        socklen;
    ngx_str_t                       *name;

    unsigned                         started:1;
    unsigned                         acquired:1;    /* the hedge's hold in
                                                       live state */
    unsigned                         adopted:1;
    unsigned                         switching:1;
    unsigned                         bytes:1;       /* the current try has
                                                       answered something */
} ngx_http_airouter_proxy_hedge_t;


static ngx_int_t ngx_http_airouter_proxy_hedge_get(ngx_peer_connection_t *pc,
    void *data);
static void ngx_http_airouter_proxy_hedge_free(ngx_peer_connection_t *pc,
    void *data, ngx_uint_t state);
static ngx_int_t ngx_http_airouter_proxy_hedge_process_header(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_airouter_proxy_hedge_adopt(
    ngx_peer_connection_t *pc, ngx_http_airouter_proxy_hedge_t *hs);
static void ngx_http_airouter_proxy_hedge_timer(ngx_event_t *ev);
static void ngx_http_airouter_proxy_hedge_start(
    ngx_http_airouter_proxy_hedge_t *hs);
static void ngx_http_airouter_proxy_hedge_handler(
    ngx_http_airouter_hedge_t *h);
static void ngx_http_airouter_proxy_hedge_lose(
    ngx_http_airouter_proxy_hedge_t *hs);
static void ngx_http_airouter_proxy_hedge_release(
    ngx_http_airouter_proxy_hedge_t *hs);
static void ngx_http_airouter_proxy_hedge_failed(
    ngx_http_airouter_proxy_hedge_t *hs, airouter_fault_e fault,
    ngx_uint_t status);
static void ngx_http_airouter_proxy_hedge_bill(
    ngx_http_airouter_proxy_hedge_t *hs, ngx_http_airouter_candidate_t *c);
static ngx_msec_t ngx_http_airouter_proxy_hedge_after(
    ngx_http_airouter_proxy_hedge_t *hs);
static ssize_t ngx_http_airouter_proxy_hedge_refuse(ngx_connection_t *c,
    u_char *buf, size_t size);
static void ngx_http_airouter_proxy_hedge_cleanup(void *data);


ngx_int_t
ngx_http_airouter_proxy_hedge_peer_init(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us)
{
    ngx_http_upstream_t              *u;
    ngx_pool_cleanup_t               *cln;
    ngx_http_airouter_ctx_t          *ctx;
    const airouter_hedging_t         *conf;
    ngx_http_airouter_proxy_ctx_t    *p;
    ngx_http_airouter_proxy_hedge_t  *hs;

    if (ngx_http_airouter_proxy_peer_init(r, us) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_airouter_module);
    p = ctx->proxy;
    u = r->upstream;
    conf = &ctx->amcf->config->routing.hedging;

    /* a hedge needs a candidate and a try of its own */
    if (!ctx->hedge || !conf->enabled || conf->max_hedges < 1
        || ctx->candidates.nelts < 2 || u->peer.tries < 2)
    {
        return NGX_OK;
    }

    hs = ngx_pcalloc(r->pool, sizeof(ngx_http_airouter_proxy_hedge_t));
    if (hs == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_airouter_proxy_hedge_cleanup;
    cln->data = hs;

    hs->request = r;
    hs->proxy = p;

    hs->get = u->peer.get;
    hs->free = u->peer.free;
    hs->process_header = u->process_header;

    u->peer.get = ngx_http_airouter_proxy_hedge_get;
    u->peer.free = ngx_http_airouter_proxy_hedge_free;
    u->process_header = ngx_http_airouter_proxy_hedge_process_header;

    hs->timer.handler = ngx_http_airouter_proxy_hedge_timer;
    hs->timer.data = hs;
    hs->timer.log = r->connection->log;

    p->hedge = hs;

    return NGX_OK;
}


static ngx_int_t
ngx_http_airouter_proxy_hedge_get(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_airouter_proxy_ctx_t *p = data;

    ngx_int_t                         rc;
    ngx_http_airouter_proxy_hedge_t  *hs;

    hs = p->hedge;
    hs->bytes = 0;

    if (hs->started && !hs->adopted && hs->acquired) {
        return ngx_http_airouter_proxy_hedge_adopt(pc, hs);
    }

    /* a later try answers, not the hedge */
    p->ctx->hedge_wins = 0;

    rc = hs->get(pc, data);

    if (hs->timer.timer_set) {
        ngx_del_timer(&hs->timer);
    }

    if ((rc == NGX_OK || rc == NGX_DONE) && !hs->started) {
        hs->after = ngx_http_airouter_proxy_hedge_after(hs);
        ngx_add_timer(&hs->timer, hs->after);
    }

    return rc;
}


/*
 * The hedge is the next try.  Its connection goes to nginx as it is, with
 * an empty request (one flush buffer: the hedge wrote the request);
 * nginx then reads the answer as its own.  A hedge still connecting is
 * closed and its candidate tried on a new connection.
 */
static ngx_int_t
ngx_http_airouter_proxy_hedge_adopt(ngx_peer_connection_t *pc,
    ngx_http_airouter_proxy_hedge_t *hs)
{
    ngx_buf_t                      *b;
    ngx_chain_t                    *cl;
    ngx_connection_t               *c;
    ngx_http_request_t             *r;
    ngx_http_airouter_proxy_ctx_t  *p;

    r = hs->request;
    p = hs->proxy;

    if (hs->timer.timer_set) {
        ngx_del_timer(&hs->timer);
    }

    hs->adopted = 1;
    hs->acquired = 0;

    /* the hedge is the next try, not another key or a fresh connection */
    p->retry_same = 0;
    p->retry_key = 0;

    p->try = hs->try;
    p->try.acquired = 1;
    p->try.ttfb = (ngx_msec_t) -1;
    p->try.fault = AIROUTER_FAULT_NONE;
    p->try.classified = 0;
    p->try.complete = 0;
    ngx_http_airouter_proxy_parse_reset(r, p);

    pc->sockaddr = hs->sockaddr;
    pc->socklen = hs->socklen;
    pc->name = hs->name;
    pc->cached = 0;
    pc->connection = NULL;

    c = ngx_http_airouter_hedge_take(&hs->hedge);

    if (c == NULL) {
        /*
         * not even sent: the same candidate on a connection of nginx's,
         * an ordinary next try (its answer is no hedge's: no hedge win)
         */
        ngx_http_airouter_hedge_close(&hs->hedge);

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "airouter: hedge: \"%s\" is the next try, on a new "
                       "connection",
                       p->ctx->amcf->config->channels[p->try.cand->channel].id);

        p->try.start = ngx_current_msec;

        if (ngx_http_airouter_proxy_build(r, p) != NGX_OK) {
            ngx_http_airouter_proxy_report(p, 1);
            pc->sockaddr = NULL;
            return NGX_ERROR;
        }

        ngx_http_airouter_proxy_use(p);

        return NGX_OK;
    }

    b = ngx_calloc_buf(r->pool);
    cl = ngx_alloc_chain_link(r->pool);

    if (b == NULL || cl == NULL) {
        ngx_close_connection(c);
        ngx_http_airouter_proxy_report(p, 1);
        pc->sockaddr = NULL;
        return NGX_ERROR;
    }

    b->flush = 1;
    cl->buf = b;
    cl->next = NULL;
    p->try.request = cl;
    ngx_http_airouter_proxy_use(p);

    pc->connection = c;

    /* whatever it answered, the answer is the hedge's */
    p->ctx->hedge_wins = 1;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "airouter: hedge: \"%s\" is the next try, on its own "
                   "connection (status %ui)",
                   p->ctx->amcf->config->channels[p->try.cand->channel].id,
                   hs->hedge.status);

    return NGX_DONE;
}


static void
ngx_http_airouter_proxy_hedge_free(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state)
{
    ngx_http_airouter_proxy_ctx_t *p = data;

    ngx_http_airouter_proxy_hedge_t  *hs;

    hs = p->hedge;

    if (!hs->switching) {
        hs->free(pc, data, state);
        return;
    }

    /* dropped for the hedge: not a failure; the hedge takes its try */
    hs->switching = 0;

    if (pc->tries) {
        pc->tries--;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                   "airouter: hedge: first try \"%s\" dropped, the hedge "
                   "answered first",
                   p->ctx->amcf->config->channels[p->try.cand->channel].id);

    if (p->request->upstream->request_body_sent) {
        ngx_http_airouter_proxy_hedge_bill(hs, p->try.cand);
    }

    if (p->try.acquired) {
        ngx_http_airouter_proxy_report(p, 1);
    }
}


static ngx_int_t
ngx_http_airouter_proxy_hedge_process_header(ngx_http_request_t *r)
{
    ngx_int_t                         rc;
    ngx_http_airouter_ctx_t          *ctx;
    ngx_http_airouter_proxy_hedge_t  *hs;

    ctx = ngx_http_get_module_ctx(r, ngx_http_airouter_module);
    hs = ((ngx_http_airouter_proxy_ctx_t *) ctx->proxy)->hedge;

    hs->bytes = 1;

    rc = hs->process_header(r);

    if (rc == NGX_OK && hs->started && !hs->adopted) {
        /* the answer goes to the client: the hedge lost */
        ngx_http_airouter_proxy_hedge_lose(hs);
    }

    return rc;
}


/* `after` ms from the try's start: nothing yet, start the hedge. */
static void
ngx_http_airouter_proxy_hedge_timer(ngx_event_t *ev)
{
    ngx_http_airouter_proxy_hedge_t *hs = ev->data;

    ngx_connection_t     *c;
    ngx_http_request_t   *r;
    ngx_http_upstream_t  *u;

    r = hs->request;
    u = r->upstream;
    c = r->connection;

    if (hs->started || hs->bytes || u == NULL || u->header_sent
        || u->peer.connection == NULL || u->peer.tries < 2 || c->error)
    {
        return;
    }

    ngx_http_airouter_proxy_hedge_start(hs);
}


static void
ngx_http_airouter_proxy_hedge_start(ngx_http_airouter_proxy_hedge_t *hs)
{
    ngx_int_t                        rc;
    ngx_connection_t                *c;
    ngx_peer_connection_t            scratch;
    ngx_http_request_t              *r;
    ngx_http_upstream_t             *u;
    ngx_http_airouter_proxy_ctx_t   *p;
    ngx_http_airouter_proxy_try_t    first;
    ngx_http_airouter_proxy_conf_t  *pcf;
#if (NGX_HTTP_SSL)
    ngx_str_t                       *name;
#endif

    r = hs->request;
    u = r->upstream;
    p = hs->proxy;
    pcf = p->pcf;

    hs->started = 1;

    /* the proxy's own choice of the next try, on a scratch peer */
    first = p->try;

    ngx_memzero(&scratch, sizeof(ngx_peer_connection_t));
    scratch.log = r->connection->log;
    scratch.log_error = NGX_ERROR_ERR;

    rc = hs->get(&scratch, p);

    if (rc != NGX_OK && rc != NGX_DONE) {
        p->try = first;
        ngx_http_airouter_proxy_use(p);
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "airouter: hedge: no candidate left to hedge with");
        return;
    }

    hs->try = p->try;
    hs->acquired = 1;
    hs->sockaddr = scratch.sockaddr;
    hs->socklen = scratch.socklen;
    hs->name = scratch.name;

    p->try = first;
    ngx_http_airouter_proxy_use(p);

    if (rc == NGX_DONE) {
        /* an idle connection: the hedge's is fresh, the idle one goes */
        c = scratch.connection;

        if (c->pool) {
            ngx_destroy_pool(c->pool);
        }

        ngx_close_connection(c);
    }

    p->ctx->hedges = 1;

    hs->hedge.sockaddr = hs->sockaddr;
    hs->hedge.socklen = hs->socklen;
    hs->hedge.name = hs->name;
    hs->hedge.out = hs->try.request;
    hs->hedge.connect_timeout = u->conf->connect_timeout;
    hs->hedge.send_timeout = u->conf->send_timeout;
    hs->hedge.log = r->connection->log;
    hs->hedge.handler = ngx_http_airouter_proxy_hedge_handler;
    hs->hedge.data = hs;

#if (NGX_HTTP_SSL)
    if (hs->try.channel->ep->https) {
        hs->hedge.ssl = pcf->ssl;
        hs->hedge.verify = u->conf->ssl_verify;

        name = &hs->try.channel->ep->name;

        hs->hedge.ssl_name.data = ngx_pnalloc(r->pool, name->len + 1);
        if (hs->hedge.ssl_name.data == NULL) {
            ngx_http_airouter_proxy_hedge_release(hs);
            return;
        }

        (void) ngx_cpystrn(hs->hedge.ssl_name.data, name->data,
                           name->len + 1);
        hs->hedge.ssl_name.len = name->len;
    }
#else
    (void) pcf;
#endif

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "airouter: no first byte from \"%s\" after %M ms: "
                  "hedging with \"%s\" model \"%V\"",
                  p->ctx->amcf->config->channels[p->try.cand->channel].id,
                  hs->after,
                  p->ctx->amcf->config->channels[hs->try.cand->channel].id,
                  &hs->try.cand->model);

    if (ngx_http_airouter_hedge_start(&hs->hedge) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "airouter: hedge to \"%s\" failed: %s",
                      p->ctx->amcf->config->channels[hs->try.cand->channel].id,
                      hs->hedge.failure);
        ngx_http_airouter_proxy_hedge_failed(hs, hs->hedge.fault, 0);
    }
}


static void
ngx_http_airouter_proxy_hedge_handler(ngx_http_airouter_hedge_t *h)
{
    ngx_http_airouter_proxy_hedge_t *hs = h->data;

    ngx_connection_t               *c, *cc;
    ngx_http_request_t             *r;
    ngx_http_upstream_t            *u;
    ngx_http_airouter_proxy_ctx_t  *p;

    r = hs->request;
    u = r->upstream;
    p = hs->proxy;

    if (h->state == NGX_HTTP_AIROUTER_HEDGE_FAILED) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "airouter: hedge to \"%s\" failed: %s",
                      p->ctx->amcf->config->channels[hs->try.cand->channel].id,
                      h->failure);
        ngx_http_airouter_proxy_hedge_failed(hs, h->fault, 0);
        return;
    }

    if (h->state != NGX_HTTP_AIROUTER_HEDGE_ANSWERED
        || hs->bytes || u->header_sent || u->peer.connection == NULL)
    {
        /* an error, or the first try spoke first: it waits, unread */
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "airouter: hedge: answered %ui, waits", h->status);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "airouter: hedge \"%s\" answered first: dropping \"%s\"",
                  p->ctx->amcf->config->channels[hs->try.cand->channel].id,
                  p->ctx->amcf->config->channels[p->try.cand->channel].id);

    /*
     * The first try fails once, on purpose: nginx's next_upstream closes
     * it, our peer.free hears it was dropped, and peer.get hands over the
     * hedge, whose answer is then read at once.  The request may be
     * finished by then: nothing of it is touched afterwards.
     */
    cc = r->connection;
    c = u->peer.connection;

    hs->switching = 1;
    u->peer.cached = 0;
    c->recv = ngx_http_airouter_proxy_hedge_refuse;

    u->read_event_handler(r, u);

    ngx_http_run_posted_requests(cc);
}


/* The first try's answer is passed on: the hedge closes. */
static void
ngx_http_airouter_proxy_hedge_lose(ngx_http_airouter_proxy_hedge_t *hs)
{
    ngx_uint_t           status;
    airouter_fault_e     fault;

    if (hs->timer.timer_set) {
        ngx_del_timer(&hs->timer);
    }

    if (!hs->acquired) {
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, hs->request->connection->log, 0,
                   "airouter: hedge: \"%s\" lost, closing it",
                   hs->proxy->ctx->amcf->config
                       ->channels[hs->try.cand->channel].id);

    /* a request it took whole is billed; an error answer is not */
    if (hs->hedge.state == NGX_HTTP_AIROUTER_HEDGE_WAITING
        || hs->hedge.state == NGX_HTTP_AIROUTER_HEDGE_ANSWERED)
    {
        ngx_http_airouter_proxy_hedge_bill(hs, hs->try.cand);
    }

    /*
     * An error answer that came before the first try's is the channel's
     * failure, judged by its status line (nothing more of it was read).
     */
    if (hs->hedge.state == NGX_HTTP_AIROUTER_HEDGE_REFUSED) {
        status = hs->hedge.status;
        fault = airouter_outcome_fault(status ? AIROUTER_END_HTTP
                                              : AIROUTER_END_INVALID,
                                       (int) status, NULL, 0);

        ngx_http_airouter_hedge_close(&hs->hedge);
        ngx_http_airouter_proxy_hedge_failed(hs, fault, status);
        return;
    }

    ngx_http_airouter_hedge_close(&hs->hedge);
    ngx_http_airouter_proxy_hedge_release(hs);
}


/* What the hedge held in live state, given back: it taught nothing. */
static void
ngx_http_airouter_proxy_hedge_release(ngx_http_airouter_proxy_hedge_t *hs)
{
    ngx_http_airouter_proxy_ctx_t  *p;
    ngx_http_airouter_proxy_try_t   current;

    if (!hs->acquired) {
        return;
    }

    hs->acquired = 0;
    p = hs->proxy;

    current = p->try;
    p->try = hs->try;

    p->try.acquired = 1;
    ngx_http_airouter_proxy_report(p, 1);

    p->try = current;
}


/*
 * The hedge failed (no answer) or answered an error before the first
 * try: its candidate is told to live state as any try's failure (the
 * outcome table's verdict: reliability, cooldown) and listed in
 * X-Router-Fallbacks.  A failure of ours, or the client's fault, only
 * gives back what it held.
 */
static void
ngx_http_airouter_proxy_hedge_failed(ngx_http_airouter_proxy_hedge_t *hs,
    airouter_fault_e fault, ngx_uint_t status)
{
    time_t                          scoped;
    ngx_uint_t                      keyed;
    airouter_verdict_t              verdict;
    ngx_http_request_t             *r;
    ngx_http_airouter_proxy_ctx_t  *p;
    ngx_http_airouter_proxy_try_t   current;

    if (!hs->acquired) {
        return;
    }

    if (fault == AIROUTER_FAULT_NONE || fault == AIROUTER_FAULT_BAD_REQUEST
        || hs->request->connection->error)
    {
        ngx_http_airouter_proxy_hedge_release(hs);
        return;
    }

    hs->acquired = 0;
    p = hs->proxy;
    r = hs->request;

    /* the first try's own verdict and blocks stay as they were */
    verdict = p->verdict;
    keyed = p->keyed;
    scoped = p->scoped;

    current = p->try;
    p->try = hs->try;

    p->try.fault = fault;
    p->verdict = airouter_outcome_verdict(&p->pm->outcomes, fault, -1);
    p->try.classified = 1;
    p->try.acquired = 1;
    ngx_http_airouter_proxy_report(p, 0);

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "airouter: hedge \"%s\" model \"%V\": %s, %s cooldown "
                  "%l s",
                  p->ctx->amcf->config->channels[p->try.cand->channel].id,
                  &p->try.cand->model, airouter_fault_name(fault),
                  p->keyed ? "key"
                  : p->scoped ? "endpoint (until discovery confirms)"
                  : airouter_scope_name(p->verdict.scope),
                  p->scoped ? (long) p->scoped : p->verdict.cooldown);

    ngx_http_airouter_proxy_record(p, p->try.cand->channel, &p->try.cand->model,
                                   fault, status, 0);

    p->try = current;

    p->verdict = verdict;
    p->keyed = keyed;
    p->scoped = scoped;
}


static void
ngx_http_airouter_proxy_hedge_bill(ngx_http_airouter_proxy_hedge_t *hs,
    ngx_http_airouter_candidate_t *c)
{
    ngx_http_airouter_ctx_t  *ctx;

    ctx = hs->proxy->ctx;

    if (!ctx->amcf->config->routing.hedging.bill_loser
        || c->price_prompt <= 0)
    {
        return;
    }

    ctx->hedge_cost += (double) ctx->prompt_counted * c->price_prompt;
}


/*
 * A duration, or `p95`: the 95th percentile of the current candidate's
 * time to first byte as live state measured it; with nothing measured
 * yet, a second.
 */
static ngx_msec_t
ngx_http_airouter_proxy_hedge_after(ngx_http_airouter_proxy_hedge_t *hs)
{
    ngx_http_airouter_proxy_ctx_t   *p;
    airouter_live_measure_t          m;
    const airouter_hedging_t        *conf;

    p = hs->proxy;
    conf = &p->ctx->amcf->config->routing.hedging;

    if (conf->after > 0) {
        return (ngx_msec_t) conf->after;
    }

    if (p->try.cand
        && ngx_http_airouter_live_measure(p->ctx->amcf, p->try.cand->channel,
                                          &p->try.cand->model, &m)
           == NGX_OK
        && m.ttfb_p95 > 0)
    {
        return (ngx_msec_t) m.ttfb_p95 + 1;
    }

    return NGX_HTTP_AIROUTER_HEDGE_DEFAULT_AFTER;
}


static ssize_t
ngx_http_airouter_proxy_hedge_refuse(ngx_connection_t *c, u_char *buf,
    size_t size)
{
    return NGX_ERROR;
}


static void
ngx_http_airouter_proxy_hedge_cleanup(void *data)
{
    ngx_http_airouter_proxy_hedge_t *hs = data;

    if (hs->timer.timer_set) {
        ngx_del_timer(&hs->timer);
    }

    ngx_http_airouter_hedge_close(&hs->hedge);
    ngx_http_airouter_proxy_hedge_release(hs);
}
