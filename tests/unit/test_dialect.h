/*
 * What the dialect tests share (tests/unit/test_dialect*.c): JSON from
 * text, streams run whole, byte by byte and cut at every point, the SSE
 * the translators write read back into events, and the check of requests
 * a dialect refuses.
 */

#ifndef AIROUTER_TEST_DIALECT_H
#define AIROUTER_TEST_DIALECT_H

#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "airouter_dialect.h"


#define TD_MAX_EVENTS  256


typedef struct {
    char                      name[64];     /* "" when no event: line */
    json_t                   *data;         /* NULL when not JSON */
    char                     *raw;
} td_event_t;


typedef struct {
    td_event_t                ev[TD_MAX_EVENTS];
    size_t                    n;
} td_events_t;


static inline json_t *
tj(const char *text)
{
    json_t        *j;
    json_error_t   e;

    j = json_loads(text, 0, &e);
    if (j == NULL) {
        fprintf(stderr, "test JSON does not parse: %s: %s\n", e.text, text);
        abort();
    }

    return j;
}


/* a dbuf's text, NUL-terminated (malloc'd) */
static inline char *
td_text(const airouter_dbuf_t *b)
{
    char  *s;

    s = malloc(b->len + 1);
    if (s == NULL) {
        abort();
    }

    if (b->len) {
        memcpy(s, b->data, b->len);
    }

    s[b->len] = '\0';

    return s;
}


/* 1 when text parses to the same JSON as want */
static inline int
td_json_is(const char *text, size_t len, const char *want)
{
    int      eq;
    json_t  *a, *b;

    a = json_loadb(text, len, 0, NULL);
    b = tj(want);
    eq = a && json_equal(a, b);

    if (!eq) {
        char  *s = a ? json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        char  *w = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);

        fprintf(stderr, "  got:  %s\n  want: %s\n", s ? s : "(not JSON)", w);
        free(s);
        free(w);
    }

    json_decref(a);
    json_decref(b);

    return eq;
}


static inline int
td_tree_is(json_t *a, const char *want)
{
    int      eq;
    json_t  *b;

    b = tj(want);
    eq = a && json_equal(a, b);

    if (!eq) {
        char  *s = a ? json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        char  *w = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);

        fprintf(stderr, "  got:  %s\n  want: %s\n", s ? s : "(null)", w);
        free(s);
        free(w);
    }

    json_decref(b);

    return eq;
}


/*
 * Runs a stream: mode 0 whole, 1 byte by byte, 2 cut at cut.  finish()
 * is called with message unless nofinish.  The client's bytes, malloc'd.
 */
static inline char *
td_stream(airouter_dialect_e from, airouter_dialect_e to,
    const airouter_dctx_t *ctx, const char *in, int mode, size_t cut,
    const char *message, int nofinish)
{
    size_t               i, n;
    char                *s;
    airouter_dbuf_t      out;
    airouter_dstream_t  *st;

    n = strlen(in);
    airouter_dbuf_init(&out);

    st = airouter_dstream_create(from, to, ctx);
    if (st == NULL) {
        abort();
    }

    if (mode == 0) {
        airouter_dstream_feed(st, in, n, &out);

    } else if (mode == 1) {
        for (i = 0; i < n; i++) {
            airouter_dstream_feed(st, in + i, 1, &out);
        }

    } else {
        airouter_dstream_feed(st, in, cut, &out);
        airouter_dstream_feed(st, in + cut, 0, &out);
        airouter_dstream_feed(st, in + cut, n - cut, &out);
    }

    if (!nofinish) {
        airouter_dstream_finish(st, message, &out);
    }

    airouter_dstream_destroy(st);

    s = td_text(&out);
    airouter_dbuf_free(&out);

    return s;
}


/* The stream whole; and 1 when byte by byte and every two-piece cut give
 * exactly the same bytes. */
