/*
 * The proxy: a routed request goes to its candidates one after another
 * through nginx's upstream machinery, as a full upstream module of its own
 * (the proxy module's request is built once; ours is rebuilt for every
 * try, with the candidate's host, key and model id).
 *
 *   peer.init    tries = candidates, capped by routing.max_retry_attempts
 *   peer.get     before every try: the next candidate live state lets
 *                through, and for a channel with several keys its next
 *                live key; address, TLS name, request (line, Host, key,
 *                body with the channel's model id); an idle connection
 *                from the per-worker keepalive cache when one fits
 *   process_header   status and headers, then waits (within the header
 *                buffer) for the error body, the whole non-stream answer
 *                or the first SSE event, and asks the outcome table: pass
 *                it on, or NGX_HTTP_UPSTREAM_INVALID_HEADER -> next try
 *   peer.free    reports the attempt to live state; keeps the connection;
 *                a fault that stayed with the key (live state says so)
 *                gives the same candidate one more try with another key
 *   input filter unbuffered pass-through (chunked, length or close),
 *                usage read on the way (SSE events, or the end of a JSON
 *                answer too big to judge whole); an answer without usage
 *                is counted (the prompt as routing sized it, the answer's
 *                text with airouter_tokenizer or the byte estimate); the
 *                channel's keys masked in what passes, a stream relayed
 *                event by event (an unfinished event waits for its end);
 *                an answer compressed despite "Accept-Encoding: identity"
 *                relayed as it came and read from an inflated copy
 *   finalize     no candidate left: an OpenAI-style error naming every
 *                attempt replaces nginx's error page (header/body filter);
 *                a stream cut after the first byte gets an SSE error event
 *
 * Called by the API handler (ngx_http_airouter_proxy_start) and by nginx's
 * upstream code; calls the outcome table, live state and the SSE scanner.
 */

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


#define NGX_HTTP_AIROUTER_SSE_LINE        (16 * 1024)

/* an unfinished event longer than this goes to the client as it comes */
#define NGX_HTTP_AIROUTER_HOLD_MAX        (64 * 1024)

/* shorter keys are placeholders ("EMPTY", "ollama") masking would hurt */
#define NGX_HTTP_AIROUTER_SCRUB_MIN       8

#define NGX_HTTP_AIROUTER_KEEPALIVE_IDLE  60000

/* a compressed answer is inflated (to read it) up to this much whole */
#define NGX_HTTP_AIROUTER_INFLATE_MAX     (1024 * 1024)
#define NGX_HTTP_AIROUTER_INFLATE_STEP    (8 * 1024)


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
 * in what it answers.  next_auth and session are per worker: the
 * configuration is copied into each worker at fork; next_auth only turns
 * the keys when there is no live state (the shared turn and each key's
 * state are in ngx_http_airouter_live.c).
 */
