/*
 * The dialect table and what every translation shares: names, the SSE
 * reader (line ends, comments, multi-line data, events too large, a last
 * event without its blank line), the stream object's life (finish once,
 * nothing after it), the same usage whichever dialect the client speaks,
 * and the pairs that have no translation.
 */

#include "test_dialect.h"


static const char  chat_stream[] =
    "data: {\"id\":\"c\",\"model\":\"up\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"content\":\"Hi\"}}]}\n\n"
    "data: {\"id\":\"c\",\"model\":\"up\",\"choices\":[{\"index\":0,"
    "\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
    "data: {\"id\":\"c\",\"model\":\"up\",\"choices\":[],\"usage\":"
    "{\"prompt_tokens\":1234,\"completion_tokens\":56,\"total_tokens\":1290,"
    "\"prompt_tokens_details\":{\"cached_tokens\":1000,"
    "\"cache_write_tokens\":200},\"cost\":0.5}}\n\n"
    "data: [DONE]\n\n";


static void
test_names(void)
{
    int  d;

    UNIT_STREQ(airouter_dialect_name(AIROUTER_DIALECT_OPENAI), "openai");
    UNIT_STREQ(airouter_dialect_name(AIROUTER_DIALECT_ANTHROPIC),
               "anthropic");
    UNIT_STREQ(airouter_dialect_name(AIROUTER_DIALECT_RESPONSES),
               "responses");
    UNIT_STREQ(airouter_dialect_name(AIROUTER_DIALECT_GEMINI), "gemini");
    UNIT_STREQ(airouter_dialect_name(AIROUTER_DIALECT_N), "none");

    for (d = 0; d < AIROUTER_DIALECT_N; d++) {
        UNIT_CHECK(airouter_dialect_by_name(airouter_dialect_name(d),
                       strlen(airouter_dialect_name(d))) == d,
                   "name %d reads back", d);
    }

    UNIT_CHECK(airouter_dialect_by_name("anthro", 6) == -1, "a prefix");
    UNIT_CHECK(airouter_dialect_by_name("geminis", 7) == -1, "longer");

    UNIT_CHECK(airouter_dialect_upstream(AIROUTER_DIALECT_OPENAI)
               && airouter_dialect_upstream(AIROUTER_DIALECT_ANTHROPIC)
               && !airouter_dialect_upstream(AIROUTER_DIALECT_RESPONSES)
               && !airouter_dialect_upstream(AIROUTER_DIALECT_GEMINI)
               && !airouter_dialect_upstream(AIROUTER_DIALECT_N),
               "channels speak openai or anthropic");
}


/* the SSE reader through the chat reader: what counts as an event */
static void
test_sse_reader(void)
{
    char            *out;
    airouter_dctx_t  ctx;

    td_ctx(&ctx, AIROUTER_DIALECT_OPENAI);

    /* CR alone ends lines too; comments and unknown fields are skipped */
    out = td_stream(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_GEMINI, &ctx,
                    ": hello\rid: 7\rretry: 10\rdata: {\"choices\":"
                    "[{\"index\":0,\"delta\":{\"content\":\"A\"}}]}\r\r"
                    "data:{\"choices\":[{\"index\":0,\"delta\":{\"content\":"
                    "\"B\"}}]}\r\n\r\n", 0, 0, "x", 1);
    UNIT_CHECK(strstr(out, "\"text\":\"A\"") && strstr(out, "\"text\":\"B\""),
               "CR and CRLF line ends, data with no space: %s", out);
    free(out);

    /* a chunk split over two data lines (joined with a newline) */
    out = td_stream(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_GEMINI, &ctx,
                    "data: {\"choices\":[{\"index\":0,\n"
                    "data: \"delta\":{\"content\":\"C\"}}]}\n\n", 0, 0, "x",
                    1);
    UNIT_CHECK(strstr(out, "\"text\":\"C\"") != NULL, "multi-line data");
    free(out);

    /* the last event without its blank line still counts at the end */
    out = td_stream(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_GEMINI, &ctx,
                    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":"
                    "\"D\"},\"finish_reason\":\"stop\"}]}", 0, 0, "x", 0);
    UNIT_CHECK(strstr(out, "\"text\":\"D\"")
               && strstr(out, "\"finishReason\":\"STOP\"")
               && !strstr(out, "error"), "an unterminated last event: %s",
               out);
    free(out);

    /* junk between events is skipped */
    out = td_stream(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_GEMINI, &ctx,
                    "data: not json\n\ndata: [1,2]\n\nevent: x\n\n"
                    "data: {\"choices\":[{\"index\":1,\"delta\":{\"content\":"
                    "\"other choice\"}}]}\n\n", 0, 0, "end", 0);
    UNIT_CHECK(!strstr(out, "other choice") && strstr(out, "\"end\""),
               "junk, other choices: skipped; then the cut: %s", out);
    free(out);
}


