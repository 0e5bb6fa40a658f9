# Streams in each dialect, byte for byte on the wire: the events a client
# gets from a chat channel, and a stream its upstream cuts after the first
# byte ending with that dialect's error event (Messages: event: error;
# Responses: error then response.failed; Gemini: an error object; chat:
# the error chunk and [DONE]), also when the channel is a native Anthropic
# one, passed through or translated.
use Test::Nginx::Socket 'no_plan';
use Airouter::DialectSdk;

no_shuffle();
log_level('info');

dialect_blocks();

run_tests();

__DATA__

=== TEST 1: Messages stream from a chat channel: every event in order
--- request
POST /v1/messages
{"model":"stream-test","max_tokens":9,"stream":true,"messages":[{"role":"user","content":"hi"}]}
--- response_headers
Content-Type: text/event-stream
X-Router-Channel: stream
--- response_body_like eval
qr/\Aevent: message_start\ndata: \{"type":"message_start","message":\{"id":"msg_[0-9a-f]+","type":"message","role":"assistant","model":"upstream-model","content":\[\],"stop_reason":null,"stop_sequence":null,"usage":\{"input_tokens":0,"output_tokens":0\}\}\}\n\nevent: ping\ndata: \{"type":"ping"\}\n\nevent: content_block_start\ndata: \{"type":"content_block_start","index":0,"content_block":\{"type":"text","text":""\}\}\n\nevent: content_block_delta\ndata: \{"type":"content_block_delta","index":0,"delta":\{"type":"text_delta","text":"Hel"\}\}\n\nevent: content_block_delta\ndata: \{"type":"content_block_delta","index":0,"delta":\{"type":"text_delta","text":"lo"\}\}\n\nevent: content_block_stop\ndata: \{"type":"content_block_stop","index":0\}\n\nevent: message_delta\ndata: \{"type":"message_delta","delta":\{"stop_reason":"end_turn","stop_sequence":null\},"usage":\{"input_tokens":7,"output_tokens":2,"cache_creation_input_tokens":0,"cache_read_input_tokens":0\}\}\n\nevent: message_stop\ndata: \{"type":"message_stop"\}\n\n\z/


=== TEST 2: Messages stream cut by a chat channel: the text so far, then event: error
--- request
POST /v1/messages
{"model":"cut-test","max_tokens":9,"stream":true,"messages":[{"role":"user","content":"hi"}]}
--- response_body_like eval
qr/"text":"Hel"\}\}\n\nevent: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"The upstream \\"cut\\" ended the stream early \(server_error\)"\}\}\n\n\z/
--- error_log
ended the answer early


