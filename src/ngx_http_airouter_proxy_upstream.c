/*
 * nginx's upstream callbacks of the proxy (set by
 * ngx_http_airouter_proxy_start):
 *
 *   create_request   the request itself is built by peer.get before each
 *                    try (ngx_http_airouter_proxy_peer.c)
 *   reinit_request   a try that sent bytes is retried: parse state reset
 *   process_header   status and headers, then waits (within the header
 *                    buffer) for the error body, the whole non-stream
 *                    answer or the first SSE event, and asks the outcome
 *                    table: pass it on, or NGX_HTTP_UPSTREAM_INVALID_HEADER
 *                    -> next try (the judge)
 *   finalize         no candidate left: an OpenAI-style error naming every
 *                    attempt (ngx_http_airouter_proxy_fail, sent by the
 *                    filters of ngx_http_airouter_proxy_reply.c); a stream
 *                    cut after the first byte gets an SSE error event
 *
 * A second attempt run beside the first (hedging) starts and ends here.
 * Calls peer selection, the answer filters, the inflater, the usage
 * reader and the header lookup (Retry-After); the outcome table judges.
 */

#include "ngx_http_airouter_header.h"
#include "ngx_http_airouter_proxy_impl.h"


static ngx_int_t ngx_http_airouter_proxy_fail(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_int_t rc);
static void ngx_http_airouter_proxy_settle(ngx_http_request_t *r,
    ngx_int_t rc);
static ngx_int_t ngx_http_airouter_proxy_headers(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p);
static ngx_int_t ngx_http_airouter_proxy_judge(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p);
static ngx_int_t ngx_http_airouter_proxy_preread(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_str_t *body);
static ngx_int_t ngx_http_airouter_proxy_first_event(u_char *pos,
    u_char *last, ngx_str_t *data);
static long ngx_http_airouter_proxy_retry_after(ngx_http_request_t *r);
static void ngx_http_airouter_proxy_answer_units(
    ngx_http_airouter_proxy_ctx_t *p, ngx_str_t *body);
static void ngx_http_airouter_proxy_answer(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_uint_t status, ngx_str_t *body);
static void ngx_http_airouter_proxy_dialect_error(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_int_t rc);
static void ngx_http_airouter_proxy_stream_error(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_int_t rc);


/* The request is built by peer.get, once per try. */
ngx_int_t
ngx_http_airouter_proxy_create_request(ngx_http_request_t *r)
{
    r->upstream->request_bufs = NULL;

    return NGX_OK;
}


/*
 * Called by nginx before a try whose predecessor sent a request (so may
 * have left an answer half read).  As ngx_http_proxy_reinit_request():
 * the parsers start again from the first byte; r->state is the state of
 * nginx's status line and header parsers, and a status line or header cut
 * by a close, or headers larger than the buffer, would otherwise make the
 * next candidate's answer be read from the middle of a line.
 */
ngx_int_t
ngx_http_airouter_proxy_reinit_request(ngx_http_request_t *r)
{
    ngx_http_airouter_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_airouter_module);

    ngx_http_airouter_proxy_parse_reset(r, ctx->proxy);

    return NGX_OK;
}


ngx_int_t
ngx_http_airouter_proxy_process_header(ngx_http_request_t *r)
{
    size_t                          len;
    ngx_int_t                       rc;
    ngx_http_upstream_t            *u;
    ngx_http_airouter_ctx_t        *ctx;
    ngx_http_airouter_proxy_ctx_t  *p;

    ctx = ngx_http_get_module_ctx(r, ngx_http_airouter_module);
    p = ctx->proxy;
    u = r->upstream;

    if (p->state == NGX_HTTP_AIROUTER_ST_STATUS) {

        rc = ngx_http_parse_status_line(r, &u->buffer, &p->status);

        if (rc == NGX_AGAIN) {
            return rc;
        }

        if (rc == NGX_ERROR) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "airouter: upstream sent no valid HTTP/1.x "
                          "status line");
            p->try.fault = airouter_outcome_fault(AIROUTER_END_INVALID, 0,
                                                  NULL, 0);
            p->try.classified = 1;
            return NGX_HTTP_UPSTREAM_INVALID_HEADER;
        }

        if (u->state && u->state->status == 0) {
            u->state->status = p->status.code;
        }

        u->headers_in.status_n = p->status.code;

        len = p->status.end - p->status.start;
        u->headers_in.status_line.len = len;
        u->headers_in.status_line.data = ngx_pnalloc(r->pool, len);
        if (u->headers_in.status_line.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(u->headers_in.status_line.data, p->status.start, len);

        if (p->status.http_version < NGX_HTTP_VERSION_11) {
            u->headers_in.connection_close = 1;
        }

        p->try.ttfb = ngx_current_msec - p->try.start;
        p->state = NGX_HTTP_AIROUTER_ST_HEADERS;
    }

    if (p->state == NGX_HTTP_AIROUTER_ST_HEADERS) {
        rc = ngx_http_airouter_proxy_headers(r, p);
        if (rc != NGX_OK) {
            return rc;
        }

        p->state = NGX_HTTP_AIROUTER_ST_BODY;
    }

    return ngx_http_airouter_proxy_judge(r, p);
}


