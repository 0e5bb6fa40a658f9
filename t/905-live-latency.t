# Live latency in the ranking (#19 item 2): the speed score and the
# latency / throughput sorts read each (channel, model)'s measured time to
# first byte (and tokens per second), once it has AIROUTER_RANK_MIN_SAMPLES
# (3) samples; before that, the prior (1 s, 50 tokens/s) and the channel
# priority decide.  Channel "slow" (priority 1) answers after 400 ms,
# "fast" (priority 2) at once; provider.order sends three requests to
# each, then speed_optimized, sort "latency" and explain follow what was
# measured.
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

my $lag = <<"_EOC_";
    server {
        listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_5;
        location /lag/ {
            echo_read_request_body;
            echo_sleep 0.4;
            echo '$ok';
        }
    }
_EOC_

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
