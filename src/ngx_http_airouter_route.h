/*
 * Routing helpers shared by the API and explain handlers; see
 * ngx_http_airouter_route.c.
 */

#ifndef NGX_HTTP_AIROUTER_ROUTE_H
#define NGX_HTTP_AIROUTER_ROUTE_H

#include "ngx_http_airouter_request.h"
#include "airouter_rank.h"


/*
 * Sets ctx->strategy: the client's X-Router-Strategy header, else the
 * strategy an admin switched every worker to, else none (the routing
 * default).  NGX_ERROR: out of memory.
 */
ngx_int_t ngx_http_airouter_route_strategy(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx);

/*
 * Sends the answer for a routing result that is not AIROUTER_ROUTE_OK, as
 * the request's key sees the catalogue (see route_key_limited).
 */
ngx_int_t ngx_http_airouter_route_error(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, airouter_route_result_t *res);

/*
 * The request's key has an ACL: what it may not use must look to it as
 * if it did not exist (no key_not_allowed counts, entries or close names).
 */
ngx_uint_t ngx_http_airouter_route_key_limited(ngx_http_airouter_ctx_t *ctx);

#endif /* NGX_HTTP_AIROUTER_ROUTE_H */
