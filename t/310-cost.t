# Money: the cost of a known usage is exact in the X-Router-Cost header,
# the $airouter_cost log variable and the stats (streams and non-streams);
# budgets (per key daily and monthly, global daily) refuse with 429
# insufficient_quota before any upstream is called; the alert threshold
# warns once; a key's rate limit; a channel's daily_limit takes it out of
# the candidates for the rest of the day.  Prompt-cache prices: cached
# prompt tokens cost the cache price (from cost_per_token, a LiteLLM price
# file or an OpenRouter-shape /models answer) in streams and non-streams.
use Test::Nginx::Socket 'no_plan';
use Airouter::Check;
use Airouter::Blocks;

no_shuffle();
log_level('info');
install_checks();

our $Chat = '{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}';
our $Stream = '{"model": "gpt-test", "stream": true, "messages": [{"role": "user", "content": "hi"}]}';
our $Admin = "Authorization: Bearer adm-secret";

# router_config.yaml: auth (keys given as yaml), cost_control, channels
# [id, kind on the counting upstream, extra yaml, cost_per_token ('' for
# none)]
sub cfg {
    my ($keys, $cost, @channels) = @_;
    my $y = "auth:\n  enabled: true\n  api_keys:\n"
        . "    - name: alice\n      key: \"sk-alice\"\n" . ($keys // '')
        . "  admin:\n    enabled: true\n    admin_token: \"adm-secret\"\n";
    $y .= "cost_control:\n$cost" if $cost;
    $y .= "channels:\n";
    my $prio = 1;
    @channels = (["paid", "ok"]) unless @channels;
    for my $c (@channels) {
        my ($id, $kind, $extra, $cost) = @$c;
        $cost //= "{input: 0.000001, output: 0.000002}";
        $y .= <<"_EOY_";
  - id: "$id"
    base_url: "http://127.0.0.1:\$TEST_NGINX_RAND_PORT_3/$kind/v1"
    api_key: "sk-up-$id"
    priority: $prio
    configured_models: ["$id-model"]
    model_aliases:
      gpt-test: "$id-model"
_EOY_
        $y .= "    cost_per_token: $cost\n" if length $cost;
        $y .= $extra if defined $extra;
        $prio++;
    }
    return ">>> router_config.yaml\n$y"
        . "routing:\n  model_filters:\n    min_context_length: 0\n";
}

sub chats {
    my ($n, @more) = @_;
    return [ (map { "POST /v1/chat/completions\n$Chat" } 1 .. $n), @more ];
}

airouter_blocks(http => <<'_EOC_', mock => count_http_config(), config => <<'_EOC_',
    log_format money '$status key=$airouter_key channel=$airouter_channel '
                     'tokens=$airouter_prompt_tokens+$airouter_completion_tokens '
                     'cost=$airouter_cost cached=$airouter_cached_tokens';
_EOC_
    location /v1/ {
        airouter;
        access_log logs/access.log money;
    }
_EOC_
                user_files => sub { cfg() });

run_tests();

__DATA__

=== TEST 1: non-stream: the cost of 10 + 5 tokens at 1 and 2 USD per million, in the header and the log
--- request eval
"POST /v1/chat/completions\n$::Chat"
--- more_headers
Authorization: Bearer sk-alice
--- response_headers
X-Router-Cost: 0.00002000
X-Router-Channel: paid
--- access_log
200 key=alice channel=paid tokens=10+5 cost=0.00002000



=== TEST 2: ... and the same in the stats, per day, key, channel and model
--- request eval
[ "POST /v1/chat/completions\n$::Chat", "GET /v1/stats/daily" ]
--- more_headers eval
[ "Authorization: Bearer sk-alice", $::Admin ]
--- check_json
my $t = $j->{total};
abs($t->{cost} - 0.00002) < 1e-12 && $t->{requests} == 1
&& $t->{prompt_tokens} == 10 && $t->{completion_tokens} == 5
&& abs($j->{by_key}{alice}{cost} - 0.00002) < 1e-12
&& $j->{by_channel}{paid}{requests} == 1
&& $j->{by_model}{'paid-model'}{total_tokens} == 15
&& @{$j->{by_day}} == 1 && $j->{period} eq 'daily'



=== TEST 3: a stream: usage from the last chunk, in the log and the stats
--- user_files eval
main::cfg(undef, undef, ["paid", "stream"])
--- request eval
[ "POST /v1/chat/completions\n$::Stream", "GET /v1/stats/daily" ]
--- more_headers eval
[ "Authorization: Bearer sk-alice", $::Admin ]
--- response_body_like eval
[ "data: \\[DONE\\]", "by_model" ]
--- access_log
200 key=alice channel=paid tokens=7+2 cost=0.00001100
--- check_json
my $t = $j->{total};
abs($t->{cost} - 0.000011) < 1e-12 && $t->{prompt_tokens} == 7
&& $t->{completion_tokens} == 2 && $j->{by_model}{'paid-model'}{requests} == 1



=== TEST 4: a key's daily budget: once spent, 429 insufficient_quota and no upstream call
--- user_files eval
main::cfg("    - name: capped\n      key: \"sk-capped\"\n      daily_budget: 0.00003\n")
--- request eval
main::chats(3)
--- more_headers
Authorization: Bearer sk-capped
--- error_code eval
[200, 200, 429]
--- response_body_like eval
["Hello", "Hello", '^\{"error":\{"message":"You exceeded your daily budget of 0\.000030 USD \(0\.000040 USD spent\)","type":"insufficient_quota","code":"insufficient_quota"\}\}$']
--- upstream_hits: 2
--- error_log_once
request of API key "capped" refused: its daily budget of 0.000030 USD is used up
--- no_error_log
sk-capped



=== TEST 5: other keys are not held by one key's budget
--- user_files eval
main::cfg("    - name: capped\n      key: \"sk-capped\"\n      daily_budget: 0.00001\n")
--- request eval
main::chats(3)
--- more_headers eval
["Authorization: Bearer sk-capped", "Authorization: Bearer sk-capped", "Authorization: Bearer sk-alice"]
--- error_code eval
[200, 429, 200]
--- upstream_hits: 2



=== TEST 6: a key's monthly budget
--- user_files eval
main::cfg("    - name: monthly\n      key: \"sk-m\"\n      monthly_budget: 0.00001\n")
--- request eval
main::chats(2)
--- more_headers
Authorization: Bearer sk-m
--- error_code eval
[200, 429]
--- response_body_like eval
["Hello", "monthly budget"]
--- upstream_hits: 1



=== TEST 7: the global daily budget: one warning at the alert threshold, one when used up, then 429 for everyone
--- user_files eval
main::cfg(undef, "  global_daily_budget: 0.00003\n  alert_threshold: 0.5\n  auto_disable_on_budget_exceeded: true\n")
--- request eval
main::chats(4)
--- more_headers
Authorization: Bearer sk-alice
--- error_code eval
[200, 200, 429, 429]
--- response_body_like eval
["Hello", "Hello", "The router's daily budget \\(0\\.000030 USD\\) is used up", "insufficient_quota"]
--- upstream_hits: 2
--- error_log_once
over the alert threshold (50% of 0.000030 USD)
the budget of 0.000030 USD is used up



=== TEST 8: without auto_disable_on_budget_exceeded the budget only warns
--- user_files eval
main::cfg(undef, "  global_daily_budget: 0.00001\n  auto_disable_on_budget_exceeded: false\n")
--- request eval
main::chats(3)
--- more_headers
Authorization: Bearer sk-alice
--- error_code eval
[200, 200, 200]
--- upstream_hits: 3
--- error_log_once
the budget of 0.000010 USD is used up



=== TEST 9: the crossed threshold shows in the stats (summary and alerts)
--- user_files eval
main::cfg(undef, "  global_daily_budget: 0.00003\n  alert_threshold: 0.5\n")
--- request eval
main::chats(1, "GET /v1/stats/summary", "GET /v1/stats/alerts")
--- more_headers eval
["Authorization: Bearer sk-alice", $::Admin, $::Admin]
--- response_body_like eval
["Hello", '"budget":\{"global_daily_budget":0\.00003,"spent_today":0\.00002,"remaining_today":0\.00001,"alert_threshold":0\.5,"state":"alert","enforced":false\}', "budget"]
--- check_json
my ($a) = grep { $_->{type} eq 'budget' } @{$j->{alerts}};
$a && $a->{level} eq 'warning' && $a->{scope} eq 'global'
&& abs($a->{spent} - 0.00002) < 1e-12



=== TEST 10: a key's rate limit (requests a minute): 429 rate_limit_exceeded with Retry-After
--- user_files eval
main::cfg("    - name: slow\n      key: \"sk-slow\"\n      rate_limit: 2\n")
--- request eval
main::chats(3)
--- more_headers
Authorization: Bearer sk-slow
--- error_code eval
[200, 200, 429]
--- response_body_like eval
["Hello", "Hello", '"type":"requests","code":"rate_limit_exceeded"']
--- upstream_hits: 2



=== TEST 11: daily_limit: a channel that used its requests for the day leaves the candidates
--- user_files eval
main::cfg(undef, undef, ["limited", "ok", "    daily_limit: 2\n"], ["backup", "ok"])
--- request eval
main::chats(3, "GET /v1/stats/channel-status")
--- more_headers eval
["Authorization: Bearer sk-alice", "Authorization: Bearer sk-alice", "Authorization: Bearer sk-alice", $::Admin]
--- response_body_like eval
["Hello", "Hello", "Hello", "channels"]
--- check_json
my %c = map { $_->{id} => $_ } @{$j->{channels}};
$c{limited}{requests_today} == 2 && $c{limited}{daily_limit} == 2
&& $c{limited}{daily_limit_reached} && !$c{limited}{available}
&& $c{backup}{requests_today} == 1 && $c{backup}{available}



=== TEST 12: with no other channel, a used-up daily_limit is a 503 without upstream call
--- user_files eval
main::cfg(undef, undef, ["limited", "ok", "    daily_limit: 1\n"])
--- request eval
main::chats(2)
--- more_headers
Authorization: Bearer sk-alice
--- error_code eval
[200, 503]
--- response_body_like eval
["Hello", '"code":"no_channel_available"']
--- upstream_hits: 1



=== TEST 13: the used-up daily limit is an alert
--- user_files eval
main::cfg(undef, undef, ["limited", "ok", "    daily_limit: 1\n"], ["backup", "ok"])
--- request eval
main::chats(1, "GET /v1/stats/alerts")
--- more_headers eval
["Authorization: Bearer sk-alice", $::Admin]
--- check_json
my ($a) = grep { $_->{type} eq 'daily_limit' } @{$j->{alerts}};
$a && $a->{channel} eq 'limited' && $a->{requests} == 1



=== TEST 14: an upstream that sends no usage: the request is still counted
--- user_files eval
main::cfg(undef, undef, ["paid", "nousage"])
--- request eval
main::chats(1, "GET /v1/stats/daily")
--- more_headers eval
["Authorization: Bearer sk-alice", $::Admin]
--- access_log
200 key=alice channel=paid
--- check_json
$j->{total}{requests} == 1 && $j->{by_channel}{paid}{requests} == 1



=== TEST 15: refused requests count as throttled, not as requests
--- user_files eval
main::cfg("    - name: capped\n      key: \"sk-capped\"\n      daily_budget: 0.00001\n")
--- request eval
main::chats(3, "GET /v1/stats/daily")
--- more_headers eval
["Authorization: Bearer sk-capped", "Authorization: Bearer sk-capped", "Authorization: Bearer sk-capped", $::Admin]
--- error_code eval
[200, 429, 429, 200]
--- check_json
my $k = $j->{by_key}{capped};
$k->{requests} == 1 && $k->{throttled} == 2 && $j->{total}{throttled} == 2
&& $j->{total}{requests} == 1 && $j->{total}{errors} == 0



=== TEST 16: cached prompt tokens at cost_per_token's cache_read: 200 x 1 + 800 x 0.1 + 10 x 2 (per million)
--- user_files eval
main::cfg(undef, undef, ["paid", "cached", undef, "{input: 0.000001, output: 0.000002, cache_read: 0.0000001}"])
--- request eval
[ "POST /v1/chat/completions\n$::Chat", "GET /v1/stats/daily" ]
--- more_headers eval
[ "Authorization: Bearer sk-alice", $::Admin ]
--- response_headers eval
[ "X-Router-Cost: 0.00030000", "" ]
--- access_log
200 key=alice channel=paid tokens=1000+10 cost=0.00030000 cached=800
--- check_json
abs($j->{total}{cost} - 0.0003) < 1e-12 && $j->{total}{prompt_tokens} == 1000



=== TEST 17: without a cache price, a cached token costs a prompt token (never under-counted)
--- user_files eval
main::cfg(undef, undef, ["paid", "cached"])
--- request eval
"POST /v1/chat/completions\n$::Chat"
--- more_headers
Authorization: Bearer sk-alice
--- response_headers
X-Router-Cost: 0.00102000
--- access_log
200 key=alice channel=paid tokens=1000+10 cost=0.00102000 cached=800



=== TEST 18: cache writes at cache_write: 100 x 1 + 800 x 1.25 + 3 x 2 (per million)
--- user_files eval
main::cfg(undef, undef, ["paid", "cachewrite", undef, "{input: 0.000001, output: 0.000002, cache_read: 0.0000001, cache_write: 0.00000125}"])
--- request eval
"POST /v1/chat/completions\n$::Chat"
--- more_headers
Authorization: Bearer sk-alice
--- response_headers
X-Router-Cost: 0.00110600
--- access_log
200 key=alice channel=paid tokens=900+3 cost=0.00110600 cached=0



=== TEST 19: a stream with DeepSeek's cache-hit count: 56 x 1 + 64 x 0.1 + 4 x 2 (per million), in the log and the stats
--- user_files eval
main::cfg(undef, undef, ["paid", "dsstream", undef, "{input: 0.000001, output: 0.000002, cache_read: 0.0000001}"])
--- request eval
[ "POST /v1/chat/completions\n$::Stream", "GET /v1/stats/daily" ]
--- more_headers eval
[ "Authorization: Bearer sk-alice", $::Admin ]
--- response_body_like eval
[ "data: \\[DONE\\]", "by_model" ]
--- access_log
200 key=alice channel=paid tokens=120+4 cost=0.00007040 cached=64
--- check_json
abs($j->{total}{cost} - 0.0000704) < 1e-12 && $j->{by_key}{alice}{requests} == 1



=== TEST 20: cache prices from a LiteLLM price file (claude-3-haiku: 0.25 in, 0.03 cached, 1.25 out per million), shown by /v1/models
--- http_config eval
"    airouter_config \$TEST_NGINX_HTML_DIR/router_config.yaml;\n"
. "    airouter_pricing_file \$TEST_NGINX_FIXTURES/litellm-model-prices.json;\n"
. "    log_format money '\$status cost=\$airouter_cost cached=\$airouter_cached_tokens';\n"
. main::count_http_config()
--- user_files eval
my $y = main::cfg(undef, undef, ["paid", "cached", undef, ""]);
$y =~ s/paid-model/claude-3-haiku-20240307/g;
$y
--- request eval
[ "POST /v1/chat/completions\n$::Chat", "GET /v1/models/claude-3-haiku-20240307" ]
--- more_headers
Authorization: Bearer sk-alice
--- response_headers eval
[ "X-Router-Cost: 0.00008650", "" ]
--- access_log
200 cost=0.00008650 cached=800
--- check_json
my $p = $j->{airouter}{pricing} // $j->{pricing};
$p && abs($p->{input_cache_read} - 3e-8) < 1e-15
&& abs($p->{input_cache_write} - 3e-7) < 1e-15
&& abs($p->{prompt} - 2.5e-7) < 1e-15



=== TEST 21: cache prices from an OpenRouter-shape /models answer (models_file)
--- user_files eval
my $y = main::cfg(undef, undef, ["paid", "cached", "    models_file: \"\$TEST_NGINX_HTML_DIR/or-models.json\"\n", ""]);
$y .= ">>> or-models.json\n"
    . '{"data":[{"id":"paid-model","context_length":200000,"pricing":'
    . '{"prompt":"0.000002","completion":"0.000004",'
    . '"input_cache_read":"0.0000005","input_cache_write":"0.0000025"}}]}' . "\n";
$y
--- request eval
"POST /v1/chat/completions\n$::Chat"
--- more_headers
Authorization: Bearer sk-alice
--- response_headers
X-Router-Cost: 0.00084000
--- access_log
200 key=alice channel=paid tokens=1000+10 cost=0.00084000 cached=800