static inline char *
td_stream_all(airouter_dialect_e from, airouter_dialect_e to,
    const airouter_dctx_t *ctx, const char *in, const char *message,
    int *same)
{
    size_t   cut, n;
    char    *whole, *other;

    whole = td_stream(from, to, ctx, in, 0, 0, message, 0);
    n = strlen(in);
    *same = 1;

    other = td_stream(from, to, ctx, in, 1, 0, message, 0);
    if (strcmp(whole, other) != 0) {
        fprintf(stderr, "  byte by byte differs:\n%s\n---\n%s\n", whole,
                other);
        *same = 0;
    }
    free(other);

    for (cut = 0; cut <= n && *same; cut++) {
        other = td_stream(from, to, ctx, in, 2, cut, message, 0);
        if (strcmp(whole, other) != 0) {
            fprintf(stderr, "  cut at %zu differs\n", cut);
            *same = 0;
        }
        free(other);
    }

    return whole;
}


/* The translator's SSE read back (it always writes whole events). */
static inline void
td_parse(const char *out, td_events_t *evs)
{
    size_t       len;
    const char  *p, *end, *line, *eol;
    td_event_t  *e;

    memset(evs, 0, sizeof(td_events_t));
    p = out;

    while (*p && evs->n < TD_MAX_EVENTS) {
        end = strstr(p, "\n\n");
        if (end == NULL) {
            end = p + strlen(p);
        }

        e = &evs->ev[evs->n++];
        e->raw = strndup(p, end - p);

        for (line = p; line < end; line = eol + 1) {
            eol = memchr(line, '\n', end - line);
            if (eol == NULL) {
                eol = end;
            }

            len = eol - line;

            if (len > 7 && memcmp(line, "event: ", 7) == 0) {
                memcpy(e->name, line + 7, len - 7 < 63 ? len - 7 : 63);

            } else if (len > 6 && memcmp(line, "data: ", 6) == 0) {
                e->data = json_loadb(line + 6, len - 6, 0, NULL);
            }

            if (eol == end) {
                break;
            }
        }

        p = *end ? end + 2 : end;
    }
}


static inline void
td_free(td_events_t *evs)
{
    size_t  i;

    for (i = 0; i < evs->n; i++) {
        json_decref(evs->ev[i].data);
        free(evs->ev[i].raw);
    }

    evs->n = 0;
}


/* The events' names joined by spaces (into buf). */
static inline const char *
td_names(const td_events_t *evs, char *buf, size_t size)
{
    size_t  i, len;

    buf[0] = '\0';
    len = 0;

    for (i = 0; i < evs->n; i++) {
        len += snprintf(buf + len, size > len ? size - len : 0, "%s%s",
                        i ? " " : "", evs->ev[i].name);
    }

    return buf;
}


/* Whether a stream cut short ended as the client's dialect says it must. */
typedef int (*td_cut_end_pt)(const td_events_t *evs, const char *out);


/*
 * A chat stream cut at every step-th byte before n, translated to dialect
 * to and finished with message: 1 when each cut's events satisfy ends
 * (the cuts that do not are told on stderr).
 */
static inline int
td_every_cut(airouter_dialect_e to, const airouter_dctx_t *ctx,
    const char *stream, size_t n, size_t step, const char *message,
    td_cut_end_pt ends)
{
    int           ok;
    char         *in, *out, names[2048];
    size_t        cut;
    td_events_t   evs;

    ok = 1;

    for (cut = 0; cut < n; cut += step) {
        in = strndup(stream, cut);
        out = td_stream(AIROUTER_DIALECT_OPENAI, to, ctx, in, 0, 0, message,
                        0);
        td_parse(out, &evs);

        if (!ends(&evs, out)) {
            ok = 0;
            fprintf(stderr, "cut at %zu: %s\n%s\n", cut,
                    td_names(&evs, names, sizeof(names)), out);
        }

        td_free(&evs);
        free(out);
        free(in);
    }

    return ok;
}


/* A member's string by path ("a.b" or "a.0.b"), or "" */
static inline const char *
td_str(json_t *j, const char *path)
{
    char         key[64];
    size_t       n;
    const char  *p, *dot;

    for (p = path; j && *p; p = dot ? dot + 1 : p + strlen(p)) {
        dot = strchr(p, '.');
        n = dot ? (size_t) (dot - p) : strlen(p);
        if (n >= sizeof(key)) {
            return "";
        }

        memcpy(key, p, n);
        key[n] = '\0';

        j = json_is_array(j) ? json_array_get(j, strtoul(key, NULL, 10))
                             : json_object_get(j, key);

        if (dot == NULL) {
            break;
        }
    }

    return json_is_string(j) ? json_string_value(j) : "";
}


