/*
 * The SSE usage scanner: usage in the final chunk whatever way the stream
 * is cut into buffers, long lines, boundaries, and non-stream bodies.
 */

#include <jansson.h>

#include "unit.h"
#include "airouter_sse.h"


static void
unit_text_ignore(void *data, const char *p, size_t n)
{
    (void) data;
    (void) p;
    (void) n;
}


static const char  stream[] =
    "data: {\"id\":\"1\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}],"
    "\"usage\":null}\n\n"
    ": keep-alive comment\n\n"
    "data: {\"id\":\"1\",\"choices\":[{\"delta\":{},\"finish_reason\":"
    "\"stop\"}],\"usage\": null}\r\n\r\n"
    "data: {\"id\":\"1\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,"
    "\"completion_tokens\":34,\"total_tokens\":46}}\n\n"
    "data: [DONE]\n\n";


static void
test_every_split(void)
{
    char            buf[512];
    size_t          len, cut;
    airouter_sse_t  s;
    int             ok;

    len = sizeof(stream) - 1;
    ok = 1;

    for (cut = 0; cut <= len; cut++) {
        airouter_sse_init(&s, buf, sizeof(buf));
        airouter_sse_feed(&s, stream, cut);
        airouter_sse_feed(&s, stream + cut, len - cut);

        if (s.usage.prompt_tokens != 12 || s.usage.completion_tokens != 34
            || s.usage.total_tokens != 46 || !s.done || s.events != 4
            || !airouter_sse_at_boundary(&s))
        {
            ok = 0;
            fprintf(stderr, "split at %zu: %ld %ld done %d events %zu\n",
                    cut, s.usage.prompt_tokens, s.usage.completion_tokens,
                    s.done, s.events);
        }
    }

    UNIT_CHECK(ok, "usage found at every split point");

    /* byte by byte */
    airouter_sse_init(&s, buf, sizeof(buf));
    for (cut = 0; cut < len; cut++) {
        airouter_sse_feed(&s, stream + cut, 1);
    }

    UNIT_CHECK(s.usage.prompt_tokens == 12 && s.done, "byte by byte");
}


static void
test_boundaries(void)
{
    char            buf[64];
    airouter_sse_t  s;

    airouter_sse_init(&s, buf, sizeof(buf));
    UNIT_CHECK(airouter_sse_at_boundary(&s), "empty stream");

    airouter_sse_feed(&s, "data: {\"a\":1}", 13);
    UNIT_CHECK(!airouter_sse_at_boundary(&s), "mid-line");

    airouter_sse_feed(&s, "\n", 1);
    UNIT_CHECK(!airouter_sse_at_boundary(&s), "line ended, event not");

    airouter_sse_feed(&s, "\n", 1);
    UNIT_CHECK(airouter_sse_at_boundary(&s), "event ended");

    airouter_sse_feed(&s, "data: {\"error\":{\"message\":\"x\"}}\n\n", 34);
    UNIT_CHECK(s.error, "error event noticed");
    UNIT_CHECK(s.usage.prompt_tokens == -1, "no usage");
}


static void
test_last_boundary(void)
{
    size_t       k, n, full;
    const char  *t;

    UNIT_CHECK(airouter_sse_last_boundary("", 0, 0) == 0, "empty");
    UNIT_CHECK(airouter_sse_last_boundary("data: x\n", 8, 0) == 0,
               "a line is not an event");
    UNIT_CHECK(airouter_sse_last_boundary("data: x\n\n", 9, 0) == 9,
               "LF LF");
    UNIT_CHECK(airouter_sse_last_boundary("data: x\r\n\r\n", 11, 0) == 11,
               "CR LF CR LF");
    UNIT_CHECK(airouter_sse_last_boundary("data: x\r\n", 9, 0) == 0,
               "one CR LF");

    t = "data: a\n\ndata: b\n\ndata: {\"c\":";
    n = strlen(t);
    full = airouter_sse_last_boundary(t, n, 0);
    UNIT_CHECK(full == 18, "the last of two events, the partial one after");

    /* from: a boundary ending at or before it is not looked for */
    for (k = 0; k <= n; k++) {
        UNIT_CHECK(airouter_sse_last_boundary(t, n, k)
                   == (full > k ? full : 0), "from %zu", k);
    }
}


