/*
 * OpenAI Responses: requests to chat (input as text and as items,
 * instructions, function tools and calls, text.format, reasoning), the
 * stateless refusals (previous_response_id, conversation, item
 * references), response objects and the stream's every event in the
 * order the openai SDK's accumulator wants, truncated streams ending in
 * error + response.failed, and errors.
 */

#include "test_dialect.h"


static const char  chat_stream[] =
    "data: {\"id\":\"c\",\"model\":\"up\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"
    "data: {\"id\":\"c\",\"model\":\"up\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"reasoning_content\":\"R1\"}}]}\n\n"
    "data: {\"id\":\"c\",\"model\":\"up\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"content\":\"Hel\"}}]}\n\n"
    "data: {\"id\":\"c\",\"model\":\"up\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"content\":\"lo\"}}]}\n\n"
    "data: {\"id\":\"c\",\"model\":\"up\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":"
    "\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\"\"}}"
    "]}}]}\n\n"
    "data: {\"id\":\"c\",\"model\":\"up\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
    "\":1}\"}}]}}]}\n\n"
    "data: {\"id\":\"c\",\"model\":\"up\",\"choices\":[{\"index\":0,"
    "\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
    "data: {\"id\":\"c\",\"model\":\"up\",\"choices\":[],\"usage\":"
    "{\"prompt_tokens\":11,\"completion_tokens\":7,\"total_tokens\":18,"
    "\"prompt_tokens_details\":{\"cached_tokens\":3},"
    "\"completion_tokens_details\":{\"reasoning_tokens\":2}}}\n\n"
    "data: [DONE]\n\n";


