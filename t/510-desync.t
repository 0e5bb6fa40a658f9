# Request desync: every answer that airouter gives before reading the
# request body (a refused token, a key over its rate in the access phase,
# a wrong method or URL, a GET that carries a body) leaves no byte of that
# body for the next request on a keepalive connection.  Each block sends,
# on one connection, a request whose body is itself a request
# ("GET /smuggled"), then "GET /after" with Connection: close.  The
# smuggled request must never be served, and the connection must still
# serve /after; once with Content-Length, once chunked (where leftover
# chunk lines would break /after instead).
use Test::Nginx::Socket 'no_plan';
use Airouter::Blocks;
use Airouter::HTTP;

no_shuffle();

our $Smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
our $After = "GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

# "METHOD /uri" and extra header lines: the request with a Content-Length
# body, then /after
sub desync {
    my ($line, @headers) = @_;
    my $h = join '', map { "$_\r\n" } @headers;
    return "$line HTTP/1.1\r\nHost: localhost\r\n$h"
         . "Content-Length: " . length($Smuggled) . "\r\n\r\n"
         . $Smuggled . $After;
}

# The key "slow" (one request a minute) spends its minute: a body that is
# not JSON, answered 400 after admission counted it.
sub spend_slow {
    my ($status) = http_request($ENV{TEST_NGINX_SERVER_PORT}, 'POST',
                                '/v1/chat/completions', token => 'sk-slow',
                                body => 'x');
    die "the request spending the minute got $status, not 400\n"
        if $status != 400;
}

# the same with a chunked body: two chunks and the last one
sub desync_chunked {
    my ($line, @headers) = @_;
    my $h = join '', map { "$_\r\n" } @headers;
    my ($a, $b) = (substr($Smuggled, 0, 10), substr($Smuggled, 10));
    return "$line HTTP/1.1\r\nHost: localhost\r\n$h"
         . "Transfer-Encoding: chunked\r\n\r\n"
         . sprintf("%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n",
                   length $a, $a, length $b, $b)
         . $After;
}

our $Config = <<'_EOY_';
auth:
  enabled: true
  api_keys:
    - name: alice
      key: "sk-alice"
    - name: slow
      key: "sk-slow"
      rate_limit: 1
  admin:
    enabled: true
    admin_token: "adm-token"
channels:
  - id: a
    base_url: "http://127.0.0.1:9/v1"
    api_key: "sk-up"
    configured_models: ["m1"]
_EOY_

airouter_blocks(config => <<'_EOC_',
    location /v1/ { airouter; }
    location /v1/admin/ { airouter_admin; }
    location /openai/ { airouter; }
    location = /health { airouter_health; }
    location = /metrics { airouter_metrics; }
    location = /smuggled { return 200 "smuggled\n"; }
    location = /after { return 200 "after\n"; }
_EOC_
                user_files => ">>> router_config.yaml\n$Config",
                no_access_log => "GET /smuggled",
                access_log => qr{"GET /after HTTP/1\.1" 200},
                # /after's log line is written once its answer is sent:
                # under load, after the harness has read the first answer
                wait => 1);

run_tests();

__DATA__

=== TEST 1: chat without a token: 401, body dropped
--- raw_request eval
main::desync("POST /v1/chat/completions")
--- error_code: 401
--- response_body_like: missing_api_key



=== TEST 2: chat without a token, chunked body
--- raw_request eval
main::desync_chunked("POST /v1/chat/completions")
--- error_code: 401
--- response_body_like: missing_api_key



=== TEST 3: chat with a wrong token
--- raw_request eval
main::desync("POST /v1/chat/completions", "Authorization: Bearer sk-wrong")
--- error_code: 401
--- response_body_like: invalid_api_key



=== TEST 4: chat with a wrong token, chunked body
--- raw_request eval
main::desync_chunked("POST /v1/chat/completions",
                     "Authorization: Bearer sk-wrong")
--- error_code: 401
--- response_body_like: invalid_api_key



=== TEST 5: chat with the admin token (not an API key)
--- raw_request eval
main::desync("POST /v1/chat/completions", "Authorization: Bearer adm-token")
--- error_code: 401
--- response_body_like: invalid_api_key



=== TEST 6: an admin POST with a client key
--- raw_request eval
main::desync("POST /v1/admin/routing/strategy",
             "Authorization: Bearer sk-alice")
--- error_code: 401
--- response_body_like: admin token



=== TEST 7: an admin POST with a client key, chunked body
--- raw_request eval
main::desync_chunked("POST /v1/admin/routing/strategy",
                     "Authorization: Bearer sk-alice")
