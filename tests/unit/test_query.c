/*
 * The query language (airouter_query.c): each stage, its precedence,
 * strict tag queries, error cases, 404 suggestions, and the intersecting
 * iterator checked against brute force on a random catalogue.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "airouter_catalog.h"
#include "airouter_query.h"
#include "unit.h"


static void
add(airouter_catalog_builder_t *b, uint32_t ch, const char *id, int price0)
{
    airouter_model_info_t  info;

    memset(&info, 0, sizeof(info));
    info.id = id;

    if (price0 >= 0) {
        info.has_price = 1;
        info.price_prompt = price0 ? 0 : 0.000001;
        info.price_completion = price0 ? 0 : 0.000002;
    }

    UNIT_CHECK(airouter_catalog_builder_add_model(b, ch, &info) == 0,
               "add %s", id);
}


static const airouter_catalog_t *
small_catalog(void **blobp)
{
    size_t                       len;
    void                        *blob;
    airouter_config_t           *cf;
    airouter_catalog_builder_t  *b;

    cf = unit_config(3);
    cf->channels[2].local = 1;

    b = airouter_catalog_builder_create(cf);
    add(b, 0, "qwen/qwen3-30b-a3b:free", -1);
    add(b, 0, "qwen/qwen3-30b-a3b", 0);
    add(b, 0, "qwen/qwen3-coder:free", -1);
    add(b, 0, "anthropic/claude-3-haiku", 0);
    add(b, 0, "moonshotai/kimi-k2:free", -1);
    add(b, 0, "moonshotai/kimi-k2", 0);
    add(b, 0, "google/gemma-3-12b", 0);
    add(b, 0, "openrouter/zero", 1);
    add(b, 1, "claude-3-haiku-20240307", 0);
    add(b, 1, "gpt-4o", 0);
    add(b, 1, "gpt-4o-2024-08-06", 0);
    add(b, 1, "ep-20250613210739-qjxdl", 0);
    add(b, 2, "qwen3:8b", -1);
    add(b, 2, "qwen3:0.6b", -1);
    add(b, 2, "google/gemma-3-12b", -1);
    add(b, 2, "\xe6\xa8\xa1\xe5\x9e\x8b-Qwen3", -1);
    UNIT_CHECK(airouter_catalog_builder_add_alias(b, 1, "doubao-pro",
                                                  "ep-20250613210739-qjxdl")
               == 0, "alias");
    UNIT_CHECK(airouter_catalog_builder_add_alias(b, 1, "gpt-4o-mini",
                                                  "gpt-4o") == 0,
               "alias shadowed by a core name elsewhere");

    blob = airouter_catalog_builder_finish(b, &len);
    airouter_catalog_builder_destroy(b);
    *blobp = blob;

    return airouter_catalog_open(blob, len);
}


/* "ch:id,ch:id" of a query's matches, or "" */
static const char *
run(const airouter_catalog_t *cat, const char *query,
    airouter_query_status_e *st, airouter_stage_e *stage)
{
    static char                      buf[8192];
    size_t                           used;
    uint32_t                         x;
    airouter_query_t                 q;
    airouter_query_iter_t            it;
    const airouter_catalog_model_t  *m;

    buf[0] = '\0';
    used = 0;

    *st = airouter_query_resolve(cat, query, query ? strlen(query) : 0, &q);
    *stage = q.stage;

    airouter_query_iter_init(&it, &q);

    while (airouter_query_next(&it, &x)) {
        m = airouter_catalog_model(cat, x);
        used += snprintf(buf + used, sizeof(buf) - used, "%s%u:%s",
                         used ? "," : "", m->channel,
                         airouter_catalog_model_id(cat, m));
    }

    return buf;
}


static airouter_query_status_e
resolve(const airouter_catalog_t *cat, const char *query)
{
    airouter_query_t  q;

    return airouter_query_resolve(cat, query, strlen(query), &q);
}


