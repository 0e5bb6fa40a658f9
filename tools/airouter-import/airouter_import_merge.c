/*
 * --merge: new channels (and the providers they need) go into an existing
 * router_config.yaml without touching anything already there.  The file
 * is loaded twice: by airouter's own loader (src/airouter_config.c), which
 * says which channels and providers exist as nginx will see them, and by
 * libyaml's parser, whose event marks say on which lines the channels
 * sequence and the providers mapping start and end.  The output is the
 * file's text with whole lines inserted, so comments and layout stay.
 * Called by airouter-import's main.
 */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "airouter_config.h"
#include "airouter_import.h"


typedef enum {
    SECTION_ABSENT = 0,
    SECTION_EMPTY,          /* "channels:", "channels: []", "~", "null" */
    SECTION_BLOCK,
    SECTION_FLOW            /* a non-empty flow collection: refused */
} airouter_import_section_e;


typedef struct {
    airouter_import_section_e  kind;
    size_t                     key_line;
    size_t                     column;      /* of the items or keys */
    size_t                     last_line;   /* last line with content */
    size_t                     end_line;    /* where the next key starts */
} airouter_import_section_t;


typedef struct {
    airouter_import_section_t  channels;
    airouter_import_section_t  providers;
    size_t                    *lines;       /* start offset of each line */
    size_t                     nlines;
} airouter_import_layout_t;


static int airouter_import_layout(airouter_arena_t *a, const char *path,
    const char *text, size_t len, airouter_import_layout_t *lo);
static int airouter_import_layout_section(yaml_parser_t *parser,
    yaml_event_t *value, airouter_import_section_t *s);
static size_t airouter_import_insert_line(const airouter_import_layout_t *lo,
    const char *text, const airouter_import_section_t *s);
static size_t airouter_import_line_start(const airouter_import_layout_t *lo,
    size_t line, size_t len);
static char *airouter_import_url_norm(airouter_arena_t *a, const char *url);
static char *airouter_import_read_file(const char *path, size_t *len);


int
airouter_import_target_load(airouter_arena_t *a, const char *path,
    airouter_import_target_t *t)
{
    char                 *colon;
    size_t                i;
    airouter_diag_t       diag;
    airouter_config_t    *cf;

    memset(t, 0, sizeof(airouter_import_target_t));

    t->text = airouter_import_read_file(path, &t->len);
    if (t->text == NULL) {
        return AIROUTER_IMPORT_ERROR;
    }

    memset(&diag, 0, sizeof(airouter_diag_t));

    cf = airouter_config_load(path, &diag);

    if (cf == NULL) {
        /*
         * The loader's reason may quote a value, and a misplaced key is a
         * value: only the position is printed.
         */
        colon = diag.error;
        for (i = 0; i < 3 && colon != NULL; i++) {
            colon = strchr(colon + (i ? 1 : 0), ':');
        }

        fprintf(stderr, "airouter-import: %.*s: --merge needs a file that "
                "loads (nginx -t says why it does not)\n",
                colon ? (int) (colon - diag.error) : (int) strlen(path),
                colon ? diag.error : path);
        return AIROUTER_IMPORT_ERROR;
    }

    t->cf = cf;

    for (i = 0; i < cf->nproviders; i++) {
        if (airouter_import_list_add(a, &t->providers, cf->providers[i].name,
                                     (size_t) -1) != AIROUTER_IMPORT_OK)
        {
            return AIROUTER_IMPORT_ERROR;
        }
    }

    for (i = 0; i < cf->nchannels; i++) {
        if (airouter_import_list_add(a, &t->ids, cf->channels[i].id,
                                     (size_t) -1) != AIROUTER_IMPORT_OK)
        {
            return AIROUTER_IMPORT_ERROR;
        }
    }

    return AIROUTER_IMPORT_OK;
}


