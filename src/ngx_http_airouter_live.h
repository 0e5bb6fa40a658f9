/*
 * Live state: what the last requests learned about each channel and each
 * (channel, model), kept in the shared zone so every worker routes by it.
 *
 *   blocked until   a blacklist (channel scope) or a cooldown (model
 *                   scope), with the fault that caused it; a
 *                   model_not_found blocks the model on the endpoint that
 *                   failed only (its scope), briefly until discovery
 *                   confirms that the channel's /models no longer lists
 *                   it (ngx_http_airouter_live_confirm), then for the
 *                   verdict's period
 *   half-open       when the period is over, one request (the probe) may
 *                   try; until it reports, the others stay away; its
 *                   success reopens the entry, its failure closes it again
 *   window          successes and errors over the last 5 minutes
 *   latency         EWMA of time to first byte and of total time
 *   in-flight       requests running now
 *   keys            for a channel with several api_keys, each key's own
 *                   block: a key that hits 429, a quota or a 401 is kept
 *                   away alone while another key of the channel lives;
 *                   requests take the channel's live keys in turn
 *
 * Entries are keyed by a 64-bit hash of the channel's definition (its id,
 * base_url and api keys) and the model id (empty for the channel itself,
 * the model id and "\0s<scope>" for a scoped block: no model id holds a
 * NUL); a key's block by a hash of that key's definition (id, base_url,
 * the key), not its place in the list.  So they survive catalogue
 * generations and reloads that keep the channel as it was, and a reload
 * that redefines a channel (another base_url, other keys) starts it
 * afresh: ngx_http_airouter_live_init_zone() drops the entries no channel
 * or key of the new configuration owns.  Layout: one open-addressing
 * table allocated in the zone; entries are removed only then.  Locking:
 * the zone's mutex, held for a lookup and a few stores; a writer also
 * steps the table's sequence number around its stores, so that the
 * ranking reads entries without the mutex and reads again under it only
 * when a writer was at work meanwhile (a sequence lock).  An attempt's
 * acquire reads the same way and takes the mutex only when it has more
 * to do than count itself in flight (an entry to make, a block, a probe
 * to claim): the in-flight count changes by atomic steps alone.
 *
 * Read by ranking through airouter_live_t (ngx_http_airouter_live_bind),
 * by /health, /metrics and the stats API; written by the proxy after
 * every attempt, by the admin API's reset, by airouter_redis (another
 * host's blocks) and by discovery (confirmations).  Upper layers hear of
 * what happens here through slots set at configuration time (on_block:
 * airouter_redis tells the other hosts; on_suspect: discovery checks a
 * model_not_found; reachable: the proxy says which channels have an
 * address); live state names no upper layer.
 */

#ifndef NGX_HTTP_AIROUTER_LIVE_H
#define NGX_HTTP_AIROUTER_LIVE_H

#include "ngx_http_airouter_zone.h"
#include "ngx_http_airouter_request.h"
#include "airouter_outcome.h"
#include "airouter_rank.h"


/* ngx_http_airouter_live_acquire() sets these in *probe */
#define NGX_HTTP_AIROUTER_PROBE_CHANNEL  0x01
#define NGX_HTTP_AIROUTER_PROBE_MODEL    0x02
#define NGX_HTTP_AIROUTER_PROBE_SCOPED   0x04


/*
 * The scope of a block below its (channel, model): the upstream endpoint
 * an attempt used (0: no scope, the model on every endpoint).  An OpenAI
 * channel's are the request's, NGX_HTTP_AIROUTER_EP_* + 1; a channel of
 * another dialect (issue #15) has its own: Anthropic's /v1/messages
 * (whichever dialect the client speaks), /v1/responses (a Responses
 * request passed through).  Image edits and variations, and audio
 * translations, route as images and transcriptions do but block on their
 * own: a provider that has no /images/edits (DALL-E 3) still generates.
 * A new one: a number at the end (Redis keeps them across hosts), a name
 * in ngx_http_airouter_live_scope_name; keys, Redis and metrics follow.
 */
