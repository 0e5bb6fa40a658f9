# The routing strategy an admin switches to (POST /v1/admin/routing/strategy)
# is in the shared zone: with two workers, every request after the switch
# is routed by it, whichever worker takes it.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Check;
use Airouter::Control;

no_shuffle();
workers(2);
master_on();
log_level('info');
install_checks();

control_suite();

run_tests();

__DATA__

=== TEST 1: the strategy switch reaches every worker from the next request
--- extra_http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_5 reuseport;
        location /v1/ {
            airouter;
            add_header X-Worker $pid always;
        }
    }
--- request eval
[main::chat(), "POST /v1/admin/routing/strategy\n{\"strategy\": \"quality_optimized\"}",
 "GET /v1/admin/routing/strategy"]
--- more_headers eval
["", $::Admin, $::Admin]
--- response_headers_like eval
["X-Router-Strategy: cost_first", "Content-Type: application/json", "Content-Type: application/json"]
--- response_body_like eval
["Hello", '^\{"strategy":"quality_optimized","source":"admin","default":"cost_first","available":\[.*"quality_optimized".*\],"previous":"cost_first"\}$',
 '^\{"strategy":"quality_optimized","source":"admin","default":"cost_first",']
--- workers_see: quality_optimized
--- error_log_once
routing strategy switched to "quality_optimized" by the admin API



=== TEST 2: an unknown strategy is refused with the list; null goes back to the config's
--- request eval
["POST /v1/admin/routing/strategy\n{\"strategy\": \"fastest_please\"}",
 "POST /v1/admin/routing/strategy\n{\"strategy\": \"free_first\"}",
 main::chat(),
 "POST /v1/admin/routing/strategy\n{\"strategy\": null}",
 main::chat()]
--- more_headers eval
[$::Admin, $::Admin, "", $::Admin, ""]
--- error_code eval
[400, 200, 200, 200, 200]
--- response_headers_like eval
["Content-Type: application/json", "Content-Type: application/json",
 "X-Router-Strategy: free_first", "Content-Type: application/json",
 "X-Router-Strategy: cost_first"]
--- response_body_like eval
['"code":"invalid_strategy","available":\["cost_first",', '"strategy":"free_first","source":"admin"',
 "Hello", '"strategy":"cost_first","source":"config"', "Hello"]



=== TEST 3: a client's X-Router-Strategy header still wins over the switched one
--- request eval
["POST /v1/admin/routing/strategy\n{\"strategy\": \"free_first\"}", main::chat()]
--- more_headers eval
[$::Admin, "X-Router-Strategy: quality_optimized"]
--- response_headers_like eval
["Content-Type: application/json", "X-Router-Strategy: quality_optimized"]



=== TEST 4: the strategy endpoint needs the admin token
--- request
POST /v1/admin/routing/strategy
{"strategy": "free_first"}
--- error_code: 401



=== TEST 4: /health reports the strategy in force after a switch
--- config
    location /v1/ { airouter; }
    location /v1/admin/ { airouter_admin; }
    location = /health { airouter_health; }
--- request eval
["GET /health", "POST /v1/admin/routing/strategy\n{\"strategy\": \"speed_optimized\"}",
 "GET /health"]
--- more_headers eval
["", $::Admin, ""]
--- response_body_like eval
['"strategy":"cost_first"', '"strategy":"speed_optimized","source":"admin"',
 '"strategy":"speed_optimized"']