/* the provider names a providers.yaml defines (--providers) */
int
airouter_import_providers_load(airouter_arena_t *a, const char *path,
    airouter_import_list_t *names)
{
    int                rc;
    FILE              *f;
    yaml_node_t       *root, *map, *key;
    yaml_parser_t      parser;
    yaml_document_t    doc;
    yaml_node_pair_t  *pair;

    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "airouter-import: %s: %s\n", path, strerror(errno));
        return AIROUTER_IMPORT_ERROR;
    }

    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);

    if (!yaml_parser_load(&parser, &doc)) {
        fprintf(stderr, "airouter-import: %s:%zu:%zu: %s\n", path,
                parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                parser.problem ? parser.problem : "not YAML");
        yaml_parser_delete(&parser);
        fclose(f);
        return AIROUTER_IMPORT_ERROR;
    }

    rc = AIROUTER_IMPORT_OK;
    root = yaml_document_get_root_node(&doc);
    map = root;

    /* "providers:" wrapping the map, or the bare map, as the loader reads */
    if (root != NULL && root->type == YAML_MAPPING_NODE) {
        for (pair = root->data.mapping.pairs.start;
             pair < root->data.mapping.pairs.top;
             pair++)
        {
            key = yaml_document_get_node(&doc, pair->key);

            if (key != NULL && key->type == YAML_SCALAR_NODE
                && strcmp((char *) key->data.scalar.value, "providers") == 0)
            {
                map = yaml_document_get_node(&doc, pair->value);
                break;
            }
        }
    }

    if (map != NULL && map->type == YAML_MAPPING_NODE) {
        for (pair = map->data.mapping.pairs.start;
             pair < map->data.mapping.pairs.top && rc == AIROUTER_IMPORT_OK;
             pair++)
        {
            key = yaml_document_get_node(&doc, pair->key);

            if (key != NULL && key->type == YAML_SCALAR_NODE) {
                rc = airouter_import_list_add(a, names,
                                              (char *) key->data.scalar.value,
                                              (size_t) -1);
            }
        }
    }

    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(f);

    return rc;
}


/*
 * Is ch already in the target?  The same base URL (scheme and host in any
 * case, "/v1" at the end or not, as airouter joins them) and a key in
 * common.  Over HTTP the source has no keys: then the same base URL and
 * the same channel id (an earlier import of this channel).
 */
int
airouter_import_target_has(airouter_arena_t *a,
    const airouter_import_target_t *t, const airouter_import_channel_t *ch)
{
    char                *mine, *theirs;
    size_t               i, j, k;
    airouter_config_t   *cf;
    airouter_channel_t  *ec;

    cf = t->cf;

    if (cf == NULL) {
        return 0;
    }

    /* a channel written commented out by an earlier import: its id line */
    if (ch->commented) {
        mine = airouter_import_printf(a, "# - id: \"%s\"\n", ch->id);
        return mine != NULL && strstr(t->text, mine) != NULL;
    }

    if (ch->base_url == NULL) {
        return 0;
    }

    mine = airouter_import_url_norm(a, ch->base_url);

    for (i = 0; i < cf->nchannels; i++) {
        ec = &cf->channels[i];

        if (ec->base_url == NULL) {
            continue;
        }

        theirs = airouter_import_url_norm(a, ec->base_url);

        if (mine == NULL || theirs == NULL || strcmp(mine, theirs) != 0) {
            continue;
        }

        if (ch->keys.n == 0) {
            if (strcmp(ec->id, ch->id) == 0) {
                return 1;
            }

            continue;
        }

        for (j = 0; j < ch->keys.n; j++) {
            for (k = 0; k < ec->api_keys.n; k++) {
                if (strcmp(ch->keys.items[j], ec->api_keys.items[k]) == 0) {
                    return 1;
                }
            }
        }
    }

    return 0;
}


/*
 * The target's text with providers_text after its last provider and
 * channels_text after its last channel (each already indented by
 * airouter_import_target_indent).  A missing section is added.
 */
