/*
 * The parameter table over a jansson tree; see airouter_params_json.h.
 */

#include "airouter_params_json.h"


void
airouter_params_json_value(const json_t *v, airouter_json_value_t *out)
{
    out->number = 0;
    out->length = 0;

    if (v == NULL) {
        out->kind = 0;
        return;
    }

    switch (json_typeof(v)) {

    case JSON_OBJECT:
        out->kind = AIROUTER_JSON_OBJECT;
        break;

    case JSON_ARRAY:
        out->kind = AIROUTER_JSON_ARRAY;
        out->length = json_array_size(v);
        break;

    case JSON_STRING:
        out->kind = AIROUTER_JSON_STRING;
        break;

    case JSON_INTEGER:
        out->kind = AIROUTER_JSON_INT;
        out->number = (double) json_integer_value(v);
        break;

    case JSON_REAL:
        out->kind = AIROUTER_JSON_REAL;
        out->number = json_real_value(v);
        break;

    case JSON_TRUE:
    case JSON_FALSE:
        out->kind = AIROUTER_JSON_BOOL;
        break;

    default:
        out->kind = AIROUTER_JSON_NULL;
        break;
    }
}


int
airouter_params_json_message(size_t i, json_t *msg,
    airouter_params_error_t *err)
{
    json_t                 *role, *content;
    airouter_json_value_t   item, rv, cv;

    airouter_params_json_value(msg, &item);

    role = json_is_object(msg) ? json_object_get(msg, "role") : NULL;
    content = json_is_object(msg) ? json_object_get(msg, "content") : NULL;

    airouter_params_json_value(role, &rv);
    airouter_params_json_value(content, &cv);

    return airouter_params_check_message(i, item.kind, rv.kind,
               json_is_string(role) ? json_string_value(role) : NULL,
               json_is_string(role) ? json_string_length(role) : 0,
               cv.kind, err);
}


int
airouter_params_json_body(unsigned endpoint, json_t *body,
    airouter_params_error_t *err)
{
    size_t                  i, klen;
    json_t                 *v, *msg;
    const char             *key;
    airouter_json_value_t   value;

    json_object_keylen_foreach(body, key, klen, v) {
        airouter_params_json_value(v, &value);

        if (airouter_params_check(endpoint, key, klen, &value, err) != 0) {
            return -1;
        }
    }

    if (endpoint != AIROUTER_PARAMS_CHAT) {
        return 0;
    }

    v = json_object_get(body, "messages");

    json_array_foreach(v, i, msg) {
        if (airouter_params_json_message(i, msg, err) != 0) {
            return -1;
        }
    }

    return 0;
}
