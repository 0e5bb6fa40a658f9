/*
 * airouter_redis: the directive, each worker's links (set up at process
 * start, closed at exit) and the state the hosts share through them:
 * blocks, the strategy and the discovered catalogue, written on the
 * command link and heard on worker 0's subscriber link; see
 * ngx_http_airouter_redis.h.  The links themselves are
 * ngx_http_airouter_redis_link.c; the counters' flushes are
 * ngx_http_airouter_redis_counters.c.
 *
 * Called by the module (directive, init/exit process), through live
 * state's on_block slot (blocks), by the admin API (strategy), discovery
 * (lock, catalogue) and /health and /metrics (json).
 */

#include "ngx_http_airouter_redis.h"
#include "ngx_http_airouter_redis_link.h"
#include "ngx_http_airouter_redis_counters.h"
#include "ngx_http_airouter_live.h"
#include "ngx_http_airouter_switch.h"
#include "ngx_http_airouter_catalog.h"


#define NGX_HTTP_AIROUTER_REDIS_ERROR    128
#define NGX_HTTP_AIROUTER_REDIS_KEY      (NGX_HTTP_AIROUTER_REDIS_PREFIX + 32)


/* The host's view, in the zone: for /health and one warning per outage. */
typedef struct {
    ngx_atomic_t                 up;
    ngx_atomic_t                 outage;     /* its warning was logged */
    time_t                       since;
    uint64_t                     host;       /* tells our messages apart */
    uint64_t                     flushes;
    uint64_t                     failures;
    u_char                       error[NGX_HTTP_AIROUTER_REDIS_ERROR];

    /* the catalogue: the checksum of the last one stored or taken, and
     * where the zone's came from (remote: another host's discovery) */
    uint64_t                     cat_checksum;
    ngx_atomic_t                 cat_remote;
    time_t                       cat_at;
    u_char                       cat_from[17];
} ngx_http_airouter_redis_sh_t;


/* A discovery lock asked for: who waits for the answer. */
typedef struct {
    ngx_http_airouter_redis_lock_pt   handler;
    void                             *data;
} ngx_http_airouter_redis_lock_t;


typedef struct {
    /* the directive */
    ngx_http_airouter_redis_server_t  server;
    ngx_str_t                    prefix;

    /* this process (each worker has its own copy of the configuration) */
    ngx_http_airouter_main_conf_t  *amcf;
    ngx_http_airouter_redis_sh_t   *sh;
    ngx_log_t                   *log;
    ngx_uint_t                   sync;       /* worker 0: sub + counters */
    ngx_http_airouter_redis_link_t  cmd;
    ngx_http_airouter_redis_link_t  sub;
    ngx_http_airouter_redis_counters_t  counters;
    u_char                       host_id[17];
    ngx_msec_t                   started;    /* init_process */
} ngx_http_airouter_redis_t;


static void ngx_http_airouter_redis_up(ngx_http_airouter_redis_link_t *link);
static void ngx_http_airouter_redis_down(ngx_http_airouter_redis_link_t *link,
    ngx_uint_t was_ready, ngx_uint_t dropped, const char *reason);
static void ngx_http_airouter_redis_block(
    ngx_http_airouter_main_conf_t *amcf, const char *channel,
    ngx_str_t *model, ngx_int_t key, ngx_uint_t scope, airouter_fault_e fault,
    time_t seconds);
static void ngx_http_airouter_redis_message(redisAsyncContext *ac,
    void *reply, void *data);
static void ngx_http_airouter_redis_apply_block(ngx_http_airouter_redis_t *rd,
    json_t *block, time_t until);
static void ngx_http_airouter_redis_apply_strategy(
    ngx_http_airouter_redis_t *rd, const char *name);
static void ngx_http_airouter_redis_blocks_reply(redisAsyncContext *ac,
    void *reply, void *data);
static void ngx_http_airouter_redis_strategy_reply(redisAsyncContext *ac,
    void *reply, void *data);
static char *ngx_http_airouter_redis_dump(ngx_pool_t *pool, json_t *j);
static void ngx_http_airouter_redis_publish(ngx_http_airouter_redis_t *rd,
    ngx_array_t *args, ngx_pool_t *pool, const char *msg);
static void ngx_http_airouter_redis_lock_reply(redisAsyncContext *ac,
    void *reply, void *data);
static void ngx_http_airouter_redis_catalogue_get(
    ngx_http_airouter_redis_t *rd);
static void ngx_http_airouter_redis_catalogue_reply(redisAsyncContext *ac,
    void *reply, void *data);
static void ngx_http_airouter_redis_error(ngx_http_airouter_redis_t *rd,
    const char *reason);


