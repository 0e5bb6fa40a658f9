/*
 * airouter_stats_file: saving and reading back the counters and the
 * admin's switches; see ngx_http_airouter_stats_file.h.
 */

#include "ngx_http_airouter_stats_file.h"
#include "ngx_http_airouter_stats.h"
#include "ngx_http_airouter_switch.h"

#include <libgen.h>


/* what the file holds is trusted: only its owner (and group) may write it */
#define NGX_HTTP_AIROUTER_STATS_FILE_MODE  0600


/* This file's part of the zone: how the last write went. */
typedef struct {
    ngx_uint_t                   failing;   /* retried every interval,
                                               logged once per streak */
} ngx_http_airouter_stats_file_sh_t;


static char *ngx_http_airouter_stats_file_check(ngx_conf_t *cf,
    ngx_str_t *name);
static void ngx_http_airouter_stats_file_check_dir(ngx_conf_t *cf,
    ngx_str_t *name);
static ngx_int_t ngx_http_airouter_stats_file_write(json_t *root,
    u_char *tmp, ngx_log_t *log);


static ngx_int_t ngx_http_airouter_stats_file_load(
    ngx_http_airouter_main_conf_t *amcf, ngx_log_t *log);
static ngx_int_t ngx_http_airouter_stats_file_node(json_t *o,
    ngx_pool_t *pool, ngx_array_t *rows, ngx_array_t *off);
static uint64_t ngx_http_airouter_stats_file_uint(json_t *o,
    const char *name);
static ngx_int_t ngx_http_airouter_stats_file_save(
    ngx_http_airouter_main_conf_t *amcf, ngx_log_t *log);
static json_t *ngx_http_airouter_stats_file_json(
    ngx_http_airouter_main_conf_t *amcf, ngx_pool_t *pool,
    u_char *strategy, ngx_array_t *off);
static json_t *ngx_http_airouter_stats_file_row(
    ngx_http_airouter_stats_row_t *row, const char *kind);
static void ngx_http_airouter_stats_file_timer(ngx_event_t *ev);


char *
ngx_http_airouter_stats_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_airouter_main_conf_t *amcf = conf;

    ngx_str_t  *value;

    if (amcf->stats_file.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    amcf->stats_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &amcf->stats_file, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    amcf->stats_interval = NGX_HTTP_AIROUTER_STATS_SAVE * 1000;

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "interval=", 9) != 0) {
            return "has an invalid parameter: \"interval=<time>\" expected";
        }

        value[2].data += 9;
        value[2].len -= 9;

        amcf->stats_interval = ngx_parse_time(&value[2], 0);
        if (amcf->stats_interval == (ngx_msec_t) NGX_ERROR
            || amcf->stats_interval == 0)
        {
            return "has an invalid interval";
        }
    }

    return ngx_http_airouter_stats_file_check(cf, &amcf->stats_file);
}


/*
 * nginx -t (and every start and reload) looks at the file and its
 * directory: a file others may write is refused (its counters, strategy
 * and disabled channels would be anyone's), a directory the workers
 * cannot write to is a warning (the counters would not be kept).
 */
static char *
ngx_http_airouter_stats_file_check(ngx_conf_t *cf, ngx_str_t *name)
{
    ngx_file_info_t  fi;

    if (ngx_file_info(name->data, &fi) == NGX_FILE_ERROR) {
        if (ngx_errno != NGX_ENOENT) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               "airouter_stats_file \"%V\" cannot be read",
                               name);
            return NGX_CONF_ERROR;
        }

    } else if (!ngx_is_file(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "airouter_stats_file \"%V\" is not a regular "
                           "file", name);
        return NGX_CONF_ERROR;

    } else if (ngx_file_access(&fi) & S_IWOTH) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "airouter_stats_file \"%V\" is writable by "
                           "others (mode 0%ui%ui%ui): not loaded; remove "
                           "that write permission (chmod o-w) or the file",
                           name, (ngx_uint_t) (ngx_file_access(&fi) >> 6) & 7,
                           (ngx_uint_t) (ngx_file_access(&fi) >> 3) & 7,
                           (ngx_uint_t) ngx_file_access(&fi) & 7);
        return NGX_CONF_ERROR;
    }

    ngx_http_airouter_stats_file_check_dir(cf, name);

    return NGX_CONF_OK;
}


/*
 * Whether the workers' user (the "user" directive, nobody when root
 * starts nginx without it, else whoever runs it) may create files in the
 * directory, by its mode bits; root may anyway.
 */