int
airouter_import_splice(airouter_arena_t *a, const airouter_import_target_t *t,
    const char *providers_text, const char *channels_text,
    airouter_import_buf_t *out)
{
    size_t                     at[2], pos, i;
    const char                *text[2], *head[2];
    airouter_import_layout_t   lo;
    airouter_import_section_t *s[2];

    if (airouter_import_layout(a, "--merge", t->text, t->len, &lo)
        != AIROUTER_IMPORT_OK)
    {
        return AIROUTER_IMPORT_ERROR;
    }

    s[0] = &lo.providers;
    s[1] = &lo.channels;
    text[0] = providers_text;
    text[1] = channels_text;

    /*
     * Each section's text goes in at a byte offset; an empty or absent
     * section gets its key line too ("providers:" before "channels:" when
     * both are new, so the file reads top-down).
     */
    for (i = 0; i < 2; i++) {
        head[i] = "";

        if (text[i] == NULL || text[i][0] == '\0') {
            at[i] = (size_t) -1;
            continue;
        }

        switch (s[i]->kind) {
        case SECTION_FLOW:
            fprintf(stderr, "airouter-import: %s is a flow collection "
                    "(line %zu): write it in block style to merge into it\n",
                    i ? "channels" : "providers", s[i]->key_line + 1);
            return AIROUTER_IMPORT_ERROR;

        case SECTION_BLOCK:
            at[i] = airouter_import_insert_line(&lo, t->text, s[i]);
            break;

        case SECTION_EMPTY:
            /* the key's line is replaced by "key:\n" */
            at[i] = airouter_import_line_start(&lo, s[i]->key_line, t->len);
            head[i] = i ? "channels:\n" : "providers:\n";
            break;

        default:
            head[i] = i ? "channels:\n" : "providers:\n";
            at[i] = t->len;

            if (i == 0 && lo.channels.kind != SECTION_ABSENT) {
                at[i] = airouter_import_line_start(&lo, lo.channels.key_line,
                                                   t->len);
            }

            break;
        }
    }

    pos = 0;

    while (pos <= t->len) {
        /* the section that goes in next (providers first at a tie) */
        i = (at[0] <= at[1]) ? 0 : 1;

        if (at[i] == (size_t) -1) {
            airouter_import_buf_add(out, t->text + pos, t->len - pos);
            break;
        }

        airouter_import_buf_add(out, t->text + pos, at[i] - pos);
        pos = at[i];

        if (out->len > 0 && out->data[out->len - 1] != '\n') {
            airouter_import_buf_add(out, "\n", 1);
        }

        /* a blank line between the last old entry and the first new one */
        if (s[i]->kind == SECTION_BLOCK && out->len > 1
            && out->data[out->len - 2] != '\n')
        {
            airouter_import_buf_add(out, "\n", 1);
        }

        if (head[i][0] != '\0' && s[i]->kind == SECTION_EMPTY) {
            /* skip the old "key: []" line */
            pos = airouter_import_line_start(&lo, s[i]->key_line + 1,
                                             t->len);

        } else if (head[i][0] != '\0' && out->len > 1
                   && out->data[out->len - 2] != '\n')
        {
            airouter_import_buf_add(out, "\n", 1);
        }

        airouter_import_buf_str(out, head[i]);
        airouter_import_buf_str(out, text[i]);

        if (head[i][0] != '\0' && s[i]->kind == SECTION_ABSENT
            && pos < t->len)
        {
            airouter_import_buf_add(out, "\n", 1);
        }

        at[i] = (size_t) -1;
    }

    free(lo.lines);

    return out->failed ? AIROUTER_IMPORT_ERROR : AIROUTER_IMPORT_OK;
}


/* the indentation new items need: the existing items', or two spaces */
void
airouter_import_target_indent(airouter_arena_t *a,
    const airouter_import_target_t *t, char **providers, char **channels)
{
    size_t                    n;
    airouter_import_layout_t  lo;

    *providers = "  ";
    *channels = "  ";

    if (airouter_import_layout(a, NULL, t->text, t->len, &lo)
        != AIROUTER_IMPORT_OK)
    {
        return;
    }

    if (lo.providers.kind == SECTION_BLOCK) {
        n = lo.providers.column;
        *providers = airouter_import_printf(a, "%*s", (int) n, "");
    }

    if (lo.channels.kind == SECTION_BLOCK) {
        n = lo.channels.column;
        *channels = airouter_import_printf(a, "%*s", (int) n, "");
    }

    free(lo.lines);
}


void
airouter_import_target_free(airouter_import_target_t *t)
{
    if (t->cf != NULL) {
        airouter_config_free(t->cf);
        t->cf = NULL;
    }

    free(t->text);
    t->text = NULL;
}


