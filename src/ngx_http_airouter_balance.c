/*
 * Balance checks (see ngx_http_airouter_balance.h): what each checked
 * channel asks (built at configuration time), the per-channel results in
 * the zone, the timer in worker 0 that starts the due checks, and the
 * request-time wrapper that keeps a held channel's paid models out.
 *
 * A check: every request of the channel's kind (one or two GETs, the
 * channel's first key as discovery sends it), all at once; when the last
 * answer is in, airouter_balance_combine() says the amount, which goes to
 * the zone under the lock.  Keys are in the request headers only: never
 * in a log line, an error or a result.
 */

#include "ngx_http_airouter_balance.h"
#include "ngx_http_airouter_live.h"
#include "ngx_http_airouter_endpoint.h"
#include "ngx_http_airouter_fetch.h"
#include "ngx_http_airouter_ssl.h"
#include "airouter_balance.h"


#define NGX_HTTP_AIROUTER_BAL_MAX_SIZE   (1024 * 1024)
#define NGX_HTTP_AIROUTER_BAL_TICK       60        /* s, longest timer */


/* One channel's balance, in the zone. */
typedef struct {
    time_t                       next_run;      /* 0: not scheduled */
    time_t                       checked;
    time_t                       last_success;
    double                       amount;
    u_char                       currency[8];
    ngx_uint_t                   known;
    ngx_uint_t                   ok;
    ngx_uint_t                   checks;
    ngx_uint_t                   failures;      /* in a row */
    time_t                       marked;        /* an answer said spent */
    airouter_fault_e             mark_fault;
    u_char                       error[128];    /* NUL-terminated */
} ngx_http_airouter_bal_chan_t;


/* The zone's part; a configuration with another fingerprint starts anew. */
typedef struct {
    uint64_t                     fingerprint;
    ngx_uint_t                   nchannels;
    ngx_http_airouter_bal_chan_t  *channels;
} ngx_http_airouter_bal_sh_t;


/* What a channel's check asks, built at configuration time. */
typedef struct {
    airouter_balance_kind_e      kind;          /* NONE: not checked */
    ngx_http_airouter_endpoint_t  *ep;
    ngx_uint_t                   nreqs;
    ngx_http_airouter_fetch_req_t  reqs[AIROUTER_BALANCE_MAX_REQUESTS];
    ngx_uint_t                   running;
} ngx_http_airouter_bal_target_t;


/* Process-local: amcf->balance. */
typedef struct {
    ngx_http_airouter_main_conf_t  *amcf;
    ngx_http_airouter_bal_target_t  *targets;   /* [nchannels] */
    ngx_uint_t                   nchecked;
    ngx_http_airouter_live_block_pt  next_on_block;   /* wrapped */
#if (NGX_SSL)
    ngx_ssl_t                   *ssl;
    ngx_flag_t                   ssl_verify;
#endif
    ngx_event_t                  timer;
} ngx_http_airouter_bal_t;


/* One check in flight, in its own pool. */
typedef struct {
    ngx_pool_t                  *pool;
    ngx_http_airouter_bal_t     *b;
    ngx_uint_t                   channel;
    time_t                       started;
    ngx_uint_t                   pending;
    ngx_uint_t                   got[AIROUTER_BALANCE_MAX_REQUESTS];
    airouter_balance_part_t      parts[AIROUTER_BALANCE_MAX_REQUESTS];
    u_char                       error[128];
} ngx_http_airouter_bal_check_t;


typedef struct {
    ngx_http_airouter_bal_check_t  *check;
    ngx_uint_t                   index;
} ngx_http_airouter_bal_ask_t;


static ngx_int_t ngx_http_airouter_balance_target(ngx_conf_t *cf,
    ngx_http_airouter_bal_t *b, ngx_uint_t i);
static ngx_int_t ngx_http_airouter_balance_req(ngx_conf_t *cf,
    ngx_http_airouter_bal_t *b, ngx_http_airouter_endpoint_t *ep,
    const char *url, ngx_http_airouter_fetch_req_t *req);
static ngx_http_airouter_bal_sh_t *ngx_http_airouter_balance_sh(
    ngx_http_airouter_main_conf_t *amcf, ngx_http_airouter_zone_t **zone);
static void ngx_http_airouter_balance_timer(ngx_event_t *ev);
static void ngx_http_airouter_balance_start(ngx_http_airouter_bal_t *b,
    ngx_uint_t channel);
