/*
 * The `airouter_admin` location: /v1/admin/... and /v1/stats/..., behind
 * the admin token (auth.admin.admin_token, checked by
 * ngx_http_airouter_auth.c in nginx's access phase, so allow/deny,
 * auth_request and "satisfy" compose with it).  Every admin URL is one row of the table
 * below: its methods, its path (after "/v1/"; a row ending in '/' takes
 * every path under it) and the handler that serves it, in
 * ngx_http_airouter_admin_api.c, ngx_http_airouter_stats_api.c,
 * ngx_http_airouter_discovery.c, ngx_http_airouter_explain.c,
 * ngx_http_airouter_reqlog.c, ngx_http_airouter_history.c,
 * ngx_http_airouter_audit.c or ngx_http_airouter_events.c.
 */

#include "ngx_http_airouter_handlers.h"
#include "ngx_http_airouter_admin_api.h"
#include "ngx_http_airouter_api.h"
#include "ngx_http_airouter_response.h"
#include "ngx_http_airouter_discovery.h"
#include "ngx_http_airouter_auth.h"
#include "ngx_http_airouter_stats.h"
#include "ngx_http_airouter_reqlog.h"
#include "ngx_http_airouter_history.h"
#include "ngx_http_airouter_audit.h"
#include "ngx_http_airouter_events.h"


typedef struct {
    ngx_uint_t                   methods;      /* 0: any, the handler
                                                  answers 405 itself */
    ngx_str_t                    path;         /* ends in '/': a prefix */
    ngx_int_t                  (*handler)(ngx_http_request_t *r,
                                          ngx_str_t *path);
} ngx_http_airouter_admin_url_t;


#define NGX_HTTP_AIROUTER_ADMIN_GET  (NGX_HTTP_GET|NGX_HTTP_HEAD)


static ngx_int_t ngx_http_airouter_admin_route(ngx_http_request_t *r,
    ngx_str_t *path);
static ngx_int_t ngx_http_airouter_admin_tags(ngx_http_request_t *r,
    ngx_str_t *path);


static ngx_http_airouter_admin_url_t  ngx_http_airouter_admin_urls[] = {

    /* GET .../daily, weekly, monthly, summary, top-*, alerts... */
    { 0, ngx_string("stats/"), ngx_http_airouter_stats_api_handler },

    /* GET: the strategy; POST or PUT {"strategy": ...}: switch it */
    { 0, ngx_string("admin/routing/strategy"),
      ngx_http_airouter_admin_api_strategy },

    { NGX_HTTP_AIROUTER_ADMIN_GET, ngx_string("admin/cost/optimize"),
      ngx_http_airouter_admin_api_optimize },

    { NGX_HTTP_AIROUTER_ADMIN_GET, ngx_string("admin/channels"),
      ngx_http_airouter_admin_api_channels },

    /* POST .../{id}/reset, disable, enable */
    { NGX_HTTP_POST, ngx_string("admin/channels/"),
      ngx_http_airouter_admin_api_channel },

    /* GET: the last runs; POST: run now */
    { NGX_HTTP_AIROUTER_ADMIN_GET|NGX_HTTP_POST, ngx_string("admin/discovery"),
      ngx_http_airouter_discovery_admin },

    /* GET ?model=...: what POST /v1/route explains */
    { NGX_HTTP_AIROUTER_ADMIN_GET, ngx_string("admin/route"),
      ngx_http_airouter_admin_route },

    /* GET: /v1/tags over the whole catalogue (the dashboard's tag cloud) */
    { NGX_HTTP_AIROUTER_ADMIN_GET, ngx_string("admin/tags"),
      ngx_http_airouter_admin_tags },

    /* GET ?limit=&channel=&key=&model=&status=&since=: the last requests */
    { NGX_HTTP_AIROUTER_ADMIN_GET, ngx_string("admin/requests"),
      ngx_http_airouter_reqlog_api },

    /* GET: the last hour, minute by minute */
    { NGX_HTTP_AIROUTER_ADMIN_GET, ngx_string("admin/history"),
      ngx_http_airouter_history_api },

    /* GET ?limit=: the admin actions, newest first */
    { NGX_HTTP_AIROUTER_ADMIN_GET, ngx_string("admin/audit"),
      ngx_http_airouter_audit_api },

    /* GET: the Server-Sent Events stream of changes and counters */
    { NGX_HTTP_AIROUTER_ADMIN_GET, ngx_string("admin/events"),
      ngx_http_airouter_events_handler },

    { 0, ngx_null_string, NULL }
};


ngx_int_t
ngx_http_airouter_admin_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_str_t                       path;
    ngx_uint_t                      known;
    ngx_http_airouter_admin_url_t  *u;

    /*
     * The token was checked in the access phase (or another access module
     * let the request in under "satisfy any"); nginx runs no access phase
     * for a subrequest, which needs it here.
     */
    if (ngx_http_airouter_auth_admin(r, r != r->main, &rc) != NGX_OK) {
        return rc;
    }

    if (ngx_http_airouter_api_path(r, &path) != NGX_OK) {
        path = r->uri;
    }

    known = 0;

    for (u = ngx_http_airouter_admin_urls; u->handler; u++) {

        if (u->path.data[u->path.len - 1] == '/') {
            if (path.len < u->path.len
                || ngx_strncmp(path.data, u->path.data, u->path.len) != 0)
            {
                continue;
            }

        } else if (path.len != u->path.len
                   || ngx_strncmp(path.data, u->path.data, path.len) != 0)
        {
            continue;
        }

        if (u->methods && !(r->method & u->methods)) {
            known = 1;
            continue;
        }

        rc = u->handler(r, &path);
        if (rc != NGX_DECLINED) {
            return rc;
        }

        break;
    }

    if (known && u->handler == NULL) {
        return ngx_http_airouter_send_error(r, NGX_HTTP_NOT_ALLOWED,
                   "invalid_request_error", "method_not_allowed",
                   "Method %V is not allowed on %V", &r->method_name,
                   &r->uri);
    }

    return ngx_http_airouter_send_error(r, NGX_HTTP_NOT_FOUND,
               "invalid_request_error", "unknown_url",
               "Unknown admin URL: %V %V", &r->method_name, &r->uri);
}


static ngx_int_t
ngx_http_airouter_admin_route(ngx_http_request_t *r, ngx_str_t *path)
{
    return ngx_http_airouter_explain_get(r);
}


/* the admin sees every model: no API key narrows the list */
static ngx_int_t
ngx_http_airouter_admin_tags(ngx_http_request_t *r, ngx_str_t *path)
{
    ngx_str_t  tags = ngx_string("tags");

    return ngx_http_airouter_models_handler(r, &tags, NULL);
}
