/*
 * Inside the dialect translators (airouter_dialect*.c only): the event
 * model every answer is read into, the accumulator that turns events back
 * into a whole answer, the SSE reader, the per-dialect table of function
 * pointers, and small helpers the dialect files share.
 *
 * An answer, whole or streamed, in any dialect, is this sequence:
 *
 *   START (id, model)
 *   { TEXT | REASONING | TOOL (index, id, name) | ARGS (index) }
 *   FINISH (why) and USAGE, in either order, each at most once
 *   DONE, or ERROR (at any point; nothing follows it)
 *
 * Readers (parse_answer, parse_event) produce it from an upstream's
 * answer; writers (a dialect's sink for streams, its answer() for whole
 * answers) consume it.
 */

#ifndef AIROUTER_DIALECT_IMPL_H
#define AIROUTER_DIALECT_IMPL_H

#include "airouter_dialect.h"


typedef enum {
    AIROUTER_FINISH_NONE = 0,
    AIROUTER_FINISH_STOP,
    AIROUTER_FINISH_LENGTH,
    AIROUTER_FINISH_TOOLS,
    AIROUTER_FINISH_FILTER
} airouter_finish_e;


typedef enum {
    AIROUTER_DEV_START = 0,
    AIROUTER_DEV_TEXT,
    AIROUTER_DEV_REASONING,
    AIROUTER_DEV_TOOL,
    AIROUTER_DEV_ARGS,
    AIROUTER_DEV_FINISH,
    AIROUTER_DEV_USAGE,
    AIROUTER_DEV_DONE,
    AIROUTER_DEV_ERROR
} airouter_dev_kind_e;


typedef struct {
    airouter_dev_kind_e       kind;
    long                      index;    /* TOOL, ARGS: the tool call */
    const char               *id;       /* START, TOOL; "" when none */
    const char               *name;     /* START: model; TOOL: function */
    const char               *data;     /* TEXT, REASONING, ARGS, ERROR */
    size_t                    len;
    airouter_finish_e         finish;   /* FINISH */
    const airouter_dusage_t  *usage;    /* USAGE */
    int                       status;   /* ERROR: HTTP status, 0 unknown */
    const char               *etype;    /* ERROR: the upstream's type */
} airouter_dev_t;


typedef struct airouter_dsink_s  airouter_dsink_t;

struct airouter_dsink_s {
    void                    (*event)(airouter_dsink_t *k,
                                     const airouter_dev_t *ev);
    void                    (*destroy)(airouter_dsink_t *k);
    airouter_dbuf_t          *out;      /* where a stream sink writes */
    const airouter_dctx_t    *ctx;
};


/* A whole answer, gathered from events. */
enum {
    AIROUTER_DBLOCK_TEXT = 0,
    AIROUTER_DBLOCK_REASONING,
    AIROUTER_DBLOCK_TOOL
};

typedef struct {
    int                       kind;
    long                      index;    /* TOOL: the reader's index */
    char                     *id;
    char                     *name;
    airouter_dbuf_t           data;     /* text, reasoning or arguments */
} airouter_dblock_t;

typedef struct {
    airouter_dsink_t          sink;     /* first: it is a sink */
    char                     *id;
    char                     *model;
    airouter_dblock_t        *blocks;
    size_t                    nblocks;
    size_t                    cap;
    airouter_finish_e         finish;
    airouter_dusage_t         usage;
    unsigned                  has_usage:1;
    unsigned                  started:1;
    unsigned                  done:1;
    unsigned                  error:1;
    unsigned                  failed:1; /* memory ran out */
    int                       status;
    char                     *etype;
    char                     *message;
} airouter_danswer_t;


/* What a reader keeps between the events of one stream. */
typedef struct {
    long                      key;      /* chat: tool index; Messages:
                                           content block index */
    int                       kind;     /* AIROUTER_DBLOCK_* */
    long                      tool;     /* the tool index it maps to */
} airouter_dmap_t;

typedef struct {
    unsigned                  started:1;
    unsigned                  finished:1;   /* FINISH sent */
    unsigned                  done:1;       /* DONE or ERROR sent */
    airouter_dmap_t          *map;
    size_t                    nmap;
    size_t                    cap;
    long                      ntools;
    airouter_dusage_t         usage;        /* Messages: message_start's */
    int                       has_usage;
} airouter_dparse_t;


