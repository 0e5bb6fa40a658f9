/*
 * The catalogue builder's calls that discovery relies on: a channel
 * disabled when all its keys were refused, a price file's price for a
 * configured model (added with airouter_catalog_builder_add_configured,
 * never over the configuration's own), and the key bits of a model seen
 * by several keys, kept in the blob.
 */

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"
#include "airouter_config.h"
#include "airouter_catalog.h"


static const char  yaml[] =
    "channels:\n"
    "  - id: a\n"
    "    base_url: \"http://127.0.0.1:1/v1\"\n"
    "    api_keys: [\"k1\", \"k2\", \"k3\"]\n"
    "    configured_models: [\"conf-free-price\"]\n"
    "  - id: b\n"
    "    base_url: \"http://127.0.0.1:2/v1\"\n"
    "    api_key: \"k\"\n"
    "    configured_models: [\"conf-priced\"]\n"
    "    cost_per_token: {input: 0.000001, output: 0.000002}\n";


int
main(void)
{
    int                              fd;
    char                             path[] = "/tmp/test_catalog_discovery_XXXXXX";
    size_t                           len;
    void                            *blob;
    airouter_diag_t                  diag;
    airouter_config_t               *cf;
    airouter_model_info_t            info;
    const airouter_catalog_t        *cat;
    const airouter_catalog_model_t  *m;
    airouter_catalog_builder_t      *b;

    fd = mkstemp(path);
    UNIT_CHECK(fd >= 0, "mkstemp");
    UNIT_CHECK(write(fd, yaml, sizeof(yaml) - 1) == (ssize_t) sizeof(yaml) - 1,
               "write");
    close(fd);

    memset(&diag, 0, sizeof(diag));
    cf = airouter_config_load(path, &diag);
    unlink(path);
    UNIT_CHECK(cf != NULL, "config: %s", diag.error);
    if (cf == NULL) {
        UNIT_DONE("test_catalog_discovery");
    }

    b = airouter_catalog_builder_create(cf);
    UNIT_CHECK(airouter_catalog_builder_add_config(b) == 0, "add_config");

    /* a price file's price: fills the unpriced configured model ... */
    memset(&info, 0, sizeof(info));
    info.id = "conf-free-price";
    info.has_price = 1;
    info.price_prompt = 3e-6;
    info.price_completion = 4e-6;
    info.currency = "CNY";
    UNIT_CHECK(airouter_catalog_builder_add_configured(b, 0, &info) == 0,
               "add_configured a");

    /* ... and does not override the configuration's cost_per_token */
    info.id = "conf-priced";
    UNIT_CHECK(airouter_catalog_builder_add_configured(b, 1, &info) == 0,
               "add_configured b");

    /* one model seen by keys 1 and 3, another by key 2 only */
    memset(&info, 0, sizeof(info));
    info.id = "shared";
    info.keys = 1u << 0;
    UNIT_CHECK(airouter_catalog_builder_add_model(b, 0, &info) == 0, "k1");
    info.keys = 1u << 2;
    UNIT_CHECK(airouter_catalog_builder_add_model(b, 0, &info) == 0, "k3");
    info.id = "only-k2";
    info.keys = 1u << 1;
    UNIT_CHECK(airouter_catalog_builder_add_model(b, 0, &info) == 0, "k2");

    /* every key of channel b was refused */
    UNIT_CHECK(airouter_catalog_builder_disable_channel(b, 1) == 0,
               "disable b");
    UNIT_CHECK(airouter_catalog_builder_disable_channel(b, 7) != 0,
               "no channel 7");

    blob = airouter_catalog_builder_finish(b, &len);
    airouter_catalog_builder_destroy(b);
    UNIT_CHECK(blob != NULL, "finish");

    cat = blob ? airouter_catalog_open(blob, len) : NULL;
    UNIT_CHECK(cat != NULL, "the blob verifies");

    if (cat != NULL) {
        UNIT_CHECK(airouter_catalog_channel(cat, 0)->flags
                   & AIROUTER_CHANNEL_ENABLED, "a stays enabled");
        UNIT_CHECK(!(airouter_catalog_channel(cat, 1)->flags
                     & AIROUTER_CHANNEL_ENABLED), "b is disabled");

        m = unit_find_model(cat, 0, "conf-free-price");
        UNIT_CHECK(m && (m->flags & AIROUTER_MODEL_PRICED)
                   && (m->flags & AIROUTER_MODEL_CONFIGURED)
                   && !(m->flags & AIROUTER_MODEL_DISCOVERED)
                   && m->price_prompt == 3e-6
                   && strcmp(airouter_catalog_model_currency(cat, m), "CNY")
                      == 0, "price file fills a configured model");

        m = unit_find_model(cat, 1, "conf-priced");
        UNIT_CHECK(m && m->price_prompt == 1e-6 && m->price_completion == 2e-6,
                   "cost_per_token wins over a price file");

        m = unit_find_model(cat, 0, "shared");
        UNIT_CHECK(m && m->keys == ((1u << 0) | (1u << 2)),
                   "key bits add up: %u", m ? m->keys : 0);

        m = unit_find_model(cat, 0, "only-k2");
        UNIT_CHECK(m && m->keys == (1u << 1), "one key");

        m = unit_find_model(cat, 0, "conf-free-price");
        UNIT_CHECK(m && m->keys == 0, "configured: every key");
    }

    airouter_catalog_blob_free(blob);
    airouter_config_free(cf);

    UNIT_DONE("test_catalog_discovery");
}
