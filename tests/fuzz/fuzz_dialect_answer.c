/*
 * Whole upstream answers and error bodies through the dialect
 * translators.  Byte 0 picks the pair: bit 0 the upstream (chat or
 * Messages), the next bits the client's dialect; byte 1: bit 0 error mode
 * (the body is an upstream error, byte 1's other bits pick the status),
 * bit 1 includeThoughts, bit 2 an embedding request's answer (bit 3: a
 * batch's).  The rest is the body.  Oracles:
 *
 *   - an answer translates, or is refused with nothing written;
 *   - what is written is one JSON object, the same every time;
 *   - the usage handed back is the upstream dialect's own reading of the
 *     body (airouter_dialect_usage), when there is one;
 *   - chat <-> Messages: what one side writes, the other reads back;
 *   - an embedding answer is Google's {"embedding":{"values":[...]}} or
 *     {"embeddings":[{"values":[...]}, ...]};
 *   - an error body of any kind becomes the client dialect's error shape
 *     (chat/Responses: error.message; Messages: type "error" with
 *     error.type and error.message; Gemini: error.code is the status,
 *     error.status a name).
 */

#include <string.h>

#include "fuzz.h"
#include "airouter_dialect.h"


static void check_error(int to, int status, const airouter_dbuf_t *out);
static void check_embeddings(const airouter_dctx_t *ctx, json_t *j);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                from, to, rc, rc2, status, back;
    json_t            *j;
    const char        *p;
    airouter_dctx_t    ctx;
    airouter_dbuf_t    out, out2, round;
    airouter_dusage_t  u, own;
    static const int   statuses[] = { 400, 401, 402, 403, 404, 408, 413,
                                      429, 500, 502, 503, 504, 529, 200 };

    if (size < 2) {
        return 0;
    }

    from = (data[0] & 1) ? AIROUTER_DIALECT_ANTHROPIC
                         : AIROUTER_DIALECT_OPENAI;
    to = (data[0] >> 1) % AIROUTER_DIALECT_N;
    p = (const char *) data + 2;
    size -= 2;

    airouter_dctx_init(&ctx, to);
    memcpy(ctx.id, "fz", 3);
    ctx.thoughts = (data[1] >> 1) & 1;
    ctx.embed = !(data[1] & 1) && (data[1] & 4);
    ctx.batch = ctx.embed && (data[1] & 8);

    airouter_dbuf_init(&out);
    airouter_dbuf_init(&out2);

    if (data[1] & 1) {
        status = statuses[(data[1] >> 2) % (sizeof(statuses)
                                            / sizeof(statuses[0]))];
        airouter_dialect_error_translate(from, to, status, p, size, &out);
        check_error(to, status, &out);
        airouter_dbuf_free(&out);
        return 0;
    }

    rc = airouter_dialect_answer(from, to, &ctx, p, size, &out, &u);
    rc2 = airouter_dialect_answer(from, to, &ctx, p, size, &out2, NULL);

    FUZZ_CHECK(rc == 0 || rc == -1, "rc %d", rc);
    FUZZ_CHECK(rc == rc2 && out.len == out2.len
               && (out.len == 0 || memcmp(out.data, out2.data, out.len) == 0),
               "translating twice differs");

    if (rc != 0) {
        FUZZ_CHECK(out.len == 0, "a refusal writes nothing");
        goto done;
    }

    j = json_loadb(out.data, out.len, 0, NULL);
    FUZZ_CHECK(json_is_object(j), "the answer is a JSON object");

    if (ctx.embed) {
        check_embeddings(&ctx, j);
    }

    json_decref(j);

    if (airouter_dialect_usage(from, p, size, &own)) {
        FUZZ_CHECK(u.u.prompt_tokens == own.u.prompt_tokens
                   && u.u.completion_tokens == own.u.completion_tokens
                   && u.u.total_tokens == own.u.total_tokens
                   && u.u.cached_tokens == own.u.cached_tokens
                   && u.u.cache_write_tokens == own.u.cache_write_tokens,
                   "the usage handed back is the body's own");
    }

    /* chat <-> Messages: the other side reads what this one wrote */
    back = -1;

    if (from == AIROUTER_DIALECT_OPENAI && to == AIROUTER_DIALECT_ANTHROPIC) {
        back = AIROUTER_DIALECT_OPENAI;

    } else if (from == AIROUTER_DIALECT_ANTHROPIC
               && to == AIROUTER_DIALECT_OPENAI)
    {
        back = AIROUTER_DIALECT_ANTHROPIC;
    }

    if (back >= 0) {
        airouter_dbuf_init(&round);
        FUZZ_CHECK(airouter_dialect_answer(to, back, &ctx, out.data, out.len,
                                           &round, NULL) == 0,
                   "%s reads back what it wrote",
                   airouter_dialect_name(to));
        airouter_dbuf_free(&round);
    }

done:

    airouter_dbuf_free(&out);
    airouter_dbuf_free(&out2);
    airouter_dctx_free(&ctx);

    return 0;
}


static void
check_error(int to, int status, const airouter_dbuf_t *out)
{
    json_t  *j, *e;

    j = json_loadb(out->data, out->len, 0, NULL);
    FUZZ_CHECK(json_is_object(j), "an error is a JSON object");

    e = json_object_get(j, "error");
    FUZZ_CHECK(json_is_object(e)
               && json_is_string(json_object_get(e, "message")),
               "error.message");

    switch (to) {
    case AIROUTER_DIALECT_ANTHROPIC:
        FUZZ_CHECK(json_is_string(json_object_get(j, "type"))
                   && strcmp(json_string_value(json_object_get(j, "type")),
                             "error") == 0
                   && json_is_string(json_object_get(e, "type")),
                   "Messages' error shape");
        break;

    case AIROUTER_DIALECT_GEMINI:
        FUZZ_CHECK(json_integer_value(json_object_get(e, "code")) == status
                   && json_is_string(json_object_get(e, "status")),
                   "Google's error shape");
        break;

    default:
        FUZZ_CHECK(json_is_string(json_object_get(e, "type")),
                   "OpenAI's error shape");
        break;
    }

    json_decref(j);
}


static void
check_embeddings(const airouter_dctx_t *ctx, json_t *j)
{
    size_t   i;
    json_t  *list, *e;

    if (!ctx->batch) {
        FUZZ_CHECK(json_object_size(j) == 1
                   && json_object_size(json_object_get(j, "embedding")) == 1
                   && json_is_array(json_object_get(json_object_get(j,
                                                        "embedding"),
                                                    "values")),
                   "embedContent's answer: embedding.values");
        return;
    }

    list = json_object_get(j, "embeddings");

    FUZZ_CHECK(json_object_size(j) == 1 && json_is_array(list)
               && json_array_size(list) > 0,
               "batchEmbedContents' answer: embeddings");

    json_array_foreach(list, i, e) {
        FUZZ_CHECK(json_object_size(e) == 1
                   && json_is_array(json_object_get(e, "values")),
                   "embeddings[%zu].values", i);
    }
}