typedef struct {
    ngx_http_airouter_endpoint_t    *ep;
    ngx_str_t                       *secrets;   /* the keys masked in
                                                   what it answers */
    ngx_uint_t                       nsecrets;
    ngx_uint_t                       next_auth;
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


typedef enum {
    NGX_HTTP_AIROUTER_ST_STATUS = 0,
    NGX_HTTP_AIROUTER_ST_HEADERS,
    NGX_HTTP_AIROUTER_ST_BODY
} ngx_http_airouter_parse_e;


/* ctx->proxy: one request's attempts */
typedef struct {
    ngx_http_request_t              *request;
    ngx_http_airouter_ctx_t         *ctx;
    ngx_http_airouter_proxy_main_t  *pm;
    ngx_http_airouter_proxy_conf_t  *pcf;
    char                            *api_path;  /* NUL-terminated */

    ngx_http_airouter_candidate_t   *cand;      /* the current attempt's */
    ngx_http_airouter_channel_t     *channel;
    ngx_uint_t                       next;      /* candidates looked at */
    ngx_uint_t                       probe;
    ngx_uint_t                       key;       /* index in ch->auth */
    ngx_uint_t                       key_retries;
    ngx_msec_t                       start;
    ngx_msec_t                       ttfb;

    ngx_http_airouter_parse_e        state;
    ngx_http_status_t                status;
    ngx_http_chunked_t               chunked;
    off_t                            remaining; /* -1: until close */
    u_char                          *dechunked;

    airouter_fault_e                 fault;
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
     * [hold_start, hold_last) in a block of ours up to hold_end.  sent is
     * the buffer that took the last block to the client; the block is
     * reused once it has gone.
     */
    u_char                          *hold_start;
    u_char                          *hold_last;
    u_char                          *hold_end;
    ngx_buf_t                       *sent;
    u_char                          *sent_start;
    u_char                          *sent_end;
    ngx_buf_t                        consumed;  /* sent: a block whose
                                                   bytes were translated */
    size_t                           counted;   /* the answer's tokens, by
                                                   our own count */

    ngx_str_t                        error;     /* replaces nginx's page */
    ngx_uint_t                       error_status;

    /* where the client's "model" value sits in its body: found once, for
     * every attempt; splice 0: not looked yet, 1: spliceable, -1: not */
    airouter_json_span_t             model;
    ngx_int_t                        splice;

    /*
     * The attempt's channel speaks upstream; a relay writes its answer in
     * the client's dialect (translate), or only reads its usage.  The
     * same span cache as above for the one non-chat body of the request.
     */
    airouter_dialect_e               upstream;
    ngx_http_airouter_dialect_relay_t  *relay;
    u_char                          *native_raw;
    airouter_json_span_t             native_model;
    ngx_int_t                        native_splice;

    unsigned                         translate:1;
    unsigned                         acquired:1;
    unsigned                         classified:1;
    unsigned                         aborted:1;
    unsigned                         retry_same:1;
    unsigned                         retry_key:1;
    unsigned                         keyed:1;   /* the fault was the key's */
    unsigned                         complete:1;
    unsigned                         replace:1;
    unsigned                         replaced:1;
    unsigned                         error_sent:1;
    unsigned                         answered:1;
    unsigned                         hold_on:1;
} ngx_http_airouter_proxy_ctx_t;


static ngx_int_t ngx_http_airouter_proxy_create_request(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_airouter_proxy_reinit_request(
    ngx_http_request_t *r);
static void ngx_http_airouter_proxy_parse_reset(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p);
static ngx_int_t ngx_http_airouter_proxy_process_header(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_airouter_proxy_headers(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p);
static ngx_int_t ngx_http_airouter_proxy_judge(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p);
static ngx_int_t ngx_http_airouter_proxy_preread(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_str_t *body);
static ngx_int_t ngx_http_airouter_proxy_first_event(u_char *pos,
    u_char *last, ngx_str_t *data);
static ngx_http_airouter_encoding_e ngx_http_airouter_proxy_encoding(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_airouter_proxy_zstart(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p);
static ngx_int_t ngx_http_airouter_proxy_inflate(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_str_t *body, ngx_int_t rc);
static void ngx_http_airouter_proxy_inflate_read(
    ngx_http_airouter_proxy_ctx_t *p, u_char *pos, u_char *last);
static void ngx_http_airouter_proxy_read(ngx_http_airouter_proxy_ctx_t *p,
    u_char *pos, u_char *last);
static void *ngx_http_airouter_proxy_zalloc(void *opaque, u_int items,
    u_int size);
static void ngx_http_airouter_proxy_zfree(void *opaque, void *address);
static long ngx_http_airouter_proxy_retry_after(ngx_http_request_t *r);
static void ngx_http_airouter_proxy_usage(ngx_http_airouter_proxy_ctx_t *p,
    airouter_usage_t *usage);
static void ngx_http_airouter_proxy_answer(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_uint_t status, ngx_str_t *body);
static ngx_buf_t *ngx_http_airouter_proxy_splice(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p);
static ngx_buf_t *ngx_http_airouter_proxy_dump(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p);
static ngx_int_t ngx_http_airouter_proxy_find_model(
    ngx_http_airouter_proxy_ctx_t *p);
static airouter_dialect_e ngx_http_airouter_proxy_upstream(
    ngx_http_airouter_proxy_ctx_t *p, ngx_uint_t channel);
static ngx_uint_t ngx_http_airouter_proxy_scope(
    ngx_http_airouter_proxy_ctx_t *p, ngx_uint_t channel);
static ngx_int_t ngx_http_airouter_proxy_native(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, airouter_dialect_e upstream,
    ngx_str_t *body);
static ngx_buf_t *ngx_http_airouter_proxy_native_body(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p);
static ngx_int_t ngx_http_airouter_proxy_relay_init(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p);
static ngx_int_t ngx_http_airouter_proxy_translate(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_chain_t ***ll, u_char *pos,
    u_char *last, ngx_uint_t block);
static ngx_int_t ngx_http_airouter_proxy_translated_end(
    ngx_http_request_t *r, ngx_http_airouter_proxy_ctx_t *p,
    ngx_chain_t ***ll);
static ngx_uint_t ngx_http_airouter_proxy_stream_done(
    ngx_http_airouter_proxy_ctx_t *p);
static void ngx_http_airouter_proxy_dialect_error(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_int_t rc);
static void ngx_http_airouter_proxy_count(ngx_http_airouter_proxy_ctx_t *p,
    ngx_str_t *body);
static void ngx_http_airouter_proxy_text(void *data, const char *text,
    size_t len);
static void ngx_http_airouter_proxy_abort_request(ngx_http_request_t *r);
static void ngx_http_airouter_proxy_finalize_request(ngx_http_request_t *r,
    ngx_int_t rc);
static void ngx_http_airouter_proxy_stream_error(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_int_t rc);
static ngx_int_t ngx_http_airouter_proxy_fail(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_int_t rc);
static ngx_int_t ngx_http_airouter_proxy_filter_init(void *data);
static ngx_int_t ngx_http_airouter_proxy_filter(void *data, ssize_t bytes);
static ngx_int_t ngx_http_airouter_proxy_emit(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_chain_t ***ll, u_char *pos,
    u_char *last);
static ngx_int_t ngx_http_airouter_proxy_relay(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_chain_t ***ll, u_char *pos,
    u_char *last, ngx_uint_t block);
static size_t ngx_http_airouter_proxy_cut(ngx_http_airouter_proxy_ctx_t *p,
    u_char *start, u_char *last, size_t from);
static ngx_int_t ngx_http_airouter_proxy_hold(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, u_char *pos, u_char *last);
static ngx_int_t ngx_http_airouter_proxy_release(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_chain_t ***ll);
static ngx_uint_t ngx_http_airouter_proxy_held_done(
    ngx_http_airouter_proxy_ctx_t *p);
static void ngx_http_airouter_proxy_scrub(ngx_http_airouter_channel_t *ch,
    u_char *pos, u_char *last);
static size_t ngx_http_airouter_proxy_key_start(
    ngx_http_airouter_channel_t *ch, u_char *pos, u_char *last);

static ngx_int_t ngx_http_airouter_proxy_peer_init(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us);
static ngx_int_t ngx_http_airouter_proxy_peer_get(ngx_peer_connection_t *pc,
    void *data);
static void ngx_http_airouter_proxy_peer_free(ngx_peer_connection_t *pc,
    void *data, ngx_uint_t state);
static void ngx_http_airouter_proxy_report(ngx_http_airouter_proxy_ctx_t *p,
    ngx_uint_t nothing_learned);
static void ngx_http_airouter_proxy_record(ngx_http_airouter_proxy_ctx_t *p,
    ngx_uint_t channel, ngx_str_t *model, airouter_fault_e fault,
    ngx_uint_t status, ngx_uint_t skipped);
static ngx_int_t ngx_http_airouter_proxy_build(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p);
static const u_char *ngx_http_airouter_proxy_url_path(const u_char *url);

static ngx_int_t ngx_http_airouter_keepalive_get(ngx_peer_connection_t *pc,
    ngx_http_airouter_proxy_ctx_t *p);
static void ngx_http_airouter_keepalive_save(ngx_peer_connection_t *pc,
    ngx_http_airouter_proxy_ctx_t *p, ngx_uint_t state);
static void ngx_http_airouter_keepalive_dummy_handler(ngx_event_t *ev);
static void ngx_http_airouter_keepalive_close_handler(ngx_event_t *ev);
static void ngx_http_airouter_keepalive_close(ngx_connection_t *c);

#if (NGX_HTTP_SSL)
static ngx_int_t ngx_http_airouter_proxy_set_session(
    ngx_peer_connection_t *pc, void *data);
static void ngx_http_airouter_proxy_save_session(ngx_peer_connection_t *pc,
    void *data);
static ngx_int_t ngx_http_airouter_proxy_set_ssl(ngx_conf_t *cf,
    ngx_http_airouter_loc_conf_t *conf, ngx_http_airouter_proxy_conf_t *pcf,
    ngx_http_airouter_main_conf_t *amcf);
#endif

static ngx_int_t ngx_http_airouter_proxy_header_filter(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_airouter_proxy_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_airouter_proxy_router_headers(
    ngx_http_request_t *r, ngx_http_airouter_proxy_ctx_t *p);
static ngx_int_t ngx_http_airouter_proxy_add_header(ngx_http_request_t *r,
    const char *name, u_char *value, size_t len);
static ngx_int_t ngx_http_airouter_proxy_fallbacks(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_str_t *out);
static size_t ngx_http_airouter_proxy_ascii(u_char *dst, const u_char *src,
    size_t len);

static ngx_int_t ngx_http_airouter_proxy_channels(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf);
static ngx_uint_t ngx_http_airouter_proxy_reachable(
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t channel);
static ngx_int_t ngx_http_airouter_proxy_channel(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t i,
    ngx_http_airouter_channel_t *pc);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


/* The upstream's headers that are not the client's business. */
static ngx_str_t  ngx_http_airouter_hide_headers[] = {
    ngx_string("Date"),
    ngx_string("Server"),
    ngx_string("X-Pad"),
    ngx_string("X-Accel-Expires"),
    ngx_string("X-Accel-Redirect"),
    ngx_string("X-Accel-Limit-Rate"),
    ngx_string("X-Accel-Buffering"),
    ngx_string("X-Accel-Charset"),
    ngx_string("Set-Cookie"),
    ngx_string("Set-Cookie2"),
    ngx_string("Alt-Svc"),
    ngx_string("Keep-Alive"),
    ngx_string("Proxy-Connection"),
    ngx_string("Upgrade"),
    ngx_string("Strict-Transport-Security"),
    ngx_null_string
};


ngx_int_t
ngx_http_airouter_proxy_start(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx)
{
    ngx_http_upstream_t             *u;
    ngx_http_airouter_proxy_ctx_t   *p;
    ngx_http_airouter_loc_conf_t    *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_airouter_module);

    if (alcf->proxy == NULL || ctx->amcf->proxy == NULL
        || ctx->candidates.nelts == 0)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "airouter: proxy started without candidates");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_upstream_create(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_pcalloc(r->pool, sizeof(ngx_http_airouter_proxy_ctx_t));
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_array_init(&p->attempts, r->pool, 4,
                       sizeof(ngx_http_airouter_attempt_t))
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p->api_path = ngx_pnalloc(r->pool, ctx->api_path.len + 1);
    if (p->api_path == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    (void) ngx_cpystrn((u_char *) p->api_path, ctx->api_path.data,
                       ctx->api_path.len + 1);

    /* ctx->requested points into the body, whose "model" each try replaces */
    ctx->requested.data = ngx_pstrdup(r->pool, &ctx->requested);
    if (ctx->requested.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p->request = r;
    p->ctx = ctx;
    p->pm = ctx->amcf->proxy;
    p->pcf = alcf->proxy;
    p->fault = AIROUTER_FAULT_NONE;
    ctx->proxy = p;

    u = r->upstream;

    ngx_str_set(&u->schema, "airouter://");
    u->output.tag = (ngx_buf_tag_t) &ngx_http_airouter_module;
    u->conf = &alcf->upstream;

    u->create_request = ngx_http_airouter_proxy_create_request;
    u->reinit_request = ngx_http_airouter_proxy_reinit_request;
    u->process_header = ngx_http_airouter_proxy_process_header;
    u->abort_request = ngx_http_airouter_proxy_abort_request;
    u->finalize_request = ngx_http_airouter_proxy_finalize_request;

    /* one mode for every answer: small ones are read whole as headers */
    u->buffering = 0;
    u->input_filter_init = ngx_http_airouter_proxy_filter_init;
    u->input_filter = ngx_http_airouter_proxy_filter;
    u->input_filter_ctx = r;

    r->main->count++;

    ngx_http_upstream_init(r);

    return NGX_DONE;
}


/* The request is built by peer.get, once per try. */
static ngx_int_t
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
static ngx_int_t
ngx_http_airouter_proxy_reinit_request(ngx_http_request_t *r)
{
    ngx_http_airouter_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_airouter_module);

    ngx_http_airouter_proxy_parse_reset(r, ctx->proxy);

    return NGX_OK;
}


/* The answer's parse state, before each try: peer.get and reinit. */
static void
ngx_http_airouter_proxy_parse_reset(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p)
{
    r->state = 0;
    p->state = NGX_HTTP_AIROUTER_ST_STATUS;
    ngx_memzero(&p->status, sizeof(ngx_http_status_t));
    ngx_memzero(&p->chunked, sizeof(ngx_http_chunked_t));

    /* each candidate's answer says its own encoding */
    p->encoding = NGX_HTTP_AIROUTER_ENC_IDENTITY;
    p->zraw = 0;
    p->zreading = 0;
}


static ngx_int_t
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
            p->fault = airouter_outcome_fault(AIROUTER_END_INVALID, 0,
                                              NULL, 0);
            p->classified = 1;
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

        p->ttfb = ngx_current_msec - p->start;
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
            ngx_http_airouter_proxy_scrub(p->channel, h->value.data,
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

        p->fault = airouter_outcome_fault(AIROUTER_END_INVALID, 0, NULL, 0);
        p->classified = 1;

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
            p->fault = AIROUTER_FAULT_NONE;
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

        p->fault = (rc == NGX_OK)
                   ? airouter_outcome_fault(AIROUTER_END_HTTP, status,
                                            (char *) body.data, body.len)
                   : AIROUTER_FAULT_NONE;

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
            p->fault = airouter_outcome_fault(AIROUTER_END_HTTP, status,
                                              NULL, 0);

            if (p->fault == AIROUTER_FAULT_NONE && !ctx->stream) {
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
                p->fault = AIROUTER_FAULT_SERVER;
                goto judged;
            }
        }

        /* one parse for the fault and the usage */
        root = body.len ? json_loadb((char *) body.data, body.len, 0, NULL)
                        : NULL;

        p->fault = airouter_outcome_fault_parsed(AIROUTER_END_HTTP, status,
                                                 (char *) body.data, body.len,
                                                 root);

        if (p->fault == AIROUTER_FAULT_NONE && rc == NGX_OK && !sse) {
            airouter_usage_init(&usage);

            if (root && airouter_usage_from_root(root, &usage)) {
                ngx_http_airouter_proxy_usage(p, &usage);

            } else {
                ngx_http_airouter_proxy_count(p, &body);
            }

        } else if (p->fault == AIROUTER_FAULT_NONE && !ctx->stream) {
            /* too big to judge whole: its usage comes from its end */
            p->tail = ngx_pcalloc(r->pool, sizeof(airouter_tail_t));
            if (p->tail == NULL) {
                if (root) {
                    json_decref(root);
                }
                return NGX_ERROR;
            }
        }

        if (root) {
            json_decref(root);
        }
    }

judged:

    p->classified = 1;
    p->retry_after = ngx_http_airouter_proxy_retry_after(r);
    p->verdict = airouter_outcome_verdict(&p->pm->outcomes, p->fault,
                                          p->retry_after);
    ctx->upstream_status = status;

    ngx_log_debug6(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "airouter: answer %ui from \"%s\"%s: %s, %s (%s)",
                   status, ctx->amcf->config->channels[p->cand->channel].id,
                   p->encoding == NGX_HTTP_AIROUTER_ENC_IDENTITY
                   ? "" : " (compressed)",
                   airouter_fault_name(p->fault),
                   (p->fault == AIROUTER_FAULT_NONE || !p->verdict.retry)
                   ? "passed on" : "next candidate",
                   airouter_scope_name(p->verdict.scope));

    if (p->fault == AIROUTER_FAULT_NONE || !p->verdict.retry) {
        /* before the client's header goes: a translation changes it */
        rc = ngx_http_airouter_proxy_relay_init(r, p);

        if (rc != NGX_DECLINED) {
            p->answered = 1;
            return rc;
        }

        /* an answer that cannot be translated: as a broken one */
        p->fault = AIROUTER_FAULT_SERVER;
        p->verdict = airouter_outcome_verdict(&p->pm->outcomes, p->fault,
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

    p->fault = airouter_outcome_fault(AIROUTER_END_HTTP, status,
                                      (char *) body->data, body->len);

    if (p->fault != AIROUTER_FAULT_NONE) {
        return;
    }

    airouter_usage_init(&usage);

    if (p->upstream != AIROUTER_DIALECT_OPENAI) {
        /* a Messages (or Responses) answer: its own usage fields */
        if (airouter_dialect_usage(p->upstream, (char *) body->data,
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
            p->fault = AIROUTER_FAULT_SERVER;
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
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->upstream->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash && h[i].key.len == sizeof("Retry-After") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Retry-After",
                               sizeof("Retry-After") - 1) == 0)
        {
            return airouter_outcome_retry_after((char *) h[i].value.data,
                                                h[i].value.len);
        }
    }

    return -1;
}


/* Tokens, and the cost when the candidate's prices are known. */
static void
ngx_http_airouter_proxy_usage(ngx_http_airouter_proxy_ctx_t *p,
    airouter_usage_t *usage)
{
    double                          read, write;
    ngx_int_t                       cached, written, plain;
    ngx_http_airouter_ctx_t        *ctx;
    ngx_http_airouter_candidate_t  *c;

    ctx = p->ctx;
    c = p->cand;

    if (usage->prompt_tokens < 0) {
        return;
    }

    ctx->prompt_tokens = usage->prompt_tokens;
    ctx->completion_tokens = usage->completion_tokens >= 0
                             ? usage->completion_tokens : 0;

    /* the cached parts are within prompt_tokens; a bad count is clamped */
    cached = ngx_min(ngx_max(usage->cached_tokens, 0), ctx->prompt_tokens);
    written = ngx_min(ngx_max(usage->cache_write_tokens, 0),
                      ctx->prompt_tokens - cached);
    plain = ctx->prompt_tokens - cached - written;

    ctx->cached_tokens = usage->cached_tokens >= 0 ? cached : -1;

    /*
     * What the upstream says it charged (OpenRouter's usage.cost) beats
     * our prices.  A cached token without a cache price of its own costs
     * a prompt token: we never under-count spend.
     */
    if (usage->cost >= 0) {
        ctx->cost = usage->cost;

    } else if (c && c->price_prompt >= 0 && c->price_completion >= 0) {
        read = c->price_cache_read >= 0 ? c->price_cache_read
                                        : c->price_prompt;
        write = c->price_cache_write >= 0 ? c->price_cache_write
                                          : c->price_prompt;

        ctx->cost = plain * c->price_prompt + cached * read + written * write
                    + ctx->completion_tokens * c->price_completion;
    }
}


/*
 * An answer without usage: the prompt as the API handler counted it, the
 * completion counted here from the answer's text (the whole body, or the
 * stream's deltas already fed to ngx_http_airouter_proxy_text()), with
 * airouter_tokenizer when configured, else the byte estimate.
 */
static void
ngx_http_airouter_proxy_count(ngx_http_airouter_proxy_ctx_t *p,
    ngx_str_t *body)
{
    airouter_usage_t  usage;

    if (body) {
        p->counted = 0;
        (void) airouter_answer_text((char *) body->data, body->len,
                                    ngx_http_airouter_proxy_text, p);
    }

    airouter_usage_init(&usage);
    usage.prompt_tokens = (long) p->ctx->prompt_counted;
    usage.completion_tokens = (long) p->counted;
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;

    ngx_http_airouter_proxy_usage(p, &usage);
    p->ctx->usage_counted = 1;
}


static void
ngx_http_airouter_proxy_text(void *data, const char *text, size_t len)
{
    ngx_http_airouter_proxy_ctx_t *p = data;

    p->counted += airouter_tokenizer_count(p->ctx->amcf->tokenizer, text,
                                           len);
}


static void
ngx_http_airouter_proxy_abort_request(ngx_http_request_t *r)
{
    return;
}


static void
ngx_http_airouter_proxy_finalize_request(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_chain_t                    *out, **ll;
    airouter_usage_t                usage;
    ngx_http_upstream_t            *u;
    ngx_http_airouter_ctx_t        *ctx;
    ngx_http_airouter_proxy_ctx_t  *p;

    ctx = ngx_http_get_module_ctx(r, ngx_http_airouter_module);
    p = ctx->proxy;
    u = r->upstream;

    if (p->acquired && p->retry_same) {
        /* a stale idle connection failed and nginx gave up the retry */
        p->retry_same = 0;
        ngx_http_airouter_proxy_report(p, 1);
    }

    if (rc == NGX_HTTP_CLIENT_CLOSED_REQUEST || r->connection->error) {
        /* whatever the upstream was doing, it was not done */
        if (p->cand && (!p->classified || p->fault == AIROUTER_FAULT_NONE)) {
            p->aborted = 1;
            p->classified = 1;
        }

        return;
    }

    if (!u->header_sent) {
        if (p->cand && !p->classified) {
            /* nginx gave up on this attempt (its deadline, an error) */
            p->fault = rc == NGX_HTTP_GATEWAY_TIME_OUT ? AIROUTER_FAULT_TIMEOUT
                                                     : AIROUTER_FAULT_SERVER;
            p->classified = 1;
        }

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE || rc == NGX_ERROR) {
            if (ngx_http_airouter_proxy_fail(r, p, rc) == NGX_OK) {
                p->replace = 1;
            }
        }

        return;
    }

    /* the answer was committed: no other candidate can step in */

    if (rc == 0 && !p->complete && p->remaining == -1
        && !u->headers_in.chunked)
    {
        /* ended by close: a stream must have said [DONE] */
        p->complete = !ctx->stream || ngx_http_airouter_proxy_stream_done(p)
                      || (p->hold_last != p->hold_start
                          && ngx_http_airouter_proxy_held_done(p));

        out = NULL;
        ll = &out;

        if (p->complete
            && ngx_http_airouter_proxy_release(r, p, &ll) == NGX_OK
            && out)
        {
            (void) ngx_http_output_filter(r, out);
        }
    }

    /* what is still held is an event the upstream never finished: dropped */

    if (p->cand && p->classified && p->fault == AIROUTER_FAULT_NONE) {

        if (rc == 0 && p->complete && p->tail
            && !airouter_tail_closed(p->tail))
        {
            /* it began as JSON, and ended as something else */
            p->fault = AIROUTER_FAULT_SERVER;
            p->verdict = airouter_outcome_verdict(&p->pm->outcomes, p->fault,
                                                  -1);

            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "airouter: \"%s\" sent an answer that is not JSON",
                          ctx->amcf->config->channels[p->cand->channel].id);

        } else if (rc != 0 || !p->complete) {
            p->fault = (rc == NGX_HTTP_GATEWAY_TIME_OUT)
                       ? AIROUTER_FAULT_TIMEOUT : AIROUTER_FAULT_SERVER;
            p->verdict = airouter_outcome_verdict(&p->pm->outcomes, p->fault,
                                                  -1);

            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "airouter: \"%s\" ended the answer early",
                          ctx->amcf->config->channels[p->cand->channel].id);

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
            && p->upstream != AIROUTER_DIALECT_OPENAI)
        {
            /* a channel of another dialect: its own usage fields */
            airouter_usage_init(&usage);
            (void) ngx_http_airouter_dialect_usage(p->relay, &usage);
            ngx_http_airouter_proxy_usage(p, &usage);

        } else {
            ngx_http_airouter_proxy_usage(p, &p->sse.usage);
        }

        if (ctx->prompt_tokens < 0 && p->answered && p->cand
            && u->headers_in.status_n >= 200 && u->headers_in.status_n < 300)
        {
            ngx_http_airouter_proxy_count(p, NULL);
        }

    } else if (p->tail && p->complete && p->fault == AIROUTER_FAULT_NONE
               && ctx->prompt_tokens < 0)
    {
        airouter_usage_init(&usage);

        if (airouter_usage_from_tail(p->tail, &usage)) {
            ngx_http_airouter_proxy_usage(p, &usage);
        }
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
              p->ctx->amcf->config->channels[p->cand->channel].id,
              airouter_fault_name(p->fault));
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
                     p->ctx->amcf->config->channels[p->cand->channel].id,
                     airouter_fault_name(p->fault));
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


static ngx_int_t
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
        p->sse.text = ngx_http_airouter_proxy_text;
        p->sse.text_data = p;
        p->counted = 0;
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
                 && (ctx->stream || p->channel->nsecrets);

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
        p->complete = 1;
        u->keepalive = !u->headers_in.connection_close;

    } else if (u->headers_in.chunked) {
        ngx_memzero(&p->chunked, sizeof(ngx_http_chunked_t));

    } else if (u->headers_in.content_length_n > 0) {
        p->remaining = u->headers_in.content_length_n;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_airouter_proxy_filter(void *data, ssize_t bytes)
{
    ngx_http_request_t *r = data;

    u_char                         *last;
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

        if (p->complete) {
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
            p->complete = 1;
            u->length = 0;
            u->keepalive = !u->headers_in.connection_close
                           && last == b->last;

            return ngx_http_airouter_proxy_release(r, p, &ll);
        }

        return NGX_OK;
    }

    b->pos = b->last;
    b->last += bytes;

    for ( ;; ) {

        rc = ngx_http_parse_chunked(r, b, &p->chunked);

        if (rc == NGX_OK) {
            last = b->pos + ngx_min(p->chunked.size, b->last - b->pos);

            if (ngx_http_airouter_proxy_emit(r, p, &ll, b->pos, last)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            p->chunked.size -= last - b->pos;
            b->pos = last;
            continue;
        }

        if (rc == NGX_DONE) {
            p->complete = 1;
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
 */
static ngx_int_t
ngx_http_airouter_proxy_emit(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_chain_t ***ll, u_char *pos,
    u_char *last)
{
    size_t   cut, held;
    u_char  *start;

    if (pos == last) {
        return NGX_OK;
    }

    if (!p->hold_on) {
        return ngx_http_airouter_proxy_relay(r, p, ll, pos, last, 0);
    }

    if (p->hold_last == p->hold_start) {
        /* the common case: nothing held, the span is relayed in place */
        ngx_http_airouter_proxy_scrub(p->channel, pos, last);

        cut = ngx_http_airouter_proxy_cut(p, pos, last, 0);

        if (ngx_http_airouter_proxy_relay(r, p, ll, pos, pos + cut, 0)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        return ngx_http_airouter_proxy_hold(r, p, pos + cut, last);
    }

    held = p->hold_last - p->hold_start;

    if (ngx_http_airouter_proxy_hold(r, p, pos, last) != NGX_OK) {
        return NGX_ERROR;
    }

    start = p->hold_start;

    ngx_http_airouter_proxy_scrub(p->channel, start, p->hold_last);

    cut = ngx_http_airouter_proxy_cut(p, start, p->hold_last, held);

    if (cut == 0) {
        return NGX_OK;
    }

    /* the block goes to the client; what stays moves to another one */
    pos = start + cut;
    last = p->hold_last;
    p->hold_start = NULL;
    p->hold_last = NULL;
    p->hold_end = NULL;

    if (ngx_http_airouter_proxy_relay(r, p, ll, start, pos, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_airouter_proxy_hold(r, p, pos, last);
}


/*
 * Bytes to the client, flushed at once; streams feed the scanner.  block:
 * they are a hold block, to be reused when they have gone.
 */
static ngx_int_t
ngx_http_airouter_proxy_relay(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_chain_t ***ll, u_char *pos,
    u_char *last, ngx_uint_t block)
{
    ngx_chain_t          *cl;
    ngx_http_upstream_t  *u;

    if (pos == last) {
        return NGX_OK;
    }

    u = r->upstream;

    if (p->translate) {
        return ngx_http_airouter_proxy_translate(r, p, ll, pos, last, block);
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

    if (block) {
        p->sent = cl->buf;
        p->sent_start = pos;
        p->sent_end = last;
    }

    if (p->encoding == NGX_HTTP_AIROUTER_ENC_IDENTITY) {
        ngx_http_airouter_proxy_read(p, pos, last);

    } else if (p->zreading) {
        ngx_http_airouter_proxy_inflate_read(p, pos, last);
    }

    return NGX_OK;
}


/* What passes, as the upstream meant it: to the stream's or tail's reader. */
static void
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
    u_char *last, ngx_uint_t block)
{
    ngx_int_t             rc;
    ngx_chain_t          *cl;
    ngx_http_upstream_t  *u;

    u = r->upstream;

    if (block) {
        p->sent = &p->consumed;
        p->sent_start = pos;
        p->sent_end = last;
    }

    if (p->relay->stream == NULL) {
        return ngx_http_airouter_dialect_collect(p->relay, pos, last - pos);
    }

    if (p->upstream == AIROUTER_DIALECT_OPENAI) {
        /* usage and the answer's text, as for a chat client */
        airouter_sse_feed(&p->sse, (char *) pos, last - pos);
    }

    cl = ngx_chain_get_free_buf(r->pool, &u->free_bufs);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_airouter_dialect_feed(p->relay, pos, last - pos, cl->buf);

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
        return len - ngx_http_airouter_proxy_key_start(p->channel, start,
                                                       last);
    }

    cut = airouter_sse_last_boundary((char *) start, len, from);

    if (len - cut > NGX_HTTP_AIROUTER_HOLD_MAX) {
        return len;
    }

    return cut;
}


/*
 * Appends [pos, last) to the hold, in a block of ours: the last one sent
 * when the client has it all, else a new one (doubled as it grows).
 */
static ngx_int_t
ngx_http_airouter_proxy_hold(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, u_char *pos, u_char *last)
{
    size_t   held, need, size;
    u_char  *block, *end;

    if (pos == last) {
        return NGX_OK;
    }

    held = p->hold_last - p->hold_start;
    need = held + (last - pos);

    if (p->hold_start == NULL || (size_t) (p->hold_end - p->hold_start) < need)
    {
        size = ngx_max(need, 2 * (size_t) (p->hold_end - p->hold_start));
        size = ngx_max(size, 1024);

        if (p->sent
            && (p->sent->pos == p->sent->last
                || p->sent->pos < p->sent_start
                || p->sent->pos >= p->sent_end)
            && (size_t) (p->sent_end - p->sent_start) >= need)
        {
            /* the last block sent has gone: its buffer is done with it */
            block = p->sent_start;
            end = p->sent_end;
            p->sent = NULL;

        } else {
            block = ngx_pnalloc(r->pool, size);
            if (block == NULL) {
                return NGX_ERROR;
            }

            end = block + size;
        }

        if (held) {
            ngx_memcpy(block, p->hold_start, held);
        }

        if (p->hold_start) {
            (void) ngx_pfree(r->pool, p->hold_start);
        }

        p->hold_start = block;
        p->hold_last = block + held;
        p->hold_end = end;
    }

    p->hold_last = ngx_cpymem(p->hold_last, pos, last - pos);

    return NGX_OK;
}


/*
 * The answer ended as it should: what is held goes too (a stream's last
 * event without its blank line; an answer's end that began like a key is
 * masked: nothing of a key may reach the client).
 */
static ngx_int_t
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

    p->hold_start = NULL;
    p->hold_last = NULL;
    p->hold_end = NULL;

    if (ngx_http_airouter_proxy_relay(r, p, ll, start, last, 1) != NGX_OK) {
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
static ngx_uint_t
ngx_http_airouter_proxy_stream_done(ngx_http_airouter_proxy_ctx_t *p)
{
    if (p->relay && p->relay->stream) {
        return airouter_dstream_state(p->relay->stream) == 1;
    }

    return p->sse.done;
}


/* The held bytes finish the stream: they say [DONE]. */
static ngx_uint_t
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
static void
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

            if (ngx_memcmp(q, k->data, k->len) == 0) {
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


/* How the answer is encoded, as far as reading it goes. */
static ngx_http_airouter_encoding_e
ngx_http_airouter_proxy_encoding(ngx_http_request_t *r)
{
    ngx_str_t        *v;
    ngx_table_elt_t  *h;

    h = r->upstream->headers_in.content_encoding;

    if (h == NULL) {
        return NGX_HTTP_AIROUTER_ENC_IDENTITY;
    }

    v = &h->value;

    if ((v->len == 4 && ngx_strncasecmp(v->data, (u_char *) "gzip", 4) == 0)
        || (v->len == 6
            && ngx_strncasecmp(v->data, (u_char *) "x-gzip", 6) == 0)
        || (v->len == 7
            && ngx_strncasecmp(v->data, (u_char *) "deflate", 7) == 0))
    {
        return NGX_HTTP_AIROUTER_ENC_INFLATE;
    }

    if (v->len == 8
        && ngx_strncasecmp(v->data, (u_char *) "identity", 8) == 0)
    {
        return NGX_HTTP_AIROUTER_ENC_IDENTITY;
    }

    return NGX_HTTP_AIROUTER_ENC_UNKNOWN;
}


/*
 * The request's one inflater, (re)started: gzip or zlib's format (told
 * apart by their headers), or raw deflate once zlib's was refused.  Its
 * memory is the request pool's.
 */
static ngx_int_t
ngx_http_airouter_proxy_zstart(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p)
{
    int        bits, rc;
    z_stream  *z;

    bits = p->zraw ? -MAX_WBITS : MAX_WBITS + 32;

    if (p->zstream) {
        return inflateReset2(p->zstream, bits) == Z_OK ? NGX_OK : NGX_ERROR;
    }

    z = ngx_pcalloc(r->pool, sizeof(z_stream));
    p->zout = ngx_pnalloc(r->pool, NGX_HTTP_AIROUTER_INFLATE_STEP);
    if (z == NULL || p->zout == NULL) {
        return NGX_ERROR;
    }

    z->zalloc = ngx_http_airouter_proxy_zalloc;
    z->zfree = ngx_http_airouter_proxy_zfree;
    z->opaque = r->pool;

    rc = inflateInit2(z, bits);

    if (rc != Z_OK) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "airouter: inflateInit2() failed: %d", rc);
        return NGX_ERROR;
    }

    p->zstream = z;

    return NGX_OK;
}


/*
 * The body read so far (preread's rc and body), inflated into a copy:
 * NGX_OK when it is all there and inflates whole within
 * NGX_HTTP_AIROUTER_INFLATE_MAX, else NGX_DECLINED with what it gave (or
 * rc's NGX_AGAIN).  Data that does not inflate gives an empty body: no
 * answer at all.
 */
static ngx_int_t
ngx_http_airouter_proxy_inflate(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_str_t *body, ngx_int_t rc)
{
    int        zrc;
    size_t     size, len;
    u_char    *out, *more;
    z_stream  *z;

    if (rc == NGX_AGAIN && body->len == 0) {
        ngx_str_null(body);
        return NGX_AGAIN;
    }

again:

    if (ngx_http_airouter_proxy_zstart(r, p) != NGX_OK) {
        return NGX_ERROR;
    }

    z = p->zstream;
    size = ngx_max(4 * body->len, NGX_HTTP_AIROUTER_INFLATE_STEP);
    size = ngx_min(size, NGX_HTTP_AIROUTER_INFLATE_MAX);

    out = ngx_pnalloc(r->pool, size);
    if (out == NULL) {
        return NGX_ERROR;
    }

    z->next_in = body->data;
    z->avail_in = body->len;
    len = 0;

    for ( ;; ) {
        z->next_out = out + len;
        z->avail_out = size - len;

        zrc = inflate(z, Z_NO_FLUSH);
        len = size - z->avail_out;

        if (zrc == Z_STREAM_END) {
            break;
        }

        if (zrc == Z_DATA_ERROR && !p->zraw && len == 0
            && r->upstream->headers_in.content_encoding->value.len == 7)
        {
            /* "deflate" as some servers send it: without zlib's header */
            p->zraw = 1;
            goto again;
        }

        if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "airouter: upstream's answer does not inflate "
                          "(%d: %s)", zrc, z->msg ? z->msg : "-");
            body->data = out;
            body->len = 0;
            return NGX_OK;
        }

        if (z->avail_out != 0) {
            /* all of what came is inflated; the rest is still coming */
            body->data = out;
            body->len = len;
            return rc == NGX_AGAIN ? NGX_AGAIN : NGX_DECLINED;
        }

        if (size == NGX_HTTP_AIROUTER_INFLATE_MAX) {
            body->data = out;
            body->len = len;
            return NGX_DECLINED;
        }

        size = ngx_min(2 * size, NGX_HTTP_AIROUTER_INFLATE_MAX);

        more = ngx_pnalloc(r->pool, size);
        if (more == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(more, out, len);
        (void) ngx_pfree(r->pool, out);
        out = more;
    }

    body->data = out;
    body->len = len;

    /* inflated whole: whole when the compressed body was */
    return rc;
}


/* What passes, inflated piece by piece for the stream's or tail's reader. */
static void
ngx_http_airouter_proxy_inflate_read(ngx_http_airouter_proxy_ctx_t *p,
    u_char *pos, u_char *last)
{
    int        zrc;
    z_stream  *z;

    z = p->zstream;
    z->next_in = pos;
    z->avail_in = last - pos;

    do {
        z->next_out = p->zout;
        z->avail_out = NGX_HTTP_AIROUTER_INFLATE_STEP;

        zrc = inflate(z, Z_NO_FLUSH);

        ngx_http_airouter_proxy_read(p, p->zout,
                               p->zout + NGX_HTTP_AIROUTER_INFLATE_STEP
                               - z->avail_out);

        if (zrc != Z_OK) {
            /* its end, or data that does not inflate: read no further */
            if (zrc != Z_STREAM_END && zrc != Z_BUF_ERROR) {
                p->zreading = 0;
                p->tail = NULL;
            }

            return;
        }

    } while (z->avail_out == 0 || z->avail_in != 0);
}


static void *
ngx_http_airouter_proxy_zalloc(void *opaque, u_int items, u_int size)
{
    ngx_pool_t *pool = opaque;

    return ngx_palloc(pool, items * size);
}


static void
ngx_http_airouter_proxy_zfree(void *opaque, void *address)
{
    return;
}


static ngx_int_t
ngx_http_airouter_proxy_peer_init(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us)
{
    ngx_http_upstream_t            *u;
    ngx_http_airouter_ctx_t        *ctx;
    ngx_http_airouter_proxy_ctx_t  *p;

    ctx = ngx_http_get_module_ctx(r, ngx_http_airouter_module);
    p = ctx->proxy;
    u = r->upstream;

    u->peer.data = p;
    u->peer.get = ngx_http_airouter_proxy_peer_get;
    u->peer.free = ngx_http_airouter_proxy_peer_free;
    u->peer.tries = ngx_min(ctx->candidates.nelts, p->pm->max_tries);

#if (NGX_HTTP_SSL)
    u->peer.set_session = ngx_http_airouter_proxy_set_session;
    u->peer.save_session = ngx_http_airouter_proxy_save_session;
#endif

    return NGX_OK;
}


/*
 * Before every try: the next candidate that live state lets through.
 * Candidates it holds back are noted as skipped, not tried.
 */
static ngx_int_t
ngx_http_airouter_proxy_peer_get(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_airouter_proxy_ctx_t *p = data;

    ngx_int_t                        rc;
    ngx_str_t                        native;
    ngx_uint_t                       probe, key, i;
    airouter_dialect_e               up;
    ngx_http_request_t              *r;
    ngx_http_upstream_t             *u;
    ngx_http_airouter_ctx_t         *ctx;
    ngx_http_airouter_channel_t     *ch;
    ngx_http_airouter_candidate_t   *c;
    ngx_http_airouter_live_block_t   block;

    r = p->request;
    u = r->upstream;
    ctx = p->ctx;
    pc->cached = 0;
    pc->connection = NULL;

    if (p->retry_same) {
        /* a stale idle connection failed: same candidate, new connection */
        p->retry_same = 0;
        c = p->cand;
        ch = p->channel;
        goto again;
    }

    if (p->retry_key) {
        /* the last try's key failed alone: the same candidate again */
        p->retry_key = 0;
        p->next--;
    }

    c = ctx->candidates.elts;

    for ( /* void */ ; p->next < ctx->candidates.nelts; p->next++) {

        ch = &p->pm->channels[c[p->next].channel];

        up = ngx_http_airouter_proxy_upstream(p, c[p->next].channel);

        if (up != AIROUTER_DIALECT_OPENAI
            && ngx_http_airouter_proxy_native(r, p, up, &native) != NGX_OK)
        {
            /* the request has no words in that channel's dialect */
            ngx_http_airouter_proxy_record(p, c[p->next].channel,
                                           &c[p->next].model,
                                           AIROUTER_FAULT_BAD_REQUEST, 0, 1);
            continue;
        }

        if (ch->ep->addr == NULL) {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "airouter: peer get: \"%s\" model \"%V\" "
                           "skipped: no address",
                           ctx->amcf->config->channels[c[p->next].channel].id,
                           &c[p->next].model);

            ngx_http_airouter_proxy_record(p, c[p->next].channel,
                                           &c[p->next].model,
                                           AIROUTER_FAULT_CONNECT, 0, 1);
            continue;
        }

        rc = ngx_http_airouter_live_pick_key(ctx->amcf, c[p->next].channel,
                                             ch->ep->nauth, c[p->next].keys,
                                             &key, &block);

        if (rc == NGX_DECLINED) {
            /* every key of the channel is cooling down or dead */
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "airouter: peer get: \"%s\" model \"%V\" "
                           "skipped: every key is cooling down",
                           ctx->amcf->config->channels[c[p->next].channel].id,
                           &c[p->next].model);

            ngx_http_airouter_proxy_record(p, c[p->next].channel,
                                           &c[p->next].model,
                                           block.fault ? block.fault
                                           : AIROUTER_FAULT_RATE_LIMIT, 0, 1);
            continue;
        }

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "airouter: key choice: \"%s\" key#%ui of %ui "
                       "(live state's turn)",
                       ctx->amcf->config->channels[c[p->next].channel].id,
                       key, ch->ep->nauth);

        if (rc == NGX_DONE) {
            /* no live state: this worker's own turn, among the keys
             * that list the model */
            key = ch->next_auth % ch->ep->nauth;

            for (i = 0; i < ch->ep->nauth; i++) {
                key = ch->next_auth++ % ch->ep->nauth;

                if (ngx_http_airouter_live_key_lists(c[p->next].keys, key)) {
                    break;
                }
            }

            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "airouter: key choice: no live state, key#%ui "
                           "by this worker's turn of %ui", key,
                           ch->ep->nauth);
        }

        if (ngx_http_airouter_live_acquire(ctx->amcf, c[p->next].channel,
                                  &c[p->next].model,
                                  ngx_http_airouter_proxy_scope(p,
                                                     c[p->next].channel),
                                  &probe, &block)
            != NGX_OK)
        {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "airouter: peer get: \"%s\" model \"%V\" "
                           "skipped: live state keeps it away",
                           ctx->amcf->config->channels[c[p->next].channel].id,
                           &c[p->next].model);

            ngx_http_airouter_proxy_record(p, c[p->next].channel,
                                           &c[p->next].model,
                                           block.fault ? block.fault
                                           : AIROUTER_FAULT_SERVER, 0, 1);
            continue;
        }

        ctx->current = p->next;
        c = &c[p->next++];
        p->probe = probe;
        p->key = key;
        p->acquired = 1;
        p->cand = c;
        p->channel = ch;

        goto found;
    }

    return NGX_BUSY;

found:

    ctx->attempts++;

again:

    p->start = ngx_current_msec;
    p->ttfb = (ngx_msec_t) -1;
    ngx_http_airouter_proxy_parse_reset(r, p);
    p->fault = AIROUTER_FAULT_NONE;
    p->classified = 0;
    p->complete = 0;

    pc->sockaddr = ch->ep->addr->sockaddr;
    pc->socklen = ch->ep->addr->socklen;
    pc->name = &ch->ep->addr->name;

    ngx_log_debug6(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "airouter: peer get: attempt %ui \"%s\" model \"%V\" "
                   "key#%ui at %V%s", ctx->attempts,
                   ctx->amcf->config->channels[p->cand->channel].id,
                   &p->cand->model, p->key, pc->name,
                   p->probe ? " (probe)" : "");

#if (NGX_HTTP_SSL)
    u->ssl = ch->ep->https;
    u->ssl_name = ch->ep->name;
#endif

    if (ngx_http_airouter_proxy_build(r, p) != NGX_OK) {
        /* our failure, not the channel's */
        ngx_http_airouter_proxy_report(p, 1);
        pc->sockaddr = NULL;
        return NGX_ERROR;
    }

    rc = ngx_http_airouter_keepalive_get(pc, p);

    return rc;
}


static void
ngx_http_airouter_proxy_peer_free(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state)
{
    ngx_http_airouter_proxy_ctx_t *p = data;

    u_char                    kbuf[NGX_INT_T_LEN + 8];
    ngx_str_t                 empty = ngx_null_string;
    ngx_str_t                 kname;
    ngx_uint_t                status;
    ngx_connection_t         *c;
    ngx_http_request_t       *r;
    ngx_http_upstream_t      *u;
    ngx_http_airouter_ctx_t  *ctx;

    r = p->request;
    u = r->upstream;
    ctx = p->ctx;
    c = pc->connection;

    if (pc->tries) {
        pc->tries--;
    }

    if (!p->acquired) {
        return;
    }

    if ((state & NGX_PEER_FAILED) && pc->cached && !p->classified
        && p->state == NGX_HTTP_AIROUTER_ST_STATUS
        && c && !c->read->timedout && !c->write->timedout)
    {
        /* nginx gives this try back (u->peer.tries++): so do we */
        p->retry_same = 1;
        return;
    }

    if (!p->classified) {
        if (c && (c->read->timedout || c->write->timedout)) {
            p->fault = AIROUTER_FAULT_TIMEOUT;

        } else if (p->state != NGX_HTTP_AIROUTER_ST_STATUS
                   || u->request_sent)
        {
            /* it took the request, then failed it: not the whole host */
            p->fault = AIROUTER_FAULT_SERVER;

        } else {
            p->fault = AIROUTER_FAULT_CONNECT;
        }

        p->verdict = airouter_outcome_verdict(&p->pm->outcomes, p->fault, -1);
        p->classified = 1;

    } else {
        p->verdict = airouter_outcome_verdict(&p->pm->outcomes, p->fault,
                                              p->retry_after);
    }

    ngx_log_debug6(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "airouter: peer free: \"%s\" state %ui: %s, retry %ui, "
                   "cooldown %l s%s",
                   ctx->amcf->config->channels[p->cand->channel].id, state,
                   airouter_fault_name(p->fault),
                   (ngx_uint_t) p->verdict.retry, p->verdict.cooldown,
                   p->aborted ? " (client gone: nothing learned)" : "");

    ngx_http_airouter_proxy_report(p, p->aborted);

    if (p->fault != AIROUTER_FAULT_NONE
        && p->fault != AIROUTER_FAULT_BAD_REQUEST && !p->aborted)
    {
        status = (p->state == NGX_HTTP_AIROUTER_ST_STATUS)
                 ? 0 : u->headers_in.status_n;

        /* a key is named by its index, never by its value */
        kname = empty;

        if (p->channel->ep->nauth > 1) {
            kname.data = kbuf;
            kname.len = ngx_sprintf(kbuf, " key#%ui", p->key) - kbuf;
        }

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "airouter: \"%s\" model \"%V\"%V: %s%s%V, "
                      "%s cooldown %l s",
                      ctx->amcf->config->channels[p->cand->channel].id,
                      &p->cand->model, &kname, airouter_fault_name(p->fault),
                      status ? " " : "", status ? &u->headers_in.status_line
                                                : &empty,
                      p->keyed ? "key"
                      : p->scoped ? "endpoint (until discovery confirms)"
                      : airouter_scope_name(p->verdict.scope),
                      p->scoped ? (long) p->scoped : p->verdict.cooldown);

        if (!p->answered) {
            ngx_http_airouter_proxy_record(p, p->cand->channel,
                                           &p->cand->model, p->fault,
                                           status, 0);
        }

        /* another key of the same channel may serve it: one more try */
        if (p->keyed && !p->answered && p->verdict.retry
            && p->key_retries + 1 < p->channel->ep->nauth)
        {
            p->key_retries++;
            p->retry_key = 1;
            pc->tries++;
        }
    }

    ngx_http_airouter_keepalive_save(pc, p, state);
}


