/*
 * OpenAI chat completions as a dialect (airouter_dialect_impl.h): reading
 * chat answers and chat SSE chunks into events (every OpenAI-compatible
 * upstream), and writing events as chat (a chat client on a native
 * Anthropic channel).  Requests need no translation on this side.
 */

#include <stdlib.h>
#include <string.h>

#include "airouter_dialect_impl.h"


typedef struct {
    airouter_dsink_t          sink;     /* first */
    json_t                   *id;
    json_t                   *model;
    airouter_finish_e         finish;
    airouter_dusage_t         usage;
    unsigned                  has_usage:1;
    unsigned                  ended:1;
} airouter_chat_sink_t;


static void airouter_chat_answer(const airouter_danswer_t *a,
    const airouter_dctx_t *ctx, airouter_dbuf_t *out);
static airouter_dsink_t *airouter_chat_sink(const airouter_dctx_t *ctx);
static void airouter_chat_sink_event(airouter_dsink_t *k,
    const airouter_dev_t *ev);
static void airouter_chat_sink_destroy(airouter_dsink_t *k);
static void airouter_chat_chunk(airouter_chat_sink_t *c, json_t *delta,
    const char *finish);
static void airouter_chat_error(int status, const char *type,
    const char *code, const char *message, int stream, airouter_dbuf_t *out);
static int airouter_chat_usage(json_t *root, airouter_dusage_t *u);
static json_t *airouter_chat_usage_json(const airouter_dusage_t *u);
static int airouter_chat_parse_answer(json_t *root,
    const airouter_dctx_t *ctx, airouter_dsink_t *k);
static void airouter_chat_parse_event(airouter_dparse_t *ps,
    const char *event, size_t elen, const char *p, size_t n,
    const airouter_dctx_t *ctx, airouter_dsink_t *k);
static void airouter_chat_parse_message(airouter_dparse_t *ps, json_t *msg,
    const airouter_dctx_t *ctx, airouter_dsink_t *k);
static void airouter_chat_parse_tools(airouter_dparse_t *ps, json_t *calls,
    const airouter_dctx_t *ctx, airouter_dsink_t *k);
static int airouter_chat_parse_error(json_t *root, const char **type,
    const char **code, const char **message);
static void airouter_chat_text(json_t *v, airouter_dev_kind_e kind,
    airouter_dsink_t *k);


const airouter_dialect_ops_t  airouter_dialect_openai = {
    "openai",
    "\"Authorization: Bearer <key>\"",
    NULL,
    airouter_chat_answer,
    airouter_chat_sink,
    airouter_chat_error,
    airouter_chat_usage,
    NULL,
    airouter_chat_parse_answer,
    airouter_chat_parse_event,
    airouter_chat_parse_error,
    NULL
};


/* writing chat */

