/*
 * YAML for one channel or one provider, written by libyaml's emitter (so
 * every scalar is quoted and escaped as YAML wants), then indented and,
 * for a channel airouter cannot route, commented out line by line.  The
 * comment lines above a channel are ours.  Called by airouter-import's main.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "airouter_import.h"


typedef struct {
    yaml_emitter_t            emitter;
    airouter_import_buf_t     text;
    int                       failed;
} airouter_import_yaml_t;


static int airouter_import_yaml_write(void *data, unsigned char *buffer,
    size_t size);
static int airouter_import_yaml_begin(airouter_import_yaml_t *y, int seq);
static int airouter_import_yaml_end(airouter_import_yaml_t *y, int seq);
static void airouter_import_yaml_key(airouter_import_yaml_t *y,
    const char *key);
static void airouter_import_yaml_str(airouter_import_yaml_t *y,
    const char *key, const char *value);
static void airouter_import_yaml_plain(airouter_import_yaml_t *y,
    const char *key, const char *value);
static void airouter_import_yaml_list(airouter_import_yaml_t *y,
    const char *key, const airouter_import_list_t *l, int flow);
static void airouter_import_yaml_scalar(airouter_import_yaml_t *y,
    const char *value, yaml_scalar_style_t style);
static void airouter_import_yaml_event(airouter_import_yaml_t *y,
    yaml_event_t *ev, int ok);
static void airouter_import_indent(airouter_import_buf_t *out,
    const airouter_import_buf_t *text, const char *indent, int commented);
static void airouter_import_comment(airouter_import_buf_t *out,
    const char *indent, const char *text);


int
airouter_import_emit_channel(airouter_import_buf_t *out,
    const airouter_import_channel_t *ch, const char *indent, int inline_keys)
{
    char                    num[64];
    size_t                  i;
    airouter_import_yaml_t  y;
    airouter_import_list_t  refs;

    for (i = 0; i < ch->notes.n; i++) {
        airouter_import_comment(out, indent, ch->notes.items[i]);
    }

    if (airouter_import_yaml_begin(&y, 1) != AIROUTER_IMPORT_OK) {
        return AIROUTER_IMPORT_ERROR;
    }

    airouter_import_yaml_str(&y, "id", ch->id);
    airouter_import_yaml_str(&y, "name", ch->name);
    airouter_import_yaml_str(&y, "provider", ch->provider);
    airouter_import_yaml_str(&y, "base_url", ch->base_url ? ch->base_url
                                                          : "");

    /* keys: the values, or ${NAME} references to the keys-env file */
    if (!inline_keys) {
        refs.n = ch->key_refs.n;
        refs.items = ch->key_refs.items;

    } else {
        refs = ch->keys;
    }

    if (refs.n == 1) {
        airouter_import_yaml_str(&y, "api_key", refs.items[0]);

    } else if (refs.n > 1) {
        airouter_import_yaml_list(&y, "api_keys", &refs, 0);
    }

    if (!ch->enabled) {
        airouter_import_yaml_plain(&y, "enabled", "false");
    }

    snprintf(num, sizeof(num), "%d", ch->priority);
    airouter_import_yaml_plain(&y, "priority", num);

    if (ch->weight >= 0) {
        snprintf(num, sizeof(num), "%.15g", ch->weight);
        airouter_import_yaml_plain(&y, "weight", num);
    }

    if (ch->tags.n > 0) {
        airouter_import_yaml_list(&y, "tags", &ch->tags, 1);
    }

    if (ch->models.n > 0) {
        airouter_import_yaml_list(&y, "configured_models", &ch->models, 0);
    }

    if (ch->naliases > 0) {
        yaml_event_t  ev;

        airouter_import_yaml_key(&y, "model_aliases");
        airouter_import_yaml_event(&y, &ev,
            yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                                YAML_BLOCK_MAPPING_STYLE));

        for (i = 0; i < ch->naliases; i++) {
            airouter_import_yaml_str(&y, ch->aliases[i].alias,
                                     ch->aliases[i].target);
        }

        airouter_import_yaml_event(&y, &ev,
                                   yaml_mapping_end_event_initialize(&ev));
    }

    if (airouter_import_yaml_end(&y, 1) != AIROUTER_IMPORT_OK) {
        return AIROUTER_IMPORT_ERROR;
    }

    airouter_import_indent(out, &y.text, indent, ch->commented);
    airouter_import_buf_free(&y.text);

    return out->failed ? AIROUTER_IMPORT_ERROR : AIROUTER_IMPORT_OK;
}


