/*
 * airouter_json_fixed: exponents rewritten as fixed notation on hand-made
 * cases, strings left alone, and jansson's own output for many reals
 * read back as the same double.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "unit.h"
#include "airouter_json_fixed.h"


static const char *fixed(const char *text);
static void test_cases(void);
static void test_jansson(void);


static const char *
fixed(const char *text)
{
    static char  buf[4096];
    size_t       len, need, n;

    len = strlen(text);
    need = airouter_json_fixed(text, len, NULL);
    n = airouter_json_fixed(text, len, buf);
    buf[n] = '\0';

    UNIT_CHECK(n == need, "%s: measured %zu, wrote %zu", text, need, n);

    return buf;
}


static void
test_cases(void)
{
    UNIT_STREQ(fixed("{\"cost\":3.45e-6}"), "{\"cost\":0.00000345}");
    UNIT_STREQ(fixed("[1.11e-5,2e-8,-1.25e-7]"),
               "[0.0000111,0.00000002,-0.000000125]");
    UNIT_STREQ(fixed("{\"a\":1.5E-1}"), "{\"a\":0.15}");
    UNIT_STREQ(fixed("[12.5e-1]"), "[1.25]");

    /* nothing to do: plain numbers, positive exponents, very small ones */
    UNIT_STREQ(fixed("{\"n\":12,\"r\":0.5,\"b\":1e20,\"c\":2e+3}"),
               "{\"n\":12,\"r\":0.5,\"b\":1e20,\"c\":2e+3}");
    UNIT_STREQ(fixed("[1e-300,5e-25]"), "[1e-300,5e-25]");
    UNIT_STREQ(fixed("[1e-24]"), "[0.000000000000000000000001]");
    UNIT_STREQ(fixed("[true,false,null,-0.0,-3]"),
               "[true,false,null,-0.0,-3]");

    /* strings, escapes and keys are not numbers */
    UNIT_STREQ(fixed("{\"m\":\"gpt-4o 3e-5 \\\"1e-5\\\" \\\\\",\"k\":1e-5}"),
               "{\"m\":\"gpt-4o 3e-5 \\\"1e-5\\\" \\\\\",\"k\":0.00001}");
    UNIT_STREQ(fixed("{\"2e-5\":\"x\"}"), "{\"2e-5\":\"x\"}");
    UNIT_STREQ(fixed(""), "");

    UNIT_CHECK(airouter_json_fixed("[1,2]", 5, NULL) == 5, "unchanged");
}


/* What jansson writes, rewritten, reads back as the same real. */
static void
test_jansson(void)
{
    int          i, bad;
    char        *text, *out;
    size_t       len, n;
    double       v, got;
    json_t      *j, *back;

    bad = 0;
    v = 1.0;

    for (i = 0; i < 4000; i++) {
        v = (i % 2 ? -1 : 1) * (1.0 + (i % 97) / 7.0)
            * (i % 3 ? 1e-1 : 1e-3) / (double) (1 + i % 1000) / 1e3;

        j = json_pack("{s:f}", "v", v);
        text = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10));
        len = strlen(text);

        out = malloc(airouter_json_fixed(text, len, NULL) + 1);
        n = airouter_json_fixed(text, len, out);
        out[n] = '\0';

        back = json_loads(out, 0, NULL);
        got = back ? json_real_value(json_object_get(back, "v")) : 0;

        if (back == NULL || strchr(out, 'e') != NULL) {
            bad++;

        } else {
            /* the same digits: equal to what jansson's text reads as */
            json_decref(back);
            back = json_loads(text, 0, NULL);
            bad += (json_real_value(json_object_get(back, "v")) != got);
        }

        json_decref(back);
        json_decref(j);
        free(text);
        free(out);
    }

    UNIT_CHECK(bad == 0, "%d of 4000 reals differ or kept an exponent", bad);
}


int
main(void)
{
    test_cases();
    test_jansson();

    UNIT_DONE("test_json_fixed");
}