/* Header lines into u->headers_in, as the proxy module reads them. */
static ngx_int_t
ngx_http_airouter_proxy_headers(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p)
{
    ngx_int_t                       rc;
    ngx_table_elt_t                *h;
    ngx_http_upstream_t            *u;
    ngx_http_upstream_header_t     *hh;
    ngx_http_upstream_main_conf_t  *umcf;

    umcf = ngx_http_get_module_main_conf(r, ngx_http_upstream_module);
    u = r->upstream;

    for ( ;; ) {

        rc = ngx_http_parse_header_line(r, &u->buffer, 1);

        if (rc == NGX_OK) {
            h = ngx_list_push(&u->headers_in.headers);
            if (h == NULL) {
                return NGX_ERROR;
            }

            h->hash = r->header_hash;
#if (nginx_version >= 1023000)
            h->next = NULL;
#endif
            h->key.len = r->header_name_end - r->header_name_start;
            h->value.len = r->header_end - r->header_start;

            h->key.data = ngx_pnalloc(r->pool,
                               h->key.len + 1 + h->value.len + 1 + h->key.len);
            if (h->key.data == NULL) {
                h->hash = 0;
                return NGX_ERROR;
            }

            h->value.data = h->key.data + h->key.len + 1;
            h->lowcase_key = h->key.data + h->key.len + 1 + h->value.len + 1;

            ngx_memcpy(h->key.data, r->header_name_start, h->key.len);
            h->key.data[h->key.len] = '\0';
            ngx_memcpy(h->value.data, r->header_start, h->value.len);
            h->value.data[h->value.len] = '\0';

            /* a key the upstream echoes goes no further */
            ngx_http_airouter_proxy_scrub(p->try.channel, h->value.data,
                                          h->value.data + h->value.len);

            if (h->key.len == r->lowcase_index) {
                ngx_memcpy(h->lowcase_key, r->lowcase_header, h->key.len);

            } else {
                ngx_strlow(h->lowcase_key, h->key.data, h->key.len);
            }

            hh = ngx_hash_find(&umcf->headers_in_hash, h->hash,
                               h->lowcase_key, h->key.len);

            if (hh && hh->handler(r, h, hh->offset) != NGX_OK) {
                return NGX_ERROR;
            }

            continue;
        }

        if (rc == NGX_HTTP_PARSE_HEADER_DONE) {
            if (u->headers_in.chunked) {
                u->headers_in.content_length_n = -1;
            }

            return NGX_OK;
        }

        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "airouter: upstream sent an invalid header line");

        p->try.fault = airouter_outcome_fault(AIROUTER_END_INVALID, 0, NULL, 0);
        p->try.classified = 1;

        return NGX_HTTP_UPSTREAM_INVALID_HEADER;
    }
}


/*
 * Pass the answer on, or try the next candidate.  Before deciding, wait
 * (inside the header buffer, so nothing is committed) for what tells the
 * truth: an error's body, a whole non-stream answer (its usage gives
 * X-Router-Cost), or a stream's first event (a 200 whose first event is
 * an error is a failure).  An answer that does not fit is judged by what
 * arrived.
 */
