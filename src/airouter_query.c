/*
 * The model query language declared in airouter_query.h: resolution to
 * posting lists, the intersecting iterator, and 404 suggestions.
 */

#include <string.h>

#include "airouter_query.h"


#define AIROUTER_QUERY_ALT_MAX     256      /* "qwen3:8b" -> "qwen3-8b" */
#define AIROUTER_QUERY_SIMILAR_MAX 128      /* longer queries: no hints */


typedef struct {
    const char               *name;
    size_t                    d;            /* edit distance */
    size_t                    prefix;       /* shared prefix */
    int                       tag;
} airouter_query_hint_t;


static void airouter_query_trim(const char **p, size_t *len);
static int airouter_query_lc(int c);
static airouter_query_status_e airouter_query_tags(
    const airouter_catalog_t *cat, const char *p, size_t len,
    airouter_query_t *q);
static airouter_query_status_e airouter_query_tag(
    const airouter_catalog_t *cat, const char *p, size_t len, int neg,
    airouter_query_t *q);
static airouter_query_status_e airouter_query_implicit(
    const airouter_catalog_t *cat, const char *p, size_t len,
    airouter_query_t *q);
static int airouter_query_list(const airouter_catalog_t *cat, uint32_t kind,
    const char *key, size_t len, airouter_query_t *q);
static airouter_query_status_e airouter_query_finish(airouter_query_t *q);
static uint32_t airouter_query_gallop(const airouter_query_list_t *l,
    uint32_t cur, uint32_t x);
static size_t airouter_query_distance(const char *a, size_t alen,
    const char *b, size_t blen, size_t max);
static size_t airouter_query_hint(airouter_query_hint_t *h, size_t n,
    size_t max, const char *q, size_t qlen, const char *name, size_t len,
    int tag);
static size_t airouter_query_similar_names(const airouter_catalog_t *cat,
    uint32_t kind, const char *q, size_t qlen, airouter_similar_t *out,
    size_t max);
static size_t airouter_query_similar_overlap(const airouter_catalog_t *cat,
    const airouter_query_t *q, airouter_similar_t *out, size_t max);
static int airouter_query_has(const airouter_query_list_t *l, uint32_t x);
static airouter_query_status_e airouter_query_frag(
    const airouter_catalog_t *cat, const char *p, size_t len, int neg,
    airouter_query_t *q);
static int airouter_query_frags_match(const airouter_query_t *q,
    uint32_t x);


airouter_query_status_e
airouter_query_resolve(const airouter_catalog_t *cat, const char *model,
    size_t len, airouter_query_t *q)
{
    char            alt[AIROUTER_QUERY_ALT_MAX];
    size_t          s, e, i;
    double          total, active;
    airouter_tag_t  variant, tok;

    memset(q, 0, sizeof(airouter_query_t));
    q->nmodels = cat ? cat->nmodels : 0;

    if (cat == NULL || model == NULL) {
        q->status = AIROUTER_QUERY_BAD;
        q->why = "no model";
        return q->status;
    }

    airouter_query_trim(&model, &len);

    if (len == 0) {
        q->status = AIROUTER_QUERY_BAD;
        q->why = "empty model";
        return q->status;
    }

    if (len >= 4 && airouter_tags_eq(model, 4, "tag:", 4)) {
        return airouter_query_tags(cat, model + 4, len - 4, q);
    }

    if (len >= 5 && airouter_tags_eq(model, 5, "tags:", 5)) {
        return airouter_query_tags(cat, model + 5, len - 5, q);
    }

    if (airouter_query_list(cat, AIROUTER_KEY_PHYSICAL, model, len, q)) {
        q->stage = AIROUTER_STAGE_PHYSICAL;
        return q->status;
    }

    airouter_tags_core(model, len, &s, &e);
    variant = airouter_tags_variant(model, len);

    if (variant.len > 0 && variant.data + variant.len == model + len
        && (e - s) + 1 + variant.len <= sizeof(alt)
        && airouter_tags_params(variant.data, variant.len, &total, &active)
        && airouter_tags_extract(variant.data, variant.len, &tok, 1) == 1
        && tok.len == variant.len)
    {
        /* "qwen3:8b" asks for an 8b, not for any qwen3 */
        memcpy(alt, model + s, e - s);
        alt[e - s] = '-';

        for (i = 0; i < variant.len; i++) {
            alt[e - s + 1 + i] = variant.data[i];
        }

        if (airouter_query_list(cat, AIROUTER_KEY_CORE, alt,
                                (e - s) + 1 + variant.len, q))
        {
            q->stage = AIROUTER_STAGE_CORE;
            return q->status;
        }

    } else if (airouter_query_list(cat, AIROUTER_KEY_CORE, model + s, e - s,
                                   q))
    {
        q->stage = AIROUTER_STAGE_CORE;
        return q->status;
    }

    if (airouter_query_list(cat, AIROUTER_KEY_ALIAS, model, len, q)) {
        q->stage = AIROUTER_STAGE_ALIAS;
        return q->status;
    }

    return airouter_query_implicit(cat, model, len, q);
}


