# Stats and control: the stats endpoints (daily, weekly, monthly, summary, top
# models and channels, cost breakdown, channel status); admin switches and
# reset of channels; cost/optimize; counters that survive a restart
# (airouter_stats_file).
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Check;
use Airouter::Control;

no_shuffle();
log_level('info');
install_checks();

control_suite();

run_tests();

__DATA__

=== TEST 1: weekly and monthly: every day of the period, with the breakdowns
--- request eval
[main::chat("first-model"), main::chat("second-model"), "GET /v1/stats/weekly", "GET /v1/stats/monthly"]
--- more_headers eval
["", "", $::Admin, $::Admin]
--- response_body_like eval
["Hello", "Hello", '"period":"weekly",.*"days":7,', '"period":"monthly"']
--- check_json
my @d = @{$j->{by_day}};
@d == 30 && $d[-1]{requests} == 2 && $d[0]{requests} == 0
&& abs($j->{total}{cost} - 0.00006) < 1e-12
&& $j->{by_channel}{first}{requests} == 1 && $j->{by_channel}{second}{requests} == 1
&& $j->{days} == 30



=== TEST 2: top-models and top-channels: dearest first
--- request eval
[main::chat("first-model"), main::chat("second-model"), main::chat("second-model"),
 "GET /v1/stats/top-channels", "GET /v1/stats/top-models?limit=1"]
--- more_headers eval
["", "", "", $::Admin, $::Admin]
--- response_body_like eval
["Hello", "Hello", "Hello", '"channels":\[\{"requests":2,.*"channel":"second"\},\{"requests":1,.*"channel":"first"\}\]', "models"]
--- check_json
my @m = @{$j->{models}};
@m == 1 && $m[0]{model} eq 'second-model' && abs($m[0]{cost} - 0.00008) < 1e-12



=== TEST 3: cost-breakdown: shares of the total per key, channel and model
--- request eval
[main::chat("first-model"), main::chat("second-model"), "GET /v1/stats/cost-breakdown"]
--- more_headers eval
["", "", $::Admin]
--- check_json
my %c = map { $_->{name} => $_ } @{$j->{by_channel}};
abs($j->{total_cost} - 0.00006) < 1e-12
&& abs($c{second}{share} - 0.6667) < 1e-9 && abs($c{first}{share} - 0.3333) < 1e-9
&& @{$j->{by_model}} == 2 && $j->{currency} eq 'USD'



=== TEST 4: an admin can switch a channel off and on for every worker
--- request eval
["POST /v1/admin/channels/first/disable", main::chat(), "GET /v1/stats/channel-status",
 "POST /v1/admin/channels/first/enable", main::chat()]
--- more_headers eval
[$::Admin, "", $::Admin, $::Admin, ""]
--- response_headers_like eval
["Content-Type: application/json", "X-Router-Channel: second", "Content-Type: application/json",
 "Content-Type: application/json", "X-Router-Channel: first"]
--- response_body_like eval
['^\{"channel":"first","action":"disable","enabled":false,"config_enabled":true\}$', "Hello",
 '"id":"first","enabled":true,"admin_disabled":true,"available":false', '"enabled":true', "Hello"]
--- error_log_all
channel "first" disabled by the admin API



=== TEST 5: reset clears a channel's blacklist
--- user_files eval
main::cfg(undef, ["revoked", "mock:e401"], ["good", "ok"])
--- request eval
[main::chat(), "GET /v1/stats/channel-status", "POST /v1/admin/channels/revoked/reset",
 "GET /v1/stats/channel-status"]
--- more_headers eval
["", $::Admin, $::Admin, $::Admin]
--- response_body_like eval
["Hello", '"id":"revoked",[^}]*"blacklisted":true', '"action":"reset","had_state":true', '"id":"revoked",[^}]*"blacklisted":false']
--- check_json
my %c = map { $_->{id} => $_ } @{$j->{channels}};
$c{revoked}{available} && !$c{revoked}{blacklisted}



=== TEST 6: admin channel actions: unknown channel 404, GET refused
--- request eval
["POST /v1/admin/channels/nope/disable", "GET /v1/admin/channels/first/disable"]
--- more_headers eval
[$::Admin, $::Admin]
--- error_code eval
[404, 405]



