# Channel hosts through nginx's resolver: with "resolver" at http level,
# each worker resolves every channel's host name and refreshes it every
# airouter_resolve_interval, so the proxy follows a provider that moves; a
# name that does not resolve is skipped (the next channel answers) with one
# warning; a failed refresh keeps the address the channel has.  Without
# "resolver", names are resolved once at start-up, as before.
#
# The DNS server (t/lib/Airouter/DNS.pm) answers from html/dns.zone, which
# a block writes with --- user_files and a check rewrites mid-block.  The
# second upstream listens on 127.0.0.2 (Linux routes 127.0.0.0/8 to lo).
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Blocks;
use Airouter::DNS;
use Airouter::HTTP;
use Time::HiRes qw(sleep time);
use JSON::PP ();

no_shuffle();
log_level('info');

my $Zone = html_dir() . '/dns.zone';
$ENV{TEST_NGINX_DNS_PORT} = Airouter::DNS::start($Zone);

my $Req = '{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}';

my $two_body = '{"id":"chatcmpl-2","object":"chat.completion","created":1,'
    . '"model":"upstream-model","choices":[{"index":0,"message":{"role":'
    . '"assistant","content":"Hello from two!"},"finish_reason":"stop"}],'
    . '"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}';

our $Two = <<"_EOC_";
    server {
        listen 127.0.0.2:\$TEST_NGINX_RAND_PORT_1;
        default_type application/json;
        access_log off;
        error_log logs/mock_error.log info;

        location /ok/ {
            echo_read_request_body;
            echo '$two_body';
        }
    }
_EOC_

our $Resolver = <<'_EOC_';
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT ipv6=off valid=1s;
    resolver_timeout 1s;
    airouter_resolve_interval 1s;
_EOC_

# router_config.yaml with one channel per [id, base_url], in order of
# priority and cost (so that a channel that was skipped for a while still
# ranks first once it resolves), each serving "gpt-test"
sub yaml_urls {
    my $yaml = "channels:\n";
    my $prio = 1;
    for my $c (@_) {
        my ($id, $base) = @$c;
        $yaml .= <<"_EOY_";
  - id: "$id"
    base_url: "$base"
    api_key: "sk-$id-secret"
    priority: $prio
    configured_models: ["$id-model"]
    model_aliases:
      gpt-test: "$id-model"
    cost_per_token: {input: 0.00000$prio, output: 0.00000$prio}
_EOY_
        $prio++;
    }
    return $yaml . "routing:\n  model_filters:\n    min_context_length: 0\n";
}

