/*
 * Usage counters, budgets and channel daily limits, in the shared zone.
 *
 * Counters are kept per UTC day (day index = time / 86400) and per
 * (kind, name): the day's total (name ""), each API key (by name), each
 * channel (by id) and each model (by the channel's model id).  One node
 * per (day, kind, name) in an rbtree in the slab, keyed by a hash and
 * compared in full; a queue in insertion order lets the oldest go first
 * when the zone is full or when they pass NGX_HTTP_AIROUTER_STATS_DAYS.
 * A key's request rate has one node of its own (kind RATE, day 0): the
 * current minute and its count.
 *
 * The log phase records every routed request from its context (tokens,
 * cost, the channel and model that answered), called by the request
 * log's handler under its hold of the zone's lock; admission checks
 * (budgets, rate) run in the access phase and answer 429 themselves;
 * channel daily_limit (requests) and daily_token_limit (prompt + completion
 * tokens) wrap the live state's availability so a channel that used up
 * its day (or that an admin switched off: ngx_http_airouter_switch.c)
 * leaves the candidates.
 *
 * airouter_stats_file (ngx_http_airouter_stats_file.c) keeps the
 * counters across restarts; airouter_redis
 * (ngx_http_airouter_redis_counters.c) shares them between hosts.
 *
 * Locking: the zone's mutex, for a lookup and a few additions.
 */

#ifndef NGX_HTTP_AIROUTER_STATS_H
#define NGX_HTTP_AIROUTER_STATS_H

#include "ngx_http_airouter_zone.h"
#include "ngx_http_airouter_request.h"
#include "airouter_rank.h"


#define NGX_HTTP_AIROUTER_STATS_DAYS     100
#define NGX_HTTP_AIROUTER_STATS_SAVE     60      /* seconds */
#define NGX_HTTP_AIROUTER_STATS_NAME     255     /* longest name kept */


typedef enum {
    NGX_HTTP_AIROUTER_STATS_TOTAL = 0,
    NGX_HTTP_AIROUTER_STATS_KEY,
    NGX_HTTP_AIROUTER_STATS_CHANNEL,
    NGX_HTTP_AIROUTER_STATS_MODEL,
    NGX_HTTP_AIROUTER_STATS_RATE,       /* day 0: a key's current minute */
    NGX_HTTP_AIROUTER_STATS_N
} ngx_http_airouter_stats_kind_e;


/* alert bits of a TOTAL or KEY day */
#define NGX_HTTP_AIROUTER_ALERT_THRESHOLD   0x01
#define NGX_HTTP_AIROUTER_ALERT_EXCEEDED    0x02


/*
 * The usage counters: this list is the only place they are written out.
 * Each line is X(name, type, from, scopes, metric, label, help):
 *
 *   name     the member of ngx_http_airouter_stats_counters_t, and the
 *            counter's name in the stats file, in Redis
 *            ("<kind>:<name>:<counter>") and in the stats API's JSON
 *   type     COUNT (uint64_t) or USD (double)
 *   from     what each routed request adds in the log phase: the request
 *            context's member (NGX_HTTP_AIROUTER_FROM(member), an
 *            ngx_int_t for a COUNT, a double for USD; < 0: unknown), or
 *            NGX_HTTP_AIROUTER_NONE: counted by its own code
 *   scopes   where /metrics shows it: ALL (the day's total, each key,
 *            channel and model), TOTAL, or TOTAL_KEY
 *   metric   its /metrics family: airouter[_<scope>]_<metric>_total
 *   label    the family's "type" label when counters share it, or NULL
 *   help     the family's HELP text, before " today ..."
 *
 * The zone's record, the stats file, Redis' fields, the stats API and
 * /metrics are generated from it: a counter is one line here.
 */