char *
ngx_http_airouter_redis_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_airouter_main_conf_t *amcf = conf;

    size_t                             n;
    in_port_t                          port;
    ngx_str_t                         *value, v;
    ngx_uint_t                         i;
    ngx_addr_t                         addr;
    ngx_http_airouter_redis_t         *rd;
    ngx_http_airouter_redis_server_t  *srv;

    if (amcf->redis) {
        return "is duplicate";
    }

    rd = ngx_pcalloc(cf->pool, sizeof(ngx_http_airouter_redis_t));
    if (rd == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    srv = &rd->server;
    srv->addr = value[1];
    srv->connect_timeout = 1000;
    ngx_str_set(&rd->prefix, "airouter:");

    if (value[1].len > 5 && ngx_strncmp(value[1].data, "unix:", 5) == 0) {
        srv->host = ngx_pnalloc(cf->pool, value[1].len - 5 + 1);
        if (srv->host == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_cpystrn(srv->host, value[1].data + 5, value[1].len - 5 + 1);

    } else {
        /* hiredis resolves a name with a blocking getaddrinfo() */
        if (ngx_parse_addr_port(cf->pool, &addr, value[1].data, value[1].len)
            != NGX_OK)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"airouter_redis\" needs an IP address "
                               "(host:port) or \"unix:/path\", not \"%V\"",
                               &value[1]);
            return NGX_CONF_ERROR;
        }

        port = ngx_inet_get_port(addr.sockaddr);
        srv->port = port ? port : 6379;

        srv->host = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
        if (srv->host == NULL) {
            return NGX_CONF_ERROR;
        }

        n = ngx_sock_ntop(addr.sockaddr, addr.socklen, srv->host,
                          NGX_SOCKADDR_STRLEN, 0);
        srv->host[n] = '\0';
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "password=", 9) == 0) {
            srv->password.data = value[i].data + 9;
            srv->password.len = value[i].len - 9;
            continue;
        }

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            srv->db = ngx_atoi(value[i].data + 3, value[i].len - 3);
            if (srv->db == NGX_ERROR) {
                return "has an invalid \"db\" value";
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "prefix=", 7) == 0) {
            rd->prefix.data = value[i].data + 7;
            rd->prefix.len = value[i].len - 7;

            if (rd->prefix.len > NGX_HTTP_AIROUTER_REDIS_PREFIX) {
                return "has a \"prefix\" longer than 128 bytes";
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "connect_timeout=", 16) == 0) {
            v.data = value[i].data + 16;
            v.len = value[i].len - 16;

            srv->connect_timeout = ngx_parse_time(&v, 0);
            if (srv->connect_timeout == (ngx_msec_t) NGX_ERROR
                || srv->connect_timeout == 0)
            {
                return "has an invalid \"connect_timeout\" value";
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in \"airouter_redis\"",
                           &value[i]);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_airouter_live_on_block(cf, amcf,
                                        ngx_http_airouter_redis_block)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    amcf->redis = rd;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_airouter_redis_init_zone(ngx_http_airouter_zone_t *zone)
{
    ngx_http_airouter_redis_sh_t  *sh;

    if (zone->sh->redis) {
        return NGX_OK;              /* a reload: the host id is kept */
    }

    sh = ngx_slab_alloc(zone->shpool, sizeof(ngx_http_airouter_redis_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(sh, sizeof(ngx_http_airouter_redis_sh_t));

    sh->host = ((uint64_t) ngx_random() << 32)
               ^ (uint64_t) ngx_random() ^ (uint64_t) ngx_time()
               ^ ((uint64_t) ngx_pid << 48);

    zone->sh->redis = sh;

    return NGX_OK;
}


ngx_int_t
ngx_http_airouter_redis_init_process(ngx_cycle_t *cycle)
{
    ngx_http_airouter_zone_t       *zone;
    ngx_http_airouter_redis_t      *rd;
    ngx_http_airouter_main_conf_t  *amcf;

    if ((ngx_process != NGX_PROCESS_WORKER
         && ngx_process != NGX_PROCESS_SINGLE)
        || cycle->conf_ctx[ngx_http_module.index] == NULL)
    {
        return NGX_OK;
    }

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_airouter_module);
    if (amcf == NULL || amcf->config == NULL || amcf->redis == NULL) {
        return NGX_OK;
    }

    zone = ngx_http_airouter_zone_get(amcf);
    if (zone == NULL || zone->sh == NULL || zone->sh->redis == NULL) {
        return NGX_OK;
    }

    rd = amcf->redis;
    rd->amcf = amcf;
    rd->sh = zone->sh->redis;
    rd->log = cycle->log;
    rd->sync = (ngx_worker == 0);

    /*
     * nginx's cached clock is as old as the master's last update: reading
     * the configuration (and a reload's pause) can take longer than the
     * connect timeout, which would then fire at the first loop turn.
     */
    ngx_time_update();
    rd->started = ngx_current_msec;

    ngx_sprintf(rd->host_id, "%016xL", rd->sh->host);

    ngx_http_airouter_redis_link_init(&rd->cmd, &rd->server, "command", 1,
                                      cycle->log, ngx_http_airouter_redis_up,
                                      ngx_http_airouter_redis_down, rd);
    ngx_http_airouter_redis_link_connect(&rd->cmd);

    if (rd->sync) {
        /* a subscribed connection takes no PING: no watchdog */
        ngx_http_airouter_redis_link_init(&rd->sub, &rd->server,
                                          "subscriber", 0, cycle->log,
                                          ngx_http_airouter_redis_up,
                                          ngx_http_airouter_redis_down, rd);
        ngx_http_airouter_redis_link_connect(&rd->sub);

        rd->counters.amcf = amcf;
        rd->counters.link = &rd->cmd;
        rd->counters.prefix = rd->prefix;
        rd->counters.host_id = rd->host_id;
        rd->counters.flushes = &rd->sh->flushes;
        rd->counters.failures = &rd->sh->failures;
        rd->counters.log = cycle->log;

        ngx_http_airouter_redis_counters_start(&rd->counters);
    }

    return NGX_OK;
}


void
ngx_http_airouter_redis_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_airouter_redis_t      *rd;
    ngx_http_airouter_main_conf_t  *amcf;

    if ((ngx_process != NGX_PROCESS_WORKER
         && ngx_process != NGX_PROCESS_SINGLE)
        || cycle->conf_ctx[ngx_http_module.index] == NULL)
    {
        return;
    }

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_airouter_module);
    if (amcf == NULL || amcf->redis == NULL) {
        return;
    }

    rd = amcf->redis;

    if (rd->sh == NULL) {
        return;
    }

    /* the links first: a flush without its answer then waits in failed */
    ngx_http_airouter_redis_link_close(&rd->cmd);
    ngx_http_airouter_redis_link_close(&rd->sub);

    if (rd->sync) {
        ngx_http_airouter_redis_counters_stop(&rd->counters);
    }
}


