/*
 * The configuration model: what router_config.yaml (and the providers.yaml
 * beside it) say, validated and resolved.  Pure C, no nginx types, so the
 * loader can be unit-tested and fuzzed alone.  Every string and array of a
 * loaded config lives in one arena owned by the airouter_config_t;
 * airouter_config_free() releases all of it.
 *
 * Written by airouter_config.c (the libyaml loader); read by the catalogue
 * builder, the ranking and the nginx-facing module code.
 */

#ifndef AIROUTER_CONFIG_H
#define AIROUTER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "airouter_pricing.h"


#define AIROUTER_VERSION  "0.1.0"


/* guarded: airouter_arena.h and airouter_config.h both declare it */
#ifndef AIROUTER_ARENA_T_DECLARED
#define AIROUTER_ARENA_T_DECLARED
typedef struct airouter_arena_s  airouter_arena_t;
#endif


/* A position in a config file, for messages as file:line:column. */
typedef struct {
    const char               *file;
    unsigned                  line;
    unsigned                  column;
} airouter_pos_t;


typedef struct {
    char                    **items;
    size_t                    n;
} airouter_strlist_t;


/* The scores a strategy can weigh; names as the seed writes them. */
typedef enum {
    AIROUTER_SCORE_COST = 0,
    AIROUTER_SCORE_FREE,
    AIROUTER_SCORE_LOCAL,
    AIROUTER_SCORE_PARAMETER,
    AIROUTER_SCORE_CONTEXT,
    AIROUTER_SCORE_QUALITY,
    AIROUTER_SCORE_SPEED,
    AIROUTER_SCORE_RELIABILITY,
    AIROUTER_SCORE_N
} airouter_score_e;


typedef struct {
    airouter_score_e          score;
    double                    weight;
    int                       descending;   /* "order: desc" (default) */
} airouter_weight_t;


typedef struct {
    char                     *name;
    airouter_weight_t        *weights;
    size_t                    nweights;
    int                       builtin;      /* one of the seed's six */
    airouter_pos_t            pos;
} airouter_strategy_t;


typedef struct {
    char                     *name;         /* key under providers: */
    char                     *display_name;
    char                     *base_url;     /* may be NULL */
    char                     *auth_type;    /* "bearer" (default), "header" */
    char                     *auth_header;  /* header name when not bearer */
    airouter_strlist_t        capabilities;
    airouter_strlist_t        supported_parameters;
    int                       data_collection;  /* -1: not said, 0:
                                                   "allow" (it may keep
                                                   or train on requests),
                                                   1: "deny" (it does
                                                   not) */
    int                       rate_limit;   /* requests per minute, 0: none */
    int                       local;        /* runs on the user's machine */
    int                       free;         /* everything it serves is free */
    int                       dialect;      /* what its API speaks (an
                                               airouter_dialect_e), -1:
                                               not said (adapter_class) */
    int                       responses_api;    /* serves /v1/responses
                                                   too, -1: not said */
    airouter_pos_t            pos;
} airouter_provider_t;


/* The balance queries a channel can have (airouter_balance.h). */
typedef enum {
    AIROUTER_BALANCE_NONE = 0,              /* balance: without a kind:
                                               from the provider */
    AIROUTER_BALANCE_OPENROUTER,
    AIROUTER_BALANCE_DEEPSEEK,
    AIROUTER_BALANCE_SILICONFLOW,
    AIROUTER_BALANCE_MOONSHOT,
    AIROUTER_BALANCE_ONEAPI,                /* One-API / New-API billing */
    AIROUTER_BALANCE_JSON,                  /* url + JSON path */
    AIROUTER_BALANCE_N
} airouter_balance_kind_e;


/* A channel's balance: key. */
typedef struct {
    int                       enabled;      /* the channel has balance: */
    airouter_balance_kind_e   kind;
    long                      interval;     /* seconds between checks */
    double                    low_threshold;    /* < 0: no alert */
    int                       hold;         /* at 0 or below, the paid
                                               models leave the lists */
    char                     *url;          /* kind json: URL or path */
    char                     *path;         /* kind json: "data.balance" */
    char                     *currency;     /* kind json */
} airouter_balance_conf_t;


typedef struct {
    char                     *alias;        /* what clients send */
    char                     *target;       /* the channel's model id */
} airouter_alias_t;


/*
 * A configured model written as a map ("- name: x" and its own keys):
 * what the operator says of that model alone, beating the channel's
 * word.
 */
