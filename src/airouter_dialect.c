/*
 * The dialect translators' common part (see airouter_dialect.h): the table
 * of dialects, the entry points that pick a dialect's functions, the SSE
 * reader and the stream object, the accumulator that gathers events into
 * a whole answer, and the helpers the dialect files share.
 */

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "airouter_json_scan.h"
#include "airouter_dialect_impl.h"


/* the longest upstream event (or line) a stream accepts */
#define AIROUTER_DSSE_MAX  (8 * 1024 * 1024)


typedef void (*airouter_dsse_pt)(void *data, const char *event, size_t elen,
    const char *p, size_t n);


/* An SSE reader: lines cut anywhere, CR, LF or CRLF, comments, fields. */
typedef struct {
    airouter_dbuf_t           line;
    airouter_dbuf_t           data;
    char                      event[64];
    size_t                    elen;
    unsigned                  cr:1;         /* a CR ended the last line */
    unsigned                  has_data:1;
    unsigned                  overflow:1;   /* an event was too large */
} airouter_dsse_t;


struct airouter_dstream_s {
    airouter_dsink_t          tap;      /* first: records, then forwards */
    const airouter_dialect_ops_t  *from;
    airouter_dsink_t         *sink;     /* NULL: usage only */
    const airouter_dctx_t    *ctx;
    airouter_dsse_t           sse;
    airouter_dparse_t         parse;
    airouter_dusage_t         usage;
    unsigned                  has_usage:1;
    unsigned                  finished:1;   /* FINISH seen */
    unsigned                  done:1;
    unsigned                  error:1;
    unsigned                  closed:1;     /* finish() called */
};


static const airouter_dialect_ops_t  *airouter_dialects[] = {
#define AIROUTER_DIALECT_OPS(id, name, wire)  &airouter_dialect_##name,
    AIROUTER_DIALECTS(AIROUTER_DIALECT_OPS)
#undef AIROUTER_DIALECT_OPS
};


static void airouter_dsse_feed(airouter_dsse_t *r, const char *p, size_t n,
    airouter_dsse_pt handler, void *data);
static void airouter_dsse_end(airouter_dsse_t *r, airouter_dsse_pt handler,
    void *data);
static void airouter_dsse_line(airouter_dsse_t *r, airouter_dsse_pt handler,
    void *data);
static void airouter_dstream_event(void *data, const char *event,
    size_t elen, const char *p, size_t n);
static void airouter_dstream_tap(airouter_dsink_t *k,
    const airouter_dev_t *ev);
static void airouter_danswer_event(airouter_dsink_t *k,
    const airouter_dev_t *ev);
static airouter_dblock_t *airouter_danswer_block(airouter_danswer_t *a,
    int kind, long index, int fresh);
static char *airouter_dstrdup(const char *s);
static int airouter_dialect_embed_answer(airouter_dialect_e from,
    airouter_dialect_e to, const airouter_dctx_t *ctx, const char *p,
    size_t n, airouter_dbuf_t *out, airouter_dusage_t *usage);
static int airouter_dialect_gemini_version(const char *path, size_t n,
    size_t *end);
static int airouter_dbuf_reserve(airouter_dbuf_t *b, size_t n);
static int airouter_dbuf_dump(const char *p, size_t n, void *data);


const char *
airouter_dialect_name(airouter_dialect_e d)
{
    return (d < AIROUTER_DIALECT_N) ? airouter_dialects[d]->name : "none";
}


const char *
airouter_dialect_key_hint(airouter_dialect_e d)
{
    return airouter_dialects[d < AIROUTER_DIALECT_N ? d
                                                    : AIROUTER_DIALECT_OPENAI]
           ->key_hint;
}


int
airouter_dialect_by_name(const char *name, size_t n)
{
    int  d;

    for (d = 0; d < AIROUTER_DIALECT_N; d++) {
        if (strlen(airouter_dialects[d]->name) == n
            && memcmp(airouter_dialects[d]->name, name, n) == 0)
        {
            return d;
        }
    }

    return -1;
}


int
airouter_dialect_upstream(airouter_dialect_e d)
{
    return d < AIROUTER_DIALECT_N
           && (d == AIROUTER_DIALECT_OPENAI
               || airouter_dialects[d]->from_chat != NULL)
           && airouter_dialects[d]->parse_answer
           && airouter_dialects[d]->parse_event;
}


