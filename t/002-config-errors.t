# Invalid configuration fails `nginx -t` (here: nginx start) with
# file:line:column and a reason, never a half-configured router.
use Test::Nginx::Socket 'no_plan';
use Airouter::Blocks;

no_shuffle();

# for TEST 13: a key from the environment that ends a header early
$ENV{AIROUTER_T_CTL_KEY} = "sk-x\nX-Injected: yes";

config_error_blocks();

run_tests();

__DATA__

=== TEST 1: a YAML syntax error names file, line and column
--- user_files
>>> router_config.yaml
channels:
  - id: a
    base_url: "http://127.0.0.1:9/v1
    configured_models: ["m1"]
--- must_die
--- error_log eval
qr/\[emerg\].*airouter: \S+router_config\.yaml:\d+:\d+: YAML syntax error: /



=== TEST 2: a wrong type says which key and what it got
--- user_files
>>> router_config.yaml
channels:
  - id: a
    base_url: "http://127.0.0.1:9/v1"
routing:
  max_retry_attempts: three
--- must_die
--- error_log eval
qr/\[emerg\].*airouter: \S+router_config\.yaml:5:23: "routing\.max_retry_attempts" must be an integer, got "three"/



=== TEST 3: an unknown strategy name is refused
--- user_files
>>> router_config.yaml
channels:
  - id: a
    base_url: "http://127.0.0.1:9/v1"
routing:
  default_strategy: cheapest_first