void
airouter_query_iter_init(airouter_query_iter_t *it, const airouter_query_t *q)
{
    memset(it, 0, sizeof(airouter_query_iter_t));
    it->q = q;
}


/*
 * The driver is pos[0], the shortest list (or every index when there is
 * no positive tag); the others are probed with cursors that only move
 * forward, so one walk costs about the driver's length times log of the
 * gaps.  When another list is ahead, the driver leaps to its value.
 */
int
airouter_query_next(airouter_query_iter_t *it, uint32_t *model)
{
    size_t                   k;
    uint32_t                 x, c, y;
    const airouter_query_t  *q;

    q = it->q;

    if (q == NULL || q->status != AIROUTER_QUERY_OK) {
        return 0;
    }

    for ( ;; ) {

        if (q->npos > 0) {
            if (it->next >= q->pos[0].n) {
                return 0;
            }
            x = q->pos[0].list[it->next];

        } else {
            if (it->next >= q->nmodels) {
                return 0;
            }
            x = it->next;
        }

        for (k = 1; k < q->npos; k++) {
            c = airouter_query_gallop(&q->pos[k], it->cur[k], x);
            it->cur[k] = c;

            if (c >= q->pos[k].n) {
                it->next = q->pos[0].n;
                return 0;
            }

            y = q->pos[k].list[c];

            if (y != x) {
                /* leap the driver to y */
                it->next = airouter_query_gallop(&q->pos[0], it->next, y);
                break;
            }
        }

        if (k < q->npos) {
            continue;
        }

        it->next++;

        for (k = 0; k < q->nneg; k++) {
            c = airouter_query_gallop(&q->neg[k],
                                      it->cur[AIROUTER_QUERY_MAX_TAGS + k], x);
            it->cur[AIROUTER_QUERY_MAX_TAGS + k] = c;

            if (c < q->neg[k].n && q->neg[k].list[c] == x) {
                break;
            }
        }

        if (k < q->nneg) {
            continue;
        }

        if (q->nfrags && !airouter_query_frags_match(q, x)) {
            continue;
        }

        *model = x;

        return 1;
    }
}


uint32_t
airouter_query_estimate(const airouter_query_t *q)
{
    if (q->status != AIROUTER_QUERY_OK) {
        return 0;
    }

    return q->npos > 0 ? q->pos[0].n : q->nmodels;
}


