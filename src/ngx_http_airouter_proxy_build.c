/*
 * One try's request, rebuilt before every try by peer.get: the request
 * line for the channel's path, Host, the key's header lines, Accept-
 * Encoding: identity, Content-Length, and the body with the channel's
 * model id spliced in (or the whole body dumped again when it cannot be
 * spliced); for a channel that speaks another dialect, the body
 * translated to it (the client's own body when both speak it).  A
 * multipart/form-data body is a chain of slices of the client's body as
 * nginx keeps it (memory, the temporary file) with the model id between
 * them: a large upload is never copied.
 *
 * Called by ngx_http_airouter_proxy_peer.c (peer.get) and, for a hedge's
 * request, ngx_http_airouter_proxy_hedge.c; calls the dialect glue.
 */

#include "ngx_http_airouter_proxy_impl.h"


static ngx_buf_t *ngx_http_airouter_proxy_splice(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p);
static ngx_buf_t *ngx_http_airouter_proxy_dump(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p);
static ngx_int_t ngx_http_airouter_proxy_find_model(
    ngx_http_airouter_proxy_ctx_t *p);
static ngx_buf_t *ngx_http_airouter_proxy_native_body(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p);
static ngx_int_t ngx_http_airouter_proxy_form(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_chain_t **body, off_t *len);
static ngx_int_t ngx_http_airouter_proxy_slices(ngx_http_request_t *r,
    off_t from, off_t to, ngx_chain_t ***last);
static ngx_int_t ngx_http_airouter_proxy_anchor(ngx_http_request_t *r,
    ngx_chain_t *chain);
static json_t *ngx_http_airouter_proxy_tree(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx);
static void ngx_http_airouter_proxy_tree_free(void *data);
static u_char *ngx_http_airouter_proxy_header(u_char *p, const char *name,
    size_t len, const ngx_str_t *value);


/* A string literal copied; a header line "name" value CRLF. */
#define ngx_http_airouter_proxy_literal(p, s)                                 \
    ngx_cpymem(p, s, sizeof(s) - 1)
#define ngx_http_airouter_proxy_line(p, name, value)                          \
    ngx_http_airouter_proxy_header(p, name, sizeof(name) - 1, value)


/*
 * The client's body bytes with the candidate's model id in place of the
 * model the client named, and for streams a request for usage in the
 * final chunk.  Returns NGX_CONF_UNSET_PTR when the body needs the slow
 * path (ngx_http_airouter_proxy_dump): a shape the scan does not follow,
 * or stream_options the client set itself.
 */
static ngx_buf_t *
ngx_http_airouter_proxy_splice(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p)
{
    size_t                    qlen, extra;
    u_char                   *raw;
    ngx_buf_t                *b;
    airouter_json_span_t      model;
    ngx_http_airouter_ctx_t  *ctx;

    static const char  usage[] = "\"stream_options\":{\"include_usage\":true},";

    ctx = p->ctx;
    raw = ctx->raw.data;

    if (p->splice == 0) {
        p->splice = ngx_http_airouter_proxy_find_model(p);
    }

    if (p->splice != 1) {
        return NGX_CONF_UNSET_PTR;
    }

    model = p->model;
    extra = ctx->stream ? sizeof(usage) - 1 : 0;

    qlen = airouter_json_quoted_len((char *) p->try.cand->model.data,
                                    p->try.cand->model.len);

    b = ngx_create_temp_buf(r->pool, ctx->raw.len - (model.end - model.start)
                                     + qlen + extra);
    if (b == NULL) {
        return NULL;
    }

    /* "{", then the usage request (a member of its own, first) */
    b->last = ngx_cpymem(b->last, raw, model.open);

    if (extra) {
        b->last = ngx_cpymem(b->last, usage, extra);
    }

    b->last = ngx_cpymem(b->last, raw + model.open,
                         model.start - model.open);
    b->last += airouter_json_quote((char *) b->last,
                                   (char *) p->try.cand->model.data,
                                   p->try.cand->model.len);
    b->last = ngx_cpymem(b->last, raw + model.end, ctx->raw.len - model.end);

    return b;
}


