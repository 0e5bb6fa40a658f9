/*
 * The SSE usage scanner and the JSON usage reader; see airouter_sse.h.
 */

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "airouter_json_scan.h"
#include "airouter_sse.h"


static void airouter_sse_line(airouter_sse_t *s, char *p, size_t n);
static int airouter_sse_text(char *p, size_t n, airouter_text_pt text,
    void *data);
static int airouter_sse_has_usage(const char *p, size_t n);
/* The fields of a usage object as found, before they are settled. */
typedef struct {
    int                       object;   /* the details member is one */
    long                      cached;
    long                      written;
} airouter_usage_details_t;


/* A duration worth pricing: not negative, not absurd (a year), finite. */
#define AIROUTER_USAGE_SECONDS_OK(s)  ((s) >= 0 && (s) < 31536000.0)


typedef struct {
    long                      prompt;
    long                      input;
    long                      completion;
    long                      output;
    long                      total;
    long                      hit;      /* DeepSeek's cache hits */
    airouter_usage_details_t  details[2];   /* prompt_, input_tokens_details */
    double                    cost;
    double                    seconds;
} airouter_usage_raw_t;


static long airouter_usage_field(json_t *usage, const char *name);
static void airouter_usage_raw_init(airouter_usage_raw_t *raw);
static void airouter_usage_settle(const airouter_usage_raw_t *raw,
    airouter_usage_t *u);
static int airouter_usage_scan(const char *p, size_t n,
    airouter_usage_raw_t *raw, airouter_usage_details_t *d);
static long airouter_usage_integer(const char *p, size_t n);
static double airouter_usage_real(const char *p, size_t n);
static void airouter_text_content(json_t *content, airouter_text_pt text,
    void *data);
static void airouter_text_tools(json_t *calls, airouter_text_pt text,
    void *data);
static void airouter_text_choices(json_t *root, const char *field,
    airouter_text_pt text, void *data);


void
airouter_usage_init(airouter_usage_t *u)
{
    u->prompt_tokens = -1;
    u->completion_tokens = -1;
    u->total_tokens = -1;
    u->cached_tokens = -1;
    u->cache_write_tokens = -1;
    u->cost = -1;
    u->seconds = -1;
}


void
airouter_sse_init(airouter_sse_t *s, char *buf, size_t size)
{
    memset(s, 0, sizeof(airouter_sse_t));
    s->line = buf;
    s->size = size;
    airouter_usage_init(&s->usage);
}


void
airouter_sse_feed(airouter_sse_t *s, const char *p, size_t n)
{
    char        *line;
    size_t       chunk, len;
    const char  *lf;

    if (n) {
        s->started = 1;
    }

    while (n) {
        lf = memchr(p, '\n', n);
        chunk = lf ? (size_t) (lf - p) : n;

        if (chunk) {
            s->newlines = 0;
        }

        if (lf && s->len == 0 && !s->overflow && s->text == NULL) {
            /*
             * A whole line in the bytes fed, and nothing will be decoded
             * in it: read where it lies, not copied.
             */
            line = (char *) p;
            len = chunk;

            if (len > s->size) {
                s->overflow = 1;
            }

        } else {
            if (chunk && !s->overflow) {
                if (s->len + chunk <= s->size) {
                    memcpy(s->line + s->len, p, chunk);
                    s->len += chunk;

                } else {
                    s->overflow = 1;
                }
            }

            if (lf == NULL) {
                return;
            }

            line = s->line;
            len = s->len;
        }

        if (len && line[len - 1] == '\r') {
            len--;
        }

        if (len == 0 && !s->overflow) {
            /* a blank line ends an event */
            if (s->newlines < 2) {
                s->newlines++;
            }

        } else {
            if (!s->overflow) {
                airouter_sse_line(s, line, len);
            }

            s->newlines = 1;
        }

        s->len = 0;
        s->overflow = 0;
        p = lf + 1;
        n -= chunk + 1;
    }
}


int
airouter_sse_at_boundary(const airouter_sse_t *s)
{
    return !s->started || (s->newlines >= 2 && s->len == 0 && !s->overflow);
}


