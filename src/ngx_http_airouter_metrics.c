/*
 * GET /metrics (the `airouter_metrics` location): the shared zone's state
 * in Prometheus' text exposition format 0.0.4 — today's usage counters
 * (ngx_http_airouter_stats.c), live state per channel and per (channel,
 * model) (ngx_http_airouter_live.c), the catalogue, discovery, the Redis
 * link and the zone's size; the duration and TTFB histograms and the
 * totals since the zone was created (ngx_http_airouter_history.c).
 *
 * Everything is copied out of the zone by the accessors that /health and
 * the stats API use, each holding the zone's mutex for one short copy;
 * the text is formatted afterwards into the request's pool.  Key names
 * and channel and model ids are labels; no key value is ever read here.
 *
 * Called by the module's dispatcher (content) and access handler only.
 */

#include "ngx_http_airouter_balance.h"
#include "ngx_http_airouter_handlers.h"
#include "ngx_http_airouter_zone.h"
#include "ngx_http_airouter_catalog.h"
#include "ngx_http_airouter_stats.h"
#include "ngx_http_airouter_switch.h"
#include "ngx_http_airouter_live.h"
#include "ngx_http_airouter_discovery.h"
#include "ngx_http_airouter_redis.h"
#include "ngx_http_airouter_auth.h"
#include "ngx_http_airouter_history.h"


#define NGX_HTTP_AIROUTER_METRICS_BUF     16384
#define NGX_HTTP_AIROUTER_METRICS_LABELS  3


typedef struct {
    const char                  *name;
    ngx_str_t                    value;
} ngx_http_airouter_metrics_label_t;


/* The text being built: a chain of buffers from the request's pool. */
typedef struct {
    ngx_http_request_t          *r;
    ngx_chain_t                 *out;
    ngx_chain_t                **last;
    ngx_buf_t                   *b;
    off_t                        size;
    ngx_uint_t                   failed;
} ngx_http_airouter_metrics_t;


/* Today's counters of one key, channel or model. */
typedef struct {
    ngx_str_t                    name;
    ngx_http_airouter_stats_counters_t  c;
} ngx_http_airouter_metrics_usage_t;


/* What live state knows of a channel (model empty) or (channel, model) */
typedef struct {
    ngx_str_t                    channel;
    ngx_str_t                    model;
    ngx_http_airouter_live_info_t  info;
} ngx_http_airouter_metrics_live_t;


static ngx_int_t ngx_http_airouter_metrics_send(ngx_http_request_t *r,
    ngx_http_airouter_metrics_t *m);
static u_char *ngx_http_airouter_metrics_reserve(
    ngx_http_airouter_metrics_t *m, size_t len);
static void ngx_http_airouter_metrics_family(ngx_http_airouter_metrics_t *m,
    const char *name, const char *type, const char *help);
static void ngx_http_airouter_metrics_sample(ngx_http_airouter_metrics_t *m,
    const char *name, ngx_http_airouter_metrics_label_t *labels,
    ngx_uint_t n, double value, ngx_uint_t integer);
static u_char *ngx_http_airouter_metrics_escape(u_char *p, ngx_str_t *v);
static size_t ngx_http_airouter_metrics_utf8(u_char *s, u_char *end);
static void ngx_http_airouter_metrics_str(ngx_str_t *s, const char *v);

static void ngx_http_airouter_metrics_info(ngx_http_airouter_metrics_t *m,
    ngx_http_airouter_main_conf_t *amcf);
static ngx_int_t ngx_http_airouter_metrics_usage(
    ngx_http_airouter_metrics_t *m, ngx_http_airouter_main_conf_t *amcf);
static ngx_int_t ngx_http_airouter_metrics_usage_group(ngx_pool_t *pool,
    ngx_array_t *rows, ngx_uint_t kind, const char *const *names,
    ngx_uint_t nnames, ngx_array_t *out);
static void ngx_http_airouter_metrics_usage_families(
    ngx_http_airouter_metrics_t *m, ngx_uint_t kind, const char *scope,
    ngx_array_t *usage);
static ngx_int_t ngx_http_airouter_metrics_live(
    ngx_http_airouter_metrics_t *m, ngx_http_airouter_main_conf_t *amcf,
    const airouter_catalog_t *cat);
static void ngx_http_airouter_metrics_live_families(
    ngx_http_airouter_metrics_t *m, const char *scope, ngx_array_t *live,
    ngx_uint_t per_model);
static void ngx_http_airouter_metrics_keys(ngx_http_airouter_metrics_t *m,
    ngx_http_airouter_main_conf_t *amcf);
static void ngx_http_airouter_metrics_scoped(ngx_http_airouter_metrics_t *m,
    ngx_http_airouter_main_conf_t *amcf, const airouter_catalog_t *cat);
static void ngx_http_airouter_metrics_catalog(ngx_http_airouter_metrics_t *m,
    ngx_http_airouter_main_conf_t *amcf, const airouter_catalog_t *cat);
static void ngx_http_airouter_metrics_discovery(
    ngx_http_airouter_metrics_t *m, ngx_http_airouter_main_conf_t *amcf);
static void ngx_http_airouter_metrics_redis(ngx_http_airouter_metrics_t *m,
    ngx_http_airouter_main_conf_t *amcf);
static void ngx_http_airouter_metrics_balance(ngx_http_airouter_metrics_t *m,
    ngx_http_airouter_main_conf_t *amcf);
static void ngx_http_airouter_metrics_quota(ngx_http_airouter_metrics_t *m,
    ngx_http_airouter_main_conf_t *amcf);
static void ngx_http_airouter_metrics_zone(ngx_http_airouter_metrics_t *m,
    ngx_http_airouter_main_conf_t *amcf);
static void ngx_http_airouter_metrics_history(ngx_http_airouter_metrics_t *m,
    ngx_http_airouter_main_conf_t *amcf);