size_t
airouter_query_similar(const airouter_catalog_t *cat, const char *model,
    size_t len, airouter_similar_t *out, size_t max)
{
    char              buf[AIROUTER_QUERY_SIMILAR_MAX];
    size_t            s, e, i, n;
    airouter_query_t  q;

    if (cat == NULL || model == NULL || max == 0) {
        return 0;
    }

    airouter_query_trim(&model, &len);

    if (len == 0) {
        return 0;
    }

    if ((len >= 4 && airouter_tags_eq(model, 4, "tag:", 4))
        || (len >= 5 && airouter_tags_eq(model, 5, "tags:", 5)))
    {
        n = model[3] == ':' ? 4 : 5;

        if (airouter_query_tags(cat, model + n, len - n, &q)
            == AIROUTER_QUERY_BAD)
        {
            return 0;
        }

        if (q.unknown != NULL) {
            return airouter_query_similar_names(cat, AIROUTER_KEY_TAG,
                                                q.unknown, q.unknown_len,
                                                out, max);
        }

        return airouter_query_similar_overlap(cat, &q, out, max);
    }

    airouter_tags_core(model, len, &s, &e);

    if (e - s > sizeof(buf)) {
        return 0;
    }

    for (i = 0; i < e - s; i++) {
        buf[i] = (char) airouter_query_lc(model[s + i]);
    }

    n = airouter_query_similar_names(cat, AIROUTER_KEY_CORE, buf, e - s,
                                     out, max);

    if (n == 0) {
        /* "kimi-free" style: the entries sharing most of its tokens */
        if (airouter_query_implicit(cat, model, len, &q)
            != AIROUTER_QUERY_BAD && q.unknown == NULL)
        {
            n = airouter_query_similar_overlap(cat, &q, out, max);
        }
    }

    return n;
}


const char *
airouter_query_stage_name(airouter_stage_e stage)
{
    switch (stage) {
    case AIROUTER_STAGE_PHYSICAL:
        return "physical";
    case AIROUTER_STAGE_CORE:
        return "core";
    case AIROUTER_STAGE_ALIAS:
        return "alias";
    case AIROUTER_STAGE_TAG:
        return "tag";
    case AIROUTER_STAGE_IMPLICIT_TAG:
        return "implicit_tag";
    default:
        return "none";
    }
}


static void
airouter_query_trim(const char **p, size_t *len)
{
    while (*len > 0 && ((*p)[0] == ' ' || (*p)[0] == '\t')) {
        (*p)++;
        (*len)--;
    }

    while (*len > 0 && ((*p)[*len - 1] == ' ' || (*p)[*len - 1] == '\t')) {
        (*len)--;
    }
}


static int
airouter_query_lc(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : (c & 0xff);
}


/* "a, b,!c": comma-separated items, each trimmed, "!" negates */
static airouter_query_status_e
airouter_query_tags(const airouter_catalog_t *cat, const char *p, size_t len,
    airouter_query_t *q)
{
    int          neg;
    size_t       b, e, n, items;
    const char  *item;

    memset(q, 0, sizeof(airouter_query_t));
    q->nmodels = cat->nmodels;
    q->stage = AIROUTER_STAGE_TAG;
    items = 0;

    for (b = 0; b < len; b = e + 1) {
        for (e = b; e < len && p[e] != ','; e++) {
            /* void */
        }

        item = p + b;
        n = e - b;
        airouter_query_trim(&item, &n);

        neg = 0;

        if (n > 0 && item[0] == '!') {
            neg = 1;
            item++;
            n--;
            airouter_query_trim(&item, &n);
        }

        if (n == 0) {
            continue;
        }

        if (++items > AIROUTER_QUERY_MAX_TAGS) {
            q->status = AIROUTER_QUERY_BAD;
            q->why = "too many tags";
            return q->status;
        }

        if (airouter_query_tag(cat, item, n, neg, q) == AIROUTER_QUERY_BAD) {
            return q->status;
        }
    }

    if (items == 0) {
        q->status = AIROUTER_QUERY_BAD;
        q->why = "\"tag:\" names no tag";
        return q->status;
    }

    if (q->unknown != NULL) {
        q->status = AIROUTER_QUERY_NO_MATCH;
        return q->status;
    }

    return airouter_query_finish(q);
}


/*
 * One tag item.  An item that is not a tag but splits into tags ("tag:
 * qwen3-coder") means all of its parts.  The first unknown positive tag
 * is remembered; unknown negatives exclude nothing.
 */
