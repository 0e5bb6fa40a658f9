/*
 * airouter_json_scan: the member finder against hand-written cases, and
 * against jansson on random objects (what the scan finds must be what
 * jansson reads for the same key; where it gives up, jansson is the
 * caller's answer).  Also the answer-usage reader built on it, and the
 * validating walk (airouter_json_valid, airouter_json_member_valid).
 */

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "unit.h"
#include "airouter_json_scan.h"
#include "airouter_sse.h"


static int member(const char *text, const char *key, char *out,
    size_t size);
static void test_cases(void);
static void test_quote(void);
static void test_random(void);
static void test_usage(void);
static void test_usage_random(void);
static void test_valid(void);
static void test_string_bytes(void);
static void test_quote_bytes(void);
static void random_value(char *buf, size_t *len, size_t cap, int depth);


int
main(void)
{
    test_cases();
    test_quote();
    test_random();
    test_usage();
    test_usage_random();
    test_valid();
    test_string_bytes();
    test_quote_bytes();

    UNIT_DONE("test_json_scan");
}


/* The value's text, or "" with the return code of airouter_json_member. */
static int
member(const char *text, const char *key, char *out, size_t size)
{
    int                   rc;
    size_t                n;
    airouter_json_span_t  span;

    out[0] = '\0';
    rc = airouter_json_member(text, strlen(text), key, &span);

    if (rc == 1) {
        n = span.end - span.start;
        n = n < size - 1 ? n : size - 1;
        memcpy(out, text + span.start, n);
        out[n] = '\0';
    }

    return rc;
}


static void
test_cases(void)
{
    char  v[256];

    UNIT_CHECK(member("{\"model\":\"gpt\"}", "model", v, sizeof(v)) == 1
               && strcmp(v, "\"gpt\"") == 0, "plain: %s", v);

    UNIT_CHECK(member(" { \"a\" : [1, {\"model\": 2}] ,\n \"model\" :\t"
                      "\"x\\\"y\" } ", "model", v, sizeof(v)) == 1
               && strcmp(v, "\"x\\\"y\"") == 0,
               "nested model is not the top-level one: %s", v);

    UNIT_CHECK(member("{\"s\":\"}{][\\\\\",\"model\":{\"k\":[]}}", "model",
                      v, sizeof(v)) == 1
               && strcmp(v, "{\"k\":[]}") == 0, "brackets in strings: %s", v);

    UNIT_CHECK(member("{\"model\":1,\"model\":true}", "model", v, sizeof(v))
               == 1 && strcmp(v, "true") == 0, "last one wins: %s", v);

    UNIT_CHECK(member("{\"n\":-1.5e3,\"model\":null}", "model", v, sizeof(v))
               == 1 && strcmp(v, "null") == 0, "literals: %s", v);

    UNIT_CHECK(member("{\"x\":1}", "model", v, sizeof(v)) == 0, "absent");
    UNIT_CHECK(member("{ }", "model", v, sizeof(v)) == 0, "empty object");
    UNIT_CHECK(member("{\"models\":1,\"mode\":2}", "model", v, sizeof(v))
               == 0, "prefixes are other keys");

    UNIT_CHECK(member("{\"mod\\u0065l\":1}", "model", v, sizeof(v)) == -1,
               "an escaped key: give up");
    UNIT_CHECK(member("[1]", "model", v, sizeof(v)) == -1, "not an object");
    UNIT_CHECK(member("{\"model\":1} x", "model", v, sizeof(v)) == -1,
               "trailing bytes");
    UNIT_CHECK(member("{\"model\":\"abc", "model", v, sizeof(v)) == -1,
               "unterminated string");
    UNIT_CHECK(member("{\"model\":[1,2", "model", v, sizeof(v)) == -1,
               "unterminated array");
    UNIT_CHECK(member("{\"model\" 1}", "model", v, sizeof(v)) == -1,
               "no colon");
    UNIT_CHECK(member("{\"model\":}", "model", v, sizeof(v)) == -1,
               "no value");
    UNIT_CHECK(member("", "model", v, sizeof(v)) == -1, "nothing");
    UNIT_CHECK(member("{\"a\":1,", "model", v, sizeof(v)) == -1,
               "a trailing comma at the very end (read nothing past it)");
    UNIT_CHECK(member("{\"a\":1 ,  ", "model", v, sizeof(v)) == -1,
               "a trailing comma and white space");
}