/* The links' slots */

static void
ngx_http_airouter_redis_up(ngx_http_airouter_redis_link_t *link)
{
    u_char                       key[NGX_HTTP_AIROUTER_REDIS_KEY];
    ngx_http_airouter_redis_t   *rd;

    rd = link->data;

    if (link == &rd->sub) {
        ngx_sprintf(key, "%Vevents%Z", &rd->prefix);

        if (redisAsyncCommand(link->ac, ngx_http_airouter_redis_message,
                              NULL, "SUBSCRIBE %s", key)
            != REDIS_OK)
        {
            ngx_http_airouter_redis_link_fail(link, "SUBSCRIBE not sent");
        }

        return;
    }

    if (!rd->sync) {
        return;
    }

    rd->sh->error[0] = '\0';

    if (ngx_atomic_cmp_set(&rd->sh->up, 0, 1)) {
        rd->sh->since = ngx_time();
    }

    if (ngx_atomic_cmp_set(&rd->sh->outage, 1, 0)) {
        ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                      "airouter: redis \"%V\" is back: flushing the counters "
                      "kept meanwhile", &rd->server.addr);

    } else {
        ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                      "airouter: redis \"%V\" connected", &rd->server.addr);
    }

    /* what the others decided while we were away */
    ngx_sprintf(key, "%Vblocks%Z", &rd->prefix);

    (void) redisAsyncCommand(link->ac, ngx_http_airouter_redis_blocks_reply,
                             NULL, "ZRANGEBYSCORE %s %lld +inf WITHSCORES",
                             key, (long long) ngx_time() + 1);

    ngx_sprintf(key, "%Vstrategy%Z", &rd->prefix);

    (void) redisAsyncCommand(link->ac, ngx_http_airouter_redis_strategy_reply,
                             NULL, "GET %s", key);

    /* the catalogue another host discovered, if any */
    ngx_http_airouter_redis_catalogue_get(rd);

    ngx_http_airouter_redis_counters_catch_up(&rd->counters);
}


static void
ngx_http_airouter_redis_down(ngx_http_airouter_redis_link_t *link,
    ngx_uint_t was_ready, ngx_uint_t dropped, const char *reason)
{
    ngx_uint_t                  level;
    ngx_http_airouter_redis_t  *rd;

    rd = link->data;

    if (rd->sync && link == &rd->cmd) {
        ngx_http_airouter_redis_error(rd, reason);

        if (ngx_atomic_cmp_set(&rd->sh->up, 1, 0)) {
            rd->sh->since = ngx_time();
        }

        if (ngx_atomic_cmp_set(&rd->sh->outage, 0, 1)) {
            ngx_log_error(NGX_LOG_WARN, rd->log, 0,
                          "airouter: redis \"%V\" is unreachable (%s): "
                          "requests go on from shared memory, counters wait "
                          "in the zone until it is back", &rd->server.addr,
                          reason);
        }

        /* a silent server stalls the subscriber too */
        if (dropped) {
            ngx_http_airouter_redis_link_fail(&rd->sub, reason);
        }

        return;
    }

    level = was_ready ? NGX_LOG_INFO : NGX_LOG_DEBUG;

    ngx_log_error(level, rd->log, 0,
                  "airouter: redis \"%V\" %s connection down: %s",
                  &rd->server.addr, link->name, reason);
}


