/*
 * The request log ring (airouter_request_log) and GET /v1/admin/requests.
 * Layout, locking and what a record holds: ngx_http_airouter_reqlog.h.
 *
 * The log-phase handler builds one record per routed request from the
 * request context (ngx_http_airouter_request.h), the proxy's result and
 * nginx's upstream state (the time to the first byte), hands it to the
 * history (per-minute ring, histograms, totals since the zone was made)
 * and stores it in the ring; it counts the request's usage too
 * (ngx_http_airouter_stats.c), so that the log phase holds the zone's
 * lock once.  Called by the module (directive, part table,
 * postconfiguration) and by the admin URL table.
 */

#include "ngx_http_airouter_reqlog.h"
#include "ngx_http_airouter_request.h"
#include "ngx_http_airouter_dialect.h"
#include "ngx_http_airouter_response.h"
#include "ngx_http_airouter_history.h"
#include "ngx_http_airouter_stats.h"


/*
 * The ring: size records; the one with id n is at (n - 1) % size.  A
 * reload that asks for another size makes a new ring with the newest
 * records of the old one; the old ring stays as retired until the next
 * such reload, since the old workers still write into it.
 */
typedef struct {
    ngx_uint_t                   size;
    uint64_t                     last;         /* id of the newest record */
    void                        *retired;
    ngx_http_airouter_reqlog_entry_t  entries[1];
} ngx_http_airouter_reqlog_sh_t;


/* What GET /v1/admin/requests filters by. */
typedef struct {
    ngx_uint_t                   limit;
    uint64_t                     since;
    ngx_str_t                    channel;
    ngx_str_t                    key;
    ngx_str_t                    model;
    ngx_uint_t                   status;       /* exact, or 0 */
    ngx_uint_t                   status_class; /* 1..5, or 0 */
    ngx_uint_t                   errors;       /* status >= 400 */
    ngx_uint_t                   ok;           /* status < 400 */
} ngx_http_airouter_reqlog_filter_t;


static size_t ngx_http_airouter_reqlog_bytes(ngx_uint_t n);
static ngx_int_t ngx_http_airouter_reqlog_handler(ngx_http_request_t *r);
static void ngx_http_airouter_reqlog_fill(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, ngx_http_airouter_reqlog_entry_t *e);
static void ngx_http_airouter_reqlog_tried_text(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, ngx_http_airouter_result_t *res,
    ngx_http_airouter_reqlog_entry_t *e);
static u_char *ngx_http_airouter_reqlog_put(u_char *p, u_char *last,
    const u_char *s, size_t len);
static int32_t ngx_http_airouter_reqlog_ttfb(ngx_http_request_t *r,
    int32_t duration);
static ngx_int_t ngx_http_airouter_reqlog_parse(ngx_http_request_t *r,
    ngx_http_airouter_reqlog_filter_t *f, const char **code,
    const char **msg);
static ngx_uint_t ngx_http_airouter_reqlog_match(
    const ngx_http_airouter_reqlog_entry_t *e,
    const ngx_http_airouter_reqlog_filter_t *f);
static ngx_uint_t ngx_http_airouter_reqlog_eq(const u_char *field,
    ngx_str_t *want);
static json_t *ngx_http_airouter_reqlog_json(
    const ngx_http_airouter_reqlog_entry_t *e);
static json_t *ngx_http_airouter_reqlog_tried(const u_char *tried);
static json_t *ngx_http_airouter_reqlog_str(const u_char *s);


char *
ngx_http_airouter_reqlog_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_airouter_main_conf_t *amcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (amcf->request_log != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    n = ngx_atoi(value[1].data, value[1].len);

    if (n == NGX_ERROR || n > NGX_HTTP_AIROUTER_REQLOG_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid request log size \"%V\": a number of "
                           "requests from 0 (off) to %d", &value[1],
                           NGX_HTTP_AIROUTER_REQLOG_MAX);
        return NGX_CONF_ERROR;
    }

    amcf->request_log = n;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_airouter_reqlog_init_conf(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf)
{
    size_t  need;

    if (amcf->request_log == NGX_CONF_UNSET_UINT) {
        /* the default takes at most an eighth of a small zone */
        amcf->request_log = ngx_min(NGX_HTTP_AIROUTER_REQLOG_DEFAULT,
                                    amcf->zone_size / 8
                                    / sizeof(ngx_http_airouter_reqlog_entry_t));
    }

    need = amcf->request_log ? ngx_http_airouter_reqlog_bytes(
                                   amcf->request_log)
                             : 0;

    /* the catalogue, live state and counters need the rest */
    if (need > amcf->zone_size / 2) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "airouter: \"airouter_request_log %ui\" needs "
                           "%uz bytes, more than half of zone \"%V\" "
                           "(%uz bytes): raise the size in \"airouter_zone\" "
                           "or keep fewer requests", amcf->request_log, need,
                           &amcf->zone_name, amcf->zone_size);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static size_t
