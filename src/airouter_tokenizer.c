/*
 * Token counting, tiktoken-compatible: the rank-file loader, the two
 * pre-tokenization patterns (cl100k_base and o200k_base) written out by
 * hand, and the byte-pair merge.  Also the byte-based estimate used when
 * no rank file is configured.  Called by the nginx module to size prompts
 * and completions; see airouter_tokenizer.h.
 *
 * Pre-tokenization follows tiktoken's patterns as its regex engine
 * (fancy-regex over Rust's regex, leftmost-first with backtracking) runs
 * them, with character classes from UCD 16.0.0 like regex-syntax 0.8.5;
 * the comment above each splitter spells out the pattern it implements.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "airouter_tokenizer.h"
#include "airouter_unicode_tables.h"


#define AIROUTER_TK_NO_RANK      UINT32_MAX

/* Class of the position just past the text. */
#define AIROUTER_TK_END          7

#define AIROUTER_TK_BIT(c)       (1u << (c))
#define AIROUTER_TK_LETTER                                                    \
    (AIROUTER_TK_BIT(AIROUTER_UCD_LU) | AIROUTER_TK_BIT(AIROUTER_UCD_LL)      \
     | AIROUTER_TK_BIT(AIROUTER_UCD_LO))
/* [^\s\p{L}\p{N}], less the end of the text. */
#define AIROUTER_TK_PUNCT                                                     \
    (AIROUTER_TK_BIT(AIROUTER_UCD_OTHER) | AIROUTER_TK_BIT(AIROUTER_UCD_MARK))
/* o200k's [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] and [\p{Ll}\p{Lm}\p{Lo}\p{M}] */
#define AIROUTER_TK_UPPER                                                     \
    (AIROUTER_TK_BIT(AIROUTER_UCD_LU) | AIROUTER_TK_BIT(AIROUTER_UCD_LO)      \
     | AIROUTER_TK_BIT(AIROUTER_UCD_MARK))
#define AIROUTER_TK_LOWER                                                     \
    (AIROUTER_TK_BIT(AIROUTER_UCD_LL) | AIROUTER_TK_BIT(AIROUTER_UCD_LO)      \
     | AIROUTER_TK_BIT(AIROUTER_UCD_MARK))

/* Pieces up to this many bytes merge in place on the stack. */
#define AIROUTER_TK_SMALL_PIECE  32

/* Above this many ranks a file without a pattern is taken as o200k. */
#define AIROUTER_TK_O200K_RANKS  150000


/*
 * The rank table.  While loading, every token's bytes are appended to one
 * blob and tokens[] records where each one is and its rank; tokens[] is
 * freed once the index is built.  slots[] is an open addressing hash
 * (linear probing, power-of-two size, at most half full) laid out so that
 * a probe reads one slot and nothing else for the short tokens merging
 * asks about most: a token of up to 8 bytes is in its slot as a key
 * (airouter_tk_key()); a longer one as its blob offset (high half) and 32
 * bits of its hash (low half).  len 0 marks an empty slot.
 */
typedef struct {
    uint32_t                  off;
    uint32_t                  len;
    uint32_t                  rank;
} airouter_tk_token_t;


typedef struct {
    uint64_t                  key;
    uint32_t                  rank;
    uint32_t                  len;
} airouter_tk_slot_t;


struct airouter_tokenizer_s {
    airouter_tokenizer_encoding_e   encoding;
    /* what "pat_str" asked for, 0 without one */
    airouter_tokenizer_encoding_e   pattern;

    unsigned char            *blob;
    size_t                    blob_len;
    size_t                    blob_cap;

    airouter_tk_token_t      *tokens;
    size_t                    ntokens;
    size_t                    tokens_cap;

    airouter_tk_slot_t       *slots;
    size_t                    mask;

    /* No piece longer than this can be one token: skips hash probes. */
    size_t                    max_token_len;
};


/* One character of the text: its code point, class and UTF-8 length. */
typedef struct {
    uint32_t                  cp;
    unsigned                  cls;
    size_t                    len;
} airouter_tk_char_t;


/* An entry of the merge heap for long pieces; order: rank << 32 | node. */
typedef struct {
    uint64_t                  order;
    uint32_t                  version;
} airouter_tk_heap_t;


static airouter_tokenizer_t *airouter_tk_parse_json(const char *data,
    size_t len, int eof_check, char *err, size_t errlen);
static airouter_tokenizer_t *airouter_tk_parse_text(const char *data,
    size_t len, char *err, size_t errlen);
static int airouter_tk_parse_compact(airouter_tokenizer_t *tk,
    const char *ranks, size_t len, char *err, size_t errlen);
static airouter_tokenizer_encoding_e airouter_tk_pattern(const char *pat_str);
static void airouter_tk_pick_encoding(airouter_tokenizer_t *tk,
    const char *name);
static int airouter_tk_add(airouter_tokenizer_t *tk, const char *b64,
    size_t b64len, uint32_t rank, char *err, size_t errlen);
static int airouter_tk_b64_decode(const char *in, size_t len,
    unsigned char *out, size_t *outlen);
static int airouter_tk_b64_value(int c);
static int airouter_tk_build_index(airouter_tokenizer_t *tk, char *err,
    size_t errlen);
static uint64_t airouter_tk_key(const unsigned char *p, size_t n);
static uint64_t airouter_tk_hash(const unsigned char *p, size_t n);
static uint64_t airouter_tk_mix(uint64_t h);
static uint32_t airouter_tk_rank(const airouter_tokenizer_t *tk,
    const unsigned char *p, size_t n);

static void airouter_tk_char(const unsigned char *p, size_t len, size_t pos,
    airouter_tk_char_t *ch);