static void
test_request(void)
{
    json_t           *chat;
    airouter_dctx_t   ctx;
    airouter_derr_t   err;

    td_ctx(&ctx, AIROUTER_DIALECT_RESPONSES);

    chat = td_request(AIROUTER_DIALECT_RESPONSES, AIROUTER_DIALECT_OPENAI,
                      &ctx, "{\"model\":\"tag:free\",\"input\":\"Hi\"}", &err);
    UNIT_CHECK(td_tree_is(chat, "{\"model\":\"tag:free\",\"messages\":"
                          "[{\"role\":\"user\",\"content\":\"Hi\"}]}"),
               "input as text");
    UNIT_CHECK(ctx.echo && strcmp(td_str(ctx.echo, "model"), "tag:free") == 0
               && json_is_false(json_object_get(ctx.echo, "store")),
               "the echo keeps the request's settings");
    json_decref(chat);
    airouter_dctx_free(&ctx);

    td_ctx(&ctx, AIROUTER_DIALECT_RESPONSES);

    chat = td_request(AIROUTER_DIALECT_RESPONSES, AIROUTER_DIALECT_OPENAI,
        &ctx,
        "{\"model\":\"m\",\"instructions\":\"Be brief.\",\"input\":["
        "{\"role\":\"developer\",\"content\":\"Dev says.\"},"
        "{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":"
        "\"input_text\",\"text\":\"What is this?\"},{\"type\":"
        "\"input_image\",\"image_url\":\"https://x.test/i.png\",\"detail\":"
        "\"low\"},{\"type\":\"input_file\",\"filename\":\"a.pdf\","
        "\"file_data\":\"data:application/pdf;base64,JVB\"}]},"
        "{\"type\":\"reasoning\",\"id\":\"rs_1\",\"summary\":[]},"
        "{\"type\":\"message\",\"role\":\"assistant\",\"id\":\"msg_1\","
        "\"status\":\"completed\",\"content\":[{\"type\":\"output_text\","
        "\"text\":\"A cat.\",\"annotations\":[]}]},"
        "{\"type\":\"function_call\",\"call_id\":\"call_9\",\"name\":"
        "\"lookup\",\"arguments\":\"{\\\"q\\\":\\\"cat\\\"}\"},"
        "{\"type\":\"function_call\",\"call_id\":\"call_10\",\"name\":"
        "\"lookup\",\"arguments\":\"{}\"},"
        "{\"type\":\"function_call_output\",\"call_id\":\"call_9\","
        "\"output\":\"felis\"},"
        "{\"type\":\"function_call_output\",\"call_id\":\"call_10\","
        "\"output\":[{\"type\":\"input_text\",\"text\":\"none\"}]}],"
        "\"tools\":[{\"type\":\"function\",\"name\":\"lookup\","
        "\"description\":\"Look up\",\"parameters\":{\"type\":\"object\"},"
        "\"strict\":true}],"
        "\"tool_choice\":{\"type\":\"function\",\"name\":\"lookup\"},"
        "\"parallel_tool_calls\":false,"
        "\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"ans\","
        "\"schema\":{\"type\":\"object\"},\"strict\":true}},"
        "\"reasoning\":{\"effort\":\"low\"},\"max_output_tokens\":300,"
        "\"temperature\":0.1,\"top_p\":0.8,\"user\":\"u\","
        "\"store\":false,\"stream\":true}", &err);

    UNIT_CHECK(chat != NULL, "translated: %s", err.message);
    UNIT_CHECK(td_tree_is(chat,
        "{\"model\":\"m\",\"messages\":["
        "{\"role\":\"system\",\"content\":\"Be brief.\"},"
        "{\"role\":\"system\",\"content\":\"Dev says.\"},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
        "\"What is this?\"},{\"type\":\"image_url\",\"image_url\":{\"url\":"
        "\"https://x.test/i.png\",\"detail\":\"low\"}},{\"type\":\"file\","
        "\"file\":{\"file_data\":\"data:application/pdf;base64,JVB\","
        "\"filename\":\"a.pdf\"}}]},"
        "{\"role\":\"assistant\",\"content\":\"A cat.\",\"tool_calls\":["
        "{\"id\":\"call_9\",\"type\":\"function\",\"function\":{\"name\":"
        "\"lookup\",\"arguments\":\"{\\\"q\\\":\\\"cat\\\"}\"}},"
        "{\"id\":\"call_10\",\"type\":\"function\",\"function\":{\"name\":"
        "\"lookup\",\"arguments\":\"{}\"}}]},"
        "{\"role\":\"tool\",\"tool_call_id\":\"call_9\",\"content\":"
        "\"felis\"},"
        "{\"role\":\"tool\",\"tool_call_id\":\"call_10\",\"content\":"
        "\"none\"}],"
        "\"max_tokens\":300,\"temperature\":0.1,\"top_p\":0.8,\"user\":\"u\","
        "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"lookup\","
        "\"description\":\"Look up\",\"parameters\":{\"type\":\"object\"},"
        "\"strict\":true}}],"
        "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":"
        "\"lookup\"}},\"parallel_tool_calls\":false,"
        "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":"
        "{\"name\":\"ans\",\"schema\":{\"type\":\"object\"},\"strict\":true}},"
        "\"reasoning_effort\":\"low\",\"stream\":true}"),
        "every field of a Responses request");
    UNIT_CHECK(ctx.stream, "streams");
    UNIT_CHECK(td_tree_is(ctx.echo,
        "{\"instructions\":\"Be brief.\",\"max_output_tokens\":300,"
        "\"metadata\":{},\"model\":\"m\",\"parallel_tool_calls\":false,"
        "\"previous_response_id\":null,\"reasoning\":{\"effort\":\"low\","
        "\"summary\":null},\"store\":false,\"temperature\":0.1,\"text\":"
        "{\"format\":{\"type\":\"json_schema\",\"name\":\"ans\",\"schema\":"
        "{\"type\":\"object\"},\"strict\":true}},\"tool_choice\":{\"type\":"
        "\"function\",\"name\":\"lookup\"},\"tools\":[{\"type\":\"function\","
        "\"name\":\"lookup\",\"description\":\"Look up\",\"parameters\":"
        "{\"type\":\"object\"},\"strict\":true}],\"top_p\":0.8,"
        "\"truncation\":\"disabled\",\"user\":\"u\"}"),
        "the echo");
    json_decref(chat);
    airouter_dctx_free(&ctx);

    td_ctx(&ctx, AIROUTER_DIALECT_RESPONSES);
    chat = td_request(AIROUTER_DIALECT_RESPONSES, AIROUTER_DIALECT_OPENAI,
        &ctx,
        "{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":\"q\"}],"
        "\"text\":{\"format\":{\"type\":\"json_object\"}},\"tool_choice\":"
        "\"none\",\"previous_response_id\":null}", &err);
    UNIT_CHECK(td_tree_is(chat, "{\"model\":\"m\",\"messages\":[{\"role\":"
                          "\"user\",\"content\":\"q\"}],\"tool_choice\":"
                          "\"none\",\"response_format\":{\"type\":"
                          "\"json_object\"}}"),
               "json_object, a null previous_response_id");
    json_decref(chat);
    airouter_dctx_free(&ctx);
}


