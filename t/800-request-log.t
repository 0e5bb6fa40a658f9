# The request log (airouter_request_log, GET /v1/admin/requests): every
# routed request in a ring in the shared zone, newest first, with its key
# by name, the model asked for and the one that answered, its channel,
# dialect, status, each attempt's outcome, TTFB, duration, tokens and cost;
# filters; the ring's size; never a key value.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Check;
use Airouter::Control;
use Airouter::Blocks;
use Airouter::HTTP;

no_shuffle();
log_level('info');
install_checks();

control_suite();

# the first channel fails with a 500, the second (counting upstream)
# answers 10 + 5 tokens
our @Fall = (["first", "mock:e500", 0.000001, 0.000002],
             ["second", "ok", 0.000002, 0.000004]);

our $Keys = <<'_EOY_';
  enabled: true
  api_keys:
    - name: team-a
      key: "sk-team-a"
    - name: team-b
      key: "sk-team-b"
_EOY_

# a /v1/admin/requests body holding exactly these records, in this order
sub ids {
    return '^\{"requests":\['
        . join(',', map { "\\{\"id\":$_,(?:(?!\"id\":).)*" } @_)
        . '\],"size":1000,"last":\d+\}$';
}

# cfg() with API keys in its auth block
sub keyed { my $y = main::cfg(undef, @_); $y =~ s/^auth:\n/auth:\n$Keys/m; $y }

run_tests();

__DATA__

=== TEST 1: a fallback is logged with both attempts, tokens, cost and times
--- user_files eval
main::cfg(undef, @::Fall)
--- request eval
[main::chat(), "GET /v1/admin/requests"]
--- more_headers eval
["", $::Admin]
--- response_body_like eval
["Hello", '"requests"']
--- check_json
my $r = $j->{requests}[0];
@{$j->{requests}} == 1 && $j->{size} == 1000 && $j->{last} == 1
&& $r->{id} == 1 && !defined $r->{key}
&& $r->{model_requested} eq 'gpt-test' && $r->{channel} eq 'second'
&& $r->{model} eq 'second-model' && $r->{dialect} eq 'openai'
&& $r->{status} == 200 && $r->{outcome} eq 'ok' && $r->{attempts} == 2
&& !$r->{stream}
&& @{$r->{tried}} == 2
&& $r->{tried}[0]{channel} eq 'first' && $r->{tried}[0]{outcome} eq 'server_error'
&& $r->{tried}[0]{status} == 500
&& $r->{tried}[1]{channel} eq 'second' && $r->{tried}[1]{outcome} eq 'ok'
&& $r->{tried}[1]{status} == 200
&& $r->{prompt_tokens} == 10 && $r->{completion_tokens} == 5
&& abs($r->{cost} - (10 * 0.000002 + 5 * 0.000004)) < 1e-12
&& defined $r->{ttfb_ms} && $r->{ttfb_ms} >= 0
&& $r->{duration_ms} >= $r->{ttfb_ms}
&& $r->{time} =~ /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/
&& abs($r->{time_ms} / 1000 - time()) < 30



=== TEST 2: the key by its name, never its value nor the channels' keys
--- user_files eval
main::keyed(@::Fall)
--- request eval
[main::chat(), main::chat('no-such-model'), "GET /v1/admin/requests"]
--- more_headers eval
["Authorization: Bearer sk-team-a", "Authorization: Bearer sk-team-b", $::Admin]
--- error_code eval
[200, 404, 200]
--- response_body_unlike eval
["sk-", "sk-", "sk-"]
--- check_json
my ($b, $a) = @{$j->{requests}};
@{$j->{requests}} == 2
&& $a->{key} eq 'team-a' && $b->{key} eq 'team-b'
&& $b->{model_requested} eq 'no-such-model' && $b->{status} == 404
&& !defined $b->{channel} && !defined $b->{ttfb_ms}
&& $b->{attempts} == 0 && @{$b->{tried}} == 0



=== TEST 3: filters: status, channel, key, model, limit and since
--- user_files eval
main::keyed(["first", "ok", 0.000001, 0.000002], ["second", "mock:e500", 0.000002, 0.000004, "    configured_models: [\"bad-model\"]\n"])
--- request eval
[main::chat(), main::chat('bad-model'), main::chat(), main::chat('bad-model'),
 "GET /v1/admin/requests?status=5xx",
 "GET /v1/admin/requests?status=error&limit=1",
 "GET /v1/admin/requests?status=200&channel=first",
 "GET /v1/admin/requests?key=team-b",
 "GET /v1/admin/requests?model=bad-model&since=2",
 "GET /v1/admin/requests?model=first-model",
 "GET /v1/admin/requests?status=ok&limit=5"]
--- more_headers eval
["Authorization: Bearer sk-team-a", "Authorization: Bearer sk-team-a",
 "Authorization: Bearer sk-team-b", "Authorization: Bearer sk-team-a",
 ($::Admin) x 7]