#define NGX_HTTP_AIROUTER_STATS_COUNTERS(X)                                  \
    X(requests, COUNT, NGX_HTTP_AIROUTER_NONE, ALL, "requests", NULL,        \
      "Routed requests")                                                     \
    X(errors, COUNT, NGX_HTTP_AIROUTER_NONE, ALL, "errors", NULL,            \
      "Routed requests that ended in an error")                              \
    X(prompt_tokens, COUNT, NGX_HTTP_AIROUTER_FROM(prompt_tokens), ALL,      \
      "tokens", "prompt", "Tokens used, by type (prompt, completion)")       \
    X(completion_tokens, COUNT, NGX_HTTP_AIROUTER_FROM(completion_tokens),   \
      ALL, "tokens", "completion",                                           \
      "Tokens used, by type (prompt, completion)")                           \
    X(cached_tokens, COUNT, NGX_HTTP_AIROUTER_FROM(cached_tokens), ALL,      \
      "cached_tokens", NULL,                                                 \
      "Prompt tokens the provider read from its prompt cache (part of the "  \
      "prompt tokens)")                                                      \
    X(cost, USD, NGX_HTTP_AIROUTER_FROM(cost), ALL, "cost_usd", NULL,        \
      "What requests cost, in USD")                                          \
    X(unauthorized, COUNT, NGX_HTTP_AIROUTER_NONE, TOTAL, "unauthorized",    \
      NULL, "Requests refused for a missing or wrong token")                 \
    X(throttled, COUNT, NGX_HTTP_AIROUTER_NONE, TOTAL_KEY, "throttled",      \
      NULL, "Requests refused with 429 for a budget or a key's rate")        \
    X(hedges, COUNT, NGX_HTTP_AIROUTER_FROM(hedges), ALL, "hedges", NULL,    \
      "Requests hedged: a second candidate started beside a slow first try") \
    X(hedge_wins, COUNT, NGX_HTTP_AIROUTER_FROM(hedge_wins), ALL,            \
      "hedge_wins", NULL, "Hedged requests whose answer came from the hedge")

#define NGX_HTTP_AIROUTER_FROM(member)                                       \
    ((ssize_t) offsetof(ngx_http_airouter_ctx_t, member))
#define NGX_HTTP_AIROUTER_NONE       ((ssize_t) -1)

#define NGX_HTTP_AIROUTER_STATS_COUNT_T  uint64_t
#define NGX_HTTP_AIROUTER_STATS_USD_T    double

#define NGX_HTTP_AIROUTER_STATS_MEMBER(name, type, from, scopes, metric,     \
                                       label, help)                          \
    NGX_HTTP_AIROUTER_STATS_##type##_T  name;

typedef struct {
    NGX_HTTP_AIROUTER_STATS_COUNTERS(NGX_HTTP_AIROUTER_STATS_MEMBER)
} ngx_http_airouter_stats_counters_t;


typedef enum {
    NGX_HTTP_AIROUTER_STATS_COUNT = 0,
    NGX_HTTP_AIROUTER_STATS_USD
} ngx_http_airouter_stats_type_e;


/* scopes: bits of the kinds */
#define NGX_HTTP_AIROUTER_STATS_IN_TOTAL      0x01
#define NGX_HTTP_AIROUTER_STATS_IN_TOTAL_KEY  0x03
#define NGX_HTTP_AIROUTER_STATS_IN_ALL        0x0f


/* One counter as the list describes it (ngx_http_airouter_stats_counters). */
typedef struct {
    const char                  *name;
    size_t                       offset;    /* in ..._stats_counters_t */
    ngx_http_airouter_stats_type_e  type;
    ssize_t                      from;      /* in ..._ctx_t, or -1 */
    ngx_uint_t                   scopes;    /* 1 << kind, each kind */
    const char                  *metric;
    const char                  *label;
    const char                  *help;
} ngx_http_airouter_stats_counter_t;


/* The list, ended by a NULL name. */
extern const ngx_http_airouter_stats_counter_t
    ngx_http_airouter_stats_counters[];

#define ngx_http_airouter_stats_count(c, d)                                  \
    (*(uint64_t *) ((u_char *) (c) + (d)->offset))
#define ngx_http_airouter_stats_usd(c, d)                                    \
    (*(double *) ((u_char *) (c) + (d)->offset))

/* A counter's value as a number, whatever its type. */
double ngx_http_airouter_stats_value(
    const ngx_http_airouter_stats_counters_t *c,
    const ngx_http_airouter_stats_counter_t *d);