static void
test_request_errors(void)
{
    static const td_bad_t  bad[] = {
        { "{\"model\":\"m\",\"input\":\"x\",\"previous_response_id\":"
          "\"resp_1\"}", "previous_response_not_found",
          "previous_response_id is not supported" },
        { "{\"model\":\"m\",\"input\":\"x\",\"conversation\":\"conv_1\"}",
          "unsupported_parameter", "conversation" },
        { "{\"model\":\"m\",\"input\":[{\"type\":\"item_reference\","
          "\"id\":\"msg_1\"}]}", "unsupported_parameter",
          "stored responses" },
        { "{\"model\":\"m\",\"input\":\"x\",\"tools\":[{\"type\":"
          "\"web_search\"}]}", "unsupported_tool", "web_search" },
        { "{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":"
          "[{\"type\":\"input_image\",\"file_id\":\"file_1\"}]}]}",
          "unsupported_parameter", "file_id" },
        { "{\"model\":\"m\"}", "missing_input", "input" },
        { "{\"model\":\"m\",\"input\":5}", "invalid_request", "input" },
        { "{\"model\":\"m\",\"input\":[{\"type\":\"computer_call\"}]}",
          "unsupported_parameter", "computer_call" },
        { "{\"model\":\"m\",\"input\":\"x\",\"text\":{\"format\":{\"type\":"
          "\"json_schema\"}}}", "invalid_request", "json_schema" },
        { "{\"model\":\"m\",\"input\":\"x\",\"background\":true}",
          "unsupported_parameter", "background" },
    };

    td_request_errors(AIROUTER_DIALECT_RESPONSES, bad,
                      sizeof(bad) / sizeof(bad[0]), NULL);
}


static void
test_answer(void)
{
    char             *out;
    json_t           *r;
    airouter_dctx_t   ctx;
    airouter_derr_t   err;

    td_ctx(&ctx, AIROUTER_DIALECT_RESPONSES);
    json_decref(td_request(AIROUTER_DIALECT_RESPONSES,
                           AIROUTER_DIALECT_OPENAI, &ctx,
                           "{\"model\":\"tag:x\",\"input\":\"q\","
                           "\"instructions\":\"I\"}", &err));

    out = td_answer(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_RESPONSES, &ctx,
        "{\"id\":\"c\",\"model\":\"up\",\"choices\":[{\"index\":0,"
        "\"message\":{\"role\":\"assistant\",\"reasoning_content\":\"R\","
        "\"content\":\"Hello\",\"tool_calls\":[{\"id\":\"call_1\",\"type\":"
        "\"function\",\"function\":{\"name\":\"f\",\"arguments\":"
        "\"{}\"}}]},\"finish_reason\":\"tool_calls\"}],\"usage\":"
        "{\"prompt_tokens\":11,\"completion_tokens\":7,\"total_tokens\":18,"
        "\"prompt_tokens_details\":{\"cached_tokens\":3},"
        "\"completion_tokens_details\":{\"reasoning_tokens\":2}}}", NULL);

    UNIT_CHECK(out && td_json_is(out, strlen(out),
        "{\"id\":\"resp_t1\",\"object\":\"response\",\"created_at\":"
        "1700000000,\"status\":\"completed\",\"error\":null,"
        "\"incomplete_details\":null,\"instructions\":\"I\","
        "\"max_output_tokens\":null,\"metadata\":{},\"model\":\"up\","
        "\"parallel_tool_calls\":true,\"previous_response_id\":null,"
        "\"reasoning\":{\"effort\":null,\"summary\":null},\"store\":false,"
        "\"temperature\":null,\"text\":{\"format\":{\"type\":\"text\"}},"
        "\"tool_choice\":\"auto\",\"tools\":[],\"top_p\":null,"
        "\"truncation\":\"disabled\","
        "\"output\":["
        "{\"id\":\"rs_t1_0\",\"type\":\"reasoning\",\"summary\":[],"
        "\"content\":[{\"type\":\"reasoning_text\",\"text\":\"R\"}],"
        "\"status\":\"completed\"},"
        "{\"id\":\"msg_t1_1\",\"type\":\"message\",\"status\":\"completed\","
        "\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\","
        "\"text\":\"Hello\",\"annotations\":[],\"logprobs\":[]}]},"
        "{\"id\":\"fc_t1_2\",\"type\":\"function_call\",\"call_id\":"
        "\"call_1\",\"name\":\"f\",\"arguments\":\"{}\",\"status\":"
        "\"completed\"}],"
        "\"usage\":{\"input_tokens\":11,\"input_tokens_details\":"
        "{\"cached_tokens\":3,\"cache_write_tokens\":0},\"output_tokens\":7,"
        "\"output_tokens_details\":{\"reasoning_tokens\":2},"
        "\"total_tokens\":18}}"), "a chat answer as a response object");
    free(out);

    out = td_answer(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_RESPONSES, &ctx,
                    "{\"choices\":[{\"message\":{\"content\":\"cut\"},"
                    "\"finish_reason\":\"length\"}]}", NULL);
    r = json_loads(out, 0, NULL);
    UNIT_STREQ(td_str(r, "status"), "incomplete");
    UNIT_STREQ(td_str(r, "incomplete_details.reason"), "max_output_tokens");
    UNIT_CHECK(json_is_null(json_object_get(r, "usage")), "no usage: null");
    UNIT_STREQ(td_str(r, "model"), "tag:x");
    json_decref(r);
    free(out);

    airouter_dctx_free(&ctx);
}


