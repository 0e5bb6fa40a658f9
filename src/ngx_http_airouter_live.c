/*
 * Live state in the shared zone; see ngx_http_airouter_live.h for what it
 * holds and who calls it.
 */

#include "ngx_http_airouter_live.h"
#include "ngx_http_airouter_catalog.h"
#include "ngx_http_airouter_request.h"


#define NGX_HTTP_AIROUTER_LIVE_SLOTS     8192
#define NGX_HTTP_AIROUTER_LIVE_BUCKETS   10
#define NGX_HTTP_AIROUTER_LIVE_BUCKET    30     /* seconds: a 5 min window */
#define NGX_HTTP_AIROUTER_LIVE_PROBE     60     /* a probe's reservation */
#define NGX_HTTP_AIROUTER_LIVE_ALPHA     0.2
/* a model_not_found block until discovery confirms the model is gone */
#define NGX_HTTP_AIROUTER_LIVE_UNCONFIRMED  60

/* what release() blocked, for the on_block slot */
#define NGX_HTTP_AIROUTER_LIVE_SET_CHANNEL  0x01
#define NGX_HTTP_AIROUTER_LIVE_SET_MODEL    0x02
#define NGX_HTTP_AIROUTER_LIVE_SET_KEY      0x04
#define NGX_HTTP_AIROUTER_LIVE_SET_SCOPED   0x08


typedef struct {
    uint64_t                     key;           /* 0: empty slot */
    uint64_t                     owner;         /* the definition it is of:
                                                   the channel's, or the
                                                   key's for a key's block */
    time_t                       until;         /* blocked until; 0: open */
    time_t                       probe;         /* half-open probe since */
    time_t                       period;        /* length of the last block */
    time_t                       confirm;       /* scoped: the block it gets
                                                   once discovery confirms
                                                   the fault; 0: none */
    uint32_t                     fault;         /* airouter_fault_e */
    uint32_t                     bucket[NGX_HTTP_AIROUTER_LIVE_BUCKETS];
    uint32_t                     ok[NGX_HTTP_AIROUTER_LIVE_BUCKETS];
    uint32_t                     err[NGX_HTTP_AIROUTER_LIVE_BUCKETS];
    uint32_t                     samples;
    uint32_t                     next_key;      /* a channel's: whose turn */
    /*
     * Written by every attempt (acquire and release), so kept on the
     * lines the release's sample writes anyway, at least a line away
     * from key and until: those the other workers' rankings read on
     * every look stay clean in their caches.
     */
    ngx_atomic_t                 inflight;      /* signed; changed by
                                                   atomic steps only: the
                                                   lock-free acquire too */
    double                       ttfb;          /* EWMA, ms */
    double                       total;
    double                       tps;           /* EWMA, completion tokens
                                                   per second of writing */
    uint32_t                     tps_samples;
    time_t                       last;          /* the last sample's time */
    float                        hist[AIROUTER_RANK_HIST];  /* TTFB */
} ngx_http_airouter_live_entry_t;


/*
 * amcf->live: the slots upper layers set, and each channel's definition as
 * a hash (id, base_url, api_keys; and each key's own: id, base_url, key),
 * the seed of its entries' keys: a channel redefined by a reload starts
 * afresh, a key kept keeps its block wherever it moved in the list.
 */
typedef struct {
    ngx_http_airouter_live_block_pt      on_block;
    ngx_http_airouter_live_reachable_pt  reachable;
    ngx_http_airouter_live_suspect_pt    on_suspect;
    ngx_uint_t                           nchannels;
    uint64_t                            *channels;  /* [nchannels] */
    uint64_t                           **keys;      /* [nchannels][nkeys] */
    uint64_t                            *owners;    /* all the above, sorted */
    ngx_uint_t                           nowners;
} ngx_http_airouter_live_conf_t;


typedef struct {
    ngx_uint_t                   mask;          /* slots - 1 */
    ngx_uint_t                   used;
    ngx_atomic_t                 version;       /* bumped under the lock
                                                   when an entry is made
                                                   or removed; read
                                                   without it */
    ngx_atomic_t                 seq;           /* odd while a writer
                                                   changes entries: see
                                                   _live_write_lock() */
    ngx_http_airouter_live_entry_t  slots[1];
} ngx_http_airouter_live_sh_t;


/* What the ranking's callbacks read of a (channel, catalogue entry). */
#define NGX_HTTP_AIROUTER_LIVE_LOOK_OPEN     0x01
#define NGX_HTTP_AIROUTER_LIVE_LOOK_MEASURE  0x02
#define NGX_HTTP_AIROUTER_LIVE_LOOK_RELY     0x04

typedef struct {
    ngx_uint_t                   known;         /* a (channel, model)
                                                   entry exists */
    ngx_uint_t                   open;          /* LOOK_OPEN */
    ngx_uint_t                   measured;      /* LOOK_MEASURE: */
    airouter_live_measure_t     *measure;       /*   written when measured */
    double                       reliability;   /* LOOK_RELY */
} ngx_http_airouter_live_look_t;


static ngx_http_airouter_live_sh_t *ngx_http_airouter_live_table(
    ngx_http_airouter_main_conf_t *amcf, ngx_slab_pool_t **shpool);
static uint64_t ngx_http_airouter_live_channel(
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t channel);
static uint64_t ngx_http_airouter_live_api_key(
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t channel, ngx_uint_t k);
static uint64_t ngx_http_airouter_live_define(const airouter_channel_t *ch,
    ngx_int_t k);
static int ngx_libc_cdecl ngx_http_airouter_live_cmp(const void *one,
    const void *two);
static ngx_uint_t ngx_http_airouter_live_owned(
    ngx_http_airouter_live_conf_t *lcf, uint64_t owner);
static void ngx_http_airouter_live_purge(ngx_http_airouter_zone_t *zone);
static void ngx_http_airouter_live_remove(ngx_http_airouter_live_sh_t *live,
    ngx_uint_t i);
static uint64_t ngx_http_airouter_live_key(uint64_t channel,
    const u_char *model, size_t len);
static uint64_t ngx_http_airouter_live_scope_of(uint64_t h, ngx_uint_t scope);
static uint64_t ngx_http_airouter_live_scope_key(uint64_t channel,
    const u_char *model, size_t len, ngx_uint_t scope);
static uint64_t ngx_http_airouter_live_fnv(uint64_t h, const u_char *p,
    size_t len);
static uint64_t ngx_http_airouter_live_key_hash(uint64_t key);
static ngx_uint_t ngx_http_airouter_live_key_fault(airouter_fault_e fault);
static ngx_int_t ngx_http_airouter_live_other_key(
    ngx_http_airouter_live_sh_t *live, ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel, ngx_uint_t nkeys, ngx_uint_t key, time_t now);
static ngx_http_airouter_live_entry_t *ngx_http_airouter_live_find(
    ngx_http_airouter_live_sh_t *live, uint64_t key, uint64_t owner);
static void ngx_http_airouter_live_pair(ngx_http_airouter_live_sh_t *live,
    uint64_t channel, const u_char *model, size_t len, ngx_uint_t create,
    ngx_http_airouter_live_entry_t **ce, ngx_http_airouter_live_entry_t **me);
static ngx_int_t ngx_http_airouter_live_enter(
    ngx_http_airouter_live_sh_t *live, uint64_t channel, ngx_str_t *model,
    ngx_uint_t scope);
static void ngx_http_airouter_live_leave(ngx_http_airouter_live_entry_t *e);
static ngx_int_t ngx_http_airouter_live_open(
    ngx_http_airouter_live_entry_t *e, time_t now, ngx_uint_t claim,
    ngx_uint_t *probing);
static void ngx_http_airouter_live_count(ngx_http_airouter_live_entry_t *e,
    time_t now, ngx_uint_t ok);
static void ngx_http_airouter_live_settle(ngx_http_airouter_live_entry_t *e,
    time_t now, ngx_uint_t probed, ngx_uint_t ok);
static void ngx_http_airouter_live_block(ngx_http_airouter_live_entry_t *e,
    time_t now, airouter_fault_e fault, long seconds);
static void ngx_http_airouter_live_write_lock(ngx_slab_pool_t *shpool,
    ngx_http_airouter_live_sh_t *live);
static void ngx_http_airouter_live_write_unlock(ngx_slab_pool_t *shpool,
    ngx_http_airouter_live_sh_t *live);
static ngx_int_t ngx_http_airouter_live_look(void *ctx, uint32_t channel,
    uint32_t model, ngx_uint_t what, ngx_http_airouter_live_look_t *look);
static void ngx_http_airouter_live_look_at(ngx_http_airouter_live_sh_t *live,
    uint64_t ckey, uint64_t mkey, uint64_t skey, time_t now, ngx_uint_t what,
    ngx_http_airouter_live_look_t *look);