static unsigned airouter_tk_class(uint32_t cp);
static unsigned airouter_tk_ascii_eighths(unsigned cls);
static size_t airouter_tk_run(const unsigned char *p, size_t len,
    size_t pos, unsigned mask);
static size_t airouter_tk_contraction(const unsigned char *p, size_t len,
    size_t pos);
static size_t airouter_tk_split_cl100k(const unsigned char *p, size_t len,
    size_t pos);
static size_t airouter_tk_split_o200k(const unsigned char *p, size_t len,
    size_t pos);
static size_t airouter_tk_o200k_lower_word(const unsigned char *p,
    size_t len, size_t pos);
static size_t airouter_tk_split_punct(const unsigned char *p, size_t len,
    size_t pos, const airouter_tk_char_t *c0, int slash);
static size_t airouter_tk_split_space(const unsigned char *p, size_t len,
    size_t pos);

static size_t airouter_tk_count_piece(const airouter_tokenizer_t *tk,
    const unsigned char *p, size_t n);
static size_t airouter_tk_merge_small(const airouter_tokenizer_t *tk,
    const unsigned char *p, size_t n);
static size_t airouter_tk_merge_large(const airouter_tokenizer_t *tk,
    const unsigned char *p, size_t n);
static void airouter_tk_heap_push(airouter_tk_heap_t *heap, size_t *nheap,
    uint32_t rank, uint32_t node, uint32_t version);
static void airouter_tk_heap_pop(airouter_tk_heap_t *heap, size_t *nheap,
    airouter_tk_heap_t *top);


airouter_tokenizer_t *
airouter_tokenizer_load(const char *path, char *err, size_t errlen)
{
    FILE                  *f;
    char                  *data, *p;
    size_t                 len, cap, n;
    airouter_tokenizer_t  *tk;

    f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }

    data = NULL;
    len = 0;
    cap = 0;

    for ( ;; ) {
        if (cap - len < 65536) {
            cap = cap ? cap * 2 : 1 << 20;
            p = realloc(data, cap);
            if (p == NULL) {
                snprintf(err, errlen, "%s: out of memory", path);
                free(data);
                fclose(f);
                return NULL;
            }
            data = p;
        }

        n = fread(data + len, 1, cap - len, f);
        len += n;

        if (n == 0) {
            break;
        }
    }

    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        free(data);
        fclose(f);
        return NULL;
    }

    fclose(f);

    tk = airouter_tokenizer_load_buf(data, len, path, err, errlen);

    free(data);

    return tk;
}


airouter_tokenizer_t *
airouter_tokenizer_load_buf(const char *data, size_t len, const char *name,
    char *err, size_t errlen)
{
    char                   msg[256];
    size_t                 i;
    airouter_tokenizer_t  *tk;

    static const char  js[] = "export default";

    if (name == NULL) {
        name = "";
    }

    for (i = 0; i < len; i++) {
        if (data[i] != ' ' && data[i] != '\t' && data[i] != '\r'
            && data[i] != '\n')
        {
            break;
        }
    }

    if (i < len && data[i] == '{') {
        tk = airouter_tk_parse_json(data + i, len - i, 1, msg, sizeof(msg));

    } else if (len - i > sizeof(js) - 1
               && memcmp(data + i, js, sizeof(js) - 1) == 0)
    {
        /* js-tiktoken's ranks/<name>.js: the JSON object, then ";" */
        for (i += sizeof(js) - 1; i < len && data[i] != '{'; i++) {
            /* void */
        }

        tk = airouter_tk_parse_json(data + i, len - i, 0, msg, sizeof(msg));

    } else {
        tk = airouter_tk_parse_text(data, len, msg, sizeof(msg));
    }

    if (tk == NULL || airouter_tk_build_index(tk, msg, sizeof(msg)) != 0) {
        snprintf(err, errlen, "%s%s%s", name, name[0] ? ": " : "", msg);
        airouter_tokenizer_free(tk);
        return NULL;
    }

    airouter_tk_pick_encoding(tk, name);

    return tk;
}


void
airouter_tokenizer_free(airouter_tokenizer_t *tk)
{
    if (tk == NULL) {
        return;
    }

    free(tk->blob);
    free(tk->tokens);
    free(tk->slots);
    free(tk);
}


airouter_tokenizer_encoding_e
airouter_tokenizer_encoding(const airouter_tokenizer_t *tk)
{
    return tk->encoding;
}


const char *
airouter_tokenizer_encoding_name(const airouter_tokenizer_t *tk)
{
    return tk->encoding == AIROUTER_TOKENIZER_O200K ? "o200k_base"
                                                    : "cl100k_base";
}


size_t
airouter_tokenizer_ranks(const airouter_tokenizer_t *tk)
{
    return tk->ntokens;
}


static airouter_tokenizer_t *
airouter_tk_parse_json(const char *data, size_t len, int eof_check,
    char *err, size_t errlen)
{
    json_t                *root, *ranks, *pat;
    json_error_t           jerr;
    airouter_tokenizer_t  *tk;

    root = json_loadb(data, len, eof_check ? 0 : JSON_DISABLE_EOF_CHECK,
                      &jerr);
    if (root == NULL) {
        snprintf(err, errlen, "line %d: %s", jerr.line, jerr.text);
        return NULL;
    }

    ranks = json_object_get(root, "bpe_ranks");
    if (!json_is_string(ranks)) {
        snprintf(err, errlen, "no \"bpe_ranks\" string");
        json_decref(root);
        return NULL;
    }

    tk = calloc(1, sizeof(airouter_tokenizer_t));
    if (tk == NULL) {
        snprintf(err, errlen, "out of memory");
        json_decref(root);
        return NULL;
    }

    pat = json_object_get(root, "pat_str");

    if (json_is_string(pat)) {
        tk->pattern = airouter_tk_pattern(json_string_value(pat));
        if (tk->pattern == 0) {
            snprintf(err, errlen, "unsupported \"pat_str\" (only"
                     " cl100k_base and o200k_base are known)");
            goto failed;
        }
    }

    if (airouter_tk_parse_compact(tk, json_string_value(ranks),
                                  json_string_length(ranks), err, errlen)
        != 0)
    {
        goto failed;
    }

    json_decref(root);

    return tk;

failed:

    json_decref(root);
    airouter_tokenizer_free(tk);
    return NULL;
}


