# Gemini's embedding methods: POST /v1beta/models/{model}:embedContent and
# :batchEmbedContents (what the @google/genai SDK's models.embedContent()
# calls) routed as /v1/embeddings (embedding models only), answered in
# Google's shape ({"embedding":{"values"}}, {"embeddings":[{"values"}]} in
# the requests' order), with the same usage line as /v1/embeddings and
# Google's errors: the request as the upstream gets it (one input per
# content, outputDimensionality as dimensions, floats), what cannot be
# expressed (a non-text part, another model in a batch, dimensions that
# differ), an unknown model, an upstream's 400, a missing key.  The SDK
# embeds one text and a batch of two.
use Test::Nginx::Socket 'no_plan';
use Airouter::DialectSdk;

no_shuffle();
log_level('info');

# a second embeddings mock: two vectors, listed out of order
our $Http = <<'_EOC_';
    log_format embed_usage
        'usage: $uri $status $airouter_channel $airouter_model '
        '$airouter_attempts $airouter_prompt_tokens '
        '$airouter_completion_tokens $airouter_cost $airouter_status '
        '$airouter_usage_source';

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_4;

        location /pair/ {
            echo_read_request_body;
            echo '{"object":"list","data":[{"object":"embedding","index":1,"embedding":[0.3,0.4]},{"object":"embedding","index":0,"embedding":[0.1,0.2]}],"model":"e","usage":{"prompt_tokens":6,"total_tokens":6}}';
        }
    }
_EOC_

our $Channels = <<'_EOY_';
  - id: "emb"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/emb/v1"
    api_key: "sk-emb-secret"
    configured_models: ["text-embedding-3-small"]
    cost_per_token: {input: 0.000001, output: 0.000002}
  - id: "pair"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_4/pair/v1"
    api_key: "sk-pair-secret"
    configured_models: ["text-embedding-pair"]
  - id: "embecho"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/echo/v1"
    api_key: "sk-echo-secret"
    configured_models: ["text-embedding-echo"]
  - id: "emb400"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/e400/v1"
    api_key: "sk-e400-secret"
    configured_models: ["text-embedding-bad"]
_EOY_

dialect_blocks(http => $Http, config => dialect_config('embed_usage'),
               user_files => ">>> router_config.yaml\n"
                             . dialect_yaml($Channels));
dialect_sdk_check();

run_tests();

__DATA__

=== TEST 1: /v1/embeddings, the line every embedding request is compared with
--- request
POST /v1/embeddings
{"model":"text-embedding-3-small","input":"hello"}
--- error_code: 200
--- access_log
usage: /v1/embeddings 200 emb text-embedding-3-small 1 4 0 0.00000400 ok upstream



=== TEST 2: embedContent: routed to the embedding channel, Google's {"embedding":{"values"}}, the same usage and cost as /v1/embeddings
--- request
POST /v1beta/models/text-embedding-3-small:embedContent
{"content":{"parts":[{"text":"hello"}]},"taskType":"RETRIEVAL_QUERY"}
--- error_code: 200
--- response_headers
Content-Type: application/json
X-Router-Channel: emb
--- response_body chomp
{"embedding":{"values":[0.1,0.2]}}
--- access_log
usage: /v1beta/models/text-embedding-3-small:embedContent 200 emb text-embedding-3-small 1 4 0 0.00000400 ok upstream



=== TEST 3: batchEmbedContents: {"embeddings":[{"values"}...]} in the requests' order, whatever order the upstream lists them in
--- request
POST /v1beta/models/text-embedding-pair:batchEmbedContents
{"requests":[{"model":"models/text-embedding-pair","content":{"parts":[{"text":"first"}]}},{"model":"models/text-embedding-pair","content":{"parts":[{"text":"second"}]}}]}
--- error_code: 200
--- response_body chomp
{"embeddings":[{"values":[0.1,0.2]},{"values":[0.3,0.4]}]}
--- access_log
usage: /v1beta/models/text-embedding-pair:batchEmbedContents 200 pair text-embedding-pair 1 6 0 - ok upstream



=== TEST 4: the request the upstream gets: /v1/embeddings, one input per content (text parts joined by a newline), dimensions, floats, the channel's key
--- request
POST /v1beta/models/text-embedding-echo:batchEmbedContents
{"requests":[{"model":"models/text-embedding-echo","content":{"parts":[{"text":"a"}]},"outputDimensionality":8,"taskType":"RETRIEVAL_DOCUMENT","title":"t"},{"content":{"parts":[{"text":"b"},{"text":"c"}]},"outputDimensionality":8}]}
--- error_code: 200
--- response_body_like eval
qr/\A(?=.*"auth":"Bearer sk-\|echo-secret")(?=.*"body":\{)(?=.*"model":"text-embedding-echo")(?=.*"input":\["a","b\\nc"\])(?=.*"encoding_format":"float")(?=.*"dimensions":8[,}])(?!.*taskType)(?!.*RETRIEVAL)/s



