/*
 * Gemini generateContent as a client dialect (airouter_dialect_impl.h):
 * POST /v1beta/models/{model}:generateContent and :streamGenerateContent
 * requests to chat (contents/parts, systemInstruction, generationConfig,
 * tools' functionDeclarations, toolConfig), chat answers written back as
 * GenerateContentResponse objects (one per SSE event when streaming, with
 * alt=sse), errors as Google's {"error":{"code","message","status"}}.
 *
 * The model is in the URL, not the body: the caller puts it in the
 * request as "model" and sets ctx->stream for :streamGenerateContent
 * before translating.  Google's JSON takes lowerCamelCase and snake_case
 * field names alike (its docs' curl examples use both), so both are read.
 * Names follow @google/genai's types (Content, Part, GenerationConfig,
 * FunctionDeclaration, GenerateContentResponseUsageMetadata).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "airouter_dialect_impl.h"


typedef struct {
    airouter_dsink_t          sink;     /* first */
    airouter_danswer_t        a;        /* tool calls, sent whole at the
                                           end: Gemini has no partial
                                           function calls */
    json_t                   *model;
    unsigned                  ended:1;
} airouter_gem_sink_t;


/* a function call waiting for its response, paired by name */
typedef struct {
    json_t                   *calls;    /* [[name, id], ...] */
    long                      next;
} airouter_gem_pairs_t;


static int airouter_gem_to_chat(json_t *req, airouter_dctx_t *ctx,
    json_t **chat, airouter_derr_t *err);
static int airouter_gem_content(json_t *content, json_t *msgs,
    airouter_gem_pairs_t *pairs, airouter_derr_t *err);
static json_t *airouter_gem_part(json_t *part, airouter_derr_t *err);
static int airouter_gem_config(json_t *gc, json_t *chat,
    airouter_dctx_t *ctx, airouter_derr_t *err);
static int airouter_gem_tools(json_t *req, json_t *chat,
    airouter_derr_t *err);
static json_t *airouter_gem_schema(json_t *schema);
static const char *airouter_gem_effort(json_t *tc);

static void airouter_gem_answer(const airouter_danswer_t *a,
    const airouter_dctx_t *ctx, airouter_dbuf_t *out);
static json_t *airouter_gem_response(json_t *parts, const char *finish,
    const airouter_dusage_t *u, const char *model,
    const airouter_dctx_t *ctx);
static int airouter_gem_call_parts(const airouter_danswer_t *a,
    json_t *parts);
static const char *airouter_gem_finish(airouter_finish_e f);
static json_t *airouter_gem_usage_json(const airouter_dusage_t *u);
static airouter_dsink_t *airouter_gem_sink(const airouter_dctx_t *ctx);
static void airouter_gem_sink_event(airouter_dsink_t *k,
    const airouter_dev_t *ev);
static void airouter_gem_sink_destroy(airouter_dsink_t *k);
static void airouter_gem_emit(airouter_gem_sink_t *s, json_t *parts,
    const char *finish, const airouter_dusage_t *u);
static void airouter_gem_error(int status, const char *type,
    const char *code, const char *message, int stream, airouter_dbuf_t *out);
static const char *airouter_gem_status(int status);
static int airouter_gem_usage(json_t *root, airouter_dusage_t *u);
static int airouter_gem_embed_request(json_t *req, json_t **out,
    airouter_derr_t *err, int batch);
static int airouter_gem_embed_one(json_t *r, const char *model,
    json_t *input, json_t **dims, airouter_derr_t *err, const char *where);
static int airouter_gem_embed_answer(json_t *root,
    const airouter_dctx_t *ctx, airouter_dbuf_t *out);
static int airouter_gem_embed_values(json_t *vec, airouter_dbuf_t *out);


const airouter_dialect_ops_t  airouter_dialect_gemini = {
    "gemini",
    "\"x-goog-api-key: <key>\", as the query parameter key=<key>, or as "
    "\"Authorization: Bearer <key>\"",
    airouter_gem_to_chat,
    airouter_gem_answer,
    airouter_gem_sink,
    airouter_gem_error,
    airouter_gem_usage,
    NULL,
    NULL,
    NULL,
    NULL,
    airouter_gem_embed_answer
};


/* generateContent requests to chat */