static void ngx_http_airouter_balance_answer(ngx_http_airouter_fetch_t *f);
static void ngx_http_airouter_balance_done(
    ngx_http_airouter_bal_check_t *c);
static int ngx_http_airouter_balance_keep(void *data, uint32_t channel,
    uint32_t model);
static void ngx_http_airouter_balance_on_block(
    ngx_http_airouter_main_conf_t *amcf, const char *channel,
    ngx_str_t *model, ngx_int_t key, ngx_uint_t scope,
    airouter_fault_e fault, time_t seconds);
static ngx_uint_t ngx_http_airouter_balance_holds(
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t channel,
    ngx_http_airouter_bal_chan_t *cs);


ngx_int_t
ngx_http_airouter_balance_init_conf(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf)
{
    ngx_uint_t                i;
    airouter_config_t        *acf;
    ngx_http_airouter_bal_t  *b;

    acf = amcf->config;

    if (acf == NULL) {
        return NGX_OK;
    }

    for (i = 0; i < acf->nchannels; i++) {
        if (acf->channels[i].balance.enabled) {
            break;
        }
    }

    if (i == acf->nchannels) {
        return NGX_OK;
    }

    b = ngx_pcalloc(cf->pool, sizeof(ngx_http_airouter_bal_t));
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->amcf = amcf;
    b->targets = ngx_pcalloc(cf->pool, acf->nchannels
                                       * sizeof(ngx_http_airouter_bal_target_t));
    if (b->targets == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < acf->nchannels; i++) {
        if (ngx_http_airouter_balance_target(cf, b, i) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    b->timer.handler = ngx_http_airouter_balance_timer;
    b->timer.data = b;
    b->timer.log = cf->cycle->log;
    b->timer.cancelable = 1;

    amcf->balance = b;

    /* an answer saying the money is spent holds the channel at once */
    b->next_on_block = ngx_http_airouter_live_block_listener(amcf);

    if (ngx_http_airouter_live_on_block(cf, amcf,
                                        ngx_http_airouter_balance_on_block)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* The kind (balance.kind, or from the provider) and its requests. */
static ngx_int_t
ngx_http_airouter_balance_target(ngx_conf_t *cf, ngx_http_airouter_bal_t *b,
    ngx_uint_t i)
{
    int                              hold;
    ngx_int_t                        rc;
    ngx_uint_t                       k, n;
    airouter_channel_t              *ch;
    airouter_balance_kind_e          kind;
    airouter_balance_request_t       reqs[AIROUTER_BALANCE_MAX_REQUESTS];
    ngx_http_airouter_endpoint_t    *ep;
    ngx_http_airouter_bal_target_t  *t;

    ch = &b->amcf->config->channels[i];
    t = &b->targets[i];

    /*
     * A channel no check can ever clear is not held (t->kind stays NONE):
     * hold is on only once the channel's requests are built.
     */
    hold = ch->balance.hold;
    ch->balance.hold = 0;

    if (!ch->balance.enabled || !ch->enabled || ch->base_url == NULL) {
        return NGX_OK;
    }

    kind = ch->balance.kind;

    if (kind == AIROUTER_BALANCE_NONE) {
        kind = airouter_balance_infer(ch);
    }

    if (kind == AIROUTER_BALANCE_NONE) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "airouter: channel \"%s\" has balance: but its "
                           "provider tells no kind: set balance.kind "
                           "(openrouter, deepseek, siliconflow, moonshot, "
                           "oneapi, json)", ch->id);
        return NGX_OK;
    }

    ep = ngx_http_airouter_endpoint(cf, b->amcf, i);
    if (ep == NULL) {
        return NGX_ERROR;
    }

    if (ep->error) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "airouter: channel \"%s\": no balance check: %s",
                           ch->id, ep->error);
        return NGX_OK;
    }

    n = airouter_balance_requests(ch, kind, reqs);

    for (k = 0; k < n; k++) {
        rc = ngx_http_airouter_balance_req(cf, b, ep, reqs[k].url,
                                           &t->reqs[k]);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "airouter: channel \"%s\": no balance check: "
                               "its URL is not on the channel's own scheme "
                               "and host (the key goes nowhere else)",
                               ch->id);
            return NGX_OK;
        }
    }

    t->ep = ep;
    t->kind = kind;
    t->nreqs = n;
    ch->balance.hold = hold;
    b->nchecked++;

    return NGX_OK;
}


