/*
 * Unit tests of the configuration loader (the schema in
 * src/airouter_config.c, walked by src/airouter_yaml.c): our seed-format
 * configuration loads with the values it says, every invalid file fails
 * with the exact file:line:column, and the conventions (${ENV}, the
 * providers.yaml beside the file, base URL joining, model_aliases forms,
 * strategy overrides, auth keys) hold.
 *
 * Run from the repository root.  The seed-format file is argv[1], or
 * seed/router_config.yaml under $AIROUTER_FIXTURES (default
 * tests/fixtures), with the providers.yaml beside it.
 */

#define _POSIX_C_SOURCE  200112L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "airouter_arena.h"
#include "airouter_catalog.h"
#include "airouter_config.h"
#include "airouter_controls.h"
#include "unit.h"


#define DATA  "tests/unit/data/config/"


typedef struct {
    int    n;
    char   last[1024];
} test_warnings_t;


static void test_warn(void *ctx, const char *msg);
static airouter_config_t *test_load(const char *file, airouter_diag_t *diag);
static void test_fails(const char *file, const char *prefix);
static int test_has(const airouter_strlist_t *l, const char *s);
static int test_near(double a, double b);
static const char *test_url(const airouter_config_t *cf, const char *id,
    const char *api_path);

static void test_arena(void);
static void test_seed(const char *seed);
static void test_builtins_match_seed(const char *seed);
static void test_errors(void);
static void test_unknown_keys(void);
static void test_env(void);
static void test_providers_file(void);
static void test_urls(void);
static void test_aliases(void);
static void test_strategies(void);
static void test_auth(void);
static void test_cache_prices(void);
static void test_cache_record(const airouter_catalog_t *cat,
    const airouter_catalog_model_t *m);
static void test_unit_prices(void);
static void test_unit_record(const airouter_catalog_t *cat,
    const airouter_catalog_model_t *m);
static void test_mixed_record(const airouter_catalog_t *cat,
    const airouter_catalog_model_t *m);
static airouter_catalog_builder_t *test_builder(airouter_config_t *cf);
static void test_records(airouter_catalog_builder_t *b,
    void (*check)(const airouter_catalog_t *cat,
                  const airouter_catalog_model_t *m));
static void test_control_chars(void);
static void test_hedging(void);
static void test_supported_parameters(void);
static void test_model_map(void);


int
main(int argc, char **argv)
{
    char  seed[1024];

    if (argc > 1) {
        snprintf(seed, sizeof(seed), "%s", argv[1]);

    } else {
        unit_fixture(seed, sizeof(seed), "seed/router_config.yaml");
    }

    test_arena();
    test_seed(seed);
    test_builtins_match_seed(seed);
    test_errors();
    test_unknown_keys();
    test_env();
    test_providers_file();
    test_urls();
    test_aliases();
    test_strategies();
    test_auth();
    test_cache_prices();
    test_unit_prices();
    test_control_chars();
    test_hedging();
    test_supported_parameters();

    UNIT_DONE("test_config");
}


static void
test_warn(void *ctx, const char *msg)
{
    test_warnings_t  *w = ctx;

    w->n++;
    snprintf(w->last, sizeof(w->last), "%s", msg);
}


static airouter_config_t *
test_load(const char *file, airouter_diag_t *diag)
{
    airouter_config_t  *cf;

    cf = airouter_config_load(file, diag);
    UNIT_CHECK(cf != NULL, "%s: %s", file, diag->error);

    return cf;
}


static void
test_fails(const char *file, const char *prefix)
{
    airouter_diag_t     diag;
    airouter_config_t  *cf;

    memset(&diag, 0, sizeof(diag));

    cf = airouter_config_load(file, &diag);
    UNIT_CHECK(cf == NULL, "%s loaded, expected \"%s\"", file, prefix);
    UNIT_CHECK(strncmp(diag.error, prefix, strlen(prefix)) == 0,
               "got \"%s\", want prefix \"%s\"", diag.error, prefix);

    airouter_config_free(cf);
}


static int
test_has(const airouter_strlist_t *l, const char *s)
{
    size_t  i;

    for (i = 0; i < l->n; i++) {
        if (strcmp(l->items[i], s) == 0) {
            return 1;
        }
    }

    return 0;
}


static int
test_near(double a, double b)
{
    return fabs(a - b) <= 1e-12 * (fabs(a) + fabs(b) + 1e-300);
}


static const char *
test_url(const airouter_config_t *cf, const char *id, const char *api_path)
{
    const airouter_channel_t  *ch;

    static char  buf[512];

    ch = airouter_config_channel(cf, id);
    if (ch == NULL) {
        return "(no such channel)";
    }

    airouter_config_url(ch, api_path, buf, sizeof(buf));

    return buf;
}


static void
test_arena(void)
{
    int               aligned, zeroed;
    char             *s, *big;
    size_t            i, j;
    unsigned char    *p;
    airouter_arena_t *a;

    a = airouter_arena_create(64);
    UNIT_CHECK(a != NULL, "arena");
    if (a == NULL) {
        return;
    }

    aligned = 1;
    zeroed = 1;

    for (i = 1; i < 200; i++) {
        p = airouter_arena_alloc(a, i);
        if (p == NULL || ((size_t) p & 7) != 0) {
            aligned = 0;
            continue;
        }

        for (j = 0; j < i; j++) {
            zeroed &= p[j] == 0;
        }

        memset(p, 0xff, i);
    }

    UNIT_CHECK(aligned, "allocations are 8-byte aligned");
    UNIT_CHECK(zeroed, "allocations are zeroed");

    big = airouter_arena_alloc(a, 100000);
    UNIT_CHECK(big != NULL && big[99999] == 0, "large allocation");

    s = airouter_arena_strndup(a, "abcdef", 3);
    UNIT_STREQ(s, "abc");
    s = airouter_arena_strndup(a, "ab", 10);
    UNIT_STREQ(s, "ab");
    s = airouter_arena_strdup(a, "");
    UNIT_STREQ(s, "");
    UNIT_CHECK(airouter_arena_used(a) > 100000, "used %zu",
               airouter_arena_used(a));

    airouter_arena_destroy(a);
    airouter_arena_destroy(NULL);
}


