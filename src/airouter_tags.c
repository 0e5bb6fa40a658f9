/*
 * Name analysis declared in airouter_tags.h: tokens, core names, sizes,
 * context lengths and capability guesses.  Every function works on the
 * caller's bytes, ASCII case-insensitively; no copies, no allocation.
 */

#include <stdlib.h>
#include <string.h>

#include "airouter_tags.h"


typedef struct {
    const char               *name;
    size_t                    len;
    size_t                    pos;
} airouter_tags_scan_t;


static int airouter_tags_lc(int c);
static int airouter_tags_digit(int c);
static int airouter_tags_next(airouter_tags_scan_t *s, airouter_tag_t *tok);
static int airouter_tags_token_is(const airouter_tag_t *tok, const char *s);
static int airouter_tags_contains(const char *name, size_t len,
    const char *needle);
static int airouter_tags_has_token(const char *name, size_t len,
    const char *word);
static int airouter_tags_number(const char *p, size_t len, double *value);
static int airouter_tags_size(const airouter_tag_t *tok, char unit,
    double *value);
static int airouter_tags_date(const char *p, size_t len);
static int airouter_tags_vision_token(const airouter_tag_t *tok);


size_t
airouter_tags_extract(const char *name, size_t len, airouter_tag_t *tags,
    size_t max)
{
    size_t                 n, i;
    airouter_tag_t         tok;
    airouter_tags_scan_t   s;

    s.name = name;
    s.len = len;
    s.pos = 0;
    n = 0;

    while (n < max && airouter_tags_next(&s, &tok)) {

        for (i = 0; i < n; i++) {
            if (airouter_tags_eq(tags[i].data, tags[i].len,
                                 tok.data, tok.len))
            {
                break;
            }
        }

        if (i == n) {
            tags[n++] = tok;
        }
    }

    return n;
}


size_t
airouter_tags_join(const char *name, size_t len, char *buf, size_t size)
{
    size_t           n, i, j, need;
    airouter_tag_t   tags[AIROUTER_TAGS_MAX];

    n = airouter_tags_extract(name, len, tags, AIROUTER_TAGS_MAX);
    need = 0;

    for (i = 0; i < n; i++) {
        if (i > 0) {
            if (need + 1 < size) {
                buf[need] = ',';
            }
            need++;
        }

        for (j = 0; j < tags[i].len; j++) {
            if (need + 1 < size) {
                buf[need] = (char) airouter_tags_lc(tags[i].data[j]);
            }
            need++;
        }
    }

    if (size > 0) {
        buf[need < size ? need : size - 1] = '\0';
    }

    return need;
}


int
airouter_tags_is_sep(int c)
{
    return c == ':' || c == '/' || c == '@' || c == '-' || c == '_';
}


int
airouter_tags_meaningful(const char *p, size_t len)
{
    size_t  i;

    if (len <= 1) {
        return 0;
    }

    /* "v2", "V3.1": a version letter before digits */
    i = (airouter_tags_lc(p[0]) == 'v') ? 1 : 0;

    if (!airouter_tags_digit(p[i])) {
        return 1;
    }

    for ( /* void */ ; i < len; i++) {
        if (!airouter_tags_digit(p[i]) && p[i] != '.') {
            return 1;
        }
    }

    return 0;
}


int
airouter_tags_has(const char *name, size_t len, const char *word,
    size_t wlen)
{
    airouter_tag_t         tok;
    airouter_tags_scan_t   s;

    s.name = name;
    s.len = len;
    s.pos = 0;

    while (airouter_tags_next(&s, &tok)) {
        if (airouter_tags_eq(tok.data, tok.len, word, wlen)) {
            return 1;
        }
    }

    return 0;
}


