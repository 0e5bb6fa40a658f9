/*
 * airouter_redis: several nginx hosts, one brain.
 *
 * Each worker keeps one connection to Redis on nginx's event loop (a
 * "link", ngx_http_airouter_redis_link.c); worker 0 also keeps a
 * subscriber link and flushes the counters
 * (ngx_http_airouter_redis_counters.c).  What is shared:
 *
 *   blocks      a blacklist or cooldown set by live state is written as
 *               <prefix>block:<channel>[:<model>|#key<n>] with its TTL,
 *               added to the sorted set <prefix>blocks (score: until) and
 *               published on <prefix>events; peers apply it at once, and
 *               read the sorted set when they (re)connect
 *   counters    the day's hash <prefix>stats:<YYYY-MM-DD>, fields
 *               "<kind>:<name>:<counter>", written and read back by
 *               worker 0 (see ngx_http_airouter_redis_counters.h)
 *   catalogue   the discovered one, with the lock that elects the host
 *               that runs discovery
 *   strategy    the admin's switch: SET <prefix>strategy + published
 *
 * Redis is never on a request's path: requests read the zone; a request
 * that sets a block only queues a command on its worker's connection when
 * that connection is up.  A dead or silent Redis (no PONG within the
 * watchdog period) drops the connections; they come back with a backoff.
 */

#ifndef NGX_HTTP_AIROUTER_REDIS_H
#define NGX_HTTP_AIROUTER_REDIS_H

#include "ngx_http_airouter_zone.h"
#include <jansson.h>


char *ngx_http_airouter_redis_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

ngx_int_t ngx_http_airouter_redis_init_zone(ngx_http_airouter_zone_t *zone);
ngx_int_t ngx_http_airouter_redis_init_process(ngx_cycle_t *cycle);
void ngx_http_airouter_redis_exit_process(ngx_cycle_t *cycle);

/* The admin switched the strategy (empty name: back to the configured). */
void ngx_http_airouter_redis_strategy(ngx_http_airouter_main_conf_t *amcf,
    ngx_str_t *name);

/*
 * The discovered catalogue.  discovery_lock asks Redis, without waiting,
 * whether this host runs discovery: NGX_OK: handler(data, won) is called
 * with 1 (run), 0 (another host holds the lock) or -1 (no answer: run
 * locally); NGX_AGAIN: the first connection is under way, ask again soon;
 * NGX_DECLINED: no Redis (or down): run locally.  catalogue stores a
 * published blob for the other hosts and tells them; their worker 0 takes
 * it (and takes the stored one after connecting).  catalogue_json: for
 * /health, NULL unless the zone's catalogue came from another host.
 */
typedef void (*ngx_http_airouter_redis_lock_pt)(void *data, ngx_int_t won);

ngx_int_t ngx_http_airouter_redis_discovery_lock(
    ngx_http_airouter_main_conf_t *amcf, ngx_msec_t ttl,
    ngx_http_airouter_redis_lock_pt handler, void *data);
void ngx_http_airouter_redis_catalogue(ngx_http_airouter_main_conf_t *amcf,
    void *blob, size_t len, ngx_msec_t ttl);
json_t *ngx_http_airouter_redis_catalogue_json(
    ngx_http_airouter_main_conf_t *amcf);

/* For /health: NULL without airouter_redis. */
json_t *ngx_http_airouter_redis_json(ngx_http_airouter_main_conf_t *amcf);

#endif /* NGX_HTTP_AIROUTER_REDIS_H */
