/*
 * The configuration loader declared in airouter_config.h: router_config.yaml
 * and the providers.yaml beside it, read with libyaml's document API so that
 * every node keeps its position, walked against tables of known keys, then
 * resolved (channels to providers, strategies, auth keys).  Called by the
 * module's directive handler, the unit tests and the fuzz target.
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
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "airouter_arena.h"
#include "airouter_config.h"


#define AIROUTER_CONFIG_OK         0
#define AIROUTER_CONFIG_ERROR     -1

#define AIROUTER_CONFIG_PATH       256
#define AIROUTER_CONFIG_NOMAX      1e300
#define AIROUTER_CONFIG_MAX_KEYS   10000    /* per mapping */
#define AIROUTER_CONFIG_MAX_MERGE  4        /* nested "<<" merges */
#define AIROUTER_CONFIG_MAX_STEPS  1000000  /* mappings walked, alias bombs */
#define AIROUTER_CONFIG_ENV_NAME   256


typedef struct airouter_config_ctx_s    airouter_config_ctx_t;
typedef struct airouter_config_field_s  airouter_config_field_t;

typedef int (*airouter_config_handler_pt)(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, void *obj);


typedef enum {
    AIROUTER_CF_END = 0,
    AIROUTER_CF_INT,        /* int */
    AIROUTER_CF_LONG,       /* long */
    AIROUTER_CF_DOUBLE,     /* double; integers accepted */
    AIROUTER_CF_BOOL,       /* int 0/1 */
    AIROUTER_CF_STR,        /* char *, in the arena */
    AIROUTER_CF_URL,        /* char *, http(s) URL, trailing '/' cut */
    AIROUTER_CF_LIST,       /* airouter_strlist_t */
    AIROUTER_CF_TAGS,       /* airouter_strlist_t, lowercased */
    AIROUTER_CF_MAP,        /* nested table over obj + offset */
    AIROUTER_CF_FUNC,       /* handler(ctx, node, path, obj) */
    AIROUTER_CF_IGNORE,     /* known, unused: accepted silently */
    AIROUTER_CF_OWNED       /* nginx's directive does this */
} airouter_config_type_e;


/*
 * One known key of a mapping.  A table ends with a NULL key; the key "*"
 * matches every key the table does not name (with AIROUTER_CF_IGNORE:
 * "accept anything else here").
 */
struct airouter_config_field_s {
    const char                     *key;
    airouter_config_type_e          type;
    size_t                          offset;
    double                          min;
    double                          max;
    const airouter_config_field_t  *sub;
    airouter_config_handler_pt      handler;
    const char                     *directive;
};


/* Positions kept aside while channels wait for providers.yaml. */
typedef struct {
    airouter_pos_t                  id;
    airouter_pos_t                  provider;
} airouter_config_chpos_t;


struct airouter_config_ctx_s {
    airouter_config_t              *cf;
    airouter_diag_t                *diag;
    airouter_arena_t               *arena;
    yaml_document_t                *doc;
    const char                     *file;       /* the file being walked */
    unsigned long                   steps;
    unsigned                        merges;
    int                             failed;

    airouter_config_chpos_t        *chpos;      /* one per channel */

    /* auth, assembled once the whole file is read */
    char                           *api_token;
    airouter_apikey_t              *keys;
    airouter_pos_t                 *key_pos;
    size_t                          nkeys;
    airouter_pos_t                  auth_enabled_pos;

    airouter_pos_t                  strategy_pos;
};


typedef struct {
    const char                     *name;
    size_t                          n;
    airouter_weight_t               w[5];
} airouter_config_builtin_t;