/* Shared state: what this host tells the others */

/*
 * live state's on_block slot: tell the other hosts.  A block of a model on
 * one endpoint carries its scope as a fifth element; the key an operator
 * sees is the (channel, model)'s either way, its value says which.
 */
static void
ngx_http_airouter_redis_block(ngx_http_airouter_main_conf_t *amcf,
    const char *channel, ngx_str_t *model, ngx_int_t key, ngx_uint_t scope,
    airouter_fault_e fault, time_t seconds)
{
    char                       *member, *msg;
    json_t                     *block, *o;
    ngx_pool_t                 *pool;
    ngx_array_t                 args;
    ngx_http_airouter_redis_t  *rd;

    rd = amcf->redis;

    if (rd == NULL || !rd->cmd.ready || seconds <= 0) {
        return;
    }

    block = json_pack("[s,s#,I,i]", channel,
                      model ? (char *) model->data : "",
                      model ? (int) model->len : 0,
                      (json_int_t) key, (int) fault);
    if (block == NULL) {
        return;
    }

    if (scope && model) {
        json_array_append_new(block, json_integer((json_int_t) scope));
    }

    o = json_pack("{s:s,s:O,s:I}", "host", (char *) rd->host_id,
                  "block", block, "ttl", (json_int_t) seconds);
    pool = ngx_create_pool(1024, rd->log);

    member = pool ? ngx_http_airouter_redis_dump(pool, block) : NULL;
    msg = pool ? ngx_http_airouter_redis_dump(pool, o) : NULL;

    if (member == NULL || msg == NULL
        || ngx_array_init(&args, pool, 8, sizeof(ngx_str_t)) != NGX_OK)
    {
        goto done;
    }

    /* the key an operator sees, with its TTL */
    if (ngx_http_airouter_redis_arg(&args, pool, "SET") != NGX_OK
        || (model
            ? ngx_http_airouter_redis_arg(&args, pool, "%Vblock:%s:%V",
                                          &rd->prefix, channel, model)
            : key >= 0
            ? ngx_http_airouter_redis_arg(&args, pool, "%Vblock:%s#key%i",
                                          &rd->prefix, channel, key)
            : ngx_http_airouter_redis_arg(&args, pool, "%Vblock:%s",
                                          &rd->prefix, channel))
           != NGX_OK
        || ngx_http_airouter_redis_arg(&args, pool, "%s", member) != NGX_OK
        || ngx_http_airouter_redis_arg(&args, pool, "PX") != NGX_OK
        || ngx_http_airouter_redis_arg(&args, pool, "%T", seconds * 1000)
           != NGX_OK
        || ngx_http_airouter_redis_link_send(&rd->cmd, NULL, NULL, &args, pool)
           != NGX_OK)
    {
        goto done;
    }

    /* what a host that (re)connects reads; expired members go */
    args.nelts = 0;

    if (ngx_http_airouter_redis_arg(&args, pool, "ZADD") != NGX_OK
        || ngx_http_airouter_redis_arg(&args, pool, "%Vblocks", &rd->prefix)
           != NGX_OK
        || ngx_http_airouter_redis_arg(&args, pool, "%T",
                                       ngx_time() + seconds) != NGX_OK
        || ngx_http_airouter_redis_arg(&args, pool, "%s", member) != NGX_OK
        || ngx_http_airouter_redis_link_send(&rd->cmd, NULL, NULL, &args, pool)
           != NGX_OK)
    {
        goto done;
    }

    args.nelts = 0;

    if (ngx_http_airouter_redis_arg(&args, pool, "ZREMRANGEBYSCORE")
        != NGX_OK
        || ngx_http_airouter_redis_arg(&args, pool, "%Vblocks", &rd->prefix)
           != NGX_OK
        || ngx_http_airouter_redis_arg(&args, pool, "-inf") != NGX_OK
        || ngx_http_airouter_redis_arg(&args, pool, "(%T", ngx_time())
           != NGX_OK
        || ngx_http_airouter_redis_link_send(&rd->cmd, NULL, NULL, &args, pool)
           != NGX_OK)
    {
        goto done;
    }

    /* and those connected now learn it at once */
    ngx_http_airouter_redis_publish(rd, &args, pool, msg);

done:

    if (pool) {
        ngx_destroy_pool(pool);
    }

    json_decref(o);
    json_decref(block);
}