ngx_http_airouter_reqlog_bytes(ngx_uint_t n)
{
    return offsetof(ngx_http_airouter_reqlog_sh_t, entries)
           + n * sizeof(ngx_http_airouter_reqlog_entry_t);
}


ngx_int_t
ngx_http_airouter_reqlog_init_zone(ngx_http_airouter_zone_t *zone)
{
    size_t                          len;
    uint64_t                        id, first;
    ngx_uint_t                      n;
    ngx_http_airouter_reqlog_sh_t  *old, *sh;

    old = zone->sh->reqlog;
    n = zone->amcf->request_log;

    if (old && old->size == n) {
        return NGX_OK;              /* a reload: the requests are kept */
    }

    if (n == 0) {
        zone->sh->reqlog = NULL;
        return NGX_OK;
    }

    len = ngx_http_airouter_reqlog_bytes(n);

    sh = ngx_slab_alloc(zone->shpool, len);
    if (sh == NULL) {
        ngx_log_error(NGX_LOG_EMERG, ngx_cycle->log, 0,
                      "airouter: zone \"%V\" is too small for "
                      "\"airouter_request_log %ui\" (%uz bytes): raise the "
                      "size in \"airouter_zone\" or keep fewer requests",
                      &zone->amcf->zone_name, n, len);
        return NGX_ERROR;
    }

    ngx_memzero(sh, len);
    sh->size = n;

    if (old) {
        /* the newest records of the old ring, under their own ids */
        first = old->last > n ? old->last - n + 1 : 1;

        if (old->last > first + old->size - 1) {
            first = old->last - old->size + 1;
        }

        for (id = first; id && id <= old->last; id++) {
            sh->entries[(id - 1) % n] = old->entries[(id - 1) % old->size];
        }

        sh->last = old->last;

        if (old->retired) {
            ngx_slab_free(zone->shpool, old->retired);
        }

        sh->retired = old;
    }

    zone->sh->reqlog = sh;

    return NGX_OK;
}


ngx_int_t
ngx_http_airouter_reqlog_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_airouter_reqlog_handler;

    return NGX_OK;
}


/*
 * The log phase of an `airouter` location's request, the one handler of
 * airouter's there: the usage counters (ngx_http_airouter_stats.c), and
 * for a request that got as far as naming a model (refusals, 429,
 * included; /v1/route's explanations not) the history and a record in
 * the ring, all under one hold of the zone's mutex: each request takes
 * it once here, as the workers' requests meet on it.
 */
static ngx_int_t
ngx_http_airouter_reqlog_handler(ngx_http_request_t *r)
{
    ngx_uint_t                         counted, logged;
    ngx_http_airouter_ctx_t           *ctx;
    ngx_http_airouter_zone_t          *zone;
    ngx_http_airouter_loc_conf_t      *alcf;
    ngx_http_airouter_reqlog_sh_t     *sh;
    ngx_http_airouter_stats_log_t      sl;
    ngx_http_airouter_reqlog_entry_t   e;

    if (r != r->main) {
        return NGX_OK;
    }

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_airouter_module);
    if (alcf == NULL || alcf->role != NGX_HTTP_AIROUTER_ROLE_API) {
        return NGX_OK;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_airouter_module);
    if (ctx == NULL) {
        return NGX_OK;
    }

    zone = ngx_http_airouter_zone_get(ctx->amcf);
    if (zone == NULL) {
        return NGX_OK;
    }

    counted = (ngx_http_airouter_stats_log_start(ctx, &sl) == NGX_OK);

    /* a refusal of the access phase comes before the body (no model) */
    logged = !ctx->explain && !ctx->count
             && (ctx->requested.len || ctx->refused);

    if (logged) {
        ngx_http_airouter_reqlog_fill(r, ctx, &e);

    } else if (!counted) {
        return NGX_OK;
    }

    sh = zone->sh->reqlog;

    ngx_shmtx_lock(&zone->shpool->mutex);

    if (counted) {
        ngx_http_airouter_stats_log_locked(&sl);
    }

    if (logged) {
        ngx_http_airouter_history_add_locked(zone, &e, ctx->refused);

        if (sh) {
            e.id = ++sh->last;
            sh->entries[(e.id - 1) % sh->size] = e;
        }
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    if (counted) {
        ngx_http_airouter_stats_log_done(r, &sl);
    }

    if (logged && sh) {
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "airouter request log: #%uL status %ui outcome %s",
                       e.id, (ngx_uint_t) e.status, e.outcome);
    }

    return NGX_OK;
}


