/*
 * airouter_balance.c: the requests of each kind and its answers in the
 * providers' own shapes, the kind inferred from a channel, and the
 * balance: config key.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "airouter_balance.h"
#include "airouter_config.h"
#include "unit.h"


static airouter_channel_t
chan(const char *provider, const char *base)
{
    airouter_channel_t  ch;

    memset(&ch, 0, sizeof(ch));
    ch.provider_name = (char *) provider;
    ch.base_url = (char *) base;
    ch.versioned = base != NULL && strstr(base, "/v1") != NULL;

    return ch;
}


/* the balance of one check whose answers are bodies (NULL: failed) */
static airouter_balance_result_t
check(airouter_channel_t *ch, airouter_balance_kind_e kind,
    const char *b0, const char *b1)
{
    const char                *bodies[2];
    size_t                     i, n;
    airouter_balance_part_t    parts[2], *pp[2];
    airouter_balance_request_t req[AIROUTER_BALANCE_MAX_REQUESTS];
    airouter_balance_result_t  res;

    bodies[0] = b0;
    bodies[1] = b1;
    n = airouter_balance_requests(ch, kind, req);

    for (i = 0; i < n; i++) {
        pp[i] = NULL;

        if (bodies[i] != NULL) {
            airouter_balance_parse(ch, kind, i, bodies[i], strlen(bodies[i]),
                                   &parts[i]);
            pp[i] = &parts[i];
        }
    }

    airouter_balance_combine(kind, pp, n, &res);

    return res;
}


#define NEAR(a, b)  (fabs((a) - (b)) < 1e-9)


static void
test_requests(void)
{
    size_t                      n;
    airouter_channel_t          ch;
    airouter_balance_request_t  req[AIROUTER_BALANCE_MAX_REQUESTS];

    ch = chan("openrouter", "https://openrouter.ai/api/v1");
    n = airouter_balance_requests(&ch, AIROUTER_BALANCE_OPENROUTER, req);
    UNIT_CHECK(n == 2, "openrouter asks twice");
    UNIT_STREQ(req[0].url, "https://openrouter.ai/api/v1/credits");
    UNIT_STREQ(req[1].url, "https://openrouter.ai/api/v1/key");

    ch = chan("deepseek", "https://api.deepseek.com/v1");
    airouter_balance_requests(&ch, AIROUTER_BALANCE_DEEPSEEK, req);
    UNIT_STREQ(req[0].url, "https://api.deepseek.com/user/balance");

    ch = chan("siliconflow", "https://api.siliconflow.cn/v1");
    airouter_balance_requests(&ch, AIROUTER_BALANCE_SILICONFLOW, req);
    UNIT_STREQ(req[0].url, "https://api.siliconflow.cn/v1/user/info");

    ch = chan("moonshot", "https://api.moonshot.cn");
    airouter_balance_requests(&ch, AIROUTER_BALANCE_MOONSHOT, req);
    UNIT_STREQ(req[0].url, "https://api.moonshot.cn/v1/users/me/balance");

    /* a relay: its own base, joined as airouter joins /v1 paths */
    ch = chan(NULL, "http://relay.example.com:3000");
    n = airouter_balance_requests(&ch, AIROUTER_BALANCE_ONEAPI, req);
    UNIT_CHECK(n == 2, "oneapi asks twice");
    UNIT_STREQ(req[0].url,
               "http://relay.example.com:3000/v1/dashboard/billing/"
               "subscription");
    ch = chan(NULL, "http://relay.example.com/v1");
    airouter_balance_requests(&ch, AIROUTER_BALANCE_ONEAPI, req);
    UNIT_STREQ(req[1].url,
               "http://relay.example.com/v1/dashboard/billing/usage");

    ch = chan(NULL, "https://x.example.com/api/v3");
    ch.balance.url = "/account/balance";
    airouter_balance_requests(&ch, AIROUTER_BALANCE_JSON, req);
    UNIT_STREQ(req[0].url, "https://x.example.com/account/balance");
    ch.balance.url = "https://billing.example.com/b";
    airouter_balance_requests(&ch, AIROUTER_BALANCE_JSON, req);
    UNIT_STREQ(req[0].url, "https://billing.example.com/b");
}


