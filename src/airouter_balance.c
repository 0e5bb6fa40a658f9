/*
 * Balance requests and answers, per provider kind (airouter_balance.h has
 * the table).  The answers' shapes are the providers' own:
 *
 *   OpenRouter  {"data": {"total_credits": 20, "total_usage": 4.5}}
 *               {"data": {"label": ..., "usage": 1.2, "limit": 10,
 *                         "limit_remaining": 8.8, "is_free_tier": false}}
 *   DeepSeek    {"is_available": true, "balance_infos": [{"currency":
 *               "CNY", "total_balance": "110.00", "granted_balance":
 *               "10.00", "topped_up_balance": "100.00"}]}
 *   SiliconFlow {"code": 20000, "status": true, "data": {"balance":
 *               "0.88", "chargeBalance": "88.00", "totalBalance": "88.88"}}
 *   Moonshot    {"code": 0, "data": {"available_balance": 49.58,
 *               "voucher_balance": 46.58, "cash_balance": 3.0}}
 *   One-API     {"object": "billing_subscription", "hard_limit_usd": 10}
 *               {"object": "list", "total_usage": 250}  (cents)
 *
 * Called by ngx_http_airouter_balance.c; no I/O here.
 */

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "airouter_balance.h"


static void airouter_balance_origin(const char *base, char *buf,
    size_t size);
static int airouter_balance_number(json_t *v, double *out);
static json_t *airouter_balance_path(json_t *root, const char *path);
static void airouter_balance_set(airouter_balance_part_t *part,
    double amount, const char *currency);


airouter_balance_kind_e
airouter_balance_infer(const airouter_channel_t *ch)
{
    size_t                   i;
    const char              *host;
    airouter_balance_kind_e  k;
    static const struct {
        const char              *host;
        airouter_balance_kind_e  kind;
    } hosts[] = {
        { "openrouter.ai", AIROUTER_BALANCE_OPENROUTER },
        { "api.deepseek.com", AIROUTER_BALANCE_DEEPSEEK },
        { "siliconflow.", AIROUTER_BALANCE_SILICONFLOW },
        { "api.moonshot.", AIROUTER_BALANCE_MOONSHOT },
    };

    if (ch->provider_name != NULL) {
        k = airouter_config_balance_kind(ch->provider_name);
        if (k != AIROUTER_BALANCE_NONE && k != AIROUTER_BALANCE_JSON) {
            return k;
        }
    }

    if (ch->base_url == NULL) {
        return AIROUTER_BALANCE_NONE;
    }

    host = strstr(ch->base_url, "://");
    host = host ? host + 3 : ch->base_url;

    for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        if (strncasecmp(host, hosts[i].host, strlen(hosts[i].host)) == 0
            || (hosts[i].host[strlen(hosts[i].host) - 1] == '.'
                && strstr(host, hosts[i].host) != NULL
                && strstr(host, hosts[i].host) < host + strcspn(host, "/")))
        {
            return hosts[i].kind;
        }
    }

    return AIROUTER_BALANCE_NONE;
}


size_t
airouter_balance_requests(const airouter_channel_t *ch,
    airouter_balance_kind_e kind, airouter_balance_request_t *req)
{
    char    origin[512];
    size_t  n;

    airouter_balance_origin(ch->base_url ? ch->base_url : "", origin,
                            sizeof(origin));
    n = 0;

    switch (kind) {

    case AIROUTER_BALANCE_OPENROUTER:
        snprintf(req[n++].url, sizeof(req->url), "%s/api/v1/credits",
                 origin);
        snprintf(req[n++].url, sizeof(req->url), "%s/api/v1/key", origin);
        break;

    case AIROUTER_BALANCE_DEEPSEEK:
        snprintf(req[n++].url, sizeof(req->url), "%s/user/balance", origin);
        break;

    case AIROUTER_BALANCE_SILICONFLOW:
        snprintf(req[n++].url, sizeof(req->url), "%s/v1/user/info", origin);
        break;

    case AIROUTER_BALANCE_MOONSHOT:
        snprintf(req[n++].url, sizeof(req->url), "%s/v1/users/me/balance",
                 origin);
        break;

    case AIROUTER_BALANCE_ONEAPI:
        /* the relay's own API base, as airouter joins /v1 paths to it */
        airouter_config_url(ch, "/v1/dashboard/billing/subscription",
                            req[n++].url, sizeof(req->url));
        airouter_config_url(ch, "/v1/dashboard/billing/usage",
                            req[n++].url, sizeof(req->url));
        break;

    case AIROUTER_BALANCE_JSON:
        if (ch->balance.url == NULL) {
            break;
        }

        if (strstr(ch->balance.url, "://") != NULL) {
            snprintf(req[n++].url, sizeof(req->url), "%.1000s",
                     ch->balance.url);

        } else {
            snprintf(req[n++].url, sizeof(req->url), "%s%s%.500s", origin,
                     ch->balance.url[0] == '/' ? "" : "/", ch->balance.url);
        }

        break;

    default:
        break;
    }

    return n;
}


