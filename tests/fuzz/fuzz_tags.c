/*
 * What a model name says (airouter_tags.c), on arbitrary names: the tag
 * extractor, join, core name, variant, parameter count, context length,
 * capabilities.  Oracles: every token lies inside the name, is not empty,
 * holds no separator and no two are equal ignoring case; at most max are
 * written, and a larger max never gives fewer; join returns the same
 * length whatever the buffer and always NUL-terminates; the core and the
 * variant are substrings of the name; the parameter count is positive
 * and active <= total; capabilities carry exactly one kind bit.
 */

#include <string.h>

#include "fuzz.h"
#include "airouter_tags.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int             kinds;
    char            small[8], big[512];
    size_t          i, j, k, n, n3, need, need2, start, end;
    double          total, active;
    uint32_t        caps;
    const char     *name;
    airouter_tag_t  tags[AIROUTER_TAGS_MAX], few[3], variant;

    name = (const char *) data;

    n = airouter_tags_extract(name, size, tags, AIROUTER_TAGS_MAX);
    FUZZ_CHECK(n <= AIROUTER_TAGS_MAX, "%zu tags", n);

    for (i = 0; i < n; i++) {
        FUZZ_CHECK(tags[i].len > 0 && tags[i].data >= name
                   && tags[i].data + tags[i].len <= name + size,
                   "tag %zu outside the name", i);

        for (k = 0; k < tags[i].len; k++) {
            FUZZ_CHECK(!airouter_tags_is_sep((unsigned char)
                                             tags[i].data[k]),
                       "separator in tag %zu", i);
        }

        for (j = 0; j < i; j++) {
            FUZZ_CHECK(!airouter_tags_eq(tags[i].data, tags[i].len,
                                         tags[j].data, tags[j].len),
                       "tags %zu and %zu are equal", j, i);
        }
    }

    n3 = airouter_tags_extract(name, size, few, 3);
    FUZZ_CHECK(n3 == (n < 3 ? n : 3), "max 3 gave %zu of %zu", n3, n);

    for (i = 0; i < n3; i++) {
        FUZZ_CHECK(few[i].data == tags[i].data && few[i].len == tags[i].len,
                   "tag %zu differs with a smaller max", i);
    }

    need = airouter_tags_join(name, size, big, sizeof(big));
    need2 = airouter_tags_join(name, size, small, sizeof(small));
    FUZZ_CHECK(need == need2, "join needs %zu, then %zu", need, need2);
    FUZZ_CHECK(memchr(small, '\0', sizeof(small)) != NULL
               && memchr(big, '\0', sizeof(big)) != NULL,
               "join did not terminate");

    /* a NUL is not a separator: strlen only works on names without one */
    if (need < sizeof(big) && memchr(name, '\0', size) == NULL) {
        FUZZ_CHECK(strlen(big) == need, "join wrote %zu, said %zu",
                   strlen(big), need);
        FUZZ_CHECK(strncmp(small, big, sizeof(small) - 1) == 0,
                   "a cut join is not a prefix");
    }

    (void) airouter_tags_join(name, size, NULL, 0);

    start = (size_t) -1;
    end = (size_t) -1;
    airouter_tags_core(name, size, &start, &end);
    FUZZ_CHECK(start <= end && end <= size, "core %zu..%zu of %zu", start,
               end, size);

    variant = airouter_tags_variant(name, size);
    FUZZ_CHECK(variant.len == 0
               || (variant.data > name
                   && variant.data + variant.len <= name + size
                   && variant.data[-1] == ':'),
               "variant outside the name");

    total = -1;
    active = -1;
    if (airouter_tags_params(name, size, &total, &active)) {
        FUZZ_CHECK(total > 0 && active > 0 && active <= total
                   && total == total && active == active,
                   "params total %g active %g", total, active);
    }

    (void) airouter_tags_context(name, size);

    caps = airouter_tags_caps(name, size);
    kinds = 0;
    for (i = 0; i < 16; i++) {
        if ((caps & AIROUTER_CAP_KIND) & (1u << i)) {
            kinds++;
        }
    }
    FUZZ_CHECK(kinds == 1 && !(caps & AIROUTER_CAP_TOOLS),
               "caps %#x", caps);
    FUZZ_CHECK(airouter_tags_kind_name(caps) != NULL, "kind of %#x", caps);

    /* a provider's word names one kind or none */
    caps = airouter_tags_kind(name, size);
    FUZZ_CHECK(caps == 0 || ((caps & AIROUTER_CAP_KIND) == caps
                             && (caps & (caps - 1)) == 0),
               "word kind %#x", caps);

    return 0;
}
