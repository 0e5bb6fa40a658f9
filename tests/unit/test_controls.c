/*
 * Request-level routing controls (airouter_controls.c) and how ranking
 * applies them (airouter_route_controls in airouter_rank.c): parsing and
 * every 400, "models" fallback order and de-duplication, provider
 * order/only/ignore/allow_fallbacks/require_parameters, max_price, the
 * sorts and the :floor/:nitro suffixes, the speed estimate from live
 * measures (minimum samples, decay toward the prior), and
 * require_parameters over every parameter of the table (a model's
 * stated list, the channel's configured one, unknown), and
 * data_collection "deny".
 */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "airouter_catalog.h"
#include "airouter_controls.h"
#include "airouter_rank.h"
#include "unit.h"


/* measures by channel, for the fake live state */
static airouter_live_measure_t  measures[4];
static int                      measured[4];


static int
fake_measure(void *ctx, uint32_t channel, uint32_t model,
    airouter_live_measure_t *m)
{
    (void) ctx;
    (void) model;

    if (channel >= 4 || !measured[channel]) {
        return -1;
    }

    *m = measures[channel];

    return 0;
}


static void
add(airouter_catalog_builder_t *b, uint32_t ch, const char *id,
    double in, double out, uint32_t caps, uint32_t known, int free)
{
    airouter_model_info_t  info;

    memset(&info, 0, sizeof(info));
    info.id = id;

    if (in >= 0) {
        info.has_price = 1;
        info.price_prompt = in;
        info.price_completion = out;
    }

    info.caps = caps;
    info.caps_known = known;
    info.free = free;

    UNIT_CHECK(airouter_catalog_builder_add_model(b, ch, &info) == 0,
               "add %s", id);
}


static airouter_config_t *
make_config(void)
{
    airouter_config_t    *cf;
    airouter_strategy_t  *st;

    cf = unit_config(3);
    cf->channels[0].name = "OpenAI main";
    cf->channels[0].provider_name = "openai";
    cf->channels[1].name = "Together";
    cf->channels[1].provider_name = "together";
    cf->channels[2].name = "Groq";
    cf->channels[2].provider_name = "groq";
    cf->channels[0].priority = 1;
    cf->channels[1].priority = 2;
    cf->channels[2].priority = 3;
    cf->cost.cny_to_usd = 0.14;

    /* by priority alone: every score weighs nothing */
    cf->routing.nstrategies = 2;
    cf->routing.strategies = unit_alloc(2 * sizeof(airouter_strategy_t));
    st = &cf->routing.strategies[0];
    st->name = "flat";
    st = &cf->routing.strategies[1];
    st->name = "speed_optimized";
    st->nweights = 1;
    st->weights = unit_alloc(sizeof(airouter_weight_t));
    st->weights[0].score = AIROUTER_SCORE_SPEED;
    st->weights[0].weight = 1;
    st->weights[0].descending = 1;
    cf->routing.default_strategy = "flat";

    return cf;
}


static const airouter_catalog_t *
make_catalog(airouter_config_t *cf)
{
    void                        *blob;
    size_t                       len;
    airouter_catalog_builder_t  *b;

    b = airouter_catalog_builder_create(cf);

    /* llama everywhere: dearest on ch0, cheapest on ch2 */
    add(b, 0, "llama-3.1-8b", 0.000003, 0.000004, AIROUTER_CAP_TOOLS,
        AIROUTER_CAP_TOOLS, 0);
    add(b, 1, "llama-3.1-8b", 0.000001, 0.000002, 0, 0, 0);
    add(b, 2, "llama-3.1-8b", 0.0000002, 0.0000002, 0, 0, 0);
    add(b, 0, "gpt-4o", 0.0000025, 0.00001, AIROUTER_CAP_TOOLS,
        AIROUTER_CAP_TOOLS, 0);
    add(b, 1, "qwen3-4b", 0, 0, 0, 0, 1);
    add(b, 2, "mystery-7b", -1, 0, 0, 0, 0);

    blob = airouter_catalog_builder_finish(b, &len);
    airouter_catalog_builder_destroy(b);
    unit_keep(blob);

    return airouter_catalog_open(blob, len);
}


/*
 * Routes model (may be NULL) with the controls of json (NULL: none) and
 * returns "ch:id,..." best first, or "status:<name>".
 */
