/*
 * Gemini generateContent: requests to chat (contents and parts in both
 * spellings Google accepts, systemInstruction, generationConfig with
 * schemas and thinking, function declarations and calling modes, calls
 * and responses paired), answers, streams (text chunk by chunk, calls
 * whole at the end, every cut the same), truncation, errors and usage.
 */

#include "test_dialect.h"


static const char  chat_stream[] =
    "data: {\"id\":\"c\",\"model\":\"up\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"role\":\"assistant\",\"reasoning_content\":\"T\"}}]}\n\n"
    "data: {\"id\":\"c\",\"model\":\"up\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"content\":\"Hel\"}}]}\n\n"
    "data: {\"id\":\"c\",\"model\":\"up\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"content\":\"lo\"}}]}\n\n"
    "data: {\"id\":\"c\",\"model\":\"up\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"function\":"
    "{\"name\":\"f\",\"arguments\":\"{\\\"a\\\"\"}}]}}]}\n\n"
    "data: {\"id\":\"c\",\"model\":\"up\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
    "\":[1]}\"}}]},\"finish_reason\":\"tool_calls\"}]}\n\n"
    "data: {\"id\":\"c\",\"model\":\"up\",\"choices\":[],\"usage\":"
    "{\"prompt_tokens\":20,\"completion_tokens\":9,\"total_tokens\":29,"
    "\"prompt_tokens_details\":{\"cached_tokens\":8},"
    "\"completion_tokens_details\":{\"reasoning_tokens\":4}}}\n\n"
    "data: [DONE]\n\n";


