/*
 * Channel balances: which requests ask a provider how much money is left
 * on a key, and how each provider's answer reads.  Pure C; the nginx side
 * (ngx_http_airouter_balance.c) sends the requests from the discovery
 * timer and keeps the results in the zone.
 *
 *   kind          GET (with the channel's key)          amount
 *   openrouter    /api/v1/credits, /api/v1/key          total_credits -
 *                                                       total_usage, or
 *                                                       the key's
 *                                                       limit_remaining if
 *                                                       lower (USD)
 *   deepseek      /user/balance                         balance_infos[]
 *                                                       total_balance
 *   siliconflow   /v1/user/info                         data.totalBalance
 *                                                       (CNY)
 *   moonshot      /v1/users/me/balance                  data.available_
 *                                                       balance (CNY on
 *                                                       .cn, else USD)
 *   oneapi        {base}/v1/dashboard/billing/          hard_limit_usd -
 *                 subscription and .../usage            total_usage / 100
 *                                                       (One-API, New-API
 *                                                       and their relays)
 *   json          balance.url                           balance.path in
 *                                                       the answer
 */

#ifndef AIROUTER_BALANCE_H
#define AIROUTER_BALANCE_H

#include <stddef.h>

#include "airouter_config.h"


#define AIROUTER_BALANCE_MAX_REQUESTS  2


/* One request of a check: its URL (absolute). */
typedef struct {
    char                      url[1024];
} airouter_balance_request_t;


/* What one answer said; has_* tell which fields it gave. */
typedef struct {
    int                       has_amount;
    double                    amount;
    int                       has_limit;    /* OpenRouter key limit */
    double                    limit;
    char                      currency[8];
    char                      error[128];   /* the answer did not read */
} airouter_balance_part_t;


/* The outcome of a check. */
typedef struct {
    int                       ok;
    double                    amount;
    char                      currency[8];
    char                      error[128];
} airouter_balance_result_t;


/*
 * The kind a channel gets when its balance: says none: from its provider's
 * name, else from its base URL's host; NONE when neither tells.
 */
airouter_balance_kind_e airouter_balance_infer(const airouter_channel_t *ch);

/* The requests of a check of ch (kind resolved); returns how many. */
size_t airouter_balance_requests(const airouter_channel_t *ch,
    airouter_balance_kind_e kind, airouter_balance_request_t *req);

/* Reads answer i (body of a 200) of a check. */
void airouter_balance_parse(const airouter_channel_t *ch,
    airouter_balance_kind_e kind, size_t i, const char *body, size_t len,
    airouter_balance_part_t *part);

/*
 * Makes text (a check's error, NUL-terminated) fit for a log line and a
 * JSON string: each of the channel's keys masked with '*' (a provider or a
 * relay may quote the key it was sent), control characters made spaces, a
 * UTF-8 sequence cut at the end dropped.  The parse and combine steps do
 * it themselves; the nginx side calls it for the errors it writes.
 */
void airouter_balance_clean(const airouter_channel_t *ch, char *text);

/* Combines the parts (one per request, NULL where a request failed). */
void airouter_balance_combine(airouter_balance_kind_e kind,
    airouter_balance_part_t **parts, size_t n,
    airouter_balance_result_t *res);

#endif /* AIROUTER_BALANCE_H */
