/*
 * The catalogue as nginx sees it: built from the configuration at start-up,
 * published in the shared zone, and handed to request handlers.
 */

#ifndef NGX_HTTP_AIROUTER_CATALOG_H
#define NGX_HTTP_AIROUTER_CATALOG_H

#include "ngx_http_airouter_module.h"


ngx_int_t ngx_http_airouter_catalog_build(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf);

/*
 * The catalogue requests should use now: the zone's when it was built for
 * this process's configuration, else the process's own.  The view stays
 * valid until the handler returns to the event loop.
 */
const airouter_catalog_t *ngx_http_airouter_catalog_current(
    ngx_http_airouter_main_conf_t *amcf);

#endif /* NGX_HTTP_AIROUTER_CATALOG_H */
