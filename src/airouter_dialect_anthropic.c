/*
 * Anthropic Messages as a dialect (airouter_dialect_impl.h), both sides:
 *
 *   client   POST /v1/messages requests to chat; answers, streams
 *            (message_start, content_block_start/delta/stop, message_delta
 *            with usage, message_stop, ping, error) and errors
 *            ({"type":"error","error":{"type","message"}}) written back
 *   upstream a native Anthropic channel: chat requests to Messages, its
 *            answers, events and errors read into events
 *
 * Field names follow @anthropic-ai/sdk's resources/messages/messages.d.ts.
 * Usage: Anthropic's input_tokens leaves out cache reads and writes, chat's
 * prompt_tokens counts them; the router's usage is chat's.
 */

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "airouter_dialect_impl.h"


/* reasoning effort <-> thinking budget (tokens) */
#define AIROUTER_ANTH_BUDGET_LOW     1024
#define AIROUTER_ANTH_BUDGET_MEDIUM  2048
#define AIROUTER_ANTH_BUDGET_HIGH    4096


typedef struct {
    airouter_dsink_t          sink;     /* first */
    json_t                   *model;
    long                      blocks;   /* content blocks opened */
    int                       open;     /* kind of the open block, -1 */
    long                      open_index;
    airouter_dparse_t         tools;    /* tool index -> block index */
    airouter_finish_e         finish;
    airouter_dusage_t         usage;
    unsigned                  started:1;
    unsigned                  ended:1;
} airouter_anth_sink_t;


static int airouter_anth_to_chat(json_t *req, airouter_dctx_t *ctx,
    json_t **chat, airouter_derr_t *err);
static int airouter_anth_message(json_t *msg, json_t *msgs,
    airouter_derr_t *err);
static int airouter_anth_user(json_t *content, json_t *msgs,
    airouter_derr_t *err);
static int airouter_anth_assistant(json_t *content, json_t *msgs,
    airouter_derr_t *err);
static json_t *airouter_anth_image(json_t *block, airouter_derr_t *err);
static json_t *airouter_anth_document(json_t *block, airouter_derr_t *err);
static int airouter_anth_tool_result(json_t *block, json_t *msgs,
    json_t *images, airouter_derr_t *err);
static int airouter_anth_tools(json_t *req, json_t *chat,
    airouter_derr_t *err);
static json_t *airouter_anth_system(json_t *v);
static const char *airouter_anth_effort(long budget);

static void airouter_anth_answer(const airouter_danswer_t *a,
    const airouter_dctx_t *ctx, airouter_dbuf_t *out);
static json_t *airouter_anth_usage_json(const airouter_dusage_t *u,
    int has);
static const char *airouter_anth_stop(airouter_finish_e f);
static airouter_dsink_t *airouter_anth_sink(const airouter_dctx_t *ctx);
static void airouter_anth_sink_event(airouter_dsink_t *k,
    const airouter_dev_t *ev);
static void airouter_anth_sink_destroy(airouter_dsink_t *k);
static void airouter_anth_open(airouter_anth_sink_t *s, int kind,
    json_t *block);
static void airouter_anth_close(airouter_anth_sink_t *s);
static void airouter_anth_start(airouter_anth_sink_t *s, const char *model);
static void airouter_anth_emit(airouter_anth_sink_t *s, const char *name,
    json_t *data);
static void airouter_anth_error(int status, const char *type,
    const char *code, const char *message, int stream, airouter_dbuf_t *out);
static const char *airouter_anth_error_type(int status, const char *type);
static int airouter_anth_usage(json_t *root, airouter_dusage_t *u);
static int airouter_anth_usage_object(json_t *usage, airouter_dusage_t *u);

static int airouter_anth_from_chat(json_t *chat, const airouter_dctx_t *ctx,
    json_t **req, airouter_derr_t *err);
static int airouter_anth_from_message(json_t *msg, json_t *out,
    json_t *system, airouter_derr_t *err);
static int airouter_anth_from_parts(json_t *content, json_t *blocks,
    airouter_derr_t *err);
static int airouter_anth_from_tools(json_t *chat, json_t *req,
    airouter_derr_t *err);
static int airouter_anth_append(json_t *out, const char *role,
    json_t *blocks);
static int airouter_anth_parse_answer(json_t *root,
    const airouter_dctx_t *ctx, airouter_dsink_t *k);
static void airouter_anth_parse_event(airouter_dparse_t *ps,
    const char *event, size_t elen, const char *p, size_t n,
    const airouter_dctx_t *ctx, airouter_dsink_t *k);
static void airouter_anth_parse_block(airouter_dparse_t *ps, long index,
    json_t *block, airouter_dsink_t *k);
static airouter_finish_e airouter_anth_finish(const char *stop);
static int airouter_anth_parse_error(json_t *root, const char **type,
    const char **code, const char **message);
static void airouter_anth_input(airouter_dsink_t *k, long tool,
    json_t *input);


const airouter_dialect_ops_t  airouter_dialect_anthropic = {
    "anthropic",
    "\"x-api-key: <key>\" or \"Authorization: Bearer <key>\"",
    airouter_anth_to_chat,
    airouter_anth_answer,
    airouter_anth_sink,
    airouter_anth_error,
    airouter_anth_usage,
    airouter_anth_from_chat,
    airouter_anth_parse_answer,
    airouter_anth_parse_event,
    airouter_anth_parse_error,
    NULL
};


/* Messages requests to chat */

static int
airouter_anth_to_chat(json_t *req, airouter_dctx_t *ctx, json_t **chat,
    airouter_derr_t *err)
{
    size_t       i;
    json_t      *out, *msgs, *msg, *v, *sys, *fmt, *stop;
    const char  *effort;

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

    v = json_object_get(req, "max_tokens");
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        json_object_set(out, "max_tokens", v);

    } else if (v || !ctx->count) {
        airouter_derr_set(err, "invalid_request",
                          "max_tokens: a positive integer is required");
        goto failed;
    }

    sys = json_object_get(req, "system");
    if (sys) {
        v = airouter_anth_system(sys);
        if (v == NULL) {
            airouter_derr_set(err, "invalid_request",
                              "system: a string or text blocks expected");
            goto failed;
        }

        if (json_string_length(v)) {
            json_array_append_new(msgs, json_pack("{s:s,s:o}", "role",
                                                  "system", "content", v));
        } else {
            json_decref(v);
        }
    }

    v = json_object_get(req, "messages");
    if (!json_is_array(v)) {
        airouter_derr_set(err, "invalid_request",
                          "messages: an array is required");
        goto failed;
    }

    json_array_foreach(v, i, msg) {
        if (airouter_anth_message(msg, msgs, err) != 0) {
            goto failed;
        }
    }

    stop = json_object_get(req, "stop_sequences");
    if (stop && !json_is_null(stop)) {
        if (!json_is_array(stop)) {
            airouter_derr_set(err, "invalid_request",
                              "stop_sequences: an array of strings expected");
            goto failed;
        }

        json_array_foreach(stop, i, v) {
            if (!json_is_string(v)) {
                airouter_derr_set(err, "invalid_request",
                                  "stop_sequences: an array of strings "
                                  "expected");
                goto failed;
            }
        }

        if (json_array_size(stop)) {
            json_object_set(out, "stop", stop);
        }
    }

    v = json_object_get(req, "temperature");
    if (json_is_number(v)) {
        json_object_set(out, "temperature", v);
    }

    v = json_object_get(req, "top_p");
    if (json_is_number(v)) {
        json_object_set(out, "top_p", v);
    }

    v = json_object_get(json_object_get(req, "metadata"), "user_id");
    if (json_is_string(v)) {
        json_object_set(out, "user", v);
    }

    if (airouter_anth_tools(req, out, err) != 0) {
        goto failed;
    }

    effort = NULL;

    v = json_object_get(req, "thinking");
    if (json_is_object(v)
        && json_is_string(json_object_get(v, "type"))
        && strcmp(airouter_dj_str(v, "type"), "enabled") == 0)
    {
        effort = airouter_anth_effort((long) json_integer_value(
                                          json_object_get(v,
                                                          "budget_tokens")));
    }

    v = json_object_get(json_object_get(req, "output_config"), "effort");
    if (json_is_string(v)) {
        effort = json_string_value(v);
    }

    if (effort) {
        json_object_set_new(out, "reasoning_effort", json_string(effort));
    }

    fmt = json_object_get(json_object_get(req, "output_config"), "format");
    if (json_is_object(fmt)
        && json_is_string(json_object_get(fmt, "type"))
        && strcmp(airouter_dj_str(fmt, "type"), "json_schema") == 0)
    {
        v = json_object_get(fmt, "schema");
        if (!json_is_object(v)) {
            airouter_derr_set(err, "invalid_request",
                              "output_config.format.schema: an object is "
                              "required");
            goto failed;
        }

        json_object_set_new(out, "response_format",
                            json_pack("{s:s,s:{s:s,s:O}}", "type",
                                      "json_schema", "json_schema", "name",
                                      "output", "schema", v));
    }

    if (json_is_true(json_object_get(req, "stream"))) {
        ctx->stream = 1;
        json_object_set_new(out, "stream", json_true());
    }

    *chat = out;

    return 0;