#define NGX_HTTP_AIROUTER_LIVE_SCOPE_MESSAGES   (NGX_HTTP_AIROUTER_EP_N + 1)
#define NGX_HTTP_AIROUTER_LIVE_SCOPE_RESPONSES  (NGX_HTTP_AIROUTER_EP_N + 2)
#define NGX_HTTP_AIROUTER_LIVE_SCOPE_IMAGE_EDITS                             \
    (NGX_HTTP_AIROUTER_EP_N + 3)
#define NGX_HTTP_AIROUTER_LIVE_SCOPE_IMAGE_VARIATIONS                        \
    (NGX_HTTP_AIROUTER_EP_N + 4)
#define NGX_HTTP_AIROUTER_LIVE_SCOPE_TRANSLATIONS                            \
    (NGX_HTTP_AIROUTER_EP_N + 5)
#define NGX_HTTP_AIROUTER_LIVE_SCOPES           (NGX_HTTP_AIROUTER_EP_N + 5)
#define ngx_http_airouter_live_scope(endpoint)  ((ngx_uint_t) (endpoint) + 1)

/* A request's own scope: its URL's (api.c sets ctx->scope), or its
 * endpoint's */
#define ngx_http_airouter_live_request_scope(ctx)                            \
    ((ctx)->scope ? (ctx)->scope                                             \
                  : ngx_http_airouter_live_scope((ctx)->endpoint))


/* What the proxy reports about one finished attempt. */
typedef struct {
    airouter_fault_e             fault;
    airouter_verdict_t           verdict;
    ngx_msec_t                   ttfb;          /* (ngx_msec_t) -1: none */
    ngx_msec_t                   total;
    ngx_int_t                    tokens;        /* the answer's completion
                                                   tokens, <= 0: unknown */
    ngx_uint_t                   probe;         /* from acquire */
    ngx_uint_t                   key;           /* index in api_keys */
    ngx_uint_t                   nkeys;         /* the channel's keys */
    ngx_uint_t                   scope;         /* the request's */
    ngx_uint_t                   keyed;         /* set by release: the
                                                   fault stayed with the
                                                   key, another key lives */
    time_t                       scoped;        /* set by release: the
                                                   block's seconds when it
                                                   holds for this scope
                                                   only, else 0 */
} ngx_http_airouter_live_report_t;


typedef struct {
    time_t                       until;         /* 0: open */
    airouter_fault_e             fault;
    ngx_uint_t                   probing;
} ngx_http_airouter_live_block_t;


/* What live state knows of a channel (model NULL) or of one of its models. */
typedef struct {
    time_t                       until;         /* blocked until, 0: open */
    airouter_fault_e             fault;         /* of the last block */
    ngx_uint_t                   probing;       /* a half-open probe runs */
    ngx_uint_t                   ok;            /* in the 5 min window */
    ngx_uint_t                   errors;
    ngx_int_t                    inflight;
    double                       ttfb;          /* EWMA, ms; 0: no data */
    double                       total;
} ngx_http_airouter_live_info_t;


/*
 * The on_block slot: after release() blocked a channel (model NULL, key
 * < 0), a (channel, model) (key < 0; scope 0, or the endpoint it holds
 * for) or one of a channel's keys (model NULL) for seconds, and after
 * confirm() lengthened a scoped block, outside the zone's lock, in the
 * worker that saw the fault.  One listener (airouter_redis tells the
 * other hosts; the balance checks wrap it: see below);
 * ngx_http_airouter_live_on_block() sets it while the configuration is
 * read.
 */
typedef void (*ngx_http_airouter_live_block_pt)(
    ngx_http_airouter_main_conf_t *amcf, const char *channel,
    ngx_str_t *model, ngx_int_t key, ngx_uint_t scope,
    airouter_fault_e fault, time_t seconds);

