/*
 * airouter-import's pure parts: the three projects' type tables, one row
 * to one channel, the YAML it writes read back by airouter's own loader,
 * --merge's splice into a commented file, and the keys-env file.
 */

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "airouter_config.h"
#include "airouter_import.h"
#include "unit.h"


static char  tmpdir[] = "/tmp/test_import.XXXXXX";


static const airouter_import_type_t *
type_of(airouter_import_flavor_e f, int t)
{
    return airouter_import_type(f, t);
}


static const char *
provider_of(airouter_import_flavor_e f, int t)
{
    const airouter_import_type_t  *ty;

    ty = airouter_import_type(f, t);
    return ty ? (ty->provider ? ty->provider : "(native)") : "(unknown)";
}


static void
test_types(void)
{
    int                            f, t;
    const airouter_import_type_t  *ty;

    /* the numbers the projects share */
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEAPI, 1), "openai");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_NEWAPI, 14), "anthropic");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEHUB, 20), "openrouter");

    /* and where they diverge: One-API, New-API, One-Hub */
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEAPI, 36), "deepseek");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_NEWAPI, 43), "deepseek");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEHUB, 28), "deepseek");

    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEAPI, 40), "doubao");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_NEWAPI, 40), "siliconflow");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEHUB, 40), "(native)");

    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEAPI, 44), "siliconflow");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_NEWAPI, 45), "doubao");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEHUB, 45), "siliconflow");

    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEAPI, 4), "openai_compatible");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_NEWAPI, 4), "ollama");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEHUB, 39), "ollama");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEAPI, 30), "ollama");

    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEAPI, 25), "moonshot");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEHUB, 29), "moonshot");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEAPI, 29), "groq");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEHUB, 31), "groq");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEAPI, 28), "mistral");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_NEWAPI, 42), "mistral");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEAPI, 24), "gemini");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEHUB, 25), "gemini");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEHUB, 24), "(native)");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_NEWAPI, 26), "zhipu");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEAPI, 26), "baichuan");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEAPI, 17), "dashscope");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEAPI, 47), "qianfan");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_NEWAPI, 46), "qianfan");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEAPI, 15), "(native)");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEAPI, 33), "(native)");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_NEWAPI, 2), "(native)");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEAPI, 999), "(unknown)");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_NEWAPI, 28), "(unknown)");
    UNIT_STREQ(provider_of(AIROUTER_IMPORT_ONEAPI, 0), "(unknown)");

    ty = type_of(AIROUTER_IMPORT_ONEAPI, 40);
    UNIT_STREQ(ty ? ty->type_name : NULL, "Doubao");
    ty = type_of(AIROUTER_IMPORT_NEWAPI, 40);
    UNIT_STREQ(ty ? ty->type_name : NULL, "SiliconFlow");

    /* every provider a table names is one the output can define, and a
     * type that is not native has somewhere to go */
    for (f = AIROUTER_IMPORT_ONEAPI; f <= AIROUTER_IMPORT_ONEHUB; f++) {
        for (t = 0; t < 200; t++) {
            ty = airouter_import_type(f, t);
            if (ty == NULL) {
                continue;
            }

            if (ty->flags & AIROUTER_IMPORT_NATIVE) {
                UNIT_CHECK(ty->provider == NULL && ty->note != NULL,
                           "flavor %d type %d", f, t);
                continue;
            }

            UNIT_CHECK(ty->provider != NULL
                       && airouter_import_provider(ty->provider) != NULL,
                       "flavor %d type %d: provider %s", f, t,
                       ty->provider ? ty->provider : "(null)");
        }
    }

    UNIT_CHECK(airouter_import_flavor_parse("New-API")
               == AIROUTER_IMPORT_NEWAPI, "flavor name");
    UNIT_CHECK(airouter_import_flavor_parse("x") == AIROUTER_IMPORT_UNKNOWN,
               "bad flavor");
}


static int
has_newapi(void *ctx, const char *field)
{
    (void) ctx;
    return strcmp(field, "auto_ban") == 0;
}


static int
has_onehub(void *ctx, const char *field)
{
    (void) ctx;
    return strcmp(field, "pre_cost") == 0;
}


static int
has_none(void *ctx, const char *field)
{
    (void) ctx;
    (void) field;
    return 0;
}


