/*
 * Discovery (see ngx_http_airouter_discovery.h): the schedule, the lease,
 * one fetch per (channel, key), the merge into a new catalogue, and the
 * per-channel state in the zone.  Publication and the cache file are
 * ngx_http_airouter_catalog.c's.
 *
 * A run, step by step:
 *   1. take the lease (zone mutex; a dead or expired owner's is taken);
 *   2. start a fetch of /models for every due channel and each of its keys
 *      (ngx_http_airouter_fetch.c), all at once;
 *   3. each 200 answer is queued and parsed off the event loop, in a
 *      thread of nginx's "default" thread pool (one job at a time: the
 *      answers queued while a job runs make the next job);
 *   4. when the last answer is parsed: build a catalogue from the
 *      configuration plus, per channel, the fresh /models answers, or what
 *      the current catalogue already had from discovery when the channel
 *      failed (so a channel that never answered serves its
 *      configured_models): the configuration and the previous models are
 *      added on the event loop (the current catalogue is read there), the
 *      fresh models added, the catalogue finished, laid out, verified and
 *      written to the cache file's temporary copy in the thread;
 *   5. back on the event loop: reserve its room in the zone, which the
 *      thread fills; then publish it (a pointer swap in the zone, then the
 *      cache file renamed into place) and hand it to Redis for the
 *      other hosts, update the channel state, release the lease, answer
 *      admin requests waiting for the run, re-arm the timer.
 *
 * nginx built without threads (or a task that cannot be posted) does steps
 * 3 and 4 on the event loop instead: an answer parsed per turn, the entries
 * derived in slices of 256, one slice per turn, then laid out, published
 * in the next turn.
 *
 * A model_not_found a request saw (live state's on_suspect slot) makes the
 * worker that saw it ask that channel's /models at once and tell live
 * state whether the model is still listed.
 */

#include "ngx_http_airouter_discovery.h"
#include "ngx_http_airouter_endpoint.h"
#include "ngx_http_airouter_fetch.h"
#include "ngx_http_airouter_redis.h"
#include "ngx_http_airouter_catalog.h"
#include "ngx_http_airouter_pricing.h"
#include "ngx_http_airouter_live.h"
#include "ngx_http_airouter_response.h"
#include "ngx_http_airouter_audit.h"
#include "ngx_http_airouter_ssl.h"
#include "airouter_models_json.h"

#if (NGX_THREADS)
#include <ngx_thread_pool.h>
#endif

#if (NGX_THREADS) && defined(__linux__)
#include <sched.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#define NGX_HTTP_AIROUTER_DISC_IDLE  1
#ifndef SCHED_IDLE
/* glibc names it with _GNU_SOURCE only, set after its first header here */
#define SCHED_IDLE  5
#endif
#endif


#define NGX_HTTP_AIROUTER_DISC_MAX_SIZE   (32 * 1024 * 1024)  /* default */
#define NGX_HTTP_AIROUTER_DISC_BACKOFF    60        /* s, doubled per failure */
#define NGX_HTTP_AIROUTER_DISC_RECHECK    3600      /* s, longest timer */
#define NGX_HTTP_AIROUTER_DISC_BUSY_RETRY 30        /* s, lease elsewhere */
#define NGX_HTTP_AIROUTER_DISC_SUSPECTS   64        /* waiting, per process */
#define NGX_HTTP_AIROUTER_DISC_SUSPECT_LEN  256     /* longest model id */
#define NGX_HTTP_AIROUTER_DISC_SUSPECT_TTL  300     /* s, then given up */
/* catalogue entries derived per turn of the event loop (about 1 ms) */
#define NGX_HTTP_AIROUTER_DISC_SLICE      256
/* fetches started per turn of the event loop (a connect each) */
#define NGX_HTTP_AIROUTER_DISC_STARTS     8

/* ngx_http_airouter_disc_run_t.job: what the thread does now */
#define NGX_HTTP_AIROUTER_DISC_JOB_NONE     0
#define NGX_HTTP_AIROUTER_DISC_JOB_PARSE    1
#define NGX_HTTP_AIROUTER_DISC_JOB_BUILD    2
#define NGX_HTTP_AIROUTER_DISC_JOB_COPY     3
#define NGX_HTTP_AIROUTER_DISC_JOB_FREE     4
#define NGX_HTTP_AIROUTER_DISC_JOB_GUARD    600000   /* ms, then an alert */

/* ngx_http_airouter_disc_chan_t.state */
#define NGX_HTTP_AIROUTER_DISC_NEVER        0
#define NGX_HTTP_AIROUTER_DISC_OK           1
#define NGX_HTTP_AIROUTER_DISC_FAILED       2
#define NGX_HTTP_AIROUTER_DISC_NO_ENDPOINT  3   /* /models is not served */
#define NGX_HTTP_AIROUTER_DISC_KEY_INVALID  4   /* every key got 401 */


/* One channel's discovery state, in the zone. */
typedef struct {
    time_t                       last_attempt;
    time_t                       last_success;
    time_t                       next_run;      /* 0: not scheduled yet */
    ngx_uint_t                   state;
    ngx_uint_t                   models;        /* in the catalogue */
    ngx_uint_t                   discovered;    /* from /models, last OK */
    ngx_uint_t                   failures;      /* in a row */
    ngx_uint_t                   http_status;   /* of the last answer */
    ngx_uint_t                   keys;
    ngx_uint_t                   keys_invalid;
    u_char                       error[160];    /* NUL-terminated */
} ngx_http_airouter_disc_chan_t;


/*
 * The lease and the state of the configuration the zone serves
 * (fingerprint).  A configuration with another fingerprint (old workers
 * during a reload) neither reads nor writes channels.
 */
typedef struct {
    ngx_pid_t                    owner;         /* 0: free */
    time_t                       lease_until;
    time_t                       last_run;      /* end of the last run */
    ngx_msec_t                   last_duration;
    ngx_uint_t                   runs;
    uint64_t                     fingerprint;
    ngx_uint_t                   nchannels;
    ngx_http_airouter_disc_chan_t  *channels;
} ngx_http_airouter_disc_sh_t;


/* A channel as discovery asks it: one request per key. */
typedef struct {
    airouter_channel_t          *ch;           /* NULL: not enabled */
    ngx_http_airouter_fetch_req_t  *reqs;
    ngx_uint_t                   nreqs;
    ngx_http_airouter_endpoint_t  *ep;         /* NULL: error says why */
    const char                  *error;        /* why it cannot be asked */
    time_t                       interval;
} ngx_http_airouter_disc_target_t;


typedef struct ngx_http_airouter_disc_run_s  ngx_http_airouter_disc_run_t;


/*
 * A model a channel answered model_not_found for (live state's on_suspect
 * slot): the next run of this process asks the channel's /models and
 * tells live state whether the model is still listed.
 */
typedef struct {
    ngx_uint_t                   channel;
    time_t                       since;
    size_t                       len;
    u_char                       model[NGX_HTTP_AIROUTER_DISC_SUSPECT_LEN];
} ngx_http_airouter_disc_suspect_t;

/* Process-local, built at configuration time: amcf->discovery. */
typedef struct {
    ngx_http_airouter_main_conf_t  *amcf;
    ngx_http_airouter_disc_target_t  *targets;   /* [nchannels] */
    ngx_uint_t                   ntargets;
#if (NGX_SSL)
    ngx_ssl_t                   *ssl;
    ngx_flag_t                   ssl_verify;
#endif
    ngx_event_t                  timer;
    ngx_uint_t                   timer_owner;   /* worker 0 */
    ngx_http_airouter_disc_run_t  *run;         /* this process's run */
    ngx_array_t                  suspects;      /* ..._disc_suspect_t */
    ngx_event_t                  confirm;       /* runs for the suspects */
#if (NGX_THREADS)
    ngx_thread_pool_t           *thread_pool;   /* "default" */
#endif
} ngx_http_airouter_disc_t;


/* What one run learnt of one channel. */
typedef struct {
    ngx_uint_t                   fresh;         /* asked in this run */
    ngx_uint_t                   asked;
    ngx_uint_t                   ok;
    ngx_uint_t                   invalid;
    ngx_uint_t                   no_endpoint;
    ngx_uint_t                   http_status;
    airouter_model_info_t      **models;        /* [nreqs], malloc'd */
    size_t                      *nmodels;
    u_char                       error[160];
} ngx_http_airouter_disc_result_t;


struct ngx_http_airouter_disc_run_s {
    ngx_pool_t                  *pool;
    ngx_http_airouter_disc_t    *d;
    ngx_uint_t                   pending;
    ngx_msec_t                   start;
    ngx_http_airouter_disc_result_t  *results;   /* [ntargets] */
    ngx_array_t                  waiters;       /* ngx_http_request_t * */
    ngx_event_t                  done;

    /* 200 answers waiting to be parsed, one per turn of the event loop:
     * several large ones arriving together would hold the worker for all
     * of them at once */
    ngx_queue_t                  answers;
    ngx_event_t                  parse;

    /* the fetches not started yet, a slice per turn (launch) */
    ngx_queue_t                  starting;
    ngx_event_t                  launch;

    /*
     * After the answers: the new catalogue is derived in slices, one per
     * turn of the event loop (step), so the requests this worker serves
     * wait for a slice at most, never for the whole build.
     */
    ngx_uint_t                  *invalid;       /* [ntargets] */
    ngx_uint_t                   publish;
    ngx_uint_t                   nmodels;       /* published, to answer */
    airouter_catalog_builder_t  *builder;
    ngx_uint_t                   slices;
    void                        *blob;          /* laid out, to publish */
    size_t                       len;
    ngx_event_t                  step;

#if (NGX_THREADS)
    /*
     * With nginx's thread pool the heavy part runs off the event loop, one
     * job at a time: the answers are parsed (PARSE, the ones queued when
     * the job started), then the fresh models are added, the catalogue is
     * finished, laid out, verified and written to the cache file's
     * temporary copy (BUILD), then copied into the room the event loop
     * reserved in the zone (COPY).  While a job runs, the thread alone
     * touches what it reads and writes (parsing, the builder, blob, cache,
     * built, copy); the event loop only appends to answers and waiters.
     */
    ngx_thread_task_t           *task;
    ngx_event_t                  guard;         /* set while a job runs */
    ngx_uint_t                   job;
    ngx_queue_t                  parsing;
    const airouter_catalog_t    *built;         /* blob, verified */
    u_char                      *copy;          /* reserved in the zone */
    ngx_http_airouter_catalog_cache_t  cache;
    char                         error[128];    /* why no blob */
    ngx_uint_t                   priority;      /* the last job's, below */
#endif
};

/* How the thread ran the last job (run->priority). */
#define NGX_HTTP_AIROUTER_DISC_PRIO_SAME      0  /* as the pool's thread */
#define NGX_HTTP_AIROUTER_DISC_PRIO_IDLE      1  /* SCHED_IDLE, restored */
#define NGX_HTTP_AIROUTER_DISC_PRIO_STUCK     2  /* restoring it failed */


typedef struct {
    ngx_http_airouter_disc_run_t  *run;
    ngx_uint_t                   channel;
    ngx_uint_t                   key;
    ngx_str_t                    body;          /* 200: waits to be parsed
                                                   (in the fetch's pool,
                                                   destroyed once parsed) */
    ngx_pool_t                  *fetch_pool;
    ngx_queue_t                  queue;         /* in run->starting, then
                                                   in run->answers */
#if (NGX_THREADS)
    int                          rc;            /* parsed in the thread */
    airouter_model_info_t       *models;
    size_t                       nmodels;
    char                         err[128];
#endif
} ngx_http_airouter_disc_ask_t;


