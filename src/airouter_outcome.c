/*
 * The outcome table: attempt end → fault → verdict.  See airouter_outcome.h
 * for the table itself; this file holds the rules that read a status and
 * an error body, and the seed's error_handling applied to the defaults.
 */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "airouter_outcome.h"


#define AIROUTER_TEXT_MAX  512


static const char  *airouter_fault_names[AIROUTER_FAULT_N] = {
    "ok",
    "connect_error",
    "timeout",
    "server_error",
    "rate_limit_exceeded",
    "invalid_api_key",
    "quota_exceeded",
    "insufficient_credits",
    "model_not_found",
    "bad_request"
};


/* A marker found in an error's code or type names the fault directly. */
typedef struct {
    const char               *marker;
    airouter_fault_e          fault;
} airouter_marker_t;

static const airouter_marker_t  airouter_code_markers[] = {
    { "invalid_api_key",      AIROUTER_FAULT_INVALID_KEY },
    { "incorrect_api_key",    AIROUTER_FAULT_INVALID_KEY },
    { "invalid_key",          AIROUTER_FAULT_INVALID_KEY },
    { "authentication",       AIROUTER_FAULT_INVALID_KEY },
    { "unauthorized",         AIROUTER_FAULT_INVALID_KEY },
    { "permission",           AIROUTER_FAULT_INVALID_KEY },
    { "insufficient_quota",   AIROUTER_FAULT_QUOTA },
    { "quota",                AIROUTER_FAULT_QUOTA },
    { "credit",               AIROUTER_FAULT_CREDITS },
    { "balance",              AIROUTER_FAULT_CREDITS },
    { "billing",              AIROUTER_FAULT_CREDITS },
    { "payment",              AIROUTER_FAULT_CREDITS },
    { "rate_limit",           AIROUTER_FAULT_RATE_LIMIT },
    { "ratelimit",            AIROUTER_FAULT_RATE_LIMIT },
    { "too_many_requests",    AIROUTER_FAULT_RATE_LIMIT },
    { "model_not_found",      AIROUTER_FAULT_MODEL_NOT_FOUND },
    { "model_not_exist",      AIROUTER_FAULT_MODEL_NOT_FOUND },
    { "unknown_model",        AIROUTER_FAULT_MODEL_NOT_FOUND },
    { "invalid_model",        AIROUTER_FAULT_MODEL_NOT_FOUND },
    { NULL,                   AIROUTER_FAULT_NONE }
};


static airouter_fault_e airouter_outcome_status_fault(airouter_end_e end,
    int status);
static airouter_fault_e airouter_outcome_body_fault(const char *body,
    size_t len, json_t *root);
static int airouter_outcome_error_object(const char *body, size_t len);
static airouter_fault_e airouter_outcome_code_fault(const char *text);
static airouter_fault_e airouter_outcome_message_fault(const char *text);
static void airouter_outcome_lower(char *dst, const char *src, size_t len);
static int airouter_outcome_listed(const airouter_strlist_t *list,
    airouter_fault_e fault);
static long airouter_outcome_period(long configured, long dflt);


