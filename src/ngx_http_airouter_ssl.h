/*
 * The client TLS context the module's outgoing connections use (the
 * proxy's upstreams and discovery's /models requests).
 */

#ifndef NGX_HTTP_AIROUTER_SSL_H
#define NGX_HTTP_AIROUTER_SSL_H

#include <ngx_config.h>
#include <ngx_core.h>

#if (NGX_SSL)

/*
 * A TLS 1.2/1.3 client context released with cf->pool; with verify, it
 * trusts the certificates in *trusted (made a full path in place).
 * Returns NULL on failure (nginx has logged why).
 */
ngx_ssl_t *ngx_http_airouter_ssl_client(ngx_conf_t *cf, ngx_flag_t verify,
    ngx_str_t *trusted);

#endif

#endif /* NGX_HTTP_AIROUTER_SSL_H */