int
airouter_import_emit_provider(airouter_import_buf_t *out,
    const airouter_import_provider_t *pv, const char *indent)
{
    yaml_event_t            ev;
    airouter_import_yaml_t  y;

    if (airouter_import_yaml_begin(&y, 0) != AIROUTER_IMPORT_OK) {
        return AIROUTER_IMPORT_ERROR;
    }

    airouter_import_yaml_key(&y, pv->name);
    airouter_import_yaml_event(&y, &ev,
        yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                            YAML_BLOCK_MAPPING_STYLE));

    airouter_import_yaml_str(&y, "display_name", pv->display_name);

    if (pv->base_url != NULL) {
        airouter_import_yaml_str(&y, "base_url", pv->base_url);
    }

    if (pv->auth_header != NULL) {
        airouter_import_yaml_str(&y, "auth_type", "header");
        airouter_import_yaml_str(&y, "auth_header", pv->auth_header);
    }

    if (pv->local) {
        airouter_import_yaml_plain(&y, "local", "true");
    }

    airouter_import_yaml_event(&y, &ev, yaml_mapping_end_event_initialize(&ev));

    if (airouter_import_yaml_end(&y, 0) != AIROUTER_IMPORT_OK) {
        return AIROUTER_IMPORT_ERROR;
    }

    airouter_import_indent(out, &y.text, indent, 0);
    airouter_import_buf_free(&y.text);

    return out->failed ? AIROUTER_IMPORT_ERROR : AIROUTER_IMPORT_OK;
}


/*
 * A stream with one implicit document holding one block mapping (seq 0)
 * or a block sequence of one mapping (seq 1).  No line width: a long
 * scalar stays on its line, so indenting and commenting out stay simple.
 */
static int
airouter_import_yaml_begin(airouter_import_yaml_t *y, int seq)
{
    yaml_event_t  ev;

    memset(y, 0, sizeof(airouter_import_yaml_t));

    if (!yaml_emitter_initialize(&y->emitter)) {
        return AIROUTER_IMPORT_ERROR;
    }

    yaml_emitter_set_output(&y->emitter, airouter_import_yaml_write, y);
    yaml_emitter_set_unicode(&y->emitter, 1);
    yaml_emitter_set_width(&y->emitter, -1);
    yaml_emitter_set_indent(&y->emitter, 2);

    airouter_import_yaml_event(y, &ev,
        yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
    airouter_import_yaml_event(y, &ev,
        yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));

    if (seq) {
        airouter_import_yaml_event(y, &ev,
            yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                                 YAML_BLOCK_SEQUENCE_STYLE));
    }

    airouter_import_yaml_event(y, &ev,
        yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                            YAML_BLOCK_MAPPING_STYLE));

    return y->failed ? AIROUTER_IMPORT_ERROR : AIROUTER_IMPORT_OK;
}


static int
airouter_import_yaml_end(airouter_import_yaml_t *y, int seq)
{
    yaml_event_t  ev;

    airouter_import_yaml_event(y, &ev, yaml_mapping_end_event_initialize(&ev));

    if (seq) {
        airouter_import_yaml_event(y, &ev,
                                   yaml_sequence_end_event_initialize(&ev));
    }

    airouter_import_yaml_event(y, &ev,
                               yaml_document_end_event_initialize(&ev, 1));
    airouter_import_yaml_event(y, &ev, yaml_stream_end_event_initialize(&ev));

    yaml_emitter_flush(&y->emitter);
    yaml_emitter_delete(&y->emitter);

    if (y->failed || y->text.failed) {
        if (y->emitter.problem != NULL) {
            fprintf(stderr, "airouter-import: YAML: %s\n", y->emitter.problem);
        }

        airouter_import_buf_free(&y->text);
        return AIROUTER_IMPORT_ERROR;
    }

    return AIROUTER_IMPORT_OK;
}


static void
airouter_import_yaml_key(airouter_import_yaml_t *y, const char *key)
{
    airouter_import_yaml_scalar(y, key, YAML_PLAIN_SCALAR_STYLE);
}


static void
airouter_import_yaml_str(airouter_import_yaml_t *y, const char *key,
    const char *value)
{
    airouter_import_yaml_scalar(y, key, YAML_ANY_SCALAR_STYLE);
    airouter_import_yaml_scalar(y, value, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}


static void
airouter_import_yaml_plain(airouter_import_yaml_t *y, const char *key,
    const char *value)
{
    airouter_import_yaml_scalar(y, key, YAML_PLAIN_SCALAR_STYLE);
    airouter_import_yaml_scalar(y, value, YAML_PLAIN_SCALAR_STYLE);
}


static void
airouter_import_yaml_list(airouter_import_yaml_t *y, const char *key,
    const airouter_import_list_t *l, int flow)
{
    size_t        i;
    yaml_event_t  ev;

    airouter_import_yaml_key(y, key);
    airouter_import_yaml_event(y, &ev,
        yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
            flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE));

    for (i = 0; i < l->n; i++) {
        airouter_import_yaml_scalar(y, l->items[i],
                                    YAML_DOUBLE_QUOTED_SCALAR_STYLE);
    }

    airouter_import_yaml_event(y, &ev, yaml_sequence_end_event_initialize(&ev));
}


