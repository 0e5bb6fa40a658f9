/*
 * Unit tests for airouter_tokenizer.c.
 *
 * Always: the byte estimate (and its error against the expected counts),
 * the .tiktoken and JSON loaders on tiny hand-made rank files, the BPE
 * merge on both of its paths, load errors and invalid UTF-8.
 *
 * With AIROUTER_TIKTOKEN_DIR naming a directory that holds tiktoken's
 * cl100k_base.json and o200k_base.json (node_modules/tiktoken/encoders):
 * every corpus file in tests/unit/data/tokenizer, whole and line by line,
 * must count exactly as tiktoken did (expected.json, written by
 * tests/tokenizer/gen_expected.mjs), for both encodings and from both rank
 * file formats.
 *
 * "test_tokenizer --bench" prints tokens/s and the estimate's error;
 * "test_tokenizer --check cases.json" compares random cases made by
 * tests/tokenizer/random_cases.mjs.  AIROUTER_TOKENIZER_DATA overrides the
 * corpus directory.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "airouter_tokenizer.h"
#include "unit.h"


#define DEFAULT_DATA_DIR  "tests/unit/data/tokenizer"


typedef struct {
    const char  *text;
    size_t       count;
} count_case_t;


static const char *data_dir(void);
static json_t *load_expected(void);
static size_t next_line(const char *text, size_t len, size_t pos);
static void check_counts(const airouter_tokenizer_t *tk, const char *label,
    const count_case_t *cases, size_t n);
static void test_estimate(void);
static void test_estimate_error(json_t *expected, int verbose);
static void test_tiny_text(void);
static void test_tiny_json(void);
static void test_load_errors(void);
static void test_corpus(const char *dir, json_t *expected);
static size_t check_corpus(const airouter_tokenizer_t *tk, const char *enc,
    json_t *expected, int lines);
static char *json_to_tiktoken(const char *path, size_t *len);
static void bench(const char *dir);
static int check_cases(const char *dir, const char *path);


static const char *
data_dir(void)
{
    const char  *dir;

    dir = getenv("AIROUTER_TOKENIZER_DATA");

    return (dir != NULL && dir[0] != '\0') ? dir : DEFAULT_DATA_DIR;
}


static json_t *
load_expected(void)
{
    char          path[1024];
    json_t       *root;
    json_error_t  jerr;

    snprintf(path, sizeof(path), "%s/expected.json", data_dir());

    root = json_load_file(path, 0, &jerr);
    UNIT_CHECK(root != NULL, "%s: %s", path, jerr.text);

    return root;
}


/* Lines as gen_expected.mjs cuts them: each with its '\n'. */
static size_t
next_line(const char *text, size_t len, size_t pos)
{
    const char  *nl;

    nl = memchr(text + pos, '\n', len - pos);

    return nl ? (size_t) (nl - text) + 1 : len;
}


static void
check_counts(const airouter_tokenizer_t *tk, const char *label,
    const count_case_t *cases, size_t n)
{
    size_t  i, got;

    for (i = 0; i < n; i++) {
        got = airouter_tokenizer_count(tk, cases[i].text,
                                       strlen(cases[i].text));
        UNIT_CHECK(got == cases[i].count, "%s: \"%s\": got %zu, want %zu",
                   label, cases[i].text, got, cases[i].count);
    }
}


