/*
 * Routing one request: resolve the model query, filter the entries, score
 * them with the strategy's weights and keep the best N.  airouter_route()
 * is the one call the request handler makes; it allocates nothing: the
 * caller gives the candidate (and, for explain, removed) arrays.
 *
 * Scores, each in [0, 1]:
 *   cost         1 for free entries; otherwise log-scaled over the priced,
 *                non-free candidates that passed the filters: cheapest
 *                AIROUTER_RANK_PAID_MAX, dearest 0 (all the same price:
 *                AIROUTER_RANK_PAID_MAX); unknown price 0.5
 *   free, local  1 or 0 (see airouter_catalog.h for the rules)
 *   parameter, context, quality   stored in the entry (airouter_quality.h)
 *   speed, reliability            from live state; neutral 0.5 without
 * final = sum of weight * (descending ? score : 1 - score).
 *
 * Order: the final score compared at a resolution of
 * AIROUTER_RANK_EPSILON (scores in the same 0.01 step are a near-tie),
 * then channel priority (lower first), channel weight (higher first), the
 * exact score, and last the entry index, which is channel position then
 * model id: two routes of one request always agree.
 *
 * Filters, in the order they are checked (an entry is counted under the
 * first that removes it):
 *   KEY          the API key's allowed_models (an id or core name,
 *                case-insensitive, "prefix*" allowed) and allowed_tags
 *                (the entry carries at least one); an empty list allows all
 *   DISABLED     the channel is disabled
 *   KIND         each endpoint gets models of its kind only: chat and
 *                completion chat models, embeddings embedding models,
 *                rerank rerankers, images image generators, speech
 *                text-to-speech, transcription speech-to-text,
 *                moderation moderation models
 *   EMBEDDING    model_filters.exclude_embedding_models (not on the
 *                embeddings endpoint)
 *   VISION_ONLY  model_filters.exclude_vision_only_models, unless the
 *                request has images
 *   MIN_CONTEXT, MIN_PARAMS  model_filters; an entry whose context or size
 *                is unknown is kept: unknown is not small
 *   VISION       the request has images: the entry must have vision
 *   TOOLS        the request has tools: the entry must have tools or not
 *                say (unknown is kept, as for the minimums)
 *   CONTEXT      prompt_tokens + max_tokens > context (known contexts only)
 *   IGNORED      the request's provider.ignore names the channel
 *   ONLY         provider.only is given and does not name it
 *   NOT_IN_ORDER provider.allow_fallbacks is false and provider.order does
 *                not name it
 *   MAX_PRICE    provider.max_price: its prompt or completion price (USD)
 *                is over the limit, or unknown (free entries pass)
 *   PARAMETERS   provider.require_parameters: the request uses a
 *                parameter (AIROUTER_PARAMETERS: tools, response_format,
 *                logprobs, seed, temperature...) the entry does not state
 *                that it takes (its supported_parameters; tools also by
 *                its tools capability); unknown is not stated
 *   DATA_COLLECTION  provider.data_collection "deny": the channel's
 *                data_collection is not deny (a local channel's is)
 *   UNRESOLVED   live->reachable() said no: the channel has no address (its
 *                host name did not resolve yet)
 *   UNAVAILABLE  live->available() said no
 *
 * The memo (airouter_route_memo_t, one per process): the request path
 * hands airouter_route() a memo and the catalogue's generation.  A query's
 * match set, already passed through the two filters that depend only on
 * the catalogue and the key (KEY, DISABLED), is kept per (query text,
 * catalogue, generation, key ACL); a new generation forgets every set.
 * With a memo, the ranking is a partial top-k: the entries that pass the
 * request's own filters are kept sorted per request shape (strategy,
 * endpoint, vision, tools, and the range of prompt + max_tokens that the
 * context filter treats alike), in the ranking's own order of their best
 * possible total: exact for the entries live->known() says live state
 * knows nothing of (their live scores are the neutral ones), their static
 * scores with the best live scores for the others.  The walk merges the
 * two lists, asks live state (reachability, availability, the live scores
 * the strategy weighs) only for the entries it takes, and stops once
 * cand_max candidates are kept and the best entry left ranks below the
 * worst of them (ties broken as the ranking breaks them).  Which entries
 * live state knows is kept while live->version stays.  The candidates are
 * the ones the full ranking would return; on that path the counts of
 * the UNRESOLVED and UNAVAILABLE filters cover the walked entries only
 * (exact whenever no candidate is left).  explain never uses the memo,
 * nor does a request whose controls order the candidates by something
 * else than the score (provider.order, a sort).
 *
 * A channel is named in provider.order/only/ignore by its id, its name or
 * its provider's name, case-insensitively.
 *
 * Request controls (airouter_controls.h) reorder the kept candidates: the
 * channels of provider.order first, in its order; then, with a sort, by
 * price (USD per token, prompt + completion; unknown last), throughput
 * (tokens per second, highest first) or latency (time to first byte,
 * lowest first); then as above.  provider.allow_fallbacks false without
 * an order keeps the first candidate alone.
 *
 * Speed.  With live->measure, the speed score and the throughput and
 * latency sorts read each (channel, model)'s measured TTFB and
 * tokens-per-second averages, blended with a prior (AIROUTER_RANK_PRIOR_*)
 * by airouter_rank_estimate(): the prior alone below
 * AIROUTER_RANK_MIN_SAMPLES samples, and the measure's weight halves
 * every AIROUTER_RANK_HALF_LIFE seconds since the last sample, so an old
 * measure decays toward the prior.  speed = (TTFB part + tps part) / 2,
 * TTFB part = T / (T + ttfb), tps part = tps / (tps + P) with T and P
 * the priors: 0.5 when nothing is known.  Without live->measure,
 * live->speed gives the score.
 *
 * airouter_route_controls() routes a whole request: "model" (if any) and
 * then each "models" entry, each resolved, filtered and ranked as above
 * with its own ":floor"/":nitro" sort, the candidates concatenated in
 * that order (a (channel, model) already listed is not listed again).
 *
 * Called by the nginx request handler and the explain endpoint.
 */