static void
test_seed(const char *seed)
{
    size_t                      i;
    char                        pfile[1024];
    airouter_diag_t             diag;
    test_warnings_t             w;
    airouter_config_t          *cf;
    const airouter_channel_t   *ch;
    const airouter_strategy_t  *st;
    const airouter_provider_t  *pr;

    memset(&diag, 0, sizeof(diag));
    memset(&w, 0, sizeof(w));
    diag.warn = test_warn;
    diag.ctx = &w;

    cf = test_load(seed, &diag);
    if (cf == NULL) {
        return;
    }

    UNIT_CHECK(w.n == 0, "the seed warns: %s", w.last);
    UNIT_CHECK(cf->nchannels == 7, "channels %zu", cf->nchannels);
    UNIT_CHECK(cf->nproviders == 6, "providers %zu", cf->nproviders);
    UNIT_CHECK(cf->nenabled == 1, "enabled %zu", cf->nenabled);
    UNIT_STREQ(cf->file, seed);

    /* providers.yaml beside it, whose providers come after the inline ones */
    snprintf(pfile, sizeof(pfile), "%.*sproviders.yaml",
             (int) (strlen(seed) - strlen("router_config.yaml")), seed);
    UNIT_STREQ(cf->providers_file, pfile);

    /* server keys nginx owns, in the file's order */
    UNIT_CHECK(cf->nowned == 4, "owned %zu", cf->nowned);
    if (cf->nowned == 4) {
        UNIT_STREQ(cf->owned[0].key, "server.host");
        UNIT_STREQ(cf->owned[0].directive, "listen");
        UNIT_STREQ(cf->owned[1].key, "server.port");
        UNIT_STREQ(cf->owned[1].directive, "listen");
        UNIT_STREQ(cf->owned[2].key, "server.cors_origins");
        UNIT_STREQ(cf->owned[2].directive,
                   "add_header Access-Control-Allow-Origin");
        UNIT_STREQ(cf->owned[3].key, "server.max_request_size");
        UNIT_STREQ(cf->owned[3].directive, "client_max_body_size");
    }

    /* providers: inline ones first, then providers.yaml's */
    UNIT_CHECK(cf->nproviders == 6
               && strcmp(cf->providers[0].name, "deepseek") == 0
               && strcmp(cf->providers[3].name, "openrouter") == 0
               && strcmp(cf->providers[4].name, "siliconflow") == 0
               && strcmp(cf->providers[5].name, "ollama") == 0,
               "provider order");

    pr = NULL;
    for (i = 0; i < cf->nproviders; i++) {
        if (strcmp(cf->providers[i].name, "mistral") == 0) {
            pr = &cf->providers[i];
        }
    }

    UNIT_CHECK(pr != NULL, "provider mistral");
    if (pr != NULL) {
        UNIT_STREQ(pr->display_name, "Mistral La Plateforme");
        UNIT_STREQ(pr->base_url, "https://api.mistral.ai");
        UNIT_STREQ(pr->auth_type, "bearer");
        UNIT_CHECK(pr->rate_limit == 20, "rate_limit %d", pr->rate_limit);
        UNIT_CHECK(pr->capabilities.n == 4
                   && test_has(&pr->capabilities, "vision"),
                   "caps %zu", pr->capabilities.n);
        UNIT_CHECK(pr->local == 0, "remote");
        UNIT_STREQ(pr->pos.file, seed);
        UNIT_CHECK(pr->pos.line == 37 && pr->pos.column == 3,
                   "mistral at %u:%u", pr->pos.line, pr->pos.column);
    }

    pr = cf->nproviders == 6 ? &cf->providers[5] : NULL;
    if (pr != NULL) {
        UNIT_STREQ(pr->display_name, "Ollama");
        UNIT_STREQ(pr->base_url, "http://127.0.0.1:11434");
        UNIT_CHECK(pr->local == 1, "ollama is local");
        UNIT_STREQ(pr->pos.file, pfile);
        UNIT_CHECK(pr->pos.line == 14 && pr->pos.column == 3,
                   "ollama at %u:%u", pr->pos.line, pr->pos.column);
    }

    /* a single-model channel in full */
    ch = airouter_config_channel(cf, "deepseek_chat");
    UNIT_CHECK(ch != NULL, "deepseek_chat");
    if (ch != NULL) {
        UNIT_STREQ(ch->name, "DeepSeek V3 chat");
        UNIT_STREQ(ch->provider_name, "deepseek");
        UNIT_CHECK(ch->provider != NULL
                   && strcmp(ch->provider->name, "deepseek") == 0,
                   "provider resolved");
        UNIT_STREQ(ch->base_url, "https://api.deepseek.com");
        UNIT_CHECK(ch->versioned == 0, "not versioned");
        UNIT_STREQ(ch->model_name, "deepseek-chat");
        UNIT_CHECK(ch->configured_models.n == 1
                   && test_has(&ch->configured_models, "deepseek-chat"),
                   "model_name in configured_models");
        UNIT_CHECK(ch->api_keys.n == 1, "keys %zu", ch->api_keys.n);
        if (ch->api_keys.n == 1) {
            UNIT_STREQ(ch->api_keys.items[0], "sk-fixture-deepseek-1");
        }
        UNIT_CHECK(ch->enabled == 0, "disabled");
        UNIT_CHECK(ch->priority == 2, "priority %d", ch->priority);
        UNIT_CHECK(ch->weight == 75, "weight %g", ch->weight);
        UNIT_CHECK(ch->tags.n == 3 && test_has(&ch->tags, "chinese")
                   && test_has(&ch->tags, "deepseek-v3")
                   && test_has(&ch->tags, "cheap"), "tags, lowercased");
        UNIT_CHECK(ch->daily_limit == 2500, "daily_limit %ld",
                   ch->daily_limit);
        UNIT_CHECK(ch->has_cost, "has_cost");
        UNIT_CHECK(test_near(ch->cost_input, 0.00000027), "input %g",
                   ch->cost_input);
        UNIT_CHECK(test_near(ch->cost_output, 0.0000011), "output %g",
                   ch->cost_output);
        UNIT_STREQ(ch->currency, "USD");
        UNIT_CHECK(ch->capabilities.n == 2
                   && test_has(&ch->capabilities, "function_calling"),
                   "caps %zu", ch->capabilities.n);
        UNIT_CHECK(ch->local == 0 && ch->free == 0, "remote, paid");
        UNIT_CHECK(ch->discovery_interval == 0, "global interval");
        UNIT_CHECK(ch->pos.line == 65 && ch->pos.column == 5,
                   "channel at %u:%u", ch->pos.line, ch->pos.column);
    }

    /* api_keys: every key, in order */
    ch = airouter_config_channel(cf, "deepseek_reasoner");
    UNIT_CHECK(ch != NULL && ch->api_keys.n == 2
               && strcmp(ch->api_keys.items[0], "sk-fixture-deepseek-2") == 0
               && strcmp(ch->api_keys.items[1], "sk-fixture-deepseek-3") == 0
               && ch->priority == 3 && ch->weight == 40,
               "deepseek_reasoner keys, priority, weight");

    /* configured_models with a map of aliases */
    ch = airouter_config_channel(cf, "together_open");
    UNIT_CHECK(ch != NULL, "together_open");
    if (ch != NULL) {
        UNIT_CHECK(ch->model_name == NULL, "no model_name");
        UNIT_CHECK(ch->configured_models.n == 3
                   && strcmp(ch->configured_models.items[2],
                             "mistralai/Mixtral-8x7B-Instruct-v0.1") == 0,
                   "configured_models %zu", ch->configured_models.n);
        UNIT_CHECK(ch->naliases == 2, "aliases %zu", ch->naliases);
        if (ch->naliases == 2) {
            UNIT_STREQ(ch->aliases[0].alias, "llama-70b");
            UNIT_STREQ(ch->aliases[0].target,
                       "meta-llama/Llama-3.3-70B-Instruct-Turbo");
            UNIT_STREQ(ch->aliases[1].alias, "qwen-coder");
            UNIT_STREQ(ch->aliases[1].target,
                       "Qwen/Qwen2.5-Coder-32B-Instruct");
        }
        UNIT_CHECK(ch->daily_limit == 1200, "daily_limit %ld",
                   ch->daily_limit);
    }

    /* a provider from providers.yaml, a channel currency */
    ch = airouter_config_channel(cf, "siliconflow_qwen3");
    UNIT_CHECK(ch != NULL, "siliconflow_qwen3");
    if (ch != NULL) {
        UNIT_CHECK(ch->provider != NULL
                   && strcmp(ch->provider->name, "siliconflow") == 0,
                   "provider from providers.yaml");
        UNIT_STREQ(ch->base_url, "https://api.siliconflow.cn/v1");
        UNIT_CHECK(ch->versioned == 1, "versioned");
        UNIT_STREQ(ch->currency, "CNY");
        UNIT_CHECK(ch->capabilities.n == 2, "channel's own capabilities");
    }

    /* the enabled one: local through its provider, aliases as a list */
    ch = airouter_config_channel(cf, "workstation_ollama");
    UNIT_CHECK(ch != NULL, "workstation_ollama");
    if (ch != NULL) {
        UNIT_CHECK(ch->enabled == 1 && ch->disabled_reason == NULL,
                   "enabled without a key");
        UNIT_CHECK(ch->local == 1, "local from its provider");
        UNIT_CHECK(ch->api_keys.n == 0, "no key");
        UNIT_CHECK(ch->has_cost == 0, "no cost");
        UNIT_CHECK(ch->naliases == 1
                   && strcmp(ch->aliases[0].alias, "small") == 0
                   && strcmp(ch->aliases[0].target, "gemma3:4b") == 0,
                   "alias list");
        UNIT_CHECK(ch->pos.line == 159 && ch->pos.column == 5,
                   "channel at %u:%u", ch->pos.line, ch->pos.column);
    }

    UNIT_STREQ(test_url(cf, "mistral_small", "/v1/chat/completions"),
               "https://api.mistral.ai/v1/chat/completions");
    UNIT_STREQ(test_url(cf, "openrouter_free", "/v1/models"),
               "https://openrouter.ai/api/v1/models");
    UNIT_STREQ(test_url(cf, "workstation_ollama", "/v1/embeddings"),
               "http://127.0.0.1:11434/v1/embeddings");
    UNIT_CHECK(airouter_config_channel(cf, "nope") == NULL, "no channel");

    /* routing */
    UNIT_STREQ(cf->routing.default_strategy, "balanced");
    UNIT_CHECK(cf->routing.enable_fallback == 0, "fallback");
    UNIT_CHECK(cf->routing.max_retry_attempts == 4, "retries");
    UNIT_CHECK(cf->routing.health_check_interval == 600, "health");
    UNIT_CHECK(cf->routing.error_cooldown_period == 45, "cooldown");
    UNIT_CHECK(cf->routing.request_deadline == 120, "deadline %ld",
               cf->routing.request_deadline);
    UNIT_CHECK(cf->routing.filters.min_context_length == 16384, "ctx");
    UNIT_CHECK(test_near(cf->routing.filters.min_parameter_count, 1000),
               "params");
    UNIT_CHECK(cf->routing.filters.exclude_embedding_models == 0, "emb");
    UNIT_CHECK(cf->routing.filters.exclude_vision_only_models == 1, "vis");
    UNIT_CHECK(cf->routing.errors.cooldown_rate_limit == 90, "rl");
    UNIT_CHECK(cf->routing.errors.cooldown_timeout == 20, "to");
    UNIT_CHECK(cf->routing.errors.cooldown_server_error == 240, "5xx");
    UNIT_CHECK(cf->routing.errors.blacklist_period == 3600, "blacklist");
    UNIT_CHECK(cf->routing.errors.permanent_errors.n == 2
               && test_has(&cf->routing.errors.permanent_errors,
                           "insufficient_credits"), "permanent errors");
    UNIT_CHECK(cf->routing.errors.temporary_errors.n == 4
               && test_has(&cf->routing.errors.temporary_errors,
                           "overloaded"), "temporary errors");

    UNIT_CHECK(cf->routing.nstrategies == 6, "strategies %zu",
               cf->routing.nstrategies);
    for (i = 0; i < cf->routing.nstrategies; i++) {
        UNIT_CHECK(cf->routing.strategies[i].builtin, "%s builtin",
                   cf->routing.strategies[i].name);
    }

    st = airouter_config_strategy(cf, "balanced");
    UNIT_CHECK(st != NULL && st->nweights == 5
               && st->weights[4].score == AIROUTER_SCORE_RELIABILITY
               && test_near(st->weights[4].weight, 0.1)
               && st->weights[4].descending == 1, "balanced");
    st = airouter_config_strategy(cf, "quality_optimized");
    UNIT_CHECK(st != NULL && st->nweights == 4
               && st->weights[2].score == AIROUTER_SCORE_QUALITY
               && test_near(st->weights[2].weight, 0.2), "quality");
    st = airouter_config_strategy(cf, "local_first");
    UNIT_CHECK(st != NULL && st->nweights == 4
               && st->weights[0].score == AIROUTER_SCORE_LOCAL
               && test_near(st->weights[0].weight, 0.6), "local_first");
    UNIT_CHECK(airouter_config_strategy(cf, "nope") == NULL, "no strategy");

    /* auth, cost, tasks */
    UNIT_CHECK(cf->auth.enabled == 0 && cf->auth.nkeys == 0, "auth off");
    UNIT_CHECK(cf->auth.admin_enabled == 1, "admin enabled");
    UNIT_STREQ(cf->auth.admin_token, "adm-fixture-0042");
    UNIT_CHECK(test_near(cf->cost.global_daily_budget, 25.5), "budget");
    UNIT_CHECK(test_near(cf->cost.alert_threshold, 0.65), "alert");
    UNIT_CHECK(cf->cost.auto_disable_on_budget_exceeded == 0, "auto");
    UNIT_STREQ(cf->cost.currency, "EUR");
    UNIT_CHECK(test_near(cf->cost.cny_to_usd, 0.14), "cny");
    UNIT_CHECK(cf->discovery.enabled == 1
               && test_near(cf->discovery.interval_hours, 3)
               && cf->discovery.run_on_startup == 0, "model_discovery");

    UNIT_STREQ(airouter_score_name(AIROUTER_SCORE_COST), "cost_score");
    UNIT_STREQ(airouter_score_name(AIROUTER_SCORE_RELIABILITY),
               "reliability_score");
    UNIT_STREQ(airouter_score_name(AIROUTER_SCORE_N), "unknown");

    airouter_config_free(cf);
}