static ngx_int_t ngx_http_airouter_discovery_target(ngx_conf_t *cf,
    ngx_http_airouter_disc_t *d, ngx_uint_t i);
#if (NGX_SSL)
static ngx_int_t ngx_http_airouter_discovery_ssl(ngx_conf_t *cf,
    ngx_http_airouter_disc_t *d);
#endif
static ngx_msec_t ngx_http_airouter_discovery_redis_ttl(
    ngx_http_airouter_disc_t *d, ngx_uint_t lock);
static void ngx_http_airouter_discovery_locked(void *data, ngx_int_t won);
static ngx_http_airouter_disc_sh_t *ngx_http_airouter_discovery_sh(
    ngx_http_airouter_main_conf_t *amcf, ngx_http_airouter_zone_t **zonep);
static time_t ngx_http_airouter_discovery_interval(
    ngx_http_airouter_main_conf_t *amcf, airouter_channel_t *ch);
static void ngx_http_airouter_discovery_timer(ngx_event_t *ev);
static void ngx_http_airouter_discovery_schedule(ngx_http_airouter_disc_t *d,
    time_t delay);
static ngx_int_t ngx_http_airouter_discovery_start(
    ngx_http_airouter_disc_t *d, ngx_uint_t forced, ngx_http_request_t *r);
static void ngx_http_airouter_discovery_release(ngx_http_airouter_disc_t *d);
static void ngx_http_airouter_discovery_launch(ngx_event_t *ev);
static void ngx_http_airouter_discovery_cleanup(void *data);
static void ngx_http_airouter_discovery_free_models(
    ngx_http_airouter_disc_run_t *run);
static void ngx_http_airouter_discovery_answer(ngx_http_airouter_fetch_t *f);
static void ngx_http_airouter_discovery_drop_body(
    ngx_http_airouter_disc_ask_t *ask);
static void ngx_http_airouter_discovery_parse(ngx_event_t *ev);
static void ngx_http_airouter_discovery_parsed(
    ngx_http_airouter_disc_ask_t *ask, int rc, airouter_model_info_t *models,
    size_t n, const char *err, ngx_log_t *log);
static void ngx_http_airouter_discovery_queued(
    ngx_http_airouter_disc_run_t *run);
static ngx_int_t ngx_http_airouter_discovery_add_fresh(
    ngx_http_airouter_disc_run_t *run, airouter_catalog_builder_t *b,
    ngx_uint_t i);
#if (NGX_THREADS)
static ngx_int_t ngx_http_airouter_discovery_post(
    ngx_http_airouter_disc_run_t *run, ngx_uint_t job);
static void ngx_http_airouter_discovery_work(void *data, ngx_log_t *log);
static void ngx_http_airouter_discovery_job(ngx_http_airouter_disc_run_t *run);
#if (NGX_HTTP_AIROUTER_DISC_IDLE)
static ngx_uint_t ngx_http_airouter_discovery_may_restore(void);
static void ngx_http_airouter_discovery_nice_limit(ngx_conf_t *cf);
#endif
static void ngx_http_airouter_discovery_worked(ngx_event_t *ev);
static void ngx_http_airouter_discovery_guard(ngx_event_t *ev);
#endif
static void ngx_http_airouter_discovery_done_event(ngx_event_t *ev);
static void ngx_http_airouter_discovery_finish(
    ngx_http_airouter_disc_run_t *run);
static airouter_catalog_builder_t *ngx_http_airouter_discovery_build(
    ngx_http_airouter_disc_run_t *run, const ngx_uint_t *invalid);
static void ngx_http_airouter_discovery_step(ngx_event_t *ev);
static void ngx_http_airouter_discovery_publish(ngx_event_t *ev);
static ngx_int_t ngx_http_airouter_discovery_publish_blob(
    ngx_http_airouter_disc_run_t *run, void *blob, size_t len);
static void ngx_http_airouter_discovery_complete(
    ngx_http_airouter_disc_run_t *run, void *blob, size_t len);
static ngx_int_t ngx_http_airouter_discovery_add_previous(
    airouter_catalog_builder_t *b, const airouter_catalog_t *cat,
    uint32_t channel);
static void ngx_http_airouter_discovery_respond(
    ngx_http_airouter_disc_run_t *run, ngx_uint_t nmodels);
static ngx_int_t ngx_http_airouter_discovery_admin_run(
    ngx_http_request_t *r);
static const char *ngx_http_airouter_discovery_state_name(ngx_uint_t state,
    ngx_uint_t enabled);
static void ngx_http_airouter_discovery_suspect(
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t channel,
    ngx_str_t *model);
static void ngx_http_airouter_discovery_confirm_event(ngx_event_t *ev);
static ngx_uint_t ngx_http_airouter_discovery_suspected(
    ngx_http_airouter_disc_t *d, ngx_uint_t channel);
static void ngx_http_airouter_discovery_confirm(
    ngx_http_airouter_disc_run_t *run);
static json_t *ngx_http_airouter_discovery_time(time_t t);