/*
 * The attempt's outcome to live state; an attempt that taught nothing (the
 * client left, a stale idle connection) only gives back what it held.
 */
static void
ngx_http_airouter_proxy_report(ngx_http_airouter_proxy_ctx_t *p,
    ngx_uint_t nothing_learned)
{
    airouter_fault_e                  fault;
    ngx_http_airouter_live_report_t   report;

    fault = nothing_learned ? AIROUTER_FAULT_BAD_REQUEST : p->fault;

    ngx_memzero(&report, sizeof(ngx_http_airouter_live_report_t));
    report.fault = fault;
    report.verdict = nothing_learned
                     ? airouter_outcome_verdict(&p->pm->outcomes, fault, -1)
                     : p->verdict;

    /* a channel with balance checks keeps its free models when spent */
    airouter_outcome_channel(&report.verdict, fault,
                             &p->ctx->amcf->config->channels[p->cand->channel]);
    if (!nothing_learned) {
        p->verdict = report.verdict;
    }
    report.ttfb = p->ttfb;
    report.total = ngx_current_msec - p->start;
    report.probe = p->probe;
    report.key = p->key;
    report.nkeys = p->channel->ep->nauth;
    report.scope = ngx_http_airouter_proxy_scope(p, p->cand->channel);

    ngx_http_airouter_live_release(p->ctx->amcf, p->cand->channel,
                                   &p->cand->model, &report);
    p->acquired = 0;
    p->keyed = report.keyed;
    p->scoped = report.scoped;
}


