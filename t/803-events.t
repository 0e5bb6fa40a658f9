# GET /v1/admin/events: one Server-Sent Events stream (admin token) with a
# hello (strategy, every channel's state), then what changes (a channel
# switched off or on, blocked or open again, the strategy), the counters
# of each second that had requests, and a heartbeat after 10 idle
# seconds.  A client that goes away and a reload (the old worker exits at
# once) leave no connection, timer or alert behind.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Check;
use Airouter::Control;
use Airouter::Blocks;
use Airouter::HTTP;
use Airouter::Process;
use IO::Socket::INET;
use IO::Select;
use JSON::PP ();
use Time::HiRes ();

no_shuffle();
log_level('info');
master_on();
install_checks();

control_suite();

# an events stream on its own connection (HTTP/1.0: no chunks), headers read
sub sse_open {
    my ($token) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $ENV{TEST_NGINX_SERVER_PORT},
                                  Timeout => 5) or die "connect: $!";
    print $s "GET /v1/admin/events HTTP/1.0\r\nHost: localhost\r\n"
        . ($token ? "Authorization: Bearer $token\r\n" : '') . "\r\n";
    my $head = '';
    my $sel = IO::Select->new($s);
    my $end = Time::HiRes::time() + 5;
    while ($head !~ /\r\n\r\n/ && Time::HiRes::time() < $end) {
        $sel->can_read(0.2) or next;
        my $n = sysread($s, my $chunk, 4096) or last;
        $head .= $chunk;
    }
    my ($h, $rest) = split /\r\n\r\n/, $head, 2;
    return { sock => $s, head => ($h // "") . "\r\n", buf => $rest // '', eof => 0 };
}

# the next event (type, data decoded, raw text) within $wait seconds, a
# comment as type ':'; () at the end of the stream or on timeout
sub sse_next {
    my ($st, $wait) = @_;
    my $end = Time::HiRes::time() + ($wait // 5);
    my $sel = IO::Select->new($st->{sock});
    while (1) {
        if ($st->{buf} =~ s/^((?:[^\n]*\n)*?)\n//) {
            my $ev = $1;
            next if $ev eq '' || $ev =~ /^retry: \d+\n$/;
            return (':', undef, $ev) if $ev =~ /^:/;
            my ($type) = $ev =~ /^event: (\S+)$/m;
            my ($data) = $ev =~ /^data: (.*)$/m;
            return ($type, JSON::PP::decode_json($data), $ev);
        }
        return () if $st->{eof};
        my $left = $end - Time::HiRes::time();
        return () if $left <= 0;
        $sel->can_read($left) or return ();
        my $n = sysread($st->{sock}, my $chunk, 65536);
        if (!$n) { $st->{eof} = 1; next }
        $st->{buf} .= $chunk;
    }
}

# the first event of a type within $wait seconds (the others skipped)
sub sse_wait {
    my ($st, $want, $wait) = @_;
    my $end = Time::HiRes::time() + ($wait // 5);
    while ((my $left = $end - Time::HiRes::time()) > 0) {
        my ($type, $data, $raw) = sse_next($st, $left) or return ();
        return ($data, $raw) if $type eq $want;
    }
    return ();
}

sub admin {
    my ($method, $path, $body) = @_;
    my ($st) = http_request($ENV{TEST_NGINX_SERVER_PORT}, $method, $path,
                            token => 'adm-secret', body => $body);
    return $st;
}

sub chat_now {
    my ($st) = http_request($ENV{TEST_NGINX_SERVER_PORT}, 'POST',
        '/v1/chat/completions', body => $Airouter::Control::Chat);
    return $st;
}

# --- sse: Perl code run after the block's request (the servers are up);
# it must return a list of problems, empty when all is well
add_response_body_check(sub {
    my ($block, $body, $idx) = @_;
    my $code = $block->sse;
    return unless defined $code;
    my @bad = eval "package main; no strict 'vars'; $code";
    push @bad, "died: $@" if $@;
    Test::More::ok(!@bad, $block->name . " - sse")
        or Test::More::diag(join "\n", @bad);
});

run_tests();

__DATA__

=== TEST 1: the hello: strategy, each channel's state; an SSE answer
--- request
GET /v1/admin/routing/strategy
--- more_headers eval: $::Admin
--- sse
my $st = main::sse_open('adm-secret');
my @bad;
push @bad, "head: $st->{head}" unless $st->{head} =~ m{^HTTP/1\.1 200}
    && $st->{head} =~ m{\r\nContent-Type: text/event-stream\r\n}
    && $st->{head} =~ m{\r\nCache-Control: no-cache\r\n}
    && $st->{head} =~ m{\r\nX-Accel-Buffering: no\r\n};
push @bad, "no retry line" unless $st->{buf} =~ /^retry: 3000\n\n/;
my ($d, $raw) = main::sse_wait($st, 'hello', 3);
push @bad, "no hello" unless $d;
push @bad, "hello: $raw" unless $d && $d->{strategy} eq 'cost_first'
    && $d->{last_request} == 0 && $d->{last_audit} == 0
    && abs($d->{time} - time()) < 30
    && @{$d->{channels}} == 2
    && join(',', map { "$_->{channel}:" . ($_->{enabled} ? 1 : 0) . ':' . ($_->{blocked} ? 1 : 0) . ':' . ($_->{reason} // 'null') } @{$d->{channels}})
       eq 'first:1:0:null,second:1:0:null';
close $st->{sock};
@bad



=== TEST 2: a channel switched off and on, the strategy switched: one event each, in order
--- request
GET /v1/admin/routing/strategy
--- more_headers eval: $::Admin
--- sse
my $st = main::sse_open('adm-secret');
my @bad;
main::sse_wait($st, 'hello', 3) or push @bad, "no hello";
main::admin('POST', '/v1/admin/channels/first/disable') == 200 or push @bad, "disable";
my ($d, $raw) = main::sse_wait($st, 'channel', 4);
push @bad, "disable: " . ($raw // 'nothing') unless $d && $d->{channel} eq 'first'
    && !$d->{enabled} && !$d->{blocked};
main::admin('POST', '/v1/admin/channels/first/enable') == 200 or push @bad, "enable";
($d, $raw) = main::sse_wait($st, 'channel', 4);
push @bad, "enable: " . ($raw // 'nothing') unless $d && $d->{channel} eq 'first' && $d->{enabled};
main::admin('POST', '/v1/admin/routing/strategy', '{"strategy": "quality_optimized"}') == 200 or push @bad, "switch";
($d, $raw) = main::sse_wait($st, 'strategy', 4);
push @bad, "strategy: " . ($raw // 'nothing') unless $d && $d->{strategy} eq 'quality_optimized'
    && $d->{previous} eq 'cost_first';
# nothing changed since: no more state events in the next 2 s
my ($type, undef, $more) = main::sse_next($st, 2);
push @bad, "unexpected: $more" if defined $type && $type ne 'tick' && $type ne ':';
close $st->{sock};
@bad



=== TEST 3: a channel blocked (dead key) and reset: blocked with the reason, then open
--- user_files eval
main::cfg(undef, ["first", "mock:e401", 0.000001, 0.000002], ["second", "ok", 0.000002, 0.000004])
--- request
GET /v1/admin/routing/strategy
--- more_headers eval: $::Admin
--- sse
my $st = main::sse_open('adm-secret');
my @bad;
main::sse_wait($st, 'hello', 3) or push @bad, "no hello";
main::chat_now() == 200 or push @bad, "chat";
my ($d, $raw) = main::sse_wait($st, 'channel', 4);
push @bad, "block: " . ($raw // 'nothing') unless $d && $d->{channel} eq 'first'
    && $d->{enabled} && $d->{blocked} && $d->{reason} eq 'invalid_api_key'
    && $d->{until} > time();
main::admin('POST', '/v1/admin/channels/first/reset') == 200 or push @bad, "reset";
($d, $raw) = main::sse_wait($st, 'channel', 4);
push @bad, "reset: " . ($raw // 'nothing') unless $d && $d->{channel} eq 'first'
    && !$d->{blocked} && !defined $d->{reason} && !defined $d->{until};
close $st->{sock};
@bad



=== TEST 4: the counters of a second with requests; the request log's and audit's newest ids
--- request
GET /v1/admin/routing/strategy
--- more_headers eval: $::Admin
--- sse
my $st = main::sse_open('adm-secret');
my @bad;
main::sse_wait($st, 'hello', 3) or push @bad, "no hello";
main::chat_now() == 200 or push @bad, "chat 1";
main::chat_now() == 200 or push @bad, "chat 2";
main::admin('POST', '/v1/admin/channels/second/reset') == 200 or push @bad, "reset";
my ($n, $tokens, $last, $audit, $end) = (0, 0, 0, 0, time() + 6);
while ($n < 2 && time() < $end) {
    my ($d) = main::sse_wait($st, 'tick', $end - time()) or last;
    $n += $d->{requests};
    $tokens += $d->{prompt_tokens} + $d->{completion_tokens};
    ($last, $audit) = ($d->{last_request}, $d->{last_audit});
    push @bad, "tick errors $d->{errors}" if $d->{errors};
    push @bad, "tick time $d->{time}" if $d->{time} > time() || $d->{time} < time() - 10;
}
push @bad, "requests $n, tokens $tokens, last $last" unless $n == 2 && $tokens == 30 && $last == 2;
push @bad, "audit id $audit" unless $audit == 1;
close $st->{sock};
@bad



=== TEST 5: an idle stream gets a heartbeat
--- request
GET /v1/admin/routing/strategy
--- more_headers eval: $::Admin
--- timeout: 20
--- sse
my $st = main::sse_open('adm-secret');
my @bad;
main::sse_wait($st, 'hello', 3) or push @bad, "no hello";
my ($type, undef, $raw) = main::sse_next($st, 13);
push @bad, "got " . ($raw // 'nothing') . " instead of a heartbeat"
    unless defined $type && $type eq ':' && $raw =~ /^: heartbeat \d+\n$/;
close $st->{sock};
@bad



=== TEST 6: the stream needs the admin token
--- request
GET /v1/admin/events
--- error_code: 401



=== TEST 7: a client that goes away: the stream ends, nginx carries on
--- log_level: debug
--- request
GET /v1/admin/routing/strategy
--- more_headers eval: $::Admin
--- sse
my @bad;
for (1 .. 3) {
    my $st = main::sse_open('adm-secret');
    main::sse_wait($st, 'hello', 3) or push @bad, "no hello";
    close $st->{sock};
}
Time::HiRes::sleep(2.5);
main::chat_now() == 200 or push @bad, "chat after";
my $log = join '', Airouter::Blocks::block_error_log();
my $open = () = $log =~ /airouter events: stream open/g;
my $closed = () = $log =~ /airouter events: stream closed/g;
push @bad, "opened $open, closed $closed" unless $open == 3 && $closed == 3;
@bad



=== TEST 8: a reload: the old worker ends the stream and exits at once, no alert
--- request
GET /v1/admin/routing/strategy
--- more_headers eval: $::Admin
--- sse
my @bad;
my $st = main::sse_open('adm-secret');
main::sse_wait($st, 'hello', 3) or push @bad, "no hello";
my $t0 = Time::HiRes::time();
Airouter::Process::hup_and_wait();
my $took = Time::HiRes::time() - $t0;
push @bad, "the reload took $took s" if $took > 5;
my ($type, undef, $raw) = main::sse_next($st, 3);
$type = main::sse_next($st, 3) while defined $type;
push @bad, "the stream did not end" unless $st->{eof};
close $st->{sock};
my $st2 = main::sse_open('adm-secret');
main::sse_wait($st2, 'hello', 3) or push @bad, "no hello from the new worker";
close $st2->{sock};
@bad
--- no_error_log
[alert]
open socket