/*
 * tiktoken's packed ranks: lines of "<tag> <first rank> <token> <token>
 * ...", each token base64, the ranks counting up from the first.
 */
static int
airouter_tk_parse_compact(airouter_tokenizer_t *tk, const char *ranks,
    size_t len, char *err, size_t errlen)
{
    size_t         i, j, field;
    unsigned long  rank;
    char          *end;

    i = 0;

    while (i < len) {
        field = 0;
        rank = 0;

        while (i < len && ranks[i] != '\n') {
            for (j = i; j < len && ranks[j] != ' ' && ranks[j] != '\n'; j++) {
                /* void */
            }

            if (j == i) {
                i++;
                continue;
            }

            if (field == 1) {
                errno = 0;
                rank = strtoul(ranks + i, &end, 10);
                if (end != ranks + j || errno != 0
                    || rank >= AIROUTER_TK_NO_RANK)
                {
                    snprintf(err, errlen, "bad first rank in \"bpe_ranks\"");
                    return -1;
                }

            } else if (field > 1) {
                if (rank >= AIROUTER_TK_NO_RANK) {
                    snprintf(err, errlen, "rank overflow in \"bpe_ranks\"");
                    return -1;
                }

                if (airouter_tk_add(tk, ranks + i, j - i, (uint32_t) rank,
                                    err, errlen)
                    != 0)
                {
                    return -1;
                }

                rank++;
            }

            field++;
            i = j;
        }

        i++;
    }

    return 0;
}


/* The .tiktoken text format: "<base64 token> <rank>" per line. */
static airouter_tokenizer_t *
airouter_tk_parse_text(const char *data, size_t len, char *err,
    size_t errlen)
{
    char                   num[16], msg[128];
    size_t                 i, eol, sp, n, line;
    unsigned long          rank;
    char                  *end;
    airouter_tokenizer_t  *tk;

    tk = calloc(1, sizeof(airouter_tokenizer_t));
    if (tk == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    line = 0;

    for (i = 0; i < len; i = eol + 1) {
        line++;

        for (eol = i; eol < len && data[eol] != '\n'; eol++) {
            /* void */
        }

        n = eol;
        if (n > i && data[n - 1] == '\r') {
            n--;
        }

        if (n == i) {
            continue;
        }

        for (sp = i; sp < n && data[sp] != ' '; sp++) {
            /* void */
        }

        if (sp == n || n - sp - 1 == 0 || n - sp - 1 >= sizeof(num)) {
            snprintf(err, errlen, "line %zu: not \"<base64> <rank>\"", line);
            goto failed;
        }

        memcpy(num, data + sp + 1, n - sp - 1);
        num[n - sp - 1] = '\0';

        errno = 0;
        rank = strtoul(num, &end, 10);
        if (*end != '\0' || errno != 0 || num[0] < '0' || num[0] > '9'
            || rank >= AIROUTER_TK_NO_RANK)
        {
            snprintf(err, errlen, "line %zu: bad rank", line);
            goto failed;
        }

        if (airouter_tk_add(tk, data + i, sp - i, (uint32_t) rank, msg,
                            sizeof(msg))
            != 0)
        {
            snprintf(err, errlen, "line %zu: %s", line, msg);
            goto failed;
        }
    }

    return tk;

failed:

    airouter_tokenizer_free(tk);
    return NULL;
}


/*
 * Which splitter a "pat_str" calls for: o200k's pattern alone has the case
 * classes (\p{Lu}), and cl100k's alone splits digits in threes without
 * them.  Older patterns (gpt2, p50k: " ?\p{N}+") would need a splitter
 * this file does not have: 0.
 */
static airouter_tokenizer_encoding_e
airouter_tk_pattern(const char *pat_str)
{
    if (strstr(pat_str, "\\p{N}{1,3}") == NULL) {
        return 0;
    }

    if (strstr(pat_str, "\\p{Lu}") != NULL) {
        return AIROUTER_TOKENIZER_O200K;
    }

    if (strstr(pat_str, "\\p{L}+") != NULL) {
        return AIROUTER_TOKENIZER_CL100K;
    }

    return 0;
}


/* The pattern if the file had one, else the file's name, else its size. */
static void
airouter_tk_pick_encoding(airouter_tokenizer_t *tk, const char *name)
{
    const char  *base;

    if (tk->pattern != 0) {
        tk->encoding = tk->pattern;
        return;
    }

    base = strrchr(name, '/');
    base = base ? base + 1 : name;

    if (strstr(base, "o200k") != NULL) {
        tk->encoding = AIROUTER_TOKENIZER_O200K;

    } else if (strstr(base, "cl100k") != NULL) {
        tk->encoding = AIROUTER_TOKENIZER_CL100K;

    } else {
        tk->encoding = tk->ntokens > AIROUTER_TK_O200K_RANKS
                       ? AIROUTER_TOKENIZER_O200K : AIROUTER_TOKENIZER_CL100K;
    }
}


static int
airouter_tk_add(airouter_tokenizer_t *tk, const char *b64, size_t b64len,
    uint32_t rank, char *err, size_t errlen)
{
    size_t                n, cap;
    void                 *p;
    airouter_tk_token_t  *t;

    /* blob is NULL until the first token, even an empty one (NULL + 0) */
    if (tk->blob == NULL || tk->blob_cap - tk->blob_len < b64len) {
        cap = tk->blob_cap ? tk->blob_cap : 1 << 20;
        while (cap - tk->blob_len < b64len) {
            cap *= 2;
        }

        if (cap > UINT32_MAX) {
            snprintf(err, errlen, "rank file too large");
            return -1;
        }

        p = realloc(tk->blob, cap);
        if (p == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }

        tk->blob = p;
        tk->blob_cap = cap;
    }

    if (tk->ntokens == tk->tokens_cap) {
        cap = tk->tokens_cap ? tk->tokens_cap * 2 : 65536;

        if (cap >= UINT32_MAX / 2) {
            snprintf(err, errlen, "too many ranks");
            return -1;
        }

        p = realloc(tk->tokens, cap * sizeof(airouter_tk_token_t));
        if (p == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }

        tk->tokens = p;
        tk->tokens_cap = cap;
    }

    if (airouter_tk_b64_decode(b64, b64len, tk->blob + tk->blob_len, &n)
        != 0
        || n == 0)
    {
        snprintf(err, errlen, "bad base64 token \"%.*s\"",
                 (int) (b64len > 40 ? 40 : b64len), b64);
        return -1;
    }

    t = &tk->tokens[tk->ntokens++];
    t->off = (uint32_t) tk->blob_len;
    t->len = (uint32_t) n;
    t->rank = rank;

    tk->blob_len += n;

    if (n > tk->max_token_len) {
        tk->max_token_len = n;
    }

    return 0;
}


/* Standard alphabet; padding optional; decodes at most len * 3 / 4 bytes. */
static int
airouter_tk_b64_decode(const char *in, size_t len, unsigned char *out,
    size_t *outlen)
{
    int       v;
    size_t    i, n, bits;
    uint32_t  acc;

    while (len > 0 && in[len - 1] == '=') {
        len--;
    }

    acc = 0;
    bits = 0;
    n = 0;

    for (i = 0; i < len; i++) {
        v = airouter_tk_b64_value((unsigned char) in[i]);
        if (v < 0) {
            return -1;
        }

        acc = (acc << 6) | (uint32_t) v;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char) (acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }

    if (bits >= 6) {
        return -1;
    }

    *outlen = n;

    return 0;
}


static int
airouter_tk_b64_value(int c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == '+') {
        return 62;
    }

    if (c == '/') {
        return 63;
    }

    return -1;
}


