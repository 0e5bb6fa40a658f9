/*
 * Anthropic Messages: requests to chat (every field the translator
 * knows), chat answers and streams written as Messages (every event in
 * order, whatever the cuts), errors, usage, and the reverse way for
 * native Anthropic channels (chat requests to Messages, Messages answers
 * and streams to chat), with round trips.
 */

#include "test_dialect.h"


static const char  chat_stream[] =
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
    "\"created\":1,\"model\":\"up-model\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
    "\"finish_reason\":null}]}\n\n"
    ": keep-alive\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":"
    "{\"reasoning_content\":\"Let me \"},\"finish_reason\":null}]}\r\n\r\n"
    "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":"
    "{\"reasoning_content\":\"think.\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":"
    "{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":"
    "{\"content\":\"lo \\\"w\\\"\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":"
    "{\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"type\":\"function\","
    "\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]},"
    "\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":"
    "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
    "\"{\\\"city\\\":\"}}]},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":"
    "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
    "\"\\\"Paris\\\"}\"}}]},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":"
    "{\"tool_calls\":[{\"index\":1,\"id\":\"call_b\",\"type\":\"function\","
    "\"function\":{\"name\":\"get_time\",\"arguments\":\"{}\"}}]},"
    "\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{},"
    "\"finish_reason\":\"tool_calls\"}]}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"choices\":[],\"usage\":{"
    "\"prompt_tokens\":100,\"completion_tokens\":30,\"total_tokens\":130,"
    "\"prompt_tokens_details\":{\"cached_tokens\":40},"
    "\"completion_tokens_details\":{\"reasoning_tokens\":10}}}\n\n"
    "data: [DONE]\n\n";


/* what a native Anthropic channel streams */
static const char  anth_stream[] =
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_up\","
    "\"type\":\"message\",\"role\":\"assistant\",\"content\":[],"
    "\"model\":\"claude-up\",\"stop_reason\":null,\"stop_sequence\":null,"
    "\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":5,"
    "\"cache_read_input_tokens\":70,\"output_tokens\":1}}}\n\n"
    "event: ping\ndata: {\"type\":\"ping\"}\n\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
    "{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
    "{\"type\":\"thinking_delta\",\"thinking\":\"Hmm.\"}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
    "{\"type\":\"signature_delta\",\"signature\":\"sig\"}}\n\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":"
    "{\"type\":\"text\",\"text\":\"\"}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":"
    "{\"type\":\"text_delta\",\"text\":\"Hi \"}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":"
    "{\"type\":\"text_delta\",\"text\":\"there\"}}\n\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":"
    "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\","
    "\"input\":{}}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":"
    "{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\": \"}}"
    "\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":"
    "{\"type\":\"input_json_delta\",\"partial_json\":\"\\\"Oslo\\\"}\"}}\n\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":2}\n\n"
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
    "\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":"
    "42}}\n\n"
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";