static void
airouter_chat_answer(const airouter_danswer_t *a, const airouter_dctx_t *ctx,
    airouter_dbuf_t *out)
{
    size_t                    i;
    json_t                   *root, *msg, *calls, *choice, *fn, *call;
    airouter_dbuf_t           text, reasoning;
    const airouter_dblock_t  *b;

    airouter_dbuf_init(&text);
    airouter_dbuf_init(&reasoning);

    root = json_object();
    msg = json_object();
    calls = json_array();
    choice = json_object();

    if (root == NULL || msg == NULL || calls == NULL || choice == NULL) {
        out->failed = 1;
        goto done;
    }

    for (i = 0; i < a->nblocks; i++) {
        b = &a->blocks[i];

        if (b->kind == AIROUTER_DBLOCK_TEXT) {
            airouter_dbuf_add(&text, b->data.data, b->data.len);

        } else if (b->kind == AIROUTER_DBLOCK_REASONING) {
            airouter_dbuf_add(&reasoning, b->data.data, b->data.len);

        } else {
            fn = json_pack("{s:s,s:s#}", "name", b->name ? b->name : "",
                           "arguments", b->data.data ? b->data.data : "",
                           b->data.len);
            call = json_pack("{s:s,s:s,s:o}", "id", b->id ? b->id : "",
                             "type", "function", "function", fn);
            json_array_append_new(calls, call);
        }
    }

    json_object_set_new(msg, "role", json_string("assistant"));
    json_object_set_new(msg, "content",
                        (text.len || json_array_size(calls) == 0)
                        ? json_stringn(text.data ? text.data : "", text.len)
                        : json_null());

    if (reasoning.len) {
        json_object_set_new(msg, "reasoning_content",
                            json_stringn(reasoning.data, reasoning.len));
    }

    if (json_array_size(calls)) {
        json_object_set(msg, "tool_calls", calls);
    }

    json_object_set_new(choice, "index", json_integer(0));
    json_object_set_new(choice, "message", msg);
    msg = NULL;
    json_object_set_new(choice, "logprobs", json_null());
    json_object_set_new(choice, "finish_reason",
                        json_string(airouter_finish_chat(a->finish)));

    json_object_set_new(root, "id", json_string(a->id && a->id[0]
                                                ? a->id : ctx->id));
    json_object_set_new(root, "object", json_string("chat.completion"));
    json_object_set_new(root, "created", json_integer(ctx->created));
    json_object_set_new(root, "model", json_string(a->model ? a->model : ""));
    json_object_set_new(root, "choices", json_pack("[o]", choice));
    choice = NULL;

    if (a->has_usage) {
        json_object_set_new(root, "usage",
                            airouter_chat_usage_json(&a->usage));
    }

    airouter_dbuf_json(out, root);

done:

    json_decref(root);
    json_decref(msg);
    json_decref(calls);
    json_decref(choice);
    airouter_dbuf_free(&text);
    airouter_dbuf_free(&reasoning);

    if (text.failed || reasoning.failed) {
        out->failed = 1;
    }
}


static json_t *
airouter_chat_usage_json(const airouter_dusage_t *u)
{
    long     prompt, completion;
    json_t  *j, *d;

    prompt = u->u.prompt_tokens > 0 ? u->u.prompt_tokens : 0;
    completion = u->u.completion_tokens > 0 ? u->u.completion_tokens : 0;

    j = json_pack("{s:I,s:I,s:I}", "prompt_tokens", (json_int_t) prompt,
                  "completion_tokens", (json_int_t) completion,
                  "total_tokens", (json_int_t) (u->u.total_tokens > 0
                                                ? u->u.total_tokens
                                                : prompt + completion));
    if (j == NULL) {
        return NULL;
    }

    if (u->u.cached_tokens >= 0 || u->u.cache_write_tokens >= 0) {
        d = json_object();
        if (u->u.cached_tokens >= 0) {
            json_object_set_new(d, "cached_tokens",
                                json_integer(u->u.cached_tokens));
        }

        if (u->u.cache_write_tokens >= 0) {
            json_object_set_new(d, "cache_write_tokens",
                                json_integer(u->u.cache_write_tokens));
        }

        json_object_set_new(j, "prompt_tokens_details", d);
    }

    if (u->reasoning >= 0) {
        json_object_set_new(j, "completion_tokens_details",
                            json_pack("{s:I}", "reasoning_tokens",
                                      (json_int_t) u->reasoning));
    }

    return j;
}


static airouter_dsink_t *
airouter_chat_sink(const airouter_dctx_t *ctx)
{
    airouter_chat_sink_t  *c;

    c = calloc(1, sizeof(airouter_chat_sink_t));
    if (c == NULL) {
        return NULL;
    }

    c->sink.event = airouter_chat_sink_event;
    c->sink.destroy = airouter_chat_sink_destroy;
    c->sink.ctx = ctx;
    airouter_dusage_init(&c->usage);

    return &c->sink;
}


static void
airouter_chat_sink_destroy(airouter_dsink_t *k)
{
    airouter_chat_sink_t  *c;

    c = (airouter_chat_sink_t *) k;

    json_decref(c->id);
    json_decref(c->model);
    free(c);
}


