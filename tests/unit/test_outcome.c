/*
 * The outcome table: statuses and error bodies to faults, faults to
 * verdicts, and the seed's error_handling moving faults between scopes.
 */

#include <jansson.h>

#include "unit.h"
#include "airouter_outcome.h"


static airouter_fault_e
fault_of(int status, const char *body)
{
    return airouter_outcome_fault(AIROUTER_END_HTTP, status, body,
                                  body ? strlen(body) : 0);
}


static void
test_statuses(void)
{
    UNIT_CHECK(fault_of(200, NULL) == AIROUTER_FAULT_NONE, "200");
    UNIT_CHECK(fault_of(400, NULL) == AIROUTER_FAULT_BAD_REQUEST, "400");
    UNIT_CHECK(fault_of(401, NULL) == AIROUTER_FAULT_INVALID_KEY, "401");
    UNIT_CHECK(fault_of(403, NULL) == AIROUTER_FAULT_INVALID_KEY, "403");
    UNIT_CHECK(fault_of(402, NULL) == AIROUTER_FAULT_CREDITS, "402");
    UNIT_CHECK(fault_of(404, NULL) == AIROUTER_FAULT_MODEL_NOT_FOUND, "404");
    UNIT_CHECK(fault_of(413, NULL) == AIROUTER_FAULT_BAD_REQUEST, "413");
    UNIT_CHECK(fault_of(429, NULL) == AIROUTER_FAULT_RATE_LIMIT, "429");
    UNIT_CHECK(fault_of(500, NULL) == AIROUTER_FAULT_SERVER, "500");
    UNIT_CHECK(fault_of(502, NULL) == AIROUTER_FAULT_SERVER, "502");
    UNIT_CHECK(fault_of(503, NULL) == AIROUTER_FAULT_SERVER, "503");
    UNIT_CHECK(fault_of(301, NULL) == AIROUTER_FAULT_SERVER, "301");

    UNIT_CHECK(airouter_outcome_fault(AIROUTER_END_CONNECT, 0, NULL, 0)
               == AIROUTER_FAULT_CONNECT, "connect");
    UNIT_CHECK(airouter_outcome_fault(AIROUTER_END_TIMEOUT, 0, NULL, 0)
               == AIROUTER_FAULT_TIMEOUT, "timeout");
    UNIT_CHECK(airouter_outcome_fault(AIROUTER_END_INVALID, 0, NULL, 0)
               == AIROUTER_FAULT_SERVER, "invalid");
}


static void
test_bodies(void)
{
    /* OpenAI's quota error comes as a 429 */
    UNIT_CHECK(fault_of(429, "{\"error\":{\"message\":\"You exceeded your "
                     "current quota\",\"type\":\"insufficient_quota\","
                     "\"code\":\"insufficient_quota\"}}")
               == AIROUTER_FAULT_QUOTA, "429 insufficient_quota");

    UNIT_CHECK(fault_of(401, "{\"error\":{\"message\":\"Incorrect API key "
                     "provided\",\"type\":\"invalid_request_error\","
                     "\"code\":\"invalid_api_key\"}}")
               == AIROUTER_FAULT_INVALID_KEY, "invalid_api_key");

    /* a 400 that is a missing model, by code and by prose */
    UNIT_CHECK(fault_of(400, "{\"error\":{\"code\":\"model_not_found\","
                     "\"message\":\"x\"}}")
               == AIROUTER_FAULT_MODEL_NOT_FOUND, "400 model_not_found");
    UNIT_CHECK(fault_of(400, "{\"message\":\"Model does not exist. Please "
                     "check it carefully.\",\"code\":20012}")
               == AIROUTER_FAULT_MODEL_NOT_FOUND, "siliconflow prose");
    UNIT_CHECK(fault_of(400, "{\"error\":\"The model `x` does not exist\"}")
               == AIROUTER_FAULT_MODEL_NOT_FOUND, "error as string");

    /* the client's fault stays the client's fault */
    UNIT_CHECK(fault_of(400, "{\"error\":{\"message\":\"This model's maximum "
                     "context length is 8192 tokens\",\"type\":"
                     "\"invalid_request_error\",\"code\":"
                     "\"context_length_exceeded\"}}")
               == AIROUTER_FAULT_BAD_REQUEST, "context length");
    UNIT_CHECK(fault_of(400, "{\"error\":{\"message\":\"Invalid 'max_tokens':"
                     " integer below minimum value\"}}")
               == AIROUTER_FAULT_BAD_REQUEST, "invalid max_tokens");

    UNIT_CHECK(fault_of(402, "{\"error\":{\"message\":\"Insufficient credits\","
                     "\"code\":402}}")
               == AIROUTER_FAULT_CREDITS, "openrouter 402");
    UNIT_CHECK(fault_of(403, "{\"error\":{\"message\":\"Your account balance "
                     "is insufficient\"}}")
               == AIROUTER_FAULT_CREDITS, "balance prose");
    UNIT_CHECK(fault_of(503, "{\"error\":{\"type\":\"rate_limit_error\"}}")
               == AIROUTER_FAULT_RATE_LIMIT, "503 rate_limit type");

    /* truncated JSON: markers in the raw text */
    UNIT_CHECK(fault_of(400, "{\"error\":{\"code\":\"model_not_found\",\"mess")
               == AIROUTER_FAULT_MODEL_NOT_FOUND, "truncated");
    UNIT_CHECK(fault_of(500, "<html>oops</html>") == AIROUTER_FAULT_SERVER,
               "html 500");
    UNIT_CHECK(fault_of(200, "{\"error\":{\"code\":\"invalid_api_key\"}}")
               == AIROUTER_FAULT_INVALID_KEY, "200 with an error object");
    UNIT_CHECK(fault_of(200, " { \"error\": \"upstream overloaded\"}")
               == AIROUTER_FAULT_SERVER, "200 with an error string");
    UNIT_CHECK(fault_of(200, "{\"id\":\"x\",\"choices\":[],\"error\":null}")
               == AIROUTER_FAULT_NONE, "200 with a result");
}


