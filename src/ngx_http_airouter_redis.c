/*
 * airouter_redis: the hiredis adapter on nginx's event loop, the life of
 * the connections and the sync of shared state; see
 * ngx_http_airouter_redis.h.  Called by the module's init/exit process
 * hooks, through live state's on_block slot (blocks), by the admin API
 * (strategy) and /health.
 */

#include "ngx_http_airouter_redis.h"
#include "ngx_http_airouter_live.h"
#include "ngx_http_airouter_stats.h"
#include "ngx_http_airouter_catalog.h"

#include <hiredis/hiredis.h>
#include <hiredis/async.h>


#define NGX_HTTP_AIROUTER_REDIS_SYNC         500    /* ms: flush, read back */
#define NGX_HTTP_AIROUTER_REDIS_PING         1000   /* ms */
#define NGX_HTTP_AIROUTER_REDIS_SILENT       3000   /* ms without a PONG */
#define NGX_HTTP_AIROUTER_REDIS_BACKOFF      200    /* ms, doubled ... */
#define NGX_HTTP_AIROUTER_REDIS_BACKOFF_MAX  5000   /* ... up to this */
#define NGX_HTTP_AIROUTER_REDIS_KEEP         (100 * 86400)  /* stats keys */
#define NGX_HTTP_AIROUTER_REDIS_ERROR        128
#define NGX_HTTP_AIROUTER_REDIS_BUCKETS      256
#define NGX_HTTP_AIROUTER_REDIS_PREFIX       128    /* longest prefix */
#define NGX_HTTP_AIROUTER_REDIS_KEY          (NGX_HTTP_AIROUTER_REDIS_PREFIX \
                                              + 32)


typedef struct ngx_http_airouter_redis_s  ngx_http_airouter_redis_t;


/*
 * One connection.  ac is NULL while down; conn wraps ac's socket, so that
 * its read and write events drive hiredis; it is freed by hiredis' cleanup
 * hook, never closed (hiredis closes the socket).
 */
typedef struct {
    ngx_http_airouter_redis_t   *rd;
    redisAsyncContext           *ac;
    ngx_connection_t            *conn;
    ngx_event_t                  retry;      /* reconnect after backoff */
    ngx_event_t                  timer;      /* connect timeout, then PING */
    ngx_msec_t                   backoff;
    ngx_msec_t                   pong;       /* last answer */
    ngx_uint_t                   ready;      /* connected, AUTH/SELECT done */
    ngx_uint_t                   subscriber;
    const char                  *name;
} ngx_http_airouter_redis_link_t;


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


struct ngx_http_airouter_redis_s {
    /* the directive */
    ngx_str_t                    addr;
    u_char                      *host;       /* IP literal or socket path */
    int                          port;       /* 0: unix socket */
    ngx_str_t                    password;
    ngx_int_t                    db;
    ngx_str_t                    prefix;
    ngx_msec_t                   connect_timeout;

    /* this process (each worker has its own copy of the configuration) */
    ngx_http_airouter_main_conf_t  *amcf;
    ngx_http_airouter_redis_sh_t   *sh;
    ngx_log_t                   *log;
    ngx_uint_t                   sync;       /* worker 0: sub + tick */
    ngx_http_airouter_redis_link_t  cmd;
    ngx_http_airouter_redis_link_t  sub;
    ngx_event_t                  tick;
    ngx_uint_t                   flushing;   /* a batch awaits its reply */
    void                        *failed;     /* a batch to send again */
    uint64_t                     batches;
    ngx_uint_t                   reading;    /* HGETALLs awaiting replies */
    uint32_t                     catch_up;   /* first day to read; 0: today */
    u_char                       host_id[17];
    ngx_msec_t                   started;    /* init_process */
};


/*
 * A flush: the pending deltas taken from the zone, sent as one script
 * that applies them only if its batch id is new, so that a batch whose
 * answer was lost (the server got it, then the link died) can go again.
 */
typedef struct {
    ngx_http_airouter_redis_t   *rd;
    ngx_pool_t                  *pool;
    ngx_array_t                  rows;
    ngx_array_t                  args;
} ngx_http_airouter_redis_batch_t;


/* A row of a day read back, chained in a small hash while it is parsed. */
typedef struct ngx_http_airouter_redis_acc_s  ngx_http_airouter_redis_acc_t;

struct ngx_http_airouter_redis_acc_s {
    ngx_http_airouter_redis_acc_t  *next;
    ngx_uint_t                      index;   /* in rows */
};


static void ngx_http_airouter_redis_link_init(ngx_http_airouter_redis_t *rd,
    ngx_http_airouter_redis_link_t *link, const char *name,
    ngx_uint_t subscriber);
static void ngx_http_airouter_redis_connect(
    ngx_http_airouter_redis_link_t *link);
static void ngx_http_airouter_redis_down(ngx_http_airouter_redis_link_t *link,
    ngx_uint_t free, const char *reason);
static void ngx_http_airouter_redis_up(ngx_http_airouter_redis_link_t *link);
static void ngx_http_airouter_redis_retry_handler(ngx_event_t *ev);
static void ngx_http_airouter_redis_timer_handler(ngx_event_t *ev);
static void ngx_http_airouter_redis_read_handler(ngx_event_t *ev);
static void ngx_http_airouter_redis_write_handler(ngx_event_t *ev);
static void ngx_http_airouter_redis_event(ngx_event_t *ev, ngx_int_t event,
    ngx_uint_t on);
