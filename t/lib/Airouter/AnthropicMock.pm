package Airouter::AnthropicMock;

#
# A mock native Anthropic upstream for the dialect suites (t/700-719): one
# nginx server on $TEST_NGINX_RAND_PORT_3 whose path prefix picks the
# behaviour, as Airouter::Mock does for OpenAI-compatible channels:
#
#   http://127.0.0.1:$TEST_NGINX_RAND_PORT_3/anth/v1        a Message
#       (msg_native_1, "Hello from Claude!", usage 12 in + 30 cache read +
#       6 out)
#   .../anthstream/v1    the same as a stream (msg_native_2): message_start,
#                        ping, a text block in two deltas 200 ms apart,
#                        message_delta with usage, message_stop
#   .../anthtool/v1      a tool_use (get_weather, {"city":"Oslo"})
#   .../anth529/v1       529 overloaded_error
#   .../anthcut/v1       message_start and one delta, then the connection
#                        dies
#   .../anthbad/v1       400 invalid_request_error (the client's fault)
#   .../respnative/v1    an OpenAI-compatible channel that serves
#                        /v1/responses itself: a response object (resp_native_1,
#                        "Hello from Responses!", usage 5 in (2 cached), 3 out)
#   .../respstream/v1    the same as a stream (response.created, a text
#                        delta, response.completed with that usage)
#   .../slowstream/v1    an OpenAI-compatible chat stream ("Hel", 1 s, "lo",
#                        usage 7 + 2, [DONE]): the SDK scripts' check that
#                        text reaches the client as it is sent (a gap of
#                        1 s that buffering would close, wide enough for
#                        a loaded machine's jitter); its GET /models answers
#                        an OpenAI list of that one model
#
# Every /messages location wants "x-api-key: sk-native-secret" and an
# anthropic-version header, as Anthropic does, and answers 401 / 400 in
# Anthropic's shape otherwise; so does GET .../v1/models, which answers
# Anthropic's list (one model, claude-up).  The requests it gets are logged to logs/access.log, one line
# each: "upstream: " and JSON (escape=json: URI, x-api-key,
# anthropic-version, Authorization, body), so a test's access_log section
# sees what the router sent.
#

use strict;
use warnings;

use Exporter 'import';
our @EXPORT = qw(anthropic_mock_http_config);

my $message = '{"id":"msg_native_1","type":"message","role":"assistant",'
    . '"model":"claude-up","content":[{"type":"text","text":'
    . '"Hello from Claude!"}],"stop_reason":"end_turn","stop_sequence":null,'
    . '"usage":{"input_tokens":12,"cache_creation_input_tokens":0,'
    . '"cache_read_input_tokens":30,"output_tokens":6}}';

my $tool = '{"id":"msg_native_3","type":"message","role":"assistant",'
    . '"model":"claude-up","content":[{"type":"tool_use","id":"toolu_9",'
    . '"name":"get_weather","input":{"city":"Oslo"}}],"stop_reason":'
    . '"tool_use","stop_sequence":null,"usage":{"input_tokens":20,'
    . '"output_tokens":9}}';

my $response = '{"id":"resp_native_1","object":"response","created_at":1,'
    . '"status":"completed","model":"resp-up","output":[{"id":"msg_1",'
    . '"type":"message","status":"completed","role":"assistant","content":'
    . '[{"type":"output_text","text":"Hello from Responses!","annotations":'
    . '[]}]}],"usage":{"input_tokens":5,"input_tokens_details":'
    . '{"cached_tokens":2},"output_tokens":3,"output_tokens_details":'
    . '{"reasoning_tokens":0},"total_tokens":8}}';

my $models = '{"data":[{"type":"model","id":"claude-up",'
    . '"display_name":"Claude Up","created_at":"2025-01-01T00:00:00Z"}],'
    . '"has_more":false,"first_id":"claude-up","last_id":"claude-up"}';

my $slow_models = '{"object":"list","data":[{"id":"slow-stream-test",'
    . '"object":"model","owned_by":"mock"}]}';

sub event {
    my ($name, $json) = @_;
    return "            echo 'event: $name';\n"
         . "            echo 'data: $json';\n            echo '';\n";
}

sub start_event {
    my ($id) = @_;
    return event('message_start', '{"type":"message_start","message":'
        . '{"id":"' . $id . '","type":"message","role":"assistant",'
        . '"model":"claude-up","content":[],"stop_reason":null,'
        . '"stop_sequence":null,"usage":{"input_tokens":12,'
        . '"cache_creation_input_tokens":0,"cache_read_input_tokens":30,'
        . '"output_tokens":1}}}')
        . event('ping', '{"type":"ping"}')
        . event('content_block_start', '{"type":"content_block_start",'
                . '"index":0,"content_block":{"type":"text","text":""}}');
}