static int
airouter_tk_build_index(airouter_tokenizer_t *tk, char *err, size_t errlen)
{
    size_t                i, size;
    uint32_t              len;
    uint64_t              h, key;
    unsigned char        *blob;
    airouter_tk_slot_t   *s;
    airouter_tk_token_t  *t;

    if (tk->ntokens == 0) {
        snprintf(err, errlen, "no ranks in file");
        return -1;
    }

    for (size = 1024; size < tk->ntokens * 2; size *= 2) {
        /* void */
    }

    tk->slots = calloc(size, sizeof(airouter_tk_slot_t));
    if (tk->slots == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    tk->mask = size - 1;

    for (i = 0; i < tk->ntokens; i++) {
        t = &tk->tokens[i];
        len = t->len;

        if (len <= 8) {
            key = airouter_tk_key(tk->blob + t->off, len);
            h = airouter_tk_mix(key ^ ((uint64_t) len << 59));

        } else {
            h = airouter_tk_hash(tk->blob + t->off, len);
            key = ((uint64_t) t->off << 32) | (uint32_t) h;
        }

        /* a token listed twice keeps its first rank */
        if (airouter_tk_rank(tk, tk->blob + t->off, len)
            != AIROUTER_TK_NO_RANK)
        {
            continue;
        }

        for (s = &tk->slots[h & tk->mask];
             s->len != 0;
             s = &tk->slots[(size_t) (s - tk->slots + 1) & tk->mask])
        {
            /* void */
        }

        s->key = key;
        s->rank = t->rank;
        s->len = len;
    }

    /* only the slots and the blob are needed from here on */
    free(tk->tokens);
    tk->tokens = NULL;

    blob = realloc(tk->blob, tk->blob_len);
    if (blob != NULL) {
        tk->blob = blob;
        tk->blob_cap = tk->blob_len;
    }

    return 0;
}


/*
 * A token of 1 to 8 bytes as 64 bits: two 4-byte loads that overlap when
 * it is shorter than 8, or bytes 0, n/2 and n-1 when shorter than 4.
 * Together with the length this names the bytes exactly.
 */
static uint64_t
airouter_tk_key(const unsigned char *p, size_t n)
{
    uint32_t  lo, hi;

    if (n >= 4) {
        memcpy(&lo, p, 4);
        memcpy(&hi, p + n - 4, 4);
        return ((uint64_t) hi << 32) | lo;
    }

    return p[0] | ((uint64_t) p[n / 2] << 8) | ((uint64_t) p[n - 1] << 16);
}


/* For tokens of more than 8 bytes. */
static uint64_t
airouter_tk_hash(const unsigned char *p, size_t n)
{
    uint64_t  h, w;

    h = 0x9e3779b97f4a7c15ULL ^ ((uint64_t) n * 0xc2b2ae3d27d4eb4fULL);

    while (n >= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
        p += 8;
        n -= 8;
    }

    if (n > 0) {
        h ^= airouter_tk_key(p, n) + n;
    }

    return airouter_tk_mix(h);
}


static uint64_t
airouter_tk_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;

    return h;
}


