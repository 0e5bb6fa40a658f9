/*
 * The per-request context of the `airouter` location: what the API handler
 * learned from the client's body and the ranked candidates that the proxy
 * tries one after another.  Filled by ngx_http_airouter_api.c, consumed by
 * the proxy (ngx_http_airouter_proxy*.c), which writes its result back;
 * read by the stats' log phase and the $airouter_* variables.
 */

#ifndef NGX_HTTP_AIROUTER_REQUEST_H
#define NGX_HTTP_AIROUTER_REQUEST_H

#include <jansson.h>

#include "ngx_http_airouter_module.h"
#include "airouter_controls.h"
#include "airouter_jscan.h"
#include "airouter_rank.h"


/*
 * The API's endpoints, once: X(suffix, name, rank endpoint).  The name is
 * the live state's scope name and what explain's "endpoint" takes; the
 * rank endpoint says which kind of model serves it (airouter_rank.h).
 * The paths that reach each one are ngx_http_airouter_api.c's table.
 */
#define NGX_HTTP_AIROUTER_ENDPOINTS(X)                                        \
    X(CHAT, "chat", AIROUTER_ENDPOINT_CHAT)                                   \
    X(COMPLETIONS, "completions", AIROUTER_ENDPOINT_COMPLETION)               \
    X(EMBEDDINGS, "embeddings", AIROUTER_ENDPOINT_EMBEDDING)                  \
    X(RERANK, "rerank", AIROUTER_ENDPOINT_RERANK)                             \
    X(IMAGES, "images", AIROUTER_ENDPOINT_IMAGE)                              \
    X(SPEECH, "speech", AIROUTER_ENDPOINT_SPEECH)                             \
    X(TRANSCRIPTIONS, "transcriptions", AIROUTER_ENDPOINT_TRANSCRIPTION)      \
    X(MODERATIONS, "moderations", AIROUTER_ENDPOINT_MODERATION)

#define NGX_HTTP_AIROUTER_EP_ENUM(suffix, name, rank)                         \
    NGX_HTTP_AIROUTER_EP_ ## suffix,

typedef enum {
    NGX_HTTP_AIROUTER_ENDPOINTS(NGX_HTTP_AIROUTER_EP_ENUM)
    NGX_HTTP_AIROUTER_EP_N
} ngx_http_airouter_endpoint_e;

#undef NGX_HTTP_AIROUTER_EP_ENUM


/* The endpoint's name ("rerank"). */
static ngx_inline const char *
ngx_http_airouter_endpoint_name(ngx_http_airouter_endpoint_e ep)
{
#define NGX_HTTP_AIROUTER_EP_NAME(suffix, name, rank)  name,
    static const char  *names[] = {
        NGX_HTTP_AIROUTER_ENDPOINTS(NGX_HTTP_AIROUTER_EP_NAME)
    };
#undef NGX_HTTP_AIROUTER_EP_NAME

    return (ngx_uint_t) ep < NGX_HTTP_AIROUTER_EP_N ? names[ep] : "unknown";
}


/* The routing brain's endpoint: which kind of model may serve ep. */
static ngx_inline airouter_endpoint_e
ngx_http_airouter_endpoint_rank(ngx_http_airouter_endpoint_e ep)
{
#define NGX_HTTP_AIROUTER_EP_RANK(suffix, name, rank)  rank,
    static const airouter_endpoint_e  ranks[] = {
        NGX_HTTP_AIROUTER_ENDPOINTS(NGX_HTTP_AIROUTER_EP_RANK)
    };
#undef NGX_HTTP_AIROUTER_EP_RANK

    return (ngx_uint_t) ep < NGX_HTTP_AIROUTER_EP_N ? ranks[ep]
                                                    : AIROUTER_ENDPOINT_CHAT;
}


/* The endpoint a name says (explain's "endpoint"); NGX_ERROR for none. */
static ngx_inline ngx_int_t
ngx_http_airouter_endpoint_by_name(const u_char *name, size_t len)
{
    ngx_uint_t  ep;

    for (ep = 0; ep < NGX_HTTP_AIROUTER_EP_N; ep++) {
        if (ngx_strlen(ngx_http_airouter_endpoint_name(ep)) == len
            && ngx_strncmp(ngx_http_airouter_endpoint_name(ep), name, len)
               == 0)
        {
            return (ngx_int_t) ep;
        }
    }

    return NGX_ERROR;
}


/*
 * One routable (channel, model) pair, copied out of the catalogue into the
 * request pool: a catalogue swap during a long stream cannot pull it away.
 */
typedef struct {
    ngx_uint_t                   channel;      /* index in config->channels */
    ngx_uint_t                   entry;        /* catalogue entry index */
    ngx_str_t                    model;        /* the channel's model id */
    double                       score;
    double                       price_prompt;     /* per token, USD */
    double                       price_completion;
    double                       price_cache_read; /* -1: unknown, the
                                                      prompt price */
    double                       price_cache_write;
    airouter_unit_price_t        price_unit;   /* USD per request, image,
                                                  second, character; -1:
                                                  unknown */
    uint32_t                     keys;         /* which of the channel's
                                                  keys list the model
                                                  (bit k), 0: every key */
} ngx_http_airouter_candidate_t;