static ngx_int_t
ngx_http_airouter_proxy_judge(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p)
{
    ngx_int_t                 rc;
    json_t                   *root;
    ngx_str_t                 body, *ct;
    ngx_uint_t                status, sse;
    airouter_usage_t          usage;
    ngx_http_upstream_t      *u;
    ngx_http_airouter_ctx_t  *ctx;

    u = r->upstream;
    ctx = p->ctx;
    status = u->headers_in.status_n;

    ct = u->headers_in.content_type ? &u->headers_in.content_type->value
                                    : NULL;
    sse = (ct && ct->len >= 17
           && ngx_strncasecmp(ct->data, (u_char *) "text/event-stream", 17)
              == 0);

    p->encoding = ngx_http_airouter_proxy_encoding(r);

    if (status >= 200 && status < 300 && sse) {

        if (p->encoding == NGX_HTTP_AIROUTER_ENC_UNKNOWN) {
            /* no event can be read in it: its status says it all */
            p->try.fault = AIROUTER_FAULT_NONE;
            goto judged;
        }

        if (p->encoding == NGX_HTTP_AIROUTER_ENC_IDENTITY) {
            rc = ngx_http_airouter_proxy_first_event(u->buffer.pos,
                                                     u->buffer.last, &body);

        } else {
            /* its first event, de-chunked and inflated */
            rc = ngx_http_airouter_proxy_preread(r, p, &body);

            if (rc != NGX_ERROR) {
                rc = ngx_http_airouter_proxy_inflate(r, p, &body, rc);
            }

            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }

            rc = ngx_http_airouter_proxy_first_event(body.data,
                                                     body.data + body.len,
                                                     &body);
        }

        if (rc == NGX_AGAIN && u->buffer.last != u->buffer.end) {
            return NGX_AGAIN;
        }

        p->try.fault = (rc == NGX_OK)
                       ? airouter_outcome_fault(AIROUTER_END_HTTP, status,
                                                (char *) body.data, body.len)
                       : AIROUTER_FAULT_NONE;

    } else if (status >= 200 && status < 300
               && (ctx->endpoint == NGX_HTTP_AIROUTER_EP_SPEECH
                   || ctx->endpoint == NGX_HTTP_AIROUTER_EP_TRANSCRIPTIONS)
               && (ct == NULL
                   || ngx_strlcasestrn(ct->data, ct->data + ct->len,
                                       (u_char *) "json", 4 - 1) == NULL))
    {
        /*
         * Speech: audio, passed on as it comes, never held to be read; a
         * transcription as text, srt or vtt (response_format): its status
         * says it all, its usage is the input as counted.
         */
        p->try.fault = AIROUTER_FAULT_NONE;
        p->counted = 0;
        ngx_http_airouter_proxy_count(p, NULL);
        goto judged;

    } else {
        rc = ngx_http_airouter_proxy_preread(r, p, &body);

        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (p->encoding == NGX_HTTP_AIROUTER_ENC_UNKNOWN) {
            /* nothing in it can be read: its status says it all */
            p->try.fault = airouter_outcome_fault(AIROUTER_END_HTTP, status,
                                                  NULL, 0);

            if (p->try.fault == AIROUTER_FAULT_NONE && !ctx->stream) {
                p->counted = 0;
                ngx_http_airouter_proxy_count(p, NULL);
            }

            goto judged;
        }

        if (p->encoding == NGX_HTTP_AIROUTER_ENC_INFLATE) {
            rc = ngx_http_airouter_proxy_inflate(r, p, &body, rc);

            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }
        }

        if (status >= 200 && status < 300 && !sse) {
            if (rc == NGX_OK) {
                ngx_http_airouter_proxy_answer(r, p, status, &body);
                goto judged;
            }

            /* too big to judge whole: what came must begin a JSON answer */
            if (airouter_json_valid((char *) body.data, body.len) == -1) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "airouter: upstream answered %ui with a body "
                              "that is not JSON", status);
                p->try.fault = AIROUTER_FAULT_SERVER;
                goto judged;
            }
        }

        /* one parse for the fault and the usage */
        root = body.len ? json_loadb((char *) body.data, body.len, 0, NULL)
                        : NULL;

        p->try.fault = airouter_outcome_fault_parsed(AIROUTER_END_HTTP,
                                                     status,
                                                     (char *) body.data,
                                                     body.len, root);

        if (p->try.fault == AIROUTER_FAULT_NONE && rc == NGX_OK && !sse) {
            airouter_usage_init(&usage);

            if (root && airouter_usage_from_root(root, &usage)) {
                ngx_http_airouter_proxy_usage(p, &usage);

            } else {
                ngx_http_airouter_proxy_count(p, &body);
            }

        } else if (p->try.fault == AIROUTER_FAULT_NONE && !ctx->stream) {
            /* too big to judge whole: its usage comes from its end */
            p->tail = ngx_pcalloc(r->pool, sizeof(airouter_tail_t));
            if (p->tail == NULL) {
                if (root) {
                    json_decref(root);
                }
                return NGX_ERROR;
            }

            /* the images asked at their price, already in X-Router-Cost */
            if (ctx->endpoint == NGX_HTTP_AIROUTER_EP_IMAGES) {
                airouter_usage_init(&usage);
                ngx_http_airouter_proxy_usage(p, &usage);
            }
        }

        if (root) {
            json_decref(root);
        }
    }