static void
ngx_http_airouter_proxy_record(ngx_http_airouter_proxy_ctx_t *p,
    ngx_uint_t channel, ngx_str_t *model, airouter_fault_e fault,
    ngx_uint_t status, ngx_uint_t skipped)
{
    ngx_http_airouter_attempt_t  *a;

    a = ngx_array_push(&p->attempts);
    if (a == NULL) {
        return;
    }

    a->channel = channel;
    a->model = *model;
    a->fault = fault;
    a->status = status;
    a->skipped = skipped;
    a->key = (!skipped && p->cand && p->cand->channel == channel
              && p->channel->ep->nauth > 1) ? (ngx_int_t) p->key : -1;
}


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

    qlen = airouter_json_quoted_len((char *) p->cand->model.data,
                                    p->cand->model.len);

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
                                   (char *) p->cand->model.data,
                                   p->cand->model.len);
    b->last = ngx_cpymem(b->last, raw + model.end, ctx->raw.len - model.end);

    return b;
}


/*
 * One walk of the client's body: 1 when its "model" can be spliced (for a
 * stream, only when the client sent no stream_options of its own), else
 * -1.  The last "model" counts, as jansson keeps it.
 */
static ngx_int_t
ngx_http_airouter_proxy_find_model(ngx_http_airouter_proxy_ctx_t *p)
{
    int                       rc, found;
    airouter_json_iter_t      it;
    airouter_json_span_t      m;
    ngx_http_airouter_ctx_t  *ctx;

    ctx = p->ctx;

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
static airouter_dialect_e
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
static ngx_uint_t
ngx_http_airouter_proxy_scope(ngx_http_airouter_proxy_ctx_t *p,
    ngx_uint_t channel)
{
    switch (ngx_http_airouter_proxy_upstream(p, channel)) {

    case AIROUTER_DIALECT_ANTHROPIC:
        return NGX_HTTP_AIROUTER_LIVE_SCOPE_MESSAGES;

    case AIROUTER_DIALECT_RESPONSES:
        return NGX_HTTP_AIROUTER_LIVE_SCOPE_RESPONSES;

    default:
        return ngx_http_airouter_live_scope(p->ctx->endpoint);
    }
}


/*
 * The request in a channel's dialect other than chat: the client's own
 * bytes when it speaks that dialect, else chat translated (made once per
 * request).  NGX_DECLINED: it has no words there (audio for Messages).
 */
static ngx_int_t
ngx_http_airouter_proxy_native(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, airouter_dialect_e upstream,
    ngx_str_t *body)
{
    ngx_int_t                     rc;
    airouter_derr_t               err;
    ngx_http_airouter_ctx_t      *ctx;
    ngx_http_airouter_dialect_t  *d;

    ctx = p->ctx;

    if (ctx->dialect == NULL) {
        if (ngx_http_airouter_dialect_chat(r, &d) != NGX_OK) {
            return NGX_ERROR;
        }

        ctx->dialect = d;
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

    if (ngx_http_airouter_proxy_native(r, p, p->upstream, &raw) != NGX_OK) {
        return NULL;
    }

    if (raw.data != p->native_raw) {
        p->native_raw = raw.data;
        p->native_splice = airouter_json_member((char *) raw.data, raw.len,
                                                "model", &p->native_model);
    }

    if (p->native_splice == 1) {
        m = p->native_model;
        qlen = airouter_json_quoted_len((char *) p->cand->model.data,
                                        p->cand->model.len);

        b = ngx_create_temp_buf(r->pool, raw.len - (m.end - m.start) + qlen);
        if (b == NULL) {
            return NULL;
        }

        b->last = ngx_cpymem(b->last, raw.data, m.start);
        b->last += airouter_json_quote((char *) b->last,
                                       (char *) p->cand->model.data,
                                       p->cand->model.len);
        b->last = ngx_cpymem(b->last, raw.data + m.end, raw.len - m.end);

        return b;
    }

    /* a body the scan cannot follow: parsed, rewritten, serialised */
    tree = json_loadb((char *) raw.data, raw.len, 0, NULL);
    if (tree == NULL
        || json_object_set_new(tree, "model",
                               json_stringn((char *) p->cand->model.data,
                                            p->cand->model.len))
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
 * The answer is accepted: a chat client on a chat channel needs nothing;
 * otherwise a relay writes it in the client's dialect, or (the same
 * dialect on both sides, not chat) reads a stream's usage.  NGX_DECLINED:
 * it cannot be translated (compressed), the next candidate is tried.
 */
static ngx_int_t
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
        && p->upstream == AIROUTER_DIALECT_OPENAI)
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

    if (client == p->upstream && !stream) {
        /* a whole answer in the client's dialect: its usage is read when
         * it is judged */
        return NGX_OK;
    }

    if (client != p->upstream
        && p->encoding != NGX_HTTP_AIROUTER_ENC_IDENTITY)
    {
        /* the translator reads plain bytes; the upstream ignored our
         * Accept-Encoding: identity */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "airouter: the upstream's answer is compressed: it "
                      "cannot be translated from %s to %s",
                      airouter_dialect_name(p->upstream),
                      airouter_dialect_name(client));
        return NGX_DECLINED;
    }

    p->relay = ngx_http_airouter_dialect_relay(r, p->upstream, client,
                                               &d->dctx, stream);
    if (p->relay == NULL) {
        return NGX_ERROR;
    }

    p->translate = (client != p->upstream);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "airouter: answer from a %s channel %s %s",
                   airouter_dialect_name(p->upstream),
                   p->translate ? "written as" : "passed to a",
                   airouter_dialect_name(client));

    return NGX_OK;
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

    body = p->ctx->body;

    if (json_object_set_new(body, "model",
                            json_stringn((char *) p->cand->model.data,
                                         p->cand->model.len))
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
            + p->cand->model.len + 128
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
 * The request for this try: line, Host, the channel's key, the client's
 * Accept and User-Agent, a plain answer asked for, and the body with the
 * candidate's model id (for streams, asking for usage in the final
 * chunk).  The client's own Authorization and everything else it sent
 * stay here.
 */
