/*
 * Name analysis (airouter_tags.c): tokens, core names, sizes, context
 * lengths and capability guesses, on the examples and edge cases.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "airouter_tags.h"
#include "unit.h"


static const char *
tags_of(const char *name)
{
    static char  buf[4096];

    airouter_tags_join(name, strlen(name), buf, sizeof(buf));

    return buf;
}


static const char *
core_of(const char *name)
{
    static char  buf[1024];
    size_t       s, e;

    airouter_tags_core(name, strlen(name), &s, &e);
    memcpy(buf, name + s, e - s);
    buf[e - s] = '\0';

    return buf;
}


static int
params_are(const char *name, double total, double active)
{
    double  t, a;

    if (!airouter_tags_params(name, strlen(name), &t, &a)) {
        return total == 0;
    }

    return t > total - 0.01 && t < total + 0.01
           && a > active - 0.01 && a < active + 0.01;
}


static uint32_t
caps_of(const char *name)
{
    return airouter_tags_caps(name, strlen(name));
}


static uint32_t
kind_of(const char *name)
{
    return caps_of(name) & AIROUTER_CAP_KIND;
}


static void
test_extract_examples(void)
{
    UNIT_STREQ(tags_of("qwen/qwen3-30b-a3b:free"), "qwen,qwen3,30b,a3b,free");
    UNIT_STREQ(tags_of("openai/gpt-4o-mini"), "openai,gpt,4o,mini");
    UNIT_STREQ(tags_of("ep-20250613210739-qjxdl"), "ep,20250613210739,qjxdl");
}


static void
test_extract_edges(void)
{
    size_t          n;
    char           *big;
    airouter_tag_t  t[AIROUTER_TAGS_MAX];

    /* dots are not separators */
    UNIT_STREQ(tags_of("qwen/qwen2.5-0.6b"), "qwen,qwen2.5,0.6b");
    UNIT_STREQ(tags_of("Qwen/Qwen3-1.7B"), "qwen,qwen3,1.7b");

    /* every separator, case-insensitive duplicates dropped */
    UNIT_STREQ(tags_of("a@b_c:d/e-f"), "a,b,c,d,e,f");
    UNIT_STREQ(tags_of("deepseek-ai/DeepSeek-V3"), "deepseek,ai,v3");
    UNIT_STREQ(tags_of("--a--:"), "a");

    UNIT_CHECK(airouter_tags_extract("", 0, t, AIROUTER_TAGS_MAX) == 0,
               "empty name");
    UNIT_CHECK(airouter_tags_extract("-/:@_", 5, t, AIROUTER_TAGS_MAX) == 0,
               "separators only");

    /* bytes beyond ASCII are kept as they are */
    UNIT_STREQ(tags_of("\xe6\xa8\xa1\xe5\x9e\x8b-Qwen3"),
               "\xe6\xa8\xa1\xe5\x9e\x8b,qwen3");

    /* at most max tokens */
    n = airouter_tags_extract("a-b-c-d-e", 9, t, 3);
    UNIT_CHECK(n == 3, "n %zu", n);

    /* a 1 KB name, one token */
    big = malloc(1025);
    memset(big, 'x', 1024);
    big[1024] = '\0';
    n = airouter_tags_extract(big, 1024, t, AIROUTER_TAGS_MAX);
    UNIT_CHECK(n == 1 && t[0].len == 1024, "1 KB token");
    UNIT_CHECK(airouter_tags_join(big, 1024, NULL, 0) == 1024, "join size");
    free(big);

    /* join truncates safely and reports the full length */
    {
        char  small[5];

        UNIT_CHECK(airouter_tags_join("openai/gpt-4o", 13, small,
                                      sizeof(small)) == 13, "need");
        UNIT_STREQ(small, "open");
    }
}


/* which tokens are tags: not single characters, digit runs, versions */
static void
test_meaningful(void)
{
    size_t       i;
    static const char  *yes[] = {
        "qwen3", "4o", "k2", "m3", "r1", "o1", "e5", "8b", "0.6b", "a3b",
        "llama3.2", "qwen2.5", "vl", "v2m", "latest", "preview", "ep",
        "\xe6\xa8\xa1\xe5\x9e\x8b", "2b1"
    };
    static const char  *no[] = {
        "e", "1", "v", "x", "20240307", "0528", "2507", "3", "3.1", "2.5",
        "v2", "V3", "v3.1", "001", "1.0.0", ""
    };

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        UNIT_CHECK(airouter_tags_meaningful(yes[i], strlen(yes[i])),
                   "\"%s\" is a tag", yes[i]);
    }

    for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        UNIT_CHECK(!airouter_tags_meaningful(no[i], strlen(no[i])),
                   "\"%s\" is no tag", no[i]);
    }

    UNIT_CHECK(airouter_tags_has("dall-e-3", 8, "E", 1)
               && airouter_tags_has("meta/llama-3.1-8b", 17, "3.1", 3)
               && !airouter_tags_has("meta/llama-3.1-8b", 17, "3", 1)
               && !airouter_tags_has("gpt-4o", 6, "4", 1),
               "has: whole tokens, any case");
}


