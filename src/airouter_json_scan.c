/*
 * Finding one member of a JSON object in its text; see airouter_json_scan.h.
 */

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "airouter_json_scan.h"


/* a word's first byte is its lowest: the string scan can use ctz */
#if (defined __GNUC__ && defined __BYTE_ORDER__                              \
     && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
#define AIROUTER_JSON_LE  1
#else
#define AIROUTER_JSON_LE  0
#endif

/* sixteen bytes per step where the compiler has SSE2 (every x86-64) */
#if (AIROUTER_JSON_LE && defined __SSE2__)
#include <emmintrin.h>
#define AIROUTER_JSON_SSE2  1
#else
#define AIROUTER_JSON_SSE2  0
#endif

/* the general string loop stays out of its callers' fast path */
#if (defined __GNUC__)
#define AIROUTER_JSON_NOINLINE  __attribute__((noinline))
#else
#define AIROUTER_JSON_NOINLINE
#endif


static size_t airouter_json_ws(const char *p, size_t n, size_t i);
static int airouter_json_string(const char *p, size_t n, size_t *i,
    int *escaped);
static int airouter_json_skip(const char *p, size_t n, size_t *i);
static int airouter_json_value(const char *p, size_t n, size_t *i);
static int airouter_json_range(const char *p, size_t start, size_t end,
    size_t frac, size_t exp);
static int airouter_json_overflows(const char *p, size_t len);
static int airouter_json_string_valid(const char *p, size_t n, size_t *i);
static int airouter_json_string_rest(const char *p, size_t n, size_t *i,
    size_t k);
static uint64_t airouter_json_special8(const char *p);
static int airouter_json_escape(const char *p, size_t n, size_t *i);
static int airouter_json_utf8(const char *p, size_t n, size_t *i);
static int airouter_json_number(const char *p, size_t n, size_t *i);
static long airouter_json_hex4(const char *p, size_t n, size_t i);


/* 1: a byte that stands for itself in a string (not '"', '\\', < 0x20,
 * or the start of a multi-byte UTF-8 sequence) */