static void
airouter_chat_sink_event(airouter_dsink_t *k, const airouter_dev_t *ev)
{
    json_t                *delta, *call, *fn, *err;
    airouter_chat_sink_t  *c;

    c = (airouter_chat_sink_t *) k;

    if (c->ended) {
        return;
    }

    delta = NULL;

    switch (ev->kind) {
    case AIROUTER_DEV_START:
        json_decref(c->id);
        json_decref(c->model);
        c->id = json_string(ev->id[0] ? ev->id : k->ctx->id);
        c->model = json_string(ev->name);
        delta = json_pack("{s:s,s:s}", "role", "assistant", "content", "");
        airouter_chat_chunk(c, delta, NULL);
        break;

    case AIROUTER_DEV_TEXT:
        delta = json_pack("{s:s#}", "content", ev->data, ev->len);
        airouter_chat_chunk(c, delta, NULL);
        break;

    case AIROUTER_DEV_REASONING:
        delta = json_pack("{s:s#}", "reasoning_content", ev->data, ev->len);
        airouter_chat_chunk(c, delta, NULL);
        break;

    case AIROUTER_DEV_TOOL:
        fn = json_pack("{s:s,s:s}", "name", ev->name, "arguments", "");
        call = json_pack("{s:I,s:s,s:s,s:o}", "index", (json_int_t) ev->index,
                         "id", ev->id, "type", "function", "function", fn);
        delta = json_pack("{s:[o]}", "tool_calls", call);
        airouter_chat_chunk(c, delta, NULL);
        break;

    case AIROUTER_DEV_ARGS:
        fn = json_pack("{s:s#}", "arguments", ev->data, ev->len);
        call = json_pack("{s:I,s:o}", "index", (json_int_t) ev->index,
                         "function", fn);
        delta = json_pack("{s:[o]}", "tool_calls", call);
        airouter_chat_chunk(c, delta, NULL);
        break;

    case AIROUTER_DEV_FINISH:
        c->finish = ev->finish;
        airouter_chat_chunk(c, json_object(),
                            airouter_finish_chat(ev->finish));
        break;

    case AIROUTER_DEV_USAGE:
        c->usage = *ev->usage;
        c->has_usage = 1;
        break;

    case AIROUTER_DEV_DONE:
        c->ended = 1;

        if (c->has_usage) {
            /* the include_usage chunk: no choices */
            airouter_chat_chunk(c, NULL, NULL);
        }

        airouter_dbuf_str(k->out, "data: [DONE]\n\n");
        break;

    case AIROUTER_DEV_ERROR:
        c->ended = 1;
        err = json_pack("{s:{s:s#,s:s,s:s}}", "error", "message", ev->data,
                        ev->len, "type", ev->etype ? ev->etype
                                                   : "upstream_error",
                        "code", "stream_interrupted");
        airouter_dsse_event(k->out, NULL, err);
        json_decref(err);
        airouter_dbuf_str(k->out, "data: [DONE]\n\n");
        break;
    }
}


/* One chunk; delta NULL: the usage chunk.  delta's reference is taken. */
static void
airouter_chat_chunk(airouter_chat_sink_t *c, json_t *delta,
    const char *finish)
{
    json_t  *chunk, *choices;

    if (delta) {
        choices = json_pack("[{s:i,s:o,s:o}]", "index", 0, "delta", delta,
                            "finish_reason",
                            finish ? json_string(finish) : json_null());

    } else {
        choices = json_array();
    }

    chunk = json_pack("{s:O,s:s,s:I,s:O,s:o}",
                      "id", c->id ? c->id : json_null(),
                      "object", "chat.completion.chunk",
                      "created", (json_int_t) c->sink.ctx->created,
                      "model", c->model ? c->model : json_null(),
                      "choices", choices);

    if (chunk && delta == NULL) {
        json_object_set_new(chunk, "usage",
                            airouter_chat_usage_json(&c->usage));
    }

    if (chunk == NULL) {
        c->sink.out->failed = 1;
        return;
    }

    airouter_dsse_event(c->sink.out, NULL, chunk);
    json_decref(chunk);
}


