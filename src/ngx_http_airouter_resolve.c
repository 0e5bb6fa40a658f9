/*
 * Channel addresses kept fresh through nginx's resolver.
 *
 * Without "resolver" at http level, the proxy resolves each channel's host
 * once, at configuration time, and nothing here runs.  With it, the proxy
 * registers every channel whose host is a name (ngx_http_airouter_resolve_
 * add), and each worker resolves them all without blocking
 * (ngx_resolve_name) a second after it starts, and again
 * airouter_resolve_interval after each answer or failure.  The second
 * after the start: the master has just resolved the names while loading
 * the configuration, and a resolver that is not reachable yet would hold
 * every other query for the same names (discovery's) until its resend
 * timer.  An answer is written into the proxy's address pointer, so the
 * next attempt connects to it:
 *
 *   - the current address is kept while the answer still lists it (a
 *     name that rotates its records does not churn the keepalive cache);
 *     otherwise the first IPv4 address, or the first one when there is no
 *     IPv4 address (loopback names answer ::1 too; mocks listen on IPv4);
 *   - a failure keeps the address the channel has, and is logged once per
 *     channel until a resolution succeeds again;
 *   - a channel that has no address yet (its name did not resolve at
 *     start-up, or the worker's first answer is still on its way) is not
 *     reachable: routing, /health and the stats API leave it out (live
 *     state's reachable slot, which the proxy answers from the address).
 *
 * nginx's resolver caches an answer for its TTL (or resolver's valid=), so
 * a refresh within that time costs nothing and returns the same addresses:
 * the interval only bounds how late a published change is noticed.
 *
 * Addresses live in the worker's cycle pool and are never freed: requests
 * in flight still point at the old one (peer name, keepalive key); a new
 * one is allocated only when the address really changes.
 */

#include "ngx_http_airouter_resolve.h"


#define NGX_HTTP_AIROUTER_RESOLVE_FIRST  1000


typedef struct ngx_http_airouter_resolve_conf_s
    ngx_http_airouter_resolve_conf_t;


/* one channel's host name, and the worker's resolution of it */
typedef struct {
    ngx_http_airouter_resolve_conf_t  *conf;
    const char                        *id;         /* channel, for logs */
    ngx_str_t                          host;
    in_port_t                          port;
    ngx_addr_t                       **addr;       /* the proxy's */
    ngx_event_t                        timer;
    ngx_uint_t                         failing;    /* warned this streak */
} ngx_http_airouter_resolve_host_t;


/* amcf->resolve */
struct ngx_http_airouter_resolve_conf_s {
    ngx_msec_t                         interval;
    ngx_resolver_t                    *resolver;
    ngx_msec_t                         timeout;
    ngx_array_t                        hosts;
};


static ngx_http_airouter_resolve_conf_t *ngx_http_airouter_resolve_conf(
    ngx_conf_t *cf);
static ngx_http_core_loc_conf_t *ngx_http_airouter_resolve_http_core(
    ngx_conf_t *cf);
static void ngx_http_airouter_resolve_timer(ngx_event_t *ev);
static void ngx_http_airouter_resolve_start(
    ngx_http_airouter_resolve_host_t *h);
static void ngx_http_airouter_resolve_done(ngx_resolver_ctx_t *ctx);
static ngx_int_t ngx_http_airouter_resolve_pick(
    ngx_http_airouter_resolve_host_t *h, ngx_resolver_ctx_t *ctx);
static void ngx_http_airouter_resolve_failed(
    ngx_http_airouter_resolve_host_t *h, ngx_int_t state);
static void ngx_http_airouter_resolve_next(
    ngx_http_airouter_resolve_host_t *h);