void
airouter_tags_core(const char *name, size_t len, size_t *start, size_t *end)
{
    size_t  s, e, i;

    s = 0;

    for (i = len; i > 0; i--) {
        if (name[i - 1] == '/') {
            s = i;
            break;
        }
    }

    if (s == len) {
        s = 0;
    }

    e = len;

    for (i = s; i < len; i++) {
        if (name[i] == ':') {
            if (i > s) {
                e = i;
            }
            break;
        }
    }

    /* -YYYY-MM-DD, -YYYYMMDD, -YYYYMM; a separator must precede it */

    if (e - s > 11 && airouter_tags_date(name + e - 10, 10)
        && (name[e - 11] == '-' || name[e - 11] == '_'))
    {
        e -= 11;

    } else if (e - s > 9 && airouter_tags_date(name + e - 8, 8)
               && (name[e - 9] == '-' || name[e - 9] == '_'))
    {
        e -= 9;

    } else if (e - s > 7 && airouter_tags_date(name + e - 6, 6)
               && (name[e - 7] == '-' || name[e - 7] == '_'))
    {
        e -= 7;
    }

    *start = s;
    *end = e;
}


airouter_tag_t
airouter_tags_variant(const char *name, size_t len)
{
    size_t          i, s;
    airouter_tag_t  v;

    v.data = name + len;
    v.len = 0;
    s = 0;

    for (i = len; i > 0; i--) {
        if (name[i - 1] == '/') {
            s = i;
            break;
        }
    }

    for (i = s; i < len; i++) {
        if (name[i] == ':') {
            v.data = name + i + 1;
            v.len = len - i - 1;
            break;
        }
    }

    return v;
}


int
airouter_tags_params(const char *name, size_t len, double *total,
    double *active)
{
    int                    found;
    double                 v, experts;
    const char            *x;
    airouter_tag_t         tok, sub;
    airouter_tags_scan_t   s;

    s.name = name;
    s.len = len;
    s.pos = 0;
    found = 0;
    *total = 0;
    *active = 0;

    while (airouter_tags_next(&s, &tok)) {

        if (found) {
            /* "a3b" right after the total: the active parameters */
            if (tok.len > 2 && airouter_tags_lc(tok.data[0]) == 'a') {
                sub.data = tok.data + 1;
                sub.len = tok.len - 1;

                if (airouter_tags_size(&sub, 'b', &v) && v < *total) {
                    *active = v;
                }
            }

            break;
        }

        if (airouter_tags_size(&tok, 'b', &v)
            || airouter_tags_size(&tok, 't', &v))
        {
            *total = v;
            *active = v;
            found = 1;
            continue;
        }

        if (airouter_tags_size(&tok, 'm', &v) && v >= 10) {
            *total = v;
            *active = v;
            found = 1;
            continue;
        }

        /* "8x7b": experts x expert size, two experts active per token */
        x = memchr(tok.data, 'x', tok.len);
        if (x != NULL && x > tok.data
            && airouter_tags_number(tok.data, x - tok.data, &experts))
        {
            sub.data = x + 1;
            sub.len = tok.len - (x + 1 - tok.data);

            if (experts >= 2 && airouter_tags_size(&sub, 'b', &v)) {
                *total = experts * v;
                *active = 2 * v;
                return 1;
            }
        }

        /* gemma's "e2b": effective size, stated as such */
        if (tok.len > 2 && airouter_tags_lc(tok.data[0]) == 'e') {
            sub.data = tok.data + 1;
            sub.len = tok.len - 1;

            if (airouter_tags_size(&sub, 'b', &v)) {
                *total = v;
                *active = v;
                return 1;
            }
        }
    }

    return found;
}


uint64_t
airouter_tags_context(const char *name, size_t len)
{
    double                 v;
    airouter_tag_t         tok;
    airouter_tags_scan_t   s;

    s.name = name;
    s.len = len;
    s.pos = 0;

    while (airouter_tags_next(&s, &tok)) {

        if (airouter_tags_size(&tok, 'k', &v) && v >= 1 && v < 100000) {
            return (uint64_t) (v * 1024);
        }

        if (airouter_tags_size(&tok, 'm', &v) && v > 0 && v < 10) {
            return (uint64_t) (v * 1048576);
        }
    }

    return 0;
}