static const char *
route(const airouter_catalog_t *cat, const airouter_config_t *cf,
    const char *model, const char *json, const airouter_live_t *live,
    airouter_route_result_t *out)
{
    static char              buf[4096];
    size_t                   i, used;
    json_t                  *body;
    airouter_controls_t      ctl;
    airouter_candidate_t     cand[16];
    airouter_route_req_t     req;
    airouter_route_result_t  res;
    airouter_params_error_t  err;

    memset(&req, 0, sizeof(req));
    memset(&res, 0, sizeof(res));
    airouter_controls_init(&ctl);
    body = NULL;

    if (json) {
        body = json_loads(json, 0, NULL);
        UNIT_CHECK(body != NULL, "json %s", json);
        UNIT_CHECK(airouter_controls_parse(body, &ctl, &err) == 0,
                   "parse %s", json);
        req.controls = &ctl;
    }

    req.model = model;
    req.model_len = model ? strlen(model) : 0;
    req.needs_tools = (json && strstr(json, "\"tools\"")) ? 1 : 0;
    req.endpoint = AIROUTER_ENDPOINT_CHAT;
    res.cand = cand;
    res.cand_max = 16;

    airouter_route_controls(cat, cf, &req, live, &res);

    if (out) {
        *out = res;
    }

    if (res.status != AIROUTER_ROUTE_OK) {
        snprintf(buf, sizeof(buf), "status:%s",
                 airouter_route_status_name(res.status));
        json_decref(body);
        return buf;
    }

    used = 0;
    buf[0] = '\0';

    for (i = 0; i < res.ncand; i++) {
        used += snprintf(buf + used, sizeof(buf) - used, "%s%u:%s",
                         i ? "," : "", (unsigned) res.cand[i].channel,
                         res.cand[i].id);
    }

    json_decref(body);

    return buf;
}


/* The error a body's controls get, as "param|code". */
static const char *
parse_error(const char *json)
{
    static char              buf[256];
    json_t                  *body;
    airouter_controls_t      ctl;
    airouter_params_error_t  err;

    body = json_loads(json, 0, NULL);
    UNIT_CHECK(body != NULL, "json %s", json);
    memset(&err, 0, sizeof(err));

    if (airouter_controls_parse(body, &ctl, &err) == 0) {
        snprintf(buf, sizeof(buf), "ok");

    } else {
        snprintf(buf, sizeof(buf), "%s|%s", err.param, err.code);
        UNIT_CHECK(strstr(err.message, err.param) != NULL
                   || strstr(err.message, "Invalid value") != NULL,
                   "message names the param: %s", err.message);
    }

    json_decref(body);

    return buf;
}


static void
test_parse(void)
{
    json_t                   *body;
    airouter_controls_t       ctl;
    airouter_params_error_t   err;

    body = json_loads("{\"model\":\"x\",\"models\":[\"a\",\"tag:b\"],"
                      "\"provider\":{\"order\":[\"groq\",\"ch1\"],"
                      "\"only\":[\"groq\"],\"ignore\":[\"openai\"],"
                      "\"sort\":\"latency\",\"max_price\":{\"prompt\":1.5,"
                      "\"completion\":2,\"image\":9},"
                      "\"allow_fallbacks\":false,"
                      "\"require_parameters\":true,"
                      "\"data_collection\":\"deny\",\"zdr\":true},"
                      "\"transforms\":[\"middle-out\"]}", 0, NULL);
    UNIT_CHECK(airouter_controls_parse(body, &ctl, &err) == 0, "parse all");
    UNIT_CHECK(ctl.given == (AIROUTER_CONTROL_MODELS
                             | AIROUTER_CONTROL_PROVIDER), "given");
    UNIT_CHECK(ctl.nmodels == 2 && ctl.models[1].len == 5
               && memcmp(ctl.models[1].s, "tag:b", 5) == 0, "models");
    UNIT_CHECK(ctl.norder == 2 && ctl.nonly == 1 && ctl.nignore == 1,
               "lists");
    UNIT_CHECK(ctl.sort == AIROUTER_SORT_LATENCY, "sort");
    UNIT_CHECK(fabs(ctl.max_prompt - 1.5e-6) < 1e-15
               && fabs(ctl.max_completion - 2e-6) < 1e-15,
               "max_price per token");
    UNIT_CHECK(ctl.allow_fallbacks == 0 && ctl.require_parameters == 1,
               "booleans");
    json_decref(body);

    /* nothing given, or nulls: the defaults */
    body = json_loads("{\"model\":\"x\",\"models\":null,\"provider\":null}",
                      0, NULL);
    UNIT_CHECK(airouter_controls_parse(body, &ctl, &err) == 0
               && ctl.given == 0 && ctl.allow_fallbacks == 1
               && ctl.max_prompt < 0 && ctl.sort == AIROUTER_SORT_NONE,
               "defaults");
    json_decref(body);

    body = json_loads("{\"provider\":{\"sort\":null,\"order\":null,"
                      "\"max_price\":null,\"allow_fallbacks\":null}}", 0,
                      NULL);
    UNIT_CHECK(airouter_controls_parse(body, &ctl, &err) == 0
               && ctl.given == AIROUTER_CONTROL_PROVIDER
               && ctl.allow_fallbacks == 1, "null members");
    json_decref(body);

    UNIT_STREQ(parse_error("{\"models\":\"a\"}"), "models|invalid_type");
    UNIT_STREQ(parse_error("{\"models\":[\"a\",3]}"),
               "models[1]|invalid_type");
    UNIT_STREQ(parse_error("{\"models\":[\"a\",\"\"]}"),
               "models[1]|invalid_value");
    UNIT_STREQ(parse_error("{\"models\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\","
                           "\"7\",\"8\",\"9\"]}"),
               "models|array_above_max_length");
    UNIT_STREQ(parse_error("{\"provider\":[]}"), "provider|invalid_type");
    UNIT_STREQ(parse_error("{\"provider\":{\"order\":\"groq\"}}"),
               "provider.order|invalid_type");
    UNIT_STREQ(parse_error("{\"provider\":{\"only\":[\"a\",null]}}"),
               "provider.only[1]|invalid_type");
    UNIT_STREQ(parse_error("{\"provider\":{\"ignore\":[\"\"]}}"),
               "provider.ignore[0]|invalid_type");
    UNIT_STREQ(parse_error("{\"provider\":{\"sort\":\"cheap\"}}"),
               "provider.sort|invalid_value");
    UNIT_STREQ(parse_error("{\"provider\":{\"sort\":1}}"),
               "provider.sort|invalid_type");
    UNIT_STREQ(parse_error("{\"provider\":{\"max_price\":1}}"),
               "provider.max_price|invalid_type");
    UNIT_STREQ(parse_error("{\"provider\":{\"max_price\":{\"prompt\":-1}}}"),
               "provider.max_price.prompt|decimal_below_min_value");
    UNIT_STREQ(parse_error("{\"provider\":{\"max_price\":"
                           "{\"completion\":\"1\"}}}"),
               "provider.max_price.completion|invalid_type");
    UNIT_STREQ(parse_error("{\"provider\":{\"allow_fallbacks\":\"no\"}}"),
               "provider.allow_fallbacks|invalid_type");
    UNIT_STREQ(parse_error("{\"provider\":{\"require_parameters\":1}}"),
               "provider.require_parameters|invalid_type");
    UNIT_STREQ(parse_error("{\"provider\":{\"quantizations\":[\"fp8\"]}}"),
               "ok");
}