ngx_int_t ngx_http_airouter_live_on_block(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf,
    ngx_http_airouter_live_block_pt handler);

/*
 * The on_block listener set so far, NULL when none: a second layer that
 * wants to hear of blocks wraps it (calls it from its own handler and
 * sets that), as nginx's keepalive module wraps peer.get.
 */
ngx_http_airouter_live_block_pt ngx_http_airouter_live_block_listener(
    ngx_http_airouter_main_conf_t *amcf);

/*
 * The reachable slot: whether this process has an address for channel now
 * (its host name resolved at start-up or since).  The layer that keeps
 * the addresses (the proxy) sets it while the configuration is read;
 * without it every channel is reachable.
 */
typedef ngx_uint_t (*ngx_http_airouter_live_reachable_pt)(
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t channel);

ngx_int_t ngx_http_airouter_live_on_reachable(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf,
    ngx_http_airouter_live_reachable_pt handler);

/*
 * The on_suspect slot: release() blocked (channel, model) on one endpoint
 * for a model_not_found, briefly; the listener (discovery) asks the
 * channel's /models and calls ngx_http_airouter_live_confirm().  Called
 * outside the zone's lock from the request that saw the fault: do not
 * block, do not call back into the proxy.
 */
typedef void (*ngx_http_airouter_live_suspect_pt)(
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t channel,
    ngx_str_t *model);

ngx_int_t ngx_http_airouter_live_on_suspect(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf,
    ngx_http_airouter_live_suspect_pt handler);

/*
 * What discovery found: listed 0 gives every scoped model_not_found block
 * of (channel, model) still waiting for confirmation the verdict's full
 * period; listed 1 leaves them short.  Returns how many it lengthened.
 */
ngx_uint_t ngx_http_airouter_live_confirm(
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t channel,
    ngx_str_t *model, ngx_uint_t listed);

/* "chat", "completions", "embeddings"; "any" for 0. */
const char *ngx_http_airouter_live_scope_name(ngx_uint_t scope);

/* The slot's answer for /health and the stats API, 1 without the slot. */
ngx_uint_t ngx_http_airouter_live_reachable(
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t channel);

/* How many enabled channels are not reachable now (/health, /metrics). */
ngx_uint_t ngx_http_airouter_live_unresolved(
    ngx_http_airouter_main_conf_t *amcf);

/*
 * While the configuration is read, after it is parsed: each channel's and
 * each key's definition, the seeds of their entries.
 */
ngx_int_t ngx_http_airouter_live_init_conf(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf);

/* The table at start; at a reload, the entries of redefined channels go. */
ngx_int_t ngx_http_airouter_live_init_zone(ngx_http_airouter_zone_t *zone);

/* For the admin API and metrics: NGX_DECLINED when nothing is known. */
ngx_int_t ngx_http_airouter_live_info(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel, ngx_str_t *model,
    ngx_http_airouter_live_info_t *info);

/* The same for (channel, model) on one scope (its scoped blocks). */
ngx_int_t ngx_http_airouter_live_scope_info(
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t channel,
    ngx_str_t *model, ngx_uint_t scope, ngx_http_airouter_live_info_t *info);

/*
 * What live state measured for (channel, model id): samples, TTFB EWMA
 * and p95 (ms), tokens per second, age of the last sample.  NGX_DECLINED
 * (m zeroed, ttfb_p95 -1) when nothing was measured.  Ranking reads the
 * same through airouter_live_t's measure; hedging reads the p95 here.
 */
ngx_int_t ngx_http_airouter_live_measure(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel, ngx_str_t *model, airouter_live_measure_t *m);

/*
 * What the ranking's callbacks read: the caller's storage.  Each entry
 * whose availability was looked at is remembered with its measure and
 * reliability, read in the same look, in a small direct-mapped cache
 * (by entry index), so the scores the ranking asks for while it walks and
 * again for the candidates it keeps cost no second lookup; bind() empties
 * it.
 */