static void
test_quote(void)
{
    char    out[64];
    size_t  n;

    n = airouter_json_quote(out, "a\"b\\c\n", 6);
    out[n] = '\0';

    UNIT_CHECK(n == airouter_json_quoted_len("a\"b\\c\n", 6)
               && strcmp(out, "\"a\\\"b\\\\c\\u000a\"") == 0,
               "quoted: %s", out);

    n = airouter_json_quote(out, "qwen/qwen3:free", 15);
    UNIT_CHECK(n == 17 && memcmp(out, "\"qwen/qwen3:free\"", 17) == 0,
               "plain id");
}


static void
random_value(char *buf, size_t *len, size_t cap, int depth)
{
    int          k, i, n;
    static const char *strs[] = {
        "\"model\"", "\"a\\\"b\"", "\"}{\"", "\"\\\\\"", "\"\\u00e9\"",
        "\"x,y\"", "\"\"", "\"[\""
    };
    static const char *scalars[] = {
        "0", "-12", "3.25", "1e-7", "true", "false", "null"
    };

    if (*len + 64 >= cap) {
        *len += (size_t) snprintf(buf + *len, cap - *len, "0");
        return;
    }

    k = depth > 3 ? rand() % 2 : rand() % 4;

    switch (k) {
    case 0:
        *len += (size_t) snprintf(buf + *len, cap - *len, "%s",
                                  strs[rand() % 8]);
        break;

    case 1:
        *len += (size_t) snprintf(buf + *len, cap - *len, "%s",
                                  scalars[rand() % 7]);
        break;

    case 2:
        buf[(*len)++] = '[';
        n = rand() % 4;
        for (i = 0; i < n; i++) {
            if (i) {
                buf[(*len)++] = ',';
            }
            random_value(buf, len, cap, depth + 1);
        }
        buf[(*len)++] = ']';
        break;

    default:
        buf[(*len)++] = '{';
        n = rand() % 4;
        for (i = 0; i < n; i++) {
            if (i) {
                buf[(*len)++] = ',';
            }
            *len += (size_t) snprintf(buf + *len, cap - *len, "%s%s:%s",
                                      rand() % 2 ? " " : "",
                                      rand() % 3 ? "\"model\"" : "\"k\"",
                                      rand() % 2 ? " " : "");
            random_value(buf, len, cap, depth + 1);
        }
        buf[(*len)++] = '}';
        break;
    }

    buf[*len] = '\0';
}


static void
test_random(void)
{
    int                   i, rc, agree, found, parsed;
    char                  buf[8192];
    size_t                len;
    json_t               *root, *want, *got;
    airouter_json_span_t  span;

    srand(42);
    agree = 0;
    found = 0;
    parsed = 0;

    for (i = 0; i < 20000; i++) {
        len = 0;
        buf[0] = '{';
        len = 1;

        /* a top-level object with one to four members */
        {
            int  m, n;

            n = 1 + rand() % 4;
            for (m = 0; m < n; m++) {
                if (m) {
                    buf[len++] = ',';
                }
                len += (size_t) snprintf(buf + len, sizeof(buf) - len,
                                         "%s:", rand() % 2 ? "\"model\""
                                                           : "\"other\"");
                random_value(buf, &len, sizeof(buf) - 8, 1);
            }
        }

        buf[len++] = '}';
        buf[len] = '\0';

        root = json_loadb(buf, len, 0, NULL);
        if (root == NULL) {
            continue;               /* the generator wrote a bad one */
        }

        parsed++;

        want = json_object_get(root, "model");
        rc = airouter_json_member(buf, len, "model", &span);

        if (rc == 1) {
            got = json_loadb(buf + span.start, span.end - span.start,
                             JSON_DECODE_ANY, NULL);
            agree += (want != NULL && got != NULL && json_equal(want, got));
            found++;
            json_decref(got);

        } else {
            agree += (rc == 0 && want == NULL);
        }

        json_decref(root);
    }

    UNIT_CHECK(parsed > 15000 && found > 5000, "parsed %d, found in %d",
               parsed, found);
    UNIT_CHECK(agree == parsed, "scan and jansson agree on %d of %d",
               agree, parsed);
}