int
airouter_dialect_route(const char *path, size_t n, airouter_droute_t *rt)
{
    size_t       i, k, m, v;
    const char  *colon;
    static const struct {
        const char         *suffix;
        airouter_dialect_e  dialect;
        int                 count;
    } ends[] = {
        { "/v1/messages", AIROUTER_DIALECT_ANTHROPIC, 0 },
        { "/v1/messages/count_tokens", AIROUTER_DIALECT_ANTHROPIC, 1 },
        { "/v1/responses", AIROUTER_DIALECT_RESPONSES, 0 },
    };
    static const char  *versions[] = {
        "/v1beta/models/", "/v1/models/", "/v1alpha/models/"
    };
    /* Gemini's methods, after the model's ':' */
    static const struct {
        const char         *name;
        unsigned            count:1;
        unsigned            stream:1;
        unsigned            embed:1;
        unsigned            batch:1;
    } methods[] = {
        { "generateContent", 0, 0, 0, 0 },
        { "countTokens", 1, 0, 0, 0 },
        { "streamGenerateContent", 0, 1, 0, 0 },
        { "embedContent", 0, 0, 1, 0 },
        { "batchEmbedContents", 0, 0, 1, 1 },
    };

    memset(rt, 0, sizeof(airouter_droute_t));
    v = 0;

    for (i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
        k = strlen(ends[i].suffix);

        if (n >= k && memcmp(path + n - k, ends[i].suffix, k) == 0) {
            rt->dialect = ends[i].dialect;
            rt->count = ends[i].count;
            return 1;
        }
    }

    /* the first version segment: a model name may hold "/v1/models/" */
    for (i = 0; i + 8 < n; i++) {
        if (path[i] != '/') {
            continue;
        }

        for (v = 0; v < sizeof(versions) / sizeof(versions[0]); v++) {
            k = strlen(versions[v]);

            if (n - i > k && memcmp(path + i, versions[v], k) == 0) {
                break;
            }
        }

        if (v < sizeof(versions) / sizeof(versions[0])) {
            break;
        }
    }

    if (i + 8 >= n) {
        return 0;
    }

    /* the method follows the last ':' */
    for (colon = NULL, k = n; k > i; k--) {
        if (path[k - 1] == ':') {
            colon = path + k - 1;
            break;
        }
    }

    if (colon == NULL) {
        return 0;
    }

    k = n - (colon + 1 - path);

    for (m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
        if (k == strlen(methods[m].name)
            && memcmp(colon + 1, methods[m].name, k) == 0)
        {
            break;
        }
    }

    if (m == sizeof(methods) / sizeof(methods[0])) {
        return 0;
    }

    rt->count = methods[m].count;
    rt->stream = methods[m].stream;
    rt->embed = methods[m].embed;
    rt->batch = methods[m].batch;

    rt->model = i + strlen(versions[v]);

    if ((size_t) (colon - path) <= rt->model) {
        return 0;
    }

    rt->model_len = (colon - path) - rt->model;

    rt->dialect = AIROUTER_DIALECT_GEMINI;

    return 1;
}


airouter_dialect_e
airouter_dialect_of_path(const char *path, size_t n)
{
    airouter_droute_t  rt;

    if (airouter_dialect_route(path, n, &rt)) {
        return rt.dialect;
    }

    if (airouter_dialect_gemini_version(path, n, NULL)) {
        return AIROUTER_DIALECT_GEMINI;
    }

    return AIROUTER_DIALECT_OPENAI;
}


int
airouter_dialect_gemini_models(const char *path, size_t n, size_t *model,
    size_t *model_len)
{
    size_t  v, k, i;

    if (!airouter_dialect_gemini_version(path, n, &v)) {
        return 0;
    }

    /* v: just past ".../v1beta" */
    k = sizeof("/models") - 1;

    if (n - v < k || memcmp(path + v, "/models", k) != 0) {
        return 0;
    }

    v += k;

    if (v == n || (v + 1 == n && path[v] == '/')) {
        return 1;
    }

    if (path[v] != '/') {
        return 0;
    }

    v++;

    /* a name with "/" (an OpenRouter-style id), never a ':' method */
    for (i = v; i < n; i++) {
        if (path[i] == ':') {
            return 0;
        }
    }

    *model = v;
    *model_len = n - v;

    return 2;
}


/*
 * The first ".../v1beta" or ".../v1alpha" segment of path (followed by '/'
 * or the end): 1 with *end just past it, else 0.
 */
static int
airouter_dialect_gemini_version(const char *path, size_t n, size_t *end)
{
    size_t              i, v, k;
    static const char  *versions[] = { "/v1beta", "/v1alpha" };

    for (i = 0; i < n; i++) {
        if (path[i] != '/') {
            continue;
        }

        for (v = 0; v < sizeof(versions) / sizeof(versions[0]); v++) {
            k = strlen(versions[v]);

            if (n - i >= k && memcmp(path + i, versions[v], k) == 0
                && (n - i == k || path[i + k] == '/'))
            {
                if (end) {
                    *end = i + k;
                }

                return 1;
            }
        }
    }

    return 0;
}


void
airouter_dialect_auth(const airouter_channel_t *ch, const char **header,
    const char **prefix, const char **version)
{
    const airouter_provider_t  *pv;

    *header = "Authorization";
    *prefix = "Bearer ";
    *version = NULL;

    if (ch->dialect == AIROUTER_DIALECT_ANTHROPIC) {
        *header = "x-api-key";
        *prefix = "";
        *version = AIROUTER_DIALECT_ANTHROPIC_VERSION;
    }

    pv = ch->provider;

    if (pv && pv->auth_type && strcmp(pv->auth_type, "bearer") != 0
        && pv->auth_header)
    {
        *header = pv->auth_header;
        *prefix = "";
    }
}


void
airouter_dctx_init(airouter_dctx_t *ctx, airouter_dialect_e client)
{
    memset(ctx, 0, sizeof(airouter_dctx_t));
    ctx->client = client;
    memcpy(ctx->id, "0", 2);
    ctx->max_tokens = 4096;
}


