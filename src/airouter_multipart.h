/*
 * A streaming multipart/form-data scanner (RFC 7578, RFC 2046 section
 * 5.1): the body is fed in pieces of any size, as nginx holds it (memory
 * buffers, a temporary file read in chunks), and the scanner keeps only a
 * few hundred bytes of its own: a header line, and the value of a small
 * field.  A file part is passed over, never held.
 *
 * What it finds: the "model" field (its text and where its value lies in
 * the body, so the caller can splice another model id in without copying
 * the rest), the other small fields (through a callback, "stream" or
 * "response_format" say how to relay the answer) and how many file parts
 * there are.
 *
 * Called by the API handler for /v1/audio/transcriptions, /translations
 * and /v1/images/edits, /variations; pure C, fuzzed (fuzz_multipart).
 */

#ifndef AIROUTER_MULTIPART_H
#define AIROUTER_MULTIPART_H

#include <stddef.h>
#include <stdint.h>


#define AIROUTER_MP_BOUNDARY_MAX   200   /* RFC 2046 says 70; some send more */
#define AIROUTER_MP_LINE_MAX       1024  /* one part header line */
#define AIROUTER_MP_NAME_MAX       64    /* a field's name */
#define AIROUTER_MP_VALUE_MAX      256   /* a small field's value kept */


typedef enum {
    AIROUTER_MP_AGAIN = 0,     /* fed; the closing delimiter not seen yet */
    AIROUTER_MP_DONE,          /* the closing delimiter was seen */
    AIROUTER_MP_ERROR          /* not multipart/form-data: see error */
} airouter_mp_rc_e;


/* A field that is not a file, as the callback gets it. */
typedef struct {
    const char               *name;
    size_t                    name_len;
    const char               *value;        /* the first VALUE_MAX bytes */
    size_t                    value_len;
    unsigned                  truncated:1;  /* the value was longer */
    uint64_t                  start;        /* its value in the body: */
    uint64_t                  end;          /* [start, end) */
} airouter_mp_field_t;

typedef void (*airouter_mp_field_pt)(void *ctx, const airouter_mp_field_t *f);


typedef struct {
    /* results */
    unsigned                  has_model:1;
    unsigned                  model_truncated:1;
    char                      model[AIROUTER_MP_VALUE_MAX + 1];
    size_t                    model_len;
    uint64_t                  model_start;  /* the model's value in the */
    uint64_t                  model_end;    /* body: [start, end) */
    uint32_t                  files;        /* parts with a filename */
    uint32_t                  parts;
    uint64_t                  consumed;     /* bytes fed */
    const char               *error;        /* static text, on ERROR */

    /* optional: each small field when its part ends */
    airouter_mp_field_pt      field;
    void                     *ctx;

    /* private */
    int                       state;
    unsigned char             delim[AIROUTER_MP_BOUNDARY_MAX + 4];
    size_t                    dlen;         /* CRLF "--" boundary */
    uint16_t                  fail[AIROUTER_MP_BOUNDARY_MAX + 4];
    size_t                    matched;      /* of delim, so far */
    char                      line[AIROUTER_MP_LINE_MAX];
    size_t                    line_len;
    char                      name[AIROUTER_MP_NAME_MAX + 1];
    size_t                    name_len;
    unsigned                  named:1;      /* Content-Disposition seen */
    unsigned                  is_file:1;
    unsigned                  cr:1;
    unsigned                  dashes;       /* after a delimiter */
    uint64_t                  part_start;
    unsigned char             value[AIROUTER_MP_VALUE_MAX
                                    + AIROUTER_MP_BOUNDARY_MAX + 4];
    size_t                    value_len;
} airouter_mp_t;


/*
 * The boundary parameter of a Content-Type value
 * ("multipart/form-data; boundary=----x" or quoted).  Returns 0 and points
 * *b into ct, or -1 when ct is not multipart/form-data or has no usable
 * boundary (empty, longer than AIROUTER_MP_BOUNDARY_MAX).
 */
int airouter_mp_boundary(const char *ct, size_t len, const char **b,
    size_t *blen);

/* Starts a scan; -1 for an unusable boundary. */
int airouter_mp_init(airouter_mp_t *mp, const char *boundary, size_t len);

/* Feeds the next len bytes of the body. */
airouter_mp_rc_e airouter_mp_feed(airouter_mp_t *mp, const char *data,
    size_t len);

#endif /* AIROUTER_MULTIPART_H */