/* The built-in strategies carry exactly the seed's weights, as written in
 * our seed-format file. */
static void
test_builtins_match_seed(const char *seed)
{
    size_t                      i, j;
    airouter_diag_t             diag;
    airouter_config_t          *a, *b;
    const airouter_strategy_t  *sa, *sb;

    memset(&diag, 0, sizeof(diag));

    a = test_load(seed, &diag);
    b = test_load(DATA "aliases.yaml", &diag);

    if (a == NULL || b == NULL) {
        airouter_config_free(a);
        airouter_config_free(b);
        return;
    }

    UNIT_CHECK(b->routing.nstrategies == 6, "six built-ins");

    for (i = 0; i < b->routing.nstrategies; i++) {
        sb = &b->routing.strategies[i];
        sa = airouter_config_strategy(a, sb->name);

        UNIT_CHECK(sa != NULL && sa->nweights == sb->nweights,
                   "%s: weights", sb->name);
        if (sa == NULL || sa->nweights != sb->nweights) {
            continue;
        }

        for (j = 0; j < sa->nweights; j++) {
            UNIT_CHECK(sa->weights[j].score == sb->weights[j].score
                       && test_near(sa->weights[j].weight,
                                    sb->weights[j].weight)
                       && sa->weights[j].descending
                          == sb->weights[j].descending,
                       "%s[%zu] differs from the seed", sb->name, j);
        }
    }

    airouter_config_free(a);
    airouter_config_free(b);
}


static void
test_errors(void)
{
    test_fails(DATA "nope.yaml",
               DATA "nope.yaml: cannot open: No such file or directory");
    test_fails(DATA "empty.yaml", DATA "empty.yaml:1:1: the file is empty");
    test_fails(DATA "not_mapping.yaml",
               DATA "not_mapping.yaml:1:1: the top level must be a mapping");
    test_fails(DATA "syntax_error.yaml",
               DATA "syntax_error.yaml:4:9: YAML syntax error: did not find "
               "expected ',' or ']'");
    test_fails(DATA "wrong_type.yaml",
               DATA "wrong_type.yaml:7:23: \"routing.max_retry_attempts\" "
               "must be an integer, got \"three\"");
    test_fails(DATA "out_of_range.yaml",
               DATA "out_of_range.yaml:2:23: \"routing.max_retry_attempts\" "
               "must be between 1 and 20, got 50");
    test_fails(DATA "bad_port.yaml",
               DATA "bad_port.yaml:3:9: \"server.port\" must be an integer, "
               "got \"eighty\"");
    test_fails(DATA "unknown_strategy.yaml",
               DATA "unknown_strategy.yaml:2:21: unknown strategy "
               "\"cheapest_first\" (known: cost_first, free_first, "
               "local_first, balanced, speed_optimized, quality_optimized, "
               "my_own)");
    test_fails(DATA "bad_score.yaml",
               DATA "bad_score.yaml:6:16: \"routing.sorting_strategies."
               "cost_first[1].field\": unknown score \"price_score\"");
    test_fails(DATA "duplicate_id.yaml",
               DATA "duplicate_id.yaml:7:9: duplicate channel id \"one\" "
               "(first at 2:9)");
    test_fails(DATA "dup_key.yaml",
               DATA "dup_key.yaml:4:3: duplicate key "
               "\"routing.max_retry_attempts\" (first at 2:3)");
    test_fails(DATA "no_base_url.yaml",
               DATA "no_base_url.yaml:7:5: channel \"lost\" has no base_url "
               "(own or via its provider)");
    test_fails(DATA "unknown_provider.yaml",
               DATA "unknown_provider.yaml:8:17: unknown provider \"grok\"");
    test_fails(DATA "auth_no_token.yaml",
               DATA "auth_no_token.yaml:4:12: auth.enabled is true but no "
               "api_token or api_keys is set: nginx cannot generate and "
               "write one back; set a token");
    test_fails(DATA "single_string_list.yaml",
               DATA "single_string_list.yaml:4:11: \"channels[0].tags\" "
               "expected a list");
    test_fails(DATA "bad_url.yaml",
               DATA "bad_url.yaml:3:15: \"channels[0].base_url\" must be an "
               "http:// or https:// URL");
    test_fails(DATA "bad_alias.yaml",
               DATA "bad_alias.yaml:4:20: \"channels[0].model_aliases\" must "
               "be a mapping");
    test_fails(DATA "dup_provider/router_config.yaml",
               DATA "dup_provider/providers.yaml:3:1: duplicate provider "
               "\"openai\" (first at " DATA "dup_provider/router_config.yaml"
               ":2:3)");
    test_fails(DATA "recursive_merge.yaml",
               DATA "recursive_merge.yaml:2:18: merge keys (<<) nested too "
               "deeply");
    test_fails(DATA "merge_bomb.yaml",
               DATA "merge_bomb.yaml:3:7: too many nested aliases or merges");
}


