/*
 * Client dialects: the wire formats a client may speak besides OpenAI chat
 * (Anthropic Messages, OpenAI Responses, Gemini generateContent) and the
 * translation of requests, whole answers, SSE streams, errors and usage
 * between each of them and OpenAI chat, which every OpenAI-compatible
 * channel speaks.  A native Anthropic channel is reached the other way:
 * chat requests become Messages requests, its answers become chat.
 *
 * The dialects are listed once, in AIROUTER_DIALECTS; each has a table of
 * function pointers (airouter_dialect_impl.h) in a file of its own
 * (airouter_dialect_<name>.c).  Every translation goes through chat and
 * through one event model: an upstream answer (whole or streamed) is read
 * into events (start, text, reasoning, tool call, arguments, finish,
 * usage, done, error), and the client's dialect writes them out.  So a
 * Responses client on a native Anthropic channel costs no extra code.
 *
 * Pure C (jansson, libc allocation owned here).  Called by the API handler
 * (requests, errors, count_tokens) and by the proxy (answers, streams,
 * usage); nothing here knows about routing.
 */

#ifndef AIROUTER_DIALECT_H
#define AIROUTER_DIALECT_H

#include <stddef.h>

#include <jansson.h>

#include "airouter_config.h"
#include "airouter_sse.h"


/* the Messages API version a native Anthropic channel is asked for */
#define AIROUTER_DIALECT_ANTHROPIC_VERSION  "2023-06-01"


/*
 * The dialects: X(ID, name, "wire name").  OPENAI is chat completions,
 * the router's own dialect, which needs no translation.
 */
#define AIROUTER_DIALECTS(X)                                                  \
    X(OPENAI,    openai,    "openai")                                         \
    X(ANTHROPIC, anthropic, "anthropic")                                      \
    X(RESPONSES, responses, "responses")                                      \
    X(GEMINI,    gemini,    "gemini")

typedef enum {
#define AIROUTER_DIALECT_ENUM(id, name, wire)  AIROUTER_DIALECT_##id,
    AIROUTER_DIALECTS(AIROUTER_DIALECT_ENUM)
#undef AIROUTER_DIALECT_ENUM
    AIROUTER_DIALECT_N
} airouter_dialect_e;


/* A growing byte buffer (malloc); failed is set when memory ran out. */
typedef struct {
    char                     *data;
    size_t                    len;
    size_t                    cap;
    int                       failed;
} airouter_dbuf_t;


/* Why a request cannot be translated: what the client is told. */
typedef struct {
    int                       status;       /* HTTP status, 400 */
    const char               *type;         /* "invalid_request_error" */
    const char               *code;         /* "unsupported_parameter" */
    char                      message[256];
} airouter_derr_t;


/*
 * What the translation of one request keeps for its answer.  The caller
 * fills id (the base of the ids the answer carries: letters and digits),
 * created (unix seconds) and max_tokens (what a Messages upstream gets
 * when a chat request sets none) before translating the request; the
 * request translation fills the rest.  airouter_dctx_free() releases
 * echo.
 */
typedef struct {
    airouter_dialect_e        client;
    char                      id[40];
    long                      created;
    long                      max_tokens;
    json_t                   *echo;         /* Responses: the request's
                                               settings its response
                                               object repeats */
    unsigned                  stream:1;
    unsigned                  thoughts:1;   /* Gemini includeThoughts */
    unsigned                  count:1;      /* set by the caller: a token
                                               count (Messages: no
                                               max_tokens needed) */
    unsigned                  embed:1;      /* set by the caller: an
                                               embedding request (Gemini's
                                               embedContent), translated
                                               to an OpenAI embeddings
                                               request, its answer back */
    unsigned                  batch:1;      /* ... batchEmbedContents */
} airouter_dctx_t;


/* A usage read from any dialect, in the router's terms. */
typedef struct {
    airouter_usage_t          u;            /* prompt tokens include cache
                                               reads and writes;
                                               completion tokens include
                                               reasoning */
    long                      reasoning;    /* -1: unknown */
} airouter_dusage_t;


