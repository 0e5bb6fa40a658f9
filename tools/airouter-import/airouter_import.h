/*
 * airouter-import: One-API / New-API / One-Hub channels to airouter's
 * router_config.yaml.  The data every part of the tool shares:
 *
 *   source (airouter_import_sqlite.c, airouter_import_http.c)
 *       -> rows (airouter_import_row_t, what the source said)
 *   airouter_import_map.c
 *       -> channels (airouter_import_channel_t, what airouter needs)
 *   airouter_import_emit.c (+ airouter_import_merge.c for --merge)
 *       -> YAML text on stdout, keys in the --keys-env file
 *
 * airouter_import_types.c holds the three projects' channel type numbers.
 * Everything is plain C with libc allocation owned by one arena per run.
 */

#ifndef AIROUTER_IMPORT_H
#define AIROUTER_IMPORT_H

#include <stddef.h>

#include "airouter_arena.h"


#define AIROUTER_IMPORT_OK      0
#define AIROUTER_IMPORT_ERROR  -1


/* Which project's numbering a source uses (their type lists differ). */
typedef enum {
    AIROUTER_IMPORT_UNKNOWN = 0,
    AIROUTER_IMPORT_ONEAPI,
    AIROUTER_IMPORT_NEWAPI,
    AIROUTER_IMPORT_ONEHUB
} airouter_import_flavor_e;


/* flags of a type entry */
#define AIROUTER_IMPORT_NATIVE   0x01   /* no OpenAI-compatible API: the
                                           channel is written commented out */
#define AIROUTER_IMPORT_AZURE    0x02   /* deployment names without dots */
#define AIROUTER_IMPORT_ACCOUNT  0x04   /* Cloudflare: account id in the URL */
#define AIROUTER_IMPORT_LOCAL    0x08


/*
 * One channel type of one project.  The channel's own base_url, or
 * native_base when it has none, is the project's native base; suffix
 * turns it into the provider's OpenAI-compatible base ("/compatible-mode/v1"
 * for DashScope).  note says what a user must know (why a native type
 * cannot be routed as it is).
 */
typedef struct {
    int                       type;
    const char               *type_name;    /* as the project calls it */
    const char               *provider;     /* airouter provider name */
    const char               *native_base;  /* the project's default */
    const char               *suffix;
    unsigned                  flags;
    const char               *note;
} airouter_import_type_t;


/* A provider the output may define (providers: section). */
typedef struct {
    const char               *name;
    const char               *display_name;
    const char               *base_url;     /* OpenAI-compatible; NULL when
                                               every channel has its own */
    const char               *auth_header;  /* NULL: Authorization: Bearer */
    int                       local;
} airouter_import_provider_t;


/*
 * One channel as the source stores it.  A NULL string is a column the
 * source does not have (or SQL NULL); has_* say the same for numbers.
 */
typedef struct {
    long long                 id;
    int                       type;
    int                       status;       /* 1 enabled, 2 manual, 3 auto */
    char                     *name;
    char                     *key;          /* NULL: not given (HTTP) */
    char                     *base_url;
    char                     *models;       /* "a,b,c" */
    char                     *model_mapping;    /* JSON object */
    char                     *group;        /* "default,vip" */
    char                     *tag;          /* New-API, One-Hub */
    char                     *other;        /* One-API < 0.6: Azure version,
                                               New-API: Cloudflare account */
    char                     *config;       /* One-API >= 0.6: JSON */
    char                     *channel_info; /* New-API: multi-key status */
    int                       has_priority;
    long long                 priority;     /* higher is preferred */
    int                       has_weight;
    double                    weight;
} airouter_import_row_t;


typedef struct {
    char                     *alias;
    char                     *target;
} airouter_import_alias_t;


typedef struct {
    char                    **items;
    size_t                    n;
} airouter_import_list_t;


/* One channel as airouter will read it. */
typedef struct {
    const airouter_import_row_t   *row;
    const airouter_import_type_t  *type;    /* NULL: unknown type */

    char                     *id;
    char                     *name;
    const char               *provider;
    char                     *base_url;     /* NULL: none could be made */
    airouter_import_list_t    keys;         /* the source's keys, in order */
    size_t                    keys_left_out;    /* disabled in New-API */
    int                       enabled;
    int                       priority;     /* airouter's: 1 is preferred */
    double                    weight;
    airouter_import_list_t    tags;
    airouter_import_list_t    models;
    airouter_import_alias_t  *aliases;
    size_t                    naliases;

    int                       commented;    /* written as a comment */
    int                       present;      /* --merge: already there */
    airouter_import_list_t    notes;        /* comment lines above it */
    airouter_import_list_t    key_refs;     /* ${NAME} names, keys-env mode */
} airouter_import_channel_t;