void
airouter_dctx_free(airouter_dctx_t *ctx)
{
    if (ctx->echo) {
        json_decref(ctx->echo);
        ctx->echo = NULL;
    }
}


int
airouter_dialect_request(airouter_dialect_e from, airouter_dialect_e to,
    json_t *req, airouter_dctx_t *ctx, json_t **out, airouter_derr_t *err)
{
    int                            rc;
    json_t                        *chat;
    const airouter_dialect_ops_t  *f, *t;

    *out = NULL;
    memset(err, 0, sizeof(airouter_derr_t));

    if (from >= AIROUTER_DIALECT_N || to >= AIROUTER_DIALECT_N) {
        airouter_derr_set(err, "invalid_dialect", "unknown dialect");
        return -1;
    }

    if (!json_is_object(req)) {
        airouter_derr_set(err, "invalid_request",
                          "the request body must be a JSON object");
        return -1;
    }

    f = airouter_dialects[from];
    t = airouter_dialects[to];

    if (from == to) {
        *out = json_deep_copy(req);
        return *out ? 0 : -1;
    }

    if (to != AIROUTER_DIALECT_OPENAI && t->from_chat == NULL) {
        airouter_derr_set(err, "invalid_dialect",
                          "no channel speaks %s", t->name);
        return -1;
    }

    if (from == AIROUTER_DIALECT_OPENAI) {
        chat = json_deep_copy(req);
        if (chat == NULL) {
            airouter_derr_set(err, "out_of_memory", "out of memory");
            return -1;
        }

    } else if (f->to_chat(req, ctx, &chat, err) != 0) {
        return -1;
    }

    if (to == AIROUTER_DIALECT_OPENAI) {
        *out = chat;
        return 0;
    }

    rc = t->from_chat(chat, ctx, out, err);
    json_decref(chat);

    return rc;
}


int
airouter_dialect_answer(airouter_dialect_e from, airouter_dialect_e to,
    const airouter_dctx_t *ctx, const char *p, size_t n,
    airouter_dbuf_t *out, airouter_dusage_t *usage)
{
    int                 rc;
    size_t              len;
    json_t             *root;
    airouter_danswer_t  a;

    if (from >= AIROUTER_DIALECT_N || to >= AIROUTER_DIALECT_N
        || airouter_dialects[from]->parse_answer == NULL)
    {
        return -1;
    }

    if (ctx->embed) {
        return airouter_dialect_embed_answer(from, to, ctx, p, n, out,
                                             usage);
    }

    root = json_loadb(p, n, 0, NULL);
    if (root == NULL) {
        return -1;
    }

    airouter_danswer_init(&a, ctx);

    rc = airouter_dialects[from]->parse_answer(root, ctx, &a.sink);
    json_decref(root);

    if (rc != 0 || a.failed) {
        airouter_danswer_free(&a);
        return -1;
    }

    if (usage) {
        if (a.has_usage) {
            *usage = a.usage;

        } else {
            airouter_dusage_init(usage);
        }
    }

    len = out->len;

    if (from == to) {
        airouter_dbuf_add(out, p, n);

    } else {
        airouter_dialects[to]->answer(&a, ctx, out);
    }

    airouter_danswer_free(&a);

    if (out->failed) {
        out->len = len;
        return -1;
    }

    return 0;
}


/*
 * An embedding request's answer: OpenAI's embeddings list (the only
 * upstream an embedding request reaches) in the client's shape; its
 * usage is chat's (prompt_tokens, total_tokens).
 */
static int
airouter_dialect_embed_answer(airouter_dialect_e from, airouter_dialect_e to,
    const airouter_dctx_t *ctx, const char *p, size_t n,
    airouter_dbuf_t *out, airouter_dusage_t *usage)
{
    int      rc;
    size_t   len;
    json_t  *root;

    if (from != AIROUTER_DIALECT_OPENAI
        || airouter_dialects[to]->embed_answer == NULL)
    {
        return -1;
    }

    root = json_loadb(p, n, 0, NULL);
    if (root == NULL) {
        return -1;
    }

    len = out->len;
    rc = airouter_dialects[to]->embed_answer(root, ctx, out);

    if (rc == 0 && usage) {
        (void) airouter_dusage_from_chat(json_object_get(root, "usage"),
                                         usage);
    }

    json_decref(root);

    if (rc != 0 || out->failed) {
        out->len = len;
        return -1;
    }

    return 0;
}


void
airouter_dialect_error(airouter_dialect_e d, int status, const char *type,
    const char *code, const char *message, int stream, airouter_dbuf_t *out)
{
    if (d >= AIROUTER_DIALECT_N) {
        d = AIROUTER_DIALECT_OPENAI;
    }

    airouter_dialects[d]->error(status, type, code,
                                message ? message : "error", stream, out);
}