static void
test_usage(void)
{
    airouter_usage_t  u;
    const char       *a;

    a = "{\"id\":\"x\",\"choices\":[{\"message\":{\"content\":"
        "\"\\\"usage\\\": {\\\"prompt_tokens\\\": 99}\"}}],"
        "\"usage\":{\"prompt_tokens\":21,\"completion_tokens\":14,"
        "\"total_tokens\":35,\"prompt_tokens_details\":"
        "{\"cached_tokens\":5}}}";

    airouter_usage_init(&u);
    UNIT_CHECK(airouter_usage_from_answer(a, strlen(a), &u) == 1
               && u.prompt_tokens == 21 && u.completion_tokens == 14
               && u.cached_tokens == 5, "answer usage: %ld", u.prompt_tokens);

    a = "{\"id\":\"x\",\"usage\":null}";
    airouter_usage_init(&u);
    UNIT_CHECK(airouter_usage_from_answer(a, strlen(a), &u) == 0
               && u.prompt_tokens == -1, "usage null");

    a = "{\"id\":\"x\"}";
    UNIT_CHECK(airouter_usage_from_answer(a, strlen(a), &u) == 0, "none");

    a = "{\"id\":\"x\",\"usage\":{\"prompt_tokens\":1";
    UNIT_CHECK(airouter_usage_from_answer(a, strlen(a), &u) == -1,
               "truncated: parse it whole");
}


/* The scan and the jansson reader settle random usage objects alike. */
static void
test_usage_random(void)
{
    int               i, k, m, same, rc;
    char              buf[2048];
    size_t            len;
    airouter_usage_t  a, b;
    static const char *keys[] = {
        "prompt_tokens", "completion_tokens", "total_tokens", "input_tokens",
        "output_tokens", "prompt_cache_hit_tokens", "cost", "x"
    };
    static const char *vals[] = {
        "12", "0", "-3", "7.5", "1e2", "null", "\"9\"", "true", "40",
        "0.00012"
    };
    static const char *details[] = { "prompt_tokens_details",
                                     "input_tokens_details" };
    static const char *dkeys[] = { "cached_tokens", "cache_write_tokens",
                                   "y" };

    srand(7);
    same = 0;

    for (i = 0; i < 20000; i++) {
        len = (size_t) snprintf(buf, sizeof(buf),
                                "{\"id\":\"c\",\"usage\":{");
        m = rand() % 7;

        for (k = 0; k < m; k++) {
            if (k) {
                buf[len++] = ',';
            }

            if (rand() % 4 == 0) {
                len += (size_t) snprintf(buf + len, sizeof(buf) - len,
                                         "\"%s\":", details[rand() % 2]);
                if (rand() % 5 == 0) {
                    len += (size_t) snprintf(buf + len, sizeof(buf) - len,
                                             "null");
                } else {
                    len += (size_t) snprintf(buf + len, sizeof(buf) - len,
                                             "{\"%s\":%s,\"%s\":%s}",
                                             dkeys[rand() % 3],
                                             vals[rand() % 10],
                                             dkeys[rand() % 3],
                                             vals[rand() % 10]);
                }

            } else {
                len += (size_t) snprintf(buf + len, sizeof(buf) - len,
                                         "\"%s\": %s", keys[rand() % 8],
                                         vals[rand() % 10]);
            }
        }

        len += (size_t) snprintf(buf + len, sizeof(buf) - len, "}}");

        airouter_usage_init(&a);
        airouter_usage_init(&b);

        rc = airouter_usage_from_answer(buf, len, &a);
        (void) airouter_usage_from_json(buf, len, &b);

        if (rc == 1 && a.prompt_tokens == b.prompt_tokens
            && a.completion_tokens == b.completion_tokens
            && a.total_tokens == b.total_tokens
            && a.cached_tokens == b.cached_tokens
            && a.cache_write_tokens == b.cache_write_tokens
            && a.cost == b.cost)
        {
            same++;

        } else if (same == i) {
            fprintf(stderr, "differs on %s\n", buf);
        }
    }

    UNIT_CHECK(same == 20000, "scan and jansson agree on %d of 20000", same);
}


