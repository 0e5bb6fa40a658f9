/*
 * Ranking and routing (airouter_rank.c, airouter_quality.c): the order of
 * every built-in strategy on a fixed catalogue, each filter, tie-breaking,
 * live state and the filters that wrap it, the bounded candidate list,
 * explain output and statuses.
 */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "airouter_catalog.h"
#include "airouter_quality.h"
#include "airouter_rank.h"
#include "unit.h"


/* The seed's six strategies, as the config loader fills them. */
static void
set_strategies(airouter_config_t *cf)
{
    size_t                i;
    airouter_strategy_t  *st;
    static const struct {
        const char        *name;
        size_t             n;
        airouter_weight_t  w[5];
    } seed[] = {
        { "cost_first", 4, { { AIROUTER_SCORE_COST, 0.4, 1 },
                             { AIROUTER_SCORE_PARAMETER, 0.25, 1 },
                             { AIROUTER_SCORE_CONTEXT, 0.2, 1 },
                             { AIROUTER_SCORE_SPEED, 0.15, 1 } } },
        { "free_first", 4, { { AIROUTER_SCORE_FREE, 0.5, 1 },
                             { AIROUTER_SCORE_COST, 0.3, 1 },
                             { AIROUTER_SCORE_SPEED, 0.15, 1 },
                             { AIROUTER_SCORE_RELIABILITY, 0.05, 1 } } },
        { "local_first", 4, { { AIROUTER_SCORE_LOCAL, 0.6, 1 },
                              { AIROUTER_SCORE_SPEED, 0.25, 1 },
                              { AIROUTER_SCORE_COST, 0.1, 1 },
                              { AIROUTER_SCORE_RELIABILITY, 0.05, 1 } } },
        { "balanced", 5, { { AIROUTER_SCORE_COST, 0.3, 1 },
                           { AIROUTER_SCORE_PARAMETER, 0.25, 1 },
                           { AIROUTER_SCORE_CONTEXT, 0.2, 1 },
                           { AIROUTER_SCORE_SPEED, 0.15, 1 },
                           { AIROUTER_SCORE_RELIABILITY, 0.1, 1 } } },
        { "speed_optimized", 4, { { AIROUTER_SCORE_SPEED, 0.4, 1 },
                                  { AIROUTER_SCORE_COST, 0.3, 1 },
                                  { AIROUTER_SCORE_PARAMETER, 0.2, 1 },
                                  { AIROUTER_SCORE_CONTEXT, 0.1, 1 } } },
        { "quality_optimized", 4, { { AIROUTER_SCORE_PARAMETER, 0.4, 1 },
                                    { AIROUTER_SCORE_CONTEXT, 0.3, 1 },
                                    { AIROUTER_SCORE_QUALITY, 0.2, 1 },
                                    { AIROUTER_SCORE_COST, 0.1, 1 } } },
        { "smallest", 1, { { AIROUTER_SCORE_PARAMETER, 1.0, 0 } } }
    };

    cf->routing.nstrategies = sizeof(seed) / sizeof(seed[0]);
    cf->routing.strategies = unit_alloc(cf->routing.nstrategies
                                    * sizeof(airouter_strategy_t));

    for (i = 0; i < cf->routing.nstrategies; i++) {
        st = &cf->routing.strategies[i];
        st->name = (char *) seed[i].name;
        st->builtin = (i < 6);
        st->nweights = seed[i].n;
        st->weights = unit_alloc(seed[i].n * sizeof(airouter_weight_t));
        memcpy(st->weights, seed[i].w, seed[i].n * sizeof(airouter_weight_t));
    }

    cf->routing.default_strategy = "cost_first";
}


static airouter_config_t *
make_config(size_t n)
{
    size_t              i;
    airouter_config_t  *cf;

    cf = unit_config(n);

    for (i = 0; i < n; i++) {
        cf->channels[i].priority = 1;
    }

    set_strategies(cf);

    return cf;
}


static void
add(airouter_catalog_builder_t *b, uint32_t ch, const char *id,
    double in, double out, uint64_t ctx, uint32_t caps, uint32_t known)
{
    airouter_model_info_t  info;

    memset(&info, 0, sizeof(info));
    info.id = id;

    if (in >= 0) {
        info.has_price = 1;
        info.price_prompt = in;
        info.price_completion = out;
    }

    info.context = ctx;
    info.caps = caps;
    info.caps_known = known;

    UNIT_CHECK(airouter_catalog_builder_add_model(b, ch, &info) == 0,
               "add %s", id);
}


static const airouter_catalog_t *
finish(airouter_catalog_builder_t *b)
{
    void    *blob;
    size_t   len;

    blob = airouter_catalog_builder_finish(b, &len);
    airouter_catalog_builder_destroy(b);
    unit_keep(blob);

    return airouter_catalog_open(blob, len);
}


/* Routes and returns the candidates' ids, best first, comma-separated. */
static const char *
order(const airouter_catalog_t *cat, const airouter_config_t *cf,
    airouter_route_req_t *req, const airouter_live_t *live,
    airouter_route_result_t *res)
{
    static char            buf[4096];
    static airouter_candidate_t  cand[64];
    size_t                 i, used;

    if (res->cand == NULL) {
        res->cand = cand;
        res->cand_max = 64;
    }

    if (req->model_len == 0 && req->model != NULL) {
        req->model_len = strlen(req->model);
    }

    airouter_route(cat, cf, req, live, res);

    used = 0;
    buf[0] = '\0';

    for (i = 0; i < res->ncand; i++) {
        used += snprintf(buf + used, sizeof(buf) - used, "%s%s",
                         i ? "," : "", res->cand[i].id);
    }

    return buf;
}


static const char *
route_with(const airouter_catalog_t *cat, const airouter_config_t *cf,
    const char *model, const char *strategy, const airouter_live_t *live)
{
    airouter_route_req_t     req;
    airouter_route_result_t  res;

    memset(&req, 0, sizeof(req));
    memset(&res, 0, sizeof(res));
    req.model = model;
    req.strategy = strategy;

    return order(cat, cf, &req, live, &res);
}


static const airouter_catalog_t *
strategy_catalog(airouter_config_t **cfp)
{
    airouter_config_t           *cf;
    airouter_catalog_builder_t  *b;

    cf = make_config(3);
    cf->channels[1].priority = 2;
    cf->channels[2].priority = 3;
    cf->channels[2].local = 1;

    b = airouter_catalog_builder_create(cf);
    add(b, 0, "openai/gpt-4o", 0.0000025, 0.00001, 128000, 0, 0);
    add(b, 0, "qwen/qwen3-235b-a22b", 0.00000013, 0.0000006, 40960, 0, 0);
    add(b, 0, "meta-llama/llama-3.1-8b-instruct", 0.00000002, 0.00000003,
        131072, 0, 0);
    add(b, 1, "qwen/qwen3-coder:free", 0, 0, 262144, 0, 0);
    add(b, 1, "qwen/qwen3-4b:free", 0, 0, 40960, 0, 0);
    add(b, 2, "qwen3:0.6b", -1, 0, 0, 0, 0);
    add(b, 2, "qwen3:30b-a3b", -1, 0, 0, 0, 0);

    *cfp = cf;

    return finish(b);
}


static double
speed_local_fast(void *ctx, uint32_t channel, uint32_t model)
{
    (void) ctx;
    (void) model;

    return channel == 2 ? 1.0 : 0.0;
}


