/*
 * The multipart/form-data scanner (airouter_multipart.c) on arbitrary
 * bodies.  The first byte picks the boundary's length (a prefix of a
 * fixed boundary with repeated dashes, the hard case for the delimiter
 * search), the second seeds the cuts; the rest is the body, also tried as
 * a Content-Type value.  Oracles: split invariance (one piece, byte by
 * byte and random pieces end alike: status, error, model, its place,
 * parts, files) and the model's place: inside the body, and holding the
 * model's text when it was kept whole.
 */

#include <string.h>

#include "fuzz.h"
#include "airouter_multipart.h"


static void compare(const airouter_mp_t *a, airouter_mp_rc_e ra,
    const airouter_mp_t *b, airouter_mp_rc_e rb, const char *how);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t             i, n, blen;
    uint32_t           rng;
    const char        *p, *b;
    airouter_mp_t      whole, bytes, cuts;
    airouter_mp_rc_e   rw, rb, rc;

    static const char  boundary[] = "----WebKitFormBoundary-7MA4--YWxk";

    if (size < 2) {
        return 0;
    }

    blen = 1 + data[0] % (sizeof(boundary) - 1);
    rng = 0x9e3779b9u ^ data[1];
    p = (const char *) data + 2;
    size -= 2;

    /* the body as a Content-Type: a boundary found lies inside it */
    if (airouter_mp_boundary(p, size, &b, &n) == 0) {
        FUZZ_CHECK(b >= p && b + n <= p + size && n > 0
                   && n <= AIROUTER_MP_BOUNDARY_MAX, "boundary %zu", n);
    }

    FUZZ_CHECK(airouter_mp_init(&whole, boundary, blen) == 0, "init");
    rw = airouter_mp_feed(&whole, p, size);

    FUZZ_CHECK(airouter_mp_init(&bytes, boundary, blen) == 0, "init");
    rb = AIROUTER_MP_AGAIN;
    for (i = 0; i < size && rb != AIROUTER_MP_ERROR; i++) {
        rb = airouter_mp_feed(&bytes, p + i, 1);
    }

    FUZZ_CHECK(airouter_mp_init(&cuts, boundary, blen) == 0, "init");
    rc = AIROUTER_MP_AGAIN;
    for (i = 0; i < size && rc != AIROUTER_MP_ERROR; i += n) {
        rng = rng * 1103515245u + 12345u;
        n = 1 + (rng >> 16) % 64;
        if (n > size - i) {
            n = size - i;
        }
        rc = airouter_mp_feed(&cuts, p + i, n);
    }

    compare(&whole, rw, &bytes, rb, "byte by byte");
    compare(&whole, rw, &cuts, rc, "cut");

    if (whole.has_model) {
        FUZZ_CHECK(whole.model_start <= whole.model_end
                   && whole.model_end <= size, "model at %llu-%llu of %zu",
                   (unsigned long long) whole.model_start,
                   (unsigned long long) whole.model_end, size);

        if (!whole.model_truncated) {
            FUZZ_CHECK(whole.model_end - whole.model_start
                       == whole.model_len
                       && memcmp(p + whole.model_start, whole.model,
                                 whole.model_len) == 0, "model text");
        }
    }

    FUZZ_CHECK(whole.files <= whole.parts, "files %u parts %u", whole.files,
               whole.parts);
    FUZZ_CHECK((rw == AIROUTER_MP_ERROR) == (whole.error != NULL), "error");

    return 0;
}


static void
compare(const airouter_mp_t *a, airouter_mp_rc_e ra, const airouter_mp_t *b,
    airouter_mp_rc_e rb, const char *how)
{
    FUZZ_CHECK(ra == rb, "%s: rc %d vs %d", how, ra, rb);
    FUZZ_CHECK((a->error == NULL && b->error == NULL)
               || (a->error && b->error && strcmp(a->error, b->error) == 0),
               "%s: error", how);
    FUZZ_CHECK(a->has_model == b->has_model
               && a->model_truncated == b->model_truncated
               && a->model_len == b->model_len
               && memcmp(a->model, b->model, a->model_len) == 0
               && a->model_start == b->model_start
               && a->model_end == b->model_end, "%s: model", how);
    FUZZ_CHECK(a->parts == b->parts && a->files == b->files,
               "%s: parts %u/%u files %u/%u", how, a->parts, b->parts,
               a->files, b->files);
}