judged:

    p->try.classified = 1;
    p->retry_after = ngx_http_airouter_proxy_retry_after(r);
    p->verdict = airouter_outcome_verdict(&p->pm->outcomes, p->try.fault,
                                          p->retry_after);
    ctx->upstream_status = status;

    ngx_log_debug6(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "airouter: answer %ui from \"%s\"%s: %s, %s (%s)",
                   status, ctx->amcf->config->channels[p->try.cand->channel].id,
                   p->encoding == NGX_HTTP_AIROUTER_ENC_IDENTITY
                   ? "" : " (compressed)",
                   airouter_fault_name(p->try.fault),
                   (p->try.fault == AIROUTER_FAULT_NONE || !p->verdict.retry)
                   ? "passed on" : "next candidate",
                   airouter_scope_name(p->verdict.scope));

    if (p->try.fault == AIROUTER_FAULT_NONE || !p->verdict.retry) {
        /* before the client's header goes: a translation changes it */
        rc = ngx_http_airouter_proxy_relay_init(r, p);

        if (rc != NGX_DECLINED) {
            p->answered = 1;
            return rc;
        }

        /* an answer that cannot be translated: as a broken one */
        p->try.fault = AIROUTER_FAULT_SERVER;
        p->verdict = airouter_outcome_verdict(&p->pm->outcomes, p->try.fault,
                                              p->retry_after);
    }

    return NGX_HTTP_UPSTREAM_INVALID_HEADER;
}


/*
 * A whole 2xx answer, the common case, judged without a jansson tree: an
 * error object in it is parsed (by airouter_outcome_fault), the usage
 * member alone is parsed in the pass that validates the answer, and only
 * an answer without usage is read whole (to count its text).  An answer
 * that is not JSON is a server_error: the next candidate is tried.
 */
static void
ngx_http_airouter_proxy_answer(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_uint_t status, ngx_str_t *body)
{
    int                rc;
    json_t            *root;
    airouter_usage_t   usage;
    airouter_dusage_t  du;

    p->try.fault = airouter_outcome_fault(AIROUTER_END_HTTP, status,
                                          (char *) body->data, body->len);

    if (p->try.fault != AIROUTER_FAULT_NONE) {
        return;
    }

    ngx_http_airouter_proxy_answer_units(p, body);

    airouter_usage_init(&usage);

    if (p->try.upstream != AIROUTER_DIALECT_OPENAI) {
        /* a Messages (or Responses) answer: its own usage fields */
        if (airouter_dialect_usage(p->try.upstream, (char *) body->data,
                                   body->len, &du))
        {
            ngx_http_airouter_proxy_usage(p, &du.u);
        }

        return;
    }

    rc = airouter_usage_from_answer((char *) body->data, body->len, &usage);

    if (rc == -1) {
        /* not JSON, or a shape the scan does not follow: jansson says */
        root = json_loadb((char *) body->data, body->len, 0, NULL);

        if (root == NULL) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "airouter: upstream answered %ui with a body "
                          "that is not JSON", status);
            p->try.fault = AIROUTER_FAULT_SERVER;
            return;
        }

        rc = airouter_usage_from_root(root, &usage);
        json_decref(root);
    }

    if (rc == 1) {
        ngx_http_airouter_proxy_usage(p, &usage);

    } else {
        ngx_http_airouter_proxy_count(p, body);
    }
}


/*
 * What a whole answer says of the units a price per unit counts: the
 * images it holds (the request's "n" otherwise), the seconds a
 * transcription heard (verbose_json's "duration"; usage.seconds is read
 * with the usage).
 */