static void ngx_http_airouter_redis_add_read(void *data);
static void ngx_http_airouter_redis_del_read(void *data);
static void ngx_http_airouter_redis_add_write(void *data);
static void ngx_http_airouter_redis_del_write(void *data);
static void ngx_http_airouter_redis_cleanup(void *data);
static void ngx_http_airouter_redis_connected(const redisAsyncContext *ac,
    int status);
static void ngx_http_airouter_redis_disconnected(const redisAsyncContext *ac,
    int status);
static void ngx_http_airouter_redis_setup_reply(redisAsyncContext *ac,
    void *reply, void *data);
static void ngx_http_airouter_redis_hello_reply(redisAsyncContext *ac,
    void *reply, void *data);
static void ngx_http_airouter_redis_pong(redisAsyncContext *ac, void *reply,
    void *data);
static void ngx_http_airouter_redis_block(
    ngx_http_airouter_main_conf_t *amcf, const char *channel,
    ngx_str_t *model, ngx_int_t key, airouter_fault_e fault, time_t seconds);
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
static void ngx_http_airouter_redis_tick(ngx_event_t *ev);
static void ngx_http_airouter_redis_flush(ngx_http_airouter_redis_t *rd);
static void ngx_http_airouter_redis_flush_reply(redisAsyncContext *ac,
    void *reply, void *data);
static void ngx_http_airouter_redis_read_back(ngx_http_airouter_redis_t *rd);
static void ngx_http_airouter_redis_day_reply(redisAsyncContext *ac,
    void *reply, void *data);
static char *ngx_http_airouter_redis_dump(ngx_pool_t *pool, json_t *j);
static void ngx_http_airouter_redis_publish(ngx_http_airouter_redis_t *rd,
    ngx_array_t *args, ngx_pool_t *pool, const char *msg);
static ngx_int_t ngx_http_airouter_redis_send(ngx_http_airouter_redis_t *rd,
    redisCallbackFn *fn, void *data, ngx_array_t *args, ngx_pool_t *pool);
static ngx_int_t ngx_http_airouter_redis_arg(ngx_array_t *args,
    ngx_pool_t *pool, const char *fmt, ...);
static u_char *ngx_http_airouter_redis_day(u_char *buf, uint32_t day);
static void ngx_http_airouter_redis_lock_reply(redisAsyncContext *ac,
    void *reply, void *data);
static void ngx_http_airouter_redis_catalogue_get(
    ngx_http_airouter_redis_t *rd);
static void ngx_http_airouter_redis_catalogue_reply(redisAsyncContext *ac,
    void *reply, void *data);
static void ngx_http_airouter_redis_error(ngx_http_airouter_redis_t *rd,
    const char *reason);


static const char  *ngx_http_airouter_redis_flush_lua =
    "if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', 86400) then "
    "return 0 end "
    "for i = 2, #ARGV, 3 do "
    "if string.sub(ARGV[i + 1], -5) == ':cost' then "
    "redis.call('HINCRBYFLOAT', ARGV[i], ARGV[i + 1], ARGV[i + 2]) "
    "else redis.call('HINCRBY', ARGV[i], ARGV[i + 1], ARGV[i + 2]) end "
    "redis.call('EXPIRE', ARGV[i], ARGV[1]) "
    "end "
    "return 1";


/* counters as they are named in the day's hash */
static const char  *ngx_http_airouter_redis_counters[] = {
    "requests", "errors", "prompt_tokens", "completion_tokens",
    "unauthorized", "throttled", "cost", NULL
};