#define EXPECT(query, want_st, want_stage, want)                              \
    do {                                                                      \
        airouter_query_status_e  st_;                                         \
        airouter_stage_e         sg_;                                         \
        UNIT_STREQ(run(cat, query, &st_, &sg_), want);                        \
        UNIT_CHECK(st_ == (want_st) && sg_ == (want_stage),                   \
                   "%s: status %d stage %s", query, (int) st_,                \
                   airouter_query_stage_name(sg_));                           \
    } while (0)


static void
test_stages(const airouter_catalog_t *cat)
{
    /* physical, any case */
    EXPECT("QWEN/Qwen3-30B-A3B:FREE", AIROUTER_QUERY_OK,
           AIROUTER_STAGE_PHYSICAL, "0:qwen/qwen3-30b-a3b:free");
    EXPECT("  gpt-4o  ", AIROUTER_QUERY_OK, AIROUTER_STAGE_PHYSICAL,
           "1:gpt-4o");

    /* core: provider, variant and date stripped on both sides */
    EXPECT("qwen3-30b-a3b", AIROUTER_QUERY_OK, AIROUTER_STAGE_CORE,
           "0:qwen/qwen3-30b-a3b,0:qwen/qwen3-30b-a3b:free");
    EXPECT("claude-3-haiku", AIROUTER_QUERY_OK, AIROUTER_STAGE_CORE,
           "0:anthropic/claude-3-haiku,1:claude-3-haiku-20240307");
    EXPECT("anthropic/claude-3-haiku-20240307", AIROUTER_QUERY_OK,
           AIROUTER_STAGE_CORE,
           "0:anthropic/claude-3-haiku,1:claude-3-haiku-20240307");
    EXPECT("qwen3-coder", AIROUTER_QUERY_OK, AIROUTER_STAGE_CORE,
           "0:qwen/qwen3-coder:free");

    /* an ollama size variant is its own core name */
    EXPECT("qwen3-8b", AIROUTER_QUERY_OK, AIROUTER_STAGE_CORE, "2:qwen3:8b");
    EXPECT("qwen3:8b", AIROUTER_QUERY_OK, AIROUTER_STAGE_PHYSICAL,
           "2:qwen3:8b");
    EXPECT("qwen3", AIROUTER_QUERY_OK, AIROUTER_STAGE_CORE,
           "2:qwen3:0.6b,2:qwen3:8b");
    EXPECT("other/qwen3:0.6b", AIROUTER_QUERY_OK, AIROUTER_STAGE_CORE,
           "2:qwen3:0.6b");

    /* aliases come after core names */
    EXPECT("Doubao-Pro", AIROUTER_QUERY_OK, AIROUTER_STAGE_ALIAS,
           "1:ep-20250613210739-qjxdl");
    EXPECT("gpt-4o-mini", AIROUTER_QUERY_OK, AIROUTER_STAGE_ALIAS,
           "1:gpt-4o");

    /* tag queries: AND, NOT, any case, spaces */
    EXPECT("tag:free", AIROUTER_QUERY_OK, AIROUTER_STAGE_TAG,
           "0:moonshotai/kimi-k2:free,0:openrouter/zero,"
           "0:qwen/qwen3-30b-a3b:free,0:qwen/qwen3-coder:free");
    EXPECT("TAG: Qwen3 , FREE ", AIROUTER_QUERY_OK, AIROUTER_STAGE_TAG,
           "0:qwen/qwen3-30b-a3b:free,0:qwen/qwen3-coder:free");
    EXPECT("tags:qwen3,!free,!local", AIROUTER_QUERY_OK, AIROUTER_STAGE_TAG,
           "0:qwen/qwen3-30b-a3b");
    EXPECT("tag:qwen3,local", AIROUTER_QUERY_OK, AIROUTER_STAGE_TAG,
           "2:qwen3:0.6b,2:qwen3:8b,2:\xe6\xa8\xa1\xe5\x9e\x8b-Qwen3");
    EXPECT("tag:gemma,!local", AIROUTER_QUERY_OK, AIROUTER_STAGE_TAG,
           "0:google/gemma-3-12b");
    EXPECT("tag:free,qwen3", AIROUTER_QUERY_OK, AIROUTER_STAGE_TAG,
           "0:qwen/qwen3-30b-a3b:free,0:qwen/qwen3-coder:free");

    /* an item that is no tag but splits into tags means all its parts */
    EXPECT("tag:qwen3-coder", AIROUTER_QUERY_OK, AIROUTER_STAGE_TAG,
           "0:qwen/qwen3-coder:free");

    /* only negatives: everything without them */
    EXPECT("tag:!free,!local,!qwen3,!gpt,!claude", AIROUTER_QUERY_OK,
           AIROUTER_STAGE_TAG,
           "0:google/gemma-3-12b,0:moonshotai/kimi-k2,"
           "1:ep-20250613210739-qjxdl");
    EXPECT("tag:!nosuchtag,zero", AIROUTER_QUERY_OK, AIROUTER_STAGE_TAG,
           "0:openrouter/zero");

    /* implicit tags when nothing else matched */
    EXPECT("kimi-free", AIROUTER_QUERY_OK, AIROUTER_STAGE_IMPLICIT_TAG,
           "0:moonshotai/kimi-k2:free");
    EXPECT("free/qwen3@30b", AIROUTER_QUERY_OK, AIROUTER_STAGE_IMPLICIT_TAG,
           "0:qwen/qwen3-30b-a3b:free");
    EXPECT("gemma_local", AIROUTER_QUERY_OK, AIROUTER_STAGE_IMPLICIT_TAG,
           "2:google/gemma-3-12b");

    /* unicode: bytes are matched as they are */
    EXPECT("\xe6\xa8\xa1\xe5\x9e\x8b-qwen3", AIROUTER_QUERY_OK,
           AIROUTER_STAGE_PHYSICAL, "2:\xe6\xa8\xa1\xe5\x9e\x8b-Qwen3");
    EXPECT("tag:\xe6\xa8\xa1\xe5\x9e\x8b", AIROUTER_QUERY_OK,
           AIROUTER_STAGE_TAG, "2:\xe6\xa8\xa1\xe5\x9e\x8b-Qwen3");
}