static void
test_estimate(void)
{
    size_t  i, a, b;
    char    buf[4096];

    /* weights in eighths: space 1, letter 2, digit 4, other ASCII 5 */
    static const count_case_t  cases[] = {
        { "", 0 },
        { "a", 1 },
        { "abcd", 1 },
        { "abcde", 2 },
        { "hello world", 3 },
        { "hello world!", 4 },
        { "        ", 1 },
        { "12345678", 4 },
        { "\xe4\xb8\xad\xe6\x96\x87", 2 },              /* 中文 */
        { "\xf0\x9f\xa4\x96\xf0\x9f\xa4\x96", 5 },      /* two emoji */
        { "\xff\xfe", 2 },                              /* invalid */
        { "caf\xc3\xa9", 2 },                           /* café */
        { "e\xcc\x81", 1 },                             /* e + U+0301 */
        { "\xe0\xa4\xa8\xe0\xa4\xae", 3 },              /* नम */
        { "caf\xc3\xa9 au lait, 42 \xe4\xb8\xad!", 7 },     /* mixed */
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        a = airouter_tokenizer_estimate(cases[i].text, strlen(cases[i].text));
        UNIT_CHECK(a == cases[i].count, "estimate(\"%s\"): got %zu, want %zu",
                   cases[i].text, a, cases[i].count);
    }

    /* NULL tokenizer: count() is the estimate */
    UNIT_CHECK(airouter_tokenizer_count(NULL, "hello world!", 12) == 4,
               "count(NULL) is not the estimate");

    /* grows with the text, never 0 for non-empty text */
    memset(buf, 'x', sizeof(buf));
    b = 0;
    for (i = 1; i <= sizeof(buf); i *= 2) {
        a = airouter_tokenizer_estimate(buf, i);
        UNIT_CHECK(a >= 1 && a >= b, "estimate of %zu bytes: %zu", i, a);
        b = a;
    }

    /* truncated and stray UTF-8 is counted, not read past */
    UNIT_CHECK(airouter_tokenizer_estimate("\xe4\xb8", 2) == 2,
               "truncated sequence");
    UNIT_CHECK(airouter_tokenizer_estimate("\xf0\x9f\xa4", 3) == 3,
               "truncated 4-byte sequence");
}


/*
 * The estimate against tiktoken's counts for each corpus file; the 40%
 * bound is loose on purpose (a regression guard, not a promise).
 */
static void
test_estimate_error(json_t *expected, int verbose)
{
    char         path[1024];
    char        *text;
    size_t       len, est, want, sum_est, sum_want;
    double       err, worst;
    json_t      *files, *entry;
    const char  *file, *enc;
    int          e;

    static const char  *encs[] = { "o200k_base", "cl100k_base" };

    files = json_object_get(expected, "files");

    for (e = 0; e < 2; e++) {
        enc = encs[e];
        worst = 0;
        sum_est = 0;
        sum_want = 0;

        json_object_foreach(files, file, entry) {
            /* splitter fixtures, not text anyone writes: not estimated */
            if (strcmp(file, "random.txt") == 0
                || strcmp(file, "unicode16.txt") == 0)
            {
                continue;
            }

            snprintf(path, sizeof(path), "%s/%s", data_dir(), file);

            text = unit_read_file(path, &len);
            UNIT_CHECK(text != NULL, "cannot read %s", path);
            if (text == NULL) {
                continue;
            }

            est = airouter_tokenizer_estimate(text, len);
            want = (size_t) json_integer_value(
                       json_object_get(json_object_get(entry, enc), "total"));

            err = ((double) est - (double) want) / (double) want;
            if (err < 0 ? -err > worst : err > worst) {
                worst = err < 0 ? -err : err;
            }

            sum_est += est;
            sum_want += want;

            if (verbose) {
                printf("  %-16s %-12s tiktoken %6zu  estimate %6zu  %+6.1f%%\n",
                       file, enc, want, est, err * 100);
            }

            UNIT_CHECK(err > -0.4 && err < 0.4,
                       "estimate for %s (%s): %zu vs %zu", file, enc, est,
                       want);

            free(text);
        }

        if (verbose) {
            printf("  %-16s %-12s tiktoken %6zu  estimate %6zu  %+6.1f%%"
                   "  (worst file %.1f%%)\n", "all", enc, sum_want, sum_est,
                   ((double) sum_est - (double) sum_want) / (double) sum_want
                   * 100, worst * 100);
        }
    }
}


/*
 * tiny_cl100k.tiktoken: the 256 bytes (ranks 0-255), then "ab" 256,
 * "cd" 257, "abcd" 258, " a" 259, "aa" 260, "aaaa" 261, "bc" 262,
 * "oW" 263.  Its name makes it cl100k_base.
 */
