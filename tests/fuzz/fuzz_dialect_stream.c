/*
 * The dialect stream translators (airouter_dialect.c and the dialect
 * files) on arbitrary upstream streams.  Byte 0 picks the pair: bit 0 the
 * upstream (chat or Messages), the rest the client's dialect (chat,
 * Messages, Responses, Gemini, or none: usage only); byte 1 seeds the
 * cuts; byte 2: bit 0 includeThoughts, bit 1 finish() without a message.
 * With bit 7 of byte 0 set, a Responses stream is read for its usage only
 * (a Responses client's stream passed through).  The rest is the
 * upstream's bytes.  Oracles:
 *
 *   - split invariance: fed whole, byte by byte and in random pieces
 *     (with empty feeds), the client gets the same bytes, and the stream
 *     ends in the same state with the same usage;
 *   - after finish() the stream is complete or failed, never running;
 *   - the client's bytes are whole events whose data is JSON, in the
 *     order the dialect's SDK wants: chat ends with [DONE] (an error
 *     chunk before it when failed); Messages starts with message_start
 *     (or is one error event), opens content blocks with consecutive
 *     indexes, one at a time, and ends with message_delta + message_stop
 *     or with error; Responses starts with response.created, numbers
 *     every event in order and ends with response.completed or
 *     response.incomplete, or with error + response.failed; Gemini's
 *     last chunk has a finishReason, or is an error object; usage only
 *     writes nothing.
 */

#define _GNU_SOURCE

#include <string.h>

#include "fuzz.h"
#include "airouter_dialect.h"


typedef struct {
    airouter_dbuf_t           out;
    int                       state;
    int                       has_usage;
    airouter_dusage_t         usage;
} run_t;


static void run(int from, int to, const airouter_dctx_t *ctx, const char *p,
    size_t n, int mode, uint32_t seed, const char *message, run_t *r);
static void compare(const run_t *a, const run_t *b, const char *how);
static void check_events(int to, const run_t *r);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int               from, to;
    uint32_t          seed;
    const char       *p, *message;
    airouter_dctx_t   ctx;
    run_t             whole, bytes, cuts;

    if (size < 3) {
        return 0;
    }

    from = (data[0] & 1) ? AIROUTER_DIALECT_ANTHROPIC
                         : AIROUTER_DIALECT_OPENAI;
    to = (data[0] >> 1) % (AIROUTER_DIALECT_N + 1);

    if (data[0] & 0x80) {
        /* a Responses stream passed through: read for its usage only */
        from = AIROUTER_DIALECT_RESPONSES;
        to = AIROUTER_DIALECT_N;
    }
    seed = 0x9e3779b9u ^ data[1];
    message = (data[2] & 2) ? NULL : "cut";

    airouter_dctx_init(&ctx, to < AIROUTER_DIALECT_N ? to
                                                     : AIROUTER_DIALECT_OPENAI);
    memcpy(ctx.id, "fz", 3);
    ctx.created = 1;
    ctx.thoughts = data[2] & 1;

    p = (const char *) data + 3;
    size -= 3;

    /* the byte-by-byte run is costly on big inputs: keep it to 4 KiB */
    run(from, to, &ctx, p, size, 0, seed, message, &whole);
    run(from, to, &ctx, p, size, 2, seed, message, &cuts);
    compare(&whole, &cuts, "random cuts");

    if (size <= 4096) {
        run(from, to, &ctx, p, size, 1, seed, message, &bytes);
        compare(&whole, &bytes, "byte by byte");
        airouter_dbuf_free(&bytes.out);
    }

    FUZZ_CHECK(whole.state == 1 || whole.state == -1, "state %d after "
               "finish", whole.state);

    check_events(to, &whole);

    airouter_dbuf_free(&whole.out);
    airouter_dbuf_free(&cuts.out);

    return 0;
}


