package Airouter::Priced;

#
# Five channels at five prices for the routing-control suites (t/902,
# t/903): each serves "<id>-model", the alias "gpt-test" and the tag
# "pool", all answering from Airouter::Mock's /ok/v1 (or the kind given),
# under a strategy "by_priority" where all tie, so the priority decides:
#
#   id        priority  USD per million tokens (prompt / completion)
#   dear      1         3 / 10
#   mid       2         1 / 2
#   cheap     3         0.1 / 0.2
#   unpriced  4         unknown
#   free      5         free
#
#   use Airouter::Priced;
#   user_files => ">>> router_config.yaml\n" . priced_yaml(dear => "e500"),
#   request => priced_chat('"model": "gpt-test:floor", ')
#

use strict;
use warnings;

use Exporter 'import';
our @EXPORT = qw(priced_yaml priced_chat);

my @Channels = (
    ["dear",     "cost_per_token: {input: 0.000003, output: 0.00001}"],
    ["mid",      "cost_per_token: {input: 0.000001, output: 0.000002}"],
    ["cheap",    "cost_per_token: {input: 0.0000001, output: 0.0000002}"],
    ["unpriced", ""],
    ["free",     "free: true"],
);

sub priced_yaml {
    my (%kind) = @_;
    my $y = "channels:\n";
    my $prio = 1;
    for my $c (@Channels) {
        my ($id, $price) = @$c;
        my $kind = $kind{$id} // "ok";
        $y .= "  - id: \"$id\"\n"
            . "    base_url: \"http://127.0.0.1:\$TEST_NGINX_RAND_PORT_1/$kind/v1\"\n"
            . "    api_key: \"sk-$id-secret\"\n    priority: $prio\n"
            . "    tags: [pool]\n"
            . "    configured_models: [\"$id-model\"]\n"
            . "    model_aliases: {gpt-test: \"$id-model\"}\n"
            . ($price ? "    $price\n" : "");
        $prio++;
    }
    # a strategy under which every model ties: the priority decides
    return $y . "routing:\n  default_strategy: by_priority\n"
        . "  sorting_strategies:\n    by_priority:\n"
        . "      - field: quality_score\n        weight: 1\n"
        . "  model_filters:\n    min_context_length: 0\n";
}

# A chat request; $members go first in the body ('"model": "x", ').
sub priced_chat {
    my ($members) = @_;
    return "POST /v1/chat/completions\n{$members"
        . "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}";
}

1;