static void
test_request(void)
{
    json_t           *chat;
    airouter_dctx_t   ctx;
    airouter_derr_t   err;

    td_ctx(&ctx, AIROUTER_DIALECT_ANTHROPIC);

    chat = td_request(AIROUTER_DIALECT_ANTHROPIC, AIROUTER_DIALECT_OPENAI,
        &ctx,
        "{\"model\":\"tag:free\",\"max_tokens\":512,"
        "\"system\":[{\"type\":\"text\",\"text\":\"Be brief.\"},"
        "{\"type\":\"text\",\"text\":\"Be kind.\",\"cache_control\":"
        "{\"type\":\"ephemeral\"}}],"
        "\"messages\":["
        "{\"role\":\"user\",\"content\":\"Hi\"},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
        "\"Look:\"},{\"type\":\"image\",\"source\":{\"type\":\"base64\","
        "\"media_type\":\"image/png\",\"data\":\"iVBO\"}},{\"type\":"
        "\"image\",\"source\":{\"type\":\"url\",\"url\":"
        "\"https://x.test/a.jpg\"}}]},"
        "{\"role\":\"assistant\",\"content\":[{\"type\":\"thinking\","
        "\"thinking\":\"hm\",\"signature\":\"s\"},{\"type\":\"text\","
        "\"text\":\"Checking.\"},{\"type\":\"tool_use\",\"id\":\"toolu_1\","
        "\"name\":\"get_weather\",\"input\":{\"city\":\"Paris\"}}]},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\","
        "\"tool_use_id\":\"toolu_1\",\"content\":[{\"type\":\"text\","
        "\"text\":\"18C\"},{\"type\":\"image\",\"source\":{\"type\":\"url\","
        "\"url\":\"https://x.test/map.png\"}}]},{\"type\":\"text\",\"text\":"
        "\"And?\"}]}],"
        "\"tools\":[{\"name\":\"get_weather\",\"description\":\"Weather\","
        "\"input_schema\":{\"type\":\"object\",\"properties\":{\"city\":"
        "{\"type\":\"string\"}}}}],"
        "\"tool_choice\":{\"type\":\"any\",\"disable_parallel_tool_use\":"
        "true},"
        "\"stop_sequences\":[\"END\"],\"temperature\":0.5,\"top_p\":0.9,"
        "\"top_k\":40,\"metadata\":{\"user_id\":\"u-7\"},"
        "\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":2000},"
        "\"stream\":true}", &err);

    UNIT_CHECK(chat != NULL, "translated: %s", err.message);
    UNIT_CHECK(td_tree_is(chat,
        "{\"model\":\"tag:free\",\"max_tokens\":512,"
        "\"messages\":["
        "{\"role\":\"system\",\"content\":\"Be brief.\\nBe kind.\"},"
        "{\"role\":\"user\",\"content\":\"Hi\"},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
        "\"Look:\"},{\"type\":\"image_url\",\"image_url\":{\"url\":"
        "\"data:image/png;base64,iVBO\"}},{\"type\":\"image_url\","
        "\"image_url\":{\"url\":\"https://x.test/a.jpg\"}}]},"
        "{\"role\":\"assistant\",\"content\":\"Checking.\",\"tool_calls\":"
        "[{\"id\":\"toolu_1\",\"type\":\"function\",\"function\":{\"name\":"
        "\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},"
        "{\"role\":\"tool\",\"tool_call_id\":\"toolu_1\",\"content\":"
        "\"18C\"},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
        "\"image_url\":{\"url\":\"https://x.test/map.png\"}},{\"type\":"
        "\"text\",\"text\":\"And?\"}]}],"
        "\"stop\":[\"END\"],\"temperature\":0.5,\"top_p\":0.9,"
        "\"user\":\"u-7\","
        "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":"
        "\"get_weather\",\"description\":\"Weather\",\"parameters\":"
        "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":"
        "\"string\"}}}}}],"
        "\"tool_choice\":\"required\",\"parallel_tool_calls\":false,"
        "\"reasoning_effort\":\"medium\",\"stream\":true}"),
        "every field of a Messages request");
    UNIT_CHECK(ctx.stream, "the context knows it streams");
    json_decref(chat);

    /* tool_choice kinds, a string content, output_config */
    chat = td_request(AIROUTER_DIALECT_ANTHROPIC, AIROUTER_DIALECT_OPENAI,
        &ctx,
        "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\","
        "\"content\":\"x\"}],\"tools\":[{\"name\":\"f\",\"input_schema\":"
        "{\"type\":\"object\"}}],\"tool_choice\":{\"type\":\"tool\","
        "\"name\":\"f\"},\"output_config\":{\"effort\":\"high\",\"format\":"
        "{\"type\":\"json_schema\",\"schema\":{\"type\":\"object\"}}}}",
        &err);
    UNIT_CHECK(td_tree_is(chat,
        "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\","
        "\"content\":\"x\"}],\"tools\":[{\"type\":\"function\",\"function\":"
        "{\"name\":\"f\",\"parameters\":{\"type\":\"object\"}}}],"
        "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":"
        "\"f\"}},\"reasoning_effort\":\"high\",\"response_format\":"
        "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"output\","
        "\"schema\":{\"type\":\"object\"}}}}"),
        "a named tool, output_config's effort and format");
    json_decref(chat);

    chat = td_request(AIROUTER_DIALECT_ANTHROPIC, AIROUTER_DIALECT_OPENAI,
        &ctx,
        "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\","
        "\"content\":\"x\"}],\"tools\":[{\"name\":\"f\",\"input_schema\":"
        "{\"type\":\"object\"}}],\"tool_choice\":{\"type\":\"none\"},"
        "\"thinking\":{\"type\":\"disabled\"}}", &err);
    UNIT_STREQ(json_string_value(json_object_get(chat, "tool_choice")),
               "none");
    UNIT_CHECK(json_object_get(chat, "reasoning_effort") == NULL
               && json_object_get(chat, "stream") == NULL,
               "no thinking, no stream");
    json_decref(chat);

    /* a PDF document, a tool result with is_error and plain content */
    chat = td_request(AIROUTER_DIALECT_ANTHROPIC, AIROUTER_DIALECT_OPENAI,
        &ctx,
        "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\","
        "\"content\":[{\"type\":\"document\",\"title\":\"a.pdf\",\"source\":"
        "{\"type\":\"base64\",\"media_type\":\"application/pdf\",\"data\":"
        "\"JVBE\"}},{\"type\":\"tool_result\",\"tool_use_id\":\"t\","
        "\"is_error\":true,\"content\":\"boom\"}]}]}", &err);
    UNIT_CHECK(td_tree_is(json_object_get(chat, "messages"),
        "[{\"role\":\"tool\",\"tool_call_id\":\"t\",\"content\":\"boom\"},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"file\",\"file\":"
        "{\"file_data\":\"data:application/pdf;base64,JVBE\",\"filename\":"
        "\"a.pdf\"}}]}]"), "documents and tool results");
    json_decref(chat);
}


static void
test_request_errors(void)
{
    json_t          *chat;
    airouter_dctx_t  ctx;
    airouter_derr_t  err;

    static const td_bad_t  bad[] = {
        { "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
          "\"x\"}]}", "invalid_request", "max_tokens" },
        { "{\"model\":\"m\",\"max_tokens\":0,\"messages\":[]}",
          "invalid_request", "max_tokens" },
        { "{\"model\":\"m\",\"max_tokens\":5}", "invalid_request",
          "messages" },
        { "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":"
          "\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":"
          "\"web_search_20250305\",\"name\":\"web_search\"}]}",
          "unsupported_tool", "web_search_20250305" },
        { "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":"
          "\"user\",\"content\":[{\"type\":\"image\",\"source\":{\"type\":"
          "\"file\",\"file_id\":\"f\"}}]}]}", "unsupported_content",
          "file" },
        { "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":"
          "\"robot\",\"content\":\"x\"}]}", "invalid_request", "robot" },
        { "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":"
          "\"user\",\"content\":[{\"type\":\"search_result\"}]}]}",
          "unsupported_content", "search_result" },
        { "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":"
          "\"user\",\"content\":7}]}", "invalid_request", "content" },
        { "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[],"
          "\"tool_choice\":{\"type\":\"sometimes\"}}", "invalid_request",
          "sometimes" },
    };

    td_request_errors(AIROUTER_DIALECT_ANTHROPIC, bad,
                      sizeof(bad) / sizeof(bad[0]), "invalid_request_error");

    /* count_tokens needs no max_tokens */
    td_ctx(&ctx, AIROUTER_DIALECT_ANTHROPIC);
    ctx.count = 1;
    chat = td_request(AIROUTER_DIALECT_ANTHROPIC, AIROUTER_DIALECT_OPENAI,
                      &ctx, bad[0].body, &err);
    UNIT_CHECK(chat != NULL && json_object_get(chat, "max_tokens") == NULL,
               "count_tokens without max_tokens");
    json_decref(chat);
}