void
ngx_http_airouter_redis_strategy(ngx_http_airouter_main_conf_t *amcf,
    ngx_str_t *name)
{
    char                       *msg;
    json_t                     *o;
    ngx_pool_t                 *pool;
    ngx_array_t                 args;
    ngx_http_airouter_redis_t  *rd;

    rd = amcf->redis;

    if (rd == NULL || !rd->cmd.ready) {
        return;
    }

    o = json_pack("{s:s,s:s#}", "host", (char *) rd->host_id,
                  "strategy", (char *) name->data, (int) name->len);
    pool = ngx_create_pool(512, rd->log);
    msg = pool ? ngx_http_airouter_redis_dump(pool, o) : NULL;

    if (msg == NULL
        || ngx_array_init(&args, pool, 4, sizeof(ngx_str_t)) != NGX_OK)
    {
        goto done;
    }

    if (ngx_http_airouter_redis_arg(&args, pool, name->len ? "SET" : "DEL")
        != NGX_OK
        || ngx_http_airouter_redis_arg(&args, pool, "%Vstrategy",
                                       &rd->prefix) != NGX_OK
        || (name->len
            && ngx_http_airouter_redis_arg(&args, pool, "%V", name)
               != NGX_OK)
        || ngx_http_airouter_redis_link_send(&rd->cmd, NULL, NULL, &args, pool)
           != NGX_OK)
    {
        goto done;
    }

    ngx_http_airouter_redis_publish(rd, &args, pool, msg);

done:

    if (pool) {
        ngx_destroy_pool(pool);
    }

    json_decref(o);
}


/* Shared state: what the others tell this host */

static void
ngx_http_airouter_redis_message(redisAsyncContext *ac, void *reply,
    void *data)
{
    redisReply                      *r = reply;
    ngx_http_airouter_redis_link_t  *link = ac->data;

    json_t                          *o;
    u_char                           fp[17];
    const char                      *host, *strategy;
    json_error_t                     err;
    ngx_http_airouter_redis_t       *rd;

    if (r == NULL || link == NULL || link->ac != ac
        || r->type != REDIS_REPLY_ARRAY || r->elements != 3
        || r->element[0]->type != REDIS_REPLY_STRING
        || r->element[2]->type != REDIS_REPLY_STRING
        || ngx_strcmp(r->element[0]->str, "message") != 0)
    {
        return;
    }

    rd = link->data;

    o = json_loadb(r->element[2]->str, r->element[2]->len, 0, &err);
    if (o == NULL) {
        return;
    }

    host = json_string_value(json_object_get(o, "host"));

    if (host && ngx_strcmp(host, rd->host_id) != 0) {

        if (json_is_array(json_object_get(o, "block"))) {
            ngx_http_airouter_redis_apply_block(rd,
                json_object_get(o, "block"),
                ngx_time() + json_integer_value(json_object_get(o, "ttl")));
        }

        strategy = json_string_value(json_object_get(o, "strategy"));

        if (strategy) {
            ngx_http_airouter_redis_apply_strategy(rd, strategy);
        }

        if (json_is_string(json_object_get(o, "catalogue"))) {
            ngx_sprintf(fp, "%016xL%Z", rd->amcf->fingerprint);

            if (ngx_strcmp(json_string_value(json_object_get(o, "catalogue")),
                           fp) == 0)
            {
                ngx_http_airouter_redis_catalogue_get(rd);
            }
        }
    }

    json_decref(o);
}


/* [channel, model, key, fault] or [channel, model, key, fault, scope] */
static void
ngx_http_airouter_redis_apply_block(ngx_http_airouter_redis_t *rd,
    json_t *block, time_t until)
{
    size_t              i;
    ngx_str_t           model;
    ngx_int_t           key;
    json_int_t          scope;
    const char         *channel;
    airouter_config_t  *acf;

    channel = json_string_value(json_array_get(block, 0));
    model.data = (u_char *) json_string_value(json_array_get(block, 1));
    key = (ngx_int_t) json_integer_value(json_array_get(block, 2));
    scope = json_integer_value(json_array_get(block, 4));

    if (channel == NULL || model.data == NULL || until <= ngx_time()
        || scope < 0 || scope > NGX_HTTP_AIROUTER_LIVE_SCOPES)
    {
        return;
    }

    model.len = ngx_strlen(model.data);
    acf = rd->amcf->config;

    for (i = 0; i < acf->nchannels; i++) {
        if (ngx_strcmp(acf->channels[i].id, channel) == 0) {
            break;
        }
    }

    /* a channel of another configuration */
    if (i == acf->nchannels
        || (key >= 0 && (size_t) key >= acf->channels[i].api_keys.n))
    {
        return;
    }

    ngx_http_airouter_live_apply(rd->amcf, channel,
                                 model.len ? &model : NULL, key,
                                 model.len ? (ngx_uint_t) scope : 0,
                                 (airouter_fault_e) json_integer_value(
                                     json_array_get(block, 3)),
                                 until);

    ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                  "airouter: redis: another host blocked channel \"%s\"%s%s"
                  "%s%s for %T s", channel, model.len ? " model " : "",
                  model.len ? (char *) model.data : "",
                  (model.len && scope) ? " on " : "",
                  (model.len && scope)
                  ? ngx_http_airouter_live_scope_name((ngx_uint_t) scope) : "",
                  until - ngx_time());
}


