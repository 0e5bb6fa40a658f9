/*
 * A walker over libyaml documents that knows nothing of what the keys
 * mean: it loads a file keeping every node's position, walks a mapping
 * against a table of known keys (unknown ones warn, "<<" merges apply,
 * duplicates fail), expands ${ENV} and ${ENV:-default} in scalars, and
 * reads typed values (integers, numbers, booleans, strings, URLs, lists)
 * with range checks, and refuses control characters in every scalar and
 * key (values reach HTTP headers).  Every failure is one
 * "file:line:column: reason" in the caller's airouter_diag_t.
 *
 * Pure C, no nginx types; strings live in the caller's arena.  Used by
 * the configuration schema (airouter_config.c), which says what the keys
 * mean.
 */

#ifndef AIROUTER_YAML_H
#define AIROUTER_YAML_H

#include <yaml.h>

#include "airouter_config.h"


#define AIROUTER_YAML_OK         0
#define AIROUTER_YAML_ERROR     -1

#define AIROUTER_YAML_PATH       256        /* a key path in messages */
#define AIROUTER_YAML_NOMAX      1e300      /* no upper bound */


typedef struct airouter_yaml_s        airouter_yaml_t;
typedef struct airouter_yaml_field_s  airouter_yaml_field_t;

typedef int (*airouter_yaml_handler_pt)(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj);


typedef enum {
    AIROUTER_YAML_END = 0,
    AIROUTER_YAML_INT,       /* int */
    AIROUTER_YAML_LONG,      /* long */
    AIROUTER_YAML_DOUBLE,    /* double; integers accepted */
    AIROUTER_YAML_BOOL,      /* int 0/1 */
    AIROUTER_YAML_STR,       /* char *, in the arena */
    AIROUTER_YAML_URL,       /* char *, http(s) URL, trailing '/' cut */
    AIROUTER_YAML_LIST,      /* airouter_strlist_t */
    AIROUTER_YAML_TAGS,      /* airouter_strlist_t, lowercased */
    AIROUTER_YAML_MAP,       /* nested table over obj + offset */
    AIROUTER_YAML_FUNC,      /* handler(y, node, path, obj) */
    AIROUTER_YAML_IGNORE,    /* known, unused: accepted silently */
    AIROUTER_YAML_OWNED      /* another program's to set: y->owned() */
} airouter_yaml_type_e;


/*
 * One known key of a mapping.  A table ends with a NULL key; the key "*"
 * matches every key the table does not name (with AIROUTER_YAML_IGNORE:
 * "accept anything else here").  min and max bound numbers; for an OWNED
 * key a max above 0 asks for an integer check first.
 */
struct airouter_yaml_field_s {
    const char                     *key;
    airouter_yaml_type_e            type;
    size_t                          offset;
    double                          min;
    double                          max;
    const airouter_yaml_field_t    *sub;
    airouter_yaml_handler_pt        handler;
    const char                     *directive;  /* OWNED: who sets it */
};


#define AIROUTER_YAML_NUM(key, type, st, member, min, max)                    \
    { key, type, offsetof(st, member), min, max, NULL, NULL, NULL }
#define AIROUTER_YAML_VAL(key, type, st, member)                              \
    { key, type, offsetof(st, member), 0, 0, NULL, NULL, NULL }
#define AIROUTER_YAML_SUB(key, st, member, sub)                               \
    { key, AIROUTER_YAML_MAP, offsetof(st, member), 0, 0, sub, NULL, NULL }
#define AIROUTER_YAML_FN(key, handler)                                        \
    { key, AIROUTER_YAML_FUNC, 0, 0, 0, NULL, handler, NULL }
#define AIROUTER_YAML_SKIP(key)                                               \
    { key, AIROUTER_YAML_IGNORE, 0, 0, 0, NULL, NULL, NULL }
#define AIROUTER_YAML_OWN(key, directive)                                     \
    { key, AIROUTER_YAML_OWNED, 0, 0, 0, NULL, NULL, directive }
#define AIROUTER_YAML_LAST                                                    \
    { NULL, AIROUTER_YAML_END, 0, 0, 0, NULL, NULL, NULL }


/*
 * The walk's state.  The caller fills diag, arena, file and doc (the
 * document being walked, and its file for positions), and data for its
 * handlers; owned, if set, is told of every OWNED key met.  Only the
 * first error is kept: failed stays set after it.
 */