static void
test_long_lines(void)
{
    char            buf[32], big[200];
    airouter_sse_t  s;

    memset(big, 'x', sizeof(big));

    airouter_sse_init(&s, buf, sizeof(buf));
    airouter_sse_feed(&s, "data: ", 6);
    airouter_sse_feed(&s, big, sizeof(big));
    airouter_sse_feed(&s, "\n\n", 2);
    UNIT_CHECK(s.events == 0 && airouter_sse_at_boundary(&s),
               "a long line is skipped whole");

    airouter_sse_feed(&s, "data: [DONE]\n\n", 14);
    UNIT_CHECK(s.done && s.events == 1, "and the next one is read");
}


static void test_total_only(void);


static void
test_json(void)
{
    airouter_usage_t  u;
    const char       *chat, *emb, *none, *anth;

    chat = "{\"choices\":[],\"usage\":{\"prompt_tokens\":5,"
           "\"completion_tokens\":7,\"total_tokens\":12}}";
    emb = "{\"data\":[],\"usage\":{\"prompt_tokens\":8,\"total_tokens\":8}}";
    none = "{\"choices\":[]}";
    anth = "{\"usage\":{\"input_tokens\":3,\"output_tokens\":4}}";

    airouter_usage_init(&u);
    UNIT_CHECK(airouter_usage_from_json(chat, strlen(chat), &u)
               && u.prompt_tokens == 5 && u.completion_tokens == 7
               && u.total_tokens == 12, "chat usage");

    airouter_usage_init(&u);
    UNIT_CHECK(airouter_usage_from_json(emb, strlen(emb), &u)
               && u.prompt_tokens == 8 && u.completion_tokens == 0
               && u.total_tokens == 8, "embedding usage");

    airouter_usage_init(&u);
    UNIT_CHECK(!airouter_usage_from_json(none, strlen(none), &u)
               && u.prompt_tokens == -1, "no usage");

    airouter_usage_init(&u);
    UNIT_CHECK(airouter_usage_from_json(anth, strlen(anth), &u)
               && u.prompt_tokens == 3 && u.completion_tokens == 4
               && u.total_tokens == 7, "input/output tokens");

    UNIT_CHECK(!airouter_usage_from_json("{\"usage\":", 9, &u),
               "truncated");

    test_total_only();
}


/*
 * A usage object with a total alone (Jina-style rerank, some embedding
 * providers) is input, by both readers (the scan and jansson's tree).
 */
static void
test_total_only(void)
{
    size_t             i;
    airouter_usage_t   u;
    const char        *a;

    static const struct {
        const char  *answer;
        long         prompt, completion, total;
    } cases[] = {
        { "{\"results\":[],\"usage\":{\"total_tokens\":42}}", 42, 0, 42 },
        { "{\"usage\":{\"total_tokens\":42,\"completion_tokens\":2}}",
          40, 2, 42 },
        { "{\"usage\":{\"total_tokens\":3,\"completion_tokens\":5}}",
          0, 5, 3 },
        { "{\"usage\":{\"total_tokens\":0}}", 0, 0, 0 },
        { "{\"usage\":{\"prompt_tokens\":8,\"total_tokens\":9}}", 8, 0, 9 },
        { "{\"usage\":{\"total_tokens\":\"42\"}}", -1, -1, -1 },
        { "{\"usage\":{\"total_tokens\":-1}}", -1, -1, -1 },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        a = cases[i].answer;

        airouter_usage_init(&u);
        (void) airouter_usage_from_json(a, strlen(a), &u);
        UNIT_CHECK(u.prompt_tokens == cases[i].prompt
                   && u.completion_tokens == cases[i].completion
                   && u.total_tokens == cases[i].total,
                   "tree: %s: %ld %ld %ld", a, u.prompt_tokens,
                   u.completion_tokens, u.total_tokens);

        airouter_usage_init(&u);
        (void) airouter_usage_from_answer(a, strlen(a), &u);
        UNIT_CHECK(u.prompt_tokens == cases[i].prompt
                   && u.completion_tokens == cases[i].completion
                   && u.total_tokens == cases[i].total,
                   "scan: %s: %ld %ld %ld", a, u.prompt_tokens,
                   u.completion_tokens, u.total_tokens);
    }
}


