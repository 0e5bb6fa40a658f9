/*
 * The shared zone: one slab pool that every worker maps at the same address
 * (nginx maps it in the master before fork), holding what workers must agree
 * on.  This header is the zone's whole layout.
 *
 * Locking rule: sh->lock (the slab pool's mutex) guards every field below
 * and every slab allocation; hold it only to read or swap a few words, never
 * across I/O or a call into the brain.
 *
 * Catalogue publication: a catalogue is one relocatable blob copied into the
 * slab.  Publishing swaps sh->catalog and bumps sh->generation; the blob it
 * replaces goes to sh->grace, the holding area (airouter_grace.h), and is
 * freed by a later publication once it has been retired longer than any
 * handler call lasts (or early, logged, when the area or the zone is full),
 * so a reader that took the old pointer a moment before the swap never
 * reads freed memory, whatever other processes publish meanwhile.  Nothing
 * may hold a pointer into a catalogue past one handler call: a routed
 * request carries copies in its pool (the candidates of
 * ngx_http_airouter_request.h) through its tries, stream and log line, and
 * t/220 holds requests across publications.  Readers check
 * sh->fingerprint against their own configuration's: a catalogue indexes
 * channels by position, so it only fits the config it was built for.
 *
 * Parts owned by upper layers (live state, discovery, stats, Redis...) hang
 * off the void pointers below; the zone never calls those layers by name:
 * the module hands ngx_http_airouter_zone_add() a table of init hooks.
 */

#ifndef NGX_HTTP_AIROUTER_ZONE_H
#define NGX_HTTP_AIROUTER_ZONE_H

#include "ngx_http_airouter_module.h"
#include "airouter_grace.h"


typedef struct {
    ngx_atomic_t                 generation;
    u_char                      *catalog;
    size_t                       catalog_len;
    uint64_t                     fingerprint;
    airouter_grace_t             grace;        /* retired catalogues */
    time_t                       started;      /* zone first created */
    void                        *live;         /* ngx_http_airouter_live.c */
    void                        *discovery;    /* ..._discovery.c: lease,
                                                  channel state */
    void                        *stats;        /* ngx_http_airouter_stats.c */
    void                        *switches;     /* ..._switch.c */
    void                        *stats_file;   /* ..._stats_file.c */
    void                        *redis;        /* ..._redis.c: link state */
    void                        *balance;      /* ..._balance.c */
    void                        *reqlog;       /* ..._reqlog.c */
    void                        *history;      /* ..._history.c */
    void                        *audit;        /* ..._audit.c */
} ngx_http_airouter_shctx_t;


typedef struct ngx_http_airouter_zone_s  ngx_http_airouter_zone_t;

/*
 * An upper layer's part of the zone.  Runs in the master at every zone
 * init (start and each reload), in the table's order, once the zone's
 * header exists: it finds its part in zone->sh (NULL the first time) and
 * creates it, or checks what an earlier configuration left; it must not
 * change in place what the old workers still read.
 */
typedef ngx_int_t (*ngx_http_airouter_zone_init_pt)(
    ngx_http_airouter_zone_t *zone);


struct ngx_http_airouter_zone_s {
    ngx_http_airouter_main_conf_t  *amcf;
    ngx_http_airouter_shctx_t      *sh;
    ngx_slab_pool_t                *shpool;
    const ngx_http_airouter_zone_init_pt  *init;   /* NULL-terminated */
};


/* init: the upper layers' hooks, NULL-terminated; it must outlive cf */
ngx_shm_zone_t *ngx_http_airouter_zone_add(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf,
    const ngx_http_airouter_zone_init_pt *init);
ngx_http_airouter_zone_t *ngx_http_airouter_zone_get(
    ngx_http_airouter_main_conf_t *amcf);
ngx_int_t ngx_http_airouter_zone_publish(ngx_http_airouter_zone_t *zone,
    const void *blob, size_t len, uint64_t fingerprint, ngx_log_t *log);

/*
 * publish() in three steps, for a copy made off the event loop: reserve
 * the room (slab; NULL: too small, logged), fill it (anyone, any thread:
 * nothing reads a reserved copy), then swap it in (the lock, a few words;
 * the retired ones past their grace are freed after it), or unreserve it.
 */
u_char *ngx_http_airouter_zone_reserve(ngx_http_airouter_zone_t *zone,
    size_t len, ngx_log_t *log);
void ngx_http_airouter_zone_swap(ngx_http_airouter_zone_t *zone,
    u_char *copy, size_t len, uint64_t fingerprint, ngx_log_t *log);
void ngx_http_airouter_zone_unreserve(ngx_http_airouter_zone_t *zone,
    u_char *copy);
void ngx_http_airouter_zone_usage(ngx_http_airouter_zone_t *zone,
    size_t *used, size_t *total);

#endif /* NGX_HTTP_AIROUTER_ZONE_H */
