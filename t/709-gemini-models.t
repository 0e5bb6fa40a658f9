# Gemini's other methods and its error shape on every Gemini path:
# models.list (GET /v1beta/models: the chat models a key may reach, each
# name once, pageSize/pageToken), models.get (GET /v1beta/models/{model}),
# countTokens (POST .../{model}:countTokens, {"contents"} or
# {"generateContentRequest"}: the tokenizer's count, no upstream asked, no
# budget held), and Google's {"error":{"code","message","status"}} for a
# wrong method, an unknown path or model, a bad page token, a missing key.
# With auth on, the key comes as the SDK sends it (x-goog-api-key, ?key=)
# and its allowed_models shape the list.  The @google/genai SDK lists
# (page by page), gets and counts.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Blocks;
use Airouter::DialectSdk;

no_shuffle();
log_level('info');

our $Yaml = <<'_EOY_';
channels:
  - id: "chat"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/ok/v1"
    api_key: "sk-chat-secret"
    configured_models: ["gpt-test", "google/gemma-test"]
  - id: "second"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/ok/v1"
    api_key: "sk-second-secret"
    configured_models: ["gpt-test"]
  - id: "emb"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/emb/v1"
    api_key: "sk-emb-secret"
    configured_models: ["text-embedding-3-small"]
  - id: "off"
    enabled: false
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/ok/v1"
    api_key: "sk-off-secret"
    configured_models: ["disabled-model"]
routing:
  model_filters:
    min_context_length: 0
_EOY_

our $Auth = dialect_auth(<<'_EOY_');
    - name: gemma
      key: "gemma-key-456"
      allowed_models: ["google/*"]
_EOY_

our $Gemma = '{"name":"models/google/gemma-test","baseModelId":"google/gemma-test","displayName":"google/gemma-test","supportedGenerationMethods":["generateContent","streamGenerateContent","countTokens"]}';
our $Gpt = '{"name":"models/gpt-test","baseModelId":"gpt-test","displayName":"gpt-test","supportedGenerationMethods":["generateContent","streamGenerateContent","countTokens"]}';
our $Emb = '{"name":"models/text-embedding-3-small","baseModelId":"text-embedding-3-small","displayName":"text-embedding-3-small","supportedGenerationMethods":["embedContent"]}';

our $Fox = '{"contents":[{"role":"user","parts":[{"text":"The quick brown fox jumps over the lazy dog"}]}]}';

airouter_blocks(
    mock => mock_http_config(),
    config => dialect_config() . <<'_EOC_',
    location /v1alpha/ {
        airouter;
    }
_EOC_
    user_files => ">>> router_config.yaml\n$Yaml");

dialect_sdk_check();

run_tests();

__DATA__

=== TEST 1: models.list: each chat model once (two channels serve gpt-test), the embedding model with embedContent (as Google lists its own), no disabled channel's
--- request
GET /v1beta/models
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body eval
"{\"models\":[$::Gemma,$::Gpt,$::Emb]}\n"



