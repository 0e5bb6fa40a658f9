/*
 * A request body in one validating pass; see airouter_jscan.h.  The walk
 * follows the few containers the API reads (the top-level object, the
 * "messages" list, each message, a content list and its parts) itself;
 * every other value is validated by airouter_json_value_at(), told how
 * deep it sits so that the nesting limit is jansson's.
 *
 * Each walker returns 0 (read), -1 (not JSON) or 1 (the tree must say).
 */

#include <stdlib.h>
#include <string.h>

#include "airouter_json_scan.h"
#include "airouter_jscan.h"


#define AIROUTER_JSCAN_TREE_RC  1
#define AIROUTER_JSCAN_ITEM     2     /* airouter_jscan_next: one more */


static int airouter_jscan_object(airouter_jscan_t *s, size_t *i);
static int airouter_jscan_member_value(airouter_jscan_t *s, size_t *i,
    airouter_jscan_member_t *m);
static int airouter_jscan_any(airouter_jscan_t *s, size_t *i, size_t outer);
static int airouter_jscan_array(airouter_jscan_t *s, size_t *i, size_t outer,
    size_t *items);
static int airouter_jscan_messages(airouter_jscan_t *s, size_t *i,
    size_t *items);
static int airouter_jscan_message(airouter_jscan_t *s, size_t *i,
    size_t index);
static int airouter_jscan_text(airouter_jscan_t *s, size_t *i, size_t outer,
    uint64_t *tokens, unsigned *image, size_t *items);
static int airouter_jscan_part(airouter_jscan_t *s, size_t *i, size_t outer,
    uint64_t *tokens, unsigned *image);
static int airouter_jscan_counted_string(airouter_jscan_t *s, size_t *i,
    uint64_t *tokens);
static int airouter_jscan_member(airouter_jscan_t *s, size_t *i, size_t *ks,
    size_t *ke, int *first);
static int airouter_jscan_next(airouter_jscan_t *s, size_t *i, char close,
    int *first);
static size_t airouter_jscan_chars(const char *p, size_t start, size_t end,
    int escaped, char *buf, const char **out);
static airouter_json_kind_e airouter_jscan_kind(const char *p, size_t start,
    size_t end);
static void airouter_jscan_number(airouter_jscan_t *s,
    airouter_jscan_member_t *m);
static int airouter_jscan_is(const char *p, size_t ks, size_t ke,
    const char *name, size_t len);
static size_t airouter_jscan_ws(const char *p, size_t n, size_t i);


airouter_jscan_status_e
airouter_jscan_body(airouter_jscan_t *s, const char *p, size_t n)
{
    int     rc;
    size_t  i, a, b, la;

    s->p = p;
    s->n = n;
    s->nmembers = 0;
    s->nmessages = 0;
    s->message_tokens = 0;
    s->vision = 0;
    s->refused = 0;

    if (n >= UINT32_MAX) {
        /* the members' offsets are 32 bits */
        return AIROUTER_JSCAN_TREE;
    }

    i = airouter_jscan_ws(p, n, 0);

    if (i < n && p[i] == '[') {
        /* JSON, but not the object a request is */
        if (airouter_json_valid(p, n) == 0) {
            return AIROUTER_JSCAN_NOT_OBJECT;
        }

        rc = -1;

    } else if (i < n && p[i] == '{') {
        s->open = i + 1;
        rc = airouter_jscan_object(s, &i);

        if (rc == 0 && airouter_jscan_ws(p, n, i) != n) {
            rc = -1;
        }

    } else {
        rc = -1;
    }

    if (rc == -1) {
        /* jansson reads "[1\0]" as [1]: let it judge a text with a NUL */
        return memchr(p, '\0', n) ? AIROUTER_JSCAN_TREE
                                  : AIROUTER_JSCAN_INVALID;
    }

    if (rc != 0) {
        /* the tree's; unless the text is not JSON at all */
        if (airouter_json_valid(p, n) == 0) {
            return AIROUTER_JSCAN_TREE;
        }

        return memchr(p, '\0', n) ? AIROUTER_JSCAN_TREE
                                  : AIROUTER_JSCAN_INVALID;
    }

    /* a key given twice: the last value wins, in the first one's place */
    for (a = 0; a < s->nmembers; a++) {
        la = s->member[a].key_end - s->member[a].key_start;

        for (b = a + 1; b < s->nmembers; b++) {
            if (s->member[b].key_end - s->member[b].key_start == la
                && memcmp(p + s->member[a].key_start,
                          p + s->member[b].key_start, la) == 0)
            {
                return AIROUTER_JSCAN_TREE;
            }
        }
    }

    return AIROUTER_JSCAN_OK;
}


