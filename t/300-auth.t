# API keys: no, wrong and right tokens; a key's allowed tags and models
# enforced whatever name the client uses; the admin token guarding
# /v1/admin/ and /v1/stats/; key names (never values) in the logs.
use Test::Nginx::Socket 'no_plan';
use Airouter::Check;
use Airouter::Blocks;

no_shuffle();
log_level('info');
install_checks();

our $Keys = <<'_EOY_';
auth:
  enabled: true
  api_keys:
    - name: alice
      key: "sk-alice-value"
    - name: freebie
      key: "sk-free-value"
      allowed_tags: [free]
    - name: narrow
      token: "sk-narrow-value"
      allowed_models: ["cheap-model"]
  admin:
    enabled: true
    admin_token: "adm-secret-value"
_EOY_

our $Channels = <<'_EOY_';
channels:
  - id: paid
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_3/ok/v1"
    api_key: "sk-up-paid"
    priority: 1
    configured_models: ["paid-model"]
    model_aliases:
      gpt-test: "paid-model"
    cost_per_token: {input: 0.000001, output: 0.000002}
  - id: freechan
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_3/ok/v1"
    api_key: "sk-up-free"
    priority: 2
    configured_models: ["cheap-model:free"]
    model_aliases:
      gpt-test: "cheap-model:free"
routing:
  default_strategy: quality_optimized
  model_filters:
    min_context_length: 0
_EOY_

# For /v1/tags: four models, two paid ones on a channel tagged "premium"
# and two free ones, all "local" (127.0.0.1).  Unrestricted, the tags are
# 8b:2 cheap:1 free:2 local:4 model:2 paid:1 premium:2 qwen3:2.
our $TagKeys = <<'_EOY_';
auth:
  enabled: true
  api_keys:
    - name: all
      key: "sk-all-value"
    - name: freebie
      key: "sk-free-value"
      allowed_tags: [free]
    - name: narrow
      key: "sk-narrow-value"
      allowed_models: ["cheap-model"]
    - name: both
      key: "sk-both-value"
      allowed_tags: [premium]
      allowed_models: ["qwen3*"]
    - name: nothing
      key: "sk-nothing-value"
      allowed_tags: [no-such-tag]
_EOY_

our $TagChannels = <<'_EOY_';
channels:
  - id: paid
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_3/ok/v1"
    api_key: "sk-up-paid"
    tags: [premium]
    configured_models: ["paid-model", "qwen3-8b"]
    cost_per_token: {input: 0.000001, output: 0.000002}
  - id: freechan
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_3/ok/v1"
    api_key: "sk-up-free"
    configured_models: ["cheap-model:free", "qwen3-8b:free"]
routing:
  default_strategy: quality_optimized
_EOY_

our $Chat = '{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}';

airouter_blocks(
    http => "    log_format keys '\$status key=\$airouter_key channel=\$airouter_channel';\n",
    mock => count_http_config(), config => <<'_EOC_',
    location /v1/ {
        airouter;
        access_log logs/access.log keys;
    }
    location /v1/admin/ { airouter_admin; }
_EOC_
    user_files => ">>> router_config.yaml\n$Keys$Channels",
    request => "POST /v1/chat/completions\n$Chat");

run_tests();

__DATA__

=== TEST 1: no token: 401 with an OpenAI-style error, nothing sent upstream
--- error_code: 401
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"You didn't provide an API key: send it as \"Authorization: Bearer <key>\"","type":"invalid_request_error","code":"missing_api_key"}}
--- upstream_hits: 0
--- access_log
401 key=- channel=-



=== TEST 2: a wrong token: 401 invalid_api_key; the token is never logged
--- more_headers
Authorization: Bearer sk-alice-valuf
--- error_code: 401
--- response_body
{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}
--- upstream_hits: 0
--- error_log
request with an unknown API key refused
--- no_error_log
sk-alice-valuf
[error]



=== TEST 3: a prefix of a right token is wrong
--- more_headers
Authorization: Bearer sk-alice
--- error_code: 401
--- upstream_hits: 0



=== TEST 4: the right token as "Bearer": served; the key's name is logged, not its value
--- more_headers
Authorization: Bearer sk-alice-value
--- error_code: 200
--- response_body_like: "content":"Hello!"
--- upstream_hits: 1
--- access_log
200 key=alice channel=
--- no_access_log
sk-alice-value
--- no_error_log
sk-alice-value
[error]



