/*
 * ngx_http_airouter_module: directives, configuration life cycle and the
 * location handlers' entry points.  The work itself lives in src/: the
 * pure-C brain (airouter_*.c) and the nginx-facing files
 * (ngx_http_airouter_*.c), one concern each.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_airouter_module.h"
#include "ngx_http_airouter_zone.h"
#include "ngx_http_airouter_catalog.h"
#include "ngx_http_airouter_pricing.h"
#include "ngx_http_airouter_handlers.h"
#include "ngx_http_airouter_proxy.h"
#include "ngx_http_airouter_variables.h"
#include "ngx_http_airouter_auth.h"
#include "ngx_http_airouter_stats.h"
#include "ngx_http_airouter_stats_file.h"
#include "ngx_http_airouter_switch.h"
#include "ngx_http_airouter_discovery.h"
#include "ngx_http_airouter_balance.h"
#include "ngx_http_airouter_redis.h"
#include "ngx_http_airouter_live.h"
#include "ngx_http_airouter_resolve.h"
#include "ngx_http_airouter_reqlog.h"
#include "ngx_http_airouter_history.h"
#include "ngx_http_airouter_audit.h"
#include "ngx_http_airouter_error_page.h"
#include "airouter_tokenizer.h"


static ngx_int_t ngx_http_airouter_handler(ngx_http_request_t *r);
static void *ngx_http_airouter_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_airouter_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_airouter_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_airouter_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_airouter_config(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_airouter_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_airouter_role(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void ngx_http_airouter_config_warn(void *ctx, const char *msg);
static void ngx_http_airouter_cleanup_config(void *data);
static ngx_int_t ngx_http_airouter_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_airouter_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_airouter_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_airouter_access_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_airouter_access_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_airouter_init_process(ngx_cycle_t *cycle);
static void ngx_http_airouter_exit_process(ngx_cycle_t *cycle);
static char *ngx_http_airouter_tokenizer(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void ngx_http_airouter_cleanup_tokenizer(void *data);


/* the layers' parts of the shared zone, in the order they are set up */
static const ngx_http_airouter_zone_init_pt  ngx_http_airouter_zone_parts[] = {
    ngx_http_airouter_live_init_zone,
    ngx_http_airouter_discovery_init_zone,
    ngx_http_airouter_balance_init_zone,
    ngx_http_airouter_stats_init_zone,
    ngx_http_airouter_switch_init_zone,
    ngx_http_airouter_stats_file_init_zone,  /* reads into the two above */
    ngx_http_airouter_redis_init_zone,
    ngx_http_airouter_reqlog_init_zone,
    ngx_http_airouter_history_init_zone,
    ngx_http_airouter_audit_init_zone,
    NULL
};