static void
ngx_http_airouter_reqlog_fill(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, ngx_http_airouter_reqlog_entry_t *e)
{
    int64_t                        now;
    const char                    *s;
    ngx_time_t                    *tp;
    ngx_http_airouter_result_t    *res;
    ngx_http_airouter_dialect_t   *d;

    ngx_memzero(e, sizeof(ngx_http_airouter_reqlog_entry_t));

    tp = ngx_timeofday();
    now = (int64_t) tp->sec * 1000 + tp->msec;

    e->time = (int64_t) r->start_sec * 1000 + r->start_msec;
    e->duration = now > e->time ? (int32_t) ngx_min(now - e->time,
                                                    NGX_MAX_INT32_VALUE)
                                : 0;
    e->ttfb = ngx_http_airouter_reqlog_ttfb(r, e->duration);
    e->status = (uint16_t) r->headers_out.status;
    e->stream = ctx->stream;
    e->prompt_tokens = ctx->prompt_tokens;
    e->completion_tokens = ctx->completion_tokens;
    e->cost = ctx->cost;

    if (ctx->key) {
        s = ctx->key->name;
        ngx_http_airouter_history_copy(e->key, sizeof(e->key),
                                      (u_char *) s, ngx_strlen(s));
    }

    ngx_http_airouter_history_copy(e->requested, sizeof(e->requested),
                                  ctx->requested.data, ctx->requested.len);

    d = ctx->dialect;
    s = airouter_dialect_name(d ? d->client : AIROUTER_DIALECT_OPENAI);
    ngx_http_airouter_history_copy(e->dialect, sizeof(e->dialect),
                                  (u_char *) s, ngx_strlen(s));

    /* the proxy's result, written into the context by the proxy */
    res = &ctx->result;

    if (res->proxied) {
        e->attempts = (uint16_t) ngx_min(ctx->attempts, 65535);
        ngx_http_airouter_history_copy(e->channel, sizeof(e->channel),
                                      res->channel.data, res->channel.len);
        ngx_http_airouter_history_copy(e->model, sizeof(e->model),
                                      res->model.data, res->model.len);
        ngx_http_airouter_history_copy(e->outcome, sizeof(e->outcome),
                                      res->status.data, res->status.len);
        ngx_http_airouter_reqlog_tried_text(r, ctx, res, e);
        return;
    }

    /* never proxied: refused by a budget or a rate, or nothing to try */
    s = ctx->refused ? "throttled"
        : (e->status == NGX_HTTP_OK ? "ok" : "not_routed");
    ngx_http_airouter_history_copy(e->outcome, sizeof(e->outcome),
                                  (u_char *) s, ngx_strlen(s));
}


/*
 * The attempts as the proxy lists them for X-Router-Fallbacks (those that
 * failed before the answer, or all of them when none answered), then the
 * one that answered: "a:server_error 500, b:ok 200".
 */