static inline long
td_int(json_t *j, const char *path)
{
    char         key[64];
    size_t       n;
    const char  *p, *dot;

    for (p = path; j && *p; p = dot ? dot + 1 : p + strlen(p)) {
        dot = strchr(p, '.');
        n = dot ? (size_t) (dot - p) : strlen(p);
        if (n >= sizeof(key)) {
            return -999;
        }

        memcpy(key, p, n);
        key[n] = '\0';

        j = json_is_array(j) ? json_array_get(j, strtoul(key, NULL, 10))
                             : json_object_get(j, key);

        if (dot == NULL) {
            break;
        }
    }

    return json_is_integer(j) ? (long) json_integer_value(j) : -999;
}


/* Translates a request; the tree, or NULL with err. */
static inline json_t *
td_request(airouter_dialect_e from, airouter_dialect_e to,
    airouter_dctx_t *ctx, const char *text, airouter_derr_t *err)
{
    json_t  *req, *out;

    req = tj(text);

    if (airouter_dialect_request(from, to, req, ctx, &out, err) != 0) {
        out = NULL;
    }

    json_decref(req);

    return out;
}


/* A whole answer translated (malloc'd text), NULL when refused. */
static inline char *
td_answer(airouter_dialect_e from, airouter_dialect_e to,
    const airouter_dctx_t *ctx, const char *text, airouter_dusage_t *u)
{
    char             *s;
    airouter_dbuf_t   out;

    airouter_dbuf_init(&out);

    if (airouter_dialect_answer(from, to, ctx, text, strlen(text), &out, u)
        != 0)
    {
        airouter_dbuf_free(&out);
        return NULL;
    }

    s = td_text(&out);
    airouter_dbuf_free(&out);

    return s;
}


/* An upstream error body translated into b. */
static inline void
td_etrans(airouter_dialect_e from, airouter_dialect_e to, int status,
    const char *body, airouter_dbuf_t *b)
{
    airouter_dbuf_init(b);
    airouter_dialect_error_translate(from, to, status, body, strlen(body), b);
}


static inline void
td_ctx(airouter_dctx_t *ctx, airouter_dialect_e client)
{
    airouter_dctx_init(ctx, client);
    strcpy(ctx->id, "t1");
    ctx->created = 1700000000;
}


/* A request a dialect refuses: its body, the code, words of the message. */
typedef struct {
    const char               *body;
    const char               *code;
    const char               *words;
} td_bad_t;


/*
 * Each of bad[0 .. n) from client dialect from, translated to chat, is
 * refused: a 400 with that code, the words in its message and, when type
 * is not NULL, that type.
 */
static inline void
td_request_errors(airouter_dialect_e from, const td_bad_t *bad, size_t n,
    const char *type)
{
    size_t           i;
    json_t          *chat;
    airouter_dctx_t  ctx;
    airouter_derr_t  err;

    for (i = 0; i < n; i++) {
        memset(&err, 0, sizeof(err));
        td_ctx(&ctx, from);
        chat = td_request(from, AIROUTER_DIALECT_OPENAI, &ctx, bad[i].body,
                          &err);

        UNIT_CHECK(chat == NULL && err.status == 400
                   && (type == NULL
                       || (err.type && strcmp(err.type, type) == 0))
                   && err.code && strcmp(err.code, bad[i].code) == 0
                   && err.message
                   && strstr(err.message, bad[i].words) != NULL,
                   "%s: bad request %zu refused: %s %s",
                   airouter_dialect_name(from), i,
                   err.code ? err.code : "-",
                   err.message ? err.message : "-");
        json_decref(chat);
        airouter_dctx_free(&ctx);
    }
}

#endif /* AIROUTER_TEST_DIALECT_H */