static uint32_t
airouter_tk_rank(const airouter_tokenizer_t *tk, const unsigned char *p,
    size_t n)
{
    size_t                     i;
    uint64_t                   h, key;
    const airouter_tk_slot_t  *s;

    if (n > tk->max_token_len) {
        return AIROUTER_TK_NO_RANK;
    }

    if (n <= 8) {
        key = airouter_tk_key(p, n);
        h = airouter_tk_mix(key ^ ((uint64_t) n << 59));

        for (i = h & tk->mask; ; i = (i + 1) & tk->mask) {
            s = &tk->slots[i];

            if (s->len == 0) {
                return AIROUTER_TK_NO_RANK;
            }

            if (s->len == n && s->key == key) {
                return s->rank;
            }
        }
    }

    h = airouter_tk_hash(p, n);

    for (i = h & tk->mask; ; i = (i + 1) & tk->mask) {
        s = &tk->slots[i];

        if (s->len == 0) {
            return AIROUTER_TK_NO_RANK;
        }

        if (s->len == n && (uint32_t) s->key == (uint32_t) h
            && memcmp(tk->blob + (s->key >> 32), p, n) == 0)
        {
            return s->rank;
        }
    }
}


size_t
airouter_tokenizer_count(const airouter_tokenizer_t *tk, const char *utf8,
    size_t len)
{
    size_t                pos, end, count;
    const unsigned char  *p;

    if (tk == NULL) {
        return airouter_tokenizer_estimate(utf8, len);
    }

    p = (const unsigned char *) utf8;
    count = 0;

    for (pos = 0; pos < len; pos = end) {
        if (tk->encoding == AIROUTER_TOKENIZER_O200K) {
            end = airouter_tk_split_o200k(p, len, pos);

        } else {
            end = airouter_tk_split_cl100k(p, len, pos);
        }

        count += airouter_tk_count_piece(tk, p + pos, end - pos);
    }

    return count;
}


/*
 * Strict UTF-8 (no overlongs, surrogates or values past U+10FFFF); a byte
 * that does not start a valid sequence is a character of its own, of
 * class OTHER, as U+FFFD would be.
 */

/* the estimate's weight of one ASCII character, in eighths of a token */
static unsigned
airouter_tk_ascii_eighths(unsigned cls)
{
    switch (cls) {
    case AIROUTER_UCD_SPACE:
        return 1;
    case AIROUTER_UCD_LU:
    case AIROUTER_UCD_LL:
        return 2;
    case AIROUTER_UCD_NUMBER:
        return 4;
    default:
        return 5;
    }
}

static void
airouter_tk_char(const unsigned char *p, size_t len, size_t pos,
    airouter_tk_char_t *ch)
{
    unsigned  b, lo, hi;
    size_t    n, i;
    uint32_t  cp;

    if (pos >= len) {
        ch->cp = 0;
        ch->cls = AIROUTER_TK_END;
        ch->len = 0;
        return;
    }

    b = p[pos];

    if (b < 0x80) {
        ch->cp = b;
        ch->cls = airouter_ucd_latin1[b];
        ch->len = 1;
        return;
    }

    lo = 0x80;
    hi = 0xbf;

    if (b >= 0xc2 && b <= 0xdf) {
        n = 2;
        cp = b & 0x1f;

    } else if (b >= 0xe0 && b <= 0xef) {
        n = 3;
        cp = b & 0x0f;
        lo = (b == 0xe0) ? 0xa0 : 0x80;
        hi = (b == 0xed) ? 0x9f : 0xbf;

    } else if (b >= 0xf0 && b <= 0xf4) {
        n = 4;
        cp = b & 0x07;
        lo = (b == 0xf0) ? 0x90 : 0x80;
        hi = (b == 0xf4) ? 0x8f : 0xbf;

    } else {
        goto invalid;
    }

    if (len - pos < n || p[pos + 1] < lo || p[pos + 1] > hi) {
        goto invalid;
    }

    for (i = 1; i < n; i++) {
        if ((p[pos + i] & 0xc0) != 0x80) {
            goto invalid;
        }

        cp = (cp << 6) | (p[pos + i] & 0x3f);
    }

    ch->cp = cp;
    ch->cls = airouter_tk_class(cp);
    ch->len = n;
    return;

invalid:

    ch->cp = 0xfffd;
    ch->cls = AIROUTER_UCD_OTHER;
    ch->len = 1;
}


static unsigned
airouter_tk_class(uint32_t cp)
{
    size_t    lo, hi, mid;
    unsigned  block;

    if (cp < 256) {
        return airouter_ucd_latin1[cp];
    }

    block = airouter_ucd_blocks[cp >> 8];
    if (block != AIROUTER_UCD_MIXED) {
        return block;
    }

    /* the last run that starts at or before cp */
    lo = 0;
    hi = sizeof(airouter_ucd_runs) / sizeof(airouter_ucd_runs[0]);

    while (hi - lo > 1) {
        mid = lo + (hi - lo) / 2;

        if ((airouter_ucd_runs[mid] >> 3) <= cp) {
            lo = mid;

        } else {
            hi = mid;
        }
    }

    return airouter_ucd_runs[lo] & 7;
}


