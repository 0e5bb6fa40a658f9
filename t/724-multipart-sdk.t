# The official openai SDK (tests/sdk/forms.mjs) on the multipart/form-data
# endpoints of issue #20: audio.transcriptions.create through an alias
# (JSON, and response_format text), audio.translations.create,
# images.edit, each checking that the upstream got the file whole with the
# served model's id, and a 404 for a chat model.  Each "ok"/"not ok" line
# is one assertion here.
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
    my $out = `node $Sdk/forms.mjs $url 2>&1`;
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
        client_max_body_size 64m;
        client_body_in_file_only on;

        location /echo/ {
            echo_read_request_body;
            echo '{"text":"ok","created":1,"data":[{"url":"https://img.example/edit.png"}],"path":"$uri","file":"$request_body_file"}';
        }

        location /text/ {
            default_type text/plain;
            echo_read_request_body;
            echo "the words, as text";
        }
    }
_EOC_

airouter_blocks(
    mock   => $Mock,
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