const airouter_jscan_member_t *
airouter_jscan_get(const airouter_jscan_t *s, const char *key)
{
    size_t  i, len;

    len = strlen(key);

    for (i = 0; i < s->nmembers; i++) {
        if (airouter_jscan_is(s->p, s->member[i].key_start,
                              s->member[i].key_end, key, len))
        {
            return &s->member[i];
        }
    }

    return NULL;
}


size_t
airouter_jscan_string(const airouter_jscan_t *s,
    const airouter_jscan_member_t *m, char *buf, const char **out)
{
    return airouter_jscan_chars(s->p, m->start, m->end, m->escaped, buf, out);
}


void
airouter_jscan_cut(const airouter_jscan_t *s, size_t i, size_t *from,
    size_t *to)
{
    if (i + 1 < s->nmembers) {
        /* up to the next key: the comma and white space go */
        *from = s->member[i].key_start;
        *to = s->member[i + 1].key_start;

    } else if (i > 0) {
        /* the last one: from the end of the one before, its comma too */
        *from = s->member[i - 1].end;
        *to = s->member[i].end;

    } else {
        *from = s->member[i].key_start;
        *to = s->member[i].end;
    }
}


void
airouter_jscan_drop(airouter_jscan_t *s, size_t i, const char *p, size_t n)
{
    size_t    k, from, to;
    uint32_t  cut;

    airouter_jscan_cut(s, i, &from, &to);
    cut = (uint32_t) (to - from);

    /* the members before i end before from; those after start at to */
    for (k = i + 1; k < s->nmembers; k++) {
        s->member[k - 1] = s->member[k];
        s->member[k - 1].key_start -= cut;
        s->member[k - 1].key_end -= cut;
        s->member[k - 1].start -= cut;
        s->member[k - 1].end -= cut;
    }

    s->nmembers--;
    s->p = p;
    s->n = n;
}


/* The top-level object, *i at its '{'. */
static int
airouter_jscan_object(airouter_jscan_t *s, size_t *i)
{
    int                       rc, first;
    size_t                    k, ks, ke;
    airouter_jscan_member_t  *m;

    k = *i;
    first = 1;

    while ((rc = airouter_jscan_member(s, &k, &ks, &ke, &first))
           == AIROUTER_JSCAN_ITEM)
    {
        if (s->nmembers == AIROUTER_JSCAN_MEMBERS) {
            return AIROUTER_JSCAN_TREE_RC;
        }

        m = &s->member[s->nmembers++];
        m->key_start = (uint32_t) ks;
        m->key_end = (uint32_t) ke;
        m->start = (uint32_t) k;

        rc = airouter_jscan_member_value(s, &k, m);
        if (rc != 0) {
            return rc;
        }

        m->end = (uint32_t) k;
    }

    *i = k;

    return rc;
}


/*
 * A top-level member's value at *i: validated, its text counted when the
 * caller named it, "messages" walked for chat; then its kind, number and
 * item count.
 */
static int
airouter_jscan_member_value(airouter_jscan_t *s, size_t *i,
    airouter_jscan_member_t *m)
{
    int                 rc;
    size_t              k, items;
    unsigned            image;
    const char         *p;
    const char *const  *name;

    p = s->p;
    k = *i;
    items = 0;
    m->tokens = 0;
    m->escaped = 0;
    m->integer = 0;

    if (k == s->n) {
        return -1;
    }

    name = NULL;

    if (s->counted && s->count) {
        for (name = s->counted; *name; name++) {
            if (airouter_jscan_is(p, m->key_start, m->key_end, *name,
                                  strlen(*name)))
            {
                break;
            }
        }
    }

    if (name && *name) {
        image = 0;
        rc = airouter_jscan_text(s, &k, 1, &m->tokens, &image, &items);

    } else if (s->messages && p[k] == '['
               && airouter_jscan_is(p, m->key_start, m->key_end, "messages",
                                    sizeof("messages") - 1))
    {
        rc = airouter_jscan_messages(s, &k, &items);

    } else if (p[k] == '[') {
        rc = airouter_jscan_array(s, &k, 1, &items);

    } else {
        rc = airouter_jscan_any(s, &k, 1);
    }

    if (rc != 0) {
        return rc;
    }

    m->value.kind = airouter_jscan_kind(p, *i, k);
    m->value.length = (m->value.kind == AIROUTER_JSON_ARRAY) ? items : 0;
    m->value.number = 0;
    m->end = (uint32_t) k;

    if (m->value.kind == AIROUTER_JSON_STRING) {
        m->escaped = memchr(p + *i, '\\', k - *i) != NULL;

    } else if (m->value.kind & (AIROUTER_JSON_INT|AIROUTER_JSON_REAL)) {
        airouter_jscan_number(s, m);
    }

    *i = k;

    return 0;
}