static void
test_answer(void)
{
    char               *out;
    airouter_dctx_t     ctx;
    airouter_dusage_t   u;

    td_ctx(&ctx, AIROUTER_DIALECT_ANTHROPIC);

    out = td_answer(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_ANTHROPIC, &ctx,
        "{\"id\":\"chatcmpl-9\",\"object\":\"chat.completion\",\"model\":"
        "\"up-model\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
        "\"assistant\",\"reasoning_content\":\"Think\",\"content\":"
        "\"Sunny\",\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
        "\"function\":{\"name\":\"get_weather\",\"arguments\":"
        "\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},\"finish_reason\":"
        "\"tool_calls\"}],\"usage\":{\"prompt_tokens\":100,"
        "\"completion_tokens\":20,\"total_tokens\":120,"
        "\"prompt_tokens_details\":{\"cached_tokens\":30}}}", &u);

    UNIT_CHECK(out && td_json_is(out, strlen(out),
        "{\"id\":\"msg_t1\",\"type\":\"message\",\"role\":\"assistant\","
        "\"model\":\"up-model\",\"content\":[{\"type\":\"thinking\","
        "\"thinking\":\"Think\",\"signature\":\"\"},{\"type\":\"text\","
        "\"text\":\"Sunny\"},{\"type\":\"tool_use\",\"id\":\"call_1\","
        "\"name\":\"get_weather\",\"input\":{\"city\":\"Paris\"}}],"
        "\"stop_reason\":\"tool_use\",\"stop_sequence\":null,\"usage\":"
        "{\"input_tokens\":70,\"output_tokens\":20,"
        "\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":30}}"),
        "a chat answer as a Message");
    UNIT_CHECK(u.u.prompt_tokens == 100 && u.u.completion_tokens == 20
               && u.u.cached_tokens == 30,
               "the upstream's usage: %ld %ld %ld", u.u.prompt_tokens,
               u.u.completion_tokens, u.u.cached_tokens);
    free(out);

    out = td_answer(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_ANTHROPIC, &ctx,
        "{\"choices\":[{\"message\":{\"content\":\"cut\"},\"finish_reason\":"
        "\"length\"}]}", NULL);
    UNIT_CHECK(out && strstr(out, "\"stop_reason\":\"max_tokens\"")
               && strstr(out, "\"input_tokens\":0"),
               "length is max_tokens; no usage: zeros: %s", out);
    free(out);

    out = td_answer(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_ANTHROPIC, &ctx,
                    "{\"object\":\"list\"}", NULL);
    UNIT_CHECK(out == NULL, "not a chat answer: refused");

    out = td_answer(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_ANTHROPIC, &ctx,
                    "{\"choices\":[", NULL);
    UNIT_CHECK(out == NULL, "not JSON: refused");
}