char *
ngx_http_airouter_redis_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_airouter_main_conf_t *amcf = conf;

    size_t                      n;
    in_port_t                   port;
    ngx_str_t                  *value, v;
    ngx_uint_t                  i;
    ngx_addr_t                  addr;
    ngx_http_airouter_redis_t  *rd;

    if (amcf->redis) {
        return "is duplicate";
    }

    rd = ngx_pcalloc(cf->pool, sizeof(ngx_http_airouter_redis_t));
    if (rd == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    rd->addr = value[1];
    ngx_str_set(&rd->prefix, "airouter:");
    rd->connect_timeout = 1000;

    if (value[1].len > 5 && ngx_strncmp(value[1].data, "unix:", 5) == 0) {
        rd->host = ngx_pnalloc(cf->pool, value[1].len - 5 + 1);
        if (rd->host == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_cpystrn(rd->host, value[1].data + 5, value[1].len - 5 + 1);

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
        rd->port = port ? port : 6379;

        rd->host = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
        if (rd->host == NULL) {
            return NGX_CONF_ERROR;
        }

        n = ngx_sock_ntop(addr.sockaddr, addr.socklen, rd->host,
                          NGX_SOCKADDR_STRLEN, 0);
        rd->host[n] = '\0';
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "password=", 9) == 0) {
            rd->password.data = value[i].data + 9;
            rd->password.len = value[i].len - 9;
            continue;
        }

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            rd->db = ngx_atoi(value[i].data + 3, value[i].len - 3);
            if (rd->db == NGX_ERROR) {
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

            rd->connect_timeout = ngx_parse_time(&v, 0);
            if (rd->connect_timeout == (ngx_msec_t) NGX_ERROR
                || rd->connect_timeout == 0)
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
    rd->started = ngx_current_msec;

    ngx_sprintf(rd->host_id, "%016xL", rd->sh->host);

    ngx_http_airouter_redis_link_init(rd, &rd->cmd, "command", 0);
    ngx_http_airouter_redis_connect(&rd->cmd);

    if (rd->sync) {
        ngx_http_airouter_redis_link_init(rd, &rd->sub, "subscriber", 1);
        ngx_http_airouter_redis_connect(&rd->sub);

        rd->tick.handler = ngx_http_airouter_redis_tick;
        rd->tick.data = rd;
        rd->tick.log = cycle->log;
        rd->tick.cancelable = 1;

        ngx_add_timer(&rd->tick, NGX_HTTP_AIROUTER_REDIS_SYNC);
    }

    return NGX_OK;
}


void
ngx_http_airouter_redis_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                       i;
    redisAsyncContext               *ac;
    ngx_http_airouter_redis_t       *rd;
    ngx_http_airouter_redis_link_t  *link[2];
    ngx_http_airouter_main_conf_t   *amcf;
    ngx_http_airouter_redis_batch_t *b;

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

    if (rd->tick.timer_set) {
        ngx_del_timer(&rd->tick);
    }

    link[0] = &rd->cmd;
    link[1] = &rd->sub;

    for (i = 0; i < 2; i++) {
        if (link[i]->rd == NULL) {
            continue;
        }

        if (link[i]->retry.timer_set) {
            ngx_del_timer(&link[i]->retry);
        }

        if (link[i]->timer.timer_set) {
            ngx_del_timer(&link[i]->timer);
        }

        ac = link[i]->ac;
        link[i]->ac = NULL;
        link[i]->ready = 0;

        if (ac) {
            redisAsyncFree(ac);
        }
    }

    /*
     * A batch without an answer goes back to the zone for the next worker
     * 0: counted twice if the server had applied it, rather than lost.
     */
    b = rd->failed;
    rd->failed = NULL;

    if (b) {
        ngx_http_airouter_stats_give_back(amcf, &b->rows);
        ngx_destroy_pool(b->pool);
    }
}


/* Connections */

static void
ngx_http_airouter_redis_link_init(ngx_http_airouter_redis_t *rd,
    ngx_http_airouter_redis_link_t *link, const char *name,
    ngx_uint_t subscriber)
{
    link->rd = rd;
    link->name = name;
    link->subscriber = subscriber;

    link->retry.handler = ngx_http_airouter_redis_retry_handler;
    link->retry.data = link;
    link->retry.log = rd->log;
    link->retry.cancelable = 1;

    link->timer.handler = ngx_http_airouter_redis_timer_handler;
    link->timer.data = link;
    link->timer.log = rd->log;
    link->timer.cancelable = 1;
}


static void
ngx_http_airouter_redis_connect(ngx_http_airouter_redis_link_t *link)
{
    u_char                      err[NGX_HTTP_AIROUTER_REDIS_ERROR];
    ngx_connection_t           *c;
    redisAsyncContext          *ac;
    ngx_http_airouter_redis_t  *rd;

    rd = link->rd;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    ac = rd->port ? redisAsyncConnect((char *) rd->host, rd->port)
                  : redisAsyncConnectUnix((char *) rd->host);

    if (ac == NULL) {
        ngx_http_airouter_redis_down(link, 0, "out of memory");
        return;
    }

    if (ac->err) {
        ngx_cpystrn(err, (u_char *) ac->errstr, sizeof(err));
        redisAsyncFree(ac);
        ngx_http_airouter_redis_down(link, 0, (char *) err);
        return;
    }

    c = ngx_get_connection(ac->c.fd, rd->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        ngx_http_airouter_redis_down(link, 0, "no free connection");
        return;
    }

    c->data = link;
    c->read->handler = ngx_http_airouter_redis_read_handler;
    c->write->handler = ngx_http_airouter_redis_write_handler;
    c->read->log = rd->log;
    c->write->log = rd->log;

    link->ac = ac;
    link->conn = c;
    link->ready = 0;

    ac->data = link;
    ac->ev.data = c;
    ac->ev.addRead = ngx_http_airouter_redis_add_read;
    ac->ev.delRead = ngx_http_airouter_redis_del_read;
    ac->ev.addWrite = ngx_http_airouter_redis_add_write;
    ac->ev.delWrite = ngx_http_airouter_redis_del_write;
    ac->ev.cleanup = ngx_http_airouter_redis_cleanup;

    /* the hooks must be in place: this one waits for a write event */
    redisAsyncSetConnectCallback(ac, ngx_http_airouter_redis_connected);
    redisAsyncSetDisconnectCallback(ac, ngx_http_airouter_redis_disconnected);

    /* queued now, written once connected */
    if (rd->password.len) {
        (void) redisAsyncCommand(ac, ngx_http_airouter_redis_setup_reply,
                                 "AUTH", "AUTH %b", rd->password.data,
                                 rd->password.len);
    }

    if (rd->db) {
        (void) redisAsyncCommand(ac, ngx_http_airouter_redis_setup_reply,
                                 "SELECT", "SELECT %d", (int) rd->db);
    }

    (void) redisAsyncCommand(ac, ngx_http_airouter_redis_hello_reply, NULL,
                             "PING");

    ngx_add_timer(&link->timer, rd->connect_timeout);
}


/*
 * The link is down: free is set when hiredis is not already freeing the
 * context (a timeout, an error reply).  Pending callbacks then run with a
 * NULL reply.  A reconnection is scheduled with a backoff.
 */
