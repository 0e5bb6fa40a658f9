/*
 * The audit trail of admin actions: who (the admin token's name: "admin",
 * the one token there is), from where, what (channel.disable, ...), on
 * what, and the state before and after.  Each action is written to the
 * error log at notice level and kept in a ring in the shared zone (the
 * last NGX_HTTP_AIROUTER_AUDIT_SIZE, fewer in a small zone), read by
 * GET /v1/admin/audit.
 *
 * Called by the admin handlers after an action took effect (admin_api.c,
 * discovery.c), by the module (the part table) and the admin URL table.
 * Locking: the zone's mutex, for one record's copy in or the ring's out.
 */

#ifndef NGX_HTTP_AIROUTER_AUDIT_H
#define NGX_HTTP_AIROUTER_AUDIT_H

#include "ngx_http_airouter_zone.h"


#define NGX_HTTP_AIROUTER_AUDIT_SIZE    256


/* the zone's init hook (the module's part table) */
ngx_int_t ngx_http_airouter_audit_init_zone(ngx_http_airouter_zone_t *zone);

/*
 * One admin action on target, done by r (whose admin token was checked):
 * before and after say the state it changed (NULL: "-").  Every string is
 * cut and kept to printable ASCII.
 */
void ngx_http_airouter_audit(ngx_http_request_t *r, const char *action,
    const char *target, const char *before, const char *after);

/* the newest record's id (0: none) */
uint64_t ngx_http_airouter_audit_last(ngx_http_airouter_main_conf_t *amcf);

/* GET /v1/admin/audit[?limit=] */
ngx_int_t ngx_http_airouter_audit_api(ngx_http_request_t *r,
    ngx_str_t *path);

#endif /* NGX_HTTP_AIROUTER_AUDIT_H */