static void
test_unknown_keys(void)
{
    airouter_diag_t     diag;
    test_warnings_t     w;
    airouter_config_t  *cf;

    memset(&diag, 0, sizeof(diag));
    memset(&w, 0, sizeof(w));
    diag.warn = test_warn;
    diag.ctx = &w;

    cf = test_load(DATA "unknown_key.yaml", &diag);
    if (cf == NULL) {
        return;
    }

    UNIT_CHECK(w.n == 2, "warnings %d", w.n);
    UNIT_STREQ(w.last, DATA "unknown_key.yaml:7:5: unknown key "
               "\"channels[0].colour\" ignored");
    UNIT_CHECK(cf->nchannels == 1 && cf->nowned == 1, "still loaded");
    UNIT_STREQ(cf->routing.default_strategy, "balanced");

    airouter_config_free(cf);

    /* no warn callback: still loads */
    diag.warn = NULL;
    cf = test_load(DATA "unknown_key.yaml", &diag);
    airouter_config_free(cf);
}


static void
test_env(void)
{
    airouter_diag_t            diag;
    airouter_config_t         *cf;
    const airouter_channel_t  *ch;

    memset(&diag, 0, sizeof(diag));

    setenv("AIROUTER_TEST_PORT", "9090", 1);
    setenv("AIROUTER_TEST_KEY", "abc", 1);
    setenv("AIROUTER_TEST_PRIO", "7", 1);
    setenv("AIROUTER_TEST_RETRIES", "", 1);     /* empty: ":-" default */
    unsetenv("AIROUTER_TEST_URL");
    unsetenv("AIROUTER_TEST_UNSET");
    unsetenv("AIROUTER_TEST_LIMIT");

    cf = test_load(DATA "env.yaml", &diag);
    if (cf == NULL) {
        return;
    }

    ch = airouter_config_channel(cf, "envchan");
    UNIT_CHECK(ch != NULL, "envchan");
    if (ch != NULL) {
        UNIT_STREQ(ch->base_url, "http://localhost:11434/v1");
        UNIT_CHECK(ch->versioned && ch->local, "local, versioned");
        UNIT_CHECK(ch->api_keys.n == 2, "keys %zu", ch->api_keys.n);
        if (ch->api_keys.n == 2) {
            UNIT_STREQ(ch->api_keys.items[0], "abc");
            UNIT_STREQ(ch->api_keys.items[1], "sk-abc-2");
        }
        UNIT_CHECK(ch->daily_limit == 250, "limit %ld", ch->daily_limit);
        UNIT_CHECK(ch->priority == 7, "priority %d", ch->priority);
        UNIT_CHECK(ch->tags.n == 3, "tags %zu", ch->tags.n);
        if (ch->tags.n == 3) {
            UNIT_STREQ(ch->tags.items[0], "local");
            UNIT_STREQ(ch->tags.items[1], "$literal");
            UNIT_STREQ(ch->tags.items[2], "${not closed");
        }
    }

    UNIT_CHECK(cf->routing.max_retry_attempts == 5, "retries %d",
               cf->routing.max_retry_attempts);
    UNIT_CHECK(cf->nowned == 1, "port owned");

    airouter_config_free(cf);

    setenv("AIROUTER_TEST_URL", "https://llm.example.com/", 1);
    setenv("AIROUTER_TEST_RETRIES", "12", 1);

    cf = test_load(DATA "env.yaml", &diag);
    if (cf != NULL) {
        ch = airouter_config_channel(cf, "envchan");
        UNIT_CHECK(ch != NULL && strcmp(ch->base_url,
                                        "https://llm.example.com") == 0
                   && !ch->versioned && !ch->local, "env URL");
        UNIT_CHECK(cf->routing.max_retry_attempts == 12, "retries %d",
                   cf->routing.max_retry_attempts);
        airouter_config_free(cf);
    }

    /* substitution comes before the type check */
    setenv("AIROUTER_TEST_RETRIES", "many", 1);
    test_fails(DATA "env.yaml",
               DATA "env.yaml:12:23: \"routing.max_retry_attempts\" must be "
               "an integer, got \"many\"");

    setenv("AIROUTER_TEST_RETRIES", "2", 1);
    setenv("AIROUTER_TEST_PORT", "http", 1);
    test_fails(DATA "env.yaml",
               DATA "env.yaml:2:9: \"server.port\" must be an integer, got "
               "\"http\"");

    setenv("AIROUTER_TEST_PORT", "80", 1);
    unsetenv("AIROUTER_TEST_PRIO");
    test_fails(DATA "env.yaml",
               DATA "env.yaml:9:15: \"channels[0].priority\" must be an "
               "integer, got \"\"");
}


static void
test_providers_file(void)
{
    size_t                      i;
    airouter_diag_t             diag;
    airouter_config_t          *cf;
    const airouter_channel_t   *ch;
    const airouter_provider_t  *pr;

    memset(&diag, 0, sizeof(diag));

    cf = test_load(DATA "merged/router_config.yaml", &diag);
    if (cf == NULL) {
        return;
    }

    UNIT_STREQ(cf->providers_file, DATA "merged/providers.yaml");
    UNIT_CHECK(cf->nproviders == 3, "providers %zu", cf->nproviders);

    pr = NULL;
    for (i = 0; i < cf->nproviders; i++) {
        if (strcmp(cf->providers[i].name, "ollama") == 0) {
            pr = &cf->providers[i];
        }
    }

    UNIT_CHECK(pr != NULL && pr->pos.file == cf->providers_file
               && pr->pos.line == 6, "ollama from providers.yaml");

    ch = airouter_config_channel(cf, "b");
    UNIT_CHECK(ch != NULL, "channel b");
    if (ch != NULL) {
        UNIT_STREQ(ch->base_url, "https://api.deepseek.com");
        UNIT_STREQ(ch->provider->display_name, "DeepSeek");
        UNIT_CHECK(ch->capabilities.n == 2
                   && test_has(&ch->capabilities, "function_calling"),
                   "capabilities from the provider");
        UNIT_CHECK(ch->api_keys.n == 2, "api_key + api_keys, no repeat");
        UNIT_STREQ(ch->name, "b");
    }

    UNIT_STREQ(test_url(cf, "a", "/v1/chat/completions"),
               "https://api.openai.com/v1/chat/completions");

    airouter_config_free(cf);
}


