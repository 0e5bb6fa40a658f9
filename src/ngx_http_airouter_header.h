/*
 * Header lookup by name in an nginx header list: a client request's
 * (r->headers_in.headers) or an upstream answer's
 * (r->upstream->headers_in.headers).  Used by the dialect glue (the
 * SDKs' key and beta headers), route (X-Router-Strategy) and the proxy's
 * judge (Retry-After).  And the one way airouter adds a header to its
 * answer (the proxy's X-Router-*, the dashboard's, /v1/events', Allow,
 * a rate limit's Retry-After).
 */

#ifndef NGX_HTTP_AIROUTER_HEADER_H
#define NGX_HTTP_AIROUTER_HEADER_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * The first header of the list named name (len bytes, any case), or NULL.
 * A header nginx marked deleted (hash 0) is skipped.  The value is as it
 * came: untrusted bytes, maybe empty.
 */
ngx_table_elt_t *ngx_http_airouter_header_find(ngx_list_t *headers,
    u_char *name, size_t len);

/*
 * A header added to r's answer; name and value are not copied (they live
 * as long as the request: constants, or r->pool).  NGX_ERROR: no memory.
 * Inline: the proxy adds up to ten X-Router-* headers to every answer.
 */
static ngx_inline ngx_int_t
ngx_http_airouter_header_add(ngx_http_request_t *r, const ngx_str_t *name,
    u_char *value, size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    h->key = *name;
    h->value.data = value;
    h->value.len = len;
    h->lowcase_key = NULL;

    return NGX_OK;
}

#endif /* NGX_HTTP_AIROUTER_HEADER_H */
