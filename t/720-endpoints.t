# The rest of the OpenAI surface (issue #20): /v1/rerank,
# /v1/images/generations and /v1/moderations routed like chat, each to
# models of its own kind only (the catalogue's kinds: chat, embedding,
# rerank, image, audio_speech, audio_transcription, moderation), with
# aliases, tag queries, fallback, costs and the X-Router-* headers.
#
# The mock upstream echoes what it received: the path, the key and the
# body, with a usage of 12 prompt tokens, so a block sees which channel and
# which model id the router chose.
use Test::Nginx::Socket 'no_plan';
use Airouter::Blocks;
use Airouter::Check;

no_shuffle();
install_checks();     # --- check_json: Perl on $j, the decoded body

# the key comes back cut after its third byte ("Bearer sk-|..."): the
# router masks its channels' keys in what an upstream answers
our $Mock = <<'_EOC_';
    map $http_authorization $echo_authorization {
        "~^(?<auth_scheme>\S+ )?(?<auth_head>.{3})(?<auth_tail>.*)$"
            "$auth_scheme$auth_head|$auth_tail";
        default  "";
    }

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        default_type application/json;
        access_log off;
        error_log logs/mock_error.log info;

        location /echo/ {
            echo_read_request_body;
            echo -n '{"path":"$uri","auth":"$echo_authorization","body":';
            echo -n $request_body;
            echo ',"usage":{"prompt_tokens":12,"total_tokens":12}}';
        }

        # speech: 2 MB of audio, not JSON
        location /audio/ {
            default_type audio/mpeg;
            echo_read_request_body;
            echo_duplicate 200000 "ID3-frame-";
        }

        location /e503/ {
            return 503 '{"error":{"message":"overloaded","type":"server_error"}}';
        }
    }
_EOC_

# every kind on one channel, and a second channel of rerankers
our $Kinds = <<'_EOC_';
channels:
  - id: "all"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/echo/v1"
    api_key: "sk-all-secret"
    priority: 1
    configured_models: ["qwen3-8b:free", "bge-m3", "jina-reranker-v2",
                        "dall-e-3", "tts-1", "whisper-1",
                        "omni-moderation-latest"]
    model_aliases:
      painter: "dall-e-3"
    cost_per_token: {input: 0.000001, output: 0.000002}
  - id: "free"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/echo/v1"
    api_key: "sk-free-secret"
    priority: 2
    configured_models: ["BAAI/bge-reranker-v2-m3:free", "qwen3-8b:free"]
routing:
  default_strategy: cost_first
  model_filters:
    min_context_length: 0
_EOC_

# a reranker on a failing channel first, the same on a working one next
our $Fallback = <<'_EOC_';
channels:
  - id: "down"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/e503/v1"
    api_key: "sk-down-secret"
    priority: 1
    configured_models: ["bge-reranker-v2-m3"]
  - id: "up"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/echo/v1"
    api_key: "sk-up-secret"
    priority: 2
    configured_models: ["bge-reranker-v2-m3"]
routing:
  model_filters:
    min_context_length: 0
_EOC_

# speech: a failing channel first, then one that answers with audio
our $Speech = <<'_EOC_';
channels:
  - id: "down"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/e503/v1"
    api_key: "sk-down-secret"
    priority: 1
    configured_models: ["tts-1"]
  - id: "voice"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/audio/v1"
    api_key: "sk-voice-secret"
    priority: 2
    configured_models: ["tts-1", "qwen3-8b"]
routing:
  model_filters:
    min_context_length: 0
_EOC_

airouter_blocks(
    mock       => $Mock,
    config     => "    location /v1/ { airouter; }\n",
    user_files => ">>> router_config.yaml\n$Kinds",
    no_error_log => "[error]\n[alert]",
);

run_tests();

__DATA__