static int
airouter_gem_to_chat(json_t *req, airouter_dctx_t *ctx, json_t **chat,
    airouter_derr_t *err)
{
    size_t                i;
    json_t               *out, *msgs, *v, *content, *sys;
    airouter_gem_pairs_t  pairs;

    if (ctx->embed) {
        return airouter_gem_embed_request(req, chat, err, ctx->batch);
    }

    out = json_object();
    msgs = json_array();
    pairs.calls = json_array();
    pairs.next = 0;

    if (out == NULL || msgs == NULL || pairs.calls == NULL) {
        json_decref(out);
        json_decref(msgs);
        json_decref(pairs.calls);
        return airouter_derr_set(err, "out_of_memory", "out of memory");
    }

    json_object_set_new(out, "messages", msgs);

    v = json_object_get(req, "model");
    if (v) {
        json_object_set(out, "model", v);
    }

    sys = airouter_dj_get2(req, "systemInstruction", "system_instruction");
    if (sys && !json_is_null(sys)) {
        v = json_is_string(sys)
            ? json_incref(sys)
            : airouter_dj_join_text(json_object_get(sys, "parts"), "\n");
        if (v == NULL) {
            airouter_derr_set(err, "invalid_request",
                              "systemInstruction: text parts expected");
            goto failed;
        }

        json_array_append_new(msgs, json_pack("{s:s,s:o}", "role", "system",
                                              "content", v));
    }

    v = json_object_get(req, "contents");
    if (json_is_object(v) || json_is_string(v)) {
        /* a single Content, or a bare text */
        v = json_is_string(v) ? json_pack("[{s:s,s:[{s:O}]}]", "role",
                                          "user", "parts", "text", v)
                              : json_pack("[O]", v);
        json_object_set_new(out, "contents", v);
    }

    if (!json_is_array(v) || json_array_size(v) == 0) {
        airouter_derr_set(err, "invalid_request",
                          "contents: a non-empty array is required");
        goto failed;
    }

    json_array_foreach(v, i, content) {
        if (airouter_gem_content(content, msgs, &pairs, err) != 0) {
            goto failed;
        }
    }

    json_object_del(out, "contents");

    if (airouter_gem_config(airouter_dj_get2(req, "generationConfig",
                                             "generation_config"),
                            out, ctx, err) != 0
        || airouter_gem_tools(req, out, err) != 0)
    {
        goto failed;
    }

    if (ctx->stream) {
        json_object_set_new(out, "stream", json_true());
    }

    json_decref(pairs.calls);
    *chat = out;

    return 0;

failed:

    json_decref(pairs.calls);
    json_decref(out);

    return -1;
}


/*
 * One Content.  A model turn's functionCall parts become tool calls (with
 * the call's id, or one made up and remembered by name); a user turn's
 * functionResponse parts become tool messages, paired with the oldest
 * unanswered call of that name when they carry no id.
 */
static int
airouter_gem_content(json_t *content, json_t *msgs,
    airouter_gem_pairs_t *pairs, airouter_derr_t *err)
{
    int          model;
    char         gen[40];
    size_t       i, j;
    json_t      *parts, *part, *out, *calls, *fc, *fr, *p, *args, *pair;
    const char  *role, *id, *name;
    airouter_dbuf_t  text, b;

    role = airouter_dj_str(content, "role");
    parts = json_object_get(content, "parts");

    if (!json_is_array(parts)) {
        return airouter_derr_set(err, "invalid_request",
                                 "contents: each needs parts");
    }

    model = role && strcmp(role, "model") == 0;

    if (role && !model && strcmp(role, "user") != 0
        && strcmp(role, "function") != 0)
    {
        return airouter_derr_set(err, "invalid_request",
                                 "contents: unknown role \"%.40s\"", role);
    }

    out = json_array();
    calls = json_array();
    airouter_dbuf_init(&text);

    json_array_foreach(parts, i, part) {
        fc = airouter_dj_get2(part, "functionCall", "function_call");
        fr = airouter_dj_get2(part, "functionResponse",
                              "function_response");

        if (json_is_true(json_object_get(part, "thought"))) {
            /* the model's thoughts: chat upstreams take none back */
            continue;
        }

        if (fc) {
            name = airouter_dj_str(fc, "name");
            id = airouter_dj_str(fc, "id");

            if (!model || name == NULL) {
                airouter_derr_set(err, "invalid_request",
                                  "contents: a functionCall needs a name, "
                                  "in a model turn");
                goto failed;
            }

            if (id == NULL) {
                snprintf(gen, sizeof(gen), "call_%ld", pairs->next++);
                id = gen;
            }

            json_array_append_new(pairs->calls, json_pack("[s,s]", name, id));

            airouter_dbuf_init(&b);
            args = json_object_get(fc, "args");
            if (json_is_object(args)) {
                airouter_dbuf_json(&b, args);
            } else {
                airouter_dbuf_str(&b, "{}");
            }

            p = json_pack("{s:s,s:s,s:{s:s,s:s#}}", "id", id, "type",
                          "function", "function", "name", name,
                          "arguments", b.data ? b.data : "{}",
                          b.data ? b.len : 2);
            airouter_dbuf_free(&b);
            json_array_append_new(calls, p);
            continue;
        }

        if (fr) {
            name = airouter_dj_str(fr, "name");
            id = airouter_dj_str(fr, "id");

            if (model || name == NULL) {
                airouter_derr_set(err, "invalid_request",
                                  "contents: a functionResponse needs a "
                                  "name, in a user turn");
                goto failed;
            }

            if (id == NULL) {
                json_array_foreach(pairs->calls, j, pair) {
                    if (strcmp(json_string_value(json_array_get(pair, 0)),
                               name) == 0)
                    {
                        break;
                    }
                }

                if (j < json_array_size(pairs->calls)) {
                    snprintf(gen, sizeof(gen), "%s",
                             json_string_value(json_array_get(
                                 json_array_get(pairs->calls, j), 1)));
                    json_array_remove(pairs->calls, j);

                } else {
                    snprintf(gen, sizeof(gen), "call_%ld", pairs->next++);
                }

                id = gen;

            } else {
                json_array_foreach(pairs->calls, j, pair) {
                    if (strcmp(json_string_value(json_array_get(pair, 1)),
                               id) == 0)
                    {
                        json_array_remove(pairs->calls, j);
                        break;
                    }
                }
            }

            airouter_dbuf_init(&b);
            p = json_object_get(fr, "response");
            if (json_is_object(p)) {
                airouter_dbuf_json(&b, p);
            } else {
                airouter_dbuf_str(&b, "{}");
            }

            p = json_pack("{s:s,s:s,s:s#}", "role", "tool", "tool_call_id",
                          id, "content", b.data ? b.data : "{}",
                          b.data ? b.len : 2);
            airouter_dbuf_free(&b);
            json_array_append_new(msgs, p);
            continue;
        }

        if (model) {
            p = json_object_get(part, "text");
            if (!json_is_string(p)) {
                airouter_derr_set(err, "unsupported_content",
                                  "contents: a model turn holds text and "
                                  "function calls here");
                goto failed;
            }

            airouter_dbuf_add(&text, json_string_value(p),
                              json_string_length(p));
            continue;
        }

        p = airouter_gem_part(part, err);
        if (p == NULL) {
            goto failed;
        }

        json_array_append_new(out, p);
    }

    if (model) {
        if (text.len || json_array_size(calls)) {
            p = json_pack("{s:s,s:o}", "role", "assistant", "content",
                          text.len ? json_stringn(text.data, text.len)
                                   : json_null());
            if (p && json_array_size(calls)) {
                json_object_set(p, "tool_calls", calls);
            }

            json_array_append_new(msgs, p);
        }

    } else if (json_array_size(out) == 1
               && strcmp(airouter_dj_str(json_array_get(out, 0), "type"),
                         "text") == 0)
    {
        json_array_append_new(msgs, json_pack("{s:s,s:O}", "role", "user",
                                  "content",
                                  json_object_get(json_array_get(out, 0),
                                                  "text")));

    } else if (json_array_size(out)) {
        json_array_append_new(msgs, json_pack("{s:s,s:O}", "role", "user",
                                              "content", out));
    }

    json_decref(out);
    json_decref(calls);
    airouter_dbuf_free(&text);

    return 0;

failed:

    json_decref(out);
    json_decref(calls);
    airouter_dbuf_free(&text);

    return -1;
}


