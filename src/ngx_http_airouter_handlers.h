/*
 * Content handlers, one per location role (see ngx_http_airouter_role_e),
 * and the access-phase handlers of the API and metrics locations.  The module's dispatchers
 * call them; each lives in its own file.
 */

#ifndef NGX_HTTP_AIROUTER_HANDLERS_H
#define NGX_HTTP_AIROUTER_HANDLERS_H

#include "ngx_http_airouter_module.h"


ngx_int_t ngx_http_airouter_health_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_airouter_metrics_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_airouter_api_handler(ngx_http_request_t *r);

/*
 * The access-phase handler of the API location: the key's token, budgets
 * and rate (ngx_http_airouter_api.c).
 */
ngx_int_t ngx_http_airouter_api_access(ngx_http_request_t *r);

/* The metrics location's: the admin token (ngx_http_airouter_metrics.c). */
ngx_int_t ngx_http_airouter_metrics_access(ngx_http_request_t *r);

ngx_int_t ngx_http_airouter_admin_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_airouter_dashboard_handler(ngx_http_request_t *r);

#endif /* NGX_HTTP_AIROUTER_HANDLERS_H */
