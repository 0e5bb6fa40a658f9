# The multipart/form-data endpoints (issue #20): /v1/audio/transcriptions,
# /translations, /v1/images/edits and /variations.  The "model" is a form
# field; the router reads it with the streaming scanner, routes as chat
# (names, aliases, tag: queries, the endpoint's kind only, fallback) and
# sends each try the client's bytes with the served model's id in place of
# the client's, under the client's Content-Type (its boundary).
#
# The mock (Airouter::FormMock) keeps every body it gets in a file
# and answers with its name, so a block compares what the upstream got
# with what it should have got, byte for byte.  A bad form is a 400 that
# reaches no upstream (the mock's access log counts what came).
use Test::Nginx::Socket 'no_plan';
use Airouter::Blocks;
use Airouter::Check;
use Airouter::FormMock;

no_shuffle();
install_checks();     # --- check_json, --- upstream_hits

our $B = '----airouterForm7MA4YWxkTrZu0gW';

# some audio: every byte value, a line that looks like a header, CRLFs and
# a near-delimiter, so a splice or a slice off by one shows
our $Audio = join('', map { chr($_) } 0 .. 255) x 9
    . "\r\n--" . substr($B, 0, 12) . "\r\nname=\"model\"\r\n" . ("RIFF" x 700);

our $Mock = form_mock();

our $Channels = <<'_EOC_';
channels:
  - id: "all"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/echo/v1"
    api_key: "sk-all-secret"
    priority: 1
    configured_models: ["qwen3-8b", "whisper-1", "dall-e-2", "tts-1"]
    model_aliases:
      listener: "whisper-1"
  - id: "free"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/echo/v1"
    api_key: "sk-free-secret"
    priority: 2
    configured_models: ["openai/whisper-large-v3-turbo:free", "qwen3-8b:free"]
  - id: "text"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/text/v1"
    api_key: "sk-text-secret"
    priority: 3
    configured_models: ["whisper-text"]
routing:
  default_strategy: cost_first
  model_filters:
    min_context_length: 0
tasks:
  model_discovery:
    enabled: false      # the mock counts only the tries
_EOC_

# whisper on a failing channel first, then on a working one
our $Fallback = <<'_EOC_';
channels:
  - id: "down"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/e503/v1"
    api_key: "sk-down-secret"
    priority: 1
    configured_models: ["whisper-1"]
    model_aliases:
      listener: "whisper-1"
  - id: "up"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/echo/v1"
    api_key: "sk-up-secret"
    priority: 2
    configured_models: ["whisper-large-v3"]
    model_aliases:
      listener: "whisper-large-v3"
routing:
  max_retry_attempts: 3
  model_filters:
    min_context_length: 0
tasks:
  model_discovery:
    enabled: false      # the mock counts only the tries
_EOC_

airouter_blocks(
    mock       => $Mock,
    config     => "    location /v1/ { airouter; }\n",
    user_files => ">>> router_config.yaml\n$Channels",
    more_headers => "Content-Type: multipart/form-data; boundary=$B",
    no_error_log => "[error]\n[alert]",
);

run_tests();

__DATA__

=== TEST 1: a transcription through an alias: the upstream gets the client's form byte for byte with whisper-1 in place of the alias, under the client's boundary, with its own Content-Length and the channel's key
--- request eval
"POST /v1/audio/transcriptions\n"
. main::form($main::B, ['model', 'listener'], ['language', 'en'],
             ['file', $main::Audio, 'a.wav', 'audio/wav'],
             ['response_format', 'json'])
--- error_code: 200
--- response_headers
X-Router-Channel: all
X-Router-Model: whisper-1
X-Router-Attempts: 1
--- check_json
my $want = main::form($main::B, ['model', 'whisper-1'], ['language', 'en'],
                      ['file', $main::Audio, 'a.wav', 'audio/wav'],
                      ['response_format', 'json']);
$j->{path} eq '/echo/v1/audio/transcriptions'
&& $j->{auth} eq 'Bearer sk-|all-secret'
&& $j->{ct} eq "multipart/form-data; boundary=$main::B"
&& $j->{len} == length($want) && $j->{accept} eq 'application/json'
&& main::got_exactly($j, $want)



