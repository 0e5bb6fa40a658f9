/*
 * Micro-benchmark of the routing brain: the median time of one
 * airouter_route() call (resolve + filter + rank, best 8 kept) on
 * catalogues generated from the /models fixtures, plus the one-off costs
 * (build, open) that a catalogue generation pays.
 *
 * The pool is OpenRouter's 554 models and the provider fixtures; each
 * synthetic channel serves a contiguous slice of the pool, so every model
 * appears on several channels, as it does when many resellers are
 * configured.  Usage: bench_route [fixtures-dir]
 * (default $AIROUTER_FIXTURES, else tests/fixtures)
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "airouter_catalog.h"
#include "airouter_models_json.h"
#include "airouter_rank.h"


#define BENCH_RUNS   2001


typedef struct {
    airouter_model_info_t    *info;
    size_t                    n;
} bench_source_t;


static const char  *bench_files[] = {
    "openrouter-models.json",
    "providers/deepseek-models.json",
    "providers/groq-openai-v1-models.json",
    "providers/lmstudio-v1-models.json",
    "providers/ollama-v1-models.json",
    "providers/openai-v1-models.json",
    "providers/siliconflow-v1-models.json",
    "providers/zhipu-v4-models.json"
};

#define BENCH_NFILES  (sizeof(bench_files) / sizeof(bench_files[0]))


static double
bench_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static int
bench_cmp(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : (x > y);
}


static char *
bench_read(const char *dir, const char *name, size_t *len)
{
    char   path[1024], *buf;
    long   n;
    FILE  *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "bench_route: cannot open %s\n", path);
        exit(1);
    }

    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc(n + 1);
    *len = fread(buf, 1, n, f);
    fclose(f);

    return buf;
}


/* The seed's cost_first, the default strategy. */
static airouter_config_t *
bench_config(size_t nchannels)
{
    size_t                i;
    char                 *id;
    airouter_config_t    *cf;
    airouter_strategy_t  *st;

    static airouter_weight_t  cost_first[] = {
        { AIROUTER_SCORE_COST, 0.4, 1 },
        { AIROUTER_SCORE_PARAMETER, 0.25, 1 },
        { AIROUTER_SCORE_CONTEXT, 0.2, 1 },
        { AIROUTER_SCORE_SPEED, 0.15, 1 }
    };

    cf = calloc(1, sizeof(airouter_config_t));
    cf->channels = calloc(nchannels, sizeof(airouter_channel_t));
    cf->nchannels = nchannels;

    for (i = 0; i < nchannels; i++) {
        id = malloc(32);
        snprintf(id, 32, "channel-%u", (unsigned) i);
        cf->channels[i].id = id;
        cf->channels[i].enabled = 1;
        cf->channels[i].priority = (int) (i % 3);
        cf->channels[i].weight = 100;
        cf->channels[i].cost_cache_read = -1;
        cf->channels[i].cost_cache_write = -1;
        cf->channels[i].local = (i % 19 == 7);
    }

    st = calloc(1, sizeof(airouter_strategy_t));
    st->name = "cost_first";
    st->weights = cost_first;
    st->nweights = 4;
    cf->routing.strategies = st;
    cf->routing.nstrategies = 1;
    cf->routing.default_strategy = "cost_first";
    cf->routing.filters.min_context_length = 8192;
    cf->routing.filters.exclude_embedding_models = 1;
    cf->routing.filters.exclude_vision_only_models = 1;

    return cf;
}


static void *
bench_build(const airouter_config_t *cf, const airouter_model_info_t **pool,
    size_t npool, size_t total, size_t *len, double *ms)
{
    size_t                       c, k, per, pos, added;
    void                        *blob;
    double                       t0;
    airouter_catalog_builder_t  *b;

    t0 = bench_now();
    b = airouter_catalog_builder_create(cf);
    per = (total + cf->nchannels - 1) / cf->nchannels;
    added = 0;

    for (c = 0; c < cf->nchannels && added < total; c++) {
        /* a slice of the pool, starting at a different place per channel */
        pos = (c * 7919) % npool;

        for (k = 0; k < per && added < total; k++) {
            if (airouter_catalog_builder_add_model(b, (uint32_t) c,
                                                   pool[(pos + k) % npool])
                != 0)
            {
                fprintf(stderr, "bench_route: %s\n",
                        airouter_catalog_builder_error(b));
                exit(1);
            }

            added++;
        }
    }

    blob = airouter_catalog_builder_finish(b, len);
    airouter_catalog_builder_destroy(b);
    *ms = (bench_now() - t0) * 1000;

    return blob;
}


