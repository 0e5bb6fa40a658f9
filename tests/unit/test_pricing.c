/*
 * airouter_pricing: both file formats on the fixtures (LiteLLM's
 * model_prices_and_context_window.json and the seed's *_unified.json),
 * lookups with and without provider prefixes, precedence between files,
 * and the errors that reject a file.
 */

#include <math.h>
#include <stdlib.h>

#include "unit.h"
#include "airouter_pricing.h"


static char  fixture[1024];


static const char *
fx(const char *name)
{
    return unit_fixture(fixture, sizeof(fixture), name);
}


static int
near(double a, double b)
{
    return fabs(a - b) <= 1e-9 * fabs(b) + 1e-15;
}


static void
test_litellm(void)
{
    long                     n;
    char                     err[256];
    airouter_pricing_t      *p;
    const airouter_price_t  *pr, *q;

    p = airouter_pricing_create();
    n = airouter_pricing_add_file(p, fx("litellm-model-prices.json"), err,
                                  sizeof(err));
    UNIT_CHECK(n > 150, "read %ld models: %s", n, n < 0 ? err : "");

    pr = airouter_pricing_find(p, "claude-3-haiku-20240307", NULL, NULL);
    UNIT_CHECK(pr != NULL, "claude-3-haiku found");
    if (pr) {
        UNIT_CHECK(near(pr->prompt, 2.5e-07), "prompt %g", pr->prompt);
        UNIT_CHECK(near(pr->completion, 1.25e-06), "completion %g",
                   pr->completion);
        UNIT_STREQ(pr->currency, "USD");
        UNIT_CHECK(pr->context == 200000, "context %llu",
                   (unsigned long long) pr->context);
        UNIT_CHECK(pr->max_output == 4096, "max_output %llu",
                   (unsigned long long) pr->max_output);

        /* Anthropic's prompt cache: reads cheaper, writes dearer */
        UNIT_CHECK(near(pr->cache_read, 3e-08), "cache_read %g",
                   pr->cache_read);
        UNIT_CHECK(near(pr->cache_write, 3e-07), "cache_write %g",
                   pr->cache_write);
    }

    /* a cache read price without a write price: the write stays unknown */
    q = airouter_pricing_find(p, "gpt-4o-mini", NULL, NULL);
    UNIT_CHECK(q != NULL && near(q->cache_read, 7.5e-08)
               && q->cache_write == -1, "gpt-4o-mini cache prices");

    /* a model without cache prices */
    q = airouter_pricing_find(p, "gpt-3.5-turbo", NULL, NULL);
    UNIT_CHECK(q != NULL && q->cache_read == -1 && q->cache_write == -1,
               "no cache prices: %g %g", q ? q->cache_read : 0,
               q ? q->cache_write : 0);

    /* any case, and with a provider prefix the file does not use */
    UNIT_CHECK(airouter_pricing_find(p, "Claude-3-Haiku-20240307", NULL,
                                     NULL) == pr, "case-insensitive");
    UNIT_CHECK(airouter_pricing_find(p, "anthropic/claude-3-haiku-20240307",
                                     NULL, NULL) == pr,
               "provider prefix stripped");

    /* LiteLLM's prices name no provider: every channel takes them */
    UNIT_CHECK(airouter_pricing_find(p, "deepseek-chat", "deepseek", "ds")
               != NULL, "deepseek-chat");
    UNIT_CHECK(airouter_pricing_find(p, "no-such-model", NULL, NULL) == NULL,
               "unknown model");

    airouter_pricing_free(p);
}


