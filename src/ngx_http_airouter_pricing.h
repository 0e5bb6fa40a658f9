/*
 * Prices from airouter_pricing_file (the pure lookup is airouter_pricing.c):
 * the directive that loads the files into amcf->pricing, and the lookup
 * that prices a model its source left unpriced.
 *
 * Layer: above the zone, below the catalogue.  Called by the module's
 * directive table, by catalog.c (start-up catalogue, models_file) and by
 * discovery (the /models answers of a run).
 */

#ifndef NGX_HTTP_AIROUTER_PRICING_H
#define NGX_HTTP_AIROUTER_PRICING_H

#include "ngx_http_airouter_module.h"


/* airouter_pricing_file: loads one price file into amcf->pricing. */
char *ngx_http_airouter_pricing_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * Prices a model its source left unpriced: the channel's cost_per_token,
 * else the price files (which also give an unknown context).
 */
void ngx_http_airouter_pricing_price(ngx_http_airouter_main_conf_t *amcf,
    uint32_t channel, airouter_model_info_t *info);

/* The price files' prices of configured models without cost_per_token
 * (after airouter_catalog_builder_add_config). */
ngx_int_t ngx_http_airouter_pricing_config(
    ngx_http_airouter_main_conf_t *amcf, airouter_catalog_builder_t *b);

#endif /* NGX_HTTP_AIROUTER_PRICING_H */