/* what the text callback saw, concatenated */
typedef struct {
    char    buf[256];
    size_t  len;
    size_t  calls;
} text_sink_t;


static void
text_sink(void *data, const char *p, size_t n)
{
    text_sink_t  *t = data;

    if (t->len + n < sizeof(t->buf)) {
        memcpy(t->buf + t->len, p, n);
        t->len += n;
        t->buf[t->len] = '\0';
    }

    t->calls++;
}


static void
test_cost_and_cache(void)
{
    airouter_usage_t  u;
    const char       *or, *cached;

    or = "{\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7,"
         "\"total_tokens\":12,\"cost\":0.000123}}";
    cached = "{\"usage\":{\"prompt_tokens\":50,\"completion_tokens\":1,"
             "\"prompt_tokens_details\":{\"cached_tokens\":32}}}";

    airouter_usage_init(&u);
    UNIT_CHECK(airouter_usage_from_json(or, strlen(or), &u)
               && u.cost > 0.000122 && u.cost < 0.000124
               && u.cached_tokens == -1, "usage.cost: %f", u.cost);

    airouter_usage_init(&u);
    UNIT_CHECK(airouter_usage_from_json(cached, strlen(cached), &u)
               && u.cached_tokens == 32 && u.cache_write_tokens == -1
               && u.cost < 0,
               "cached tokens: %ld", u.cached_tokens);

    /* OpenRouter's cache writes (Anthropic models) */
    cached = "{\"usage\":{\"prompt_tokens\":900,\"completion_tokens\":3,"
             "\"prompt_tokens_details\":{\"cached_tokens\":0,"
             "\"cache_write_tokens\":800}}}";
    airouter_usage_init(&u);
    UNIT_CHECK(airouter_usage_from_json(cached, strlen(cached), &u)
               && u.cached_tokens == 0 && u.cache_write_tokens == 800,
               "cache writes: %ld", u.cache_write_tokens);

    /* DeepSeek's names */
    cached = "{\"usage\":{\"prompt_tokens\":120,\"completion_tokens\":4,"
             "\"prompt_cache_hit_tokens\":64,"
             "\"prompt_cache_miss_tokens\":56}}";
    airouter_usage_init(&u);
    UNIT_CHECK(airouter_usage_from_json(cached, strlen(cached), &u)
               && u.cached_tokens == 64 && u.prompt_tokens == 120,
               "deepseek cache hits: %ld", u.cached_tokens);

    /* the Responses API's names */
    cached = "{\"usage\":{\"input_tokens\":70,\"output_tokens\":4,"
             "\"input_tokens_details\":{\"cached_tokens\":20}}}";
    airouter_usage_init(&u);
    UNIT_CHECK(airouter_usage_from_json(cached, strlen(cached), &u)
               && u.cached_tokens == 20 && u.prompt_tokens == 70,
               "responses cached tokens: %ld", u.cached_tokens);
}


static void
test_answer_text(void)
{
    text_sink_t  t;
    const char  *msg, *tool, *parts, *compl;

    msg = "{\"choices\":[{\"message\":{\"role\":\"assistant\","
          "\"content\":\"Hello!\"}}]}";
    tool = "{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":"
           "[{\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":1}\"}}]}}]}";
    parts = "{\"choices\":[{\"message\":{\"content\":[{\"type\":\"text\","
            "\"text\":\"ab\"},{\"type\":\"text\",\"text\":\"cd\"}]}}]}";
    compl = "{\"choices\":[{\"text\":\"once\"},{\"text\":\" more\"}]}";

    memset(&t, 0, sizeof(t));
    UNIT_CHECK(airouter_answer_text(msg, strlen(msg), text_sink, &t)
               && strcmp(t.buf, "Hello!") == 0, "message content");

    memset(&t, 0, sizeof(t));
    UNIT_CHECK(airouter_answer_text(tool, strlen(tool), text_sink, &t)
               && strcmp(t.buf, "{\"a\":1}") == 0, "tool call arguments: %s",
               t.buf);

    memset(&t, 0, sizeof(t));
    UNIT_CHECK(airouter_answer_text(parts, strlen(parts), text_sink, &t)
               && strcmp(t.buf, "abcd") == 0, "content parts");

    memset(&t, 0, sizeof(t));
    UNIT_CHECK(airouter_answer_text(compl, strlen(compl), text_sink, &t)
               && strcmp(t.buf, "once more") == 0, "completions text");

    memset(&t, 0, sizeof(t));
    UNIT_CHECK(!airouter_answer_text("[1", 2, text_sink, &t) && t.calls == 0,
               "not JSON");
}