static void
ngx_http_airouter_reqlog_tried_text(ngx_http_request_t *r,
    ngx_http_airouter_ctx_t *ctx, ngx_http_airouter_result_t *res,
    ngx_http_airouter_reqlog_entry_t *e)
{
    u_char      *p, *last, *d, buf[NGX_HTTP_AIROUTER_REQLOG_TRIED];
    u_char       digits[NGX_INT_T_LEN];
    ngx_uint_t   n;

    /* the text ngx_slprintf("%V%s%V:%V %ui") wrote, without parsing a
     * format on every request */
    last = buf + sizeof(buf);
    p = ngx_http_airouter_reqlog_put(buf, last, ctx->fallbacks.data,
                                     ctx->fallbacks.len);

    if (res->channel.len) {
        if (ctx->fallbacks.len) {
            p = ngx_http_airouter_reqlog_put(p, last, (u_char *) ", ", 2);
        }

        p = ngx_http_airouter_reqlog_put(p, last, res->channel.data,
                                         res->channel.len);
        p = ngx_http_airouter_reqlog_put(p, last, (u_char *) ":", 1);
        p = ngx_http_airouter_reqlog_put(p, last, res->status.data,
                                         res->status.len);
        p = ngx_http_airouter_reqlog_put(p, last, (u_char *) " ", 1);

        d = digits + sizeof(digits);
        n = ctx->upstream_status;

        do {
            *--d = (u_char) ('0' + n % 10);
            n /= 10;
        } while (n);

        p = ngx_http_airouter_reqlog_put(p, last, d,
                                         digits + sizeof(digits) - d);
    }

    ngx_http_airouter_history_copy(e->tried, sizeof(e->tried), buf, p - buf);
}


/* len bytes of s at p, as many as fit before last. */
static u_char *
ngx_http_airouter_reqlog_put(u_char *p, u_char *last, const u_char *s,
    size_t len)
{
    len = ngx_min(len, (size_t) (last - p));

    if (len == 0) {
        return p;
    }

    return ngx_cpymem(p, s, len);
}


/*
 * The time from the request's start to the head of the answer it got.
 * nginx keeps, for the last upstream attempt, when it started (on its
 * monotonic clock) and how long its head took; counted back from now, the
 * head came that long before the request's duration ended.
 */
static int32_t
ngx_http_airouter_reqlog_ttfb(ngx_http_request_t *r, int32_t duration)
{
    ngx_msec_int_t        since;
    ngx_http_upstream_t  *u;

    u = r->upstream;

    if (u == NULL || u->state == NULL
        || u->state->header_time == (ngx_msec_t) -1)
    {
        return -1;
    }

    since = (ngx_msec_int_t) (ngx_current_msec
                              - (u->start_time + u->state->header_time));

    if (since < 0) {
        since = 0;
    }

    return since >= duration ? 0 : duration - (int32_t) since;
}


uint64_t
ngx_http_airouter_reqlog_last(ngx_http_airouter_main_conf_t *amcf)
{
    uint64_t                        last;
    ngx_http_airouter_zone_t       *zone;
    ngx_http_airouter_reqlog_sh_t  *sh;

    zone = ngx_http_airouter_zone_get(amcf);
    if (zone == NULL || zone->sh->reqlog == NULL) {
        return 0;
    }

    sh = zone->sh->reqlog;

    ngx_shmtx_lock(&zone->shpool->mutex);
    last = sh->last;
    ngx_shmtx_unlock(&zone->shpool->mutex);

    return last;
}