static void
test_suffix(void)
{
    size_t  n;

    UNIT_CHECK(airouter_controls_suffix("gpt-4o:floor", 12, &n)
               == AIROUTER_SORT_PRICE && n == 6, ":floor");
    UNIT_CHECK(airouter_controls_suffix("tag:free,qwen:NITRO", 19, &n)
               == AIROUTER_SORT_THROUGHPUT && n == 13, ":nitro on a tag");
    UNIT_CHECK(airouter_controls_suffix("qwen:free", 9, &n)
               == AIROUTER_SORT_NONE && n == 9, "other suffix kept");
    UNIT_CHECK(airouter_controls_suffix(":nitro", 6, &n)
               == AIROUTER_SORT_NONE && n == 6, "the suffix alone");
}


static void
test_routing(void)
{
    airouter_config_t        *cf;
    airouter_route_result_t   res;
    const airouter_catalog_t *cat;

    cf = make_config();
    cat = make_catalog(cf);
    UNIT_CHECK(cat != NULL, "catalogue");

    /* no controls: by priority */
    UNIT_STREQ(route(cat, cf, "llama-3.1-8b", NULL, NULL, NULL),
               "0:llama-3.1-8b,1:llama-3.1-8b,2:llama-3.1-8b");

    /* models: each entry in turn, duplicates once, a missing one skipped */
    UNIT_STREQ(route(cat, cf, "gpt-4o",
                     "{\"models\":[\"no-such-model\",\"qwen3-4b\","
                     "\"gpt-4o\",\"llama-3.1-8b\"]}", NULL, &res),
               "0:gpt-4o,1:qwen3-4b,0:llama-3.1-8b,1:llama-3.1-8b,"
               "2:llama-3.1-8b");
    UNIT_CHECK(res.nentries == 4, "entries (the repeated gpt-4o dropped)");
    UNIT_CHECK(res.entries[1].status == AIROUTER_ROUTE_NO_MATCH
               && res.entries[3].ncand == 3, "entry results");
    UNIT_CHECK(res.cand[1].source == 2 && res.cand[4].source == 3,
               "candidate sources");

    /* models without model */
    UNIT_STREQ(route(cat, cf, NULL, "{\"models\":[\"qwen3-4b\"]}", NULL,
                     NULL), "1:qwen3-4b");

    /* none of the entries exists: the first's 404 */
    UNIT_STREQ(route(cat, cf, "nope", "{\"models\":[\"nada\"]}", NULL, &res),
               "status:no_match");

    /* a bad query in any entry is the request's 400 */
    UNIT_STREQ(route(cat, cf, "gpt-4o", "{\"models\":[\"tag:\"]}", NULL,
                     &res), "status:bad_query");
    UNIT_CHECK(res.bad_entry == 1, "bad entry named");

    /* provider.order: named channels first, in its order */
    UNIT_STREQ(route(cat, cf, "llama-3.1-8b",
                     "{\"provider\":{\"order\":[\"groq\",\"Together\"]}}",
                     NULL, NULL),
               "2:llama-3.1-8b,1:llama-3.1-8b,0:llama-3.1-8b");

    /* ... by id, case-insensitive */
    UNIT_STREQ(route(cat, cf, "llama-3.1-8b",
                     "{\"provider\":{\"order\":[\"CH1\"]}}", NULL, NULL),
               "1:llama-3.1-8b,0:llama-3.1-8b,2:llama-3.1-8b");

    /* ... without fallbacks: only those */
    UNIT_STREQ(route(cat, cf, "llama-3.1-8b",
                     "{\"provider\":{\"order\":[\"groq\",\"Together\"],"
                     "\"allow_fallbacks\":false}}", NULL, &res),
               "2:llama-3.1-8b,1:llama-3.1-8b");
    UNIT_CHECK(res.filtered[AIROUTER_FILTER_NOT_IN_ORDER] == 1,
               "not_in_order counted");

    /* no fallbacks, no order: the best alone */
    UNIT_STREQ(route(cat, cf, "llama-3.1-8b",
                     "{\"provider\":{\"allow_fallbacks\":false}}", NULL,
                     NULL), "0:llama-3.1-8b");

    /* only / ignore */
    UNIT_STREQ(route(cat, cf, "llama-3.1-8b",
                     "{\"provider\":{\"only\":[\"together\",\"groq\"]}}",
                     NULL, &res), "1:llama-3.1-8b,2:llama-3.1-8b");
    UNIT_CHECK(res.filtered[AIROUTER_FILTER_ONLY] == 1, "only counted");
    UNIT_STREQ(route(cat, cf, "llama-3.1-8b",
                     "{\"provider\":{\"ignore\":[\"OpenAI main\"]}}",
                     NULL, &res), "1:llama-3.1-8b,2:llama-3.1-8b");
    UNIT_CHECK(res.filtered[AIROUTER_FILTER_IGNORED] == 1, "ignore counted");
    UNIT_STREQ(route(cat, cf, "gpt-4o",
                     "{\"provider\":{\"ignore\":[\"openai\"]}}", NULL, &res),
               "status:all_filtered");

    /* max_price, per million tokens: prompt and completion each */
    UNIT_STREQ(route(cat, cf, "llama-3.1-8b",
                     "{\"provider\":{\"max_price\":{\"prompt\":1}}}", NULL,
                     &res), "1:llama-3.1-8b,2:llama-3.1-8b");
    UNIT_STREQ(route(cat, cf, "llama-3.1-8b",
                     "{\"provider\":{\"max_price\":{\"prompt\":5,"
                     "\"completion\":1}}}", NULL, &res), "2:llama-3.1-8b");
    UNIT_CHECK(res.filtered[AIROUTER_FILTER_MAX_PRICE] == 2,
               "max_price counted");

    /* free passes any cap; an unknown price passes none */
    UNIT_STREQ(route(cat, cf, "tag:!none",
                     "{\"provider\":{\"max_price\":{\"prompt\":0}}}", NULL,
                     &res), "1:qwen3-4b");

    /* CNY prices are compared in USD */
    {
        void                        *blob;
        size_t                       len;
        airouter_model_info_t        info;
        airouter_catalog_builder_t  *b;
        const airouter_catalog_t    *cny;

        b = airouter_catalog_builder_create(cf);
        memset(&info, 0, sizeof(info));
        info.id = "yi-large";
        info.has_price = 1;
        info.price_prompt = 0.00002;            /* 2.8 USD per million */
        info.price_completion = 0.00002;
        info.currency = "CNY";
        UNIT_CHECK(airouter_catalog_builder_add_model(b, 2, &info) == 0,
                   "add yi-large");
        blob = airouter_catalog_builder_finish(b, &len);
        airouter_catalog_builder_destroy(b);
        unit_keep(blob);
        cny = airouter_catalog_open(blob, len);

        UNIT_CHECK(cny != NULL, "cny catalogue");
        UNIT_STREQ(route(cny, cf, "yi-large",
                         "{\"provider\":{\"max_price\":{\"prompt\":3}}}",
                         NULL, NULL), "2:yi-large");
        UNIT_STREQ(route(cny, cf, "yi-large",
                         "{\"provider\":{\"max_price\":{\"prompt\":2.7}}}",
                         NULL, NULL), "status:all_filtered");
    }

    /* require_parameters: tools must be stated */
    UNIT_STREQ(route(cat, cf, "llama-3.1-8b",
                     "{\"tools\":1,\"provider\":{\"require_parameters\":"
                     "true}}", NULL, &res), "0:llama-3.1-8b");
    UNIT_CHECK(res.filtered[AIROUTER_FILTER_PARAMETERS] == 2,
               "parameters counted");
    UNIT_STREQ(route(cat, cf, "llama-3.1-8b", "{\"tools\":1}", NULL, NULL),
               "0:llama-3.1-8b,1:llama-3.1-8b,2:llama-3.1-8b");

    /* sort by price, and :floor */
    UNIT_STREQ(route(cat, cf, "llama-3.1-8b",
                     "{\"provider\":{\"sort\":\"price\"}}", NULL, NULL),
               "2:llama-3.1-8b,1:llama-3.1-8b,0:llama-3.1-8b");
    UNIT_STREQ(route(cat, cf, "llama-3.1-8b:floor", NULL, NULL, &res),
               "2:llama-3.1-8b,1:llama-3.1-8b,0:llama-3.1-8b");
    UNIT_CHECK(res.entries[0].sort == AIROUTER_SORT_PRICE
               && res.entries[0].model_len == 12, "suffix stripped");
    /* free first, unknown price last */
    UNIT_STREQ(route(cat, cf, "tag:!none:floor", NULL, NULL, NULL),
               "1:qwen3-4b,2:llama-3.1-8b,1:llama-3.1-8b,0:llama-3.1-8b,"
               "0:gpt-4o,2:mystery-7b");
    /* order still comes before the sort */
    UNIT_STREQ(route(cat, cf, "llama-3.1-8b:floor",
                     "{\"provider\":{\"order\":[\"openai\"]}}", NULL, NULL),
               "0:llama-3.1-8b,2:llama-3.1-8b,1:llama-3.1-8b");
}


