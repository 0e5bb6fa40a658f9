/*
 * Routing declared in airouter_rank.h: filters, scores, and the bounded
 * selection of the best candidates.
 *
 * Two passes over the query's matches, because the cost score is relative
 * to the candidate set: the first finds the price range of the entries
 * that pass the static filters, the second filters again (now with live
 * availability, called once per entry), scores and keeps the best
 * cand_max in a heap built inside the caller's candidate array.  Nothing
 * is allocated; a pass costs about one cache line per matched entry.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "airouter_rank.h"


#define AIROUTER_RANK_KEY_TAGS     64       /* allowed_tags looked at */


typedef struct {
    const airouter_catalog_t     *cat;
    const airouter_config_t      *cf;
    const airouter_route_req_t   *req;
    const airouter_live_t        *live;
    const airouter_strategy_t    *st;
    double                        w[AIROUTER_SCORE_N];  /* signed weights */
    double                        base;     /* from ascending weights */
    double                        lo;       /* log10 price range */
    double                        hi;
    int                           key_tags; /* allowed_tags given */
    uint32_t                      tags[AIROUTER_RANK_KEY_TAGS];
    size_t                        ntags;
    const airouter_controls_t    *controls;     /* NULL: none */
} airouter_rank_ctx_t;


/*
 * The memo: a direct-mapped table of slots, each naming a stretch of one
 * shared list arena.  Nothing in it is ever freed alone: a slot taken by
 * another key leaves its old stretch unused, and when the arena, the text
 * space or the catalogue changes, the whole memo starts again (a reset),
 * which keeps it bounded whatever queries clients send.  Sets longer than
 * AIROUTER_MEMO_LIST_MAX are not kept: such a query takes the full path.
 */
#define AIROUTER_MEMO_SLOTS        64
#define AIROUTER_MEMO_ARENA        (64 * 1024)     /* entry indexes */
#define AIROUTER_MEMO_TEXT         (8 * 1024)      /* query bytes */
#define AIROUTER_MEMO_LIST_MAX     (16 * 1024)
#define AIROUTER_MEMO_TEXT_MAX     512


typedef struct {
    uint64_t                      hash;     /* 0: empty */
    uint64_t                      serial;   /* which filling, for preps */
    const void                   *acl_tags;
    const void                   *acl_models;
    uint32_t                      text;     /* offset in memo->text */
    uint32_t                      text_len;
    uint32_t                      list;     /* offset in memo->arena */
    uint32_t                      nlist;
    uint32_t                      nmatched;
    uint32_t                      nkey;     /* removed by KEY */
    uint32_t                      ndisabled;
    airouter_query_status_e       status;
    airouter_stage_e              stage;
    const char                   *why;
    airouter_similar_t            similar[AIROUTER_ROUTE_SIMILAR];
    size_t                        nsimilar;
} airouter_memo_slot_t;


/*
 * A prep: one slot's entries that pass a request shape's filters, sorted
 * best first by their neutral total (see airouter_rank.h), then split in
 * two lists by what live state knows: the entries it knows nothing of, in
 * that order, and the others, best bound first.  A direct-mapped table
 * over its own arena, emptied whole when the arena is full, and with the
 * slots at a reset.
 */
#define AIROUTER_MEMO_PREPS        32
#define AIROUTER_MEMO_PREP_ARENA   (2 * AIROUTER_MEMO_LIST_MAX * 2)

#define AIROUTER_SPLIT_NONE        0
#define AIROUTER_SPLIT_NEUTRAL     1        /* no live state: all neutral */
#define AIROUTER_SPLIT_KNOWN       2        /* no known(): all may move */
#define AIROUTER_SPLIT_ASKED       3        /* known() at version */


typedef struct {
    uint64_t                      serial;   /* the slot's; 0: empty */
    const airouter_strategy_t    *st;
    airouter_endpoint_e           endpoint;
    int                           vision;
    int                           tools;
    int                           measured; /* live->measure gives speed */
    int64_t                       need_lo;  /* needs above it and at most */
    uint64_t                      need_hi;  /* need_hi filter alike */
    double                        lo;       /* log10 price range */
    double                        hi;
    uint32_t                      filtered[AIROUTER_FILTER_N];
    uint32_t                      list;     /* offset in memo->prep_arena */
    uint32_t                      n;
    int                           split;    /* AIROUTER_SPLIT_* */
    uint64_t                      version;
    uint32_t                      nneutral; /* list + n: neutral, then */
    uint32_t                      nknown;   /* the known ones */
} airouter_memo_prep_t;


struct airouter_route_memo_s {
    const airouter_catalog_t     *cat;      /* what the slots are about */
    uint64_t                      generation;
    uint64_t                      serial;
    size_t                        narena;
    size_t                        ntext;
    size_t                        nprep_arena;
    airouter_route_memo_stats_t   stats;
    airouter_memo_slot_t          slots[AIROUTER_MEMO_SLOTS];
    airouter_memo_prep_t          preps[AIROUTER_MEMO_PREPS];
    uint32_t                      arena[AIROUTER_MEMO_ARENA];
    char                          text[AIROUTER_MEMO_TEXT];
    uint32_t                      prep_arena[AIROUTER_MEMO_PREP_ARENA];

    /* scratch for sorting a prep's lists */
    uint32_t                      walk[AIROUTER_MEMO_LIST_MAX];
    double                        bound[AIROUTER_MEMO_LIST_MAX];
};


static airouter_memo_slot_t *airouter_memo_get(airouter_route_memo_t *memo,
    const airouter_catalog_t *cat, const airouter_route_req_t *req,
    airouter_rank_ctx_t *rc);
static void airouter_memo_reset(airouter_route_memo_t *memo,
    const airouter_catalog_t *cat, uint64_t generation);
static uint64_t airouter_memo_hash(const char *p, size_t len,
    const void *tags, const void *models);
static int airouter_route_walk(airouter_rank_ctx_t *rc,
    airouter_route_memo_t *memo, const airouter_memo_slot_t *slot,
    airouter_route_result_t *res);
static airouter_memo_prep_t *airouter_memo_prep(airouter_rank_ctx_t *rc,
    airouter_route_memo_t *memo, const airouter_memo_slot_t *slot);
static void airouter_memo_prep_make(airouter_rank_ctx_t *rc,
    airouter_route_memo_t *memo, const airouter_memo_slot_t *slot,
    airouter_memo_prep_t *pp);
static void airouter_memo_split(airouter_rank_ctx_t *rc,
    airouter_route_memo_t *memo, airouter_memo_prep_t *pp);
static double airouter_walk_neutral(airouter_rank_ctx_t *rc, uint32_t x);
static double airouter_walk_bound(airouter_rank_ctx_t *rc, uint32_t x);
static int airouter_walk_better(const airouter_catalog_t *cat, uint32_t xa,
    double a, uint32_t xb, double b);
static void airouter_walk_sort(const airouter_catalog_t *cat, uint32_t *x,
    double *b, size_t n, uint32_t *out);
static void airouter_walk_sift(const airouter_catalog_t *cat, uint32_t *x,
    double *b, size_t n, size_t i);
static void airouter_rank_prepare(airouter_rank_ctx_t *rc,
    const airouter_catalog_t *cat, const airouter_config_t *cf,
    const airouter_route_req_t *req, const airouter_live_t *live,
    const airouter_strategy_t *st);
static void airouter_rank_price_range(airouter_rank_ctx_t *rc,
    const airouter_query_t *q);
static void airouter_rank_removed(airouter_route_result_t *res,
    const airouter_route_req_t *req, uint32_t channel, uint32_t x,
    int reason);
static size_t airouter_rank_keep(const airouter_catalog_t *cat,
    airouter_candidate_t *h, size_t n, size_t max,
    const airouter_candidate_t *c);
static void airouter_rank_sort(airouter_rank_ctx_t *rc,
    airouter_candidate_t *h, size_t n);
static int airouter_rank_filter(airouter_rank_ctx_t *rc, uint32_t x);
static int airouter_rank_filter_request(airouter_rank_ctx_t *rc,
    const airouter_catalog_model_t *m);
static void airouter_rank_key_tags(airouter_rank_ctx_t *rc);
static int airouter_rank_key_allows(airouter_rank_ctx_t *rc,
    const airouter_catalog_model_t *m);
static double airouter_rank_live(const airouter_live_t *live,
    airouter_score_e which, uint32_t channel, uint32_t model);
static void airouter_rank_scores(airouter_rank_ctx_t *rc, uint32_t x,
    double *s, int with_live);
static void airouter_rank_static_scores(airouter_rank_ctx_t *rc,
    uint32_t x, double *s);
static double airouter_rank_total(airouter_rank_ctx_t *rc, const double *s);
static int airouter_rank_better(const airouter_catalog_t *cat,
    const airouter_candidate_t *a, const airouter_candidate_t *b);
static void airouter_rank_sift(const airouter_catalog_t *cat,
    airouter_candidate_t *h, size_t n, size_t i);