void
airouter_dialect_error_translate(airouter_dialect_e from,
    airouter_dialect_e to, int status, const char *p, size_t n,
    airouter_dbuf_t *out)
{
    json_t      *root;
    const char  *type, *code, *message;

    type = NULL;
    code = NULL;
    message = NULL;
    root = NULL;

    if (from < AIROUTER_DIALECT_N && airouter_dialects[from]->parse_error) {
        root = json_loadb(p, n, 0, NULL);
        if (root
            && airouter_dialects[from]->parse_error(root, &type, &code,
                                                    &message)
               != 0)
        {
            type = NULL;
            code = NULL;
            message = NULL;
        }
    }

    if (message == NULL) {
        message = "the upstream answered with an error";
    }

    airouter_dialect_error(to, status, type, code, message, 0, out);

    if (root) {
        json_decref(root);
    }
}


int
airouter_dialect_usage(airouter_dialect_e d, const char *p, size_t n,
    airouter_dusage_t *usage)
{
    int      rc;
    json_t  *root;

    airouter_dusage_init(usage);

    if (d >= AIROUTER_DIALECT_N || airouter_dialects[d]->usage == NULL) {
        return 0;
    }

    root = json_loadb(p, n, 0, NULL);
    if (root == NULL) {
        return 0;
    }

    rc = json_is_object(root) ? airouter_dialects[d]->usage(root, usage) : 0;

    json_decref(root);

    return rc;
}


int
airouter_dialect_beta_ok(const char *p, size_t n)
{
    size_t  i, start, end;

    if (n == 0 || n > 1024) {
        return 0;
    }

    /* each comma-separated element, spaces trimmed, is one whole name */
    for (start = 0; start <= n; start = end + 1) {
        end = start;
        while (end < n && p[end] != ',') {
            end++;
        }

        i = start;
        while (i < end && p[i] == ' ') {
            i++;
        }

        if (i == end) {
            return 0;
        }

        while (i < end && (isalnum((unsigned char) p[i]) || p[i] == '-'
                           || p[i] == '_' || p[i] == '.'))
        {
            i++;
        }

        while (i < end && p[i] == ' ') {
            i++;
        }

        if (i != end) {
            return 0;
        }
    }

    return 1;
}


void
airouter_dialect_count_answer(airouter_dialect_e d, long tokens,
    airouter_dbuf_t *out)
{
    airouter_dbuf_str(out, d == AIROUTER_DIALECT_GEMINI ? "{\"totalTokens\":"
                                                        : "{\"input_tokens\":");
    airouter_dbuf_long(out, tokens < 0 ? 0 : tokens);
    airouter_dbuf_str(out, "}");
}


/* streams */

airouter_dstream_t *
airouter_dstream_create(airouter_dialect_e from, airouter_dialect_e to,
    const airouter_dctx_t *ctx)
{
    airouter_dstream_t  *s;

    if (from >= AIROUTER_DIALECT_N || to > AIROUTER_DIALECT_N
        || airouter_dialects[from]->parse_event == NULL)
    {
        return NULL;
    }

    if (to != AIROUTER_DIALECT_N && !airouter_dialect_upstream(from)) {
        /* read for its usage only (a stream passed through) */
        return NULL;
    }

    s = calloc(1, sizeof(airouter_dstream_t));
    if (s == NULL) {
        return NULL;
    }

    s->tap.event = airouter_dstream_tap;
    s->tap.ctx = ctx;
    s->from = airouter_dialects[from];
    s->ctx = ctx;
    airouter_dusage_init(&s->usage);

    if (to < AIROUTER_DIALECT_N) {
        s->sink = airouter_dialects[to]->sink(ctx);
        if (s->sink == NULL) {
            free(s);
            return NULL;
        }
    }

    return s;
}


void
airouter_dstream_feed(airouter_dstream_t *s, const char *p, size_t n,
    airouter_dbuf_t *out)
{
    if (s->closed || s->done || s->error) {
        return;
    }

    s->tap.out = out;
    if (s->sink) {
        s->sink->out = out;
    }

    airouter_dsse_feed(&s->sse, p, n, airouter_dstream_event, s);

    if (s->sse.overflow && !s->done && !s->error) {
        airouter_dev_error(&s->parse, &s->tap, 502, NULL,
                           "the upstream sent an event too large to read");
    }
}


void
airouter_dstream_finish(airouter_dstream_t *s, const char *message,
    airouter_dbuf_t *out)
{
    if (s->closed) {
        return;
    }

    s->tap.out = out;
    if (s->sink) {
        s->sink->out = out;
    }

    if (!s->done && !s->error) {
        airouter_dsse_end(&s->sse, airouter_dstream_event, s);
    }

    s->closed = 1;

    if (s->done || s->error) {
        return;
    }

    /* an upstream that said why it stopped and then closed without its
     * final marker ([DONE], message_stop) has said all it had to say */
    if (s->finished) {
        airouter_dev_done(&s->parse, &s->tap);
        return;
    }

    airouter_dev_error(&s->parse, &s->tap, 502, NULL,
                       message ? message
                               : "the upstream ended the stream early");
}


int
airouter_dstream_state(const airouter_dstream_t *s)
{
    return s->error ? -1 : s->done ? 1 : 0;
}


int
airouter_dstream_usage(const airouter_dstream_t *s, airouter_dusage_t *usage)
{
    *usage = s->usage;
    return s->has_usage;
}