static void
test_strategies(void)
{
    airouter_config_t          *cf;
    airouter_live_t             live;
    const airouter_catalog_t   *cat;

    cat = strategy_catalog(&cf);
    UNIT_CHECK(cat != NULL, "catalogue");

    UNIT_STREQ(route_with(cat, cf, "tag:!none", "cost_first", NULL),
               "qwen/qwen3-coder:free,meta-llama/llama-3.1-8b-instruct,"
               "qwen/qwen3-4b:free,qwen/qwen3-235b-a22b,qwen3:30b-a3b,"
               "qwen3:0.6b,openai/gpt-4o");
    UNIT_STREQ(route_with(cat, cf, "tag:!none", NULL, NULL),
               "qwen/qwen3-coder:free,meta-llama/llama-3.1-8b-instruct,"
               "qwen/qwen3-4b:free,qwen/qwen3-235b-a22b,qwen3:30b-a3b,"
               "qwen3:0.6b,openai/gpt-4o");
    UNIT_STREQ(route_with(cat, cf, "tag:!none", "free_first", NULL),
               "qwen/qwen3-4b:free,qwen/qwen3-coder:free,"
               "meta-llama/llama-3.1-8b-instruct,qwen3:0.6b,qwen3:30b-a3b,"
               "qwen/qwen3-235b-a22b,openai/gpt-4o");
    UNIT_STREQ(route_with(cat, cf, "tag:!none", "local_first", NULL),
               "qwen3:0.6b,qwen3:30b-a3b,qwen/qwen3-4b:free,"
               "qwen/qwen3-coder:free,meta-llama/llama-3.1-8b-instruct,"
               "qwen/qwen3-235b-a22b,openai/gpt-4o");
    UNIT_STREQ(route_with(cat, cf, "tag:!none", "balanced", NULL),
               "qwen/qwen3-coder:free,meta-llama/llama-3.1-8b-instruct,"
               "qwen/qwen3-4b:free,qwen/qwen3-235b-a22b,qwen3:30b-a3b,"
               "qwen3:0.6b,openai/gpt-4o");
    UNIT_STREQ(route_with(cat, cf, "tag:!none", "speed_optimized", NULL),
               "qwen/qwen3-coder:free,meta-llama/llama-3.1-8b-instruct,"
               "qwen/qwen3-4b:free,qwen/qwen3-235b-a22b,qwen3:30b-a3b,"
               "qwen3:0.6b,openai/gpt-4o");
    UNIT_STREQ(route_with(cat, cf, "tag:!none", "quality_optimized", NULL),
               "qwen/qwen3-coder:free,qwen/qwen3-235b-a22b,openai/gpt-4o,"
               "meta-llama/llama-3.1-8b-instruct,qwen3:30b-a3b,"
               "qwen/qwen3-4b:free,qwen3:0.6b");

    /* "order: asc": lower raw score first; unknown sizes sit mid-way */
    UNIT_STREQ(route_with(cat, cf, "tag:!none", "smallest", NULL),
               "qwen3:0.6b,qwen/qwen3-4b:free,"
               "meta-llama/llama-3.1-8b-instruct,openai/gpt-4o,"
               "qwen/qwen3-coder:free,qwen3:30b-a3b,qwen/qwen3-235b-a22b");

    /* live speed moves speed_optimized */
    memset(&live, 0, sizeof(live));
    live.speed = speed_local_fast;
    UNIT_STREQ(route_with(cat, cf, "tag:!none", "speed_optimized", &live),
               "qwen3:30b-a3b,qwen3:0.6b,qwen/qwen3-coder:free,"
               "meta-llama/llama-3.1-8b-instruct,qwen/qwen3-4b:free,"
               "qwen/qwen3-235b-a22b,openai/gpt-4o");
    /* ... and does nothing to a strategy that does not weigh speed */
    UNIT_STREQ(route_with(cat, cf, "tag:!none", "quality_optimized", &live),
               "qwen/qwen3-coder:free,qwen/qwen3-235b-a22b,openai/gpt-4o,"
               "meta-llama/llama-3.1-8b-instruct,qwen3:30b-a3b,"
               "qwen/qwen3-4b:free,qwen3:0.6b");
}


static void
test_scores(void)
{
    double                      q[8];
    airouter_config_t          *cf;
    airouter_route_req_t        req;
    airouter_route_result_t     res;
    const airouter_catalog_t   *cat;
    const airouter_candidate_t *c;
    size_t                      i;

    /* quality: the order, and sizes all told apart */
    q[0] = airouter_quality_score("qwen/qwen3-coder:free", 21, 0, 0);
    q[1] = airouter_quality_score("qwen/qwen3-30b-a3b", 18, 30000, 3000);
    q[2] = airouter_quality_score("qwen/qwen3-8b", 13, 8000, 8000);
    q[3] = airouter_quality_score("qwen/qwen3-4b", 13, 4000, 4000);
    UNIT_CHECK(q[0] > q[1] && q[1] > q[2] && q[2] > q[3],
               "coder %g > 30b %g > 8b %g > 4b %g", q[0], q[1], q[2], q[3]);

    q[0] = airouter_quality_score("qwen3-0.6b", 10, 600, 600);
    q[1] = airouter_quality_score("qwen3-1.7b", 10, 1700, 1700);
    q[2] = airouter_quality_score("qwen3-4b", 8, 4000, 4000);
    q[3] = airouter_quality_score("qwen3-8b", 8, 8000, 8000);
    q[4] = airouter_quality_score("qwen3-14b", 9, 14000, 14000);
    q[5] = airouter_quality_score("qwen3-32b", 9, 32000, 32000);
    q[6] = airouter_quality_score("qwen3-235b-a22b", 15, 235000, 22000);
    for (i = 1; i < 7; i++) {
        UNIT_CHECK(q[i] > q[i - 1] + 0.01, "size step %zu: %g %g", i,
                   q[i - 1], q[i]);
    }

    UNIT_CHECK(airouter_quality_score("deepseek/deepseek-r1", 20, 0, 0)
               > 0.85, "family");
    UNIT_CHECK(airouter_quality_score("deepseek-r1-distill-qwen-7b", 27,
                                      7000, 7000) < 0.5, "distill by size");
    UNIT_CHECK(airouter_quality_score("openai/gpt-4o-mini", 18, 0, 0)
               < airouter_quality_score("openai/gpt-4o-2024-08-06", 24, 0, 0),
               "mini below gpt-4o");
    UNIT_CHECK(airouter_quality_score("mystery", 7, 0, 0)
               == AIROUTER_QUALITY_UNKNOWN, "unknown");

    /* normalisations */
    UNIT_CHECK(airouter_quality_param_score(500) == 0, "0.5B low");
    UNIT_CHECK(airouter_quality_param_score(1000000) == 1, "1T");
    UNIT_CHECK(airouter_quality_param_score(0) == 0.5, "unknown");
    UNIT_CHECK(airouter_quality_context_score(4096) == 0, "4k low");
    UNIT_CHECK(airouter_quality_context_score(2000000) == 1, "1M+");
    UNIT_CHECK(airouter_quality_context_score(0) == 0.5, "unknown");
    UNIT_CHECK(fabs(airouter_quality_effective_params(30000, 3000)
                    - sqrt(90000000.0)) < 1e-6, "MoE blend");
    UNIT_CHECK(airouter_rank_cost_score(0.01, -5, -2) == 0, "dearest");
    UNIT_CHECK(airouter_rank_cost_score(0.00001, -5, -2)
               == AIROUTER_RANK_PAID_MAX, "cheapest paid");
    UNIT_CHECK(fabs(airouter_rank_cost_score(0.0001, -5, -2)
                    - AIROUTER_RANK_PAID_MAX * 2.0 / 3) < 1e-9, "log scale");
    UNIT_CHECK(airouter_rank_cost_score(0.01, -2, -2)
               == AIROUTER_RANK_PAID_MAX, "one price");
    UNIT_CHECK(airouter_rank_cost_score(0, -5, -2) == 1, "free");

    /* the component scores a candidate reports */
    cat = strategy_catalog(&cf);
    memset(&req, 0, sizeof(req));
    memset(&res, 0, sizeof(res));
    req.model = "tag:!none";
    req.strategy = "balanced";
    order(cat, cf, &req, NULL, &res);
    UNIT_CHECK(res.status == AIROUTER_ROUTE_OK && res.ncand == 7, "routed");

    for (i = 0; i < res.ncand; i++) {
        double  sum;

        c = &res.cand[i];
        sum = 0.3 * c->scores[AIROUTER_SCORE_COST]
              + 0.25 * c->scores[AIROUTER_SCORE_PARAMETER]
              + 0.2 * c->scores[AIROUTER_SCORE_CONTEXT]
              + 0.15 * c->scores[AIROUTER_SCORE_SPEED]
              + 0.1 * c->scores[AIROUTER_SCORE_RELIABILITY];
        UNIT_CHECK(fabs(sum - c->score) < 1e-9, "score is the sum");
        UNIT_CHECK(c->scores[AIROUTER_SCORE_SPEED] == 0.5
                   && c->scores[AIROUTER_SCORE_RELIABILITY] == 0.5,
                   "neutral live");

        if (strcmp(c->id, "openai/gpt-4o") == 0) {
            UNIT_CHECK(c->scores[AIROUTER_SCORE_COST] == 0, "dearest 0");
        } else if (strcmp(c->id, "meta-llama/llama-3.1-8b-instruct") == 0) {
            UNIT_CHECK(c->scores[AIROUTER_SCORE_COST]
                       == AIROUTER_RANK_PAID_MAX, "cheapest paid");
        } else if (strcmp(c->id, "qwen3:0.6b") == 0) {
            UNIT_CHECK(c->scores[AIROUTER_SCORE_COST] == 0.5
                       && c->scores[AIROUTER_SCORE_LOCAL] == 1
                       && c->scores[AIROUTER_SCORE_FREE] == 0
                       && c->scores[AIROUTER_SCORE_CONTEXT] == 0.5,
                       "unknown price and context: middle");
        } else if (strcmp(c->id, "qwen/qwen3-4b:free") == 0) {
            UNIT_CHECK(c->scores[AIROUTER_SCORE_COST] == 1
                       && c->scores[AIROUTER_SCORE_FREE] == 1, "free");
        }
    }
}


