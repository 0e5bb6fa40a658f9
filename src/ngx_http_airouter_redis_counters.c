/*
 * airouter_redis' counter flushes and read-backs on the command link; see
 * ngx_http_airouter_redis_counters.h.  Driven by worker 0's tick, started
 * and told of (re)connections by ngx_http_airouter_redis.c.
 */

#include "ngx_http_airouter_redis_counters.h"
#include "ngx_http_airouter_stats.h"


#define NGX_HTTP_AIROUTER_REDIS_SYNC     500    /* ms: flush, read back */
#define NGX_HTTP_AIROUTER_REDIS_KEEP     (100 * 86400)  /* stats keys */
#define NGX_HTTP_AIROUTER_REDIS_BUCKETS  256
#define NGX_HTTP_AIROUTER_REDIS_KEY      (NGX_HTTP_AIROUTER_REDIS_PREFIX + 32)


/*
 * A flush: the pending deltas taken from the zone, sent as one script
 * that applies them only if its batch id is new, so that a batch whose
 * answer was lost (the server got it, then the link died) can go again.
 */
typedef struct {
    ngx_http_airouter_redis_counters_t  *c;
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


static void ngx_http_airouter_redis_counters_tick(ngx_event_t *ev);
static void ngx_http_airouter_redis_flush(
    ngx_http_airouter_redis_counters_t *c);
static void ngx_http_airouter_redis_flush_reply(redisAsyncContext *ac,
    void *reply, void *data);
static void ngx_http_airouter_redis_read_back(
    ngx_http_airouter_redis_counters_t *c);
static void ngx_http_airouter_redis_day_reply(redisAsyncContext *ac,
    void *reply, void *data);
static u_char *ngx_http_airouter_redis_day(u_char *buf, uint32_t day);


static const char  *ngx_http_airouter_redis_flush_lua =
    "if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', 86400) then "
    "return 0 end "
    "for i = 2, #ARGV, 3 do "
    "if string.find(ARGV[i + 2], '.', 1, true) then "
    "redis.call('HINCRBYFLOAT', ARGV[i], ARGV[i + 1], ARGV[i + 2]) "
    "else redis.call('HINCRBY', ARGV[i], ARGV[i + 1], ARGV[i + 2]) end "
    "redis.call('EXPIRE', ARGV[i], ARGV[1]) "
    "end "
    "return 1";


void
ngx_http_airouter_redis_counters_start(ngx_http_airouter_redis_counters_t *c)
{
    c->tick.handler = ngx_http_airouter_redis_counters_tick;
    c->tick.data = c;
    c->tick.log = c->log;
    c->tick.cancelable = 1;

    ngx_add_timer(&c->tick, NGX_HTTP_AIROUTER_REDIS_SYNC);
}


void
ngx_http_airouter_redis_counters_catch_up(
    ngx_http_airouter_redis_counters_t *c)
{
    /* this month's counters, then the flush of what waited */
    c->catch_up = ngx_http_airouter_stats_today();
    c->catch_up -= ngx_min(c->catch_up - 1, 31);

    if (c->tick.timer_set) {
        ngx_del_timer(&c->tick);
    }

    ngx_add_timer(&c->tick, 1);
}


void
ngx_http_airouter_redis_counters_stop(ngx_http_airouter_redis_counters_t *c)
{
    ngx_http_airouter_redis_batch_t  *b;

    if (c->tick.timer_set) {
        ngx_del_timer(&c->tick);
    }

    b = c->failed;
    c->failed = NULL;

    if (b) {
        ngx_http_airouter_stats_give_back(c->amcf, &b->rows);
        ngx_destroy_pool(b->pool);
    }
}


static void
ngx_http_airouter_redis_counters_tick(ngx_event_t *ev)
{
    ngx_http_airouter_redis_counters_t  *c = ev->data;

    if (c->link->ready) {
        ngx_http_airouter_redis_flush(c);
        ngx_http_airouter_redis_read_back(c);
    }

    if (!ngx_exiting && !ngx_terminate && !ngx_quit) {
        ngx_add_timer(ev, NGX_HTTP_AIROUTER_REDIS_SYNC);
    }
}


static void
ngx_http_airouter_redis_flush(ngx_http_airouter_redis_counters_t *c)
{
    u_char                           day[16], *last;
    ngx_uint_t                                i;
    ngx_pool_t                               *pool;
    const char                               *kind;
    ngx_http_airouter_stats_row_t            *row;
    ngx_http_airouter_redis_batch_t          *b;
    const ngx_http_airouter_stats_counter_t  *d;

    if (c->flushing) {
        return;
    }

    /* a batch whose answer was lost goes again, as it was, first */
    if (c->failed) {
        b = c->failed;
        c->failed = NULL;

        if (ngx_http_airouter_redis_link_send(c->link,
                                          ngx_http_airouter_redis_flush_reply,
                                          b, &b->args, b->pool)
            != NGX_OK)
        {
            c->failed = b;
            return;
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "airouter redis: counters of %ui nodes sent again",
                       b->rows.nelts);

        c->flushing = 1;
        return;
    }

    pool = ngx_create_pool(4096, c->log);
    if (pool == NULL) {
        return;
    }

    b = ngx_palloc(pool, sizeof(ngx_http_airouter_redis_batch_t));
    if (b == NULL) {
        ngx_destroy_pool(pool);
        return;
    }

    b->c = c;
    b->pool = pool;

    if (ngx_http_airouter_stats_take_pending(c->amcf, pool, &b->rows)
        != NGX_OK
        || b->rows.nelts == 0)
    {
        ngx_http_airouter_stats_give_back(c->amcf, &b->rows);
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
                                       &c->prefix, c->host_id, ngx_pid,
                                       ++c->batches) != NGX_OK
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

        for (d = ngx_http_airouter_stats_counters; d->name; d++) {
            if (ngx_http_airouter_stats_value(&row[i].c, d) == 0) {
                continue;
            }

            /* the script tells HINCRBYFLOAT's values by their point */
            if (ngx_http_airouter_redis_arg(&b->args, pool, "%Vstats:%s",
                                            &c->prefix, day) != NGX_OK
                || ngx_http_airouter_redis_arg(&b->args, pool, "%s:%V:%s",
                                               kind, &row[i].name, d->name)
                   != NGX_OK
                || (d->type == NGX_HTTP_AIROUTER_STATS_USD
                    ? ngx_http_airouter_redis_arg(&b->args, pool, "%.12f",
                          ngx_http_airouter_stats_usd(&row[i].c, d))
                    : ngx_http_airouter_redis_arg(&b->args, pool, "%uL",
                          ngx_http_airouter_stats_count(&row[i].c, d)))
                   != NGX_OK)
            {
                goto failed;
            }
        }
    }

    if (ngx_http_airouter_redis_link_send(c->link,
                                          ngx_http_airouter_redis_flush_reply,
                                          b, &b->args, pool)
        != NGX_OK)
    {
        goto failed;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "airouter redis: counters of %ui nodes sent, batch %uL",
                   b->rows.nelts, c->batches);

    c->flushing = 1;

    return;

failed:

    ngx_http_airouter_stats_give_back(c->amcf, &b->rows);
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
    ngx_http_airouter_redis_counters_t  *c;

    c = b->c;
    c->flushing = 0;

    if (r == NULL) {
        (*c->failures)++;

        if (c->failed == NULL) {
            c->failed = b;
            return;
        }

        ngx_http_airouter_stats_give_back(c->amcf, &b->rows);

    } else if (r->type == REDIS_REPLY_ERROR) {
        (*c->failures)++;
        ngx_http_airouter_stats_give_back(c->amcf, &b->rows);

        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "airouter: redis \"%V\": counters not written: %s",
                      &c->link->server->addr, r->str);

    } else {
        (*c->flushes)++;
    }

    ngx_destroy_pool(b->pool);
}


