/*
 * Request-level routing controls: parsing and validation; see
 * airouter_controls.h.
 */

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "airouter_controls.h"


static int airouter_controls_models(json_t *v, airouter_controls_t *c,
    airouter_params_error_t *err);
static int airouter_controls_provider(json_t *v, airouter_controls_t *c,
    airouter_params_error_t *err);
static int airouter_controls_names(json_t *v, const char *param,
    airouter_name_t *out, size_t *n, airouter_params_error_t *err);
static int airouter_controls_bool(json_t *v, const char *param, int *out,
    airouter_params_error_t *err);
static int airouter_controls_price(json_t *v, const char *param,
    double *out, airouter_params_error_t *err);
static int airouter_controls_type(const char *param, const char *expected,
    json_t *got, airouter_params_error_t *err);
static int airouter_controls_too_many(const char *param, size_t max,
    airouter_params_error_t *err);
static const char *airouter_controls_kind(json_t *v);


void
airouter_controls_init(airouter_controls_t *c)
{
    memset(c, 0, sizeof(airouter_controls_t));
    c->max_prompt = -1;
    c->max_completion = -1;
    c->allow_fallbacks = 1;
}


int
airouter_controls_parse(json_t *body, airouter_controls_t *c,
    airouter_params_error_t *err)
{
    json_t  *v;

    airouter_controls_init(c);

    if (!json_is_object(body)) {
        return 0;
    }

    v = json_object_get(body, "models");

    if (v != NULL && !json_is_null(v)) {
        if (airouter_controls_models(v, c, err) != 0) {
            return -1;
        }
    }

    v = json_object_get(body, "provider");

    if (v != NULL && !json_is_null(v)) {
        if (airouter_controls_provider(v, c, err) != 0) {
            return -1;
        }
    }

    if (c->require_parameters) {
        c->params_used = airouter_controls_params_used(body);
    }

    return 0;
}


/* The table's names, and the other names requests and lists use. */
static const struct {
    const char               *name;
    uint32_t                  bit;
} airouter_controls_params[] = {
#define AIROUTER_PARAM_ENTRY(id, name)  { name, AIROUTER_PARAM_BIT(id) },
    AIROUTER_PARAMETERS(AIROUTER_PARAM_ENTRY)
#undef AIROUTER_PARAM_ENTRY
    { "functions", AIROUTER_PARAM_BIT(TOOLS) },
    { "function_call", AIROUTER_PARAM_BIT(TOOL_CHOICE) },
    { "max_completion_tokens", AIROUTER_PARAM_BIT(MAX_TOKENS) },
    { "reasoning_effort", AIROUTER_PARAM_BIT(REASONING) }
};


uint32_t
airouter_controls_param(const char *name, size_t len)
{
    size_t  i;

    if (name == NULL) {
        return 0;
    }

    for (i = 0; i < sizeof(airouter_controls_params)
                    / sizeof(airouter_controls_params[0]); i++)
    {
        if (strlen(airouter_controls_params[i].name) == len
            && strncasecmp(airouter_controls_params[i].name, name, len) == 0)
        {
            return airouter_controls_params[i].bit;
        }
    }

    return 0;
}


uint32_t
airouter_controls_param_list(const char *const *names, size_t n)
{
    size_t    i;
    uint32_t  bits;

    bits = 0;

    for (i = 0; i < n; i++) {
        if (names[i] != NULL) {
            bits |= airouter_controls_param(names[i], strlen(names[i]));
        }
    }

    return bits;
}


uint32_t
airouter_controls_params_used(json_t *body)
{
    json_t      *v, *type;
    uint32_t     bit, used;
    const char  *key;

    used = 0;

    if (!json_is_object(body)) {
        return 0;
    }

    json_object_foreach(body, key, v) {
        if (json_is_null(v)) {
            continue;
        }

        bit = airouter_controls_param(key, strlen(key));

        if (bit == AIROUTER_PARAM_BIT(TOOLS) && json_is_array(v)
            && json_array_size(v) == 0)
        {
            continue;
        }

        used |= bit;

        /* a JSON schema to follow needs structured outputs as well */
        if (bit == AIROUTER_PARAM_BIT(RESPONSE_FORMAT)) {
            type = json_object_get(v, "type");

            if (json_is_string(type)
                && strcmp(json_string_value(type), "json_schema") == 0)
            {
                used |= AIROUTER_PARAM_BIT(STRUCTURED_OUTPUTS);
            }
        }
    }

    return used;
}