void
airouter_dstream_destroy(airouter_dstream_t *s)
{
    if (s == NULL) {
        return;
    }

    if (s->sink) {
        s->sink->destroy(s->sink);
    }

    airouter_dbuf_free(&s->sse.line);
    airouter_dbuf_free(&s->sse.data);
    free(s->parse.map);
    free(s);
}


static void
airouter_dstream_event(void *data, const char *event, size_t elen,
    const char *p, size_t n)
{
    airouter_dstream_t  *s;

    s = data;

    if (s->done || s->error) {
        return;
    }

    s->from->parse_event(&s->parse, event, elen, p, n, s->ctx, &s->tap);
}


static void
airouter_dstream_tap(airouter_dsink_t *k, const airouter_dev_t *ev)
{
    airouter_dstream_t  *s;

    s = (airouter_dstream_t *) k;

    switch (ev->kind) {
    case AIROUTER_DEV_USAGE:
        s->usage = *ev->usage;
        s->has_usage = 1;
        break;

    case AIROUTER_DEV_FINISH:
        s->finished = 1;
        break;

    case AIROUTER_DEV_DONE:
        s->done = 1;
        break;

    case AIROUTER_DEV_ERROR:
        s->error = 1;
        break;

    default:
        break;
    }

    if (s->sink) {
        s->sink->event(s->sink, ev);
    }
}


/* the SSE reader */

static void
airouter_dsse_feed(airouter_dsse_t *r, const char *p, size_t n,
    airouter_dsse_pt handler, void *data)
{
    size_t  i;

    while (n && !r->overflow) {
        if (r->cr) {
            r->cr = 0;

            if (*p == '\n') {
                p++;
                n--;
                continue;
            }
        }

        for (i = 0; i < n && p[i] != '\n' && p[i] != '\r'; i++) {
            /* void */
        }

        if (r->line.len + i > AIROUTER_DSSE_MAX) {
            r->overflow = 1;
            return;
        }

        airouter_dbuf_add(&r->line, p, i);

        if (i == n) {
            return;
        }

        r->cr = (p[i] == '\r');

        airouter_dsse_line(r, handler, data);

        p += i + 1;
        n -= i + 1;
    }
}


static void
airouter_dsse_end(airouter_dsse_t *r, airouter_dsse_pt handler, void *data)
{
    if (r->overflow) {
        return;
    }

    if (r->line.len) {
        airouter_dsse_line(r, handler, data);
    }

    /* lenient: an event whose blank line never came still counts */
    if (r->has_data && !r->overflow) {
        r->line.len = 0;
        airouter_dsse_line(r, handler, data);
    }
}


static void
airouter_dsse_line(airouter_dsse_t *r, airouter_dsse_pt handler, void *data)
{
    char    *line, *colon, *value;
    size_t   len, flen, vlen;

    line = r->line.data;
    len = r->line.len;
    r->line.len = 0;

    if (r->line.failed || r->data.failed) {
        r->overflow = 1;
        return;
    }

    if (len == 0) {
        if (r->has_data) {
            handler(data, r->event, r->elen, r->data.data, r->data.len);
        }

        r->data.len = 0;
        r->has_data = 0;
        r->elen = 0;
        return;
    }

    if (line[0] == ':') {
        return;
    }

    colon = memchr(line, ':', len);
    flen = colon ? (size_t) (colon - line) : len;
    value = colon ? colon + 1 : line + len;
    vlen = len - (value - line);

    if (vlen && *value == ' ') {
        value++;
        vlen--;
    }

    if (flen == 4 && memcmp(line, "data", 4) == 0) {
        if (r->data.len + vlen + 1 > AIROUTER_DSSE_MAX) {
            r->overflow = 1;
            return;
        }

        if (r->has_data) {
            airouter_dbuf_add(&r->data, "\n", 1);
        }

        airouter_dbuf_add(&r->data, value, vlen);
        r->has_data = 1;

    } else if (flen == 5 && memcmp(line, "event", 5) == 0) {
        /* an unknown long name matches nothing */
        r->elen = (vlen < sizeof(r->event)) ? vlen : 0;
        memcpy(r->event, value, r->elen);
    }
}


/* events, for readers */

void
airouter_dev_start(airouter_dparse_t *ps, airouter_dsink_t *k,
    const char *id, const char *model)
{
    airouter_dev_t  ev;

    if (ps->started) {
        return;
    }

    ps->started = 1;

    memset(&ev, 0, sizeof(airouter_dev_t));
    ev.kind = AIROUTER_DEV_START;
    ev.id = id ? id : "";
    ev.name = model ? model : "";
    k->event(k, &ev);
}


void
airouter_dev_text(airouter_dsink_t *k, airouter_dev_kind_e kind,
    const char *p, size_t n)
{
    airouter_dev_t  ev;

    if (n == 0) {
        return;
    }

    memset(&ev, 0, sizeof(airouter_dev_t));
    ev.kind = kind;
    ev.data = p;
    ev.len = n;
    k->event(k, &ev);
}


