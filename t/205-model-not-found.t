# A 404 model_not_found is the channel's word on one endpoint (#13 item 9):
# it keeps that (channel, model) away from the endpoint that failed only
# (a chat model may well 404 on /v1/completions), briefly, until discovery
# has asked the channel's /models: a model no longer listed is then kept
# away for the blacklist period, one still listed only for the short block.
# /v1/route, /metrics and the admin reset see the same blocks.
#
# The mock on $TEST_NGINX_RAND_PORT_1 serves chat and completions for every
# channel, except /v1/completions of "gone" and "listed", which answer 404
# model_not_found.  "gone"'s /models no longer lists gone-model; "listed"'s
# still lists listed-model.  "up" serves everything.
use Test::Nginx::Socket 'no_plan';
use Time::HiRes qw(sleep time);
use Airouter::Check;
use Airouter::Blocks;
use Airouter::ModelNotFound;

no_shuffle();
install_checks();     # --- error_log_all: after the last request
log_level('info');

# the mock and yaml(): t/lib/Airouter/ModelNotFound.pm

our $Chat = "POST /v1/chat/completions\n"
    . '{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}';
our $Text = "POST /v1/completions\n" . '{"model": "gpt-test", "prompt": "hi"}';

# Waits until error.log has a line matching re (discovery's answer).
sub wait_log {
    my ($re) = @_;
    my $log = server_root() . "/logs/error.log";
    for (1 .. 100) {
        my $text = do { local (@ARGV, $/) = $log; <> } // '';
        return 1 if $text =~ $re;
        sleep 0.1;
    }
    return 0;
}

# --- wait_log: after the first request, a line of error.log holds this text
# within 10 s (one assertion): discovery's answer, before /metrics is read
add_response_body_check(sub {
    my ($block, $body, $idx) = @_;
    return unless defined $block->wait_log && $idx == 0;
    ok(wait_log(qr/\Q${\ $block->wait_log}\E/),
       $block->name . " - error.log: " . $block->wait_log);
});

airouter_blocks(mock => $Mock, config => <<'_EOC_', no_error_log => "[error]");
    location /v1/       { airouter; }
    location /v1/admin/ { airouter_admin; }
    location = /metrics { airouter_metrics; }
_EOC_

run_tests();

__DATA__

=== TEST 1: a 404 model_not_found on /v1/completions keeps the model away from completions only: chat still goes to it
--- user_files eval
">>> router_config.yaml\n" . main::yaml("gone", "false")
--- request eval
[$main::Text, $main::Chat, $main::Text]
--- error_code eval
[200, 200, 200]
--- response_headers eval
["X-Router-Channel: up\nX-Router-Fallbacks: gone:model_not_found 404",
 "X-Router-Channel: gone\nX-Router-Attempts: 1",
 "X-Router-Channel: up\nX-Router-Attempts: 1"]
--- error_log_all
airouter: "gone" model "gone-model": model_not_found 404 Not Found, endpoint (until discovery confirms) cooldown 60 s



=== TEST 2: /v1/route agrees: the model is available for chat, not for completions
--- user_files eval
">>> router_config.yaml\n" . main::yaml("gone", "false")
--- request eval
[$main::Text,
 "POST /v1/route\n" . '{"model": "gpt-test", "endpoint": "chat", "messages": [{"role": "user", "content": "hi"}]}',
 "POST /v1/route\n" . '{"model": "gpt-test", "endpoint": "completions", "prompt": "hi"}']
--- response_body_like eval
["Hello!",
 '"available":2,"candidates":\[\{"rank":1,"channel":"gone"',
 '"available":1,"candidates":\[\{"rank":1,"channel":"up".*"filtered":\{"unavailable":1\},"removed":\[\{"channel":"gone","model":"gone-model","reason":"unavailable"\}\]']



=== TEST 3: /metrics shows the block on its endpoint, and the model itself open
--- user_files eval
">>> router_config.yaml\n" . main::yaml("gone", "false")
--- request eval
[$main::Text, "GET /metrics"]
--- response_body_like eval
["Hello!",
 qr/\A(?!.*airouter_model_blocked\{channel="gone",model="gone-model",reason="model_not_found"\})/s
 . qr/.*airouter_model_endpoint_blocked\{channel="gone",model="gone-model",endpoint="completions",reason="model_not_found"\} 1\n/s
 . qr/.*airouter_model_endpoint_blocked_seconds\{channel="gone",model="gone-model",endpoint="completions"\} ([1-5]\d|60)\n/s]



=== TEST 4: discovery confirms: the channel's /models no longer lists the model, so it is kept away from completions for the blacklist period
--- user_files eval
">>> router_config.yaml\n" . main::yaml("gone", "true")
--- request eval
[$main::Text, "GET /metrics"]
--- response_body_like eval
["Hello!",
 'airouter_model_endpoint_blocked_seconds\{channel="gone",model="gone-model",endpoint="completions"\} 3[56]\d\d\n']
--- wait_log: airouter: discovery: "gone" no longer lists "gone-model": blocked for the blacklist period



=== TEST 5: discovery finds the model still listed: the short block stands
--- user_files eval
">>> router_config.yaml\n" . main::yaml("listed", "true")
--- request eval
[$main::Text, "GET /metrics"]
--- response_body_like eval
["Hello!",
 'airouter_model_endpoint_blocked_seconds\{channel="listed",model="listed-model",endpoint="completions"\} ([1-5]\d|60)\n']
--- wait_log: airouter: discovery: "listed" still lists "listed-model": its model_not_found block stays short



=== TEST 6: the admin reset of the channel lifts its blocks on single endpoints too
--- user_files eval
">>> router_config.yaml\n" . main::yaml("gone", "false")
--- request eval
[$main::Text, "POST /v1/admin/channels/gone/reset", "GET /metrics"]
--- response_body_like eval
["Hello!", '"reset"',
 'airouter_model_endpoint_blocked\{channel="gone",model="gone-model",endpoint="completions",reason="none"\} 0\n']



=== TEST 7: error_log debug tells the live-state decisions: the block on one endpoint, discovery's check, the longer block
--- log_level: debug
--- user_files eval
">>> router_config.yaml\n" . main::yaml("gone", "true")
--- request eval
[$main::Text, "GET /metrics"]
--- wait_log: airouter: discovery: "gone" no longer lists "gone-model"
--- error_log_all
airouter: live: "gone" "gone-model": model_not_found, the model on this endpoint blocked for 60 s until discovery confirms
airouter: discovery: "gone" does not know "gone-model": asking its /models
airouter: live: "gone" "gone-model" is gone from /models: blocked on completions for 3600 s
