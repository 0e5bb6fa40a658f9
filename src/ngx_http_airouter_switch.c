/*
 * The admin's switches (strategy, channels off) in the shared zone; see
 * ngx_http_airouter_switch.h.
 */

#include "ngx_http_airouter_switch.h"


#define NGX_HTTP_AIROUTER_SWITCH_ID   255       /* longest id kept */


/* A channel switched off: its id. */
typedef struct {
    ngx_queue_t                  queue;
    u_char                       len;
    u_char                       id[1];
} ngx_http_airouter_switch_off_t;


typedef struct {
    u_char                       strategy[NGX_HTTP_AIROUTER_SWITCH_STRATEGY];
    ngx_atomic_t                 version;   /* of strategy: bumped under
                                               the lock with every write,
                                               read without it */
    ngx_queue_t                  off;
    ngx_uint_t                   noff;      /* read unlocked: see below */
    ngx_uint_t                   changed;   /* since the stats file took */
} ngx_http_airouter_switch_sh_t;


/*
 * amcf->switch_cache, this process's copy of the zone's strategy as of
 * its version (0: nothing copied yet), so that a request reads the
 * strategy without the zone's lock while nobody switches.  Made at
 * init_process: a reload's new workers start from an empty copy.
 */
typedef struct {
    ngx_atomic_uint_t            version;
    u_char                       strategy[NGX_HTTP_AIROUTER_SWITCH_STRATEGY];
} ngx_http_airouter_switch_cache_t;


static ngx_http_airouter_switch_sh_t *ngx_http_airouter_switch_sh(
    ngx_http_airouter_main_conf_t *amcf, ngx_slab_pool_t **shpool);
static ngx_http_airouter_switch_off_t *ngx_http_airouter_switch_find(
    ngx_http_airouter_switch_sh_t *sh, const u_char *id, size_t len);
static ngx_int_t ngx_http_airouter_switch_set_off(
    ngx_http_airouter_switch_sh_t *sh, ngx_slab_pool_t *shpool,
    const u_char *id, size_t len, ngx_uint_t on);


