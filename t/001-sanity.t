# The module loads into Debian's nginx beside the echo module, reads its
# configuration in the master, and /health proves the workers have it.
use Test::Nginx::Socket 'no_plan';

# read by the module in nginx's master when it loads the YAML (TEST 3)
$ENV{AIROUTER_T_CHANNEL} = "from_env";
$ENV{AIROUTER_T_STRATEGY} = "quality_optimized";
delete $ENV{AIROUTER_T_UNSET_KEY};

log_level('notice');
no_shuffle();
run_tests();

__DATA__

=== TEST 1: the module loads and /health reports the configuration
--- http_config
    airouter_config $TEST_NGINX_HTML_DIR/router_config.yaml;
    airouter_zone   airouter_t 4m;
--- config
    location = /health { airouter_health; }
--- user_files
>>> router_config.yaml
providers:
  local:
    base_url: "http://127.0.0.1:1/v1"
channels:
  - id: a
    provider: local
    configured_models: ["qwen3:8b", "llama3.2:3b"]
  - id: b
    base_url: "https://api.example.com"
    api_key: "sk-b"
    enabled: false
    model_name: "gpt-4o-mini"
routing:
  default_strategy: free_first
--- request
GET /health
--- response_headers
Content-Type: application/json
--- response_body_like eval
qr/^\{"status":"ok","version":"0\.1\.0","channels":\{"enabled":1,"total":2\},"providers":1,"models":3,"strategy":"free_first","auth_enabled":false,"zone":\{"name":"airouter_t","size":4194304,"used":\d+,"generation":1\},"discovery":\{"enabled":true,"running":false,.*\}\}$/
--- error_log eval
qr/airouter 0\.1\.0: 2 channels \(1 enabled\), 1 providers, 3 models, strategy free_first, auth off, zone "airouter_t" 4194304/
--- no_error_log
[error]
[warn]



=== TEST 2: a configuration in the seed's format loads as our users have it
--- http_config
    airouter_config $TEST_NGINX_FIXTURES/seed/router_config.yaml;
--- config
    location = /health { airouter_health; }
--- request
GET /health
--- response_body_like eval
qr/"channels":\{"enabled":1,"total":7\},"providers":6,"models":11,"strategy":"balanced","auth_enabled":false,.*"discovery":\{"enabled":true,.*"channels":\{"workstation_ollama":\{"state":"pending",/
--- error_log eval
[qr/airouter 0\.1\.0: 7 channels \(1 enabled\), 6 providers, 11 models, strategy balanced, auth off/,
 qr/"server\.host" in \S+\/seed\/router_config\.yaml is nginx's to set: use the "listen" directive/,
 qr/"server\.port" in \S+\/seed\/router_config\.yaml is nginx's to set: use the "listen" directive/,
 qr/"server\.max_request_size" in \S+ is nginx's to set: use the "client_max_body_size" directive/,
 qr/"server\.cors_origins" in \S+ is nginx's to set: use the "add_header Access-Control-Allow-Origin" directive/]
--- no_error_log
[error]
[warn]



=== TEST 3: ${ENV} in a value is read from the environment
--- http_config
    airouter_config $TEST_NGINX_HTML_DIR/router_config.yaml;
--- config
    location = /health { airouter_health; }
--- user_files
>>> router_config.yaml
channels:
  - id: "${AIROUTER_T_CHANNEL}"
    base_url: "http://127.0.0.1:${AIROUTER_T_PORT:-9}/v1"
    configured_models: ["m1"]
routing:
  default_strategy: "${AIROUTER_T_STRATEGY}"
--- request
GET /health
--- response_body_like chomp
"strategy":"quality_optimized"
--- no_error_log
[error]



=== TEST 4: an unknown key warns with its position and the config still loads
--- http_config
    airouter_config $TEST_NGINX_HTML_DIR/router_config.yaml;
--- config
    location = /health { airouter_health; }
--- user_files
>>> router_config.yaml
channels:
  - id: a
    base_url: "http://127.0.0.1:9/v1"
    configured_models: ["m1"]
    colour: blue
--- request
GET /health
--- response_body_like chomp
"status":"ok"
--- error_log eval
qr/\[warn\].*airouter: \S+router_config\.yaml:5:5: unknown key "channels\[0\]\.colour" ignored/



=== TEST 5: a channel whose key comes out empty sits out, with a notice
--- http_config
    airouter_config $TEST_NGINX_HTML_DIR/router_config.yaml;
--- config
    location = /health { airouter_health; }
--- user_files
>>> router_config.yaml
channels:
  - id: openrouter
    base_url: "https://openrouter.ai/api/v1"
    api_key: "${AIROUTER_T_UNSET_KEY}"
    configured_models: ["qwen/qwen3-8b"]
  - id: local
    base_url: "http://127.0.0.1:9/v1"
    configured_models: ["qwen3:8b"]
--- request
GET /health
--- response_body_like chomp
"channels":\{"enabled":1,"total":2\}
--- error_log
airouter: channel "openrouter" is off: api_key is empty



=== TEST 6: with discovery off a channel is "static" (its configured models), not "pending"
--- http_config
    airouter_config $TEST_NGINX_HTML_DIR/router_config.yaml;
--- config
    location = /health { airouter_health; }
    location = /metrics { airouter_metrics; }
--- user_files
>>> router_config.yaml
channels:
  - id: a
    base_url: "http://127.0.0.1:9/v1"
    configured_models: ["qwen3:8b"]
tasks:
  model_discovery:
    enabled: false
--- request eval
["GET /health", "GET /metrics"]
--- response_body_like eval
[qr/"discovery":\{"enabled":false,.*"channels":\{"a":\{"state":"static",/,
 qr/airouter_discovery_state\{channel="a",state="pending"\} 0\nairouter_discovery_state\{channel="a",state="static"\} 1\n/]
--- no_error_log
[error]