static void
test_stream(void)
{
    int               same;
    char             *out, names[4096];
    size_t            i;
    json_t           *d, *r;
    td_events_t       evs;
    airouter_dctx_t   ctx;
    airouter_derr_t   err;

    td_ctx(&ctx, AIROUTER_DIALECT_RESPONSES);
    json_decref(td_request(AIROUTER_DIALECT_RESPONSES,
                           AIROUTER_DIALECT_OPENAI, &ctx,
                           "{\"model\":\"m\",\"input\":\"q\",\"stream\":true,"
                           "\"tools\":[{\"type\":\"function\",\"name\":"
                           "\"f\"}]}", &err));

    out = td_stream_all(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_RESPONSES,
                        &ctx, chat_stream, NULL, &same);
    UNIT_CHECK(same, "every cut gives the same events");

    td_parse(out, &evs);
    UNIT_STREQ(td_names(&evs, names, sizeof(names)),
               "response.created response.in_progress "
               "response.output_item.added response.content_part.added "
               "response.reasoning_text.delta response.reasoning_text.done "
               "response.content_part.done response.output_item.done "
               "response.output_item.added response.content_part.added "
               "response.output_text.delta response.output_text.delta "
               "response.output_text.done response.content_part.done "
               "response.output_item.done "
               "response.output_item.added "
               "response.function_call_arguments.delta "
               "response.function_call_arguments.delta "
               "response.function_call_arguments.done "
               "response.output_item.done "
               "response.completed");

    for (i = 0; i < evs.n; i++) {
        d = evs.ev[i].data;
        UNIT_CHECK(d && strcmp(td_str(d, "type"), evs.ev[i].name) == 0
                   && td_int(d, "sequence_number") == (long) i,
                   "event %zu: type and sequence_number", i);
    }

    d = evs.ev[0].data;
    UNIT_STREQ(td_str(d, "response.status"), "in_progress");
    UNIT_STREQ(td_str(d, "response.id"), "resp_t1");
    UNIT_STREQ(td_str(d, "response.tools.0.name"), "f");
    UNIT_CHECK(json_is_null(json_object_get(json_object_get(d, "response"),
                                            "usage")),
               "no usage yet");

    /* the served model from the first event on, not the client's "m" */
    UNIT_STREQ(td_str(d, "response.model"), "up");
    UNIT_STREQ(td_str(evs.ev[1].data, "response.model"), "up");
    UNIT_STREQ(td_str(evs.ev[evs.n - 1].data, "response.model"), "up");

    UNIT_STREQ(td_str(evs.ev[2].data, "item.type"), "reasoning");
    UNIT_STREQ(td_str(evs.ev[5].data, "text"), "R1");
    UNIT_STREQ(td_str(evs.ev[8].data, "item.type"), "message");
    UNIT_CHECK(td_int(evs.ev[10].data, "output_index") == 1
               && td_int(evs.ev[10].data, "content_index") == 0,
               "text is output 1, content 0");
    UNIT_STREQ(td_str(evs.ev[10].data, "item_id"), "msg_t1_1");
    UNIT_STREQ(td_str(evs.ev[12].data, "text"), "Hello");
    UNIT_STREQ(td_str(evs.ev[13].data, "part.text"), "Hello");
    UNIT_STREQ(td_str(evs.ev[14].data, "item.content.0.text"), "Hello");
    UNIT_STREQ(td_str(evs.ev[15].data, "item.type"), "function_call");
    UNIT_STREQ(td_str(evs.ev[15].data, "item.call_id"), "call_1");
    UNIT_STREQ(td_str(evs.ev[15].data, "item.name"), "f");
    UNIT_STREQ(td_str(evs.ev[16].data, "delta"), "{\"a\"");
    UNIT_STREQ(td_str(evs.ev[18].data, "arguments"), "{\"a\":1}");
    UNIT_STREQ(td_str(evs.ev[18].data, "name"), "f");
    UNIT_STREQ(td_str(evs.ev[19].data, "item.status"), "completed");

    r = json_object_get(evs.ev[20].data, "response");
    UNIT_STREQ(td_str(r, "status"), "completed");
    UNIT_STREQ(td_str(r, "model"), "up");
    UNIT_STREQ(td_str(r, "output.1.content.0.text"), "Hello");
    UNIT_STREQ(td_str(r, "output.2.arguments"), "{\"a\":1}");
    UNIT_CHECK(td_int(r, "usage.input_tokens") == 11
               && td_int(r, "usage.output_tokens") == 7
               && td_int(r, "usage.total_tokens") == 18
               && td_int(r, "usage.input_tokens_details.cached_tokens") == 3
               && td_int(r, "usage.output_tokens_details.reasoning_tokens")
                  == 2, "response.completed carries the usage");

    td_free(&evs);
    free(out);
    airouter_dctx_free(&ctx);
}


