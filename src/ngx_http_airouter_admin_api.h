/*
 * The admin endpoints of ngx_http_airouter_admin_api.c, as the admin URL
 * table (ngx_http_airouter_admin.c) calls them: path is the URL after
 * "/v1/" ("admin/channels/{id}/reset").  Each returns what a content
 * handler returns; NGX_DECLINED: not a URL it serves (a 404).
 */

#ifndef NGX_HTTP_AIROUTER_ADMIN_API_H
#define NGX_HTTP_AIROUTER_ADMIN_API_H

#include "ngx_http_airouter_module.h"


ngx_int_t ngx_http_airouter_admin_api_strategy(ngx_http_request_t *r,
    ngx_str_t *path);
ngx_int_t ngx_http_airouter_admin_api_optimize(ngx_http_request_t *r,
    ngx_str_t *path);
ngx_int_t ngx_http_airouter_admin_api_channels(ngx_http_request_t *r,
    ngx_str_t *path);
ngx_int_t ngx_http_airouter_admin_api_channel(ngx_http_request_t *r,
    ngx_str_t *path);

#endif /* NGX_HTTP_AIROUTER_ADMIN_API_H */