static void
test_stream(void)
{
    int              same;
    char            *out, names[2048];
    size_t           i;
    json_t          *d;
    td_events_t      evs;
    airouter_dctx_t  ctx;
    airouter_dbuf_t  text, args;

    td_ctx(&ctx, AIROUTER_DIALECT_ANTHROPIC);

    out = td_stream_all(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_ANTHROPIC,
                        &ctx, chat_stream, NULL, &same);
    UNIT_CHECK(same, "every cut of the upstream gives the same events");

    td_parse(out, &evs);
    UNIT_STREQ(td_names(&evs, names, sizeof(names)),
               "message_start ping "
               "content_block_start content_block_delta content_block_delta "
               "content_block_stop "
               "content_block_start content_block_delta content_block_delta "
               "content_block_stop "
               "content_block_start content_block_delta content_block_delta "
               "content_block_stop "
               "content_block_start content_block_delta content_block_stop "
               "message_delta message_stop");

    for (i = 0; i < evs.n; i++) {
        UNIT_CHECK(evs.ev[i].data
                   && strcmp(td_str(evs.ev[i].data, "type"),
                             evs.ev[i].name) == 0,
                   "event %zu's data says its name", i);
    }

    d = evs.ev[0].data;
    UNIT_STREQ(td_str(d, "message.id"), "msg_t1");
    UNIT_STREQ(td_str(d, "message.model"), "up-model");
    UNIT_STREQ(td_str(d, "message.role"), "assistant");

    UNIT_STREQ(td_str(evs.ev[2].data, "content_block.type"), "thinking");
    UNIT_STREQ(td_str(evs.ev[3].data, "delta.thinking"), "Let me ");
    UNIT_STREQ(td_str(evs.ev[6].data, "content_block.type"), "text");
    UNIT_CHECK(td_int(evs.ev[6].data, "index") == 1, "text is block 1");
    UNIT_STREQ(td_str(evs.ev[10].data, "content_block.type"), "tool_use");
    UNIT_STREQ(td_str(evs.ev[10].data, "content_block.id"), "call_a");
    UNIT_STREQ(td_str(evs.ev[10].data, "content_block.name"),
               "get_weather");
    UNIT_STREQ(td_str(evs.ev[14].data, "content_block.id"), "call_b");
    UNIT_CHECK(td_int(evs.ev[15].data, "index") == 3, "second tool block 3");

    airouter_dbuf_init(&text);
    airouter_dbuf_init(&args);

    for (i = 0; i < evs.n; i++) {
        d = evs.ev[i].data;
        if (td_int(d, "index") == 1) {
            airouter_dbuf_str(&text, td_str(d, "delta.text"));
        }
        if (td_int(d, "index") == 2) {
            airouter_dbuf_str(&args, td_str(d, "delta.partial_json"));
        }
    }

    UNIT_CHECK(text.len == 9 && memcmp(text.data, "Hello \"w\"", 9) == 0,
               "text deltas");
    UNIT_CHECK(args.len == 16 && memcmp(args.data, "{\"city\":\"Paris\"}",
                                        16) == 0, "input_json deltas");
    airouter_dbuf_free(&text);
    airouter_dbuf_free(&args);

    d = evs.ev[evs.n - 2].data;
    UNIT_STREQ(td_str(d, "delta.stop_reason"), "tool_use");
    UNIT_CHECK(td_int(d, "usage.input_tokens") == 60
               && td_int(d, "usage.output_tokens") == 30
               && td_int(d, "usage.cache_read_input_tokens") == 40
               && td_int(d, "usage.cache_creation_input_tokens") == 0,
               "message_delta's usage leaves the cache out of input_tokens");

    td_free(&evs);
    free(out);
}


/* a stream cut short: an api_error event last, never message_stop */
static int
cut_ends(const td_events_t *evs, const char *out)
{
    return evs->n > 0 && strcmp(evs->ev[evs->n - 1].name, "error") == 0
           && strcmp(td_str(evs->ev[evs->n - 1].data, "error.type"),
                     "api_error") == 0
           && strcmp(td_str(evs->ev[evs->n - 1].data, "error.message"),
                     "The upstream \"u\" ended early") == 0
           && strstr(out, "message_stop") == NULL;
}


/* cut anywhere before [DONE]: an error event, never message_stop */
static void
test_stream_cut(void)
{
    char            *out, *in, names[2048];
    size_t           n;
    td_events_t      evs;
    airouter_dctx_t  ctx;

    td_ctx(&ctx, AIROUTER_DIALECT_ANTHROPIC);

    n = strstr(chat_stream, "\"finish_reason\":\"tool_calls\"")
        - chat_stream;

    UNIT_CHECK(td_every_cut(AIROUTER_DIALECT_ANTHROPIC, &ctx, chat_stream, n,
                            7, "The upstream \"u\" ended early", cut_ends),
               "every cut ends with an api_error event");

    /* said why it stopped, then closed without [DONE]: complete */
    n = strstr(chat_stream, "data: [DONE]") - chat_stream;
    in = strndup(chat_stream, n);
    out = td_stream(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_ANTHROPIC, &ctx,
                    in, 0, 0, NULL, 0);
    UNIT_CHECK(strstr(out, "event: message_stop") && !strstr(out, "error"),
               "finish_reason then close: a whole message");
    free(out);
    free(in);

    /* an error chunk from the upstream mid-stream */
    out = td_stream(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_ANTHROPIC, &ctx,
                    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":"
                    "\"a\"}}]}\n\ndata: {\"error\":{\"message\":\"overload\","
                    "\"code\":503}}\n\ndata: {\"choices\":[{\"index\":0,"
                    "\"delta\":{\"content\":\"b\"}}]}\n\n", 0, 0, NULL, 0);
    td_parse(out, &evs);
    UNIT_STREQ(td_names(&evs, names, sizeof(names)),
               "message_start ping content_block_start content_block_delta "
               "error");
    UNIT_STREQ(td_str(evs.ev[evs.n - 1].data, "error.message"), "overload");
    td_free(&evs);
    free(out);

    /* nothing at all */
    out = td_stream(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_ANTHROPIC, &ctx,
                    "", 0, 0, "gone", 0);
    UNIT_CHECK(strcmp(out, "event: error\ndata: {\"type\":\"error\",\"error\":"
                      "{\"type\":\"api_error\",\"message\":\"gone\"}}\n\n")
               == 0, "an empty stream is an error: %s", out);
    free(out);
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
        const char  *type;
        const char  *want;
    } map[] = {
        { 400, "invalid_request_error", "invalid_request_error" },
        { 401, "authentication_error", "authentication_error" },
        { 401, "invalid_api_key", "authentication_error" },
        { 402, NULL, "billing_error" },
        { 403, NULL, "permission_error" },
        { 404, "invalid_request_error", "not_found_error" },
        { 502, "overloaded_error", "overloaded_error" },
        { 400, "rate_limit_error", "rate_limit_error" },
        { 404, "model_not_found", "not_found_error" },
        { 429, "rate_limit_exceeded", "rate_limit_error" },
        { 500, "server_error", "api_error" },
        { 503, "upstream_error", "overloaded_error" },
        { 504, NULL, "timeout_error" },
        { 529, NULL, "overloaded_error" },
        { 413, NULL, "invalid_request_error" },
    };

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        airouter_dbuf_init(&b);
        airouter_dialect_error(AIROUTER_DIALECT_ANTHROPIC, map[i].status,
                               map[i].type, "c", "msg", 0, &b);
        s = td_text(&b);
        j = json_loads(s, 0, NULL);
        UNIT_CHECK(strcmp(td_str(j, "type"), "error") == 0
                   && strcmp(td_str(j, "error.type"), map[i].want) == 0
                   && strcmp(td_str(j, "error.message"), "msg") == 0,
                   "status %d: %s", map[i].status, s);
        json_decref(j);
        free(s);
        airouter_dbuf_free(&b);
    }

    airouter_dbuf_init(&b);
    airouter_dialect_error(AIROUTER_DIALECT_ANTHROPIC, 503, "upstream_error",
                           "all_candidates_failed", "no channel", 0, &b);
    UNIT_CHECK(td_json_is(b.data, b.len, "{\"type\":\"error\",\"error\":"
                          "{\"type\":\"overloaded_error\",\"message\":"
                          "\"no channel\"}}"), "the error shape");
    airouter_dbuf_free(&b);

    /* an upstream's Messages error, for a chat client */
    td_etrans(AIROUTER_DIALECT_ANTHROPIC, AIROUTER_DIALECT_OPENAI, 429,
        "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\","
        "\"message\":\"slow down\"}}", &b);
    UNIT_CHECK(td_json_is(b.data, b.len, "{\"error\":{\"message\":"
                          "\"slow down\",\"type\":\"rate_limit_error\"}}"),
               "a Messages error as chat's");
    airouter_dbuf_free(&b);

    /* and a chat upstream's error for a Messages client */
    td_etrans(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_ANTHROPIC, 400,
        "{\"error\":{\"message\":\"bad\",\"type\":\"invalid_request_error\","
        "\"code\":null}}", &b);
    UNIT_CHECK(td_json_is(b.data, b.len, "{\"type\":\"error\",\"error\":"
                          "{\"type\":\"invalid_request_error\",\"message\":"
                          "\"bad\"}}"), "a chat error as a Messages one");
    airouter_dbuf_free(&b);

    td_etrans(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_ANTHROPIC, 502,
              "<html>", &b);
    UNIT_CHECK(td_json_is(b.data, b.len, "{\"type\":\"error\",\"error\":"
                          "{\"type\":\"api_error\",\"message\":"
                          "\"the upstream answered with an error\"}}"),
               "an unreadable error body");
    airouter_dbuf_free(&b);
}


