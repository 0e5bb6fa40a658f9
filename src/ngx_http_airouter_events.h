/*
 * GET /v1/admin/events: one Server-Sent Events stream for an operator's
 * page.  It pushes what changed (a channel switched off or on, blocked or
 * open again, the strategy) and, once a second, that second's counters,
 * with a heartbeat comment; see ngx_http_airouter_events.c.
 *
 * Called by the admin URL table (ngx_http_airouter_admin.c).
 */

#ifndef NGX_HTTP_AIROUTER_EVENTS_H
#define NGX_HTTP_AIROUTER_EVENTS_H

#include "ngx_http_airouter_module.h"


ngx_int_t ngx_http_airouter_events_handler(ngx_http_request_t *r,
    ngx_str_t *path);

#endif /* NGX_HTTP_AIROUTER_EVENTS_H */
