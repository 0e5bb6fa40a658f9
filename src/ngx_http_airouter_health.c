/*
 * GET /health: proof that the configuration reached the workers, and the
 * state an operator checks first.
 */

#include "ngx_http_airouter_handlers.h"
#include "ngx_http_airouter_response.h"
#include "ngx_http_airouter_zone.h"
#include "ngx_http_airouter_catalog.h"
#include "ngx_http_airouter_switch.h"
#include "ngx_http_airouter_discovery.h"
#include "ngx_http_airouter_live.h"
#include "ngx_http_airouter_redis.h"


ngx_int_t
ngx_http_airouter_health_handler(ngx_http_request_t *r)
{
    size_t                          used, total;
    json_t                         *body, *zone_json;
    ngx_uint_t                      unresolved;
    airouter_config_t              *acf;
    u_char                          name[64];
    const char                     *strategy;
    ngx_http_airouter_zone_t       *zone;
    const airouter_catalog_t       *cat;
    ngx_http_airouter_main_conf_t  *amcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airouter_module);
    acf = amcf->config;

    zone = ngx_http_airouter_zone_get(amcf);
    zone_json = json_object();

    if (zone && zone->sh) {
        ngx_http_airouter_zone_usage(zone, &used, &total);
        json_object_set_new(zone_json, "name",
                            json_stringn((char *) amcf->zone_name.data,
                                         amcf->zone_name.len));
        json_object_set_new(zone_json, "size", json_integer(total));
        json_object_set_new(zone_json, "used", json_integer(used));
        json_object_set_new(zone_json, "generation",
                            json_integer(zone->sh->generation));
    }

    cat = ngx_http_airouter_catalog_current(amcf);

    /* the strategy in force: the admin's switch, else the configured one */
    strategy = acf->routing.default_strategy;

    if (ngx_http_airouter_switch_strategy(amcf, name, sizeof(name)) == NGX_OK) {
        strategy = (const char *) name;
    }

    /* an enabled channel whose host has not resolved serves nothing */
    unresolved = ngx_http_airouter_live_unresolved(amcf);

    body = json_pack("{s:s,s:s,s:{s:I,s:I},s:I,s:I,s:s,s:b,s:o}",
                     "status", "ok",
                     "version", AIROUTER_VERSION,
                     "channels",
                         "enabled", (json_int_t) (acf->nenabled - unresolved),
                         "total", (json_int_t) acf->nchannels,
                     "providers", (json_int_t) acf->nproviders,
                     "models", (json_int_t) airouter_catalog_nmodels(cat),
                     "strategy", strategy,
                     "auth_enabled", acf->auth.enabled,
                     "zone", zone_json);

    if (body) {
        json_object_set_new(body, "discovery",
                            ngx_http_airouter_discovery_json(amcf));

        if (amcf->redis) {
            json_object_set_new(body, "redis",
                                ngx_http_airouter_redis_json(amcf));
        }
    }

    return ngx_http_airouter_send_json(r, NGX_HTTP_OK, body);
}
