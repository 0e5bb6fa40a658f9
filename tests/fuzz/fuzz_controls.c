/*
 * Request-level routing controls (airouter_controls.c) on arbitrary
 * request bodies, and ranking with them (airouter_route_controls in
 * airouter_rank.c) against the fixture catalogue (util.c).  The input is
 * a body read by jansson; its "model" (else "tag:!none") is the first
 * entry.  Oracles: a refusal has a param, a code and a message; parsed
 * lists stay within their bounds and hold non-empty names; routed
 * candidates are in range, listed once, in entry order and within an
 * entry by provider.order; none is on a channel provider.ignore names,
 * all are on channels provider.only names, all are free or priced within
 * max_price; routing twice gives the same answer.
 */

#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "fuzz.h"
#include "airouter_catalog.h"
#include "airouter_controls.h"
#include "airouter_rank.h"


static const airouter_catalog_t  *cat;
static airouter_config_t         *cf;


static int names_channel(const airouter_name_t *names, size_t n,
    uint32_t channel);
static int name_is(const char *s, const airouter_name_t *name);
static void route(const airouter_controls_t *ctl, const char *model,
    size_t len, airouter_candidate_t *cand, airouter_route_result_t *res);


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    size_t       len;
    const void  *blob;

    (void) argc;
    (void) argv;

    cf = fuzz_fixture_config();
    blob = fuzz_fixture_blob(&len);
    cat = airouter_catalog_open(blob, len);

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                            i, k, len;
    double                            rate;
    json_t                           *body, *model;
    const char                       *name;
    airouter_controls_t               ctl;
    airouter_candidate_t              cand[16], again[16];
    airouter_params_error_t           err;
    airouter_route_result_t           res, res2;
    const airouter_catalog_model_t   *m;

    if (cat == NULL) {
        LLVMFuzzerInitialize(NULL, NULL);
    }

    body = json_loadb((const char *) data, size, 0, NULL);
    if (body == NULL) {
        return 0;
    }

    memset(&err, 0, sizeof(err));

    if (airouter_controls_parse(body, &ctl, &err) != 0) {
        FUZZ_CHECK(err.param[0] != '\0' && err.code != NULL
                   && err.message[0] != '\0', "refusal without details");
        json_decref(body);
        return 0;
    }

    FUZZ_CHECK(ctl.nmodels <= AIROUTER_CONTROLS_MODELS
               && ctl.norder <= AIROUTER_CONTROLS_NAMES
               && ctl.nonly <= AIROUTER_CONTROLS_NAMES
               && ctl.nignore <= AIROUTER_CONTROLS_NAMES, "bounds");

    for (i = 0; i < ctl.nmodels; i++) {
        FUZZ_CHECK(ctl.models[i].s && ctl.models[i].len, "empty model");
    }

    for (i = 0; i < ctl.norder; i++) {
        FUZZ_CHECK(ctl.order[i].s && ctl.order[i].len, "empty order name");
    }

    model = json_object_get(body, "model");
    name = json_is_string(model) ? json_string_value(model) : "tag:!none";
    len = json_is_string(model) ? json_string_length(model) : 9;

    route(&ctl, name, len, cand, &res);
    route(&ctl, name, len, again, &res2);

    FUZZ_CHECK(res.status == res2.status && res.ncand == res2.ncand,
               "routing twice differs");
    FUZZ_CHECK(res.ncand <= 16, "too many candidates");

    for (i = 0; i < res.ncand; i++) {
        FUZZ_CHECK(cand[i].model < airouter_catalog_nmodels(cat)
                   && cand[i].channel < cf->nchannels, "out of range");
        FUZZ_CHECK(cand[i].channel == again[i].channel
                   && cand[i].model == again[i].model, "order differs");
        FUZZ_CHECK(cand[i].source < res.nentries, "source");

        for (k = 0; k < i; k++) {
            FUZZ_CHECK(cand[k].channel != cand[i].channel
                       || cand[k].model != cand[i].model, "listed twice");
        }

        if (i > 0) {
            FUZZ_CHECK(cand[i - 1].source < cand[i].source
                       || (cand[i - 1].source == cand[i].source
                           && cand[i - 1].order <= cand[i].order),
                       "entry or provider order broken at %zu", i);
        }

        FUZZ_CHECK(!names_channel(ctl.ignore, ctl.nignore, cand[i].channel),
                   "ignored channel routed");
        FUZZ_CHECK(ctl.nonly == 0
                   || names_channel(ctl.only, ctl.nonly, cand[i].channel),
                   "channel outside only routed");

        m = airouter_catalog_model(cat, cand[i].model);

        if ((ctl.max_prompt >= 0 || ctl.max_completion >= 0)
            && !(m->flags & AIROUTER_MODEL_FREE))
        {
            FUZZ_CHECK(m->flags & AIROUTER_MODEL_PRICED, "unpriced routed");
            rate = strcasecmp(airouter_catalog_model_currency(cat, m), "CNY")
                   == 0 ? cf->cost.cny_to_usd : 1.0;
            FUZZ_CHECK(ctl.max_prompt < 0
                       || m->price_prompt * rate
                          <= ctl.max_prompt * (1 + 1e-6),
                       "over max prompt price");
            FUZZ_CHECK(ctl.max_completion < 0
                       || m->price_completion * rate
                          <= ctl.max_completion * (1 + 1e-6),
                       "over max completion price");
        }
    }

    json_decref(body);

    return 0;
}


static void
route(const airouter_controls_t *ctl, const char *model, size_t len,
    airouter_candidate_t *cand, airouter_route_result_t *res)
{
    airouter_route_req_t  req;

    memset(&req, 0, sizeof(req));
    memset(res, 0, sizeof(*res));
    req.model = model;
    req.model_len = len;
    req.endpoint = AIROUTER_ENDPOINT_CHAT;
    req.controls = ctl;
    res->cand = cand;
    res->cand_max = 16;

    airouter_route_controls(cat, cf, &req, NULL, res);
}


static int
names_channel(const airouter_name_t *names, size_t n, uint32_t channel)
{
    size_t                     i;
    const airouter_channel_t  *ch;

    ch = &cf->channels[channel];

    for (i = 0; i < n; i++) {
        if (name_is(ch->id, &names[i]) || name_is(ch->name, &names[i])
            || name_is(ch->provider_name, &names[i]))
        {
            return 1;
        }
    }

    return 0;
}


static int
name_is(const char *s, const airouter_name_t *name)
{
    return s != NULL && strlen(s) == name->len
           && strncasecmp(s, name->s, name->len) == 0;
}