static void
ngx_http_airouter_redis_down(ngx_http_airouter_redis_link_t *link,
    ngx_uint_t free, const char *reason)
{
    ngx_uint_t                   was_ready, level;
    redisAsyncContext           *ac;
    ngx_http_airouter_redis_t   *rd;

    rd = link->rd;
    ac = link->ac;
    was_ready = link->ready;

    link->ac = NULL;
    link->ready = 0;

    if (link->timer.timer_set) {
        ngx_del_timer(&link->timer);
    }

    if (ac && free) {
        redisAsyncFree(ac);
    }

    if (rd->sync && !link->subscriber) {
        ngx_http_airouter_redis_error(rd, reason);

        if (ngx_atomic_cmp_set(&rd->sh->up, 1, 0)) {
            rd->sh->since = ngx_time();
        }

        if (ngx_atomic_cmp_set(&rd->sh->outage, 0, 1)) {
            ngx_log_error(NGX_LOG_WARN, rd->log, 0,
                          "airouter: redis \"%V\" is unreachable (%s): "
                          "requests go on from shared memory, counters wait "
                          "in the zone until it is back", &rd->addr, reason);
        }

        /* a silent server stalls the subscriber too */
        if (rd->sub.ac && free) {
            ngx_http_airouter_redis_down(&rd->sub, 1, reason);
        }

    } else {
        level = was_ready ? NGX_LOG_INFO : NGX_LOG_DEBUG;

        ngx_log_error(level, rd->log, 0,
                      "airouter: redis \"%V\" %s connection down: %s",
                      &rd->addr, link->name, reason);
    }

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    link->backoff = link->backoff
                    ? ngx_min(link->backoff * 2,
                              NGX_HTTP_AIROUTER_REDIS_BACKOFF_MAX)
                    : NGX_HTTP_AIROUTER_REDIS_BACKOFF;

    if (!link->retry.timer_set) {
        ngx_add_timer(&link->retry, link->backoff);
    }
}


static void
ngx_http_airouter_redis_up(ngx_http_airouter_redis_link_t *link)
{
    u_char                       key[NGX_HTTP_AIROUTER_REDIS_KEY];
    ngx_http_airouter_redis_t   *rd;

    rd = link->rd;

    link->ready = 1;
    link->backoff = 0;
    link->pong = ngx_current_msec;

    if (link->timer.timer_set) {
        ngx_del_timer(&link->timer);
    }

    if (link->subscriber) {
        ngx_sprintf(key, "%Vevents%Z", &rd->prefix);

        if (redisAsyncCommand(link->ac, ngx_http_airouter_redis_message,
                              NULL, "SUBSCRIBE %s", key)
            != REDIS_OK)
        {
            ngx_http_airouter_redis_down(link, 1, "SUBSCRIBE not sent");
        }

        return;
    }

    ngx_add_timer(&link->timer, NGX_HTTP_AIROUTER_REDIS_PING);

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
                      "kept meanwhile", &rd->addr);

    } else {
        ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                      "airouter: redis \"%V\" connected", &rd->addr);
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

    /* this month's counters, then the flush of what waited */
    rd->catch_up = ngx_http_airouter_stats_today();
    rd->catch_up -= ngx_min(rd->catch_up - 1, 31);

    if (rd->tick.timer_set) {
        ngx_del_timer(&rd->tick);
    }

    ngx_add_timer(&rd->tick, 1);
}


static void
ngx_http_airouter_redis_retry_handler(ngx_event_t *ev)
{
    ngx_http_airouter_redis_link_t  *link = ev->data;

    if (link->ac == NULL) {
        ngx_http_airouter_redis_connect(link);
    }
}


/* Before ready: the connect timeout.  After: PING, and the watchdog. */
static void
ngx_http_airouter_redis_timer_handler(ngx_event_t *ev)
{
    ngx_http_airouter_redis_link_t  *link = ev->data;

    if (link->ac == NULL) {
        return;
    }

    if (!link->ready) {
        ngx_http_airouter_redis_down(link, 1, "connect timed out");
        return;
    }

    if (ngx_current_msec - link->pong > NGX_HTTP_AIROUTER_REDIS_SILENT) {
        ngx_http_airouter_redis_down(link, 1, "no answer to PING");
        return;
    }

    if (redisAsyncCommand(link->ac, ngx_http_airouter_redis_pong, NULL,
                          "PING")
        != REDIS_OK)
    {
        ngx_http_airouter_redis_down(link, 1, "PING not sent");
        return;
    }

    if (!ngx_exiting && !ngx_terminate && !ngx_quit) {
        ngx_add_timer(&link->timer, NGX_HTTP_AIROUTER_REDIS_PING);
    }
}


/* The adapter: hiredis' event hooks on an nginx connection. */

static void
ngx_http_airouter_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t                *c = ev->data;
    ngx_http_airouter_redis_link_t  *link = c->data;

    if (link->conn == c && link->ac) {
        redisAsyncHandleRead(link->ac);
    }
}


static void
ngx_http_airouter_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t                *c = ev->data;
    ngx_http_airouter_redis_link_t  *link = c->data;

    if (link->conn == c && link->ac) {
        redisAsyncHandleWrite(link->ac);
    }
}


/*
 * Level-triggered: hiredis reads or writes once per call, so under
 * nginx's default edge-triggered epoll it would have to loop until EAGAIN,
 * which it cannot tell us.
 */
