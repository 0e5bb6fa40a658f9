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
use Airouter::Mock qw(yaml_channels chat_body chat_answer);
use Airouter::Blocks;
use Airouter::HTTP;
use Airouter::Routed;
use IO::Socket::INET ();
use Time::HiRes qw(time sleep);
use Cwd ();

$ENV{TEST_NGINX_CERT_DIR} = Cwd::abs_path("t/cert");

no_shuffle();
log_level('info');

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
    my $fast = chat_answer("from fast");
    my $slow = chat_answer("from slow");
    my $medium = chat_answer("from medium");
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

add_response_body_check(sub {
    my ($block) = @_;
    return unless defined $block->routed;
    my $name = $block->name;
    my $with = $block->routed;
    chomp $with;
    my $body = '{"model": "gpt-test", ' . ($with eq '' ? '' : "$with, ")
             . '"messages": [{"role": "user", "content": "hi"}]}';

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
    check_headers($name, $h, $block->routed_headers);
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
    check_metrics($name, $block->metrics_like);
    if (defined(my $pats = $block->access_log_like)) {
        my @want = map { qr/$_/m } grep { length } split /\n/, $pats;
        my $text = wait_log("access.log", @want);
        Test::More::like($text, $_, "$name - access log") for @want;
    }
});

airouter_blocks(mock => mock(), config => api_config(),
                request => "GET /v1/models");

# What a block leaves to this preprocessor (it runs before airouter_blocks'):
#   --- channels: slowpoke=slow quick=fast   the channels in priority order,
#       id=the mock's path; --- hedging: routing.hedging (default below);
#       --- capabilities: given to every channel;
#   --- tls_hosts: localhost 127.0.0.1   the channels on the TLS mock
#       instead, each by that host name (in order), the mock's certificate
#       (for localhost) trusted;
#   --- key: tight daily_budget: 0.0003   a key of that name (and that one
#       line of YAML) authenticates the block's request and the routed one.
# The check above sends --- routed: the plain chat request with the block's
# members, if any, before its messages.
add_block_preprocessor(sub {
    my ($block) = @_;
    my $spec = $block->channels;
    return unless defined $spec && !defined $block->user_files;

    my $caps = $block->capabilities;
    my @channels = map {
        my ($id, $path) = split /=/;
        [$id, $path, defined $caps ? "    capabilities: $caps\n" : undef]
    } split ' ', $spec;
    my $yaml = yaml_channels("  hedging: "
        . ($block->hedging // "{enabled: true, after: 200ms}") . "\n",
        @channels);

    $block->set_value("extra_http_config", "    airouter_ssl_trusted_certificate "
                      . "\$TEST_NGINX_CERT_DIR/localhost.crt;\n")
        if defined $block->tls_hosts && !defined $block->extra_http_config;

    for my $host (split ' ', $block->tls_hosts // '') {
        $yaml =~ s{http://127\.0\.0\.1:\$TEST_NGINX_RAND_PORT_1/}
                  {https://$host:\$TEST_NGINX_RAND_PORT_3/tls/};
    }

    if (defined(my $key = $block->key)) {
        my ($name, $extra) = split ' ', $key, 2;
        $yaml = keys_yaml([$name, defined $extra ? "      $extra\n" : undef])
                . $yaml;
        $block->set_value("more_headers", "Authorization: Bearer sk-$name");
        $block->set_value("routed_token", "sk-$name");
    }

    $block->set_value("user_files", ">>> router_config.yaml\n$yaml");
});

run_tests();

__DATA__

=== TEST 1: a first try slow to its first byte is hedged after 200 ms: the fast candidate answers, the slow connection is dropped (499)
--- channels: slowpoke=slow quick=fast
--- routed
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
--- channels: slowpoke=slow quick=fast
--- hedging: {enabled: false, after: 200ms}
--- routed
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
--- channels: slowpoke=slowstream quick=faststream
--- routed: "stream": true
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
--- channels: slowpoke=slow quick=fast
--- capabilities: [function_calling]
--- routed: "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
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
--- channels: slowpoke=slow quick=fast
--- routed: "hedge": false
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
--- channels: steady=mediumstream slowpoke=slow
--- routed: "stream": true
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
--- channels: flaky=slowfail steady=medium
--- routed
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
--- channels: steady=medium broken=e500
--- routed
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
--- channels: slowpoke=slow
--- routed
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
--- channels: slowpoke=slow quick=fast
--- key: frugal hedge: false
--- routed
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
--- channels: slowpoke=slow quick=fast
--- key: tight daily_budget: 0.0003
--- routed: "max_tokens": 100
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
--- channels: slowpoke=slow quick=fast
--- key: roomy daily_budget: 0.01
--- routed: "max_tokens": 100
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
--- channels: slowpoke=slow quick=fast
--- capabilities: [function_calling]
--- routed: "hedge": true, "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
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
--- channels: quick=fast slowpoke=slow
--- request
POST /v1/chat/completions
{"model": "gpt-test", "hedge": "yes", "messages": [{"role": "user", "content": "hi"}]}
--- error_code: 400
--- response_body_like: "param":"hedge"



=== TEST 15: bill_loser: none: a hedged answer costs what the winner's usage says
--- channels: slowpoke=slow quick=fast
--- hedging: {enabled: true, after: 200ms, bill_loser: none}
--- routed
--- routed_headers
X-Router-Channel: quick
X-Router-Cost: 0.00002000



=== TEST 16: bill_loser: prompt (the default): the loser's prompt, as routing counted it, (5 tokens) is added at its prompt price (0.000001): 0.00002 + 0.000005
--- channels: slowpoke=slow quick=fast
--- routed
--- routed_headers
X-Router-Channel: quick
X-Router-Cost: 0.00002500



=== TEST 17: HTTPS channels: the hedge makes its own verified TLS connection (SNI localhost) and wins
--- channels: slowpoke=slow quick=fast
--- tls_hosts: localhost localhost
--- routed
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
--- channels: slowpoke=slow slowtoo=slow
--- routed
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
--- channels: slowpoke=slow quick=fast
--- hedging: {enabled: true, after: p95}
--- routed
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
--- channels: slowpoke=slow quick=fast
--- tls_hosts: localhost 127.0.0.1
--- routed
--- ttfb_above: 1.4
--- routed_body_like: "content":"from slow"
--- routed_headers
X-Router-Channel: slowpoke
X-Router-Hedge: won-by=slowpoke
--- mock_log
/tls/slow/v1/chat/completions 200
--- mock_requests: 1
