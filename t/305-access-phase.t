# Admission in nginx's access phase: the API location's key check, budgets
# and rate run as an access-phase handler that runs after nginx's own
# access modules, so they compose with it: "satisfy any" lets a request in
# that allow or auth_request granted (a token it carries still names its
# key, whose limits apply; without one it is anonymous), "satisfy all"
# needs both, and a token refused is airouter's JSON 401 either way.
# limit_req (preaccess) keyed by $airouter_key limits per key.  A refusal
# comes before the body is read (a key over its rate gets its 429 whatever
# the body), and a subrequest, for which nginx runs no access phase, still
# needs the key.  The admin location's token (and the API location's
# /v1/stats/...) is checked in the same place, so the same composition
# holds for the admin API; with auth off airouter has no say in the
# access phase and lets in only what nginx's modules let in.
use Test::Nginx::Socket 'no_plan';
use Airouter::Check;
use Airouter::Blocks;

no_shuffle();
log_level('info');
install_checks();

our $Config = <<'_EOY_';
auth:
  enabled: true
  api_keys:
    - name: alice
      key: "sk-alice"
    - name: bob
      key: "sk-bob"
    - name: slow
      key: "sk-slow"
      rate_limit: 1
  admin:
    enabled: true
    admin_token: "adm-secret"
channels:
  - id: paid
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_3/ok/v1"
    api_key: "sk-up-paid"
    configured_models: ["paid-model"]
    model_aliases:
      gpt-test: "paid-model"
    cost_per_token: {input: 0.000001, output: 0.000002}
routing:
  model_filters:
    min_context_length: 0
_EOY_

our $Chat = '{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}';

# auth_request's subrequest: lets in a request that says "X-Let-In: yes"
our $Authz = <<'_EOC_';
    location = /authz {
        internal;
        if ($http_x_let_in = "yes") {
            return 204;
        }
        return 403;
    }
_EOC_

airouter_blocks(
    http => "    log_format keys '\$status key=\$airouter_key channel=\$airouter_channel';\n",
    mock => count_http_config(),
    user_files => ">>> router_config.yaml\n$Config",
    request => "POST /v1/chat/completions\n$Chat");

run_tests();

__DATA__

=== TEST 1: satisfy any: allow lets a request without a token in, anonymous
--- config
    location /v1/ {
        satisfy any;
        allow 127.0.0.1;
        deny all;
        airouter;
        access_log logs/access.log keys;
    }
--- error_code: 200
--- response_body_like: "content":"Hello!"
--- upstream_hits: 1
--- access_log
200 key=- channel=paid



=== TEST 2: satisfy any: a token sent anyway still names the key; its rate limit applies although allow let it in
--- config
    location /v1/ {
        satisfy any;
        allow 127.0.0.1;
        deny all;
        airouter;
        access_log logs/access.log keys;
    }
--- request eval
["POST /v1/chat/completions\n$::Chat", "POST /v1/chat/completions\n$::Chat"]
--- more_headers
Authorization: Bearer sk-slow
--- error_code eval
[200, 429]
--- response_body_like eval
['"content":"Hello!"', '"code":"rate_limit_exceeded"']
--- upstream_hits: 1
--- access_log
200 key=slow channel=paid



=== TEST 3: satisfy any, deny matching: no token is airouter's JSON 401, a wrong one too, the right one is served
--- config
    location /v1/ {
        satisfy any;
        deny 127.0.0.1;
        airouter;
    }
--- request eval
["POST /v1/chat/completions\n$::Chat", "POST /v1/chat/completions\n$::Chat",
 "POST /v1/chat/completions\n$::Chat"]
--- more_headers eval
["", "Authorization: Bearer sk-wrong", "Authorization: Bearer sk-alice"]
--- error_code eval
[401, 401, 200]
--- response_body_like eval
['^\{"error":\{"message":"You didn\'t provide an API key.*"code":"missing_api_key"\}\}$',
 '^\{"error":\{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"\}\}$',
 '"content":"Hello!"']
--- upstream_hits: 1



=== TEST 4: satisfy all: allow is not enough, the token is needed as well
--- config
    location /v1/ {
        allow 127.0.0.1;
        deny all;
        airouter;
    }