void
airouter_balance_parse(const airouter_channel_t *ch,
    airouter_balance_kind_e kind, size_t i, const char *body, size_t len,
    airouter_balance_part_t *part)
{
    double        a, b;
    size_t        k;
    json_t       *root, *data, *v, *info, *pick;
    const char   *cur, *host;

    memset(part, 0, sizeof(airouter_balance_part_t));

    root = json_loadb(body, len, 0, NULL);
    if (!json_is_object(root)) {
        snprintf(part->error, sizeof(part->error), "the answer is not a "
                 "JSON object");
        json_decref(root);
        return;
    }

    data = json_object_get(root, "data");

    switch (kind) {

    case AIROUTER_BALANCE_OPENROUTER:
        if (i == 0) {
            if (airouter_balance_number(json_object_get(data,
                                                        "total_credits"), &a)
                && airouter_balance_number(json_object_get(data,
                                                           "total_usage"),
                                           &b))
            {
                airouter_balance_set(part, a - b, "USD");
            }

        } else {
            /* a key without a limit says "limit": null */
            v = json_object_get(data, "limit_remaining");

            if (airouter_balance_number(v, &a)) {
                part->has_limit = 1;
                part->limit = a;
                snprintf(part->currency, sizeof(part->currency), "USD");

            } else if (json_is_object(data)) {
                snprintf(part->currency, sizeof(part->currency), "USD");
                break;
            }
        }

        break;

    case AIROUTER_BALANCE_DEEPSEEK:
        info = json_object_get(root, "balance_infos");
        pick = NULL;

        /* USD when the account has both, else the first */
        for (k = 0; k < json_array_size(info); k++) {
            v = json_array_get(info, k);
            cur = json_string_value(json_object_get(v, "currency"));

            if (pick == NULL || (cur != NULL && strcmp(cur, "USD") == 0)) {
                pick = v;
            }
        }

        if (pick != NULL
            && airouter_balance_number(json_object_get(pick, "total_balance"),
                                       &a))
        {
            cur = json_string_value(json_object_get(pick, "currency"));
            airouter_balance_set(part, a, cur ? cur : "CNY");

        } else if (json_is_false(json_object_get(root, "is_available"))) {
            airouter_balance_set(part, 0, "CNY");
        }

        break;

    case AIROUTER_BALANCE_SILICONFLOW:
        if (airouter_balance_number(json_object_get(data, "totalBalance"),
                                    &a))
        {
            airouter_balance_set(part, a, "CNY");
        }

        break;

    case AIROUTER_BALANCE_MOONSHOT:
        if (airouter_balance_number(json_object_get(data,
                                                    "available_balance"), &a))
        {
            host = strstr(ch->base_url ? ch->base_url : "", "://");
            host = host ? host + 3 : "";
            cur = (strncmp(host, "api.moonshot.ai", 15) == 0) ? "USD"
                                                               : "CNY";
            airouter_balance_set(part, a, cur);
        }

        break;

    case AIROUTER_BALANCE_ONEAPI:
        if (i == 0
            && airouter_balance_number(json_object_get(root,
                                                       "hard_limit_usd"), &a))
        {
            airouter_balance_set(part, a, "USD");

        } else if (i == 1
                   && airouter_balance_number(json_object_get(root,
                                                            "total_usage"),
                                              &a))
        {
            /* cents, subtracted in combine */
            airouter_balance_set(part, a / 100, "USD");
        }

        break;

    case AIROUTER_BALANCE_JSON:
        if (ch->balance.path != NULL
            && airouter_balance_number(airouter_balance_path(root,
                                           ch->balance.path), &a))
        {
            airouter_balance_set(part, a, ch->balance.currency
                                          ? ch->balance.currency : "USD");
        }

        break;

    default:
        break;
    }

    if (!part->has_amount && !part->has_limit && part->currency[0] == '\0'
        && part->error[0] == '\0')
    {
        v = json_object_get(root, "error");
        v = json_is_object(v) ? json_object_get(v, "message") : v;

        if (!json_is_string(v)) {
            v = json_object_get(root, "message");
        }

        snprintf(part->error, sizeof(part->error), "no balance in the "
                 "answer%s%.80s", json_is_string(v) ? ": " : "",
                 json_is_string(v) ? json_string_value(v) : "");
    }

    airouter_balance_clean(ch, part->error);

    json_decref(root);
}