static int ngx_http_airouter_live_measure_cb(void *ctx, uint32_t channel,
    uint32_t model, airouter_live_measure_t *m);
static void ngx_http_airouter_live_measured(ngx_http_airouter_live_entry_t *e,
    time_t now, airouter_live_measure_t *m);
static void ngx_http_airouter_live_sample(ngx_http_airouter_live_entry_t *e,
    time_t now, ngx_http_airouter_live_report_t *report);
static double ngx_http_airouter_live_reliability(void *ctx, uint32_t channel,
    uint32_t model);
static double ngx_http_airouter_live_reliability_of(
    ngx_http_airouter_live_entry_t *me, time_t now);
static int ngx_http_airouter_live_reachable_cb(void *ctx, uint32_t channel);
static int ngx_http_airouter_live_known(void *ctx, uint32_t channel,
    uint32_t model);
static ngx_http_airouter_live_seen_t *ngx_http_airouter_live_seen(void *ctx,
    uint32_t channel, uint32_t model, ngx_uint_t claim);
static int ngx_http_airouter_live_available(void *ctx, uint32_t channel,
    uint32_t model);
static ngx_http_airouter_live_conf_t *ngx_http_airouter_live_conf(
    ngx_conf_t *cf, ngx_http_airouter_main_conf_t *amcf);


ngx_int_t
ngx_http_airouter_live_on_block(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf,
    ngx_http_airouter_live_block_pt handler)
{
    ngx_http_airouter_live_conf_t  *lcf;

    lcf = ngx_http_airouter_live_conf(cf, amcf);
    if (lcf == NULL) {
        return NGX_ERROR;
    }

    lcf->on_block = handler;

    return NGX_OK;
}


ngx_http_airouter_live_block_pt
ngx_http_airouter_live_block_listener(ngx_http_airouter_main_conf_t *amcf)
{
    ngx_http_airouter_live_conf_t  *lcf;

    lcf = amcf->live;

    return lcf ? lcf->on_block : NULL;
}


ngx_int_t
ngx_http_airouter_live_on_reachable(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf,
    ngx_http_airouter_live_reachable_pt handler)
{
    ngx_http_airouter_live_conf_t  *lcf;

    lcf = ngx_http_airouter_live_conf(cf, amcf);
    if (lcf == NULL) {
        return NGX_ERROR;
    }

    lcf->reachable = handler;

    return NGX_OK;
}


ngx_int_t
ngx_http_airouter_live_on_suspect(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf,
    ngx_http_airouter_live_suspect_pt handler)
{
    ngx_http_airouter_live_conf_t  *lcf;

    lcf = ngx_http_airouter_live_conf(cf, amcf);
    if (lcf == NULL) {
        return NGX_ERROR;
    }

    lcf->on_suspect = handler;

    return NGX_OK;
}


static ngx_http_airouter_live_conf_t *
ngx_http_airouter_live_conf(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf)
{
    if (amcf->live == NULL) {
        amcf->live = ngx_pcalloc(cf->pool,
                                 sizeof(ngx_http_airouter_live_conf_t));
    }

    return amcf->live;
}


ngx_int_t
ngx_http_airouter_live_init_conf(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf)
{
    ngx_uint_t                      i, k, n;
    airouter_channel_t             *ch;
    ngx_http_airouter_live_conf_t  *lcf;

    lcf = ngx_http_airouter_live_conf(cf, amcf);
    if (lcf == NULL) {
        return NGX_ERROR;
    }

    lcf->nchannels = amcf->config->nchannels;
    n = lcf->nchannels;

    for (i = 0; i < lcf->nchannels; i++) {
        n += amcf->config->channels[i].api_keys.n;
    }

    lcf->channels = ngx_palloc(cf->pool,
                               (lcf->nchannels + 1) * sizeof(uint64_t));
    lcf->keys = ngx_palloc(cf->pool,
                           (lcf->nchannels + 1) * sizeof(uint64_t *));
    lcf->owners = ngx_palloc(cf->pool, (n + 1) * sizeof(uint64_t));

    if (lcf->channels == NULL || lcf->keys == NULL || lcf->owners == NULL) {
        return NGX_ERROR;
    }

    lcf->nowners = 0;

    for (i = 0; i < lcf->nchannels; i++) {
        ch = &amcf->config->channels[i];

        lcf->channels[i] = ngx_http_airouter_live_define(ch, -1);
        lcf->owners[lcf->nowners++] = lcf->channels[i];

        lcf->keys[i] = ngx_palloc(cf->pool,
                                  (ch->api_keys.n + 1) * sizeof(uint64_t));
        if (lcf->keys[i] == NULL) {
            return NGX_ERROR;
        }

        for (k = 0; k < ch->api_keys.n; k++) {
            lcf->keys[i][k] = ngx_http_airouter_live_define(ch, k);
            lcf->owners[lcf->nowners++] = lcf->keys[i][k];
        }
    }

    ngx_qsort(lcf->owners, lcf->nowners, sizeof(uint64_t),
              ngx_http_airouter_live_cmp);

    return NGX_OK;
}


/*
 * What a channel is, for its live state: its id, base_url and keys (k <
 * 0), or one of its keys (k): the id, base_url and that key.  Never 0.
 */
static uint64_t
ngx_http_airouter_live_define(const airouter_channel_t *ch, ngx_int_t k)
{
    size_t      i;
    uint64_t    h;
    const char  *url;

    url = ch->base_url ? ch->base_url : "";

    h = ngx_http_airouter_live_fnv(0xcbf29ce484222325ULL,
                                   (const u_char *) ch->id,
                                   ngx_strlen(ch->id) + 1);
    h = ngx_http_airouter_live_fnv(h, (const u_char *) url,
                                   ngx_strlen(url) + 1);

    if (k >= 0) {
        /* "\0k": no channel's own hash ends so */
        h = ngx_http_airouter_live_fnv(h, (const u_char *) "\0k", 2);
        h = ngx_http_airouter_live_fnv(h,
                (const u_char *) ch->api_keys.items[k],
                ngx_strlen(ch->api_keys.items[k]) + 1);

    } else {
        for (i = 0; i < ch->api_keys.n; i++) {
            h = ngx_http_airouter_live_fnv(h,
                    (const u_char *) ch->api_keys.items[i],
                    ngx_strlen(ch->api_keys.items[i]) + 1);
        }
    }

    return h ? h : 1;
}


static int ngx_libc_cdecl
ngx_http_airouter_live_cmp(const void *one, const void *two)
{
    uint64_t  a, b;

    a = *(const uint64_t *) one;
    b = *(const uint64_t *) two;

    return (a > b) - (a < b);
}


/* Whether owner is the definition of a channel or key of this config. */
static ngx_uint_t
ngx_http_airouter_live_owned(ngx_http_airouter_live_conf_t *lcf,
    uint64_t owner)
{
    ngx_uint_t  lo, hi, mid;

    lo = 0;
    hi = lcf->nowners;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (lcf->owners[mid] == owner) {
            return 1;
        }

        if (lcf->owners[mid] < owner) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    return 0;
}


/* The seed of channel's entries (the definition the config gives it). */
static uint64_t
ngx_http_airouter_live_channel(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel)
{
    ngx_http_airouter_live_conf_t  *lcf;

    lcf = amcf->live;

    if (lcf && lcf->channels && channel < lcf->nchannels) {
        return lcf->channels[channel];
    }

    return ngx_http_airouter_live_define(&amcf->config->channels[channel],
                                         -1);
}


/* The seed of the block of channel's api_keys[k]. */
static uint64_t
ngx_http_airouter_live_api_key(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel, ngx_uint_t k)
{
    airouter_channel_t             *ch;
    ngx_http_airouter_live_conf_t  *lcf;

    lcf = amcf->live;
    ch = &amcf->config->channels[channel];

    if (k >= ch->api_keys.n) {
        /* not a key of this config: an entry no one else finds */
        return ngx_http_airouter_live_fnv(
                   ngx_http_airouter_live_channel(amcf, channel),
                   (const u_char *) &k, sizeof(ngx_uint_t));
    }

    if (lcf && lcf->keys && channel < lcf->nchannels) {
        return lcf->keys[channel][k];
    }

    return ngx_http_airouter_live_define(ch, (ngx_int_t) k);
}


ngx_uint_t
ngx_http_airouter_live_reachable(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel)
{
    ngx_http_airouter_live_conf_t  *lcf;

    lcf = amcf->live;

    if (lcf == NULL || lcf->reachable == NULL) {
        return 1;
    }

    return lcf->reachable(amcf, channel);
}