typedef struct {
    char                     *name;
    airouter_strlist_t        supported_parameters;
    int                       params_set;   /* supported_parameters given
                                               (an empty list: none) */
    uint32_t                  params;       /* their AIROUTER_PARAM_* bits */
    airouter_pos_t            pos;
} airouter_model_conf_t;


typedef struct {
    char                     *id;
    char                     *name;
    char                     *provider_name;
    airouter_provider_t      *provider;     /* resolved, NULL if none named */

    /*
     * base_url is the effective one: the channel's own or its provider's.
     * versioned is set when it ends in a version segment ("/v1",
     * "/api/paas/v4", "/api/v3"): then only the part of an API path after
     * "/v1" is appended; otherwise the whole "/v1/..." path is.
     */
    char                     *base_url;
    int                       versioned;

    char                     *model_name;   /* single-model channel */
    airouter_strlist_t        api_keys;     /* api_key and/or api_keys */
    int                       key_named;    /* the file names a key */
    int                       enabled;
    const char               *disabled_reason;  /* set when we disabled it */
    int                       priority;     /* lower is preferred */
    double                    weight;
    airouter_strlist_t        tags;         /* lowercased */
    airouter_strlist_t        configured_models; /* includes model_name */
    airouter_model_conf_t    *models;       /* those written as a map */
    size_t                    nmodels;
    airouter_alias_t         *aliases;
    size_t                    naliases;
    int                       has_cost;
    double                    cost_input;   /* per token, in currency */
    double                    cost_output;
    double                    cost_cache_read;  /* -1: not said */
    double                    cost_cache_write;
    int                       has_unit_cost;
    airouter_unit_price_t     cost_unit;    /* cost_per_unit, in currency,
                                               each -1: not said */
    char                     *currency;     /* "USD" unless said */
    long                      daily_limit;  /* requests per day, 0: none */
    long                      daily_token_limit;    /* tokens per day */
    airouter_balance_conf_t   balance;
    airouter_strlist_t        capabilities; /* channel's own, else provider's */
    airouter_strlist_t        supported_parameters; /* own, else the
                                               provider's; empty: not
                                               said */
    uint32_t                  params;       /* their AIROUTER_PARAM_* bits */
    int                       data_collection;  /* 1: "deny", the
                                                   upstream keeps nothing
                                                   (own, else the
                                                   provider's, else 1 for
                                                   a local channel); 0:
                                                   it may */
    int                       local;
    int                       free;
    double                    discovery_interval; /* seconds, 0: global */
    char                     *models_file;  /* a saved /models answer,
                                               read at start-up */
    int                       dialect;      /* what its API speaks: an
                                               airouter_dialect_e, openai
                                               or anthropic (own "api",
                                               else the provider's) */
    int                       responses_api;    /* passes /v1/responses
                                                   requests through */
    airouter_pos_t            pos;
} airouter_channel_t;


typedef struct {
    char                     *name;
    char                     *token;
    airouter_strlist_t        allowed_tags;
    airouter_strlist_t        allowed_models;
    double                    daily_budget;     /* 0: none */
    double                    monthly_budget;
    int                       rate_limit;       /* per minute, 0: none */
    int                       allow_request_routing;    /* "models",
                                                   "provider", ":floor",
                                                   ":nitro" (default 1) */
    int                       hedge;            /* -1: as routing.hedging
                                                   says, 0: never, 1: also
                                                   for tool requests */
} airouter_apikey_t;


typedef struct {
    int                       enabled;
    airouter_apikey_t        *keys;         /* api_token becomes "default" */
    size_t                    nkeys;
    int                       admin_enabled;
    char                     *admin_token;
} airouter_auth_t;


typedef struct {
    long                      min_context_length;
    double                    min_parameter_count;  /* millions */
    int                       exclude_embedding_models;
    int                       exclude_vision_only_models;
} airouter_filters_t;


typedef struct {
    airouter_strlist_t        permanent_errors;
    airouter_strlist_t        temporary_errors;
    long                      cooldown_rate_limit;  /* seconds */
    long                      cooldown_timeout;
    long                      cooldown_server_error;
    long                      blacklist_period;     /* permanent errors */
} airouter_error_handling_t;


/*
 * routing.hedging: when the first try has sent no byte after `after`, the
 * next candidate starts beside it and the first good answer wins.
 */