static ngx_command_t  ngx_http_airouter_commands[] = {

    { ngx_string("airouter_config"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_airouter_config,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("airouter_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_airouter_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("airouter"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_airouter_role,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_AIROUTER_ROLE_API,
      NULL },

    { ngx_string("airouter_admin"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_airouter_role,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_AIROUTER_ROLE_ADMIN,
      NULL },

    { ngx_string("airouter_health"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_airouter_role,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_AIROUTER_ROLE_HEALTH,
      NULL },

    { ngx_string("airouter_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_airouter_role,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_AIROUTER_ROLE_METRICS,
      NULL },

    { ngx_string("airouter_dashboard"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_airouter_role,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_AIROUTER_ROLE_DASHBOARD,
      NULL },

    { ngx_string("airouter_connect_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_airouter_loc_conf_t, upstream.connect_timeout),
      NULL },

    { ngx_string("airouter_send_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_airouter_loc_conf_t, upstream.send_timeout),
      NULL },

    { ngx_string("airouter_read_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_airouter_loc_conf_t, upstream.read_timeout),
      NULL },

    { ngx_string("airouter_buffer_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_airouter_loc_conf_t, upstream.buffer_size),
      NULL },

    { ngx_string("airouter_keepalive"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_airouter_loc_conf_t, keepalive),
      NULL },

    { ngx_string("airouter_ssl_verify"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_airouter_loc_conf_t, ssl_verify),
      NULL },

    { ngx_string("airouter_ssl_trusted_certificate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_airouter_loc_conf_t, ssl_trusted_certificate),
      NULL },

    { ngx_string("airouter_cache_dir"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_airouter_main_conf_t, cache_dir),
      NULL },

    { ngx_string("airouter_discovery_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_airouter_main_conf_t, discovery_max_size),
      NULL },

    { ngx_string("airouter_pricing_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_airouter_pricing_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("airouter_discovery_delay"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_airouter_main_conf_t, discovery_delay),
      NULL },

    { ngx_string("airouter_discovery_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_airouter_main_conf_t, discovery_timeout),
      NULL },

    { ngx_string("airouter_stats_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_airouter_stats_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("airouter_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_airouter_redis_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("airouter_tokenizer"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_airouter_tokenizer,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("airouter_resolve_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_airouter_resolve_interval,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("airouter_request_log"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_airouter_reqlog_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("airouter_histogram_buckets"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_airouter_history_buckets,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_airouter_module_ctx = {
    ngx_http_airouter_preconfiguration,    /* preconfiguration */
    ngx_http_airouter_postconfiguration,   /* postconfiguration */

    ngx_http_airouter_create_main_conf,    /* create main configuration */
    ngx_http_airouter_init_main_conf,      /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_airouter_create_loc_conf,     /* create location configuration */
    ngx_http_airouter_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_airouter_module = {
    NGX_MODULE_V1,
    &ngx_http_airouter_module_ctx,         /* module context */
    ngx_http_airouter_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_airouter_init_module,         /* init module */
    ngx_http_airouter_init_process,        /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_airouter_exit_process,        /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_airouter_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_airouter_main_conf_t  *amcf;

    amcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_airouter_main_conf_t));
    if (amcf == NULL) {
        return NULL;
    }

    amcf->zone_size = NGX_CONF_UNSET_SIZE;
    amcf->discovery_delay = NGX_CONF_UNSET_MSEC;
    amcf->discovery_timeout = NGX_CONF_UNSET_MSEC;
    amcf->discovery_max_size = NGX_CONF_UNSET_SIZE;
    amcf->request_log = NGX_CONF_UNSET_UINT;

    return amcf;
}


static char *
ngx_http_airouter_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_airouter_main_conf_t *amcf = conf;

    if (amcf->config == NULL) {
        return NGX_CONF_OK;
    }

    if (amcf->shm_zone == NULL) {
        ngx_str_set(&amcf->zone_name, "airouter");
        amcf->zone_size = NGX_HTTP_AIROUTER_ZONE_SIZE;

        amcf->shm_zone = ngx_http_airouter_zone_add(cf, amcf,
                                         ngx_http_airouter_zone_parts);
        if (amcf->shm_zone == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_airouter_reqlog_init_conf(cf, amcf) != NGX_OK
        || ngx_http_airouter_history_init_conf(cf, amcf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_airouter_live_init_conf(cf, amcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_airouter_discovery_init_conf(cf, amcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_airouter_balance_init_conf(cf, amcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_airouter_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_airouter_loc_conf_t  *alcf;

    alcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_airouter_loc_conf_t));
    if (alcf == NULL) {
        return NULL;
    }

    ngx_http_airouter_proxy_create_conf(alcf);

    return alcf;
}


static char *
ngx_http_airouter_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_airouter_loc_conf_t *prev = parent;
    ngx_http_airouter_loc_conf_t *conf = child;

    return ngx_http_airouter_proxy_merge_conf(cf, prev, conf);
}


static ngx_int_t
ngx_http_airouter_preconfiguration(ngx_conf_t *cf)
{
    if (ngx_http_airouter_auth_add_variables(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_airouter_variables_add(cf);
}


static ngx_int_t
ngx_http_airouter_postconfiguration(ngx_conf_t *cf)
{
    if (ngx_http_airouter_access_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the log phase: the usage counters and the request log, one lock */
    if (ngx_http_airouter_reqlog_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    /* below the proxy's filters: they answer a proxied request's error */
    if (ngx_http_airouter_error_page_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_airouter_proxy_init(cf);
}


/*
 * The API location's admission (the key's token, budgets, rate) and the
 * admin location's token are an access-phase handler, so nginx's own
 * access modules compose with them:
 * allow/deny, auth_basic, auth_request, "satisfy any|all".  It is put
 * first in the phase's list, and nginx runs that list from the end: it
 * runs after every access module registered before it (all of nginx's),
 * so under "satisfy any" one of them granting access skips it, and when
 * it refuses a token no later module could have granted: the refusal is
 * its own JSON 401.  limit_req and limit_conn run before, in the
 * preaccess phase ($airouter_key reads the header there).
 */
static ngx_int_t
ngx_http_airouter_access_init(ngx_conf_t *cf)
{
    ngx_array_t                *a;
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    a = &cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers;

    h = ngx_array_push(a);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h = a->elts;
    ngx_memmove(&h[1], &h[0], (a->nelts - 1) * sizeof(ngx_http_handler_pt));
    h[0] = ngx_http_airouter_access_handler;

    return NGX_OK;
}


static ngx_int_t
ngx_http_airouter_access_handler(ngx_http_request_t *r)
{
    ngx_http_airouter_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_airouter_module);

    switch (alcf->role) {

    case NGX_HTTP_AIROUTER_ROLE_API:
        return ngx_http_airouter_api_access(r);

    case NGX_HTTP_AIROUTER_ROLE_ADMIN:
        return ngx_http_airouter_auth_admin_phase(r);

    case NGX_HTTP_AIROUTER_ROLE_METRICS:
        return ngx_http_airouter_metrics_access(r);

    default:
        return NGX_DECLINED;
    }
}


static ngx_int_t
ngx_http_airouter_init_process(ngx_cycle_t *cycle)
{
    if (ngx_http_airouter_discovery_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_airouter_balance_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_airouter_stats_file_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_airouter_resolve_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_airouter_switch_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_airouter_redis_init_process(cycle);
}


static void
ngx_http_airouter_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_airouter_redis_exit_process(cycle);
    ngx_http_airouter_stats_file_exit_process(cycle);
}


/*
 * airouter_tokenizer <rank file>: exact prompt token counts.  Loaded once
 * here, in the master; workers share the pages.
 */
static char *
ngx_http_airouter_tokenizer(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_airouter_main_conf_t *amcf = conf;

    char                 err[256];
    ngx_str_t           *value, path;
    ngx_pool_cleanup_t  *cln;

    if (amcf->tokenizer) {
        return "is duplicate";
    }

    value = cf->args->elts;
    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    amcf->tokenizer = airouter_tokenizer_load((char *) path.data, err,
                                              sizeof(err));
    if (amcf->tokenizer == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "airouter: tokenizer \"%V\": %s", &path, err);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_airouter_cleanup_tokenizer;
    cln->data = amcf->tokenizer;

    ngx_conf_log_error(NGX_LOG_NOTICE, cf, 0,
                       "airouter: tokenizer %s, %uz ranks",
                       airouter_tokenizer_encoding_name(amcf->tokenizer),
                       airouter_tokenizer_ranks(amcf->tokenizer));

    return NGX_CONF_OK;
}


static void
ngx_http_airouter_cleanup_tokenizer(void *data)
{
    airouter_tokenizer_free(data);
}


static char *
ngx_http_airouter_config(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_airouter_main_conf_t *amcf = conf;

    ngx_str_t           *value;
    ngx_pool_cleanup_t  *cln;
    airouter_diag_t      diag;
    airouter_config_t   *acf;

    if (amcf->config_file.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    amcf->config_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &amcf->config_file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&diag, sizeof(airouter_diag_t));
    diag.warn = ngx_http_airouter_config_warn;
    diag.ctx = cf;

    /* ngx_conf_full_name() returns a NUL-terminated string */
    acf = airouter_config_load((char *) amcf->config_file.data, &diag);
    if (acf == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "airouter: %s", diag.error);
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        airouter_config_free(acf);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_airouter_cleanup_config;
    cln->data = amcf;
    amcf->config = acf;

    if (ngx_http_airouter_catalog_build(cf, amcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void
ngx_http_airouter_config_warn(void *ctx, const char *msg)
{
    ngx_conf_t *cf = ctx;

    ngx_conf_log_error(NGX_LOG_WARN, cf, 0, "airouter: %s", msg);
}


static void
ngx_http_airouter_cleanup_config(void *data)
{
    ngx_http_airouter_main_conf_t *amcf = data;

    if (amcf->catalog_blob) {
        airouter_catalog_blob_free(amcf->catalog_blob);
        amcf->catalog_blob = NULL;
        amcf->catalog = NULL;
    }

    if (amcf->config) {
        airouter_config_free(amcf->config);
        amcf->config = NULL;
    }
}


static char *
ngx_http_airouter_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_airouter_main_conf_t *amcf = conf;

    ssize_t     size;
    ngx_str_t  *value;

    if (amcf->shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone name \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    size = ngx_parse_size(&value[2]);

    if (size == NGX_ERROR || size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\": at least %uz bytes",
                           &value[2], 8 * ngx_pagesize);
        return NGX_CONF_ERROR;
    }

    amcf->zone_name = value[1];
    amcf->zone_size = size;

    amcf->shm_zone = ngx_http_airouter_zone_add(cf, amcf,
                                         ngx_http_airouter_zone_parts);
    if (amcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_airouter_role(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_airouter_loc_conf_t *alcf = conf;

    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_airouter_main_conf_t  *amcf;

    if (alcf->role != NGX_HTTP_AIROUTER_ROLE_NONE) {
        return "is duplicate";
    }

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_airouter_module);

    if (amcf->config == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs \"airouter_config\" earlier in "
                           "the http block", &cmd->name);
        return NGX_CONF_ERROR;
    }

    alcf->role = cmd->offset;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_airouter_handler;

    return NGX_CONF_OK;
}


/*
 * One notice per start or reload, so an operator sees at a glance what the
 * workers will serve.
 */
static ngx_int_t
ngx_http_airouter_init_module(ngx_cycle_t *cycle)
{
    ngx_uint_t                      i;
    airouter_config_t              *acf;
    ngx_http_airouter_main_conf_t  *amcf;

    if (cycle->conf_ctx[ngx_http_module.index] == NULL) {
        return NGX_OK;
    }

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_airouter_module);
    if (amcf == NULL || amcf->config == NULL) {
        return NGX_OK;
    }

    acf = amcf->config;

    ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                  "airouter %s: %uz channels (%uz enabled), %uz providers, "
                  "%uz models, strategy %s, auth %s, zone \"%V\" %uz",
                  AIROUTER_VERSION, acf->nchannels, acf->nenabled,
                  acf->nproviders, (size_t) airouter_catalog_nmodels(amcf->catalog),
                  acf->routing.default_strategy,
                  acf->auth.enabled ? "on" : "off",
                  &amcf->zone_name, amcf->zone_size);

    for (i = 0; i < acf->nchannels; i++) {
        if (acf->channels[i].disabled_reason) {
            ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                          "airouter: channel \"%s\" is off: %s",
                          acf->channels[i].id,
                          acf->channels[i].disabled_reason);
        }
    }

    for (i = 0; i < acf->nowned; i++) {
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "airouter: \"%s\" in %s is nginx's to set: "
                      "use the \"%s\" directive", acf->owned[i].key,
                      acf->file, acf->owned[i].directive);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_airouter_handler(ngx_http_request_t *r)
{
    ngx_http_airouter_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_airouter_module);

    switch (alcf->role) {

    case NGX_HTTP_AIROUTER_ROLE_HEALTH:
        return ngx_http_airouter_health_handler(r);

    case NGX_HTTP_AIROUTER_ROLE_METRICS:
        return ngx_http_airouter_metrics_handler(r);

    case NGX_HTTP_AIROUTER_ROLE_ADMIN:
        return ngx_http_airouter_admin_handler(r);

    case NGX_HTTP_AIROUTER_ROLE_DASHBOARD:
        return ngx_http_airouter_dashboard_handler(r);

    case NGX_HTTP_AIROUTER_ROLE_API:
        return ngx_http_airouter_api_handler(r);

    default:
        return NGX_DECLINED;
    }
}