static void
test_answers(void)
{
    airouter_channel_t         ch;
    airouter_balance_result_t  r;

    /* OpenRouter: credits left, capped by the key's limit */
    ch = chan("openrouter", "https://openrouter.ai/api/v1");
    r = check(&ch, AIROUTER_BALANCE_OPENROUTER,
              "{\"data\":{\"total_credits\":20,\"total_usage\":4.5}}",
              "{\"data\":{\"label\":\"sk-or-v1-116...0ce\",\"limit\":null,"
              "\"usage\":4.5,\"is_provisioning_key\":false,"
              "\"limit_remaining\":null,\"is_free_tier\":false,"
              "\"rate_limit\":{\"requests\":50,\"interval\":\"10s\"}}}");
    UNIT_CHECK(r.ok && NEAR(r.amount, 15.5), "openrouter %g", r.amount);
    UNIT_STREQ(r.currency, "USD");

    r = check(&ch, AIROUTER_BALANCE_OPENROUTER,
              "{\"data\":{\"total_credits\":20,\"total_usage\":4.5}}",
              "{\"data\":{\"label\":\"k\",\"limit\":5,\"usage\":0.1,"
              "\"limit_remaining\":4.9,\"is_free_tier\":false}}");
    UNIT_CHECK(r.ok && NEAR(r.amount, 4.9), "key limit caps: %g", r.amount);

    /* the credits endpoint refused (a key without that right): the limit */
    r = check(&ch, AIROUTER_BALANCE_OPENROUTER, NULL,
              "{\"data\":{\"limit\":5,\"limit_remaining\":0,"
              "\"usage\":5}}");
    UNIT_CHECK(r.ok && NEAR(r.amount, 0), "limit alone: %g", r.amount);

    r = check(&ch, AIROUTER_BALANCE_OPENROUTER, NULL, NULL);
    UNIT_CHECK(!r.ok && r.error[0] != '\0', "no answer: %s", r.error);

    /* DeepSeek: USD preferred when both */
    ch = chan("deepseek", "https://api.deepseek.com");
    r = check(&ch, AIROUTER_BALANCE_DEEPSEEK,
              "{\"is_available\":true,\"balance_infos\":[{\"currency\":"
              "\"CNY\",\"total_balance\":\"110.00\",\"granted_balance\":"
              "\"10.00\",\"topped_up_balance\":\"100.00\"}]}", NULL);
    UNIT_CHECK(r.ok && NEAR(r.amount, 110), "deepseek %g", r.amount);
    UNIT_STREQ(r.currency, "CNY");
    r = check(&ch, AIROUTER_BALANCE_DEEPSEEK,
              "{\"is_available\":true,\"balance_infos\":[{\"currency\":"
              "\"CNY\",\"total_balance\":\"7.00\"},{\"currency\":\"USD\","
              "\"total_balance\":\"1.25\"}]}", NULL);
    UNIT_CHECK(r.ok && NEAR(r.amount, 1.25), "deepseek usd %g", r.amount);
    UNIT_STREQ(r.currency, "USD");
    r = check(&ch, AIROUTER_BALANCE_DEEPSEEK,
              "{\"is_available\":false,\"balance_infos\":[]}", NULL);
    UNIT_CHECK(r.ok && NEAR(r.amount, 0), "not available is 0");

    /* SiliconFlow: totalBalance, a string */
    ch = chan("siliconflow", "https://api.siliconflow.cn/v1");
    r = check(&ch, AIROUTER_BALANCE_SILICONFLOW,
              "{\"code\":20000,\"message\":\"OK\",\"status\":true,\"data\":"
              "{\"id\":\"u1\",\"name\":\"n\",\"image\":\"\",\"email\":\"\","
              "\"isAdmin\":false,\"balance\":\"0.88\",\"status\":\"normal\","
              "\"introduction\":\"\",\"role\":\"\",\"chargeBalance\":"
              "\"88.00\",\"totalBalance\":\"88.88\"}}", NULL);
    UNIT_CHECK(r.ok && NEAR(r.amount, 88.88), "siliconflow %g", r.amount);
    UNIT_STREQ(r.currency, "CNY");

    /* Moonshot: CNY on .cn, USD on .ai */
    ch = chan("moonshot", "https://api.moonshot.cn/v1");
    r = check(&ch, AIROUTER_BALANCE_MOONSHOT,
              "{\"code\":0,\"data\":{\"available_balance\":49.58894,"
              "\"voucher_balance\":46.58893,\"cash_balance\":3.00001},"
              "\"scode\":\"0x0\",\"status\":true}", NULL);
    UNIT_CHECK(r.ok && NEAR(r.amount, 49.58894), "moonshot %g", r.amount);
    UNIT_STREQ(r.currency, "CNY");
    ch = chan("moonshot", "https://api.moonshot.ai/v1");
    r = check(&ch, AIROUTER_BALANCE_MOONSHOT,
              "{\"code\":0,\"data\":{\"available_balance\":-1.5},"
              "\"status\":true}", NULL);
    UNIT_CHECK(r.ok && NEAR(r.amount, -1.5), "moonshot debt");
    UNIT_STREQ(r.currency, "USD");

    /* One-API / New-API: quota as dollars, usage in cents */
    ch = chan(NULL, "http://relay.example.com");
    r = check(&ch, AIROUTER_BALANCE_ONEAPI,
              "{\"object\":\"billing_subscription\",\"has_payment_method\":"
              "true,\"soft_limit_usd\":12.5,\"hard_limit_usd\":12.5,"
              "\"system_hard_limit_usd\":12.5,\"access_until\":0}",
              "{\"object\":\"list\",\"total_usage\":250}");
    UNIT_CHECK(r.ok && NEAR(r.amount, 10), "oneapi %g", r.amount);
    r = check(&ch, AIROUTER_BALANCE_ONEAPI,
              "{\"error\":{\"message\":\"无效的令牌\",\"type\":"
              "\"one_api_error\"}}", "{\"object\":\"list\","
              "\"total_usage\":0}");
    UNIT_CHECK(!r.ok && strstr(r.error, "无效的令牌") != NULL,
               "the relay's own message: %s", r.error);

    /* generic: a JSON path, numbers in strings, array indexes */
    ch = chan(NULL, "https://x.example.com");
    ch.balance.url = "/b";
    ch.balance.path = "result.wallets.1.left";
    ch.balance.currency = "EUR";
    r = check(&ch, AIROUTER_BALANCE_JSON,
              "{\"result\":{\"wallets\":[{\"left\":1},{\"left\":\"2.5\"}]}}",
              NULL);
    UNIT_CHECK(r.ok && NEAR(r.amount, 2.5), "json path %g", r.amount);
    UNIT_STREQ(r.currency, "EUR");
    r = check(&ch, AIROUTER_BALANCE_JSON, "{\"result\":{}}", NULL);
    UNIT_CHECK(!r.ok, "path absent");
    r = check(&ch, AIROUTER_BALANCE_JSON, "<html>", NULL);
    UNIT_CHECK(!r.ok && strstr(r.error, "JSON") != NULL, "not JSON");
}