static void
run(int from, int to, const airouter_dctx_t *ctx, const char *p, size_t n,
    int mode, uint32_t seed, const char *message, run_t *r)
{
    size_t               i, k;
    airouter_dstream_t  *s;

    memset(r, 0, sizeof(run_t));
    airouter_dbuf_init(&r->out);

    s = airouter_dstream_create(from, to, ctx);
    FUZZ_CHECK(s != NULL, "create %d -> %d", from, to);

    if (mode == 0) {
        airouter_dstream_feed(s, p, n, &r->out);

    } else if (mode == 1) {
        for (i = 0; i < n; i++) {
            airouter_dstream_feed(s, p + i, 1, &r->out);
        }

    } else {
        for (i = 0; i < n; i += k) {
            seed = seed * 1103515245u + 12345u;
            k = 1 + (seed >> 16) % 97;
            k = k > n - i ? n - i : k;

            if ((seed & 7) == 0) {
                airouter_dstream_feed(s, p + i, 0, &r->out);
            }

            airouter_dstream_feed(s, p + i, k, &r->out);
        }
    }

    airouter_dstream_finish(s, message, &r->out);

    r->state = airouter_dstream_state(s);
    r->has_usage = airouter_dstream_usage(s, &r->usage);

    airouter_dstream_destroy(s);

    FUZZ_CHECK(!r->out.failed, "out of memory");
}


static void
compare(const run_t *a, const run_t *b, const char *how)
{
    const airouter_usage_t  *x, *y;

    FUZZ_CHECK(a->out.len == b->out.len
               && (a->out.len == 0
                   || memcmp(a->out.data, b->out.data, a->out.len) == 0),
               "%s: the client's bytes differ (%zu vs %zu)", how, a->out.len,
               b->out.len);

    FUZZ_CHECK(a->state == b->state && a->has_usage == b->has_usage,
               "%s: state %d/%d usage %d/%d", how, a->state, b->state,
               a->has_usage, b->has_usage);

    x = &a->usage.u;
    y = &b->usage.u;

    FUZZ_CHECK(x->prompt_tokens == y->prompt_tokens
               && x->completion_tokens == y->completion_tokens
               && x->total_tokens == y->total_tokens
               && x->cached_tokens == y->cached_tokens
               && x->cache_write_tokens == y->cache_write_tokens
               && a->usage.reasoning == b->usage.reasoning,
               "%s: usage differs", how);
}


