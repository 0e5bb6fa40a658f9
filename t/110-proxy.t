# The proxy path: a routed request reaches its first candidate through
# nginx's upstream machinery, rewritten for that channel, and comes back
# with the X-Router-* headers.  Mock upstreams: t/lib/Airouter/Mock.pm.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Blocks;

no_shuffle();
log_level('info');

airouter_blocks(mock => mock_http_config(), config => mock_config());

run_tests();

__DATA__

=== TEST 1: success on the first candidate, with its answer and the router's headers
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["first", "ok"], ["second", "echo"])
--- request
POST /v1/chat/completions
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- more_headers
Content-Type: application/json
--- response_headers
X-Router-Channel: first
X-Router-Model: first-model
X-Router-Attempts: 1
X-Router-Strategy: cost_first
X-Router-Cost: 0.00002000
!X-Router-Fallbacks
!X-Router-Provider
Content-Type: application/json
--- raw_response_headers_like: X-Router-Score: \d\.\d{4}\r\n
--- response_body_like: "content":"Hello!".*"usage":\{"prompt_tokens":10,"completion_tokens":5
--- no_error_log
[error]
[warn]



=== TEST 2: the body carries the channel's model id and key (the client's bytes otherwise untouched); the client's Authorization stays here
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["first", "echo"])
--- request
POST /v1/chat/completions
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.5}
--- more_headers
Authorization: Bearer client-token-must-not-leak
X-Client-Header: not-forwarded
--- response_body
{"auth":"Bearer sk-|first-secret","x-api-key":"","client":"","body":{"model": "first-model", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.5}}
--- no_error_log
[error]
client-token-must-not-leak



=== TEST 2b: numbers, key order and white space reach the upstream as the client wrote them; only the model changes
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["first", "echo"])
--- request eval
"POST /v1/chat/completions\n"
. qq|{ "temperature" : 0.70000000000000001, "model" :"gpt-test" ,"seed": 123456789012,\n "messages": [{"role": "user", "content": "the \\"model\\": \\"x\\" inside a string"}]}|
--- response_body eval
'{"auth":"Bearer sk-|first-secret","x-api-key":"","client":"","body":'
. qq|{ "temperature" : 0.70000000000000001, "model" :"first-model" ,"seed": 123456789012,\n "messages": [{"role": "user", "content": "the \\"model\\": \\"x\\" inside a string"}]}}\n|
--- no_error_log
[error]



=== TEST 2c: a stream without stream_options gets one asking for usage, the rest untouched
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["first", "echo"])
--- request
POST /v1/chat/completions
{"stream": true, "model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- response_body_like: ^\{"auth":"Bearer sk-\|first-secret","x-api-key":"","client":"","body":\{"stream_options":\{"include_usage":true\},"stream": true, "model": "first-model", "messages": \[\{"role": "user", "content": "hi"\}\]\}\}$
--- no_error_log
[error]



=== TEST 2d: a model key written with an escape, or named twice, takes the slow path and still carries the channel's id once
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["first", "echo"])
--- request
POST /v1/chat/completions
{"model": "nothing-routes-this", "mod\u0065l": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- response_body_like: ^\{"auth":"Bearer sk-\|first-secret","x-api-key":"","client":"","body":\{"model":"first-model","messages":\[\{"role":"user","content":"hi"\}\]\}\}$
--- no_error_log
[error]



=== TEST 2e: a body nginx kept in a temporary file (client_body_buffer_size 1k) is spliced the same
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["first", "echo"])
--- config
    location /v1/ {
        client_body_buffer_size 1k;
        airouter;
    }
--- request eval
"POST /v1/chat/completions\n" . '{"model": "gpt-test", "messages": [{"role": "user", "content": "' . ("abcdefgh" x 500) . '"}]}'
--- response_body eval
'{"auth":"Bearer sk-|first-secret","x-api-key":"","client":"","body":'
. '{"model": "first-model", "messages": [{"role": "user", "content": "' . ("abcdefgh" x 500) . '"}]}}' . "\n"
--- no_error_log
[error]