static void
test_usage(void)
{
    airouter_dusage_t  u;
    static const char  msg[] =
        "{\"type\":\"message\",\"content\":[],\"usage\":{\"input_tokens\":10,"
        "\"cache_creation_input_tokens\":20,\"cache_read_input_tokens\":300,"
        "\"output_tokens\":7,\"output_tokens_details\":{\"thinking_tokens\":"
        "3}}}";

    UNIT_CHECK(airouter_dialect_usage(AIROUTER_DIALECT_ANTHROPIC, msg,
                                      sizeof(msg) - 1, &u) == 1
               && u.u.prompt_tokens == 330 && u.u.completion_tokens == 7
               && u.u.total_tokens == 337 && u.u.cached_tokens == 300
               && u.u.cache_write_tokens == 20 && u.reasoning == 3,
               "Messages usage: prompt counts the cache: %ld %ld %ld %ld %ld",
               u.u.prompt_tokens, u.u.completion_tokens, u.u.total_tokens,
               u.u.cached_tokens, u.u.cache_write_tokens);

    UNIT_CHECK(airouter_dialect_usage(AIROUTER_DIALECT_ANTHROPIC,
                                      "{\"usage\":{}}", 12, &u) == 0,
               "no counts, no usage");
}


/* chat requests to Messages, for native Anthropic channels */
static void
test_reverse_request(void)
{
    json_t           *req;
    airouter_dctx_t   ctx;
    airouter_derr_t   err;

    td_ctx(&ctx, AIROUTER_DIALECT_OPENAI);
    ctx.max_tokens = 1000;

    req = td_request(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_ANTHROPIC,
        &ctx,
        "{\"model\":\"claude-x\",\"messages\":["
        "{\"role\":\"system\",\"content\":\"Sys one.\"},"
        "{\"role\":\"developer\",\"content\":[{\"type\":\"text\",\"text\":"
        "\"Sys two.\"}]},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"See\"},"
        "{\"type\":\"image_url\",\"image_url\":{\"url\":"
        "\"data:image/jpeg;base64,/9j/\"}},{\"type\":\"image_url\","
        "\"image_url\":{\"url\":\"https://x.test/b.png\",\"detail\":"
        "\"high\"}}]},"
        "{\"role\":\"assistant\",\"content\":\"Calling.\",\"tool_calls\":"
        "[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":"
        "\"f\",\"arguments\":\"{\\\"a\\\":1}\"}},{\"id\":\"call_2\",\"type\":"
        "\"function\",\"function\":{\"name\":\"g\",\"arguments\":\"\"}}]},"
        "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"one\"},"
        "{\"role\":\"tool\",\"tool_call_id\":\"call_2\",\"content\":"
        "[{\"type\":\"text\",\"text\":\"two\"}]},"
        "{\"role\":\"user\",\"content\":\"Thanks\"}],"
        "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
        "\"description\":\"F\",\"parameters\":{\"type\":\"object\"}}},"
        "{\"type\":\"function\",\"function\":{\"name\":\"g\"}}],"
        "\"tool_choice\":\"required\",\"parallel_tool_calls\":false,"
        "\"stop\":\"STOP\",\"temperature\":1.7,\"top_p\":0.5,"
        "\"user\":\"u1\",\"response_format\":{\"type\":\"json_schema\","
        "\"json_schema\":{\"name\":\"x\",\"schema\":{\"type\":\"object\"}}},"
        "\"stream\":true,\"stream_options\":{\"include_usage\":true}}",
        &err);

    UNIT_CHECK(req != NULL, "translated: %s", err.message);
    UNIT_CHECK(td_tree_is(req,
        "{\"model\":\"claude-x\",\"system\":\"Sys one.\\nSys two.\","
        "\"messages\":["
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"See\"},"
        "{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":"
        "\"image/jpeg\",\"data\":\"/9j/\"}},{\"type\":\"image\",\"source\":"
        "{\"type\":\"url\",\"url\":\"https://x.test/b.png\"}}]},"
        "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":"
        "\"Calling.\"},{\"type\":\"tool_use\",\"id\":\"call_1\",\"name\":"
        "\"f\",\"input\":{\"a\":1}},{\"type\":\"tool_use\",\"id\":\"call_2\","
        "\"name\":\"g\",\"input\":{}}]},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\","
        "\"tool_use_id\":\"call_1\",\"content\":\"one\"},{\"type\":"
        "\"tool_result\",\"tool_use_id\":\"call_2\",\"content\":\"two\"},"
        "{\"type\":\"text\",\"text\":\"Thanks\"}]}],"
        "\"max_tokens\":1000,\"temperature\":1.0,\"top_p\":0.5,"
        "\"stop_sequences\":[\"STOP\"],"
        "\"tools\":[{\"name\":\"f\",\"description\":\"F\",\"input_schema\":"
        "{\"type\":\"object\"}},{\"name\":\"g\",\"input_schema\":{\"type\":"
        "\"object\",\"properties\":{}}}],"
        "\"tool_choice\":{\"type\":\"any\",\"disable_parallel_tool_use\":"
        "true},"
        "\"output_config\":{\"format\":{\"type\":\"json_schema\",\"schema\":"
        "{\"type\":\"object\"}}},"
        "\"metadata\":{\"user_id\":\"u1\"},\"stream\":true}"),
        "every field of a chat request as Messages");
    json_decref(req);

    /* reasoning: thinking with room for the answer, no temperature */
    req = td_request(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_ANTHROPIC,
        &ctx,
        "{\"model\":\"c\",\"max_tokens\":300,\"temperature\":0.2,"
        "\"reasoning_effort\":\"high\",\"tool_choice\":{\"type\":"
        "\"function\",\"function\":{\"name\":\"f\"}},\"messages\":"
        "[{\"role\":\"user\",\"content\":\"x\"}]}", &err);
    UNIT_CHECK(td_tree_is(req,
        "{\"model\":\"c\",\"messages\":[{\"role\":\"user\",\"content\":"
        "[{\"type\":\"text\",\"text\":\"x\"}]}],\"thinking\":{\"type\":"
        "\"enabled\",\"budget_tokens\":4096},\"max_tokens\":4396,"
        "\"tool_choice\":{\"type\":\"tool\",\"name\":\"f\"}}"),
        "reasoning_effort as a thinking budget");
    json_decref(req);

    req = td_request(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_ANTHROPIC,
        &ctx, "{\"model\":\"c\",\"n\":2,\"messages\":[]}", &err);
    UNIT_CHECK(req == NULL && strcmp(err.code, "unsupported_parameter") == 0,
               "n > 1 refused");

    req = td_request(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_ANTHROPIC,
        &ctx,
        "{\"model\":\"c\",\"messages\":[{\"role\":\"assistant\",\"content\":"
        "null,\"tool_calls\":[{\"id\":\"c\",\"function\":{\"name\":\"f\","
        "\"arguments\":\"[1]\"}}]}]}", &err);
    UNIT_CHECK(req == NULL && strstr(err.message, "not a JSON object"),
               "arguments that are not an object are refused");

    req = td_request(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_ANTHROPIC,
        &ctx,
        "{\"model\":\"c\",\"messages\":[{\"role\":\"user\",\"content\":"
        "[{\"type\":\"input_audio\",\"input_audio\":{}}]}]}", &err);
    UNIT_CHECK(req == NULL && strcmp(err.code, "unsupported_content") == 0,
               "audio refused");
}


