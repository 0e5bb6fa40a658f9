/*
 * The proxy: a routed request goes to its candidates one after another
 * through nginx's upstream machinery, as a full upstream module of its own
 * (the proxy module's request is built once; ours is rebuilt for every
 * try, with the candidate's host, key and model id).
 *
 * This file is the proxy's face: ngx_http_airouter_proxy_start() (called
 * by the API handler) sets up the upstream and the request's proxy
 * context; the location configuration (create, merge: the upstream
 * conf, the channels as the proxy reaches them, the TLS context) is
 * called by the module's configuration life cycle.  The proxy's result
 * goes into the request's context (ngx_http_airouter_proxy_publish) for
 * the stats and the $airouter_* variables.  What a try does is in the
 * other proxy files (ngx_http_airouter_proxy_impl.h lists them).
 */

#include "ngx_http_airouter_proxy_impl.h"


/* shorter keys are placeholders ("EMPTY", "ollama") masking would hurt */
#define NGX_HTTP_AIROUTER_SCRUB_MIN       8


static ngx_int_t ngx_http_airouter_proxy_channels(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf);
static ngx_uint_t ngx_http_airouter_proxy_reachable(
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t channel);
static ngx_int_t ngx_http_airouter_proxy_channel(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t i,
    ngx_http_airouter_channel_t *pc);

#if (NGX_HTTP_SSL)
static ngx_int_t ngx_http_airouter_proxy_set_ssl(ngx_conf_t *cf,
    ngx_http_airouter_loc_conf_t *conf, ngx_http_airouter_proxy_conf_t *pcf,
    ngx_http_airouter_main_conf_t *amcf);
#endif


/* The upstream's headers that are not the client's business. */
static ngx_str_t  ngx_http_airouter_hide_headers[] = {
    ngx_string("Date"),
    ngx_string("Server"),
    ngx_string("X-Pad"),
    ngx_string("X-Accel-Expires"),
    ngx_string("X-Accel-Redirect"),
    ngx_string("X-Accel-Limit-Rate"),
    ngx_string("X-Accel-Buffering"),
    ngx_string("X-Accel-Charset"),
    ngx_string("Set-Cookie"),
    ngx_string("Set-Cookie2"),
    ngx_string("Alt-Svc"),
    ngx_string("Keep-Alive"),
    ngx_string("Proxy-Connection"),
    ngx_string("Upgrade"),
    ngx_string("Strict-Transport-Security"),
    ngx_null_string
};