static double airouter_live_filter_speed(void *ctx, uint32_t channel,
    uint32_t model);
static double airouter_live_filter_reliability(void *ctx, uint32_t channel,
    uint32_t model);
static int airouter_live_filter_measure(void *ctx, uint32_t channel,
    uint32_t model, airouter_live_measure_t *m);
static int airouter_live_filter_reachable(void *ctx, uint32_t channel);
static int airouter_live_filter_known(void *ctx, uint32_t channel,
    uint32_t model);
static int airouter_live_filter_available(void *ctx, uint32_t channel,
    uint32_t model);
static int airouter_rank_controls_filter(airouter_rank_ctx_t *rc,
    const airouter_catalog_model_t *m);
static long airouter_rank_names(const airouter_channel_t *ch,
    const airouter_name_t *names, size_t n);
static int airouter_rank_name_is(const char *s, const airouter_name_t *name);
static double airouter_rank_usd(airouter_rank_ctx_t *rc,
    const airouter_catalog_model_t *m);
static void airouter_rank_measure(const airouter_live_t *live,
    uint32_t channel, uint32_t model, double *ttfb, double *tps);
static void airouter_rank_order(airouter_rank_ctx_t *rc,
    airouter_candidate_t *c);
static int airouter_route_listed(const airouter_candidate_t *cand, size_t n,
    const airouter_candidate_t *c);


airouter_route_status_e
airouter_route(const airouter_catalog_t *cat, const airouter_config_t *cf,
    const airouter_route_req_t *req, const airouter_live_t *live,
    airouter_route_result_t *res)
{
    int                              reason;
    size_t                           n;
    double                           s[AIROUTER_SCORE_N];
    uint32_t                         x;
    const char                      *name;
    airouter_query_t                 q;
    airouter_candidate_t             c;
    airouter_rank_ctx_t              rc;
    airouter_query_iter_t            it;
    const airouter_strategy_t       *st;
    const airouter_catalog_model_t  *m;

    if (res == NULL) {
        return AIROUTER_ROUTE_ERROR;
    }

    res->status = AIROUTER_ROUTE_ERROR;
    res->stage = AIROUTER_STAGE_NONE;
    res->strategy = NULL;
    res->ncand = 0;
    res->nmatched = 0;
    res->navailable = 0;
    res->nremoved = 0;
    res->nsimilar = 0;
    res->why = NULL;
    memset(res->filtered, 0, sizeof(res->filtered));

    if (cat == NULL || cf == NULL || req == NULL
        || cat->nchannels != cf->nchannels)
    {
        res->why = "the catalogue does not fit the configuration";
        return res->status;
    }

    name = req->strategy ? req->strategy : cf->routing.default_strategy;
    st = airouter_config_strategy(cf, name ? name : "cost_first");

    if (st == NULL) {
        res->status = AIROUTER_ROUTE_BAD_STRATEGY;
        res->why = "unknown strategy";
        return res->status;
    }

    res->strategy = st;

    /* the walk's early stop knows the score only: controls take the
     * full path */
    if (req->memo != NULL && !req->explain && res->cand != NULL
        && res->cand_max > 0 && req->controls == NULL
        && req->sort == AIROUTER_SORT_NONE)
    {
        airouter_rank_prepare(&rc, cat, cf, req, live, st);

        if (airouter_route_walk(&rc, req->memo,
                                airouter_memo_get(req->memo, cat, req, &rc),
                                res)
            == 0)
        {
            return res->status;
        }

        /* not memoised (a very long set): the full path below */
    }

    switch (airouter_query_resolve(cat, req->model, req->model_len, &q)) {

    case AIROUTER_QUERY_BAD:
        res->status = AIROUTER_ROUTE_BAD_QUERY;
        res->why = q.why;
        return res->status;

    case AIROUTER_QUERY_NO_MATCH:
        res->status = AIROUTER_ROUTE_NO_MATCH;
        res->nsimilar = airouter_query_similar(cat, req->model,
                                               req->model_len, res->similar,
                                               AIROUTER_ROUTE_SIMILAR);
        return res->status;

    default:
        break;
    }

    res->stage = q.stage;

    airouter_rank_prepare(&rc, cat, cf, req, live, st);
    airouter_rank_price_range(&rc, &q);

    /* filter, score, keep the best cand_max */

    n = 0;
    airouter_query_iter_init(&it, &q);

    while (airouter_query_next(&it, &x)) {
        res->nmatched++;
        m = airouter_catalog_model(cat, x);

        reason = airouter_rank_filter(&rc, x);

        if (reason < 0 && live != NULL && live->reachable != NULL
            && !live->reachable(live->ctx, m->channel))
        {
            reason = AIROUTER_FILTER_UNRESOLVED;
        }

        if (reason < 0 && live != NULL && live->available != NULL
            && !live->available(live->ctx, m->channel, x))
        {
            reason = AIROUTER_FILTER_UNAVAILABLE;
        }

        if (reason >= 0) {
            airouter_rank_removed(res, req, m->channel, x, reason);
            continue;
        }

        res->navailable++;

        if (res->cand == NULL || res->cand_max == 0) {
            continue;
        }

        airouter_rank_scores(&rc, x, s, 0);

        c.channel = m->channel;
        c.model = x;
        c.id = NULL;
        c.score = airouter_rank_total(&rc, s);
        airouter_rank_order(&rc, &c);

        n = airouter_rank_keep(cat, res->cand, n, res->cand_max, &c);
    }

    if (res->navailable == 0) {
        res->status = AIROUTER_ROUTE_ALL_FILTERED;
        res->why = "every matching model was filtered out";
        return res->status;
    }

    airouter_rank_sort(&rc, res->cand, n);

    /* no fallbacks and no order: the best candidate alone */
    if (rc.controls && !rc.controls->allow_fallbacks
        && rc.controls->norder == 0 && n > 1)
    {
        n = 1;
    }

    res->ncand = n;
    res->status = AIROUTER_ROUTE_OK;

    return res->status;
}


uint32_t
airouter_route_endpoint_kind(airouter_endpoint_e endpoint)
{
    switch (endpoint) {

    case AIROUTER_ENDPOINT_CHAT:
    case AIROUTER_ENDPOINT_COMPLETION:
        return AIROUTER_CAP_CHAT;

    case AIROUTER_ENDPOINT_EMBEDDING:
        return AIROUTER_CAP_EMBEDDING;

    case AIROUTER_ENDPOINT_RERANK:
        return AIROUTER_CAP_RERANK;

    case AIROUTER_ENDPOINT_IMAGE:
        return AIROUTER_CAP_IMAGE_GEN;

    case AIROUTER_ENDPOINT_SPEECH:
        return AIROUTER_CAP_SPEECH;

    case AIROUTER_ENDPOINT_TRANSCRIPTION:
        return AIROUTER_CAP_TRANSCRIPTION;

    case AIROUTER_ENDPOINT_MODERATION:
        return AIROUTER_CAP_MODERATION;

    default:
        return 0;
    }
}


const char *
airouter_route_filter_name(airouter_filter_e reason)
{
    static const char  *names[AIROUTER_FILTER_N] = {
        "key_not_allowed",
        "channel_disabled",
        "wrong_kind",
        "embedding_excluded",
        "vision_only_excluded",
        "min_context_length",
        "min_parameter_count",
        "needs_vision",
        "needs_tools",
        "context_too_small",
        "host_unresolved",
        "unavailable",
        "provider_ignored",
        "provider_not_in_only",
        "provider_not_in_order",
        "over_max_price",
        "parameters_unsupported",
        "data_collection"
    };

    if ((unsigned) reason >= AIROUTER_FILTER_N) {
        return "unknown";
    }

    return names[reason];
}


const char *
airouter_route_status_name(airouter_route_status_e status)
{
    switch (status) {
    case AIROUTER_ROUTE_OK:
        return "ok";
    case AIROUTER_ROUTE_NO_MATCH:
        return "no_match";
    case AIROUTER_ROUTE_ALL_FILTERED:
        return "all_filtered";
    case AIROUTER_ROUTE_BAD_QUERY:
        return "bad_query";
    case AIROUTER_ROUTE_BAD_STRATEGY:
        return "bad_strategy";
    default:
        return "error";
    }
}


double
airouter_rank_cost_score(double price, double lo, double hi)
{
    double  s;

    if (!(price > 0)) {
        return 1;
    }

    /*
     * Paid entries span [0, AIROUTER_RANK_PAID_MAX]: the cheapest paid
     * model must still lose the cost score to a free one.
     */
    if (hi - lo < 1e-12) {
        return AIROUTER_RANK_PAID_MAX;
    }

    s = 1 - (log10(price) - lo) / (hi - lo);
    s = s < 0 ? 0 : (s > 1 ? 1 : s);

    return s * AIROUTER_RANK_PAID_MAX;
}


