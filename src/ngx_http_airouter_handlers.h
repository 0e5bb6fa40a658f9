/*
 * Content handlers, one per location role (see ngx_http_airouter_role_e).
 * The module's dispatcher calls them; each lives in its own file.
 */

#ifndef NGX_HTTP_AIROUTER_HANDLERS_H
#define NGX_HTTP_AIROUTER_HANDLERS_H

#include "ngx_http_airouter_module.h"


ngx_int_t ngx_http_airouter_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_airouter_health_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_airouter_metrics_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_airouter_api_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_airouter_admin_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_airouter_dashboard_handler(ngx_http_request_t *r);

#endif /* NGX_HTTP_AIROUTER_HANDLERS_H */
