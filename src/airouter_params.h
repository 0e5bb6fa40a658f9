/*
 * The parameters of an OpenAI request and the JSON type (and range) each
 * must have, per endpoint: one table, so that a request that OpenAI
 * refuses ("stream": "yes", "n": 0, "temperature": "hot", a "messages"
 * that is not a list of objects) gets the same 400 here, with OpenAI's
 * message, param and code, before any upstream is called.
 *
 * The check takes one (key, value) pair at a time, as a scanner meets
 * them, so it serves a jansson tree today (airouter_params_json.c walks
 * a body's members for the API handler) and a single-pass validating
 * scanner later.
 * Parameters it does not know pass: providers take many of their own.
 *
 * Pure C.
 */

#ifndef AIROUTER_PARAMS_H
#define AIROUTER_PARAMS_H

#include <stddef.h>


/* A JSON value's kind, one bit each so that a parameter can allow several. */
typedef enum {
    AIROUTER_JSON_NULL   = 0x01,
    AIROUTER_JSON_BOOL   = 0x02,
    AIROUTER_JSON_INT    = 0x04,       /* a number without '.' or 'e' */
    AIROUTER_JSON_REAL   = 0x08,
    AIROUTER_JSON_STRING = 0x10,
    AIROUTER_JSON_ARRAY  = 0x20,
    AIROUTER_JSON_OBJECT = 0x40
} airouter_json_kind_e;


/* The endpoints a parameter belongs to. */
#define AIROUTER_PARAMS_CHAT         0x01
#define AIROUTER_PARAMS_COMPLETIONS  0x02
#define AIROUTER_PARAMS_EMBEDDINGS   0x04


/* One value as the check needs it. */
typedef struct {
    airouter_json_kind_e      kind;
    double                    number;       /* INT, REAL */
    size_t                    length;       /* ARRAY: its items */
} airouter_json_value_t;


/* OpenAI's error: {"message", "type": "invalid_request_error", "param",
 * "code"}. */
typedef struct {
    char                      message[256];
    char                      param[96];
    const char               *code;
} airouter_params_error_t;


/*
 * One member of a request body for endpoint (AIROUTER_PARAMS_*): 0 when
 * its value is acceptable (or the parameter is not one the table knows),
 * -1 with err filled.
 */
int airouter_params_check(unsigned endpoint, const char *key, size_t klen,
    const airouter_json_value_t *v, airouter_params_error_t *err);

/*
 * Item i of a chat request's "messages": an object whose "role" is one of
 * OpenAI's and whose "content", when present, is a string, a list or
 * null.  role is NULL when the item has none; role_kind and content are
 * the kinds of those members (0: absent).
 */
int airouter_params_check_message(size_t i, airouter_json_kind_e item,
    airouter_json_kind_e role_kind, const char *role, size_t role_len,
    airouter_json_kind_e content, airouter_params_error_t *err);

#endif /* AIROUTER_PARAMS_H */
