/*
 * The streaming multipart/form-data scanner (airouter_multipart.c): the
 * boundary parameter, the model field and where its value lies whatever
 * the feeds' sizes, file parts passed over (near-delimiters in them
 * included), the small fields' callback, and the malformed bodies it
 * refuses.
 */

#include "unit.h"
#include "airouter_multipart.h"


#define B  "----WebKitFormBoundary7MA4YWxkTrZu0gW"


typedef struct {
    char      names[512];
    size_t    n;
} seen_t;


static void
on_field(void *ctx, const airouter_mp_field_t *f)
{
    seen_t  *s = ctx;

    s->n += snprintf(s->names + s->n, sizeof(s->names) - s->n, "%s%.*s=%.*s%s",
                     s->n ? "," : "", (int) f->name_len, f->name,
                     (int) f->value_len, f->value, f->truncated ? "..." : "");
}


/* Scans body in pieces of step bytes (0: one piece); returns the rc. */
static airouter_mp_rc_e
scan(airouter_mp_t *mp, const char *boundary, const char *body, size_t len,
    size_t step, seen_t *seen)
{
    size_t            i, n;
    airouter_mp_rc_e  rc;

    UNIT_CHECK(airouter_mp_init(mp, boundary, strlen(boundary)) == 0,
               "init");

    if (seen) {
        memset(seen, 0, sizeof(*seen));
        mp->field = on_field;
        mp->ctx = seen;
    }

    if (step == 0) {
        return airouter_mp_feed(mp, body, len);
    }

    rc = AIROUTER_MP_AGAIN;

    for (i = 0; i < len && rc != AIROUTER_MP_ERROR; i += n) {
        n = len - i < step ? len - i : step;
        rc = airouter_mp_feed(mp, body + i, n);
    }

    return rc;
}


static void
test_boundary(void)
{
    size_t       i, n;
    const char  *b;

    static const char  *bad[] = {
        "application/json",
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-dataX; boundary=a",
        "multipart/mixed; boundary=a",
        "multipart/form-data; boundary=\"abc",
        "multipart/form-data; charset=utf-8",
    };

#define BOUNDARY_IS(ct, want)                                                 \
    b = NULL;                                                                 \
    UNIT_CHECK(airouter_mp_boundary(ct, strlen(ct), &b, &n) == 0              \
               && n == strlen(want) && memcmp(b, want, n) == 0,               \
               "boundary of %s", ct)

    BOUNDARY_IS("multipart/form-data; boundary=" B, B);
    BOUNDARY_IS("Multipart/Form-Data;boundary=abc", "abc");
    BOUNDARY_IS("multipart/form-data; charset=utf-8; BOUNDARY=\"a b;c\"",
                "a b;c");
    BOUNDARY_IS("multipart/form-data; boundary=xyz ; charset=utf-8", "xyz");

#undef BOUNDARY_IS

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        UNIT_CHECK(airouter_mp_boundary(bad[i], strlen(bad[i]), &b, &n)
                   == -1, "refused: %s", bad[i]);
    }

    {
        char  long_ct[400];

        memset(long_ct, 'x', sizeof(long_ct));
        memcpy(long_ct, "multipart/form-data; boundary=", 30);
        UNIT_CHECK(airouter_mp_boundary(long_ct, sizeof(long_ct), &b, &n)
                   == -1, "a boundary over 200 bytes");
    }
}


static void
test_model_positions(void)
{
    size_t           len, step;
    const char      *p;
    seen_t           seen;
    airouter_mp_t    mp;
    char             body[4096];

    /* the SDK's order: the file first, the model after it; the file holds
     * near-delimiters, a CR LF "--" and most of the boundary */
    len = (size_t) snprintf(body, sizeof(body),
        "--" B "\r\n"
        "Content-Disposition: form-data; name=\"file\"; "
        "filename=\"speech.wav\"\r\n"
        "Content-Type: audio/wav\r\n"
        "\r\n"
        "RIFF\r\n--" "----WebKitFormBoundary7MA4YWxkTrZu0g" "\r\n-\r\n--"
        "--" B "x\r\n\r\n\r\n-----WebKitFormBoundary"
        "\r\n--" B "\r\n"
        "content-disposition: form-data; name=\"model\"\r\n"
        "\r\n"
        "whisper-1"
        "\r\n--" B "\r\n"
        "Content-Disposition: form-data; name=\"response_format\"\r\n"
        "\r\n"
        "json"
        "\r\n--" B "--\r\n"
        "an epilogue, ignored\r\n--" B "\r\n");

    p = strstr(body, "whisper-1");

    for (step = 0; step <= len; step = step ? step * 2 + 1 : 1) {
        UNIT_CHECK(scan(&mp, B, body, len, step, &seen) == AIROUTER_MP_DONE,
                   "step %zu: done", step);
        UNIT_CHECK(mp.has_model && mp.model_len == 9
                   && strcmp(mp.model, "whisper-1") == 0
                   && mp.model_start == (uint64_t) (p - body)
                   && mp.model_end == (uint64_t) (p - body + 9),
                   "step %zu: model %s at %llu-%llu", step, mp.model,
                   (unsigned long long) mp.model_start,
                   (unsigned long long) mp.model_end);
        UNIT_CHECK(mp.files == 1 && mp.parts == 3, "step %zu: parts %u/%u",
                   step, mp.files, mp.parts);
        UNIT_STREQ(seen.names, "model=whisper-1,response_format=json");
        UNIT_CHECK(mp.consumed == len, "all consumed");
    }
}