static void
test_infer(void)
{
    airouter_channel_t  ch;

    ch = chan("openrouter", "http://127.0.0.1:1/x");
    UNIT_CHECK(airouter_balance_infer(&ch) == AIROUTER_BALANCE_OPENROUTER,
               "by provider");
    ch = chan("my_ds", "https://api.deepseek.com");
    UNIT_CHECK(airouter_balance_infer(&ch) == AIROUTER_BALANCE_DEEPSEEK,
               "by host");
    ch = chan(NULL, "https://api.siliconflow.cn/v1");
    UNIT_CHECK(airouter_balance_infer(&ch) == AIROUTER_BALANCE_SILICONFLOW,
               "siliconflow host");
    ch = chan(NULL, "https://relay.example.com/siliconflow./v1");
    UNIT_CHECK(airouter_balance_infer(&ch) == AIROUTER_BALANCE_NONE,
               "a path is not a host");
    ch = chan("newapi", "https://relay.example.com");
    UNIT_CHECK(airouter_balance_infer(&ch) == AIROUTER_BALANCE_ONEAPI,
               "a provider named as a kind");

    UNIT_CHECK(airouter_config_balance_kind("DeepSeek")
               == AIROUTER_BALANCE_DEEPSEEK, "kind names");
    UNIT_STREQ(airouter_config_balance_kind_name(AIROUTER_BALANCE_ONEAPI),
               "oneapi");
}


