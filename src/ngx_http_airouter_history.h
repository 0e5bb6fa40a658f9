/*
 * What the request log's records add up to, in the shared zone, for the
 * dashboard's charts and for Prometheus:
 *
 *   minutes    a ring of the last 60 minutes: requests, errors, tokens,
 *              cost and a latency histogram per minute (for p50 / p95),
 *              GET /v1/admin/history;
 *   seconds    the last few seconds' requests, errors, tokens and cost,
 *              which the events stream sends once a second;
 *   channels   per channel (and "" for requests no channel answered):
 *              requests, errors, tokens and cost since the zone was made
 *              (never reset: Prometheus' _total counters), and the
 *              request duration and time-to-first-byte histograms with
 *              the buckets of airouter_histogram_buckets.
 *
 * Every worker adds to the same parts under the zone's mutex; a reload
 * keeps them (new channels get a slot of their own; other buckets start
 * the histograms again).  Called by the request log's log phase (add), the
 * admin URL table (the history API), /metrics and the events stream.
 */

#ifndef NGX_HTTP_AIROUTER_HISTORY_H
#define NGX_HTTP_AIROUTER_HISTORY_H

#include "ngx_http_airouter_zone.h"
#include "ngx_http_airouter_reqlog.h"


#define NGX_HTTP_AIROUTER_HISTORY_MINUTES   60
#define NGX_HTTP_AIROUTER_HISTORY_SECONDS   8
#define NGX_HTTP_AIROUTER_HISTORY_BUCKETS   32     /* configurable, most */


/* A second's or a minute's sums. */
typedef struct {
    int64_t                      start;        /* its first second */
    uint64_t                     requests;
    uint64_t                     errors;
    uint64_t                     prompt_tokens;
    uint64_t                     completion_tokens;
    double                       cost;
} ngx_http_airouter_history_sums_t;


/* airouter_histogram_buckets 0.1 0.5 1 ...; (seconds, ms precision) */
char *ngx_http_airouter_history_buckets(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* init_main_conf: the default buckets */
ngx_int_t ngx_http_airouter_history_init_conf(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf);

/* the zone's init hook (the module's part table) */
ngx_int_t ngx_http_airouter_history_init_zone(
    ngx_http_airouter_zone_t *zone);

/*
 * text as a record keeps it: at most size - 1 bytes, NUL-terminated, any
 * byte outside printable ASCII as '?'
 */
void ngx_http_airouter_history_copy(u_char *dst, size_t size,
    const u_char *src, size_t len);

/*
 * one finished request, as the request log recorded it; the caller holds
 * the zone's mutex (the request log's handler, once for all the log
 * phase's updates)
 */
void ngx_http_airouter_history_add_locked(ngx_http_airouter_zone_t *zone,
    const ngx_http_airouter_reqlog_entry_t *e, ngx_uint_t refused);

/*
 * second t's sums (zeros when none was counted), while it is one of the
 * last NGX_HTTP_AIROUTER_HISTORY_SECONDS: NGX_OK, else NGX_DECLINED
 */
ngx_int_t ngx_http_airouter_history_second(
    ngx_http_airouter_main_conf_t *amcf, time_t t,
    ngx_http_airouter_history_sums_t *s);

/* GET /v1/admin/history */
ngx_int_t ngx_http_airouter_history_api(ngx_http_request_t *r,
    ngx_str_t *path);

/*
 * The Prometheus families of the histograms and the totals since the
 * zone was made, as text in r->pool (*out empty: nothing to show).
 */
ngx_int_t ngx_http_airouter_history_metrics(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf, ngx_str_t *out);

#endif /* NGX_HTTP_AIROUTER_HISTORY_H */