uint32_t
airouter_tags_caps(const char *name, size_t len)
{
    uint32_t               caps;
    airouter_tag_t         tok;
    airouter_tags_scan_t   s;

    if (airouter_tags_contains(name, len, "rerank")) {
        caps = AIROUTER_CAP_RERANK;

    } else if (airouter_tags_contains(name, len, "moderation")) {
        caps = AIROUTER_CAP_MODERATION;

    } else if (airouter_tags_contains(name, len, "embed")
               || airouter_tags_has_token(name, len, "bge")
               || airouter_tags_has_token(name, len, "e5"))
    {
        caps = AIROUTER_CAP_EMBEDDING;

    } else if (airouter_tags_contains(name, len, "whisper")
               || airouter_tags_contains(name, len, "transcri")
               || airouter_tags_contains(name, len, "sensevoice")
               || airouter_tags_contains(name, len, "paraformer")
               || airouter_tags_contains(name, len, "speech-to-text")
               || airouter_tags_has_token(name, len, "asr")
               || airouter_tags_has_token(name, len, "stt"))
    {
        caps = AIROUTER_CAP_TRANSCRIPTION;

    } else if (airouter_tags_has_token(name, len, "tts")
               || airouter_tags_contains(name, len, "cosyvoice")
               || airouter_tags_contains(name, len, "speech"))
    {
        caps = AIROUTER_CAP_SPEECH;

    } else if (airouter_tags_contains(name, len, "dall-e")
               || airouter_tags_contains(name, len, "flux")
               || airouter_tags_contains(name, len, "stable-diffusion")
               || airouter_tags_has_token(name, len, "sd3")
               || airouter_tags_contains(name, len, "image-gen")
               || airouter_tags_contains(name, len, "gpt-image")
               || airouter_tags_contains(name, len, "imagen")
               || airouter_tags_contains(name, len, "kolors")
               || airouter_tags_contains(name, len, "cogview")
               || airouter_tags_contains(name, len, "seedream"))
    {
        caps = AIROUTER_CAP_IMAGE_GEN;

    } else {
        /* "gpt-4o-audio-preview" and its kind are chat models */
        caps = AIROUTER_CAP_CHAT;
    }

    if (airouter_tags_contains(name, len, "vision")
        || airouter_tags_contains(name, len, "llava")
        || airouter_tags_contains(name, len, "cogvlm")
        || airouter_tags_contains(name, len, "internvl")
        || airouter_tags_contains(name, len, "pixtral")
        || airouter_tags_contains(name, len, "gpt-4o")
        || airouter_tags_contains(name, len, "gpt-4.1")
        || airouter_tags_contains(name, len, "claude-3")
        || airouter_tags_contains(name, len, "claude-opus-4")
        || airouter_tags_contains(name, len, "claude-sonnet-4")
        || airouter_tags_contains(name, len, "claude-haiku-4")
        || airouter_tags_contains(name, len, "gemini"))
    {
        caps |= AIROUTER_CAP_VISION;

    } else {
        s.name = name;
        s.len = len;
        s.pos = 0;

        while (airouter_tags_next(&s, &tok)) {
            if (airouter_tags_vision_token(&tok)) {
                caps |= AIROUTER_CAP_VISION;
                break;
            }
        }
    }

    /* image readers that are not general chat models */
    if (airouter_tags_contains(name, len, "llava")
        || airouter_tags_contains(name, len, "cogvlm")
        || airouter_tags_contains(name, len, "moondream")
        || airouter_tags_has_token(name, len, "ocr"))
    {
        caps |= AIROUTER_CAP_VISION | AIROUTER_CAP_VISION_ONLY;
    }

    if (airouter_tags_has_token(name, len, "r1")
        || airouter_tags_has_token(name, len, "o1")
        || airouter_tags_has_token(name, len, "o3")
        || airouter_tags_has_token(name, len, "o4")
        || airouter_tags_has_token(name, len, "qwq")
        || airouter_tags_contains(name, len, "thinking")
        || airouter_tags_contains(name, len, "reasoner")
        || airouter_tags_contains(name, len, "reasoning"))
    {
        caps |= AIROUTER_CAP_REASONING;
    }

    if (airouter_tags_contains(name, len, "code")) {
        caps |= AIROUTER_CAP_CODE;
    }

    return caps;
}


