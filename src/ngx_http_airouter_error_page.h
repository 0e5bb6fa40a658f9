/*
 * nginx's own error pages in the router's locations, answered as JSON in
 * the request's dialect (ngx_http_airouter_error_page.c).
 */

#ifndef NGX_HTTP_AIROUTER_ERROR_PAGE_H
#define NGX_HTTP_AIROUTER_ERROR_PAGE_H

#include "ngx_http_airouter_module.h"


/*
 * Installs the header and body filters.  The module's postconfiguration
 * calls it before the proxy's filters are installed, so these run after
 * them: the proxy replaces the page of a proxied request itself.
 */
ngx_int_t ngx_http_airouter_error_page_init(ngx_conf_t *cf);

extern ngx_module_t  ngx_http_airouter_error_page_module;

#endif /* NGX_HTTP_AIROUTER_ERROR_PAGE_H */