static void
test_too_large(void)
{
    char                *big;
    size_t               n;
    airouter_dctx_t      ctx;
    airouter_dbuf_t      out;
    airouter_dstream_t  *s;

    td_ctx(&ctx, AIROUTER_DIALECT_ANTHROPIC);

    n = 9 * 1024 * 1024;
    big = malloc(n);
    memset(big, 'a', n);
    memcpy(big, "data: ", 6);

    airouter_dbuf_init(&out);
    s = airouter_dstream_create(AIROUTER_DIALECT_OPENAI,
                                AIROUTER_DIALECT_ANTHROPIC, &ctx);
    airouter_dstream_feed(s, big, n, &out);

    UNIT_CHECK(airouter_dstream_state(s) == -1
               && strstr(out.data, "event: error")
               && strstr(out.data, "too large"),
               "an event over 8 MiB ends the stream with an error");

    out.len = 0;
    airouter_dstream_feed(s, chat_stream, sizeof(chat_stream) - 1, &out);
    airouter_dstream_finish(s, "x", &out);
    UNIT_CHECK(out.len == 0, "nothing after the error");

    airouter_dstream_destroy(s);
    airouter_dbuf_free(&out);
    free(big);
}


static void
test_life(void)
{
    airouter_dctx_t      ctx;
    airouter_dbuf_t      out;
    airouter_dusage_t    u;
    airouter_dstream_t  *s;

    td_ctx(&ctx, AIROUTER_DIALECT_GEMINI);
    airouter_dbuf_init(&out);

    s = airouter_dstream_create(AIROUTER_DIALECT_OPENAI,
                                AIROUTER_DIALECT_GEMINI, &ctx);
    UNIT_CHECK(airouter_dstream_state(s) == 0
               && airouter_dstream_usage(s, &u) == 0, "a new stream");

    airouter_dstream_feed(s, chat_stream, 40, &out);
    airouter_dstream_finish(s, "first", &out);
    UNIT_CHECK(airouter_dstream_state(s) == -1
               && strstr(out.data, "first"), "cut: error");

    out.len = 0;
    airouter_dstream_finish(s, "second", &out);
    airouter_dstream_feed(s, chat_stream, sizeof(chat_stream) - 1, &out);
    UNIT_CHECK(out.len == 0, "finish once; feeding after it does nothing");
    airouter_dstream_destroy(s);

    airouter_dstream_destroy(NULL);

    UNIT_CHECK(airouter_dstream_create(AIROUTER_DIALECT_RESPONSES,
                                       AIROUTER_DIALECT_OPENAI, &ctx) == NULL
               && airouter_dstream_create(AIROUTER_DIALECT_GEMINI,
                                          AIROUTER_DIALECT_N, &ctx) == NULL,
               "Responses is read for usage only; Gemini not at all");

    airouter_dbuf_free(&out);
}


static int
td_usage_eq(const airouter_usage_t *a, const airouter_usage_t *b)
{
    return a->prompt_tokens == b->prompt_tokens
           && a->completion_tokens == b->completion_tokens
           && a->total_tokens == b->total_tokens
           && a->cached_tokens == b->cached_tokens
           && a->cache_write_tokens == b->cache_write_tokens
           && a->cost == b->cost;
}


/*
 * Cost comes from the upstream's usage: whichever dialect the client
 * speaks, the usage the proxy is handed is the one the existing chat
 * readers find in the upstream's bytes.
 */