#ifndef AIROUTER_RANK_H
#define AIROUTER_RANK_H

#include <stddef.h>
#include <stdint.h>

#include "airouter_config.h"
#include "airouter_catalog.h"
#include "airouter_query.h"
#include "airouter_controls.h"


#define AIROUTER_RANK_EPSILON      0.01
#define AIROUTER_RANK_PAID_MAX     0.9     /* best cost score when paid */
#define AIROUTER_ROUTE_SIMILAR     5
#define AIROUTER_ROUTE_ENTRIES     (1 + AIROUTER_CONTROLS_MODELS)

/* speed: the priors, and when a measure counts */
#define AIROUTER_RANK_PRIOR_TTFB   1000.0  /* ms */
#define AIROUTER_RANK_PRIOR_TPS    50.0    /* completion tokens per s */
#define AIROUTER_RANK_MIN_SAMPLES  3
#define AIROUTER_RANK_HALF_LIFE    600.0   /* seconds */

/*
 * A decayed TTFB histogram, for percentiles (hedging's "after: p95"):
 * bucket i holds samples up to 10 * 2^(i/2) ms, the last one everything
 * above; each new sample first scales every bucket by
 * AIROUTER_RANK_HIST_DECAY, so about the last 1 / (1 - decay) samples
 * count.
 */
#define AIROUTER_RANK_HIST         20
#define AIROUTER_RANK_HIST_DECAY   0.97f


/* What live state measured for one (channel, model). */
typedef struct {
    uint32_t                  samples;      /* answers with a first byte */
    double                    ttfb;         /* EWMA, ms */
    uint32_t                  tps_samples;  /* answers with usage */
    double                    tps;          /* EWMA, completion tokens/s */
    double                    age;          /* seconds since the last */
    double                    ttfb_p95;     /* ms, from the histogram;
                                               -1: no sample */
} airouter_live_measure_t;


/*
 * Live state, implemented by the nginx side from the shared zone.  model is
 * an entry index.  A NULL live or NULL callback: 0.5, reachable and
 * available.
 */
typedef struct {
    double                  (*speed)(void *ctx, uint32_t channel,
                                     uint32_t model);
    double                  (*reliability)(void *ctx, uint32_t channel,
                                           uint32_t model);
    int                     (*reachable)(void *ctx, uint32_t channel);
    int                     (*available)(void *ctx, uint32_t channel,
                                         uint32_t model);
    /* 0 with *m filled, -1: nothing measured */
    int                     (*measure)(void *ctx, uint32_t channel,
                                       uint32_t model,
                                       airouter_live_measure_t *m);
    /*
     * Optional, for the memo's walk: 0 when live state holds nothing on
     * (channel, model) that moves its scores, i.e. speed() gives 0.5 or
     * measure() nothing, and reliability() 0.5, as for an entry never
     * tried; 1 when it may hold something.  NULL: every entry may.
     */
    int                     (*known)(void *ctx, uint32_t channel,
                                     uint32_t model);
    /*
     * known()'s answers hold while version stays the same (the memo keeps
     * them per query); 0: ask again on every route.
     */
    uint64_t                  version;
    void                     *ctx;
} airouter_live_t;


/*
 * A view that takes entries out of another one (a channel whose day's
 * quota or balance is spent, one an admin switched off): available() asks
 * keep first, then the wrapped view; every other callback (speed,
 * reliability, measure, reachable, known) passes through and version
 * stays, so a callback added to airouter_live_t is added here once, not
 * in each filter.
 * airouter_live_filter() makes *live that view, f keeping the old one in
 * inner; f must outlive the airouter_route() calls that read live.
 * Filters stack: each wraps what the one before left.
 */
