# Hedging when an upstream never answers in time: a connection that never
# completes (the SYN dropped) is the slowest first try there is (TEST 1),
# the hedge's own connect timeout is the failure path t/913 could not
# reach (TEST 2), and a first try that times out while the hedge still
# connects hands the hedge's candidate an ordinary next try (TEST 3).
#
# The "hole" is a listening socket of this script with a backlog of one
# that never accepts: the two connections that fill its accept queue are
# made here, so nginx's SYNs to it are dropped and its connect() waits
# (state SYN-SENT in /proc/net/tcp) until a timer ends it.  Nothing in
# nginx can tell it from an unreachable host.  The other channels live on
# the nginx mock on $TEST_NGINX_RAND_PORT_1 and answer after a delay.
#
# Each block's own request is a GET of /v1/models (no upstream); the check
# sends the routed request itself, watches nginx's connection to the hole
# while it waits, then reads the access log, /metrics, the stats API and
# the error log (at debug level: no channel key may appear in any line of
# the router's; the mock, which receives the keys, logs elsewhere).
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock qw(yaml_channels chat_answer);
use Airouter::Blocks;
use Airouter::HTTP;
use Airouter::Routed;
use IO::Socket::INET ();
use IO::Select ();
use JSON::PP ();
use Time::HiRes qw(time sleep);

no_shuffle();
log_level('debug');

# /proc/net/tcp lines whose remote end is 127.0.0.1:$port in SYN-SENT
sub syn_sent {
    my ($port) = @_;
    my $want = sprintf "0100007F:%04X", $port;
    open my $fh, '<', '/proc/net/tcp' or die "/proc/net/tcp: $!";
    my $n = 0;
    while (<$fh>) {
        my @f = split;
        $n++ if defined $f[3] && $f[2] eq $want && $f[3] eq '02';
    }
    close $fh;
    return $n;
}

# The hole: (listener, port, the connections that fill its queue).  A
# probe that stays unconnected for 200 ms shows the queue is full.
sub black_hole {
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1)
        or die "hole: $!";
    my $port = $l->sockport;
    my @fill;
    for (1 .. 16) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Blocking => 0)
            or die "hole probe: $!";
        IO::Select->new($s)->can_write(0.2);
        for (1 .. 10) {
            last if $s->connected || syn_sent($port);
            sleep 0.1;              # a loaded machine: not yet either
        }
        if ($s->connected) {
            push @fill, $s;
            next;
        }
        die "hole: the probe neither connected nor waits"
            unless syn_sent($port);
        close $s;
        return ($l, $port, @fill);
    }
    die "hole: the accept queue never filled";
}

my ($hole, $hole_port, @hole_fill) = black_hole();

sub mock {
    my $fast = chat_answer("from fast");
    my $steady = chat_answer("from steady");
    return <<"_EOC_";
    log_format mock '\$uri \$status';
    log_format routed '\$airouter_channel hedged=\$airouter_hedged '
                      'attempts=\$airouter_attempts status=\$airouter_status '
                      'cost=\$airouter_cost';

    server {
        listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_1;
        default_type application/json;
        access_log logs/mock.log mock;
        error_log logs/mock_error.log info;

        location /fast/ {
            echo_read_request_body;
            echo_sleep 0.3;
            echo '$fast';
        }

        location /steady/ {
            echo_read_request_body;
            echo_sleep 1.0;
            echo '$steady';
        }
    }
_EOC_
}