--- request eval
["POST /v1/chat/completions\n$::Chat", "POST /v1/chat/completions\n$::Chat"]
--- more_headers eval
["", "Authorization: Bearer sk-alice"]
--- error_code eval
[401, 200]
--- response_body_like eval
['"code":"missing_api_key"', '"content":"Hello!"']
--- upstream_hits: 1



=== TEST 5: satisfy all: deny refuses a request with the right token, before airouter looks at it
--- config
    location /v1/ {
        deny 127.0.0.1;
        airouter;
    }
--- more_headers
Authorization: Bearer sk-alice
--- error_code: 403
--- response_body_like: "code":"forbidden"
--- upstream_hits: 0
--- error_log
access forbidden by rule



=== TEST 6: satisfy any with auth_request: its yes lets a request without a token in; its no leaves airouter's 401
--- config eval
$::Authz . <<'_EOC_'
    location /v1/ {
        satisfy any;
        auth_request /authz;
        airouter;
    }
_EOC_
--- request eval
["POST /v1/chat/completions\n$::Chat", "POST /v1/chat/completions\n$::Chat"]
--- more_headers eval
["X-Let-In: yes", "X-Let-In: no"]
--- error_code eval
[200, 401]
--- response_body_like eval
['"content":"Hello!"', '"code":"missing_api_key"']
--- upstream_hits: 1



=== TEST 7: satisfy all with auth_request: its no refuses the right token; its yes still needs one
--- config eval
$::Authz . <<'_EOC_'
    location /v1/ {
        auth_request /authz;
        airouter;
    }
_EOC_
--- request eval
["POST /v1/chat/completions\n$::Chat", "POST /v1/chat/completions\n$::Chat",
 "POST /v1/chat/completions\n$::Chat"]
--- more_headers eval
["Authorization: Bearer sk-alice", "X-Let-In: yes",
 "X-Let-In: yes\nAuthorization: Bearer sk-alice"]
--- error_code eval
[403, 401, 200]
--- response_body_like eval
['"code":"forbidden"', '"code":"missing_api_key"', '"content":"Hello!"']
--- upstream_hits: 1



=== TEST 8: limit_req keyed by $airouter_key: one bucket per key; no or a wrong token shares none and gets airouter's 401
--- extra_http_config
    limit_req_zone $airouter_key zone=perkey:1m rate=1r/m;
--- config
    location /v1/ {
        limit_req zone=perkey;
        limit_req_status 429;
        airouter;
    }
--- request eval
["GET /v1/models", "GET /v1/models", "GET /v1/models", "GET /v1/models",
 "GET /v1/models", "GET /v1/models"]
--- more_headers eval
["Authorization: Bearer sk-alice", "Authorization: Bearer sk-alice",
 "Authorization: Bearer sk-bob", "", "", "Authorization: Bearer sk-wrong"]
--- error_code eval
[200, 429, 200, 401, 401, 401]
--- response_body_like eval
['"id":"paid-model"', '"type":"requests","code":"rate_limit_exceeded"', '"id":"paid-model"',
 '"code":"missing_api_key"', '"code":"missing_api_key"',
 '"code":"invalid_api_key"']
--- error_log_all
by zone "perkey"



=== TEST 9: a key over its rate is refused before its body is read: a body that is not JSON gets the 429; a key within its limits gets the 400
--- request eval
["POST /v1/chat/completions\n$::Chat", "POST /v1/chat/completions\nnot json",
 "POST /v1/chat/completions\nnot json"]
--- more_headers eval
["Authorization: Bearer sk-slow", "Authorization: Bearer sk-slow",
 "Authorization: Bearer sk-alice"]
--- config
    location /v1/ { airouter; }
--- error_code eval
[200, 429, 400]
--- response_body_like eval
['"content":"Hello!"', '"code":"rate_limit_exceeded"', '"code":"invalid_json"']
--- upstream_hits: 1



=== TEST 10: a subrequest (no access phase in nginx) still needs the key: auth_request to the API location
--- config
    location /v1/ { airouter; }
    location = /guarded {
        auth_request /v1/models;
        echo "in";
    }