/* A user part: text, inline data (images, PDF) or file data (a URI). */
static json_t *
airouter_gem_part(json_t *part, airouter_derr_t *err)
{
    json_t      *v, *url;
    const char  *mime, *data, *uri;

    v = json_object_get(part, "text");
    if (json_is_string(v)) {
        return json_pack("{s:s,s:O}", "type", "text", "text", v);
    }

    v = airouter_dj_get2(part, "inlineData", "inline_data");
    if (v) {
        mime = json_string_value(airouter_dj_get2(v, "mimeType",
                                                  "mime_type"));
        data = airouter_dj_str(v, "data");

        if (mime == NULL || data == NULL) {
            airouter_derr_set(err, "invalid_request",
                              "contents: inlineData needs mimeType and "
                              "data");
            return NULL;
        }

        url = airouter_dj_data_url(mime, data);
        if (url == NULL) {
            airouter_derr_set(err, "out_of_memory", "out of memory");
            return NULL;
        }

        if (strncmp(mime, "image/", 6) == 0) {
            return json_pack("{s:s,s:{s:o}}", "type", "image_url",
                             "image_url", "url", url);
        }

        if (strcmp(mime, "application/pdf") == 0) {
            return json_pack("{s:s,s:{s:o,s:s}}", "type", "file", "file",
                             "file_data", url, "filename", "document.pdf");
        }

        json_decref(url);
        airouter_derr_set(err, "unsupported_content",
                          "contents: inlineData of type \"%.60s\" is not "
                          "supported here (images and PDF are)", mime);
        return NULL;
    }

    v = airouter_dj_get2(part, "fileData", "file_data");
    if (v) {
        uri = json_string_value(airouter_dj_get2(v, "fileUri", "file_uri"));
        mime = json_string_value(airouter_dj_get2(v, "mimeType",
                                                  "mime_type"));

        if (uri && (mime == NULL || strncmp(mime, "image/", 6) == 0)) {
            return json_pack("{s:s,s:{s:s}}", "type", "image_url",
                             "image_url", "url", uri);
        }

        airouter_derr_set(err, "unsupported_content",
                          "contents: fileData is supported for image URLs "
                          "only here");
        return NULL;
    }

    airouter_derr_set(err, "unsupported_content",
                      "contents: this kind of part is not supported here "
                      "(text, inlineData, fileData, functionCall and "
                      "functionResponse are)");

    return NULL;
}