void
airouter_outcome_table_init(airouter_outcome_table_t *t,
    const airouter_error_handling_t *eh, long error_cooldown_period)
{
    long                 rate, timeout, server, blacklist, other;
    airouter_fault_e     f;
    airouter_verdict_t  *v;

    memset(t, 0, sizeof(airouter_outcome_table_t));

    /*
     * With a configuration, 0 means "no cooldown" (the loader fills in the
     * defaults for absent keys); without one, the built-in defaults.
     */
    other = airouter_outcome_period(eh || error_cooldown_period > 0
                                    ? error_cooldown_period : -1, 60);
    rate = airouter_outcome_period(eh ? eh->cooldown_rate_limit : -1, 60);
    timeout = airouter_outcome_period(eh ? eh->cooldown_timeout : -1, 30);
    server = airouter_outcome_period(eh ? eh->cooldown_server_error : -1, 120);
    blacklist = airouter_outcome_period(eh ? eh->blacklist_period : -1, 3600);

    v = t->verdict;

    v[AIROUTER_FAULT_CONNECT] =
        (airouter_verdict_t) { 1, AIROUTER_SCOPE_CHANNEL, timeout };
    v[AIROUTER_FAULT_TIMEOUT] =
        (airouter_verdict_t) { 1, AIROUTER_SCOPE_MODEL, timeout };
    v[AIROUTER_FAULT_SERVER] =
        (airouter_verdict_t) { 1, AIROUTER_SCOPE_MODEL, server };
    v[AIROUTER_FAULT_RATE_LIMIT] =
        (airouter_verdict_t) { 1, AIROUTER_SCOPE_MODEL, rate };
    v[AIROUTER_FAULT_INVALID_KEY] =
        (airouter_verdict_t) { 1, AIROUTER_SCOPE_CHANNEL, blacklist };
    v[AIROUTER_FAULT_QUOTA] =
        (airouter_verdict_t) { 1, AIROUTER_SCOPE_CHANNEL, blacklist };
    v[AIROUTER_FAULT_CREDITS] =
        (airouter_verdict_t) { 1, AIROUTER_SCOPE_CHANNEL, blacklist };
    v[AIROUTER_FAULT_MODEL_NOT_FOUND] =
        (airouter_verdict_t) { 1, AIROUTER_SCOPE_MODEL, blacklist };
    v[AIROUTER_FAULT_BAD_REQUEST] =
        (airouter_verdict_t) { 0, AIROUTER_SCOPE_NONE, 0 };

    if (eh == NULL) {
        return;
    }

    /*
     * The seed's lists move a fault: a permanent one blacklists the whole
     * channel; a temporary one only cools the model down for its period.
     */
    for (f = AIROUTER_FAULT_CONNECT; f < AIROUTER_FAULT_BAD_REQUEST; f++) {

        if (airouter_outcome_listed(&eh->permanent_errors, f)) {
            v[f].scope = AIROUTER_SCOPE_CHANNEL;
            v[f].cooldown = blacklist;

        } else if (airouter_outcome_listed(&eh->temporary_errors, f)
                   && v[f].cooldown == blacklist)
        {
            v[f].scope = AIROUTER_SCOPE_MODEL;
            v[f].cooldown = other;
        }
    }
}


airouter_fault_e
airouter_outcome_fault(airouter_end_e end, int status, const char *body,
    size_t len)
{
    json_t            *root;
    airouter_fault_e   fault;

    fault = airouter_outcome_status_fault(end, status);

    if (end != AIROUTER_END_HTTP || body == NULL || len == 0
        || (fault == AIROUTER_FAULT_NONE
            && !airouter_outcome_error_object(body, len)))
    {
        return fault;
    }

    root = json_loadb(body, len, 0, NULL);

    fault = airouter_outcome_fault_parsed(end, status, body, len, root);

    if (root) {
        json_decref(root);
    }

    return fault;
}


airouter_fault_e
airouter_outcome_fault_parsed(airouter_end_e end, int status,
    const char *body, size_t len, struct json_t *root)
{
    airouter_fault_e  fault, refined;

    fault = airouter_outcome_status_fault(end, status);

    if (end != AIROUTER_END_HTTP || body == NULL || len == 0) {
        return fault;
    }

    if (fault == AIROUTER_FAULT_NONE) {
        /* a 200 whose body is an error object is a failure all the same */
        if (!airouter_outcome_error_object(body, len)) {
            return fault;
        }

        refined = airouter_outcome_body_fault(body, len, root);

        return refined != AIROUTER_FAULT_NONE ? refined
                                              : AIROUTER_FAULT_SERVER;
    }

    refined = airouter_outcome_body_fault(body, len, root);

    if (refined == AIROUTER_FAULT_NONE) {
        return fault;
    }

    /* the body is more precise than the status: 429 insufficient_quota */
    return refined;
}


