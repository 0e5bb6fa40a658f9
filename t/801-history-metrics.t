# What the request log adds up to, in the shared zone: the last hour
# minute by minute (GET /v1/admin/history: requests, errors, tokens, cost,
# p50/p95), the request duration and TTFB histograms per channel with the
# buckets of airouter_histogram_buckets, and totals since the zone was
# created, in /metrics; `promtool check metrics` accepts the exposition.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Check;
use Airouter::Control;
use Airouter::Blocks;
use Airouter::HTTP;
use Airouter::Process;
use JSON::PP ();

no_shuffle();
log_level('info');
master_on();
install_checks();

control_suite();

our @Fall = (["first", "mock:e500", 0.000001, 0.000002],
             ["second", "ok", 0.000002, 0.000004]);

our $Metrics = <<'_EOC_';
    location /v1/ { airouter; }
    location /v1/admin/ { airouter_admin; }
    location = /metrics { airouter_metrics; }
_EOC_

# "name{labels} value" lines of an exposition, as a hash
sub samples {
    my %s;
    for (split /\n/, $_[0] // '') {
        $s{$1} = $2 if /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/;
    }
    return \%s;
}

# a histogram's buckets for one channel (undef: the requests no channel
# answered, without a channel label): cumulative, ending in +Inf = count
sub histogram_ok {
    my ($s, $name, $channel, $les, $count) = @_;
    my $prev = 0;
    my $ch = defined $channel ? "channel=\"$channel\"" : '';
    my $only = $ch ne '' ? "{$ch}" : '';
    for my $le (@$les, '+Inf') {
        my $labels = join ',', grep { length } $ch, "le=\"$le\"";
        my $v = $s->{"${name}_bucket{$labels}"};
        return "no $name le=$le" unless defined $v;
        return "$name le=$le: $v < $prev" if $v < $prev;
        $prev = $v;
    }
    return "$name +Inf $prev, not $count" if $prev != $count;
    my $c = $s->{"${name}_count$only"} // -1;
    return "$name count $c, not $count" if $c != $count;
    return "$name sum missing"
        unless defined $s->{"${name}_sum$only"};
    return '';
}

# --- check_metrics: Perl code run with $body = the block's last body; it
# must be true
add_response_body_check(sub {
    my ($block, $body, $idx) = @_;
    my $code = $block->check_metrics;
    return unless defined $code;
    return unless last_request($block, $idx);
    no warnings "once";
    local $main::body = $body;
    my $ok = eval "package main; no strict 'vars'; $code";
    Test::More::ok($ok, $block->name . " - check_metrics")
        or Test::More::diag("check failed: " . ($@ || $code));
});

# --- promtool: `promtool check metrics` must accept the block's last
# body (skipped, saying why, when promtool is not installed)
add_response_body_check(sub {
    my ($block, $body, $idx) = @_;
    return unless defined $block->promtool;
    return unless last_request($block, $idx);
    my $promtool = `command -v promtool 2>/dev/null`;
    chomp $promtool;
  SKIP: {
        Test::More::skip("promtool is not installed (Debian package "
                         . "prometheus; make deps installs it)", 1)
            unless $promtool;
        my $file = Test::Nginx::Socket::server_root() . "/metrics.txt";
        open my $fh, '>', $file or die "$file: $!";
        print $fh $body;
        close $fh;
        my $out = `promtool check metrics < '$file' 2>&1`;
        my $rc = $? >> 8;
        Test::More::ok($rc == 0 && $out !~ /\S/,
                       $block->name . " - promtool check metrics")
            or Test::More::diag("promtool exit $rc:\n$out");
    }
});

run_tests();

__DATA__

=== TEST 1: the last hour: each minute's requests, errors, tokens, cost and percentiles
--- user_files eval
main::cfg(undef, @::Fall)
--- request eval
[main::chat(), main::chat(), main::chat('no-such-model'), "GET /v1/admin/history"]
--- more_headers eval
["", "", "", $::Admin]
--- error_code eval
[200, 200, 404, 200]
--- check_json
my @m = @{$j->{minutes}};
my $now = time();
my %sum;
for my $m (@m) { $sum{$_} += $m->{$_} for qw(requests errors prompt_tokens completion_tokens cost) }
my @busy = grep { $_->{requests} } @m;
@m == 60 && $j->{interval} == 60
&& $m[-1]{start} % 60 == 0 && $m[-1]{start} <= $now && $m[-1]{start} > $now - 120
&& $m[0]{start} == $m[-1]{start} - 59 * 60
&& $m[-1]{time} =~ /^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$/
&& $sum{requests} == 3 && $sum{errors} == 1
&& $sum{prompt_tokens} == 20 && $sum{completion_tokens} == 10
&& abs($sum{cost} - 2 * (10 * 0.000002 + 5 * 0.000004)) < 1e-12
&& @busy >= 1 && !grep { !defined $_->{p50_ms} || $_->{p95_ms} < $_->{p50_ms} } @busy
and !grep { $_->{requests} == 0 && defined $_->{p50_ms} } @m



=== TEST 2: the history needs the admin token
--- request
GET /v1/admin/history
--- error_code: 401



=== TEST 3: histograms per channel with the configured buckets; totals since the zone was created; no channel label where none answered
--- extra_http_config
    airouter_histogram_buckets 0.25 1 30;