ngx_int_t
ngx_http_airouter_switch_init_zone(ngx_http_airouter_zone_t *zone)
{
    ngx_http_airouter_switch_sh_t  *sh;

    if (zone->sh->switches) {
        return NGX_OK;              /* a reload: the switches are kept */
    }

    sh = ngx_slab_calloc(zone->shpool, sizeof(ngx_http_airouter_switch_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    ngx_queue_init(&sh->off);
    sh->version = 1;

    zone->sh->switches = sh;

    return NGX_OK;
}


ngx_int_t
ngx_http_airouter_switch_init_process(ngx_cycle_t *cycle)
{
    ngx_http_airouter_main_conf_t  *amcf;

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_airouter_module);
    if (amcf == NULL) {
        return NGX_OK;
    }

    amcf->switch_cache = ngx_pcalloc(cycle->pool,
                                     sizeof(ngx_http_airouter_switch_cache_t));
    if (amcf->switch_cache == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_airouter_switch_strategy(ngx_http_airouter_main_conf_t *amcf,
    u_char *buf, size_t size)
{
    ngx_slab_pool_t                   *shpool;
    ngx_http_airouter_switch_sh_t     *sh;
    ngx_http_airouter_switch_cache_t  *cache;

    sh = ngx_http_airouter_switch_sh(amcf, &shpool);
    if (sh == NULL || size == 0) {
        return NGX_DECLINED;
    }

    cache = amcf->switch_cache;     /* NULL: no init_process ran */

    /*
     * The version is read without the lock: a switch made this very
     * moment is seen by the next request, as if read just before it.
     */
    if (cache == NULL || cache->version != sh->version) {
        ngx_shmtx_lock(&shpool->mutex);

        if (cache) {
            ngx_memcpy(cache->strategy, sh->strategy, sizeof(sh->strategy));
            cache->version = sh->version;
        }

        ngx_cpystrn(buf, sh->strategy, ngx_min(size, sizeof(sh->strategy)));

        ngx_shmtx_unlock(&shpool->mutex);

    } else {
        ngx_cpystrn(buf, cache->strategy,
                    ngx_min(size, sizeof(cache->strategy)));
    }

    if (buf[0] == '\0'
        || airouter_config_strategy(amcf->config, (char *) buf) == NULL)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_airouter_switch_set_strategy(ngx_http_airouter_main_conf_t *amcf,
    ngx_str_t *name)
{
    ngx_slab_pool_t                *shpool;
    ngx_http_airouter_switch_sh_t  *sh;

    sh = ngx_http_airouter_switch_sh(amcf, &shpool);
    if (sh == NULL) {
        return NGX_ERROR;
    }

    if (name->len >= sizeof(sh->strategy)) {
        return NGX_DECLINED;
    }

    ngx_shmtx_lock(&shpool->mutex);
    ngx_memcpy(sh->strategy, name->data, name->len);
    sh->strategy[name->len] = '\0';
    sh->changed = 1;
    sh->version++;
    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}


ngx_int_t
ngx_http_airouter_switch_channel(ngx_http_airouter_main_conf_t *amcf,
    const char *id, ngx_uint_t on)
{
    ngx_int_t                       rc;
    ngx_slab_pool_t                *shpool;
    ngx_http_airouter_switch_sh_t  *sh;

    sh = ngx_http_airouter_switch_sh(amcf, &shpool);
    if (sh == NULL) {
        return NGX_ERROR;
    }

    ngx_shmtx_lock(&shpool->mutex);

    rc = ngx_http_airouter_switch_set_off(sh, shpool, (u_char *) id,
                                          ngx_strlen(id), on);
    sh->changed = 1;

    ngx_shmtx_unlock(&shpool->mutex);

    return rc;
}


ngx_uint_t
ngx_http_airouter_switch_channel_off(ngx_http_airouter_main_conf_t *amcf,
    const char *id)
{
    ngx_uint_t                      off;
    ngx_slab_pool_t                *shpool;
    ngx_http_airouter_switch_sh_t  *sh;

    sh = ngx_http_airouter_switch_sh(amcf, &shpool);
    if (sh == NULL) {
        return 0;
    }

    ngx_shmtx_lock(&shpool->mutex);
    off = ngx_http_airouter_switch_find(sh, (u_char *) id, ngx_strlen(id))
          != NULL;
    ngx_shmtx_unlock(&shpool->mutex);

    return off;
}


ngx_uint_t
ngx_http_airouter_switch_off_channels(ngx_http_airouter_main_conf_t *amcf,
    u_char *off)
{
    size_t                          i;
    ngx_uint_t                      n;
    const char                     *id;
    ngx_slab_pool_t                *shpool;
    airouter_config_t              *acf;
    ngx_http_airouter_switch_sh_t  *sh;

    sh = ngx_http_airouter_switch_sh(amcf, &shpool);

    /*
     * Read unlocked, so that the common case costs no lock: a switch made
     * this very moment is seen by the next request.
     */
    if (sh == NULL || sh->noff == 0 || off == NULL) {
        return sh ? sh->noff : 0;
    }

    acf = amcf->config;
    n = 0;

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < acf->nchannels; i++) {
        id = acf->channels[i].id;

        if (ngx_http_airouter_switch_find(sh, (u_char *) id, ngx_strlen(id)))
        {
            off[i] = 1;
            n++;
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return n;
}


ngx_int_t
ngx_http_airouter_switch_take(ngx_http_airouter_main_conf_t *amcf,
    ngx_pool_t *pool, u_char *strategy, ngx_array_t *off,
    ngx_uint_t *changed)
{
    ngx_int_t                        rc;
    ngx_str_t                       *s;
    ngx_queue_t                     *q;
    ngx_slab_pool_t                 *shpool;
    ngx_http_airouter_switch_sh_t   *sh;
    ngx_http_airouter_switch_off_t  *o;

    strategy[0] = '\0';
    *changed = 0;

    if (ngx_array_init(off, pool, 4, sizeof(ngx_str_t)) != NGX_OK) {
        return NGX_ERROR;
    }

    sh = ngx_http_airouter_switch_sh(amcf, &shpool);
    if (sh == NULL) {
        return NGX_OK;
    }

    rc = NGX_OK;

    ngx_shmtx_lock(&shpool->mutex);

    ngx_memcpy(strategy, sh->strategy, sizeof(sh->strategy));
    *changed = sh->changed;
    sh->changed = 0;

    for (q = ngx_queue_head(&sh->off);
         q != ngx_queue_sentinel(&sh->off);
         q = ngx_queue_next(q))
    {
        o = ngx_queue_data(q, ngx_http_airouter_switch_off_t, queue);

        s = ngx_array_push(off);
        if (s == NULL) {
            rc = NGX_ERROR;
            break;
        }

        s->len = o->len;
        s->data = ngx_pnalloc(pool, o->len + 1);
        if (s->data == NULL) {
            rc = NGX_ERROR;
            break;
        }

        ngx_memcpy(s->data, o->id, o->len);
        s->data[o->len] = '\0';
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return rc;
}


ngx_int_t
ngx_http_airouter_switch_restore(ngx_http_airouter_main_conf_t *amcf,
    const char *strategy, ngx_array_t *off)
{
    ngx_int_t                       rc;
    ngx_str_t                      *s;
    ngx_uint_t                      i;
    ngx_slab_pool_t                *shpool;
    ngx_http_airouter_switch_sh_t  *sh;

    sh = ngx_http_airouter_switch_sh(amcf, &shpool);
    if (sh == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_OK;
    s = off->elts;

    ngx_shmtx_lock(&shpool->mutex);

    if (strategy && ngx_strlen(strategy) < sizeof(sh->strategy)) {
        ngx_cpystrn(sh->strategy, (u_char *) strategy, sizeof(sh->strategy));
        sh->version++;
    }

    for (i = 0; i < off->nelts; i++) {
        if (ngx_http_airouter_switch_set_off(sh, shpool, s[i].data, s[i].len,
                                             0)
            != NGX_OK)
        {
            rc = NGX_ERROR;
            break;
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return rc;
}


static ngx_http_airouter_switch_sh_t *
ngx_http_airouter_switch_sh(ngx_http_airouter_main_conf_t *amcf,
    ngx_slab_pool_t **shpool)
{
    ngx_http_airouter_zone_t  *zone;

    zone = ngx_http_airouter_zone_get(amcf);
    if (zone == NULL || zone->sh == NULL || zone->sh->switches == NULL) {
        return NULL;
    }

    *shpool = zone->shpool;

    return zone->sh->switches;
}


/* few channels are ever off: a list does */
static ngx_http_airouter_switch_off_t *
ngx_http_airouter_switch_find(ngx_http_airouter_switch_sh_t *sh,
    const u_char *id, size_t len)
{
    ngx_queue_t                     *q;
    ngx_http_airouter_switch_off_t  *o;

    len = ngx_min(len, NGX_HTTP_AIROUTER_SWITCH_ID);

    for (q = ngx_queue_head(&sh->off);
         q != ngx_queue_sentinel(&sh->off);
         q = ngx_queue_next(q))
    {
        o = ngx_queue_data(q, ngx_http_airouter_switch_off_t, queue);

        if (o->len == len && ngx_memcmp(o->id, id, len) == 0) {
            return o;
        }
    }

    return NULL;
}


/* Under the lock. */
static ngx_int_t
ngx_http_airouter_switch_set_off(ngx_http_airouter_switch_sh_t *sh,
    ngx_slab_pool_t *shpool, const u_char *id, size_t len, ngx_uint_t on)
{
    ngx_http_airouter_switch_off_t  *o;

    o = ngx_http_airouter_switch_find(sh, id, len);

    if (on) {
        if (o) {
            ngx_queue_remove(&o->queue);
            ngx_slab_free_locked(shpool, o);
            sh->noff--;
        }

        return NGX_OK;
    }

    if (o) {
        return NGX_OK;
    }

    len = ngx_min(len, NGX_HTTP_AIROUTER_SWITCH_ID);

    o = ngx_slab_alloc_locked(shpool,
                              offsetof(ngx_http_airouter_switch_off_t, id)
                              + len);
    if (o == NULL) {
        return NGX_ERROR;
    }

    o->len = (u_char) len;
    ngx_memcpy(o->id, id, len);
    ngx_queue_insert_tail(&sh->off, &o->queue);
    sh->noff++;

    return NGX_OK;
}
