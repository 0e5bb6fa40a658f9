/*
 * Module-wide types: the main and location configurations and the module
 * object.  Every nginx-facing file includes this header; the pure-C files
 * never do.
 */

#ifndef NGX_HTTP_AIROUTER_MODULE_H
#define NGX_HTTP_AIROUTER_MODULE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "airouter_config.h"
#include "airouter_catalog.h"


#define NGX_HTTP_AIROUTER_ZONE_SIZE    (16 * 1024 * 1024)


/* What a location's handler serves. */
typedef enum {
    NGX_HTTP_AIROUTER_ROLE_NONE = 0,
    NGX_HTTP_AIROUTER_ROLE_API,
    NGX_HTTP_AIROUTER_ROLE_ADMIN,
    NGX_HTTP_AIROUTER_ROLE_HEALTH,
    NGX_HTTP_AIROUTER_ROLE_METRICS,
    NGX_HTTP_AIROUTER_ROLE_DASHBOARD
} ngx_http_airouter_role_e;


typedef struct {
    ngx_str_t                    config_file;
    airouter_config_t           *config;       /* NULL: not configured */

    /*
     * The catalogue built from the config at start-up.  It is published
     * into the shared zone; this process-local copy serves when the zone
     * holds a catalogue of another configuration (old workers during a
     * reload).
     */
    void                        *catalog_blob;
    size_t                       catalog_len;
    const airouter_catalog_t    *catalog;
    uint64_t                     fingerprint;

    /*
     * This process's view of the zone's catalogue, its generation, and
     * the catalogue requests read at that generation (NULL: not chosen
     * yet); ngx_http_airouter_catalog.c's per-process cache, with the
     * route memo (an airouter_route_memo_t) kept for that catalogue.
     */
    const airouter_catalog_t    *zone_view;
    ngx_uint_t                   zone_generation;
    const airouter_catalog_t    *zone_current;
    void                        *route_memo;

    ngx_shm_zone_t              *shm_zone;
    ngx_str_t                    zone_name;
    size_t                       zone_size;

    /* ngx_http_airouter_proxy.c: channel addresses, keys, outcome table */
    void                        *proxy;

    /* ngx_http_airouter_live.c: the slots upper layers set (on_block) */
    void                        *live;

    /* ngx_http_airouter_resolve.c: names re-resolved by each worker */
    void                        *resolve;

    /* ngx_http_airouter_endpoint.c: each channel's endpoint, built once */
    void                        *endpoints;

    /* ngx_http_airouter_discovery.c: directives, then what init builds */
    ngx_str_t                    cache_dir;     /* empty: no cache file */
    ngx_msec_t                   discovery_delay;
    ngx_msec_t                   discovery_timeout;
    size_t                       discovery_max_size;
    void                        *discovery;

    /* ngx_http_airouter_balance.c: the balance checks, NULL: none */
    void                        *balance;

    /* ngx_http_airouter_pricing.c: airouter_pricing_file, NULL: none */
    void                        *pricing;       /* airouter_pricing_t */

    /* ngx_http_airouter_stats_file.c: airouter_stats_file */
    ngx_str_t                    stats_file;
    ngx_msec_t                   stats_interval;

    /*
     * ngx_http_airouter_switch.c's per-process copy of the strategy
     * switched to (made by each process's init_process)
     */
    void                        *switch_cache;

    /* ngx_http_airouter_redis.c: airouter_redis, NULL: not configured */
    void                        *redis;

    /* ngx_http_airouter_reqlog.c: airouter_request_log (0: off) */
    ngx_uint_t                   request_log;

    /* ngx_http_airouter_history.c: airouter_histogram_buckets */
    void                        *history;

    /* airouter_tokenizer: an airouter_tokenizer_t, NULL: byte estimate */
    void                        *tokenizer;
} ngx_http_airouter_main_conf_t;


typedef struct {
    ngx_http_airouter_role_e     role;

    /*
     * The proxy's (ngx_http_airouter_proxy.c): nginx's upstream settings
     * (airouter_connect/send/read_timeout, airouter_buffer_size), upstream
     * TLS and the keepalive cache size; proxy holds what merge builds from
     * them (TLS context, peer configuration, per-worker connection cache).
     */
    ngx_http_upstream_conf_t     upstream;
    ngx_uint_t                   keepalive;
    ngx_flag_t                   ssl_verify;
    ngx_str_t                    ssl_trusted_certificate;
    void                        *proxy;
} ngx_http_airouter_loc_conf_t;


extern ngx_module_t  ngx_http_airouter_module;

#endif /* NGX_HTTP_AIROUTER_MODULE_H */