/*
 * One request of a check, on the channel's endpoint (address, Host, TLS
 * name and key header lines: ngx_http_airouter_endpoint.c, as the proxy
 * and discovery send them; the channel's first key).  The URL must be on
 * the channel's own scheme and authority: a balance check never sends the
 * key to another host.  NGX_DECLINED when it is not.
 */
static ngx_int_t
ngx_http_airouter_balance_req(ngx_conf_t *cf, ngx_http_airouter_bal_t *b,
    ngx_http_airouter_endpoint_t *ep, const char *url,
    ngx_http_airouter_fetch_req_t *req)
{
    u_char                    *p, *end, *s;
    size_t                     len;
    ngx_str_t                  authority, uri;
    ngx_uint_t                 https;
    ngx_http_core_loc_conf_t  *clcf;

    len = ngx_strlen(url);
    s = ngx_pnalloc(cf->pool, len + 1);
    if (s == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(s, url, len + 1);
    end = s + len;

    if (ngx_strncasecmp(s, (u_char *) "https://", 8) == 0) {
        https = 1;
        p = s + 8;

    } else if (ngx_strncasecmp(s, (u_char *) "http://", 7) == 0) {
        https = 0;
        p = s + 7;

    } else {
        return NGX_DECLINED;
    }

    authority.data = p;

    while (p < end && *p != '/' && *p != '?' && *p != '#') {
        p++;
    }

    authority.len = p - authority.data;
    uri.data = p;
    uri.len = end - p;

    if (uri.len == 0) {
        ngx_str_set(&uri, "/");
    }

    if (https != ep->https || authority.len != ep->host.len
        || ngx_strncasecmp(authority.data, ep->host.data, authority.len) != 0)
    {
        return NGX_DECLINED;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    /* the address is the endpoint's at each check (kept fresh) */
    req->resolver = ep->resolver;
    req->resolver_timeout = (clcf->resolver_timeout == NGX_CONF_UNSET_MSEC)
                            ? 30000 : clcf->resolver_timeout;
    req->resolve_name = ep->name;
    req->port = ep->port;

    req->host = ep->host;
    req->uri = uri;
    req->max_size = NGX_HTTP_AIROUTER_BAL_MAX_SIZE;
    req->timeout = b->amcf->discovery_timeout;

    if (ep->nauth) {
        req->headers = ep->auth[0];
    }

    if (!https) {
        return NGX_OK;
    }

#if (NGX_SSL)
    {
    ngx_str_t                      trusted;
    ngx_http_airouter_loc_conf_t  *alcf;

    if (b->ssl == NULL) {
        alcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_airouter_module);
        b->ssl_verify = (alcf->ssl_verify == NGX_CONF_UNSET)
                        ? 1 : alcf->ssl_verify;

        if (alcf->ssl_trusted_certificate.data) {
            trusted = alcf->ssl_trusted_certificate;

        } else {
            ngx_str_set(&trusted, "/etc/ssl/certs/ca-certificates.crt");
        }

        b->ssl = ngx_http_airouter_ssl_client(cf, b->ssl_verify, &trusted);
        if (b->ssl == NULL) {
            return NGX_ERROR;
        }
    }

    req->ssl = b->ssl;
    req->verify = b->ssl_verify;
    req->server_name = ep->name;
    }

    return NGX_OK;
#else
    return NGX_DECLINED;
#endif
}


ngx_int_t
ngx_http_airouter_balance_init_zone(ngx_http_airouter_zone_t *zone)
{
    ngx_http_airouter_bal_sh_t    *bs;
    ngx_http_airouter_bal_chan_t  *chans;
    ngx_http_airouter_main_conf_t *amcf;

    amcf = zone->amcf;

    if (amcf->config == NULL || amcf->balance == NULL) {
        return NGX_OK;
    }

    ngx_shmtx_lock(&zone->shpool->mutex);

    bs = zone->sh->balance;

    if (bs == NULL) {
        bs = ngx_slab_calloc_locked(zone->shpool,
                                    sizeof(ngx_http_airouter_bal_sh_t));
        if (bs == NULL) {
            goto nomem;
        }

        zone->sh->balance = bs;
    }

    /* another configuration's channels: old workers keep reading theirs
     * until they go, then nothing points there (the slab keeps it) */
    if (bs->fingerprint != amcf->fingerprint
        || bs->nchannels != amcf->config->nchannels)
    {
        chans = ngx_slab_calloc_locked(zone->shpool,
                    (amcf->config->nchannels ? amcf->config->nchannels : 1)
                    * sizeof(ngx_http_airouter_bal_chan_t));
        if (chans == NULL) {
            goto nomem;
        }

        bs->channels = chans;
        bs->nchannels = amcf->config->nchannels;
        bs->fingerprint = amcf->fingerprint;
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return NGX_OK;

nomem:

    ngx_shmtx_unlock(&zone->shpool->mutex);

    ngx_log_error(NGX_LOG_EMERG, zone->amcf->shm_zone->shm.log, 0,
                  "airouter: zone \"%V\" is too small for the balance "
                  "state", &zone->amcf->zone_name);

    return NGX_ERROR;
}


static ngx_http_airouter_bal_sh_t *
ngx_http_airouter_balance_sh(ngx_http_airouter_main_conf_t *amcf,
    ngx_http_airouter_zone_t **zone)
{
    ngx_http_airouter_bal_sh_t  *bs;

    *zone = ngx_http_airouter_zone_get(amcf);

    if (*zone == NULL || (*zone)->sh == NULL || amcf->balance == NULL) {
        return NULL;
    }

    bs = (*zone)->sh->balance;

    if (bs == NULL || bs->fingerprint != amcf->fingerprint
        || bs->nchannels != amcf->config->nchannels)
    {
        return NULL;
    }

    return bs;
}


/* Worker 0 checks; a respawned one goes on where the zone says. */
ngx_int_t
ngx_http_airouter_balance_init_process(ngx_cycle_t *cycle)
{
    ngx_http_airouter_bal_t        *b;
    ngx_http_airouter_main_conf_t  *amcf;

    if (cycle->conf_ctx[ngx_http_module.index] == NULL) {
        return NGX_OK;
    }

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_airouter_module);
    if (amcf == NULL || amcf->config == NULL || amcf->balance == NULL) {
        return NGX_OK;
    }

    b = amcf->balance;
    b->timer.log = cycle->log;

    if ((ngx_process != NGX_PROCESS_WORKER
         && ngx_process != NGX_PROCESS_SINGLE)
        || ngx_worker != 0 || b->nchecked == 0)
    {
        return NGX_OK;
    }

    ngx_add_timer(&b->timer, 100 + ngx_random() % 900);

    return NGX_OK;
}


static void
ngx_http_airouter_balance_timer(ngx_event_t *ev)
{
    time_t                          now, next, wait;
    ngx_uint_t                      i;
    ngx_http_airouter_bal_t        *b;
    ngx_http_airouter_zone_t       *zone;
    ngx_http_airouter_bal_sh_t     *bs;
    ngx_http_airouter_bal_chan_t   *cs;
    ngx_http_airouter_bal_target_t *t;
    airouter_channel_t             *ch;

    b = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    bs = ngx_http_airouter_balance_sh(b->amcf, &zone);
    if (bs == NULL) {
        return;
    }

    now = ngx_time();
    next = now + NGX_HTTP_AIROUTER_BAL_TICK;

    for (i = 0; i < bs->nchannels; i++) {
        t = &b->targets[i];

        if (t->kind == AIROUTER_BALANCE_NONE) {
            continue;
        }

        ch = &b->amcf->config->channels[i];
        cs = &bs->channels[i];

        ngx_shmtx_lock(&zone->shpool->mutex);

        if (cs->next_run <= now && !t->running) {
            cs->next_run = now + ch->balance.interval;
            ngx_shmtx_unlock(&zone->shpool->mutex);

            ngx_http_airouter_balance_start(b, i);

        } else {
            ngx_shmtx_unlock(&zone->shpool->mutex);
        }

        if (cs->next_run < next) {
            next = cs->next_run;
        }
    }

    wait = next - now;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "airouter balance: %ui channels checked, next in %T s",
                   b->nchecked, wait);

    ngx_add_timer(&b->timer, (ngx_msec_t) (wait > 0 ? wait : 1) * 1000);
}