static void
ngx_http_airouter_stats_file_check_dir(ngx_conf_t *cf, ngx_str_t *name)
{
    u_char           *dir;
    uid_t             uid;
    gid_t             gid;
    ngx_uint_t        ok;
    struct passwd    *pw;
    ngx_file_info_t   fi;
    ngx_core_conf_t  *ccf;

    dir = ngx_pnalloc(cf->temp_pool, name->len + 1);
    if (dir == NULL) {
        return;
    }

    ngx_memcpy(dir, name->data, name->len + 1);
    dir = (u_char *) dirname((char *) dir);

    if (ngx_file_info(dir, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, ngx_errno,
                           "airouter_stats_file \"%V\": its directory "
                           "\"%s\" cannot be used: the counters will not "
                           "be kept until it can", name, dir);
        return;
    }

    if (!ngx_is_dir(&fi)) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "airouter_stats_file \"%V\": \"%s\" is not a "
                           "directory: the counters will not be kept", name,
                           dir);
        return;
    }

    ccf = (ngx_core_conf_t *) ngx_get_conf(cf->cycle->conf_ctx,
                                           ngx_core_module);

    if (ccf->user != (uid_t) NGX_CONF_UNSET_UINT) {
        uid = ccf->user;
        gid = ccf->group;

    } else if (geteuid() == 0) {
        pw = getpwnam(NGX_USER);
        uid = pw ? pw->pw_uid : (uid_t) -1;
        gid = pw ? pw->pw_gid : (gid_t) -1;

    } else {
        uid = geteuid();
        gid = getegid();
    }

    if (uid == 0) {
        return;
    }

    if (fi.st_uid == uid) {
        ok = (fi.st_mode & (S_IWUSR|S_IXUSR)) == (S_IWUSR|S_IXUSR);

    } else if (fi.st_gid == gid) {
        ok = (fi.st_mode & (S_IWGRP|S_IXGRP)) == (S_IWGRP|S_IXGRP);

    } else {
        ok = (fi.st_mode & (S_IWOTH|S_IXOTH)) == (S_IWOTH|S_IXOTH);
    }

    if (!ok) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "airouter_stats_file \"%V\": its directory "
                           "\"%s\" is not writable by the workers' user "
                           "(uid %d): the counters will not be kept", name,
                           dir, (int) uid);
    }
}


/*
 * A new zone (start, or a reload that changed it): a new part here too,
 * and the file of the last run is read into the counters and switches
 * (created before this hook runs).
 */
ngx_int_t
ngx_http_airouter_stats_file_init_zone(ngx_http_airouter_zone_t *zone)
{
    ngx_http_airouter_stats_file_sh_t  *fsh;

    if (zone->sh->stats_file) {
        return NGX_OK;
    }

    fsh = ngx_slab_calloc(zone->shpool,
                          sizeof(ngx_http_airouter_stats_file_sh_t));
    if (fsh == NULL) {
        return NGX_ERROR;
    }

    zone->sh->stats_file = fsh;

    if (zone->amcf->stats_file.len && zone->amcf->config) {
        return ngx_http_airouter_stats_file_load(zone->amcf, ngx_cycle->log);
    }

    return NGX_OK;
}


/*
 * The counters of the last run, as far as they are still kept.  The
 * file's mode is checked again on the open file: the directive's check
 * may be a while ago.
 */
