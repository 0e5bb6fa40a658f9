/*
 * Rows from a running One-API / New-API / One-Hub: GET {url}/api/channel/
 * with an admin access token, page after page.  The three answer
 * differently (read in their controllers):
 *
 *   One-API, New-API before 0.9   data: [ ... ]              p from 0
 *   New-API since                 data: {items, total, page} p from 1
 *   One-Hub                       data: {data, total_count, page}
 *                                                            page from 1
 *
 * so every request carries p, page_size, page and size, and the shape of
 * the first answer says how to go on.  New-API wants the user id in a
 * New-Api-User header; the others ignore it.  No list ever returns keys.
 * The token is sent, never printed; redirects are not followed (they
 * would carry it elsewhere).  Called by airouter-import's main.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "airouter_import.h"


#define AIROUTER_IMPORT_PAGE       100
#define AIROUTER_IMPORT_MAX_PAGES  1000
#define AIROUTER_IMPORT_MAX_BODY   (64 * 1024 * 1024)


typedef enum {
    SHAPE_ARRAY = 0,        /* One-API: data is the list, p from 0 */
    SHAPE_ITEMS,            /* New-API: data.items, p from 1 */
    SHAPE_ONEHUB            /* One-Hub: data.data, page from 1 */
} airouter_import_shape_e;


typedef struct {
    json_t                   *first;    /* a channel object, for fields */
} airouter_import_fields_t;


static int airouter_import_http_get(CURL *curl, const char *url,
    struct curl_slist *headers, airouter_import_buf_t *body, long *status);
static size_t airouter_import_http_body(char *ptr, size_t size, size_t n,
    void *data);
static char *airouter_import_http_token(airouter_arena_t *a,
    const airouter_import_opts_t *opts);
static int airouter_import_http_row(airouter_arena_t *a,
    airouter_import_source_t *src, json_t *ch);
static char *airouter_import_json_text(airouter_arena_t *a, json_t *o,
    const char *field);
static int airouter_import_has_field(void *ctx, const char *field);