static void
test_reverse_answer(void)
{
    char               *out;
    airouter_dctx_t     ctx;
    airouter_dusage_t   u, uc;
    static const char   msg[] =
        "{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\","
        "\"model\":\"claude-up\",\"content\":[{\"type\":\"thinking\","
        "\"thinking\":\"Hmm\",\"signature\":\"x\"},{\"type\":\"text\","
        "\"text\":\"Hi\"},{\"type\":\"redacted_thinking\",\"data\":\"z\"},"
        "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"f\",\"input\":"
        "{\"a\":[1,2]}}],\"stop_reason\":\"tool_use\",\"stop_sequence\":null,"
        "\"usage\":{\"input_tokens\":10,\"cache_creation_input_tokens\":2,"
        "\"cache_read_input_tokens\":100,\"output_tokens\":5}}";

    td_ctx(&ctx, AIROUTER_DIALECT_OPENAI);

    out = td_answer(AIROUTER_DIALECT_ANTHROPIC, AIROUTER_DIALECT_OPENAI, &ctx,
                    msg, &u);
    UNIT_CHECK(out && td_json_is(out, strlen(out),
        "{\"id\":\"msg_01\",\"object\":\"chat.completion\",\"created\":"
        "1700000000,\"model\":\"claude-up\",\"choices\":[{\"index\":0,"
        "\"message\":{\"role\":\"assistant\",\"content\":\"Hi\","
        "\"reasoning_content\":\"Hmm\",\"tool_calls\":[{\"id\":\"toolu_1\","
        "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":"
        "\"{\\\"a\\\":[1,2]}\"}}]},\"logprobs\":null,\"finish_reason\":"
        "\"tool_calls\"}],\"usage\":{\"prompt_tokens\":112,"
        "\"completion_tokens\":5,\"total_tokens\":117,"
        "\"prompt_tokens_details\":{\"cached_tokens\":100,"
        "\"cache_write_tokens\":2}}}"), "a Message as a chat answer");

    /* the same usage whichever side reads it */
    UNIT_CHECK(out && airouter_dialect_usage(AIROUTER_DIALECT_OPENAI, out,
                                             strlen(out), &uc) == 1
               && uc.u.prompt_tokens == u.u.prompt_tokens
               && uc.u.completion_tokens == u.u.completion_tokens
               && uc.u.total_tokens == u.u.total_tokens
               && uc.u.cached_tokens == u.u.cached_tokens
               && uc.u.cache_write_tokens == u.u.cache_write_tokens,
               "the chat answer's usage is the Message's");
    free(out);

    /* round trip: Messages -> chat -> Messages keeps the content */
    out = td_answer(AIROUTER_DIALECT_ANTHROPIC, AIROUTER_DIALECT_OPENAI, &ctx,
                    msg, NULL);
    {
        char  *back;

        td_ctx(&ctx, AIROUTER_DIALECT_ANTHROPIC);
        back = td_answer(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_ANTHROPIC,
                         &ctx, out, NULL);
        UNIT_CHECK(back && td_json_is(back, strlen(back),
            "{\"id\":\"msg_t1\",\"type\":\"message\",\"role\":\"assistant\","
            "\"model\":\"claude-up\",\"content\":[{\"type\":\"thinking\","
            "\"thinking\":\"Hmm\",\"signature\":\"\"},{\"type\":\"text\","
            "\"text\":\"Hi\"},{\"type\":\"tool_use\",\"id\":\"toolu_1\","
            "\"name\":\"f\",\"input\":{\"a\":[1,2]}}],\"stop_reason\":"
            "\"tool_use\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":"
            "10,\"output_tokens\":5,\"cache_creation_input_tokens\":2,"
            "\"cache_read_input_tokens\":100}}"),
            "Messages -> chat -> Messages");
        free(back);
    }
    free(out);
}