struct airouter_yaml_s {
    airouter_diag_t                *diag;
    airouter_arena_t               *arena;
    yaml_document_t                *doc;
    const char                     *file;
    void                           *data;
    int                           (*owned)(airouter_yaml_t *y,
                                           const char *path,
                                           const char *directive);
    unsigned long                   steps;
    unsigned                        merges;
    int                             failed;
};


/*
 * Loads file into doc: 1 when doc holds it, 0 when an optional file is
 * absent, -1 on error (a YAML syntax error with its position).
 */
int airouter_yaml_parse(airouter_yaml_t *y, const char *file,
    yaml_document_t *doc, int optional);

/* Walks a mapping node against fields, filling obj. */
int airouter_yaml_walk(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, const airouter_yaml_field_t *fields, void *obj);

/*
 * A mapping keyed by names (providers, strategies) whose entries go into
 * an array of elements that each hold their name (a char * at name_off)
 * and where it was read (an airouter_pos_t at pos_off).  *array, of *n
 * elements, is grown (in the arena) by the mapping's size.  A name the
 * array has already is "duplicate <what> ... (first at file:line:column)"
 * unless replace is set, when its element is read again (its position
 * moves to the new one); a new name is added, named and counted.  Then
 * entry is called with the element, whether it was added, the value and
 * its path ("<path>.<name>").  AIROUTER_YAML_OK (an empty value adds
 * nothing), or an error: not a mapping, a name that is not a non-empty
 * string, a duplicate, or entry's.
 */
typedef int (*airouter_yaml_entry_pt)(airouter_yaml_t *y, void *elem,
    int added, yaml_node_t *value, const char *path);

typedef struct {
    const char               *what;        /* "provider", for messages */
    size_t                    size;        /* of an element */
    size_t                    name_off;
    size_t                    pos_off;
    int                       replace;
    airouter_yaml_entry_pt    entry;
} airouter_yaml_named_t;

int airouter_yaml_named(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, const airouter_yaml_named_t *named, void **array,
    size_t *n);

/*
 * A key of the mapping at path: AIROUTER_YAML_ERROR when it holds a
 * control character (scalars are checked by the readers below).
 */
int airouter_yaml_key(airouter_yaml_t *y, yaml_node_t *key,
    const char *path);

/*
 * Typed readers.  text: 1 with the scalar's text after ${ENV}
 * expansion, 0 for a YAML null, -1 when node is not a scalar or its text
 * holds a control character (CR, LF, TAB...: values reach HTTP headers).  The
 * others leave *out as it was for a null (the default stays) and return
 * AIROUTER_YAML_OK or AIROUTER_YAML_ERROR.
 */
int airouter_yaml_text(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, const char *what, const char **text);
int airouter_yaml_double(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, double min, double max, double *out);
int airouter_yaml_bool(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, int *out);
int airouter_yaml_string(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, char **out);
int airouter_yaml_list(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, int lower, airouter_strlist_t *out);
int airouter_yaml_append(airouter_yaml_t *y, airouter_strlist_t *list,
    char *const *items, size_t n);

/* Diagnostics: error returns AIROUTER_YAML_ERROR; pos NULL: the file. */
int airouter_yaml_error(airouter_yaml_t *y, const airouter_pos_t *pos,
    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__ ((format (printf, 3, 4)))
#endif
    ;
/* The same at node's position. */
int airouter_yaml_error_at(airouter_yaml_t *y, const yaml_node_t *node,
    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__ ((format (printf, 3, 4)))
#endif
    ;
void airouter_yaml_warn(airouter_yaml_t *y, const airouter_pos_t *pos,
    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__ ((format (printf, 3, 4)))
#endif
    ;
airouter_pos_t airouter_yaml_pos(airouter_yaml_t *y, const yaml_node_t *node);
const char *airouter_yaml_kind(const yaml_node_t *node);
void airouter_yaml_subpath(char *buf, const char *path, const char *key);

/* In y's arena; NULL (with the error set) when it is exhausted. */
void *airouter_yaml_alloc(airouter_yaml_t *y, size_t n);
char *airouter_yaml_strdup(airouter_yaml_t *y, const char *s);

/* Small helpers: ASCII case-insensitive equality; an http(s) URL's host
 * part (NULL for another scheme). */
int airouter_yaml_streq_ci(const char *a, const char *b);
const char *airouter_yaml_url_host(const char *url);

#endif /* AIROUTER_YAML_H */
