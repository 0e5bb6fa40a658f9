/*
 * One source row to one airouter channel: the type's provider and
 * OpenAI-compatible base URL, the keys (one a line; New-API's disabled
 * multi-key entries left out), model_mapping as model_aliases, groups and
 * tags as tags, the status as enabled, and the notes written above the
 * channel.  No I/O: airouter-import's main calls it for every row, the unit
 * test calls it with rows of its own.
 */

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "airouter_import.h"


static int airouter_import_map_base(airouter_arena_t *a,
    const airouter_import_row_t *row, airouter_import_channel_t *ch);
static char *airouter_import_map_account(airouter_arena_t *a,
    const airouter_import_row_t *row);
static int airouter_import_map_keys(airouter_arena_t *a,
    const airouter_import_row_t *row, airouter_import_channel_t *ch);
static int airouter_import_map_key_enabled(json_t *info, size_t index);
static int airouter_import_map_models(airouter_arena_t *a,
    const airouter_import_row_t *row, airouter_import_channel_t *ch);
static int airouter_import_map_alias(airouter_arena_t *a,
    airouter_import_channel_t *ch, const char *alias, const char *target);
static int airouter_import_map_tags(airouter_arena_t *a,
    const airouter_import_row_t *row, airouter_import_channel_t *ch);
static int airouter_import_map_notes(airouter_arena_t *a,
    const airouter_import_row_t *row, airouter_import_flavor_e flavor,
    airouter_import_channel_t *ch);
static int airouter_import_list_has(const airouter_import_list_t *l,
    const char *s);
static const char *airouter_import_trim(const char *s, size_t *len);
static int airouter_import_ends_with(const char *s, const char *suffix);
static int airouter_import_cmp_desc(const void *a, const void *b);


int
airouter_import_map(airouter_arena_t *a, const airouter_import_row_t *row,
    airouter_import_flavor_e flavor, const char *id_prefix,
    airouter_import_channel_t *ch)
{
    memset(ch, 0, sizeof(airouter_import_channel_t));

    ch->row = row;
    ch->type = airouter_import_type(flavor, row->type);
    ch->enabled = (row->status == 1);
    ch->weight = row->has_weight ? row->weight : -1;

    ch->id = airouter_import_printf(a, "%s_%lld", id_prefix, row->id);
    if (ch->id == NULL) {
        return AIROUTER_IMPORT_ERROR;
    }

    ch->name = (row->name != NULL && row->name[0] != '\0')
               ? airouter_import_utf8(a, row->name) : ch->id;
    if (ch->name == NULL) {
        return AIROUTER_IMPORT_ERROR;
    }

    if (airouter_import_map_notes(a, row, flavor, ch) != AIROUTER_IMPORT_OK
        || airouter_import_map_base(a, row, ch) != AIROUTER_IMPORT_OK
        || airouter_import_map_keys(a, row, ch) != AIROUTER_IMPORT_OK
        || airouter_import_map_models(a, row, ch) != AIROUTER_IMPORT_OK
        || airouter_import_map_tags(a, row, ch) != AIROUTER_IMPORT_OK)
    {
        return AIROUTER_IMPORT_ERROR;
    }

    return AIROUTER_IMPORT_OK;
}


/*
 * The base URL airouter calls: the channel's own (or the project's
 * default), without trailing slashes, plus the suffix that leads to the
 * provider's OpenAI-compatible API unless the URL already ends in it.
 */