static int
airouter_gem_config(json_t *gc, json_t *chat, airouter_dctx_t *ctx,
    airouter_derr_t *err)
{
    json_t      *v, *schema, *tc;
    const char  *mime, *effort;

    if (gc == NULL || json_is_null(gc)) {
        return 0;
    }

    if (!json_is_object(gc)) {
        return airouter_derr_set(err, "invalid_request",
                                 "generationConfig: an object is expected");
    }

    v = json_object_get(gc, "temperature");
    if (json_is_number(v)) {
        json_object_set(chat, "temperature", v);
    }

    v = airouter_dj_get2(gc, "topP", "top_p");
    if (json_is_number(v)) {
        json_object_set(chat, "top_p", v);
    }

    v = airouter_dj_get2(gc, "maxOutputTokens", "max_output_tokens");
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        json_object_set(chat, "max_tokens", v);
    }

    v = airouter_dj_get2(gc, "stopSequences", "stop_sequences");
    if (json_is_array(v) && json_array_size(v)) {
        json_object_set(chat, "stop", v);
    }

    v = airouter_dj_get2(gc, "candidateCount", "candidate_count");
    if (json_is_integer(v) && json_integer_value(v) > 1) {
        return airouter_derr_set(err, "unsupported_parameter",
                                 "generationConfig.candidateCount > 1 is "
                                 "not supported by this router");
    }

    v = airouter_dj_get2(gc, "presencePenalty", "presence_penalty");
    if (json_is_number(v)) {
        json_object_set(chat, "presence_penalty", v);
    }

    v = airouter_dj_get2(gc, "frequencyPenalty", "frequency_penalty");
    if (json_is_number(v)) {
        json_object_set(chat, "frequency_penalty", v);
    }

    v = json_object_get(gc, "seed");
    if (json_is_integer(v)) {
        json_object_set(chat, "seed", v);
    }

    mime = json_string_value(airouter_dj_get2(gc, "responseMimeType",
                                              "response_mime_type"));

    if (mime && strcmp(mime, "application/json") == 0) {
        schema = airouter_dj_get2(gc, "responseJsonSchema",
                                  "response_json_schema");
        schema = json_is_object(schema)
                 ? json_incref(schema)
                 : airouter_gem_schema(airouter_dj_get2(gc, "responseSchema",
                                                        "response_schema"));

        if (schema) {
            json_object_set_new(chat, "response_format",
                                json_pack("{s:s,s:{s:s,s:o}}", "type",
                                          "json_schema", "json_schema",
                                          "name", "response", "schema",
                                          schema));

        } else {
            json_object_set_new(chat, "response_format",
                                json_pack("{s:s}", "type", "json_object"));
        }
    }

    tc = airouter_dj_get2(gc, "thinkingConfig", "thinking_config");
    if (json_is_object(tc)) {
        ctx->thoughts = json_is_true(airouter_dj_get2(tc, "includeThoughts",
                                                      "include_thoughts"));
        effort = airouter_gem_effort(tc);
        if (effort) {
            json_object_set_new(chat, "reasoning_effort",
                                json_string(effort));
        }
    }

    return 0;
}


/* thinkingLevel, or a thinkingBudget, as a reasoning effort */
static const char *
airouter_gem_effort(json_t *tc)
{
    long         budget;
    json_t      *v;
    const char  *level;

    level = json_string_value(airouter_dj_get2(tc, "thinkingLevel",
                                               "thinking_level"));
    if (level) {
        if (strcasecmp(level, "minimal") == 0) {
            return "minimal";
        }

        if (strcasecmp(level, "low") == 0) {
            return "low";
        }

        if (strcasecmp(level, "medium") == 0) {
            return "medium";
        }

        if (strcasecmp(level, "high") == 0) {
            return "high";
        }

        return NULL;
    }

    v = airouter_dj_get2(tc, "thinkingBudget", "thinking_budget");
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        /* absent, or -1: the model decides */
        return NULL;
    }

    budget = (long) json_integer_value(v);

    if (budget == 0) {
        return "none";
    }

    return (budget <= 1024) ? "low" : (budget <= 8192) ? "medium" : "high";
}


static int
airouter_gem_tools(json_t *req, json_t *chat, airouter_derr_t *err)
{
    size_t       i, j, k;
    json_t      *tools, *tool, *decls, *decl, *out, *fn, *v, *fcc, *allowed;
    const char  *name, *mode, *key;

    tools = json_object_get(req, "tools");
    out = NULL;

    json_array_foreach(tools, i, tool) {
        decls = airouter_dj_get2(tool, "functionDeclarations",
                                 "function_declarations");

        if (decls == NULL) {
            key = NULL;
            json_object_foreach(tool, key, v) {
                break;
            }

            return airouter_derr_set(err, "unsupported_tool",
                                     "tools: %.40s is not supported by this "
                                     "router (functionDeclarations are)",
                                     key ? key : "this tool");
        }

        json_array_foreach(decls, j, decl) {
            name = airouter_dj_str(decl, "name");
            if (name == NULL) {
                return airouter_derr_set(err, "invalid_request",
                                         "tools: a function declaration "
                                         "needs a name");
            }

            fn = json_pack("{s:s}", "name", name);
            if (fn == NULL) {
                return airouter_derr_set(err, "out_of_memory",
                                         "out of memory");
            }

            v = json_object_get(decl, "description");
            if (json_is_string(v)) {
                json_object_set(fn, "description", v);
            }

            v = airouter_dj_get2(decl, "parametersJsonSchema",
                                 "parameters_json_schema");
            v = json_is_object(v)
                ? json_incref(v)
                : airouter_gem_schema(json_object_get(decl, "parameters"));
            if (v) {
                json_object_set_new(fn, "parameters", v);
            }

            if (out == NULL) {
                out = json_array();
                json_object_set_new(chat, "tools", out);
            }

            json_array_append_new(out, json_pack("{s:s,s:o}", "type",
                                                 "function", "function",
                                                 fn));
        }
    }

    fcc = airouter_dj_get2(airouter_dj_get2(req, "toolConfig", "tool_config"),
                           "functionCallingConfig",
                           "function_calling_config");
    mode = airouter_dj_str(fcc, "mode");

    if (mode == NULL || out == NULL) {
        return 0;
    }

    if (strcasecmp(mode, "NONE") == 0) {
        json_object_set_new(chat, "tool_choice", json_string("none"));

    } else if (strcasecmp(mode, "ANY") == 0) {
        allowed = airouter_dj_get2(fcc, "allowedFunctionNames",
                                   "allowed_function_names");

        if (json_array_size(allowed) == 1
            && json_is_string(json_array_get(allowed, 0)))
        {
            json_object_set_new(chat, "tool_choice",
                                json_pack("{s:s,s:{s:O}}", "type", "function",
                                          "function", "name",
                                          json_array_get(allowed, 0)));

        } else {
            json_object_set_new(chat, "tool_choice",
                                json_string("required"));

            /* only the allowed functions may be called: the others go */
            if (json_array_size(allowed) > 1) {
                for (k = json_array_size(out); k > 0; k--) {
                    name = airouter_dj_str(json_object_get(
                                               json_array_get(out, k - 1),
                                               "function"), "name");

                    json_array_foreach(allowed, j, v) {
                        if (json_is_string(v)
                            && strcmp(json_string_value(v), name) == 0)
                        {
                            break;
                        }
                    }

                    if (j == json_array_size(allowed)) {
                        json_array_remove(out, k - 1);
                    }
                }
            }
        }

    } else {
        json_object_set_new(chat, "tool_choice", json_string("auto"));
    }

    return 0;
}