failed:

    json_decref(out);

    return -1;
}


static int
airouter_anth_message(json_t *msg, json_t *msgs, airouter_derr_t *err)
{
    json_t      *content, *text;
    const char  *role;

    role = airouter_dj_str(msg, "role");
    content = json_object_get(msg, "content");

    if (role == NULL || content == NULL) {
        return airouter_derr_set(err, "invalid_request",
                                 "messages: each needs a role and content");
    }

    if (!json_is_string(content) && !json_is_array(content)) {
        return airouter_derr_set(err, "invalid_request",
                                 "messages: content must be a string or "
                                 "an array of blocks");
    }

    if (strcmp(role, "user") == 0) {
        return airouter_anth_user(content, msgs, err);
    }

    if (strcmp(role, "assistant") == 0) {
        return airouter_anth_assistant(content, msgs, err);
    }

    if (strcmp(role, "system") == 0) {
        text = airouter_dj_join_text(content, "\n");
        if (text == NULL) {
            return airouter_derr_set(err, "invalid_request",
                                     "messages: a system message holds "
                                     "text only");
        }

        json_array_append_new(msgs, json_pack("{s:s,s:o}", "role", "system",
                                              "content", text));
        return 0;
    }

    return airouter_derr_set(err, "invalid_request",
                             "messages: unknown role \"%.40s\"", role);
}


/*
 * A user turn: its tool results first, as tool messages (chat wants them
 * right after the assistant's calls), then the rest as one user message.
 * Images inside tool results go to that user message: chat's tool
 * messages carry text only.
 */
static int
airouter_anth_user(json_t *content, json_t *msgs, airouter_derr_t *err)
{
    size_t       i;
    json_t      *parts, *block, *part;
    const char  *type;

    if (json_is_string(content)) {
        json_array_append_new(msgs, json_pack("{s:s,s:O}", "role", "user",
                                              "content", content));
        return 0;
    }

    parts = json_array();
    if (parts == NULL) {
        return airouter_derr_set(err, "out_of_memory", "out of memory");
    }

    json_array_foreach(content, i, block) {
        type = airouter_dj_str(block, "type");

        if (type == NULL) {
            airouter_derr_set(err, "invalid_request",
                              "messages: a content block without a type");
            goto failed;
        }

        part = NULL;

        if (strcmp(type, "text") == 0) {
            if (!json_is_string(json_object_get(block, "text"))) {
                airouter_derr_set(err, "invalid_request",
                                  "messages: a text block without text");
                goto failed;
            }

            part = json_pack("{s:s,s:O}", "type", "text", "text",
                             json_object_get(block, "text"));

        } else if (strcmp(type, "image") == 0) {
            part = airouter_anth_image(block, err);
            if (part == NULL) {
                goto failed;
            }

        } else if (strcmp(type, "document") == 0) {
            part = airouter_anth_document(block, err);
            if (part == NULL) {
                goto failed;
            }

        } else if (strcmp(type, "tool_result") == 0) {
            if (airouter_anth_tool_result(block, msgs, parts, err) != 0) {
                goto failed;
            }

            continue;

        } else if (strcmp(type, "thinking") == 0
                   || strcmp(type, "redacted_thinking") == 0)
        {
            continue;

        } else {
            airouter_derr_set(err, "unsupported_content",
                              "messages: content blocks of type \"%.40s\" "
                              "are not supported here", type);
            goto failed;
        }

        if (part == NULL || json_array_append_new(parts, part) != 0) {
            airouter_derr_set(err, "out_of_memory", "out of memory");
            goto failed;
        }
    }

    if (json_array_size(parts) == 1
        && strcmp(airouter_dj_str(json_array_get(parts, 0), "type"), "text")
           == 0)
    {
        json_array_append_new(msgs, json_pack("{s:s,s:O}", "role", "user",
                                  "content",
                                  json_object_get(json_array_get(parts, 0),
                                                  "text")));

    } else if (json_array_size(parts)) {
        json_array_append_new(msgs, json_pack("{s:s,s:O}", "role", "user",
                                              "content", parts));
    }

    json_decref(parts);

    return 0;

failed:

    json_decref(parts);

    return -1;
}


static json_t *
airouter_anth_image(json_t *block, airouter_derr_t *err)
{
    json_t      *src, *url;
    const char  *type, *mime, *data;

    src = json_object_get(block, "source");
    type = airouter_dj_str(src, "type");

    if (type && strcmp(type, "base64") == 0) {
        mime = airouter_dj_str(src, "media_type");
        data = airouter_dj_str(src, "data");

        if (mime == NULL || data == NULL) {
            airouter_derr_set(err, "invalid_request",
                              "messages: a base64 image needs media_type "
                              "and data");
            return NULL;
        }

        url = airouter_dj_data_url(mime, data);

    } else if (type && strcmp(type, "url") == 0
               && json_is_string(json_object_get(src, "url")))
    {
        url = json_incref(json_object_get(src, "url"));

    } else {
        airouter_derr_set(err, "unsupported_content",
                          "messages: image sources of type \"%.40s\" are "
                          "not supported here (use base64 or url)",
                          type ? type : "?");
        return NULL;
    }

    if (url == NULL) {
        airouter_derr_set(err, "out_of_memory", "out of memory");
        return NULL;
    }

    return json_pack("{s:s,s:{s:o}}", "type", "image_url", "image_url",
                     "url", url);
}


/* A PDF as chat's file part; a text document as text. */
static json_t *
airouter_anth_document(json_t *block, airouter_derr_t *err)
{
    json_t      *src, *url, *text;
    const char  *type, *mime, *data, *title;

    src = json_object_get(block, "source");
    type = airouter_dj_str(src, "type");

    if (type && strcmp(type, "base64") == 0) {
        mime = airouter_dj_str(src, "media_type");
        data = airouter_dj_str(src, "data");
        title = airouter_dj_str(block, "title");

        if (mime == NULL || data == NULL) {
            airouter_derr_set(err, "invalid_request",
                              "messages: a base64 document needs media_type "
                              "and data");
            return NULL;
        }

        url = airouter_dj_data_url(mime, data);
        if (url == NULL) {
            airouter_derr_set(err, "out_of_memory", "out of memory");
            return NULL;
        }

        return json_pack("{s:s,s:{s:o,s:s}}", "type", "file", "file",
                         "file_data", url, "filename",
                         title ? title : "document.pdf");
    }

    if (type && strcmp(type, "text") == 0
        && json_is_string(json_object_get(src, "data")))
    {
        return json_pack("{s:s,s:O}", "type", "text", "text",
                         json_object_get(src, "data"));
    }

    if (type && strcmp(type, "content") == 0) {
        text = airouter_dj_join_text(json_object_get(src, "content"), "\n");
        if (text) {
            return json_pack("{s:s,s:o}", "type", "text", "text", text);
        }
    }

    airouter_derr_set(err, "unsupported_content",
                      "messages: document sources of type \"%.40s\" are not "
                      "supported here (use base64 or text)",
                      type ? type : "?");

    return NULL;
}


