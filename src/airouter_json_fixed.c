/*
 * JSON numbers in exponent notation rewritten in fixed notation
 * (airouter_json_fixed.h).  One pass over the text; a number is rewritten
 * only when it has a negative exponent within the limit.
 */

#include <string.h>

#include "airouter_json_fixed.h"


static size_t airouter_json_fixed_number(const char *p, size_t len,
    char *out);
static size_t airouter_json_fixed_put(char *out, size_t at, char c);


size_t
airouter_json_fixed(const char *text, size_t len, char *out)
{
    int     in_string;
    size_t  i, b, n;

    in_string = 0;
    n = 0;

    for (i = 0; i < len; /* void */) {

        if (in_string) {
            if (text[i] == '\\' && i + 1 < len) {
                n = airouter_json_fixed_put(out, n, text[i++]);

            } else if (text[i] == '"') {
                in_string = 0;
            }

            n = airouter_json_fixed_put(out, n, text[i++]);
            continue;
        }

        if (text[i] == '"') {
            in_string = 1;
            n = airouter_json_fixed_put(out, n, text[i++]);
            continue;
        }

        /* outside strings only numbers hold digits and '-' */
        if (text[i] != '-' && !(text[i] >= '0' && text[i] <= '9')) {
            n = airouter_json_fixed_put(out, n, text[i++]);
            continue;
        }

        b = i;

        while (i < len
               && ((text[i] >= '0' && text[i] <= '9') || text[i] == '-'
                   || text[i] == '+' || text[i] == '.' || text[i] == 'e'
                   || text[i] == 'E'))
        {
            i++;
        }

        n += airouter_json_fixed_number(text + b, i - b,
                                        out ? out + n : NULL);
    }

    return n;
}


/*
 * One number: "-1.25e-7" -> "-0.000000125".  The digits are the
 * mantissa's, in order; the point moves left by the exponent.  Anything
 * else is copied as it is.
 */
static size_t
airouter_json_fixed_number(const char *p, size_t len, char *out)
{
    int      neg;
    long     exp;
    char     buf[64];
    size_t   i, e, n, k, ndigits, intlen;

    for (e = 0; e < len && p[e] != 'e' && p[e] != 'E'; e++) {
        /* void */
    }

    /* "e-" and one to three digits */
    exp = 0;

    if (e + 2 < len && p[e + 1] == '-' && len - (e + 2) <= 3) {
        for (i = e + 2; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
            exp = exp * 10 + (p[i] - '0');
        }

        if (i < len) {
            exp = 0;
        }
    }

    if (exp == 0 || exp > AIROUTER_JSON_FIXED_MIN_EXP) {
        if (out) {
            memcpy(out, p, len);
        }

        return len;
    }

    /* the mantissa: [-]I[.F], its digits I F without the point */
    neg = (p[0] == '-');
    i = neg ? 1 : 0;
    n = 0;
    intlen = 0;

    for ( /* void */ ; i < e; i++) {
        if (p[i] == '.') {
            intlen = n;
            continue;
        }

        if (n == sizeof(buf) || p[i] < '0' || p[i] > '9') {
            if (out) {
                memcpy(out, p, len);
            }

            return len;
        }

        buf[n++] = p[i];
    }

    if (n == 0) {
        if (out) {
            memcpy(out, p, len);
        }

        return len;
    }

    if (intlen == 0) {
        intlen = n;
    }

    ndigits = n;

    /* the point lands exp places left of where it is: before the digits */
    k = 0;

    if (neg) {
        k = airouter_json_fixed_put(out, k, '-');
    }

    if ((long) intlen - exp <= 0) {
        k = airouter_json_fixed_put(out, k, '0');
        k = airouter_json_fixed_put(out, k, '.');

        for (i = 0; (long) i < exp - (long) intlen; i++) {
            k = airouter_json_fixed_put(out, k, '0');
        }

        for (i = 0; i < ndigits; i++) {
            k = airouter_json_fixed_put(out, k, buf[i]);
        }

        return k;
    }

    /* "12.5e-1": the point inside the digits (exp < intlen <= ndigits) */
    for (i = 0; i < ndigits; i++) {
        if ((long) i == (long) intlen - exp) {
            k = airouter_json_fixed_put(out, k, '.');
        }

        k = airouter_json_fixed_put(out, k, buf[i]);
    }

    return k;
}


static size_t
airouter_json_fixed_put(char *out, size_t at, char c)
{
    if (out) {
        out[at] = c;
    }

    return at + 1;
}