/*
 * Folds the strategy into one weight per score: an ascending weight w on
 * s contributes w * (1 - s) = w - w * s, so it becomes -w plus w in the
 * constant base.  Resolves the key's allowed tags to tag indexes once.
 */
static void
airouter_rank_prepare(airouter_rank_ctx_t *rc, const airouter_catalog_t *cat,
    const airouter_config_t *cf, const airouter_route_req_t *req,
    const airouter_live_t *live, const airouter_strategy_t *st)
{
    size_t                    i;
    const airouter_weight_t  *wt;

    memset(rc, 0, sizeof(airouter_rank_ctx_t));
    rc->cat = cat;
    rc->cf = cf;
    rc->req = req;
    rc->live = live;
    rc->st = st;
    rc->controls = req->controls;

    for (i = 0; i < st->nweights; i++) {
        wt = &st->weights[i];

        if ((unsigned) wt->score >= AIROUTER_SCORE_N) {
            continue;
        }

        if (wt->descending) {
            rc->w[wt->score] += wt->weight;

        } else {
            rc->w[wt->score] -= wt->weight;
            rc->base += wt->weight;
        }
    }

    airouter_rank_key_tags(rc);
}


/* The key's allowed tags as tag indexes, resolved once per route. */
static void
airouter_rank_key_tags(airouter_rank_ctx_t *rc)
{
    long                         t;
    size_t                       i;
    const char                  *name;
    const airouter_route_req_t  *req;

    req = rc->req;

    if (req->allowed_tags == NULL || req->allowed_tags->n == 0) {
        return;
    }

    rc->key_tags = 1;

    for (i = 0;
         i < req->allowed_tags->n && rc->ntags < AIROUTER_RANK_KEY_TAGS;
         i++)
    {
        name = req->allowed_tags->items[i];
        t = name ? airouter_catalog_find_tag(rc->cat, name, strlen(name))
                 : -1;

        if (t >= 0) {
            rc->tags[rc->ntags++] = (uint32_t) t;
        }
    }
}


/*
 * The first pass: the log10 price range of the priced, non-free entries
 * that pass the static filters.  Skipped when the strategy ignores cost.
 */
static void
airouter_rank_price_range(airouter_rank_ctx_t *rc, const airouter_query_t *q)
{
    int                              priced;
    double                           p;
    uint32_t                         x;
    airouter_query_iter_t            it;
    const airouter_catalog_model_t  *m;

    rc->lo = 0;
    rc->hi = 0;

    if (rc->w[AIROUTER_SCORE_COST] == 0) {
        return;
    }

    priced = 0;
    airouter_query_iter_init(&it, q);

    while (airouter_query_next(&it, &x)) {
        m = airouter_catalog_model(rc->cat, x);

        if ((m->flags & AIROUTER_MODEL_FREE) || !(m->price_usd > 0)
            || airouter_rank_filter(rc, x) >= 0)
        {
            continue;
        }

        p = log10(m->price_usd);

        if (!priced || p < rc->lo) {
            rc->lo = p;
        }

        if (!priced || p > rc->hi) {
            rc->hi = p;
        }

        priced = 1;
    }
}


static void
airouter_rank_removed(airouter_route_result_t *res,
    const airouter_route_req_t *req, uint32_t channel, uint32_t x,
    int reason)
{
    airouter_removed_t  *r;

    res->filtered[reason]++;

    if (!req->explain || res->removed == NULL
        || res->nremoved >= res->removed_max)
    {
        return;
    }

    r = &res->removed[res->nremoved++];
    r->channel = channel;
    r->model = x;
    r->reason = (airouter_filter_e) reason;
}


/*
 * Keeps the best max candidates in h[0..n), a heap whose root is the
 * worst kept; returns the new n.
 */
static size_t
airouter_rank_keep(const airouter_catalog_t *cat, airouter_candidate_t *h,
    size_t n, size_t max, const airouter_candidate_t *c)
{
    size_t                i, parent;
    airouter_candidate_t  tmp;

    if (n < max) {
        h[n] = *c;

        for (i = n; i > 0; i = parent) {
            parent = (i - 1) / 2;

            if (!airouter_rank_better(cat, &h[parent], &h[i])) {
                break;
            }

            tmp = h[i];
            h[i] = h[parent];
            h[parent] = tmp;
        }

        return n + 1;
    }

    if (airouter_rank_better(cat, c, &h[0])) {
        h[0] = *c;
        airouter_rank_sift(cat, h, n, 0);
    }

    return n;
}


/*
 * Heap sort: the worst goes to the end each time, so the array ends best
 * first; then the kept few get every component score, live ones too.
 */
static void
airouter_rank_sort(airouter_rank_ctx_t *rc, airouter_candidate_t *h,
    size_t n)
{
    size_t                           i;
    airouter_candidate_t             tmp;
    const airouter_catalog_model_t  *m;

    for (i = n; i > 1; i--) {
        tmp = h[0];
        h[0] = h[i - 1];
        h[i - 1] = tmp;
        airouter_rank_sift(rc->cat, h, i - 1, 0);
    }

    for (i = 0; i < n; i++) {
        m = airouter_catalog_model(rc->cat, h[i].model);
        h[i].id = airouter_catalog_model_id(rc->cat, m);
        airouter_rank_measure(rc->live, h[i].channel, h[i].model,
                              &h[i].ttfb, &h[i].tps);

        /* the speed score from the same estimates, measured once */
        airouter_rank_static_scores(rc, h[i].model, h[i].scores);

        h[i].scores[AIROUTER_SCORE_SPEED] =
            (rc->live != NULL && rc->live->measure != NULL)
            ? airouter_rank_speed_score(h[i].ttfb, h[i].tps)
            : airouter_rank_live(rc->live, AIROUTER_SCORE_SPEED,
                                 h[i].channel, h[i].model);
        h[i].scores[AIROUTER_SCORE_RELIABILITY] =
            airouter_rank_live(rc->live, AIROUTER_SCORE_RELIABILITY,
                               h[i].channel, h[i].model);
    }
}


/* The first filter that removes entry x, or -1. */
static int
airouter_rank_filter(airouter_rank_ctx_t *rc, uint32_t x)
{
    const airouter_catalog_model_t    *m;
    const airouter_catalog_channel_t  *ch;

    m = airouter_catalog_model(rc->cat, x);
    ch = airouter_catalog_channel(rc->cat, m->channel);

    if (!airouter_rank_key_allows(rc, m)) {
        return AIROUTER_FILTER_KEY;
    }

    if (!(ch->flags & AIROUTER_CHANNEL_ENABLED)) {
        return AIROUTER_FILTER_DISABLED;
    }

    return airouter_rank_filter_request(rc, m);
}


/*
 * The filters after KEY and DISABLED: they depend on the request, so the
 * memo cannot hold their verdict.
 */
static int
airouter_rank_filter_request(airouter_rank_ctx_t *rc,
    const airouter_catalog_model_t *m)
{
    int                                chat;
    uint32_t                           kind;
    uint64_t                           need;
    const airouter_filters_t          *mf;
    const airouter_route_req_t        *req;

    req = rc->req;
    mf = &rc->cf->routing.filters;

    kind = airouter_route_endpoint_kind(req->endpoint);

    if (kind != 0 && !(m->caps & kind)) {
        return AIROUTER_FILTER_KIND;
    }

    /* ANY is explain's and the listing's: judged as a chat request */
    chat = (kind == 0 || kind == AIROUTER_CAP_CHAT);

    /* model_filters choose chat models; embeddings keep their own sizes */

    if (chat) {
        if (mf->exclude_embedding_models
            && (m->caps & AIROUTER_CAP_EMBEDDING))
        {
            return AIROUTER_FILTER_EMBEDDING;
        }

        if (mf->exclude_vision_only_models && !req->needs_vision
            && (m->caps & AIROUTER_CAP_VISION_ONLY))
        {
            return AIROUTER_FILTER_VISION_ONLY;
        }

        /* unknown is not small: only known values are held against */

        if (mf->min_context_length > 0 && m->context > 0
            && m->context < (uint64_t) mf->min_context_length)
        {
            return AIROUTER_FILTER_MIN_CONTEXT;
        }

        if (mf->min_parameter_count > 0 && m->params_total > 0
            && m->params_total < mf->min_parameter_count)
        {
            return AIROUTER_FILTER_MIN_PARAMS;
        }
    }

    if (req->needs_vision && !(m->caps & AIROUTER_CAP_VISION)) {
        return AIROUTER_FILTER_VISION;
    }

    if (req->needs_tools && (m->caps_known & AIROUTER_CAP_TOOLS)
        && !(m->caps & AIROUTER_CAP_TOOLS))
    {
        return AIROUTER_FILTER_TOOLS;
    }

    need = req->prompt_tokens + req->max_tokens;

    if (need > 0 && m->context > 0 && need > m->context) {
        return AIROUTER_FILTER_CONTEXT;
    }

    if (rc->controls) {
        return airouter_rank_controls_filter(rc, m);
    }

    return -1;
}