airouter_verdict_t
airouter_outcome_verdict(const airouter_outcome_table_t *t,
    airouter_fault_e fault, long retry_after)
{
    airouter_verdict_t  v;

    if (fault <= AIROUTER_FAULT_NONE || fault >= AIROUTER_FAULT_N) {
        v.retry = 0;
        v.scope = AIROUTER_SCOPE_NONE;
        v.cooldown = 0;
        return v;
    }

    v = t->verdict[fault];

    /* the provider knows best how long its limit lasts; a day at most */
    if (fault == AIROUTER_FAULT_RATE_LIMIT && retry_after > 0) {
        v.cooldown = retry_after < 86400 ? retry_after : 86400;
    }

    return v;
}


void
airouter_outcome_channel(airouter_verdict_t *v, airouter_fault_e fault,
    const airouter_channel_t *ch)
{
    if ((fault == AIROUTER_FAULT_QUOTA || fault == AIROUTER_FAULT_CREDITS)
        && v->scope == AIROUTER_SCOPE_CHANNEL && ch != NULL
        && ch->balance.enabled && ch->balance.hold)
    {
        v->scope = AIROUTER_SCOPE_MODEL;
    }
}


const char *
airouter_fault_name(airouter_fault_e fault)
{
    if (fault < 0 || fault >= AIROUTER_FAULT_N) {
        return NULL;
    }

    return airouter_fault_names[fault];
}


const char *
airouter_scope_name(airouter_scope_e scope)
{
    switch (scope) {
    case AIROUTER_SCOPE_NONE:
        return "none";
    case AIROUTER_SCOPE_MODEL:
        return "model";
    case AIROUTER_SCOPE_CHANNEL:
        return "channel";
    }

    return NULL;
}


long
airouter_outcome_retry_after(const char *value, size_t len)
{
    long    n;
    size_t  i;

    while (len && (*value == ' ' || *value == '\t')) {
        value++;
        len--;
    }

    while (len && (value[len - 1] == ' ' || value[len - 1] == '\t')) {
        len--;
    }

    if (len == 0 || len > 9) {
        return -1;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (value[i] < '0' || value[i] > '9') {
            return -1;
        }

        n = n * 10 + (value[i] - '0');
    }

    return n;
}


static airouter_fault_e
airouter_outcome_status_fault(airouter_end_e end, int status)
{
    switch (end) {
    case AIROUTER_END_CONNECT:
        return AIROUTER_FAULT_CONNECT;
    case AIROUTER_END_TIMEOUT:
        return AIROUTER_FAULT_TIMEOUT;
    case AIROUTER_END_INVALID:
        return AIROUTER_FAULT_SERVER;
    case AIROUTER_END_HTTP:
        break;
    }

    if (status >= 200 && status < 300) {
        return AIROUTER_FAULT_NONE;
    }

    switch (status) {
    case 401:
    case 403:
        return AIROUTER_FAULT_INVALID_KEY;
    case 402:
        return AIROUTER_FAULT_CREDITS;
    case 404:
        return AIROUTER_FAULT_MODEL_NOT_FOUND;
    case 408:
        return AIROUTER_FAULT_TIMEOUT;
    case 429:
        return AIROUTER_FAULT_RATE_LIMIT;
    }

    if (status >= 400 && status < 500) {
        return AIROUTER_FAULT_BAD_REQUEST;
    }

    /* 5xx, and a redirect or 1xx an API must not send */
    return AIROUTER_FAULT_SERVER;
}


/* root: the body parsed, NULL when it is not JSON (not owned) */
static airouter_fault_e
airouter_outcome_body_fault(const char *body, size_t len, json_t *root)
{
    char              text[AIROUTER_TEXT_MAX];
    json_t           *err, *v;
    const char       *keys[] = { "code", "type", "status", NULL };
    airouter_fault_e  fault;
    size_t            i;

    if (root == NULL) {
        /* truncated or not JSON: markers in the raw text still count */
        airouter_outcome_lower(text, body, len);
        fault = airouter_outcome_code_fault(text);
        return fault != AIROUTER_FAULT_NONE
               ? fault : airouter_outcome_message_fault(text);
    }

    fault = AIROUTER_FAULT_NONE;

    err = json_object_get(root, "error");
    if (!json_is_object(err)) {
        err = root;
    }

    for (i = 0; keys[i] && fault == AIROUTER_FAULT_NONE; i++) {
        v = json_object_get(err, keys[i]);

        if (json_is_string(v)) {
            airouter_outcome_lower(text, json_string_value(v),
                                   json_string_length(v));
            fault = airouter_outcome_code_fault(text);
        }
    }

    if (fault == AIROUTER_FAULT_NONE) {
        v = json_object_get(err, "message");
        if (!json_is_string(v)) {
            v = json_object_get(root, "error");     /* "error": "text" */
        }

        if (json_is_string(v)) {
            airouter_outcome_lower(text, json_string_value(v),
                                   json_string_length(v));
            fault = airouter_outcome_message_fault(text);
        }
    }

    return fault;
}