--- request eval
["GET /guarded", "GET /guarded", "GET /guarded"]
--- more_headers eval
["", "Authorization: Bearer sk-wrong", "Authorization: Bearer sk-alice"]
--- error_code eval
[401, 401, 200]
--- response_body_like eval
['401 Authorization Required', '401 Authorization Required', '^in$']



=== TEST 11: a request refused in the access phase is in the request log: 429, throttled, its key (the body was never read)
--- config
    location /v1/ { airouter; }
    location /v1/admin/ { airouter_admin; }
--- request eval
["POST /v1/chat/completions\n$::Chat", "POST /v1/chat/completions\n$::Chat",
 "GET /v1/admin/requests"]
--- more_headers eval
["Authorization: Bearer sk-slow", "Authorization: Bearer sk-slow",
 "Authorization: Bearer adm-secret"]
--- error_code eval
[200, 429, 200]
--- check_json
my ($b, $a) = @{$j->{requests}};
@{$j->{requests}} == 2
&& $a->{status} == 200 && $a->{outcome} eq 'ok' && $a->{key} eq 'slow'
&& $b->{status} == 429 && $b->{outcome} eq 'throttled' && $b->{key} eq 'slow'
&& $b->{attempts} == 0



=== TEST 12: an admin request refused by deny (satisfy all) is nginx's 403 before the admin token is looked at, right or wrong
--- config
    location /v1/admin/ {
        deny 127.0.0.1;
        airouter_admin;
    }
--- request eval
["GET /v1/admin/routing/strategy", "GET /v1/admin/routing/strategy"]
--- more_headers eval
["Authorization: Bearer adm-wrong", "Authorization: Bearer adm-secret"]
--- error_code eval
[403, 403]
--- response_body_like eval
['"code":"forbidden"', '"code":"forbidden"']
--- error_log
access forbidden by rule
--- no_error_log
admin request without the admin token refused



=== TEST 13: satisfy any, deny matching: a valid admin token lets the admin request in; none or a wrong one is airouter's JSON 401
--- config
    location /v1/admin/ {
        satisfy any;
        deny 127.0.0.1;
        airouter_admin;
    }
--- request eval
["GET /v1/admin/routing/strategy", "GET /v1/admin/routing/strategy",
 "GET /v1/admin/routing/strategy"]
--- more_headers eval
["", "Authorization: Bearer adm-wrong", "Authorization: Bearer adm-secret"]
--- error_code eval
[401, 401, 200]
--- response_body_like eval
['^\{"error":\{"message":"A valid admin token is required","type":"invalid_request_error","code":"invalid_api_key"\}\}$',
 '"code":"invalid_api_key"', '"strategy":"cost_first"']



=== TEST 14: satisfy any, allow matching: the admin request gets in without a token (allow said yes), as on the API location
--- config
    location /v1/admin/ {
        satisfy any;
        allow 127.0.0.1;
        deny all;
        airouter_admin;
    }
--- request eval
["GET /v1/admin/routing/strategy", "GET /v1/admin/routing/strategy"]
--- more_headers eval
["", "Authorization: Bearer adm-wrong"]
--- error_code eval
[200, 200]
--- response_body_like eval
['"strategy":"cost_first"', '"strategy":"cost_first"']



=== TEST 15: satisfy all: allow is not enough for the admin API, the admin token is needed as well
--- config
    location /v1/admin/ {
        allow 127.0.0.1;
        deny all;
        airouter_admin;
    }
--- request eval
["GET /v1/admin/routing/strategy", "GET /v1/admin/routing/strategy"]
--- more_headers eval
["", "Authorization: Bearer adm-secret"]
--- error_code eval
[401, 200]
--- response_body_like eval
['"code":"invalid_api_key"', '"strategy":"cost_first"']



=== TEST 16: admin location with auth_request: satisfy any takes its yes without a token; satisfy all refuses the right token on its no
--- config eval
$::Authz . <<'_EOC_'
    location /v1/admin/ {
        satisfy any;
        auth_request /authz;
        airouter_admin;
    }
    location /v1/stats/ {
        auth_request /authz;
        airouter_admin;
    }
_EOC_
--- request eval
["GET /v1/admin/routing/strategy", "GET /v1/admin/routing/strategy",
 "GET /v1/stats/summary", "GET /v1/stats/summary"]
