# The official @google/genai SDK (tests/sdk/gemini.mjs) against
# /v1beta/models/{model}:generateContent and :streamGenerateContent: mock
# chat channels behind the translation (an answer, a stream, a function
# call round trip, a model name with "/", a cut stream, a failure, a tag:
# query).  Each "ok"/"not ok" line of the script is one assertion.
use Test::Nginx::Socket 'no_plan';
use Airouter::DialectSdk;

no_shuffle();
log_level('info');
dialect_blocks();
dialect_sdk_check();

run_tests();

__DATA__

=== TEST 1: generateContent through chat channels with the Gemini SDK
--- request
GET /v1/models
--- sdk: gemini.mjs generate,stream,tools,slash_model,cut,failure,tag
--- response_body_like: gpt-test
--- no_error_log
[alert]