/* The request's provider controls on entry m: a filter reason, or -1. */
static int
airouter_rank_controls_filter(airouter_rank_ctx_t *rc,
    const airouter_catalog_model_t *m)
{
    double                      rate;
    const airouter_channel_t   *ch;
    const airouter_controls_t  *ctl;

    ctl = rc->controls;
    ch = &rc->cf->channels[m->channel];

    if (ctl->nignore && airouter_rank_names(ch, ctl->ignore, ctl->nignore)
                        >= 0)
    {
        return AIROUTER_FILTER_IGNORED;
    }

    if (ctl->nonly && airouter_rank_names(ch, ctl->only, ctl->nonly) < 0) {
        return AIROUTER_FILTER_ONLY;
    }

    if (!ctl->allow_fallbacks && ctl->norder
        && airouter_rank_names(ch, ctl->order, ctl->norder) < 0)
    {
        return AIROUTER_FILTER_NOT_IN_ORDER;
    }

    if ((ctl->max_prompt >= 0 || ctl->max_completion >= 0)
        && !(m->flags & AIROUTER_MODEL_FREE))
    {
        /* unknown is not cheap: a cap the router cannot check is kept */
        if (!(m->flags & AIROUTER_MODEL_PRICED)) {
            return AIROUTER_FILTER_MAX_PRICE;
        }

        rate = airouter_rank_usd(rc, m);

        /* the limits are per token; a hair of slack for the scaling */
        if ((ctl->max_prompt >= 0
             && m->price_prompt * rate > ctl->max_prompt * (1 + 1e-9))
            || (ctl->max_completion >= 0
                && m->price_completion * rate
                   > ctl->max_completion * (1 + 1e-9)))
        {
            return AIROUTER_FILTER_MAX_PRICE;
        }
    }

    if (ctl->require_parameters
        && airouter_route_params_missing(rc->req, m) != 0)
    {
        return AIROUTER_FILTER_PARAMETERS;
    }

    if (ctl->deny_data_collection && ch->data_collection != 1) {
        return AIROUTER_FILTER_DATA_COLLECTION;
    }

    return -1;
}


/* USD per unit of the entry's currency. */
static double
airouter_rank_usd(airouter_rank_ctx_t *rc, const airouter_catalog_model_t *m)
{
    const char  *currency;

    currency = airouter_catalog_model_currency(rc->cat, m);

    if (currency && strcasecmp(currency, "CNY") == 0) {
        return rc->cf->cost.cny_to_usd;
    }

    return 1.0;
}


/*
 * The first of names that names channel ch (its id, name or provider's
 * name, case-insensitively), or -1.
 */
static long
airouter_rank_names(const airouter_channel_t *ch, const airouter_name_t *names,
    size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (airouter_rank_name_is(ch->id, &names[i])
            || airouter_rank_name_is(ch->name, &names[i])
            || airouter_rank_name_is(ch->provider_name, &names[i]))
        {
            return (long) i;
        }
    }

    return -1;
}


static int
airouter_rank_name_is(const char *s, const airouter_name_t *name)
{
    return s != NULL && strlen(s) == name->len
           && strncasecmp(s, name->s, name->len) == 0;
}


/*
 * The candidate's place in provider.order and its sort key; both 0
 * without controls, so the plain order is untouched.
 */
static void
airouter_rank_order(airouter_rank_ctx_t *rc, airouter_candidate_t *c)
{
    long                             i;
    double                           ttfb, tps;
    const airouter_controls_t       *ctl;
    const airouter_catalog_model_t  *m;

    c->order = 0;
    c->sort_key = 0;
    c->source = 0;
    c->ttfb = 0;
    c->tps = 0;

    ctl = rc->controls;

    if (ctl && ctl->norder) {
        i = airouter_rank_names(&rc->cf->channels[c->channel], ctl->order,
                                ctl->norder);
        c->order = (uint32_t) (i < 0 ? (long) ctl->norder : i);
    }

    switch (rc->req->sort) {

    case AIROUTER_SORT_PRICE:
        m = airouter_catalog_model(rc->cat, c->model);

        if (m->flags & AIROUTER_MODEL_FREE) {
            c->sort_key = 0;

        } else if (m->price_usd >= 0) {
            c->sort_key = m->price_usd;

        } else {
            c->sort_key = HUGE_VAL;
        }

        break;

    case AIROUTER_SORT_THROUGHPUT:
        airouter_rank_measure(rc->live, c->channel, c->model, &ttfb, &tps);
        c->sort_key = -tps;
        break;

    case AIROUTER_SORT_LATENCY:
        airouter_rank_measure(rc->live, c->channel, c->model, &ttfb, &tps);
        c->sort_key = ttfb;
        break;

    default:
        break;
    }
}


static void
airouter_rank_measure(const airouter_live_t *live, uint32_t channel,
    uint32_t model, double *ttfb, double *tps)
{
    airouter_live_measure_t  m;

    if (live != NULL && live->measure != NULL
        && live->measure(live->ctx, channel, model, &m) == 0)
    {
        airouter_rank_estimate(&m, ttfb, tps);
        return;
    }

    airouter_rank_estimate(NULL, ttfb, tps);
}


void
airouter_rank_estimate(const airouter_live_measure_t *m, double *ttfb,
    double *tps)
{
    double  w, decay;

    *ttfb = AIROUTER_RANK_PRIOR_TTFB;
    *tps = AIROUTER_RANK_PRIOR_TPS;

    if (m == NULL) {
        return;
    }

    decay = (m->age > 0) ? pow(0.5, m->age / AIROUTER_RANK_HALF_LIFE) : 1;

    if (m->samples >= AIROUTER_RANK_MIN_SAMPLES && m->ttfb >= 0) {
        w = decay;
        *ttfb = w * m->ttfb + (1 - w) * AIROUTER_RANK_PRIOR_TTFB;
    }

    if (m->tps_samples >= AIROUTER_RANK_MIN_SAMPLES && m->tps >= 0) {
        w = decay;
        *tps = w * m->tps + (1 - w) * AIROUTER_RANK_PRIOR_TPS;
    }
}


double
airouter_rank_speed_score(double ttfb, double tps)
{
    double  a, b;

    a = (ttfb >= 0) ? AIROUTER_RANK_PRIOR_TTFB
                      / (AIROUTER_RANK_PRIOR_TTFB + ttfb)
                    : 0.5;
    b = (tps >= 0) ? tps / (tps + AIROUTER_RANK_PRIOR_TPS) : 0.5;

    return (a + b) / 2;
}



static int
airouter_rank_key_allows(airouter_rank_ctx_t *rc,
    const airouter_catalog_model_t *m)
{
    size_t                     i, n;
    const char                *a;
    const airouter_strlist_t  *allowed;

    allowed = rc->req->allowed_models;

    if (allowed != NULL && allowed->n > 0) {
        for (i = 0; i < allowed->n; i++) {
            a = allowed->items[i];

            if (a == NULL) {
                continue;
            }

            n = strlen(a);

            if (n > 0 && a[n - 1] == '*') {
                n--;

                if ((m->id_len >= n
                     && airouter_tags_eq(airouter_catalog_model_id(rc->cat, m),
                                         n, a, n))
                    || (m->core_len >= n
                        && airouter_tags_eq(
                               airouter_catalog_model_core(rc->cat, m), n,
                               a, n)))
                {
                    break;
                }

                continue;
            }

            if (airouter_tags_eq(airouter_catalog_model_id(rc->cat, m),
                                 m->id_len, a, n)
                || airouter_tags_eq(airouter_catalog_model_core(rc->cat, m),
                                    m->core_len, a, n))
            {
                break;
            }
        }

        if (i == allowed->n) {
            return 0;
        }
    }

    if (rc->key_tags) {
        for (i = 0; i < rc->ntags; i++) {
            if (airouter_catalog_model_has_tag(rc->cat, m, rc->tags[i])) {
                return 1;
            }
        }

        return 0;
    }

    return 1;
}


static double
airouter_rank_live(const airouter_live_t *live, airouter_score_e which,
    uint32_t channel, uint32_t model)
{
    double    v, ttfb, tps;
    double  (*fn)(void *ctx, uint32_t channel, uint32_t model);

    if (live == NULL) {
        return 0.5;
    }

    if (which == AIROUTER_SCORE_SPEED && live->measure != NULL) {
        airouter_rank_measure(live, channel, model, &ttfb, &tps);
        return airouter_rank_speed_score(ttfb, tps);
    }

    fn = (which == AIROUTER_SCORE_SPEED) ? live->speed : live->reliability;

    if (fn == NULL) {
        return 0.5;
    }

    v = fn(live->ctx, channel, model);

    if (!(v >= 0)) {
        return 0;
    }

    return v > 1 ? 1 : v;
}


