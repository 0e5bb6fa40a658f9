/*
 * OpenAI request parameters and their types; see airouter_params.h.  The
 * messages follow the ones OpenAI's API answers, so that an SDK's error
 * handling reads ours the same way.
 */

#include <stdio.h>
#include <string.h>

#include "airouter_params.h"


#define AIROUTER_NUM     (AIROUTER_JSON_INT|AIROUTER_JSON_REAL)
#define AIROUTER_NORANGE  1e300

#define AIROUTER_CH      AIROUTER_PARAMS_CHAT
#define AIROUTER_CO      AIROUTER_PARAMS_COMPLETIONS
#define AIROUTER_EM      AIROUTER_PARAMS_EMBEDDINGS


/*
 * One parameter.  null is accepted for every one (OpenAI reads it as "not
 * set"); min and max bound numbers (AIROUTER_NORANGE: none), max_items
 * arrays (0: none).  The table is sorted by key; a key may appear twice
 * for different endpoints (logprobs is a boolean for chat, a count for
 * completions).
 */
typedef struct {
    const char               *key;
    unsigned                  endpoints;
    unsigned                  kinds;
    const char               *expected;
    double                    min;
    double                    max;
    size_t                    max_items;
} airouter_params_t;


static const airouter_params_t *airouter_params_find(unsigned endpoint,
    const char *key, size_t klen);
static const char *airouter_params_kind_name(airouter_json_kind_e kind);
static int airouter_params_range(const airouter_params_t *p,
    const airouter_json_value_t *v, airouter_params_error_t *err);
static int airouter_params_type(const char *param, const char *expected,
    airouter_json_kind_e got, airouter_params_error_t *err);


#define AIROUTER_ANY   (AIROUTER_CH|AIROUTER_CO|AIROUTER_EM)
#define AIROUTER_GEN   (AIROUTER_CH|AIROUTER_CO)
#define AIROUTER_NR    -AIROUTER_NORANGE, AIROUTER_NORANGE

