/*
 * API key and admin token checks; see ngx_http_airouter_auth.h.
 */

#include "ngx_http_airouter_auth.h"
#include "ngx_http_airouter_dialect.h"
#include "ngx_http_airouter_request.h"
#include "ngx_http_airouter_response.h"
#include "ngx_http_airouter_stats.h"


static ngx_int_t ngx_http_airouter_auth_token(ngx_http_request_t *r,
    ngx_str_t *token);
static ngx_uint_t ngx_http_airouter_auth_equal(ngx_str_t *given,
    const char *want);
static ngx_int_t ngx_http_airouter_auth_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_str_t  ngx_http_airouter_auth_var = ngx_string("airouter_key");


ngx_int_t
ngx_http_airouter_auth_api(ngx_http_request_t *r,
    const airouter_apikey_t **key, ngx_int_t *rc)
{
    ngx_str_t                       token;
    airouter_config_t              *acf;
    ngx_http_airouter_main_conf_t  *amcf;

    *key = NULL;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airouter_module);
    acf = amcf->config;

    if (!acf->auth.enabled) {
        return NGX_OK;
    }

    if (ngx_http_airouter_auth_token(r, &token) != NGX_OK) {
        ngx_http_airouter_stats_unauthorized(amcf);

        /* the ways this path's dialect sends a key (Gemini's three) */
        *rc = ngx_http_airouter_send_error(r, NGX_HTTP_UNAUTHORIZED,
                   "invalid_request_error", "missing_api_key",
                   "You didn't provide an API key: send it as %s",
                   airouter_dialect_key_hint(airouter_dialect_of_path(
                       (char *) r->uri.data, r->uri.len)));

        return NGX_DECLINED;
    }

    *key = ngx_http_airouter_auth_find(r, acf);

    if (*key == NULL) {
        ngx_http_airouter_stats_unauthorized(amcf);

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "airouter: request with an unknown API key refused");

        *rc = ngx_http_airouter_send_error(r, NGX_HTTP_UNAUTHORIZED,
                   "invalid_request_error", "invalid_api_key",
                   "Incorrect API key provided");

        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * Every key is compared, whichever matches: the time taken says nothing
 * about which key, or which prefix of one, is right.
 */
const airouter_apikey_t *
ngx_http_airouter_auth_find(ngx_http_request_t *r, airouter_config_t *acf)
{
    size_t                    i;
    ngx_str_t                 token;
    ngx_uint_t                eq;
    const airouter_apikey_t  *found;

    if (ngx_http_airouter_auth_token(r, &token) != NGX_OK) {
        return NULL;
    }

    found = NULL;

    for (i = 0; i < acf->auth.nkeys; i++) {
        eq = ngx_http_airouter_auth_equal(&token, acf->auth.keys[i].token);
        found = eq ? &acf->auth.keys[i] : found;
    }

    return found;
}


/*
 * With the admin API enabled, its token is required (and with no token
 * configured nothing is allowed).  With it disabled, the admin API is open
 * only while auth is off too (a local setup, as the demo); with auth on
 * it stays closed.
 */
ngx_http_airouter_admin_access_e
ngx_http_airouter_auth_admin_access(const airouter_config_t *acf)
{
    if (!acf->auth.admin_enabled) {
        return acf->auth.enabled ? NGX_HTTP_AIROUTER_ADMIN_CLOSED
                                 : NGX_HTTP_AIROUTER_ADMIN_OPEN;
    }

    if (acf->auth.admin_token == NULL || acf->auth.admin_token[0] == '\0') {
        return NGX_HTTP_AIROUTER_ADMIN_CLOSED;
    }

    return NGX_HTTP_AIROUTER_ADMIN_TOKEN;
}