static int
airouter_anth_tool_result(json_t *block, json_t *msgs, json_t *images,
    airouter_derr_t *err)
{
    size_t           i;
    json_t          *id, *content, *b, *t, *img;
    const char      *type;
    airouter_dbuf_t  text;

    id = json_object_get(block, "tool_use_id");
    if (!json_is_string(id)) {
        return airouter_derr_set(err, "invalid_request",
                                 "messages: a tool_result needs "
                                 "tool_use_id");
    }

    content = json_object_get(block, "content");
    airouter_dbuf_init(&text);

    if (json_is_string(content)) {
        airouter_dbuf_add(&text, json_string_value(content),
                          json_string_length(content));

    } else if (json_is_array(content)) {
        json_array_foreach(content, i, b) {
            type = airouter_dj_str(b, "type");
            t = json_object_get(b, "text");

            if (type && strcmp(type, "text") == 0 && json_is_string(t)) {
                if (text.len) {
                    airouter_dbuf_str(&text, "\n");
                }

                airouter_dbuf_add(&text, json_string_value(t),
                                  json_string_length(t));

            } else if (type && strcmp(type, "image") == 0) {
                img = airouter_anth_image(b, err);
                if (img == NULL) {
                    airouter_dbuf_free(&text);
                    return -1;
                }

                json_array_append_new(images, img);

            } else {
                airouter_dbuf_free(&text);
                return airouter_derr_set(err, "unsupported_content",
                                         "messages: tool results hold text "
                                         "and images here");
            }
        }

    } else if (content && !json_is_null(content)) {
        return airouter_derr_set(err, "invalid_request",
                                 "messages: a tool_result's content must be "
                                 "a string or blocks");
    }

    t = json_pack("{s:s,s:O,s:s#}", "role", "tool", "tool_call_id", id,
                  "content", text.data ? text.data : "", text.len);
    airouter_dbuf_free(&text);

    if (t == NULL || text.failed || json_array_append_new(msgs, t) != 0) {
        return airouter_derr_set(err, "out_of_memory", "out of memory");
    }

    return 0;
}


static int
airouter_anth_assistant(json_t *content, json_t *msgs, airouter_derr_t *err)
{
    size_t           i;
    json_t          *msg, *calls, *block, *t, *input, *call;
    const char      *type, *id, *name;
    airouter_dbuf_t  text, args;

    if (json_is_string(content)) {
        json_array_append_new(msgs, json_pack("{s:s,s:O}", "role",
                                              "assistant", "content",
                                              content));
        return 0;
    }

    airouter_dbuf_init(&text);
    calls = json_array();

    json_array_foreach(content, i, block) {
        type = airouter_dj_str(block, "type");

        if (type == NULL) {
            airouter_derr_set(err, "invalid_request",
                              "messages: a content block without a type");
            goto failed;
        }

        if (strcmp(type, "text") == 0) {
            t = json_object_get(block, "text");
            if (!json_is_string(t)) {
                airouter_derr_set(err, "invalid_request",
                                  "messages: a text block without text");
                goto failed;
            }

            airouter_dbuf_add(&text, json_string_value(t),
                              json_string_length(t));

        } else if (strcmp(type, "tool_use") == 0) {
            id = airouter_dj_str(block, "id");
            name = airouter_dj_str(block, "name");
            input = json_object_get(block, "input");

            if (id == NULL || name == NULL) {
                airouter_derr_set(err, "invalid_request",
                                  "messages: a tool_use needs id and name");
                goto failed;
            }

            airouter_dbuf_init(&args);
            if (input) {
                airouter_dbuf_json(&args, input);
            }

            call = json_pack("{s:s,s:s,s:{s:s,s:s#}}", "id", id, "type",
                             "function", "function", "name", name,
                             "arguments", args.data ? args.data : "{}",
                             args.data ? args.len : 2);
            airouter_dbuf_free(&args);

            if (call == NULL || json_array_append_new(calls, call) != 0) {
                airouter_derr_set(err, "out_of_memory", "out of memory");
                goto failed;
            }

        } else if (strcmp(type, "thinking") == 0
                   || strcmp(type, "redacted_thinking") == 0)
        {
            /* chat upstreams take no reasoning back */
            continue;

        } else {
            airouter_derr_set(err, "unsupported_content",
                              "messages: content blocks of type \"%.40s\" "
                              "are not supported here", type);
            goto failed;
        }
    }

    if (text.len == 0 && json_array_size(calls) == 0) {
        airouter_dbuf_free(&text);
        json_decref(calls);
        return 0;
    }

    msg = json_pack("{s:s,s:o}", "role", "assistant", "content",
                    text.len ? json_stringn(text.data, text.len)
                             : json_null());
    if (msg && json_array_size(calls)) {
        json_object_set(msg, "tool_calls", calls);
    }

    airouter_dbuf_free(&text);
    json_decref(calls);

    if (msg == NULL || text.failed || json_array_append_new(msgs, msg) != 0) {
        return airouter_derr_set(err, "out_of_memory", "out of memory");
    }

    return 0;

failed:

    airouter_dbuf_free(&text);
    json_decref(calls);

    return -1;
}


static int
airouter_anth_tools(json_t *req, json_t *chat, airouter_derr_t *err)
{
    size_t       i;
    json_t      *tools, *tool, *out, *fn, *choice, *v;
    const char  *type, *name;

    tools = json_object_get(req, "tools");

    if (tools && !json_is_null(tools)) {
        if (!json_is_array(tools)) {
            return airouter_derr_set(err, "invalid_request",
                                     "tools: an array is required");
        }

        out = json_array();
        json_object_set_new(chat, "tools", out);

        json_array_foreach(tools, i, tool) {
            type = airouter_dj_str(tool, "type");

            if (type && strcmp(type, "custom") != 0) {
                return airouter_derr_set(err, "unsupported_tool",
                                         "tools: Anthropic's server tools "
                                         "(\"%.40s\") are not supported "
                                         "here", type);
            }

            name = airouter_dj_str(tool, "name");
            v = json_object_get(tool, "input_schema");

            if (name == NULL || !json_is_object(v)) {
                return airouter_derr_set(err, "invalid_request",
                                         "tools: each needs a name and an "
                                         "input_schema object");
            }

            fn = json_pack("{s:s,s:O}", "name", name, "parameters", v);
            if (fn == NULL) {
                return airouter_derr_set(err, "out_of_memory",
                                         "out of memory");
            }

            v = json_object_get(tool, "description");
            if (json_is_string(v)) {
                json_object_set(fn, "description", v);
            }

            v = json_object_get(tool, "strict");
            if (json_is_boolean(v)) {
                json_object_set(fn, "strict", v);
            }

            json_array_append_new(out, json_pack("{s:s,s:o}", "type",
                                                 "function", "function",
                                                 fn));
        }

        if (json_array_size(out) == 0) {
            json_object_del(chat, "tools");
        }
    }

    choice = json_object_get(req, "tool_choice");
    if (choice == NULL || json_is_null(choice)) {
        return 0;
    }

    type = airouter_dj_str(choice, "type");
    if (type == NULL) {
        return airouter_derr_set(err, "invalid_request",
                                 "tool_choice: an object with a type is "
                                 "required");
    }

    if (strcmp(type, "auto") == 0) {
        v = json_string("auto");

    } else if (strcmp(type, "any") == 0) {
        v = json_string("required");

    } else if (strcmp(type, "none") == 0) {
        v = json_string("none");

    } else if (strcmp(type, "tool") == 0) {
        name = airouter_dj_str(choice, "name");
        if (name == NULL) {
            return airouter_derr_set(err, "invalid_request",
                                     "tool_choice: type tool needs a name");
        }

        v = json_pack("{s:s,s:{s:s}}", "type", "function", "function",
                      "name", name);

    } else {
        return airouter_derr_set(err, "invalid_request",
                                 "tool_choice: unknown type \"%.40s\"",
                                 type);
    }

    json_object_set_new(chat, "tool_choice", v);

    if (json_is_true(json_object_get(choice, "disable_parallel_tool_use"))
        && json_object_get(chat, "tools"))
    {
        json_object_set_new(chat, "parallel_tool_calls", json_false());
    }

    return 0;
}