/*
 * What a request's path says: the dialect it speaks, and for Gemini the
 * model and whether it streams (both are in the URL).
 */
typedef struct {
    airouter_dialect_e        dialect;
    unsigned                  count:1;      /* .../messages/count_tokens,
                                               Gemini's :countTokens */
    unsigned                  stream:1;     /* :streamGenerateContent */
    unsigned                  embed:1;      /* :embedContent,
                                               :batchEmbedContents */
    unsigned                  batch:1;      /* :batchEmbedContents */
    size_t                    model;        /* Gemini: offset of the model
                                               in the path ... */
    size_t                    model_len;    /* ... and its length */
} airouter_droute_t;


typedef struct airouter_dstream_s  airouter_dstream_t;


const char *airouter_dialect_name(airouter_dialect_e d);

/* How a client of dialect d sends its key (the headers and the query
 * parameter the router reads on its paths), for a 401's message. */
const char *airouter_dialect_key_hint(airouter_dialect_e d);

/* The dialect called name (n bytes), or -1. */
int airouter_dialect_by_name(const char *name, size_t n);

/* 1 when channels speaking d can be reached (its requests written, its
 * answers and streams read): openai and anthropic. */
int airouter_dialect_upstream(airouter_dialect_e d);

/*
 * The dialect route a (decoded) request path names, wherever the API is
 * mounted: .../v1/messages, .../v1/messages/count_tokens,
 * .../v1/responses, .../v1beta/models/{model}:generateContent,
 * :streamGenerateContent or :countTokens (count set), :embedContent or
 * :batchEmbedContents (embed set; batch for the second) ({model} may hold
 * "/" and ":"; also under /v1/ and /v1alpha/).  Returns 1 with *rt filled,
 * 0 for anything else (chat and the router's own URLs).
 */
int airouter_dialect_route(const char *path, size_t n, airouter_droute_t *rt);

/*
 * The dialect a client on this path speaks, for its key headers and its
 * errors' shape: a route's, Gemini for any other path under a Gemini
 * version segment (".../v1beta", ".../v1alpha": models.list, models.get,
 * a method the router does not serve), else openai.
 */
airouter_dialect_e airouter_dialect_of_path(const char *path, size_t n);

/*
 * Gemini's model listing: 1 for .../v1beta/models (models.list), 2 for
 * .../v1beta/models/{model} (models.get; *model and *model_len: the
 * name's offset and length in path; it may hold '/' but no ':'), 0 for
 * anything else.  /v1alpha as /v1beta; never /v1/models (OpenAI's).
 */
int airouter_dialect_gemini_models(const char *path, size_t n, size_t *model,
    size_t *model_len);

/*
 * How a channel's key travels: *header: *prefix<key>, for the proxy and
 * discovery alike: "Authorization: Bearer " by default, "x-api-key: " for
 * a native Anthropic channel, the provider's auth_header when its
 * auth_type says so; *version: the anthropic-version a native Anthropic
 * channel wants (NULL for others).
 */
void airouter_dialect_auth(const airouter_channel_t *ch, const char **header,
    const char **prefix, const char **version);

void airouter_dctx_init(airouter_dctx_t *ctx, airouter_dialect_e client);
void airouter_dctx_free(airouter_dctx_t *ctx);


/*
 * A client request in dialect from becomes one in dialect to (openai or
 * anthropic), through chat.  req is not changed; *out is a new tree.
 * Returns 0, or -1 with err filled (the client's mistake, or something
 * the router cannot express: a 400 in the client's dialect).
 */
int airouter_dialect_request(airouter_dialect_e from, airouter_dialect_e to,
    json_t *req, airouter_dctx_t *ctx, json_t **out, airouter_derr_t *err);

/*
 * A whole upstream answer in dialect from, written in dialect to into out;
 * its usage into *usage when not NULL.  Returns 0, or -1 when the text is
 * not an answer of dialect from (out untouched), or memory ran out.
 */