static void
test_urls(void)
{
    char                       buf[16];
    size_t                     n;
    airouter_diag_t            diag;
    airouter_config_t         *cf;
    const airouter_channel_t  *ch;

    memset(&diag, 0, sizeof(diag));

    cf = test_load(DATA "urls.yaml", &diag);
    if (cf == NULL) {
        return;
    }

    UNIT_STREQ(test_url(cf, "openai", "/v1/chat/completions"),
               "https://api.openai.com/v1/chat/completions");
    UNIT_STREQ(test_url(cf, "groq", "/v1/chat/completions"),
               "https://api.groq.com/openai/v1/chat/completions");
    UNIT_STREQ(test_url(cf, "zhipu", "/v1/chat/completions"),
               "https://open.bigmodel.cn/api/paas/v4/chat/completions");
    UNIT_STREQ(test_url(cf, "doubao", "/v1/chat/completions"),
               "https://ark.cn-beijing.volces.com/api/v3/chat/completions");
    UNIT_STREQ(test_url(cf, "ollama", "/v1/models"),
               "http://127.0.0.1:11434/v1/models");
    UNIT_STREQ(test_url(cf, "gemini", "/v1/chat/completions"),
               "https://generativelanguage.googleapis.com/v1beta/chat/"
               "completions");
    UNIT_STREQ(test_url(cf, "remote_v", "/v1/models"),
               "https://example.com/video/v1x2/v1/models");
    UNIT_STREQ(test_url(cf, "gemini_openai", "/v1/chat/completions"),
               "https://generativelanguage.googleapis.com/v1beta/openai/"
               "chat/completions");
    UNIT_STREQ(test_url(cf, "novita", "/v1/models"),
               "https://api.novita.ai/v3/openai/models");
    UNIT_STREQ(test_url(cf, "openai_only", "/v1/chat/completions"),
               "https://example.com/openai/v1/chat/completions");

    ch = airouter_config_channel(cf, "ollama");
    UNIT_CHECK(ch != NULL && ch->local == 1 && ch->free == 1,
               "ollama: loopback is local, provider free");
    ch = airouter_config_channel(cf, "lmstudio");
    UNIT_CHECK(ch != NULL && ch->local == 1 && ch->free == 0,
               "[::1] is local, free: false kept");
    ch = airouter_config_channel(cf, "remote_v");
    UNIT_CHECK(ch != NULL && ch->local == 1 && !ch->versioned,
               "local: true kept; v1x2 is no version");
    ch = airouter_config_channel(cf, "openai");
    UNIT_CHECK(ch != NULL && ch->local == 0, "remote");

    /* truncation: like snprintf */
    n = airouter_config_url(airouter_config_channel(cf, "openai"),
                            "/v1/models", buf, sizeof(buf));
    UNIT_CHECK(n == strlen("https://api.openai.com/v1/models"), "n %zu", n);
    UNIT_STREQ(buf, "https://api.ope");

    airouter_config_free(cf);
}


static void
test_aliases(void)
{
    airouter_diag_t            diag;
    airouter_config_t         *cf;
    const airouter_channel_t  *ch;

    memset(&diag, 0, sizeof(diag));

    cf = test_load(DATA "aliases.yaml", &diag);
    if (cf == NULL) {
        return;
    }

    ch = airouter_config_channel(cf, "doubao");
    UNIT_CHECK(ch != NULL && ch->naliases == 2, "mapping form");
    if (ch != NULL && ch->naliases == 2) {
        UNIT_STREQ(ch->aliases[0].alias, "doubao-1.5-pro-256k");
        UNIT_STREQ(ch->aliases[0].target, "ep-20250101-abc");
        UNIT_STREQ(ch->aliases[1].alias, "doubao-lite");
        UNIT_STREQ(ch->aliases[1].target, "ep-20250101-def");
    }

    ch = airouter_config_channel(cf, "doubao_list");
    UNIT_CHECK(ch != NULL && ch->naliases == 2, "list form");
    if (ch != NULL && ch->naliases == 2) {
        UNIT_STREQ(ch->aliases[0].alias, "pro");
        UNIT_STREQ(ch->aliases[0].target, "ep-1");
        UNIT_STREQ(ch->aliases[1].alias, "lite");
        UNIT_STREQ(ch->aliases[1].target, "ep-2");
    }

    airouter_config_free(cf);
}


static void
test_strategies(void)
{
    airouter_diag_t             diag;
    test_warnings_t             w;
    airouter_config_t          *cf;
    const airouter_channel_t   *ch;
    const airouter_strategy_t  *st;

    memset(&diag, 0, sizeof(diag));
    memset(&w, 0, sizeof(w));
    diag.warn = test_warn;
    diag.ctx = &w;

    cf = test_load(DATA "strategies.yaml", &diag);
    if (cf == NULL) {
        return;
    }

    UNIT_CHECK(w.n == 1, "only \"defaults\" warns: %d", w.n);
    UNIT_STREQ(cf->routing.default_strategy, "mine");
    UNIT_CHECK(cf->routing.nstrategies == 7, "strategies %zu",
               cf->routing.nstrategies);

    st = airouter_config_strategy(cf, "cost_first");
    UNIT_CHECK(st != NULL && st->builtin && st->nweights == 1
               && st->weights[0].score == AIROUTER_SCORE_COST
               && st->weights[0].weight == 1
               && st->weights[0].descending == 0, "cost_first replaced");

    st = airouter_config_strategy(cf, "mine");
    UNIT_CHECK(st != NULL && !st->builtin && st->nweights == 2
               && st->weights[0].score == AIROUTER_SCORE_QUALITY
               && st->weights[1].score == AIROUTER_SCORE_LOCAL
               && test_near(st->weights[1].weight, 0.3)
               && st->pos.line == 18, "user strategy");

    st = airouter_config_strategy(cf, "free_first");
    UNIT_CHECK(st != NULL && st->nweights == 4, "free_first untouched");

    UNIT_CHECK(cf->routing.max_retry_attempts == 4, "retries");
    UNIT_CHECK(cf->routing.request_deadline == 90, "request_timeout");
    UNIT_CHECK(cf->routing.errors.blacklist_period == 7200, "blacklist");
    UNIT_CHECK(cf->routing.errors.cooldown_timeout == 15, "timeout");
    UNIT_CHECK(cf->routing.errors.cooldown_rate_limit == 60, "default");

    /* "<<" merge keys, the channel's own keys winning */
    ch = airouter_config_channel(cf, "or1");
    UNIT_CHECK(ch != NULL && ch->enabled == 1 && ch->tags.n == 2
               && test_has(&ch->tags, "openrouter"), "or1 merged");
    ch = airouter_config_channel(cf, "or2");
    UNIT_CHECK(ch != NULL && ch->enabled == 0 && ch->versioned, "or2");
    UNIT_CHECK(cf->nenabled == 1, "enabled %zu", cf->nenabled);
    UNIT_STREQ(test_url(cf, "or1", "/v1/models"),
               "https://openrouter.ai/api/v1/models");

    UNIT_CHECK(cf->discovery.enabled == 1
               && test_near(cf->discovery.interval_hours, 2)
               && cf->discovery.run_on_startup == 0, "tasks");
    UNIT_CHECK(test_near(cf->cost.cny_to_usd, 0.15), "cny");

    airouter_config_free(cf);
}


static void
test_auth(void)
{
    airouter_diag_t     diag;
    airouter_config_t  *cf;
    airouter_auth_t    *a;

    memset(&diag, 0, sizeof(diag));

    cf = test_load(DATA "auth_keys.yaml", &diag);
    if (cf == NULL) {
        return;
    }

    a = &cf->auth;
    UNIT_CHECK(a->enabled == 1 && a->nkeys == 3, "keys %zu", a->nkeys);
    if (a->nkeys == 3) {
        UNIT_STREQ(a->keys[0].name, "default");
        UNIT_STREQ(a->keys[0].token, "sk-main");
        UNIT_STREQ(a->keys[1].name, "alice");
        UNIT_STREQ(a->keys[1].token, "sk-alice");
        UNIT_CHECK(a->keys[1].allowed_tags.n == 2
                   && test_has(&a->keys[1].allowed_tags, "free"),
                   "allowed_tags lowercased");
        UNIT_CHECK(test_near(a->keys[1].daily_budget, 1.5)
                   && a->keys[1].rate_limit == 30, "budget, rate");
        UNIT_STREQ(a->keys[2].name, "key2");
        UNIT_STREQ(a->keys[2].token, "sk-anon");
        /* request routing controls: allowed unless a key says not */
        UNIT_CHECK(a->keys[0].allow_request_routing == 1
                   && a->keys[1].allow_request_routing == 0
                   && a->keys[2].allow_request_routing == 1,
                   "allow_request_routing");
    }
    UNIT_CHECK(a->admin_enabled == 1, "admin");
    UNIT_STREQ(a->admin_token, "adm");

    airouter_config_free(cf);
}


/*
 * cost_per_token's cache_read/cache_write reach the catalogue record; a
 * later source adds cache prices only in the currency of the base prices.
 */
