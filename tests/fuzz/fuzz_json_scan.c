/*
 * The JSON member scanner (airouter_json_scan.c) on arbitrary bytes, with
 * jansson as the oracle:
 *
 *   - airouter_json_member(text, key): for "model", "usage" and every key
 *     jansson reads in the top-level object: 1 means jansson's value for
 *     the key equals the span parsed alone; 0 means jansson has no such
 *     key; -1 (gave up) is only allowed when the text has a backslash (an
 *     escaped key) or jansson does not read it as an object;
 *   - the member iterator: every span lies inside the text, in order, and
 *     on an object jansson reads without escapes it visits every key;
 *   - airouter_json_quote: the quoted input, read back by jansson, is the
 *     input (for valid UTF-8), and its length is airouter_json_quoted_len;
 *   - airouter_json_valid: 0 exactly when jansson reads the text (but for
 *     a raw NUL jansson lets pass after a number; numbers out of jansson's
 *     range are refused as jansson refuses them),
 *     and -2 only for a text some continuation would make valid;
 *     airouter_json_member_valid: what airouter_json_member says on text
 *     jansson reads as an object, -1 on text it does not.
 */

#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "airouter_json_scan.h"


static void check_member(const char *p, size_t n, json_t *root,
    const char *key);
static void check_iter(const char *p, size_t n, json_t *root);
static void check_quote(const uint8_t *data, size_t size);
static void check_valid(const char *p, size_t n);
static int valid_utf8(const uint8_t *p, size_t n);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char   *p, *key;
    json_t       *root, *v;

    p = (const char *) data;

    root = json_loadb(p, size, 0, NULL);
    if (root != NULL && !json_is_object(root)) {
        json_decref(root);
        root = NULL;
    }

    check_member(p, size, root, "model");
    check_member(p, size, root, "usage");
    check_member(p, size, root, "");

    if (root != NULL) {
        json_object_foreach(root, key, v) {
            check_member(p, size, root, key);
        }
    }

    check_iter(p, size, root);
    check_quote(data, size);
    check_valid(p, size);

    json_decref(root);

    return 0;
}


static void
check_member(const char *p, size_t n, json_t *root, const char *key)
{
    int                   rc;
    json_t               *want, *got;
    airouter_json_span_t  span;

    rc = airouter_json_member(p, n, key, &span);

    FUZZ_CHECK(rc >= -1 && rc <= 1, "rc %d", rc);

    if (rc == 1) {
        FUZZ_CHECK(span.key_start < span.key_end && span.key_end <= span.start
                   && span.start < span.end && span.end <= n
                   && span.open <= span.key_start,
                   "span %zu..%zu key %zu..%zu open %zu of %zu", span.start,
                   span.end, span.key_start, span.key_end, span.open, n);
        FUZZ_CHECK(p[span.key_start] == '"' && p[span.key_end - 1] == '"',
                   "key span not quoted");
    }

    if (root == NULL) {
        return;
    }

    /* a key with a NUL in it cannot be asked for with a C string */
    want = json_object_get(root, key);

    if (rc == 1) {
        got = json_loadb(p + span.start, span.end - span.start,
                         JSON_DECODE_ANY, NULL);
        FUZZ_CHECK(want != NULL && got != NULL && json_equal(want, got),
                   "key \"%s\": scan found \"%.*s\", jansson %s", key,
                   (int) (span.end - span.start), p + span.start,
                   want ? "differs" : "has no such key");
        json_decref(got);

    } else if (rc == 0) {
        FUZZ_CHECK(want == NULL, "key \"%s\": scan says absent, jansson "
                   "has it", key);

    } else {
        FUZZ_CHECK(memchr(p, '\\', n) != NULL, "key \"%s\": scan gave up "
                   "on an object jansson reads and that has no escape", key);
    }
}