static void
test_reverse_stream(void)
{
    int                 same;
    char               *out, *in;
    size_t              i, n;
    json_t             *d;
    td_events_t         evs;
    airouter_dctx_t     ctx;
    airouter_dbuf_t     text, args, think;
    airouter_dusage_t   u;
    airouter_dstream_t *st;
    airouter_dbuf_t     sink;

    td_ctx(&ctx, AIROUTER_DIALECT_OPENAI);

    out = td_stream_all(AIROUTER_DIALECT_ANTHROPIC, AIROUTER_DIALECT_OPENAI,
                        &ctx, anth_stream, NULL, &same);
    UNIT_CHECK(same, "every cut gives the same chunks");

    td_parse(out, &evs);
    UNIT_CHECK(evs.n == 10, "10 chunks, got %zu:\n%s", evs.n, out);

    airouter_dbuf_init(&text);
    airouter_dbuf_init(&args);
    airouter_dbuf_init(&think);

    for (i = 0; i + 1 < evs.n; i++) {
        d = evs.ev[i].data;
        UNIT_STREQ(td_str(d, "object"), "chat.completion.chunk");
        UNIT_STREQ(td_str(d, "id"), "msg_up");
        airouter_dbuf_str(&text, td_str(d, "choices.0.delta.content"));
        airouter_dbuf_str(&think,
                          td_str(d, "choices.0.delta.reasoning_content"));
        airouter_dbuf_str(&args, td_str(d, "choices.0.delta.tool_calls.0."
                                           "function.arguments"));
    }

    UNIT_STREQ(td_str(evs.ev[0].data, "choices.0.delta.role"), "assistant");
    UNIT_CHECK(text.len == 8 && memcmp(text.data, "Hi there", 8) == 0,
               "content deltas");
    UNIT_CHECK(think.len == 4 && memcmp(think.data, "Hmm.", 4) == 0,
               "reasoning deltas");
    UNIT_CHECK(args.len == 16 && memcmp(args.data, "{\"city\": \"Oslo\"}",
                                        16) == 0, "argument deltas");
    UNIT_STREQ(td_str(evs.ev[4].data, "choices.0.delta.tool_calls.0.id"),
               "toolu_1");
    UNIT_STREQ(td_str(evs.ev[4].data,
                      "choices.0.delta.tool_calls.0.function.name"),
               "get_weather");
    UNIT_STREQ(td_str(evs.ev[7].data, "choices.0.finish_reason"),
               "tool_calls");
    d = evs.ev[8].data;
    UNIT_CHECK(json_array_size(json_object_get(d, "choices")) == 0
               && td_int(d, "usage.prompt_tokens") == 100
               && td_int(d, "usage.completion_tokens") == 42
               && td_int(d, "usage.total_tokens") == 142
               && td_int(d, "usage.prompt_tokens_details.cached_tokens") == 70
               && td_int(d, "usage.prompt_tokens_details.cache_write_tokens")
                  == 5, "the usage chunk: input + cache");
    UNIT_STREQ(evs.ev[9].raw, "data: [DONE]");

    airouter_dbuf_free(&text);
    airouter_dbuf_free(&args);
    airouter_dbuf_free(&think);
    td_free(&evs);
    free(out);

    /* cut before message_stop: chat's error chunk, then [DONE] */
    n = strstr(anth_stream, "event: message_delta") - anth_stream;
    in = strndup(anth_stream, n);
    out = td_stream(AIROUTER_DIALECT_ANTHROPIC, AIROUTER_DIALECT_OPENAI, &ctx,
                    in, 0, 0, "cut", 0);
    td_parse(out, &evs);
    UNIT_STREQ(td_str(evs.ev[evs.n - 2].data, "error.message"), "cut");
    UNIT_STREQ(td_str(evs.ev[evs.n - 2].data, "error.code"),
               "stream_interrupted");
    UNIT_STREQ(evs.ev[evs.n - 1].raw, "data: [DONE]");
    td_free(&evs);
    free(out);
    free(in);

    /* an upstream error event */
    out = td_stream(AIROUTER_DIALECT_ANTHROPIC, AIROUTER_DIALECT_OPENAI, &ctx,
                    "event: error\ndata: {\"type\":\"error\",\"error\":"
                    "{\"type\":\"overloaded_error\",\"message\":"
                    "\"Overloaded\"}}\n\n", 0, 0, NULL, 0);
    UNIT_CHECK(strstr(out, "\"message\":\"Overloaded\"")
               && strstr(out, "\"type\":\"overloaded_error\""),
               "Anthropic's error event as chat's: %s", out);
    free(out);

    /* a Messages client on a Messages channel: passed through, usage read */
    st = airouter_dstream_create(AIROUTER_DIALECT_ANTHROPIC,
                                 AIROUTER_DIALECT_N, &ctx);
    airouter_dbuf_init(&sink);
    airouter_dstream_feed(st, anth_stream, sizeof(anth_stream) - 1, &sink);
    UNIT_CHECK(sink.len == 0 && airouter_dstream_state(st) == 1,
               "usage only: nothing written, complete");
    UNIT_CHECK(airouter_dstream_usage(st, &u) && u.u.prompt_tokens == 100
               && u.u.completion_tokens == 42 && u.u.cached_tokens == 70,
               "usage of a passed-through stream");
    airouter_dstream_finish(st, NULL, &sink);
    UNIT_CHECK(sink.len == 0, "finish writes nothing either");
    airouter_dstream_destroy(st);
    airouter_dbuf_free(&sink);
}