ngx_int_t
ngx_http_airouter_discovery_init_conf(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf)
{
    ngx_uint_t                 i;
    airouter_config_t         *acf;
    ngx_http_airouter_disc_t  *d;

    ngx_conf_init_msec_value(amcf->discovery_delay, 10000);
    ngx_conf_init_msec_value(amcf->discovery_timeout, 30000);
    ngx_conf_init_size_value(amcf->discovery_max_size,
                             NGX_HTTP_AIROUTER_DISC_MAX_SIZE);

    acf = amcf->config;

    d = ngx_pcalloc(cf->pool, sizeof(ngx_http_airouter_disc_t));
    if (d == NULL) {
        return NGX_ERROR;
    }

    d->amcf = amcf;
    d->ntargets = acf->nchannels;
    d->targets = ngx_pcalloc(cf->pool,
                             (acf->nchannels ? acf->nchannels : 1)
                             * sizeof(ngx_http_airouter_disc_target_t));
    if (d->targets == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < acf->nchannels; i++) {
        if (ngx_http_airouter_discovery_target(cf, d, i) != NGX_OK) {
            return NGX_ERROR;
        }
    }

#if (NGX_THREADS)
    /*
     * Parsing the answers and building the catalogue run in nginx's
     * "default" thread pool (as "aio threads" does; "thread_pool default
     * threads=N" sizes it), so the requests the worker serves meanwhile
     * never wait for them.
     */
    for (i = 0; i < d->ntargets; i++) {
        if (d->targets[i].ch) {
            d->thread_pool = ngx_thread_pool_add(cf, NULL);
            if (d->thread_pool == NULL) {
                return NGX_ERROR;
            }

#if (NGX_HTTP_AIROUTER_DISC_IDLE)
            ngx_http_airouter_discovery_nice_limit(cf);
#endif
            break;
        }
    }
#endif

    d->timer.handler = ngx_http_airouter_discovery_timer;
    d->timer.data = d;
    d->timer.log = cf->cycle->log;
    d->timer.cancelable = 1;

    if (ngx_array_init(&d->suspects, cf->pool,
                       NGX_HTTP_AIROUTER_DISC_SUSPECTS,
                       sizeof(ngx_http_airouter_disc_suspect_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    d->confirm.handler = ngx_http_airouter_discovery_confirm_event;
    d->confirm.data = d;
    d->confirm.log = cf->cycle->log;
    d->confirm.cancelable = 1;

    amcf->discovery = d;

    /* a model_not_found is checked against the channel's /models */
    if (acf->discovery.enabled
        && ngx_http_airouter_live_on_suspect(cf, amcf,
                                       ngx_http_airouter_discovery_suspect)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    /*
     * The start-up catalogue was built when airouter_config was read, maybe
     * before the airouter_pricing_file lines: build it again with them.
     */
    if (amcf->pricing) {
        airouter_catalog_blob_free(amcf->catalog_blob);
        amcf->catalog_blob = NULL;
        amcf->catalog = NULL;

        if (ngx_http_airouter_catalog_build(cf, amcf) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return ngx_http_airouter_catalog_init_cache(cf, amcf);
}


/*
 * The request(s) of channel i: its endpoint (address, Host, TLS name, one
 * block of key headers per key, ngx_http_airouter_endpoint.c) and the path
 * of its /models URL.  A channel without an endpoint is left to its
 * configured models, with the reason in its state.
 */
static ngx_int_t
ngx_http_airouter_discovery_target(ngx_conf_t *cf,
    ngx_http_airouter_disc_t *d, ngx_uint_t i)
{
    u_char                           *p, *url, *end;
    size_t                            len;
    ngx_str_t                         uri;
    ngx_uint_t                        k;
    airouter_channel_t               *ch;
    ngx_http_core_loc_conf_t         *clcf;
    ngx_http_airouter_endpoint_t     *ep;
    ngx_http_airouter_disc_target_t  *t;
    ngx_http_airouter_fetch_req_t    *req;

    ch = &d->amcf->config->channels[i];
    t = &d->targets[i];

    if (!ch->enabled) {
        return NGX_OK;
    }

    t->ch = ch;
    t->interval = ngx_http_airouter_discovery_interval(d->amcf, ch);

    ep = ngx_http_airouter_endpoint(cf, d->amcf, i);
    if (ep == NULL) {
        return NGX_ERROR;
    }

    if (ep->error) {
        t->error = ep->error;
        return NGX_OK;
    }

    t->ep = ep;

    len = airouter_config_url(ch, "/v1/models", NULL, 0);

    url = ngx_pnalloc(cf->pool, len + 1);
    if (url == NULL) {
        return NGX_ERROR;
    }

    (void) airouter_config_url(ch, "/v1/models", (char *) url, len + 1);
    end = url + len;

    /* the path: what follows the authority */
    p = (u_char *) ngx_strstr(url, "://");
    p = (p == NULL) ? end : p + 3;

    while (p < end && *p != '/' && *p != '?' && *p != '#') {
        p++;
    }

    uri.data = p;
    uri.len = end - p;

    if (uri.len == 0) {
        ngx_str_set(&uri, "/");
    }

    if (ep->https) {
#if (NGX_SSL)
        if (d->ssl == NULL && ngx_http_airouter_discovery_ssl(cf, d) != NGX_OK)
        {
            return NGX_ERROR;
        }
#endif
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    t->nreqs = ep->nauth ? ep->nauth : 1;
    t->reqs = ngx_pcalloc(cf->pool,
                          t->nreqs * sizeof(ngx_http_airouter_fetch_req_t));
    if (t->reqs == NULL) {
        return NGX_ERROR;
    }

    for (k = 0; k < t->nreqs; k++) {
        req = &t->reqs[k];

        /* the address is the endpoint's at each run (kept fresh) */
        req->resolver = ep->resolver;
        req->resolver_timeout =
            (clcf->resolver_timeout == NGX_CONF_UNSET_MSEC)
            ? 30000 : clcf->resolver_timeout;
        req->resolve_name = ep->name;
        req->port = ep->port;

        req->host = ep->host;
        req->uri = uri;
        req->max_size = d->amcf->discovery_max_size;
        req->timeout = d->amcf->discovery_timeout;

#if (NGX_SSL)
        if (ep->https) {
            req->ssl = d->ssl;
            req->verify = d->ssl_verify;
            req->server_name = ep->name;
        }
#endif

        if (ep->nauth) {
            req->headers = ep->auth[k];
        }
    }

    return NGX_OK;
}


#if (NGX_SSL)

/*
 * One client TLS context for every channel, verifying against the
 * http-level airouter_ssl_trusted_certificate (default: Debian's bundle)
 * unless airouter_ssl_verify is off there.
 */
static ngx_int_t
ngx_http_airouter_discovery_ssl(ngx_conf_t *cf, ngx_http_airouter_disc_t *d)
{
    ngx_str_t                      trusted;
    ngx_http_airouter_loc_conf_t  *alcf;

    alcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_airouter_module);

    d->ssl_verify = (alcf->ssl_verify == NGX_CONF_UNSET)
                    ? 1 : alcf->ssl_verify;

    if (alcf->ssl_trusted_certificate.data) {
        trusted = alcf->ssl_trusted_certificate;

    } else {
        ngx_str_set(&trusted, "/etc/ssl/certs/ca-certificates.crt");
    }

    d->ssl = ngx_http_airouter_ssl_client(cf, d->ssl_verify, &trusted);

    return d->ssl ? NGX_OK : NGX_ERROR;
}

#endif


/*
 * Redis: the lock lasts the shortest interval plus a lease (its holder
 * takes it again while it lives); the stored catalogue three of the
 * longest intervals.
 */
static ngx_msec_t
ngx_http_airouter_discovery_redis_ttl(ngx_http_airouter_disc_t *d,
    ngx_uint_t lock)
{
    time_t      s, lo, hi;
    ngx_uint_t  i;

    lo = 0;
    hi = 0;

    for (i = 0; i < d->ntargets; i++) {
        if (d->targets[i].ch == NULL) {
            continue;
        }

        s = ngx_http_airouter_discovery_interval(d->amcf, d->targets[i].ch);
        lo = (lo == 0) ? s : ngx_min(lo, s);
        hi = ngx_max(hi, s);
    }

    if (lo == 0) {
        lo = 3600;
        hi = 3600;
    }

    if (lock) {
        return (ngx_msec_t) (lo + d->amcf->discovery_timeout / 1000 * 2 + 60)
               * 1000;
    }

    return (ngx_msec_t) hi * 3 * 1000;
}


static time_t
ngx_http_airouter_discovery_interval(ngx_http_airouter_main_conf_t *amcf,
    airouter_channel_t *ch)
{
    double  s;

    s = ch->discovery_interval > 0 ? ch->discovery_interval
                                   : amcf->config->discovery.interval_hours
                                     * 3600;

    return s < 60 ? 60 : (time_t) s;
}


ngx_int_t
ngx_http_airouter_discovery_init_zone(ngx_http_airouter_zone_t *zone)
{
    ngx_uint_t                       n;
    ngx_http_airouter_disc_sh_t     *ds;
    ngx_http_airouter_main_conf_t   *amcf;
    ngx_http_airouter_disc_chan_t   *chans;

    amcf = zone->amcf;

    if (amcf->config == NULL) {
        return NGX_OK;
    }

    ngx_shmtx_lock(&zone->shpool->mutex);

    ds = zone->sh->discovery;

    if (ds == NULL) {
        ds = ngx_slab_calloc_locked(zone->shpool,
                                    sizeof(ngx_http_airouter_disc_sh_t));
        if (ds == NULL) {
            goto failed;
        }

        zone->sh->discovery = ds;
    }

    if (ds->channels == NULL || ds->fingerprint != amcf->fingerprint) {
        /* another configuration: its channels are not ours, start over */
        n = amcf->config->nchannels ? amcf->config->nchannels : 1;

        chans = ngx_slab_calloc_locked(zone->shpool,
                               n * sizeof(ngx_http_airouter_disc_chan_t));
        if (chans == NULL) {
            goto failed;
        }

        if (ds->channels) {
            ngx_slab_free_locked(zone->shpool, ds->channels);
        }

        ds->channels = chans;
        ds->nchannels = amcf->config->nchannels;
        ds->fingerprint = amcf->fingerprint;
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return NGX_OK;

failed:

    ngx_shmtx_unlock(&zone->shpool->mutex);

    ngx_log_error(NGX_LOG_EMERG, zone->amcf->shm_zone->shm.log, 0,
                  "airouter: zone \"%V\" is too small for the discovery "
                  "state", &amcf->zone_name);

    return NGX_ERROR;
}


/* The zone's discovery state when it is this configuration's, else NULL. */
static ngx_http_airouter_disc_sh_t *
ngx_http_airouter_discovery_sh(ngx_http_airouter_main_conf_t *amcf,
    ngx_http_airouter_zone_t **zonep)
{
    ngx_http_airouter_zone_t     *zone;
    ngx_http_airouter_disc_sh_t  *ds;

    zone = ngx_http_airouter_zone_get(amcf);
    if (zone == NULL || zone->sh == NULL || amcf->discovery == NULL) {
        return NULL;
    }

    ds = zone->sh->discovery;
    if (ds == NULL) {
        return NULL;
    }

    *zonep = zone;

    return ds;
}


ngx_int_t
ngx_http_airouter_discovery_init_process(ngx_cycle_t *cycle)
{
    time_t                           now;
    ngx_uint_t                       i;
    airouter_config_t               *acf;
    ngx_http_airouter_zone_t        *zone;
    ngx_http_airouter_disc_t        *d;
    ngx_http_airouter_disc_sh_t     *ds;
    ngx_http_airouter_disc_chan_t   *cs;
    ngx_http_airouter_main_conf_t   *amcf;

    if (cycle->conf_ctx[ngx_http_module.index] == NULL) {
        return NGX_OK;
    }

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_airouter_module);
    if (amcf == NULL || amcf->config == NULL || amcf->discovery == NULL) {
        return NGX_OK;
    }

    d = amcf->discovery;
    d->timer.log = cycle->log;
    d->confirm.log = cycle->log;
    acf = amcf->config;

    if ((ngx_process != NGX_PROCESS_WORKER
         && ngx_process != NGX_PROCESS_SINGLE)
        || ngx_worker != 0 || !acf->discovery.enabled)
    {
        return NGX_OK;
    }

    ds = ngx_http_airouter_discovery_sh(amcf, &zone);
    if (ds == NULL) {
        return NGX_OK;
    }

    now = ngx_time();

    /* first schedule of this configuration; a respawned worker 0 or a
     * reload with the same configuration keeps the running one */
    ngx_shmtx_lock(&zone->shpool->mutex);

    if (ds->fingerprint == amcf->fingerprint) {
        for (i = 0; i < d->ntargets; i++) {
            cs = &ds->channels[i];

            if (d->targets[i].ch && cs->next_run == 0) {
                cs->next_run = acf->discovery.run_on_startup
                               ? now : now + d->targets[i].interval;
            }
        }
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    d->timer_owner = 1;
    ngx_add_timer(&d->timer, amcf->discovery_delay + ngx_random() % 1000);

    return NGX_OK;
}


static void
ngx_http_airouter_discovery_timer(ngx_event_t *ev)
{
    ngx_int_t                  rc;
    ngx_http_airouter_disc_t  *d;

    d = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    if (d->run) {
        return;                         /* its end re-arms the timer */
    }

    /* with airouter_redis one host runs it: the lock's winner */
    rc = ngx_http_airouter_redis_discovery_lock(d->amcf,
             ngx_http_airouter_discovery_redis_ttl(d, 1),
             ngx_http_airouter_discovery_locked, d);

    if (rc == NGX_OK) {
        return;                         /* the answer decides */
    }

    if (rc == NGX_AGAIN) {
        ngx_add_timer(&d->timer, 200);
        return;
    }

    ngx_http_airouter_discovery_locked(d, -1);
}


/* The lock's answer: 1 won, 0 lost, -1 no Redis: run locally. */
static void
ngx_http_airouter_discovery_locked(void *data, ngx_int_t won)
{
    ngx_int_t                  rc;
    ngx_http_airouter_disc_t  *d = data;

    if (ngx_exiting || ngx_quit || ngx_terminate || d->run) {
        return;
    }

    if (won == 0) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "airouter: discovery: another host holds the lock");
        ngx_http_airouter_discovery_schedule(d,
                                         NGX_HTTP_AIROUTER_DISC_BUSY_RETRY);
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "airouter: discovery: %s",
                   won == 1 ? "this host holds the Redis lock"
                            : "no Redis lock: running locally");

    rc = ngx_http_airouter_discovery_start(d, 0, NULL);

    if (rc == NGX_OK) {
        return;
    }

    ngx_http_airouter_discovery_schedule(d,
        rc == NGX_DECLINED ? 0 : NGX_HTTP_AIROUTER_DISC_BUSY_RETRY);
}


/*
 * Worker 0's next wake-up: the earliest channel's next run (delay 0), or
 * delay seconds from now; never later than an hour, so schedules changed
 * by another process are picked up.
 */
static void
ngx_http_airouter_discovery_schedule(ngx_http_airouter_disc_t *d,
    time_t delay)
{
    time_t                          now, next;
    ngx_uint_t                      i;
    ngx_http_airouter_zone_t       *zone = NULL;
    ngx_http_airouter_disc_sh_t    *ds;

    if (!d->timer_owner || ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    now = ngx_time();

    if (delay == 0) {
        delay = NGX_HTTP_AIROUTER_DISC_RECHECK;

        ds = ngx_http_airouter_discovery_sh(d->amcf, &zone);

        if (ds) {
            ngx_shmtx_lock(&zone->shpool->mutex);

            if (ds->fingerprint == d->amcf->fingerprint) {
                for (i = 0; i < d->ntargets; i++) {
                    if (d->targets[i].ch == NULL) {
                        continue;
                    }

                    next = ds->channels[i].next_run - now;
                    delay = ngx_min(delay, ngx_max(next, 1));
                }
            }

            ngx_shmtx_unlock(&zone->shpool->mutex);
        }
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "airouter: discovery: next wake-up in %T s", delay);

    ngx_add_timer(&d->timer, (ngx_msec_t) delay * 1000 + ngx_random() % 1000);
}


/*
 * Starts a run of the due channels (every enabled one when forced), with
 * r waiting for its end when given.  NGX_OK: running (r joined it);
 * NGX_DECLINED: nothing due; NGX_BUSY: another process holds the lease.
 */
static ngx_int_t
ngx_http_airouter_discovery_start(ngx_http_airouter_disc_t *d,
    ngx_uint_t forced, ngx_http_request_t *r)
{
    time_t                            now, lease;
    ngx_uint_t                        i, k, due, busy;
    ngx_pool_t                       *pool;
    ngx_pool_cleanup_t               *cln;
    ngx_http_request_t              **w;
    ngx_http_airouter_zone_t         *zone;
    ngx_http_airouter_disc_sh_t      *ds;
    ngx_http_airouter_disc_run_t     *run;
    ngx_http_airouter_disc_ask_t     *ask;
    ngx_http_airouter_disc_target_t  *t;
    ngx_http_airouter_disc_result_t  *res;

    if (d->run) {
        if (r) {
            w = ngx_array_push(&d->run->waiters);
            if (w == NULL) {
                return NGX_ERROR;
            }

            *w = r;
        }

        return NGX_OK;
    }

    ds = ngx_http_airouter_discovery_sh(d->amcf, &zone);
    if (ds == NULL) {
        return NGX_DECLINED;
    }

    now = ngx_time();
    lease = (time_t) (d->amcf->discovery_timeout / 1000) * 2 + 60;
    due = 0;

    ngx_shmtx_lock(&zone->shpool->mutex);

    busy = ds->owner != 0 && ds->owner != ngx_pid && ds->lease_until > now
           && !(kill(ds->owner, 0) == -1 && ngx_errno == NGX_ESRCH);

    if (!busy && ds->fingerprint == d->amcf->fingerprint) {
        for (i = 0; i < d->ntargets; i++) {
            if (d->targets[i].ch
                && (forced || ds->channels[i].next_run <= now
                    || ngx_http_airouter_discovery_suspected(d, i)))
            {
                due++;
            }
        }

        if (due) {
            ds->owner = ngx_pid;
            ds->lease_until = now + lease;
        }
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    if (busy) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "airouter: discovery: lease held by process %P",
                       ds->owner);
        return NGX_BUSY;
    }

    if (due == 0) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "airouter: discovery: no channel due");
        return NGX_DECLINED;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "airouter: discovery: lease taken until %T, "
                   "%ui channel(s) due%s", now + lease, due,
                   forced ? " (forced)" : "");

    pool = ngx_create_pool(4096, ngx_cycle->log);
    if (pool == NULL) {
        ngx_http_airouter_discovery_release(d);
        return NGX_ERROR;
    }

    run = ngx_pcalloc(pool, sizeof(ngx_http_airouter_disc_run_t));
    if (run == NULL) {
        goto failed;
    }

    run->pool = pool;
    run->d = d;
    run->start = ngx_current_msec;
    run->done.handler = ngx_http_airouter_discovery_done_event;
    run->done.data = run;
    run->done.log = ngx_cycle->log;
    run->step.handler = ngx_http_airouter_discovery_step;
    run->step.data = run;
    run->step.log = ngx_cycle->log;
    run->parse.handler = ngx_http_airouter_discovery_parse;
    run->parse.data = run;
    run->parse.log = ngx_cycle->log;
    run->launch.handler = ngx_http_airouter_discovery_launch;
    run->launch.data = run;
    run->launch.log = ngx_cycle->log;
    ngx_queue_init(&run->answers);
    ngx_queue_init(&run->starting);

#if (NGX_THREADS)
    if (d->thread_pool) {
        run->task = ngx_thread_task_alloc(pool, 0);
        if (run->task == NULL) {
            goto failed;
        }

        run->task->ctx = run;
        run->task->handler = ngx_http_airouter_discovery_work;
        run->task->event.handler = ngx_http_airouter_discovery_worked;
        run->task->event.data = run;
        run->task->event.log = ngx_cycle->log;
        ngx_queue_init(&run->parsing);

        run->guard.handler = ngx_http_airouter_discovery_guard;
        run->guard.data = run;
        run->guard.log = ngx_cycle->log;
    }
#endif

    run->results = ngx_pcalloc(pool, (d->ntargets ? d->ntargets : 1)
                                     * sizeof(ngx_http_airouter_disc_result_t));
    if (run->results == NULL
        || ngx_array_init(&run->waiters, pool, 2, sizeof(ngx_http_request_t *))
           != NGX_OK)
    {
        goto failed;
    }

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        goto failed;
    }

    cln->handler = ngx_http_airouter_discovery_cleanup;
    cln->data = run;

    if (r) {
        w = ngx_array_push(&run->waiters);
        if (w == NULL) {
            goto failed;
        }

        *w = r;
    }

    d->run = run;

    ngx_shmtx_lock(&zone->shpool->mutex);

    for (i = 0; i < d->ntargets; i++) {
        if (d->targets[i].ch
            && (forced || ds->channels[i].next_run <= now
                || ngx_http_airouter_discovery_suspected(d, i)))
        {
            run->results[i].fresh = 1;
            ds->channels[i].last_attempt = now;
        }
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    for (i = 0; i < d->ntargets; i++) {
        t = &d->targets[i];
        res = &run->results[i];

        if (!res->fresh) {
            continue;
        }

        if (t->error) {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                           "airouter: discovery: \"%s\" not asked: %s",
                           t->ch->id, t->error);
            ngx_sprintf(res->error, "%s%Z", t->error);
            continue;
        }

        res->models = ngx_pcalloc(pool,
                                  t->nreqs * sizeof(airouter_model_info_t *));
        res->nmodels = ngx_pcalloc(pool, t->nreqs * sizeof(size_t));

        if (res->models == NULL || res->nmodels == NULL) {
            ngx_sprintf(res->error, "out of memory%Z");
            continue;
        }

        for (k = 0; k < t->nreqs; k++) {
            ask = ngx_pcalloc(pool, sizeof(ngx_http_airouter_disc_ask_t));
            if (ask == NULL) {
                ngx_sprintf(res->error, "out of memory%Z");
                break;
            }

            ask->run = run;
            ask->channel = i;
            ask->key = k;

            ngx_queue_insert_tail(&run->starting, &ask->queue);

            res->asked++;
            run->pending++;
        }
    }

    /* the first slice at the end of this turn, the rest in the next ones */
    ngx_post_event(run->pending ? &run->launch : &run->done,
                   &ngx_posted_events);

    return NGX_OK;

failed:

    ngx_destroy_pool(pool);
    ngx_http_airouter_discovery_release(d);

    return NGX_ERROR;
}


static void
ngx_http_airouter_discovery_release(ngx_http_airouter_disc_t *d)
{
    ngx_http_airouter_zone_t     *zone;
    ngx_http_airouter_disc_sh_t  *ds;

    ds = ngx_http_airouter_discovery_sh(d->amcf, &zone);
    if (ds == NULL) {
        return;
    }

    ngx_shmtx_lock(&zone->shpool->mutex);

    if (ds->owner == ngx_pid) {
        ds->owner = 0;
        ds->lease_until = 0;

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "airouter: discovery: lease released");
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);
}


/*
 * Starts the next NGX_HTTP_AIROUTER_DISC_STARTS fetches: a connect each,
 * so dozens of channels never make one long turn of the event loop.
 */
static void
ngx_http_airouter_discovery_launch(ngx_event_t *ev)
{
    ngx_uint_t                        n;
    ngx_queue_t                      *q;
    ngx_http_airouter_disc_ask_t     *ask;
    ngx_http_airouter_disc_run_t     *run;
    ngx_http_airouter_disc_target_t  *t;
    ngx_http_airouter_disc_result_t  *res;

    run = ev->data;

    for (n = 0; n < NGX_HTTP_AIROUTER_DISC_STARTS; n++) {
        if (ngx_queue_empty(&run->starting)) {
            return;
        }

        q = ngx_queue_head(&run->starting);
        ngx_queue_remove(q);
        ask = ngx_queue_data(q, ngx_http_airouter_disc_ask_t, queue);

        t = &run->d->targets[ask->channel];
        res = &run->results[ask->channel];

        t->reqs[ask->key].addr = t->ep->addr;

        ngx_log_debug4(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                       "airouter: discovery: \"%s\" key %ui: GET %V%V",
                       t->ch->id, ask->key + 1, &t->reqs[ask->key].host,
                       &t->reqs[ask->key].uri);

        if (ngx_exiting || ngx_quit || ngx_terminate
            || ngx_http_airouter_fetch_start(&t->reqs[ask->key],
                                             ngx_http_airouter_discovery_answer,
                                             ask, ev->log)
               == NULL)
        {
            ngx_sprintf(res->error, "%s%Z", ngx_exiting || ngx_quit
                                            || ngx_terminate
                                            ? "the worker is exiting"
                                            : "out of memory");
            res->asked--;

            if (--run->pending == 0) {
                ngx_http_airouter_discovery_finish(run);
                return;
            }
        }
    }

    if (!ngx_queue_empty(&run->starting)) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                       "airouter: discovery: %ui fetches started, the next "
                       "ones in the next turn", n);
        ngx_post_event(&run->launch, &ngx_posted_next_events);
    }
}