=== TEST 2f: a chunked request body (several buffers) is spliced the same
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["first", "echo"])
--- raw_request eval
my $body = '{"model": "gpt-test", "messages": [{"role": "user", "content": "hi there"}]}';
my ($a, $b) = (substr($body, 0, 20), substr($body, 20));
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
. "Transfer-Encoding: chunked\r\n\r\n"
. sprintf("%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n", length $a, $a, length $b, $b)
--- response_body eval
'{"auth":"Bearer sk-|first-secret","x-api-key":"","client":"","body":'
. '{"model": "first-model", "messages": [{"role": "user", "content": "hi there"}]}}' . "\n"
--- no_error_log
[error]



=== TEST 3: streams ask the upstream for usage in the final chunk
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["first", "echo"])
--- request
POST /v1/chat/completions
{"model": "gpt-test", "stream": true, "stream_options": {"foo": 1}, "messages": [{"role": "user", "content": "hi"}]}
--- response_body_like: ^\{"auth":"Bearer sk-\|first-secret","x-api-key":"","client":"","body":\{"model":"first-model","stream":true,"stream_options":\{"foo":1,"include_usage":true\},"messages":\[\{"role":"user","content":"hi"\}\]\}\}$
--- no_error_log
[error]



=== TEST 4: a provider's own auth header (auth_type header)
--- user_files eval
">>> router_config.yaml\nproviders:\n  custom:\n    auth_type: header\n    auth_header: x-api-key\n"
. yaml_channels("", ["first", "echo", "    provider: custom\n"])
--- request
POST /v1/chat/completions
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- response_body_like: ^\{"auth":"","x-api-key":"sk-\|first-secret","client":"","body":\{
--- no_error_log
[error]



=== TEST 5: no retry on a 400: the client's fault comes back as it is
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["first", "e400"], ["second", "ok"])
--- request
POST /v1/chat/completions
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- error_code: 400
--- response_headers
X-Router-Channel: first
X-Router-Attempts: 1
!X-Router-Fallbacks
--- response_body chomp
{"error":{"message":"max_tokens is too large","type":"invalid_request_error","code":null}}
--- no_error_log
[error]



=== TEST 6: every candidate failed: one OpenAI-style error naming each attempt, never a key
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["first", "e503"], ["second", "refused"])
--- request
POST /v1/chat/completions
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- error_code: 503
--- response_headers
Content-Type: application/json
X-Router-Attempts: 2
X-Router-Fallbacks: first:server_error 503, second:connect_error
!X-Router-Channel
--- response_body_like: ^(?!.*sk-)\{"error":\{"message":"All 2 attempted candidates failed: first \(first-model\): server_error 503; second \(second-model\): connect_error","type":"upstream_error","code":"all_candidates_failed","attempts":\[\{"channel":"first","model":"first-model","error":"server_error","status":503,"skipped":false\},\{"channel":"second",
--- no_error_log
[alert]



=== TEST 7: channel ids are ASCII in headers (percent-encoded)
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["渠道一", "ok"])
--- request
POST /v1/chat/completions
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- response_headers
X-Router-Channel: %E6%B8%A0%E9%81%93%E4%B8%80
X-Router-Model: %E6%B8%A0%E9%81%93%E4%B8%80-model
--- no_error_log
[error]



=== TEST 8: embeddings go through the same path
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["first", "emb", "    capabilities: [embedding]\n"])
--- request
POST /v1/embeddings
{"model": "first-model", "input": "hello"}
--- response_headers
X-Router-Channel: first
--- response_body_like: "embedding"
--- no_error_log
[error]



=== TEST 9: keys stay out of the error log, even at debug level
--- log_level: debug
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["first", "e500"], ["second", "ok"])
--- request
POST /v1/chat/completions
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- response_headers
X-Router-Channel: second
--- no_error_log
sk-first-secret
sk-second-secret
Bearer



=== TEST 10: the provider's name is a header too
--- user_files eval
">>> router_config.yaml\nproviders:\n  acme:\n    display_name: Acme\n"
. yaml_channels("", ["first", "ok", "    provider: acme\n"])
--- request
POST /v1/chat/completions
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- response_headers
X-Router-Provider: acme



=== TEST 11: the $airouter_* variables hold the proxy's result while the answer's head goes out (add_header), after a fallback
--- config
    location /v1/ {
        airouter;
        add_header X-Seen "$airouter_channel|$airouter_model|$airouter_status|$airouter_attempts";
    }
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["first", "e500"], ["second", "ok"])
--- request
POST /v1/chat/completions
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- response_headers
X-Router-Channel: second
X-Seen: second|second-model|ok|2
--- no_error_log
[alert]



