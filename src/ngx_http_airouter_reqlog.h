/*
 * The request log: the last N routed requests (airouter_request_log N;
 * default 1000), kept in a ring in the shared zone so that every worker
 * writes into and reads the same one.  Written in the log phase from the
 * request's context and the proxy's result; read by
 * GET /v1/admin/requests (the admin URL table).
 *
 * A record holds names and numbers only: the caller's key by its name,
 * never its value, and nothing of the messages.  Every string in it is
 * client, config or upstream text, so it is cut to its field's size and
 * any byte outside printable ASCII becomes '?' before it is stored.
 *
 * Locking: the zone's mutex, for one record's copy in or a filtered copy
 * out.
 */

#ifndef NGX_HTTP_AIROUTER_REQLOG_H
#define NGX_HTTP_AIROUTER_REQLOG_H

#include "ngx_http_airouter_zone.h"


#define NGX_HTTP_AIROUTER_REQLOG_DEFAULT   1000
#define NGX_HTTP_AIROUTER_REQLOG_MAX       100000
#define NGX_HTTP_AIROUTER_REQLOG_PAGE      1000    /* most in one answer */

/* field sizes, the terminating NUL included */
#define NGX_HTTP_AIROUTER_REQLOG_NAME      64
#define NGX_HTTP_AIROUTER_REQLOG_MODEL     128
#define NGX_HTTP_AIROUTER_REQLOG_TRIED     256
#define NGX_HTTP_AIROUTER_REQLOG_WORD      32


typedef struct {
    uint64_t                     id;           /* 1, 2, ... since the ring
                                                  was made */
    int64_t                      time;         /* start, ms since epoch */
    int64_t                      prompt_tokens;    /* -1: unknown */
    int64_t                      completion_tokens;
    double                       cost;         /* USD, -1: unknown */
    int32_t                      ttfb;         /* ms, -1: no answer */
    int32_t                      duration;     /* ms */
    uint16_t                     status;       /* HTTP status sent */
    uint16_t                     attempts;
    uint8_t                      stream;
    u_char                       key[NGX_HTTP_AIROUTER_REQLOG_NAME];
    u_char                       requested[NGX_HTTP_AIROUTER_REQLOG_MODEL];
    u_char                       channel[NGX_HTTP_AIROUTER_REQLOG_NAME];
    u_char                       model[NGX_HTTP_AIROUTER_REQLOG_MODEL];
    u_char                       dialect[NGX_HTTP_AIROUTER_REQLOG_WORD];
    u_char                       outcome[NGX_HTTP_AIROUTER_REQLOG_WORD];
    u_char                       tried[NGX_HTTP_AIROUTER_REQLOG_TRIED];
} ngx_http_airouter_reqlog_entry_t;


/* airouter_request_log N; (0: off) */
char *ngx_http_airouter_reqlog_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* init_main_conf: the default size; the ring against the zone's size */
ngx_int_t ngx_http_airouter_reqlog_init_conf(ngx_conf_t *cf,
    ngx_http_airouter_main_conf_t *amcf);

/* the zone's init hook (the module's part table) */
ngx_int_t ngx_http_airouter_reqlog_init_zone(ngx_http_airouter_zone_t *zone);

/* postconfiguration: the log-phase handler */
ngx_int_t ngx_http_airouter_reqlog_init(ngx_conf_t *cf);

/* the newest record's id (0: none, or no ring) */
uint64_t ngx_http_airouter_reqlog_last(ngx_http_airouter_main_conf_t *amcf);

/* GET /v1/admin/requests?limit=&channel=&key=&model=&status=&since= */
ngx_int_t ngx_http_airouter_reqlog_api(ngx_http_request_t *r,
    ngx_str_t *path);

#endif /* NGX_HTTP_AIROUTER_REQLOG_H */