=== TEST 5: the bare token works too
--- more_headers
Authorization: sk-narrow-value
--- request
POST /v1/chat/completions
{"model": "cheap-model:free", "messages": [{"role": "user", "content": "hi"}]}
--- error_code: 200
--- access_log
200 key=narrow channel=freechan



=== TEST 6: auth.api_token is the key "default"
--- user_files eval
">>> router_config.yaml\nauth:\n  enabled: true\n  api_token: \"tok-default-value\"\n$::Channels"
--- more_headers
Authorization: Bearer tok-default-value
--- error_code: 200
--- access_log
200 key=default channel=



=== TEST 7: GET /v1/models needs a token as well
--- request eval
["GET /v1/models", "GET /v1/models"]
--- more_headers eval
["", "Authorization: Bearer sk-alice-value"]
--- error_code eval
[401, 200]
--- response_body_like eval
["invalid_request_error", "paid-model"]



=== TEST 8: /v1/models shows a key only what its ACL lets it reach
--- request eval
["GET /v1/models", "GET /v1/models/paid-model", "GET /v1/models/cheap-model:free"]
--- more_headers eval
["Authorization: Bearer sk-free-value", "Authorization: Bearer sk-free-value",
 "Authorization: Bearer sk-free-value"]
--- error_code eval
[200, 404, 200]
--- response_body_like eval
['^\{"object":"list","data":\[\{"id":"cheap-model:free",[^\[]*"tags":\[[^\]]*\][^\[]*"capabilities":\[[^\]]*\][^\[]*\}\]\}$',
 '"code":"model_not_found"', '"id":"cheap-model:free"']



=== TEST 9: a key allowed only tag "free" is routed to the free channel
--- more_headers
Authorization: Bearer sk-free-value
--- error_code: 200
--- response_headers
X-Router-Channel: freechan
X-Router-Model: cheap-model:free
--- upstream_hits: 1



=== TEST 10: that key cannot reach the paid model, not even by its physical name: for it the model does not exist, as GET /v1/models/paid-model says
--- more_headers
Authorization: Bearer sk-free-value
--- request
POST /v1/chat/completions
{"model": "paid-model", "messages": [{"role": "user", "content": "hi"}]}
--- error_code: 404
--- response_body
{"error":{"message":"The model \"paid-model\" does not exist on any channel","type":"invalid_request_error","code":"model_not_found"}}
--- upstream_hits: 0



=== TEST 11: nor by a tag query that names paid models
--- more_headers
Authorization: Bearer sk-free-value
--- request
POST /v1/chat/completions
{"model": "tag:!free", "messages": [{"role": "user", "content": "hi"}]}
--- error_code: 404
--- upstream_hits: 0



=== TEST 12: nor through /v1/route's explanation, which does not show it either
--- more_headers
Authorization: Bearer sk-free-value
--- request
POST /v1/route
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- error_code: 200
--- check_json
my @c = @{$j->{candidates}};
@c == 1 && $c[0]{channel} eq 'freechan' && $j->{matched} == 1
    && !@{$j->{removed}} && !%{$j->{filtered}}
--- response_body_unlike: paid|key_not_allowed



=== TEST 13: allowed_models limits a key to the models it names (core names match variants)
--- more_headers
Authorization: Bearer sk-narrow-value
--- request eval
["POST /v1/chat/completions\n$::Chat",
 "POST /v1/chat/completions\n{\"model\": \"paid-model\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"]
--- error_code eval
[200, 404]
--- upstream_hits: 1



=== TEST 14: admin endpoints refuse a normal key and take the admin token
--- request eval
["GET /v1/admin/route?model=gpt-test", "GET /v1/admin/route?model=gpt-test",
 "GET /v1/admin/routing/strategy", "GET /v1/admin/routing/strategy"]
--- more_headers eval
["Authorization: Bearer sk-alice-value", "Authorization: Bearer adm-secret-value",
 "Authorization: Bearer sk-alice-value", "Authorization: adm-secret-value"]
--- error_code eval
[401, 200, 401, 200]
--- response_body_like eval
["A valid admin token is required", "candidates", "admin token", "quality_optimized"]
--- no_error_log
adm-secret-value
sk-alice-value



=== TEST 15: /v1/stats/ takes the admin token, not an API key, in either location
--- config
    location /v1/ { airouter; }
    location /v1/admin/ { airouter_admin; }
    location /v1/stats/ { airouter_admin; }