static void
test_stream_text(void)
{
    char            buf[512];
    size_t          len, cut;
    text_sink_t     t;
    airouter_sse_t  s;
    const char     *feed;
    int             ok;

    len = sizeof(stream) - 1;
    ok = 1;

    for (cut = 0; cut <= len; cut++) {
        memset(&t, 0, sizeof(t));
        airouter_sse_init(&s, buf, sizeof(buf));
        s.text = text_sink;
        s.text_data = &t;
        airouter_sse_feed(&s, stream, cut);
        airouter_sse_feed(&s, stream + cut, len - cut);

        if (strcmp(t.buf, "Hi") != 0 || s.usage.prompt_tokens != 12
            || !s.done)
        {
            ok = 0;
            fprintf(stderr, "split at %zu: \"%s\"\n", cut, t.buf);
        }
    }

    UNIT_CHECK(ok, "delta.content and usage at every split point");

    /* tool call arguments arrive as deltas too */
    memset(&t, 0, sizeof(t));
    airouter_sse_init(&s, buf, sizeof(buf));
    s.text = text_sink;
    s.text_data = &t;
    feed = "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,"
           "\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\"\"}}]}}]}\n\n"
           "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,"
           "\"function\":{\"arguments\":\":1}\"}}]}}]}\n\n"
           "data: {\"error\":{\"message\":\"x\"}}\n\n";
    airouter_sse_feed(&s, feed, strlen(feed));
    UNIT_CHECK(strcmp(t.buf, "{\"a\":1}") == 0 && t.calls == 2 && s.error,
               "delta.tool_calls arguments: %s", t.buf);

    /* without a callback nothing but usage is parsed */
    airouter_sse_init(&s, buf, sizeof(buf));
    airouter_sse_feed(&s, stream, len);
    UNIT_CHECK(s.text == NULL && s.usage.completion_tokens == 34,
               "no text callback");
}


static void
test_tail(void)
{
    char              big[5000];
    size_t            i;
    airouter_tail_t   t;
    airouter_usage_t  u;
    const char       *end;

    /* an embeddings answer far larger than the tail, fed in pieces */
    memset(&t, 0, sizeof(t));
    end = "{\"data\":[{\"embedding\":[";
    airouter_tail_feed(&t, end, strlen(end));

    for (i = 0; i < sizeof(big); i += 2) {
        big[i] = '1';
        big[i + 1] = ',';
    }

    for (i = 0; i < 7; i++) {
        airouter_tail_feed(&t, big, sizeof(big) - i * 100);
    }

    end = "1]}],\"model\":\"e\",\"usage\":{\"prompt_tokens\":42,"
          "\"total_tokens\":42}}\n";

    for (i = 0; end[i]; i++) {
        airouter_tail_feed(&t, end + i, 1);
    }

    airouter_usage_init(&u);
    UNIT_CHECK(airouter_usage_from_tail(&t, &u) && u.prompt_tokens == 42
               && u.completion_tokens == 0 && t.len == AIROUTER_TAIL_SIZE,
               "usage at the end of a big body: %ld", u.prompt_tokens);
    UNIT_CHECK(airouter_tail_closed(&t), "a JSON answer's end");

    airouter_tail_feed(&t, "\n  ", 3);
    UNIT_CHECK(airouter_tail_closed(&t), "white space after it");

    airouter_tail_feed(&t, "<html>", 6);
    UNIT_CHECK(!airouter_tail_closed(&t), "something else after it");

    memset(&t, 0, sizeof(t));
    airouter_tail_feed(&t, "{\"id\":\"x\",\"data\":[0.1,0.", 25);
    UNIT_CHECK(!airouter_tail_closed(&t), "an answer cut short");

    memset(&t, 0, sizeof(t));
    end = "{\"a\":\"} ]\\\"\",\"u\":{\"p\":1}";
    airouter_tail_feed(&t, end, strlen(end));
    UNIT_CHECK(!airouter_tail_closed(&t), "cut after an inner object");
    airouter_tail_feed(&t, "}", 1);
    UNIT_CHECK(airouter_tail_closed(&t), "closed, brackets in strings aside");

    /* the last "usage" wins, strings with braces do not confuse it */
    memset(&t, 0, sizeof(t));
    end = "{\"usage\":{\"prompt_tokens\":1},\"x\":{\"usage\":{\"note\":\"}{\","
          "\"prompt_tokens\":2,\"completion_tokens\":3}}}";
    airouter_tail_feed(&t, end, strlen(end));
    airouter_usage_init(&u);
    UNIT_CHECK(airouter_usage_from_tail(&t, &u) && u.prompt_tokens == 2
               && u.completion_tokens == 3, "last usage: %ld", u.prompt_tokens);

    memset(&t, 0, sizeof(t));
    end = "{\"usage\":{\"prompt_tokens\":1";
    airouter_tail_feed(&t, end, strlen(end));
    UNIT_CHECK(!airouter_usage_from_tail(&t, &u), "cut usage object");

    memset(&t, 0, sizeof(t));
    end = "{\"choices\":[]}";
    airouter_tail_feed(&t, end, strlen(end));
    UNIT_CHECK(!airouter_usage_from_tail(&t, &u), "no usage");
}


