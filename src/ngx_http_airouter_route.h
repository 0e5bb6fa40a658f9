/*
 * Routing helpers shared by the API and explain handlers; see
 * ngx_http_airouter_route.c.
 */

#ifndef NGX_HTTP_AIROUTER_ROUTE_H
#define NGX_HTTP_AIROUTER_ROUTE_H

#include "ngx_http_airouter_request.h"
#include "ngx_http_airouter_live.h"
#include "ngx_http_airouter_stats.h"
#include "ngx_http_airouter_balance.h"
#include "airouter_rank.h"


/*
 * What a request is ranked against: the catalogue it reads and live state
 * as its endpoint sees it, without the channels an admin switched off or
 * whose daily limit is used up, nor a spent channel's paid models.  live
 * points into the struct: it must stay where it is while live is used.
 */
typedef struct {
    const airouter_catalog_t             *cat;
    airouter_live_t                       live;
    ngx_http_airouter_live_view_t         view;
    ngx_http_airouter_stats_filter_t      filter;
    ngx_http_airouter_balance_filter_t    bfilter;
} ngx_http_airouter_route_live_t;


/*
 * Sets ctx->strategy: the client's X-Router-Strategy header, else the
 * strategy an admin switched every worker to, else none (the routing
 * default).  NGX_ERROR: out of memory.
 */
ngx_int_t ngx_http_airouter_route_strategy(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx);

/* Fills rl for ctx's request.  NGX_ERROR: out of memory. */
ngx_int_t ngx_http_airouter_route_live(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, ngx_http_airouter_route_live_t *rl);

/*
 * Sends the answer for a routing result that is not AIROUTER_ROUTE_OK, as
 * the request's key sees the catalogue (see route_key_limited).
 */
ngx_int_t ngx_http_airouter_route_error(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, airouter_route_result_t *res);

#endif /* NGX_HTTP_AIROUTER_ROUTE_H */