static void
ngx_http_airouter_proxy_answer_units(ngx_http_airouter_proxy_ctx_t *p,
    ngx_str_t *body)
{
    long                      items;
    double                    seconds;
    ngx_http_airouter_ctx_t  *ctx;

    ctx = p->ctx;

    if (ctx->endpoint != NGX_HTTP_AIROUTER_EP_IMAGES
        && ctx->endpoint != NGX_HTTP_AIROUTER_EP_TRANSCRIPTIONS)
    {
        return;
    }

    airouter_answer_units((char *) body->data, body->len, &items, &seconds);

    if (ctx->endpoint == NGX_HTTP_AIROUTER_EP_IMAGES && items >= 0) {
        ctx->units_images = (ngx_uint_t) items;
    }

    if (ctx->endpoint == NGX_HTTP_AIROUTER_EP_TRANSCRIPTIONS
        && seconds >= 0)
    {
        ctx->units_seconds = seconds;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, p->request->connection->log, 0,
                   "airouter: answer units: %l images, %.3f seconds "
                   "(-1: not said), %ui images counted", items, seconds,
                   ctx->units_images);
}


/*
 * The body read so far.  NGX_OK: complete (chunked answers de-chunked
 * into a copy); NGX_AGAIN: more is coming and fits; NGX_DECLINED: judge by
 * this much (it ends at close, or it does not fit).
 */
static ngx_int_t
ngx_http_airouter_proxy_preread(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_str_t *body)
{
    off_t                 size;
    ngx_int_t             rc;
    ngx_buf_t             b;
    ngx_uint_t            full;
    ngx_http_chunked_t    ch;
    ngx_http_upstream_t  *u;

    u = r->upstream;
    full = (u->buffer.last == u->buffer.end);

    body->data = u->buffer.pos;
    body->len = u->buffer.last - u->buffer.pos;

    if (u->headers_in.chunked) {

        if (p->dechunked == NULL) {
            p->dechunked = ngx_pnalloc(r->pool,
                                       u->buffer.end - u->buffer.start);
            if (p->dechunked == NULL) {
                return NGX_ERROR;
            }
        }

        ngx_memzero(&b, sizeof(ngx_buf_t));
        ngx_memzero(&ch, sizeof(ngx_http_chunked_t));
        b.pos = u->buffer.pos;
        b.last = u->buffer.last;
        body->data = p->dechunked;
        body->len = 0;

        for ( ;; ) {
            rc = ngx_http_parse_chunked(r, &b, &ch);

            if (rc == NGX_OK) {
                size = ngx_min(ch.size, b.last - b.pos);
                ngx_memcpy(p->dechunked + body->len, b.pos, (size_t) size);
                body->len += (size_t) size;
                b.pos += (size_t) size;
                ch.size -= size;
                continue;
            }

            if (rc == NGX_DONE) {
                return NGX_OK;
            }

            if (rc == NGX_AGAIN) {
                return full ? NGX_DECLINED : NGX_AGAIN;
            }

            body->data = u->buffer.pos;
            body->len = u->buffer.last - u->buffer.pos;

            return NGX_DECLINED;
        }
    }

    size = u->headers_in.content_length_n;

    if (size < 0) {
        return NGX_DECLINED;
    }

    if ((off_t) body->len >= size) {
        body->len = (size_t) size;
        return NGX_OK;
    }

    if (full || size > u->buffer.end - u->buffer.pos) {
        return NGX_DECLINED;
    }

    return NGX_AGAIN;
}


/*
 * The payload of the first "data:" line in [pos, last): the raw body
 * (chunk-size lines are no SSE syntax, so searching the raw bytes is
 * enough), or an inflated copy.
 */
static ngx_int_t
ngx_http_airouter_proxy_first_event(u_char *pos, u_char *last,
    ngx_str_t *data)
{
    u_char  *lf;

    if (pos == NULL) {
        return NGX_AGAIN;
    }

    pos = ngx_strlcasestrn(pos, last, (u_char *) "data:", 5 - 1);
    if (pos == NULL) {
        return NGX_AGAIN;
    }

    pos += 5;

    lf = ngx_strlchr(pos, last, LF);
    if (lf == NULL) {
        return NGX_AGAIN;
    }

    while (pos < lf && *pos == ' ') {
        pos++;
    }

    data->data = pos;
    data->len = lf - pos;

    return NGX_OK;
}


static long
ngx_http_airouter_proxy_retry_after(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    h = ngx_http_airouter_header_find(&r->upstream->headers_in.headers,
                                      (u_char *) "Retry-After",
                                      sizeof("Retry-After") - 1);
    if (h == NULL) {
        return -1;
    }

    return airouter_outcome_retry_after((char *) h->value.data,
                                        h->value.len);
}


