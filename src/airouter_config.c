/*
 * The configuration schema declared in airouter_config.h: what the keys of
 * router_config.yaml and of the providers.yaml beside it mean.  Tables of
 * known keys and the handlers of the structured ones, walked by the
 * generic YAML walker (airouter_yaml.c: positions, ${ENV}, typed readers),
 * then resolved (channels to providers, strategies, auth keys).  Called by
 * the module's directive handler, the unit tests and the fuzz target.
 *
 * Pure C, no nginx types: every string and array lives in the config's
 * arena, so a failed load is undone by destroying the arena.
 *
 * Defaults chosen here (the seed template leaves them open):
 *   channel priority 1 (lower is preferred), weight 100, enabled, currency
 *   "USD"; routing as in the seed plus request_deadline 120 s and
 *   blacklist_period 3600 s; error lists default to the seed's lists;
 *   tasks.model_discovery enabled, every 6 h, run on start-up.
 * A YAML null ("key:" or "~") means "not set": the default stays.
 * Empty strings in lists (e.g. from an unset ${ENV}) are dropped.
 */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "airouter_arena.h"
#include "airouter_config.h"
#include "airouter_controls.h"
#include "airouter_dialect.h"
#include "airouter_yaml.h"


/* Positions kept aside while channels wait for providers.yaml. */
typedef struct {
    airouter_pos_t                  id;
    airouter_pos_t                  provider;
} airouter_config_chpos_t;


/* The schema's state during a load: the walker's data. */
typedef struct {
    airouter_config_t              *cf;
    airouter_config_chpos_t        *chpos;      /* one per channel */

    /* auth, assembled once the whole file is read */
    char                           *api_token;
    airouter_apikey_t              *keys;
    airouter_pos_t                 *key_pos;
    size_t                          nkeys;
    airouter_pos_t                  auth_enabled_pos;

    airouter_pos_t                  strategy_pos;
} airouter_config_ctx_t;


typedef struct {
    const char                     *name;
    size_t                          n;
    airouter_weight_t               w[5];
} airouter_config_builtin_t;


static int airouter_config_owned(airouter_yaml_t *y, const char *path,
    const char *directive);
static int airouter_config_defaults(airouter_yaml_t *y);
static int airouter_config_load_providers_file(airouter_yaml_t *y);
static char *airouter_config_beside(airouter_yaml_t *y, const char *name);
static int airouter_config_finish(airouter_yaml_t *y);
static int airouter_config_resolve_channel(airouter_yaml_t *y,
    airouter_channel_t *ch, airouter_config_chpos_t *cp);
static int airouter_config_finish_auth(airouter_yaml_t *y);
static int airouter_config_finish_strategy(airouter_yaml_t *y);

static int airouter_config_provider(airouter_yaml_t *y, void *elem,
    int added, yaml_node_t *value, const char *path);
