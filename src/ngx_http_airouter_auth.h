/*
 * API keys: who is calling.  A client's token comes as
 * "Authorization: Bearer <token>" or bare; it is compared in constant time
 * with every configured key (auth.api_token is the key "default"), and the
 * key record found carries the caller's limits (allowed tags and models,
 * budgets, request rate).  A key's name is what logs, stats and the
 * $airouter_key variable show; its value never leaves this file.
 *
 * The admin token (auth.admin.admin_token) guards the admin API and the
 * stats API (/v1/admin/..., /v1/stats/...).
 *
 * Called by the API handler, the admin and stats handlers, and the module's
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

/* The same for the admin token. */
ngx_int_t ngx_http_airouter_auth_admin(ngx_http_request_t *r, ngx_int_t *rc);

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