static void
test_unified(void)
{
    long                     n;
    char                     err[256];
    airouter_pricing_t      *p;
    const airouter_price_t  *pr;

    p = airouter_pricing_create();

    n = airouter_pricing_add_file(p, fx("seed/siliconflow_unified.json"),
                                  err, sizeof(err));
    UNIT_CHECK(n == 127, "siliconflow: %ld %s", n, n < 0 ? err : "");

    n = airouter_pricing_add_file(p, fx("seed/doubao_unified.json"), err,
                                  sizeof(err));
    UNIT_CHECK(n == 17, "doubao: %ld %s", n, n < 0 ? err : "");

    n = airouter_pricing_add_file(p, fx("seed/openrouter_unified.json"), err,
                                  sizeof(err));
    UNIT_CHECK(n > 300, "openrouter: %ld %s", n, n < 0 ? err : "");

    UNIT_CHECK(airouter_pricing_count(p) > 440, "count %zu",
               airouter_pricing_count(p));

    /* per million tokens in CNY becomes per token in CNY */
    pr = airouter_pricing_find(p, "inclusionAI/Ling-mini-2.0", "siliconflow",
                               NULL);
    UNIT_CHECK(pr != NULL, "Ling-mini found");
    if (pr) {
        UNIT_CHECK(near(pr->prompt, 0.07e-6), "prompt %g", pr->prompt);
        UNIT_CHECK(near(pr->completion, 0.28e-6), "completion %g",
                   pr->completion);
        UNIT_STREQ(pr->currency, "CNY");
        UNIT_CHECK(pr->context == 131072, "context %llu",
                   (unsigned long long) pr->context);
    }

    /* a stripped name finds the prefixed entry */
    pr = airouter_pricing_find(p, "Ling-mini-2.0", NULL, "siliconflow");
    UNIT_CHECK(pr && near(pr->prompt, 0.07e-6), "prefix-less lookup, "
               "provider matched by channel id");

    /* a provider's own file does not price another provider's channel */
    UNIT_CHECK(airouter_pricing_find(p, "inclusionAI/Ling-mini-2.0", "groq",
                                     "groq") == NULL, "not for groq");
    UNIT_CHECK(airouter_pricing_find(p, "inclusionAI/Ling-mini-2.0", NULL,
                                     NULL) == NULL, "not for no channel");

    pr = airouter_pricing_find(p, "doubao-seed-1-6-250615", "Doubao", NULL);
    UNIT_CHECK(pr != NULL && near(pr->prompt, 1.12e-6)
               && near(pr->completion, 11.2e-6)
               && strcmp(pr->currency, "CNY") == 0, "doubao price");

    pr = airouter_pricing_find(p, "qwen/qwen3-next-80b-a3b-thinking",
                               "openrouter", "or");
    UNIT_CHECK(pr != NULL && near(pr->prompt, 0.14e-6)
               && strcmp(pr->currency, "USD") == 0, "openrouter price");

    airouter_pricing_free(p);
}


static void
test_precedence_and_errors(void)
{
    long                     n;
    char                     err[256];
    const char              *a, *b;
    airouter_pricing_t      *p;
    const airouter_price_t  *pr;

    a = "{\"m-1\": {\"input_cost_per_token\": 1e-6,"
        " \"output_cost_per_token\": 2e-6},"
        " \"vendor/m-2\": {\"input_cost_per_token\": 3e-6,"
        " \"output_cost_per_token\": 4e-6},"
        " \"sample_spec\": {\"input_cost_per_token\": \"x\"}}";
    b = "{\"currency\": \"CNY\", \"unit\": \"per_million_tokens\","
        " \"models\": {\"M-1\": {\"pricing\": {\"prompt\": 7,"
        " \"completion\": 8}}, \"m-2\": {\"pricing\": {\"prompt\": 5,"
        " \"completion\": 6}}}}";

    p = airouter_pricing_create();

    n = airouter_pricing_add_json(p, a, strlen(a), err, sizeof(err));
    UNIT_CHECK(n == 2, "first file: %ld", n);
    n = airouter_pricing_add_json(p, b, strlen(b), err, sizeof(err));
    UNIT_CHECK(n == 2, "second file: %ld", n);

    /* the first file that names a model wins */
    pr = airouter_pricing_find(p, "m-1", NULL, NULL);
    UNIT_CHECK(pr && near(pr->prompt, 1e-6) && !strcmp(pr->currency, "USD"),
               "first file wins");

    /* an exact name beats a name found without its prefix */
    pr = airouter_pricing_find(p, "m-2", NULL, NULL);
    UNIT_CHECK(pr && near(pr->prompt, 5e-6) && !strcmp(pr->currency, "CNY"),
               "exact beats stripped");
    pr = airouter_pricing_find(p, "vendor/m-2", NULL, NULL);
    UNIT_CHECK(pr && near(pr->prompt, 3e-6), "prefixed exact");

    UNIT_CHECK(airouter_pricing_add_json(p, "[1]", 3, err, sizeof(err)) < 0,
               "an array is refused");
    UNIT_CHECK(airouter_pricing_add_json(p, "{", 1, err, sizeof(err)) < 0,
               "bad JSON is refused");
    a = "{\"unit\": \"per_hour\", \"models\": {}}";
    UNIT_CHECK(airouter_pricing_add_json(p, a, strlen(a), err, sizeof(err))
               < 0
               && strstr(err, "per_hour") != NULL, "unknown unit: %s", err);
    UNIT_CHECK(airouter_pricing_add_file(p, "/nonexistent/x.json", err,
                                         sizeof(err)) < 0,
               "missing file");
    UNIT_CHECK(airouter_pricing_count(p) == 4, "failed files add nothing");

    airouter_pricing_free(p);
}


