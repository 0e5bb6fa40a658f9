/*
 * The stats API, behind the admin token: GET /v1/stats/daily, weekly,
 * monthly, summary, top-models, top-channels, cost-breakdown, alerts and
 * channel-status.  Everything is read from the shared zone's counters
 * (ngx_http_airouter_stats.c) and live state (ngx_http_airouter_live.c);
 * days are UTC days.
 *
 * Served from the `airouter` location (GET /v1/stats/...) and from the
 * `airouter_admin` one; both call ngx_http_airouter_stats_api_handler().
 */

#include "ngx_http_airouter_stats.h"
#include "ngx_http_airouter_balance.h"
#include "ngx_http_airouter_switch.h"
#include "ngx_http_airouter_auth.h"
#include "ngx_http_airouter_live.h"
#include "ngx_http_airouter_response.h"

#include <math.h>


#define NGX_HTTP_AIROUTER_STATS_TOP        10
#define NGX_HTTP_AIROUTER_STATS_ERR_MIN    5       /* requests for a rate */
#define NGX_HTTP_AIROUTER_STATS_ERR_RATE   0.5


/* counters summed over a period for one (kind, name) */
typedef ngx_int_t (*ngx_http_airouter_stats_api_ep_pt)(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf);


typedef struct {
    ngx_str_t                       name;
    ngx_http_airouter_stats_api_ep_pt   handler;
} ngx_http_airouter_stats_api_ep_t;


static ngx_int_t ngx_http_airouter_stats_api_daily(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf);
static ngx_int_t ngx_http_airouter_stats_api_weekly(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf);
static ngx_int_t ngx_http_airouter_stats_api_monthly(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf);
static ngx_int_t ngx_http_airouter_stats_api_summary(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf);
static ngx_int_t ngx_http_airouter_stats_api_top_models(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf);
static ngx_int_t ngx_http_airouter_stats_api_top_channels(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf);
static ngx_int_t ngx_http_airouter_stats_api_breakdown(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf);
static ngx_int_t ngx_http_airouter_stats_api_alerts(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf);
static ngx_int_t ngx_http_airouter_stats_api_channels(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf);

static ngx_uint_t ngx_http_airouter_stats_api_arg(ngx_http_request_t *r,
    const char *name, ngx_uint_t def, ngx_uint_t max);
static json_t *ngx_http_airouter_stats_api_date(uint32_t day);
static json_t *ngx_http_airouter_stats_api_money(double v);
static json_t *ngx_http_airouter_stats_api_counters(
    ngx_http_airouter_stats_counters_t *c);
static ngx_http_airouter_stats_counters_t *ngx_http_airouter_stats_api_total(
    ngx_array_t *sums, ngx_http_airouter_stats_counters_t *zero);
static ngx_int_t ngx_http_airouter_stats_api_period(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf, const char *period, ngx_uint_t days);
static const char *ngx_http_airouter_stats_api_budget_state(double spent,
    double budget, double threshold);
static double ngx_http_airouter_stats_api_cost_of(ngx_array_t *sums,
    ngx_uint_t kind, const char *name);
static int ngx_http_airouter_stats_api_cmp(const void *one, const void *two);
static ngx_int_t ngx_http_airouter_stats_api_sorted(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t kind, ngx_uint_t days,
    ngx_array_t *out, double *total);
static ngx_int_t ngx_http_airouter_stats_api_top(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t kind, const char *field,
    const char *list);
static void ngx_http_airouter_stats_api_alert(json_t *alerts,
    const char *type, const char *level, json_t *detail, const char *fmt,
    ...);
static void ngx_http_airouter_stats_api_balance_alert(json_t *alerts,
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t channel);


static ngx_http_airouter_stats_api_ep_t  ngx_http_airouter_stats_api_eps[] = {
    { ngx_string("daily"), ngx_http_airouter_stats_api_daily },
    { ngx_string("weekly"), ngx_http_airouter_stats_api_weekly },
    { ngx_string("monthly"), ngx_http_airouter_stats_api_monthly },
    { ngx_string("summary"), ngx_http_airouter_stats_api_summary },
    { ngx_string("top-models"), ngx_http_airouter_stats_api_top_models },
    { ngx_string("top-channels"), ngx_http_airouter_stats_api_top_channels },
    { ngx_string("cost-breakdown"), ngx_http_airouter_stats_api_breakdown },
    { ngx_string("alerts"), ngx_http_airouter_stats_api_alerts },
    { ngx_string("channel-status"), ngx_http_airouter_stats_api_channels },
    { ngx_null_string, NULL }
};