--- error_code eval
[200, 500, 200, 503, (200) x 7]
--- response_body_like eval
["Hello", "error", "Hello", "error",
 main::ids(4, 2), main::ids(4), main::ids(3, 1), main::ids(3), main::ids(4),
 main::ids(3, 1), main::ids(3, 1)]



=== TEST 4: bad filters are a 400; the admin token is needed
--- request eval
["GET /v1/admin/requests?limit=0", "GET /v1/admin/requests?status=abc",
 "GET /v1/admin/requests?since=x", "GET /v1/admin/requests",
 "POST /v1/admin/requests\n{}"]
--- more_headers eval
[$::Admin, $::Admin, $::Admin, "", $::Admin]
--- error_code eval
[400, 400, 400, 401, 405]
--- response_body_like eval
['"code":"invalid_limit"', '"code":"invalid_status"', '"code":"invalid_since"',
 '"error"', '"code":"method_not_allowed"']



=== TEST 5: airouter_request_log 2 keeps the two newest
--- extra_http_config
    airouter_request_log 2;
--- request eval
[main::chat(), main::chat(), main::chat(), "GET /v1/admin/requests?limit=50"]
--- more_headers eval
["", "", "", $::Admin]
--- check_json
$j->{size} == 2 && $j->{last} == 3 && @{$j->{requests}} == 2
&& $j->{requests}[0]{id} == 3 && $j->{requests}[1]{id} == 2



=== TEST 6: airouter_request_log 0 keeps none
--- extra_http_config
    airouter_request_log 0;
--- request eval
[main::chat(), "GET /v1/admin/requests"]
--- more_headers eval
["", $::Admin]
--- response_body_like eval
["Hello", '^\{"requests":\[\],"size":0,"last":0\}$']



=== TEST 7: a ring the zone cannot hold fails nginx -t with the sizes
--- http_config
    airouter_config $TEST_NGINX_HTML_DIR/router_config.yaml;
    airouter_zone   airouter_big 1m;
    airouter_request_log 100000;
--- config
    location /v1/ { airouter; }
--- must_die
--- error_log eval
qr/"airouter_request_log 100000" needs \d+ bytes, more than half of zone "airouter_big" \(1048576 bytes\): raise the size in "airouter_zone" or keep fewer requests/



=== TEST 8: a bad size is refused
--- http_config
    airouter_config $TEST_NGINX_HTML_DIR/router_config.yaml;
    airouter_request_log lots;
--- config
    location /v1/ { airouter; }
--- must_die
--- error_log
invalid request log size "lots": a number of requests from 0 (off) to 100000



=== TEST 9: a client's model name is stored as printable ASCII only
--- request eval
["POST /v1/chat/completions\n{\"model\": \"x\\u0001\\n\\u00e9y\", \"messages\": [{\"role\": \"user\", \"content\": \"secret words\"}]}",
 "GET /v1/admin/requests"]
--- more_headers eval
["", $::Admin]
--- error_code eval
[404, 200]
--- response_body_unlike eval
["secret words", "secret words"]
--- check_json
$j->{requests}[0]{model_requested} eq 'x????y' 



=== TEST 10: a request every attempt failed: each attempt once, the outcome of the last
--- user_files eval
main::cfg(undef, ["first", "mock:e503", 0.000001, 0.000002], ["second", "mock:e500", 0.000002, 0.000004])
--- request eval
[main::chat(), "GET /v1/admin/requests"]
--- more_headers eval
["", $::Admin]
--- error_code eval
[500, 200]
--- check_json
my $r = $j->{requests}[0];
$r->{status} == 500 && $r->{outcome} eq 'server_error' && $r->{attempts} == 2
&& join(' ', map { "$_->{channel}:$_->{outcome}:$_->{status}" } @{$r->{tried}})
   eq 'first:server_error:503 second:server_error:500'
&& !defined $r->{prompt_tokens} && !defined $r->{cost}



=== TEST 11: the client's dialect: an Anthropic Messages request
--- request eval
["POST /v1/messages\n{\"model\": \"gpt-test\", \"max_tokens\": 10, \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
 "GET /v1/admin/requests"]
--- more_headers eval
["", $::Admin]
--- check_json
my $r = $j->{requests}[0];
$r->{dialect} eq 'anthropic' && $r->{status} == 200 && $r->{channel} eq 'first'
&& $r->{prompt_tokens} == 10



=== TEST 12: one answer holds at most 1000 records
--- extra_http_config
    airouter_request_log 1200;
--- init
for (1 .. 1001) {
    Airouter::HTTP::http_request($ENV{TEST_NGINX_SERVER_PORT}, 'POST', '/v1/chat/completions',
        body => '{"model": "no-such-model", "messages": [{"role": "user", "content": "hi"}]}');
}
--- request
GET /v1/admin/requests?limit=5000
--- more_headers eval: $::Admin
--- timeout: 20
--- check_json
$j->{size} == 1200 && $j->{last} == 1001 && @{$j->{requests}} == 1000
&& $j->{requests}[0]{id} == 1001 && $j->{requests}[-1]{id} == 2
