/*
 * Price lists read from files, the last source of a model's price (after
 * the channel's /models answer and its cost_per_token).  Two formats, told
 * apart by their shape:
 *
 *   LiteLLM's model_prices_and_context_window.json: an object keyed by
 *   model name, each with input_cost_per_token / output_cost_per_token
 *   (USD per token), cache_read_input_token_cost and
 *   cache_creation_input_token_cost when the provider caches prompts,
 *   max_input_tokens, max_output_tokens;
 *
 *   the seed's *_unified.json: {"currency": "CNY"|"USD", "unit":
 *   "per_million_tokens", "models": {id: {"pricing": {"prompt",
 *   "completion", "input_cache_read", "input_cache_write"},
 *   "context_length"}}} (the cache prices named as OpenRouter names
 *   them).
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


typedef struct {
    double                    prompt;       /* per token */
    double                    completion;   /* per token */
    double                    cache_read;   /* per token, -1: unknown */
    double                    cache_write;
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

#endif /* AIROUTER_PRICING_H */
