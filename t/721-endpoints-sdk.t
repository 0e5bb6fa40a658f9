# The official openai SDK (tests/sdk/endpoints.mjs) on the endpoints of
# issue #20: images.generate (through an alias), moderations.create (a tag
# query) and audio.speech.create (2 MB of audio read whole), and a 404
# for a model of the wrong kind.  Each "ok"/"not ok" line is one
# assertion here.
use Test::Nginx::Socket 'no_plan';
use Airouter::Blocks;
use Airouter::Sdk;

no_shuffle();

sdk_check('endpoints.mjs', checks => 6);

our $Mock = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        default_type application/json;
        access_log off;
        error_log logs/mock_error.log info;

        location /img/ {
            echo_read_request_body;
            echo '{"created":1,"data":[{"url":"https://img.example/fox.png"}]}';
        }

        location /mod/ {
            echo_read_request_body;
            echo '{"id":"modr-1","model":"omni-moderation-latest","results":[{"flagged":false,"categories":{},"category_scores":{}}]}';
        }

        location /audio/ {
            default_type audio/mpeg;
            echo_read_request_body;
            echo_duplicate 200000 "ID3-frame-";
        }
    }
_EOC_

airouter_blocks(
    mock   => $Mock,
    config => "    location /v1/ { airouter; }\n",
);

run_tests();

__DATA__

=== TEST 1: images.generate, moderations.create and audio.speech.create through the openai SDK
--- user_files
>>> router_config.yaml
channels:
  - id: "images"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/img/v1"
    api_key: "sk-img"
    configured_models: ["dall-e-3"]
    model_aliases:
      painter: "dall-e-3"
  - id: "moderation"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/mod/v1"
    api_key: "sk-mod"
    configured_models: ["omni-moderation-latest"]
  - id: "voice"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/audio/v1"
    api_key: "sk-voice"
    configured_models: ["tts-1"]
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