typedef int (*airouter_live_keep_pt)(void *data, uint32_t channel,
    uint32_t model);

typedef struct {
    airouter_live_t          inner;
    airouter_live_keep_pt    keep;
    void                    *data;
} airouter_live_filter_t;

void airouter_live_filter(airouter_live_t *live, airouter_live_filter_t *f,
    airouter_live_keep_pt keep, void *data);


/* Each endpoint picks models of one kind (airouter_route_endpoint_kind). */
typedef enum {
    AIROUTER_ENDPOINT_CHAT = 0,
    AIROUTER_ENDPOINT_COMPLETION,
    AIROUTER_ENDPOINT_EMBEDDING,
    AIROUTER_ENDPOINT_ANY,            /* no kind filter (explain, listing) */
    AIROUTER_ENDPOINT_RERANK,
    AIROUTER_ENDPOINT_IMAGE,          /* generations, edits, variations */
    AIROUTER_ENDPOINT_SPEECH,
    AIROUTER_ENDPOINT_TRANSCRIPTION,  /* transcriptions, translations */
    AIROUTER_ENDPOINT_MODERATION
} airouter_endpoint_e;


typedef enum {
    AIROUTER_FILTER_KEY = 0,
    AIROUTER_FILTER_DISABLED,
    AIROUTER_FILTER_KIND,
    AIROUTER_FILTER_EMBEDDING,
    AIROUTER_FILTER_VISION_ONLY,
    AIROUTER_FILTER_MIN_CONTEXT,
    AIROUTER_FILTER_MIN_PARAMS,
    AIROUTER_FILTER_VISION,
    AIROUTER_FILTER_TOOLS,
    AIROUTER_FILTER_CONTEXT,
    AIROUTER_FILTER_UNRESOLVED,
    AIROUTER_FILTER_UNAVAILABLE,
    AIROUTER_FILTER_IGNORED,
    AIROUTER_FILTER_ONLY,
    AIROUTER_FILTER_NOT_IN_ORDER,
    AIROUTER_FILTER_MAX_PRICE,
    AIROUTER_FILTER_PARAMETERS,
    AIROUTER_FILTER_DATA_COLLECTION,
    AIROUTER_FILTER_N
} airouter_filter_e;


typedef enum {
    AIROUTER_ROUTE_OK = 0,
    AIROUTER_ROUTE_NO_MATCH,        /* 404 model_not_found, see similar */
    AIROUTER_ROUTE_ALL_FILTERED,    /* matched; filtered[] says why none
                                       is left */
    AIROUTER_ROUTE_BAD_QUERY,       /* 400: empty, "tag:", too many tags */
    AIROUTER_ROUTE_BAD_STRATEGY,    /* 400: unknown strategy name */
    AIROUTER_ROUTE_ERROR            /* bad arguments, or the catalogue
                                       does not fit cf */
} airouter_route_status_e;


typedef struct airouter_route_memo_s  airouter_route_memo_t;


typedef struct {
    const char               *model;        /* the "model" field */
    size_t                    model_len;
    airouter_endpoint_e       endpoint;
    int                       needs_vision; /* image parts in messages */
    int                       needs_tools;  /* "tools" or "functions" */
    uint64_t                  prompt_tokens;    /* estimate, 0: unknown */
    uint64_t                  max_tokens;       /* 0: not given */
    const char               *strategy;     /* NULL: routing default */

    /* the API key's limits; NULL or empty: everything allowed */
    const airouter_strlist_t *allowed_tags;
    const airouter_strlist_t *allowed_models;

    int                       explain;      /* fill removed[] */

    /*
     * Optional: this process's memo and the generation of cat.  The ACL
     * lists above must then stay at one address while the memo lives
     * (they are the configuration's); a key is told apart by them.
     */
    airouter_route_memo_t    *memo;
    uint64_t                  generation;

    /* the request's routing controls, NULL: none */
    const airouter_controls_t *controls;
    airouter_sort_e           sort;         /* airouter_route(): this
                                               entry's; set by
                                               airouter_route_controls() */
} airouter_route_req_t;


typedef struct {
    uint32_t                  channel;      /* position in cf->channels */
    uint32_t                  model;        /* entry index */
    const char               *id;           /* in the blob */
    double                    score;
    double                    scores[AIROUTER_SCORE_N];
    uint32_t                  source;       /* the request's model entry:
                                               0 "model", then "models" */
    uint32_t                  order;        /* place in provider.order */
    double                    sort_key;     /* lower first */
    double                    ttfb;         /* estimates (speed), ms */
    double                    tps;
} airouter_candidate_t;


