# A hedge that fails is a try that failed: a hedge that cannot connect,
# that takes the request and closes without answering, or that answers an
# error before the first try does, is listed in X-Router-Fallbacks and
# told to live state as its channel's failure (the outcome table's
# verdict: the error in the channel's window, its cooldown), while the
# first try's answer goes to the client.
#
# The first candidate ("steady") answers after 0.6 s, from behind a front
# that logs; the hedge starts after 200 ms on the second, which is down
# (a port nobody listens on), closes at once (return 444), or answers
# 500 or 429.  Each block's own request is a GET of /v1/models; the check
# sends the routed request itself, then reads /metrics.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock qw(yaml_channels chat_answer);
use Airouter::Blocks;
use Airouter::HTTP;
use Airouter::Routed;

no_shuffle();
log_level('info');

sub mock {
    my $steady = chat_answer("from steady");
    my $fast = chat_answer("from fast");
    return <<"_EOC_"
    log_format mock '\$uri \$status';

    server {
        listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_1;
        default_type application/json;
        access_log logs/mock.log mock;

        location /steady/ {
            proxy_pass http://127.0.0.1:\$TEST_NGINX_RAND_PORT_1/back/;
            proxy_buffering off;
        }

        location /back/ {
            access_log off;
            echo_read_request_body;
            echo_sleep 0.6;
            echo '$steady';
        }

        location /fast/ {
            echo_read_request_body;
            echo '$fast';
        }

        location /hangup/ {
            return 444;
        }

        location /e500/ {
            return 500 '{"error":{"message":"boom","type":"server_error"}}';
        }

        location /e429/ {
            return 429 '{"error":{"message":"slow down","type":"rate_limit_exceeded"}}';
        }
    }
_EOC_
}

sub hedged {
    my ($second, $third) = @_;
    return ">>> router_config.yaml\n" . yaml_channels(
        "  hedging:\n    enabled: true\n    after: 200ms\n",
        ["steady", "steady"], $second, $third ? ($third) : ());
}

add_response_body_check(sub {
    my ($block) = @_;
    return unless defined $block->routed;
    my $name = $block->name;
    my $body = $block->routed;
    chomp $body;

    my ($status, $h, $content) = http_request(server_port(), 'POST',
        '/v1/chat/completions', type => 'application/json', body => $body);
    Test::More::is($status, 200, "$name - routed request answered");
    my $from = $block->routed_from // 'steady';
    Test::More::like($content, qr/"content":"from $from"/,
                     "$name - the answer from $from");

    check_headers($name, $h, $block->routed_headers);
    check_metrics($name, $block->metrics_like);
    check_error_log($name, $block->error_log_like);
});

airouter_blocks(mock => mock(), request => "GET /v1/models",
                config => "    location /v1/ { airouter; }\n"
                        . "    location = /metrics { airouter_metrics; }\n");

run_tests();

__DATA__

=== TEST 1: a hedge that cannot connect is a connect_error of its channel: listed in X-Router-Fallbacks, an error in its window, the channel blocked; the first try answers
--- user_files eval
hedged(["down", "refused"])
--- routed
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- routed_headers
X-Router-Channel: steady
X-Router-Fallbacks: down:connect_error
X-Router-Hedge: won-by=steady
X-Router-Attempts: 2
--- metrics_like
airouter_channel_window_attempts{channel="down",result="error"} 1
airouter_channel_blocked{channel="down",reason="connect_error"} 1
airouter_channel_window_attempts{channel="steady",result="ok"} 1
airouter_channel_inflight{channel="down"} 0
airouter_channel_inflight{channel="steady"} 0
--- error_log_like
hedge "down" model "down-model": connect_error, channel cooldown \d+ s



=== TEST 2: a hedge that takes the request and closes without a word is a server_error of its channel
--- user_files eval
hedged(["hangup", "hangup"])
--- routed
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- routed_headers
X-Router-Channel: steady
X-Router-Fallbacks: hangup:server_error
X-Router-Hedge: won-by=steady
--- metrics_like
airouter_channel_window_attempts{channel="hangup",result="error"} 1
airouter_channel_inflight{channel="hangup"} 0
--- no_error_log
[error]



=== TEST 3: a hedge that answers 500 before the first try: listed with its status, an error of its channel
--- user_files eval
hedged(["broken", "e500"])
--- routed
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- routed_headers
X-Router-Channel: steady
X-Router-Fallbacks: broken:server_error 500
X-Router-Hedge: won-by=steady
--- metrics_like
airouter_channel_window_attempts{channel="broken",result="error"} 1
airouter_channel_inflight{channel="broken"} 0
--- no_error_log
[error]



=== TEST 4: a hedge answering 429 is its channel's rate_limit_exceeded (the outcome table reads the status line)
--- user_files eval
hedged(["limited", "e429"])
--- routed
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- routed_headers
X-Router-Channel: steady
X-Router-Fallbacks: limited:rate_limit_exceeded 429
--- metrics_like
airouter_channel_window_attempts{channel="limited",result="error"} 1
--- no_error_log
[error]



=== TEST 5: a hedge that answers in time is no failure: nothing in X-Router-Fallbacks, no error in its window
--- user_files eval
hedged(["quick", "fast"])
--- routed
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- routed_from: fast
--- routed_headers
X-Router-Channel: quick
X-Router-Fallbacks:
X-Router-Hedge: won-by=quick
--- metrics_like
airouter_channel_window_attempts{channel="quick",result="ok"} 1
airouter_channel_window_attempts{channel="steady",result="error"} 0
--- no_error_log
[error]