static airouter_query_status_e
airouter_query_tag(const airouter_catalog_t *cat, const char *p, size_t len,
    int neg, airouter_query_t *q)
{
    size_t                          n, i;
    airouter_tag_t                  toks[AIROUTER_QUERY_MAX_TAGS + 1];
    const airouter_catalog_tag_t   *t;
    const airouter_catalog_slot_t  *sl;

    sl = airouter_catalog_lookup(cat, AIROUTER_KEY_TAG, p, len);

    if (sl == NULL) {
        n = airouter_tags_extract(p, len, toks, AIROUTER_QUERY_MAX_TAGS + 1);

        if (n > 1 && !neg) {
            for (i = 0; i < n; i++) {
                if (airouter_query_tag(cat, toks[i].data, toks[i].len, 0, q)
                    == AIROUTER_QUERY_BAD)
                {
                    return AIROUTER_QUERY_BAD;
                }
            }

            return AIROUTER_QUERY_OK;
        }

        if (!airouter_tags_meaningful(p, len)) {
            return airouter_query_frag(cat, p, len, neg, q);
        }
    }

    if (neg) {
        if (q->nneg == AIROUTER_QUERY_MAX_TAGS) {
            goto too_many;
        }

        if (sl != NULL) {
            t = airouter_catalog_tag(cat, sl->value);
            q->neg[q->nneg].list = airouter_catalog_postings(cat, t->postings);
            q->neg[q->nneg].n = t->count;
            q->nneg++;
        }

        return AIROUTER_QUERY_OK;
    }

    if (q->npos == AIROUTER_QUERY_MAX_TAGS) {
        goto too_many;
    }

    if (sl == NULL) {
        if (q->unknown == NULL) {
            q->unknown = p;
            q->unknown_len = len;
        }

        return AIROUTER_QUERY_OK;
    }

    t = airouter_catalog_tag(cat, sl->value);
    q->pos[q->npos].list = airouter_catalog_postings(cat, t->postings);
    q->pos[q->npos].n = t->count;
    q->npos++;

    return AIROUTER_QUERY_OK;

too_many:

    q->status = AIROUTER_QUERY_BAD;
    q->why = "too many tags";

    return AIROUTER_QUERY_BAD;
}


static airouter_query_status_e
airouter_query_frag(const airouter_catalog_t *cat, const char *p, size_t len,
    int neg, airouter_query_t *q)
{
    if (q->nfrags == AIROUTER_QUERY_MAX_TAGS) {
        q->status = AIROUTER_QUERY_BAD;
        q->why = "too many tags";
        return AIROUTER_QUERY_BAD;
    }

    q->frags[q->nfrags].data = p;
    q->frags[q->nfrags].len = (uint32_t) len;
    q->frags[q->nfrags].neg = (uint32_t) neg;
    q->nfrags++;
    q->cat = cat;

    return AIROUTER_QUERY_OK;
}


/* Entry x's name has every positive fragment and no negative one. */
static int
airouter_query_frags_match(const airouter_query_t *q, uint32_t x)
{
    size_t                           k;
    const char                      *id;
    const airouter_catalog_model_t  *m;

    m = airouter_catalog_model(q->cat, x);
    id = airouter_catalog_model_id(q->cat, m);

    for (k = 0; k < q->nfrags; k++) {
        if (airouter_tags_has(id, m->id_len, q->frags[k].data,
                              q->frags[k].len)
            == (int) q->frags[k].neg)
        {
            return 0;
        }
    }

    return 1;
}


static airouter_query_status_e
airouter_query_implicit(const airouter_catalog_t *cat, const char *p,
    size_t len, airouter_query_t *q)
{
    size_t          n, i;
    airouter_tag_t  toks[AIROUTER_QUERY_MAX_TAGS + 1];

    memset(q, 0, sizeof(airouter_query_t));
    q->nmodels = cat->nmodels;
    q->stage = AIROUTER_STAGE_IMPLICIT_TAG;

    n = airouter_tags_extract(p, len, toks, AIROUTER_QUERY_MAX_TAGS + 1);

    if (n == 0 || n > AIROUTER_QUERY_MAX_TAGS) {
        q->stage = AIROUTER_STAGE_NONE;
        q->status = AIROUTER_QUERY_NO_MATCH;
        return q->status;
    }

    for (i = 0; i < n; i++) {
        if (airouter_query_tag(cat, toks[i].data, toks[i].len, 0, q)
            == AIROUTER_QUERY_BAD)
        {
            return q->status;
        }
    }

    if (q->unknown != NULL) {
        q->stage = AIROUTER_STAGE_NONE;
        q->status = AIROUTER_QUERY_NO_MATCH;
        return q->status;
    }

    if (airouter_query_finish(q) != AIROUTER_QUERY_OK) {
        q->stage = AIROUTER_STAGE_NONE;
    }

    return q->status;
}


