# The official @anthropic-ai/sdk (tests/sdk/anthropic.mjs) against
# /v1/messages: OpenAI-compatible mock channels behind the translation
# (a message, a stream, a tool call and its tool_result, count_tokens, a
# cut stream, a failure, a tag: query) and native Anthropic mock channels
# reached untranslated.  Each "ok"/"not ok" line of the script is one
# assertion here.
use Test::Nginx::Socket 'no_plan';
use Airouter::DialectSdk;

no_shuffle();
log_level('info');
dialect_blocks();
dialect_sdk_check();

run_tests();

__DATA__

=== TEST 1: Messages through chat channels, and native Anthropic channels, with the Anthropic SDK
--- request
GET /v1/models
--- sdk: anthropic.mjs
--- response_body_like: gpt-test
--- no_error_log
[alert]



=== TEST 2: models.list with anthropic-version (as Anthropic's SDK asks): chat models only, in Anthropic's shape, paged by limit and after_id; without the header the OpenAI list (every kind); errors in Anthropic's shape; the SDK pages through it and retrieves one
--- user_files eval
">>> router_config.yaml\n" . dialect_yaml(<<'_EOY_')
  - id: "emb"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/ok/v1"
    api_key: "sk-emb-secret"
    configured_models: ["text-embedding-3-small"]
_EOY_
--- request eval
["GET /v1/models", "GET /v1/models?limit=1", "GET /v1/models?limit=2&after_id=gpt-test",
 "GET /v1/models", "GET /v1/models/gpt-test", "GET /v1/models/text-embedding-3-small",
 "GET /v1/models?limit=0"]
--- more_headers eval
[("anthropic-version: 2023-06-01") x 3, "", ("anthropic-version: 2023-06-01") x 3]
--- error_code eval
[200, 200, 200, 200, 200, 404, 400]
--- response_body_like eval
['^(?!.*embedding)\{"data":\[\{"type":"model","id":"[^"]+","display_name":"[^"]+","created_at":"1970-01-01T00:00:00Z"\}(?:,\{"type":"model",[^{}]*\})*\],"has_more":false,"first_id":"[^"]+","last_id":"[^"]+"\}$',
 '^\{"data":\[\{"type":"model","id":"([^"]+)",[^{}]*\}\],"has_more":true,"first_id":"\1","last_id":"\1"\}$',
 '^\{"data":\[\{"type":"model","id":"(?!gpt-test")[^"]+",[^{}]*\},\{[^{}]*\}\],"has_more":(?:true|false),',
 '"object":"list".*"id":"text-embedding-3-small"',
 '^\{"type":"model","id":"gpt-test","display_name":"gpt-test","created_at":"1970-01-01T00:00:00Z"\}$',
 '^\{"type":"error","error":\{"type":"not_found_error","message":"The model \\\\"text-embedding-3-small\\\\" does not exist on any channel"\}\}$',
 '^\{"type":"error","error":\{"type":"invalid_request_error","message":"limit must be an integer from 1 to 1000"\}\}$']
--- sdk: anthropic.mjs models
--- no_error_log
[alert]