char *
ngx_http_airouter_resolve_interval(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_str_t                         *value;
    ngx_msec_t                         ms;
    ngx_http_airouter_resolve_conf_t  *rcf;

    rcf = ngx_http_airouter_resolve_conf(cf);
    if (rcf == NULL) {
        return NGX_CONF_ERROR;
    }

    if (rcf->interval != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ms = ngx_parse_time(&value[1], 0);

    if (ms == (ngx_msec_t) NGX_ERROR || ms < 1000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid interval \"%V\": 1s at least",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    rcf->interval = ms;

    return NGX_CONF_OK;
}


ngx_resolver_t *
ngx_http_airouter_resolve_resolver(ngx_conf_t *cf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_airouter_resolve_http_core(cf);

    /*
     * without the directive, core's merge has left a resolver of no
     * servers at http level (or none yet)
     */
    if (clcf == NULL || clcf->resolver == NULL
        || clcf->resolver->connections.nelts == 0)
    {
        return NULL;
    }

    return clcf->resolver;
}


ngx_int_t
ngx_http_airouter_resolve_add(ngx_conf_t *cf, const char *id,
    ngx_str_t *host, in_port_t port, ngx_addr_t **addr)
{
    ngx_http_core_loc_conf_t          *clcf;
    ngx_http_airouter_resolve_conf_t  *rcf;
    ngx_http_airouter_resolve_host_t  *h;

    rcf = ngx_http_airouter_resolve_conf(cf);
    if (rcf == NULL) {
        return NGX_ERROR;
    }

    if (rcf->resolver == NULL) {
        rcf->resolver = ngx_http_airouter_resolve_resolver(cf);
        if (rcf->resolver == NULL) {
            return NGX_ERROR;
        }

        clcf = ngx_http_airouter_resolve_http_core(cf);

        rcf->timeout = (clcf->resolver_timeout == NGX_CONF_UNSET_MSEC)
                       ? 30000 : clcf->resolver_timeout;
    }

    h = ngx_array_push(&rcf->hosts);
    if (h == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(h, sizeof(ngx_http_airouter_resolve_host_t));

    h->conf = rcf;
    h->id = id;
    h->host = *host;
    h->port = port;
    h->addr = addr;

    return NGX_OK;
}


ngx_int_t
ngx_http_airouter_resolve_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                         i;
    ngx_http_airouter_main_conf_t     *amcf;
    ngx_http_airouter_resolve_conf_t  *rcf;
    ngx_http_airouter_resolve_host_t  *h;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_airouter_module);
    if (amcf == NULL || amcf->resolve == NULL) {
        return NGX_OK;
    }

    rcf = amcf->resolve;

    if (rcf->interval == NGX_CONF_UNSET_MSEC) {
        rcf->interval = NGX_HTTP_AIROUTER_RESOLVE_INTERVAL;
    }

    h = rcf->hosts.elts;

    for (i = 0; i < rcf->hosts.nelts; i++) {
        h[i].timer.handler = ngx_http_airouter_resolve_timer;
        h[i].timer.data = &h[i];
        h[i].timer.log = cycle->log;
        h[i].timer.cancelable = 1;

        ngx_add_timer(&h[i].timer, NGX_HTTP_AIROUTER_RESOLVE_FIRST);
    }

    return NGX_OK;
}


/* amcf->resolve, made by whichever of the directive and the proxy is first */
static ngx_http_airouter_resolve_conf_t *
ngx_http_airouter_resolve_conf(ngx_conf_t *cf)
{
    ngx_http_airouter_main_conf_t     *amcf;
    ngx_http_airouter_resolve_conf_t  *rcf;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_airouter_module);

    if (amcf->resolve) {
        return amcf->resolve;
    }

    rcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_airouter_resolve_conf_t));
    if (rcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&rcf->hosts, cf->pool, 4,
                       sizeof(ngx_http_airouter_resolve_host_t))
        != NGX_OK)
    {
        return NULL;
    }

    rcf->interval = NGX_CONF_UNSET_MSEC;
    amcf->resolve = rcf;

    return rcf;
}


/* the core module's location configuration of the http block itself */
static ngx_http_core_loc_conf_t *
ngx_http_airouter_resolve_http_core(ngx_conf_t *cf)
{
    ngx_http_conf_ctx_t  *hctx;

    hctx = (ngx_http_conf_ctx_t *) ngx_get_conf(cf->cycle->conf_ctx,
                                                 ngx_http_module);
    if (hctx == NULL) {
        return NULL;
    }

    return hctx->loc_conf[ngx_http_core_module.ctx_index];
}


static void
ngx_http_airouter_resolve_timer(ngx_event_t *ev)
{
    ngx_http_airouter_resolve_host_t *h = ev->data;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    ngx_http_airouter_resolve_start(h);
}


static void
ngx_http_airouter_resolve_start(ngx_http_airouter_resolve_host_t *h)
{
    ngx_resolver_ctx_t  *ctx;

    ctx = ngx_resolve_start(h->conf->resolver, NULL);

    if (ctx == NULL || ctx == NGX_NO_RESOLVER) {
        ngx_http_airouter_resolve_failed(h, NGX_ERROR);
        ngx_http_airouter_resolve_next(h);
        return;
    }

    ctx->name = h->host;
    ctx->handler = ngx_http_airouter_resolve_done;
    ctx->data = h;
    ctx->timeout = h->conf->timeout;
    ctx->cancelable = 1;

    /* a cached answer calls the handler before this returns */
    if (ngx_resolve_name(ctx) != NGX_OK) {
        /* the resolver has released ctx */
        ngx_http_airouter_resolve_failed(h, NGX_ERROR);
        ngx_http_airouter_resolve_next(h);
    }
}