/*
 * What the proxy made of the request.  The proxy writes it here whenever
 * a reader may look next (its start, the answer's head leaving, the end of
 * the upstream: ngx_http_airouter_proxy_publish), and the stats' log phase
 * and the $airouter_* variables read it here: they never call the proxy.
 */
typedef struct {
    ngx_str_t                    channel;      /* id of the channel that
                                                  answered, empty if none */
    ngx_str_t                    model;        /* its model id */
    ngx_str_t                    status;       /* "ok", a fault name,
                                                  "client_closed" or
                                                  "no_candidate" */
    ngx_int_t                    key;          /* index in the channel's
                                                  api_keys of the last try,
                                                  -1: one key or none */
    ngx_msec_t                   ttfb;         /* the answer's first byte,
                                                  ms after its try began;
                                                  -1: none */
    unsigned                     proxied:1;    /* the proxy ran: the fields
                                                  above are set */
} ngx_http_airouter_result_t;


typedef struct {
    ngx_http_airouter_main_conf_t  *amcf;

    /* the caller's API key (ngx_http_airouter_auth.c); NULL: auth off */
    const airouter_apikey_t     *key;

    json_t                      *body;         /* the client's JSON body */
    ngx_str_t                    raw;          /* ... and its bytes */
    /* a plain request's body as one scan read it (body stays NULL until
     * a try needs the tree); its spans are raw's, also after "hedge" was
     * cut out of it (the proxy splices the model by them).  NULL: the
     * tree's path */
    airouter_jscan_t            *scan;
    ngx_http_airouter_endpoint_e endpoint;
    /* the live block scope of the URL when it is not the endpoint's
     * (image edits/variations, audio translations; 0: the endpoint's) */
    ngx_uint_t                   scope;
    ngx_str_t                    api_path;     /* "/v1/chat/completions" */
    ngx_str_t                    requested;    /* the client's "model" */
    ngx_str_t                    strategy;
    unsigned                     stream:1;
    unsigned                     explain:1;    /* POST /v1/route */
    unsigned                     count:1;      /* .../messages/count_tokens */
    unsigned                     refused:1;    /* 429 before routing */
    unsigned                     hedge:1;      /* may be hedged: the API
                                                  handler's decision */
    ngx_int_t                    hedge_asked;  /* the body's "hedge": -1
                                                  absent, 0 false, 1 true */

    unsigned                     no_model:1;   /* "models" alone: requested
                                                  is its first entry */

    /* a multipart/form-data body (/v1/audio/transcriptions, /translations,
     * /v1/images/edits, /variations): never parsed as JSON nor copied;
     * the client's bytes go to each try with the model field's value,
     * [form_model_start, form_model_end) in the body, replaced
     * (ngx_http_airouter_form.c reads it, proxy_build splices it) */
    unsigned                     form:1;
    off_t                        form_len;
    off_t                        form_model_start;
    off_t                        form_model_end;

    /* the request's routing controls ("models", "provider"), taken out
     * of the body before any upstream sees it; NULL: none */
    airouter_controls_t         *controls;

    ngx_array_t                  candidates;   /* ngx_http_airouter_candidate_t */
    ngx_uint_t                   attempts;

    /* results, for X-Router-* headers and $airouter_* variables */
    ngx_http_airouter_result_t   result;       /* the proxy's */
    ngx_str_t                    fallbacks;    /* "chan:reason, ..." */
    ngx_uint_t                   upstream_status;
    ngx_int_t                    prompt_tokens;    /* -1: unknown */
    ngx_int_t                    completion_tokens;
    ngx_int_t                    cached_tokens;    /* of prompt_tokens,
                                                      -1: not said */
    double                       cost;             /* -1: unknown */
    unsigned                     usage_counted:1;  /* by us, not upstream */

    /*
     * The units the endpoint's price per unit counts: the images asked
     * ("n", then the answer's "data"), the characters of a speech input,
     * the seconds a transcription heard (the answer's, -1: it said none).
     */
    ngx_uint_t                   units_images;
    ngx_uint_t                   units_characters;
    double                       units_seconds;

    /* hedging (ngx_http_airouter_proxy_hedge.c): a hedge started (0, 1),
     * the answer came from it (0, 1), and what the loser's prompt cost
     * (routing.hedging.bill_loser), in cost once the answer is priced */
    ngx_int_t                    hedges;
    ngx_int_t                    hedge_wins;
    double                       hedge_cost;

    /* the prompt's size as the API handler counted it (tokenizer or
     * estimate): the usage of an answer that reports none */
    ngx_uint_t                   prompt_counted;

    /* what the request's worst case holds on its budgets until the log
     * phase settles it (ngx_http_airouter_stats_reserve) */
    double                       reserved;         /* USD, 0: none */
    uint32_t                     reserved_day;

    void                        *proxy;        /* ngx_http_airouter_proxy.c */

    /* the client's dialect (ngx_http_airouter_dialect_t), NULL: chat */
    void                        *dialect;
} ngx_http_airouter_ctx_t;

#endif /* NGX_HTTP_AIROUTER_REQUEST_H */