static void
test_request(void)
{
    json_t           *chat;
    airouter_dctx_t   ctx;
    airouter_derr_t   err;

    td_ctx(&ctx, AIROUTER_DIALECT_GEMINI);
    ctx.stream = 1;

    chat = td_request(AIROUTER_DIALECT_GEMINI, AIROUTER_DIALECT_OPENAI, &ctx,
        "{\"model\":\"google/gemma-3-12b\","
        "\"systemInstruction\":{\"parts\":[{\"text\":\"Sys\"},{\"text\":"
        "\"tem\"}]},"
        "\"contents\":["
        "{\"role\":\"user\",\"parts\":[{\"text\":\"Look\"},{\"inlineData\":"
        "{\"mimeType\":\"image/png\",\"data\":\"iVB\"}},{\"inline_data\":"
        "{\"mime_type\":\"application/pdf\",\"data\":\"JVB\"}},{\"fileData\":"
        "{\"mimeType\":\"image/jpeg\",\"fileUri\":\"https://x.test/f.jpg\"}}"
        "]},"
        "{\"role\":\"model\",\"parts\":[{\"text\":\"thinking\",\"thought\":"
        "true},{\"text\":\"Calling\"},{\"functionCall\":{\"name\":\"f\","
        "\"args\":{\"a\":1}}},{\"functionCall\":{\"name\":\"g\",\"args\":{},"
        "\"id\":\"gid\"}},{\"functionCall\":{\"name\":\"f\",\"args\":"
        "{\"a\":2}}}]},"
        "{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":\"f\","
        "\"response\":{\"r\":1}}},{\"functionResponse\":{\"name\":\"g\","
        "\"id\":\"gid\",\"response\":{\"r\":\"g\"}}},{\"function_response\":"
        "{\"name\":\"f\",\"response\":{\"r\":2}}},{\"text\":\"So?\"}]}],"
        "\"generationConfig\":{\"temperature\":0.4,\"topP\":0.9,\"topK\":3,"
        "\"maxOutputTokens\":256,\"stopSequences\":[\"Z\"],\"seed\":5,"
        "\"presencePenalty\":0.1,\"frequencyPenalty\":0.2,"
        "\"responseMimeType\":\"application/json\",\"responseSchema\":"
        "{\"type\":\"OBJECT\",\"properties\":{\"n\":{\"type\":\"INTEGER\","
        "\"nullable\":true},\"l\":{\"type\":\"ARRAY\",\"items\":{\"type\":"
        "\"STRING\"}}},\"required\":[\"n\"],\"propertyOrdering\":[\"n\","
        "\"l\"]},\"thinkingConfig\":{\"thinkingBudget\":2048,"
        "\"includeThoughts\":true}},"
        "\"tools\":[{\"functionDeclarations\":[{\"name\":\"f\","
        "\"description\":\"F\",\"parameters\":{\"type\":\"OBJECT\","
        "\"properties\":{\"a\":{\"type\":\"NUMBER\"}}}},{\"name\":\"g\","
        "\"parametersJsonSchema\":{\"type\":\"object\"}}]}],"
        "\"toolConfig\":{\"functionCallingConfig\":{\"mode\":\"AUTO\"}},"
        "\"safetySettings\":[]}", &err);

    UNIT_CHECK(chat != NULL, "translated: %s", err.message);
    UNIT_CHECK(td_tree_is(chat,
        "{\"model\":\"google/gemma-3-12b\",\"messages\":["
        "{\"role\":\"system\",\"content\":\"Sys\\ntem\"},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
        "\"Look\"},{\"type\":\"image_url\",\"image_url\":{\"url\":"
        "\"data:image/png;base64,iVB\"}},{\"type\":\"file\",\"file\":"
        "{\"file_data\":\"data:application/pdf;base64,JVB\",\"filename\":"
        "\"document.pdf\"}},{\"type\":\"image_url\",\"image_url\":{\"url\":"
        "\"https://x.test/f.jpg\"}}]},"
        "{\"role\":\"assistant\",\"content\":\"Calling\",\"tool_calls\":["
        "{\"id\":\"call_0\",\"type\":\"function\",\"function\":{\"name\":"
        "\"f\",\"arguments\":\"{\\\"a\\\":1}\"}},"
        "{\"id\":\"gid\",\"type\":\"function\",\"function\":{\"name\":\"g\","
        "\"arguments\":\"{}\"}},"
        "{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":"
        "\"f\",\"arguments\":\"{\\\"a\\\":2}\"}}]},"
        "{\"role\":\"tool\",\"tool_call_id\":\"call_0\",\"content\":"
        "\"{\\\"r\\\":1}\"},"
        "{\"role\":\"tool\",\"tool_call_id\":\"gid\",\"content\":"
        "\"{\\\"r\\\":\\\"g\\\"}\"},"
        "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":"
        "\"{\\\"r\\\":2}\"},"
        "{\"role\":\"user\",\"content\":\"So?\"}],"
        "\"temperature\":0.4,\"top_p\":0.9,\"max_tokens\":256,\"stop\":"
        "[\"Z\"],\"presence_penalty\":0.1,\"frequency_penalty\":0.2,"
        "\"seed\":5,"
        "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":"
        "{\"name\":\"response\",\"schema\":{\"type\":\"object\","
        "\"properties\":{\"n\":{\"type\":[\"integer\",\"null\"]},\"l\":"
        "{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},\"required\":"
        "[\"n\"]}}},"
        "\"reasoning_effort\":\"medium\","
        "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
        "\"description\":\"F\",\"parameters\":{\"type\":\"object\","
        "\"properties\":{\"a\":{\"type\":\"number\"}}}}},{\"type\":"
        "\"function\",\"function\":{\"name\":\"g\",\"parameters\":{\"type\":"
        "\"object\"}}}],"
        "\"tool_choice\":\"auto\",\"stream\":true}"),
        "every field of a generateContent request");
    UNIT_CHECK(ctx.thoughts, "includeThoughts noted");
    json_decref(chat);

    /* snake_case, text contents, ANY with one or two allowed names */
    td_ctx(&ctx, AIROUTER_DIALECT_GEMINI);
    chat = td_request(AIROUTER_DIALECT_GEMINI, AIROUTER_DIALECT_OPENAI, &ctx,
        "{\"model\":\"m\",\"system_instruction\":{\"parts\":[{\"text\":"
        "\"S\"}]},\"contents\":[{\"parts\":[{\"text\":\"q\"}]}],"
        "\"generation_config\":{\"max_output_tokens\":9,\"thinking_config\":"
        "{\"thinking_level\":\"LOW\"}},\"tools\":[{\"function_declarations\":"
        "[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"c\"}]}],"
        "\"tool_config\":{\"function_calling_config\":{\"mode\":\"ANY\","
        "\"allowed_function_names\":[\"a\",\"c\"]}}}", &err);
    UNIT_CHECK(td_tree_is(chat,
        "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":"
        "\"S\"},{\"role\":\"user\",\"content\":\"q\"}],\"max_tokens\":9,"
        "\"reasoning_effort\":\"low\",\"tools\":[{\"type\":\"function\","
        "\"function\":{\"name\":\"a\"}},{\"type\":\"function\",\"function\":"
        "{\"name\":\"c\"}}],\"tool_choice\":\"required\"}"),
        "snake_case; ANY keeps only the allowed functions");
    json_decref(chat);

    chat = td_request(AIROUTER_DIALECT_GEMINI, AIROUTER_DIALECT_OPENAI, &ctx,
        "{\"model\":\"m\",\"contents\":[{\"role\":\"user\",\"parts\":"
        "[{\"text\":\"q\"}]}],\"tools\":[{\"functionDeclarations\":"
        "[{\"name\":\"a\"},{\"name\":\"b\"}]}],\"toolConfig\":"
        "{\"functionCallingConfig\":{\"mode\":\"ANY\","
        "\"allowedFunctionNames\":[\"b\"]}},\"generationConfig\":"
        "{\"thinkingConfig\":{\"thinkingBudget\":0},\"responseMimeType\":"
        "\"application/json\"}}", &err);
    UNIT_CHECK(td_tree_is(json_object_get(chat, "tool_choice"),
                          "{\"type\":\"function\",\"function\":{\"name\":"
                          "\"b\"}}")
               && strcmp(td_str(chat, "reasoning_effort"), "none") == 0
               && strcmp(td_str(chat, "response_format.type"),
                         "json_object") == 0,
               "one allowed name: that function; budget 0: none; JSON "
               "without a schema");
    json_decref(chat);

    chat = td_request(AIROUTER_DIALECT_GEMINI, AIROUTER_DIALECT_OPENAI, &ctx,
        "{\"model\":\"m\",\"contents\":[{\"role\":\"user\",\"parts\":"
        "[{\"text\":\"q\"}]}],\"tools\":[{\"functionDeclarations\":"
        "[{\"name\":\"a\"}]}],\"toolConfig\":{\"functionCallingConfig\":"
        "{\"mode\":\"NONE\"}}}", &err);
    UNIT_STREQ(td_str(chat, "tool_choice"), "none");
    json_decref(chat);
}