/*
 * The events' text without a tree (#16 item 4): each event below is fed
 * as a stream event, and the pieces the callback gets (with a '|' after
 * each) must be those jansson's reading gives: the reference walks the
 * parsed event as airouter_text_choices() does.
 */
static void
ref_content(json_t *v, text_sink_t *t)
{
    size_t   i;
    json_t  *part;

    if (json_is_string(v)) {
        if (json_string_length(v)) {
            text_sink(t, json_string_value(v), json_string_length(v));
            text_sink(t, "|", 1);
        }
        return;
    }

    json_array_foreach(v, i, part) {
        ref_content(json_is_string(part) ? part : json_object_get(part, "text"),
                    t);
    }
}


static void
ref_text(const char *ev, text_sink_t *t)
{
    size_t   i, k;
    json_t  *root, *choice, *delta, *call;

    root = json_loads(ev, 0, NULL);
    if (root == NULL) {
        return;
    }

    json_array_foreach(json_object_get(root, "choices"), i, choice) {
        delta = json_object_get(choice, "delta");

        if (json_is_object(delta)) {
            ref_content(json_object_get(delta, "content"), t);

            json_array_foreach(json_object_get(delta, "tool_calls"), k, call) {
                ref_content(json_object_get(json_object_get(call, "function"),
                                            "arguments"), t);
            }

        } else {
            ref_content(json_object_get(choice, "text"), t);
        }
    }

    json_decref(root);
}


static void
piece_sink(void *data, const char *p, size_t n)
{
    text_sink(data, p, n);
    text_sink(data, "|", 1);
}