static void
test_flavor(void)
{
    UNIT_CHECK(airouter_import_flavor_by_fields(has_newapi, NULL)
               == AIROUTER_IMPORT_NEWAPI, "New-API by auto_ban");
    UNIT_CHECK(airouter_import_flavor_by_fields(has_onehub, NULL)
               == AIROUTER_IMPORT_ONEHUB, "One-Hub by pre_cost");
    UNIT_CHECK(airouter_import_flavor_by_fields(has_none, NULL)
               == AIROUTER_IMPORT_ONEAPI, "One-API otherwise");
}


static airouter_import_row_t
row(long long id, int type, const char *key, const char *base,
    const char *models)
{
    airouter_import_row_t  r;

    memset(&r, 0, sizeof(r));
    r.id = id;
    r.type = type;
    r.status = 1;
    r.name = "chan";
    r.key = (char *) key;
    r.base_url = (char *) base;
    r.models = (char *) models;

    return r;
}


static const char *
alias_target(const airouter_import_channel_t *ch, const char *alias)
{
    size_t  i;

    for (i = 0; i < ch->naliases; i++) {
        if (strcmp(ch->aliases[i].alias, alias) == 0) {
            return ch->aliases[i].target;
        }
    }

    return NULL;
}


static void
test_map(airouter_arena_t *a)
{
    airouter_import_row_t      r, rs[4];
    airouter_import_channel_t  ch, chs[4];
    size_t                     i;

    /* keys one a line, blank lines and CRLF ignored; models trimmed */
    r = row(7, 36, " sk-a \n\nsk-b\r\n", "", " deepseek-chat , ,x ");
    UNIT_CHECK(airouter_import_map(a, &r, AIROUTER_IMPORT_ONEAPI, "oneapi",
                                   &ch) == AIROUTER_IMPORT_OK, "map");
    UNIT_STREQ(ch.id, "oneapi_7");
    UNIT_STREQ(ch.provider, "deepseek");
    UNIT_STREQ(ch.base_url, "https://api.deepseek.com");
    UNIT_CHECK(ch.keys.n == 2, "2 keys, got %zu", ch.keys.n);
    UNIT_STREQ(ch.keys.n > 1 ? ch.keys.items[1] : NULL, "sk-b");
    UNIT_STREQ(ch.keys.n > 0 ? ch.keys.items[0] : NULL, "sk-a");
    UNIT_CHECK(ch.models.n == 2, "models %zu", ch.models.n);
    UNIT_STREQ(ch.models.n > 1 ? ch.models.items[1] : NULL, "x");
    UNIT_CHECK(ch.enabled && !ch.commented, "enabled");
    UNIT_CHECK(ch.weight < 0, "no weight column: none written");

    /* a custom base gets the type's OpenAI-compatible path, once */
    r = row(8, 17, "k", "https://proxy.example.com/", "qwen-max");
    airouter_import_map(a, &r, AIROUTER_IMPORT_ONEAPI, "oneapi", &ch);
    UNIT_STREQ(ch.base_url, "https://proxy.example.com/compatible-mode/v1");
    r = row(8, 17, "k", "https://dashscope.aliyuncs.com/compatible-mode/v1",
            "qwen-max");
    airouter_import_map(a, &r, AIROUTER_IMPORT_ONEAPI, "oneapi", &ch);
    UNIT_STREQ(ch.base_url, "https://dashscope.aliyuncs.com/compatible-mode/v1");
    r = row(9, 45, "k", "", "ep-1");
    airouter_import_map(a, &r, AIROUTER_IMPORT_NEWAPI, "newapi", &ch);
    UNIT_STREQ(ch.base_url, "https://ark.cn-beijing.volces.com/api/v3");
    r = row(10, 24, "k", "", "gemini-2.0-flash");
    airouter_import_map(a, &r, AIROUTER_IMPORT_ONEAPI, "oneapi", &ch);
    UNIT_STREQ(ch.base_url,
               "https://generativelanguage.googleapis.com/v1beta/openai");
    r = row(11, 16, "k", "", "glm-4");
    airouter_import_map(a, &r, AIROUTER_IMPORT_ONEHUB, "onehub", &ch);
    UNIT_STREQ(ch.base_url, "https://open.bigmodel.cn/api/paas/v4");
    r = row(12, 30, "", "http://127.0.0.1:11434", "qwen3:8b");
    airouter_import_map(a, &r, AIROUTER_IMPORT_ONEAPI, "oneapi", &ch);
    UNIT_STREQ(ch.base_url, "http://127.0.0.1:11434/v1");
    UNIT_CHECK(ch.keys.n == 0, "an empty key is no key");

    /* model_mapping -> aliases, configured models are the upstream ids */
    r = row(13, 1, "k", "", "gpt-4o,gpt-4o-mini");
    r.model_mapping = "{\"gpt-4o\": \"gpt-4o-2024-11-20\", \"x\": \"x\", "
                      "\"n\": 1}";
    airouter_import_map(a, &r, AIROUTER_IMPORT_ONEAPI, "oneapi", &ch);
    UNIT_STREQ(alias_target(&ch, "gpt-4o"), "gpt-4o-2024-11-20");
    UNIT_CHECK(ch.naliases == 1, "x->x and a number are no aliases: %zu",
               ch.naliases);
    UNIT_STREQ(ch.models.items[0], "gpt-4o-2024-11-20");

    r.model_mapping = "not json";
    airouter_import_map(a, &r, AIROUTER_IMPORT_ONEAPI, "oneapi", &ch);
    UNIT_CHECK(ch.naliases == 0 && ch.notes.n == 2, "bad mapping noted");

    /* Azure: /openai/v1, deployments without dots */
    r = row(14, 3, "k", "https://res.openai.azure.com", "gpt-3.5-turbo,gpt-4o");
    airouter_import_map(a, &r, AIROUTER_IMPORT_ONEAPI, "oneapi", &ch);
    UNIT_STREQ(ch.base_url, "https://res.openai.azure.com/openai/v1");
    UNIT_STREQ(ch.provider, "azure");
    UNIT_STREQ(alias_target(&ch, "gpt-3.5-turbo"), "gpt-35-turbo");
    UNIT_STREQ(ch.models.items[0], "gpt-35-turbo");

    /* groups and tag -> tags; status -> enabled */
    r = row(15, 1, "k", "", "m");
    r.group = "default, VIP";
    r.tag = "My Tag";
    r.status = 3;
    airouter_import_map(a, &r, AIROUTER_IMPORT_NEWAPI, "newapi", &ch);
    UNIT_CHECK(ch.tags.n == 3, "tags %zu", ch.tags.n);
    UNIT_STREQ(ch.tags.items[1], "group-vip");
    UNIT_STREQ(ch.tags.items[2], "my-tag");
    UNIT_CHECK(!ch.enabled && !ch.commented, "auto-disabled kept, disabled");

    /* New-API multi-key: disabled keys left out */
    r = row(16, 1, "k0\nk1\nk2", "", "m");
    r.channel_info = "{\"is_multi_key\":true,\"multi_key_size\":3,"
                     "\"multi_key_status_list\":{\"1\":2}}";
    airouter_import_map(a, &r, AIROUTER_IMPORT_NEWAPI, "newapi", &ch);
    UNIT_CHECK(ch.keys.n == 2 && ch.keys_left_out == 1, "multi-key %zu %zu",
               ch.keys.n, ch.keys_left_out);
    UNIT_STREQ(ch.keys.items[1], "k2");

    /* a JSON credential is one key, whatever its lines */
    r = row(17, 41, "{\n \"type\": \"service_account\"\n}", "", "m");
    airouter_import_map(a, &r, AIROUTER_IMPORT_NEWAPI, "newapi", &ch);
    UNIT_CHECK(ch.keys.n == 1 && ch.commented, "vertex: one key, commented");

    /* unknown type: OpenAI-compatible at its own base, noted */
    r = row(18, 99, "k", "https://relay.example.com/v1/", "m");
    airouter_import_map(a, &r, AIROUTER_IMPORT_ONEAPI, "oneapi", &ch);
    UNIT_STREQ(ch.provider, "openai_compatible");
    UNIT_STREQ(ch.base_url, "https://relay.example.com/v1");
    UNIT_CHECK(ch.type == NULL && !ch.commented && ch.notes.n == 2,
               "unknown noted");

    /* Cloudflare: the account from config.user_id, else commented out */
    r = row(19, 37, "k", "", "@cf/x");
    r.config = "{\"user_id\":\"acc1\"}";
    airouter_import_map(a, &r, AIROUTER_IMPORT_ONEAPI, "oneapi", &ch);
    UNIT_STREQ(ch.base_url,
               "https://api.cloudflare.com/client/v4/accounts/acc1/ai/v1");
    r.config = NULL;
    r.other = "acc2";
    r.type = 39;
    airouter_import_map(a, &r, AIROUTER_IMPORT_NEWAPI, "newapi", &ch);
    UNIT_STREQ(ch.base_url,
               "https://api.cloudflare.com/client/v4/accounts/acc2/ai/v1");
    r.other = NULL;
    r.type = 37;
    airouter_import_map(a, &r, AIROUTER_IMPORT_ONEAPI, "oneapi", &ch);
    UNIT_CHECK(ch.commented, "cloudflare without account");

    /* priorities: the highest is 1, equal stay equal, absent is 0 */
    for (i = 0; i < 4; i++) {
        rs[i] = row((long long) i, 1, "k", "", "m");
        rs[i].has_priority = (i != 3);
    }

    rs[0].priority = 5;
    rs[1].priority = -1;
    rs[2].priority = 5;

    for (i = 0; i < 4; i++) {
        airouter_import_map(a, &rs[i], AIROUTER_IMPORT_ONEAPI, "oneapi",
                            &chs[i]);
    }

    airouter_import_rank_priorities(chs, 4);
    UNIT_CHECK(chs[0].priority == 1 && chs[2].priority == 1
               && chs[3].priority == 2 && chs[1].priority == 3,
               "ranks %d %d %d %d", chs[0].priority, chs[1].priority,
               chs[2].priority, chs[3].priority);

    UNIT_STREQ(airouter_import_env_name(a, "oneapi_12", 0, 1),
               "ONEAPI_12_KEY");
    UNIT_STREQ(airouter_import_env_name(a, "new-api.3", 1, 2),
               "NEW_API_3_KEY_2");

    /* names that are not UTF-8 are repaired for libyaml */
    UNIT_STREQ(airouter_import_utf8(a, "a\xff" "b\xe4\xb8\xad\x01"),
               "a?b\xe4\xb8\xad?");
}