/* Any value at *i, validated; outer: the containers around it. */
static int
airouter_jscan_any(airouter_jscan_t *s, size_t *i, size_t outer)
{
    return airouter_json_value_at(s->p, s->n, i, outer) == 0 ? 0 : -1;
}


/* An array at *i ('['), its items validated and counted. */
static int
airouter_jscan_array(airouter_jscan_t *s, size_t *i, size_t outer,
    size_t *items)
{
    int     rc, first;
    size_t  k;

    k = *i;
    first = 1;

    while ((rc = airouter_jscan_next(s, &k, ']', &first))
           == AIROUTER_JSCAN_ITEM)
    {
        if (airouter_jscan_any(s, &k, outer + 1) != 0) {
            return -1;
        }

        (*items)++;
    }

    *i = k;

    return rc;
}


/* Chat's "messages" at *i ('['): each item walked and checked. */
static int
airouter_jscan_messages(airouter_jscan_t *s, size_t *i, size_t *items)
{
    int                   rc, first;
    size_t                k, start;
    airouter_json_kind_e  kind;

    k = *i;
    first = 1;

    while ((rc = airouter_jscan_next(s, &k, ']', &first))
           == AIROUTER_JSCAN_ITEM)
    {
        if (s->p[k] == '{') {
            rc = airouter_jscan_message(s, &k, *items);

        } else {
            start = k;
            rc = airouter_jscan_any(s, &k, 2);

            if (rc == 0 && !s->refused) {
                /* not an object: the table says what is wrong */
                kind = airouter_jscan_kind(s->p, start, k);

                if (airouter_params_check_message(*items, kind, 0, NULL, 0,
                                                  0, &s->err)
                    != 0)
                {
                    s->refused = 1;
                }
            }
        }

        if (rc != 0) {
            return rc;
        }

        (*items)++;
        s->nmessages++;
    }

    *i = k;

    return rc;
}


/*
 * One message at *i ('{'), at depth 3: its "role" and "content" (each
 * once), the content's text counted, then the message checked.
 */
static int
airouter_jscan_message(airouter_jscan_t *s, size_t *i, size_t index)
{
    int                   rc, first;
    size_t                k, ks, ke, vs, role_s, role_e, items, len;
    unsigned              image, seen;
    const char           *p, *role;
    airouter_json_kind_e  role_kind, content_kind;

    p = s->p;
    seen = 0;
    image = 0;
    items = 0;
    role_kind = 0;
    content_kind = 0;
    role_s = 0;
    role_e = 0;

    k = *i;
    first = 1;

    while ((rc = airouter_jscan_member(s, &k, &ks, &ke, &first))
           == AIROUTER_JSCAN_ITEM)
    {
        vs = k;

        if (airouter_jscan_is(p, ks, ke, "role", 4)) {
            if (seen & 1) {
                return AIROUTER_JSCAN_TREE_RC;
            }

            seen |= 1;
            rc = airouter_jscan_any(s, &k, 3);
            role_s = vs;
            role_e = k;

            if (rc == 0) {
                role_kind = airouter_jscan_kind(p, vs, k);
            }

        } else if (airouter_jscan_is(p, ks, ke, "content", 7)) {
            if (seen & 2) {
                return AIROUTER_JSCAN_TREE_RC;
            }

            seen |= 2;
            rc = airouter_jscan_text(s, &k, 3, &s->message_tokens, &image,
                                     &items);
            if (rc == 0) {
                content_kind = airouter_jscan_kind(p, vs, k);
            }

        } else {
            rc = airouter_jscan_any(s, &k, 3);
        }

        if (rc != 0) {
            return rc;
        }
    }

    if (rc != 0) {
        return rc;
    }

    *i = k;

    if (image) {
        s->vision = 1;
    }

    if (s->refused) {
        return 0;
    }

    role = NULL;
    len = 0;

    if (role_kind == AIROUTER_JSON_STRING) {
        len = airouter_jscan_chars(p, role_s, role_e,
                                   memchr(p + role_s, '\\', role_e - role_s)
                                   != NULL,
                                   s->scratch, &role);
    }

    if (airouter_params_check_message(index, AIROUTER_JSON_OBJECT, role_kind,
                                      role, len, content_kind, &s->err)
        != 0)
    {
        s->refused = 1;
    }

    return 0;
}