static void
ngx_http_airouter_redis_add_read(void *data)
{
    ngx_http_airouter_redis_event(((ngx_connection_t *) data)->read,
                                  NGX_READ_EVENT, 1);
}


static void
ngx_http_airouter_redis_del_read(void *data)
{
    ngx_http_airouter_redis_event(((ngx_connection_t *) data)->read,
                                  NGX_READ_EVENT, 0);
}


static void
ngx_http_airouter_redis_add_write(void *data)
{
    ngx_http_airouter_redis_event(((ngx_connection_t *) data)->write,
                                  NGX_WRITE_EVENT, 1);
}


static void
ngx_http_airouter_redis_del_write(void *data)
{
    ngx_http_airouter_redis_event(((ngx_connection_t *) data)->write,
                                  NGX_WRITE_EVENT, 0);
}


static void
ngx_http_airouter_redis_event(ngx_event_t *ev, ngx_int_t event, ngx_uint_t on)
{
    if (on && !ev->active) {
        (void) ngx_add_event(ev, event, NGX_LEVEL_EVENT);

    } else if (!on && ev->active) {
        (void) ngx_del_event(ev, event, NGX_LEVEL_EVENT);
    }
}


/* hiredis frees the context and then closes the socket itself. */
static void
ngx_http_airouter_redis_cleanup(void *data)
{
    ngx_connection_t                *c = data;
    ngx_http_airouter_redis_link_t  *link = c->data;

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    if (link->conn == c) {
        link->conn = NULL;
    }

    ngx_free_connection(c);

    /* events of this socket still in the epoll batch are stale now */
    c->fd = (ngx_socket_t) -1;
}


static void
ngx_http_airouter_redis_connected(const redisAsyncContext *ac, int status)
{
    ngx_http_airouter_redis_link_t  *link = ac->data;

    if (status == REDIS_OK || link == NULL || link->ac != ac) {
        return;
    }

    /* hiredis frees the context after this */
    ngx_http_airouter_redis_down(link, 0,
                                 ac->errstr ? ac->errstr : "connect failed");
}


static void
ngx_http_airouter_redis_disconnected(const redisAsyncContext *ac, int status)
{
    ngx_http_airouter_redis_link_t  *link = ac->data;

    if (link == NULL || link->ac != ac) {
        return;
    }

    ngx_http_airouter_redis_down(link, 0,
                                 (status != REDIS_OK && ac->errstr)
                                 ? ac->errstr : "connection closed");
}


static void
ngx_http_airouter_redis_setup_reply(redisAsyncContext *ac, void *reply,
    void *data)
{
    redisReply                      *r = reply;
    ngx_http_airouter_redis_link_t  *link = ac->data;

    u_char  err[NGX_HTTP_AIROUTER_REDIS_ERROR];

    if (r == NULL || link == NULL || link->ac != ac
        || r->type != REDIS_REPLY_ERROR)
    {
        return;
    }

    ngx_snprintf(err, sizeof(err) - 1, "%s: %s%Z", (char *) data, r->str);
    err[sizeof(err) - 1] = '\0';

    ngx_http_airouter_redis_down(link, 1, (char *) err);
}


static void
ngx_http_airouter_redis_hello_reply(redisAsyncContext *ac, void *reply,
    void *data)
{
    redisReply                      *r = reply;
    ngx_http_airouter_redis_link_t  *link = ac->data;

    if (r == NULL || link == NULL || link->ac != ac) {
        return;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        /* AUTH's own reply has said why */
        ngx_http_airouter_redis_down(link, 1, r->str);
        return;
    }

    ngx_http_airouter_redis_up(link);
}


static void
ngx_http_airouter_redis_pong(redisAsyncContext *ac, void *reply, void *data)
{
    ngx_http_airouter_redis_link_t  *link = ac->data;

    if (reply && link && link->ac == ac) {
        link->pong = ngx_current_msec;
    }
}


/* Shared state: what this host tells the others */

/* live state's on_block slot: tell the other hosts */
static void
ngx_http_airouter_redis_block(ngx_http_airouter_main_conf_t *amcf,
    const char *channel, ngx_str_t *model, ngx_int_t key,
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
        || ngx_http_airouter_redis_send(rd, NULL, NULL, &args, pool)
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
        || ngx_http_airouter_redis_send(rd, NULL, NULL, &args, pool)
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
        || ngx_http_airouter_redis_send(rd, NULL, NULL, &args, pool)
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
        || ngx_http_airouter_redis_send(rd, NULL, NULL, &args, pool)
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

    if (r == NULL || link == NULL || link->ac != ac
        || r->type != REDIS_REPLY_ARRAY || r->elements != 3
        || r->element[0]->type != REDIS_REPLY_STRING
        || r->element[2]->type != REDIS_REPLY_STRING
        || ngx_strcmp(r->element[0]->str, "message") != 0)
    {
        return;
    }

    o = json_loadb(r->element[2]->str, r->element[2]->len, 0, &err);
    if (o == NULL) {
        return;
    }

    host = json_string_value(json_object_get(o, "host"));

    if (host && ngx_strcmp(host, link->rd->host_id) != 0) {

        if (json_is_array(json_object_get(o, "block"))) {
            ngx_http_airouter_redis_apply_block(link->rd,
                json_object_get(o, "block"),
                ngx_time() + json_integer_value(json_object_get(o, "ttl")));
        }

        strategy = json_string_value(json_object_get(o, "strategy"));

        if (strategy) {
            ngx_http_airouter_redis_apply_strategy(link->rd, strategy);
        }

        if (json_is_string(json_object_get(o, "catalogue"))) {
            ngx_sprintf(fp, "%016xL%Z", link->rd->amcf->fingerprint);

            if (ngx_strcmp(json_string_value(json_object_get(o, "catalogue")),
                           fp) == 0)
            {
                ngx_http_airouter_redis_catalogue_get(link->rd);
            }
        }
    }

    json_decref(o);
}