static int airouter_config_providers(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj);
static int airouter_config_channels(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj);
static int airouter_config_channel_id(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj);
static int airouter_config_channel_provider(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_channel_key(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj);
static int airouter_config_channel_keys(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_channel_models(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_model_params(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj);
static void airouter_config_params_check(airouter_yaml_t *y,
    const airouter_pos_t *pos, const char *what,
    const airouter_strlist_t *list);
static int airouter_config_channel_aliases(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_channel_balance(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_balance_kind_field(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_channel_cost(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_channel_unit_cost(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_channel_interval(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_adapter_class(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_provider_api(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_channel_api(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_api(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, int *dialect);
static int airouter_config_provider_data(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_channel_data(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_data_collection(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, int *out);
static int airouter_config_auth_header(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_auth_enabled(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_auth_token(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj);
static int airouter_config_auth_keys(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj);
static int airouter_config_hedge_after(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_bill_loser(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_default_strategy(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_strategy_entry(airouter_yaml_t *y, void *elem,
    int added, yaml_node_t *value, const char *path);
static int airouter_config_strategies(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj);
static int airouter_config_strategy_weights(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, airouter_strategy_t *st);
static int airouter_config_weight_field(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_weight_order(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj);

static int airouter_config_url_versioned(const char *url);
static int airouter_config_url_loopback(const char *url);


static const char  *airouter_config_score_names[AIROUTER_SCORE_N] = {
    "cost_score",
    "free_score",
    "local_score",
    "parameter_score",
    "context_score",
    "quality_score",
    "speed_score",
    "reliability_score"
};


/* The seed template's six strategies; sorting_strategies may override. */
static const airouter_config_builtin_t  airouter_config_builtins[] = {
    { "cost_first", 4, {
        { AIROUTER_SCORE_COST, 0.4, 1 },
        { AIROUTER_SCORE_PARAMETER, 0.25, 1 },
        { AIROUTER_SCORE_CONTEXT, 0.2, 1 },
        { AIROUTER_SCORE_SPEED, 0.15, 1 } } },
    { "free_first", 4, {
        { AIROUTER_SCORE_FREE, 0.5, 1 },
        { AIROUTER_SCORE_COST, 0.3, 1 },
        { AIROUTER_SCORE_SPEED, 0.15, 1 },
        { AIROUTER_SCORE_RELIABILITY, 0.05, 1 } } },
    { "local_first", 4, {
        { AIROUTER_SCORE_LOCAL, 0.6, 1 },
        { AIROUTER_SCORE_SPEED, 0.25, 1 },
        { AIROUTER_SCORE_COST, 0.1, 1 },
        { AIROUTER_SCORE_RELIABILITY, 0.05, 1 } } },
    { "balanced", 5, {
        { AIROUTER_SCORE_COST, 0.3, 1 },
        { AIROUTER_SCORE_PARAMETER, 0.25, 1 },
        { AIROUTER_SCORE_CONTEXT, 0.2, 1 },
        { AIROUTER_SCORE_SPEED, 0.15, 1 },
        { AIROUTER_SCORE_RELIABILITY, 0.1, 1 } } },
    { "speed_optimized", 4, {
        { AIROUTER_SCORE_SPEED, 0.4, 1 },
        { AIROUTER_SCORE_COST, 0.3, 1 },
        { AIROUTER_SCORE_PARAMETER, 0.2, 1 },
        { AIROUTER_SCORE_CONTEXT, 0.1, 1 } } },
    { "quality_optimized", 4, {
        { AIROUTER_SCORE_PARAMETER, 0.4, 1 },
        { AIROUTER_SCORE_CONTEXT, 0.3, 1 },
        { AIROUTER_SCORE_QUALITY, 0.2, 1 },
        { AIROUTER_SCORE_COST, 0.1, 1 } } }
};

#define AIROUTER_CONFIG_NBUILTINS                                             \
    (sizeof(airouter_config_builtins) / sizeof(airouter_config_builtins[0]))


static const char  *airouter_config_permanent_errors[] = {
    "quota_exceeded", "invalid_api_key", "insufficient_credits"
};

static const char  *airouter_config_temporary_errors[] = {
    "rate_limit_exceeded", "timeout", "server_error"
};


/*
 * server: nginx listens, limits bodies and adds headers itself.  The port
 * is still checked as a number (a max above 0 asks for that), so that a
 * typo shows up where it was made.
 */
static const airouter_yaml_field_t  airouter_config_server_fields[] = {
    AIROUTER_YAML_OWN("host", "listen"),
    { "port", AIROUTER_YAML_OWNED, 0, 0, 65535, NULL, NULL, "listen" },
    AIROUTER_YAML_OWN("cors_origins", "add_header Access-Control-Allow-Origin"),
    AIROUTER_YAML_OWN("max_request_size", "client_max_body_size"),
    AIROUTER_YAML_SKIP("debug"),
    AIROUTER_YAML_SKIP("request_timeout"),
    AIROUTER_YAML_LAST
};

static const airouter_yaml_field_t  airouter_config_admin_fields[] = {
    AIROUTER_YAML_VAL("enabled", AIROUTER_YAML_BOOL, airouter_auth_t,
                      admin_enabled),
    AIROUTER_YAML_VAL("admin_token", AIROUTER_YAML_STR, airouter_auth_t,
                      admin_token),
    AIROUTER_YAML_LAST
};

static const airouter_yaml_field_t  airouter_config_auth_fields[] = {
    AIROUTER_YAML_FN("enabled", airouter_config_auth_enabled),
    AIROUTER_YAML_FN("api_token", airouter_config_auth_token),
    AIROUTER_YAML_FN("api_keys", airouter_config_auth_keys),
    { "admin", AIROUTER_YAML_MAP, 0, 0, 0, airouter_config_admin_fields,
      NULL, NULL },
    AIROUTER_YAML_LAST
};

static const airouter_yaml_field_t  airouter_config_apikey_fields[] = {
    AIROUTER_YAML_VAL("name", AIROUTER_YAML_STR, airouter_apikey_t, name),
    AIROUTER_YAML_VAL("key", AIROUTER_YAML_STR, airouter_apikey_t, token),
    AIROUTER_YAML_VAL("token", AIROUTER_YAML_STR, airouter_apikey_t, token),
    AIROUTER_YAML_VAL("allowed_tags", AIROUTER_YAML_TAGS, airouter_apikey_t,
                      allowed_tags),
    AIROUTER_YAML_VAL("allowed_models", AIROUTER_YAML_LIST, airouter_apikey_t,
                      allowed_models),
    AIROUTER_YAML_NUM("daily_budget", AIROUTER_YAML_DOUBLE, airouter_apikey_t,
                      daily_budget, 0, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_NUM("monthly_budget", AIROUTER_YAML_DOUBLE, airouter_apikey_t,
                      monthly_budget, 0, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_NUM("rate_limit", AIROUTER_YAML_INT, airouter_apikey_t,
                      rate_limit, 0, INT_MAX),
    AIROUTER_YAML_VAL("allow_request_routing", AIROUTER_YAML_BOOL,
                      airouter_apikey_t, allow_request_routing),
    AIROUTER_YAML_VAL("hedge", AIROUTER_YAML_BOOL, airouter_apikey_t, hedge),
    AIROUTER_YAML_LAST
};

static const airouter_yaml_field_t  airouter_config_provider_fields[] = {
    AIROUTER_YAML_SKIP("name"),
    AIROUTER_YAML_FN("adapter_class", airouter_config_adapter_class),
    AIROUTER_YAML_FN("api", airouter_config_provider_api),
    AIROUTER_YAML_FN("data_collection", airouter_config_provider_data),
    AIROUTER_YAML_VAL("responses_api", AIROUTER_YAML_BOOL,
                      airouter_provider_t, responses_api),
    AIROUTER_YAML_SKIP("description"),
    AIROUTER_YAML_VAL("display_name", AIROUTER_YAML_STR, airouter_provider_t,
                      display_name),
    AIROUTER_YAML_VAL("base_url", AIROUTER_YAML_URL, airouter_provider_t,
                      base_url),
    AIROUTER_YAML_VAL("auth_type", AIROUTER_YAML_STR, airouter_provider_t,
                      auth_type),
    AIROUTER_YAML_FN("auth_header", airouter_config_auth_header),
    AIROUTER_YAML_NUM("rate_limit", AIROUTER_YAML_INT, airouter_provider_t,
                      rate_limit, 0, INT_MAX),
    AIROUTER_YAML_VAL("capabilities", AIROUTER_YAML_LIST, airouter_provider_t,
                      capabilities),
    AIROUTER_YAML_VAL("supported_parameters", AIROUTER_YAML_LIST,
                      airouter_provider_t, supported_parameters),
    AIROUTER_YAML_VAL("local", AIROUTER_YAML_BOOL, airouter_provider_t, local),
    AIROUTER_YAML_VAL("free", AIROUTER_YAML_BOOL, airouter_provider_t, free),
    AIROUTER_YAML_LAST
};

static const airouter_yaml_field_t  airouter_config_cost_fields[] = {
    AIROUTER_YAML_NUM("input", AIROUTER_YAML_DOUBLE, airouter_channel_t,
                      cost_input, 0, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_NUM("output", AIROUTER_YAML_DOUBLE, airouter_channel_t,
                      cost_output, 0, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_NUM("cache_read", AIROUTER_YAML_DOUBLE, airouter_channel_t,
                      cost_cache_read, 0, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_NUM("cache_write", AIROUTER_YAML_DOUBLE, airouter_channel_t,
                      cost_cache_write, 0, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_LAST
};

/* the prices a channel charges per unit rather than per token */
static const airouter_yaml_field_t  airouter_config_unit_cost_fields[] = {
    AIROUTER_YAML_NUM("request", AIROUTER_YAML_DOUBLE, airouter_channel_t,
                      cost_unit.request, 0, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_NUM("image", AIROUTER_YAML_DOUBLE, airouter_channel_t,
                      cost_unit.image, 0, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_NUM("second", AIROUTER_YAML_DOUBLE, airouter_channel_t,
                      cost_unit.second, 0, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_NUM("character", AIROUTER_YAML_DOUBLE, airouter_channel_t,
                      cost_unit.character, 0, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_LAST
};

static const airouter_yaml_field_t  airouter_config_alias_fields[] = {
    AIROUTER_YAML_VAL("alias", AIROUTER_YAML_STR, airouter_alias_t, alias),
    AIROUTER_YAML_VAL("target", AIROUTER_YAML_STR, airouter_alias_t, target),
    AIROUTER_YAML_LAST
};

/* a check less often than a minute apart would only load the provider */
static const airouter_yaml_field_t  airouter_config_balance_fields[] = {
    AIROUTER_YAML_FN("kind", airouter_config_balance_kind_field),
    AIROUTER_YAML_NUM("interval", AIROUTER_YAML_LONG, airouter_balance_conf_t,
                      interval, 60, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_NUM("low_threshold", AIROUTER_YAML_DOUBLE,
                      airouter_balance_conf_t, low_threshold, 0,
                      AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_VAL("hold", AIROUTER_YAML_BOOL, airouter_balance_conf_t,
                      hold),
    AIROUTER_YAML_VAL("url", AIROUTER_YAML_STR, airouter_balance_conf_t, url),
    AIROUTER_YAML_VAL("path", AIROUTER_YAML_STR, airouter_balance_conf_t,
                      path),
    AIROUTER_YAML_VAL("currency", AIROUTER_YAML_STR, airouter_balance_conf_t,
                      currency),
    AIROUTER_YAML_LAST
};

static const char  *airouter_config_balance_kinds[AIROUTER_BALANCE_N] = {
    "none", "openrouter", "deepseek", "siliconflow", "moonshot", "oneapi",
    "json"
};

static const airouter_yaml_field_t  airouter_config_channel_fields[] = {
    AIROUTER_YAML_FN("id", airouter_config_channel_id),
    AIROUTER_YAML_VAL("name", AIROUTER_YAML_STR, airouter_channel_t, name),
    AIROUTER_YAML_FN("provider", airouter_config_channel_provider),
    AIROUTER_YAML_VAL("base_url", AIROUTER_YAML_URL, airouter_channel_t,
                      base_url),
    AIROUTER_YAML_VAL("model_name", AIROUTER_YAML_STR, airouter_channel_t,
                      model_name),
    AIROUTER_YAML_FN("api_key", airouter_config_channel_key),
    AIROUTER_YAML_FN("api_keys", airouter_config_channel_keys),
    AIROUTER_YAML_VAL("enabled", AIROUTER_YAML_BOOL, airouter_channel_t,
                      enabled),
    AIROUTER_YAML_NUM("priority", AIROUTER_YAML_INT, airouter_channel_t,
                      priority, 0, 1000000),
    AIROUTER_YAML_NUM("weight", AIROUTER_YAML_DOUBLE, airouter_channel_t,
                      weight, 0, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_VAL("tags", AIROUTER_YAML_TAGS, airouter_channel_t, tags),
    AIROUTER_YAML_FN("configured_models", airouter_config_channel_models),
    AIROUTER_YAML_FN("model_aliases", airouter_config_channel_aliases),
    AIROUTER_YAML_FN("cost_per_token", airouter_config_channel_cost),
    AIROUTER_YAML_FN("cost_per_unit", airouter_config_channel_unit_cost),
    AIROUTER_YAML_VAL("currency", AIROUTER_YAML_STR, airouter_channel_t,
                      currency),
    AIROUTER_YAML_NUM("daily_limit", AIROUTER_YAML_LONG, airouter_channel_t,
                      daily_limit, 0, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_NUM("daily_token_limit", AIROUTER_YAML_LONG,
                      airouter_channel_t, daily_token_limit, 0,
                      AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_FN("balance", airouter_config_channel_balance),
    AIROUTER_YAML_VAL("capabilities", AIROUTER_YAML_LIST, airouter_channel_t,
                      capabilities),
    AIROUTER_YAML_VAL("supported_parameters", AIROUTER_YAML_LIST,
                      airouter_channel_t, supported_parameters),
    AIROUTER_YAML_VAL("local", AIROUTER_YAML_BOOL, airouter_channel_t, local),
    AIROUTER_YAML_VAL("free", AIROUTER_YAML_BOOL, airouter_channel_t, free),
    AIROUTER_YAML_FN("discovery_interval_hours",
                     airouter_config_channel_interval),
    AIROUTER_YAML_VAL("models_file", AIROUTER_YAML_STR, airouter_channel_t,
                      models_file),
    AIROUTER_YAML_FN("api", airouter_config_channel_api),
    AIROUTER_YAML_FN("data_collection", airouter_config_channel_data),
    AIROUTER_YAML_VAL("responses_api", AIROUTER_YAML_BOOL,
                      airouter_channel_t, responses_api),
    AIROUTER_YAML_LAST
};

/* a configured model written as a map */
static const airouter_yaml_field_t  airouter_config_model_fields[] = {
    AIROUTER_YAML_VAL("name", AIROUTER_YAML_STR, airouter_model_conf_t, name),
    AIROUTER_YAML_FN("supported_parameters", airouter_config_model_params),
    AIROUTER_YAML_LAST
};

static const airouter_yaml_field_t  airouter_config_weight_fields[] = {
    AIROUTER_YAML_FN("field", airouter_config_weight_field),
    AIROUTER_YAML_NUM("weight", AIROUTER_YAML_DOUBLE, airouter_weight_t, weight,
                      0, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_FN("order", airouter_config_weight_order),
    AIROUTER_YAML_LAST
};

static const airouter_yaml_field_t  airouter_config_filters_fields[] = {
    AIROUTER_YAML_NUM("min_context_length", AIROUTER_YAML_LONG,
                      airouter_filters_t, min_context_length,
                      0, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_NUM("min_parameter_count", AIROUTER_YAML_DOUBLE,
                      airouter_filters_t, min_parameter_count,
                      0, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_VAL("exclude_embedding_models", AIROUTER_YAML_BOOL,
                      airouter_filters_t, exclude_embedding_models),
    AIROUTER_YAML_VAL("exclude_vision_only_models", AIROUTER_YAML_BOOL,
                      airouter_filters_t, exclude_vision_only_models),
    AIROUTER_YAML_LAST
};

static const airouter_yaml_field_t  airouter_config_cooldown_fields[] = {
    AIROUTER_YAML_NUM("rate_limit_exceeded", AIROUTER_YAML_LONG,
                      airouter_error_handling_t, cooldown_rate_limit,
                      0, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_NUM("timeout", AIROUTER_YAML_LONG,
                      airouter_error_handling_t, cooldown_timeout,
                      0, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_NUM("server_error", AIROUTER_YAML_LONG,
                      airouter_error_handling_t, cooldown_server_error,
                      0, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_NUM("invalid_api_key", AIROUTER_YAML_LONG,
                      airouter_error_handling_t, blacklist_period,
                      0, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_LAST
};

static const airouter_yaml_field_t  airouter_config_errors_fields[] = {
    AIROUTER_YAML_VAL("permanent_errors", AIROUTER_YAML_LIST,
                      airouter_error_handling_t, permanent_errors),
    AIROUTER_YAML_VAL("temporary_errors", AIROUTER_YAML_LIST,
                      airouter_error_handling_t, temporary_errors),
    { "cooldown_periods", AIROUTER_YAML_MAP, 0, 0, 0,
      airouter_config_cooldown_fields, NULL, NULL },
    AIROUTER_YAML_NUM("blacklist_period", AIROUTER_YAML_LONG,
                      airouter_error_handling_t, blacklist_period,
                      0, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_LAST
};

static const airouter_yaml_field_t  airouter_config_hedging_fields[] = {
    AIROUTER_YAML_VAL("enabled", AIROUTER_YAML_BOOL, airouter_hedging_t,
                      enabled),
    AIROUTER_YAML_FN("after", airouter_config_hedge_after),
    AIROUTER_YAML_NUM("max_hedges", AIROUTER_YAML_INT, airouter_hedging_t,
                      max_hedges, 0, 1),
    AIROUTER_YAML_FN("bill_loser", airouter_config_bill_loser),
    AIROUTER_YAML_LAST
};

static const airouter_yaml_field_t  airouter_config_routing_fields[] = {
    AIROUTER_YAML_FN("default_strategy", airouter_config_default_strategy),
    AIROUTER_YAML_VAL("enable_fallback", AIROUTER_YAML_BOOL, airouter_routing_t,
                      enable_fallback),
    AIROUTER_YAML_NUM("max_retry_attempts", AIROUTER_YAML_INT,
                      airouter_routing_t, max_retry_attempts, 1, 20),
    AIROUTER_YAML_NUM("health_check_interval", AIROUTER_YAML_LONG,
                      airouter_routing_t, health_check_interval,
                      0, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_NUM("error_cooldown_period", AIROUTER_YAML_LONG,
                      airouter_routing_t, error_cooldown_period,
                      0, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_NUM("request_timeout", AIROUTER_YAML_LONG,
                      airouter_routing_t, request_deadline,
                      1, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_NUM("request_deadline", AIROUTER_YAML_LONG,
                      airouter_routing_t, request_deadline,
                      1, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_SUB("model_filters", airouter_routing_t, filters,
                      airouter_config_filters_fields),
    AIROUTER_YAML_FN("sorting_strategies", airouter_config_strategies),
    AIROUTER_YAML_SUB("error_handling", airouter_routing_t, errors,
                      airouter_config_errors_fields),
    AIROUTER_YAML_SUB("hedging", airouter_routing_t, hedging,
                      airouter_config_hedging_fields),
    AIROUTER_YAML_LAST
};

static const airouter_yaml_field_t  airouter_config_cost_control_fields[] = {
    AIROUTER_YAML_NUM("global_daily_budget", AIROUTER_YAML_DOUBLE,
                      airouter_cost_control_t, global_daily_budget,
                      0, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_NUM("alert_threshold", AIROUTER_YAML_DOUBLE,
                      airouter_cost_control_t, alert_threshold, 0, 1),
    AIROUTER_YAML_VAL("auto_disable_on_budget_exceeded", AIROUTER_YAML_BOOL,
                      airouter_cost_control_t,
                      auto_disable_on_budget_exceeded),
    AIROUTER_YAML_VAL("currency", AIROUTER_YAML_STR, airouter_cost_control_t,
                      currency),
    AIROUTER_YAML_NUM("cny_to_usd", AIROUTER_YAML_DOUBLE,
                      airouter_cost_control_t, cny_to_usd,
                      0, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_LAST
};

/* a discovery interval under 6 minutes would hammer the providers */
static const airouter_yaml_field_t  airouter_config_task_fields[] = {
    AIROUTER_YAML_VAL("enabled", AIROUTER_YAML_BOOL, airouter_task_t, enabled),
    AIROUTER_YAML_NUM("interval_hours", AIROUTER_YAML_DOUBLE, airouter_task_t,
                      interval_hours, 0.1, AIROUTER_YAML_NOMAX),
    AIROUTER_YAML_VAL("run_on_startup", AIROUTER_YAML_BOOL, airouter_task_t,
                      run_on_startup),
    AIROUTER_YAML_LAST
};

static const airouter_yaml_field_t  airouter_config_tasks_fields[] = {
    AIROUTER_YAML_SUB("model_discovery", airouter_config_t, discovery,
                      airouter_config_task_fields),
    AIROUTER_YAML_SKIP("*"),
    AIROUTER_YAML_LAST
};

static const airouter_yaml_field_t  airouter_config_top_fields[] = {
    AIROUTER_YAML_SKIP("system"),
    { "server", AIROUTER_YAML_MAP, 0, 0, 0, airouter_config_server_fields,
      NULL, NULL },
    AIROUTER_YAML_SUB("auth", airouter_config_t, auth,
                      airouter_config_auth_fields),
    AIROUTER_YAML_FN("providers", airouter_config_providers),
    AIROUTER_YAML_FN("channels", airouter_config_channels),
    AIROUTER_YAML_SUB("routing", airouter_config_t, routing,
                      airouter_config_routing_fields),
    AIROUTER_YAML_SKIP("caching"),
    AIROUTER_YAML_SKIP("monitoring"),
    AIROUTER_YAML_SUB("cost_control", airouter_config_t, cost,
                      airouter_config_cost_control_fields),
    { "tasks", AIROUTER_YAML_MAP, 0, 0, 0, airouter_config_tasks_fields,
      NULL, NULL },
    AIROUTER_YAML_LAST
};

/* providers.yaml: "providers:" and nothing else we know of */
static const airouter_yaml_field_t  airouter_config_pfile_fields[] = {
    AIROUTER_YAML_FN("providers", airouter_config_providers),
    AIROUTER_YAML_LAST
};


airouter_config_t *
airouter_config_load(const char *path, airouter_diag_t *diag)
{
    int                     rc;
    yaml_node_t            *root;
    airouter_diag_t         local;
    yaml_document_t         doc;
    airouter_arena_t       *arena;
    airouter_config_t      *cf;
    airouter_yaml_t         y;
    airouter_config_ctx_t   ctx;

    if (diag == NULL) {
        memset(&local, 0, sizeof(airouter_diag_t));
        diag = &local;
    }

    diag->error[0] = '\0';

    arena = airouter_arena_create(0);
    if (arena == NULL) {
        snprintf(diag->error, sizeof(diag->error), "%s: out of memory",
                 path);
        return NULL;
    }

    cf = airouter_arena_alloc(arena, sizeof(airouter_config_t));
    if (cf == NULL) {
        airouter_arena_destroy(arena);
        snprintf(diag->error, sizeof(diag->error), "%s: out of memory",
                 path);
        return NULL;
    }

    cf->arena = arena;

    memset(&ctx, 0, sizeof(airouter_config_ctx_t));
    ctx.cf = cf;

    memset(&y, 0, sizeof(airouter_yaml_t));
    y.diag = diag;
    y.arena = arena;
    y.file = path;
    y.data = &ctx;
    y.owned = airouter_config_owned;

    cf->file = airouter_yaml_strdup(&y, path);
    if (cf->file == NULL) {
        goto failed;
    }

    y.file = cf->file;

    if (airouter_config_defaults(&y) != AIROUTER_YAML_OK) {
        goto failed;
    }

    if (airouter_yaml_parse(&y, cf->file, &doc, 0) < 0) {
        goto failed;
    }

    y.doc = &doc;
    root = yaml_document_get_root_node(&doc);

    if (root == NULL) {
        airouter_pos_t  pos = { cf->file, 1, 1 };

        rc = airouter_yaml_error(&y, &pos,
                                 "the file is empty, expected a mapping "
                                 "of sections (channels, routing, ...)");

    } else if (root->type != YAML_MAPPING_NODE) {
        airouter_pos_t  pos = airouter_yaml_pos(&y, root);

        rc = airouter_yaml_error(&y, &pos,
                                 "the top level must be a mapping of "
                                 "sections, got %s",
                                 airouter_yaml_kind(root));

    } else {
        rc = airouter_yaml_walk(&y, root, "", airouter_config_top_fields,
                                cf);
    }

    yaml_document_delete(&doc);
    y.doc = NULL;

    if (rc != AIROUTER_YAML_OK) {
        goto failed;
    }

    if (airouter_config_load_providers_file(&y) != AIROUTER_YAML_OK) {
        goto failed;
    }

    if (airouter_config_finish(&y) != AIROUTER_YAML_OK) {
        goto failed;
    }

    return cf;

failed:

    if (diag->error[0] == '\0') {
        snprintf(diag->error, sizeof(diag->error), "%s: invalid", path);
    }

    airouter_arena_destroy(arena);

    return NULL;
}


void
airouter_config_free(airouter_config_t *cf)
{
    if (cf != NULL) {
        /* cf itself lives in its arena */
        airouter_arena_destroy(cf->arena);
    }
}


const airouter_strategy_t *
airouter_config_strategy(const airouter_config_t *cf, const char *name)
{
    size_t  i;

    for (i = 0; i < cf->routing.nstrategies; i++) {
        if (strcmp(cf->routing.strategies[i].name, name) == 0) {
            return &cf->routing.strategies[i];
        }
    }

    return NULL;
}


const airouter_model_conf_t *
airouter_config_model_conf(const airouter_channel_t *ch, const char *id,
    size_t len)
{
    size_t  i;

    for (i = 0; i < ch->nmodels; i++) {
        if (strncmp(ch->models[i].name, id, len) == 0
            && ch->models[i].name[len] == '\0')
        {
            return &ch->models[i];
        }
    }

    return NULL;
}


const airouter_channel_t *
airouter_config_channel(const airouter_config_t *cf, const char *id)
{
    size_t  i;

    for (i = 0; i < cf->nchannels; i++) {
        if (strcmp(cf->channels[i].id, id) == 0) {
            return &cf->channels[i];
        }
    }

    return NULL;
}


size_t
airouter_config_url(const airouter_channel_t *ch, const char *api_path,
    char *buf, size_t size)
{
    size_t       blen, rlen, need, n;
    const char  *base, *rest;

    base = ch->base_url ? ch->base_url : "";
    rest = airouter_config_url_rest(ch, api_path);

    blen = strlen(base);
    rlen = strlen(rest);
    need = blen + rlen;

    if (size == 0) {
        return need;
    }

    n = blen < size - 1 ? blen : size - 1;
    memcpy(buf, base, n);

    if (rlen > size - 1 - n) {
        rlen = size - 1 - n;
    }

    memcpy(buf + n, rest, rlen);
    buf[n + rlen] = '\0';

    return need;
}


const char *
airouter_config_url_rest(const airouter_channel_t *ch, const char *api_path)
{
    /* a versioned base already says "/v1" (or "/v4", "/v1beta") */
    if (ch->versioned && strncmp(api_path, "/v1", 3) == 0
        && (api_path[3] == '/' || api_path[3] == '\0'
            || api_path[3] == '?'))
    {
        return api_path + 3;
    }

    return api_path;
}


const char *
airouter_score_name(airouter_score_e score)
{
    if ((unsigned) score >= AIROUTER_SCORE_N) {
        return "unknown";
    }

    return airouter_config_score_names[score];
}


/* A key nginx owns ("server.port"): noted for the start-up notice. */
static int
airouter_config_owned(airouter_yaml_t *y, const char *path,
    const char *directive)
{
    airouter_config_t       *cf;
    airouter_config_ctx_t   *ctx;
    airouter_nginx_owned_t  *own;

    ctx = y->data;
    cf = ctx->cf;

    if (cf->nowned < sizeof(cf->owned) / sizeof(cf->owned[0])) {
        own = &cf->owned[cf->nowned];
        own->key = airouter_yaml_strdup(y, path);
        if (own->key == NULL) {
            return AIROUTER_YAML_ERROR;
        }

        own->directive = directive;
        cf->nowned++;
    }

    return AIROUTER_YAML_OK;
}


static int
airouter_config_defaults(airouter_yaml_t *y)
{
    size_t                            i, j, n;
    airouter_routing_t               *rt;
    airouter_strategy_t              *st;
    airouter_error_handling_t        *eh;
    const airouter_config_builtin_t  *b;
    airouter_config_ctx_t            *ctx;

    ctx = y->data;

    rt = &ctx->cf->routing;

    rt->enable_fallback = 1;
    rt->max_retry_attempts = 3;
    rt->health_check_interval = 300;
    rt->error_cooldown_period = 60;
    rt->request_deadline = 120;

    rt->hedging.enabled = 0;
    rt->hedging.after = 0;
    rt->hedging.max_hedges = 1;
    rt->hedging.bill_loser = 1;

    eh = &rt->errors;
    eh->cooldown_rate_limit = 60;
    eh->cooldown_timeout = 30;
    eh->cooldown_server_error = 120;
    eh->blacklist_period = 3600;

    st = airouter_yaml_alloc(y,
                             AIROUTER_CONFIG_NBUILTINS * sizeof(*st));
    if (st == NULL) {
        return AIROUTER_YAML_ERROR;
    }

    for (i = 0; i < AIROUTER_CONFIG_NBUILTINS; i++) {
        b = &airouter_config_builtins[i];

        st[i].name = airouter_yaml_strdup(y, b->name);
        st[i].weights = airouter_yaml_alloc(y,
                                            b->n * sizeof(airouter_weight_t));
        if (st[i].name == NULL || st[i].weights == NULL) {
            return AIROUTER_YAML_ERROR;
        }

        for (j = 0; j < b->n; j++) {
            st[i].weights[j] = b->w[j];
        }

        st[i].nweights = b->n;
        st[i].builtin = 1;
    }

    rt->strategies = st;
    rt->nstrategies = AIROUTER_CONFIG_NBUILTINS;

    n = sizeof(airouter_config_permanent_errors) / sizeof(char *);
    eh->permanent_errors.items = airouter_yaml_alloc(y, n * sizeof(char *));
    if (eh->permanent_errors.items == NULL) {
        return AIROUTER_YAML_ERROR;
    }

    for (i = 0; i < n; i++) {
        eh->permanent_errors.items[i] =
            airouter_yaml_strdup(y, airouter_config_permanent_errors[i]);
        if (eh->permanent_errors.items[i] == NULL) {
            return AIROUTER_YAML_ERROR;
        }
    }

    eh->permanent_errors.n = n;

    n = sizeof(airouter_config_temporary_errors) / sizeof(char *);
    eh->temporary_errors.items = airouter_yaml_alloc(y, n * sizeof(char *));
    if (eh->temporary_errors.items == NULL) {
        return AIROUTER_YAML_ERROR;
    }

    for (i = 0; i < n; i++) {
        eh->temporary_errors.items[i] =
            airouter_yaml_strdup(y, airouter_config_temporary_errors[i]);
        if (eh->temporary_errors.items[i] == NULL) {
            return AIROUTER_YAML_ERROR;
        }
    }

    eh->temporary_errors.n = n;

    ctx->cf->cost.alert_threshold = 0.8;
    ctx->cf->cost.cny_to_usd = 0.14;

    ctx->cf->discovery.enabled = 1;
    ctx->cf->discovery.interval_hours = 6;
    ctx->cf->discovery.run_on_startup = 1;

    return AIROUTER_YAML_OK;
}


/* name, taken relative to the directory of the main config file */
static char *
airouter_config_beside(airouter_yaml_t *y, const char *name)
{
    char                   *file;
    size_t                  dlen, nlen;
    const char             *slash;
    airouter_config_ctx_t  *ctx;

    ctx = y->data;

    slash = strrchr(ctx->cf->file, '/');
    dlen = slash ? (size_t) (slash - ctx->cf->file) + 1 : 0;
    nlen = strlen(name) + 1;

    file = airouter_yaml_alloc(y, dlen + nlen);
    if (file == NULL) {
        return NULL;
    }

    memcpy(file, ctx->cf->file, dlen);
    memcpy(file + dlen, name, nlen);

    return file;
}


static int
airouter_config_load_providers_file(airouter_yaml_t *y)
{
    int                     rc;
    char                   *file;
    yaml_node_t            *root, *key;
    yaml_node_pair_t       *pair;
    yaml_document_t         doc;
    airouter_pos_t          pos;
    airouter_config_ctx_t  *ctx;

    ctx = y->data;

    file = airouter_config_beside(y, "providers.yaml");
    if (file == NULL) {
        return AIROUTER_YAML_ERROR;
    }

    y->file = file;

    rc = airouter_yaml_parse(y, file, &doc, 1);

    if (rc <= 0) {
        y->file = ctx->cf->file;
        return rc == 0 ? AIROUTER_YAML_OK : AIROUTER_YAML_ERROR;
    }

    ctx->cf->providers_file = file;
    y->doc = &doc;

    root = yaml_document_get_root_node(&doc);
    rc = AIROUTER_YAML_OK;

    if (root == NULL) {
        /* an empty providers.yaml adds nothing */

    } else if (root->type != YAML_MAPPING_NODE) {
        pos = airouter_yaml_pos(y, root);
        rc = airouter_yaml_error(y, &pos,
                                 "the top level must be a mapping of "
                                 "providers, got %s",
                                 airouter_yaml_kind(root));

    } else {
        /* "providers:" wrapping the map, or the bare map of providers */
        for (pair = root->data.mapping.pairs.start;
             pair < root->data.mapping.pairs.top;
             pair++)
        {
            key = yaml_document_get_node(&doc, pair->key);

            if (key != NULL && key->type == YAML_SCALAR_NODE
                && strcmp((char *) key->data.scalar.value, "providers") == 0)
            {
                break;
            }
        }

        if (pair < root->data.mapping.pairs.top) {
            rc = airouter_yaml_walk(y, root, "",
                                    airouter_config_pfile_fields, ctx->cf);

        } else {
            rc = airouter_config_providers(y, root, "providers", ctx->cf);
        }
    }

    yaml_document_delete(&doc);
    y->doc = NULL;
    y->file = ctx->cf->file;

    return rc;
}


static int
airouter_config_finish(airouter_yaml_t *y)
{
    size_t                  i;
    airouter_config_t      *cf;
    airouter_config_ctx_t  *ctx;

    ctx = y->data;

    cf = ctx->cf;

    for (i = 0; i < cf->nchannels; i++) {
        if (airouter_config_resolve_channel(y, &cf->channels[i],
                                            &ctx->chpos[i])
            != AIROUTER_YAML_OK)
        {
            return AIROUTER_YAML_ERROR;
        }

        if (cf->channels[i].enabled) {
            cf->nenabled++;
        }
    }

    for (i = 0; i < cf->nproviders; i++) {
        if (cf->providers[i].display_name == NULL) {
            cf->providers[i].display_name = cf->providers[i].name;
        }

        if (cf->providers[i].auth_type == NULL) {
            cf->providers[i].auth_type = airouter_yaml_strdup(y,
                                                              "bearer");
            if (cf->providers[i].auth_type == NULL) {
                return AIROUTER_YAML_ERROR;
            }
        }
    }

    if (cf->cost.currency == NULL) {
        cf->cost.currency = airouter_yaml_strdup(y, "USD");
        if (cf->cost.currency == NULL) {
            return AIROUTER_YAML_ERROR;
        }
    }

    if (airouter_config_finish_strategy(y) != AIROUTER_YAML_OK) {
        return AIROUTER_YAML_ERROR;
    }

    return airouter_config_finish_auth(y);
}


static int
airouter_config_resolve_channel(airouter_yaml_t *y,
    airouter_channel_t *ch, airouter_config_chpos_t *cp)
{
    size_t                  i;
    char                    what[256];
    airouter_provider_t    *pr;
    airouter_model_conf_t  *mc;
    airouter_config_t      *cf;
    airouter_config_ctx_t  *ctx;

    ctx = y->data;

    cf = ctx->cf;
    pr = NULL;

    if (ch->provider_name != NULL) {
        for (i = 0; i < cf->nproviders; i++) {
            if (strcmp(cf->providers[i].name, ch->provider_name) == 0) {
                pr = &cf->providers[i];
                break;
            }
        }

        if (pr == NULL) {
            return airouter_yaml_error(y, &cp->provider,
                                       "unknown provider \"%s\"",
                                       ch->provider_name);
        }
    }

    ch->provider = pr;

    if (ch->base_url == NULL && pr != NULL) {
        ch->base_url = pr->base_url;
    }

    if (ch->base_url == NULL) {
        return airouter_yaml_error(y, &ch->pos,
                                   "channel \"%s\" has no base_url "
                                   "(own or via its provider)", ch->id);
    }

    ch->versioned = airouter_config_url_versioned(ch->base_url);

    if (ch->model_name != NULL) {
        for (i = 0; i < ch->configured_models.n; i++) {
            if (strcmp(ch->configured_models.items[i], ch->model_name) == 0) {
                break;
            }
        }

        if (i == ch->configured_models.n
            && airouter_yaml_append(y, &ch->configured_models,
                                    &ch->model_name, 1)
               != AIROUTER_YAML_OK)
        {
            return AIROUTER_YAML_ERROR;
        }
    }

    if (ch->capabilities.n == 0 && pr != NULL) {
        /* shared, not copied: both live as long as the arena */
        ch->capabilities = pr->capabilities;
    }

    if (ch->supported_parameters.n == 0 && pr != NULL) {
        ch->supported_parameters = pr->supported_parameters;
    }

    snprintf(what, sizeof(what), "channel \"%.100s\"", ch->id);
    airouter_config_params_check(y, &ch->pos, what,
                                 &ch->supported_parameters);

    ch->params = airouter_controls_param_list(
                     (const char *const *) ch->supported_parameters.items,
                     ch->supported_parameters.n);

    for (i = 0; i < ch->nmodels; i++) {
        mc = &ch->models[i];

        snprintf(what, sizeof(what), "channel \"%.100s\" model \"%.100s\"",
                 ch->id, mc->name);
        airouter_config_params_check(y, &mc->pos, what,
                                     &mc->supported_parameters);

        mc->params = airouter_controls_param_list(
                        (const char *const *) mc->supported_parameters.items,
                        mc->supported_parameters.n);
    }

    if (ch->local < 0) {
        ch->local = (pr != NULL && pr->local)
                    || airouter_config_url_loopback(ch->base_url);
    }

    if (ch->free < 0) {
        ch->free = pr != NULL && pr->free;
    }

    /* the user's own machine keeps what it keeps: nobody else collects */
    if (ch->data_collection < 0) {
        ch->data_collection = (pr != NULL && pr->data_collection >= 0)
                              ? pr->data_collection : ch->local;
    }

    if (ch->dialect < 0) {
        ch->dialect = (pr != NULL && pr->dialect >= 0)
                      ? pr->dialect : AIROUTER_DIALECT_OPENAI;
    }

    if (ch->responses_api < 0) {
        ch->responses_api = pr != NULL && pr->responses_api > 0;
    }

    /*
     * A key that was named but came out empty ("${OPENROUTER_API_KEY}"
     * unset) cannot work: the channel sits out instead of failing every
     * request it gets.
     */
    if (ch->enabled && ch->key_named && ch->api_keys.n == 0) {
        ch->enabled = 0;
        ch->disabled_reason = "api_key is empty";
    }

    if (ch->name == NULL) {
        ch->name = ch->id;
    }

    if (ch->models_file != NULL && ch->models_file[0] != '/') {
        ch->models_file = airouter_config_beside(y, ch->models_file);
        if (ch->models_file == NULL) {
            return AIROUTER_YAML_ERROR;
        }
    }

    if (ch->currency == NULL) {
        ch->currency = airouter_yaml_strdup(y, "USD");
        if (ch->currency == NULL) {
            return AIROUTER_YAML_ERROR;
        }
    }

    return AIROUTER_YAML_OK;
}


/*
 * auth.enabled without any token is refused: the Python router generated
 * a token and wrote it back into the YAML file, which nginx (reading its
 * configuration as root, serving as nobody) must not do.
 *
 * admin.enabled without admin_token is accepted: the admin API then
 * refuses every request, which is the safe reading of "enabled, no key".
 */
static int
airouter_config_finish_auth(airouter_yaml_t *y)
{
    size_t                  i, j, n, first;
    airouter_auth_t        *auth;
    airouter_config_ctx_t  *ctx;

    ctx = y->data;

    auth = &ctx->cf->auth;

    if (ctx->api_token != NULL && ctx->api_token[0] == '\0') {
        ctx->api_token = NULL;
    }

    if (auth->admin_token != NULL && auth->admin_token[0] == '\0') {
        auth->admin_token = NULL;
    }

    first = ctx->api_token != NULL ? 1 : 0;
    n = first + ctx->nkeys;

    if (n > 0) {
        auth->keys = airouter_yaml_alloc(y, n * sizeof(airouter_apikey_t));
        if (auth->keys == NULL) {
            return AIROUTER_YAML_ERROR;
        }

        if (first) {
            auth->keys[0].name = airouter_yaml_strdup(y, "default");
            if (auth->keys[0].name == NULL) {
                return AIROUTER_YAML_ERROR;
            }

            auth->keys[0].token = ctx->api_token;
            auth->keys[0].allow_request_routing = 1;
            auth->keys[0].hedge = -1;
        }

        for (i = 0; i < ctx->nkeys; i++) {
            auth->keys[first + i] = ctx->keys[i];
        }

        auth->nkeys = n;
    }

    for (i = 0; i < ctx->nkeys; i++) {
        for (j = 0; j < first + i; j++) {
            if (strcmp(auth->keys[j].name, ctx->keys[i].name) == 0) {
                return airouter_yaml_error(y, &ctx->key_pos[i],
                                           "duplicate api key name \"%s\"",
                                           ctx->keys[i].name);
            }

            if (strcmp(auth->keys[j].token, ctx->keys[i].token) == 0) {
                return airouter_yaml_error(y, &ctx->key_pos[i],
                                           "api key \"%s\" repeats the "
                                           "token of \"%s\"",
                                           ctx->keys[i].name,
                                           auth->keys[j].name);
            }
        }
    }

    if (auth->enabled && n == 0) {
        return airouter_yaml_error(y, &ctx->auth_enabled_pos,
                                   "auth.enabled is true but no api_token "
                                   "or api_keys is set: nginx cannot "
                                   "generate and write one back; set a "
                                   "token");
    }

    return AIROUTER_YAML_OK;
}


static int
airouter_config_finish_strategy(airouter_yaml_t *y)
{
    size_t                  i, len, n;
    char                    known[512];
    airouter_routing_t     *rt;
    airouter_config_ctx_t  *ctx;

    ctx = y->data;

    rt = &ctx->cf->routing;

    if (rt->default_strategy == NULL) {
        rt->default_strategy = airouter_yaml_strdup(y, "cost_first");
        return rt->default_strategy ? AIROUTER_YAML_OK
                                    : AIROUTER_YAML_ERROR;
    }

    if (airouter_config_strategy(ctx->cf, rt->default_strategy) != NULL) {
        return AIROUTER_YAML_OK;
    }

    len = 0;
    known[0] = '\0';

    for (i = 0; i < rt->nstrategies && len < sizeof(known); i++) {
        n = (size_t) snprintf(known + len, sizeof(known) - len, "%s%s",
                              i ? ", " : "", rt->strategies[i].name);
        len += n;
    }

    return airouter_yaml_error(y, &ctx->strategy_pos,
                               "unknown strategy \"%s\" (known: %s)",
                               rt->default_strategy, known);
}


static int
airouter_config_providers(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    airouter_config_t  *cf = obj;

    /* a name twice is an error */
    static const airouter_yaml_named_t  named = {
        "provider", sizeof(airouter_provider_t),
        offsetof(airouter_provider_t, name),
        offsetof(airouter_provider_t, pos), 0, airouter_config_provider
    };

    /* channels point at providers only after both files are read */
    return airouter_yaml_named(y, node, path, &named,
                               (void **) &cf->providers, &cf->nproviders);
}


/* One provider (always a new one: a name twice is an error): its fields. */
static int
airouter_config_provider(airouter_yaml_t *y, void *elem, int added,
    yaml_node_t *value, const char *path)
{
    airouter_provider_t  *pr = elem;

    if (added) {
        pr->dialect = -1;           /* -1: not said */
        pr->responses_api = -1;
        pr->data_collection = -1;
    }

    return airouter_yaml_walk(y, value, path, airouter_config_provider_fields,
                              pr);
}


static int
airouter_config_channels(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    size_t                    i, j, n;
    const char               *s;
    yaml_node_t              *v;
    yaml_node_item_t         *it;
    airouter_pos_t            pos;
    airouter_config_t        *cf;
    airouter_channel_t       *ch;
    airouter_config_chpos_t  *cp;
    char                      sub[AIROUTER_YAML_PATH];
    airouter_config_ctx_t    *ctx;

    ctx = y->data;

    cf = obj;

    if (node->type == YAML_SCALAR_NODE
        && airouter_yaml_text(y, node, path, "a list", &s) == 0)
    {
        return AIROUTER_YAML_OK;
    }

    if (node->type != YAML_SEQUENCE_NODE) {
        return airouter_yaml_error_at(y, node,
                                      "\"%s\" expected a list of channels, "
                                      "got %s", path,
                                      airouter_yaml_kind(node));
    }

    n = (size_t) (node->data.sequence.items.top
                  - node->data.sequence.items.start);

    /* written twice (a "<<" merge, then the file's own): the last wins */
    cf->channels = NULL;
    cf->nchannels = 0;

    if (n == 0) {
        return AIROUTER_YAML_OK;
    }

    cf->channels = airouter_yaml_alloc(y, n * sizeof(airouter_channel_t));
    ctx->chpos = airouter_yaml_alloc(y,
                                     n * sizeof(airouter_config_chpos_t));
    if (cf->channels == NULL || ctx->chpos == NULL) {
        return AIROUTER_YAML_ERROR;
    }

    for (it = node->data.sequence.items.start;
         it < node->data.sequence.items.top;
         it++)
    {
        v = yaml_document_get_node(y->doc, *it);
        if (v == NULL) {
            continue;
        }

        i = cf->nchannels;
        ch = &cf->channels[i];
        cp = &ctx->chpos[i];

        snprintf(sub, sizeof(sub), "%.200s[%zu]", path,
                 (size_t) (it - node->data.sequence.items.start));

        pos = airouter_yaml_pos(y, v);

        if (v->type != YAML_MAPPING_NODE) {
            return airouter_yaml_error(y, &pos,
                                       "\"%s\" must be a mapping, got %s",
                                       sub, airouter_yaml_kind(v));
        }

        ch->pos = pos;
        ch->enabled = 1;
        ch->priority = 1;
        ch->weight = 100;
        ch->cost_cache_read = -1;
        ch->cost_cache_write = -1;
        airouter_unit_price_init(&ch->cost_unit);
        ch->local = -1;         /* unset: decided from the URL later */
        ch->free = -1;
        ch->data_collection = -1;
        ch->dialect = -1;       /* unset: the provider's, else openai */
        ch->responses_api = -1;

        cf->nchannels++;

        if (airouter_yaml_walk(y, v, sub, airouter_config_channel_fields,
                               ch)
            != AIROUTER_YAML_OK)
        {
            return AIROUTER_YAML_ERROR;
        }

        if (ch->id == NULL) {
            return airouter_yaml_error(y, &pos,
                                       "\"%s\" has no id", sub);
        }

        for (j = 0; j < i; j++) {
            if (strcmp(cf->channels[j].id, ch->id) == 0) {
                return airouter_yaml_error(y, &cp->id,
                                           "duplicate channel id \"%s\" "
                                           "(first at %u:%u)", ch->id,
                                           ctx->chpos[j].id.line,
                                           ctx->chpos[j].id.column);
            }
        }
    }

    return AIROUTER_YAML_OK;
}


static int
airouter_config_channel_id(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    char                   *id;
    airouter_pos_t          pos;
    airouter_channel_t     *ch;
    airouter_config_ctx_t  *ctx;

    ctx = y->data;

    ch = obj;
    id = NULL;

    if (airouter_yaml_string(y, node, path, &id) != AIROUTER_YAML_OK) {
        return AIROUTER_YAML_ERROR;
    }

    pos = airouter_yaml_pos(y, node);

    if (id == NULL || id[0] == '\0') {
        return airouter_yaml_error(y, &pos,
                                   "\"%s\" must not be empty", path);
    }

    ch->id = id;
    ctx->chpos[ch - ctx->cf->channels].id = pos;

    return AIROUTER_YAML_OK;
}


static int
airouter_config_channel_provider(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj)
{
    char                   *name;
    airouter_channel_t     *ch;
    airouter_config_ctx_t  *ctx;

    ctx = y->data;

    ch = obj;
    name = NULL;

    if (airouter_yaml_string(y, node, path, &name) != AIROUTER_YAML_OK) {
        return AIROUTER_YAML_ERROR;
    }

    if (name != NULL && name[0] != '\0') {
        ch->provider_name = name;
        ctx->chpos[ch - ctx->cf->channels].provider =
                                              airouter_yaml_pos(y, node);
    }

    return AIROUTER_YAML_OK;
}


/*
 * api_key and api_keys add to one list, in the order written, without
 * repeats.  A "YOUR_..._HERE" placeholder is kept as the user wrote it:
 * the channel then fails with 401 and says so, rather than vanishing.
 */
static int
airouter_config_channel_key(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    size_t               i;
    char                *key;
    airouter_channel_t  *ch;

    ch = obj;
    key = NULL;
    ch->key_named = 1;

    if (airouter_yaml_string(y, node, path, &key) != AIROUTER_YAML_OK) {
        return AIROUTER_YAML_ERROR;
    }

    if (key == NULL || key[0] == '\0') {
        return AIROUTER_YAML_OK;
    }

    for (i = 0; i < ch->api_keys.n; i++) {
        if (strcmp(ch->api_keys.items[i], key) == 0) {
            return AIROUTER_YAML_OK;
        }
    }

    return airouter_yaml_append(y, &ch->api_keys, &key, 1);
}


static int
airouter_config_channel_keys(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    size_t               i, j;
    airouter_strlist_t   keys;
    airouter_channel_t  *ch;

    ch = obj;
    ch->key_named = 1;
    memset(&keys, 0, sizeof(airouter_strlist_t));

    if (airouter_yaml_list(y, node, path, 0, &keys)
        != AIROUTER_YAML_OK)
    {
        return AIROUTER_YAML_ERROR;
    }

    for (i = 0; i < keys.n; i++) {
        for (j = 0; j < ch->api_keys.n; j++) {
            if (strcmp(ch->api_keys.items[j], keys.items[i]) == 0) {
                break;
            }
        }

        if (j == ch->api_keys.n
            && airouter_yaml_append(y, &ch->api_keys, &keys.items[i], 1)
               != AIROUTER_YAML_OK)
        {
            return AIROUTER_YAML_ERROR;
        }
    }

    return AIROUTER_YAML_OK;
}


/*
 * configured_models: a list whose entries are model names, or maps
 * ("- name: x" with that model's own keys, as supported_parameters) for
 * what the operator says of one model.  Every name goes to
 * configured_models as a plain entry would; a map also keeps its keys in
 * ch->models.
 */
static int
airouter_config_channel_models(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    size_t                  n, k, i;
    char                   *s, **items;
    yaml_node_t            *v;
    yaml_node_item_t       *it;
    airouter_channel_t     *ch;
    airouter_model_conf_t  *mc;
    char                    item[AIROUTER_YAML_PATH];

    ch = obj;

    if (node->type != YAML_SEQUENCE_NODE) {
        /* a null, or the list reader's message for what is no list */
        return airouter_yaml_list(y, node, path, 0, &ch->configured_models);
    }

    it = node->data.sequence.items.start;
    n = (size_t) (node->data.sequence.items.top - it);

    items = airouter_yaml_alloc(y, (n ? n : 1) * sizeof(char *));
    mc = airouter_yaml_alloc(y, (n ? n : 1) * sizeof(airouter_model_conf_t));

    if (items == NULL || mc == NULL) {
        return AIROUTER_YAML_ERROR;
    }

    memset(mc, 0, (n ? n : 1) * sizeof(airouter_model_conf_t));

    ch->configured_models.items = items;
    ch->configured_models.n = 0;
    ch->models = mc;
    ch->nmodels = 0;

    for (k = 0; it < node->data.sequence.items.top; it++, k++) {
        v = yaml_document_get_node(y->doc, *it);
        if (v == NULL) {
            continue;
        }

        snprintf(item, sizeof(item), "%.200s[%zu]", path, k);

        if (v->type != YAML_MAPPING_NODE) {
            s = NULL;

            if (airouter_yaml_string(y, v, item, &s) != AIROUTER_YAML_OK) {
                return AIROUTER_YAML_ERROR;
            }

            if (s != NULL && s[0] != '\0') {
                items[ch->configured_models.n++] = s;
            }

            continue;
        }

        mc = &ch->models[ch->nmodels];
        mc->pos = airouter_yaml_pos(y, v);

        if (airouter_yaml_walk(y, v, item, airouter_config_model_fields, mc)
            != AIROUTER_YAML_OK)
        {
            return AIROUTER_YAML_ERROR;
        }

        if (mc->name == NULL || mc->name[0] == '\0') {
            return airouter_yaml_error_at(y, v, "\"%s\" has no \"name\": a "
                                          "model written as a map is "
                                          "\"- name: <model>\" and its keys",
                                          item);
        }

        for (i = 0; i < ch->nmodels; i++) {
            if (strcmp(ch->models[i].name, mc->name) == 0) {
                return airouter_yaml_error_at(y, v, "\"%s\": model \"%s\" "
                                              "is written as a map twice "
                                              "(first at %s:%u:%u)", item,
                                              mc->name,
                                              ch->models[i].pos.file,
                                              ch->models[i].pos.line,
                                              ch->models[i].pos.column);
            }
        }

        ch->nmodels++;
        items[ch->configured_models.n++] = mc->name;
    }

    return AIROUTER_YAML_OK;
}


static int
airouter_config_model_params(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    airouter_model_conf_t  *mc;

    mc = obj;

    if (airouter_yaml_list(y, node, path, 0, &mc->supported_parameters)
        != AIROUTER_YAML_OK)
    {
        return AIROUTER_YAML_ERROR;
    }

    /* "supported_parameters:" with nothing says nothing */
    mc->params_set = (node->type == YAML_SEQUENCE_NODE);

    return AIROUTER_YAML_OK;
}


/* A name require_parameters does not check is said, and ignored. */
static void
airouter_config_params_check(airouter_yaml_t *y, const airouter_pos_t *pos,
    const char *what, const airouter_strlist_t *list)
{
    size_t  i;

    for (i = 0; i < list->n; i++) {
        if (airouter_controls_param(list->items[i], strlen(list->items[i]))
            == 0)
        {
            airouter_yaml_warn(y, pos, "%s: supported_parameters: \"%s\" "
                               "is not a parameter require_parameters "
                               "checks; ignored", what, list->items[i]);
        }
    }
}


/* model_aliases: {alias: target, ...} or [{alias: a, target: t}, ...] */
static int
airouter_config_channel_aliases(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj)
{
    size_t               n;
    const char          *s;
    yaml_node_t         *key, *value;
    yaml_node_item_t    *it;
    yaml_node_pair_t    *pair;
    airouter_alias_t    *al;
    airouter_channel_t  *ch;
    char                 sub[AIROUTER_YAML_PATH];

    ch = obj;

    if (node->type == YAML_SCALAR_NODE) {
        if (airouter_yaml_text(y, node, path, "a mapping", &s) == 0) {
            return AIROUTER_YAML_OK;
        }

        return airouter_yaml_error_at(y, node,
                                      "\"%s\" must be a mapping alias: target "
                                      "or a list of {alias, target}, got "
                                      "a string", path);
    }

    if (node->type == YAML_MAPPING_NODE) {
        n = (size_t) (node->data.mapping.pairs.top
                      - node->data.mapping.pairs.start);

    } else {
        n = (size_t) (node->data.sequence.items.top
                      - node->data.sequence.items.start);
    }

    al = airouter_yaml_alloc(y, (ch->naliases + n + 1)
                                  * sizeof(airouter_alias_t));
    if (al == NULL) {
        return AIROUTER_YAML_ERROR;
    }

    if (ch->naliases) {
        memcpy(al, ch->aliases, ch->naliases * sizeof(airouter_alias_t));
    }

    ch->aliases = al;

    if (node->type == YAML_MAPPING_NODE) {
        for (pair = node->data.mapping.pairs.start;
             pair < node->data.mapping.pairs.top;
             pair++)
        {
            key = yaml_document_get_node(y->doc, pair->key);
            value = yaml_document_get_node(y->doc, pair->value);

            if (key == NULL || value == NULL) {
                continue;
            }

            al = &ch->aliases[ch->naliases];

            if (key->type != YAML_SCALAR_NODE
                || key->data.scalar.value[0] == '\0')
            {
                return airouter_yaml_error_at(y, key,
                                              "an alias in \"%s\" must be a "
                                              "non-empty string", path);
            }

            if (airouter_yaml_key(y, key, path) != AIROUTER_YAML_OK) {
                return AIROUTER_YAML_ERROR;
            }

            airouter_yaml_subpath(sub, path,
                                  (const char *) key->data.scalar.value);

            if (airouter_yaml_string(y, value, sub, &al->target)
                != AIROUTER_YAML_OK)
            {
                return AIROUTER_YAML_ERROR;
            }

            if (al->target == NULL || al->target[0] == '\0') {
                return airouter_yaml_error_at(y, value,
                                              "\"%s\" needs a target model",
                                              sub);
            }

            al->alias = airouter_yaml_strdup(y,
                                     (const char *) key->data.scalar.value);
            if (al->alias == NULL) {
                return AIROUTER_YAML_ERROR;
            }

            ch->naliases++;
        }

        return AIROUTER_YAML_OK;
    }

    for (it = node->data.sequence.items.start;
         it < node->data.sequence.items.top;
         it++)
    {
        value = yaml_document_get_node(y->doc, *it);
        if (value == NULL) {
            continue;
        }

        snprintf(sub, sizeof(sub), "%.200s[%zu]", path,
                 (size_t) (it - node->data.sequence.items.start));

        al = &ch->aliases[ch->naliases];

        if (airouter_yaml_walk(y, value, sub, airouter_config_alias_fields,
                               al)
            != AIROUTER_YAML_OK)
        {
            return AIROUTER_YAML_ERROR;
        }

        if (al->alias == NULL || al->alias[0] == '\0'
            || al->target == NULL || al->target[0] == '\0')
        {
            return airouter_yaml_error_at(y, value,
                                          "\"%s\" needs both alias and target",
                                          sub);
        }

        ch->naliases++;
    }

    return AIROUTER_YAML_OK;
}


static int
airouter_config_channel_cost(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    airouter_channel_t  *ch;

    ch = obj;

    if (airouter_yaml_walk(y, node, path, airouter_config_cost_fields, ch)
        != AIROUTER_YAML_OK)
    {
        return AIROUTER_YAML_ERROR;
    }

    if (node->type == YAML_MAPPING_NODE) {
        ch->has_cost = 1;
    }

    return AIROUTER_YAML_OK;
}


static int
airouter_config_channel_unit_cost(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    airouter_channel_t  *ch;

    ch = obj;

    if (airouter_yaml_walk(y, node, path, airouter_config_unit_cost_fields,
                           ch)
        != AIROUTER_YAML_OK)
    {
        return AIROUTER_YAML_ERROR;
    }

    ch->has_unit_cost = airouter_unit_price_known(&ch->cost_unit);

    return AIROUTER_YAML_OK;
}


/* hours in the file, seconds in the model; 0 means the global interval */
static int
airouter_config_channel_interval(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj)
{
    double               hours;
    airouter_channel_t  *ch;

    ch = obj;
    hours = ch->discovery_interval / 3600;

    if (airouter_yaml_double(y, node, path, 0, AIROUTER_YAML_NOMAX,
                             &hours)
        != AIROUTER_YAML_OK)
    {
        return AIROUTER_YAML_ERROR;
    }

    if (hours > 0 && hours < 0.1) {
        return airouter_yaml_error_at(y, node,
                                      "\"%s\" must be 0 (the global interval) "
                                      "or at least 0.1, got %g", path, hours);
    }

    ch->discovery_interval = hours * 3600;

    return AIROUTER_YAML_OK;
}


/*
 * The seed's adapter_class: "AnthropicAdapter" makes the provider's
 * channels native Anthropic ones; "OpenAIAdapter" is the default; another
 * adapter (the seed has more) warns and is read as OpenAI-compatible.
 */
static int
airouter_config_adapter_class(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    char                 *name;
    airouter_pos_t        pos;
    airouter_provider_t  *pr;

    pr = obj;
    name = NULL;

    if (airouter_yaml_string(y, node, path, &name) != AIROUTER_YAML_OK) {
        return AIROUTER_YAML_ERROR;
    }

    if (name == NULL || name[0] == '\0' || pr->dialect >= 0) {
        /* "api" said it already */
        return AIROUTER_YAML_OK;
    }

    if (strcmp(name, "AnthropicAdapter") == 0) {
        pr->dialect = AIROUTER_DIALECT_ANTHROPIC;

    } else if (strcmp(name, "OpenAIAdapter") != 0) {
        pos = airouter_yaml_pos(y, node);
        airouter_yaml_warn(y, &pos, "\"%s\": \"%s\" is read as an "
                           "OpenAI-compatible API (AnthropicAdapter and "
                           "OpenAIAdapter are known)", path, name);
    }

    return AIROUTER_YAML_OK;
}


static int
airouter_config_provider_api(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    airouter_provider_t  *pr = obj;

    return airouter_config_api(y, node, path, &pr->dialect);
}


static int
airouter_config_channel_api(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    airouter_channel_t  *ch = obj;

    return airouter_config_api(y, node, path, &ch->dialect);
}


static int
airouter_config_provider_data(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    airouter_provider_t  *pr = obj;

    return airouter_config_data_collection(y, node, path,
                                           &pr->data_collection);
}


static int
airouter_config_channel_data(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    airouter_channel_t  *ch = obj;

    return airouter_config_data_collection(y, node, path,
                                           &ch->data_collection);
}


/*
 * "data_collection": allow (the upstream may keep or train on requests)
 * or deny (it does not), as OpenRouter names a provider's policy.
 */
static int
airouter_config_data_collection(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, int *out)
{
    char  *name;

    name = NULL;

    if (airouter_yaml_string(y, node, path, &name) != AIROUTER_YAML_OK) {
        return AIROUTER_YAML_ERROR;
    }

    if (name != NULL && strcmp(name, "allow") == 0) {
        *out = 0;
        return AIROUTER_YAML_OK;
    }

    if (name != NULL && strcmp(name, "deny") == 0) {
        *out = 1;
        return AIROUTER_YAML_OK;
    }

    return airouter_yaml_error_at(y, node, "\"%s\" must be allow or deny, "
                                  "got \"%s\"", path, name ? name : "");
}


/* "api": the wire format a channel speaks, openai or anthropic. */
static int
airouter_config_api(airouter_yaml_t *y, yaml_node_t *node, const char *path,
    int *dialect)
{
    int             d;
    char           *name;

    name = NULL;

    if (airouter_yaml_string(y, node, path, &name) != AIROUTER_YAML_OK) {
        return AIROUTER_YAML_ERROR;
    }

    if (name == NULL || name[0] == '\0') {
        return AIROUTER_YAML_OK;
    }

    d = airouter_dialect_by_name(name, strlen(name));

    if (d < 0 || !airouter_dialect_upstream(d)) {
        return airouter_yaml_error_at(y, node, "\"%s\" must be openai or "
                                      "anthropic, got \"%s\"", path, name);
    }

    *dialect = d;

    return AIROUTER_YAML_OK;
}


/*
 * The header a provider's key goes in (auth_type other than bearer):
 * written as "<name>: <key>", so only an HTTP token will do.  Empty (an
 * unset ${ENV}) means not set.
 */
static int
airouter_config_auth_header(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    char                 *name;
    size_t                i;
    unsigned char         c;
    airouter_pos_t        pos;
    airouter_provider_t  *pr;

    pr = obj;
    name = NULL;

    if (airouter_yaml_string(y, node, path, &name) != AIROUTER_YAML_OK) {
        return AIROUTER_YAML_ERROR;
    }

    if (name == NULL || name[0] == '\0') {
        return AIROUTER_YAML_OK;
    }

    for (i = 0; name[i] != '\0'; i++) {
        c = (unsigned char) name[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c))
        {
            continue;
        }

        pos = airouter_yaml_pos(y, node);

        if (c > 0x20 && c < 0x7f) {
            return airouter_yaml_error(y, &pos,
                                       "\"%s\" must be an HTTP header name "
                                       "(letters, digits and "
                                       "!#$%%&'*+-.^_`|~), got a \"%c\" at "
                                       "byte %zu", path, c, i + 1);
        }

        return airouter_yaml_error(y, &pos,
                                   "\"%s\" must be an HTTP header name "
                                   "(letters, digits and !#$%%&'*+-.^_`|~), "
                                   "got byte 0x%02x at byte %zu", path, c,
                                   i + 1);
    }

    pr->auth_header = name;

    return AIROUTER_YAML_OK;
}


static int
airouter_config_auth_enabled(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    airouter_auth_t        *auth;
    airouter_config_ctx_t  *ctx;

    ctx = y->data;

    auth = obj;
    ctx->auth_enabled_pos = airouter_yaml_pos(y, node);

    return airouter_yaml_bool(y, node, path, &auth->enabled);
}


static int
airouter_config_auth_token(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    airouter_config_ctx_t  *ctx;

    (void) obj;

    ctx = y->data;

    return airouter_yaml_string(y, node, path, &ctx->api_token);
}


static int
airouter_config_auth_keys(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    size_t                  n;
    const char             *s;
    yaml_node_t            *v;
    yaml_node_item_t       *it;
    airouter_pos_t          pos;
    airouter_apikey_t      *key;
    char                    sub[AIROUTER_YAML_PATH], name[32];
    airouter_config_ctx_t  *ctx;

    ctx = y->data;

    (void) obj;

    if (node->type == YAML_SCALAR_NODE
        && airouter_yaml_text(y, node, path, "a list", &s) == 0)
    {
        return AIROUTER_YAML_OK;
    }

    if (node->type != YAML_SEQUENCE_NODE) {
        return airouter_yaml_error_at(y, node,
                                      "\"%s\" expected a list of "
                                      "{name, key, ...}, got %s", path,
                                      airouter_yaml_kind(node));
    }

    n = (size_t) (node->data.sequence.items.top
                  - node->data.sequence.items.start);

    ctx->keys = airouter_yaml_alloc(y, (n ? n : 1)
                                         * sizeof(airouter_apikey_t));
    ctx->key_pos = airouter_yaml_alloc(y, (n ? n : 1)
                                            * sizeof(airouter_pos_t));
    if (ctx->keys == NULL || ctx->key_pos == NULL) {
        return AIROUTER_YAML_ERROR;
    }

    ctx->nkeys = 0;

    for (it = node->data.sequence.items.start;
         it < node->data.sequence.items.top;
         it++)
    {
        v = yaml_document_get_node(y->doc, *it);
        if (v == NULL) {
            continue;
        }

        snprintf(sub, sizeof(sub), "%.200s[%zu]", path,
                 (size_t) (it - node->data.sequence.items.start));

        key = &ctx->keys[ctx->nkeys];
        key->allow_request_routing = 1;
        pos = airouter_yaml_pos(y, v);

        if (v->type != YAML_MAPPING_NODE) {
            return airouter_yaml_error(y, &pos,
                                       "\"%s\" must be a mapping "
                                       "{name, key, ...}, got %s", sub,
                                       airouter_yaml_kind(v));
        }

        key->hedge = -1;

        if (airouter_yaml_walk(y, v, sub, airouter_config_apikey_fields,
                               key)
            != AIROUTER_YAML_OK)
        {
            return AIROUTER_YAML_ERROR;
        }

        if (key->token == NULL || key->token[0] == '\0') {
            return airouter_yaml_error(y, &pos,
                                       "\"%s\" has no key", sub);
        }

        if (key->name == NULL || key->name[0] == '\0') {
            snprintf(name, sizeof(name), "key%zu", ctx->nkeys + 1);
            key->name = airouter_yaml_strdup(y, name);
            if (key->name == NULL) {
                return AIROUTER_YAML_ERROR;
            }
        }

        ctx->key_pos[ctx->nkeys++] = pos;
    }

    return AIROUTER_YAML_OK;
}


/*
 * routing.hedging.after: "p95" (the first candidate's measured TTFB), or
 * a duration: "250ms", "1.5s", or a bare number of milliseconds.
 */
static int
airouter_config_hedge_after(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    int                  rc;
    char                *end;
    double               v;
    const char          *text;
    airouter_pos_t       pos;
    airouter_hedging_t  *h;

    h = obj;

    rc = airouter_yaml_text(y, node, path, "a duration or \"p95\"", &text);
    if (rc < 0) {
        return AIROUTER_YAML_ERROR;
    }

    if (rc == 0) {
        return AIROUTER_YAML_OK;
    }

    if (strcmp(text, "p95") == 0) {
        h->after = 0;
        return AIROUTER_YAML_OK;
    }

    pos = airouter_yaml_pos(y, node);

    errno = 0;
    v = strtod(text, &end);

    if (end == text || errno != 0 || !(v >= 0)) {
        goto invalid;
    }

    if (strcmp(end, "s") == 0) {
        v *= 1000;

    } else if (strcmp(end, "ms") != 0 && *end != '\0') {
        goto invalid;
    }

    if (v < 1 || v > 600000) {
        return airouter_yaml_error(y, &pos,
                                   "\"%s\" must be from 1ms to 600s, "
                                   "got \"%s\"", path, text);
    }

    h->after = (long) v;

    return AIROUTER_YAML_OK;

invalid:

    return airouter_yaml_error(y, &pos,
                               "\"%s\" must be \"p95\" or a duration "
                               "(\"250ms\", \"1.5s\"), got \"%s\"",
                               path, text);
}


/* routing.hedging.bill_loser: prompt | none */
static int
airouter_config_bill_loser(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    int                  rc;
    const char          *text;
    airouter_pos_t       pos;
    airouter_hedging_t  *h;

    h = obj;

    rc = airouter_yaml_text(y, node, path, "prompt or none", &text);
    if (rc < 0) {
        return AIROUTER_YAML_ERROR;
    }

    if (rc == 0) {
        return AIROUTER_YAML_OK;
    }

    if (strcmp(text, "prompt") == 0) {
        h->bill_loser = 1;
        return AIROUTER_YAML_OK;
    }

    if (strcmp(text, "none") == 0) {
        h->bill_loser = 0;
        return AIROUTER_YAML_OK;
    }

    pos = airouter_yaml_pos(y, node);

    return airouter_yaml_error(y, &pos,
                               "\"%s\" must be \"prompt\" or \"none\", "
                               "got \"%s\"", path, text);
}


int
airouter_hedging_wanted(const airouter_hedging_t *h, int key_pref,
    int request_pref, int stream, int tools)
{
    if (!h->enabled || h->max_hedges < 1) {
        return 0;
    }

    if (request_pref >= 0) {
        return request_pref;
    }

    if (key_pref >= 0) {
        return key_pref;
    }

    return stream || !tools;
}


static int
airouter_config_default_strategy(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, void *obj)
{
    char                   *name;
    airouter_routing_t     *rt;
    airouter_config_ctx_t  *ctx;

    ctx = y->data;

    rt = obj;
    name = NULL;

    if (airouter_yaml_string(y, node, path, &name) != AIROUTER_YAML_OK) {
        return AIROUTER_YAML_ERROR;
    }

    if (name != NULL && name[0] != '\0') {
        rt->default_strategy = name;
        ctx->strategy_pos = airouter_yaml_pos(y, node);
    }

    return AIROUTER_YAML_OK;
}


/*
 * sorting_strategies: name -> [{field, weight, order}, ...].  A name of a
 * built-in replaces its weights; any other name adds a strategy.
 */
static int
airouter_config_strategies(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    airouter_routing_t  *rt = obj;

    /* a name already there (a built-in's) is read again */
    static const airouter_yaml_named_t  named = {
        "strategy", sizeof(airouter_strategy_t),
        offsetof(airouter_strategy_t, name),
        offsetof(airouter_strategy_t, pos), 1,
        airouter_config_strategy_entry
    };

    return airouter_yaml_named(y, node, path, &named,
                               (void **) &rt->strategies, &rt->nstrategies);
}


/* One strategy: a built-in's name replaces its weights, another adds. */
static int
airouter_config_strategy_entry(airouter_yaml_t *y, void *elem, int added,
    yaml_node_t *value, const char *path)
{
    (void) added;

    return airouter_config_strategy_weights(y, value, path, elem);
}


static int
airouter_config_strategy_weights(airouter_yaml_t *y,
    yaml_node_t *node, const char *path, airouter_strategy_t *st)
{
    size_t              n;
    const char         *s;
    yaml_node_t        *v;
    yaml_node_item_t   *it;
    airouter_pos_t      pos;
    airouter_weight_t  *w;
    char                sub[AIROUTER_YAML_PATH];

    if (node->type == YAML_SCALAR_NODE
        && airouter_yaml_text(y, node, path, "a list", &s) == 0)
    {
        st->weights = NULL;
        st->nweights = 0;
        return AIROUTER_YAML_OK;
    }

    if (node->type != YAML_SEQUENCE_NODE) {
        return airouter_yaml_error_at(y, node,
                                      "\"%s\" expected a list of "
                                      "{field, weight, order}, got %s", path,
                                      airouter_yaml_kind(node));
    }

    n = (size_t) (node->data.sequence.items.top
                  - node->data.sequence.items.start);

    st->weights = airouter_yaml_alloc(y, (n ? n : 1)
                                           * sizeof(airouter_weight_t));
    if (st->weights == NULL) {
        return AIROUTER_YAML_ERROR;
    }

    st->nweights = 0;

    for (it = node->data.sequence.items.start;
         it < node->data.sequence.items.top;
         it++)
    {
        v = yaml_document_get_node(y->doc, *it);
        if (v == NULL) {
            continue;
        }

        snprintf(sub, sizeof(sub), "%.200s[%zu]", path,
                 (size_t) (it - node->data.sequence.items.start));

        w = &st->weights[st->nweights];
        w->score = AIROUTER_SCORE_N;    /* unset */
        w->weight = -1;
        w->descending = 1;

        pos = airouter_yaml_pos(y, v);

        if (v->type != YAML_MAPPING_NODE) {
            return airouter_yaml_error(y, &pos,
                                       "\"%s\" must be a mapping "
                                       "{field, weight, order}, got %s",
                                       sub, airouter_yaml_kind(v));
        }

        if (airouter_yaml_walk(y, v, sub, airouter_config_weight_fields,
                               w)
            != AIROUTER_YAML_OK)
        {
            return AIROUTER_YAML_ERROR;
        }

        if (w->score == AIROUTER_SCORE_N || w->weight < 0) {
            return airouter_yaml_error(y, &pos,
                                       "\"%s\" needs a field and a weight",
                                       sub);
        }

        st->nweights++;
    }

    return AIROUTER_YAML_OK;
}


static int
airouter_config_weight_field(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    int                 rc;
    size_t              i, len, nlen;
    const char         *s, *name;
    airouter_weight_t  *w;

    w = obj;

    rc = airouter_yaml_text(y, node, path, "a score name", &s);
    if (rc <= 0) {
        return rc;
    }

    len = strlen(s);

    for (i = 0; i < AIROUTER_SCORE_N; i++) {
        name = airouter_config_score_names[i];
        nlen = strlen(name) - (sizeof("_score") - 1);

        /* "cost_score" or "cost" */
        if (strcmp(s, name) == 0
            || (len == nlen && strncmp(s, name, nlen) == 0))
        {
            w->score = (airouter_score_e) i;
            return AIROUTER_YAML_OK;
        }
    }

    return airouter_yaml_error_at(y, node,
                                  "\"%s\": unknown score \"%.64s\" (known: "
                                  "cost_score, free_score, local_score, "
                                  "parameter_score, context_score, "
                                  "quality_score, speed_score, "
                                  "reliability_score)", path, s);
}


static int
airouter_config_weight_order(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    int                 rc;
    const char         *s;
    airouter_weight_t  *w;

    w = obj;

    rc = airouter_yaml_text(y, node, path, "\"asc\" or \"desc\"", &s);
    if (rc <= 0) {
        return rc;
    }

    if (airouter_yaml_streq_ci(s, "desc")) {
        w->descending = 1;
        return AIROUTER_YAML_OK;
    }

    if (airouter_yaml_streq_ci(s, "asc")) {
        w->descending = 0;
        return AIROUTER_YAML_OK;
    }

    return airouter_yaml_error_at(y, node,
                                  "\"%s\" must be \"asc\" or \"desc\", got "
                                  "\"%.64s\"", path, s);
}


/*
 * The last path segment is a version: "v" digits, then optional letters
 * ("/v1", "/api/paas/v4", "/api/v3", "/v1beta"); or the last is "openai"
 * and the one before it a version: the OpenAI-compatible endpoints under a
 * provider's own versioned API (Gemini's "/v1beta/openai", Novita's
 * "/v3/openai"), which take "/chat/completions" with no "/v1" of their
 * own.  Groq's "/openai" alone is no version ("/openai/v1/...").
 */
static int
airouter_config_url_versioned(const char *url)
{
    const char  *host, *path, *seg, *end, *p;

    host = airouter_yaml_url_host(url);
    if (host == NULL) {
        return 0;
    }

    path = strchr(host, '/');
    if (path == NULL) {
        return 0;
    }

    end = path + strcspn(path, "?#");

    while (end > path && end[-1] == '/') {
        end--;
    }

    seg = end;

    while (seg > path && seg[-1] != '/') {
        seg--;
    }

    if (end - seg == 6 && strncmp(seg, "openai", 6) == 0
        && seg - 1 > path)
    {
        end = seg - 1;
        seg = end;

        while (seg > path && seg[-1] != '/') {
            seg--;
        }
    }

    if (end - seg < 2 || seg[0] != 'v' || seg[1] < '0' || seg[1] > '9') {
        return 0;
    }

    for (p = seg + 1; p < end && *p >= '0' && *p <= '9'; p++) {
        /* void */
    }

    for ( /* void */ ; p < end; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) {
            return 0;
        }
    }

    return 1;
}


/* localhost, 127.0.0.0/8 and ::1: the model runs on this machine */
static int
airouter_config_url_loopback(const char *url)
{
    char         host[256];
    size_t       len;
    const char  *h, *p, *end;

    h = airouter_yaml_url_host(url);
    if (h == NULL) {
        return 0;
    }

    end = h + strcspn(h, "/?#");

    /* skip "user:pass@" */
    for (p = h; p < end; p++) {
        if (*p == '@') {
            h = p + 1;
        }
    }

    if (*h == '[') {
        h++;
        len = strcspn(h, "]");

    } else {
        len = strcspn(h, ":/?#");
    }

    if (len == 0 || len >= sizeof(host)) {
        return 0;
    }

    memcpy(host, h, len);
    host[len] = '\0';

    return airouter_yaml_streq_ci(host, "localhost")
           || strncmp(host, "127.", 4) == 0
           || strcmp(host, "::1") == 0;
}


/*
 * balance: a mapping ({kind, interval, low_threshold, hold, url, path,
 * currency}), a kind name alone, true (the kind from the provider) or
 * false.  Checks every 10 minutes unless told; at 0 or below the paid
 * models leave the candidate lists unless hold: false.
 */
static int
airouter_config_channel_balance(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    int                       rc;
    const char               *text;
    airouter_channel_t       *ch;
    airouter_balance_conf_t  *b;

    ch = obj;
    b = &ch->balance;

    b->enabled = 1;
    b->interval = 600;
    b->low_threshold = -1;
    b->hold = 1;

    if (node->type == YAML_MAPPING_NODE) {
        rc = airouter_yaml_walk(y, node, path, airouter_config_balance_fields,
                                b);
        if (rc != AIROUTER_YAML_OK) {
            return rc;
        }

        if (b->kind == AIROUTER_BALANCE_JSON
            && (b->url == NULL || b->path == NULL))
        {
            return airouter_yaml_error_at(y, node, "\"%s\" of kind json needs "
                                          "url and path", path);
        }

        return AIROUTER_YAML_OK;
    }

    rc = airouter_yaml_text(y, node, path, "a mapping", &text);
    if (rc < 0) {
        return airouter_yaml_error_at(y, node, "\"%s\" must be a mapping, a "
                                      "kind or a boolean", path);
    }

    if (rc == 0 || airouter_yaml_streq_ci(text, "true")) {
        return AIROUTER_YAML_OK;
    }

    if (airouter_yaml_streq_ci(text, "false")) {
        b->enabled = 0;
        return AIROUTER_YAML_OK;
    }

    return airouter_config_balance_kind_field(y, node, path, b);
}


static int
airouter_config_balance_kind_field(airouter_yaml_t *y, yaml_node_t *node,
    const char *path, void *obj)
{
    int                       rc;
    const char               *text;
    airouter_balance_conf_t  *b;

    b = obj;

    rc = airouter_yaml_text(y, node, path, "a kind", &text);
    if (rc <= 0) {
        return rc == 0 ? AIROUTER_YAML_OK
               : airouter_yaml_error_at(y, node, "\"%s\" must be a string",
                                        path);
    }

    b->kind = airouter_config_balance_kind(text);

    if (b->kind == AIROUTER_BALANCE_NONE
        && !airouter_yaml_streq_ci(text, "none"))
    {
        return airouter_yaml_error_at(y, node, "\"%s\": unknown balance kind "
                                      "\"%.32s\" (openrouter, deepseek, "
                                      "siliconflow, moonshot, oneapi, json)",
                                      path, text);
    }

    return AIROUTER_YAML_OK;
}


airouter_balance_kind_e
airouter_config_balance_kind(const char *name)
{
    int  i;

    /* New-API and its relays answer One-API's billing endpoints */
    if (airouter_yaml_streq_ci(name, "newapi")) {
        return AIROUTER_BALANCE_ONEAPI;
    }

    for (i = 1; i < AIROUTER_BALANCE_N; i++) {
        if (airouter_yaml_streq_ci(name, airouter_config_balance_kinds[i])) {
            return (airouter_balance_kind_e) i;
        }
    }

    return AIROUTER_BALANCE_NONE;
}


const char *
airouter_config_balance_kind_name(airouter_balance_kind_e kind)
{
    return ((unsigned) kind < AIROUTER_BALANCE_N)
           ? airouter_config_balance_kinds[kind] : "none";
}
