/*
 * A multipart/form-data request body (/v1/audio/transcriptions,
 * /translations, /v1/images/edits, /variations), read without holding it:
 * the streaming scanner (airouter_multipart.c) is fed the body as nginx
 * keeps it, memory buffers as they are and a temporary file in bounded
 * chunks, and learns the "model" field (its text and where its value lies
 * in the body), "stream", and whether a file part came.  Nothing is
 * copied: each try's request is the client's bytes with the model's value
 * replaced (ngx_http_airouter_proxy_build.c).
 *
 * Called by the API handler (ngx_http_airouter_api.c); answers a body it
 * cannot route with an OpenAI-style 400, before anything goes upstream.
 */

#include <jansson.h>

#include "ngx_http_airouter_api.h"
#include "ngx_http_airouter_response.h"
#include "airouter_multipart.h"


/* a temporary file is read this much at a time */
#define NGX_HTTP_AIROUTER_FORM_CHUNK  (64 * 1024)


typedef struct {
    ngx_int_t    stream;          /* -1: not said, 0, 1 */
} ngx_http_airouter_form_fields_t;


static void ngx_http_airouter_form_field(void *data,
    const airouter_mp_field_t *f);
static ngx_int_t ngx_http_airouter_form_scan(ngx_http_request_t *r,
    airouter_mp_t *mp, airouter_mp_rc_e *mrc);


/*
 * Reads the form: NGX_OK with ctx's requested model, stream and the
 * model's place filled; NGX_DONE when the request was answered (*rc: what
 * to finalize with).
 */
ngx_int_t
ngx_http_airouter_form_read(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, ngx_int_t *rc)
{
    json_t                           *name;
    size_t                            blen;
    ngx_uint_t                        utf8;
    const char                       *boundary, *file;
    ngx_str_t                        *ct;
    airouter_mp_t                    *mp;
    airouter_mp_rc_e                  mrc;
    ngx_http_airouter_form_fields_t   fields;

    static ngx_str_t  none = ngx_null_string;

    ct = r->headers_in.content_type ? &r->headers_in.content_type->value
                                    : &none;

    if (airouter_mp_boundary((char *) ct->data, ct->len, &boundary, &blen)
        != 0)
    {
        *rc = ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                  "invalid_request_error", "invalid_content_type",
                  "Invalid Content-Type header: expected "
                  "multipart/form-data with a boundary");
        return NGX_DONE;
    }

    /* the scanner keeps a few KB of state: from the pool, not the stack */
    mp = ngx_palloc(r->pool, sizeof(airouter_mp_t));
    if (mp == NULL) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_DONE;
    }

    if (airouter_mp_init(mp, boundary, blen) != 0) {
        *rc = ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                  "invalid_request_error", "invalid_content_type",
                  "Invalid multipart boundary");
        return NGX_DONE;
    }

    fields.stream = -1;
    mp->field = ngx_http_airouter_form_field;
    mp->ctx = &fields;

    if (ngx_http_airouter_form_scan(r, mp, &mrc) != NGX_OK) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_DONE;
    }

    if (mrc != AIROUTER_MP_DONE) {
        *rc = ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                  "invalid_request_error", "invalid_multipart",
                  "The multipart/form-data body is malformed: %s",
                  mrc == AIROUTER_MP_ERROR ? mp->error
                  : "it ends before its closing boundary");
        return NGX_DONE;
    }

    if (!mp->has_model) {
        *rc = ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                  "invalid_request_error", "missing_model",
                  "You must provide a model parameter");
        return NGX_DONE;
    }

    /* the name goes into messages and logs: text, as a JSON body's is */
    name = json_stringn(mp->model, mp->model_len);
    utf8 = (name != NULL);
    json_decref(name);

    if (mp->model_len == 0 || mp->model_truncated || !utf8) {
        *rc = ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                  "invalid_request_error", "invalid_model",
                  "The model parameter must be a non-empty UTF-8 string "
                  "of at most %d bytes", AIROUTER_MP_VALUE_MAX);
        return NGX_DONE;
    }

    if (mp->files == 0) {
        file = (ctx->endpoint == NGX_HTTP_AIROUTER_EP_TRANSCRIPTIONS)
               ? "file" : "image";

        *rc = ngx_http_airouter_send_param_error(r, file,
                  "missing_required_parameter",
                  "Missing required parameter: '%s'.", file);
        return NGX_DONE;
    }

    ctx->requested.len = mp->model_len;
    ctx->requested.data = ngx_pnalloc(r->pool, mp->model_len);
    if (ctx->requested.data == NULL) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_DONE;
    }

    ngx_memcpy(ctx->requested.data, mp->model, mp->model_len);

    ctx->form = 1;
    ctx->form_len = (off_t) mp->consumed;
    ctx->form_model_start = (off_t) mp->model_start;
    ctx->form_model_end = (off_t) mp->model_end;
    ctx->stream = (fields.stream == 1);
    ctx->hedge_asked = -1;

    ngx_log_debug6(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "airouter: form of %O bytes, %uD parts, %uD files, "
                   "model \"%V\" at %O-%O", ctx->form_len, mp->parts,
                   mp->files, &ctx->requested, ctx->form_model_start,
                   ctx->form_model_end);

    return NGX_OK;
}


/*
 * The whole body through the scanner, in the order nginx keeps it.  A
 * temporary file is read in chunks of FORM_CHUNK; the scan stops at the
 * first error.  NGX_ERROR only for a read that failed.
 */
static ngx_int_t
ngx_http_airouter_form_scan(ngx_http_request_t *r, airouter_mp_t *mp,
    airouter_mp_rc_e *mrc)
{
    off_t         pos;
    size_t        n;
    u_char       *chunk;
    ssize_t       got;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    *mrc = AIROUTER_MP_AGAIN;
    chunk = NULL;

    if (r->request_body == NULL) {
        return NGX_OK;
    }

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (!b->in_file) {
            /* a chunked body ends in an empty buffer (pos NULL) */
            if (b->last != b->pos) {
                *mrc = airouter_mp_feed(mp, (char *) b->pos,
                                        b->last - b->pos);
            }

            if (*mrc == AIROUTER_MP_ERROR) {
                return NGX_OK;
            }

            continue;
        }

        if (chunk == NULL) {
            chunk = ngx_pnalloc(r->pool, NGX_HTTP_AIROUTER_FORM_CHUNK);
            if (chunk == NULL) {
                return NGX_ERROR;
            }
        }

        for (pos = b->file_pos; pos < b->file_last; pos += n) {
            n = (size_t) ngx_min(b->file_last - pos,
                                 NGX_HTTP_AIROUTER_FORM_CHUNK);

            got = ngx_read_file(b->file, chunk, n, pos);
            if (got != (ssize_t) n) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "airouter: the request body's file \"%V\" "
                              "could not be read at %O", &b->file->name,
                              pos);
                return NGX_ERROR;
            }

            *mrc = airouter_mp_feed(mp, (char *) chunk, n);

            if (*mrc == AIROUTER_MP_ERROR) {
                return NGX_OK;
            }
        }
    }

    return NGX_OK;
}


/* The small fields the router reads itself ("model" is the scanner's). */
static void
ngx_http_airouter_form_field(void *data, const airouter_mp_field_t *f)
{
    ngx_http_airouter_form_fields_t  *fields = data;

    if (f->name_len == sizeof("stream") - 1
        && ngx_strncmp(f->name, "stream", f->name_len) == 0)
    {
        fields->stream = (f->value_len == 4
                          && ngx_strncasecmp((u_char *) f->value,
                                             (u_char *) "true", 4) == 0);
    }
}
