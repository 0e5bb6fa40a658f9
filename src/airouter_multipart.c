/*
 * The streaming multipart/form-data scanner (airouter_multipart.h).
 *
 * The body is read as if it began with CRLF, so the first delimiter is
 * the same string as every other one: CRLF "--" boundary.  That string is
 * found with a Knuth-Morris-Pratt table built at init, byte by byte, so a
 * delimiter split between two feeds is found all the same and a file
 * part costs one table step per byte.
 */

#include <string.h>

#include "airouter_multipart.h"


enum {
    AIROUTER_MP_PREAMBLE = 0,
    AIROUTER_MP_AFTER,          /* after a delimiter: "--" or a new part */
    AIROUTER_MP_HEADERS,
    AIROUTER_MP_BODY,
    AIROUTER_MP_CLOSED,
    AIROUTER_MP_FAILED
};


static int airouter_mp_delim(airouter_mp_t *mp, unsigned char c);
static int airouter_mp_header(airouter_mp_t *mp);
static int airouter_mp_disposition(airouter_mp_t *mp, const char *p,
    const char *end);
static int airouter_mp_part_end(airouter_mp_t *mp, uint64_t end);
static int airouter_mp_fail(airouter_mp_t *mp, const char *why);
static int airouter_mp_lc(int c);
static int airouter_mp_ieq(const char *a, size_t alen, const char *b);


int
airouter_mp_boundary(const char *ct, size_t len, const char **b,
    size_t *blen)
{
    size_t       i, klen;
    const char  *p, *end, *key, *v;

    static const char  type[] = "multipart/form-data";

    if (ct == NULL || len < sizeof(type) - 1) {
        return -1;
    }

    for (i = 0; i < sizeof(type) - 1; i++) {
        if (airouter_mp_lc((unsigned char) ct[i]) != type[i]) {
            return -1;
        }
    }

    p = ct + sizeof(type) - 1;
    end = ct + len;

    if (p < end && *p != ';' && *p != ' ' && *p != '\t') {
        return -1;
    }

    while (p < end) {
        /* the next parameter: ";" then key=value */
        while (p < end && (*p == ';' || *p == ' ' || *p == '\t')) {
            p++;
        }

        key = p;
        while (p < end && *p != '=' && *p != ';') {
            p++;
        }

        klen = (size_t) (p - key);
        while (klen && (key[klen - 1] == ' ' || key[klen - 1] == '\t')) {
            klen--;
        }

        if (p == end || *p == ';') {
            continue;
        }

        p++;                                        /* '=' */

        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p < end && *p == '"') {
            v = ++p;
            while (p < end && *p != '"') {
                p++;
            }

            if (p == end) {
                return -1;                          /* unterminated */
            }

            *blen = (size_t) (p - v);
            p++;

        } else {
            v = p;
            while (p < end && *p != ';' && *p != ' ' && *p != '\t') {
                p++;
            }

            *blen = (size_t) (p - v);
        }

        if (airouter_mp_ieq(key, klen, "boundary")) {
            if (*blen == 0 || *blen > AIROUTER_MP_BOUNDARY_MAX) {
                return -1;
            }

            *b = v;
            return 0;
        }
    }

    return -1;
}


int
airouter_mp_init(airouter_mp_t *mp, const char *boundary, size_t len)
{
    size_t  i, k;

    memset(mp, 0, offsetof(airouter_mp_t, value));

    if (boundary == NULL || len == 0 || len > AIROUTER_MP_BOUNDARY_MAX) {
        return -1;
    }

    mp->delim[0] = '\r';
    mp->delim[1] = '\n';
    mp->delim[2] = '-';
    mp->delim[3] = '-';
    memcpy(mp->delim + 4, boundary, len);
    mp->dlen = len + 4;

    /* fail[i]: the longest proper prefix of delim[0..i] that ends it */
    mp->fail[0] = 0;
    k = 0;

    for (i = 1; i < mp->dlen; i++) {
        while (k > 0 && mp->delim[i] != mp->delim[k]) {
            k = mp->fail[k - 1];
        }

        if (mp->delim[i] == mp->delim[k]) {
            k++;
        }

        mp->fail[i] = (uint16_t) k;
    }

    /* the CRLF the body is read as beginning with */
    mp->matched = 2;
    mp->state = AIROUTER_MP_PREAMBLE;

    return 0;
}