/* [channel, model, key, fault] */
static void
ngx_http_airouter_redis_apply_block(ngx_http_airouter_redis_t *rd,
    json_t *block, time_t until)
{
    size_t              i;
    ngx_str_t           model;
    ngx_int_t           key;
    const char         *channel;
    airouter_config_t  *acf;

    channel = json_string_value(json_array_get(block, 0));
    model.data = (u_char *) json_string_value(json_array_get(block, 1));
    key = (ngx_int_t) json_integer_value(json_array_get(block, 2));

    if (channel == NULL || model.data == NULL || until <= ngx_time()) {
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
                                 (airouter_fault_e) json_integer_value(
                                     json_array_get(block, 3)),
                                 until);

    ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                  "airouter: redis: another host blocked channel \"%s\"%s%s"
                  " for %T s", channel, model.len ? " model " : "",
                  model.len ? (char *) model.data : "", until - ngx_time());
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

    if (ngx_http_airouter_stats_set_strategy(rd->amcf, &s) == NGX_OK) {
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
            ngx_http_airouter_redis_apply_block(link->rd, block,
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

    ngx_http_airouter_redis_apply_strategy(link->rd, (char *) name);
}


/* Counters: worker 0's tick */

static void
ngx_http_airouter_redis_tick(ngx_event_t *ev)
{
    ngx_http_airouter_redis_t  *rd = ev->data;

    if (rd->cmd.ready) {
        ngx_http_airouter_redis_flush(rd);
        ngx_http_airouter_redis_read_back(rd);
    }

    if (!ngx_exiting && !ngx_terminate && !ngx_quit) {
        ngx_add_timer(ev, NGX_HTTP_AIROUTER_REDIS_SYNC);
    }
}


static void
ngx_http_airouter_redis_flush(ngx_http_airouter_redis_t *rd)
{
    u_char                           day[16], *last;
    ngx_uint_t                       i, k;
    ngx_pool_t                      *pool;
    const char                      *kind;
    ngx_http_airouter_stats_row_t   *row;
    ngx_http_airouter_redis_batch_t *b;
    uint64_t                         n[6];

    if (rd->flushing) {
        return;
    }

    /* a batch whose answer was lost goes again, as it was, first */
    if (rd->failed) {
        b = rd->failed;
        rd->failed = NULL;

        if (ngx_http_airouter_redis_send(rd,
                                         ngx_http_airouter_redis_flush_reply,
                                         b, &b->args, b->pool)
            != NGX_OK)
        {
            rd->failed = b;
            return;
        }

        rd->flushing = 1;
        return;
    }

    pool = ngx_create_pool(4096, rd->log);
    if (pool == NULL) {
        return;
    }

    b = ngx_palloc(pool, sizeof(ngx_http_airouter_redis_batch_t));
    if (b == NULL) {
        ngx_destroy_pool(pool);
        return;
    }

    b->rd = rd;
    b->pool = pool;

    if (ngx_http_airouter_stats_take_pending(rd->amcf, pool, &b->rows)
        != NGX_OK
        || b->rows.nelts == 0)
    {
        ngx_http_airouter_stats_give_back(rd->amcf, &b->rows);
        ngx_destroy_pool(pool);
        return;
    }

    /* EVAL script 1 <batch id key> <expire> then (key, field, value)... */
    if (ngx_array_init(&b->args, pool, 64, sizeof(ngx_str_t)) != NGX_OK
        || ngx_http_airouter_redis_arg(&b->args, pool, "EVAL") != NGX_OK
        || ngx_http_airouter_redis_arg(&b->args, pool, "%s",
                                       ngx_http_airouter_redis_flush_lua)
           != NGX_OK
        || ngx_http_airouter_redis_arg(&b->args, pool, "1") != NGX_OK
        || ngx_http_airouter_redis_arg(&b->args, pool, "%Vflush:%s:%P:%uL",
                                       &rd->prefix, rd->host_id, ngx_pid,
                                       ++rd->batches) != NGX_OK
        || ngx_http_airouter_redis_arg(&b->args, pool, "%d",
                                       NGX_HTTP_AIROUTER_REDIS_KEEP)
           != NGX_OK)
    {
        goto failed;
    }

    row = b->rows.elts;

    for (i = 0; i < b->rows.nelts; i++) {
        last = ngx_http_airouter_redis_day(day, row[i].day);
        *last = '\0';
        kind = ngx_http_airouter_stats_kind_name(row[i].kind);

        n[0] = row[i].c.requests;
        n[1] = row[i].c.errors;
        n[2] = row[i].c.prompt_tokens;
        n[3] = row[i].c.completion_tokens;
        n[4] = row[i].c.unauthorized;
        n[5] = row[i].c.throttled;

        for (k = 0; k < 7; k++) {
            if ((k < 6 && n[k] == 0) || (k == 6 && row[i].c.cost == 0)) {
                continue;
            }

            if (ngx_http_airouter_redis_arg(&b->args, pool, "%Vstats:%s",
                                            &rd->prefix, day) != NGX_OK
                || ngx_http_airouter_redis_arg(&b->args, pool, "%s:%V:%s",
                                    kind, &row[i].name,
                                    ngx_http_airouter_redis_counters[k])
                   != NGX_OK
                || (k < 6
                    ? ngx_http_airouter_redis_arg(&b->args, pool, "%uL",
                                                  n[k])
                    : ngx_http_airouter_redis_arg(&b->args, pool, "%.12f",
                                                  row[i].c.cost))
                   != NGX_OK)
            {
                goto failed;
            }
        }
    }

    if (ngx_http_airouter_redis_send(rd, ngx_http_airouter_redis_flush_reply,
                                     b, &b->args, pool)
        != NGX_OK)
    {
        goto failed;
    }

    rd->flushing = 1;

    return;

failed:

    ngx_http_airouter_stats_give_back(rd->amcf, &b->rows);
    ngx_destroy_pool(pool);
}


/*
 * 1 or 0 (already applied: an answer lost before): done.  No answer: the
 * batch is kept to go again as it is.  An error: nothing was applied, the
 * deltas go back to the zone.
 */
static void
ngx_http_airouter_redis_flush_reply(redisAsyncContext *ac, void *reply,
    void *data)
{
    redisReply                       *r = reply;
    ngx_http_airouter_redis_batch_t  *b = data;
    ngx_http_airouter_redis_t        *rd;

    rd = b->rd;
    rd->flushing = 0;

    if (r == NULL) {
        rd->sh->failures++;

        if (rd->failed == NULL) {
            rd->failed = b;
            return;
        }

        ngx_http_airouter_stats_give_back(rd->amcf, &b->rows);

    } else if (r->type == REDIS_REPLY_ERROR) {
        rd->sh->failures++;
        ngx_http_airouter_stats_give_back(rd->amcf, &b->rows);

        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "airouter: redis \"%V\": counters not written: %s",
                      &rd->addr, r->str);

    } else {
        rd->sh->flushes++;
    }

    ngx_destroy_pool(b->pool);
}