/* Does the body start as {"error": ...? */
static int
airouter_outcome_error_object(const char *body, size_t len)
{
    size_t  i;

    for (i = 0; i < len && (body[i] == ' ' || body[i] == '\t'
                            || body[i] == '\r' || body[i] == '\n'); i++)
    {
        /* void */
    }

    if (i == len || body[i] != '{') {
        return 0;
    }

    for (i++; i < len && (body[i] == ' ' || body[i] == '\t'
                          || body[i] == '\r' || body[i] == '\n'); i++)
    {
        /* void */
    }

    return len - i >= 7 && memcmp(body + i, "\"error\"", 7) == 0;
}


static airouter_fault_e
airouter_outcome_code_fault(const char *text)
{
    const airouter_marker_t  *m;

    for (m = airouter_code_markers; m->marker; m++) {
        if (strstr(text, m->marker)) {
            return m->fault;
        }
    }

    return AIROUTER_FAULT_NONE;
}


/* Prose, as providers without codes write it. */
static airouter_fault_e
airouter_outcome_message_fault(const char *text)
{
    if (strstr(text, "api key") || strstr(text, "api_key")
        || strstr(text, "apikey"))
    {
        if (strstr(text, "invalid") || strstr(text, "incorrect")
            || strstr(text, "expired") || strstr(text, "revoked"))
        {
            return AIROUTER_FAULT_INVALID_KEY;
        }
    }

    if (strstr(text, "insufficient") || strstr(text, "exceeded your")) {
        if (strstr(text, "quota")) {
            return AIROUTER_FAULT_QUOTA;
        }

        if (strstr(text, "credit") || strstr(text, "balance")
            || strstr(text, "funds"))
        {
            return AIROUTER_FAULT_CREDITS;
        }
    }

    if (strstr(text, "rate limit") || strstr(text, "too many requests")) {
        return AIROUTER_FAULT_RATE_LIMIT;
    }

    if (strstr(text, "model")
        && (strstr(text, "not found") || strstr(text, "does not exist")
            || strstr(text, "not exist") || strstr(text, "no such")
            || strstr(text, "unknown model")
            || strstr(text, "not available")))
    {
        return AIROUTER_FAULT_MODEL_NOT_FOUND;
    }

    return AIROUTER_FAULT_NONE;
}


static void
airouter_outcome_lower(char *dst, const char *src, size_t len)
{
    size_t  i;

    if (len > AIROUTER_TEXT_MAX - 1) {
        len = AIROUTER_TEXT_MAX - 1;
    }

    for (i = 0; i < len; i++) {
        dst[i] = (char) tolower((unsigned char) src[i]);

        if (dst[i] == '\0') {
            dst[i] = ' ';
        }
    }

    dst[len] = '\0';
}


static int
airouter_outcome_listed(const airouter_strlist_t *list, airouter_fault_e fault)
{
    size_t       i;
    const char  *name;

    name = airouter_fault_names[fault];

    for (i = 0; i < list->n; i++) {
        if (strcmp(list->items[i], name) == 0) {
            return 1;
        }

        /* "rate_limit" is how some configs spell it */
        if (fault == AIROUTER_FAULT_RATE_LIMIT
            && strcmp(list->items[i], "rate_limit") == 0)
        {
            return 1;
        }
    }

    return 0;
}


static long
airouter_outcome_period(long configured, long dflt)
{
    return configured >= 0 ? configured : dflt;
}