/*
 * Component scores of entry x.  Live scores are asked for only when the
 * strategy weighs them or with_live is set (the final candidates), so a
 * strategy without speed costs no callbacks per entry.
 */
static void
airouter_rank_scores(airouter_rank_ctx_t *rc, uint32_t x, double *s,
    int with_live)
{
    const airouter_catalog_model_t  *m;

    m = airouter_catalog_model(rc->cat, x);

    airouter_rank_static_scores(rc, x, s);

    s[AIROUTER_SCORE_SPEED] =
        (with_live || rc->w[AIROUTER_SCORE_SPEED] != 0)
        ? airouter_rank_live(rc->live, AIROUTER_SCORE_SPEED, m->channel, x)
        : 0.5;

    s[AIROUTER_SCORE_RELIABILITY] =
        (with_live || rc->w[AIROUTER_SCORE_RELIABILITY] != 0)
        ? airouter_rank_live(rc->live, AIROUTER_SCORE_RELIABILITY, m->channel,
                             x)
        : 0.5;
}


/* Every score that needs no live state; the live ones are 0. */
static void
airouter_rank_static_scores(airouter_rank_ctx_t *rc, uint32_t x, double *s)
{
    const airouter_catalog_model_t  *m;

    m = airouter_catalog_model(rc->cat, x);

    if (m->flags & AIROUTER_MODEL_FREE) {
        s[AIROUTER_SCORE_COST] = 1;

    } else if (m->price_usd < 0) {
        s[AIROUTER_SCORE_COST] = 0.5;

    } else {
        s[AIROUTER_SCORE_COST] = airouter_rank_cost_score(m->price_usd,
                                                          rc->lo, rc->hi);
    }

    s[AIROUTER_SCORE_FREE] = (m->flags & AIROUTER_MODEL_FREE) ? 1 : 0;
    s[AIROUTER_SCORE_LOCAL] = (m->flags & AIROUTER_MODEL_LOCAL) ? 1 : 0;
    s[AIROUTER_SCORE_PARAMETER] = m->param_score;
    s[AIROUTER_SCORE_CONTEXT] = m->context_score;
    s[AIROUTER_SCORE_QUALITY] = m->quality;
    s[AIROUTER_SCORE_SPEED] = 0;
    s[AIROUTER_SCORE_RELIABILITY] = 0;
}


static double
airouter_rank_total(airouter_rank_ctx_t *rc, const double *s)
{
    int     i;
    double  total;

    total = rc->base;

    for (i = 0; i < AIROUTER_SCORE_N; i++) {
        total += rc->w[i] * s[i];
    }

    return total;
}


/*
 * Is a ranked before b?  Scores compared in AIROUTER_RANK_EPSILON steps,
 * then priority, weight, exact score, entry index.  A total order, so the
 * heap and every run agree.
 */
static int
airouter_rank_better(const airouter_catalog_t *cat,
    const airouter_candidate_t *a, const airouter_candidate_t *b)
{
    double                             qa, qb;
    const airouter_catalog_channel_t  *ca, *cb;

    /* the request's controls first: provider.order, then its sort */
    if (a->order != b->order) {
        return a->order < b->order;
    }

    if (a->sort_key != b->sort_key) {
        return a->sort_key < b->sort_key;
    }

    qa = floor(a->score / AIROUTER_RANK_EPSILON + 1e-9);
    qb = floor(b->score / AIROUTER_RANK_EPSILON + 1e-9);

    if (qa != qb) {
        return qa > qb;
    }

    if (a->channel != b->channel) {
        ca = airouter_catalog_channel(cat, a->channel);
        cb = airouter_catalog_channel(cat, b->channel);

        if (ca->priority != cb->priority) {
            return ca->priority < cb->priority;
        }

        if (ca->weight != cb->weight) {
            return ca->weight > cb->weight;
        }
    }

    if (a->score != b->score) {
        return a->score > b->score;
    }

    return a->model < b->model;
}


/* Restores the min-heap (root: the worst) below i. */
static void
airouter_rank_sift(const airouter_catalog_t *cat, airouter_candidate_t *h,
    size_t n, size_t i)
{
    size_t                worst, l, r;
    airouter_candidate_t  tmp;

    for ( ;; ) {
        worst = i;
        l = 2 * i + 1;
        r = l + 1;

        if (l < n && airouter_rank_better(cat, &h[worst], &h[l])) {
            worst = l;
        }

        if (r < n && airouter_rank_better(cat, &h[worst], &h[r])) {
            worst = r;
        }

        if (worst == i) {
            return;
        }

        tmp = h[i];
        h[i] = h[worst];
        h[worst] = tmp;
        i = worst;
    }
}


int
airouter_route_key_allows(const airouter_catalog_t *cat,
    const airouter_strlist_t *allowed_tags,
    const airouter_strlist_t *allowed_models, uint32_t model)
{
    airouter_rank_ctx_t   rc;
    airouter_route_req_t  req;

    if (model >= airouter_catalog_nmodels(cat)) {
        return 0;
    }

    memset(&rc, 0, sizeof(airouter_rank_ctx_t));
    memset(&req, 0, sizeof(airouter_route_req_t));

    req.allowed_tags = allowed_tags;
    req.allowed_models = allowed_models;
    rc.cat = cat;
    rc.req = &req;

    airouter_rank_key_tags(&rc);

    return airouter_rank_key_allows(&rc, airouter_catalog_model(cat, model));
}


airouter_route_memo_t *
airouter_route_memo_create(void)
{
    airouter_route_memo_t  *memo;

    memo = calloc(1, sizeof(airouter_route_memo_t));

    return memo;
}


void
airouter_route_memo_destroy(airouter_route_memo_t *memo)
{
    free(memo);
}


void
airouter_route_memo_stats(const airouter_route_memo_t *memo,
    airouter_route_memo_stats_t *stats)
{
    if (memo == NULL) {
        memset(stats, 0, sizeof(airouter_route_memo_stats_t));
        return;
    }

    *stats = memo->stats;
}


static void
airouter_memo_reset(airouter_route_memo_t *memo,
    const airouter_catalog_t *cat, uint64_t generation)
{
    memset(memo->slots, 0, sizeof(memo->slots));
    memset(memo->preps, 0, sizeof(memo->preps));
    memo->cat = cat;
    memo->generation = generation;
    memo->narena = 0;
    memo->ntext = 0;
    memo->nprep_arena = 0;
    memo->stats.resets++;
}


/* FNV-1a of the text, then of the two ACL addresses; never 0. */
static uint64_t
airouter_memo_hash(const char *p, size_t len, const void *tags,
    const void *models)
{
    size_t     i;
    uint64_t   h;
    uintptr_t  a[2];

    h = 14695981039346656037ULL;

    for (i = 0; i < len; i++) {
        h = (h ^ (unsigned char) p[i]) * 1099511628211ULL;
    }

    a[0] = (uintptr_t) tags;
    a[1] = (uintptr_t) models;

    for (i = 0; i < sizeof(a); i++) {
        h = (h ^ ((const unsigned char *) a)[i]) * 1099511628211ULL;
    }

    return h ? h : 1;
}


/*
 * The slot of the request's (query, ACL) in cat at req->generation,
 * resolved and filtered by KEY and DISABLED on a miss; NULL when the set
 * is too long to keep (or the text too long to key on).
 */
