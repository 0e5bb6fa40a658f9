/*
 * /models answers to airouter_model_info_t, declared in
 * airouter_models_json.h.  Two passes over the parsed document: the first
 * sizes one block for the records and their strings, the second fills it,
 * so the caller frees a single pointer.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "airouter_controls.h"
#include "airouter_models_json.h"


static json_t *airouter_models_json_list(json_t *root);
static const char *airouter_models_json_id(json_t *item);
static const char *airouter_models_json_currency(json_t *item);
static int airouter_models_json_number(json_t *v, double *out);
static uint64_t airouter_models_json_count(json_t *item, const char *a,
    const char *b, const char *c);
static int airouter_models_json_has(json_t *arr, const char *s);
static void airouter_models_json_item(json_t *item,
    airouter_model_info_t *info);
static void airouter_models_json_kind(const char *type, uint32_t *caps,
    uint32_t *known);
static void airouter_models_json_size(json_t *item,
    airouter_model_info_t *info);


int
airouter_models_json_parse(const char *json, size_t len,
    airouter_model_info_t **out, size_t *n, char *err, size_t errlen)
{
    char                   *strings;
    size_t                  i, count, bytes, l;
    json_t                 *root, *list, *item;
    const char             *id, *cur;
    json_error_t            je;
    airouter_model_info_t  *info;

    *out = NULL;
    *n = 0;

    root = json_loadb(json, len, 0, &je);
    if (root == NULL) {
        if (err != NULL && errlen > 0) {
            snprintf(err, errlen, "line %d, column %d: %s", je.line,
                     je.column, je.text);
        }
        return -1;
    }

    list = airouter_models_json_list(root);
    if (list == NULL) {
        if (err != NULL && errlen > 0) {
            snprintf(err, errlen, "no \"data\" or \"models\" list");
        }
        json_decref(root);
        return -1;
    }

    count = 0;
    bytes = 0;

    json_array_foreach(list, i, item) {
        id = airouter_models_json_id(item);
        if (id == NULL) {
            continue;
        }

        cur = airouter_models_json_currency(item);
        bytes += strlen(id) + 1 + (cur ? strlen(cur) + 1 : 0);
        count++;
    }

    info = calloc(1, count * sizeof(airouter_model_info_t) + bytes + 1);
    if (info == NULL) {
        if (err != NULL && errlen > 0) {
            snprintf(err, errlen, "out of memory");
        }
        json_decref(root);
        return -1;
    }

    strings = (char *) (info + count);
    count = 0;

    json_array_foreach(list, i, item) {
        id = airouter_models_json_id(item);
        if (id == NULL) {
            continue;
        }

        l = strlen(id) + 1;
        memcpy(strings, id, l);
        info[count].id = strings;
        strings += l;

        cur = airouter_models_json_currency(item);
        if (cur != NULL) {
            l = strlen(cur) + 1;
            memcpy(strings, cur, l);
            info[count].currency = strings;
            strings += l;
        }

        airouter_models_json_item(item, &info[count]);
        count++;
    }

    json_decref(root);

    *out = info;
    *n = count;

    return 0;
}


void
airouter_models_json_free(airouter_model_info_t *models)
{
    free(models);
}


static json_t *
airouter_models_json_list(json_t *root)
{
    json_t  *list;

    if (json_is_array(root)) {
        return root;
    }

    list = json_object_get(root, "data");
    if (json_is_array(list)) {
        return list;
    }

    list = json_object_get(root, "models");
    if (json_is_array(list)) {
        return list;
    }

    return NULL;
}


/*
 * The entry's id, or NULL to skip it (no id; Groq's inactive models; an
 * id with a control character, which would reach X-Router-Model and the
 * logs).
 */
static const char *
airouter_models_json_id(json_t *item)
{
    const char     *id;
    const uint8_t  *p;

    if (!json_is_object(item)) {
        return NULL;
    }

    if (json_is_false(json_object_get(item, "active"))) {
        return NULL;
    }

    id = json_string_value(json_object_get(item, "id"));

    if (id == NULL) {
        id = json_string_value(json_object_get(item, "model"));
    }

    if (id == NULL) {
        id = json_string_value(json_object_get(item, "name"));
    }

    if (id == NULL || id[0] == '\0') {
        return NULL;
    }

    for (p = (const uint8_t *) id; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return NULL;
        }
    }

    return id;
}


