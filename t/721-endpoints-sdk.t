# The official openai SDK (tests/sdk/endpoints.mjs) on the endpoints of
# issue #20: images.generate (through an alias), moderations.create (a tag
# query) and audio.speech.create (2 MB of audio read whole), and a 404
# for a model of the wrong kind.  Each "ok"/"not ok" line is one
# assertion here.
use Test::Nginx::Socket 'no_plan';
use Airouter::Blocks;
use Cwd ();

no_shuffle();

our $Sdk = Cwd::abs_path("tests/sdk");

add_response_body_check(sub {
    my ($block) = @_;
    return unless defined $block->sdk;
    if (!-d "$Sdk/node_modules/openai") {
        Test::More::fail($block->name . " - the openai SDK is installed"
                         . " (cd tests/sdk && npm install)");
        return;
    }
    my $url = "http://127.0.0.1:" . server_port() . "/v1";
    my $out = `node $Sdk/endpoints.mjs $url 2>&1`;
    my $status = $?;
    my $n = 0;
    for my $line (split /\n/, $out) {
        if ($line =~ /^(not )?ok - (.*)$/) {
            Test::More::ok(!$1, $block->name . " - sdk: $2");
            $n++;
        } else {
            Test::More::diag($line);
        }
    }
    Test::More::ok($n == 6 && $status == 0,
                   $block->name . " - sdk ran every check and exits cleanly")
        or Test::More::diag($out);
});

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
