/*
 * The `airouter_dashboard` location: one status page for operators, its
 * HTML, CSS and JavaScript compiled into the module (no file to install, no
 * CDN).  The page is static and carries no secret: it signs in with the
 * admin token the operator types (kept in the browser's sessionStorage) and
 * reads the admin, stats and health APIs of the same server.  One line is
 * put into the page as it goes out: a <meta> that says whether the admin
 * API wants the token, is open or is closed, so the page asks for a token
 * only when one is needed (and makes no request bound to fail).
 *
 * The readable sources are dashboard/ (index.html, dashboard.css,
 * dashboard.js); dashboard/gen.pl writes them into
 * ngx_http_airouter_dashboard_page.h together with the page's
 * Content-Security-Policy, whose script and style sources are the hashes of
 * the inlined code, so nothing else can run in the page.  t/805 fails when
 * the header is older than the sources.  Called by the module's dispatcher.
 */

#include "ngx_http_airouter_handlers.h"
#include "ngx_http_airouter_auth.h"
#include "ngx_http_airouter_dashboard_page.h"
#include "ngx_http_airouter_header.h"


/* the <meta> line for each ngx_http_airouter_admin_access_e */
static ngx_str_t  ngx_http_airouter_dashboard_admin[] = {
    ngx_string("<meta name=\"airouter-admin\" content=\"open\">\n"),
    ngx_string("<meta name=\"airouter-admin\" content=\"token\">\n"),
    ngx_string("<meta name=\"airouter-admin\" content=\"closed\">\n")
};


/* sent with the page, besides the CSP; the values are constants */
static const struct {
    ngx_str_t  name;
    ngx_str_t  value;
} ngx_http_airouter_dashboard_headers[] = {
    { ngx_string("Content-Security-Policy"),
      ngx_string(NGX_HTTP_AIROUTER_DASHBOARD_CSP) },
    { ngx_string("X-Content-Type-Options"), ngx_string("nosniff") },
    { ngx_string("X-Frame-Options"), ngx_string("DENY") },
    { ngx_string("Referrer-Policy"), ngx_string("no-referrer") },
    { ngx_string("Cache-Control"), ngx_string("no-cache") }
};


ngx_int_t
ngx_http_airouter_dashboard_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_buf_t                      *b;
    ngx_str_t                      *meta;
    ngx_uint_t                      i;
    ngx_chain_t                     out[3];
    ngx_http_airouter_main_conf_t  *amcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airouter_module);
    meta = &ngx_http_airouter_dashboard_admin[
               ngx_http_airouter_auth_admin_access(amcf->config)];

    for (i = 0; i < sizeof(ngx_http_airouter_dashboard_headers)
                    / sizeof(ngx_http_airouter_dashboard_headers[0]); i++)
    {
        if (ngx_http_airouter_header_add(r,
                &ngx_http_airouter_dashboard_headers[i].name,
                ngx_http_airouter_dashboard_headers[i].value.data,
                ngx_http_airouter_dashboard_headers[i].value.len)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ngx_str_set(&r->headers_out.content_type, "text/html; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/html") - 1;
    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n =
        sizeof(ngx_http_airouter_dashboard_head) - 1 + meta->len
        + sizeof(ngx_http_airouter_dashboard_tail) - 1;

    if (r->method == NGX_HTTP_HEAD) {
        r->header_only = 1;
        return ngx_http_send_header(r);
    }

    /* the page's two halves are constants of the module: sent from there */
    for (i = 0; i < 3; i++) {
        b = ngx_calloc_buf(r->pool);
        if (b == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        switch (i) {
        case 0:
            b->pos = (u_char *) ngx_http_airouter_dashboard_head;
            b->last = b->pos + sizeof(ngx_http_airouter_dashboard_head) - 1;
            break;
        case 1:
            b->pos = meta->data;
            b->last = b->pos + meta->len;
            break;
        default:
            b->pos = (u_char *) ngx_http_airouter_dashboard_tail;
            b->last = b->pos + sizeof(ngx_http_airouter_dashboard_tail) - 1;
            b->last_buf = (r == r->main) ? 1 : 0;
            b->last_in_chain = 1;
        }

        b->memory = 1;
        out[i].buf = b;
        out[i].next = (i < 2) ? &out[i + 1] : NULL;
    }

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, &out[0]);
}