static char *
write_file(const char *name, const char *text)
{
    FILE        *f;
    static char  path[512];

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    fputs(text, f);
    fclose(f);

    return path;
}


/* the YAML the importer writes is what airouter's loader reads */
static void
test_emit(airouter_arena_t *a)
{
    airouter_import_row_t        r;
    airouter_import_channel_t    ch, ch2;
    airouter_import_buf_t        out;
    airouter_config_t           *cf;
    airouter_diag_t              diag;
    const airouter_channel_t    *c;
    char                        *path;

    memset(&out, 0, sizeof(out));
    memset(&diag, 0, sizeof(diag));

    r = row(3, 3, "key-\"quoted\"\nkey: two", "https://r.openai.azure.com",
            "gpt-4.1,o3");
    r.name = "Azure \"east\" #1: 中文";
    r.group = "default,vip";
    r.has_weight = 1;
    r.weight = 7;
    r.status = 2;
    airouter_import_map(a, &r, AIROUTER_IMPORT_ONEAPI, "oneapi", &ch);
    ch.priority = 4;

    r = row(4, 15, "ak|sk", "", "ERNIE-4.0");
    airouter_import_map(a, &r, AIROUTER_IMPORT_ONEAPI, "oneapi", &ch2);
    ch2.priority = 1;

    airouter_import_buf_str(&out, "providers:\n");
    UNIT_CHECK(airouter_import_emit_provider(&out,
                   airouter_import_provider("azure"), "  ")
               == AIROUTER_IMPORT_OK, "provider");
    airouter_import_buf_str(&out, "channels:\n");
    UNIT_CHECK(airouter_import_emit_channel(&out, &ch, "  ", 1)
               == AIROUTER_IMPORT_OK, "channel");
    UNIT_CHECK(airouter_import_emit_channel(&out, &ch2, "  ", 1)
               == AIROUTER_IMPORT_OK, "commented channel");

    UNIT_CHECK(strstr(out.data, "  # - id: \"oneapi_4\"\n") != NULL,
               "native type commented out:\n%s", out.data);

    path = write_file("router_config.yaml", out.data);
    cf = airouter_config_load(path, &diag);
    UNIT_CHECK(cf != NULL, "loads: %s\n%s", diag.error, out.data);

    if (cf != NULL) {
        UNIT_CHECK(cf->nchannels == 1, "the commented one is not a channel");
        c = airouter_config_channel(cf, "oneapi_3");
        UNIT_CHECK(c != NULL, "oneapi_3");

        if (c != NULL) {
            UNIT_STREQ(c->name, "Azure \"east\" #1: 中文");
            UNIT_STREQ(c->base_url, "https://r.openai.azure.com/openai/v1");
            UNIT_STREQ(c->provider ? c->provider->auth_header : NULL,
                       "api-key");
            UNIT_CHECK(c->api_keys.n == 2, "keys %zu", c->api_keys.n);
            UNIT_STREQ(c->api_keys.items[0], "key-\"quoted\"");
            UNIT_STREQ(c->api_keys.items[1], "key: two");
            UNIT_CHECK(!c->enabled && c->priority == 4 && c->weight == 7,
                       "enabled %d priority %d weight %g", c->enabled,
                       c->priority, c->weight);
            UNIT_CHECK(c->tags.n == 2, "tags");
            UNIT_CHECK(c->configured_models.n == 2, "models");
            UNIT_STREQ(c->configured_models.items[0], "gpt-41");
            UNIT_CHECK(c->naliases == 1, "aliases");
            UNIT_STREQ(c->aliases[0].alias, "gpt-4.1");
            UNIT_STREQ(c->aliases[0].target, "gpt-41");
        }

        airouter_config_free(cf);
    }

    airouter_import_buf_free(&out);
}


