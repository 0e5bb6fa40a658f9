/*
 * The client side of the module's outgoing TLS: the context, and the
 * start and check of one connection's handshake; see
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


const char *
ngx_http_airouter_ssl_start(ngx_connection_t *c, ngx_ssl_t *ssl,
    ngx_str_t *name, ngx_connection_handler_pt handler)
{
    if (ngx_ssl_create_connection(ssl, c, NGX_SSL_BUFFER|NGX_SSL_CLIENT)
        != NGX_OK)
    {
        return "cannot start TLS";
    }

    /* SNI carries host names, never addresses (RFC 6066, 3) */
    if (name->len
        && ngx_inet_addr(name->data, name->len) == INADDR_NONE
        && ngx_strlchr(name->data, name->data + name->len, ':') == NULL
        && SSL_set_tlsext_host_name(c->ssl->connection, (char *) name->data)
           == 0)
    {
        return "cannot set the TLS server name";
    }

    if (ngx_ssl_handshake(c) == NGX_AGAIN) {
        c->ssl->handler = handler;
        return NULL;
    }

    handler(c);

    return NULL;
}


const char *
ngx_http_airouter_ssl_verified(ngx_connection_t *c, ngx_flag_t verify,
    ngx_str_t *name, ngx_uint_t level)
{
    long  rc;

    if (!c->ssl->handshaked) {
        return "TLS handshake failed";
    }

    if (!verify) {
        return NULL;
    }

    rc = SSL_get_verify_result(c->ssl->connection);

    if (rc != X509_V_OK) {
        ngx_log_error(level, c->log, 0,
                      "airouter: certificate of \"%V\" does not verify: "
                      "(%l:%s)", name, rc, X509_verify_cert_error_string(rc));
        return "certificate does not verify";
    }

    if (ngx_ssl_check_host(c, name) != NGX_OK) {
        return "certificate does not match the host";
    }

    return NULL;
}

#endif
