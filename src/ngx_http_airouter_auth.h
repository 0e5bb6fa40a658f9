/*
 * API keys: who is calling.  A client's token comes as
 * "Authorization: Bearer <token>" or bare; it is compared in constant time
 * with every configured key (auth.api_token is the key "default"), and the
 * key record found carries the caller's limits (allowed tags and models,
 * budgets, request rate).  A key's name is what logs, stats and the
 * $airouter_key variable show; its value never leaves this file.
 *
 * The admin token (auth.admin.admin_token) guards the admin API and the
 * stats API (/v1/admin/..., /v1/stats/...), and /metrics while the admin
 * API is enabled.
 *
 * Called by the API location's access and content handlers, the admin,
 * stats and metrics handlers, the module's access handler and the metrics
 * location's (the admin token, in nginx's access phase) and the module's
 * preconfiguration (the variable).
 */

#ifndef NGX_HTTP_AIROUTER_AUTH_H
#define NGX_HTTP_AIROUTER_AUTH_H

#include "ngx_http_airouter_module.h"


/*
 * NGX_OK with *key the caller's key (NULL when auth is off); or
 * NGX_DECLINED when a 401 has been sent: *rc is then what the handler
 * returns.
 */
ngx_int_t ngx_http_airouter_auth_api(ngx_http_request_t *r,
    const airouter_apikey_t **key, ngx_int_t *rc);

/*
 * The same for the admin token (auth.admin.admin_token): NGX_OK, or
 * NGX_DECLINED when a 401 or 403 has been sent.  need_token 0 is for a
 * request the access phase let in already (the token was checked there,
 * or another access module said yes under "satisfy any"): then only an
 * admin API closed by the configuration refuses.
 */
ngx_int_t ngx_http_airouter_auth_admin(ngx_http_request_t *r,
    ngx_uint_t need_token, ngx_int_t *rc);

/*
 * The admin token as an access-phase handler (admin locations, the API
 * location's /v1/stats/..., metrics locations with the admin API enabled): NGX_OK for the right token, NGX_DECLINED when
 * there is nothing to check (the admin API open), NGX_DONE when refused
 * (answered and finalized).
 */
ngx_int_t ngx_http_airouter_auth_admin_phase(ngx_http_request_t *r);

/* How the admin API lets a request in (the dashboard tells its page). */
typedef enum {
    NGX_HTTP_AIROUTER_ADMIN_OPEN = 0,       /* no token needed (auth off) */
    NGX_HTTP_AIROUTER_ADMIN_TOKEN,          /* the admin token */
    NGX_HTTP_AIROUTER_ADMIN_CLOSED          /* nothing gets in: 403 */
} ngx_http_airouter_admin_access_e;

ngx_http_airouter_admin_access_e ngx_http_airouter_auth_admin_access(
    const airouter_config_t *acf);

/* The key a request's Authorization header names, or NULL. */
const airouter_apikey_t *ngx_http_airouter_auth_find(ngx_http_request_t *r,
    airouter_config_t *acf);

/* preconfiguration: $airouter_key */
ngx_int_t ngx_http_airouter_auth_add_variables(ngx_conf_t *cf);

#endif /* NGX_HTTP_AIROUTER_AUTH_H */