static double
rel_by_channel(void *ctx, uint32_t channel, uint32_t model)
{
    (void) ctx;
    (void) model;

    return channel == 0 ? 0.0 : 1.0;
}


static void
test_ties(void)
{
    airouter_config_t           *cf;
    airouter_live_t              live;
    airouter_route_req_t         req;
    airouter_route_result_t      res;
    airouter_candidate_t         cand[2];
    airouter_catalog_builder_t  *b;
    const airouter_catalog_t    *cat;
    uint32_t                     i;

    /* one model on five channels */
    cf = make_config(5);
    cf->channels[0].priority = 2;
    cf->channels[1].weight = 50;
    cf->channels[2].weight = 80;
    cf->channels[3].weight = 80;
    cf->channels[4].weight = 80;

    b = airouter_catalog_builder_create(cf);
    for (i = 0; i < 5; i++) {
        add(b, i, "gpt-4o-mini", 0.00000015, 0.0000006, 128000, 0, 0);
    }
    cat = finish(b);

    /* priority, then weight, then channel position */
    memset(&req, 0, sizeof(req));
    memset(&res, 0, sizeof(res));
    req.model = "gpt-4o-mini";
    order(cat, cf, &req, NULL, &res);
    UNIT_CHECK(res.ncand == 5 && res.cand[0].channel == 2
               && res.cand[1].channel == 3 && res.cand[2].channel == 4
               && res.cand[3].channel == 1 && res.cand[4].channel == 0,
               "tie order %u %u %u %u %u", res.cand[0].channel,
               res.cand[1].channel, res.cand[2].channel, res.cand[3].channel,
               res.cand[4].channel);

    /* a score gap beyond the epsilon beats priority */
    memset(&live, 0, sizeof(live));
    live.reliability = rel_by_channel;
    memset(&res, 0, sizeof(res));
    req.strategy = "balanced";
    order(cat, cf, &req, &live, &res);
    UNIT_CHECK(res.ncand == 5 && res.cand[4].channel == 0, "score first");

    /* the best N are the first N of the full order */
    memset(&res, 0, sizeof(res));
    res.cand = cand;
    res.cand_max = 2;
    req.strategy = NULL;
    order(cat, cf, &req, NULL, &res);
    UNIT_CHECK(res.ncand == 2 && res.navailable == 5
               && cand[0].channel == 2 && cand[1].channel == 3, "top 2");

    /* no candidate array: counts only */
    memset(&res, 0, sizeof(res));
    res.cand = cand;
    res.cand_max = 0;
    airouter_route(cat, cf, &req, NULL, &res);
    UNIT_CHECK(res.status == AIROUTER_ROUTE_OK && res.ncand == 0
               && res.navailable == 5, "count only");
}


static int
unavailable_ch1(void *ctx, uint32_t channel, uint32_t model)
{
    (void) model;
    (*(int *) ctx)++;

    return channel != 1;
}


static int
unreachable_ch0(void *ctx, uint32_t channel)
{
    (void) ctx;

    return channel != 0;
}


static const airouter_catalog_t *
filter_catalog(airouter_config_t **cfp)
{
    airouter_config_t           *cf;
    airouter_catalog_builder_t  *b;

    cf = make_config(3);
    cf->channels[1].enabled = 0;
    cf->routing.filters.min_context_length = 8192;
    cf->routing.filters.min_parameter_count = 1000;
    cf->routing.filters.exclude_embedding_models = 1;
    cf->routing.filters.exclude_vision_only_models = 1;

    b = airouter_catalog_builder_create(cf);
    add(b, 0, "text-embedding-3-small", -1, 0, 8191, 0, 0);
    add(b, 0, "llava:7b", -1, 0, 0, 0, 0);
    add(b, 0, "gpt-4o", -1, 0, 128000,
        AIROUTER_CAP_CHAT | AIROUTER_CAP_VISION | AIROUTER_CAP_TOOLS,
        AIROUTER_CAP_KIND | AIROUTER_CAP_VISION | AIROUTER_CAP_TOOLS);
    add(b, 0, "short-context", -1, 0, 4096, 0, 0);
    add(b, 0, "qwen3-0.6b", -1, 0, 32768, 0, 0);
    add(b, 0, "no-tools-8b", -1, 0, 32768, 0, AIROUTER_CAP_TOOLS);
    add(b, 0, "mystery", -1, 0, 0, 0, 0);
    add(b, 0, "whisper-1", -1, 0, 0, 0, 0);
    add(b, 1, "gpt-4o", -1, 0, 128000, 0, 0);
    add(b, 2, "gpt-4o-mini", -1, 0, 128000, 0, 0);

    *cfp = cf;

    return finish(b);
}