static void
test_request_errors(void)
{
    static const td_bad_t  bad[] = {
        { "{\"model\":\"m\"}", "invalid_request", "contents" },
        { "{\"model\":\"m\",\"contents\":[]}", "invalid_request",
          "contents" },
        { "{\"model\":\"m\",\"contents\":[{\"role\":\"user\",\"parts\":"
          "[{\"text\":\"q\"}]}],\"generationConfig\":{\"candidateCount\":"
          "2}}", "unsupported_parameter", "candidateCount" },
        { "{\"model\":\"m\",\"contents\":[{\"role\":\"user\",\"parts\":"
          "[{\"text\":\"q\"}]}],\"tools\":[{\"googleSearch\":{}}]}",
          "unsupported_tool", "googleSearch" },
        { "{\"model\":\"m\",\"contents\":[{\"role\":\"user\",\"parts\":"
          "[{\"inlineData\":{\"mimeType\":\"audio/wav\",\"data\":\"x\"}}]}]}",
          "unsupported_content", "audio/wav" },
        { "{\"model\":\"m\",\"contents\":[{\"role\":\"user\",\"parts\":"
          "[{\"functionCall\":{\"name\":\"f\"}}]}]}", "invalid_request",
          "model turn" },
        { "{\"model\":\"m\",\"contents\":[{\"role\":\"boss\",\"parts\":"
          "[]}]}", "invalid_request", "boss" },
        { "{\"model\":\"m\",\"contents\":[{\"role\":\"user\"}]}",
          "invalid_request", "parts" },
    };

    td_request_errors(AIROUTER_DIALECT_GEMINI, bad,
                      sizeof(bad) / sizeof(bad[0]), NULL);
}


