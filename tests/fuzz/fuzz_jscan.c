/*
 * The request scanner (airouter_jscan.c) on arbitrary bytes, with jansson
 * as the oracle (tests/unit/jscan_oracle.h): the verdict, every member,
 * the counted texts and the message checks are what the API computes
 * from jansson's tree, for chat, a prompt and rerank's members.
 */

#include "fuzz.h"
#include "jscan_oracle.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char  why[512];

    FUZZ_CHECK(jscan_oracle((const char *) data, size, NULL, why,
                            sizeof(why)) == 0, "%s", why);

    return 0;
}