--- request eval
["GET /v1/stats/summary", "GET /v1/stats/summary", "GET /v1/stats/summary"]
--- more_headers eval
["", "Authorization: Bearer sk-alice-value", "Authorization: Bearer adm-secret-value"]
--- error_code eval
[401, 401, 200]
--- check_json
$j->{strategy}{current} eq 'quality_optimized' && exists $j->{today}{cost}



=== TEST 16: the API location serves /v1/stats/ behind the admin token as well
--- request eval
["GET /v1/stats/summary", "GET /v1/stats/summary"]
--- more_headers eval
["Authorization: Bearer sk-alice-value", "Authorization: Bearer adm-secret-value"]
--- error_code eval
[401, 200]



=== TEST 17: with auth on and the admin API not enabled, admin stays closed
--- user_files eval
">>> router_config.yaml\nauth:\n  enabled: true\n  api_token: \"tok\"\n$::Channels"
--- request eval
["GET /v1/admin/route?model=gpt-test", "GET /v1/stats/summary"]
--- more_headers eval
["Authorization: Bearer tok", "Authorization: Bearer tok"]
--- error_code eval
[403, 403]
--- response_body_like eval
["admin_disabled", "admin_disabled"]



=== TEST 18: invalid tokens show in the stats as alerts
--- request eval
["POST /v1/chat/completions\n$::Chat", "POST /v1/chat/completions\n$::Chat",
 "GET /v1/stats/alerts"]
--- more_headers eval
["Authorization: Bearer nope", "", "Authorization: Bearer adm-secret-value"]
--- error_code eval
[401, 401, 200]
--- check_json
my ($a) = grep { $_->{type} eq 'invalid_key' } @{$j->{alerts}};
$a && $a->{count} == 2



=== TEST 19: $airouter_key is the key's name whatever the location
--- config
    location /v1/ { airouter; }
    location = /whoami { return 200 "key=$airouter_key\n"; }
--- request
GET /whoami
--- more_headers
Authorization: Bearer sk-free-value
--- response_body
key=freebie



=== TEST 20: /v1/tags counts, for a key limited by tag, only the models it may reach
--- user_files eval
">>> router_config.yaml\n$::TagKeys$::TagChannels"
--- request
GET /v1/tags
--- more_headers
Authorization: Bearer sk-free-value
--- error_code: 200
--- response_body
{"object":"list","data":[{"tag":"8b","models":1},{"tag":"cheap","models":1},{"tag":"free","models":2},{"tag":"local","models":2},{"tag":"model","models":1},{"tag":"qwen3","models":1}]}



=== TEST 21: /v1/tags leaves out every tag a key cannot reach a model of
--- user_files eval
">>> router_config.yaml\n$::TagKeys$::TagChannels"
--- request
GET /v1/tags
--- more_headers
Authorization: Bearer sk-free-value
--- check_json
my %t = map { ($_->{tag} => $_->{models}) } @{$j->{data}};
!exists $t{premium} && !exists $t{paid} && $t{free} == 2
&& !grep { $_->{models} == 0 } @{$j->{data}}



=== TEST 22: a key limited by allowed_models sees the tags of those models only
--- user_files eval
">>> router_config.yaml\n$::TagKeys$::TagChannels"
--- request
GET /v1/tags
--- more_headers
Authorization: Bearer sk-narrow-value
--- error_code: 200
--- response_body
{"object":"list","data":[{"tag":"cheap","models":1},{"tag":"free","models":1},{"tag":"local","models":1},{"tag":"model","models":1}]}



=== TEST 23: allowed_tags and allowed_models together: the models passing both
--- user_files eval
">>> router_config.yaml\n$::TagKeys$::TagChannels"
--- request
GET /v1/tags
--- more_headers
Authorization: Bearer sk-both-value
--- response_body
{"object":"list","data":[{"tag":"8b","models":1},{"tag":"local","models":1},{"tag":"premium","models":1},{"tag":"qwen3","models":1}]}



=== TEST 24: a key that reaches no model sees no tag
--- user_files eval
">>> router_config.yaml\n$::TagKeys$::TagChannels"
--- request
GET /v1/tags
--- more_headers
Authorization: Bearer sk-nothing-value
--- response_body
{"object":"list","data":[]}



