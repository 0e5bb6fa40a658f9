/*
 * Finding one member of a JSON object in its text; see airouter_json_scan.h.
 */

#include <string.h>

#include "airouter_json_scan.h"


static size_t airouter_json_ws(const char *p, size_t n, size_t i);
static int airouter_json_string(const char *p, size_t n, size_t *i,
    int *escaped);
static int airouter_json_skip(const char *p, size_t n, size_t *i);


int
airouter_json_iter_init(airouter_json_iter_t *it, const char *p, size_t n)
{
    size_t  i;

    i = airouter_json_ws(p, n, 0);

    if (i == n || p[i] != '{') {
        return -1;
    }

    it->p = p;
    it->n = n;
    it->open = i + 1;
    it->i = airouter_json_ws(p, n, i + 1);
    it->done = 0;

    /* "{}" */
    if (it->i < n && p[it->i] == '}') {
        it->done = 1;
        it->i++;
    }

    return 0;
}


int
airouter_json_iter_next(airouter_json_iter_t *it, airouter_json_span_t *span)
{
    int          escaped;
    size_t       i, n;
    const char  *p;

    p = it->p;
    n = it->n;
    i = it->i;

    if (it->done) {
        /* nothing but white space may follow the object */
        return airouter_json_ws(p, n, i) == n ? 0 : -1;
    }

    if (i == n || p[i] != '"') {
        return -1;
    }

    span->key_start = i;

    if (airouter_json_string(p, n, &i, &escaped) != 0 || escaped) {
        return -1;
    }

    span->key_end = i;
    i = airouter_json_ws(p, n, i);

    if (i == n || p[i] != ':') {
        return -1;
    }

    i = airouter_json_ws(p, n, i + 1);
    span->start = i;

    if (airouter_json_skip(p, n, &i) != 0) {
        return -1;
    }

    span->end = i;
    span->open = it->open;

    i = airouter_json_ws(p, n, i);

    if (i == n) {
        return -1;
    }

    if (p[i] == '}') {
        it->done = 1;

    } else if (p[i] == ',') {
        i = airouter_json_ws(p, n, i + 1);

    } else {
        return -1;
    }

    it->i = it->done ? i + 1 : i;      /* i may be n after a ',' */

    return 1;
}


int
airouter_json_key_is(const char *p, const airouter_json_span_t *span,
    const char *key)
{
    size_t  len;

    len = strlen(key);

    return span->key_end - span->key_start - 2 == len
           && memcmp(p + span->key_start + 1, key, len) == 0;
}


int
airouter_json_member(const char *p, size_t n, const char *key,
    airouter_json_span_t *span)
{
    int                   rc, found;
    airouter_json_iter_t  it;
    airouter_json_span_t  m;

    if (airouter_json_iter_init(&it, p, n) != 0) {
        return -1;
    }

    found = 0;

    while ((rc = airouter_json_iter_next(&it, &m)) == 1) {
        if (airouter_json_key_is(p, &m, key)) {
            *span = m;
            found = 1;
        }
    }

    return rc == 0 ? found : -1;
}


size_t
airouter_json_quoted_len(const char *s, size_t len)
{
    size_t         i, n;
    unsigned char  c;

    n = 2;

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];
        n += (c == '"' || c == '\\') ? 2 : (c < 0x20) ? 6 : 1;
    }

    return n;
}


size_t
airouter_json_quote(char *out, const char *s, size_t len)
{
    size_t               i, o;
    unsigned char        c;
    static const char    hex[] = "0123456789abcdef";

    o = 0;
    out[o++] = '"';

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char) c;

        } else if (c < 0x20) {
            out[o++] = '\\';
            out[o++] = 'u';
            out[o++] = '0';
            out[o++] = '0';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 0xf];

        } else {
            out[o++] = (char) c;
        }
    }

    out[o++] = '"';

    return o;
}


static size_t
airouter_json_ws(const char *p, size_t n, size_t i)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n'
                     || p[i] == '\r'))
    {
        i++;
    }

    return i;
}


/* *i at an opening quote; leaves it one past the closing one. */
static int
airouter_json_string(const char *p, size_t n, size_t *i, int *escaped)
{
    size_t       k, b;
    const char  *q;

    *escaped = 0;
    k = *i + 1;

    /* memchr to the next quote; it closes unless an odd run of
     * backslashes precedes it */
    for ( ;; ) {
        q = memchr(p + k, '"', n - k);
        if (q == NULL) {
            return -1;
        }

        k = q - p;

        for (b = k; b > *i + 1 && p[b - 1] == '\\'; b--) {
            /* void */
        }

        if (((k - b) & 1) == 0) {
            break;
        }

        k++;
    }

    *escaped = memchr(p + *i + 1, '\\', k - *i - 1) != NULL;
    *i = k + 1;

    return 0;
}


/* One value of any kind, from *i; leaves *i one past it. */
static int
airouter_json_skip(const char *p, size_t n, size_t *i)
{
    int     escaped;
    size_t  k, depth;

    k = *i;

    if (k == n) {
        return -1;
    }

    if (p[k] == '"') {
        return airouter_json_string(p, n, i, &escaped);
    }

    if (p[k] == '{' || p[k] == '[') {
        depth = 0;

        while (k < n) {
            if (p[k] == '"') {
                if (airouter_json_string(p, n, &k, &escaped) != 0) {
                    return -1;
                }

                continue;
            }

            if (p[k] == '{' || p[k] == '[') {
                depth++;

            } else if ((p[k] == '}' || p[k] == ']') && --depth == 0) {
                *i = k + 1;
                return 0;
            }

            k++;
        }

        return -1;
    }

    /* a number or a literal: up to the next delimiter */
    while (k < n && p[k] != ',' && p[k] != '}' && p[k] != ']'
           && p[k] != ' ' && p[k] != '\t' && p[k] != '\n' && p[k] != '\r')
    {
        k++;
    }

    if (k == *i) {
        return -1;
    }

    *i = k;

    return 0;
}
