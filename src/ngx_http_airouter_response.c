/*
 * JSON answers and OpenAI-style errors for every handler of the module.
 */

#include "ngx_http_airouter_response.h"
#include "ngx_http_airouter_dialect.h"
#include "airouter_json_fixed.h"


/*
 * compact, and reals short enough to read: 0.66, not 0.66000000000000003;
 * a small one (a cost, a price per token) then goes from jansson's
 * 3.45e-6 to 0.00000345, the same digits (airouter_json_fixed.h)
 */
#define NGX_HTTP_AIROUTER_JSON_FLAGS  (JSON_COMPACT|JSON_REAL_PRECISION(10))


static ngx_int_t ngx_http_airouter_whole_body(ngx_http_request_t *r,
    ngx_str_t *text, ngx_chain_t *out);
static void ngx_http_airouter_discard_body(ngx_http_request_t *r);
static json_t *ngx_http_airouter_error_inner(u_char *msg, u_char *end,
    const char *type, const char *param, const char *code);
static json_t *ngx_http_airouter_error_vjson(const char *type,
    const char *param, const char *code, const char *fmt, va_list args);


ngx_int_t
ngx_http_airouter_send_json(ngx_http_request_t *r, ngx_uint_t status,
    json_t *body)
{
    ngx_int_t     rc;
    ngx_str_t     text;
    ngx_chain_t   out;

    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_airouter_discard_body(r);

    if (ngx_http_airouter_json_text(r, status, body, &text) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_airouter_whole_body(r, &text, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = text.len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_airouter_replace_body(ngx_http_request_t *r,
    ngx_http_output_body_filter_pt next, ngx_str_t *text, ngx_uint_t sent)
{
    ngx_chain_t  out;

    if (sent || r->header_only) {
        return next(r, NULL);
    }

    if (ngx_http_airouter_whole_body(r, text, &out) != NGX_OK) {
        return NGX_ERROR;
    }

    return next(r, &out);
}


/*
 * text as the whole body: one buffer in r->pool pointing at it, in *out,
 * the answer's last when r is the main request (a subrequest's ends only
 * its part).
 */
static ngx_int_t
ngx_http_airouter_whole_body(ngx_http_request_t *r, ngx_str_t *text,
    ngx_chain_t *out)
{
    ngx_buf_t  *b;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = text->data;
    b->last = text->data + text->len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out->buf = b;
    out->next = NULL;

    return NGX_OK;
}


ngx_int_t
ngx_http_airouter_json_text(ngx_http_request_t *r, ngx_uint_t status,
    json_t *body, ngx_str_t *text)
{
    u_char  *fixed;
    size_t   len, need;

    if (body == NULL) {
        return NGX_ERROR;
    }

    if (status >= NGX_HTTP_BAD_REQUEST) {
        /* a client speaking another dialect gets its error shape */
        body = ngx_http_airouter_dialect_error_json(r, status, body);
    }

    len = json_dumpb(body, NULL, 0, NGX_HTTP_AIROUTER_JSON_FLAGS);

    text->data = ngx_pnalloc(r->pool, len + 1);
    if (text->data == NULL) {
        json_decref(body);
        return NGX_ERROR;
    }

    text->len = json_dumpb(body, (char *) text->data, len,
                           NGX_HTTP_AIROUTER_JSON_FLAGS);
    json_decref(body);

    need = airouter_json_fixed((char *) text->data, text->len, NULL);

    if (need != text->len) {
        fixed = ngx_pnalloc(r->pool, need + 1);
        if (fixed == NULL) {
            return NGX_ERROR;
        }

        text->len = airouter_json_fixed((char *) text->data, text->len,
                                        (char *) fixed);
        text->data = fixed;
    }

    text->data[text->len++] = LF;

    return NGX_OK;
}


/*
 * Every answer goes out through here, and many go out before the request
 * body was read (a refused token, a wrong method or URL, a GET with a
 * body).  The body is then read and dropped, as nginx does for its own
 * error pages: left unread on a keepalive connection, it would be parsed
 * as the next request, and a client could smuggle one past a refusal.
 * When the body was read (or is being discarded) this does nothing.
 */
static void
ngx_http_airouter_discard_body(ngx_http_request_t *r)
{
    /* no "100 Continue" for a body that is not wanted */
    r->expect_tested = 1;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }
}


json_t *
ngx_http_airouter_error_json(const char *type, const char *code,
    const char *fmt, ...)
{
    json_t   *err;
    va_list   args;

    va_start(args, fmt);
    err = ngx_http_airouter_error_vjson(type, NULL, code, fmt, args);
    va_end(args);

    return err;
}


ngx_int_t
ngx_http_airouter_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, const char *code, const char *fmt, ...)
{
    json_t   *err;
    va_list   args;

    va_start(args, fmt);
    err = ngx_http_airouter_error_vjson(type, NULL, code, fmt, args);
    va_end(args);

    return ngx_http_airouter_send_json(r, status, err);
}


ngx_int_t
ngx_http_airouter_send_param_error(ngx_http_request_t *r, const char *param,
    const char *code, const char *fmt, ...)
{
    json_t   *err;
    va_list   args;

    va_start(args, fmt);
    err = ngx_http_airouter_error_vjson("invalid_request_error", param, code,
                                        fmt, args);
    va_end(args);

    return ngx_http_airouter_send_json(r, NGX_HTTP_BAD_REQUEST, err);
}


/*
 * OpenAI's member order: message, type, param (only for an error about
 * one parameter of the request), code.
 */
static json_t *
ngx_http_airouter_error_vjson(const char *type, const char *param,
    const char *code, const char *fmt, va_list args)
{
    u_char   msg[2048], *p, *q;
    json_t  *inner;

    p = ngx_vslprintf(msg, msg + sizeof(msg), fmt, args);

    inner = ngx_http_airouter_error_inner(msg, p, type, param, code);

    if (inner == NULL) {
        /* a client's string that is not UTF-8: keep the message readable */
        for (q = msg; q < p; q++) {
            if (*q >= 0x80) {
                *q = '?';
            }
        }

        inner = ngx_http_airouter_error_inner(msg, p, type, param, code);
        if (inner == NULL) {
            return NULL;
        }
    }

    return json_pack("{s:o}", "error", inner);
}


static json_t *
ngx_http_airouter_error_inner(u_char *msg, u_char *end, const char *type,
    const char *param, const char *code)
{
    if (param == NULL) {
        return json_pack("{s:s%,s:s,s:s?}", "message", (char *) msg,
                         (size_t) (end - msg), "type", type, "code", code);
    }

    return json_pack("{s:s%,s:s,s:s,s:s?}", "message", (char *) msg,
                     (size_t) (end - msg), "type", type, "param", param,
                     "code", code);
}