static int
airouter_query_list(const airouter_catalog_t *cat, uint32_t kind,
    const char *key, size_t len, airouter_query_t *q)
{
    const airouter_catalog_slot_t  *sl;

    sl = airouter_catalog_lookup(cat, kind, key, len);

    if (sl == NULL || sl->count == 0) {
        return 0;
    }

    q->pos[0].list = airouter_catalog_postings(cat, sl->value);
    q->pos[0].n = sl->count;
    q->npos = 1;
    q->status = AIROUTER_QUERY_OK;

    return 1;
}


/* Shortest positive list first; OK only when something is left. */
static airouter_query_status_e
airouter_query_finish(airouter_query_t *q)
{
    size_t                 i, j;
    uint32_t               x;
    airouter_query_list_t  l;
    airouter_query_iter_t  it;

    for (i = 1; i < q->npos; i++) {
        l = q->pos[i];

        for (j = i; j > 0 && q->pos[j - 1].n > l.n; j--) {
            q->pos[j] = q->pos[j - 1];
        }

        q->pos[j] = l;
    }

    q->status = AIROUTER_QUERY_OK;

    airouter_query_iter_init(&it, q);

    if (!airouter_query_next(&it, &x)) {
        q->status = AIROUTER_QUERY_NO_MATCH;
    }

    return q->status;
}


/* First position >= cur whose value is >= x: exponential, then binary. */
static uint32_t
airouter_query_gallop(const airouter_query_list_t *l, uint32_t cur,
    uint32_t x)
{
    uint32_t  lo, hi, step, mid;

    if (cur >= l->n || l->list[cur] >= x) {
        return cur;
    }

    lo = cur;
    step = 1;

    for ( ;; ) {
        hi = lo + step;

        if (hi >= l->n) {
            hi = l->n;
            break;
        }

        if (l->list[hi] >= x) {
            break;
        }

        lo = hi;
        step *= 2;
    }

    /* l->list[lo] < x, and hi == n or l->list[hi] >= x */

    while (hi - lo > 1) {
        mid = lo + (hi - lo) / 2;

        if (l->list[mid] < x) {
            lo = mid;

        } else {
            hi = mid;
        }
    }

    return hi;
}


/* Levenshtein distance, or max + 1 once it is sure to exceed max. */
static size_t
airouter_query_distance(const char *a, size_t alen, const char *b,
    size_t blen, size_t max)
{
    size_t  row[AIROUTER_QUERY_SIMILAR_MAX + 1];
    size_t  i, j, prev, cur, best;

    if (alen > AIROUTER_QUERY_SIMILAR_MAX) {
        return max + 1;
    }

    if ((alen > blen ? alen - blen : blen - alen) > max) {
        return max + 1;
    }

    for (i = 0; i <= alen; i++) {
        row[i] = i;
    }

    for (j = 1; j <= blen; j++) {
        prev = row[0];
        row[0] = j;
        best = row[0];

        for (i = 1; i <= alen; i++) {
            cur = row[i];

            if (airouter_query_lc(a[i - 1]) == airouter_query_lc(b[j - 1])) {
                row[i] = prev;

            } else {
                row[i] = 1 + (prev < cur ? (prev < row[i - 1] ? prev
                                                               : row[i - 1])
                                         : (cur < row[i - 1] ? cur
                                                             : row[i - 1]));
            }

            prev = cur;

            if (row[i] < best) {
                best = row[i];
            }
        }

        if (best > max) {
            return max + 1;
        }
    }

    return row[alen];
}


/*
 * Offers name as a hint for q: close by edit distance, or starting with
 * q ("qwen3-235b" -> "qwen3-235b-a22b").  Keeps the best max, by
 * distance, then longer shared prefix, then name.
 */
