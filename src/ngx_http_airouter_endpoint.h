/*
 * A channel's upstream endpoint, built once at configuration time for
 * every part of the module that talks to the channel: the proxy's tries
 * and discovery's /models requests and the balance checks.
 *
 * From the channel's base_url: the scheme, the authority (the Host
 * header), the host alone (TLS name and resolver's name), the port, the
 * address (resolved while nginx starts; with nginx's "resolver", each
 * worker keeps it fresh through ngx_http_airouter_resolve.c), and one
 * block of authentication header lines per key, as airouter_dialect_auth()
 * says the channel's dialect and provider want it.  Keys with a control
 * character never get here: the configuration refuses them at load.
 *
 * Called by the proxy's, discovery's and the balance checks'
 * configuration code; calls the resolver helpers and
 * airouter_dialect_auth.
 */

#ifndef NGX_HTTP_AIROUTER_ENDPOINT_H
#define NGX_HTTP_AIROUTER_ENDPOINT_H

#include "ngx_http_airouter_module.h"


typedef struct {
    /*
     * NULL until the first answer of the worker's resolver when the name
     * did not resolve at start-up; replaced by each worker as the name's
     * answer changes (IPv4 preferred).
     */
    ngx_addr_t                  *addr;
    ngx_resolver_t              *resolver;  /* nginx's "resolver", or NULL */
    ngx_str_t                    host;      /* Host: the URL's authority */
    ngx_str_t                    name;      /* TLS name, resolver's name;
                                               NUL-terminated */
    in_port_t                    port;
    ngx_uint_t                   https;
    ngx_str_t                   *auth;      /* [nauth]: "Name: value\r\n"
                                               lines for key i */
    ngx_uint_t                   nauth;

    /* why the channel cannot be reached at all; NULL: it can */
    const char                  *error;
    ngx_uint_t                   built;
} ngx_http_airouter_endpoint_t;


/*
 * The endpoint of channel i (of amcf->config), built at its first call
 * (a warning names a channel that cannot be reached, once), the same
 * object for every later caller.  NULL only when memory ran out.
 */
ngx_http_airouter_endpoint_t *ngx_http_airouter_endpoint(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t i);

#endif /* NGX_HTTP_AIROUTER_ENDPOINT_H */