static void
test_event_text(void)
{
    size_t          i;
    char            line[1024], buf[512];
    text_sink_t     got, want;
    airouter_sse_t  s;
    static const char  *events[] = {
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}",
        "{\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}",
        "{\"choices\":[{\"delta\":{\"content\":\"a\\nb\\t\\\"q\\\" \\\\ \\/\"}}]}",
        "{\"choices\":[{\"delta\":{\"content\":\"caf\\u00e9 \\u20ac \\ud83d\\ude00!\"}}]}",
        "{\"choices\":[{\"delta\":{\"content\":null}}]}",
        "{\"choices\":[{\"delta\":{\"content\":\"x\",\"content\":\"last\"}}]}",
        "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
            "{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":1}\"}},{\"function\":"
            "{\"arguments\":\"\"}},7,{\"function\":null}],\"content\":\"c\"}}]}",
        "{\"choices\":[{\"delta\":{\"content\":\"one\"}},{\"delta\":"
            "{\"content\":\"two\"}},null,{\"text\":\"t\"}]}",
        "{\"choices\":[{\"text\":\"completion\",\"index\":0}]}",
        "{\"choices\":[{\"delta\":null,\"text\":\"fallback\"}]}",
        "{\"choices\":[{\"delta\":{\"content\":[{\"type\":\"text\","
            "\"text\":\"pa\"},\"rt\"]}}]}",
        "{\"choices\":{\"delta\":{\"content\":\"not an array\"}}}",
        "{\"choices\":[{\"delta\":{\"content\":\"bad\\u0000nul\"}}]}",
        "{\"choices\":[{\"delta\":{\"content\":\"truncated\"}}]",
        "{\"choices\":[{\"delta\":{\"content\":\"dup\"}}],\"choices\":[]}",
        "{\"ch\\u006fices\":[{\"delta\":{\"content\":\"escaped key\"}}]}",
        "{\"choices\":[{\"delta\":{\"content\":\"\\ud83d\"}}]}",
        "{ \"choices\" : [ { \"delta\" : { \"content\" : \"spaced\" } } ] }",
        "{\"choices\":[{\"delta\":{\"content\":\"nested\",\"x\":{\"y\":"
            "[1,{\"z\":\"}]\"}]}}}]}",
        "[1,2]",
        "{}"
    };

    for (i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
        memset(&got, 0, sizeof(got));
        memset(&want, 0, sizeof(want));

        airouter_sse_init(&s, buf, sizeof(buf));
        s.text = piece_sink;
        s.text_data = &got;

        snprintf(line, sizeof(line), "data: %s\n\n", events[i]);
        airouter_sse_feed(&s, line, strlen(line));

        ref_text(events[i], &want);

        UNIT_CHECK(strcmp(got.buf, want.buf) == 0,
                   "event %zu: got \"%s\", want \"%s\"", i, got.buf,
                   want.buf);
    }
}


/*
 * Without text wanted, whole lines are read where they lie: the bytes fed
 * stay as they were, a line cut between feeds still counts, and the usage
 * key is found only as a member holding an object (not in a string, not
 * as null), wherever the event is cut.
 */
static void
test_in_place(void)
{
    char            buf[256], big[300], fed[512];
    size_t          len, cut;
    airouter_sse_t  s;
    int             ok;

    static const char  events[] =
        "data: {\"choices\":[{\"delta\":{\"content\":\"big \\\"usage\\\" "
        "going\"}}],\"usage\":null}\n\n"
        "data: {\"x\":\"usage\",\"usage\" : {\"prompt_tokens\":7,"
        "\"completion_tokens\":2,\"total_tokens\":9}}\n\n"
        "data: [DONE]\n\n";

    len = sizeof(events) - 1;
    ok = 1;

    for (cut = 0; cut <= len; cut++) {
        memcpy(fed, events, len);

        airouter_sse_init(&s, buf, sizeof(buf));
        airouter_sse_feed(&s, fed, cut);
        airouter_sse_feed(&s, fed + cut, len - cut);

        if (memcmp(fed, events, len) != 0 || s.usage.prompt_tokens != 7
            || s.usage.total_tokens != 9 || !s.done || s.events != 3
            || s.data_bytes != len - 3 * 6 - 3 * 2 - 6
            || !airouter_sse_at_boundary(&s))
        {
            ok = 0;
            fprintf(stderr, "in place, split at %zu: %ld done %d events %zu "
                    "data %zu\n", cut, s.usage.prompt_tokens, s.done,
                    s.events, s.data_bytes);
        }
    }

    UNIT_CHECK(ok, "in place: bytes untouched, usage, [DONE], data bytes "
               "at every split");

    /* a whole line longer than buf is skipped as a copied one is */
    memset(big, 'x', sizeof(big));
    memcpy(big, "data: {\"usage\":{\"prompt_tokens\":1}", 35);
    big[sizeof(big) - 2] = '\n';
    big[sizeof(big) - 1] = '\n';

    airouter_sse_init(&s, buf, sizeof(buf));
    airouter_sse_feed(&s, big, sizeof(big));
    UNIT_CHECK(s.events == 0 && s.usage.prompt_tokens == -1
               && airouter_sse_at_boundary(&s), "a long whole line skipped");

    /* text wanted: lines are decoded in the copy, never in the bytes fed */
    memcpy(fed, events, len);
    airouter_sse_init(&s, buf, sizeof(buf));
    s.text = unit_text_ignore;
    airouter_sse_feed(&s, fed, len);
    UNIT_CHECK(memcmp(fed, events, len) == 0 && s.usage.prompt_tokens == 7,
               "with text: bytes untouched");
}


