/*
 * Finding one member of a JSON object in its text, without building a
 * tree.  The proxy's hot path uses it twice per request: to splice the
 * chosen model id into the client's body bytes (instead of serialising
 * the whole document again) and to read an answer's "usage" object
 * (instead of parsing the whole answer).
 *
 * The walk is exact about strings (escapes, quotes inside values) and
 * nesting, and lenient about what it skips: it does not validate numbers
 * or literals, so callers use it on text jansson accepted, or treat a
 * wrong answer as "not found".  The strict walk (airouter_json_member_valid)
 * validates everything it passes, as jansson would read it, so that one
 * pass over an upstream's answer both finds a member and says whether the
 * answer is JSON at all.
 *
 * Pure C.
 */

#ifndef AIROUTER_JSON_SCAN_H
#define AIROUTER_JSON_SCAN_H

#include <stddef.h>


typedef struct {
    size_t                    start;        /* first byte of the value */
    size_t                    end;          /* one past its last byte */
    size_t                    key_start;    /* the member's opening '"' */
    size_t                    key_end;      /* one past its closing '"' */
    size_t                    open;         /* one past the object's '{' */
} airouter_json_span_t;


/* A walk over the members of an object, in order. */
typedef struct {
    const char               *p;
    size_t                    n;
    size_t                    i;
    size_t                    open;
    int                       done;
} airouter_json_iter_t;


/* Nesting deeper than this is refused, as jansson refuses it. */
#define AIROUTER_JSON_MAX_DEPTH  2048


/* Returns 0, or -1 when p does not start (after white space) with '{'. */
int airouter_json_iter_init(airouter_json_iter_t *it, const char *p,
    size_t n);

/*
 * The next member: 1 with *span filled, 0 after the last one (and nothing
 * but white space after the object), -1 when the walk cannot go on (bad
 * text, or a key with an escape: it might spell any name).
 */
int airouter_json_iter_next(airouter_json_iter_t *it,
    airouter_json_span_t *span);

/* The member's key is key (no escapes: airouter_json_iter_next says). */
int airouter_json_key_is(const char *p, const airouter_json_span_t *span,
    const char *key);


/*
 * The value of the top-level object's member key (the last one when the
 * key repeats, as jansson keeps).  Returns 1 with *span filled, 0 when the
 * object has no such member, -1 when p is not an object the walk can
 * follow, or a key holds an escape (it might spell key: the caller takes
 * its slow path).
 */
int airouter_json_member(const char *p, size_t n, const char *key,
    airouter_json_span_t *span);

/*
 * As airouter_json_member(), and -1 also when the text is not one valid
 * JSON object: syntax, string escapes, UTF-8, nesting depth and number
 * range (an integer in 64 bits, a real short of infinity) as jansson
 * reads them.
 */
int airouter_json_member_valid(const char *p, size_t n, const char *key,
    airouter_json_span_t *span);

/*
 * Whether p is one JSON object or array with only white space around it:
 * 0 yes, -1 no, -2 it is the start of one (the text ends too early).  The
 * checks are airouter_json_member_valid()'s.
 */
int airouter_json_valid(const char *p, size_t n);

/*
 * One value at p + *i, validated as airouter_json_valid() validates:
 * 0 with *i one past it, -1 not JSON, -2 the text ends inside it.  outer
 * is the nesting depth around it (it may nest AIROUTER_JSON_MAX_DEPTH -
 * outer more levels).  airouter_json_string_at() is the same for a string
 * (*i at its opening quote).
 */
int airouter_json_value_at(const char *p, size_t n, size_t *i, size_t outer);
int airouter_json_string_at(const char *p, size_t n, size_t *i);

/*
 * A walk over the elements of an array, in text airouter_json_valid()
 * accepted: init with p at (white space and) '[' (-1 otherwise), next
 * gives each element's span (start, end): 1, then 0 after the last one,
 * -1 when the text is not what it should be.
 */
int airouter_json_array_init(airouter_json_iter_t *it, const char *p,
    size_t n);
int airouter_json_array_next(airouter_json_iter_t *it,
    airouter_json_span_t *span);

/*
 * The value of the valid JSON string p[0..n) (its quotes included), its
 * escapes decoded to UTF-8 as jansson decodes them, into out, which may
 * be p itself (the value is never longer than its text).  Returns the
 * value's length, or -1 when p is not a string.
 */
long airouter_json_unescape(const char *p, size_t n, char *out);

/*
 * Writes s as a JSON string (quotes included) into out, which must hold
 * airouter_json_quoted_len(s, len) bytes; returns the bytes written.
 */
size_t airouter_json_quoted_len(const char *s, size_t len);
size_t airouter_json_quote(char *out, const char *s, size_t len);

#endif /* AIROUTER_JSON_SCAN_H */
