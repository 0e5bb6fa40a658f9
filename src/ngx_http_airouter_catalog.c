/*
 * Builds the start-up catalogue from the loaded configuration, publishes
 * new ones (zone + cache file), and picks the catalogue a request reads.
 * The zone's copy is opened once per generation and per process (header
 * checks only: every publisher verified it in full); the view is cached in
 * the main configuration, which is private to each process.
 */

#include "ngx_http_airouter_catalog.h"
#include "ngx_http_airouter_zone.h"
#include "ngx_http_airouter_pricing.h"
#include "airouter_models_json.h"


/* a cache file larger than this is not one we wrote */
#define NGX_HTTP_AIROUTER_CATALOG_CACHE_MAX  (128 * 1024 * 1024)


static ngx_int_t ngx_http_airouter_catalog_add_file(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf, airouter_catalog_builder_t *b,
    uint32_t channel, const char *file);
static void ngx_http_airouter_catalog_memo_free(void *data);
static u_char *ngx_http_airouter_catalog_cache_path(ngx_pool_t *pool,
    ngx_http_airouter_main_conf_t *amcf);
static void ngx_http_airouter_catalog_load_cache(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf);
static void ngx_http_airouter_catalog_write_cache(
    ngx_http_airouter_main_conf_t *amcf, void *blob, size_t len,
    ngx_log_t *log);
static void ngx_http_airouter_catalog_rename_cache(u_char *tmp, u_char *path,
    ngx_log_t *log);


ngx_int_t
ngx_http_airouter_catalog_build(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf)
{
    size_t                        len;
    void                         *blob;
    uint32_t                      i;
    airouter_channel_t           *ch;
    airouter_catalog_builder_t   *b;

    b = airouter_catalog_builder_create(amcf->config);
    if (b == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "airouter: out of memory building the catalogue");
        return NGX_ERROR;
    }

    if (airouter_catalog_builder_add_config(b) != 0
        || ngx_http_airouter_pricing_config(amcf, b) != NGX_OK)
    {
        airouter_catalog_builder_destroy(b);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "airouter: cannot build the catalogue from %s",
                           amcf->config->file);
        return NGX_ERROR;
    }

    for (i = 0; i < amcf->config->nchannels; i++) {
        ch = &amcf->config->channels[i];

        if (ch->models_file
            && ngx_http_airouter_catalog_add_file(cf, amcf, b, i,
                                                  ch->models_file)
               != NGX_OK)
        {
            airouter_catalog_builder_destroy(b);
            return NGX_ERROR;
        }
    }

    blob = airouter_catalog_builder_finish(b, &len);
    airouter_catalog_builder_destroy(b);

    if (blob == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "airouter: out of memory building the catalogue");
        return NGX_ERROR;
    }

    amcf->catalog_blob = blob;
    amcf->catalog_len = len;
    amcf->catalog = airouter_catalog_open(blob, len);

    if (amcf->catalog == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "airouter: the built catalogue does not verify");
        return NGX_ERROR;
    }

    /* the checksum names the blob: equal checksums, same catalogue */
    amcf->fingerprint = amcf->catalog->checksum;

    return NGX_OK;
}


const airouter_catalog_t *
ngx_http_airouter_catalog_current(ngx_http_airouter_main_conf_t *amcf)
{
    size_t                     len;
    u_char                    *blob;
    uint64_t                   fingerprint;
    ngx_uint_t                 generation;
    ngx_http_airouter_zone_t  *zone;

    zone = ngx_http_airouter_zone_get(amcf);
    if (zone == NULL || zone->sh == NULL) {
        return amcf->catalog;
    }

    /*
     * The request path takes no lock while the generation stays: the
     * publisher bumps it last, under the lock, and keeps the blob it
     * replaces until the next publication, so the catalogue chosen at
     * this generation stays readable as it did with the lock.
     */
    generation = zone->sh->generation;

    if (amcf->zone_current != NULL && amcf->zone_generation == generation) {
        return amcf->zone_current;
    }

    ngx_shmtx_lock(&zone->shpool->mutex);
    generation = zone->sh->generation;
    blob = zone->sh->catalog;
    len = zone->sh->catalog_len;
    fingerprint = zone->sh->fingerprint;
    ngx_shmtx_unlock(&zone->shpool->mutex);

    /*
     * Every publisher verified the blob in full (airouter_catalog_open:
     * the configuration's, the cache file's, a discovery run's in its
     * thread, another host's from Redis) before it reached the zone, where
     * nothing else writes: the header check is enough here, so no worker
     * pays an O(size) verification on the request after a publication.
     */
    if (amcf->zone_view == NULL || amcf->zone_generation != generation) {
        amcf->zone_view = (blob && fingerprint == amcf->fingerprint)
                          ? airouter_catalog_view(blob, len) : NULL;
        amcf->zone_generation = generation;
    }

    amcf->zone_current = amcf->zone_view ? amcf->zone_view : amcf->catalog;

    return amcf->zone_current;
}


