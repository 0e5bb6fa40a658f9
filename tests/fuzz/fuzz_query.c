/*
 * The query language of the "model" field (airouter_query.c, with the
 * name splitting of airouter_tags.c) and the ranking entry point
 * (airouter_route in airouter_rank.c), against a fixed catalogue built
 * from a small configuration (util.c).  The input is the model string.
 * Oracles: resolve's status and stage are consistent (OK has a stage,
 * BAD has a reason); the iterator yields entries in strictly ascending
 * order, in range, no more than airouter_query_estimate(); for tag stages
 * every entry carries every positive tag and no negative one; suggestions
 * are strings inside the blob; airouter_route's counts are ordered
 * (candidates <= available <= matched) and candidates are in range and
 * sorted best first.
 */

#include <string.h>

#include "fuzz.h"
#include "airouter_catalog.h"
#include "airouter_query.h"
#include "airouter_rank.h"


static const airouter_catalog_t  *cat;
static size_t                     cat_len;
static airouter_config_t         *cf;


static double live_speed(void *ctx, uint32_t channel, uint32_t model);
static int live_available(void *ctx, uint32_t channel, uint32_t model);
static int in_list(const airouter_query_list_t *l, uint32_t model);
static int in_blob(const char *s);


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const void  *blob;

    (void) argc;
    (void) argv;

    cf = fuzz_fixture_config();
    blob = fuzz_fixture_blob(&cat_len);
    cat = airouter_catalog_open(blob, cat_len);

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                    i, k, n;
    uint32_t                  m, prev, count, est;
    const char               *model;
    airouter_query_t          q;
    airouter_query_iter_t     it;
    airouter_similar_t        sim[8];
    airouter_route_req_t      req;
    airouter_route_result_t   res;
    airouter_candidate_t      cand[16];
    airouter_removed_t        removed[64];
    airouter_live_t           live;
    airouter_query_status_e   st;

    if (cat == NULL) {
        LLVMFuzzerInitialize(NULL, NULL);
    }

    model = (const char *) data;

    memset(&q, 0, sizeof(q));
    st = airouter_query_resolve(cat, model, size, &q);

    FUZZ_CHECK(st == q.status, "returned %d, q.status %d", (int) st,
               (int) q.status);
    FUZZ_CHECK(st != AIROUTER_QUERY_OK || q.stage != AIROUTER_STAGE_NONE,
               "OK without a stage");
    FUZZ_CHECK(st != AIROUTER_QUERY_BAD || q.why != NULL, "BAD without why");
    FUZZ_CHECK(q.npos <= AIROUTER_QUERY_MAX_TAGS
               && q.nneg <= AIROUTER_QUERY_MAX_TAGS, "%zu/%zu tags",
               q.npos, q.nneg);
    FUZZ_CHECK(airouter_query_stage_name(q.stage) != NULL, "stage name");

    if (st == AIROUTER_QUERY_OK) {
        est = airouter_query_estimate(&q);
        airouter_query_iter_init(&it, &q);
        count = 0;
        prev = 0;

        while (airouter_query_next(&it, &m)) {
            FUZZ_CHECK(m < airouter_catalog_nmodels(cat), "entry %u", m);
            FUZZ_CHECK(count == 0 || m > prev, "entry %u after %u", m, prev);

            if (q.stage == AIROUTER_STAGE_TAG
                || q.stage == AIROUTER_STAGE_IMPLICIT_TAG)
            {
                for (k = 0; k < q.npos; k++) {
                    FUZZ_CHECK(in_list(&q.pos[k], m), "entry %u lacks "
                               "positive tag %zu", m, k);
                }

                for (k = 0; k < q.nneg; k++) {
                    FUZZ_CHECK(!in_list(&q.neg[k], m), "entry %u has "
                               "negative tag %zu", m, k);
                }
            }

            prev = m;
            count++;
            FUZZ_CHECK(count <= airouter_catalog_nmodels(cat), "endless");
        }

        FUZZ_CHECK(count <= est, "%u matches, estimate %u", count, est);

    } else {
        n = airouter_query_similar(cat, model, size, sim, 8);
        FUZZ_CHECK(n <= 8, "%zu suggestions", n);

        for (i = 0; i < n; i++) {
            FUZZ_CHECK(in_blob(sim[i].name), "suggestion %zu outside", i);
        }
    }

    /* the whole route, with and without explain */
    memset(&req, 0, sizeof(req));
    req.model = model;
    req.model_len = size;
    req.endpoint = size ? data[0] % 4 : AIROUTER_ENDPOINT_CHAT;
    req.needs_vision = size > 1 && (data[1] & 1);
    req.needs_tools = size > 1 && (data[1] & 2);
    req.prompt_tokens = size > 2 ? (uint64_t) data[2] << (data[1] % 16) : 0;
    req.explain = size > 1 && (data[1] & 4);

    /* every callback the router may call, or NULL: never stack garbage */
    memset(&live, 0, sizeof(live));
    live.speed = live_speed;
    live.reliability = live_speed;
    live.available = live_available;
    live.ctx = NULL;

    memset(&res, 0, sizeof(res));
    res.cand = cand;
    res.cand_max = sizeof(cand) / sizeof(cand[0]);
    res.removed = removed;
    res.removed_max = sizeof(removed) / sizeof(removed[0]);

    (void) airouter_route(cat, cf, &req, &live, &res);

    FUZZ_CHECK(airouter_route_status_name(res.status) != NULL, "status %d",
               (int) res.status);
    FUZZ_CHECK(res.ncand <= res.cand_max && res.ncand <= res.navailable
               && res.navailable <= res.nmatched
               && res.nremoved <= res.removed_max
               && res.nsimilar <= AIROUTER_ROUTE_SIMILAR,
               "cand %zu available %zu matched %zu removed %zu", res.ncand,
               res.navailable, res.nmatched, res.nremoved);

    for (i = 0; i < res.ncand; i++) {
        FUZZ_CHECK(cand[i].model < airouter_catalog_nmodels(cat)
                   && cand[i].channel < airouter_catalog_nchannels(cat)
                   && in_blob(cand[i].id), "candidate %zu", i);
        FUZZ_CHECK(i == 0 || cand[i].score <= cand[i - 1].score
                   || cand[i].score != cand[i].score,
                   "candidate %zu scores %g after %g", i, cand[i].score,
                   cand[i - 1].score);
    }

    for (i = 0; i < res.nsimilar; i++) {
        FUZZ_CHECK(in_blob(res.similar[i].name), "similar %zu outside", i);
    }

    return 0;
}


static double
live_speed(void *ctx, uint32_t channel, uint32_t model)
{
    (void) ctx;

    return ((channel * 7 + model * 3) % 10) / 10.0;
}


static int
live_available(void *ctx, uint32_t channel, uint32_t model)
{
    (void) ctx;

    return (channel + model) % 5 != 0;
}


static int
in_list(const airouter_query_list_t *l, uint32_t model)
{
    uint32_t  i;

    for (i = 0; i < l->n; i++) {
        if (l->list[i] == model) {
            return 1;
        }
    }

    return 0;
}


static int
in_blob(const char *s)
{
    const char  *base;

    base = (const char *) cat;

    return s >= base + cat->strings
           && s < base + cat->strings + cat->strings_len
           && memchr(s, '\0', base + cat->strings + cat->strings_len - s)
              != NULL;
}
