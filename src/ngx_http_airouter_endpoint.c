/*
 * A channel's upstream endpoint, built once for the proxy and discovery;
 * see ngx_http_airouter_endpoint.h.
 */

#include "ngx_http_airouter_endpoint.h"
#include "ngx_http_airouter_resolve.h"
#include "airouter_dialect.h"


/* amcf->endpoints */
typedef struct {
    ngx_http_airouter_endpoint_t    *endpoints;  /* [config->nchannels] */
} ngx_http_airouter_endpoints_t;


static ngx_int_t ngx_http_airouter_endpoint_build(ngx_conf_t *cf,
    const airouter_channel_t *ch, ngx_http_airouter_endpoint_t *ep);
static ngx_int_t ngx_http_airouter_endpoint_auth(ngx_conf_t *cf,
    const airouter_channel_t *ch, ngx_http_airouter_endpoint_t *ep);


ngx_http_airouter_endpoint_t *
ngx_http_airouter_endpoint(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t i)
{
    size_t                          n;
    ngx_http_airouter_endpoint_t   *ep;
    ngx_http_airouter_endpoints_t  *eps;

    eps = amcf->endpoints;

    if (eps == NULL) {
        eps = ngx_pcalloc(cf->pool, sizeof(ngx_http_airouter_endpoints_t));
        if (eps == NULL) {
            return NULL;
        }

        n = amcf->config->nchannels ? amcf->config->nchannels : 1;

        eps->endpoints = ngx_pcalloc(cf->pool,
                                     n * sizeof(ngx_http_airouter_endpoint_t));
        if (eps->endpoints == NULL) {
            return NULL;
        }

        amcf->endpoints = eps;
    }

    ep = &eps->endpoints[i];

    if (!ep->built) {
        ep->built = 1;

        if (ngx_http_airouter_endpoint_build(cf, &amcf->config->channels[i],
                                             ep)
            != NGX_OK)
        {
            return NULL;
        }
    }

    return ep;
}


/*
 * Without nginx's "resolver", a host that does not resolve now leaves the
 * channel out (with a warning) rather than failing nginx: providers' DNS
 * should not decide whether nginx starts.  With it, the name is resolved
 * now too (blocking while nginx starts, so new workers have an address at
 * once) and then kept fresh by the workers.
 */
static ngx_int_t
ngx_http_airouter_endpoint_build(ngx_conf_t *cf, const airouter_channel_t *ch,
    ngx_http_airouter_endpoint_t *ep)
{
    u_char      *p, *url;
    ngx_url_t    u;
    ngx_uint_t   k;

    if (ch->base_url == NULL) {
        ep->error = "no base_url";
        return NGX_OK;
    }

    url = (u_char *) ch->base_url;

    if (ngx_strncasecmp(url, (u_char *) "https://", 8) == 0) {
        ep->https = 1;
        p = url + 8;

    } else if (ngx_strncasecmp(url, (u_char *) "http://", 7) == 0) {
        p = url + 7;

    } else {
        ep->error = "base_url is neither http:// nor https://";
        return NGX_OK;
    }

#if !(NGX_SSL)
    if (ep->https) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "airouter: channel \"%s\" is left out: this nginx "
                           "has no SSL support for \"%s\"",
                           ch->id, ch->base_url);
        ep->error = "nginx was built without TLS";
        return NGX_OK;
    }
#endif

    ep->host.data = p;

    while (*p && *p != '/' && *p != '?' && *p != '#') {
        p++;
    }

    ep->host.len = p - ep->host.data;

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = ep->host;
    u.default_port = ep->https ? 443 : 80;
    u.no_resolve = 1;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "airouter: channel \"%s\" is left out: \"%V\": %s",
                           ch->id, &ep->host, u.err ? u.err : "no address");
        ep->error = "base_url has no valid host";
        return NGX_OK;
    }

    /* the TLS name and the resolver's name: NUL-terminated */
    ep->name.len = u.host.len;
    ep->name.data = ngx_pnalloc(cf->pool, u.host.len + 1);
    if (ep->name.data == NULL) {
        return NGX_ERROR;
    }

    ngx_cpystrn(ep->name.data, u.host.data, u.host.len + 1);
    ep->port = u.port ? u.port : u.default_port;

    if (u.naddrs == 0) {
        ep->resolver = ngx_http_airouter_resolve_resolver(cf);

        if (ngx_inet_resolve_host(cf->pool, &u) != NGX_OK) {
            u.naddrs = 0;

            if (ep->resolver == NULL) {
                ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                                   "airouter: channel \"%s\" is left out: "
                                   "\"%V\": %s", ch->id, &ep->host,
                                   u.err ? u.err : "no address");
                ep->error = "the host of base_url did not resolve at "
                            "start-up";
                return NGX_OK;
            }
        }

        if (ep->resolver
            && ngx_http_airouter_resolve_add(cf, ch->id, &u.host, u.port,
                                             &ep->addr)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    /* loopback names resolve to ::1 too; test mocks listen on IPv4 */
    for (k = 0; k < u.naddrs; k++) {
        if (ep->addr == NULL || u.addrs[k].sockaddr->sa_family == AF_INET) {
            ep->addr = &u.addrs[k];

            if (u.addrs[k].sockaddr->sa_family == AF_INET) {
                break;
            }
        }
    }

    return ngx_http_airouter_endpoint_auth(cf, ch, ep);
}


/*
 * One block of header lines per key: the key in the header the channel's
 * dialect and provider name (with Anthropic's version line for a native
 * Anthropic channel).
 */
static ngx_int_t
ngx_http_airouter_endpoint_auth(ngx_conf_t *cf, const airouter_channel_t *ch,
    ngx_http_airouter_endpoint_t *ep)
{
    u_char      *auth;
    size_t       len;
    ngx_uint_t   k;
    const char  *hdr, *prefix, *version;

    if (ch->api_keys.n == 0) {
        return NGX_OK;
    }

    airouter_dialect_auth(ch, &hdr, &prefix, &version);

    ep->auth = ngx_palloc(cf->pool, ch->api_keys.n * sizeof(ngx_str_t));
    if (ep->auth == NULL) {
        return NGX_ERROR;
    }

    for (k = 0; k < ch->api_keys.n; k++) {
        len = ngx_strlen(hdr) + sizeof(": ") - 1 + ngx_strlen(prefix)
              + ngx_strlen(ch->api_keys.items[k]) + sizeof(CRLF) - 1;

        if (version) {
            len += sizeof("anthropic-version: " CRLF) - 1
                   + ngx_strlen(version);
        }

        auth = ngx_pnalloc(cf->pool, len);
        if (auth == NULL) {
            return NGX_ERROR;
        }

        ep->auth[k].data = auth;
        auth = ngx_sprintf(auth, "%s: %s%s" CRLF, hdr, prefix,
                           ch->api_keys.items[k]);

        if (version) {
            auth = ngx_sprintf(auth, "anthropic-version: %s" CRLF, version);
        }

        ep->auth[k].len = auth - ep->auth[k].data;
    }

    ep->nauth = ch->api_keys.n;

    return NGX_OK;
}
