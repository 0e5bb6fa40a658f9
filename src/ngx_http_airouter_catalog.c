/*
 * Builds the start-up catalogue from the loaded configuration and picks the
 * catalogue a request reads.  The zone's copy is opened once per generation
 * and per process; the view is cached in the main configuration, which is
 * private to each process.
 */

#include "ngx_http_airouter_catalog.h"
#include "ngx_http_airouter_zone.h"
#include "ngx_http_airouter_pricing.h"
#include "airouter_models_json.h"


static ngx_int_t ngx_http_airouter_catalog_add_file(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf, airouter_catalog_builder_t *b,
    uint32_t channel, const char *file);


ngx_int_t
ngx_http_airouter_catalog_build(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf)
{
    size_t                        len;
    void                         *blob;
    uint32_t                      i;
    airouter_channel_t           *ch;
    airouter_catalog_builder_t   *b;

    b = airouter_catalog_builder_create(amcf->config);
    if (b == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "airouter: out of memory building the catalogue");
        return NGX_ERROR;
    }

    if (airouter_catalog_builder_add_config(b) != 0
        || ngx_http_airouter_pricing_config(amcf, b) != NGX_OK)
    {
        airouter_catalog_builder_destroy(b);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "airouter: cannot build the catalogue from %s",
                           amcf->config->file);
        return NGX_ERROR;
    }

    for (i = 0; i < amcf->config->nchannels; i++) {
        ch = &amcf->config->channels[i];

        if (ch->models_file
            && ngx_http_airouter_catalog_add_file(cf, amcf, b, i,
                                                  ch->models_file)
               != NGX_OK)
        {
            airouter_catalog_builder_destroy(b);
            return NGX_ERROR;
        }
    }

    blob = airouter_catalog_builder_finish(b, &len);
    airouter_catalog_builder_destroy(b);

    if (blob == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "airouter: out of memory building the catalogue");
        return NGX_ERROR;
    }

    amcf->catalog_blob = blob;
    amcf->catalog_len = len;
    amcf->catalog = airouter_catalog_open(blob, len);

    if (amcf->catalog == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "airouter: the built catalogue does not verify");
        return NGX_ERROR;
    }

    /* the checksum names the blob: equal checksums, same catalogue */
    amcf->fingerprint = amcf->catalog->checksum;

    return NGX_OK;
}


const airouter_catalog_t *
ngx_http_airouter_catalog_current(ngx_http_airouter_main_conf_t *amcf)
{
    size_t                     len;
    u_char                    *blob;
    uint64_t                   fingerprint;
    ngx_uint_t                 generation;
    ngx_http_airouter_zone_t  *zone;

    zone = ngx_http_airouter_zone_get(amcf);
    if (zone == NULL || zone->sh == NULL) {
        return amcf->catalog;
    }

    ngx_shmtx_lock(&zone->shpool->mutex);
    generation = zone->sh->generation;
    blob = zone->sh->catalog;
    len = zone->sh->catalog_len;
    fingerprint = zone->sh->fingerprint;
    ngx_shmtx_unlock(&zone->shpool->mutex);

    if (blob == NULL || fingerprint != amcf->fingerprint) {
        return amcf->catalog;
    }

    if (amcf->zone_view == NULL || amcf->zone_generation != generation) {
        amcf->zone_view = airouter_catalog_open(blob, len);
        amcf->zone_generation = generation;
    }

    return amcf->zone_view ? amcf->zone_view : amcf->catalog;
}


/*
 * A channel's models_file: a saved /models answer in any format discovery
 * reads, loaded as if discovery had just fetched it.
 */
static ngx_int_t
ngx_http_airouter_catalog_add_file(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf, airouter_catalog_builder_t *b,
    uint32_t channel, const char *file)
{
    char                    err[256];
    u_char                 *data;
    size_t                  i, n;
    ssize_t                 got;
    ngx_fd_t                fd;
    ngx_int_t               rc;
    ngx_file_info_t         fi;
    airouter_model_info_t  *models;

    fd = ngx_open_file(file, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "airouter: models_file %s: cannot open", file);
        return NGX_ERROR;
    }

    data = NULL;
    rc = NGX_ERROR;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "airouter: models_file %s: cannot stat", file);
        goto done;
    }

    data = ngx_alloc(ngx_file_size(&fi) + 1, cf->log);
    if (data == NULL) {
        goto done;
    }

    got = ngx_read_fd(fd, data, ngx_file_size(&fi));
    if (got != (ssize_t) ngx_file_size(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "airouter: models_file %s: short read", file);
        goto done;
    }

    if (airouter_models_json_parse((char *) data, got, &models, &n, err,
                                   sizeof(err))
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "airouter: models_file %s: %s", file, err);
        goto done;
    }

    rc = NGX_OK;

    for (i = 0; i < n; i++) {
        /* no price in the file: the channel's, then the price files */
        ngx_http_airouter_pricing_price(amcf, channel, &models[i]);

        if (airouter_catalog_builder_add_model(b, channel, &models[i]) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "airouter: models_file %s: %s", file,
                               airouter_catalog_builder_error(b));
            rc = NGX_ERROR;
            break;
        }
    }

    airouter_models_json_free(models);

done:

    if (data) {
        ngx_free(data);
    }

    ngx_close_file(fd);

    return rc;
}