/* The unified format names cache prices as OpenRouter does, per million
 * tokens like the rest of the file. */
static void
test_unified_cache(void)
{
    long                     n;
    char                     err[256];
    const char              *j;
    airouter_pricing_t      *p;
    const airouter_price_t  *pr;

    j = "{\"currency\": \"CNY\", \"unit\": \"per_million_tokens\","
        " \"models\": {\"m-cached\": {\"pricing\": {\"prompt\": 2,"
        " \"completion\": 8, \"input_cache_read\": 0.5,"
        " \"input_cache_write\": 2.5}},"
        " \"m-plain\": {\"pricing\": {\"prompt\": 1, \"completion\": 2,"
        " \"input_cache_read\": -1}}}}";

    p = airouter_pricing_create();
    n = airouter_pricing_add_json(p, j, strlen(j), err, sizeof(err));
    UNIT_CHECK(n == 2, "read %ld: %s", n, n < 0 ? err : "");

    pr = airouter_pricing_find(p, "m-cached", NULL, NULL);
    UNIT_CHECK(pr != NULL && near(pr->cache_read, 0.5e-6)
               && near(pr->cache_write, 2.5e-6)
               && strcmp(pr->currency, "CNY") == 0,
               "cache prices scaled: %g %g", pr ? pr->cache_read : 0,
               pr ? pr->cache_write : 0);

    /* a negative price is no price */
    pr = airouter_pricing_find(p, "m-plain", NULL, NULL);
    UNIT_CHECK(pr != NULL && pr->cache_read == -1 && pr->cache_write == -1,
               "m-plain has no cache prices");

    /* a negative base price: the model is left out (fuzzing found it) */
    j = "{\"neg\": {\"input_cost_per_token\": 1e-6,"
        " \"output_cost_per_token\": -6.81e-3},"
        " \"ok\": {\"input_cost_per_token\": 1e-6,"
        " \"output_cost_per_token\": 2e-6}}";
    n = airouter_pricing_add_json(p, j, strlen(j), err, sizeof(err));
    UNIT_CHECK(n == 1 && airouter_pricing_find(p, "neg", NULL, NULL) == NULL
               && airouter_pricing_find(p, "ok", NULL, NULL) != NULL,
               "negative price left out: %ld", n);

    /* an empty currency is not one */
    j = "{\"currency\": \"\", \"models\": {\"m\": {\"pricing\":"
        " {\"prompt\": 1, \"completion\": 2}}}}";
    n = airouter_pricing_add_json(p, j, strlen(j), err, sizeof(err));
    UNIT_CHECK(n == -1 && strstr(err, "unknown currency") != NULL,
               "empty currency: %ld %s", n, err);

    airouter_pricing_free(p);
}


/*
 * Prices per unit: LiteLLM's per-request, per-image, per-second and
 * per-character prices (an entry with unit prices alone is read, its
 * token prices unknown); the unified file's "request" (never scaled) and
 * not its "image" (OpenRouter's price of an image in the prompt).
 */