ngx_uint_t
ngx_http_airouter_catalog_generation(ngx_http_airouter_main_conf_t *amcf)
{
    return amcf->zone_generation;
}


airouter_route_memo_t *
ngx_http_airouter_catalog_memo(ngx_http_airouter_main_conf_t *amcf)
{
    ngx_pool_cleanup_t  *cln;

    if (amcf->route_memo != NULL) {
        return amcf->route_memo;
    }

    cln = ngx_pool_cleanup_add(ngx_cycle->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    amcf->route_memo = airouter_route_memo_create();
    if (amcf->route_memo == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_airouter_catalog_memo_free;
    cln->data = amcf->route_memo;

    return amcf->route_memo;
}


static void
ngx_http_airouter_catalog_memo_free(void *data)
{
    airouter_route_memo_destroy(data);
}


/*
 * A channel's models_file: a saved /models answer in any format discovery
 * reads, loaded as if discovery had just fetched it.
 */
static ngx_int_t
ngx_http_airouter_catalog_add_file(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf, airouter_catalog_builder_t *b,
    uint32_t channel, const char *file)
{
    char                    err[256];
    u_char                 *data;
    size_t                  i, n;
    ssize_t                 got;
    ngx_fd_t                fd;
    ngx_int_t               rc;
    ngx_file_info_t         fi;
    airouter_model_info_t  *models;

    fd = ngx_open_file(file, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "airouter: models_file %s: cannot open", file);
        return NGX_ERROR;
    }

    data = NULL;
    rc = NGX_ERROR;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "airouter: models_file %s: cannot stat", file);
        goto done;
    }

    data = ngx_alloc(ngx_file_size(&fi) + 1, cf->log);
    if (data == NULL) {
        goto done;
    }

    got = ngx_read_fd(fd, data, ngx_file_size(&fi));
    if (got != (ssize_t) ngx_file_size(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "airouter: models_file %s: short read", file);
        goto done;
    }

    if (airouter_models_json_parse((char *) data, got, &models, &n, err,
                                   sizeof(err))
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "airouter: models_file %s: %s", file, err);
        goto done;
    }

    rc = NGX_OK;

    for (i = 0; i < n; i++) {
        /* no price in the file: the channel's, then the price files */
        ngx_http_airouter_pricing_price(amcf, channel, &models[i]);

        if (airouter_catalog_builder_add_model(b, channel, &models[i]) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "airouter: models_file %s: %s", file,
                               airouter_catalog_builder_error(b));
            rc = NGX_ERROR;
            break;
        }
    }

    airouter_models_json_free(models);

done:

    if (data) {
        ngx_free(data);
    }

    ngx_close_file(fd);

    return rc;
}


ngx_int_t
ngx_http_airouter_catalog_init_cache(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf)
{
    u_char  *p;

    if (amcf->cache_dir.len == 0) {
        return NGX_OK;
    }

    if (ngx_conf_full_name(cf->cycle, &amcf->cache_dir, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    /* NUL-terminated for ngx_create_dir() */
    p = ngx_pnalloc(cf->pool, amcf->cache_dir.len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_cpystrn(p, amcf->cache_dir.data, amcf->cache_dir.len + 1);
    amcf->cache_dir.data = p;

    if (ngx_create_dir(p, 0755) == NGX_FILE_ERROR
        && ngx_errno != NGX_EEXIST)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "airouter_cache_dir \"%s\": "
                           ngx_create_dir_n " failed", p);
        return NGX_ERROR;
    }

    ngx_http_airouter_catalog_load_cache(cf, amcf);

    return NGX_OK;
}


/*
 * One publication path for every source of a catalogue built for this
 * configuration (a discovery run, another host's run through Redis): the
 * zone first, then the cache file, so the file never holds a catalogue
 * the zone refused.
 */
ngx_int_t
ngx_http_airouter_catalog_publish(ngx_http_airouter_main_conf_t *amcf,
    void *blob, size_t len, ngx_log_t *log)
{
    ngx_http_airouter_zone_t  *zone;

    zone = ngx_http_airouter_zone_get(amcf);
    if (zone == NULL || zone->sh == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_airouter_zone_publish(zone, blob, len, amcf->fingerprint,
                                       log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "airouter: catalogue of %uz bytes published, "
                   "generation %uA", len, zone->sh->generation);

    ngx_http_airouter_catalog_write_cache(amcf, blob, len, log);

    return NGX_OK;
}


/*
 * The same for a catalogue built off the event loop (discovery's thread):
 * reserve room in the zone (NULL: none, logged), have the thread copy the
 * blob there and write the cache file's temporary copy
 * (ngx_http_airouter_catalog_cache_write), then publish_reserved swaps the
 * copy in and renames the file into place, so the zone still comes first;
 * unreserve gives both up.
 */
u_char *
ngx_http_airouter_catalog_reserve(ngx_http_airouter_main_conf_t *amcf,
    size_t len, ngx_log_t *log)
{
    ngx_http_airouter_zone_t  *zone;

    zone = ngx_http_airouter_zone_get(amcf);
    if (zone == NULL || zone->sh == NULL) {
        return NULL;
    }

    return ngx_http_airouter_zone_reserve(zone, len, log);
}


void
ngx_http_airouter_catalog_publish_reserved(
    ngx_http_airouter_main_conf_t *amcf, u_char *copy, size_t len,
    ngx_http_airouter_catalog_cache_t *cache, ngx_log_t *log)
{
    ngx_http_airouter_zone_t  *zone;

    zone = ngx_http_airouter_zone_get(amcf);

    ngx_http_airouter_zone_swap(zone, copy, len, amcf->fingerprint, log);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "airouter: catalogue of %uz bytes published, "
                   "generation %uA", len, zone->sh->generation);

    if (cache->written) {
        ngx_http_airouter_catalog_rename_cache(cache->tmp, cache->path, log);
        cache->written = 0;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                       "airouter: cache file renamed into place%s",
                       cache->kept ? ", the file it replaced left to the "
                                     "thread" : "");

    } else if (cache->tmp != NULL) {
        ngx_log_error(NGX_LOG_ERR, log, cache->err,
                      "airouter: cannot write the catalogue cache \"%s\": "
                      "%s", cache->tmp, cache->failed);
    }
}


