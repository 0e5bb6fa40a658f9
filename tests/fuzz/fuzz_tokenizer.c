/*
 * Token counting (airouter_tokenizer.c) on arbitrary bytes, invalid UTF-8
 * included.  Tokenizers: two tiny hand-made rank files (every single byte
 * plus a few merges of a, b, c, d; one named for cl100k_base, one for
 * o200k_base) and, when AIROUTER_TIKTOKEN_DIR names tiktoken's encoders
 * directory (make test sets it), the real o200k_base and cl100k_base.
 * The tokenizer has no encode(), so the oracles are:
 *
 *   - every count is at most the byte length and at least 1 for
 *     non-empty text (BPE starts from single bytes and only merges), and
 *     counting twice gives the same number;
 *   - with no tokenizer the count is airouter_tokenizer_estimate(), which
 *     is also between 1 and the byte length;
 *   - a differential BPE: the input mapped to the letters a-d is one
 *     pre-tokenization piece, so its count with a tiny tokenizer must
 *     equal a naive reference merge over the same ranks (this reaches
 *     both the in-place merge of short pieces and the heap merge of long
 *     ones).
 */

#include <string.h>

#include "fuzz.h"
#include "airouter_tokenizer.h"


#define NTK  4

static airouter_tokenizer_t  *tks[NTK];
static const char            *tk_names[NTK];

static const char  *merges[] = {
    "ab", "cd", "abcd", "aa", "aaaa", "bc", "ca", "abc", "bcd", "dd", "ddd",
    "dddd", "aab", "cab", "da", "abcda", "bb", "bbbb", "bbbbbbbb", "dab"
};

#define NMERGES  (sizeof(merges) / sizeof(merges[0]))


static airouter_tokenizer_t *load_tiny(const char *name);
static size_t b64(const unsigned char *in, size_t n, char *out);
static size_t reference_bpe(const char *p, size_t n);
static long rank_of(const char *p, size_t n);


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char         path[4096], err[256];
    const char  *dir;

    (void) argc;
    (void) argv;

    tks[0] = load_tiny("tiny_cl100k.tiktoken");
    tk_names[0] = "tiny cl100k";
    tks[1] = load_tiny("tiny_o200k.tiktoken");
    tk_names[1] = "tiny o200k";

    dir = getenv("AIROUTER_TIKTOKEN_DIR");

    if (dir != NULL && dir[0] != '\0') {
        snprintf(path, sizeof(path), "%s/o200k_base.json", dir);
        tks[2] = airouter_tokenizer_load(path, err, sizeof(err));
        tk_names[2] = "o200k_base";
        snprintf(path, sizeof(path), "%s/cl100k_base.json", dir);
        tks[3] = airouter_tokenizer_load(path, err, sizeof(err));
        tk_names[3] = "cl100k_base";

        if (tks[2] == NULL || tks[3] == NULL) {
            fprintf(stderr, "fuzz_tokenizer: %s: %s (counting with the "
                    "tiny rank files only)\n", dir, err);
        }
    }

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char        *letters;
    size_t       i, c, c2, est, ref;
    const char  *p;

    if (tks[0] == NULL) {
        LLVMFuzzerInitialize(NULL, NULL);
    }

    p = (const char *) data;

    est = airouter_tokenizer_estimate(p, size);
    FUZZ_CHECK(est <= size && (size == 0 || est >= 1), "estimate %zu for "
               "%zu bytes", est, size);
    FUZZ_CHECK(airouter_tokenizer_count(NULL, p, size) == est,
               "count without a tokenizer is not the estimate");

    for (i = 0; i < NTK; i++) {
        if (tks[i] == NULL) {
            continue;
        }

        c = airouter_tokenizer_count(tks[i], p, size);
        FUZZ_CHECK(c <= size && (size == 0 || c >= 1), "%s: %zu tokens for "
                   "%zu bytes", tk_names[i], c, size);

        c2 = airouter_tokenizer_count(tks[i], p, size);
        FUZZ_CHECK(c == c2, "%s: %zu then %zu", tk_names[i], c, c2);
    }

    /* one piece of letters: the merge against a naive one */
    letters = malloc(size ? size : 1);
    if (letters == NULL) {
        abort();
    }

    for (i = 0; i < size; i++) {
        letters[i] = (char) ('a' + data[i] % 4);
    }

    ref = reference_bpe(letters, size);

    for (i = 0; i < 2; i++) {
        c = airouter_tokenizer_count(tks[i], letters, size);
        FUZZ_CHECK(c == ref, "%s: %zu tokens for %.*s, reference %zu",
                   tk_names[i], c, (int) (size < 200 ? size : 200), letters,
                   ref);
    }

    free(letters);

    return 0;
}


/* tiktoken's merge, the obvious O(n^2) way. */
static size_t
reference_bpe(const char *p, size_t n)
{
    long     r, best;
    size_t   i, k, parts, *bound;

    if (n == 0) {
        return 0;
    }

    bound = malloc((n + 1) * sizeof(size_t));
    if (bound == NULL) {
        abort();
    }

    for (i = 0; i <= n; i++) {
        bound[i] = i;
    }

    parts = n;

    while (parts > 1) {
        best = -1;
        k = 0;

        for (i = 0; i + 1 < parts; i++) {
            r = rank_of(p + bound[i], bound[i + 2] - bound[i]);
            if (r >= 0 && (best < 0 || r < best)) {
                best = r;
                k = i;
            }
        }

        if (best < 0) {
            break;
        }

        memmove(&bound[k + 1], &bound[k + 2],
                (parts - k - 1) * sizeof(size_t));
        parts--;
    }

    free(bound);

    return parts;
}


static long
rank_of(const char *p, size_t n)
{
    size_t  i;

    if (n == 1) {
        return (unsigned char) p[0];
    }

    for (i = 0; i < NMERGES; i++) {
        if (strlen(merges[i]) == n && memcmp(merges[i], p, n) == 0) {
            return (long) (256 + i);
        }
    }

    return -1;
}


/* The classic .tiktoken text: "<base64 token> <rank>" per line. */
static airouter_tokenizer_t *
load_tiny(const char *name)
{
    char                   *text, err[256];
    size_t                  i, len;
    unsigned char           byte;
    airouter_tokenizer_t   *tk;

    text = malloc(64 * (256 + NMERGES));
    if (text == NULL) {
        abort();
    }

    len = 0;

    for (i = 0; i < 256; i++) {
        byte = (unsigned char) i;
        len += b64(&byte, 1, text + len);
        len += (size_t) sprintf(text + len, " %zu\n", i);
    }

    for (i = 0; i < NMERGES; i++) {
        len += b64((const unsigned char *) merges[i], strlen(merges[i]),
                   text + len);
        len += (size_t) sprintf(text + len, " %zu\n", 256 + i);
    }

    tk = airouter_tokenizer_load_buf(text, len, name, err, sizeof(err));
    free(text);

    if (tk == NULL) {
        fprintf(stderr, "%s: %s\n", name, err);
        abort();
    }

    return tk;
}


static size_t
b64(const unsigned char *in, size_t n, char *out)
{
    size_t    i, o;
    uint32_t  v;

    static const char  abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    o = 0;

    for (i = 0; i < n; i += 3) {
        v = (uint32_t) in[i] << 16;
        if (i + 1 < n) {
            v |= (uint32_t) in[i + 1] << 8;
        }
        if (i + 2 < n) {
            v |= in[i + 2];
        }

        out[o++] = abc[(v >> 18) & 63];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? abc[v & 63] : '=';
    }

    return o;
}