/* The end of the run of characters whose classes are in mask. */
static size_t
airouter_tk_run(const unsigned char *p, size_t len, size_t pos,
    unsigned mask)
{
    airouter_tk_char_t  ch;

    for ( ;; ) {
        airouter_tk_char(p, len, pos, &ch);

        if (!(AIROUTER_TK_BIT(ch.cls) & mask)) {
            return pos;
        }

        pos += ch.len;
    }
}


/*
 * (?i:'s|'t|'re|'ve|'m|'ll|'d): the length of the match at pos, or 0.
 * Case-insensitive as Rust's regex has it, by simple case folding, so
 * "'S" matches and so does "'\u017f" (LATIN SMALL LETTER LONG S).
 */
static size_t
airouter_tk_contraction(const unsigned char *p, size_t len, size_t pos)
{
    unsigned  c;

    if (len - pos < 2 || p[pos] != '\'') {
        return 0;
    }

    c = p[pos + 1] | 0x20;

    if (c == 's' || c == 't' || c == 'm' || c == 'd') {
        return 2;
    }

    if (p[pos + 1] == 0xc5 && len - pos >= 3 && p[pos + 2] == 0xbf) {
        return 3;
    }

    if (len - pos < 3) {
        return 0;
    }

    if (((c == 'r' || c == 'v') && (p[pos + 2] | 0x20) == 'e')
        || (c == 'l' && (p[pos + 2] | 0x20) == 'l'))
    {
        return 3;
    }

    return 0;
}


/*
 * cl100k_base, one piece from pos:
 *
 *     (?i:'s|'t|'re|'ve|'m|'ll|'d)
 *   | [^\r\n\p{L}\p{N}]?\p{L}+
 *   | \p{N}{1,3}
 *   | ' '?[^\s\p{L}\p{N}]+[\r\n]*
 *   | \s*[\r\n]+
 *   | \s+(?!\S)
 *   | \s+
 *
 * Every character starts one of these, so a piece is never empty.
 */
static size_t
airouter_tk_split_cl100k(const unsigned char *p, size_t len, size_t pos)
{
    size_t              n, end;
    airouter_tk_char_t  c0, c1;

    airouter_tk_char(p, len, pos, &c0);

    if (c0.cp == '\'') {
        n = airouter_tk_contraction(p, len, pos);
        if (n) {
            return pos + n;
        }
    }

    if (AIROUTER_TK_BIT(c0.cls) & AIROUTER_TK_LETTER) {
        return airouter_tk_run(p, len, pos, AIROUTER_TK_LETTER);
    }

    airouter_tk_char(p, len, pos + c0.len, &c1);

    if (c0.cp != '\r' && c0.cp != '\n' && c0.cls != AIROUTER_UCD_NUMBER
        && (AIROUTER_TK_BIT(c1.cls) & AIROUTER_TK_LETTER))
    {
        return airouter_tk_run(p, len, pos + c0.len, AIROUTER_TK_LETTER);
    }

    if (c0.cls == AIROUTER_UCD_NUMBER) {
        end = pos + c0.len;

        for (n = 1; n < 3; n++) {
            airouter_tk_char(p, len, end, &c1);
            if (c1.cls != AIROUTER_UCD_NUMBER) {
                break;
            }

            end += c1.len;
        }

        return end;
    }

    end = airouter_tk_split_punct(p, len, pos, &c0, 0);
    if (end != pos) {
        return end;
    }

    return airouter_tk_split_space(p, len, pos);
}


/*
 * o200k_base, one piece from pos:
 *
 *     [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*
 *         [\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
 *   | [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+
 *         [\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
 *   | \p{N}{1,3}
 *   | ' '?[^\s\p{L}\p{N}]+[\r\n/]*
 *   | \s*[\r\n]+
 *   | \s+(?!\S)
 *   | \s+
 *
 * Marks (\p{M}) are in the prefix class, in both case classes and in the
 * punctuation class, so the first two alternatives are tried with the
 * prefix taken and then without it, as the backtracking engine would.
 */
static size_t
airouter_tk_split_o200k(const unsigned char *p, size_t len, size_t pos)
{
    size_t              start[2], nstart, i, n, end;
    airouter_tk_char_t  c0, c1;

    airouter_tk_char(p, len, pos, &c0);

    nstart = 0;

    if (c0.cp != '\r' && c0.cp != '\n'
        && !(AIROUTER_TK_BIT(c0.cls) & AIROUTER_TK_LETTER)
        && c0.cls != AIROUTER_UCD_NUMBER)
    {
        start[nstart++] = pos + c0.len;
    }

    start[nstart++] = pos;

    for (i = 0; i < nstart; i++) {
        end = airouter_tk_o200k_lower_word(p, len, start[i]);
        if (end != 0) {
            return end + airouter_tk_contraction(p, len, end);
        }
    }

    for (i = 0; i < nstart; i++) {
        airouter_tk_char(p, len, start[i], &c1);

        if (AIROUTER_TK_BIT(c1.cls) & AIROUTER_TK_UPPER) {
            end = airouter_tk_run(p, len, start[i], AIROUTER_TK_UPPER);
            end = airouter_tk_run(p, len, end, AIROUTER_TK_LOWER);
            return end + airouter_tk_contraction(p, len, end);
        }
    }

    if (c0.cls == AIROUTER_UCD_NUMBER) {
        end = pos + c0.len;

        for (n = 1; n < 3; n++) {
            airouter_tk_char(p, len, end, &c1);
            if (c1.cls != AIROUTER_UCD_NUMBER) {
                break;
            }

            end += c1.len;
        }

        return end;
    }

    end = airouter_tk_split_punct(p, len, pos, &c0, 1);
    if (end != pos) {
        return end;
    }

    return airouter_tk_split_space(p, len, pos);
}