=== TEST 2: a tag query on /v1/audio/transcriptions finds the free speech-to-text model (never the free chat model); its longer id is spliced in after the file part
--- request eval
"POST /v1/audio/transcriptions\n"
. main::form($main::B, ['file', $main::Audio, 'b.mp3', 'audio/mpeg'],
             ['model', 'tag:free'])
--- error_code: 200
--- response_headers
X-Router-Channel: free
X-Router-Model: openai/whisper-large-v3-turbo:free
--- check_json
main::got_exactly($j, main::form($main::B,
    ['file', $main::Audio, 'b.mp3', 'audio/mpeg'],
    ['model', 'openai/whisper-large-v3-turbo:free']))
&& $j->{auth} eq 'Bearer sk-|free-secret'



=== TEST 3: kind filtering: a chat model named on /v1/audio/transcriptions is removed by its kind, nothing goes upstream
--- request eval
"POST /v1/audio/transcriptions\n"
. main::form($main::B, ['model', 'qwen3-8b'], ['file', 'RIFF', 'c.wav'])
--- error_code: 404
--- response_body_like: removed by filters: 1 wrong_kind","type":"invalid_request_error","code":"model_not_found"
--- upstream_hits: 0



=== TEST 4: /v1/audio/translations routes the same way, on its own path
--- request eval
"POST /v1/audio/translations\n"
. main::form($main::B, ['model', 'whisper-1'], ['file', 'RIFFdata', 'd.wav'])
--- error_code: 200
--- response_headers
X-Router-Model: whisper-1
--- check_json
$j->{path} eq '/echo/v1/audio/translations'
&& main::got_exactly($j, main::form($main::B, ['model', 'whisper-1'],
                                    ['file', 'RIFFdata', 'd.wav']))



=== TEST 5: /v1/images/edits goes to an image model (the images kind), never to the speech or chat ones
--- request eval
"POST /v1/images/edits\n"
. main::form($main::B, ['image', "\x89PNG\r\n\x1a\n" . ('x' x 3000), 'in.png',
                        'image/png'],
             ['prompt', 'a hat on the fox'], ['model', 'dall-e-2'],
             ['n', '1'])
--- error_code: 200
--- response_headers
X-Router-Model: dall-e-2
--- check_json
$j->{path} eq '/echo/v1/images/edits'
&& main::got_exactly($j, main::form($main::B,
    ['image', "\x89PNG\r\n\x1a\n" . ('x' x 3000), 'in.png', 'image/png'],
    ['prompt', 'a hat on the fox'], ['model', 'dall-e-2'], ['n', '1']))



=== TEST 6: /v1/images/variations: whisper named there is the wrong kind
--- request eval
"POST /v1/images/variations\n"
. main::form($main::B, ['model', 'whisper-1'], ['image', 'PNG', 'in.png'])
--- error_code: 404
--- response_body_like: wrong_kind
--- upstream_hits: 0



=== TEST 7: a form field "stream": true makes the try ask for a stream
--- request eval
"POST /v1/audio/transcriptions\n"
. main::form($main::B, ['model', 'whisper-1'], ['stream', 'true'],
             ['file', 'RIFF', 'e.wav'])
--- error_code: 200
--- check_json
$j->{accept} eq 'text/event-stream'



=== TEST 8: response_format=text: a 200 in text/plain is the answer, passed on (not judged as a broken JSON answer)
--- request eval
"POST /v1/audio/transcriptions\n"
. main::form($main::B, ['model', 'whisper-text'],
             ['response_format', 'text'], ['file', 'RIFF', 'e.wav'])
--- error_code: 200
--- response_headers
Content-Type: text/plain
X-Router-Channel: text
--- response_body
the words, as text