static void
airouter_import_yaml_scalar(airouter_import_yaml_t *y, const char *value,
    yaml_scalar_style_t style)
{
    yaml_event_t  ev;

    airouter_import_yaml_event(y, &ev,
        yaml_scalar_event_initialize(&ev, NULL, NULL,
                                     (yaml_char_t *) value,
                                     (int) strlen(value), 1, 1, style));
}


static void
airouter_import_yaml_event(airouter_import_yaml_t *y, yaml_event_t *ev,
    int ok)
{
    if (y->failed) {
        if (ok) {
            yaml_event_delete(ev);
        }

        return;
    }

    if (!ok || !yaml_emitter_emit(&y->emitter, ev)) {
        y->failed = 1;
    }
}


static int
airouter_import_yaml_write(void *data, unsigned char *buffer, size_t size)
{
    airouter_import_yaml_t  *y;

    y = data;
    airouter_import_buf_add(&y->text, (const char *) buffer, size);

    return !y->text.failed;
}


/* every line of text, indented, and commented out when asked */
static void
airouter_import_indent(airouter_import_buf_t *out,
    const airouter_import_buf_t *text, const char *indent, int commented)
{
    size_t       n;
    const char  *p, *end, *nl;

    p = text->data;
    end = text->data + text->len;

    while (p < end) {
        nl = memchr(p, '\n', (size_t) (end - p));
        n = nl ? (size_t) (nl - p) : (size_t) (end - p);

        if (n > 0) {
            airouter_import_buf_str(out, indent);

            if (commented) {
                airouter_import_buf_str(out, "# ");
            }

            airouter_import_buf_add(out, p, n);
        }

        airouter_import_buf_add(out, "\n", 1);
        p += n + 1;
    }
}


/* "# text" on one line: control characters become spaces */
static void
airouter_import_comment(airouter_import_buf_t *out, const char *indent,
    const char *text)
{
    const char  *p;

    airouter_import_buf_str(out, indent);
    airouter_import_buf_str(out, "# ");

    for (p = text; *p; p++) {
        airouter_import_buf_add(out, ((unsigned char) *p < 0x20
                                      || *p == 0x7f) ? " " : p, 1);
    }

    airouter_import_buf_add(out, "\n", 1);
}


/*
 * A copy of s that is valid UTF-8 (libyaml refuses anything else): every
 * byte that does not start a well-formed sequence becomes '?'.
 */
char *
airouter_import_utf8(airouter_arena_t *a, const char *s)
{
    char                 *d;
    size_t                i, n, len, k;
    const unsigned char  *p;

    len = strlen(s);
    d = airouter_arena_alloc(a, len + 1);
    if (d == NULL) {
        return NULL;
    }

    p = (const unsigned char *) s;

    for (i = 0; i < len; /* void */) {
        n = (p[i] < 0x80) ? 1
            : (p[i] >= 0xc2 && p[i] <= 0xdf) ? 2
            : (p[i] >= 0xe0 && p[i] <= 0xef) ? 3
            : (p[i] >= 0xf0 && p[i] <= 0xf4) ? 4 : 0;

        for (k = 1; n > 1 && k < n; k++) {
            if (i + k >= len || (p[i + k] & 0xc0) != 0x80) {
                n = 0;
                break;
            }
        }

        /* overlong 3- and 4-byte forms, surrogates, above U+10FFFF */
        if ((n == 3 && ((p[i] == 0xe0 && p[i + 1] < 0xa0)
                        || (p[i] == 0xed && p[i + 1] >= 0xa0)))
            || (n == 4 && ((p[i] == 0xf0 && p[i + 1] < 0x90)
                           || (p[i] == 0xf4 && p[i + 1] >= 0x90))))
        {
            n = 0;
        }

        /* libyaml also refuses C0 controls other than tab and newline */
        if (n == 1 && p[i] < 0x20 && p[i] != '\t' && p[i] != '\n') {
            n = 0;
        }

        if (n == 0) {
            d[i++] = '?';
            continue;
        }

        memcpy(d + i, p + i, n);
        i += n;
    }

    d[len] = '\0';

    return d;
}


void
airouter_import_buf_add(airouter_import_buf_t *b, const char *s, size_t len)
{
    char    *p;
    size_t   cap;

    if (b->failed) {
        return;
    }

    if (b->len + len + 1 > b->cap) {
        cap = b->cap ? b->cap * 2 : 4096;

        while (cap < b->len + len + 1) {
            cap *= 2;
        }

        p = realloc(b->data, cap);
        if (p == NULL) {
            b->failed = 1;
            return;
        }

        b->data = p;
        b->cap = cap;
    }

    memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = '\0';
}


void
airouter_import_buf_str(airouter_import_buf_t *b, const char *s)
{
    airouter_import_buf_add(b, s, strlen(s));
}


void
airouter_import_buf_free(airouter_import_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
