/*
 * The YAML configuration loader (airouter_config.c) on arbitrary files.
 * The input is router_config.yaml; when it holds a line "#--providers--",
 * what follows that line is written to providers.yaml beside it (else
 * there is none).  Oracles:
 *
 *   - failure: an error message that starts with a file name and holds a
 *     line:column ("file:line:column: reason");
 *   - success: every channel has an id and an effective base URL, ids are
 *     unique, counts agree (nenabled <= nchannels), the default strategy
 *     is one airouter_config_strategy() finds; no id, key, base URL,
 *     alias, provider or API key name holds a control character (they
 *     reach HTTP headers); airouter_config_url gives
 *     the same length whatever the buffer and NUL-terminates; the outcome
 *     table built from routing.error_handling gives well-formed verdicts;
 *     and the catalogue built from the configuration (what nginx -t does)
 *     is accepted by airouter_catalog_open().
 */

#define _GNU_SOURCE

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "airouter_catalog.h"
#include "airouter_config.h"
#include "airouter_outcome.h"


static char  config_path[512];
static char  providers_path[512];


static void on_warn(void *ctx, const char *msg);
static int clean(const char *s);
static void check_loaded(airouter_config_t *cf);


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char  dir[256];

    (void) argc;
    (void) argv;

    snprintf(dir, sizeof(dir), "%s/config", fuzz_scratch_dir());
    if (mkdir(dir, 0755) != 0) {
        perror(dir);
        abort();
    }

    snprintf(config_path, sizeof(config_path), "%s/router_config.yaml", dir);
    snprintf(providers_path, sizeof(providers_path), "%s/providers.yaml",
             dir);

    /* a value "${AIROUTER_FUZZ_KEY}" reads this */
    setenv("AIROUTER_FUZZ_KEY", "sk-from-env", 1);

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t              warnings, main_len;
    const uint8_t      *mark;
    airouter_diag_t     diag;
    airouter_config_t  *cf;

    static const char  sep[] = "#--providers--\n";

    if (config_path[0] == '\0') {
        LLVMFuzzerInitialize(NULL, NULL);
    }

    mark = memmem(data, size, sep, sizeof(sep) - 1);
    main_len = mark ? (size_t) (mark - data) : size;

    if (fuzz_write_file(config_path, data, main_len) != 0) {
        abort();
    }

    if (mark != NULL) {
        if (fuzz_write_file(providers_path, mark + sizeof(sep) - 1,
                            size - main_len - (sizeof(sep) - 1)) != 0)
        {
            abort();
        }

    } else {
        (void) unlink(providers_path);
    }

    memset(&diag, 0, sizeof(diag));
    warnings = 0;
    diag.warn = on_warn;
    diag.ctx = &warnings;

    cf = airouter_config_load(config_path, &diag);

    if (cf == NULL) {
        FUZZ_CHECK(diag.error[0] != '\0'
                   && memchr(diag.error, '\0', sizeof(diag.error)) != NULL,
                   "failed without a message");
        FUZZ_CHECK(strncmp(diag.error, config_path, strlen(config_path)) == 0
                   || strncmp(diag.error, providers_path,
                              strlen(providers_path)) == 0,
                   "message without the file: %s", diag.error);
        return 0;
    }

    check_loaded(cf);
    airouter_config_free(cf);

    return 0;
}


static int
clean(const char *s)
{
    for ( /* void */ ; s != NULL && *s != '\0'; s++) {
        if ((unsigned char) *s < 0x20 || *s == 0x7f) {
            return 0;
        }
    }

    return 1;
}