static void
test_filters(void)
{
    int                         calls;
    size_t                      i;
    airouter_config_t          *cf;
    airouter_live_t             live;
    airouter_strlist_t          allowed;
    airouter_removed_t          removed[16];
    airouter_route_req_t        req;
    airouter_route_result_t     res;
    const airouter_catalog_t   *cat;
    char                       *items[3];

    cat = filter_catalog(&cf);
    UNIT_CHECK(cat != NULL, "catalogue");

#define ROUTE()                                                               \
    memset(&res, 0, sizeof(res));                                             \
    res.removed = removed;                                                    \
    res.removed_max = 16

    memset(&req, 0, sizeof(req));
    req.model = "tag:!none";
    req.explain = 1;

    /* chat: only chat models, model_filters applied, unknowns kept */
    ROUTE();
    UNIT_STREQ(order(cat, cf, &req, NULL, &res),
               "gpt-4o,gpt-4o-mini,mystery,no-tools-8b");
    UNIT_CHECK(res.nmatched == 10 && res.navailable == 4, "counts");
    UNIT_CHECK(res.filtered[AIROUTER_FILTER_KIND] == 2
               && res.filtered[AIROUTER_FILTER_DISABLED] == 1
               && res.filtered[AIROUTER_FILTER_VISION_ONLY] == 1
               && res.filtered[AIROUTER_FILTER_MIN_CONTEXT] == 1
               && res.filtered[AIROUTER_FILTER_MIN_PARAMS] == 1,
               "filter counts");
    UNIT_CHECK(res.nremoved == 6, "explain lists every removal");
    for (i = 0; i < res.nremoved; i++) {
        const char  *id;

        id = airouter_catalog_model_id(cat,
                 airouter_catalog_model(cat, removed[i].model));

        if (strcmp(id, "llava:7b") == 0) {
            UNIT_CHECK(removed[i].reason == AIROUTER_FILTER_VISION_ONLY,
                       "llava reason");
        } else if (strcmp(id, "gpt-4o") == 0) {
            UNIT_CHECK(removed[i].reason == AIROUTER_FILTER_DISABLED
                       && removed[i].channel == 1, "disabled channel");
        } else if (strcmp(id, "qwen3-0.6b") == 0) {
            UNIT_CHECK(removed[i].reason == AIROUTER_FILTER_MIN_PARAMS,
                       "min params");
        }
    }
    UNIT_STREQ(airouter_route_filter_name(AIROUTER_FILTER_MIN_PARAMS),
               "min_parameter_count");

    /* a short removed[] keeps counting */
    ROUTE();
    res.removed_max = 2;
    order(cat, cf, &req, NULL, &res);
    UNIT_CHECK(res.nremoved == 2 && res.filtered[AIROUTER_FILTER_KIND] == 2,
               "removed_max");

    /* images: vision models only, and then llava is welcome */
    req.needs_vision = 1;
    ROUTE();
    UNIT_STREQ(order(cat, cf, &req, NULL, &res),
               "gpt-4o,gpt-4o-mini,llava:7b");
    UNIT_CHECK(res.filtered[AIROUTER_FILTER_VISION] == 2
               && res.filtered[AIROUTER_FILTER_VISION_ONLY] == 0, "vision");
    req.needs_vision = 0;

    /* tools: stated "no" is removed, unknown is kept */
    req.needs_tools = 1;
    ROUTE();
    UNIT_STREQ(order(cat, cf, &req, NULL, &res),
               "gpt-4o,gpt-4o-mini,mystery");
    UNIT_CHECK(res.filtered[AIROUTER_FILTER_TOOLS] == 1, "tools");
    req.needs_tools = 0;

    /* prompt + max_tokens against known contexts */
    req.prompt_tokens = 30000;
    req.max_tokens = 4000;
    ROUTE();
    UNIT_STREQ(order(cat, cf, &req, NULL, &res),
               "gpt-4o,gpt-4o-mini,mystery");
    UNIT_CHECK(res.filtered[AIROUTER_FILTER_CONTEXT] == 1, "context");
    req.prompt_tokens = 0;
    req.max_tokens = 0;

    /* embeddings endpoint: embedding models only, min filters do not apply */
    req.endpoint = AIROUTER_ENDPOINT_EMBEDDING;
    ROUTE();
    UNIT_STREQ(order(cat, cf, &req, NULL, &res), "text-embedding-3-small");
    req.endpoint = AIROUTER_ENDPOINT_ANY;
    ROUTE();
    order(cat, cf, &req, NULL, &res);
    UNIT_CHECK(res.filtered[AIROUTER_FILTER_EMBEDDING] == 1
               && res.filtered[AIROUTER_FILTER_KIND] == 0, "any endpoint");
    req.endpoint = AIROUTER_ENDPOINT_CHAT;

    /* live availability, asked once per entry that passed the rest */
    memset(&live, 0, sizeof(live));
    live.available = unavailable_ch1;
    live.ctx = &calls;
    calls = 0;
    cf->channels[1].enabled = 1;
    ROUTE();
    /* the catalogue copied "disabled" at build time */
    UNIT_STREQ(order(cat, cf, &req, &live, &res),
               "gpt-4o,gpt-4o-mini,mystery,no-tools-8b");
    UNIT_CHECK(calls == 4, "available() calls %d", calls);

    /* a channel without an address: counted as such, before availability */
    live.reachable = unreachable_ch0;
    calls = 0;
    UNIT_STREQ(order(cat, cf, &req, &live, &res), "gpt-4o-mini");
    UNIT_CHECK(res.filtered[AIROUTER_FILTER_UNRESOLVED] == 3
               && res.navailable == 1, "unresolved %zu, available %zu",
               res.filtered[AIROUTER_FILTER_UNRESOLVED], res.navailable);
    UNIT_CHECK(calls == 1, "available() asked after reachable(): %d", calls);
    UNIT_STREQ(airouter_route_filter_name(AIROUTER_FILTER_UNRESOLVED),
               "host_unresolved");
    live.reachable = NULL;
    cf->channels[1].enabled = 0;

    /* the API key's allowed models and tags */
    allowed.items = items;
    allowed.n = 2;
    items[0] = "GPT-4O";
    items[1] = "myst*";
    req.allowed_models = &allowed;
    ROUTE();
    UNIT_STREQ(order(cat, cf, &req, NULL, &res), "gpt-4o,mystery");
    UNIT_CHECK(res.filtered[AIROUTER_FILTER_KEY] == 7, "key models %zu",
               res.filtered[AIROUTER_FILTER_KEY]);
    req.allowed_models = NULL;

    items[0] = "mini";
    items[1] = "nosuchtag";
    req.allowed_tags = &allowed;
    ROUTE();
    UNIT_STREQ(order(cat, cf, &req, NULL, &res), "gpt-4o-mini");
    items[0] = "nosuchtag";
    ROUTE();
    order(cat, cf, &req, NULL, &res);
    UNIT_CHECK(res.status == AIROUTER_ROUTE_ALL_FILTERED
               && res.filtered[AIROUTER_FILTER_KEY] == 10,
               "key allows nothing");
    req.allowed_tags = NULL;

    /* every candidate filtered */
    req.model = "short-context";
    req.model_len = 0;
    ROUTE();
    order(cat, cf, &req, NULL, &res);
    UNIT_CHECK(res.status == AIROUTER_ROUTE_ALL_FILTERED
               && res.stage == AIROUTER_STAGE_PHYSICAL && res.nmatched == 1
               && res.filtered[AIROUTER_FILTER_MIN_CONTEXT] == 1,
               "all filtered");

#undef ROUTE
}


/*
 * Each endpoint picks models of its own kind only: a tag query on rerank
 * finds rerankers, chat never lands on a reranker, whatever the query.
 */
static void
test_endpoint_kinds(void)
{
    size_t                       i;
    airouter_config_t           *cf;
    airouter_route_req_t         req;
    airouter_route_result_t      res;
    airouter_catalog_builder_t  *b;
    const airouter_catalog_t    *cat;

    static const struct {
        airouter_endpoint_e   endpoint;
        const char           *model;
        const char           *want;
    } cases[] = {
        { AIROUTER_ENDPOINT_CHAT, "tag:!none", "qwen3-8b:free" },
        { AIROUTER_ENDPOINT_COMPLETION, "tag:!none", "qwen3-8b:free" },
        { AIROUTER_ENDPOINT_EMBEDDING, "tag:!none", "bge-m3" },
        { AIROUTER_ENDPOINT_RERANK, "tag:!none",
          "bge-reranker-v2-m3:free,jina-reranker-v2" },
        { AIROUTER_ENDPOINT_RERANK, "tag:free", "bge-reranker-v2-m3:free" },
        { AIROUTER_ENDPOINT_IMAGE, "tag:!none", "dall-e-3" },
        { AIROUTER_ENDPOINT_SPEECH, "tag:!none", "tts-1" },
        { AIROUTER_ENDPOINT_TRANSCRIPTION, "tag:!none", "whisper-1" },
        { AIROUTER_ENDPOINT_MODERATION, "tag:!none",
          "omni-moderation-latest" },
        { AIROUTER_ENDPOINT_CHAT, "tag:free", "qwen3-8b:free" },
        { AIROUTER_ENDPOINT_CHAT, "bge-reranker-v2-m3:free", "" },
        { AIROUTER_ENDPOINT_TRANSCRIPTION, "tts-1", "" }
    };

    cf = make_config(1);
    b = airouter_catalog_builder_create(cf);
    add(b, 0, "qwen3-8b:free", 0, 0, 32768, 0, 0);
    add(b, 0, "bge-m3", -1, 0, 0, 0, 0);
    add(b, 0, "bge-reranker-v2-m3:free", 0, 0, 0, 0, 0);
    add(b, 0, "jina-reranker-v2", 0.00000002, 0, 0, 0, 0);
    add(b, 0, "dall-e-3", -1, 0, 0, 0, 0);
    add(b, 0, "tts-1", -1, 0, 0, 0, 0);
    add(b, 0, "whisper-1", -1, 0, 0, 0, 0);
    add(b, 0, "omni-moderation-latest", -1, 0, 0, 0, 0);
    cat = finish(b);
    UNIT_CHECK(cat != NULL, "catalogue");

    for (i = 0; cat != NULL && i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&req, 0, sizeof(req));
        memset(&res, 0, sizeof(res));
        req.model = cases[i].model;
        req.endpoint = cases[i].endpoint;
        UNIT_STREQ(order(cat, cf, &req, NULL, &res), cases[i].want);

        if (cases[i].want[0] == '\0') {
            UNIT_CHECK(res.status == AIROUTER_ROUTE_ALL_FILTERED
                       && res.filtered[AIROUTER_FILTER_KIND] == 1,
                       "case %zu: matched, removed by kind", i);
        }
    }

    UNIT_CHECK(airouter_route_endpoint_kind(AIROUTER_ENDPOINT_ANY) == 0,
               "any: no kind");
    UNIT_CHECK(airouter_route_endpoint_kind(AIROUTER_ENDPOINT_TRANSCRIPTION)
               == AIROUTER_CAP_TRANSCRIPTION, "transcription kind");
}


