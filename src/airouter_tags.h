/*
 * What a model's name says about it: tags, the core name, parameter count,
 * context length and capabilities.  Pure functions over (pointer, length)
 * strings; nothing is allocated and names of any length are accepted.
 *
 * Called by the catalogue builder (airouter_catalog.c) for every entry and
 * by the query code (airouter_query.c) to read a request's model string.
 */

#ifndef AIROUTER_TAGS_H
#define AIROUTER_TAGS_H

#include <stddef.h>
#include <stdint.h>


/* At most this many tags are taken from one name; the rest are ignored. */
#define AIROUTER_TAGS_MAX          32


/*
 * Capability bits.  The kind bits (CHAT ... MODERATION) say which endpoint
 * a model serves, exactly one per catalogue entry; the others are
 * features.  VISION_ONLY marks models that are image readers rather than
 * general chat models (llava, cogvlm, *-ocr).
 */
#define AIROUTER_CAP_CHAT          0x0001
#define AIROUTER_CAP_EMBEDDING     0x0002
#define AIROUTER_CAP_RERANK        0x0004
#define AIROUTER_CAP_SPEECH        0x0008   /* text to speech */
#define AIROUTER_CAP_IMAGE_GEN     0x0010
#define AIROUTER_CAP_VISION        0x0020
#define AIROUTER_CAP_TOOLS         0x0040
#define AIROUTER_CAP_REASONING     0x0080
#define AIROUTER_CAP_CODE          0x0100
#define AIROUTER_CAP_VISION_ONLY   0x0200
#define AIROUTER_CAP_TRANSCRIPTION 0x0400   /* speech to text */
#define AIROUTER_CAP_MODERATION    0x0800

/*
 * The kinds, once: X(bit, name).  The name is what /v1/models, explain and
 * the admin API show, and what airouter_tags_kind() reads back.
 */
#define AIROUTER_KINDS(X)                                                     \
    X(AIROUTER_CAP_CHAT, "chat")                                              \
    X(AIROUTER_CAP_EMBEDDING, "embedding")                                    \
    X(AIROUTER_CAP_RERANK, "rerank")                                          \
    X(AIROUTER_CAP_IMAGE_GEN, "image")                                        \
    X(AIROUTER_CAP_SPEECH, "audio_speech")                                    \
    X(AIROUTER_CAP_TRANSCRIPTION, "audio_transcription")                      \
    X(AIROUTER_CAP_MODERATION, "moderation")

#define AIROUTER_CAP_KIND                                                     \
    (AIROUTER_CAP_CHAT | AIROUTER_CAP_EMBEDDING | AIROUTER_CAP_RERANK         \
     | AIROUTER_CAP_SPEECH | AIROUTER_CAP_IMAGE_GEN                           \
     | AIROUTER_CAP_TRANSCRIPTION | AIROUTER_CAP_MODERATION)

/* the features: a chat model's only (the catalogue clears them elsewhere) */
#define AIROUTER_CAP_FEATURES                                                 \
    (AIROUTER_CAP_VISION | AIROUTER_CAP_TOOLS | AIROUTER_CAP_REASONING        \
     | AIROUTER_CAP_CODE | AIROUTER_CAP_VISION_ONLY)


/* A token of a name: points into the name, in the name's own case. */
typedef struct {
    const char               *data;
    size_t                    len;
} airouter_tag_t;


/*
 * Splits a name on ':' '/' '@' '-' '_' (a '.' is not a separator: "0.6b",
 * "qwen2.5" stay whole), drops empty tokens and case-insensitive
 * duplicates, keeps the order of first appearance.  Returns the number of
 * tokens written (at most max).
 *   "qwen/qwen3-30b-a3b:free" -> qwen qwen3 30b a3b free
 */
size_t airouter_tags_extract(const char *name, size_t len,
    airouter_tag_t *tags, size_t max);

/*
 * The same tokens, lowercased and joined with ',' into buf (always
 * NUL-terminated when size > 0).  Returns the length the whole list
 * needs, as snprintf does.  For explain output and tests.
 */
size_t airouter_tags_join(const char *name, size_t len, char *buf,
    size_t size);

/* Is c one of the separators above? */
int airouter_tags_is_sep(int c);

/*
 * Does a token of a name mean something alone, so that it is one of the
 * model's tags?  Not: a single character ("e" of "dall-e-3"), a run of
 * digits ("1", "20240307", "0528"), a version alone ("3.1", "v2",
 * "v3.1").  The catalogue derives tags from the others only; a query
 * naming such a fragment finds it in the names instead (airouter_query.c).
 */
int airouter_tags_meaningful(const char *p, size_t len);

/* Is word (len wlen) one of name's tokens, ignoring case? */
int airouter_tags_has(const char *name, size_t len, const char *word,
    size_t wlen);

/*
 * The core name is the substring [*start, *end) of name left after
 * removing a provider prefix (up to the last '/'), a ":variant" and a
 * trailing date (-YYYYMMDD, -YYYYMM, -YYYY-MM-DD), in that order:
 *   "qwen/qwen3-235b-a22b:free"     -> "qwen3-235b-a22b"
 *   "anthropic/claude-3-haiku-20240307" -> "claude-3-haiku"
 * Case is not changed; compare case-insensitively.  When stripping would
 * leave nothing the whole name (minus the prefix) is the core.
 */
void airouter_tags_core(const char *name, size_t len, size_t *start,
    size_t *end);

/*
 * The ":variant" of a name without its ':' ("free" for "x:free"); len 0
 * when there is none.
 */
airouter_tag_t airouter_tags_variant(const char *name, size_t len);

/*
 * Parameter count in millions read from size tokens: "270m" 270,
 * "0.6b" 600, "8b" 8000, "1t" 1e6; "30b-a3b" total 30000 active 3000;
 * "8x7b" total 56000 active 14000 (two experts routed per token, as in
 * Mixtral).  Dense models get active == total.  Returns 1 when found.
 */
int airouter_tags_params(const char *name, size_t len, double *total,
    double *active);

/*
 * Context length in tokens from a token such as "32k" (32768), "128k",
 * "1m" (1048576); 0 when the name carries none.  An "m" token counts as
 * context only below 10 ("1m", "2m"); "270m" is a parameter count.
 */
uint64_t airouter_tags_context(const char *name, size_t len);

/*
 * Capabilities a name suggests: exactly one kind bit (CHAT unless the name
 * says embedding, rerank, speech, transcription, image generation or
 * moderation) plus VISION, REASONING, CODE and VISION_ONLY where the name
 * says so.  Never TOOLS: a name cannot tell.
 */
uint32_t airouter_tags_caps(const char *name, size_t len);

/* The kind's name ("rerank") for the kind bit in caps; NULL for none. */
const char *airouter_tags_kind_name(uint32_t caps);

/*
 * The kind a provider's word says, case-insensitively: our names above and
 * the words discovery sources use (OpenAI/Together "type", SiliconFlow
 * "sub_type", LM Studio "type", LiteLLM "mode", capability lists):
 * "embeddings", "reranker", "text-to-image", "speech-to-text", "tts",
 * "transcribe", "llm", "vlm", ...  0 when the word names no kind.
 */
uint32_t airouter_tags_kind(const char *word, size_t len);

/* ASCII case-insensitive equality of two (pointer, length) strings. */
int airouter_tags_eq(const char *a, size_t alen, const char *b, size_t blen);

#endif /* AIROUTER_TAGS_H */
