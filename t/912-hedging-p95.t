# Hedging's `after: p95` from a measured p95: the hedge starts when the
# first candidate's time to first byte, as live state measured it, passes
# its 95th percentile (t/910 TEST 19 has the unmeasured case: a second).
#
# The first candidate ("steady", /steady/ on $TEST_NGINX_RAND_PORT_1)
# waits as long as the request's message says: "warm-100" 0.1 s,
# "warm-400" 0.4 s, anything else 2 s.  It is a front that logs (a
# dropped connection shows as a 499) before a back that sleeps.  The
# second ("quick") answers at once.
#
# A block's own request is a GET of /v1/models; the check sends `warmup`
# requests with "hedge": false (only the first candidate answers them, so
# each is one TTFB sample of it), then one slow request with hedging on,
# and reads the hedge's start from the info line the router logs ("no
# first byte from ... after N ms").
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock qw(yaml_channels chat_answer);
use Airouter::Blocks;
use Airouter::HTTP;
use Time::HiRes qw(time sleep);

no_shuffle();
log_level('info');

sub mock {
    my $fast = chat_answer("from fast");
    my $steady = chat_answer("from steady");
    return <<"_EOC_"
    log_format mock '\$uri \$status';

    map \$request_body \$steady_delay {
        ~warm-100  0.1;
        ~warm-400  0.4;
        default    2;
    }

    server {
        listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_1;
        default_type application/json;
        access_log off;

        location /fast/ {
            access_log logs/mock.log mock;
            echo_read_request_body;
            echo '$fast';
        }

        location /steady/ {
            proxy_pass http://127.0.0.1:\$TEST_NGINX_RAND_PORT_1/back/;
            proxy_buffering off;
            access_log logs/mock.log mock;
        }

        location /back/ {
            echo_read_request_body;
            echo_sleep \$steady_delay;
            echo '$steady';
        }
    }
_EOC_
}

sub body {
    my ($text, $hedge) = @_;
    return '{"model": "gpt-test",'
        . (defined $hedge ? ' "hedge": ' . $hedge . ',' : '')
        . ' "messages": [{"role": "user", "content": "' . $text . '"}]}';
}

# the upper bound (ms) of the live histogram's bucket that holds ms:
# 10 * 2^(i/2) (airouter_rank.h)
sub bucket_top {
    my ($ms) = @_;
    my $i = 0;
    $i++ while 10 * 2 ** ($i / 2) < $ms && $i < 19;
    return 10 * 2 ** ($i / 2);
}

add_response_body_check(sub {
    my ($block) = @_;
    return unless defined $block->warmup;
    my $name = $block->name;
    my ($text, $n) = $block->warmup =~ /^(\S+) x (\d+)/;

    # the samples: the client's time of each, at least the upstream's TTFB
    my ($max, $all_steady) = (0, 1);
    for (1 .. $n) {
        my $t0 = time;
        my ($status, $h) = http_request(server_port(), 'POST',
            '/v1/chat/completions', type => 'application/json',
            body => body($text, 'false'));
        my $ms = (time - $t0) * 1000;
        $max = $ms if $ms > $max;
        $all_steady = 0
            unless $status == 200 && ($h->{'x-router-channel'} // '') eq 'steady'
                   && !defined $h->{'x-router-hedge'};
    }
    Test::More::ok($all_steady, "$name - the $n samples were answered by "
                   . "steady alone");

    my $t0 = time;
    my ($status, $h, $content) = http_request(server_port(), 'POST',
        '/v1/chat/completions', type => 'application/json',
        body => body("the slow one"));
    my $took = time - $t0;

    Test::More::is($status, 200, "$name - the slow request answered");
    Test::More::is($h->{'x-router-channel'}, 'quick', "$name - by the hedge");
    Test::More::is($h->{'x-router-hedge'}, 'won-by=quick',
                   "$name - X-Router-Hedge");
    Test::More::like($content, qr/"content":"from fast"/, "$name - answer");

    my $after;
    for (1 .. 40) {
        ($after) = join('', block_error_log())
            =~ /no first byte from "steady" after (\d+) ms: hedging with "quick"/;
        last if defined $after;
        sleep 0.05;
    }
    Test::More::ok(defined $after, "$name - the hedge's start is logged");
    $after //= -1;

    my ($lo, $hi) = split ' ', $block->p95_within;
    # every sample took at least the mock's delay: the p95 cannot be
    # below the bottom of that delay's bucket, nor above the top of the
    # slowest sample's bucket
    Test::More::cmp_ok($after, '>=', $lo,
                       "$name - the hedge waited the measured p95 ($after ms)");
    Test::More::cmp_ok($after, '<=', bucket_top($max) + 1,
                       "$name - not more than the slowest sample's bucket "
                       . "(" . int($max) . " ms)");
    Test::More::cmp_ok($after, '<', $hi,
                       "$name - well before the unmeasured default (1000 ms)");
    Test::More::cmp_ok($took, '>=', $after / 1000,
                       "$name - no answer before the hedge started");
    Test::More::cmp_ok($took, '<', 1.8,
                       "$name - the hedge answered, not the 2 s first try");

    my $log = '';
    for (1 .. 40) {
        open my $fh, '<', server_root() . "/logs/mock.log" or last;
        local $/;
        $log = <$fh>;
        close $fh;
        last if $log =~ m{^/steady/v1/chat/completions 499$}m;
        sleep 0.05;
    }
    Test::More::like($log, qr{^/steady/v1/chat/completions 499$}m,
                     "$name - the first try's connection was dropped");
});

airouter_blocks(mock => mock(), request => "GET /v1/models",
                config => "    location /v1/ { airouter; }\n",
                user_files => ">>> router_config.yaml\n" . yaml_channels(
                    "  hedging:\n    enabled: true\n    after: p95\n",
                    ["steady", "steady"], ["quick", "fast"]));

run_tests();

__DATA__

=== TEST 1: after: p95 with samples of 100 ms: the hedge starts at their measured p95 (at least 80 ms, the bottom of their bucket), well before the 1 s default
--- warmup: warm-100 x 12
--- p95_within: 80 900
--- no_error_log
[error]



=== TEST 2: the same with samples of 400 ms: the hedge waits longer (their p95, at least 320 ms), still before the 1 s default
--- warmup: warm-400 x 8
--- p95_within: 320 1000
--- no_error_log
[error]
