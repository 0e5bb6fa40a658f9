# Hedged requests (routing.hedging): when the first try has sent no byte
# after `after`, the next candidate starts beside it; the first good answer
# wins and the other connection is closed at once.
#
# The mock upstream on $TEST_NGINX_RAND_PORT_1 answers after a delay its
# path names; the delayed ones are nginx proxies in front of a sleeping
# location, so a connection the router drops shows in logs/mock.log as a
# 499 at the moment it is dropped.  Each block's own request is a GET of
# /v1/models (no upstream); the checks below send the routed request
# themselves and time its first byte.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock qw(yaml_channels chat_body);
use Airouter::Blocks;
use Airouter::HTTP;
use IO::Socket::INET ();
use Time::HiRes qw(time sleep);
use Cwd ();

$ENV{TEST_NGINX_CERT_DIR} = Cwd::abs_path("t/cert");

no_shuffle();
log_level('info');

sub answer {
    my ($who) = @_;
    return '{"id":"chatcmpl-1","object":"chat.completion","created":1,'
        . '"model":"upstream-model","choices":[{"index":0,"message":{"role":'
        . '"assistant","content":"from ' . $who . '"},"finish_reason":"stop"}],'
        . '"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}';
}

sub events {
    my ($who, $gap) = @_;
    my $ev = sub {
        return "            echo 'data: $_[0]';\n            echo '';\n"
             . "            echo_flush;\n";
    };
    return $ev->('{"id":"s","object":"chat.completion.chunk","created":1,'
                 . '"model":"m","choices":[{"index":0,"delta":{"content":"'
                 . $who . '"},"finish_reason":null}]}')
         . "            echo_sleep " . ($gap // 0.1) . ";\n"
         . $ev->('{"id":"s","object":"chat.completion.chunk","created":1,'
                 . '"model":"m","choices":[],"usage":{"prompt_tokens":7,'
                 . '"completion_tokens":2,"total_tokens":9}}')
         . $ev->('[DONE]');
}

# a front that logs, and a back that waits $secs before answering
sub delayed {
    my ($name, $secs, $what) = @_;
    my $type = $name =~ /stream/ ? "text/event-stream" : "application/json";
    return <<"_EOC_";
        location /$name/ {
            proxy_pass http://127.0.0.1:\$TEST_NGINX_RAND_PORT_1/back/$name/;
            proxy_buffering off;
            access_log logs/mock.log mock;
        }

        location /back/$name/ {
            access_log off;
            default_type $type;
            echo_read_request_body;
            echo_sleep $secs;
$what        }
_EOC_
}

sub mock {
    my $fast = answer("fast");
    my $slow = answer("slow");
    my $medium = answer("medium");
    return <<"_EOC_"
    log_format mock '\$uri \$status';
    log_format hedged '\$airouter_channel hedged=\$airouter_hedged '
                      'attempts=\$airouter_attempts';

    server {
        listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_1;
        default_type application/json;
        access_log off;
        error_log logs/mock_error.log info;

        location /fast/ {
            access_log logs/mock.log mock;
            echo_read_request_body;
            echo '$fast';
        }

        location /faststream/ {
            access_log logs/mock.log mock;
            default_type text/event-stream;
            echo_read_request_body;
@{[ events("fast") ]}        }

        location /e500/ {
            access_log logs/mock.log mock;
            return 500 '{"error":{"message":"boom","type":"server_error"}}';
        }

@{[ delayed("slow", 1.5, "            echo '$slow';\n") ]}
@{[ delayed("medium", 0.6, "            echo '$medium';\n") ]}
@{[ delayed("slowfail", 0.7,
            "            echo_status 503;\n            echo '{\"error\":{\"message\":\"busy\",\"type\":\"server_error\"}}';\n") ]}
@{[ delayed("slowstream", 1.5, events("slow")) ]}
@{[ delayed("mediumstream", 0.6, events("medium", 1.5)) ]}
    }

    # the same over TLS: the hedge's own handshake, SNI and verification
    server {
        listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_3 ssl;
        ssl_certificate     \$TEST_NGINX_CERT_DIR/localhost.crt;
        ssl_certificate_key \$TEST_NGINX_CERT_DIR/localhost.key;
        default_type application/json;
        access_log off;

        location /tls/slow/ {
            proxy_pass http://127.0.0.1:\$TEST_NGINX_RAND_PORT_1/back/slow/;
            proxy_buffering off;
            access_log logs/mock.log mock;
        }

        location /tls/fast/ {
            access_log logs/mock.log mock;
            echo_read_request_body;
            echo '$fast';
        }
    }
_EOC_
}

sub api_config {
    return <<'_EOC_';
    location /v1/ {
        airouter;
        access_log logs/access.log hedged;
    }
    location = /metrics { airouter_metrics; }
_EOC_
}

# auth with one key per [name, extra yaml]: token "sk-<name>"
sub keys_yaml {
    my $yaml = "auth:\n  enabled: true\n  api_keys:\n";
    $yaml .= "    - name: $_->[0]\n      key: sk-$_->[0]\n" . ($_->[1] // '')
        for @_;
    return $yaml;
}

# one routed POST on a fresh connection: (seconds to the first byte,
# status, {header => value}, body)
sub timed_post {
    my ($body, $token) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => server_port(), Timeout => 10)
        or return (99, 0, {}, '');
    my $t0 = time;
    print $s "POST /v1/chat/completions HTTP/1.0\r\nHost: localhost\r\n"
           . "Content-Type: application/json\r\n"
           . ($token ? "Authorization: Bearer $token\r\n" : "")
           . "Content-Length: " . length($body) . "\r\n\r\n$body";
    my $first = '';
    sysread($s, $first, 1);
    my $ttfb = time - $t0;
    local $/;
    my $raw = $first . (<$s> // '');
    close $s;
    my ($head, $content) = split /\r\n\r\n/, $raw, 2;
    my ($status) = ($head // '') =~ m{^HTTP/\S+ (\d+)};
    my %h = map { /^([^:]+):\s*(.*)$/ ? (lc $1, $2) : () }
            split /\r\n/, $head // '';
    return ($ttfb, $status // 0, \%h, $content // '');
}

sub read_log {
    my ($name) = @_;
    open my $fh, '<', server_root() . "/logs/$name" or return '';
    local $/;
    my $text = <$fh>;
    close $fh;
    return $text;
}

# the mock's log once it holds every pattern (a drop is logged when nginx
# notices it: at once, but after our client may have read its answer)
sub wait_log {
    my ($name, @want) = @_;
    my $text = '';
    for (1 .. 40) {
        $text = read_log($name);
        last unless grep { $text !~ $_ } @want;
        sleep 0.05;
    }
    return $text;
}

add_response_body_check(sub {
    my ($block) = @_;
    return unless defined $block->routed;
    my $name = $block->name;
    my $body = $block->routed;
    chomp $body;

    my ($ttfb, $status, $h, $content);

    if (defined(my $secs = $block->abort_after)) {
        # the client leaves while both tries wait
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => server_port(), Timeout => 10);
        print $s "POST /v1/chat/completions HTTP/1.0\r\nHost: localhost\r\n"
               . "Content-Type: application/json\r\n"
               . "Content-Length: " . length($body) . "\r\n\r\n$body";
        sleep $secs;
        close $s;

    } else {
        ($ttfb, $status, $h, $content) = timed_post($body, $block->routed_token);
        Test::More::is($status, 200, "$name - routed request answered");
    }

    if (defined(my $max = $block->ttfb_below)) {
        Test::More::cmp_ok($ttfb, '<', $max, "$name - first byte before $max s");
    }
    if (defined(my $min = $block->ttfb_above)) {
        Test::More::cmp_ok($ttfb, '>=', $min, "$name - first byte not before $min s");
    }
    if (defined(my $want = $block->routed_body_like)) {
        chomp $want;
        Test::More::like($content, qr/$want/, "$name - answer");
    }
    if (defined(my $hdrs = $block->routed_headers)) {
        for my $line (grep { length } split /\n/, $hdrs) {
            my ($k, $v) = $line =~ /^([^:]+):\s*(.*)$/;
            Test::More::is($h->{lc $k}, $v eq '' ? undef : $v,
                           "$name - header $k");
        }
    }
    if (defined(my $want = $block->mock_log_exact)) {
        # every request the mock saw, in any order
        my @want = sort grep { length } split /\n/, $want;
        my $text = '';
        for (1 .. 60) {
            $text = read_log("mock.log");
            last if (() = $text =~ /^\S+ \d+$/mg) >= @want;
            sleep 0.05;
        }
        my @got = sort grep { length } split /\n/, $text;
        Test::More::is_deeply(\@got, \@want, "$name - the mock's requests");
    }
    if (defined(my $pats = $block->mock_log)) {
        my @want = map { qr/^\Q$_\E$/m } grep { length } split /\n/, $pats;
        my $text = wait_log("mock.log", @want);
        for my $i (0 .. $#want) {
            Test::More::like($text, $want[$i], "$name - mock log has "
                             . (split /\n/, $pats)[$i]);
        }
        if (defined(my $n = $block->mock_requests)) {
            my $got = () = $text =~ /^\S+ \d+$/mg;
            Test::More::is($got, $n, "$name - requests the mock saw");
        }
    }
    if (defined(my $pats = $block->metrics_like)) {
        my @want = map { qr/^\Q$_\E$/m } grep { length } split /\n/, $pats;
        my $text = '';
        for (1 .. 40) {
            (undef, undef, $text) = http_request(server_port(), 'GET', '/metrics');
            last unless grep { $text !~ $_ } @want;
            sleep 0.05;
        }
        Test::More::like($text, $_, "$name - metrics") for @want;
    }
    if (defined(my $pats = $block->access_log_like)) {
        my @want = map { qr/$_/m } grep { length } split /\n/, $pats;
        my $text = wait_log("access.log", @want);
        Test::More::like($text, $_, "$name - access log") for @want;
    }
});

airouter_blocks(mock => mock(), config => api_config(),
                request => "GET /v1/models");

run_tests();

__DATA__

=== TEST 1: a first try slow to its first byte is hedged after 200 ms: the fast candidate answers, the slow connection is dropped (499)
--- user_files eval
">>> router_config.yaml\n" . yaml_channels(
    "  hedging:\n    enabled: true\n    after: 200ms\n",
    ["slowpoke", "slow"], ["quick", "fast"])
--- routed
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- ttfb_below: 0.4
--- routed_body_like: "content":"from fast"
--- routed_headers
X-Router-Channel: quick
X-Router-Hedge: won-by=quick
X-Router-Attempts: 2
--- mock_log
/slow/v1/chat/completions 499
/fast/v1/chat/completions 200
--- mock_requests: 2
--- access_log_like
^quick hedged=hedge attempts=2$
--- metrics_like
airouter_hedges_total 1
airouter_hedge_wins_total 1
airouter_channel_hedge_wins_total{channel="quick"} 1
airouter_channel_inflight{channel="slowpoke"} 0
airouter_channel_inflight{channel="quick"} 0
--- no_error_log
[error]



=== TEST 2: hedging off: the client waits for the slow first try, nothing else is asked
--- user_files eval
">>> router_config.yaml\n" . yaml_channels(
    "  hedging:\n    enabled: false\n    after: 200ms\n",
    ["slowpoke", "slow"], ["quick", "fast"])
--- routed
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- ttfb_above: 1.4
--- routed_body_like: "content":"from slow"
--- routed_headers
X-Router-Channel: slowpoke
X-Router-Hedge:
--- mock_log
/slow/v1/chat/completions 200
--- mock_requests: 1
--- access_log_like
^slowpoke hedged=- attempts=1$
--- no_error_log
[error]



=== TEST 3: a stream is hedged: the first event comes from the fast candidate
--- user_files eval
">>> router_config.yaml\n" . yaml_channels(
    "  hedging:\n    enabled: true\n    after: 200ms\n",
    ["slowpoke", "slowstream"], ["quick", "faststream"])
--- routed
{"model": "gpt-test", "stream": true, "messages": [{"role": "user", "content": "hi"}]}
--- ttfb_below: 0.4
--- routed_body_like: (?s)"content":"fast".*\[DONE\]
--- routed_headers
X-Router-Channel: quick
X-Router-Hedge: won-by=quick
--- mock_log
/slowstream/v1/chat/completions 499
/faststream/v1/chat/completions 200
--- mock_requests: 2
--- no_error_log
[error]



=== TEST 4: a request with tools is not hedged by default (a tool call answered twice could be acted on twice)
--- user_files eval
">>> router_config.yaml\n" . yaml_channels(
    "  hedging:\n    enabled: true\n    after: 200ms\n",
    ["slowpoke", "slow", "    capabilities: [function_calling]\n"],
    ["quick", "fast", "    capabilities: [function_calling]\n"])
--- routed
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]}
--- ttfb_above: 1.4
--- routed_body_like: "content":"from slow"
--- routed_headers
X-Router-Channel: slowpoke
X-Router-Hedge:
--- mock_log
/slow/v1/chat/completions 200
--- mock_requests: 1
--- no_error_log
[error]



=== TEST 5: the request's "hedge": false turns it off
--- user_files eval
">>> router_config.yaml\n" . yaml_channels(
    "  hedging:\n    enabled: true\n    after: 200ms\n",
    ["slowpoke", "slow"], ["quick", "fast"])
--- routed
{"model": "gpt-test", "hedge": false, "messages": [{"role": "user", "content": "hi"}]}
--- ttfb_above: 1.4
--- routed_body_like: "content":"from slow"
--- routed_headers
X-Router-Channel: slowpoke
X-Router-Hedge:
--- mock_log
/slow/v1/chat/completions 200
--- mock_requests: 1
--- no_error_log
[error]



=== TEST 6: the first try answers first (0.6 s) while the hedge waits (1.5 s): the first try wins, the hedge's connection is dropped at that first byte (not when the 2 s stream ends)
--- user_files eval
">>> router_config.yaml\n" . yaml_channels(
    "  hedging:\n    enabled: true\n    after: 200ms\n",
    ["steady", "mediumstream"], ["slowpoke", "slow"])
--- routed
{"model": "gpt-test", "stream": true, "messages": [{"role": "user", "content": "hi"}]}
--- ttfb_above: 0.5
--- ttfb_below: 1.4
--- routed_body_like: (?s)"content":"medium".*\[DONE\]
--- routed_headers
X-Router-Channel: steady
X-Router-Hedge: won-by=steady
X-Router-Attempts: 2
--- mock_log
/mediumstream/v1/chat/completions 200
/slow/v1/chat/completions 499
--- mock_requests: 2
--- access_log_like
^steady hedged=primary attempts=2$
--- metrics_like
airouter_hedges_total 1
airouter_hedge_wins_total 0
airouter_channel_inflight{channel="slowpoke"} 0
airouter_channel_inflight{channel="steady"} 0
--- no_error_log
[error]



=== TEST 7: the first try fails while the hedge waits: the hedge's connection becomes the next try (no second request to it)
--- user_files eval
">>> router_config.yaml\n" . yaml_channels(
    "  hedging:\n    enabled: true\n    after: 200ms\n",
    ["flaky", "slowfail"], ["steady", "medium"])
--- routed
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- ttfb_below: 1.2
--- routed_body_like: "content":"from medium"
--- routed_headers
X-Router-Channel: steady
X-Router-Fallbacks: flaky:server_error 503
X-Router-Hedge: won-by=steady
X-Router-Attempts: 2
--- mock_log
/slowfail/v1/chat/completions 503
/medium/v1/chat/completions 200
--- mock_requests: 2



=== TEST 8: a hedge that answers an error first does not win: the first try's answer is kept
--- user_files eval
">>> router_config.yaml\n" . yaml_channels(
    "  hedging:\n    enabled: true\n    after: 200ms\n",
    ["steady", "medium"], ["broken", "e500"])
--- routed
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- ttfb_above: 0.5
--- routed_body_like: "content":"from medium"
--- routed_headers
X-Router-Channel: steady
X-Router-Hedge: won-by=steady
--- mock_log
/medium/v1/chat/completions 200
/e500/v1/chat/completions 500
--- mock_requests: 2
--- no_error_log
[error]



=== TEST 9: one candidate only: nothing to hedge with
--- user_files eval
">>> router_config.yaml\n" . yaml_channels(
    "  hedging:\n    enabled: true\n    after: 200ms\n",
    ["slowpoke", "slow"])
--- routed
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- ttfb_above: 1.4
--- routed_headers
X-Router-Channel: slowpoke
X-Router-Hedge:
--- mock_log
/slow/v1/chat/completions 200
--- mock_requests: 1
--- no_error_log
[error]



=== TEST 10: a key with "hedge: false" is not hedged
--- user_files eval
">>> router_config.yaml\n" . keys_yaml(["frugal", "      hedge: false\n"])
. yaml_channels("  hedging:\n    enabled: true\n    after: 200ms\n",
    ["slowpoke", "slow"], ["quick", "fast"])
--- request
GET /v1/models
--- more_headers
Authorization: Bearer sk-frugal
--- routed_token: sk-frugal
--- routed
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- ttfb_above: 1.4
--- routed_headers
X-Router-Channel: slowpoke
X-Router-Hedge:
--- mock_log
/slow/v1/chat/completions 200
--- mock_requests: 1
--- no_error_log
[error]



=== TEST 11: a request whose doubled worst case does not fit the key's daily budget is not hedged (it fits once: it is served)
--- user_files eval
">>> router_config.yaml\n" . keys_yaml(["tight", "      daily_budget: 0.0003\n"])
. yaml_channels("  hedging:\n    enabled: true\n    after: 200ms\n",
    ["slowpoke", "slow"], ["quick", "fast"])
--- request
GET /v1/models
--- more_headers
Authorization: Bearer sk-tight
--- routed_token: sk-tight
--- routed
{"model": "gpt-test", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}
--- ttfb_above: 1.4
--- routed_headers
X-Router-Channel: slowpoke
X-Router-Hedge:
--- mock_log
/slow/v1/chat/completions 200
--- mock_requests: 1
--- no_error_log
[error]



=== TEST 12: the same request under a budget that holds it twice is hedged
--- user_files eval
">>> router_config.yaml\n" . keys_yaml(["roomy", "      daily_budget: 0.01\n"])
. yaml_channels("  hedging:\n    enabled: true\n    after: 200ms\n",
    ["slowpoke", "slow"], ["quick", "fast"])
--- request
GET /v1/models
--- more_headers
Authorization: Bearer sk-roomy
--- routed_token: sk-roomy
--- routed
{"model": "gpt-test", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}
--- ttfb_below: 0.4
--- routed_headers
X-Router-Channel: quick
X-Router-Hedge: won-by=quick
--- mock_log
/slow/v1/chat/completions 499
/fast/v1/chat/completions 200
--- mock_requests: 2
--- no_error_log
[error]



=== TEST 13: the request's "hedge": true hedges a request with tools
--- user_files eval
">>> router_config.yaml\n" . yaml_channels(
    "  hedging:\n    enabled: true\n    after: 200ms\n",
    ["slowpoke", "slow", "    capabilities: [function_calling]\n"],
    ["quick", "fast", "    capabilities: [function_calling]\n"])
--- routed
{"model": "gpt-test", "hedge": true, "messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]}
--- ttfb_below: 0.4
--- routed_headers
X-Router-Channel: quick
X-Router-Hedge: won-by=quick
--- mock_log
/slow/v1/chat/completions 499
/fast/v1/chat/completions 200
--- mock_requests: 2
--- no_error_log
[error]



=== TEST 14: "hedge" that is not a boolean is refused with a 400 naming it
--- user_files eval
">>> router_config.yaml\n" . yaml_channels(
    "  hedging:\n    enabled: true\n    after: 200ms\n",
    ["quick", "fast"], ["slowpoke", "slow"])
--- request
POST /v1/chat/completions
{"model": "gpt-test", "hedge": "yes", "messages": [{"role": "user", "content": "hi"}]}
--- error_code: 400
--- response_body_like: "param":"hedge"



=== TEST 15: bill_loser: none: a hedged answer costs what the winner's usage says
--- user_files eval
">>> router_config.yaml\n" . yaml_channels(
    "  hedging:\n    enabled: true\n    after: 200ms\n    bill_loser: none\n",
    ["slowpoke", "slow"], ["quick", "fast"])
--- routed
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- routed_headers
X-Router-Channel: quick
X-Router-Cost: 0.00002000



=== TEST 16: bill_loser: prompt (the default): the loser's prompt, as routing counted it, (5 tokens) is added at its prompt price (0.000001): 0.00002 + 0.000005
--- user_files eval
">>> router_config.yaml\n" . yaml_channels(
    "  hedging:\n    enabled: true\n    after: 200ms\n",
    ["slowpoke", "slow"], ["quick", "fast"])
--- routed
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- routed_headers
X-Router-Channel: quick
X-Router-Cost: 0.00002500



=== TEST 17: HTTPS channels: the hedge makes its own verified TLS connection (SNI localhost) and wins
--- extra_http_config
    airouter_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
--- user_files
>>> router_config.yaml
channels:
  - id: slowpoke
    base_url: "https://localhost:$TEST_NGINX_RAND_PORT_3/tls/slow/v1"
    api_key: "sk-slowpoke-secret"
    priority: 1
    configured_models: ["gpt-test"]
  - id: quick
    base_url: "https://localhost:$TEST_NGINX_RAND_PORT_3/tls/fast/v1"
    api_key: "sk-quick-secret"
    priority: 2
    configured_models: ["gpt-test"]
routing:
  hedging: {enabled: true, after: 200ms}
  model_filters:
    min_context_length: 0
--- routed
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- ttfb_below: 0.45
--- routed_body_like: "content":"from fast"
--- routed_headers
X-Router-Channel: quick
X-Router-Hedge: won-by=quick
--- mock_log
/tls/slow/v1/chat/completions 499
/tls/fast/v1/chat/completions 200
--- mock_requests: 2
--- no_error_log
[error]



=== TEST 18: the client leaves while the first try and the hedge both wait: both upstream connections close, nothing stays in flight
--- user_files eval
">>> router_config.yaml\n" . yaml_channels(
    "  hedging:\n    enabled: true\n    after: 200ms\n",
    ["slowpoke", "slow"], ["slowtoo", "slow"])
--- routed
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- abort_after: 0.6
--- mock_log_exact
/slow/v1/chat/completions 499
/slow/v1/chat/completions 499
--- metrics_like
airouter_hedges_total 1
airouter_channel_inflight{channel="slowpoke"} 0
airouter_channel_inflight{channel="slowtoo"} 0
--- no_error_log
[alert]
[error]



=== TEST 19: after: p95 with nothing measured yet for the first candidate: the hedge starts after a second
--- user_files eval
">>> router_config.yaml\n" . yaml_channels(
    "  hedging:\n    enabled: true\n    after: p95\n",
    ["slowpoke", "slow"], ["quick", "fast"])
--- routed
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- ttfb_above: 0.95
--- ttfb_below: 1.45
--- routed_body_like: "content":"from fast"
--- routed_headers
X-Router-Channel: quick
X-Router-Hedge: won-by=quick
--- mock_log
/slow/v1/chat/completions 499
/fast/v1/chat/completions 200
--- mock_requests: 2
--- no_error_log
[error]



=== TEST 20: a hedge whose certificate does not name its host (https://127.0.0.1, a certificate for localhost) fails its TLS check before it sends anything: the first try answers
--- extra_http_config
    airouter_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
--- user_files
>>> router_config.yaml
channels:
  - id: slowpoke
    base_url: "https://localhost:$TEST_NGINX_RAND_PORT_3/tls/slow/v1"
    api_key: "sk-slowpoke-secret"
    priority: 1
    configured_models: ["gpt-test"]
  - id: quick
    base_url: "https://127.0.0.1:$TEST_NGINX_RAND_PORT_3/tls/fast/v1"
    api_key: "sk-quick-secret"
    priority: 2
    configured_models: ["gpt-test"]
routing:
  hedging: {enabled: true, after: 200ms}
  model_filters:
    min_context_length: 0
--- routed
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- ttfb_above: 1.4
--- routed_body_like: "content":"from slow"
--- routed_headers
X-Router-Channel: slowpoke
X-Router-Hedge: won-by=slowpoke
--- mock_log
/tls/slow/v1/chat/completions 200
--- mock_requests: 1
