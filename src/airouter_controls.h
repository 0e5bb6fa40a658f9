/*
 * Request-level routing controls, as OpenRouter's clients send them in a
 * chat body (issue #19):
 *
 *   "models": ["a", "tag:b", ...]   more model queries to fall back
 *                                   through, in order, after "model"
 *   "provider": {
 *       "order": [..]               channels (id, name or provider name)
 *                                   tried first, in this order
 *       "only": [..]                only these channels
 *       "ignore": [..]              never these channels
 *       "sort": "price" | "throughput" | "latency"
 *       "max_price": {"prompt": p, "completion": c}   USD per million
 *                                   tokens; a model over either, or of
 *                                   unknown price, is not used
 *       "allow_fallbacks": false    only the channels in "order", or the
 *                                   best candidate alone without "order"
 *       "require_parameters": true  only models that state support for
 *                                   what the request uses (tools)
 *   }
 *   ":floor" / ":nitro" on any model name or tag query: sort by price /
 *   by throughput for that entry.
 *
 * airouter_controls_parse() validates them from the client's jansson
 * tree: unknown members are ignored (as OpenRouter ignores them), null is
 * "not given", a wrong type or value fills an OpenAI-style error naming
 * the parameter ("provider.sort", "models[2]").  Strings point into the
 * tree; nothing is allocated.  Ranking applies them (airouter_rank.h).
 *
 * Pure C (jansson).  Called by the API handler and the fuzz target.
 */

#ifndef AIROUTER_CONTROLS_H
#define AIROUTER_CONTROLS_H

#include <stddef.h>

#include <jansson.h>

#include "airouter_params.h"


#define AIROUTER_CONTROLS_MODELS   8       /* "models" entries */
#define AIROUTER_CONTROLS_NAMES    16      /* order / only / ignore each */

/* airouter_controls_t.given */
#define AIROUTER_CONTROL_MODELS    0x01
#define AIROUTER_CONTROL_PROVIDER  0x02


typedef enum {
    AIROUTER_SORT_NONE = 0,
    AIROUTER_SORT_PRICE,
    AIROUTER_SORT_THROUGHPUT,
    AIROUTER_SORT_LATENCY
} airouter_sort_e;


typedef struct {
    const char               *s;
    size_t                    len;
} airouter_name_t;


typedef struct {
    unsigned                  given;        /* AIROUTER_CONTROL_* */

    airouter_name_t           models[AIROUTER_CONTROLS_MODELS];
    size_t                    nmodels;

    airouter_name_t           order[AIROUTER_CONTROLS_NAMES];
    size_t                    norder;
    airouter_name_t           only[AIROUTER_CONTROLS_NAMES];
    size_t                    nonly;        /* 0: no restriction */
    airouter_name_t           ignore[AIROUTER_CONTROLS_NAMES];
    size_t                    nignore;

    airouter_sort_e           sort;
    double                    max_prompt;   /* USD per token, < 0: none */
    double                    max_completion;
    int                       allow_fallbacks;      /* default 1 */
    int                       require_parameters;   /* default 0 */
} airouter_controls_t;


/* The defaults: nothing given, fallbacks allowed. */
void airouter_controls_init(airouter_controls_t *c);

/*
 * Reads "models" and "provider" from body (a JSON object).  0, or -1 with
 * err filled (400 invalid_request_error with err->param).
 */
int airouter_controls_parse(json_t *body, airouter_controls_t *c,
    airouter_params_error_t *err);

/*
 * A ":floor" or ":nitro" suffix (case-insensitive) on a model query: its
 * sort (price, throughput), *base_len the query without it.  No suffix:
 * AIROUTER_SORT_NONE and *base_len = len.
 */
airouter_sort_e airouter_controls_suffix(const char *model, size_t len,
    size_t *base_len);

/* "price", "throughput", "latency", "none". */
const char *airouter_controls_sort_name(airouter_sort_e sort);

#endif /* AIROUTER_CONTROLS_H */
