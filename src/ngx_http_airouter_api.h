/*
 * The API location's pieces shared between its files: the request's path
 * under /v1/, the model listings (models.c) and explain (explain.c).  The
 * routing helpers api.c and explain.c share are in
 * ngx_http_airouter_route.h.
 */

#ifndef NGX_HTTP_AIROUTER_API_H
#define NGX_HTTP_AIROUTER_API_H

#include "ngx_http_airouter_request.h"
#include "airouter_rank.h"


ngx_int_t ngx_http_airouter_api_path(ngx_http_request_t *r, ngx_str_t *path);

/*
 * GET /v1/models, /v1/models/{id}, /v1/tags (ngx_http_airouter_models.c);
 * key (NULL without auth) hides what its ACL does not allow.
 */
ngx_int_t ngx_http_airouter_models_handler(ngx_http_request_t *r,
    ngx_str_t *path, const airouter_apikey_t *key);

/*
 * Gemini's models.list (GET .../v1beta/models, pageSize and pageToken) and
 * models.get (GET .../v1beta/models/{model}) in Google's shape: the chat
 * models key may reach, one per name (ngx_http_airouter_models.c).
 */
ngx_int_t ngx_http_airouter_models_gemini(ngx_http_request_t *r,
    const airouter_apikey_t *key);

/* One catalogue entry as an OpenAI model object with airouter's facts. */
json_t *ngx_http_airouter_models_entry(const airouter_catalog_t *cat,
    const airouter_config_t *acf, uint32_t i);

/* POST /v1/route and GET /v1/admin/route (ngx_http_airouter_explain.c) */
ngx_int_t ngx_http_airouter_explain(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, airouter_route_req_t *req);
ngx_int_t ngx_http_airouter_explain_get(ngx_http_request_t *r);

/*
 * A multipart/form-data body (ngx_http_airouter_form.c): NGX_OK with the
 * requested model, stream and the model field's place in ctx; NGX_DONE
 * when a 400 was sent (*rc: what to finalize with).
 */
ngx_int_t ngx_http_airouter_form_read(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, ngx_int_t *rc);

#endif /* NGX_HTTP_AIROUTER_API_H */
