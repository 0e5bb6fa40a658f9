/*
 * The client dialects on the nginx side: the glue between a request and
 * the pure translators of airouter_dialect.h.
 *
 *   API handler  the client's key as each dialect's SDK sends it; the
 *                client's body translated to chat before routing (so
 *                routing, budgets and the catalogue only ever see chat);
 *                error bodies rewritten in the client's dialect
 *   proxy        per attempt, the body and header lines for the
 *                candidate's channel (chat, or Messages for a native
 *                Anthropic channel); the answer (whole, or SSE as it
 *                passes) written in the client's dialect, with the usage
 *                read from the upstream's own fields; the dialect's error
 *                event when a stream is cut
 *
 * A leaf: calls the pure translators and nginx only.
 */

#ifndef NGX_HTTP_AIROUTER_DIALECT_H
#define NGX_HTTP_AIROUTER_DIALECT_H

#include "ngx_http_airouter_module.h"
#include "airouter_dialect.h"


/* A request's dialect, kept in the request context (ctx->dialect). */
typedef struct {
    airouter_dialect_e               client;
    airouter_droute_t                route;
    airouter_dctx_t                  dctx;
    ngx_str_t                        raw;       /* the client's body */
    ngx_str_t                        messages;  /* chat as Messages, made
                                                   for the first native
                                                   Anthropic attempt */
    json_t                          *chat;      /* the translated body */
    ngx_str_t                        beta;      /* a Messages client's
                                                   anthropic-beta, passed
                                                   on with its own body to
                                                   native channels */
} ngx_http_airouter_dialect_t;


/* One answer on its way to the client. */
typedef struct {
    ngx_http_request_t              *request;
    airouter_dialect_e               from;
    airouter_dialect_e               to;
    const airouter_dctx_t           *dctx;
    airouter_dstream_t              *stream;    /* NULL: a whole answer */
    airouter_dbuf_t                  in;        /* a whole answer so far */
    airouter_dbuf_t                  out;
} ngx_http_airouter_dialect_relay_t;


/*
 * The dialect route the request's URI names: NGX_OK with *d set up (in
 * r->pool), NGX_DECLINED for chat and the router's own URLs.
 */
ngx_int_t ngx_http_airouter_dialect_dump(ngx_http_request_t *r, json_t *j,
    ngx_str_t *out);
ngx_int_t ngx_http_airouter_dialect_route(ngx_http_request_t *r,
    ngx_http_airouter_dialect_t **d);

/*
 * A dialect record for a chat client (the proxy's, when a native
 * Anthropic channel is tried): NGX_OK with *d, in r->pool.
 */
ngx_int_t ngx_http_airouter_dialect_chat(ngx_http_request_t *r,
    ngx_http_airouter_dialect_t **d);

/*
 * The client's key from the headers each dialect's SDKs use when there is
 * no Authorization: x-api-key (Anthropic), x-goog-api-key or the "key"
 * query argument (Gemini).  NGX_DECLINED: none.
 */
ngx_int_t ngx_http_airouter_dialect_key(ngx_http_request_t *r,
    ngx_str_t *token);

/*
 * The client's body (parsed) to chat: *chat is a new tree the request's
 * pool cleans up, *raw its bytes.  NGX_DECLINED with err filled: a 400
 * for the client.
 */
ngx_int_t ngx_http_airouter_dialect_to_chat(ngx_http_request_t *r,
    ngx_http_airouter_dialect_t *d, json_t *body, ngx_str_t *body_raw,
    json_t **chat, ngx_str_t *raw, airouter_derr_t *err);

/*
 * An OpenAI error object ({"error":{...}}) for a request whose URI speaks
 * another dialect (airouter_dialect_of_path: a dialect route, or any
 * Gemini path), rewritten in that dialect (its reference is taken, the
 * new one returned); other requests' bodies come back as they are.
 */
json_t *ngx_http_airouter_dialect_error_json(ngx_http_request_t *r,
    ngx_uint_t status, json_t *body);

/*
 * The answer to a token count (Anthropic's count_tokens, Gemini's
 * countTokens) in the request's dialect; NULL on failure.
 */
json_t *ngx_http_airouter_dialect_count_json(ngx_http_airouter_dialect_t *d,
    uint64_t tokens);

/*
 * The body an attempt sends to a channel speaking dialect upstream: the
 * chat bytes, the client's own bytes when the channel speaks the client's
 * dialect, or the chat request as Messages (made once).  NGX_DECLINED
 * with err: the request cannot be expressed for that channel.
 */
ngx_int_t ngx_http_airouter_dialect_body(ngx_http_request_t *r,
    ngx_http_airouter_dialect_t *d, airouter_dialect_e upstream,
    json_t *chat, ngx_str_t *chat_raw, ngx_str_t *body, airouter_derr_t *err);

/*
 * A relay for an accepted answer from a channel speaking from to a client
 * speaking to; NULL on failure.  Freed with the request's pool.
 */
ngx_http_airouter_dialect_relay_t *ngx_http_airouter_dialect_relay(
    ngx_http_request_t *r, airouter_dialect_e from, airouter_dialect_e to,
    const airouter_dctx_t *dctx, ngx_uint_t stream);

/*
 * Stream bytes in; the client's bytes, if any, go in b (a buffer struct
 * the caller owns, as for any relayed span): NGX_OK with b->pos and
 * b->last set (memory the relay reuses once the client has it), NGX_DONE
 * when there is nothing to send yet.  With the same dialect on both
 * sides nothing is written: the caller relays the upstream's bytes.
 */
ngx_int_t ngx_http_airouter_dialect_feed(
    ngx_http_airouter_dialect_relay_t *rl, u_char *pos, size_t len,
    ngx_buf_t *b);

/* The stream ended (message: why, when it was cut), the same way. */
ngx_int_t ngx_http_airouter_dialect_finish(
    ngx_http_airouter_dialect_relay_t *rl, const char *message,
    ngx_buf_t *b);

/* A whole answer's bytes, gathered as they come. */
ngx_int_t ngx_http_airouter_dialect_collect(
    ngx_http_airouter_dialect_relay_t *rl, u_char *pos, size_t len);

/*
 * The gathered answer in the client's dialect, into b (pool memory): an
 * answer for a 2xx status, else an error body.  NGX_DECLINED: the bytes
 * are not an answer of the upstream's dialect (b has them unchanged).
 */
ngx_int_t ngx_http_airouter_dialect_whole(
    ngx_http_airouter_dialect_relay_t *rl, ngx_uint_t status, ngx_buf_t *b);

/* The usage a stream's upstream reported: 1, or 0 none. */
ngx_int_t ngx_http_airouter_dialect_usage(
    ngx_http_airouter_dialect_relay_t *rl, airouter_usage_t *usage);

#endif /* NGX_HTTP_AIROUTER_DIALECT_H */
