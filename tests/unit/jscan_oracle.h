/*
 * The request scanner (airouter_jscan.c) against jansson, on one text:
 * shared by test_jscan (hand-written cases and every corpus file) and the
 * fuzz target fuzz_jscan.  For each way the API scans a body (chat with
 * its messages, a prompt counted, rerank's query and documents counted),
 * jscan_oracle() checks that
 *
 *   - the verdict is jansson's: INVALID exactly when json_loadb(text, 0)
 *     refuses it, NOT_OBJECT exactly when it reads an array, OK only for
 *     an object; TREE (the slow path) only for text jansson reads or that
 *     holds a NUL byte;
 *   - on OK: the members are jansson's, in jansson's order, each value's
 *     span reads back (alone) as jansson's value, with the kind, number,
 *     item count and integer the parameter table gets from jansson
 *     (airouter_params_json_value), a string member's value is jansson's
 *     string, and the counted texts, the message count, the image flag and
 *     the first refused message equal what the API computes from the tree.
 *
 * Returns 0, or -1 with why filled.  Static functions: include once.
 */

#ifndef JSCAN_ORACLE_H
#define JSCAN_ORACLE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "airouter_jscan.h"
#include "airouter_params_json.h"


/* a count that any difference in the unescaped text changes */
static size_t
jscan_oracle_count(const void *data, const char *s, size_t len)
{
    size_t  i, h;

    (void) data;
    h = len;

    for (i = 0; i < len; i++) {
        h = h * 31 + (unsigned char) s[i];
    }

    return h & 0xffffff;
}


static uint64_t
jscan_oracle_estimate(json_t *content)
{
    size_t     i;
    json_t    *part, *text;
    uint64_t   n;

    if (json_is_string(content)) {
        return jscan_oracle_count(NULL, json_string_value(content),
                                  json_string_length(content));
    }

    n = 0;

    json_array_foreach(content, i, part) {
        if (json_is_string(part)) {
            n += jscan_oracle_count(NULL, json_string_value(part),
                                    json_string_length(part));
            continue;
        }

        text = json_object_get(part, "text");
        if (json_is_string(text)) {
            n += jscan_oracle_count(NULL, json_string_value(text),
                                    json_string_length(text));
        }
    }

    return n;
}


static int
jscan_oracle_image(json_t *content)
{
    size_t       i;
    json_t      *part;
    const char  *type;

    json_array_foreach(content, i, part) {
        type = json_string_value(json_object_get(part, "type"));

        if (type && (strcmp(type, "image_url") == 0
                     || strcmp(type, "input_image") == 0
                     || strcmp(type, "image") == 0))
        {
            return 1;
        }
    }

    return 0;
}


static int
jscan_oracle_fail(char *why, size_t len, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);

    return -1;
}


static int
jscan_oracle_members(airouter_jscan_t *s, const char *p, json_t *root,
    char *why, size_t wlen)
{
    size_t                          k, len;
    json_t                         *v, *alone;
    char                           *buf;
    const char                     *key, *str;
    airouter_json_value_t           want;
    const airouter_jscan_member_t  *m;

    if (s->nmembers != json_object_size(root)) {
        return jscan_oracle_fail(why, wlen, "%zu members, jansson %zu",
                                 s->nmembers, json_object_size(root));
    }

    k = 0;

    json_object_keylen_foreach(root, key, len, v) {
        m = &s->member[k++];

        if (m->key_end - m->key_start != len + 2
            || memcmp(p + m->key_start + 1, key, len) != 0)
        {
            return jscan_oracle_fail(why, wlen, "member %zu is \"%.*s\", "
                                     "jansson \"%s\"", k - 1,
                                     (int) (m->key_end - m->key_start),
                                     p + m->key_start, key);
        }

        alone = json_loadb(p + m->start, m->end - m->start, JSON_DECODE_ANY,
                           NULL);
        if (!json_equal(alone, v)) {
            json_decref(alone);
            return jscan_oracle_fail(why, wlen, "\"%s\": span %zu..%zu is "
                                     "not jansson's value", key, m->start,
                                     m->end);
        }

        json_decref(alone);

        airouter_params_json_value(v, &want);

        if (want.kind != m->value.kind || want.length != m->value.length
            || !(want.number == m->value.number
                 || (want.number != want.number
                     && m->value.number != m->value.number)))
        {
            return jscan_oracle_fail(why, wlen, "\"%s\": kind %d/%d length "
                                     "%zu/%zu number %.17g/%.17g", key,
                                     (int) m->value.kind, (int) want.kind,
                                     m->value.length, want.length,
                                     m->value.number, want.number);
        }

        if (json_is_integer(v) && json_integer_value(v) != m->integer) {
            return jscan_oracle_fail(why, wlen, "\"%s\": integer %lld, "
                                     "jansson %lld", key,
                                     (long long) m->integer,
                                     (long long) json_integer_value(v));
        }

        if (json_is_string(v)) {
            buf = malloc(m->end - m->start + 1);
            if (buf == NULL) {
                return jscan_oracle_fail(why, wlen, "out of memory");
            }

            len = airouter_jscan_string(s, m, buf, &str);

            if (len != json_string_length(v)
                || memcmp(str, json_string_value(v), len) != 0)
            {
                free(buf);
                return jscan_oracle_fail(why, wlen, "\"%s\": string differs",
                                         key);
            }

            free(buf);
        }

        if (airouter_jscan_get(s, key) != m && memchr(key, '\0', len) == NULL)
        {
            return jscan_oracle_fail(why, wlen, "get(\"%s\") misses", key);
        }
    }

    return 0;
}