static ngx_int_t
ngx_http_airouter_proxy_build(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p)
{
    size_t                          len, ulen;
    u_char                         *url;
    ngx_buf_t                      *b, *bb;
    ngx_str_t                      *auth, *accept, *agent;
    ngx_str_t                       path;
    const char                     *api;
    ngx_chain_t                    *cl, *bcl;
    ngx_http_upstream_t            *u;
    const airouter_channel_t       *ch;
    ngx_http_airouter_ctx_t        *ctx;
    ngx_http_airouter_channel_t    *pch;
    ngx_http_airouter_loc_conf_t   *alcf;

    ctx = p->ctx;
    u = r->upstream;
    pch = p->channel;
    ch = &ctx->amcf->config->channels[p->cand->channel];
    alcf = ngx_http_get_module_loc_conf(r, ngx_http_airouter_module);

    p->upstream = ngx_http_airouter_proxy_upstream(p, p->cand->channel);

    if (p->upstream != AIROUTER_DIALECT_OPENAI) {
        bb = ngx_http_airouter_proxy_native_body(r, p);
        if (bb == NULL) {
            return NGX_ERROR;
        }

        api = (p->upstream == AIROUTER_DIALECT_ANTHROPIC) ? "/v1/messages"
                                                          : "/v1/responses";
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

    ulen = airouter_config_url(ch, api, NULL, 0);
    url = ngx_pnalloc(r->pool, ulen + 1);
    if (url == NULL) {
        return NGX_ERROR;
    }

    (void) airouter_config_url(ch, api, (char *) url, ulen + 1);

    path.data = (u_char *) ngx_http_airouter_proxy_url_path(url);
    path.len = ngx_strlen(path.data);

    if (path.len == 0) {
        ngx_str_set(&path, "/");
    }

    u->uri = path;

    auth = pch->ep->nauth ? &pch->ep->auth[p->key % pch->ep->nauth] : NULL;
    accept = r->headers_in.accept ? &r->headers_in.accept->value : NULL;
    agent = r->headers_in.user_agent ? &r->headers_in.user_agent->value
                                     : NULL;

    len = sizeof("POST  HTTP/1.1" CRLF) - 1 + path.len
          + sizeof("Host: " CRLF) - 1 + pch->ep->host.len
          + (auth ? auth->len : 0)
          + sizeof("Content-Type: application/json" CRLF) - 1
          + sizeof("Accept: " CRLF) - 1
          + (accept ? accept->len : sizeof("text/event-stream") - 1)
          + (agent ? sizeof("User-Agent: " CRLF) - 1 + agent->len : 0)
          + sizeof("Accept-Encoding: identity" CRLF) - 1
          + sizeof("Content-Length: " CRLF) - 1 + NGX_OFF_T_LEN
          + sizeof("Connection: keep-alive" CRLF) - 1
          + sizeof(CRLF) - 1;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_sprintf(b->last, "POST %V HTTP/1.1" CRLF "Host: %V" CRLF,
                          &path, &pch->ep->host);

    if (auth) {
        b->last = ngx_cpymem(b->last, auth->data, auth->len);
    }

    b->last = ngx_cpymem(b->last, "Content-Type: application/json" CRLF,
                         sizeof("Content-Type: application/json" CRLF) - 1);

    if (accept) {
        b->last = ngx_sprintf(b->last, "Accept: %V" CRLF, accept);

    } else {
        b->last = ngx_sprintf(b->last, "Accept: %s" CRLF,
                              ctx->stream ? "text/event-stream"
                                          : "application/json");
    }

    if (agent) {
        b->last = ngx_sprintf(b->last, "User-Agent: %V" CRLF, agent);
    }

    /* the answer is read on its way (usage, keys, events): plain, please */
    b->last = ngx_cpymem(b->last, "Accept-Encoding: identity" CRLF,
                         sizeof("Accept-Encoding: identity" CRLF) - 1);

    b->last = ngx_sprintf(b->last, "Content-Length: %uz" CRLF "Connection: %s"
                          CRLF CRLF, (size_t) (bb->last - bb->pos),
                          alcf->keepalive ? "keep-alive" : "close");

    cl = ngx_alloc_chain_link(r->pool);
    bcl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL || bcl == NULL) {
        return NGX_ERROR;
    }

    cl->buf = b;
    cl->next = bcl;
    bcl->buf = bb;
    bcl->next = NULL;

    u->request_bufs = cl;

    return NGX_OK;
}