=== TEST 1: /v1/models shows each model's kind, from its name
--- request
GET /v1/models
--- error_code: 200
--- check_json
my %k = map { ($_->{id} => $_->{airouter}{kind}) } @{$j->{data}};
$k{'qwen3-8b:free'} eq 'chat' && $k{'bge-m3'} eq 'embedding'
&& $k{'jina-reranker-v2'} eq 'rerank'
&& $k{'BAAI/bge-reranker-v2-m3:free'} eq 'rerank'
&& $k{'dall-e-3'} eq 'image' && $k{'tts-1'} eq 'audio_speech'
&& $k{'whisper-1'} eq 'audio_transcription'
&& $k{'omni-moderation-latest'} eq 'moderation'
&& (grep { $_ eq 'rerank' } @{ (grep { $_->{id} eq 'jina-reranker-v2' }
                                @{$j->{data}})[0]{airouter}{capabilities} })



=== TEST 2: tag:free on /v1/rerank finds the free reranker (not the free chat model); the upstream gets /v1/rerank with its model id and key
--- request
POST /v1/rerank
{"model":"tag:free","query":"where","documents":["here","there"],"top_n":1}
--- error_code: 200
--- response_headers
X-Router-Channel: free
X-Router-Model: BAAI/bge-reranker-v2-m3:free
X-Router-Attempts: 1
--- response_body eval
qq~{"path":"/echo/v1/rerank","auth":"Bearer sk-|free-secret","body":{"model":"BAAI/bge-reranker-v2-m3:free","query":"where","documents":["here","there"],"top_n":1},"usage":{"prompt_tokens":12,"total_tokens":12}}\n~



=== TEST 3: a reranker's core name on /v1/rerank: the cheapest first, priced from its usage
--- request
POST /v1/rerank
{"model":"tag:reranker","query":"q","documents":["a"]}
--- error_code: 200
--- response_headers
X-Router-Channel: free
X-Router-Model: BAAI/bge-reranker-v2-m3:free
X-Router-Cost: 0.00000000



=== TEST 4: the paid reranker by name, its cost from the usage the answer reports (12 prompt tokens at 0.000001)
--- request
POST /v1/rerank
{"model":"jina-reranker-v2","query":"q","documents":["a"]}
--- error_code: 200
--- response_headers
X-Router-Channel: all
X-Router-Model: jina-reranker-v2
X-Router-Cost: 0.00001200



=== TEST 5: chat never lands on a reranker: the reranker by name on chat is removed by its kind
--- request
POST /v1/chat/completions
{"model":"BAAI/bge-reranker-v2-m3:free","messages":[{"role":"user","content":"hi"}]}
--- error_code: 404
--- response_body_like: 1 matched, removed by filters: 1 wrong_kind","type":"invalid_request_error","code":"model_not_found"



=== TEST 6: ... and tag:free on chat gives the free chat model
--- request
POST /v1/chat/completions
{"model":"tag:free","messages":[{"role":"user","content":"hi"}]}
--- error_code: 200
--- response_headers
X-Router-Model: qwen3-8b:free
--- response_body_like: "path":"/echo/v1/chat/completions"



=== TEST 7: /v1/images/generations through an alias: the image model's id upstream, on the images path
--- request
POST /v1/images/generations
{"model":"painter","prompt":"a red fox","n":1,"size":"1024x1024"}
--- error_code: 200
--- response_headers
X-Router-Channel: all
X-Router-Model: dall-e-3
--- response_body eval
qq~{"path":"/echo/v1/images/generations","auth":"Bearer sk-|all-secret","body":{"model":"dall-e-3","prompt":"a red fox","n":1,"size":"1024x1024"},"usage":{"prompt_tokens":12,"total_tokens":12}}\n~



