/*
 * Usage counters, budgets and channel daily limits in the shared zone;
 * see ngx_http_airouter_stats.h.
 */

#include "ngx_http_airouter_stats.h"
#include "ngx_http_airouter_switch.h"
#include "ngx_http_airouter_request.h"
#include "ngx_http_airouter_header.h"
#include "ngx_http_airouter_response.h"


#define NGX_HTTP_AIROUTER_STATS_EVICT      8


/*
 * The node's fields start at the rbtree node's color byte, as in
 * ngx_http_limit_req_module: the key (a hash of day, kind and name) is the
 * rbtree node's, the rest is compared on a collision.
 */
typedef struct {
    u_char                       color;
    u_char                       kind;
    u_char                       alerts;
    u_char                       len;
    u_char                       refused;       /* refusals logged in the
                                                   period: REFUSED_* */
    uint32_t                     day;
    ngx_queue_t                  queue;
    ngx_http_airouter_stats_counters_t  c;
    ngx_http_airouter_stats_counters_t  pending;  /* not yet in Redis */
    ngx_queue_t                  unsent;        /* in sh->unsent, or NULLs */
    uint32_t                     minute;        /* RATE: the current one */
    uint32_t                     count;         /* RATE: requests in it */
    double                       reserved;      /* TOTAL, KEY: USD held by
                                                   requests in progress
                                                   (never saved or shared) */
    u_char                       name[1];
} ngx_http_airouter_stats_node_t;


typedef struct {
    ngx_rbtree_t                 rbtree;
    ngx_rbtree_node_t            sentinel;
    ngx_queue_t                  queue;         /* newest first */
    ngx_queue_t                  unsent;        /* nodes that may have
                                                   pending counts */
    ngx_uint_t                   changed;       /* since the stats file
                                                   took it */
} ngx_http_airouter_stats_sh_t;


/*
 * A refusal is logged once per condition and period (a budget: the day's
 * node of the total or the key; a rate limit: the key's minute), the
 * others at debug level; not saved: a restart logs it again.
 */
#define NGX_HTTP_AIROUTER_REFUSED_GLOBAL   0x01
#define NGX_HTTP_AIROUTER_REFUSED_DAILY    0x02
#define NGX_HTTP_AIROUTER_REFUSED_MONTHLY  0x04
#define NGX_HTTP_AIROUTER_REFUSED_RATE     0x08


/* A budget's state when a request is refused for it. */
typedef struct {
    double                       spent;
    double                       held;          /* reserved, in progress */
    double                       budget;
} ngx_http_airouter_stats_use_t;


typedef enum {
    NGX_HTTP_AIROUTER_DENY_NONE = 0,
    NGX_HTTP_AIROUTER_DENY_GLOBAL,
    NGX_HTTP_AIROUTER_DENY_DAILY,
    NGX_HTTP_AIROUTER_DENY_MONTHLY,
    NGX_HTTP_AIROUTER_DENY_RATE
} ngx_http_airouter_deny_e;


static void ngx_http_airouter_stats_counters_add(
    ngx_http_airouter_stats_counters_t *to,
    const ngx_http_airouter_stats_counters_t *c);
static ngx_http_airouter_stats_sh_t *ngx_http_airouter_stats_sh(
    ngx_http_airouter_main_conf_t *amcf, ngx_slab_pool_t **shpool);
static uint32_t ngx_http_airouter_stats_hash(uint32_t day, ngx_uint_t kind,
    const u_char *name, size_t len);
static ngx_http_airouter_stats_node_t *ngx_http_airouter_stats_lookup(
    ngx_http_airouter_stats_sh_t *sh, uint32_t day, ngx_uint_t kind,
    const u_char *name, size_t len);
static ngx_http_airouter_stats_node_t *ngx_http_airouter_stats_get(
    ngx_http_airouter_stats_sh_t *sh, ngx_slab_pool_t *shpool, uint32_t day,
    ngx_uint_t kind, const u_char *name, size_t len);
static void ngx_http_airouter_stats_delete(ngx_http_airouter_stats_sh_t *sh,
    ngx_slab_pool_t *shpool, ngx_http_airouter_stats_node_t *sn);
static void ngx_http_airouter_stats_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static void ngx_http_airouter_stats_add(ngx_http_airouter_stats_node_t *sn,
    ngx_http_airouter_stats_counters_t *c);
static ngx_uint_t ngx_http_airouter_stats_alert(
    ngx_http_airouter_stats_node_t *sn, double budget, double threshold);
static void ngx_http_airouter_stats_log_alert(ngx_log_t *log,
    ngx_uint_t alert, const char *name, double spent, double budget,
    double threshold);
static uint32_t ngx_http_airouter_stats_month_start(uint32_t day);
static ngx_uint_t ngx_http_airouter_stats_limited(airouter_config_t *acf,
    const airouter_apikey_t *key, ngx_uint_t rate);
static ngx_http_airouter_deny_e ngx_http_airouter_stats_budgets_locked(
    ngx_http_airouter_stats_sh_t *sh, airouter_config_t *acf,
    const airouter_apikey_t *key, uint32_t today, double extra,
    ngx_http_airouter_stats_use_t *use);
static ngx_int_t ngx_http_airouter_stats_check(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, ngx_uint_t admit, double estimate,
    ngx_int_t *rc);
static ngx_http_airouter_deny_e ngx_http_airouter_stats_rate_locked(
    ngx_http_airouter_stats_sh_t *sh, ngx_slab_pool_t *shpool,
    const airouter_apikey_t *key, ngx_uint_t *bit);
static void ngx_http_airouter_stats_hold_locked(
    ngx_http_airouter_stats_sh_t *sh, ngx_slab_pool_t *shpool,
    ngx_http_airouter_ctx_t *ctx, uint32_t today, double estimate);
static void ngx_http_airouter_stats_unreserve_locked(
    ngx_http_airouter_stats_sh_t *sh, ngx_http_airouter_ctx_t *ctx);
static void ngx_http_airouter_stats_release(void *data);
static ngx_uint_t ngx_http_airouter_stats_throttled_locked(
    ngx_http_airouter_stats_sh_t *sh, ngx_slab_pool_t *shpool,
    const airouter_apikey_t *key, uint32_t today,
    ngx_http_airouter_deny_e deny);
static ngx_int_t ngx_http_airouter_stats_refuse(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, ngx_http_airouter_deny_e deny,
    ngx_http_airouter_stats_use_t *use, ngx_uint_t bit);
static void ngx_http_airouter_stats_from(ngx_http_airouter_stats_counters_t *c,
    ngx_http_airouter_ctx_t *ctx);
static int ngx_http_airouter_stats_keep(void *data, uint32_t channel,
    uint32_t model);
static void ngx_http_airouter_stats_quota_node(const airouter_channel_t *ch,
    ngx_http_airouter_stats_node_t *sn, ngx_http_airouter_stats_quota_t *q);