static void
test_same_usage(void)
{
    int                  to;
    char                 line[512];
    char                *text;
    airouter_sse_t       sse;
    airouter_dctx_t      ctx;
    airouter_dbuf_t      out;
    airouter_usage_t     want;
    airouter_dusage_t    u;
    airouter_dstream_t  *s;
    static const char    answer[] =
        "{\"id\":\"c\",\"choices\":[{\"index\":0,\"message\":{\"content\":"
        "\"Hi\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":"
        "1234,\"completion_tokens\":56,\"total_tokens\":1290,"
        "\"prompt_tokens_details\":{\"cached_tokens\":1000,"
        "\"cache_write_tokens\":200},\"cost\":0.5}}";

    airouter_sse_init(&sse, line, sizeof(line));
    airouter_sse_feed(&sse, chat_stream, sizeof(chat_stream) - 1);
    want = sse.usage;

    UNIT_CHECK(want.prompt_tokens == 1234 && want.cached_tokens == 1000
               && want.cost == 0.5, "the chat scanner's reading");

    for (to = 0; to <= AIROUTER_DIALECT_N; to++) {
        td_ctx(&ctx, to < AIROUTER_DIALECT_N ? to : AIROUTER_DIALECT_OPENAI);
        airouter_dbuf_init(&out);

        s = airouter_dstream_create(AIROUTER_DIALECT_OPENAI, to, &ctx);
        airouter_dstream_feed(s, chat_stream, sizeof(chat_stream) - 1, &out);
        airouter_dstream_finish(s, NULL, &out);

        UNIT_CHECK(airouter_dstream_usage(s, &u) && td_usage_eq(&u.u, &want)
                   && airouter_dstream_state(s) == 1,
                   "stream to %s: the same usage",
                   airouter_dialect_name(to));

        airouter_dstream_destroy(s);
        airouter_dbuf_free(&out);

        if (to == AIROUTER_DIALECT_N) {
            break;
        }

        text = td_answer(AIROUTER_DIALECT_OPENAI, to, &ctx, answer, &u);
        UNIT_CHECK(text && td_usage_eq(&u.u, &want),
                   "answer to %s: the same usage",
                   airouter_dialect_name(to));
        free(text);
        airouter_dctx_free(&ctx);
    }

    /* and what each dialect's answer says is the same count again */
    for (to = 0; to < AIROUTER_DIALECT_N; to++) {
        td_ctx(&ctx, to);
        text = td_answer(AIROUTER_DIALECT_OPENAI, to, &ctx, answer, NULL);

        UNIT_CHECK(text
                   && airouter_dialect_usage(to, text, strlen(text), &u) == 1
                   && u.u.prompt_tokens == 1234
                   && u.u.completion_tokens == 56
                   && u.u.total_tokens == 1290
                   && (to == AIROUTER_DIALECT_GEMINI
                       || u.u.cached_tokens == 1000),
                   "%s's own usage fields read back: %ld %ld %ld %ld",
                   airouter_dialect_name(to), u.u.prompt_tokens,
                   u.u.completion_tokens, u.u.total_tokens,
                   u.u.cached_tokens);

        free(text);
    }
}


static void
test_pairs(void)
{
    char             *s;
    json_t           *req, *out;
    airouter_dctx_t   ctx;
    airouter_derr_t   err;

    td_ctx(&ctx, AIROUTER_DIALECT_OPENAI);

    req = tj("{\"model\":\"m\",\"messages\":[]}");

    UNIT_CHECK(airouter_dialect_request(AIROUTER_DIALECT_OPENAI,
                                        AIROUTER_DIALECT_OPENAI, req, &ctx,
                                        &out, &err) == 0
               && out != req && json_equal(out, req),
               "the same dialect: a copy");
    json_decref(out);

    UNIT_CHECK(airouter_dialect_request(AIROUTER_DIALECT_OPENAI,
                                        AIROUTER_DIALECT_GEMINI, req, &ctx,
                                        &out, &err) == -1
               && strstr(err.message, "gemini"),
               "no channel speaks gemini: %s", err.message);

    UNIT_CHECK(airouter_dialect_request(AIROUTER_DIALECT_N,
                                        AIROUTER_DIALECT_OPENAI, req, &ctx,
                                        &out, &err) == -1, "no dialect");
    json_decref(req);

    req = tj("[1]");
    UNIT_CHECK(airouter_dialect_request(AIROUTER_DIALECT_ANTHROPIC,
                                        AIROUTER_DIALECT_OPENAI, req, &ctx,
                                        &out, &err) == -1
               && err.status == 400, "not an object");
    json_decref(req);

    s = td_answer(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_OPENAI, &ctx,
                  "{\"choices\":[]}", NULL);
    UNIT_STREQ(s, "{\"choices\":[]}");
    free(s);

    UNIT_CHECK(td_answer(AIROUTER_DIALECT_RESPONSES, AIROUTER_DIALECT_OPENAI,
                         &ctx, "{}", NULL) == NULL,
               "no Responses upstream to read");
}