/* system: a string, or text blocks joined */
static json_t *
airouter_anth_system(json_t *v)
{
    return airouter_dj_join_text(v, "\n");
}


static const char *
airouter_anth_effort(long budget)
{
    if (budget <= AIROUTER_ANTH_BUDGET_LOW) {
        return "low";
    }

    return (budget <= AIROUTER_ANTH_BUDGET_MEDIUM) ? "medium" : "high";
}


/* events written as Messages */

static void
airouter_anth_answer(const airouter_danswer_t *a, const airouter_dctx_t *ctx,
    airouter_dbuf_t *out)
{
    size_t                    i;
    json_t                   *root, *content, *block, *input;
    airouter_dbuf_t           id;
    const airouter_dblock_t  *b;

    content = json_array();
    airouter_dbuf_init(&id);
    airouter_dbuf_str(&id, "msg_");
    airouter_dbuf_str(&id, ctx->id);

    for (i = 0; content && i < a->nblocks; i++) {
        b = &a->blocks[i];

        if (b->kind == AIROUTER_DBLOCK_TEXT) {
            block = json_pack("{s:s,s:s#}", "type", "text", "text",
                              b->data.data ? b->data.data : "", b->data.len);

        } else if (b->kind == AIROUTER_DBLOCK_REASONING) {
            block = json_pack("{s:s,s:s#,s:s}", "type", "thinking",
                              "thinking", b->data.data ? b->data.data : "",
                              b->data.len, "signature", "");

        } else {
            input = airouter_dj_args_object(b->data.data ? b->data.data : "",
                                            b->data.len);
            block = json_pack("{s:s,s:s,s:s,s:o}", "type", "tool_use",
                              "id", b->id ? b->id : "", "name",
                              b->name ? b->name : "", "input",
                              input ? input : json_object());
        }

        json_array_append_new(content, block);
    }

    root = json_pack("{s:s#,s:s,s:s,s:s,s:o,s:s,s:n,s:o}",
                     "id", id.data ? id.data : "msg_", id.len,
                     "type", "message", "role", "assistant",
                     "model", a->model ? a->model : "",
                     "content", content,
                     "stop_reason", airouter_anth_stop(a->finish),
                     "stop_sequence",
                     "usage", airouter_anth_usage_json(&a->usage,
                                                       a->has_usage));

    if (root == NULL || id.failed) {
        out->failed = 1;

    } else {
        airouter_dbuf_json(out, root);
    }

    json_decref(root);
    airouter_dbuf_free(&id);
}


/* Anthropic's usage: input_tokens leave the cache out */
static json_t *
airouter_anth_usage_json(const airouter_dusage_t *u, int has)
{
    long  prompt, read, write, input;

    if (!has) {
        return json_pack("{s:i,s:i}", "input_tokens", 0, "output_tokens", 0);
    }

    prompt = u->u.prompt_tokens > 0 ? u->u.prompt_tokens : 0;
    read = u->u.cached_tokens > 0 ? u->u.cached_tokens : 0;
    write = u->u.cache_write_tokens > 0 ? u->u.cache_write_tokens : 0;
    input = prompt - read - write;

    return json_pack("{s:I,s:I,s:I,s:I}",
                     "input_tokens", (json_int_t) (input > 0 ? input : 0),
                     "output_tokens",
                     (json_int_t) (u->u.completion_tokens > 0
                                   ? u->u.completion_tokens : 0),
                     "cache_creation_input_tokens", (json_int_t) write,
                     "cache_read_input_tokens", (json_int_t) read);
}


static const char *
airouter_anth_stop(airouter_finish_e f)
{
    switch (f) {
    case AIROUTER_FINISH_LENGTH:
        return "max_tokens";
    case AIROUTER_FINISH_TOOLS:
        return "tool_use";
    case AIROUTER_FINISH_FILTER:
        return "refusal";
    default:
        return "end_turn";
    }
}


static airouter_dsink_t *
airouter_anth_sink(const airouter_dctx_t *ctx)
{
    airouter_anth_sink_t  *s;

    s = calloc(1, sizeof(airouter_anth_sink_t));
    if (s == NULL) {
        return NULL;
    }

    s->sink.event = airouter_anth_sink_event;
    s->sink.destroy = airouter_anth_sink_destroy;
    s->sink.ctx = ctx;
    s->open = -1;
    airouter_dusage_init(&s->usage);

    return &s->sink;
}


static void
airouter_anth_sink_destroy(airouter_dsink_t *k)
{
    airouter_anth_sink_t  *s;

    s = (airouter_anth_sink_t *) k;

    json_decref(s->model);
    free(s->tools.map);
    free(s);
}


static void
airouter_anth_sink_event(airouter_dsink_t *k, const airouter_dev_t *ev)
{
    json_t                *data;
    airouter_dmap_t       *m;
    airouter_anth_sink_t  *s;

    s = (airouter_anth_sink_t *) k;

    if (s->ended) {
        return;
    }

    if (ev->kind == AIROUTER_DEV_ERROR) {
        s->ended = 1;
        airouter_anth_error(ev->status, ev->etype, NULL, ev->data, 1,
                            k->out);
        return;
    }

    airouter_anth_start(s, ev->kind == AIROUTER_DEV_START ? ev->name : "");

    switch (ev->kind) {
    case AIROUTER_DEV_TEXT:
        if (s->open != AIROUTER_DBLOCK_TEXT) {
            airouter_anth_open(s, AIROUTER_DBLOCK_TEXT,
                               json_pack("{s:s,s:s}", "type", "text", "text",
                                         ""));
        }

        data = json_pack("{s:s,s:I,s:{s:s,s:s#}}", "type",
                         "content_block_delta", "index",
                         (json_int_t) s->open_index, "delta", "type",
                         "text_delta", "text", ev->data, ev->len);
        airouter_anth_emit(s, "content_block_delta", data);
        break;

    case AIROUTER_DEV_REASONING:
        if (s->open != AIROUTER_DBLOCK_REASONING) {
            airouter_anth_open(s, AIROUTER_DBLOCK_REASONING,
                               json_pack("{s:s,s:s,s:s}", "type", "thinking",
                                         "thinking", "", "signature", ""));
        }

        data = json_pack("{s:s,s:I,s:{s:s,s:s#}}", "type",
                         "content_block_delta", "index",
                         (json_int_t) s->open_index, "delta", "type",
                         "thinking_delta", "thinking", ev->data, ev->len);
        airouter_anth_emit(s, "content_block_delta", data);
        break;

    case AIROUTER_DEV_TOOL:
        airouter_anth_open(s, AIROUTER_DBLOCK_TOOL,
                           json_pack("{s:s,s:s,s:s,s:{}}", "type",
                                     "tool_use", "id", ev->id, "name",
                                     ev->name, "input"));

        m = airouter_dparse_map(&s->tools, ev->index, 1);
        if (m == NULL) {
            k->out->failed = 1;
            break;
        }

        m->tool = s->open_index;
        break;

    case AIROUTER_DEV_ARGS:
        m = airouter_dparse_map(&s->tools, ev->index, 0);
        if (m == NULL) {
            break;
        }

        data = json_pack("{s:s,s:I,s:{s:s,s:s#}}", "type",
                         "content_block_delta", "index",
                         (json_int_t) m->tool, "delta", "type",
                         "input_json_delta", "partial_json", ev->data,
                         ev->len);
        airouter_anth_emit(s, "content_block_delta", data);
        break;

    case AIROUTER_DEV_FINISH:
        s->finish = ev->finish;
        break;

    case AIROUTER_DEV_USAGE:
        s->usage = *ev->usage;
        break;

    case AIROUTER_DEV_DONE:
        s->ended = 1;
        airouter_anth_close(s);

        data = json_pack("{s:s,s:{s:s,s:n},s:o}", "type", "message_delta",
                         "delta", "stop_reason",
                         airouter_anth_stop(s->finish), "stop_sequence",
                         "usage", airouter_anth_usage_json(&s->usage, 1));
        airouter_anth_emit(s, "message_delta", data);

        airouter_anth_emit(s, "message_stop",
                           json_pack("{s:s}", "type", "message_stop"));
        break;

    default:
        break;
    }
}