#define NGX_HTTP_AIROUTER_STATS_DESCRIBE(name, type, from, scopes, metric,   \
                                         label, help)                        \
    { #name, offsetof(ngx_http_airouter_stats_counters_t, name),             \
      NGX_HTTP_AIROUTER_STATS_##type, from,                                  \
      NGX_HTTP_AIROUTER_STATS_IN_##scopes, metric, label, help },

const ngx_http_airouter_stats_counter_t  ngx_http_airouter_stats_counters[] = {
    NGX_HTTP_AIROUTER_STATS_COUNTERS(NGX_HTTP_AIROUTER_STATS_DESCRIBE)
    { NULL, 0, 0, 0, 0, NULL, NULL, NULL }
};


static const char  *ngx_http_airouter_stats_kinds[] = {
    "total", "key", "channel", "model", "rate"
};


ngx_int_t
ngx_http_airouter_stats_init_zone(ngx_http_airouter_zone_t *zone)
{
    ngx_http_airouter_stats_sh_t  *sh;

    if (zone->sh->stats) {
        return NGX_OK;              /* a reload: the counters are kept */
    }

    sh = ngx_slab_alloc(zone->shpool, sizeof(ngx_http_airouter_stats_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(sh, sizeof(ngx_http_airouter_stats_sh_t));

    ngx_rbtree_init(&sh->rbtree, &sh->sentinel,
                    ngx_http_airouter_stats_rbtree_insert);
    ngx_queue_init(&sh->queue);
    ngx_queue_init(&sh->unsent);

    zone->sh->stats = sh;

    return NGX_OK;
}


uint32_t
ngx_http_airouter_stats_today(void)
{
    return (uint32_t) (ngx_time() / 86400);
}


/*
 * The log phase: what the request cost, on the day's total, its key, and
 * the channel and model that answered.  In three steps, so that the
 * request log's handler holds the zone's lock once for these counters and
 * its own record: start (NGX_DECLINED: nothing to count), count_locked
 * under the lock, done after it.
 */
ngx_int_t
ngx_http_airouter_stats_log_start(ngx_http_airouter_ctx_t *ctx,
    ngx_http_airouter_stats_log_t *sl)
{
    ngx_uint_t                     ok;
    ngx_slab_pool_t               *shpool;
    ngx_http_airouter_stats_sh_t  *sh;
    ngx_http_airouter_result_t    *res;

    /* refused requests were counted as throttled when refused */
    if (ctx->explain || ctx->refused || ctx->requested.len == 0) {
        return NGX_DECLINED;
    }

    sh = ngx_http_airouter_stats_sh(ctx->amcf, &shpool);
    if (sh == NULL) {
        return NGX_DECLINED;
    }

    ngx_memzero(sl, sizeof(ngx_http_airouter_stats_log_t));

    sl->ctx = ctx;
    sl->sh = sh;
    sl->shpool = shpool;

    /* the proxy's result, all empty when the proxy never ran */
    res = &ctx->result;
    ok = (res->status.len == 2
          && ngx_strncmp(res->status.data, "ok", 2) == 0);

    ngx_http_airouter_stats_from(&sl->c, ctx);
    sl->c.requests = 1;
    sl->c.errors = ok ? 0 : 1;

    sl->today = ngx_http_airouter_stats_today();
    sl->budget = ctx->amcf->config->cost.global_daily_budget;
    sl->threshold = ctx->amcf->config->cost.alert_threshold;

    return NGX_OK;
}


void
ngx_http_airouter_stats_log_locked(ngx_http_airouter_stats_log_t *sl)
{
    ngx_slab_pool_t                 *shpool;
    const airouter_apikey_t         *key;
    ngx_http_airouter_ctx_t         *ctx;
    ngx_http_airouter_stats_sh_t    *sh;
    ngx_http_airouter_stats_node_t  *sn;
    ngx_http_airouter_result_t      *res;

    ctx = sl->ctx;
    sh = sl->sh;
    shpool = sl->shpool;
    key = ctx->key;
    res = &ctx->result;

    /* the cost replaces the hold in one step: no moment counts neither */
    ngx_http_airouter_stats_unreserve_locked(sh, ctx);

    sn = ngx_http_airouter_stats_get(sh, shpool, sl->today,
                                     NGX_HTTP_AIROUTER_STATS_TOTAL,
                                     (u_char *) "", 0);
    if (sn) {
        ngx_http_airouter_stats_add(sn, &sl->c);
        sl->total_alert = ngx_http_airouter_stats_alert(sn, sl->budget,
                                                        sl->threshold);
        sl->total_spent = sn->c.cost;
    }

    if (key) {
        sn = ngx_http_airouter_stats_get(sh, shpool, sl->today,
                                         NGX_HTTP_AIROUTER_STATS_KEY,
                                         (u_char *) key->name,
                                         ngx_strlen(key->name));
        if (sn) {
            ngx_http_airouter_stats_add(sn, &sl->c);
            sl->key_alert = ngx_http_airouter_stats_alert(sn,
                                key->daily_budget, sl->threshold);
            sl->key_spent = sn->c.cost;
        }
    }

    if (res->channel.len) {
        sn = ngx_http_airouter_stats_get(sh, shpool, sl->today,
                                         NGX_HTTP_AIROUTER_STATS_CHANNEL,
                                         res->channel.data, res->channel.len);
        if (sn) {
            ngx_http_airouter_stats_add(sn, &sl->c);
        }
    }

    if (res->model.len) {
        sn = ngx_http_airouter_stats_get(sh, shpool, sl->today,
                                         NGX_HTTP_AIROUTER_STATS_MODEL,
                                         res->model.data, res->model.len);
        if (sn) {
            ngx_http_airouter_stats_add(sn, &sl->c);
        }
    }

    /* a store only when it changes: the other worker need not fetch it */
    if (!sh->changed) {
        sh->changed = 1;
    }
}


void
ngx_http_airouter_stats_log_done(ngx_http_request_t *r,
    ngx_http_airouter_stats_log_t *sl)
{
    const airouter_apikey_t  *key;

    key = sl->ctx->key;

    if (sl->total_alert) {
        ngx_http_airouter_stats_log_alert(r->connection->log, sl->total_alert,
                                          NULL, sl->total_spent, sl->budget,
                                          sl->threshold);
    }

    if (sl->key_alert) {
        ngx_http_airouter_stats_log_alert(r->connection->log, sl->key_alert,
                                          key->name, sl->key_spent,
                                          key->daily_budget, sl->threshold);
    }
}


static void
ngx_http_airouter_stats_add(ngx_http_airouter_stats_node_t *sn,
    ngx_http_airouter_stats_counters_t *c)
{
    ngx_http_airouter_stats_counters_add(&sn->c, c);
    ngx_http_airouter_stats_counters_add(&sn->pending, c);
}


/* to += c, every counter */
static void
ngx_http_airouter_stats_counters_add(ngx_http_airouter_stats_counters_t *to,
    const ngx_http_airouter_stats_counters_t *c)
{
    const ngx_http_airouter_stats_counter_t  *d;

    for (d = ngx_http_airouter_stats_counters; d->name; d++) {
        if (d->type == NGX_HTTP_AIROUTER_STATS_USD) {
            ngx_http_airouter_stats_usd(to, d) +=
                                         ngx_http_airouter_stats_usd(c, d);

        } else {
            ngx_http_airouter_stats_count(to, d) +=
                                         ngx_http_airouter_stats_count(c, d);
        }
    }
}


/* What a routed request adds: the list's members of its context. */
static void
ngx_http_airouter_stats_from(ngx_http_airouter_stats_counters_t *c,
    ngx_http_airouter_ctx_t *ctx)
{
    double                                    v;
    ngx_int_t                                 n;
    const ngx_http_airouter_stats_counter_t  *d;

    ngx_memzero(c, sizeof(ngx_http_airouter_stats_counters_t));

    for (d = ngx_http_airouter_stats_counters; d->name; d++) {
        if (d->from < 0) {
            continue;
        }

        if (d->type == NGX_HTTP_AIROUTER_STATS_USD) {
            v = *(double *) ((u_char *) ctx + d->from);
            ngx_http_airouter_stats_usd(c, d) = v > 0 ? v : 0;

        } else {
            n = *(ngx_int_t *) ((u_char *) ctx + d->from);
            ngx_http_airouter_stats_count(c, d) = n > 0 ? (uint64_t) n : 0;
        }
    }
}


double
ngx_http_airouter_stats_value(const ngx_http_airouter_stats_counters_t *c,
    const ngx_http_airouter_stats_counter_t *d)
{
    return d->type == NGX_HTTP_AIROUTER_STATS_USD
           ? ngx_http_airouter_stats_usd(c, d)
           : (double) ngx_http_airouter_stats_count(c, d);
}


/* The alert bits a day's spend has just crossed (each once a day). */
static ngx_uint_t
ngx_http_airouter_stats_alert(ngx_http_airouter_stats_node_t *sn,
    double budget, double threshold)
{
    ngx_uint_t  crossed;

    if (budget <= 0) {
        return 0;
    }

    crossed = 0;

    if (threshold > 0 && sn->c.cost >= budget * threshold
        && !(sn->alerts & NGX_HTTP_AIROUTER_ALERT_THRESHOLD))
    {
        crossed |= NGX_HTTP_AIROUTER_ALERT_THRESHOLD;
    }

    if (sn->c.cost >= budget
        && !(sn->alerts & NGX_HTTP_AIROUTER_ALERT_EXCEEDED))
    {
        crossed |= NGX_HTTP_AIROUTER_ALERT_EXCEEDED;
    }

    /* every lookup walks the node's first line: store a change only */
    if (crossed) {
        sn->alerts |= crossed;
    }

    return crossed;
}


static void
ngx_http_airouter_stats_log_alert(ngx_log_t *log, ngx_uint_t alert,
    const char *name, double spent, double budget, double threshold)
{
    u_char  who[NGX_HTTP_AIROUTER_STATS_NAME + 32], *p;

    if (name) {
        p = ngx_snprintf(who, sizeof(who) - 1, "API key \"%s\"", name);

    } else {
        p = ngx_cpymem(who, "global", sizeof("global") - 1);
    }

    *p = '\0';

    if (alert & NGX_HTTP_AIROUTER_ALERT_THRESHOLD) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "airouter: %s daily spend %.6f USD is over the alert "
                      "threshold (%.0f%% of %.6f USD)",
                      who, spent, threshold * 100, budget);
    }

    if (alert & NGX_HTTP_AIROUTER_ALERT_EXCEEDED) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "airouter: %s daily spend %.6f USD: the budget of "
                      "%.6f USD is used up", who, spent, budget);
    }
}