static void
test_cache_prices(void)
{
    airouter_diag_t                  diag;
    airouter_config_t               *cf;
    airouter_model_info_t            info;
    const airouter_channel_t        *ch;
    airouter_catalog_builder_t      *b;

    memset(&diag, 0, sizeof(diag));

    test_fails(DATA "providers_list.yaml",
               DATA "providers_list.yaml:2:3: \"providers\" must be a mapping "
               "of provider names, got a list");
    test_fails(DATA "strategy_name.yaml",
               DATA "strategy_name.yaml:3:7: a strategy name in "
               "\"routing.sorting_strategies\" must be a non-empty string");

    test_fails(DATA "bad_cache_price.yaml",
               DATA "bad_cache_price.yaml:7:19: \"channels[0].cost_per_token."
               "cache_read\" must be");

    cf = test_load(DATA "cache_prices.yaml", &diag);
    if (cf == NULL) {
        return;
    }

    ch = airouter_config_channel(cf, "claude");
    UNIT_CHECK(ch && test_near(ch->cost_cache_read, 3e-8)
               && test_near(ch->cost_cache_write, 3e-7), "claude cache");
    ch = airouter_config_channel(cf, "deepseek");
    UNIT_CHECK(ch && ch->cost_cache_read == -1 && ch->cost_cache_write == -1,
               "not said: -1");

    b = test_builder(cf);

    /* a USD price file knows deepseek's cache price: not in CNY, ignored */
    memset(&info, 0, sizeof(info));
    info.id = "deepseek-chat";
    airouter_catalog_info_price(&info, 2.8e-7, 4.2e-7, 2.8e-8, -1, "USD");
    UNIT_CHECK(info.has_cache_read && !info.has_cache_write, "info filled");
    airouter_catalog_builder_add_configured(b, 1, &info);

    /* a CNY one is taken */
    memset(&info, 0, sizeof(info));
    info.id = "deepseek-chat";
    airouter_catalog_info_price(&info, 1e-6, 1e-6, -1, 5e-7, "cny");
    airouter_catalog_builder_add_configured(b, 1, &info);

    /* an info that has a CNY price takes no USD cache price */
    airouter_catalog_info_price(&info, 1, 1, 9, 9, NULL);
    UNIT_CHECK(!info.has_cache_read && test_near(info.price_prompt, 1e-6),
               "other currency left out");

    test_records(b, test_cache_record);
    airouter_config_free(cf);
}


static void
test_cache_record(const airouter_catalog_t *cat,
    const airouter_catalog_model_t *m)
{
    (void) cat;

    switch (m->channel) {
    case 0:
        UNIT_CHECK(test_near(m->price_cache_read, 3e-8)
                   && test_near(m->price_cache_write, 3e-7),
                   "claude record %g %g", m->price_cache_read,
                   m->price_cache_write);
        break;
    case 1:
        UNIT_CHECK(test_near(m->price_prompt, 2e-6)
                   && m->price_cache_read == -1
                   && test_near(m->price_cache_write, 5e-7),
                   "deepseek record %g %g", m->price_cache_read,
                   m->price_cache_write);
        break;
    default:
        UNIT_CHECK(m->price_cache_read == -1
                   && m->price_cache_write == -1, "unpriced record");
    }
}


/*
 * A channel serving chat, image and voice models with token prices 0 and
 * unit prices: the chat model keeps its token prices and is free (no
 * unit price of a kind it is not), each other model has its kind's unit
 * price alone and is not free; tools and vision (the channel's
 * capabilities, the "4o" of gpt-4o-mini-tts) are the chat model's only,
 * and known absent on the others.
 */
static void
test_mixed_record(const airouter_catalog_t *cat,
    const airouter_catalog_model_t *m)
{
    const char                      *id;
    const airouter_unit_price_t     *u;

    id = airouter_catalog_model_id(cat, m);
    u = &m->price_unit;

    if (strcmp(id, "gpt-4o-mini") == 0) {
        UNIT_CHECK((m->flags & AIROUTER_MODEL_FREE)
                   && !(m->flags & AIROUTER_MODEL_UNIT_PRICED)
                   && u->image == -1 && u->second == -1
                   && u->character == -1 && m->price_usd == 0
                   && (m->caps & AIROUTER_CAP_TOOLS)
                   && (m->caps & AIROUTER_CAP_VISION),
                   "mixed chat: free, no unit price, tools %x %x %g",
                   m->flags, m->caps, u->image);
        return;
    }

    UNIT_CHECK(!(m->flags & AIROUTER_MODEL_FREE)
               && (m->flags & AIROUTER_MODEL_UNIT_PRICED)
               && !(m->caps & AIROUTER_CAP_FEATURES)
               && (m->caps_known & AIROUTER_CAP_TOOLS)
               && (m->caps_known & AIROUTER_CAP_VISION),
               "mixed %s: priced, no features %x %x %x", id, m->flags,
               m->caps, m->caps_known);

    if (strcmp(id, "dall-e-3") == 0) {
        UNIT_CHECK(test_near(u->image, 0.04) && u->second == -1
                   && u->character == -1,
                   "mixed dall-e-3 %g %g %g", u->image, u->second,
                   u->character);

    } else if (strcmp(id, "whisper-1") == 0) {
        UNIT_CHECK(u->image == -1 && test_near(u->second, 0.0001)
                   && u->character == -1,
                   "mixed whisper-1 %g %g %g", u->image, u->second,
                   u->character);

    } else {
        UNIT_CHECK(strcmp(id, "gpt-4o-mini-tts") == 0 && u->image == -1
                   && u->second == -1 && test_near(u->character, 0.00002),
                   "mixed %s %g %g %g", id, u->image, u->second,
                   u->character);
    }
}


/*
 * cost_per_unit reaches the catalogue record in the channel's currency: a
 * model priced per image alone is priced and not free; a price file's
 * unit prices fill only what the channel left unsaid, in its currency;
 * a negative or non-number price fails with its position.
 */
static void
test_unit_prices(void)
{
    airouter_diag_t                  diag;
    airouter_config_t               *cf;
    airouter_unit_price_t            u;
    airouter_model_info_t            info;
    const airouter_channel_t        *ch;
    airouter_catalog_builder_t      *b;

    memset(&diag, 0, sizeof(diag));

    test_fails(DATA "bad_unit_price.yaml",
               DATA "bad_unit_price.yaml:7:14: \"channels[0].cost_per_unit."
               "image\" must be");
    test_fails(DATA "bad_unit_price_type.yaml",
               DATA "bad_unit_price_type.yaml:6:15: \"channels[0]."
               "cost_per_unit.second\" must be");

    cf = test_load(DATA "unit_prices.yaml", &diag);
    if (cf == NULL) {
        return;
    }

    ch = airouter_config_channel(cf, "images");
    UNIT_CHECK(ch && ch->has_unit_cost && !ch->has_cost
               && test_near(ch->cost_unit.image, 0.04)
               && ch->cost_unit.request == -1 && ch->cost_unit.second == -1
               && ch->cost_unit.character == -1, "images: per image");
    ch = airouter_config_channel(cf, "plain");
    UNIT_CHECK(ch && !ch->has_unit_cost && ch->cost_unit.image == -1,
               "plain: not said");

    b = test_builder(cf);

    /* a USD price file's per-second price: voices is in CNY, ignored */
    memset(&info, 0, sizeof(info));
    info.id = "whisper-1";
    airouter_unit_price_init(&u);
    u.second = 0.0001;
    u.request = 0.5;
    airouter_catalog_info_units(&info, &u, "USD");
    UNIT_CHECK(info.has_units && test_near(info.units.second, 0.0001),
               "info filled");
    airouter_catalog_builder_add_configured(b, 1, &info);

    /* a CNY one fills the request price the channel left unsaid, and not
     * the second price it said */
    memset(&info, 0, sizeof(info));
    info.id = "whisper-1";
    u.request = 0.01;
    u.second = 9;
    airouter_catalog_info_units(&info, &u, "CNY");
    airouter_catalog_builder_add_configured(b, 1, &info);

    /* units first: a token price in another currency is not taken */
    airouter_catalog_info_price(&info, 1, 1, -1, -1, "USD");
    UNIT_CHECK(!info.has_price, "token price in another currency");

    test_records(b, test_unit_record);
    airouter_config_free(cf);
}


