/*
 * The request history in the shared zone: per-minute and per-second sums,
 * per-channel totals since the zone was made and the duration and TTFB
 * histograms.  What each part is: ngx_http_airouter_history.h.
 *
 * Called by the request log's log phase (add), the module (directive,
 * part table), the admin URL table (GET /v1/admin/history), /metrics and
 * the events stream.
 */

#include "ngx_http_airouter_history.h"
#include "ngx_http_airouter_response.h"


#define NGX_HTTP_AIROUTER_HISTORY_NAME      NGX_HTTP_AIROUTER_REQLOG_NAME
#define NGX_HTTP_AIROUTER_HISTORY_LAT       24


/* The process' configuration: the histograms' upper bounds. */
typedef struct {
    ngx_uint_t                   nbuckets;
    ngx_msec_t                   bound[NGX_HTTP_AIROUTER_HISTORY_BUCKETS];
    ngx_str_t                    label[NGX_HTTP_AIROUTER_HISTORY_BUCKETS];
} ngx_http_airouter_history_conf_t;


/* A minute: its sums and its durations in fixed buckets (for p50, p95). */
typedef struct {
    ngx_http_airouter_history_sums_t  sums;
    uint32_t                     lat[NGX_HTTP_AIROUTER_HISTORY_LAT];
} ngx_http_airouter_history_minute_t;


/* One channel's totals and histograms (bucket nbuckets: +Inf). */
typedef struct {
    u_char                       id[NGX_HTTP_AIROUTER_HISTORY_NAME];
    uint64_t                     requests;
    uint64_t                     errors;
    uint64_t                     prompt_tokens;
    uint64_t                     completion_tokens;
    double                       cost;
    uint64_t                     duration[NGX_HTTP_AIROUTER_HISTORY_BUCKETS
                                          + 1];
    double                       duration_sum;     /* seconds */
    uint64_t                     ttfb[NGX_HTTP_AIROUTER_HISTORY_BUCKETS + 1];
    double                       ttfb_sum;
    uint64_t                     ttfb_count;
} ngx_http_airouter_history_slot_t;


/*
 * The zone's part.  Slot 0 is "" (no channel answered); the others are
 * channels in the order they were first configured.  A reload that needs
 * more slots, or other buckets, makes a new part and copies what still
 * fits; the old part stays as retired until the next such reload.
 */
typedef struct {
    ngx_http_airouter_history_minute_t  minutes[
                                          NGX_HTTP_AIROUTER_HISTORY_MINUTES];
    ngx_http_airouter_history_sums_t    seconds[
                                          NGX_HTTP_AIROUTER_HISTORY_SECONDS];
    ngx_uint_t                   nbuckets;
    ngx_msec_t                   bound[NGX_HTTP_AIROUTER_HISTORY_BUCKETS];
    ngx_uint_t                   nslots;
    ngx_uint_t                   capacity;
    void                        *retired;
    ngx_http_airouter_history_slot_t  slots[1];
} ngx_http_airouter_history_sh_t;


static ngx_int_t ngx_http_airouter_history_parse_bound(ngx_str_t *v,
    ngx_msec_t *ms);
static ngx_uint_t ngx_http_airouter_history_find(
    ngx_http_airouter_history_sh_t *sh, const u_char *id);
static ngx_uint_t ngx_http_airouter_history_same_buckets(
    ngx_http_airouter_history_sh_t *sh,
    ngx_http_airouter_history_conf_t *hc);
static void ngx_http_airouter_history_observe(uint64_t *counts,
    ngx_uint_t nbuckets, const ngx_msec_t *bound, ngx_msec_t ms);
static void ngx_http_airouter_history_sums_add(
    ngx_http_airouter_history_sums_t *s,
    const ngx_http_airouter_reqlog_entry_t *e, ngx_uint_t error);
static json_t *ngx_http_airouter_history_percentile(const uint32_t *lat,
    uint64_t n, double q);
static u_char *ngx_http_airouter_history_label(u_char *p, const u_char *v);
static u_char *ngx_http_airouter_history_labels(u_char *p, u_char *end,
    const char *name, const char *suffix, const u_char *id,
    const char *extra, ngx_str_t *value);


