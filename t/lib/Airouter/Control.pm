package Airouter::Control;

#
# Scaffolding of the stats and admin-control suites (t/320, t/325): a
# router_config.yaml builder with an admin token and priced channels on
# the mock upstreams, request helpers, and the `--- workers_see` check.
#
#   use Airouter::Control;
#   control_suite();    # default http_config, config and user_files
#
# Blocks may set `--- extra_http_config` (added to the default
# http_config), or their own http_config / config / user_files.
#
# --- workers_see: after the block's requests, 40 requests on fresh
# connections to $TEST_NGINX_RAND_PORT_5 (a reuseport listener the block
# declares): every one must be routed by that strategy, and at least two
# workers must have answered (X-Worker).
#

use strict;
use warnings;

use Exporter 'import';
use Test::Nginx::Socket ();
use Airouter::Mock;
use Airouter::Check;
use Airouter::Blocks;

our @EXPORT = qw($Admin $Chat @Two chat cfg control_suite);

our $Admin = "Authorization: Bearer adm-secret";
our $Chat = '{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}';

sub chat { my $m = shift // 'gpt-test';
           "POST /v1/chat/completions\n{\"model\": \"$m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}" }

# channels: [id, base (kind on the counting upstream, or "mock:kind"),
# price in and out per token, extra yaml]
sub cfg {
    my ($top, @channels) = @_;
    my $y = "auth:\n  admin:\n    enabled: true\n    admin_token: \"adm-secret\"\n"
        . ($top // '') . "channels:\n";
    my $prio = 1;
    for my $c (@channels) {
        my ($id, $kind, $in, $out, $extra) = @$c;
        my $port = $kind =~ s/^mock:// ? 1 : 3;
        $y .= <<"_EOY_";
  - id: "$id"
    base_url: "http://127.0.0.1:\$TEST_NGINX_RAND_PORT_$port/$kind/v1"
    api_key: "sk-up-$id"
    priority: $prio
_EOY_
        $y .= "    cost_per_token: {input: $in, output: $out}\n" if defined $in;
        $y .= $extra // "    configured_models: [\"$id-model\"]\n    model_aliases:\n      gpt-test: \"$id-model\"\n";
        $prio++;
    }
    return ">>> router_config.yaml\n$y"
        . "routing:\n  default_strategy: cost_first\n  model_filters:\n    min_context_length: 0\n";
}

our @Two = (["first", "ok", 0.000001, 0.000002], ["second", "ok", 0.000002, 0.000004]);

sub control_suite {

Test::Nginx::Socket::add_response_body_check(sub {
    my ($block, $body, $idx) = @_;
    my $want = $block->workers_see;
    return unless defined $want;
    return unless last_request($block, $idx);
    $want =~ s/\s+//g;
    my (%pids, @bad);
    for (1 .. 40) {
        my ($st, $h) = raw_post($ENV{TEST_NGINX_RAND_PORT_5},
                                '/v1/chat/completions', $Chat);
        $pids{$h->{'x-worker'} // '?'}++;
        push @bad, "$st " . ($h->{'x-router-strategy'} // 'none')
            if $st != 200 || ($h->{'x-router-strategy'} // '') ne $want;
    }
    Test::More::ok(!@bad, $block->name . " - every request routed by $want")
        or Test::More::diag(join ", ", @bad);
    Test::More::ok(keys %pids >= 2, $block->name . " - by more than one worker")
        or Test::More::diag(join ", ", keys %pids);
});

airouter_blocks(mock => mock_http_config() . count_http_config(),
                config => <<'_EOC_',
    location /v1/ { airouter; }
    location /v1/admin/ { airouter_admin; }
_EOC_
                user_files => sub { cfg(undef, @Two) });
}

1;