size_t
airouter_sse_last_boundary(const char *p, size_t n, size_t from)
{
    size_t  i;

    for (i = n; i > from && i >= 2; i--) {
        if (p[i - 1] == '\n'
            && (p[i - 2] == '\n'
                || (i >= 3 && p[i - 2] == '\r' && p[i - 3] == '\n')))
        {
            return i;
        }
    }

    return 0;
}


int
airouter_usage_from_json(const char *p, size_t n, airouter_usage_t *u)
{
    int      rc;
    json_t  *root;

    root = json_loadb(p, n, 0, NULL);
    if (root == NULL) {
        return 0;
    }

    rc = airouter_usage_from_root(root, u);

    json_decref(root);

    return rc;
}


int
airouter_answer_text(const char *p, size_t n, airouter_text_pt text,
    void *data)
{
    json_t  *root;

    root = json_loadb(p, n, 0, NULL);
    if (root == NULL) {
        return 0;
    }

    if (!json_is_object(root)) {
        json_decref(root);
        return 0;
    }

    airouter_text_choices(root, "message", text, data);

    json_decref(root);

    return 1;
}


int
airouter_usage_from_root(json_t *root, airouter_usage_t *u)
{
    return airouter_usage_from_object(json_object_get(root, "usage"), u);
}


int
airouter_usage_from_answer(const char *p, size_t n, airouter_usage_t *u)
{
    int                   rc;
    airouter_json_span_t  span;
    airouter_usage_raw_t  raw;

    rc = airouter_json_member_valid(p, n, "usage", &span);

    if (rc != 1) {
        return rc;
    }

    if (p[span.start] != '{') {
        return 0;               /* "usage": null */
    }

    airouter_usage_raw_init(&raw);

    if (airouter_usage_scan(p + span.start, span.end - span.start, &raw, 0)
        != 0)
    {
        return -1;
    }

    airouter_usage_settle(&raw, u);

    return 1;
}


int
airouter_usage_from_object(json_t *usage, airouter_usage_t *u)
{
    json_t                *v;
    airouter_usage_raw_t   raw;

    if (!json_is_object(usage)) {
        return 0;
    }

    airouter_usage_raw_init(&raw);

    raw.prompt = airouter_usage_field(usage, "prompt_tokens");
    raw.input = airouter_usage_field(usage, "input_tokens");
    raw.completion = airouter_usage_field(usage, "completion_tokens");
    raw.output = airouter_usage_field(usage, "output_tokens");
    raw.total = airouter_usage_field(usage, "total_tokens");
    raw.hit = airouter_usage_field(usage, "prompt_cache_hit_tokens");

    v = json_object_get(usage, "prompt_tokens_details");
    raw.details[0].object = json_is_object(v);
    raw.details[0].cached = airouter_usage_field(v, "cached_tokens");
    raw.details[0].written = airouter_usage_field(v, "cache_write_tokens");

    v = json_object_get(usage, "input_tokens_details");
    raw.details[1].object = json_is_object(v);
    raw.details[1].cached = airouter_usage_field(v, "cached_tokens");
    raw.details[1].written = airouter_usage_field(v, "cache_write_tokens");

    v = json_object_get(usage, "cost");
    raw.cost = json_is_number(v) ? json_number_value(v) : -1;

    v = json_object_get(usage, "seconds");
    raw.seconds = json_is_number(v) ? json_number_value(v) : -1;

    airouter_usage_settle(&raw, u);

    return 1;
}


static void
airouter_usage_raw_init(airouter_usage_raw_t *raw)
{
    raw->prompt = -1;
    raw->input = -1;
    raw->completion = -1;
    raw->output = -1;
    raw->total = -1;
    raw->hit = -1;
    raw->details[0].object = 0;
    raw->details[0].cached = -1;
    raw->details[0].written = -1;
    raw->details[1] = raw->details[0];
    raw->cost = -1;
    raw->seconds = -1;
}