static void
test_shapes(void)
{
    size_t          len;
    seen_t          seen;
    airouter_mp_t   mp;
    char            body[2048], big[600];

    /* a preamble, transport padding, the model first, an empty field, a
     * filename* file, LF-only header lines */
    len = (size_t) snprintf(body, sizeof(body),
        "this is a preamble\r\n"
        "--abc  \t\r\n"
        "Content-Disposition: form-data; name=model\r\n\r\n"
        "tag:free,whisper\r\n"
        "--abc\r\n"
        "Content-Disposition: form-data; name=\"prompt\"\r\n\r\n"
        "\r\n"
        "--abc\n"
        "Content-Disposition: form-data; name=\"image\"; "
        "filename*=UTF-8''a%%20b.png\n"
        "\n"
        "\x89PNG\r\n--ab\r\n--abd"
        "\r\n--abc--");

    UNIT_CHECK(scan(&mp, "abc", body, len, 0, &seen) == AIROUTER_MP_DONE,
               "shapes: done");
    UNIT_STREQ(mp.model, "tag:free,whisper");
    UNIT_STREQ(seen.names, "model=tag:free,whisper,prompt=");
    UNIT_CHECK(mp.files == 1 && mp.parts == 3, "filename* is a file");

    /* a value longer than kept: cut, flagged, its place still exact */
    memset(big, 'm', sizeof(big));
    len = (size_t) snprintf(body, sizeof(body),
        "--z\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\n"
        "%.*s\r\n--z--", (int) sizeof(big), big);

    UNIT_CHECK(scan(&mp, "z", body, len, 7, NULL) == AIROUTER_MP_DONE,
               "long: done");
    UNIT_CHECK(mp.has_model && mp.model_truncated
               && mp.model_len == AIROUTER_MP_VALUE_MAX
               && mp.model_end - mp.model_start == sizeof(big),
               "long model: %zu kept of %llu", mp.model_len,
               (unsigned long long) (mp.model_end - mp.model_start));

    /* no model at all; a body that never closes */
    len = (size_t) snprintf(body, sizeof(body),
        "--z\r\nContent-Disposition: form-data; name=\"file\"; "
        "filename=\"a\"\r\n\r\nxyz\r\n--z--\r\n");
    UNIT_CHECK(scan(&mp, "z", body, len, 0, NULL) == AIROUTER_MP_DONE
               && !mp.has_model && mp.files == 1, "no model");
    UNIT_CHECK(scan(&mp, "z", body, len - 8, 0, NULL) == AIROUTER_MP_AGAIN,
               "not closed: again");
    UNIT_CHECK(scan(&mp, "z", "", 0, 0, NULL) == AIROUTER_MP_AGAIN,
               "empty: again");
}


static void
test_errors(void)
{
    size_t          i;
    airouter_mp_t   mp;
    char            line[1200];

    static const struct {
        const char  *body;
        const char  *why;
    } bad[] = {
        { "--z\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\na"
          "\r\n--z\r\nContent-Disposition: form-data; name=model\r\n\r\nb"
          "\r\n--z--", "more than one \"model\" field" },
        { "--z-\r\n", "a delimiter is followed by one '-'" },
        { "--zz\r\n", "a delimiter is followed by text" },
        { "--z\r \r\n", "a delimiter line ends badly" },
        { "--z\r\nno colon here\r\n\r\n", "a part's header line has no ':'" },
        { "--z\r\nContent-Disposition: form-data; name=\"aaaaaaaaaaaaaaaaaaaa"
          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\r\n\r\n",
          "a field name is too long" }
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        UNIT_CHECK(scan(&mp, "z", bad[i].body, strlen(bad[i].body), 1, NULL)
                   == AIROUTER_MP_ERROR && mp.error != NULL
                   && strcmp(mp.error, bad[i].why) == 0,
                   "error %zu: %s", i, mp.error ? mp.error : "(none)");
    }

    /* sticky */
    UNIT_CHECK(airouter_mp_feed(&mp, "--z--", 5) == AIROUTER_MP_ERROR,
               "an error stays");

    memset(line, 'h', sizeof(line));
    memcpy(line, "--z\r\nX: ", 8);
    UNIT_CHECK(scan(&mp, "z", line, sizeof(line), 0, NULL)
               == AIROUTER_MP_ERROR
               && strcmp(mp.error, "a part's header line is too long") == 0,
               "long header line");

    UNIT_CHECK(airouter_mp_init(&mp, "", 0) == -1, "empty boundary");
    UNIT_CHECK(airouter_mp_init(&mp, line, AIROUTER_MP_BOUNDARY_MAX + 1)
               == -1, "boundary too long");
}


int
main(void)
{
    test_boundary();
    test_model_positions();
    test_shapes();
    test_errors();

    UNIT_DONE("test_multipart");
}