airouter_mp_rc_e
airouter_mp_feed(airouter_mp_t *mp, const char *data, size_t len)
{
    size_t          i;
    uint64_t        pos;
    unsigned char   c;

    for (i = 0; i < len; i++) {
        c = (unsigned char) data[i];
        pos = mp->consumed + i;

        switch (mp->state) {

        case AIROUTER_MP_PREAMBLE:
            if (airouter_mp_delim(mp, c)) {
                mp->state = AIROUTER_MP_AFTER;
                mp->dashes = 0;
                mp->cr = 0;
            }
            break;

        case AIROUTER_MP_BODY:
            if (!mp->is_file && mp->value_len < sizeof(mp->value)) {
                mp->value[mp->value_len++] = c;
            }

            if (airouter_mp_delim(mp, c)) {
                if (airouter_mp_part_end(mp, pos + 1 - mp->dlen) != 0) {
                    break;
                }

                mp->state = AIROUTER_MP_AFTER;
                mp->dashes = 0;
                mp->cr = 0;
            }
            break;

        case AIROUTER_MP_AFTER:
            if (c == '-' && !mp->cr) {
                if (++mp->dashes == 2) {
                    mp->state = AIROUTER_MP_CLOSED;
                }

            } else if (mp->dashes) {
                airouter_mp_fail(mp, "a delimiter is followed by one '-'");

            } else if (c == ' ' || c == '\t') {
                if (mp->cr) {
                    airouter_mp_fail(mp, "a delimiter line ends badly");
                }

            } else if (c == '\r' && !mp->cr) {
                mp->cr = 1;

            } else if (c == '\n') {
                mp->state = AIROUTER_MP_HEADERS;
                mp->line_len = 0;
                mp->name_len = 0;
                mp->named = 0;
                mp->is_file = 0;

            } else {
                airouter_mp_fail(mp, "a delimiter is followed by text");
            }
            break;

        case AIROUTER_MP_HEADERS:
            if (c != '\n') {
                if (mp->line_len == sizeof(mp->line)) {
                    airouter_mp_fail(mp, "a part's header line is too long");
                    break;
                }

                mp->line[mp->line_len++] = (char) c;
                break;
            }

            if (mp->line_len && mp->line[mp->line_len - 1] == '\r') {
                mp->line_len--;
            }

            if (mp->line_len) {
                airouter_mp_header(mp);
                mp->line_len = 0;
                break;
            }

            /* the blank line: the part's content begins */
            mp->state = AIROUTER_MP_BODY;
            mp->part_start = pos + 1;
            mp->value_len = 0;
            mp->matched = 0;
            mp->parts++;

            if (mp->is_file) {
                mp->files++;
            }
            break;

        default:
            /* the epilogue after the close, or a sticky error */
            break;
        }

        if (mp->state == AIROUTER_MP_FAILED) {
            mp->consumed += i;
            return AIROUTER_MP_ERROR;
        }
    }

    mp->consumed += len;

    return mp->state == AIROUTER_MP_CLOSED ? AIROUTER_MP_DONE
                                           : AIROUTER_MP_AGAIN;
}


/* One byte through the delimiter table: 1 when a delimiter ends here. */
static int
airouter_mp_delim(airouter_mp_t *mp, unsigned char c)
{
    size_t  k;

    k = mp->matched;

    while (k > 0 && mp->delim[k] != c) {
        k = mp->fail[k - 1];
    }

    if (mp->delim[k] == c) {
        k++;
    }

    if (k == mp->dlen) {
        mp->matched = 0;
        return 1;
    }

    mp->matched = k;

    return 0;
}