static const char  target_text[] =
    "# my router\n"
    "auth:\n"
    "  enabled: false   # keep\n"
    "\n"
    "channels:\n"
    "    - id: mine\n"
    "      base_url: \"https://api.deepseek.com/v1\"\n"
    "      api_key: \"${TEST_IMPORT_KEY}\"\n"
    "    # - id: later\n"
    "\n"
    "# ==== routing ====\n"
    "routing:\n"
    "  default_strategy: cost_first\n";


/* --merge: the old text stays byte for byte, new lines go in between */
static void
test_merge(airouter_arena_t *a)
{
    char                      *path, *pind, *cind;
    airouter_import_row_t      r;
    airouter_import_channel_t  ch, dup;
    airouter_import_target_t   t;
    airouter_import_buf_t      chan, prov, out;
    airouter_config_t         *cf;
    airouter_diag_t            diag;

    setenv("TEST_IMPORT_KEY", "sk-same", 1);
    path = write_file("target.yaml", target_text);

    UNIT_CHECK(airouter_import_target_load(a, path, &t) == AIROUTER_IMPORT_OK,
               "target loads");

    /* same endpoint ("/v1" or not) and key: already there */
    r = row(1, 36, "sk-same", "", "deepseek-chat");
    airouter_import_map(a, &r, AIROUTER_IMPORT_ONEAPI, "oneapi", &dup);
    UNIT_CHECK(airouter_import_target_has(a, &t, &dup), "duplicate found");

    r = row(2, 36, "sk-other", "", "deepseek-chat");
    airouter_import_map(a, &r, AIROUTER_IMPORT_ONEAPI, "oneapi", &ch);
    UNIT_CHECK(!airouter_import_target_has(a, &t, &ch), "another key");
    ch.priority = 1;

    airouter_import_target_indent(a, &t, &pind, &cind);
    UNIT_STREQ(cind, "    ");

    memset(&chan, 0, sizeof(chan));
    memset(&prov, 0, sizeof(prov));
    memset(&out, 0, sizeof(out));
    airouter_import_emit_channel(&chan, &ch, cind, 1);
    airouter_import_emit_provider(&prov, airouter_import_provider("deepseek"),
                                  pind);

    UNIT_CHECK(airouter_import_splice(a, &t, prov.data, chan.data, &out)
               == AIROUTER_IMPORT_OK, "splice");

    /* old lines in order; providers before channels; ours after the
     * commented-out entry and before the routing banner */
    UNIT_CHECK(strncmp(out.data, "# my router\nauth:\n  enabled: false   "
                       "# keep\n\nproviders:\n  deepseek:\n", 55) == 0,
               "providers added:\n%s", out.data);
    UNIT_CHECK(strstr(out.data, "    # - id: later\n\n    # One-API channel"
                      " 2") != NULL, "channel after the list:\n%s",
               out.data);
    UNIT_CHECK(strstr(out.data, "deepseek-chat\"\n\n# ==== routing ====\n"
                      "routing:\n") != NULL, "before the banner:\n%s",
               out.data);

    path = write_file("merged.yaml", out.data);
    memset(&diag, 0, sizeof(diag));
    cf = airouter_config_load(path, &diag);
    UNIT_CHECK(cf != NULL && cf->nchannels == 2
               && airouter_config_channel(cf, "oneapi_2") != NULL,
               "merged loads: %s", diag.error);
    if (cf != NULL) {
        airouter_config_free(cf);
    }

    airouter_import_buf_free(&chan);
    airouter_import_buf_free(&prov);
    airouter_import_buf_free(&out);
    airouter_import_target_free(&t);

    /* "channels: []" is replaced, a missing providers: is added */
    path = write_file("empty.yaml", "auth:\n  enabled: false\nchannels: []\n");
    UNIT_CHECK(airouter_import_target_load(a, path, &t) == AIROUTER_IMPORT_OK,
               "empty target loads");
    memset(&chan, 0, sizeof(chan));
    memset(&out, 0, sizeof(out));
    airouter_import_emit_channel(&chan, &ch, "  ", 1);
    airouter_import_splice(a, &t, NULL, chan.data, &out);
    UNIT_CHECK(strstr(out.data, "[]") == NULL
               && strstr(out.data, "channels:\n  # One-API") != NULL,
               "empty list replaced:\n%s", out.data);
    airouter_import_buf_free(&chan);
    airouter_import_buf_free(&out);
    airouter_import_target_free(&t);
}


