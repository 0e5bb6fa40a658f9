/*
 * The answer's body on its way to the client: the upstream's input filter
 * (unbuffered pass-through: chunked, length or close) and what it does to
 * the bytes: the channel's keys masked (scrub), a stream relayed event by
 * event (an unfinished event is held until its end), usage read on the
 * way (SSE events, or the end of a JSON answer too big to judge whole),
 * an answer in another dialect translated into the client's (relay).
 * Every buffer that goes to the client is made here (emit).
 *
 * Called by nginx's upstream code (input filter) and the upstream
 * callbacks; calls the inflater, the usage reader and the dialect glue
 * (the relay that translates).
 */

#include "ngx_http_airouter_proxy_impl.h"


#define NGX_HTTP_AIROUTER_SSE_LINE        (16 * 1024)

/* an unfinished event longer than this goes to the client as it comes */
#define NGX_HTTP_AIROUTER_HOLD_MAX        (64 * 1024)


static ngx_int_t ngx_http_airouter_proxy_translate(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_chain_t ***ll, u_char *pos,
    u_char *last);
static ngx_int_t ngx_http_airouter_proxy_translated_end(
    ngx_http_request_t *r, ngx_http_airouter_proxy_ctx_t *p,
    ngx_chain_t ***ll);
static ngx_int_t ngx_http_airouter_proxy_link(ngx_http_upstream_t *u,
    ngx_chain_t ***ll, ngx_chain_t *cl, ngx_int_t rc);
static ngx_int_t ngx_http_airouter_proxy_emit(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_chain_t ***ll, u_char *pos,
    u_char *last);
static ngx_int_t ngx_http_airouter_proxy_relay(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_chain_t ***ll, u_char *pos,
    u_char *last, ngx_http_airouter_hold_block_t *blk);
static ngx_int_t ngx_http_airouter_proxy_relay_held(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_chain_t ***ll, size_t cut);
static size_t ngx_http_airouter_proxy_join(ngx_http_airouter_proxy_ctx_t *p,
    u_char *pos, u_char *last);
static size_t ngx_http_airouter_proxy_cut(ngx_http_airouter_proxy_ctx_t *p,
    u_char *start, u_char *last, size_t from);
static ngx_int_t ngx_http_airouter_proxy_hold(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, u_char *pos, u_char *last);
static ngx_http_airouter_hold_block_t *ngx_http_airouter_proxy_block(
    ngx_http_request_t *r, ngx_http_airouter_proxy_ctx_t *p, size_t need,
    size_t want);
static size_t ngx_http_airouter_proxy_key_start(
    ngx_http_airouter_channel_t *ch, u_char *pos, u_char *last);