const char *
airouter_controls_param_name(unsigned i)
{
    static const char  *names[AIROUTER_PARAM_N] = {
#define AIROUTER_PARAM_NAME(id, name)  name,
        AIROUTER_PARAMETERS(AIROUTER_PARAM_NAME)
#undef AIROUTER_PARAM_NAME
    };

    return i < AIROUTER_PARAM_N ? names[i] : NULL;
}


airouter_sort_e
airouter_controls_suffix(const char *model, size_t len, size_t *base_len)
{
    size_t  i, n;

    static const struct {
        const char       *suffix;
        airouter_sort_e   sort;
    } suffixes[] = {
        { ":floor", AIROUTER_SORT_PRICE },
        { ":nitro", AIROUTER_SORT_THROUGHPUT }
    };

    *base_len = len;

    if (model == NULL) {
        return AIROUTER_SORT_NONE;
    }

    for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        n = strlen(suffixes[i].suffix);

        /* the suffix alone names nothing: it stays a (bad) query */
        if (len > n
            && strncasecmp(model + len - n, suffixes[i].suffix, n) == 0)
        {
            *base_len = len - n;
            return suffixes[i].sort;
        }
    }

    return AIROUTER_SORT_NONE;
}


const char *
airouter_controls_sort_name(airouter_sort_e sort)
{
    switch (sort) {
    case AIROUTER_SORT_PRICE:
        return "price";
    case AIROUTER_SORT_THROUGHPUT:
        return "throughput";
    case AIROUTER_SORT_LATENCY:
        return "latency";
    default:
        return "none";
    }
}


static int
airouter_controls_models(json_t *v, airouter_controls_t *c,
    airouter_params_error_t *err)
{
    char     param[32];
    size_t   i;
    json_t  *item;

    if (!json_is_array(v)) {
        return airouter_controls_type("models", "an array", v, err);
    }

    if (json_array_size(v) > AIROUTER_CONTROLS_MODELS) {
        return airouter_controls_too_many("models", AIROUTER_CONTROLS_MODELS,
                                          err);
    }

    json_array_foreach(v, i, item) {
        snprintf(param, sizeof(param), "models[%zu]", i);

        if (!json_is_string(item)) {
            return airouter_controls_type(param, "a string", item, err);
        }

        if (json_string_length(item) == 0) {
            snprintf(err->param, sizeof(err->param), "%s", param);
            snprintf(err->message, sizeof(err->message),
                     "Invalid value for '%s': a model name must not be "
                     "empty.", param);
            err->code = "invalid_value";
            return -1;
        }

        c->models[c->nmodels].s = json_string_value(item);
        c->models[c->nmodels].len = json_string_length(item);
        c->nmodels++;
    }

    if (c->nmodels) {
        c->given |= AIROUTER_CONTROL_MODELS;
    }

    return 0;
}


static int
airouter_controls_provider(json_t *v, airouter_controls_t *c,
    airouter_params_error_t *err)
{
    size_t       i;
    json_t      *f, *mp;
    const char  *s;

    static const struct {
        const char       *name;
        airouter_sort_e   sort;
    } sorts[] = {
        { "price", AIROUTER_SORT_PRICE },
        { "throughput", AIROUTER_SORT_THROUGHPUT },
        { "latency", AIROUTER_SORT_LATENCY }
    };

    if (!json_is_object(v)) {
        return airouter_controls_type("provider", "an object", v, err);
    }

    c->given |= AIROUTER_CONTROL_PROVIDER;

    if (airouter_controls_names(json_object_get(v, "order"), "provider.order",
                                c->order, &c->norder, err) != 0
        || airouter_controls_names(json_object_get(v, "only"),
                                   "provider.only", c->only, &c->nonly, err)
           != 0
        || airouter_controls_names(json_object_get(v, "ignore"),
                                   "provider.ignore", c->ignore, &c->nignore,
                                   err) != 0
        || airouter_controls_bool(json_object_get(v, "allow_fallbacks"),
                                  "provider.allow_fallbacks",
                                  &c->allow_fallbacks, err) != 0
        || airouter_controls_bool(json_object_get(v, "require_parameters"),
                                  "provider.require_parameters",
                                  &c->require_parameters, err) != 0)
    {
        return -1;
    }

    f = json_object_get(v, "data_collection");

    if (f != NULL && !json_is_null(f)) {
        if (!json_is_string(f)) {
            return airouter_controls_type("provider.data_collection",
                                          "a string", f, err);
        }

        s = json_string_value(f);

        if (strcmp(s, "deny") == 0) {
            c->deny_data_collection = 1;

        } else if (strcmp(s, "allow") != 0) {
            snprintf(err->param, sizeof(err->param),
                     "provider.data_collection");
            snprintf(err->message, sizeof(err->message),
                     "Invalid value: '%.*s'. Supported values are: 'allow' "
                     "and 'deny'.",
                     (int) (json_string_length(f) > 64
                            ? 64 : json_string_length(f)), s);
            err->code = "invalid_value";
            return -1;
        }
    }

    f = json_object_get(v, "sort");

    if (f != NULL && !json_is_null(f)) {
        if (!json_is_string(f)) {
            return airouter_controls_type("provider.sort", "a string", f,
                                          err);
        }

        s = json_string_value(f);

        for (i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++) {
            if (strlen(sorts[i].name) == json_string_length(f)
                && strcmp(s, sorts[i].name) == 0)
            {
                c->sort = sorts[i].sort;
                break;
            }
        }

        if (i == sizeof(sorts) / sizeof(sorts[0])) {
            snprintf(err->param, sizeof(err->param), "provider.sort");
            snprintf(err->message, sizeof(err->message),
                     "Invalid value: '%.*s'. Supported values are: 'price', "
                     "'throughput', and 'latency'.",
                     (int) (json_string_length(f) > 64
                            ? 64 : json_string_length(f)), s);
            err->code = "invalid_value";
            return -1;
        }
    }

    mp = json_object_get(v, "max_price");

    if (mp != NULL && !json_is_null(mp)) {
        if (!json_is_object(mp)) {
            return airouter_controls_type("provider.max_price", "an object",
                                          mp, err);
        }

        if (airouter_controls_price(json_object_get(mp, "prompt"),
                                    "provider.max_price.prompt",
                                    &c->max_prompt, err) != 0
            || airouter_controls_price(json_object_get(mp, "completion"),
                                       "provider.max_price.completion",
                                       &c->max_completion, err) != 0)
        {
            return -1;
        }
    }

    return 0;
}


static int
airouter_controls_names(json_t *v, const char *param, airouter_name_t *out,
    size_t *n, airouter_params_error_t *err)
{
    char     item_param[48];
    size_t   i;
    json_t  *item;

    *n = 0;

    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (!json_is_array(v)) {
        return airouter_controls_type(param, "an array", v, err);
    }

    if (json_array_size(v) > AIROUTER_CONTROLS_NAMES) {
        return airouter_controls_too_many(param, AIROUTER_CONTROLS_NAMES, err);
    }

    json_array_foreach(v, i, item) {
        snprintf(item_param, sizeof(item_param), "%s[%zu]", param, i);

        if (!json_is_string(item) || json_string_length(item) == 0) {
            return airouter_controls_type(item_param, "a non-empty string",
                                          item, err);
        }

        out[*n].s = json_string_value(item);
        out[*n].len = json_string_length(item);
        (*n)++;
    }

    return 0;
}


static int
airouter_controls_bool(json_t *v, const char *param, int *out,
    airouter_params_error_t *err)
{
    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (!json_is_boolean(v)) {
        return airouter_controls_type(param, "a boolean", v, err);
    }

    *out = json_is_true(v) ? 1 : 0;

    return 0;
}


/* A price per million tokens, stored per token. */
static int
airouter_controls_price(json_t *v, const char *param, double *out,
    airouter_params_error_t *err)
{
    double  d;

    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (!json_is_number(v)) {
        return airouter_controls_type(param, "a number", v, err);
    }

    d = json_number_value(v);

    if (!(d >= 0) || isinf(d)) {
        snprintf(err->param, sizeof(err->param), "%s", param);
        snprintf(err->message, sizeof(err->message),
                 "Invalid '%s': decimal below minimum value. Expected a "
                 "value >= 0, but got %g instead.", param, d);
        err->code = "decimal_below_min_value";
        return -1;
    }

    *out = d / 1e6;

    return 0;
}


static int
airouter_controls_type(const char *param, const char *expected, json_t *got,
    airouter_params_error_t *err)
{
    snprintf(err->param, sizeof(err->param), "%s", param);
    snprintf(err->message, sizeof(err->message),
             "Invalid type for '%s': expected %s, but got %s instead.",
             param, expected, airouter_controls_kind(got));
    err->code = "invalid_type";

    return -1;
}


static int
airouter_controls_too_many(const char *param, size_t max,
    airouter_params_error_t *err)
{
    snprintf(err->param, sizeof(err->param), "%s", param);
    snprintf(err->message, sizeof(err->message),
             "Invalid '%s': array too long. Expected an array with maximum "
             "length %zu.", param, max);
    err->code = "array_above_max_length";

    return -1;
}


static const char *
airouter_controls_kind(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return json_string_length(v) ? "a string" : "an empty string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a decimal";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}