ngx_uint_t
ngx_http_airouter_live_unresolved(ngx_http_airouter_main_conf_t *amcf)
{
    ngx_uint_t  i, n;

    n = 0;

    for (i = 0; i < amcf->config->nchannels; i++) {
        if (amcf->config->channels[i].enabled
            && !ngx_http_airouter_live_reachable(amcf, i))
        {
            n++;
        }
    }

    return n;
}


ngx_int_t
ngx_http_airouter_live_init_zone(ngx_http_airouter_zone_t *zone)
{
    size_t                        size;
    ngx_uint_t                    n;
    ngx_http_airouter_live_sh_t  *live;

    if (zone->sh->live) {
        /* a reload: the table is kept, less what the new config redefined */
        ngx_http_airouter_live_purge(zone);
        return NGX_OK;
    }

    /* at most an eighth of the zone: the catalogue needs the rest */
    n = NGX_HTTP_AIROUTER_LIVE_SLOTS;

    while (n > 64
           && n * sizeof(ngx_http_airouter_live_entry_t)
              > zone->amcf->zone_size / 8)
    {
        n /= 2;
    }

    size = sizeof(ngx_http_airouter_live_sh_t)
           + (n - 1) * sizeof(ngx_http_airouter_live_entry_t);

    live = ngx_slab_alloc(zone->shpool, size);
    if (live == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(live, size);
    live->mask = n - 1;

    zone->sh->live = live;

    return NGX_OK;
}


/*
 * At a reload, in the master: the entries of a channel or key that is no
 * longer defined as it was (another base_url, other keys, gone) go, so
 * that a channel blacklisted for its dead keys serves at once with new
 * ones.  The old workers may still look for them: they find nothing, as
 * for a channel that never failed.
 */
static void
ngx_http_airouter_live_purge(ngx_http_airouter_zone_t *zone)
{
    ngx_uint_t                      i, n;
    ngx_http_airouter_live_sh_t    *live;
    ngx_http_airouter_live_conf_t  *lcf;

    live = zone->sh->live;
    lcf = zone->amcf->live;

    if (lcf == NULL || lcf->owners == NULL) {
        return;
    }

    n = 0;

    ngx_http_airouter_live_write_lock(zone->shpool, live);

    for (i = 0; i <= live->mask; /* void */) {

        if (live->slots[i].key == 0
            || ngx_http_airouter_live_owned(lcf, live->slots[i].owner))
        {
            i++;
            continue;
        }

        /* another entry may move into slot i: look at it again */
        ngx_http_airouter_live_remove(live, i);
        n++;
    }

    ngx_http_airouter_live_write_unlock(zone->shpool, live);

    if (n) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "airouter: live: %ui entries of channels or keys the "
                      "new configuration redefines dropped", n);
    }
}


/*
 * Linear probing's deletion: empty slot i, then move back each entry of
 * the run after it that could no longer be found past the hole.
 */
static void
ngx_http_airouter_live_remove(ngx_http_airouter_live_sh_t *live,
    ngx_uint_t i)
{
    ngx_uint_t  j, home;

    j = i;
    live->version++;

    for ( ;; ) {
        ngx_memzero(&live->slots[i], sizeof(ngx_http_airouter_live_entry_t));

        for ( ;; ) {
            j = (j + 1) & live->mask;

            if (live->slots[j].key == 0) {
                live->used--;
                return;
            }

            home = live->slots[j].key & live->mask;

            /* j stays where it is when home is cyclically in (i, j] */
            if (i <= j ? (i < home && home <= j) : (i < home || home <= j)) {
                continue;
            }

            break;
        }

        live->slots[i] = live->slots[j];
        i = j;
    }
}


void
ngx_http_airouter_live_bind(ngx_http_airouter_main_conf_t *amcf,
    const airouter_catalog_t *cat, ngx_uint_t scope,
    ngx_http_airouter_live_view_t *view, airouter_live_t *live)
{
    ngx_slab_pool_t              *shpool;
    ngx_http_airouter_live_sh_t  *table;

    view->amcf = amcf;
    view->cat = cat;
    view->scope = scope;
    ngx_memzero(view->seen, sizeof(view->seen));

    live->speed = NULL;
    live->measure = ngx_http_airouter_live_measure_cb;
    live->reliability = ngx_http_airouter_live_reliability;
    live->reachable = ngx_http_airouter_live_reachable_cb;
    live->available = ngx_http_airouter_live_available;
    live->known = ngx_http_airouter_live_known;
    live->ctx = view;

    /*
     * Which entries known() finds changes only when an entry is made or
     * removed: the table's version, read without the lock (the memo asks
     * known() again when it moves; an entry made while it asks is seen
     * by the next request).  Without a table nothing is ever known.
     */
    table = ngx_http_airouter_live_table(amcf, &shpool);
    live->version = (table != NULL) ? (uint64_t) table->version + 1 : 1;
}


ngx_int_t
ngx_http_airouter_live_acquire(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel, ngx_str_t *model, ngx_uint_t scope,
    ngx_uint_t *probe, ngx_http_airouter_live_block_t *block)
{
    time_t                           now;
    uint64_t                         cid;
    ngx_int_t                        rc;
    ngx_uint_t                       cprobe, mprobe, sprobe;
    ngx_slab_pool_t                 *shpool;
    ngx_http_airouter_live_sh_t     *live;
    ngx_http_airouter_live_entry_t  *ce, *me, *se;

    *probe = 0;
    ngx_memzero(block, sizeof(ngx_http_airouter_live_block_t));

    live = ngx_http_airouter_live_table(amcf, &shpool);
    if (live == NULL) {
        return NGX_OK;
    }

    cid = ngx_http_airouter_live_channel(amcf, channel);

    if (ngx_http_airouter_live_enter(live, cid, model, scope) == NGX_OK) {
        return NGX_OK;
    }

    now = ngx_time();

    ngx_http_airouter_live_write_lock(shpool, live);

    ngx_http_airouter_live_pair(live, cid, model->data, model->len, 1,
                                &ce, &me);

    /* only a scoped block creates the scoped entry */
    se = scope ? ngx_http_airouter_live_find(live,
                     ngx_http_airouter_live_scope_key(cid, model->data,
                                                      model->len, scope), 0)
               : NULL;

    cprobe = 0;
    mprobe = 0;
    sprobe = 0;
    rc = NGX_OK;

    /* check all before claiming any probe */
    if ((ce && ngx_http_airouter_live_open(ce, now, 0, &cprobe) != NGX_OK)
        || (me && ngx_http_airouter_live_open(me, now, 0, &mprobe) != NGX_OK)
        || (se && ngx_http_airouter_live_open(se, now, 0, &sprobe) != NGX_OK))
    {
        rc = NGX_DECLINED;

        if (ce && ce->until > now) {
            block->until = ce->until;
            block->fault = ce->fault;

        } else if (me && me->until > now) {
            block->until = me->until;
            block->fault = me->fault;

        } else if (se && se->until > now) {
            block->until = se->until;
            block->fault = se->fault;

        } else {
            block->probing = 1;
            block->fault = (ce && ce->probe) ? ce->fault
                           : (me && me->probe) ? me->fault
                           : (se ? se->fault : 0);
        }

    } else {
        if (ce) {
            (void) ngx_http_airouter_live_open(ce, now, 1, &cprobe);
        }

        if (me) {
            (void) ngx_http_airouter_live_open(me, now, 1, &mprobe);
            (void) ngx_atomic_fetch_add(&me->inflight, 1);
        }

        if (se) {
            (void) ngx_http_airouter_live_open(se, now, 1, &sprobe);
        }

        *probe = (cprobe ? NGX_HTTP_AIROUTER_PROBE_CHANNEL : 0)
                 | (mprobe ? NGX_HTTP_AIROUTER_PROBE_MODEL : 0)
                 | (sprobe ? NGX_HTTP_AIROUTER_PROBE_SCOPED : 0);
    }

    ngx_http_airouter_live_write_unlock(shpool, live);

    if (rc == NGX_DECLINED) {
        ngx_log_debug5(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "airouter: live: \"%s\" \"%V\" kept away: %s%s, "
                       "%T s left", amcf->config->channels[channel].id,
                       model,
                       block->probing ? "a probe runs after " : "",
                       airouter_fault_name(block->fault),
                       block->until > now ? block->until - now : 0);

    } else if (*probe) {
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "airouter: live: \"%s\" \"%V\" half-open: this "
                       "attempt probes (%ui)",
                       amcf->config->channels[channel].id, model, *probe);
    }

    return rc;
}