const char *
airouter_tags_kind_name(uint32_t caps)
{
#define AIROUTER_TAGS_KIND_NAME(bit, name)                                    \
    if (caps & (bit)) {                                                       \
        return name;                                                          \
    }

    AIROUTER_KINDS(AIROUTER_TAGS_KIND_NAME)

#undef AIROUTER_TAGS_KIND_NAME

    return NULL;
}


uint32_t
airouter_tags_kind(const char *word, size_t len)
{
    size_t  i;

    /* providers' words beside our own names; first match wins */
    static const struct {
        const char  *word;
        uint32_t     kind;
    } words[] = {
        { "chat", AIROUTER_CAP_CHAT },
        { "llm", AIROUTER_CAP_CHAT },
        { "vlm", AIROUTER_CAP_CHAT },
        { "language", AIROUTER_CAP_CHAT },
        { "text", AIROUTER_CAP_CHAT },
        { "code", AIROUTER_CAP_CHAT },
        { "completion", AIROUTER_CAP_CHAT },
        { "embedding", AIROUTER_CAP_EMBEDDING },
        { "embeddings", AIROUTER_CAP_EMBEDDING },
        { "rerank", AIROUTER_CAP_RERANK },
        { "reranker", AIROUTER_CAP_RERANK },
        { "image", AIROUTER_CAP_IMAGE_GEN },
        { "image_generation", AIROUTER_CAP_IMAGE_GEN },
        { "image-generation", AIROUTER_CAP_IMAGE_GEN },
        { "text-to-image", AIROUTER_CAP_IMAGE_GEN },
        { "image-to-image", AIROUTER_CAP_IMAGE_GEN },
        { "audio_speech", AIROUTER_CAP_SPEECH },
        { "audio", AIROUTER_CAP_SPEECH },
        { "speech", AIROUTER_CAP_SPEECH },
        { "tts", AIROUTER_CAP_SPEECH },
        { "text-to-speech", AIROUTER_CAP_SPEECH },
        { "audio_transcription", AIROUTER_CAP_TRANSCRIPTION },
        { "transcription", AIROUTER_CAP_TRANSCRIPTION },
        { "transcribe", AIROUTER_CAP_TRANSCRIPTION },
        { "stt", AIROUTER_CAP_TRANSCRIPTION },
        { "asr", AIROUTER_CAP_TRANSCRIPTION },
        { "speech-to-text", AIROUTER_CAP_TRANSCRIPTION },
        { "moderation", AIROUTER_CAP_MODERATION },
        { "moderations", AIROUTER_CAP_MODERATION }
    };

    if (word == NULL) {
        return 0;
    }

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (airouter_tags_eq(word, len, words[i].word,
                             strlen(words[i].word)))
        {
            return words[i].kind;
        }
    }

    return 0;
}


int
airouter_tags_eq(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t  i;

    if (alen != blen) {
        return 0;
    }

    for (i = 0; i < alen; i++) {
        if (airouter_tags_lc(a[i]) != airouter_tags_lc(b[i])) {
            return 0;
        }
    }

    return 1;
}


static int
airouter_tags_lc(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : (c & 0xff);
}


static int
airouter_tags_digit(int c)
{
    return c >= '0' && c <= '9';
}


static int
airouter_tags_next(airouter_tags_scan_t *s, airouter_tag_t *tok)
{
    size_t  b;

    while (s->pos < s->len && airouter_tags_is_sep(s->name[s->pos])) {
        s->pos++;
    }

    if (s->pos == s->len) {
        return 0;
    }

    b = s->pos;

    while (s->pos < s->len && !airouter_tags_is_sep(s->name[s->pos])) {
        s->pos++;
    }

    tok->data = s->name + b;
    tok->len = s->pos - b;

    return 1;
}