static void
test_errors(const airouter_catalog_t *cat)
{
    char                     big[2048];
    size_t                   i;
    airouter_query_t         q;
    airouter_similar_t       sim[5];

    EXPECT("", AIROUTER_QUERY_BAD, AIROUTER_STAGE_NONE, "");
    EXPECT("   ", AIROUTER_QUERY_BAD, AIROUTER_STAGE_NONE, "");
    UNIT_CHECK(airouter_query_resolve(cat, NULL, 0, &q) == AIROUTER_QUERY_BAD,
               "NULL model");
    EXPECT("tag:", AIROUTER_QUERY_BAD, AIROUTER_STAGE_TAG, "");
    EXPECT("tags: , ,!", AIROUTER_QUERY_BAD, AIROUTER_STAGE_TAG, "");
    EXPECT("tag:nosuchtag", AIROUTER_QUERY_NO_MATCH, AIROUTER_STAGE_TAG, "");
    EXPECT("tag:free,nosuch", AIROUTER_QUERY_NO_MATCH, AIROUTER_STAGE_TAG,
           "");
    EXPECT("tag:gpt,free", AIROUTER_QUERY_NO_MATCH, AIROUTER_STAGE_TAG, "");
    EXPECT("no-such-model", AIROUTER_QUERY_NO_MATCH, AIROUTER_STAGE_NONE,
           "");
    EXPECT("---", AIROUTER_QUERY_NO_MATCH, AIROUTER_STAGE_NONE, "");
    EXPECT("\xff\xfe\xfd", AIROUTER_QUERY_NO_MATCH, AIROUTER_STAGE_NONE, "");

    UNIT_CHECK(resolve(cat, "tag:a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q")
               == AIROUTER_QUERY_BAD, "17 tags");
    UNIT_CHECK(resolve(cat, "tag:!a,!b,!c,!d,!e,!f,!g,!h,!i,!j,!k,!l,!m,"
                       "!n,!o,!p,!q") == AIROUTER_QUERY_BAD, "17 negatives");
    UNIT_CHECK(resolve(cat, "tag:free,free,free,free,free,free,free,free,"
                       "free,free,free,free,free,free,free,free,free")
               == AIROUTER_QUERY_BAD, "17 positives");
    UNIT_CHECK(resolve(cat, "tag:free,free,free,free,free,free,free,free,"
                       "free,free,free,free,free,free,free,free")
               == AIROUTER_QUERY_OK, "16 is the limit");

    /* 1 KB and longer model strings, with and without separators */
    memset(big, 'a', sizeof(big));
    UNIT_CHECK(airouter_query_resolve(cat, big, 1024, &q)
               == AIROUTER_QUERY_NO_MATCH, "1 KB");
    UNIT_CHECK(airouter_query_similar(cat, big, 1024, sim, 5) == 0,
               "no hints for 1 KB");
    for (i = 3; i < sizeof(big); i += 4) {
        big[i] = '-';
    }
    UNIT_CHECK(airouter_query_resolve(cat, big, sizeof(big), &q)
               == AIROUTER_QUERY_NO_MATCH, "2 KB of tokens");
    memcpy(big, "tag:", 4);
    UNIT_CHECK(airouter_query_resolve(cat, big, sizeof(big), &q)
               == AIROUTER_QUERY_NO_MATCH, "2 KB tag query");
    airouter_query_similar(cat, big, sizeof(big), sim, 5);

    UNIT_STREQ(airouter_query_stage_name(AIROUTER_STAGE_IMPLICIT_TAG),
               "implicit_tag");
}