static void
ngx_http_airouter_redis_apply_strategy(ngx_http_airouter_redis_t *rd,
    const char *name)
{
    ngx_str_t  s;

    if (*name && airouter_config_strategy(rd->amcf->config, name) == NULL) {
        return;
    }

    s.data = (u_char *) name;
    s.len = ngx_strlen(name);

    if (ngx_http_airouter_switch_set_strategy(rd->amcf, &s) == NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                      "airouter: redis: routing strategy \"%s\" set by "
                      "another host", *name ? name : "(configured)");
    }
}


static void
ngx_http_airouter_redis_blocks_reply(redisAsyncContext *ac, void *reply,
    void *data)
{
    redisReply                      *r = reply;
    ngx_http_airouter_redis_link_t  *link = ac->data;

    size_t        i;
    json_t       *block;
    json_error_t  err;

    if (r == NULL || link == NULL || r->type != REDIS_REPLY_ARRAY) {
        return;
    }

    for (i = 0; i + 1 < r->elements; i += 2) {
        if (r->element[i]->type != REDIS_REPLY_STRING
            || r->element[i + 1]->type != REDIS_REPLY_STRING)
        {
            continue;
        }

        block = json_loadb(r->element[i]->str, r->element[i]->len, 0, &err);

        if (json_is_array(block)) {
            ngx_http_airouter_redis_apply_block(link->data, block,
                (time_t) ngx_atotm((u_char *) r->element[i + 1]->str,
                                   r->element[i + 1]->len));
        }

        json_decref(block);
    }
}


static void
ngx_http_airouter_redis_strategy_reply(redisAsyncContext *ac, void *reply,
    void *data)
{
    redisReply                      *r = reply;
    ngx_http_airouter_redis_link_t  *link = ac->data;

    u_char  name[64];

    if (r == NULL || link == NULL || r->type != REDIS_REPLY_STRING
        || r->len >= sizeof(name))
    {
        return;
    }

    ngx_cpystrn(name, (u_char *) r->str, r->len + 1);

    ngx_http_airouter_redis_apply_strategy(link->data, (char *) name);
}


/*
 * The discovered catalogue: one host polls the providers.  The lock is
 * <prefix>discovery:lock = host id, PX ttl; taken when free or already
 * ours (so the winner keeps it while it lives); the catalogue is
 * <prefix>catalogue:<fingerprint>, announced on <prefix>events.
 */

