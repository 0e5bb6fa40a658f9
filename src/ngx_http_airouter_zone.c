/*
 * The shared zone's life cycle: creation, reuse across reloads, and the
 * catalogue swap.  Layout and locking rule: ngx_http_airouter_zone.h.
 * The lowest nginx-side layer: it calls only nginx and the init hooks the
 * module gives it.
 */

#include "ngx_http_airouter_zone.h"


/*
 * A sanitizer build overwrites a retired catalogue before its pages go back
 * to the slab, as nginx's NGX_DEBUG_MALLOC does (ngx_slab_junk): the slab is
 * no malloc, so AddressSanitizer cannot see a read of a freed catalogue, and
 * junk makes such a reader fail (a wild offset, a wrong answer) instead of
 * reading an old copy that still looks right.
 */
#if defined(__SANITIZE_ADDRESS__)
#define ngx_http_airouter_zone_junk(p, size)  ngx_memset(p, 0xA5, size)
#else
#define ngx_http_airouter_zone_junk(p, size)  (void) (size)
#endif


static ngx_int_t ngx_http_airouter_zone_init(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_airouter_zone_free(ngx_http_airouter_zone_t *zone,
    airouter_grace_slot_t *gone, const char *why, ngx_log_t *log);


ngx_shm_zone_t *
ngx_http_airouter_zone_add(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf,
    const ngx_http_airouter_zone_init_pt *init)
{
    ngx_shm_zone_t            *shm_zone;
    ngx_http_airouter_zone_t  *zone;

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_airouter_zone_t));
    if (zone == NULL) {
        return NULL;
    }

    zone->amcf = amcf;
    zone->init = init;

    shm_zone = ngx_shared_memory_add(cf, &amcf->zone_name, amcf->zone_size,
                                     &ngx_http_airouter_module);
    if (shm_zone == NULL) {
        return NULL;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "airouter zone \"%V\" is already in use",
                           &amcf->zone_name);
        return NULL;
    }

    shm_zone->init = ngx_http_airouter_zone_init;
    shm_zone->data = zone;

    return shm_zone;
}


/*
 * Runs in the master at start and at every reload.  On reload the old
 * workers still read the zone, so nothing they use is changed in place: a
 * new catalogue is published beside the old one.
 */