=== TEST 7: cost/optimize suggests the free variant of a model that cost money
--- user_files eval
main::cfg(undef,
  ["paid", "ok", 0.000001, 0.000002, "    configured_models: [\"vendor/cheap-model\"]\n"],
  ["relay", "ok", 0.0000005, 0.000001, "    configured_models: [\"vendor/cheap-model-20250101\"]\n"],
  ["free", "ok", undef, undef, "    configured_models: [\"vendor/cheap-model:free\"]\n"],
  ["other", "ok", 0.000003, 0.000003, "    configured_models: [\"unique-model\"]\n"])
--- request eval
[main::chat("vendor/cheap-model"), main::chat("unique-model"), "GET /v1/admin/cost/optimize"]
--- more_headers eval
["", "", $::Admin]
--- check_json
my @s = @{$j->{suggestions}};
@s == 1 && $s[0]{model} eq 'vendor/cheap-model' && $s[0]{alternative}{free}
&& $s[0]{alternative}{model} eq 'vendor/cheap-model:free'
&& $s[0]{alternative}{channel} eq 'free'
&& abs($s[0]{estimated_savings} - 0.00002) < 1e-12
&& abs($j->{total_spend} - 0.000065) < 1e-12



=== TEST 8: stats survive a restart: counters and the strategy are read from airouter_stats_file
--- extra_http_config
    airouter_stats_file html/stats.json;
--- user_files eval
cfg(undef, @::Two) . ">>> stats.json\n" . '{"version":1,"strategy":"free_first","nodes":['
. '{"day":' . int(time / 86400) . ',"kind":"total","name":"","requests":3,"errors":1,"prompt_tokens":30,"completion_tokens":15,"cost":0.00006},'
. '{"day":' . int(time / 86400) . ',"kind":"model","name":"first-model","requests":3,"prompt_tokens":30,"completion_tokens":15,"cost":0.00006},'
. '{"day":' . (int(time / 86400) - 1) . ',"kind":"total","name":"","requests":5,"cost":1.5},'
. '{"day":0,"kind":"off","name":"second"}]}'
--- request eval
[main::chat(), "GET /v1/stats/channel-status", "GET /v1/stats/weekly"]
--- more_headers eval
["", $::Admin, $::Admin]
--- response_headers_like eval
["X-Router-Strategy: free_first", "Content-Type: application/json", "Content-Type: application/json"]
--- response_body_like eval
["Hello", '"id":"second","enabled":true,"admin_disabled":true', "weekly"]
--- check_json
my @d = @{$j->{by_day}};
$d[-1]{requests} == 4 && $d[-2]{requests} == 5 && abs($d[-1]{cost} - 0.00008) < 1e-12
&& $j->{by_model}{'first-model'}{requests} == 4
--- error_log_once
usage counters read from



=== TEST 9: ... and written there on a timer (and at exit), atomically
--- extra_http_config
    airouter_stats_file logs/stats.json interval=300ms;
--- config
    location /v1/ { airouter; }
    location /v1/admin/ { airouter_admin; }
    location = /sleep { echo_sleep 1; echo ok; }
    location = /saved { alias $TEST_NGINX_SERVER_ROOT/logs/stats.json; }
--- request eval
[main::chat(), "POST /v1/admin/routing/strategy\n{\"strategy\": \"free_first\"}", "GET /sleep", "GET /saved"]
--- more_headers eval
["", $::Admin, "", ""]
--- check_json
my %n = map {; "$_->{kind}/$_->{name}" => $_ } @{$j->{nodes}};
$j->{strategy} eq 'free_first' && $n{"total/"}{requests} == 1
&& $n{"model/first-model"}{prompt_tokens} == 10
&& abs($n{"channel/first"}{cost} - 0.00002) < 1e-15



=== TEST 10: an unknown stats URL is a 404 whatever the method; stats are read-only
--- request eval
["GET /v1/stats/nothing", "POST /v1/stats/summary\n{}", "POST /v1/stats/nothing\n{}",
 "DELETE /v1/stats/nothing"]
--- more_headers eval
[$::Admin, $::Admin, $::Admin, $::Admin]
--- error_code eval
[404, 405, 404, 404]
--- response_body_like eval
[qr/"code":"unknown_url"/, qr/"code":"method_not_allowed"/,
 qr/^\{"error":\{"message":"Unknown stats URL: POST \/v1\/stats\/nothing","type":"invalid_request_error","code":"unknown_url"\}\}$/,
 qr/"message":"Unknown stats URL: DELETE \/v1\/stats\/nothing"/]