static void
test_verdicts(void)
{
    airouter_verdict_t        v;
    airouter_outcome_table_t  t;

    airouter_outcome_table_init(&t, NULL, 0);

    v = airouter_outcome_verdict(&t, AIROUTER_FAULT_BAD_REQUEST, -1);
    UNIT_CHECK(!v.retry && v.scope == AIROUTER_SCOPE_NONE && v.cooldown == 0,
               "bad request: no retry");

    v = airouter_outcome_verdict(&t, AIROUTER_FAULT_INVALID_KEY, -1);
    UNIT_CHECK(v.retry && v.scope == AIROUTER_SCOPE_CHANNEL
               && v.cooldown == 3600, "invalid key: channel for an hour");

    v = airouter_outcome_verdict(&t, AIROUTER_FAULT_RATE_LIMIT, -1);
    UNIT_CHECK(v.retry && v.scope == AIROUTER_SCOPE_MODEL && v.cooldown == 60,
               "429 default");

    v = airouter_outcome_verdict(&t, AIROUTER_FAULT_RATE_LIMIT, 7);
    UNIT_CHECK(v.cooldown == 7, "Retry-After wins: %ld", v.cooldown);

    v = airouter_outcome_verdict(&t, AIROUTER_FAULT_RATE_LIMIT, 10000000);
    UNIT_CHECK(v.cooldown == 86400, "Retry-After capped: %ld", v.cooldown);

    v = airouter_outcome_verdict(&t, AIROUTER_FAULT_SERVER, -1);
    UNIT_CHECK(v.retry && v.scope == AIROUTER_SCOPE_MODEL
               && v.cooldown == 120, "5xx");

    v = airouter_outcome_verdict(&t, AIROUTER_FAULT_CONNECT, -1);
    UNIT_CHECK(v.retry && v.scope == AIROUTER_SCOPE_CHANNEL
               && v.cooldown == 30, "connect");

    v = airouter_outcome_verdict(&t, AIROUTER_FAULT_MODEL_NOT_FOUND, -1);
    UNIT_CHECK(v.retry && v.scope == AIROUTER_SCOPE_MODEL
               && v.cooldown == 3600, "model not found");

    v = airouter_outcome_verdict(&t, AIROUTER_FAULT_NONE, -1);
    UNIT_CHECK(!v.retry && v.cooldown == 0, "success");
}


