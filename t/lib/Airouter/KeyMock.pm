package Airouter::KeyMock;

#
# An upstream whose answers name the key they were sent with, for the
# suites about channels with several api_keys (t/180, t/207): one nginx
# server on $TEST_NGINX_RAND_PORT_4 (the mock's side: tests only).
#
#   use Airouter::KeyMock;
#   airouter_blocks(mock => key_mock(), ...);
#
#   .../keys/v1        200, the content is the Authorization header
#   .../k2dead/v1      401 invalid_api_key for "Bearer k2", else as keys
#   .../k2quota/v1     402 insufficient_quota for "Bearer k2", else as keys
#   .../alldead/v1     401 invalid_api_key
#   .../alllimited/v1  429 rate_limit_exceeded
#

use strict;
use warnings;

use Exporter 'import';
our @EXPORT = qw(key_mock);

sub key_mock {
    return <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_4;
        default_type application/json;
        access_log logs/upstream.log;
        error_log logs/mock_error.log info;

        location /keys/ {
            echo_read_request_body;
            echo '{"choices":[{"index":0,"message":{"role":"assistant","content":"$http_authorization"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}';
        }

        location /k2limited/ {
            if ($http_authorization = "Bearer k2") {
                add_header Retry-After 30 always;
                return 429 '{"error":{"message":"Rate limit reached","type":"rate_limit_error","code":"rate_limit_exceeded"}}';
            }

            echo_read_request_body;
            echo '{"choices":[{"index":0,"message":{"role":"assistant","content":"$http_authorization"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}';
        }

        location /k2dead/ {
            if ($http_authorization = "Bearer k2") {
                return 401 '{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}';
            }

            echo_read_request_body;
            echo '{"choices":[{"index":0,"message":{"role":"assistant","content":"$http_authorization"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}';
        }

        location /k2quota/ {
            if ($http_authorization = "Bearer k2") {
                return 402 '{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}';
            }

            echo_read_request_body;
            echo '{"choices":[{"index":0,"message":{"role":"assistant","content":"$http_authorization"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}';
        }

        location /alldead/ {
            return 401 '{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}';
        }

        location /alllimited/ {
            return 429 '{"error":{"message":"Rate limit reached","type":"rate_limit_error","code":"rate_limit_exceeded"}}';
        }
    }
_EOC_
}

1;
