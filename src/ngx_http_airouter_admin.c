/*
 * The `airouter_admin` location: /v1/admin/..., behind the admin token
 * (auth.admin.admin_token, checked by ngx_http_airouter_auth.c); the
 * stats API and the admin endpoints of ngx_http_airouter_admin_api.c are
 * served here too.
 */

#include "ngx_http_airouter_handlers.h"
#include "ngx_http_airouter_api.h"
#include "ngx_http_airouter_response.h"
#include "ngx_http_airouter_discovery.h"
#include "ngx_http_airouter_auth.h"
#include "ngx_http_airouter_stats.h"


ngx_int_t
ngx_http_airouter_admin_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_str_t                       path;

    if (ngx_http_airouter_auth_admin(r, &rc) != NGX_OK) {
        return rc;
    }

    if (ngx_http_airouter_api_path(r, &path) != NGX_OK) {
        path = r->uri;
    }

    if (path.len >= sizeof("stats/") - 1
        && ngx_strncmp(path.data, "stats/", sizeof("stats/") - 1) == 0)
    {
        return ngx_http_airouter_stats_api_handler(r, &path);
    }

    rc = ngx_http_airouter_admin_api_handler(r, &path);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    rc = ngx_http_airouter_discovery_admin(r, &path);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (path.len == sizeof("admin/route") - 1
        && ngx_strncmp(path.data, "admin/route", path.len) == 0
        && (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)))
    {
        return ngx_http_airouter_explain_get(r);
    }

    return ngx_http_airouter_send_error(r, NGX_HTTP_NOT_FOUND,
               "invalid_request_error", "unknown_url",
               "Unknown admin URL: %V %V", &r->method_name, &r->uri);
}
