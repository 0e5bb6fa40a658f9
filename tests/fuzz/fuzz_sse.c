/*
 * The SSE scanner (airouter_sse.c) on arbitrary streams.  The first byte
 * picks the line buffer size (so that long-line skipping is reached), the
 * second seeds the cuts; the rest is the stream.  Oracle: split
 * invariance -- the stream fed in one piece, byte by byte, and in random
 * pieces ends in the same state: usage, done, error, events, data bytes,
 * whether it stands at an event boundary, and the text handed to the
 * callback.  Without a text callback (lines read where they lie), in one
 * piece and in random pieces: the same state, and the bytes fed are never
 * written.
 */

#include <string.h>

#include "fuzz.h"
#include "airouter_sse.h"


typedef struct {
    char                     *buf;
    size_t                    len;
    size_t                    cap;
    size_t                    calls;
} text_t;


typedef struct {
    airouter_sse_t            s;
    char                     *line;
    text_t                    text;
} run_t;


static void on_text(void *data, const char *p, size_t n);
static void run_init(run_t *r, size_t size);
static void run_free(run_t *r);
static void compare(const run_t *a, const run_t *b, const char *how,
    int text);
static void feed_cuts(run_t *r, const char *p, size_t size, uint32_t rng);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char         *copy;
    size_t        i, line_size;
    uint32_t      rng;
    const char   *p;
    run_t         whole, bytes, cuts, plain;

    if (size < 2) {
        return 0;
    }

    line_size = 8 + (size_t) data[0] * 4;
    rng = 0x9e3779b9u ^ data[1];
    p = (const char *) data + 2;
    size -= 2;

    run_init(&whole, line_size);
    airouter_sse_feed(&whole.s, p, size);

    run_init(&bytes, line_size);
    for (i = 0; i < size; i++) {
        airouter_sse_feed(&bytes.s, p + i, 1);
    }

    run_init(&cuts, line_size);
    feed_cuts(&cuts, p, size, rng);

    compare(&whole, &bytes, "byte by byte", 1);
    compare(&whole, &cuts, "random cuts", 1);

    /* no text wanted: whole lines are read in place, never written */
    copy = malloc(size + 1);
    if (copy == NULL) {
        abort();
    }

    memcpy(copy, p, size);

    run_init(&plain, line_size);
    plain.s.text = NULL;
    airouter_sse_feed(&plain.s, copy, size);
    compare(&whole, &plain, "without text", 0);
    run_free(&plain);

    run_init(&plain, line_size);
    plain.s.text = NULL;
    feed_cuts(&plain, copy, size, rng ^ 0x5bd1e995u);
    compare(&whole, &plain, "without text, random cuts", 0);
    run_free(&plain);

    FUZZ_CHECK(memcmp(copy, p, size) == 0,
               "without text: the bytes fed were written");
    free(copy);

    FUZZ_CHECK(whole.s.len <= whole.s.size, "line length %zu > %zu",
               whole.s.len, whole.s.size);
    FUZZ_CHECK(whole.s.events <= size / 5 + 1, "%zu events in %zu bytes",
               whole.s.events, size);

    run_free(&whole);
    run_free(&bytes);
    run_free(&cuts);

    return 0;
}


static void
feed_cuts(run_t *r, const char *p, size_t size, uint32_t rng)
{
    size_t  i, n;

    for (i = 0; i < size; i += n) {
        rng = rng * 1103515245u + 12345u;
        n = 1 + (rng >> 16) % 64;
        n = n > size - i ? size - i : n;
        /* an empty feed now and then: it must change nothing */
        airouter_sse_feed(&r->s, p + i, (rng & 7) == 0 ? 0 : n);
        if ((rng & 7) == 0) {
            n = 0;
        }
    }
}


static void
compare(const run_t *a, const run_t *b, const char *how, int text)
{
    const airouter_usage_t  *x, *y;

    x = &a->s.usage;
    y = &b->s.usage;

    FUZZ_CHECK(x->prompt_tokens == y->prompt_tokens
               && x->completion_tokens == y->completion_tokens
               && x->total_tokens == y->total_tokens
               && x->cached_tokens == y->cached_tokens
               && x->cache_write_tokens == y->cache_write_tokens
               && (x->cost == y->cost || (x->cost != x->cost
                                          && y->cost != y->cost)),
               "%s: usage %ld/%ld/%ld vs %ld/%ld/%ld", how,
               x->prompt_tokens, x->completion_tokens, x->total_tokens,
               y->prompt_tokens, y->completion_tokens, y->total_tokens);

    FUZZ_CHECK(a->s.data_bytes == b->s.data_bytes, "%s: data bytes %zu/%zu",
               how, a->s.data_bytes, b->s.data_bytes);

    FUZZ_CHECK(a->s.done == b->s.done && a->s.error == b->s.error
               && a->s.events == b->s.events,
               "%s: done %d/%d error %d/%d events %zu/%zu", how,
               a->s.done, b->s.done, a->s.error, b->s.error, a->s.events,
               b->s.events);

    FUZZ_CHECK(airouter_sse_at_boundary(&a->s)
               == airouter_sse_at_boundary(&b->s), "%s: boundary %d/%d",
               how, airouter_sse_at_boundary(&a->s),
               airouter_sse_at_boundary(&b->s));

    if (!text) {
        return;
    }

    FUZZ_CHECK(a->text.calls == b->text.calls && a->text.len == b->text.len
               && (a->text.len == 0
                   || memcmp(a->text.buf, b->text.buf, a->text.len) == 0),
               "%s: text differs (%zu pieces, %zu bytes vs %zu, %zu)", how,
               a->text.calls, a->text.len, b->text.calls, b->text.len);
}


static void
run_init(run_t *r, size_t size)
{
    memset(r, 0, sizeof(run_t));

    /* exactly size bytes, so that a write past it is caught */
    r->line = malloc(size);
    if (r->line == NULL) {
        abort();
    }

    airouter_sse_init(&r->s, r->line, size);
    r->s.text = on_text;
    r->s.text_data = &r->text;
}


static void
run_free(run_t *r)
{
    free(r->line);
    free(r->text.buf);
}


static void
on_text(void *data, const char *p, size_t n)
{
    char    *nb;
    text_t  *t;

    t = data;
    t->calls++;

    if (t->len + n > t->cap) {
        t->cap = (t->len + n) * 2 + 64;
        nb = realloc(t->buf, t->cap);
        if (nb == NULL) {
            abort();
        }
        t->buf = nb;
    }

    if (n) {
        memcpy(t->buf + t->len, p, n);
        t->len += n;
    }
}
