/*
 * Price lists read from files, the last source of a model's price (after
 * the channel's /models answer and its cost_per_token).  Two formats, told
 * apart by their shape:
 *
 *   LiteLLM's model_prices_and_context_window.json: an object keyed by
 *   model name, each with input_cost_per_token / output_cost_per_token
 *   (USD per token), cache_read_input_token_cost and
 *   cache_creation_input_token_cost when the provider caches prompts,
 *   max_input_tokens, max_output_tokens; and the prices per unit, not
 *   per token: input_cost_per_request, output_cost_per_image (one
 *   generated image), input_cost_per_second (a second of audio
 *   transcribed), input_cost_per_character (a character of speech
 *   input).  An entry with unit prices alone (whisper, dall-e) is read
 *   with its token prices unknown;
 *
 *   the seed's *_unified.json: {"currency": "CNY"|"USD", "unit":
 *   "per_million_tokens", "models": {id: {"pricing": {"prompt",
 *   "completion", "input_cache_read", "input_cache_write", "request"},
 *   "context_length"}}} (the cache prices named as OpenRouter names
 *   them; "request" is per request, never scaled by the unit).
 *   OpenRouter's "image" is the price of an image in the prompt, not of
 *   one generated: it is not read.
 *
 * Prices are kept per token in the file's currency; the catalogue converts
 * CNY with cost_control.cny_to_usd.  A unified file that names its
 * "provider" prices only the channels of that provider (by provider name
 * or, for a channel without one, by channel id): SiliconFlow's prices are
 * not Groq's for the same model.  A model id is looked up as given,
 * case-insensitively, then without its provider prefix ("deepseek/x" finds
 * "x" and "x" finds "deepseek/x").  With several files the first file that
 * names a model wins.
 *
 * Pure C.  Loaded by the nginx side at configuration time (one
 * airouter_pricing_file directive per file), read by discovery and by the
 * start-up catalogue.
 */

#ifndef AIROUTER_PRICING_H
#define AIROUTER_PRICING_H

#include <stddef.h>
#include <stdint.h>


/*
 * Prices per unit rather than per token, in the currency of the prices
 * they come with; -1: unknown.  Which one applies depends on the
 * endpoint (the proxy's cost): request on every request, image on
 * /v1/images/generations, second on /v1/audio/transcriptions, character
 * on /v1/audio/speech.
 */
typedef struct {
    double                    request;      /* one request */
    double                    image;        /* one image generated */
    double                    second;       /* one second of audio
                                               transcribed */
    double                    character;    /* one character of speech
                                               input */
} airouter_unit_price_t;


typedef struct {
    double                    prompt;       /* per token, -1: unknown
                                               (an entry with unit
                                               prices alone) */
    double                    completion;   /* per token */
    double                    cache_read;   /* per token, -1: unknown */
    double                    cache_write;
    airouter_unit_price_t     unit;
    const char               *currency;     /* "USD", "CNY" */
    uint64_t                  context;      /* tokens, 0: unknown */
    uint64_t                  max_output;   /* tokens, 0: unknown */
} airouter_price_t;


typedef struct airouter_pricing_s  airouter_pricing_t;


airouter_pricing_t *airouter_pricing_create(void);
void airouter_pricing_free(airouter_pricing_t *p);

/*
 * Adds the prices of one file's content.  Returns the number of models
 * read, or -1 with a message in err (the file is then not used at all).
 */
long airouter_pricing_add_json(airouter_pricing_t *p, const char *json,
    size_t len, char *err, size_t errlen);

/* The same, reading path. */
long airouter_pricing_add_file(airouter_pricing_t *p, const char *path,
    char *err, size_t errlen);

/* The price of a model id on a channel (its provider and id, either may
 * be NULL), or NULL. */
const airouter_price_t *airouter_pricing_find(const airouter_pricing_t *p,
    const char *id, const char *provider, const char *channel);

size_t airouter_pricing_count(const airouter_pricing_t *p);

/* Every unit price unknown (-1). */
void airouter_unit_price_init(airouter_unit_price_t *u);

/* Whether any unit price is known (>= 0), and whether any is above 0. */
int airouter_unit_price_known(const airouter_unit_price_t *u);
int airouter_unit_price_positive(const airouter_unit_price_t *u);

#endif /* AIROUTER_PRICING_H */