/* "http://host:port/a/b" -> "/a/b" ("" when there is no path). */
static const u_char *
ngx_http_airouter_proxy_url_path(const u_char *url)
{
    const u_char  *p;

    p = (u_char *) ngx_strstr(url, "://");
    p = p ? p + 3 : url;

    while (*p && *p != '/' && *p != '?') {
        p++;
    }

    return p;
}


/*
 * The keepalive cache: idle connections per worker, as
 * ngx_http_upstream_keepalive_module keeps them, keyed by address and TLS
 * name (one host serves several channels; a TLS connection is bound to
 * the name it was opened for).
 */
static ngx_int_t
ngx_http_airouter_keepalive_get(ngx_peer_connection_t *pc,
    ngx_http_airouter_proxy_ctx_t *p)
{
    ngx_uint_t                       i;
    ngx_queue_t                     *q;
    ngx_connection_t                *c;
    ngx_http_airouter_keepalive_t   *item;
    ngx_http_airouter_proxy_conf_t  *pcf;

    pcf = p->pcf;

    if (pcf->max_cached == 0) {
        return NGX_OK;
    }

    if (!pcf->cache_ready) {
        /* first use in this worker */
        item = ngx_pcalloc(ngx_cycle->pool, pcf->max_cached
                                    * sizeof(ngx_http_airouter_keepalive_t));
        if (item == NULL) {
            return NGX_OK;
        }

        ngx_queue_init(&pcf->cache);
        ngx_queue_init(&pcf->free);

        for (i = 0; i < pcf->max_cached; i++) {
            item[i].conf = pcf;
            ngx_queue_insert_head(&pcf->free, &item[i].queue);
        }

        pcf->cache_ready = 1;
    }

    for (q = ngx_queue_head(&pcf->cache);
         q != ngx_queue_sentinel(&pcf->cache);
         q = ngx_queue_next(q))
    {
        item = ngx_queue_data(q, ngx_http_airouter_keepalive_t, queue);

        if (item->channel->ep->https != p->channel->ep->https
            || item->channel->ep->name.len != p->channel->ep->name.len
            || ngx_strncmp(item->channel->ep->name.data,
                           p->channel->ep->name.data,
                           p->channel->ep->name.len) != 0
            || ngx_memn2cmp((u_char *) &item->sockaddr,
                            (u_char *) pc->sockaddr,
                            item->socklen, pc->socklen) != 0)
        {
            continue;
        }

        ngx_queue_remove(q);
        ngx_queue_insert_head(&pcf->free, q);

        c = item->connection;

        c->idle = 0;
        c->sent = 0;
        c->data = NULL;
        c->log = pc->log;
        c->read->log = pc->log;
        c->write->log = pc->log;
        c->pool->log = pc->log;

        if (c->read->timer_set) {
            ngx_del_timer(c->read);
        }

        pc->connection = c;
        pc->cached = 1;

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                       "airouter: keepalive get: idle connection %p "
                       "to %V", c, pc->name);

        return NGX_DONE;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                   "airouter: keepalive get: no idle connection to %V, "
                   "a new one", pc->name);

    return NGX_OK;
}