static const char *
airouter_models_json_currency(json_t *item)
{
    json_t  *pricing;

    pricing = json_object_get(item, "pricing");

    return json_string_value(json_object_get(pricing, "currency"));
}


/* A number, or a string holding one (OpenRouter prices are strings). */
static int
airouter_models_json_number(json_t *v, double *out)
{
    char        *end;
    double       d;
    const char  *s;

    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 1;
    }

    s = json_string_value(v);
    if (s == NULL || s[0] == '\0') {
        return 0;
    }

    d = strtod(s, &end);
    if (end == s || *end != '\0') {
        return 0;
    }

    *out = d;

    return 1;
}


static uint64_t
airouter_models_json_count(json_t *item, const char *a, const char *b,
    const char *c)
{
    double  d;

    if ((a && airouter_models_json_number(json_object_get(item, a), &d))
        || (b && airouter_models_json_number(json_object_get(item, b), &d))
        || (c && airouter_models_json_number(json_object_get(item, c), &d)))
    {
        if (d >= 1 && d < 1e12) {
            return (uint64_t) d;
        }
    }

    return 0;
}


static int
airouter_models_json_has(json_t *arr, const char *s)
{
    size_t       i;
    json_t      *v;
    const char  *str;

    json_array_foreach(arr, i, v) {
        str = json_string_value(v);
        if (str != NULL && strcmp(str, s) == 0) {
            return 1;
        }
    }

    return 0;
}


static void
airouter_models_json_item(json_t *item, airouter_model_info_t *info)
{
    size_t       i;
    double       prompt, completion, request;
    json_t      *pricing, *arch, *in, *outm, *params, *caps, *top, *p;
    const char  *modality, *arrow, *family;

    info->context = airouter_models_json_count(item, "context_length",
                                               "context_window",
                                               "max_model_len");
    if (info->context == 0) {
        info->context = airouter_models_json_count(item,
                                                   "max_context_length",
                                                   NULL, NULL);
    }

    top = json_object_get(item, "top_provider");

    if (info->context == 0 && json_is_object(top)) {
        info->context = airouter_models_json_count(top, "context_length",
                                                   NULL, NULL);
    }

    info->max_output = airouter_models_json_count(item, "max_output_tokens",
                                                  "max_completion_tokens",
                                                  NULL);
    if (info->max_output == 0 && json_is_object(top)) {
        info->max_output = airouter_models_json_count(top,
                                                      "max_completion_tokens",
                                                      NULL, NULL);
    }

    pricing = json_object_get(item, "pricing");

    if (json_is_object(pricing)
        && airouter_models_json_number(json_object_get(pricing, "prompt"),
                                       &prompt)
        && airouter_models_json_number(json_object_get(pricing, "completion"),
                                       &completion)
        && prompt >= 0 && completion >= 0)
    {
        /* negative prices ("-1": variable, router models) stay unknown */
        info->has_price = 1;
        info->price_prompt = prompt;
        info->price_completion = completion;

        /* OpenRouter's prompt-cache prices, per token like the rest */
        info->has_cache_read = airouter_models_json_number(
                                   json_object_get(pricing,
                                                   "input_cache_read"),
                                   &info->price_cache_read)
                               && info->price_cache_read >= 0;
        info->has_cache_write = airouter_models_json_number(
                                    json_object_get(pricing,
                                                    "input_cache_write"),
                                    &info->price_cache_write)
                                && info->price_cache_write >= 0;
    }

    /*
     * OpenRouter's price per request (its "image" is an image in the
     * prompt, not one generated: not read).
     */
    if (json_is_object(pricing)
        && airouter_models_json_number(json_object_get(pricing, "request"),
                                       &request)
        && request >= 0)
    {
        info->has_units = 1;
        airouter_unit_price_init(&info->units);
        info->units.request = request;
    }

    arch = json_object_get(item, "architecture");
    in = json_object_get(arch, "input_modalities");
    outm = json_object_get(arch, "output_modalities");

    if (json_is_array(in)) {
        info->caps_known |= AIROUTER_CAP_VISION;

        if (airouter_models_json_has(in, "image")) {
            info->caps |= AIROUTER_CAP_VISION;
        }

    } else {
        modality = json_string_value(json_object_get(arch, "modality"));
        arrow = modality ? strstr(modality, "->") : NULL;

        if (arrow != NULL) {
            info->caps_known |= AIROUTER_CAP_VISION;

            if (strstr(modality, "image") != NULL
                && strstr(modality, "image") < arrow)
            {
                info->caps |= AIROUTER_CAP_VISION;
            }
        }
    }

    if (json_is_array(outm)) {
        if (airouter_models_json_has(outm, "text")) {
            info->caps |= AIROUTER_CAP_CHAT;

        } else if (airouter_models_json_has(outm, "image")) {
            info->caps |= AIROUTER_CAP_IMAGE_GEN;

        } else if (airouter_models_json_has(outm, "embeddings")
                   || airouter_models_json_has(outm, "embedding"))
        {
            info->caps |= AIROUTER_CAP_EMBEDDING;

        } else if (airouter_models_json_has(outm, "audio")) {
            info->caps |= AIROUTER_CAP_SPEECH;
        }

        if (info->caps & AIROUTER_CAP_KIND) {
            info->caps_known |= AIROUTER_CAP_KIND;
        }
    }

    airouter_models_json_kind(json_string_value(json_object_get(item,
                                                                "type")),
                              &info->caps, &info->caps_known);

    /* SiliconFlow: "type" says text/image/audio, "sub_type" the kind */
    airouter_models_json_kind(json_string_value(json_object_get(item,
                                                                "sub_type")),
                              &info->caps, &info->caps_known);

    /* Ollama's native list: embedding models are of the bert families */
    family = json_string_value(json_object_get(json_object_get(item,
                                                               "details"),
                                               "family"));
    if (family != NULL && strstr(family, "bert") != NULL) {
        airouter_models_json_kind("embedding", &info->caps,
                                  &info->caps_known);
    }

    params = json_object_get(item, "supported_parameters");

    if (json_is_array(params)) {
        info->caps_known |= AIROUTER_CAP_TOOLS;
        info->params_known = 1;

        for (i = 0; i < json_array_size(params); i++) {
            p = json_array_get(params, i);

            if (json_is_string(p)) {
                info->params |= airouter_controls_param(json_string_value(p),
                                                        json_string_length(p));
            }
        }

        if (airouter_models_json_has(params, "tools")) {
            info->caps |= AIROUTER_CAP_TOOLS;
        }

        if (airouter_models_json_has(params, "reasoning")
            || airouter_models_json_has(params, "include_reasoning"))
        {
            info->caps |= AIROUTER_CAP_REASONING;
            info->caps_known |= AIROUTER_CAP_REASONING;
        }
    }

    /* LM Studio and Ollama list capabilities by name */
    caps = json_object_get(item, "capabilities");

    if (json_is_array(caps)) {
        info->caps_known |= AIROUTER_CAP_TOOLS | AIROUTER_CAP_VISION;

        if (airouter_models_json_has(caps, "tools")) {
            info->caps |= AIROUTER_CAP_TOOLS;
        }

        if (airouter_models_json_has(caps, "vision")) {
            info->caps |= AIROUTER_CAP_VISION;
        }

        if (airouter_models_json_has(caps, "embedding")) {
            airouter_models_json_kind("embedding", &info->caps,
                                      &info->caps_known);
        }
    }

    airouter_models_json_size(item, info);
}