/* a Responses stream passed through: its end and usage read */
static void
test_responses_usage(void)
{
    airouter_dctx_t      ctx;
    airouter_dbuf_t      out;
    airouter_dusage_t    u;
    airouter_dstream_t  *s;
    static const char    stream[] =
        "event: response.created\ndata: {\"type\":\"response.created\","
        "\"response\":{\"id\":\"resp_1\",\"model\":\"m\"},"
        "\"sequence_number\":0}\n\n"
        "event: response.output_text.delta\ndata: {\"type\":"
        "\"response.output_text.delta\",\"delta\":\"Hi\"}\n\n"
        "event: response.completed\ndata: {\"type\":\"response.completed\","
        "\"response\":{\"id\":\"resp_1\",\"usage\":{\"input_tokens\":9,"
        "\"input_tokens_details\":{\"cached_tokens\":4},"
        "\"output_tokens\":3,\"total_tokens\":12}}}\n\n";

    td_ctx(&ctx, AIROUTER_DIALECT_RESPONSES);
    airouter_dbuf_init(&out);

    s = airouter_dstream_create(AIROUTER_DIALECT_RESPONSES,
                                AIROUTER_DIALECT_N, &ctx);
    airouter_dstream_feed(s, stream, sizeof(stream) - 1, &out);

    UNIT_CHECK(out.len == 0 && airouter_dstream_state(s) == 1
               && airouter_dstream_usage(s, &u) && u.u.prompt_tokens == 9
               && u.u.cached_tokens == 4 && u.u.completion_tokens == 3,
               "completed, with its usage");
    airouter_dstream_destroy(s);

    s = airouter_dstream_create(AIROUTER_DIALECT_RESPONSES,
                                AIROUTER_DIALECT_N, &ctx);
    airouter_dstream_feed(s, stream, 120, &out);
    airouter_dstream_finish(s, "cut", &out);
    UNIT_CHECK(out.len == 0 && airouter_dstream_state(s) == -1,
               "cut before response.completed: failed");
    airouter_dstream_destroy(s);

    s = airouter_dstream_create(AIROUTER_DIALECT_RESPONSES,
                                AIROUTER_DIALECT_N, &ctx);
    airouter_dstream_feed(s, "data: {\"type\":\"response.failed\","
                          "\"response\":{\"error\":{\"message\":\"x\"}}}"
                          "\n\n", 71, &out);
    UNIT_CHECK(airouter_dstream_state(s) == -1, "response.failed");
    airouter_dstream_destroy(s);

    airouter_dbuf_free(&out);
}