/* the default buckets, seconds */
static const char  *ngx_http_airouter_history_default[] = {
    "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60", "120",
    NULL
};


/* the per-minute latency buckets' upper bounds, ms (the last: beyond) */
static const ngx_msec_t  ngx_http_airouter_history_lat[] = {
    10, 25, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000,
    5000, 7500, 10000, 15000, 20000, 30000, 60000, 120000, 300000
};


char *
ngx_http_airouter_history_buckets(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_airouter_main_conf_t *amcf = conf;

    ngx_str_t                         *value;
    ngx_uint_t                         i;
    ngx_http_airouter_history_conf_t  *hc;

    if (amcf->history) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts - 1 > NGX_HTTP_AIROUTER_HISTORY_BUCKETS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "too many histogram buckets: at most %d",
                           NGX_HTTP_AIROUTER_HISTORY_BUCKETS);
        return NGX_CONF_ERROR;
    }

    hc = ngx_pcalloc(cf->pool, sizeof(ngx_http_airouter_history_conf_t));
    if (hc == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        if (ngx_http_airouter_history_parse_bound(&value[i],
                                                  &hc->bound[i - 1])
            != NGX_OK)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid histogram bucket \"%V\": seconds "
                               "above 0, at most 3 decimals", &value[i]);
            return NGX_CONF_ERROR;
        }

        if (i > 1 && hc->bound[i - 1] <= hc->bound[i - 2]) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "histogram bucket \"%V\" is not above \"%V\": "
                               "buckets go in increasing order", &value[i],
                               &value[i - 1]);
            return NGX_CONF_ERROR;
        }

        hc->label[i - 1] = value[i];
    }

    hc->nbuckets = cf->args->nelts - 1;
    amcf->history = hc;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_airouter_history_parse_bound(ngx_str_t *v, ngx_msec_t *ms)
{
    ngx_int_t  n;

    if (v->len == 0 || v->len > 12) {
        return NGX_ERROR;
    }

    n = ngx_atofp(v->data, v->len, 3);
    if (n == NGX_ERROR || n == 0) {
        return NGX_ERROR;
    }

    *ms = (ngx_msec_t) n;

    return NGX_OK;
}