static const char  *ngx_http_airouter_stats_api_by[] = {
    "total", "by_key", "by_channel", "by_model"
};


ngx_int_t
ngx_http_airouter_stats_api_handler(ngx_http_request_t *r, ngx_str_t *path)
{
    ngx_int_t                       rc;
    ngx_str_t                       name;
    ngx_http_airouter_stats_api_ep_t   *ep;
    ngx_http_airouter_main_conf_t  *amcf;

    /* checked in the access phase, but for a subrequest */
    if (ngx_http_airouter_auth_admin(r, r != r->main, &rc) != NGX_OK) {
        return rc;
    }

    name.data = path->data + sizeof("stats/") - 1;
    name.len = path->len - (sizeof("stats/") - 1);

    for (ep = ngx_http_airouter_stats_api_eps; ep->handler; ep++) {
        if (ep->name.len == name.len
            && ngx_strncmp(ep->name.data, name.data, name.len) == 0)
        {
            break;
        }
    }

    /* an unknown URL is a 404 whatever the method; a known one is read-only */
    if (ep->handler == NULL) {
        return ngx_http_airouter_send_error(r, NGX_HTTP_NOT_FOUND,
                   "invalid_request_error", "unknown_url",
                   "Unknown stats URL: %V %V", &r->method_name, &r->uri);
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_airouter_send_error(r, NGX_HTTP_NOT_ALLOWED,
                   "invalid_request_error", "method_not_allowed",
                   "Method %V is not allowed on %V", &r->method_name,
                   &r->uri);
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airouter_module);

    return ep->handler(r, amcf);
}


/* ?name=N from the query string, within [1, max]; def when absent. */
static ngx_uint_t
ngx_http_airouter_stats_api_arg(ngx_http_request_t *r, const char *name,
    ngx_uint_t def, ngx_uint_t max)
{
    ngx_int_t  n;
    ngx_str_t  value;

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), &value) != NGX_OK)
    {
        return def;
    }

    n = ngx_atoi(value.data, value.len);

    if (n <= 0) {
        return def;
    }

    return ngx_min((ngx_uint_t) n, max);
}


static json_t *
ngx_http_airouter_stats_api_date(uint32_t day)
{
    u_char    buf[16];
    ngx_tm_t  tm;

    ngx_gmtime((time_t) day * 86400, &tm);

    ngx_sprintf(buf, "%04d-%02d-%02d%Z", tm.ngx_tm_year, tm.ngx_tm_mon,
                tm.ngx_tm_mday);

    return json_string((char *) buf);
}


/* Costs to 1e-10 USD: what a reader compares, without float noise. */
static json_t *
ngx_http_airouter_stats_api_money(double v)
{
    return json_real(floor(v * 1e10 + 0.5) / 1e10);
}


/* Every counter of the list, and total_tokens, which readers expect. */
static json_t *
ngx_http_airouter_stats_api_counters(ngx_http_airouter_stats_counters_t *c)
{
    json_t                                   *o, *v;
    const ngx_http_airouter_stats_counter_t  *d;

    o = json_object();
    if (o == NULL) {
        return NULL;
    }

    for (d = ngx_http_airouter_stats_counters; d->name; d++) {
        v = (d->type == NGX_HTTP_AIROUTER_STATS_USD)
            ? ngx_http_airouter_stats_api_money(
                  ngx_http_airouter_stats_usd(c, d))
            : json_integer((json_int_t) ngx_http_airouter_stats_count(c, d));

        json_object_set_new(o, d->name, v);
    }

    json_object_set_new(o, "total_tokens",
                        json_integer((json_int_t) (c->prompt_tokens
                                                   + c->completion_tokens)));

    return o;
}


static ngx_http_airouter_stats_counters_t *
ngx_http_airouter_stats_api_total(ngx_array_t *sums,
    ngx_http_airouter_stats_counters_t *zero)
{
    ngx_uint_t                      i;
    ngx_http_airouter_stats_sum_t  *s;

    s = sums->elts;

    for (i = 0; i < sums->nelts; i++) {
        if (s[i].kind == NGX_HTTP_AIROUTER_STATS_TOTAL) {
            return &s[i].c;
        }
    }

    ngx_memzero(zero, sizeof(ngx_http_airouter_stats_counters_t));

    return zero;
}