/*
 * UPPER* LOWER+ from pos, where the classes overlap (Lm, Lo, M): the
 * greedy UPPER* gives back characters until one of them, or the one after
 * the UPPER run, can start LOWER+.  Returns the end, or 0 for no match.
 */
static size_t
airouter_tk_o200k_lower_word(const unsigned char *p, size_t len, size_t pos)
{
    size_t              last;
    airouter_tk_char_t  ch;

    last = 0;

    for ( ;; ) {
        airouter_tk_char(p, len, pos, &ch);

        if (!(AIROUTER_TK_BIT(ch.cls) & AIROUTER_TK_UPPER)) {
            break;
        }

        if (AIROUTER_TK_BIT(ch.cls) & AIROUTER_TK_LOWER) {
            last = pos + ch.len;
        }

        pos += ch.len;
    }

    if (AIROUTER_TK_BIT(ch.cls) & AIROUTER_TK_LOWER) {
        return airouter_tk_run(p, len, pos, AIROUTER_TK_LOWER);
    }

    /*
     * Backtracking stops at the last LOWER character inside the UPPER run;
     * LOWER+ then takes just it, as an Lu or Lt follows.
     */
    return last;
}


/*
 * ' '?[^\s\p{L}\p{N}]+[\r\n]* (with '/' in the tail when slash is set);
 * returns pos when it does not match.
 */
static size_t
airouter_tk_split_punct(const unsigned char *p, size_t len, size_t pos,
    const airouter_tk_char_t *c0, int slash)
{
    size_t              end;
    airouter_tk_char_t  c1;

    if (AIROUTER_TK_BIT(c0->cls) & AIROUTER_TK_PUNCT) {
        end = airouter_tk_run(p, len, pos, AIROUTER_TK_PUNCT);

    } else if (c0->cp == ' ') {
        airouter_tk_char(p, len, pos + 1, &c1);

        if (!(AIROUTER_TK_BIT(c1.cls) & AIROUTER_TK_PUNCT)) {
            return pos;
        }

        end = airouter_tk_run(p, len, pos + 1, AIROUTER_TK_PUNCT);

    } else {
        return pos;
    }

    while (end < len
           && (p[end] == '\r' || p[end] == '\n' || (slash && p[end] == '/')))
    {
        end++;
    }

    return end;
}


/*
 * \s*[\r\n]+ | \s+(?!\S) | \s+ over the whitespace run at pos: up to and
 * including its last line break if it has one; else all of it at the end
 * of the text or when it is one character; else all but its last
 * character, which then leads the next piece (" word").
 */
static size_t
airouter_tk_split_space(const unsigned char *p, size_t len, size_t pos)
{
    size_t              end, last, nl, n;
    airouter_tk_char_t  ch;

    end = pos;
    last = pos;
    nl = 0;
    n = 0;

    for ( ;; ) {
        airouter_tk_char(p, len, end, &ch);

        if (ch.cls != AIROUTER_UCD_SPACE) {
            break;
        }

        if (ch.cp == '\r' || ch.cp == '\n') {
            nl = end + 1;
        }

        last = end;
        end += ch.len;
        n++;
    }

    if (nl != 0) {
        return nl;
    }

    if (end == len || n == 1) {
        return end;
    }

    return last;
}


static size_t
airouter_tk_count_piece(const airouter_tokenizer_t *tk,
    const unsigned char *p, size_t n)
{
    if (n == 1 || airouter_tk_rank(tk, p, n) != AIROUTER_TK_NO_RANK) {
        return 1;
    }

    if (n <= AIROUTER_TK_SMALL_PIECE) {
        return airouter_tk_merge_small(tk, p, n);
    }

    return airouter_tk_merge_large(tk, p, n);
}


/*
 * The byte-pair merge as tiktoken does it: start from single bytes and
 * merge the adjacent pair whose concatenation has the lowest rank, the
 * leftmost on a tie, until no pair is a token.  bound[] holds the part
 * boundaries, rank[i] the rank of parts i and i + 1 joined.
 */
static size_t
airouter_tk_merge_small(const airouter_tokenizer_t *tk,
    const unsigned char *p, size_t n)
{
    size_t    i, k, parts;
    uint32_t  min;
    uint8_t   bound[AIROUTER_TK_SMALL_PIECE + 1];
    uint32_t  rank[AIROUTER_TK_SMALL_PIECE];

    parts = n;

    for (i = 0; i <= n; i++) {
        bound[i] = (uint8_t) i;
    }

    for (i = 0; i + 1 < parts; i++) {
        rank[i] = airouter_tk_rank(tk, p + i, 2);
    }

    while (parts > 1) {
        min = AIROUTER_TK_NO_RANK;
        k = 0;

        for (i = 0; i + 1 < parts; i++) {
            if (rank[i] < min) {
                min = rank[i];
                k = i;
            }
        }

        if (min == AIROUTER_TK_NO_RANK) {
            break;
        }

        /* parts k and k + 1 become one: drop boundary k + 1 */
        memmove(&bound[k + 1], &bound[k + 2], parts - k - 1);
        if (k + 3 < parts) {
            memmove(&rank[k + 1], &rank[k + 2],
                    (parts - k - 3) * sizeof(uint32_t));
        }

        parts--;

        if (k + 1 < parts) {
            rank[k] = airouter_tk_rank(tk, p + bound[k],
                                       bound[k + 2] - bound[k]);
        }

        if (k > 0) {
            rank[k - 1] = airouter_tk_rank(tk, p + bound[k - 1],
                                           bound[k + 1] - bound[k - 1]);
        }
    }

    return parts;
}


