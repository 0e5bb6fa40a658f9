package Airouter::Mock;

#
# Mock OpenAI-compatible upstreams for the proxy suites (t/110-150): one
# nginx server block on $TEST_NGINX_RAND_PORT_1 whose path prefix picks the
# behaviour, so a channel's base_url says what it does:
#
#   http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/ok/v1      a chat completion with usage
#   .../echo/v1     echoes Authorization, X-Api-Key, X-Client-Header, body
#                   as {"auth","x-api-key","client","body"}, in JSON (the
#                   router refuses a 200 that is not); a key is cut by a
#                   "|" after its third byte
#                   ("Bearer sk-|first-secret"): the router masks its
#                   channels' keys in what an upstream answers
#   .../e500/v1 .../e502/v1 .../e503/v1                  server errors
#   .../e429/v1     429 with Retry-After: 30
#   .../e401/v1     401 invalid_api_key
#   .../e400/v1     400 (the client's fault)
#   .../e404/v1     404 model_not_found
#   .../err200/v1   200 whose body is an error object
#   .../slow/v1     answers after 2 s (for airouter_read_timeout)
#   .../stream/v1   three SSE events 200 ms apart, usage in the last, [DONE]
#   .../slowstream/v1  the same with 1 s between the first two events: an SDK
#                   script's "arrives as it is sent" check, wide enough for a
#                   loaded machine's jitter
#   .../cut/v1      one SSE event, then the connection dies without an end
#   .../emb/v1      an embeddings answer with usage
#   .../bigemb/v1   the same, 24 KB long
#   .../tool/v1     a tool call (get_weather, {"city":"Paris"})
#   .../conn/v1     says how many requests its connection has carried
#   .../stall/v1    one SSE event, then 2 s of silence
#   .../sseerr/v1   a 200 stream whose first event is an error
#
# and $TEST_NGINX_RAND_PORT_2, where nothing listens (connection refused).
# With --- config absent, the API location is "location /v1/ { airouter; }"
# with log_format airouter_usage on the access log.
#

use strict;
use warnings;

use Exporter 'import';
use Airouter::HTTP;
our @EXPORT = qw(mock_http_config mock_config yaml_channels raw_post
                 chat_body chat_answer);

# a chat completion whose message is $content (plain text, no quotes),
# usage 10 + 5 tokens
sub chat_answer {
    my ($content) = @_;
    return '{"id":"chatcmpl-1","object":"chat.completion","created":1,'
        . '"model":"upstream-model","choices":[{"index":0,"message":{"role":'
        . '"assistant","content":"' . $content . '"},"finish_reason":"stop"}],'
        . '"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}';
}

my $ok_body = chat_answer("Hello!");

sub event {
    my ($json) = @_;
    return "            echo 'data: $json';\n            echo '';\n";
}

sub chunk {
    my ($content) = @_;
    return event('{"id":"chatcmpl-s","object":"chat.completion.chunk",'
                 . '"created":1,"model":"upstream-model","choices":[{"index":0,'
                 . '"delta":{"content":"' . $content . '"},"finish_reason":null}],'
                 . '"usage":null}');
}