/*
 * A value whose text is counted, at *i inside outer containers: a string,
 * or a list of strings and parts; anything else is only validated.  An
 * image part sets *image; a list's items go to *items.
 */
static int
airouter_jscan_text(airouter_jscan_t *s, size_t *i, size_t outer,
    uint64_t *tokens, unsigned *image, size_t *items)
{
    int          rc, first;
    size_t       k;
    const char  *p;

    p = s->p;
    k = *i;

    if (k == s->n) {
        return -1;
    }

    if (p[k] == '"') {
        return airouter_jscan_counted_string(s, i, tokens);
    }

    if (p[k] != '[') {
        return airouter_jscan_any(s, i, outer);
    }

    first = 1;

    while ((rc = airouter_jscan_next(s, &k, ']', &first))
           == AIROUTER_JSCAN_ITEM)
    {
        if (p[k] == '"') {
            rc = airouter_jscan_counted_string(s, &k, tokens);

        } else if (p[k] == '{') {
            rc = airouter_jscan_part(s, &k, outer + 1, tokens, image);

        } else {
            rc = airouter_jscan_any(s, &k, outer + 1);
        }

        if (rc != 0) {
            return rc;
        }

        (*items)++;
    }

    *i = k;

    return rc;
}


/*
 * A content part at *i ('{'), itself at depth outer + 1: its "text"
 * counted, its "type" compared with the image types (each key once).
 */
static int
airouter_jscan_part(airouter_jscan_t *s, size_t *i, size_t outer,
    uint64_t *tokens, unsigned *image)
{
    int          rc, first;
    size_t       k, ks, ke, vs, len;
    unsigned     seen;
    const char  *p, *type;

    p = s->p;
    seen = 0;

    k = *i;
    first = 1;

    while ((rc = airouter_jscan_member(s, &k, &ks, &ke, &first))
           == AIROUTER_JSCAN_ITEM)
    {
        vs = k;

        if (airouter_jscan_is(p, ks, ke, "text", 4)) {
            if (seen & 1) {
                return AIROUTER_JSCAN_TREE_RC;
            }

            seen |= 1;
            rc = (k < s->n && p[k] == '"')
                 ? airouter_jscan_counted_string(s, &k, tokens)
                 : airouter_jscan_any(s, &k, outer + 1);

        } else if (airouter_jscan_is(p, ks, ke, "type", 4)) {
            if (seen & 2) {
                return AIROUTER_JSCAN_TREE_RC;
            }

            seen |= 2;
            rc = airouter_jscan_any(s, &k, outer + 1);

            if (rc == 0 && p[vs] == '"') {
                len = airouter_jscan_chars(p, vs, k,
                                           memchr(p + vs, '\\', k - vs)
                                           != NULL,
                                           s->scratch, &type);

                if ((len == 9 && memcmp(type, "image_url", 9) == 0)
                    || (len == 11 && memcmp(type, "input_image", 11) == 0)
                    || (len == 5 && memcmp(type, "image", 5) == 0))
                {
                    *image = 1;
                }
            }

        } else {
            rc = airouter_jscan_any(s, &k, outer + 1);
        }

        if (rc != 0) {
            return rc;
        }
    }

    *i = k;

    return rc;
}


/* A string at *i, validated, its value's tokens added to *tokens. */
static int
airouter_jscan_counted_string(airouter_jscan_t *s, size_t *i,
    uint64_t *tokens)
{
    size_t       start, len;
    const char  *p, *text;

    p = s->p;
    start = *i;

    if (airouter_json_string_at(p, s->n, i) != 0) {
        return -1;
    }

    if (s->count == NULL) {
        return 0;
    }

    /* validated: an escaped string unescapes to one character or more */
    len = airouter_jscan_chars(p, start, *i,
                               memchr(p + start, '\\', *i - start) != NULL,
                               s->scratch, &text);
    *tokens += s->count(s->count_data, text, len);

    return 0;
}


/*
 * The next member of the object whose '{' is at *i (*first set before
 * the first call): AIROUTER_JSCAN_ITEM with *ks, *ke spanning its key and
 * *i at its value; 0 after the '}' (*i one past it); -1 not JSON; a key
 * with an escape is the tree's.
 */