/*
 * The days' hashes: this month's after a (re)connection, today's on
 * every tick.  Replies come in order, so a flush sent before is in them.
 */
static void
ngx_http_airouter_redis_read_back(ngx_http_airouter_redis_t *rd)
{
    u_char    key[NGX_HTTP_AIROUTER_REDIS_KEY];
    uint32_t  d, today;

    if (rd->reading) {
        return;
    }

    today = ngx_http_airouter_stats_today();
    d = rd->catch_up ? rd->catch_up : today;

    for ( /* void */ ; d <= today; d++) {
        *ngx_http_airouter_redis_day(ngx_sprintf(key, "%Vstats:",
                                                 &rd->prefix), d) = '\0';

        if (redisAsyncCommand(rd->cmd.ac, ngx_http_airouter_redis_day_reply,
                              (void *) (uintptr_t) d, "HGETALL %s", key)
            != REDIS_OK)
        {
            return;
        }

        rd->reading++;
    }

    rd->catch_up = 0;
}


/* "<kind>:<name>:<counter>" → value, grouped into one row per node */
static void
ngx_http_airouter_redis_day_reply(redisAsyncContext *ac, void *reply,
    void *data)
{
    redisReply                      *r = reply;
    ngx_http_airouter_redis_link_t  *link = ac->data;

    u_char                          *f, *end, *p, *q;
    size_t                           i;
    uint32_t                         day, hash;
    off_t                            n;
    ngx_int_t                        kind, k;
    ngx_str_t                        name;
    ngx_pool_t                      *pool;
    ngx_array_t                      rows;
    const char                      *kn;
    ngx_http_airouter_redis_t       *rd;
    ngx_http_airouter_stats_row_t   *row;
    ngx_http_airouter_redis_acc_t  **buckets, *a;

    if (link == NULL) {
        return;
    }

    rd = link->rd;

    if (rd->reading) {
        rd->reading--;
    }

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
        return;
    }

    day = (uint32_t) (uintptr_t) data;

    pool = ngx_create_pool(4096, rd->log);
    if (pool == NULL) {
        return;
    }

    buckets = ngx_pcalloc(pool, NGX_HTTP_AIROUTER_REDIS_BUCKETS
                                * sizeof(ngx_http_airouter_redis_acc_t *));

    if (buckets == NULL
        || ngx_array_init(&rows, pool, 32,
                          sizeof(ngx_http_airouter_stats_row_t))
           != NGX_OK)
    {
        ngx_destroy_pool(pool);
        return;
    }

    for (i = 0; i + 1 < r->elements; i += 2) {
        if (r->element[i]->type != REDIS_REPLY_STRING
            || r->element[i + 1]->type != REDIS_REPLY_STRING)
        {
            continue;
        }

        f = (u_char *) r->element[i]->str;
        end = f + r->element[i]->len;

        p = ngx_strlchr(f, end, ':');
        for (q = end - 1; q > f && *q != ':'; q--) { /* void */ }

        if (p == NULL || q <= p) {
            continue;
        }

        for (kind = 0; kind <= NGX_HTTP_AIROUTER_STATS_MODEL; kind++) {
            kn = ngx_http_airouter_stats_kind_name(kind);

            if ((size_t) (p - f) == ngx_strlen(kn)
                && ngx_strncmp(f, kn, p - f) == 0)
            {
                break;
            }
        }

        for (k = 0; ngx_http_airouter_redis_counters[k]; k++) {
            if ((size_t) (end - q - 1)
                   == ngx_strlen(ngx_http_airouter_redis_counters[k])
                && ngx_strncmp(q + 1, ngx_http_airouter_redis_counters[k],
                               end - q - 1) == 0)
            {
                break;
            }
        }

        if (kind > NGX_HTTP_AIROUTER_STATS_MODEL
            || ngx_http_airouter_redis_counters[k] == NULL)
        {
            continue;
        }

        name.data = p + 1;
        name.len = q - p - 1;

        hash = ngx_crc32_short(name.data, name.len) ^ (uint32_t) kind;
        row = NULL;

        for (a = buckets[hash % NGX_HTTP_AIROUTER_REDIS_BUCKETS];
             a;
             a = a->next)
        {
            row = (ngx_http_airouter_stats_row_t *) rows.elts + a->index;

            if (row->kind == (ngx_uint_t) kind
                && row->name.len == name.len
                && ngx_strncmp(row->name.data, name.data, name.len) == 0)
            {
                break;
            }

            row = NULL;
        }

        if (row == NULL) {
            a = ngx_palloc(pool, sizeof(ngx_http_airouter_redis_acc_t));
            row = ngx_array_push(&rows);

            if (a == NULL || row == NULL) {
                break;
            }

            ngx_memzero(row, sizeof(ngx_http_airouter_stats_row_t));
            row->day = day;
            row->kind = kind;
            row->name = name;

            a->index = rows.nelts - 1;
            a->next = buckets[hash % NGX_HTTP_AIROUTER_REDIS_BUCKETS];
            buckets[hash % NGX_HTTP_AIROUTER_REDIS_BUCKETS] = a;
        }

        p = (u_char *) r->element[i + 1]->str;
        n = ngx_atoof(p, r->element[i + 1]->len);
        n = n > 0 ? n : 0;      /* a malformed number reads as nothing */

        switch (k) {
        case 0:
            row->c.requests = n;
            break;
        case 1:
            row->c.errors = n;
            break;
        case 2:
            row->c.prompt_tokens = n;
            break;
        case 3:
            row->c.completion_tokens = n;
            break;
        case 4:
            row->c.unauthorized = n;
            break;
        case 5:
            row->c.throttled = n;
            break;
        default:
            row->c.cost = strtod((char *) p, NULL);
            break;
        }
    }

    ngx_http_airouter_stats_merge(rd->amcf, &rows);

    ngx_destroy_pool(pool);
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
            && ngx_current_msec - rd->started < rd->connect_timeout + 1000)
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

    if (ngx_http_airouter_redis_send(rd, NULL, NULL, &args, pool) != NGX_OK) {
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
        || ngx_http_airouter_redis_send(rd, NULL, NULL, &args, pool)
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
        (void) ngx_http_airouter_redis_send(rd, NULL, NULL, args, pool);
    }
}