sub mock_http_config {
    my $stream = chunk("Hel") . "            echo_flush;\n"
        . "            echo_sleep 0.2;\n"
        . chunk("lo") . "            echo_flush;\n"
        . "            echo_sleep 0.2;\n"
        . event('{"id":"chatcmpl-s","object":"chat.completion.chunk",'
                . '"created":1,"model":"upstream-model","choices":[],'
                . '"usage":{"prompt_tokens":7,"completion_tokens":2,'
                . '"total_tokens":9}}')
        . "            echo 'data: [DONE]';\n            echo '';\n";

    my $slowstream = $stream;
    $slowstream =~ s/echo_sleep 0\.2;/echo_sleep 1;/;

    my $stall = chunk("Hel") . "            echo_flush;\n"
        . "            echo_sleep 2;\n" . chunk("never");

    return <<"_EOC_";
    map \$http_authorization \$echo_authorization {
        "~^(?<auth_scheme>\\S+ )?(?<auth_head>.{3})(?<auth_tail>.*)\$"
            "\$auth_scheme\$auth_head|\$auth_tail";
        default  "";
    }

    map \$http_x_api_key \$echo_x_api_key {
        "~^(?<xkey_head>.{3})(?<xkey_tail>.*)\$"  "\$xkey_head|\$xkey_tail";
        default  "";
    }

    log_format airouter_usage escape=json
        '{"status":\$status,"channel":"\$airouter_channel",'
        '"model":"\$airouter_model","attempts":"\$airouter_attempts",'
        '"prompt_tokens":"\$airouter_prompt_tokens",'
        '"completion_tokens":"\$airouter_completion_tokens",'
        '"cost":"\$airouter_cost","result":"\$airouter_status"}';

    server {
        listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_1;
        default_type application/json;
        access_log off;

        # the upstream side logs elsewhere: error.log is airouter's alone
        error_log logs/mock_error.log info;

        location /ok/ {
            echo_read_request_body;
            echo '$ok_body';
        }

        location /echo/ {
            echo_read_request_body;
            echo -n '{"auth":"\$echo_authorization","x-api-key":"\$echo_x_api_key",';
            echo -n '"client":"\$http_x_client_header","body":';
            echo -n \$request_body;
            echo '}';
        }

        location /e500/ {
            return 500 '{"error":{"message":"boom","type":"server_error"}}';
        }

        location /e502/ {
            return 502 '{"error":{"message":"bad gateway","type":"server_error"}}';
        }

        location /e503/ {
            return 503 '{"error":{"message":"overloaded","type":"server_error"}}';
        }

        location /e429/ {
            add_header Retry-After 30 always;
            return 429 '{"error":{"message":"Rate limit reached","type":"rate_limit_error","code":"rate_limit_exceeded"}}';
        }

        location /e401/ {
            return 401 '{"error":{"message":"Incorrect API key provided: sk-mo***ck","type":"invalid_request_error","code":"invalid_api_key"}}';
        }

        location /e400/ {
            return 400 '{"error":{"message":"max_tokens is too large","type":"invalid_request_error","code":null}}';
        }

        location /e404/ {
            return 404 '{"error":{"message":"The model does not exist","type":"invalid_request_error","code":"model_not_found"}}';
        }

        location /err200/ {
            return 200 '{"error":{"message":"upstream overloaded","type":"server_error"}}';
        }

        location /slow/ {
            echo_read_request_body;
            echo_sleep 2;
            echo '$ok_body';
        }

        location /stream/ {
            default_type text/event-stream;
            echo_read_request_body;
$stream        }

        location /slowstream/ {
            default_type text/event-stream;
            echo_read_request_body;
$slowstream        }

        location /sseerr/ {
            default_type text/event-stream;
            echo_read_request_body;
            echo 'data: {"error":{"message":"quota exhausted","code":"insufficient_quota"}}';
            echo '';
        }

        location /stall/ {
            default_type text/event-stream;
$stall        }

        location /cut/ {
            proxy_pass http://127.0.0.1:\$TEST_NGINX_RAND_PORT_1/stall/;
            proxy_buffering off;
            proxy_read_timeout 300ms;
            proxy_pass_request_body off;
        }

        location /tool/ {
            echo_read_request_body;
            echo '{"id":"chatcmpl-t","object":"chat.completion","created":1,"model":"upstream-model","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\\\\\\"city\\\\\\":\\\\\\"Paris\\\\\\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":20,"completion_tokens":8,"total_tokens":28}}';
        }

        location /conn/ {
            echo_read_request_body;
            echo '{"requests_on_this_connection":\$connection_requests}';
        }

        location /bigemb/ {
            echo_read_request_body;
            echo -n '{"object":"list","data":[{"object":"embedding","index":0,"embedding":[';
            echo_duplicate 4000 '0.125,';
            echo '0.5]}],"model":"e","usage":{"prompt_tokens":6,"total_tokens":6}}';
        }

        location /emb/ {
            echo_read_request_body;
            echo '{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}],"model":"e","usage":{"prompt_tokens":4,"total_tokens":4}}';
        }
    }
_EOC_
}

# the chat request body most blocks send: one user message, "hi", to
# $model (gpt-test when none is given)
sub chat_body {
    my $m = shift // 'gpt-test';
    return '{"model": "' . $m
         . '", "messages": [{"role": "user", "content": "hi"}]}';
}

sub mock_config {
    return <<'_EOC_';
    location /v1/ {
        airouter;
        access_log logs/access.log airouter_usage;
    }
_EOC_
}

#
# router_config.yaml with one channel per [id, kind, extra yaml] in order
# of priority; every channel serves "gpt-test" as "<id>-model" (an alias),
# so the body each one receives names its own model id.
#
sub yaml_channels {
    my ($routing, @channels) = @_;
    my $yaml = "channels:\n";
    my $prio = 1;
    for my $c (@channels) {
        my ($id, $kind, $extra) = @$c;
        my $base = $kind eq 'refused'
            ? 'http://127.0.0.1:$TEST_NGINX_RAND_PORT_2/v1'
            : "http://127.0.0.1:\$TEST_NGINX_RAND_PORT_1/$kind/v1";
        $yaml .= <<"_EOY_";
  - id: "$id"
    base_url: "$base"
    api_key: "sk-$id-secret"
    priority: $prio
    configured_models: ["$id-model"]
    model_aliases:
      gpt-test: "$id-model"
    cost_per_token: {input: 0.000001, output: 0.000002}
_EOY_
        $yaml .= $extra if defined $extra;
        $prio++;
    }
    $yaml .= "routing:\n" . ($routing // '') . "  model_filters:\n    min_context_length: 0\n";
    return $yaml;
}

#
# A POST on a fresh connection, for checks that need requests at chosen
# moments; returns (status, { lowercased header => value }, body).
#
sub raw_post {
    my ($port, $path, $body) = @_;
    return (http_request($port, 'POST', $path, type => 'application/json',
                         body => $body))[0 .. 2];
}

1;