=== TEST 8: /v1/moderations: the moderation model, found by a tag
--- request
POST /v1/moderations
{"model":"tag:moderation","input":["some text","more"]}
--- error_code: 200
--- response_headers
X-Router-Model: omni-moderation-latest
--- response_body_like: ^\{"path":"/echo/v1/moderations","auth":"Bearer sk-\|all-secret","body":\{"model":"omni-moderation-latest","input":\["some text","more"\]\}



=== TEST 9: an image request never lands on a chat or speech model
--- request
POST /v1/images/generations
{"model":"tts-1","prompt":"x"}
--- error_code: 404
--- response_body_like: removed by filters: 1 wrong_kind



=== TEST 10: the required members: rerank's query and documents, the image prompt, moderation input (OpenAI's 400, param named)
--- pipelined_requests eval
["POST /v1/rerank\n{\"model\":\"jina-reranker-v2\",\"documents\":[\"a\"]}",
 "POST /v1/rerank\n{\"model\":\"jina-reranker-v2\",\"query\":\"q\",\"documents\":[]}",
 "POST /v1/rerank\n{\"model\":\"jina-reranker-v2\",\"query\":7,\"documents\":[\"a\"]}",
 "POST /v1/images/generations\n{\"model\":\"dall-e-3\"}",
 "POST /v1/moderations\n{\"model\":\"omni-moderation-latest\"}"]
--- error_code eval
[400, 400, 400, 400, 400]
--- response_body_like eval
['"param":"query".*"code":"missing_required_parameter"',
 '"param":"documents".*"code":"invalid_type"',
 '"param":"query".*"code":"invalid_type"',
 '"param":"prompt".*"code":"missing_required_parameter"',
 '"param":"input".*"code":"missing_required_parameter"']



=== TEST 11: fallback on /v1/rerank: the failing channel is left for the next one, which answers
--- user_files eval
">>> router_config.yaml\n$::Fallback"
--- request
POST /v1/rerank
{"model":"bge-reranker-v2-m3","query":"q","documents":["a","b"]}
--- error_code: 200
--- response_headers
X-Router-Channel: up
X-Router-Attempts: 2
--- raw_response_headers_like: X-Router-Fallbacks: down:server_error
--- response_body_like: ^\{"path":"/echo/v1/rerank","auth":"Bearer sk-\|up-secret"



=== TEST 12: explain (POST /v1/route) takes the endpoint by name: rerank ranks rerankers only, an unknown name is a 400
--- pipelined_requests eval
["POST /v1/route\n{\"model\":\"tag:!none\",\"endpoint\":\"rerank\"}",
 "POST /v1/route\n{\"model\":\"tag:!none\",\"endpoint\":\"transcriptions\"}",
 "POST /v1/route\n{\"model\":\"tag:!none\",\"endpoint\":\"telepathy\"}"]
--- error_code eval
[200, 200, 400]
--- response_body_like eval
['"available":2,"candidates":\[\{"rank":1,"channel":"free","provider":null,"model":"BAAI/bge-reranker-v2-m3:free".*\{"rank":2,"channel":"all","provider":null,"model":"jina-reranker-v2".*"filtered":\{"wrong_kind":7\}',
 '"available":1,"candidates":\[\{"rank":1,"channel":"all","provider":null,"model":"whisper-1".*"filtered":\{"wrong_kind":8\}',
 'Unknown endpoint.*"param":"endpoint"']



=== TEST 13: /v1/audio/speech: the binary answer (2 MB, audio/mpeg, not JSON) passes through whole after a fallback, never judged as a broken JSON answer
--- user_files eval
">>> router_config.yaml\n$::Speech"
--- request
POST /v1/audio/speech
{"model":"tag:tts","input":"Hello there","voice":"alloy"}
--- error_code: 200
--- response_headers
Content-Type: audio/mpeg
X-Router-Channel: voice
X-Router-Model: tts-1
X-Router-Attempts: 2
--- response_body eval
"ID3-frame-" x 200000
--- no_error_log
[error]
[alert]



=== TEST 14: speech needs its input, and a chat model is never a voice
--- user_files eval
">>> router_config.yaml\n$::Speech"
--- pipelined_requests eval
["POST /v1/audio/speech\n{\"model\":\"tts-1\",\"voice\":\"alloy\"}",
 "POST /v1/audio/speech\n{\"model\":\"qwen3-8b\",\"input\":\"x\"}"]
--- error_code eval
[400, 404]
--- response_body_like eval
['"param":"input".*"code":"missing_required_parameter"',
 'removed by filters: 1 wrong_kind']