static void
ngx_http_airouter_balance_start(ngx_http_airouter_bal_t *b,
    ngx_uint_t channel)
{
    ngx_uint_t                       k;
    ngx_pool_t                      *pool;
    ngx_http_airouter_bal_ask_t     *ask;
    ngx_http_airouter_bal_check_t   *c;
    ngx_http_airouter_bal_target_t  *t;

    t = &b->targets[channel];

    pool = ngx_create_pool(1024, ngx_cycle->log);
    if (pool == NULL) {
        return;
    }

    c = ngx_pcalloc(pool, sizeof(ngx_http_airouter_bal_check_t));
    ask = ngx_pcalloc(pool, t->nreqs * sizeof(ngx_http_airouter_bal_ask_t));
    if (c == NULL || ask == NULL) {
        ngx_destroy_pool(pool);
        return;
    }

    c->pool = pool;
    c->b = b;
    c->channel = channel;
    c->started = ngx_time();
    c->pending = t->nreqs;
    t->running = 1;

    for (k = 0; k < t->nreqs; k++) {
        ask[k].check = c;
        ask[k].index = k;
        t->reqs[k].addr = t->ep->addr;

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "airouter balance: channel \"%s\" GET %V%V",
                       b->amcf->config->channels[channel].id,
                       &t->reqs[k].host, &t->reqs[k].uri);

        if (ngx_http_airouter_fetch_start(&t->reqs[k],
                                          ngx_http_airouter_balance_answer,
                                          &ask[k], ngx_cycle->log)
            == NULL)
        {
            /* the answers still to come finish the check */
            ngx_sprintf(c->error, "out of memory%Z");
            c->pending -= t->nreqs - k;

            if (c->pending == 0) {
                ngx_http_airouter_balance_done(c);
            }

            return;
        }
    }
}


