/*
 * A client's request body read in one validating pass, without a tree:
 * the API handler's hot path (ngx_http_airouter_api.c) for plain OpenAI
 * requests.  The pass
 *
 *   - says whether the body is JSON exactly as jansson's json_loadb(body,
 *     0) says it (syntax, escapes, UTF-8, nesting depth, number range);
 *   - records every top-level member (key and value spans, the value's
 *     kind, number and item count as the parameter table reads them), in
 *     the body's order;
 *   - counts the text of the members the caller names (a prompt, an input,
 *     documents: a string, or a list of strings and {"text": ...} parts)
 *     and, for chat, of every message's "content", with the caller's
 *     counter, each string unescaped on the fly; notes image parts;
 *   - checks every chat message as the parameter table does.
 *
 * What one pass cannot decide alone, it leaves to the tree (status TREE):
 * a key that repeats where the last one must win (top level, a message, a
 * content part), a key with an escape there (it might spell any name),
 * more than AIROUTER_JSCAN_MEMBERS top-level members, a body of 4 GB or
 * more, and a text it refuses that holds a NUL byte (jansson lets some
 * through after a number).
 *
 * Pure C.
 */

#ifndef AIROUTER_JSCAN_H
#define AIROUTER_JSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "airouter_params.h"


/*
 * The scan lives in the request's pool: 32 members of 64 bytes keep it
 * well under a pool block (a larger one is a malloc per request), and
 * more than OpenAI's requests carry; a body with more is the tree's.
 */
#define AIROUTER_JSCAN_MEMBERS  32


typedef enum {
    AIROUTER_JSCAN_OK = 0,          /* an object, read */
    AIROUTER_JSCAN_INVALID,         /* not JSON: jansson refuses it too */
    AIROUTER_JSCAN_NOT_OBJECT,      /* JSON, but an array */
    AIROUTER_JSCAN_TREE             /* read it with jansson */
} airouter_jscan_status_e;


/* The tokens of one unescaped text (airouter_tokenizer_count's shape). */
typedef size_t (*airouter_jscan_count_pt)(const void *data, const char *s,
    size_t len);


typedef struct {
    uint32_t                  key_start;    /* the key's opening '"' */
    uint32_t                  key_end;      /* one past its closing '"' */
    uint32_t                  start;        /* the value */
    uint32_t                  end;
    airouter_json_value_t     value;        /* kind 0: never */
    int64_t                   integer;      /* kind INT */
    uint64_t                  tokens;       /* a counted member's text */
    unsigned                  escaped:1;    /* a string with escapes */
} airouter_jscan_member_t;


typedef struct {
    /* set by the caller */
    const char *const        *counted;      /* names, NULL-terminated */
    unsigned                  messages;     /* chat: walk "messages" */
    airouter_jscan_count_pt   count;        /* NULL: nothing counted */
    const void               *count_data;
    char                     *scratch;      /* the body's length + 1 */

    /* filled by airouter_jscan_body() */
    size_t                    open;         /* one past the object's '{' */
    size_t                    nmembers;
    size_t                    nmessages;    /* "messages" items walked */
    uint64_t                  message_tokens;  /* their contents' text */
    unsigned                  vision:1;     /* a message has an image */
    unsigned                  refused:1;    /* a message refused: err */
    airouter_params_error_t   err;          /* the first one refused */

    /* private */
    const char               *p;
    size_t                    n;

    /* last: a copy that keeps only the nmembers found may end after
     * them (AIROUTER_JSCAN_SIZE) */
    airouter_jscan_member_t   member[AIROUTER_JSCAN_MEMBERS];
} airouter_jscan_t;

/* The bytes of a scan whose first n members are all it keeps. */
#define AIROUTER_JSCAN_SIZE(n)                                               \
    (offsetof(airouter_jscan_t, member) + (n) * sizeof(airouter_jscan_member_t))


airouter_jscan_status_e airouter_jscan_body(airouter_jscan_t *s,
    const char *p, size_t n);

/* The member named key (no escapes in key), or NULL. */
const airouter_jscan_member_t *airouter_jscan_get(const airouter_jscan_t *s,
    const char *key);

/*
 * A string member's value: *out points at it (into the body when it has
 * no escape, else into buf, which holds m->end - m->start bytes); returns
 * its length.
 */
size_t airouter_jscan_string(const airouter_jscan_t *s,
    const airouter_jscan_member_t *m, char *buf, const char **out);

/*
 * The span [*from, *to) of the body to cut so that member i is gone and
 * what stays is the same object without it (its comma goes too).
 */
void airouter_jscan_cut(const airouter_jscan_t *s, size_t i, size_t *from,
    size_t *to);

/*
 * After the caller took that span out of the body: p, n is the new text
 * (the body without [from, to)); member i is gone from the scan and the
 * spans after it moved, so that the scan describes p as it did the body.
 */
void airouter_jscan_drop(airouter_jscan_t *s, size_t i, const char *p,
    size_t n);

#endif /* AIROUTER_JSCAN_H */