static const char *
hints(const airouter_catalog_t *cat, const char *query)
{
    static char          buf[1024];
    size_t               n, i, used;
    airouter_similar_t   sim[5];

    n = airouter_query_similar(cat, query, strlen(query), sim, 5);
    used = 0;
    buf[0] = '\0';

    for (i = 0; i < n; i++) {
        used += snprintf(buf + used, sizeof(buf) - used, "%s%s%s",
                         i ? "," : "", sim[i].tag ? "tag:" : "",
                         sim[i].name);
    }

    return buf;
}


static void
test_similar(const airouter_catalog_t *cat)
{
    UNIT_STREQ(hints(cat, "claude-3-haku"), "claude-3-haiku");
    UNIT_STREQ(hints(cat, "openai/gpt4o"), "gpt-4o");
    UNIT_STREQ(hints(cat, "qwen3-30b"), "qwen3-30b-a3b,qwen3-8b,qwen3-0.6b");
    UNIT_STREQ(hints(cat, "qwen3-0.6"), "qwen3-0.6b,qwen3-8b");
    UNIT_STREQ(hints(cat, "qwen"), "qwen3,qwen3-0.6b,qwen3-30b-a3b,qwen3-8b,"
                                   "qwen3-coder");
    UNIT_STREQ(hints(cat, "tag:qwen4"), "tag:qwen,tag:qwen3");
    UNIT_STREQ(hints(cat, "tag:fre,qwen3"), "tag:free");
    UNIT_STREQ(hints(cat, "tag:gpt,free"),
               "gpt-4o,kimi-k2,zero,qwen3-30b-a3b,qwen3-coder");
    UNIT_STREQ(hints(cat, "tag:qwen3,free,local"),
               "qwen3-30b-a3b,qwen3-coder,qwen3,"
               "\xe6\xa8\xa1\xe5\x9e\x8b-qwen3,kimi-k2");
    UNIT_STREQ(hints(cat, "gemma-kimi"), "gemma-3-12b,kimi-k2");
    UNIT_STREQ(hints(cat, "zzzzzzzzzzzz"), "");
    UNIT_STREQ(hints(cat, ""), "");
}


/*
 * Name fragments that are no tags ("3.1", "v3", "e", a date): not in the
 * catalogue's tags, yet a query naming one finds the names that have it,
 * as when every token was a tag.
 */