/* What the run was asked to do. */
typedef struct {
    const char               *source;       /* file path or http(s) URL */
    airouter_import_flavor_e  flavor;       /* UNKNOWN: detect */
    const char               *keys_env;     /* --keys-env FILE */
    int                       inline_keys;
    const char               *merge;        /* --merge FILE */
    const char               *providers;    /* --providers FILE */
    const char               *id_prefix;    /* default: the flavor's name */
    const char               *token_file;
    const char               *user_id;      /* New-Api-User header */
    int                       skip_disabled;
    long                      timeout;      /* seconds, HTTP */
} airouter_import_opts_t;


/* The rows a source gave, and the flavor it turned out to be. */
typedef struct {
    airouter_import_row_t    *rows;
    size_t                    nrows;
    size_t                    cap;
    airouter_import_flavor_e  flavor;
    int                       keys_given;   /* the source returns keys */
    const char               *what;         /* "One-API database x.db" */
} airouter_import_source_t;


/* airouter_import_types.c */
const airouter_import_type_t *airouter_import_type(
    airouter_import_flavor_e flavor, int type);
const airouter_import_provider_t *airouter_import_provider(const char *name);
const char *airouter_import_flavor_name(airouter_import_flavor_e flavor);
const char *airouter_import_flavor_id(airouter_import_flavor_e flavor);
airouter_import_flavor_e airouter_import_flavor_parse(const char *s);
airouter_import_flavor_e airouter_import_flavor_by_fields(
    int (*has)(void *ctx, const char *field), void *ctx);

/* airouter_import_map.c */
int airouter_import_map(airouter_arena_t *a, const airouter_import_row_t *row,
    airouter_import_flavor_e flavor, const char *id_prefix,
    airouter_import_channel_t *ch);
void airouter_import_rank_priorities(airouter_import_channel_t *chs,
    size_t n);
char *airouter_import_env_name(airouter_arena_t *a, const char *id,
    size_t index, size_t nkeys);
int airouter_import_list_add(airouter_arena_t *a, airouter_import_list_t *l,
    const char *s, size_t len);
char *airouter_import_printf(airouter_arena_t *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* airouter_import.c: a new zeroed row */
airouter_import_row_t *airouter_import_row_add(airouter_arena_t *a,
    airouter_import_source_t *src);

/* airouter_import_sqlite.c */
int airouter_import_sqlite(airouter_arena_t *a,
    const airouter_import_opts_t *opts, airouter_import_source_t *src);

/* airouter_import_http.c */
int airouter_import_http(airouter_arena_t *a,
    const airouter_import_opts_t *opts, airouter_import_source_t *src);

/* airouter_import_emit.c */
typedef struct {
    char                     *data;
    size_t                    len;
    size_t                    cap;
    int                       failed;       /* out of memory */
} airouter_import_buf_t;

void airouter_import_buf_add(airouter_import_buf_t *b, const char *s,
    size_t len);
void airouter_import_buf_str(airouter_import_buf_t *b, const char *s);
void airouter_import_buf_free(airouter_import_buf_t *b);

int airouter_import_emit_channel(airouter_import_buf_t *out,
    const airouter_import_channel_t *ch, const char *indent, int inline_keys);
int airouter_import_emit_provider(airouter_import_buf_t *out,
    const airouter_import_provider_t *pv, const char *indent);
char *airouter_import_utf8(airouter_arena_t *a, const char *s);

/* airouter_import_keys.c */
typedef struct {
    char                     *name;
    char                     *value;
    char                     *comment;      /* line above, may be NULL */
} airouter_import_env_t;

typedef struct {
    airouter_import_env_t    *vars;
    size_t                    n;
    size_t                    cap;
    airouter_import_list_t    lines;        /* foreign lines, kept */
} airouter_import_envfile_t;

int airouter_import_env_read(airouter_arena_t *a, const char *path,
    airouter_import_envfile_t *ef);
int airouter_import_env_set(airouter_arena_t *a, airouter_import_envfile_t *ef,
    const char *name, const char *value, const char *comment, int keep);
const char *airouter_import_env_get(const airouter_import_envfile_t *ef,
    const char *name);
int airouter_import_env_write(const char *path,
    const airouter_import_envfile_t *ef);

/* airouter_import_merge.c */
typedef struct {
    char                     *text;         /* the file as it is */
    size_t                    len;
    airouter_import_list_t    providers;    /* names already defined */
    airouter_import_list_t    ids;          /* channel ids already used */
    void                     *cf;           /* airouter_config_t */
} airouter_import_target_t;

int airouter_import_target_load(airouter_arena_t *a, const char *path,
    airouter_import_target_t *t);
int airouter_import_providers_load(airouter_arena_t *a, const char *path,
    airouter_import_list_t *names);
int airouter_import_target_has(airouter_arena_t *a,
    const airouter_import_target_t *t, const airouter_import_channel_t *ch);
int airouter_import_splice(airouter_arena_t *a,
    const airouter_import_target_t *t, const char *providers_text,
    const char *channels_text, airouter_import_buf_t *out);
void airouter_import_target_indent(airouter_arena_t *a,
    const airouter_import_target_t *t, char **providers, char **channels);
void airouter_import_target_free(airouter_import_target_t *t);

#endif /* AIROUTER_IMPORT_H */
