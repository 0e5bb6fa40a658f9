/*
 * A model's static merit, as scores in [0, 1] that do not depend on the
 * request: parameter score, context score and quality.  The catalogue
 * builder stores them in every entry, so ranking only reads them.
 *
 * Called by airouter_catalog.c at build time; tests call them directly.
 */

#ifndef AIROUTER_QUALITY_H
#define AIROUTER_QUALITY_H

#include <stddef.h>
#include <stdint.h>


/* The score given to a value nobody knows: the middle, neither end. */
#define AIROUTER_QUALITY_UNKNOWN   0.5


/*
 * Log-scaled total parameter count (millions): 500 (0.5B) and below -> 0,
 * 1,000,000 (1T) and above -> 1.  0 (unknown) -> AIROUTER_QUALITY_UNKNOWN.
 */
double airouter_quality_param_score(double total);

/*
 * Log-scaled context length (tokens): 4,096 and below -> 0, 1,048,576
 * (1M) and above -> 1.  0 (unknown) -> AIROUTER_QUALITY_UNKNOWN.
 */
double airouter_quality_context_score(uint64_t context);

/*
 * The size a mixture-of-experts model behaves like: the geometric mean of
 * total and active parameters (30b-a3b -> ~9.5B, 235b-a22b -> ~72B).
 * Dense models (active 0 or == total) -> total.
 */
double airouter_quality_effective_params(double total, double active);

/*
 * Quality of a model named name: from the built-in table of well-known
 * families (gpt-4o, claude-3.5-sonnet, deepseek-r1, qwen3-coder, kimi-k2,
 * ...), matched on the core name, unless the name states a size the family
 * entry does not have (a "deepseek-r1-distill-qwen-7b" is judged as a 7B);
 * otherwise log-scaled effective parameters in [0.05, 0.95]; with neither,
 * AIROUTER_QUALITY_UNKNOWN.  total and active are in millions, 0: unknown.
 */
double airouter_quality_score(const char *name, size_t len, double total,
    double active);

#endif /* AIROUTER_QUALITY_H */