static void
ngx_http_airouter_keepalive_save(ngx_peer_connection_t *pc,
    ngx_http_airouter_proxy_ctx_t *p, ngx_uint_t state)
{
    ngx_queue_t                     *q;
    ngx_connection_t                *c;
    ngx_http_upstream_t             *u;
    ngx_http_airouter_keepalive_t   *item;
    ngx_http_airouter_proxy_conf_t  *pcf;

    pcf = p->pcf;
    u = p->request->upstream;
    c = pc->connection;

    if (!pcf->cache_ready
        || (state & NGX_PEER_FAILED)
        || c == NULL
        || c->read->eof
        || c->read->error
        || c->read->timedout
        || c->write->error
        || c->write->timedout
        || !u->keepalive
        || !u->request_body_sent
        || ngx_terminate
        || ngx_exiting
        || ngx_handle_read_event(c->read, 0) != NGX_OK)
    {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                       "airouter: keepalive save: connection %p not kept "
                       "(state %ui)", c, state);
        return;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                   "airouter: keepalive save: connection %p to %V kept%s",
                   c, pc->name, ngx_queue_empty(&pcf->free)
                                ? ", the oldest closed" : "");

    if (ngx_queue_empty(&pcf->free)) {
        q = ngx_queue_last(&pcf->cache);
        ngx_queue_remove(q);

        item = ngx_queue_data(q, ngx_http_airouter_keepalive_t, queue);
        ngx_http_airouter_keepalive_close(item->connection);

    } else {
        q = ngx_queue_head(&pcf->free);
        ngx_queue_remove(q);

        item = ngx_queue_data(q, ngx_http_airouter_keepalive_t, queue);
    }

    ngx_queue_insert_head(&pcf->cache, q);

    item->connection = c;
    item->channel = p->channel;
    item->socklen = pc->socklen;
    ngx_memcpy(&item->sockaddr, pc->sockaddr, pc->socklen);

    pc->connection = NULL;

    c->read->delayed = 0;
    ngx_add_timer(c->read, NGX_HTTP_AIROUTER_KEEPALIVE_IDLE);

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    c->write->handler = ngx_http_airouter_keepalive_dummy_handler;
    c->read->handler = ngx_http_airouter_keepalive_close_handler;

    c->data = item;
    c->idle = 1;
    c->log = ngx_cycle->log;
    c->read->log = ngx_cycle->log;
    c->write->log = ngx_cycle->log;
    c->pool->log = ngx_cycle->log;

    if (c->read->ready) {
        ngx_http_airouter_keepalive_close_handler(c->read);
    }
}


static void
ngx_http_airouter_keepalive_dummy_handler(ngx_event_t *ev)
{
    return;
}


/* An idle connection that becomes readable is closing (or misbehaving). */
static void
ngx_http_airouter_keepalive_close_handler(ngx_event_t *ev)
{
    int                              n;
    char                             buf[1];
    ngx_connection_t                *c;
    ngx_http_airouter_keepalive_t   *item;

    c = ev->data;

    if (c->close || c->read->timedout) {
        goto close;
    }

    n = recv(c->fd, buf, 1, MSG_PEEK);

    if (n == -1 && ngx_socket_errno == NGX_EAGAIN) {
        ev->ready = 0;

        if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
            goto close;
        }

        return;
    }

close:

    item = c->data;

    ngx_http_airouter_keepalive_close(c);

    ngx_queue_remove(&item->queue);
    ngx_queue_insert_head(&item->conf->free, &item->queue);
}


static void
ngx_http_airouter_keepalive_close(ngx_connection_t *c)
{
#if (NGX_HTTP_SSL)

    if (c->ssl) {
        c->ssl->no_wait_shutdown = 1;
        c->ssl->no_send_shutdown = 1;

        if (ngx_ssl_shutdown(c) == NGX_AGAIN) {
            c->ssl->handler = ngx_http_airouter_keepalive_close;
            return;
        }
    }

#endif

    ngx_destroy_pool(c->pool);
    ngx_close_connection(c);
}


#if (NGX_HTTP_SSL)

/* One TLS session per channel and worker, resumed by the next handshake. */
static ngx_int_t
ngx_http_airouter_proxy_set_session(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_airouter_proxy_ctx_t *p = data;

    if (p->channel == NULL || p->channel->session == NULL) {
        return NGX_OK;
    }

    return ngx_ssl_set_session(pc->connection, p->channel->session);
}


static void
ngx_http_airouter_proxy_save_session(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_airouter_proxy_ctx_t *p = data;

    ngx_ssl_session_t  *session;

    if (p->channel == NULL) {
        return;
    }

    session = ngx_ssl_get_session(pc->connection);
    if (session == NULL) {
        return;
    }

    if (p->channel->session) {
        ngx_ssl_free_session(p->channel->session);
    }

    p->channel->session = session;
}

#endif


ngx_int_t
ngx_http_airouter_proxy_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_airouter_proxy_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_airouter_proxy_body_filter;

    return NGX_OK;
}


/*
 * Every proxied answer gets the X-Router-* headers; a failed one gets the
 * error from ngx_http_airouter_proxy_fail() instead of nginx's page.
 */