void
ngx_http_airouter_catalog_unreserve(ngx_http_airouter_main_conf_t *amcf,
    u_char *copy, ngx_http_airouter_catalog_cache_t *cache)
{
    if (copy) {
        ngx_http_airouter_zone_unreserve(ngx_http_airouter_zone_get(amcf),
                                         copy);
    }

    if (cache->written) {
        (void) ngx_delete_file(cache->tmp);
        cache->written = 0;
    }

    ngx_http_airouter_catalog_cache_drop(cache);
}


/*
 * The names of the cache file and of its temporary copy, from pool (the
 * event loop's side); NGX_DECLINED without airouter_cache_dir.
 */
ngx_int_t
ngx_http_airouter_catalog_cache_init(ngx_pool_t *pool,
    ngx_http_airouter_main_conf_t *amcf, ngx_http_airouter_catalog_cache_t *c)
{
    ngx_memzero(c, sizeof(ngx_http_airouter_catalog_cache_t));

    if (amcf->cache_dir.len == 0) {
        return NGX_DECLINED;
    }

    c->path = ngx_http_airouter_catalog_cache_path(pool, amcf);
    c->tmp = ngx_pnalloc(pool, amcf->cache_dir.len + 64 + NGX_INT64_LEN);
    c->old = ngx_pnalloc(pool, amcf->cache_dir.len + 64 + NGX_INT64_LEN);

    if (c->path == NULL || c->tmp == NULL || c->old == NULL) {
        c->tmp = NULL;
        return NGX_ERROR;
    }

    ngx_sprintf(c->tmp, "%s.%P.tmp%Z", c->path, ngx_pid);
    ngx_sprintf(c->old, "%s.%P.old%Z", c->path, ngx_pid);

    return NGX_OK;
}


/*
 * Writes blob to c->tmp.  No pool, no log, no shared memory: it may run in
 * a thread of nginx's thread pool.  c->written, or c->failed and c->err.
 */
void
ngx_http_airouter_catalog_cache_write(ngx_http_airouter_catalog_cache_t *c,
    const void *blob, size_t len)
{
    size_t         left;
    ssize_t        n;
    ngx_fd_t       fd;
    const u_char  *p;

    c->written = 0;

    if (c->tmp == NULL) {
        return;
    }

    fd = ngx_open_file(c->tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE,
                       NGX_FILE_DEFAULT_ACCESS);
    if (fd == NGX_INVALID_FILE) {
        c->err = ngx_errno;
        c->failed = ngx_open_file_n " failed";
        return;
    }

    p = blob;
    left = len;

    while (left) {
        n = ngx_write_fd(fd, (void *) p, left);
        if (n <= 0) {
            c->err = ngx_errno;
            break;
        }

        p += n;
        left -= n;
    }

    /*
     * In a thread: on disk before the rename, which would otherwise flush
     * it on the event loop (ext4's auto_da_alloc: 2 ms for 30 MB).
     */
    if (left == 0 && c->sync && fsync(fd) == -1) {
        c->err = ngx_errno;
        left = 1;
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        c->err = ngx_errno;
        left = 1;
    }

    if (left) {
        c->failed = "short write";
        (void) ngx_delete_file(c->tmp);
        return;
    }

    c->written = 1;

    /*
     * A second name for the file the rename will replace (one a previous
     * run left goes first), so that the rename on the event loop frees no
     * blocks: cache_drop does, here.
     */
    if (c->old) {
        (void) ngx_delete_file(c->old);
        c->kept = (link((char *) c->path, (char *) c->old) == 0);
    }
}