/* daily, weekly, monthly: one period, its days, and its breakdowns. */
static ngx_int_t
ngx_http_airouter_stats_api_period(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf, const char *period, ngx_uint_t days)
{
    json_t                              *root, *by[4], *series, *o;
    uint32_t                             today, day;
    ngx_uint_t                           i, k;
    ngx_array_t                          sums, rows;
    ngx_http_airouter_stats_row_t       *row;
    ngx_http_airouter_stats_sum_t       *s;
    ngx_http_airouter_stats_counters_t   zero;

    days = ngx_http_airouter_stats_api_arg(r, "days", days,
                                       NGX_HTTP_AIROUTER_STATS_DAYS);
    today = ngx_http_airouter_stats_today();

    if (ngx_http_airouter_stats_sum(amcf, r->pool, days,
                                    NGX_HTTP_AIROUTER_STATS_N, &sums) != NGX_OK
        || ngx_http_airouter_stats_rows(amcf, r->pool, today - (days - 1),
                                        today, NGX_HTTP_AIROUTER_STATS_TOTAL,
                                        &rows)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    root = json_pack("{s:s, s:o, s:o, s:I, s:o}",
                     "period", period,
                     "from",
                     ngx_http_airouter_stats_api_date(today - (days - 1)),
                     "to", ngx_http_airouter_stats_api_date(today),
                     "days", (json_int_t) days,
                     "total",
                     ngx_http_airouter_stats_api_counters(
                         ngx_http_airouter_stats_api_total(&sums, &zero)));
    if (root == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* one entry per day, zeros included, oldest first */
    series = json_array();
    row = rows.elts;

    for (day = today - (days - 1); day <= today; day++) {
        ngx_memzero(&zero, sizeof(ngx_http_airouter_stats_counters_t));

        for (i = 0; i < rows.nelts; i++) {
            if (row[i].day == day) {
                zero = row[i].c;
            }
        }

        o = ngx_http_airouter_stats_api_counters(&zero);
        json_object_set_new(o, "date", ngx_http_airouter_stats_api_date(day));
        json_array_append_new(series, o);
    }

    json_object_set_new(root, "by_day", series);

    for (k = NGX_HTTP_AIROUTER_STATS_KEY; k <= NGX_HTTP_AIROUTER_STATS_MODEL;
         k++)
    {
        by[k] = json_object();
        json_object_set_new(root, ngx_http_airouter_stats_api_by[k], by[k]);
    }

    s = sums.elts;

    for (i = 0; i < sums.nelts; i++) {
        if (s[i].kind == NGX_HTTP_AIROUTER_STATS_TOTAL) {
            continue;
        }

        json_object_set_new(by[s[i].kind], (char *) s[i].name.data,
                            ngx_http_airouter_stats_api_counters(&s[i].c));
    }

    return ngx_http_airouter_send_json(r, NGX_HTTP_OK, root);
}


static ngx_int_t
ngx_http_airouter_stats_api_daily(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf)
{
    return ngx_http_airouter_stats_api_period(r, amcf, "daily", 1);
}


static ngx_int_t
ngx_http_airouter_stats_api_weekly(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf)
{
    return ngx_http_airouter_stats_api_period(r, amcf, "weekly", 7);
}


static ngx_int_t
ngx_http_airouter_stats_api_monthly(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf)
{
    return ngx_http_airouter_stats_api_period(r, amcf, "monthly", 30);
}


static const char *
ngx_http_airouter_stats_api_budget_state(double spent, double budget,
    double threshold)
{
    if (budget <= 0) {
        return "unlimited";
    }

    if (spent >= budget) {
        return "exceeded";
    }

    if (threshold > 0 && spent >= budget * threshold) {
        return "alert";
    }

    return "ok";
}


static double
ngx_http_airouter_stats_api_cost_of(ngx_array_t *sums, ngx_uint_t kind,
    const char *name)
{
    size_t                          len;
    ngx_uint_t                      i;
    ngx_http_airouter_stats_sum_t  *s;

    len = ngx_strlen(name);
    s = sums->elts;

    for (i = 0; i < sums->nelts; i++) {
        if (s[i].kind == kind && s[i].name.len == len
            && ngx_strncmp(s[i].name.data, name, len) == 0)
        {
            return s[i].c.cost;
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_airouter_stats_api_summary(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf)
{
    u_char                               buf[64];
    json_t                              *root, *keys;
    double                               spent, month_spent, threshold;
    uint32_t                             today;
    ngx_tm_t                             tm;
    ngx_uint_t                           i, mdays;
    ngx_array_t                          day, week, month;
    const char                          *strategy, *source;
    airouter_config_t                   *acf;
    airouter_apikey_t                   *key;
    ngx_http_airouter_stats_counters_t   z1, z2, z3;

    acf = amcf->config;
    today = ngx_http_airouter_stats_today();
    ngx_gmtime((time_t) today * 86400, &tm);
    mdays = tm.ngx_tm_mday;

    if (ngx_http_airouter_stats_sum(amcf, r->pool, 1,
                                    NGX_HTTP_AIROUTER_STATS_N, &day) != NGX_OK
        || ngx_http_airouter_stats_sum(amcf, r->pool, 7,
                                    NGX_HTTP_AIROUTER_STATS_N, &week) != NGX_OK
        || ngx_http_airouter_stats_sum(amcf, r->pool, mdays,
                                    NGX_HTTP_AIROUTER_STATS_N, &month) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_airouter_switch_strategy(amcf, buf, sizeof(buf)) == NGX_OK) {
        strategy = (char *) buf;
        source = "admin";

    } else {
        strategy = acf->routing.default_strategy;
        source = "config";
    }

    spent = ngx_http_airouter_stats_api_total(&day, &z1)->cost;
    threshold = acf->cost.alert_threshold;

    root = json_pack("{s:o, s:o, s:o, s:o, s:{s:s, s:s}, s:{s:o, s:o, s:o,"
                     " s:f, s:s, s:b}}",
                     "date", ngx_http_airouter_stats_api_date(today),
                     "today", ngx_http_airouter_stats_api_counters(
                         ngx_http_airouter_stats_api_total(&day, &z1)),
                     "week", ngx_http_airouter_stats_api_counters(
                         ngx_http_airouter_stats_api_total(&week, &z2)),
                     "month", ngx_http_airouter_stats_api_counters(
                         ngx_http_airouter_stats_api_total(&month, &z3)),
                     "strategy", "current", strategy, "source", source,
                     "budget",
                     "global_daily_budget",
                     ngx_http_airouter_stats_api_money(
                         acf->cost.global_daily_budget),
                     "spent_today", ngx_http_airouter_stats_api_money(spent),
                     "remaining_today",
                     ngx_http_airouter_stats_api_money(
                         acf->cost.global_daily_budget > spent
                         ? acf->cost.global_daily_budget - spent : 0),
                     "alert_threshold", threshold,
                     "state", ngx_http_airouter_stats_api_budget_state(spent,
                                  acf->cost.global_daily_budget, threshold),
                     "enforced",
                     acf->cost.auto_disable_on_budget_exceeded ? 1 : 0);
    if (root == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    keys = json_array();
    json_object_set_new(root, "keys", keys);

    for (i = 0; i < acf->auth.nkeys; i++) {
        key = &acf->auth.keys[i];
        spent = ngx_http_airouter_stats_api_cost_of(&day,
                                                NGX_HTTP_AIROUTER_STATS_KEY,
                                                key->name);
        month_spent = ngx_http_airouter_stats_api_cost_of(&month,
                                                NGX_HTTP_AIROUTER_STATS_KEY,
                                                key->name);

        json_array_append_new(keys,
            json_pack("{s:s, s:o, s:o, s:s, s:o, s:o, s:s, s:i}",
                      "name", key->name,
                      "spent_today", ngx_http_airouter_stats_api_money(spent),
                      "daily_budget",
                      ngx_http_airouter_stats_api_money(key->daily_budget),
                      "daily_state",
                      ngx_http_airouter_stats_api_budget_state(spent,
                          key->daily_budget, threshold),
                      "spent_month",
                      ngx_http_airouter_stats_api_money(month_spent),
                      "monthly_budget",
                      ngx_http_airouter_stats_api_money(key->monthly_budget),
                      "monthly_state",
                      ngx_http_airouter_stats_api_budget_state(month_spent,
                          key->monthly_budget, threshold),
                      "rate_limit", key->rate_limit));
    }

    return ngx_http_airouter_send_json(r, NGX_HTTP_OK, root);
}


static int
ngx_http_airouter_stats_api_cmp(const void *one, const void *two)
{
    const ngx_http_airouter_stats_sum_t *a = one;
    const ngx_http_airouter_stats_sum_t *b = two;

    if (a->c.cost != b->c.cost) {
        return a->c.cost < b->c.cost ? 1 : -1;
    }

    if (a->c.requests != b->c.requests) {
        return a->c.requests < b->c.requests ? 1 : -1;
    }

    return ngx_memn2cmp(a->name.data, b->name.data, a->name.len,
                        b->name.len);
}


/* The sums of one kind, dearest first (then busiest, then by name). */
static ngx_int_t
ngx_http_airouter_stats_api_sorted(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t kind, ngx_uint_t days,
    ngx_array_t *out, double *total)
{
    ngx_uint_t                      i;
    ngx_array_t                     sums;
    ngx_http_airouter_stats_sum_t  *s, *o;

    if (ngx_http_airouter_stats_sum(amcf, r->pool, days,
                                    NGX_HTTP_AIROUTER_STATS_N, &sums) != NGX_OK
        || ngx_array_init(out, r->pool, 16,
                          sizeof(ngx_http_airouter_stats_sum_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    *total = 0;
    s = sums.elts;

    for (i = 0; i < sums.nelts; i++) {
        if (s[i].kind == NGX_HTTP_AIROUTER_STATS_TOTAL) {
            *total = s[i].c.cost;
        }

        if (s[i].kind != kind) {
            continue;
        }

        o = ngx_array_push(out);
        if (o == NULL) {
            return NGX_ERROR;
        }

        *o = s[i];
    }

    ngx_qsort(out->elts, out->nelts, sizeof(ngx_http_airouter_stats_sum_t),
              ngx_http_airouter_stats_api_cmp);

    return NGX_OK;
}


static ngx_int_t
ngx_http_airouter_stats_api_top(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t kind, const char *field,
    const char *list)
{
    json_t                         *root, *arr, *o;
    double                          total;
    ngx_uint_t                      i, days, limit;
    ngx_array_t                     sorted;
    ngx_http_airouter_stats_sum_t  *s;

    days = ngx_http_airouter_stats_api_arg(r, "days", 30,
                                       NGX_HTTP_AIROUTER_STATS_DAYS);
    limit = ngx_http_airouter_stats_api_arg(r, "limit",
                                        NGX_HTTP_AIROUTER_STATS_TOP, 1000);

    if (ngx_http_airouter_stats_api_sorted(r, amcf, kind, days, &sorted, &total)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    arr = json_array();
    s = sorted.elts;

    for (i = 0; i < sorted.nelts && i < limit; i++) {
        o = ngx_http_airouter_stats_api_counters(&s[i].c);
        json_object_set_new(o, field, json_string((char *) s[i].name.data));
        json_array_append_new(arr, o);
    }

    root = json_pack("{s:I, s:o}", "days", (json_int_t) days, list, arr);

    return ngx_http_airouter_send_json(r, NGX_HTTP_OK, root);
}


static ngx_int_t
ngx_http_airouter_stats_api_top_models(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf)
{
    return ngx_http_airouter_stats_api_top(r, amcf,
                                           NGX_HTTP_AIROUTER_STATS_MODEL,
                                           "model", "models");
}


static ngx_int_t
ngx_http_airouter_stats_api_top_channels(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf)
{
    return ngx_http_airouter_stats_api_top(r, amcf,
                                       NGX_HTTP_AIROUTER_STATS_CHANNEL,
                                       "channel", "channels");
}


static ngx_int_t
ngx_http_airouter_stats_api_breakdown(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf)
{
    json_t                         *root, *arr;
    double                          total;
    ngx_uint_t                      i, k, days;
    ngx_array_t                     sorted;
    ngx_http_airouter_stats_sum_t  *s;

    days = ngx_http_airouter_stats_api_arg(r, "days", 30,
                                       NGX_HTTP_AIROUTER_STATS_DAYS);
    total = 0;

    root = json_pack("{s:I, s:s}", "days", (json_int_t) days,
                     "currency", "USD");
    if (root == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (k = NGX_HTTP_AIROUTER_STATS_KEY; k <= NGX_HTTP_AIROUTER_STATS_MODEL;
         k++)
    {
        if (ngx_http_airouter_stats_api_sorted(r, amcf, k, days, &sorted,
                                               &total)
            != NGX_OK)
        {
            json_decref(root);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        arr = json_array();
        s = sorted.elts;

        for (i = 0; i < sorted.nelts; i++) {
            json_array_append_new(arr,
                json_pack("{s:s, s:o, s:I, s:I, s:o}",
                          "name", (char *) s[i].name.data,
                          "cost",
                          ngx_http_airouter_stats_api_money(s[i].c.cost),
                          "requests", (json_int_t) s[i].c.requests,
                          "total_tokens",
                          (json_int_t) (s[i].c.prompt_tokens
                                        + s[i].c.completion_tokens),
                          "share", json_real(total > 0
                                   ? floor(s[i].c.cost / total * 1e4 + 0.5)
                                     / 1e4
                                   : 0)));
        }

        json_object_set_new(root, ngx_http_airouter_stats_api_by[k], arr);
    }

    json_object_set_new(root, "total_cost",
                        ngx_http_airouter_stats_api_money(total));

    return ngx_http_airouter_send_json(r, NGX_HTTP_OK, root);
}


static void
ngx_http_airouter_stats_api_alert(json_t *alerts, const char *type,
    const char *level, json_t *detail, const char *fmt, ...)
{
    u_char   buf[512], *p;
    va_list  args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf) - 1, fmt, args);
    va_end(args);
    *p = '\0';

    if (detail == NULL) {
        detail = json_object();
    }

    json_object_set_new(detail, "type", json_string(type));
    json_object_set_new(detail, "level", json_string(level));
    json_object_set_new(detail, "message", json_string((char *) buf));
    json_array_append_new(alerts, detail);
}


static ngx_int_t
ngx_http_airouter_stats_api_alerts(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf)
{
    json_t                              *alerts;
    double                               spent, budget, threshold, rate;
    time_t                               now;
    ngx_uint_t                           i, n;
    ngx_array_t                          day;
    const char                          *state, *id;
    airouter_config_t                   *acf;
    airouter_apikey_t                   *key;
    ngx_http_airouter_stats_sum_t       *s;
    ngx_http_airouter_live_info_t        info;
    ngx_http_airouter_stats_quota_t      quota;
    ngx_http_airouter_stats_counters_t   zero, *total;

    acf = amcf->config;
    threshold = acf->cost.alert_threshold;
    now = ngx_time();

    if (ngx_http_airouter_stats_sum(amcf, r->pool, 1,
                                    NGX_HTTP_AIROUTER_STATS_N, &day) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    alerts = json_array();
    total = ngx_http_airouter_stats_api_total(&day, &zero);

    /* budgets: the router's and each key's */
    budget = acf->cost.global_daily_budget;
    state = ngx_http_airouter_stats_api_budget_state(total->cost, budget,
                                                 threshold);

    if (ngx_strcmp(state, "alert") == 0 || ngx_strcmp(state, "exceeded") == 0)
    {
        ngx_http_airouter_stats_api_alert(alerts, "budget",
            state[0] == 'e' ? "critical" : "warning",
            json_pack("{s:s, s:o, s:o}", "scope", "global",
                      "spent", ngx_http_airouter_stats_api_money(total->cost),
                      "budget", ngx_http_airouter_stats_api_money(budget)),
            "Global daily spend %.6f USD is %s the budget of %.6f USD",
            total->cost, state[0] == 'e' ? "over" : "near", budget);
    }

    for (i = 0; i < acf->auth.nkeys; i++) {
        key = &acf->auth.keys[i];
        spent = ngx_http_airouter_stats_api_cost_of(&day,
                                                NGX_HTTP_AIROUTER_STATS_KEY,
                                                key->name);
        state = ngx_http_airouter_stats_api_budget_state(spent,
                                                         key->daily_budget,
                                                         threshold);

        if (ngx_strcmp(state, "alert") == 0
            || ngx_strcmp(state, "exceeded") == 0)
        {
            ngx_http_airouter_stats_api_alert(alerts, "budget",
                state[0] == 'e' ? "critical" : "warning",
                json_pack("{s:s, s:s, s:o, s:o}", "scope", "key",
                          "key", key->name,
                          "spent", ngx_http_airouter_stats_api_money(spent),
                          "budget",
                          ngx_http_airouter_stats_api_money(key->daily_budget)),
                "API key \"%s\" spent %.6f USD today, %s its budget of "
                "%.6f USD", key->name, spent,
                state[0] == 'e' ? "over" : "near", key->daily_budget);
        }
    }

    /* refused requests today */
    if (total->unauthorized) {
        ngx_http_airouter_stats_api_alert(alerts, "invalid_key", "warning",
            json_pack("{s:I}", "count", (json_int_t) total->unauthorized),
            "%uL request(s) with a missing or invalid token today",
            total->unauthorized);
    }

    s = day.elts;

    for (i = 0; i < day.nelts; i++) {
        if (s[i].kind == NGX_HTTP_AIROUTER_STATS_KEY && s[i].c.throttled) {
            ngx_http_airouter_stats_api_alert(alerts, "quota_exhausted",
                "warning",
                json_pack("{s:s, s:I}", "key", (char *) s[i].name.data,
                          "count", (json_int_t) s[i].c.throttled),
                "API key \"%V\" was refused %uL request(s) today over its "
                "budget or rate", &s[i].name, s[i].c.throttled);
        }
    }

    if (total->throttled && acf->cost.global_daily_budget > 0
        && total->cost >= acf->cost.global_daily_budget
        && acf->cost.auto_disable_on_budget_exceeded)
    {
        ngx_http_airouter_stats_api_alert(alerts, "quota_exhausted", "critical",
            json_pack("{s:s, s:I}", "scope", "global",
                      "count", (json_int_t) total->throttled),
            "The global daily budget is used up: requests are refused");
    }

    /* channels: daily limits, blocks, error rates */
    for (i = 0; i < acf->nchannels; i++) {
        id = acf->channels[i].id;

        ngx_http_airouter_stats_quota(amcf, i, &quota);

        if (quota.requests_left == 0) {
            ngx_http_airouter_stats_api_alert(alerts, "daily_limit",
                "warning",
                json_pack("{s:s, s:I, s:I}", "channel", id,
                          "requests", (json_int_t) quota.requests,
                          "daily_limit",
                          (json_int_t) acf->channels[i].daily_limit),
                "Channel \"%s\" used its daily limit of %l requests",
                id, acf->channels[i].daily_limit);
        }

        if (quota.tokens_left == 0) {
            ngx_http_airouter_stats_api_alert(alerts, "daily_token_limit",
                "warning",
                json_pack("{s:s, s:I, s:I}", "channel", id,
                          "tokens", (json_int_t) quota.tokens,
                          "daily_token_limit",
                          (json_int_t) acf->channels[i].daily_token_limit),
                "Channel \"%s\" used its daily limit of %l tokens",
                id, acf->channels[i].daily_token_limit);
        }

        ngx_http_airouter_stats_api_balance_alert(alerts, amcf, i);

        if (ngx_http_airouter_live_info(amcf, i, NULL, &info) != NGX_OK) {
            continue;
        }

        if (info.until > now) {
            ngx_http_airouter_stats_api_alert(alerts, "channel_blocked",
                "warning",
                json_pack("{s:s, s:s, s:I}", "channel", id,
                          "fault", airouter_fault_name(info.fault),
                          "seconds_left", (json_int_t) (info.until - now)),
                "Channel \"%s\" is blacklisted for %T s (%s)", id,
                info.until - now, airouter_fault_name(info.fault));
        }

        n = info.ok + info.errors;

        if (n >= NGX_HTTP_AIROUTER_STATS_ERR_MIN) {
            rate = (double) info.errors / n;

            if (rate >= NGX_HTTP_AIROUTER_STATS_ERR_RATE) {
                ngx_http_airouter_stats_api_alert(alerts, "error_rate",
                    rate >= 0.9 ? "critical" : "warning",
                    json_pack("{s:s, s:I, s:I, s:f}", "channel", id,
                              "requests", (json_int_t) n,
                              "errors", (json_int_t) info.errors,
                              "error_rate", floor(rate * 1e4 + 0.5) / 1e4),
                    "Channel \"%s\" failed %ui of its last %ui requests",
                    id, info.errors, n);
            }
        }
    }

    return ngx_http_airouter_send_json(r, NGX_HTTP_OK,
               json_pack("{s:o, s:I}", "alerts", alerts,
                         "count", (json_int_t) json_array_size(alerts)));
}


static ngx_int_t
ngx_http_airouter_stats_api_channels(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf)
{
    json_t                         *arr, *o;
    time_t                          now;
    uint64_t                        used;
    ngx_uint_t                      i, off, exhausted, blocked;
    airouter_config_t              *acf;
    airouter_channel_t             *ch;
    ngx_http_airouter_live_info_t   info;
    ngx_http_airouter_stats_quota_t  quota;

    acf = amcf->config;
    now = ngx_time();
    arr = json_array();

    for (i = 0; i < acf->nchannels; i++) {
        ch = &acf->channels[i];
        ngx_http_airouter_stats_quota(amcf, i, &quota);
        used = quota.requests;
        off = ngx_http_airouter_switch_channel_off(amcf, ch->id);
        exhausted = quota.spent;

        if (ngx_http_airouter_live_info(amcf, i, NULL, &info) != NGX_OK) {
            ngx_memzero(&info, sizeof(ngx_http_airouter_live_info_t));
        }

        blocked = info.until > now;

        o = json_pack("{s:s, s:b, s:b, s:b, s:I, s:b, s:b}",
                      "id", ch->id,
                      "enabled", ch->enabled ? 1 : 0,
                      "admin_disabled", off ? 1 : 0,
                      "available",
                      (ch->enabled && !off && !exhausted && !blocked
                       && ngx_http_airouter_live_reachable(amcf, i)) ? 1 : 0,
                      "requests_today", (json_int_t) used,
                      "daily_limit_reached", exhausted ? 1 : 0,
                      "blacklisted", blocked ? 1 : 0);
        if (o == NULL) {
            json_decref(arr);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ch->disabled_reason) {
            json_object_set_new(o, "disabled_reason",
                                json_string(ch->disabled_reason));
        }

        json_object_set_new(o, "daily_limit", ch->daily_limit > 0
                                ? json_integer(ch->daily_limit)
                                : json_null());
        json_object_set_new(o, "tokens_today",
                            json_integer((json_int_t) quota.tokens));
        json_object_set_new(o, "daily_token_limit",
                            ch->daily_token_limit > 0
                            ? json_integer(ch->daily_token_limit)
                            : json_null());

        if (blocked) {
            json_object_set_new(o, "blacklisted_for",
                                json_integer(info.until - now));
            json_object_set_new(o, "fault",
                                json_string(airouter_fault_name(info.fault)));
        }

        json_object_set_new(o, "ok_5m", json_integer(info.ok));
        json_object_set_new(o, "errors_5m", json_integer(info.errors));
        json_object_set_new(o, "inflight", json_integer(info.inflight));

        json_array_append_new(arr, o);
    }

    return ngx_http_airouter_send_json(r, NGX_HTTP_OK,
                                       json_pack("{s:o}", "channels", arr));
}


/*
 * A checked channel's balance: none left is critical (its paid models are
 * out of routing, unless hold: false), below its low_threshold a warning.
 */
static void
ngx_http_airouter_stats_api_balance_alert(json_t *alerts,
    ngx_http_airouter_main_conf_t *amcf, ngx_uint_t channel)
{
    const char                        *id;
    airouter_channel_t                *ch;
    ngx_http_airouter_balance_info_t   info;

    if (ngx_http_airouter_balance_info(amcf, channel, &info) != NGX_OK) {
        return;
    }

    ch = &amcf->config->channels[channel];
    id = ch->id;

    if (info.held || (info.known && info.amount <= 0)) {
        ngx_http_airouter_stats_api_alert(alerts, "balance_spent", "critical",
            info.known
            ? json_pack("{s:s, s:f, s:s, s:b}", "channel", id,
                        "balance", info.amount,
                        "currency", (char *) info.currency,
                        "held", info.held ? 1 : 0)
            : json_pack("{s:s, s:b}", "channel", id, "held", 1),
            "Channel \"%s\" has no money left%s%s: %s", id,
            info.marked ? ", its answer said " : "",
            info.marked ? info.mark_fault : "",
            info.held ? "its paid models are out of routing until a "
                        "balance check finds some"
                      : "it stays in routing (hold: false)");

    } else if (info.low) {
        ngx_http_airouter_stats_api_alert(alerts, "low_balance", "warning",
            json_pack("{s:s, s:f, s:s, s:f}", "channel", id,
                      "balance", info.amount,
                      "currency", (char *) info.currency,
                      "low_threshold", ch->balance.low_threshold),
            "Channel \"%s\" has %.2f %s left, below its low_threshold of "
            "%.2f", id, info.amount, info.currency,
            ch->balance.low_threshold);
    }
}