/*
 * The units per-unit prices count: usage.seconds (OpenAI's duration
 * usage) through every usage reader, and an answer's "data" elements and
 * "duration".
 */
static void
test_units(void)
{
    long               items;
    double             seconds;
    const char        *a;
    airouter_usage_t   u;
    airouter_tail_t    t;

    a = "{\"text\":\"hi\",\"usage\":{\"type\":\"duration\","
        "\"seconds\":3.5}}";

    airouter_usage_init(&u);
    UNIT_CHECK(u.seconds == -1, "init: unknown");
    UNIT_CHECK(airouter_usage_from_answer(a, strlen(a), &u) == 1
               && u.seconds == 3.5 && u.prompt_tokens == -1,
               "answer scan: %g", u.seconds);

    airouter_usage_init(&u);
    UNIT_CHECK(airouter_usage_from_json(a, strlen(a), &u) == 1
               && u.seconds == 3.5, "jansson: %g", u.seconds);

    memset(&t, 0, sizeof(t));
    airouter_tail_feed(&t, a, strlen(a));
    airouter_usage_init(&u);
    UNIT_CHECK(airouter_usage_from_tail(&t, &u) == 1 && u.seconds == 3.5,
               "tail: %g", u.seconds);

    /* absurd and negative durations are none */
    a = "{\"usage\":{\"seconds\":1e12}}";
    airouter_usage_init(&u);
    UNIT_CHECK(airouter_usage_from_answer(a, strlen(a), &u) == 1
               && u.seconds == -1, "absurd: %g", u.seconds);
    a = "{\"usage\":{\"seconds\":-2}}";
    airouter_usage_init(&u);
    UNIT_CHECK(airouter_usage_from_json(a, strlen(a), &u) == 1
               && u.seconds == -1, "negative: %g", u.seconds);

    /* token usage alone: no seconds */
    a = "{\"usage\":{\"prompt_tokens\":3,\"total_tokens\":3}}";
    airouter_usage_init(&u);
    UNIT_CHECK(airouter_usage_from_answer(a, strlen(a), &u) == 1
               && u.seconds == -1 && u.prompt_tokens == 3, "tokens only");

    a = "{\"created\":1,\"data\":[{\"url\":\"http://x/1\"},"
        "{\"b64_json\":\"QUJD\"},{\"url\":\"]\"}]}";
    airouter_answer_units(a, strlen(a), &items, &seconds);
    UNIT_CHECK(items == 3 && seconds == -1, "3 images: %ld", items);

    a = "{\"data\":[]}";
    airouter_answer_units(a, strlen(a), &items, &seconds);
    UNIT_CHECK(items == 0, "no image: %ld", items);

    a = "{\"task\":\"transcribe\",\"duration\":12.25,\"text\":\"x\"}";
    airouter_answer_units(a, strlen(a), &items, &seconds);
    UNIT_CHECK(items == -1 && seconds == 12.25, "duration %g", seconds);

    a = "{\"data\":{\"n\":1},\"duration\":\"12\"}";
    airouter_answer_units(a, strlen(a), &items, &seconds);
    UNIT_CHECK(items == -1 && seconds == -1, "not an array, a string");

    a = "{\"duration\":-1e3}";
    airouter_answer_units(a, strlen(a), &items, &seconds);
    UNIT_CHECK(seconds == -1, "negative duration");
}


int
main(void)
{
    test_every_split();
    test_boundaries();
    test_last_boundary();
    test_long_lines();
    test_json();
    test_cost_and_cache();
    test_answer_text();
    test_stream_text();
    test_event_text();
    test_tail();
    test_in_place();
    test_units();

    UNIT_DONE("test_sse");
}