int airouter_dialect_answer(airouter_dialect_e from, airouter_dialect_e to,
    const airouter_dctx_t *ctx, const char *p, size_t n,
    airouter_dbuf_t *out, airouter_dusage_t *usage);

/*
 * An upstream SSE stream in dialect from becomes one in dialect to (or,
 * with to == AIROUTER_DIALECT_N, is only read for its usage: the only way
 * a Responses stream, passed through, is read).  Feed it
 * the upstream's bytes cut anywhere; each call appends the client's bytes
 * to out.  finish() is called once when the upstream stops: a complete
 * stream gets its closing events if they are not out yet, an incomplete
 * one ends with the dialect's error event carrying message.  ctx must
 * outlive the stream.  create() returns NULL when memory runs out or the
 * pair has no translation.
 */
airouter_dstream_t *airouter_dstream_create(airouter_dialect_e from,
    airouter_dialect_e to, const airouter_dctx_t *ctx);
void airouter_dstream_feed(airouter_dstream_t *s, const char *p, size_t n,
    airouter_dbuf_t *out);
void airouter_dstream_finish(airouter_dstream_t *s, const char *message,
    airouter_dbuf_t *out);
/* 1 when the upstream said it was complete (or finish() found it so),
 * -1 when the stream ended in an error, 0 while it runs. */
int airouter_dstream_state(const airouter_dstream_t *s);
/* The last usage the upstream reported: 1, or 0 when none yet. */
int airouter_dstream_usage(const airouter_dstream_t *s,
    airouter_dusage_t *usage);
void airouter_dstream_destroy(airouter_dstream_t *s);

/*
 * An error body in dialect d for the client: status picks the dialect's
 * error type where it has its own names; type and code are OpenAI's (the
 * router's own errors), message is the text.  An SSE error event when
 * stream is set (what ends a stream after its first byte).
 */
void airouter_dialect_error(airouter_dialect_e d, int status,
    const char *type, const char *code, const char *message, int stream,
    airouter_dbuf_t *out);

/*
 * An upstream's error body in dialect from, rewritten in dialect to;
 * a body that cannot be read becomes a generic error for status.
 */
void airouter_dialect_error_translate(airouter_dialect_e from,
    airouter_dialect_e to, int status, const char *p, size_t n,
    airouter_dbuf_t *out);

/* The usage of a whole answer in dialect d: 1 found, 0 none. */
int airouter_dialect_usage(airouter_dialect_e d, const char *p, size_t n,
    airouter_dusage_t *usage);

/* Fills err as a 400 invalid_request_error with code; returns -1. */
int airouter_derr_set(airouter_derr_t *err, const char *code,
    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/*
 * 1 when an anthropic-beta header value is a list of beta names (letters,
 * digits, '-', '_', '.', separated by commas and spaces), at most 1024
 * bytes: what may be passed on to a native Anthropic channel.
 */
int airouter_dialect_beta_ok(const char *p, size_t n);

/*
 * A token count's answer: Gemini's countTokens ({"totalTokens"}), else
 * Anthropic's count_tokens ({"input_tokens"}).
 */
void airouter_dialect_count_answer(airouter_dialect_e d, long tokens,
    airouter_dbuf_t *out);


void airouter_dbuf_init(airouter_dbuf_t *b);
void airouter_dbuf_free(airouter_dbuf_t *b);
int airouter_dbuf_add(airouter_dbuf_t *b, const void *p, size_t n);
int airouter_dbuf_str(airouter_dbuf_t *b, const char *s);
/* p as a JSON string, quotes included */
int airouter_dbuf_quote(airouter_dbuf_t *b, const char *p, size_t n);
int airouter_dbuf_long(airouter_dbuf_t *b, long v);
/* j in compact JSON */
int airouter_dbuf_json(airouter_dbuf_t *b, const json_t *j);

#endif /* AIROUTER_DIALECT_H */