static void
test_fragments(void)
{
    void                        *blob;
    size_t                       len;
    airouter_config_t           *cf;
    airouter_catalog_builder_t  *b;
    const airouter_catalog_t    *cat;

    cf = unit_config(2);
    b = airouter_catalog_builder_create(cf);
    add(b, 0, "meta-llama/llama-3.1-8b-instruct", 0);
    add(b, 0, "meta-llama/llama-3.3-70b-instruct:free", -1);
    add(b, 0, "deepseek-ai/DeepSeek-V3", 0);
    add(b, 1, "dall-e-3", 0);
    add(b, 1, "claude-3-haiku-20240307", 0);
    blob = airouter_catalog_builder_finish(b, &len);
    airouter_catalog_builder_destroy(b);
    cat = airouter_catalog_open(blob, len);
    UNIT_CHECK(cat != NULL, "fragments catalogue");

    if (cat == NULL) {
        free(blob);
        return;
    }

    UNIT_CHECK(airouter_catalog_find_tag(cat, "3.1", 3) < 0
               && airouter_catalog_find_tag(cat, "v3", 2) < 0
               && airouter_catalog_find_tag(cat, "e", 1) < 0
               && airouter_catalog_find_tag(cat, "3", 1) < 0
               && airouter_catalog_find_tag(cat, "20240307", 8) < 0,
               "fragments are no tags");
    UNIT_CHECK(airouter_catalog_find_tag(cat, "llama", 5) >= 0
               && airouter_catalog_find_tag(cat, "8b", 2) >= 0
               && airouter_catalog_find_tag(cat, "haiku", 5) >= 0,
               "words and sizes are");

    EXPECT("tag:3.1", AIROUTER_QUERY_OK, AIROUTER_STAGE_TAG,
           "0:meta-llama/llama-3.1-8b-instruct");
    EXPECT("tag:llama,!3.1", AIROUTER_QUERY_OK, AIROUTER_STAGE_TAG,
           "0:meta-llama/llama-3.3-70b-instruct:free");
    EXPECT("tag:llama-3.3", AIROUTER_QUERY_OK, AIROUTER_STAGE_TAG,
           "0:meta-llama/llama-3.3-70b-instruct:free");
    EXPECT("tag:V3", AIROUTER_QUERY_OK, AIROUTER_STAGE_TAG,
           "0:deepseek-ai/DeepSeek-V3");
    EXPECT("tag:e", AIROUTER_QUERY_OK, AIROUTER_STAGE_TAG, "1:dall-e-3");
    EXPECT("tag:3", AIROUTER_QUERY_OK, AIROUTER_STAGE_TAG,
           "1:claude-3-haiku-20240307,1:dall-e-3");
    EXPECT("tag:20240307", AIROUTER_QUERY_OK, AIROUTER_STAGE_TAG,
           "1:claude-3-haiku-20240307");
    EXPECT("llama-3.3-free", AIROUTER_QUERY_OK, AIROUTER_STAGE_IMPLICIT_TAG,
           "0:meta-llama/llama-3.3-70b-instruct:free");
    EXPECT("instruct-3.1", AIROUTER_QUERY_OK, AIROUTER_STAGE_IMPLICIT_TAG,
           "0:meta-llama/llama-3.1-8b-instruct");
    EXPECT("tag:9.9", AIROUTER_QUERY_NO_MATCH, AIROUTER_STAGE_TAG, "");
    EXPECT("tag:llama,9.9", AIROUTER_QUERY_NO_MATCH, AIROUTER_STAGE_TAG, "");

    free(blob);
}