static void
test_answer(void)
{
    char             *out;
    airouter_dctx_t   ctx;
    static const char  answer[] =
        "{\"id\":\"c\",\"model\":\"up\",\"choices\":[{\"index\":0,"
        "\"message\":{\"role\":\"assistant\",\"reasoning_content\":\"T\","
        "\"content\":\"Sunny\",\"tool_calls\":[{\"id\":\"call_1\","
        "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":"
        "\"{\\\"a\\\":1}\"}}]},\"finish_reason\":\"tool_calls\"}],"
        "\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":9,"
        "\"total_tokens\":29,\"prompt_tokens_details\":{\"cached_tokens\":8},"
        "\"completion_tokens_details\":{\"reasoning_tokens\":4}}}";

    td_ctx(&ctx, AIROUTER_DIALECT_GEMINI);

    out = td_answer(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_GEMINI, &ctx,
                    answer, NULL);
    UNIT_CHECK(out && td_json_is(out, strlen(out),
        "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Sunny\"},"
        "{\"functionCall\":{\"name\":\"f\",\"args\":{\"a\":1},\"id\":"
        "\"call_1\"}}],\"role\":\"model\"},\"index\":0,\"finishReason\":"
        "\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":20,"
        "\"candidatesTokenCount\":5,\"totalTokenCount\":29,"
        "\"cachedContentTokenCount\":8,\"thoughtsTokenCount\":4},"
        "\"modelVersion\":\"up\",\"responseId\":\"t1\"}"),
        "a chat answer as a GenerateContentResponse");
    free(out);

    ctx.thoughts = 1;
    out = td_answer(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_GEMINI, &ctx,
                    answer, NULL);
    UNIT_CHECK(out && strstr(out, "{\"text\":\"T\",\"thought\":true},"
                                  "{\"text\":\"Sunny\"}"),
               "includeThoughts: thought parts first: %s", out);
    free(out);

    out = td_answer(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_GEMINI, &ctx,
                    "{\"choices\":[{\"message\":{\"tool_calls\":[{\"id\":"
                    "\"x\",\"function\":{\"name\":\"f\",\"arguments\":"
                    "\"{oops\"}}]},\"finish_reason\":\"tool_calls\"}]}",
                    NULL);
    UNIT_CHECK(out && strstr(out, "\"finishReason\":"
                                  "\"MALFORMED_FUNCTION_CALL\"")
               && !strstr(out, "functionCall"),
               "arguments that are not JSON: MALFORMED_FUNCTION_CALL");
    free(out);

    out = td_answer(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_GEMINI, &ctx,
                    "{\"choices\":[{\"message\":{\"content\":\"x\"},"
                    "\"finish_reason\":\"length\"}]}", NULL);
    UNIT_CHECK(out && strstr(out, "\"finishReason\":\"MAX_TOKENS\"")
               && !strstr(out, "usageMetadata"), "length: MAX_TOKENS");
    free(out);

    out = td_answer(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_GEMINI, &ctx,
                    "{\"choices\":[{\"message\":{\"content\":\"x\"},"
                    "\"finish_reason\":\"content_filter\"}]}", NULL);
    UNIT_CHECK(out && strstr(out, "\"finishReason\":\"SAFETY\""),
               "content_filter: SAFETY");
    free(out);
}


/* a stream cut short: Google's error object last, no finishReason */
static int
cut_ends(const td_events_t *evs, const char *out)
{
    return evs->n > 0
           && td_int(evs->ev[evs->n - 1].data, "error.code") == 502
           && strcmp(td_str(evs->ev[evs->n - 1].data, "error.status"),
                     "UNAVAILABLE") == 0
           && strcmp(td_str(evs->ev[evs->n - 1].data, "error.message"),
                     "cut") == 0
           && strstr(out, "finishReason") == NULL;
}