/*
 * The days' hashes: this month's after a (re)connection, today's on
 * every tick.  Replies come in order, so a flush sent before is in them.
 */
static void
ngx_http_airouter_redis_read_back(ngx_http_airouter_redis_counters_t *c)
{
    u_char    key[NGX_HTTP_AIROUTER_REDIS_KEY];
    uint32_t  d, today;

    if (c->reading) {
        return;
    }

    today = ngx_http_airouter_stats_today();
    d = c->catch_up ? c->catch_up : today;

    /* one connection answers in order: the replies' days follow d */
    c->next_day = d;

    for ( /* void */ ; d <= today; d++) {
        *ngx_http_airouter_redis_day(ngx_sprintf(key, "%Vstats:",
                                                 &c->prefix), d) = '\0';

        if (redisAsyncCommand(c->link->ac, ngx_http_airouter_redis_day_reply,
                              c, "HGETALL %s", key)
            != REDIS_OK)
        {
            return;
        }

        c->reading++;
    }

    c->catch_up = 0;
}


/* "<kind>:<name>:<counter>" → value, grouped into one row per node */
static void
ngx_http_airouter_redis_day_reply(redisAsyncContext *ac, void *reply,
    void *data)
{
    redisReply                          *r = reply;
    ngx_http_airouter_redis_counters_t  *c = data;

    u_char                                   *f, *end, *p, *q;
    size_t                                    i;
    uint32_t                                  day, hash;
    off_t                                     n;
    ngx_int_t                                 kind;
    ngx_str_t                                 name;
    ngx_pool_t                               *pool;
    ngx_array_t                               rows;
    ngx_http_airouter_stats_row_t            *row;
    ngx_http_airouter_redis_acc_t           **buckets, *a;
    const ngx_http_airouter_stats_counter_t  *d;

    day = c->next_day++;

    if (c->reading) {
        c->reading--;
    }

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
        return;
    }

    pool = ngx_create_pool(4096, c->log);
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

        kind = ngx_http_airouter_stats_kind_from(f, p - f);

        for (d = ngx_http_airouter_stats_counters; d->name; d++) {
            if ((size_t) (end - q - 1) == ngx_strlen(d->name)
                && ngx_strncmp(q + 1, d->name, end - q - 1) == 0)
            {
                break;
            }
        }

        /* another version's counter, or not a counter */
        if (kind < 0 || kind > NGX_HTTP_AIROUTER_STATS_MODEL
            || d->name == NULL)
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

        if (d->type == NGX_HTTP_AIROUTER_STATS_USD) {
            ngx_http_airouter_stats_usd(&row->c, d) = strtod((char *) p, NULL);
            continue;
        }

        n = ngx_atoof(p, r->element[i + 1]->len);
        n = n > 0 ? n : 0;      /* a malformed number reads as nothing */

        ngx_http_airouter_stats_count(&row->c, d) = (uint64_t) n;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "airouter redis: day %uD read back, %ui nodes merged",
                   day, rows.nelts);

    ngx_http_airouter_stats_merge(c->amcf, &rows);

    ngx_destroy_pool(pool);
}


static u_char *
ngx_http_airouter_redis_day(u_char *buf, uint32_t day)
{
    ngx_tm_t  tm;

    ngx_gmtime((time_t) day * 86400, &tm);

    return ngx_sprintf(buf, "%04d-%02d-%02d", tm.ngx_tm_year, tm.ngx_tm_mon,
                       tm.ngx_tm_mday);
}
