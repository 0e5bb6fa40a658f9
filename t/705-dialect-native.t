# Channels of another dialect: what a native Anthropic channel receives
# (its x-api-key, anthropic-version, a Messages body: translated from chat,
# or the Messages client's own with the channel's model id), fallback
# between channels of different dialects before the first byte, and a
# channel serving /v1/responses itself getting Responses requests as they
# came.
use Test::Nginx::Socket 'no_plan';
use Airouter::DialectSdk;

no_shuffle();
log_level('info');

our $Extra = <<'_EOY_';
  - id: "fb-native"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_3/anth529/v1"
    api: anthropic
    api_key: "sk-native-secret"
    priority: 1
    configured_models: ["fb-test"]
  - id: "fb-chat"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/ok/v1"
    api_key: "sk-fb-chat-secret"
    priority: 2
    configured_models: ["fb-test"]
  - id: "fb2-chat"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/e503/v1"
    api_key: "sk-fb2-chat-secret"
    priority: 1
    configured_models: ["fb2-test"]
  - id: "fb2-native"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_3/anth/v1"
    api: anthropic
    api_key: "sk-native-secret"
    priority: 2
    configured_models: ["fb2-test"]
  - id: "disc-native"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_3/anth/v1"
    api: anthropic
    api_key: "sk-native-secret"
  - id: "resp-native"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_3/respnative/v1"
    api_key: "sk-resp-native-secret"
    responses_api: true
    configured_models: ["resp-native-test"]
  - id: "resp-stream"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_3/respstream/v1"
    api_key: "sk-resp-stream-secret"
    responses_api: true
    configured_models: ["resp-stream-test"]
_EOY_

dialect_blocks(user_files => ">>> router_config.yaml\n"
                              . dialect_yaml($Extra, <<'_EOY_'));
  error_handling:
    cooldown_periods:
      server_error: 0
_EOY_

run_tests();

__DATA__