void
ngx_http_airouter_proxy_abort_request(ngx_http_request_t *r)
{
    return;
}


/* The upstream's end: how it ended, then the result for its readers. */
void
ngx_http_airouter_proxy_finalize_request(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_http_airouter_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_airouter_module);

    ngx_http_airouter_proxy_settle(r, rc);
    ngx_http_airouter_proxy_publish(ctx->proxy);
}


static void
ngx_http_airouter_proxy_settle(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_chain_t                    *out, **ll;
    airouter_usage_t                usage;
    ngx_http_upstream_t            *u;
    ngx_http_airouter_ctx_t        *ctx;
    ngx_http_airouter_proxy_ctx_t  *p;

    ctx = ngx_http_get_module_ctx(r, ngx_http_airouter_module);
    p = ctx->proxy;
    u = r->upstream;

    if (p->try.acquired && p->retry_same) {
        /* a stale idle connection failed and nginx gave up the retry */
        p->retry_same = 0;
        ngx_http_airouter_proxy_report(p, 1);
    }

    if (rc == NGX_HTTP_CLIENT_CLOSED_REQUEST || r->connection->error) {
        /* whatever the upstream was doing, it was not done */
        if (p->try.cand
            && (!p->try.classified || p->try.fault == AIROUTER_FAULT_NONE))
        {
            p->aborted = 1;
            p->try.classified = 1;
        }

        return;
    }

    if (!u->header_sent) {
        if (p->try.cand && !p->try.classified) {
            /* nginx gave up on this attempt (its deadline, an error) */
            p->try.fault = rc == NGX_HTTP_GATEWAY_TIME_OUT
                           ? AIROUTER_FAULT_TIMEOUT : AIROUTER_FAULT_SERVER;
            p->try.classified = 1;
        }

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE || rc == NGX_ERROR) {
            if (ngx_http_airouter_proxy_fail(r, p, rc) == NGX_OK) {
                p->replace = 1;
            }
        }

        return;
    }

    /* the answer was committed: no other candidate can step in */

    if (rc == 0 && !p->try.complete && p->remaining == -1
        && !u->headers_in.chunked)
    {
        /* ended by close: a stream must have said [DONE] */
        p->try.complete = !ctx->stream
                          || ngx_http_airouter_proxy_stream_done(p)
                          || (p->hold_last != p->hold_start
                              && ngx_http_airouter_proxy_held_done(p));

        out = NULL;
        ll = &out;

        if (p->try.complete
            && ngx_http_airouter_proxy_release(r, p, &ll) == NGX_OK
            && out)
        {
            (void) ngx_http_output_filter(r, out);
        }
    }

    /* what is still held is an event the upstream never finished: dropped */

    if (p->try.cand && p->try.classified
        && p->try.fault == AIROUTER_FAULT_NONE)
    {

        if (rc == 0 && p->try.complete && p->tail
            && !airouter_tail_closed(p->tail))
        {
            /* it began as JSON, and ended as something else */
            p->try.fault = AIROUTER_FAULT_SERVER;
            p->verdict = airouter_outcome_verdict(&p->pm->outcomes,
                                                  p->try.fault, -1);

            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "airouter: \"%s\" sent an answer that is not JSON",
                          ctx->amcf->config->channels[p->try.cand->channel].id);

        } else if (rc != 0 || !p->try.complete) {
            p->try.fault = (rc == NGX_HTTP_GATEWAY_TIME_OUT)
                           ? AIROUTER_FAULT_TIMEOUT : AIROUTER_FAULT_SERVER;
            p->verdict = airouter_outcome_verdict(&p->pm->outcomes,
                                                  p->try.fault, -1);

            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "airouter: \"%s\" ended the answer early",
                          ctx->amcf->config->channels[p->try.cand->channel].id);

            /* (a compressed stream can take no plain event after it) */
            if (ctx->stream
                && p->encoding == NGX_HTTP_AIROUTER_ENC_IDENTITY)
            {
                ngx_http_airouter_proxy_stream_error(r, p, rc);
            }
        }
    }

    if (ctx->stream) {
        if (p->relay && p->relay->stream
            && p->try.upstream != AIROUTER_DIALECT_OPENAI)
        {
            /* a channel of another dialect: its own usage fields */
            airouter_usage_init(&usage);
            (void) ngx_http_airouter_dialect_usage(p->relay, &usage);
            ngx_http_airouter_proxy_usage(p, &usage);

        } else {
            ngx_http_airouter_proxy_stream_end(p);
        }

        if (ctx->prompt_tokens < 0 && p->answered && p->try.cand
            && u->headers_in.status_n >= 200 && u->headers_in.status_n < 300)
        {
            ngx_http_airouter_proxy_count(p, NULL);
        }

    } else if (p->tail && p->try.complete && p->try.fault == AIROUTER_FAULT_NONE
               && ctx->prompt_tokens < 0)
    {
        airouter_usage_init(&usage);

        /* none: an images answer's price per image still counts */
        (void) airouter_usage_from_tail(p->tail, &usage);
        ngx_http_airouter_proxy_usage(p, &usage);
    }
}


