# A channel with api_keys: [...] spreads requests over its keys in turn; a
# key that hits 429 (or a quota) cools down alone and a key the upstream
# refuses (401) leaves alone, the request retried at once with the next
# key; the channel stays while any key lives and is blacklisted when none
# does.  Keys are shown by index only (X-Router-Key, X-Router-Fallbacks,
# the error log), never by value.
use Test::Nginx::Socket 'no_plan';
use Airouter::Check;
use Airouter::Blocks;
use Airouter::KeyMock;

no_shuffle();
log_level('info');
install_checks();

our $Chat = '{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}';

# "paid" with three keys on the mock's $kind location; "backup" (one key,
# always fine) after it when $backup
sub cfg {
    my ($kind, $backup) = @_;
    my $y = <<"_EOY_";
channels:
  - id: "paid"
    base_url: "http://127.0.0.1:\$TEST_NGINX_RAND_PORT_4/$kind/v1"
    api_keys: ["k1", "k2", "k3"]
    priority: 1
    configured_models: ["paid-model"]
    model_aliases:
      gpt-test: "paid-model"
    cost_per_token: {input: 0.000001, output: 0.000002}
_EOY_
    $y .= <<"_EOY_" if $backup;
  - id: "backup"
    base_url: "http://127.0.0.1:\$TEST_NGINX_RAND_PORT_4/keys/v1"
    api_key: "kb"
    priority: 2
    configured_models: ["backup-model"]
    model_aliases:
      gpt-test: "backup-model"
    cost_per_token: {input: 0.000001, output: 0.000002}
_EOY_
    $y .= "routing:\n  default_strategy: cost_first\n"
        . "  model_filters:\n    min_context_length: 0\n";
    return ">>> router_config.yaml\n$y";
}

sub chats {
    my ($n) = @_;
    return [ map { "POST /v1/chat/completions\n$Chat" } 1 .. $n ];
}

# the mock's answers name the key they were sent with (Airouter::KeyMock)
our $Mock = <<'_EOC_' . key_mock();
    log_format keys '$status $airouter_channel $airouter_channel_key '
                    'attempts=$airouter_attempts';

_EOC_

airouter_blocks(mock => $Mock, config => <<'_EOC_');
    location /v1/ {
        airouter;
        access_log logs/access.log keys;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: requests take the channel's keys in turn
--- user_files eval
main::cfg("keys")
--- request eval
main::chats(6)
--- response_body_like eval
["Bearer k1", "Bearer k2", "Bearer k3", "Bearer k1", "Bearer k2", "Bearer k3"]
--- response_headers eval
["X-Router-Key: key#0", "X-Router-Key: key#1", "X-Router-Key: key#2",
 "X-Router-Key: key#0", "X-Router-Key: key#1", "X-Router-Key: key#2"]
--- upstream_hits: 6



=== TEST 2: a 429 key cools down alone: retried at once with the next key, skipped by the next requests
--- user_files eval
main::cfg("k2limited")
--- request eval
main::chats(6)
--- response_body_like eval
["Bearer k1", "Bearer k3", "Bearer k1", "Bearer k3", "Bearer k1", "Bearer k3"]
--- response_headers eval
["X-Router-Attempts: 1", "X-Router-Fallbacks: paid:rate_limit_exceeded 429 (key#1)\nX-Router-Attempts: 2",
 "X-Router-Attempts: 1", "!X-Router-Fallbacks\nX-Router-Attempts: 1",
 "X-Router-Attempts: 1", "X-Router-Attempts: 1"]
--- upstream_hits: 7
--- error_log_once
"paid" model "paid-model" key#1: rate_limit_exceeded 429 Too Many Requests, key cooldown 30 s
--- no_error_log
Bearer k



=== TEST 3: a 401 key leaves; the channel keeps serving with the others
--- user_files eval
main::cfg("k2dead")
--- request eval
main::chats(5)
--- response_body_like eval
["Bearer k1", "Bearer k3", "Bearer k1", "Bearer k3", "Bearer k1"]
--- response_headers eval
["X-Router-Channel: paid", "X-Router-Fallbacks: paid:invalid_api_key 401 (key#1)",
 "X-Router-Channel: paid", "X-Router-Channel: paid", "X-Router-Channel: paid"]
--- upstream_hits: 6
--- error_log_once
"paid" model "paid-model" key#1: invalid_api_key 401 Unauthorized, key cooldown 3600 s



=== TEST 4: every key dead: the channel is blacklisted and skipped, the next channel serves
--- user_files eval
main::cfg("alldead", 1)
--- request eval
main::chats(3)
--- response_body_like eval
["Bearer kb", "Bearer kb", "Bearer kb"]
--- response_headers eval
["X-Router-Channel: backup\nX-Router-Attempts: 4\nX-Router-Fallbacks: paid:invalid_api_key 401 (key#0), paid:invalid_api_key 401 (key#1), paid:invalid_api_key 401 (key#2)",
 "X-Router-Channel: backup\nX-Router-Attempts: 1\n!X-Router-Fallbacks",
 "X-Router-Channel: backup\nX-Router-Attempts: 1"]
--- upstream_hits: 6
--- error_log_once
key#2: invalid_api_key 401 Unauthorized, channel cooldown 3600 s



=== TEST 5: every key rate limited: the model cools down as with a single key
--- user_files eval
main::cfg("alllimited", 1)
--- request eval
main::chats(2)
--- response_body_like eval
["Bearer kb", "Bearer kb"]
--- response_headers eval
["X-Router-Attempts: 4", "X-Router-Attempts: 1"]
--- upstream_hits: 5
--- error_log_once
key#2: rate_limit_exceeded 429 Too Many Requests, model cooldown



=== TEST 6: a key's value never reaches the client or the log
--- user_files eval
main::cfg("k2dead")
--- request eval
main::chats(2)
--- response_headers eval
["!X-Router-Fallbacks", "X-Router-Fallbacks: paid:invalid_api_key 401 (key#1)"]
--- no_error_log
Bearer



=== TEST 7: $airouter_channel_key names the key that served
--- user_files eval
main::cfg("keys")
--- request eval
main::chats(1)
--- access_log
200 paid key#0 attempts=1



=== TEST 8: a key out of quota (402) is kept away alone, like a dead one
--- user_files eval
main::cfg("k2quota")
--- request eval
main::chats(4)
--- response_body_like eval
["Bearer k1", "Bearer k3", "Bearer k1", "Bearer k3"]
--- upstream_hits: 5
--- error_log_once
"paid" model "paid-model" key#1: quota_exceeded 402 Payment Required, key cooldown 3600 s



=== TEST 9: /metrics names the key kept away, by index and fault, never by value
--- user_files eval
main::cfg("k2limited")
--- config
    location /v1/ {
        airouter;
    }
    location = /metrics { airouter_metrics; }
--- request eval
[ "POST /v1/chat/completions\n$::Chat", "POST /v1/chat/completions\n$::Chat", "GET /metrics" ]
--- response_body_like eval
[ "Bearer k1", "Bearer k3",
  qr/\A(?!.*\bk[123]\b).*airouter_channel_key_blocked\{channel="paid",key="key#0",reason="none"\} 0\nairouter_channel_key_blocked\{channel="paid",key="key#1",reason="rate_limit_exceeded"\} 1\nairouter_channel_key_blocked\{channel="paid",key="key#2",reason="none"\} 0\n/s ]
