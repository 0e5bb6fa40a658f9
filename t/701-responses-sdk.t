# The official openai SDK's responses API (tests/sdk/responses.mjs)
# against /v1/responses, stateless: mock chat channels behind the
# translation (a response, a stream, a function call round trip, a cut
# stream, a tag: query), previous_response_id refused with a 400, and chat
# completions reaching a native Anthropic channel through the reverse
# translation.  Each "ok"/"not ok" line of the script is one assertion.
use Test::Nginx::Socket 'no_plan';
use Airouter::DialectSdk;

no_shuffle();
log_level('info');
dialect_blocks();
dialect_sdk_check();

run_tests();

__DATA__

=== TEST 1: Responses through chat channels, and chat to native Anthropic channels, with the openai SDK
--- request
GET /v1/models
--- sdk: responses.mjs
--- response_body_like: gpt-test
--- no_error_log
[alert]
