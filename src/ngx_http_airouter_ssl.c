/*
 * The client TLS context of outgoing connections; see
 * ngx_http_airouter_ssl.h.
 */

#include "ngx_http_airouter_ssl.h"


#if (NGX_SSL)

ngx_ssl_t *
ngx_http_airouter_ssl_client(ngx_conf_t *cf, ngx_flag_t verify,
    ngx_str_t *trusted)
{
    ngx_str_t            ciphers;
    ngx_ssl_t           *ssl;
    ngx_pool_cleanup_t  *cln;

    ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (ssl == NULL) {
        return NULL;
    }

    ssl->log = cf->log;

    if (ngx_ssl_create(ssl, NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3, NULL) != NGX_OK) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(ssl);
        return NULL;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = ssl;

    ngx_str_set(&ciphers, "DEFAULT");

    if (ngx_ssl_ciphers(cf, ssl, &ciphers, 0) != NGX_OK) {
        return NULL;
    }

    if (verify) {
        if (ngx_conf_full_name(cf->cycle, trusted, 1) != NGX_OK) {
            return NULL;
        }

        /* depth 9: nginx's default for proxy_ssl_verify_depth is 1, too
         * short for the chains public APIs present */
        if (ngx_ssl_trusted_certificate(cf, ssl, trusted, 9) != NGX_OK) {
            return NULL;
        }
    }

    return ssl;
}

#endif