--- error_code: 401
--- response_body_like: admin token



=== TEST 8: GET /v1/admin/channels with a body
--- raw_request eval
main::desync("GET /v1/admin/channels", "Authorization: Bearer adm-token")
--- error_code: 200
--- response_body_like: "object":"list"



=== TEST 9: GET /v1/admin/channels with a chunked body
--- raw_request eval
main::desync_chunked("GET /v1/admin/channels",
                     "Authorization: Bearer adm-token")
--- error_code: 200
--- response_body_like: "object":"list"



=== TEST 10: POST /v1/stats/daily: 405
--- raw_request eval
main::desync("POST /v1/stats/daily", "Authorization: Bearer adm-token")
--- error_code: 405
--- response_body_like: method_not_allowed



=== TEST 11: POST /v1/stats/daily with a client key: 401, chunked body
--- raw_request eval
main::desync_chunked("POST /v1/stats/daily", "Authorization: Bearer sk-alice")
--- error_code: 401



=== TEST 12: GET /metrics with a body, no token: 401
--- raw_request eval
main::desync("GET /metrics")
--- error_code: 401



=== TEST 13: GET /metrics with a chunked body and the admin token
--- raw_request eval
main::desync_chunked("GET /metrics", "Authorization: Bearer adm-token")
--- error_code: 200
--- response_body_like: airouter_



=== TEST 14: GET /v1/models with a body
--- raw_request eval
main::desync("GET /v1/models", "Authorization: Bearer sk-alice")
--- error_code: 200
--- response_body_like: "m1"



=== TEST 15: GET /v1/models with a chunked body
--- raw_request eval
main::desync_chunked("GET /v1/models", "Authorization: Bearer sk-alice")
--- error_code: 200
--- response_body_like: "m1"



=== TEST 16: PUT on the API: 405
--- raw_request eval
main::desync("PUT /v1/chat/completions", "Authorization: Bearer sk-alice")
--- error_code: 405
--- response_body_like: method_not_allowed



=== TEST 17: an unknown API URL: 404, chunked body
--- raw_request eval
main::desync_chunked("POST /v1/nothing-here", "Authorization: Bearer sk-alice")
--- error_code: 404
--- response_body_like: unknown_url



=== TEST 18: an API location URL without /v1/: 404 before any token check
--- raw_request eval
main::desync("POST /openai/chat")
--- error_code: 404
--- response_body_like: unknown_url



=== TEST 19: an unknown admin URL: 404
--- raw_request eval
main::desync("POST /v1/admin/nothing", "Authorization: Bearer adm-token")
--- error_code: 404
--- response_body_like: unknown_url



=== TEST 20: an admin action with the wrong method: 405, chunked body
--- raw_request eval
main::desync_chunked("POST /v1/admin/cost/optimize",
                     "Authorization: Bearer adm-token")
--- error_code: 405



=== TEST 21: a channel action with a body
--- raw_request eval
main::desync("POST /v1/admin/channels/a/reset",
             "Authorization: Bearer adm-token")
--- error_code: 200
--- response_body_like: "reset"



=== TEST 22: GET /v1/admin/route with a body
--- raw_request eval
main::desync("GET /v1/admin/route?model=m1", "Authorization: Bearer adm-token")
--- error_code: 200
--- response_body_like: "candidates"



=== TEST 23: GET /health with a body
--- raw_request eval
main::desync("GET /health")
--- error_code: 200
--- response_body_like: "status":"ok"



=== TEST 24: POST /health: 405, chunked body
--- raw_request eval
main::desync_chunked("POST /health")
--- error_code: 405



=== TEST 25: the admin API switched off while auth is on: 403
--- user_files
>>> router_config.yaml
auth:
  enabled: true
  api_token: "sk-default"
channels:
  - id: a
    base_url: "http://127.0.0.1:9/v1"
--- raw_request eval
main::desync("POST /v1/admin/routing/strategy",
             "Authorization: Bearer sk-default")
--- error_code: 403
--- response_body_like: admin_disabled



=== TEST 26: a key over its rate: the 429 of the access phase, body dropped
--- init
main::spend_slow();
--- raw_request eval
main::desync("POST /v1/chat/completions", "Authorization: Bearer sk-slow")
--- error_code: 429
--- response_body_like: rate_limit_exceeded



=== TEST 27: a key over its rate, chunked body
--- init
main::spend_slow();
--- raw_request eval
main::desync_chunked("POST /v1/chat/completions",
                     "Authorization: Bearer sk-slow")
--- error_code: 429
--- response_body_like: rate_limit_exceeded
