/*
 * The request parameter table (airouter_params.c) on arbitrary bodies:
 * byte 0 picks the endpoint (chat, completions, embeddings), the rest is
 * read by jansson, and every top-level member (and, for chat, every item
 * of "messages") is checked as ngx_http_airouter_api.c checks it.
 * Oracles: a refusal has one of OpenAI's codes, a NUL-terminated param
 * and message (the message names the param, but for a role's
 * invalid_value, which quotes the role); a top-level refusal's param is
 * the key; null always passes; a type refusal depends on the kind alone
 * (the same kind with any number or length is refused the same way);
 * range refusals are only for numbers and arrays; checking twice gives
 * the same answer; the API's whole-body check (airouter_params_json_body)
 * refuses exactly when a member or a message is refused, with the first
 * of those refusals.
 */

#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "airouter_params_json.h"


static int check_member(unsigned ep, const char *key, size_t klen,
    json_t *v, airouter_params_error_t *first);
static int check_messages(json_t *msgs, airouter_params_error_t *first);
static void check_error(const airouter_params_error_t *err);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                      rc, refused;
    size_t                   klen;
    json_t                  *root, *v;
    unsigned                 ep;
    const char              *key;
    airouter_params_error_t  first, body;

    static const unsigned  eps[] = {
        AIROUTER_PARAMS_CHAT, AIROUTER_PARAMS_COMPLETIONS,
        AIROUTER_PARAMS_EMBEDDINGS
    };

    if (size == 0) {
        return 0;
    }

    ep = eps[data[0] % 3];

    root = json_loadb((const char *) data + 1, size - 1, 0, NULL);
    if (root == NULL) {
        return 0;
    }

    if (json_is_object(root)) {
        refused = 0;

        json_object_keylen_foreach(root, key, klen, v) {
            if (check_member(ep, key, klen, v, refused ? NULL : &first)) {
                refused = 1;
            }
        }

        v = json_object_get(root, "messages");
        if (ep == AIROUTER_PARAMS_CHAT && json_is_array(v)
            && check_messages(v, refused ? NULL : &first))
        {
            refused = 1;
        }

        /* the API's whole-body check: the first refusal met, or none */
        rc = airouter_params_json_body(ep, root, &body);
        FUZZ_CHECK((rc != 0) == refused, "body check %d, members %d", rc,
                   refused);

        if (refused) {
            FUZZ_CHECK(strcmp(body.param, first.param) == 0
                       && strcmp(body.code, first.code) == 0
                       && strcmp(body.message, first.message) == 0,
                       "body check refused '%s', the members '%s'",
                       body.param, first.param);
        }
    }

    json_decref(root);

    return 0;
}


/* One member and the oracles on its answer; its refusal into *first. */
static int
check_member(unsigned ep, const char *key, size_t klen, json_t *v,
    airouter_params_error_t *first)
{
    int                      rc, rc2;
    airouter_json_value_t    value, other;
    airouter_params_error_t  err, err2;

    airouter_params_json_value(v, &value);

    memset(&err, 0x55, sizeof(err));
    rc = airouter_params_check(ep, key, klen, &value, &err);
    FUZZ_CHECK(rc == 0 || rc == -1, "rc %d", rc);

    rc2 = airouter_params_check(ep, key, klen, &value, &err2);
    FUZZ_CHECK(rc == rc2, "checked twice: %d then %d", rc, rc2);

    if (value.kind == AIROUTER_JSON_NULL) {
        FUZZ_CHECK(rc == 0, "null refused for %.*s", (int) klen, key);
    }

    if (rc == 0) {
        return 0;
    }

    if (first) {
        *first = err;
    }

    check_error(&err);
    FUZZ_CHECK(strcmp(err.message, err2.message) == 0
               && strcmp(err.param, err2.param) == 0
               && strcmp(err.code, err2.code) == 0, "checked twice");

    if (klen < sizeof(err.param) && memchr(key, '\0', klen) == NULL) {
        FUZZ_CHECK(strlen(err.param) == klen
                   && memcmp(err.param, key, klen) == 0,
                   "param '%s' for key '%.*s'", err.param, (int) klen, key);
    }

    other = value;
    other.number = 0.5;
    other.length = 1;

    rc2 = airouter_params_check(ep, key, klen, &other, &err2);

    if (strcmp(err.code, "invalid_type") == 0) {
        FUZZ_CHECK(rc2 == -1 && strcmp(err2.code, "invalid_type") == 0,
                   "a type refusal that depends on the value");

    } else {
        FUZZ_CHECK(value.kind & (AIROUTER_JSON_INT|AIROUTER_JSON_REAL
                                 |AIROUTER_JSON_ARRAY),
                   "%s for a kind that has no range", err.code);
    }

    return -1;
}


/* Each item of "messages"; the first refusal into *first. */
static int
check_messages(json_t *msgs, airouter_params_error_t *first)
{
    int                      rc, refused;
    size_t                   i;
    json_t                  *msg, *role;
    airouter_json_value_t    item, rv;
    airouter_params_error_t  err;
    char                     prefix[32];

    refused = 0;

    json_array_foreach(msgs, i, msg) {
        airouter_params_json_value(msg, &item);

        role = json_is_object(msg) ? json_object_get(msg, "role") : NULL;
        airouter_params_json_value(role, &rv);

        memset(&err, 0x55, sizeof(err));
        rc = airouter_params_json_message(i, msg, &err);

        if (rc == 0) {
            FUZZ_CHECK(item.kind == AIROUTER_JSON_OBJECT
                       && rv.kind == AIROUTER_JSON_STRING,
                       "message %zu accepted without an object and a role",
                       i);
            continue;
        }

        FUZZ_CHECK(rc == -1, "rc %d", rc);
        check_error(&err);

        snprintf(prefix, sizeof(prefix), "messages[%zu]", i);
        FUZZ_CHECK(strncmp(err.param, prefix, strlen(prefix)) == 0,
                   "param '%s' for message %zu", err.param, i);

        if (first && !refused) {
            *first = err;
        }

        refused = 1;
    }

    return refused;
}


static void
check_error(const airouter_params_error_t *err)
{
    size_t       i;
    char         needle[sizeof(err->param) + 2];

    static const char  *codes[] = {
        "invalid_type", "invalid_value", "missing_required_parameter",
        "integer_below_min_value", "integer_above_max_value",
        "decimal_below_min_value", "decimal_above_max_value",
        "array_above_max_length"
    };

    FUZZ_CHECK(err->code != NULL, "no code");

    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        if (strcmp(err->code, codes[i]) == 0) {
            break;
        }
    }

    FUZZ_CHECK(i < sizeof(codes) / sizeof(codes[0]), "code %.32s",
               err->code);

    FUZZ_CHECK(memchr(err->param, '\0', sizeof(err->param)) != NULL
               && err->param[0] != '\0', "param not terminated or empty");
    FUZZ_CHECK(memchr(err->message, '\0', sizeof(err->message)) != NULL,
               "message not terminated");
    FUZZ_CHECK(strncmp(err->message, "Invalid ", 8) == 0
               || strncmp(err->message, "Missing ", 8) == 0,
               "message '%s'", err->message);

    if (strcmp(err->code, "invalid_value") != 0) {
        snprintf(needle, sizeof(needle), "'%s'", err->param);
        FUZZ_CHECK(strstr(err->message, needle) != NULL,
                   "message '%s' without '%s'", err->message, err->param);
    }
}