static const airouter_params_t  airouter_params[] = {
    { "best_of", AIROUTER_CO, AIROUTER_JSON_INT, "an integer",
      0, 20, 0 },
    { "dimensions", AIROUTER_EM, AIROUTER_JSON_INT, "an integer",
      1, AIROUTER_NORANGE, 0 },
    { "echo", AIROUTER_CO, AIROUTER_JSON_BOOL, "a boolean", AIROUTER_NR, 0 },
    { "encoding_format", AIROUTER_EM, AIROUTER_JSON_STRING, "a string",
      AIROUTER_NR, 0 },
    { "frequency_penalty", AIROUTER_GEN, AIROUTER_NUM, "a decimal",
      -2, 2, 0 },
    { "function_call", AIROUTER_CH,
      AIROUTER_JSON_STRING|AIROUTER_JSON_OBJECT,
      "one of a string or an object", AIROUTER_NR, 0 },
    { "functions", AIROUTER_CH, AIROUTER_JSON_ARRAY, "an array",
      AIROUTER_NR, 128 },
    { "input", AIROUTER_EM, AIROUTER_JSON_STRING|AIROUTER_JSON_ARRAY,
      "one of a string or an array", AIROUTER_NR, 0 },
    { "logit_bias", AIROUTER_GEN, AIROUTER_JSON_OBJECT, "an object",
      AIROUTER_NR, 0 },
    { "logprobs", AIROUTER_CH, AIROUTER_JSON_BOOL, "a boolean",
      AIROUTER_NR, 0 },
    { "logprobs", AIROUTER_CO, AIROUTER_JSON_INT, "an integer", 0, 5, 0 },
    { "max_completion_tokens", AIROUTER_CH, AIROUTER_JSON_INT, "an integer",
      1, AIROUTER_NORANGE, 0 },
    { "max_tokens", AIROUTER_CH, AIROUTER_JSON_INT, "an integer",
      1, AIROUTER_NORANGE, 0 },
    { "max_tokens", AIROUTER_CO, AIROUTER_JSON_INT, "an integer",
      0, AIROUTER_NORANGE, 0 },
    { "messages", AIROUTER_CH, AIROUTER_JSON_ARRAY, "an array",
      AIROUTER_NR, 0 },
    { "metadata", AIROUTER_CH, AIROUTER_JSON_OBJECT, "an object",
      AIROUTER_NR, 0 },
    { "modalities", AIROUTER_CH, AIROUTER_JSON_ARRAY, "an array",
      AIROUTER_NR, 0 },
    { "n", AIROUTER_GEN, AIROUTER_JSON_INT, "an integer", 1, 128, 0 },
    { "parallel_tool_calls", AIROUTER_CH, AIROUTER_JSON_BOOL, "a boolean",
      AIROUTER_NR, 0 },
    { "presence_penalty", AIROUTER_GEN, AIROUTER_NUM, "a decimal",
      -2, 2, 0 },
    { "prompt", AIROUTER_CO, AIROUTER_JSON_STRING|AIROUTER_JSON_ARRAY,
      "one of a string or an array", AIROUTER_NR, 0 },
    { "reasoning_effort", AIROUTER_CH, AIROUTER_JSON_STRING, "a string",
      AIROUTER_NR, 0 },
    { "response_format", AIROUTER_CH, AIROUTER_JSON_OBJECT, "an object",
      AIROUTER_NR, 0 },
    { "seed", AIROUTER_GEN, AIROUTER_JSON_INT, "an integer",
      AIROUTER_NR, 0 },
    { "service_tier", AIROUTER_CH, AIROUTER_JSON_STRING, "a string",
      AIROUTER_NR, 0 },
    { "stop", AIROUTER_GEN, AIROUTER_JSON_STRING|AIROUTER_JSON_ARRAY,
      "one of a string or an array", AIROUTER_NR, 4 },
    { "store", AIROUTER_CH, AIROUTER_JSON_BOOL, "a boolean",
      AIROUTER_NR, 0 },
    { "stream", AIROUTER_GEN, AIROUTER_JSON_BOOL, "a boolean",
      AIROUTER_NR, 0 },
    { "stream_options", AIROUTER_GEN, AIROUTER_JSON_OBJECT, "an object",
      AIROUTER_NR, 0 },
    { "suffix", AIROUTER_CO, AIROUTER_JSON_STRING, "a string",
      AIROUTER_NR, 0 },
    { "temperature", AIROUTER_GEN, AIROUTER_NUM, "a decimal", 0, 2, 0 },
    { "tool_choice", AIROUTER_CH, AIROUTER_JSON_STRING|AIROUTER_JSON_OBJECT,
      "one of a string or an object", AIROUTER_NR, 0 },
    { "tools", AIROUTER_CH, AIROUTER_JSON_ARRAY, "an array",
      AIROUTER_NR, 128 },
    { "top_logprobs", AIROUTER_CH, AIROUTER_JSON_INT, "an integer",
      0, 20, 0 },
    { "top_p", AIROUTER_GEN, AIROUTER_NUM, "a decimal", 0, 1, 0 },
    { "user", AIROUTER_ANY, AIROUTER_JSON_STRING, "a string",
      AIROUTER_NR, 0 }
};

#define AIROUTER_PARAMS_N  (sizeof(airouter_params) / sizeof(airouter_params[0]))


int
airouter_params_check(unsigned endpoint, const char *key, size_t klen,
    const airouter_json_value_t *v, airouter_params_error_t *err)
{
    const airouter_params_t  *p;

    p = airouter_params_find(endpoint, key, klen);

    if (p == NULL || v->kind == AIROUTER_JSON_NULL) {
        return 0;
    }

    if (!(p->kinds & v->kind)) {
        return airouter_params_type(p->key, p->expected, v->kind, err);
    }

    return airouter_params_range(p, v, err);
}


int
airouter_params_check_message(size_t i, airouter_json_kind_e item,
    airouter_json_kind_e role_kind, const char *role, size_t role_len,
    airouter_json_kind_e content, airouter_params_error_t *err)
{
    char         param[48];
    size_t       k;

    static const char  *roles[] = {
        "system", "assistant", "user", "function", "tool", "developer"
    };

    /* the parameter's name is written only for a refusal: every message
     * of every request passes here */

    if (item != AIROUTER_JSON_OBJECT) {
        snprintf(param, sizeof(param), "messages[%zu]", i);
        return airouter_params_type(param, "an object", item, err);
    }

    if (role_kind == 0) {
        snprintf(err->param, sizeof(err->param), "messages[%zu].role", i);
        snprintf(err->message, sizeof(err->message),
                 "Missing required parameter: '%s'.", err->param);
        err->code = "missing_required_parameter";
        return -1;
    }

    if (role_kind != AIROUTER_JSON_STRING) {
        snprintf(param, sizeof(param), "messages[%zu].role", i);
        return airouter_params_type(param, "a string", role_kind, err);
    }

    for (k = 0; k < sizeof(roles) / sizeof(roles[0]); k++) {
        if (strlen(roles[k]) == role_len
            && memcmp(roles[k], role, role_len) == 0)
        {
            break;
        }
    }

    if (k == sizeof(roles) / sizeof(roles[0])) {
        snprintf(err->param, sizeof(err->param), "messages[%zu].role", i);
        snprintf(err->message, sizeof(err->message),
                 "Invalid value: '%.*s'. Supported values are: 'system', "
                 "'assistant', 'user', 'function', 'tool', and 'developer'.",
                 (int) (role_len > 64 ? 64 : role_len), role);
        err->code = "invalid_value";
        return -1;
    }

    if (content != 0
        && !(content & (AIROUTER_JSON_STRING|AIROUTER_JSON_ARRAY
                        |AIROUTER_JSON_NULL)))
    {
        snprintf(param, sizeof(param), "messages[%zu].content", i);
        return airouter_params_type(param, "one of a string or an array",
                                    content, err);
    }

    return 0;
}


