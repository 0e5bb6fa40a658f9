# The official openai SDK (tests/sdk/forms.mjs) on the multipart/form-data
# endpoints of issue #20: audio.transcriptions.create through an alias
# (JSON, and response_format text), audio.translations.create,
# images.edit, each checking that the upstream got the file whole with the
# served model's id, and a 404 for a chat model.  Each "ok"/"not ok" line
# is one assertion here.
use Test::Nginx::Socket 'no_plan';
use Airouter::Blocks;
use Airouter::Sdk;
use Airouter::FormMock;

no_shuffle();

sdk_check('forms.mjs', checks => 6);


airouter_blocks(
    mock   => form_mock(),
    config => "    location /v1/ { client_max_body_size 8m; airouter; }\n",
);

run_tests();

__DATA__

=== TEST 1: audio.transcriptions.create, audio.translations.create and images.edit through the openai SDK
--- user_files
>>> router_config.yaml
channels:
  - id: "all"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/echo/v1"
    api_key: "sk-all"
    configured_models: ["whisper-1", "dall-e-2", "qwen3-8b"]
    model_aliases:
      listener: "whisper-1"
  - id: "text"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/text/v1"
    api_key: "sk-text"
    configured_models: ["whisper-text"]
routing:
  model_filters:
    min_context_length: 0
--- request
GET /v1/models
--- sdk
--- error_code: 200
--- no_error_log
[alert]
[error]
