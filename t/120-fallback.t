# Fallback across channels before the first byte reaches the client, and
# what live state learns from each failure: a cooled-down model or a
# blacklisted channel is not tried by the next request at all.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Blocks;
use Airouter::Check;

no_shuffle();
log_level('info');

install_checks();
airouter_blocks(mock => mock_http_config(), config => mock_config(),
                request => "POST /v1/chat/completions\n" . chat_body());

# --- probe: after the blacklist period one request probes the channel
# again, and its failure closes it again (the other channel cools down for
# 120 s, so nothing else competes)
add_response_body_check(sub {
    my ($block) = @_;
    return unless defined $block->probe;
    my $req = chat_body();
    my $name = $block->name;
    my (undef, $h) = raw_post(server_port(), "/v1/chat/completions", $req);
    Test::More::ok(!$h->{'x-router-attempts'}, "$name - nothing to try while blacklisted")
        or Test::More::diag(join " ", %$h);
    sleep 2.2;
    (undef, $h) = raw_post(server_port(), "/v1/chat/completions", $req);
    Test::More::is($h->{'x-router-fallbacks'}, "revoked:invalid_api_key 401",
                   "$name - after the period, a probe tries it");
    (undef, $h) = raw_post(server_port(), "/v1/chat/completions", $req);
    Test::More::ok(!$h->{'x-router-attempts'}, "$name - the failed probe closed it again")
        or Test::More::diag(join " ", %$h);
});

run_tests();

__DATA__

=== TEST 1: fallback on a refused connection
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["down", "refused"], ["up", "ok"])
--- response_headers
X-Router-Channel: up
X-Router-Attempts: 2
X-Router-Fallbacks: down:connect_error
--- response_body_like: "content":"Hello!"
--- error_log
airouter: "down" model "down-model": connect_error, channel cooldown 30 s



=== TEST 2: fallback on a read timeout (airouter_read_timeout)
--- extra_http_config
    airouter_read_timeout 500ms;
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["sleepy", "slow"], ["up", "ok"])
--- response_headers
X-Router-Channel: up
X-Router-Attempts: 2
X-Router-Fallbacks: sleepy:timeout
--- error_log
upstream timed out
airouter: "sleepy" model "sleepy-model": timeout, model cooldown 30 s



=== TEST 3: fallback on 500
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["broken", "e500"], ["up", "ok"])
--- response_headers
X-Router-Channel: up
X-Router-Fallbacks: broken:server_error 500
--- response_body_like: "content":"Hello!"



=== TEST 4: fallback on 502 and 503, down the list
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["a", "e502"], ["b", "e503"], ["c", "ok"])
--- response_headers
X-Router-Channel: c
X-Router-Attempts: 3
X-Router-Fallbacks: a:server_error 502, b:server_error 503



=== TEST 5: a 200 whose body is an error object is a failure too
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["liar", "err200"], ["up", "ok"])
--- response_headers
X-Router-Channel: up
X-Router-Fallbacks: liar:server_error 200



=== TEST 6: 429 falls back, and the cooldown (Retry-After) keeps the next request away
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["busy", "e429"], ["up", "ok"])
--- request eval
["POST /v1/chat/completions\n{\"model\": \"gpt-test\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
 "POST /v1/chat/completions\n{\"model\": \"gpt-test\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"]
--- error_code eval
[200, 200]
--- response_headers eval
["X-Router-Channel: up\nX-Router-Attempts: 2\nX-Router-Fallbacks: busy:rate_limit_exceeded 429",
 "X-Router-Channel: up\nX-Router-Attempts: 1\n!X-Router-Fallbacks"]
--- response_body_like eval
["Hello", "Hello"]



=== TEST 7: 401 blacklists the channel: the next request does not try it at all
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["revoked", "e401"], ["up", "ok"])
--- request eval
["POST /v1/chat/completions\n{\"model\": \"gpt-test\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
 "POST /v1/chat/completions\n{\"model\": \"gpt-test\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"]
--- error_code eval
[200, 200]
--- response_headers eval
["X-Router-Channel: up\nX-Router-Attempts: 2\nX-Router-Fallbacks: revoked:invalid_api_key 401",
 "X-Router-Channel: up\nX-Router-Attempts: 1\n!X-Router-Fallbacks"]
--- no_error_log
sk-mo***ck
sk-revoked-secret



=== TEST 8: 404 model_not_found falls back to a channel that has the model
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["stale", "e404"], ["up", "ok"])
--- response_headers
X-Router-Channel: up
X-Router-Fallbacks: stale:model_not_found 404



=== TEST 9: enable_fallback false: one attempt, its failure is the answer
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("  enable_fallback: false\n", ["broken", "e500"], ["up", "ok"])
--- error_code: 500
--- response_headers
X-Router-Attempts: 1
X-Router-Fallbacks: broken:server_error 500
--- response_body_like: ^\{"error":\{"message":"All 1 attempted candidates failed: broken \(broken-model\): server_error 500"



=== TEST 10: max_retry_attempts bounds the attempts
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("  max_retry_attempts: 2\n", ["a", "e500"], ["b", "e502"], ["c", "ok"])
--- error_code: 502
--- response_headers
X-Router-Attempts: 2
X-Router-Fallbacks: a:server_error 500, b:server_error 502



=== TEST 11: the last candidate's 429 is the status when everything is rate limited
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["a", "e429"], ["b", "e429"])
--- error_code: 429
--- response_body_like: "code":"all_candidates_failed"



=== TEST 12: everything cooling down: the next request is told so without an attempt
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["only", "e503"])
--- request eval
["POST /v1/chat/completions\n{\"model\": \"gpt-test\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
 "POST /v1/chat/completions\n{\"model\": \"gpt-test\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"]
