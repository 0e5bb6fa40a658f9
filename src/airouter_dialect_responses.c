/*
 * OpenAI Responses as a client dialect (airouter_dialect_impl.h):
 * POST /v1/responses requests to chat, stateless (store: false; a
 * previous_response_id or a conversation is refused: nothing is stored),
 * and chat answers written back as a response object or as its stream
 * (response.created, response.in_progress, output_item.added/done,
 * content_part.added/done, output_text.delta/done, reasoning_text.delta/
 * done, function_call_arguments.delta/done, response.completed or
 * response.incomplete; error and response.failed when the upstream
 * fails).  Errors before the stream are OpenAI's.
 *
 * Field names follow the openai SDK's resources/responses/responses.d.ts;
 * the event order is the one its ResponseStream accumulator expects.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "airouter_dialect_impl.h"


typedef struct {
    airouter_dsink_t          sink;     /* first */
    airouter_danswer_t        a;        /* the response so far */
    long                      seq;
    size_t                    open;     /* blocks whose item is added */
    unsigned                  started:1;
    unsigned                  ended:1;
} airouter_resp_sink_t;


static int airouter_resp_to_chat(json_t *req, airouter_dctx_t *ctx,
    json_t **chat, airouter_derr_t *err);
static int airouter_resp_input(json_t *input, json_t *msgs,
    airouter_derr_t *err);
static int airouter_resp_message(json_t *item, json_t *msgs,
    airouter_derr_t *err);
static json_t *airouter_resp_parts(json_t *content, int assistant,
    airouter_derr_t *err);
static int airouter_resp_call(json_t *item, json_t *msgs,
    airouter_derr_t *err);
static int airouter_resp_output(json_t *item, json_t *msgs,
    airouter_derr_t *err);
static int airouter_resp_tools(json_t *req, json_t *chat,
    airouter_derr_t *err);
static int airouter_resp_format(json_t *req, json_t *chat,
    airouter_derr_t *err);
static json_t *airouter_resp_echo(json_t *req);

static void airouter_resp_answer(const airouter_danswer_t *a,
    const airouter_dctx_t *ctx, airouter_dbuf_t *out);
static json_t *airouter_resp_object(const airouter_danswer_t *a,
    const airouter_dctx_t *ctx, const char *status);
static json_t *airouter_resp_item(const airouter_danswer_t *a, size_t i,
    const airouter_dctx_t *ctx, const char *status);
static void airouter_resp_item_id(const airouter_danswer_t *a, size_t i,
    const airouter_dctx_t *ctx, char *buf, size_t size);
static json_t *airouter_resp_usage_json(const airouter_dusage_t *u);
static const char *airouter_resp_status(const airouter_danswer_t *a);

static airouter_dsink_t *airouter_resp_sink(const airouter_dctx_t *ctx);
static void airouter_resp_sink_event(airouter_dsink_t *k,
    const airouter_dev_t *ev);
static void airouter_resp_sink_destroy(airouter_dsink_t *k);
static void airouter_resp_begin(airouter_resp_sink_t *s);
static void airouter_resp_add_item(airouter_resp_sink_t *s, size_t i);
static void airouter_resp_done_item(airouter_resp_sink_t *s, size_t i);
static long airouter_resp_tool_block(const airouter_danswer_t *a,
    long index);
static void airouter_resp_emit(airouter_resp_sink_t *s, const char *type,
    json_t *data);
static void airouter_resp_failed(airouter_resp_sink_t *s,
    const airouter_dev_t *ev);
static void airouter_resp_error(int status, const char *type,
    const char *code, const char *message, int stream, airouter_dbuf_t *out);
static int airouter_resp_usage(json_t *root, airouter_dusage_t *u);
static void airouter_resp_parse_event(airouter_dparse_t *ps,
    const char *event, size_t elen, const char *p, size_t n,
    const airouter_dctx_t *ctx, airouter_dsink_t *k);


/*
 * A channel serving /v1/responses itself is read for its usage and its
 * end only (a Responses client's stream passed through); no request is
 * written for it, so it is no upstream for other dialects.
 */
const airouter_dialect_ops_t  airouter_dialect_responses = {
    "responses",
    "\"Authorization: Bearer <key>\"",
    airouter_resp_to_chat,
    airouter_resp_answer,
    airouter_resp_sink,
    airouter_resp_error,
    airouter_resp_usage,
    NULL,
    NULL,
    airouter_resp_parse_event,
    NULL,
    NULL
};


/* Responses requests to chat */