/*
 * Google's Schema (an OpenAPI subset: upper-case types, "nullable") as a
 * JSON schema for chat upstreams.
 */
static json_t *
airouter_gem_schema(json_t *schema)
{
    size_t       i;
    char         lower[24];
    json_t      *out, *v, *sub, *arr;
    const char  *key, *type;

    if (!json_is_object(schema)) {
        return NULL;
    }

    out = json_object();
    if (out == NULL) {
        return NULL;
    }

    json_object_foreach(schema, key, v) {
        if (strcmp(key, "type") == 0 && json_is_string(v)) {
            type = json_string_value(v);

            for (i = 0; type[i] && i < sizeof(lower) - 1; i++) {
                lower[i] = (type[i] >= 'A' && type[i] <= 'Z')
                           ? type[i] - 'A' + 'a' : type[i];
            }

            lower[i] = '\0';

            if (strcmp(lower, "type_unspecified") != 0) {
                json_object_set_new(out, "type", json_string(lower));
            }

        } else if (strcmp(key, "properties") == 0 && json_is_object(v)) {
            sub = json_object();
            json_object_set_new(out, "properties", sub);

            {
                const char  *pk;
                json_t      *pv;

                json_object_foreach(v, pk, pv) {
                    arr = airouter_gem_schema(pv);
                    json_object_set_new(sub, pk, arr ? arr : json_object());
                }
            }

        } else if (strcmp(key, "items") == 0 && json_is_object(v)) {
            sub = airouter_gem_schema(v);
            if (sub) {
                json_object_set_new(out, "items", sub);
            }

        } else if ((strcmp(key, "anyOf") == 0 || strcmp(key, "any_of") == 0)
                   && json_is_array(v))
        {
            arr = json_array();
            json_array_foreach(v, i, sub) {
                json_array_append_new(arr, json_is_object(sub)
                                           ? airouter_gem_schema(sub)
                                           : json_object());
            }

            json_object_set_new(out, "anyOf", arr);

        } else if (strcmp(key, "nullable") == 0
                   || strcmp(key, "propertyOrdering") == 0
                   || strcmp(key, "property_ordering") == 0)
        {
            continue;

        } else {
            json_object_set(out, key, v);
        }
    }

    /* nullable: null is one more type */
    if (json_is_true(json_object_get(schema, "nullable"))
        && json_is_string(json_object_get(out, "type")))
    {
        json_object_set_new(out, "type",
                            json_pack("[O,s]", json_object_get(out, "type"),
                                      "null"));
    }

    return out;
}


/* events written as GenerateContentResponse */

static void
airouter_gem_answer(const airouter_danswer_t *a, const airouter_dctx_t *ctx,
    airouter_dbuf_t *out)
{
    size_t                    i;
    json_t                   *parts, *root;
    const char               *finish;
    const airouter_dblock_t  *b;

    parts = json_array();

    for (i = 0; parts && i < a->nblocks; i++) {
        b = &a->blocks[i];

        if (b->kind == AIROUTER_DBLOCK_REASONING && ctx->thoughts) {
            json_array_append_new(parts,
                                  json_pack("{s:s#,s:b}", "text",
                                            b->data.data ? b->data.data : "",
                                            b->data.len, "thought", 1));

        } else if (b->kind == AIROUTER_DBLOCK_TEXT) {
            json_array_append_new(parts,
                                  json_pack("{s:s#}", "text",
                                            b->data.data ? b->data.data : "",
                                            b->data.len));
        }
    }

    finish = airouter_gem_finish(a->finish);

    if (parts && airouter_gem_call_parts(a, parts) != 0) {
        finish = "MALFORMED_FUNCTION_CALL";
    }

    root = airouter_gem_response(parts, finish,
                                 a->has_usage ? &a->usage : NULL, a->model,
                                 ctx);

    if (root == NULL) {
        out->failed = 1;
        return;
    }

    airouter_dbuf_json(out, root);
    json_decref(root);
}


/* The tool calls as functionCall parts; -1 when one's arguments are not
 * an object (it is left out). */
static int
airouter_gem_call_parts(const airouter_danswer_t *a, json_t *parts)
{
    int                       rc;
    size_t                    i;
    json_t                   *args, *fc;
    const airouter_dblock_t  *b;

    rc = 0;

    for (i = 0; i < a->nblocks; i++) {
        b = &a->blocks[i];

        if (b->kind != AIROUTER_DBLOCK_TOOL) {
            continue;
        }

        args = airouter_dj_args_object(b->data.data ? b->data.data : "",
                                       b->data.len);
        if (args == NULL) {
            rc = -1;
            continue;
        }

        fc = json_pack("{s:s,s:o}", "name", b->name ? b->name : "", "args",
                       args);
        if (fc && b->id && b->id[0]) {
            json_object_set_new(fc, "id", json_string(b->id));
        }

        json_array_append_new(parts, json_pack("{s:o}", "functionCall", fc));
    }

    return rc;
}