ngx_int_t
ngx_http_airouter_reqlog_api(ngx_http_request_t *r, ngx_str_t *path)
{
    uint64_t                            id, first;
    ngx_uint_t                          n, i, size;
    const char                         *code, *msg;
    json_t                             *root, *list, *item;
    ngx_http_airouter_zone_t           *zone;
    ngx_http_airouter_main_conf_t      *amcf;
    ngx_http_airouter_reqlog_sh_t      *sh;
    ngx_http_airouter_reqlog_entry_t   *out;
    ngx_http_airouter_reqlog_filter_t   f;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airouter_module);

    if (ngx_http_airouter_reqlog_parse(r, &f, &code, &msg) != NGX_OK) {
        return ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_request_error", code, "%s", msg);
    }

    zone = ngx_http_airouter_zone_get(amcf);
    sh = zone ? zone->sh->reqlog : NULL;
    size = sh ? sh->size : 0;
    id = 0;
    n = 0;
    out = NULL;

    if (sh) {
        f.limit = ngx_min(f.limit, ngx_min(size,
                                           NGX_HTTP_AIROUTER_REQLOG_PAGE));

        out = ngx_palloc(r->pool,
                         f.limit * sizeof(ngx_http_airouter_reqlog_entry_t));
        if (out == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* newest first; the filters are cheap enough to run locked */
        ngx_shmtx_lock(&zone->shpool->mutex);

        id = sh->last;
        first = sh->last > size ? sh->last - size + 1 : 1;

        for (i = sh->last; i >= first && i > f.since && n < f.limit; i--) {
            if (ngx_http_airouter_reqlog_match(
                    &sh->entries[(i - 1) % size], &f))
            {
                out[n++] = sh->entries[(i - 1) % size];
            }
        }

        ngx_shmtx_unlock(&zone->shpool->mutex);
    }

    root = json_object();
    list = json_array();

    if (root == NULL || list == NULL
        || json_object_set_new(root, "requests", list) != 0)
    {
        json_decref(root);
        json_decref(list);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < n; i++) {
        item = ngx_http_airouter_reqlog_json(&out[i]);
        if (item == NULL || json_array_append_new(list, item) != 0) {
            json_decref(root);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    json_object_set_new(root, "size", json_integer(size));
    json_object_set_new(root, "last", json_integer((json_int_t) id));

    return ngx_http_airouter_send_json(r, NGX_HTTP_OK, root);
}


/* NGX_OK, or NGX_ERROR with *code and *msg saying what is wrong */
static ngx_int_t
ngx_http_airouter_reqlog_parse(ngx_http_request_t *r,
    ngx_http_airouter_reqlog_filter_t *f, const char **code,
    const char **msg)
{
    ngx_int_t  n;
    ngx_str_t  v;

    ngx_memzero(f, sizeof(ngx_http_airouter_reqlog_filter_t));
    f->limit = 100;

    if (ngx_http_arg(r, (u_char *) "limit", 5, &v) == NGX_OK) {
        n = ngx_atoi(v.data, v.len);
        if (n == NGX_ERROR || n == 0) {
            *code = "invalid_limit";
            *msg = "limit must be a positive number";
            return NGX_ERROR;
        }

        f->limit = n;
    }

    if (ngx_http_arg(r, (u_char *) "since", 5, &v) == NGX_OK) {
        n = ngx_atoi(v.data, v.len);
        if (n == NGX_ERROR) {
            *code = "invalid_since";
            *msg = "since must be a request id (a number)";
            return NGX_ERROR;
        }

        f->since = n;
    }

    (void) ngx_http_arg(r, (u_char *) "channel", 7, &f->channel);
    (void) ngx_http_arg(r, (u_char *) "key", 3, &f->key);
    (void) ngx_http_arg(r, (u_char *) "model", 5, &f->model);

    if (ngx_http_arg(r, (u_char *) "status", 6, &v) == NGX_OK) {

        if (v.len == 3 && v.data[0] >= '1' && v.data[0] <= '5'
            && (v.data[1] | 0x20) == 'x' && (v.data[2] | 0x20) == 'x')
        {
            f->status_class = v.data[0] - '0';

        } else if (v.len == 5 && ngx_strncmp(v.data, "error", 5) == 0) {
            f->errors = 1;

        } else if (v.len == 2 && ngx_strncmp(v.data, "ok", 2) == 0) {
            f->ok = 1;

        } else {
            n = ngx_atoi(v.data, v.len);
            if (n < 100 || n > 999) {
                *code = "invalid_status";
                *msg = "status must be an HTTP status (429), a class (5xx), "
                       "\"ok\" or \"error\"";
                return NGX_ERROR;
            }

            f->status = n;
        }
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_http_airouter_reqlog_match(const ngx_http_airouter_reqlog_entry_t *e,
    const ngx_http_airouter_reqlog_filter_t *f)
{
    ngx_str_t  want;

    if (e->id == 0) {
        return 0;
    }

    if (f->status && e->status != f->status) {
        return 0;
    }

    if (f->status_class && e->status / 100 != f->status_class) {
        return 0;
    }

    if ((f->errors && e->status < 400) || (f->ok && e->status >= 400)) {
        return 0;
    }

    want = f->channel;
    if (want.len && !ngx_http_airouter_reqlog_eq(e->channel, &want)) {
        return 0;
    }

    want = f->key;
    if (want.len && !ngx_http_airouter_reqlog_eq(e->key, &want)) {
        return 0;
    }

    /* a model is either what the client asked for or what answered */
    want = f->model;
    if (want.len && !ngx_http_airouter_reqlog_eq(e->requested, &want)
        && !ngx_http_airouter_reqlog_eq(e->model, &want))
    {
        return 0;
    }

    return 1;
}


/* want is the raw query argument: compared after its %XX are decoded */
static ngx_uint_t
ngx_http_airouter_reqlog_eq(const u_char *field, ngx_str_t *want)
{
    u_char  *dst, *src, buf[NGX_HTTP_AIROUTER_REQLOG_TRIED];
    size_t   len;

    if (want->len >= sizeof(buf)) {
        return 0;
    }

    src = want->data;
    dst = buf;
    ngx_unescape_uri(&dst, &src, want->len, NGX_UNESCAPE_URI);
    len = dst - buf;

    return ngx_strlen(field) == len && ngx_strncmp(field, buf, len) == 0;
}


static json_t *
ngx_http_airouter_reqlog_json(const ngx_http_airouter_reqlog_entry_t *e)
{
    u_char     buf[64], *p;
    json_t    *j;
    ngx_tm_t   tm;

    j = json_object();
    if (j == NULL) {
        return NULL;
    }

    ngx_gmtime((time_t) (e->time / 1000), &tm);
    p = ngx_sprintf(buf, "%4d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                    tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                    tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec,
                    (int) (e->time % 1000));

    json_object_set_new(j, "id", json_integer((json_int_t) e->id));
    json_object_set_new(j, "time", json_stringn((char *) buf, p - buf));
    json_object_set_new(j, "time_ms", json_integer(e->time));
    json_object_set_new(j, "key", ngx_http_airouter_reqlog_str(e->key));
    json_object_set_new(j, "model_requested",
                        ngx_http_airouter_reqlog_str(e->requested));
    json_object_set_new(j, "channel",
                        ngx_http_airouter_reqlog_str(e->channel));
    json_object_set_new(j, "model", ngx_http_airouter_reqlog_str(e->model));
    json_object_set_new(j, "dialect",
                        ngx_http_airouter_reqlog_str(e->dialect));
    json_object_set_new(j, "stream", json_boolean(e->stream));
    json_object_set_new(j, "status", json_integer(e->status));
    json_object_set_new(j, "outcome",
                        ngx_http_airouter_reqlog_str(e->outcome));
    json_object_set_new(j, "attempts", json_integer(e->attempts));
    json_object_set_new(j, "tried",
                        ngx_http_airouter_reqlog_tried(e->tried));
    json_object_set_new(j, "ttfb_ms",
                        e->ttfb >= 0 ? json_integer(e->ttfb) : json_null());
    json_object_set_new(j, "duration_ms", json_integer(e->duration));
    json_object_set_new(j, "prompt_tokens",
                        e->prompt_tokens >= 0
                        ? json_integer(e->prompt_tokens) : json_null());
    json_object_set_new(j, "completion_tokens",
                        e->completion_tokens >= 0
                        ? json_integer(e->completion_tokens) : json_null());
    json_object_set_new(j, "cost",
                        e->cost >= 0 ? json_real(e->cost) : json_null());

    return j;
}


/*
 * The proxy's list of attempts, "a:server_error 502, b:ok 200 (key#1)",
 * as [{"channel": "a", "outcome": "server_error", "status": 502}, ...].
 * A channel id is everything before an item's last ':'.
 */
static json_t *
ngx_http_airouter_reqlog_tried(const u_char *tried)
{
    u_char      *item, *end, *colon, *sp, *last;
    json_t      *list, *a;
    ngx_int_t    status;

    list = json_array();
    if (list == NULL) {
        return NULL;
    }

    item = (u_char *) tried;
    last = item + ngx_strlen(item);

    while (item < last) {
        end = (u_char *) ngx_strstr(item, ", ");
        if (end == NULL) {
            end = last;
        }

        colon = NULL;

        for (sp = item; sp < end; sp++) {
            if (*sp == ':') {
                colon = sp;
            }
        }

        if (colon) {
            a = json_object();
            if (a == NULL) {
                break;
            }

            json_object_set_new(a, "channel",
                                json_stringn((char *) item, colon - item));

            for (sp = colon + 1; sp < end && *sp != ' '; sp++) {
                /* the outcome's name */
            }

            json_object_set_new(a, "outcome",
                                json_stringn((char *) colon + 1,
                                             sp - colon - 1));

            status = 0;

            if (sp + 1 < end && sp[1] >= '1' && sp[1] <= '9') {
                status = ngx_atoi(sp + 1, ngx_min(3, end - sp - 1));
            }

            json_object_set_new(a, "status", status > 0
                                ? json_integer(status) : json_null());
            json_array_append_new(list, a);
        }

        item = end + 2;
    }

    return list;
}


static json_t *
ngx_http_airouter_reqlog_str(const u_char *s)
{
    return *s ? json_string((char *) s) : json_null();
}