static void
test_unit_record(const airouter_catalog_t *cat,
    const airouter_catalog_model_t *m)
{
    switch (m->channel) {
    case 0:
        /* priced per image alone: priced, not free, ranked by it */
        UNIT_CHECK((m->flags & AIROUTER_MODEL_UNIT_PRICED)
                   && !(m->flags & AIROUTER_MODEL_PRICED)
                   && !(m->flags & AIROUTER_MODEL_FREE)
                   && test_near(m->price_unit.image, 0.04)
                   && m->price_unit.request == -1
                   && test_near(m->price_usd, 0.04),
                   "dall-e-3 record %x %g %g", m->flags,
                   m->price_unit.image, m->price_usd);
        break;
    case 1:
        UNIT_CHECK(strcmp(airouter_catalog_model_currency(cat, m),
                          "CNY") == 0
                   && !(m->flags & AIROUTER_MODEL_FREE),
                   "voices record");
        /* each voice model has its own kind's unit price only */
        if (strcmp(airouter_catalog_model_id(cat, m), "whisper-1") == 0) {
            UNIT_CHECK(test_near(m->price_unit.second, 0.0007)
                       && test_near(m->price_unit.request, 0.01)
                       && m->price_unit.character == -1,
                       "whisper-1 %g %g %g", m->price_unit.second,
                       m->price_unit.request, m->price_unit.character);

        } else {
            UNIT_CHECK(test_near(m->price_unit.character, 0.0001)
                       && m->price_unit.second == -1,
                       "tts-1 %g %g", m->price_unit.character,
                       m->price_unit.second);
        }
        break;
    case 4:
        test_mixed_record(cat, m);
        break;
    case 2:
        /* per request beside token prices */
        UNIT_CHECK((m->flags & AIROUTER_MODEL_PRICED)
                   && (m->flags & AIROUTER_MODEL_UNIT_PRICED)
                   && test_near(m->price_unit.request, 0.005)
                   && test_near(m->price_usd, 2e-6),
                   "sonar record");
        break;
    default:
        UNIT_CHECK(!(m->flags & AIROUTER_MODEL_UNIT_PRICED)
                   && m->price_unit.image == -1, "unpriced record");
    }
}


/* A builder with the configuration's channels and models in it. */
static airouter_catalog_builder_t *
test_builder(airouter_config_t *cf)
{
    airouter_catalog_builder_t  *b;

    b = airouter_catalog_builder_create(cf);
    UNIT_CHECK(b && airouter_catalog_builder_add_config(b) == 0, "config");

    return b;
}


/* b's catalogue built and opened, check() on each record; b is gone. */
static void
test_records(airouter_catalog_builder_t *b,
    void (*check)(const airouter_catalog_t *cat,
                  const airouter_catalog_model_t *m))
{
    void                      *blob;
    size_t                     len;
    uint32_t                   i;
    const airouter_catalog_t  *cat;

    blob = airouter_catalog_builder_finish(b, &len);
    cat = blob ? airouter_catalog_open(blob, len) : NULL;
    UNIT_CHECK(cat != NULL, "catalogue");

    for (i = 0; cat && i < cat->nmodels; i++) {
        check(cat, airouter_catalog_model(cat, i));
    }

    airouter_catalog_blob_free(blob);
    airouter_catalog_builder_destroy(b);
}


/*
 * Values that reach HTTP requests, answers and logs: a control character
 * anywhere (quoted escapes, a ${ENV} value, a "|" block's last line
 * break, a key of a mapping) is refused with its position; a URL with a
 * space and a header name that is not a token too.  The value itself is
 * never quoted back (it may be a key).
 */
static void
test_control_chars(void)
{
#define CTL  DATA "ctl/"
#define WHY  ": refused, as it would reach an HTTP header or a log line"

    test_fails(CTL "key_quoted.yaml",
               CTL "key_quoted.yaml:4:14: \"channels[0].api_key\" contains "
               "a control character (CR at byte 5)" WHY);

    setenv("AIROUTER_TEST_CTL_KEY", "sk-x\nX-Injected: yes", 1);
    test_fails(CTL "key_env.yaml",
               CTL "key_env.yaml:4:14: \"channels[0].api_key\" contains "
               "a control character (LF at byte 5)" WHY);
    unsetenv("AIROUTER_TEST_CTL_KEY");

    test_fails(CTL "key_block.yaml",
               CTL "key_block.yaml:4:14: \"channels[0].api_key\" contains "
               "a control character (LF at byte 5)" WHY "; a \"|\" block "
               "keeps its last line break: write \"|-\"");
    test_fails(CTL "keys_list.yaml",
               CTL "keys_list.yaml:4:25: \"channels[0].api_keys[1]\" "
               "contains a control character (TAB at byte 4)" WHY);
    test_fails(CTL "url_crlf.yaml",
               CTL "url_crlf.yaml:3:15: \"channels[0].base_url\" contains "
               "a control character (CR at byte 22)" WHY);
    test_fails(CTL "url_space.yaml",
               CTL "url_space.yaml:3:15: \"channels[0].base_url\" must not "
               "contain a space or a byte outside ASCII (at byte 22): "
               "percent-encode it");
    test_fails(CTL "auth_header.yaml",
               CTL "auth_header.yaml:5:18: \"providers.p.auth_header\" must "
               "be an HTTP header name (letters, digits and "
               "!#$%&'*+-.^_`|~), got a \":\" at byte 6");
    test_fails(CTL "provider_name.yaml",
               CTL "provider_name.yaml:2:3: a key in \"providers\" contains "
               "a control character (LF at byte 2)" WHY);
    test_fails(CTL "alias_key.yaml",
               CTL "alias_key.yaml:5:7: a key in "
               "\"channels[0].model_aliases\" contains a control character "
               "(CR at byte 2)" WHY);
    test_fails(CTL "channel_id.yaml",
               CTL "channel_id.yaml:2:9: \"channels[0].id\" contains a "
               "control character (0x7f at byte 2)" WHY);
    test_fails(CTL "client_key.yaml",
               CTL "client_key.yaml:4:13: \"auth.api_keys[0].name\" "
               "contains a control character (LF at byte 5)" WHY);

#undef CTL
#undef WHY
}


/*
 * routing.hedging and the keys' "hedge": values, defaults, every invalid
 * value refused at its position, and who may be hedged.
 */
/*
 * A channel's supported_parameters (own, else its provider's): bits; its
 * data_collection (own, else its provider's, else deny when local).
 */
static void
test_supported_parameters(void)
{
    airouter_diag_t      diag;
    airouter_config_t   *cf;
    test_warnings_t      w;

    memset(&diag, 0, sizeof(diag));
    memset(&w, 0, sizeof(w));
    diag.warn = test_warn;
    diag.ctx = &w;

    cf = test_load(DATA "supported_parameters.yaml", &diag);
    if (cf != NULL) {
        UNIT_CHECK(cf->channels[0].params
                   == (AIROUTER_PARAM_BIT(SEED) | AIROUTER_PARAM_BIT(TOOLS)
                       | AIROUTER_PARAM_BIT(MAX_TOKENS)),
                   "own list %x", cf->channels[0].params);
        UNIT_CHECK(cf->channels[0].supported_parameters.n == 4, "as written");
        UNIT_CHECK(cf->channels[1].params
                   == (AIROUTER_PARAM_BIT(TEMPERATURE)
                       | AIROUTER_PARAM_BIT(LOGPROBS)),
                   "the provider's %x", cf->channels[1].params);
        UNIT_CHECK(cf->channels[2].params == 0
                   && cf->channels[2].supported_parameters.n == 0,
                   "not said");
        /* data_collection: own, else the provider's, else local's deny */
        UNIT_CHECK(cf->nchannels == 6, "channels %zu", cf->nchannels);
        UNIT_CHECK(cf->channels[0].data_collection == 1, "local: deny");
        UNIT_CHECK(cf->channels[1].data_collection == 1, "provider's deny");
        UNIT_CHECK(cf->channels[3].data_collection == 0, "own allow wins");
        UNIT_CHECK(cf->channels[4].data_collection == 1, "own deny");
        UNIT_CHECK(cf->channels[5].data_collection == 0,
                   "remote, not said: allow");
        UNIT_CHECK(w.n == 1 && strstr(w.last, "\"frobnicate\"") != NULL
                   && strstr(w.last, "channel \"own\"") != NULL,
                   "an unknown name warns: %d %s", w.n, w.last);
        airouter_config_free(cf);
    }

    test_model_map();

    test_fails(DATA "supported_parameters_bad.yaml",
               DATA "supported_parameters_bad.yaml:4:27: ");
    test_fails(DATA "data_collection_bad.yaml",
               DATA "data_collection_bad.yaml:4:22: \"channels[0]."
               "data_collection\" must be allow or deny, got \"sometimes\"");
}


/*
 * configured_models entries written as maps ("- name: x" and its own
 * supported_parameters) beside plain names; bad ones fail with
 * file:line:column.
 */