/*
 * Where the client's "model" is: 1 when it can be spliced (for a stream,
 * only when the client sent no stream_options of its own), else -1.  The
 * API's scan recorded every member's span; a body read as a tree is
 * walked once.  The last "model" counts, as jansson keeps it.
 */
static ngx_int_t
ngx_http_airouter_proxy_find_model(ngx_http_airouter_proxy_ctx_t *p)
{
    int                             rc, found;
    airouter_json_iter_t            it;
    airouter_json_span_t            m;
    ngx_http_airouter_ctx_t        *ctx;
    const airouter_jscan_member_t  *sm;

    ctx = p->ctx;

    if (ctx->scan) {
        /* a repeated key sent the body to the tree: "model" is the one */
        sm = airouter_jscan_get(ctx->scan, "model");

        if (sm == NULL || sm->value.kind != AIROUTER_JSON_STRING
            || (ctx->stream && airouter_jscan_get(ctx->scan, "stream_options")))
        {
            return -1;
        }

        p->model.open = ctx->scan->open;
        p->model.key_start = sm->key_start;
        p->model.key_end = sm->key_end;
        p->model.start = sm->start;
        p->model.end = sm->end;

        return 1;
    }

    if (ctx->raw.data == NULL
        || airouter_json_iter_init(&it, (char *) ctx->raw.data, ctx->raw.len)
           != 0)
    {
        return -1;
    }

    found = 0;

    while ((rc = airouter_json_iter_next(&it, &m)) == 1) {
        if (airouter_json_key_is((char *) ctx->raw.data, &m, "model")) {
            p->model = m;
            found = 1;

        } else if (ctx->stream
                   && airouter_json_key_is((char *) ctx->raw.data, &m,
                                           "stream_options"))
        {
            return -1;
        }
    }

    return (rc == 0 && found) ? 1 : -1;
}


/*
 * The dialect an attempt speaks to a channel: the channel's own (openai
 * or anthropic), or Responses passed through when the client speaks it
 * and the channel serves /v1/responses itself.
 */
airouter_dialect_e
ngx_http_airouter_proxy_upstream(ngx_http_airouter_proxy_ctx_t *p,
    ngx_uint_t channel)
{
    const airouter_channel_t     *ch;
    ngx_http_airouter_dialect_t  *d;

    ch = &p->ctx->amcf->config->channels[channel];
    d = p->ctx->dialect;

    if (d && d->client == AIROUTER_DIALECT_RESPONSES && ch->responses_api) {
        return AIROUTER_DIALECT_RESPONSES;
    }

    return (airouter_dialect_e) ch->dialect;
}


/*
 * The live scope of an attempt: the upstream endpoint it asks, which a
 * model_not_found concerns (a model missing from a channel's
 * /v1/responses may still be on its /chat/completions): the request's
 * own for an OpenAI channel, Anthropic's /v1/messages whichever dialect
 * the client speaks, /v1/responses for a Responses request passed
 * through.
 */
ngx_uint_t
ngx_http_airouter_proxy_scope(ngx_http_airouter_proxy_ctx_t *p,
    ngx_uint_t channel)
{
    switch (ngx_http_airouter_proxy_upstream(p, channel)) {

    case AIROUTER_DIALECT_ANTHROPIC:
        return NGX_HTTP_AIROUTER_LIVE_SCOPE_MESSAGES;

    case AIROUTER_DIALECT_RESPONSES:
        return NGX_HTTP_AIROUTER_LIVE_SCOPE_RESPONSES;

    default:
        return ngx_http_airouter_live_request_scope(p->ctx);
    }
}


/*
 * The request in a channel's dialect other than chat: the client's own
 * bytes when it speaks that dialect, else chat translated (made once per
 * request).  NGX_DECLINED: it has no words there (audio for Messages).
 */
