# Bad input: a request whose parameters OpenAI refuses for their type or
# range ("stream": "yes", "n": 0, "messages" that are not a list of
# objects...) gets the 400 OpenAI gives, with its message, param and code,
# and never reaches an upstream.  Right values, null and parameters of a
# provider's own pass.
use Test::Nginx::Socket 'no_plan';
use Airouter::Check;

no_shuffle();
install_checks();

our $Config = <<'_EOY_';
channels:
  - id: up
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_3/ok/v1"
    api_key: "sk-up"
    configured_models: ["m1"]
_EOY_

# a chat request with the given members added to a valid one
sub chat {
    my ($extra) = @_;
    return "POST /v1/chat/completions\n"
         . '{"model": "m1", "messages": [{"role": "user", "content": "hi"}]'
         . ($extra ? ", $extra" : "") . '}';
}

# OpenAI's error body for a parameter
sub err {
    my ($message, $param, $code) = @_;
    $message =~ s/"/\\"/g;
    return qq({"error":{"message":"$message","type":"invalid_request_error",)
         . qq("param":"$param","code":"$code"}}\n);
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("http_config", <<'_EOC_' . count_http_config())
    airouter_config $TEST_NGINX_HTML_DIR/router_config.yaml;
_EOC_
        unless defined $block->http_config;
    $block->set_value("config", "    location /v1/ { airouter; }\n")
        unless defined $block->config;
    $block->set_value("user_files", ">>> router_config.yaml\n$Config")
        unless defined $block->user_files;
});

run_tests();

__DATA__

=== TEST 1: "stream": "yes" is OpenAI's invalid_type 400, naming the parameter
--- request eval
main::chat('"stream": "yes"')
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
main::err("Invalid type for 'stream': expected a boolean, but got a string instead.", "stream", "invalid_type")
--- upstream_hits: 0



=== TEST 2: each typed parameter of a chat request, one wrong type each
--- request eval
[main::chat('"max_tokens": "100"'), main::chat('"max_completion_tokens": 1.5'),
 main::chat('"temperature": "hot"'), main::chat('"top_p": true'),
 main::chat('"n": "2"'), main::chat('"tools": {}'),
 main::chat('"tool_choice": 1'), main::chat('"stop": 42'),
 main::chat('"presence_penalty": []'), main::chat('"logprobs": 1'),
 main::chat('"response_format": "json"'), main::chat('"stream_options": true'),
 main::chat('"user": 7'), main::chat('"seed": 1.5')]
--- error_code eval
[(400) x 14]
--- response_body eval
[main::err("Invalid type for 'max_tokens': expected an integer, but got a string instead.", "max_tokens", "invalid_type"),
 main::err("Invalid type for 'max_completion_tokens': expected an integer, but got a decimal instead.", "max_completion_tokens", "invalid_type"),
 main::err("Invalid type for 'temperature': expected a decimal, but got a string instead.", "temperature", "invalid_type"),
 main::err("Invalid type for 'top_p': expected a decimal, but got a boolean instead.", "top_p", "invalid_type"),
 main::err("Invalid type for 'n': expected an integer, but got a string instead.", "n", "invalid_type"),
 main::err("Invalid type for 'tools': expected an array, but got an object instead.", "tools", "invalid_type"),
 main::err("Invalid type for 'tool_choice': expected one of a string or an object, but got an integer instead.", "tool_choice", "invalid_type"),
 main::err("Invalid type for 'stop': expected one of a string or an array, but got an integer instead.", "stop", "invalid_type"),
 main::err("Invalid type for 'presence_penalty': expected a decimal, but got an array instead.", "presence_penalty", "invalid_type"),
 main::err("Invalid type for 'logprobs': expected a boolean, but got an integer instead.", "logprobs", "invalid_type"),
 main::err("Invalid type for 'response_format': expected an object, but got a string instead.", "response_format", "invalid_type"),
 main::err("Invalid type for 'stream_options': expected an object, but got a boolean instead.", "stream_options", "invalid_type"),
 main::err("Invalid type for 'user': expected a string, but got an integer instead.", "user", "invalid_type"),
 main::err("Invalid type for 'seed': expected an integer, but got a decimal instead.", "seed", "invalid_type")]