void
ngx_http_airouter_catalog_cache_drop(ngx_http_airouter_catalog_cache_t *c)
{
    if (c->kept) {
        (void) ngx_delete_file(c->old);
        c->kept = 0;
    }
}


/*
 * Cache file: the catalogue blob as published, named after the
 * configuration's fingerprint, so a file written for another configuration
 * is never picked up.
 */
static u_char *
ngx_http_airouter_catalog_cache_path(ngx_pool_t *pool,
    ngx_http_airouter_main_conf_t *amcf)
{
    u_char  *path;

    path = ngx_pnalloc(pool, amcf->cache_dir.len
                             + sizeof("/airouter-.catalog") + 16);
    if (path == NULL) {
        return NULL;
    }

    ngx_sprintf(path, "%V/airouter-%016xL.catalog%Z", &amcf->cache_dir,
                amcf->fingerprint);

    return path;
}


static void
ngx_http_airouter_catalog_load_cache(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf)
{
    u_char                    *path, *data;
    ssize_t                    got;
    ngx_fd_t                   fd;
    ngx_file_info_t            fi;
    const airouter_catalog_t  *cat;

    if (amcf->cache_dir.len == 0) {
        return;
    }

    path = ngx_http_airouter_catalog_cache_path(cf->pool, amcf);
    if (path == NULL) {
        return;
    }

    fd = ngx_open_file(path, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        return;                         /* none yet */
    }

    data = NULL;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) < (off_t) sizeof(airouter_catalog_t)
        || ngx_file_size(&fi) > NGX_HTTP_AIROUTER_CATALOG_CACHE_MAX)
    {
        goto ignored;
    }

    /* malloc'd: airouter_catalog_blob_free() releases it */
    data = ngx_alloc(ngx_file_size(&fi), cf->log);
    if (data == NULL) {
        goto ignored;
    }

    got = ngx_read_fd(fd, data, ngx_file_size(&fi));

    if (got != (ssize_t) ngx_file_size(&fi)) {
        goto ignored;
    }

    cat = airouter_catalog_open(data, got);

    if (cat == NULL || !airouter_catalog_fits(cat, amcf->config)) {
        goto ignored;
    }

    ngx_close_file(fd);

    airouter_catalog_blob_free(amcf->catalog_blob);
    amcf->catalog_blob = data;
    amcf->catalog_len = got;
    amcf->catalog = cat;

    ngx_conf_log_error(NGX_LOG_NOTICE, cf, 0,
                       "airouter: serving the cached catalogue %s "
                       "(%uD models) until discovery runs", path,
                       airouter_catalog_nmodels(cat));
    return;

ignored:

    ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                       "airouter: cache file %s is not a catalogue of this "
                       "configuration, ignored", path);

    if (data) {
        ngx_free(data);
    }

    ngx_close_file(fd);
}


/*
 * Written in the worker that published (another host's catalogue from
 * Redis, a run without threads): a blocking write of the blob, then an
 * atomic rename, so a reader sees the old file or the new one, never a
 * part.
 */
static void
ngx_http_airouter_catalog_write_cache(ngx_http_airouter_main_conf_t *amcf,
    void *blob, size_t len, ngx_log_t *log)
{
    ngx_pool_t                          *pool;
    ngx_http_airouter_catalog_cache_t    cache;

    pool = ngx_create_pool(1024, log);
    if (pool == NULL) {
        return;
    }

    if (ngx_http_airouter_catalog_cache_init(pool, amcf, &cache) != NGX_OK) {
        goto done;
    }

    ngx_http_airouter_catalog_cache_write(&cache, blob, len);

    if (!cache.written) {
        ngx_log_error(NGX_LOG_ERR, log, cache.err,
                      "airouter: cannot write the catalogue cache \"%s\": "
                      "%s", cache.tmp, cache.failed);
        goto done;
    }

    ngx_http_airouter_catalog_rename_cache(cache.tmp, cache.path, log);
    ngx_http_airouter_catalog_cache_drop(&cache);

done:

    ngx_destroy_pool(pool);
}


static void
ngx_http_airouter_catalog_rename_cache(u_char *tmp, u_char *path,
    ngx_log_t *log)
{
    if (ngx_rename_file(tmp, path) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "airouter: " ngx_rename_file_n " \"%s\" to \"%s\" "
                      "failed", tmp, path);
        (void) ngx_delete_file(tmp);
    }
}