static int
airouter_resp_to_chat(json_t *req, airouter_dctx_t *ctx, json_t **chat,
    airouter_derr_t *err)
{
    json_t      *out, *msgs, *v;
    const char  *effort;

    v = json_object_get(req, "previous_response_id");
    if (v && !json_is_null(v)) {
        return airouter_derr_set(err, "previous_response_not_found",
                                 "previous_response_id is not supported: "
                                 "this router stores no responses (store: "
                                 "false); send the whole conversation in "
                                 "input");
    }

    v = json_object_get(req, "conversation");
    if (v && !json_is_null(v)) {
        return airouter_derr_set(err, "unsupported_parameter",
                                 "conversation is not supported: this "
                                 "router stores no conversations; send "
                                 "the whole conversation in input");
    }

    v = json_object_get(req, "prompt");
    if (v && !json_is_null(v)) {
        return airouter_derr_set(err, "unsupported_parameter",
                                 "prompt templates are not supported by "
                                 "this router");
    }

    if (json_is_true(json_object_get(req, "background"))) {
        return airouter_derr_set(err, "unsupported_parameter",
                                 "background responses are not supported "
                                 "by this router");
    }

    out = json_object();
    msgs = json_array();

    if (out == NULL || msgs == NULL) {
        json_decref(out);
        json_decref(msgs);
        return airouter_derr_set(err, "out_of_memory", "out of memory");
    }

    json_object_set_new(out, "messages", msgs);

    v = json_object_get(req, "model");
    if (v) {
        json_object_set(out, "model", v);
    }

    v = json_object_get(req, "instructions");
    if (json_is_string(v) && json_string_length(v)) {
        json_array_append_new(msgs, json_pack("{s:s,s:O}", "role", "system",
                                              "content", v));

    } else if (v && !json_is_null(v) && !json_is_string(v)) {
        airouter_derr_set(err, "invalid_request",
                          "instructions: a string is expected");
        goto failed;
    }

    v = json_object_get(req, "input");
    if (v == NULL || json_is_null(v)) {
        airouter_derr_set(err, "missing_input",
                          "input: text or an array of items is required");
        goto failed;
    }

    if (airouter_resp_input(v, msgs, err) != 0) {
        goto failed;
    }

    v = json_object_get(req, "max_output_tokens");
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        json_object_set(out, "max_tokens", v);
    }

    v = json_object_get(req, "temperature");
    if (json_is_number(v)) {
        json_object_set(out, "temperature", v);
    }

    v = json_object_get(req, "top_p");
    if (json_is_number(v)) {
        json_object_set(out, "top_p", v);
    }

    v = json_object_get(req, "user");
    if (json_is_string(v)) {
        json_object_set(out, "user", v);
    }

    v = json_object_get(req, "top_logprobs");
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        json_object_set_new(out, "logprobs", json_true());
        json_object_set(out, "top_logprobs", v);
    }

    if (airouter_resp_tools(req, out, err) != 0
        || airouter_resp_format(req, out, err) != 0)
    {
        goto failed;
    }

    effort = airouter_dj_str(json_object_get(req, "reasoning"), "effort");
    if (effort) {
        json_object_set_new(out, "reasoning_effort", json_string(effort));
    }

    if (json_is_true(json_object_get(req, "stream"))) {
        ctx->stream = 1;
        json_object_set_new(out, "stream", json_true());
    }

    if (ctx->echo) {
        json_decref(ctx->echo);
    }

    ctx->echo = airouter_resp_echo(req);
    if (ctx->echo == NULL) {
        airouter_derr_set(err, "out_of_memory", "out of memory");
        goto failed;
    }

    *chat = out;

    return 0;

failed:

    json_decref(out);

    return -1;
}


static int
airouter_resp_input(json_t *input, json_t *msgs, airouter_derr_t *err)
{
    size_t       i;
    json_t      *item;
    const char  *type;

    if (json_is_string(input)) {
        return json_array_append_new(msgs, json_pack("{s:s,s:O}", "role",
                                                     "user", "content",
                                                     input));
    }

    if (!json_is_array(input)) {
        return airouter_derr_set(err, "invalid_request",
                                 "input: text or an array of items is "
                                 "required");
    }

    json_array_foreach(input, i, item) {
        if (!json_is_object(item)) {
            return airouter_derr_set(err, "invalid_request",
                                     "input[%zu]: an item must be an object",
                                     i);
        }

        type = airouter_dj_str(item, "type");

        if (type == NULL || strcmp(type, "message") == 0) {
            if (airouter_resp_message(item, msgs, err) != 0) {
                return -1;
            }

        } else if (strcmp(type, "function_call") == 0) {
            if (airouter_resp_call(item, msgs, err) != 0) {
                return -1;
            }

        } else if (strcmp(type, "function_call_output") == 0) {
            if (airouter_resp_output(item, msgs, err) != 0) {
                return -1;
            }

        } else if (strcmp(type, "reasoning") == 0) {
            /* chat upstreams take no reasoning back */
            continue;

        } else if (strcmp(type, "item_reference") == 0) {
            return airouter_derr_set(err, "unsupported_parameter",
                                     "input[%zu]: item references need "
                                     "stored responses, which this router "
                                     "does not keep", i);

        } else {
            return airouter_derr_set(err, "unsupported_parameter",
                                     "input[%zu]: items of type \"%.40s\" "
                                     "are not supported by this router", i,
                                     type);
        }
    }

    return 0;
}


static int
airouter_resp_message(json_t *item, json_t *msgs, airouter_derr_t *err)
{
    int          assistant;
    json_t      *content, *c;
    const char  *role;

    role = airouter_dj_str(item, "role");
    content = json_object_get(item, "content");

    if (role == NULL || content == NULL) {
        return airouter_derr_set(err, "invalid_request",
                                 "input: a message needs a role and "
                                 "content");
    }

    assistant = (strcmp(role, "assistant") == 0);

    if (strcmp(role, "developer") == 0) {
        role = "system";

    } else if (!assistant && strcmp(role, "user") != 0
               && strcmp(role, "system") != 0)
    {
        return airouter_derr_set(err, "invalid_request",
                                 "input: unknown role \"%.40s\"", role);
    }

    if (json_is_string(content)) {
        c = json_incref(content);

    } else if (assistant || strcmp(role, "system") == 0) {
        /* text only: joined */
        c = airouter_resp_parts(content, 1, err);

    } else {
        c = airouter_resp_parts(content, 0, err);
    }

    if (c == NULL) {
        return -1;
    }

    return json_array_append_new(msgs, json_pack("{s:s,s:o}", "role", role,
                                                 "content", c));
}