static void
test_live(void)
{
    double                    ttfb, tps;
    airouter_live_t           live;
    airouter_config_t        *cf;
    airouter_live_measure_t   m;
    const airouter_catalog_t *cat;

    /* the estimate */
    airouter_rank_estimate(NULL, &ttfb, &tps);
    UNIT_CHECK(ttfb == AIROUTER_RANK_PRIOR_TTFB
               && tps == AIROUTER_RANK_PRIOR_TPS, "prior");
    UNIT_CHECK(fabs(airouter_rank_speed_score(ttfb, tps) - 0.5) < 1e-12,
               "nothing known: 0.5");

    memset(&m, 0, sizeof(m));
    m.samples = AIROUTER_RANK_MIN_SAMPLES - 1;
    m.ttfb = 100;
    m.tps_samples = AIROUTER_RANK_MIN_SAMPLES - 1;
    m.tps = 200;
    airouter_rank_estimate(&m, &ttfb, &tps);
    UNIT_CHECK(ttfb == AIROUTER_RANK_PRIOR_TTFB
               && tps == AIROUTER_RANK_PRIOR_TPS,
               "below the minimum samples: the prior");

    m.samples = AIROUTER_RANK_MIN_SAMPLES;
    m.tps_samples = AIROUTER_RANK_MIN_SAMPLES;
    airouter_rank_estimate(&m, &ttfb, &tps);
    UNIT_CHECK(ttfb == 100 && tps == 200, "fresh: the measure");
    UNIT_CHECK(airouter_rank_speed_score(ttfb, tps) > 0.8, "fast scores");

    m.age = AIROUTER_RANK_HALF_LIFE;
    airouter_rank_estimate(&m, &ttfb, &tps);
    UNIT_CHECK(fabs(ttfb - (100 + AIROUTER_RANK_PRIOR_TTFB) / 2) < 1e-9
               && fabs(tps - (200 + AIROUTER_RANK_PRIOR_TPS) / 2) < 1e-9,
               "one half-life: half way to the prior");

    m.age = 100 * AIROUTER_RANK_HALF_LIFE;
    airouter_rank_estimate(&m, &ttfb, &tps);
    UNIT_CHECK(fabs(ttfb - AIROUTER_RANK_PRIOR_TTFB) < 1e-6, "old: prior");

    UNIT_CHECK(airouter_rank_speed_score(3000, 10)
               < airouter_rank_speed_score(1000, 50), "slow scores less");

    /* ranking follows the measures */
    cf = make_config();
    cat = make_catalog(cf);

    memset(&live, 0, sizeof(live));
    live.measure = fake_measure;
    memset(measured, 0, sizeof(measured));

    /* ch0 slow to start, ch2 fast to start but slow to write */
    measured[0] = measured[2] = 1;
    memset(measures, 0, sizeof(measures));
    measures[0].samples = measures[0].tps_samples = 5;
    measures[0].ttfb = 2500;
    measures[0].tps = 400;
    measures[2].samples = measures[2].tps_samples = 5;
    measures[2].ttfb = 80;
    measures[2].tps = 20;

    UNIT_STREQ(route(cat, cf, "llama-3.1-8b",
                     "{\"provider\":{\"sort\":\"latency\"}}", &live, NULL),
               "2:llama-3.1-8b,1:llama-3.1-8b,0:llama-3.1-8b");
    UNIT_STREQ(route(cat, cf, "llama-3.1-8b",
                     "{\"provider\":{\"sort\":\"throughput\"}}", &live,
                     NULL), "0:llama-3.1-8b,1:llama-3.1-8b,2:llama-3.1-8b");
    UNIT_STREQ(route(cat, cf, "llama-3.1-8b:nitro", NULL, &live, NULL),
               "0:llama-3.1-8b,1:llama-3.1-8b,2:llama-3.1-8b");

    /* speed_optimized: the speed score from both measures */
    cf->routing.default_strategy = "speed_optimized";
    measures[0].tps = 40;
    UNIT_STREQ(route(cat, cf, "llama-3.1-8b", NULL, &live, NULL),
               "2:llama-3.1-8b,1:llama-3.1-8b,0:llama-3.1-8b");

    /* measures that went old decay: priority decides again */
    measures[0].age = measures[2].age = 50 * AIROUTER_RANK_HALF_LIFE;
    UNIT_STREQ(route(cat, cf, "llama-3.1-8b", NULL, &live, NULL),
               "0:llama-3.1-8b,1:llama-3.1-8b,2:llama-3.1-8b");

    /* too few samples count for nothing */
    measures[0].age = measures[2].age = 0;
    measures[2].samples = measures[2].tps_samples = 1;
    measures[0].samples = measures[0].tps_samples = 1;
    UNIT_STREQ(route(cat, cf, "llama-3.1-8b", NULL, &live, NULL),
               "0:llama-3.1-8b,1:llama-3.1-8b,2:llama-3.1-8b");
}