int
airouter_import_http(airouter_arena_t *a, const airouter_import_opts_t *opts,
    airouter_import_source_t *src)
{
    int                        rc, page, pages, added, all;
    long                       status;
    char                      *token, *url, *hdr, *base;
    size_t                     i, len, got;
    json_t                    *root, *data, *list, *ch, *msg, *total;
    CURL                      *curl;
    struct curl_slist         *headers;
    airouter_import_buf_t      body;
    airouter_import_shape_e    shape;
    airouter_import_fields_t   fields;

    token = airouter_import_http_token(a, opts);
    if (token == NULL) {
        return AIROUTER_IMPORT_ERROR;
    }

    base = airouter_arena_strdup(a, opts->source);
    if (base == NULL) {
        return AIROUTER_IMPORT_ERROR;
    }

    len = strlen(base);
    while (len > 0 && base[len - 1] == '/') {
        base[--len] = '\0';
    }

    curl = curl_easy_init();
    if (curl == NULL) {
        return AIROUTER_IMPORT_ERROR;
    }

    headers = NULL;
    hdr = airouter_import_printf(a, "Authorization: Bearer %s", token);
    headers = curl_slist_append(headers, hdr);
    hdr = airouter_import_printf(a, "New-Api-User: %s",
                                 opts->user_id ? opts->user_id : "1");
    headers = curl_slist_append(headers, hdr);
    headers = curl_slist_append(headers, "Accept: application/json");

    curl_easy_setopt(curl, CURLOPT_TIMEOUT, opts->timeout);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);

    memset(&body, 0, sizeof(airouter_import_buf_t));
    fields.first = NULL;
    shape = SHAPE_ARRAY;
    page = 0;
    got = 0;
    rc = AIROUTER_IMPORT_ERROR;

    for (pages = 0; pages < AIROUTER_IMPORT_MAX_PAGES; pages++) {
        url = airouter_import_printf(a, "%s/api/channel/?p=%d&page_size=%d"
                                     "&page=%d&size=%d", base, page,
                                     AIROUTER_IMPORT_PAGE,
                                     shape == SHAPE_ARRAY ? page + 1 : page,
                                     AIROUTER_IMPORT_PAGE);

        body.len = 0;

        if (url == NULL
            || airouter_import_http_get(curl, url, headers, &body, &status)
               != AIROUTER_IMPORT_OK)
        {
            goto done;
        }

        root = json_loadb(body.data ? body.data : "", body.len, 0, NULL);

        if (status != 200 || !json_is_object(root)
            || !json_is_true(json_object_get(root, "success")))
        {
            msg = json_object_get(root, "message");
            fprintf(stderr, "airouter-import: %s/api/channel/: HTTP %ld%s%s%s\n",
                    base, status, json_is_string(msg) ? " \"" : "",
                    json_is_string(msg) ? json_string_value(msg) : "",
                    json_is_string(msg) ? "\"" : "");

            if (status == 401 || json_is_string(msg)) {
                fprintf(stderr, "airouter-import: the token must be an admin "
                        "user's access token (One-API: Settings, generate "
                        "access token); New-API also needs that user's id "
                        "(--user-id)\n");
            }

            json_decref(root);
            goto done;
        }

        data = json_object_get(root, "data");
        list = NULL;
        total = NULL;

        if (json_is_array(data)) {
            list = data;
            shape = SHAPE_ARRAY;

        } else if (json_is_array(json_object_get(data, "items"))) {
            list = json_object_get(data, "items");
            total = json_object_get(data, "total");
            shape = SHAPE_ITEMS;

        } else if (json_is_array(json_object_get(data, "data"))) {
            list = json_object_get(data, "data");
            total = json_object_get(data, "total_count");
            shape = SHAPE_ONEHUB;

        } else if (json_is_object(data)
                   && json_object_get(data, "data") == json_null())
        {
            list = NULL;    /* One-Hub with no channels: data.data null */

        } else {
            fprintf(stderr, "airouter-import: %s/api/channel/: the answer "
                    "has no channel list (not One-API, New-API or One-Hub?)\n",
                    base);
            json_decref(root);
            goto done;
        }

        added = 0;

        for (i = 0; list != NULL && i < json_array_size(list); i++) {
            ch = json_array_get(list, i);

            if (!json_is_object(ch)) {
                continue;
            }

            if (fields.first == NULL) {
                fields.first = json_incref(ch);
            }

            switch (airouter_import_http_row(a, src, ch)) {
            case AIROUTER_IMPORT_ERROR:
                json_decref(root);
                goto done;
            case 1:
                added++;
                break;
            default:
                break;
            }
        }

        got += (size_t) added;

        /* total belongs to root: read it before root goes */
        all = json_is_integer(total)
              && (json_int_t) got >= json_integer_value(total);
        json_decref(root);

        /* a server that ignores our paging repeats a page: stop there */
        if (added == 0 || all) {
            break;
        }

        if (shape == SHAPE_ARRAY) {
            page++;

        } else {
            /* p=0 was read as page 1 */
            page = (page == 0) ? 2 : page + 1;
        }
    }

    src->flavor = opts->flavor;

    if (src->flavor == AIROUTER_IMPORT_UNKNOWN) {
        src->flavor = (shape == SHAPE_ITEMS) ? AIROUTER_IMPORT_NEWAPI
                      : (shape == SHAPE_ONEHUB) ? AIROUTER_IMPORT_ONEHUB
                      : airouter_import_flavor_by_fields(
                            airouter_import_has_field, &fields);
    }

    src->keys_given = 0;
    src->what = airouter_import_printf(a, "%s at %s",
                                       airouter_import_flavor_name(
                                           src->flavor), base);
    rc = AIROUTER_IMPORT_OK;

done:

    json_decref(fields.first);
    airouter_import_buf_free(&body);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);

    return rc;
}