--- user_files eval
main::cfg(undef, @::Fall)
--- config eval: $::Metrics
--- request eval
[main::chat(), main::chat(), main::chat('no-such-model'), "GET /metrics"]
--- more_headers eval
["", "", "", $::Admin]
--- error_code eval
[200, 200, 404, 200]
--- response_body_like eval
["Hello", "Hello", "error",
 qr/^# HELP airouter_request_duration_seconds .*\n# TYPE airouter_request_duration_seconds histogram\n/m]
--- check_metrics
my $s = main::samples($body);
my @bad = grep { length } (
    main::histogram_ok($s, 'airouter_request_duration_seconds', 'second', [0.25, 1, 30], 2),
    main::histogram_ok($s, 'airouter_ttfb_seconds', 'second', [0.25, 1, 30], 2),
    main::histogram_ok($s, 'airouter_request_duration_seconds', 'first', [0.25, 1, 30], 0),
    main::histogram_ok($s, 'airouter_request_duration_seconds', undef, [0.25, 1, 30], 1));
push @bad, "requests second" unless ($s->{'airouter_zone_requests_total{channel="second"}'} // -1) == 2;
push @bad, "requests first" unless ($s->{'airouter_zone_requests_total{channel="first"}'} // -1) == 0;
push @bad, "requests none" unless ($s->{'airouter_zone_requests_total'} // -1) == 1;
push @bad, "errors none" unless ($s->{'airouter_zone_errors_total'} // -1) == 1;
push @bad, 'channel=""' if $body =~ /channel=""/;
push @bad, "errors second" unless ($s->{'airouter_zone_errors_total{channel="second"}'} // -1) == 0;
push @bad, "prompt" unless ($s->{'airouter_zone_tokens_total{channel="second",type="prompt"}'} // -1) == 20;
push @bad, "completion" unless ($s->{'airouter_zone_tokens_total{channel="second",type="completion"}'} // -1) == 10;
push @bad, "cost" unless abs(($s->{'airouter_zone_cost_usd_total{channel="second"}'} // -1) - 0.00008) < 1e-9;
push @bad, "ttfb of none" if exists $s->{'airouter_ttfb_seconds_count'}
    && $s->{'airouter_ttfb_seconds_count'} != 0;
push @bad, "le 0.5" if exists $s->{'airouter_request_duration_seconds_bucket{channel="second",le="0.5"}'};
!@bad or do { print STDERR "# @bad\n"; 0 }
--- promtool



=== TEST 4: promtool accepts /metrics after a fallback, a stream and a refusal, with the default buckets
--- user_files eval
main::cfg(undef, @::Fall, ["third", "stream", 0.000001, 0.000002, "    configured_models: [\"s-model\"]\n"])
--- config eval: $::Metrics
--- request eval
[main::chat(), "POST /v1/chat/completions\n{\"model\": \"s-model\", \"stream\": true, \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
 main::chat('no-such-model'), "GET /metrics"]
--- more_headers eval
["", "", "", $::Admin]
--- error_code eval
[200, 200, 404, 200]
--- response_body_like eval
["Hello", "data:", "error", 'airouter_request_duration_seconds_bucket\{channel="third",le="0.05"\} \d+\n.*le="120"\} 1\n.*le="\+Inf"\} 1\n']
--- promtool



=== TEST 5: bad buckets are refused
--- http_config
    airouter_config $TEST_NGINX_HTML_DIR/router_config.yaml;
    airouter_histogram_buckets 0.5 0.25;
--- config
    location /v1/ { airouter; }
--- must_die
--- error_log
histogram bucket "0.25" is not above "0.5": buckets go in increasing order



=== TEST 6: a bucket is seconds with at most 3 decimals
--- http_config
    airouter_config $TEST_NGINX_HTML_DIR/router_config.yaml;
    airouter_histogram_buckets 0.0005 1;
--- config
    location /v1/ { airouter; }
--- must_die
--- error_log
invalid histogram bucket "0.0005": seconds above 0, at most 3 decimals



=== TEST 7: a reload keeps the totals, the histograms and the minutes
--- user_files eval
main::cfg(undef, @::Fall)
--- config eval: $::Metrics
--- request eval
[main::chat(), "GET /metrics"]
--- more_headers eval
["", $::Admin]
--- check_metrics
my $port = $ENV{TEST_NGINX_SERVER_PORT};
my $before = main::samples($body);
Airouter::Process::hup_and_wait();
my ($st) = Airouter::HTTP::http_request($port, 'POST', '/v1/chat/completions',
    body => $Airouter::Control::Chat);
my (undef, undef, $text) = Airouter::HTTP::http_request($port, 'GET', '/metrics', token => 'adm-secret');
my (undef, undef, $hist) = Airouter::HTTP::http_request($port, 'GET', '/v1/admin/history', token => 'adm-secret');
my $after = main::samples($text);
my $n = 0;
$n += $_->{requests} for @{ JSON::PP::decode_json($hist)->{minutes} };
my $k = 'airouter_zone_requests_total{channel="second"}';
my $c = 'airouter_request_duration_seconds_count{channel="second"}';
$st == 200 && $before->{$k} == 1 && $after->{$k} == 2
&& $before->{$c} == 1 && $after->{$c} == 2 && $n == 2
or do { print STDERR "# $st $before->{$k} $after->{$k} $before->{$c} $after->{$c} $n\n"; 0 }
