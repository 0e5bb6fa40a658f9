/*
 * Discovery: asks every enabled channel for GET {base_url}/models with its
 * key(s), concurrently and without blocking, merges what they say into a
 * new catalogue generation and publishes it (ngx_http_airouter_catalog.c:
 * the shared zone, and the cache file the next start serves first).
 *
 * Who runs it: worker 0's timer (schedule from tasks.model_discovery and
 * each channel's discovery_interval, failures retried with backoff), or
 * any worker on POST /v1/admin/discovery.  A lease in the zone (owner pid,
 * expiry) lets one process at a time run; a dead owner's lease is taken
 * over.  Per-channel state (last success, models, last error, next run)
 * lives in the zone for /health and GET /v1/admin/channels.
 *
 * Layer: above Redis, below the handlers.  Called by the module's
 * configuration life cycle (init_conf, init_zone, init_process) and by
 * the handlers that show its state or run it: /health, /metrics and the
 * admin API.
 */

#ifndef NGX_HTTP_AIROUTER_DISCOVERY_H
#define NGX_HTTP_AIROUTER_DISCOVERY_H

#include <jansson.h>

#include "ngx_http_airouter_zone.h"


/* init_main_conf: targets, TLS context, and the cache file if it fits. */
ngx_int_t ngx_http_airouter_discovery_init_conf(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf);

/* zone init (master): the lease and this configuration's channel state. */
ngx_int_t ngx_http_airouter_discovery_init_zone(
    ngx_http_airouter_zone_t *zone);

/* init_process: arms the timer in worker 0. */
ngx_int_t ngx_http_airouter_discovery_init_process(ngx_cycle_t *cycle);

/* {"running", "last_run", "channels": {id: {...}}}, or NULL when off. */
json_t *ngx_http_airouter_discovery_json(
    ngx_http_airouter_main_conf_t *amcf);

/* The state of channel i (an object), for GET /v1/admin/channels. */
json_t *ngx_http_airouter_discovery_channel_json(
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t i);

/*
 * The admin URLs of discovery (path: after "/v1/"), NGX_DECLINED for
 * others:
 *   POST admin/discovery   runs every channel now; answers when the run
 *                          is over, or 409 while another process runs one
 *   GET  admin/discovery   the state, as in /health
 * GET admin/channels (each channel with the state that
 * ngx_http_airouter_discovery_channel_json gives) is served by
 * ngx_http_airouter_admin_api.c.
 */
ngx_int_t ngx_http_airouter_discovery_admin(ngx_http_request_t *r,
    ngx_str_t *path);

#endif /* NGX_HTTP_AIROUTER_DISCOVERY_H */
