/*
 * Header lookup by name in an nginx header list: a client request's
 * (r->headers_in.headers) or an upstream answer's
 * (r->upstream->headers_in.headers).  Used by the dialect glue (the
 * SDKs' key and beta headers), route (X-Router-Strategy) and the proxy's
 * judge (Retry-After).
 */

#ifndef NGX_HTTP_AIROUTER_HEADER_H
#define NGX_HTTP_AIROUTER_HEADER_H

#include <ngx_config.h>
#include <ngx_core.h>


/*
 * The first header of the list named name (len bytes, any case), or NULL.
 * A header nginx marked deleted (hash 0) is skipped.  The value is as it
 * came: untrusted bytes, maybe empty.
 */
ngx_table_elt_t *ngx_http_airouter_header_find(ngx_list_t *headers,
    u_char *name, size_t len);

#endif /* NGX_HTTP_AIROUTER_HEADER_H */