static void
test_core(void)
{
    UNIT_STREQ(core_of("qwen/qwen3-235b-a22b:free"), "qwen3-235b-a22b");
    UNIT_STREQ(core_of("Qwen/Qwen3-235B-A22B"), "Qwen3-235B-A22B");
    UNIT_STREQ(core_of("anthropic/claude-3-haiku-20240307"),
               "claude-3-haiku");
    UNIT_STREQ(core_of("claude-3-haiku-20240307"), "claude-3-haiku");
    UNIT_STREQ(core_of("gpt-4o-2024-08-06"), "gpt-4o");
    UNIT_STREQ(core_of("claude-3-opus-202402"), "claude-3-opus");
    UNIT_STREQ(core_of("anthropic/claude-3.5-haiku-20241022:beta"),
               "claude-3.5-haiku");
    UNIT_STREQ(core_of("qwen3:8b"), "qwen3");
    UNIT_STREQ(core_of("nomic-embed-text:latest"), "nomic-embed-text");

    /* not dates: stay */
    UNIT_STREQ(core_of("glm-4-flash-250414"), "glm-4-flash-250414");
    UNIT_STREQ(core_of("qwen/qwen3-4b-2507"), "qwen3-4b-2507");
    UNIT_STREQ(core_of("model-20241399"), "model-20241399");
    UNIT_STREQ(core_of("ep-20250613210739-qjxdl"),
               "ep-20250613210739-qjxdl");

    /* nothing left to strip to */
    UNIT_STREQ(core_of("20240307"), "20240307");
    UNIT_STREQ(core_of(":free"), ":free");
    UNIT_STREQ(core_of("a/b/c"), "c");
    UNIT_STREQ(core_of(""), "");

    {
        airouter_tag_t  v;

        v = airouter_tags_variant("qwen/qwen3-8b:free", 18);
        UNIT_CHECK(v.len == 4 && memcmp(v.data, "free", 4) == 0, "variant");
        v = airouter_tags_variant("openai/gpt-4o", 13);
        UNIT_CHECK(v.len == 0, "no variant");
    }
}


static void
test_params(void)
{
    UNIT_CHECK(params_are("gemma-3-270m", 270, 270), "270m");
    UNIT_CHECK(params_are("qwen3-0.6b", 600, 600), "0.6b");
    UNIT_CHECK(params_are("qwen/qwen3-1.7b", 1700, 1700), "1.7b");
    UNIT_CHECK(params_are("qwen3:8b", 8000, 8000), "8b");
    UNIT_CHECK(params_are("qwen/qwen3-30b-a3b:free", 30000, 3000),
               "30b-a3b");
    UNIT_CHECK(params_are("Qwen/Qwen3-235B-A22B", 235000, 22000),
               "235b-a22b");
    UNIT_CHECK(params_are("mistralai/mixtral-8x7b-instruct", 56000, 14000),
               "8x7b");
    UNIT_CHECK(params_are("moonshotai/kimi-k2-1t", 1000000, 1000000), "1t");
    UNIT_CHECK(params_are("google/gemma-3n-e2b-it", 2000, 2000), "e2b");
    UNIT_CHECK(params_are("openai/gpt-4o", 0, 0), "none");
    UNIT_CHECK(params_are("doubao-1.5-pro-256k", 0, 0), "context only");
    UNIT_CHECK(params_are("model-1m", 0, 0), "1m is context");
}


static void
test_context(void)
{
    UNIT_CHECK(airouter_tags_context("gpt-4-32k", 9) == 32768, "32k");
    UNIT_CHECK(airouter_tags_context("doubao-1.5-pro-128k", 19) == 131072,
               "128k");
    UNIT_CHECK(airouter_tags_context("some-model-1m", 13) == 1048576, "1m");
    UNIT_CHECK(airouter_tags_context("gemma-3-270m", 12) == 0, "270m");
    UNIT_CHECK(airouter_tags_context("gpt-4o", 6) == 0, "none");
}