static int
airouter_jscan_member(airouter_jscan_t *s, size_t *i, size_t *ks, size_t *ke,
    int *first)
{
    int          rc;
    size_t       k;
    const char  *p;

    rc = airouter_jscan_next(s, i, '}', first);
    if (rc != AIROUTER_JSCAN_ITEM) {
        return rc;
    }

    p = s->p;
    k = *i;

    if (p[k] != '"') {
        return -1;
    }

    *ks = k;

    if (airouter_json_string_at(p, s->n, &k) != 0) {
        return -1;
    }

    *ke = k;

    if (memchr(p + *ks, '\\', k - *ks)) {
        return AIROUTER_JSCAN_TREE_RC;
    }

    k = airouter_jscan_ws(p, s->n, k);

    if (k == s->n || p[k] != ':') {
        return -1;
    }

    *i = airouter_jscan_ws(p, s->n, k + 1);

    return AIROUTER_JSCAN_ITEM;
}


/*
 * The next item of the container whose '[' or '{' is at *i (*first set
 * before the first call), closed by close: AIROUTER_JSCAN_ITEM with *i at
 * the item, 0 after the close (*i one past it), or -1: every walker's
 * ',' and white space, once.
 */
static int
airouter_jscan_next(airouter_jscan_t *s, size_t *i, char close, int *first)
{
    size_t  k;

    k = airouter_jscan_ws(s->p, s->n, *i + *first);

    if (k == s->n) {
        return -1;
    }

    if (s->p[k] == close) {
        *i = k + 1;
        return 0;
    }

    if (!*first) {
        if (s->p[k] != ',') {
            return -1;
        }

        k = airouter_jscan_ws(s->p, s->n, k + 1);

        if (k == s->n) {
            return -1;
        }
    }

    *first = 0;
    *i = k;

    return AIROUTER_JSCAN_ITEM;
}


/*
 * The characters of the string p[start..end) (quotes included): *out at
 * them, or at buf with them unescaped when the string has an escape; their
 * length (0 when the escapes cannot be read).
 */
static size_t
airouter_jscan_chars(const char *p, size_t start, size_t end, int escaped,
    char *buf, const char **out)
{
    long  len;

    if (!escaped) {
        *out = p + start + 1;
        return end - start - 2;
    }

    len = airouter_json_unescape(p + start, end - start, buf);
    *out = buf;

    return len < 0 ? 0 : (size_t) len;
}


/* The kind of the valid value p[start..end). */
static airouter_json_kind_e
airouter_jscan_kind(const char *p, size_t start, size_t end)
{
    size_t  k;

    switch (p[start]) {
    case '"': return AIROUTER_JSON_STRING;
    case '{': return AIROUTER_JSON_OBJECT;
    case '[': return AIROUTER_JSON_ARRAY;
    case 't': case 'f': return AIROUTER_JSON_BOOL;
    case 'n': return AIROUTER_JSON_NULL;
    default: break;
    }

    for (k = start; k < end; k++) {
        if (p[k] == '.' || p[k] == 'e' || p[k] == 'E') {
            return AIROUTER_JSON_REAL;
        }
    }

    return AIROUTER_JSON_INT;
}


/* A number member's value, as jansson reads it (its range is checked). */
static void
airouter_jscan_number(airouter_jscan_t *s, airouter_jscan_member_t *m)
{
    int          neg;
    size_t       k, len;
    uint64_t     u;
    const char  *p;
    char         buf[64], *copy;

    p = s->p;

    if (m->value.kind == AIROUTER_JSON_INT) {
        neg = (p[m->start] == '-');
        u = 0;

        for (k = m->start + neg; k < m->end; k++) {
            u = u * 10 + (uint64_t) (p[k] - '0');
        }

        /* 2^63 itself only when negative: the range check saw to it */
        m->integer = neg ? (int64_t) (0 - u) : (int64_t) u;
        m->value.number = (double) m->integer;
        return;
    }

    len = m->end - m->start;
    copy = (len < sizeof(buf)) ? buf : s->scratch;

    memcpy(copy, p + m->start, len);
    copy[len] = '\0';

    m->value.number = strtod(copy, NULL);
}


/* Whether the key p[ks..ke) (quotes included, no escapes) is name. */
static int
airouter_jscan_is(const char *p, size_t ks, size_t ke, const char *name,
    size_t len)
{
    return ke - ks - 2 == len && memcmp(p + ks + 1, name, len) == 0;
}


static size_t
airouter_jscan_ws(const char *p, size_t n, size_t i)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n'
                     || p[i] == '\r'))
    {
        i++;
    }

    return i;
}
