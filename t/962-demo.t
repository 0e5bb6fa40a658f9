# make demo / make stop on ports and directories of the test's own: the
# demo channels listen on DEMO_PORTS, a chat and embeddings go through
# (the official openai SDK's default base64 embeddings included), the
# tour's discovery, tags and logs are clean, a start
# that cannot happen (port in use, a demo already running in DEMO_DIR, a
# demo channel's port in use) fails without stopping the demo that runs,
# two demos run side by side, and make stop stops only its own.
use strict;
use warnings;

use Test::More;
use Airouter::Install;

my $top = $Airouter::Install::Top;
my $tmp = scratch_dir();
my @started;

sub ports { my %u; my @p; while (@p < $_[0]) { my $x = free_port(); push @p, $x unless $u{$x}++ } @p }

sub demo {
    my (%v) = @_;
    my ($rc, $out) = make_in('demo', %v);
    push @started, $v{DEMO_DIR} if $rc == 0;
    return ($rc, $out);
}

sub pid_of { my $p = slurp("$_[0]/logs/nginx.pid") // ''; $p =~ /(\d+)/ ? $1 : 0 }

END { make_in('stop', DEMO_DIR => $_) for @started }

my ($port, @dp) = ports(4);
my $dir = "$tmp/demo1";

# --- TEST 1: the demo on ports of its own ----------------------------------

my ($rc, $out) = demo(PORT => $port, DEMO_PORTS => "@dp", DEMO_DIR => $dir);
is($rc, 0, 'TEST 1: make demo starts') or diag $out;
like($out, qr/airouter demo on http:\/\/127\.0\.0\.1:$port /,
     'TEST 1: and says where');
like($out, qr{^  dashboard  http://127\.0\.0\.1:$port/dashboard$}m,
     'TEST 1: and where the dashboard is');
like($out, qr{^  stop       make stop DEMO_DIR=\Q$dir\E$}m,
     'TEST 1: and how to stop it (its DEMO_DIR named)');
my ($try) = $out =~ /^  chat       (curl .*)$/m;
my (undef, $help) = make_in('help');
like($help, qr/^  make demo .*^  make stop /ms,
     'TEST 1: make help lists the targets, demo and stop among them');
like(defined $try ? `$try` : '', qr/Hello from the free demo channel\./,
     'TEST 1: the chat command it prints works as printed');
my ($st, $body) = http($port, '/health');
like($body, qr/"channels":\{"enabled":3,"total":6\}/, 'TEST 1: /health: three demo channels');
my $conf = slurp("$dir/conf/router_config.yaml");
ok($conf =~ /127\.0\.0\.1:$dp[0]\/v1"/ && $conf =~ /127\.0\.0\.1:$dp[1]"/
   && $conf =~ /127\.0\.0\.1:$dp[2]\/v1"/,
   'TEST 1: the demo channels point at DEMO_PORTS');
($st, $body) = http($dp[1], '/v1/embeddings');
is($st, 200, 'TEST 1: the paid demo channel listens on the second of DEMO_PORTS');

my $chat = sub {
    my ($p, $model) = @_;
    my $out = `curl -s -m 10 http://127.0.0.1:$p/v1/chat/completions -d '{"model":"$model","messages":[{"role":"user","content":"hi"}]}'`;
    return $out;
};
like($chat->($port, 'tag:free'), qr/Hello from the free demo channel\./,
     'TEST 1: a chat through the free demo channel');
like($chat->($port, 'qwen3:8b'), qr/Hello from the local demo channel\./,
     'TEST 1: a chat through the local one');
($st, $body) = http($port, '/dashboard');
ok($st == 200 && $body =~ /<title>airouter<\/title>/
   && $body =~ /<meta name="airouter-admin" content="open">/,
   'TEST 1: the demo serves the dashboard, its admin API open (no token)');

# --- TEST 2: embeddings, as the openai SDK asks for them ------------------

my $emb = `curl -s -m 10 http://127.0.0.1:$port/v1/embeddings -d '{"model":"text-embedding-3-small","input":"hi","encoding_format":"base64"}'`;
like($emb, qr/"embedding":"AAAAPgAAAL8AAIA\+"/,
     'TEST 2: encoding_format base64 gets base64 of little-endian float32');
$emb = `curl -s -m 10 http://127.0.0.1:$port/v1/embeddings -d '{"model":"text-embedding-3-small","input":"hi"}'`;
like($emb, qr/"embedding":\[0\.125,-0\.5,0\.25\]/,
     'TEST 2: without it, a list of floats');
my $sdk = `node '$top/tests/sdk/embeddings.mjs' http://127.0.0.1:$port/v1 0.125,-0.5,0.25 2>&1`;
is($? >> 8, 0, 'TEST 2: the openai SDK gets the vector back') or diag $sdk;
for (split /\n/, $sdk) {
    like($_, qr/^ok /, "TEST 2: sdk: " . s/^(not )?ok - //r) if /^(not )?ok /;
}

# --- TEST 3: what the README tour shows is clean --------------------------

my $disc = `curl -s -m 10 -X POST http://127.0.0.1:$port/v1/admin/discovery`;
like($disc, qr/"demo_free":\{"state":"ok".*"demo_paid":\{"state":"ok".*"demo_local":\{"state":"ok"/s,
     'TEST 3: every demo channel answers /models');
my $route = `curl -s -m 10 http://127.0.0.1:$port/v1/route -d '{"model":"tag:local","messages":[{"role":"user","content":"hi"}]}'`;
ok($route =~ /"matched":2,/ && $route !~ /"channel":"demo_(free|paid)"/,
   'TEST 3: tag:local is the local demo channel only (the relays play remote ones)')
    or diag $route;
my @log = split /\n/, slurp("$dir/logs/access.log") // '';
ok(@log && !grep({ !m{"uri":"/(v1/|health|dashboard)} } @log),
   'TEST 3: the access log is the router\'s usage log alone') or diag "@log";
ok(grep({ m{"uri":"/v1/chat/completions".*"channel":"demo_free"} } @log),
   'TEST 3: with the chat and its channel');
unlike(slurp("$dir/logs/error.log") // '', qr/\[(error|warn|alert|crit)\]/,
       'TEST 3: the error log has no error or warning');

# --- TEST 4: a start that cannot happen stops nothing ----------------------

my $pid = pid_of($dir);
ok($pid && kill(0, $pid), 'TEST 4: the first demo runs');
my (@dp2) = ports(3);

($rc, $out) = demo(PORT => $port, DEMO_PORTS => "@dp2", DEMO_DIR => "$tmp/demo2");
isnt($rc, 0, 'TEST 4: make demo on a busy port fails');
like($out, qr/port $port is in use: make demo PORT=/, 'TEST 4: and says which port');

my ($port2) = ports(1);
($rc, $out) = demo(PORT => $port2, DEMO_PORTS => "@dp2", DEMO_DIR => $dir);
isnt($rc, 0, 'TEST 4: make demo again in the same DEMO_DIR fails');
like($out, qr/a demo already runs from \Q$dir\E \(pid $pid\); make stop first/,
     'TEST 4: and says make stop first');

($rc, $out) = demo(PORT => $port2, DEMO_PORTS => "$dp2[0] $dp[1] $dp2[2]",
                   DEMO_DIR => "$tmp/demo2");
isnt($rc, 0, 'TEST 4: make demo with a demo channel\'s port in use fails');
like($out, qr/port $dp[1] \(a demo channel\) is in use: make demo DEMO_PORTS=/,
     'TEST 4: and names DEMO_PORTS');

is(pid_of($dir), $pid, 'TEST 4: the first demo\'s master is the same process');
ok(kill(0, $pid), 'TEST 4: still alive');
($st) = http($port, '/health');
is($st, 200, 'TEST 4: and still answers');

# --- TEST 5: two demos side by side, make stop stops its own --------------

($rc, $out) = demo(PORT => $port2, DEMO_PORTS => "@dp2", DEMO_DIR => "$tmp/demo2");
is($rc, 0, 'TEST 5: a second demo on other ports and another DEMO_DIR starts')
    or diag $out;
like($chat->($port2, 'tag:free'), qr/Hello from the free demo channel\./,
     'TEST 5: it answers');
($rc, $out) = make_in('stop', DEMO_DIR => "$tmp/demo2");
like($out, qr/airouter demo stopped/, 'TEST 5: make stop stops it');
($st) = http($port2, '/health');
is($st, 0, 'TEST 5: it no longer answers');
($st) = http($port, '/health');
is($st, 200, 'TEST 5: the first demo still does');
($rc, $out) = make_in('stop', DEMO_DIR => $dir);
like($out, qr/airouter demo stopped/, 'TEST 5: make stop stops the first');
($st) = http($port, '/health');
is($st, 0, 'TEST 5: gone');
($rc, $out) = make_in('stop', DEMO_DIR => $dir);
like($out, qr/airouter demo is not running/, 'TEST 5: a second make stop says so');
@started = ();

done_testing();