sub delta {
    my ($text) = @_;
    return event('content_block_delta', '{"type":"content_block_delta",'
                 . '"index":0,"delta":{"type":"text_delta","text":"'
                 . $text . '"}}');
}

# what every /messages location checks first
my $checks = <<'_EOC_';
            if ($http_x_api_key != "sk-native-secret") {
                return 401 '{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}';
            }
            if ($http_anthropic_version = "") {
                return 400 '{"type":"error","error":{"type":"invalid_request_error","message":"anthropic-version: header is required"}}';
            }
_EOC_

sub anthropic_mock_http_config {
    my $stream = start_event('msg_native_2') . delta('Hello from ')
        . "            echo_flush;\n            echo_sleep 0.2;\n"
        . delta('Claude!')
        . event('content_block_stop',
                '{"type":"content_block_stop","index":0}')
        . event('message_delta', '{"type":"message_delta","delta":'
                . '{"stop_reason":"end_turn","stop_sequence":null},'
                . '"usage":{"output_tokens":6}}')
        . event('message_stop', '{"type":"message_stop"}');

    my $stall = start_event('msg_native_4') . delta('Hel')
        . "            echo_flush;\n            echo_sleep 2;\n"
        . delta('never');

    return <<"_EOC_";
    log_format anthropic_upstream escape=json
        'upstream: {"uri":"\$request_uri","x_api_key":"\$http_x_api_key",'
        '"version":"\$http_anthropic_version",'
        '"beta":"\$http_anthropic_beta",'
        '"authorization":"\$http_authorization","body":"\$request_body"}';

    server {
        listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_3;
        default_type application/json;
        access_log logs/access.log anthropic_upstream;
        error_log logs/mock_error.log info;

        # the slow chat stream is an OpenAI-compatible channel: its /models
        # answers as one, without Anthropic's key check (a 401 here would
        # switch the channel off once discovery got there first)
        location = /slowstream/v1/models {
            return 200 '$slow_models';
        }

        location ~ ^/[a-z0-9]+/v1/models\$ {
$checks
            return 200 '$models';
        }

        location /anth/ {
            echo_read_request_body;
$checks
            echo '$message';
        }

        location /anthtool/ {
            echo_read_request_body;
$checks
            echo '$tool';
        }

        location /anthstream/ {
            default_type text/event-stream;
            echo_read_request_body;
$checks
$stream        }

        location /respnative/ {
            echo_read_request_body;
            echo '$response';
        }

        location /respstream/ {
            default_type text/event-stream;
            echo_read_request_body;
            echo 'event: response.created';
            echo 'data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_native_2","object":"response","status":"in_progress","output":[],"usage":null}}';
            echo '';
            echo 'event: response.output_text.delta';
            echo 'data: {"type":"response.output_text.delta","sequence_number":1,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hello"}';
            echo '';
            echo 'event: response.completed';
            echo 'data: {"type":"response.completed","sequence_number":2,"response":{"id":"resp_native_2","object":"response","status":"completed","output":[],"usage":{"input_tokens":5,"input_tokens_details":{"cached_tokens":2},"output_tokens":3,"total_tokens":8}}}';
            echo '';
        }

        location /slowstream/ {
            default_type text/event-stream;
            echo_read_request_body;
            echo 'data: {"id":"chatcmpl-s","object":"chat.completion.chunk","created":1,"model":"upstream-model","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}],"usage":null}';
            echo '';
            echo_flush;
            echo_sleep 1;
            echo 'data: {"id":"chatcmpl-s","object":"chat.completion.chunk","created":1,"model":"upstream-model","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}],"usage":null}';
            echo '';
            echo 'data: {"id":"chatcmpl-s","object":"chat.completion.chunk","created":1,"model":"upstream-model","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":9}}';
            echo '';
            echo 'data: [DONE]';
            echo '';
        }
        location /anth529/ {
            return 529 '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}';
        }

        location /anthbad/ {
            return 400 '{"type":"error","error":{"type":"invalid_request_error","message":"messages: roles must alternate"}}';
        }

        location /anthstall/ {
            default_type text/event-stream;
$stall        }

        location /anthcut/ {
            proxy_pass http://127.0.0.1:\$TEST_NGINX_RAND_PORT_3/anthstall/;
            proxy_buffering off;
            proxy_read_timeout 300ms;
            proxy_pass_request_body off;
        }
    }
_EOC_
}

1;
