/*
 * Price files (airouter_pricing.c): LiteLLM's price list and the seed's
 * *_unified.json, on arbitrary bytes.  Oracles: a failed file leaves a
 * message and changes nothing (the count stays, finds answer as before);
 * a read file adds at most what it says it read; every price found has a
 * currency and numbers for prices; lookups by id are case-insensitive (the
 * same answer for an id upper- and lowercased).  Lookups use ids,
 * providers and channels taken from the input's own strings and a few
 * fixed ones.
 */

#include <ctype.h>
#include <string.h>

#include "fuzz.h"
#include "airouter_pricing.h"


static void check_price(const airouter_price_t *pr, const char *id);
static void find_all(const airouter_pricing_t *p, const char *id);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long                 n, n2;
    char                 err[256], *text, id[128];
    size_t               i, j, before;
    const char          *q;
    airouter_pricing_t  *p;

    static const char  *fixed[] = {
        "gpt-4o", "deepseek/deepseek-chat", "deepseek-chat", "Qwen/Qwen3-8B",
        "x", "", "/", "a/", "/b"
    };

    p = airouter_pricing_create();
    if (p == NULL) {
        abort();
    }

    err[0] = '\0';
    n = airouter_pricing_add_json(p, (const char *) data, size, err,
                                  sizeof(err));

    if (n < 0) {
        FUZZ_CHECK(n == -1 && err[0] != '\0'
                   && airouter_pricing_count(p) == 0,
                   "failed file: rc %ld, %zu models kept", n,
                   airouter_pricing_count(p));

    } else {
        FUZZ_CHECK(airouter_pricing_count(p) <= (size_t) n,
                   "read %ld, count %zu", n, airouter_pricing_count(p));
    }

    for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        find_all(p, fixed[i]);
    }

    /* every "..." string of the input (unescaped bytes) as an id */
    text = fuzz_strndup(data, size);
    q = text;

    for (i = 0; i < 32 && (q = strchr(q, '"')) != NULL; i++) {
        q++;
        for (j = 0; j < sizeof(id) - 1 && q[j] && q[j] != '"'; j++) {
            id[j] = q[j];
        }
        id[j] = '\0';
        find_all(p, id);
        q += j + (q[j] == '"');
    }

    /* the same file again: the first one to name a model wins */
    before = airouter_pricing_count(p);
    n2 = airouter_pricing_add_json(p, (const char *) data, size, err,
                                   sizeof(err));
    FUZZ_CHECK((n < 0) == (n2 < 0), "second read: %ld, first %ld", n2, n);
    FUZZ_CHECK(airouter_pricing_count(p) >= before, "count went down");

    free(text);
    airouter_pricing_free(p);

    return 0;
}


static void
find_all(const airouter_pricing_t *p, const char *id)
{
    char                     upper[128];
    size_t                   i;
    const airouter_price_t  *a, *b;

    static const char  *prov[] = { NULL, "siliconflow", "openrouter", "" };
    static const char  *chan[] = { NULL, "ch1", "SiliconFlow" };

    for (i = 0; i < 12; i++) {
        a = airouter_pricing_find(p, id, prov[i % 4], chan[i % 3]);
        if (a != NULL) {
            check_price(a, id);
        }
    }

    for (i = 0; i + 1 < sizeof(upper) && id[i]; i++) {
        upper[i] = (char) toupper((unsigned char) id[i]);
    }
    upper[i] = '\0';

    a = airouter_pricing_find(p, id, NULL, NULL);
    b = airouter_pricing_find(p, upper, NULL, NULL);

    if (strlen(id) < sizeof(upper) - 1) {
        FUZZ_CHECK((a == NULL) == (b == NULL), "\"%s\" found %d, uppercased "
                   "%d", id, a != NULL, b != NULL);
    }
}


static void
check_price(const airouter_price_t *pr, const char *id)
{
    /* "currency": "" is kept as it is (reported: see README.md) */
    FUZZ_CHECK(pr->currency != NULL, "\"%s\": no currency", id);
    (void) strlen(pr->currency);
    /*
     * Negative prices are taken as the file states them (reported, not
     * refused: see README.md), so only "a number" is checked here.
     */
    FUZZ_CHECK(pr->prompt == pr->prompt && pr->completion == pr->completion
               && pr->cache_read == pr->cache_read
               && pr->cache_write == pr->cache_write,
               "\"%s\": NaN price", id);
}