ngx_int_t
ngx_http_airouter_proxy_filter_init(void *data)
{
    ngx_http_request_t *r = data;

    u_char                         *buf;
    ngx_http_upstream_t            *u;
    ngx_http_airouter_ctx_t        *ctx;
    ngx_http_airouter_proxy_ctx_t  *p;

    ctx = ngx_http_get_module_ctx(r, ngx_http_airouter_module);
    p = ctx->proxy;
    u = r->upstream;

    if (ctx->stream) {
        buf = ngx_pnalloc(r->pool, NGX_HTTP_AIROUTER_SSE_LINE);
        if (buf == NULL) {
            return NGX_ERROR;
        }

        airouter_sse_init(&p->sse, (char *) buf, NGX_HTTP_AIROUTER_SSE_LINE);
        p->counted = 0;

        /*
         * A chat stream always asks for usage in its last event
         * (stream_options.include_usage, ngx_http_airouter_proxy_build.c):
         * once the channel's last whole stream had it, nobody needs the
         * text of each event, and the scanner reads only the lines that
         * carry usage, an error or [DONE].
         */
        if (p->try.upstream != AIROUTER_DIALECT_OPENAI
            || !p->try.channel->stream_usage)
        {
            p->sse.text = ngx_http_airouter_proxy_text;
            p->sse.text_data = p;
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "airouter: the stream's text is %s",
                       p->sse.text ? "read" : "not read: usage expected");
    }

    /*
     * u->length stays -1 (read until told) and the body's end is ours to
     * find: so a close before the end reaches finalize as rc 0, where an
     * SSE error event can still end the stream cleanly.
     */
    u->length = -1;
    p->remaining = -1;

    /*
     * A compressed answer is relayed as it came (no key can be found in
     * it, no event boundary); a copy is inflated to read its usage.
     */
    p->hold_on = p->encoding == NGX_HTTP_AIROUTER_ENC_IDENTITY
                 && (ctx->stream || p->try.channel->nsecrets);

    if (p->encoding == NGX_HTTP_AIROUTER_ENC_INFLATE
        && (ctx->stream || p->tail))
    {
        if (ngx_http_airouter_proxy_zstart(r, p) != NGX_OK) {
            return NGX_ERROR;
        }

        p->zreading = 1;
    }

    if (u->headers_in.status_n == NGX_HTTP_NO_CONTENT
        || u->headers_in.status_n == NGX_HTTP_NOT_MODIFIED
        || (!u->headers_in.chunked && u->headers_in.content_length_n == 0))
    {
        u->length = 0;
        p->try.complete = 1;
        u->keepalive = !u->headers_in.connection_close;

    } else if (u->headers_in.chunked) {
        ngx_memzero(&p->chunked, sizeof(ngx_http_chunked_t));

    } else if (u->headers_in.content_length_n > 0) {
        p->remaining = u->headers_in.content_length_n;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_airouter_proxy_filter(void *data, ssize_t bytes)
{
    ngx_http_request_t *r = data;

    u_char                         *last, *start, *end;
    ngx_int_t                       rc;
    ngx_buf_t                      *b;
    ngx_chain_t                    *cl, **ll;
    ngx_http_upstream_t            *u;
    ngx_http_airouter_ctx_t        *ctx;
    ngx_http_airouter_proxy_ctx_t  *p;

    ctx = ngx_http_get_module_ctx(r, ngx_http_airouter_module);
    p = ctx->proxy;
    u = r->upstream;
    b = &u->buffer;

    for (cl = u->out_bufs, ll = &u->out_bufs; cl; cl = cl->next) {
        ll = &cl->next;
    }

    if (!u->headers_in.chunked) {

        if (p->try.complete) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "airouter: upstream sent more data than "
                          "specified in \"Content-Length\" header");
            u->keepalive = 0;
            return NGX_OK;
        }

        last = b->last + bytes;

        if (p->remaining >= 0) {
            if (bytes > p->remaining) {
                ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                              "airouter: upstream sent more data than "
                              "specified in \"Content-Length\" header");
                last = b->last + p->remaining;
            }

            p->remaining -= last - b->last;
        }

        if (ngx_http_airouter_proxy_emit(r, p, &ll, b->last, last)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        b->last += bytes;

        if (p->remaining == 0) {
            p->try.complete = 1;
            u->length = 0;
            u->keepalive = !u->headers_in.connection_close
                           && last == b->last;

            return ngx_http_airouter_proxy_release(r, p, &ll);
        }

        return NGX_OK;
    }

    b->pos = b->last;
    b->last += bytes;

    /*
     * The data of every chunk this read brought is moved together, over
     * the chunk headers between them (only bytes of this read, which no
     * buffer sent before points into), so that it goes on as one span:
     * one buffer and one write to the client per read, not one per
     * chunk (an upstream often sends each event as its own chunk).
     */
    start = NULL;
    end = NULL;

    for ( ;; ) {

        rc = ngx_http_parse_chunked(r, b, &p->chunked);

        if (rc == NGX_OK) {
            last = b->pos + ngx_min(p->chunked.size, b->last - b->pos);

            if (start == NULL) {
                start = b->pos;
                end = b->pos;

            } else if (end != b->pos) {
                ngx_memmove(end, b->pos, last - b->pos);
            }

            end += last - b->pos;
            p->chunked.size -= last - b->pos;
            b->pos = last;
            continue;
        }

        if (start != NULL
            && ngx_http_airouter_proxy_emit(r, p, &ll, start, end) != NGX_OK)
        {
            return NGX_ERROR;
        }

        start = NULL;

        if (rc == NGX_DONE) {
            p->try.complete = 1;
            u->length = 0;
            u->keepalive = !u->headers_in.connection_close
                           && b->pos == b->last;

            return ngx_http_airouter_proxy_release(r, p, &ll);
        }

        if (rc == NGX_AGAIN) {
            break;
        }

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "airouter: upstream sent an invalid chunked answer");

        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * One span of the answer's body as it came (de-chunked).  What may reach
 * the client goes now, flushed; the rest waits in the hold for the bytes
 * that follow: for a stream, the event in progress (the upstream may die
 * before it ends, and a client must never get half an event), and
 * anything that may be the start of one of the channel's keys (its end
 * decides whether it is masked).  Keys are masked byte for byte, so the
 * answer's length stays what the upstream said.
 *
 * The span itself is relayed where it lies, in the upstream's buffer:
 * only the first bytes that finish what is held (the end of its event,
 * or as many bytes as a key can have after its first) join it in its
 * block, so a read costs one copy of the held event and of its end, not
 * of the read.
 */
