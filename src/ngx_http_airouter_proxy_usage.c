/*
 * The answer's usage: read from the bytes that pass (SSE events, the
 * tail of a big JSON answer), or, for an answer without usage, counted
 * (the prompt as routing sized it, the answer's text with
 * airouter_tokenizer or the byte estimate).
 *
 * For a chat stream, its channel's streams are read for their text only
 * while the channel is not known to send the usage asked for.
 *
 * Called by the upstream callbacks, the answer filter and the inflater.
 */

#include "ngx_http_airouter_proxy_impl.h"


static double ngx_http_airouter_proxy_units(
    ngx_http_airouter_proxy_ctx_t *p);


/*
 * Tokens, and the cost when the candidate's prices are known: its price
 * per request, plus the endpoint's units at its price per unit when it
 * has one (images, characters spoken, seconds transcribed), else the
 * tokens at its token prices.
 */
void
ngx_http_airouter_proxy_usage(ngx_http_airouter_proxy_ctx_t *p,
    airouter_usage_t *usage)
{
    double                          read, write, units, tokens;
    ngx_int_t                       cached, written, plain;
    ngx_http_airouter_ctx_t        *ctx;
    ngx_http_airouter_candidate_t  *c;

    ctx = p->ctx;
    c = p->try.cand;

    if (usage->seconds >= 0) {
        ctx->units_seconds = usage->seconds;
    }

    tokens = -1;

    if (usage->prompt_tokens >= 0) {
        ctx->prompt_tokens = usage->prompt_tokens;
        ctx->completion_tokens = usage->completion_tokens >= 0
                                 ? usage->completion_tokens : 0;

        /* the cached parts are within prompt_tokens; a bad count is
         * clamped */
        cached = ngx_min(ngx_max(usage->cached_tokens, 0),
                         ctx->prompt_tokens);
        written = ngx_min(ngx_max(usage->cache_write_tokens, 0),
                          ctx->prompt_tokens - cached);
        plain = ctx->prompt_tokens - cached - written;

        ctx->cached_tokens = usage->cached_tokens >= 0 ? cached : -1;

        /*
         * A cached token without a cache price of its own costs a prompt
         * token: we never under-count spend.
         */
        if (c && c->price_prompt >= 0 && c->price_completion >= 0) {
            read = c->price_cache_read >= 0 ? c->price_cache_read
                                            : c->price_prompt;
            write = c->price_cache_write >= 0 ? c->price_cache_write
                                              : c->price_prompt;

            tokens = plain * c->price_prompt + cached * read
                     + written * write
                     + ctx->completion_tokens * c->price_completion;
        }

    }

    /* what the upstream says it charged (OpenRouter's usage.cost) wins */
    if (usage->cost >= 0) {
        ctx->cost = usage->cost + ctx->hedge_cost;
        return;
    }

    if (c == NULL) {
        return;
    }

    units = ngx_http_airouter_proxy_units(p);

    if (units >= 0) {
        tokens = units;         /* the endpoint's unit replaces tokens */
    }

    if (c->price_unit.request >= 0) {
        tokens = (tokens >= 0 ? tokens : 0) + c->price_unit.request;
    }

    if (tokens >= 0) {
        /* a hedge's loser (bill_loser) */
        ctx->cost = tokens + ctx->hedge_cost;
    }
}


/*
 * The endpoint's units at the candidate's price per unit, -1 when it has
 * none for them.  A transcription whose answer said no duration counts 0
 * seconds (units_seconds stays -1, which $airouter_units shows).
 */