static void
airouter_chat_error(int status, const char *type, const char *code,
    const char *message, int stream, airouter_dbuf_t *out)
{
    json_t  *err;

    (void) status;

    err = json_pack("{s:{s:s,s:s,s:s*}}", "error", "message", message,
                    "type", type ? type : "api_error", "code", code);
    if (err == NULL) {
        out->failed = 1;
        return;
    }

    if (stream) {
        airouter_dsse_event(out, NULL, err);
        airouter_dbuf_str(out, "data: [DONE]\n\n");

    } else {
        airouter_dbuf_json(out, err);
    }

    json_decref(err);
}


static int
airouter_chat_usage(json_t *root, airouter_dusage_t *u)
{
    return airouter_dusage_from_chat(json_object_get(root, "usage"), u);
}


/* reading chat */

static int
airouter_chat_parse_answer(json_t *root, const airouter_dctx_t *ctx,
    airouter_dsink_t *k)
{
    json_t             *choice, *usage;
    airouter_dusage_t   u;
    airouter_dparse_t   ps;
    const char         *finish;

    if (!json_is_object(root) || !json_is_array(json_object_get(root,
                                                                "choices")))
    {
        return -1;
    }

    memset(&ps, 0, sizeof(airouter_dparse_t));

    airouter_dev_start(&ps, k, airouter_dj_str(root, "id"),
                       airouter_dj_str(root, "model"));

    choice = json_array_get(json_object_get(root, "choices"), 0);

    if (json_is_object(choice)) {
        airouter_chat_parse_message(&ps, json_object_get(choice, "message"),
                                    ctx, k);

        finish = airouter_dj_str(choice, "finish_reason");
        airouter_dev_finish(&ps, k, finish
                                    ? airouter_finish_from_chat(finish)
                                    : AIROUTER_FINISH_STOP);
    }

    usage = json_object_get(root, "usage");
    if (airouter_dusage_from_chat(usage, &u)) {
        airouter_dev_usage(k, &u);
    }

    airouter_dev_done(&ps, k);
    free(ps.map);

    return 0;
}


/*
 * One chunk of a chat stream: data is a chunk, [DONE], or an error object
 * (OpenRouter and others report mid-stream failures so).  Only the first
 * choice is followed.
 */
static void
airouter_chat_parse_event(airouter_dparse_t *ps, const char *event,
    size_t elen, const char *p, size_t n, const airouter_dctx_t *ctx,
    airouter_dsink_t *k)
{
    json_t             *root, *choice, *err, *usage;
    const char         *finish, *msg;
    airouter_dusage_t   u;

    (void) event;
    (void) elen;

    if (n >= 6 && memcmp(p, "[DONE]", 6) == 0) {
        airouter_dev_done(ps, k);
        return;
    }

    root = json_loadb(p, n, 0, NULL);
    if (!json_is_object(root)) {
        /* not a chunk: skipped, as clients do */
        json_decref(root);
        return;
    }

    err = json_object_get(root, "error");
    if (err && !json_is_null(err)) {
        msg = json_is_string(err) ? json_string_value(err)
                                  : airouter_dj_str(err, "message");
        airouter_dev_error(ps, k, 502, NULL,
                           msg ? msg : "the upstream reported an error");
        json_decref(root);
        return;
    }

    airouter_dev_start(ps, k, airouter_dj_str(root, "id"),
                       airouter_dj_str(root, "model"));

    choice = json_array_get(json_object_get(root, "choices"), 0);

    if (json_is_object(choice)
        && json_integer_value(json_object_get(choice, "index")) == 0)
    {
        airouter_chat_parse_message(ps, json_object_get(choice, "delta"),
                                    ctx, k);

        finish = airouter_dj_str(choice, "finish_reason");
        if (finish) {
            airouter_dev_finish(ps, k, airouter_finish_from_chat(finish));
        }
    }

    usage = json_object_get(root, "usage");
    if (json_is_object(usage) && airouter_dusage_from_chat(usage, &u)) {
        airouter_dev_usage(k, &u);
    }

    json_decref(root);
}


