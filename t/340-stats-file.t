# The stats file is trusted input (counters, the admin's strategy and
# disabled channels): it is created 0600 whatever the umask, a file others
# may write is refused, a directory it cannot be written to is a warning at
# nginx -t and one error per streak of failed writes.  A refused request
# (budget, rate limit) is logged once per condition and period (#13 item
# 11).  The suite runs with umask 0: what nginx creates is as open as the
# umask lets it be.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Check;
use Airouter::Control;
use Airouter::Blocks qw(block_error_log);
use Time::HiRes qw(sleep time);

BEGIN { umask 0 }

no_shuffle();
log_level('info');
install_checks();

control_suite();

our $Saved = <<'_EOC_';
    location /v1/ { airouter; }
    location /v1/admin/ { airouter_admin; }
    location = /sleep { echo_sleep 1; echo ok; }
    location = /saved { alias $TEST_NGINX_SERVER_ROOT/logs/stats.json; }
_EOC_

# lines of this block's error.log that hold $text
sub log_count {
    my ($text) = @_;
    return scalar grep { index($_, $text) >= 0 } block_error_log();
}

# a rate limit's minute must not turn between a block's requests
sub same_minute { sleep(61 - time % 60) if time % 60 > 54 }

sub keys_yaml {
    return "  enabled: true\n  api_keys:\n    - name: capped\n      key: \"sk-capped\"\n$_[0]";
}

run_tests();

__DATA__

=== TEST 1: the stats file is created 0600 even with umask 0
--- extra_http_config
    airouter_stats_file logs/stats.json interval=200ms;
--- config eval: $::Saved
--- request eval
[main::chat(), "GET /sleep", "GET /saved"]
--- check_json
my $mode = (stat "$ENV{TEST_NGINX_SERVER_ROOT}/logs/stats.json")[2] & 07777;
$mode == 0600 && $j->{nodes} && @{$j->{nodes}} > 0
    or Test::More::diag(sprintf "mode %04o", $mode);



=== TEST 2: a stats file others may write is refused at nginx -t, with the reason
--- extra_http_config
    airouter_stats_file html/stats.json;
--- user_files eval
main::cfg(undef, @::Two) . ">>> stats.json\n" . '{"version":1,"strategy":"free_first","nodes":[]}'
--- must_die
--- error_log eval
qr/airouter_stats_file ".*stats\.json" is writable by others \(mode 0666\): not loaded; remove that write permission \(chmod o-w\) or the file in .*nginx\.conf:\d+/



=== TEST 3: a missing directory: a warning at nginx -t, then one error for all the failed writes
--- extra_http_config
    airouter_stats_file logs/none/stats.json interval=100ms;
--- request eval
[main::chat(), "GET /v1/stats/daily"]
--- more_headers eval
["", $::Admin]
--- wait: 1
--- error_log_once
none/stats.json": its directory
the counters will not be kept until it can (2: No such file or directory) in /
none/stats.json.
not written; tried again every interval



=== TEST 4: a streak of failed writes ends ("written again") and the next one is logged again
--- extra_http_config
    airouter_stats_file logs/sub/stats.json interval=100ms;
--- init
my $port = Test::Nginx::Socket::server_port();
my $dir = "$ENV{TEST_NGINX_SERVER_ROOT}/logs/sub";
system("rm -rf $dir");
raw_post($port, '/v1/chat/completions', $::Chat);
sleep 1;                # failing every 100 ms
mkdir $dir;
sleep 1;                # written
system("rm -rf $dir");
raw_post($port, '/v1/chat/completions', $::Chat);
sleep 1;                # failing again
--- request
GET /v1/stats/daily
--- more_headers eval: $::Admin
--- check_json
my ($failed, $again) = (main::log_count('not written; tried again'),
                        main::log_count('written again'));
($failed == 2 && $again == 1 && $j->{total}{requests} == 2)
    or Test::More::diag("not written: $failed, written again: $again, "
                        . "requests: $j->{total}{requests}");



=== TEST 5: a key's daily budget: the refusal is logged once that day, not per request
--- user_files eval
main::cfg(main::keys_yaml("      daily_budget: 0.00003\n"), @::Two)
--- request eval
[main::chat(), main::chat(), main::chat(), main::chat(), main::chat()]
--- more_headers
Authorization: Bearer sk-capped
--- error_code eval
[200, 200, 429, 429, 429]
--- error_log_once
request of API key "capped" refused: its daily budget of 0.000030 USD is used up



=== TEST 6: a key's monthly budget: logged once a day
--- user_files eval
main::cfg(main::keys_yaml("      monthly_budget: 0.00001\n"), @::Two)
--- request eval
[main::chat(), main::chat(), main::chat(), main::chat()]
--- more_headers
Authorization: Bearer sk-capped
--- error_code eval
[200, 429, 429, 429]
--- error_log_once
request of API key "capped" refused: its monthly budget of 0.000010 USD is used up



=== TEST 7: the global daily budget: logged once a day
--- user_files eval
main::cfg(main::keys_yaml("") . "cost_control:\n  global_daily_budget: 0.00003\n  auto_disable_on_budget_exceeded: true\n", @::Two)
--- request eval
[main::chat(), main::chat(), main::chat(), main::chat(), main::chat()]
--- more_headers
Authorization: Bearer sk-capped
--- error_code eval
[200, 200, 429, 429, 429]
--- error_log_once
request refused: the global daily budget of 0.000030 USD is used up



=== TEST 8: a key's rate limit: logged once a minute
--- user_files eval
main::cfg(main::keys_yaml("      rate_limit: 1\n"), @::Two)
--- init
main::same_minute();
--- request eval
[main::chat(), main::chat(), main::chat(), main::chat()]
--- more_headers
Authorization: Bearer sk-capped
--- error_code eval
[200, 429, 429, 429]
--- error_log_once
request of API key "capped" refused: over its rate limit of 1 requests a minute