void
airouter_dev_tool(airouter_dsink_t *k, long index, const char *id,
    const char *name)
{
    airouter_dev_t  ev;

    memset(&ev, 0, sizeof(airouter_dev_t));
    ev.kind = AIROUTER_DEV_TOOL;
    ev.index = index;
    ev.id = id ? id : "";
    ev.name = name ? name : "";
    k->event(k, &ev);
}


void
airouter_dev_args(airouter_dsink_t *k, long index, const char *p, size_t n)
{
    airouter_dev_t  ev;

    if (n == 0) {
        return;
    }

    memset(&ev, 0, sizeof(airouter_dev_t));
    ev.kind = AIROUTER_DEV_ARGS;
    ev.index = index;
    ev.data = p;
    ev.len = n;
    k->event(k, &ev);
}


void
airouter_dev_finish(airouter_dparse_t *ps, airouter_dsink_t *k,
    airouter_finish_e why)
{
    airouter_dev_t  ev;

    if (ps->finished) {
        return;
    }

    ps->finished = 1;

    memset(&ev, 0, sizeof(airouter_dev_t));
    ev.kind = AIROUTER_DEV_FINISH;
    ev.finish = why;
    k->event(k, &ev);
}


void
airouter_dev_usage(airouter_dsink_t *k, const airouter_dusage_t *u)
{
    airouter_dev_t  ev;

    memset(&ev, 0, sizeof(airouter_dev_t));
    ev.kind = AIROUTER_DEV_USAGE;
    ev.usage = u;
    k->event(k, &ev);
}


void
airouter_dev_done(airouter_dparse_t *ps, airouter_dsink_t *k)
{
    airouter_dev_t  ev;

    if (ps->done) {
        return;
    }

    ps->done = 1;

    memset(&ev, 0, sizeof(airouter_dev_t));
    ev.kind = AIROUTER_DEV_DONE;
    k->event(k, &ev);
}


void
airouter_dev_error(airouter_dparse_t *ps, airouter_dsink_t *k, int status,
    const char *etype, const char *message)
{
    airouter_dev_t  ev;

    if (ps->done) {
        return;
    }

    ps->done = 1;

    memset(&ev, 0, sizeof(airouter_dev_t));
    ev.kind = AIROUTER_DEV_ERROR;
    ev.status = status;
    ev.etype = etype;
    ev.data = message ? message : "error";
    ev.len = strlen(ev.data);
    k->event(k, &ev);
}


airouter_dmap_t *
airouter_dparse_map(airouter_dparse_t *ps, long key, int add)
{
    size_t            i, cap;
    airouter_dmap_t  *m;

    for (i = ps->nmap; i > 0; i--) {
        if (ps->map[i - 1].key == key) {
            return &ps->map[i - 1];
        }
    }

    if (!add) {
        return NULL;
    }

    if (ps->nmap == ps->cap) {
        cap = ps->cap ? ps->cap * 2 : 8;
        m = realloc(ps->map, cap * sizeof(airouter_dmap_t));
        if (m == NULL) {
            return NULL;
        }

        ps->map = m;
        ps->cap = cap;
    }

    m = &ps->map[ps->nmap++];
    memset(m, 0, sizeof(airouter_dmap_t));
    m->key = key;
    m->tool = -1;

    return m;
}


/* the accumulator */

void
airouter_danswer_init(airouter_danswer_t *a, const airouter_dctx_t *ctx)
{
    memset(a, 0, sizeof(airouter_danswer_t));
    a->sink.event = airouter_danswer_event;
    a->sink.ctx = ctx;
    airouter_dusage_init(&a->usage);
}


void
airouter_danswer_free(airouter_danswer_t *a)
{
    size_t  i;

    for (i = 0; i < a->nblocks; i++) {
        free(a->blocks[i].id);
        free(a->blocks[i].name);
        airouter_dbuf_free(&a->blocks[i].data);
    }

    free(a->blocks);
    free(a->id);
    free(a->model);
    free(a->etype);
    free(a->message);
    a->blocks = NULL;
    a->nblocks = 0;
}