static airouter_memo_slot_t *
airouter_memo_get(airouter_route_memo_t *memo, const airouter_catalog_t *cat,
    const airouter_route_req_t *req, airouter_rank_ctx_t *rc)
{
    int                                reason;
    size_t                             len;
    uint32_t                           x, n;
    uint64_t                           h;
    const void                        *tags, *models;
    airouter_query_t                   q;
    airouter_query_iter_t              it;
    airouter_memo_slot_t              *slot;
    const airouter_catalog_model_t    *m;
    const airouter_catalog_channel_t  *ch;

    len = req->model ? req->model_len : 0;

    if (len > AIROUTER_MEMO_TEXT_MAX) {
        return NULL;
    }

    if (memo->cat != cat || memo->generation != req->generation) {
        airouter_memo_reset(memo, cat, req->generation);
    }

    /* an empty list allows everything: keys without an ACL share sets */
    tags = (req->allowed_tags && req->allowed_tags->n) ? req->allowed_tags
                                                       : NULL;
    models = (req->allowed_models && req->allowed_models->n)
             ? req->allowed_models : NULL;

    h = airouter_memo_hash(req->model, len, tags, models);
    slot = &memo->slots[h % AIROUTER_MEMO_SLOTS];

    if (slot->hash == h && slot->text_len == len
        && slot->acl_tags == tags && slot->acl_models == models
        && memcmp(memo->text + slot->text, req->model, len) == 0)
    {
        memo->stats.hits++;
        return slot;
    }

    memo->stats.misses++;

    airouter_query_resolve(cat, req->model, len, &q);

    if (q.status == AIROUTER_QUERY_OK
        && airouter_query_estimate(&q) > AIROUTER_MEMO_LIST_MAX)
    {
        return NULL;
    }

    if (memo->ntext + len > AIROUTER_MEMO_TEXT
        || memo->narena + (q.status == AIROUTER_QUERY_OK
                           ? airouter_query_estimate(&q) : 0)
           > AIROUTER_MEMO_ARENA)
    {
        airouter_memo_reset(memo, cat, req->generation);
        slot = &memo->slots[h % AIROUTER_MEMO_SLOTS];
    }

    memset(slot, 0, sizeof(airouter_memo_slot_t));
    slot->acl_tags = tags;
    slot->acl_models = models;
    slot->status = q.status;
    slot->stage = q.stage;
    slot->why = q.why;
    slot->text = (uint32_t) memo->ntext;
    slot->text_len = (uint32_t) len;
    slot->list = (uint32_t) memo->narena;

    if (len) {
        memcpy(memo->text + memo->ntext, req->model, len);
        memo->ntext += len;
    }

    if (q.status == AIROUTER_QUERY_NO_MATCH) {
        slot->nsimilar = airouter_query_similar(cat, req->model, len,
                                                slot->similar,
                                                AIROUTER_ROUTE_SIMILAR);
    }

    n = 0;
    airouter_query_iter_init(&it, &q);

    while (airouter_query_next(&it, &x)) {
        slot->nmatched++;
        m = airouter_catalog_model(cat, x);
        ch = airouter_catalog_channel(cat, m->channel);

        reason = -1;

        if (!airouter_rank_key_allows(rc, m)) {
            reason = AIROUTER_FILTER_KEY;
            slot->nkey++;

        } else if (!(ch->flags & AIROUTER_CHANNEL_ENABLED)) {
            reason = AIROUTER_FILTER_DISABLED;
            slot->ndisabled++;
        }

        if (reason < 0) {
            memo->arena[memo->narena + n++] = x;
        }
    }

    slot->nlist = n;
    memo->narena += n;
    slot->hash = h;
    slot->serial = ++memo->serial;

    return slot;
}


/*
 * The memo's path of airouter_route(): 0 when it answered (res filled),
 * -1 to take the full path.
 */
static int
airouter_route_walk(airouter_rank_ctx_t *rc, airouter_route_memo_t *memo,
    const airouter_memo_slot_t *slot, airouter_route_result_t *res)
{
    int                              take_known;
    size_t                           i, j, kept;
    double                           s[AIROUTER_SCORE_N], nb, kb;
    uint32_t                         x, nx, kx;
    const uint32_t                  *neutral, *known;
    const airouter_live_t           *live;
    airouter_candidate_t             c, top;
    airouter_memo_prep_t            *pp;
    const airouter_catalog_model_t  *m;

    if (slot == NULL) {
        return -1;
    }

    if (slot->status == AIROUTER_QUERY_BAD) {
        res->status = AIROUTER_ROUTE_BAD_QUERY;
        res->why = slot->why;
        return 0;
    }

    if (slot->status == AIROUTER_QUERY_NO_MATCH) {
        res->status = AIROUTER_ROUTE_NO_MATCH;
        res->nsimilar = slot->nsimilar;
        memcpy(res->similar, slot->similar, sizeof(res->similar));
        return 0;
    }

    res->stage = slot->stage;
    res->nmatched = slot->nmatched;

    /* the request's own filters, the price range, the two sorted lists */

    pp = airouter_memo_prep(rc, memo, slot);

    for (i = 0; i < AIROUTER_FILTER_N; i++) {
        res->filtered[i] = pp->filtered[i];
    }

    res->filtered[AIROUTER_FILTER_KEY] = slot->nkey;
    res->filtered[AIROUTER_FILTER_DISABLED] = slot->ndisabled;

    rc->lo = pp->lo;
    rc->hi = pp->hi;

    neutral = memo->prep_arena + pp->list + pp->n;
    known = neutral + pp->nneutral;
    live = rc->live;

    /*
     * Take the better of the two lists' heads (a neutral entry's total is
     * exact, a known one's is its bound) until nothing left can rank
     * above the worst kept: whatever is left ranks at most as its head.
     */

    memset(&top, 0, sizeof(airouter_candidate_t));
    kept = 0;
    i = 0;
    j = 0;
    nx = 0;
    kx = 0;
    nb = 0;
    kb = 0;

    if (i < pp->nneutral) {
        nx = neutral[i];
        nb = airouter_walk_neutral(rc, nx);
    }

    if (j < pp->nknown) {
        kx = known[j];
        kb = airouter_walk_bound(rc, kx);
    }

    while (i < pp->nneutral || j < pp->nknown) {

        if (i == pp->nneutral) {
            take_known = 1;

        } else if (j == pp->nknown) {
            take_known = 0;

        } else {
            take_known = airouter_walk_better(rc->cat, kx, kb, nx, nb);
        }

        x = take_known ? kx : nx;

        if (kept == res->cand_max) {
            top.channel = airouter_catalog_model(rc->cat, x)->channel;
            top.model = x;
            top.score = take_known ? kb : nb;

            if (!airouter_rank_better(rc->cat, &top, &res->cand[0])) {
                break;
            }
        }

        if (take_known) {
            if (++j < pp->nknown) {
                kx = known[j];
                kb = airouter_walk_bound(rc, kx);
            }

        } else {
            if (++i < pp->nneutral) {
                nx = neutral[i];
                nb = airouter_walk_neutral(rc, nx);
            }
        }

        memo->stats.walked++;
        m = airouter_catalog_model(rc->cat, x);

        if (live != NULL && live->reachable != NULL
            && !live->reachable(live->ctx, m->channel))
        {
            res->filtered[AIROUTER_FILTER_UNRESOLVED]++;
            continue;
        }

        if (live != NULL && live->available != NULL
            && !live->available(live->ctx, m->channel, x))
        {
            res->filtered[AIROUTER_FILTER_UNAVAILABLE]++;
            continue;
        }

        res->navailable++;

        airouter_rank_scores(rc, x, s, 0);

        c.channel = m->channel;
        c.model = x;
        c.id = NULL;
        c.score = airouter_rank_total(rc, s);
        airouter_rank_order(rc, &c);

        kept = airouter_rank_keep(rc->cat, res->cand, kept, res->cand_max,
                                  &c);
    }

    if (res->navailable == 0) {
        res->status = AIROUTER_ROUTE_ALL_FILTERED;
        res->why = "every matching model was filtered out";
        return 0;
    }

    airouter_rank_sort(rc, res->cand, kept);

    res->ncand = kept;
    res->status = AIROUTER_ROUTE_OK;

    return 0;
}


/*
 * The prep of slot for this request's shape, made on a miss; its split
 * by what live state knows made again when live's version moved.
 */
static airouter_memo_prep_t *
airouter_memo_prep(airouter_rank_ctx_t *rc, airouter_route_memo_t *memo,
    const airouter_memo_slot_t *slot)
{
    int                          measured, split;
    uint64_t                     h, need;
    airouter_memo_prep_t        *pp;
    const airouter_live_t       *live;
    const airouter_route_req_t  *req;

    req = rc->req;
    live = rc->live;
    need = req->prompt_tokens + req->max_tokens;
    measured = (live != NULL && live->measure != NULL);

    h = slot->serial * 0x9e3779b97f4a7c15ULL;
    h ^= (uint64_t) (uintptr_t) rc->st * 0xff51afd7ed558ccdULL;
    h ^= ((uint64_t) req->endpoint << 3) ^ ((uint64_t) !!req->needs_vision
                                            << 1)
         ^ (uint64_t) !!req->needs_tools ^ ((uint64_t) measured << 2);
    h ^= h >> 29;
    pp = &memo->preps[h % AIROUTER_MEMO_PREPS];

    if (pp->serial != slot->serial || pp->st != rc->st
        || pp->endpoint != req->endpoint
        || pp->vision != !!req->needs_vision
        || pp->tools != !!req->needs_tools || pp->measured != measured
        || !((int64_t) need > pp->need_lo && need <= pp->need_hi))
    {
        if (memo->nprep_arena + 2 * (size_t) slot->nlist
            > AIROUTER_MEMO_PREP_ARENA)
        {
            memset(memo->preps, 0, sizeof(memo->preps));
            memo->nprep_arena = 0;
        }

        pp->serial = slot->serial;
        pp->st = rc->st;
        pp->endpoint = req->endpoint;
        pp->vision = !!req->needs_vision;
        pp->tools = !!req->needs_tools;
        pp->measured = measured;
        pp->list = (uint32_t) memo->nprep_arena;
        pp->split = AIROUTER_SPLIT_NONE;

        airouter_memo_prep_make(rc, memo, slot, pp);

        memo->nprep_arena += 2 * (size_t) pp->n;
        memo->stats.prepared++;
    }

    if (live == NULL) {
        split = AIROUTER_SPLIT_NEUTRAL;

    } else if (live->known == NULL) {
        split = AIROUTER_SPLIT_KNOWN;

    } else {
        split = AIROUTER_SPLIT_ASKED;
    }

    if (pp->split != split
        || (split == AIROUTER_SPLIT_ASKED
            && (live->version == 0 || pp->version != live->version)))
    {
        pp->split = split;
        pp->version = (split == AIROUTER_SPLIT_ASKED) ? live->version : 0;

        rc->lo = pp->lo;
        rc->hi = pp->hi;

        airouter_memo_split(rc, memo, pp);
        memo->stats.split++;
    }

    return pp;
}


