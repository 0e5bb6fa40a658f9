/*
 * Sending JSON answers, and the one place that shapes OpenAI-style errors:
 * {"error": {"message", "type", "param", "code"}}.
 */

#ifndef NGX_HTTP_AIROUTER_RESPONSE_H
#define NGX_HTTP_AIROUTER_RESPONSE_H

#include <jansson.h>

#include "ngx_http_airouter_module.h"


/*
 * Sends body (its reference is taken) with the status; finalizes nothing.
 * A request body not read yet is discarded first (see response.c).
 */
ngx_int_t ngx_http_airouter_send_json(ngx_http_request_t *r,
    ngx_uint_t status, json_t *body);

/*
 * What ngx_http_airouter_send_json() would send, as text in r->pool (an
 * error rewritten in the request's dialect, a newline at the end): for a
 * caller that sends it itself (the error page filter).  body's reference
 * is taken.
 */
ngx_int_t ngx_http_airouter_json_text(ngx_http_request_t *r,
    ngx_uint_t status, json_t *body, ngx_str_t *text);

/*
 * A body filter's answer when it sends text instead of the page nginx
 * sends (the error page and proxy filters): the first call passes text on
 * to next as the whole body (one buffer, the answer's last in the main
 * request), nginx's page is dropped; once sent (the caller's flag, which
 * it sets after the call) or for HEAD, nothing more goes.
 */
ngx_int_t ngx_http_airouter_replace_body(ngx_http_request_t *r,
    ngx_http_output_body_filter_pt next, ngx_str_t *text, ngx_uint_t sent);

/*
 * The error object alone, for callers that add fields (close matches,
 * attempts) before sending it with ngx_http_airouter_send_json().
 * fmt takes nginx's ngx_sprintf() conversions.
 */
json_t *ngx_http_airouter_error_json(const char *type, const char *code,
    const char *fmt, ...);
ngx_int_t ngx_http_airouter_send_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *type, const char *code,
    const char *fmt, ...);

/*
 * A 400 invalid_request_error about one parameter of the request, with
 * OpenAI's "param" member naming it (e.g. "messages[1].role").
 */
ngx_int_t ngx_http_airouter_send_param_error(ngx_http_request_t *r,
    const char *param, const char *code, const char *fmt, ...);

#endif /* NGX_HTTP_AIROUTER_RESPONSE_H */
