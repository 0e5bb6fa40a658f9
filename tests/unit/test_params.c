/*
 * Unit tests of the request parameter table (src/airouter_params.c): each
 * kind of refusal with OpenAI's message, param and code; values of the
 * right type, null and parameters the table does not know pass; a key
 * that means different things per endpoint is checked per endpoint; the
 * table's binary search finds every entry (it must stay sorted).
 */

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "airouter_params.h"
#include "unit.h"


#define CH  AIROUTER_PARAMS_CHAT
#define CO  AIROUTER_PARAMS_COMPLETIONS
#define EM  AIROUTER_PARAMS_EMBEDDINGS


static int test_check(unsigned ep, const char *key, airouter_json_kind_e kind,
    double number, size_t length, airouter_params_error_t *err);
static void test_refused(unsigned ep, const char *key,
    airouter_json_kind_e kind, double number, size_t length,
    const char *code, const char *message);
static void test_types(void);
static void test_ranges(void);
static void test_passes(void);
static void test_endpoints(void);
static void test_messages(void);
static void test_sorted(void);


int
main(void)
{
    test_types();
    test_ranges();
    test_passes();
    test_endpoints();
    test_messages();
    test_sorted();

    UNIT_DONE("test_params");
}


static int
test_check(unsigned ep, const char *key, airouter_json_kind_e kind,
    double number, size_t length, airouter_params_error_t *err)
{
    airouter_json_value_t  v;

    v.kind = kind;
    v.number = number;
    v.length = length;

    memset(err, 0, sizeof(*err));

    return airouter_params_check(ep, key, strlen(key), &v, err);
}


static void
test_refused(unsigned ep, const char *key, airouter_json_kind_e kind,
    double number, size_t length, const char *code, const char *message)
{
    airouter_params_error_t  err;

    UNIT_CHECK(test_check(ep, key, kind, number, length, &err) == -1,
               "%s accepted", key);
    UNIT_STREQ(err.code, code);
    UNIT_STREQ(err.param, key);
    UNIT_STREQ(err.message, message);
}


static void
test_types(void)
{
    test_refused(CH, "stream", AIROUTER_JSON_STRING, 0, 0, "invalid_type",
                 "Invalid type for 'stream': expected a boolean, but got a "
                 "string instead.");
    test_refused(CH, "max_tokens", AIROUTER_JSON_REAL, 1.5, 0,
                 "invalid_type", "Invalid type for 'max_tokens': expected an "
                 "integer, but got a decimal instead.");
    test_refused(CH, "temperature", AIROUTER_JSON_STRING, 0, 0,
                 "invalid_type", "Invalid type for 'temperature': expected "
                 "a decimal, but got a string instead.");
    test_refused(CH, "messages", AIROUTER_JSON_OBJECT, 0, 0, "invalid_type",
                 "Invalid type for 'messages': expected an array, but got an "
                 "object instead.");
    test_refused(CH, "tools", AIROUTER_JSON_BOOL, 0, 0, "invalid_type",
                 "Invalid type for 'tools': expected an array, but got a "
                 "boolean instead.");
    test_refused(CH, "tool_choice", AIROUTER_JSON_INT, 1, 0, "invalid_type",
                 "Invalid type for 'tool_choice': expected one of a string "
                 "or an object, but got an integer instead.");
    test_refused(CO, "stop", AIROUTER_JSON_INT, 1, 0, "invalid_type",
                 "Invalid type for 'stop': expected one of a string or an "
                 "array, but got an integer instead.");
    test_refused(EM, "input", AIROUTER_JSON_OBJECT, 0, 0, "invalid_type",
                 "Invalid type for 'input': expected one of a string or an "
                 "array, but got an object instead.");
    test_refused(CH, "user", AIROUTER_JSON_ARRAY, 0, 2, "invalid_type",
                 "Invalid type for 'user': expected a string, but got an "
                 "array instead.");
}