static int
airouter_import_map_base(airouter_arena_t *a,
    const airouter_import_row_t *row, airouter_import_channel_t *ch)
{
    size_t                         len;
    char                          *base, *account;
    const char                    *own, *suffix;
    const airouter_import_type_t  *t;

    t = ch->type;
    own = NULL;
    len = 0;

    if (row->base_url != NULL) {
        len = strlen(row->base_url);
        own = airouter_import_trim(row->base_url, &len);
    }

    if (len == 0) {
        own = (t != NULL) ? t->native_base : NULL;
        len = own ? strlen(own) : 0;
    }

    while (len > 0 && own[len - 1] == '/') {
        len--;
    }

    ch->provider = (t != NULL && t->provider != NULL) ? t->provider
                                                      : "openai_compatible";

    if (t == NULL) {
        if (airouter_import_list_add(a, &ch->notes,
                "unknown channel type: written as OpenAI-compatible, "
                "check it", (size_t) -1) != AIROUTER_IMPORT_OK)
        {
            return AIROUTER_IMPORT_ERROR;
        }
    }

    if (t != NULL && (t->flags & AIROUTER_IMPORT_NATIVE)) {
        ch->commented = 1;

        if (airouter_import_list_add(a, &ch->notes, t->note, (size_t) -1)
            != AIROUTER_IMPORT_OK)
        {
            return AIROUTER_IMPORT_ERROR;
        }
    }

    if (len == 0) {
        ch->commented = 1;
        return airouter_import_list_add(a, &ch->notes,
                                        "no base URL: the source gives none "
                                        "for this type", (size_t) -1);
    }

    base = airouter_arena_strndup(a, own, len);
    if (base == NULL) {
        return AIROUTER_IMPORT_ERROR;
    }

    suffix = (t != NULL) ? t->suffix : "";

    if (t != NULL && (t->flags & AIROUTER_IMPORT_ACCOUNT)) {
        account = airouter_import_map_account(a, row);

        if (account == NULL) {
            ch->commented = 1;
            ch->base_url = base;
            return airouter_import_list_add(a, &ch->notes,
                       "no Cloudflare account id in the source: set base_url "
                       "to https://api.cloudflare.com/client/v4/accounts/"
                       "ACCOUNT/ai/v1", (size_t) -1);
        }

        if (strstr(base, "/accounts/") == NULL) {
            base = airouter_import_printf(a, "%s/client/v4/accounts/%s/ai/v1",
                                          base, account);
        }

    } else if (t != NULL && (t->flags & AIROUTER_IMPORT_AZURE)) {
        if (airouter_import_ends_with(base, "/openai")) {
            base = airouter_import_printf(a, "%s/v1", base);

        } else if (!airouter_import_ends_with(base, "/openai/v1")) {
            base = airouter_import_printf(a, "%s/openai/v1", base);
        }

    } else if (suffix[0] != '\0' && !airouter_import_ends_with(base, suffix)) {
        base = airouter_import_printf(a, "%s%s", base, suffix);
    }

    if (base == NULL) {
        return AIROUTER_IMPORT_ERROR;
    }

    ch->base_url = airouter_import_utf8(a, base);

    return ch->base_url ? AIROUTER_IMPORT_OK : AIROUTER_IMPORT_ERROR;
}


/*
 * Cloudflare's account id: One-API >= 0.6 keeps it in config.user_id,
 * New-API and older One-API in other.
 */
static char *
airouter_import_map_account(airouter_arena_t *a,
    const airouter_import_row_t *row)
{
    char          *id;
    size_t         i, len;
    json_t        *cfg, *v;
    const char    *s;

    id = NULL;

    if (row->config != NULL && row->config[0] == '{') {
        cfg = json_loads(row->config, 0, NULL);
        v = json_object_get(cfg, "user_id");

        if (json_is_string(v) && json_string_length(v) > 0) {
            id = airouter_arena_strdup(a, json_string_value(v));
        }

        json_decref(cfg);

        if (id != NULL) {
            return id;
        }
    }

    if (row->other == NULL) {
        return NULL;
    }

    len = strlen(row->other);
    s = airouter_import_trim(row->other, &len);

    if (len == 0 || len > 64) {
        return NULL;
    }

    for (i = 0; i < len; i++) {
        if (!isalnum((unsigned char) s[i])) {
            return NULL;
        }
    }

    return airouter_arena_strndup(a, s, len);
}


/*
 * Keys, one a line, in the source's order.  A key that is a JSON document
 * (Vertex AI's service account, Codex's OAuth token) is one credential.
 * New-API's multi-key channels mark each line enabled or not in
 * channel_info.multi_key_status_list (index -> status, 1 enabled).
 */
static int
airouter_import_map_keys(airouter_arena_t *a,
    const airouter_import_row_t *row, airouter_import_channel_t *ch)
{
    int          rc;
    size_t       len, index;
    json_t      *info;
    const char  *p, *line, *end, *k;

    if (row->key == NULL) {
        return AIROUTER_IMPORT_OK;
    }

    len = strlen(row->key);
    k = airouter_import_trim(row->key, &len);

    if (len > 0 && (k[0] == '{' || k[0] == '[')) {
        return airouter_import_list_add(a, &ch->keys, k, len);
    }

    info = NULL;

    if (row->channel_info != NULL && row->channel_info[0] == '{') {
        info = json_loads(row->channel_info, 0, NULL);
    }

    rc = AIROUTER_IMPORT_OK;
    index = 0;

    for (p = row->key; *p != '\0'; p = (*end == '\0') ? end : end + 1) {
        end = strchr(p, '\n');
        if (end == NULL) {
            end = p + strlen(p);
        }

        line = p;
        len = (size_t) (end - p);

        k = airouter_import_trim(line, &len);
        if (len == 0) {
            index++;
            continue;
        }

        if (!airouter_import_map_key_enabled(info, index)) {
            ch->keys_left_out++;

        } else if (airouter_import_list_add(a, &ch->keys, k, len)
                   != AIROUTER_IMPORT_OK)
        {
            rc = AIROUTER_IMPORT_ERROR;
            break;
        }

        index++;
    }

    json_decref(info);

    if (rc == AIROUTER_IMPORT_OK && ch->keys_left_out > 0) {
        line = airouter_import_printf(a, "%zu key%s disabled in the source "
                                      "left out", ch->keys_left_out,
                                      ch->keys_left_out == 1 ? "" : "s");
        rc = airouter_import_list_add(a, &ch->notes, line, (size_t) -1);
    }

    return rc;
}


