/*
 * The dialect request translators on arbitrary JSON.  Byte 0 picks the
 * pair: the client's dialect (chat, Messages, Responses, Gemini) and the
 * upstream's (chat or Messages); byte 1: bit 0 a stream (Gemini's comes
 * from the URL), bit 1 a count_tokens request, bit 2 Gemini's
 * embedContent to chat's side (bit 3: batchEmbedContents).  The rest is
 * the body;
 * text that is not JSON is skipped (the API handler refuses it first).
 * The whole input is also read as a request path (airouter_dialect_route).
 * Oracles:
 *
 *   - a Gemini route's model lies inside the path, right before a ':';
 *   - a refusal is a 400 invalid_request_error with a code and a message;
 *   - a chat request has messages, each an object with a known role;
 *   - an embedding request is OpenAI's: a model, a non-empty input of
 *     strings, floats, dimensions positive when there;
 *   - a Messages request has a positive max_tokens and user/assistant
 *     turns that alternate, each made of typed blocks, and reads back
 *     through the Messages -> chat translator with as many tool calls as
 *     it has tool_use blocks (the translator reads what it writes);
 *   - a Responses request leaves its echo (an object) in the context;
 *   - translating twice gives the same tree.
 */

#include <string.h>

#include "fuzz.h"
#include "airouter_dialect.h"


static void check_chat(json_t *chat);
static size_t check_messages(json_t *req);
static size_t count_calls(json_t *chat);
static void check_embeddings(json_t *req);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int               from, to, rc, rc2;
    size_t            uses;
    json_t           *req, *out, *out2, *back;
    airouter_dctx_t   ctx, again, rb;
    airouter_derr_t   err, err2;
    airouter_droute_t route;

    /* the input as a request path too */
    if (airouter_dialect_route((const char *) data, size, &route)) {
        FUZZ_CHECK(route.dialect < AIROUTER_DIALECT_N
                   && (route.dialect != AIROUTER_DIALECT_GEMINI
                       || (route.model_len > 0
                           && route.model + route.model_len < size
                           && data[route.model + route.model_len] == ':')),
                   "a route's model lies in the path, before a ':'");
    }

    if (size < 2) {
        return 0;
    }

    from = data[0] % AIROUTER_DIALECT_N;
    to = (data[0] / AIROUTER_DIALECT_N) & 1 ? AIROUTER_DIALECT_ANTHROPIC
                                            : AIROUTER_DIALECT_OPENAI;

    req = json_loadb((const char *) data + 2, size - 2, 0, NULL);
    if (req == NULL) {
        return 0;
    }

    airouter_dctx_init(&ctx, from);
    ctx.stream = (from == AIROUTER_DIALECT_GEMINI) && (data[1] & 1);
    ctx.count = (data[1] >> 1) & 1;
    ctx.embed = (from == AIROUTER_DIALECT_GEMINI
                 && to == AIROUTER_DIALECT_OPENAI && (data[1] & 4));
    ctx.batch = ctx.embed && (data[1] & 8);
    again = ctx;

    rc = airouter_dialect_request(from, to, req, &ctx, &out, &err);

    if (rc != 0) {
        FUZZ_CHECK(out == NULL && err.status == 400 && err.type != NULL
                   && strcmp(err.type, "invalid_request_error") == 0
                   && err.code != NULL && err.message[0] != '\0'
                   && memchr(err.message, '\0', sizeof(err.message)),
                   "a refusal is a 400 with a code and a message");

    } else {
        FUZZ_CHECK(json_is_object(out), "the translation is an object");

        if (ctx.embed) {
            check_embeddings(out);

        } else if (from != to && to == AIROUTER_DIALECT_OPENAI) {
            check_chat(out);

        } else if (from != to) {
            uses = check_messages(out);

            airouter_dctx_init(&rb, AIROUTER_DIALECT_ANTHROPIC);
            FUZZ_CHECK(airouter_dialect_request(AIROUTER_DIALECT_ANTHROPIC,
                                                AIROUTER_DIALECT_OPENAI, out,
                                                &rb, &back, &err2) == 0,
                       "a written Messages request reads back: %s",
                       err2.message);
            check_chat(back);
            FUZZ_CHECK(count_calls(back) == uses,
                       "every tool_use is a tool call again");
            json_decref(back);
            airouter_dctx_free(&rb);
        }

        if (from == AIROUTER_DIALECT_RESPONSES) {
            FUZZ_CHECK(json_is_object(ctx.echo), "the echo is kept");
        }
    }

    /* again: the same answer */
    rc2 = airouter_dialect_request(from, to, req, &again, &out2, &err2);

    FUZZ_CHECK(rc == rc2 && (rc != 0 || json_equal(out, out2))
               && (rc == 0 || strcmp(err.message, err2.message) == 0),
               "translating twice differs");

    json_decref(out);
    json_decref(out2);
    json_decref(req);
    airouter_dctx_free(&ctx);
    airouter_dctx_free(&again);

    return 0;
}