static const char  *ngx_http_airouter_metrics_disc_states[] = {
    "ok", "failed", "configured_models", "key_invalid", "pending", "static"
};


/*
 * The access phase of an airouter_metrics location (the module's access
 * handler): per-key spend is the stats API's data, so with the admin API
 * enabled /metrics takes its token, checked where nginx's allow/deny,
 * auth_request and "satisfy" compose with it.  With the admin API
 * disabled /metrics is nginx's to guard and airouter has no say.
 */
ngx_int_t
ngx_http_airouter_metrics_access(ngx_http_request_t *r)
{
    ngx_http_airouter_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airouter_module);

    if (!amcf->config->auth.admin_enabled) {
        return NGX_DECLINED;
    }

    return ngx_http_airouter_auth_admin_phase(r);
}


ngx_int_t
ngx_http_airouter_metrics_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    const airouter_catalog_t       *cat;
    ngx_http_airouter_metrics_t     m;
    ngx_http_airouter_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airouter_module);

    /*
     * The token was checked in the access phase (the main request); a
     * subrequest, which has no access phase, shows it here.  Under
     * "satisfy any" another module may have let the request in: then the
     * token is not needed, but an admin API closed by the configuration
     * stays closed.
     */
    if (amcf->config->auth.admin_enabled
        && ngx_http_airouter_auth_admin(r, r != r->main, &rc) != NGX_OK)
    {
        return rc;
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_memzero(&m, sizeof(ngx_http_airouter_metrics_t));
    m.r = r;
    m.last = &m.out;

    cat = ngx_http_airouter_catalog_current(amcf);

    ngx_http_airouter_metrics_info(&m, amcf);

    if (ngx_http_airouter_metrics_usage(&m, amcf) != NGX_OK
        || ngx_http_airouter_metrics_live(&m, amcf, cat) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_airouter_metrics_keys(&m, amcf);
    ngx_http_airouter_metrics_scoped(&m, amcf, cat);
    ngx_http_airouter_metrics_catalog(&m, amcf, cat);
    ngx_http_airouter_metrics_discovery(&m, amcf);
    ngx_http_airouter_metrics_balance(&m, amcf);
    ngx_http_airouter_metrics_quota(&m, amcf);
    ngx_http_airouter_metrics_redis(&m, amcf);
    ngx_http_airouter_metrics_zone(&m, amcf);
    ngx_http_airouter_metrics_history(&m, amcf);

    if (m.failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_airouter_metrics_send(r, &m);
}


static ngx_int_t
ngx_http_airouter_metrics_send(ngx_http_request_t *r,
    ngx_http_airouter_metrics_t *m)
{
    ngx_int_t  rc;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = m->size;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/plain") - 1;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only || m->out == NULL) {
        return rc;
    }

    m->b->last_buf = (r == r->main) ? 1 : 0;
    m->b->last_in_chain = 1;

    return ngx_http_output_filter(r, m->out);
}


/* the history's families, as it writes them */
static void
ngx_http_airouter_metrics_history(ngx_http_airouter_metrics_t *m,
    ngx_http_airouter_main_conf_t *amcf)
{
    u_char     *p;
    ngx_str_t   text;

    if (ngx_http_airouter_history_metrics(m->r, amcf, &text) != NGX_OK) {
        m->failed = 1;
        return;
    }

    if (text.len == 0) {
        return;
    }

    p = ngx_http_airouter_metrics_reserve(m, text.len);
    if (p == NULL) {
        return;
    }

    m->b->last = ngx_cpymem(p, text.data, text.len);
    m->size += text.len;
}


/* len free bytes at the end of the text, in a new buffer if need be */
static u_char *
ngx_http_airouter_metrics_reserve(ngx_http_airouter_metrics_t *m, size_t len)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (m->failed) {
        return NULL;
    }

    if (m->b && (size_t) (m->b->end - m->b->last) >= len) {
        return m->b->last;
    }

    b = ngx_create_temp_buf(m->r->pool,
                            ngx_max(len, NGX_HTTP_AIROUTER_METRICS_BUF));
    cl = ngx_alloc_chain_link(m->r->pool);

    if (b == NULL || cl == NULL) {
        m->failed = 1;
        return NULL;
    }

    cl->buf = b;
    cl->next = NULL;
    *m->last = cl;
    m->last = &cl->next;
    m->b = b;

    return b->last;
}


static void
ngx_http_airouter_metrics_family(ngx_http_airouter_metrics_t *m,
    const char *name, const char *type, const char *help)
{
    size_t   len;
    u_char  *p;

    len = 2 * ngx_strlen(name) + ngx_strlen(type) + ngx_strlen(help)
          + sizeof("# HELP  \n# TYPE  \n");

    p = ngx_http_airouter_metrics_reserve(m, len);
    if (p == NULL) {
        return;
    }

    p = ngx_sprintf(p, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);

    m->size += p - m->b->last;
    m->b->last = p;
}


/*
 * name{labels} value.  Values are integers (counters of requests, tokens)
 * or fixed-point with 12 decimals: enough for a token's price in USD.
 */
static void
ngx_http_airouter_metrics_sample(ngx_http_airouter_metrics_t *m,
    const char *name, ngx_http_airouter_metrics_label_t *labels,
    ngx_uint_t n, double value, ngx_uint_t integer)
{
    size_t      len;
    u_char     *p;
    ngx_uint_t  i;

    len = ngx_strlen(name) + sizeof("{} \n") + 64;

    for (i = 0; i < n; i++) {
        len += ngx_strlen(labels[i].name) + sizeof("=\"\",")
               + 2 * labels[i].value.len;
    }

    p = ngx_http_airouter_metrics_reserve(m, len);
    if (p == NULL) {
        return;
    }

    p = ngx_sprintf(p, "%s", name);

    if (n) {
        *p++ = '{';

        for (i = 0; i < n; i++) {
            if (i) {
                *p++ = ',';
            }

            p = ngx_sprintf(p, "%s=\"", labels[i].name);
            p = ngx_http_airouter_metrics_escape(p, &labels[i].value);
            *p++ = '"';
        }

        *p++ = '}';
    }

    if (integer) {
        p = ngx_sprintf(p, " %L\n", (int64_t) value);

    } else {
        p = ngx_sprintf(p, " %.12f\n", value);
    }

    m->size += p - m->b->last;
    m->b->last = p;
}


