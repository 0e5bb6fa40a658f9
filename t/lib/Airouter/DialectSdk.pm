package Airouter::DialectSdk;

#
# What the dialect suites (t/700-719) share: the router configuration with
# the mock channels the SDK scripts of tests/sdk expect (Airouter::Mock's
# OpenAI-compatible ones, Airouter::AnthropicMock's native ones), the
# nginx locations (/v1/ and Gemini's /v1beta/), and a response body check
# that runs one SDK script and turns each of its "ok"/"not ok" lines into
# an assertion (Airouter::Sdk's sdk_run, as for the openai SDK's suites).
#
#   --- sdk: anthropic.mjs create,stream     runs those scenarios
#

use strict;
use warnings;

use Test::Nginx::Socket;
use Airouter::Blocks;
use Airouter::Mock;
use Airouter::AnthropicMock;
use Airouter::Sdk;

use Exporter 'import';
our @EXPORT = qw(dialect_blocks dialect_mock dialect_config dialect_yaml
                 dialect_auth dialect_sdk_check);

# the mock upstreams: OpenAI-compatible ones and native Anthropic ones
sub dialect_mock {
    return mock_http_config() . anthropic_mock_http_config();
}

sub dialect_blocks {
    my (%d) = @_;
    airouter_blocks(mock       => dialect_mock(),
                    config     => dialect_config(),
                    user_files => ">>> router_config.yaml\n" . dialect_yaml(),
                    %d);
}

# the API's locations, each logging to access.log in $format
# (airouter_usage)
sub dialect_config {
    my $format = shift // 'airouter_usage';
    return join '', map { <<"_EOC_" } qw(/v1/ /v1beta/);
    location $_ {
        airouter;
        access_log logs/access.log $format;
    }

_EOC_
}

# auth on, with the key "team-key-123" (named team) the SDK scripts send
# when asked to, then the $extra keys' YAML
sub dialect_auth {
    my ($extra) = @_;
    return "auth:\n  enabled: true\n  api_keys:\n    - name: team\n"
         . "      key: \"team-key-123\"\n" . ($extra // '');
}

# one channel per mock behaviour, and the native Anthropic ones; $extra
# channels, $routing lines under routing:
sub dialect_yaml {
    my ($extra, $routing) = @_;
    my $yaml = "channels:\n";
    my @chat = (
        [ 'chat',   'ok',     '"gpt-test", "google/gemma-test"',
          "    tags: [\"dialect\"]\n" ],
        [ 'stream', 'stream', '"stream-test"' ],
        [ 'tool',   'tool',   '"tool-test"' ],
        [ 'cut',    'cut',    '"cut-test"' ],
        [ 'broken', 'e503',   '"broken-test"' ],
    );
    for my $c (@chat) {
        my ($id, $kind, $models, $more) = @$c;
        $yaml .= <<"_EOY_";
  - id: "$id"
    base_url: "http://127.0.0.1:\$TEST_NGINX_RAND_PORT_1/$kind/v1"
    api_key: "sk-$id-secret"
    configured_models: [$models]
    cost_per_token: {input: 0.000001, output: 0.000002}
_EOY_
        $yaml .= $more if defined $more;
    }
    # the stream whose text must arrive as it is sent: 1 s between deltas
    $yaml .= <<'_EOY_';
  - id: "slow"
    base_url: "http://127.0.0.1:$TEST_NGINX_RAND_PORT_3/slowstream/v1"
    api_key: "sk-slow-secret"
    configured_models: ["slow-stream-test"]
    cost_per_token: {input: 0.000001, output: 0.000002}
_EOY_
    for my $c (['native', 'anth', 'claude-native'],
               ['native-stream', 'anthstream', 'claude-native-stream'],
               ['native-tool', 'anthtool', 'claude-native-tool'],
               ['native-529', 'anth529', 'claude-native-529'],
               ['native-cut', 'anthcut', 'claude-native-cut'],
               ['native-bad', 'anthbad', 'claude-native-bad']) {
        my ($id, $kind, $model) = @$c;
        $yaml .= <<"_EOY_";
  - id: "$id"
    base_url: "http://127.0.0.1:\$TEST_NGINX_RAND_PORT_3/$kind/v1"
    api: anthropic
    api_key: "sk-native-secret"
    configured_models: ["$model"]
    cost_per_token: {input: 0.000001, output: 0.000002}
_EOY_
    }
    $yaml .= $extra if defined $extra;
    $yaml .= "routing:\n  model_filters:\n    min_context_length: 0\n";
    $yaml .= $routing if defined $routing;
    return $yaml;
}

sub dialect_sdk_check {
    add_response_body_check(sub {
        my ($block) = @_;
        return unless defined $block->sdk;
        my ($script, $scenarios) = split ' ', $block->sdk;
        my $pkg = { 'anthropic.mjs' => '@anthropic-ai/sdk',
                    'responses.mjs' => 'openai',
                    'gemini.mjs'    => '@google/genai',
                    'refusals.mjs'  => 'openai' }->{$script};
        my $origin = "http://127.0.0.1:" . server_port();
        sdk_run($block, package => $pkg,
                run => "$script $origin " . ($scenarios // ''),
                done => "$script exits cleanly");
    });
}

1;