static ngx_int_t
ngx_http_airouter_redis_send(ngx_http_airouter_redis_t *rd,
    redisCallbackFn *fn, void *data, ngx_array_t *args, ngx_pool_t *pool)
{
    int           rc;
    size_t       *lens;
    ngx_str_t    *a;
    ngx_uint_t    i;
    const char  **argv;

    if (rd->cmd.ac == NULL || !rd->cmd.ready) {
        return NGX_ERROR;
    }

    argv = ngx_palloc(pool, args->nelts * sizeof(char *));
    lens = ngx_palloc(pool, args->nelts * sizeof(size_t));
    if (argv == NULL || lens == NULL) {
        return NGX_ERROR;
    }

    a = args->elts;

    for (i = 0; i < args->nelts; i++) {
        argv[i] = (const char *) a[i].data;
        lens[i] = a[i].len;
    }

    rc = redisAsyncCommandArgv(rd->cmd.ac, fn, data, (int) args->nelts,
                               argv, lens);

    return rc == REDIS_OK ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_http_airouter_redis_arg(ngx_array_t *args, ngx_pool_t *pool,
    const char *fmt, ...)
{
    u_char     buf[1024], *last;
    va_list    vl;
    ngx_str_t *a;

    va_start(vl, fmt);
    last = ngx_vslprintf(buf, buf + sizeof(buf), fmt, vl);
    va_end(vl);

    if (last == buf + sizeof(buf)) {
        return NGX_ERROR;
    }

    a = ngx_array_push(args);
    if (a == NULL) {
        return NGX_ERROR;
    }

    a->len = last - buf;
    a->data = ngx_pnalloc(pool, a->len + 1);
    if (a->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(a->data, buf, a->len);
    a->data[a->len] = '\0';

    return NGX_OK;
}


static u_char *
ngx_http_airouter_redis_day(u_char *buf, uint32_t day)
{
    ngx_tm_t  tm;

    ngx_gmtime((time_t) day * 86400, &tm);

    return ngx_sprintf(buf, "%04d-%02d-%02d", tm.ngx_tm_year, tm.ngx_tm_mon,
                       tm.ngx_tm_mday);
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
        return json_pack("{s:s#,s:s}", "address", (char *) rd->addr.data,
                         (int) rd->addr.len, "status", "unknown");
    }

    o = json_pack("{s:s#,s:s,s:I,s:s,s:I,s:I}",
                  "address", (char *) rd->addr.data, (int) rd->addr.len,
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