static void
check_valid(const char *p, size_t n)
{
    int                   v, m, lenient;
    json_t               *root;
    json_error_t          err;
    airouter_json_span_t  a, b;

    root = json_loadb(p, n, 0, &err);
    v = airouter_json_valid(p, n);

    FUZZ_CHECK(v == 0 || v == -1 || v == -2, "valid rc %d", v);

    if (root != NULL && memchr(p, '\0', n) == NULL) {
        /* jansson swallows a raw NUL after a number ("[1\0]"): not JSON */
        FUZZ_CHECK(v == 0, "jansson reads it, valid says %d", v);

    } else {
        FUZZ_CHECK(v != 0, "valid says yes, jansson: %s", err.text);
    }

    if (v == -2) {
        FUZZ_CHECK(root == NULL || memchr(p, '\0', n) != NULL,
                   "valid says cut short, jansson reads it");
    }

    m = airouter_json_member_valid(p, n, "usage", &a);
    lenient = airouter_json_member(p, n, "usage", &b);

    if (m != -1) {
        FUZZ_CHECK(m == lenient && (m == 0 || (a.start == b.start
                                               && a.end == b.end)),
                   "member_valid %d, member %d", m, lenient);
        FUZZ_CHECK(v == 0, "member_valid read what valid refuses (%d)", v);

    } else if (json_is_object(root) && memchr(p, '\0', n) == NULL) {
        FUZZ_CHECK(memchr(p, '\\', n) != NULL, "member_valid gave up on an "
                   "object jansson reads and that has no escape");
    }

    json_decref(root);
}


static void
check_iter(const char *p, size_t n, json_t *root)
{
    int                   rc;
    size_t                last, count;
    airouter_json_iter_t  it;
    airouter_json_span_t  m;

    if (airouter_json_iter_init(&it, p, n) != 0) {
        FUZZ_CHECK(root == NULL, "iter_init refused an object jansson reads");
        return;
    }

    last = 0;
    count = 0;

    while ((rc = airouter_json_iter_next(&it, &m)) == 1) {
        FUZZ_CHECK(m.key_start >= last && m.key_start < m.key_end
                   && m.key_end <= m.start && m.start < m.end && m.end <= n,
                   "member %zu: key %zu..%zu value %zu..%zu of %zu", count,
                   m.key_start, m.key_end, m.start, m.end, n);
        (void) airouter_json_key_is(p, &m, "model");
        last = m.end;
        count++;
    }

    FUZZ_CHECK(rc == 0 || rc == -1, "iter rc %d", rc);

    /* after the end, the walk stays ended */
    FUZZ_CHECK(airouter_json_iter_next(&it, &m) == rc, "iter not sticky");

    if (root != NULL && memchr(p, '\\', n) == NULL) {
        FUZZ_CHECK(rc == 0, "iter failed on an object jansson reads");
        /* duplicates collapse in jansson */
        FUZZ_CHECK(count >= json_object_size(root), "iter saw %zu members, "
                   "jansson %zu", count, json_object_size(root));
    }
}


static void
check_quote(const uint8_t *data, size_t size)
{
    char    *out, *wrapped;
    size_t   need, got;
    json_t  *arr, *s;

    need = airouter_json_quoted_len((const char *) data, size);
    FUZZ_CHECK(need >= size + 2, "quoted_len %zu for %zu bytes", need, size);

    out = malloc(need + 2);
    if (out == NULL) {
        abort();
    }

    got = airouter_json_quote(out + 1, (const char *) data, size);
    FUZZ_CHECK(got == need, "quote wrote %zu, quoted_len said %zu", got,
               need);

    out[0] = '[';
    out[need + 1] = ']';
    wrapped = out;

    arr = json_loadb(wrapped, need + 2, JSON_ALLOW_NUL, NULL);

    if (arr != NULL) {
        s = json_array_get(arr, 0);
        FUZZ_CHECK(json_is_string(s) && json_string_length(s) == size
                   && memcmp(json_string_value(s), data, size) == 0,
                   "quoted string reads back different");
        json_decref(arr);

    } else {
        /* jansson refuses a quoted string only when it is not UTF-8 */
        FUZZ_CHECK(!valid_utf8(data, size), "quoted valid UTF-8 does not "
                   "parse: %.*s", (int) need, out + 1);
    }

    free(out);
}


/* Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
static int
valid_utf8(const uint8_t *p, size_t n)
{
    size_t    i, k, len;
    uint32_t  cp;

    for (i = 0; i < n; i += len) {
        if (p[i] < 0x80) {
            len = 1;
            continue;
        }

        if (p[i] >= 0xc2 && p[i] <= 0xdf) {
            len = 2;
            cp = p[i] & 0x1f;

        } else if (p[i] >= 0xe0 && p[i] <= 0xef) {
            len = 3;
            cp = p[i] & 0x0f;

        } else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
            len = 4;
            cp = p[i] & 0x07;

        } else {
            return 0;
        }

        if (i + len > n) {
            return 0;
        }

        for (k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }

        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)
            || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        {
            return 0;
        }
    }

    return 1;
}