/* The /models answers are malloc'd by airouter_models_json_parse(). */
static void
ngx_http_airouter_discovery_cleanup(void *data)
{
    ngx_http_airouter_disc_run_t *run = data;

    ngx_queue_t                   *q;
    ngx_http_airouter_disc_ask_t  *ask;

    if (run->builder) {
        airouter_catalog_builder_destroy(run->builder);
        run->builder = NULL;
    }

    if (run->step.posted) {
        ngx_delete_posted_event(&run->step);
    }

    if (run->parse.posted) {
        ngx_delete_posted_event(&run->parse);
    }

    if (run->launch.posted) {
        ngx_delete_posted_event(&run->launch);
    }

#if (NGX_THREADS)
    if (run->guard.timer_set) {
        ngx_del_timer(&run->guard);
    }

    /* a catalogue not published: its room in the zone, its tmp file */
    if (run->copy || run->cache.written) {
        ngx_http_airouter_catalog_unreserve(run->d->amcf, run->copy,
                                            &run->cache);
        run->copy = NULL;
    }

    /* published, and no thread took the replaced file's blocks */
    ngx_http_airouter_catalog_cache_drop(&run->cache);
#endif

    if (run->blob) {
        airouter_catalog_blob_free(run->blob);
        run->blob = NULL;
    }

    /* the bodies still queued */
    while (!ngx_queue_empty(&run->answers)) {
        q = ngx_queue_head(&run->answers);
        ngx_queue_remove(q);
        ask = ngx_queue_data(q, ngx_http_airouter_disc_ask_t, queue);
        ngx_http_airouter_discovery_drop_body(ask);
    }

    ngx_http_airouter_discovery_free_models(run);
}


/* The parsed /models answers; it may run in a thread (after the run). */
static void
ngx_http_airouter_discovery_free_models(ngx_http_airouter_disc_run_t *run)
{
    ngx_uint_t                        i, k;
    ngx_http_airouter_disc_result_t  *res;

    for (i = 0; i < run->d->ntargets; i++) {
        res = &run->results[i];

        if (res->models == NULL) {
            continue;
        }

        for (k = 0; k < run->d->targets[i].nreqs; k++) {
            if (res->models[k]) {
                airouter_models_json_free(res->models[k]);
                res->models[k] = NULL;
            }
        }
    }
}


/* One (channel, key) answered or failed. */
static void
ngx_http_airouter_discovery_answer(ngx_http_airouter_fetch_t *f)
{
    ngx_uint_t                        level;
    ngx_http_airouter_disc_ask_t     *ask;
    ngx_http_airouter_disc_run_t     *run;
    ngx_http_airouter_disc_result_t  *res;

    ask = f->data;
    run = ask->run;
    res = &run->results[ask->channel];

    if (f->status) {
        res->http_status = f->status;
    }

    if (f->error) {
        ngx_sprintf(res->error, "%s%Z", f->error);

    } else if (f->status == NGX_HTTP_UNAUTHORIZED) {
        res->invalid++;
        ngx_sprintf(res->error, "key %ui refused: 401%Z", ask->key + 1);

    } else if (f->status == NGX_HTTP_NOT_FOUND
               || f->status == NGX_HTTP_NOT_ALLOWED
               || f->status == NGX_HTTP_NOT_IMPLEMENTED)
    {
        res->no_endpoint++;
        ngx_sprintf(res->error, "no /models endpoint (%ui): "
                    "configured_models serve%Z", f->status);

    } else if (f->status != NGX_HTTP_OK) {
        ngx_sprintf(res->error, "/models answered %ui%Z", f->status);

    } else {
        /* the body as read, not a copy: the fetch's pool goes with it */
        ask->fetch_pool = ngx_http_airouter_fetch_keep(f);
        ask->body = f->body;

        ngx_queue_insert_tail(&run->answers, &ask->queue);

        ngx_http_airouter_discovery_queued(run);

        return;                         /* pending until it is parsed */
    }

    /* a channel without /models (Doubao's endpoints) is no news */
    if (f->error || f->status != NGX_HTTP_OK) {
        level = res->no_endpoint ? NGX_LOG_INFO : NGX_LOG_WARN;
        ngx_log_error(level, f->log, 0, "airouter: discovery of \"%s\": %s",
                      run->d->targets[ask->channel].ch->id, res->error);

        ngx_log_debug4(NGX_LOG_DEBUG_HTTP, f->log, 0,
                       "airouter: discovery: \"%s\" key %ui failed "
                       "(status %ui): %s",
                       run->d->targets[ask->channel].ch->id, ask->key + 1,
                       f->status, res->error);
    }

    if (--run->pending == 0) {
        ngx_http_airouter_discovery_finish(run);
    }
}