--- must_die
--- error_log eval
qr/\[emerg\].*airouter: \S+router_config\.yaml:5:21: unknown strategy "cheapest_first" \(known: .*cost_first/



=== TEST 4: duplicate channel ids are refused, naming the first one
--- user_files
>>> router_config.yaml
channels:
  - id: a
    base_url: "http://127.0.0.1:9/v1"
  - id: a
    base_url: "http://127.0.0.1:10/v1"
--- must_die
--- error_log eval
qr/\[emerg\].*airouter: \S+router_config\.yaml:4:9: duplicate channel id "a" \(first at 2:9\)/



=== TEST 5: a channel without a base URL, own or via its provider
--- user_files
>>> router_config.yaml
providers:
  p:
    auth_type: bearer
channels:
  - id: nourl
    provider: p
--- must_die
--- error_log eval
qr/\[emerg\].*airouter: \S+router_config\.yaml:5:5: channel "nourl" has no base_url \(own or via its provider\)/



=== TEST 6: an unknown provider is refused
--- user_files
>>> router_config.yaml
channels:
  - id: a
    provider: nosuch
    base_url: "http://127.0.0.1:9/v1"
--- must_die
--- error_log eval
qr/\[emerg\].*airouter: \S+router_config\.yaml:3:15: unknown provider "nosuch"/



=== TEST 7: a missing file is named with the system's reason
--- http_config
    airouter_config $TEST_NGINX_HTML_DIR/nosuch.yaml;
--- config
    location = /health { airouter_health; }
--- must_die
--- error_log eval
qr/\[emerg\].*airouter: \S+nosuch\.yaml: cannot open: No such file or directory/



=== TEST 8: auth enabled without any token refuses to start
--- user_files
>>> router_config.yaml
auth:
  enabled: true
channels:
  - id: a
    base_url: "http://127.0.0.1:9/v1"
--- must_die
--- error_log eval
qr/\[emerg\].*auth\.enabled is true but no api_token or api_keys is set/



=== TEST 9: providers.yaml beside the config is read, and its errors are its own
--- user_files
>>> router_config.yaml
channels:
  - id: a
    provider: p
>>> providers.yaml
providers:
  p:
    base_url: 42x
--- must_die
--- error_log eval
qr/\[emerg\].*airouter: \S+providers\.yaml:3:15: /



=== TEST 10: the location handlers need airouter_config
--- http_config
--- config
    location = /health { airouter_health; }
--- must_die
--- error_log eval
qr/\[emerg\].*"airouter_health" needs "airouter_config" earlier in the http block/



=== TEST 11: a zone too small is refused by nginx -t
--- http_config
    airouter_config $TEST_NGINX_HTML_DIR/router_config.yaml;
    airouter_zone   tiny 1k;
--- config
    location = /health { airouter_health; }
--- user_files
>>> router_config.yaml
channels:
  - id: a
    base_url: "http://127.0.0.1:9/v1"
--- must_die
--- error_log eval
qr/\[emerg\].*invalid zone size "1k"/



=== TEST 12: a channel key with CR LF is refused (it would end the upstream header)
--- user_files
>>> router_config.yaml
channels:
  - id: a
    base_url: "http://127.0.0.1:9/v1"
    api_key: "sk-x\r\nX-Injected: yes"
--- must_die
--- error_log eval
qr/\[emerg\].*airouter: \S+router_config\.yaml:4:14: "channels\[0\]\.api_key" contains a control character \(CR at byte 5\): refused, as it would reach an HTTP header or a log line/
--- no_error_log
X-Injected



=== TEST 13: a ${ENV} key holding a line feed is refused, without quoting it
--- user_files
>>> router_config.yaml
channels:
  - id: a
    base_url: "http://127.0.0.1:9/v1"
    api_keys: ["sk-fine", "${AIROUTER_T_CTL_KEY}"]
--- must_die
--- error_log eval
qr/\[emerg\].*airouter: \S+router_config\.yaml:4:27: "channels\[0\]\.api_keys\[1\]" contains a control character \(LF at byte 5\)/
--- no_error_log
X-Injected



=== TEST 14: a "|" block key keeps its last line break: refused, with the fix
--- user_files
>>> router_config.yaml
channels:
  - id: a
    base_url: "http://127.0.0.1:9/v1"
    api_key: |
      sk-block
--- must_die
--- error_log eval
qr/\[emerg\].*router_config\.yaml:4:14: "channels\[0\]\.api_key" contains a control character \(LF at byte 9\).*; a "\|" block keeps its last line break: write "\|-"/



=== TEST 15: a base URL that would split the request line is refused
--- user_files
>>> router_config.yaml
providers:
  p:
    base_url: "http://127.0.0.1:9/v1 HTTP/1.1"
channels:
  - id: a
    provider: p
--- must_die
--- error_log eval
qr/\[emerg\].*router_config\.yaml:3:15: "providers\.p\.base_url" must not contain a space or a byte outside ASCII \(at byte 22\): percent-encode it/



=== TEST 16: a provider's auth_header must be a header name
--- user_files
>>> router_config.yaml
providers:
  p:
    base_url: "http://127.0.0.1:9/v1"
    auth_type: header
    auth_header: "X-Key: x"
channels:
  - id: a
    provider: p
    api_key: sk-a
--- must_die
--- error_log eval
qr/\[emerg\].*router_config\.yaml:5:18: "providers\.p\.auth_header" must be an HTTP header name \(letters, digits and !#\$%&'\*\+-\.\^_`\|~\), got a ":" at byte 6/



=== TEST 17: a configured model written as a map needs a name
--- user_files
>>> router_config.yaml
channels:
  - id: a
    base_url: "http://127.0.0.1:9/v1"
    configured_models:
      - "plain"
      - supported_parameters: [seed]
--- must_die
--- error_log eval
qr/\[emerg\].*router_config\.yaml:6:9: "channels\[0\]\.configured_models\[1\]" has no "name": a model written as a map is "- name: <model>" and its keys/



=== TEST 18: a configured model's supported_parameters must be a list
--- user_files
>>> router_config.yaml
channels:
  - id: a
    base_url: "http://127.0.0.1:9/v1"
    configured_models:
      - name: "m"
        supported_parameters: seed
--- must_die
--- error_log eval
qr/\[emerg\].*router_config\.yaml:6:31: "channels\[0\]\.configured_models\[0\]\.supported_parameters" expected a list, got "seed"/



=== TEST 19: the same model written as a map twice is refused, naming the first
--- user_files
>>> router_config.yaml
channels:
  - id: a
    base_url: "http://127.0.0.1:9/v1"
    configured_models:
      - name: "m"
        supported_parameters: [seed]
      - name: "m"
--- must_die
--- error_log eval
qr/\[emerg\].*router_config\.yaml:7:9: "channels\[0\]\.configured_models\[1\]": model "m" is written as a map twice \(first at \S+router_config\.yaml:5:9\)/
