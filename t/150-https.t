# HTTPS upstreams: SNI, certificate verification against
# airouter_ssl_trusted_certificate (a test-only self-signed certificate for
# localhost in t/cert/), airouter_ssl_verify off, and TLS keepalive.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Blocks;
use Cwd ();

# prove runs from the repository's top
$ENV{TEST_NGINX_CERT_DIR} = Cwd::abs_path("t/cert");

no_shuffle();
log_level('info');

our $TlsMock = <<'_EOC_';
    # the key cut after its third byte: the router masks its keys in answers
    map $http_authorization $echo_authorization {
        "~^(?<auth_scheme>\S+ )(?<auth_head>.{3})(?<auth_tail>.*)$"
            "$auth_scheme$auth_head|$auth_tail";
        default  "";
    }

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_3 ssl;
        ssl_certificate     $TEST_NGINX_CERT_DIR/localhost.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
        default_type application/json;
        access_log off;

        location / {
            echo_read_request_body;
            echo '{"https":"$https","sni":"$ssl_server_name","host":"$host","auth":"$echo_authorization","requests":$connection_requests}';
        }
    }
_EOC_

our $Yaml = <<'_EOY_';
channels:
  - id: secure
    base_url: "https://localhost:$TEST_NGINX_RAND_PORT_3/v1"
    api_key: "sk-secure"
    configured_models: ["gpt-test"]
routing:
  model_filters:
    min_context_length: 0
_EOY_

airouter_blocks(mock => $TlsMock, config => mock_config() =~ s/ airouter_usage//r,
                user_files => ">>> router_config.yaml\n$Yaml",
                request => "POST /v1/chat/completions\n" . chat_body());

run_tests();

__DATA__

=== TEST 1: a verified HTTPS upstream, reached with SNI and the channel's key
--- extra_http_config
    airouter_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
--- response_body eval
qq|{"https":"on","sni":"localhost","host":"localhost","auth":"Bearer sk-\|secure","requests":1}\n|
--- response_headers
X-Router-Channel: secure
--- no_error_log
[error]



=== TEST 2: an untrusted certificate fails verification: no answer from that channel
--- extra_http_config
    airouter_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;
--- error_code: 503
--- response_body_like: "error":"connect_error"
--- error_log
upstream SSL certificate verify error



=== TEST 3: airouter_ssl_verify off accepts it
--- extra_http_config
    airouter_ssl_verify off;
--- response_body_like: ^\{"https":"on","sni":"localhost"
--- no_error_log
[error]



=== TEST 4: TLS connections are kept alive too
--- extra_http_config
    airouter_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
--- request eval
["POST /v1/chat/completions\n{\"model\": \"gpt-test\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
 "POST /v1/chat/completions\n{\"model\": \"gpt-test\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"]
--- response_body_like eval
['"requests":1\}$', '"requests":2\}$']



=== TEST 5: without an https channel the CA bundle is not read: a bundle that is not there does not stop nginx
--- extra_http_config
    airouter_ssl_trusted_certificate /nonexistent/airouter-ca.crt;
--- user_files
>>> router_config.yaml
channels:
  - id: plain
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_3/v1"
    api_key: "sk-plain"
    configured_models: ["gpt-test"]
routing:
  model_filters:
    min_context_length: 0
--- request
POST /v1/route
{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
--- response_body_like: "channel":"plain"
--- no_error_log
airouter-ca.crt



=== TEST 6: with one, it is read when nginx starts: a bundle that is not there is an error then
--- extra_http_config
    airouter_ssl_trusted_certificate /nonexistent/airouter-ca.crt;
--- must_die
--- error_log
airouter-ca.crt
