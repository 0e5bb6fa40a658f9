# The official openai SDK (tests/sdk/, installed by `make test`) runs a
# chat, a stream, a tool call, a cut stream and a failure through airouter against the
# mock upstreams.  Each "ok"/"not ok" line of tests/sdk/sdk.mjs is one
# assertion here.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Sdk;

no_shuffle();
log_level('info');

sdk_check('sdk.mjs');

run_tests();

__DATA__

=== TEST 1: chat, stream, tool call, a cut stream and a failure through the openai SDK
--- http_config eval
"    airouter_config \$TEST_NGINX_HTML_DIR/router_config.yaml;\n" . mock_http_config()
--- config eval
mock_config()
--- user_files eval
">>> router_config.yaml\n" . <<'_EOY_';
channels:
  - id: chat
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/ok/v1"
    api_key: "sk-chat"
    configured_models: ["gpt-test"]
  - id: stream
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/slowstream/v1"
    api_key: "sk-stream"
    configured_models: ["stream-test"]
  - id: tool
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/tool/v1"
    api_key: "sk-tool"
    configured_models: ["tool-test"]
  - id: cut
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/cut/v1"
    api_key: "sk-cut"
    configured_models: ["cut-test"]
  - id: broken
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/e503/v1"
    api_key: "sk-broken"
    configured_models: ["broken-test"]
routing:
  model_filters:
    min_context_length: 0
_EOY_
--- request
POST /v1/chat/completions
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- sdk
--- response_body_like: Hello!
--- no_error_log
[alert]