static void
test_config(void)
{
    FILE                      *f;
    char                       path[] = "/tmp/test_balance.XXXXXX.yaml";
    int                        fd;
    airouter_diag_t            diag;
    airouter_config_t         *cf;
    const airouter_channel_t  *c;

    fd = mkstemps(path, 5);
    f = fdopen(fd, "w");
    fputs("channels:\n"
          "  - id: a\n    base_url: https://api.deepseek.com\n"
          "    balance: {interval: 120, low_threshold: 5, hold: false}\n"
          "    daily_token_limit: 100000\n"
          "  - id: b\n    base_url: https://x.example.com\n"
          "    balance: {kind: json, url: /b, path: data.left,"
          " currency: CNY}\n"
          "  - id: c\n    base_url: https://x.example.com\n"
          "    balance: oneapi\n"
          "  - id: d\n    base_url: https://x.example.com\n", f);
    fclose(f);

    memset(&diag, 0, sizeof(diag));
    cf = airouter_config_load(path, &diag);
    UNIT_CHECK(cf != NULL, "loads: %s", diag.error);

    if (cf != NULL) {
        c = airouter_config_channel(cf, "a");
        UNIT_CHECK(c->balance.enabled && c->balance.kind == 0
                   && c->balance.interval == 120
                   && c->balance.low_threshold == 5 && !c->balance.hold
                   && c->daily_token_limit == 100000, "a");
        c = airouter_config_channel(cf, "b");
        UNIT_CHECK(c->balance.kind == AIROUTER_BALANCE_JSON
                   && c->balance.interval == 600 && c->balance.hold
                   && c->balance.low_threshold < 0, "b");
        UNIT_STREQ(c->balance.path, "data.left");
        c = airouter_config_channel(cf, "c");
        UNIT_CHECK(c->balance.enabled
                   && c->balance.kind == AIROUTER_BALANCE_ONEAPI, "c");
        c = airouter_config_channel(cf, "d");
        UNIT_CHECK(!c->balance.enabled, "d has no balance");
        airouter_config_free(cf);
    }

    f = fopen(path, "w");
    fputs("channels:\n  - id: a\n    base_url: https://x.example.com\n"
          "    balance: {kind: paypal}\n", f);
    fclose(f);
    cf = airouter_config_load(path, &diag);
    UNIT_CHECK(cf == NULL && strstr(diag.error, ":4:") != NULL
               && strstr(diag.error, "unknown balance kind \"paypal\"")
                  != NULL, "bad kind: %s", diag.error);

    f = fopen(path, "w");
    fputs("channels:\n  - id: a\n    base_url: https://x.example.com\n"
          "    balance: {kind: json, url: /b}\n", f);
    fclose(f);
    cf = airouter_config_load(path, &diag);
    UNIT_CHECK(cf == NULL && strstr(diag.error, "needs url and path") != NULL,
               "json without path: %s", diag.error);

    f = fopen(path, "w");
    fputs("channels:\n  - id: a\n    base_url: https://x.example.com\n"
          "    balance: {interval: 5}\n", f);
    fclose(f);
    cf = airouter_config_load(path, &diag);
    UNIT_CHECK(cf == NULL, "an interval under a minute is refused");

    unlink(path);
}


int
main(void)
{
    test_requests();
    test_answers();
    test_infer();
    test_config();

    UNIT_DONE("test_balance");
}