=== TEST 12: ... and when every candidate failed: no channel, the last fault, the attempts, no first-byte time
--- config
    location /v1/ {
        airouter;
        add_header X-Seen "[$airouter_channel|$airouter_status|$airouter_attempts|$airouter_ttfb]" always;
    }
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["first", "e503"], ["second", "refused"])
--- request
POST /v1/chat/completions
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- error_code: 503
--- response_headers
X-Seen: [|connect_error|2|]
--- no_error_log
[alert]



=== TEST 13: $airouter_ttfb is the answering try's time to the first byte of its answer (the slow mock answers after 2 s)
--- config
    location /v1/ {
        airouter;
        add_header X-TTFB "[$airouter_ttfb]";
        access_log logs/access.log ttfb;
    }
--- extra_http_config
    log_format ttfb 'ttfb=$airouter_ttfb channel=$airouter_channel';
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["first", "slow"])
--- request
POST /v1/chat/completions
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- timeout: 10
--- raw_response_headers_like: X-TTFB: \[(?:19[5-9]\d|[2-9]\d\d\d)\]\r\n
--- access_log eval
qr/^ttfb=(?:19[5-9]\d|[2-9]\d\d\d) channel=first$/m
--- no_error_log
[alert]



=== TEST 14: a channel id and a provider name with '%' or non-ASCII bytes (control bytes are refused by the config) are percent-encoded in every X-Router-* value that carries one: channel, provider, fallbacks
--- user_files eval
">>> router_config.yaml\nproviders:\n  \"pr%\xc3\xa9\":\n    display_name: P\n"
. yaml_channels("", ["f%\xc3\xa9", "e503"],
                ["s%20\xc3\xa9", "ok", "    provider: \"pr%\xc3\xa9\"\n"])
--- request
POST /v1/chat/completions
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- response_headers
X-Router-Channel: s%2520%C3%A9
X-Router-Provider: pr%25%C3%A9
X-Router-Fallbacks: f%25%C3%A9:server_error 503
X-Router-Model: s%2520%C3%A9-model
X-Router-Attempts: 2
--- no_error_log
[alert]



=== TEST 15: the upstream's path is the base URL's path, then the API path (without its "/v1" when the base ends in a version): a base without a path, one with a path, a versioned one
--- extra_http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_3;
        default_type application/json;
        access_log off;

        location / {
            return 200 '{"id":"x","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"$request_uri"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}';
        }
    }
--- user_files
>>> router_config.yaml
channels:
  - id: bare
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_3"
    api_key: "sk-bare-secret"
    configured_models: ["bare-model"]
  - id: custom
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_3/custom"
    api_key: "sk-custom-secret"
    configured_models: ["custom-model"]
  - id: versioned
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_3/api/v4"
    api_key: "sk-versioned-secret"
    configured_models: ["versioned-model"]
routing:
  model_filters:
    min_context_length: 0
--- request eval
[map { "POST /v1/chat/completions\n{\"model\": \"$_-model\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}" } qw(bare custom versioned)]
--- more_headers
Content-Type: application/json
--- response_body_like eval
[qr{"content":"/v1/chat/completions"}, qr{"content":"/custom/v1/chat/completions"}, qr{"content":"/api/v4/chat/completions"}]
--- no_error_log
[error]



=== TEST 16: ids longer than a word are escaped the same wherever the byte to escape stands: '%' and non-ASCII past the first 8 bytes of a channel id, a model id and the fallbacks
--- user_files eval
">>> router_config.yaml\n"
. yaml_channels("", ["abcdefghijklmnop%", "e503"],
                ["abcdefgh%ijklmnop\xc3\xa9qrstuvwxyz", "ok"])
--- request
POST /v1/chat/completions
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- response_headers
X-Router-Channel: abcdefgh%25ijklmnop%C3%A9qrstuvwxyz
X-Router-Model: abcdefgh%25ijklmnop%C3%A9qrstuvwxyz-model
X-Router-Fallbacks: abcdefghijklmnop%25:server_error 503
X-Router-Attempts: 2
--- no_error_log
[alert]
