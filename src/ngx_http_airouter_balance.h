/*
 * Balance checks: how much money is left on each channel that says
 * balance: (airouter_balance.h has the kinds and their answers).  A timer
 * in worker 0 asks the providers with the channel's first key, through
 * the module's HTTP client (ngx_http_airouter_fetch.c); the results live
 * in the shared zone.  A channel at 0 or below keeps its free and local
 * models but its paid ones leave the candidate lists (balance.hold), until
 * a check says otherwise.  A failed check changes nothing but its error.
 *
 * Called by the module (configuration, zone and process start), by the
 * request path (ngx_http_airouter_balance_bind), and by the admin API,
 * explain, stats alerts and metrics (ngx_http_airouter_balance_info).
 */

#ifndef NGX_HTTP_AIROUTER_BALANCE_H
#define NGX_HTTP_AIROUTER_BALANCE_H

#include "ngx_http_airouter_zone.h"
#include "airouter_rank.h"


typedef struct {
    ngx_uint_t                   configured;   /* the channel has balance: */
    const char                  *kind;
    ngx_uint_t                   known;        /* a check has read one */
    double                       amount;
    u_char                       currency[8];
    time_t                       checked;      /* last check, 0: never */
    time_t                       last_success;
    ngx_uint_t                   ok;           /* the last check read one */
    ngx_uint_t                   low;          /* below low_threshold */
    ngx_uint_t                   held;         /* paid models left out */
    time_t                       marked;       /* an answer said spent */
    const char                  *mark_fault;   /* its fault's name */
    u_char                       error[128];   /* of the last check */
} ngx_http_airouter_balance_info_t;


ngx_int_t ngx_http_airouter_balance_init_conf(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf);
ngx_int_t ngx_http_airouter_balance_init_zone(ngx_http_airouter_zone_t *zone);
ngx_int_t ngx_http_airouter_balance_init_process(ngx_cycle_t *cycle);

/* NGX_DECLINED when the channel has no balance: */
ngx_int_t ngx_http_airouter_balance_info(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel, ngx_http_airouter_balance_info_t *info);

/*
 * For a request: when some channel is held, *live is wrapped so that its
 * paid models are unavailable (the wrapper calls the original first).
 * filter is the caller's storage for the wrapper's state.
 */
typedef struct {
    airouter_live_filter_t       filter;       /* what it wraps */
    const airouter_catalog_t    *cat;
    u_char                      *held;         /* [nchannels] */
} ngx_http_airouter_balance_filter_t;

ngx_int_t ngx_http_airouter_balance_bind(ngx_http_airouter_main_conf_t *amcf,
    ngx_pool_t *pool, const airouter_catalog_t *cat, airouter_live_t *live,
    ngx_http_airouter_balance_filter_t *filter);

/* Whether entry model of channel is left out for the channel's balance. */
ngx_uint_t ngx_http_airouter_balance_held(
    ngx_http_airouter_main_conf_t *amcf, const airouter_catalog_t *cat,
    ngx_uint_t channel, uint32_t model);

#endif /* NGX_HTTP_AIROUTER_BALANCE_H */