=== TEST 3: Responses stream cut: error, then response.failed
--- request
POST /v1/responses
{"model":"cut-test","input":"hi","stream":true}
--- response_body_like eval
qr/"delta":"Hel".*\n\nevent: error\ndata: \{"code":"server_error","message":"The upstream \\"cut\\" ended the stream early \(server_error\)","param":null,"error":\{"type":"server_error","code":"server_error","message":"The upstream \\"cut\\" ended the stream early \(server_error\)","param":null\},"type":"error","sequence_number":\d+\}\n\nevent: response.failed\ndata: \{"response":\{"id":"resp_[0-9a-f]+","object":"response","created_at":\d+,"status":"failed","error":\{"code":"server_error","message":"The upstream \\"cut\\" ended the stream early \(server_error\)"\}.*"type":"response.failed","sequence_number":\d+\}\n\n\z/s


=== TEST 4: Gemini stream cut: an error object last
--- request
POST /v1beta/models/cut-test:streamGenerateContent?alt=sse
{"contents":[{"parts":[{"text":"hi"}]}]}
--- response_body_like eval
qr/\Adata: \{"candidates":\[\{"content":\{"parts":\[\{"text":"Hel"\}\],"role":"model"\},"index":0\}\],"modelVersion":"upstream-model","responseId":"[0-9a-f]+"\}\n\ndata: \{"error":\{"code":502,"message":"The upstream \\"cut\\" ended the stream early \(server_error\)","status":"UNAVAILABLE"\}\}\n\n\z/


=== TEST 5: Gemini stream: text chunks, then finishReason and usageMetadata
--- request
POST /v1beta/models/stream-test:streamGenerateContent?alt=sse
{"contents":[{"parts":[{"text":"hi"}]}]}
--- response_body_like eval
qr/\Adata: \{"candidates":\[\{"content":\{"parts":\[\{"text":"Hel"\}\],"role":"model"\},"index":0\}\],"modelVersion":"upstream-model","responseId":"[0-9a-f]+"\}\n\ndata: \{"candidates":\[\{"content":\{"parts":\[\{"text":"lo"\}\],"role":"model"\},"index":0\}\],"modelVersion":"upstream-model","responseId":"[0-9a-f]+"\}\n\ndata: \{"candidates":\[\{"content":\{"parts":\[\{"text":""\}\],"role":"model"\},"index":0,"finishReason":"STOP"\}\],"usageMetadata":\{"promptTokenCount":7,"candidatesTokenCount":2,"totalTokenCount":9\},"modelVersion":"upstream-model","responseId":"[0-9a-f]+"\}\n\n\z/


=== TEST 6: a native Anthropic stream passed to a Messages client as it came
--- request
POST /v1/messages
{"model":"claude-native-stream","max_tokens":9,"stream":true,"messages":[{"role":"user","content":"hi"}]}
--- response_body_like eval
qr/\Aevent: message_start\ndata: \{"type":"message_start","message":\{"id":"msg_native_2".*"text":"Hello from "\}\}\n\nevent: content_block_delta\ndata: \{"type":"content_block_delta","index":0,"delta":\{"type":"text_delta","text":"Claude!"\}\}\n\n.*event: message_stop\ndata: \{"type":"message_stop"\}\n\n\z/s


=== TEST 7: a native Anthropic stream cut: a Messages client gets event: error after the last whole event
--- request
POST /v1/messages
{"model":"claude-native-cut","max_tokens":9,"stream":true,"messages":[{"role":"user","content":"hi"}]}
--- response_body_like eval
qr/"text":"Hel"\}\}\n\nevent: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"The upstream \\"native-cut\\" ended the stream early \(server_error\)"\}\}\n\n\z/


=== TEST 8: the same cut for a chat client: chunks translated, then chat's error chunk and [DONE]
--- request
POST /v1/chat/completions
{"model":"claude-native-cut","stream":true,"messages":[{"role":"user","content":"hi"}]}
--- response_body_like eval
qr/\Adata: \{"id":"msg_native_4","object":"chat.completion.chunk".*"delta":\{"content":"Hel"\}.*\n\ndata: \{"error":\{"message":"The upstream \\"native-cut\\" ended the stream early \(server_error\)","type":"upstream_error","code":"stream_interrupted"\}\}\n\ndata: \[DONE\]\n\n\z/s


=== TEST 9: a native Anthropic stream for a chat client: chunks, finish_reason, usage, [DONE]
--- request
POST /v1/chat/completions
{"model":"claude-native-stream","stream":true,"messages":[{"role":"user","content":"hi"}]}
--- response_body_like eval
qr/"delta":\{"content":"Hello from "\}.*"delta":\{"content":"Claude!"\}.*"finish_reason":"stop".*\n\ndata: \{"id":"msg_native_2","object":"chat.completion.chunk","created":\d+,"model":"claude-up","choices":\[\],"usage":\{"prompt_tokens":42,"completion_tokens":6,"total_tokens":48,"prompt_tokens_details":\{"cached_tokens":30,"cache_write_tokens":0\}\}\}\n\ndata: \[DONE\]\n\n\z/s



=== TEST 10: Responses stream from a chat channel: response.created and response.in_progress name the served model, as response.completed does (never the model the client asked for)
--- request
POST /v1/responses
{"model":"stream-test","input":"hi","stream":true}
--- response_headers
Content-Type: text/event-stream
--- response_body_like eval
qr/\A(?!.*"model":"stream-test")event: response.created\ndata: [^\n]*"model":"upstream-model"[^\n]*\n\nevent: response.in_progress\ndata: [^\n]*"model":"upstream-model"[^\n]*\n\n.*event: response.completed\ndata: [^\n]*"model":"upstream-model"/s