static int
airouter_tags_token_is(const airouter_tag_t *tok, const char *s)
{
    return airouter_tags_eq(tok->data, tok->len, s, strlen(s));
}


static int
airouter_tags_contains(const char *name, size_t len, const char *needle)
{
    size_t  n, i, j;

    n = strlen(needle);

    for (i = 0; i + n <= len; i++) {
        for (j = 0; j < n; j++) {
            if (airouter_tags_lc(name[i + j]) != needle[j]) {
                break;
            }
        }

        if (j == n) {
            return 1;
        }
    }

    return 0;
}


static int
airouter_tags_has_token(const char *name, size_t len, const char *word)
{
    return airouter_tags_has(name, len, word, strlen(word));
}


/* digits, optionally '.' digits: "8", "0.6", "1.7" */
static int
airouter_tags_number(const char *p, size_t len, double *value)
{
    size_t  i, dot;
    double  v, scale;

    if (len == 0 || len > 12 || !airouter_tags_digit(p[0])) {
        return 0;
    }

    v = 0;
    scale = 1;
    dot = 0;

    for (i = 0; i < len; i++) {
        if (p[i] == '.' && !dot && i + 1 < len) {
            dot = 1;
            continue;
        }

        if (!airouter_tags_digit(p[i])) {
            return 0;
        }

        if (dot) {
            scale /= 10;
            v += (p[i] - '0') * scale;

        } else {
            v = v * 10 + (p[i] - '0');
        }
    }

    *value = v;

    return 1;
}


/*
 * A number followed by one unit letter: 'b' billions, 't' trillions and
 * 'm' millions give millions of parameters; 'k' and 'm' are also read as
 * thousands/millions of tokens by airouter_tags_context.
 */
static int
airouter_tags_size(const airouter_tag_t *tok, char unit, double *value)
{
    double  v;

    if (tok->len < 2 || airouter_tags_lc(tok->data[tok->len - 1]) != unit) {
        return 0;
    }

    if (!airouter_tags_number(tok->data, tok->len - 1, &v) || v <= 0) {
        return 0;
    }

    switch (unit) {
    case 'b':
        v *= 1000;
        break;
    case 't':
        v *= 1000000;
        break;
    default:
        break;
    }

    *value = v;

    return 1;
}


/* YYYY-MM-DD (10), YYYYMMDD (8), YYYYMM (6); years 1990..2099 */
static int
airouter_tags_date(const char *p, size_t len)
{
    int     year, month, day;
    size_t  i;

    if (len == 10) {
        if (p[4] != '-' || p[7] != '-') {
            return 0;
        }

        for (i = 0; i < 10; i++) {
            if (i != 4 && i != 7 && !airouter_tags_digit(p[i])) {
                return 0;
            }
        }

        month = (p[5] - '0') * 10 + (p[6] - '0');
        day = (p[8] - '0') * 10 + (p[9] - '0');

    } else if (len == 8 || len == 6) {
        for (i = 0; i < len; i++) {
            if (!airouter_tags_digit(p[i])) {
                return 0;
            }
        }

        month = (p[4] - '0') * 10 + (p[5] - '0');
        day = len == 8 ? (p[6] - '0') * 10 + (p[7] - '0') : 1;

    } else {
        return 0;
    }

    year = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10
           + (p[3] - '0');

    return year >= 1990 && year <= 2099 && month >= 1 && month <= 12
           && day >= 1 && day <= 31;
}


/* "vl", "v" (minicpm-v), "4v" / "4.1v" (glm-4v, glm-4.1v) */
static int
airouter_tags_vision_token(const airouter_tag_t *tok)
{
    double  v;

    if (airouter_tags_token_is(tok, "vl")
        || airouter_tags_token_is(tok, "v"))
    {
        return 1;
    }

    if (tok->len >= 2 && airouter_tags_lc(tok->data[tok->len - 1]) == 'v'
        && airouter_tags_number(tok->data, tok->len - 1, &v))
    {
        return 1;
    }

    return 0;
}