ngx_int_t
ngx_http_airouter_proxy_native(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, airouter_dialect_e upstream,
    ngx_str_t *body)
{
    ngx_int_t                     rc;
    airouter_derr_t               err;
    ngx_http_airouter_ctx_t      *ctx;
    ngx_http_airouter_dialect_t  *d;

    ctx = p->ctx;

    if (ctx->form) {
        /* a form is OpenAI's alone: no other dialect has its words */
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "airouter: a %s channel cannot take a "
                      "multipart/form-data request",
                      airouter_dialect_name(upstream));
        return NGX_DECLINED;
    }

    if (ctx->dialect == NULL) {
        if (ngx_http_airouter_dialect_chat(r, &d) != NGX_OK) {
            return NGX_ERROR;
        }

        ctx->dialect = d;
    }

    if (ngx_http_airouter_proxy_tree(r, ctx) == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_airouter_dialect_body(r, ctx->dialect, upstream, ctx->body,
                                        &ctx->raw, body, &err);

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "airouter: a %s channel cannot take this request: %s",
                      airouter_dialect_name(upstream), err.message);
    }

    return rc;
}


/* That body with the candidate's model id in it, as the chat splice. */
static ngx_buf_t *
ngx_http_airouter_proxy_native_body(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p)
{
    size_t                qlen, blen;
    json_t               *tree;
    ngx_buf_t            *b;
    ngx_str_t             raw;
    airouter_json_span_t  m;

    if (ngx_http_airouter_proxy_native(r, p, p->try.upstream, &raw) != NGX_OK) {
        return NULL;
    }

    if (raw.data != p->native_raw) {
        p->native_raw = raw.data;
        p->native_splice = airouter_json_member((char *) raw.data, raw.len,
                                                "model", &p->native_model);
    }

    if (p->native_splice == 1) {
        m = p->native_model;
        qlen = airouter_json_quoted_len((char *) p->try.cand->model.data,
                                        p->try.cand->model.len);

        b = ngx_create_temp_buf(r->pool, raw.len - (m.end - m.start) + qlen);
        if (b == NULL) {
            return NULL;
        }

        b->last = ngx_cpymem(b->last, raw.data, m.start);
        b->last += airouter_json_quote((char *) b->last,
                                       (char *) p->try.cand->model.data,
                                       p->try.cand->model.len);
        b->last = ngx_cpymem(b->last, raw.data + m.end, raw.len - m.end);

        return b;
    }

    /* a body the scan cannot follow: parsed, rewritten, serialised */
    tree = json_loadb((char *) raw.data, raw.len, 0, NULL);
    if (tree == NULL
        || json_object_set_new(tree, "model",
                               json_stringn((char *) p->try.cand->model.data,
                                            p->try.cand->model.len))
           != 0)
    {
        json_decref(tree);
        return NULL;
    }

    blen = json_dumpb(tree, NULL, 0, JSON_COMPACT);

    b = ngx_create_temp_buf(r->pool, blen);
    if (b == NULL) {
        json_decref(tree);
        return NULL;
    }

    b->last += json_dumpb(tree, (char *) b->pos, blen, JSON_COMPACT);
    json_decref(tree);

    return b;
}


/*
 * The slow path: the body rewritten in its jansson tree and serialised
 * again, in one pass into a buffer sized from the client's body;
 * json_dumpb() says what it needed, so a rare longer output (reals
 * printed with 17 digits) is written again into a buffer of that size.
 */