/* One GenerateContentResponse; parts' reference is taken. */
static json_t *
airouter_gem_response(json_t *parts, const char *finish,
    const airouter_dusage_t *u, const char *model,
    const airouter_dctx_t *ctx)
{
    json_t  *cand, *root;

    cand = json_pack("{s:{s:o,s:s},s:i}", "content", "parts",
                     parts ? parts : json_array(), "role", "model", "index",
                     0);
    if (cand == NULL) {
        return NULL;
    }

    if (finish) {
        json_object_set_new(cand, "finishReason", json_string(finish));
    }

    root = json_pack("{s:[o]}", "candidates", cand);
    if (root == NULL) {
        return NULL;
    }

    if (u) {
        json_object_set_new(root, "usageMetadata",
                            airouter_gem_usage_json(u));
    }

    json_object_set_new(root, "modelVersion",
                        json_string(model ? model : ""));
    json_object_set_new(root, "responseId", json_string(ctx->id));

    return root;
}


static const char *
airouter_gem_finish(airouter_finish_e f)
{
    switch (f) {
    case AIROUTER_FINISH_LENGTH:
        return "MAX_TOKENS";
    case AIROUTER_FINISH_FILTER:
        return "SAFETY";
    default:
        /* Gemini says STOP after function calls too */
        return "STOP";
    }
}


/* Gemini's counts: candidates leave the thoughts out */
static json_t *
airouter_gem_usage_json(const airouter_dusage_t *u)
{
    long     prompt, completion, thoughts;
    json_t  *j;

    prompt = u->u.prompt_tokens > 0 ? u->u.prompt_tokens : 0;
    completion = u->u.completion_tokens > 0 ? u->u.completion_tokens : 0;
    thoughts = (u->reasoning > 0 && u->reasoning <= completion)
               ? u->reasoning : 0;

    j = json_pack("{s:I,s:I,s:I}", "promptTokenCount", (json_int_t) prompt,
                  "candidatesTokenCount", (json_int_t) (completion - thoughts),
                  "totalTokenCount",
                  (json_int_t) (u->u.total_tokens > 0 ? u->u.total_tokens
                                                      : prompt + completion));
    if (j == NULL) {
        return NULL;
    }

    if (u->u.cached_tokens > 0) {
        json_object_set_new(j, "cachedContentTokenCount",
                            json_integer(u->u.cached_tokens));
    }

    if (thoughts) {
        json_object_set_new(j, "thoughtsTokenCount", json_integer(thoughts));
    }

    return j;
}


static airouter_dsink_t *
airouter_gem_sink(const airouter_dctx_t *ctx)
{
    airouter_gem_sink_t  *s;

    s = calloc(1, sizeof(airouter_gem_sink_t));
    if (s == NULL) {
        return NULL;
    }

    s->sink.event = airouter_gem_sink_event;
    s->sink.destroy = airouter_gem_sink_destroy;
    s->sink.ctx = ctx;
    airouter_danswer_init(&s->a, ctx);

    return &s->sink;
}


static void
airouter_gem_sink_destroy(airouter_dsink_t *k)
{
    airouter_gem_sink_t  *s;

    s = (airouter_gem_sink_t *) k;

    airouter_danswer_free(&s->a);
    json_decref(s->model);
    free(s);
}


static void
airouter_gem_sink_event(airouter_dsink_t *k, const airouter_dev_t *ev)
{
    json_t               *parts;
    const char           *finish;
    airouter_gem_sink_t  *s;

    s = (airouter_gem_sink_t *) k;

    if (s->ended) {
        return;
    }

    s->a.sink.event(&s->a.sink, ev);

    switch (ev->kind) {
    case AIROUTER_DEV_START:
        json_decref(s->model);
        s->model = json_string(ev->name);
        break;

    case AIROUTER_DEV_TEXT:
        airouter_gem_emit(s, json_pack("[{s:s#}]", "text", ev->data,
                                       ev->len), NULL, NULL);
        break;

    case AIROUTER_DEV_REASONING:
        if (k->ctx->thoughts) {
            airouter_gem_emit(s, json_pack("[{s:s#,s:b}]", "text", ev->data,
                                           ev->len, "thought", 1),
                              NULL, NULL);
        }
        break;

    case AIROUTER_DEV_DONE:
        s->ended = 1;

        parts = json_array();
        finish = airouter_gem_finish(s->a.finish);

        if (parts && airouter_gem_call_parts(&s->a, parts) != 0) {
            finish = "MALFORMED_FUNCTION_CALL";
        }

        if (json_array_size(parts) == 0) {
            json_array_append_new(parts, json_pack("{s:s}", "text", ""));
        }

        airouter_gem_emit(s, parts, finish,
                          s->a.has_usage ? &s->a.usage : NULL);
        break;

    case AIROUTER_DEV_ERROR:
        s->ended = 1;
        airouter_gem_error(ev->status ? ev->status : 500, NULL, NULL,
                           ev->data, 1, k->out);
        break;

    default:
        break;
    }
}