static void
check_loaded(airouter_config_t *cf)
{
    char                         small[16], big[4096];
    size_t                       i, j, k, n1, n2, len;
    void                        *blob;
    airouter_channel_t          *ch;
    airouter_verdict_t           v;
    airouter_outcome_table_t     t;
    airouter_catalog_builder_t  *b;

    static const char  *paths[] = {
        "/v1/chat/completions", "/v1/models", "/v1/embeddings", ""
    };

    FUZZ_CHECK(cf->nenabled <= cf->nchannels, "%zu enabled of %zu",
               cf->nenabled, cf->nchannels);

    for (i = 0; i < cf->nchannels; i++) {
        ch = &cf->channels[i];

        FUZZ_CHECK(ch->id != NULL && ch->id[0] != '\0', "channel %zu: no id",
                   i);
        FUZZ_CHECK(ch->base_url != NULL, "channel %s: no base_url", ch->id);

        for (j = 0; j < i; j++) {
            FUZZ_CHECK(strcmp(cf->channels[j].id, ch->id) != 0,
                       "duplicate channel id %s", ch->id);
        }

        FUZZ_CHECK(airouter_config_channel(cf, ch->id) != NULL,
                   "channel %s not found by id", ch->id);

        FUZZ_CHECK(clean(ch->id) && clean(ch->base_url)
                   && clean(ch->model_name) && clean(ch->provider_name),
                   "channel %zu: a control character", i);

        for (k = 0; k < ch->api_keys.n; k++) {
            FUZZ_CHECK(clean(ch->api_keys.items[k]),
                       "channel %zu key %zu: a control character", i, k);
        }

        for (k = 0; k < ch->tags.n; k++) {
            (void) strlen(ch->tags.items[k]);
        }

        for (k = 0; k < ch->naliases; k++) {
            FUZZ_CHECK(clean(ch->aliases[k].alias)
                       && clean(ch->aliases[k].target),
                       "channel %zu alias %zu: a control character", i, k);
        }

        for (k = 0; k < sizeof(paths) / sizeof(paths[0]); k++) {
            n1 = airouter_config_url(ch, paths[k], big, sizeof(big));
            n2 = airouter_config_url(ch, paths[k], small, sizeof(small));
            FUZZ_CHECK(n1 == n2, "url length %zu then %zu", n1, n2);
            FUZZ_CHECK(memchr(small, '\0', sizeof(small)) != NULL,
                       "url not terminated");
            if (n1 < sizeof(big)) {
                FUZZ_CHECK(strlen(big) == n1, "url %zu, said %zu",
                           strlen(big), n1);
            }
        }
    }

    for (i = 0; i < cf->nproviders; i++) {
        FUZZ_CHECK(clean(cf->providers[i].name)
                   && clean(cf->providers[i].auth_header),
                   "provider %zu: a control character", i);
    }

    for (i = 0; i < cf->auth.nkeys; i++) {
        FUZZ_CHECK(clean(cf->auth.keys[i].name)
                   && clean(cf->auth.keys[i].token),
                   "api key %zu: a control character", i);
    }

    if (cf->routing.default_strategy != NULL) {
        FUZZ_CHECK(airouter_config_strategy(cf, cf->routing.default_strategy)
                   != NULL, "default strategy %s unknown",
                   cf->routing.default_strategy);
    }

    for (i = 0; i < cf->routing.nstrategies; i++) {
        for (j = 0; j < cf->routing.strategies[i].nweights; j++) {
            FUZZ_CHECK(airouter_score_name(
                           cf->routing.strategies[i].weights[j].score)
                       != NULL, "strategy %zu weight %zu", i, j);
        }
    }

    airouter_outcome_table_init(&t, &cf->routing.errors,
                                cf->routing.error_cooldown_period);

    for (i = AIROUTER_FAULT_CONNECT; i < AIROUTER_FAULT_N; i++) {
        v = airouter_outcome_verdict(&t, (airouter_fault_e) i, -1);
        FUZZ_CHECK(v.cooldown >= 0 && airouter_scope_name(v.scope) != NULL,
                   "fault %zu: cooldown %ld", i, v.cooldown);
    }

    b = airouter_catalog_builder_create(cf);
    FUZZ_CHECK(b != NULL, "builder");
    FUZZ_CHECK(airouter_catalog_builder_add_config(b) == 0, "add_config: %s",
               airouter_catalog_builder_error(b));

    len = 0;
    blob = airouter_catalog_builder_finish(b, &len);
    FUZZ_CHECK(blob != NULL, "finish: %s", airouter_catalog_builder_error(b));
    FUZZ_CHECK(airouter_catalog_open(blob, len) != NULL,
               "the catalogue of a valid configuration does not open");
    FUZZ_CHECK(airouter_catalog_fits(airouter_catalog_open(blob, len), cf),
               "the catalogue does not fit its configuration");

    airouter_catalog_blob_free(blob);
    airouter_catalog_builder_destroy(b);
}


static void
on_warn(void *ctx, const char *msg)
{
    size_t  *n;

    n = ctx;
    (*n)++;

    FUZZ_CHECK(msg != NULL && strlen(msg) < 4096, "warning");
}
