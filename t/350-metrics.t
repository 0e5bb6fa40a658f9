# GET /metrics (airouter_metrics): Prometheus text format 0.0.4 from the
# shared zone — today's counters per channel, model and API key with exact
# values, live state (cooldowns, blacklists, windows), the catalogue and the
# zone; label values escaped; the admin token when admin is enabled; with
# two workers, one sum.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Check;
use Airouter::Blocks;
use Time::HiRes ();
use POSIX ();

no_shuffle();
workers(2);
master_on();
log_level('info');
install_checks();

our $Admin = "Authorization: Bearer adm-secret";
our $Key = "Authorization: Bearer sk-team-a";

sub chat { "POST /v1/chat/completions\n" . chat_body($_[0]) }

# channels: [id, base (kind on the counting upstream, "mock:kind" on the
# mock one, "N:kind" on $TEST_NGINX_RAND_PORT_N), price in and out per
# token, extra yaml]; $top goes before "channels:"
sub cfg {
    my ($top, @channels) = @_;
    my $y = ($top // '') . "channels:\n";
    my $prio = 1;
    for my $c (@channels) {
        my ($id, $kind, $in, $out, $extra) = @$c;
        my $port = $kind =~ s/^mock:// ? 1 : $kind =~ s/^(\d):// ? $1 : 3;
        (my $model = "$id-model") =~ s/[^a-z0-9-]//g;
        $y .= <<"_EOY_";
  - id: '$id'
    base_url: "http://127.0.0.1:\$TEST_NGINX_RAND_PORT_$port/$kind/v1"
    api_key: "sk-up-$prio"
    priority: $prio
_EOY_
        $y .= "    cost_per_token: {input: $in, output: $out}\n" if defined $in;
        $y .= $extra // "    configured_models: [\"$model\"]\n";
        $prio++;
    }
    return ">>> router_config.yaml\n$y"
        . "routing:\n  default_strategy: cost_first\n  model_filters:\n    min_context_length: 0\n";
}

our $Auth = <<'_EOY_';
auth:
  enabled: true
  api_keys:
    - name: team-a
      key: "sk-team-a"
  admin:
    enabled: true
    admin_token: "adm-secret"
_EOY_

our @Two = (["first", "ok", 0.000001, 0.000002], ["second", "ok", 0.000002, 0.000004]);

#
# The exposition as Prometheus reads it: returns ({ 'name{labels}' =>
# value }, [problems]).  Every line is a comment or a sample; every family
# has one HELP and one TYPE, before its samples, which are contiguous (a
# histogram's _bucket, _sum and _count samples are its family's); a
# counter's name ends in _total; no sample twice.
#
sub parse_metrics {
    my ($body) = @_;
    my (%s, @bad, %help, %type, %done, %kind);
    my $lv = qr/(?:[^"\\\n]|\\[\\"n])*/;
    my $cur = '';
    $body //= '';
    push @bad, "no final newline" unless $body =~ /\n\z/;
    my $copy = $body;
    push @bad, "not UTF-8" unless utf8::decode($copy);
    for my $line (split /\n/, $body) {
        if ($line =~ /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/) {
            my ($what, $name, $rest) = ($1, $2, $3);
            my $seen = $what eq 'HELP' ? \%help : \%type;
            push @bad, "$what $name twice" if $seen->{$name}++;
            push @bad, "$what $name after its samples" if $done{$name};
            if ($what eq 'TYPE') {
                $kind{$name} = $rest;
                push @bad, "TYPE $name: $rest"
                    unless $rest =~ /^(counter|gauge|untyped|histogram|summary)$/;
                push @bad, "counter $name without _total"
                    if $rest eq 'counter' && $name !~ /_total$/;
            }
            next;
        }
        if ($line =~ /^([a-zA-Z_:][a-zA-Z0-9_:]*)((?:\{[a-zA-Z_][a-zA-Z0-9_]*="$lv"(?:,[a-zA-Z_][a-zA-Z0-9_]*="$lv")*\})?) (-?[0-9]+(?:\.[0-9]+)?)$/) {
            my ($name, $labels, $v) = ($1, $2, $3);
            # a histogram's _bucket, _sum and _count are its family's
            my $fam = $name;
            $fam = $1 if $name =~ /^(.+)_(?:bucket|sum|count)$/
                         && ($kind{$1} // '') eq 'histogram';
            push @bad, "$name has no TYPE" unless $type{$fam};
            push @bad, "$name has no HELP" unless $help{$fam};
            push @bad, "$name not contiguous" if $done{$fam} && $cur ne $fam;
            push @bad, "$name$labels twice" if exists $s{"$name$labels"};
            $done{$fam} = 1;
            $cur = $fam;
            $s{"$name$labels"} = $v;
            next;
        }
        push @bad, "bad line: $line";
    }
    push @bad, "HELP without TYPE: $_" for grep { !$type{$_} } keys %help;
    return (\%s, \@bad);
}

# get_json, given up after 5 s: (status, headers, body)
sub timed_get {
    my @args = @_;
    my @r = (0, {}, '');
    local $SIG{ALRM} = sub { die "timed out\n" };
    alarm 5;
    eval { @r = get_json(@args) };
    alarm 0;
    return @r;
}

# GET /metrics on a fresh connection: its body
sub scrape { return (timed_get($_[0], '/metrics', 'adm-secret'))[2] }

# the two-worker checks' listener on $TEST_NGINX_RAND_PORT_5: reuseport,
# so each fresh connection may reach either worker, which X-Worker names
our $Workers = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_5 reuseport;
        add_header X-Worker $pid always;
        location /v1/admin/ { airouter_admin; }
        location /v1/ { airouter; }
        location = /metrics { airouter_metrics; }
    }
_EOC_

# a chat body for $model POSTed to $path there with key sk-team-a
sub worker_post {
    my ($path, $model) = @_;
    return timed_get($ENV{TEST_NGINX_RAND_PORT_5}, $path, 'sk-team-a',
                     'POST', chat_body($model));
}

sub metrics_miss {
    my ($s, $want) = @_;
    my @miss;
    for my $line (grep { /\S/ } split /\n/, $want) {
        if ($line =~ /^!(\S+)$/) {
            push @miss, "present: $1" if exists $s->{$1};
            next;
        }
        my ($k, $v) = $line =~ /^(.+) (\S+)$/;
        if (!exists $s->{$k}) {
            push @miss, "missing: $k";
        } elsif (abs($s->{$k} - $v) > 1e-12) {
            push @miss, "$k is $s->{$k}, not $v";
        }
    }
    return @miss;
}

# --- metrics: "name{labels} value" lines that must be in the body of the
# block's last request, equal within 1e-12; "!name{labels}" must be absent.
# A request is counted in its log phase, after its answer has gone: with
# two workers the scrape that follows may come first, so on a mismatch
# /metrics is scraped again, for up to 2 s, and must then match.
# --- metrics_secret: strings that must not appear in it
add_response_body_check(sub {
    my ($block, $body, $idx) = @_;
    my $want = $block->metrics;
    return unless defined $want;
    return unless last_request($block, $idx);
    my ($s, $bad) = parse_metrics($body);
    Test::More::ok(!@$bad, $block->name . " - the exposition parses")
        or Test::More::diag(join "\n", @$bad[0 .. ($#$bad < 9 ? $#$bad : 9)]);
    my @miss = metrics_miss($s, $want);
    for (1 .. 10) {
        last unless @miss;
        Time::HiRes::sleep(0.2);
        my $text = scrape($ENV{TEST_NGINX_SERVER_PORT});
        ($s) = parse_metrics($text);
        $body = $text;
        @miss = metrics_miss($s, $want);
    }
    Test::More::ok(!@miss, $block->name . " - metrics")
        or Test::More::diag(join("\n", @miss) . "\n" . substr($body, 0, 6000));
    for my $secret (grep { length } split /\n/, $block->metrics_secret // '') {
        Test::More::ok(index($body, $secret) < 0,
                       $block->name . " - no \"$secret\" in the metrics");
    }
});

# --- workers_sum: N chats on fresh connections to the reuseport listener
# ($TEST_NGINX_RAND_PORT_5), answered by at least two workers; then every
# one of 10 scrapes, whichever worker answers, counts N more requests than
# a scrape before them
add_response_body_check(sub {
    my ($block, $body, $idx) = @_;
    my $want = $block->workers_sum;
    return unless defined $want;
    return unless last_request($block, $idx);
    # the block's own requests, once their log phases have run
    Time::HiRes::sleep(0.3);
    my ($before) = parse_metrics(scrape($ENV{TEST_NGINX_SERVER_PORT}));
    my $chats = $want + 0;
    my (%pids, @bad);
    for (1 .. $chats) {
        my ($st, $h) = worker_post('/v1/chat/completions', 'first-model');
        $pids{$h->{'x-worker'} // '?'}++;
        push @bad, "chat $st" if $st != 200;
    }
    Test::More::ok(!@bad && keys %pids >= 2,
                   $block->name . " - chats answered by two workers")
        or Test::More::diag(join(", ", @bad) . " workers: " . join(", ", keys %pids));
    # the last chat's log phase may still run when its answer is read
    Time::HiRes::sleep(0.3);
    my %scrapers;
    @bad = ();
    for (1 .. 10) {
        my ($st, $h, $text) = timed_get($ENV{TEST_NGINX_RAND_PORT_5},
                                        '/metrics', 'adm-secret');
        $scrapers{$h->{'x-worker'} // '?'}++;
        my ($s) = parse_metrics($text);
        for my $k ('airouter_requests_total', 'airouter_channel_requests_total{channel="first"}',
                   'airouter_key_requests_total{key="team-a"}',
                   'airouter_model_requests_total{model="first-model"}') {
            my $got = $s->{$k} // 'none';
            my $exp = ($before->{$k} // 0) + $chats;
            push @bad, "$k: $got, not $exp" if $got ne $exp;
        }
        my $tok = $s->{'airouter_channel_tokens_total{channel="first",type="prompt"}'} // 'none';
        push @bad, "prompt tokens $tok" if $tok ne 10 * $s->{'airouter_requests_total'};
    }
    Test::More::ok(!@bad, $block->name . " - every scrape sums every worker")
        or Test::More::diag(join "\n", @bad);
    Test::More::ok(keys %scrapers >= 2, $block->name . " - scraped from two workers")
        or Test::More::diag(join ", ", keys %scrapers);
});

# --- workers_race: N chats sent at once by 4 clients on fresh connections
# to the reuseport listener ($TEST_NGINX_RAND_PORT_5), so that both
# workers' log phases meet on the zone; then the usage counters, the
# history's totals and histograms (ngx_http_airouter_history.c) and the
# request log ring (its newest id and its records since) must each have
# counted every one of them exactly once, whichever worker is asked
sub race_state {
    my ($s) = parse_metrics(scrape($ENV{TEST_NGINX_RAND_PORT_5}));
    my ($st, undef, $body) = timed_get($ENV{TEST_NGINX_RAND_PORT_5},
                                       '/v1/admin/requests?limit=1', 'adm-secret');
    my ($last) = ($body // '') =~ /"last":\s*(\d+)/;
    my %n = (last => $last // -1);
    for my $k ('airouter_requests_total', 'airouter_channel_requests_total{channel="first"}',
               'airouter_key_requests_total{key="team-a"}',
               'airouter_zone_requests_total{channel="first"}',
               'airouter_request_duration_seconds_count{channel="first"}',
               'airouter_channel_tokens_total{channel="first",type="prompt"}',
               'airouter_model_window_attempts{channel="first",model="first-model",result="ok"}',
               'airouter_model_inflight{channel="first",model="first-model"}') {
        $n{$k} = $s->{$k} // 0;
    }
    return \%n;
}

add_response_body_check(sub {
    my ($block, $body, $idx) = @_;
    my $want = $block->workers_race;
    return unless defined $want;
    return unless last_request($block, $idx);
    Time::HiRes::sleep(0.3);
    my $before = race_state();
    my $chats = $want + 0;
    my @kids;
    for my $c (1 .. 4) {
        my $pid = fork();
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            my $bad = 0;
            for (1 .. $chats / 4) {
                my ($st) = worker_post('/v1/chat/completions', 'first-model');
                $bad++ if $st != 200;
            }
            POSIX::_exit($bad ? 1 : 0);
        }
        push @kids, $pid;
    }
    my $failed = 0;
    for my $pid (@kids) {
        waitpid($pid, 0);
        $failed++ if $?;
    }
    Test::More::ok(!$failed, $block->name . " - every chat answered 200")
        or Test::More::diag("$failed clients saw a failure");
    # the last chats' log phases may still run when their answers are read
    my @bad;
    for my $try (1 .. 10) {
        Time::HiRes::sleep(0.3);
        my $after = race_state();
        @bad = ();
        for my $k (sort keys %$after) {
            my $exp = $before->{$k} + ($k =~ /inflight/ ? 0
                                       : $k =~ /tokens/ ? 10 * $chats : $chats);
            push @bad, "$k: $after->{$k}, not $exp" if $after->{$k} != $exp;
        }
        last unless @bad;
    }
    Test::More::ok(!@bad, $block->name . " - no update lost by either worker")
        or Test::More::diag(join "\n", @bad);
    my ($st, undef, $list) = timed_get($ENV{TEST_NGINX_RAND_PORT_5},
        "/v1/admin/requests?limit=1000&since=$before->{last}", 'adm-secret');
    my @ids = ($list // '') =~ /"id":\s*(\d+)/g;
    my %seen = map { $_ => 1 } @ids;
    my @missing = grep { !$seen{$_} } $before->{last} + 1 .. $before->{last} + $chats;
    Test::More::ok(@ids == $chats && !@missing,
                   $block->name . " - the request log holds each chat once")
        or Test::More::diag(scalar(@ids) . " records; missing ids: @missing");
});

# --- workers_route: CHANNEL MODEL: 40 chats for MODEL on fresh connections
# to the reuseport listener ($TEST_NGINX_RAND_PORT_5), answered by at
# least two workers: every one by CHANNEL at its first try (no
# X-Router-Fallbacks), and as many /v1/route explanations, each ranking
# CHANNEL alone ("available":1: the ranking itself kept the others away,
# not the try that would have found them blocked)
add_response_body_check(sub {
    my ($block, $body, $idx) = @_;
    my $want = $block->workers_route;
    return unless defined $want;
    return unless last_request($block, $idx);
    my ($channel, $model) = split ' ', $want;
    my (%pids, @bad);
    for (1 .. 40) {
        my ($st, $h) = worker_post('/v1/chat/completions', $model);
        $pids{$h->{'x-worker'} // '?'}++;
        push @bad, "$st " . ($h->{'x-router-channel'} // 'none')
            . (defined $h->{'x-router-fallbacks'} ? " after $h->{'x-router-fallbacks'}" : '')
            if $st != 200 || ($h->{'x-router-channel'} // '') ne $channel
               || defined $h->{'x-router-fallbacks'};
        my ($rst, $rh, $rbody) = worker_post('/v1/route', $model);
        $pids{$rh->{'x-worker'} // '?'}++;
        push @bad, "route $rst " . substr($rbody // '', 0, 200)
            if $rst != 200 || ($rbody // '') !~ /"available":\s*1\b/;
    }
    Test::More::ok(!@bad, $block->name . " - every chat answered and ranked by $channel alone")
        or Test::More::diag(scalar(@bad) . " wrong, first: " . join("\n", @bad[0 .. ($#bad < 2 ? $#bad : 2)]));
    Test::More::ok(keys %pids >= 2, $block->name . " - by more than one worker")
        or Test::More::diag(join ", ", keys %pids);
});

# --- workers_inflight: CHANNEL MODEL: the model's entries exist (the
# block's requests ran), so each try takes the live state's lock-free way
# in (ngx_http_airouter_live_enter()); 4 slow chats (the mock's /slow/, 2 s)
# on fresh connections to the reuseport listener ($TEST_NGINX_RAND_PORT_5)
# are in flight at once, on both workers: every scrape meanwhile shows the
# model's in-flight count at 4, and after the answers at 0 again
add_response_body_check(sub {
    my ($block, $body, $idx) = @_;
    my $want = $block->workers_inflight;
    return unless defined $want;
    return unless last_request($block, $idx);
    my ($channel, $model) = split ' ', $want;
    my $name = "airouter_model_inflight{channel=\"$channel\",model=\"$model\"}";
    my @kids;
    for my $c (1 .. 4) {
        my $pid = fork();
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            my ($st) = worker_post('/v1/chat/completions', $model);
            POSIX::_exit($st == 200 ? 0 : 1);
        }
        push @kids, $pid;
    }
    my (@during, %scrapers);
    for (1 .. 30) {
        Time::HiRes::sleep(0.05);
        my (undef, $h, $b) = timed_get($ENV{TEST_NGINX_RAND_PORT_5},
                                       '/metrics', 'adm-secret');
        my ($s) = parse_metrics($b);
        $scrapers{$h->{'x-worker'} // '?'}++;
        push @during, $s->{$name} // 'none';
        last if @during >= 4 && $during[-1] eq '4' && keys %scrapers >= 2;
    }
    my $failed = 0;
    for my $pid (@kids) {
        waitpid($pid, 0);
        $failed++ if $?;
    }
    Test::More::ok(!$failed, $block->name . " - every slow chat answered 200");
    Test::More::is($during[-1], '4', $block->name . " - 4 in flight while they run")
        or Test::More::diag("scrapes: @during");
    my ($s) = parse_metrics(scrape($ENV{TEST_NGINX_RAND_PORT_5}));
    Test::More::is($s->{$name} // 'none', '0', $block->name . " - 0 after them");
});

airouter_blocks(mock => mock_http_config() . count_http_config(),
                config => <<'_EOC_',
    location /v1/ { airouter; }
    location = /metrics { airouter_metrics; }
_EOC_
                user_files => sub { cfg($::Auth, @::Two) });

run_tests();

__DATA__

=== TEST 1: three chats: exact requests, tokens and cost per channel, model and key
--- request eval
[main::chat("first-model"), main::chat("first-model"), main::chat("first-model"), "GET /metrics"]
--- more_headers eval
[$::Key, $::Key, $::Key, $::Admin]
--- response_headers_like eval
["X-Router-Channel: first", "X-Router-Channel: first", "X-Router-Channel: first",
 'Content-Type: text/plain; version=0\.0\.4; charset=utf-8']
--- metrics
airouter_requests_total 3
airouter_errors_total 0
airouter_tokens_total{type="prompt"} 30
airouter_tokens_total{type="completion"} 15
airouter_cost_usd_total 0.00006
airouter_unauthorized_total 0
airouter_throttled_total 0
airouter_channel_requests_total{channel="first"} 3
airouter_channel_requests_total{channel="second"} 0
airouter_channel_errors_total{channel="first"} 0
airouter_channel_tokens_total{channel="first",type="prompt"} 30
airouter_channel_tokens_total{channel="first",type="completion"} 15
airouter_channel_tokens_total{channel="second",type="prompt"} 0
airouter_channel_cost_usd_total{channel="first"} 0.00006
airouter_channel_cost_usd_total{channel="second"} 0
airouter_model_requests_total{model="first-model"} 3
airouter_model_tokens_total{model="first-model",type="prompt"} 30
airouter_model_tokens_total{model="first-model",type="completion"} 15
airouter_model_cost_usd_total{model="first-model"} 0.00006
!airouter_model_requests_total{model="second-model"}
airouter_key_requests_total{key="team-a"} 3
airouter_key_errors_total{key="team-a"} 0
airouter_key_tokens_total{key="team-a",type="prompt"} 30
airouter_key_tokens_total{key="team-a",type="completion"} 15
airouter_key_cost_usd_total{key="team-a"} 0.00006
airouter_key_throttled_total{key="team-a"} 0
airouter_channel_blocked{channel="first",reason="none"} 0
airouter_channel_window_attempts{channel="first",result="ok"} 3
airouter_channel_window_attempts{channel="first",result="error"} 0
airouter_channel_window_attempts{channel="second",result="ok"} 0
airouter_channel_inflight{channel="first"} 0
airouter_model_inflight{channel="first",model="first-model"} 0
!airouter_channel_ttfb_seconds{channel="first"}
airouter_model_window_attempts{channel="first",model="first-model",result="ok"} 3
airouter_model_blocked{channel="first",model="first-model",reason="none"} 0
!airouter_model_blocked{channel="second",model="second-model",reason="none"}
airouter_channels{state="total"} 2
airouter_channels{state="enabled"} 2
airouter_catalog_models 2
airouter_catalog_channels 2
airouter_catalog_channel_models{channel="first"} 1
airouter_zone_size_bytes 16777216
--- metrics_secret
sk-team-a
sk-up-
adm-secret
--- response_body_like eval
["Hello", "Hello", "Hello", 'airouter_zone_used_bytes [1-9]\d*\n']



=== TEST 2: with the admin API enabled, /metrics wants the admin token; GET and HEAD only
--- request eval
["GET /metrics", "GET /metrics", "GET /metrics", "HEAD /metrics", "POST /metrics\n{}"]
--- more_headers eval
["", $::Key, $::Admin, $::Admin, $::Admin]
--- error_code eval
[401, 401, 200, 200, 405]
--- response_body_like eval
['"code":"invalid_api_key"', '"code":"invalid_api_key"', '^# HELP airouter_info ', '^$', '405']



=== TEST 3: without admin, /metrics is nginx's to guard (allow/deny); the counters see refused tokens
--- user_files eval
main::cfg("auth:\n  enabled: true\n  api_keys:\n    - name: team-a\n      key: \"sk-team-a\"\n", @::Two)
--- config
    location /v1/ { airouter; }
    location = /metrics { airouter_metrics; }
    location = /closed { deny all; airouter_metrics; }
--- request eval
[main::chat("first-model"), "GET /closed", "GET /metrics"]
--- more_headers eval
["Authorization: Bearer wrong", "", ""]
--- error_code eval
[401, 403, 200]
--- metrics
airouter_unauthorized_total 1
airouter_requests_total 0
airouter_key_requests_total{key="team-a"} 0



=== TEST 4: a channel failing with 503 shows errors and its model's cooldown; a revoked key blacklists its channel
--- user_files eval
main::cfg($::Auth, ["busy", "mock:e503", 0.000001, 0.000002], ["revoked", "mock:e401", 0.0000001, 0.0000001],
          ["good", "ok", 0.000001, 0.000002, "    configured_models: [\"revoked-model\"]\n"])
--- request eval
[main::chat("busy-model"), main::chat("revoked-model"), "GET /metrics"]
--- more_headers eval
[$::Key, $::Key, $::Admin]
--- error_code eval
[503, 200, 200]
--- metrics
airouter_requests_total 2
airouter_errors_total 1
airouter_key_errors_total{key="team-a"} 1
airouter_channel_requests_total{channel="busy"} 0
airouter_channel_cost_usd_total{channel="busy"} 0
!airouter_model_requests_total{model="busy-model"}
airouter_channel_window_attempts{channel="busy",result="error"} 1
airouter_channel_window_attempts{channel="revoked",result="error"} 1
airouter_channel_requests_total{channel="good"} 1
airouter_channel_errors_total{channel="good"} 0
airouter_model_blocked{channel="busy",model="busy-model",reason="server_error"} 1
airouter_model_window_attempts{channel="busy",model="busy-model",result="error"} 1
airouter_model_window_attempts{channel="busy",model="busy-model",result="ok"} 0
airouter_channel_blocked{channel="busy",reason="none"} 0
airouter_channel_blocked{channel="revoked",reason="invalid_api_key"} 1
airouter_channel_blocked{channel="good",reason="none"} 0
airouter_model_blocked{channel="good",model="revoked-model",reason="none"} 0
--- response_body_like eval
['"error"', "Hello", 'airouter_model_blocked_seconds\{channel="busy",model="busy-model"\} [1-9]\d*\n(.|\n)*airouter_channel_blocked_seconds\{channel="revoked"\} [1-9]\d*\n|airouter_channel_blocked_seconds\{channel="revoked"\} [1-9]\d*\n(.|\n)*airouter_model_blocked_seconds\{channel="busy",model="busy-model"\} [1-9]\d*\n']



=== TEST 5: label values are escaped: backslash, double quote
--- user_files eval
main::cfg("auth:\n  enabled: true\n  api_keys:\n    - name: \"we\\\"ird\\\\key\"\n      key: \"sk-weird\"\n",
          ["odd\"ch\\an", "ok", 0.000001, 0.000002])
--- request eval
[main::chat("oddchan-model"), "GET /metrics"]
--- more_headers eval
["Authorization: Bearer sk-weird", ""]
--- metrics
airouter_key_requests_total{key="we\"ird\\key"} 1
airouter_channel_requests_total{channel="odd\"ch\\an"} 1
airouter_channel_tokens_total{channel="odd\"ch\\an",type="completion"} 5
airouter_model_window_attempts{channel="odd\"ch\\an",model="oddchan-model",result="ok"} 1
--- metrics_secret
sk-weird



=== TEST 6: with two workers, every scrape shows the sum of what both workers counted
--- extra_http_config eval
$::Workers
--- request eval
[main::chat("first-model"), "GET /metrics"]
--- more_headers eval
[$::Key, $::Admin]
--- metrics
airouter_requests_total 1
--- workers_sum: 40



=== TEST 7: discovery state per channel; Redis link when configured (down: 0)
--- user_files eval
main::cfg(undef, @::Two)
--- extra_http_config
    airouter_redis 127.0.0.1:$TEST_NGINX_RAND_PORT_2;
--- request
GET /metrics
--- metrics
airouter_redis_up 0
airouter_discovery_running 0
airouter_catalog_generation 1
airouter_catalog_models 2
--- response_body_like: airouter_discovery_state\{channel="first",state="(ok|pending|configured_models)"\} 1\n



=== TEST 8: no airouter_redis, no Redis family; the strategy in force is labelled
--- user_files eval
main::cfg(undef, @::Two)
--- request
GET /metrics
--- response_body_unlike: airouter_redis
--- metrics
airouter_info{version="0.1.0",strategy="cost_first"} 1



=== TEST 9: latency: the moving averages of a (channel, model), in seconds
--- user_files eval
main::cfg(undef, ["slowish", "6:delay", 0.000001, 0.000002])
--- extra_http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_6;
        default_type application/json;
        location /delay/ {
            echo_read_request_body;
            echo_sleep 0.3;
            echo '{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}';
        }
    }
--- request eval
[main::chat("slowish-model"), "GET /metrics"]
--- metrics
airouter_model_window_attempts{channel="slowish",model="slowish-model",result="ok"} 1
airouter_channel_requests_total{channel="slowish"} 1
--- response_body_like eval
["Hello", 'airouter_model_ttfb_seconds\{channel="slowish",model="slowish-model"\} 0\.(29|3|4)\d*\n(.|\n)*airouter_model_duration_seconds\{channel="slowish",model="slowish-model"\} 0\.(29|3|4)\d*\n']



=== TEST 10: names the stats cut at 255 bytes: a configured key keeps its name, a model id is valid UTF-8
--- user_files eval
main::cfg("auth:\n  enabled: true\n  api_keys:\n    - name: \"" . ("k" x 254) . "\xc3\xa9\"\n      key: \"sk-long\"\n",
          ["long", "ok", 0.000001, 0.000002, "    configured_models: [\"" . ("m" x 254) . "\xc3\xa9\"]\n"])
--- request eval
["POST /v1/chat/completions\n{\"model\": \"" . ("m" x 254) . "\xc3\xa9\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", "GET /metrics"]
--- more_headers eval
["Authorization: Bearer sk-long", ""]
--- metrics eval
"airouter_key_requests_total{key=\"" . ("k" x 254) . "\xc3\xa9\"} 1\n"
. "!airouter_key_requests_total{key=\"" . ("k" x 254) . "?\"}\n"
. "airouter_model_requests_total{model=\"" . ("m" x 254) . "?\"} 1\n"
. "airouter_model_window_attempts{channel=\"long\",model=\"" . ("m" x 254) . "\xc3\xa9\",result=\"ok\"} 1\n"



=== TEST 11: cached prompt tokens: a family of their own, per channel, model and key
--- user_files eval
main::cfg($::Auth, ["cache", "cached", 0.000001, 0.000002], ["first", "ok", 0.000001, 0.000002])
--- request eval
[main::chat("cache-model"), main::chat("first-model"), "GET /metrics"]
--- more_headers eval
[$::Key, $::Key, $::Admin]
--- metrics
airouter_cached_tokens_total 800
airouter_tokens_total{type="prompt"} 1010
airouter_channel_cached_tokens_total{channel="cache"} 800
airouter_channel_cached_tokens_total{channel="first"} 0
airouter_model_cached_tokens_total{model="cache-model"} 800
airouter_model_cached_tokens_total{model="first-model"} 0
airouter_key_cached_tokens_total{key="team-a"} 800
!airouter_tokens_total{type="cached"}



=== TEST 12: two workers' log phases at once lose no update: counters, history and request log
--- extra_http_config eval
$::Workers
--- request eval
[main::chat("first-model"), "GET /metrics"]
--- more_headers eval
[$::Key, $::Admin]
--- metrics
airouter_requests_total 1
--- workers_race: 80



=== TEST 13: a cooldown one worker's failure set keeps the model away from the other worker's next requests
--- user_files eval
main::cfg($::Auth, ["busy", "mock:e503", 0.0000001, 0.0000001, "    configured_models: [\"shared-model\"]\n"],
          ["good", "ok", 0.000001, 0.000002, "    configured_models: [\"shared-model\"]\n"])
--- extra_http_config eval
$::Workers
--- request eval
[main::chat("shared-model"), "GET /metrics"]
--- more_headers eval
[$::Key, $::Admin]
--- response_headers_like eval
["X-Router-Channel: good\nX-Router-Fallbacks: busy:server_error.*", "Content-Type: text/plain.*"]
--- metrics
airouter_model_blocked{channel="busy",model="shared-model",reason="server_error"} 1
--- workers_route: good shared-model



=== TEST 14: tries on both workers that take the lock-free way in count in flight, and out again
--- user_files eval
main::cfg($::Auth, ["lazy", "mock:slow", 0.000001, 0.000002])
--- extra_http_config eval
$::Workers
--- request eval
[main::chat("lazy-model"), "GET /metrics"]
--- more_headers eval
[$::Key, $::Admin]
--- metrics
airouter_model_inflight{channel="lazy",model="lazy-model"} 0
--- workers_inflight: lazy lazy-model
