/*
 * Small numbers of a JSON text in fixed notation: jansson writes a real
 * below 1e-4 with an exponent (a cost of 3.45e-6 USD), which a person
 * reading the stats or a price has to decode.  The rewrite moves the
 * decimal point of the digits jansson wrote ("3.45e-6" -> "0.00000345"),
 * so the number is the same one, to the digit; nothing is formatted again.
 * Strings are left alone, and so are exponents above 0 or below
 * -AIROUTER_JSON_FIXED_MIN_EXP (a long run of zeros reads no better).
 *
 * Called by ngx_http_airouter_response.c on every JSON answer the module
 * writes itself.  Pure C.
 */

#ifndef AIROUTER_JSON_FIXED_H
#define AIROUTER_JSON_FIXED_H

#include <stddef.h>


#define AIROUTER_JSON_FIXED_MIN_EXP  24


/*
 * Writes text (len bytes, valid JSON) to out with its numbers rewritten
 * and returns the length written.  With out NULL it only returns the
 * length it would write: the same as len when there is nothing to do.
 */
size_t airouter_json_fixed(const char *text, size_t len, char *out);

#endif /* AIROUTER_JSON_FIXED_H */