/* message_start and a ping, before anything else */
static void
airouter_anth_start(airouter_anth_sink_t *s, const char *model)
{
    json_t           *data;
    airouter_dbuf_t   id;

    if (s->started) {
        return;
    }

    s->started = 1;
    s->model = json_string(model);

    airouter_dbuf_init(&id);
    airouter_dbuf_str(&id, "msg_");
    airouter_dbuf_str(&id, s->sink.ctx->id);

    data = json_pack("{s:s,s:{s:s#,s:s,s:s,s:O,s:[],s:n,s:n,s:{s:i,s:i}}}",
                     "type", "message_start", "message",
                     "id", id.data ? id.data : "msg_", id.len,
                     "type", "message", "role", "assistant",
                     "model", s->model ? s->model : json_null(),
                     "content", "stop_reason", "stop_sequence",
                     "usage", "input_tokens", 0, "output_tokens", 0);
    airouter_dbuf_free(&id);

    airouter_anth_emit(s, "message_start", data);
    airouter_anth_emit(s, "ping", json_pack("{s:s}", "type", "ping"));
}


/* Closes the open block and opens one; block's reference is taken. */
static void
airouter_anth_open(airouter_anth_sink_t *s, int kind, json_t *block)
{
    json_t  *data;

    airouter_anth_close(s);

    s->open = kind;
    s->open_index = s->blocks++;

    data = json_pack("{s:s,s:I,s:o}", "type", "content_block_start",
                     "index", (json_int_t) s->open_index, "content_block",
                     block);
    airouter_anth_emit(s, "content_block_start", data);
}


static void
airouter_anth_close(airouter_anth_sink_t *s)
{
    json_t  *data;

    if (s->open < 0) {
        return;
    }

    data = json_pack("{s:s,s:I}", "type", "content_block_stop", "index",
                     (json_int_t) s->open_index);
    airouter_anth_emit(s, "content_block_stop", data);

    s->open = -1;
}


/* One event; data's reference is taken. */
static void
airouter_anth_emit(airouter_anth_sink_t *s, const char *name, json_t *data)
{
    if (data == NULL) {
        s->sink.out->failed = 1;
        return;
    }

    airouter_dsse_event(s->sink.out, name, data);
    json_decref(data);
}


static void
airouter_anth_error(int status, const char *type, const char *code,
    const char *message, int stream, airouter_dbuf_t *out)
{
    json_t  *err;

    (void) code;

    err = json_pack("{s:s,s:{s:s,s:s}}", "type", "error", "error", "type",
                    airouter_anth_error_type(status, type), "message",
                    message);
    if (err == NULL) {
        out->failed = 1;
        return;
    }

    if (stream) {
        airouter_dsse_event(out, "error", err);

    } else {
        airouter_dbuf_json(out, err);
    }

    json_decref(err);
}


/*
 * Anthropic's error type (the SDK's ErrorType): an upstream's own specific
 * type is kept (overloaded_error in a stream); otherwise the status says
 * it, as Anthropic's statuses do (the router's OpenAI types are too
 * coarse: a 404 is not an invalid request there).
 */
static const char *
airouter_anth_error_type(int status, const char *type)
{
    size_t              i;
    static const char  *known[] = {
        "authentication_error", "billing_error", "permission_error",
        "not_found_error", "rate_limit_error", "timeout_error", "api_error",
        "overloaded_error"
    };

    for (i = 0; type && i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(type, known[i]) == 0) {
            return known[i];
        }
    }

    switch (status) {
    case 401:
        return "authentication_error";
    case 402:
        return "billing_error";
    case 403:
        return "permission_error";
    case 404:
        return "not_found_error";
    case 408:
    case 504:
        return "timeout_error";
    case 429:
        return "rate_limit_error";
    case 503:
    case 529:
        return "overloaded_error";
    default:
        return (status >= 400 && status < 500) ? "invalid_request_error"
                                               : "api_error";
    }
}


static int
airouter_anth_usage(json_t *root, airouter_dusage_t *u)
{
    return airouter_anth_usage_object(json_object_get(root, "usage"), u);
}


static int
airouter_anth_usage_object(json_t *usage, airouter_dusage_t *u)
{
    long     input, output, read, write;
    json_t  *v;

    airouter_dusage_init(u);

    if (!json_is_object(usage)) {
        return 0;
    }

    v = json_object_get(usage, "input_tokens");
    input = json_is_integer(v) ? (long) json_integer_value(v) : -1;
    v = json_object_get(usage, "output_tokens");
    output = json_is_integer(v) ? (long) json_integer_value(v) : -1;
    v = json_object_get(usage, "cache_read_input_tokens");
    read = json_is_integer(v) ? (long) json_integer_value(v) : -1;
    v = json_object_get(usage, "cache_creation_input_tokens");
    write = json_is_integer(v) ? (long) json_integer_value(v) : -1;

    /* the scan's bound: 18 digits, so sums cannot overflow */
    if (input < -1 || input >= 1000000000000000000L
        || output < -1 || output >= 1000000000000000000L
        || read < -1 || read >= 1000000000000000000L
        || write < -1 || write >= 1000000000000000000L
        || (input < 0 && output < 0))
    {
        return 0;
    }

    if (input >= 0) {
        u->u.prompt_tokens = input + (read > 0 ? read : 0)
                             + (write > 0 ? write : 0);
    }

    u->u.completion_tokens = output;
    u->u.cached_tokens = read;
    u->u.cache_write_tokens = write;

    if (u->u.prompt_tokens >= 0 && output >= 0) {
        u->u.total_tokens = u->u.prompt_tokens + output;
    }

    v = json_object_get(json_object_get(usage, "output_tokens_details"),
                        "thinking_tokens");
    if (json_is_integer(v) && json_integer_value(v) >= 0
        && json_integer_value(v) < 1000000000000000000LL)
    {
        u->reasoning = (long) json_integer_value(v);
    }

    return 1;
}


/* chat requests to Messages (a native Anthropic channel) */

