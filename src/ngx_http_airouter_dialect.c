/*
 * The client dialects on the nginx side; see ngx_http_airouter_dialect.h.
 */

#include "ngx_http_airouter_dialect.h"
#include "ngx_http_airouter_header.h"


/* the blocks a relay writes the client's bytes into */
#define NGX_HTTP_AIROUTER_DIALECT_BLOCK  4096


typedef struct {
    u_char                          *start;
    u_char                          *end;
    ngx_buf_t                       *buf;       /* the last one sent from
                                                   it, NULL: none */
} ngx_http_airouter_dialect_block_t;


typedef struct {
    ngx_http_airouter_dialect_relay_t   relay;  /* first */
    ngx_array_t                         blocks;
} ngx_http_airouter_dialect_relay_int_t;


static ngx_int_t ngx_http_airouter_dialect_new(ngx_http_request_t *r,
    airouter_dialect_e client, ngx_http_airouter_dialect_t **dp);
static void ngx_http_airouter_dialect_cleanup(void *data);
static void ngx_http_airouter_dialect_relay_cleanup(void *data);
static ngx_int_t ngx_http_airouter_dialect_out(
    ngx_http_airouter_dialect_relay_t *rl, ngx_buf_t *b);
static ngx_int_t ngx_http_airouter_dialect_header(ngx_http_request_t *r,
    const char *name, size_t len, ngx_str_t *value);


ngx_int_t
ngx_http_airouter_dialect_route(ngx_http_request_t *r,
    ngx_http_airouter_dialect_t **dp)
{
    airouter_droute_t  rt;

    if (!airouter_dialect_route((char *) r->uri.data, r->uri.len, &rt)) {
        return NGX_DECLINED;
    }

    if (ngx_http_airouter_dialect_new(r, rt.dialect, dp) != NGX_OK) {
        return NGX_ERROR;
    }

    (*dp)->route = rt;
    (*dp)->dctx.stream = rt.stream;
    (*dp)->dctx.count = rt.count;
    (*dp)->dctx.embed = rt.embed;
    (*dp)->dctx.batch = rt.batch;

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "airouter: %s client%s%s%s",
                   airouter_dialect_name(rt.dialect),
                   rt.count ? ", count_tokens" : "",
                   rt.stream ? ", streaming (URL)" : "",
                   rt.embed ? ", embeddings" : "");

    return NGX_OK;
}


ngx_int_t
ngx_http_airouter_dialect_chat(ngx_http_request_t *r,
    ngx_http_airouter_dialect_t **dp)
{
    return ngx_http_airouter_dialect_new(r, AIROUTER_DIALECT_OPENAI, dp);
}


