/*
 * Static merit scores declared in airouter_quality.h.  The family table is
 * deliberately coarse: tiers that order well-known models sensibly, not a
 * benchmark.  Anything not in it is judged by its size.
 */

#include <math.h>
#include <string.h>

#include "airouter_quality.h"
#include "airouter_tags.h"


#define AIROUTER_QUALITY_PARAM_LO   500.0           /* 0.5B, millions */
#define AIROUTER_QUALITY_PARAM_HI   1000000.0       /* 1T */
#define AIROUTER_QUALITY_CTX_LO     4096.0
#define AIROUTER_QUALITY_CTX_HI     1048576.0


/*
 * A family, matched as a prefix of the core name that ends at a
 * non-alphanumeric character, first match wins: more specific entries
 * come first ("gpt-4o-mini" before "gpt-4o").  total/active (millions)
 * when the family's size is public: a name stating another size is a
 * different model (a distill, a small sibling) and is judged by size.
 */
typedef struct {
    const char               *prefix;
    double                    quality;
    double                    total;
    double                    active;
} airouter_quality_family_t;


static const airouter_quality_family_t  airouter_quality_families[] = {
    { "gpt-5-nano",            0.70, 0, 0 },
    { "gpt-5-mini",            0.82, 0, 0 },
    { "gpt-5",                 0.95, 0, 0 },
    { "o3-mini",               0.84, 0, 0 },
    { "o3-pro",                0.95, 0, 0 },
    { "o3",                    0.93, 0, 0 },
    { "o4-mini",               0.87, 0, 0 },
    { "o1-mini",               0.80, 0, 0 },
    { "o1",                    0.90, 0, 0 },
    { "gpt-4.1-nano",          0.62, 0, 0 },
    { "gpt-4.1-mini",          0.76, 0, 0 },
    { "gpt-4.1",               0.88, 0, 0 },
    { "gpt-4.5",               0.90, 0, 0 },
    { "gpt-4o-mini",           0.70, 0, 0 },
    { "gpt-4o",                0.85, 0, 0 },
    { "gpt-4-turbo",           0.82, 0, 0 },
    { "gpt-4",                 0.78, 0, 0 },
    { "gpt-3.5-turbo",         0.55, 0, 0 },
    { "gpt-oss-120b",          0.80, 117000, 5100 },
    { "gpt-oss-20b",           0.66, 21000, 3600 },
    { "claude-opus-4.1",       0.96, 0, 0 },
    { "claude-opus-4",         0.95, 0, 0 },
    { "claude-sonnet-4.5",     0.96, 0, 0 },
    { "claude-sonnet-4",       0.93, 0, 0 },
    { "claude-haiku-4.5",      0.86, 0, 0 },
    { "claude-3.7-sonnet",     0.91, 0, 0 },
    { "claude-3.5-sonnet",     0.89, 0, 0 },
    { "claude-3.5-haiku",      0.76, 0, 0 },
    { "claude-3-opus",         0.86, 0, 0 },
    { "claude-3-sonnet",       0.78, 0, 0 },
    { "claude-3-haiku",        0.66, 0, 0 },
    { "gemini-2.5-pro",        0.94, 0, 0 },
    { "gemini-2.5-flash-lite", 0.76, 0, 0 },
    { "gemini-2.5-flash",      0.86, 0, 0 },
    { "gemini-2.0-flash",      0.78, 0, 0 },
    { "gemini-1.5-pro",        0.82, 0, 0 },
    { "deepseek-r1",           0.91, 671000, 37000 },
    { "deepseek-reasoner",     0.91, 671000, 37000 },
    { "deepseek-v3",           0.88, 671000, 37000 },
    { "deepseek-chat",         0.88, 671000, 37000 },
    { "qwen3-coder-flash",     0.80, 0, 0 },
    { "qwen3-coder",           0.88, 480000, 35000 },
    { "qwen3-max",             0.91, 0, 0 },
    { "kimi-k2",               0.89, 1000000, 32000 },
    { "glm-4.6",               0.88, 355000, 32000 },
    { "glm-4.5-air",           0.79, 106000, 12000 },
    { "glm-4.5",               0.86, 355000, 32000 },
    { "grok-4",                0.92, 0, 0 },
    { "grok-3-mini",           0.78, 0, 0 },
    { "grok-3",                0.86, 0, 0 },
    { "llama-4-maverick",      0.78, 400000, 17000 },
    { "llama-4-scout",         0.70, 109000, 17000 },
    { "minimax-m2",            0.86, 230000, 10000 },
    { "mistral-large",         0.82, 0, 0 },
    { "mistral-medium",        0.80, 0, 0 }
};


static double airouter_quality_log_scale(double v, double lo, double hi);
static const airouter_quality_family_t *airouter_quality_family(
    const char *core, size_t len);


double
airouter_quality_param_score(double total)
{
    if (!(total > 0)) {
        return AIROUTER_QUALITY_UNKNOWN;
    }

    return airouter_quality_log_scale(total, AIROUTER_QUALITY_PARAM_LO,
                                      AIROUTER_QUALITY_PARAM_HI);
}


double
airouter_quality_context_score(uint64_t context)
{
    if (context == 0) {
        return AIROUTER_QUALITY_UNKNOWN;
    }

    return airouter_quality_log_scale((double) context,
                                      AIROUTER_QUALITY_CTX_LO,
                                      AIROUTER_QUALITY_CTX_HI);
}


double
airouter_quality_effective_params(double total, double active)
{
    if (active > 0 && active < total) {
        return sqrt(total * active);
    }

    return total;
}


double
airouter_quality_score(const char *name, size_t len, double total,
    double active)
{
    size_t                            s, e;
    double                            eff;
    const airouter_quality_family_t  *f;

    airouter_tags_core(name, len, &s, &e);

    f = airouter_quality_family(name + s, e - s);

    if (f != NULL) {
        /* a stated size 10% off the family's: another model */
        if (!(total > 0) || f->total == 0
            || fabs(total - f->total) <= f->total * 0.1)
        {
            return f->quality;
        }
    }

    eff = airouter_quality_effective_params(total, active);

    if (!(eff > 0)) {
        return AIROUTER_QUALITY_UNKNOWN;
    }

    return 0.05 + 0.9 * airouter_quality_param_score(eff);
}


static double
airouter_quality_log_scale(double v, double lo, double hi)
{
    double  s;

    s = (log(v) - log(lo)) / (log(hi) - log(lo));

    if (s < 0) {
        return 0;
    }

    if (s > 1) {
        return 1;
    }

    return s;
}


static const airouter_quality_family_t *
airouter_quality_family(const char *core, size_t len)
{
    int     c;
    size_t  i, j, n;

    for (i = 0;
         i < sizeof(airouter_quality_families)
             / sizeof(airouter_quality_families[0]);
         i++)
    {
        n = strlen(airouter_quality_families[i].prefix);

        if (n > len) {
            continue;
        }

        for (j = 0; j < n; j++) {
            c = (unsigned char) core[j];
            if (c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            }

            if (c != airouter_quality_families[i].prefix[j]) {
                break;
            }
        }

        if (j < n) {
            continue;
        }

        if (n == len) {
            return &airouter_quality_families[i];
        }

        c = (unsigned char) core[n];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')))
        {
            return &airouter_quality_families[i];
        }
    }

    return NULL;
}