/* Random ids over a small alphabet; random tag queries vs brute force. */
static void
test_iterator(void)
{
    char                         id[64], query[256];
    void                        *blob;
    size_t                       len, i, k, n, used, npos, nneg, expect;
    uint32_t                     x, r, pos[4], neg[3];
    unsigned                     seed;
    long                         t;
    airouter_config_t           *cf;
    airouter_query_t             q;
    airouter_query_iter_t        it;
    airouter_model_info_t        info;
    airouter_catalog_builder_t  *b;
    const airouter_catalog_t    *cat;
    const airouter_catalog_model_t  *m;
    static const char           *words[] = {
        "aa", "bb", "cc", "dd", "ee", "ff", "gg", "hh", "ii", "jj", "kk",
        "ll", "mm", "nn", "oo", "pp"
    };

    cf = unit_config(4);
    b = airouter_catalog_builder_create(cf);
    seed = 42;

    for (i = 0; i < 5000; i++) {
        used = (size_t) snprintf(id, sizeof(id), "m%zu", i);

        for (k = 0; k < 4; k++) {
            seed = seed * 1103515245 + 12345;
            r = (seed >> 16) % 16;
            /* skewed: early words are common, late ones rare */
            r = r * r / 16;
            used += (size_t) snprintf(id + used, sizeof(id) - used, "-%s",
                                      words[r]);
        }

        memset(&info, 0, sizeof(info));
        info.id = id;
        airouter_catalog_builder_add_model(b, (uint32_t) (i % 4), &info);
    }

    blob = airouter_catalog_builder_finish(b, &len);
    airouter_catalog_builder_destroy(b);
    cat = airouter_catalog_open(blob, len);
    UNIT_CHECK(cat != NULL && cat->nmodels == 5000, "random catalogue");

    for (i = 0; i < 2000; i++) {
        seed = seed * 1103515245 + 12345;
        npos = (seed >> 16) % 4;
        seed = seed * 1103515245 + 12345;
        nneg = (seed >> 16) % 3;

        used = (size_t) snprintf(query, sizeof(query), "tag:");

        for (k = 0; k < npos + nneg; k++) {
            seed = seed * 1103515245 + 12345;
            r = (seed >> 16) % 16;
            used += (size_t) snprintf(query + used, sizeof(query) - used,
                                      "%s%s%s", k ? "," : "",
                                      k >= npos ? "!" : "", words[r]);
            t = airouter_catalog_find_tag(cat, words[r], 2);
            if (k < npos) {
                pos[k] = (uint32_t) t;
            } else {
                neg[k - npos] = (uint32_t) t;
            }
        }

        if (npos + nneg == 0) {
            continue;
        }

        expect = 0;
        for (x = 0; x < cat->nmodels; x++) {
            m = airouter_catalog_model(cat, x);

            for (k = 0; k < npos; k++) {
                if (!airouter_catalog_model_has_tag(cat, m, pos[k])) {
                    break;
                }
            }
            if (k < npos) {
                continue;
            }

            for (k = 0; k < nneg; k++) {
                if (airouter_catalog_model_has_tag(cat, m, neg[k])) {
                    break;
                }
            }
            if (k < nneg) {
                continue;
            }

            expect++;
        }

        airouter_query_resolve(cat, query, used, &q);
        airouter_query_iter_init(&it, &q);
        n = 0;
        r = 0;

        while (airouter_query_next(&it, &x)) {
            m = airouter_catalog_model(cat, x);

            for (k = 0; k < npos; k++) {
                if (!airouter_catalog_model_has_tag(cat, m, pos[k])) {
                    r = 1;
                }
            }
            for (k = 0; k < nneg; k++) {
                if (airouter_catalog_model_has_tag(cat, m, neg[k])) {
                    r = 1;
                }
            }
            n++;
        }

        if (n != expect || r != 0
            || (expect == 0) != (q.status == AIROUTER_QUERY_NO_MATCH)
            || airouter_query_estimate(&q) < n)
        {
            UNIT_CHECK(0, "%s: got %zu want %zu", query, n, expect);
        }
    }

    UNIT_CHECK(1, "iterator");
    free(blob);
}


int
main(void)
{
    void                      *blob;
    const airouter_catalog_t  *cat;

    cat = small_catalog(&blob);
    UNIT_CHECK(cat != NULL, "catalogue");

    if (cat != NULL) {
        test_stages(cat);
        test_errors(cat);
        test_similar(cat);
    }

    free(blob);
    test_fragments();
    test_iterator();
    unit_free_all();

    UNIT_DONE("test_query");
}