ngx_int_t
ngx_http_airouter_proxy_start(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx)
{
    ngx_http_upstream_t             *u;
    ngx_http_airouter_proxy_ctx_t   *p;
    ngx_http_airouter_loc_conf_t    *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_airouter_module);

    if (alcf->proxy == NULL || ctx->amcf->proxy == NULL
        || ctx->candidates.nelts == 0)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "airouter: proxy started without candidates");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_upstream_create(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_pcalloc(r->pool, sizeof(ngx_http_airouter_proxy_ctx_t));
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_array_init(&p->attempts, r->pool, 4,
                       sizeof(ngx_http_airouter_attempt_t))
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p->api_path = ngx_pnalloc(r->pool, ctx->api_path.len + 1);
    if (p->api_path == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    (void) ngx_cpystrn((u_char *) p->api_path, ctx->api_path.data,
                       ctx->api_path.len + 1);

    /* ctx->requested points into the body, whose "model" each try replaces */
    ctx->requested.data = ngx_pstrdup(r->pool, &ctx->requested);
    if (ctx->requested.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p->request = r;
    p->ctx = ctx;
    p->pm = ctx->amcf->proxy;
    p->pcf = alcf->proxy;
    p->try.fault = AIROUTER_FAULT_NONE;
    ctx->proxy = p;

    /* "no_candidate" until a try says otherwise */
    ngx_http_airouter_proxy_publish(p);

    u = r->upstream;

    ngx_str_set(&u->schema, "airouter://");
    u->output.tag = (ngx_buf_tag_t) &ngx_http_airouter_module;
    u->conf = &alcf->upstream;

    u->create_request = ngx_http_airouter_proxy_create_request;
    u->reinit_request = ngx_http_airouter_proxy_reinit_request;
    u->process_header = ngx_http_airouter_proxy_process_header;
    u->abort_request = ngx_http_airouter_proxy_abort_request;
    u->finalize_request = ngx_http_airouter_proxy_finalize_request;

    /* one mode for every answer: small ones are read whole as headers */
    u->buffering = 0;
    u->input_filter_init = ngx_http_airouter_proxy_filter_init;
    u->input_filter = ngx_http_airouter_proxy_filter;
    u->input_filter_ctx = r;

    r->main->count++;

    ngx_http_upstream_init(r);

    return NGX_DONE;
}



void
ngx_http_airouter_proxy_create_conf(ngx_http_airouter_loc_conf_t *alcf)
{
    alcf->upstream.connect_timeout = NGX_CONF_UNSET_MSEC;
    alcf->upstream.send_timeout = NGX_CONF_UNSET_MSEC;
    alcf->upstream.read_timeout = NGX_CONF_UNSET_MSEC;
    alcf->upstream.buffer_size = NGX_CONF_UNSET_SIZE;
    alcf->upstream.hide_headers = NGX_CONF_UNSET_PTR;
    alcf->upstream.pass_headers = NGX_CONF_UNSET_PTR;
    alcf->keepalive = NGX_CONF_UNSET_UINT;
    alcf->ssl_verify = NGX_CONF_UNSET;

    /*
     * set by ngx_pcalloc(), and meant: buffering, intercept_errors,
     * ignore_client_abort and store off; no local address.
     */
}


char *
ngx_http_airouter_proxy_merge_conf(ngx_conf_t *cf,
    ngx_http_airouter_loc_conf_t *prev, ngx_http_airouter_loc_conf_t *conf)
{
    ngx_hash_init_t                  hash;
    airouter_config_t               *acf;
    ngx_http_airouter_proxy_conf_t  *pcf;
    ngx_http_airouter_main_conf_t   *amcf;
    ngx_http_airouter_proxy_main_t  *pm;

    ngx_conf_merge_msec_value(conf->upstream.connect_timeout,
                              prev->upstream.connect_timeout, 10000);
    ngx_conf_merge_msec_value(conf->upstream.send_timeout,
                              prev->upstream.send_timeout, 60000);
    ngx_conf_merge_msec_value(conf->upstream.read_timeout,
                              prev->upstream.read_timeout, 300000);
    ngx_conf_merge_size_value(conf->upstream.buffer_size,
                              prev->upstream.buffer_size, 32 * 1024);
    ngx_conf_merge_uint_value(conf->keepalive, prev->keepalive, 32);
    ngx_conf_merge_value(conf->ssl_verify, prev->ssl_verify, 1);
    ngx_conf_merge_str_value(conf->ssl_trusted_certificate,
                             prev->ssl_trusted_certificate,
                             "/etc/ssl/certs/ca-certificates.crt");

    hash.max_size = 512;
    hash.bucket_size = ngx_align(64, ngx_cacheline_size);
    hash.name = "airouter_headers_hash";

    if (ngx_http_upstream_hide_headers_hash(cf, &conf->upstream,
            &prev->upstream, ngx_http_airouter_hide_headers, &hash)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_airouter_module);

    if (conf->role != NGX_HTTP_AIROUTER_ROLE_API || amcf->config == NULL) {
        return NGX_CONF_OK;
    }

    if (amcf->proxy == NULL
        && ngx_http_airouter_proxy_channels(cf, amcf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    acf = amcf->config;
    pm = amcf->proxy;

    pcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_airouter_proxy_conf_t));
    if (pcf == NULL) {
        return NGX_CONF_ERROR;
    }

    /* the proxy's peer callbacks, wrapped for a request that may be hedged */
    pcf->uscf.peer.init = ngx_http_airouter_proxy_hedge_peer_init;
    ngx_str_set(&pcf->uscf.host, "airouter");
    pcf->max_cached = conf->keepalive;

    conf->upstream.upstream = &pcf->uscf;
    ngx_str_set(&conf->upstream.module, "airouter");

    /* the try budget is peer.tries (ngx_http_airouter_proxy_peer_init) */
    conf->upstream.next_upstream = NGX_HTTP_UPSTREAM_FT_ERROR
                                   |NGX_HTTP_UPSTREAM_FT_TIMEOUT
                                   |NGX_HTTP_UPSTREAM_FT_INVALID_HEADER
                                   |NGX_HTTP_UPSTREAM_FT_HTTP_500
                                   |NGX_HTTP_UPSTREAM_FT_HTTP_502
                                   |NGX_HTTP_UPSTREAM_FT_HTTP_503
                                   |NGX_HTTP_UPSTREAM_FT_HTTP_504
                                   |NGX_HTTP_UPSTREAM_FT_HTTP_403
                                   |NGX_HTTP_UPSTREAM_FT_HTTP_404
                                   |NGX_HTTP_UPSTREAM_FT_HTTP_429
                                   |NGX_HTTP_UPSTREAM_FT_NON_IDEMPOTENT;
    conf->upstream.next_upstream_tries = 0;
    conf->upstream.next_upstream_timeout =
                             (ngx_msec_t) acf->routing.request_deadline * 1000;

    pm->max_tries = acf->routing.enable_fallback
                    ? (ngx_uint_t) ngx_max(acf->routing.max_retry_attempts, 1)
                    : 1;

#if (NGX_HTTP_SSL)
    if (ngx_http_airouter_proxy_set_ssl(cf, conf, pcf, amcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }
#endif

    conf->proxy = pcf;

    return NGX_CONF_OK;
}


#if (NGX_HTTP_SSL)

/*
 * As ngx_http_proxy_set_ssl(): one client context for every channel; none
 * (and no CA bundle read) when no channel the proxy can reach is https.
 */
static ngx_int_t
ngx_http_airouter_proxy_set_ssl(ngx_conf_t *cf,
    ngx_http_airouter_loc_conf_t *conf, ngx_http_airouter_proxy_conf_t *pcf,
    ngx_http_airouter_main_conf_t *amcf)
{
    ngx_uint_t                       i;
    ngx_http_airouter_proxy_main_t  *pm;

    pm = amcf->proxy;

    for (i = 0; i < amcf->config->nchannels; i++) {
        if (pm->channels[i].ep->https && pm->channels[i].ep->error == NULL) {
            break;
        }
    }

    if (i == amcf->config->nchannels) {
        return NGX_OK;
    }

    pcf->ssl = ngx_http_airouter_ssl_client(cf, conf->ssl_verify,
                                            &conf->ssl_trusted_certificate);
    if (pcf->ssl == NULL) {
        return NGX_ERROR;
    }

    if (ngx_ssl_client_session_cache(cf, pcf->ssl, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    conf->upstream.ssl = pcf->ssl;
    conf->upstream.ssl_server_name = 1;
    conf->upstream.ssl_verify = conf->ssl_verify;
    conf->upstream.ssl_session_reuse = 1;

    return NGX_OK;
}

#endif


static ngx_int_t
ngx_http_airouter_proxy_channels(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf)
{
    size_t                           i;
    airouter_config_t               *acf;
    ngx_http_airouter_proxy_main_t  *pm;

    acf = amcf->config;

    pm = ngx_pcalloc(cf->pool, sizeof(ngx_http_airouter_proxy_main_t));
    if (pm == NULL) {
        return NGX_ERROR;
    }

    pm->channels = ngx_pcalloc(cf->pool, (acf->nchannels ? acf->nchannels : 1)
                                         * sizeof(ngx_http_airouter_channel_t));
    if (pm->channels == NULL) {
        return NGX_ERROR;
    }

    airouter_outcome_table_init(&pm->outcomes, &acf->routing.errors,
                                acf->routing.error_cooldown_period);

    for (i = 0; i < acf->nchannels; i++) {
        pm->channels[i].ep = &pm->none;

        /* the X-Router-* values that are the channel's, once */
        if (ngx_http_airouter_proxy_header_value(cf->pool,
                acf->channels[i].id, &pm->channels[i].header_id) != NGX_OK
            || (acf->channels[i].provider_name
                && ngx_http_airouter_proxy_header_value(cf->pool,
                       acf->channels[i].provider_name,
                       &pm->channels[i].header_provider) != NGX_OK))
        {
            return NGX_ERROR;
        }

        ngx_http_airouter_proxy_url_path(acf->channels[i].base_url
                                         ? acf->channels[i].base_url : "",
                                         &pm->channels[i].base_path);

        if (!acf->channels[i].enabled || acf->channels[i].base_url == NULL) {
            continue;
        }

        if (ngx_http_airouter_proxy_channel(cf, amcf, i, &pm->channels[i])
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    amcf->proxy = pm;

    /* ranking, /health and the stats API skip a channel without address */
    return ngx_http_airouter_live_on_reachable(cf, amcf,
                                       ngx_http_airouter_proxy_reachable);
}


static ngx_uint_t
ngx_http_airouter_proxy_reachable(ngx_http_airouter_main_conf_t *amcf,
    ngx_uint_t channel)
{
    ngx_http_airouter_proxy_main_t  *pm;

    pm = amcf->proxy;

    return channel >= amcf->config->nchannels
           || pm->channels[channel].ep->addr != NULL;
}


/* The endpoint of channel i, and the keys masked in what it answers. */
static ngx_int_t
ngx_http_airouter_proxy_channel(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t i,
    ngx_http_airouter_channel_t *pc)
{
    size_t                     k, len;
    const airouter_channel_t  *ch;

    ch = &amcf->config->channels[i];

    pc->ep = ngx_http_airouter_endpoint(cf, amcf, i);
    if (pc->ep == NULL) {
        return NGX_ERROR;
    }

    if (ch->api_keys.n == 0) {
        return NGX_OK;
    }

    pc->secrets = ngx_palloc(cf->pool, ch->api_keys.n * sizeof(ngx_str_t));
    if (pc->secrets == NULL) {
        return NGX_ERROR;
    }

    for (k = 0; k < ch->api_keys.n; k++) {
        len = ngx_strlen(ch->api_keys.items[k]);

        if (len >= NGX_HTTP_AIROUTER_SCRUB_MIN) {
            pc->secrets[pc->nsecrets].data = (u_char *) ch->api_keys.items[k];
            pc->secrets[pc->nsecrets++].len = len;
        }
    }

    return NGX_OK;
}