static void
test_tiny_text(void)
{
    char                   path[1024], err[256], *big;
    size_t                 i, got;
    airouter_tokenizer_t  *tk;

    static const count_case_t  cases[] = {
        { "", 0 },
        { "a", 1 },
        { "ab", 1 },
        { "abcd", 1 },
        /* ab (256) beats bc (262); "abc" is no token */
        { "abc", 2 },
        /* ab, then cd, then abcd */
        { "abcde", 2 },
        /* ties go left: aa|aa|a, then aaaa|a */
        { "aaaaa", 2 },
        { "aaa", 2 },
        /* cl100k keeps "HelloWorld" whole: oW merges */
        { "HelloWorld", 9 },
        /* " a" + "b": the space leads the word */
        { " ab", 2 },
        /* pieces "x", " ", " ab": no merge across pieces */
        { "x  ab", 4 },
        { "don't", 5 },
        { "\r\n\r\n", 4 },
    };

    snprintf(path, sizeof(path), "%s/tiny_cl100k.tiktoken", data_dir());

    tk = airouter_tokenizer_load(path, err, sizeof(err));
    UNIT_CHECK(tk != NULL, "load %s: %s", path, err);
    if (tk == NULL) {
        return;
    }

    UNIT_CHECK(airouter_tokenizer_ranks(tk) == 264, "ranks: %zu",
               airouter_tokenizer_ranks(tk));
    UNIT_STREQ(airouter_tokenizer_encoding_name(tk), "cl100k_base");
    UNIT_CHECK(airouter_tokenizer_encoding(tk) == AIROUTER_TOKENIZER_CL100K,
               "encoding");

    check_counts(tk, "tiny text", cases, sizeof(cases) / sizeof(cases[0]));

    /* long pieces take the heap merge: it must agree with the rule */
    big = malloc(1024);
    if (big != NULL) {
        memset(big, 'a', 1024);

        /* every aa first, then every aaaa: aaaa... aa? a? */
        for (i = 100; i <= 1024; i += 101) {
            got = airouter_tokenizer_count(tk, big, i);
            UNIT_CHECK(got == i / 4 + (i % 4) / 2 + i % 2, "%zu x 'a': %zu",
                       i, got);
        }

        for (i = 0; i + 4 <= 1024; i += 4) {
            memcpy(big + i, "abcd", 4);
        }

        UNIT_CHECK(airouter_tokenizer_count(tk, big, 1024) == 256,
                   "256 x abcd: %zu", airouter_tokenizer_count(tk, big, 1024));
        UNIT_CHECK(airouter_tokenizer_count(tk, big, 120) == 30,
                   "30 x abcd: %zu", airouter_tokenizer_count(tk, big, 120));
        UNIT_CHECK(airouter_tokenizer_count(tk, big, 1023) == 257,
                   "255 x abcd + ab c: %zu",
                   airouter_tokenizer_count(tk, big, 1023));

        free(big);
    }

    airouter_tokenizer_free(tk);
}


