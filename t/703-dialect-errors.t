# Errors in each client dialect's shape: the router's own (bad JSON, a
# request the translator refuses, an unknown model, no key, all candidates
# failed, a wrong method) and an upstream's "your fault" 400 passed on:
# Anthropic's {"type":"error","error":{"type","message"}}, OpenAI's for
# Responses, Google's {"error":{"code","message","status"}}.  With auth on,
# the key comes as each SDK sends it (x-api-key, x-goog-api-key, ?key=).
use Test::Nginx::Socket 'no_plan';
use Airouter::DialectSdk;

no_shuffle();
log_level('info');

dialect_blocks(user_files => ">>> router_config.yaml\n" . dialect_yaml(
      "  - id: \"badreq\"\n"
    . "    base_url: \"http://127.0.0.1:\$TEST_NGINX_RAND_PORT_1/e400/v1\"\n"
    . "    api_key: \"sk-badreq-secret\"\n"
    . "    configured_models: [\"bad-test\"]\n"));

run_tests();

__DATA__

=== TEST 1: Messages: a body that is not JSON
--- request
POST /v1/messages
{"model":
--- error_code: 400
--- response_body
{"type":"error","error":{"type":"invalid_request_error","message":"The request body is not valid JSON"}}


=== TEST 2: Messages: what the translator refuses, in Anthropic's words
--- request
POST /v1/messages
{"model":"gpt-test","messages":[{"role":"user","content":"hi"}]}
--- error_code: 400
--- response_body
{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: a positive integer is required"}}


=== TEST 3: Messages: a server tool is refused clearly
--- request
POST /v1/messages
{"model":"gpt-test","max_tokens":9,"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"web_search_20250305","name":"web_search"}]}
--- error_code: 400
--- response_body_like: ^\{"type":"error","error":\{"type":"invalid_request_error","message":"tools: Anthropic's server tools \(\\"web_search_20250305\\"\) are not supported here"\}\}$


=== TEST 4: Messages: an unknown model is not_found_error
--- request
POST /v1/messages
{"model":"no-such-model-anywhere","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}
--- error_code: 404
--- response_body_like: ^\{"type":"error","error":\{"type":"not_found_error","message":"The model \\"no-such-model-anywhere\\" does not exist on any channel"\}\}$


=== TEST 5: Messages: all candidates failed
--- request
POST /v1/messages
{"model":"broken-test","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}
--- error_code: 503
--- response_body_like: ^\{"type":"error","error":\{"type":"overloaded_error","message":"[^"]*broken[^"]*"\}\}$


=== TEST 6: Messages: an upstream's 400 (the client's fault) is passed on in Anthropic's shape
--- request
POST /v1/messages
{"model":"bad-test","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}
--- error_code: 400
--- response_body chomp
{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens is too large"}}
--- response_headers
X-Router-Channel: badreq


=== TEST 7: Messages: a native channel's own error body passed on as it came
--- request
POST /v1/messages
{"model":"claude-native-bad","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}
--- error_code: 400
--- response_body chomp
{"type":"error","error":{"type":"invalid_request_error","message":"messages: roles must alternate"}}


=== TEST 8: chat client, native channel's 400: translated to OpenAI's shape
--- request
POST /v1/chat/completions
{"model":"claude-native-bad","messages":[{"role":"user","content":"hi"}]}
--- error_code: 400
--- response_body chomp
{"error":{"message":"messages: roles must alternate","type":"invalid_request_error"}}


=== TEST 9: Messages: GET is not allowed
--- request
GET /v1/messages
--- error_code: 405
--- response_body_like: ^\{"type":"error","error":\{"type":"invalid_request_error","message":"Method GET is not allowed on /v1/messages"\}\}$


=== TEST 10: Responses: previous_response_id gets a clear 400 in OpenAI's shape
--- request
POST /v1/responses
{"model":"gpt-test","input":"and?","previous_response_id":"resp_123"}
--- error_code: 400
--- response_body
{"error":{"message":"previous_response_id is not supported: this router stores no responses (store: false); send the whole conversation in input","type":"invalid_request_error","code":"previous_response_not_found"}}


=== TEST 11: Responses: all candidates failed, OpenAI's shape
--- request
POST /v1/responses
{"model":"broken-test","input":"hi"}
--- error_code: 503
--- response_body_like: ^\{"error":\{"message":"[^"]*broken[^"]*","type":"upstream_error","code":"all_candidates_failed","attempts":\[


=== TEST 12: Gemini: an unknown model is NOT_FOUND
--- request
POST /v1beta/models/no-such-model-anywhere:generateContent
{"contents":[{"parts":[{"text":"hi"}]}]}
--- error_code: 404
--- response_body_like: ^\{"error":\{"code":404,"message":"The model \\"no-such-model-anywhere\\" does not exist on any channel","status":"NOT_FOUND"\}\}$


=== TEST 13: Gemini: contents missing is INVALID_ARGUMENT
--- request
POST /v1beta/models/gpt-test:generateContent
{"generationConfig":{}}
--- error_code: 400
--- response_body
{"error":{"code":400,"message":"contents: a non-empty array is required","status":"INVALID_ARGUMENT"}}


=== TEST 14: Gemini: all candidates failed is UNAVAILABLE
--- request
POST /v1beta/models/broken-test:streamGenerateContent?alt=sse
{"contents":[{"parts":[{"text":"hi"}]}]}
--- error_code: 503
--- response_body_like: ^\{"error":\{"code":503,"message":"[^"]*broken[^"]*","status":"UNAVAILABLE"\}\}$


=== TEST 15: Gemini: the model in the URL, "/" and tag: queries included
--- request eval
["POST /v1beta/models/google/gemma-test:generateContent\n{\"contents\":[{\"parts\":[{\"text\":\"hi\"}]}]}",
 "POST /v1beta/models/tag:dialect:generateContent\n{\"contents\":[{\"parts\":[{\"text\":\"hi\"}]}]}"]
--- error_code eval
[200, 200]
--- response_body_like eval
['"text":"Hello!"', '"text":"Hello!"']


=== TEST 16: with auth on, the key as each SDK sends it; none, or a wrong one, in the dialect's shape (no key: the message names the dialect's own headers)
--- user_files eval
">>> router_config.yaml\n" . dialect_yaml() . dialect_auth()
--- request eval
["POST /v1/messages\n{\"model\":\"gpt-test\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
 "POST /v1/messages\n{\"model\":\"gpt-test\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
 "POST /v1/messages\n{\"model\":\"gpt-test\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
 "POST /v1/messages\n{\"model\":\"gpt-test\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
 "POST /v1beta/models/gpt-test:generateContent\n{\"contents\":[{\"parts\":[{\"text\":\"hi\"}]}]}",
 "POST /v1beta/models/gpt-test:generateContent?key=team-key-123\n{\"contents\":[{\"parts\":[{\"text\":\"hi\"}]}]}",
 "POST /v1beta/models/gpt-test:generateContent?key=wrong\n{\"contents\":[{\"parts\":[{\"text\":\"hi\"}]}]}",
 "POST /v1/responses\n{\"model\":\"gpt-test\",\"input\":\"hi\"}",
 "POST /v1/chat/completions\n{\"model\":\"gpt-test\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"]
--- more_headers eval
["x-api-key: team-key-123",
 "Authorization: Bearer team-key-123",
 "",
 "x-api-key: wrong",
 "x-goog-api-key: team-key-123",
 "",
 "",
 "Authorization: Bearer team-key-123",
 "x-api-key: team-key-123"]
--- error_code eval
[200, 200, 401, 401, 200, 200, 401, 200, 401]
--- response_body_like eval
['"text":"Hello!"',
 '"text":"Hello!"',
 '^\{"type":"error","error":\{"type":"authentication_error","message":"You didn\'t provide an API key: send it as \\\\"x-api-key: <key>\\\\" or \\\\"Authorization: Bearer <key>\\\\""\}\}$',
 '^\{"type":"error","error":\{"type":"authentication_error","message":"Incorrect API key provided"\}\}',
 '"text":"Hello!"',
 '"text":"Hello!"',
 '^\{"error":\{"code":401,"message":"Incorrect API key provided","status":"UNAUTHENTICATED"\}\}',
 '"output_text|"text":"Hello!"',
 '^\{"error":\{"message":"You didn\'t provide an API key: send it as \\\\"Authorization: Bearer <key>\\\\"",']
