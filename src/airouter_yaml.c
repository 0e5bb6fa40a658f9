/*
 * The generic YAML walker declared in airouter_yaml.h: positions,
 * ${ENV} expansion, typed readers, tables of known keys.  What the keys
 * of router_config.yaml mean is airouter_config.c's.
 */

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "airouter_arena.h"
#include "airouter_yaml.h"


#define AIROUTER_YAML_MAX_KEYS   10000    /* per mapping */
#define AIROUTER_YAML_MAX_MERGE  4        /* nested "<<" merges */
#define AIROUTER_YAML_MAX_STEPS  1000000  /* mappings walked, alias bombs */
#define AIROUTER_YAML_ENV_NAME   256


static int airouter_yaml_long(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, double min, double max, long *out);
static int airouter_yaml_named_map(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, const char *what, size_t *n);
static int airouter_yaml_map_name(airouter_yaml_t *y, yaml_node_pair_t *pair,
    const char *path, const char *what, yaml_node_t **value,
    const char **name, airouter_pos_t *pos);
static int airouter_yaml_named_elem(airouter_yaml_t *y,
    const airouter_yaml_named_t *named, char *array, size_t *n,
    const char *name, const airouter_pos_t *pos, char **elem);
static void airouter_yaml_verror(airouter_yaml_t *y,
    const airouter_pos_t *pos, const char *fmt, va_list args);
static size_t airouter_yaml_expand(const char *s, size_t len, char *out,
    size_t cap);
static int airouter_yaml_clean(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, int key, const char *s, size_t len);
static int airouter_yaml_range(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, double v, double min, double max);
static int airouter_yaml_url_value(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, char **out);
static int airouter_yaml_walk_merge(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, const airouter_yaml_field_t *fields, void *obj);
static int airouter_yaml_field(airouter_yaml_t *y,
    const airouter_yaml_field_t *f, yaml_node_t *key, yaml_node_t *value,
    const char *path, void *obj);


int
airouter_yaml_error(airouter_yaml_t *y, const airouter_pos_t *pos,
    const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    airouter_yaml_verror(y, pos, fmt, args);
    va_end(args);

    return AIROUTER_YAML_ERROR;
}


int
airouter_yaml_error_at(airouter_yaml_t *y, const yaml_node_t *node,
    const char *fmt, ...)
{
    va_list         args;
    airouter_pos_t  pos;

    pos = airouter_yaml_pos(y, node);

    va_start(args, fmt);
    airouter_yaml_verror(y, &pos, fmt, args);
    va_end(args);

    return AIROUTER_YAML_ERROR;
}


/* The first error is kept, with where it is: later ones follow from it. */
static void
airouter_yaml_verror(airouter_yaml_t *y, const airouter_pos_t *pos,
    const char *fmt, va_list args)
{
    int       n;
    size_t    size;
    char     *p;

    if (y->failed) {
        return;
    }

    y->failed = 1;

    p = y->diag->error;
    size = sizeof(y->diag->error);

    if (pos != NULL && pos->line != 0) {
        n = snprintf(p, size, "%s:%u:%u: ", pos->file, pos->line,
                     pos->column);

    } else {
        n = snprintf(p, size, "%s: ", pos ? pos->file : y->file);
    }

    if (n < 0 || (size_t) n >= size) {
        return;
    }

    vsnprintf(p + n, size - (size_t) n, fmt, args);
}


void
airouter_yaml_warn(airouter_yaml_t *y, const airouter_pos_t *pos,
    const char *fmt, ...)
{
    int      n;
    char     msg[1024];
    va_list  args;

    if (y->diag->warn == NULL) {
        return;
    }

    n = snprintf(msg, sizeof(msg), "%s:%u:%u: ", pos->file, pos->line,
                 pos->column);

    if (n < 0 || (size_t) n >= sizeof(msg)) {
        return;
    }

    va_start(args, fmt);
    vsnprintf(msg + n, sizeof(msg) - (size_t) n, fmt, args);
    va_end(args);

    y->diag->warn(y->diag->ctx, msg);
}


airouter_pos_t
airouter_yaml_pos(airouter_yaml_t *y, const yaml_node_t *node)
{
    airouter_pos_t  pos;

    /* libyaml counts from 0; editors count from 1 */
    pos.file = y->file;
    pos.line = (unsigned) node->start_mark.line + 1;
    pos.column = (unsigned) node->start_mark.column + 1;

    return pos;
}


