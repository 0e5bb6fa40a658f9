/*
 * The admin's switches, in the shared zone so that every worker follows
 * them from its next request: the routing strategy switched to
 * (POST /v1/admin/routing/strategy, or another host through Redis) and
 * the channels switched off (POST /v1/admin/channels/{id}/disable).
 * Channels are kept by id, so a switch outlives catalogue generations
 * and reloads; airouter_stats_file keeps both across restarts.
 *
 * Layout: the strategy's name and a list of channel ids in the slab.
 * Locking: the zone's mutex, for a copy or a short list walk.
 *
 * Called by the admin API, airouter_redis (strategy), the API handler
 * and /v1/route (strategy in force), the stats' availability filter
 * (ngx_http_airouter_stats_bind), /health, /metrics, the stats API and
 * the stats file.
 */

#ifndef NGX_HTTP_AIROUTER_SWITCH_H
#define NGX_HTTP_AIROUTER_SWITCH_H

#include "ngx_http_airouter_zone.h"


#define NGX_HTTP_AIROUTER_SWITCH_STRATEGY  64    /* longest name + 1 */


ngx_int_t ngx_http_airouter_switch_init_zone(ngx_http_airouter_zone_t *zone);

/* Each process's copy of the strategy, empty until a request reads it. */
ngx_int_t ngx_http_airouter_switch_init_process(ngx_cycle_t *cycle);

/*
 * The strategy switched to: NGX_OK with its name (in buf, NUL-terminated),
 * NGX_DECLINED when none is set or it does not name a strategy of this
 * configuration.
 */
ngx_int_t ngx_http_airouter_switch_strategy(
    ngx_http_airouter_main_conf_t *amcf, u_char *buf, size_t size);

/* Empty name: back to the configured strategy; NGX_DECLINED: too long. */
ngx_int_t ngx_http_airouter_switch_set_strategy(
    ngx_http_airouter_main_conf_t *amcf, ngx_str_t *name);

/* A channel switched on (on = 1) or off (0). */
ngx_int_t ngx_http_airouter_switch_channel(
    ngx_http_airouter_main_conf_t *amcf, const char *id, ngx_uint_t on);
ngx_uint_t ngx_http_airouter_switch_channel_off(
    ngx_http_airouter_main_conf_t *amcf, const char *id);

/*
 * For the candidates' filter: off[i] = 1 for each configured channel i
 * that is switched off; the number of them.  Without the lock: 0 while
 * no channel is off, and with off NULL, how many ids are off.
 */
ngx_uint_t ngx_http_airouter_switch_off_channels(
    ngx_http_airouter_main_conf_t *amcf, u_char *off);

/*
 * For the stats file: a copy of the switches (strategy: at least
 * NGX_HTTP_AIROUTER_SWITCH_STRATEGY bytes; off: an array of ngx_str_t in
 * pool) and whether they changed since the last take; restore sets them
 * as read back, without marking a change.
 */
ngx_int_t ngx_http_airouter_switch_take(ngx_http_airouter_main_conf_t *amcf,
    ngx_pool_t *pool, u_char *strategy, ngx_array_t *off,
    ngx_uint_t *changed);
ngx_int_t ngx_http_airouter_switch_restore(
    ngx_http_airouter_main_conf_t *amcf, const char *strategy,
    ngx_array_t *off);

#endif /* NGX_HTTP_AIROUTER_SWITCH_H */
