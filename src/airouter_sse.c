/*
 * The SSE usage scanner and the JSON usage reader; see airouter_sse.h.
 */

#include <string.h>

#include <jansson.h>

#include "airouter_sse.h"


static void airouter_sse_line(airouter_sse_t *s, const char *p, size_t n);
static int airouter_sse_has_usage(const char *p, size_t n);
static long airouter_usage_field(json_t *usage, const char *name,
    const char *alt);
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
    const char  *lf;
    size_t       chunk;

    if (n) {
        s->started = 1;
    }

    while (n) {
        lf = memchr(p, '\n', n);
        chunk = lf ? (size_t) (lf - p) : n;

        if (chunk) {
            s->newlines = 0;

            if (!s->overflow) {
                if (s->len + chunk <= s->size) {
                    memcpy(s->line + s->len, p, chunk);
                    s->len += chunk;

                } else {
                    s->overflow = 1;
                }
            }
        }

        if (lf == NULL) {
            return;
        }

        if (s->len && s->line[s->len - 1] == '\r') {
            s->len--;
        }

        if (s->len == 0 && !s->overflow) {
            /* a blank line ends an event */
            if (s->newlines < 2) {
                s->newlines++;
            }

        } else {
            if (!s->overflow) {
                airouter_sse_line(s, s->line, s->len);
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
    json_t  *usage, *v;

    usage = json_object_get(root, "usage");

    if (!json_is_object(usage)) {
        return 0;
    }

    u->prompt_tokens = airouter_usage_field(usage, "prompt_tokens",
                                            "input_tokens");
    u->completion_tokens = airouter_usage_field(usage, "completion_tokens",
                                                "output_tokens");
    u->total_tokens = airouter_usage_field(usage, "total_tokens", NULL);

    /* embeddings report prompt and total only */
    if (u->completion_tokens < 0 && u->prompt_tokens >= 0) {
        u->completion_tokens = 0;
    }

    if (u->total_tokens < 0 && u->prompt_tokens >= 0) {
        u->total_tokens = u->prompt_tokens + u->completion_tokens;
    }

    v = json_object_get(usage, "prompt_tokens_details");
    if (!json_is_object(v)) {
        v = json_object_get(usage, "input_tokens_details");
    }

    u->cached_tokens = airouter_usage_field(v, "cached_tokens", NULL);
    u->cache_write_tokens = airouter_usage_field(v, "cache_write_tokens",
                                                 NULL);

    if (u->cached_tokens < 0) {
        u->cached_tokens = airouter_usage_field(usage,
                                                "prompt_cache_hit_tokens",
                                                NULL);
    }

    /* OpenRouter says what it charged, in USD */
    v = json_object_get(usage, "cost");
    u->cost = json_is_number(v) && json_number_value(v) >= 0
              ? json_number_value(v) : -1;

    return 1;
}


void
airouter_tail_feed(airouter_tail_t *t, const char *p, size_t n)
{
    size_t  keep;

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
airouter_sse_line(airouter_sse_t *s, const char *p, size_t n)
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


static int
airouter_sse_has_usage(const char *p, size_t n)
{
    const char  *q, *last;

    last = p + n;

    while (p < last) {
        q = memchr(p, '"', last - p);
        if (q == NULL || last - q < 8) {
            return 0;
        }

        if (memcmp(q, "\"usage\"", 7) == 0) {
            q += 7;

            while (q < last && (*q == ' ' || *q == ':' || *q == '\t')) {
                q++;
            }

            if (q < last && *q == '{') {
                return 1;
            }
        }

        p = q + 1;
    }

    return 0;
}


static long
airouter_usage_field(json_t *usage, const char *name, const char *alt)
{
    json_t  *v;

    v = json_object_get(usage, name);

    if (!json_is_integer(v) && alt) {
        v = json_object_get(usage, alt);
    }

    return json_is_integer(v) ? (long) json_integer_value(v) : -1;
}