#define NGX_HTTP_AIROUTER_LIVE_VIEW_CACHE  8

typedef struct {
    ngx_uint_t                      set;
    uint32_t                        channel;
    uint32_t                        model;
    ngx_uint_t                      measured;
    airouter_live_measure_t         measure;
    double                          reliability;
} ngx_http_airouter_live_seen_t;

typedef struct {
    ngx_http_airouter_main_conf_t  *amcf;
    const airouter_catalog_t       *cat;
    ngx_uint_t                      scope;
    ngx_http_airouter_live_seen_t   seen[NGX_HTTP_AIROUTER_LIVE_VIEW_CACHE];
} ngx_http_airouter_live_view_t;

/*
 * The ranking's view: speed, reliability, reachability and availability
 * by index, for requests of scope (a model blocked on another endpoint
 * stays available).  cat is the catalogue the ranking walks: its model
 * indexes are read there, never in one another process published since.
 * view must live as long as live is used.
 */
void ngx_http_airouter_live_bind(ngx_http_airouter_main_conf_t *amcf,
    const airouter_catalog_t *cat, ngx_uint_t scope,
    ngx_http_airouter_live_view_t *view, airouter_live_t *live);

/*
 * Before an attempt: NGX_OK and the attempt counted in flight, or
 * NGX_DECLINED with *block saying why (blocked, or another request is
 * probing).  *probe tells release() which half-open entries this attempt
 * probes.
 */
ngx_int_t ngx_http_airouter_live_acquire(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel, ngx_str_t *model, ngx_uint_t scope,
    ngx_uint_t *probe, ngx_http_airouter_live_block_t *block);

/*
 * Before acquire(), for a channel with nkeys > 1: the next of its keys
 * that is not blocked and lists the model (allowed: the catalogue entry's
 * key bits, 0 for every key), in turn across all workers.  NGX_DECLINED
 * with *block when every such key is blocked; NGX_DONE without live state
 * (the caller picks, with ngx_http_airouter_live_key_lists()).
 */
ngx_int_t ngx_http_airouter_live_pick_key(
    ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel, ngx_uint_t nkeys, uint32_t allowed, ngx_uint_t *key,
    ngx_http_airouter_live_block_t *block);
ngx_uint_t ngx_http_airouter_live_key_lists(uint32_t allowed, ngx_uint_t k);

/* Whether api_keys[k] of the channel is kept away now (info->until,
 * info->fault; both 0 when it is not). */
ngx_int_t ngx_http_airouter_live_key_info(
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t channel, ngx_uint_t k,
    ngx_http_airouter_live_info_t *info);

/*
 * After an attempt that acquire() let through.  With report->nkeys > 1, a
 * key's fault (rate limit, quota, credits, invalid key) blocks that key
 * for the verdict's cooldown; the channel or model is blocked as the
 * verdict says only when no other key of the channel lives.
 */
void ngx_http_airouter_live_release(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel, ngx_str_t *model,
    ngx_http_airouter_live_report_t *report);

/*
 * The admin API's reset: the channel and each of its models open again,
 * their error windows emptied.  NGX_DECLINED when nothing was known.
 */
ngx_int_t ngx_http_airouter_live_reset(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel);

/*
 * A block another host set (airouter_redis): the channel (model NULL, key
 * < 0), a (channel, model) (on every endpoint, or on scope's), or a
 * channel's key is kept away until then, unless it already is for longer.
 */
void ngx_http_airouter_live_apply(ngx_http_airouter_main_conf_t *amcf,
    const char *channel, ngx_str_t *model, ngx_int_t key, ngx_uint_t scope,
    airouter_fault_e fault, time_t until);

#endif /* NGX_HTTP_AIROUTER_LIVE_H */