static void
test_model_map(void)
{
    airouter_diag_t               diag;
    airouter_config_t            *cf;
    test_warnings_t               w;
    const airouter_channel_t     *ch;
    const airouter_model_conf_t  *mc;

    memset(&diag, 0, sizeof(diag));
    memset(&w, 0, sizeof(w));
    diag.warn = test_warn;
    diag.ctx = &w;

    cf = test_load(DATA "model_map.yaml", &diag);
    if (cf != NULL) {
        ch = &cf->channels[0];
        UNIT_CHECK(ch->configured_models.n == 5
                   && strcmp(ch->configured_models.items[0], "plain-model")
                      == 0
                   && strcmp(ch->configured_models.items[1], "mapped-model")
                      == 0
                   && strcmp(ch->configured_models.items[3], "says-nothing")
                      == 0
                   && strcmp(ch->configured_models.items[4], "single") == 0,
                   "every name is a configured model: %zu",
                   ch->configured_models.n);
        UNIT_CHECK(ch->nmodels == 3, "three maps: %zu", ch->nmodels);

        mc = airouter_config_model_conf(ch, "mapped-model", 12);
        UNIT_CHECK(mc != NULL && mc->params_set
                   && mc->params == (AIROUTER_PARAM_BIT(SEED)
                                     | AIROUTER_PARAM_BIT(LOGPROBS))
                   && mc->pos.line == 7,
                   "its own list: %x", mc ? mc->params : 0);
        UNIT_CHECK(airouter_config_model_conf(ch, "mapped-model-x", 14)
                   == NULL
                   && airouter_config_model_conf(ch, "mapped", 6) == NULL
                   && airouter_config_model_conf(ch, "plain-model", 11)
                      == NULL,
                   "exact names only");

        mc = airouter_config_model_conf(ch, "says-none", 9);
        UNIT_CHECK(mc != NULL && mc->params_set && mc->params == 0,
                   "an empty list says none");
        mc = airouter_config_model_conf(ch, "says-nothing", 12);
        UNIT_CHECK(mc != NULL && !mc->params_set, "no list says nothing");

        UNIT_CHECK(ch->params == AIROUTER_PARAM_BIT(TEMPERATURE),
                   "the channel's own list stays");

        UNIT_CHECK(w.n == 1 && strstr(w.last, "\"frobnicate\"") != NULL
                   && strstr(w.last, "model \"mapped-model\"") != NULL
                   && strstr(w.last, "model_map.yaml:7:") != NULL,
                   "an unknown name warns at the model: %d %s", w.n, w.last);

        ch = &cf->channels[1];
        mc = airouter_config_model_conf(ch, "b", 1);
        UNIT_CHECK(ch->configured_models.n == 2 && mc != NULL
                   && mc->params == AIROUTER_PARAM_BIT(TOOLS),
                   "flow style");
        airouter_config_free(cf);
    }

    test_fails(DATA "model_map_noname.yaml",
               DATA "model_map_noname.yaml:5:9: "
               "\"channels[0].configured_models[0]\" has no \"name\"");
    test_fails(DATA "model_map_twice.yaml",
               DATA "model_map_twice.yaml:6:9: "
               "\"channels[0].configured_models[1]\": model \"m\" is written "
               "as a map twice (first at " DATA "model_map_twice.yaml:5:9)");
    test_fails(DATA "model_map_params.yaml",
               DATA "model_map_params.yaml:6:31: ");
    test_fails(DATA "model_map_badname.yaml",
               DATA "model_map_badname.yaml:5:15: ");
    test_fails(DATA "model_map_seq.yaml",
               DATA "model_map_seq.yaml:5:9: ");
}


static void
test_hedging(void)
{
    airouter_diag_t      diag;
    airouter_config_t   *cf;
    airouter_hedging_t   h;

    memset(&diag, 0, sizeof(diag));

    cf = test_load(DATA "hedging.yaml", &diag);
    if (cf != NULL) {
        UNIT_CHECK(cf->routing.hedging.enabled == 1, "enabled");
        UNIT_CHECK(cf->routing.hedging.after == 250, "after %ld",
                   cf->routing.hedging.after);
        UNIT_CHECK(cf->routing.hedging.max_hedges == 1, "max_hedges");
        UNIT_CHECK(cf->routing.hedging.bill_loser == 0, "bill_loser");
        UNIT_CHECK(cf->auth.nkeys == 3, "keys %zu", cf->auth.nkeys);
        UNIT_CHECK(cf->auth.keys[0].hedge == -1, "default key's hedge %d",
                   cf->auth.keys[0].hedge);
        UNIT_CHECK(cf->auth.keys[1].hedge == 1, "eager %d",
                   cf->auth.keys[1].hedge);
        UNIT_CHECK(cf->auth.keys[2].hedge == 0, "frugal %d",
                   cf->auth.keys[2].hedge);
        airouter_config_free(cf);
    }

    cf = test_load(DATA "hedging_p95.yaml", &diag);
    if (cf != NULL) {
        UNIT_CHECK(cf->routing.hedging.enabled == 1, "p95 enabled");
        UNIT_CHECK(cf->routing.hedging.after == 0, "p95 after %ld",
                   cf->routing.hedging.after);
        UNIT_CHECK(cf->routing.hedging.max_hedges == 1, "default hedges");
        UNIT_CHECK(cf->routing.hedging.bill_loser == 1, "default bill");
        airouter_config_free(cf);
    }

    cf = test_load(DATA "hedging_seconds.yaml", &diag);
    if (cf != NULL) {
        UNIT_CHECK(cf->routing.hedging.after == 1500, "1.5s is %ld ms",
                   cf->routing.hedging.after);
        airouter_config_free(cf);
    }

    cf = test_load(DATA "urls.yaml", &diag);
    if (cf != NULL) {
        UNIT_CHECK(cf->routing.hedging.enabled == 0, "off by default");
        airouter_config_free(cf);
    }

    test_fails(DATA "hedging_bad_after.yaml",
               DATA "hedging_bad_after.yaml:4:12: \"routing.hedging.after\" "
               "must be \"p95\" or a duration (\"250ms\", \"1.5s\"), got "
               "\"soon\"");
    test_fails(DATA "hedging_zero_after.yaml",
               DATA "hedging_zero_after.yaml:3:12: \"routing.hedging.after\" "
               "must be from 1ms to 600s, got \"0ms\"");
    test_fails(DATA "hedging_bad_bill.yaml",
               DATA "hedging_bad_bill.yaml:3:17: "
               "\"routing.hedging.bill_loser\" must be \"prompt\" or "
               "\"none\", got \"everything\"");
    test_fails(DATA "hedging_max.yaml",
               DATA "hedging_max.yaml:3:17: \"routing.hedging.max_hedges\" "
               "must be between 0 and 1, got 2");
    test_fails(DATA "hedging_key.yaml",
               DATA "hedging_key.yaml:6:14: \"auth.api_keys[0].hedge\" "
               "must be");

    memset(&h, 0, sizeof(h));
    h.max_hedges = 1;

    /* off: nobody, whatever they ask */
    UNIT_CHECK(!airouter_hedging_wanted(&h, 1, 1, 1, 0), "disabled");

    h.enabled = 1;

    /* the default: streams, and chat without tools */
    UNIT_CHECK(airouter_hedging_wanted(&h, -1, -1, 1, 0), "stream");
    UNIT_CHECK(airouter_hedging_wanted(&h, -1, -1, 0, 0), "plain chat");
    UNIT_CHECK(airouter_hedging_wanted(&h, -1, -1, 1, 1), "tool stream");
    UNIT_CHECK(!airouter_hedging_wanted(&h, -1, -1, 0, 1), "tools");

    /* the key's word, then the request's */
    UNIT_CHECK(!airouter_hedging_wanted(&h, 0, -1, 1, 0), "key says no");
    UNIT_CHECK(airouter_hedging_wanted(&h, 1, -1, 0, 1), "key says yes");
    UNIT_CHECK(airouter_hedging_wanted(&h, 0, 1, 0, 0), "request yes");
    UNIT_CHECK(!airouter_hedging_wanted(&h, 1, 0, 1, 0), "request no");

    h.max_hedges = 0;
    UNIT_CHECK(!airouter_hedging_wanted(&h, 1, 1, 1, 0), "no hedge allowed");
}
