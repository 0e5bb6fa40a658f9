/*
 * Reading usage out of a whole (non-stream) answer, airouter_sse.c:
 *
 *   - airouter_usage_from_answer (the scan that parses only "usage") and
 *     airouter_usage_from_json (jansson, the whole body) must agree: when
 *     jansson reads the body as an object, a scan that returns 1 finds the
 *     same six numbers as jansson, and a scan that returns 0 means jansson
 *     finds no usage object either;
 *   - airouter_answer_text hands out pieces that lie inside the answer's
 *     strings (only their count and total size are checked);
 *   - airouter_tail_feed keeps the last AIROUTER_TAIL_SIZE bytes however
 *     the body is cut, so airouter_usage_from_tail gives the same result
 *     for the body fed whole or in pieces; airouter_tail_closed too, and
 *     it holds for every body jansson reads.
 */

#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "airouter_sse.h"


static void on_text(void *data, const char *p, size_t n);
static int same_usage(const airouter_usage_t *a, const airouter_usage_t *b);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int               rc, rj, rt1, rt2;
    size_t            i, step, text[2];
    json_t           *root;
    const char       *p;
    airouter_usage_t  a, b, t1, t2;
    airouter_tail_t   tail1, tail2;

    p = (const char *) data;

    airouter_usage_init(&a);
    airouter_usage_init(&b);

    rc = airouter_usage_from_answer(p, size, &a);
    rj = airouter_usage_from_json(p, size, &b);

    FUZZ_CHECK(rc >= -1 && rc <= 1 && (rj == 0 || rj == 1), "rc %d %d", rc,
               rj);

    root = json_loadb(p, size, 0, NULL);

    /*
     * Not compared: jansson swallows a raw NUL right after a number
     * ("1\0,"), which is not JSON, where the scan sees "1\0".
     */
    if (root != NULL && json_is_object(root)
        && memchr(p, '\0', size) == NULL)
    {
        if (rc == 1) {
            FUZZ_CHECK(rj == 1 && same_usage(&a, &b),
                       "scan and jansson differ: scan %ld/%ld/%ld cached %ld "
                       "write %ld cost %g, jansson (rc %d) %ld/%ld/%ld "
                       "cached %ld write %ld cost %g",
                       a.prompt_tokens, a.completion_tokens, a.total_tokens,
                       a.cached_tokens, a.cache_write_tokens, a.cost, rj,
                       b.prompt_tokens, b.completion_tokens, b.total_tokens,
                       b.cached_tokens, b.cache_write_tokens, b.cost);

        } else if (rc == 0) {
            FUZZ_CHECK(rj == 0, "scan found no usage, jansson did");
        }
    }

    json_decref(root);

    /* the text of the answer */
    text[0] = 0;
    text[1] = 0;
    (void) airouter_answer_text(p, size, on_text, text);
    FUZZ_CHECK(text[1] <= size, "more text (%zu) than body (%zu)", text[1],
               size);

    /* the tail, whole and in pieces */
    memset(&tail1, 0, sizeof(tail1));
    memset(&tail2, 0, sizeof(tail2));

    airouter_tail_feed(&tail1, p, size);

    step = 1 + (size ? data[0] % 97 : 0);
    for (i = 0; i < size; i += step) {
        airouter_tail_feed(&tail2, p + i, size - i < step ? size - i : step);
    }

    FUZZ_CHECK(tail1.len == tail2.len
               && memcmp(tail1.buf, tail2.buf, tail1.len) == 0,
               "tail differs by cut (step %zu)", step);

    airouter_usage_init(&t1);
    airouter_usage_init(&t2);
    rt1 = airouter_usage_from_tail(&tail1, &t1);
    rt2 = airouter_usage_from_tail(&tail2, &t2);

    FUZZ_CHECK(rt1 == rt2 && same_usage(&t1, &t2), "tail usage differs");

    /* the end check: the same however cut, and true of what jansson reads */
    FUZZ_CHECK(airouter_tail_closed(&tail1) == airouter_tail_closed(&tail2),
               "tail_closed differs by cut (step %zu)", step);

    root = json_loadb(p, size, 0, NULL);
    FUZZ_CHECK(root == NULL || memchr(p, '\0', size) != NULL
               || airouter_tail_closed(&tail1),
               "jansson reads it, tail_closed says no");
    json_decref(root);

    return 0;
}


static void
on_text(void *data, const char *p, size_t n)
{
    size_t  *text;

    (void) p;

    text = data;
    text[0]++;
    text[1] += n;

    /* touch every byte: a piece must be readable */
    if (n > 0) {
        volatile char  c;

        c = p[0];
        c = p[n - 1];
        (void) c;
    }
}


static int
same_usage(const airouter_usage_t *a, const airouter_usage_t *b)
{
    return a->prompt_tokens == b->prompt_tokens
           && a->completion_tokens == b->completion_tokens
           && a->total_tokens == b->total_tokens
           && a->cached_tokens == b->cached_tokens
           && a->cache_write_tokens == b->cache_write_tokens
           && (a->cost == b->cost || (a->cost != a->cost && b->cost != b->cost));
}

