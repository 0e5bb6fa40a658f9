/*
 * Rank-file loading (airouter_tokenizer_load_buf) on arbitrary bytes: the
 * first byte picks the file name (which can decide the encoding), the rest
 * is the file: tiktoken JSON, js-tiktoken's module, or .tiktoken text.
 * Oracles: a refusal leaves a message; a loaded tokenizer names its
 * encoding, has ranks, and counts text (fixed strings and the input
 * itself) within [1, length] tokens.
 */

#include <string.h>

#include "fuzz.h"
#include "airouter_tokenizer.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                   err[256];
    size_t                 i, c;
    airouter_tokenizer_t  *tk;

    static const char  *names[] = {
        "ranks.json", "o200k_base.json", "cl100k_base.json", "o200k_base.js",
        "cl100k_base.tiktoken", "o200k_base.tiktoken", "ranks.tiktoken", ""
    };

    static const char  *texts[] = {
        "Hello, world!", "  don't  ", "\xe4\xbd\xa0\xe5\xa5\xbd",
        "\xff\xfe\xc3", "12345678901", "a\r\n\r\nb", "\xf0\x9f\x98\x80!"
    };

    if (size < 1) {
        return 0;
    }

    err[0] = '\0';
    tk = airouter_tokenizer_load_buf((const char *) data + 1, size - 1,
                                     names[data[0] % 8], err, sizeof(err));

    if (tk == NULL) {
        FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL,
                   "refused without a message");
        return 0;
    }

    FUZZ_CHECK(airouter_tokenizer_ranks(tk) > 0, "loaded with no ranks");
    FUZZ_CHECK(airouter_tokenizer_encoding_name(tk) != NULL, "no encoding");

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        c = airouter_tokenizer_count(tk, texts[i], strlen(texts[i]));
        FUZZ_CHECK(c >= 1 && c <= strlen(texts[i]), "%zu tokens for %s", c,
                   texts[i]);
    }

    c = airouter_tokenizer_count(tk, (const char *) data, size);
    FUZZ_CHECK(c >= 1 && c <= size, "%zu tokens for the input", c);

    airouter_tokenizer_free(tk);

    return 0;
}