/*
 * The client has a 200 and part of a stream: end it as an SSE error event
 * (after the event in progress, if the cut fell inside one), then [DONE].
 * With rc 0 nginx sends the last chunk itself; otherwise it will close the
 * connection, so this is the last buffer.
 */
static void
ngx_http_airouter_proxy_stream_error(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_int_t rc)
{
    size_t        len;
    json_t       *err;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    if (p->ctx->dialect && (p->translate
                            || ((ngx_http_airouter_dialect_t *)
                                   p->ctx->dialect)->client
                               != AIROUTER_DIALECT_OPENAI))
    {
        ngx_http_airouter_proxy_dialect_error(r, p, rc);
        return;
    }

    err = ngx_http_airouter_error_json("upstream_error", "stream_interrupted",
              "The upstream \"%s\" ended the stream early (%s)",
              p->ctx->amcf->config->channels[p->try.cand->channel].id,
              airouter_fault_name(p->try.fault));
    if (err == NULL) {
        return;
    }

    len = json_dumpb(err, NULL, 0, JSON_COMPACT);

    b = ngx_create_temp_buf(r->pool,
                            len + sizeof("\n\ndata: \n\ndata: [DONE]\n\n"));
    if (b == NULL) {
        json_decref(err);
        return;
    }

    if (!airouter_sse_at_boundary(&p->sse)) {
        b->last = ngx_cpymem(b->last, "\n\n", 2);
    }

    b->last = ngx_cpymem(b->last, "data: ", 6);
    b->last += json_dumpb(err, (char *) b->last, len, JSON_COMPACT);
    b->last = ngx_cpymem(b->last, "\n\ndata: [DONE]\n\n", 16);
    json_decref(err);

    b->flush = 1;
    b->last_buf = (rc != 0);
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    (void) ngx_http_output_filter(r, &out);
}


/*
 * The same for a client of another dialect: the translator ends the
 * stream with the dialect's error event (a Messages client gets
 * "event: error", a Responses one error and response.failed, a Gemini
 * one an error object); a stream passed through from a channel of the
 * client's own dialect gets that event after the last whole event.
 */
static void
ngx_http_airouter_proxy_dialect_error(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_int_t rc)
{
    u_char                        msg[512], *m;
    ngx_buf_t                    *b;
    ngx_chain_t                   out;
    airouter_dbuf_t               ev;
    ngx_http_airouter_dialect_t  *d;

    d = p->ctx->dialect;

    m = ngx_snprintf(msg, sizeof(msg) - 1,
                     "The upstream \"%s\" ended the stream early (%s)",
                     p->ctx->amcf->config->channels[p->try.cand->channel].id,
                     airouter_fault_name(p->try.fault));
    *m = '\0';

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return;
    }

    if (p->translate) {
        if (ngx_http_airouter_dialect_finish(p->relay, (char *) msg, b)
            != NGX_OK)
        {
            return;
        }

    } else {
        airouter_dbuf_init(&ev);

        if (!airouter_sse_at_boundary(&p->sse)) {
            airouter_dbuf_str(&ev, "\n\n");
        }

        airouter_dialect_error(d->client, NGX_HTTP_BAD_GATEWAY,
                               "upstream_error", "stream_interrupted",
                               (char *) msg, 1, &ev);

        b->pos = ngx_pnalloc(r->pool, ev.len);
        if (ev.failed || b->pos == NULL) {
            airouter_dbuf_free(&ev);
            return;
        }

        b->last = ngx_cpymem(b->pos, ev.data, ev.len);
        b->memory = 1;
        b->flush = 1;
        airouter_dbuf_free(&ev);
    }

    b->last_buf = (rc != 0);
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    (void) ngx_http_output_filter(r, &out);
}