ngx_int_t
ngx_http_airouter_redis_discovery_lock(ngx_http_airouter_main_conf_t *amcf,
    ngx_msec_t ttl, ngx_http_airouter_redis_lock_pt handler, void *data)
{
    u_char                          key[NGX_HTTP_AIROUTER_REDIS_KEY];
    ngx_http_airouter_redis_t      *rd;
    ngx_http_airouter_redis_lock_t *lk;

    rd = amcf->redis;

    if (rd == NULL || rd->sh == NULL) {
        return NGX_DECLINED;
    }

    if (rd->cmd.ac == NULL || !rd->cmd.ready) {
        /* the first connection is under way: wait for it, not longer */
        if (!rd->sh->up && !rd->sh->outage
            && ngx_current_msec - rd->started
               < rd->server.connect_timeout + 1000)
        {
            return NGX_AGAIN;
        }

        return NGX_DECLINED;
    }

    lk = ngx_alloc(sizeof(ngx_http_airouter_redis_lock_t), rd->log);
    if (lk == NULL) {
        return NGX_DECLINED;
    }

    lk->handler = handler;
    lk->data = data;

    ngx_sprintf(key, "%Vdiscovery:lock%Z", &rd->prefix);

    if (redisAsyncCommand(rd->cmd.ac, ngx_http_airouter_redis_lock_reply, lk,
            "EVAL %s 1 %s %s %llu",
            "local v = redis.call('GET', KEYS[1]) "
            "if v == false or v == ARGV[1] then "
            "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) "
            "return 1 end return 0",
            key, rd->host_id, (unsigned long long) ttl)
        != REDIS_OK)
    {
        ngx_free(lk);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static void
ngx_http_airouter_redis_lock_reply(redisAsyncContext *ac, void *reply,
    void *data)
{
    redisReply                      *r = reply;
    ngx_http_airouter_redis_lock_t   lk;

    lk = *(ngx_http_airouter_redis_lock_t *) data;
    ngx_free(data);

    if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
        lk.handler(lk.data, -1);            /* no answer: run locally */
        return;
    }

    lk.handler(lk.data, r->integer == 1);
}


void
ngx_http_airouter_redis_catalogue(ngx_http_airouter_main_conf_t *amcf,
    void *blob, size_t len, ngx_msec_t ttl)
{
    char                       *msg;
    json_t                     *o;
    ngx_str_t                  *a;
    ngx_pool_t                 *pool;
    ngx_array_t                 args;
    ngx_http_airouter_redis_t  *rd;

    rd = amcf->redis;

    if (rd == NULL || rd->sh == NULL) {
        return;
    }

    rd->sh->cat_checksum = airouter_catalog_checksum(blob, len);
    rd->sh->cat_remote = 0;

    if (!rd->cmd.ready) {
        return;
    }

    o = json_pack("{s:s,s:s,s:I}", "host", (char *) rd->host_id,
                  "catalogue", "", "generation",
                  (json_int_t) ((airouter_catalog_t *) blob)->generation);
    pool = ngx_create_pool(512, rd->log);

    if (o == NULL || pool == NULL
        || ngx_array_init(&args, pool, 6, sizeof(ngx_str_t)) != NGX_OK)
    {
        goto done;
    }

    if (ngx_http_airouter_redis_arg(&args, pool, "SET") != NGX_OK
        || ngx_http_airouter_redis_arg(&args, pool, "%Vcatalogue:%016xL",
                                       &rd->prefix, amcf->fingerprint)
           != NGX_OK
        || (a = ngx_array_push(&args)) == NULL
        || ngx_http_airouter_redis_arg(&args, pool, "PX") != NGX_OK
        || ngx_http_airouter_redis_arg(&args, pool, "%M", ttl) != NGX_OK)
    {
        goto done;
    }

    a->data = blob;                     /* binary-safe: argv with lengths */
    a->len = len;

    if (ngx_http_airouter_redis_link_send(&rd->cmd, NULL, NULL, &args, pool)
        != NGX_OK)
    {
        goto done;
    }

    args.nelts = 0;

    if (ngx_http_airouter_redis_arg(&args, pool, "SET") != NGX_OK
        || ngx_http_airouter_redis_arg(&args, pool, "%Vcatalogue:%016xL:host",
                                       &rd->prefix, amcf->fingerprint)
           != NGX_OK
        || ngx_http_airouter_redis_arg(&args, pool, "%s", rd->host_id)
           != NGX_OK
        || ngx_http_airouter_redis_arg(&args, pool, "PX") != NGX_OK
        || ngx_http_airouter_redis_arg(&args, pool, "%M", ttl) != NGX_OK
        || ngx_http_airouter_redis_link_send(&rd->cmd, NULL, NULL, &args, pool)
           != NGX_OK)
    {
        goto done;
    }

    json_object_set_new(o, "catalogue", json_sprintf("%016llx",
                        (unsigned long long) amcf->fingerprint));
    msg = ngx_http_airouter_redis_dump(pool, o);

    if (msg) {
        ngx_http_airouter_redis_publish(rd, &args, pool, msg);
    }

done:

    if (pool) {
        ngx_destroy_pool(pool);
    }

    json_decref(o);
}


static void
ngx_http_airouter_redis_catalogue_get(ngx_http_airouter_redis_t *rd)
{
    u_char  key[NGX_HTTP_AIROUTER_REDIS_KEY];

    if (!rd->sync || rd->cmd.ac == NULL || !rd->cmd.ready) {
        return;
    }

    ngx_sprintf(key, "%Vcatalogue:%016xL%Z", &rd->prefix,
                rd->amcf->fingerprint);

    (void) redisAsyncCommand(rd->cmd.ac,
                             ngx_http_airouter_redis_catalogue_reply, rd,
                             "MGET %s %s:host", key, key);
}


static void
ngx_http_airouter_redis_catalogue_reply(redisAsyncContext *ac, void *reply,
    void *data)
{
    redisReply                 *a = reply, *r, *h;
    ngx_http_airouter_redis_t  *rd = data;

    void                       *blob;
    uint64_t                    sum;
    const airouter_catalog_t   *cat;

    if (a == NULL || a->type != REDIS_REPLY_ARRAY || a->elements != 2
        || ngx_exiting || ngx_quit || ngx_terminate)
    {
        return;
    }

    r = a->element[0];
    h = a->element[1];

    if (r->type != REDIS_REPLY_STRING || r->len == 0) {
        return;
    }

    sum = airouter_catalog_checksum(r->str, r->len);

    if (sum == rd->sh->cat_checksum) {
        return;                         /* ours, or taken already */
    }

    blob = ngx_alloc(r->len, rd->log);  /* malloc'd: aligned */
    if (blob == NULL) {
        return;
    }

    ngx_memcpy(blob, r->str, r->len);

    cat = airouter_catalog_open(blob, r->len);

    if (cat == NULL || !airouter_catalog_fits(cat, rd->amcf->config)) {
        ngx_log_error(NGX_LOG_WARN, rd->log, 0,
                      "airouter: redis: the stored catalogue does not fit "
                      "this configuration, ignored");
        ngx_free(blob);
        return;
    }

    if (ngx_http_airouter_catalog_publish(rd->amcf, blob, r->len, rd->log)
        == NGX_OK)
    {
        rd->sh->cat_checksum = sum;
        rd->sh->cat_at = ngx_time();
        ngx_cpystrn(rd->sh->cat_from,
                    (u_char *) (h->type == REDIS_REPLY_STRING ? h->str : "?"),
                    sizeof(rd->sh->cat_from));
        rd->sh->cat_remote = 1;

        ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                      "airouter: redis: catalogue taken from another host's "
                      "discovery (%uz models)", airouter_catalog_nmodels(cat));
    }

    ngx_free(blob);
}


