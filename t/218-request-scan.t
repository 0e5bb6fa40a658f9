# A plain OpenAI request's body is read by one validating scan, no JSON
# tree (src/airouter_jscan.c, #16 item 1): the upstream gets the client's
# own bytes, with the model spliced and "hedge" cut out (white space and
# key order kept: a tree would have written the body again, compact); the
# prompt is counted from the unescaped text; a repeated key still means
# its last value (such a body takes jansson's path); bad JSON gets the
# same 400 as before.
use Test::Nginx::Socket 'no_plan';
use Airouter::Check;
use Airouter::Blocks;

no_shuffle();
log_level('info');
install_checks();

# one channel on the mock below, kind = its location
sub cfg {
    my ($kind) = @_;
    return ">>> router_config.yaml\n" . <<"_EOY_";
channels:
  - id: "paid"
    base_url: "http://127.0.0.1:\$TEST_NGINX_RAND_PORT_4/$kind/v1"
    api_key: "sk-up-paid"
    configured_models: ["paid-model"]
    model_aliases:
      gpt-test: "paid-model"
    cost_per_token: {input: 0.000001, output: 0.000002}
routing:
  model_filters:
    min_context_length: 0
_EOY_
}

our $Mock = <<'_EOC_';
    log_format usage '$status tokens=$airouter_prompt_tokens+$airouter_completion_tokens';

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_4;
        default_type application/json;
        access_log off;

        location /plain/ {
            echo_read_request_body;
            echo '{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there, friend!"},"finish_reason":"stop"}]}';
        }

        location /echo/ {
            echo_read_request_body;
            echo -n $request_body;
        }
    }
_EOC_

airouter_blocks(mock => $Mock, config => <<'_EOC_');
    location /v1/ {
        airouter;
        access_log logs/access.log usage;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: "hedge" is cut out of the client's bytes; spaces, order and the other members stay as written
--- user_files eval
main::cfg("echo")
--- request eval
"POST /v1/chat/completions\n"
. qq|{ "model" : "gpt-test" ,\n "hedge" : false,  "messages": [{"role": "user", "content": "hi"}] , "temperature": 0.5 }|
--- response_body eval
qq|{ "model" : "paid-model" ,\n "messages": [{"role": "user", "content": "hi"}] , "temperature": 0.5 }|
--- no_error_log
[error]



=== TEST 2: "hedge" as the last member and as the first: its comma goes with it
--- user_files eval
main::cfg("echo")
--- request eval
["POST /v1/chat/completions\n"
 . qq|{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}], "hedge": null}|,
 "POST /v1/chat/completions\n"
 . qq|{"hedge":true , "model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}|]
--- response_body eval
[qq|{"model": "paid-model", "messages": [{"role": "user", "content": "hi"}]}|,
 qq|{"model": "paid-model", "messages": [{"role": "user", "content": "hi"}]}|]
--- no_error_log
[error]



=== TEST 3: a model written with escapes is read unescaped (an alias here) and replaced whole
--- user_files eval
main::cfg("echo")
--- request eval
"POST /v1/chat/completions\n"
. qq|{"model": "gpt\\u002d\\u0074est", "messages": [{"role": "user", "content": "h\\u0069"}]}|
--- response_body eval
qq|{"model": "paid-model", "messages": [{"role": "user", "content": "h\\u0069"}]}|
--- response_headers
X-Router-Model: paid-model



=== TEST 4: the prompt is counted from the unescaped text: "\u0068\u0069" counts as "hi" (4 + 1), as t/170's plain "hi"
--- user_files eval
main::cfg("plain")
--- request eval
"POST /v1/chat/completions\n"
. qq|{"model": "gpt-test", "messages": [{"role": "user", "content": "\\u0068\\u0069"}]}|
--- response_headers
X-Router-Cost: 0.00001700
--- access_log
200 tokens=5+6



=== TEST 5: a key given twice means its last value, as jansson reads it: "hedge" "x" then false passes; a role "robot" then "user" passes
--- user_files eval
main::cfg("plain")
--- request eval
["POST /v1/chat/completions\n"
 . qq|{"model": "gpt-test", "hedge": "x", "hedge": false, "messages": [{"role": "user", "content": "hi"}]}|,
 "POST /v1/chat/completions\n"
 . qq|{"model": "gpt-test", "messages": [{"role": "robot", "role": "user", "content": "hi"}]}|]
--- response_body_like eval
["Hello there", "Hello there"]



=== TEST 6: ... and the other way round: false then "x" is refused, as is "user" then "robot"
--- user_files eval
main::cfg("plain")
--- request eval
["POST /v1/chat/completions\n"
 . qq|{"model": "gpt-test", "hedge": false, "hedge": "x", "messages": [{"role": "user", "content": "hi"}]}|,
 "POST /v1/chat/completions\n"
 . qq|{"model": "gpt-test", "messages": [{"role": "user", "role": "robot", "content": "hi"}]}|]
--- error_code eval
[400, 400]
--- response_body_like eval
['"param":"hedge"', '"param":"messages\[0\]\.role"']



=== TEST 7: bad JSON is refused with the one message, whatever is wrong (trailing bytes, a number out of range, a lone surrogate, a BOM, an unfinished body)
--- user_files eval
main::cfg("plain")
--- request eval
["POST /v1/chat/completions\n{\"model\": \"gpt-test\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]} x",
 "POST /v1/chat/completions\n{\"model\": \"gpt-test\", \"max_tokens\": 1e400, \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
 "POST /v1/chat/completions\n{\"model\": \"gpt-test\", \"n\": 9223372036854775808, \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
 "POST /v1/chat/completions\n{\"model\": \"gpt-test\", \"messages\": [{\"role\": \"user\", \"content\": \"\\ud83d\"}]}",
 "POST /v1/chat/completions\n\xef\xbb\xbf{\"model\": \"gpt-test\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
 "POST /v1/chat/completions\n{\"model\": \"gpt-test\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]"]
--- error_code eval
[400, 400, 400, 400, 400, 400]
--- response_body eval
[('{"error":{"message":"The request body is not valid JSON","type":"invalid_request_error","code":"invalid_json"}}' . "\n") x 6]



=== TEST 8: a JSON array is JSON, but not a request
--- user_files eval
main::cfg("plain")
--- request
POST /v1/chat/completions
[{"model": "gpt-test"}]
--- error_code: 400
--- response_body
{"error":{"message":"The request body must be a JSON object","type":"invalid_request_error","code":"invalid_json"}}