ngx_int_t
ngx_http_airouter_auth_admin(ngx_http_request_t *r, ngx_uint_t need_token,
    ngx_int_t *rc)
{
    ngx_str_t                       token;
    airouter_config_t              *acf;
    ngx_http_airouter_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airouter_module);
    acf = amcf->config;

    switch (ngx_http_airouter_auth_admin_access(acf)) {

    case NGX_HTTP_AIROUTER_ADMIN_OPEN:
        return NGX_OK;

    case NGX_HTTP_AIROUTER_ADMIN_CLOSED:
        if (!acf->auth.admin_enabled) {
            *rc = ngx_http_airouter_send_error(r, NGX_HTTP_FORBIDDEN,
                       "invalid_request_error", "admin_disabled",
                       "The admin API is disabled (auth.admin.enabled)");

        } else {
            *rc = ngx_http_airouter_send_error(r, NGX_HTTP_FORBIDDEN,
                       "invalid_request_error", "admin_disabled",
                       "The admin API is enabled but no admin_token is "
                       "configured");
        }

        return NGX_DECLINED;

    case NGX_HTTP_AIROUTER_ADMIN_TOKEN:
        break;
    }

    if (!need_token) {
        return NGX_OK;
    }

    if (ngx_http_airouter_auth_token(r, &token) == NGX_OK
        && ngx_http_airouter_auth_equal(&token, acf->auth.admin_token))
    {
        return NGX_OK;
    }

    ngx_http_airouter_stats_unauthorized(amcf);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "airouter: admin request without the admin token refused");

    *rc = ngx_http_airouter_send_error(r, NGX_HTTP_UNAUTHORIZED,
               "invalid_request_error", "invalid_api_key",
               "A valid admin token is required");

    return NGX_DECLINED;
}


/*
 * nginx runs this last in its access phase (the module's access handler),
 * after allow/deny, auth_basic, auth_request.  With nothing to check (the
 * admin API open: auth off) it has no say, so under "satisfy any" it lets
 * in only what another module let in; a right token is its yes.
 */
ngx_int_t
ngx_http_airouter_auth_admin_phase(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_http_airouter_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airouter_module);

    if (ngx_http_airouter_auth_admin_access(amcf->config)
        == NGX_HTTP_AIROUTER_ADMIN_OPEN)
    {
        return NGX_DECLINED;
    }

    if (ngx_http_airouter_auth_admin(r, 1, &rc) == NGX_OK) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "airouter: admin token accepted");
        return NGX_OK;
    }

    /* answered: finalized as the content phase would */
    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


/* "Authorization: Bearer <token>", or the bare token. */
static ngx_int_t
ngx_http_airouter_auth_token(ngx_http_request_t *r, ngx_str_t *token)
{
    if (r->headers_in.authorization == NULL) {
        /* the headers (or Gemini's key=) the dialects' SDKs use */
        if (airouter_dialect_of_path((char *) r->uri.data, r->uri.len)
            != AIROUTER_DIALECT_OPENAI)
        {
            return ngx_http_airouter_dialect_key(r, token);
        }

        return NGX_DECLINED;
    }

    *token = r->headers_in.authorization->value;

    if (token->len > sizeof("Bearer ") - 1
        && ngx_strncasecmp(token->data, (u_char *) "Bearer ",
                           sizeof("Bearer ") - 1) == 0)
    {
        token->data += sizeof("Bearer ") - 1;
        token->len -= sizeof("Bearer ") - 1;
    }

    while (token->len && token->data[0] == ' ') {
        token->data++;
        token->len--;
    }

    while (token->len && token->data[token->len - 1] == ' ') {
        token->len--;
    }

    return token->len ? NGX_OK : NGX_DECLINED;
}


/* Every byte is looked at whatever the content: no early exit. */
static ngx_uint_t
ngx_http_airouter_auth_equal(ngx_str_t *given, const char *want)
{
    size_t  i, len;
    u_char  diff;

    if (want == NULL || want[0] == '\0') {
        return 0;
    }

    len = ngx_strlen(want);
    diff = (u_char) (given->len != len);

    for (i = 0; i < given->len; i++) {
        diff |= given->data[i] ^ (u_char) want[i % len];
    }

    return diff == 0;
}


ngx_int_t
ngx_http_airouter_auth_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var;

    var = ngx_http_add_variable(cf, &ngx_http_airouter_auth_var,
                                NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_airouter_auth_variable;

    return NGX_OK;
}


/* $airouter_key: the name of the caller's key, never the key. */
static ngx_int_t
ngx_http_airouter_auth_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    const airouter_apikey_t        *key;
    ngx_http_airouter_ctx_t        *ctx;
    ngx_http_airouter_loc_conf_t   *alcf;
    ngx_http_airouter_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airouter_module);
    alcf = ngx_http_get_module_loc_conf(r->main, ngx_http_airouter_module);

    /* only the API location's context is a request context */
    ctx = (alcf && alcf->role == NGX_HTTP_AIROUTER_ROLE_API)
          ? ngx_http_get_module_ctx(r->main, ngx_http_airouter_module)
          : NULL;

    key = NULL;

    if (ctx && ctx->key) {
        key = ctx->key;

    } else if (amcf && amcf->config && amcf->config->auth.enabled) {
        key = ngx_http_airouter_auth_find(r->main, amcf->config);
    }

    if (key == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = (u_char *) key->name;
    v->len = ngx_strlen(key->name);
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}