void *
airouter_yaml_alloc(airouter_yaml_t *y, size_t n)
{
    void  *p;

    p = airouter_arena_alloc(y->arena, n);
    if (p == NULL) {
        airouter_yaml_error(y, NULL, "out of memory");
    }

    return p;
}


char *
airouter_yaml_strdup(airouter_yaml_t *y, const char *s)
{
    char  *p;

    p = airouter_arena_strdup(y->arena, s);
    if (p == NULL) {
        airouter_yaml_error(y, NULL, "out of memory");
    }

    return p;
}


/* ASCII only, and locale-free, unlike strcasecmp() */
int
airouter_yaml_streq_ci(const char *a, const char *b)
{
    unsigned char  ca, cb;

    for ( ;; ) {
        ca = (unsigned char) *a++;
        cb = (unsigned char) *b++;

        if (ca >= 'A' && ca <= 'Z') {
            ca = (unsigned char) (ca - 'A' + 'a');
        }

        if (cb >= 'A' && cb <= 'Z') {
            cb = (unsigned char) (cb - 'A' + 'a');
        }

        if (ca != cb) {
            return 0;
        }

        if (ca == '\0') {
            return 1;
        }
    }
}


const char *
airouter_yaml_kind(const yaml_node_t *node)
{
    switch (node->type) {

    case YAML_MAPPING_NODE:
        return "a mapping";

    case YAML_SEQUENCE_NODE:
        return "a list";

    default:
        return "a string";
    }
}


void
airouter_yaml_subpath(char *buf, const char *path, const char *key)
{
    /* long paths are cut: they only serve messages */
    snprintf(buf, AIROUTER_YAML_PATH, "%s%s%.128s", path,
             path[0] ? "." : "", key);
}


/*
 * Returns 1 when doc holds the file, 0 when an optional file is absent,
 * -1 on error.
 */
int
airouter_yaml_parse(airouter_yaml_t *y, const char *file,
    yaml_document_t *doc, int optional)
{
    int             ok, err;
    FILE           *fp;
    yaml_mark_t     mark;
    yaml_parser_t   parser;
    airouter_pos_t  pos;

    fp = fopen(file, "rb");
    if (fp == NULL) {
        err = errno;

        if (optional && (err == ENOENT || err == ENOTDIR)) {
            return 0;
        }

        airouter_yaml_error(y, NULL, "cannot open: %s", strerror(err));
        return -1;
    }

    if (!yaml_parser_initialize(&parser)) {
        fclose(fp);
        airouter_yaml_error(y, NULL, "out of memory");
        return -1;
    }

    yaml_parser_set_input_file(&parser, fp);

    ok = yaml_parser_load(&parser, doc);

    if (!ok) {
        /* yaml_parser_load() has already released the document */

        if (parser.error == YAML_MEMORY_ERROR) {
            airouter_yaml_error(y, NULL, "out of memory");

        } else {
            /* reader errors (bad UTF-8) carry no problem mark */
            mark = parser.error == YAML_READER_ERROR ? parser.mark
                                                     : parser.problem_mark;
            pos.file = file;
            pos.line = (unsigned) mark.line + 1;
            pos.column = (unsigned) mark.column + 1;

            if (parser.context != NULL) {
                airouter_yaml_error(y, &pos,
                                    "YAML syntax error: %s (%s at %u:%u)",
                                    parser.problem ? parser.problem
                                                   : "unknown problem",
                                    parser.context,
                                    (unsigned) parser.context_mark.line + 1,
                                    (unsigned) parser.context_mark.column
                                    + 1);

            } else {
                airouter_yaml_error(y, &pos, "YAML syntax error: %s",
                                    parser.problem ? parser.problem
                                                   : "unknown problem");
            }
        }
    }

    yaml_parser_delete(&parser);
    fclose(fp);

    return ok ? 1 : -1;
}


/*
 * ${NAME} and ${NAME:-default} in s[0..len) are replaced; anything else,
 * an unterminated "${" included, is copied as written.  Writes at most cap
 * bytes to out (none when out is NULL) and returns the expanded length.
 */