/* The per-dialect table; NULL where the dialect has no such side. */
typedef struct {
    const char               *name;

    /* how its clients send their key, for a 401's message */
    const char             *key_hint;

    /* client side: its requests to chat; chat answers, streams and
     * errors written in it */
    int                     (*to_chat)(json_t *req, airouter_dctx_t *ctx,
                                       json_t **chat, airouter_derr_t *err);
    void                    (*answer)(const airouter_danswer_t *a,
                                      const airouter_dctx_t *ctx,
                                      airouter_dbuf_t *out);
    airouter_dsink_t       *(*sink)(const airouter_dctx_t *ctx);
    void                    (*error)(int status, const char *type,
                                     const char *code, const char *message,
                                     int stream, airouter_dbuf_t *out);
    int                     (*usage)(json_t *root, airouter_dusage_t *u);

    /* upstream side: chat requests to it; its answers, events and errors
     * read */
    int                     (*from_chat)(json_t *chat,
                                         const airouter_dctx_t *ctx,
                                         json_t **req, airouter_derr_t *err);
    int                     (*parse_answer)(json_t *root,
                                            const airouter_dctx_t *ctx,
                                            airouter_dsink_t *k);
    void                    (*parse_event)(airouter_dparse_t *ps,
                                           const char *event, size_t elen,
                                           const char *p, size_t n,
                                           const airouter_dctx_t *ctx,
                                           airouter_dsink_t *k);
    int                     (*parse_error)(json_t *root, const char **type,
                                           const char **code,
                                           const char **message);

    /* client side, embedding requests (ctx->embed): an OpenAI
     * embeddings answer written in it; -1: not such an answer */
    int                     (*embed_answer)(json_t *root,
                                            const airouter_dctx_t *ctx,
                                            airouter_dbuf_t *out);
} airouter_dialect_ops_t;


#define AIROUTER_DIALECT_DECLARE(id, name, wire)                              \
    extern const airouter_dialect_ops_t  airouter_dialect_##name;
AIROUTER_DIALECTS(AIROUTER_DIALECT_DECLARE)
#undef AIROUTER_DIALECT_DECLARE


/* Event helpers for readers. */
void airouter_dev_start(airouter_dparse_t *ps, airouter_dsink_t *k,
    const char *id, const char *model);
void airouter_dev_text(airouter_dsink_t *k, airouter_dev_kind_e kind,
    const char *p, size_t n);
void airouter_dev_tool(airouter_dsink_t *k, long index, const char *id,
    const char *name);
void airouter_dev_args(airouter_dsink_t *k, long index, const char *p,
    size_t n);
void airouter_dev_finish(airouter_dparse_t *ps, airouter_dsink_t *k,
    airouter_finish_e why);
void airouter_dev_usage(airouter_dsink_t *k, const airouter_dusage_t *u);
void airouter_dev_done(airouter_dparse_t *ps, airouter_dsink_t *k);
void airouter_dev_error(airouter_dparse_t *ps, airouter_dsink_t *k,
    int status, const char *etype, const char *message);

/* The reader's map: the entry for key, added when add is set. */
airouter_dmap_t *airouter_dparse_map(airouter_dparse_t *ps, long key,
    int add);


/* The accumulator. */
void airouter_danswer_init(airouter_danswer_t *a, const airouter_dctx_t *ctx);
void airouter_danswer_free(airouter_danswer_t *a);


/* JSON helpers. */
const char *airouter_dj_str(json_t *obj, const char *key);
/* obj[key], or obj[alt] when key is absent (Gemini takes both spellings) */
json_t *airouter_dj_get2(json_t *obj, const char *key, const char *alt);
/* Text blocks' "text" (or a string) joined with sep; NULL: not text. */
json_t *airouter_dj_join_text(json_t *v, const char *sep);
/* "data:<mime>;base64,<data>" */
json_t *airouter_dj_data_url(const char *mime, const char *data);
/* Splits a data URL; 1 when url is one (*mime, *data point into it). */
int airouter_dj_parse_data_url(const char *url, const char **mime,
    size_t *mime_len, const char **data);
/* The arguments text as an object: NULL when it is not one ("" is {}) */
json_t *airouter_dj_args_object(const char *p, size_t n);

/* Usage from chat's usage object (with reasoning tokens). */
int airouter_dusage_from_chat(json_t *usage, airouter_dusage_t *u);
void airouter_dusage_init(airouter_dusage_t *u);


/* An SSE event: "event: name\n" when name is set, "data: " + json,
 * then the blank line. */
void airouter_dsse_event(airouter_dbuf_t *out, const char *name,
    const json_t *data);

/* The finish reason's words. */
const char *airouter_finish_chat(airouter_finish_e f);
airouter_finish_e airouter_finish_from_chat(const char *s);

#endif /* AIROUTER_DIALECT_IMPL_H */