static void
test_error_handling(void)
{
    char                      *perm[] = { "rate_limit_exceeded" };
    char                      *temp[] = { "invalid_api_key", "timeout" };
    airouter_verdict_t         v;
    airouter_outcome_table_t   t;
    airouter_error_handling_t  eh;

    memset(&eh, 0, sizeof(eh));
    eh.permanent_errors.items = perm;
    eh.permanent_errors.n = 1;
    eh.temporary_errors.items = temp;
    eh.temporary_errors.n = 2;
    eh.cooldown_rate_limit = 5;
    eh.cooldown_timeout = 6;
    eh.cooldown_server_error = 7;
    eh.blacklist_period = 100;

    airouter_outcome_table_init(&t, &eh, 9);

    v = airouter_outcome_verdict(&t, AIROUTER_FAULT_RATE_LIMIT, -1);
    UNIT_CHECK(v.scope == AIROUTER_SCOPE_CHANNEL && v.cooldown == 100,
               "permanent rate limit: %d %ld", v.scope, v.cooldown);

    v = airouter_outcome_verdict(&t, AIROUTER_FAULT_INVALID_KEY, -1);
    UNIT_CHECK(v.retry && v.scope == AIROUTER_SCOPE_MODEL && v.cooldown == 9,
               "temporary invalid key: %d %ld", v.scope, v.cooldown);

    v = airouter_outcome_verdict(&t, AIROUTER_FAULT_TIMEOUT, -1);
    UNIT_CHECK(v.scope == AIROUTER_SCOPE_MODEL && v.cooldown == 6, "timeout");

    v = airouter_outcome_verdict(&t, AIROUTER_FAULT_SERVER, -1);
    UNIT_CHECK(v.cooldown == 7, "server");

    /* configured 0: no cooldown at all (absent keys get the defaults) */
    memset(&eh, 0, sizeof(eh));
    airouter_outcome_table_init(&t, &eh, 0);

    v = airouter_outcome_verdict(&t, AIROUTER_FAULT_SERVER, -1);
    UNIT_CHECK(v.retry && v.cooldown == 0, "server 0: %ld", v.cooldown);
    v = airouter_outcome_verdict(&t, AIROUTER_FAULT_TIMEOUT, -1);
    UNIT_CHECK(v.retry && v.cooldown == 0, "timeout 0: %ld", v.cooldown);
    v = airouter_outcome_verdict(&t, AIROUTER_FAULT_INVALID_KEY, -1);
    UNIT_CHECK(v.retry && v.cooldown == 0, "blacklist 0: %ld", v.cooldown);
}


/* the caller's parse gives the same fault as the body parsed inside */
static void
test_parsed(void)
{
    size_t             i;
    json_t            *root;
    airouter_fault_e   f;
    static const struct { int status; const char *body; } c[] = {
        { 200, "{\"id\":\"x\",\"usage\":{\"prompt_tokens\":1}}" },
        { 200, "{\"error\":{\"code\":\"insufficient_quota\"}}" },
        { 429, "{\"error\":{\"code\":\"insufficient_quota\"}}" },
        { 500, "{\"error\":\"Invalid API key\"}" },
        { 503, "{\"error\": {\"message\": \"model not found\"" },
        { 400, "not json at all" },
        { 200, "[1, 2]" },
    };

    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        root = json_loadb(c[i].body, strlen(c[i].body), 0, NULL);
        f = airouter_outcome_fault_parsed(AIROUTER_END_HTTP, c[i].status,
                                          c[i].body, strlen(c[i].body), root);
        UNIT_CHECK(f == fault_of(c[i].status, c[i].body), "parsed %zu", i);
        if (root) {
            json_decref(root);
        }
    }
}


static void
test_names(void)
{
    UNIT_STREQ(airouter_fault_name(AIROUTER_FAULT_RATE_LIMIT),
               "rate_limit_exceeded");
    UNIT_STREQ(airouter_fault_name(AIROUTER_FAULT_CONNECT), "connect_error");
    UNIT_CHECK(airouter_fault_name(AIROUTER_FAULT_N) == NULL, "out of range");
    UNIT_STREQ(airouter_scope_name(AIROUTER_SCOPE_CHANNEL), "channel");

    UNIT_CHECK(airouter_outcome_retry_after("12", 2) == 12, "12");
    UNIT_CHECK(airouter_outcome_retry_after(" 3 ", 3) == 3, "spaces");
    UNIT_CHECK(airouter_outcome_retry_after("Wed, 21 Oct 2015", 16) < 0,
               "date");
    UNIT_CHECK(airouter_outcome_retry_after("", 0) < 0, "empty");
}


int
main(void)
{
    test_statuses();
    test_bodies();
    test_verdicts();
    test_error_handling();
    test_parsed();
    test_names();

    UNIT_DONE("test_outcome");
}