void
ngx_http_airouter_live_release(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel, ngx_str_t *model,
    ngx_http_airouter_live_report_t *report)
{
    time_t                           now, shortened;
    uint64_t                         cid, kid;
    ngx_uint_t                       ok, shared, scoped;
    const char                      *id;
    ngx_slab_pool_t                 *shpool;
    airouter_verdict_t              *v;
    ngx_http_airouter_live_sh_t     *live;
    ngx_http_airouter_live_conf_t   *lcf;
    ngx_http_airouter_live_entry_t  *ce, *me, *ke, *se;

    report->keyed = 0;
    report->scoped = 0;

    live = ngx_http_airouter_live_table(amcf, &shpool);
    if (live == NULL) {
        return;
    }

    id = amcf->config->channels[channel].id;
    cid = ngx_http_airouter_live_channel(amcf, channel);
    now = ngx_time();
    ok = (report->fault == AIROUTER_FAULT_NONE);
    v = &report->verdict;
    shared = 0;

    /*
     * A model the channel says it does not have on this endpoint is kept
     * away from this endpoint only (a chat model may well 404 on
     * /v1/completions), and only briefly until discovery confirms that
     * the channel's /models no longer lists it.
     */
    scoped = report->scope != 0 && v->scope == AIROUTER_SCOPE_MODEL
             && report->fault == AIROUTER_FAULT_MODEL_NOT_FOUND;
    shortened = ngx_min(v->cooldown, NGX_HTTP_AIROUTER_LIVE_UNCONFIRMED);

    ngx_http_airouter_live_write_lock(shpool, live);

    ngx_http_airouter_live_pair(live, cid, model->data, model->len, 1,
                                &ce, &me);

    se = NULL;

    if (report->scope
        && (scoped || (report->probe & NGX_HTTP_AIROUTER_PROBE_SCOPED)))
    {
        se = ngx_http_airouter_live_find(live,
                 ngx_http_airouter_live_scope_key(cid, model->data,
                                                  model->len, report->scope),
                 cid);
    }

    if (report->nkeys > 1 && ngx_http_airouter_live_key_fault(report->fault)
        && v->cooldown > 0)
    {
        kid = ngx_http_airouter_live_api_key(amcf, channel, report->key);
        ke = ngx_http_airouter_live_find(live,
                 ngx_http_airouter_live_key_hash(kid), kid);

        if (ke) {
            ngx_http_airouter_live_count(ke, now, 0);
            ngx_http_airouter_live_block(ke, now, report->fault, v->cooldown);
            shared |= NGX_HTTP_AIROUTER_LIVE_SET_KEY;
        }

        /* the channel and its model stay open while another key lives */
        report->keyed = ngx_http_airouter_live_other_key(live, amcf, channel,
                            report->nkeys, report->key, now) == NGX_OK;
    }

    /* the client's own mistakes say nothing about the upstream */
    if (report->fault != AIROUTER_FAULT_BAD_REQUEST && !report->keyed) {

        if (ce) {
            ngx_http_airouter_live_count(ce, now, ok);
            ngx_http_airouter_live_settle(ce, now,
                report->probe & NGX_HTTP_AIROUTER_PROBE_CHANNEL,
                ok || v->scope != AIROUTER_SCOPE_CHANNEL);
        }

        if (me) {
            ngx_http_airouter_live_count(me, now, ok);

            if (scoped) {
                /* says nothing of the model on its other endpoints */
                if (report->probe & NGX_HTTP_AIROUTER_PROBE_MODEL) {
                    me->probe = 0;
                }

            } else {
                ngx_http_airouter_live_settle(me, now,
                    report->probe & NGX_HTTP_AIROUTER_PROBE_MODEL, ok);
            }
        }

        if (se) {
            ngx_http_airouter_live_settle(se, now,
                report->probe & NGX_HTTP_AIROUTER_PROBE_SCOPED, ok);

            if (ok) {
                se->confirm = 0;
            }
        }

        if (v->scope == AIROUTER_SCOPE_CHANNEL && ce) {
            ngx_http_airouter_live_block(ce, now, report->fault, v->cooldown);
            shared |= NGX_HTTP_AIROUTER_LIVE_SET_CHANNEL;

        } else if (scoped && se) {
            ngx_http_airouter_live_block(se, now, report->fault, shortened);
            se->confirm = v->cooldown > shortened ? v->cooldown : 0;
            report->scoped = shortened;
            shared |= NGX_HTTP_AIROUTER_LIVE_SET_SCOPED;

        } else if (v->scope == AIROUTER_SCOPE_MODEL && me) {
            ngx_http_airouter_live_block(me, now, report->fault, v->cooldown);
            shared |= NGX_HTTP_AIROUTER_LIVE_SET_MODEL;
        }

    } else {
        /* nothing learned: let the next request probe again */
        if (ce && (report->probe & NGX_HTTP_AIROUTER_PROBE_CHANNEL)) {
            ce->probe = 0;
        }

        if (me && (report->probe & NGX_HTTP_AIROUTER_PROBE_MODEL)) {
            me->probe = 0;
        }

        if (se && (report->probe & NGX_HTTP_AIROUTER_PROBE_SCOPED)) {
            se->probe = 0;
        }
    }

    if (me) {
        ngx_http_airouter_live_leave(me);

        if (ok && report->ttfb != (ngx_msec_t) -1) {
            ngx_http_airouter_live_sample(me, now, report);
        }
    }

    ngx_http_airouter_live_write_unlock(shpool, live);

    if (shared == 0 || v->cooldown <= 0) {
        if (report->probe && ok) {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                           "airouter: live: \"%s\" \"%V\" probe "
                           "succeeded: open again", id, model);
        }

        return;
    }

    ngx_log_debug6(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "airouter: live: \"%s\" \"%V\": %s, %s blocked for "
                   "%T s%s", id, model, airouter_fault_name(report->fault),
                   (shared & NGX_HTTP_AIROUTER_LIVE_SET_CHANNEL)
                   ? "the channel"
                   : (shared & NGX_HTTP_AIROUTER_LIVE_SET_SCOPED)
                   ? "the model on this endpoint"
                   : (shared & NGX_HTTP_AIROUTER_LIVE_SET_MODEL)
                   ? "the model" : "the key",
                   (shared & NGX_HTTP_AIROUTER_LIVE_SET_SCOPED)
                   ? shortened : v->cooldown,
                   (shared & NGX_HTTP_AIROUTER_LIVE_SET_SCOPED)
                   ? " until discovery confirms" : "");

    lcf = amcf->live;

    if (lcf == NULL) {
        return;
    }

    if (lcf->on_block) {
        if (shared & NGX_HTTP_AIROUTER_LIVE_SET_KEY) {
            lcf->on_block(amcf, id, NULL, report->key, 0, report->fault,
                          v->cooldown);
        }

        if (shared & NGX_HTTP_AIROUTER_LIVE_SET_CHANNEL) {
            lcf->on_block(amcf, id, NULL, -1, 0, report->fault,
                          v->cooldown);
        }

        if (shared & NGX_HTTP_AIROUTER_LIVE_SET_MODEL) {
            lcf->on_block(amcf, id, model, -1, 0, report->fault,
                          v->cooldown);
        }

        if (shared & NGX_HTTP_AIROUTER_LIVE_SET_SCOPED) {
            lcf->on_block(amcf, id, model, -1, report->scope, report->fault,
                          shortened);
        }
    }

    if ((shared & NGX_HTTP_AIROUTER_LIVE_SET_SCOPED) && lcf->on_suspect
        && v->cooldown > shortened)
    {
        lcf->on_suspect(amcf, channel, model);
    }
}


void
ngx_http_airouter_live_apply(ngx_http_airouter_main_conf_t *amcf,
    const char *channel, ngx_str_t *model, ngx_int_t key, ngx_uint_t scope,
    airouter_fault_e fault, time_t until)
{
    time_t                           now;
    uint64_t                         hash, owner;
    ngx_uint_t                       i;
    ngx_slab_pool_t                 *shpool;
    ngx_http_airouter_live_sh_t     *live;
    ngx_http_airouter_live_entry_t  *e;

    live = ngx_http_airouter_live_table(amcf, &shpool);
    now = ngx_time();

    if (live == NULL || until <= now) {
        return;
    }

    for (i = 0; i < amcf->config->nchannels; i++) {
        if (ngx_strcmp(amcf->config->channels[i].id, channel) == 0) {
            break;
        }
    }

    if (i == amcf->config->nchannels
        || (key >= 0 && (size_t) key >= amcf->config->channels[i].api_keys.n))
    {
        return;
    }

    owner = key >= 0
            ? ngx_http_airouter_live_api_key(amcf, i, (ngx_uint_t) key)
            : ngx_http_airouter_live_channel(amcf, i);

    hash = key >= 0
           ? ngx_http_airouter_live_key_hash(owner)
           : (scope && model)
           ? ngx_http_airouter_live_scope_key(owner, model->data,
                                              model->len, scope)
           : ngx_http_airouter_live_key(owner, model ? model->data : NULL,
                                        model ? model->len : 0);

    ngx_http_airouter_live_write_lock(shpool, live);

    e = ngx_http_airouter_live_find(live, hash, owner);

    if (e && e->until < until) {
        ngx_http_airouter_live_block(e, now, fault, until - now);
    }

    ngx_http_airouter_live_write_unlock(shpool, live);
}