static double
bench_median(const airouter_catalog_t *cat, const airouter_config_t *cf,
    const char *model, const airouter_live_t *live,
    airouter_route_memo_t *memo, size_t *matched, size_t *ncand)
{
    size_t                   i;
    double                   t0, t[BENCH_RUNS];
    airouter_candidate_t     cand[8];
    airouter_route_req_t     req;
    airouter_route_result_t  res;

    memset(&req, 0, sizeof(req));
    req.model = model;
    req.model_len = strlen(model);
    req.endpoint = AIROUTER_ENDPOINT_CHAT;
    req.prompt_tokens = 1200;
    req.max_tokens = 1000;

    /*
     * With the memo, as the nginx side routes: the process's memo, and
     * max_retry_attempts (3) + 2 candidates.
     */
    req.memo = memo;
    req.generation = 1;

    for (i = 0; i < BENCH_RUNS; i++) {
        memset(&res, 0, sizeof(res));
        res.cand = cand;
        res.cand_max = memo ? 5 : 8;

        t0 = bench_now();
        airouter_route(cat, cf, &req, live, &res);
        t[i] = bench_now() - t0;
    }

    qsort(t, BENCH_RUNS, sizeof(double), bench_cmp);
    *matched = res.nmatched;
    *ncand = res.ncand;

    return t[BENCH_RUNS / 2] * 1e6;
}


static double
bench_speed(void *ctx, uint32_t channel, uint32_t model)
{
    (void) ctx;

    return ((channel * 31 + model) % 100) / 100.0;
}


static int
bench_available(void *ctx, uint32_t channel, uint32_t model)
{
    (void) ctx;
    (void) model;

    return channel % 17 != 5;
}


static void
bench_catalogue(const char *title, size_t nchannels, size_t total,
    const airouter_model_info_t **pool, size_t npool, double target)
{
    size_t                      i, len, matched, ncand;
    void                       *blob, *copy;
    double                      ms, t0, us;
    airouter_live_t             live;
    airouter_config_t          *cf;
    airouter_route_memo_t      *memo;
    const airouter_catalog_t   *cat;
    airouter_route_memo_stats_t  before, after;
    static const char          *queries[] = {
        "tag:qwen3,free", "tag:free", "tag:gpt,!free", "qwen3-235b-a22b",
        "claude-3-haiku", "openai/gpt-4o", "kimi-free", "no-such-model"
    };

    cf = bench_config(nchannels);
    blob = bench_build(cf, pool, npool, total, &len, &ms);

    copy = malloc(len);
    memcpy(copy, blob, len);
    t0 = bench_now();
    cat = airouter_catalog_open(copy, len);
    t0 = (bench_now() - t0) * 1000;

    if (cat == NULL) {
        fprintf(stderr, "bench_route: the catalogue does not open\n");
        exit(1);
    }

    printf("%s: %u models, %u channels, %u tags; blob %.1f MB, "
           "build %.1f ms, open %.2f ms\n", title, cat->nmodels,
           cat->nchannels, cat->ntags, len / 1048576.0, ms, t0);

    memset(&live, 0, sizeof(live));
    live.speed = bench_speed;
    live.reliability = bench_speed;
    live.available = bench_available;

    memo = airouter_route_memo_create();

    for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        us = bench_median(cat, cf, queries[i], NULL, NULL, &matched, &ncand);
        printf("  %-18s matched %6zu  median %9.2f us", queries[i], matched,
               us);
        us = bench_median(cat, cf, queries[i], &live, NULL, &matched,
                          &ncand);
        printf("   with live state %9.2f us", us);
        airouter_route_memo_stats(memo, &before);
        us = bench_median(cat, cf, queries[i], &live, memo, &matched,
                          &ncand);
        airouter_route_memo_stats(memo, &after);
        printf("   memo + top-5 %9.2f us (live asked %5.0f/route)\n", us,
               (double) (after.walked - before.walked) / BENCH_RUNS);
    }

    us = bench_median(cat, cf, "tag:qwen3,free", &live, NULL, &matched,
                      &ncand);
    printf("  RESULT %s tag:qwen3,free median %.2f us (target <= %.0f us)"
           " %s\n", title, us, target, us <= target ? "PASS" : "FAIL");

    airouter_route_memo_destroy(memo);

    free(copy);
    free(blob);
}


int
main(int argc, char **argv)
{
    char                          *json, err[256];
    size_t                         i, j, len, npool;
    const char                    *dir;
    bench_source_t                 src[BENCH_NFILES];
    const airouter_model_info_t  **pool;

    dir = argc > 1 ? argv[1] : getenv("AIROUTER_FIXTURES");
    if (dir == NULL) {
        dir = "tests/fixtures";
    }

    npool = 0;

    for (i = 0; i < BENCH_NFILES; i++) {
        json = bench_read(dir, bench_files[i], &len);

        if (airouter_models_json_parse(json, len, &src[i].info, &src[i].n,
                                       err, sizeof(err)) != 0)
        {
            fprintf(stderr, "bench_route: %s: %s\n", bench_files[i], err);
            return 1;
        }

        npool += src[i].n;
        free(json);
    }

    pool = malloc(npool * sizeof(airouter_model_info_t *));
    npool = 0;

    for (i = 0; i < BENCH_NFILES; i++) {
        for (j = 0; j < src[i].n; j++) {
            pool[npool++] = &src[i].info[j];
        }
    }

    printf("pool: %zu models from %zu fixtures; %d runs per median\n",
           npool, BENCH_NFILES, BENCH_RUNS);

    bench_catalogue("3.4k", 38, 3400, pool, npool, 20);
    bench_catalogue("100k", 1000, 100000, pool, npool, 1000);

    return 0;
}
