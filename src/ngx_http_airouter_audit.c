/*
 * The admin actions' audit trail: the error log at notice level and a
 * ring in the shared zone, GET /v1/admin/audit.  What a record holds and
 * who calls this file: ngx_http_airouter_audit.h.
 */

#include "ngx_http_airouter_audit.h"
#include "ngx_http_airouter_history.h"
#include "ngx_http_airouter_response.h"


#define NGX_HTTP_AIROUTER_AUDIT_WHO     32
#define NGX_HTTP_AIROUTER_AUDIT_TEXT    128


typedef struct {
    uint64_t                     id;
    int64_t                      time;         /* ms since epoch */
    u_char                       who[NGX_HTTP_AIROUTER_AUDIT_WHO];
    u_char                       client[NGX_HTTP_AIROUTER_AUDIT_WHO + 16];
    u_char                       action[NGX_HTTP_AIROUTER_AUDIT_WHO];
    u_char                       target[NGX_HTTP_AIROUTER_AUDIT_TEXT];
    u_char                       before[NGX_HTTP_AIROUTER_AUDIT_TEXT];
    u_char                       after[NGX_HTTP_AIROUTER_AUDIT_TEXT];
} ngx_http_airouter_audit_entry_t;


/* The ring: size records, the one with id n at (n - 1) % size. */
typedef struct {
    ngx_uint_t                   size;
    uint64_t                     last;
    ngx_http_airouter_audit_entry_t  entries[1];
} ngx_http_airouter_audit_sh_t;


static void ngx_http_airouter_audit_text(u_char *dst, size_t size,
    const char *s);
static json_t *ngx_http_airouter_audit_json(
    const ngx_http_airouter_audit_entry_t *e);


ngx_int_t
ngx_http_airouter_audit_init_zone(ngx_http_airouter_zone_t *zone)
{
    size_t                         len;
    ngx_uint_t                     n;
    ngx_http_airouter_audit_sh_t  *sh;

    if (zone->sh->audit) {
        return NGX_OK;              /* a reload: the trail is kept */
    }

    /* a small zone keeps fewer: at most a sixteenth of it */
    n = ngx_min(NGX_HTTP_AIROUTER_AUDIT_SIZE,
                zone->amcf->zone_size / 16
                / sizeof(ngx_http_airouter_audit_entry_t));
    n = ngx_max(n, 1);

    len = offsetof(ngx_http_airouter_audit_sh_t, entries)
          + n * sizeof(ngx_http_airouter_audit_entry_t);

    sh = ngx_slab_alloc(zone->shpool, len);
    if (sh == NULL) {
        ngx_log_error(NGX_LOG_EMERG, ngx_cycle->log, 0,
                      "airouter: zone \"%V\" is too small for the audit "
                      "trail (%uz bytes): raise the size in "
                      "\"airouter_zone\"", &zone->amcf->zone_name, len);
        return NGX_ERROR;
    }

    ngx_memzero(sh, len);
    sh->size = n;
    zone->sh->audit = sh;

    return NGX_OK;
}


void
ngx_http_airouter_audit(ngx_http_request_t *r, const char *action,
    const char *target, const char *before, const char *after)
{
    ngx_time_t                       *tp;
    ngx_http_airouter_zone_t         *zone;
    ngx_http_airouter_audit_sh_t     *sh;
    ngx_http_airouter_main_conf_t    *amcf;
    ngx_http_airouter_audit_entry_t   e;

    ngx_memzero(&e, sizeof(ngx_http_airouter_audit_entry_t));

    tp = ngx_timeofday();
    e.time = (int64_t) tp->sec * 1000 + tp->msec;

    /* auth.admin has one token and no name for it */
    ngx_http_airouter_audit_text(e.who, sizeof(e.who), "admin");
    ngx_http_airouter_history_copy(e.client, sizeof(e.client),
                                   r->connection->addr_text.data,
                                   r->connection->addr_text.len);
    ngx_http_airouter_audit_text(e.action, sizeof(e.action), action);
    ngx_http_airouter_audit_text(e.target, sizeof(e.target), target);
    ngx_http_airouter_audit_text(e.before, sizeof(e.before), before);
    ngx_http_airouter_audit_text(e.after, sizeof(e.after), after);

    ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                  "airouter audit: %s from %s: %s \"%s\": %s -> %s",
                  e.who, e.client, e.action, e.target, e.before, e.after);

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airouter_module);
    zone = ngx_http_airouter_zone_get(amcf);

    if (zone == NULL || zone->sh->audit == NULL) {
        return;
    }

    sh = zone->sh->audit;

    ngx_shmtx_lock(&zone->shpool->mutex);

    e.id = ++sh->last;
    sh->entries[(e.id - 1) % sh->size] = e;

    ngx_shmtx_unlock(&zone->shpool->mutex);
}