static int
airouter_import_map_key_enabled(json_t *info, size_t index)
{
    char     name[32];
    json_t  *list, *st;

    if (!json_is_true(json_object_get(info, "is_multi_key"))) {
        return 1;
    }

    list = json_object_get(info, "multi_key_status_list");
    snprintf(name, sizeof(name), "%zu", index);
    st = json_object_get(list, name);

    return st == NULL || !json_is_integer(st) || json_integer_value(st) == 1;
}


/*
 * models and model_mapping.  One-API's mapping says "a request for the key
 * goes upstream as the value": airouter's alias -> target.  The channel's
 * configured models are the upstream names.  Azure deployments are the
 * model names without dots (One-API's Azure adaptor removes them).
 */
static int
airouter_import_map_models(airouter_arena_t *a,
    const airouter_import_row_t *row, airouter_import_channel_t *ch)
{
    char         *m, *q;
    size_t        len, i, j;
    json_t       *map, *v;
    const char   *p, *end, *s, *key;

    map = NULL;

    if (row->model_mapping != NULL) {
        len = strlen(row->model_mapping);
        s = airouter_import_trim(row->model_mapping, &len);

        if (len > 0 && !(len == 2 && s[0] == '{' && s[1] == '}')) {
            map = json_loadb(s, len, 0, NULL);

            if (!json_is_object(map)) {
                json_decref(map);
                map = NULL;

                if (airouter_import_list_add(a, &ch->notes,
                        "model_mapping is not a JSON object: left out",
                        (size_t) -1) != AIROUTER_IMPORT_OK)
                {
                    return AIROUTER_IMPORT_ERROR;
                }
            }
        }
    }

    if (map != NULL) {
        json_object_foreach(map, key, v) {
            if (!json_is_string(v) || key[0] == '\0'
                || json_string_length(v) == 0
                || strcmp(key, json_string_value(v)) == 0)
            {
                continue;
            }

            if (airouter_import_map_alias(a, ch, key, json_string_value(v))
                != AIROUTER_IMPORT_OK)
            {
                json_decref(map);
                return AIROUTER_IMPORT_ERROR;
            }
        }

        json_decref(map);
    }

    p = row->models ? row->models : "";

    for ( /* void */ ; *p != '\0'; p = (*end == '\0') ? end : end + 1) {
        end = strchr(p, ',');
        if (end == NULL) {
            end = p + strlen(p);
        }

        len = (size_t) (end - p);
        s = airouter_import_trim(p, &len);

        if (len == 0) {
            continue;
        }

        m = airouter_arena_strndup(a, s, len);
        if (m == NULL) {
            return AIROUTER_IMPORT_ERROR;
        }

        for (i = 0; i < ch->naliases; i++) {
            if (strcmp(ch->aliases[i].alias, m) == 0) {
                m = ch->aliases[i].target;
                break;
            }
        }

        if (i == ch->naliases && ch->type != NULL
            && (ch->type->flags & AIROUTER_IMPORT_AZURE)
            && strchr(m, '.') != NULL)
        {
            q = airouter_arena_strdup(a, m);
            if (q == NULL) {
                return AIROUTER_IMPORT_ERROR;
            }

            for (i = 0, j = 0; q[i] != '\0'; i++) {
                if (q[i] != '.') {
                    q[j++] = q[i];
                }
            }

            q[j] = '\0';

            if (airouter_import_map_alias(a, ch, m, q) != AIROUTER_IMPORT_OK) {
                return AIROUTER_IMPORT_ERROR;
            }

            m = q;
        }

        if (!airouter_import_list_has(&ch->models, m)
            && airouter_import_list_add(a, &ch->models, m, (size_t) -1)
               != AIROUTER_IMPORT_OK)
        {
            return AIROUTER_IMPORT_ERROR;
        }
    }

    return AIROUTER_IMPORT_OK;
}