/* One counter node copied out of the zone (ngx_http_airouter_stats_rows). */
typedef struct {
    uint32_t                     day;
    ngx_http_airouter_stats_kind_e  kind;
    ngx_uint_t                   alerts;
    ngx_str_t                    name;
    ngx_http_airouter_stats_counters_t  c;
} ngx_http_airouter_stats_row_t;


/* One (kind, name)'s counters summed over days (ngx_http_airouter_stats_sum). */
typedef struct {
    ngx_uint_t                   kind;
    ngx_str_t                    name;
    ngx_http_airouter_stats_counters_t  c;
} ngx_http_airouter_stats_sum_t;


/*
 * A channel's day against its daily_limit and daily_token_limit
 * (ngx_http_airouter_stats_quota): what the admin API, /metrics, the
 * alerts and the routing filter all read.
 */
typedef struct {
    uint64_t                     requests;      /* sent today */
    uint64_t                     tokens;        /* prompt + completion */
    int64_t                      requests_left; /* -1: no daily_limit */
    int64_t                      tokens_left;   /* -1: no daily_token_limit */
    ngx_uint_t                   spent;         /* a limit is used up */
} ngx_http_airouter_stats_quota_t;


/* For the daily limits' filter: see ngx_http_airouter_stats_bind(). */
typedef struct {
    airouter_live_filter_t       filter;        /* what it wraps */
    u_char                      *off;           /* per channel, or NULL */
    ngx_uint_t                   nchannels;
} ngx_http_airouter_stats_filter_t;


/* module life cycle: the zone's init hook; the log-phase handler */
ngx_int_t ngx_http_airouter_stats_init_zone(ngx_http_airouter_zone_t *zone);

/*
 * The log phase's count of one request (tokens, cost, the channel and
 * model that answered), in three steps so that the request log's handler
 * (ngx_http_airouter_reqlog.c) takes the zone's lock once for these
 * counters and its own record: start, before the lock (NGX_DECLINED:
 * nothing to count); log_locked, under the zone's mutex; log_done, after
 * it (the budget alerts' log lines).
 */
typedef struct {
    ngx_http_airouter_ctx_t     *ctx;
    void                        *sh;
    ngx_slab_pool_t             *shpool;
    uint32_t                     today;
    double                       budget;
    double                       threshold;
    ngx_uint_t                   total_alert;
    ngx_uint_t                   key_alert;
    double                       total_spent;
    double                       key_spent;
    ngx_http_airouter_stats_counters_t  c;
} ngx_http_airouter_stats_log_t;

ngx_int_t ngx_http_airouter_stats_log_start(ngx_http_airouter_ctx_t *ctx,
    ngx_http_airouter_stats_log_t *sl);
void ngx_http_airouter_stats_log_locked(ngx_http_airouter_stats_log_t *sl);
void ngx_http_airouter_stats_log_done(ngx_http_request_t *r,
    ngx_http_airouter_stats_log_t *sl);

uint32_t ngx_http_airouter_stats_today(void);

/*
 * Admission, in the access phase (before the body is read): per-key daily
 * and monthly budgets, the global daily budget (when
 * auto_disable_on_budget_exceeded) and the key's request rate.  NGX_OK,
 * or NGX_DECLINED when a 429 has been sent: *rc is then what the handler
 * returns.
 */
ngx_int_t ngx_http_airouter_stats_admit(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, ngx_int_t *rc);

/*
 * After routing, when the candidates' prices are known: the budgets are
 * checked again counting what requests in progress hold, and estimate
 * (the request's worst-case cost, USD) is held on the day's total and the
 * key until the log phase replaces it with the actual cost (or the
 * request pool's cleanup gives it back).  NGX_OK, or NGX_DECLINED when a
 * 429 has been sent: *rc is then what the handler returns.
 */
ngx_int_t ngx_http_airouter_stats_reserve(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, double estimate, ngx_int_t *rc);

/*
 * Whether usd more can be spent today without reaching a budget that
 * applies to the request (the day's total, its key's day and month),
 * counting what was spent and what requests in progress hold.  1 when no
 * budget applies.  Read only: a hedged request asks it for twice its
 * worst case before it may be hedged.
 */