/* What the usage fields say, whichever reader found them. */
static void
airouter_usage_settle(const airouter_usage_raw_t *raw, airouter_usage_t *u)
{
    const airouter_usage_details_t  *d;

    u->prompt_tokens = raw->prompt >= 0 ? raw->prompt : raw->input;
    u->completion_tokens = raw->completion >= 0 ? raw->completion
                                                : raw->output;
    u->total_tokens = raw->total;

    /*
     * A total alone (Jina-style rerank, some embedding providers): what
     * is not a completion is input, which is what these endpoints are
     * priced by; a completion larger than the total leaves no input.
     */
    if (u->prompt_tokens < 0 && u->total_tokens >= 0) {
        u->prompt_tokens = u->total_tokens
                           - (u->completion_tokens > 0
                              ? u->completion_tokens : 0);

        if (u->prompt_tokens < 0) {
            u->prompt_tokens = 0;
        }
    }

    /* embeddings report prompt and total only */
    if (u->completion_tokens < 0 && u->prompt_tokens >= 0) {
        u->completion_tokens = 0;
    }

    if (u->total_tokens < 0 && u->prompt_tokens >= 0) {
        u->total_tokens = u->prompt_tokens + u->completion_tokens;
    }

    d = raw->details[0].object ? &raw->details[0] : &raw->details[1];

    u->cached_tokens = d->cached >= 0 ? d->cached : raw->hit;
    u->cache_write_tokens = d->written;

    /* OpenRouter says what it charged, in USD */
    u->cost = raw->cost >= 0 ? raw->cost : -1;
    u->seconds = AIROUTER_USAGE_SECONDS_OK(raw->seconds) ? raw->seconds : -1;
}


/*
 * The fields of a usage object (nested 0) or of its *_tokens_details
 * (nested 1, into d), read from the text.  Integers are what jansson
 * calls integers: digits with an optional minus, nothing else.
 */
static int
airouter_usage_scan(const char *p, size_t n, airouter_usage_raw_t *raw,
    airouter_usage_details_t *d)
{
    int                    rc;
    long                  *slot;
    size_t                 len, klen;
    const char            *key;
    airouter_json_iter_t   it;
    airouter_json_span_t   m;

/* a key compared with a literal of known length, not strlen() each time */
#define AIROUTER_USAGE_KEY(lit)                                              \
    (klen == sizeof(lit) - 1 && memcmp(key, lit, sizeof(lit) - 1) == 0)

    if (airouter_json_iter_init(&it, p, n) != 0) {
        return -1;
    }

    while ((rc = airouter_json_iter_next(&it, &m)) == 1) {
        slot = NULL;
        len = m.end - m.start;
        key = p + m.key_start + 1;
        klen = m.key_end - m.key_start - 2;

        if (d != NULL) {
            if (AIROUTER_USAGE_KEY("cached_tokens")) {
                slot = &d->cached;

            } else if (AIROUTER_USAGE_KEY("cache_write_tokens")) {
                slot = &d->written;
            }

        } else if (AIROUTER_USAGE_KEY("prompt_tokens")) {
            slot = &raw->prompt;

        } else if (AIROUTER_USAGE_KEY("completion_tokens")) {
            slot = &raw->completion;

        } else if (AIROUTER_USAGE_KEY("total_tokens")) {
            slot = &raw->total;

        } else if (AIROUTER_USAGE_KEY("input_tokens")) {
            slot = &raw->input;

        } else if (AIROUTER_USAGE_KEY("output_tokens")) {
            slot = &raw->output;

        } else if (AIROUTER_USAGE_KEY("prompt_cache_hit_tokens")) {
            slot = &raw->hit;

        } else if (AIROUTER_USAGE_KEY("cost")) {
            raw->cost = airouter_usage_real(p + m.start, len);

        } else if (AIROUTER_USAGE_KEY("seconds")) {
            raw->seconds = airouter_usage_real(p + m.start, len);

        } else if (AIROUTER_USAGE_KEY("prompt_tokens_details")
                   || AIROUTER_USAGE_KEY("input_tokens_details"))
        {
            d = &raw->details[p[m.key_start + 1] == 'p' ? 0 : 1];
            d->object = (p[m.start] == '{');
            d->cached = -1;
            d->written = -1;

            if (d->object
                && airouter_usage_scan(p + m.start, len, raw, d) != 0)
            {
                return -1;
            }

            d = NULL;
        }

        if (slot != NULL) {
            *slot = airouter_usage_integer(p + m.start, len);
        }
    }

#undef AIROUTER_USAGE_KEY

    return rc == 0 ? 0 : -1;
}