static void
test_kinds(void)
{
    size_t       i, j;
    uint32_t     bit;
    const char  *name;

    static const uint32_t  kinds[] = {
        AIROUTER_CAP_CHAT, AIROUTER_CAP_EMBEDDING, AIROUTER_CAP_RERANK,
        AIROUTER_CAP_IMAGE_GEN, AIROUTER_CAP_SPEECH,
        AIROUTER_CAP_TRANSCRIPTION, AIROUTER_CAP_MODERATION
    };

    static const struct {
        const char  *word;
        uint32_t     kind;
    } words[] = {
        { "rerank", AIROUTER_CAP_RERANK },
        { "reranker", AIROUTER_CAP_RERANK },            /* SiliconFlow */
        { "Embeddings", AIROUTER_CAP_EMBEDDING },       /* LM Studio */
        { "text-to-image", AIROUTER_CAP_IMAGE_GEN },
        { "image-to-image", AIROUTER_CAP_IMAGE_GEN },
        { "speech-to-text", AIROUTER_CAP_TRANSCRIPTION },
        { "text-to-speech", AIROUTER_CAP_SPEECH },
        { "transcribe", AIROUTER_CAP_TRANSCRIPTION },   /* Together */
        { "audio", AIROUTER_CAP_SPEECH },               /* Together */
        { "moderation", AIROUTER_CAP_MODERATION },
        { "llm", AIROUTER_CAP_CHAT },
        { "vlm", AIROUTER_CAP_CHAT },
        { "video", 0 },
        { "", 0 },
        { "rerankers", 0 }
    };

    /* every kind bit has a name that reads back as that bit, alone */
    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        name = airouter_tags_kind_name(kinds[i]);
        UNIT_CHECK(name != NULL, "kind %x has a name", kinds[i]);
        if (name == NULL) {
            continue;
        }
        bit = airouter_tags_kind(name, strlen(name));
        UNIT_CHECK(bit == kinds[i], "%s reads back %x", name, bit);
        UNIT_CHECK(kinds[i] & AIROUTER_CAP_KIND, "%s in CAP_KIND", name);

        for (j = 0; j < i; j++) {
            UNIT_CHECK((kinds[i] & kinds[j]) == 0, "kind bits distinct");
        }
    }

    UNIT_STREQ(airouter_tags_kind_name(AIROUTER_CAP_RERANK
                                       | AIROUTER_CAP_VISION), "rerank");
    UNIT_STREQ(airouter_tags_kind_name(AIROUTER_CAP_TRANSCRIPTION),
               "audio_transcription");
    UNIT_CHECK(airouter_tags_kind_name(AIROUTER_CAP_VISION) == NULL,
               "no kind, no name");
    UNIT_CHECK(airouter_tags_kind(NULL, 0) == 0, "NULL word");

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        UNIT_CHECK(airouter_tags_kind(words[i].word, strlen(words[i].word))
                   == words[i].kind, "word %s", words[i].word);
    }
}