/* chat -> Messages -> chat: what a chat client sends arrives intact */
static void
test_round_trip(void)
{
    json_t           *chat, *req, *back;
    airouter_dctx_t   ctx;
    airouter_derr_t   err;
    static const char  body[] =
        "{\"model\":\"m\",\"max_tokens\":100,\"messages\":["
        "{\"role\":\"system\",\"content\":\"S\"},"
        "{\"role\":\"user\",\"content\":\"Q\"},"
        "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":"
        "\"c1\",\"type\":\"function\",\"function\":{\"name\":\"f\","
        "\"arguments\":\"{\\\"x\\\":1}\"}}]},"
        "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"R\"}],"
        "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
        "\"parameters\":{\"type\":\"object\"}}}],\"tool_choice\":\"auto\","
        "\"stop\":[\"X\"],\"temperature\":0.3}";

    td_ctx(&ctx, AIROUTER_DIALECT_OPENAI);
    chat = tj(body);

    UNIT_CHECK(airouter_dialect_request(AIROUTER_DIALECT_OPENAI,
                                        AIROUTER_DIALECT_ANTHROPIC, chat,
                                        &ctx, &req, &err) == 0,
               "to Messages");

    td_ctx(&ctx, AIROUTER_DIALECT_ANTHROPIC);
    UNIT_CHECK(airouter_dialect_request(AIROUTER_DIALECT_ANTHROPIC,
                                        AIROUTER_DIALECT_OPENAI, req, &ctx,
                                        &back, &err) == 0,
               "and back: %s", err.message);

    UNIT_CHECK(td_tree_is(back,
        "{\"model\":\"m\",\"max_tokens\":100,\"messages\":["
        "{\"role\":\"system\",\"content\":\"S\"},"
        "{\"role\":\"user\",\"content\":\"Q\"},"
        "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":"
        "\"c1\",\"type\":\"function\",\"function\":{\"name\":\"f\","
        "\"arguments\":\"{\\\"x\\\":1}\"}}]},"
        "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"R\"}],"
        "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
        "\"parameters\":{\"type\":\"object\"}}}],\"tool_choice\":\"auto\","
        "\"stop\":[\"X\"],\"temperature\":0.3}"), "chat -> Messages -> chat");

    json_decref(chat);
    json_decref(req);
    json_decref(back);
}


int
main(void)
{
    test_request();
    test_request_errors();
    test_answer();
    test_stream();
    test_stream_cut();
    test_errors();
    test_usage();
    test_reverse_request();
    test_reverse_answer();
    test_reverse_stream();
    test_round_trip();

    UNIT_DONE("test_dialect_anthropic");
}