/* Is any budget or rate enforced for this request? */
static ngx_uint_t
ngx_http_airouter_stats_limited(airouter_config_t *acf,
    const airouter_apikey_t *key, ngx_uint_t rate)
{
    if (acf->cost.global_daily_budget > 0
        && acf->cost.auto_disable_on_budget_exceeded)
    {
        return 1;
    }

    return key != NULL
           && (key->daily_budget > 0 || key->monthly_budget > 0
               || (rate && key->rate_limit > 0));
}


/*
 * The budgets the request would overspend, under the zone's lock: what
 * was spent plus what requests in progress hold (their reservations).  A
 * budget is used up once that reaches it, so concurrent requests overshoot
 * it by at most one request's worst case.  extra (USD) counts as spent
 * too: 0 for "is anything left", more for "is that much left".
 */
static ngx_http_airouter_deny_e
ngx_http_airouter_stats_budgets_locked(ngx_http_airouter_stats_sh_t *sh,
    airouter_config_t *acf, const airouter_apikey_t *key, uint32_t today,
    double extra, ngx_http_airouter_stats_use_t *use)
{
    size_t                           len;
    double                           held;
    uint32_t                         day;
    ngx_http_airouter_stats_node_t  *sn;

    use->spent = 0;
    use->held = 0;
    use->budget = 0;

    if (acf->cost.global_daily_budget > 0
        && acf->cost.auto_disable_on_budget_exceeded)
    {
        sn = ngx_http_airouter_stats_lookup(sh, today,
                                            NGX_HTTP_AIROUTER_STATS_TOTAL,
                                            (u_char *) "", 0);
        if (sn ? sn->c.cost + sn->reserved + extra
                 >= acf->cost.global_daily_budget
               : extra > 0 && extra >= acf->cost.global_daily_budget)
        {
            use->spent = sn ? sn->c.cost : 0;
            use->held = sn ? sn->reserved : 0;
            use->budget = acf->cost.global_daily_budget;
            return NGX_HTTP_AIROUTER_DENY_GLOBAL;
        }
    }

    if (key == NULL) {
        return NGX_HTTP_AIROUTER_DENY_NONE;
    }

    len = ngx_strlen(key->name);

    sn = ngx_http_airouter_stats_lookup(sh, today,
                                        NGX_HTTP_AIROUTER_STATS_KEY,
                                        (u_char *) key->name, len);
    held = sn ? sn->reserved : 0;

    if (key->daily_budget > 0
        && (sn ? sn->c.cost + held + extra >= key->daily_budget
               : extra > 0 && extra >= key->daily_budget))
    {
        use->spent = sn ? sn->c.cost : 0;
        use->held = held;
        use->budget = key->daily_budget;
        return NGX_HTTP_AIROUTER_DENY_DAILY;
    }

    if (key->monthly_budget > 0) {
        for (day = ngx_http_airouter_stats_month_start(today);
             day <= today;
             day++)
        {
            sn = ngx_http_airouter_stats_lookup(sh, day,
                                                NGX_HTTP_AIROUTER_STATS_KEY,
                                                (u_char *) key->name, len);
            if (sn) {
                use->spent += sn->c.cost;
            }
        }

        if (use->spent + held + extra >= key->monthly_budget) {
            use->held = held;
            use->budget = key->monthly_budget;
            return NGX_HTTP_AIROUTER_DENY_MONTHLY;
        }

        use->spent = 0;
    }

    return NGX_HTTP_AIROUTER_DENY_NONE;
}


ngx_int_t
ngx_http_airouter_stats_admit(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, ngx_int_t *rc)
{
    return ngx_http_airouter_stats_check(r, ctx, 1, 0, rc);
}


ngx_int_t
ngx_http_airouter_stats_reserve(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, double estimate, ngx_int_t *rc)
{
    return ngx_http_airouter_stats_check(r, ctx, 0, estimate, rc);
}


/*
 * The two steps of admission share this: the budgets under the zone's
 * lock, then admit's rate or reserve's hold when they pass, or the
 * refusal counted as throttled when they do not; the 429 after the lock.
 * admit (the access phase) checks the rate; reserve (after routing, the
 * budgets checked again: others may have spent or reserved since) holds
 * estimate.
 */
static ngx_int_t
ngx_http_airouter_stats_check(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, ngx_uint_t admit, double estimate,
    ngx_int_t *rc)
{
    uint32_t                         today;
    ngx_uint_t                       bit;
    ngx_slab_pool_t                 *shpool;
    airouter_config_t               *acf;
    ngx_pool_cleanup_t              *cln;
    const airouter_apikey_t         *key;
    ngx_http_airouter_deny_e         deny;
    ngx_http_airouter_stats_sh_t    *sh;
    ngx_http_airouter_stats_use_t    use;

    sh = ngx_http_airouter_stats_sh(ctx->amcf, &shpool);
    if (sh == NULL) {
        return NGX_OK;
    }

    acf = ctx->amcf->config;
    key = ctx->key;

    if (!ngx_http_airouter_stats_limited(acf, key, admit)) {
        return NGX_OK;
    }

    if (!admit) {
        /* the release, should the log phase not run for this request */
        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
            return NGX_DECLINED;
        }

        cln->handler = ngx_http_airouter_stats_release;
        cln->data = ctx;
    }

    today = ngx_http_airouter_stats_today();
    bit = 0;

    ngx_shmtx_lock(&shpool->mutex);

    deny = ngx_http_airouter_stats_budgets_locked(sh, acf, key, today, 0,
                                                  &use);

    if (deny == NGX_HTTP_AIROUTER_DENY_NONE) {
        if (admit) {
            deny = ngx_http_airouter_stats_rate_locked(sh, shpool, key, &bit);

        } else {
            ngx_http_airouter_stats_hold_locked(sh, shpool, ctx, today,
                                                estimate);
        }
    }

    if (deny != NGX_HTTP_AIROUTER_DENY_NONE) {
        bit |= ngx_http_airouter_stats_throttled_locked(sh, shpool, key,
                                                        today, deny);
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (deny == NGX_HTTP_AIROUTER_DENY_NONE) {
        if (!admit) {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "airouter: %.8f USD reserved on day %uD",
                           estimate, today);
        }

        return NGX_OK;
    }

    *rc = ngx_http_airouter_stats_refuse(r, ctx, deny, &use, bit);

    return NGX_DECLINED;
}


/*
 * The key's request rate, under the zone's lock: one more request in its
 * current minute, or DENY_RATE with *bit the REFUSED_RATE bit when it is
 * the minute's first refusal (logged; the others at debug).
 */
static ngx_http_airouter_deny_e
ngx_http_airouter_stats_rate_locked(ngx_http_airouter_stats_sh_t *sh,
    ngx_slab_pool_t *shpool, const airouter_apikey_t *key, ngx_uint_t *bit)
{
    uint32_t                         minute;
    ngx_http_airouter_stats_node_t  *sn;

    if (key == NULL || key->rate_limit <= 0) {
        return NGX_HTTP_AIROUTER_DENY_NONE;
    }

    sn = ngx_http_airouter_stats_get(sh, shpool, 0,
                                     NGX_HTTP_AIROUTER_STATS_RATE,
                                     (u_char *) key->name,
                                     ngx_strlen(key->name));
    if (sn == NULL) {
        return NGX_HTTP_AIROUTER_DENY_NONE;
    }

    minute = (uint32_t) (ngx_time() / 60);

    if (sn->minute != minute) {
        sn->minute = minute;
        sn->count = 0;
        sn->refused = 0;
    }

    if (sn->count < (uint32_t) key->rate_limit) {
        sn->count++;
        return NGX_HTTP_AIROUTER_DENY_NONE;
    }

    *bit = (sn->refused & NGX_HTTP_AIROUTER_REFUSED_RATE)
           ? 0 : NGX_HTTP_AIROUTER_REFUSED_RATE;
    sn->refused |= NGX_HTTP_AIROUTER_REFUSED_RATE;

    return NGX_HTTP_AIROUTER_DENY_RATE;
}


/* estimate held on the day's total and the key, under the zone's lock. */
static void
ngx_http_airouter_stats_hold_locked(ngx_http_airouter_stats_sh_t *sh,
    ngx_slab_pool_t *shpool, ngx_http_airouter_ctx_t *ctx, uint32_t today,
    double estimate)
{
    ngx_http_airouter_stats_node_t  *sn;

    if (estimate <= 0) {
        return;
    }

    sn = ngx_http_airouter_stats_get(sh, shpool, today,
                                     NGX_HTTP_AIROUTER_STATS_TOTAL,
                                     (u_char *) "", 0);
    if (sn) {
        sn->reserved += estimate;
    }

    if (ctx->key) {
        sn = ngx_http_airouter_stats_get(sh, shpool, today,
                                         NGX_HTTP_AIROUTER_STATS_KEY,
                                         (u_char *) ctx->key->name,
                                         ngx_strlen(ctx->key->name));
        if (sn) {
            sn->reserved += estimate;
        }
    }

    ctx->reserved = estimate;
    ctx->reserved_day = today;
}


ngx_uint_t
ngx_http_airouter_stats_room(ngx_http_airouter_ctx_t *ctx, double usd)
{
    ngx_slab_pool_t                 *shpool;
    airouter_config_t               *acf;
    ngx_http_airouter_deny_e         deny;
    ngx_http_airouter_stats_sh_t    *sh;
    ngx_http_airouter_stats_use_t    use;

    sh = ngx_http_airouter_stats_sh(ctx->amcf, &shpool);
    acf = ctx->amcf->config;

    if (sh == NULL || !ngx_http_airouter_stats_limited(acf, ctx->key, 0)) {
        return 1;
    }

    ngx_shmtx_lock(&shpool->mutex);

    deny = ngx_http_airouter_stats_budgets_locked(sh, acf, ctx->key,
                                                  ngx_http_airouter_stats_today(),
                                                  usd, &use);

    ngx_shmtx_unlock(&shpool->mutex);

    return deny == NGX_HTTP_AIROUTER_DENY_NONE;
}


/* A reservation given back: under the zone's lock. */
static void
ngx_http_airouter_stats_unreserve_locked(ngx_http_airouter_stats_sh_t *sh,
    ngx_http_airouter_ctx_t *ctx)
{
    ngx_http_airouter_stats_node_t  *sn;

    if (ctx->reserved <= 0) {
        return;
    }

    sn = ngx_http_airouter_stats_lookup(sh, ctx->reserved_day,
                                        NGX_HTTP_AIROUTER_STATS_TOTAL,
                                        (u_char *) "", 0);
    if (sn) {
        sn->reserved -= ctx->reserved;

        /* float sums of many holds: never below zero */
        if (sn->reserved < 1e-12) {
            sn->reserved = 0;
        }
    }

    if (ctx->key) {
        sn = ngx_http_airouter_stats_lookup(sh, ctx->reserved_day,
                                            NGX_HTTP_AIROUTER_STATS_KEY,
                                            (u_char *) ctx->key->name,
                                            ngx_strlen(ctx->key->name));
        if (sn) {
            sn->reserved -= ctx->reserved;

            if (sn->reserved < 1e-12) {
                sn->reserved = 0;
            }
        }
    }

    ctx->reserved = 0;
}