static const unsigned char  airouter_json_plain[256] = {
#define AIROUTER_JSON_P16(a) a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a
    AIROUTER_JSON_P16(0), AIROUTER_JSON_P16(0),            /* 0x00 - 0x1f */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,        /* 0x20: '"' */
    AIROUTER_JSON_P16(1), AIROUTER_JSON_P16(1),            /* 0x30 - 0x4f */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,        /* 0x50: '\\' */
    AIROUTER_JSON_P16(1), AIROUTER_JSON_P16(1),            /* 0x60 - 0x7f */
    AIROUTER_JSON_P16(0), AIROUTER_JSON_P16(0),            /* 0x80 - ... */
    AIROUTER_JSON_P16(0), AIROUTER_JSON_P16(0),
    AIROUTER_JSON_P16(0), AIROUTER_JSON_P16(0),
    AIROUTER_JSON_P16(0), AIROUTER_JSON_P16(0)
#undef AIROUTER_JSON_P16
};


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

    if (airouter_json_string(p, n, &i, &escaped) != 0) {
        return -1;
    }

    if (escaped) {
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
airouter_json_array_init(airouter_json_iter_t *it, const char *p, size_t n)
{
    size_t  i;

    i = airouter_json_ws(p, n, 0);

    if (i == n || p[i] != '[') {
        return -1;
    }

    it->p = p;
    it->n = n;
    it->open = i + 1;
    it->i = airouter_json_ws(p, n, i + 1);
    it->done = 0;

    if (it->i < n && p[it->i] == ']') {
        it->done = 1;
        it->i++;
    }

    return 0;
}


int
airouter_json_array_next(airouter_json_iter_t *it, airouter_json_span_t *span)
{
    size_t       i, n;
    const char  *p;

    p = it->p;
    n = it->n;
    i = it->i;

    if (it->done) {
        return 0;
    }

    span->start = i;
    span->key_start = i;
    span->key_end = i;
    span->open = it->open;

    if (airouter_json_skip(p, n, &i) != 0) {
        return -1;
    }

    span->end = i;
    i = airouter_json_ws(p, n, i);

    if (i == n) {
        return -1;
    }

    if (p[i] == ']') {
        it->done = 1;
        i++;

    } else if (p[i] == ',') {
        i = airouter_json_ws(p, n, i + 1);

    } else {
        return -1;
    }

    it->i = i;

    return 1;
}


long
airouter_json_unescape(const char *p, size_t n, char *out)
{
    long    u, low;
    size_t  i, o;
    char    c;

    if (n < 2 || p[0] != '"' || p[n - 1] != '"') {
        return -1;
    }

    o = 0;

    for (i = 1; i < n - 1; i++) {
        c = p[i];

        if (c != '\\') {
            out[o++] = c;
            continue;
        }

        if (++i >= n - 1) {
            return -1;
        }

        switch (p[i]) {
        case 'b': out[o++] = '\b'; continue;
        case 'f': out[o++] = '\f'; continue;
        case 'n': out[o++] = '\n'; continue;
        case 'r': out[o++] = '\r'; continue;
        case 't': out[o++] = '\t'; continue;
        case 'u': break;
        default: out[o++] = p[i]; continue;     /* " \\ / */
        }

        u = airouter_json_hex4(p, n - 1, i + 1);
        if (u < 0) {
            return -1;
        }

        i += 4;

        if (u >= 0xD800 && u <= 0xDBFF) {
            if (i + 6 >= n || p[i + 1] != '\\' || p[i + 2] != 'u') {
                return -1;
            }

            low = airouter_json_hex4(p, n - 1, i + 3);
            if (low < 0xDC00 || low > 0xDFFF) {
                return -1;
            }

            i += 6;
            u = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00);
        }

        /* at most as long as the escape it replaces (6 or 12 bytes) */
        if (u < 0x80) {
            out[o++] = (char) u;

        } else if (u < 0x800) {
            out[o++] = (char) (0xC0 | (u >> 6));
            out[o++] = (char) (0x80 | (u & 0x3F));

        } else if (u < 0x10000) {
            out[o++] = (char) (0xE0 | (u >> 12));
            out[o++] = (char) (0x80 | ((u >> 6) & 0x3F));
            out[o++] = (char) (0x80 | (u & 0x3F));

        } else {
            out[o++] = (char) (0xF0 | (u >> 18));
            out[o++] = (char) (0x80 | ((u >> 12) & 0x3F));
            out[o++] = (char) (0x80 | ((u >> 6) & 0x3F));
            out[o++] = (char) (0x80 | (u & 0x3F));
        }
    }

    return (long) o;
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


/*
 * One walk over the object, not an iterator's: each member's key is
 * validated and compared where it is read, its value validated by
 * airouter_json_value(); the span of the last member named key is kept.
 * A key with an escape is refused (-1) as airouter_json_iter_next()
 * refuses it: it could name key in disguise.
 */
int
airouter_json_member_valid(const char *p, size_t n, const char *key,
    airouter_json_span_t *span)
{
    int          found;
    size_t       i, open, ks, ke, vs, klen;

    i = airouter_json_ws(p, n, 0);

    if (i == n || p[i] != '{') {
        return -1;
    }

    open = i + 1;
    i = airouter_json_ws(p, n, open);

    /* "{}" */
    if (i < n && p[i] == '}') {
        return airouter_json_ws(p, n, i + 1) == n ? 0 : -1;
    }

    klen = strlen(key);
    found = 0;

    for ( ;; ) {
        if (i == n || p[i] != '"') {
            return -1;
        }

        ks = i;

        if (airouter_json_string_valid(p, n, &i) != 0
            || memchr(p + ks, '\\', i - ks) != NULL)
        {
            return -1;
        }

        ke = i;
        i = airouter_json_ws(p, n, i);

        if (i == n || p[i] != ':') {
            return -1;
        }

        i = airouter_json_ws(p, n, i + 1);
        vs = i;

        if (airouter_json_value(p, n, &i) != 0) {
            return -1;
        }

        if (ke - ks - 2 == klen && memcmp(p + ks + 1, key, klen) == 0) {
            span->start = vs;
            span->end = i;
            span->key_start = ks;
            span->key_end = ke;
            span->open = open;
            found = 1;
        }

        i = airouter_json_ws(p, n, i);

        if (i == n) {
            return -1;
        }

        if (p[i] == '}') {
            return airouter_json_ws(p, n, i + 1) == n ? found : -1;
        }

        if (p[i] != ',') {
            return -1;
        }

        i = airouter_json_ws(p, n, i + 1);
    }
}


int
airouter_json_valid(const char *p, size_t n)
{
    int     rc;
    size_t  i;

    i = airouter_json_ws(p, n, 0);

    /* as jansson reads an answer: an object or an array */
    if (i < n && p[i] != '{' && p[i] != '[') {
        return -1;
    }

    rc = airouter_json_value(p, n, &i);

    if (rc != 0) {
        return rc;
    }

    return airouter_json_ws(p, n, i) == n ? 0 : -1;
}


size_t
airouter_json_quoted_len(const char *s, size_t len)
{
    size_t         i, n;
    unsigned char  c;

    n = 2;
    i = 0;

    /* eight bytes at a time while none is special: a model id, mostly */
    while (len - i >= 8 && airouter_json_special8(s + i) == 0) {
        n += 8;
        i += 8;
    }

    for ( /* void */ ; i < len; i++) {
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
    i = 0;

    /* the plain words copied whole, as airouter_json_quoted_len()
     * counts them */
    while (len - i >= 8 && airouter_json_special8(s + i) == 0) {
        memcpy(out + o, s + i, 8);
        o += 8;
        i += 8;
    }

    for ( /* void */ ; i < len; i++) {
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


static int
airouter_json_value(const char *p, size_t n, size_t *i)
{
    return airouter_json_value_at(p, n, i, 0);
}


/*
 * Containers are followed with a stack of one bit per level (1: an
 * object), not by recursion.
 */
int
airouter_json_value_at(const char *p, size_t n, size_t *i, size_t outer)
{
    int            rc, object;
    size_t         k, depth, max;
    unsigned char  c, stack[AIROUTER_JSON_MAX_DEPTH / 8];

    if (outer > AIROUTER_JSON_MAX_DEPTH) {
        return -1;
    }

    k = *i;
    depth = 0;
    max = AIROUTER_JSON_MAX_DEPTH - outer;

    for ( ;; ) {

        /* a value starts at k */

        if (k == n) {
            return -2;
        }

        c = (unsigned char) p[k];

        if (c == '{' || c == '[') {
            if (depth == max) {
                return -1;
            }

            if (c == '{') {
                stack[depth / 8] |= (unsigned char) (1 << (depth % 8));

            } else {
                stack[depth / 8] &= (unsigned char) ~(1 << (depth % 8));
            }

            depth++;
            k = airouter_json_ws(p, n, k + 1);

            if (k == n) {
                return -2;
            }

            if (p[k] == (c == '{' ? '}' : ']')) {
                k++;
                depth--;
                goto next;
            }

            if (c == '{') {
                goto key;
            }

            continue;
        }

        if (c == '"') {
            rc = airouter_json_string_valid(p, n, &k);

        } else if (c == '-' || (c >= '0' && c <= '9')) {
            rc = airouter_json_number(p, n, &k);

        } else {
            switch (c) {
            case 't':
                rc = n - k >= 4 ? (memcmp(p + k, "true", 4) ? -1 : 0)
                                : (memcmp(p + k, "true", n - k) ? -1 : -2);
                k += 4;
                break;
            case 'f':
                rc = n - k >= 5 ? (memcmp(p + k, "false", 5) ? -1 : 0)
                                : (memcmp(p + k, "false", n - k) ? -1 : -2);
                k += 5;
                break;
            case 'n':
                rc = n - k >= 4 ? (memcmp(p + k, "null", 4) ? -1 : 0)
                                : (memcmp(p + k, "null", n - k) ? -1 : -2);
                k += 4;
                break;
            default:
                rc = -1;
            }
        }

        if (rc != 0) {
            return rc;
        }

    next:

        /* a value ended at k: what its container says next */

        if (depth == 0) {
            *i = k;
            return 0;
        }

        object = (stack[(depth - 1) / 8] >> ((depth - 1) % 8)) & 1;
        k = airouter_json_ws(p, n, k);

        if (k == n) {
            return -2;
        }

        if (p[k] == (object ? '}' : ']')) {
            k++;
            depth--;
            goto next;
        }

        if (p[k] != ',') {
            return -1;
        }

        k = airouter_json_ws(p, n, k + 1);

        if (!object) {
            continue;
        }

    key:

        /* a member: its key, a colon, then its value at the loop's top */

        if (k == n) {
            return -2;
        }

        if (p[k] != '"') {
            return -1;
        }

        rc = airouter_json_string_valid(p, n, &k);
        if (rc != 0) {
            return rc;
        }

        k = airouter_json_ws(p, n, k);

        if (k == n) {
            return -2;
        }

        if (p[k] != ':') {
            return -1;
        }

        k = airouter_json_ws(p, n, k + 1);
    }
}


int
airouter_json_string_at(const char *p, size_t n, size_t *i)
{
    return airouter_json_string_valid(p, n, i);
}


/*
 * *i at an opening quote; leaves it one past the closing one.  Most
 * strings (keys, ids) are short and plain: sixteen bytes per step find
 * their closing quote here, without the set-up of the general loop.
 */
static int
airouter_json_string_valid(const char *p, size_t n, size_t *i)
{
#if (AIROUTER_JSON_SSE2)
    size_t        k;
    __m128i       v, s;
    unsigned int  b;

    k = *i + 1;

    /* as signed bytes, those below 0x20 and those from 0x80 are both
     * less than 0x20 */
    while (n - k >= 16) {
        v = _mm_loadu_si128((const __m128i *) (const void *) (p + k));
        s = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                             _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
        b = (unsigned int) _mm_movemask_epi8(s);

        if (b != 0) {
            k += (size_t) __builtin_ctz(b);

            if (p[k] == '"') {
                *i = k + 1;
                return 0;
            }

            break;
        }

        k += 16;
    }

    return airouter_json_string_rest(p, n, i, k);
#else
    return airouter_json_string_rest(p, n, i, *i + 1);
#endif
}


/* The rest of a string from k: escapes, UTF-8, the closing quote. */
static AIROUTER_JSON_NOINLINE int
airouter_json_string_rest(const char *p, size_t n, size_t *i, size_t k)
{
    int            rc;
    uint64_t       m;
    unsigned char  c;

    for ( ;; ) {
        /* the plain bytes, eight at a time: a word with a byte that is
         * not plain says which one is the first */
        while (n - k >= 8) {
            m = airouter_json_special8(p + k);

            if (m != 0) {
#if (AIROUTER_JSON_LE)
                /* k at the first byte that is not plain: no byte loop */
                k += (size_t) __builtin_ctzll(m) / 8;
                goto special;
#else
                break;
#endif
            }

            k += 8;
        }

        while (n - k >= 4 && airouter_json_plain[(unsigned char) p[k]]
               && airouter_json_plain[(unsigned char) p[k + 1]]
               && airouter_json_plain[(unsigned char) p[k + 2]]
               && airouter_json_plain[(unsigned char) p[k + 3]])
        {
            k += 4;
        }

        while (k < n && airouter_json_plain[(unsigned char) p[k]]) {
            k++;
        }

        if (k == n) {
            return -2;
        }

#if (AIROUTER_JSON_LE)
    special:
#endif

        c = (unsigned char) p[k];

        if (c == '"') {
            *i = k + 1;
            return 0;
        }

        if (c < 0x20) {
            return -1;
        }

        rc = (c == '\\') ? airouter_json_escape(p, n, &k)
                         : airouter_json_utf8(p, n, &k);

        if (rc != 0) {
            return rc;
        }
    }
}


/*
 * The bytes of the 8 at p that are not plain (airouter_json_plain[]),
 * tested together in one 64-bit word: from 0x80, below 0x20, '"' and
 * '\\'; each flagged by the high bit of its byte.  0: all plain.  The
 * lowest flag is exact (a borrow runs only above a byte that is not
 * plain), so in memory order (little-endian) it is the first such byte.
 */
static uint64_t
airouter_json_special8(const char *p)
{
    uint64_t  w, q, b;

#define AIROUTER_JSON_ONES   0x0101010101010101ULL
#define AIROUTER_JSON_HIGHS  0x8080808080808080ULL

    memcpy(&w, p, 8);

    q = w ^ (AIROUTER_JSON_ONES * '"');
    b = w ^ (AIROUTER_JSON_ONES * '\\');

    return (w
            | ((w - AIROUTER_JSON_ONES * 0x20) & ~w)
            | ((q - AIROUTER_JSON_ONES) & ~q)
            | ((b - AIROUTER_JSON_ONES) & ~b))
           & AIROUTER_JSON_HIGHS;

#undef AIROUTER_JSON_ONES
#undef AIROUTER_JSON_HIGHS
}


/*
 * *i at a backslash.  As jansson: \u0000 is refused, and a surrogate
 * must be a high one followed by an escaped low one.
 */
static int
airouter_json_escape(const char *p, size_t n, size_t *i)
{
    long    u, low;
    size_t  k;

    k = *i + 1;

    if (k == n) {
        return -2;
    }

    switch (p[k]) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r':
    case 't':
        *i = k + 1;
        return 0;

    case 'u':
        break;

    default:
        return -1;
    }

    u = airouter_json_hex4(p, n, k + 1);

    if (u < 0) {
        return (int) u;
    }

    k += 5;

    if (u == 0 || (u >= 0xDC00 && u <= 0xDFFF)) {
        return -1;
    }

    if (u >= 0xD800 && u <= 0xDBFF) {
        if (n - k < 2) {
            return (n - k == 0 || p[k] == '\\') ? -2 : -1;
        }

        if (p[k] != '\\' || p[k + 1] != 'u') {
            return -1;
        }

        low = airouter_json_hex4(p, n, k + 2);

        if (low < 0) {
            return (int) low;
        }

        if (low < 0xDC00 || low > 0xDFFF) {
            return -1;
        }

        k += 6;
    }

    *i = k;

    return 0;
}


/* Four hex digits at p[i]: their value, -1 not hex, -2 the text ends. */
static long
airouter_json_hex4(const char *p, size_t n, size_t i)
{
    long    v;
    size_t  k;
    char    c;

    v = 0;

    for (k = i; k < i + 4; k++) {
        if (k == n) {
            return -2;
        }

        c = p[k];

        if (c >= '0' && c <= '9') {
            v = v * 16 + (c - '0');

        } else if (c >= 'a' && c <= 'f') {
            v = v * 16 + (c - 'a' + 10);

        } else if (c >= 'A' && c <= 'F') {
            v = v * 16 + (c - 'A' + 10);

        } else {
            return -1;
        }
    }

    return v;
}


/*
 * *i at a byte >= 0x80: one UTF-8 sequence, shortest form, no surrogate,
 * at most U+10FFFF.
 */
static int
airouter_json_utf8(const char *p, size_t n, size_t *i)
{
    size_t         k, len, j;
    unsigned char  c, lo, hi;

    k = *i;
    c = (unsigned char) p[k];
    lo = 0x80;
    hi = 0xBF;

    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;

    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        lo = (c == 0xE0) ? 0xA0 : 0x80;
        hi = (c == 0xED) ? 0x9F : 0xBF;

    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        lo = (c == 0xF0) ? 0x90 : 0x80;
        hi = (c == 0xF4) ? 0x8F : 0xBF;

    } else {
        return -1;
    }

    for (j = 1; j < len; j++) {
        if (k + j == n) {
            return -2;
        }

        c = (unsigned char) p[k + j];

        if (c < (j == 1 ? lo : 0x80) || c > (j == 1 ? hi : 0xBF)) {
            return -1;
        }
    }

    *i = k + len;

    return 0;
}


/*
 * -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? from *i, in the range
 * jansson takes: an integer in 64 bits, a real that is not infinite.
 */
static int
airouter_json_number(const char *p, size_t n, size_t *i)
{
    size_t  k, d, start, frac, exp;

    k = *i;
    start = k;
    frac = 0;
    exp = 0;

    if (p[k] == '-') {
        k++;
    }

    if (k == n) {
        return -2;
    }

    if (p[k] == '0') {
        k++;

    } else if (p[k] >= '1' && p[k] <= '9') {
        while (k < n && p[k] >= '0' && p[k] <= '9') {
            k++;
        }

    } else {
        return -1;
    }

    if (k < n && p[k] == '.') {
        frac = k;
        d = ++k;

        while (k < n && p[k] >= '0' && p[k] <= '9') {
            k++;
        }

        if (k == d) {
            return k == n ? -2 : -1;
        }
    }

    if (k < n && (p[k] == 'e' || p[k] == 'E')) {
        exp = k;
        k++;

        if (k < n && (p[k] == '+' || p[k] == '-')) {
            k++;
        }

        d = k;

        while (k < n && p[k] >= '0' && p[k] <= '9') {
            k++;
        }

        if (k == d) {
            return k == n ? -2 : -1;
        }
    }

    /* a number the text ends in may go on in what follows */
    if (k == n) {
        *i = k;
        return -2;
    }

    *i = k;

    return airouter_json_range(p, start, k, frac, exp);
}


/*
 * 0 when the number p[start..end) is in jansson's range, else -1.  An
 * integer has at most 19 digits (then compared with 2^63); a real is
 * bounded from its digits and exponent, and only one that may come near
 * DBL_MAX is read with strtod, as jansson reads it.
 */
static int
airouter_json_range(const char *p, size_t start, size_t end, size_t frac,
    size_t exp)
{
    int          neg;
    long         e, mag;
    size_t       k, digits;
    const char  *max;

    neg = (p[start] == '-');
    k = start + neg;

    if (frac == 0 && exp == 0) {
        digits = end - k;

        if (digits < 19) {
            return 0;
        }

        if (digits > 19) {
            return -1;
        }

        max = neg ? "9223372036854775808" : "9223372036854775807";

        return memcmp(p + k, max, 19) > 0 ? -1 : 0;
    }

    /* |value| < 10^mag: the integer part's digits plus the exponent */
    mag = (long) ((frac ? frac : (exp ? exp : end)) - k);

    if (exp) {
        k = exp + 1;
        neg = (p[k] == '-');
        k += (p[k] == '-' || p[k] == '+');

        for (e = 0; k < end && e < 100000; k++) {
            e = e * 10 + (p[k] - '0');
        }

        mag += neg ? -e : e;
    }

    if (mag <= 308) {
        return 0;
    }

    return airouter_json_overflows(p + start, end - start) ? -1 : 0;
}


/* Whether strtod reads the number as infinite (jansson: an overflow). */
static int
airouter_json_overflows(const char *p, size_t len)
{
    int     inf;
    char    buf[512], *s;

    s = (len < sizeof(buf)) ? buf : malloc(len + 1);
    if (s == NULL) {
        return 1;
    }

    memcpy(s, p, len);
    s[len] = '\0';

    inf = isinf(strtod(s, NULL));

    if (s != buf) {
        free(s);
    }

    return inf;
}