=== TEST 25: a key without limits sees every tag and count, as with auth off
--- user_files eval
">>> router_config.yaml\n$::TagKeys$::TagChannels"
--- request
GET /v1/tags
--- more_headers
Authorization: Bearer sk-all-value
--- response_body
{"object":"list","data":[{"tag":"8b","models":2},{"tag":"cheap","models":1},{"tag":"free","models":2},{"tag":"local","models":4},{"tag":"model","models":2},{"tag":"paid","models":1},{"tag":"premium","models":2},{"tag":"qwen3","models":2}]}



=== TEST 26: with auth off /v1/tags counts the whole catalogue
--- user_files eval
">>> router_config.yaml\n$::TagChannels"
--- request
GET /v1/tags
--- response_body
{"object":"list","data":[{"tag":"8b","models":2},{"tag":"cheap","models":1},{"tag":"free","models":2},{"tag":"local","models":4},{"tag":"model","models":2},{"tag":"paid","models":1},{"tag":"premium","models":2},{"tag":"qwen3","models":2}]}



=== TEST 27: /v1/models/{id} of a model the key may not reach is the 404 of an unknown id
--- user_files eval
">>> router_config.yaml\n$::TagKeys$::TagChannels"
--- request eval
["GET /v1/models/qwen3-8b%3Afree", "GET /v1/models/no-such-model",
 "GET /v1/models/cheap-model:free"]
--- more_headers eval
["Authorization: Bearer sk-narrow-value", "Authorization: Bearer sk-narrow-value",
 "Authorization: Bearer sk-narrow-value"]
--- error_code eval
[404, 404, 200]
--- response_body_like eval
['^\{"error":\{"message":"The model \\\\"qwen3-8b:free\\\\" does not exist on any channel","type":"invalid_request_error","code":"model_not_found"\}\}$',
 '^\{"error":\{"message":"The model \\\\"no-such-model\\\\" does not exist on any channel","type":"invalid_request_error","code":"model_not_found"\}\}$',
 '"id":"cheap-model:free"']



=== TEST 28: a restricted key gets no "did you mean" (the close names could be models it may not see); an unrestricted key does
--- request eval
["POST /v1/chat/completions\n{\"model\": \"paid-modl\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
 "POST /v1/chat/completions\n{\"model\": \"paid-modl\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"]
--- more_headers eval
["Authorization: Bearer sk-free-value", "Authorization: Bearer sk-alice-value"]
--- error_code eval
[404, 404]
--- response_body_like eval
['^\{"error":\{"message":"The model \\\\"paid-modl\\\\" does not exist on any channel","type":"invalid_request_error","code":"model_not_found"\}\}$',
 'Did you mean: [^"]*paid-model']
--- upstream_hits: 0



=== TEST 29: POST /v1/route of a model the key may not use: the 404 of a model that does not exist
--- more_headers
Authorization: Bearer sk-free-value
--- request
POST /v1/route
{"model": "paid-model", "messages": [{"role": "user", "content": "hi"}]}
--- error_code: 404
--- response_body
{"error":{"message":"The model \"paid-model\" does not exist on any channel","type":"invalid_request_error","code":"model_not_found"}}



=== TEST 30: when the models a key may use are filtered, only they are counted and named
--- more_headers
Authorization: Bearer sk-free-value
--- request
POST /v1/chat/completions
{"model": "gpt-test", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}]}
--- error_code: 404
--- response_body
{"error":{"message":"No model matching \"gpt-test\" can serve this request: 1 matched, removed by filters: 1 needs_vision","type":"invalid_request_error","code":"model_not_found"}}
--- upstream_hits: 0



=== TEST 31: the admin URL table: a known path with another method is a JSON 405, an unknown path a 404
--- request eval
["POST /v1/admin/channels", "DELETE /v1/admin/discovery",
 "GET /v1/admin/channels/paid/reset", "POST /v1/admin/route",
 "PUT /v1/admin/cost/optimize", "GET /v1/admin/nothing-here",
 "GET /v1/admin/channels"]
--- more_headers
Authorization: Bearer adm-secret-value
--- error_code eval
[405, 405, 405, 405, 405, 404, 200]
--- response_body_like eval
[('^\{"error":\{"message":"Method \w+ is not allowed on /v1/admin/[a-z/]+","type":"invalid_request_error","code":"method_not_allowed"\}\}$') x 5,
 '"code":"unknown_url"', '"object":"list"']