/* The events written, checked against the dialect's rules. */
static void
check_events(int to, const run_t *r)
{
    int          open;
    long         seq, started, index;
    char         name[64];
    size_t       n, len, count;
    json_t      *d, *last;
    const char  *p, *end, *data, *type;

    if (to == AIROUTER_DIALECT_N) {
        FUZZ_CHECK(r->out.len == 0, "usage only wrote %zu bytes",
                   r->out.len);
        return;
    }

    FUZZ_CHECK(r->out.len > 0, "nothing written for the client");

    p = r->out.data;
    end = p + r->out.len;
    count = 0;
    seq = 0;
    open = 0;
    started = 0;
    last = NULL;

    FUZZ_CHECK(r->out.len >= 2 && end[-1] == '\n' && end[-2] == '\n',
               "the output ends between events");

    while (p < end) {
        data = memmem(p, end - p, "\n\n", 2);
        FUZZ_CHECK(data != NULL, "an event without its blank line");
        len = data - p;

        name[0] = '\0';

        if (len > 7 && memcmp(p, "event: ", 7) == 0) {
            const char  *nl = memchr(p, '\n', len);

            FUZZ_CHECK(nl != NULL && (size_t) (nl - p - 7) < sizeof(name),
                       "an event name line");
            memcpy(name, p + 7, nl - p - 7);
            name[nl - p - 7] = '\0';
            len -= nl + 1 - p;
            p = nl + 1;
        }

        FUZZ_CHECK(len > 6 && memcmp(p, "data: ", 6) == 0, "a data line");

        n = len - 6;
        json_decref(last);
        last = NULL;

        if (n == 6 && memcmp(p + 6, "[DONE]", 6) == 0) {
            FUZZ_CHECK(to == AIROUTER_DIALECT_OPENAI
                       && p + len + 2 == end, "[DONE] only ends chat");
            p += len + 2;
            count++;
            continue;
        }

        d = json_loadb(p + 6, n, 0, NULL);
        FUZZ_CHECK(json_is_object(d), "event data is a JSON object: %.*s",
                   (int) (n < 200 ? n : 200), p + 6);

        type = json_string_value(json_object_get(d, "type"));

        switch (to) {
        case AIROUTER_DIALECT_ANTHROPIC:
            FUZZ_CHECK(type && strcmp(type, name) == 0,
                       "Messages: the data's type is the event's name");

            if (count == 0) {
                FUZZ_CHECK(strcmp(name, "message_start") == 0
                           || strcmp(name, "error") == 0,
                           "Messages starts with message_start: %s", name);
            }

            index = (long) json_integer_value(json_object_get(d, "index"));

            if (strcmp(name, "content_block_start") == 0) {
                FUZZ_CHECK(!open && index == started,
                           "a block opens with the next index, alone");
                open = 1;
                started++;

            } else if (strcmp(name, "content_block_stop") == 0) {
                FUZZ_CHECK(open && index == started - 1,
                           "the open block stops");
                open = 0;

            } else if (strcmp(name, "content_block_delta") == 0) {
                FUZZ_CHECK(index >= 0 && index < started,
                           "a delta for a started block");

            } else if (strcmp(name, "message_delta") == 0) {
                FUZZ_CHECK(!open, "blocks closed before message_delta");
            }
            break;

        case AIROUTER_DIALECT_RESPONSES:
            FUZZ_CHECK(type && strcmp(type, name) == 0,
                       "Responses: the data's type is the event's name");
            FUZZ_CHECK(json_integer_value(json_object_get(d,
                                                  "sequence_number"))
                       == seq, "sequence_number %ld", seq);
            seq++;

            if (count == 0) {
                FUZZ_CHECK(strcmp(name, "response.created") == 0,
                           "Responses starts with response.created");
            }
            break;

        case AIROUTER_DIALECT_GEMINI:
            FUZZ_CHECK(name[0] == '\0', "Gemini events have no names");
            FUZZ_CHECK(json_is_array(json_object_get(d, "candidates"))
                       || json_is_object(json_object_get(d, "error")),
                       "a GenerateContentResponse or an error");
            break;

        default:
            FUZZ_CHECK(name[0] == '\0', "chat events have no names");
            break;
        }

        last = d;
        p += len + 2;
        count++;
    }

    switch (to) {
    case AIROUTER_DIALECT_OPENAI:
        FUZZ_CHECK(r->out.len >= 14
                   && memcmp(end - 14, "data: [DONE]\n\n", 14) == 0,
                   "chat ends with [DONE]");
        break;

    case AIROUTER_DIALECT_ANTHROPIC:
        FUZZ_CHECK(r->state == 1 ? strcmp(name, "message_stop") == 0
                                 : strcmp(name, "error") == 0,
                   "Messages ends with %s, state %d",
                   name, r->state);
        break;

    case AIROUTER_DIALECT_RESPONSES:
        FUZZ_CHECK(r->state == 1
                   ? (strcmp(name, "response.completed") == 0
                      || strcmp(name, "response.incomplete") == 0)
                   : strcmp(name, "response.failed") == 0,
                   "Responses ends with %s, state %d", name, r->state);
        break;

    case AIROUTER_DIALECT_GEMINI:
        FUZZ_CHECK(r->state == 1
                   ? json_is_string(json_object_get(json_array_get(
                         json_object_get(last, "candidates"), 0),
                         "finishReason"))
                   : json_is_object(json_object_get(last, "error")),
                   "Gemini's last chunk, state %d", r->state);
        break;
    }

    json_decref(last);
}