static void
test_units(void)
{
    long                     n;
    char                     err[256];
    const char              *j;
    airouter_pricing_t      *p;
    const airouter_price_t  *pr;

    p = airouter_pricing_create();
    n = airouter_pricing_add_file(p, fx("litellm-model-prices.json"), err,
                                  sizeof(err));
    UNIT_CHECK(n > 150, "read %ld", n);

    /* per second alone: read, token prices unknown */
    pr = airouter_pricing_find(p, "gpt-realtime-whisper", NULL, NULL);
    UNIT_CHECK(pr != NULL && near(pr->unit.second, 0.0002833333333333333)
               && pr->prompt == -1 && pr->completion == -1
               && pr->unit.image == -1 && pr->unit.request == -1,
               "whisper per second");

    /* per image beside zero token prices */
    pr = airouter_pricing_find(p, "gemini-2.0-flash-exp-image-generation",
                               NULL, NULL);
    UNIT_CHECK(pr != NULL && near(pr->unit.image, 0.039)
               && pr->prompt == 0 && pr->unit.second == -1,
               "image model per image");

    /* a voice's output_cost_per_second is not a transcribed second */
    pr = airouter_pricing_find(p, "gpt-4o-mini-tts", NULL, NULL);
    UNIT_CHECK(pr != NULL && pr->unit.second == -1
               && near(pr->prompt, 2.5e-6), "tts: no per-second price");

    /* a per-character price of zero is a known price */
    pr = airouter_pricing_find(p, "gemini-flash-experimental", NULL, NULL);
    UNIT_CHECK(pr != NULL && pr->unit.character == 0,
               "per character zero");

    /* a model without unit prices */
    pr = airouter_pricing_find(p, "claude-3-haiku-20240307", NULL, NULL);
    UNIT_CHECK(pr != NULL && !airouter_unit_price_known(&pr->unit),
               "no unit prices");

    airouter_pricing_free(p);

    p = airouter_pricing_create();
    j = "{\"tts-x\": {\"input_cost_per_character\": 1.5e-5},"
        " \"search-x\": {\"input_cost_per_token\": 1e-6,"
        " \"output_cost_per_token\": 1e-6, \"input_cost_per_request\": 0.005},"
        " \"neg-x\": {\"output_cost_per_image\": -1},"
        " \"str-x\": {\"output_cost_per_image\": \"0.04\"}}";
    n = airouter_pricing_add_json(p, j, strlen(j), err, sizeof(err));
    UNIT_CHECK(n == 2, "read %ld: negative and string prices are none", n);
    pr = airouter_pricing_find(p, "tts-x", NULL, NULL);
    UNIT_CHECK(pr && near(pr->unit.character, 1.5e-5)
               && airouter_unit_price_positive(&pr->unit), "tts-x");
    pr = airouter_pricing_find(p, "search-x", NULL, NULL);
    UNIT_CHECK(pr && near(pr->unit.request, 0.005) && near(pr->prompt, 1e-6),
               "search-x");
    UNIT_CHECK(airouter_pricing_find(p, "neg-x", NULL, NULL) == NULL
               && airouter_pricing_find(p, "str-x", NULL, NULL) == NULL,
               "no price, no entry");
    airouter_pricing_free(p);

    /*
     * The units airouter does not count are not read as units it does:
     * a per-pixel price (LiteLLM keys it by quality and size in the
     * name) is no price per image, and a voice's output_cost_per_second
     * (seconds of encoded audio it speaks) no price per second.
     */
    p = airouter_pricing_create();
    j = "{\"standard/1024-x-1024/dall-e-3\": {\"input_cost_per_pixel\":"
        " 3.81469e-08, \"output_cost_per_pixel\": 0},"
        " \"voice-x\": {\"output_cost_per_second\": 0.00025},"
        " \"voice-y\": {\"output_cost_per_second\": 0.00025,"
        " \"input_cost_per_character\": 1.5e-5}}";
    n = airouter_pricing_add_json(p, j, strlen(j), err, sizeof(err));
    UNIT_CHECK(n == 1, "read %ld: per pixel / per second spoken alone are "
               "no prices", n);
    UNIT_CHECK(airouter_pricing_find(p, "standard/1024-x-1024/dall-e-3",
                                     NULL, NULL) == NULL
               && airouter_pricing_find(p, "voice-x", NULL, NULL) == NULL,
               "per pixel, per second spoken: no entry");
    pr = airouter_pricing_find(p, "voice-y", NULL, NULL);
    UNIT_CHECK(pr && near(pr->unit.character, 1.5e-5) && pr->unit.second == -1
               && pr->unit.image == -1, "voice-y: its characters only");
    airouter_pricing_free(p);

    /* the unified files: "request" per request, "image" not read */
    p = airouter_pricing_create();
    n = airouter_pricing_add_file(p, fx("seed/openrouter_unified.json"), err,
                                  sizeof(err));
    UNIT_CHECK(n > 300, "openrouter: %ld", n);

    pr = airouter_pricing_find(p, "perplexity/sonar", "openrouter", NULL);
    UNIT_CHECK(pr != NULL && near(pr->unit.request, 0.005)
               && near(pr->prompt, 1e-6) && pr->unit.image == -1,
               "sonar per request %g", pr ? pr->unit.request : 0);

    pr = airouter_pricing_find(p, "anthropic/claude-3-opus", "openrouter",
                               NULL);
    UNIT_CHECK(pr != NULL && pr->unit.request == 0 && pr->unit.image == -1
               && !airouter_unit_price_positive(&pr->unit),
               "claude-3-opus: image in the prompt not read");

    airouter_pricing_free(p);
}


int
main(void)
{
    test_litellm();
    test_unified();
    test_precedence_and_errors();
    test_unified_cache();
    test_units();

    UNIT_DONE("test_pricing");
}