static ngx_int_t
ngx_http_airouter_zone_init(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_airouter_zone_t *ozone = data;

    ngx_http_airouter_zone_t              *zone;
    ngx_http_airouter_main_conf_t         *amcf;
    const ngx_http_airouter_zone_init_pt  *init;

    zone = shm_zone->data;
    amcf = zone->amcf;
    zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (ozone) {
        zone->sh = ozone->sh;

    } else if (shm_zone->shm.exists) {
        zone->sh = zone->shpool->data;
        return NGX_OK;

    } else {
        zone->sh = ngx_slab_alloc(zone->shpool,
                                  sizeof(ngx_http_airouter_shctx_t));
        if (zone->sh == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(zone->sh, sizeof(ngx_http_airouter_shctx_t));
        zone->sh->started = ngx_time();
        zone->shpool->data = zone->sh;

        zone->shpool->log_ctx = ngx_slab_alloc(zone->shpool,
                                    sizeof(" in airouter zone \"\"")
                                    + shm_zone->shm.name.len);
        if (zone->shpool->log_ctx == NULL) {
            return NGX_ERROR;
        }

        ngx_sprintf(zone->shpool->log_ctx, " in airouter zone \"%V\"%Z",
                    &shm_zone->shm.name);
    }

    for (init = zone->init; init && *init; init++) {
        if ((*init)(zone) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (amcf->catalog_blob == NULL
        || (zone->sh->catalog && zone->sh->fingerprint == amcf->fingerprint))
    {
        /* same configuration: keep what the zone serves (maybe newer) */
        return NGX_OK;
    }

    return ngx_http_airouter_zone_publish(zone, amcf->catalog_blob,
                                          amcf->catalog_len,
                                          amcf->fingerprint,
                                          shm_zone->shm.log);
}


ngx_http_airouter_zone_t *
ngx_http_airouter_zone_get(ngx_http_airouter_main_conf_t *amcf)
{
    if (amcf->shm_zone == NULL) {
        return NULL;
    }

    return amcf->shm_zone->data;
}


ngx_int_t
ngx_http_airouter_zone_publish(ngx_http_airouter_zone_t *zone,
    const void *blob, size_t len, uint64_t fingerprint, ngx_log_t *log)
{
    u_char  *copy;

    copy = ngx_http_airouter_zone_reserve(zone, len, log);
    if (copy == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(copy, blob, len);

    ngx_http_airouter_zone_swap(zone, copy, len, fingerprint, log);

    return NGX_OK;
}


/*
 * A zone without room for the new catalogue first gives up the retired
 * ones, oldest first, before it calls itself too small: the holding area
 * never makes a publication fail that one retired copy would have let
 * through.  The slab's own "no memory" line is kept out of the log while
 * the holding area still has something to give.
 */
u_char *
ngx_http_airouter_zone_reserve(ngx_http_airouter_zone_t *zone, size_t len,
    ngx_log_t *log)
{
    u_char                 *copy;
    ngx_int_t               held;
    ngx_slab_pool_t        *shpool;
    airouter_grace_slot_t   gone;

    shpool = zone->shpool;

    for ( ;; ) {
        ngx_shmtx_lock(&shpool->mutex);

        shpool->log_nomem = 0;
        copy = ngx_slab_alloc_locked(shpool, len);
        shpool->log_nomem = 1;

        held = (copy == NULL
                && airouter_grace_oldest(&zone->sh->grace, &gone));

        ngx_shmtx_unlock(&shpool->mutex);

        if (!held) {
            break;
        }

        ngx_http_airouter_zone_free(zone, &gone, "the zone has no room for "
                                    "a new catalogue", log);
    }

    if (copy == NULL) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "airouter: zone \"%V\" is too small for a catalogue "
                      "of %uz bytes: raise the size in \"airouter_zone\"",
                      &zone->amcf->zone_name, len);
    }

    return copy;
}


void
ngx_http_airouter_zone_unreserve(ngx_http_airouter_zone_t *zone,
    u_char *copy)
{
    ngx_slab_free(zone->shpool, copy);
}


void
ngx_http_airouter_zone_swap(ngx_http_airouter_zone_t *zone, u_char *copy,
    size_t len, uint64_t fingerprint, ngx_log_t *log)
{
    time_t                  now;
    ngx_uint_t              i, n, early;
    airouter_grace_slot_t   gone[AIROUTER_GRACE_SLOTS + 1];

    now = ngx_time();
    n = 0;
    early = 0;

    ngx_shmtx_lock(&zone->shpool->mutex);

    while (n < AIROUTER_GRACE_SLOTS
           && airouter_grace_expired(&zone->sh->grace, now, &gone[n]))
    {
        n++;
    }

    if (zone->sh->catalog
        && airouter_grace_retire(&zone->sh->grace, zone->sh->catalog,
                                 zone->sh->catalog_len, now, &gone[n]))
    {
        early = 1;
        n++;
    }

    zone->sh->catalog = copy;
    zone->sh->catalog_len = len;
    zone->sh->fingerprint = fingerprint;
    zone->sh->generation++;

    ngx_shmtx_unlock(&zone->shpool->mutex);

    /* the early one, if any, is last */
    for (i = 0; i < n; i++) {
        ngx_http_airouter_zone_free(zone, &gone[i],
                                    (early && i == n - 1)
                                    ? "every holding slot is taken" : NULL,
                                    log);
    }
}


/*
 * No one may read it now (its grace has passed, or why says why it is cut
 * short): junked (sanitizer builds) outside the lock, then freed.
 */
static void
ngx_http_airouter_zone_free(ngx_http_airouter_zone_t *zone,
    airouter_grace_slot_t *gone, const char *why, ngx_log_t *log)
{
    if (why) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "airouter: zone \"%V\": a catalogue retired %T s ago "
                      "freed before its %d s grace: %s",
                      &zone->amcf->zone_name, ngx_time() - gone->since,
                      AIROUTER_GRACE_SECONDS, why);
    }

    ngx_http_airouter_zone_junk(gone->blob, gone->len);
    ngx_slab_free(zone->shpool, gone->blob);
}


void
ngx_http_airouter_zone_usage(ngx_http_airouter_zone_t *zone, size_t *used,
    size_t *total)
{
    size_t  free;

    ngx_shmtx_lock(&zone->shpool->mutex);
    free = zone->shpool->pfree << ngx_pagesize_shift;
    ngx_shmtx_unlock(&zone->shpool->mutex);

    *total = zone->amcf->shm_zone->shm.size;
    *used = *total > free ? *total - free : 0;
}