static void
test_keys(airouter_arena_t *a)
{
    char                       path[512];
    struct stat                st;
    airouter_import_envfile_t  ef, back;

    snprintf(path, sizeof(path), "%s/keys.env", tmpdir);
    write_file("keys.env", "# mine\nOTHER=1\nexport X=2\n");

    UNIT_CHECK(airouter_import_env_read(a, path, &ef) == AIROUTER_IMPORT_OK,
               "read");
    airouter_import_env_set(a, &ef, "A_KEY", "sk-plain", "channel a", 0);
    airouter_import_env_set(a, &ef, "B_KEY", "it's $x \"q\" \\", NULL, 0);
    airouter_import_env_set(a, &ef, "C_KEY", "a b|c", NULL, 0);
    /* keep: an empty value does not replace a filled one */
    airouter_import_env_set(a, &ef, "OTHER", "", NULL, 1);

    UNIT_CHECK(airouter_import_env_write(path, &ef) == AIROUTER_IMPORT_OK,
               "write");
    UNIT_CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
               "mode %o", (unsigned) (st.st_mode & 0777));

    UNIT_CHECK(airouter_import_env_read(a, path, &back) == AIROUTER_IMPORT_OK,
               "read back");
    UNIT_STREQ(airouter_import_env_get(&back, "A_KEY"), "sk-plain");
    UNIT_STREQ(airouter_import_env_get(&back, "B_KEY"), "it's $x \"q\" \\");
    UNIT_STREQ(airouter_import_env_get(&back, "C_KEY"), "a b|c");
    UNIT_STREQ(airouter_import_env_get(&back, "OTHER"), "1");
    UNIT_CHECK(back.lines.n == 1, "the foreign line kept: %zu",
               back.lines.n);
    UNIT_CHECK(back.n > 0 && back.vars[0].comment != NULL
               && strcmp(back.vars[0].comment, "mine") == 0,
               "a comment stays with its variable");
}


int
main(void)
{
    airouter_arena_t  *a;
    char               cmd[600];

    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }

    a = airouter_arena_create(0);

    test_types();
    test_flavor();
    test_map(a);
    test_emit(a);
    test_merge(a);
    test_keys(a);

    airouter_arena_destroy(a);

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", tmpdir);
    }

    UNIT_DONE("test_import");
}
