/*
 * $airouter_* variables, for log_format (with escape=json the access log
 * is the usage log) and for any directive that takes variables.
 */

#ifndef NGX_HTTP_AIROUTER_VARIABLES_H
#define NGX_HTTP_AIROUTER_VARIABLES_H

#include "ngx_http_airouter_module.h"


/* preconfiguration */
ngx_int_t ngx_http_airouter_variables_add(ngx_conf_t *cf);

#endif /* NGX_HTTP_AIROUTER_VARIABLES_H */