/* Where the top-level channels and providers are, by line. */
static int
airouter_import_layout(airouter_arena_t *a, const char *what,
    const char *text, size_t len, airouter_import_layout_t *lo)
{
    int                          rc, done, expect_key;
    size_t                       i;
    yaml_event_t                 ev;
    yaml_parser_t                parser;
    airouter_import_section_t   *s, other;

    (void) a;

    memset(lo, 0, sizeof(airouter_import_layout_t));

    lo->lines = malloc((len + 2) * sizeof(size_t));
    if (lo->lines == NULL) {
        return AIROUTER_IMPORT_ERROR;
    }

    lo->lines[lo->nlines++] = 0;

    for (i = 0; i < len; i++) {
        if (text[i] == '\n') {
            lo->lines[lo->nlines++] = i + 1;
        }
    }

    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *) text, len);

    rc = AIROUTER_IMPORT_OK;
    done = 0;
    expect_key = 0;
    s = NULL;

    /* stream start, document start, the root mapping's start */
    for (i = 0; i < 3 && rc == AIROUTER_IMPORT_OK; i++) {
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = AIROUTER_IMPORT_ERROR;
            break;
        }

        if (i == 2 && (ev.type != YAML_MAPPING_START_EVENT
                       || ev.data.mapping_start.style
                          == YAML_FLOW_MAPPING_STYLE))
        {
            if (what != NULL) {
                fprintf(stderr, "airouter-import: %s: the file's top level "
                        "must be a block mapping\n", what);
            }

            rc = AIROUTER_IMPORT_ERROR;
        }

        yaml_event_delete(&ev);
    }

    expect_key = 1;

    while (rc == AIROUTER_IMPORT_OK && !done) {
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = AIROUTER_IMPORT_ERROR;
            break;
        }

        if (ev.type == YAML_MAPPING_END_EVENT) {
            done = 1;
            yaml_event_delete(&ev);
            break;
        }

        if (expect_key) {
            s = NULL;

            if (ev.type == YAML_SCALAR_EVENT) {
                if (strcmp((char *) ev.data.scalar.value, "channels") == 0) {
                    s = &lo->channels;

                } else if (strcmp((char *) ev.data.scalar.value,
                                  "providers") == 0)
                {
                    s = &lo->providers;
                }

                if (s != NULL) {
                    s->key_line = ev.start_mark.line;
                }
            }

            expect_key = 0;
            yaml_event_delete(&ev);
            continue;
        }

        expect_key = 1;

        if (s == NULL) {
            memset(&other, 0, sizeof(airouter_import_section_t));
            s = &other;
        }

        rc = airouter_import_layout_section(&parser, &ev, s);
        yaml_event_delete(&ev);
    }

    if (rc != AIROUTER_IMPORT_OK && parser.problem != NULL && what != NULL) {
        fprintf(stderr, "airouter-import: %s: line %zu: %s\n", what,
                parser.problem_mark.line + 1, parser.problem);
    }

    yaml_parser_delete(&parser);

    if (rc != AIROUTER_IMPORT_OK) {
        free(lo->lines);
        lo->lines = NULL;
    }

    return rc;
}


/*
 * Reads the value whose first event is value, to its end.  The last
 * content line is the last scalar's or flow end's (a block collection's
 * end mark sits at the next token, after any comments).
 */
