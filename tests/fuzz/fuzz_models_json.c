/*
 * A provider's GET /models answer (airouter_models_json.c), then what
 * discovery does with it: every record is added to a catalogue builder
 * (over the fixture configuration of util.c), the builder lays out a blob,
 * and airouter_catalog_open() must accept that blob -- whatever a
 * provider says, the builder must never make a catalogue its own
 * validator refuses.  Also: records have ids, counts are sane, and a
 * failed parse leaves a message.
 */

#include <string.h>

#include "fuzz.h"
#include "airouter_catalog.h"
#include "airouter_config.h"
#include "airouter_models_json.h"
#include "airouter_query.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                          rc;
    char                         err[256];
    size_t                       i, n, len;
    void                        *blob;
    airouter_query_t             q;
    airouter_config_t           *cf;
    airouter_model_info_t       *models;
    airouter_catalog_builder_t  *b;
    const airouter_catalog_t    *cat;

    models = NULL;
    n = (size_t) -1;
    err[0] = '\0';

    rc = airouter_models_json_parse((const char *) data, size, &models, &n,
                                    err, sizeof(err));

    if (rc != 0) {
        FUZZ_CHECK(rc == -1 && err[0] != '\0', "rc %d without a message",
                   rc);
        return 0;
    }

    FUZZ_CHECK(n <= size, "%zu records from %zu bytes", n, size);

    for (i = 0; i < n; i++) {
        FUZZ_CHECK(models[i].id != NULL, "record %zu has no id", i);
        (void) strlen(models[i].id);
        FUZZ_CHECK(models[i].ntags == 0 || models[i].tags != NULL,
                   "record %zu: %zu tags, no array", i, models[i].ntags);
    }

    cf = fuzz_fixture_config();
    b = airouter_catalog_builder_create(cf);
    FUZZ_CHECK(b != NULL, "builder");

    if (size > 0 && (data[0] & 1)) {
        FUZZ_CHECK(airouter_catalog_builder_add_config(b) == 0, "%s",
                   airouter_catalog_builder_error(b));
    }

    for (i = 0; i < n; i++) {
        /* an empty id is refused; anything else must be taken */
        if (airouter_catalog_builder_add_model(b, (uint32_t) (i % 3),
                                               &models[i]) != 0)
        {
            FUZZ_CHECK(models[i].id[0] == '\0', "add_model refused \"%s\": "
                       "%s", models[i].id,
                       airouter_catalog_builder_error(b));
        }
    }

    len = 0;
    blob = airouter_catalog_builder_finish(b, &len);
    FUZZ_CHECK(blob != NULL, "finish: %s", airouter_catalog_builder_error(b));

    cat = airouter_catalog_open(blob, len);
    FUZZ_CHECK(cat != NULL, "the builder made a blob open() refuses "
               "(%zu records, %zu bytes)", n, len);

    if (n > 0) {
        (void) airouter_query_resolve(cat, models[0].id,
                                      strlen(models[0].id), &q);
    }

    airouter_catalog_blob_free(blob);
    airouter_catalog_builder_destroy(b);
    airouter_models_json_free(models);

    return 0;
}
