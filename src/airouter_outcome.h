/*
 * The one table that turns how an upstream attempt ended into what the
 * router does next: try another candidate or not, and how long to keep the
 * channel (or only that channel's model) away.  Pure C; configured from
 * routing.error_handling.  Called by the proxy (ngx_http_airouter_proxy.c)
 * after every attempt; its verdicts go to live state.
 *
 * Faults are named as the seed names them, so permanent_errors and
 * temporary_errors in router_config.yaml can move a fault between "blacklist
 * the channel" and "cool down the model":
 *
 *   fault                 seen as                               default
 *   connect_error         refused, reset before a response      channel, timeout period
 *   timeout               connect/send/read timeout             model, timeout period
 *   server_error          5xx, invalid response, stream cut     model, server_error period
 *   rate_limit_exceeded   429, code rate_limit*                 model, Retry-After or rate_limit period
 *   invalid_api_key       401, 403, code invalid_api_key        channel, blacklist_period
 *   quota_exceeded        402, code insufficient_quota/quota*   channel, blacklist_period
 *   insufficient_credits  code *credit*, *balance*, billing     channel, blacklist_period
 *   model_not_found       404, code model_not_found             model, blacklist_period
 *   bad_request           other 4xx: the client's fault         no retry, no cooldown
 */

#ifndef AIROUTER_OUTCOME_H
#define AIROUTER_OUTCOME_H

#include <stddef.h>

#include "airouter_config.h"


typedef enum {
    AIROUTER_FAULT_NONE = 0,            /* success */
    AIROUTER_FAULT_CONNECT,
    AIROUTER_FAULT_TIMEOUT,
    AIROUTER_FAULT_SERVER,
    AIROUTER_FAULT_RATE_LIMIT,
    AIROUTER_FAULT_INVALID_KEY,
    AIROUTER_FAULT_QUOTA,
    AIROUTER_FAULT_CREDITS,
    AIROUTER_FAULT_MODEL_NOT_FOUND,
    AIROUTER_FAULT_BAD_REQUEST,
    AIROUTER_FAULT_N
} airouter_fault_e;


typedef enum {
    AIROUTER_SCOPE_NONE = 0,
    AIROUTER_SCOPE_MODEL,               /* this model on this channel */
    AIROUTER_SCOPE_CHANNEL              /* every model of the channel */
} airouter_scope_e;


/* How an attempt ended, as the transport saw it. */
typedef enum {
    AIROUTER_END_HTTP = 0,              /* a status line arrived */
    AIROUTER_END_CONNECT,
    AIROUTER_END_TIMEOUT,
    AIROUTER_END_INVALID                /* garbage instead of HTTP */
} airouter_end_e;


typedef struct {
    int                       retry;    /* another candidate may succeed */
    airouter_scope_e          scope;
    long                      cooldown; /* seconds, 0: none */
} airouter_verdict_t;


typedef struct {
    airouter_verdict_t        verdict[AIROUTER_FAULT_N];
} airouter_outcome_table_t;


/* eh may be NULL: the built-in defaults above (60/30/120 s, 1 h). */
void airouter_outcome_table_init(airouter_outcome_table_t *t,
    const airouter_error_handling_t *eh, long error_cooldown_period);

/*
 * The fault of one attempt.  body may be NULL or a prefix of the response
 * body: an OpenAI-style {"error": {"code", "type", "message"}} (or a
 * top-level code/message, or "error" as a string) refines the status.
 */
airouter_fault_e airouter_outcome_fault(airouter_end_e end, int status,
    const char *body, size_t len);

/*
 * As airouter_outcome_fault(), with the body already parsed by the caller
 * (json_loadb(body, len, 0, ...)): root, or NULL when it did not parse.
 * The caller keeps root.
 */
struct json_t;
airouter_fault_e airouter_outcome_fault_parsed(airouter_end_e end, int status,
    const char *body, size_t len, struct json_t *root);

/* retry_after: seconds from the Retry-After header, < 0 when absent. */
airouter_verdict_t airouter_outcome_verdict(const airouter_outcome_table_t *t,
    airouter_fault_e fault, long retry_after);

/*
 * The verdict for the channel that answered: one whose balance is checked
 * and held (balance: with hold, the default) keeps its free models when
 * an answer says its money or quota is spent (quota_exceeded,
 * insufficient_credits): the model that answered cools down for the
 * verdict's period instead of the whole channel, and the balance hold
 * (ngx_http_airouter_balance.c, told through live state's on_block slot)
 * keeps its other paid models out until a check finds money.
 */
void airouter_outcome_channel(airouter_verdict_t *v, airouter_fault_e fault,
    const airouter_channel_t *ch);

/* "rate_limit_exceeded"; NULL for an unknown value. */
const char *airouter_fault_name(airouter_fault_e fault);
const char *airouter_scope_name(airouter_scope_e scope);

/* Retry-After as delta-seconds; < 0 when absent or an HTTP-date. */
long airouter_outcome_retry_after(const char *value, size_t len);

#endif /* AIROUTER_OUTCOME_H */