static void
test_statuses(void)
{
    size_t                      i;
    airouter_config_t          *cf, other;
    airouter_route_req_t        req;
    airouter_route_result_t     res;
    const airouter_catalog_t   *cat;

    cat = strategy_catalog(&cf);
    memset(&req, 0, sizeof(req));

    memset(&res, 0, sizeof(res));
    req.model = "qwen3-235b-a22b-instruct";
    order(cat, cf, &req, NULL, &res);
    UNIT_CHECK(res.status == AIROUTER_ROUTE_NO_MATCH && res.nsimilar > 0
               && strcmp(res.similar[0].name, "qwen3-235b-a22b") == 0,
               "404 with hints");
    UNIT_STREQ(airouter_route_status_name(res.status), "no_match");

    memset(&res, 0, sizeof(res));
    req.model = "tag:qwen9";
    req.model_len = 0;
    order(cat, cf, &req, NULL, &res);
    UNIT_CHECK(res.status == AIROUTER_ROUTE_NO_MATCH && res.nsimilar == 2
               && res.similar[0].tag && res.similar[1].tag
               && strcmp(res.similar[0].name, "qwen") == 0
               && strcmp(res.similar[1].name, "qwen3") == 0, "tag 404");

    memset(&res, 0, sizeof(res));
    req.model = "tag:";
    req.model_len = 0;
    order(cat, cf, &req, NULL, &res);
    UNIT_CHECK(res.status == AIROUTER_ROUTE_BAD_QUERY && res.why != NULL,
               "tag: is a bad query");

    memset(&res, 0, sizeof(res));
    req.model = "";
    req.model_len = 0;
    order(cat, cf, &req, NULL, &res);
    UNIT_CHECK(res.status == AIROUTER_ROUTE_BAD_QUERY, "empty");

    memset(&res, 0, sizeof(res));
    req.model = "tag:!free";
    req.model_len = 0;
    UNIT_STREQ(order(cat, cf, &req, NULL, &res),
               "meta-llama/llama-3.1-8b-instruct,qwen/qwen3-235b-a22b,"
               "qwen3:30b-a3b,qwen3:0.6b,openai/gpt-4o");
    UNIT_CHECK(res.stage == AIROUTER_STAGE_TAG, "negatives only");

    memset(&res, 0, sizeof(res));
    req.model = "gpt-4o";
    req.model_len = 0;
    req.strategy = "fastest_please";
    order(cat, cf, &req, NULL, &res);
    UNIT_CHECK(res.status == AIROUTER_ROUTE_BAD_STRATEGY, "strategy");
    req.strategy = NULL;

    /* a catalogue built for another configuration */
    other = *cf;
    other.nchannels = 2;
    memset(&res, 0, sizeof(res));
    UNIT_CHECK(airouter_route(cat, &other, &req, NULL, &res)
               == AIROUTER_ROUTE_ERROR, "misfit");
    UNIT_CHECK(airouter_route(NULL, cf, &req, NULL, &res)
               == AIROUTER_ROUTE_ERROR, "no catalogue");

    /* the same request routes the same way */
    for (i = 0; i < 3; i++) {
        char  first[4096];

        memset(&res, 0, sizeof(res));
        req.model = "tag:qwen3";
        req.model_len = 0;
        strcpy(first, order(cat, cf, &req, NULL, &res));
        memset(&res, 0, sizeof(res));
        UNIT_STREQ(order(cat, cf, &req, NULL, &res), first);
    }
}


/*
 * The memo's path (#16): a synthetic catalogue of 12 channels and 480
 * entries; every query x strategy x cand_max x live state routed twice
 * with the memo (a miss, then a hit) must give exactly what the full path
 * gives: the same candidates, scores and status.
 */

static uint32_t
mix(uint32_t a, uint32_t b)
{
    uint32_t  h;

    h = a * 2654435761u ^ (b + 0x9e3779b9u + (a << 6) + (a >> 2));
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;

    return h;
}


static double
memo_speed(void *ctx, uint32_t channel, uint32_t model)
{
    (void) ctx;
    return (mix(channel, model) % 1000) / 999.0;
}


static double
memo_reliability(void *ctx, uint32_t channel, uint32_t model)
{
    (void) ctx;
    return (mix(model, channel + 7) % 1000) / 999.0;
}


static int
memo_available(void *ctx, uint32_t channel, uint32_t model)
{
    (void) ctx;
    return mix(channel + 3, model) % 5 != 0;
}


static int
memo_reachable(void *ctx, uint32_t channel)
{
    (void) ctx;
    return channel != 5;
}


static const airouter_catalog_t *
memo_catalog(airouter_config_t *cf, int extra)
{
    char                        *id;
    size_t                       i, c;
    airouter_catalog_builder_t  *b;
    static const char           *fam[] = { "qwen/qwen3-%zub", "meta/llama-3-%zub",
                                           "openai/gpt-4o-v%zu",
                                           "mistral/mixtral-%zux7b" };

    b = airouter_catalog_builder_create(cf);

    for (c = 0; c < 12; c++) {
        for (i = 0; i < 40; i++) {
            id = unit_alloc(64);
            snprintf(id, 64, fam[(c + i) % 4], (i * 7 + c) % 23 + 1);

            if ((i + c) % 3 == 0) {
                strcat(id, ":free");
            }

            add(b, (uint32_t) c, id,
                (i % 5 == 0) ? -1 : (i % 3 == 0 ? 0 : 1e-7 * (1 + i + c)),
                (i % 3 == 0) ? 0 : 2e-7 * (1 + i),
                (i % 4) ? 8192u << (i % 5) : 0,
                ((i % 7) ? AIROUTER_CAP_CHAT : AIROUTER_CAP_EMBEDDING)
                | (i % 6 == 0 ? AIROUTER_CAP_VISION : 0)
                | (i % 8 == 0 ? AIROUTER_CAP_TOOLS : 0),
                (i % 2) ? AIROUTER_CAP_TOOLS : 0);
        }
    }

    if (extra) {
        add(b, 11, "qwen/qwen3-999b:free", 0, 0, 1000000, AIROUTER_CAP_CHAT,
            0);
    }

    return finish(b);
}


static int
memo_same(const airouter_route_result_t *a, const airouter_route_result_t *b)
{
    size_t  i;

    if (a->status != b->status || a->ncand != b->ncand
        || a->stage != b->stage || a->nsimilar != b->nsimilar)
    {
        return 0;
    }

    for (i = 0; i < a->ncand; i++) {
        if (a->cand[i].model != b->cand[i].model
            || a->cand[i].channel != b->cand[i].channel
            || a->cand[i].score != b->cand[i].score
            || memcmp(a->cand[i].scores, b->cand[i].scores,
                      sizeof(a->cand[i].scores)) != 0)
        {
            return 0;
        }
    }

    for (i = 0; i < a->nsimilar; i++) {
        if (a->similar[i].name != b->similar[i].name) {
            return 0;
        }
    }

    if (a->status == AIROUTER_ROUTE_ALL_FILTERED) {
        return memcmp(a->filtered, b->filtered, sizeof(a->filtered)) == 0;
    }

    return 1;
}


static void
memo_route(const airouter_catalog_t *cat, airouter_config_t *cf,
    airouter_route_req_t *req, const airouter_live_t *live, size_t max,
    airouter_route_result_t *res, airouter_candidate_t *cand)
{
    memset(res, 0, sizeof(airouter_route_result_t));
    res->cand = cand;
    res->cand_max = max;
    airouter_route(cat, cf, req, live, res);
}