static long
airouter_usage_integer(const char *p, size_t n)
{
    long    v;
    size_t  i;
    int     neg;

    neg = (n > 0 && p[0] == '-');
    i = neg;

    /* at most 18 digits: no overflow, as any token count */
    if (i == n || n - i > 18) {
        return -1;
    }

    for (v = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }

        v = v * 10 + (p[i] - '0');
    }

    return neg ? -v : v;
}


/* A JSON number, -1 when it is not one. */
static double
airouter_usage_real(const char *p, size_t n)
{
    char    buf[64], *end;
    double  v;

    if (n == 0 || n >= sizeof(buf)
        || !(p[0] == '-' || (p[0] >= '0' && p[0] <= '9')))
    {
        return -1;
    }

    memcpy(buf, p, n);
    buf[n] = '\0';

    v = strtod(buf, &end);

    return *end == '\0' ? v : -1;
}


void
airouter_answer_units(const char *p, size_t n, long *items, double *seconds)
{
    long                  count;
    airouter_json_iter_t  it;
    airouter_json_span_t  span;

    *items = -1;
    *seconds = -1;

    if (airouter_json_member(p, n, "data", &span) == 1
        && airouter_json_array_init(&it, p + span.start,
                                    span.end - span.start) == 0)
    {
        count = 0;

        while (airouter_json_array_next(&it, &span) == 1) {
            count++;
        }

        if (it.done) {
            *items = count;
        }
    }

    if (airouter_json_member(p, n, "duration", &span) == 1) {
        *seconds = airouter_usage_real(p + span.start, span.end - span.start);

        if (!AIROUTER_USAGE_SECONDS_OK(*seconds)) {
            *seconds = -1;
        }
    }
}


void
airouter_tail_feed(airouter_tail_t *t, const char *p, size_t n)
{
    size_t  i, keep;
    char    c;

    for (i = 0; i < n; i++) {
        c = p[i];

        if (t->in_string) {
            if (t->escaped) {
                t->escaped = 0;

            } else if (c == '\\') {
                t->escaped = 1;

            } else if (c == '"') {
                t->in_string = 0;
            }

        } else if (c == '"') {
            t->in_string = 1;

        } else if (c == '{' || c == '[') {
            t->depth++;

        } else if (c == '}' || c == ']') {
            if (t->depth == 0) {
                t->unbalanced = 1;

            } else {
                t->depth--;
            }
        }
    }

    if (n >= AIROUTER_TAIL_SIZE) {
        memcpy(t->buf, p + n - AIROUTER_TAIL_SIZE, AIROUTER_TAIL_SIZE);
        t->len = AIROUTER_TAIL_SIZE;
        return;
    }

    keep = AIROUTER_TAIL_SIZE - n;

    if (t->len > keep) {
        memmove(t->buf, t->buf + t->len - keep, keep);
        t->len = keep;
    }

    memcpy(t->buf + t->len, p, n);
    t->len += n;
}


int
airouter_tail_closed(const airouter_tail_t *t)
{
    size_t  i;

    if (t->depth || t->in_string || t->unbalanced) {
        return 0;
    }

    for (i = t->len; i > 0; i--) {
        switch (t->buf[i - 1]) {
        case ' ': case '\t': case '\r': case '\n':
            continue;
        case '}': case ']':
            return 1;
        default:
            return 0;
        }
    }

    /* nothing but white space: nothing was opened */
    return 0;
}