static ngx_int_t
ngx_http_airouter_stats_file_load(ngx_http_airouter_main_conf_t *amcf,
    ngx_log_t *log)
{
    size_t            i;
    json_t           *root, *nodes, *o;
    ngx_fd_t          fd;
    ngx_int_t         n;
    ngx_pool_t       *pool;
    ngx_array_t       rows, off;
    json_error_t      err;
    ngx_file_info_t   fi;

    fd = ngx_open_file(amcf->stats_file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN,
                       0);
    if (fd == NGX_INVALID_FILE) {
        if (ngx_errno != NGX_ENOENT) {
            ngx_log_error(NGX_LOG_WARN, log, ngx_errno,
                          "airouter: stats file \"%V\" not read",
                          &amcf->stats_file);
        }

        return NGX_OK;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || (ngx_file_access(&fi) & S_IWOTH))
    {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "airouter_stats_file \"%V\" is writable by others: "
                      "not loaded; remove that write permission "
                      "(chmod o-w) or the file", &amcf->stats_file);
        (void) ngx_close_file(fd);
        return NGX_ERROR;
    }

    root = json_loadfd(fd, 0, &err);

    (void) ngx_close_file(fd);

    if (root == NULL) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "airouter: stats file \"%V\" not read: %s (line %d)",
                      &amcf->stats_file, err.text, err.line);
        return NGX_OK;
    }

    pool = ngx_create_pool(4096, log);

    if (pool == NULL
        || ngx_array_init(&rows, pool, 64,
                          sizeof(ngx_http_airouter_stats_row_t))
           != NGX_OK
        || ngx_array_init(&off, pool, 4, sizeof(ngx_str_t)) != NGX_OK)
    {
        goto done;
    }

    nodes = json_object_get(root, "nodes");

    json_array_foreach(nodes, i, o) {
        if (ngx_http_airouter_stats_file_node(o, pool, &rows, &off)
            != NGX_OK)
        {
            goto done;
        }
    }

    n = ngx_http_airouter_stats_restore(amcf, &rows);

    if (ngx_http_airouter_switch_restore(amcf,
            json_string_value(json_object_get(root, "strategy")), &off)
        == NGX_OK)
    {
        n += off.nelts;
    }

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "airouter: %i usage counters read from \"%V\"", n,
                  &amcf->stats_file);

done:

    if (pool) {
        ngx_destroy_pool(pool);
    }

    json_decref(root);

    return NGX_OK;
}


/* One saved node: a row to restore, a channel off, or nothing kept. */
static ngx_int_t
ngx_http_airouter_stats_file_node(json_t *o, ngx_pool_t *pool,
    ngx_array_t *rows, ngx_array_t *off)
{
    uint32_t                                  day;
    ngx_int_t                                 kind;
    ngx_str_t                                *id;
    const char                               *name, *kn;
    ngx_http_airouter_stats_row_t            *row;
    const ngx_http_airouter_stats_counter_t  *d;

    name = json_string_value(json_object_get(o, "name"));
    kn = json_string_value(json_object_get(o, "kind"));
    day = (uint32_t) ngx_http_airouter_stats_file_uint(o, "day");

    if (name == NULL || kn == NULL) {
        return NGX_OK;
    }

    if (ngx_strcmp(kn, "off") == 0) {
        id = ngx_array_push(off);
        if (id == NULL) {
            return NGX_ERROR;
        }

        id->data = (u_char *) name;
        id->len = ngx_strlen(name);

        return NGX_OK;
    }

    kind = ngx_http_airouter_stats_kind_from((u_char *) kn, ngx_strlen(kn));

    if (kind < 0 || kind > NGX_HTTP_AIROUTER_STATS_MODEL
        || (day && day + NGX_HTTP_AIROUTER_STATS_DAYS
                   < ngx_http_airouter_stats_today()))
    {
        return NGX_OK;
    }

    row = ngx_array_push(rows);
    if (row == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(row, sizeof(ngx_http_airouter_stats_row_t));

    row->day = day;
    row->kind = kind;
    row->name.data = (u_char *) name;
    row->name.len = ngx_strlen(name);
    row->alerts = (ngx_uint_t) ngx_http_airouter_stats_file_uint(o,
                                                                 "alerts");

    /* a counter the file does not have (an older version's) reads as 0 */
    for (d = ngx_http_airouter_stats_counters; d->name; d++) {
        if (d->type == NGX_HTTP_AIROUTER_STATS_USD) {
            ngx_http_airouter_stats_usd(&row->c, d) =
                              json_number_value(json_object_get(o, d->name));

        } else {
            ngx_http_airouter_stats_count(&row->c, d) =
                              ngx_http_airouter_stats_file_uint(o, d->name);
        }
    }

    return NGX_OK;
}


static uint64_t
ngx_http_airouter_stats_file_uint(json_t *o, const char *name)
{
    json_int_t  n;

    n = json_integer_value(json_object_get(o, name));

    return n > 0 ? (uint64_t) n : 0;
}


static ngx_int_t
ngx_http_airouter_stats_file_save(ngx_http_airouter_main_conf_t *amcf,
    ngx_log_t *log)
{
    u_char                             *tmp;
    json_t                             *root;
    ngx_int_t                           rc;
    ngx_uint_t                          changed, switched;
    ngx_pool_t                         *pool;
    ngx_array_t                         off;
    ngx_http_airouter_zone_t           *zone;
    ngx_http_airouter_stats_file_sh_t  *fsh;
    u_char                       strategy[NGX_HTTP_AIROUTER_SWITCH_STRATEGY];

    zone = ngx_http_airouter_zone_get(amcf);

    if (zone == NULL || zone->sh == NULL || zone->sh->stats_file == NULL
        || amcf->stats_file.len == 0)
    {
        return NGX_OK;
    }

    fsh = zone->sh->stats_file;

    pool = ngx_create_pool(4096, log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_ERROR;
    root = NULL;

    changed = ngx_http_airouter_stats_take_changed(amcf);

    if (ngx_http_airouter_switch_take(amcf, pool, strategy, &off, &switched)
        != NGX_OK)
    {
        goto done;
    }

    if (!changed && !switched && !fsh->failing) {
        rc = NGX_OK;
        goto done;
    }

    root = ngx_http_airouter_stats_file_json(amcf, pool, strategy, &off);
    if (root == NULL) {
        goto done;
    }

    /* old and new worker 0 overlap during a reload: a file each */
    tmp = ngx_pnalloc(pool, amcf->stats_file.len + NGX_INT64_LEN
                            + sizeof("..tmp"));
    if (tmp == NULL) {
        goto done;
    }

    ngx_sprintf(tmp, "%V.%P.tmp%Z", &amcf->stats_file, ngx_pid);

    /* a failure is logged when a streak starts, then at debug level */
    if (ngx_http_airouter_stats_file_write(root, tmp,
                                           fsh->failing ? NULL : log)
        != NGX_OK)
    {
        goto done;
    }

    if (ngx_rename_file(tmp, amcf->stats_file.data) == NGX_FILE_ERROR) {
        if (!fsh->failing) {
            ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                          "airouter: stats file \"%V\" not written: "
                          ngx_rename_file_n " \"%s\" failed; tried again "
                          "every interval, logged again once it works",
                          &amcf->stats_file, tmp);
        }

        (void) ngx_delete_file(tmp);
        goto done;
    }

    if (fsh->failing) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "airouter: stats file \"%V\" written again",
                      &amcf->stats_file);
    }

    rc = NGX_OK;