/*
 * The model the three response objects name comes from the upstream's
 * first chunk (the parser reads it once): a first chunk without one
 * leaves all three on the request's "model", never a mix.
 */
static void
test_stream_model(void)
{
    int               same;
    char             *out;
    td_events_t       evs;
    airouter_dctx_t   ctx;
    airouter_derr_t   err;

    td_ctx(&ctx, AIROUTER_DIALECT_RESPONSES);
    json_decref(td_request(AIROUTER_DIALECT_RESPONSES,
                           AIROUTER_DIALECT_OPENAI, &ctx,
                           "{\"model\":\"m\",\"input\":\"q\","
                           "\"stream\":true}", &err));

    out = td_stream_all(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_RESPONSES,
                        &ctx,
                        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,"
                        "\"delta\":{\"content\":\"Hi\"}}]}\n\n"
                        "data: {\"id\":\"c\",\"model\":\"late\","
                        "\"choices\":[{\"index\":0,\"delta\":{},"
                        "\"finish_reason\":\"stop\"}]}\n\n"
                        "data: [DONE]\n\n", NULL, &same);
    UNIT_CHECK(same, "every cut gives the same events");

    td_parse(out, &evs);
    UNIT_STREQ(evs.ev[0].name, "response.created");
    UNIT_STREQ(td_str(evs.ev[0].data, "response.model"), "m");
    UNIT_STREQ(td_str(evs.ev[1].data, "response.model"), "m");
    UNIT_STREQ(evs.ev[evs.n - 1].name, "response.completed");
    UNIT_STREQ(td_str(evs.ev[evs.n - 1].data, "response.model"), "m");

    td_free(&evs);
    free(out);
    airouter_dctx_free(&ctx);
}