static double
ngx_http_airouter_proxy_units(ngx_http_airouter_proxy_ctx_t *p)
{
    ngx_http_airouter_ctx_t        *ctx;
    ngx_http_airouter_candidate_t  *c;

    ctx = p->ctx;
    c = p->try.cand;

    switch (ctx->endpoint) {

    case NGX_HTTP_AIROUTER_EP_IMAGES:
        return c->price_unit.image >= 0
               ? (double) ctx->units_images * c->price_unit.image : -1;

    case NGX_HTTP_AIROUTER_EP_SPEECH:
        return c->price_unit.character >= 0
               ? (double) ctx->units_characters * c->price_unit.character
               : -1;

    case NGX_HTTP_AIROUTER_EP_TRANSCRIPTIONS:
        if (c->price_unit.second < 0) {
            return -1;
        }

        if (ctx->units_seconds < 0) {
            ngx_log_error(NGX_LOG_WARN, p->request->connection->log, 0,
                          "airouter: the transcription's answer says no "
                          "duration: its seconds are counted as 0");
            return 0;
        }

        return ctx->units_seconds * c->price_unit.second;

    default:
        return -1;
    }
}


/*
 * An answer without usage: the prompt as the API handler counted it, the
 * completion counted here from the answer's text (the whole body, or the
 * stream's deltas already fed to ngx_http_airouter_proxy_text()), with
 * airouter_tokenizer when configured, else the byte estimate.
 */
void
ngx_http_airouter_proxy_count(ngx_http_airouter_proxy_ctx_t *p,
    ngx_str_t *body)
{
    airouter_usage_t  usage;

    if (body) {
        p->counted = 0;
        (void) airouter_answer_text((char *) body->data, body->len,
                                    ngx_http_airouter_proxy_text, p);

    } else if (p->ctx->stream && p->sse.text == NULL && p->sse.data_bytes) {
        /*
         * A stream whose text was not read (its channel's last streams
         * had usage) came without: a quarter token per byte of its
         * events' data, JSON and all, so more than its text would count
         * (spend is never under-counted); its channel's next streams
         * are read again.
         */
        p->counted = (p->sse.data_bytes + 3) / 4;

        ngx_log_error(NGX_LOG_WARN, p->request->connection->log, 0,
                      "airouter: \"%s\" sent a stream without the usage "
                      "asked for: its completion is estimated from its "
                      "size",
                      p->ctx->amcf->config->channels[p->try.cand->channel].id);
    }

    airouter_usage_init(&usage);
    usage.prompt_tokens = (long) p->ctx->prompt_counted;
    usage.completion_tokens = (long) p->counted;
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;

    ngx_http_airouter_proxy_usage(p, &usage);
    p->ctx->usage_counted = 1;
}


/*
 * A chat stream's end: its usage, and what its channel taught this
 * worker: a 2xx stream that carried the usage asked for lets the
 * channel's next streams go unread (ngx_http_airouter_proxy_filter_init);
 * a whole one without has them read again.
 */
void
ngx_http_airouter_proxy_stream_end(ngx_http_airouter_proxy_ctx_t *p)
{
    ngx_uint_t  status;

    status = p->request->upstream ? p->request->upstream->headers_in.status_n
                                  : 0;

    if (p->answered && p->try.channel
        && p->try.upstream == AIROUTER_DIALECT_OPENAI
        && status >= 200 && status < 300)
    {
        if (p->sse.usage.prompt_tokens >= 0) {
            p->try.channel->stream_usage = 1;

        } else if (p->try.complete) {
            p->try.channel->stream_usage = 0;
        }
    }

    ngx_http_airouter_proxy_usage(p, &p->sse.usage);
}


void
ngx_http_airouter_proxy_text(void *data, const char *text, size_t len)
{
    ngx_http_airouter_proxy_ctx_t *p = data;

    p->counted += airouter_tokenizer_count(p->ctx->amcf->tokenizer, text,
                                           len);
}


/* What passes, as the upstream meant it: to the stream's or tail's reader. */
void
ngx_http_airouter_proxy_read(ngx_http_airouter_proxy_ctx_t *p, u_char *pos,
    u_char *last)
{
    if (p->relay && p->relay->stream) {
        /* the client's dialect, not chat: its usage is read on the way */
        (void) ngx_http_airouter_dialect_feed(p->relay, pos, last - pos,
                                              NULL);
    }

    if (p->ctx->stream) {
        airouter_sse_feed(&p->sse, (char *) pos, last - pos);

    } else if (p->tail) {
        airouter_tail_feed(p->tail, (char *) pos, last - pos);
    }
}