static int
airouter_anth_from_chat(json_t *chat, const airouter_dctx_t *ctx,
    json_t **req, airouter_derr_t *err)
{
    long         max, budget;
    size_t       i;
    json_t      *out, *msgs, *msg, *v, *system, *fmt;
    const char  *effort, *type;

    out = json_object();
    msgs = json_array();
    system = json_array();

    if (out == NULL || msgs == NULL || system == NULL) {
        json_decref(out);
        json_decref(msgs);
        json_decref(system);
        return airouter_derr_set(err, "out_of_memory", "out of memory");
    }

    v = json_object_get(chat, "model");
    if (v) {
        json_object_set(out, "model", v);
    }

    v = json_object_get(chat, "n");
    if (json_is_integer(v) && json_integer_value(v) > 1) {
        airouter_derr_set(err, "unsupported_parameter",
                          "n > 1 is not supported by Anthropic channels");
        goto failed;
    }

    v = json_object_get(chat, "messages");
    if (!json_is_array(v)) {
        airouter_derr_set(err, "invalid_request",
                          "messages: an array is required");
        goto failed;
    }

    json_array_foreach(v, i, msg) {
        if (airouter_anth_from_message(msg, msgs, system, err) != 0) {
            goto failed;
        }
    }

    if (json_array_size(system)) {
        v = airouter_dj_join_text(system, "\n");
        json_object_set_new(out, "system", v ? v : json_string(""));
    }

    json_object_set(out, "messages", msgs);

    v = json_object_get(chat, "max_completion_tokens");
    if (!json_is_integer(v)) {
        v = json_object_get(chat, "max_tokens");
    }

    max = (json_is_integer(v) && json_integer_value(v) > 0)
          ? (long) json_integer_value(v) : ctx->max_tokens;

    effort = airouter_dj_str(chat, "reasoning_effort");
    budget = 0;

    if (effort) {
        if (strcmp(effort, "low") == 0) {
            budget = AIROUTER_ANTH_BUDGET_LOW;

        } else if (strcmp(effort, "medium") == 0) {
            budget = AIROUTER_ANTH_BUDGET_MEDIUM;

        } else if (strcmp(effort, "high") == 0) {
            budget = AIROUTER_ANTH_BUDGET_HIGH;

        } else if (strcmp(effort, "xhigh") == 0
                   || strcmp(effort, "max") == 0)
        {
            budget = 2 * AIROUTER_ANTH_BUDGET_HIGH;
        }
    }

    if (budget) {
        /* the budget is part of max_tokens: the answer keeps its room */
        json_object_set_new(out, "thinking",
                            json_pack("{s:s,s:I}", "type", "enabled",
                                      "budget_tokens", (json_int_t) budget));
        max = (max < LONG_MAX - budget) ? max + budget : LONG_MAX;

    } else {
        /* thinking takes neither: Anthropic refuses them with it */
        v = json_object_get(chat, "temperature");
        if (json_is_number(v)) {
            json_object_set_new(out, "temperature",
                                json_real(json_number_value(v) > 1.0
                                          ? 1.0
                                          : json_number_value(v) < 0
                                            ? 0 : json_number_value(v)));
        }

        v = json_object_get(chat, "top_p");
        if (json_is_number(v)) {
            json_object_set(out, "top_p", v);
        }
    }

    json_object_set_new(out, "max_tokens", json_integer(max));

    v = json_object_get(chat, "stop");
    if (json_is_string(v)) {
        json_object_set_new(out, "stop_sequences", json_pack("[O]", v));

    } else if (json_is_array(v) && json_array_size(v)) {
        json_array_foreach(v, i, msg) {
            if (!json_is_string(msg)) {
                airouter_derr_set(err, "invalid_request",
                                  "stop: a string or strings expected");
                goto failed;
            }
        }

        json_object_set(out, "stop_sequences", v);
    }

    if (airouter_anth_from_tools(chat, out, err) != 0) {
        goto failed;
    }

    fmt = json_object_get(chat, "response_format");
    type = airouter_dj_str(fmt, "type");
    if (type && strcmp(type, "json_schema") == 0) {
        v = json_object_get(json_object_get(fmt, "json_schema"), "schema");
        if (json_is_object(v)) {
            json_object_set_new(out, "output_config",
                                json_pack("{s:{s:s,s:O}}", "format", "type",
                                          "json_schema", "schema", v));
        }
    }

    v = json_object_get(chat, "user");
    if (json_is_string(v)) {
        json_object_set_new(out, "metadata",
                            json_pack("{s:O}", "user_id", v));
    }

    if (json_is_true(json_object_get(chat, "stream"))) {
        json_object_set_new(out, "stream", json_true());
    }

    json_decref(msgs);
    json_decref(system);
    *req = out;

    return 0;

failed:

    json_decref(out);
    json_decref(msgs);
    json_decref(system);

    return -1;
}


static int
airouter_anth_from_message(json_t *msg, json_t *out, json_t *system,
    airouter_derr_t *err)
{
    size_t       i;
    json_t      *blocks, *content, *v, *call, *input, *id;
    const char  *role, *name, *args;

    role = airouter_dj_str(msg, "role");
    content = json_object_get(msg, "content");

    if (role == NULL) {
        return airouter_derr_set(err, "invalid_request",
                                 "messages: each needs a role");
    }

    if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0) {
        v = airouter_dj_join_text(content, "\n");
        if (v == NULL) {
            return airouter_derr_set(err, "invalid_request",
                                     "messages: a %s message holds text "
                                     "only", role);
        }

        json_array_append_new(system, json_pack("{s:o}", "text", v));
        return 0;
    }

    blocks = json_array();
    if (blocks == NULL) {
        return airouter_derr_set(err, "out_of_memory", "out of memory");
    }

    if (strcmp(role, "user") == 0) {
        if (airouter_anth_from_parts(content, blocks, err) != 0) {
            goto failed;
        }

        return airouter_anth_append(out, "user", blocks);
    }

    if (strcmp(role, "assistant") == 0) {
        if (content && !json_is_null(content)
            && airouter_anth_from_parts(content, blocks, err) != 0)
        {
            goto failed;
        }

        v = json_object_get(msg, "tool_calls");

        json_array_foreach(v, i, call) {
            id = json_object_get(call, "id");
            name = airouter_dj_str(json_object_get(call, "function"),
                                   "name");
            args = airouter_dj_str(json_object_get(call, "function"),
                                   "arguments");

            if (!json_is_string(id) || name == NULL) {
                airouter_derr_set(err, "invalid_request",
                                  "messages: a tool call needs an id and a "
                                  "function name");
                goto failed;
            }

            input = airouter_dj_args_object(args ? args : "",
                                            args ? strlen(args) : 0);
            if (input == NULL) {
                airouter_derr_set(err, "invalid_request",
                                  "messages: the arguments of tool call "
                                  "\"%.40s\" are not a JSON object",
                                  json_string_value(id));
                goto failed;
            }

            json_array_append_new(blocks,
                                  json_pack("{s:s,s:O,s:s,s:o}", "type",
                                            "tool_use", "id", id, "name",
                                            name, "input", input));
        }

        return airouter_anth_append(out, "assistant", blocks);
    }

    if (strcmp(role, "tool") == 0) {
        id = json_object_get(msg, "tool_call_id");
        if (!json_is_string(id)) {
            airouter_derr_set(err, "invalid_request",
                              "messages: a tool message needs "
                              "tool_call_id");
            goto failed;
        }

        v = airouter_dj_join_text(content, "\n");
        if (v == NULL) {
            airouter_derr_set(err, "invalid_request",
                              "messages: a tool message holds text only");
            goto failed;
        }

        json_array_append_new(blocks, json_pack("{s:s,s:O,s:o}", "type",
                                                "tool_result", "tool_use_id",
                                                id, "content", v));

        return airouter_anth_append(out, "user", blocks);
    }

    airouter_derr_set(err, "unsupported_parameter",
                      "messages: role \"%.40s\" is not supported by "
                      "Anthropic channels", role);

failed:

    json_decref(blocks);

    return -1;
}