static void
test_stream(void)
{
    int              same;
    char            *out;
    size_t           n;
    json_t          *d;
    td_events_t      evs;
    airouter_dctx_t  ctx;

    td_ctx(&ctx, AIROUTER_DIALECT_GEMINI);

    out = td_stream_all(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_GEMINI,
                        &ctx, chat_stream, NULL, &same);
    UNIT_CHECK(same, "every cut gives the same chunks");

    td_parse(out, &evs);
    UNIT_CHECK(evs.n == 3, "two text chunks and the last: %zu\n%s", evs.n,
               out);
    UNIT_STREQ(td_str(evs.ev[0].data, "candidates.0.content.parts.0.text"),
               "Hel");
    UNIT_STREQ(td_str(evs.ev[0].data, "candidates.0.content.role"), "model");
    UNIT_STREQ(td_str(evs.ev[0].data, "modelVersion"), "up");
    UNIT_STREQ(td_str(evs.ev[1].data, "candidates.0.content.parts.0.text"),
               "lo");

    d = evs.ev[2].data;
    UNIT_STREQ(td_str(d, "candidates.0.content.parts.0.functionCall.name"),
               "f");
    UNIT_CHECK(td_int(d, "candidates.0.content.parts.0.functionCall.args.a."
                         "0") == 1, "whole arguments as an object");
    UNIT_STREQ(td_str(d, "candidates.0.finishReason"), "STOP");
    UNIT_CHECK(td_int(d, "usageMetadata.promptTokenCount") == 20
               && td_int(d, "usageMetadata.candidatesTokenCount") == 5
               && td_int(d, "usageMetadata.thoughtsTokenCount") == 4
               && td_int(d, "usageMetadata.totalTokenCount") == 29,
               "usageMetadata at the end");
    td_free(&evs);
    free(out);

    ctx.thoughts = 1;
    out = td_stream(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_GEMINI, &ctx,
                    chat_stream, 0, 0, NULL, 0);
    td_parse(out, &evs);
    UNIT_CHECK(evs.n == 4
               && json_is_true(json_object_get(json_array_get(
                      json_object_get(json_object_get(json_array_get(
                          json_object_get(evs.ev[0].data, "candidates"), 0),
                          "content"), "parts"), 0), "thought")),
               "includeThoughts: a thought chunk first");
    td_free(&evs);
    free(out);
    ctx.thoughts = 0;

    /* cut: Google's error object as the last event */
    n = strstr(chat_stream, "\"finish_reason\"") - chat_stream;

    UNIT_CHECK(td_every_cut(AIROUTER_DIALECT_GEMINI, &ctx, chat_stream, n, 9,
                            "cut", cut_ends),
               "every cut ends with an error object");
}


static void
test_errors(void)
{
    size_t           i;
    char            *s;
    json_t          *j;
    airouter_dbuf_t  b;
    static const struct {
        int          status;
        const char  *want;
    } map[] = {
        { 400, "INVALID_ARGUMENT" }, { 401, "UNAUTHENTICATED" },
        { 403, "PERMISSION_DENIED" }, { 404, "NOT_FOUND" },
        { 429, "RESOURCE_EXHAUSTED" }, { 500, "INTERNAL" },
        { 502, "UNAVAILABLE" }, { 503, "UNAVAILABLE" },
        { 504, "DEADLINE_EXCEEDED" }, { 402, "FAILED_PRECONDITION" },
    };

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        airouter_dbuf_init(&b);
        airouter_dialect_error(AIROUTER_DIALECT_GEMINI, map[i].status,
                               "invalid_request_error", "c", "msg", 0, &b);
        s = td_text(&b);
        j = json_loads(s, 0, NULL);
        UNIT_CHECK(td_int(j, "error.code") == map[i].status
                   && strcmp(td_str(j, "error.status"), map[i].want) == 0
                   && strcmp(td_str(j, "error.message"), "msg") == 0,
                   "status %d: %s", map[i].status, s);
        json_decref(j);
        free(s);
        airouter_dbuf_free(&b);
    }
}