static ngx_int_t
ngx_http_airouter_dialect_new(ngx_http_request_t *r,
    airouter_dialect_e client, ngx_http_airouter_dialect_t **dp)
{
    u_char                       *p;
    ngx_pool_cleanup_t           *cln;
    ngx_http_airouter_dialect_t  *d;

    d = ngx_pcalloc(r->pool, sizeof(ngx_http_airouter_dialect_t));
    if (d == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    d->client = client;
    airouter_dctx_init(&d->dctx, client);

    cln->handler = ngx_http_airouter_dialect_cleanup;
    cln->data = d;

    /* ids in the answer: unique per request across workers and time */
    p = ngx_snprintf((u_char *) d->dctx.id, sizeof(d->dctx.id) - 1,
                     "%xT%xA%xi", ngx_time(), r->connection->number,
                     (ngx_int_t) r->connection->requests);
    *p = '\0';

    d->dctx.created = (long) ngx_time();

    *dp = d;

    return NGX_OK;
}


static void
ngx_http_airouter_dialect_cleanup(void *data)
{
    ngx_http_airouter_dialect_t  *d = data;

    airouter_dctx_free(&d->dctx);

    if (d->chat) {
        json_decref(d->chat);
        d->chat = NULL;
    }
}


ngx_int_t
ngx_http_airouter_dialect_key(ngx_http_request_t *r, ngx_str_t *token)
{
    if (ngx_http_airouter_dialect_header(r, "x-api-key", 9, token) == NGX_OK
        || ngx_http_airouter_dialect_header(r, "x-goog-api-key", 14, token)
           == NGX_OK)
    {
        return NGX_OK;
    }

    if (ngx_http_arg(r, (u_char *) "key", 3, token) == NGX_OK
        && token->len)
    {
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/* A request header's value (trimmed), by its name. */
static ngx_int_t
ngx_http_airouter_dialect_header(ngx_http_request_t *r, const char *name,
    size_t len, ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_http_airouter_header_find(&r->headers_in.headers,
                                      (u_char *) name, len);
    if (h == NULL) {
        return NGX_DECLINED;
    }

    *value = h->value;

    while (value->len && value->data[0] == ' ') {
        value->data++;
        value->len--;
    }

    while (value->len && value->data[value->len - 1] == ' ') {
        value->len--;
    }

    return value->len ? NGX_OK : NGX_DECLINED;
}


ngx_int_t
ngx_http_airouter_dialect_to_chat(ngx_http_request_t *r,
    ngx_http_airouter_dialect_t *d, json_t *body, ngx_str_t *body_raw,
    json_t **chat, ngx_str_t *raw, airouter_derr_t *err)
{
    json_t     *model, *inner;
    ngx_str_t   beta;

    d->raw = *body_raw;

    if (d->client == AIROUTER_DIALECT_ANTHROPIC
        && ngx_http_airouter_dialect_header(r, "anthropic-beta", 14, &beta)
           == NGX_OK)
    {
        /* it goes into an upstream request: names only, nothing else */
        if (!airouter_dialect_beta_ok((char *) beta.data, beta.len)) {
            airouter_derr_set(err, "invalid_anthropic_beta",
                              "anthropic-beta must be a comma-separated "
                              "list of beta names");
            return NGX_DECLINED;
        }

        d->beta = beta;
    }

    if (d->client == AIROUTER_DIALECT_GEMINI && d->route.count) {
        /* countTokens takes {"contents"} or {"generateContentRequest"} */
        inner = json_object_get(body, "generateContentRequest");

        if (json_is_object(inner)) {
            body = inner;
        }
    }

    if (d->client == AIROUTER_DIALECT_GEMINI && json_is_object(body)) {
        /* the model is in the URL: the translator finds it in the body */
        model = json_stringn((char *) r->uri.data + d->route.model,
                             d->route.model_len);
        if (model == NULL || json_object_set_new(body, "model", model) != 0)
        {
            airouter_derr_set(err, "invalid_model",
                              "The model in the URL is not UTF-8");
            return NGX_DECLINED;
        }
    }

    if (airouter_dialect_request(d->client, AIROUTER_DIALECT_OPENAI, body,
                                 &d->dctx, chat, err)
        != 0)
    {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "airouter: %s request refused: %s",
                       airouter_dialect_name(d->client), err->message);
        return NGX_DECLINED;
    }

    d->chat = *chat;

    if (ngx_http_airouter_dialect_dump(r, *chat, raw) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "airouter: %s request as chat: %uz bytes -> %uz",
                   airouter_dialect_name(d->client), body_raw->len,
                   raw->len);

    return NGX_OK;
}


json_t *
ngx_http_airouter_dialect_error_json(ngx_http_request_t *r,
    ngx_uint_t status, json_t *body)
{
    json_t              *err, *out;
    ngx_str_t            version;
    airouter_dbuf_t      b;
    airouter_dialect_e   d;

    d = airouter_dialect_of_path((char *) r->uri.data, r->uri.len);

    /* Anthropic's SDK lists its models on OpenAI's path: its header says */
    if (d == AIROUTER_DIALECT_OPENAI
        && (r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))
        && ngx_http_airouter_dialect_header(r, "anthropic-version", 17,
                                            &version)
           == NGX_OK)
    {
        d = AIROUTER_DIALECT_ANTHROPIC;
    }

    if (body == NULL || d == AIROUTER_DIALECT_OPENAI
        || d == AIROUTER_DIALECT_RESPONSES)
    {
        /* Responses errors are OpenAI's */
        return body;
    }

    err = json_object_get(body, "error");
    if (!json_is_object(err)
        || !json_is_string(json_object_get(err, "message")))
    {
        return body;
    }

    airouter_dbuf_init(&b);
    airouter_dialect_error(d, (int) status,
                           json_string_value(json_object_get(err, "type")),
                           json_string_value(json_object_get(err, "code")),
                           json_string_value(json_object_get(err, "message")),
                           0, &b);

    out = b.failed ? NULL : json_loadb(b.data, b.len, 0, NULL);
    airouter_dbuf_free(&b);

    if (out == NULL) {
        return body;
    }

    json_decref(body);

    return out;
}


json_t *
ngx_http_airouter_dialect_count_json(ngx_http_airouter_dialect_t *d,
    uint64_t tokens)
{
    json_t           *out;
    airouter_dbuf_t   b;

    airouter_dbuf_init(&b);
    airouter_dialect_count_answer(d ? d->client : AIROUTER_DIALECT_ANTHROPIC,
                                  (long) tokens, &b);

    out = b.failed ? NULL : json_loadb(b.data, b.len, 0, NULL);
    airouter_dbuf_free(&b);

    return out;
}


ngx_int_t
ngx_http_airouter_dialect_body(ngx_http_request_t *r,
    ngx_http_airouter_dialect_t *d, airouter_dialect_e upstream,
    json_t *chat, ngx_str_t *chat_raw, ngx_str_t *body, airouter_derr_t *err)
{
    json_t  *req;

    if (upstream == AIROUTER_DIALECT_OPENAI) {
        *body = *chat_raw;
        return NGX_OK;
    }

    if (d->client == upstream && d->raw.len) {
        /* the client's own words, as its dialect's channel reads them */
        *body = d->raw;
        return NGX_OK;
    }

    if (d->messages.len == 0) {
        if (airouter_dialect_request(AIROUTER_DIALECT_OPENAI, upstream, chat,
                                     &d->dctx, &req, err)
            != 0)
        {
            return NGX_DECLINED;
        }

        if (ngx_http_airouter_dialect_dump(r, req, &d->messages) != NGX_OK) {
            json_decref(req);
            return NGX_ERROR;
        }

        json_decref(req);
    }

    *body = d->messages;

    return NGX_OK;
}


/* A JSON value written compactly into the request's pool. */
ngx_int_t
ngx_http_airouter_dialect_dump(ngx_http_request_t *r, json_t *j,
    ngx_str_t *out)
{
    size_t  len;

    len = json_dumpb(j, NULL, 0, JSON_COMPACT);
    if (len == 0) {
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(r->pool, len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = json_dumpb(j, (char *) out->data, len, JSON_COMPACT);

    return (out->len == len) ? NGX_OK : NGX_ERROR;
}


ngx_http_airouter_dialect_relay_t *
ngx_http_airouter_dialect_relay(ngx_http_request_t *r,
    airouter_dialect_e from, airouter_dialect_e to,
    const airouter_dctx_t *dctx, ngx_uint_t stream)
{
    ngx_pool_cleanup_t                     *cln;
    ngx_http_airouter_dialect_relay_t      *rl;
    ngx_http_airouter_dialect_relay_int_t  *ri;

    ri = ngx_pcalloc(r->pool, sizeof(ngx_http_airouter_dialect_relay_int_t));
    if (ri == NULL) {
        return NULL;
    }

    if (ngx_array_init(&ri->blocks, r->pool, 4,
                       sizeof(ngx_http_airouter_dialect_block_t))
        != NGX_OK)
    {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    rl = &ri->relay;
    rl->request = r;
    rl->from = from;
    rl->to = to;
    rl->dctx = dctx;
    airouter_dbuf_init(&rl->in);
    airouter_dbuf_init(&rl->out);

    cln->handler = ngx_http_airouter_dialect_relay_cleanup;
    cln->data = rl;

    if (stream) {
        /* the same dialect on both sides: read for the usage only */
        rl->stream = airouter_dstream_create(from, from == to
                                                   ? AIROUTER_DIALECT_N : to,
                                             dctx);
        if (rl->stream == NULL) {
            return NULL;
        }
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "airouter: relay %s -> %s%s", airouter_dialect_name(from),
                   airouter_dialect_name(to), stream ? ", a stream" : "");

    return rl;
}


static void
ngx_http_airouter_dialect_relay_cleanup(void *data)
{
    ngx_http_airouter_dialect_relay_t  *rl = data;

    airouter_dstream_destroy(rl->stream);
    rl->stream = NULL;
    airouter_dbuf_free(&rl->in);
    airouter_dbuf_free(&rl->out);
}


ngx_int_t
ngx_http_airouter_dialect_feed(ngx_http_airouter_dialect_relay_t *rl,
    u_char *pos, size_t len, ngx_buf_t *b)
{
    airouter_dstream_feed(rl->stream, (char *) pos, len, &rl->out);

    return ngx_http_airouter_dialect_out(rl, b);
}


ngx_int_t
ngx_http_airouter_dialect_finish(ngx_http_airouter_dialect_relay_t *rl,
    const char *message, ngx_buf_t *b)
{
    airouter_dstream_finish(rl->stream, message, &rl->out);

    return ngx_http_airouter_dialect_out(rl, b);
}


ngx_int_t
ngx_http_airouter_dialect_collect(ngx_http_airouter_dialect_relay_t *rl,
    u_char *pos, size_t len)
{
    return airouter_dbuf_add(&rl->in, pos, len) == 0 ? NGX_OK : NGX_ERROR;
}


ngx_int_t
ngx_http_airouter_dialect_whole(ngx_http_airouter_dialect_relay_t *rl,
    ngx_uint_t status, ngx_buf_t *b)
{
    ngx_int_t  rc;

    rl->out.len = 0;
    rc = NGX_OK;

    if (status >= 300) {
        airouter_dialect_error_translate(rl->from, rl->to, (int) status,
                                         rl->in.data, rl->in.len, &rl->out);

    } else if (airouter_dialect_answer(rl->from, rl->to, rl->dctx,
                                       rl->in.data, rl->in.len, &rl->out,
                                       NULL)
               != 0)
    {
        ngx_log_error(NGX_LOG_WARN, rl->request->connection->log, 0,
                      "airouter: an answer that is not %s's relayed as it "
                      "came", airouter_dialect_name(rl->from));

        airouter_dbuf_add(&rl->out, rl->in.data, rl->in.len);
        rc = NGX_DECLINED;
    }

    if (rl->out.failed) {
        return NGX_ERROR;
    }

    b->memory = 1;
    b->flush = 1;
    b->pos = ngx_pnalloc(rl->request->pool, rl->out.len + 1);
    if (b->pos == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->pos, rl->out.data, rl->out.len);
    rl->out.len = 0;

    return rc;
}


ngx_int_t
ngx_http_airouter_dialect_usage(ngx_http_airouter_dialect_relay_t *rl,
    airouter_usage_t *usage)
{
    airouter_dusage_t  u;

    if (rl->stream == NULL || !airouter_dstream_usage(rl->stream, &u)) {
        return 0;
    }

    *usage = u.u;

    return 1;
}


/*
 * The bytes the translator wrote, into b: a block of the relay's own,
 * reused once the client has had what was last sent from it (as the
 * proxy's hold blocks are), so a long stream does not grow the request's
 * pool.
 */
static ngx_int_t
ngx_http_airouter_dialect_out(ngx_http_airouter_dialect_relay_t *rl,
    ngx_buf_t *b)
{
    size_t                                  size;
    ngx_buf_t                              *sent;
    ngx_uint_t                              i;
    ngx_http_airouter_dialect_block_t      *blk, *k;
    ngx_http_airouter_dialect_relay_int_t  *ri;

    if (rl->out.failed) {
        return NGX_ERROR;
    }

    if (rl->out.len == 0) {
        return NGX_DONE;
    }

    ri = (ngx_http_airouter_dialect_relay_int_t *) rl;
    blk = ri->blocks.elts;
    k = NULL;

    for (i = 0; i < ri->blocks.nelts; i++) {
        sent = blk[i].buf;

        /* gone to the client, or the buffer struct serves other bytes */
        if ((sent == NULL || sent->pos == sent->last
             || sent->pos < blk[i].start || sent->pos >= blk[i].end)
            && (size_t) (blk[i].end - blk[i].start) >= rl->out.len)
        {
            k = &blk[i];
            break;
        }
    }

    if (k == NULL) {
        k = ngx_array_push(&ri->blocks);
        if (k == NULL) {
            return NGX_ERROR;
        }

        size = ngx_max(rl->out.len, NGX_HTTP_AIROUTER_DIALECT_BLOCK);

        k->start = ngx_pnalloc(rl->request->pool, size);
        if (k->start == NULL) {
            return NGX_ERROR;
        }

        k->end = k->start + size;
    }

    b->memory = 1;
    b->flush = 1;
    b->pos = k->start;
    b->last = ngx_cpymem(k->start, rl->out.data, rl->out.len);

    k->buf = b;
    rl->out.len = 0;

    return NGX_OK;
}
