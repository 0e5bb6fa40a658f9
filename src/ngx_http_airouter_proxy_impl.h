/*
 * The proxy's inside, shared by its files and included by no one else:
 * the channel, location and request types of the proxy, and the functions
 * one proxy file calls in another.  The files, top to bottom (calls go
 * down only, docs/architecture.md):
 *
 *   ngx_http_airouter_proxy.c           start, configuration, the result
 *   ngx_http_airouter_proxy_reply.c     the client's header and body
 *                                       filters: X-Router-* headers, the
 *                                       error that replaces nginx's page
 *   ngx_http_airouter_proxy_upstream.c  nginx's upstream callbacks: create/
 *                                       reinit request, process_header
 *                                       (the judge), finalize
 *   ngx_http_airouter_proxy_peer.c      peer.init/get/free: the next
 *                                       candidate and key, what live state
 *                                       hears, the keepalive cache, TLS
 *                                       sessions
 *   ngx_http_airouter_proxy_build.c     one try's request: line, headers,
 *                                       body (model id spliced, dialect)
 *   ngx_http_airouter_proxy_filter.c    the answer's body on its way: input
 *                                       filter, relay, hold, emit, scrub,
 *                                       dialect translation
 *   ngx_http_airouter_proxy_inflate.c   a compressed answer's readable copy
 *   ngx_http_airouter_proxy_usage.c     the answer's usage, read or counted
 *   ngx_http_airouter_proxy_hedge.c     hedged requests: wraps the peer
 *                                       callbacks and process_header of a
 *                                       request that may be hedged
 */

#ifndef NGX_HTTP_AIROUTER_PROXY_IMPL_H
#define NGX_HTTP_AIROUTER_PROXY_IMPL_H

#include <zlib.h>

#include "ngx_http_airouter_proxy.h"
#include "ngx_http_airouter_live.h"
#include "ngx_http_airouter_response.h"
#include "ngx_http_airouter_endpoint.h"
#include "ngx_http_airouter_ssl.h"
#include "ngx_http_airouter_dialect.h"
#include "airouter_json_scan.h"
#include "airouter_outcome.h"
#include "airouter_sse.h"
#include "airouter_tokenizer.h"


/* The answer's Content-Encoding, as far as reading it goes. */
typedef enum {
    NGX_HTTP_AIROUTER_ENC_IDENTITY = 0,
    NGX_HTTP_AIROUTER_ENC_INFLATE,          /* gzip, x-gzip, deflate */
    NGX_HTTP_AIROUTER_ENC_UNKNOWN           /* br, zstd, ...: unreadable */
} ngx_http_airouter_encoding_e;


/*
 * A channel as the proxy reaches it: its endpoint (address, Host, TLS
 * name, key headers: ngx_http_airouter_endpoint.c, shared with discovery;
 * a channel left out has pm->none, without address) and the keys masked
 * in what it answers.  next_auth, stream_usage and session are per
 * worker: the configuration is copied into each worker at fork; next_auth
 * only turns the keys when there is no live state (the shared turn and
 * each key's state are in ngx_http_airouter_live.c); stream_usage spares
 * the channel's streams the reading of their text.
 */
typedef struct {
    ngx_http_airouter_endpoint_t    *ep;
    ngx_str_t                       *secrets;   /* the keys masked in
                                                   what it answers */
    ngx_uint_t                       nsecrets;
    ngx_uint_t                       next_auth;
    ngx_uint_t                       stream_usage;  /* its last whole
                                                       stream carried the
                                                       usage we asked for */
    ngx_str_t                        header_id;     /* X-Router-Channel's
                                                       value, made once */
    ngx_str_t                        header_provider;  /* X-Router-
                                                       Provider's; data
                                                       NULL: no header */
    ngx_str_t                        base_path;     /* the path of its
                                                       base URL ("" when
                                                       none), found once */
#if (NGX_HTTP_SSL)
    ngx_ssl_session_t               *session;
#endif
} ngx_http_airouter_channel_t;


/* amcf->proxy */
typedef struct {
    ngx_http_airouter_channel_t     *channels;  /* [config->nchannels] */
    ngx_http_airouter_endpoint_t     none;      /* of channels left out */
    airouter_outcome_table_t         outcomes;
    ngx_uint_t                       max_tries;
} ngx_http_airouter_proxy_main_t;


/* alcf->proxy: per API location; the cache is per worker */
typedef struct {
    ngx_http_upstream_srv_conf_t     uscf;
    ngx_uint_t                       max_cached;
    ngx_queue_t                      cache;
    ngx_queue_t                      free;
    ngx_uint_t                       cache_ready;
#if (NGX_HTTP_SSL)
    ngx_ssl_t                       *ssl;
#endif
} ngx_http_airouter_proxy_conf_t;


typedef struct {
    ngx_http_airouter_proxy_conf_t  *conf;
    ngx_queue_t                      queue;
    ngx_connection_t                *connection;
    ngx_http_airouter_channel_t     *channel;
    socklen_t                        socklen;
    ngx_sockaddr_t                   sockaddr;
} ngx_http_airouter_keepalive_t;


