/*
 * Token counting: an exact, tiktoken-compatible BPE counter for the
 * cl100k_base and o200k_base encodings, and a byte-based estimate for when
 * no rank file is configured.  Pure C, no nginx types.
 *
 * The nginx side loads one rank file (named by a directive) at
 * configuration time and calls airouter_tokenizer_count() to size prompts
 * and completions that arrived without a usage block.  A loaded tokenizer
 * is read-only: any number of threads or forked workers may count with it
 * at once.
 *
 * Counts equal tiktoken's encode_ordinary(): text that spells a special
 * token ("<|endoftext|>") is counted as ordinary text.
 */

#ifndef AIROUTER_TOKENIZER_H
#define AIROUTER_TOKENIZER_H

#include <stddef.h>


typedef struct airouter_tokenizer_s  airouter_tokenizer_t;


typedef enum {
    AIROUTER_TOKENIZER_CL100K = 1,
    AIROUTER_TOKENIZER_O200K
} airouter_tokenizer_encoding_e;


/*
 * Loads a rank file.  Two formats are read:
 *
 *   - tiktoken's JSON, as shipped in the npm tiktoken package
 *     (node_modules/tiktoken/encoders/o200k_base.json): an object with
 *     "pat_str" and "bpe_ranks", the ranks as lines of
 *     "<tag> <first rank> <base64 token> <base64 token> ...";
 *     js-tiktoken's ranks/<name>.js (that object after "export default")
 *     is accepted too;
 *   - the classic .tiktoken text: one "<base64 token> <rank>" per line.
 *
 * The encoding (which pre-tokenization pattern applies) comes from
 * "pat_str" when the file has one: a pattern with \p{Lu} is o200k_base,
 * the cl100k_base pattern is cl100k_base, any other is refused.  Without
 * "pat_str" the file's name decides ("o200k" or "cl100k" in it), and
 * failing that the size: more than 150000 ranks is o200k_base.
 *
 * Returns NULL on failure with a one-line reason in err.
 */
airouter_tokenizer_t *airouter_tokenizer_load(const char *path, char *err,
    size_t errlen);

/* The same from memory; name stands in for the file name above. */
airouter_tokenizer_t *airouter_tokenizer_load_buf(const char *data,
    size_t len, const char *name, char *err, size_t errlen);

void airouter_tokenizer_free(airouter_tokenizer_t *tk);

airouter_tokenizer_encoding_e airouter_tokenizer_encoding(
    const airouter_tokenizer_t *tk);

/* "cl100k_base" or "o200k_base". */
const char *airouter_tokenizer_encoding_name(const airouter_tokenizer_t *tk);

/* How many ranks the file held. */
size_t airouter_tokenizer_ranks(const airouter_tokenizer_t *tk);

/*
 * The number of tokens tiktoken's encode_ordinary() gives for the text.
 * Bytes that are not valid UTF-8 count as characters of their own that
 * are neither letters, digits nor space.  With tk == NULL this is
 * airouter_tokenizer_estimate().
 */
size_t airouter_tokenizer_count(const airouter_tokenizer_t *tk,
    const char *utf8, size_t len);

/*
 * A byte-based estimate for when no rank file is configured, in tokens
 * per character:
 *
 *     ASCII whitespace                                  1/8
 *     ASCII letters                                     1/4
 *     ASCII digits                                      1/2
 *     other ASCII (punctuation, controls)               5/8
 *     2-byte UTF-8 (accented Latin, Greek, Cyrillic,
 *       Hebrew, Arabic, ...)                            7/8
 *     CJK ideographs, kana, Hangul syllables            1
 *     other 3-byte UTF-8 (Indic, Thai, symbols, ...)    3/2
 *     4-byte UTF-8 (emoji, rare ideographs)             5/2
 *     combining marks, ZWJ, variation selectors         1/2
 *     a byte that is not valid UTF-8                    1
 *
 * summed and rounded up (so at least 1 for non-empty text).  Measured on
 * the prose, code, CJK, emoji, numbers and whitespace files of the test
 * corpus (tests/unit/data/tokenizer, ~23 KB): +9% against o200k_base and
 * -15% against cl100k_base overall; per file from -19% to +31% of
 * o200k_base and from -29% to +13% of cl100k_base.  English prose and
 * code land within about 12% of both; CJK comes out over o200k_base and
 * under cl100k_base, which spends more tokens on it.
 */
size_t airouter_tokenizer_estimate(const char *utf8, size_t len);

#endif /* AIROUTER_TOKENIZER_H */