=== TEST 2: models.list page by page: pageSize 1 gives nextPageToken until the last page (the embedding model's); a token we never gave is INVALID_ARGUMENT
--- request eval
["GET /v1beta/models?pageSize=1", "GET /v1beta/models?pageSize=1&pageToken=1",
 "GET /v1beta/models?pageSize=1&pageToken=3",
 "GET /v1beta/models?pageSize=1&pageToken=99", "GET /v1beta/models?pageSize=x",
 "GET /v1alpha/models?pageSize=5000"]
--- error_code eval
[200, 200, 200, 400, 400, 200]
--- response_body eval
["{\"models\":[$::Gemma],\"nextPageToken\":\"1\"}\n",
 "{\"models\":[$::Gpt],\"nextPageToken\":\"3\"}\n",
 "{\"models\":[$::Emb]}\n",
 "{\"error\":{\"code\":400,\"message\":\"pageToken is not one this server gave\",\"status\":\"INVALID_ARGUMENT\"}}\n",
 "{\"error\":{\"code\":400,\"message\":\"pageSize must be a non-negative integer\",\"status\":\"INVALID_ARGUMENT\"}}\n",
 "{\"models\":[$::Gemma,$::Gpt,$::Emb]}\n"]



=== TEST 3: models.get by name (with "/"), an embedding model's too (embedContent); an unknown or a disabled model is NOT_FOUND
--- request eval
["GET /v1beta/models/google/gemma-test", "GET /v1beta/models/nope",
 "GET /v1beta/models/text-embedding-3-small", "GET /v1beta/models/disabled-model"]
--- error_code eval
[200, 404, 200, 404]
--- response_body eval
["$::Gemma\n",
 "{\"error\":{\"code\":404,\"message\":\"The model \\\"nope\\\" does not exist on any channel\",\"status\":\"NOT_FOUND\"}}\n",
 "$::Emb\n",
 "{\"error\":{\"code\":404,\"message\":\"The model \\\"disabled-model\\\" does not exist on any channel\",\"status\":\"NOT_FOUND\"}}\n"]



=== TEST 4: countTokens: the tokenizer's count of the contents, the same inside generateContentRequest, as Messages' count_tokens; no upstream is asked (none listens)
--- request eval
["POST /v1beta/models/gpt-test:countTokens\n$::Fox",
 "POST /v1beta/models/gpt-test:countTokens\n{\"generateContentRequest\":{\"model\":\"models/gpt-test\",\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"The quick brown fox jumps over the lazy dog\"}]}]}}",
 "POST /v1/messages/count_tokens\n{\"model\":\"gpt-test\",\"messages\":[{\"role\":\"user\",\"content\":\"The quick brown fox jumps over the lazy dog\"}]}"]
--- user_files eval
">>> router_config.yaml\n" . $::Yaml =~ s/TEST_NGINX_RAND_PORT_1/TEST_NGINX_RAND_PORT_2/gr
--- error_code eval
[200, 200, 200]
--- response_body eval
["{\"totalTokens\":14}\n", "{\"totalTokens\":14}\n", "{\"input_tokens\":14}\n"]



=== TEST 5: countTokens: contents missing is INVALID_ARGUMENT; bad JSON too
--- request eval
["POST /v1beta/models/gpt-test:countTokens\n{}",
 "POST /v1beta/models/gpt-test:countTokens\n{\"contents\":"]
--- error_code eval
[400, 400]
--- response_body eval
["{\"error\":{\"code\":400,\"message\":\"contents: a non-empty array is required\",\"status\":\"INVALID_ARGUMENT\"}}\n",
 "{\"error\":{\"code\":400,\"message\":\"The request body is not valid JSON\",\"status\":\"INVALID_ARGUMENT\"}}\n"]



=== TEST 6: a wrong method or an unknown Gemini path: Google's shape, the method named
--- request eval
["POST /v1beta/models\n{}", "DELETE /v1beta/models/gpt-test",
 "GET /v1beta/models/gpt-test:generateContent", "GET /v1beta/files",
 "POST /v1beta/models/gpt-test:predict\n{}"]
--- error_code eval
[405, 405, 405, 404, 404]
--- response_body eval
["{\"error\":{\"code\":405,\"message\":\"Method POST is not allowed on /v1beta/models\",\"status\":\"FAILED_PRECONDITION\"}}\n",
 "{\"error\":{\"code\":405,\"message\":\"Method DELETE is not allowed on /v1beta/models/gpt-test\",\"status\":\"FAILED_PRECONDITION\"}}\n",
 "{\"error\":{\"code\":405,\"message\":\"Method GET is not allowed on /v1beta/models/gpt-test:generateContent\",\"status\":\"FAILED_PRECONDITION\"}}\n",
 "{\"error\":{\"code\":404,\"message\":\"Unknown request URL: GET /v1beta/files\",\"status\":\"NOT_FOUND\"}}\n",
 "{\"error\":{\"code\":404,\"message\":\"Unknown request URL: POST /v1beta/models/gpt-test:predict\",\"status\":\"NOT_FOUND\"}}\n"]



=== TEST 7: with auth on: the key as the SDK sends it; none is UNAUTHENTICATED, its message naming the three ways (x-goog-api-key, key=, Bearer); allowed_models shapes the list and what get finds
--- user_files eval
">>> router_config.yaml\n$::Yaml$::Auth"
--- request eval
["GET /v1beta/models", "GET /v1beta/models", "GET /v1beta/models?key=gemma-key-456",
 "GET /v1beta/models/gpt-test?key=gemma-key-456", "GET /v1beta/models/gpt-test?key=wrong",
 "POST /v1beta/models/gpt-test:countTokens\n$::Fox"]
--- more_headers eval
["", "x-goog-api-key: team-key-123", "", "", "", "x-goog-api-key: team-key-123"]
--- error_code eval
[401, 200, 200, 404, 401, 200]
--- response_body_like eval
['^\{"error":\{"code":401,"message":"You didn\'t provide an API key: send it as \\\\"x-goog-api-key: <key>\\\\", as the query parameter key=<key>, or as \\\\"Authorization: Bearer <key>\\\\"","status":"UNAUTHENTICATED"\}\}$',
 "^\Q{\"models\":[$::Gemma,$::Gpt,$::Emb]}\E\$",
 "^\Q{\"models\":[$::Gemma]}\E\$",
 '^\{"error":\{"code":404,"message":"The model \\\\"gpt-test\\\\" does not exist on any channel","status":"NOT_FOUND"\}\}$',
 '^\{"error":\{"code":401,"message":"Incorrect API key provided.*","status":"UNAUTHENTICATED"\}\}$',
 '^\{"totalTokens":14\}$']



=== TEST 8: the @google/genai SDK: models.list page by page, models.get, countTokens
--- request
GET /v1beta/models
--- sdk: gemini.mjs list,get,count
--- response_body_like: gpt-test
--- no_error_log
[alert]