/* chat content (a string or parts) to Messages blocks */
static int
airouter_anth_from_parts(json_t *content, json_t *blocks,
    airouter_derr_t *err)
{
    size_t       i, mlen;
    json_t      *part, *t, *b;
    const char  *type, *url, *mime, *data, *name;
    char         media[64];

    if (json_is_string(content)) {
        if (json_string_length(content)) {
            json_array_append_new(blocks, json_pack("{s:s,s:O}", "type",
                                                    "text", "text",
                                                    content));
        }

        return 0;
    }

    if (!json_is_array(content)) {
        return airouter_derr_set(err, "invalid_request",
                                 "messages: content must be a string or "
                                 "an array of parts");
    }

    json_array_foreach(content, i, part) {
        type = airouter_dj_str(part, "type");
        b = NULL;

        if (type && strcmp(type, "text") == 0) {
            t = json_object_get(part, "text");
            if (!json_is_string(t)) {
                return airouter_derr_set(err, "invalid_request",
                                         "messages: a text part without "
                                         "text");
            }

            if (json_string_length(t) == 0) {
                continue;
            }

            b = json_pack("{s:s,s:O}", "type", "text", "text", t);

        } else if (type && strcmp(type, "refusal") == 0) {
            t = json_object_get(part, "refusal");
            if (!json_is_string(t) || json_string_length(t) == 0) {
                continue;
            }

            b = json_pack("{s:s,s:O}", "type", "text", "text", t);

        } else if (type && strcmp(type, "image_url") == 0) {
            url = airouter_dj_str(json_object_get(part, "image_url"), "url");
            if (url == NULL) {
                return airouter_derr_set(err, "invalid_request",
                                         "messages: an image_url part "
                                         "without url");
            }

            if (airouter_dj_parse_data_url(url, &mime, &mlen, &data)) {
                if (mlen >= sizeof(media)) {
                    return airouter_derr_set(err, "invalid_request",
                                             "messages: a data URL's media "
                                             "type is too long");
                }

                memcpy(media, mime, mlen);
                media[mlen] = '\0';

                b = json_pack("{s:s,s:{s:s,s:s,s:s}}", "type", "image",
                              "source", "type", "base64", "media_type",
                              media, "data", data);

            } else {
                b = json_pack("{s:s,s:{s:s,s:s}}", "type", "image",
                              "source", "type", "url", "url", url);
            }

        } else if (type && strcmp(type, "file") == 0) {
            t = json_object_get(part, "file");
            url = airouter_dj_str(t, "file_data");
            name = airouter_dj_str(t, "filename");

            if (url == NULL
                || !airouter_dj_parse_data_url(url, &mime, &mlen, &data)
                || mlen >= sizeof(media))
            {
                return airouter_derr_set(err, "unsupported_content",
                                         "messages: file parts need "
                                         "file_data as a data URL here");
            }

            memcpy(media, mime, mlen);
            media[mlen] = '\0';

            b = json_pack("{s:s,s:{s:s,s:s,s:s}}", "type", "document",
                          "source", "type", "base64", "media_type", media,
                          "data", data);
            if (b && name) {
                json_object_set_new(b, "title", json_string(name));
            }

        } else {
            return airouter_derr_set(err, "unsupported_content",
                                     "messages: content parts of type "
                                     "\"%.40s\" are not supported by "
                                     "Anthropic channels",
                                     type ? type : "?");
        }

        if (b == NULL || json_array_append_new(blocks, b) != 0) {
            return airouter_derr_set(err, "out_of_memory", "out of memory");
        }
    }

    return 0;
}


/* Appends blocks (reference taken) as a turn, merged into the last turn
 * when it has the same role: tool results and the user's next words go
 * together, as Messages wants. */
static int
airouter_anth_append(json_t *out, const char *role, json_t *blocks)
{
    json_t      *last;
    const char  *r;

    if (json_array_size(blocks) == 0) {
        json_decref(blocks);
        return 0;
    }

    last = json_array_get(out, json_array_size(out) - 1);
    r = airouter_dj_str(last, "role");

    if (r && strcmp(r, role) == 0) {
        json_array_extend(json_object_get(last, "content"), blocks);
        json_decref(blocks);
        return 0;
    }

    return json_array_append_new(out, json_pack("{s:s,s:o}", "role", role,
                                                 "content", blocks));
}


static int
airouter_anth_from_tools(json_t *chat, json_t *req, airouter_derr_t *err)
{
    size_t       i;
    json_t      *tools, *tool, *fn, *out, *t, *v, *choice;
    const char  *type, *name;

    tools = json_object_get(chat, "tools");

    if (json_is_array(tools) && json_array_size(tools)) {
        out = json_array();
        json_object_set_new(req, "tools", out);

        json_array_foreach(tools, i, tool) {
            type = airouter_dj_str(tool, "type");
            fn = json_object_get(tool, "function");
            name = airouter_dj_str(fn, "name");

            if (type == NULL || strcmp(type, "function") != 0
                || name == NULL)
            {
                return airouter_derr_set(err, "unsupported_tool",
                                         "tools: Anthropic channels take "
                                         "function tools with a name");
            }

            v = json_object_get(fn, "parameters");
            t = json_pack("{s:s,s:o}", "name", name, "input_schema",
                          json_is_object(v)
                          ? json_incref(v)
                          : json_pack("{s:s,s:{}}", "type", "object",
                                      "properties"));
            if (t == NULL) {
                return airouter_derr_set(err, "out_of_memory",
                                         "out of memory");
            }

            v = json_object_get(fn, "description");
            if (json_is_string(v)) {
                json_object_set(t, "description", v);
            }

            json_array_append_new(out, t);
        }
    }

    v = json_object_get(chat, "tool_choice");
    choice = NULL;

    if (json_is_string(v)) {
        if (strcmp(json_string_value(v), "none") == 0) {
            choice = json_pack("{s:s}", "type", "none");

        } else if (strcmp(json_string_value(v), "required") == 0) {
            choice = json_pack("{s:s}", "type", "any");

        } else {
            choice = json_pack("{s:s}", "type", "auto");
        }

    } else if (json_is_object(v)) {
        name = airouter_dj_str(json_object_get(v, "function"), "name");
        if (name == NULL) {
            return airouter_derr_set(err, "unsupported_parameter",
                                     "tool_choice: Anthropic channels take "
                                     "none, auto, required or a function");
        }

        choice = json_pack("{s:s,s:s}", "type", "tool", "name", name);
    }

    if (json_is_false(json_object_get(chat, "parallel_tool_calls"))
        && json_object_get(req, "tools"))
    {
        if (choice == NULL) {
            choice = json_pack("{s:s}", "type", "auto");
        }

        if (strcmp(airouter_dj_str(choice, "type"), "none") != 0) {
            json_object_set_new(choice, "disable_parallel_tool_use",
                                json_true());
        }
    }

    if (choice) {
        json_object_set_new(req, "tool_choice", choice);
    }

    return 0;
}


/* Messages answers, events and errors read */

static int
airouter_anth_parse_answer(json_t *root, const airouter_dctx_t *ctx,
    airouter_dsink_t *k)
{
    size_t             i;
    json_t            *content, *block;
    airouter_dusage_t  u;
    airouter_dparse_t  ps;

    (void) ctx;

    content = json_object_get(root, "content");

    if (!json_is_object(root) || !json_is_array(content)) {
        return -1;
    }

    memset(&ps, 0, sizeof(airouter_dparse_t));

    airouter_dev_start(&ps, k, airouter_dj_str(root, "id"),
                       airouter_dj_str(root, "model"));

    json_array_foreach(content, i, block) {
        airouter_anth_parse_block(&ps, (long) i, block, k);
    }

    airouter_dev_finish(&ps, k, airouter_anth_finish(
                                    airouter_dj_str(root, "stop_reason")));

    if (airouter_anth_usage(root, &u)) {
        airouter_dev_usage(k, &u);
    }

    airouter_dev_done(&ps, k);
    free(ps.map);

    return 0;
}


