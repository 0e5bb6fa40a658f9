# Request-level routing controls (#19) through the official openai SDK
# (tests/sdk/routing.mjs, installed by `make test`): "models" and
# "provider" sent as extra body members in a chat and a stream, and a
# wrong value seen as the SDK's BadRequestError.  Each "ok"/"not ok" line
# of the script is one assertion here.
use Test::Nginx::Socket 'no_plan';
use Airouter::Mock;
use Airouter::Blocks;
use Cwd ();

no_shuffle();
log_level('info');

our $Sdk = Cwd::abs_path("tests/sdk");

add_response_body_check(sub {
    my ($block) = @_;
    return unless defined $block->sdk;
    if (!-d "$Sdk/node_modules/openai") {
        Test::More::fail($block->name . " - the openai SDK is installed"
                         . " (cd tests/sdk && npm install)");
        return;
    }
    my $origin = "http://127.0.0.1:" . server_port();
    my $out = `node $Sdk/routing.mjs $origin 2>&1`;
    my $status = $?;
    my $n = 0;
    for my $line (split /\n/, $out) {
        if ($line =~ /^(not )?ok - (.*)$/) {
            Test::More::ok(!$1, $block->name . " - sdk: $2");
            $n++;
        } else {
            Test::More::diag($line);
        }
    }
    Test::More::ok($n > 0 && $status == 0, $block->name . " - sdk exits cleanly")
        or Test::More::diag($out);
});

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