static void
test_ranges(void)
{
    test_refused(CH, "n", AIROUTER_JSON_INT, 0, 0, "integer_below_min_value",
                 "Invalid 'n': integer below minimum value. Expected a value "
                 ">= 1, but got 0 instead.");
    test_refused(CH, "n", AIROUTER_JSON_INT, 129, 0,
                 "integer_above_max_value", "Invalid 'n': integer above "
                 "maximum value. Expected a value <= 128, but got 129 "
                 "instead.");
    test_refused(CH, "temperature", AIROUTER_JSON_REAL, 2.5, 0,
                 "decimal_above_max_value", "Invalid 'temperature': decimal "
                 "above maximum value. Expected a value <= 2, but got 2.5 "
                 "instead.");
    test_refused(CH, "top_p", AIROUTER_JSON_INT, -1, 0,
                 "decimal_below_min_value", "Invalid 'top_p': decimal below "
                 "minimum value. Expected a value >= 0, but got -1 "
                 "instead.");
    test_refused(CH, "max_tokens", AIROUTER_JSON_INT, 0, 0,
                 "integer_below_min_value", "Invalid 'max_tokens': integer "
                 "below minimum value. Expected a value >= 1, but got 0 "
                 "instead.");
    test_refused(CH, "stop", AIROUTER_JSON_ARRAY, 0, 5,
                 "array_above_max_length", "Invalid 'stop': array too long. "
                 "Expected an array with maximum length 4, but got an array "
                 "with length 5 instead.");
}


static void
test_passes(void)
{
    airouter_params_error_t  err;

    UNIT_CHECK(test_check(CH, "stream", AIROUTER_JSON_BOOL, 0, 0, &err) == 0,
               "stream true");
    UNIT_CHECK(test_check(CH, "stream", AIROUTER_JSON_NULL, 0, 0, &err) == 0,
               "stream null");
    UNIT_CHECK(test_check(CH, "temperature", AIROUTER_JSON_INT, 1, 0, &err)
               == 0, "an integer is a decimal");
    UNIT_CHECK(test_check(CH, "temperature", AIROUTER_JSON_REAL, 2, 0, &err)
               == 0, "2 is the maximum");
    UNIT_CHECK(test_check(CH, "stop", AIROUTER_JSON_ARRAY, 0, 4, &err) == 0,
               "four stops");
    UNIT_CHECK(test_check(CH, "stop", AIROUTER_JSON_STRING, 0, 0, &err) == 0,
               "one stop");
    UNIT_CHECK(test_check(CH, "top_k", AIROUTER_JSON_STRING, 0, 0, &err)
               == 0, "a provider's own parameter");
    UNIT_CHECK(test_check(CH, "", AIROUTER_JSON_STRING, 0, 0, &err) == 0,
               "empty key");
    UNIT_CHECK(test_check(CH, "streamz", AIROUTER_JSON_STRING, 0, 0, &err)
               == 0, "a longer key is another key");
    UNIT_CHECK(test_check(CH, "stre", AIROUTER_JSON_STRING, 0, 0, &err) == 0,
               "a prefix is another key");
}


static void
test_endpoints(void)
{
    airouter_params_error_t  err;

    /* logprobs: a boolean for chat, a count for completions */
    UNIT_CHECK(test_check(CH, "logprobs", AIROUTER_JSON_BOOL, 0, 0, &err)
               == 0, "chat logprobs true");
    UNIT_CHECK(test_check(CO, "logprobs", AIROUTER_JSON_BOOL, 0, 0, &err)
               == -1, "completions logprobs true");
    UNIT_CHECK(test_check(CO, "logprobs", AIROUTER_JSON_INT, 3, 0, &err)
               == 0, "completions logprobs 3");
    UNIT_CHECK(test_check(CH, "logprobs", AIROUTER_JSON_INT, 3, 0, &err)
               == -1, "chat logprobs 3");

    /* max_tokens 0 is refused by chat only */
    UNIT_CHECK(test_check(CO, "max_tokens", AIROUTER_JSON_INT, 0, 0, &err)
               == 0, "completions max_tokens 0");

    /* a chat parameter means nothing to embeddings */
    UNIT_CHECK(test_check(EM, "messages", AIROUTER_JSON_STRING, 0, 0, &err)
               == 0, "embeddings messages");
    UNIT_CHECK(test_check(EM, "user", AIROUTER_JSON_INT, 1, 0, &err) == -1,
               "embeddings user");
}