/* a stream cut short: error, then response.failed, never completed */
static int
cut_ends(const td_events_t *evs, const char *out)
{
    return evs->n >= 4
           && strcmp(evs->ev[0].name, "response.created") == 0
           && strcmp(evs->ev[evs->n - 2].name, "error") == 0
           && strcmp(td_str(evs->ev[evs->n - 2].data, "message"),
                     "cut short") == 0
           && strcmp(td_str(evs->ev[evs->n - 2].data, "error.message"),
                     "cut short") == 0
           && strcmp(td_str(evs->ev[evs->n - 2].data, "code"),
                     "server_error") == 0
           && strcmp(evs->ev[evs->n - 1].name, "response.failed") == 0
           && strcmp(td_str(evs->ev[evs->n - 1].data, "response.status"),
                     "failed") == 0
           && strcmp(td_str(evs->ev[evs->n - 1].data,
                            "response.error.message"), "cut short") == 0
           && strstr(out, "response.completed") == NULL;
}


static void
test_stream_ends(void)
{
    char             *out;
    size_t            n;
    td_events_t       evs;
    airouter_dctx_t   ctx;

    td_ctx(&ctx, AIROUTER_DIALECT_RESPONSES);

    /* length: response.incomplete */
    out = td_stream(AIROUTER_DIALECT_OPENAI, AIROUTER_DIALECT_RESPONSES, &ctx,
                    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":"
                    "\"a\"},\"finish_reason\":\"length\"}]}\n\n"
                    "data: [DONE]\n\n", 0, 0, NULL, 0);
    td_parse(out, &evs);
    UNIT_STREQ(evs.ev[evs.n - 1].name, "response.incomplete");
    UNIT_STREQ(td_str(evs.ev[evs.n - 1].data,
                      "response.incomplete_details.reason"),
               "max_output_tokens");
    td_free(&evs);
    free(out);

    /* cut anywhere before the finish: error, then response.failed */
    n = strstr(chat_stream, "\"finish_reason\":\"tool_calls\"")
        - chat_stream;
    UNIT_CHECK(td_every_cut(AIROUTER_DIALECT_RESPONSES, &ctx, chat_stream, n,
                            5, "cut short", cut_ends),
               "every cut ends with error and response.failed");
    airouter_dctx_free(&ctx);
}


static void
test_errors(void)
{
    airouter_dbuf_t  b;

    airouter_dbuf_init(&b);
    airouter_dialect_error(AIROUTER_DIALECT_RESPONSES, 400,
                           "invalid_request_error", "previous_response_not_found",
                           "no", 0, &b);
    UNIT_CHECK(td_json_is(b.data, b.len, "{\"error\":{\"message\":\"no\","
                          "\"type\":\"invalid_request_error\",\"code\":"
                          "\"previous_response_not_found\",\"param\":null}}"),
               "errors are OpenAI's");
    airouter_dbuf_free(&b);

    airouter_dbuf_init(&b);
    airouter_dialect_error(AIROUTER_DIALECT_RESPONSES, 502, "upstream_error",
                           "stream_interrupted", "gone", 1, &b);
    UNIT_CHECK(strncmp(b.data, "event: error\ndata: ", 19) == 0
               && td_json_is(b.data + 19, b.len - 21,
                             "{\"type\":\"error\",\"code\":"
                             "\"stream_interrupted\",\"message\":\"gone\","
                             "\"param\":null,\"sequence_number\":0,"
                             "\"error\":{\"type\":\"upstream_error\","
                             "\"code\":\"stream_interrupted\",\"message\":"
                             "\"gone\",\"param\":null}}"),
               "a stream's error event");
    airouter_dbuf_free(&b);
}


static void
test_usage(void)
{
    airouter_dusage_t  u;
    static const char  resp[] =
        "{\"object\":\"response\",\"usage\":{\"input_tokens\":9,"
        "\"input_tokens_details\":{\"cached_tokens\":4},\"output_tokens\":6,"
        "\"output_tokens_details\":{\"reasoning_tokens\":1},"
        "\"total_tokens\":15}}";

    UNIT_CHECK(airouter_dialect_usage(AIROUTER_DIALECT_RESPONSES, resp,
                                      sizeof(resp) - 1, &u) == 1
               && u.u.prompt_tokens == 9 && u.u.completion_tokens == 6
               && u.u.total_tokens == 15 && u.u.cached_tokens == 4
               && u.reasoning == 1, "a response object's usage");
}


int
main(void)
{
    test_request();
    test_request_errors();
    test_answer();
    test_stream();
    test_stream_model();
    test_stream_ends();
    test_errors();
    test_usage();

    UNIT_DONE("test_dialect_responses");
}