static ngx_int_t
ngx_http_airouter_proxy_emit(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_chain_t ***ll, u_char *pos,
    u_char *last)
{
    size_t   cut, held, join;
    u_char  *start;

    if (pos == last) {
        return NGX_OK;
    }

    if (!p->hold_on) {
        return ngx_http_airouter_proxy_relay(r, p, ll, pos, last, NULL);
    }

    if (p->hold_last != p->hold_start) {
        held = p->hold_last - p->hold_start;
        join = ngx_http_airouter_proxy_join(p, pos, last);

        if (ngx_http_airouter_proxy_hold(r, p, pos, pos + join) != NGX_OK) {
            return NGX_ERROR;
        }

        start = p->hold_start;

        ngx_http_airouter_proxy_scrub(p->try.channel, start, p->hold_last);

        if (!p->ctx->stream && join < (size_t) (last - pos)) {
            /*
             * A key that began in the held bytes ends in the joined
             * ones: the joined bytes go back masked, the held ones go,
             * and the span is read whole below.
             */
            ngx_memcpy(pos, start + held, join);
            p->hold_last = start + held;

            if (ngx_http_airouter_proxy_relay_held(r, p, ll, held)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

        } else {
            /*
             * A stream: the held event ends with the joined bytes (or
             * took the whole span); an answer: the span was shorter
             * than a key
             */
            cut = ngx_http_airouter_proxy_cut(p, start, p->hold_last, held);

            if (cut && ngx_http_airouter_proxy_relay_held(r, p, ll, cut)
                       != NGX_OK)
            {
                return NGX_ERROR;
            }

            pos += join;

            if (pos == last) {
                return NGX_OK;
            }
        }
    }

    /* nothing held: the span is relayed in place */
    ngx_http_airouter_proxy_scrub(p->try.channel, pos, last);

    cut = ngx_http_airouter_proxy_cut(p, pos, last, 0);

    if (ngx_http_airouter_proxy_relay(r, p, ll, pos, pos + cut, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_airouter_proxy_hold(r, p, pos + cut, last);
}


/*
 * The first cut bytes of the hold go to the client in their block; what
 * stays is held in another one.
 */
static ngx_int_t
ngx_http_airouter_proxy_relay_held(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_chain_t ***ll, size_t cut)
{
    u_char                          *start, *last;
    ngx_http_airouter_hold_block_t  *blk;

    start = p->hold_start;
    last = p->hold_last;
    blk = p->hold;

    p->hold = NULL;
    p->hold_start = NULL;
    p->hold_last = NULL;
    p->hold_end = NULL;

    if (ngx_http_airouter_proxy_relay(r, p, ll, start, start + cut, blk)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_airouter_proxy_hold(r, p, start + cut, last);
}


/*
 * How many of the bytes of [pos, last) join the held ones: for a stream,
 * those up to the end of the held event (its blank line may begin in the
 * held bytes), all of them when it does not end here; for an answer, as
 * many as the longest key has after its first byte.
 */
static size_t
ngx_http_airouter_proxy_join(ngx_http_airouter_proxy_ctx_t *p, u_char *pos,
    u_char *last)
{
    u_char      *q, c1, c2;
    size_t       held, max;
    ngx_uint_t   i;

    if (!p->ctx->stream) {
        max = 0;

        for (i = 0; i < p->try.channel->nsecrets; i++) {
            max = ngx_max(max, p->try.channel->secrets[i].len);
        }

        return ngx_min((size_t) (last - pos), max ? max - 1 : 0);
    }

    held = p->hold_last - p->hold_start;

    for (q = pos; q < last; q++) {
        q = memchr(q, '\n', last - q);

        if (q == NULL) {
            break;
        }

        /* the two bytes before the LF, the held ones included */
        c1 = (q - pos >= 1) ? q[-1] : p->hold_last[-1];
        c2 = (q - pos >= 2) ? q[-2]
             : (q - pos == 1) ? p->hold_last[-1]
             : (held >= 2) ? p->hold_last[-2] : '\0';

        if (c1 == '\n' || (c1 == '\r' && c2 == '\n')) {
            return q + 1 - pos;
        }
    }

    return last - pos;
}


/*
 * Bytes to the client, flushed at once; streams feed the scanner.  blk:
 * the hold block they are in, free again when they have gone.
 */
static ngx_int_t
ngx_http_airouter_proxy_relay(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_chain_t ***ll, u_char *pos,
    u_char *last, ngx_http_airouter_hold_block_t *blk)
{
    ngx_chain_t          *cl;
    ngx_http_upstream_t  *u;

    if (pos == last) {
        return NGX_OK;
    }

    u = r->upstream;

    if (p->translate) {
        /* the translator is done with the bytes when it returns */
        if (blk) {
            blk->buf = NULL;
        }

        return ngx_http_airouter_proxy_translate(r, p, ll, pos, last);
    }

    cl = ngx_chain_get_free_buf(r->pool, &u->free_bufs);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    **ll = cl;
    *ll = &cl->next;

    cl->buf->flush = 1;
    cl->buf->memory = 1;
    cl->buf->pos = pos;
    cl->buf->last = last;
    cl->buf->tag = u->output.tag;

    if (blk) {
        blk->buf = cl->buf;
    }

    if (p->encoding == NGX_HTTP_AIROUTER_ENC_IDENTITY) {
        ngx_http_airouter_proxy_read(p, pos, last);

    } else if (p->zreading) {
        ngx_http_airouter_proxy_inflate_read(p, pos, last);
    }

    return NGX_OK;
}


/*
 * Bytes of an answer the client gets in another dialect: a stream's go
 * through the translator, which hands back whole events of the client's
 * dialect (in blocks of its own); a whole answer is gathered until its
 * end (ngx_http_airouter_proxy_release).  The upstream's bytes are done
 * with at once, so a hold block they came from is free again.
 */
static ngx_int_t
ngx_http_airouter_proxy_translate(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_chain_t ***ll, u_char *pos,
    u_char *last)
{
    ngx_int_t             rc;
    ngx_chain_t          *cl;
    ngx_http_upstream_t  *u;

    u = r->upstream;

    if (p->relay->stream == NULL) {
        return ngx_http_airouter_dialect_collect(p->relay, pos, last - pos);
    }

    if (p->try.upstream == AIROUTER_DIALECT_OPENAI) {
        /* usage and the answer's text, as for a chat client */
        airouter_sse_feed(&p->sse, (char *) pos, last - pos);
    }

    cl = ngx_chain_get_free_buf(r->pool, &u->free_bufs);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_airouter_dialect_feed(p->relay, pos, last - pos, cl->buf);

    return ngx_http_airouter_proxy_link(u, ll, cl, rc);
}


/*
 * How much of [start, last) may go: a stream up to its last finished
 * event (all of it when the unfinished one is too long to hold), an
 * answer up to where one of the keys might begin.  from: the bytes
 * before it were looked at already.
 */
static size_t
ngx_http_airouter_proxy_cut(ngx_http_airouter_proxy_ctx_t *p, u_char *start,
    u_char *last, size_t from)
{
    size_t  len, cut;

    len = last - start;

    if (!p->ctx->stream) {
        return len - ngx_http_airouter_proxy_key_start(p->try.channel, start,
                                                       last);
    }

    cut = airouter_sse_last_boundary((char *) start, len, from);

    if (len - cut > NGX_HTTP_AIROUTER_HOLD_MAX) {
        return len;
    }

    return cut;
}


/*
 * Appends [pos, last) to the hold, in a block of ours: the current one
 * while it has room, else a free one (a bigger one as the hold grows).
 * [pos, last) may lie in a block that is free again (a translated one).
 */
static ngx_int_t
ngx_http_airouter_proxy_hold(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, u_char *pos, u_char *last)
{
    size_t                           held, need;
    ngx_http_airouter_hold_block_t  *blk;

    if (pos == last) {
        return NGX_OK;
    }

    held = p->hold_last - p->hold_start;
    need = held + (last - pos);

    if (p->hold == NULL || (size_t) (p->hold_end - p->hold_start) < need) {
        blk = ngx_http_airouter_proxy_block(r, p, need,
                  ngx_max(need, 2 * (size_t) (p->hold_end - p->hold_start)));
        if (blk == NULL) {
            return NGX_ERROR;
        }

        if (held) {
            ngx_memcpy(blk->start, p->hold_start, held);
        }

        if (p->hold) {
            p->hold->buf = NULL;        /* never sent: free */
        }

        p->hold = blk;
        p->hold_start = blk->start;
        p->hold_last = blk->start + held;
        p->hold_end = blk->end;
    }

    ngx_memmove(p->hold_last, pos, last - pos);
    p->hold_last += last - pos;

    return NGX_OK;
}


/*
 * A free block of at least need bytes (not the current hold): one whose
 * buffer has gone to the client (sent whole, or taken for other bytes
 * since), else a new one of want bytes in a free place; when every block
 * is on its way, one for this time only (the client reads slower than the
 * upstream writes).  The pool grows only in that case and when the hold
 * grows.
 */
static ngx_http_airouter_hold_block_t *
ngx_http_airouter_proxy_block(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, size_t need, size_t want)
{
    ngx_buf_t                       *b;
    ngx_uint_t                       i;
    ngx_http_airouter_hold_block_t  *blk, *place;

    place = NULL;

    for (i = 0; i < NGX_HTTP_AIROUTER_HOLD_BLOCKS; i++) {
        blk = &p->blocks[i];
        b = blk->buf;

        if (blk == p->hold
            || (b && b->pos != b->last
                && b->pos >= blk->start && b->pos < blk->end))
        {
            continue;               /* held, or on its way */
        }

        blk->buf = NULL;

        if ((size_t) (blk->end - blk->start) >= need) {
            return blk;
        }

        if (place == NULL || place->start) {
            place = blk;
        }
    }

    if (place == NULL) {
        place = &p->blocks[NGX_HTTP_AIROUTER_HOLD_BLOCKS];

    } else if (place->start) {
        /* too small: a bigger one in its place */
        (void) ngx_pfree(r->pool, place->start);
    }

    want = ngx_max(want, 4096);

    place->start = ngx_pnalloc(r->pool, want);
    if (place->start == NULL) {
        return NULL;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "airouter: hold block of %uz bytes%s", want,
                   place == &p->blocks[NGX_HTTP_AIROUTER_HOLD_BLOCKS]
                   ? ", for this time" : "");

    place->end = place->start + want;
    place->buf = NULL;

    return place;
}


/*
 * The answer ended as it should: what is held goes too (a stream's last
 * event without its blank line; an answer's end that began like a key is
 * masked: nothing of a key may reach the client).
 */
ngx_int_t
ngx_http_airouter_proxy_release(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_chain_t ***ll)
{
    u_char  *start, *last;

    start = p->hold_start;
    last = p->hold_last;

    if (start == last) {
        return p->translate ? ngx_http_airouter_proxy_translated_end(r, p, ll)
                            : NGX_OK;
    }

    if (!p->ctx->stream) {
        ngx_memset(start, '*', last - start);
    }

    if (ngx_http_airouter_proxy_relay_held(r, p, ll, last - start)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return p->translate ? ngx_http_airouter_proxy_translated_end(r, p, ll)
                        : NGX_OK;
}


/*
 * A translated answer ended as it should: a whole one is written now; a
 * stream that said why it stopped gets its closing events if the
 * upstream's final marker never came.
 */
static ngx_int_t
ngx_http_airouter_proxy_translated_end(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_chain_t ***ll)
{
    ngx_int_t             rc;
    ngx_chain_t          *cl;
    ngx_http_upstream_t  *u;

    u = r->upstream;

    cl = ngx_chain_get_free_buf(r->pool, &u->free_bufs);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    if (p->relay->stream) {
        rc = ngx_http_airouter_dialect_finish(p->relay, NULL, cl->buf);

    } else {
        rc = ngx_http_airouter_dialect_whole(p->relay,
                                             u->headers_in.status_n,
                                             cl->buf);
    }

    return ngx_http_airouter_proxy_link(u, ll, cl, rc);
}


/*
 * A block the translator wrote into (rc its answer) goes out after the
 * others; NGX_DONE: it wrote nothing, and the block is free again.
 */
static ngx_int_t
ngx_http_airouter_proxy_link(ngx_http_upstream_t *u, ngx_chain_t ***ll,
    ngx_chain_t *cl, ngx_int_t rc)
{
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DONE) {
        cl->next = u->free_bufs;
        u->free_bufs = cl;
        return NGX_OK;
    }

    cl->buf->tag = u->output.tag;

    **ll = cl;
    *ll = &cl->next;

    return NGX_OK;
}


/* A stream said it was done: chat's [DONE], or the relay's reading. */
ngx_uint_t
ngx_http_airouter_proxy_stream_done(ngx_http_airouter_proxy_ctx_t *p)
{
    if (p->relay && p->relay->stream) {
        return airouter_dstream_state(p->relay->stream) == 1;
    }

    return p->sse.done;
}


/* The held bytes finish the stream: they say [DONE]. */
ngx_uint_t
ngx_http_airouter_proxy_held_done(ngx_http_airouter_proxy_ctx_t *p)
{
    char            line[64];
    airouter_sse_t  s;

    airouter_sse_init(&s, line, sizeof(line));
    airouter_sse_feed(&s, (char *) p->hold_start,
                      p->hold_last - p->hold_start);
    airouter_sse_feed(&s, "\n", 1);

    return s.done;
}


/* Every key of the channel in [pos, last) becomes as many '*'. */
void
ngx_http_airouter_proxy_scrub(ngx_http_airouter_channel_t *ch, u_char *pos,
    u_char *last)
{
    u_char      *q;
    ngx_str_t   *k;
    ngx_uint_t   i;

    for (i = 0; i < ch->nsecrets; i++) {
        k = &ch->secrets[i];

        for (q = pos; (size_t) (last - q) >= k->len; q++) {
            q = memchr(q, k->data[0], last - q - k->len + 1);

            if (q == NULL) {
                break;
            }

            /* its last byte first: most places of the first byte (an
             * 's' of "sk-...") are not a key, and this spares the call */
            if (q[k->len - 1] == k->data[k->len - 1]
                && ngx_memcmp(q, k->data, k->len) == 0)
            {
                ngx_memset(q, '*', k->len);
                q += k->len - 1;
            }
        }
    }
}


/*
 * The length of the longest end of [pos, last) that begins one of the
 * channel's keys (0: none), so that a key cut between two reads is
 * masked whole.
 */
static size_t
ngx_http_airouter_proxy_key_start(ngx_http_airouter_channel_t *ch,
    u_char *pos, u_char *last)
{
    size_t       best, len;
    u_char      *q;
    ngx_str_t   *k;
    ngx_uint_t   i;

    best = 0;

    for (i = 0; i < ch->nsecrets; i++) {
        k = &ch->secrets[i];
        len = ngx_min((size_t) (last - pos), k->len - 1);

        for (q = last - len; q < last - best; q++) {
            q = ngx_strlchr(q, last - best, k->data[0]);

            if (q == NULL) {
                break;
            }

            if (ngx_memcmp(q, k->data, last - q) == 0) {
                best = last - q;
                break;
            }
        }
    }

    return best;
}


/*
 * The answer is accepted: a chat client on a chat channel needs nothing;
 * otherwise a relay writes it in the client's dialect, or (the same
 * dialect on both sides, not chat) reads a stream's usage.  NGX_DECLINED:
 * it cannot be translated (compressed), the next candidate is tried.
 */
ngx_int_t
ngx_http_airouter_proxy_relay_init(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p)
{
    ngx_str_t                    *ct;
    ngx_uint_t                    status, stream;
    airouter_dialect_e            client;
    ngx_http_upstream_t          *u;
    ngx_http_airouter_dialect_t  *d;

    u = r->upstream;
    d = p->ctx->dialect;
    client = d ? d->client : AIROUTER_DIALECT_OPENAI;

    p->relay = NULL;
    p->translate = 0;

    if (client == AIROUTER_DIALECT_OPENAI
        && p->try.upstream == AIROUTER_DIALECT_OPENAI)
    {
        return NGX_OK;
    }

    status = u->headers_in.status_n;
    ct = u->headers_in.content_type ? &u->headers_in.content_type->value
                                    : NULL;

    stream = p->ctx->stream && status >= 200 && status < 300
             && ct && ct->len >= 17
             && ngx_strncasecmp(ct->data, (u_char *) "text/event-stream",
                                17) == 0;

    if (client == p->try.upstream && !stream) {
        /* a whole answer in the client's dialect: its usage is read when
         * it is judged */
        return NGX_OK;
    }

    if (client != p->try.upstream
        && p->encoding != NGX_HTTP_AIROUTER_ENC_IDENTITY)
    {
        /* the translator reads plain bytes; the upstream ignored our
         * Accept-Encoding: identity */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "airouter: the upstream's answer is compressed: it "
                      "cannot be translated from %s to %s",
                      airouter_dialect_name(p->try.upstream),
                      airouter_dialect_name(client));
        return NGX_DECLINED;
    }

    p->relay = ngx_http_airouter_dialect_relay(r, p->try.upstream, client,
                                               &d->dctx, stream);
    if (p->relay == NULL) {
        return NGX_ERROR;
    }

    p->translate = (client != p->try.upstream);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "airouter: answer from a %s channel %s %s",
                   airouter_dialect_name(p->try.upstream),
                   p->translate ? "written as" : "passed to a",
                   airouter_dialect_name(client));

    return NGX_OK;
}