static void
test_route(void)
{
    size_t             i;
    airouter_droute_t  rt;
    static const struct {
        const char  *path;
        int          found;
        int          dialect;
        int          count;
        int          stream;
        const char  *model;
    } cases[] = {
        { "/v1/messages", 1, AIROUTER_DIALECT_ANTHROPIC, 0, 0, NULL },
        { "/v1/messages/count_tokens", 1, AIROUTER_DIALECT_ANTHROPIC, 1, 0,
          NULL },
        { "/anthropic/v1/messages", 1, AIROUTER_DIALECT_ANTHROPIC, 0, 0,
          NULL },
        { "/v1/responses", 1, AIROUTER_DIALECT_RESPONSES, 0, 0, NULL },
        { "/v1/responses/resp_1", 0, 0, 0, 0, NULL },
        { "/v1/chat/completions", 0, 0, 0, 0, NULL },
        { "/v1/messages/x", 0, 0, 0, 0, NULL },
        { "/v1beta/models/gemini-pro:generateContent", 1,
          AIROUTER_DIALECT_GEMINI, 0, 0, "gemini-pro" },
        { "/v1beta/models/google/gemma-3-12b:streamGenerateContent", 1,
          AIROUTER_DIALECT_GEMINI, 0, 1, "google/gemma-3-12b" },
        { "/v1beta/models/tag:free,qwen3:generateContent", 1,
          AIROUTER_DIALECT_GEMINI, 0, 0, "tag:free,qwen3" },
        { "/gw/v1/models/m:generateContent", 1, AIROUTER_DIALECT_GEMINI, 0,
          0, "m" },
        { "/v1alpha/models/a/v1/models/b:generateContent", 1,
          AIROUTER_DIALECT_GEMINI, 0, 0, "a/v1/models/b" },
        { "/v1beta/models/:generateContent", 0, 0, 0, 0, NULL },
        { "/v1beta/models/m:countTokens", 1, AIROUTER_DIALECT_GEMINI, 1, 0,
          "m" },
        { "/v1beta/models/google/gemma:countTokens", 1,
          AIROUTER_DIALECT_GEMINI, 1, 0, "google/gemma" },
        { "/v1beta/models/m:predict", 0, 0, 0, 0, NULL },
        { "/v1beta/models/m", 0, 0, 0, 0, NULL },
        { "/v1/models", 0, 0, 0, 0, NULL },
        { "", 0, 0, 0, 0, NULL },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&rt, 0x5a, sizeof(rt));

        if (airouter_dialect_route(cases[i].path, strlen(cases[i].path),
                                   &rt) != cases[i].found)
        {
            UNIT_CHECK(0, "%s: found %d", cases[i].path, !cases[i].found);
            continue;
        }

        if (!cases[i].found) {
            UNIT_CHECK(1, "not a dialect route");
            continue;
        }

        UNIT_CHECK((int) rt.dialect == cases[i].dialect
                   && rt.count == cases[i].count
                   && rt.stream == cases[i].stream
                   && (cases[i].model == NULL
                       || (rt.model_len == strlen(cases[i].model)
                           && memcmp(cases[i].path + rt.model,
                                     cases[i].model, rt.model_len) == 0)),
                   "%s: dialect %d count %d stream %d model %.*s",
                   cases[i].path, rt.dialect, rt.count, rt.stream,
                   (int) rt.model_len, cases[i].path + rt.model);

        UNIT_CHECK(!rt.embed && !rt.batch, "%s: not an embedding",
                   cases[i].path);
    }

    /* Gemini's embedding methods; the model may be a tag query */
    UNIT_CHECK(airouter_dialect_route("/v1beta/models/tag:e,x:embedContent",
                                      35, &rt) == 1
               && rt.dialect == AIROUTER_DIALECT_GEMINI && rt.embed
               && !rt.batch && !rt.count && !rt.stream
               && rt.model == 15 && rt.model_len == 7,
               "embedContent: an embedding, model tag:e,x");
    UNIT_CHECK(airouter_dialect_route("/v1/models/google/e:batchEmbedContents",
                                      38, &rt) == 1
               && rt.dialect == AIROUTER_DIALECT_GEMINI && rt.embed
               && rt.batch && rt.model == 11 && rt.model_len == 8,
               "batchEmbedContents: a batch, model google/e");
    UNIT_CHECK(airouter_dialect_of_path("/v1beta/models/m:embedContent", 29)
               == AIROUTER_DIALECT_GEMINI, "its errors are Google's");
}


static void
test_count(void)
{
    airouter_dbuf_t  b;

    airouter_dbuf_init(&b);
    airouter_dialect_count_answer(AIROUTER_DIALECT_ANTHROPIC, 42, &b);
    UNIT_CHECK(td_json_is(b.data, b.len, "{\"input_tokens\":42}"),
               "count_tokens' answer");
    airouter_dbuf_free(&b);

    airouter_dbuf_init(&b);
    airouter_dialect_count_answer(AIROUTER_DIALECT_GEMINI, 7, &b);
    UNIT_CHECK(td_json_is(b.data, b.len, "{\"totalTokens\":7}"),
               "countTokens' answer");
    airouter_dbuf_free(&b);
}


