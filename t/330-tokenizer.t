# airouter_tokenizer: prompt sizes for the context-window filter counted
# exactly with a tiktoken rank file instead of the byte estimate.  The
# prompt is 3000 digits: the estimate says 1500 tokens, o200k_base 1000
# (digits go in threes); the only model has a 1200-token context.
use Test::Nginx::Socket 'no_plan';
use Airouter::Check;
use Airouter::Blocks;

no_shuffle();
log_level('info');
install_checks();

$ENV{TEST_NGINX_TIKTOKEN_DIR} = $ENV{AIROUTER_TIKTOKEN_DIR} // '';

our $Digits = '1234567890' x 300;
our $Body = "{\"model\": \"ctx-model\", \"messages\": [{\"role\": \"user\", \"content\": \"$Digits\"}]}";

airouter_blocks(mock => count_http_config(),
                config => "    location /v1/ { airouter; }\n",
                request => "POST /v1/chat/completions\n$Body",
                user_files => <<'_EOF_');
>>> router_config.yaml
channels:
  - id: small
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_3/ok/v1"
    api_key: "sk-small"
    models_file: "$TEST_NGINX_HTML_DIR/models.json"
routing:
  model_filters:
    min_context_length: 0
>>> models.json
{"data": [{"id": "ctx-model", "context_length": 1200, "pricing": {"prompt": "0.000001", "completion": "0.000002"}}]}
_EOF_

if (!-f "$ENV{TEST_NGINX_TIKTOKEN_DIR}/o200k_base.json") {
    plan skip_all => 'no tiktoken rank files (make test installs them)';
}

run_tests();

__DATA__

=== TEST 1: without a tokenizer the estimate is too big for the context
--- error_code: 404
--- response_body_like: removed by filters: 1 context
--- upstream_hits: 0



=== TEST 2: with airouter_tokenizer the exact count fits
--- extra_http_config
    airouter_tokenizer $TEST_NGINX_TIKTOKEN_DIR/o200k_base.json;
--- error_code: 200
--- response_body_like: Hello
--- upstream_hits: 1
--- error_log
airouter: tokenizer o200k_base, 199998 ranks



=== TEST 3: a rank file that cannot be read stops the start
--- extra_http_config
    airouter_tokenizer /nonexistent/o200k_base.json;
--- must_die
--- error_log
airouter: tokenizer "/nonexistent/o200k_base.json"