static void
test_memo(void)
{
    size_t                        q, st, k, l, r, bad, compared;
    airouter_live_t               lv, *live;
    airouter_config_t            *cf;
    airouter_strlist_t            tags, models, empty;
    airouter_route_req_t          req;
    airouter_candidate_t          ca[16], cb[16];
    airouter_route_memo_t        *memo;
    airouter_route_result_t       a, b;
    const airouter_catalog_t     *cat, *cat2;
    airouter_route_memo_stats_t   stats, before;
    static char                  *llama[] = { "llama" };
    static char                  *gpt[] = { "openai/gpt-4o*" };
    static const size_t           kmax[] = { 1, 3, 16 };
    static const char            *strategies[] = {
        "cost_first", "free_first", "local_first", "balanced",
        "speed_optimized", "quality_optimized", "smallest"
    };
    static const char            *queries[] = {
        "tag:qwen3", "tag:free", "tag:qwen3,free", "tag:!free", "tag:gpt",
        "qwen3-7b", "meta/llama-3-5b", "llama-free", "no-such-model",
        "tag:", "tag:qwen3,!free", "mixtral"
    };

    cf = make_config(12);
    cf->channels[3].priority = 0;
    cf->channels[4].weight = 300;
    cf->channels[6].enabled = 0;
    cf->channels[7].local = 1;
    cf->channels[8].free = 1;
    cf->routing.filters.exclude_embedding_models = 1;
    cf->routing.filters.min_context_length = 9000;

    cat = memo_catalog(cf, 0);
    UNIT_CHECK(cat != NULL, "memo catalogue");

    memo = airouter_route_memo_create();
    UNIT_CHECK(memo != NULL, "memo");

    memset(&lv, 0, sizeof(lv));
    lv.speed = memo_speed;
    lv.reliability = memo_reliability;
    lv.available = memo_available;
    lv.reachable = memo_reachable;

    tags.items = llama;
    tags.n = 1;
    models.items = gpt;
    models.n = 1;
    empty.items = NULL;
    empty.n = 0;

    bad = 0;
    compared = 0;

    for (q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
    for (st = 0; st < sizeof(strategies) / sizeof(strategies[0]); st++) {
    for (k = 0; k < 3; k++) {
    for (l = 0; l < 2; l++) {
    for (r = 0; r < 4; r++) {
        live = l ? &lv : NULL;

        memset(&req, 0, sizeof(req));
        req.model = queries[q];
        req.model_len = strlen(queries[q]);
        req.strategy = strategies[st];
        req.endpoint = AIROUTER_ENDPOINT_CHAT;
        req.needs_vision = (r == 2);
        req.needs_tools = (r == 3);
        req.prompt_tokens = (r == 1) ? 30000 : 100;
        req.allowed_tags = (r == 1) ? &tags : &empty;
        req.allowed_models = (r == 3) ? &models : NULL;

        memo_route(cat, cf, &req, live, kmax[k], &a, ca);

        req.memo = memo;
        req.generation = 1;
        memo_route(cat, cf, &req, live, kmax[k], &b, cb);

        if (!memo_same(&a, &b)) {
            bad++;
        }

        /* the second time from the memo */
        memo_route(cat, cf, &req, live, kmax[k], &b, cb);

        if (!memo_same(&a, &b)) {
            bad++;
        }

        compared += 2;
    }
    }
    }
    }
    }

    UNIT_CHECK(bad == 0, "%zu of %zu memo routes differ from the full path",
               bad, compared);

    airouter_route_memo_stats(memo, &stats);
    UNIT_CHECK(stats.hits > stats.misses && stats.misses > 0,
               "hits %llu misses %llu", (unsigned long long) stats.hits,
               (unsigned long long) stats.misses);

    /* live state only for a few of the set: 3 kept of tag:free's 264 */

    memset(&req, 0, sizeof(req));
    req.model = "tag:free";
    req.model_len = 8;
    req.strategy = "cost_first";
    req.memo = memo;
    req.generation = 1;

    airouter_route_memo_stats(memo, &before);
    memo_route(cat, cf, &req, &lv, 3, &b, cb);
    airouter_route_memo_stats(memo, &stats);

    UNIT_CHECK(b.status == AIROUTER_ROUTE_OK && b.ncand == 3,
               "tag:free routed: %d %zu", b.status, b.ncand);
    UNIT_CHECK(stats.walked - before.walked < b.nmatched / 2,
               "live state asked for %llu of %zu matches",
               (unsigned long long) (stats.walked - before.walked),
               b.nmatched);

    /* the key's ACL is part of the memo's key */

    req.model = "tag:qwen3";
    req.model_len = 9;
    req.allowed_tags = &tags;
    memo_route(cat, cf, &req, NULL, 16, &b, cb);
    UNIT_CHECK(b.status == AIROUTER_ROUTE_ALL_FILTERED
               && b.filtered[AIROUTER_FILTER_KEY] == b.nmatched,
               "qwen3 for a llama-only key: status %d", b.status);

    req.allowed_tags = NULL;
    memo_route(cat, cf, &req, NULL, 16, &b, cb);
    UNIT_CHECK(b.status == AIROUTER_ROUTE_OK && b.ncand > 0,
               "qwen3 for a key without ACL: status %d", b.status);

    req.allowed_tags = &tags;
    memo_route(cat, cf, &req, NULL, 16, &b, cb);
    UNIT_CHECK(b.status == AIROUTER_ROUTE_ALL_FILTERED,
               "qwen3 for a llama-only key again: status %d", b.status);

    /* a new generation is seen at once, with or without a new view */

    cat2 = memo_catalog(cf, 1);
    req.allowed_tags = NULL;
    req.model = "qwen3-999b";
    req.model_len = 10;
    memo_route(cat, cf, &req, NULL, 16, &b, cb);
    UNIT_CHECK(b.status == AIROUTER_ROUTE_NO_MATCH, "999b not there yet");

    req.generation = 2;
    memo_route(cat2, cf, &req, NULL, 16, &b, cb);
    UNIT_CHECK(b.status == AIROUTER_ROUTE_OK && b.ncand == 1,
               "999b in generation 2: status %d", b.status);

    airouter_route_memo_stats(memo, &before);
    req.generation = 3;
    memo_route(cat2, cf, &req, NULL, 16, &b, cb);
    airouter_route_memo_stats(memo, &stats);
    UNIT_CHECK(stats.resets == before.resets + 1
               && stats.misses == before.misses + 1,
               "generation 3 resets the memo");

    airouter_route_memo_destroy(memo);
}


/*
 * The memo's walk against the full path on random catalogues and random
 * live states (#16): channels with tied priorities and weights, models
 * offered by several channels at the same prices (ties of the static
 * scores), live state that knows some entries (scores from a few values,
 * 0.5 among them) and nothing of the others (neutral scores), some
 * entries unavailable, some channels unreachable; known() tells the walk
 * which, and live state changes between rounds with a new version.
 * Every route (a prep's miss, then its hit) must give what the full path
 * gives: candidates, scores, status, and the filter counts when nothing
 * is left.
 */

typedef struct {
    uint32_t                 seed;
    uint32_t                 round;
    int                      conservative;  /* known() says 1 for all */
    int                      lying;         /* known() says 0 for all */
} rand_live_t;


static uint32_t
rand_next(uint32_t *state)
{
    uint32_t  x;

    x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;

    return x;
}


static int
rand_live_knows(const rand_live_t *rl, uint32_t channel, uint32_t model)
{
    return mix(rl->seed + rl->round, model * 31 + channel) % 4 == 0;
}


static double
rand_live_score(const rand_live_t *rl, uint32_t channel, uint32_t model,
    uint32_t salt)
{
    static const double  values[] = { 0.5, 0, 1, 0.25, 0.75, 0.9, 0.5 };

    if (!rand_live_knows(rl, channel, model)) {
        return 0.5;
    }

    return values[mix(rl->seed ^ salt, model + rl->round * 7) % 7];
}


static double
rand_live_speed(void *ctx, uint32_t channel, uint32_t model)
{
    return rand_live_score(ctx, channel, model, 11);
}


static double
rand_live_reliability(void *ctx, uint32_t channel, uint32_t model)
{
    return rand_live_score(ctx, channel, model, 23);
}


