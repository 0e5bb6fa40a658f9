/*
 * The catalogue blob validator, airouter_catalog_open(): it must refuse
 * every corrupted blob, and a blob it accepts must be safe to read in
 * full.  The checksum would refuse nearly every random change before the
 * structural checks are reached, so the target re-signs what it makes:
 *
 *   first byte even: the fixture blob (util.c) with the input applied as
 *     edits, 4 bytes each: a 16-bit offset, an operation (set a byte, xor
 *     it, add to a 32-bit word, set a 32-bit word to a small or huge
 *     value), a value;
 *   first byte odd: the rest of the input is the blob itself.
 *
 * Then size and checksum are set to match (half the time), and the blob is
 * opened from an 8-aligned buffer of exactly its length.  When it opens,
 * every channel, entry, tag, tag reference, posting list, hash slot and
 * string is walked, every key is looked up again, and a few queries are
 * resolved and iterated, so that AddressSanitizer sees any read the
 * validator should have refused.
 */

#include <string.h>

#include "fuzz.h"
#include "airouter_catalog.h"
#include "airouter_query.h"


static void walk(const airouter_catalog_t *cat, size_t len);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                     i, len, off, flen;
    uint32_t                   w;
    uint8_t                   *blob;
    const void                *fixture;
    airouter_catalog_t        *hdr;
    const airouter_catalog_t  *cat;

    if (size < 1) {
        return 0;
    }

    if (data[0] & 1) {
        len = size - 1;
        /* exactly len bytes, 8-aligned (malloc's alignment) */
        blob = malloc(len ? len : 1);
        if (blob == NULL) {
            abort();
        }
        memcpy(blob, data + 1, len);

    } else {
        fixture = fuzz_fixture_blob(&flen);
        len = flen;
        blob = malloc(len);
        if (blob == NULL) {
            abort();
        }
        memcpy(blob, fixture, len);

        for (i = 1; i + 4 <= size && len > 0; i += 4) {
            off = ((size_t) data[i] | (size_t) data[i + 1] << 8) % len;

            switch (data[i + 2] % 6) {
            case 0:
                blob[off] = data[i + 3];
                break;
            case 1:
                blob[off] ^= data[i + 3];
                break;
            case 2:
                off &= ~(size_t) 3;
                if (off + 4 <= len) {
                    memcpy(&w, blob + off, 4);
                    w += (uint32_t) (int8_t) data[i + 3];
                    memcpy(blob + off, &w, 4);
                }
                break;
            case 3:
                off &= ~(size_t) 3;
                if (off + 4 <= len) {
                    w = data[i + 3];
                    memcpy(blob + off, &w, 4);
                }
                break;
            case 4:
                off &= ~(size_t) 3;
                if (off + 4 <= len) {
                    w = 0xffffffffu - data[i + 3];
                    memcpy(blob + off, &w, 4);
                }
                break;
            default:
                /* cut the blob short */
                if (data[i + 3] < 16) {
                    len = off;
                }
                break;
            }
        }
    }

    if (len >= sizeof(airouter_catalog_t) && !(data[0] & 2)) {
        hdr = (airouter_catalog_t *) blob;
        hdr->size = len;
        hdr->checksum = airouter_catalog_checksum(blob, len);
    }

    cat = airouter_catalog_open(blob, len);

    if (cat != NULL) {
        FUZZ_CHECK((const void *) cat == blob, "the view is not the blob");
        walk(cat, len);
    }

    free(blob);

    return 0;
}


/* Reads everything an opened catalogue offers, as the module would. */
static void
walk(const airouter_catalog_t *cat, size_t len)
{
    size_t                             sum;
    uint32_t                           i, j, m, model;
    const char                        *s;
    const uint32_t                    *refs, *post;
    airouter_query_t                   q;
    airouter_query_iter_t              it;
    airouter_similar_t                 sim[4];
    const airouter_catalog_tag_t      *t;
    const airouter_catalog_slot_t     *sl, *found;
    const airouter_catalog_model_t    *e;
    const airouter_catalog_channel_t  *ch;

    static const char  *queries[] = {
        "qwen3", "tag:free", "tag:qwen,!local", "gpt-4o-mini", "mini",
        "claude-3-haiku", "kimi-free", "tag:!free", "nomatch-xyz"
    };

    sum = 0;

    for (i = 0; i < airouter_catalog_nchannels(cat); i++) {
        ch = airouter_catalog_channel(cat, i);

        for (j = 0; j < ch->nmodels; j++) {
            e = airouter_catalog_model(cat, ch->first_model + j);
            sum += e->flags;
        }
    }

    for (m = 0; m < airouter_catalog_nmodels(cat); m++) {
        e = airouter_catalog_model(cat, m);

        s = airouter_catalog_model_id(cat, e);
        sum += strlen(s) + s[e->id_len];
        s = airouter_catalog_model_core(cat, e);
        sum += strlen(s) + s[e->core_len];
        sum += strlen(airouter_catalog_model_currency(cat, e));

        refs = airouter_catalog_model_tags(cat, e);

        for (j = 0; j < e->ntags; j++) {
            sum += strlen(airouter_catalog_tag_name(cat, refs[j]));
            sum += airouter_catalog_model_has_tag(cat, e, refs[j]);
        }
    }

    for (i = 0; i < airouter_catalog_ntags(cat); i++) {
        t = airouter_catalog_tag(cat, i);
        post = airouter_catalog_postings(cat, t->postings);

        for (j = 0; j < t->count; j++) {
            FUZZ_CHECK(post[j] < airouter_catalog_nmodels(cat),
                       "tag %u posting %u: entry %u of %u", i, j, post[j],
                       airouter_catalog_nmodels(cat));
        }

        s = airouter_catalog_tag_name(cat, i);
        sum += (size_t) airouter_catalog_find_tag(cat, s, t->name_len);
    }

    sl = (const airouter_catalog_slot_t *)
         ((const char *) cat + cat->slots);

    for (i = 0; i < cat->nslots; i++, sl++) {
        if (sl->kind == AIROUTER_KEY_EMPTY) {
            continue;
        }

        s = airouter_catalog_str(cat, sl->key);
        found = airouter_catalog_lookup(cat, sl->kind, s, sl->key_len);
        sum += found != NULL;

        if (sl->kind != AIROUTER_KEY_TAG) {
            post = airouter_catalog_postings(cat, sl->value);

            for (j = 0; j < sl->count; j++) {
                FUZZ_CHECK(post[j] < airouter_catalog_nmodels(cat),
                           "slot %u posting %u: entry %u", i, j, post[j]);
            }
        }
    }

    for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        if (airouter_query_resolve(cat, queries[i], strlen(queries[i]), &q)
            == AIROUTER_QUERY_OK)
        {
            airouter_query_iter_init(&it, &q);
            j = 0;

            while (airouter_query_next(&it, &model)) {
                FUZZ_CHECK(model < airouter_catalog_nmodels(cat),
                           "query %s: entry %u", queries[i], model);
                FUZZ_CHECK(++j <= airouter_catalog_nmodels(cat),
                           "query %s: endless", queries[i]);
            }

        } else {
            sum += airouter_query_similar(cat, queries[i],
                                          strlen(queries[i]), sim, 4);
        }
    }

    FUZZ_CHECK(sum != (size_t) -1 && len >= sizeof(*cat), "unreachable");
}
