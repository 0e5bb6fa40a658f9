# The official @anthropic-ai/sdk (tests/sdk/anthropic.mjs) against
# /v1/messages: OpenAI-compatible mock channels behind the translation
# (a message, a stream, a tool call and its tool_result, count_tokens, a
# cut stream, a failure, a tag: query) and native Anthropic mock channels
# reached untranslated.  Each "ok"/"not ok" line of the script is one
# assertion here.
use Test::Nginx::Socket 'no_plan';
use Airouter::DialectSdk;

no_shuffle();
log_level('info');
dialect_blocks();
dialect_sdk_check();

run_tests();

__DATA__

=== TEST 1: Messages through chat channels, and native Anthropic channels, with the Anthropic SDK
--- request
GET /v1/models
--- sdk: anthropic.mjs
--- response_body_like: gpt-test
--- no_error_log
[alert]
