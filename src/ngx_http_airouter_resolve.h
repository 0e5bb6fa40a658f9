/*
 * Channel addresses kept fresh through nginx's resolver: with "resolver"
 * at http level, every worker re-resolves each channel's host name on a
 * timer and writes the answer into the proxy's address pointer.
 *
 * Called by the channel endpoints' configuration
 * (ngx_http_airouter_endpoint.c: ngx_http_airouter_resolve_resolver, and
 * ngx_http_airouter_resolve_add for names) and by the module (the
 * directive, and init_process).
 */

#ifndef NGX_HTTP_AIROUTER_RESOLVE_H
#define NGX_HTTP_AIROUTER_RESOLVE_H

#include "ngx_http_airouter_module.h"


#define NGX_HTTP_AIROUTER_RESOLVE_INTERVAL  30000


/* airouter_resolve_interval time; */
char *ngx_http_airouter_resolve_interval(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * nginx's resolver of the http level, or NULL when the "resolver"
 * directive is absent there.
 */
ngx_resolver_t *ngx_http_airouter_resolve_resolver(ngx_conf_t *cf);

/*
 * Configuration time: the worker re-resolves host and stores the chosen
 * address, with port, in *addr (which may be NULL until the first answer;
 * a later failure leaves it as it is).  id names the channel in logs.
 */
ngx_int_t ngx_http_airouter_resolve_add(ngx_conf_t *cf, const char *id,
    ngx_str_t *host, in_port_t port, ngx_addr_t **addr);

/* init_process: the first resolutions, then the timers. */
ngx_int_t ngx_http_airouter_resolve_init_process(ngx_cycle_t *cycle);

#endif /* NGX_HTTP_AIROUTER_RESOLVE_H */
