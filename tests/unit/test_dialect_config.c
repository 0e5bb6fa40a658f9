/*
 * The configuration keys of the dialects: a channel's "api" (openai or
 * anthropic), a provider's "api" and the seed's adapter_class
 * ("AnthropicAdapter"; another adapter warns and reads as OpenAI), and
 * responses_api, each inherited from the provider unless the channel
 * says; a wrong api fails with file:line:column.  How each channel's key
 * travels (airouter_dialect_auth), and Anthropic's /v1/models list.
 */

#define _POSIX_C_SOURCE  200112L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "airouter_config.h"
#include "airouter_dialect.h"
#include "airouter_models_json.h"


typedef struct {
    int    n;
    char   last[1024];
} td_warnings_t;


static char  td_dir[] = "/tmp/airouter-dialect-config.XXXXXX";


static void
td_warn(void *ctx, const char *msg)
{
    td_warnings_t  *w = ctx;

    w->n++;
    snprintf(w->last, sizeof(w->last), "%s", msg);
}


static airouter_config_t *
td_load(const char *yaml, airouter_diag_t *diag, td_warnings_t *w)
{
    FILE  *f;
    char   path[256];

    snprintf(path, sizeof(path), "%s/router_config.yaml", td_dir);

    f = fopen(path, "w");
    if (f == NULL || fputs(yaml, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(1);
    }

    memset(diag, 0, sizeof(airouter_diag_t));
    memset(w, 0, sizeof(td_warnings_t));
    diag->warn = td_warn;
    diag->ctx = w;

    return airouter_config_load(path, diag);
}


static void
test_keys(void)
{
    airouter_diag_t            diag;
    td_warnings_t              w;
    airouter_config_t         *cf;
    const airouter_channel_t  *ch;

    cf = td_load(
        "providers:\n"
        "  claude:\n"
        "    adapter_class: \"AnthropicAdapter\"\n"
        "    base_url: \"https://api.anthropic.com\"\n"
        "    auth_type: \"bearer\"\n"
        "    responses_api: true\n"
        "  relay:\n"
        "    adapter_class: \"OpenAIAdapter\"\n"
        "    base_url: \"https://relay.test/v1\"\n"
        "  other:\n"
        "    adapter_class: \"GeminiAdapter\"\n"
        "    base_url: \"https://other.test/v1\"\n"
        "  told:\n"
        "    api: anthropic\n"
        "    adapter_class: \"OpenAIAdapter\"\n"
        "    base_url: \"https://told.test\"\n"
        "channels:\n"
        "  - id: native\n"
        "    provider: claude\n"
        "    api_key: \"k\"\n"
        "  - id: native-but-openai\n"
        "    provider: claude\n"
        "    api: openai\n"
        "    responses_api: false\n"
        "    api_key: \"k\"\n"
        "  - id: relayed\n"
        "    provider: relay\n"
        "    api_key: \"k\"\n"
        "  - id: own\n"
        "    base_url: \"http://127.0.0.1:1/anth/v1\"\n"
        "    api: anthropic\n"
        "    responses_api: true\n"
        "  - id: plain\n"
        "    base_url: \"http://127.0.0.1:1/v1\"\n"
        "  - id: gem\n"
        "    provider: other\n"
        "  - id: told\n"
        "    provider: told\n", &diag, &w);

    UNIT_CHECK(cf != NULL, "loads: %s", diag.error);
    if (cf == NULL) {
        return;
    }

    ch = airouter_config_channel(cf, "native");
    UNIT_CHECK(ch->dialect == AIROUTER_DIALECT_ANTHROPIC
               && ch->responses_api == 1,
               "adapter_class AnthropicAdapter, responses_api: inherited");

    ch = airouter_config_channel(cf, "native-but-openai");
    UNIT_CHECK(ch->dialect == AIROUTER_DIALECT_OPENAI
               && ch->responses_api == 0, "the channel's own api wins");

    ch = airouter_config_channel(cf, "relayed");
    UNIT_CHECK(ch->dialect == AIROUTER_DIALECT_OPENAI
               && ch->responses_api == 0, "OpenAIAdapter");

    ch = airouter_config_channel(cf, "own");
    UNIT_CHECK(ch->dialect == AIROUTER_DIALECT_ANTHROPIC
               && ch->responses_api == 1, "a channel's api: anthropic");

    ch = airouter_config_channel(cf, "plain");
    UNIT_CHECK(ch->dialect == AIROUTER_DIALECT_OPENAI
               && ch->responses_api == 0, "nothing said: openai");

    ch = airouter_config_channel(cf, "gem");
    UNIT_CHECK(ch->dialect == AIROUTER_DIALECT_OPENAI, "unknown adapter");
    UNIT_CHECK(w.n == 1 && strstr(w.last, "router_config.yaml:11:")
               && strstr(w.last, "GeminiAdapter")
               && strstr(w.last, "OpenAI-compatible"),
               "an unknown adapter_class warns: %s", w.last);

    ch = airouter_config_channel(cf, "told");
    UNIT_CHECK(ch->dialect == AIROUTER_DIALECT_ANTHROPIC,
               "a provider's api wins over its adapter_class");

    airouter_config_free(cf);
}


/* how each channel's key travels */
static void
test_auth(void)
{
    const char                *h, *p, *v;
    airouter_diag_t            diag;
    td_warnings_t              w;
    airouter_config_t         *cf;

    cf = td_load(
        "providers:\n"
        "  relay:\n"
        "    base_url: \"https://relay.test/v1\"\n"
        "    auth_type: \"header\"\n"
        "    auth_header: \"X-Relay-Key\"\n"
        "channels:\n"
        "  - id: chat\n"
        "    base_url: \"http://127.0.0.1:1/v1\"\n"
        "  - id: native\n"
        "    base_url: \"http://127.0.0.1:1\"\n"
        "    api: anthropic\n"
        "  - id: native-relay\n"
        "    provider: relay\n"
        "    api: anthropic\n"
        "  - id: relayed\n"
        "    provider: relay\n", &diag, &w);

    UNIT_CHECK(cf != NULL, "loads: %s", diag.error);
    if (cf == NULL) {
        return;
    }

    airouter_dialect_auth(airouter_config_channel(cf, "chat"), &h, &p, &v);
    UNIT_CHECK(strcmp(h, "Authorization") == 0 && strcmp(p, "Bearer ") == 0
               && v == NULL, "chat: Authorization: Bearer");

    airouter_dialect_auth(airouter_config_channel(cf, "native"), &h, &p, &v);
    UNIT_CHECK(strcmp(h, "x-api-key") == 0 && p[0] == '\0' && v
               && strcmp(v, "2023-06-01") == 0,
               "Anthropic: x-api-key and anthropic-version");

    airouter_dialect_auth(airouter_config_channel(cf, "native-relay"), &h, &p,
                          &v);
    UNIT_CHECK(strcmp(h, "X-Relay-Key") == 0 && p[0] == '\0' && v != NULL,
               "a provider's auth_header wins, the version stays");

    airouter_dialect_auth(airouter_config_channel(cf, "relayed"), &h, &p, &v);
    UNIT_CHECK(strcmp(h, "X-Relay-Key") == 0 && v == NULL,
               "a provider's auth_header on a chat channel");

    airouter_config_free(cf);
}


/* Anthropic's GET /v1/models answer reads as a list of chat models */
static void
test_models_list(void)
{
    size_t                  n;
    char                    err[256];
    airouter_model_info_t  *m;
    static const char       list[] =
        "{\"data\":[{\"type\":\"model\",\"id\":\"claude-sonnet-4-5\","
        "\"display_name\":\"Claude Sonnet 4.5\",\"created_at\":"
        "\"2025-09-29T00:00:00Z\"},{\"type\":\"model\",\"id\":"
        "\"claude-haiku-4-5\",\"display_name\":\"Claude Haiku 4.5\","
        "\"created_at\":\"2025-10-01T00:00:00Z\"}],\"has_more\":false,"
        "\"first_id\":\"claude-sonnet-4-5\",\"last_id\":"
        "\"claude-haiku-4-5\"}";

    UNIT_CHECK(airouter_models_json_parse(list, sizeof(list) - 1, &m, &n, err,
                                          sizeof(err)) == 0
               && n == 2 && strcmp(m[0].id, "claude-sonnet-4-5") == 0
               && strcmp(m[1].id, "claude-haiku-4-5") == 0,
               "Anthropic's model list: %s", err);

    if (n) {
        airouter_models_json_free(m);
    }
}


static void
test_errors(void)
{
    airouter_diag_t     diag;
    td_warnings_t       w;
    airouter_config_t  *cf;

    cf = td_load("channels:\n"
                 "  - id: a\n"
                 "    base_url: \"http://127.0.0.1:1/v1\"\n"
                 "    api: gemini\n", &diag, &w);

    UNIT_CHECK(cf == NULL && strstr(diag.error, "router_config.yaml:4:10: ")
               && strstr(diag.error, "must be openai or anthropic, got "
                                     "\"gemini\""),
               "a channel speaking no upstream dialect: %s", diag.error);

    cf = td_load("providers:\n"
                 "  p:\n"
                 "    api: [anthropic]\n"
                 "    base_url: \"http://127.0.0.1:1\"\n", &diag, &w);

    UNIT_CHECK(cf == NULL && strstr(diag.error, "router_config.yaml:3:10: "),
               "api must be a string: %s", diag.error);
}


int
main(void)
{
    char  path[256];

    if (mkdtemp(td_dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }

    test_keys();
    test_auth();
    test_models_list();
    test_errors();

    snprintf(path, sizeof(path), "%s/router_config.yaml", td_dir);
    unlink(path);
    rmdir(td_dir);

    UNIT_DONE("test_dialect_config");
}