static size_t
airouter_yaml_expand(const char *s, size_t len, char *out, size_t cap)
{
    char         name[AIROUTER_YAML_ENV_NAME];
    size_t       i, j, k, n, nlen, vlen;
    const char  *val, *def;

    n = 0;
    i = 0;

    while (i < len) {
        val = NULL;
        vlen = 0;

        if (s[i] == '$' && i + 1 < len && s[i + 1] == '{') {
            for (j = i + 2; j < len; j++) {
                if (!(s[j] == '_' || (s[j] >= 'A' && s[j] <= 'Z')
                      || (s[j] >= 'a' && s[j] <= 'z')
                      || (j > i + 2 && s[j] >= '0' && s[j] <= '9')))
                {
                    break;
                }
            }

            nlen = j - (i + 2);
            k = 0;

            if (nlen > 0 && nlen < sizeof(name) && j < len) {
                memcpy(name, s + i + 2, nlen);
                name[nlen] = '\0';

                if (s[j] == '}') {
                    val = getenv(name);
                    val = val ? val : "";
                    vlen = strlen(val);
                    k = j + 1;

                } else if (s[j] == ':' && j + 1 < len && s[j + 1] == '-') {
                    for (k = j + 2; k < len && s[k] != '}'; k++) {
                        /* void */
                    }

                    if (k < len) {
                        def = s + j + 2;
                        val = getenv(name);

                        if (val == NULL || val[0] == '\0') {
                            val = def;
                            vlen = k - (j + 2);

                        } else {
                            vlen = strlen(val);
                        }

                        k++;
                    }
                }
            }

            if (val != NULL) {
                for (j = 0; j < vlen; j++, n++) {
                    if (out != NULL && n < cap) {
                        out[n] = val[j];
                    }
                }

                i = k;
                continue;
            }
        }

        if (out != NULL && n < cap) {
            out[n] = s[i];
        }

        n++;
        i++;
    }

    return n;
}


/*
 * The text of a scalar after ${ENV} substitution.  Returns 1 with *text
 * set, 0 for a YAML null (plain empty, "~", "null"), -1 when the node is not
 * a scalar ("<path> must be <what>, got a list").
 */
int
airouter_yaml_text(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, const char *what, const char **text)
{
    char            *out;
    size_t           len, n;
    const char      *s;
    airouter_pos_t   pos;

    pos = airouter_yaml_pos(y, node);

    if (node->type != YAML_SCALAR_NODE) {
        return airouter_yaml_error(y, &pos, "\"%s\" must be %s, got %s",
                                   path, what, airouter_yaml_kind(node));
    }

    s = (const char *) node->data.scalar.value;
    len = node->data.scalar.length;

    if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
        && (len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0
            || strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0))
    {
        return 0;
    }

    if (strlen(s) != len) {
        return airouter_yaml_error(y, &pos,
                                   "\"%s\" must not contain a NUL byte",
                                   path);
    }

    if (strstr(s, "${") == NULL) {
        *text = s;
        return airouter_yaml_clean(y, node, path, 0, s, len) == AIROUTER_YAML_OK
               ? 1 : -1;
    }

    n = airouter_yaml_expand(s, len, NULL, 0);

    out = airouter_yaml_alloc(y, n + 1);
    if (out == NULL) {
        return -1;
    }

    airouter_yaml_expand(s, len, out, n);
    out[n] = '\0';

    *text = out;

    return airouter_yaml_clean(y, node, path, 0, out, n) == AIROUTER_YAML_OK
           ? 1 : -1;
}


int
airouter_yaml_key(airouter_yaml_t *y, yaml_node_t *key, const char *path)
{
    if (key->type != YAML_SCALAR_NODE) {
        return AIROUTER_YAML_OK;
    }

    return airouter_yaml_clean(y, key, path, 1,
                               (const char *) key->data.scalar.value,
                               key->data.scalar.length);
}


/*
 * Configuration values end up in HTTP requests (keys, URLs, header
 * names), in answers (channel, provider and model names in X-Router-*
 * headers) and in log lines: a control character in one (a CR or LF
 * from a quoted escape, a ${ENV} value or a "|" block's last line break)
 * could end a header early and smuggle a request.  Every scalar and key
 * is checked here, once, after ${ENV} expansion; the value is never
 * quoted back, as it may be a secret.  key: node is a key of the mapping
 * at path.
 */