--- more_headers eval
["X-Let-In: yes", "X-Let-In: no",
 "X-Let-In: no\nAuthorization: Bearer adm-secret",
 "X-Let-In: yes\nAuthorization: Bearer adm-secret"]
--- error_code eval
[200, 401, 403, 200]
--- response_body_like eval
['"strategy":"cost_first"', '"code":"invalid_api_key"',
 '"code":"forbidden"', '"today"']



=== TEST 17: the API location's /v1/stats/ takes the admin token in the access phase too: satisfy any with deny takes the token, with allow none is needed
--- config
    location /v1/ {
        satisfy any;
        deny 127.0.0.1;
        airouter;
    }
    location /s/v1/ {
        satisfy any;
        allow 127.0.0.1;
        deny all;
        airouter;
    }
--- request eval
["GET /v1/stats/summary", "GET /v1/stats/summary", "GET /v1/stats/summary",
 "GET /s/v1/stats/summary"]
--- more_headers eval
["", "Authorization: Bearer sk-alice", "Authorization: Bearer adm-secret", ""]
--- error_code eval
[401, 401, 200, 200]
--- response_body_like eval
['"code":"invalid_api_key"', '"code":"invalid_api_key"', '"today"', '"today"']



=== TEST 18: an admin subrequest (no access phase in nginx) still needs the admin token: auth_request to the admin location
--- config
    location /v1/admin/ { airouter_admin; }
    location = /guarded {
        auth_request /v1/admin/routing/strategy;
        echo "in";
    }
--- request eval
["GET /guarded", "GET /guarded", "GET /guarded"]
--- more_headers eval
["", "Authorization: Bearer adm-wrong", "Authorization: Bearer adm-secret"]
--- error_code eval
[401, 401, 200]
--- response_body_like eval
['401 Authorization Required', '401 Authorization Required', '^in$']



