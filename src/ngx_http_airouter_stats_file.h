/*
 * airouter_stats_file: the usage counters (ngx_http_airouter_stats.c) and
 * the admin's switches (ngx_http_airouter_switch.c) kept across restarts.
 *
 * Worker 0 writes the file every interval (default 60 s) when something
 * changed, and when it exits, through a temporary file and a rename; the
 * same timer first drops the days past NGX_HTTP_AIROUTER_STATS_DAYS.  The
 * master reads the file when it creates a new zone (this file's zone
 * part is then new too).  The format: one JSON object, {"version": 1,
 * "saved", "strategy", "nodes": [{"day", "kind", "name", "alerts", and
 * one member per counter of the counter list}]}; channels switched off
 * are nodes of kind "off".  Counters are found by name, so the format
 * needs no new version when the list grows: a counter a file lacks (one
 * written before the counter existed) reads as 0, and a member no
 * counter has is ignored.
 *
 * The file is trusted input: it is written 0600, and one that others may
 * write is refused (the directive, i.e. nginx -t, and the load check it);
 * the directive warns about a directory the workers cannot write to, and
 * a streak of failed writes is logged once (zone part: failing).
 *
 * Called by the module: the directive, the zone's init hooks, and the
 * init/exit process hooks.
 */

#ifndef NGX_HTTP_AIROUTER_STATS_FILE_H
#define NGX_HTTP_AIROUTER_STATS_FILE_H

#include "ngx_http_airouter_zone.h"


char *ngx_http_airouter_stats_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_airouter_stats_file_init_zone(
    ngx_http_airouter_zone_t *zone);
ngx_int_t ngx_http_airouter_stats_file_init_process(ngx_cycle_t *cycle);
void ngx_http_airouter_stats_file_exit_process(ngx_cycle_t *cycle);

#endif /* NGX_HTTP_AIROUTER_STATS_FILE_H */