/*
 * A label value as the format wants it: \\, \" and \n escaped, and valid
 * UTF-8, or Prometheus drops the whole scrape: a byte that starts no
 * valid sequence (a name the stats cut at NGX_HTTP_AIROUTER_STATS_NAME
 * bytes) becomes '?'.  At most 2 bytes out for each byte in.
 */
static u_char *
ngx_http_airouter_metrics_escape(u_char *p, ngx_str_t *v)
{
    size_t   n;
    u_char  *s, *end;

    for (s = v->data, end = v->data + v->len; s < end; s++) {

        if (*s >= 0x80) {
            n = ngx_http_airouter_metrics_utf8(s, end);

            if (n == 0) {
                *p++ = '?';
                continue;
            }

            p = ngx_cpymem(p, s, n);
            s += n - 1;
            continue;
        }

        switch (*s) {
        case '\\':
            *p++ = '\\';
            *p++ = '\\';
            break;
        case '"':
            *p++ = '\\';
            *p++ = '"';
            break;
        case '\n':
            *p++ = '\\';
            *p++ = 'n';
            break;
        default:
            *p++ = *s;
        }
    }

    return p;
}


/* the length of the UTF-8 sequence at s (RFC 3629), 0: not one */
static size_t
ngx_http_airouter_metrics_utf8(u_char *s, u_char *end)
{
    size_t    n, i;
    uint32_t  u, min;

    if (*s >= 0xf5) {
        return 0;
    }

    if (*s >= 0xf0) {
        n = 4;
        u = *s & 0x07;
        min = 0x10000;

    } else if (*s >= 0xe0) {
        n = 3;
        u = *s & 0x0f;
        min = 0x800;

    } else if (*s >= 0xc2) {
        n = 2;
        u = *s & 0x1f;
        min = 0x80;

    } else {
        return 0;
    }

    if ((size_t) (end - s) < n) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }

        u = (u << 6) | (s[i] & 0x3f);
    }

    if (u < min || u > 0x10ffff || (u >= 0xd800 && u <= 0xdfff)) {
        return 0;
    }

    return n;
}


static void
ngx_http_airouter_metrics_str(ngx_str_t *s, const char *v)
{
    s->data = (u_char *) (v ? v : "");
    s->len = ngx_strlen(s->data);
}


static void
ngx_http_airouter_metrics_info(ngx_http_airouter_metrics_t *m,
    ngx_http_airouter_main_conf_t *amcf)
{
    u_char                              name[64];
    airouter_config_t                  *acf;
    ngx_http_airouter_metrics_label_t   l[2];

    acf = amcf->config;

    l[0].name = "version";
    ngx_http_airouter_metrics_str(&l[0].value, AIROUTER_VERSION);
    l[1].name = "strategy";
    ngx_http_airouter_metrics_str(&l[1].value,
                                  acf->routing.default_strategy);

    if (ngx_http_airouter_switch_strategy(amcf, name, sizeof(name)) == NGX_OK)
    {
        ngx_http_airouter_metrics_str(&l[1].value, (char *) name);
    }

    ngx_http_airouter_metrics_family(m, "airouter_info", "gauge",
        "The module's version and the routing strategy in force "
        "(always 1).");
    ngx_http_airouter_metrics_sample(m, "airouter_info", l, 2, 1, 1);

    ngx_http_airouter_metrics_family(m, "airouter_stats_day_start_seconds",
        "gauge",
        "Start of the UTC day the airouter_*_total counters count "
        "(Unix time); they restart from 0 when it changes.");
    ngx_http_airouter_metrics_sample(m, "airouter_stats_day_start_seconds",
        NULL, 0, (double) ngx_http_airouter_stats_today() * 86400, 1);
}


/*
 * Today's counters: the day's total, each key, channel and model.  The
 * zone keeps days, not a total since start, so these are daily counters:
 * they drop to 0 at 00:00 UTC, which Prometheus reads as a counter reset.
 */