static int
airouter_yaml_clean(airouter_yaml_t *y, yaml_node_t *node, const char *path,
    int key, const char *s, size_t len)
{
    char            name[8], what[AIROUTER_YAML_PATH + 16];
    size_t          i;
    unsigned char   c;

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if (c < 0x20 || c == 0x7f) {
            break;
        }
    }

    if (i == len) {
        return AIROUTER_YAML_OK;
    }

    switch (c) {
    case '\r':
        snprintf(name, sizeof(name), "CR");
        break;
    case '\n':
        snprintf(name, sizeof(name), "LF");
        break;
    case '\t':
        snprintf(name, sizeof(name), "TAB");
        break;
    default:
        snprintf(name, sizeof(name), "0x%02x", c);
    }

    snprintf(what, sizeof(what), key ? "a key in \"%s\"" : "\"%s\"", path);
    return airouter_yaml_error_at(y, node,
                                  "%s contains a control character (%s at "
                                  "byte %zu): refused, as it would reach an "
                                  "HTTP header or a log line%s", what, name,
                                  i + 1,
                                  (node->data.scalar.style
                                   == YAML_LITERAL_SCALAR_STYLE
                                   && c == '\n' && i == len - 1)
                                  ? "; a \"|\" block keeps its last line "
                                    "break: write \"|-\"" : "");
}


static int
airouter_yaml_range(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, double v, double min, double max)
{
    airouter_pos_t  pos;

    if (v >= min && v <= max) {
        return AIROUTER_YAML_OK;
    }

    pos = airouter_yaml_pos(y, node);

    if (max >= AIROUTER_YAML_NOMAX) {
        return airouter_yaml_error(y, &pos,
                                   "\"%s\" must be at least %g, got %g",
                                   path, min, v);
    }

    return airouter_yaml_error(y, &pos,
                               "\"%s\" must be between %g and %g, got %g",
                               path, min, max, v);
}


