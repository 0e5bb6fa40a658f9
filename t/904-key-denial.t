# Request-level routing (#19): a key whose config says
# allow_request_routing: false may not steer its routing.  "models",
# "provider" or a ":floor" / ":nitro" suffix from it is a 403
# permission_error naming the parameter, on every endpoint and dialect,
# explain included; the same request from another key is routed; the key
# itself routes as the router decides.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Blocks;
use Airouter::Check;

no_shuffle();
log_level('info');

install_checks();
airouter_blocks(mock => mock_http_config(), config => mock_config(),
                user_files => ">>> router_config.yaml\n"
                    . "auth:\n  enabled: true\n  api_keys:\n"
                    . "    - {name: open, key: sk-open}\n"
                    . "    - {name: locked, key: sk-locked, allow_request_routing: false}\n"
                    . yaml_channels("", ["a", "e500"], ["b", "ok"]));

sub chat {
    my ($members) = @_;
    return "POST /v1/chat/completions\n{$members"
        . "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}";
}

run_tests();

__DATA__

=== TEST 1: the locked key sends "models": 403 naming "models"
--- request eval
main::chat('"model": "a-model", "models": ["b-model"], ')
--- more_headers
Authorization: Bearer sk-locked
--- error_code: 403
--- response_body
{"error":{"message":"This API key may not choose how its requests are routed (\"models\", \"provider\", \":floor\", \":nitro\")","type":"permission_error","code":"request_routing_not_allowed","param":"models"}}



=== TEST 2: ... "provider": 403 naming "provider"; ":nitro": 403 naming "model"
--- request eval
[main::chat('"model": "gpt-test", "provider": {"order": ["b"]}, '),
 main::chat('"model": "gpt-test:nitro", ')]
--- more_headers
Authorization: Bearer sk-locked
--- error_code eval
[403, 403]
--- response_body_like eval
['"type":"permission_error","code":"request_routing_not_allowed","param":"provider"',
 '"type":"permission_error","code":"request_routing_not_allowed","param":"model"']



=== TEST 3: the locked key without controls (or with them null) is routed as usual
--- request eval
[main::chat('"model": "gpt-test", '),
 main::chat('"model": "gpt-test", "provider": null, "models": null, ')]
--- more_headers
Authorization: Bearer sk-locked
--- error_code eval
[200, 200]
--- response_headers eval
["X-Router-Channel: b\nX-Router-Fallbacks: a:server_error 500",
 "X-Router-Channel: b"]



=== TEST 4: the other key may use them
--- request eval
main::chat('"model": "a-model", "models": ["b-model"], "provider": {"ignore": ["nobody"]}, ')
--- more_headers
Authorization: Bearer sk-open
--- response_headers
X-Router-Channel: b
X-Router-Fallbacks: a:server_error 500



=== TEST 5: explain refuses the locked key's controls too
--- request
POST /v1/route
{"model": "gpt-test", "provider": {"sort": "price"}}
--- more_headers
Authorization: Bearer sk-locked
--- error_code: 403
--- response_body_like: "param":"provider"



=== TEST 6: Anthropic's Messages: the 403 in Anthropic's shape
--- request
POST /v1/messages
{"model": "a-model", "models": ["b-model"], "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
--- more_headers
x-api-key: sk-locked
--- error_code: 403
--- response_body_like: ^\{"type":"error","error":\{"type":"permission_error","message":"This API key may not choose how its requests are routed