/*
 * Filters slot's list by the request (all of it but the context: its
 * filter holds for needs in (need_lo, need_hi]), finds the price range,
 * and sorts what is left best first by its neutral total.
 */
static void
airouter_memo_prep_make(airouter_rank_ctx_t *rc, airouter_route_memo_t *memo,
    const airouter_memo_slot_t *slot, airouter_memo_prep_t *pp)
{
    int                              reason, priced;
    size_t                           i, n;
    double                           p;
    uint32_t                         x;
    const uint32_t                  *list;
    const airouter_catalog_model_t  *m;

    memset(pp->filtered, 0, sizeof(pp->filtered));
    rc->lo = 0;
    rc->hi = 0;
    pp->need_lo = -1;
    pp->need_hi = UINT64_MAX;

    list = memo->arena + slot->list;
    priced = 0;
    n = 0;

    for (i = 0; i < slot->nlist; i++) {
        x = list[i];
        m = airouter_catalog_model(rc->cat, x);

        reason = airouter_rank_filter_request(rc, m);

        /* the context filter is the last: these reached it */
        if ((reason < 0 || reason == AIROUTER_FILTER_CONTEXT)
            && m->context > 0)
        {
            if (reason < 0) {
                pp->need_hi = (m->context < pp->need_hi) ? m->context
                                                         : pp->need_hi;

            } else if ((int64_t) m->context > pp->need_lo) {
                pp->need_lo = (int64_t) m->context;
            }
        }

        if (reason >= 0) {
            pp->filtered[reason]++;
            continue;
        }

        memo->walk[n++] = x;

        if (rc->w[AIROUTER_SCORE_COST] == 0
            || (m->flags & AIROUTER_MODEL_FREE) || !(m->price_usd > 0))
        {
            continue;
        }

        p = log10(m->price_usd);

        if (!priced || p < rc->lo) {
            rc->lo = p;
        }

        if (!priced || p > rc->hi) {
            rc->hi = p;
        }

        priced = 1;
    }

    pp->lo = rc->lo;
    pp->hi = rc->hi;
    pp->n = (uint32_t) n;

    for (i = 0; i < n; i++) {
        memo->bound[i] = airouter_walk_neutral(rc, memo->walk[i]);
    }

    airouter_walk_sort(rc->cat, memo->walk, memo->bound, n,
                       memo->prep_arena + pp->list);
}


/*
 * The prep's list into the entries live state knows nothing of (their
 * order kept) and the others, sorted by bound.
 */
static void
airouter_memo_split(airouter_rank_ctx_t *rc, airouter_route_memo_t *memo,
    airouter_memo_prep_t *pp)
{
    int                              known;
    size_t                           i, nk;
    uint32_t                         x, *list, *neutral;
    const airouter_live_t           *live;
    const airouter_catalog_model_t  *m;

    live = rc->live;
    list = memo->prep_arena + pp->list;
    neutral = list + pp->n;
    pp->nneutral = 0;
    nk = 0;

    for (i = 0; i < pp->n; i++) {
        x = list[i];

        switch (pp->split) {

        case AIROUTER_SPLIT_NEUTRAL:
            known = 0;
            break;

        case AIROUTER_SPLIT_KNOWN:
            known = 1;
            break;

        default:
            m = airouter_catalog_model(rc->cat, x);
            known = live->known(live->ctx, m->channel, x) != 0;
            break;
        }

        if (known) {
            memo->walk[nk] = x;
            memo->bound[nk] = airouter_walk_bound(rc, x);
            nk++;

        } else {
            neutral[pp->nneutral++] = x;
        }
    }

    pp->nknown = (uint32_t) nk;

    airouter_walk_sort(rc->cat, memo->walk, memo->bound, nk,
                       neutral + pp->nneutral);
}


/*
 * Entry x's total with the live scores live state gives an entry it knows
 * nothing of: what airouter_rank_scores() computes for it then, to the
 * bit (the same operations on the same values).
 */
static double
airouter_walk_neutral(airouter_rank_ctx_t *rc, uint32_t x)
{
    double  s[AIROUTER_SCORE_N], ttfb, tps;

    airouter_rank_static_scores(rc, x, s);

    s[AIROUTER_SCORE_SPEED] = 0.5;
    s[AIROUTER_SCORE_RELIABILITY] = 0.5;

    if (rc->w[AIROUTER_SCORE_SPEED] != 0 && rc->live != NULL
        && rc->live->measure != NULL)
    {
        airouter_rank_estimate(NULL, &ttfb, &tps);
        s[AIROUTER_SCORE_SPEED] = airouter_rank_speed_score(ttfb, tps);
    }

    return airouter_rank_total(rc, s);
}


/*
 * Entry x's best possible total: its static scores with the live ones at
 * their best for this strategy (a score weighed descending adds at most
 * its weight; ascending, nothing).  The margin covers rounding, so a
 * bound is never below the total it bounds.
 */
static double
airouter_walk_bound(airouter_rank_ctx_t *rc, uint32_t x)
{
    double  s[AIROUTER_SCORE_N];

    airouter_rank_static_scores(rc, x, s);

    return airouter_rank_total(rc, s)
           + (rc->w[AIROUTER_SCORE_SPEED] > 0 ? rc->w[AIROUTER_SCORE_SPEED]
                                              : 0)
           + (rc->w[AIROUTER_SCORE_RELIABILITY] > 0
              ? rc->w[AIROUTER_SCORE_RELIABILITY] : 0)
           + 1e-9;
}


/* airouter_rank_better() of entries xa and xb at totals a and b. */
static int
airouter_walk_better(const airouter_catalog_t *cat, uint32_t xa, double a,
    uint32_t xb, double b)
{
    airouter_candidate_t  ca, cb;

    ca.order = 0;
    ca.sort_key = 0;
    ca.channel = airouter_catalog_model(cat, xa)->channel;
    ca.model = xa;
    ca.score = a;

    cb.order = 0;
    cb.sort_key = 0;
    cb.channel = airouter_catalog_model(cat, xb)->channel;
    cb.model = xb;
    cb.score = b;

    return airouter_rank_better(cat, &ca, &cb);
}


/* Heap sort of x[0..n) by totals b, best first into out (x, b spoilt). */
static void
airouter_walk_sort(const airouter_catalog_t *cat, uint32_t *x, double *b,
    size_t n, uint32_t *out)
{
    size_t  i, k;

    for (i = n / 2; i > 0; i--) {
        airouter_walk_sift(cat, x, b, n, i - 1);
    }

    for (k = 0; k < n; k++) {
        out[k] = x[0];

        x[0] = x[n - k - 1];
        b[0] = b[n - k - 1];
        airouter_walk_sift(cat, x, b, n - k - 1, 0);
    }
}


/* Restores the heap of entries by total (root: the best) below i. */
static void
airouter_walk_sift(const airouter_catalog_t *cat, uint32_t *x, double *b,
    size_t n, size_t i)
{
    size_t    best, l, r;
    double    tb;
    uint32_t  tx;

    for ( ;; ) {
        best = i;
        l = 2 * i + 1;
        r = l + 1;

        if (l < n && airouter_walk_better(cat, x[l], b[l], x[best], b[best]))
        {
            best = l;
        }

        if (r < n && airouter_walk_better(cat, x[r], b[r], x[best], b[best]))
        {
            best = r;
        }

        if (best == i) {
            return;
        }

        tb = b[i];
        b[i] = b[best];
        b[best] = tb;
        tx = x[i];
        x[i] = x[best];
        x[best] = tx;
        i = best;
    }
}


