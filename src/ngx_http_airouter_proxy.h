/*
 * The proxy: sends a routed request to its candidates one after another
 * through nginx's upstream machinery, and answers the client with the
 * first one that works (or an OpenAI-style error naming every attempt).
 *
 * Called by the API handler (ngx_http_airouter_proxy_start) and by the
 * module's configuration life cycle (the rest).
 */

#ifndef NGX_HTTP_AIROUTER_PROXY_H
#define NGX_HTTP_AIROUTER_PROXY_H

#include "ngx_http_airouter_request.h"


/*
 * Starts the attempts; ctx is the request's module context with at least
 * one candidate.  Returns NGX_DONE (the upstream finalizes the request) or
 * an HTTP status for ngx_http_finalize_request().
 */
ngx_int_t ngx_http_airouter_proxy_start(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx);

/* Location configuration: called by the module's create and merge. */
void ngx_http_airouter_proxy_create_conf(ngx_http_airouter_loc_conf_t *alcf);
char *ngx_http_airouter_proxy_merge_conf(ngx_conf_t *cf,
    ngx_http_airouter_loc_conf_t *prev, ngx_http_airouter_loc_conf_t *conf);

/* postconfiguration: the header and body filters of proxied answers. */
ngx_int_t ngx_http_airouter_proxy_init(ngx_conf_t *cf);

#endif /* NGX_HTTP_AIROUTER_PROXY_H */