done:

    /* a failed write is tried again next time, changed or not */
    if (rc != NGX_OK && fsh->failing) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "airouter: stats file \"%V\" still not written",
                       &amcf->stats_file);
    }

    fsh->failing = (rc != NGX_OK);

    json_decref(root);
    ngx_destroy_pool(pool);

    return rc;
}


/*
 * The temporary file, created afresh with the file's mode (whatever the
 * umask, and whatever an older file left there); log is NULL when the
 * failure is not to be logged.
 */
static ngx_int_t
ngx_http_airouter_stats_file_write(json_t *root, u_char *tmp,
    ngx_log_t *log)
{
    ngx_fd_t   fd;
    ngx_err_t  err;

    if (ngx_delete_file(tmp) == NGX_FILE_ERROR && ngx_errno != NGX_ENOENT) {
        err = ngx_errno;
        goto failed;
    }

    fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_CREATE_OR_OPEN|O_EXCL,
                       NGX_HTTP_AIROUTER_STATS_FILE_MODE);
    if (fd == NGX_INVALID_FILE) {
        err = ngx_errno;
        goto failed;
    }

    if (json_dumpfd(root, fd, JSON_COMPACT) != 0) {
        err = ngx_errno;
        (void) ngx_close_file(fd);
        (void) ngx_delete_file(tmp);
        goto failed;
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        err = ngx_errno;
        (void) ngx_delete_file(tmp);
        goto failed;
    }

    return NGX_OK;

failed:

    if (log) {
        ngx_log_error(NGX_LOG_ERR, log, err,
                      "airouter: stats file \"%s\" not written; tried "
                      "again every interval, logged again once it works",
                      tmp);
    }

    return NGX_ERROR;
}