=== TEST 5: what an OpenAI embeddings request cannot say, and a model that is not there: Google's errors, no upstream asked
--- request eval
["POST /v1beta/models/text-embedding-3-small:embedContent\n{\"content\":{\"parts\":[{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"AAAA\"}}]}}",
 "POST /v1beta/models/text-embedding-3-small:batchEmbedContents\n{\"requests\":[{\"model\":\"models/other-model\",\"content\":{\"parts\":[{\"text\":\"a\"}]}}]}",
 "POST /v1beta/models/text-embedding-3-small:batchEmbedContents\n{\"requests\":[]}",
 "POST /v1beta/models/text-embedding-3-small:batchEmbedContents\n{\"requests\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]},\"outputDimensionality\":8},{\"content\":{\"parts\":[{\"text\":\"b\"}]}}]}",
 "POST /v1beta/models/text-embedding-3-small:embedContent\n{\"content\":{\"parts\":[]}}",
 "POST /v1beta/models/no-such-embedder:embedContent\n{\"content\":{\"parts\":[{\"text\":\"a\"}]}}",
 "POST /v1beta/models/gpt-test:embedContent\n{\"content\":{\"parts\":[{\"text\":\"a\"}]}}"]
--- error_code eval
[400, 400, 400, 400, 400, 404, 404]
--- response_body_like eval
['^\{"error":\{"code":400,"message":"content: only text parts can be embedded","status":"INVALID_ARGUMENT"\}\}$',
 '^\{"error":\{"code":400,"message":"requests\[0\]\.model: \\\\"models/other-model\\\\" is not the model of the URL","status":"INVALID_ARGUMENT"\}\}$',
 '^\{"error":\{"code":400,"message":"requests: a non-empty array of EmbedContentRequest expected","status":"INVALID_ARGUMENT"\}\}$',
 '^\{"error":\{"code":400,"message":"requests\[1\]\.outputDimensionality: every request of a batch must ask for the same one","status":"INVALID_ARGUMENT"\}\}$',
 '^\{"error":\{"code":400,"message":"content: a Content with parts expected","status":"INVALID_ARGUMENT"\}\}$',
 '^\{"error":\{"code":404,"message":".*no-such-embedder.*","status":"NOT_FOUND"\}\}$',
 '^\{"error":\{"code":404,"message":".*gpt-test.*","status":"NOT_FOUND"\}\}$']



=== TEST 6: an upstream's 400 comes back in Google's shape
--- request
POST /v1beta/models/text-embedding-bad:embedContent
{"content":{"parts":[{"text":"hello"}]}}
--- error_code: 400
--- response_body_like: ^\{"error":\{"code":400,"message":"[^"]+","status":"INVALID_ARGUMENT"\}\}$



=== TEST 7: with auth on, the key as the SDK sends it; none is UNAUTHENTICATED naming the ways to send one
--- user_files eval
">>> router_config.yaml\n" . dialect_yaml($::Channels) . dialect_auth()
--- request eval
["POST /v1beta/models/text-embedding-3-small:embedContent\n{\"content\":{\"parts\":[{\"text\":\"a\"}]}}",
 "POST /v1beta/models/text-embedding-3-small:embedContent?key=team-key-123\n{\"content\":{\"parts\":[{\"text\":\"a\"}]}}",
 "POST /v1beta/models/text-embedding-3-small:batchEmbedContents\n{\"requests\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}]}"]
--- more_headers eval
["x-goog-api-key: team-key-123", "", ""]
--- error_code eval
[200, 200, 401]
--- response_body_like eval
['^\{"embedding":\{"values":\[0\.1,0\.2\]\}\}$',
 '^\{"embedding":\{"values":\[0\.1,0\.2\]\}\}$',
 '^\{"error":\{"code":401,"message":"You didn\'t provide an API key: send it as \\\\"x-goog-api-key: <key>\\\\", as the query parameter key=<key>, or as \\\\"Authorization: Bearer <key>\\\\"","status":"UNAUTHENTICATED"\}\}$']



=== TEST 8: the @google/genai SDK's models.embedContent(): one text, a batch of two in order, an unknown model's 404 ApiError
--- request
GET /v1/models
--- sdk: gemini.mjs embed
--- response_body_like: text-embedding
--- no_error_log
[alert]