/* The request pool's cleanup: a reservation the log phase did not settle. */
static void
ngx_http_airouter_stats_release(void *data)
{
    ngx_http_airouter_ctx_t *ctx = data;

    ngx_slab_pool_t               *shpool;
    ngx_http_airouter_stats_sh_t  *sh;

    if (ctx->reserved <= 0) {
        return;
    }

    sh = ngx_http_airouter_stats_sh(ctx->amcf, &shpool);
    if (sh == NULL) {
        return;
    }

    ngx_shmtx_lock(&shpool->mutex);
    ngx_http_airouter_stats_unreserve_locked(sh, ctx);
    ngx_shmtx_unlock(&shpool->mutex);
}


/*
 * A refused request counts as throttled on the day's total and its key;
 * returns the REFUSED_* bit when it is the budget's first refusal of the
 * day (logged as a warning; the others at debug).
 */
static ngx_uint_t
ngx_http_airouter_stats_throttled_locked(ngx_http_airouter_stats_sh_t *sh,
    ngx_slab_pool_t *shpool, const airouter_apikey_t *key, uint32_t today,
    ngx_http_airouter_deny_e deny)
{
    ngx_uint_t                       bit, mask;
    ngx_http_airouter_stats_node_t  *sn;

    bit = 0;

    sn = ngx_http_airouter_stats_get(sh, shpool, today,
                                     NGX_HTTP_AIROUTER_STATS_TOTAL,
                                     (u_char *) "", 0);
    if (sn) {
        sn->c.throttled++;
        sn->pending.throttled++;

        if (deny == NGX_HTTP_AIROUTER_DENY_GLOBAL
            && !(sn->refused & NGX_HTTP_AIROUTER_REFUSED_GLOBAL))
        {
            sn->refused |= NGX_HTTP_AIROUTER_REFUSED_GLOBAL;
            bit = NGX_HTTP_AIROUTER_REFUSED_GLOBAL;
        }
    }

    if (key) {
        sn = ngx_http_airouter_stats_get(sh, shpool, today,
                                         NGX_HTTP_AIROUTER_STATS_KEY,
                                         (u_char *) key->name,
                                         ngx_strlen(key->name));
        if (sn) {
            sn->c.throttled++;
            sn->pending.throttled++;

            /* a month's refusal too is logged once a day */
            if (deny == NGX_HTTP_AIROUTER_DENY_DAILY
                || deny == NGX_HTTP_AIROUTER_DENY_MONTHLY)
            {
                mask = (deny == NGX_HTTP_AIROUTER_DENY_DAILY)
                       ? NGX_HTTP_AIROUTER_REFUSED_DAILY
                       : NGX_HTTP_AIROUTER_REFUSED_MONTHLY;

                if (!(sn->refused & mask)) {
                    sn->refused |= mask;
                    bit = mask;
                }
            }
        }
    }

    sh->changed = 1;

    return bit;
}


/* The 429 of a budget or rate refusal; returns what the handler returns. */
static ngx_int_t
ngx_http_airouter_stats_refuse(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, ngx_http_airouter_deny_e deny,
    ngx_http_airouter_stats_use_t *use, ngx_uint_t bit)
{
    u_char                   *p, held[64];
    size_t                    len;
    ngx_uint_t                wait, level;
    const airouter_apikey_t  *key;
    static ngx_str_t          retry_after = ngx_string("Retry-After");

    key = ctx->key;
    ctx->refused = 1;

    /* what requests in progress hold, when that is what tips it */
    p = held;

    if (use->held > 0) {
        p = ngx_snprintf(held, sizeof(held),
                         ", %.6f USD held by requests in progress",
                         use->held);
    }

    /* the first refusal of its period is logged, the others at debug */
    level = bit ? NGX_LOG_WARN : NGX_LOG_DEBUG;

    switch (deny) {

    case NGX_HTTP_AIROUTER_DENY_GLOBAL:
        ngx_log_error(level, r->connection->log, 0,
                      "airouter: request refused: the global daily budget "
                      "of %.6f USD is used up", use->budget);

        return ngx_http_airouter_send_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                   "insufficient_quota", "insufficient_quota",
                   "The router's daily budget (%.6f USD) is used up: "
                   "%.6f USD spent today%*s", use->budget, use->spent,
                   (size_t) (p - held), held);

    case NGX_HTTP_AIROUTER_DENY_DAILY:
    case NGX_HTTP_AIROUTER_DENY_MONTHLY:
        ngx_log_error(level, r->connection->log, 0,
                      "airouter: request of API key \"%s\" refused: its "
                      "%s budget of %.6f USD is used up", key->name,
                      deny == NGX_HTTP_AIROUTER_DENY_DAILY
                      ? "daily" : "monthly", use->budget);

        return ngx_http_airouter_send_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                   "insufficient_quota", "insufficient_quota",
                   "You exceeded your %s budget of %.6f USD "
                   "(%.6f USD spent%*s)",
                   deny == NGX_HTTP_AIROUTER_DENY_DAILY
                   ? "daily" : "monthly", use->budget, use->spent,
                   (size_t) (p - held), held);

    default: /* NGX_HTTP_AIROUTER_DENY_RATE */
        wait = 60 - (ngx_uint_t) (ngx_time() % 60);

        p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);

        if (p) {
            len = ngx_sprintf(p, "%ui", wait) - p;
            (void) ngx_http_airouter_header_add(r, &retry_after, p, len);
        }

        level = bit ? NGX_LOG_INFO : NGX_LOG_DEBUG;

        ngx_log_error(level, r->connection->log, 0,
                      "airouter: request of API key \"%s\" refused: over "
                      "its rate limit of %d requests a minute", key->name,
                      key->rate_limit);

        return ngx_http_airouter_send_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                   "requests", "rate_limit_exceeded",
                   "Rate limit reached: %d requests per minute",
                   key->rate_limit);
    }
}


