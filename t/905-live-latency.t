# Live latency in the ranking (#19 item 2): the speed score and the
# latency / throughput sorts read each (channel, model)'s measured time to
# first byte (and tokens per second), once it has AIROUTER_RANK_MIN_SAMPLES
# (3) samples; before that, the prior (1 s, 50 tokens/s) and the channel
# priority decide.  Channel "slow" (priority 1) answers after 400 ms,
# "fast" (priority 2) at once; provider.order sends three requests to
# each, then speed_optimized, sort "latency" and explain follow what was
# measured.  Throughput: "writer" streams 2 tokens in 400 ms, "burst" 50
# at once (the usage of each answer, over its time after the first byte).
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Blocks;
use Airouter::Check;

no_shuffle();
log_level('info');

my $ok = '{"id":"chatcmpl-1","object":"chat.completion","created":1,'
    . '"model":"m","choices":[{"index":0,"message":{"role":"assistant",'
    . '"content":"Hello!"},"finish_reason":"stop"}],"usage":'
    . '{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}';

# a stream that writes 50 tokens at once (the mock's /stream/ writes 2 in
# 400 ms)
my $burst = '{"id":"c","object":"chat.completion.chunk","created":1,'
    . '"model":"m","choices":[{"index":0,"delta":{"content":"Hello"},'
    . '"finish_reason":null}]}';
my $burst_usage = '{"id":"c","object":"chat.completion.chunk","created":1,'
    . '"model":"m","choices":[],"usage":{"prompt_tokens":7,'
    . '"completion_tokens":50,"total_tokens":57}}';

my $lag = <<"_EOC_";
    server {
        listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_5;
        location /lag/ {
            echo_read_request_body;
            echo_sleep 0.4;
            echo '$ok';
        }
        location /burst/ {
            default_type text/event-stream;
            echo_read_request_body;
            echo 'data: $burst';
            echo '';
            echo 'data: $burst_usage';
            echo '';
            echo 'data: [DONE]';
            echo '';
        }
    }
_EOC_

sub stream_yaml {
    return yaml_channels("", ["writer", "stream"], ["burst", "ok"])
        =~ s{(id: "burst"\n    base_url: ")[^"]+}{$1http://127.0.0.1:\$TEST_NGINX_RAND_PORT_5/burst/v1}r;
}

sub stream {
    my ($members) = @_;
    return chat("\"stream\": true, $members");
}

sub yaml {
    return yaml_channels("", ["slow", "ok"], ["fast", "ok"])
        =~ s{(id: "slow"\n    base_url: ")[^"]+}{$1http://127.0.0.1:\$TEST_NGINX_RAND_PORT_5/lag/v1}r;
}

sub chat {
    my ($members) = @_;
    return "POST /v1/chat/completions\n{\"model\": \"gpt-test\", $members"
        . "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}";
}

sub order {
    my ($channel) = @_;
    return chat("\"provider\": {\"order\": [\"$channel\"]}, ");
}

install_checks();
airouter_blocks(mock => mock_http_config() . $lag, config => mock_config(),
                user_files => ">>> router_config.yaml\n" . yaml());

run_tests();

__DATA__

=== TEST 1: nothing measured: the priority decides for speed_optimized and sort "latency"
--- request eval
[main::chat(''), main::chat('"provider": {"sort": "latency"}, ')]
--- more_headers
X-Router-Strategy: speed_optimized
--- response_headers eval
["X-Router-Channel: slow", "X-Router-Channel: slow"]



=== TEST 2: two samples each are not enough
--- request eval
[main::order("slow"), main::order("slow"), main::order("fast"),
 main::order("fast"), main::chat('')]
--- more_headers
X-Router-Strategy: speed_optimized
--- response_headers eval
["X-Router-Channel: slow", "X-Router-Channel: slow", "X-Router-Channel: fast",
 "X-Router-Channel: fast", "X-Router-Channel: slow"]



=== TEST 3: three samples each: speed_optimized and sort "latency" take the fast channel
--- request eval
[main::order("slow"), main::order("slow"), main::order("slow"),
 main::order("fast"), main::order("fast"), main::order("fast"),
 main::chat(''), main::chat('"provider": {"sort": "latency"}, ')]
--- more_headers
X-Router-Strategy: speed_optimized
--- response_headers eval
["X-Router-Channel: slow", "X-Router-Channel: slow", "X-Router-Channel: slow",
 "X-Router-Channel: fast", "X-Router-Channel: fast", "X-Router-Channel: fast",
 "X-Router-Channel: fast", "X-Router-Channel: fast"]



=== TEST 4: explain shows the measured TTFB and the speed score it gives
--- request eval
[main::order("slow"), main::order("slow"), main::order("slow"),
 main::order("fast"), main::order("fast"), main::order("fast"),
 "POST /v1/route\n{\"model\": \"gpt-test\"}"]
--- more_headers
X-Router-Strategy: speed_optimized
--- check_json
$j->{candidates}[0]{channel} eq "fast" && $j->{candidates}[1]{channel} eq "slow"
&& $j->{candidates}[0]{ttfb_ms} < 300 && $j->{candidates}[1]{ttfb_ms} >= 380
&& $j->{candidates}[0]{scores}{speed_score} > $j->{candidates}[1]{scores}{speed_score}



=== TEST 5: ":nitro" and sort "throughput" follow the measured writing speed; so does the default strategy's speed score (cost_first weighs it 0.15, the prices tie)
--- user_files eval
">>> router_config.yaml\n" . main::stream_yaml()
--- request eval
[main::stream('"model": "gpt-test:nitro", '),
 (map { main::stream("\"provider\": {\"order\": [\"$_\"]}, ") } qw(writer writer writer burst burst burst)),
 main::stream('"model": "gpt-test:nitro", '),
 main::stream('"provider": {"sort": "throughput"}, '),
 main::stream('')]
--- response_headers eval
["X-Router-Channel: writer",
 "X-Router-Channel: writer", "X-Router-Channel: writer", "X-Router-Channel: writer",
 "X-Router-Channel: burst", "X-Router-Channel: burst", "X-Router-Channel: burst",
 "X-Router-Channel: burst", "X-Router-Channel: burst", "X-Router-Channel: burst"]



=== TEST 6: explain shows the measured tokens per second
--- user_files eval
">>> router_config.yaml\n" . main::stream_yaml()
--- request eval
[(map { main::stream("\"provider\": {\"order\": [\"$_\"]}, ") } qw(writer writer writer burst burst burst)),
 "POST /v1/route\n{\"model\": \"gpt-test:nitro\"}"]
--- check_json
$j->{candidates}[0]{channel} eq "burst" && $j->{candidates}[1]{channel} eq "writer"
&& $j->{candidates}[0]{tokens_per_second} > 50
&& $j->{candidates}[1]{tokens_per_second} < 10
