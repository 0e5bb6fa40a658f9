/*
 * airouter_pricing_file and the price lookup (see
 * ngx_http_airouter_pricing.h).  The files are parsed by the pure
 * airouter_pricing.c at configuration time; the table lives as long as
 * the configuration's pool.
 */

#include "ngx_http_airouter_pricing.h"
#include "airouter_pricing.h"


static void ngx_http_airouter_pricing_cleanup(void *data);


char *
ngx_http_airouter_pricing_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_airouter_main_conf_t *amcf = conf;

    long                 n;
    char                 err[256];
    ngx_str_t           *value, path;
    ngx_pool_cleanup_t  *cln;

    value = cf->args->elts;
    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (amcf->pricing == NULL) {
        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            return NGX_CONF_ERROR;
        }

        amcf->pricing = airouter_pricing_create();
        if (amcf->pricing == NULL) {
            return NGX_CONF_ERROR;
        }

        cln->handler = ngx_http_airouter_pricing_cleanup;
        cln->data = amcf->pricing;
    }

    /* ngx_conf_full_name() returns a NUL-terminated string */
    n = airouter_pricing_add_file(amcf->pricing, (char *) path.data, err,
                                  sizeof(err));
    if (n < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "airouter: \"%V\": %s",
                           &path, err);
        return NGX_CONF_ERROR;
    }

    if (n == 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "airouter: \"%V\" holds no prices", &path);
    }

    return NGX_CONF_OK;
}


static void
ngx_http_airouter_pricing_cleanup(void *data)
{
    airouter_pricing_free(data);
}


void
ngx_http_airouter_pricing_price(ngx_http_airouter_main_conf_t *amcf,
    uint32_t channel, airouter_model_info_t *info)
{
    const airouter_price_t    *pr;
    const airouter_channel_t  *ch;

    ch = &amcf->config->channels[channel];

    airouter_catalog_channel_price(ch, info);

    if (amcf->pricing == NULL) {
        return;
    }

    pr = airouter_pricing_find(amcf->pricing, info->id, ch->provider_name,
                               ch->id);
    if (pr == NULL) {
        return;
    }

    airouter_catalog_info_price(info, pr->prompt, pr->completion,
                                pr->cache_read, pr->cache_write,
                                pr->currency);
    airouter_catalog_info_units(info, &pr->unit, pr->currency);

    if (info->context == 0) {
        info->context = pr->context;
    }

    if (info->max_output == 0) {
        info->max_output = pr->max_output;
    }
}


ngx_int_t
ngx_http_airouter_pricing_config(ngx_http_airouter_main_conf_t *amcf,
    airouter_catalog_builder_t *b)
{
    size_t                     k;
    uint32_t                   i;
    airouter_model_info_t      info;
    const airouter_channel_t  *ch;

    if (amcf->pricing == NULL) {
        return NGX_OK;
    }

    for (i = 0; i < amcf->config->nchannels; i++) {
        ch = &amcf->config->channels[i];

        if (ch->has_cost && ch->has_unit_cost) {
            continue;                   /* the configuration's price wins */
        }

        for (k = 0; k < ch->configured_models.n; k++) {
            ngx_memzero(&info, sizeof(airouter_model_info_t));
            info.id = ch->configured_models.items[k];

            ngx_http_airouter_pricing_price(amcf, i, &info);

            if (ch->has_cost) {
                /* the files add only the unit prices the channel lacks */
                info.has_price = 0;
                info.has_cache_read = 0;
                info.has_cache_write = 0;
            }

            if ((info.has_price || info.has_units)
                && airouter_catalog_builder_add_configured(b, i, &info) != 0)
            {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}
