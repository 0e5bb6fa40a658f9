# The same upstream usage gives the same tokens, cost and $airouter_*
# variables whichever dialect the client speaks: one log line per request
# (the URI, then channel, model, attempts, prompt, completion and cached
# tokens, cost, result, usage source), for whole answers and streams,
# from chat channels and from a native Anthropic one (whose input_tokens
# leave the cache out: the router's prompt tokens count it).
use Test::Nginx::Socket 'no_plan';
use Airouter::DialectSdk;

no_shuffle();
log_level('info');

our $LogFormat = <<'_EOC_';
    log_format dialect_usage
        'usage: $uri $status $airouter_channel $airouter_model '
        '$airouter_attempts $airouter_prompt_tokens '
        '$airouter_completion_tokens $airouter_cached_tokens $airouter_cost '
        '$airouter_status $airouter_usage_source';
_EOC_

dialect_blocks(http => $LogFormat, config => dialect_config('dialect_usage'));

run_tests();

__DATA__

=== TEST 1: a whole answer from a chat channel, a chat client: the same usage line
--- request
POST /v1/chat/completions
{"model":"gpt-test","messages":[{"role":"user","content":"hi"}]}
--- error_code: 200
--- access_log
usage: /v1/chat/completions 200 chat gpt-test 1 10 5 - 0.00002000 ok upstream


=== TEST 2: a whole answer from a chat channel, a Messages client: the same usage line
--- request
POST /v1/messages
{"model":"gpt-test","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}
--- error_code: 200
--- access_log
usage: /v1/messages 200 chat gpt-test 1 10 5 - 0.00002000 ok upstream


=== TEST 3: a whole answer from a chat channel, a Responses client: the same usage line
--- request
POST /v1/responses
{"model":"gpt-test","input":"hi"}
--- error_code: 200
--- access_log
usage: /v1/responses 200 chat gpt-test 1 10 5 - 0.00002000 ok upstream


=== TEST 4: a whole answer from a chat channel, a Gemini client: the same usage line
--- request
POST /v1beta/models/gpt-test:generateContent
{"contents":[{"parts":[{"text":"hi"}]}]}
--- error_code: 200
--- access_log
usage: /v1beta/models/gpt-test:generateContent 200 chat gpt-test 1 10 5 - 0.00002000 ok upstream


=== TEST 5: a stream from a chat channel, a chat client: the same usage line
--- request
POST /v1/chat/completions
{"model":"stream-test","stream":true,"messages":[{"role":"user","content":"hi"}]}
--- error_code: 200
--- access_log
usage: /v1/chat/completions 200 stream stream-test 1 7 2 - 0.00001100 ok upstream


=== TEST 6: a stream from a chat channel, a Messages client: the same usage line
--- request
POST /v1/messages
{"model":"stream-test","stream":true,"max_tokens":9,"messages":[{"role":"user","content":"hi"}]}
--- error_code: 200
--- access_log
usage: /v1/messages 200 stream stream-test 1 7 2 - 0.00001100 ok upstream


=== TEST 7: a stream from a chat channel, a Responses client: the same usage line
--- request
POST /v1/responses
{"model":"stream-test","stream":true,"input":"hi"}
--- error_code: 200
--- access_log
usage: /v1/responses 200 stream stream-test 1 7 2 - 0.00001100 ok upstream


=== TEST 8: a stream from a chat channel, a Gemini client: the same usage line
--- request
POST /v1beta/models/stream-test:streamGenerateContent?alt=sse
{"contents":[{"parts":[{"text":"hi"}]}]}
--- error_code: 200
--- access_log
usage: /v1beta/models/stream-test:streamGenerateContent 200 stream stream-test 1 7 2 - 0.00001100 ok upstream


=== TEST 9: a native Anthropic answer (12 in + 30 cache read + 6 out), a Messages client (passed through): the same usage line
--- request
POST /v1/messages
{"model":"claude-native","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}
--- error_code: 200
--- access_log
usage: /v1/messages 200 native claude-native 1 42 6 30 0.00005400 ok upstream


=== TEST 10: a native Anthropic answer (12 in + 30 cache read + 6 out), a chat client (translated): the same usage line
--- request
POST /v1/chat/completions
{"model":"claude-native","messages":[{"role":"user","content":"hi"}]}
--- error_code: 200
--- access_log
usage: /v1/chat/completions 200 native claude-native 1 42 6 30 0.00005400 ok upstream


=== TEST 11: a native Anthropic answer (12 in + 30 cache read + 6 out), a Responses client (translated twice): the same usage line
--- request
POST /v1/responses
{"model":"claude-native","input":"hi"}
--- error_code: 200
--- access_log
usage: /v1/responses 200 native claude-native 1 42 6 30 0.00005400 ok upstream


=== TEST 12: a native Anthropic answer (12 in + 30 cache read + 6 out), a Gemini client (translated twice): the same usage line
--- request
POST /v1beta/models/claude-native:generateContent
{"contents":[{"parts":[{"text":"hi"}]}]}
--- error_code: 200
--- access_log
usage: /v1beta/models/claude-native:generateContent 200 native claude-native 1 42 6 30 0.00005400 ok upstream


=== TEST 13: a native Anthropic stream, a Messages client (passed through): the same usage line
--- request
POST /v1/messages
{"model":"claude-native-stream","stream":true,"max_tokens":9,"messages":[{"role":"user","content":"hi"}]}
--- error_code: 200
--- access_log
usage: /v1/messages 200 native-stream claude-native-stream 1 42 6 30 0.00005400 ok upstream


=== TEST 14: a native Anthropic stream, a chat client (translated): the same usage line
--- request
POST /v1/chat/completions
{"model":"claude-native-stream","stream":true,"messages":[{"role":"user","content":"hi"}]}
--- error_code: 200
--- access_log
usage: /v1/chat/completions 200 native-stream claude-native-stream 1 42 6 30 0.00005400 ok upstream


=== TEST 15: a native Anthropic stream, a Gemini client (translated twice): the same usage line
--- request
POST /v1beta/models/claude-native-stream:streamGenerateContent?alt=sse
{"contents":[{"parts":[{"text":"hi"}]}]}
--- error_code: 200
--- access_log
usage: /v1beta/models/claude-native-stream:streamGenerateContent 200 native-stream claude-native-stream 1 42 6 30 0.00005400 ok upstream