typedef struct {
    ngx_uint_t                       channel;
    ngx_str_t                        model;
    airouter_fault_e                 fault;
    ngx_uint_t                       status;    /* 0: no HTTP answer */
    ngx_uint_t                       skipped;   /* live state said no */
    ngx_int_t                        key;       /* key#n, -1: one key */
} ngx_http_airouter_attempt_t;


/*
 * A block of ours that holds answer bytes (an unfinished event, the start
 * of a key) until what follows decides them.  buf: the buffer that took
 * its bytes to the client, NULL when it is free.
 */
#define NGX_HTTP_AIROUTER_HOLD_BLOCKS  4

typedef struct {
    u_char                          *start;
    u_char                          *end;
    ngx_buf_t                       *buf;
} ngx_http_airouter_hold_block_t;


typedef enum {
    NGX_HTTP_AIROUTER_ST_STATUS = 0,
    NGX_HTTP_AIROUTER_ST_HEADERS,
    NGX_HTTP_AIROUTER_ST_BODY
} ngx_http_airouter_parse_e;


/*
 * One try: the candidate and key peer.get chose, the request built for it
 * (handed to nginx's upstream by ngx_http_airouter_proxy_use), and
 * what was learned of its answer.  One struct, so that a hedge
 * (ngx_http_airouter_proxy_hedge.c) sets a try aside and puts it back
 * with one copy.
 */
typedef struct {
    ngx_http_airouter_candidate_t   *cand;
    ngx_http_airouter_channel_t     *channel;
    ngx_uint_t                       probe;
    ngx_uint_t                       key;       /* index in ch->auth */
    ngx_msec_t                       start;
    ngx_msec_t                       ttfb;
    airouter_dialect_e               upstream;  /* the channel speaks */
    airouter_fault_e                 fault;
    ngx_str_t                        uri;
    ngx_chain_t                     *request;
    unsigned                         acquired:1;
    unsigned                         classified:1;
    unsigned                         complete:1;
} ngx_http_airouter_proxy_try_t;


/* ctx->proxy: one request's attempts */
typedef struct {
    ngx_http_request_t              *request;
    ngx_http_airouter_ctx_t         *ctx;
    ngx_http_airouter_proxy_main_t  *pm;
    ngx_http_airouter_proxy_conf_t  *pcf;
    char                            *api_path;  /* NUL-terminated */

    ngx_http_airouter_proxy_try_t    try;       /* the current one */
    ngx_uint_t                       next;      /* candidates looked at */
    ngx_uint_t                       key_retries;

    ngx_http_airouter_parse_e        state;
    ngx_http_status_t                status;
    ngx_http_chunked_t               chunked;
    off_t                            remaining; /* -1: until close */
    u_char                          *dechunked;

    airouter_verdict_t               verdict;
    time_t                           scoped;    /* the endpoint-only block
                                                   live state set, 0: none */
    long                             retry_after;
    ngx_array_t                      attempts;  /* ngx_http_airouter_attempt_t */

    airouter_sse_t                   sse;
    airouter_tail_t                 *tail;      /* a big non-stream answer */

    /*
     * A compressed answer (sent despite "Accept-Encoding: identity") goes
     * to the client as it came; a copy is inflated for reading: whole in
     * process_header, and as it passes for streams and the tail.
     */
    ngx_http_airouter_encoding_e     encoding;
    z_stream                        *zstream;
    u_char                          *zout;      /* inflated piece, passing */
    unsigned                         zraw:1;    /* deflate without zlib's
                                                   header */
    unsigned                         zreading:1;

    /*
     * The answer's bytes not relayed yet (ngx_http_airouter_proxy_emit):
     * [hold_start, hold_last) in hold, one of our blocks, up to hold_end.
     * A block goes to the client whole or in part and is reused once its
     * buffer has gone; the last block is one for a moment when all the
     * others are still on their way, never reused.
     */
    u_char                          *hold_start;
    u_char                          *hold_last;
    u_char                          *hold_end;
    ngx_http_airouter_hold_block_t  *hold;
    ngx_http_airouter_hold_block_t   blocks[NGX_HTTP_AIROUTER_HOLD_BLOCKS
                                            + 1];
    size_t                           counted;   /* the answer's tokens, by
                                                   our own count */

    ngx_str_t                        error;     /* replaces nginx's page */
    ngx_uint_t                       error_status;

    /* where the client's "model" value sits in its body: found once, for
     * every attempt; splice 0: not looked yet, 1: spliceable, -1: not */
    airouter_json_span_t             model;
    ngx_int_t                        splice;

    /*
     * The attempt's channel speaks try.upstream; a relay writes its
     * answer in the client's dialect (translate), or only reads its
     * usage.  The same span cache as above for the one non-chat body of
     * the request.
     */
    ngx_http_airouter_dialect_relay_t  *relay;
    u_char                          *native_raw;
    airouter_json_span_t             native_model;
    ngx_int_t                        native_splice;

    void                            *hedge;     /* proxy_hedge.c's, NULL:
                                                   not hedgeable */

    unsigned                         translate:1;
    unsigned                         aborted:1;
    unsigned                         retry_same:1;
    unsigned                         retry_key:1;
    unsigned                         keyed:1;   /* the fault was the key's */
    unsigned                         replace:1;
    unsigned                         replaced:1;
    unsigned                         error_sent:1;
    unsigned                         answered:1;
    unsigned                         hold_on:1;
} ngx_http_airouter_proxy_ctx_t;