=== TEST 19: an admin API closed by the configuration stays closed when allow lets the request in under satisfy any
--- user_files eval
">>> router_config.yaml\n" . ($::Config =~ s/  admin:\n    enabled: true\n    admin_token: "adm-secret"\n//r)
--- config
    location /v1/admin/ {
        satisfy any;
        allow 127.0.0.1;
        deny all;
        airouter_admin;
    }
--- error_code: 403
--- request
GET /v1/admin/routing/strategy
--- response_body_like: "code":"admin_disabled"



=== TEST 20: with auth off (the admin API open) airouter has no say in the access phase: satisfy any with deny refuses API and admin requests alike, with allow both are served
--- user_files eval
">>> router_config.yaml\n" . ($::Config =~ s/^auth:\n  enabled: true/auth:\n  enabled: false/r
                              =~ s/  admin:\n    enabled: true\n    admin_token: "adm-secret"\n//r)
--- config
    location /v1/ {
        satisfy any;
        deny 127.0.0.1;
        airouter;
    }
    location /v1/admin/ {
        satisfy any;
        deny 127.0.0.1;
        airouter_admin;
    }
    location /open/v1/ {
        satisfy any;
        allow 127.0.0.1;
        deny all;
        airouter;
    }
--- request eval
["POST /v1/chat/completions\n$::Chat", "GET /v1/models",
 "GET /v1/admin/routing/strategy", "POST /open/v1/chat/completions\n$::Chat"]
--- error_code eval
[403, 403, 403, 200]
--- response_body_like eval
['"code":"forbidden"', '"code":"forbidden"', '"code":"forbidden"', '"content":"Hello!"']
--- upstream_hits: 1



=== TEST 21: /metrics refused by deny (satisfy all) is nginx's 403 (answered as JSON, t/512) before the admin token is looked at, right or wrong
--- config
    location = /metrics {
        deny 127.0.0.1;
        airouter_metrics;
    }
--- request eval
["GET /metrics", "GET /metrics", "POST /metrics\n{}"]
--- more_headers eval
["Authorization: Bearer adm-wrong", "Authorization: Bearer adm-secret",
 "Authorization: Bearer adm-secret"]
--- error_code eval
[403, 403, 403]
--- response_body_like eval
['"code":"forbidden"', '"code":"forbidden"', '"code":"forbidden"']
--- error_log
access forbidden by rule
--- no_error_log
admin request without the admin token refused



=== TEST 22: /metrics under satisfy any: allow lets it in without the admin token; with deny matching only the token does
--- config
    location = /metrics {
        satisfy any;
        allow 127.0.0.1;
        deny all;
        airouter_metrics;
    }
    location = /d/metrics {
        satisfy any;
        deny 127.0.0.1;
        airouter_metrics;
    }
--- request eval
["GET /metrics", "GET /metrics", "GET /d/metrics", "GET /d/metrics",
 "GET /d/metrics"]
--- more_headers eval
["", "Authorization: Bearer adm-wrong", "", "Authorization: Bearer adm-wrong",
 "Authorization: Bearer adm-secret"]
--- error_code eval
[200, 200, 401, 401, 200]
--- response_body_like eval
['^# HELP airouter_info ', '^# HELP airouter_info ',
 '^\{"error":\{"message":"A valid admin token is required","type":"invalid_request_error","code":"invalid_api_key"\}\}$',
 '"code":"invalid_api_key"', '^# HELP airouter_info ']



=== TEST 23: /metrics with auth_request: satisfy any takes its yes without a token; satisfy all refuses the right token on its no and still wants the token on its yes
--- config eval
$::Authz . <<'_EOC_'
    location = /metrics {
        satisfy any;
        auth_request /authz;
        airouter_metrics;
    }
    location = /all/metrics {
        auth_request /authz;
        airouter_metrics;
    }
_EOC_
--- request eval
["GET /metrics", "GET /metrics", "GET /all/metrics", "GET /all/metrics",
 "GET /all/metrics"]
--- more_headers eval
["X-Let-In: yes", "X-Let-In: no",
 "X-Let-In: no\nAuthorization: Bearer adm-secret", "X-Let-In: yes",
 "X-Let-In: yes\nAuthorization: Bearer adm-secret"]
--- error_code eval
[200, 401, 403, 401, 200]
--- response_body_like eval
['^# HELP airouter_info ', '"code":"invalid_api_key"', '"code":"forbidden"',
 '"code":"invalid_api_key"', '^# HELP airouter_info ']



=== TEST 24: /metrics answers a request without the admin token 401 whatever its method; only with the token does a POST get its 405
--- config
    location = /metrics { airouter_metrics; }
--- request eval
["POST /metrics\n{}", "PUT /metrics\n{}", "DELETE /metrics", "POST /metrics\n{}",
 "POST /metrics\n{}", "HEAD /metrics"]
--- more_headers eval
["", "", "Authorization: Bearer adm-wrong", "Authorization: Bearer adm-wrong",
 "Authorization: Bearer adm-secret", "Authorization: Bearer adm-secret"]
--- error_code eval
[401, 401, 401, 401, 405, 200]
--- response_body_like eval
['"code":"invalid_api_key"', '"code":"invalid_api_key"', '"code":"invalid_api_key"',
 '"code":"invalid_api_key"', '"code":"method_not_allowed"', '^$']



=== TEST 25: a subrequest to /metrics (no access phase in nginx) still needs the admin token
--- config
    location = /metrics { airouter_metrics; }
    location = /guarded {
        auth_request /metrics;
        echo "in";
    }
--- request eval
["GET /guarded", "GET /guarded", "GET /guarded"]
--- more_headers eval
["", "Authorization: Bearer adm-wrong", "Authorization: Bearer adm-secret"]
--- error_code eval
[401, 401, 200]
--- response_body_like eval
['401 Authorization Required', '401 Authorization Required', '^in$']



=== TEST 26: with the admin API enabled but no admin_token, /metrics stays closed when allow lets the request in under satisfy any
--- user_files eval
">>> router_config.yaml\n" . ($::Config =~ s/    admin_token: "adm-secret"\n//r)
--- config
    location = /metrics {
        satisfy any;
        allow 127.0.0.1;
        deny all;
        airouter_metrics;
    }
--- request eval
["GET /metrics", "GET /metrics"]
--- more_headers eval
["", "Authorization: Bearer adm-secret"]
--- error_code eval
[403, 403]
--- response_body_like eval
['"code":"admin_disabled"', '"code":"admin_disabled"']
