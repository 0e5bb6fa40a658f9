# A model_not_found is the channel's word on the upstream endpoint that
# answered it (#13 item 9's scope), and with dialects (#15) that endpoint
# is the attempt's, not the client's: a channel serving /v1/responses
# itself may lack a model there and still serve it on /chat/completions;
# a native Anthropic channel's /v1/messages 404 keeps the model away from
# every client dialect that reaches that channel.  /metrics names the
# endpoint.
#
# The mock on $TEST_NGINX_RAND_PORT_1: "gone" serves /v1/responses with a
# 404 model_not_found and chat with an answer; "anthgone" is a native
# Anthropic channel whose /v1/messages answers Anthropic's 404
# not_found_error; "up" serves chat.  "gone" and "anthgone" are cheaper,
# so they are tried first.
use Test::Nginx::Socket 'no_plan';
use Airouter::Check;
use Airouter::Blocks;

no_shuffle();
install_checks();     # --- error_log_all: after the last request
log_level('info');

my $chat_body = '{"id":"chatcmpl-1","object":"chat.completion","created":1,'
    . '"model":"m","choices":[{"index":0,"message":{"role":"assistant",'
    . '"content":"Hello!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":'
    . '10,"completion_tokens":5,"total_tokens":15}}';
my $not_found = '{"error":{"message":"The model does not exist",'
    . '"type":"invalid_request_error","code":"model_not_found"}}';
my $anth_not_found = '{"type":"error","error":{"type":"not_found_error",'
    . '"message":"model: claude-gone"}}';

our $Mock = <<"_EOC_";
    server {
        listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_1;
        default_type application/json;
        access_log off;

        location = /gone/v1/responses {
            return 404 '$not_found';
        }
        location = /anthgone/v1/messages {
            return 404 '$anth_not_found';
        }
        location ~ /v1/chat/completions\$ {
            echo_read_request_body;
            echo '$chat_body';
        }
    }
_EOC_

our $Yaml = <<'_EOY_';
channels:
  - id: "gone"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/gone/v1"
    api_key: "sk-gone-secret"
    responses_api: true
    configured_models: ["gone-model"]
    model_aliases:
      gpt-test: "gone-model"
    cost_per_token: {input: 0.000001, output: 0.000001}
  - id: "anthgone"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/anthgone/v1"
    api: anthropic
    api_key: "sk-anthgone-secret"
    configured_models: ["claude-gone"]
    model_aliases:
      claude-test: "claude-gone"
    cost_per_token: {input: 0.000001, output: 0.000001}
  - id: "up"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/up/v1"
    api_key: "sk-up-secret"
    configured_models: ["up-model"]
    model_aliases:
      gpt-test: "up-model"
      claude-test: "up-model"
    cost_per_token: {input: 0.000002, output: 0.000002}
routing:
  model_filters:
    min_context_length: 0
tasks:
  model_discovery:
    enabled: false
_EOY_

our $Responses = "POST /v1/responses\n"
    . '{"model": "gpt-test", "input": "hi"}';
our $Chat = "POST /v1/chat/completions\n"
    . '{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}';
our $ClaudeChat = "POST /v1/chat/completions\n"
    . '{"model": "claude-test", "messages": [{"role": "user", "content": "hi"}]}';
our $Messages = "POST /v1/messages\n"
    . '{"model": "claude-test", "max_tokens": 9, "messages": [{"role": "user", "content": "hi"}]}';

airouter_blocks(mock => $Mock, user_files => ">>> router_config.yaml\n$Yaml",
                config => <<'_EOC_', no_error_log => "[error]");
    location /v1/       { airouter; }
    location = /metrics { airouter_metrics; }
_EOC_

run_tests();

__DATA__

=== TEST 1: a Responses request's 404 on a channel's /v1/responses keeps the model away from /v1/responses only: chat still goes to it
--- request eval
[$main::Responses, $main::Chat, $main::Responses]
--- error_code eval
[200, 200, 200]
--- response_headers eval
["X-Router-Channel: up\nX-Router-Fallbacks: gone:model_not_found 404",
 "X-Router-Channel: gone\nX-Router-Attempts: 1",
 "X-Router-Channel: up"]
--- response_body_like eval
['^\{"id":"[^"]+","object":"response".*"Hello!"',
 '"Hello!"',
 '^\{"id":"[^"]+","object":"response".*"Hello!"']
--- error_log_all
airouter: "gone" model "gone-model": model_not_found 404 Not Found, endpoint (until discovery confirms) cooldown 60 s



=== TEST 2: /metrics names the endpoint: responses
--- request eval
[$main::Responses, "GET /metrics"]
--- response_body_like eval
['"Hello!"',
 'airouter_model_endpoint_blocked\{channel="gone",model="gone-model",endpoint="responses",reason="model_not_found"\} 1\n']



=== TEST 3: a native Anthropic channel's 404 on /v1/messages, met by a chat client, keeps the model away from a Messages client too; /metrics says messages
--- request eval
[$main::ClaudeChat, $main::Messages, "GET /metrics"]
--- error_code eval
[200, 200, 200]
--- response_headers eval
["X-Router-Channel: up\nX-Router-Fallbacks: anthgone:model_not_found 404",
 "X-Router-Channel: up",
 ""]
--- response_body_like eval
['"Hello!"',
 '^\{"id":"[^"]+","type":"message".*"Hello!"',
 'airouter_model_endpoint_blocked\{channel="anthgone",model="claude-gone",endpoint="messages",reason="model_not_found"\} 1\n']
--- error_log_all
airouter: "anthgone" model "claude-gone": model_not_found 404 Not Found, endpoint (until discovery confirms) cooldown 60 s