/*
 * "type" or "sub_type": what some providers (Together, LM Studio,
 * SiliconFlow) say a model is.  A word that names no kind ("text" as
 * SiliconFlow's type of chat and embedding models alike, "audio" as
 * SiliconFlow's type of both directions) changes nothing.
 */
static void
airouter_models_json_kind(const char *type, uint32_t *caps, uint32_t *known)
{
    uint32_t  kind;

    if (type == NULL || strcmp(type, "text") == 0) {
        return;
    }

    kind = airouter_tags_kind(type, strlen(type));

    if (kind == 0) {
        return;
    }

    *caps = (*caps & ~AIROUTER_CAP_KIND) | kind;
    *known |= AIROUTER_CAP_KIND;
}


/* Ollama's details.parameter_size: "8.0B", "567.6M" */
static void
airouter_models_json_size(json_t *item, airouter_model_info_t *info)
{
    char        *end;
    double       v;
    const char  *s;

    s = json_string_value(json_object_get(json_object_get(item, "details"),
                                          "parameter_size"));
    if (s == NULL) {
        return;
    }

    v = strtod(s, &end);

    if (end == s || !(v > 0)) {
        return;
    }

    switch (*end) {
    case 'B':
    case 'b':
        v *= 1000;
        break;
    case 'M':
    case 'm':
        break;
    case 'T':
    case 't':
        v *= 1000000;
        break;
    default:
        return;
    }

    info->params_total = v;
    info->params_active = v;
}