void
ngx_http_airouter_stats_unauthorized(ngx_http_airouter_main_conf_t *amcf)
{
    ngx_slab_pool_t                 *shpool;
    ngx_http_airouter_stats_sh_t    *sh;
    ngx_http_airouter_stats_node_t  *sn;

    sh = ngx_http_airouter_stats_sh(amcf, &shpool);
    if (sh == NULL) {
        return;
    }

    ngx_shmtx_lock(&shpool->mutex);

    sn = ngx_http_airouter_stats_get(sh, shpool,
                                     ngx_http_airouter_stats_today(),
                                     NGX_HTTP_AIROUTER_STATS_TOTAL,
                                     (u_char *) "", 0);
    if (sn) {
        sn->c.unauthorized++;
        sn->pending.unauthorized++;
        sh->changed = 1;
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


/* The first day of day's calendar month (UTC). */
static uint32_t
ngx_http_airouter_stats_month_start(uint32_t day)
{
    ngx_tm_t  tm;

    ngx_gmtime((time_t) day * 86400, &tm);

    return day - (tm.ngx_tm_mday - 1);
}


ngx_int_t
ngx_http_airouter_stats_bind(ngx_http_airouter_main_conf_t *amcf,
    ngx_pool_t *pool, airouter_live_t *live,
    ngx_http_airouter_stats_filter_t *f)
{
    size_t                           i;
    uint32_t                         today;
    ngx_uint_t                       any, limits;
    const char                      *id;
    ngx_slab_pool_t                 *shpool;
    airouter_config_t               *acf;
    ngx_http_airouter_stats_sh_t    *sh;
    ngx_http_airouter_stats_node_t  *sn;
    ngx_http_airouter_stats_quota_t  quota;

    f->off = NULL;

    sh = ngx_http_airouter_stats_sh(amcf, &shpool);
    if (sh == NULL) {
        return NGX_OK;
    }

    acf = amcf->config;

    for (i = 0; i < acf->nchannels; i++) {
        if (acf->channels[i].daily_limit > 0
            || acf->channels[i].daily_token_limit > 0)
        {
            break;
        }
    }

    limits = (i < acf->nchannels);

    /*
     * The common case, nothing switched off and no daily limits, costs no
     * lock and no lookup.
     */
    if (!limits && ngx_http_airouter_switch_off_channels(amcf, NULL) == 0) {
        return NGX_OK;
    }

    f->nchannels = acf->nchannels;
    f->off = ngx_pcalloc(pool, acf->nchannels + 1);
    if (f->off == NULL) {
        return NGX_ERROR;
    }

    any = ngx_http_airouter_switch_off_channels(amcf, f->off);

    if (!limits) {
        goto done;
    }

    today = ngx_http_airouter_stats_today();

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < acf->nchannels; i++) {
        id = acf->channels[i].id;

        if (f->off[i] || (acf->channels[i].daily_limit <= 0
                          && acf->channels[i].daily_token_limit <= 0))
        {
            continue;
        }

        sn = ngx_http_airouter_stats_lookup(sh, today,
                                            NGX_HTTP_AIROUTER_STATS_CHANNEL,
                                            (u_char *) id, ngx_strlen(id));

        ngx_http_airouter_stats_quota_node(&acf->channels[i], sn, &quota);

        if (quota.spent) {
            f->off[i] = 1;
            any = 1;
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

done:

    if (!any) {
        return NGX_OK;
    }

    airouter_live_filter(live, &f->filter, ngx_http_airouter_stats_keep, f);

    return NGX_OK;
}


/* The daily limits' filter: a channel used up or switched off is out. */
static int
ngx_http_airouter_stats_keep(void *data, uint32_t channel, uint32_t model)
{
    ngx_http_airouter_stats_filter_t *f = data;

    return !(channel < f->nchannels && f->off[channel]);
}


void
ngx_http_airouter_stats_quota(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel, ngx_http_airouter_stats_quota_t *q)
{
    airouter_channel_t              *ch;
    ngx_slab_pool_t                 *shpool;
    ngx_http_airouter_stats_sh_t    *sh;
    ngx_http_airouter_stats_node_t  *sn;

    ch = &amcf->config->channels[channel];

    sh = ngx_http_airouter_stats_sh(amcf, &shpool);
    if (sh == NULL) {
        ngx_http_airouter_stats_quota_node(ch, NULL, q);
        return;
    }

    ngx_shmtx_lock(&shpool->mutex);

    sn = ngx_http_airouter_stats_lookup(sh, ngx_http_airouter_stats_today(),
                                        NGX_HTTP_AIROUTER_STATS_CHANNEL,
                                        (u_char *) ch->id,
                                        ngx_strlen(ch->id));
    ngx_http_airouter_stats_quota_node(ch, sn, q);

    ngx_shmtx_unlock(&shpool->mutex);
}


/* The quota from the channel's node of today (NULL: none yet), locked. */
static void
ngx_http_airouter_stats_quota_node(const airouter_channel_t *ch,
    ngx_http_airouter_stats_node_t *sn, ngx_http_airouter_stats_quota_t *q)
{
    q->requests = sn ? sn->c.requests : 0;
    q->tokens = sn ? sn->c.prompt_tokens + sn->c.completion_tokens : 0;
    q->requests_left = -1;
    q->tokens_left = -1;
    q->spent = 0;

    if (ch->daily_limit > 0) {
        q->requests_left = q->requests >= (uint64_t) ch->daily_limit
                           ? 0 : (int64_t) (ch->daily_limit - q->requests);
        q->spent |= (q->requests_left == 0);
    }

    if (ch->daily_token_limit > 0) {
        q->tokens_left = q->tokens >= (uint64_t) ch->daily_token_limit
                         ? 0 : (int64_t) (ch->daily_token_limit - q->tokens);
        q->spent |= (q->tokens_left == 0);
    }
}


ngx_int_t
ngx_http_airouter_stats_rows(ngx_http_airouter_main_conf_t *amcf,
    ngx_pool_t *pool, uint32_t from, uint32_t to,
    ngx_http_airouter_stats_kind_e kind, ngx_array_t *rows)
{
    ngx_int_t                        rc;
    ngx_queue_t                     *q;
    ngx_slab_pool_t                 *shpool;
    ngx_http_airouter_stats_sh_t    *sh;
    ngx_http_airouter_stats_row_t   *row;
    ngx_http_airouter_stats_node_t  *sn;

    if (ngx_array_init(rows, pool, 64, sizeof(ngx_http_airouter_stats_row_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sh = ngx_http_airouter_stats_sh(amcf, &shpool);
    if (sh == NULL) {
        return NGX_OK;
    }

    rc = NGX_OK;

    ngx_shmtx_lock(&shpool->mutex);

    /* oldest first: the order a saved file is read back in */
    for (q = ngx_queue_last(&sh->queue);
         q != ngx_queue_sentinel(&sh->queue);
         q = ngx_queue_prev(q))
    {
        sn = ngx_queue_data(q, ngx_http_airouter_stats_node_t, queue);

        if (sn->day < from || sn->day > to
            || (kind != NGX_HTTP_AIROUTER_STATS_N && sn->kind != kind))
        {
            continue;
        }

        row = ngx_array_push(rows);
        if (row == NULL) {
            rc = NGX_ERROR;
            break;
        }

        row->day = sn->day;
        row->kind = sn->kind;
        row->alerts = sn->alerts;
        row->c = sn->c;
        row->name.len = sn->len;
        row->name.data = ngx_pnalloc(pool, sn->len + 1);
        if (row->name.data == NULL) {
            rc = NGX_ERROR;
            break;
        }

        ngx_memcpy(row->name.data, sn->name, sn->len);
        row->name.data[sn->len] = '\0';
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return rc;
}


/* few names: a linear search does */
ngx_int_t
ngx_http_airouter_stats_sum(ngx_http_airouter_main_conf_t *amcf,
    ngx_pool_t *pool, ngx_uint_t days, ngx_http_airouter_stats_kind_e kind,
    ngx_array_t *sums)
{
    uint32_t                        today;
    ngx_uint_t                      i, j;
    ngx_array_t                     rows;
    ngx_http_airouter_stats_row_t  *row;
    ngx_http_airouter_stats_sum_t  *s;

    today = ngx_http_airouter_stats_today();

    if (ngx_http_airouter_stats_rows(amcf, pool, today - (days - 1), today,
                                     kind, &rows)
        != NGX_OK
        || ngx_array_init(sums, pool, 16,
                          sizeof(ngx_http_airouter_stats_sum_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    row = rows.elts;

    for (i = 0; i < rows.nelts; i++) {
        if (row[i].kind > NGX_HTTP_AIROUTER_STATS_MODEL) {
            continue;
        }

        s = sums->elts;

        for (j = 0; j < sums->nelts; j++) {
            if (s[j].kind == row[i].kind
                && s[j].name.len == row[i].name.len
                && ngx_strncmp(s[j].name.data, row[i].name.data,
                               row[i].name.len) == 0)
            {
                break;
            }
        }

        if (j == sums->nelts) {
            s = ngx_array_push(sums);
            if (s == NULL) {
                return NGX_ERROR;
            }

            ngx_memzero(s, sizeof(ngx_http_airouter_stats_sum_t));
            s->kind = row[i].kind;
            s->name = row[i].name;

        } else {
            s = &s[j];
        }

        ngx_http_airouter_stats_counters_add(&s->c, &row[i].c);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_airouter_stats_take_pending(ngx_http_airouter_main_conf_t *amcf,
    ngx_pool_t *pool, ngx_array_t *rows)
{
    ngx_int_t                        rc;
    ngx_queue_t                     *q;
    ngx_slab_pool_t                 *shpool;
    ngx_http_airouter_stats_sh_t    *sh;
    ngx_http_airouter_stats_row_t   *row;
    ngx_http_airouter_stats_node_t  *sn;
    ngx_http_airouter_stats_counters_t  zero;

    if (ngx_array_init(rows, pool, 16, sizeof(ngx_http_airouter_stats_row_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sh = ngx_http_airouter_stats_sh(amcf, &shpool);
    if (sh == NULL) {
        return NGX_OK;
    }

    ngx_memzero(&zero, sizeof(ngx_http_airouter_stats_counters_t));
    rc = NGX_OK;

    ngx_shmtx_lock(&shpool->mutex);

    while (!ngx_queue_empty(&sh->unsent)) {
        q = ngx_queue_head(&sh->unsent);
        sn = ngx_queue_data(q, ngx_http_airouter_stats_node_t, unsent);

        ngx_queue_remove(q);
        q->next = NULL;
        q->prev = NULL;

        if (ngx_memcmp(&sn->pending, &zero, sizeof(zero)) == 0) {
            continue;
        }

        row = ngx_array_push(rows);
        if (row == NULL) {
            rc = NGX_ERROR;
            break;
        }

        row->name.data = ngx_pnalloc(pool, sn->len + 1);
        if (row->name.data == NULL) {
            rows->nelts--;
            rc = NGX_ERROR;
            break;
        }

        ngx_memcpy(row->name.data, sn->name, sn->len);
        row->name.data[sn->len] = '\0';
        row->name.len = sn->len;
        row->day = sn->day;
        row->kind = sn->kind;
        row->alerts = 0;
        row->c = sn->pending;

        sn->pending = zero;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return rc;
}


void
ngx_http_airouter_stats_give_back(ngx_http_airouter_main_conf_t *amcf,
    ngx_array_t *rows)
{
    ngx_uint_t                       i;
    ngx_slab_pool_t                 *shpool;
    ngx_http_airouter_stats_sh_t    *sh;
    ngx_http_airouter_stats_row_t   *row;
    ngx_http_airouter_stats_node_t  *sn;

    sh = ngx_http_airouter_stats_sh(amcf, &shpool);
    if (sh == NULL) {
        return;
    }

    row = rows->elts;

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < rows->nelts; i++) {
        sn = ngx_http_airouter_stats_get(sh, shpool, row[i].day, row[i].kind,
                                         row[i].name.data, row[i].name.len);
        if (sn == NULL) {
            continue;
        }

        ngx_http_airouter_stats_counters_add(&sn->pending, &row[i].c);
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


void
ngx_http_airouter_stats_merge(ngx_http_airouter_main_conf_t *amcf,
    ngx_array_t *rows)
{
    double                                    v;
    uint64_t                                  n;
    ngx_uint_t                                i;
    ngx_slab_pool_t                          *shpool;
    ngx_http_airouter_stats_sh_t             *sh;
    ngx_http_airouter_stats_row_t            *row;
    ngx_http_airouter_stats_node_t           *sn;
    const ngx_http_airouter_stats_counter_t  *d;

    sh = ngx_http_airouter_stats_sh(amcf, &shpool);
    if (sh == NULL) {
        return;
    }

    row = rows->elts;

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < rows->nelts; i++) {
        if (row[i].kind > NGX_HTTP_AIROUTER_STATS_MODEL) {
            continue;
        }

        sn = ngx_http_airouter_stats_get(sh, shpool, row[i].day, row[i].kind,
                                         row[i].name.data, row[i].name.len);
        if (sn == NULL) {
            continue;
        }

        for (d = ngx_http_airouter_stats_counters; d->name; d++) {
            if (d->type == NGX_HTTP_AIROUTER_STATS_USD) {
                v = ngx_http_airouter_stats_usd(&row[i].c, d)
                    + ngx_http_airouter_stats_usd(&sn->pending, d);

                /* a float sum read back may differ in its last bits */
                if (v > ngx_http_airouter_stats_usd(&sn->c, d) + 1e-9) {
                    ngx_http_airouter_stats_usd(&sn->c, d) = v;
                    sh->changed = 1;
                }

                continue;
            }

            n = ngx_http_airouter_stats_count(&row[i].c, d)
                + ngx_http_airouter_stats_count(&sn->pending, d);

            if (n > ngx_http_airouter_stats_count(&sn->c, d)) {
                ngx_http_airouter_stats_count(&sn->c, d) = n;
                sh->changed = 1;
            }
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


const char *
ngx_http_airouter_stats_kind_name(ngx_uint_t kind)
{
    return kind < NGX_HTTP_AIROUTER_STATS_N
           ? ngx_http_airouter_stats_kinds[kind] : NULL;
}


ngx_int_t
ngx_http_airouter_stats_kind_from(const u_char *name, size_t len)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_AIROUTER_STATS_N; i++) {
        if (ngx_strlen(ngx_http_airouter_stats_kinds[i]) == len
            && ngx_strncmp(name, ngx_http_airouter_stats_kinds[i], len) == 0)
        {
            return i;
        }
    }

    return -1;
}


ngx_int_t
ngx_http_airouter_stats_restore(ngx_http_airouter_main_conf_t *amcf,
    ngx_array_t *rows)
{
    ngx_uint_t                       i;
    ngx_slab_pool_t                 *shpool;
    ngx_http_airouter_stats_sh_t    *sh;
    ngx_http_airouter_stats_row_t   *row;
    ngx_http_airouter_stats_node_t  *sn;

    sh = ngx_http_airouter_stats_sh(amcf, &shpool);
    if (sh == NULL) {
        return 0;
    }

    row = rows->elts;

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < rows->nelts; i++) {
        sn = ngx_http_airouter_stats_get(sh, shpool, row[i].day, row[i].kind,
                                         row[i].name.data, row[i].name.len);
        if (sn == NULL) {
            break;                      /* the zone is full */
        }

        sn->alerts = (u_char) row[i].alerts;
        sn->c = row[i].c;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return i;
}


ngx_uint_t
ngx_http_airouter_stats_take_changed(ngx_http_airouter_main_conf_t *amcf)
{
    ngx_uint_t                     changed;
    ngx_slab_pool_t               *shpool;
    ngx_http_airouter_stats_sh_t  *sh;

    sh = ngx_http_airouter_stats_sh(amcf, &shpool);
    if (sh == NULL) {
        return 0;
    }

    ngx_shmtx_lock(&shpool->mutex);
    changed = sh->changed;
    sh->changed = 0;
    ngx_shmtx_unlock(&shpool->mutex);

    return changed;
}


/* Days past NGX_HTTP_AIROUTER_STATS_DAYS go; day 0 nodes stay. */
void
ngx_http_airouter_stats_prune(ngx_http_airouter_main_conf_t *amcf)
{
    uint32_t                         today;
    ngx_queue_t                     *q, *prev;
    ngx_slab_pool_t                 *shpool;
    ngx_http_airouter_stats_sh_t    *sh;
    ngx_http_airouter_stats_node_t  *sn;

    sh = ngx_http_airouter_stats_sh(amcf, &shpool);
    if (sh == NULL) {
        return;
    }

    today = ngx_http_airouter_stats_today();

    ngx_shmtx_lock(&shpool->mutex);

    for (q = ngx_queue_last(&sh->queue);
         q != ngx_queue_sentinel(&sh->queue);
         q = prev)
    {
        prev = ngx_queue_prev(q);
        sn = ngx_queue_data(q, ngx_http_airouter_stats_node_t, queue);

        if (sn->day && sn->day + NGX_HTTP_AIROUTER_STATS_DAYS < today) {
            ngx_http_airouter_stats_delete(sh, shpool, sn);
            sh->changed = 1;
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


static ngx_http_airouter_stats_sh_t *
ngx_http_airouter_stats_sh(ngx_http_airouter_main_conf_t *amcf,
    ngx_slab_pool_t **shpool)
{
    ngx_http_airouter_zone_t  *zone;

    zone = ngx_http_airouter_zone_get(amcf);
    if (zone == NULL || zone->sh == NULL || zone->sh->stats == NULL) {
        return NULL;
    }

    *shpool = zone->shpool;

    return zone->sh->stats;
}


static uint32_t
ngx_http_airouter_stats_hash(uint32_t day, ngx_uint_t kind,
    const u_char *name, size_t len)
{
    uint32_t  crc;

    ngx_crc32_init(crc);
    ngx_crc32_update(&crc, (u_char *) &day, sizeof(uint32_t));
    ngx_crc32_update(&crc, (u_char *) &kind, sizeof(ngx_uint_t));
    ngx_crc32_update(&crc, (u_char *) name, len);
    ngx_crc32_final(crc);

    return crc;
}


static ngx_http_airouter_stats_node_t *
ngx_http_airouter_stats_lookup(ngx_http_airouter_stats_sh_t *sh,
    uint32_t day, ngx_uint_t kind, const u_char *name, size_t len)
{
    uint32_t                         hash;
    ngx_int_t                        rc;
    ngx_rbtree_node_t               *node, *sentinel;
    ngx_http_airouter_stats_node_t  *sn;

    len = ngx_min(len, NGX_HTTP_AIROUTER_STATS_NAME);
    hash = ngx_http_airouter_stats_hash(day, kind, name, len);

    node = sh->rbtree.root;
    sentinel = sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        sn = (ngx_http_airouter_stats_node_t *) &node->color;

        rc = (ngx_int_t) sn->day - (ngx_int_t) day;

        if (rc == 0) {
            rc = (ngx_int_t) sn->kind - (ngx_int_t) kind;
        }

        if (rc == 0) {
            rc = ngx_memn2cmp((u_char *) name, sn->name, len, (size_t) sn->len);
        }

        if (rc == 0) {
            return sn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/*
 * The node, created if absent.  A full zone gives up the oldest nodes
 * first (never the rate nodes, which are day 0 and few).
 */
static ngx_http_airouter_stats_node_t *
ngx_http_airouter_stats_get(ngx_http_airouter_stats_sh_t *sh,
    ngx_slab_pool_t *shpool, uint32_t day, ngx_uint_t kind,
    const u_char *name, size_t len)
{
    size_t                           size;
    ngx_uint_t                       n;
    ngx_queue_t                     *q;
    ngx_rbtree_node_t               *node;
    ngx_http_airouter_stats_node_t  *sn, *old;

    sn = ngx_http_airouter_stats_lookup(sh, day, kind, name, len);
    if (sn) {
        goto found;
    }

    len = ngx_min(len, NGX_HTTP_AIROUTER_STATS_NAME);
    size = offsetof(ngx_rbtree_node_t, color)
           + offsetof(ngx_http_airouter_stats_node_t, name) + len;

    node = ngx_slab_alloc_locked(shpool, size);

    for (n = 0; node == NULL && n < NGX_HTTP_AIROUTER_STATS_EVICT; n++) {
        old = NULL;

        for (q = ngx_queue_last(&sh->queue);
             q != ngx_queue_sentinel(&sh->queue);
             q = ngx_queue_prev(q))
        {
            old = ngx_queue_data(q, ngx_http_airouter_stats_node_t, queue);

            if (old->day != 0) {
                break;
            }

            old = NULL;
        }

        if (old == NULL) {
            return NULL;
        }

        ngx_http_airouter_stats_delete(sh, shpool, old);

        node = ngx_slab_alloc_locked(shpool, size);
    }

    if (node == NULL) {
        return NULL;
    }

    sn = (ngx_http_airouter_stats_node_t *) &node->color;

    ngx_memzero(&sn->kind,
                offsetof(ngx_http_airouter_stats_node_t, name)
                - offsetof(ngx_http_airouter_stats_node_t, kind));

    node->key = ngx_http_airouter_stats_hash(day, kind, name, len);
    sn->kind = (u_char) kind;
    sn->len = (u_char) len;
    sn->day = day;
    ngx_memcpy(sn->name, name, len);

    ngx_rbtree_insert(&sh->rbtree, node);
    ngx_queue_insert_head(&sh->queue, &sn->queue);

found:

    /* every count goes through here: the Redis flush looks at these only */
    if (kind <= NGX_HTTP_AIROUTER_STATS_MODEL && sn->unsent.next == NULL) {
        ngx_queue_insert_tail(&sh->unsent, &sn->unsent);
    }

    return sn;
}


static void
ngx_http_airouter_stats_delete(ngx_http_airouter_stats_sh_t *sh,
    ngx_slab_pool_t *shpool, ngx_http_airouter_stats_node_t *sn)
{
    ngx_rbtree_node_t  *node;

    node = (ngx_rbtree_node_t *)
               ((u_char *) sn - offsetof(ngx_rbtree_node_t, color));

    ngx_queue_remove(&sn->queue);

    if (sn->unsent.next) {
        ngx_queue_remove(&sn->unsent);
    }

    ngx_rbtree_delete(&sh->rbtree, node);
    ngx_slab_free_locked(shpool, node);
}


static void
ngx_http_airouter_stats_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_int_t                        rc;
    ngx_rbtree_node_t              **p;
    ngx_http_airouter_stats_node_t  *sn, *snt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            sn = (ngx_http_airouter_stats_node_t *) &node->color;
            snt = (ngx_http_airouter_stats_node_t *) &temp->color;

            rc = (ngx_int_t) sn->day - (ngx_int_t) snt->day;

            if (rc == 0) {
                rc = (ngx_int_t) sn->kind - (ngx_int_t) snt->kind;
            }

            if (rc == 0) {
                rc = ngx_memn2cmp(sn->name, snt->name, sn->len, snt->len);
            }

            p = (rc < 0) ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}