airouter_route_status_e
airouter_route_controls(const airouter_catalog_t *cat,
    const airouter_config_t *cf, const airouter_route_req_t *req,
    const airouter_live_t *live, airouter_route_result_t *res)
{
    size_t                    i, k, e, n, nentries, len, base;
    const char               *names[AIROUTER_ROUTE_ENTRIES];
    size_t                    lens[AIROUTER_ROUTE_ENTRIES];
    airouter_sort_e           sort;
    airouter_route_req_t      one;
    airouter_route_result_t   sub, first;
    airouter_route_status_e   status;
    const airouter_controls_t  *ctl;

    if (res == NULL || req == NULL) {
        return AIROUTER_ROUTE_ERROR;
    }

    ctl = req->controls;
    nentries = 0;

    if (req->model != NULL && req->model_len > 0) {
        names[nentries] = req->model;
        lens[nentries++] = req->model_len;
    }

    for (i = 0; ctl && i < ctl->nmodels; i++) {
        for (k = 0; k < nentries; k++) {
            if (lens[k] == ctl->models[i].len
                && memcmp(names[k], ctl->models[i].s, lens[k]) == 0)
            {
                break;
            }
        }

        if (k == nentries) {
            names[nentries] = ctl->models[i].s;
            lens[nentries++] = ctl->models[i].len;
        }
    }

    if (nentries == 0) {
        /* the same 400 an empty "model" gets */
        one = *req;
        one.model = "";
        one.model_len = 0;
        one.sort = AIROUTER_SORT_NONE;
        return airouter_route(cat, cf, &one, live, res);
    }

    memset(&first, 0, sizeof(first));
    status = AIROUTER_ROUTE_ERROR;
    n = 0;

    res->status = AIROUTER_ROUTE_ERROR;
    res->ncand = 0;
    res->nmatched = 0;
    res->navailable = 0;
    res->nremoved = 0;
    res->nsimilar = 0;
    res->why = NULL;
    res->nentries = 0;
    res->bad_entry = 0;
    memset(res->filtered, 0, sizeof(res->filtered));

    for (e = 0; e < nentries; e++) {
        sort = airouter_controls_suffix(names[e], lens[e], &len);

        one = *req;
        one.model = names[e];
        one.model_len = len;
        one.sort = sort != AIROUTER_SORT_NONE
                   ? sort : (ctl ? ctl->sort : AIROUTER_SORT_NONE);

        memset(&sub, 0, sizeof(sub));
        sub.cand = (res->cand && n < res->cand_max) ? res->cand + n : NULL;
        sub.cand_max = sub.cand ? res->cand_max - n : 0;
        sub.removed = (res->removed && res->nremoved < res->removed_max)
                      ? res->removed + res->nremoved : NULL;
        sub.removed_max = sub.removed ? res->removed_max - res->nremoved : 0;

        airouter_route(cat, cf, &one, live, &sub);

        res->entries[e].model = names[e];
        res->entries[e].model_len = len;
        res->entries[e].sort = one.sort;
        res->entries[e].status = sub.status;
        res->entries[e].ncand = 0;
        res->nentries = e + 1;

        for (i = 0; i < sub.nremoved; i++) {
            sub.removed[i].source = (uint32_t) e;
        }

        res->nremoved += sub.nremoved;
        res->nmatched += sub.nmatched;
        res->navailable += sub.navailable;

        for (k = 0; k < AIROUTER_FILTER_N; k++) {
            res->filtered[k] += sub.filtered[k];
        }

        if (e == 0 || res->strategy == NULL) {
            res->strategy = sub.strategy;
            res->stage = sub.stage;
        }

        if (sub.status == AIROUTER_ROUTE_BAD_QUERY
            || sub.status == AIROUTER_ROUTE_BAD_STRATEGY
            || sub.status == AIROUTER_ROUTE_ERROR)
        {
            res->status = sub.status;
            res->why = sub.why;
            res->bad_entry = e;
            res->ncand = 0;
            return res->status;
        }

        if (sub.status != AIROUTER_ROUTE_OK) {
            if (status == AIROUTER_ROUTE_ERROR) {
                status = sub.status;
                first = sub;
            }

            continue;
        }

        /* keep the candidates no earlier entry listed */
        base = n;

        for (i = 0; i < sub.ncand; i++) {
            if (airouter_route_listed(res->cand, n, &sub.cand[i])) {
                continue;
            }

            sub.cand[i].source = (uint32_t) e;
            res->cand[n++] = sub.cand[i];
        }

        res->entries[e].ncand = n - base;
    }

    res->ncand = n;

    if (n > 0 || res->navailable > 0) {
        res->status = AIROUTER_ROUTE_OK;
        return res->status;
    }

    /* nothing anywhere: the first entry that failed says why */
    res->status = status;
    res->stage = first.stage;
    res->why = first.why;
    res->nsimilar = first.nsimilar;
    memcpy(res->similar, first.similar, sizeof(res->similar));

    return res->status;
}


static int
airouter_route_listed(const airouter_candidate_t *cand, size_t n,
    const airouter_candidate_t *c)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (cand[i].channel == c->channel && cand[i].model == c->model) {
            return 1;
        }
    }

    return 0;
}


uint32_t
airouter_route_params_missing(const airouter_route_req_t *req,
    const airouter_catalog_model_t *m)
{
    uint32_t  used, have;

    if (req->controls == NULL || !req->controls->require_parameters) {
        return 0;
    }

    used = req->controls->params_used
           | (req->needs_tools ? AIROUTER_PARAM_BIT(TOOLS) : 0);

    have = m->params_known ? m->params : 0;

    /* a model stated to call tools takes the tool parameters */
    if ((m->caps_known & AIROUTER_CAP_TOOLS) && (m->caps & AIROUTER_CAP_TOOLS))
    {
        have |= AIROUTER_PARAM_BIT(TOOLS) | AIROUTER_PARAM_BIT(TOOL_CHOICE)
                | AIROUTER_PARAM_BIT(PARALLEL_TOOL_CALLS);
    }

    return used & ~have;
}


static double
airouter_rank_hist_bound(size_t i)
{
    return 10.0 * pow(2.0, (double) i / 2);
}


void
airouter_rank_hist_add(float *hist, double ms)
{
    size_t  i, b;

    if (!(ms >= 0)) {
        return;
    }

    b = AIROUTER_RANK_HIST - 1;

    for (i = 0; i < AIROUTER_RANK_HIST - 1; i++) {
        if (ms <= airouter_rank_hist_bound(i)) {
            b = i;
            break;
        }
    }

    for (i = 0; i < AIROUTER_RANK_HIST; i++) {
        hist[i] *= AIROUTER_RANK_HIST_DECAY;
    }

    hist[b] += 1;
}


double
airouter_rank_hist_quantile(const float *hist, double q)
{
    size_t  i;
    double  total, cum, target, lo, hi;

    total = 0;

    for (i = 0; i < AIROUTER_RANK_HIST; i++) {
        total += hist[i];
    }

    if (!(total > 0)) {
        return -1;
    }

    target = q * total;
    cum = 0;

    for (i = 0; i < AIROUTER_RANK_HIST; i++) {
        if (hist[i] > 0 && cum + hist[i] >= target) {
            break;
        }

        cum += hist[i];
    }

    if (i == AIROUTER_RANK_HIST) {
        i = AIROUTER_RANK_HIST - 1;
    }

    /* linear inside the bucket; the open last one is read as one more */
    lo = i ? airouter_rank_hist_bound(i - 1) : 0;
    hi = airouter_rank_hist_bound(i);

    return lo + (hi - lo) * ((target - cum) / hist[i]);
}


void
airouter_live_filter(airouter_live_t *live, airouter_live_filter_t *f,
    airouter_live_keep_pt keep, void *data)
{
    f->inner = *live;
    f->keep = keep;
    f->data = data;

    /* what the wrapped view leaves to the defaults, the filter does too */
    live->speed = f->inner.speed ? airouter_live_filter_speed : NULL;
    live->reliability = f->inner.reliability
                        ? airouter_live_filter_reliability : NULL;
    live->measure = f->inner.measure ? airouter_live_filter_measure : NULL;
    live->reachable = f->inner.reachable ? airouter_live_filter_reachable
                                         : NULL;
    live->known = f->inner.known ? airouter_live_filter_known : NULL;
    live->available = airouter_live_filter_available;
    live->ctx = f;
}


static int
airouter_live_filter_known(void *ctx, uint32_t channel, uint32_t model)
{
    airouter_live_filter_t *f = ctx;

    return f->inner.known(f->inner.ctx, channel, model);
}


static double
airouter_live_filter_speed(void *ctx, uint32_t channel, uint32_t model)
{
    airouter_live_filter_t *f = ctx;

    return f->inner.speed(f->inner.ctx, channel, model);
}


static double
airouter_live_filter_reliability(void *ctx, uint32_t channel,
    uint32_t model)
{
    airouter_live_filter_t *f = ctx;

    return f->inner.reliability(f->inner.ctx, channel, model);
}


static int
airouter_live_filter_measure(void *ctx, uint32_t channel, uint32_t model,
    airouter_live_measure_t *m)
{
    airouter_live_filter_t *f = ctx;

    return f->inner.measure(f->inner.ctx, channel, model, m);
}


static int
airouter_live_filter_reachable(void *ctx, uint32_t channel)
{
    airouter_live_filter_t *f = ctx;

    return f->inner.reachable(f->inner.ctx, channel);
}


static int
airouter_live_filter_available(void *ctx, uint32_t channel, uint32_t model)
{
    airouter_live_filter_t *f = ctx;

    if (!f->keep(f->data, channel, model)) {
        return 0;
    }

    return f->inner.available
           ? f->inner.available(f->inner.ctx, channel, model) : 1;
}