static size_t
airouter_query_hint(airouter_query_hint_t *h, size_t n, size_t max,
    const char *q, size_t qlen, const char *name, size_t len, int tag)
{
    size_t                 d, limit, prefix, i, j;
    airouter_query_hint_t  x;

    limit = qlen / 3 > 2 ? qlen / 3 : 2;

    for (prefix = 0; prefix < qlen && prefix < len; prefix++) {
        if (airouter_query_lc(q[prefix]) != airouter_query_lc(name[prefix])) {
            break;
        }
    }

    if (prefix == qlen && qlen >= 3) {
        /* an extension of the query ranks with the one-typo names */
        d = 1;

    } else {
        d = airouter_query_distance(q, qlen, name, len, limit);

        if (d > limit) {
            return n;
        }
    }

    x.name = name;
    x.d = d;
    x.prefix = prefix;
    x.tag = tag;

    for (i = 0; i < n; i++) {
        if (d < h[i].d
            || (d == h[i].d && (prefix > h[i].prefix
                                || (prefix == h[i].prefix
                                    && strcmp(name, h[i].name) < 0))))
        {
            break;
        }
    }

    if (i >= max) {
        return n;
    }

    if (n < max) {
        n++;
    }

    for (j = n - 1; j > i; j--) {
        h[j] = h[j - 1];
    }

    h[i] = x;

    return n;
}


static size_t
airouter_query_similar_names(const airouter_catalog_t *cat, uint32_t kind,
    const char *q, size_t qlen, airouter_similar_t *out, size_t max)
{
    size_t                          n, i;
    uint32_t                        s;
    airouter_query_hint_t           h[8];
    const airouter_catalog_slot_t  *slots;

    if (qlen == 0 || qlen > AIROUTER_QUERY_SIMILAR_MAX) {
        return 0;
    }

    if (max > 8) {
        max = 8;
    }

    slots = (const airouter_catalog_slot_t *)
            (airouter_catalog_base(cat) + cat->slots);
    n = 0;

    for (s = 0; s < cat->nslots; s++) {
        if (slots[s].kind != kind) {
            continue;
        }

        n = airouter_query_hint(h, n, max, q, qlen,
                                airouter_catalog_str(cat, slots[s].key),
                                slots[s].key_len, kind == AIROUTER_KEY_TAG);
    }

    for (i = 0; i < n; i++) {
        out[i].name = h[i].name;
        out[i].tag = h[i].tag;
    }

    return n;
}


/*
 * Entries carrying most of the positive tags and none of the negative
 * ones, named by core name, distinct; more shared tags first.
 */
static size_t
airouter_query_similar_overlap(const airouter_catalog_t *cat,
    const airouter_query_t *q, airouter_similar_t *out, size_t max)
{
    size_t                           n, i, j, k, l;
    uint32_t                         x, c, best[8], hits[8];
    const airouter_catalog_model_t  *m;

    if (max > 8) {
        max = 8;
    }

    n = 0;

    for (i = 0; i < q->npos; i++) {
        for (j = 0; j < q->pos[i].n; j++) {
            x = q->pos[i].list[j];
            m = airouter_catalog_model(cat, x);

            for (k = 0; k < q->nneg; k++) {
                if (airouter_query_has(&q->neg[k], x)) {
                    break;
                }
            }

            if (k < q->nneg) {
                continue;
            }

            c = 0;

            for (k = 0; k < q->npos; k++) {
                c += airouter_query_has(&q->pos[k], x);
            }

            for (k = 0; k < n; k++) {
                if (airouter_catalog_model(cat, best[k])->core == m->core) {
                    break;
                }
            }

            if (k < n) {
                continue;
            }

            for (k = 0; k < n && hits[k] >= c; k++) {
                /* void */
            }

            if (k >= max) {
                continue;
            }

            if (n < max) {
                n++;
            }

            for (l = n - 1; l > k; l--) {
                best[l] = best[l - 1];
                hits[l] = hits[l - 1];
            }

            best[k] = x;
            hits[k] = c;
        }
    }

    for (i = 0; i < n; i++) {
        m = airouter_catalog_model(cat, best[i]);
        out[i].name = airouter_catalog_model_core(cat, m);
        out[i].tag = 0;
    }

    return n;
}


static int
airouter_query_has(const airouter_query_list_t *l, uint32_t x)
{
    uint32_t  c;

    c = airouter_query_gallop(l, 0, x);

    return c < l->n && l->list[c] == x;
}