static ngx_int_t
ngx_http_airouter_metrics_usage(ngx_http_airouter_metrics_t *m,
    ngx_http_airouter_main_conf_t *amcf)
{
    uint32_t                             today;
    ngx_uint_t                           i;
    ngx_array_t                          rows, total, keys, channels, models;
    const char                         **names;
    airouter_config_t                   *acf;

    acf = amcf->config;
    today = ngx_http_airouter_stats_today();

    if (ngx_http_airouter_stats_rows(amcf, m->r->pool, today, today,
                                     NGX_HTTP_AIROUTER_STATS_N, &rows)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the total, configured keys and channels show from the day's start */
    names = ngx_palloc(m->r->pool, (acf->auth.nkeys + acf->nchannels + 1)
                                   * sizeof(char *));
    if (names == NULL) {
        return NGX_ERROR;
    }

    names[0] = "";

    if (ngx_http_airouter_metrics_usage_group(m->r->pool, &rows,
            NGX_HTTP_AIROUTER_STATS_TOTAL, names, 1, &total)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < acf->auth.nkeys; i++) {
        names[i] = acf->auth.keys[i].name;
    }

    if (ngx_http_airouter_metrics_usage_group(m->r->pool, &rows,
            NGX_HTTP_AIROUTER_STATS_KEY, names, acf->auth.nkeys, &keys)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < acf->nchannels; i++) {
        names[i] = acf->channels[i].id;
    }

    if (ngx_http_airouter_metrics_usage_group(m->r->pool, &rows,
            NGX_HTTP_AIROUTER_STATS_CHANNEL, names, acf->nchannels, &channels)
        != NGX_OK
        || ngx_http_airouter_metrics_usage_group(m->r->pool, &rows,
               NGX_HTTP_AIROUTER_STATS_MODEL, NULL, 0, &models)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_airouter_metrics_usage_families(m, NGX_HTTP_AIROUTER_STATS_TOTAL,
                                             NULL, &total);
    ngx_http_airouter_metrics_usage_families(m,
                                             NGX_HTTP_AIROUTER_STATS_CHANNEL,
                                             "channel", &channels);
    ngx_http_airouter_metrics_usage_families(m, NGX_HTTP_AIROUTER_STATS_MODEL,
                                             "model", &models);
    ngx_http_airouter_metrics_usage_families(m, NGX_HTTP_AIROUTER_STATS_KEY,
                                             "key", &keys);

    return NGX_OK;
}


/*
 * The rows of one kind, after an entry at 0 for each of names that has
 * none (in the order given), so a series exists from the day's start.
 */
static ngx_int_t
ngx_http_airouter_metrics_usage_group(ngx_pool_t *pool, ngx_array_t *rows,
    ngx_uint_t kind, const char *const *names, ngx_uint_t nnames,
    ngx_array_t *out)
{
    size_t                              len;
    ngx_uint_t                          i, j;
    ngx_http_airouter_stats_row_t      *row;
    ngx_http_airouter_metrics_usage_t  *u;

    if (ngx_array_init(out, pool, nnames + 8,
                       sizeof(ngx_http_airouter_metrics_usage_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    row = rows->elts;

    for (i = 0; i < nnames; i++) {
        u = ngx_array_push(out);
        if (u == NULL) {
            return NGX_ERROR;
        }

        ngx_http_airouter_metrics_str(&u->name, names[i]);
        ngx_memzero(&u->c, sizeof(ngx_http_airouter_stats_counters_t));
    }

    for (i = 0; i < rows->nelts; i++) {
        if (row[i].kind != kind) {
            continue;
        }

        /* the stats keep a name's first NGX_HTTP_AIROUTER_STATS_NAME bytes */
        len = row[i].name.len;
        u = out->elts;

        for (j = 0; j < nnames; j++) {
            if (ngx_min(u[j].name.len, NGX_HTTP_AIROUTER_STATS_NAME) == len
                && ngx_strncmp(u[j].name.data, row[i].name.data, len) == 0)
            {
                break;
            }
        }

        if (j == nnames) {
            u = ngx_array_push(out);
            if (u == NULL) {
                return NGX_ERROR;
            }

            u->name = row[i].name;

        } else {
            u = &u[j];
        }

        u->c = row[i].c;
    }

    return NGX_OK;
}


/*
 * The families of one kind's counters (the day's total: one entry, no
 * scope), generated from the counter list: each counter shown in that
 * kind's scope, counters that share a metric (tokens) in one family told
 * apart by their "type" label.
 */
static void
ngx_http_airouter_metrics_usage_families(ngx_http_airouter_metrics_t *m,
    ngx_uint_t kind, const char *scope, ngx_array_t *usage)
{
    u_char                                   *p, name[80], help[256];
    ngx_uint_t                                i, n;
    ngx_http_airouter_metrics_label_t         l[2];
    ngx_http_airouter_metrics_usage_t        *u;
    const ngx_http_airouter_stats_counter_t  *d, *prev;

    u = usage->elts;
    prev = NULL;

    for (d = ngx_http_airouter_stats_counters; d->name; d++) {
        if (!(d->scopes & (1 << kind))) {
            continue;
        }

        p = scope ? ngx_snprintf(name, sizeof(name) - 1,
                                 "airouter_%s_%s_total", scope, d->metric)
                  : ngx_snprintf(name, sizeof(name) - 1, "airouter_%s_total",
                                 d->metric);
        *p = '\0';

        if (prev == NULL || ngx_strcmp(prev->metric, d->metric) != 0) {
            p = scope ? ngx_snprintf(help, sizeof(help) - 1,
                            "%s today, per %s (UTC day; resets at 00:00 UTC).",
                            d->help, scope)
                      : ngx_snprintf(help, sizeof(help) - 1,
                            "%s today (UTC day; resets at 00:00 UTC).",
                            d->help);
            *p = '\0';

            ngx_http_airouter_metrics_family(m, (char *) name, "counter",
                                             (char *) help);
        }

        prev = d;

        for (i = 0; i < usage->nelts; i++) {
            n = 0;

            if (scope) {
                l[n].name = scope;
                l[n++].value = u[i].name;
            }

            if (d->label) {
                l[n].name = "type";
                ngx_http_airouter_metrics_str(&l[n++].value, d->label);
            }

            ngx_http_airouter_metrics_sample(m, (char *) name, l, n,
                ngx_http_airouter_stats_value(&u[i].c, d),
                d->type == NGX_HTTP_AIROUTER_STATS_COUNT);
        }
    }
}


/*
 * Live state: every configured channel, and each catalogue entry live
 * state has seen (tried at least once since the zone was created).  Live
 * state counts requests in flight and latency on the (channel, model)
 * entries only: a channel's in-flight count is the sum of its models'.
 */
static ngx_int_t
ngx_http_airouter_metrics_live(ngx_http_airouter_metrics_t *m,
    ngx_http_airouter_main_conf_t *amcf, const airouter_catalog_t *cat)
{
    ngx_str_t                          model;
    ngx_uint_t                         i, n;
    ngx_array_t                        channels, models;
    airouter_config_t                 *acf;
    ngx_http_airouter_metrics_live_t  *lv;
    const airouter_catalog_model_t    *cm;

    acf = amcf->config;
    n = cat ? airouter_catalog_nmodels(cat) : 0;

    if (ngx_array_init(&channels, m->r->pool, acf->nchannels + 1,
                       sizeof(ngx_http_airouter_metrics_live_t))
        != NGX_OK
        || ngx_array_init(&models, m->r->pool, 16,
                          sizeof(ngx_http_airouter_metrics_live_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < acf->nchannels; i++) {
        lv = ngx_array_push(&channels);
        if (lv == NULL) {
            return NGX_ERROR;
        }

        ngx_http_airouter_metrics_str(&lv->channel, acf->channels[i].id);
        ngx_str_null(&lv->model);
        /* nothing known yet: zeros */
        (void) ngx_http_airouter_live_info(amcf, i, NULL, &lv->info);
        lv->info.inflight = 0;
    }

    for (i = 0; i < n; i++) {
        cm = airouter_catalog_model(cat, i);

        if (cm->channel >= acf->nchannels) {
            continue;
        }

        model.data = (u_char *) airouter_catalog_model_id(cat, cm);
        model.len = cm->id_len;

        lv = ngx_array_push(&models);
        if (lv == NULL) {
            return NGX_ERROR;
        }

        if (ngx_http_airouter_live_info(amcf, cm->channel, &model, &lv->info)
            != NGX_OK)
        {
            models.nelts--;
            continue;
        }

        ngx_http_airouter_metrics_str(&lv->channel,
                                      acf->channels[cm->channel].id);
        lv->model = model;

        if (lv->info.inflight > 0) {
            ((ngx_http_airouter_metrics_live_t *) channels.elts)[cm->channel]
                .info.inflight += lv->info.inflight;
        }
    }

    ngx_http_airouter_metrics_live_families(m, "channel", &channels, 0);
    ngx_http_airouter_metrics_live_families(m, "model", &models, 1);

    return NGX_OK;
}


static void
ngx_http_airouter_metrics_live_families(ngx_http_airouter_metrics_t *m,
    const char *scope, ngx_array_t *live, ngx_uint_t per_model)
{
    u_char                             *p, name[64], help[256];
    time_t                              now, left;
    ngx_uint_t                          i, n, k;
    ngx_http_airouter_metrics_live_t   *lv;
    ngx_http_airouter_metrics_label_t   l[NGX_HTTP_AIROUTER_METRICS_LABELS];

    /* the families, in order; %s is the scope: "channel" or "model" */
    static const char  *names[] = {
        "airouter_%s_blocked", "airouter_%s_blocked_seconds",
        "airouter_%s_window_attempts", "airouter_%s_inflight",
        "airouter_%s_ttfb_seconds", "airouter_%s_duration_seconds"
    };
    static const char  *helps[] = {
        "1 while the %s is kept away (channel: blacklist; model: cooldown "
            "of the model on its channel), reason: the fault; else 0, "
            "reason none.",
        "Seconds until the %s's block ends (0: open).",
        "Attempts on the %s over the last 5 minutes, by result (ok, error).",
        "Attempts on the %s running now.",
        "Moving average (EWMA) of the time to the first byte of the %s's "
            "answers.",
        "Moving average (EWMA) of the %s's whole answer time."
    };

    now = ngx_time();
    lv = live->elts;
    n = per_model ? 2 : 1;
    l[0].name = "channel";
    l[1].name = "model";

    /* latency is known per (channel, model) only */
    for (k = 0; k < (per_model ? 6 : 4); k++) {
        p = ngx_snprintf(name, sizeof(name) - 1, names[k], scope);
        *p = '\0';
        p = ngx_snprintf(help, sizeof(help) - 1, helps[k], scope);
        *p = '\0';

        ngx_http_airouter_metrics_family(m, (char *) name, "gauge",
                                         (char *) help);

        for (i = 0; i < live->nelts; i++) {
            l[0].value = lv[i].channel;
            l[1].value = lv[i].model;
            left = lv[i].info.until > now ? lv[i].info.until - now : 0;

            switch (k) {

            case 0:
                l[n].name = "reason";

                if (left) {
                    ngx_http_airouter_metrics_str(&l[n].value,
                        airouter_fault_name(lv[i].info.fault));

                } else {
                    ngx_str_set(&l[n].value, "none");
                }

                ngx_http_airouter_metrics_sample(m, (char *) name, l, n + 1,
                                                 left ? 1 : 0, 1);
                break;

            case 1:
                ngx_http_airouter_metrics_sample(m, (char *) name, l, n,
                                                 (double) left, 1);
                break;

            case 2:
                l[n].name = "result";
                ngx_str_set(&l[n].value, "ok");
                ngx_http_airouter_metrics_sample(m, (char *) name, l, n + 1,
                                                 (double) lv[i].info.ok, 1);
                ngx_str_set(&l[n].value, "error");
                ngx_http_airouter_metrics_sample(m, (char *) name, l, n + 1,
                                                 (double) lv[i].info.errors,
                                                 1);
                break;

            case 3:
                ngx_http_airouter_metrics_sample(m, (char *) name, l, n,
                    (double) ngx_max(lv[i].info.inflight, 0), 1);
                break;

            default:
                /* nothing to average before the first answer */
                if (lv[i].info.ttfb > 0 || lv[i].info.total > 0
                    || lv[i].info.ok > 0)
                {
                    ngx_http_airouter_metrics_sample(m, (char *) name, l, n,
                        (k == 4 ? lv[i].info.ttfb : lv[i].info.total) / 1000,
                        0);
                }
                break;
            }
        }
    }
}


/*
 * The keys of channels with several (api_keys): one that hit its rate
 * limit or quota, or was refused, is kept away alone (key#N as in
 * X-Router-Key, never the value).
 */
static void
ngx_http_airouter_metrics_keys(ngx_http_airouter_metrics_t *m,
    ngx_http_airouter_main_conf_t *amcf)
{
    u_char                              *p, kbuf[NGX_INT_T_LEN + 8];
    time_t                               now;
    ngx_uint_t                           i, k, any;
    const airouter_channel_t            *ch;
    ngx_http_airouter_live_info_t        info;
    ngx_http_airouter_metrics_label_t    l[3];

    static const char  name[] = "airouter_channel_key_blocked";

    now = ngx_time();
    any = 0;
    l[0].name = "channel";
    l[1].name = "key";
    l[2].name = "reason";

    for (i = 0; i < amcf->config->nchannels; i++) {
        ch = &amcf->config->channels[i];

        if (ch->api_keys.n < 2) {
            continue;
        }

        if (!any) {
            ngx_http_airouter_metrics_family(m, name, "gauge",
                "1 while one of a channel's api_keys (key#N, from 0) is "
                "kept away alone, reason: the fault; else 0, reason none.");
            any = 1;
        }

        ngx_http_airouter_metrics_str(&l[0].value, ch->id);

        for (k = 0; k < ch->api_keys.n; k++) {
            (void) ngx_http_airouter_live_key_info(amcf, i, k, &info);

            p = ngx_sprintf(kbuf, "key#%ui", k);
            l[1].value.data = kbuf;
            l[1].value.len = p - kbuf;

            if (info.until > now) {
                ngx_http_airouter_metrics_str(&l[2].value,
                                              airouter_fault_name(info.fault));

            } else {
                ngx_str_set(&l[2].value, "none");
            }

            ngx_http_airouter_metrics_sample(m, name, l, 3,
                                             info.until > now ? 1 : 0, 1);
        }
    }
}


/*
 * A model blocked on one endpoint only (model_not_found there): the
 * (channel, model, endpoint) entries live state has seen, as the
 * per-model families show a model's own block.
 */
static void
ngx_http_airouter_metrics_scoped(ngx_http_airouter_metrics_t *m,
    ngx_http_airouter_main_conf_t *amcf, const airouter_catalog_t *cat)
{
    time_t                              now, left;
    ngx_str_t                           model;
    ngx_uint_t                          i, n, s, k, any;
    airouter_config_t                  *acf;
    const airouter_catalog_model_t     *cm;
    ngx_http_airouter_live_info_t       info;
    ngx_http_airouter_metrics_label_t   l[4];

    static const char  *names[] = {
        "airouter_model_endpoint_blocked",
        "airouter_model_endpoint_blocked_seconds"
    };
    static const char  *helps[] = {
        "1 while a (channel, model) is kept away from one endpoint only "
            "(model_not_found there), reason: the fault; else 0, reason "
            "none.",
        "Seconds until that block ends (0: open): short until discovery "
            "confirms the model is gone from the channel's /models."
    };

    acf = amcf->config;
    n = cat ? airouter_catalog_nmodels(cat) : 0;
    now = ngx_time();
    l[0].name = "channel";
    l[1].name = "model";
    l[2].name = "endpoint";
    l[3].name = "reason";

    for (k = 0; k < 2; k++) {
        any = 0;

        for (i = 0; i < n; i++) {
            cm = airouter_catalog_model(cat, i);

            if (cm->channel >= acf->nchannels) {
                continue;
            }

            model.data = (u_char *) airouter_catalog_model_id(cat, cm);
            model.len = cm->id_len;

            for (s = 1; s <= NGX_HTTP_AIROUTER_LIVE_SCOPES; s++) {
                if (ngx_http_airouter_live_scope_info(amcf, cm->channel,
                                                      &model, s, &info)
                    != NGX_OK)
                {
                    continue;
                }

                if (!any) {
                    ngx_http_airouter_metrics_family(m, names[k], "gauge",
                                                     helps[k]);
                    any = 1;
                }

                ngx_http_airouter_metrics_str(&l[0].value,
                                              acf->channels[cm->channel].id);
                l[1].value = model;
                ngx_http_airouter_metrics_str(&l[2].value,
                                         ngx_http_airouter_live_scope_name(s));
                left = info.until > now ? info.until - now : 0;

                if (k == 1) {
                    ngx_http_airouter_metrics_sample(m, names[k], l, 3,
                                                     (double) left, 1);
                    continue;
                }

                if (left) {
                    ngx_http_airouter_metrics_str(&l[3].value,
                        airouter_fault_name(info.fault));

                } else {
                    ngx_str_set(&l[3].value, "none");
                }

                ngx_http_airouter_metrics_sample(m, names[k], l, 4,
                                                 left ? 1 : 0, 1);
            }
        }
    }
}


static void
ngx_http_airouter_metrics_catalog(ngx_http_airouter_metrics_t *m,
    ngx_http_airouter_main_conf_t *amcf, const airouter_catalog_t *cat)
{
    ngx_uint_t                           i, nchannels, served, unresolved;
    airouter_config_t                   *acf;
    ngx_http_airouter_zone_t            *zone;
    ngx_http_airouter_metrics_label_t    l;
    const airouter_catalog_channel_t    *cc;

    acf = amcf->config;
    nchannels = cat ? airouter_catalog_nchannels(cat) : 0;
    served = 0;

    for (i = 0; i < nchannels; i++) {
        cc = airouter_catalog_channel(cat, i);

        if ((cc->flags & AIROUTER_CHANNEL_ENABLED) && cc->nmodels) {
            served++;
        }
    }

    ngx_http_airouter_metrics_family(m, "airouter_channels", "gauge",
        "Channels in the configuration, by state (total; enabled, as "
        "/health counts them; unresolved: enabled, but the host name of "
        "the base_url has not resolved).");
    unresolved = ngx_http_airouter_live_unresolved(amcf);
    l.name = "state";
    ngx_str_set(&l.value, "total");
    ngx_http_airouter_metrics_sample(m, "airouter_channels", &l, 1,
                                     (double) acf->nchannels, 1);
    ngx_str_set(&l.value, "enabled");
    ngx_http_airouter_metrics_sample(m, "airouter_channels", &l, 1,
                                     (double) (acf->nenabled - unresolved), 1);
    ngx_str_set(&l.value, "unresolved");
    ngx_http_airouter_metrics_sample(m, "airouter_channels", &l, 1,
                                     (double) unresolved, 1);

    ngx_http_airouter_metrics_family(m, "airouter_catalog_models", "gauge",
        "Routable (channel, model) entries in the catalogue.");
    ngx_http_airouter_metrics_sample(m, "airouter_catalog_models", NULL, 0,
        (double) (cat ? airouter_catalog_nmodels(cat) : 0), 1);

    ngx_http_airouter_metrics_family(m, "airouter_catalog_channels", "gauge",
        "Enabled channels with at least one model in the catalogue.");
    ngx_http_airouter_metrics_sample(m, "airouter_catalog_channels", NULL, 0,
                                     (double) served, 1);

    ngx_http_airouter_metrics_family(m, "airouter_catalog_channel_models",
        "gauge", "Models of each channel in the catalogue.");
    l.name = "channel";

    for (i = 0; i < nchannels; i++) {
        cc = airouter_catalog_channel(cat, i);

        if (cc->index >= acf->nchannels) {
            continue;
        }

        ngx_http_airouter_metrics_str(&l.value, acf->channels[cc->index].id);
        ngx_http_airouter_metrics_sample(m, "airouter_catalog_channel_models",
                                         &l, 1, (double) cc->nmodels, 1);
    }

    zone = ngx_http_airouter_zone_get(amcf);

    ngx_http_airouter_metrics_family(m, "airouter_catalog_generation",
        "gauge", "Catalogues published in the shared zone since it was "
        "created (the generation /health shows).");
    ngx_http_airouter_metrics_sample(m, "airouter_catalog_generation", NULL,
        0, (double) ((zone && zone->sh) ? zone->sh->generation : 0), 1);
}


/* From the same state /health shows (ngx_http_airouter_discovery_json). */
static void
ngx_http_airouter_metrics_discovery(ngx_http_airouter_metrics_t *m,
    ngx_http_airouter_main_conf_t *amcf)
{
    time_t                              now;
    json_t                             *d, *channels, *one, *v;
    ngx_uint_t                          i;
    const char                         *id, *state;
    ngx_http_airouter_metrics_label_t   l[2];

    d = ngx_http_airouter_discovery_json(amcf);
    channels = d ? json_object_get(d, "channels") : NULL;
    now = ngx_time();

    ngx_http_airouter_metrics_family(m, "airouter_discovery_running", "gauge",
        "1 while a discovery run is in progress.");
    v = d ? json_object_get(d, "running") : NULL;
    ngx_http_airouter_metrics_sample(m, "airouter_discovery_running", NULL, 0,
                                     json_is_true(v) ? 1 : 0, 1);

    ngx_http_airouter_metrics_family(m, "airouter_discovery_runs_total",
        "counter", "Discovery runs since the shared zone was created.");
    v = d ? json_object_get(d, "runs") : NULL;
    ngx_http_airouter_metrics_sample(m, "airouter_discovery_runs_total", NULL,
        0, json_is_integer(v) ? (double) json_integer_value(v) : 0, 1);

    ngx_http_airouter_metrics_family(m, "airouter_discovery_state", "gauge",
        "Each channel's discovery state: 1 for the current one (ok, "
        "failed, configured_models, key_invalid, pending, static).");
    l[0].name = "channel";
    l[1].name = "state";

    json_object_foreach(channels, id, one) {
        v = json_object_get(one, "state");
        state = json_is_string(v) ? json_string_value(v) : "pending";

        ngx_http_airouter_metrics_str(&l[0].value, id);

        for (i = 0;
             i < sizeof(ngx_http_airouter_metrics_disc_states)
                 / sizeof(char *);
             i++)
        {
            ngx_http_airouter_metrics_str(&l[1].value,
                ngx_http_airouter_metrics_disc_states[i]);
            ngx_http_airouter_metrics_sample(m, "airouter_discovery_state",
                l, 2,
                ngx_strcmp(state, ngx_http_airouter_metrics_disc_states[i])
                == 0, 1);
        }
    }

    ngx_http_airouter_metrics_family(m,
        "airouter_discovery_last_success_seconds", "gauge",
        "Seconds since the channel's last successful discovery (absent "
        "before the first).");

    json_object_foreach(channels, id, one) {
        v = json_object_get(one, "last_success");

        if (json_is_integer(v)) {
            ngx_http_airouter_metrics_str(&l[0].value, id);
            ngx_http_airouter_metrics_sample(m,
                "airouter_discovery_last_success_seconds", l, 1,
                (double) ngx_max(now - (time_t) json_integer_value(v), 0), 1);
        }
    }

    ngx_http_airouter_metrics_family(m, "airouter_discovery_models", "gauge",
        "Models the channel's last discovery found.");

    json_object_foreach(channels, id, one) {
        v = json_object_get(one, "models");
        ngx_http_airouter_metrics_str(&l[0].value, id);
        ngx_http_airouter_metrics_sample(m, "airouter_discovery_models", l, 1,
            json_is_integer(v) ? (double) json_integer_value(v) : 0, 1);
    }

    json_decref(d);
}


static void
ngx_http_airouter_metrics_redis(ngx_http_airouter_metrics_t *m,
    ngx_http_airouter_main_conf_t *amcf)
{
    json_t      *o, *v;
    const char  *status;

    if (amcf->redis == NULL) {
        return;
    }

    o = ngx_http_airouter_redis_json(amcf);
    v = o ? json_object_get(o, "status") : NULL;
    status = json_is_string(v) ? json_string_value(v) : "down";

    ngx_http_airouter_metrics_family(m, "airouter_redis_up", "gauge",
        "1 while the link to airouter_redis is up.");
    ngx_http_airouter_metrics_sample(m, "airouter_redis_up", NULL, 0,
                                     ngx_strcmp(status, "up") == 0, 1);

    ngx_http_airouter_metrics_family(m, "airouter_redis_flushes_total",
        "counter", "Counter batches written to Redis.");
    v = o ? json_object_get(o, "flushes") : NULL;
    ngx_http_airouter_metrics_sample(m, "airouter_redis_flushes_total", NULL,
        0, json_is_integer(v) ? (double) json_integer_value(v) : 0, 1);

    ngx_http_airouter_metrics_family(m, "airouter_redis_failures_total",
        "counter", "Failed Redis connections or writes.");
    v = o ? json_object_get(o, "failures") : NULL;
    ngx_http_airouter_metrics_sample(m, "airouter_redis_failures_total", NULL,
        0, json_is_integer(v) ? (double) json_integer_value(v) : 0, 1);

    json_decref(o);
}


static void
ngx_http_airouter_metrics_zone(ngx_http_airouter_metrics_t *m,
    ngx_http_airouter_main_conf_t *amcf)
{
    size_t                     used, total;
    ngx_http_airouter_zone_t  *zone;

    zone = ngx_http_airouter_zone_get(amcf);

    if (zone == NULL || zone->sh == NULL) {
        return;
    }

    ngx_http_airouter_zone_usage(zone, &used, &total);

    ngx_http_airouter_metrics_family(m, "airouter_zone_size_bytes", "gauge",
        "Size of the shared zone (airouter_zone).");
    ngx_http_airouter_metrics_sample(m, "airouter_zone_size_bytes", NULL, 0,
                                     (double) total, 1);

    ngx_http_airouter_metrics_family(m, "airouter_zone_used_bytes", "gauge",
        "Bytes of the shared zone in use (whole slab pages).");
    ngx_http_airouter_metrics_sample(m, "airouter_zone_used_bytes", NULL, 0,
                                     (double) used, 1);
}


/* each checked channel's last known balance and when it was checked */
static void
ngx_http_airouter_metrics_balance(ngx_http_airouter_metrics_t *m,
    ngx_http_airouter_main_conf_t *amcf)
{
    ngx_uint_t                          i, any;
    ngx_http_airouter_metrics_label_t   l[2];
    ngx_http_airouter_balance_info_t    info;

    any = 0;
    l[0].name = "channel";
    l[1].name = "currency";

    for (i = 0; i < amcf->config->nchannels; i++) {
        if (ngx_http_airouter_balance_info(amcf, i, &info) != NGX_OK
            || !info.known)
        {
            continue;
        }

        if (!any) {
            ngx_http_airouter_metrics_family(m, "airouter_channel_balance",
                "gauge", "The money left on the channel at its last "
                "successful balance check.");
            any = 1;
        }

        ngx_http_airouter_metrics_str(&l[0].value,
                                      amcf->config->channels[i].id);
        ngx_http_airouter_metrics_str(&l[1].value, (char *) info.currency);
        ngx_http_airouter_metrics_sample(m, "airouter_channel_balance", l, 2,
                                         info.amount, 0);
    }

    any = 0;

    for (i = 0; i < amcf->config->nchannels; i++) {
        if (ngx_http_airouter_balance_info(amcf, i, &info) != NGX_OK
            || info.checked == 0)
        {
            continue;
        }

        if (!any) {
            ngx_http_airouter_metrics_family(m,
                "airouter_channel_balance_checked_timestamp_seconds",
                "gauge", "When the channel's balance was last checked "
                "(successfully or not), Unix time.");
            any = 1;
        }

        ngx_http_airouter_metrics_str(&l[0].value,
                                      amcf->config->channels[i].id);
        ngx_http_airouter_metrics_sample(m,
            "airouter_channel_balance_checked_timestamp_seconds", l, 1,
            (double) info.checked, 1);
    }
}


/* what is left of each limited channel's day (daily_limit, daily_token_limit) */
static void
ngx_http_airouter_metrics_quota(ngx_http_airouter_metrics_t *m,
    ngx_http_airouter_main_conf_t *amcf)
{
    ngx_uint_t                          i, any;
    airouter_channel_t                 *ch;
    ngx_http_airouter_stats_quota_t     q;
    ngx_http_airouter_metrics_label_t   l[2];

    any = 0;
    l[0].name = "channel";
    l[1].name = "unit";

    for (i = 0; i < amcf->config->nchannels; i++) {
        ch = &amcf->config->channels[i];

        if (ch->daily_limit <= 0 && ch->daily_token_limit <= 0) {
            continue;
        }

        if (!any) {
            ngx_http_airouter_metrics_family(m,
                "airouter_channel_quota_remaining", "gauge",
                "What is left of the channel's daily_limit (unit "
                "\"requests\") or daily_token_limit (unit \"tokens\") "
                "today (UTC); at 0 it is out of routing.");
            any = 1;
        }

        ngx_http_airouter_stats_quota(amcf, i, &q);
        ngx_http_airouter_metrics_str(&l[0].value, ch->id);

        if (q.requests_left >= 0) {
            ngx_http_airouter_metrics_str(&l[1].value, "requests");
            ngx_http_airouter_metrics_sample(m,
                "airouter_channel_quota_remaining", l, 2,
                (double) q.requests_left, 1);
        }

        if (q.tokens_left >= 0) {
            ngx_http_airouter_metrics_str(&l[1].value, "tokens");
            ngx_http_airouter_metrics_sample(m,
                "airouter_channel_quota_remaining", l, 2,
                (double) q.tokens_left, 1);
        }
    }
}