static int
airouter_import_map_alias(airouter_arena_t *a, airouter_import_channel_t *ch,
    const char *alias, const char *target)
{
    airouter_import_alias_t  *al;

    al = airouter_arena_alloc(a, (ch->naliases + 1)
                                 * sizeof(airouter_import_alias_t));
    if (al == NULL) {
        return AIROUTER_IMPORT_ERROR;
    }

    if (ch->naliases) {
        memcpy(al, ch->aliases,
               ch->naliases * sizeof(airouter_import_alias_t));
    }

    ch->aliases = al;
    al = &ch->aliases[ch->naliases];

    al->alias = airouter_import_utf8(a, alias);
    al->target = airouter_import_utf8(a, target);

    if (al->alias == NULL || al->target == NULL) {
        return AIROUTER_IMPORT_ERROR;
    }

    ch->naliases++;

    return AIROUTER_IMPORT_OK;
}


/*
 * groups "default,vip" -> tags group-default, group-vip (so an API key's
 * allowed_tags can keep a group's users on that group's channels); New-API's
 * and One-Hub's channel tag as it is.  Tags are lowercase in airouter.
 */
static int
airouter_import_map_tags(airouter_arena_t *a,
    const airouter_import_row_t *row, airouter_import_channel_t *ch)
{
    char        *t, *q;
    size_t       len;
    const char  *p, *end, *s;

    p = row->group ? row->group : "";

    for ( /* void */ ; *p != '\0'; p = (*end == '\0') ? end : end + 1) {
        end = strchr(p, ',');
        if (end == NULL) {
            end = p + strlen(p);
        }

        len = (size_t) (end - p);
        s = airouter_import_trim(p, &len);

        if (len == 0) {
            continue;
        }

        t = airouter_import_printf(a, "group-%.*s", (int) len, s);
        if (t == NULL) {
            return AIROUTER_IMPORT_ERROR;
        }

        for (q = t; *q; q++) {
            *q = (char) (isspace((unsigned char) *q) ? '-'
                         : tolower((unsigned char) *q));
        }

        if (!airouter_import_list_has(&ch->tags, t)
            && airouter_import_list_add(a, &ch->tags, t, (size_t) -1)
               != AIROUTER_IMPORT_OK)
        {
            return AIROUTER_IMPORT_ERROR;
        }
    }

    if (row->tag != NULL) {
        len = strlen(row->tag);
        s = airouter_import_trim(row->tag, &len);

        if (len > 0) {
            t = airouter_arena_strndup(a, s, len);
            if (t == NULL) {
                return AIROUTER_IMPORT_ERROR;
            }

            for (q = t; *q; q++) {
                *q = (char) (isspace((unsigned char) *q) ? '-'
                             : tolower((unsigned char) *q));
            }

            if (!airouter_import_list_has(&ch->tags, t)
                && airouter_import_list_add(a, &ch->tags, t, (size_t) -1)
                   != AIROUTER_IMPORT_OK)
            {
                return AIROUTER_IMPORT_ERROR;
            }
        }
    }

    return AIROUTER_IMPORT_OK;
}


/* The first comment line: where the channel came from. */
static int
airouter_import_map_notes(airouter_arena_t *a,
    const airouter_import_row_t *row, airouter_import_flavor_e flavor,
    airouter_import_channel_t *ch)
{
    char        *line;
    const char  *state;

    switch (row->status) {
    case 1:
        state = "";
        break;
    case 2:
        state = ", disabled by hand";
        break;
    case 3:
        state = ", disabled automatically (errors)";
        break;
    default:
        state = ", disabled";
        break;
    }

    line = airouter_import_printf(a, "%s channel %lld \"%s\": type %d %s%s",
                                  airouter_import_flavor_name(flavor),
                                  row->id, ch->name, row->type,
                                  ch->type ? ch->type->type_name : "(unknown)",
                                  state);
    if (line == NULL) {
        return AIROUTER_IMPORT_ERROR;
    }

    if (airouter_import_list_add(a, &ch->notes, line, (size_t) -1)
        != AIROUTER_IMPORT_OK)
    {
        return AIROUTER_IMPORT_ERROR;
    }

    if (row->has_priority && row->priority != 0) {
        line = airouter_import_printf(a, "%s priority %lld (higher first)",
                                      airouter_import_flavor_name(flavor),
                                      row->priority);

        if (line == NULL
            || airouter_import_list_add(a, &ch->notes, line, (size_t) -1)
               != AIROUTER_IMPORT_OK)
        {
            return AIROUTER_IMPORT_ERROR;
        }
    }

    return AIROUTER_IMPORT_OK;
}


