# nginx's own refusals in the router's locations are answered as JSON an
# SDK reads, in the request's dialect, with nginx's status: 403 from deny,
# 503 (or limit_req_status 429) from limit_req (limit_conn: the same), 413
# over client_max_body_size (Content-Length or a chunked body), 401 from
# auth_basic, a "return 5xx", in an airouter, airouter_admin,
# airouter_health or airouter_metrics location (the dashboard location
# keeps nginx's page: a browser asked for it).
# A user's error_page for the status still wins (in the location or
# inherited from the server); a location without airouter keeps nginx's
# page; a HEAD gets the headers alone.  Nothing of the request (its key)
# is echoed.  The SDKs see an APIError with the message, not an HTML parse
# error.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Blocks;
use Airouter::DialectSdk;

no_shuffle();
log_level('info');

our $Chat = '{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}';

our $Forbidden = '{"error":{"message":"Access to this URL is denied by the server\'s configuration (HTTP 403)","type":"invalid_request_error","code":"forbidden"}}';

airouter_blocks(
    mock => mock_http_config(),
    user_files => ">>> router_config.yaml\n" . <<'_EOY_',
channels:
  - id: chat
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/ok/v1"
    api_key: "sk-chat-secret"
    configured_models: ["gpt-test"]
routing:
  model_filters:
    min_context_length: 0
_EOY_
    request => "POST /v1/chat/completions\n$Chat");

dialect_sdk_check();

run_tests();

__DATA__

=== TEST 1: deny: a JSON 403 in OpenAI's shape, application/json, the length of the body
--- config
    location /v1/ {
        deny all;
        airouter;
    }
--- error_code: 403
--- response_headers
Content-Type: application/json
Content-Length: 144
--- response_body eval
"$::Forbidden\n"
--- no_error_log
[alert]