static void
test_hist(void)
{
    int     i;
    float   hist[AIROUTER_RANK_HIST];
    double  p50, p95;

    memset(hist, 0, sizeof(hist));
    UNIT_CHECK(airouter_rank_hist_quantile(hist, 0.95) == -1, "empty");

    /* 90 fast answers (~100 ms) and 10 slow ones (~1500 ms) */
    for (i = 0; i < 100; i++) {
        airouter_rank_hist_add(hist, (i % 10 == 9) ? 1500 : 100);
    }

    p50 = airouter_rank_hist_quantile(hist, 0.5);
    p95 = airouter_rank_hist_quantile(hist, 0.95);
    UNIT_CHECK(p50 > 80 && p50 <= 114, "p50 %g near 100 ms", p50);
    UNIT_CHECK(p95 > 1280 && p95 <= 1811, "p95 %g in the slow bucket", p95);

    /* decay: after many fast ones, the old slow ones no longer count */
    for (i = 0; i < 300; i++) {
        airouter_rank_hist_add(hist, 50);
    }

    p95 = airouter_rank_hist_quantile(hist, 0.95);
    UNIT_CHECK(p95 > 40 && p95 <= 57, "p95 %g follows the recent samples",
               p95);

    /* above the last bound: the open bucket */
    memset(hist, 0, sizeof(hist));
    airouter_rank_hist_add(hist, 1e9);
    UNIT_CHECK(airouter_rank_hist_quantile(hist, 0.95) > 5000, "open");
    airouter_rank_hist_add(hist, -1);
    UNIT_CHECK(hist[0] == 0, "a negative sample is ignored");
}