/* A header line of a part: only Content-Disposition matters. */
static int
airouter_mp_header(airouter_mp_t *mp)
{
    char  *colon, *end;

    end = mp->line + mp->line_len;
    colon = memchr(mp->line, ':', mp->line_len);

    if (colon == NULL) {
        return airouter_mp_fail(mp, "a part's header line has no ':'");
    }

    if (!airouter_mp_ieq(mp->line, (size_t) (colon - mp->line),
                         "content-disposition"))
    {
        return 0;
    }

    return airouter_mp_disposition(mp, colon + 1, end);
}


/* form-data; name="model"; filename="a.wav" */
static int
airouter_mp_disposition(airouter_mp_t *mp, const char *p, const char *end)
{
    size_t       klen, n;
    const char  *key;
    int          quoted;

    mp->named = 1;

    while (p < end) {
        while (p < end && (*p == ';' || *p == ' ' || *p == '\t')) {
            p++;
        }

        key = p;
        while (p < end && *p != '=' && *p != ';') {
            p++;
        }

        klen = (size_t) (p - key);
        while (klen && (key[klen - 1] == ' ' || key[klen - 1] == '\t')) {
            klen--;
        }

        if (airouter_mp_ieq(key, klen, "filename")
            || airouter_mp_ieq(key, klen, "filename*"))
        {
            mp->is_file = 1;
        }

        if (p == end || *p == ';') {
            continue;
        }

        p++;                                        /* '=' */

        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }

        quoted = (p < end && *p == '"');
        if (quoted) {
            p++;
        }

        n = 0;

        /* the value, unquoted; only "name"'s is kept */
        while (p < end) {
            if (quoted) {
                if (*p == '"') {
                    p++;
                    break;
                }

                if (*p == '\\' && p + 1 < end) {
                    p++;
                }

            } else if (*p == ';' || *p == ' ' || *p == '\t') {
                break;
            }

            if (airouter_mp_ieq(key, klen, "name")) {
                if (n == AIROUTER_MP_NAME_MAX) {
                    return airouter_mp_fail(mp, "a field name is too long");
                }

                mp->name[n++] = *p;
            }

            p++;
        }

        if (airouter_mp_ieq(key, klen, "name")) {
            mp->name[n] = '\0';
            mp->name_len = n;
        }
    }

    return 0;
}


/* A part's content ended at end (its delimiter starts there). */
static int
airouter_mp_part_end(airouter_mp_t *mp, uint64_t end)
{
    size_t               len;
    airouter_mp_field_t  f;

    if (mp->is_file || !mp->named || mp->name_len == 0) {
        return 0;
    }

    len = (size_t) (end - mp->part_start);

    f.name = mp->name;
    f.name_len = mp->name_len;
    f.value = (const char *) mp->value;
    f.value_len = len > AIROUTER_MP_VALUE_MAX ? AIROUTER_MP_VALUE_MAX : len;
    f.truncated = len > AIROUTER_MP_VALUE_MAX;
    f.start = mp->part_start;
    f.end = end;

    if (mp->name_len == 5 && memcmp(mp->name, "model", 5) == 0) {
        /* two would let the upstream read one and the router another */
        if (mp->has_model) {
            return airouter_mp_fail(mp, "more than one \"model\" field");
        }

        mp->has_model = 1;
        mp->model_truncated = f.truncated;
        memcpy(mp->model, f.value, f.value_len);
        mp->model[f.value_len] = '\0';
        mp->model_len = f.value_len;
        mp->model_start = f.start;
        mp->model_end = f.end;
    }

    if (mp->field) {
        mp->field(mp->ctx, &f);
    }

    return 0;
}


static int
airouter_mp_fail(airouter_mp_t *mp, const char *why)
{
    mp->state = AIROUTER_MP_FAILED;
    mp->error = why;

    return -1;
}


static int
airouter_mp_lc(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}


/* a (pointer, length) string equals the lowercase word b, any case */
static int
airouter_mp_ieq(const char *a, size_t alen, const char *b)
{
    size_t  i;

    if (alen != strlen(b)) {
        return 0;
    }

    for (i = 0; i < alen; i++) {
        if (airouter_mp_lc((unsigned char) a[i]) != b[i]) {
            return 0;
        }
    }

    return 1;
}