static int
airouter_yaml_long(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, double min, double max, long *out)
{
    int              rc;
    long             v;
    char            *end;
    const char      *s;

    rc = airouter_yaml_text(y, node, path, "an integer", &s);
    if (rc <= 0) {
        return rc;
    }

    errno = 0;
    v = 0;
    end = NULL;

    /* strtol() would skip leading blanks: a quoted " 5" is not a number */
    if ((s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '+') {
        v = strtol(s, &end, 10);
    }

    if (end == NULL || end == s || *end != '\0' || errno != 0) {
        return airouter_yaml_error_at(y, node,
                                      "\"%s\" must be an integer, got "
                                      "\"%.64s\"", path, s);
    }

    if (airouter_yaml_range(y, node, path, (double) v, min, max)
        != AIROUTER_YAML_OK)
    {
        return AIROUTER_YAML_ERROR;
    }

    *out = v;

    return AIROUTER_YAML_OK;
}


int
airouter_yaml_double(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, double min, double max, double *out)
{
    int              rc;
    char            *end;
    double           v;
    const char      *s;

    rc = airouter_yaml_text(y, node, path, "a number", &s);
    if (rc <= 0) {
        return rc;
    }

    errno = 0;
    v = 0;
    end = NULL;

    if ((s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '+'
        || s[0] == '.')
    {
        v = strtod(s, &end);
    }

    if (end == NULL || end == s || *end != '\0' || errno == ERANGE
        || !isfinite(v))
    {
        return airouter_yaml_error_at(y, node,
                                      "\"%s\" must be a number, got \"%.64s\"",
                                      path, s);
    }

    if (airouter_yaml_range(y, node, path, v, min, max)
        != AIROUTER_YAML_OK)
    {
        return AIROUTER_YAML_ERROR;
    }

    *out = v;

    return AIROUTER_YAML_OK;
}


int
airouter_yaml_bool(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, int *out)
{
    int              rc;
    const char      *s;

    rc = airouter_yaml_text(y, node, path, "a boolean", &s);
    if (rc <= 0) {
        return rc;
    }

    if (airouter_yaml_streq_ci(s, "true")
        || airouter_yaml_streq_ci(s, "yes")
        || airouter_yaml_streq_ci(s, "on"))
    {
        *out = 1;
        return AIROUTER_YAML_OK;
    }

    if (airouter_yaml_streq_ci(s, "false")
        || airouter_yaml_streq_ci(s, "no")
        || airouter_yaml_streq_ci(s, "off"))
    {
        *out = 0;
        return AIROUTER_YAML_OK;
    }

    return airouter_yaml_error_at(y, node,
                                  "\"%s\" must be a boolean (true/false, "
                                  "yes/no, on/off), got \"%.64s\"", path, s);
}


int
airouter_yaml_string(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, char **out)
{
    int          rc;
    char        *p;
    const char  *s;

    rc = airouter_yaml_text(y, node, path, "a string", &s);
    if (rc <= 0) {
        return rc;
    }

    p = airouter_yaml_strdup(y, s);
    if (p == NULL) {
        return AIROUTER_YAML_ERROR;
    }

    *out = p;

    return AIROUTER_YAML_OK;
}


/*
 * An http(s) URL with a host; trailing slashes are cut so that joining
 * "/v1/..." never doubles them.  Empty (an unset ${ENV}) means "not set".
 */
static int
airouter_yaml_url_value(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, char **out)
{
    char            *url, *p;
    size_t           len;
    const char      *host;

    url = NULL;

    if (airouter_yaml_string(y, node, path, &url) != AIROUTER_YAML_OK) {
        return AIROUTER_YAML_ERROR;
    }

    if (url == NULL || url[0] == '\0') {
        return AIROUTER_YAML_OK;
    }

    /* the URL goes into a request line and a Host header as it is */
    for (p = url; *p != '\0'; p++) {
        if (*p == ' ' || (unsigned char) *p >= 0x80) {
            return airouter_yaml_error_at(y, node,
                                          "\"%s\" must not contain a space or "
                                          "a byte outside ASCII (at byte %zu): "
                                          "percent-encode it", path,
                                          (size_t) (p - url) + 1);
        }
    }

    host = airouter_yaml_url_host(url);

    if (host == NULL || *host == '\0' || *host == '/' || *host == ':'
        || *host == '?' || *host == '#')
    {
        return airouter_yaml_error_at(y, node,
                                      "\"%s\" must be an http:// or https:// "
                                      "URL with a host, got \"%.64s\"",
                                      path, url);
    }

    len = strlen(url);

    while (len > 0 && url[len - 1] == '/') {
        url[--len] = '\0';
    }

    *out = url;

    return AIROUTER_YAML_OK;
}


int
airouter_yaml_list(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, int lower, airouter_strlist_t *out)
{
    int               rc;
    char             *s, *p, item[AIROUTER_YAML_PATH];
    char            **items;
    const char       *t;
    size_t            n;
    yaml_node_t      *v;
    yaml_node_item_t *it;

    if (node->type == YAML_SCALAR_NODE) {
        rc = airouter_yaml_text(y, node, path, "a list", &t);
        if (rc <= 0) {
            return rc;
        }

        return airouter_yaml_error_at(y, node,
                                      "\"%s\" expected a list, got \"%.64s\" "
                                      "(write [\"%.64s\"])", path, t, t);
    }

    if (node->type != YAML_SEQUENCE_NODE) {
        return airouter_yaml_error_at(y, node,
                                      "\"%s\" expected a list, got %s",
                                      path, airouter_yaml_kind(node));
    }

    it = node->data.sequence.items.start;
    n = (size_t) (node->data.sequence.items.top - it);

    items = airouter_yaml_alloc(y, (n ? n : 1) * sizeof(char *));
    if (items == NULL) {
        return AIROUTER_YAML_ERROR;
    }

    out->items = items;
    out->n = 0;

    for ( /* void */ ; it < node->data.sequence.items.top; it++) {
        v = yaml_document_get_node(y->doc, *it);
        if (v == NULL) {
            continue;
        }

        snprintf(item, sizeof(item), "%.200s[%zu]", path,
                 (size_t) (it - node->data.sequence.items.start));

        s = NULL;

        if (airouter_yaml_string(y, v, item, &s) != AIROUTER_YAML_OK) {
            return AIROUTER_YAML_ERROR;
        }

        if (s == NULL || s[0] == '\0') {
            continue;
        }

        if (lower) {
            for (p = s; *p; p++) {
                if (*p >= 'A' && *p <= 'Z') {
                    *p = (char) (*p - 'A' + 'a');
                }
            }
        }

        items[out->n++] = s;
    }

    return AIROUTER_YAML_OK;
}


int
airouter_yaml_append(airouter_yaml_t *y, airouter_strlist_t *list,
    char *const *items, size_t n)
{
    char  **a;

    if (n == 0) {
        return AIROUTER_YAML_OK;
    }

    a = airouter_yaml_alloc(y, (list->n + n) * sizeof(char *));
    if (a == NULL) {
        return AIROUTER_YAML_ERROR;
    }

    if (list->n) {
        memcpy(a, list->items, list->n * sizeof(char *));
    }

    memcpy(a + list->n, items, n * sizeof(char *));

    list->items = a;
    list->n += n;

    return AIROUTER_YAML_OK;
}


/*
 * Walks a mapping against a table of known keys.  "<<" merge keys (as
 * PyYAML reads them) are applied first so that the mapping's own keys win.
 * A YAML null is an empty mapping: "tasks:" with everything commented out.
 */
int
airouter_yaml_walk(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, const airouter_yaml_field_t *fields, void *obj)
{
    char                           *k, sub[AIROUTER_YAML_PATH];
    const char                     *s;
    yaml_node_t                    *key, *value, *prev;
    yaml_node_pair_t               *pair, *p, *start, *top;
    airouter_pos_t                  pos, ppos;
    const airouter_yaml_field_t  *f, *any;

    if (node->type == YAML_SCALAR_NODE
        && airouter_yaml_text(y, node, path[0] ? path : "top level",
                              "a mapping", &s) == 0)
    {
        return AIROUTER_YAML_OK;
    }

    pos = airouter_yaml_pos(y, node);

    if (node->type != YAML_MAPPING_NODE) {
        return airouter_yaml_error(y, &pos,
                                   "\"%s\" must be a mapping, got %s",
                                   path, airouter_yaml_kind(node));
    }

    if (++y->steps > AIROUTER_YAML_MAX_STEPS) {
        return airouter_yaml_error(y, &pos,
                                   "too many nested aliases or merges");
    }

    start = node->data.mapping.pairs.start;
    top = node->data.mapping.pairs.top;

    if (top - start > AIROUTER_YAML_MAX_KEYS) {
        return airouter_yaml_error(y, &pos,
                                   "\"%s\" has more than %d keys", path,
                                   AIROUTER_YAML_MAX_KEYS);
    }

    for (pair = start; pair < top; pair++) {
        key = yaml_document_get_node(y->doc, pair->key);
        value = yaml_document_get_node(y->doc, pair->value);

        if (key == NULL || value == NULL) {
            continue;
        }

        if (key->type == YAML_SCALAR_NODE
            && key->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
            && strcmp((char *) key->data.scalar.value, "<<") == 0)
        {
            if (airouter_yaml_walk_merge(y, value, path, fields, obj)
                != AIROUTER_YAML_OK)
            {
                return AIROUTER_YAML_ERROR;
            }
        }
    }

    for (pair = start; pair < top; pair++) {
        key = yaml_document_get_node(y->doc, pair->key);
        value = yaml_document_get_node(y->doc, pair->value);

        if (key == NULL || value == NULL) {
            continue;
        }

        pos = airouter_yaml_pos(y, key);

        if (key->type != YAML_SCALAR_NODE) {
            return airouter_yaml_error(y, &pos,
                                       "a key in \"%s\" must be a string, "
                                       "got %s", path,
                                       airouter_yaml_kind(key));
        }

        if (airouter_yaml_key(y, key, path[0] ? path : "top level")
            != AIROUTER_YAML_OK)
        {
            return AIROUTER_YAML_ERROR;
        }

        k = (char *) key->data.scalar.value;

        if (key->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
            && strcmp(k, "<<") == 0)
        {
            continue;
        }

        for (p = start; p < pair; p++) {
            prev = yaml_document_get_node(y->doc, p->key);

            if (prev != NULL && prev->type == YAML_SCALAR_NODE
                && strcmp((char *) prev->data.scalar.value, k) == 0)
            {
                ppos = airouter_yaml_pos(y, prev);
                return airouter_yaml_error(y, &pos,
                                           "duplicate key \"%s%s%.128s\" "
                                           "(first at %u:%u)", path,
                                           path[0] ? "." : "", k,
                                           ppos.line, ppos.column);
            }
        }

        any = NULL;

        for (f = fields; f->key != NULL; f++) {
            if (strcmp(f->key, k) == 0) {
                break;
            }

            if (f->key[0] == '*' && f->key[1] == '\0') {
                any = f;
            }
        }

        if (f->key == NULL) {
            f = any;
        }

        airouter_yaml_subpath(sub, path, k);

        if (f == NULL) {
            airouter_yaml_warn(y, &pos, "unknown key \"%s\" ignored", sub);
            continue;
        }

        if (airouter_yaml_field(y, f, key, value, sub, obj)
            != AIROUTER_YAML_OK)
        {
            return AIROUTER_YAML_ERROR;
        }
    }

    return AIROUTER_YAML_OK;
}


static int
airouter_yaml_walk_merge(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, const airouter_yaml_field_t *fields, void *obj)
{
    int                rc;
    yaml_node_t       *v;
    yaml_node_item_t  *it;
    airouter_pos_t     pos;

    pos = airouter_yaml_pos(y, node);

    if (y->merges >= AIROUTER_YAML_MAX_MERGE) {
        return airouter_yaml_error(y, &pos, "merge keys (<<) nested too "
                                   "deeply in \"%s\"", path);
    }

    y->merges++;
    rc = AIROUTER_YAML_OK;

    if (node->type == YAML_SEQUENCE_NODE) {
        for (it = node->data.sequence.items.start;
             it < node->data.sequence.items.top && rc == AIROUTER_YAML_OK;
             it++)
        {
            v = yaml_document_get_node(y->doc, *it);
            if (v != NULL) {
                rc = airouter_yaml_walk(y, v, path, fields, obj);
            }
        }

    } else {
        rc = airouter_yaml_walk(y, node, path, fields, obj);
    }

    y->merges--;

    return rc;
}


static int
airouter_yaml_field(airouter_yaml_t *y,
    const airouter_yaml_field_t *f, yaml_node_t *key, yaml_node_t *value,
    const char *path, void *obj)
{
    long                     l;
    char                    *p;

    (void) key;

    p = (char *) obj + f->offset;

    switch (f->type) {

    case AIROUTER_YAML_INT:
        /* a null leaves l, and so the default, as it was */
        l = *(int *) p;

        if (airouter_yaml_long(y, value, path, f->min, f->max, &l)
            != AIROUTER_YAML_OK)
        {
            return AIROUTER_YAML_ERROR;
        }

        *(int *) p = (int) l;

        return AIROUTER_YAML_OK;

    case AIROUTER_YAML_LONG:
        return airouter_yaml_long(y, value, path, f->min, f->max,
                                  (long *) p);

    case AIROUTER_YAML_DOUBLE:
        return airouter_yaml_double(y, value, path, f->min, f->max,
                                    (double *) p);

    case AIROUTER_YAML_BOOL:
        return airouter_yaml_bool(y, value, path, (int *) p);

    case AIROUTER_YAML_STR:
        return airouter_yaml_string(y, value, path, (char **) p);

    case AIROUTER_YAML_URL:
        return airouter_yaml_url_value(y, value, path, (char **) p);

    case AIROUTER_YAML_LIST:
        return airouter_yaml_list(y, value, path, 0,
                                  (airouter_strlist_t *) p);

    case AIROUTER_YAML_TAGS:
        return airouter_yaml_list(y, value, path, 1,
                                  (airouter_strlist_t *) p);

    case AIROUTER_YAML_MAP:
        return airouter_yaml_walk(y, value, path, f->sub, p);

    case AIROUTER_YAML_FUNC:
        return f->handler(y, value, path, obj);

    case AIROUTER_YAML_OWNED:
        if (f->max > 0
            && airouter_yaml_long(y, value, path, f->min, f->max, &l)
               != AIROUTER_YAML_OK)
        {
            return AIROUTER_YAML_ERROR;
        }

        return y->owned ? y->owned(y, path, f->directive) : AIROUTER_YAML_OK;

    default: /* AIROUTER_YAML_IGNORE */
        return AIROUTER_YAML_OK;
    }
}


int
airouter_yaml_named(airouter_yaml_t *y, yaml_node_t *node, const char *path,
    const airouter_yaml_named_t *named, void **array, size_t *n)
{
    int                rc;
    char              *elem;
    size_t             add;
    void              *all;
    const char        *name;
    yaml_node_t       *value;
    airouter_pos_t     pos;
    yaml_node_pair_t  *pair;
    char               sub[AIROUTER_YAML_PATH];

    add = 0;
    name = NULL;

    rc = airouter_yaml_named_map(y, node, path, named->what, &add);
    if (rc != 1) {
        return rc;
    }

    all = airouter_yaml_alloc(y, (*n + add) * named->size);
    if (all == NULL) {
        return AIROUTER_YAML_ERROR;
    }

    if (*n) {
        memcpy(all, *array, *n * named->size);
    }

    *array = all;

    for (pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top;
         pair++)
    {
        rc = airouter_yaml_map_name(y, pair, path, named->what, &value,
                                    &name, &pos);
        if (rc != 1) {
            if (rc == 0) {
                continue;
            }

            return rc;
        }

        rc = airouter_yaml_named_elem(y, named, all, n, name, &pos, &elem);
        if (rc == -1) {
            return AIROUTER_YAML_ERROR;
        }

        airouter_yaml_subpath(sub, path, name);

        if (named->entry(y, elem, rc, value, sub) != AIROUTER_YAML_OK) {
            return AIROUTER_YAML_ERROR;
        }
    }

    return AIROUTER_YAML_OK;
}


/*
 * The element of array named name, its position set to pos: 0 when the
 * array had it (replace), 1 when it was added, -1 on an error.
 */
static int
airouter_yaml_named_elem(airouter_yaml_t *y,
    const airouter_yaml_named_t *named, char *array, size_t *n,
    const char *name, const airouter_pos_t *pos, char **elem)
{
    char            *e, *copy;
    size_t           i;
    airouter_pos_t   first;

    for (i = 0; i < *n; i++) {
        e = array + i * named->size;
        memcpy(&copy, e + named->name_off, sizeof(char *));

        if (strcmp(copy, name) != 0) {
            continue;
        }

        if (!named->replace) {
            memcpy(&first, e + named->pos_off, sizeof(airouter_pos_t));

            airouter_yaml_error(y, pos, "duplicate %s \"%s\" "
                                "(first at %s:%u:%u)", named->what, name,
                                first.file, first.line, first.column);
            return -1;
        }

        memcpy(e + named->pos_off, pos, sizeof(airouter_pos_t));
        *elem = e;

        return 0;
    }

    copy = airouter_yaml_strdup(y, name);
    if (copy == NULL) {
        return -1;
    }

    e = array + *n * named->size;
    memcpy(e + named->name_off, &copy, sizeof(char *));
    memcpy(e + named->pos_off, pos, sizeof(airouter_pos_t));
    (*n)++;
    *elem = e;

    return 1;
}


/*
 * A mapping keyed by names: 1 with its number of pairs, 0 when there is
 * nothing to read (an empty value), or an error.
 */
static int
airouter_yaml_named_map(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, const char *what, size_t *n)
{
    const char      *s;

    if (node->type == YAML_SCALAR_NODE
        && airouter_yaml_text(y, node, path, "a mapping", &s) == 0)
    {
        return 0;
    }

    if (node->type != YAML_MAPPING_NODE) {
        return airouter_yaml_error_at(y, node,
                                      "\"%s\" must be a mapping of %s "
                                      "names, got %s", path, what,
                                      airouter_yaml_kind(node));
    }

    *n = (size_t) (node->data.mapping.pairs.top
                   - node->data.mapping.pairs.start);

    return *n ? 1 : 0;
}


/* One pair of such a mapping: 1 with its name, value and position, 0 for
 * a pair to skip, or an error (a name that is not a non-empty string). */
static int
airouter_yaml_map_name(airouter_yaml_t *y, yaml_node_pair_t *pair,
    const char *path, const char *what, yaml_node_t **value,
    const char **name, airouter_pos_t *pos)
{
    yaml_node_t  *key;

    key = yaml_document_get_node(y->doc, pair->key);
    *value = yaml_document_get_node(y->doc, pair->value);

    if (key == NULL || *value == NULL) {
        return 0;
    }

    *pos = airouter_yaml_pos(y, key);

    if (key->type != YAML_SCALAR_NODE || key->data.scalar.value[0] == '\0') {
        return airouter_yaml_error(y, pos,
                                   "a %s name in \"%s\" must be a "
                                   "non-empty string", what, path);
    }

    if (airouter_yaml_key(y, key, path) != AIROUTER_YAML_OK) {
        return AIROUTER_YAML_ERROR;
    }

    *name = (const char *) key->data.scalar.value;

    return 1;
}


/* The host part of an http(s) URL, or NULL for another scheme. */
const char *
airouter_yaml_url_host(const char *url)
{
    size_t       i;
    const char  *s, *u;

    static const char  *schemes[] = { "http://", "https://" };

    for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        s = schemes[i];

        for (u = url; *s != '\0'; s++, u++) {
            if (*u != *s && !(*u >= 'A' && *u <= 'Z' && *u - 'A' + 'a' == *s))
            {
                break;
            }
        }

        if (*s == '\0') {
            return u;
        }
    }

    return NULL;
}