static void
test_messages(void)
{
    airouter_params_error_t  err;

    memset(&err, 0, sizeof(err));
    UNIT_CHECK(airouter_params_check_message(0, AIROUTER_JSON_OBJECT,
                   AIROUTER_JSON_STRING, "user", 4, AIROUTER_JSON_STRING,
                   &err) == 0, "a user message");
    UNIT_CHECK(airouter_params_check_message(0, AIROUTER_JSON_OBJECT,
                   AIROUTER_JSON_STRING, "assistant", 9, AIROUTER_JSON_NULL,
                   &err) == 0, "an assistant message without content");
    UNIT_CHECK(airouter_params_check_message(0, AIROUTER_JSON_OBJECT,
                   AIROUTER_JSON_STRING, "tool", 4, 0, &err) == 0,
               "no content");

    UNIT_CHECK(airouter_params_check_message(2, AIROUTER_JSON_STRING, 0,
                   NULL, 0, 0, &err) == -1, "a string message");
    UNIT_STREQ(err.code, "invalid_type");
    UNIT_STREQ(err.param, "messages[2]");
    UNIT_STREQ(err.message, "Invalid type for 'messages[2]': expected an "
               "object, but got a string instead.");

    UNIT_CHECK(airouter_params_check_message(1, AIROUTER_JSON_OBJECT, 0,
                   NULL, 0, AIROUTER_JSON_STRING, &err) == -1, "no role");
    UNIT_STREQ(err.code, "missing_required_parameter");
    UNIT_STREQ(err.param, "messages[1].role");
    UNIT_STREQ(err.message,
               "Missing required parameter: 'messages[1].role'.");

    UNIT_CHECK(airouter_params_check_message(0, AIROUTER_JSON_OBJECT,
                   AIROUTER_JSON_STRING, "robot", 5, AIROUTER_JSON_STRING,
                   &err) == -1, "a robot");
    UNIT_STREQ(err.code, "invalid_value");
    UNIT_STREQ(err.param, "messages[0].role");
    UNIT_STREQ(err.message, "Invalid value: 'robot'. Supported values are: "
               "'system', 'assistant', 'user', 'function', 'tool', and "
               "'developer'.");

    UNIT_CHECK(airouter_params_check_message(0, AIROUTER_JSON_OBJECT,
                   AIROUTER_JSON_STRING, "users", 4, AIROUTER_JSON_STRING,
                   &err) == 0, "the role's length is what counts");

    UNIT_CHECK(airouter_params_check_message(0, AIROUTER_JSON_OBJECT,
                   AIROUTER_JSON_INT, NULL, 0, AIROUTER_JSON_STRING,
                   &err) == -1, "a numeric role");
    UNIT_STREQ(err.message, "Invalid type for 'messages[0].role': expected "
               "a string, but got an integer instead.");

    UNIT_CHECK(airouter_params_check_message(3, AIROUTER_JSON_OBJECT,
                   AIROUTER_JSON_STRING, "user", 4, AIROUTER_JSON_INT,
                   &err) == -1, "numeric content");
    UNIT_STREQ(err.param, "messages[3].content");
    UNIT_STREQ(err.message, "Invalid type for 'messages[3].content': "
               "expected one of a string or an array, but got an integer "
               "instead.");
}


/* Every key of the table is found for its endpoint: the search works. */
static void
test_sorted(void)
{
    size_t                   i;
    airouter_params_error_t  err;

    static const struct {
        const char  *key;
        unsigned     ep;
    } keys[] = {
        { "best_of", CO }, { "dimensions", EM }, { "echo", CO },
        { "encoding_format", EM }, { "frequency_penalty", CH },
        { "function_call", CH }, { "functions", CH }, { "input", EM },
        { "logit_bias", CO }, { "logprobs", CH }, { "logprobs", CO },
        { "max_completion_tokens", CH }, { "max_tokens", CH },
        { "max_tokens", CO }, { "messages", CH }, { "metadata", CH },
        { "modalities", CH }, { "n", CO }, { "parallel_tool_calls", CH },
        { "presence_penalty", CO }, { "prompt", CO },
        { "reasoning_effort", CH }, { "response_format", CH },
        { "seed", CH }, { "service_tier", CH }, { "stop", CO },
        { "store", CH }, { "stream", CO }, { "stream_options", CH },
        { "suffix", CO }, { "temperature", CO }, { "tool_choice", CH },
        { "tools", CH }, { "top_logprobs", CH }, { "top_p", CH },
        { "user", EM }
    };

    /* a value of no kind any parameter takes: every known key refuses */
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        UNIT_CHECK(test_check(keys[i].ep, keys[i].key, 0x80, 0, 0, &err)
                   == -1, "%s not found", keys[i].key);
    }
}