ngx_uint_t
ngx_http_airouter_live_confirm(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel, ngx_str_t *model, ngx_uint_t listed)
{
    time_t                           now, period[NGX_HTTP_AIROUTER_LIVE_SCOPES];
    uint64_t                         cid;
    ngx_uint_t                       s, n;
    const char                      *id;
    ngx_slab_pool_t                 *shpool;
    ngx_http_airouter_live_sh_t     *live;
    ngx_http_airouter_live_conf_t   *lcf;
    ngx_http_airouter_live_entry_t  *se;

    live = ngx_http_airouter_live_table(amcf, &shpool);
    if (live == NULL || channel >= amcf->config->nchannels) {
        return 0;
    }

    id = amcf->config->channels[channel].id;
    cid = ngx_http_airouter_live_channel(amcf, channel);
    now = ngx_time();
    n = 0;

    ngx_http_airouter_live_write_lock(shpool, live);

    for (s = 1; s <= NGX_HTTP_AIROUTER_LIVE_SCOPES; s++) {
        period[s - 1] = 0;

        se = ngx_http_airouter_live_find(live,
                 ngx_http_airouter_live_scope_key(cid, model->data,
                                                  model->len, s), 0);

        if (se == NULL || se->confirm == 0) {
            continue;
        }

        if (!listed) {
            ngx_http_airouter_live_block(se, now,
                                         AIROUTER_FAULT_MODEL_NOT_FOUND,
                                         se->confirm);
            period[s - 1] = se->confirm;
            n++;
        }

        se->confirm = 0;
    }

    ngx_http_airouter_live_write_unlock(shpool, live);

    lcf = amcf->live;

    for (s = 1; s <= NGX_HTTP_AIROUTER_LIVE_SCOPES; s++) {
        if (period[s - 1] == 0) {
            continue;
        }

        ngx_log_debug4(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "airouter: live: \"%s\" \"%V\" is gone from "
                       "/models: blocked on %s for %T s", id, model,
                       ngx_http_airouter_live_scope_name(s), period[s - 1]);

        if (lcf && lcf->on_block) {
            lcf->on_block(amcf, id, model, -1, s,
                          AIROUTER_FAULT_MODEL_NOT_FOUND, period[s - 1]);
        }
    }

    return n;
}


const char *
ngx_http_airouter_live_scope_name(ngx_uint_t scope)
{
    if (scope == 0) {
        return "any";
    }

    if (scope <= NGX_HTTP_AIROUTER_EP_N) {
        return ngx_http_airouter_endpoint_name(scope - 1);
    }

    switch (scope) {

    case NGX_HTTP_AIROUTER_LIVE_SCOPE_MESSAGES:
        return "messages";

    case NGX_HTTP_AIROUTER_LIVE_SCOPE_RESPONSES:
        return "responses";

    case NGX_HTTP_AIROUTER_LIVE_SCOPE_IMAGE_EDITS:
        return "image_edits";

    case NGX_HTTP_AIROUTER_LIVE_SCOPE_IMAGE_VARIATIONS:
        return "image_variations";

    case NGX_HTTP_AIROUTER_LIVE_SCOPE_TRANSLATIONS:
        return "translations";

    default:
        return "unknown";
    }
}


ngx_int_t
ngx_http_airouter_live_pick_key(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel, ngx_uint_t nkeys, uint32_t allowed, ngx_uint_t *key,
    ngx_http_airouter_live_block_t *block)
{
    time_t                           now;
    uint64_t                         cid;
    ngx_int_t                        rc;
    ngx_uint_t                       i, k, start;
    ngx_slab_pool_t                 *shpool;
    ngx_http_airouter_live_sh_t     *live;
    ngx_http_airouter_live_entry_t  *ce, *ke;

    *key = 0;
    ngx_memzero(block, sizeof(ngx_http_airouter_live_block_t));

    if (nkeys <= 1) {
        return NGX_OK;
    }

    /* a mask naming no key we have says nothing */
    if (allowed && nkeys < 32 && (allowed & ((1u << nkeys) - 1)) == 0) {
        allowed = 0;
    }

    live = ngx_http_airouter_live_table(amcf, &shpool);
    if (live == NULL) {
        return NGX_DONE;
    }

    cid = ngx_http_airouter_live_channel(amcf, channel);
    now = ngx_time();
    rc = NGX_DECLINED;

    ngx_http_airouter_live_write_lock(shpool, live);

    ce = ngx_http_airouter_live_find(live,
                     ngx_http_airouter_live_key(cid, NULL, 0), cid);
    start = ce ? ce->next_key : 0;

    for (i = 0; i < nkeys; i++) {
        k = (start + i) % nkeys;

        if (!ngx_http_airouter_live_key_lists(allowed, k)) {
            continue;
        }

        ke = ngx_http_airouter_live_find(live,
                 ngx_http_airouter_live_key_hash(
                     ngx_http_airouter_live_api_key(amcf, channel, k)), 0);

        if (ke == NULL || ke->until <= now) {
            *key = k;
            rc = NGX_OK;
            break;
        }

        /* all blocked: say until the first comes back */
        if (block->until == 0 || ke->until < block->until) {
            block->until = ke->until;
            block->fault = ke->fault;
        }
    }

    if (rc == NGX_OK) {
        ngx_memzero(block, sizeof(ngx_http_airouter_live_block_t));

        if (ce) {
            ce->next_key = (uint32_t) ((*key + 1) % nkeys);
        }
    }

    ngx_http_airouter_live_write_unlock(shpool, live);

    return rc;
}


/*
 * Whether key k may serve a model whose discovery said which keys list it
 * (bit k for keys 0-31; 0: not said).  Keys past 31 are not in the mask.
 */
ngx_uint_t
ngx_http_airouter_live_key_lists(uint32_t allowed, ngx_uint_t k)
{
    return allowed == 0 || k >= 32 || (allowed & ((uint32_t) 1 << k));
}


ngx_int_t
ngx_http_airouter_live_info(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel, ngx_str_t *model, ngx_http_airouter_live_info_t *info)
{
    return ngx_http_airouter_live_scope_info(amcf, channel, model, 0, info);
}