ngx_int_t
ngx_http_airouter_history_init_conf(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf)
{
    ngx_uint_t                         i;
    ngx_http_airouter_history_conf_t  *hc;

    if (amcf->history) {
        return NGX_OK;
    }

    hc = ngx_pcalloc(cf->pool, sizeof(ngx_http_airouter_history_conf_t));
    if (hc == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; ngx_http_airouter_history_default[i]; i++) {
        hc->label[i].data = (u_char *) ngx_http_airouter_history_default[i];
        hc->label[i].len = ngx_strlen(hc->label[i].data);

        if (ngx_http_airouter_history_parse_bound(&hc->label[i],
                                                  &hc->bound[i])
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    hc->nbuckets = i;
    amcf->history = hc;

    return NGX_OK;
}


ngx_int_t
ngx_http_airouter_history_init_zone(ngx_http_airouter_zone_t *zone)
{
    size_t                              len;
    ngx_uint_t                          i, k, need, capacity, same;
    airouter_config_t                  *acf;
    ngx_http_airouter_history_sh_t     *old, *sh;
    ngx_http_airouter_history_conf_t   *hc;
    ngx_http_airouter_history_slot_t   *slot;
    u_char                              id[NGX_HTTP_AIROUTER_HISTORY_NAME];

    old = zone->sh->history;
    hc = zone->amcf->history;
    acf = zone->amcf->config;

    /* the slots this configuration's channels need beyond what is there */
    need = 0;

    for (i = 0; i < acf->nchannels; i++) {
        ngx_http_airouter_history_copy(id, sizeof(id),
                                       (u_char *) acf->channels[i].id,
                                       ngx_strlen(acf->channels[i].id));
        if (old == NULL || ngx_http_airouter_history_find(old, id) == 0) {
            need++;
        }
    }

    same = old && ngx_http_airouter_history_same_buckets(old, hc);

    if (old && same && old->nslots + need <= old->capacity) {

        /* a reload: new channels get their slots, the rest is kept */
        ngx_shmtx_lock(&zone->shpool->mutex);

        for (i = 0; i < acf->nchannels; i++) {
            ngx_http_airouter_history_copy(id, sizeof(id),
                                           (u_char *) acf->channels[i].id,
                                           ngx_strlen(acf->channels[i].id));
            if (ngx_http_airouter_history_find(old, id) == 0) {
                slot = &old->slots[old->nslots];
                ngx_memcpy(slot->id, id, sizeof(id));
                old->nslots++;
            }
        }

        ngx_shmtx_unlock(&zone->shpool->mutex);

        return NGX_OK;
    }

    capacity = ngx_max(64, 2 * ((old ? old->nslots : 1) + need));
    len = offsetof(ngx_http_airouter_history_sh_t, slots)
          + capacity * sizeof(ngx_http_airouter_history_slot_t);

    sh = ngx_slab_alloc(zone->shpool, len);
    if (sh == NULL) {
        ngx_log_error(NGX_LOG_EMERG, ngx_cycle->log, 0,
                      "airouter: zone \"%V\" is too small for the request "
                      "history of %ui channels (%uz bytes): raise the size "
                      "in \"airouter_zone\"", &zone->amcf->zone_name,
                      capacity, len);
        return NGX_ERROR;
    }

    ngx_memzero(sh, len);
    sh->capacity = capacity;
    sh->nbuckets = hc->nbuckets;
    ngx_memcpy(sh->bound, hc->bound, sizeof(sh->bound));
    sh->nslots = 1;                 /* slot 0: "" */

    if (old) {
        ngx_shmtx_lock(&zone->shpool->mutex);

        ngx_memcpy(sh->minutes, old->minutes, sizeof(sh->minutes));
        ngx_memcpy(sh->seconds, old->seconds, sizeof(sh->seconds));

        for (k = 0; k < old->nslots; k++) {
            sh->slots[k] = old->slots[k];

            if (!same) {
                /* other buckets: the histograms start again */
                slot = &sh->slots[k];
                ngx_memzero(slot->duration, sizeof(slot->duration));
                ngx_memzero(slot->ttfb, sizeof(slot->ttfb));
                slot->duration_sum = 0;
                slot->ttfb_sum = 0;
                slot->ttfb_count = 0;
            }
        }

        sh->nslots = old->nslots;

        ngx_shmtx_unlock(&zone->shpool->mutex);

        if (!same) {
            ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                          "airouter: histogram buckets changed: the "
                          "duration and TTFB histograms start again");
        }
    }

    for (i = 0; i < acf->nchannels; i++) {
        ngx_http_airouter_history_copy(id, sizeof(id),
                                       (u_char *) acf->channels[i].id,
                                       ngx_strlen(acf->channels[i].id));
        if (ngx_http_airouter_history_find(sh, id) == 0) {
            ngx_memcpy(sh->slots[sh->nslots++].id, id, sizeof(id));
        }
    }

    if (old) {
        if (old->retired) {
            ngx_slab_free(zone->shpool, old->retired);
        }

        sh->retired = old;
    }

    zone->sh->history = sh;

    return NGX_OK;
}


/* id's slot, 0 (the "" slot) when it has none */
static ngx_uint_t
ngx_http_airouter_history_find(ngx_http_airouter_history_sh_t *sh,
    const u_char *id)
{
    ngx_uint_t  k;

    if (*id == '\0') {
        return 0;
    }

    for (k = 1; k < sh->nslots; k++) {
        if (ngx_strcmp(sh->slots[k].id, id) == 0) {
            return k;
        }
    }

    return 0;
}


static ngx_uint_t
ngx_http_airouter_history_same_buckets(ngx_http_airouter_history_sh_t *sh,
    ngx_http_airouter_history_conf_t *hc)
{
    return sh->nbuckets == hc->nbuckets
           && ngx_memcmp(sh->bound, hc->bound,
                         hc->nbuckets * sizeof(ngx_msec_t)) == 0;
}


/* At most size - 1 bytes, NUL-terminated, printable ASCII only. */
void
ngx_http_airouter_history_copy(u_char *dst, size_t size, const u_char *src,
    size_t len)
{
    size_t  i;

    if (src == NULL) {
        len = 0;
    }

    len = ngx_min(len, size - 1);

    for (i = 0; i < len; i++) {
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
    }

    dst[len] = '\0';
}


/*
 * One logged request, under the zone's mutex.  Requests refused before
 * routing (a budget, a key's rate) are in the minutes and seconds as
 * errors, as an operator watching the charts wants to see them; the
 * totals and histograms count what the daily counters count (routed
 * requests) and leave them out.
 */
void
ngx_http_airouter_history_add_locked(ngx_http_airouter_zone_t *zone,
    const ngx_http_airouter_reqlog_entry_t *e, ngx_uint_t refused)
{
    int64_t                              now, minute;
    ngx_uint_t                           i, error;
    ngx_http_airouter_history_sh_t      *sh;
    ngx_http_airouter_history_slot_t    *slot;
    ngx_http_airouter_history_sums_t    *s;
    ngx_http_airouter_history_minute_t  *m;

    sh = zone->sh->history;
    if (sh == NULL) {
        return;
    }

    error = refused || e->status >= 400
            || ngx_strcmp(e->outcome, "ok") != 0;

    now = ngx_time();
    minute = now - now % 60;

    m = &sh->minutes[(now / 60) % NGX_HTTP_AIROUTER_HISTORY_MINUTES];

    if (m->sums.start != minute) {
        ngx_memzero(m, sizeof(ngx_http_airouter_history_minute_t));
        m->sums.start = minute;
    }

    ngx_http_airouter_history_sums_add(&m->sums, e, error);

    for (i = 0; i < NGX_HTTP_AIROUTER_HISTORY_LAT - 1; i++) {
        if ((ngx_msec_t) e->duration <= ngx_http_airouter_history_lat[i]) {
            break;
        }
    }

    m->lat[i]++;

    s = &sh->seconds[now % NGX_HTTP_AIROUTER_HISTORY_SECONDS];

    if (s->start != now) {
        ngx_memzero(s, sizeof(ngx_http_airouter_history_sums_t));
        s->start = now;
    }

    ngx_http_airouter_history_sums_add(s, e, error);

    if (!refused) {
        slot = &sh->slots[ngx_http_airouter_history_find(sh, e->channel)];

        slot->requests++;
        slot->errors += error;
        slot->prompt_tokens += e->prompt_tokens > 0 ? e->prompt_tokens : 0;
        slot->completion_tokens += e->completion_tokens > 0
                                   ? e->completion_tokens : 0;
        slot->cost += e->cost > 0 ? e->cost : 0;

        ngx_http_airouter_history_observe(slot->duration, sh->nbuckets,
                                          sh->bound, e->duration);
        slot->duration_sum += (double) e->duration / 1000;

        if (e->ttfb >= 0) {
            ngx_http_airouter_history_observe(slot->ttfb, sh->nbuckets,
                                              sh->bound, e->ttfb);
            slot->ttfb_sum += (double) e->ttfb / 1000;
            slot->ttfb_count++;
        }
    }
}


/* counts[i]: observations in (bound[i - 1], bound[i]]; not cumulative */
static void
ngx_http_airouter_history_observe(uint64_t *counts, ngx_uint_t nbuckets,
    const ngx_msec_t *bound, ngx_msec_t ms)
{
    ngx_uint_t  i;

    for (i = 0; i < nbuckets; i++) {
        if (ms <= bound[i]) {
            break;
        }
    }

    counts[i]++;
}


static void
ngx_http_airouter_history_sums_add(ngx_http_airouter_history_sums_t *s,
    const ngx_http_airouter_reqlog_entry_t *e, ngx_uint_t error)
{
    s->requests++;
    s->errors += error;
    s->prompt_tokens += e->prompt_tokens > 0 ? e->prompt_tokens : 0;
    s->completion_tokens += e->completion_tokens > 0
                            ? e->completion_tokens : 0;
    s->cost += e->cost > 0 ? e->cost : 0;
}


ngx_int_t
ngx_http_airouter_history_second(ngx_http_airouter_main_conf_t *amcf,
    time_t t, ngx_http_airouter_history_sums_t *s)
{
    time_t                           now;
    ngx_http_airouter_zone_t        *zone;
    ngx_http_airouter_history_sh_t  *sh;

    ngx_memzero(s, sizeof(ngx_http_airouter_history_sums_t));
    s->start = t;

    now = ngx_time();

    if (t > now || t <= now - NGX_HTTP_AIROUTER_HISTORY_SECONDS) {
        return NGX_DECLINED;
    }

    zone = ngx_http_airouter_zone_get(amcf);
    if (zone == NULL || zone->sh->history == NULL) {
        return NGX_OK;
    }

    sh = zone->sh->history;

    ngx_shmtx_lock(&zone->shpool->mutex);

    if (sh->seconds[t % NGX_HTTP_AIROUTER_HISTORY_SECONDS].start == t) {
        *s = sh->seconds[t % NGX_HTTP_AIROUTER_HISTORY_SECONDS];
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return NGX_OK;
}


ngx_int_t
ngx_http_airouter_history_api(ngx_http_request_t *r, ngx_str_t *path)
{
    u_char                              buf[32], *p;
    int64_t                             now, start;
    uint64_t                            n;
    json_t                             *root, *list, *o;
    ngx_tm_t                            tm;
    ngx_uint_t                          i, k;
    ngx_http_airouter_zone_t           *zone;
    ngx_http_airouter_main_conf_t      *amcf;
    ngx_http_airouter_history_minute_t  *m, minutes[
                                          NGX_HTTP_AIROUTER_HISTORY_MINUTES];

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airouter_module);
    zone = ngx_http_airouter_zone_get(amcf);

    now = ngx_time();
    start = now - now % 60 - 60 * (NGX_HTTP_AIROUTER_HISTORY_MINUTES - 1);

    ngx_memzero(minutes, sizeof(minutes));

    if (zone && zone->sh->history) {
        ngx_shmtx_lock(&zone->shpool->mutex);
        ngx_memcpy(minutes, ((ngx_http_airouter_history_sh_t *)
                             zone->sh->history)->minutes, sizeof(minutes));
        ngx_shmtx_unlock(&zone->shpool->mutex);
    }

    root = json_object();
    list = json_array();

    if (root == NULL || list == NULL
        || json_object_set_new(root, "minutes", list) != 0)
    {
        json_decref(root);
        json_decref(list);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json_object_set_new(root, "interval", json_integer(60));

    /* oldest first; the last is the minute now running */
    for (i = 0; i < NGX_HTTP_AIROUTER_HISTORY_MINUTES; i++) {
        k = ((start / 60) + i) % NGX_HTTP_AIROUTER_HISTORY_MINUTES;
        m = &minutes[k];

        if (m->sums.start != start + 60 * (int64_t) i) {
            ngx_memzero(m, sizeof(ngx_http_airouter_history_minute_t));
        }

        o = json_object();
        if (o == NULL || json_array_append_new(list, o) != 0) {
            json_decref(root);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_gmtime((time_t) (start + 60 * i), &tm);
        p = ngx_sprintf(buf, "%4d-%02d-%02dT%02d:%02d:00Z",
                        tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                        tm.ngx_tm_hour, tm.ngx_tm_min);

        n = m->sums.requests;

        json_object_set_new(o, "time", json_stringn((char *) buf, p - buf));
        json_object_set_new(o, "start",
                            json_integer(start + 60 * (json_int_t) i));
        json_object_set_new(o, "requests", json_integer(n));
        json_object_set_new(o, "errors", json_integer(m->sums.errors));
        json_object_set_new(o, "prompt_tokens",
                            json_integer(m->sums.prompt_tokens));
        json_object_set_new(o, "completion_tokens",
                            json_integer(m->sums.completion_tokens));
        json_object_set_new(o, "cost", json_real(m->sums.cost));
        json_object_set_new(o, "p50_ms",
            ngx_http_airouter_history_percentile(m->lat, n, 0.5));
        json_object_set_new(o, "p95_ms",
            ngx_http_airouter_history_percentile(m->lat, n, 0.95));
    }

    return ngx_http_airouter_send_json(r, NGX_HTTP_OK, root);
}


/*
 * The q-quantile of a minute's durations: the bucket it falls in, and a
 * straight line inside it (the last bucket, open, gives its lower bound).
 */
static json_t *
ngx_http_airouter_history_percentile(const uint32_t *lat, uint64_t n,
    double q)
{
    double      rank, below, lo, hi;
    ngx_uint_t  i;

    if (n == 0) {
        return json_null();
    }

    rank = q * n;
    below = 0;

    for (i = 0; i < NGX_HTTP_AIROUTER_HISTORY_LAT; i++) {
        if (lat[i] && below + lat[i] >= rank) {
            break;
        }

        below += lat[i];
    }

    if (i == NGX_HTTP_AIROUTER_HISTORY_LAT) {
        i--;
    }

    lo = i ? ngx_http_airouter_history_lat[i - 1] : 0;

    if (i == NGX_HTTP_AIROUTER_HISTORY_LAT - 1) {
        return json_integer((json_int_t) lo);
    }

    hi = ngx_http_airouter_history_lat[i];

    return json_integer((json_int_t) (lo + (hi - lo) * (rank - below)
                                                 / lat[i] + 0.5));
}


ngx_int_t
ngx_http_airouter_history_metrics(ngx_http_request_t *r,
    ngx_http_airouter_main_conf_t *amcf, ngx_str_t *out)
{
    u_char                             *p, *end;
    size_t                              len;
    uint64_t                            cum;
    ngx_str_t                           type;
    ngx_uint_t                          k, i, f, nslots, nb;
    ngx_http_airouter_zone_t           *zone;
    ngx_http_airouter_history_sh_t     *sh;
    ngx_http_airouter_history_conf_t   *hc;
    ngx_http_airouter_history_slot_t   *slots, *s;

    static ngx_str_t    inf = ngx_string("+Inf");
    static const char  *hist[] = {
        "airouter_request_duration_seconds",
        "Time from a request's start to its last byte, per channel that "
            "answered (no channel label: none did), since the zone was "
            "created.",
        "airouter_ttfb_seconds",
        "Time from a request's start to the head of its answer, per "
            "channel that answered, since the zone was created."
    };

    ngx_str_null(out);

    zone = ngx_http_airouter_zone_get(amcf);
    hc = amcf->history;

    if (zone == NULL || zone->sh->history == NULL || hc == NULL) {
        return NGX_OK;
    }

    sh = zone->sh->history;

    ngx_shmtx_lock(&zone->shpool->mutex);

    nslots = sh->nslots;
    nb = sh->nbuckets;

    /* old workers after a reload with other buckets: nothing to label */
    if (nb != hc->nbuckets) {
        ngx_shmtx_unlock(&zone->shpool->mutex);
        return NGX_OK;
    }

    slots = ngx_palloc(r->pool,
                       nslots * sizeof(ngx_http_airouter_history_slot_t));
    if (slots == NULL) {
        ngx_shmtx_unlock(&zone->shpool->mutex);
        return NGX_ERROR;
    }

    ngx_memcpy(slots, sh->slots,
               nslots * sizeof(ngx_http_airouter_history_slot_t));

    ngx_shmtx_unlock(&zone->shpool->mutex);

    /* a line: name, labels (the id escaped: at most twice its size), value */
    len = 4096 + nslots * ((nb + 4) * 2 + 8)
                 * (64 + 2 * NGX_HTTP_AIROUTER_HISTORY_NAME + 40);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;
    end = p + len;

    for (f = 0; f < 2; f++) {
        p = ngx_slprintf(p, end, "# HELP %s %s\n# TYPE %s histogram\n",
                         hist[2 * f], hist[2 * f + 1], hist[2 * f]);

        for (k = 0; k < nslots; k++) {
            s = &slots[k];

            if (k == 0 && s->requests == 0) {
                continue;
            }

            cum = 0;

            for (i = 0; i <= nb; i++) {
                cum += f ? s->ttfb[i] : s->duration[i];

                p = ngx_http_airouter_history_labels(p, end, hist[2 * f],
                        "_bucket", s->id, "le",
                        i < nb ? &hc->label[i] : &inf);
                p = ngx_slprintf(p, end, " %uL\n", cum);
            }

            p = ngx_http_airouter_history_labels(p, end, hist[2 * f], "_sum",
                                                 s->id, NULL, NULL);
            p = ngx_slprintf(p, end, " %.6f\n",
                             f ? s->ttfb_sum : s->duration_sum);

            p = ngx_http_airouter_history_labels(p, end, hist[2 * f],
                                                 "_count", s->id, NULL, NULL);
            p = ngx_slprintf(p, end, " %uL\n",
                             f ? s->ttfb_count : s->requests);
        }
    }

    /* the totals since the zone was created: one family per counter */
    for (f = 0; f < 5; f++) {
        static const char  *tot[] = {
            "airouter_zone_requests_total",
            "Routed requests since the zone was created (never reset), "
                "per channel that answered.",
            "airouter_zone_errors_total",
            "Routed requests that ended in an error since the zone was "
                "created, per channel that answered.",
            "airouter_zone_tokens_total",
            "Tokens used since the zone was created, per channel and type "
                "(prompt, completion).",
            "airouter_zone_tokens_total", NULL,
            "airouter_zone_cost_usd_total",
            "What requests cost since the zone was created, in USD, per "
                "channel."
        };

        if (tot[2 * f + 1]) {
            p = ngx_slprintf(p, end, "# HELP %s %s\n# TYPE %s counter\n",
                             tot[2 * f], tot[2 * f + 1], tot[2 * f]);
        }

        for (k = 0; k < nslots; k++) {
            s = &slots[k];

            if (k == 0 && s->requests == 0) {
                continue;
            }

            if (f == 2) {
                ngx_str_set(&type, "prompt");

            } else {
                ngx_str_set(&type, "completion");
            }

            p = ngx_http_airouter_history_labels(p, end, tot[2 * f], "",
                    s->id, (f == 2 || f == 3) ? "type" : NULL, &type);

            switch (f) {
            case 0:
                p = ngx_slprintf(p, end, " %uL\n", s->requests);
                break;
            case 1:
                p = ngx_slprintf(p, end, " %uL\n", s->errors);
                break;
            case 2:
                p = ngx_slprintf(p, end, " %uL\n", s->prompt_tokens);
                break;
            case 3:
                p = ngx_slprintf(p, end, " %uL\n", s->completion_tokens);
                break;
            default:
                p = ngx_slprintf(p, end, " %.8f\n", s->cost);
            }
        }
    }

    out->len = p - out->data;

    return NGX_OK;
}


/*
 * name+suffix and its labels: channel="id" and extra="value" (when extra
 * is given).  Slot 0, the requests no channel answered, has no channel
 * label: Prometheus reads an empty label as an absent one, and absent is
 * how the other families write "no channel" (airouter_requests_total);
 * a fixed word such as "none" could be a channel's id.
 */
static u_char *
ngx_http_airouter_history_labels(u_char *p, u_char *end, const char *name,
    const char *suffix, const u_char *id, const char *extra, ngx_str_t *value)
{
    ngx_uint_t  channel;

    channel = (*id != '\0');

    p = ngx_slprintf(p, end, "%s%s", name, suffix);

    if (!channel && extra == NULL) {
        return p;
    }

    p = ngx_slprintf(p, end, "{");

    if (channel) {
        p = ngx_slprintf(p, end, "channel=\"");
        p = ngx_http_airouter_history_label(p, id);
        p = ngx_slprintf(p, end, extra ? "\"," : "\"");
    }

    if (extra) {
        p = ngx_slprintf(p, end, "%s=\"%V\"", extra, value);
    }

    return ngx_slprintf(p, end, "}");
}


/* a label value: '\' and '"' escaped (ids are printable ASCII here) */
static u_char *
ngx_http_airouter_history_label(u_char *p, const u_char *v)
{
    for ( /* void */ ; *v; v++) {
        if (*v == '\\' || *v == '"') {
            *p++ = '\\';
        }

        *p++ = *v;
    }

    return p;
}