static void
airouter_danswer_event(airouter_dsink_t *k, const airouter_dev_t *ev)
{
    airouter_dblock_t   *b;
    airouter_danswer_t  *a;

    a = (airouter_danswer_t *) k;

    switch (ev->kind) {
    case AIROUTER_DEV_START:
        a->started = 1;
        free(a->id);
        free(a->model);
        a->id = airouter_dstrdup(ev->id);
        a->model = airouter_dstrdup(ev->name);
        if (a->id == NULL || a->model == NULL) {
            a->failed = 1;
        }
        break;

    case AIROUTER_DEV_TEXT:
    case AIROUTER_DEV_REASONING:
        b = airouter_danswer_block(a, ev->kind == AIROUTER_DEV_TEXT
                                      ? AIROUTER_DBLOCK_TEXT
                                      : AIROUTER_DBLOCK_REASONING, 0, 0);
        if (b == NULL || airouter_dbuf_add(&b->data, ev->data, ev->len)) {
            a->failed = 1;
        }
        break;

    case AIROUTER_DEV_TOOL:
        b = airouter_danswer_block(a, AIROUTER_DBLOCK_TOOL, ev->index, 1);
        if (b == NULL) {
            a->failed = 1;
            break;
        }

        if (b->id == NULL || (b->id[0] == '\0' && ev->id[0])) {
            free(b->id);
            b->id = airouter_dstrdup(ev->id);
        }

        if (b->name == NULL || (b->name[0] == '\0' && ev->name[0])) {
            free(b->name);
            b->name = airouter_dstrdup(ev->name);
        }

        if (b->id == NULL || b->name == NULL) {
            a->failed = 1;
        }
        break;

    case AIROUTER_DEV_ARGS:
        b = airouter_danswer_block(a, AIROUTER_DBLOCK_TOOL, ev->index, 0);
        if (b == NULL || airouter_dbuf_add(&b->data, ev->data, ev->len)) {
            a->failed = 1;
        }
        break;

    case AIROUTER_DEV_FINISH:
        a->finish = ev->finish;
        break;

    case AIROUTER_DEV_USAGE:
        a->usage = *ev->usage;
        a->has_usage = 1;
        break;

    case AIROUTER_DEV_DONE:
        a->done = 1;
        break;

    case AIROUTER_DEV_ERROR:
        a->error = 1;
        a->status = ev->status;
        free(a->etype);
        free(a->message);
        a->etype = ev->etype ? airouter_dstrdup(ev->etype) : NULL;
        a->message = malloc(ev->len + 1);
        if (a->message) {
            memcpy(a->message, ev->data, ev->len);
            a->message[ev->len] = '\0';
        }
        break;
    }
}


/*
 * The block an event adds to: text and reasoning continue the last block
 * when it is of their kind; a tool's arguments go to its block wherever
 * it is (fresh: a new call with that index starts a block unless the
 * last one is that call).
 */
static airouter_dblock_t *
airouter_danswer_block(airouter_danswer_t *a, int kind, long index,
    int fresh)
{
    size_t              i, cap;
    airouter_dblock_t  *b;

    if (a->nblocks) {
        b = &a->blocks[a->nblocks - 1];

        if (b->kind == kind
            && (kind != AIROUTER_DBLOCK_TOOL || b->index == index))
        {
            return b;
        }
    }

    if (kind == AIROUTER_DBLOCK_TOOL && !fresh) {
        for (i = a->nblocks; i > 0; i--) {
            b = &a->blocks[i - 1];
            if (b->kind == kind && b->index == index) {
                return b;
            }
        }
    }

    if (a->nblocks == a->cap) {
        cap = a->cap ? a->cap * 2 : 4;
        b = realloc(a->blocks, cap * sizeof(airouter_dblock_t));
        if (b == NULL) {
            return NULL;
        }

        a->blocks = b;
        a->cap = cap;
    }

    b = &a->blocks[a->nblocks++];
    memset(b, 0, sizeof(airouter_dblock_t));
    b->kind = kind;
    b->index = index;

    return b;
}


/* buffers */

void
airouter_dbuf_init(airouter_dbuf_t *b)
{
    memset(b, 0, sizeof(airouter_dbuf_t));
}


void
airouter_dbuf_free(airouter_dbuf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof(airouter_dbuf_t));
}


static int
airouter_dbuf_reserve(airouter_dbuf_t *b, size_t n)
{
    char    *nd;
    size_t   cap;

    if (b->failed) {
        return -1;
    }

    if (n <= b->cap - b->len) {
        return 0;
    }

    cap = b->cap ? b->cap : 256;

    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2) {
            b->failed = 1;
            return -1;
        }

        cap *= 2;
    }

    nd = realloc(b->data, cap);
    if (nd == NULL) {
        b->failed = 1;
        return -1;
    }

    b->data = nd;
    b->cap = cap;

    return 0;
}


int
airouter_dbuf_add(airouter_dbuf_t *b, const void *p, size_t n)
{
    if (n == 0) {
        return b->failed ? -1 : 0;
    }

    if (airouter_dbuf_reserve(b, n) != 0) {
        return -1;
    }

    memcpy(b->data + b->len, p, n);
    b->len += n;

    return 0;
}


int
airouter_dbuf_str(airouter_dbuf_t *b, const char *s)
{
    return airouter_dbuf_add(b, s, strlen(s));
}


int
airouter_dbuf_quote(airouter_dbuf_t *b, const char *p, size_t n)
{
    if (airouter_dbuf_reserve(b, airouter_json_quoted_len(p, n)) != 0) {
        return -1;
    }

    b->len += airouter_json_quote(b->data + b->len, p, n);

    return 0;
}


int
airouter_dbuf_long(airouter_dbuf_t *b, long v)
{
    int   n;
    char  tmp[32];

    n = snprintf(tmp, sizeof(tmp), "%ld", v);

    return airouter_dbuf_add(b, tmp, (size_t) n);
}


int
airouter_dbuf_json(airouter_dbuf_t *b, const json_t *j)
{
    if (j == NULL
        || json_dump_callback(j, airouter_dbuf_dump, b,
                              JSON_COMPACT | JSON_ENCODE_ANY)
           != 0)
    {
        b->failed = 1;
        return -1;
    }

    return b->failed ? -1 : 0;
}


static int
airouter_dbuf_dump(const char *p, size_t n, void *data)
{
    return airouter_dbuf_add(data, p, n);
}