static void
check_chat(json_t *chat)
{
    size_t       i;
    json_t      *msgs, *m;
    const char  *role;

    msgs = json_object_get(chat, "messages");
    FUZZ_CHECK(json_is_array(msgs), "chat has messages");

    json_array_foreach(msgs, i, m) {
        role = json_string_value(json_object_get(m, "role"));

        FUZZ_CHECK(json_is_object(m) && role
                   && (strcmp(role, "system") == 0
                       || strcmp(role, "user") == 0
                       || strcmp(role, "assistant") == 0
                       || strcmp(role, "tool") == 0),
                   "message %zu has a known role", i);

        if (strcmp(role, "tool") == 0) {
            FUZZ_CHECK(json_is_string(json_object_get(m, "tool_call_id"))
                       && json_is_string(json_object_get(m, "content")),
                       "a tool message answers a call with text");
        }
    }
}


static size_t
check_messages(json_t *req)
{
    size_t       i, j, uses;
    json_t      *msgs, *m, *b, *content;
    const char  *role, *prev;

    FUZZ_CHECK(json_integer_value(json_object_get(req, "max_tokens")) > 0,
               "Messages requests have max_tokens");

    msgs = json_object_get(req, "messages");
    FUZZ_CHECK(json_is_array(msgs), "Messages requests have messages");

    prev = NULL;
    uses = 0;

    json_array_foreach(msgs, i, m) {
        role = json_string_value(json_object_get(m, "role"));
        content = json_object_get(m, "content");

        FUZZ_CHECK(role && (strcmp(role, "user") == 0
                            || strcmp(role, "assistant") == 0),
                   "turn %zu is user or assistant", i);
        FUZZ_CHECK(prev == NULL || strcmp(prev, role) != 0,
                   "turns alternate");
        FUZZ_CHECK(json_is_array(content) && json_array_size(content) > 0,
                   "a turn has blocks");

        json_array_foreach(content, j, b) {
            FUZZ_CHECK(json_is_string(json_object_get(b, "type")),
                       "blocks are typed");

            if (strcmp(json_string_value(json_object_get(b, "type")),
                       "tool_use") == 0)
            {
                FUZZ_CHECK(json_is_object(json_object_get(b, "input")),
                           "tool_use input is an object");
                uses++;
            }
        }

        prev = role;
    }

    return uses;
}


static size_t
count_calls(json_t *chat)
{
    size_t   i, n;
    json_t  *m;

    n = 0;

    json_array_foreach(json_object_get(chat, "messages"), i, m) {
        n += json_array_size(json_object_get(m, "tool_calls"));
    }

    return n;
}


static void
check_embeddings(json_t *req)
{
    size_t   i;
    json_t  *input, *v, *d;

    input = json_object_get(req, "input");
    d = json_object_get(req, "dimensions");

    FUZZ_CHECK(json_is_string(json_object_get(req, "model"))
               && json_is_array(input) && json_array_size(input) > 0
               && json_is_string(json_object_get(req, "encoding_format"))
               && strcmp(json_string_value(json_object_get(req,
                                                 "encoding_format")),
                         "float") == 0
               && (d == NULL
                   || (json_is_integer(d) && json_integer_value(d) > 0))
               && json_object_size(req) == 3u + (d != NULL),
               "an embedding request is OpenAI's");

    json_array_foreach(input, i, v) {
        FUZZ_CHECK(json_is_string(v), "input %zu is a string", i);
    }
}