/* The file's text: every counter node, the strategy, channels off. */
static json_t *
ngx_http_airouter_stats_file_json(ngx_http_airouter_main_conf_t *amcf,
    ngx_pool_t *pool, u_char *strategy, ngx_array_t *off)
{
    json_t                         *root, *nodes, *o;
    ngx_str_t                      *id;
    ngx_uint_t                      i;
    ngx_array_t                     rows;
    ngx_http_airouter_stats_row_t  *row, zero;

    if (ngx_http_airouter_stats_rows(amcf, pool, 0, (uint32_t) -1,
                                     NGX_HTTP_AIROUTER_STATS_N, &rows)
        != NGX_OK)
    {
        return NULL;
    }

    root = json_object();
    nodes = json_array();

    if (root == NULL || nodes == NULL
        || json_object_set_new(root, "version", json_integer(1)) != 0
        || json_object_set_new(root, "saved", json_integer(ngx_time())) != 0
        || json_object_set_new(root, "strategy",
                               json_string((char *) strategy)) != 0
        || json_object_set_new(root, "nodes", nodes) != 0)
    {
        json_decref(nodes);
        json_decref(root);
        return NULL;
    }

    row = rows.elts;

    for (i = 0; i < rows.nelts; i++) {
        if (row[i].kind > NGX_HTTP_AIROUTER_STATS_MODEL) {
            continue;
        }

        o = ngx_http_airouter_stats_file_row(&row[i],
                ngx_http_airouter_stats_kind_name(row[i].kind));

        /* a name jansson refuses (not UTF-8) costs its node, not the file */
        if (o && json_array_append_new(nodes, o) != 0) {
            json_decref(root);
            return NULL;
        }
    }

    ngx_memzero(&zero, sizeof(ngx_http_airouter_stats_row_t));
    id = off->elts;

    for (i = 0; i < off->nelts; i++) {
        zero.name = id[i];

        o = ngx_http_airouter_stats_file_row(&zero, "off");

        if (o && json_array_append_new(nodes, o) != 0) {
            json_decref(root);
            return NULL;
        }
    }

    return root;
}


static json_t *
ngx_http_airouter_stats_file_row(ngx_http_airouter_stats_row_t *row,
    const char *kind)
{
    json_t                                   *o, *v;
    const ngx_http_airouter_stats_counter_t  *d;

    o = json_pack("{s:I, s:s, s:s, s:I}",
                  "day", (json_int_t) row->day,
                  "kind", kind,
                  "name", (char *) row->name.data,
                  "alerts", (json_int_t) row->alerts);
    if (o == NULL) {
        return NULL;
    }

    for (d = ngx_http_airouter_stats_counters; d->name; d++) {
        v = (d->type == NGX_HTTP_AIROUTER_STATS_USD)
            ? json_real(ngx_http_airouter_stats_usd(&row->c, d))
            : json_integer((json_int_t)
                           ngx_http_airouter_stats_count(&row->c, d));

        if (json_object_set_new(o, d->name, v) != 0) {
            json_decref(o);
            return NULL;
        }
    }

    return o;
}


/* Worker 0 saves the file, on a timer and when it exits. */
ngx_int_t
ngx_http_airouter_stats_file_init_process(ngx_cycle_t *cycle)
{
    ngx_event_t                    *ev;
    ngx_http_airouter_main_conf_t  *amcf;

    if (ngx_process != NGX_PROCESS_WORKER && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    if (ngx_worker != 0 || cycle->conf_ctx[ngx_http_module.index] == NULL) {
        return NGX_OK;
    }

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_airouter_module);
    if (amcf == NULL || amcf->config == NULL) {
        return NGX_OK;
    }

    ev = ngx_pcalloc(cycle->pool, sizeof(ngx_event_t));
    if (ev == NULL) {
        return NGX_ERROR;
    }

    ev->handler = ngx_http_airouter_stats_file_timer;
    ev->data = amcf;
    ev->log = cycle->log;
    ev->cancelable = 1;

    ngx_add_timer(ev, amcf->stats_interval ? amcf->stats_interval
                      : NGX_HTTP_AIROUTER_STATS_SAVE * 1000);

    return NGX_OK;
}


/* Old days go first, so that the file never holds them. */
static void
ngx_http_airouter_stats_file_timer(ngx_event_t *ev)
{
    ngx_http_airouter_main_conf_t *amcf = ev->data;

    ngx_http_airouter_stats_prune(amcf);
    (void) ngx_http_airouter_stats_file_save(amcf, ev->log);

    if (!ngx_exiting && !ngx_terminate && !ngx_quit) {
        ngx_add_timer(ev, amcf->stats_interval ? amcf->stats_interval
                          : NGX_HTTP_AIROUTER_STATS_SAVE * 1000);
    }
}


void
ngx_http_airouter_stats_file_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_airouter_main_conf_t  *amcf;

    if ((ngx_process != NGX_PROCESS_WORKER
         && ngx_process != NGX_PROCESS_SINGLE)
        || ngx_worker != 0
        || cycle->conf_ctx[ngx_http_module.index] == NULL)
    {
        return;
    }

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_airouter_module);
    if (amcf == NULL || amcf->config == NULL) {
        return;
    }

    (void) ngx_http_airouter_stats_file_save(amcf, cycle->log);
}
