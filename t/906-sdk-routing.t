# Request-level routing controls (#19) through the official openai SDK
# (tests/sdk/routing.mjs, installed by `make test`): "models" and
# "provider" sent as extra body members in a chat and a stream, and a
# wrong value seen as the SDK's BadRequestError.  Each "ok"/"not ok" line
# of the script is one assertion here.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Blocks;
use Airouter::Sdk;

no_shuffle();
log_level('info');

sdk_check('routing.mjs', origin => 1);

airouter_blocks(mock => mock_http_config(), config => mock_config(),
                user_files => ">>> router_config.yaml\n"
                    . yaml_channels("", ["a", "e500"], ["b", "ok"],
                                    ["c", "stream"]));

run_tests();

__DATA__

=== TEST 1: models and provider through the openai SDK
--- request
POST /v1/chat/completions
{"model": "b-model", "messages": [{"role": "user", "content": "hi"}]}
--- sdk
--- response_body_like: Hello!
--- no_error_log
[alert]