static void
ngx_http_airouter_balance_answer(ngx_http_airouter_fetch_t *f)
{
    u_char                          *q;
    ngx_str_t                        path;
    airouter_channel_t              *ch;
    ngx_http_airouter_bal_ask_t     *ask;
    ngx_http_airouter_bal_check_t   *c;
    ngx_http_airouter_bal_target_t  *t;

    ask = f->data;
    c = ask->check;
    ch = &c->b->amcf->config->channels[c->channel];
    t = &c->b->targets[c->channel];

    if (f->error) {
        q = ngx_snprintf(c->error, sizeof(c->error) - 1, "%s", f->error);
        *q = '\0';

    } else if (f->status != NGX_HTTP_OK) {
        /* the path only: a query may carry a secret */
        path = t->reqs[ask->index].uri;
        q = ngx_strlchr(path.data, path.data + path.len, '?');
        if (q != NULL) {
            path.len = q - path.data;
        }

        q = ngx_snprintf(c->error, sizeof(c->error) - 1, "HTTP %ui from %V%V",
                         f->status, &t->reqs[ask->index].host, &path);
        *q = '\0';

    } else {
        airouter_balance_parse(ch, t->kind, ask->index,
                               (const char *) f->body.data, f->body.len,
                               &c->parts[ask->index]);
        c->got[ask->index] = 1;
    }

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "airouter balance: channel \"%s\" answer %ui: status %ui "
                   "%s", ch->id, ask->index, f->status,
                   f->error ? f->error : "");

    if (--c->pending == 0) {
        ngx_http_airouter_balance_done(c);
    }
}