static ngx_buf_t *
ngx_http_airouter_proxy_dump(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p)
{
    size_t      blen, cap;
    json_t     *body, *so;
    ngx_buf_t  *bb;

    body = ngx_http_airouter_proxy_tree(r, p->ctx);
    if (body == NULL) {
        return NULL;
    }

    if (json_object_set_new(body, "model",
                            json_stringn((char *) p->try.cand->model.data,
                                         p->try.cand->model.len))
        != 0)
    {
        return NULL;
    }

    if (p->ctx->stream) {
        so = json_object_get(body, "stream_options");

        if (!json_is_object(so)) {
            so = json_object();
            if (so == NULL || json_object_set_new(body, "stream_options", so)
                              != 0)
            {
                return NULL;
            }
        }

        if (json_object_set_new(so, "include_usage", json_true()) != 0) {
            return NULL;
        }
    }

    cap = (r->headers_in.content_length_n > 0
           && r->headers_in.content_length_n < 1024 * 1024)
          ? (size_t) r->headers_in.content_length_n
            + (size_t) r->headers_in.content_length_n / 4
            + p->try.cand->model.len + 128
          : 4096;

    bb = ngx_create_temp_buf(r->pool, cap);
    if (bb == NULL) {
        return NULL;
    }

    blen = json_dumpb(body, (char *) bb->pos, cap, JSON_COMPACT);

    if (blen > cap) {
        bb = ngx_create_temp_buf(r->pool, blen);
        if (bb == NULL) {
            return NULL;
        }

        blen = json_dumpb(body, (char *) bb->pos, blen, JSON_COMPACT);
    }

    if (blen == 0) {
        return NULL;
    }

    bb->last = bb->pos + blen;

    return bb;
}


/*
 * The client's body as a jansson tree: the API's own, or, when the API
 * read a plain request with one scan and no tree, made from its bytes
 * (valid JSON, the scan said so) the first time a try needs one.
 */