/*
 * The same merge for long pieces in O(n log n): parts form a linked list
 * whose nodes are named by their first byte's offset (so node order is
 * text order), and a binary heap holds candidate pairs ordered by (rank,
 * node).  A merge bumps the version of the nodes whose pairs changed;
 * heap entries with an old version are skipped when they surface.
 */
static size_t
airouter_tk_merge_large(const airouter_tokenizer_t *tk,
    const unsigned char *p, size_t n)
{
    size_t               i, nheap, parts;
    uint32_t             node, next, prev, rank, *nexts, *prevs, *versions;
    void                *mem;
    airouter_tk_heap_t  *heap, top;

    if (n > UINT32_MAX / 4) {
        return airouter_tokenizer_estimate((const char *) p, n);
    }

    /* Each merge pushes at most two entries: 3n bounds the heap. */
    mem = malloc(n * 3 * sizeof(uint32_t) + n * 3 * sizeof(airouter_tk_heap_t));
    if (mem == NULL) {
        return airouter_tokenizer_estimate((const char *) p, n);
    }

    heap = mem;
    nexts = (uint32_t *) (heap + n * 3);
    prevs = nexts + n;
    versions = prevs + n;

    nheap = 0;

    for (i = 0; i < n; i++) {
        nexts[i] = (uint32_t) i + 1;
        prevs[i] = (uint32_t) i - 1;
        versions[i] = 0;

        if (i + 1 < n) {
            rank = airouter_tk_rank(tk, p + i, 2);
            if (rank != AIROUTER_TK_NO_RANK) {
                airouter_tk_heap_push(heap, &nheap, rank, (uint32_t) i, 0);
            }
        }
    }

    parts = n;

    while (nheap > 0) {
        airouter_tk_heap_pop(heap, &nheap, &top);

        node = (uint32_t) top.order;

        /* dead nodes have UINT32_MAX as version */
        if (top.version != versions[node]) {
            continue;
        }

        next = nexts[node];
        versions[next] = UINT32_MAX;
        nexts[node] = nexts[next];

        if (nexts[node] < n) {
            prevs[nexts[node]] = node;
        }

        parts--;

        versions[node]++;

        if (nexts[node] < n) {
            rank = airouter_tk_rank(tk, p + node,
                                    nexts[nexts[node]] - node);
            if (rank != AIROUTER_TK_NO_RANK) {
                airouter_tk_heap_push(heap, &nheap, rank, node,
                                      versions[node]);
            }
        }

        if (node > 0) {
            prev = prevs[node];
            versions[prev]++;

            rank = airouter_tk_rank(tk, p + prev, nexts[node] - prev);
            if (rank != AIROUTER_TK_NO_RANK) {
                airouter_tk_heap_push(heap, &nheap, rank, prev,
                                      versions[prev]);
            }
        }
    }

    free(mem);

    return parts;
}


static void
airouter_tk_heap_push(airouter_tk_heap_t *heap, size_t *nheap, uint32_t rank,
    uint32_t node, uint32_t version)
{
    size_t              i, parent;
    airouter_tk_heap_t  e;

    e.order = ((uint64_t) rank << 32) | node;
    e.version = version;

    for (i = (*nheap)++; i > 0; i = parent) {
        parent = (i - 1) / 2;

        if (e.order >= heap[parent].order) {
            break;
        }

        heap[i] = heap[parent];
    }

    heap[i] = e;
}


static void
airouter_tk_heap_pop(airouter_tk_heap_t *heap, size_t *nheap,
    airouter_tk_heap_t *top)
{
    size_t              i, child, n;
    airouter_tk_heap_t  last;

    *top = heap[0];

    n = --(*nheap);
    last = heap[n];

    for (i = 0; (child = 2 * i + 1) < n; i = child) {
        if (child + 1 < n && heap[child + 1].order < heap[child].order) {
            child++;
        }

        if (heap[child].order >= last.order) {
            break;
        }

        heap[i] = heap[child];
    }

    heap[i] = last;
}


/* Weights in eighths of a token; see airouter_tokenizer.h. */
size_t
airouter_tokenizer_estimate(const char *utf8, size_t len)
{
    size_t                eighths, pos;
    const unsigned char  *p;
    airouter_tk_char_t    ch;

    p = (const unsigned char *) utf8;
    eighths = 0;

    for (pos = 0; pos < len; pos += ch.len) {

        /* ASCII, most of most prompts, without the decoder's call: the
         * same weights as below */
        while (pos < len && p[pos] < 0x80) {
            eighths += airouter_tk_ascii_eighths(airouter_ucd_latin1[p[pos]]);
            pos++;
        }

        if (pos == len) {
            break;
        }

        airouter_tk_char(p, len, pos, &ch);

        if (ch.cp < 0x80) {
            eighths += airouter_tk_ascii_eighths(ch.cls);

        } else if (ch.cp == 0xfffd && ch.len == 1) {
            eighths += 8;

        } else if (ch.cls == AIROUTER_UCD_MARK || ch.cp == 0x200d
                   || (ch.cp >= 0xfe00 && ch.cp <= 0xfe0f))
        {
            eighths += 4;

        } else if (ch.len == 4) {
            eighths += 20;

        } else if (ch.len == 2) {
            eighths += 7;

        } else if ((ch.cp >= 0x3040 && ch.cp <= 0x30ff)
                   || (ch.cp >= 0x3400 && ch.cp <= 0x9fff)
                   || (ch.cp >= 0xac00 && ch.cp <= 0xd7af)
                   || (ch.cp >= 0xf900 && ch.cp <= 0xfaff))
        {
            eighths += 8;

        } else {
            eighths += 12;
        }
    }

    return (eighths + 7) / 8;
}