typedef struct {
    uint32_t                  channel;
    uint32_t                  model;
    airouter_filter_e         reason;
    uint32_t                  source;       /* as the candidate's */
} airouter_removed_t;


typedef struct {
    /* set by the caller */
    airouter_candidate_t     *cand;
    size_t                    cand_max;
    airouter_removed_t       *removed;      /* explain only, may be NULL */
    size_t                    removed_max;

    /* set by airouter_route() */
    airouter_route_status_e   status;
    airouter_stage_e          stage;        /* the query stage that matched */
    const airouter_strategy_t *strategy;
    size_t                    ncand;        /* best first */
    size_t                    nmatched;     /* entries the query matched */
    size_t                    navailable;   /* left after every filter */
    size_t                    nremoved;     /* written to removed[] */
    size_t                    filtered[AIROUTER_FILTER_N];
    airouter_similar_t        similar[AIROUTER_ROUTE_SIMILAR];
    size_t                    nsimilar;
    const char               *why;          /* a phrase for 400s */

    /* airouter_route_controls(): each model entry tried */
    size_t                    nentries;
    struct {
        const char           *model;        /* without its suffix */
        size_t                model_len;
        airouter_sort_e       sort;
        airouter_route_status_e  status;
        size_t                ncand;        /* candidates it added */
    }                         entries[AIROUTER_ROUTE_ENTRIES];
    size_t                    bad_entry;    /* BAD_QUERY: which entry */
} airouter_route_result_t;


airouter_route_status_e airouter_route(const airouter_catalog_t *cat,
    const airouter_config_t *cf, const airouter_route_req_t *req,
    const airouter_live_t *live, airouter_route_result_t *res);

/*
 * The whole request: req->model (may be empty when the controls have
 * "models") and then req->controls' models, in order, into res->cand.
 * Status OK when any entry gave a candidate; else the first failing
 * entry's (BAD_QUERY of any entry wins: the request is wrong), with its
 * similar names, and filtered[] summed over the entries.
 */
airouter_route_status_e airouter_route_controls(const airouter_catalog_t *cat,
    const airouter_config_t *cf, const airouter_route_req_t *req,
    const airouter_live_t *live, airouter_route_result_t *res);

const char *airouter_route_filter_name(airouter_filter_e reason);

/* The kind bit (AIROUTER_CAP_*) an endpoint's models have; 0 for ANY. */
uint32_t airouter_route_endpoint_kind(airouter_endpoint_e endpoint);

/*
 * The TTFB (ms) and throughput (tokens/s) ranking believes, from a measure
 * (NULL: nothing measured): see "Speed" above.
 */
void airouter_rank_estimate(const airouter_live_measure_t *m, double *ttfb,
    double *tps);
double airouter_rank_speed_score(double ttfb, double tps);

/*
 * The AIROUTER_PARAM_* bits req uses that entry m does not state it
 * takes; 0 without provider.require_parameters.  The PARAMETERS filter,
 * and explain's "missing".
 */
uint32_t airouter_route_params_missing(const airouter_route_req_t *req,
    const airouter_catalog_model_t *m);

/* A TTFB sample (ms) into hist[AIROUTER_RANK_HIST]. */
void airouter_rank_hist_add(float *hist, double ms);

/* The q-quantile (0 < q < 1) of hist in ms, -1 when it is empty. */
double airouter_rank_hist_quantile(const float *hist, double q);

/*
 * Whether an API key's allowed_tags / allowed_models (NULL or empty: all)
 * let it reach entry model; the KEY filter of airouter_route(), for
 * listings such as /v1/models.
 */
int airouter_route_key_allows(const airouter_catalog_t *cat,
    const airouter_strlist_t *allowed_tags,
    const airouter_strlist_t *allowed_models, uint32_t model);
const char *airouter_route_status_name(airouter_route_status_e status);


/*
 * The memo's life: create (NULL when out of memory) and destroy, owned by
 * one process.  Statistics for tests and benchmarks: lookups answered
 * from the memo, lookups that resolved the query (and kept the set),
 * and full resets (new catalogue or generation, or the memo full).
 */
airouter_route_memo_t *airouter_route_memo_create(void);
void airouter_route_memo_destroy(airouter_route_memo_t *memo);

typedef struct {
    uint64_t                  hits;
    uint64_t                  misses;
    uint64_t                  resets;
    uint64_t                  walked;       /* entries given live state */
    uint64_t                  prepared;     /* request shapes sorted */
    uint64_t                  split;        /* known() asked for a shape */
} airouter_route_memo_stats_t;

void airouter_route_memo_stats(const airouter_route_memo_t *memo,
    airouter_route_memo_stats_t *stats);


/*
 * The cost score of a USD price per token (prompt + completion) given the
 * log10 range of the candidate set; exposed for tests.
 */
double airouter_rank_cost_score(double price, double lo, double hi);

#endif /* AIROUTER_RANK_H */