/* All answers in: the amount (or the error) into the zone. */
static void
ngx_http_airouter_balance_done(ngx_http_airouter_bal_check_t *c)
{
    size_t                           k;
    time_t                           now;
    ngx_uint_t                       low, level;
    airouter_channel_t              *ch;
    airouter_balance_part_t         *pp[AIROUTER_BALANCE_MAX_REQUESTS];
    airouter_balance_result_t        res;
    ngx_http_airouter_zone_t        *zone;
    ngx_http_airouter_bal_sh_t      *bs;
    ngx_http_airouter_bal_chan_t    *cs;
    ngx_http_airouter_bal_target_t  *t;

    t = &c->b->targets[c->channel];
    ch = &c->b->amcf->config->channels[c->channel];
    t->running = 0;

    for (k = 0; k < t->nreqs; k++) {
        pp[k] = c->got[k] ? &c->parts[k] : NULL;
    }

    airouter_balance_combine(t->kind, pp, t->nreqs, &res);

    if (!res.ok && c->error[0] != '\0') {
        /* the transport's reason says more than "no answer" */
        ngx_cpystrn((u_char *) res.error, c->error, sizeof(res.error));
    }

    airouter_balance_clean(ch, res.error);

    now = ngx_time();
    bs = ngx_http_airouter_balance_sh(c->b->amcf, &zone);

    if (bs != NULL) {
        cs = &bs->channels[c->channel];

        ngx_shmtx_lock(&zone->shpool->mutex);

        cs->checked = now;
        cs->checks++;
        cs->ok = res.ok;

        if (res.ok) {
            /* a check asked after an answer said "spent" overrules it */
            if (cs->marked && cs->marked <= c->started) {
                cs->marked = 0;
            }

            cs->known = 1;
            cs->amount = res.amount;
            cs->last_success = now;
            cs->failures = 0;
            cs->error[0] = '\0';
            ngx_cpystrn(cs->currency, (u_char *) res.currency,
                        sizeof(cs->currency));

        } else {
            cs->failures++;
            ngx_cpystrn(cs->error, (u_char *) res.error, sizeof(cs->error));
        }

        ngx_shmtx_unlock(&zone->shpool->mutex);
    }

    low = res.ok && ch->balance.low_threshold >= 0
          && res.amount < ch->balance.low_threshold;
    level = low ? NGX_LOG_WARN : NGX_LOG_INFO;

    if (res.ok) {
        ngx_log_error(level, ngx_cycle->log, 0,
                      "airouter: balance of channel \"%s\": %.2f %s%s",
                      ch->id, res.amount, res.currency,
                      low ? " (below low_threshold)" : "");

    } else {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "airouter: balance of channel \"%s\" unknown: %s",
                      ch->id, res.error);
    }

    ngx_destroy_pool(c->pool);
}


ngx_int_t
ngx_http_airouter_balance_info(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel, ngx_http_airouter_balance_info_t *info)
{
    airouter_channel_t            *ch;
    ngx_http_airouter_bal_t       *b;
    ngx_http_airouter_zone_t      *zone;
    ngx_http_airouter_bal_sh_t    *bs;
    ngx_http_airouter_bal_chan_t  *cs;
    airouter_balance_kind_e        kind;

    ngx_memzero(info, sizeof(ngx_http_airouter_balance_info_t));

    b = amcf->balance;

    if (b == NULL || amcf->config == NULL
        || channel >= amcf->config->nchannels)
    {
        return NGX_DECLINED;
    }

    ch = &amcf->config->channels[channel];

    if (!ch->balance.enabled) {
        return NGX_DECLINED;
    }

    kind = b->targets[channel].kind;
    info->configured = 1;
    info->kind = airouter_config_balance_kind_name(kind != AIROUTER_BALANCE_NONE
                                                   ? kind : ch->balance.kind);

    if (kind == AIROUTER_BALANCE_NONE) {
        ngx_cpystrn(info->error, (u_char *) "not checked: no kind, or the "
                    "URL cannot be asked", sizeof(info->error));
        return NGX_OK;
    }

    bs = ngx_http_airouter_balance_sh(amcf, &zone);
    if (bs == NULL) {
        return NGX_OK;
    }

    cs = &bs->channels[channel];

    ngx_shmtx_lock(&zone->shpool->mutex);

    info->known = cs->known;
    info->amount = cs->amount;
    info->checked = cs->checked;
    info->last_success = cs->last_success;
    info->ok = cs->ok;
    info->marked = cs->marked;
    info->mark_fault = cs->marked ? airouter_fault_name(cs->mark_fault)
                                  : NULL;
    ngx_memcpy(info->currency, cs->currency, sizeof(info->currency));
    ngx_memcpy(info->error, cs->error, sizeof(info->error));

    ngx_shmtx_unlock(&zone->shpool->mutex);

    info->low = info->known && ch->balance.low_threshold >= 0
                && info->amount < ch->balance.low_threshold;
    info->held = ch->balance.hold
                 && ((info->known && info->amount <= 0) || info->marked);

    return NGX_OK;
}