/*
 * A message's content parts as chat's: text parts joined into one string
 * (text set: assistant and system turns), or chat parts (a single text
 * part as a string).
 */
static json_t *
airouter_resp_parts(json_t *content, int text, airouter_derr_t *err)
{
    size_t           i;
    json_t          *parts, *part, *p, *t;
    const char      *type, *url, *data, *name;
    airouter_dbuf_t  joined;

    if (!json_is_array(content)) {
        airouter_derr_set(err, "invalid_request",
                          "input: content must be text or an array of "
                          "parts");
        return NULL;
    }

    parts = json_array();
    airouter_dbuf_init(&joined);

    json_array_foreach(content, i, part) {
        type = airouter_dj_str(part, "type");
        p = NULL;

        if (type && (strcmp(type, "input_text") == 0
                     || strcmp(type, "output_text") == 0
                     || strcmp(type, "refusal") == 0))
        {
            t = json_object_get(part, strcmp(type, "refusal") == 0
                                      ? "refusal" : "text");
            if (!json_is_string(t)) {
                airouter_derr_set(err, "invalid_request",
                                  "input: a %.20s part without text", type);
                goto failed;
            }

            if (text) {
                airouter_dbuf_add(&joined, json_string_value(t),
                                  json_string_length(t));
                continue;
            }

            p = json_pack("{s:s,s:O}", "type", "text", "text", t);

        } else if (text) {
            airouter_derr_set(err, "invalid_request",
                              "input: assistant and system messages hold "
                              "text only");
            goto failed;

        } else if (type && strcmp(type, "input_image") == 0) {
            url = airouter_dj_str(part, "image_url");
            if (url == NULL) {
                airouter_derr_set(err, "unsupported_parameter",
                                  "input: images need image_url here "
                                  "(file_id needs stored files)");
                goto failed;
            }

            p = json_pack("{s:s,s:{s:s}}", "type", "image_url", "image_url",
                          "url", url);
            t = json_object_get(part, "detail");
            if (p && json_is_string(t)
                && strcmp(json_string_value(t), "original") != 0)
            {
                json_object_set(json_object_get(p, "image_url"), "detail",
                                t);
            }

        } else if (type && strcmp(type, "input_file") == 0) {
            data = airouter_dj_str(part, "file_data");
            name = airouter_dj_str(part, "filename");
            if (data == NULL) {
                airouter_derr_set(err, "unsupported_parameter",
                                  "input: files need file_data here "
                                  "(file_id and file_url are not fetched)");
                goto failed;
            }

            p = json_pack("{s:s,s:{s:s}}", "type", "file", "file",
                          "file_data", data);
            if (p && name) {
                json_object_set_new(json_object_get(p, "file"), "filename",
                                    json_string(name));
            }

        } else {
            airouter_derr_set(err, "unsupported_parameter",
                              "input: content parts of type \"%.40s\" are "
                              "not supported", type ? type : "?");
            goto failed;
        }

        if (p == NULL || json_array_append_new(parts, p) != 0) {
            airouter_derr_set(err, "out_of_memory", "out of memory");
            goto failed;
        }
    }

    if (text) {
        json_decref(parts);
        p = joined.failed ? NULL : json_stringn(joined.data ? joined.data
                                                            : "",
                                                joined.len);
        airouter_dbuf_free(&joined);

        if (p == NULL) {
            airouter_derr_set(err, "out_of_memory", "out of memory");
        }

        return p;
    }

    airouter_dbuf_free(&joined);

    if (json_array_size(parts) == 1
        && strcmp(airouter_dj_str(json_array_get(parts, 0), "type"), "text")
           == 0)
    {
        p = json_incref(json_object_get(json_array_get(parts, 0), "text"));
        json_decref(parts);
        return p;
    }

    return parts;

failed:

    json_decref(parts);
    airouter_dbuf_free(&joined);

    return NULL;
}


/* A function call: the assistant's tool call, joined to the assistant
 * message before it when there is one. */
static int
airouter_resp_call(json_t *item, json_t *msgs, airouter_derr_t *err)
{
    json_t      *last, *calls, *call, *id, *name, *args;
    const char  *role;

    id = json_object_get(item, "call_id");
    name = json_object_get(item, "name");
    args = json_object_get(item, "arguments");

    if (!json_is_string(id) || !json_is_string(name)) {
        return airouter_derr_set(err, "invalid_request",
                                 "input: a function_call needs call_id and "
                                 "name");
    }

    call = json_pack("{s:O,s:s,s:{s:O,s:o}}", "id", id, "type", "function",
                     "function", "name", name, "arguments",
                     json_is_string(args) ? json_incref(args)
                                          : json_string("{}"));
    if (call == NULL) {
        return airouter_derr_set(err, "out_of_memory", "out of memory");
    }

    last = json_array_get(msgs, json_array_size(msgs) - 1);
    role = airouter_dj_str(last, "role");

    if (role == NULL || strcmp(role, "assistant") != 0) {
        last = json_pack("{s:s,s:n}", "role", "assistant", "content");
        if (last == NULL || json_array_append_new(msgs, last) != 0) {
            json_decref(call);
            return airouter_derr_set(err, "out_of_memory", "out of memory");
        }
    }

    calls = json_object_get(last, "tool_calls");
    if (calls == NULL) {
        calls = json_array();
        json_object_set_new(last, "tool_calls", calls);
    }

    return json_array_append_new(calls, call);
}


