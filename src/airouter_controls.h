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
 *                                   every parameter the request uses
 *                                   (AIROUTER_PARAMETERS below)
 *       "data_collection": "deny"   only channels that keep nothing of
 *                                   the request (data_collection: deny
 *                                   in the configuration, or local);
 *                                   "allow" (the default): any
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
#include <stdint.h>

#include <jansson.h>

#include "airouter_params.h"


/*
 * The request parameters a model may state it supports (OpenRouter's
 * "supported_parameters", a channel's supported_parameters in the
 * configuration), once: X(id, name).  Bit AIROUTER_PARAM_BIT(id) of a
 * set; the name is what /models lists, what the configuration names and
 * what explain shows.  A request member with another name that means the
 * same is read as it (airouter_controls_param()): "functions" is tools,
 * "function_call" tool_choice, "max_completion_tokens" max_tokens,
 * "reasoning_effort" reasoning; a response_format of type json_schema
 * also needs structured_outputs.  A request in another client dialect is
 * read as the chat request it becomes (the API handler).
 */
#define AIROUTER_PARAMETERS(X)                                                \
    X(TOOLS, "tools")                                                         \
    X(TOOL_CHOICE, "tool_choice")                                             \
    X(PARALLEL_TOOL_CALLS, "parallel_tool_calls")                             \
    X(RESPONSE_FORMAT, "response_format")                                     \
    X(STRUCTURED_OUTPUTS, "structured_outputs")                               \
    X(MAX_TOKENS, "max_tokens")                                               \
    X(TEMPERATURE, "temperature")                                             \
    X(TOP_P, "top_p")                                                         \
    X(TOP_K, "top_k")                                                         \
    X(MIN_P, "min_p")                                                         \
    X(TOP_A, "top_a")                                                         \
    X(STOP, "stop")                                                           \
    X(FREQUENCY_PENALTY, "frequency_penalty")                                 \
    X(PRESENCE_PENALTY, "presence_penalty")                                   \
    X(REPETITION_PENALTY, "repetition_penalty")                               \
    X(SEED, "seed")                                                           \
    X(LOGIT_BIAS, "logit_bias")                                               \
    X(LOGPROBS, "logprobs")                                                   \
    X(TOP_LOGPROBS, "top_logprobs")                                           \
    X(REASONING, "reasoning")                                                 \
    X(INCLUDE_REASONING, "include_reasoning")                                 \
    X(WEB_SEARCH_OPTIONS, "web_search_options")

typedef enum {
#define AIROUTER_PARAM_ENUM(id, name)  AIROUTER_PARAM_##id,
    AIROUTER_PARAMETERS(AIROUTER_PARAM_ENUM)
#undef AIROUTER_PARAM_ENUM
    AIROUTER_PARAM_N
} airouter_param_e;

#define AIROUTER_PARAM_BIT(id)     (1u << AIROUTER_PARAM_##id)


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
    int                       deny_data_collection; /* "data_collection":
                                                       "deny" */
    uint32_t                  params_used;  /* require_parameters: the
                                               AIROUTER_PARAM_* bits of
                                               what the body uses */
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

/*
 * The AIROUTER_PARAM_* bit a parameter name stands for, as a model's list
 * or a request's member names it (the other names above included), 0
 * for a name this table does not know.
 */
uint32_t airouter_controls_param(const char *name, size_t len);

/* The bits of a list of names (unknown ones are left out). */
uint32_t airouter_controls_param_list(const char *const *names, size_t n);

/*
 * The parameters a request body (a JSON object) uses: members of the
 * table that are present and not null (an empty "tools" is no use).
 */
uint32_t airouter_controls_params_used(json_t *body);

/* The name of bit i (AIROUTER_PARAM_*), NULL past the table. */
const char *airouter_controls_param_name(unsigned i);

#endif /* AIROUTER_CONTROLS_H */