/* The same ranks as tiktoken JSON with o200k's pattern. */
static void
test_tiny_json(void)
{
    char                   err[256], *json, *p;
    size_t                 i, len;
    airouter_tokenizer_t  *tk;
    json_t                *root;

    static const char  *extra[] = {
        "YWI=", "Y2Q=", "YWJjZA==", "IGE=", "YWE=", "YWFhYQ==", "YmM=", "b1c="
    };

    static const char  pat[] =
        "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*"
        "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"
        "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"
        "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"
        "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|"
        "\\s+(?!\\S)|\\s+";

    static const count_case_t  cases[] = {
        { "ab", 1 },
        { "abcde", 2 },
        /* o200k cuts "HelloWorld" at the capital: oW never meets */
        { "HelloWorld", 10 },
        { "aaaaa", 2 },
        /* "don't" is one piece here, "'t" a contraction suffix */
        { "don't", 5 },
    };

    /* "! 0 <256 single bytes> <8 merges>" in one packed line */
    len = 16 + 256 * 5 + 8 * 10;
    p = malloc(len);
    if (p == NULL) {
        UNIT_CHECK(0, "out of memory");
        return;
    }

    strcpy(p, "! 0");
    for (i = 0; i < 256; i++) {
        static const char  b64[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char  tok[8];

        tok[0] = ' ';
        tok[1] = b64[i >> 2];
        tok[2] = b64[(i & 3) << 4];
        tok[3] = '=';
        tok[4] = '=';
        tok[5] = '\0';
        strcat(p, tok);
    }

    for (i = 0; i < 8; i++) {
        strcat(p, " ");
        strcat(p, extra[i]);
    }

    root = json_pack("{s:s, s:s, s:{s:i}}", "pat_str", pat, "bpe_ranks", p,
                     "special_tokens", "<|endoftext|>", 264);
    free(p);

    json = json_dumps(root, 0);
    json_decref(root);

    if (json == NULL) {
        UNIT_CHECK(0, "json_dumps failed");
        return;
    }

    tk = airouter_tokenizer_load_buf(json, strlen(json), "tiny.json", err,
                                     sizeof(err));
    UNIT_CHECK(tk != NULL, "load tiny json: %s", err);

    if (tk != NULL) {
        UNIT_STREQ(airouter_tokenizer_encoding_name(tk), "o200k_base");
        UNIT_CHECK(airouter_tokenizer_ranks(tk) == 264, "ranks: %zu",
                   airouter_tokenizer_ranks(tk));
        check_counts(tk, "tiny json", cases, sizeof(cases) / sizeof(cases[0]));

        /* bytes that are not UTF-8 are counted, one piece each or more */
        UNIT_CHECK(airouter_tokenizer_count(tk, "\xff\xfe\xc3", 3) == 3,
                   "invalid UTF-8");
        UNIT_CHECK(airouter_tokenizer_count(tk, "a\xed\xa0\x80z", 5) == 5,
                   "encoded surrogate");

        airouter_tokenizer_free(tk);
    }

    /* js-tiktoken wraps the same object in an ES module */
    p = malloc(strlen(json) + 32);
    if (p != NULL) {
        sprintf(p, "export default %s;\n", json);

        tk = airouter_tokenizer_load_buf(p, strlen(p), "o200k_base.js", err,
                                         sizeof(err));
        UNIT_CHECK(tk != NULL, "load js module: %s", err);
        if (tk != NULL) {
            UNIT_STREQ(airouter_tokenizer_encoding_name(tk), "o200k_base");
            airouter_tokenizer_free(tk);
        }

        free(p);
    }

    free(json);
}


static void
test_load_errors(void)
{
    char                   err[256];
    size_t                 i;
    airouter_tokenizer_t  *tk;

    static const struct {
        const char  *data;
        const char  *name;
        const char  *why;
    } bad[] = {
        { "", "empty.tiktoken", "no ranks" },
        { "YQ==\n", "x.tiktoken", "not \"<base64> <rank>\"" },
        { "YQ== x\n", "x.tiktoken", "bad rank" },
        { "YQ== -1\n", "x.tiktoken", "bad rank" },
        { "Y!== 1\n", "x.tiktoken", "bad base64" },
        { "{\"bpe_ranks\": 5}", "x.json", "no \"bpe_ranks\"" },
        { "{\"bpe_ranks\": \"! 0 YQ==\", \"pat_str\": \" ?\\\\p{L}+| ?"
          "\\\\p{N}+\"}", "x.json", "unsupported \"pat_str\"" },
        { "{\"bpe_ranks\": \"! x YQ==\"}", "x.json", "bad first rank" },
        { "{\"bpe_ranks\": \"\"}", "x.json", "no ranks" },
        { "{\"bpe_ranks\": ", "x.json", "x.json: line 1:" },
        { "YQ== 0\nYg== 1\nYw==\n", "x.tiktoken", "x.tiktoken: line 3:" },
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        tk = airouter_tokenizer_load_buf(bad[i].data, strlen(bad[i].data),
                                         bad[i].name, err, sizeof(err));
        UNIT_CHECK(tk == NULL && strstr(err, bad[i].why) != NULL,
                   "bad file %zu: got \"%s\", want \"%s\"", i, err,
                   bad[i].why);
        airouter_tokenizer_free(tk);
    }

    tk = airouter_tokenizer_load("/nonexistent/o200k_base.json", err,
                                 sizeof(err));
    UNIT_CHECK(tk == NULL && strstr(err, "/nonexistent/") != NULL,
               "missing file: \"%s\"", err);

    /* a small file without pattern or telling name is cl100k_base */
    tk = airouter_tokenizer_load_buf("YQ== 0\r\nYg== 1\r\n", 16, "ranks",
                                     err, sizeof(err));
    UNIT_CHECK(tk != NULL, "CRLF text file: %s", err);
    if (tk != NULL) {
        UNIT_STREQ(airouter_tokenizer_encoding_name(tk), "cl100k_base");
        UNIT_CHECK(airouter_tokenizer_ranks(tk) == 2, "ranks");
        airouter_tokenizer_free(tk);
    }
}


/* Returns how many checks disagreed. */
static size_t
check_corpus(const airouter_tokenizer_t *tk, const char *enc,
    json_t *expected, int lines)
{
    char         path[1024];
    char        *text;
    size_t       len, pos, end, i, got, want, bad, nlines;
    json_t      *files, *entry, *counts, *want_lines;
    const char  *file;

    bad = 0;
    nlines = 0;
    files = json_object_get(expected, "files");

    json_object_foreach(files, file, entry) {
        snprintf(path, sizeof(path), "%s/%s", data_dir(), file);

        text = unit_read_file(path, &len);
        UNIT_CHECK(text != NULL, "cannot read %s", path);
        if (text == NULL) {
            bad++;
            continue;
        }

        counts = json_object_get(entry, enc);

        got = airouter_tokenizer_count(tk, text, len);
        want = (size_t) json_integer_value(json_object_get(counts, "total"));
        UNIT_CHECK(got == want, "%s %s whole file: got %zu, want %zu", enc,
                   file, got, want);
        bad += (got != want);

        if (!lines) {
            free(text);
            continue;
        }

        want_lines = json_object_get(counts, "lines");

        for (pos = 0, i = 0; pos < len; pos = end, i++) {
            end = next_line(text, len, pos);

            if (i >= json_array_size(want_lines)) {
                break;
            }

            got = airouter_tokenizer_count(tk, text + pos, end - pos);
            want = (size_t) json_integer_value(
                       json_array_get(want_lines, i));
            UNIT_CHECK(got == want, "%s %s line %zu: got %zu, want %zu: %.*s",
                       enc, file, i + 1, got, want,
                       (int) (end - pos > 80 ? 80 : end - pos), text + pos);
            bad += (got != want);
        }

        UNIT_CHECK(pos == len && i == json_array_size(want_lines),
                   "%s: %zu lines, expected.json has %zu", file, i,
                   json_array_size(want_lines));

        nlines += i;
        free(text);
    }

    if (lines) {
        printf("  %s: %zu files, %zu lines: %s\n", enc,
               json_object_size(files), nlines,
               bad ? "MISMATCHES" : "all equal to tiktoken");
    }

    return bad;
}


/*
 * tiktoken's JSON rewritten as a .tiktoken text file, to run the corpus
 * through the other loader.
 */
static char *
json_to_tiktoken(const char *path, size_t *len)
{
    char          *out, *tok;
    const char    *ranks, *p, *q, *eol;
    size_t         cap, n, field;
    unsigned long  rank;
    json_t        *root;
    json_error_t   jerr;

    root = json_load_file(path, 0, &jerr);
    if (root == NULL) {
        return NULL;
    }

    ranks = json_string_value(json_object_get(root, "bpe_ranks"));
    if (ranks == NULL) {
        json_decref(root);
        return NULL;
    }

    cap = strlen(ranks) * 2 + 1024;
    out = malloc(cap);
    if (out == NULL) {
        json_decref(root);
        return NULL;
    }

    n = 0;
    rank = 0;

    for (p = ranks; *p != '\0'; p = (*eol == '\0') ? eol : eol + 1) {
        eol = strchr(p, '\n');
        if (eol == NULL) {
            eol = p + strlen(p);
        }

        field = 0;

        for (q = p; q < eol; q++) {
            tok = (char *) q;

            while (q < eol && *q != ' ') {
                q++;
            }

            if (field == 1) {
                rank = strtoul(tok, NULL, 10);

            } else if (field > 1) {
                n += (size_t) snprintf(out + n, cap - n, "%.*s %lu\n",
                                       (int) (q - tok), tok, rank++);
            }

            field++;
        }
    }

    json_decref(root);

    *len = n;

    return out;
}


static void
test_corpus(const char *dir, json_t *expected)
{
    char                   path[1024], err[256], name[64], *text;
    size_t                 len;
    int                    e;
    airouter_tokenizer_t  *tk;

    static const char  *encs[] = { "cl100k_base", "o200k_base" };

    for (e = 0; e < 2; e++) {
        snprintf(path, sizeof(path), "%s/%s.json", dir, encs[e]);

        tk = airouter_tokenizer_load(path, err, sizeof(err));
        UNIT_CHECK(tk != NULL, "load %s: %s", path, err);
        if (tk == NULL) {
            continue;
        }

        UNIT_STREQ(airouter_tokenizer_encoding_name(tk), encs[e]);

        check_corpus(tk, encs[e], expected, 1);

        airouter_tokenizer_free(tk);

        /* the same ranks through the text loader, named and unnamed */
        text = json_to_tiktoken(path, &len);
        UNIT_CHECK(text != NULL, "cannot convert %s", path);
        if (text == NULL) {
            continue;
        }

        snprintf(name, sizeof(name), "%s.tiktoken", encs[e]);

        tk = airouter_tokenizer_load_buf(text, len, name, err, sizeof(err));
        UNIT_CHECK(tk != NULL, "load %s: %s", name, err);
        if (tk != NULL) {
            UNIT_STREQ(airouter_tokenizer_encoding_name(tk), encs[e]);
            UNIT_CHECK(check_corpus(tk, encs[e], expected, 0) == 0,
                       "%s disagrees with tiktoken", name);
            airouter_tokenizer_free(tk);
        }

        /* no telling name: the rank count decides */
        tk = airouter_tokenizer_load_buf(text, len, "ranks.tiktoken", err,
                                         sizeof(err));
        UNIT_CHECK(tk != NULL && strcmp(airouter_tokenizer_encoding_name(tk),
                                        encs[e]) == 0,
                   "unnamed %s detected as %s", encs[e],
                   tk ? airouter_tokenizer_encoding_name(tk) : "(failed)");
        airouter_tokenizer_free(tk);

        free(text);
    }
}


static void
bench(const char *dir)
{
    char                   path[1024], err[256], *corpus, *text;
    size_t                 len, total, cap, tokens, rounds, r;
    double                 secs;
    clock_t                t0;
    int                    e;
    json_t                *expected, *files, *entry;
    const char            *file;
    airouter_tokenizer_t  *tk;

    static const char  *encs[] = { "cl100k_base", "o200k_base" };

    expected = load_expected();
    if (expected == NULL) {
        return;
    }

    printf("estimate vs tiktoken:\n");
    test_estimate_error(expected, 1);

    if (dir == NULL) {
        printf("set AIROUTER_TIKTOKEN_DIR for tokens/s\n");
        json_decref(expected);
        return;
    }

    /* the whole corpus, about 23 KB, repeated to a ~100 KB prompt */
    cap = 1 << 20;
    corpus = malloc(cap);
    total = 0;
    files = json_object_get(expected, "files");

    while (corpus != NULL && total < 100000) {
        json_object_foreach(files, file, entry) {
            snprintf(path, sizeof(path), "%s/%s", data_dir(), file);
            text = unit_read_file(path, &len);
            if (text != NULL && total + len < cap) {
                memcpy(corpus + total, text, len);
                total += len;
            }
            free(text);
        }
    }

    for (e = 0; corpus != NULL && e < 2; e++) {
        snprintf(path, sizeof(path), "%s/%s.json", dir, encs[e]);

        t0 = clock();
        tk = airouter_tokenizer_load(path, err, sizeof(err));
        secs = (double) (clock() - t0) / CLOCKS_PER_SEC;
        if (tk == NULL) {
            printf("%s\n", err);
            continue;
        }

        printf("%s: loaded %zu ranks in %.0f ms\n", encs[e],
               airouter_tokenizer_ranks(tk), secs * 1000);

        rounds = 50;
        tokens = 0;
        t0 = clock();
        for (r = 0; r < rounds; r++) {
            tokens += airouter_tokenizer_count(tk, corpus, total);
        }
        secs = (double) (clock() - t0) / CLOCKS_PER_SEC;

        printf("%s: %zu-byte prompt = %zu tokens, %.2f ms each,"
               " %.1f M tokens/s, %.1f MB/s\n", encs[e], total,
               tokens / rounds, secs * 1000 / rounds,
               (double) tokens / secs / 1e6,
               (double) total * rounds / secs / 1e6);

        airouter_tokenizer_free(tk);
    }

    free(corpus);
    json_decref(expected);
}


static int
check_cases(const char *dir, const char *path)
{
    char                   tkpath[1024], err[256];
    size_t                 i, got, want, bad, shown;
    int                    e, rc;
    json_t                *root, *cases, *c, *text;
    json_error_t           jerr;
    airouter_tokenizer_t  *tk;

    static const char  *encs[] = { "cl100k_base", "o200k_base" };

    if (dir == NULL) {
        fprintf(stderr, "--check needs AIROUTER_TIKTOKEN_DIR\n");
        return 2;
    }

    root = json_load_file(path, 0, &jerr);
    if (root == NULL) {
        fprintf(stderr, "%s: %s\n", path, jerr.text);
        return 2;
    }

    cases = json_object_get(root, "cases");
    rc = 0;

    for (e = 0; e < 2; e++) {
        snprintf(tkpath, sizeof(tkpath), "%s/%s.json", dir, encs[e]);

        tk = airouter_tokenizer_load(tkpath, err, sizeof(err));
        if (tk == NULL) {
            fprintf(stderr, "%s\n", err);
            rc = 2;
            continue;
        }

        bad = 0;
        shown = 0;

        json_array_foreach(cases, i, c) {
            text = json_object_get(c, "text");
            got = airouter_tokenizer_count(tk, json_string_value(text),
                                           json_string_length(text));
            want = (size_t) json_integer_value(json_object_get(c, encs[e]));

            if (got != want) {
                bad++;
                if (shown++ < 20) {
                    printf("  %s case %zu: got %zu, want %zu: %s\n", encs[e],
                           i, got, want, json_string_value(text));
                }
            }
        }

        printf("%s: %zu cases, %zu differ\n", encs[e],
               json_array_size(cases), bad);

        if (bad) {
            rc = 1;
        }

        airouter_tokenizer_free(tk);
    }

    json_decref(root);

    return rc;
}


int
main(int argc, char **argv)
{
    const char  *dir;
    json_t      *expected;

    dir = getenv("AIROUTER_TIKTOKEN_DIR");
    if (dir != NULL && dir[0] == '\0') {
        dir = NULL;
    }

    if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
        bench(dir);
        return 0;
    }

    if (argc > 2 && strcmp(argv[1], "--check") == 0) {
        return check_cases(dir, argv[2]);
    }

    test_estimate();
    test_tiny_text();
    test_tiny_json();
    test_load_errors();

    expected = load_expected();

    if (expected != NULL) {
        test_estimate_error(expected, 0);

        if (dir != NULL) {
            test_corpus(dir, expected);

        } else {
            printf("test_tokenizer: AIROUTER_TIKTOKEN_DIR not set, skipping"
                   " the exact tiktoken comparison (see"
                   " tests/tokenizer/README.md)\n");
        }

        json_decref(expected);
    }

    UNIT_DONE("test_tokenizer");
}