static int
rand_live_measure(void *ctx, uint32_t channel, uint32_t model,
    airouter_live_measure_t *m)
{
    rand_live_t  *rl = ctx;
    uint32_t      h;

    if (!rand_live_knows(rl, channel, model)) {
        return -1;
    }

    h = mix(rl->seed ^ 5, model + rl->round * 3);
    memset(m, 0, sizeof(airouter_live_measure_t));
    m->samples = h % 6;
    m->ttfb = (h % 3) * 400.0;
    m->tps_samples = (h >> 4) % 6;
    m->tps = ((h >> 8) % 4) * 30.0;
    m->age = (h >> 12) % 2 ? 0 : 300;
    m->ttfb_p95 = -1;

    return 0;
}


static int
rand_live_available(void *ctx, uint32_t channel, uint32_t model)
{
    rand_live_t  *rl = ctx;

    return mix(rl->seed + 3 * rl->round, model ^ (channel << 12)) % 7 != 0;
}


static int
rand_live_reachable(void *ctx, uint32_t channel)
{
    rand_live_t  *rl = ctx;

    return mix(rl->seed, channel + rl->round) % 11 != 0;
}


static int
rand_live_known(void *ctx, uint32_t channel, uint32_t model)
{
    rand_live_t  *rl = ctx;

    if (rl->conservative) {
        return 1;
    }

    if (rl->lying) {
        return 0;
    }

    return rand_live_knows(rl, channel, model);
}


static const airouter_catalog_t *
rand_catalog(airouter_config_t *cf, uint32_t *state, size_t nchannels)
{
    char                        *id;
    size_t                       c, i, n, pick;
    uint32_t                     r, caps;
    airouter_catalog_builder_t  *b;
    static const char           *pool[] = {
        "qwen/qwen3-8b", "qwen/qwen3-8b:free", "qwen/qwen3-32b",
        "qwen/qwen3-235b-a22b:free", "qwen/qwen3-coder", "meta/llama-3-70b",
        "meta/llama-3-8b:free", "openai/gpt-4o", "openai/gpt-4o-mini",
        "mistral/mixtral-8x7b", "deepseek/deepseek-chat:free",
        "qwen/qwen3-embed"
    };
    static const double          prices[] = { -1, 0, 1e-7, 2e-7, 1e-6,
                                              1e-7 };
    static const uint64_t        contexts[] = { 0, 8192, 32768, 131072,
                                                32768 };

    b = airouter_catalog_builder_create(cf);

    for (c = 0; c < nchannels; c++) {
        n = 2 + rand_next(state) % 10;

        for (i = 0; i < n; i++) {
            pick = rand_next(state) % (sizeof(pool) / sizeof(pool[0]));
            r = rand_next(state);

            /* most channels sell a model at one price: static ties */
            id = unit_alloc(64);
            snprintf(id, 64, "%s", pool[pick]);

            if (r % 9 == 0) {
                snprintf(id, 64, "%s-v%u", pool[pick], (r >> 4) % 3);
            }

            caps = (strstr(id, "embed") ? AIROUTER_CAP_EMBEDDING
                                        : AIROUTER_CAP_CHAT)
                   | ((r >> 8) % 4 == 0 ? AIROUTER_CAP_VISION : 0)
                   | ((r >> 10) % 3 == 0 ? AIROUTER_CAP_TOOLS : 0);

            add(b, (uint32_t) c, id,
                (r >> 12) % 4 ? prices[pick % 6] : prices[(r >> 14) % 6],
                (r >> 12) % 4 ? 2 * prices[pick % 6] : 3e-7,
                (r >> 16) % 3 ? contexts[pick % 5]
                              : contexts[(r >> 18) % 5],
                caps, (r >> 20) % 2 ? AIROUTER_CAP_TOOLS : 0);
        }
    }

    return finish(b);
}


static void
test_memo_random(void)
{
    size_t                        seed, nch, i, q, st, k, e, p, rnd, bad,
                                  n, ok;
    uint32_t                      state;
    airouter_live_t               lv, *live;
    rand_live_t                   rl;
    airouter_config_t            *cf;
    airouter_strategy_t          *sts;
    airouter_route_req_t          req;
    airouter_candidate_t          ca[16], cb[16];
    airouter_route_memo_t        *memo;
    airouter_route_result_t       a, b;
    const airouter_catalog_t     *cat;
    airouter_route_memo_stats_t   stats;
    static const size_t           kmax[] = { 1, 3, 5, 16 };
    static const uint64_t         prompts[] = { 0, 100, 9000, 40000,
                                                200000 };
    static const char            *queries[] = {
        "tag:qwen3", "tag:free", "tag:qwen3,free", "qwen3-8b",
        "tag:!free", "openai/gpt-4o", "tag:llama,free"
    };

    memo = airouter_route_memo_create();
    UNIT_CHECK(memo != NULL, "memo");

    bad = 0;
    n = 0;
    ok = 0;

    for (seed = 1; seed <= 16; seed++) {
        state = (uint32_t) (seed * 2654435761u) | 1;
        nch = 3 + rand_next(&state) % 14;

        cf = make_config(nch);

        for (i = 0; i < nch; i++) {
            cf->channels[i].priority = (int) (rand_next(&state) % 3);
            cf->channels[i].weight = (rand_next(&state) % 3) ? 100 : 200;
            cf->channels[i].enabled = (rand_next(&state) % 9) != 0;
            cf->channels[i].local = (rand_next(&state) % 5) == 0;
            cf->channels[i].free = (rand_next(&state) % 7) == 0;
        }

        /* and two strategies with ascending live scores */
        sts = unit_alloc((cf->routing.nstrategies + 2)
                         * sizeof(airouter_strategy_t));
        memcpy(sts, cf->routing.strategies,
               cf->routing.nstrategies * sizeof(airouter_strategy_t));
        sts[cf->routing.nstrategies].name = "slow_first";
        sts[cf->routing.nstrategies].nweights = 3;
        sts[cf->routing.nstrategies].weights =
            unit_alloc(3 * sizeof(airouter_weight_t));
        sts[cf->routing.nstrategies].weights[0] =
            (airouter_weight_t) { AIROUTER_SCORE_SPEED, 0.5, 0 };
        sts[cf->routing.nstrategies].weights[1] =
            (airouter_weight_t) { AIROUTER_SCORE_RELIABILITY, 0.3, 1 };
        sts[cf->routing.nstrategies].weights[2] =
            (airouter_weight_t) { AIROUTER_SCORE_COST, 0.2, 1 };
        sts[cf->routing.nstrategies + 1].name = "unreliable";
        sts[cf->routing.nstrategies + 1].nweights = 2;
        sts[cf->routing.nstrategies + 1].weights =
            unit_alloc(2 * sizeof(airouter_weight_t));
        sts[cf->routing.nstrategies + 1].weights[0] =
            (airouter_weight_t) { AIROUTER_SCORE_RELIABILITY, 0.7, 0 };
        sts[cf->routing.nstrategies + 1].weights[1] =
            (airouter_weight_t) { AIROUTER_SCORE_FREE, 0.3, 1 };
        cf->routing.strategies = sts;
        cf->routing.nstrategies += 2;
        cf->routing.filters.exclude_embedding_models = seed % 2;

        cat = rand_catalog(cf, &state, nch);
        UNIT_CHECK(cat != NULL, "random catalogue %zu", seed);

        if (cat == NULL) {
            continue;
        }

        memset(&rl, 0, sizeof(rl));
        rl.seed = (uint32_t) seed * 7919;

        /* speed by measure or by speed() */
        memset(&lv, 0, sizeof(lv));
        lv.measure = (seed % 2) ? rand_live_measure : NULL;
        lv.speed = (seed % 2) ? NULL : rand_live_speed;
        lv.reliability = rand_live_reliability;
        lv.available = rand_live_available;
        lv.reachable = rand_live_reachable;
        lv.known = rand_live_known;
        lv.ctx = &rl;

        /*
         * Each request shape at several needs (the context filter's
         * ranges) and in several rounds of live state, so that a prep is
         * used again across needs and versions.
         */

        for (q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
        for (st = 0; st < cf->routing.nstrategies; st++) {
        for (e = 0; e < 6; e++) {
        for (p = 0; p < 5; p++) {
        for (rnd = 0; rnd < 4; rnd++) {
            /* live state changes: a new version; round 2 of odd seeds
             * has a known() that says 1 for all, round 3 of seeds
             * 4k no live state */
            rl.round = (uint32_t) rnd;
            lv.version = rnd + 1;
            rl.conservative = (rnd == 2 && seed % 2);
            live = (rnd == 3 && seed % 4 == 0) ? NULL : &lv;
            k = (q + st + p) % 4;

            memset(&req, 0, sizeof(req));
            req.model = queries[q];
            req.model_len = strlen(queries[q]);
            req.strategy = cf->routing.strategies[st].name;
            req.endpoint = (e == 5) ? AIROUTER_ENDPOINT_EMBEDDING
                                    : AIROUTER_ENDPOINT_CHAT;
            req.needs_vision = (e == 3);
            req.needs_tools = (e == 4);
            req.prompt_tokens = prompts[p];
            req.max_tokens = (e % 2) ? 1000 : 0;

            memo_route(cat, cf, &req, live, kmax[k], &a, ca);
            ok += (a.status == AIROUTER_ROUTE_OK && a.ncand > 1);

            req.memo = memo;
            req.generation = seed;

            memo_route(cat, cf, &req, live, kmax[k], &b, cb);
            bad += !memo_same(&a, &b);

            memo_route(cat, cf, &req, live, kmax[k], &b, cb);
            bad += !memo_same(&a, &b);

            n += 2;
        }
        }
        }
        }
        }
    }

    UNIT_CHECK(bad == 0, "%zu of %zu random memo routes differ from the "
               "full path", bad, n);
    UNIT_CHECK(ok > n / 8, "%zu of %zu routes ranked several candidates",
               ok, n / 2);

    airouter_route_memo_stats(memo, &stats);
    UNIT_CHECK(stats.prepared > 0 && stats.split > stats.prepared
               && stats.hits > stats.misses,
               "prepared %llu split %llu hits %llu misses %llu",
               (unsigned long long) stats.prepared,
               (unsigned long long) stats.split,
               (unsigned long long) stats.hits,
               (unsigned long long) stats.misses);

    /*
     * A view that says it knows nothing while it does (a wrong known())
     * must be caught by the comparison: proof that the check can fail.
     */
    cf = make_config(4);
    state = 12345;
    cat = rand_catalog(cf, &state, 4);
    memset(&rl, 0, sizeof(rl));
    rl.seed = 17;
    rl.lying = 1;
    memset(&lv, 0, sizeof(lv));
    lv.speed = rand_live_speed;
    lv.reliability = rand_live_reliability;
    lv.known = rand_live_known;
    lv.version = 1;
    lv.ctx = &rl;

    bad = 0;

    for (q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
        for (rnd = 0; rnd < 8; rnd++) {
            rl.round = (uint32_t) rnd;
            lv.version = 100 + rnd;

            memset(&req, 0, sizeof(req));
            req.model = queries[q];
            req.model_len = strlen(queries[q]);
            req.strategy = "speed_optimized";
            req.endpoint = AIROUTER_ENDPOINT_CHAT;
            memo_route(cat, cf, &req, &lv, 1, &a, ca);
            req.memo = memo;
            req.generation = 1000;
            memo_route(cat, cf, &req, &lv, 1, &b, cb);
            bad += !memo_same(&a, &b);
        }
    }

    UNIT_CHECK(bad > 0, "a lying known() went unnoticed");

    airouter_route_memo_destroy(memo);
}