/* the dialect a path's client speaks, and Gemini's listing paths */
static void
test_of_path(void)
{
    int                 got;
    size_t              i, model, model_len;
    static const struct {
        const char  *path;
        int          dialect;
        int          models;     /* airouter_dialect_gemini_models() */
        const char  *model;
    } cases[] = {
        { "/v1/chat/completions", AIROUTER_DIALECT_OPENAI, 0, NULL },
        { "/v1/models", AIROUTER_DIALECT_OPENAI, 0, NULL },
        { "/v1/models/qwen/qwen3-8b:free", AIROUTER_DIALECT_OPENAI, 0, NULL },
        { "/v1/messages", AIROUTER_DIALECT_ANTHROPIC, 0, NULL },
        { "/v1/responses", AIROUTER_DIALECT_RESPONSES, 0, NULL },
        { "/v1/models/m:generateContent", AIROUTER_DIALECT_GEMINI, 0, NULL },
        { "/v1beta/models", AIROUTER_DIALECT_GEMINI, 1, NULL },
        { "/v1beta/models/", AIROUTER_DIALECT_GEMINI, 1, NULL },
        { "/gw/v1alpha/models", AIROUTER_DIALECT_GEMINI, 1, NULL },
        { "/v1beta/models/gemini-pro", AIROUTER_DIALECT_GEMINI, 2,
          "gemini-pro" },
        { "/v1beta/models/google/gemma-3", AIROUTER_DIALECT_GEMINI, 2,
          "google/gemma-3" },
        { "/v1beta/models/m:embedContent", AIROUTER_DIALECT_GEMINI, 0,
          NULL },
        { "/v1beta/models/m:countTokens", AIROUTER_DIALECT_GEMINI, 0, NULL },
        { "/v1beta/modelsx", AIROUTER_DIALECT_GEMINI, 0, NULL },
        { "/v1beta/files", AIROUTER_DIALECT_GEMINI, 0, NULL },
        { "/v1beta", AIROUTER_DIALECT_GEMINI, 0, NULL },
        { "/v1betax/models", AIROUTER_DIALECT_OPENAI, 0, NULL },
        { "/x/v1beta2/models", AIROUTER_DIALECT_OPENAI, 0, NULL },
        { "", AIROUTER_DIALECT_OPENAI, 0, NULL },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        UNIT_CHECK((int) airouter_dialect_of_path(cases[i].path,
                                                  strlen(cases[i].path))
                   == cases[i].dialect, "%s: the path's dialect",
                   cases[i].path);

        model = 0;
        model_len = 0;
        got = airouter_dialect_gemini_models(cases[i].path,
                                             strlen(cases[i].path), &model,
                                             &model_len);

        UNIT_CHECK(got == cases[i].models
                   && (cases[i].model == NULL
                       || (model_len == strlen(cases[i].model)
                           && memcmp(cases[i].path + model, cases[i].model,
                                     model_len) == 0)),
                   "%s: Gemini listing %d (model %.*s)", cases[i].path, got,
                   (int) model_len, cases[i].path + model);
    }
}


static void
test_beta(void)
{
    size_t             i;
    char               big[1100];
    static const struct {
        const char  *v;
        int          ok;
    } cases[] = {
        { "prompt-caching-2024-07-31", 1 },
        { "output-128k-2025-02-19,token-efficient-tools-2025-02-19", 1 },
        { " a.b_c-1 , d ", 1 },
        { "", 0 },
        { ",", 0 },
        { "a,,b", 0 },
        { "a,", 0 },
        { "a b", 0 },
        { "a\r\nX-Injected: yes", 0 },
        { "a;b", 0 },
        { "caf\xc3\xa9", 0 },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        UNIT_CHECK(airouter_dialect_beta_ok(cases[i].v, strlen(cases[i].v))
                   == cases[i].ok, "anthropic-beta \"%s\": %d", cases[i].v,
                   cases[i].ok);
    }

    memset(big, 'a', sizeof(big));
    UNIT_CHECK(airouter_dialect_beta_ok(big, 1024), "1024 bytes pass");
    UNIT_CHECK(!airouter_dialect_beta_ok(big, 1025), "1025 bytes do not");
}


static void
test_dbuf(void)
{
    airouter_dbuf_t    b;
    static const char  want[] = "\"a\\\"b\\\\c\\u000a\\u0001\"-42";

    airouter_dbuf_init(&b);
    airouter_dbuf_quote(&b, "a\"b\\c\n\x01", 7);
    airouter_dbuf_long(&b, -42);
    UNIT_CHECK(b.len == sizeof(want) - 1
               && memcmp(b.data, want, b.len) == 0,
               "quoting and numbers: %.*s", (int) b.len, b.data);
    airouter_dbuf_free(&b);
}


int
main(void)
{
    test_names();
    test_sse_reader();
    test_too_large();
    test_life();
    test_same_usage();
    test_pairs();
    test_route();
    test_responses_usage();
    test_count();
    test_of_path();
    test_beta();
    test_dbuf();

    UNIT_DONE("test_dialect");
}
