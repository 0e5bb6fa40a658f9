/*
 * The client TLS of the module's outgoing connections: the context (the
 * proxy's upstreams, discovery's and balance's fetches) and, for the
 * connections the module drives itself (fetch.c's client, hedge.c's
 * hedge), the start and the check of one handshake.  nginx's upstream
 * starts its own handshakes for the proxy.
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

/*
 * Starts TLS with the context ssl on the connected c: SNI is name
 * (NUL-terminated; none when it is empty or an address), then the
 * handshake.  handler(c) runs once the handshake is over, well or not:
 * later from the event loop, or from this call when it is over at once.
 * Returns NULL, or why TLS could not start (then handler does not run).
 */
const char *ngx_http_airouter_ssl_start(ngx_connection_t *c, ngx_ssl_t *ssl,
    ngx_str_t *name, ngx_connection_handler_pt handler);

/*
 * For that handler: NULL when the handshake succeeded and, with verify,
 * the certificate chain verifies and names name; else why not.  A chain
 * that does not verify is logged at level with OpenSSL's reason.
 */
const char *ngx_http_airouter_ssl_verified(ngx_connection_t *c,
    ngx_flag_t verify, ngx_str_t *name, ngx_uint_t level);

#endif

#endif /* NGX_HTTP_AIROUTER_SSL_H */