ngx_int_t
ngx_http_airouter_balance_bind(ngx_http_airouter_main_conf_t *amcf,
    ngx_pool_t *pool, const airouter_catalog_t *cat, airouter_live_t *live,
    ngx_http_airouter_balance_filter_t *filter)
{
    ngx_uint_t                     i, any;
    ngx_http_airouter_zone_t      *zone;
    ngx_http_airouter_bal_sh_t    *bs;
    ngx_http_airouter_bal_chan_t  *cs;

    filter->cat = cat;
    filter->held = NULL;

    bs = ngx_http_airouter_balance_sh(amcf, &zone);
    if (bs == NULL) {
        return NGX_OK;
    }

    any = 0;

    /* read without the lock: a check landing now is seen next request */
    for (i = 0; i < bs->nchannels; i++) {
        cs = &bs->channels[i];

        if (ngx_http_airouter_balance_holds(amcf, i, cs)) {
            if (filter->held == NULL) {
                filter->held = ngx_pcalloc(pool, bs->nchannels);
                if (filter->held == NULL) {
                    return NGX_ERROR;
                }
            }

            filter->held[i] = 1;
            any = 1;
        }
    }

    if (!any) {
        return NGX_OK;
    }

    airouter_live_filter(live, &filter->filter, ngx_http_airouter_balance_keep,
                         filter);

    return NGX_OK;
}


ngx_uint_t
ngx_http_airouter_balance_held(ngx_http_airouter_main_conf_t *amcf,
    const airouter_catalog_t *cat, ngx_uint_t channel, uint32_t model)
{
    ngx_http_airouter_balance_info_t  info;
    const airouter_catalog_model_t   *m;

    if (ngx_http_airouter_balance_info(amcf, channel, &info) != NGX_OK
        || !info.held)
    {
        return 0;
    }

    m = airouter_catalog_model(cat, model);

    return !(m->flags & (AIROUTER_MODEL_FREE | AIROUTER_MODEL_LOCAL));
}


/* A held channel's paid models are out; free and local ones stay. */
static int
ngx_http_airouter_balance_keep(void *data, uint32_t channel, uint32_t model)
{
    const airouter_catalog_model_t      *m;
    ngx_http_airouter_balance_filter_t  *f = data;

    if (!f->held[channel]) {
        return 1;
    }

    m = airouter_catalog_model(f->cat, model);

    return (m->flags & (AIROUTER_MODEL_FREE | AIROUTER_MODEL_LOCAL)) != 0;
}


/* Whether the channel's paid models are out now (read without the lock). */
static ngx_uint_t
ngx_http_airouter_balance_holds(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel, ngx_http_airouter_bal_chan_t *cs)
{
    return amcf->config->channels[channel].balance.hold
           && ((cs->known && cs->amount <= 0) || cs->marked);
}


/*
 * Live state's on_block slot, wrapped: a channel (or one of its models,
 * airouter_outcome_channel) blocked because the provider said the money or
 * the quota is spent is held at once, until a check asked afterwards finds
 * money.  A single key's block (key >= 0) is not the channel's.
 */
static void
ngx_http_airouter_balance_on_block(ngx_http_airouter_main_conf_t *amcf,
    const char *channel, ngx_str_t *model, ngx_int_t key, ngx_uint_t scope,
    airouter_fault_e fault, time_t seconds)
{
    ngx_uint_t                     i;
    airouter_config_t             *acf;
    ngx_http_airouter_bal_t       *b;
    ngx_http_airouter_zone_t      *zone;
    ngx_http_airouter_bal_sh_t    *bs;
    ngx_http_airouter_bal_chan_t  *cs;

    b = amcf->balance;

    if (b->next_on_block) {
        b->next_on_block(amcf, channel, model, key, scope, fault, seconds);
    }

    if (key >= 0
        || (fault != AIROUTER_FAULT_QUOTA && fault != AIROUTER_FAULT_CREDITS))
    {
        return;
    }

    acf = amcf->config;

    for (i = 0; i < acf->nchannels; i++) {
        if (ngx_strcmp(acf->channels[i].id, channel) == 0) {
            break;
        }
    }

    if (i == acf->nchannels || !acf->channels[i].balance.hold) {
        return;
    }

    bs = ngx_http_airouter_balance_sh(amcf, &zone);
    if (bs == NULL) {
        return;
    }

    cs = &bs->channels[i];

    ngx_shmtx_lock(&zone->shpool->mutex);

    cs->marked = ngx_time();
    cs->mark_fault = fault;

    ngx_shmtx_unlock(&zone->shpool->mutex);

    ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                  "airouter: channel \"%s\" answered %s: its paid models "
                  "are held until a balance check finds money", channel,
                  airouter_fault_name(fault));
}