/*
 * The projects prefer the highest priority; airouter the lowest number.
 * Dense ranks keep the order: the highest source priority becomes 1.
 */
void
airouter_import_rank_priorities(airouter_import_channel_t *chs, size_t n)
{
    size_t      i, j, nd;
    long long  *d;

    d = malloc((n ? n : 1) * sizeof(long long));
    if (d == NULL) {
        for (i = 0; i < n; i++) {
            chs[i].priority = 1;
        }

        return;
    }

    nd = 0;

    for (i = 0; i < n; i++) {
        d[nd++] = chs[i].row->has_priority ? chs[i].row->priority : 0;
    }

    qsort(d, nd, sizeof(long long), airouter_import_cmp_desc);

    for (i = 0, j = 0; i < nd; i++) {
        if (j == 0 || d[j - 1] != d[i]) {
            d[j++] = d[i];
        }
    }

    nd = j;

    for (i = 0; i < n; i++) {
        for (j = 0; j < nd; j++) {
            if (d[j] == (chs[i].row->has_priority ? chs[i].row->priority
                                                  : 0))
            {
                break;
            }
        }

        chs[i].priority = (int) (j + 1);
    }

    free(d);
}


static int
airouter_import_cmp_desc(const void *a, const void *b)
{
    long long  x, y;

    x = *(const long long *) a;
    y = *(const long long *) b;

    return (x < y) - (x > y);
}


/* ONEAPI_12_KEY, or ONEAPI_12_KEY_1, _2 ... for a channel with several */
char *
airouter_import_env_name(airouter_arena_t *a, const char *id, size_t index,
    size_t nkeys)
{
    char  *s, *p;

    if (nkeys > 1) {
        s = airouter_import_printf(a, "%s_KEY_%zu", id, index + 1);

    } else {
        s = airouter_import_printf(a, "%s_KEY", id);
    }

    if (s == NULL) {
        return NULL;
    }

    for (p = s; *p; p++) {
        *p = (char) (isalnum((unsigned char) *p) ? toupper((unsigned char) *p)
                                                 : '_');
    }

    if (s[0] >= '0' && s[0] <= '9') {
        s = airouter_import_printf(a, "_%s", s);
    }

    return s;
}


/* len (size_t) -1: s is NUL-terminated */
int
airouter_import_list_add(airouter_arena_t *a, airouter_import_list_t *l,
    const char *s, size_t len)
{
    char  **items;

    items = airouter_arena_alloc(a, (l->n + 1) * sizeof(char *));
    if (items == NULL) {
        return AIROUTER_IMPORT_ERROR;
    }

    if (l->n) {
        memcpy(items, l->items, l->n * sizeof(char *));
    }

    items[l->n] = (len == (size_t) -1) ? airouter_arena_strdup(a, s)
                                       : airouter_arena_strndup(a, s, len);
    if (items[l->n] == NULL) {
        return AIROUTER_IMPORT_ERROR;
    }

    l->items = items;
    l->n++;

    return AIROUTER_IMPORT_OK;
}


char *
airouter_import_printf(airouter_arena_t *a, const char *fmt, ...)
{
    int       n;
    char     *s;
    va_list   ap;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);

    if (n < 0) {
        return NULL;
    }

    s = airouter_arena_alloc(a, (size_t) n + 1);
    if (s == NULL) {
        return NULL;
    }

    va_start(ap, fmt);
    vsnprintf(s, (size_t) n + 1, fmt, ap);
    va_end(ap);

    return s;
}


static int
airouter_import_list_has(const airouter_import_list_t *l, const char *s)
{
    size_t  i;

    for (i = 0; i < l->n; i++) {
        if (strcmp(l->items[i], s) == 0) {
            return 1;
        }
    }

    return 0;
}


/* s[0 .. *len) without surrounding white space */
static const char *
airouter_import_trim(const char *s, size_t *len)
{
    size_t  n;

    n = *len;

    while (n > 0 && isspace((unsigned char) *s)) {
        s++;
        n--;
    }

    while (n > 0 && isspace((unsigned char) s[n - 1])) {
        n--;
    }

    *len = n;

    return s;
}


static int
airouter_import_ends_with(const char *s, const char *suffix)
{
    size_t  ls, lx;

    ls = strlen(s);
    lx = strlen(suffix);

    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}