static void
test_usage(void)
{
    airouter_dusage_t  u;
    static const char  resp[] =
        "{\"candidates\":[],\"usageMetadata\":{\"promptTokenCount\":30,"
        "\"candidatesTokenCount\":5,\"thoughtsTokenCount\":7,"
        "\"cachedContentTokenCount\":10,\"totalTokenCount\":42}}";

    UNIT_CHECK(airouter_dialect_usage(AIROUTER_DIALECT_GEMINI, resp,
                                      sizeof(resp) - 1, &u) == 1
               && u.u.prompt_tokens == 30 && u.u.completion_tokens == 12
               && u.u.total_tokens == 42 && u.u.cached_tokens == 10
               && u.reasoning == 7,
               "usageMetadata: completion counts the thoughts");
}


/* a tree equal to the JSON text want */
static int
tg_json_eq(json_t *j, const char *want)
{
    int    eq;
    char  *s;

    s = json_dumps(j, JSON_COMPACT);
    eq = s && td_json_is(s, strlen(s), want);
    free(s);

    return eq;
}


/* embedContent and batchEmbedContents as an OpenAI embeddings request */
static void
test_embed(void)
{
    size_t           i;
    json_t          *out;
    airouter_dctx_t  ctx;
    airouter_derr_t  err;
    static const struct {
        int          batch;
        const char  *body;
        const char  *words;
    } bad[] = {
        { 0, "{\"model\":\"m\"}", "content: a Content with parts" },
        { 0, "{\"model\":\"m\",\"content\":{\"parts\":[]}}",
          "content: a Content with parts" },
        { 0, "{\"model\":\"m\",\"content\":{\"parts\":[{\"inlineData\":"
             "{}}]}}", "content: only text parts" },
        { 0, "{\"model\":\"m\",\"content\":{\"parts\":[{\"text\":\"a\"}]},"
             "\"outputDimensionality\":0}", "a positive integer" },
        { 1, "{\"model\":\"m\",\"requests\":{}}", "requests: a non-empty" },
        { 1, "{\"model\":\"m\",\"requests\":[1]}",
          "requests[0].: an EmbedContentRequest" },
        { 1, "{\"model\":\"m\",\"requests\":[{\"model\":\"models/n\","
             "\"content\":{\"parts\":[{\"text\":\"a\"}]}}]}",
          "requests[0].model: \"models/n\" is not the model of the URL" },
        { 1, "{\"model\":\"m\",\"requests\":[{\"content\":{\"parts\":"
             "[{\"text\":\"a\"}]}},{\"content\":{\"parts\":[{\"text\":"
             "\"b\"}]},\"outputDimensionality\":3}]}",
          "requests[1].outputDimensionality: every request" },
    };

    td_ctx(&ctx, AIROUTER_DIALECT_GEMINI);
    ctx.embed = 1;
    out = td_request(AIROUTER_DIALECT_GEMINI, AIROUTER_DIALECT_OPENAI, &ctx,
                     "{\"model\":\"tag:e\",\"content\":{\"parts\":["
                     "{\"text\":\"a\"},{\"text\":\"b\"}]},\"taskType\":"
                     "\"RETRIEVAL_QUERY\",\"title\":\"t\","
                     "\"outputDimensionality\":4}", &err);
    UNIT_CHECK(out && tg_json_eq(out, "{\"model\":\"tag:e\",\"input\":"
                                 "[\"a\\nb\"],\"encoding_format\":\"float\","
                                 "\"dimensions\":4}"),
               "embedContent: one input, its parts joined, dimensions");
    json_decref(out);
    airouter_dctx_free(&ctx);

    td_ctx(&ctx, AIROUTER_DIALECT_GEMINI);
    ctx.embed = 1;
    ctx.batch = 1;
    out = td_request(AIROUTER_DIALECT_GEMINI, AIROUTER_DIALECT_OPENAI, &ctx,
                     "{\"model\":\"google/e\",\"requests\":["
                     "{\"model\":\"models/google/e\",\"content\":{\"parts\":"
                     "[{\"text\":\"a\"}]}},{\"model\":\"google/e\","
                     "\"content\":{\"parts\":[{\"text\":\"b\"}]}},"
                     "{\"content\":{\"parts\":[{\"text\":\"c\"}]}}]}", &err);
    UNIT_CHECK(out && tg_json_eq(out, "{\"model\":\"google/e\",\"input\":"
                                 "[\"a\",\"b\",\"c\"],\"encoding_format\":"
                                 "\"float\"}"),
               "batchEmbedContents: one input per request, in order");
    json_decref(out);
    airouter_dctx_free(&ctx);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        td_ctx(&ctx, AIROUTER_DIALECT_GEMINI);
        ctx.embed = 1;
        ctx.batch = bad[i].batch;
        memset(&err, 0, sizeof(err));

        out = td_request(AIROUTER_DIALECT_GEMINI, AIROUTER_DIALECT_OPENAI,
                         &ctx, bad[i].body, &err);
        UNIT_CHECK(out == NULL && err.status == 400
                   && strstr(err.message, bad[i].words) != NULL,
                   "bad embedding request %zu refused: %s", i, err.message);
        json_decref(out);
        airouter_dctx_free(&ctx);
    }
}


