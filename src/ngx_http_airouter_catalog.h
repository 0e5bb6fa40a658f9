/*
 * The catalogue as nginx sees it: built from the configuration at start-up,
 * published in the shared zone (with a copy in the cache file of
 * airouter_cache_dir that the next start serves first), and handed to
 * request handlers.
 *
 * Layer: above the zone and pricing, below live state.  Called by the
 * module's configuration (build), by discovery (init_cache, publish), by
 * Redis (publish of another host's catalogue) and by every reader
 * (current).
 */

#ifndef NGX_HTTP_AIROUTER_CATALOG_H
#define NGX_HTTP_AIROUTER_CATALOG_H

#include "ngx_http_airouter_module.h"
#include "airouter_rank.h"


ngx_int_t ngx_http_airouter_catalog_build(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf);

/*
 * A catalogue published from a copy made off the event loop (discovery's
 * thread): cache_init names the cache file (event loop), reserve takes the
 * zone's room (event loop; NULL: none, logged), the thread copies the blob
 * there and runs cache_write, then publish_reserved swaps the copy in and
 * renames the file into place (event loop), or unreserve gives both up.
 */
typedef struct {
    u_char                      *path;      /* NUL-terminated */
    u_char                      *tmp;       /* NULL: no cache file */
    u_char                      *old;       /* a second name of the file
                                               the rename replaces */
    ngx_uint_t                   sync;      /* fsync tmp (a thread) */
    ngx_uint_t                   written;   /* tmp holds the blob */
    ngx_uint_t                   kept;      /* old names that file */
    const char                  *failed;    /* what failed, when not */
    ngx_err_t                    err;
} ngx_http_airouter_catalog_cache_t;

ngx_int_t ngx_http_airouter_catalog_cache_init(ngx_pool_t *pool,
    ngx_http_airouter_main_conf_t *amcf, ngx_http_airouter_catalog_cache_t *c);
void ngx_http_airouter_catalog_cache_write(
    ngx_http_airouter_catalog_cache_t *c, const void *blob, size_t len);
u_char *ngx_http_airouter_catalog_reserve(
    ngx_http_airouter_main_conf_t *amcf, size_t len, ngx_log_t *log);
void ngx_http_airouter_catalog_publish_reserved(
    ngx_http_airouter_main_conf_t *amcf, u_char *copy, size_t len,
    ngx_http_airouter_catalog_cache_t *cache, ngx_log_t *log);
void ngx_http_airouter_catalog_unreserve(ngx_http_airouter_main_conf_t *amcf,
    u_char *copy, ngx_http_airouter_catalog_cache_t *cache);
/*
 * After publish_reserved: the replaced file's last name goes, and with it
 * its blocks (tens of milliseconds for a large catalogue on some file
 * systems), in the caller's thread rather than in the rename.
 */
void ngx_http_airouter_catalog_cache_drop(
    ngx_http_airouter_catalog_cache_t *cache);

/*
 * The catalogue requests should use now: the zone's when it was built for
 * this process's configuration, else the process's own.  The view stays
 * valid until the handler returns to the event loop.
 */
const airouter_catalog_t *ngx_http_airouter_catalog_current(
    ngx_http_airouter_main_conf_t *amcf);

/*
 * The generation of the catalogue current() returned last (0 without a
 * zone), and this process's route memo (airouter_rank.h), made on first
 * use and freed with the cycle; NULL when out of memory.
 */
ngx_uint_t ngx_http_airouter_catalog_generation(
    ngx_http_airouter_main_conf_t *amcf);
airouter_route_memo_t *ngx_http_airouter_catalog_memo(
    ngx_http_airouter_main_conf_t *amcf);

/*
 * init_main_conf: creates airouter_cache_dir and, when the cache file of
 * this configuration is there and fits, serves it instead of the start-up
 * catalogue until discovery runs.
 */
ngx_int_t ngx_http_airouter_catalog_init_cache(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf);

/*
 * Publishes a catalogue blob built for this configuration in the zone and
 * writes it to the cache file (temp file + rename).  NGX_ERROR: the zone
 * has no room for it (logged); nothing was written.
 */
ngx_int_t ngx_http_airouter_catalog_publish(
    ngx_http_airouter_main_conf_t *amcf, void *blob, size_t len,
    ngx_log_t *log);

#endif /* NGX_HTTP_AIROUTER_CATALOG_H */
