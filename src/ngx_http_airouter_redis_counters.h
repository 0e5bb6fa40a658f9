/*
 * airouter_redis' counter flushes, run by worker 0 every half second on
 * the command link:
 *
 *   flush       the stats nodes' deltas not yet acknowledged ("pending",
 *               in the zone) go to the hash <prefix>stats:<YYYY-MM-DD> as
 *               HINCRBY / HINCRBYFLOAT (a value with a decimal point:
 *               USD counters) of "<kind>:<name>:<counter>", one field per
 *               counter of the list (ngx_http_airouter_stats.h), in
 *               one script call that applies a batch only once (its id,
 *               SET NX); a batch without an answer goes again as it was,
 *               one refused goes back to the zone
 *   read back   the day's hash (this month's days after a (re)connection)
 *               is read and merged into the zone: each counter becomes
 *               the larger of its local value and Redis' plus what is
 *               still pending
 *
 * Owned by ngx_http_airouter_redis.c, which embeds the state below and
 * tells it when the link comes up and when the worker exits.
 */

#ifndef NGX_HTTP_AIROUTER_REDIS_COUNTERS_H
#define NGX_HTTP_AIROUTER_REDIS_COUNTERS_H

#include "ngx_http_airouter_redis_link.h"


#define NGX_HTTP_AIROUTER_REDIS_PREFIX   128    /* longest key prefix */


typedef struct {
    /* set by the owner before ngx_http_airouter_redis_counters_start() */
    ngx_http_airouter_main_conf_t  *amcf;
    ngx_http_airouter_redis_link_t *link;       /* the command link */
    ngx_str_t                    prefix;
    const u_char                *host_id;
    uint64_t                    *flushes;       /* in the zone: /health */
    uint64_t                    *failures;
    ngx_log_t                   *log;

    ngx_event_t                  tick;
    ngx_uint_t                   flushing;      /* a batch awaits its reply */
    void                        *failed;        /* a batch to send again */
    uint64_t                     batches;
    ngx_uint_t                   reading;       /* HGETALLs awaiting replies */
    uint32_t                     next_day;      /* the next reply's day */
    uint32_t                     catch_up;      /* first day to read; 0:
                                                   today */
} ngx_http_airouter_redis_counters_t;


/* Worker 0's init_process: the tick starts. */
void ngx_http_airouter_redis_counters_start(
    ngx_http_airouter_redis_counters_t *c);

/* The link is up: this month's days are read back, then the flush runs. */
void ngx_http_airouter_redis_counters_catch_up(
    ngx_http_airouter_redis_counters_t *c);

/*
 * The worker exits (the link is closed already): a batch without an
 * answer goes back to the zone for the next worker 0, counted twice if
 * the server had applied it, rather than lost.
 */
void ngx_http_airouter_redis_counters_stop(
    ngx_http_airouter_redis_counters_t *c);

#endif /* NGX_HTTP_AIROUTER_REDIS_COUNTERS_H */