ngx_uint_t ngx_http_airouter_stats_room(ngx_http_airouter_ctx_t *ctx,
    double usd);

/* A request refused for a bad token (counted on the day's total). */
void ngx_http_airouter_stats_unauthorized(
    ngx_http_airouter_main_conf_t *amcf);

/*
 * Wraps live (bound by ngx_http_airouter_live_bind) so that channels whose
 * daily_limit or daily_token_limit is used up, or that an admin
 * disabled, are unavailable.
 * f must outlive the airouter_route() call that uses live.
 */
ngx_int_t ngx_http_airouter_stats_bind(ngx_http_airouter_main_conf_t *amcf,
    ngx_pool_t *pool, airouter_live_t *live,
    ngx_http_airouter_stats_filter_t *f);

/*
 * A channel's requests and tokens today against its daily limits.  A
 * request's tokens count when it ends (the log phase): requests already
 * on their way when the limit is reached may pass it.
 */
void ngx_http_airouter_stats_quota(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel, ngx_http_airouter_stats_quota_t *q);

/*
 * Every node of days [from, to] (and only of kind, unless kind is
 * NGX_HTTP_AIROUTER_STATS_N), copied into pool.
 */
ngx_int_t ngx_http_airouter_stats_rows(ngx_http_airouter_main_conf_t *amcf,
    ngx_pool_t *pool, uint32_t from, uint32_t to,
    ngx_http_airouter_stats_kind_e kind, ngx_array_t *rows);

/*
 * The counters of the last days (today included) summed per (kind, name),
 * of one kind or of every counted one (NGX_HTTP_AIROUTER_STATS_N): an
 * array of ngx_http_airouter_stats_sum_t in pool.
 */
ngx_int_t ngx_http_airouter_stats_sum(ngx_http_airouter_main_conf_t *amcf,
    ngx_pool_t *pool, ngx_uint_t days, ngx_http_airouter_stats_kind_e kind,
    ngx_array_t *sums);


/*
 * With airouter_redis (ngx_http_airouter_redis.c), every counter node also
 * keeps its deltas not yet acknowledged by Redis ("pending").  take copies
 * them out of the TOTAL, KEY, CHANNEL and MODEL nodes into rows and zeroes
 * them; give_back adds rows back to pending (the write failed); merge
 * raises each counter of each row's node to the row's value (Redis') plus
 * what is still pending there, when that is larger.
 */
ngx_int_t ngx_http_airouter_stats_take_pending(
    ngx_http_airouter_main_conf_t *amcf, ngx_pool_t *pool,
    ngx_array_t *rows);
void ngx_http_airouter_stats_give_back(ngx_http_airouter_main_conf_t *amcf,
    ngx_array_t *rows);
void ngx_http_airouter_stats_merge(ngx_http_airouter_main_conf_t *amcf,
    ngx_array_t *rows);

/* "total", "key", ... and back (-1: not a kind) */
const char *ngx_http_airouter_stats_kind_name(ngx_uint_t kind);
ngx_int_t ngx_http_airouter_stats_kind_from(const u_char *name, size_t len);

/*
 * For airouter_stats_file: restore sets each row's node (counters and
 * alerts) as saved, and returns how many it set before the zone was
 * full; take_changed says whether any counter changed since it was last
 * asked; prune drops the days past NGX_HTTP_AIROUTER_STATS_DAYS.
 */
ngx_int_t ngx_http_airouter_stats_restore(
    ngx_http_airouter_main_conf_t *amcf, ngx_array_t *rows);
ngx_uint_t ngx_http_airouter_stats_take_changed(
    ngx_http_airouter_main_conf_t *amcf);
void ngx_http_airouter_stats_prune(ngx_http_airouter_main_conf_t *amcf);


/*
 * The HTTP side, behind the admin token: /v1/stats/...
 * (ngx_http_airouter_stats_api.c).  path is the part of the URI after
 * "/v1/".
 */
ngx_int_t ngx_http_airouter_stats_api_handler(ngx_http_request_t *r,
    ngx_str_t *path);

#endif /* NGX_HTTP_AIROUTER_STATS_H */