int
airouter_usage_from_tail(const airouter_tail_t *t, airouter_usage_t *u)
{
    char         obj[AIROUTER_TAIL_SIZE + 16];
    size_t       i, depth, start;
    const char  *key;
    int          in_string, escaped;

    /* the last "usage" key */
    key = NULL;

    for (i = 0; i + 7 <= t->len; i++) {
        if (memcmp(t->buf + i, "\"usage\"", 7) == 0) {
            key = t->buf + i;
        }
    }

    if (key == NULL) {
        return 0;
    }

    i = key - t->buf + 7;

    while (i < t->len && (t->buf[i] == ' ' || t->buf[i] == ':'
                          || t->buf[i] == '\t' || t->buf[i] == '\n'
                          || t->buf[i] == '\r'))
    {
        i++;
    }

    if (i == t->len || t->buf[i] != '{') {
        return 0;
    }

    /* its object, up to the matching brace */
    start = i;
    depth = 0;
    in_string = 0;
    escaped = 0;

    for ( /* void */ ; i < t->len; i++) {
        if (in_string) {
            if (escaped) {
                escaped = 0;

            } else if (t->buf[i] == '\\') {
                escaped = 1;

            } else if (t->buf[i] == '"') {
                in_string = 0;
            }

            continue;
        }

        if (t->buf[i] == '"') {
            in_string = 1;

        } else if (t->buf[i] == '{') {
            depth++;

        } else if (t->buf[i] == '}' && --depth == 0) {
            break;
        }
    }

    if (i == t->len) {
        return 0;
    }

    memcpy(obj, "{\"usage\":", 9);
    memcpy(obj + 9, t->buf + start, i + 1 - start);
    obj[9 + i + 1 - start] = '}';

    return airouter_usage_from_json(obj, 9 + i + 1 - start + 1, u);
}


static void
airouter_sse_line(airouter_sse_t *s, char *p, size_t n)
{
    int      has_usage;
    json_t  *root;

    if (n < 5 || memcmp(p, "data:", 5) != 0) {
        return;                 /* comments, event:, id:, retry: */
    }

    p += 5;
    n -= 5;

    if (n && *p == ' ') {
        p++;
        n--;
    }

    s->events++;

    if (n == 6 && memcmp(p, "[DONE]", 6) == 0) {
        s->done = 1;
        return;
    }

    s->data_bytes += n;

    if (n > 9 && memcmp(p, "{\"error\"", 8) == 0) {
        s->error = 1;
    }

    /* most chunks say "usage":null or nothing: no need to parse those */
    if (airouter_sse_has_usage(p, n)) {
        has_usage = 1;

    } else if (s->text == NULL) {
        return;

    } else {
        has_usage = 0;
    }

    /*
     * The usual event (no usage; deltas of plain strings) is read where
     * it lies: validated as jansson would read it, then walked, its
     * strings decoded in place.  Anything else is parsed whole.
     */
    if (!has_usage) {
        if (airouter_json_valid(p, n) != 0
            || airouter_sse_text(p, n, s->text, s->text_data) == 0)
        {
            return;
        }
    }

    root = json_loadb(p, n, 0, NULL);
    if (root == NULL) {
        return;
    }

    if (has_usage) {
        (void) airouter_usage_from_root(root, &s->usage);
    }

    if (s->text) {
        airouter_text_choices(root, "delta", s->text, s->text_data);
    }

    json_decref(root);
}


/*
 * airouter_text_choices(root, "delta", ...) without a tree, on an event
 * airouter_json_valid() accepted: the same pieces in the same order (a
 * repeated key: its last value, as jansson keeps).  One walk notes where
 * the pieces are; when it went through, they are decoded in place and
 * handed over.  Returns 0 when done, -1 for the tree's path (a content
 * given in parts, more pieces than noted here, a key with an escape).
 */
#define AIROUTER_SSE_PIECES  16

typedef struct {
    size_t                    n;
    airouter_json_span_t      piece[AIROUTER_SSE_PIECES];
} airouter_sse_pieces_t;


static int airouter_sse_text_choice(char *p, airouter_json_span_t *c,
    airouter_sse_pieces_t *pc);
static int airouter_sse_text_value(char *p, airouter_json_span_t *v,
    airouter_sse_pieces_t *pc);