static int
airouter_import_layout_section(yaml_parser_t *parser, yaml_event_t *value,
    airouter_import_section_t *s)
{
    int           depth, flow, nitems;
    yaml_event_t  ev;

    switch (value->type) {
    case YAML_SCALAR_EVENT:
        s->kind = (value->data.scalar.length == 0
                   || strcmp((char *) value->data.scalar.value, "~") == 0
                   || strcmp((char *) value->data.scalar.value, "null") == 0)
                  ? SECTION_EMPTY : SECTION_FLOW;
        s->last_line = value->end_mark.line;
        s->end_line = value->end_mark.line + 1;
        return AIROUTER_IMPORT_OK;

    case YAML_SEQUENCE_START_EVENT:
        flow = (value->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE);
        break;

    case YAML_MAPPING_START_EVENT:
        flow = (value->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE);
        break;

    default:
        s->kind = SECTION_FLOW;
        return AIROUTER_IMPORT_OK;
    }

    s->column = value->start_mark.column;
    s->last_line = value->start_mark.line;
    depth = 1;
    nitems = 0;

    while (depth > 0) {
        if (!yaml_parser_parse(parser, &ev)) {
            return AIROUTER_IMPORT_ERROR;
        }

        switch (ev.type) {
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            depth++;
            nitems++;
            break;

        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;

            if (depth == 0) {
                s->end_line = ev.start_mark.line;

            } else if (flow && ev.end_mark.line > s->last_line) {
                s->last_line = ev.end_mark.line;
            }

            break;

        case YAML_SCALAR_EVENT:
        case YAML_ALIAS_EVENT:
            nitems++;

            if (ev.end_mark.line > s->last_line) {
                s->last_line = ev.end_mark.line;
            }

            break;

        default:
            break;
        }

        yaml_event_delete(&ev);
    }

    s->kind = flow ? (nitems == 0 ? SECTION_EMPTY : SECTION_FLOW)
                   : SECTION_BLOCK;

    return AIROUTER_IMPORT_OK;
}


/*
 * The byte offset new items go in at: after the last item's last line and
 * the comment lines indented as the items (a commented-out channel belongs
 * to the list), before the blank lines and the less indented comments that
 * introduce the next section.
 */
static size_t
airouter_import_insert_line(const airouter_import_layout_t *lo,
    const char *text, const airouter_import_section_t *s)
{
    size_t       line, blank, start, end, ind;
    const char  *p;

    blank = (size_t) -1;

    for (line = s->last_line + 1; line < lo->nlines && line < s->end_line;
         line++)
    {
        start = lo->lines[line];
        end = (line + 1 < lo->nlines) ? lo->lines[line + 1] : start;

        for (p = text + start, ind = 0; p < text + end && *p == ' ';
             p++, ind++)
        {
            /* void */
        }

        if (p >= text + end || *p == '\n' || *p == '\r') {
            if (blank == (size_t) -1) {
                blank = line;
            }

            continue;
        }

        if (*p == '#' && ind >= s->column) {
            blank = (size_t) -1;
            continue;
        }

        break;
    }

    if (blank != (size_t) -1) {
        line = blank;
    }

    if (line >= lo->nlines) {
        return lo->lines[lo->nlines - 1] + strlen(text + lo->lines[lo->nlines
                                                                   - 1]);
    }

    return lo->lines[line];
}


static size_t
airouter_import_line_start(const airouter_import_layout_t *lo, size_t line,
    size_t len)
{
    return (line < lo->nlines) ? lo->lines[line] : len;
}


/* scheme and host lowercased, no trailing "/" or "/v1" */
static char *
airouter_import_url_norm(airouter_arena_t *a, const char *url)
{
    char    *s, *p;
    size_t   len;

    s = airouter_arena_strdup(a, url);
    if (s == NULL) {
        return NULL;
    }

    for (p = s; *p != '\0' && *p != '/'; p++) {
        *p = (char) tolower((unsigned char) *p);
    }

    if (p[0] == '/' && p[1] == '/') {
        for (p += 2; *p != '\0' && *p != '/'; p++) {
            *p = (char) tolower((unsigned char) *p);
        }
    }

    len = strlen(s);

    while (len > 0 && s[len - 1] == '/') {
        s[--len] = '\0';
    }

    if (len > 3 && strcmp(s + len - 3, "/v1") == 0) {
        s[len - 3] = '\0';
    }

    return s;
}


static char *
airouter_import_read_file(const char *path, size_t *len)
{
    FILE    *f;
    char    *buf, *p;
    size_t   n, cap;

    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "airouter-import: %s: %s\n", path, strerror(errno));
        return NULL;
    }

    cap = 65536;
    n = 0;
    buf = malloc(cap);

    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n - 1, f);

        if (n < cap - 1) {
            break;
        }

        cap *= 2;
        p = realloc(buf, cap);

        if (p == NULL) {
            free(buf);
        }

        buf = p;
    }

    if (buf == NULL || ferror(f)) {
        fprintf(stderr, "airouter-import: %s: cannot read it\n", path);
        free(buf);
        fclose(f);
        return NULL;
    }

    fclose(f);
    buf[n] = '\0';
    *len = n;

    return buf;
}