/* A catalogue of "m" on three channels: params stated on 0 and 1. */
static const airouter_catalog_t *
params_catalog(airouter_config_t *cf, uint32_t p0, uint32_t p1, uint32_t p2,
    int known2)
{
    void                        *blob;
    size_t                       len, i;
    uint32_t                     params[3];
    airouter_model_info_t        info;
    airouter_catalog_builder_t  *b;

    params[0] = p0;
    params[1] = p1;
    params[2] = p2;
    b = airouter_catalog_builder_create(cf);

    for (i = 0; i < 3; i++) {
        memset(&info, 0, sizeof(info));
        info.id = "m";
        info.params = params[i];
        info.params_known = (i < 2) || known2;
        UNIT_CHECK(airouter_catalog_builder_add_model(b, (uint32_t) i, &info)
                   == 0, "add m on %zu", i);
    }

    blob = airouter_catalog_builder_finish(b, &len);
    airouter_catalog_builder_destroy(b);
    unit_keep(blob);

    return airouter_catalog_open(blob, len);
}


static void
test_parameters(void)
{
    json_t                    *body;
    uint32_t                   p0, p1;
    airouter_config_t         *cf;
    airouter_route_req_t       req;
    airouter_controls_t        ctl;
    airouter_params_error_t    err;
    airouter_route_result_t    res;
    const airouter_catalog_t  *cat;

    static char               *seed[] = { "seed", "no-such-parameter" };
    static const char *const   names[] = { "Temperature", "functions",
                                           "bogus", NULL };

    /* the table, its other names, case */
    UNIT_CHECK(airouter_controls_param("tools", 5) == AIROUTER_PARAM_BIT(TOOLS),
               "tools");
    UNIT_CHECK(airouter_controls_param("functions", 9)
               == AIROUTER_PARAM_BIT(TOOLS), "functions is tools");
    UNIT_CHECK(airouter_controls_param("max_completion_tokens", 21)
               == AIROUTER_PARAM_BIT(MAX_TOKENS), "max_completion_tokens");
    UNIT_CHECK(airouter_controls_param("TOP_LOGPROBS", 12)
               == AIROUTER_PARAM_BIT(TOP_LOGPROBS), "case");
    UNIT_CHECK(airouter_controls_param("top_log", 7) == 0, "a prefix");
    UNIT_CHECK(airouter_controls_param("messages", 8) == 0,
               "not a parameter");
    UNIT_CHECK(airouter_controls_param_list(names, 4)
               == (AIROUTER_PARAM_BIT(TEMPERATURE)
                   | AIROUTER_PARAM_BIT(TOOLS)), "a list");
    UNIT_STREQ(airouter_controls_param_name(AIROUTER_PARAM_LOGPROBS),
               "logprobs");
    UNIT_CHECK(airouter_controls_param_name(AIROUTER_PARAM_N) == NULL,
               "past the table");

    /* what a body uses: present and not null; an empty tools is none */
    body = json_loads("{\"model\":\"m\",\"temperature\":0.2,\"tools\":[],"
                      "\"seed\":null,\"logprobs\":true,\"response_format\":"
                      "{\"type\":\"json_schema\",\"json_schema\":{}},"
                      "\"messages\":[]}", 0, NULL);
    UNIT_CHECK(airouter_controls_params_used(body)
               == (AIROUTER_PARAM_BIT(TEMPERATURE)
                   | AIROUTER_PARAM_BIT(LOGPROBS)
                   | AIROUTER_PARAM_BIT(RESPONSE_FORMAT)
                   | AIROUTER_PARAM_BIT(STRUCTURED_OUTPUTS)),
               "used %x", airouter_controls_params_used(body));
    json_decref(body);

    /* parse fills it only with require_parameters */
    body = json_loads("{\"seed\":1,\"provider\":{}}", 0, NULL);
    UNIT_CHECK(airouter_controls_parse(body, &ctl, &err) == 0
               && ctl.params_used == 0, "not asked");
    json_decref(body);
    body = json_loads("{\"seed\":1,\"provider\":{\"require_parameters\":"
                      "true}}", 0, NULL);
    UNIT_CHECK(airouter_controls_parse(body, &ctl, &err) == 0
               && ctl.params_used == AIROUTER_PARAM_BIT(SEED), "asked");
    json_decref(body);

    cf = make_config();

    /* 0: tools and the samplers; 1: samplers, logprobs, seed, formats;
     * 2: says nothing */
    p0 = AIROUTER_PARAM_BIT(TOOLS) | AIROUTER_PARAM_BIT(TOOL_CHOICE)
         | AIROUTER_PARAM_BIT(TEMPERATURE) | AIROUTER_PARAM_BIT(MAX_TOKENS);
    p1 = AIROUTER_PARAM_BIT(TEMPERATURE) | AIROUTER_PARAM_BIT(MAX_TOKENS)
         | AIROUTER_PARAM_BIT(LOGPROBS) | AIROUTER_PARAM_BIT(TOP_LOGPROBS)
         | AIROUTER_PARAM_BIT(SEED) | AIROUTER_PARAM_BIT(RESPONSE_FORMAT)
         | AIROUTER_PARAM_BIT(STRUCTURED_OUTPUTS);
    cat = params_catalog(cf, p0, p1, 0, 0);
    UNIT_CHECK(cat != NULL, "params catalogue");

    UNIT_STREQ(route(cat, cf, "m", "{\"logprobs\":true}", NULL, NULL),
               "0:m,1:m,2:m");
    UNIT_STREQ(route(cat, cf, "m", "{\"logprobs\":true,\"provider\":"
                     "{\"require_parameters\":true}}", NULL, &res), "1:m");
    UNIT_CHECK(res.filtered[AIROUTER_FILTER_PARAMETERS] == 2,
               "two dropped for logprobs");
    UNIT_STREQ(route(cat, cf, "m", "{\"temperature\":1,\"max_tokens\":9,"
                     "\"provider\":{\"require_parameters\":true}}", NULL,
                     NULL), "0:m,1:m");
    UNIT_STREQ(route(cat, cf, "m", "{\"tools\":[{}],\"tool_choice\":"
                     "\"auto\",\"provider\":{\"require_parameters\":true}}",
                     NULL, NULL), "0:m");
    UNIT_STREQ(route(cat, cf, "m", "{\"response_format\":{\"type\":"
                     "\"json_schema\"},\"provider\":{\"require_parameters\":"
                     "true}}", NULL, NULL), "1:m");
    UNIT_STREQ(route(cat, cf, "m", "{\"temperature\":1,\"seed\":3,"
                     "\"provider\":{\"require_parameters\":true}}", NULL,
                     NULL), "1:m");
    /* nothing of the table used: nothing to require */
    UNIT_STREQ(route(cat, cf, "m", "{\"user\":\"u\",\"provider\":"
                     "{\"require_parameters\":true}}", NULL, NULL),
               "0:m,1:m,2:m");

    /* what is missing, per model (explain) */
    memset(&req, 0, sizeof(req));
    body = json_loads("{\"seed\":1,\"logprobs\":true,\"provider\":"
                      "{\"require_parameters\":true}}", 0, NULL);
    UNIT_CHECK(airouter_controls_parse(body, &ctl, &err) == 0, "parse");
    req.controls = &ctl;
    UNIT_CHECK(airouter_route_params_missing(&req,
                   airouter_catalog_model(cat, 0))
               == (AIROUTER_PARAM_BIT(SEED) | AIROUTER_PARAM_BIT(LOGPROBS)),
               "ch0 misses seed and logprobs");
    UNIT_CHECK(airouter_route_params_missing(&req,
                   airouter_catalog_model(cat, 1)) == 0, "ch1 has both");
    ctl.require_parameters = 0;
    UNIT_CHECK(airouter_route_params_missing(&req,
                   airouter_catalog_model(cat, 0)) == 0, "not asked");
    json_decref(body);

    /* a tools capability stands for the tool parameters */
    cat = make_catalog(cf);
    UNIT_STREQ(route(cat, cf, "llama-3.1-8b", "{\"tools\":[{}],"
                     "\"tool_choice\":\"auto\",\"provider\":"
                     "{\"require_parameters\":true}}", NULL, NULL),
               "0:llama-3.1-8b");

    /* the channel's configured list beats what its source stated */
    cf->channels[2].supported_parameters.items = seed;
    cf->channels[2].supported_parameters.n = 2;
    cf->channels[2].params = AIROUTER_PARAM_BIT(SEED);
    cat = params_catalog(cf, p0, p1, AIROUTER_PARAM_BIT(TEMPERATURE), 1);
    UNIT_STREQ(route(cat, cf, "m", "{\"seed\":3,\"provider\":"
                     "{\"require_parameters\":true}}", NULL, NULL),
               "1:m,2:m");
    UNIT_STREQ(route(cat, cf, "m", "{\"temperature\":1,\"provider\":"
                     "{\"require_parameters\":true}}", NULL, NULL),
               "0:m,1:m");
}