static int
airouter_sse_text(char *p, size_t n, airouter_text_pt text, void *data)
{
    int                     rc, found;
    long                    len;
    size_t                  i;
    airouter_json_iter_t    it, ai;
    airouter_json_span_t    sp, choices, c;
    airouter_sse_pieces_t   pc;

    if (airouter_json_iter_init(&it, p, n) != 0) {
        return -1;
    }

    found = 0;
    memset(&choices, 0, sizeof(airouter_json_span_t));

    while ((rc = airouter_json_iter_next(&it, &sp)) == 1) {
        if (airouter_json_key_is(p, &sp, "choices")) {
            choices = sp;
            found = 1;
        }
    }

    if (rc != 0) {
        return -1;
    }

    if (!found || p[choices.start] != '[') {
        return 0;               /* json_array_foreach() on no array */
    }

    if (airouter_json_array_init(&ai, p + choices.start,
                                 choices.end - choices.start)
        != 0)
    {
        return -1;
    }

    pc.n = 0;

    while ((rc = airouter_json_array_next(&ai, &c)) == 1) {
        c.start += choices.start;
        c.end += choices.start;

        if (airouter_sse_text_choice(p, &c, &pc) != 0) {
            return -1;
        }
    }

    if (rc != 0) {
        return -1;
    }

    for (i = 0; i < pc.n; i++) {
        len = airouter_json_unescape(p + pc.piece[i].start,
                                     pc.piece[i].end - pc.piece[i].start,
                                     p + pc.piece[i].start);
        if (len < 0) {
            return i ? 0 : -1;
        }

        if (len > 0) {
            text(data, p + pc.piece[i].start, (size_t) len);
        }
    }

    return 0;
}


/* One of choices[]: delta's content and tool calls, or its text. */
static int
airouter_sse_text_choice(char *p, airouter_json_span_t *c,
    airouter_sse_pieces_t *pc)
{
    int                   rc, has_delta, has_text, has_content, has_calls;
    airouter_json_iter_t  it, ai, ci;
    airouter_json_span_t  sp, delta, txt, content, calls, call, fn, args;

    if (p[c->start] != '{') {
        return 0;                   /* json_object_get() finds nothing */
    }

    memset(&delta, 0, sizeof(airouter_json_span_t));
    memset(&txt, 0, sizeof(airouter_json_span_t));
    memset(&content, 0, sizeof(airouter_json_span_t));
    memset(&calls, 0, sizeof(airouter_json_span_t));

    if (airouter_json_iter_init(&it, p + c->start, c->end - c->start) != 0) {
        return -1;
    }

    has_delta = 0;
    has_text = 0;

    while ((rc = airouter_json_iter_next(&it, &sp)) == 1) {
        sp.start += c->start;
        sp.end += c->start;

        if (airouter_json_key_is(p + c->start, &sp, "delta")) {
            delta = sp;
            has_delta = 1;

        } else if (airouter_json_key_is(p + c->start, &sp, "text")) {
            txt = sp;
            has_text = 1;
        }
    }

    if (rc != 0) {
        return -1;
    }

    if (!has_delta || p[delta.start] != '{') {
        return has_text ? airouter_sse_text_value(p, &txt, pc) : 0;
    }

    if (airouter_json_iter_init(&it, p + delta.start,
                                delta.end - delta.start)
        != 0)
    {
        return -1;
    }

    has_content = 0;
    has_calls = 0;

    while ((rc = airouter_json_iter_next(&it, &sp)) == 1) {
        sp.start += delta.start;
        sp.end += delta.start;

        if (airouter_json_key_is(p + delta.start, &sp, "content")) {
            content = sp;
            has_content = 1;

        } else if (airouter_json_key_is(p + delta.start, &sp, "tool_calls")) {
            calls = sp;
            has_calls = 1;
        }
    }

    if (rc != 0) {
        return -1;
    }

    if (has_content && airouter_sse_text_value(p, &content, pc) != 0) {
        return -1;
    }

    if (!has_calls || p[calls.start] != '[') {
        return 0;
    }

    if (airouter_json_array_init(&ai, p + calls.start,
                                 calls.end - calls.start)
        != 0)
    {
        return -1;
    }

    while ((rc = airouter_json_array_next(&ai, &call)) == 1) {
        call.start += calls.start;
        call.end += calls.start;

        if (p[call.start] != '{'
            || airouter_json_iter_init(&ci, p + call.start,
                                       call.end - call.start)
               != 0)
        {
            continue;
        }

        fn.start = 0;

        while ((rc = airouter_json_iter_next(&ci, &sp)) == 1) {
            if (airouter_json_key_is(p + call.start, &sp, "function")) {
                fn = sp;
                fn.start += call.start;
                fn.end += call.start;
            }
        }

        if (rc != 0) {
            return -1;
        }

        if (fn.start == 0 || p[fn.start] != '{'
            || airouter_json_iter_init(&ci, p + fn.start, fn.end - fn.start)
               != 0)
        {
            continue;
        }

        args.start = 0;

        while ((rc = airouter_json_iter_next(&ci, &sp)) == 1) {
            if (airouter_json_key_is(p + fn.start, &sp, "arguments")) {
                args = sp;
                args.start += fn.start;
                args.end += fn.start;
            }
        }

        if (rc != 0) {
            return -1;
        }

        if (args.start && airouter_sse_text_value(p, &args, pc) != 0) {
            return -1;
        }
    }

    return rc == 0 ? 0 : -1;
}