static void
ngx_http_airouter_resolve_done(ngx_resolver_ctx_t *ctx)
{
    ngx_http_airouter_resolve_host_t *h = ctx->data;

    if (ctx->state || ctx->naddrs == 0) {
        ngx_http_airouter_resolve_failed(h, ctx->state ? ctx->state
                                                       : NGX_RESOLVE_NXDOMAIN);

    } else if (ngx_http_airouter_resolve_pick(h, ctx) != NGX_OK) {
        ngx_http_airouter_resolve_failed(h, NGX_ERROR);

    } else if (h->failing) {
        ngx_log_error(NGX_LOG_NOTICE, h->timer.log, 0,
                      "airouter: channel \"%s\": \"%V\" resolves again, "
                      "to %V", h->id, &h->host, &(*h->addr)->name);
        h->failing = 0;
    }

    ngx_resolve_name_done(ctx);

    ngx_http_airouter_resolve_next(h);
}


/*
 * The address to use from an answer: the current one if the answer still
 * has it, else the first IPv4 one, else the first one.
 */
static ngx_int_t
ngx_http_airouter_resolve_pick(ngx_http_airouter_resolve_host_t *h,
    ngx_resolver_ctx_t *ctx)
{
    u_char               text[NGX_SOCKADDR_STRLEN];
    size_t               len;
    ngx_uint_t           i, best;
    ngx_addr_t          *cur, *addr;
    ngx_sockaddr_t       sa;
    ngx_resolver_addr_t  *ra;

    ra = ctx->addrs;
    cur = *h->addr;
    best = ctx->naddrs;

    for (i = 0; i < ctx->naddrs; i++) {

        if (ra[i].socklen > sizeof(ngx_sockaddr_t)) {
            continue;
        }

        if (cur) {
            ngx_memcpy(&sa, ra[i].sockaddr, ra[i].socklen);
            ngx_inet_set_port(&sa.sockaddr, h->port);

            if (ngx_cmp_sockaddr(&sa.sockaddr, ra[i].socklen,
                                 cur->sockaddr, cur->socklen, 1)
                == NGX_OK)
            {
                return NGX_OK;
            }
        }

        if (best == ctx->naddrs
            || (ra[best].sockaddr->sa_family != AF_INET
                && ra[i].sockaddr->sa_family == AF_INET))
        {
            best = i;
        }
    }

    if (best == ctx->naddrs) {
        return NGX_ERROR;
    }

    addr = ngx_palloc(ngx_cycle->pool, sizeof(ngx_addr_t)
                                       + sizeof(ngx_sockaddr_t));
    if (addr == NULL) {
        return NGX_ERROR;
    }

    addr->sockaddr = (struct sockaddr *) (addr + 1);
    addr->socklen = ra[best].socklen;
    ngx_memcpy(addr->sockaddr, ra[best].sockaddr, ra[best].socklen);
    ngx_inet_set_port(addr->sockaddr, h->port);

    len = ngx_sock_ntop(addr->sockaddr, addr->socklen, text,
                        NGX_SOCKADDR_STRLEN, 1);

    addr->name.data = ngx_pnalloc(ngx_cycle->pool, len);
    if (addr->name.data == NULL) {
        return NGX_ERROR;
    }

    addr->name.len = len;
    ngx_memcpy(addr->name.data, text, len);

    if (cur) {
        ngx_log_error(NGX_LOG_INFO, h->timer.log, 0,
                      "airouter: channel \"%s\": \"%V\" is now %V, was %V",
                      h->id, &h->host, &addr->name, &cur->name);

    } else {
        ngx_log_error(NGX_LOG_INFO, h->timer.log, 0,
                      "airouter: channel \"%s\": \"%V\" is %V",
                      h->id, &h->host, &addr->name);
    }

    *h->addr = addr;

    return NGX_OK;
}


/* once per failure streak: the next warning needs a success in between */
static void
ngx_http_airouter_resolve_failed(ngx_http_airouter_resolve_host_t *h,
    ngx_int_t state)
{
    ngx_addr_t  *cur;

    if (h->failing) {
        return;
    }

    h->failing = 1;
    cur = *h->addr;

    if (cur) {
        ngx_log_error(NGX_LOG_WARN, h->timer.log, 0,
                      "airouter: channel \"%s\": \"%V\" could not be "
                      "resolved (%i: %s), keeping %V",
                      h->id, &h->host, state,
                      state == NGX_ERROR ? "resolver error"
                                         : ngx_resolver_strerror(state),
                      &cur->name);
        return;
    }

    ngx_log_error(NGX_LOG_WARN, h->timer.log, 0,
                  "airouter: channel \"%s\": \"%V\" could not be resolved "
                  "(%i: %s), the channel is skipped until it is",
                  h->id, &h->host, state,
                  state == NGX_ERROR ? "resolver error"
                                     : ngx_resolver_strerror(state));
}


static void
ngx_http_airouter_resolve_next(ngx_http_airouter_resolve_host_t *h)
{
    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    ngx_add_timer(&h->timer, h->conf->interval);
}