typedef struct {
    int                       enabled;
    long                      after;        /* ms; 0: the first candidate's
                                               measured TTFB p95 */
    int                       max_hedges;   /* 0 or 1 */
    int                       bill_loser;   /* 1: the loser's prompt tokens
                                               are counted, 0: not */
} airouter_hedging_t;


typedef struct {
    char                     *default_strategy;
    int                       enable_fallback;
    int                       max_retry_attempts;
    long                      health_check_interval;
    long                      error_cooldown_period;
    long                      request_deadline;     /* seconds, total */
    airouter_filters_t        filters;
    airouter_strategy_t      *strategies;   /* the six built-ins + user's */
    size_t                    nstrategies;
    airouter_error_handling_t errors;
    airouter_hedging_t        hedging;
} airouter_routing_t;


typedef struct {
    double                    global_daily_budget;  /* 0: none */
    double                    alert_threshold;
    int                       auto_disable_on_budget_exceeded;
    char                     *currency;
    double                    cny_to_usd;
} airouter_cost_control_t;


typedef struct {
    int                       enabled;
    double                    interval_hours;
    int                       run_on_startup;
} airouter_task_t;


/* A seed key that nginx owns, noted so the start-up notice can say so. */
typedef struct {
    const char               *key;          /* "server.port" */
    const char               *directive;    /* "listen" */
} airouter_nginx_owned_t;


typedef struct {
    const char               *file;         /* router_config.yaml path */
    char                     *providers_file;   /* NULL if none beside */

    airouter_provider_t      *providers;
    size_t                    nproviders;
    airouter_channel_t       *channels;
    size_t                    nchannels;
    size_t                    nenabled;

    airouter_auth_t           auth;
    airouter_routing_t        routing;
    airouter_cost_control_t   cost;
    airouter_task_t           discovery;

    airouter_nginx_owned_t    owned[8];
    size_t                    nowned;

    airouter_arena_t         *arena;
} airouter_config_t;


/*
 * Diagnostics.  On failure, error holds "file:line:column: reason".
 * Warnings (unknown keys) go to warn() one by one, already formatted the
 * same way; warn may be NULL.
 */
typedef struct {
    char                      error[1024];
    void                    (*warn)(void *ctx, const char *msg);
    void                     *ctx;
} airouter_diag_t;


/*
 * Loads path and, if it exists, providers.yaml in the same directory.
 * Returns NULL with diag->error set when the files are invalid.
 */
airouter_config_t *airouter_config_load(const char *path,
    airouter_diag_t *diag);
void airouter_config_free(airouter_config_t *cf);

/*
 * Whether a request may be hedged: hedging enabled with a hedge allowed,
 * then the request's own "hedge" (-1: unset), else its key's, else the
 * default: streams and requests without tools (a tool call answered twice
 * is the one answer a client may act on twice).
 */
int airouter_hedging_wanted(const airouter_hedging_t *h, int key_pref,
    int request_pref, int stream, int tools);

/* Lookups; NULL when absent.  Names compare case-sensitively. */
const airouter_strategy_t *airouter_config_strategy(
    const airouter_config_t *cf, const char *name);
const airouter_channel_t *airouter_config_channel(
    const airouter_config_t *cf, const char *id);
/* The model written as a map under the channel's configured_models. */
const airouter_model_conf_t *airouter_config_model_conf(
    const airouter_channel_t *ch, const char *id, size_t len);

/*
 * Joins a channel base URL and an OpenAI API path ("/v1/chat/completions")
 * by the two conventions described at airouter_channel_t.base_url.
 * Writes at most size bytes (NUL included); returns the length it needed,
 * NUL excluded, as snprintf does: a result >= size means buf was cut.
 */
size_t airouter_config_url(const airouter_channel_t *ch, const char *api_path,
    char *buf, size_t size);

/*
 * What airouter_config_url() puts after the base URL: api_path, or its
 * end after "/v1" when the base is versioned.
 */
const char *airouter_config_url_rest(const airouter_channel_t *ch,
    const char *api_path);

const char *airouter_score_name(airouter_score_e score);

/* "deepseek" -> AIROUTER_BALANCE_DEEPSEEK; NONE for another name */
airouter_balance_kind_e airouter_config_balance_kind(const char *name);
const char *airouter_config_balance_kind_name(airouter_balance_kind_e kind);

#endif /* AIROUTER_CONFIG_H */