static int
airouter_resp_output(json_t *item, json_t *msgs, airouter_derr_t *err)
{
    json_t  *id, *output, *text;

    id = json_object_get(item, "call_id");
    output = json_object_get(item, "output");

    if (!json_is_string(id) || output == NULL) {
        return airouter_derr_set(err, "invalid_request",
                                 "input: a function_call_output needs "
                                 "call_id and output");
    }

    if (json_is_string(output)) {
        text = json_incref(output);

    } else {
        text = airouter_resp_parts(output, 1, err);
        if (text == NULL) {
            return -1;
        }
    }

    return json_array_append_new(msgs, json_pack("{s:s,s:O,s:o}", "role",
                                                 "tool", "tool_call_id", id,
                                                 "content", text));
}


static int
airouter_resp_tools(json_t *req, json_t *chat, airouter_derr_t *err)
{
    size_t       i;
    json_t      *tools, *tool, *out, *fn, *v;
    const char  *type, *name;

    tools = json_object_get(req, "tools");

    if (json_is_array(tools) && json_array_size(tools)) {
        out = json_array();
        json_object_set_new(chat, "tools", out);

        json_array_foreach(tools, i, tool) {
            type = airouter_dj_str(tool, "type");
            name = airouter_dj_str(tool, "name");

            if (type == NULL || strcmp(type, "function") != 0) {
                return airouter_derr_set(err, "unsupported_tool",
                                         "tools: tools of type \"%.40s\" "
                                         "are not supported by this "
                                         "router (function tools are)",
                                         type ? type : "?");
            }

            if (name == NULL) {
                return airouter_derr_set(err, "invalid_request",
                                         "tools: a function needs a name");
            }

            fn = json_pack("{s:s}", "name", name);
            if (fn == NULL) {
                return airouter_derr_set(err, "out_of_memory",
                                         "out of memory");
            }

            v = json_object_get(tool, "description");
            if (json_is_string(v)) {
                json_object_set(fn, "description", v);
            }

            v = json_object_get(tool, "parameters");
            if (json_is_object(v)) {
                json_object_set(fn, "parameters", v);
            }

            v = json_object_get(tool, "strict");
            if (json_is_boolean(v)) {
                json_object_set(fn, "strict", v);
            }

            json_array_append_new(out, json_pack("{s:s,s:o}", "type",
                                                 "function", "function",
                                                 fn));
        }
    }

    v = json_object_get(req, "tool_choice");

    if (json_is_string(v)) {
        json_object_set(chat, "tool_choice", v);

    } else if (json_is_object(v)) {
        type = airouter_dj_str(v, "type");

        if (type && strcmp(type, "function") == 0
            && airouter_dj_str(v, "name"))
        {
            json_object_set_new(chat, "tool_choice",
                                json_pack("{s:s,s:{s:s}}", "type",
                                          "function", "function", "name",
                                          airouter_dj_str(v, "name")));

        } else if (type && strcmp(type, "allowed_tools") == 0
                   && airouter_dj_str(v, "mode"))
        {
            json_object_set_new(chat, "tool_choice",
                                json_string(airouter_dj_str(v, "mode")));

        } else {
            return airouter_derr_set(err, "unsupported_parameter",
                                     "tool_choice: this router takes none, "
                                     "auto, required or a function");
        }
    }

    v = json_object_get(req, "parallel_tool_calls");
    if (json_is_boolean(v) && json_object_get(chat, "tools")) {
        json_object_set(chat, "parallel_tool_calls", v);
    }

    return 0;
}


/* text.format: json_schema and json_object become response_format */
static int
airouter_resp_format(json_t *req, json_t *chat, airouter_derr_t *err)
{
    json_t      *fmt, *schema, *js, *v;
    const char  *type, *name;

    fmt = json_object_get(json_object_get(req, "text"), "format");
    type = airouter_dj_str(fmt, "type");

    if (type == NULL || strcmp(type, "text") == 0) {
        return 0;
    }

    if (strcmp(type, "json_object") == 0) {
        json_object_set_new(chat, "response_format",
                            json_pack("{s:s}", "type", "json_object"));
        return 0;
    }

    if (strcmp(type, "json_schema") != 0) {
        return airouter_derr_set(err, "unsupported_parameter",
                                 "text.format: type \"%.40s\" is not "
                                 "supported", type);
    }

    schema = json_object_get(fmt, "schema");
    name = airouter_dj_str(fmt, "name");

    if (!json_is_object(schema) || name == NULL) {
        return airouter_derr_set(err, "invalid_request",
                                 "text.format: json_schema needs a name and "
                                 "a schema object");
    }

    js = json_pack("{s:s,s:O}", "name", name, "schema", schema);
    if (js == NULL) {
        return airouter_derr_set(err, "out_of_memory", "out of memory");
    }

    v = json_object_get(fmt, "description");
    if (json_is_string(v)) {
        json_object_set(js, "description", v);
    }

    v = json_object_get(fmt, "strict");
    if (json_is_boolean(v)) {
        json_object_set(js, "strict", v);
    }

    json_object_set_new(chat, "response_format",
                        json_pack("{s:s,s:o}", "type", "json_schema",
                                  "json_schema", js));

    return 0;
}