# the worker's first resolution is a second after nginx starts (init)
airouter_blocks(
    http => sub { ($_[0]->resolver // 'on') eq 'off' ? '' : $Resolver },
    mock => mock_http_config() . $Two, config => mock_config(),
    request => "POST /v1/chat/completions\n$Req", init => "sleep 1.3;");

# --- then_zone: the DNS answer changes (after the block's request);
# --- then_sleep: seconds to let refreshes happen;
# --- then_channel / then_body: within 8 s, a request is answered by that
# channel with that body (a regex), and the 3 requests after it too
# What /health, /v1/route and a chat say of "gpt-test" now: (channels
# enabled, /v1/route's available, the chat's status and body).  They must
# agree (#13 item 10).
sub views {
    my ($st, $h, $health) = raw_get(server_port(), "/health");
    my $hj = eval { JSON::PP::decode_json($health) } // {};
    my ($rst, $rh, $route) = raw_post(server_port(), "/v1/route", $Req);
    my $rj = eval { JSON::PP::decode_json($route) } // {};
    my ($cst, $ch, $chat) = raw_post(server_port(), "/v1/chat/completions", $Req);
    return ($hj->{channels}{enabled} // -1, $rj->{available} // -1, $cst, $chat);
}

sub raw_get { (http_request($_[0], 'GET', $_[1]))[0 .. 2] }

# --- unresolved_views: before anything else, /health, /v1/route and a chat
# agree that the block's only channel cannot be reached, the chat with a 503
# that says why
add_response_body_check(sub {
    my ($block, $content, $idx) = @_;
    return unless defined $block->unresolved_views && $idx == 0;
    my $name = $block->name;
    my ($enabled, $available, $cst, $chat) = views();
    ok($enabled == 0 && $available == 0,
       "$name - /health and /v1/route: not available")
        or diag("enabled $enabled, available $available");
    ok($cst == 503 && $chat =~ /"code":"no_channel_available"/
       && $chat =~ /host name of its base_url has not resolved \(1 host_unresolved\)/,
       "$name - the chat: a 503 that says why") or diag("$cst $chat");
});

add_response_body_check(sub {
    my ($block, $content, $idx) = @_;
    return unless defined $block->then_channel && $idx == 0;
    my $name = $block->name;

    Airouter::DNS::zone($Zone, $block->then_zone) if defined $block->then_zone;
    sleep $block->then_sleep if defined $block->then_sleep;

    my $want_body = $block->then_body // 'Hello';
    my $last = '';
    my $match = sub {
        my ($st, $h, $body) = raw_post(server_port(), "/v1/chat/completions", $Req);
        $last = "$st " . join(' ', map { "$_: $h->{$_}" } grep { /^x-router/ } sort keys %$h)
                . " $body";
        return $st == 200 && ($h->{'x-router-channel'} // '') eq $block->then_channel
               && $body =~ /$want_body/;
    };

    my $t0 = time;
    my $ok = 0;
    while (time - $t0 < 8) {
        last if $ok = $match->();
        sleep 0.2;
    }
    ok($ok, "$name - answered by " . $block->then_channel . " /$want_body/")
        or diag("last answer: $last");
    diag(sprintf "$name - after %.1f s", time - $t0) if $ok && $ENV{TEST_VERBOSE};

    my $all = 1;
    for (1 .. 3) { $all &&= $match->(); }
    ok($all, "$name - and by it again");

    return unless defined $block->then_views;
    my @v = views();
    is(join(' ', @v[0 .. 2]), $block->then_views,
       "$name - /health (enabled), /v1/route (available) and the chat agree");
});

run_tests();

__DATA__

=== TEST 1: with a resolver, a channel whose host only the DNS server knows is proxied to
--- user_files eval
">>> dns.zone\nllm.airouter.test 127.0.0.1\n"
. ">>> router_config.yaml\n"
. main::yaml_urls(["byname", 'http://llm.airouter.test:$TEST_NGINX_RAND_PORT_1/ok/v1'])
--- response_headers
X-Router-Channel: byname
X-Router-Attempts: 1
--- response_body_like: "content":"Hello!"
--- error_log eval
qr/airouter: channel "byname": "llm.airouter.test" is 127\.0\.0\.1:\d+/
--- no_error_log
could not be resolved
is left out



=== TEST 2: when the DNS answer changes, requests go to the new address after a refresh, not to a kept-alive connection to the old one
--- user_files eval
">>> dns.zone\nllm.airouter.test 127.0.0.1\n"
. ">>> router_config.yaml\n"
. main::yaml_urls(["byname", 'http://llm.airouter.test:$TEST_NGINX_RAND_PORT_1/ok/v1'])
--- response_headers
X-Router-Channel: byname
--- response_body_like: "content":"Hello!"
--- then_zone
llm.airouter.test 127.0.0.2
--- then_channel: byname
--- then_body: Hello from two!
--- error_log eval
qr/"llm.airouter.test" is now 127\.0\.0\.2:\d+, was 127\.0\.0\.1:\d+/
--- no_error_log
could not be resolved



=== TEST 3: a name that does not resolve falls back to the next channel, with one warning however many refreshes fail
--- user_files eval
">>> router_config.yaml\n"
. main::yaml_urls(["lost", 'http://nowhere.airouter.test:$TEST_NGINX_RAND_PORT_1/ok/v1'],
                  ["up", 'http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/ok/v1'])
--- response_headers
X-Router-Channel: up
X-Router-Attempts: 1
--- response_body_like: "content":"Hello!"
--- then_sleep: 2.5
--- then_channel: up
--- error_log eval
qr/airouter: channel "lost": "nowhere.airouter.test" could not be resolved \(3: Host not found\), the channel is skipped until it is/
--- grep_error_log: could not be resolved
--- grep_error_log_out
could not be resolved
--- no_error_log
is left out



=== TEST 4: with only that channel, the 503 says that its host has not resolved, as /v1/route and /health do
--- user_files eval
">>> router_config.yaml\n"
. main::yaml_urls(["lost", 'http://nowhere.airouter.test:$TEST_NGINX_RAND_PORT_1/ok/v1'])
--- config eval
main::mock_config() . "    location = /health { airouter_health; }\n"
--- error_code: 503
--- response_body_like: has not resolved \(1 host_unresolved\).*"code":"no_channel_available"
--- unresolved_views
--- no_error_log
is left out



=== TEST 5: a name that did not resolve at start-up is used as soon as DNS knows it
--- user_files eval
">>> router_config.yaml\n"
. main::yaml_urls(["late", 'http://late.airouter.test:$TEST_NGINX_RAND_PORT_1/ok/v1'],
                  ["up", 'http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/ok/v1'])
--- response_headers
X-Router-Channel: up
--- then_zone
late.airouter.test 127.0.0.2
--- then_channel: late
--- then_body: Hello from two!
--- error_log eval
[qr/"late.airouter.test" could not be resolved/,
 qr/"late.airouter.test" resolves again, to 127\.0\.0\.2:\d+/]



=== TEST 6: a failed refresh keeps the address the channel has, with one warning
--- user_files eval
">>> dns.zone\nllm.airouter.test 127.0.0.1\n"
. ">>> router_config.yaml\n"
. main::yaml_urls(["byname", 'http://llm.airouter.test:$TEST_NGINX_RAND_PORT_1/ok/v1'],
                  ["up", 'http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/echo/v1'])
--- response_headers
X-Router-Channel: byname
--- then_zone
--- then_sleep: 2.5
--- then_channel: byname
--- then_body: "content":"Hello!"
--- error_log eval
qr/"llm.airouter.test" could not be resolved \(3: Host not found\), keeping 127\.0\.0\.1:\d+/
--- grep_error_log: could not be resolved
--- grep_error_log_out
could not be resolved



=== TEST 7: without a resolver, a name resolves once at start-up: one the system does not know leaves its channel out, as before
--- resolver: off
--- user_files eval
">>> dns.zone\nllm.airouter.test 127.0.0.1\n"
. ">>> router_config.yaml\n"
. main::yaml_urls(["byname", 'http://llm.airouter.test:$TEST_NGINX_RAND_PORT_1/ok/v1'],
                  ["up", 'http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/ok/v1'])
--- response_headers
X-Router-Channel: up
X-Router-Attempts: 1
--- error_log
airouter: channel "byname" is left out: "llm.airouter.test:
--- no_error_log
could not be resolved
"llm.airouter.test" is



=== TEST 8: a channel whose host has not resolved is not available to /health, /v1/route or a chat; when DNS learns the name, it is, in all three
--- user_files eval
">>> router_config.yaml\n"
. main::yaml_urls(["late", 'http://late.airouter.test:$TEST_NGINX_RAND_PORT_1/ok/v1'])
--- config eval
main::mock_config() . "    location = /health { airouter_health; }\n"
--- request
POST /v1/route
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- response_body_like: "available":0,.*"filtered":\{"host_unresolved":1\}
--- unresolved_views
--- then_zone
late.airouter.test 127.0.0.2
--- then_channel: late
--- then_body: Hello from two!
--- then_views: 1 1 200



=== TEST 9: without a resolver, a channel left out at start-up is not available either, and the chat's 503 says why
--- resolver: off
--- user_files eval
">>> router_config.yaml\n"
. main::yaml_urls(["byname", 'http://nowhere.airouter.test:$TEST_NGINX_RAND_PORT_1/ok/v1'])
--- config eval
main::mock_config() . "    location = /health { airouter_health; }\n"
--- request
GET /health
--- response_body_like: "channels":\{"enabled":0,"total":1\}
--- unresolved_views
--- error_log
airouter: channel "byname" is left out: "nowhere.airouter.test:



=== TEST 10: GET /v1/admin/channels says which channel has no address
--- resolver: off
--- user_files eval
">>> router_config.yaml\n"
. main::yaml_urls(["byname", 'http://nowhere.airouter.test:$TEST_NGINX_RAND_PORT_1/ok/v1'],
                  ["up", 'http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/ok/v1'])
--- config eval
main::mock_config() . "    location /v1/admin/ { airouter_admin; }\n"
--- request
GET /v1/admin/channels
--- response_body_like: "id":"byname",[^}]*"enabled":true,"reachable":false,.*"id":"up",[^}]*"enabled":true,"reachable":true,



=== TEST 11: a model whose only enabled channel has a host that does not resolve (NXDOMAIN) is a 503 saying so, though two channels off in the configuration list it too; with every channel off it does not exist (404)
--- user_files eval
">>> router_config.yaml\n"
. (main::yaml_urls(["off", 'http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/ok/v1'],
                   ["lost", 'http://nowhere.airouter.test:$TEST_NGINX_RAND_PORT_1/ok/v1'],
                   ["off2", 'http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/ok/v1'])
   =~ s/(  - id: "off2?"\n)/$1    enabled: false\n/gr
   =~ s/configured_models: \["off2-model"\]/configured_models: ["only-off"]/r)
--- request eval
["POST /v1/chat/completions\n" . '{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}',
 "POST /v1/chat/completions\n" . '{"model": "only-off", "messages": [{"role": "user", "content": "hi"}]}']
--- error_code eval
[503, 404]
--- response_body_like eval
['^\{"error":\{"message":"No channel serving \\\\"gpt-test\\\\" can be reached: the host name of its base_url has not resolved \(2 channel_disabled, 1 host_unresolved\)","type":"server_error","code":"no_channel_available"\}\}$',
 '"code":"model_not_found"']
--- no_error_log
[error]
