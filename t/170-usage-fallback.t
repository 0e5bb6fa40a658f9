# Usage when the upstream reports none: the prompt as the router counted
# it (4 tokens per message + its content) and the completion counted from
# the answer's text (message content, tool call arguments, or a stream's
# deltas), exactly with airouter_tokenizer or by the byte estimate; the
# cost from the channel's prices reaches X-Router-Cost, $airouter_cost and
# the stats, and $airouter_usage_source says "counted".  OpenRouter's own
# usage.cost beats the prices.
use Test::Nginx::Socket 'no_plan';
use Airouter::Check;
use Airouter::Blocks;

no_shuffle();
log_level('info');
install_checks();

$ENV{TEST_NGINX_TIKTOKEN_DIR} = $ENV{AIROUTER_TIKTOKEN_DIR} // '';

our $Chat = '{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}';
our $Stream = '{"model": "gpt-test", "stream": true, "messages": [{"role": "user", "content": "hi"}]}';
our $Admin = "Authorization: Bearer adm-secret";

# one channel on the mock below, kind = its location; $auth adds keys
sub cfg {
    my ($kind, $auth) = @_;
    my $y = '';
    $y .= "auth:\n  enabled: true\n  api_keys:\n"
        . "    - name: alice\n      key: \"sk-alice\"\n"
        . "  admin:\n    enabled: true\n    admin_token: \"adm-secret\"\n" if $auth;
    $y .= <<"_EOY_";
channels:
  - id: "paid"
    base_url: "http://127.0.0.1:\$TEST_NGINX_RAND_PORT_4/$kind/v1"
    api_key: "sk-up-paid"
    configured_models: ["paid-model"]
    model_aliases:
      gpt-test: "paid-model"
    cost_per_token: {input: 0.000001, output: 0.000002}
routing:
  model_filters:
    min_context_length: 0
_EOY_
    return ">>> router_config.yaml\n$y";
}

our $Mock = <<'_EOC_';
    log_format usage '$status source=$airouter_usage_source '
                     'tokens=$airouter_prompt_tokens+$airouter_completion_tokens '
                     'cost=$airouter_cost';

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_4;
        default_type application/json;
        access_log off;
        error_log logs/mock_error.log info;

        location /plain/ {
            echo_read_request_body;
            echo '{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there, friend!"},"finish_reason":"stop"}]}';
        }

        location /tool/ {
            echo_read_request_body;
            echo '{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\\\"city\\\":\\\"Paris\\\"}"}}]},"finish_reason":"tool_calls"}]}';
        }

        location /stream/ {
            default_type text/event-stream;
            echo_read_request_body;
            echo 'data: {"id":"s","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}';
            echo '';
            echo_flush;
            echo 'data: {"id":"s","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"lo there"},"finish_reason":null}]}';
            echo '';
            echo 'data: {"id":"s","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}';
            echo '';
            echo 'data: [DONE]';
            echo '';
        }

        location /orcost/ {
            echo_read_request_body;
            echo '{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"cost":0.0042}}';
        }

        location /cached/ {
            echo_read_request_body;
            echo '{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":8}}}';
        }

        location /ok/ {
            echo_read_request_body;
            echo '{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there, friend!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}';
        }
    }
_EOC_

airouter_blocks(mock => $Mock, config => <<'_EOC_',
    location /v1/ {
        airouter;
        access_log logs/access.log usage;
    }
_EOC_
                request => "POST /v1/chat/completions\n$Chat");

if (!-f "$ENV{TEST_NGINX_TIKTOKEN_DIR}/o200k_base.json") {
    plan skip_all => 'no tiktoken rank files (make test installs them)';
}

run_tests();

__DATA__

=== TEST 1: no usage, no tokenizer: the byte estimate (prompt 4 + 1, "Hello there, friend!" 6) and its cost
--- user_files eval
main::cfg("plain")
--- response_body_like: Hello there, friend!
--- response_headers
X-Router-Cost: 0.00001700
--- access_log
200 source=counted tokens=5+6 cost=0.00001700



=== TEST 2: no usage, airouter_tokenizer: the exact o200k_base count (5 + 5)
--- extra_http_config
    airouter_tokenizer $TEST_NGINX_TIKTOKEN_DIR/o200k_base.json;
--- user_files eval
main::cfg("plain")
--- response_headers
X-Router-Cost: 0.00001500
--- access_log
200 source=counted tokens=5+5 cost=0.00001500



=== TEST 3: a tool call without usage: its arguments are the completion
--- extra_http_config
    airouter_tokenizer $TEST_NGINX_TIKTOKEN_DIR/o200k_base.json;
--- user_files eval
main::cfg("tool")
--- response_body_like: get_weather
--- response_headers
X-Router-Cost: 0.00001500
--- access_log
200 source=counted tokens=5+5 cost=0.00001500



=== TEST 4: a stream without usage: the deltas ("Hel" + "lo there") counted
--- extra_http_config
    airouter_tokenizer $TEST_NGINX_TIKTOKEN_DIR/o200k_base.json;
--- user_files eval
main::cfg("stream")
--- request eval
"POST /v1/chat/completions\n$::Stream"
--- response_body_like: lo there.*\[DONE\]
--- access_log
200 source=counted tokens=5+3 cost=0.00001100



=== TEST 5: usage from the upstream is taken as it is
--- user_files eval
main::cfg("ok")
--- response_headers
X-Router-Cost: 0.00002000
--- access_log
200 source=upstream tokens=10+5 cost=0.00002000



=== TEST 6: OpenRouter's usage.cost beats the channel's prices
--- user_files eval
main::cfg("orcost")
--- response_headers
X-Router-Cost: 0.00420000
--- access_log
200 source=upstream tokens=10+5 cost=0.00420000



=== TEST 7: cached tokens: no cached price in the catalogue, the prompt price applies
--- user_files eval
main::cfg("cached")
--- response_headers
X-Router-Cost: 0.00002000
--- access_log
200 source=upstream tokens=10+5 cost=0.00002000



=== TEST 8: counted usage reaches the stats
--- user_files eval
main::cfg("plain", 1)
--- request eval
["POST /v1/chat/completions\n$::Chat", "GET /v1/stats/daily"]
--- more_headers eval
["Authorization: Bearer sk-alice", $::Admin]
--- check_json
my $t = $j->{total};
$t->{requests} == 1 && $t->{prompt_tokens} == 5 && $t->{completion_tokens} == 6
&& abs($t->{cost} - 0.000017) < 1e-12



=== TEST 9: a failed answer is not counted
--- user_files eval
main::cfg("missing")
--- error_code: 404
--- access_log
404 source=- tokens=-+- cost=-