/* The settings a response object repeats from its request. */
static json_t *
airouter_resp_echo(json_t *req)
{
    json_t  *e, *v, *effort;

    e = json_object();
    if (e == NULL) {
        return NULL;
    }

    v = json_object_get(req, "instructions");
    json_object_set_new(e, "instructions", json_is_string(v)
                                           ? json_incref(v) : json_null());

    v = json_object_get(req, "max_output_tokens");
    json_object_set_new(e, "max_output_tokens", json_is_integer(v)
                                                ? json_incref(v)
                                                : json_null());

    v = json_object_get(req, "metadata");
    json_object_set_new(e, "metadata", json_is_object(v) ? json_incref(v)
                                                         : json_object());

    v = json_object_get(req, "model");
    json_object_set_new(e, "model", json_is_string(v) ? json_incref(v)
                                                      : json_string(""));

    v = json_object_get(req, "parallel_tool_calls");
    json_object_set_new(e, "parallel_tool_calls",
                        json_boolean(!json_is_false(v)));

    json_object_set_new(e, "previous_response_id", json_null());

    effort = json_object_get(json_object_get(req, "reasoning"), "effort");
    json_object_set_new(e, "reasoning",
                        json_pack("{s:O,s:n}", "effort",
                                  json_is_string(effort) ? effort
                                                         : json_null(),
                                  "summary"));

    json_object_set_new(e, "store", json_false());

    v = json_object_get(req, "temperature");
    json_object_set_new(e, "temperature", json_is_number(v) ? json_incref(v)
                                                            : json_null());

    v = json_object_get(req, "text");
    json_object_set_new(e, "text",
                        json_is_object(json_object_get(v, "format"))
                        ? json_incref(v)
                        : json_pack("{s:{s:s}}", "format", "type", "text"));

    v = json_object_get(req, "tool_choice");
    json_object_set_new(e, "tool_choice", v && !json_is_null(v)
                                          ? json_incref(v)
                                          : json_string("auto"));

    v = json_object_get(req, "tools");
    json_object_set_new(e, "tools", json_is_array(v) ? json_incref(v)
                                                     : json_array());

    v = json_object_get(req, "top_p");
    json_object_set_new(e, "top_p", json_is_number(v) ? json_incref(v)
                                                      : json_null());

    json_object_set_new(e, "truncation", json_string("disabled"));

    v = json_object_get(req, "user");
    if (json_is_string(v)) {
        json_object_set(e, "user", v);
    }

    return e;
}


/* events written as a response */

static void
airouter_resp_answer(const airouter_danswer_t *a, const airouter_dctx_t *ctx,
    airouter_dbuf_t *out)
{
    json_t  *root;

    root = airouter_resp_object(a, ctx, airouter_resp_status(a));

    if (root == NULL) {
        out->failed = 1;
        return;
    }

    airouter_dbuf_json(out, root);
    json_decref(root);
}


static const char *
airouter_resp_status(const airouter_danswer_t *a)
{
    if (a->error) {
        return "failed";
    }

    if (a->finish == AIROUTER_FINISH_LENGTH
        || a->finish == AIROUTER_FINISH_FILTER)
    {
        return "incomplete";
    }

    return "completed";
}


/*
 * The response object: a NULL answer is the one response.created shows
 * (no output, no usage yet).
 */
static json_t *
airouter_resp_object(const airouter_danswer_t *a, const airouter_dctx_t *ctx,
    const char *status)
{
    size_t       i;
    char         id[64];
    json_t      *r, *output, *item;
    const char  *reason;

    snprintf(id, sizeof(id), "resp_%s", ctx->id);

    r = json_pack("{s:s,s:s,s:I,s:s,s:n,s:n}", "id", id, "object", "response",
                  "created_at", (json_int_t) ctx->created, "status", status,
                  "error", "incomplete_details");
    output = json_array();

    if (r == NULL || output == NULL) {
        json_decref(r);
        json_decref(output);
        return NULL;
    }

    if (ctx->echo) {
        json_object_update(r, ctx->echo);
    }

    if (a && a->model && a->model[0]) {
        json_object_set_new(r, "model", json_string(a->model));
    }

    if (a && strcmp(status, "incomplete") == 0) {
        reason = (a->finish == AIROUTER_FINISH_FILTER) ? "content_filter"
                                                       : "max_output_tokens";
        json_object_set_new(r, "incomplete_details",
                            json_pack("{s:s}", "reason", reason));
    }

    if (a && a->error) {
        json_object_set_new(r, "error",
                            json_pack("{s:s,s:s}", "code",
                                      a->status == 429
                                      ? "rate_limit_exceeded"
                                      : "server_error",
                                      "message",
                                      a->message ? a->message : "error"));
    }

    for (i = 0; a && i < a->nblocks; i++) {
        item = airouter_resp_item(a, i, ctx, a->error ? "incomplete"
                                                      : "completed");
        if (item) {
            json_array_append_new(output, item);
        }
    }

    json_object_set_new(r, "output", output);
    json_object_set_new(r, "usage", (a && a->has_usage)
                                    ? airouter_resp_usage_json(&a->usage)
                                    : json_null());

    return r;
}