/* A view of live state for the filter tests: counts its calls. */
typedef struct {
    int                      calls;
} view_calls_t;


static double
view_speed(void *ctx, uint32_t channel, uint32_t model)
{
    ((view_calls_t *) ctx)->calls++;

    return 0.1 * channel + 0.01 * model;
}


static double
view_reliability(void *ctx, uint32_t channel, uint32_t model)
{
    ((view_calls_t *) ctx)->calls++;

    return 0.2 * channel + 0.01 * model;
}


static int
view_measure(void *ctx, uint32_t channel, uint32_t model,
    airouter_live_measure_t *m)
{
    ((view_calls_t *) ctx)->calls++;

    if (channel == 9) {
        return -1;
    }

    memset(m, 0, sizeof(*m));
    m->ttfb = 100.0 * channel + model;

    return 0;
}


static int
view_reachable(void *ctx, uint32_t channel)
{
    ((view_calls_t *) ctx)->calls++;

    return channel != 3;
}


static int
view_available(void *ctx, uint32_t channel, uint32_t model)
{
    ((view_calls_t *) ctx)->calls++;

    return !(channel == 2 && model == 7);
}


/* keep: everything but channel *data */
static int
keep_but(void *data, uint32_t channel, uint32_t model)
{
    (void) model;

    return channel != *(uint32_t *) data;
}


/*
 * airouter_live_filter: available() is keep AND the wrapped view's;
 * speed, reliability, measure and reachable are the wrapped view's; a callback the
 * wrapped view leaves NULL stays NULL (the ranking's default); filters
 * stack.
 */
static void
test_live_filter(void)
{
    uint32_t                 out1, out5;
    view_calls_t             calls;
    airouter_live_measure_t  meas;
    airouter_live_t          live, bare;
    airouter_live_filter_t   f1, f2, fb;

    memset(&calls, 0, sizeof(calls));
    live.speed = view_speed;
    live.reliability = view_reliability;
    live.measure = view_measure;
    live.reachable = view_reachable;
    live.available = view_available;
    live.ctx = &calls;

    out1 = 1;
    airouter_live_filter(&live, &f1, keep_but, &out1);

    UNIT_CHECK(live.ctx == &f1 && f1.inner.ctx == &calls, "wrapped");
    UNIT_CHECK(live.speed(live.ctx, 4, 2) == view_speed(&calls, 4, 2)
               && live.reliability(live.ctx, 4, 2)
                  == view_reliability(&calls, 4, 2),
               "speed and reliability pass through");
    UNIT_CHECK(live.reachable(live.ctx, 0) == 1
               && live.reachable(live.ctx, 3) == 0, "reachable passes");
    UNIT_CHECK(live.measure(live.ctx, 4, 2, &meas) == 0
               && meas.ttfb == 402.0
               && live.measure(live.ctx, 9, 0, &meas) == -1,
               "measure passes through");
    UNIT_CHECK(live.available(live.ctx, 0, 0) == 1, "kept and available");
    UNIT_CHECK(live.available(live.ctx, 1, 0) == 0, "taken out by keep");
    UNIT_CHECK(live.available(live.ctx, 2, 7) == 0,
               "kept but not available below");

    calls.calls = 0;
    (void) live.available(live.ctx, 1, 0);
    UNIT_CHECK(calls.calls == 0, "keep refuses without asking below");

    /* a second filter on the first: both take their channel out */
    out5 = 5;
    airouter_live_filter(&live, &f2, keep_but, &out5);
    UNIT_CHECK(live.available(live.ctx, 1, 0) == 0
               && live.available(live.ctx, 5, 0) == 0
               && live.available(live.ctx, 2, 7) == 0
               && live.available(live.ctx, 4, 0) == 1, "filters stack");
    UNIT_CHECK(live.speed(live.ctx, 6, 1) == view_speed(&calls, 6, 1),
               "speed through two filters");

    /* a view without callbacks: the filter adds only available */
    memset(&bare, 0, sizeof(bare));
    airouter_live_filter(&bare, &fb, keep_but, &out1);
    UNIT_CHECK(bare.speed == NULL && bare.reliability == NULL
               && bare.measure == NULL && bare.reachable == NULL,
               "NULL callbacks stay NULL");
    UNIT_CHECK(bare.available(bare.ctx, 0, 0) == 1
               && bare.available(bare.ctx, 1, 0) == 0,
               "available without a wrapped one");
}


int
main(void)
{
    test_strategies();
    test_scores();
    test_ties();
    test_filters();
    test_endpoint_kinds();
    test_statuses();
    test_memo();
    test_memo_random();
    test_live_filter();
    unit_free_all();

    UNIT_DONE("test_rank");
}