static int airouter_config_error(airouter_config_ctx_t *ctx,
    const airouter_pos_t *pos, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__ ((format (printf, 3, 4)))
#endif
    ;
static void airouter_config_warn(airouter_config_ctx_t *ctx,
    const airouter_pos_t *pos, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__ ((format (printf, 3, 4)))
#endif
    ;
static airouter_pos_t airouter_config_pos(airouter_config_ctx_t *ctx,
    const yaml_node_t *node);
static void *airouter_config_alloc(airouter_config_ctx_t *ctx, size_t n);
static char *airouter_config_strdup(airouter_config_ctx_t *ctx,
    const char *s);
static int airouter_config_streq_ci(const char *a, const char *b);
static const char *airouter_config_kind(const yaml_node_t *node);
static void airouter_config_subpath(char *buf, const char *path,
    const char *key);

static int airouter_config_defaults(airouter_config_ctx_t *ctx);
static int airouter_config_parse(airouter_config_ctx_t *ctx,
    const char *file, yaml_document_t *doc, int optional);
static int airouter_config_load_providers_file(airouter_config_ctx_t *ctx);
static char *airouter_config_beside(airouter_config_ctx_t *ctx,
    const char *name);
static int airouter_config_finish(airouter_config_ctx_t *ctx);
static int airouter_config_resolve_channel(airouter_config_ctx_t *ctx,
    airouter_channel_t *ch, airouter_config_chpos_t *cp);
static int airouter_config_finish_auth(airouter_config_ctx_t *ctx);
static int airouter_config_finish_strategy(airouter_config_ctx_t *ctx);

static size_t airouter_config_expand(const char *s, size_t len, char *out,
    size_t cap);
static int airouter_config_text(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, const char *what,
    const char **text);
static int airouter_config_long(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, double min, double max,
    long *out);
static int airouter_config_double(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, double min, double max,
    double *out);
static int airouter_config_bool(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, int *out);
static int airouter_config_string(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, char **out);
static int airouter_config_url_value(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, char **out);
static int airouter_config_list(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, int lower,
    airouter_strlist_t *out);
static int airouter_config_range(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, double v, double min, double max);
static int airouter_config_append(airouter_config_ctx_t *ctx,
    airouter_strlist_t *list, char *const *items, size_t n);

static int airouter_config_walk(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path,
    const airouter_config_field_t *fields, void *obj);
static int airouter_config_walk_merge(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path,
    const airouter_config_field_t *fields, void *obj);
static int airouter_config_field(airouter_config_ctx_t *ctx,
    const airouter_config_field_t *f, yaml_node_t *key, yaml_node_t *value,
    const char *path, void *obj);

static int airouter_config_named_map(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, const char *what, size_t *n);
static int airouter_config_map_name(airouter_config_ctx_t *ctx,
    yaml_node_pair_t *pair, const char *path, const char *what,
    yaml_node_t **value, const char **name, airouter_pos_t *pos);
static int airouter_config_providers(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_channels(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_channel_id(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_channel_provider(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_channel_key(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_channel_keys(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_channel_aliases(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_channel_cost(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_channel_interval(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_auth_enabled(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_auth_token(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_auth_keys(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_default_strategy(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_strategies(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_strategy_weights(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, airouter_strategy_t *st);
static int airouter_config_weight_field(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, void *obj);
static int airouter_config_weight_order(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, void *obj);

static int airouter_config_url_versioned(const char *url);
static int airouter_config_url_loopback(const char *url);
static const char *airouter_config_url_host(const char *url);


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


#define AIROUTER_CF_NUM(key, type, st, member, min, max)                      \
    { key, type, offsetof(st, member), min, max, NULL, NULL, NULL }
#define AIROUTER_CF_VAL(key, type, st, member)                                \
    { key, type, offsetof(st, member), 0, 0, NULL, NULL, NULL }
#define AIROUTER_CF_SUB(key, st, member, sub)                                 \
    { key, AIROUTER_CF_MAP, offsetof(st, member), 0, 0, sub, NULL, NULL }
#define AIROUTER_CF_FN(key, handler)                                          \
    { key, AIROUTER_CF_FUNC, 0, 0, 0, NULL, handler, NULL }
#define AIROUTER_CF_SKIP(key)                                                 \
    { key, AIROUTER_CF_IGNORE, 0, 0, 0, NULL, NULL, NULL }
#define AIROUTER_CF_OWN(key, directive)                                       \
    { key, AIROUTER_CF_OWNED, 0, 0, 0, NULL, NULL, directive }
#define AIROUTER_CF_LAST                                                      \
    { NULL, AIROUTER_CF_END, 0, 0, 0, NULL, NULL, NULL }


/*
 * server: nginx listens, limits bodies and adds headers itself.  The port
 * is still checked as a number (a max above 0 asks for that), so that a
 * typo shows up where it was made.
 */
static const airouter_config_field_t  airouter_config_server_fields[] = {
    AIROUTER_CF_OWN("host", "listen"),
    { "port", AIROUTER_CF_OWNED, 0, 0, 65535, NULL, NULL, "listen" },
    AIROUTER_CF_OWN("cors_origins", "add_header Access-Control-Allow-Origin"),
    AIROUTER_CF_OWN("max_request_size", "client_max_body_size"),
    AIROUTER_CF_SKIP("debug"),
    AIROUTER_CF_SKIP("request_timeout"),
    AIROUTER_CF_LAST
};

static const airouter_config_field_t  airouter_config_admin_fields[] = {
    AIROUTER_CF_VAL("enabled", AIROUTER_CF_BOOL, airouter_auth_t,
                    admin_enabled),
    AIROUTER_CF_VAL("admin_token", AIROUTER_CF_STR, airouter_auth_t,
                    admin_token),
    AIROUTER_CF_LAST
};

static const airouter_config_field_t  airouter_config_auth_fields[] = {
    AIROUTER_CF_FN("enabled", airouter_config_auth_enabled),
    AIROUTER_CF_FN("api_token", airouter_config_auth_token),
    AIROUTER_CF_FN("api_keys", airouter_config_auth_keys),
    { "admin", AIROUTER_CF_MAP, 0, 0, 0, airouter_config_admin_fields,
      NULL, NULL },
    AIROUTER_CF_LAST
};

static const airouter_config_field_t  airouter_config_apikey_fields[] = {
    AIROUTER_CF_VAL("name", AIROUTER_CF_STR, airouter_apikey_t, name),
    AIROUTER_CF_VAL("key", AIROUTER_CF_STR, airouter_apikey_t, token),
    AIROUTER_CF_VAL("token", AIROUTER_CF_STR, airouter_apikey_t, token),
    AIROUTER_CF_VAL("allowed_tags", AIROUTER_CF_TAGS, airouter_apikey_t,
                    allowed_tags),
    AIROUTER_CF_VAL("allowed_models", AIROUTER_CF_LIST, airouter_apikey_t,
                    allowed_models),
    AIROUTER_CF_NUM("daily_budget", AIROUTER_CF_DOUBLE, airouter_apikey_t,
                    daily_budget, 0, AIROUTER_CONFIG_NOMAX),
    AIROUTER_CF_NUM("monthly_budget", AIROUTER_CF_DOUBLE, airouter_apikey_t,
                    monthly_budget, 0, AIROUTER_CONFIG_NOMAX),
    AIROUTER_CF_NUM("rate_limit", AIROUTER_CF_INT, airouter_apikey_t,
                    rate_limit, 0, INT_MAX),
    AIROUTER_CF_LAST
};

static const airouter_config_field_t  airouter_config_provider_fields[] = {
    AIROUTER_CF_SKIP("name"),
    AIROUTER_CF_SKIP("adapter_class"),
    AIROUTER_CF_SKIP("description"),
    AIROUTER_CF_VAL("display_name", AIROUTER_CF_STR, airouter_provider_t,
                    display_name),
    AIROUTER_CF_VAL("base_url", AIROUTER_CF_URL, airouter_provider_t,
                    base_url),
    AIROUTER_CF_VAL("auth_type", AIROUTER_CF_STR, airouter_provider_t,
                    auth_type),
    AIROUTER_CF_VAL("auth_header", AIROUTER_CF_STR, airouter_provider_t,
                    auth_header),
    AIROUTER_CF_NUM("rate_limit", AIROUTER_CF_INT, airouter_provider_t,
                    rate_limit, 0, INT_MAX),
    AIROUTER_CF_VAL("capabilities", AIROUTER_CF_LIST, airouter_provider_t,
                    capabilities),
    AIROUTER_CF_VAL("local", AIROUTER_CF_BOOL, airouter_provider_t, local),
    AIROUTER_CF_VAL("free", AIROUTER_CF_BOOL, airouter_provider_t, free),
    AIROUTER_CF_LAST
};

static const airouter_config_field_t  airouter_config_cost_fields[] = {
    AIROUTER_CF_NUM("input", AIROUTER_CF_DOUBLE, airouter_channel_t,
                    cost_input, 0, AIROUTER_CONFIG_NOMAX),
    AIROUTER_CF_NUM("output", AIROUTER_CF_DOUBLE, airouter_channel_t,
                    cost_output, 0, AIROUTER_CONFIG_NOMAX),
    AIROUTER_CF_NUM("cache_read", AIROUTER_CF_DOUBLE, airouter_channel_t,
                    cost_cache_read, 0, AIROUTER_CONFIG_NOMAX),
    AIROUTER_CF_NUM("cache_write", AIROUTER_CF_DOUBLE, airouter_channel_t,
                    cost_cache_write, 0, AIROUTER_CONFIG_NOMAX),
    AIROUTER_CF_LAST
};

static const airouter_config_field_t  airouter_config_alias_fields[] = {
    AIROUTER_CF_VAL("alias", AIROUTER_CF_STR, airouter_alias_t, alias),
    AIROUTER_CF_VAL("target", AIROUTER_CF_STR, airouter_alias_t, target),
    AIROUTER_CF_LAST
};

static const airouter_config_field_t  airouter_config_channel_fields[] = {
    AIROUTER_CF_FN("id", airouter_config_channel_id),
    AIROUTER_CF_VAL("name", AIROUTER_CF_STR, airouter_channel_t, name),
    AIROUTER_CF_FN("provider", airouter_config_channel_provider),
    AIROUTER_CF_VAL("base_url", AIROUTER_CF_URL, airouter_channel_t,
                    base_url),
    AIROUTER_CF_VAL("model_name", AIROUTER_CF_STR, airouter_channel_t,
                    model_name),
    AIROUTER_CF_FN("api_key", airouter_config_channel_key),
    AIROUTER_CF_FN("api_keys", airouter_config_channel_keys),
    AIROUTER_CF_VAL("enabled", AIROUTER_CF_BOOL, airouter_channel_t,
                    enabled),
    AIROUTER_CF_NUM("priority", AIROUTER_CF_INT, airouter_channel_t,
                    priority, 0, 1000000),
    AIROUTER_CF_NUM("weight", AIROUTER_CF_DOUBLE, airouter_channel_t,
                    weight, 0, AIROUTER_CONFIG_NOMAX),
    AIROUTER_CF_VAL("tags", AIROUTER_CF_TAGS, airouter_channel_t, tags),
    AIROUTER_CF_VAL("configured_models", AIROUTER_CF_LIST,
                    airouter_channel_t, configured_models),
    AIROUTER_CF_FN("model_aliases", airouter_config_channel_aliases),
    AIROUTER_CF_FN("cost_per_token", airouter_config_channel_cost),
    AIROUTER_CF_VAL("currency", AIROUTER_CF_STR, airouter_channel_t,
                    currency),
    AIROUTER_CF_NUM("daily_limit", AIROUTER_CF_LONG, airouter_channel_t,
                    daily_limit, 0, AIROUTER_CONFIG_NOMAX),
    AIROUTER_CF_VAL("capabilities", AIROUTER_CF_LIST, airouter_channel_t,
                    capabilities),
    AIROUTER_CF_VAL("local", AIROUTER_CF_BOOL, airouter_channel_t, local),
    AIROUTER_CF_VAL("free", AIROUTER_CF_BOOL, airouter_channel_t, free),
    AIROUTER_CF_FN("discovery_interval_hours",
                   airouter_config_channel_interval),
    AIROUTER_CF_VAL("models_file", AIROUTER_CF_STR, airouter_channel_t,
                    models_file),
    AIROUTER_CF_LAST
};

static const airouter_config_field_t  airouter_config_weight_fields[] = {
    AIROUTER_CF_FN("field", airouter_config_weight_field),
    AIROUTER_CF_NUM("weight", AIROUTER_CF_DOUBLE, airouter_weight_t, weight,
                    0, AIROUTER_CONFIG_NOMAX),
    AIROUTER_CF_FN("order", airouter_config_weight_order),
    AIROUTER_CF_LAST
};

static const airouter_config_field_t  airouter_config_filters_fields[] = {
    AIROUTER_CF_NUM("min_context_length", AIROUTER_CF_LONG,
                    airouter_filters_t, min_context_length,
                    0, AIROUTER_CONFIG_NOMAX),
    AIROUTER_CF_NUM("min_parameter_count", AIROUTER_CF_DOUBLE,
                    airouter_filters_t, min_parameter_count,
                    0, AIROUTER_CONFIG_NOMAX),
    AIROUTER_CF_VAL("exclude_embedding_models", AIROUTER_CF_BOOL,
                    airouter_filters_t, exclude_embedding_models),
    AIROUTER_CF_VAL("exclude_vision_only_models", AIROUTER_CF_BOOL,
                    airouter_filters_t, exclude_vision_only_models),
    AIROUTER_CF_LAST
};

static const airouter_config_field_t  airouter_config_cooldown_fields[] = {
    AIROUTER_CF_NUM("rate_limit_exceeded", AIROUTER_CF_LONG,
                    airouter_error_handling_t, cooldown_rate_limit,
                    0, AIROUTER_CONFIG_NOMAX),
    AIROUTER_CF_NUM("timeout", AIROUTER_CF_LONG,
                    airouter_error_handling_t, cooldown_timeout,
                    0, AIROUTER_CONFIG_NOMAX),
    AIROUTER_CF_NUM("server_error", AIROUTER_CF_LONG,
                    airouter_error_handling_t, cooldown_server_error,
                    0, AIROUTER_CONFIG_NOMAX),
    AIROUTER_CF_NUM("invalid_api_key", AIROUTER_CF_LONG,
                    airouter_error_handling_t, blacklist_period,
                    0, AIROUTER_CONFIG_NOMAX),
    AIROUTER_CF_LAST
};

static const airouter_config_field_t  airouter_config_errors_fields[] = {
    AIROUTER_CF_VAL("permanent_errors", AIROUTER_CF_LIST,
                    airouter_error_handling_t, permanent_errors),
    AIROUTER_CF_VAL("temporary_errors", AIROUTER_CF_LIST,
                    airouter_error_handling_t, temporary_errors),
    { "cooldown_periods", AIROUTER_CF_MAP, 0, 0, 0,
      airouter_config_cooldown_fields, NULL, NULL },
    AIROUTER_CF_NUM("blacklist_period", AIROUTER_CF_LONG,
                    airouter_error_handling_t, blacklist_period,
                    0, AIROUTER_CONFIG_NOMAX),
    AIROUTER_CF_LAST
};

static const airouter_config_field_t  airouter_config_routing_fields[] = {
    AIROUTER_CF_FN("default_strategy", airouter_config_default_strategy),
    AIROUTER_CF_VAL("enable_fallback", AIROUTER_CF_BOOL, airouter_routing_t,
                    enable_fallback),
    AIROUTER_CF_NUM("max_retry_attempts", AIROUTER_CF_INT, airouter_routing_t,
                    max_retry_attempts, 1, 20),
    AIROUTER_CF_NUM("health_check_interval", AIROUTER_CF_LONG,
                    airouter_routing_t, health_check_interval,
                    0, AIROUTER_CONFIG_NOMAX),
    AIROUTER_CF_NUM("error_cooldown_period", AIROUTER_CF_LONG,
                    airouter_routing_t, error_cooldown_period,
                    0, AIROUTER_CONFIG_NOMAX),
    AIROUTER_CF_NUM("request_timeout", AIROUTER_CF_LONG, airouter_routing_t,
                    request_deadline, 1, AIROUTER_CONFIG_NOMAX),
    AIROUTER_CF_NUM("request_deadline", AIROUTER_CF_LONG, airouter_routing_t,
                    request_deadline, 1, AIROUTER_CONFIG_NOMAX),
    AIROUTER_CF_SUB("model_filters", airouter_routing_t, filters,
                    airouter_config_filters_fields),
    AIROUTER_CF_FN("sorting_strategies", airouter_config_strategies),
    AIROUTER_CF_SUB("error_handling", airouter_routing_t, errors,
                    airouter_config_errors_fields),
    AIROUTER_CF_LAST
};

static const airouter_config_field_t  airouter_config_cost_control_fields[] = {
    AIROUTER_CF_NUM("global_daily_budget", AIROUTER_CF_DOUBLE,
                    airouter_cost_control_t, global_daily_budget,
                    0, AIROUTER_CONFIG_NOMAX),
    AIROUTER_CF_NUM("alert_threshold", AIROUTER_CF_DOUBLE,
                    airouter_cost_control_t, alert_threshold, 0, 1),
    AIROUTER_CF_VAL("auto_disable_on_budget_exceeded", AIROUTER_CF_BOOL,
                    airouter_cost_control_t,
                    auto_disable_on_budget_exceeded),
    AIROUTER_CF_VAL("currency", AIROUTER_CF_STR, airouter_cost_control_t,
                    currency),
    AIROUTER_CF_NUM("cny_to_usd", AIROUTER_CF_DOUBLE,
                    airouter_cost_control_t, cny_to_usd,
                    0, AIROUTER_CONFIG_NOMAX),
    AIROUTER_CF_LAST
};

/* a discovery interval under 6 minutes would hammer the providers */
static const airouter_config_field_t  airouter_config_task_fields[] = {
    AIROUTER_CF_VAL("enabled", AIROUTER_CF_BOOL, airouter_task_t, enabled),
    AIROUTER_CF_NUM("interval_hours", AIROUTER_CF_DOUBLE, airouter_task_t,
                    interval_hours, 0.1, AIROUTER_CONFIG_NOMAX),
    AIROUTER_CF_VAL("run_on_startup", AIROUTER_CF_BOOL, airouter_task_t,
                    run_on_startup),
    AIROUTER_CF_LAST
};

static const airouter_config_field_t  airouter_config_tasks_fields[] = {
    AIROUTER_CF_SUB("model_discovery", airouter_config_t, discovery,
                    airouter_config_task_fields),
    AIROUTER_CF_SKIP("*"),
    AIROUTER_CF_LAST
};

static const airouter_config_field_t  airouter_config_top_fields[] = {
    AIROUTER_CF_SKIP("system"),
    { "server", AIROUTER_CF_MAP, 0, 0, 0, airouter_config_server_fields,
      NULL, NULL },
    AIROUTER_CF_SUB("auth", airouter_config_t, auth,
                    airouter_config_auth_fields),
    AIROUTER_CF_FN("providers", airouter_config_providers),
    AIROUTER_CF_FN("channels", airouter_config_channels),
    AIROUTER_CF_SUB("routing", airouter_config_t, routing,
                    airouter_config_routing_fields),
    AIROUTER_CF_SKIP("caching"),
    AIROUTER_CF_SKIP("monitoring"),
    AIROUTER_CF_SUB("cost_control", airouter_config_t, cost,
                    airouter_config_cost_control_fields),
    { "tasks", AIROUTER_CF_MAP, 0, 0, 0, airouter_config_tasks_fields,
      NULL, NULL },
    AIROUTER_CF_LAST
};

/* providers.yaml: "providers:" and nothing else we know of */
static const airouter_config_field_t  airouter_config_pfile_fields[] = {
    AIROUTER_CF_FN("providers", airouter_config_providers),
    AIROUTER_CF_LAST
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
    ctx.diag = diag;
    ctx.arena = arena;
    ctx.file = path;

    cf->file = airouter_config_strdup(&ctx, path);
    if (cf->file == NULL) {
        goto failed;
    }

    ctx.file = cf->file;

    if (airouter_config_defaults(&ctx) != AIROUTER_CONFIG_OK) {
        goto failed;
    }

    if (airouter_config_parse(&ctx, cf->file, &doc, 0) < 0) {
        goto failed;
    }

    ctx.doc = &doc;
    root = yaml_document_get_root_node(&doc);

    if (root == NULL) {
        airouter_pos_t  pos = { cf->file, 1, 1 };

        rc = airouter_config_error(&ctx, &pos,
                                   "the file is empty, expected a mapping "
                                   "of sections (channels, routing, ...)");

    } else if (root->type != YAML_MAPPING_NODE) {
        airouter_pos_t  pos = airouter_config_pos(&ctx, root);

        rc = airouter_config_error(&ctx, &pos,
                                   "the top level must be a mapping of "
                                   "sections, got %s",
                                   airouter_config_kind(root));

    } else {
        rc = airouter_config_walk(&ctx, root, "", airouter_config_top_fields,
                                  cf);
    }

    yaml_document_delete(&doc);
    ctx.doc = NULL;

    if (rc != AIROUTER_CONFIG_OK) {
        goto failed;
    }

    if (airouter_config_load_providers_file(&ctx) != AIROUTER_CONFIG_OK) {
        goto failed;
    }

    if (airouter_config_finish(&ctx) != AIROUTER_CONFIG_OK) {
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
    rest = api_path;

    /* a versioned base already says "/v1" (or "/v4", "/v1beta") */
    if (ch->versioned && strncmp(api_path, "/v1", 3) == 0
        && (api_path[3] == '/' || api_path[3] == '\0'
            || api_path[3] == '?'))
    {
        rest = api_path + 3;
    }

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
airouter_score_name(airouter_score_e score)
{
    if ((unsigned) score >= AIROUTER_SCORE_N) {
        return "unknown";
    }

    return airouter_config_score_names[score];
}


static int
airouter_config_error(airouter_config_ctx_t *ctx, const airouter_pos_t *pos,
    const char *fmt, ...)
{
    int       n;
    size_t    size;
    va_list   args;
    char     *p;

    if (ctx->failed) {
        return AIROUTER_CONFIG_ERROR;
    }

    ctx->failed = 1;

    p = ctx->diag->error;
    size = sizeof(ctx->diag->error);

    if (pos != NULL && pos->line != 0) {
        n = snprintf(p, size, "%s:%u:%u: ", pos->file, pos->line,
                     pos->column);

    } else {
        n = snprintf(p, size, "%s: ", pos ? pos->file : ctx->file);
    }

    if (n < 0 || (size_t) n >= size) {
        return AIROUTER_CONFIG_ERROR;
    }

    va_start(args, fmt);
    vsnprintf(p + n, size - (size_t) n, fmt, args);
    va_end(args);

    return AIROUTER_CONFIG_ERROR;
}


static void
airouter_config_warn(airouter_config_ctx_t *ctx, const airouter_pos_t *pos,
    const char *fmt, ...)
{
    int      n;
    char     msg[1024];
    va_list  args;

    if (ctx->diag->warn == NULL) {
        return;
    }

    n = snprintf(msg, sizeof(msg), "%s:%u:%u: ", pos->file, pos->line,
                 pos->column);

    if (n < 0 || (size_t) n >= sizeof(msg)) {
        return;
    }

    va_start(args, fmt);
    vsnprintf(msg + n, sizeof(msg) - (size_t) n, fmt, args);
    va_end(args);

    ctx->diag->warn(ctx->diag->ctx, msg);
}


static airouter_pos_t
airouter_config_pos(airouter_config_ctx_t *ctx, const yaml_node_t *node)
{
    airouter_pos_t  pos;

    /* libyaml counts from 0; editors count from 1 */
    pos.file = ctx->file;
    pos.line = (unsigned) node->start_mark.line + 1;
    pos.column = (unsigned) node->start_mark.column + 1;

    return pos;
}


static void *
airouter_config_alloc(airouter_config_ctx_t *ctx, size_t n)
{
    void  *p;

    p = airouter_arena_alloc(ctx->arena, n);
    if (p == NULL) {
        airouter_config_error(ctx, NULL, "out of memory");
    }

    return p;
}


static char *
airouter_config_strdup(airouter_config_ctx_t *ctx, const char *s)
{
    char  *p;

    p = airouter_arena_strdup(ctx->arena, s);
    if (p == NULL) {
        airouter_config_error(ctx, NULL, "out of memory");
    }

    return p;
}


/* ASCII only, and locale-free, unlike strcasecmp() */
static int
airouter_config_streq_ci(const char *a, const char *b)
{
    unsigned char  ca, cb;

    for ( ;; ) {
        ca = (unsigned char) *a++;
        cb = (unsigned char) *b++;

        if (ca >= 'A' && ca <= 'Z') {
            ca = (unsigned char) (ca - 'A' + 'a');
        }

        if (cb >= 'A' && cb <= 'Z') {
            cb = (unsigned char) (cb - 'A' + 'a');
        }

        if (ca != cb) {
            return 0;
        }

        if (ca == '\0') {
            return 1;
        }
    }
}


static const char *
airouter_config_kind(const yaml_node_t *node)
{
    switch (node->type) {

    case YAML_MAPPING_NODE:
        return "a mapping";

    case YAML_SEQUENCE_NODE:
        return "a list";

    default:
        return "a string";
    }
}


static void
airouter_config_subpath(char *buf, const char *path, const char *key)
{
    /* long paths are cut: they only serve messages */
    snprintf(buf, AIROUTER_CONFIG_PATH, "%s%s%.128s", path,
             path[0] ? "." : "", key);
}


static int
airouter_config_defaults(airouter_config_ctx_t *ctx)
{
    size_t                           i, j, n;
    airouter_routing_t              *rt;
    airouter_strategy_t             *st;
    airouter_error_handling_t       *eh;
    const airouter_config_builtin_t *b;

    rt = &ctx->cf->routing;

    rt->enable_fallback = 1;
    rt->max_retry_attempts = 3;
    rt->health_check_interval = 300;
    rt->error_cooldown_period = 60;
    rt->request_deadline = 120;

    eh = &rt->errors;
    eh->cooldown_rate_limit = 60;
    eh->cooldown_timeout = 30;
    eh->cooldown_server_error = 120;
    eh->blacklist_period = 3600;

    st = airouter_config_alloc(ctx,
                               AIROUTER_CONFIG_NBUILTINS * sizeof(*st));
    if (st == NULL) {
        return AIROUTER_CONFIG_ERROR;
    }

    for (i = 0; i < AIROUTER_CONFIG_NBUILTINS; i++) {
        b = &airouter_config_builtins[i];

        st[i].name = airouter_config_strdup(ctx, b->name);
        st[i].weights = airouter_config_alloc(ctx,
                                              b->n * sizeof(airouter_weight_t));
        if (st[i].name == NULL || st[i].weights == NULL) {
            return AIROUTER_CONFIG_ERROR;
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
    eh->permanent_errors.items = airouter_config_alloc(ctx, n * sizeof(char *));
    if (eh->permanent_errors.items == NULL) {
        return AIROUTER_CONFIG_ERROR;
    }

    for (i = 0; i < n; i++) {
        eh->permanent_errors.items[i] =
            airouter_config_strdup(ctx, airouter_config_permanent_errors[i]);
        if (eh->permanent_errors.items[i] == NULL) {
            return AIROUTER_CONFIG_ERROR;
        }
    }

    eh->permanent_errors.n = n;

    n = sizeof(airouter_config_temporary_errors) / sizeof(char *);
    eh->temporary_errors.items = airouter_config_alloc(ctx, n * sizeof(char *));
    if (eh->temporary_errors.items == NULL) {
        return AIROUTER_CONFIG_ERROR;
    }

    for (i = 0; i < n; i++) {
        eh->temporary_errors.items[i] =
            airouter_config_strdup(ctx, airouter_config_temporary_errors[i]);
        if (eh->temporary_errors.items[i] == NULL) {
            return AIROUTER_CONFIG_ERROR;
        }
    }

    eh->temporary_errors.n = n;

    ctx->cf->cost.alert_threshold = 0.8;
    ctx->cf->cost.cny_to_usd = 0.14;

    ctx->cf->discovery.enabled = 1;
    ctx->cf->discovery.interval_hours = 6;
    ctx->cf->discovery.run_on_startup = 1;

    return AIROUTER_CONFIG_OK;
}


/*
 * Returns 1 when doc holds the file, 0 when an optional file is absent,
 * -1 on error.
 */
static int
airouter_config_parse(airouter_config_ctx_t *ctx, const char *file,
    yaml_document_t *doc, int optional)
{
    int             ok, err;
    FILE           *fp;
    yaml_mark_t     mark;
    yaml_parser_t   parser;
    airouter_pos_t  pos;

    fp = fopen(file, "rb");
    if (fp == NULL) {
        err = errno;

        if (optional && (err == ENOENT || err == ENOTDIR)) {
            return 0;
        }

        airouter_config_error(ctx, NULL, "cannot open: %s", strerror(err));
        return -1;
    }

    if (!yaml_parser_initialize(&parser)) {
        fclose(fp);
        airouter_config_error(ctx, NULL, "out of memory");
        return -1;
    }

    yaml_parser_set_input_file(&parser, fp);

    ok = yaml_parser_load(&parser, doc);

    if (!ok) {
        /* yaml_parser_load() has already released the document */

        if (parser.error == YAML_MEMORY_ERROR) {
            airouter_config_error(ctx, NULL, "out of memory");

        } else {
            /* reader errors (bad UTF-8) carry no problem mark */
            mark = parser.error == YAML_READER_ERROR ? parser.mark
                                                     : parser.problem_mark;
            pos.file = file;
            pos.line = (unsigned) mark.line + 1;
            pos.column = (unsigned) mark.column + 1;

            if (parser.context != NULL) {
                airouter_config_error(ctx, &pos,
                                      "YAML syntax error: %s (%s at %u:%u)",
                                      parser.problem ? parser.problem
                                                     : "unknown problem",
                                      parser.context,
                                      (unsigned) parser.context_mark.line + 1,
                                      (unsigned) parser.context_mark.column
                                      + 1);

            } else {
                airouter_config_error(ctx, &pos, "YAML syntax error: %s",
                                      parser.problem ? parser.problem
                                                     : "unknown problem");
            }
        }
    }

    yaml_parser_delete(&parser);
    fclose(fp);

    return ok ? 1 : -1;
}


/* name, taken relative to the directory of the main config file */
static char *
airouter_config_beside(airouter_config_ctx_t *ctx, const char *name)
{
    char        *file;
    size_t       dlen, nlen;
    const char  *slash;

    slash = strrchr(ctx->cf->file, '/');
    dlen = slash ? (size_t) (slash - ctx->cf->file) + 1 : 0;
    nlen = strlen(name) + 1;

    file = airouter_config_alloc(ctx, dlen + nlen);
    if (file == NULL) {
        return NULL;
    }

    memcpy(file, ctx->cf->file, dlen);
    memcpy(file + dlen, name, nlen);

    return file;
}


static int
airouter_config_load_providers_file(airouter_config_ctx_t *ctx)
{
    int               rc;
    char             *file;
    yaml_node_t      *root, *key;
    yaml_node_pair_t *pair;
    yaml_document_t   doc;
    airouter_pos_t    pos;

    file = airouter_config_beside(ctx, "providers.yaml");
    if (file == NULL) {
        return AIROUTER_CONFIG_ERROR;
    }

    ctx->file = file;

    rc = airouter_config_parse(ctx, file, &doc, 1);

    if (rc <= 0) {
        ctx->file = ctx->cf->file;
        return rc == 0 ? AIROUTER_CONFIG_OK : AIROUTER_CONFIG_ERROR;
    }

    ctx->cf->providers_file = file;
    ctx->doc = &doc;

    root = yaml_document_get_root_node(&doc);
    rc = AIROUTER_CONFIG_OK;

    if (root == NULL) {
        /* an empty providers.yaml adds nothing */

    } else if (root->type != YAML_MAPPING_NODE) {
        pos = airouter_config_pos(ctx, root);
        rc = airouter_config_error(ctx, &pos,
                                   "the top level must be a mapping of "
                                   "providers, got %s",
                                   airouter_config_kind(root));

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
            rc = airouter_config_walk(ctx, root, "",
                                      airouter_config_pfile_fields, ctx->cf);

        } else {
            rc = airouter_config_providers(ctx, root, "providers", ctx->cf);
        }
    }

    yaml_document_delete(&doc);
    ctx->doc = NULL;
    ctx->file = ctx->cf->file;

    return rc;
}


static int
airouter_config_finish(airouter_config_ctx_t *ctx)
{
    size_t              i;
    airouter_config_t  *cf;

    cf = ctx->cf;

    for (i = 0; i < cf->nchannels; i++) {
        if (airouter_config_resolve_channel(ctx, &cf->channels[i],
                                            &ctx->chpos[i])
            != AIROUTER_CONFIG_OK)
        {
            return AIROUTER_CONFIG_ERROR;
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
            cf->providers[i].auth_type = airouter_config_strdup(ctx,
                                                                "bearer");
            if (cf->providers[i].auth_type == NULL) {
                return AIROUTER_CONFIG_ERROR;
            }
        }
    }

    if (cf->cost.currency == NULL) {
        cf->cost.currency = airouter_config_strdup(ctx, "USD");
        if (cf->cost.currency == NULL) {
            return AIROUTER_CONFIG_ERROR;
        }
    }

    if (airouter_config_finish_strategy(ctx) != AIROUTER_CONFIG_OK) {
        return AIROUTER_CONFIG_ERROR;
    }

    return airouter_config_finish_auth(ctx);
}


static int
airouter_config_resolve_channel(airouter_config_ctx_t *ctx,
    airouter_channel_t *ch, airouter_config_chpos_t *cp)
{
    size_t                i;
    airouter_provider_t  *pr;
    airouter_config_t    *cf;

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
            return airouter_config_error(ctx, &cp->provider,
                                         "unknown provider \"%s\"",
                                         ch->provider_name);
        }
    }

    ch->provider = pr;

    if (ch->base_url == NULL && pr != NULL) {
        ch->base_url = pr->base_url;
    }

    if (ch->base_url == NULL) {
        return airouter_config_error(ctx, &ch->pos,
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
            && airouter_config_append(ctx, &ch->configured_models,
                                      &ch->model_name, 1)
               != AIROUTER_CONFIG_OK)
        {
            return AIROUTER_CONFIG_ERROR;
        }
    }

    if (ch->capabilities.n == 0 && pr != NULL) {
        /* shared, not copied: both live as long as the arena */
        ch->capabilities = pr->capabilities;
    }

    if (ch->local < 0) {
        ch->local = (pr != NULL && pr->local)
                    || airouter_config_url_loopback(ch->base_url);
    }

    if (ch->free < 0) {
        ch->free = pr != NULL && pr->free;
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
        ch->models_file = airouter_config_beside(ctx, ch->models_file);
        if (ch->models_file == NULL) {
            return AIROUTER_CONFIG_ERROR;
        }
    }

    if (ch->currency == NULL) {
        ch->currency = airouter_config_strdup(ctx, "USD");
        if (ch->currency == NULL) {
            return AIROUTER_CONFIG_ERROR;
        }
    }

    return AIROUTER_CONFIG_OK;
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
airouter_config_finish_auth(airouter_config_ctx_t *ctx)
{
    size_t            i, j, n, first;
    airouter_auth_t  *auth;

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
        auth->keys = airouter_config_alloc(ctx, n * sizeof(airouter_apikey_t));
        if (auth->keys == NULL) {
            return AIROUTER_CONFIG_ERROR;
        }

        if (first) {
            auth->keys[0].name = airouter_config_strdup(ctx, "default");
            if (auth->keys[0].name == NULL) {
                return AIROUTER_CONFIG_ERROR;
            }

            auth->keys[0].token = ctx->api_token;
        }

        for (i = 0; i < ctx->nkeys; i++) {
            auth->keys[first + i] = ctx->keys[i];
        }

        auth->nkeys = n;
    }

    for (i = 0; i < ctx->nkeys; i++) {
        for (j = 0; j < first + i; j++) {
            if (strcmp(auth->keys[j].name, ctx->keys[i].name) == 0) {
                return airouter_config_error(ctx, &ctx->key_pos[i],
                                             "duplicate api key name \"%s\"",
                                             ctx->keys[i].name);
            }

            if (strcmp(auth->keys[j].token, ctx->keys[i].token) == 0) {
                return airouter_config_error(ctx, &ctx->key_pos[i],
                                             "api key \"%s\" repeats the "
                                             "token of \"%s\"",
                                             ctx->keys[i].name,
                                             auth->keys[j].name);
            }
        }
    }

    if (auth->enabled && n == 0) {
        return airouter_config_error(ctx, &ctx->auth_enabled_pos,
                                     "auth.enabled is true but no api_token "
                                     "or api_keys is set: nginx cannot "
                                     "generate and write one back; set a "
                                     "token");
    }

    return AIROUTER_CONFIG_OK;
}


static int
airouter_config_finish_strategy(airouter_config_ctx_t *ctx)
{
    size_t               i, len, n;
    char                 known[512];
    airouter_routing_t  *rt;

    rt = &ctx->cf->routing;

    if (rt->default_strategy == NULL) {
        rt->default_strategy = airouter_config_strdup(ctx, "cost_first");
        return rt->default_strategy ? AIROUTER_CONFIG_OK
                                    : AIROUTER_CONFIG_ERROR;
    }

    if (airouter_config_strategy(ctx->cf, rt->default_strategy) != NULL) {
        return AIROUTER_CONFIG_OK;
    }

    len = 0;
    known[0] = '\0';

    for (i = 0; i < rt->nstrategies && len < sizeof(known); i++) {
        n = (size_t) snprintf(known + len, sizeof(known) - len, "%s%s",
                              i ? ", " : "", rt->strategies[i].name);
        len += n;
    }

    return airouter_config_error(ctx, &ctx->strategy_pos,
                                 "unknown strategy \"%s\" (known: %s)",
                                 rt->default_strategy, known);
}


/*
 * ${NAME} and ${NAME:-default} in s[0..len) are replaced; anything else,
 * an unterminated "${" included, is copied as written.  Writes at most cap
 * bytes to out (none when out is NULL) and returns the expanded length.
 */
static size_t
airouter_config_expand(const char *s, size_t len, char *out, size_t cap)
{
    char         name[AIROUTER_CONFIG_ENV_NAME];
    size_t       i, j, k, n, nlen, vlen;
    const char  *val, *def;

    n = 0;
    i = 0;

    while (i < len) {
        val = NULL;
        vlen = 0;

        if (s[i] == '$' && i + 1 < len && s[i + 1] == '{') {
            for (j = i + 2; j < len; j++) {
                if (!(s[j] == '_' || (s[j] >= 'A' && s[j] <= 'Z')
                      || (s[j] >= 'a' && s[j] <= 'z')
                      || (j > i + 2 && s[j] >= '0' && s[j] <= '9')))
                {
                    break;
                }
            }

            nlen = j - (i + 2);
            k = 0;

            if (nlen > 0 && nlen < sizeof(name) && j < len) {
                memcpy(name, s + i + 2, nlen);
                name[nlen] = '\0';

                if (s[j] == '}') {
                    val = getenv(name);
                    val = val ? val : "";
                    vlen = strlen(val);
                    k = j + 1;

                } else if (s[j] == ':' && j + 1 < len && s[j + 1] == '-') {
                    for (k = j + 2; k < len && s[k] != '}'; k++) {
                        /* void */
                    }

                    if (k < len) {
                        def = s + j + 2;
                        val = getenv(name);

                        if (val == NULL || val[0] == '\0') {
                            val = def;
                            vlen = k - (j + 2);

                        } else {
                            vlen = strlen(val);
                        }

                        k++;
                    }
                }
            }

            if (val != NULL) {
                for (j = 0; j < vlen; j++, n++) {
                    if (out != NULL && n < cap) {
                        out[n] = val[j];
                    }
                }

                i = k;
                continue;
            }
        }

        if (out != NULL && n < cap) {
            out[n] = s[i];
        }

        n++;
        i++;
    }

    return n;
}


/*
 * The text of a scalar after ${ENV} substitution.  Returns 1 with *text
 * set, 0 for a YAML null (plain empty, "~", "null"), -1 when the node is not
 * a scalar ("<path> must be <what>, got a list").
 */
static int
airouter_config_text(airouter_config_ctx_t *ctx, yaml_node_t *node,
    const char *path, const char *what, const char **text)
{
    char            *out;
    size_t           len, n;
    const char      *s;
    airouter_pos_t   pos;

    pos = airouter_config_pos(ctx, node);

    if (node->type != YAML_SCALAR_NODE) {
        return airouter_config_error(ctx, &pos, "\"%s\" must be %s, got %s",
                                     path, what, airouter_config_kind(node));
    }

    s = (const char *) node->data.scalar.value;
    len = node->data.scalar.length;

    if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
        && (len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0
            || strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0))
    {
        return 0;
    }

    if (strlen(s) != len) {
        return airouter_config_error(ctx, &pos,
                                     "\"%s\" must not contain a NUL byte",
                                     path);
    }

    if (strstr(s, "${") == NULL) {
        *text = s;
        return 1;
    }

    n = airouter_config_expand(s, len, NULL, 0);

    out = airouter_config_alloc(ctx, n + 1);
    if (out == NULL) {
        return -1;
    }

    airouter_config_expand(s, len, out, n);
    out[n] = '\0';

    *text = out;

    return 1;
}


static int
airouter_config_range(airouter_config_ctx_t *ctx, yaml_node_t *node,
    const char *path, double v, double min, double max)
{
    airouter_pos_t  pos;

    if (v >= min && v <= max) {
        return AIROUTER_CONFIG_OK;
    }

    pos = airouter_config_pos(ctx, node);

    if (max >= AIROUTER_CONFIG_NOMAX) {
        return airouter_config_error(ctx, &pos,
                                     "\"%s\" must be at least %g, got %g",
                                     path, min, v);
    }

    return airouter_config_error(ctx, &pos,
                                 "\"%s\" must be between %g and %g, got %g",
                                 path, min, max, v);
}


static int
airouter_config_long(airouter_config_ctx_t *ctx, yaml_node_t *node,
    const char *path, double min, double max, long *out)
{
    int              rc;
    long             v;
    char            *end;
    const char      *s;
    airouter_pos_t   pos;

    rc = airouter_config_text(ctx, node, path, "an integer", &s);
    if (rc <= 0) {
        return rc;
    }

    errno = 0;
    v = 0;
    end = NULL;

    /* strtol() would skip leading blanks: a quoted " 5" is not a number */
    if ((s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '+') {
        v = strtol(s, &end, 10);
    }

    if (end == NULL || end == s || *end != '\0' || errno != 0) {
        pos = airouter_config_pos(ctx, node);
        return airouter_config_error(ctx, &pos,
                                     "\"%s\" must be an integer, got "
                                     "\"%.64s\"", path, s);
    }

    if (airouter_config_range(ctx, node, path, (double) v, min, max)
        != AIROUTER_CONFIG_OK)
    {
        return AIROUTER_CONFIG_ERROR;
    }

    *out = v;

    return AIROUTER_CONFIG_OK;
}


static int
airouter_config_double(airouter_config_ctx_t *ctx, yaml_node_t *node,
    const char *path, double min, double max, double *out)
{
    int              rc;
    char            *end;
    double           v;
    const char      *s;
    airouter_pos_t   pos;

    rc = airouter_config_text(ctx, node, path, "a number", &s);
    if (rc <= 0) {
        return rc;
    }

    errno = 0;
    v = 0;
    end = NULL;

    if ((s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '+'
        || s[0] == '.')
    {
        v = strtod(s, &end);
    }

    if (end == NULL || end == s || *end != '\0' || errno == ERANGE
        || !isfinite(v))
    {
        pos = airouter_config_pos(ctx, node);
        return airouter_config_error(ctx, &pos,
                                     "\"%s\" must be a number, got \"%.64s\"",
                                     path, s);
    }

    if (airouter_config_range(ctx, node, path, v, min, max)
        != AIROUTER_CONFIG_OK)
    {
        return AIROUTER_CONFIG_ERROR;
    }

    *out = v;

    return AIROUTER_CONFIG_OK;
}


static int
airouter_config_bool(airouter_config_ctx_t *ctx, yaml_node_t *node,
    const char *path, int *out)
{
    int              rc;
    const char      *s;
    airouter_pos_t   pos;

    rc = airouter_config_text(ctx, node, path, "a boolean", &s);
    if (rc <= 0) {
        return rc;
    }

    if (airouter_config_streq_ci(s, "true")
        || airouter_config_streq_ci(s, "yes")
        || airouter_config_streq_ci(s, "on"))
    {
        *out = 1;
        return AIROUTER_CONFIG_OK;
    }

    if (airouter_config_streq_ci(s, "false")
        || airouter_config_streq_ci(s, "no")
        || airouter_config_streq_ci(s, "off"))
    {
        *out = 0;
        return AIROUTER_CONFIG_OK;
    }

    pos = airouter_config_pos(ctx, node);

    return airouter_config_error(ctx, &pos,
                                 "\"%s\" must be a boolean (true/false, "
                                 "yes/no, on/off), got \"%.64s\"", path, s);
}


static int
airouter_config_string(airouter_config_ctx_t *ctx, yaml_node_t *node,
    const char *path, char **out)
{
    int          rc;
    char        *p;
    const char  *s;

    rc = airouter_config_text(ctx, node, path, "a string", &s);
    if (rc <= 0) {
        return rc;
    }

    p = airouter_config_strdup(ctx, s);
    if (p == NULL) {
        return AIROUTER_CONFIG_ERROR;
    }

    *out = p;

    return AIROUTER_CONFIG_OK;
}


/*
 * An http(s) URL with a host; trailing slashes are cut so that joining
 * "/v1/..." never doubles them.  Empty (an unset ${ENV}) means "not set".
 */
static int
airouter_config_url_value(airouter_config_ctx_t *ctx, yaml_node_t *node,
    const char *path, char **out)
{
    char            *url;
    size_t           len;
    const char      *host;
    airouter_pos_t   pos;

    url = NULL;

    if (airouter_config_string(ctx, node, path, &url) != AIROUTER_CONFIG_OK) {
        return AIROUTER_CONFIG_ERROR;
    }

    if (url == NULL || url[0] == '\0') {
        return AIROUTER_CONFIG_OK;
    }

    host = airouter_config_url_host(url);

    if (host == NULL || *host == '\0' || *host == '/' || *host == ':'
        || *host == '?' || *host == '#')
    {
        pos = airouter_config_pos(ctx, node);
        return airouter_config_error(ctx, &pos,
                                     "\"%s\" must be an http:// or https:// "
                                     "URL with a host, got \"%.64s\"",
                                     path, url);
    }

    len = strlen(url);

    while (len > 0 && url[len - 1] == '/') {
        url[--len] = '\0';
    }

    *out = url;

    return AIROUTER_CONFIG_OK;
}


static int
airouter_config_list(airouter_config_ctx_t *ctx, yaml_node_t *node,
    const char *path, int lower, airouter_strlist_t *out)
{
    int               rc;
    char             *s, *p, item[AIROUTER_CONFIG_PATH];
    char            **items;
    const char       *t;
    size_t            n;
    yaml_node_t      *v;
    yaml_node_item_t *it;
    airouter_pos_t    pos;

    if (node->type == YAML_SCALAR_NODE) {
        rc = airouter_config_text(ctx, node, path, "a list", &t);
        if (rc <= 0) {
            return rc;
        }

        pos = airouter_config_pos(ctx, node);
        return airouter_config_error(ctx, &pos,
                                     "\"%s\" expected a list, got \"%.64s\" "
                                     "(write [\"%.64s\"])", path, t, t);
    }

    if (node->type != YAML_SEQUENCE_NODE) {
        pos = airouter_config_pos(ctx, node);
        return airouter_config_error(ctx, &pos,
                                     "\"%s\" expected a list, got %s",
                                     path, airouter_config_kind(node));
    }

    it = node->data.sequence.items.start;
    n = (size_t) (node->data.sequence.items.top - it);

    items = airouter_config_alloc(ctx, (n ? n : 1) * sizeof(char *));
    if (items == NULL) {
        return AIROUTER_CONFIG_ERROR;
    }

    out->items = items;
    out->n = 0;

    for ( /* void */ ; it < node->data.sequence.items.top; it++) {
        v = yaml_document_get_node(ctx->doc, *it);
        if (v == NULL) {
            continue;
        }

        snprintf(item, sizeof(item), "%.200s[%zu]", path,
                 (size_t) (it - node->data.sequence.items.start));

        s = NULL;

        if (airouter_config_string(ctx, v, item, &s) != AIROUTER_CONFIG_OK) {
            return AIROUTER_CONFIG_ERROR;
        }

        if (s == NULL || s[0] == '\0') {
            continue;
        }

        if (lower) {
            for (p = s; *p; p++) {
                if (*p >= 'A' && *p <= 'Z') {
                    *p = (char) (*p - 'A' + 'a');
                }
            }
        }

        items[out->n++] = s;
    }

    return AIROUTER_CONFIG_OK;
}


static int
airouter_config_append(airouter_config_ctx_t *ctx, airouter_strlist_t *list,
    char *const *items, size_t n)
{
    char  **a;

    if (n == 0) {
        return AIROUTER_CONFIG_OK;
    }

    a = airouter_config_alloc(ctx, (list->n + n) * sizeof(char *));
    if (a == NULL) {
        return AIROUTER_CONFIG_ERROR;
    }

    if (list->n) {
        memcpy(a, list->items, list->n * sizeof(char *));
    }

    memcpy(a + list->n, items, n * sizeof(char *));

    list->items = a;
    list->n += n;

    return AIROUTER_CONFIG_OK;
}


/*
 * Walks a mapping against a table of known keys.  "<<" merge keys (as
 * PyYAML reads them) are applied first so that the mapping's own keys win.
 * A YAML null is an empty mapping: "tasks:" with everything commented out.
 */
static int
airouter_config_walk(airouter_config_ctx_t *ctx, yaml_node_t *node,
    const char *path, const airouter_config_field_t *fields, void *obj)
{
    char                           *k, sub[AIROUTER_CONFIG_PATH];
    const char                     *s;
    yaml_node_t                    *key, *value, *prev;
    yaml_node_pair_t               *pair, *p, *start, *top;
    airouter_pos_t                  pos, ppos;
    const airouter_config_field_t  *f, *any;

    if (node->type == YAML_SCALAR_NODE
        && airouter_config_text(ctx, node, path[0] ? path : "top level",
                                "a mapping", &s) == 0)
    {
        return AIROUTER_CONFIG_OK;
    }

    pos = airouter_config_pos(ctx, node);

    if (node->type != YAML_MAPPING_NODE) {
        return airouter_config_error(ctx, &pos,
                                     "\"%s\" must be a mapping, got %s",
                                     path, airouter_config_kind(node));
    }

    if (++ctx->steps > AIROUTER_CONFIG_MAX_STEPS) {
        return airouter_config_error(ctx, &pos,
                                     "too many nested aliases or merges");
    }

    start = node->data.mapping.pairs.start;
    top = node->data.mapping.pairs.top;

    if (top - start > AIROUTER_CONFIG_MAX_KEYS) {
        return airouter_config_error(ctx, &pos,
                                     "\"%s\" has more than %d keys", path,
                                     AIROUTER_CONFIG_MAX_KEYS);
    }

    for (pair = start; pair < top; pair++) {
        key = yaml_document_get_node(ctx->doc, pair->key);
        value = yaml_document_get_node(ctx->doc, pair->value);

        if (key == NULL || value == NULL) {
            continue;
        }

        if (key->type == YAML_SCALAR_NODE
            && key->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
            && strcmp((char *) key->data.scalar.value, "<<") == 0)
        {
            if (airouter_config_walk_merge(ctx, value, path, fields, obj)
                != AIROUTER_CONFIG_OK)
            {
                return AIROUTER_CONFIG_ERROR;
            }
        }
    }

    for (pair = start; pair < top; pair++) {
        key = yaml_document_get_node(ctx->doc, pair->key);
        value = yaml_document_get_node(ctx->doc, pair->value);

        if (key == NULL || value == NULL) {
            continue;
        }

        pos = airouter_config_pos(ctx, key);

        if (key->type != YAML_SCALAR_NODE) {
            return airouter_config_error(ctx, &pos,
                                         "a key in \"%s\" must be a string, "
                                         "got %s", path,
                                         airouter_config_kind(key));
        }

        k = (char *) key->data.scalar.value;

        if (key->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
            && strcmp(k, "<<") == 0)
        {
            continue;
        }

        for (p = start; p < pair; p++) {
            prev = yaml_document_get_node(ctx->doc, p->key);

            if (prev != NULL && prev->type == YAML_SCALAR_NODE
                && strcmp((char *) prev->data.scalar.value, k) == 0)
            {
                ppos = airouter_config_pos(ctx, prev);
                return airouter_config_error(ctx, &pos,
                                             "duplicate key \"%s%s%.128s\" "
                                             "(first at %u:%u)", path,
                                             path[0] ? "." : "", k,
                                             ppos.line, ppos.column);
            }
        }

        any = NULL;

        for (f = fields; f->key != NULL; f++) {
            if (strcmp(f->key, k) == 0) {
                break;
            }

            if (f->key[0] == '*' && f->key[1] == '\0') {
                any = f;
            }
        }

        if (f->key == NULL) {
            f = any;
        }

        airouter_config_subpath(sub, path, k);

        if (f == NULL) {
            airouter_config_warn(ctx, &pos, "unknown key \"%s\" ignored", sub);
            continue;
        }

        if (airouter_config_field(ctx, f, key, value, sub, obj)
            != AIROUTER_CONFIG_OK)
        {
            return AIROUTER_CONFIG_ERROR;
        }
    }

    return AIROUTER_CONFIG_OK;
}


static int
airouter_config_walk_merge(airouter_config_ctx_t *ctx, yaml_node_t *node,
    const char *path, const airouter_config_field_t *fields, void *obj)
{
    int                rc;
    yaml_node_t       *v;
    yaml_node_item_t  *it;
    airouter_pos_t     pos;

    pos = airouter_config_pos(ctx, node);

    if (ctx->merges >= AIROUTER_CONFIG_MAX_MERGE) {
        return airouter_config_error(ctx, &pos, "merge keys (<<) nested too "
                                     "deeply in \"%s\"", path);
    }

    ctx->merges++;
    rc = AIROUTER_CONFIG_OK;

    if (node->type == YAML_SEQUENCE_NODE) {
        for (it = node->data.sequence.items.start;
             it < node->data.sequence.items.top && rc == AIROUTER_CONFIG_OK;
             it++)
        {
            v = yaml_document_get_node(ctx->doc, *it);
            if (v != NULL) {
                rc = airouter_config_walk(ctx, v, path, fields, obj);
            }
        }

    } else {
        rc = airouter_config_walk(ctx, node, path, fields, obj);
    }

    ctx->merges--;

    return rc;
}


static int
airouter_config_field(airouter_config_ctx_t *ctx,
    const airouter_config_field_t *f, yaml_node_t *key, yaml_node_t *value,
    const char *path, void *obj)
{
    long                     l;
    char                    *p;
    airouter_config_t       *cf;
    airouter_nginx_owned_t  *own;

    (void) key;

    p = (char *) obj + f->offset;

    switch (f->type) {

    case AIROUTER_CF_INT:
        /* a null leaves l, and so the default, as it was */
        l = *(int *) p;

        if (airouter_config_long(ctx, value, path, f->min, f->max, &l)
            != AIROUTER_CONFIG_OK)
        {
            return AIROUTER_CONFIG_ERROR;
        }

        *(int *) p = (int) l;

        return AIROUTER_CONFIG_OK;

    case AIROUTER_CF_LONG:
        return airouter_config_long(ctx, value, path, f->min, f->max,
                                    (long *) p);

    case AIROUTER_CF_DOUBLE:
        return airouter_config_double(ctx, value, path, f->min, f->max,
                                      (double *) p);

    case AIROUTER_CF_BOOL:
        return airouter_config_bool(ctx, value, path, (int *) p);

    case AIROUTER_CF_STR:
        return airouter_config_string(ctx, value, path, (char **) p);

    case AIROUTER_CF_URL:
        return airouter_config_url_value(ctx, value, path, (char **) p);

    case AIROUTER_CF_LIST:
        return airouter_config_list(ctx, value, path, 0,
                                    (airouter_strlist_t *) p);

    case AIROUTER_CF_TAGS:
        return airouter_config_list(ctx, value, path, 1,
                                    (airouter_strlist_t *) p);

    case AIROUTER_CF_MAP:
        return airouter_config_walk(ctx, value, path, f->sub, p);

    case AIROUTER_CF_FUNC:
        return f->handler(ctx, value, path, obj);

    case AIROUTER_CF_OWNED:
        if (f->max > 0
            && airouter_config_long(ctx, value, path, f->min, f->max, &l)
               != AIROUTER_CONFIG_OK)
        {
            return AIROUTER_CONFIG_ERROR;
        }

        cf = ctx->cf;

        if (cf->nowned < sizeof(cf->owned) / sizeof(cf->owned[0])) {
            own = &cf->owned[cf->nowned];
            own->key = airouter_config_strdup(ctx, path);
            if (own->key == NULL) {
                return AIROUTER_CONFIG_ERROR;
            }

            own->directive = f->directive;
            cf->nowned++;
        }

        return AIROUTER_CONFIG_OK;

    default: /* AIROUTER_CF_IGNORE */
        return AIROUTER_CONFIG_OK;
    }
}


/*
 * A mapping keyed by names (providers, strategies): 1 with its number of
 * pairs, 0 when there is nothing to read (an empty value), or an error.
 */
static int
airouter_config_named_map(airouter_config_ctx_t *ctx, yaml_node_t *node,
    const char *path, const char *what, size_t *n)
{
    const char      *s;
    airouter_pos_t   pos;

    if (node->type == YAML_SCALAR_NODE
        && airouter_config_text(ctx, node, path, "a mapping", &s) == 0)
    {
        return 0;
    }

    if (node->type != YAML_MAPPING_NODE) {
        pos = airouter_config_pos(ctx, node);
        return airouter_config_error(ctx, &pos,
                                     "\"%s\" must be a mapping of %s "
                                     "names, got %s", path, what,
                                     airouter_config_kind(node));
    }

    *n = (size_t) (node->data.mapping.pairs.top
                   - node->data.mapping.pairs.start);

    return *n ? 1 : 0;
}


/* One pair of such a mapping: 1 with its name, value and position, 0 for
 * a pair to skip, or an error (a name that is not a non-empty string). */
static int
airouter_config_map_name(airouter_config_ctx_t *ctx, yaml_node_pair_t *pair,
    const char *path, const char *what, yaml_node_t **value,
    const char **name, airouter_pos_t *pos)
{
    yaml_node_t  *key;

    key = yaml_document_get_node(ctx->doc, pair->key);
    *value = yaml_document_get_node(ctx->doc, pair->value);

    if (key == NULL || *value == NULL) {
        return 0;
    }

    *pos = airouter_config_pos(ctx, key);

    if (key->type != YAML_SCALAR_NODE || key->data.scalar.value[0] == '\0') {
        return airouter_config_error(ctx, pos,
                                     "a %s name in \"%s\" must be a "
                                     "non-empty string", what, path);
    }

    *name = (const char *) key->data.scalar.value;

    return 1;
}


static int
airouter_config_providers(airouter_config_ctx_t *ctx, yaml_node_t *node,
    const char *path, void *obj)
{
    int                   rc;
    size_t                i, n;
    const char           *name;
    yaml_node_t          *value;
    yaml_node_pair_t     *pair;
    airouter_pos_t        pos;
    airouter_config_t    *cf;
    airouter_provider_t  *pr, *all;
    char                  sub[AIROUTER_CONFIG_PATH];

    cf = obj;

    rc = airouter_config_named_map(ctx, node, path, "provider", &n);
    if (rc != 1) {
        return rc;
    }

    /* channels point at providers only after both files are read */
    all = airouter_config_alloc(ctx, (cf->nproviders + n)
                                     * sizeof(airouter_provider_t));
    if (all == NULL) {
        return AIROUTER_CONFIG_ERROR;
    }

    if (cf->nproviders) {
        memcpy(all, cf->providers,
               cf->nproviders * sizeof(airouter_provider_t));
    }

    cf->providers = all;

    for (pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top;
         pair++)
    {
        rc = airouter_config_map_name(ctx, pair, path, "provider", &value,
                                      &name, &pos);
        if (rc != 1) {
            if (rc == 0) {
                continue;
            }

            return rc;
        }

        for (i = 0; i < cf->nproviders; i++) {
            if (strcmp(cf->providers[i].name, name) == 0) {
                return airouter_config_error(ctx, &pos,
                                             "duplicate provider \"%s\" "
                                             "(first at %s:%u:%u)", name,
                                             cf->providers[i].pos.file,
                                             cf->providers[i].pos.line,
                                             cf->providers[i].pos.column);
            }
        }

        pr = &cf->providers[cf->nproviders];

        pr->name = airouter_config_strdup(ctx, name);
        if (pr->name == NULL) {
            return AIROUTER_CONFIG_ERROR;
        }

        pr->pos = pos;
        cf->nproviders++;

        airouter_config_subpath(sub, path, name);

        if (airouter_config_walk(ctx, value, sub,
                                 airouter_config_provider_fields, pr)
            != AIROUTER_CONFIG_OK)
        {
            return AIROUTER_CONFIG_ERROR;
        }
    }

    return AIROUTER_CONFIG_OK;
}


static int
airouter_config_channels(airouter_config_ctx_t *ctx, yaml_node_t *node,
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
    char                      sub[AIROUTER_CONFIG_PATH];

    cf = obj;

    if (node->type == YAML_SCALAR_NODE
        && airouter_config_text(ctx, node, path, "a list", &s) == 0)
    {
        return AIROUTER_CONFIG_OK;
    }

    if (node->type != YAML_SEQUENCE_NODE) {
        pos = airouter_config_pos(ctx, node);
        return airouter_config_error(ctx, &pos,
                                     "\"%s\" expected a list of channels, "
                                     "got %s", path,
                                     airouter_config_kind(node));
    }

    n = (size_t) (node->data.sequence.items.top
                  - node->data.sequence.items.start);

    /* written twice (a "<<" merge, then the file's own): the last wins */
    cf->channels = NULL;
    cf->nchannels = 0;

    if (n == 0) {
        return AIROUTER_CONFIG_OK;
    }

    cf->channels = airouter_config_alloc(ctx, n * sizeof(airouter_channel_t));
    ctx->chpos = airouter_config_alloc(ctx,
                                       n * sizeof(airouter_config_chpos_t));
    if (cf->channels == NULL || ctx->chpos == NULL) {
        return AIROUTER_CONFIG_ERROR;
    }

    for (it = node->data.sequence.items.start;
         it < node->data.sequence.items.top;
         it++)
    {
        v = yaml_document_get_node(ctx->doc, *it);
        if (v == NULL) {
            continue;
        }

        i = cf->nchannels;
        ch = &cf->channels[i];
        cp = &ctx->chpos[i];

        snprintf(sub, sizeof(sub), "%.200s[%zu]", path,
                 (size_t) (it - node->data.sequence.items.start));

        pos = airouter_config_pos(ctx, v);

        if (v->type != YAML_MAPPING_NODE) {
            return airouter_config_error(ctx, &pos,
                                         "\"%s\" must be a mapping, got %s",
                                         sub, airouter_config_kind(v));
        }

        ch->pos = pos;
        ch->enabled = 1;
        ch->priority = 1;
        ch->weight = 100;
        ch->cost_cache_read = -1;
        ch->cost_cache_write = -1;
        ch->local = -1;         /* unset: decided from the URL later */
        ch->free = -1;

        cf->nchannels++;

        if (airouter_config_walk(ctx, v, sub, airouter_config_channel_fields,
                                 ch)
            != AIROUTER_CONFIG_OK)
        {
            return AIROUTER_CONFIG_ERROR;
        }

        if (ch->id == NULL) {
            return airouter_config_error(ctx, &pos,
                                         "\"%s\" has no id", sub);
        }

        for (j = 0; j < i; j++) {
            if (strcmp(cf->channels[j].id, ch->id) == 0) {
                return airouter_config_error(ctx, &cp->id,
                                             "duplicate channel id \"%s\" "
                                             "(first at %u:%u)", ch->id,
                                             ctx->chpos[j].id.line,
                                             ctx->chpos[j].id.column);
            }
        }
    }

    return AIROUTER_CONFIG_OK;
}


static int
airouter_config_channel_id(airouter_config_ctx_t *ctx, yaml_node_t *node,
    const char *path, void *obj)
{
    char                *id;
    airouter_pos_t       pos;
    airouter_channel_t  *ch;

    ch = obj;
    id = NULL;

    if (airouter_config_string(ctx, node, path, &id) != AIROUTER_CONFIG_OK) {
        return AIROUTER_CONFIG_ERROR;
    }

    pos = airouter_config_pos(ctx, node);

    if (id == NULL || id[0] == '\0') {
        return airouter_config_error(ctx, &pos,
                                     "\"%s\" must not be empty", path);
    }

    ch->id = id;
    ctx->chpos[ch - ctx->cf->channels].id = pos;

    return AIROUTER_CONFIG_OK;
}


static int
airouter_config_channel_provider(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, void *obj)
{
    char                *name;
    airouter_channel_t  *ch;

    ch = obj;
    name = NULL;

    if (airouter_config_string(ctx, node, path, &name) != AIROUTER_CONFIG_OK) {
        return AIROUTER_CONFIG_ERROR;
    }

    if (name != NULL && name[0] != '\0') {
        ch->provider_name = name;
        ctx->chpos[ch - ctx->cf->channels].provider =
                                              airouter_config_pos(ctx, node);
    }

    return AIROUTER_CONFIG_OK;
}


/*
 * api_key and api_keys add to one list, in the order written, without
 * repeats.  A "YOUR_..._HERE" placeholder is kept as the user wrote it:
 * the channel then fails with 401 and says so, rather than vanishing.
 */
static int
airouter_config_channel_key(airouter_config_ctx_t *ctx, yaml_node_t *node,
    const char *path, void *obj)
{
    size_t               i;
    char                *key;
    airouter_channel_t  *ch;

    ch = obj;
    key = NULL;
    ch->key_named = 1;

    if (airouter_config_string(ctx, node, path, &key) != AIROUTER_CONFIG_OK) {
        return AIROUTER_CONFIG_ERROR;
    }

    if (key == NULL || key[0] == '\0') {
        return AIROUTER_CONFIG_OK;
    }

    for (i = 0; i < ch->api_keys.n; i++) {
        if (strcmp(ch->api_keys.items[i], key) == 0) {
            return AIROUTER_CONFIG_OK;
        }
    }

    return airouter_config_append(ctx, &ch->api_keys, &key, 1);
}


static int
airouter_config_channel_keys(airouter_config_ctx_t *ctx, yaml_node_t *node,
    const char *path, void *obj)
{
    size_t               i, j;
    airouter_strlist_t   keys;
    airouter_channel_t  *ch;

    ch = obj;
    ch->key_named = 1;
    memset(&keys, 0, sizeof(airouter_strlist_t));

    if (airouter_config_list(ctx, node, path, 0, &keys)
        != AIROUTER_CONFIG_OK)
    {
        return AIROUTER_CONFIG_ERROR;
    }

    for (i = 0; i < keys.n; i++) {
        for (j = 0; j < ch->api_keys.n; j++) {
            if (strcmp(ch->api_keys.items[j], keys.items[i]) == 0) {
                break;
            }
        }

        if (j == ch->api_keys.n
            && airouter_config_append(ctx, &ch->api_keys, &keys.items[i], 1)
               != AIROUTER_CONFIG_OK)
        {
            return AIROUTER_CONFIG_ERROR;
        }
    }

    return AIROUTER_CONFIG_OK;
}


/* model_aliases: {alias: target, ...} or [{alias: a, target: t}, ...] */
static int
airouter_config_channel_aliases(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, void *obj)
{
    size_t               n;
    const char          *s;
    yaml_node_t         *key, *value;
    yaml_node_item_t    *it;
    yaml_node_pair_t    *pair;
    airouter_pos_t       pos;
    airouter_alias_t    *al;
    airouter_channel_t  *ch;
    char                 sub[AIROUTER_CONFIG_PATH];

    ch = obj;

    if (node->type == YAML_SCALAR_NODE) {
        if (airouter_config_text(ctx, node, path, "a mapping", &s) == 0) {
            return AIROUTER_CONFIG_OK;
        }

        pos = airouter_config_pos(ctx, node);
        return airouter_config_error(ctx, &pos,
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

    al = airouter_config_alloc(ctx, (ch->naliases + n + 1)
                                    * sizeof(airouter_alias_t));
    if (al == NULL) {
        return AIROUTER_CONFIG_ERROR;
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
            key = yaml_document_get_node(ctx->doc, pair->key);
            value = yaml_document_get_node(ctx->doc, pair->value);

            if (key == NULL || value == NULL) {
                continue;
            }

            al = &ch->aliases[ch->naliases];

            if (key->type != YAML_SCALAR_NODE
                || key->data.scalar.value[0] == '\0')
            {
                pos = airouter_config_pos(ctx, key);
                return airouter_config_error(ctx, &pos,
                                             "an alias in \"%s\" must be a "
                                             "non-empty string", path);
            }

            airouter_config_subpath(sub, path,
                                    (const char *) key->data.scalar.value);

            if (airouter_config_string(ctx, value, sub, &al->target)
                != AIROUTER_CONFIG_OK)
            {
                return AIROUTER_CONFIG_ERROR;
            }

            if (al->target == NULL || al->target[0] == '\0') {
                pos = airouter_config_pos(ctx, value);
                return airouter_config_error(ctx, &pos,
                                             "\"%s\" needs a target model",
                                             sub);
            }

            al->alias = airouter_config_strdup(ctx,
                                     (const char *) key->data.scalar.value);
            if (al->alias == NULL) {
                return AIROUTER_CONFIG_ERROR;
            }

            ch->naliases++;
        }

        return AIROUTER_CONFIG_OK;
    }

    for (it = node->data.sequence.items.start;
         it < node->data.sequence.items.top;
         it++)
    {
        value = yaml_document_get_node(ctx->doc, *it);
        if (value == NULL) {
            continue;
        }

        snprintf(sub, sizeof(sub), "%.200s[%zu]", path,
                 (size_t) (it - node->data.sequence.items.start));

        al = &ch->aliases[ch->naliases];

        if (airouter_config_walk(ctx, value, sub, airouter_config_alias_fields,
                                 al)
            != AIROUTER_CONFIG_OK)
        {
            return AIROUTER_CONFIG_ERROR;
        }

        if (al->alias == NULL || al->alias[0] == '\0'
            || al->target == NULL || al->target[0] == '\0')
        {
            pos = airouter_config_pos(ctx, value);
            return airouter_config_error(ctx, &pos,
                                         "\"%s\" needs both alias and target",
                                         sub);
        }

        ch->naliases++;
    }

    return AIROUTER_CONFIG_OK;
}


static int
airouter_config_channel_cost(airouter_config_ctx_t *ctx, yaml_node_t *node,
    const char *path, void *obj)
{
    airouter_channel_t  *ch;

    ch = obj;

    if (airouter_config_walk(ctx, node, path, airouter_config_cost_fields, ch)
        != AIROUTER_CONFIG_OK)
    {
        return AIROUTER_CONFIG_ERROR;
    }

    if (node->type == YAML_MAPPING_NODE) {
        ch->has_cost = 1;
    }

    return AIROUTER_CONFIG_OK;
}


/* hours in the file, seconds in the model; 0 means the global interval */
static int
airouter_config_channel_interval(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, void *obj)
{
    double               hours;
    airouter_pos_t       pos;
    airouter_channel_t  *ch;

    ch = obj;
    hours = ch->discovery_interval / 3600;

    if (airouter_config_double(ctx, node, path, 0, AIROUTER_CONFIG_NOMAX,
                               &hours)
        != AIROUTER_CONFIG_OK)
    {
        return AIROUTER_CONFIG_ERROR;
    }

    if (hours > 0 && hours < 0.1) {
        pos = airouter_config_pos(ctx, node);
        return airouter_config_error(ctx, &pos,
                                     "\"%s\" must be 0 (the global interval) "
                                     "or at least 0.1, got %g", path, hours);
    }

    ch->discovery_interval = hours * 3600;

    return AIROUTER_CONFIG_OK;
}


static int
airouter_config_auth_enabled(airouter_config_ctx_t *ctx, yaml_node_t *node,
    const char *path, void *obj)
{
    airouter_auth_t  *auth;

    auth = obj;
    ctx->auth_enabled_pos = airouter_config_pos(ctx, node);

    return airouter_config_bool(ctx, node, path, &auth->enabled);
}


static int
airouter_config_auth_token(airouter_config_ctx_t *ctx, yaml_node_t *node,
    const char *path, void *obj)
{
    (void) obj;

    return airouter_config_string(ctx, node, path, &ctx->api_token);
}


static int
airouter_config_auth_keys(airouter_config_ctx_t *ctx, yaml_node_t *node,
    const char *path, void *obj)
{
    size_t              n;
    const char         *s;
    yaml_node_t        *v;
    yaml_node_item_t   *it;
    airouter_pos_t      pos;
    airouter_apikey_t  *key;
    char                sub[AIROUTER_CONFIG_PATH], name[32];

    (void) obj;

    if (node->type == YAML_SCALAR_NODE
        && airouter_config_text(ctx, node, path, "a list", &s) == 0)
    {
        return AIROUTER_CONFIG_OK;
    }

    if (node->type != YAML_SEQUENCE_NODE) {
        pos = airouter_config_pos(ctx, node);
        return airouter_config_error(ctx, &pos,
                                     "\"%s\" expected a list of "
                                     "{name, key, ...}, got %s", path,
                                     airouter_config_kind(node));
    }

    n = (size_t) (node->data.sequence.items.top
                  - node->data.sequence.items.start);

    ctx->keys = airouter_config_alloc(ctx, (n ? n : 1)
                                           * sizeof(airouter_apikey_t));
    ctx->key_pos = airouter_config_alloc(ctx, (n ? n : 1)
                                              * sizeof(airouter_pos_t));
    if (ctx->keys == NULL || ctx->key_pos == NULL) {
        return AIROUTER_CONFIG_ERROR;
    }

    ctx->nkeys = 0;

    for (it = node->data.sequence.items.start;
         it < node->data.sequence.items.top;
         it++)
    {
        v = yaml_document_get_node(ctx->doc, *it);
        if (v == NULL) {
            continue;
        }

        snprintf(sub, sizeof(sub), "%.200s[%zu]", path,
                 (size_t) (it - node->data.sequence.items.start));

        key = &ctx->keys[ctx->nkeys];
        pos = airouter_config_pos(ctx, v);

        if (v->type != YAML_MAPPING_NODE) {
            return airouter_config_error(ctx, &pos,
                                         "\"%s\" must be a mapping "
                                         "{name, key, ...}, got %s", sub,
                                         airouter_config_kind(v));
        }

        if (airouter_config_walk(ctx, v, sub, airouter_config_apikey_fields,
                                 key)
            != AIROUTER_CONFIG_OK)
        {
            return AIROUTER_CONFIG_ERROR;
        }

        if (key->token == NULL || key->token[0] == '\0') {
            return airouter_config_error(ctx, &pos,
                                         "\"%s\" has no key", sub);
        }

        if (key->name == NULL || key->name[0] == '\0') {
            snprintf(name, sizeof(name), "key%zu", ctx->nkeys + 1);
            key->name = airouter_config_strdup(ctx, name);
            if (key->name == NULL) {
                return AIROUTER_CONFIG_ERROR;
            }
        }

        ctx->key_pos[ctx->nkeys++] = pos;
    }

    return AIROUTER_CONFIG_OK;
}


static int
airouter_config_default_strategy(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, void *obj)
{
    char                *name;
    airouter_routing_t  *rt;

    rt = obj;
    name = NULL;

    if (airouter_config_string(ctx, node, path, &name) != AIROUTER_CONFIG_OK) {
        return AIROUTER_CONFIG_ERROR;
    }

    if (name != NULL && name[0] != '\0') {
        rt->default_strategy = name;
        ctx->strategy_pos = airouter_config_pos(ctx, node);
    }

    return AIROUTER_CONFIG_OK;
}


/*
 * sorting_strategies: name -> [{field, weight, order}, ...].  A name of a
 * built-in replaces its weights; any other name adds a strategy.
 */
static int
airouter_config_strategies(airouter_config_ctx_t *ctx, yaml_node_t *node,
    const char *path, void *obj)
{
    int                   rc;
    size_t                i, n;
    const char           *name;
    yaml_node_t          *value;
    yaml_node_pair_t     *pair;
    airouter_pos_t        pos;
    airouter_routing_t   *rt;
    airouter_strategy_t  *all, *st;
    char                  sub[AIROUTER_CONFIG_PATH];

    rt = obj;

    rc = airouter_config_named_map(ctx, node, path, "strategy", &n);
    if (rc != 1) {
        return rc;
    }

    all = airouter_config_alloc(ctx, (rt->nstrategies + n)
                                     * sizeof(airouter_strategy_t));
    if (all == NULL) {
        return AIROUTER_CONFIG_ERROR;
    }

    memcpy(all, rt->strategies, rt->nstrategies * sizeof(airouter_strategy_t));
    rt->strategies = all;

    for (pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top;
         pair++)
    {
        rc = airouter_config_map_name(ctx, pair, path, "strategy", &value,
                                      &name, &pos);
        if (rc != 1) {
            if (rc == 0) {
                continue;
            }

            return rc;
        }

        for (i = 0; i < rt->nstrategies; i++) {
            if (strcmp(rt->strategies[i].name, name) == 0) {
                break;
            }
        }

        st = &rt->strategies[i];

        if (i == rt->nstrategies) {
            st->name = airouter_config_strdup(ctx, name);
            if (st->name == NULL) {
                return AIROUTER_CONFIG_ERROR;
            }

            rt->nstrategies++;
        }

        st->pos = pos;

        airouter_config_subpath(sub, path, name);

        if (airouter_config_strategy_weights(ctx, value, sub, st)
            != AIROUTER_CONFIG_OK)
        {
            return AIROUTER_CONFIG_ERROR;
        }
    }

    return AIROUTER_CONFIG_OK;
}


static int
airouter_config_strategy_weights(airouter_config_ctx_t *ctx,
    yaml_node_t *node, const char *path, airouter_strategy_t *st)
{
    size_t              n;
    const char         *s;
    yaml_node_t        *v;
    yaml_node_item_t   *it;
    airouter_pos_t      pos;
    airouter_weight_t  *w;
    char                sub[AIROUTER_CONFIG_PATH];

    if (node->type == YAML_SCALAR_NODE
        && airouter_config_text(ctx, node, path, "a list", &s) == 0)
    {
        st->weights = NULL;
        st->nweights = 0;
        return AIROUTER_CONFIG_OK;
    }

    if (node->type != YAML_SEQUENCE_NODE) {
        pos = airouter_config_pos(ctx, node);
        return airouter_config_error(ctx, &pos,
                                     "\"%s\" expected a list of "
                                     "{field, weight, order}, got %s", path,
                                     airouter_config_kind(node));
    }

    n = (size_t) (node->data.sequence.items.top
                  - node->data.sequence.items.start);

    st->weights = airouter_config_alloc(ctx, (n ? n : 1)
                                             * sizeof(airouter_weight_t));
    if (st->weights == NULL) {
        return AIROUTER_CONFIG_ERROR;
    }

    st->nweights = 0;

    for (it = node->data.sequence.items.start;
         it < node->data.sequence.items.top;
         it++)
    {
        v = yaml_document_get_node(ctx->doc, *it);
        if (v == NULL) {
            continue;
        }

        snprintf(sub, sizeof(sub), "%.200s[%zu]", path,
                 (size_t) (it - node->data.sequence.items.start));

        w = &st->weights[st->nweights];
        w->score = AIROUTER_SCORE_N;    /* unset */
        w->weight = -1;
        w->descending = 1;

        pos = airouter_config_pos(ctx, v);

        if (v->type != YAML_MAPPING_NODE) {
            return airouter_config_error(ctx, &pos,
                                         "\"%s\" must be a mapping "
                                         "{field, weight, order}, got %s",
                                         sub, airouter_config_kind(v));
        }

        if (airouter_config_walk(ctx, v, sub, airouter_config_weight_fields,
                                 w)
            != AIROUTER_CONFIG_OK)
        {
            return AIROUTER_CONFIG_ERROR;
        }

        if (w->score == AIROUTER_SCORE_N || w->weight < 0) {
            return airouter_config_error(ctx, &pos,
                                         "\"%s\" needs a field and a weight",
                                         sub);
        }

        st->nweights++;
    }

    return AIROUTER_CONFIG_OK;
}


static int
airouter_config_weight_field(airouter_config_ctx_t *ctx, yaml_node_t *node,
    const char *path, void *obj)
{
    int                 rc;
    size_t              i, len, nlen;
    const char         *s, *name;
    airouter_pos_t      pos;
    airouter_weight_t  *w;

    w = obj;

    rc = airouter_config_text(ctx, node, path, "a score name", &s);
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
            return AIROUTER_CONFIG_OK;
        }
    }

    pos = airouter_config_pos(ctx, node);

    return airouter_config_error(ctx, &pos,
                                 "\"%s\": unknown score \"%.64s\" (known: "
                                 "cost_score, free_score, local_score, "
                                 "parameter_score, context_score, "
                                 "quality_score, speed_score, "
                                 "reliability_score)", path, s);
}


static int
airouter_config_weight_order(airouter_config_ctx_t *ctx, yaml_node_t *node,
    const char *path, void *obj)
{
    int                 rc;
    const char         *s;
    airouter_pos_t      pos;
    airouter_weight_t  *w;

    w = obj;

    rc = airouter_config_text(ctx, node, path, "\"asc\" or \"desc\"", &s);
    if (rc <= 0) {
        return rc;
    }

    if (airouter_config_streq_ci(s, "desc")) {
        w->descending = 1;
        return AIROUTER_CONFIG_OK;
    }

    if (airouter_config_streq_ci(s, "asc")) {
        w->descending = 0;
        return AIROUTER_CONFIG_OK;
    }

    pos = airouter_config_pos(ctx, node);

    return airouter_config_error(ctx, &pos,
                                 "\"%s\" must be \"asc\" or \"desc\", got "
                                 "\"%.64s\"", path, s);
}


/* The host part of an http(s) URL, or NULL for another scheme. */
static const char *
airouter_config_url_host(const char *url)
{
    size_t       i;
    const char  *s, *u;

    static const char  *schemes[] = { "http://", "https://" };

    for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        s = schemes[i];

        for (u = url; *s != '\0'; s++, u++) {
            if (*u != *s && !(*u >= 'A' && *u <= 'Z' && *u - 'A' + 'a' == *s))
            {
                break;
            }
        }

        if (*s == '\0') {
            return u;
        }
    }

    return NULL;
}


/*
 * The last path segment is a version: "v" digits, then optional letters
 * ("/v1", "/api/paas/v4", "/api/v3", "/v1beta").
 */
static int
airouter_config_url_versioned(const char *url)
{
    const char  *host, *path, *seg, *end, *p;

    host = airouter_config_url_host(url);
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

    h = airouter_config_url_host(url);
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

    return airouter_config_streq_ci(host, "localhost")
           || strncmp(host, "127.", 4) == 0
           || strcmp(host, "::1") == 0;
}