/* Block i as an output item. */
static json_t *
airouter_resp_item(const airouter_danswer_t *a, size_t i,
    const airouter_dctx_t *ctx, const char *status)
{
    char                      id[96];
    const char               *text;
    const airouter_dblock_t  *b;

    b = &a->blocks[i];
    text = b->data.data ? b->data.data : "";

    airouter_resp_item_id(a, i, ctx, id, sizeof(id));

    switch (b->kind) {
    case AIROUTER_DBLOCK_TEXT:
        return json_pack("{s:s,s:s,s:s,s:s,s:[{s:s,s:s#,s:[],s:[]}]}",
                         "id", id, "type", "message", "status", status,
                         "role", "assistant", "content", "type",
                         "output_text", "text", text, b->data.len,
                         "annotations", "logprobs");

    case AIROUTER_DBLOCK_REASONING:
        return json_pack("{s:s,s:s,s:[],s:[{s:s,s:s#}],s:s}", "id", id,
                         "type", "reasoning", "summary", "content", "type",
                         "reasoning_text", "text", text, b->data.len,
                         "status", status);

    default:
        return json_pack("{s:s,s:s,s:s,s:s,s:s#,s:s}", "id", id, "type",
                         "function_call", "call_id", b->id ? b->id : "",
                         "name", b->name ? b->name : "", "arguments", text,
                         b->data.len, "status", status);
    }
}


static void
airouter_resp_item_id(const airouter_danswer_t *a, size_t i,
    const airouter_dctx_t *ctx, char *buf, size_t size)
{
    const char  *prefix;

    switch (a->blocks[i].kind) {
    case AIROUTER_DBLOCK_TEXT:
        prefix = "msg";
        break;
    case AIROUTER_DBLOCK_REASONING:
        prefix = "rs";
        break;
    default:
        prefix = "fc";
        break;
    }

    snprintf(buf, size, "%s_%s_%zu", prefix, ctx->id, i);
}


static json_t *
airouter_resp_usage_json(const airouter_dusage_t *u)
{
    long  input, output;

    input = u->u.prompt_tokens > 0 ? u->u.prompt_tokens : 0;
    output = u->u.completion_tokens > 0 ? u->u.completion_tokens : 0;

    return json_pack("{s:I,s:{s:I,s:I},s:I,s:{s:I},s:I}",
                     "input_tokens", (json_int_t) input,
                     "input_tokens_details",
                     "cached_tokens",
                     (json_int_t) (u->u.cached_tokens > 0
                                   ? u->u.cached_tokens : 0),
                     "cache_write_tokens",
                     (json_int_t) (u->u.cache_write_tokens > 0
                                   ? u->u.cache_write_tokens : 0),
                     "output_tokens", (json_int_t) output,
                     "output_tokens_details",
                     "reasoning_tokens",
                     (json_int_t) (u->reasoning > 0 ? u->reasoning : 0),
                     "total_tokens",
                     (json_int_t) (u->u.total_tokens > 0 ? u->u.total_tokens
                                                         : input + output));
}


static airouter_dsink_t *
airouter_resp_sink(const airouter_dctx_t *ctx)
{
    airouter_resp_sink_t  *s;

    s = calloc(1, sizeof(airouter_resp_sink_t));
    if (s == NULL) {
        return NULL;
    }

    s->sink.event = airouter_resp_sink_event;
    s->sink.destroy = airouter_resp_sink_destroy;
    s->sink.ctx = ctx;
    airouter_danswer_init(&s->a, ctx);

    return &s->sink;
}


static void
airouter_resp_sink_destroy(airouter_dsink_t *k)
{
    airouter_resp_sink_t  *s;

    s = (airouter_resp_sink_t *) k;

    airouter_danswer_free(&s->a);
    free(s);
}


static void
airouter_resp_sink_event(airouter_dsink_t *k, const airouter_dev_t *ev)
{
    long                   b;
    char                   id[96];
    json_t                *data;
    size_t                 before;
    const char            *status;
    airouter_resp_sink_t  *s;

    s = (airouter_resp_sink_t *) k;

    if (s->ended) {
        return;
    }

    before = s->a.nblocks;

    /* the answer so far first: events below read it */
    s->a.sink.event(&s->a.sink, ev);

    if (s->a.failed) {
        k->out->failed = 1;
    }

    airouter_resp_begin(s);

    switch (ev->kind) {
    case AIROUTER_DEV_TEXT:
    case AIROUTER_DEV_REASONING:
    case AIROUTER_DEV_TOOL:
        if (s->a.nblocks > before) {
            if (s->open) {
                airouter_resp_done_item(s, s->open - 1);
            }

            airouter_resp_add_item(s, s->a.nblocks - 1);
            s->open = s->a.nblocks;
        }

        if (ev->kind == AIROUTER_DEV_TOOL) {
            break;
        }

        airouter_resp_item_id(&s->a, s->a.nblocks - 1, k->ctx, id,
                              sizeof(id));

        data = json_pack("{s:s,s:I,s:i,s:s#}", "item_id", id,
                         "output_index", (json_int_t) (s->a.nblocks - 1),
                         "content_index", 0, "delta", ev->data, ev->len);

        if (data && ev->kind == AIROUTER_DEV_TEXT) {
            json_object_set_new(data, "logprobs", json_array());
        }

        airouter_resp_emit(s, ev->kind == AIROUTER_DEV_TEXT
                              ? "response.output_text.delta"
                              : "response.reasoning_text.delta", data);
        break;

    case AIROUTER_DEV_ARGS:
        b = airouter_resp_tool_block(&s->a, ev->index);
        if (b < 0) {
            break;
        }

        airouter_resp_item_id(&s->a, (size_t) b, k->ctx, id, sizeof(id));

        data = json_pack("{s:s,s:I,s:s#}", "item_id", id, "output_index",
                         (json_int_t) b, "delta", ev->data, ev->len);
        airouter_resp_emit(s, "response.function_call_arguments.delta",
                           data);
        break;

    case AIROUTER_DEV_DONE:
        s->ended = 1;

        if (s->open) {
            airouter_resp_done_item(s, s->open - 1);
        }

        status = airouter_resp_status(&s->a);
        data = json_pack("{s:o}", "response",
                         airouter_resp_object(&s->a, k->ctx, status));
        airouter_resp_emit(s, strcmp(status, "incomplete") == 0
                              ? "response.incomplete"
                              : "response.completed", data);
        break;

    case AIROUTER_DEV_ERROR:
        s->ended = 1;
        airouter_resp_failed(s, ev);
        break;

    default:
        break;
    }
}