/*
 * An answer's body and the fetch's pool that holds it, which only the one
 * that holds the answer touches (the event loop, or the thread while it
 * parses it): safe in the thread.
 */
static void
ngx_http_airouter_discovery_drop_body(ngx_http_airouter_disc_ask_t *ask)
{
    if (ask->fetch_pool) {
        ngx_destroy_pool(ask->fetch_pool);
        ask->fetch_pool = NULL;
    }

    ngx_str_null(&ask->body);
}


/*
 * A 200 answer was queued: parse it in the thread when one is there (a
 * job at a time: a job that runs takes the ones queued meanwhile when it
 * ends), else in a turn of the event loop of its own.
 */
static void
ngx_http_airouter_discovery_queued(ngx_http_airouter_disc_run_t *run)
{
#if (NGX_THREADS)
    if (run->task) {
        if (run->job == NGX_HTTP_AIROUTER_DISC_JOB_NONE
            && ngx_http_airouter_discovery_post(run,
                                     NGX_HTTP_AIROUTER_DISC_JOB_PARSE)
               != NGX_OK)
        {
            run->task = NULL;           /* the event loop parses them */

        } else {
            return;
        }
    }
#endif

    if (!run->parse.posted) {
        ngx_post_event(&run->parse, &ngx_posted_next_events);
    }
}


/* One queued 200 answer parsed per turn; the last one ends the fetches. */
static void
ngx_http_airouter_discovery_parse(ngx_event_t *ev)
{
    int                            rc;
    char                           err[128];
    size_t                         n;
    ngx_queue_t                   *q;
    airouter_model_info_t         *models;
    ngx_http_airouter_disc_ask_t  *ask;
    ngx_http_airouter_disc_run_t  *run;

    run = ev->data;

    if (ngx_queue_empty(&run->answers)) {
        return;
    }

    q = ngx_queue_head(&run->answers);
    ngx_queue_remove(q);
    ask = ngx_queue_data(q, ngx_http_airouter_disc_ask_t, queue);

    models = NULL;
    n = 0;
    err[0] = '\0';

    rc = airouter_models_json_parse((char *) ask->body.data, ask->body.len,
                                    &models, &n, err, sizeof(err));

    if (!ngx_queue_empty(&run->answers)) {
        ngx_post_event(&run->parse, &ngx_posted_next_events);
    }

    ngx_http_airouter_discovery_parsed(ask, rc, models, n, err, ev->log);
}


/*
 * The outcome of parsing one answer, on the event loop's side: the
 * channel's result takes it, the body goes back, and the last answer ends
 * the fetches.
 */
static void
ngx_http_airouter_discovery_parsed(ngx_http_airouter_disc_ask_t *ask, int rc,
    airouter_model_info_t *models, size_t n, const char *err, ngx_log_t *log)
{
    ngx_http_airouter_disc_run_t     *run;
    ngx_http_airouter_disc_result_t  *res;

    run = ask->run;
    res = &run->results[ask->channel];

    if (rc != 0) {
        ngx_sprintf(res->error, "invalid /models answer: %s%Z", err);

    } else {
        res->models[ask->key] = models;
        res->nmodels[ask->key] = n;
        res->ok++;

        ngx_log_debug4(NGX_LOG_DEBUG_HTTP, log, 0,
                       "airouter: discovery: \"%s\" key %ui answered %ui: "
                       "%uz models", run->d->targets[ask->channel].ch->id,
                       ask->key + 1, (ngx_uint_t) NGX_HTTP_OK, n);
    }

    /* a large answer is a large allocation: it goes back at once (the
     * thread gave it back already) */
    ngx_http_airouter_discovery_drop_body(ask);

    if (--run->pending == 0) {
        ngx_http_airouter_discovery_finish(run);
    }
}


#if (NGX_THREADS)

/* Hands the next job to the thread pool. */
static ngx_int_t
ngx_http_airouter_discovery_post(ngx_http_airouter_disc_run_t *run,
    ngx_uint_t job)
{
    if (job == NGX_HTTP_AIROUTER_DISC_JOB_PARSE) {
        /* the answers queued now are the thread's until the job ends */
        ngx_queue_add(&run->parsing, &run->answers);
        ngx_queue_init(&run->answers);
    }

    run->job = job;

    /*
     * A timer that is not cancelable: a worker that starts exiting waits
     * for the job's end, and the run ends as any run does (lease released,
     * the temporary cache file deleted), instead of leaving with it.
     */
    if (!run->guard.timer_set) {
        ngx_add_timer(&run->guard, NGX_HTTP_AIROUTER_DISC_JOB_GUARD);
    }

    if (ngx_thread_task_post(run->d->thread_pool, run->task) != NGX_OK) {
        ngx_del_timer(&run->guard);
        run->job = NGX_HTTP_AIROUTER_DISC_JOB_NONE;

        if (job == NGX_HTTP_AIROUTER_DISC_JOB_PARSE) {
            ngx_queue_add(&run->answers, &run->parsing);
            ngx_queue_init(&run->parsing);
        }

        return NGX_ERROR;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "airouter: discovery: %s in a thread",
                   job == NGX_HTTP_AIROUTER_DISC_JOB_PARSE
                   ? "parsing answers"
                   : job == NGX_HTTP_AIROUTER_DISC_JOB_BUILD
                     ? "building the catalogue"
                     : job == NGX_HTTP_AIROUTER_DISC_JOB_COPY
                       ? "copying the catalogue into the zone"
                       : "freeing the answers");

    return NGX_OK;
}


/*
 * In a thread of the pool, at idle priority while our job runs: on a
 * small machine the thread competes for the CPU with the workers that
 * serve requests, and a catalogue may as well be built with what they
 * leave.  SCHED_IDLE (Linux) only when the thread may come back from it
 * (CAP_SYS_NICE, or RLIMIT_NICE allowing its nice value: see
 * ngx_http_airouter_discovery_may_restore), because the pool's threads
 * serve other modules too ("aio threads"); restored after the job.
 */
static void
ngx_http_airouter_discovery_work(void *data, ngx_log_t *log)
{
    ngx_http_airouter_disc_run_t *run = data;

#if (NGX_HTTP_AIROUTER_DISC_IDLE)
    int                 policy, now;
    struct sched_param  param, idle;

    run->priority = NGX_HTTP_AIROUTER_DISC_PRIO_SAME;

    if (pthread_getschedparam(pthread_self(), &policy, &param) != 0
        || policy == SCHED_IDLE
        || !ngx_http_airouter_discovery_may_restore())
    {
        ngx_http_airouter_discovery_job(run);
        return;
    }

    ngx_memzero(&idle, sizeof(struct sched_param));

    if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle) != 0) {
        ngx_http_airouter_discovery_job(run);
        return;
    }

    ngx_http_airouter_discovery_job(run);

    run->priority = NGX_HTTP_AIROUTER_DISC_PRIO_IDLE;

    if (pthread_setschedparam(pthread_self(), policy, &param) != 0
        || pthread_getschedparam(pthread_self(), &now, &idle) != 0
        || now != policy)
    {
        run->priority = NGX_HTTP_AIROUTER_DISC_PRIO_STUCK;
    }

#else
    run->priority = NGX_HTTP_AIROUTER_DISC_PRIO_SAME;
    ngx_http_airouter_discovery_job(run);
#endif
}


#if (NGX_HTTP_AIROUTER_DISC_IDLE)

/*
 * Whether this thread could leave SCHED_IDLE again: Linux lets a thread
 * without CAP_SYS_NICE do so only when RLIMIT_NICE would allow its nice
 * value (20 - nice).  ngx_http_airouter_discovery_conf raises the limit
 * in a master that runs as root, for workers that run as another user.
 */
static ngx_uint_t
ngx_http_airouter_discovery_may_restore(void)
{
    int                                nice;
    struct rlimit                      rl;
    struct __user_cap_header_struct    hdr;
    struct __user_cap_data_struct      caps[2];

    ngx_memzero(&hdr, sizeof(hdr));
    hdr.version = _LINUX_CAPABILITY_VERSION_3;

    if (syscall(SYS_capget, &hdr, caps) == 0
        && (caps[CAP_TO_INDEX(CAP_SYS_NICE)].effective
            & CAP_TO_MASK(CAP_SYS_NICE)))
    {
        return 1;
    }

    errno = 0;
    nice = getpriority(PRIO_PROCESS, 0);    /* this thread's */

    if ((nice == -1 && errno != 0) || getrlimit(RLIMIT_NICE, &rl) != 0) {
        return 0;
    }

    return rl.rlim_cur == RLIM_INFINITY
           || rl.rlim_cur >= (rlim_t) (20 - nice);
}



/*
 * A master that runs as root lets its workers (another user, no
 * CAP_SYS_NICE) bring a thread back from SCHED_IDLE to nice 0: RLIMIT_NICE
 * 20, inherited by the workers it forks.  It allows nothing above nice 0.
 * Without it (a master that is not root, a negative worker_priority), the
 * jobs run at the thread's own priority.
 */
static void
ngx_http_airouter_discovery_nice_limit(ngx_conf_t *cf)
{
    struct rlimit  rl, raised;

    if (getrlimit(RLIMIT_NICE, &rl) != 0
        || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= 20)
    {
        return;
    }

    raised = rl;
    raised.rlim_cur = 20;

    if (raised.rlim_max != RLIM_INFINITY && raised.rlim_max < 20) {
        raised.rlim_max = 20;
    }

    if (setrlimit(RLIMIT_NICE, &raised) == 0) {
        return;
    }

    /* no CAP_SYS_RESOURCE (a container): the soft limit up to the hard */
    if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > rl.rlim_cur) {
        rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 20)
                      ? 20 : rl.rlim_max;
        (void) setrlimit(RLIMIT_NICE, &rl);
    }

    /* else CAP_SYS_NICE decides (the job's debug line says which) */
}

#endif


/*
 * The job itself: no shared memory, no pool but the answers' own (each
 * fetch's, which nothing else touches), nothing the event loop touches
 * meanwhile (see ngx_http_airouter_disc_run_t).
 */
static void
ngx_http_airouter_discovery_job(ngx_http_airouter_disc_run_t *run)
{
    void                        *blob;
    size_t                       len;
    ngx_uint_t                   i;
    ngx_queue_t                 *q;
    airouter_catalog_builder_t  *b;
    ngx_http_airouter_disc_ask_t  *ask;

    if (run->job == NGX_HTTP_AIROUTER_DISC_JOB_PARSE) {

        for (q = ngx_queue_head(&run->parsing);
             q != ngx_queue_sentinel(&run->parsing);
             q = ngx_queue_next(q))
        {
            ask = ngx_queue_data(q, ngx_http_airouter_disc_ask_t, queue);
            ask->err[0] = '\0';
            ask->rc = airouter_models_json_parse((char *) ask->body.data,
                                                 ask->body.len, &ask->models,
                                                 &ask->nmodels, ask->err,
                                                 sizeof(ask->err));

            /* its pages go back here, not on the event loop */
            ngx_http_airouter_discovery_drop_body(ask);
        }

        return;
    }

    if (run->job == NGX_HTTP_AIROUTER_DISC_JOB_COPY) {
        /* nothing reads the reserved room before the swap */
        ngx_memcpy(run->copy, run->blob, run->len);
        return;
    }

    if (run->job == NGX_HTTP_AIROUTER_DISC_JOB_FREE) {
        ngx_http_airouter_catalog_cache_drop(&run->cache);
        ngx_http_airouter_discovery_free_models(run);

        if (run->blob) {
            airouter_catalog_blob_free(run->blob);
            run->blob = NULL;
        }

        return;
    }

    b = run->builder;

    for (i = 0; i < run->d->ntargets; i++) {
        if (ngx_http_airouter_discovery_add_fresh(run, b, i) != NGX_OK) {
            goto failed;
        }
    }

    blob = airouter_catalog_builder_finish(b, &len);
    if (blob == NULL) {
        goto failed;
    }

    /* thousands of entries go back here, not on the event loop */
    airouter_catalog_builder_destroy(b);
    run->builder = NULL;

    run->built = airouter_catalog_open(blob, len);

    if (run->built == NULL) {
        airouter_catalog_blob_free(blob);
        ngx_cpystrn((u_char *) run->error,
                    (u_char *) "the built catalogue does not verify",
                    sizeof(run->error));
        return;
    }

    run->blob = blob;
    run->len = len;

    /* published by the event loop: the file is renamed into place then */
    ngx_http_airouter_catalog_cache_write(&run->cache, blob, len);

    return;

failed:

    ngx_cpystrn((u_char *) run->error,
                (u_char *) airouter_catalog_builder_error(b),
                sizeof(run->error));

    airouter_catalog_builder_destroy(b);
    run->builder = NULL;
}


/* A job that runs this long is stuck: say so (a thread is not stopped). */
static void
ngx_http_airouter_discovery_guard(ngx_event_t *ev)
{
    ngx_log_error(NGX_LOG_ALERT, ev->log, 0,
                  "airouter: discovery: a thread job has run for %M ms",
                  (ngx_msec_t) NGX_HTTP_AIROUTER_DISC_JOB_GUARD);

    ngx_add_timer(ev, NGX_HTTP_AIROUTER_DISC_JOB_GUARD);
}


/* A job ended: back on the event loop. */
static void
ngx_http_airouter_discovery_worked(ngx_event_t *ev)
{
    void                          *blob;
    ngx_uint_t                     job, exiting;
    ngx_queue_t                   *q, parsed;
    ngx_http_airouter_disc_ask_t  *ask;
    ngx_http_airouter_disc_run_t  *run;

    run = ev->data;
    job = run->job;
    run->job = NGX_HTTP_AIROUTER_DISC_JOB_NONE;

    if (run->guard.timer_set) {
        ngx_del_timer(&run->guard);
    }

    if (run->priority == NGX_HTTP_AIROUTER_DISC_PRIO_STUCK) {
        ngx_log_error(NGX_LOG_ALERT, ev->log, 0,
                      "airouter: discovery: a thread of the pool could not "
                      "leave SCHED_IDLE after its job");
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "airouter: discovery: the job ran %s",
                   run->priority == NGX_HTTP_AIROUTER_DISC_PRIO_IDLE
                   ? "at idle priority (SCHED_IDLE), then restored"
                   : "at the thread's own priority");

    if (job == NGX_HTTP_AIROUTER_DISC_JOB_PARSE) {
        ngx_queue_init(&parsed);
        ngx_queue_add(&parsed, &run->parsing);
        ngx_queue_init(&run->parsing);

        /* the answers queued meanwhile: the next job */
        if (!ngx_queue_empty(&run->answers)) {
            ngx_http_airouter_discovery_queued(run);
        }

        /* the last one may end the run: run is not read after it */
        while (!ngx_queue_empty(&parsed)) {
            q = ngx_queue_head(&parsed);
            ngx_queue_remove(q);
            ask = ngx_queue_data(q, ngx_http_airouter_disc_ask_t, queue);

            ngx_http_airouter_discovery_parsed(ask, ask->rc, ask->models,
                                               ask->nmodels, ask->err,
                                               ev->log);
        }

        return;
    }

    if (job == NGX_HTTP_AIROUTER_DISC_JOB_FREE) {
        ngx_http_airouter_discovery_respond(run, run->nmodels);
        ngx_destroy_pool(run->pool);    /* the run is over */
        return;
    }

    exiting = (ngx_exiting || ngx_quit || ngx_terminate);

    if (job == NGX_HTTP_AIROUTER_DISC_JOB_BUILD) {
        /* the thread destroyed the builder */

        if (run->blob == NULL) {
            ngx_log_error(NGX_LOG_ERR, ev->log, 0, "airouter: discovery: %s",
                          run->error);

        } else if (!exiting) {
            /* the thread copies it into the zone: page faults included */
            run->copy = ngx_http_airouter_catalog_reserve(run->d->amcf,
                                                          run->len, ev->log);

            if (run->copy
                && ngx_http_airouter_discovery_post(run,
                                            NGX_HTTP_AIROUTER_DISC_JOB_COPY)
                   == NGX_OK)
            {
                return;
            }

            if (run->copy) {
                ngx_memcpy(run->copy, run->blob, run->len);
            }
        }
    }

    /*
     * A worker told to stop publishes nothing: the current catalogue
     * stays; the cleanup gives back the zone's room, the blob and the
     * temporary cache file.
     */
    blob = NULL;

    if (run->copy && !exiting) {
        blob = run->blob;
        run->blob = NULL;               /* complete() frees it */
    }

    ngx_http_airouter_discovery_complete(run, blob, run->len);
}

#endif


static void
ngx_http_airouter_discovery_done_event(ngx_event_t *ev)
{
    ngx_http_airouter_discovery_finish(ev->data);
}


/*
 * Every answer is in: decide whether the catalogue changes, and if so
 * start building the new one (ngx_http_airouter_discovery_step goes on
 * with it, a slice per turn of the event loop).
 */
static void
ngx_http_airouter_discovery_finish(ngx_http_airouter_disc_run_t *run)
{
    ngx_uint_t                        i, publish, *invalid;
    ngx_http_airouter_zone_t         *zone = NULL;
    ngx_http_airouter_disc_t         *d;
    ngx_http_airouter_disc_sh_t      *ds;
    ngx_http_airouter_disc_result_t  *res;
    ngx_http_airouter_main_conf_t    *amcf;

    d = run->d;
    amcf = d->amcf;

    ds = ngx_http_airouter_discovery_sh(amcf, &zone);

    invalid = ngx_pcalloc(run->pool, (d->ntargets ? d->ntargets : 1)
                                     * sizeof(ngx_uint_t));
    run->invalid = invalid;

    if (ds == NULL || invalid == NULL || ngx_exiting) {
        ngx_http_airouter_discovery_complete(run, NULL, 0);
        return;
    }

    /*
     * Publish when something changed: fresh models, or a channel whose
     * keys were all refused (it leaves the catalogue) or come back.
     */
    publish = 0;

    ngx_shmtx_lock(&zone->shpool->mutex);

    for (i = 0; i < d->ntargets; i++) {
        res = &run->results[i];

        if (ds->fingerprint != amcf->fingerprint) {
            break;
        }

        if (res->fresh) {
            if (res->ok) {
                publish = 1;
            }

            if (res->asked && res->invalid == res->asked) {
                invalid[i] = 1;
                publish = 1;

            } else if (ds->channels[i].state
                       == NGX_HTTP_AIROUTER_DISC_KEY_INVALID)
            {
                publish = 1;
            }

        } else if (d->targets[i].ch && ds->channels[i].state
                                       == NGX_HTTP_AIROUTER_DISC_KEY_INVALID)
        {
            invalid[i] = 1;
        }
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    run->publish = publish;

    if (publish) {
        run->builder = ngx_http_airouter_discovery_build(run, invalid);
    }

    if (run->builder == NULL) {
        ngx_http_airouter_discovery_complete(run, NULL, 0);
        return;
    }

#if (NGX_THREADS)
    if (run->task) {
        /* no names, no cache file: publish() writes none either */
        (void) ngx_http_airouter_catalog_cache_init(run->pool, amcf,
                                                    &run->cache);
        run->cache.sync = 1;

        if (ngx_http_airouter_discovery_post(run,
                                             NGX_HTTP_AIROUTER_DISC_JOB_BUILD)
            == NGX_OK)
        {
            return;
        }

        /* no thread after all: the event loop does it, in slices */
        run->task = NULL;
        ngx_memzero(&run->cache, sizeof(ngx_http_airouter_catalog_cache_t));

        for (i = 0; i < d->ntargets; i++) {
            if (ngx_http_airouter_discovery_add_fresh(run, run->builder, i)
                != NGX_OK)
            {
                break;
            }
        }

        if (i < d->ntargets
            || airouter_catalog_builder_finish_start(run->builder) != 0)
        {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "airouter: discovery: %s",
                          airouter_catalog_builder_error(run->builder));
            airouter_catalog_builder_destroy(run->builder);
            run->builder = NULL;
            ngx_http_airouter_discovery_complete(run, NULL, 0);
            return;
        }
    }
#endif

    /* after the events that are ready now: requests go first */
    ngx_post_event(&run->step, &ngx_posted_next_events);
}


/* One slice of the new catalogue; the last one lays it out. */
static void
ngx_http_airouter_discovery_step(ngx_event_t *ev)
{
    ngx_int_t                      rc;
    ngx_http_airouter_disc_run_t  *run;

    run = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        rc = -1;                        /* the current catalogue stays */

    } else {
        rc = airouter_catalog_builder_finish_step(run->builder,
                                                  NGX_HTTP_AIROUTER_DISC_SLICE);
        run->slices++;

        if (rc == 1) {
            ngx_post_event(&run->step, &ngx_posted_next_events);
            return;
        }

        if (rc == 0) {
            run->blob = airouter_catalog_builder_finish_end(run->builder,
                                                            &run->len);
        }

        if (run->blob == NULL) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "airouter: discovery: %s",
                          airouter_catalog_builder_error(run->builder));
        }
    }

    airouter_catalog_builder_destroy(run->builder);
    run->builder = NULL;

    if (run->blob) {
        /* the layout was this turn's share: publish in the next one */
        run->step.handler = ngx_http_airouter_discovery_publish;
        ngx_post_event(&run->step, &ngx_posted_next_events);
        return;
    }

    ngx_http_airouter_discovery_complete(run, NULL, 0);
}


static void
ngx_http_airouter_discovery_publish(ngx_event_t *ev)
{
    void                          *blob;
    ngx_http_airouter_disc_run_t  *run;

    run = ev->data;
    blob = run->blob;
    run->blob = NULL;                   /* complete() frees it */

    ngx_http_airouter_discovery_complete(run, blob, run->len);
}


/*
 * Zone and cache file; the file was written by the thread when one built
 * the catalogue.
 */
static ngx_int_t
ngx_http_airouter_discovery_publish_blob(ngx_http_airouter_disc_run_t *run,
    void *blob, size_t len)
{
#if (NGX_THREADS)
    if (run->copy) {
        ngx_http_airouter_catalog_publish_reserved(run->d->amcf, run->copy,
                                                   len, &run->cache,
                                                   ngx_cycle->log);
        run->copy = NULL;
        return NGX_OK;
    }
#endif

    return ngx_http_airouter_catalog_publish(run->d->amcf, blob, len,
                                             ngx_cycle->log);
}


/*
 * The end of a run: publish the new catalogue (blob, when one was built),
 * update each channel's state, confirm the suspects, release the lease,
 * answer the admin requests that wait, re-arm the timer.
 */
static void
ngx_http_airouter_discovery_complete(ngx_http_airouter_disc_run_t *run,
    void *blob, size_t len)
{
    time_t                            now, interval, backoff;
    ngx_uint_t                        i, k, state, ok, failed, nmodels;
    ngx_uint_t                       *invalid;
    const airouter_catalog_t         *cat;
    ngx_http_airouter_zone_t         *zone = NULL;
    ngx_http_airouter_disc_t         *d;
    ngx_http_airouter_disc_sh_t      *ds;
    ngx_http_airouter_disc_chan_t    *cs;
    ngx_http_airouter_disc_result_t  *res;
    ngx_http_airouter_main_conf_t    *amcf;

    d = run->d;
    amcf = d->amcf;
    now = ngx_time();
    cat = NULL;
    ok = 0;
    failed = 0;
    nmodels = 0;
    invalid = run->invalid;

    ds = ngx_http_airouter_discovery_sh(amcf, &zone);

    if (ds == NULL || invalid == NULL || ngx_exiting) {
        goto done;
    }

    if (blob) {
#if (NGX_THREADS)
        /* verified in the thread */
        cat = run->built ? run->built : airouter_catalog_open(blob, len);
#else
        cat = airouter_catalog_open(blob, len);
#endif

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "airouter: discovery: catalogue built: %uz bytes, "
                       "%uD models, %ui slices", len,
                       cat ? airouter_catalog_nmodels(cat) : 0, run->slices);

        if (cat == NULL) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "airouter: discovery could not build a catalogue");

        } else if (ngx_http_airouter_discovery_publish_blob(run, blob, len)
                   == NGX_OK)
        {
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                           "airouter: discovery: catalogue published");

            ngx_http_airouter_redis_catalogue(amcf, blob, len,
                ngx_http_airouter_discovery_redis_ttl(d, 0));

        } else {
            cat = NULL;
        }
    }

    if (cat == NULL) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "airouter: discovery: %s, the current catalogue "
                       "stays", run->publish ? "nothing published"
                                             : "no news");
        cat = ngx_http_airouter_catalog_current(amcf);
    }

    nmodels = airouter_catalog_nmodels(cat);

    ngx_shmtx_lock(&zone->shpool->mutex);

    if (ds->fingerprint == amcf->fingerprint) {

        for (i = 0; i < d->ntargets; i++) {
            res = &run->results[i];
            cs = &ds->channels[i];

            if (d->targets[i].ch == NULL) {
                continue;
            }

            if (cat->nchannels == d->ntargets) {
                cs->models = airouter_catalog_channel(cat, i)->nmodels;
            }

            if (!res->fresh) {
                continue;
            }

            interval = d->targets[i].interval;

            if (res->ok) {
                state = NGX_HTTP_AIROUTER_DISC_OK;
            } else if (invalid[i]) {
                state = NGX_HTTP_AIROUTER_DISC_KEY_INVALID;
            } else if (res->no_endpoint) {
                state = NGX_HTTP_AIROUTER_DISC_NO_ENDPOINT;
            } else {
                state = NGX_HTTP_AIROUTER_DISC_FAILED;
            }

            cs->state = state;
            cs->http_status = res->http_status;
            cs->keys = d->targets[i].nreqs;
            cs->keys_invalid = res->invalid;

            if (state == NGX_HTTP_AIROUTER_DISC_OK) {
                ok++;
                cs->last_success = now;
                cs->failures = 0;
                cs->next_run = now + interval;
                cs->discovered = 0;

                for (k = 0; k < d->targets[i].nreqs; k++) {
                    cs->discovered += res->nmodels[k];
                }

                /* some keys refused, or failed: say so, still OK */
                if (res->ok == res->asked) {
                    cs->error[0] = '\0';

                } else {
                    ngx_cpystrn(cs->error, res->error, sizeof(cs->error));
                }

            } else {
                failed++;
                cs->failures++;
                ngx_cpystrn(cs->error, res->error, sizeof(cs->error));

                /* /models that does not exist or a dead key: no hurry */
                backoff = (state == NGX_HTTP_AIROUTER_DISC_FAILED)
                          ? NGX_HTTP_AIROUTER_DISC_BACKOFF
                            << ngx_min(cs->failures - 1, 10)
                          : interval;

                cs->next_run = now + ngx_min(backoff, interval);
            }
        }

        ds->runs++;
        ds->last_run = now;
        ds->last_duration = ngx_current_msec - run->start;
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                  "airouter: discovery: %ui channels answered, %ui failed, "
                  "%ui models, %M ms", ok, failed, nmodels,
                  ngx_current_msec - run->start);

    ngx_http_airouter_discovery_confirm(run);

done:

    ngx_http_airouter_discovery_release(d);

    d->run = NULL;

    ngx_http_airouter_discovery_schedule(d, 0);

    /* suspects of channels this run did not ask: another run */
    if (d->suspects.nelts && !ngx_exiting) {
        ngx_add_timer(&d->confirm, 1000);
    }

#if (NGX_THREADS)
    if (run->task && blob) {
        run->blob = blob;               /* the FREE job frees it */
        blob = NULL;
    }
#endif

    if (blob) {
        airouter_catalog_blob_free(blob);
    }

    run->nmodels = nmodels;

#if (NGX_THREADS)
    /*
     * Thousands of parsed models, the catalogue's blob and the replaced
     * cache file's blocks go back in the thread; the admin requests that
     * wait are answered when it is done (a turn of their own, and nothing
     * of the run left behind them), then the pool goes.
     */
    if (run->task
        && ngx_http_airouter_discovery_post(run,
                                            NGX_HTTP_AIROUTER_DISC_JOB_FREE)
           == NGX_OK)
    {
        return;
    }
#endif

    ngx_http_airouter_discovery_respond(run, nmodels);
    ngx_destroy_pool(run->pool);
}


/*
 * The new catalogue: the configuration, then per channel its fresh
 * /models answers (a model without a price takes the channel's
 * cost_per_token), or what discovery had found of it before; all in one
 * go (the current catalogue is read only now), then the finish starts.
 * NULL when it could not be built (logged).
 */
static airouter_catalog_builder_t *
ngx_http_airouter_discovery_build(ngx_http_airouter_disc_run_t *run,
    const ngx_uint_t *invalid)
{
    ngx_int_t                         rc;
    ngx_uint_t                        i;
    const airouter_catalog_t         *cat;
    airouter_catalog_builder_t       *b;
    ngx_http_airouter_disc_t         *d;
    ngx_http_airouter_disc_result_t  *res;

    d = run->d;
    cat = ngx_http_airouter_catalog_current(d->amcf);

    if (cat && !airouter_catalog_fits(cat, d->amcf->config)) {
        cat = NULL;
    }

    b = airouter_catalog_builder_create(d->amcf->config);
    if (b == NULL) {
        return NULL;
    }

    rc = NGX_ERROR;

    if (airouter_catalog_builder_add_config(b) != 0) {
        goto done;
    }

    if (ngx_http_airouter_pricing_config(d->amcf, b) != NGX_OK) {
        goto done;
    }

    for (i = 0; i < d->ntargets; i++) {
        res = &run->results[i];

        if (invalid[i]) {
            if (airouter_catalog_builder_disable_channel(b, i) != 0) {
                goto done;
            }

            continue;
        }

        if (!res->fresh || res->ok == 0) {
            if (cat && ngx_http_airouter_discovery_add_previous(b, cat, i)
                       != NGX_OK)
            {
                goto done;
            }

            continue;
        }

#if (NGX_THREADS)
        if (run->task) {
            continue;                   /* the thread adds them */
        }
#endif

        if (ngx_http_airouter_discovery_add_fresh(run, b, i) != NGX_OK) {
            goto done;
        }
    }

#if (NGX_THREADS)
    if (run->task) {
        /* the catalogue is read only now: the thread needs it no more */
        return b;
    }
#endif

    if (airouter_catalog_builder_finish_start(b) == 0) {
        rc = NGX_OK;
    }

done:

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "airouter: discovery: %s",
                      airouter_catalog_builder_error(b));
        airouter_catalog_builder_destroy(b);
        return NULL;
    }

    return b;
}


/*
 * Channel i's fresh /models answers (a model without a price takes the
 * channel's cost_per_token, then the price files'); nothing for a channel
 * not asked, failed or refused.  It may run in a thread: it reads the
 * results, the configuration and the price tables, nothing else.
 */