/* What jansson refuses, the validating walk refuses; a cut text is -2. */
static void
test_valid(void)
{
    size_t                i, k, n;
    airouter_json_span_t  span;

    static const char  *good[] = {
        "{}", "[]", " {\"a\":[1,-0.5e+3,true,false,null,\"x\"]} \n",
        "{\"s\":\"\\u00e9\\ud83d\\ude00\\n\\\"\\\\\\/\",\"e\":\"\xe2\x82\xac\"}",
        "[[[[{\"a\":{}}]]]]", "{\"a\":{\"b\":[{},[]]},\"c\":0}",
        NULL
    };
    static const char  *bad[] = {
        "", "x", "\"str\"", "12", "<html>502</html>", "{\"a\":tru}",
        "{\"a\":1,}", "[1,2,]", "{\"a\" 1}", "{\"a\":1} x", "{\"a\":01}",
        "{\"a\":1.}", "{\"a\":-}", "{\"a\":.5}", "{\"a\":\"\t\"}",
        "{\"a\":\"\\x\"}", "{\"a\":\"\\u0000\"}", "{\"a\":\"\\ud800\"}",
        "{\"a\":\"\\udc00\"}", "{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}",
        "{\"a\":\"\xf4\x90\x80\x80\"}", "{\"a\":[}", "{\"a\":1]", "{1:2}",
        NULL
    };

    for (i = 0; good[i]; i++) {
        n = strlen(good[i]);
        UNIT_CHECK(airouter_json_valid(good[i], n) == 0, "valid: %s", good[i]);

        /* every proper prefix is the start of a value, never wrong */
        for (k = 1; k < n && good[i][k - 1] != '}' ; k++) {
            UNIT_CHECK(airouter_json_valid(good[i], k) == -2,
                       "prefix %zu of %s", k, good[i]);
        }
    }

    for (i = 0; bad[i]; i++) {
        n = strlen(bad[i]);
        UNIT_CHECK(airouter_json_valid(bad[i], n) != 0, "invalid: %s", bad[i]);
        UNIT_CHECK(json_loadb(bad[i], n, 0, NULL) == NULL,
                   "jansson agrees: %s", bad[i]);
    }

    UNIT_CHECK(airouter_json_valid("{\"a\":[1,", 8) == -2, "cut in an array");
    UNIT_CHECK(airouter_json_valid("<html", 5) == -1, "HTML is wrong at once");

    /* the member walk: found, absent, and not JSON at all */
    UNIT_CHECK(airouter_json_member_valid("{\"usage\":{\"a\":1},\"b\":[2]}", 25,
                                          "usage", &span) == 1
               && span.start == 9 && span.end == 16, "member found");
    UNIT_CHECK(airouter_json_member_valid("{\"b\":[2]}", 9, "usage", &span)
               == 0, "member absent");
    UNIT_CHECK(airouter_json_member_valid("{\"b\":[2,]}", 10, "usage", &span)
               == -1, "a bad value after the member's");
    UNIT_CHECK(airouter_json_member_valid("{\"usage\":1,\"b\":tru}", 19,
                                          "usage", &span) == -1,
               "a bad literal: not JSON");

#define MV(text)  airouter_json_member_valid(text, sizeof(text) - 1, "usage", \
                                             &span)

    /* an escaped key could be "usage" in disguise: jansson decides */
    UNIT_CHECK(MV("{\"us\\u0061ge\":{\"a\":1}}") == -1, "escaped key");
    UNIT_CHECK(MV("{\"b\\n\":1,\"usage\":{}}") == -1, "any escaped key");
    /* the last of two wins, as in jansson's object */
    UNIT_CHECK(MV("{\"usage\":1,\"usage\":{\"b\":2} }") == 1
               && span.start == 19 && span.end == 26
               && span.key_start == 11 && span.key_end == 18
               && span.open == 1, "the last usage");
    UNIT_CHECK(MV(" { } ") == 0 && MV("{\"u\":\"usage\"}") == 0
               && MV("{\"usages\":1}") == 0, "no usage member");
    UNIT_CHECK(MV("{\"usage\":1} x") == -1 && MV("{\"usage\":1,}") == -1
               && MV("{\"usage\" 1}") == -1 && MV("{\"usage\":1") == -1
               && MV("{usage:1}") == -1 && MV("[1]") == -1
               && MV("{\"usage\":1 \"b\":2}") == -1 && MV("{} {}") == -1
               && MV("{\"a\":\"\\x\"}") == -1, "not one object");
    /* nested keys may have escapes: only the top level is compared */
    UNIT_CHECK(MV("{\"c\":{\"\\u00e9\":1},\"usage\":{}}") == 1
               && span.start == 26, "escape below the top");

#undef MV
}