void
airouter_dsse_event(airouter_dbuf_t *out, const char *name,
    const json_t *data)
{
    if (name) {
        airouter_dbuf_str(out, "event: ");
        airouter_dbuf_str(out, name);
        airouter_dbuf_str(out, "\n");
    }

    airouter_dbuf_str(out, "data: ");
    airouter_dbuf_json(out, data);
    airouter_dbuf_str(out, "\n\n");
}


/* helpers */

const char *
airouter_dj_str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}


json_t *
airouter_dj_get2(json_t *obj, const char *key, const char *alt)
{
    json_t  *v;

    v = json_object_get(obj, key);

    return v ? v : json_object_get(obj, alt);
}


json_t *
airouter_dj_join_text(json_t *v, const char *sep)
{
    size_t           i;
    json_t          *b, *t;
    airouter_dbuf_t  buf;

    if (json_is_string(v)) {
        return json_incref(v);
    }

    if (!json_is_array(v)) {
        return NULL;
    }

    airouter_dbuf_init(&buf);

    json_array_foreach(v, i, b) {
        t = json_object_get(b, "text");

        if (!json_is_string(t)) {
            airouter_dbuf_free(&buf);
            return NULL;
        }

        if (i) {
            airouter_dbuf_str(&buf, sep);
        }

        airouter_dbuf_add(&buf, json_string_value(t), json_string_length(t));
    }

    t = buf.failed ? NULL : json_stringn(buf.data ? buf.data : "", buf.len);
    airouter_dbuf_free(&buf);

    return t;
}


json_t *
airouter_dj_data_url(const char *mime, const char *data)
{
    json_t           *s;
    airouter_dbuf_t   b;

    airouter_dbuf_init(&b);
    airouter_dbuf_str(&b, "data:");
    airouter_dbuf_str(&b, mime);
    airouter_dbuf_str(&b, ";base64,");
    airouter_dbuf_str(&b, data);

    s = b.failed ? NULL : json_stringn(b.data, b.len);
    airouter_dbuf_free(&b);

    return s;
}


int
airouter_dj_parse_data_url(const char *url, const char **mime,
    size_t *mime_len, const char **data)
{
    const char  *semi;

    if (strncmp(url, "data:", 5) != 0) {
        return 0;
    }

    semi = strstr(url + 5, ";base64,");
    if (semi == NULL) {
        return 0;
    }

    *mime = url + 5;
    *mime_len = semi - (url + 5);
    *data = semi + 8;

    return 1;
}


json_t *
airouter_dj_args_object(const char *p, size_t n)
{
    size_t   i;
    json_t  *o;

    for (i = 0; i < n && (p[i] == ' ' || p[i] == '\n' || p[i] == '\t'
                          || p[i] == '\r'); i++)
    {
        /* void */
    }

    if (i == n) {
        return json_object();
    }

    o = json_loadb(p, n, 0, NULL);

    if (o && !json_is_object(o)) {
        json_decref(o);
        return NULL;
    }

    return o;
}


void
airouter_dusage_init(airouter_dusage_t *u)
{
    airouter_usage_init(&u->u);
    u->reasoning = -1;
}


int
airouter_dusage_from_chat(json_t *usage, airouter_dusage_t *u)
{
    json_t  *v;

    airouter_dusage_init(u);

    if (!airouter_usage_from_object(usage, &u->u)) {
        return 0;
    }

    v = json_object_get(json_object_get(usage, "completion_tokens_details"),
                        "reasoning_tokens");
    if (v == NULL) {
        v = json_object_get(json_object_get(usage, "output_tokens_details"),
                            "reasoning_tokens");
    }

    if (json_is_integer(v) && json_integer_value(v) >= 0
        && json_integer_value(v) < 1000000000000000000LL)
    {
        u->reasoning = (long) json_integer_value(v);
    }

    return 1;
}


int
airouter_derr_set(airouter_derr_t *err, const char *code, const char *fmt,
    ...)
{
    va_list  args;

    err->status = 400;
    err->type = "invalid_request_error";
    err->code = code;

    va_start(args, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, args);
    va_end(args);

    return -1;
}


const char *
airouter_finish_chat(airouter_finish_e f)
{
    switch (f) {
    case AIROUTER_FINISH_LENGTH:
        return "length";
    case AIROUTER_FINISH_TOOLS:
        return "tool_calls";
    case AIROUTER_FINISH_FILTER:
        return "content_filter";
    default:
        return "stop";
    }
}


airouter_finish_e
airouter_finish_from_chat(const char *s)
{
    if (s == NULL) {
        return AIROUTER_FINISH_NONE;
    }

    if (strcmp(s, "length") == 0) {
        return AIROUTER_FINISH_LENGTH;
    }

    if (strcmp(s, "tool_calls") == 0 || strcmp(s, "function_call") == 0) {
        return AIROUTER_FINISH_TOOLS;
    }

    if (strcmp(s, "content_filter") == 0) {
        return AIROUTER_FINISH_FILTER;
    }

    return AIROUTER_FINISH_STOP;
}


static char *
airouter_dstrdup(const char *s)
{
    size_t   n;
    char    *d;

    n = strlen(s);
    d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n + 1);
    }

    return d;
}