--- upstream_hits: 0



=== TEST 3: ranges: n, temperature, top_p, max_tokens, stop's length
--- request eval
[main::chat('"n": 0'), main::chat('"temperature": 2.5'), main::chat('"top_p": -0.5'),
 main::chat('"max_tokens": 0'), main::chat('"stop": ["a", "b", "c", "d", "e"]')]
--- error_code eval
[(400) x 5]
--- response_body eval
[main::err("Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead.", "n", "integer_below_min_value"),
 main::err("Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 instead.", "temperature", "decimal_above_max_value"),
 main::err("Invalid 'top_p': decimal below minimum value. Expected a value >= 0, but got -0.5 instead.", "top_p", "decimal_below_min_value"),
 main::err("Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got 0 instead.", "max_tokens", "integer_below_min_value"),
 main::err("Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with length 5 instead.", "stop", "array_above_max_length")]
--- upstream_hits: 0



=== TEST 4: messages must be a list of objects with a known role and string or list content
--- request eval
["POST /v1/chat/completions\n" . '{"model": "m1", "messages": "hi"}',
 "POST /v1/chat/completions\n" . '{"model": "m1", "messages": [{"role": "user", "content": "hi"}, "hi"]}',
 "POST /v1/chat/completions\n" . '{"model": "m1", "messages": [{"content": "hi"}]}',
 "POST /v1/chat/completions\n" . '{"model": "m1", "messages": [{"role": "robot", "content": "hi"}]}',
 "POST /v1/chat/completions\n" . '{"model": "m1", "messages": [{"role": "user", "content": 42}]}']
--- error_code eval
[(400) x 5]
--- response_body eval
[main::err("Invalid type for 'messages': expected an array, but got a string instead.", "messages", "invalid_type"),
 main::err("Invalid type for 'messages[1]': expected an object, but got a string instead.", "messages[1]", "invalid_type"),
 main::err("Missing required parameter: 'messages[0].role'.", "messages[0].role", "missing_required_parameter"),
 main::err("Invalid value: 'robot'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.", "messages[0].role", "invalid_value"),
 main::err("Invalid type for 'messages[0].content': expected one of a string or an array, but got an integer instead.", "messages[0].content", "invalid_type")]
--- upstream_hits: 0



=== TEST 5: completions and embeddings have their own parameters (logprobs is a count there)
--- request eval
["POST /v1/completions\n" . '{"model": "m1", "prompt": "hi", "logprobs": true}',
 "POST /v1/completions\n" . '{"model": "m1", "prompt": 5}',
 "POST /v1/embeddings\n" . '{"model": "m1", "input": {"text": "hi"}}',
 "POST /v1/embeddings\n" . '{"model": "m1", "input": "hi", "dimensions": "8"}']
--- error_code eval
[(400) x 4]
--- response_body eval
[main::err("Invalid type for 'logprobs': expected an integer, but got a boolean instead.", "logprobs", "invalid_type"),
 main::err("Invalid type for 'prompt': expected one of a string or an array, but got an integer instead.", "prompt", "invalid_type"),
 main::err("Invalid type for 'input': expected one of a string or an array, but got an object instead.", "input", "invalid_type"),
 main::err("Invalid type for 'dimensions': expected an integer, but got a string instead.", "dimensions", "invalid_type")]
--- upstream_hits: 0



=== TEST 6: right types, null, integers for decimals and a provider's own parameters pass
--- request eval
main::chat('"stream": false, "max_tokens": 16, "temperature": 1, "top_p": 0.5, "n": 1, "stop": ["x"], "tools": null, "tool_choice": "auto", "user": "u", "seed": 3, "top_k": "anything", "logprobs": true, "top_logprobs": 2, "stream_options": null, "response_format": {"type": "text"}')
--- error_code: 200
--- response_body_like: "content":"Hello!"
--- upstream_hits: 1



=== TEST 7: POST /v1/route explains any request shape: no type check there
--- request eval
"POST /v1/route\n" . '{"model": "m1", "messages": "hi", "stream": "yes"}'
--- error_code: 200
--- response_body_like: "candidates"