/* A content block, whole or as content_block_start announces it. */
static void
airouter_anth_parse_block(airouter_dparse_t *ps, long index, json_t *block,
    airouter_dsink_t *k)
{
    json_t           *t;
    const char       *type;
    airouter_dmap_t  *m;

    type = airouter_dj_str(block, "type");
    if (type == NULL) {
        return;
    }

    m = airouter_dparse_map(ps, index, 1);
    if (m == NULL) {
        airouter_dev_error(ps, k, 500, NULL, "out of memory");
        return;
    }

    if (strcmp(type, "text") == 0) {
        m->kind = AIROUTER_DBLOCK_TEXT;
        t = json_object_get(block, "text");

        if (json_is_string(t)) {
            airouter_dev_text(k, AIROUTER_DEV_TEXT, json_string_value(t),
                              json_string_length(t));
        }

    } else if (strcmp(type, "thinking") == 0) {
        m->kind = AIROUTER_DBLOCK_REASONING;
        t = json_object_get(block, "thinking");

        if (json_is_string(t)) {
            airouter_dev_text(k, AIROUTER_DEV_REASONING,
                              json_string_value(t), json_string_length(t));
        }

    } else if (strcmp(type, "tool_use") == 0) {
        m->kind = AIROUTER_DBLOCK_TOOL;
        m->tool = ps->ntools++;

        airouter_dev_tool(k, m->tool, airouter_dj_str(block, "id"),
                          airouter_dj_str(block, "name"));
        airouter_anth_input(k, m->tool, json_object_get(block, "input"));

    } else {
        /* redacted thinking, server tools: nothing chat can show */
        m->kind = -1;
    }
}


/* A tool_use's input as arguments text (an empty object says nothing:
 * a stream's input comes as deltas) */
static void
airouter_anth_input(airouter_dsink_t *k, long tool, json_t *input)
{
    airouter_dbuf_t  b;

    if (!json_is_object(input) || json_object_size(input) == 0) {
        return;
    }

    airouter_dbuf_init(&b);
    airouter_dbuf_json(&b, input);

    if (!b.failed) {
        airouter_dev_args(k, tool, b.data, b.len);
    }

    airouter_dbuf_free(&b);
}


static void
airouter_anth_parse_event(airouter_dparse_t *ps, const char *event,
    size_t elen, const char *p, size_t n, const airouter_dctx_t *ctx,
    airouter_dsink_t *k)
{
    json_t             *root, *msg, *delta, *t, *usage, *v;
    const char         *type, *dtype, *etype;
    airouter_dmap_t    *m;
    airouter_dusage_t   u;

    (void) ctx;

    root = json_loadb(p, n, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return;
    }

    type = airouter_dj_str(root, "type");
    if (type == NULL) {
        /* the event's name says it when the data does not */
        if (elen == 0) {
            json_decref(root);
            return;
        }

        json_object_set_new(root, "type", json_stringn(event, elen));
        type = airouter_dj_str(root, "type");

        if (type == NULL) {
            /* the name is not UTF-8 */
            json_decref(root);
            return;
        }
    }

    if (strcmp(type, "message_start") == 0) {
        msg = json_object_get(root, "message");
        airouter_dev_start(ps, k, airouter_dj_str(msg, "id"),
                           airouter_dj_str(msg, "model"));

        if (airouter_anth_usage(msg, &ps->usage)) {
            ps->has_usage = 1;
            airouter_dev_usage(k, &ps->usage);
        }

    } else if (strcmp(type, "content_block_start") == 0) {
        airouter_dev_start(ps, k, NULL, NULL);
        v = json_object_get(root, "index");
        airouter_anth_parse_block(ps, json_is_integer(v)
                                      ? (long) json_integer_value(v) : -1,
                                  json_object_get(root, "content_block"), k);

    } else if (strcmp(type, "content_block_delta") == 0) {
        v = json_object_get(root, "index");
        m = airouter_dparse_map(ps, json_is_integer(v)
                                    ? (long) json_integer_value(v) : -1, 0);
        delta = json_object_get(root, "delta");
        dtype = airouter_dj_str(delta, "type");

        if (m && dtype) {
            if (strcmp(dtype, "text_delta") == 0
                && m->kind == AIROUTER_DBLOCK_TEXT)
            {
                t = json_object_get(delta, "text");
                if (json_is_string(t)) {
                    airouter_dev_text(k, AIROUTER_DEV_TEXT,
                                      json_string_value(t),
                                      json_string_length(t));
                }

            } else if (strcmp(dtype, "thinking_delta") == 0
                       && m->kind == AIROUTER_DBLOCK_REASONING)
            {
                t = json_object_get(delta, "thinking");
                if (json_is_string(t)) {
                    airouter_dev_text(k, AIROUTER_DEV_REASONING,
                                      json_string_value(t),
                                      json_string_length(t));
                }

            } else if (strcmp(dtype, "input_json_delta") == 0
                       && m->kind == AIROUTER_DBLOCK_TOOL)
            {
                t = json_object_get(delta, "partial_json");
                if (json_is_string(t)) {
                    airouter_dev_args(k, m->tool, json_string_value(t),
                                      json_string_length(t));
                }
            }
        }

    } else if (strcmp(type, "message_delta") == 0) {
        delta = json_object_get(root, "delta");

        if (airouter_dj_str(delta, "stop_reason")) {
            airouter_dev_finish(ps, k, airouter_anth_finish(
                                      airouter_dj_str(delta,
                                                      "stop_reason")));
        }

        /* message_delta's counts are the whole message's; input and cache
         * counts only when they changed */
        usage = json_object_get(root, "usage");
        if (json_is_object(usage)) {
            if (!ps->has_usage) {
                airouter_dusage_init(&ps->usage);
                ps->usage.u.prompt_tokens = 0;
            }

            if (airouter_anth_usage_object(usage, &u)) {
                if (u.u.prompt_tokens >= 0) {
                    ps->usage.u.prompt_tokens = u.u.prompt_tokens;
                    ps->usage.u.cached_tokens = u.u.cached_tokens;
                    ps->usage.u.cache_write_tokens = u.u.cache_write_tokens;
                }

                if (u.u.completion_tokens >= 0) {
                    ps->usage.u.completion_tokens = u.u.completion_tokens;
                }

                if (u.reasoning >= 0) {
                    ps->usage.reasoning = u.reasoning;
                }

                if (ps->usage.u.prompt_tokens >= 0
                    && ps->usage.u.completion_tokens >= 0)
                {
                    ps->usage.u.total_tokens = ps->usage.u.prompt_tokens
                                               + ps->usage.u.completion_tokens;
                }

                ps->has_usage = 1;
                airouter_dev_usage(k, &ps->usage);
            }
        }

    } else if (strcmp(type, "message_stop") == 0) {
        airouter_dev_start(ps, k, NULL, NULL);
        airouter_dev_finish(ps, k, AIROUTER_FINISH_STOP);
        airouter_dev_done(ps, k);

    } else if (strcmp(type, "error") == 0) {
        etype = airouter_dj_str(json_object_get(root, "error"), "type");
        airouter_dev_error(ps, k, etype && strcmp(etype, "overloaded_error")
                                           == 0 ? 529 : 502,
                           etype,
                           airouter_dj_str(json_object_get(root, "error"),
                                           "message"));
    }

    /* ping and events yet unknown: nothing */

    json_decref(root);
}


static airouter_finish_e
airouter_anth_finish(const char *stop)
{
    if (stop == NULL) {
        return AIROUTER_FINISH_STOP;
    }

    if (strcmp(stop, "max_tokens") == 0
        || strcmp(stop, "model_context_window_exceeded") == 0)
    {
        return AIROUTER_FINISH_LENGTH;
    }

    if (strcmp(stop, "tool_use") == 0) {
        return AIROUTER_FINISH_TOOLS;
    }

    if (strcmp(stop, "refusal") == 0) {
        return AIROUTER_FINISH_FILTER;
    }

    return AIROUTER_FINISH_STOP;
}


static int
airouter_anth_parse_error(json_t *root, const char **type, const char **code,
    const char **message)
{
    json_t  *err;

    err = json_object_get(root, "error");

    if (!json_is_object(err)) {
        return -1;
    }

    *type = airouter_dj_str(err, "type");
    *code = NULL;
    *message = airouter_dj_str(err, "message");

    return *message ? 0 : -1;
}