ngx_int_t
ngx_http_airouter_live_scope_info(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel, ngx_str_t *model, ngx_uint_t scope,
    ngx_http_airouter_live_info_t *info)
{
    time_t                           now;
    uint32_t                         t;
    uint64_t                         cid;
    ngx_uint_t                       i;
    ngx_slab_pool_t                 *shpool;
    ngx_http_airouter_live_sh_t     *live;
    ngx_http_airouter_live_entry_t  *e;

    ngx_memzero(info, sizeof(ngx_http_airouter_live_info_t));

    live = ngx_http_airouter_live_table(amcf, &shpool);
    if (live == NULL || channel >= amcf->config->nchannels) {
        return NGX_DECLINED;
    }

    cid = ngx_http_airouter_live_channel(amcf, channel);
    now = ngx_time();
    t = (uint32_t) (now / NGX_HTTP_AIROUTER_LIVE_BUCKET);

    ngx_shmtx_lock(&shpool->mutex);

    e = ngx_http_airouter_live_find(live,
            (scope && model)
            ? ngx_http_airouter_live_scope_key(cid, model->data, model->len,
                                               scope)
            : ngx_http_airouter_live_key(cid, model ? model->data : NULL,
                                         model ? model->len : 0), 0);

    if (e == NULL) {
        ngx_shmtx_unlock(&shpool->mutex);
        return NGX_DECLINED;
    }

    info->until = e->until > now ? e->until : 0;
    info->fault = e->fault;
    info->probing = (e->probe && now - e->probe < NGX_HTTP_AIROUTER_LIVE_PROBE);
    info->inflight = (ngx_atomic_int_t) e->inflight;
    info->ttfb = e->ttfb;
    info->total = e->total;

    for (i = 0; i < NGX_HTTP_AIROUTER_LIVE_BUCKETS; i++) {
        if (t - e->bucket[i] < NGX_HTTP_AIROUTER_LIVE_BUCKETS) {
            info->ok += e->ok[i];
            info->errors += e->err[i];
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}


/* The block on one of a channel's keys (api_keys[k]), if any. */
ngx_int_t
ngx_http_airouter_live_key_info(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel, ngx_uint_t k, ngx_http_airouter_live_info_t *info)
{
    time_t                           now;
    ngx_slab_pool_t                 *shpool;
    ngx_http_airouter_live_sh_t     *live;
    ngx_http_airouter_live_entry_t  *e;

    ngx_memzero(info, sizeof(ngx_http_airouter_live_info_t));

    live = ngx_http_airouter_live_table(amcf, &shpool);
    if (live == NULL || channel >= amcf->config->nchannels) {
        return NGX_DECLINED;
    }

    now = ngx_time();

    ngx_shmtx_lock(&shpool->mutex);

    e = ngx_http_airouter_live_find(live,
            ngx_http_airouter_live_key_hash(
                ngx_http_airouter_live_api_key(amcf, channel, k)), 0);

    if (e != NULL && e->until > now) {
        info->until = e->until;
        info->fault = e->fault;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}


ngx_int_t
ngx_http_airouter_live_reset(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel)
{
    uint32_t                         i;
    uint64_t                         cid;
    ngx_uint_t                       found, s;
    const char                      *mid;
    ngx_slab_pool_t                 *shpool;
    ngx_http_airouter_live_sh_t     *live;
    ngx_http_airouter_live_entry_t  *e, *se;
    const airouter_catalog_t        *cat;
    const airouter_catalog_model_t  *m;

    live = ngx_http_airouter_live_table(amcf, &shpool);
    if (live == NULL || channel >= amcf->config->nchannels) {
        return NGX_DECLINED;
    }

    cid = ngx_http_airouter_live_channel(amcf, channel);
    cat = ngx_http_airouter_catalog_current(amcf);
    found = 0;

    ngx_http_airouter_live_write_lock(shpool, live);

    /* i == nmodels stands for the channel's own entry */
    for (i = 0; cat == NULL || i <= airouter_catalog_nmodels(cat); i++) {

        if (cat == NULL || i == airouter_catalog_nmodels(cat)) {
            e = ngx_http_airouter_live_find(live,
                              ngx_http_airouter_live_key(cid, NULL, 0), 0);

        } else {
            m = airouter_catalog_model(cat, i);

            if (m->channel != channel) {
                continue;
            }

            mid = airouter_catalog_model_id(cat, m);
            e = ngx_http_airouter_live_find(live,
                        ngx_http_airouter_live_key(cid, (u_char *) mid,
                                                   ngx_strlen(mid)), 0);

            /* and the model's blocks on single endpoints */
            for (s = 1; s <= NGX_HTTP_AIROUTER_LIVE_SCOPES; s++) {
                se = ngx_http_airouter_live_find(live,
                         ngx_http_airouter_live_scope_key(cid, (u_char *) mid,
                                                   ngx_strlen(mid), s), 0);

                if (se) {
                    se->until = 0;
                    se->probe = 0;
                    se->fault = 0;
                    se->confirm = 0;
                    found = 1;
                }
            }
        }

        if (e) {
            e->until = 0;
            e->probe = 0;
            e->fault = 0;
            ngx_memzero(e->ok, sizeof(e->ok));
            ngx_memzero(e->err, sizeof(e->err));
            found = 1;
        }

        if (cat == NULL) {
            break;
        }
    }

    for (i = 0; i < amcf->config->channels[channel].api_keys.n; i++) {
        e = ngx_http_airouter_live_find(live,
                 ngx_http_airouter_live_key_hash(
                     ngx_http_airouter_live_api_key(amcf, channel, i)), 0);

        if (e) {
            e->until = 0;
            e->fault = 0;
            found = 1;
        }
    }

    ngx_http_airouter_live_write_unlock(shpool, live);

    return found ? NGX_OK : NGX_DECLINED;
}


static ngx_http_airouter_live_sh_t *
ngx_http_airouter_live_table(ngx_http_airouter_main_conf_t *amcf,
    ngx_slab_pool_t **shpool)
{
    ngx_http_airouter_zone_t  *zone;

    zone = ngx_http_airouter_zone_get(amcf);
    if (zone == NULL || zone->sh == NULL || zone->sh->live == NULL) {
        return NULL;
    }

    *shpool = zone->shpool;

    return zone->sh->live;
}


/*
 * FNV-1a of the model id on from the channel's definition (the channel's
 * own entry: no model); 0 is the empty slot's key.
 */
static uint64_t
ngx_http_airouter_live_key(uint64_t channel, const u_char *model,
    size_t len)
{
    uint64_t  h;

    h = ngx_http_airouter_live_fnv(channel, model, len);

    return h ? h : 1;
}


/*
 * A (channel, model) on one scope: "model\0s<scope>" from the channel's
 * definition (a model id holds no NUL, so no model's own key is one of
 * these).
 */
static uint64_t
ngx_http_airouter_live_scope_key(uint64_t channel, const u_char *model,
    size_t len, ngx_uint_t scope)
{
    return ngx_http_airouter_live_scope_of(
               ngx_http_airouter_live_fnv(channel, model, len), scope);
}


/* The same from the FNV-1a of the model id on from the channel's. */
static uint64_t
ngx_http_airouter_live_scope_of(uint64_t h, ngx_uint_t scope)
{
    u_char   digits[NGX_INT_T_LEN], *p;

    /* "\0s" and the scope in decimal, as ngx_sprintf("%ui") writes it */
    h = ngx_http_airouter_live_fnv(h, (u_char *) "\0s", 2);

    p = digits + sizeof(digits);

    do {
        *--p = (u_char) ('0' + scope % 10);
        scope /= 10;
    } while (scope);

    h = ngx_http_airouter_live_fnv(h, p, digits + sizeof(digits) - p);

    return h ? h : 1;
}


static uint64_t
ngx_http_airouter_live_fnv(uint64_t h, const u_char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        h = (h ^ p[i]) * 0x100000001b3ULL;
    }

    return h;
}


/*
 * The block of one api key: "\0key" from the key's definition (not its
 * index: a key keeps its block wherever a reload moves it in the list).
 */
static uint64_t
ngx_http_airouter_live_key_hash(uint64_t key)
{
    return ngx_http_airouter_live_key(key, (const u_char *) "\0key", 4);
}


/* Faults that belong to the key that was sent, not to the channel. */
static ngx_uint_t
ngx_http_airouter_live_key_fault(airouter_fault_e fault)
{
    switch (fault) {
    case AIROUTER_FAULT_RATE_LIMIT:
    case AIROUTER_FAULT_INVALID_KEY:
    case AIROUTER_FAULT_QUOTA:
    case AIROUTER_FAULT_CREDITS:
        return 1;

    default:
        return 0;
    }
}


/* NGX_OK when a key of the channel other than this one is not blocked. */
static ngx_int_t
ngx_http_airouter_live_other_key(ngx_http_airouter_live_sh_t *live,
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t channel,
    ngx_uint_t nkeys, ngx_uint_t key, time_t now)
{
    ngx_uint_t                       k;
    ngx_http_airouter_live_entry_t  *ke;

    for (k = 0; k < nkeys; k++) {
        if (k == key) {
            continue;
        }

        ke = ngx_http_airouter_live_find(live,
                 ngx_http_airouter_live_key_hash(
                     ngx_http_airouter_live_api_key(amcf, channel, k)), 0);

        if (ke == NULL || ke->until <= now) {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/*
 * Linear probing; the table is kept at most three quarters full.  A
 * missing entry is created for owner (the definition it is of), not when
 * owner is 0.  ngx_http_airouter_live_look() also calls it without the
 * lock (owner 0): a writer may move entries meanwhile, so the walk goes at
 * most once round the table (under the lock a quarter of it is always
 * empty and the bound is never reached).
 */
static ngx_http_airouter_live_entry_t *
ngx_http_airouter_live_find(ngx_http_airouter_live_sh_t *live, uint64_t key,
    uint64_t owner)
{
    ngx_uint_t                       i, n;
    ngx_http_airouter_live_entry_t  *e;

    for (i = key & live->mask, n = 0;
         n <= live->mask;
         i = (i + 1) & live->mask, n++)
    {
        e = &live->slots[i];

        if (e->key == key) {
            return e;
        }

        if (e->key == 0) {
            break;
        }
    }

    if (owner == 0 || n > live->mask
        || live->used >= (live->mask + 1) / 4 * 3)
    {
        return NULL;
    }

    e->key = key;
    e->owner = owner;
    live->used++;
    live->version++;

    return e;
}


/* The channel's entry and its model's; NULL where absent (or no room). */
static void
ngx_http_airouter_live_pair(ngx_http_airouter_live_sh_t *live,
    uint64_t channel, const u_char *model, size_t len, ngx_uint_t create,
    ngx_http_airouter_live_entry_t **ce, ngx_http_airouter_live_entry_t **me)
{
    *ce = ngx_http_airouter_live_find(live,
                     ngx_http_airouter_live_key(channel, NULL, 0),
                     create ? channel : 0);
    *me = ngx_http_airouter_live_find(live,
                     ngx_http_airouter_live_key(channel, model, len),
                     create ? channel : 0);
}


/*
 * acquire() without the lock, for what most attempts are: the channel's
 * and the model's entries exist and none of them (nor a scoped one) was
 * ever blocked or is half-open, so there is nothing to create and no
 * probe to claim, and the in-flight count is the one write.  It is an
 * atomic step, kept only when live->seq says no writer changed the table
 * between the reading and it (as look() reads): the same outcome as
 * taking the lock before that writer did.  Otherwise the step is undone
 * and acquire() takes the lock (NGX_DECLINED).
 */
static ngx_int_t
ngx_http_airouter_live_enter(ngx_http_airouter_live_sh_t *live,
    uint64_t channel, ngx_str_t *model, ngx_uint_t scope)
{
    ngx_atomic_uint_t                seq;
    ngx_http_airouter_live_entry_t  *ce, *me, *se;

    seq = live->seq;
    ngx_memory_barrier();

    if (seq & 1) {
        return NGX_DECLINED;
    }

    ngx_http_airouter_live_pair(live, channel, model->data, model->len, 0,
                                &ce, &me);

    if (ce == NULL || me == NULL || ce->until != 0 || me->until != 0) {
        return NGX_DECLINED;
    }

    if (scope) {
        se = ngx_http_airouter_live_find(live,
                 ngx_http_airouter_live_scope_key(channel, model->data,
                                                  model->len, scope), 0);

        if (se != NULL && se->until != 0) {
            return NGX_DECLINED;
        }
    }

    /* a locked instruction: the load of seq below cannot pass it */
    (void) ngx_atomic_fetch_add(&me->inflight, 1);
    ngx_memory_barrier();

    if (live->seq == seq) {
        return NGX_OK;
    }

    ngx_http_airouter_live_leave(me);

    return NGX_DECLINED;
}


/*
 * One attempt fewer in flight, never below 0 (a reload's purge may have
 * emptied the entry meanwhile).
 */
static void
ngx_http_airouter_live_leave(ngx_http_airouter_live_entry_t *e)
{
    ngx_atomic_uint_t  n;

    for ( ;; ) {
        n = e->inflight;

        if ((ngx_atomic_int_t) n <= 0
            || ngx_atomic_cmp_set(&e->inflight, n, n - 1))
        {
            return;
        }
    }
}


/*
 * NGX_OK when an attempt may go to this entry.  An entry whose block has
 * run out is half-open: claim makes this caller its probe.
 */
static ngx_int_t
ngx_http_airouter_live_open(ngx_http_airouter_live_entry_t *e, time_t now,
    ngx_uint_t claim, ngx_uint_t *probing)
{
    *probing = 0;

    if (e->until == 0) {
        return NGX_OK;
    }

    if (e->until > now) {
        return NGX_DECLINED;
    }

    if (e->probe && now - e->probe < NGX_HTTP_AIROUTER_LIVE_PROBE) {
        return NGX_DECLINED;
    }

    if (claim) {
        e->probe = now;
        *probing = 1;
    }

    return NGX_OK;
}


static void
ngx_http_airouter_live_count(ngx_http_airouter_live_entry_t *e, time_t now,
    ngx_uint_t ok)
{
    uint32_t    t;
    ngx_uint_t  i;

    t = (uint32_t) (now / NGX_HTTP_AIROUTER_LIVE_BUCKET);
    i = t % NGX_HTTP_AIROUTER_LIVE_BUCKETS;

    if (e->bucket[i] != t) {
        e->bucket[i] = t;
        e->ok[i] = 0;
        e->err[i] = 0;
    }

    if (ok) {
        e->ok[i]++;

    } else {
        e->err[i]++;
    }
}


/* A probe's result decides the half-open entry it probed. */
static void
ngx_http_airouter_live_settle(ngx_http_airouter_live_entry_t *e, time_t now,
    ngx_uint_t probed, ngx_uint_t ok)
{
    if (!probed) {
        return;
    }

    e->probe = 0;

    if (ok) {
        e->until = 0;

    } else {
        e->until = now + e->period;
    }
}


static void
ngx_http_airouter_live_block(ngx_http_airouter_live_entry_t *e, time_t now,
    airouter_fault_e fault, long seconds)
{
    if (seconds <= 0) {
        return;
    }

    e->until = now + seconds;
    e->period = seconds;
    e->fault = fault;
    e->probe = 0;
}


/*
 * Every change to the table's entries is made under the zone's lock and
 * between two steps of live->seq: odd while the change is made, even
 * and higher than ever after it (a writer that died mid-change leaves it
 * odd, and the next one moves on from there).  The ranking reads
 * without the lock (ngx_http_airouter_live_look()) and keeps what it read
 * only when seq was even and the same before and after: a sequence lock,
 * the zone's mutex ordering the writers.
 */
static void
ngx_http_airouter_live_write_lock(ngx_slab_pool_t *shpool,
    ngx_http_airouter_live_sh_t *live)
{
    ngx_shmtx_lock(&shpool->mutex);

    live->seq |= 1;
    ngx_memory_barrier();
}


static void
ngx_http_airouter_live_write_unlock(ngx_slab_pool_t *shpool,
    ngx_http_airouter_live_sh_t *live)
{
    ngx_memory_barrier();
    live->seq = (live->seq | 1) + 1;

    ngx_shmtx_unlock(&shpool->mutex);
}


/*
 * What the ranking reads of (channel, catalogue entry): without the lock
 * while no writer changed the table meanwhile (the workers' requests
 * would otherwise all meet on the lock for every entry a tag query
 * walks), else again under the lock.  NGX_DECLINED: no table, or no such
 * channel or entry.
 */
static ngx_int_t
ngx_http_airouter_live_look(void *ctx, uint32_t channel, uint32_t model,
    ngx_uint_t what, ngx_http_airouter_live_look_t *look)
{
    ngx_http_airouter_live_view_t *view = ctx;

    time_t                           now;
    uint64_t                         cid, h, ckey, skey;
    ngx_atomic_uint_t                seq;
    const char                      *mid;
    ngx_slab_pool_t                 *shpool;
    ngx_http_airouter_live_sh_t     *live;
    const airouter_catalog_t        *cat;
    ngx_http_airouter_main_conf_t   *amcf;
    const airouter_catalog_model_t  *m;

    amcf = view->amcf;

    live = ngx_http_airouter_live_table(amcf, &shpool);
    if (live == NULL || channel >= amcf->config->nchannels) {
        return NGX_DECLINED;
    }

    cat = view->cat;
    if (cat == NULL || model >= airouter_catalog_nmodels(cat)) {
        return NGX_DECLINED;
    }

    m = airouter_catalog_model(cat, model);
    mid = airouter_catalog_model_id(cat, m);
    cid = ngx_http_airouter_live_channel(amcf, channel);

    /* the keys of ngx_http_airouter_live_pair() and _scope_key() */
    h = ngx_http_airouter_live_fnv(cid, (u_char *) mid, ngx_strlen(mid));
    ckey = ngx_http_airouter_live_key(cid, NULL, 0);
    skey = ((what & NGX_HTTP_AIROUTER_LIVE_LOOK_OPEN) && view->scope)
           ? ngx_http_airouter_live_scope_of(h, view->scope) : 0;

    now = ngx_time();

    seq = live->seq;
    ngx_memory_barrier();

    if ((seq & 1) == 0) {
        ngx_http_airouter_live_look_at(live, ckey, h ? h : 1, skey, now,
                                       what, look);
        ngx_memory_barrier();

        if (live->seq == seq) {
            return NGX_OK;
        }
    }

    /* a writer was at work: read again, under the lock */
    ngx_shmtx_lock(&shpool->mutex);

    ngx_http_airouter_live_look_at(live, ckey, h ? h : 1, skey, now, what,
                                   look);

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}


/*
 * The reading itself: nothing but loads, so that what a writer changes
 * meanwhile can only give values look() then throws away.
 */
static void
ngx_http_airouter_live_look_at(ngx_http_airouter_live_sh_t *live,
    uint64_t ckey, uint64_t mkey, uint64_t skey, time_t now, ngx_uint_t what,
    ngx_http_airouter_live_look_t *look)
{
    ngx_uint_t                       probing;
    ngx_http_airouter_live_entry_t  *ce, *me, *se;

    me = ngx_http_airouter_live_find(live, mkey, 0);

    look->known = (me != NULL);

    if (what & NGX_HTTP_AIROUTER_LIVE_LOOK_OPEN) {
        ce = ngx_http_airouter_live_find(live, ckey, 0);
        se = skey ? ngx_http_airouter_live_find(live, skey, 0) : NULL;

        look->open = (ce == NULL
                      || ngx_http_airouter_live_open(ce, now, 0, &probing)
                         == NGX_OK)
                     && (me == NULL
                         || ngx_http_airouter_live_open(me, now, 0, &probing)
                            == NGX_OK)
                     && (se == NULL
                         || ngx_http_airouter_live_open(se, now, 0, &probing)
                            == NGX_OK);
    }

    if (what & NGX_HTTP_AIROUTER_LIVE_LOOK_MEASURE) {
        look->measured = (me && me->samples) ? 1 : 0;

        if (look->measured) {
            ngx_http_airouter_live_measured(me, now, look->measure);
        }
    }

    if (what & NGX_HTTP_AIROUTER_LIVE_LOOK_RELY) {
        look->reliability = ngx_http_airouter_live_reliability_of(me, now);
    }
}


static int
ngx_http_airouter_live_measure_cb(void *ctx, uint32_t channel,
    uint32_t model, airouter_live_measure_t *m)
{
    ngx_http_airouter_live_seen_t  *seen;
    ngx_http_airouter_live_look_t   look;

    /* read with the availability of the same entry, in the same look */
    seen = ngx_http_airouter_live_seen(ctx, channel, model, 0);

    if (seen != NULL) {
        if (!seen->measured) {
            return -1;
        }

        *m = seen->measure;
        return 0;
    }

    look.measure = m;

    if (ngx_http_airouter_live_look(ctx, channel, model,
                                    NGX_HTTP_AIROUTER_LIVE_LOOK_MEASURE, &look)
        != NGX_OK
        || !look.measured)
    {
        return -1;
    }

    return 0;
}


ngx_int_t
ngx_http_airouter_live_measure(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel, ngx_str_t *model, airouter_live_measure_t *m)
{
    uint64_t                         cid;
    ngx_int_t                        rc;
    ngx_slab_pool_t                 *shpool;
    ngx_http_airouter_live_sh_t     *live;
    ngx_http_airouter_live_entry_t  *e;

    ngx_memzero(m, sizeof(airouter_live_measure_t));
    m->ttfb_p95 = -1;

    live = ngx_http_airouter_live_table(amcf, &shpool);
    if (live == NULL || channel >= amcf->config->nchannels) {
        return NGX_DECLINED;
    }

    cid = ngx_http_airouter_live_channel(amcf, channel);
    rc = NGX_DECLINED;

    ngx_shmtx_lock(&shpool->mutex);

    e = ngx_http_airouter_live_find(live,
            ngx_http_airouter_live_key(cid, model->data, model->len), 0);

    if (e && e->samples) {
        ngx_http_airouter_live_measured(e, ngx_time(), m);
        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return rc;
}


/*
 * What e measured, for ranking and hedging; under the zone's lock or in
 * ngx_http_airouter_live_look()'s reading without it.
 */
static void
ngx_http_airouter_live_measured(ngx_http_airouter_live_entry_t *e,
    time_t now, airouter_live_measure_t *m)
{
    m->samples = e->samples;
    m->ttfb = e->ttfb;
    m->tps_samples = e->tps_samples;
    m->tps = e->tps;
    m->age = (e->last && now > e->last) ? (double) (now - e->last) : 0;
    m->ttfb_p95 = airouter_rank_hist_quantile(e->hist, 0.95);
}


/*
 * A successful attempt's times into its (channel, model): TTFB and total
 * EWMAs, the TTFB histogram, and the writing speed when the answer said
 * how many tokens it wrote (the time after the first byte, at least 1 ms).
 */
static void
ngx_http_airouter_live_sample(ngx_http_airouter_live_entry_t *e, time_t now,
    ngx_http_airouter_live_report_t *report)
{
    double  a, tps;

    a = NGX_HTTP_AIROUTER_LIVE_ALPHA;

    if (e->samples++ == 0) {
        e->ttfb = report->ttfb;
        e->total = report->total;

    } else {
        e->ttfb = a * report->ttfb + (1 - a) * e->ttfb;
        e->total = a * report->total + (1 - a) * e->total;
    }

    airouter_rank_hist_add(e->hist, (double) report->ttfb);
    e->last = now;

    if (report->tokens <= 0 || report->total < report->ttfb) {
        return;
    }

    tps = (double) report->tokens * 1000.0
          / (double) ngx_max(report->total - report->ttfb, 1);

    e->tps = (e->tps_samples++ == 0) ? tps : a * tps + (1 - a) * e->tps;
}


static double
ngx_http_airouter_live_reliability(void *ctx, uint32_t channel,
    uint32_t model)
{
    ngx_http_airouter_live_seen_t  *seen;
    ngx_http_airouter_live_look_t   look;

    seen = ngx_http_airouter_live_seen(ctx, channel, model, 0);

    if (seen != NULL) {
        return seen->reliability;
    }

    look.measure = NULL;

    if (ngx_http_airouter_live_look(ctx, channel, model,
                                    NGX_HTTP_AIROUTER_LIVE_LOOK_RELY, &look)
        != NGX_OK)
    {
        return 0.5;
    }

    return look.reliability;
}


/*
 * The reliability score of a (channel, model) entry, under the lock or in
 * ngx_http_airouter_live_look()'s reading without it.
 */
static double
ngx_http_airouter_live_reliability_of(ngx_http_airouter_live_entry_t *me,
    time_t now)
{
    uint32_t    t, ok, err;
    ngx_uint_t  i;

    t = (uint32_t) (now / NGX_HTTP_AIROUTER_LIVE_BUCKET);
    ok = 0;
    err = 0;

    if (me) {
        for (i = 0; i < NGX_HTTP_AIROUTER_LIVE_BUCKETS; i++) {
            if (t - me->bucket[i] < NGX_HTTP_AIROUTER_LIVE_BUCKETS) {
                ok += me->ok[i];
                err += me->err[i];
            }
        }
    }

    /* Laplace: no data is 0.5, one failure is not the end of the world */
    return (ok + 1.0) / (ok + err + 2.0);
}


/*
 * The view's cache slot of (channel, model) when it holds that entry, else
 * NULL; with claim, the slot to fill for it in any case.
 */
static ngx_http_airouter_live_seen_t *
ngx_http_airouter_live_seen(void *ctx, uint32_t channel, uint32_t model,
    ngx_uint_t claim)
{
    ngx_http_airouter_live_view_t *view = ctx;

    ngx_http_airouter_live_seen_t  *seen;

    seen = &view->seen[(model ^ (channel << 3))
                       % NGX_HTTP_AIROUTER_LIVE_VIEW_CACHE];

    if (claim
        || (seen->set && seen->channel == channel && seen->model == model))
    {
        return seen;
    }

    return NULL;
}


/*
 * Whether live state holds anything on (channel, model) that moves its
 * speed or reliability: its (channel, model) entry exists.  Without one,
 * measure_cb() finds nothing and reliability() gives 0.5.
 */
static int
ngx_http_airouter_live_known(void *ctx, uint32_t channel, uint32_t model)
{
    ngx_http_airouter_live_look_t  look;

    look.measure = NULL;

    if (ngx_http_airouter_live_look(ctx, channel, model, 0, &look)
        != NGX_OK)
    {
        return 0;
    }

    return look.known ? 1 : 0;
}


static int
ngx_http_airouter_live_reachable_cb(void *ctx, uint32_t channel)
{
    ngx_http_airouter_live_view_t *view = ctx;

    return ngx_http_airouter_live_reachable(view->amcf, channel) ? 1 : 0;
}


static int
ngx_http_airouter_live_available(void *ctx, uint32_t channel, uint32_t model)
{
    ngx_http_airouter_live_seen_t  *seen;
    ngx_http_airouter_live_look_t   look;

    /* the scores too, for the candidates the ranking keeps */
    seen = ngx_http_airouter_live_seen(ctx, channel, model, 1);
    look.measure = &seen->measure;

    if (ngx_http_airouter_live_look(ctx, channel, model,
                                    NGX_HTTP_AIROUTER_LIVE_LOOK_OPEN
                                    |NGX_HTTP_AIROUTER_LIVE_LOOK_MEASURE
                                    |NGX_HTTP_AIROUTER_LIVE_LOOK_RELY,
                                    &look)
        != NGX_OK)
    {
        return 1;
    }

    seen->set = 1;
    seen->channel = channel;
    seen->model = model;
    seen->measured = look.measured;
    seen->reliability = look.reliability;

    return look.open ? 1 : 0;
}