/* 1: a new row, 0: a channel seen on an earlier page */
static int
airouter_import_http_row(airouter_arena_t *a, airouter_import_source_t *src,
    json_t *ch)
{
    size_t                  i;
    json_t                 *v, *info;
    long long               id;
    airouter_import_row_t  *row;

    v = json_object_get(ch, "id");
    if (!json_is_integer(v)) {
        return 0;
    }

    id = (long long) json_integer_value(v);

    for (i = 0; i < src->nrows; i++) {
        if (src->rows[i].id == id) {
            return 0;
        }
    }

    row = airouter_import_row_add(a, src);
    if (row == NULL) {
        return AIROUTER_IMPORT_ERROR;
    }

    row->id = id;
    row->type = (int) json_integer_value(json_object_get(ch, "type"));

    v = json_object_get(ch, "status");
    row->status = json_is_integer(v) ? (int) json_integer_value(v) : 1;

    row->name = airouter_import_json_text(a, ch, "name");
    row->base_url = airouter_import_json_text(a, ch, "base_url");
    row->models = airouter_import_json_text(a, ch, "models");
    row->model_mapping = airouter_import_json_text(a, ch, "model_mapping");
    row->group = airouter_import_json_text(a, ch, "group");
    row->tag = airouter_import_json_text(a, ch, "tag");
    row->other = airouter_import_json_text(a, ch, "other");
    row->config = airouter_import_json_text(a, ch, "config");

    /* New-API sends channel_info as an object */
    info = json_object_get(ch, "channel_info");
    if (json_is_object(info)) {
        char  *s;

        s = json_dumps(info, JSON_COMPACT);
        if (s != NULL) {
            row->channel_info = airouter_arena_strdup(a, s);
            free(s);
        }
    }

    v = json_object_get(ch, "priority");
    if (json_is_number(v)) {
        row->has_priority = 1;
        row->priority = (long long) json_number_value(v);
    }

    v = json_object_get(ch, "weight");
    if (json_is_number(v)) {
        row->has_weight = 1;
        row->weight = json_number_value(v);
    }

    /* the lists leave the key out ("" or absent) */
    row->key = NULL;

    return 1;
}


static int
airouter_import_http_get(CURL *curl, const char *url,
    struct curl_slist *headers, airouter_import_buf_t *body, long *status)
{
    CURLcode  rc;

    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, airouter_import_http_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);

    rc = curl_easy_perform(curl);

    if (rc != CURLE_OK || body->failed) {
        fprintf(stderr, "airouter-import: %s: %s\n", url,
                body->failed ? "answer too large" : curl_easy_strerror(rc));
        return AIROUTER_IMPORT_ERROR;
    }

    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);

    return AIROUTER_IMPORT_OK;
}


static size_t
airouter_import_http_body(char *ptr, size_t size, size_t n, void *data)
{
    airouter_import_buf_t  *b;

    b = data;

    if (b->len + size * n > AIROUTER_IMPORT_MAX_BODY) {
        b->failed = 1;
        return 0;
    }

    airouter_import_buf_add(b, ptr, size * n);

    return b->failed ? 0 : size * n;
}


/*
 * The admin token: from --token-file (first line; "-" is stdin) or the
 * environment variable AIROUTER_IMPORT_TOKEN, never from the command line
 * (other users can read that in ps).
 */
static char *
airouter_import_http_token(airouter_arena_t *a,
    const airouter_import_opts_t *opts)
{
    FILE        *f;
    char        *line, *t;
    size_t       cap, len;
    ssize_t      n;
    const char  *env;

    if (opts->token_file != NULL) {
        f = (strcmp(opts->token_file, "-") == 0) ? stdin
            : fopen(opts->token_file, "r");
        if (f == NULL) {
            perror(opts->token_file);
            return NULL;
        }

        line = NULL;
        cap = 0;
        n = getline(&line, &cap, f);

        if (f != stdin) {
            fclose(f);
        }

        len = (n > 0) ? (size_t) n : 0;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'
                           || line[len - 1] == ' '))
        {
            len--;
        }

        t = (len > 0) ? airouter_arena_strndup(a, line, len) : NULL;
        free(line);

        if (t == NULL) {
            fprintf(stderr, "airouter-import: %s: no token in it\n",
                    opts->token_file);
        }

        return t;
    }

    env = getenv("AIROUTER_IMPORT_TOKEN");

    if (env == NULL || env[0] == '\0') {
        fprintf(stderr, "airouter-import: an admin access token is needed: "
                "--token-file FILE or AIROUTER_IMPORT_TOKEN\n");
        return NULL;
    }

    return airouter_arena_strdup(a, env);
}


static char *
airouter_import_json_text(airouter_arena_t *a, json_t *o, const char *field)
{
    json_t  *v;

    v = json_object_get(o, field);

    if (!json_is_string(v)) {
        return NULL;
    }

    return airouter_arena_strndup(a, json_string_value(v),
                                  json_string_length(v));
}


static int
airouter_import_has_field(void *ctx, const char *field)
{
    airouter_import_fields_t  *f;

    f = ctx;

    return f->first != NULL && json_object_get(f->first, field) != NULL;
}