static ngx_int_t
ngx_http_airouter_proxy_header_filter(ngx_http_request_t *r)
{
    ngx_http_airouter_ctx_t        *ctx;
    ngx_http_airouter_proxy_ctx_t  *p;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_airouter_module);
    if (ctx == NULL || ctx->proxy == NULL) {
        return ngx_http_next_header_filter(r);
    }

    p = ctx->proxy;

    if (p->replace && !p->replaced) {
        p->replaced = 1;

        r->headers_out.status = p->error_status;
        r->headers_out.status_line.len = 0;
        r->err_status = 0;

        ngx_str_set(&r->headers_out.content_type, "application/json");
        r->headers_out.content_type_len = r->headers_out.content_type.len;
        r->headers_out.content_type_lowcase = NULL;
        r->headers_out.charset.len = 0;

        r->headers_out.content_length_n = p->error.len;

        if (r->headers_out.content_length) {
            r->headers_out.content_length->hash = 0;
            r->headers_out.content_length = NULL;
        }

        ngx_http_clear_accept_ranges(r);
        ngx_http_clear_last_modified(r);
        ngx_http_clear_etag(r);
    }

    if (p->translate && !p->replace) {
        /* written in the client's dialect: another length */
        r->headers_out.content_length_n = -1;

        if (r->headers_out.content_length) {
            r->headers_out.content_length->hash = 0;
            r->headers_out.content_length = NULL;
        }
    }

    if (ngx_http_airouter_proxy_router_headers(r, p) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_airouter_proxy_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_buf_t                      *b;
    ngx_chain_t                     out;
    ngx_http_airouter_ctx_t        *ctx;
    ngx_http_airouter_proxy_ctx_t  *p;

    if (r != r->main) {
        return ngx_http_next_body_filter(r, in);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_airouter_module);
    if (ctx == NULL || ctx->proxy == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    p = ctx->proxy;

    if (!p->replaced) {
        return ngx_http_next_body_filter(r, in);
    }

    /* nginx's error page is dropped; ours goes once, whole */
    if (p->error_sent || r->header_only) {
        return ngx_http_next_body_filter(r, NULL);
    }

    p->error_sent = 1;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = p->error.data;
    b->last = p->error.data + p->error.len;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_next_body_filter(r, &out);
}


static ngx_int_t
ngx_http_airouter_proxy_router_headers(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p)
{
    u_char                    buf[NGX_INT_T_LEN + 64];
    size_t                    len;
    ngx_str_t                 fallbacks;
    const char               *strategy;
    airouter_config_t        *acf;
    ngx_http_airouter_ctx_t  *ctx;
    const airouter_channel_t *ch;

    ctx = p->ctx;
    acf = ctx->amcf->config;

    if (p->answered && p->cand) {
        ch = &acf->channels[p->cand->channel];

        if (ngx_http_airouter_proxy_add_header(r, "X-Router-Channel",
                (u_char *) ch->id, ngx_strlen(ch->id)) != NGX_OK
            || (ch->provider_name
                && ngx_http_airouter_proxy_add_header(r, "X-Router-Provider",
                       (u_char *) ch->provider_name,
                       ngx_strlen(ch->provider_name)) != NGX_OK)
            || ngx_http_airouter_proxy_add_header(r, "X-Router-Model",
                p->cand->model.data, p->cand->model.len) != NGX_OK)
        {
            return NGX_ERROR;
        }

        len = ngx_sprintf(buf, "%.4f", p->cand->score) - buf;

        if (ngx_http_airouter_proxy_add_header(r, "X-Router-Score", buf, len)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        /* which of the channel's keys: its index, never its value */
        if (p->channel->ep->nauth > 1) {
            len = ngx_sprintf(buf, "key#%ui", p->key) - buf;

            if (ngx_http_airouter_proxy_add_header(r, "X-Router-Key", buf,
                                                   len)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    strategy = ctx->strategy.len ? (char *) ctx->strategy.data
                                 : acf->routing.default_strategy;

    if (strategy
        && ngx_http_airouter_proxy_add_header(r, "X-Router-Strategy",
               (u_char *) strategy, ngx_strlen(strategy)) != NGX_OK)
    {
        return NGX_ERROR;
    }

    len = ngx_sprintf(buf, "%ui", ctx->attempts) - buf;

    if (ngx_http_airouter_proxy_add_header(r, "X-Router-Attempts", buf, len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_airouter_proxy_fallbacks(r, p, &fallbacks) != NGX_OK) {
        return NGX_ERROR;
    }

    if (fallbacks.len
        && ngx_http_airouter_proxy_add_header(r, "X-Router-Fallbacks",
                                              fallbacks.data, fallbacks.len)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (p->answered && ctx->cost >= 0) {
        len = ngx_sprintf(buf, "%.8f", ctx->cost) - buf;

        if (ngx_http_airouter_proxy_add_header(r, "X-Router-Cost", buf, len)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* Header values are kept to printable ASCII: the rest is %XX. */
static ngx_int_t
ngx_http_airouter_proxy_add_header(ngx_http_request_t *r, const char *name,
    u_char *value, size_t len)
{
    u_char           *v;
    ngx_table_elt_t  *h;

    v = ngx_pnalloc(r->pool, len * 3 + 1);
    if (v == NULL) {
        return NGX_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = v;
    h->value.len = ngx_http_airouter_proxy_ascii(v, value, len);
    h->lowcase_key = NULL;

    return NGX_OK;
}


/* "chan:fault status, ..." of the attempts that failed (not skipped). */
static ngx_int_t
ngx_http_airouter_proxy_fallbacks(ngx_http_request_t *r,
    ngx_http_airouter_proxy_ctx_t *p, ngx_str_t *out)
{
    u_char                       *d, *end;
    size_t                        len;
    ngx_uint_t                    i, n;
    airouter_config_t            *acf;
    ngx_http_airouter_attempt_t  *a;

    acf = p->ctx->amcf->config;
    a = p->attempts.elts;
    len = 0;

    for (i = 0; i < p->attempts.nelts; i++) {
        len += ngx_strlen(acf->channels[a[i].channel].id) + 64;
    }

    ngx_str_null(out);

    if (len == 0) {
        return NGX_OK;
    }

    out->data = ngx_pnalloc(r->pool, len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    d = out->data;
    end = d + len;
    n = 0;

    for (i = 0; i < p->attempts.nelts; i++) {
        if (a[i].skipped) {
            continue;
        }

        d = ngx_slprintf(d, end, "%s%s:%s", n++ ? ", " : "",
                         acf->channels[a[i].channel].id,
                         airouter_fault_name(a[i].fault));

        if (a[i].status) {
            d = ngx_slprintf(d, end, " %ui", a[i].status);
        }

        if (a[i].key >= 0) {
            d = ngx_slprintf(d, end, " (key#%i)", a[i].key);
        }
    }

    out->len = d - out->data;
    p->ctx->fallbacks = *out;

    return NGX_OK;
}


static size_t
ngx_http_airouter_proxy_ascii(u_char *dst, const u_char *src, size_t len)
{
    u_char       *d;
    size_t        i;
    static u_char hex[] = "0123456789ABCDEF";

    d = dst;

    for (i = 0; i < len; i++) {
        if (src[i] < 0x20 || src[i] >= 0x7f || src[i] == '%') {
            *d++ = '%';
            *d++ = hex[src[i] >> 4];
            *d++ = hex[src[i] & 0xf];

        } else {
            *d++ = src[i];
        }
    }

    return d - dst;
}


ngx_int_t
ngx_http_airouter_proxy_result(ngx_http_request_t *r,
    ngx_http_airouter_proxy_result_t *res)
{
    const char                     *name;
    airouter_config_t              *acf;
    ngx_http_airouter_ctx_t        *ctx;
    ngx_http_airouter_proxy_ctx_t  *p;

    ngx_memzero(res, sizeof(ngx_http_airouter_proxy_result_t));

    ctx = ngx_http_get_module_ctx(r, ngx_http_airouter_module);
    if (ctx == NULL || ctx->proxy == NULL) {
        return NGX_DECLINED;
    }

    p = ctx->proxy;
    acf = ctx->amcf->config;
    res->attempts = ctx->attempts;
    res->key = -1;

    if (p->answered && p->cand) {
        res->channel.data = (u_char *) acf->channels[p->cand->channel].id;
        res->channel.len = ngx_strlen(res->channel.data);
        res->model = p->cand->model;

        if (p->channel->ep->nauth > 1) {
            res->key = p->key;
        }
    }

    if (p->aborted) {
        name = "client_closed";

    } else if (p->cand == NULL) {
        name = "no_candidate";

    } else {
        name = airouter_fault_name(p->fault);
    }

    res->status.data = (u_char *) name;
    res->status.len = ngx_strlen(name);

    return NGX_OK;
}


void
ngx_http_airouter_proxy_create_conf(ngx_http_airouter_loc_conf_t *alcf)
{
    alcf->upstream.connect_timeout = NGX_CONF_UNSET_MSEC;
    alcf->upstream.send_timeout = NGX_CONF_UNSET_MSEC;
    alcf->upstream.read_timeout = NGX_CONF_UNSET_MSEC;
    alcf->upstream.buffer_size = NGX_CONF_UNSET_SIZE;
    alcf->upstream.hide_headers = NGX_CONF_UNSET_PTR;
    alcf->upstream.pass_headers = NGX_CONF_UNSET_PTR;
    alcf->keepalive = NGX_CONF_UNSET_UINT;
    alcf->ssl_verify = NGX_CONF_UNSET;

    /*
     * set by ngx_pcalloc(), and meant: buffering, intercept_errors,
     * ignore_client_abort and store off; no local address.
     */
}


char *
ngx_http_airouter_proxy_merge_conf(ngx_conf_t *cf,
    ngx_http_airouter_loc_conf_t *prev, ngx_http_airouter_loc_conf_t *conf)
{
    ngx_hash_init_t                  hash;
    airouter_config_t               *acf;
    ngx_http_airouter_proxy_conf_t  *pcf;
    ngx_http_airouter_main_conf_t   *amcf;
    ngx_http_airouter_proxy_main_t  *pm;

    ngx_conf_merge_msec_value(conf->upstream.connect_timeout,
                              prev->upstream.connect_timeout, 10000);
    ngx_conf_merge_msec_value(conf->upstream.send_timeout,
                              prev->upstream.send_timeout, 60000);
    ngx_conf_merge_msec_value(conf->upstream.read_timeout,
                              prev->upstream.read_timeout, 300000);
    ngx_conf_merge_size_value(conf->upstream.buffer_size,
                              prev->upstream.buffer_size, 32 * 1024);
    ngx_conf_merge_uint_value(conf->keepalive, prev->keepalive, 32);
    ngx_conf_merge_value(conf->ssl_verify, prev->ssl_verify, 1);
    ngx_conf_merge_str_value(conf->ssl_trusted_certificate,
                             prev->ssl_trusted_certificate,
                             "/etc/ssl/certs/ca-certificates.crt");

    hash.max_size = 512;
    hash.bucket_size = ngx_align(64, ngx_cacheline_size);
    hash.name = "airouter_headers_hash";

    if (ngx_http_upstream_hide_headers_hash(cf, &conf->upstream,
            &prev->upstream, ngx_http_airouter_hide_headers, &hash)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_airouter_module);

    if (conf->role != NGX_HTTP_AIROUTER_ROLE_API || amcf->config == NULL) {
        return NGX_CONF_OK;
    }

    if (amcf->proxy == NULL
        && ngx_http_airouter_proxy_channels(cf, amcf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    acf = amcf->config;
    pm = amcf->proxy;

    pcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_airouter_proxy_conf_t));
    if (pcf == NULL) {
        return NGX_CONF_ERROR;
    }

    pcf->uscf.peer.init = ngx_http_airouter_proxy_peer_init;
    ngx_str_set(&pcf->uscf.host, "airouter");
    pcf->max_cached = conf->keepalive;

    conf->upstream.upstream = &pcf->uscf;
    ngx_str_set(&conf->upstream.module, "airouter");

    /* the try budget is peer.tries (ngx_http_airouter_proxy_peer_init) */
    conf->upstream.next_upstream = NGX_HTTP_UPSTREAM_FT_ERROR
                                   |NGX_HTTP_UPSTREAM_FT_TIMEOUT
                                   |NGX_HTTP_UPSTREAM_FT_INVALID_HEADER
                                   |NGX_HTTP_UPSTREAM_FT_HTTP_500
                                   |NGX_HTTP_UPSTREAM_FT_HTTP_502
                                   |NGX_HTTP_UPSTREAM_FT_HTTP_503
                                   |NGX_HTTP_UPSTREAM_FT_HTTP_504
                                   |NGX_HTTP_UPSTREAM_FT_HTTP_403
                                   |NGX_HTTP_UPSTREAM_FT_HTTP_404
                                   |NGX_HTTP_UPSTREAM_FT_HTTP_429
                                   |NGX_HTTP_UPSTREAM_FT_NON_IDEMPOTENT;
    conf->upstream.next_upstream_tries = 0;
    conf->upstream.next_upstream_timeout =
                             (ngx_msec_t) acf->routing.request_deadline * 1000;

    pm->max_tries = acf->routing.enable_fallback
                    ? (ngx_uint_t) ngx_max(acf->routing.max_retry_attempts, 1)
                    : 1;

#if (NGX_HTTP_SSL)
    if (ngx_http_airouter_proxy_set_ssl(cf, conf, pcf, amcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }
#endif

    conf->proxy = pcf;

    return NGX_CONF_OK;
}


#if (NGX_HTTP_SSL)

/*
 * As ngx_http_proxy_set_ssl(): one client context for every channel; none
 * (and no CA bundle read) when no channel the proxy can reach is https.
 */
static ngx_int_t
ngx_http_airouter_proxy_set_ssl(ngx_conf_t *cf,
    ngx_http_airouter_loc_conf_t *conf, ngx_http_airouter_proxy_conf_t *pcf,
    ngx_http_airouter_main_conf_t *amcf)
{
    ngx_uint_t                       i;
    ngx_http_airouter_proxy_main_t  *pm;

    pm = amcf->proxy;

    for (i = 0; i < amcf->config->nchannels; i++) {
        if (pm->channels[i].ep->https && pm->channels[i].ep->error == NULL) {
            break;
        }
    }

    if (i == amcf->config->nchannels) {
        return NGX_OK;
    }

    pcf->ssl = ngx_http_airouter_ssl_client(cf, conf->ssl_verify,
                                            &conf->ssl_trusted_certificate);
    if (pcf->ssl == NULL) {
        return NGX_ERROR;
    }

    if (ngx_ssl_client_session_cache(cf, pcf->ssl, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    conf->upstream.ssl = pcf->ssl;
    conf->upstream.ssl_server_name = 1;
    conf->upstream.ssl_verify = conf->ssl_verify;
    conf->upstream.ssl_session_reuse = 1;

    return NGX_OK;
}

#endif


static ngx_int_t
ngx_http_airouter_proxy_channels(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf)
{
    size_t                           i;
    airouter_config_t               *acf;
    ngx_http_airouter_proxy_main_t  *pm;

    acf = amcf->config;

    pm = ngx_pcalloc(cf->pool, sizeof(ngx_http_airouter_proxy_main_t));
    if (pm == NULL) {
        return NGX_ERROR;
    }

    pm->channels = ngx_pcalloc(cf->pool, (acf->nchannels ? acf->nchannels : 1)
                                         * sizeof(ngx_http_airouter_channel_t));
    if (pm->channels == NULL) {
        return NGX_ERROR;
    }

    airouter_outcome_table_init(&pm->outcomes, &acf->routing.errors,
                                acf->routing.error_cooldown_period);

    for (i = 0; i < acf->nchannels; i++) {
        pm->channels[i].ep = &pm->none;

        if (!acf->channels[i].enabled || acf->channels[i].base_url == NULL) {
            continue;
        }

        if (ngx_http_airouter_proxy_channel(cf, amcf, i, &pm->channels[i])
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    amcf->proxy = pm;

    /* ranking, /health and the stats API skip a channel without address */
    return ngx_http_airouter_live_on_reachable(cf, amcf,
                                       ngx_http_airouter_proxy_reachable);
}


static ngx_uint_t
ngx_http_airouter_proxy_reachable(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel)
{
    ngx_http_airouter_proxy_main_t  *pm;

    pm = amcf->proxy;

    return channel >= amcf->config->nchannels
           || pm->channels[channel].ep->addr != NULL;
}


/* The endpoint of channel i, and the keys masked in what it answers. */
static ngx_int_t
ngx_http_airouter_proxy_channel(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t i,
    ngx_http_airouter_channel_t *pc)
{
    size_t                     k, len;
    const airouter_channel_t  *ch;

    ch = &amcf->config->channels[i];

    pc->ep = ngx_http_airouter_endpoint(cf, amcf, i);
    if (pc->ep == NULL) {
        return NGX_ERROR;
    }

    if (ch->api_keys.n == 0) {
        return NGX_OK;
    }

    pc->secrets = ngx_palloc(cf->pool, ch->api_keys.n * sizeof(ngx_str_t));
    if (pc->secrets == NULL) {
        return NGX_ERROR;
    }

    for (k = 0; k < ch->api_keys.n; k++) {
        len = ngx_strlen(ch->api_keys.items[k]);

        if (len >= NGX_HTTP_AIROUTER_SCRUB_MIN) {
            pc->secrets[pc->nsecrets].data = (u_char *) ch->api_keys.items[k];
            pc->secrets[pc->nsecrets++].len = len;
        }
    }

    return NGX_OK;
}