static void
test_data_collection(void)
{
    airouter_config_t         *cf;
    airouter_route_result_t    res;
    const airouter_catalog_t  *cat;

    UNIT_STREQ(parse_error("{\"provider\":{\"data_collection\":\"deny\"}}"),
               "ok");
    UNIT_STREQ(parse_error("{\"provider\":{\"data_collection\":\"allow\"}}"),
               "ok");
    UNIT_STREQ(parse_error("{\"provider\":{\"data_collection\":\"never\"}}"),
               "provider.data_collection|invalid_value");
    UNIT_STREQ(parse_error("{\"provider\":{\"data_collection\":false}}"),
               "provider.data_collection|invalid_type");

    /* ch0 may keep requests, ch1 does not, ch2 did not say (allow) */
    cf = make_config();
    cf->channels[0].data_collection = 0;
    cf->channels[1].data_collection = 1;
    cf->channels[2].data_collection = 0;
    cat = make_catalog(cf);

    UNIT_STREQ(route(cat, cf, "llama-3.1-8b", "{\"provider\":"
                     "{\"data_collection\":\"deny\"}}", NULL, &res),
               "1:llama-3.1-8b");
    UNIT_CHECK(res.filtered[AIROUTER_FILTER_DATA_COLLECTION] == 2,
               "two removed");
    UNIT_STREQ(airouter_route_filter_name(AIROUTER_FILTER_DATA_COLLECTION),
               "data_collection");
    UNIT_STREQ(route(cat, cf, "llama-3.1-8b", "{\"provider\":"
                     "{\"data_collection\":\"allow\"}}", NULL, NULL),
               "0:llama-3.1-8b,1:llama-3.1-8b,2:llama-3.1-8b");
}


int
main(void)
{
    test_hist();
    test_parameters();
    test_data_collection();
    test_parse();
    test_suffix();
    test_routing();
    test_live();
    unit_free_all();

    UNIT_DONE("test_controls");
}