# channels in priority order, "id=path"; the path "hole" is the black hole
sub channels {
    my ($after, @spec) = @_;
    my $yaml = yaml_channels("  hedging: {enabled: true, after: $after}\n",
                             map { [split /=/] } @spec);
    $yaml =~ s{http://127\.0\.0\.1:\$TEST_NGINX_RAND_PORT_1/hole/v1}
              {http://127.0.0.1:$hole_port/v1}g;
    return ">>> router_config.yaml\n$yaml";
}

add_response_body_check(sub {
    my ($block) = @_;
    return unless defined $block->routed;
    my $name = $block->name;
    my $body = '{"model": "gpt-test", "messages": '
             . '[{"role": "user", "content": "hi"}]}';

    # the routed request, and nginx's connection to the hole while it waits
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => server_port(), Timeout => 10)
        or die "connect: $!";
    my $t0 = time;
    print $s "POST /v1/chat/completions HTTP/1.0\r\nHost: localhost\r\n"
           . "Content-Type: application/json\r\n"
           . "Content-Length: " . length($body) . "\r\n\r\n$body";
    my $sel = IO::Select->new($s);
    my $waited = 0;
    until ($sel->can_read(0.01)) {
        $waited = 1 if syn_sent($hole_port);
        last if time - $t0 > 15;
    }
    my $ttfb = time - $t0;
    local $/;
    my $raw = <$s> // '';
    close $s;
    my $left = syn_sent($hole_port);

    my ($head, $content) = split /\r\n\r\n/, $raw, 2;
    my ($status) = ($head // '') =~ m{^HTTP/\S+ (\d+)};
    my %h = map { /^([^:]+):\s*(.*)$/ ? (lc $1, $2) : () }
            split /\r\n/, $head // '';

    Test::More::is($status, $block->routed_status // 200,
                   "$name - routed request answered");
    Test::More::ok($waited, "$name - nginx's connect() to the hole waited "
                   . "(SYN-SENT) while the request was served");
    Test::More::is($left, 0, "$name - no connection to the hole is left");
    my ($min, $max) = split ' ', $block->ttfb_between;
    Test::More::cmp_ok($ttfb, '>=', $min, "$name - answer not before $min s");
    Test::More::cmp_ok($ttfb, '<', $max, "$name - answer before $max s");
    my $want = $block->routed_body_like;
    chomp $want;
    Test::More::like($content, qr/$want/, "$name - the answer");

    check_headers($name, \%h, $block->routed_headers);

    if (defined(my $pats = $block->access_log_like)) {
        my @want = map { qr/$_/m } grep { length } split /\n/, $pats;
        my $text = wait_log("access.log", @want);
        Test::More::like($text, $_, "$name - access log") for @want;
        my $routed = () = $text =~ /^\S+ hedged=\S+ attempts=\d/mg;
        Test::More::is($routed, 1, "$name - one routed request in the "
                       . "access log");
    }

    if (defined(my $pats = $block->mock_log)) {
        my @want = grep { length } split /\n/, $pats;
        my $text = wait_log("mock.log", map { qr/^\Q$_\E$/m } @want);
        my @got = sort grep { length } split /\n/, $text;
        Test::More::is_deeply(\@got, [sort @want], "$name - the mock's "
                              . "requests");
    }

    check_metrics($name, $block->metrics_like);

    if (defined(my $want = $block->stats_total)) {
        my %want = map { split /=/ } split ' ', $want;
        my $total = {};
        for (1 .. 40) {
            my (undef, undef, $json) = http_request(server_port(), 'GET',
                                                    '/v1/stats/daily');
            $total = eval { JSON::PP->new->decode($json)->{total} } // {};
            last unless grep { ($total->{$_} // '') ne $want{$_} }
                        grep { $_ ne 'cost' } keys %want;
            sleep 0.05;
        }
        for my $k (sort keys %want) {
            if ($k eq 'cost') {
                Test::More::ok(abs(($total->{cost} // -1) - $want{cost})
                               < 1e-12, "$name - stats total cost "
                               . "$want{cost} (got "
                               . ($total->{cost} // 'none') . ")");
            } else {
                Test::More::is($total->{$k}, $want{$k},
                               "$name - stats total $k");
            }
        }
    }

    check_error_log($name, $block->error_log_like);

    # no channel key in any log line, at debug level
    for my $file (qw(error.log access.log mock.log)) {
        Test::More::unlike(read_log($file), qr/sk-\w+-secret/,
                           "$name - no channel key in $file");
    }
});

airouter_blocks(mock => mock(), request => "GET /v1/models",
                config => <<'_EOC_');
    location /v1/ {
        airouter;
        access_log logs/access.log routed;
    }
    location = /metrics { airouter_metrics; }
_EOC_

run_tests();

__DATA__

=== TEST 1: a first try whose connect() never completes is hedged after `after` (300 ms): the second candidate's answer is served, the waiting connection is closed, one request is counted with its hedge, the loser (its request never sent) is not billed
--- user_files eval
channels("300ms", "hole=hole", "quick=fast")
--- extra_http_config
    airouter_connect_timeout 5s;
--- routed
--- routed_body_like: "content":"from fast"
--- ttfb_between: 0.55 3
--- routed_headers
X-Router-Channel: quick
X-Router-Hedge: won-by=quick
X-Router-Attempts: 2
X-Router-Fallbacks:
X-Router-Cost: 0.00002000
--- access_log_like
^quick hedged=hedge attempts=2 status=ok cost=0\.00002000?$
--- mock_log
/fast/v1/chat/completions 200
--- metrics_like
airouter_hedges_total 1
airouter_hedge_wins_total 1
airouter_channel_hedge_wins_total{channel="quick"} 1
airouter_channel_window_attempts{channel="hole",result="error"} 0
airouter_channel_inflight{channel="hole"} 0
airouter_channel_inflight{channel="quick"} 0
--- stats_total: requests=1 errors=0 hedges=1 hedge_wins=1 cost=0.00002
--- error_log_like
no first byte from "hole" after 300 ms: hedging with "quick" model "quick-model"
hedge "quick" answered first: dropping "hole"
--- no_error_log
[error]



=== TEST 2: a hedge whose connect() never completes fails at airouter_connect_timeout (500 ms) as its channel's timeout: listed in X-Router-Fallbacks, an error in its window, its model cooled down, not billed; the first try's answer is served
--- user_files eval
channels("200ms", "steady=steady", "hole=hole")
--- extra_http_config
    airouter_connect_timeout 500ms;
--- routed
--- routed_body_like: "content":"from steady"
--- ttfb_between: 0.95 3
--- routed_headers
X-Router-Channel: steady
X-Router-Hedge: won-by=steady
X-Router-Attempts: 2
X-Router-Fallbacks: hole:timeout
X-Router-Cost: 0.00002000
--- access_log_like
^steady hedged=primary attempts=2 status=ok cost=0\.00002000?$
--- mock_log
/steady/v1/chat/completions 200
--- metrics_like
airouter_hedges_total 1
airouter_hedge_wins_total 0
airouter_channel_window_attempts{channel="hole",result="error"} 1
airouter_model_blocked{channel="hole",model="hole-model",reason="timeout"} 1
airouter_channel_inflight{channel="hole"} 0
airouter_channel_inflight{channel="steady"} 0
--- stats_total: requests=1 errors=0 hedges=1 hedge_wins=0 cost=0.00002
--- error_log_like
no first byte from "steady" after 200 ms: hedging with "hole" model "hole-model"
hedge to "hole" failed: timed out connecting or sending
hedge "hole" model "hole-model": timeout, model cooldown \d+ s
--- no_error_log
[error]



=== TEST 3: both candidates never connect: the first try's connect times out (500 ms) while the hedge still connects; the hedge's candidate is the next try on a connection of nginx's, which times out too: a 504 listing both, $airouter_hedged "none" (no try won), nothing left in flight or connecting
--- user_files eval
channels("200ms", "hole=hole", "abyss=hole")
--- extra_http_config
    airouter_connect_timeout 500ms;
--- routed
--- routed_status: 504
--- routed_body_like: "message":"All 2 attempted candidates failed: hole \(hole-model\): timeout; abyss \(abyss-model\): timeout","type":"upstream_error","code":"all_candidates_failed"
--- ttfb_between: 0.95 3
--- routed_headers
X-Router-Attempts: 2
X-Router-Fallbacks: hole:timeout, abyss:timeout
--- access_log_like
^- hedged=none attempts=2 status=timeout cost=-$
--- metrics_like
airouter_hedges_total 1
airouter_hedge_wins_total 0
airouter_channel_window_attempts{channel="hole",result="error"} 1
airouter_channel_window_attempts{channel="abyss",result="error"} 1
airouter_channel_inflight{channel="hole"} 0
airouter_channel_inflight{channel="abyss"} 0
--- stats_total: requests=1 errors=1 hedges=1 hedge_wins=0
--- error_log_like
no first byte from "hole" after 200 ms: hedging with "abyss" model "abyss-model"
hedge: "abyss" is the next try, on a new connection