=== TEST 11: cost/optimize: without a variant of the same name, a free model with every tag of it
--- user_files eval
main::cfg(undef,
  ["paid", "ok", 0.000001, 0.000002, "    configured_models: [\"acme-turbo-7b\"]\n"],
  ["free", "ok", undef, undef, "    tags: [free]\n    configured_models: [\"acme-turbo-7b-instruct\"]\n"])
--- request eval
[main::chat("acme-turbo-7b"), "GET /v1/models", "GET /v1/admin/cost/optimize"]
--- more_headers eval
["", "", $::Admin]
--- check_json
my @s = @{$j->{suggestions}};
@s == 1 && $s[0]{alternative}{model} eq 'acme-turbo-7b-instruct'
&& $s[0]{reason} eq 'a free model with the same tags'
&& abs($s[0]{estimated_savings} - 0.00002) < 1e-12



=== TEST 12: cached prompt tokens are counted per day, channel and model, and written to the stats file
--- extra_http_config
    airouter_stats_file logs/stats.json interval=300ms;
--- config
    location /v1/ { airouter; }
    location /v1/admin/ { airouter_admin; }
    location = /sleep { echo_sleep 1; echo ok; }
    location = /saved { alias $TEST_NGINX_SERVER_ROOT/logs/stats.json; }
--- user_files eval
main::cfg(undef, ["cache", "cached", 0.000001, 0.000002])
--- request eval
[main::chat("cache-model"), main::chat("cache-model"), "GET /v1/stats/daily", "GET /sleep", "GET /saved"]
--- more_headers eval
["", "", $::Admin, "", ""]
--- response_body_like eval
["Hello", "Hello",
 '"total":\{[^}]*"cached_tokens":1600[,}].*"by_channel":\{"cache":\{[^}]*"cached_tokens":1600[,}].*"by_model":\{"cache-model":\{[^}]*"cached_tokens":1600[,}]',
 "ok", "nodes"]
--- check_json
my %n = map {; "$_->{kind}/$_->{name}" => $_ } @{$j->{nodes}};
$n{"total/"}{cached_tokens} == 1600 && $n{"total/"}{prompt_tokens} == 2000
&& $n{"channel/cache"}{cached_tokens} == 1600
&& $n{"model/cache-model"}{cached_tokens} == 1600



=== TEST 13: the stats file is read back with cached tokens; a node without them (an older file) reads as 0
--- extra_http_config
    airouter_stats_file html/stats.json;
--- user_files eval
cfg(undef, @::Two) . ">>> stats.json\n" . '{"version":1,"strategy":"","nodes":['
. '{"day":' . int(time / 86400) . ',"kind":"total","name":"","requests":2,"prompt_tokens":3000,"cached_tokens":2500,"cost":0.001},'
. '{"day":' . int(time / 86400) . ',"kind":"channel","name":"first","requests":2,"prompt_tokens":3000,"cached_tokens":2500,"cost":0.001},'
. '{"day":' . (int(time / 86400) - 1) . ',"kind":"total","name":"","requests":5,"prompt_tokens":70,"cost":1.5}]}'
--- request eval
["GET /v1/stats/weekly"]
--- more_headers eval
[$::Admin]
--- check_json
my @d = @{$j->{by_day}};
$d[-1]{cached_tokens} == 2500 && $d[-1]{prompt_tokens} == 3000
&& $d[-2]{cached_tokens} == 0 && $d[-2]{prompt_tokens} == 70 && $d[-2]{requests} == 5
&& $j->{total}{cached_tokens} == 2500
&& $j->{by_channel}{first}{cached_tokens} == 2500
--- error_log_once
usage counters read from



=== TEST 14: /v1/stats/daily and the request log write costs as decimals (0.00006), not with an exponent (6e-5)
--- config
    location /v1/ { airouter; }
    location /v1/admin/ { airouter_admin; }
--- request eval
[main::chat("first-model"), main::chat("second-model"), "GET /v1/stats/daily", "GET /v1/admin/requests"]
--- more_headers eval
["", "", $::Admin, $::Admin]
--- response_body_like eval
["Hello", "Hello",
 '^(?!.*[0-9][eE]-[0-9])\{"period":"daily",.*"total":\{[^}]*"cost":0\.00006[,}]',
 '^(?!.*[0-9][eE]-[0-9]).*"cost":0\.00004[,}]']