--- error_code eval
[503, 503]
--- response_body_like eval
["All 1 attempted", "(?i)unavailable|cooling|blacklist|no candidate"]



=== TEST 13: the cooldown of a 429 is the upstream's Retry-After; a 401 blacklists for blacklist_period
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("  error_handling:\n    blacklist_period: 600\n", ["busy", "e429"], ["revoked", "e401"], ["up", "ok"])
--- response_headers
X-Router-Channel: up
X-Router-Fallbacks: busy:rate_limit_exceeded 429, revoked:invalid_api_key 401
--- error_log
airouter: "busy" model "busy-model": rate_limit_exceeded 429 Too Many Requests, model cooldown 30 s
airouter: "revoked" model "revoked-model": invalid_api_key 401 Unauthorized, channel cooldown 600 s



=== TEST 14: a blacklisted channel comes back after its period for one probe
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("  error_handling:\n    blacklist_period: 2\n", ["revoked", "e401"], ["broken", "e503"])
--- probe
--- timeout: 10
--- error_code: 503
--- response_headers
X-Router-Fallbacks: revoked:invalid_api_key 401, broken:server_error 503



=== TEST 15: ranking sees live state: the cooled-down model is unavailable, the other is fast (three answers measured) and reliable
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["broken", "e500"], ["up", "ok"])
--- request eval
["POST /v1/chat/completions\n{\"model\": \"gpt-test\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
 "POST /v1/chat/completions\n{\"model\": \"gpt-test\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
 "POST /v1/chat/completions\n{\"model\": \"gpt-test\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
 "POST /v1/route\n{\"model\": \"gpt-test\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"]
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
["Hello", "Hello", "Hello",
 qr/"channel":"up".*"speed_score":(?:1\.0|0\.9\d*),"reliability_score":0\.8.*"removed":\[\{"channel":"broken","model":"broken-model","reason":"unavailable"[^}]*\}\]/]



=== TEST 16: cooldown_periods.server_error: 0 means no cooldown: the next request tries the channel again
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("  error_handling:\n    cooldown_periods:\n      server_error: 0\n", ["broken", "e503"])
--- request eval
["POST /v1/chat/completions\n{\"model\": \"gpt-test\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
 "POST /v1/chat/completions\n{\"model\": \"gpt-test\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"]
--- error_code eval
[503, 503]
--- response_headers eval
["X-Router-Attempts: 1\nX-Router-Fallbacks: broken:server_error 503",
 "X-Router-Attempts: 1\nX-Router-Fallbacks: broken:server_error 503"]
--- response_body_like eval
["All 1 attempted", "All 1 attempted"]
--- error_log
model cooldown 0 s



=== TEST 17: error_log debug tells each try's story: peer get (candidate, key, address), the answer's verdict, peer free, the key choice, keepalive get and save
--- log_level: debug
--- user_files eval
">>> router_config.yaml\n" . yaml_channels("", ["broken", "e500"], ["up", "ok"])
--- request eval
["POST /v1/chat/completions\n" . main::chat_body(), "POST /v1/chat/completions\n" . main::chat_body()]
--- response_headers eval
["X-Router-Channel: up", "X-Router-Channel: up"]
--- error_log_all
airouter: peer get: attempt 1 "broken" model "broken-model" key#0 at 127.0.0.1:
airouter: answer 500 from "broken": server_error, next candidate (model)
airouter: peer free: "broken" state 
: server_error, retry 1, cooldown 120 s
airouter: peer get: attempt 2 "up" model "up-model" key#0 at 127.0.0.1:
airouter: key choice: "up" key#0 of 1 (live state's turn)
airouter: answer 200 from "up": ok, passed on
airouter: keepalive get: no idle connection to 127.0.0.1:
airouter: keepalive save: connection 
airouter: keepalive get: idle connection 



=== TEST 18: a Retry-After header named in lower case (as HTTP/2 fronts relay it) sets the cooldown too
--- extra_http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_8;
        default_type application/json;

        location /lc429/ {
            add_header retry-after 17 always;
            return 429 '{"error":{"message":"Rate limit reached","type":"rate_limit_error","code":"rate_limit_exceeded"}}';
        }
    }
--- user_files eval
(my $y = yaml_channels("", ["busy", "e429"], ["up", "ok"]))
    =~ s{\$TEST_NGINX_RAND_PORT_1/e429/}{\$TEST_NGINX_RAND_PORT_8/lc429/};
">>> router_config.yaml\n$y"
--- response_headers
X-Router-Channel: up
X-Router-Fallbacks: busy:rate_limit_exceeded 429
--- error_log
airouter: "busy" model "busy-model": rate_limit_exceeded 429 Too Many Requests, model cooldown 17 s