/*
 * No candidate answered: the OpenAI-style error that the header and body
 * filters put in place of nginx's error page.  Its status is the last
 * upstream's error status (4xx, 5xx), else 504 after a timeout, else 502
 * when the last answer was broken under another status (a 200 cut short,
 * oversized headers): never a 2xx; else 503 (no answer at all).
 */
static ngx_int_t
ngx_http_airouter_proxy_fail(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_int_t rc)
{
    u_char                        *msg, *m, *end;
    size_t                         len;
    json_t                        *err, *list, *inner;
    ngx_uint_t                     i, status, tried;
    airouter_config_t             *acf;
    ngx_http_airouter_attempt_t   *a;

    acf = p->ctx->amcf->config;
    a = p->attempts.elts;
    status = 0;
    tried = 0;

    for (i = 0; i < p->attempts.nelts; i++) {
        if (a[i].skipped) {
            continue;
        }

        tried++;

        if (a[i].status >= NGX_HTTP_BAD_REQUEST) {
            status = a[i].status;

        } else if (a[i].fault == AIROUTER_FAULT_TIMEOUT) {
            status = NGX_HTTP_GATEWAY_TIME_OUT;

        } else {
            status = a[i].status ? NGX_HTTP_BAD_GATEWAY
                                 : NGX_HTTP_SERVICE_UNAVAILABLE;
        }
    }

    if (p->attempts.nelts == 0) {
        status = (rc == NGX_HTTP_BAD_GATEWAY || rc == NGX_HTTP_GATEWAY_TIME_OUT)
                 ? NGX_HTTP_SERVICE_UNAVAILABLE : NGX_HTTP_INTERNAL_SERVER_ERROR;

    } else if (status == 0) {
        status = NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    len = 128;

    for (i = 0; i < p->attempts.nelts; i++) {
        len += ngx_strlen(acf->channels[a[i].channel].id) + a[i].model.len
               + 64;
    }

    msg = ngx_pnalloc(r->pool, len);
    if (msg == NULL) {
        return NGX_ERROR;
    }

    end = msg + len;

    m = tried ? ngx_slprintf(msg, end, "All %ui attempted candidates failed",
                             tried)
              : ngx_slprintf(msg, end, "No candidate is available");

    list = json_array();
    if (list == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < p->attempts.nelts; i++) {
        m = ngx_slprintf(m, end, "%s %s (%V): %s%s", i ? ";" : ":",
                         acf->channels[a[i].channel].id, &a[i].model,
                         a[i].skipped ? "skipped, " : "",
                         airouter_fault_name(a[i].fault));

        if (a[i].status) {
            m = ngx_slprintf(m, end, " %ui", a[i].status);
        }

        inner = json_pack("{s:s,s:s%,s:s,s:i,s:b}",
                          "channel", acf->channels[a[i].channel].id,
                          "model", (char *) a[i].model.data, a[i].model.len,
                          "error", airouter_fault_name(a[i].fault),
                          "status", (json_int_t) a[i].status,
                          "skipped", (int) a[i].skipped);

        if (inner == NULL || json_array_append_new(list, inner) != 0) {
            json_decref(list);
            return NGX_ERROR;
        }

        if (a[i].key >= 0) {
            json_object_set_new(inner, "key", json_integer(a[i].key));
        }
    }

    err = ngx_http_airouter_error_json("upstream_error",
                                       "all_candidates_failed",
                                       "%*s", (size_t) (m - msg), msg);
    if (err == NULL) {
        json_decref(list);
        return NGX_ERROR;
    }

    json_object_set_new(json_object_get(err, "error"), "attempts", list);

    /* a client of another dialect: in its error shape */
    err = ngx_http_airouter_dialect_error_json(r, status, err);

    len = json_dumpb(err, NULL, 0, JSON_COMPACT);

    p->error.data = ngx_pnalloc(r->pool, len + 1);
    if (p->error.data == NULL) {
        json_decref(err);
        return NGX_ERROR;
    }

    p->error.len = json_dumpb(err, (char *) p->error.data, len, JSON_COMPACT);
    p->error.data[p->error.len++] = LF;
    json_decref(err);

    p->error_status = status;
    p->ctx->upstream_status = status;

    return NGX_OK;
}