static ngx_int_t
ngx_http_airouter_discovery_add_fresh(ngx_http_airouter_disc_run_t *run,
    airouter_catalog_builder_t *b, ngx_uint_t i)
{
    size_t                            j;
    ngx_uint_t                        k, nreqs;
    airouter_model_info_t             info;
    ngx_http_airouter_disc_result_t  *res;

    res = &run->results[i];
    nreqs = run->d->targets[i].nreqs;

    if (run->invalid[i] || !res->fresh || res->ok == 0) {
        return NGX_OK;
    }

    for (k = 0; k < nreqs; k++) {
        for (j = 0; j < res->nmodels[k]; j++) {
            info = res->models[k][j];
            ngx_http_airouter_pricing_price(run->d->amcf, i, &info);

            /* which keys list it, when keys may differ */
            if (nreqs > 1 && k < 32) {
                info.keys = (uint32_t) 1 << k;
            }

            if (airouter_catalog_builder_add_model(b, i, &info) != 0) {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


/* What discovery (or a models_file) had given channel before, again. */
static ngx_int_t
ngx_http_airouter_discovery_add_previous(airouter_catalog_builder_t *b,
    const airouter_catalog_t *cat, uint32_t channel)
{
    uint32_t                           i;
    airouter_model_info_t              info;
    const airouter_catalog_model_t    *m;
    const airouter_catalog_channel_t  *ch;

    ch = airouter_catalog_channel(cat, channel);

    for (i = ch->first_model; i < ch->first_model + ch->nmodels; i++) {
        m = airouter_catalog_model(cat, i);

        if (!(m->flags & AIROUTER_MODEL_DISCOVERED)) {
            continue;
        }

        ngx_memzero(&info, sizeof(airouter_model_info_t));

        info.id = airouter_catalog_model_id(cat, m);
        info.has_price = (m->flags & AIROUTER_MODEL_PRICED) ? 1 : 0;
        info.price_prompt = m->price_prompt;
        info.price_completion = m->price_completion;
        info.has_cache_read = m->price_cache_read >= 0;
        info.price_cache_read = m->price_cache_read;
        info.has_cache_write = m->price_cache_write >= 0;
        info.price_cache_write = m->price_cache_write;
        info.has_units = (m->flags & AIROUTER_MODEL_UNIT_PRICED) ? 1 : 0;
        info.units = m->price_unit;
        info.currency = airouter_catalog_model_currency(cat, m);
        info.context = m->context;
        info.max_output = m->max_output;
        info.params_total = m->params_total;
        info.params_active = m->params_active;
        info.caps = m->caps;
        info.caps_known = m->caps_known;
        info.free = (m->flags & AIROUTER_MODEL_FREE) ? 1 : 0;
        info.keys = m->keys;

        if (airouter_catalog_builder_add_model(b, channel, &info) != 0) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static void
ngx_http_airouter_discovery_respond(ngx_http_airouter_disc_run_t *run,
    ngx_uint_t nmodels)
{
    json_t               *body, *state;
    ngx_int_t             rc;
    ngx_uint_t            i;
    ngx_connection_t     *c;
    ngx_http_request_t  **w, *r;

    w = run->waiters.elts;

    for (i = 0; i < run->waiters.nelts; i++) {
        r = w[i];
        c = r->connection;

        state = ngx_http_airouter_discovery_json(run->d->amcf);

        body = json_pack("{s:s,s:I,s:I,s:o*}",
                         "status", "done",
                         "models", (json_int_t) nmodels,
                         "duration_ms",
                             (json_int_t) (ngx_current_msec - run->start),
                         "discovery", state);

        rc = ngx_http_airouter_send_json(r, NGX_HTTP_OK, body);

        ngx_http_finalize_request(r, rc);
        ngx_http_run_posted_requests(c);
    }
}


/*
 * Live state's on_suspect slot, in the request that saw the 404: note the
 * model, and start a run of its channel from the event loop.
 */
static void
ngx_http_airouter_discovery_suspect(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel, ngx_str_t *model)
{
    ngx_uint_t                         i;
    ngx_http_airouter_disc_t          *d;
    ngx_http_airouter_disc_suspect_t  *s;

    d = amcf->discovery;

    if (d == NULL || channel >= d->ntargets || d->targets[channel].ch == NULL
        || model->len > NGX_HTTP_AIROUTER_DISC_SUSPECT_LEN)
    {
        return;
    }

    s = d->suspects.elts;

    for (i = 0; i < d->suspects.nelts; i++) {
        if (s[i].channel == channel && s[i].len == model->len
            && ngx_memcmp(s[i].model, model->data, model->len) == 0)
        {
            return;                     /* already waiting */
        }
    }

    /* never grows: the array's first allocation is all it has */
    if (d->suspects.nelts == d->suspects.nalloc) {
        return;
    }

    s = ngx_array_push(&d->suspects);

    s->channel = channel;
    s->since = ngx_time();
    s->len = model->len;
    ngx_memcpy(s->model, model->data, model->len);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "airouter: discovery: \"%s\" does not know \"%V\": "
                   "asking its /models", d->targets[channel].ch->id, model);

    if (!d->confirm.timer_set && !d->confirm.posted) {
        ngx_post_event(&d->confirm, &ngx_posted_events);
    }
}


/* Starts a run for the suspects, or waits for the lease. */
static void
ngx_http_airouter_discovery_confirm_event(ngx_event_t *ev)
{
    time_t                             now;
    ngx_int_t                          rc;
    ngx_uint_t                         i, n;
    ngx_http_airouter_disc_t          *d;
    ngx_http_airouter_disc_suspect_t  *s;

    d = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    /* suspects too old to matter any more: their short blocks are over */
    now = ngx_time();
    s = d->suspects.elts;
    n = 0;

    for (i = 0; i < d->suspects.nelts; i++) {
        if (now - s[i].since < NGX_HTTP_AIROUTER_DISC_SUSPECT_TTL) {
            s[n++] = s[i];
        }
    }

    d->suspects.nelts = n;

    if (n == 0 || d->run) {
        return;                         /* a run's end looks at them */
    }

    rc = ngx_http_airouter_discovery_start(d, 0, NULL);

    if (rc == NGX_OK) {
        return;
    }

    if (rc == NGX_DECLINED) {
        /* another configuration serves the zone now */
        d->suspects.nelts = 0;
        return;
    }

    ngx_add_timer(&d->confirm, 1000);
}


static ngx_uint_t
ngx_http_airouter_discovery_suspected(ngx_http_airouter_disc_t *d,
    ngx_uint_t channel)
{
    ngx_uint_t                         i;
    ngx_http_airouter_disc_suspect_t  *s;

    s = d->suspects.elts;

    for (i = 0; i < d->suspects.nelts; i++) {
        if (s[i].channel == channel) {
            return 1;
        }
    }

    return 0;
}


/*
 * After a run: each suspect whose channel answered is confirmed (the
 * model is gone from /models: live state blocks it for the verdict's
 * period) or cleared (still listed: the short block stands); a channel
 * that failed cannot say, and leaves the short block too.
 */
static void
ngx_http_airouter_discovery_confirm(ngx_http_airouter_disc_run_t *run)
{
    size_t                             j;
    ngx_str_t                          model;
    ngx_uint_t                         i, k, n, listed;
    airouter_model_info_t             *m;
    ngx_http_airouter_disc_t          *d;
    ngx_http_airouter_disc_result_t   *res;
    ngx_http_airouter_disc_suspect_t  *s;

    d = run->d;
    s = d->suspects.elts;
    n = 0;

    for (i = 0; i < d->suspects.nelts; i++) {
        res = &run->results[s[i].channel];

        if (!res->fresh) {
            s[n++] = s[i];              /* not asked in this run */
            continue;
        }

        model.data = s[i].model;
        model.len = s[i].len;

        if (res->ok == 0) {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                           "airouter: discovery: \"%s\" could not say "
                           "whether it has \"%V\"",
                           d->targets[s[i].channel].ch->id, &model);
            continue;
        }

        listed = 0;

        for (k = 0; !listed && k < d->targets[s[i].channel].nreqs; k++) {
            m = res->models[k];

            for (j = 0; m && j < res->nmodels[k]; j++) {
                if (ngx_strlen(m[j].id) == model.len
                    && ngx_memcmp(m[j].id, model.data, model.len) == 0)
                {
                    listed = 1;
                    break;
                }
            }
        }

        (void) ngx_http_airouter_live_confirm(d->amcf, s[i].channel, &model,
                                              listed);

        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "airouter: discovery: \"%s\" %s \"%V\"%s",
                      d->targets[s[i].channel].ch->id,
                      listed ? "still lists" : "no longer lists", &model,
                      listed ? ": its model_not_found block stays short"
                             : ": blocked for the blacklist period");
    }

    d->suspects.nelts = n;
}


/*
 * A channel not tried yet is "pending" while discovery runs; with
 * discovery off it serves its configured models and nothing is awaited.
 */
static const char *
ngx_http_airouter_discovery_state_name(ngx_uint_t state, ngx_uint_t enabled)
{
    switch (state) {
    case NGX_HTTP_AIROUTER_DISC_OK:
        return "ok";
    case NGX_HTTP_AIROUTER_DISC_FAILED:
        return "failed";
    case NGX_HTTP_AIROUTER_DISC_NO_ENDPOINT:
        return "configured_models";
    case NGX_HTTP_AIROUTER_DISC_KEY_INVALID:
        return "key_invalid";
    default:
        return enabled ? "pending" : "static";
    }
}


static json_t *
ngx_http_airouter_discovery_time(time_t t)
{
    return t ? json_integer(t) : json_null();
}


json_t *
ngx_http_airouter_discovery_channel_json(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t i)
{
    ngx_uint_t                      mine;
    ngx_http_airouter_zone_t       *zone = NULL;
    ngx_http_airouter_disc_t       *d;
    ngx_http_airouter_disc_sh_t    *ds;
    ngx_http_airouter_disc_chan_t   cs;

    d = amcf->discovery;

    ds = ngx_http_airouter_discovery_sh(amcf, &zone);
    if (ds == NULL || i >= d->ntargets || d->targets[i].ch == NULL) {
        return NULL;
    }

    ngx_shmtx_lock(&zone->shpool->mutex);

    mine = (ds->fingerprint == amcf->fingerprint);
    if (mine) {
        cs = ds->channels[i];
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    if (!mine) {
        return NULL;
    }

    cs.error[sizeof(cs.error) - 1] = '\0';

    return json_pack("{s:s,s:o,s:o,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:s?}",
                     "state", ngx_http_airouter_discovery_state_name(cs.state,
                                  amcf->config->discovery.enabled),
                     "last_success",
                         ngx_http_airouter_discovery_time(cs.last_success),
                     "last_attempt",
                         ngx_http_airouter_discovery_time(cs.last_attempt),
                     "next_run",
                         ngx_http_airouter_discovery_time(cs.next_run),
                     "models", (json_int_t) cs.models,
                     "discovered", (json_int_t) cs.discovered,
                     "http_status", (json_int_t) cs.http_status,
                     "keys", (json_int_t) cs.keys,
                     "keys_invalid", (json_int_t) cs.keys_invalid,
                     "failures", (json_int_t) cs.failures,
                     "last_error",
                         cs.error[0] ? (char *) cs.error : NULL);
}


json_t *
ngx_http_airouter_discovery_json(ngx_http_airouter_main_conf_t *amcf)
{
    time_t                          last_run, lease_until;
    json_t                         *channels, *one, *o, *remote;
    ngx_uint_t                      i, running, runs;
    ngx_msec_t                      duration;
    ngx_http_airouter_zone_t       *zone = NULL;
    ngx_http_airouter_disc_t       *d;
    ngx_http_airouter_disc_sh_t    *ds;

    d = amcf->discovery;

    ds = ngx_http_airouter_discovery_sh(amcf, &zone);
    if (ds == NULL) {
        return NULL;
    }

    ngx_shmtx_lock(&zone->shpool->mutex);
    lease_until = ds->lease_until;
    running = ds->owner != 0;
    last_run = ds->last_run;
    duration = ds->last_duration;
    runs = ds->runs;
    ngx_shmtx_unlock(&zone->shpool->mutex);

    running = running && lease_until > ngx_time();

    channels = json_object();

    for (i = 0; i < d->ntargets; i++) {
        one = ngx_http_airouter_discovery_channel_json(amcf, i);

        if (one) {
            json_object_set_new(channels, d->targets[i].ch->id, one);
        }
    }

    o = json_pack("{s:b,s:b,s:I,s:o,s:I,s:o,s:s}",
                  "enabled", amcf->config->discovery.enabled,
                  "running", (int) running,
                  "runs", (json_int_t) runs,
                  "last_run", ngx_http_airouter_discovery_time(last_run),
                  "last_duration_ms", (json_int_t) duration,
                  "channels", channels,
                  "source", "local");

    /* the catalogue came from another host's run (airouter_redis) */
    remote = ngx_http_airouter_redis_catalogue_json(amcf);

    if (o && remote) {
        json_object_update(o, remote);
    }

    json_decref(remote);

    return o;
}


ngx_int_t
ngx_http_airouter_discovery_admin(ngx_http_request_t *r, ngx_str_t *path)
{
    ngx_int_t                       rc;
    json_t                         *state;
    ngx_http_airouter_main_conf_t  *amcf;

    if (path->len == sizeof("admin/discovery") - 1
        && ngx_strncmp(path->data, "admin/discovery", path->len) == 0)
    {
        if (r->method & NGX_HTTP_POST) {
            return ngx_http_airouter_discovery_admin_run(r);
        }

        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return NGX_HTTP_NOT_ALLOWED;
        }

        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        amcf = ngx_http_get_module_main_conf(r, ngx_http_airouter_module);
        state = ngx_http_airouter_discovery_json(amcf);

        return ngx_http_airouter_send_json(r, NGX_HTTP_OK,
                                           state ? state : json_object());
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_airouter_discovery_admin_run(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_http_airouter_disc_t       *d;
    ngx_http_airouter_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airouter_module);
    d = amcf->discovery;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (d == NULL) {
        return ngx_http_airouter_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                   "server_error", "discovery_unavailable",
                   "Discovery is not available in this configuration");
    }

    rc = ngx_http_airouter_discovery_start(d, 1, r);

    switch (rc) {

    case NGX_OK:
        ngx_http_airouter_audit(r, "discovery.run", "discovery", "-",
                                "started");
        r->main->count++;
        return NGX_DONE;

    case NGX_BUSY:
        return ngx_http_airouter_send_error(r, NGX_HTTP_CONFLICT,
                   "invalid_request_error", "discovery_running",
                   "Another nginx process is running discovery now");

    case NGX_DECLINED:
        return ngx_http_airouter_send_error(r, NGX_HTTP_CONFLICT,
                   "invalid_request_error", "discovery_unavailable",
                   "No enabled channel to discover, or this worker serves "
                   "an older configuration");

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}