/* One chunk; parts' reference is taken. */
static void
airouter_gem_emit(airouter_gem_sink_t *s, json_t *parts, const char *finish,
    const airouter_dusage_t *u)
{
    json_t  *root;

    root = airouter_gem_response(parts, finish, u,
                                 s->model ? json_string_value(s->model) : "",
                                 s->sink.ctx);
    if (root == NULL) {
        s->sink.out->failed = 1;
        return;
    }

    airouter_dsse_event(s->sink.out, NULL, root);
    json_decref(root);
}


static void
airouter_gem_error(int status, const char *type, const char *code,
    const char *message, int stream, airouter_dbuf_t *out)
{
    json_t  *err;

    (void) type;
    (void) code;

    err = json_pack("{s:{s:i,s:s,s:s}}", "error", "code", status,
                    "message", message, "status",
                    airouter_gem_status(status));
    if (err == NULL) {
        out->failed = 1;
        return;
    }

    if (stream) {
        airouter_dsse_event(out, NULL, err);

    } else {
        airouter_dbuf_json(out, err);
    }

    json_decref(err);
}


/* google.rpc.Code names for HTTP statuses */
static const char *
airouter_gem_status(int status)
{
    switch (status) {
    case 400:
        return "INVALID_ARGUMENT";
    case 401:
        return "UNAUTHENTICATED";
    case 403:
        return "PERMISSION_DENIED";
    case 404:
        return "NOT_FOUND";
    case 409:
        return "ABORTED";
    case 429:
        return "RESOURCE_EXHAUSTED";
    case 499:
        return "CANCELLED";
    case 501:
        return "UNIMPLEMENTED";
    case 502:
    case 503:
        return "UNAVAILABLE";
    case 504:
        return "DEADLINE_EXCEEDED";
    default:
        return (status >= 400 && status < 500) ? "FAILED_PRECONDITION"
                                               : "INTERNAL";
    }
}


static int
airouter_gem_usage(json_t *root, airouter_dusage_t *u)
{
    long     prompt, cand, thoughts, tool, total, cached;
    json_t  *m, *v;

    airouter_dusage_init(u);

    m = json_object_get(root, "usageMetadata");
    if (!json_is_object(m)) {
        return 0;
    }

#define AIROUTER_GEM_COUNT(var, name)                                         \
    v = json_object_get(m, name);                                             \
    var = (json_is_integer(v) && json_integer_value(v) >= 0                   \
           && json_integer_value(v) < 1000000000000000000LL)                  \
          ? (long) json_integer_value(v) : -1;

    AIROUTER_GEM_COUNT(prompt, "promptTokenCount")
    AIROUTER_GEM_COUNT(cand, "candidatesTokenCount")
    AIROUTER_GEM_COUNT(thoughts, "thoughtsTokenCount")
    AIROUTER_GEM_COUNT(tool, "toolUsePromptTokenCount")
    AIROUTER_GEM_COUNT(total, "totalTokenCount")
    AIROUTER_GEM_COUNT(cached, "cachedContentTokenCount")

#undef AIROUTER_GEM_COUNT

    if (prompt < 0 && cand < 0) {
        return 0;
    }

    u->u.prompt_tokens = (prompt > 0 ? prompt : 0) + (tool > 0 ? tool : 0);
    u->u.completion_tokens = (cand > 0 ? cand : 0)
                             + (thoughts > 0 ? thoughts : 0);
    u->u.total_tokens = total >= 0 ? total
                        : u->u.prompt_tokens + u->u.completion_tokens;
    u->u.cached_tokens = cached;
    u->reasoning = thoughts;

    return 1;
}


/*
 * embedContent ({"content", "taskType", "title", "outputDimensionality"})
 * and batchEmbedContents ({"requests": [those, each with its "model"]})
 * as one OpenAI embeddings request: one input per content (its text
 * parts joined by newlines), outputDimensionality as dimensions (one for
 * the whole batch), floats asked for (the answer's values are numbers).
 * taskType and title have no OpenAI counterpart and are left out.
 */
static int
airouter_gem_embed_request(json_t *req, json_t **out, airouter_derr_t *err,
    int batch)
{
    size_t       i;
    json_t      *o, *input, *dims, *reqs, *r;
    const char  *model;
    char         where[32];

    model = airouter_dj_str(req, "model");

    o = json_object();
    input = json_array();

    if (o == NULL || input == NULL || model == NULL) {
        json_decref(o);
        json_decref(input);
        return airouter_derr_set(err, "out_of_memory", "out of memory");
    }

    dims = NULL;

    if (!batch) {
        if (airouter_gem_embed_one(req, NULL, input, &dims, err, "") != 0) {
            goto failed;
        }

    } else {
        reqs = json_object_get(req, "requests");

        if (!json_is_array(reqs) || json_array_size(reqs) == 0) {
            airouter_derr_set(err, "invalid_request",
                              "requests: a non-empty array of "
                              "EmbedContentRequest expected");
            goto failed;
        }

        json_array_foreach(reqs, i, r) {
            snprintf(where, sizeof(where), "requests[%zu].", i);

            if (!json_is_object(r)) {
                airouter_derr_set(err, "invalid_request",
                                  "%s: an EmbedContentRequest object "
                                  "expected", where);
                goto failed;
            }

            if (airouter_gem_embed_one(r, model, input, &dims, err, where)
                != 0)
            {
                goto failed;
            }
        }
    }

    json_object_set_new(o, "model", json_string(model));
    json_object_set_new(o, "input", input);
    json_object_set_new(o, "encoding_format", json_string("float"));

    if (dims) {
        json_object_set(o, "dimensions", dims);
    }

    *out = o;

    return 0;

failed:

    json_decref(o);
    json_decref(input);

    return -1;
}