/* One scan as the API makes it, compared with the tree. */
static int
jscan_oracle_one(const char *p, size_t n, json_t *root,
    const char *const *counted, unsigned messages, char *why, size_t wlen)
{
    int                             rc, refused;
    char                           *scratch;
    size_t                          i;
    json_t                         *msgs, *msg, *content;
    uint64_t                        tokens;
    unsigned                        image;
    airouter_jscan_t               *s;
    airouter_params_error_t         err;
    const char *const              *name;
    const airouter_jscan_member_t  *m;
    airouter_jscan_status_e         st;

    s = calloc(1, sizeof(airouter_jscan_t));
    scratch = malloc(n + 1);

    if (s == NULL || scratch == NULL) {
        free(s);
        free(scratch);
        return jscan_oracle_fail(why, wlen, "out of memory");
    }

    s->counted = counted;
    s->messages = messages;
    s->count = jscan_oracle_count;
    s->scratch = scratch;

    st = airouter_jscan_body(s, p, n);
    rc = 0;

    switch (st) {

    case AIROUTER_JSCAN_INVALID:
        if (root != NULL) {
            rc = jscan_oracle_fail(why, wlen, "INVALID, jansson reads it");
        }
        break;

    case AIROUTER_JSCAN_NOT_OBJECT:
        if (!json_is_array(root)) {
            rc = jscan_oracle_fail(why, wlen, "NOT_OBJECT, jansson: %s",
                                   root ? "an object" : "not JSON");
        }
        break;

    case AIROUTER_JSCAN_TREE:
        if (root == NULL && memchr(p, '\0', n) == NULL) {
            rc = jscan_oracle_fail(why, wlen, "TREE on text jansson refuses "
                                   "and that has no NUL");
        }
        break;

    case AIROUTER_JSCAN_OK:
        if (!json_is_object(root)) {
            rc = jscan_oracle_fail(why, wlen, "OK, jansson: %s",
                                   root ? "an array" : "not JSON");
            break;
        }

        rc = jscan_oracle_members(s, p, root, why, wlen);
        if (rc != 0) {
            break;
        }

        for (name = counted; name && *name; name++) {
            m = airouter_jscan_get(s, *name);
            tokens = jscan_oracle_estimate(json_object_get(root, *name));

            if ((m ? m->tokens : 0) != tokens) {
                rc = jscan_oracle_fail(why, wlen, "\"%s\" counts %llu, "
                                       "tree %llu", *name,
                                       (unsigned long long) (m ? m->tokens
                                                               : 0),
                                       (unsigned long long) tokens);
                break;
            }
        }

        if (rc != 0 || !messages) {
            break;
        }

        msgs = json_object_get(root, "messages");
        tokens = 0;
        image = 0;
        refused = 0;

        json_array_foreach(msgs, i, msg) {
            content = json_object_get(msg, "content");
            tokens += jscan_oracle_estimate(content);
            image |= jscan_oracle_image(content);

            if (!refused && airouter_params_json_message(i, msg, &err) != 0) {
                refused = 1;
            }
        }

        if (s->nmessages != json_array_size(msgs)
            || s->message_tokens != tokens || s->vision != image
            || s->refused != (unsigned) refused)
        {
            rc = jscan_oracle_fail(why, wlen, "messages %zu/%zu tokens "
                                   "%llu/%llu vision %u/%u refused %u/%d",
                                   s->nmessages, json_array_size(msgs),
                                   (unsigned long long) s->message_tokens,
                                   (unsigned long long) tokens, s->vision,
                                   image, s->refused, refused);
            break;
        }

        if (refused && (strcmp(err.message, s->err.message) != 0
                        || strcmp(err.param, s->err.param) != 0
                        || strcmp(err.code, s->err.code) != 0))
        {
            rc = jscan_oracle_fail(why, wlen, "message refusal \"%s\", tree "
                                   "\"%s\"", s->err.message, err.message);
        }

        break;
    }

    free(s);
    free(scratch);

    return rc;
}


/* Every way the API scans, on p[0..n); *status: the chat scan's verdict. */
static int
jscan_oracle(const char *p, size_t n, airouter_jscan_status_e *status,
    char *why, size_t wlen)
{
    int                      rc;
    json_t                  *root;
    airouter_jscan_t        *s;

    static const char *const  prompt[] = { "prompt", NULL };
    static const char *const  rerank[] = { "query", "documents", NULL };

    root = json_loadb(p, n, 0, NULL);

    rc = jscan_oracle_one(p, n, root, NULL, 1, why, wlen);

    if (rc == 0) {
        rc = jscan_oracle_one(p, n, root, prompt, 0, why, wlen);
    }

    if (rc == 0) {
        rc = jscan_oracle_one(p, n, root, rerank, 0, why, wlen);
    }

    json_decref(root);

    if (status) {
        s = calloc(1, sizeof(airouter_jscan_t));
        *status = AIROUTER_JSCAN_TREE;

        if (s) {
            s->scratch = malloc(n + 1);
            s->messages = 1;

            if (s->scratch) {
                *status = airouter_jscan_body(s, p, n);
            }

            free(s->scratch);
            free(s);
        }
    }

    return rc;
}

#endif /* JSCAN_ORACLE_H */