=== TEST 9: a fallback sends the second channel the same form, with its own model id (a 503 first, the body in the router's temporary file, the model before the file part)
--- user_files eval
">>> router_config.yaml\n$main::Fallback"
--- config
    location /v1/ {
        client_body_buffer_size 1k;
        airouter;
    }
--- request eval
"POST /v1/audio/transcriptions\n"
. main::form($main::B, ['model', 'listener'], ['temperature', '0'],
             ['file', $main::Audio, 'f.wav', 'audio/wav'], ['language', 'de'])
--- error_code: 200
--- response_headers
X-Router-Channel: up
X-Router-Model: whisper-large-v3
X-Router-Attempts: 2
--- check_json
main::got_exactly($j, main::form($main::B, ['model', 'whisper-large-v3'],
    ['temperature', '0'], ['file', $main::Audio, 'f.wav', 'audio/wav'],
    ['language', 'de']))
&& $j->{auth} eq 'Bearer sk-|up-secret'
--- upstream_hits: 2



=== TEST 10: ... and with the model after the file part, sendfile on (the re-armed slices are sent from memory and the file)
--- user_files eval
">>> router_config.yaml\n$main::Fallback"
--- config
    location /v1/ {
        client_body_buffer_size 1k;
        sendfile on;
        airouter;
    }
--- request eval
"POST /v1/audio/transcriptions\n"
. main::form($main::B, ['file', $main::Audio, 'g.wav', 'audio/wav'],
             ['model', 'listener'], ['prompt', 'names: Ada'])
--- error_code: 200
--- response_headers
X-Router-Channel: up
X-Router-Attempts: 2
--- check_json
main::got_exactly($j, main::form($main::B,
    ['file', $main::Audio, 'g.wav', 'audio/wav'],
    ['model', 'whisper-large-v3'], ['prompt', 'names: Ada']))
--- upstream_hits: 2



=== TEST 11: a chunked request body
--- more_headers eval
"Content-Type: multipart/form-data; boundary=$main::B\r\nTransfer-Encoding: chunked"
--- request eval
my $f = main::form($main::B, ['model', 'listener'], ['file', 'RIFF', 'h.wav']);
"POST /v1/audio/transcriptions\n"
. sprintf("%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n", 50, substr($f, 0, 50),
          length($f) - 50, substr($f, 50))
--- error_code: 200
--- check_json
main::got_exactly($j, main::form($main::B, ['model', 'whisper-1'],
                                 ['file', 'RIFF', 'h.wav']))



=== TEST 12: a quoted boundary (the answer in text: the mock's JSON would not hold the quotes)
--- more_headers eval
"Content-Type: multipart/form-data; boundary=\"$main::B\""
--- request eval
"POST /v1/audio/transcriptions\n"
. main::form($main::B, ['model', 'whisper-text'], ['file', 'RIFF', 'h.wav'])
--- error_code: 200
--- response_body
the words, as text
--- upstream_hits: 1



=== TEST 13: no boundary in Content-Type: 400, nothing upstream
--- more_headers
Content-Type: multipart/form-data
--- request eval
"POST /v1/audio/transcriptions\n"
. main::form($main::B, ['model', 'whisper-1'], ['file', 'RIFF', 'i.wav'])
--- error_code: 400
--- response_body
{"error":{"message":"Invalid Content-Type header: expected multipart/form-data with a boundary","type":"invalid_request_error","code":"invalid_content_type"}}
--- upstream_hits: 0



=== TEST 14: a JSON body on a form endpoint: 400, nothing upstream
--- more_headers
Content-Type: application/json
--- request
POST /v1/audio/transcriptions
{"model":"whisper-1","file":"RIFF"}
--- error_code: 400
--- response_body_like: "code":"invalid_content_type"
--- upstream_hits: 0



=== TEST 15: no model field: 400
--- request eval
"POST /v1/audio/transcriptions\n"
. main::form($main::B, ['file', 'RIFF', 'j.wav'], ['language', 'en'])
--- error_code: 400
--- response_body
{"error":{"message":"You must provide a model parameter","type":"invalid_request_error","code":"missing_model"}}
--- upstream_hits: 0



=== TEST 16: two model fields: 400 (the upstream could read the other one)
--- request eval
"POST /v1/audio/transcriptions\n"
. main::form($main::B, ['model', 'whisper-1'], ['file', 'RIFF', 'k.wav'],
             ['model', 'gpt-4o'])
--- error_code: 400
--- response_body
{"error":{"message":"The multipart/form-data body is malformed: more than one \"model\" field","type":"invalid_request_error","code":"invalid_multipart"}}
--- upstream_hits: 0



=== TEST 17: a body cut before its closing delimiter: 400
--- request eval
my $f = main::form($main::B, ['model', 'whisper-1'], ['file', 'RIFF', 'l.wav']);
"POST /v1/audio/transcriptions\n" . substr($f, 0, length($f) - 8)
--- error_code: 400
--- response_body_like: "message":"The multipart/form-data body is malformed: it ends before its closing boundary".*"code":"invalid_multipart"
--- upstream_hits: 0



=== TEST 18: a delimiter followed by text: 400
--- request eval
"POST /v1/audio/transcriptions\n--$main::B junk\r\n\r\nx\r\n--$main::B--"
--- error_code: 400
--- response_body_like: "code":"invalid_multipart"
--- upstream_hits: 0



=== TEST 19: no file part: 400 naming the parameter
--- request eval
"POST /v1/audio/transcriptions\n"
. main::form($main::B, ['model', 'whisper-1'], ['file', 'not a file'])
--- error_code: 400
--- response_body
{"error":{"message":"Missing required parameter: 'file'.","type":"invalid_request_error","param":"file","code":"missing_required_parameter"}}
--- upstream_hits: 0



=== TEST 20: an empty model: 400
--- request eval
"POST /v1/images/edits\n"
. main::form($main::B, ['model', ''], ['image', 'PNG', 'in.png'])
--- error_code: 400
--- response_body_like: "code":"invalid_model"
--- upstream_hits: 0



=== TEST 21: a model that is not UTF-8: 400
--- request eval
"POST /v1/images/edits\n"
. main::form($main::B, ['model', "dall-e-\xff\xfe"], ['image', 'PNG', 'in.png'])
--- error_code: 400
--- response_body_like: "code":"invalid_model"
--- upstream_hits: 0



=== TEST 22: keys: a key limited to an image model cannot reach whisper (404, nothing upstream), a key that may gets it, no key is a 401 before the body is read
--- user_files eval
">>> router_config.yaml\n$main::Channels" . <<'_EOY_'
auth:
  enabled: true
  api_keys:
    - name: painter
      key: "sk-painter-value"
      allowed_models: ["dall-e-2"]
    - name: listener
      key: "sk-listener-value"
      allowed_models: ["whisper-1"]
_EOY_
--- more_headers eval
["Content-Type: multipart/form-data; boundary=$main::B\r\nAuthorization: Bearer sk-painter-value",
 "Content-Type: multipart/form-data; boundary=$main::B\r\nAuthorization: Bearer sk-listener-value",
 "Content-Type: multipart/form-data; boundary=$main::B"]
--- request eval
my $r = "POST /v1/audio/transcriptions\n"
        . main::form($main::B, ['model', 'whisper-1'], ['file', 'RIFF', 'k.wav']);
[$r, $r, $r]
--- error_code eval
[404, 200, 401]
--- upstream_hits: 1



=== TEST 23: the access log's $airouter_* variables, as for chat
--- http_config eval
"    airouter_config \$TEST_NGINX_HTML_DIR/router_config.yaml;\n"
. "    airouter_zone   airouter_b23 16m;\n"
. "    log_format airouter_usage escape=json '{\"status\":\$status,\"channel\":\"\$airouter_channel\",\"model\":\"\$airouter_model\",\"attempts\":\"\$airouter_attempts\",\"result\":\"\$airouter_status\"}';\n"
. $main::Mock
--- config
    location /v1/ {
        airouter;
        access_log logs/access.log airouter_usage;
    }
--- request eval
"POST /v1/audio/transcriptions\n"
. main::form($main::B, ['model', 'listener'], ['file', 'RIFF', 'k.wav'])
--- error_code: 200
--- access_log
{"status":200,"channel":"all","model":"whisper-1","attempts":"1","result":"ok"}



=== TEST 24: no body at all: 400
--- request
POST /v1/audio/transcriptions
--- error_code: 400
--- response_body_like: "code":"invalid_multipart"
--- upstream_hits: 0