/* OpenAI's embeddings list as Google's, in the requests' order */
static void
test_embed_answer(void)
{
    int                 ok;
    char               *out;
    size_t              i;
    airouter_dctx_t     ctx;
    airouter_dusage_t   u;
    static const char  *not_embeddings[] = {
        "{\"data\":[{\"index\":0,\"embedding\":\"AAAA\"}]}",
        "{\"data\":[{\"index\":0,\"embedding\":[1]},{\"index\":0,"
        "\"embedding\":[2]}]}",
        "{\"data\":[{\"index\":1,\"embedding\":[1]}]}",
        "{\"data\":[]}",
        "{\"data\":[{\"index\":0,\"embedding\":[1,\"x\"]}]}",
        "{\"choices\":[]}"
    };

    td_ctx(&ctx, AIROUTER_DIALECT_GEMINI);
    ctx.embed = 1;

    out = td_answer(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_GEMINI, &ctx,
                    "{\"object\":\"list\",\"data\":[{\"object\":"
                    "\"embedding\",\"index\":0,\"embedding\":[0.1,-1,"
                    "0.30000000000000004,1e-300]}],"
                    "\"usage\":{\"prompt_tokens\":3,\"total_tokens\":3}}", &u);
    UNIT_CHECK(out && strcmp(out, "{\"embedding\":{\"values\":[0.1,-1,"
                                  "0.30000000000000004,1e-300]}}") == 0,
               "embedContent's answer, each number as short as it reads "
               "back: %s", out ? out : "-");
    UNIT_CHECK(u.u.prompt_tokens == 3 && u.u.total_tokens == 3,
               "its usage is OpenAI's");
    free(out);

    UNIT_CHECK(td_answer(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_GEMINI,
                         &ctx, "{\"data\":[{\"index\":0,\"embedding\":[1]},"
                         "{\"index\":1,\"embedding\":[2]}]}", NULL) == NULL,
               "embedContent: two vectors are not its answer");

    ctx.batch = 1;

    out = td_answer(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_GEMINI, &ctx,
                    "{\"data\":[{\"index\":2,\"embedding\":[3]},"
                    "{\"index\":0,\"embedding\":[1]},{\"index\":1,"
                    "\"embedding\":[2]}]}", NULL);
    UNIT_CHECK(out && strcmp(out, "{\"embeddings\":[{\"values\":[1]},"
                                  "{\"values\":[2]},{\"values\":[3]}]}")
                      == 0, "batch: ordered by index: %s", out ? out : "-");
    free(out);

    ok = 1;

    for (i = 0; i < sizeof(not_embeddings) / sizeof(not_embeddings[0]); i++) {
        out = td_answer(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_GEMINI,
                        &ctx, not_embeddings[i], NULL);
        if (out) {
            fprintf(stderr, "taken: %s\n", not_embeddings[i]);
            free(out);
            ok = 0;
        }
    }

    UNIT_CHECK(ok, "base64, a repeated or missing index, no data, a value "
               "that is not a number, a chat answer: not an embeddings "
               "answer");

    airouter_dctx_free(&ctx);
}


int
main(void)
{
    test_request();
    test_request_errors();
    test_answer();
    test_stream();
    test_errors();
    test_usage();
    test_embed();
    test_embed_answer();

    UNIT_DONE("test_dialect_gemini");
}