/* The table's entry for key on endpoint, by binary search. */
static const airouter_params_t *
airouter_params_find(unsigned endpoint, const char *key, size_t klen)
{
    int     c;
    size_t  lo, hi, mid, len;

    lo = 0;
    hi = AIROUTER_PARAMS_N;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        len = strlen(airouter_params[mid].key);

        c = memcmp(airouter_params[mid].key, key, len < klen ? len : klen);
        if (c == 0) {
            c = (len > klen) - (len < klen);
        }

        if (c < 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    /* lo is the first entry not below key: the key's entries follow */
    for ( /* void */ ; lo < AIROUTER_PARAMS_N; lo++) {
        len = strlen(airouter_params[lo].key);

        if (len != klen || memcmp(airouter_params[lo].key, key, klen) != 0) {
            return NULL;
        }

        if (airouter_params[lo].endpoints & endpoint) {
            return &airouter_params[lo];
        }
    }

    return NULL;
}


static int
airouter_params_range(const airouter_params_t *p,
    const airouter_json_value_t *v, airouter_params_error_t *err)
{
    const char  *what, *side;

    if (v->kind == AIROUTER_JSON_ARRAY) {
        if (p->max_items == 0 || v->length <= p->max_items) {
            return 0;
        }

        snprintf(err->param, sizeof(err->param), "%s", p->key);
        snprintf(err->message, sizeof(err->message),
                 "Invalid '%s': array too long. Expected an array with "
                 "maximum length %zu, but got an array with length %zu "
                 "instead.", p->key, p->max_items, v->length);
        err->code = "array_above_max_length";
        return -1;
    }

    if (!(v->kind & AIROUTER_NUM)
        || (v->number >= p->min && v->number <= p->max))
    {
        return 0;
    }

    what = (p->kinds == AIROUTER_JSON_INT) ? "integer" : "decimal";
    side = v->number < p->min ? "below minimum" : "above maximum";

    snprintf(err->param, sizeof(err->param), "%s", p->key);
    snprintf(err->message, sizeof(err->message),
             "Invalid '%s': %s %s value. Expected a value %s %g, but got %g "
             "instead.", p->key, what, side,
             v->number < p->min ? ">=" : "<=",
             v->number < p->min ? p->min : p->max, v->number);

    if (p->kinds == AIROUTER_JSON_INT) {
        err->code = v->number < p->min ? "integer_below_min_value"
                                       : "integer_above_max_value";

    } else {
        err->code = v->number < p->min ? "decimal_below_min_value"
                                       : "decimal_above_max_value";
    }

    return -1;
}


static int
airouter_params_type(const char *param, const char *expected,
    airouter_json_kind_e got, airouter_params_error_t *err)
{
    snprintf(err->param, sizeof(err->param), "%s", param);
    snprintf(err->message, sizeof(err->message),
             "Invalid type for '%s': expected %s, but got %s instead.",
             param, expected, airouter_params_kind_name(got));
    err->code = "invalid_type";

    return -1;
}


static const char *
airouter_params_kind_name(airouter_json_kind_e kind)
{
    switch (kind) {

    case AIROUTER_JSON_NULL:
        return "null";

    case AIROUTER_JSON_BOOL:
        return "a boolean";

    case AIROUTER_JSON_INT:
        return "an integer";

    case AIROUTER_JSON_REAL:
        return "a decimal";

    case AIROUTER_JSON_STRING:
        return "a string";

    case AIROUTER_JSON_ARRAY:
        return "an array";

    default:
        return "an object";
    }
}