/*
 * airouter_text_content() on one value: a string is a piece (an empty
 * one gives nothing when decoded); an array (parts) goes to the tree's
 * path; anything else has no text.
 */
static int
airouter_sse_text_value(char *p, airouter_json_span_t *v,
    airouter_sse_pieces_t *pc)
{
    if (p[v->start] == '[') {
        return -1;
    }

    if (p[v->start] != '"' || v->end - v->start <= 2) {
        return 0;
    }

    if (pc->n == AIROUTER_SSE_PIECES) {
        return -1;
    }

    pc->piece[pc->n++] = *v;

    return 0;
}


/* choices[].<field> (message or delta), or choices[].text */
static void
airouter_text_choices(json_t *root, const char *field, airouter_text_pt text,
    void *data)
{
    size_t   i;
    json_t  *choice, *msg;

    json_array_foreach(json_object_get(root, "choices"), i, choice) {
        msg = json_object_get(choice, field);

        if (json_is_object(msg)) {
            airouter_text_content(json_object_get(msg, "content"), text,
                                  data);
            airouter_text_tools(json_object_get(msg, "tool_calls"), text,
                                data);

        } else {
            airouter_text_content(json_object_get(choice, "text"), text,
                                  data);
        }
    }
}


static void
airouter_text_content(json_t *content, airouter_text_pt text, void *data)
{
    size_t   i;
    json_t  *part;

    if (json_is_string(content)) {
        if (json_string_length(content)) {
            text(data, json_string_value(content),
                 json_string_length(content));
        }

        return;
    }

    json_array_foreach(content, i, part) {
        airouter_text_content(json_is_string(part)
                              ? part : json_object_get(part, "text"),
                              text, data);
    }
}


static void
airouter_text_tools(json_t *calls, airouter_text_pt text, void *data)
{
    size_t   i;
    json_t  *call;

    json_array_foreach(calls, i, call) {
        airouter_text_content(json_object_get(json_object_get(call,
                                                              "function"),
                                              "arguments"),
                              text, data);
    }
}


/*
 * One pass over the line for the key, not one call per '"': memchr()
 * looks for its 'g', which the members of a chat chunk never have.
 */
static int
airouter_sse_has_usage(const char *p, size_t n)
{
    const char  *q, *last;

    if (n < 8) {
        return 0;
    }

    last = p + n;

    for (q = p + 4; q < last - 2; q++) {
        q = memchr(q, 'g', last - 2 - q);

        if (q == NULL) {
            return 0;
        }

        if (memcmp(q - 4, "\"usage\"", 7) != 0) {
            continue;
        }

        q += 3;

        while (q < last && (*q == ' ' || *q == ':' || *q == '\t')) {
            q++;
        }

        if (q < last && *q == '{') {
            return 1;
        }

        q--;
    }

    return 0;
}


static long
airouter_usage_field(json_t *usage, const char *name)
{
    json_t  *v;

    v = json_object_get(usage, name);

    /* as the scan: at most 18 digits, so that sums cannot overflow */
    return json_is_integer(v) && json_integer_value(v) < 1000000000000000000LL
           && json_integer_value(v) > -1000000000000000000LL
           ? (long) json_integer_value(v) : -1;
}