/*
 * response.created and response.in_progress, before anything else: the
 * answer so far (its first event) names the served model, which these
 * show as response.completed does, not the client's "model" (a tag query,
 * an alias).
 */
static void
airouter_resp_begin(airouter_resp_sink_t *s)
{
    int          i;
    json_t      *r;
    const char  *types[2] = { "response.created", "response.in_progress" };

    if (s->started) {
        return;
    }

    s->started = 1;

    for (i = 0; i < 2; i++) {
        r = airouter_resp_object(NULL, s->sink.ctx, "in_progress");

        if (r && s->a.model && s->a.model[0]) {
            json_object_set_new(r, "model", json_string(s->a.model));
        }

        airouter_resp_emit(s, types[i], json_pack("{s:o}", "response", r));
    }
}


/* output_item.added (and content_part.added) for block i */
static void
airouter_resp_add_item(airouter_resp_sink_t *s, size_t i)
{
    int                       kind;
    char                      id[96];
    json_t                   *item, *part;
    const airouter_dblock_t  *b;

    b = &s->a.blocks[i];
    kind = b->kind;

    airouter_resp_item_id(&s->a, i, s->sink.ctx, id, sizeof(id));

    if (kind == AIROUTER_DBLOCK_TEXT) {
        item = json_pack("{s:s,s:s,s:s,s:s,s:[]}", "id", id, "type",
                         "message", "status", "in_progress", "role",
                         "assistant", "content");
        part = json_pack("{s:s,s:s,s:[],s:[]}", "type", "output_text",
                         "text", "", "annotations", "logprobs");

    } else if (kind == AIROUTER_DBLOCK_REASONING) {
        item = json_pack("{s:s,s:s,s:[],s:[],s:s}", "id", id, "type",
                         "reasoning", "summary", "content", "status",
                         "in_progress");
        part = json_pack("{s:s,s:s}", "type", "reasoning_text", "text", "");

    } else {
        item = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "id", id, "type",
                         "function_call", "call_id", b->id ? b->id : "",
                         "name", b->name ? b->name : "", "arguments", "",
                         "status", "in_progress");
        part = NULL;
    }

    airouter_resp_emit(s, "response.output_item.added",
                       json_pack("{s:I,s:o}", "output_index",
                                 (json_int_t) i, "item", item));

    if (part) {
        airouter_resp_emit(s, "response.content_part.added",
                           json_pack("{s:s,s:I,s:i,s:o}", "item_id", id,
                                     "output_index", (json_int_t) i,
                                     "content_index", 0, "part", part));
    }
}


/* the .done events of block i's item, then output_item.done */
static void
airouter_resp_done_item(airouter_resp_sink_t *s, size_t i)
{
    char                      id[96];
    json_t                   *data, *item;
    const char               *text;
    const airouter_dblock_t  *b;

    b = &s->a.blocks[i];
    text = b->data.data ? b->data.data : "";

    airouter_resp_item_id(&s->a, i, s->sink.ctx, id, sizeof(id));

    if (b->kind == AIROUTER_DBLOCK_TEXT) {
        data = json_pack("{s:s,s:I,s:i,s:s#,s:[]}", "item_id", id,
                         "output_index", (json_int_t) i, "content_index", 0,
                         "text", text, b->data.len, "logprobs");
        airouter_resp_emit(s, "response.output_text.done", data);

        data = json_pack("{s:s,s:I,s:i,s:{s:s,s:s#,s:[],s:[]}}", "item_id",
                         id, "output_index", (json_int_t) i, "content_index",
                         0, "part", "type", "output_text", "text", text,
                         b->data.len, "annotations", "logprobs");
        airouter_resp_emit(s, "response.content_part.done", data);

    } else if (b->kind == AIROUTER_DBLOCK_REASONING) {
        data = json_pack("{s:s,s:I,s:i,s:s#}", "item_id", id,
                         "output_index", (json_int_t) i, "content_index", 0,
                         "text", text, b->data.len);
        airouter_resp_emit(s, "response.reasoning_text.done", data);

        data = json_pack("{s:s,s:I,s:i,s:{s:s,s:s#}}", "item_id", id,
                         "output_index", (json_int_t) i, "content_index", 0,
                         "part", "type", "reasoning_text", "text", text,
                         b->data.len);
        airouter_resp_emit(s, "response.content_part.done", data);

    } else {
        data = json_pack("{s:s,s:I,s:s#,s:s}", "item_id", id,
                         "output_index", (json_int_t) i, "arguments", text,
                         b->data.len, "name", b->name ? b->name : "");
        airouter_resp_emit(s, "response.function_call_arguments.done",
                           data);
    }

    item = airouter_resp_item(&s->a, i, s->sink.ctx, "completed");
    airouter_resp_emit(s, "response.output_item.done",
                       json_pack("{s:I,s:o}", "output_index",
                                 (json_int_t) i, "item", item));
}