/* ngx_http_airouter_proxy_upstream.c */
ngx_int_t ngx_http_airouter_proxy_create_request(ngx_http_request_t *r);
ngx_int_t ngx_http_airouter_proxy_reinit_request(ngx_http_request_t *r);
ngx_int_t ngx_http_airouter_proxy_process_header(ngx_http_request_t *r);
void ngx_http_airouter_proxy_abort_request(ngx_http_request_t *r);
void ngx_http_airouter_proxy_finalize_request(ngx_http_request_t *r,
    ngx_int_t rc);

/* ngx_http_airouter_proxy_reply.c */
ngx_int_t ngx_http_airouter_proxy_header_value(ngx_pool_t *pool,
    const char *s, ngx_str_t *out);

/* ngx_http_airouter_proxy_peer.c */
void ngx_http_airouter_proxy_parse_reset(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p);
void ngx_http_airouter_proxy_use(ngx_http_airouter_proxy_ctx_t *p);
ngx_int_t ngx_http_airouter_proxy_peer_init(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us);
void ngx_http_airouter_proxy_report(ngx_http_airouter_proxy_ctx_t *p,
    ngx_uint_t nothing_learned);
void ngx_http_airouter_proxy_publish(ngx_http_airouter_proxy_ctx_t *p);
void ngx_http_airouter_proxy_record(ngx_http_airouter_proxy_ctx_t *p,
    ngx_uint_t channel, ngx_str_t *model, airouter_fault_e fault,
    ngx_uint_t status, ngx_uint_t skipped);

/* ngx_http_airouter_proxy_hedge.c */
ngx_int_t ngx_http_airouter_proxy_hedge_peer_init(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us);

/* ngx_http_airouter_proxy_build.c */
airouter_dialect_e ngx_http_airouter_proxy_upstream(
    ngx_http_airouter_proxy_ctx_t *p, ngx_uint_t channel);
ngx_uint_t ngx_http_airouter_proxy_scope(ngx_http_airouter_proxy_ctx_t *p,
    ngx_uint_t channel);
ngx_int_t ngx_http_airouter_proxy_native(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, airouter_dialect_e upstream,
    ngx_str_t *body);
ngx_int_t ngx_http_airouter_proxy_build(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p);
void ngx_http_airouter_proxy_url_path(const char *url, ngx_str_t *path);

/* ngx_http_airouter_proxy_filter.c */
ngx_int_t ngx_http_airouter_proxy_relay_init(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p);
ngx_uint_t ngx_http_airouter_proxy_stream_done(
    ngx_http_airouter_proxy_ctx_t *p);
ngx_int_t ngx_http_airouter_proxy_filter_init(void *data);
ngx_int_t ngx_http_airouter_proxy_filter(void *data, ssize_t bytes);
ngx_int_t ngx_http_airouter_proxy_release(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_chain_t ***ll);
ngx_uint_t ngx_http_airouter_proxy_held_done(ngx_http_airouter_proxy_ctx_t *p);
void ngx_http_airouter_proxy_scrub(ngx_http_airouter_channel_t *ch, u_char *pos,
    u_char *last);

/* ngx_http_airouter_proxy_inflate.c */
ngx_http_airouter_encoding_e ngx_http_airouter_proxy_encoding(
    ngx_http_request_t *r);
ngx_int_t ngx_http_airouter_proxy_zstart(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p);
ngx_int_t ngx_http_airouter_proxy_inflate(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_str_t *body, ngx_int_t rc);
void ngx_http_airouter_proxy_inflate_read(ngx_http_airouter_proxy_ctx_t *p,
    u_char *pos, u_char *last);

/* ngx_http_airouter_proxy_usage.c */
void ngx_http_airouter_proxy_read(ngx_http_airouter_proxy_ctx_t *p, u_char *pos,
    u_char *last);
void ngx_http_airouter_proxy_usage(ngx_http_airouter_proxy_ctx_t *p,
    airouter_usage_t *usage);
void ngx_http_airouter_proxy_count(ngx_http_airouter_proxy_ctx_t *p,
    ngx_str_t *body);
void ngx_http_airouter_proxy_stream_end(ngx_http_airouter_proxy_ctx_t *p);
void ngx_http_airouter_proxy_text(void *data, const char *text, size_t len);

#endif /* NGX_HTTP_AIROUTER_PROXY_IMPL_H */