=== TEST 1: a chat client on a native Anthropic channel: x-api-key, anthropic-version, a Messages body
--- request
POST /v1/chat/completions
{"model":"claude-native","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}],"temperature":0.5,"stop":"END"}
--- response_body_like: "content":"Hello from Claude!"
--- response_headers
X-Router-Channel: native
--- access_log
upstream: {"uri":"/anth/v1/messages","x_api_key":"sk-native-secret","version":"2023-06-01","beta":"","authorization":"","body":"{\"model\":\"claude-native\",\"system\":\"Be brief.\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}],\"temperature\":0.5,\"max_tokens\":4096,\"stop_sequences\":[\"END\"]}"}


=== TEST 2: a Messages client on a native channel: its own body with the channel's model id; the channel's key and anthropic-version, not the client's
--- request
POST /v1/messages
{"model":"claude-native","max_tokens":77,"metadata":{"user_id":"u-1"},"messages":[{"role":"user","content":"hi"}]}
--- more_headers
anthropic-version: 2024-10-22
x-api-key: client-key-is-not-the-channels
--- response_body_like: ^\{"id":"msg_native_1",
--- access_log
upstream: {"uri":"/anth/v1/messages","x_api_key":"sk-native-secret","version":"2023-06-01","beta":"","authorization":"","body":"{\"model\":\"claude-native\",\"max_tokens\":77,\"metadata\":{\"user_id\":\"u-1\"},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"}


=== TEST 3: a Responses client on a native channel: Responses -> chat -> Messages
--- request
POST /v1/responses
{"model":"claude-native","input":"hi","instructions":"Be brief.","max_output_tokens":50}
--- response_body_like: "output_text","text":"Hello from Claude!"
--- access_log
upstream: {"uri":"/anth/v1/messages","x_api_key":"sk-native-secret","version":"2023-06-01","beta":"","authorization":"","body":"{\"model\":\"claude-native\",\"system\":\"Be brief.\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}],\"max_tokens\":50}"}


=== TEST 4: fallback from a native channel (529) to a chat one, before the first byte: a Messages client
--- request
POST /v1/messages
{"model":"fb-test","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}
--- response_body_like: ^\{"id":"msg_[0-9a-f]+","type":"message","role":"assistant","model":"upstream-model","content":\[\{"type":"text","text":"Hello!"\}\]
--- response_headers
X-Router-Channel: fb-chat
X-Router-Attempts: 2
X-Router-Fallbacks: fb-native:server_error 529


=== TEST 5: the same for a chat client
--- request
POST /v1/chat/completions
{"model":"fb-test","messages":[{"role":"user","content":"hi"}]}
--- response_body_like: "content":"Hello!"
--- response_headers
X-Router-Channel: fb-chat
X-Router-Attempts: 2
X-Router-Fallbacks: fb-native:server_error 529


=== TEST 6: the same for a Gemini client
--- request
POST /v1beta/models/fb-test:generateContent
{"contents":[{"parts":[{"text":"hi"}]}]}
--- response_body_like: "text":"Hello!"
--- response_headers
X-Router-Channel: fb-chat
X-Router-Attempts: 2
X-Router-Fallbacks: fb-native:server_error 529


=== TEST 7: fallback from a chat channel (503) to a native one: a Messages client gets the native answer as it came
--- request
POST /v1/messages
{"model":"fb2-test","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}
--- response_body_like: ^\{"id":"msg_native_1"
--- response_headers
X-Router-Channel: fb2-native
X-Router-Fallbacks: fb2-chat:server_error 503


=== TEST 8: the same for a chat client, translated
--- request
POST /v1/chat/completions
{"model":"fb2-test","messages":[{"role":"user","content":"hi"}]}
--- response_body_like: "content":"Hello from Claude!"
--- response_headers
X-Router-Channel: fb2-native
X-Router-Fallbacks: fb2-chat:server_error 503


=== TEST 9: a channel serving /v1/responses itself gets a Responses request as it came
--- request
POST /v1/responses
{"model":"resp-native-test","input":"hi","store":false,"include":["reasoning.encrypted_content"]}
--- response_body_like: ^\{"id":"resp_native_1","object":"response"
--- response_headers
X-Router-Channel: resp-native
--- access_log
upstream: {"uri":"/respnative/v1/responses","x_api_key":"","version":"","beta":"","authorization":"Bearer sk-resp-native-secret","body":"{\"model\":\"resp-native-test\",\"input\":\"hi\",\"store\":false,\"include\":[\"reasoning.encrypted_content\"]}"}


=== TEST 10: discovery asks a native Anthropic channel's /v1/models with its headers, and what it lists routes
--- config eval: dialect_config() . "    location /v1/admin/ { airouter_admin; }\n"
--- request eval
["POST /v1/admin/discovery\n{}",
 "POST /v1/messages\n{\"model\":\"claude-up\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"]
--- error_code eval
[200, 200]
--- response_body_like eval
['"disc-native"', '^\{"id":"msg_native_1"']
--- access_log
upstream: {"uri":"/anth/v1/models","x_api_key":"sk-native-secret","version":"2023-06-01","beta":"","authorization":"","body":""}


=== TEST 11: a Responses stream from a channel serving /v1/responses itself: passed through, its usage read
--- extra_http_config
    log_format dialect_usage
        'usage: $uri $airouter_channel $airouter_prompt_tokens '
        '$airouter_completion_tokens $airouter_cached_tokens $airouter_status';
--- config eval
dialect_config() . <<'_EOC_'
    location = /v1/responses {
        airouter;
        access_log logs/access.log dialect_usage;
    }
_EOC_
--- request
POST /v1/responses
{"model":"resp-stream-test","input":"hi","stream":true}
--- response_body_like eval
qr/\Aevent: response.created\ndata: \{"type":"response.created","sequence_number":0,"response":\{"id":"resp_native_2".*"delta":"Hello"\}\n\nevent: response.completed\n.*"total_tokens":8\}\}\}\n\n\z/s
--- access_log
usage: /v1/responses resp-stream 5 3 2 ok


=== TEST 12: a Messages client's anthropic-beta goes with its own body to a native channel
--- request
POST /v1/messages
{"model":"claude-native","max_tokens":77,"messages":[{"role":"user","content":"hi"}]}
--- more_headers
anthropic-beta: prompt-caching-2024-07-31, output-128k-2025-02-19
--- response_body_like: ^\{"id":"msg_native_1",
--- access_log
upstream: {"uri":"/anth/v1/messages","x_api_key":"sk-native-secret","version":"2023-06-01","beta":"prompt-caching-2024-07-31, output-128k-2025-02-19","authorization":"","body":"{\"model\":\"claude-native\",\"max_tokens\":77,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"}


=== TEST 13: a chat client's anthropic-beta is not sent with a translated body
--- request
POST /v1/chat/completions
{"model":"claude-native","messages":[{"role":"user","content":"hi"}]}
--- more_headers
anthropic-beta: prompt-caching-2024-07-31
--- response_body_like: "content":"Hello from Claude!"
--- access_log
upstream: {"uri":"/anth/v1/messages","x_api_key":"sk-native-secret","version":"2023-06-01","beta":"","authorization":"","body":"{\"model\":\"claude-native\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}],\"max_tokens\":4096}"}


=== TEST 14: an anthropic-beta that is not a list of names: Anthropic's 400, nothing sent upstream
--- request
POST /v1/messages
{"model":"claude-native","max_tokens":77,"messages":[{"role":"user","content":"hi"}]}
--- more_headers
anthropic-beta: a;b=c
--- error_code: 400
--- response_body_like: ^\{"type":"error","error":\{"type":"invalid_request_error","message":"anthropic-beta must be a comma-separated list of beta names"\}
--- no_access_log
upstream:
