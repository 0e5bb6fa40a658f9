# The audit trail (GET /v1/admin/audit): every admin action that took
# effect, who (the admin token: "admin"), from where, what, on what, the
# state before and after; in the error log at notice level and in a ring
# in the shared zone, newest first.  Refused actions leave no record.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Check;
use Airouter::Control;
use Airouter::Blocks;

no_shuffle();
log_level('info');
install_checks();

control_suite();

sub post { "POST /v1/admin/$_[0]\n" . ($_[1] // '') }

run_tests();

__DATA__

=== TEST 1: disable, enable, reset and a strategy switch, newest first, with before and after
--- request eval
[main::post("channels/first/disable"), main::post("channels/first/enable"),
 main::post("channels/second/reset"),
 main::post("routing/strategy", '{"strategy": "quality_optimized"}'),
 main::post("routing/strategy", '{"strategy": null}'),
 "GET /v1/admin/audit"]
--- more_headers eval
[($::Admin) x 6]
--- check_json
my @a = @{$j->{audit}};
my $s = join "\n", map { "$_->{id} $_->{who} $_->{client} $_->{action} $_->{target} $_->{before} $_->{after}" } @a;
$j->{size} == 256 && $j->{last} == 5
&& $s eq join("\n",
    "5 admin 127.0.0.1 strategy.switch routing quality_optimized cost_first",
    "4 admin 127.0.0.1 strategy.switch routing cost_first quality_optimized",
    "3 admin 127.0.0.1 channel.reset second clear clear",
    "2 admin 127.0.0.1 channel.enable first disabled enabled",
    "1 admin 127.0.0.1 channel.disable first enabled disabled")
&& !grep { $_->{time} !~ /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/ || abs($_->{time_ms} / 1000 - time()) > 30 } @a
or do { print STDERR "# $s\n"; 0 }
--- error_log_all
airouter audit: admin from 127.0.0.1: channel.disable "first": enabled -> disabled
airouter audit: admin from 127.0.0.1: channel.enable "first": disabled -> enabled
airouter audit: admin from 127.0.0.1: channel.reset "second": clear -> clear
airouter audit: admin from 127.0.0.1: strategy.switch "routing": cost_first -> quality_optimized
airouter audit: admin from 127.0.0.1: strategy.switch "routing": quality_optimized -> cost_first



=== TEST 2: a blocked channel's reset says so; disabling twice shows the state it found
--- user_files eval
main::cfg(undef, ["first", "mock:e500", 0.000001, 0.000002], ["second", "ok", 0.000002, 0.000004])
--- request eval
[main::chat(), main::post("channels/first/reset"),
 main::post("channels/second/disable"), main::post("channels/second/disable"),
 "GET /v1/admin/audit?limit=2"]
--- more_headers eval
["", ($::Admin) x 4]
--- error_code eval
[200, 200, 200, 200, 200]
--- check_json
my @a = @{$j->{audit}};
@a == 2 && $j->{last} == 3
&& "$a[0]{action} $a[0]{before} $a[0]{after}" eq 'channel.disable disabled disabled'
&& "$a[1]{action} $a[1]{before} $a[1]{after}" eq 'channel.disable enabled disabled'
--- error_log_all
airouter audit: admin from 127.0.0.1: channel.reset "first": blocked -> clear



=== TEST 3: refused actions are not recorded
--- request eval
[main::post("channels/nope/disable"),
 main::post("routing/strategy", '{"strategy": "fastest_please"}'),
 main::post("channels/first/disable"),
 "GET /v1/admin/audit"]
--- more_headers eval
[$::Admin, $::Admin, "", $::Admin]
--- error_code eval
[404, 400, 401, 200]
--- response_body_like eval
['"channel_not_found"', '"invalid_strategy"', '"error"', '^\{"audit":\[\],"size":256,"last":0\}$']
--- no_error_log
airouter audit:



=== TEST 4: the trail needs the admin token; limit must be a number
--- request eval
["GET /v1/admin/audit", "GET /v1/admin/audit?limit=x"]
--- more_headers eval
["", $::Admin]
--- error_code eval
[401, 400]
--- response_body_like eval
['"error"', '"code":"invalid_limit"']



=== TEST 5: a discovery run an admin starts is recorded
--- request eval
[main::post("discovery"), "GET /v1/admin/audit"]
--- more_headers eval
[$::Admin, $::Admin]
--- timeout: 20
--- response_body_like eval
['"status"', '^\{"audit":\[\{"id":1,.*"action":"discovery.run","target":"discovery","before":"-","after":"started"\}\],"size":256,"last":1\}$']
--- error_log_all
airouter audit: admin from 127.0.0.1: discovery.run "discovery": - -> started