static void
test_caps(void)
{
    UNIT_CHECK(kind_of("text-embedding-3-small") == AIROUTER_CAP_EMBEDDING,
               "embedding");
    UNIT_CHECK(kind_of("nomic-embed-text:latest") == AIROUTER_CAP_EMBEDDING,
               "nomic-embed");
    UNIT_CHECK(kind_of("BAAI/bge-m3") == AIROUTER_CAP_EMBEDDING, "bge");
    UNIT_CHECK(kind_of("intfloat/multilingual-e5-large")
               == AIROUTER_CAP_EMBEDDING, "e5");
    UNIT_CHECK(kind_of("embedding-3") == AIROUTER_CAP_EMBEDDING, "zhipu");
    UNIT_CHECK(kind_of("BAAI/bge-reranker-v2-m3") == AIROUTER_CAP_RERANK,
               "rerank over bge");
    UNIT_CHECK(kind_of("whisper-large-v3") == AIROUTER_CAP_TRANSCRIPTION,
               "whisper");
    UNIT_CHECK(kind_of("gpt-4o-mini-transcribe")
               == AIROUTER_CAP_TRANSCRIPTION, "transcribe");
    UNIT_CHECK(kind_of("paraformer-realtime-v2")
               == AIROUTER_CAP_TRANSCRIPTION, "paraformer");
    UNIT_CHECK(kind_of("x/stt-large") == AIROUTER_CAP_TRANSCRIPTION, "stt");
    UNIT_CHECK(kind_of("tts-1") == AIROUTER_CAP_SPEECH, "tts");
    UNIT_CHECK(kind_of("gpt-4o-mini-tts") == AIROUTER_CAP_SPEECH, "4o tts");
    UNIT_CHECK(kind_of("FunAudioLLM/CosyVoice2-0.5B") == AIROUTER_CAP_SPEECH,
               "cosyvoice");
    UNIT_CHECK(kind_of("fishaudio/fish-speech-1.5") == AIROUTER_CAP_SPEECH,
               "fish-speech");
    UNIT_CHECK(kind_of("gpt-4o-audio-preview") == AIROUTER_CAP_CHAT,
               "an audio chat model is chat");
    UNIT_CHECK(kind_of("omni-moderation-latest") == AIROUTER_CAP_MODERATION,
               "moderation");
    UNIT_CHECK(kind_of("text-moderation-stable") == AIROUTER_CAP_MODERATION,
               "text-moderation");
    UNIT_CHECK(kind_of("gpt-image-1") == AIROUTER_CAP_IMAGE_GEN,
               "gpt-image");
    UNIT_CHECK(kind_of("Kwai-Kolors/Kolors") == AIROUTER_CAP_IMAGE_GEN,
               "kolors");
    UNIT_CHECK(kind_of("jina-reranker-v2-base-multilingual")
               == AIROUTER_CAP_RERANK, "jina reranker");
    UNIT_CHECK(kind_of("FunAudioLLM/SenseVoiceSmall")
               == AIROUTER_CAP_TRANSCRIPTION,
               "audio");
    UNIT_CHECK(kind_of("dall-e-3") == AIROUTER_CAP_IMAGE_GEN, "dall-e");
    UNIT_CHECK(kind_of("black-forest-labs/FLUX.1-dev")
               == AIROUTER_CAP_IMAGE_GEN, "flux");
    UNIT_CHECK(kind_of("stable-diffusion-xl") == AIROUTER_CAP_IMAGE_GEN,
               "sd");
    UNIT_CHECK(kind_of("sd3-medium") == AIROUTER_CAP_IMAGE_GEN, "sd3");
    UNIT_CHECK(kind_of("x-image-gen") == AIROUTER_CAP_IMAGE_GEN, "image-gen");
    UNIT_CHECK(kind_of("qwen/qwen3-8b") == AIROUTER_CAP_CHAT, "chat");

    UNIT_CHECK(caps_of("Qwen/Qwen2.5-VL-72B-Instruct") & AIROUTER_CAP_VISION,
               "vl");
    UNIT_CHECK(caps_of("llama-3.2-90b-vision") & AIROUTER_CAP_VISION,
               "vision");
    UNIT_CHECK(caps_of("llava:7b") & AIROUTER_CAP_VISION_ONLY, "llava");
    UNIT_CHECK(caps_of("glm-4v-flash") & AIROUTER_CAP_VISION, "glm-4v");
    UNIT_CHECK(caps_of("THUDM/GLM-4.1V-9B-Thinking") & AIROUTER_CAP_VISION,
               "glm-4.1v");
    UNIT_CHECK(caps_of("minicpm-v") & AIROUTER_CAP_VISION, "-v");
    UNIT_CHECK(caps_of("gpt-4o-mini") & AIROUTER_CAP_VISION, "gpt-4o");
    UNIT_CHECK(caps_of("anthropic/claude-3-haiku") & AIROUTER_CAP_VISION,
               "claude-3");
    UNIT_CHECK(caps_of("google/gemini-2.5-pro") & AIROUTER_CAP_VISION,
               "gemini");
    UNIT_CHECK(!(caps_of("qwen/qwen3-8b") & AIROUTER_CAP_VISION),
               "qwen3 has no vision");
    UNIT_CHECK(!(caps_of("gpt-3.5-turbo") & AIROUTER_CAP_VISION),
               "gpt-3.5 has no vision");
    UNIT_CHECK(!(caps_of("gpt-4o") & AIROUTER_CAP_VISION_ONLY),
               "gpt-4o is not vision-only");

    UNIT_CHECK(caps_of("deepseek/deepseek-r1:free") & AIROUTER_CAP_REASONING,
               "r1");
    UNIT_CHECK(caps_of("o1-preview") & AIROUTER_CAP_REASONING, "o1");
    UNIT_CHECK(caps_of("o3-mini") & AIROUTER_CAP_REASONING, "o3");
    UNIT_CHECK(caps_of("qwen/qwen3-vl-8b-thinking") & AIROUTER_CAP_REASONING,
               "thinking");
    UNIT_CHECK(caps_of("deepseek-reasoner") & AIROUTER_CAP_REASONING,
               "reasoner");
    UNIT_CHECK(!(caps_of("deepseek-chat") & AIROUTER_CAP_REASONING),
               "chat is not reasoning");
    UNIT_CHECK(caps_of("qwen/qwen3-coder") & AIROUTER_CAP_CODE, "coder");
    UNIT_CHECK(!(caps_of("qwen3-8b") & AIROUTER_CAP_TOOLS),
               "names never claim tools");
}


int
main(void)
{
    test_extract_examples();
    test_extract_edges();
    test_meaningful();
    test_core();
    test_params();
    test_context();
    test_caps();
    test_kinds();

    UNIT_DONE("test_tags");
}