static json_t *
ngx_http_airouter_proxy_tree(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx)
{
    ngx_pool_cleanup_t  *cln;

    if (ctx->body) {
        return ctx->body;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_airouter_proxy_tree_free;
    cln->data = NULL;

    ctx->body = json_loadb((char *) ctx->raw.data, ctx->raw.len, 0, NULL);
    cln->data = ctx->body;

    return ctx->body;
}


static void
ngx_http_airouter_proxy_tree_free(void *data)
{
    json_decref(data);
}


/*
 * The request for this try: line, Host, the channel's key, the client's
 * Accept and User-Agent (and a Messages client's anthropic-beta for a
 * native channel), a plain answer asked for, and the body with the
 * candidate's model id (for streams, asking for usage in the final
 * chunk).  The client's own Authorization and everything else it sent
 * stay here.  It goes into p->try (uri, request); peer.get hands it to
 * nginx's upstream (ngx_http_airouter_proxy_use).
 */
ngx_int_t
ngx_http_airouter_proxy_build(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p)
{
    off_t                           blen;
    size_t                          len, rlen;
    ngx_buf_t                      *b, *bb;
    ngx_str_t                      *auth, *accept, *agent, *beta, *ctype;
    ngx_str_t                       path;
    const char                     *api, *rest;
    ngx_chain_t                    *cl, *bcl, *form;
    const airouter_channel_t       *ch;
    ngx_http_airouter_ctx_t        *ctx;
    ngx_http_airouter_channel_t    *pch;
    ngx_http_airouter_dialect_t    *d;
    ngx_http_airouter_loc_conf_t   *alcf;

    ctx = p->ctx;
    pch = p->try.channel;
    ch = &ctx->amcf->config->channels[p->try.cand->channel];
    alcf = ngx_http_get_module_loc_conf(r, ngx_http_airouter_module);

    p->try.upstream = ngx_http_airouter_proxy_upstream(p, p->try.cand->channel);
    form = NULL;
    bb = NULL;

    if (ctx->form) {
        if (ngx_http_airouter_proxy_form(r, p, &form, &blen) != NGX_OK) {
            return NGX_ERROR;
        }

        api = p->api_path;
        goto head;
    }

    if (p->try.upstream != AIROUTER_DIALECT_OPENAI) {
        bb = ngx_http_airouter_proxy_native_body(r, p);
        if (bb == NULL) {
            return NGX_ERROR;
        }

        api = (p->try.upstream == AIROUTER_DIALECT_ANTHROPIC)
              ? "/v1/messages" : "/v1/responses";
        goto body;
    }

    api = p->api_path;

    bb = ngx_http_airouter_proxy_splice(r, p);

    if (bb == NULL) {
        return NGX_ERROR;
    }

    if (bb == NGX_CONF_UNSET_PTR) {
        bb = ngx_http_airouter_proxy_dump(r, p);
        if (bb == NULL) {
            return NGX_ERROR;
        }
    }

body:

    bb->flush = 1;
    blen = bb->last - bb->pos;

head:

    /* the path of base URL + API path: the base's, found once, then
     * what airouter_config_url() appends (it starts with '/' or '?') */
    rest = airouter_config_url_rest(ch, api);
    rlen = ngx_strlen(rest);

    if (rlen == 0) {
        path = pch->base_path;

    } else {
        path.len = pch->base_path.len + rlen;
        path.data = ngx_pnalloc(r->pool, path.len);
        if (path.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(ngx_cpymem(path.data, pch->base_path.data,
                              pch->base_path.len),
                   rest, rlen);
    }

    if (path.len == 0) {
        ngx_str_set(&path, "/");
    }

    p->try.uri = path;

    auth = pch->ep->nauth ? &pch->ep->auth[p->try.key % pch->ep->nauth] : NULL;
    accept = r->headers_in.accept ? &r->headers_in.accept->value : NULL;
    agent = r->headers_in.user_agent ? &r->headers_in.user_agent->value
                                     : NULL;

    /* a Messages client's betas go with its own body, never translated */
    d = ctx->dialect;
    beta = (p->try.upstream == AIROUTER_DIALECT_ANTHROPIC && d
            && d->client == AIROUTER_DIALECT_ANTHROPIC && d->beta.len)
           ? &d->beta : NULL;

    /* a form goes with the client's Content-Type: its boundary */
    ctype = form ? &r->headers_in.content_type->value : NULL;

    len = sizeof("POST  HTTP/1.1" CRLF) - 1 + path.len
          + sizeof("Host: " CRLF) - 1 + pch->ep->host.len
          + (auth ? auth->len : 0)
          + sizeof("Content-Type: application/json" CRLF) - 1
          + (ctype ? ctype->len : 0)
          + sizeof("Accept: " CRLF) - 1
          + (accept ? accept->len : sizeof("text/event-stream") - 1)
          + (agent ? sizeof("User-Agent: " CRLF) - 1 + agent->len : 0)
          + (beta ? sizeof("anthropic-beta: " CRLF) - 1 + beta->len : 0)
          + sizeof("Accept-Encoding: identity" CRLF) - 1
          + sizeof("Content-Length: " CRLF) - 1 + NGX_OFF_T_LEN
          + sizeof("Connection: keep-alive" CRLF) - 1
          + sizeof(CRLF) - 1;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    /* copied, not formatted: this runs for every try of every request */
    b->last = ngx_http_airouter_proxy_literal(b->last, "POST ");
    b->last = ngx_cpymem(b->last, path.data, path.len);
    b->last = ngx_http_airouter_proxy_literal(b->last, " HTTP/1.1" CRLF);
    b->last = ngx_http_airouter_proxy_line(b->last, "Host: ",
                                           &pch->ep->host);

    if (auth) {
        b->last = ngx_cpymem(b->last, auth->data, auth->len);
    }

    if (ctype) {
        b->last = ngx_http_airouter_proxy_line(b->last, "Content-Type: ",
                                               ctype);

    } else {
        b->last = ngx_http_airouter_proxy_literal(b->last,
                      "Content-Type: application/json" CRLF);
    }

    if (accept) {
        b->last = ngx_http_airouter_proxy_line(b->last, "Accept: ", accept);

    } else if (ctx->stream) {
        b->last = ngx_http_airouter_proxy_literal(b->last,
                      "Accept: text/event-stream" CRLF);

    } else {
        b->last = ngx_http_airouter_proxy_literal(b->last,
                      "Accept: application/json" CRLF);
    }

    if (agent) {
        b->last = ngx_http_airouter_proxy_line(b->last, "User-Agent: ",
                                               agent);
    }

    if (beta) {
        b->last = ngx_http_airouter_proxy_line(b->last, "anthropic-beta: ",
                                               beta);
    }

    /* the answer is read on its way (usage, keys, events): plain, please */
    b->last = ngx_http_airouter_proxy_literal(b->last,
                  "Accept-Encoding: identity" CRLF "Content-Length: ");
    b->last = ngx_sprintf(b->last, "%O", blen);

    if (alcf->keepalive) {
        b->last = ngx_http_airouter_proxy_literal(b->last,
                      CRLF "Connection: keep-alive" CRLF CRLF);

    } else {
        b->last = ngx_http_airouter_proxy_literal(b->last,
                      CRLF "Connection: close" CRLF CRLF);
    }

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->buf = b;

    if (form) {
        cl->next = form;
        p->try.request = cl;

        return ngx_http_airouter_proxy_anchor(r, cl);
    }

    bcl = ngx_alloc_chain_link(r->pool);
    if (bcl == NULL) {
        return NGX_ERROR;
    }

    cl->next = bcl;
    bcl->buf = bb;
    bcl->next = NULL;

    p->try.request = cl;

    return NGX_OK;
}


/*
 * A form's body for this try: the client's bytes before the model field's
 * value, the candidate's model id, the client's bytes after it; *len is
 * their sum, the try's Content-Length.  The slices point into the
 * client's buffers and temporary file: nothing is copied but the id.
 */
static ngx_int_t
ngx_http_airouter_proxy_form(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_chain_t **body, off_t *len)
{
    ngx_buf_t                *b;
    ngx_chain_t              *cl, **last;
    ngx_http_airouter_ctx_t  *ctx;

    ctx = p->ctx;
    *body = NULL;
    last = body;

    /* an id with a line break could end the field and forge parts */
    if (ngx_strlchr(p->try.cand->model.data,
                    p->try.cand->model.data + p->try.cand->model.len, '\n')
        || ngx_strlchr(p->try.cand->model.data,
                       p->try.cand->model.data + p->try.cand->model.len, '\r'))
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "airouter: the model id \"%V\" cannot go in a form",
                      &p->try.cand->model);
        return NGX_ERROR;
    }

    if (ngx_http_airouter_proxy_slices(r, 0, ctx->form_model_start, &last)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    b = ngx_calloc_buf(r->pool);
    cl = ngx_alloc_chain_link(r->pool);
    if (b == NULL || cl == NULL) {
        return NGX_ERROR;
    }

    /* the id is the candidate's, from the request pool: read-only here */
    b->memory = 1;
    b->start = p->try.cand->model.data;
    b->pos = b->start;
    b->last = b->start + p->try.cand->model.len;
    b->end = b->last;

    cl->buf = b;
    cl->next = NULL;
    *last = cl;
    last = &cl->next;

    if (ngx_http_airouter_proxy_slices(r, ctx->form_model_end, ctx->form_len,
                                       &last)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (*len = 0, cl = *body; cl; cl = cl->next) {
        *len += ngx_buf_size(cl->buf);
        cl->buf->flush = (cl->next == NULL);
    }

    return NGX_OK;
}


/*
 * The bytes [from, to) of the client's body as new buffers over nginx's
 * (memory or file), appended at *last.  A memory slice of a body that
 * also has a temporary file is copied: nginx reads that file through the
 * body's own buffer, which may be what the slice points into.
 */
static ngx_int_t
ngx_http_airouter_proxy_slices(ngx_http_request_t *r, off_t from, off_t to,
    ngx_chain_t ***last)
{
    off_t         at, size, s, e;
    ngx_buf_t    *b, *nb;
    ngx_chain_t  *in, *cl;

    at = 0;

    for (in = r->request_body->bufs; in && at < to; in = in->next) {
        b = in->buf;
        size = b->in_file ? b->file_last - b->file_pos
                          : (b->last != b->pos ? b->last - b->pos : 0);

        /* this buffer holds [at, at + size) of the body */
        s = ngx_max(from, at);
        e = ngx_min(to, at + size);

        if (s >= e) {
            at += size;
            continue;
        }

        nb = ngx_calloc_buf(r->pool);
        cl = ngx_alloc_chain_link(r->pool);
        if (nb == NULL || cl == NULL) {
            return NGX_ERROR;
        }

        if (b->in_file) {
            nb->in_file = 1;
            nb->file = b->file;
            nb->file_pos = b->file_pos + (s - at);
            nb->file_last = b->file_pos + (e - at);

        } else if (r->request_body->temp_file) {
            nb->temporary = 1;
            nb->start = ngx_pnalloc(r->pool, (size_t) (e - s));
            if (nb->start == NULL) {
                return NGX_ERROR;
            }

            nb->pos = nb->start;
            nb->last = ngx_cpymem(nb->start, b->pos + (s - at),
                                  (size_t) (e - s));
            nb->end = nb->last;

        } else {
            nb->memory = 1;
            nb->start = b->pos + (s - at);
            nb->pos = nb->start;
            nb->last = b->pos + (e - at);
            nb->end = nb->last;
        }

        cl->buf = nb;
        cl->next = NULL;
        **last = cl;
        *last = &cl->next;

        at += size;
    }

    return NGX_OK;
}


/*
 * nginx re-arms a request chain before a try that follows one which sent
 * bytes (ngx_http_upstream_reinit(), after peer.get has built this
 * chain): memory buffers from their start, and file buffers one after the
 * other from offset 0, the next beginning where the previous one ended,
 * as a proxied body that is one whole file.  A form's file slices have a
 * gap (the old model value) or start later, so each is preceded by a
 * memory buffer also marked in_file and ending, in the file, where the
 * slice begins: nginx's re-arming then puts every slice where it was.
 * Such an "anchor" is sent from memory only when the output chain does
 * not use sendfile(), which would send its file range: sendfile is off
 * for this request (the upstream connection inherits the client's flag;
 * the answer to the client comes from memory anyway).
 */
static ngx_int_t
ngx_http_airouter_proxy_anchor(ngx_http_request_t *r, ngx_chain_t *chain)
{
    off_t         next;
    ngx_buf_t    *prev;
    ngx_chain_t  *cl;

    next = 0;
    prev = NULL;

    for (cl = chain; cl; cl = cl->next) {

        if (!cl->buf->in_file) {
            prev = cl->buf;
            continue;
        }

        if (cl->buf->file_pos != next) {
            if (prev == NULL || prev->in_file) {
                /* two file slices in a row: the build never makes them */
                ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                              "airouter: a form's file slices cannot be "
                              "re-armed");
                return NGX_ERROR;
            }

            prev->in_file = 1;
            prev->file = cl->buf->file;
            prev->file_pos = cl->buf->file_pos;
            prev->file_last = cl->buf->file_pos;

            r->connection->sendfile = 0;
        }

        next = cl->buf->file_last;
        prev = cl->buf;
    }

    return NGX_OK;
}


/* "http://host:port/a/b" -> "/a/b" ("" when there is no path). */
void
ngx_http_airouter_proxy_url_path(const char *url, ngx_str_t *path)
{
    u_char  *p;

    p = (u_char *) ngx_strstr(url, "://");
    p = p ? p + 3 : (u_char *) url;

    while (*p && *p != '/' && *p != '?') {
        p++;
    }

    path->data = p;
    path->len = ngx_strlen(p);
}


static u_char *
ngx_http_airouter_proxy_header(u_char *p, const char *name, size_t len,
    const ngx_str_t *value)
{
    p = ngx_cpymem(p, name, len);
    p = ngx_cpymem(p, value->data, value->len);
    *p++ = CR;
    *p++ = LF;

    return p;
}