json_t *
ngx_http_airouter_redis_catalogue_json(ngx_http_airouter_main_conf_t *amcf)
{
    ngx_http_airouter_redis_t  *rd;

    rd = amcf->redis;

    if (rd == NULL || rd->sh == NULL || !rd->sh->cat_remote) {
        return NULL;
    }

    return json_pack("{s:s,s:s,s:I}", "source", "redis",
                     "from", (char *) rd->sh->cat_from,
                     "taken", (json_int_t) rd->sh->cat_at);
}


/* Helpers */

/* Queues a command whose arguments are the ngx_str_t of args. */
/* A JSON value laid out in pool memory, NUL-terminated. */
static char *
ngx_http_airouter_redis_dump(ngx_pool_t *pool, json_t *j)
{
    char    *p;
    size_t   len;

    if (j == NULL) {
        return NULL;
    }

    len = json_dumpb(j, NULL, 0, JSON_COMPACT);
    if (len == 0) {
        return NULL;
    }

    p = ngx_pnalloc(pool, len + 1);
    if (p == NULL) {
        return NULL;
    }

    (void) json_dumpb(j, p, len, JSON_COMPACT);
    p[len] = '\0';

    return p;
}


/* Tells every host on <prefix>events; fire and forget. */
static void
ngx_http_airouter_redis_publish(ngx_http_airouter_redis_t *rd,
    ngx_array_t *args, ngx_pool_t *pool, const char *msg)
{
    args->nelts = 0;

    if (ngx_http_airouter_redis_arg(args, pool, "PUBLISH") == NGX_OK
        && ngx_http_airouter_redis_arg(args, pool, "%Vevents", &rd->prefix)
           == NGX_OK
        && ngx_http_airouter_redis_arg(args, pool, "%s", msg) == NGX_OK)
    {
        (void) ngx_http_airouter_redis_link_send(&rd->cmd, NULL, NULL, args,
                                                 pool);
    }
}


static void
ngx_http_airouter_redis_error(ngx_http_airouter_redis_t *rd,
    const char *reason)
{
    ngx_cpystrn(rd->sh->error, (u_char *) reason, sizeof(rd->sh->error));
}


json_t *
ngx_http_airouter_redis_json(ngx_http_airouter_main_conf_t *amcf)
{
    json_t                     *o;
    ngx_http_airouter_redis_t  *rd;

    rd = amcf->redis;

    if (rd == NULL) {
        return NULL;
    }

    if (rd->sh == NULL) {
        return json_pack("{s:s#,s:s}",
                         "address", (char *) rd->server.addr.data,
                         (int) rd->server.addr.len, "status", "unknown");
    }

    o = json_pack("{s:s#,s:s,s:I,s:s,s:I,s:I}",
                  "address", (char *) rd->server.addr.data,
                  (int) rd->server.addr.len,
                  "status", rd->sh->up ? "up" : "down",
                  "since", (json_int_t) rd->sh->since,
                  "worker", rd->cmd.ready ? "up" : "down",
                  "flushes", (json_int_t) rd->sh->flushes,
                  "failures", (json_int_t) rd->sh->failures);

    if (o && rd->sh->error[0]) {
        json_object_set_new(o, "last_error",
                            json_string((char *) rd->sh->error));
    }

    return o;
}