/*
 * One EmbedContentRequest's text into input; its outputDimensionality
 * must agree with the others' (OpenAI has one per request).  A batch
 * request's own "model" must name the URL's (the SDK sends
 * "models/<model>").
 */
static int
airouter_gem_embed_one(json_t *r, const char *model, json_t *input,
    json_t **dims, airouter_derr_t *err, const char *where)
{
    size_t       len;
    json_t      *content, *parts, *text, *d;
    const char  *m;

    if (model) {
        m = airouter_dj_str(r, "model");

        if (m) {
            len = sizeof("models/") - 1;

            if (strncmp(m, "models/", len) == 0) {
                m += len;
            }

            if (strcmp(m, model) != 0) {
                return airouter_derr_set(err, "invalid_request",
                                         "%smodel: \"%.64s\" is not the "
                                         "model of the URL", where,
                                         airouter_dj_str(r, "model"));
            }
        }
    }

    content = json_object_get(r, "content");
    parts = json_object_get(content, "parts");

    if (!json_is_object(content) || !json_is_array(parts)
        || json_array_size(parts) == 0)
    {
        return airouter_derr_set(err, "invalid_request",
                                 "%scontent: a Content with parts expected",
                                 where);
    }

    text = airouter_dj_join_text(parts, "\n");
    if (text == NULL) {
        return airouter_derr_set(err, "invalid_request",
                                 "%scontent: only text parts can be "
                                 "embedded", where);
    }

    json_array_append_new(input, text);

    d = json_object_get(r, "outputDimensionality");
    if (d == NULL || json_is_null(d)) {
        d = json_object_get(r, "output_dimensionality");
    }

    if (d == NULL || json_is_null(d)) {
        d = NULL;

    } else if (!json_is_integer(d) || json_integer_value(d) <= 0) {
        return airouter_derr_set(err, "invalid_request",
                                 "%soutputDimensionality: a positive "
                                 "integer expected", where);
    }

    if (json_array_size(input) > 1
        && !((*dims == NULL && d == NULL)
             || (*dims && d && json_equal(*dims, d))))
    {
        return airouter_derr_set(err, "invalid_request",
                                 "%soutputDimensionality: every request "
                                 "of a batch must ask for the same one",
                                 where);
    }

    *dims = d;

    return 0;
}


/*
 * OpenAI's {"data":[{"embedding":[...],"index":i}],...} as Google's
 * {"embedding":{"values":[...]}} (embedContent) or
 * {"embeddings":[{"values":[...]}, ...]} (batchEmbedContents, in the
 * requests' order).  Base64 embeddings, a value that is not a number or
 * a gap in the indexes: -1.
 */
static int
airouter_gem_embed_answer(json_t *root, const airouter_dctx_t *ctx,
    airouter_dbuf_t *out)
{
    int          rc;
    size_t       i, n;
    json_t      *data, *d, **vecs;
    json_int_t   k;

    data = json_object_get(root, "data");
    n = json_array_size(data);

    if (!json_is_array(data) || n == 0 || (!ctx->batch && n != 1)) {
        return -1;
    }

    vecs = calloc(n, sizeof(json_t *));
    if (vecs == NULL) {
        return -1;
    }

    rc = 0;

    json_array_foreach(data, i, d) {
        k = json_is_integer(json_object_get(d, "index"))
            ? json_integer_value(json_object_get(d, "index"))
            : (json_int_t) i;

        if (k < 0 || (size_t) k >= n || vecs[k] != NULL
            || !json_is_array(json_object_get(d, "embedding")))
        {
            rc = -1;
            break;
        }

        vecs[k] = json_object_get(d, "embedding");
    }

    if (rc == 0) {
        airouter_dbuf_str(out, ctx->batch ? "{\"embeddings\":["
                                          : "{\"embedding\":");

        for (i = 0; i < n && rc == 0; i++) {
            airouter_dbuf_str(out, i ? ",{\"values\":" : "{\"values\":");
            rc = airouter_gem_embed_values(vecs[i], out);
            airouter_dbuf_str(out, "}");
        }

        airouter_dbuf_str(out, ctx->batch ? "]}" : "}");
    }

    free(vecs);

    return (rc == 0 && !out->failed) ? 0 : -1;
}


/*
 * A vector's numbers, each as short as it reads back the same (jansson
 * would write 0.1 as 0.10000000000000001, twice the bytes for the same
 * double).
 */
static int
airouter_gem_embed_values(json_t *vec, airouter_dbuf_t *out)
{
    char     num[32];
    size_t   i;
    double   x;
    json_t  *v;

    airouter_dbuf_str(out, "[");

    json_array_foreach(vec, i, v) {
        if (i) {
            airouter_dbuf_str(out, ",");
        }

        if (json_is_integer(v)) {
            airouter_dbuf_long(out, (long) json_integer_value(v));
            continue;
        }

        if (!json_is_real(v)) {
            return -1;
        }

        x = json_real_value(v);
        snprintf(num, sizeof(num), "%.15g", x);

        if (strtod(num, NULL) != x) {
            snprintf(num, sizeof(num), "%.17g", x);
        }

        airouter_dbuf_str(out, num);
    }

    airouter_dbuf_str(out, "]");

    return 0;
}