static long
airouter_resp_tool_block(const airouter_danswer_t *a, long index)
{
    size_t  i;

    for (i = a->nblocks; i > 0; i--) {
        if (a->blocks[i - 1].kind == AIROUTER_DBLOCK_TOOL
            && a->blocks[i - 1].index == index)
        {
            return (long) (i - 1);
        }
    }

    return -1;
}


/* One event; data's reference is taken; type and sequence_number added. */
static void
airouter_resp_emit(airouter_resp_sink_t *s, const char *type, json_t *data)
{
    if (data == NULL) {
        s->sink.out->failed = 1;
        return;
    }

    json_object_set_new(data, "type", json_string(type));
    json_object_set_new(data, "sequence_number", json_integer(s->seq++));

    airouter_dsse_event(s->sink.out, type, data);
    json_decref(data);
}


/*
 * The upstream failed after the first byte: an error event (the fields
 * the SDK types name at the top, and the nested error object the API
 * sends, which makes the openai SDK raise), then response.failed.
 */
static void
airouter_resp_failed(airouter_resp_sink_t *s, const airouter_dev_t *ev)
{
    json_t      *data;
    const char  *code;

    code = (ev->status == 429) ? "rate_limit_exceeded" : "server_error";

    data = json_pack("{s:s,s:s#,s:n,s:{s:s,s:s,s:s#,s:n}}", "code", code,
                     "message", ev->data, ev->len, "param", "error",
                     "type", ev->etype ? ev->etype : "server_error", "code",
                     code, "message", ev->data, ev->len, "param");
    airouter_resp_emit(s, "error", data);

    airouter_resp_emit(s, "response.failed",
                       json_pack("{s:o}", "response",
                                 airouter_resp_object(&s->a, s->sink.ctx,
                                                      "failed")));
}


static void
airouter_resp_error(int status, const char *type, const char *code,
    const char *message, int stream, airouter_dbuf_t *out)
{
    json_t  *err;

    if (stream) {
        err = json_pack("{s:s,s:s,s:s,s:n,s:i}", "type", "error", "code",
                        code ? code : "server_error", "message", message,
                        "param", "sequence_number", 0);
        if (err) {
            json_object_set_new(err, "error",
                                json_pack("{s:s,s:s?,s:s,s:n}", "type",
                                          type ? type : "server_error",
                                          "code", code, "message", message,
                                          "param"));
            airouter_dsse_event(out, "error", err);
        }

    } else {
        (void) status;
        err = json_pack("{s:{s:s,s:s,s:s?,s:n}}", "error", "message",
                        message, "type", type ? type : "api_error", "code",
                        code, "param");
        if (err) {
            airouter_dbuf_json(out, err);
        }
    }

    if (err == NULL) {
        out->failed = 1;
        return;
    }

    json_decref(err);
}


/* A response object's usage (a Responses upstream passed through). */
static int
airouter_resp_usage(json_t *root, airouter_dusage_t *u)
{
    json_t  *usage;

    usage = json_object_get(root, "usage");
    if (!json_is_object(usage)) {
        usage = json_object_get(json_object_get(root, "response"), "usage");
    }

    return airouter_dusage_from_chat(usage, u);
}


/*
 * A passed-through Responses stream, read for its life and its usage:
 * response.created starts it, response.completed or response.incomplete
 * carries the usage and ends it, response.failed and error end it badly.
 */
static void
airouter_resp_parse_event(airouter_dparse_t *ps, const char *event,
    size_t elen, const char *p, size_t n, const airouter_dctx_t *ctx,
    airouter_dsink_t *k)
{
    json_t             *root, *r, *err;
    const char         *type, *msg;
    airouter_dusage_t   u;

    (void) event;
    (void) elen;
    (void) ctx;

    root = json_loadb(p, n, 0, NULL);
    type = airouter_dj_str(root, "type");

    if (type == NULL) {
        json_decref(root);
        return;
    }

    r = json_object_get(root, "response");

    if (strcmp(type, "response.created") == 0) {
        airouter_dev_start(ps, k, airouter_dj_str(r, "id"),
                           airouter_dj_str(r, "model"));

    } else if (strcmp(type, "response.completed") == 0
               || strcmp(type, "response.incomplete") == 0)
    {
        airouter_dev_start(ps, k, NULL, NULL);

        if (airouter_dusage_from_chat(json_object_get(r, "usage"), &u)) {
            airouter_dev_usage(k, &u);
        }

        airouter_dev_finish(ps, k, strcmp(type, "response.completed") == 0
                                   ? AIROUTER_FINISH_STOP
                                   : AIROUTER_FINISH_LENGTH);
        airouter_dev_done(ps, k);

    } else if (strcmp(type, "response.failed") == 0
               || strcmp(type, "error") == 0)
    {
        err = (strcmp(type, "error") == 0) ? root
                                           : json_object_get(r, "error");
        msg = airouter_dj_str(err, "message");
        if (msg == NULL) {
            msg = airouter_dj_str(json_object_get(err, "error"), "message");
        }

        airouter_dev_error(ps, k, 502, NULL,
                           msg ? msg : "the upstream's response failed");
    }

    json_decref(root);
}