/* A message or a delta: reasoning, content, refusal, tool calls. */
static void
airouter_chat_parse_message(airouter_dparse_t *ps, json_t *msg,
    const airouter_dctx_t *ctx, airouter_dsink_t *k)
{
    json_t  *v, *fc, *call;

    if (!json_is_object(msg)) {
        return;
    }

    /* DeepSeek's name, then OpenRouter's */
    v = json_object_get(msg, "reasoning_content");
    if (!json_is_string(v)) {
        v = json_object_get(msg, "reasoning");
    }

    airouter_chat_text(v, AIROUTER_DEV_REASONING, k);
    airouter_chat_text(json_object_get(msg, "content"), AIROUTER_DEV_TEXT, k);
    airouter_chat_text(json_object_get(msg, "refusal"), AIROUTER_DEV_TEXT, k);

    airouter_chat_parse_tools(ps, json_object_get(msg, "tool_calls"), ctx, k);

    /* the legacy single function call, as tool call 0 */
    fc = json_object_get(msg, "function_call");
    if (json_is_object(fc)) {
        call = json_pack("{s:i,s:O}", "index", 0, "function", fc);
        if (call) {
            v = json_pack("[o]", call);
            airouter_chat_parse_tools(ps, v, ctx, k);
            json_decref(v);
        }
    }
}


static void
airouter_chat_parse_tools(airouter_dparse_t *ps, json_t *calls,
    const airouter_dctx_t *ctx, airouter_dsink_t *k)
{
    long              index;
    char              gen[80];
    size_t            i;
    json_t           *call, *fn, *v;
    const char       *id, *name;
    airouter_dmap_t  *m;

    json_array_foreach(calls, i, call) {
        if (!json_is_object(call)) {
            continue;
        }

        v = json_object_get(call, "index");
        index = json_is_integer(v) ? (long) json_integer_value(v) : (long) i;

        fn = json_object_get(call, "function");
        id = airouter_dj_str(call, "id");
        name = airouter_dj_str(fn, "name");

        m = airouter_dparse_map(ps, index, 0);

        if (m == NULL) {
            m = airouter_dparse_map(ps, index, 1);
            if (m == NULL) {
                airouter_dev_error(ps, k, 500, NULL, "out of memory");
                return;
            }

            m->kind = AIROUTER_DBLOCK_TOOL;
            m->tool = ps->ntools++;

            if (id == NULL || id[0] == '\0') {
                snprintf(gen, sizeof(gen), "call_%s_%ld", ctx->id, m->tool);
                id = gen;
            }

            airouter_dev_tool(k, m->tool, id, name);
        }

        v = json_object_get(fn, "arguments");
        if (json_is_string(v)) {
            airouter_dev_args(k, m->tool, json_string_value(v),
                              json_string_length(v));

        } else if (json_is_object(v)) {
            /* some upstreams send the arguments as an object */
            airouter_dbuf_t  b;

            airouter_dbuf_init(&b);
            airouter_dbuf_json(&b, v);
            if (!b.failed) {
                airouter_dev_args(k, m->tool, b.data, b.len);
            }
            airouter_dbuf_free(&b);
        }
    }
}


static void
airouter_chat_text(json_t *v, airouter_dev_kind_e kind, airouter_dsink_t *k)
{
    size_t   i;
    json_t  *part, *t;

    if (json_is_string(v)) {
        airouter_dev_text(k, kind, json_string_value(v),
                          json_string_length(v));
        return;
    }

    /* content as text parts */
    json_array_foreach(v, i, part) {
        t = json_object_get(part, "text");
        if (json_is_string(t)) {
            airouter_dev_text(k, kind, json_string_value(t),
                              json_string_length(t));
        }
    }
}


static int
airouter_chat_parse_error(json_t *root, const char **type, const char **code,
    const char **message)
{
    json_t  *err;

    err = json_object_get(root, "error");

    if (json_is_string(err)) {
        *message = json_string_value(err);
        return 0;
    }

    if (!json_is_object(err)) {
        *message = airouter_dj_str(root, "message");
        return *message ? 0 : -1;
    }

    *message = airouter_dj_str(err, "message");
    *type = airouter_dj_str(err, "type");
    *code = airouter_dj_str(err, "code");

    return *message ? 0 : -1;
}