/*
 * Every probe at every place of strings 0 to 40 bytes long, with and
 * without 20 more bytes after them: the scan steps through strings 16 and
 * 8 bytes at a time, so each probe falls at every offset of a step, and
 * near the end of the text (where only the byte loop may read).  The scan
 * and jansson agree on each.
 */
static void
test_string_bytes(void)
{
    int          want, got, agree, total;
    char         doc[256];
    size_t       len, n, j, pr, pad;
    json_t      *root;
    const char  *probe;

    static const char  *probes[] = {
        "\"", "\\n", "\\q", "\\u00e9", "\\ud83d\\ude00", "\\ud83d",
        "\x1f", "\x01", "\x7f", " ", "~", "\xc3\xa9", "\xc3", "\xe2\x82\xac",
        "\xe2\x82", "\xf0\x9f\x98\x80", "\xed\xa0\x80", "\xff", "\x80",
        NULL
    };

    agree = 0;
    total = 0;

    for (len = 0; len <= 40; len++) {
        for (j = 0; j <= len; j++) {
            for (pr = 0; probes[pr]; pr++) {
                for (pad = 0; pad <= 20; pad += 20) {
                    probe = (j < len) ? probes[pr] : "";

                    n = (size_t) snprintf(doc, sizeof(doc),
                                          "{\"a\":\"%.*s%s%.*s\",\"b\":\"%.*s\"}",
                                          (int) j, "xxxxxxxxxxxxxxxxxxxx"
                                          "xxxxxxxxxxxxxxxxxxxx", probe,
                                          (int) (len - j),
                                          "yyyyyyyyyyyyyyyyyyyy"
                                          "yyyyyyyyyyyyyyyyyyyy",
                                          (int) pad, "zzzzzzzzzzzzzzzzzzzz");
                    if (pad == 0) {
                        /* the string last: no bytes after it to read */
                        n = (size_t) snprintf(doc, sizeof(doc),
                                              "[\"%.*s%s%.*s\"]", (int) j,
                                              "xxxxxxxxxxxxxxxxxxxx"
                                              "xxxxxxxxxxxxxxxxxxxx", probe,
                                              (int) (len - j),
                                              "yyyyyyyyyyyyyyyyyyyy"
                                              "yyyyyyyyyyyyyyyyyyyy");
                    }

                    root = json_loadb(doc, n, 0, NULL);
                    want = (root != NULL);
                    json_decref(root);
                    got = airouter_json_valid(doc, n) == 0;
                    agree += (want == got);
                    total++;

                    if (want != got) {
                        UNIT_CHECK(0, "scan %d, jansson %d: %s", got, want,
                                   doc);
                    }
                }
            }
        }
    }

    UNIT_CHECK(agree == total, "strings: scan and jansson agree on %d of %d",
               agree, total);
}


/*
 * Every probe at every place of ids 0 to 40 bytes long: the quoting
 * copies plain words of eight whole, so each probe falls at every offset
 * of a word and in the bytes after the last one.  What it writes is as long
 * as airouter_json_quoted_len() said, and jansson reads back the very
 * bytes quoted.
 */
static void
test_quote_bytes(void)
{
    int          agree, total;
    char         id[64], out[512];
    size_t       len, j, pr, n, plen;
    json_t      *v;
    const char  *probe;

    static const char  *probes[] = {
        "\"", "\\", "\x01", "\x1f", "\n", "\x7f", "\xc3\xa9", "/", ":", NULL
    };

    agree = 0;
    total = 0;

    for (len = 0; len <= 40; len++) {
        for (j = 0; j <= len; j++) {
            for (pr = 0; probes[pr]; pr++) {
                probe = (j < len) ? probes[pr] : "";
                plen = strlen(probe);

                memset(id, 'm', sizeof(id));
                memcpy(id + j, probe, plen);
                n = len + plen;

                total++;

                v = json_loadb(out, airouter_json_quote(out, id, n),
                               JSON_DECODE_ANY, NULL);

                if (airouter_json_quoted_len(id, n)
                        == airouter_json_quote(out, id, n)
                    && v != NULL && json_is_string(v)
                    && json_string_length(v) == n
                    && memcmp(json_string_value(v), id, n) == 0)
                {
                    agree++;

                } else {
                    UNIT_CHECK(0, "quote: len %zu, probe %zu at %zu", len, pr,
                               j);
                }

                json_decref(v);
            }
        }
    }

    UNIT_CHECK(agree == total, "quote: %d of %d read back whole", agree,
               total);
}