void
airouter_balance_combine(airouter_balance_kind_e kind,
    airouter_balance_part_t **parts, size_t n, airouter_balance_result_t *res)
{
    size_t                    i;
    airouter_balance_part_t  *p0, *p1;

    memset(res, 0, sizeof(airouter_balance_result_t));

    p0 = n > 0 ? parts[0] : NULL;
    p1 = n > 1 ? parts[1] : NULL;

    switch (kind) {

    case AIROUTER_BALANCE_OPENROUTER:
        /* credits left, capped by the key's own limit when it has one */
        if (p0 != NULL && p0->has_amount) {
            res->ok = 1;
            res->amount = p0->amount;

            if (p1 != NULL && p1->has_limit && p1->limit < res->amount) {
                res->amount = p1->limit;
            }

        } else if (p1 != NULL && p1->has_limit) {
            res->ok = 1;
            res->amount = p1->limit;
        }

        break;

    case AIROUTER_BALANCE_ONEAPI:
        if (p0 != NULL && p0->has_amount && p1 != NULL && p1->has_amount) {
            res->ok = 1;
            res->amount = p0->amount - p1->amount;
        }

        break;

    default:
        if (p0 != NULL && p0->has_amount) {
            res->ok = 1;
            res->amount = p0->amount;
        }

        break;
    }

    if (res->ok) {
        snprintf(res->currency, sizeof(res->currency), "USD");

        for (i = 0; i < n; i++) {
            if (parts[i] != NULL && parts[i]->currency[0] != '\0') {
                snprintf(res->currency, sizeof(res->currency), "%s",
                         parts[i]->currency);
                break;
            }
        }

        return;
    }

    for (i = 0; i < n; i++) {
        if (parts[i] != NULL && parts[i]->error[0] != '\0') {
            snprintf(res->error, sizeof(res->error), "%s", parts[i]->error);
            return;
        }
    }

    snprintf(res->error, sizeof(res->error), "no answer");
}


void
airouter_balance_clean(const airouter_channel_t *ch, char *text)
{
    size_t         i, k, len, klen, n;
    char          *p;
    unsigned char  c;

    len = strlen(text);

    /* keys shorter than 4 bytes would mask ordinary words */
    for (k = 0; ch != NULL && k < ch->api_keys.n; k++) {
        klen = strlen(ch->api_keys.items[k]);
        if (klen < 4) {
            continue;
        }

        for (p = strstr(text, ch->api_keys.items[k]); p != NULL;
             p = strstr(p + klen, ch->api_keys.items[k]))
        {
            memset(p, '*', klen);
        }
    }

    for (i = 0; i < len; i++) {
        c = (unsigned char) text[i];

        if (c < 0x20 || c == 0x7f) {
            text[i] = ' ';
        }
    }

    /* the last sequence: its lead byte says how long it must be */
    for (i = len; i > 0 && len - i < 3
                  && ((unsigned char) text[i - 1] & 0xc0) == 0x80; i--)
    {
        /* void */
    }

    if (i > 0 && ((unsigned char) text[i - 1] & 0x80)) {
        c = (unsigned char) text[i - 1];
        n = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
            : (c & 0xf8) == 0xf0 ? 4 : 0;

        if (n != len - (i - 1)) {
            text[i - 1] = '\0';
        }
    }
}


/* "https://api.deepseek.com/v1" -> "https://api.deepseek.com" */
static void
airouter_balance_origin(const char *base, char *buf, size_t size)
{
    size_t       len;
    const char  *host, *slash;

    host = strstr(base, "://");
    host = host ? host + 3 : base;
    slash = strchr(host, '/');
    len = slash ? (size_t) (slash - base) : strlen(base);

    if (len >= size) {
        len = size - 1;
    }

    snprintf(buf, size, "%.*s", (int) len, base);
}


/* a JSON number, or a string that is one ("88.88") */
static int
airouter_balance_number(json_t *v, double *out)
{
    char        *end;
    double       d;
    const char  *s;

    if (json_is_number(v)) {
        *out = json_number_value(v);
        return isfinite(*out);
    }

    if (!json_is_string(v)) {
        return 0;
    }

    s = json_string_value(v);
    if (s[0] == '\0' || isspace((unsigned char) s[0])) {
        return 0;
    }

    d = strtod(s, &end);
    if (*end != '\0' || !isfinite(d)) {
        return 0;
    }

    *out = d;
    return 1;
}


/* "data.balance", "balance_infos.0.total_balance" */
static json_t *
airouter_balance_path(json_t *root, const char *path)
{
    char         seg[128];
    size_t       len;
    json_t      *v;
    const char  *p, *dot;

    v = root;

    for (p = path; v != NULL && *p != '\0'; p = *dot ? dot + 1 : dot) {
        dot = strchr(p, '.');
        if (dot == NULL) {
            dot = p + strlen(p);
        }

        len = (size_t) (dot - p);
        if (len == 0 || len >= sizeof(seg)) {
            return NULL;
        }

        memcpy(seg, p, len);
        seg[len] = '\0';

        if (json_is_array(v)) {
            if (strspn(seg, "0123456789") != len) {
                return NULL;
            }

            v = json_array_get(v, (size_t) strtoul(seg, NULL, 10));

        } else {
            v = json_object_get(v, seg);
        }
    }

    return v;
}


static void
airouter_balance_set(airouter_balance_part_t *part, double amount,
    const char *currency)
{
    part->has_amount = 1;
    part->amount = amount;
    snprintf(part->currency, sizeof(part->currency), "%s", currency);
}