static void
ngx_http_airouter_audit_text(u_char *dst, size_t size, const char *s)
{
    if (s == NULL) {
        s = "-";
    }

    ngx_http_airouter_history_copy(dst, size, (u_char *) s, ngx_strlen(s));
}


uint64_t
ngx_http_airouter_audit_last(ngx_http_airouter_main_conf_t *amcf)
{
    uint64_t                       last;
    ngx_http_airouter_zone_t      *zone;
    ngx_http_airouter_audit_sh_t  *sh;

    zone = ngx_http_airouter_zone_get(amcf);
    if (zone == NULL || zone->sh->audit == NULL) {
        return 0;
    }

    sh = zone->sh->audit;

    ngx_shmtx_lock(&zone->shpool->mutex);
    last = sh->last;
    ngx_shmtx_unlock(&zone->shpool->mutex);

    return last;
}


ngx_int_t
ngx_http_airouter_audit_api(ngx_http_request_t *r, ngx_str_t *path)
{
    uint64_t                          id, first, last;
    ngx_int_t                         n, rc;
    ngx_str_t                         v;
    ngx_uint_t                        limit, i, k, size;
    json_t                           *root, *list, *item;
    ngx_http_airouter_zone_t         *zone;
    ngx_http_airouter_audit_sh_t     *sh;
    ngx_http_airouter_main_conf_t    *amcf;
    ngx_http_airouter_audit_entry_t  *out;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    limit = 100;

    if (ngx_http_arg(r, (u_char *) "limit", 5, &v) == NGX_OK) {
        n = ngx_atoi(v.data, v.len);
        if (n == NGX_ERROR || n == 0) {
            return ngx_http_airouter_send_error(r, NGX_HTTP_BAD_REQUEST,
                       "invalid_request_error", "invalid_limit",
                       "limit must be a positive number");
        }

        limit = n;
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airouter_module);
    zone = ngx_http_airouter_zone_get(amcf);
    sh = zone ? zone->sh->audit : NULL;
    size = sh ? sh->size : 0;
    limit = ngx_min(limit, size);
    last = 0;
    k = 0;
    out = NULL;

    if (sh) {
        out = ngx_palloc(r->pool,
                         limit * sizeof(ngx_http_airouter_audit_entry_t));
        if (out == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_shmtx_lock(&zone->shpool->mutex);

        last = sh->last;
        first = last > size ? last - size + 1 : 1;

        for (id = last; id >= first && id > 0 && k < limit; id--) {
            out[k++] = sh->entries[(id - 1) % size];
        }

        ngx_shmtx_unlock(&zone->shpool->mutex);
    }

    root = json_object();
    list = json_array();

    if (root == NULL || list == NULL
        || json_object_set_new(root, "audit", list) != 0)
    {
        json_decref(root);
        json_decref(list);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < k; i++) {
        item = ngx_http_airouter_audit_json(&out[i]);
        if (item == NULL || json_array_append_new(list, item) != 0) {
            json_decref(root);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    json_object_set_new(root, "size", json_integer(size));
    json_object_set_new(root, "last", json_integer((json_int_t) last));

    return ngx_http_airouter_send_json(r, NGX_HTTP_OK, root);
}


static json_t *
ngx_http_airouter_audit_json(const ngx_http_airouter_audit_entry_t *e)
{
    u_char     buf[64];
    ngx_tm_t   tm;

    ngx_gmtime((time_t) (e->time / 1000), &tm);
    (void) ngx_sprintf(buf, "%4d-%02d-%02dT%02d:%02d:%02d.%03dZ%Z",
                    tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                    tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec,
                    (int) (e->time % 1000));

    return json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s}",
                     "id", (json_int_t) e->id,
                     "time", (char *) buf,
                     "time_ms", (json_int_t) e->time,
                     "who", (char *) e->who,
                     "client", (char *) e->client,
                     "action", (char *) e->action,
                     "target", (char *) e->target,
                     "before", (char *) e->before,
                     "after", (char *) e->after);
}