=== TEST 2: limit_req: the request over the rate gets a JSON 503 (nginx's default limit_req_status)
--- extra_http_config
    limit_req_zone $binary_remote_addr zone=one:1m rate=1r/m;
--- config
    location /v1/ {
        limit_req zone=one;
        airouter;
    }
--- request eval
["POST /v1/chat/completions\n$::Chat", "POST /v1/chat/completions\n$::Chat"]
--- error_code eval
[200, 503]
--- response_headers eval
["Content-Type: application/json", "Content-Type: application/json"]
--- response_body_like eval
['"content":"Hello!"',
 '^\{"error":\{"message":"The server is overloaded or limits requests, retry later \(HTTP 503\)","type":"server_error","code":"service_unavailable"\}\}\n$']
--- error_log_all
limiting requests, excess: 0.999 by zone "one"



=== TEST 3: limit_req_status 429: rate_limit_exceeded, as OpenAI's 429 says it
--- extra_http_config
    limit_req_zone $binary_remote_addr zone=three:1m rate=1r/m;
--- config
    location /v1/ {
        limit_req zone=three;
        limit_req_status 429;
        airouter;
    }
--- request eval
["POST /v1/chat/completions\n$::Chat", "POST /v1/chat/completions\n$::Chat"]
--- error_code eval
[200, 429]
--- response_body_like eval
['"content":"Hello!"',
 '^\{"error":\{"message":"Too many requests: the server limits the request rate, retry later \(HTTP 429\)","type":"requests","code":"rate_limit_exceeded"\}\}\n$']



=== TEST 4: client_max_body_size with a Content-Length over it: a JSON 413 that says the limit
--- config
    location /v1/ {
        client_max_body_size 20;
        airouter;
    }
--- error_code: 413
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The request body is larger than the server accepts (20 bytes at most)","type":"invalid_request_error","code":"request_too_large"}}



=== TEST 5: client_max_body_size with a chunked body over it (found while the router reads it): the same JSON 413
--- config
    location /v1/ {
        client_max_body_size 20;
        airouter;
    }
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/json\r
Transfer-Encoding: chunked\r
\r
" . sprintf("%x", length $::Chat) . "\r\n$::Chat\r\n0\r\n\r\n"
--- error_code: 413
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The request body is larger than the server accepts (20 bytes at most)","type":"invalid_request_error","code":"request_too_large"}}



=== TEST 6: the Messages and Gemini paths get their dialect's shape; the key in the URL is not echoed
--- config
    location /v1/ {
        deny all;
        airouter;
    }
    location /v1beta/ {
        deny all;
        airouter;
    }
--- request eval
["POST /v1/messages\n{}", "POST /v1beta/models/gpt-test:generateContent?key=sk-client-secret\n{}",
 "GET /v1beta/models?key=sk-client-secret"]
--- error_code eval
[403, 403, 403]
--- response_body eval
["{\"type\":\"error\",\"error\":{\"type\":\"permission_error\",\"message\":\"Access to this URL is denied by the server's configuration (HTTP 403)\"}}\n",
 "{\"error\":{\"code\":403,\"message\":\"Access to this URL is denied by the server's configuration (HTTP 403)\",\"status\":\"PERMISSION_DENIED\"}}\n",
 "{\"error\":{\"code\":403,\"message\":\"Access to this URL is denied by the server's configuration (HTTP 403)\",\"status\":\"PERMISSION_DENIED\"}}\n"]



=== TEST 7: the user's error_page wins: in the location, and inherited from the server
--- config
    error_page 503 /busy.json;
    location = /forbidden.json { internal; return 403 '{"mine":"forbidden"}'; }
    location = /busy.json { internal; return 503 '{"mine":"busy"}'; }
    location /v1/ {
        error_page 403 /forbidden.json;
        deny all;
        airouter;
    }
    location /v2/ {
        return 503;
        airouter;
    }
--- request eval
["POST /v1/chat/completions\n$::Chat", "POST /v2/chat/completions\n$::Chat"]
--- error_code eval
[403, 503]
--- response_body eval
['{"mine":"forbidden"}', '{"mine":"busy"}']



=== TEST 8: a location without airouter keeps nginx's page; the admin location gets JSON
--- config
    location /v1/admin/ {
        deny all;
        airouter_admin;
    }
    location /static/ {
        deny all;
    }
--- request eval
["GET /v1/admin/channels", "GET /static/x"]
--- error_code eval
[403, 403]
--- response_headers eval
["Content-Type: application/json", "Content-Type: text/html"]
--- response_body_like eval
["^\Q$::Forbidden\E\n\$", "<title>403 Forbidden</title>"]



=== TEST 9: return 502 and 504 in a router location, and a status without nginx page (return 418): JSON with the status' words
--- config
    location /v1/ {
        return 502;
        airouter;
    }
    location /v2/ {
        return 504;
        airouter;
    }
    location /v3/ {
        return 418;
        airouter;
    }
--- request eval
["GET /v1/models", "GET /v2/models", "GET /v3/models"]
--- error_code eval
[502, 504, 418]
--- response_headers eval
["Content-Type: application/json", "Content-Type: application/json", "Content-Type: application/json"]
--- response_body eval
["{\"error\":{\"message\":\"The server got no valid answer from the service behind it (HTTP 502)\",\"type\":\"server_error\",\"code\":\"bad_gateway\"}}\n",
 "{\"error\":{\"message\":\"The service behind the server did not answer in time (HTTP 504)\",\"type\":\"server_error\",\"code\":\"gateway_timeout\"}}\n",
 "{\"error\":{\"message\":\"The server refused the request (HTTP 418)\",\"type\":\"invalid_request_error\",\"code\":\"http_error\"}}\n"]



=== TEST 10: auth_basic: a JSON 401, its WWW-Authenticate kept
--- user_files eval
">>> router_config.yaml\nchannels: []\n>>> htpasswd\nu:{PLAIN}p\n"
--- config
    location /v1/ {
        auth_basic "router";
        auth_basic_user_file $TEST_NGINX_HTML_DIR/htpasswd;
        airouter;
    }
--- request
GET /v1/models
--- error_code: 401
--- response_headers
Content-Type: application/json
WWW-Authenticate: Basic realm="router"
--- response_body
{"error":{"message":"The server requires authorization for this URL (HTTP 401)","type":"invalid_request_error","code":"unauthorized"}}



=== TEST 11: HEAD: the JSON error's headers, no body
--- config
    location /v1/ {
        deny all;
        airouter;
    }
--- request
HEAD /v1/models
--- error_code: 403
--- response_headers
Content-Type: application/json
Content-Length: 144
--- response_body



=== TEST 12: the SDKs raise their API error with the message: openai (403), Anthropic (403), Gemini (403)
--- config
    location /v1/ {
        deny all;
        airouter;
    }
    location /v1beta/ {
        deny all;
        airouter;
    }
--- request
GET /v1/models
--- error_code: 403
--- sdk: refusals.mjs



=== TEST 13: the health and metrics locations: deny gives the same JSON 403 (a health checker, a scraper and the dashboard's fetch() read it), not nginx's page
--- config
    location = /health {
        deny all;
        airouter_health;
    }
    location = /metrics {
        deny all;
        airouter_metrics;
    }
--- request eval
["GET /health", "GET /metrics", "HEAD /health"]
--- error_code eval
[403, 403, 403]
--- response_headers eval
["Content-Type: application/json\nContent-Length: 144",
 "Content-Type: application/json\nContent-Length: 144",
 "Content-Type: application/json\nContent-Length: 144"]
--- response_body eval
["$::Forbidden\n", "$::Forbidden\n", ""]



=== TEST 14: limit_req on /health (a JSON 503) and auth_basic on /metrics (a JSON 401, its WWW-Authenticate kept)
--- user_files eval
">>> router_config.yaml\nchannels: []\n>>> htpasswd\nu:{PLAIN}p\n"
--- extra_http_config
    limit_req_zone $binary_remote_addr zone=fourteen:1m rate=1r/m;
--- config
    location = /health {
        limit_req zone=fourteen;
        airouter_health;
    }
    location = /metrics {
        auth_basic "scrape";
        auth_basic_user_file $TEST_NGINX_HTML_DIR/htpasswd;
        airouter_metrics;
    }
--- request eval
["GET /health", "GET /health", "GET /metrics"]
--- error_code eval
[200, 503, 401]
--- response_headers eval
["Content-Type: application/json",
 "Content-Type: application/json",
 "Content-Type: application/json\nWWW-Authenticate: Basic realm=\"scrape\""]
--- response_body_like eval
['"status":"',
 '^\{"error":\{"message":"The server is overloaded or limits requests, retry later \(HTTP 503\)","type":"server_error","code":"service_unavailable"\}\}\n$',
 '^\{"error":\{"message":"The server requires authorization for this URL \(HTTP 401\)","type":"invalid_request_error","code":"unauthorized"\}\}\n$']



=== TEST 15: the user's error_page still wins in the health and metrics locations; the dashboard location keeps nginx's page (a browser asked for a page)
--- config
    location = /down.json { internal; return 503 '{"mine":"down"}'; }
    location = /health {
        error_page 403 =503 /down.json;
        deny all;
        airouter_health;
    }
    location = /metrics {
        error_page 403 /down.json;
        deny all;
        airouter_metrics;
    }
    location = /dashboard {
        deny all;
        airouter_dashboard;
    }
--- request eval
["GET /health", "GET /metrics", "GET /dashboard"]
--- error_code eval
[503, 403, 403]
--- response_headers eval
["Content-Type: text/plain", "Content-Type: text/plain", "Content-Type: text/html"]
--- response_body_like eval
['^\{"mine":"down"\}$', '^\{"mine":"down"\}$', "<title>403 Forbidden</title>"]
